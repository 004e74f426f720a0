#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addrlist.h"
#include "base/log.h"
#include "catalog.h"
#include "history.h"
#include "json/jsonx.h"
#include "model/xfr.h"
#include "tsig.h"
#include "xfrout.h"
#include "xfrout_push.h"

static const char *const body_keys[] = { "allow", "notify", NULL };
static const char *const allow_keys[] = { "from", "key", NULL };

/* "from" as inet_ntop writes it, with the length unless it is one address. */
static int canonical_from(const char *text, char out[XFR_ADDR_MAX], const char **msg)
{
	struct addrlist l;
	size_t at, len;
	char a[INET6_ADDRSTRLEN];

	if (xfr_prefix_check(text, msg) < 0 || addrlist_parse(text, &l, msg, &at, &len) < 0)
		return ERR_INVALID;
	const struct addr_prefix *p = &l.v[0];
	unsigned full = p->family == AF_INET ? 32 : 128;
	if (inet_ntop(p->family, p->addr, a, sizeof(a)) == NULL)
		return ERR_INVALID;
	if (p->bits == full)
		snprintf(out, XFR_ADDR_MAX, "%s", a);
	else
		snprintf(out, XFR_ADDR_MAX, "%s/%u", a, p->bits);
	return 0;
}

static int parse_allow(struct whm *w, const json_t *list, json_t *out, struct errmsg *err)
{
	char where[48], from[XFR_ADDR_MAX];
	const char *msg, *f = NULL, *k = NULL;
	struct tsig_key key;
	struct errmsg kerr;
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v) {
		snprintf(where, sizeof(where), "allow[%zu]", i);
		if (!json_is_object(v))
			return errmsg_set(err, ERR_INVALID, "%s: must be an object", where);
		int r = jsonx_check_keys(v, allow_keys, where, err);
		if (r == 0)
			r = jsonx_get_str(v, "from", true, where, &f, err);
		if (r == 0)
			r = jsonx_get_str(v, "key", true, where, &k, err);
		if (r < 0 || f == NULL || k == NULL)
			return ERR_INVALID;
		if (canonical_from(f, from, &msg) < 0)
			return errmsg_set(err, ERR_INVALID, "%s.from: '%.64s' %s", where, f, msg);
		r = tsig_get(w, k, &key, &kerr);
		if (r == ERR_NOT_FOUND)
			return errmsg_set(err, ERR_INVALID, "%s.key: no TSIG key '%.255s'", where,
					  k);
		if (r < 0)
			return errmsg_set(err, r == ERR_INVALID ? r : ERR_UNAVAILABLE, "%s.key: %s",
					  where, kerr.text);
		json_t *e = json_pack("{s:s,s:s}", "from", from, "key", key.name);
		tsig_key_clear(&key);
		if (e == NULL || json_array_append_new(out, e) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int parse_notify(const json_t *list, json_t *out, struct errmsg *err)
{
	char canon[XFR_ADDR_MAX];
	const char *msg;
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);
		if (s == NULL)
			return errmsg_set(err, ERR_INVALID, "notify[%zu]: must be a string", i);
		if (xfr_notify_check(s, canon, &msg) < 0)
			return errmsg_set(err, ERR_INVALID, "notify[%zu]: '%.64s' %s", i, s, msg);
		if (json_array_append_new(out, json_string(canon)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int xfrout_parse(struct whm *w, const json_t *body, char **ret_allow, char **ret_notify,
		 struct errmsg *err)
{
	json_t *allow = NULL, *notify = NULL;
	json_t *a = json_array(), *n = json_array();
	int r = a != NULL && n != NULL ? 0 : -ENOMEM;

	if (r == 0 && !json_is_object(body))
		r = errmsg_set(err, ERR_INVALID, "body: must be an object");
	if (r == 0)
		r = jsonx_check_keys(body, body_keys, "body", err);
	if (r == 0 && (r = jsonx_get_array(body, "allow", false, "body", &allow, err)) == -ENOENT)
		r = 0;
	if (r == 0 && (r = jsonx_get_array(body, "notify", false, "body", &notify, err)) == -ENOENT)
		r = 0;
	if (r == 0 &&
	    (json_array_size(allow) > XFR_LIST_MAX || json_array_size(notify) > XFR_LIST_MAX))
		r = errmsg_set(err, ERR_INVALID, "allow, notify: at most %d entries each",
			       XFR_LIST_MAX);
	if (r == 0)
		r = parse_allow(w, allow, a, err);
	if (r == 0)
		r = parse_notify(notify, n, err);
	if (r == 0) {
		*ret_allow = json_dumps(a, JSON_COMPACT);
		*ret_notify = json_dumps(n, JSON_COMPACT);
		if (*ret_allow == NULL || *ret_notify == NULL) {
			free(*ret_allow);
			free(*ret_notify);
			r = -ENOMEM;
		}
	}
	json_decref(a);
	json_decref(n);
	if (r == -ENOMEM)
		errmsg_set(err, r, "out of memory");
	return r;
}

/* The settings that apply to 'zone_id': its own, else the default's, else
 * none; *ret_own tells which. The caller frees both texts. */
static int effective(struct store *st, int64_t zone_id, char **allow, char **notify, bool *ret_own)
{
	int r = store_xfr_get(st, zone_id, allow, notify);
	*ret_own = r == 0 && zone_id != 0;
	if (r == -ENOENT && zone_id != 0)
		r = store_xfr_get(st, 0, allow, notify);
	if (r == -ENOENT) {
		*allow = strdup("[]");
		*notify = strdup("[]");
		r = *allow != NULL && *notify != NULL ? 0 : -ENOMEM;
		if (r < 0) {
			free(*allow);
			free(*notify);
		}
	}
	return r;
}

int xfrout_get(struct whm *w, struct store *st, int64_t zone_id, json_t **ret)
{
	char *allow = NULL, *notify = NULL;
	bool own = false;
	(void)w;
	int r = effective(st, zone_id, &allow, &notify, &own);
	if (r < 0)
		return r;
	json_t *a = json_loads(allow, 0, NULL), *n = json_loads(notify, 0, NULL);
	free(allow);
	free(notify);
	*ret = json_pack("{s:o*,s:o*}", "allow", a, "notify", n);
	if (*ret != NULL && zone_id != 0)
		json_object_set_new(*ret, "default", json_boolean(!own));
	return *ret != NULL ? 0 : -ENOMEM;
}

static bool in_list(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

int xfrout_payload(struct whm *w, struct store *st, int64_t zone_id, json_t **ret)
{
	char *allow = NULL, *notify = NULL;
	bool own;
	int r = effective(st, zone_id, &allow, &notify, &own);
	if (r < 0)
		return r;
	json_t *a = json_loads(allow, 0, NULL), *n = json_loads(notify, 0, NULL);
	json_t *from = json_array(), *keys = json_array(), *tsig = json_array();
	json_t *pairs = json_array();
	free(allow);
	free(notify);
	json_t *v;
	size_t i;
	json_array_foreach(a, i, v) {
		const char *f = json_string_value(json_object_get(v, "from"));
		const char *k = json_string_value(json_object_get(v, "key"));
		struct tsig_key key;
		struct errmsg err;
		char kname[DNAME_TEXT_MAX];
		if (f == NULL || k == NULL || strlen(k) >= sizeof(kname))
			continue;
		snprintf(kname, sizeof(kname), "%s", k);
		if (!in_list(keys, k)) {
			int g = tsig_get(w, k, &key, &err);
			if (g == ERR_NOT_FOUND)
				continue; /* deleted since: it grants nothing */
			if (g < 0) {
				r = g;
				break;
			}
			snprintf(kname, sizeof(kname), "%s", key.name);
			json_array_append_new(keys, json_string(key.name));
			json_array_append_new(tsig, json_pack("{s:s,s:s,s:s}", "name", key.name,
							      "algorithm", key.algorithm, "secret",
							      key.secret));
			tsig_key_clear(&key);
		}
		if (!in_list(from, f))
			json_array_append_new(from, json_string(f));
		json_array_append_new(pairs, json_pack("{s:s,s:s}", "from", f, "key", kname));
	}
	json_t *nl = json_is_array(n) ? json_incref(n) : json_array();
	*ret = r == 0 ? json_pack("{s:o,s:o,s:o,s:o,s:o}", "allow", pairs, "allow_from", from,
				  "keys", keys, "tsig", tsig, "notify", nl)
		      : NULL;
	if (r < 0)
		json_decref(nl);
	if (r < 0) {
		json_decref(from);
		json_decref(keys);
		json_decref(tsig);
		json_decref(pairs);
	}
	json_decref(a);
	json_decref(n);
	if (r == 0 && *ret == NULL)
		r = -ENOMEM;
	return r;
}

/* 'text' ("from" as stored) as a prefix. */
static int from_prefix(const char *text, struct addr_prefix *ret)
{
	struct addrlist l;
	const char *msg;
	size_t at, len;

	if (text == NULL || addrlist_parse(text, &l, &msg, &at, &len) < 0 || l.n != 1)
		return ERR_INVALID;
	*ret = l.v[0];
	return 0;
}

/* Whether allow list 'own' lets in every (address, key) that allow list
 * 'dflt' lets in: each entry of 'dflt' has one in 'own' with its key and
 * the same or a wider prefix. */
static bool allows_all(const json_t *own, const json_t *dflt)
{
	size_t i, j;
	const json_t *d, *o;

	json_array_foreach(dflt, i, d) {
		const char *key = json_string_value(json_object_get(d, "key"));
		struct addr_prefix want, have;
		bool found = false;
		if (key == NULL ||
		    from_prefix(json_string_value(json_object_get(d, "from")), &want) < 0)
			return false;
		json_array_foreach(own, j, o) {
			const char *k = json_string_value(json_object_get(o, "key"));
			if (k != NULL && strcmp(k, key) == 0 &&
			    from_prefix(json_string_value(json_object_get(o, "from")), &have) ==
				0 &&
			    addr_prefix_within(&want, &have)) {
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

struct closed {
	struct store *st;
	json_t *dflt;
	int64_t *ids;
	size_t n, alloc;
};

static int check_own(int64_t id, void *ctx)
{
	struct closed *c = ctx;
	char *allow = NULL, *notify = NULL;
	int r = store_xfr_get(c->st, id, &allow, &notify);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	json_t *own = json_loads(allow, 0, NULL);
	free(allow);
	free(notify);
	bool open = json_is_array(own) && allows_all(own, c->dflt);
	json_decref(own);
	if (open)
		return 0;
	if (c->n == c->alloc) {
		size_t a = c->alloc ? 2 * c->alloc : 16;
		int64_t *v = realloc(c->ids, a * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		c->ids = v;
		c->alloc = a;
	}
	c->ids[c->n++] = id;
	return 0;
}

int xfrout_closed_to_default(struct store *st, int64_t **ret, size_t *ret_n)
{
	char *allow = NULL, *notify = NULL;
	bool own;
	struct closed c = { .st = st };
	int r = effective(st, 0, &allow, &notify, &own);

	*ret = NULL;
	*ret_n = 0;
	if (r < 0)
		return r;
	c.dflt = json_loads(allow, 0, NULL);
	free(allow);
	free(notify);
	if (!json_is_array(c.dflt))
		r = -EINVAL;
	if (r == 0)
		r = store_xfr_foreach_naming(st, "", check_own, &c);
	json_decref(c.dflt);
	if (r < 0) {
		free(c.ids);
		return r;
	}
	*ret = c.ids;
	*ret_n = c.n;
	return 0;
}

struct zone_set {
	const char *allow, *notify; /* NULL: follow the default */
};

static int write_zone(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	const struct zone_set *s = ctx;
	char *allow = NULL, *notify = NULL;
	int r = store_xfr_get(st, z->id, &allow, &notify);
	bool same = s->allow == NULL
			? r == -ENOENT
			: r == 0 && strcmp(allow, s->allow) == 0 && strcmp(notify, s->notify) == 0;
	free(allow);
	free(notify);
	if (r < 0 && r != -ENOENT)
		return errmsg_set(err, r, "reading the transfer settings: %s", err_str(r));
	if (same)
		return 1;
	r = s->allow == NULL ? store_xfr_delete(st, z->id)
			     : store_xfr_put(st, z->id, s->allow, s->notify, whm_now());
	if (r < 0)
		errmsg_set(err, r, "writing the transfer settings: %s", err_str(r));
	return r;
}

int xfrout_zone_set(struct whm *w, int64_t zone_id, const json_t *body, const char *actor,
		    struct zone_result *res, struct errmsg *err)
{
	struct zone_set s = { NULL, NULL };
	char *allow = NULL, *notify = NULL;
	int r = body != NULL ? xfrout_parse(w, body, &allow, &notify, err) : 0;
	if (r < 0)
		return r;
	s.allow = allow;
	s.notify = notify;
	r = zones_change(w, zone_id, write_zone, &s, actor, "zone.transfers",
			 body != NULL ? "set the zone's transfer settings"
				      : "the zone follows the cluster's transfer settings",
			 res, err);
	if (r >= 0)
		catalog_changed(w); /* it may list the zone, or not, now */
	free(allow);
	free(notify);
	return r;
}

static int count_zone(int64_t id, void *ctx)
{
	(void)id;
	(*(uint64_t *)ctx)++;
	return 0;
}

int xfrout_default_set(struct whm *w, const json_t *body, const char *actor, uint64_t *ret_zones,
		       struct errmsg *err)
{
	char *allow = NULL, *notify = NULL;
	struct store *st = whm_store(w);
	int r = xfrout_parse(w, body, &allow, &notify, err);
	if (r < 0)
		return r;
	if (st == NULL) {
		r = errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
		goto out;
	}
	r = store_begin(st);
	if (r == 0)
		r = store_xfr_put(st, 0, allow, notify, whm_now());
	if (r == 0)
		r = history_note(st, actor, "cluster.transfers",
				 "set the cluster's transfer settings");
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		errmsg_set(err, r, "writing the transfer settings: %s", err_str(r));
		goto out;
	}
	/* Off the request: every zone that follows the default gets a new
	 * version (xfrout_push.h); counted here. */
	*ret_zones = 0;
	r = store_xfr_foreach_default(st, count_zone, ret_zones);
	if (r < 0)
		errmsg_set(err, r, "reading the zones: %s", err_str(r));
	else
		xfrout_push_default(w);
	catalog_changed(w); /* the zones of their own settings it lists change */
out:
	free(allow);
	free(notify);
	return r;
}

int xfrout_key_changed(struct whm *w, const char *name)
{
	xfrout_push_key(w, name);
	return 0;
}

/* --- the PowerDNS API's metadata kinds ------------------------------------ */

static const char *const any_address[] = { "0.0.0.0/0", "::/0" };

bool xfrout_meta_kind(const char *kind)
{
	return strcmp(kind, XFROUT_META_FROM) == 0 || strcmp(kind, XFROUT_META_KEYS) == 0 ||
	       strcmp(kind, XFROUT_META_NOTIFY) == 0;
}

/* Add the distinct values of member 'key' of the objects of 'allow' to 'out'. */
static void distinct(const json_t *allow, const char *key, json_t *out)
{
	size_t i;
	json_t *v;
	json_array_foreach(allow, i, v) {
		const char *s = json_string_value(json_object_get(v, key));
		if (s != NULL && !in_list(out, s))
			json_array_append_new(out, json_string(s));
	}
}

int xfrout_meta_get(struct whm *w, struct store *st, int64_t zone_id, const char *kind,
		    json_t **ret)
{
	json_t *j = NULL;
	int r = xfrout_get(w, st, zone_id, &j);
	if (r < 0)
		return r;
	json_t *out = json_array();
	if (strcmp(kind, XFROUT_META_NOTIFY) == 0)
		json_array_extend(out, json_object_get(j, "notify"));
	else
		distinct(json_object_get(j, "allow"),
			 strcmp(kind, XFROUT_META_FROM) == 0 ? "from" : "key", out);
	json_decref(j);
	*ret = out;
	return out != NULL ? 0 : -ENOMEM;
}

int xfrout_meta_set(struct whm *w, int64_t zone_id, const char *kind, const json_t *values,
		    bool append, const char *actor, struct zone_result *res, struct errmsg *err)
{
	struct store *st = whm_store(w);
	json_t *now = NULL, *froms = json_array(), *keys = json_array();
	int r = st != NULL ? xfrout_get(w, st, zone_id, &now) : ERR_UNAVAILABLE;

	if (r < 0) {
		json_decref(froms);
		json_decref(keys);
		return errmsg_set(err, r, "cannot read the transfer settings");
	}
	json_t *allow = json_object_get(now, "allow");
	distinct(allow, "from", froms);
	distinct(allow, "key", keys);
	json_t *notify = json_deep_copy(json_object_get(now, "notify"));
	json_t *target = strcmp(kind, XFROUT_META_FROM) == 0   ? froms
			 : strcmp(kind, XFROUT_META_KEYS) == 0 ? keys
							       : notify;
	if (!append)
		json_array_clear(target);
	for (size_t i = 0; i < json_array_size(values); i++) {
		json_t *v = json_array_get(values, i);
		if (!json_is_string(v) || !in_list(target, json_string_value(v)))
			json_array_append(target, v);
	}
	/* Every address needs a key (PowerDNS's two lists, crossed); keys
	 * without addresses may be used from anywhere. */
	if (json_array_size(froms) > 0 && json_array_size(keys) == 0 &&
	    strcmp(kind, XFROUT_META_FROM) == 0) {
		r = errmsg_set(err, ERR_INVALID,
			       "%s: every address needs a TSIG key: set TSIG-ALLOW-AXFR first",
			       kind);
	}
	if (json_array_size(froms) == 0)
		for (size_t i = 0; i < 2; i++)
			json_array_append_new(froms, json_string(any_address[i]));
	json_t *pairs = json_array();
	for (size_t k = 0; r == 0 && k < json_array_size(keys); k++)
		for (size_t f = 0; f < json_array_size(froms); f++)
			json_array_append_new(pairs, json_pack("{s:O,s:O}", "from",
							       json_array_get(froms, f), "key",
							       json_array_get(keys, k)));
	json_t *body = json_pack("{s:o,s:o}", "allow", pairs, "notify", notify);
	if (r == 0)
		r = body != NULL ? xfrout_zone_set(w, zone_id, body, actor, res, err) : -ENOMEM;
	json_decref(body);
	json_decref(now);
	json_decref(froms);
	json_decref(keys);
	return r;
}
