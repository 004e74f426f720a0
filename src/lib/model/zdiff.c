/* Zone snapshots and their differences (zdiff.h). Both sides are read into
 * arrays of borrowed strings and sorted once; the diff is then one merge
 * over the two sorted arrays, RRset by RRset, so its cost is the sort. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/zdiff.h"

/* TTLs are 0..2^31-1 (RFC 2181 section 8); priorities 0..65535. */
#define TTL_MAX 2147483647
#define PRIORITY_MAX 65535

struct rec {
	const char *name, *type, *content; /* borrowed from the JSON */
	json_int_t ttl, priority;
	bool disabled;
};

static bool has_priority(const char *type)
{
	return strcmp(type, "MX") == 0 || strcmp(type, "SRV") == 0;
}

static int cmp_rrset(const struct rec *a, const struct rec *b)
{
	int c = strcmp(a->name, b->name);
	return c != 0 ? c : strcmp(a->type, b->type);
}

static int cmp_rec(const void *pa, const void *pb)
{
	const struct rec *a = pa, *b = pb;
	int c = cmp_rrset(a, b);
	if (c == 0)
		c = strcmp(a->content, b->content);
	if (c == 0)
		c = (a->priority > b->priority) - (a->priority < b->priority);
	if (c == 0)
		c = (a->ttl > b->ttl) - (a->ttl < b->ttl);
	if (c == 0)
		c = (int)a->disabled - (int)b->disabled;
	return c;
}

static bool int_in(const json_t *v, json_int_t max, json_int_t *ret)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return false;
	*ret = json_integer_value(v);
	return true;
}

/* One payload record, or one snapshot entry (an array), into 'r'. */
static bool read_rec(const json_t *o, struct rec *r)
{
	const json_t *prio;

	if (json_is_array(o)) {
		size_t n = json_array_size(o);
		r->name = json_string_value(json_array_get(o, 0));
		r->type = json_string_value(json_array_get(o, 1));
		r->content = json_string_value(json_array_get(o, 3));
		if (n < 4 || n > 6 || !int_in(json_array_get(o, 2), TTL_MAX, &r->ttl))
			return false;
		prio = n >= 5 ? json_array_get(o, 4) : NULL;
		/* A disabled record: its priority (0 when it has none), then true. */
		r->disabled = n == 6;
		if (n == 6 && !json_is_true(json_array_get(o, 5)))
			return false;
	} else {
		r->name = json_string_value(json_object_get(o, "name"));
		r->type = json_string_value(json_object_get(o, "type"));
		r->content = json_string_value(json_object_get(o, "content"));
		if (!int_in(json_object_get(o, "ttl"), TTL_MAX, &r->ttl))
			return false;
		prio = json_object_get(o, "priority");
		const json_t *d = json_object_get(o, "disabled");
		if (d != NULL && !json_is_boolean(d))
			return false;
		r->disabled = json_is_true(d);
	}
	if (r->name == NULL || r->type == NULL || r->content == NULL)
		return false;
	r->priority = 0;
	if (has_priority(r->type))
		return prio == NULL || int_in(prio, PRIORITY_MAX, &r->priority);
	return true;
}

/* The records of 'a' sorted; the caller frees *ret (borrowing from 'a'). */
static int sorted(const json_t *a, struct rec **ret, size_t *ret_n)
{
	size_t n = json_array_size(a), i;
	struct rec *v = calloc(n + 1, sizeof(*v));
	json_t *o;

	if (v == NULL)
		return -ENOMEM;
	if (!json_is_array(a)) {
		free(v);
		return ERR_INVALID;
	}
	json_array_foreach(a, i, o) {
		if (!read_rec(o, &v[i])) {
			free(v);
			return ERR_INVALID;
		}
	}
	qsort(v, n, sizeof(*v), cmp_rec);
	*ret = v;
	*ret_n = n;
	return 0;
}

int zdiff_encode(const json_t *records, char **ret, size_t *ret_count)
{
	struct rec *v;
	size_t n, i;
	int r = sorted(records, &v, &n);
	if (r < 0)
		return r;
	json_t *out = json_array();
	for (i = 0; out != NULL && i < n; i++) {
		json_t *e = json_pack("[s,s,I,s]", v[i].name, v[i].type, v[i].ttl, v[i].content);
		if (e != NULL && (has_priority(v[i].type) || v[i].disabled))
			json_array_append_new(e, json_integer(v[i].priority));
		if (e != NULL && v[i].disabled)
			json_array_append_new(e, json_true());
		if (e == NULL || json_array_append_new(out, e) != 0)
			break;
	}
	free(v);
	char *text = i == n && out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;
	json_decref(out);
	if (text == NULL)
		return -ENOMEM;
	*ret = text;
	if (ret_count != NULL)
		*ret_count = n;
	return 0;
}

static json_t *rec_json(const struct rec *r, bool with_owner)
{
	json_t *o;

	if (with_owner)
		o = json_pack("{s:s,s:s,s:s,s:I,s:I}", "name", r->name, "type", r->type, "content",
			      r->content, "ttl", r->ttl, "priority", r->priority);
	else
		o = json_pack("{s:s,s:I,s:I}", "content", r->content, "ttl", r->ttl, "priority",
			      r->priority);
	if (o != NULL && r->disabled && json_object_set_new(o, "disabled", json_true()) < 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

int zdiff_decode(const char *text, json_t **ret)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	struct rec *v;
	size_t n, i;

	if (doc == NULL || !json_is_array(doc)) {
		json_decref(doc);
		return ERR_INVALID;
	}
	/* Entries are arrays only: an object here is not a snapshot. */
	json_t *o;
	json_array_foreach(doc, i, o) {
		if (!json_is_array(o)) {
			json_decref(doc);
			return ERR_INVALID;
		}
	}
	int r = sorted(doc, &v, &n);
	json_t *out = r == 0 ? json_array() : NULL;
	for (i = 0; out != NULL && i < n; i++)
		if (json_array_append_new(out, rec_json(&v[i], true)) != 0)
			break;
	if (r == 0)
		free(v);
	json_decref(doc);
	if (r == 0 && (out == NULL || i < n)) {
		json_decref(out);
		r = -ENOMEM;
	}
	if (r == 0)
		*ret = out;
	return r;
}

/* The index just past the RRset that starts at v[i]. */
static size_t rrset_end(const struct rec *v, size_t n, size_t i)
{
	size_t e = i;
	while (e < n && cmp_rrset(&v[e], &v[i]) == 0)
		e++;
	return e;
}

/* The records v[i..e) as JSON; NULL without memory. */
static json_t *rrset_json(const struct rec *v, size_t i, size_t e)
{
	json_t *a = json_array();
	for (; a != NULL && i < e; i++)
		if (json_array_append_new(a, rec_json(&v[i], false)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Whether v[i..ei) and w[j..ej) hold the same records (both sorted). */
static bool same_records(const struct rec *v, size_t i, size_t ei, const struct rec *w, size_t j,
			 size_t ej)
{
	if (ei - i != ej - j)
		return false;
	for (; i < ei; i++, j++)
		if (cmp_rec(&v[i], &w[j]) != 0)
			return false;
	return true;
}

/* Append {"name", "type", k1: a1} or, with 'k2', also k2: a2 to 'list';
 * 'a1' and 'a2' are taken (NULL: out of memory). */
static int add_rrset(json_t *list, const struct rec *owner, const char *k1, json_t *a1,
		     const char *k2, json_t *a2)
{
	json_t *o = json_pack("{s:s,s:s}", "name", owner->name, "type", owner->type);
	bool ok = o != NULL && a1 != NULL && (k2 == NULL || a2 != NULL);
	if (ok) {
		ok = json_object_set(o, k1, a1) == 0 &&
		     (k2 == NULL || json_object_set(o, k2, a2) == 0);
		ok = ok && json_array_append(list, o) == 0;
	}
	json_decref(o);
	json_decref(a1);
	json_decref(a2);
	return ok ? 0 : -ENOMEM;
}

/* The merge of the two sorted sides, RRset by RRset. */
static int merge(const struct rec *v, size_t nv, const struct rec *w, size_t nw, json_t *added,
		 json_t *removed, json_t *changed)
{
	size_t i = 0, j = 0;
	int r = 0;

	while (r == 0 && (i < nv || j < nw)) {
		int c = i == nv ? 1 : j == nw ? -1 : cmp_rrset(&v[i], &w[j]);
		size_t ei = c <= 0 ? rrset_end(v, nv, i) : i;
		size_t ej = c >= 0 ? rrset_end(w, nw, j) : j;
		if (c < 0)
			r = add_rrset(removed, &v[i], "records", rrset_json(v, i, ei), NULL, NULL);
		else if (c > 0)
			r = add_rrset(added, &w[j], "records", rrset_json(w, j, ej), NULL, NULL);
		else if (!same_records(v, i, ei, w, j, ej))
			r = add_rrset(changed, &v[i], "before", rrset_json(v, i, ei), "after",
				      rrset_json(w, j, ej));
		i = ei;
		j = ej;
	}
	return r;
}

int zdiff_rrsets(const json_t *from, const json_t *to, json_t **ret)
{
	struct rec *v = NULL, *w = NULL;
	size_t nv = 0, nw = 0;
	int r = sorted(from, &v, &nv);
	if (r == 0)
		r = sorted(to, &w, &nw);
	json_t *out = NULL;
	if (r == 0) {
		out = json_pack("{s:[],s:[],s:[]}", "added", "removed", "changed");
		r = out != NULL ? 0 : -ENOMEM;
	}
	if (r == 0)
		r = merge(v, nv, w, nw, json_object_get(out, "added"),
			  json_object_get(out, "removed"), json_object_get(out, "changed"));
	free(v);
	free(w);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}
