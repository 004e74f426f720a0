/* Zone history and the audit log (history.h): what every change keeps,
 * and the queries and the rollback over it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "history.h"
#include "model/zdiff.h"
#include "zones_internal.h"

void history_summary(char out[HISTORY_SUMMARY_MAX], const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, HISTORY_SUMMARY_MAX, fmt, ap);
	va_end(ap);
	if (n < HISTORY_SUMMARY_MAX)
		return;
	/* Cut on a character boundary (MariaDB refuses broken UTF-8), then "...". */
	size_t end = HISTORY_SUMMARY_MAX - 4;
	while (end > 0 && ((unsigned char)out[end] & 0xc0) == 0x80)
		end--;
	memcpy(out + end, "...", 4);
}

int history_record(struct store *st, const struct store_zone *z, const json_t *records,
		   const char *actor, const char *action, const char *summary)
{
	json_t *loaded = NULL;
	char *text = NULL;
	size_t count = 0;
	int r = 0;

	if (z->deleted) {
		text = strdup("[]");
		r = text != NULL ? 0 : -ENOMEM;
	} else {
		if (records == NULL) {
			r = zones_load_records(st, z->id, &loaded);
			records = loaded;
		}
		if (r == 0)
			r = zdiff_encode(records, &text, &count);
	}
	struct store_version v = {
		.zone_id = z->id,
		.version = z->version,
		.serial = z->serial,
		.created_at = z->updated_at,
		.actor = (char *)actor,
		.action = (char *)action,
		.summary = (char *)summary,
		.deleted = z->deleted,
		.record_count = count,
		.records = text,
	};
	snprintf(v.rdigest, sizeof(v.rdigest), "%s", z->deleted ? "" : z->rdigest);
	if (r == 0)
		r = store_version_insert(st, &v);
	struct store_audit_entry e = {
		.created_at = z->updated_at,
		.actor = (char *)actor,
		.action = (char *)action,
		.zone_id = z->id,
		.zone = z->domain,
		.version = z->version,
		.summary = (char *)summary,
	};
	if (r == 0)
		r = store_audit(st, &e);
	free(text);
	json_decref(loaded);
	return r;
}

int history_note(struct store *st, const char *actor, const char *action, const char *summary)
{
	struct store_audit_entry e = {
		.actor = (char *)actor,
		.action = (char *)action,
		.summary = (char *)summary,
	};
	return store_audit(st, &e);
}

int history_note_zone(struct store *st, const struct store_zone *z, const char *actor,
		      const char *action, const char *summary)
{
	struct store_audit_entry e = {
		.actor = (char *)actor,
		.action = (char *)action,
		.zone_id = z->id,
		.zone = z->domain,
		.summary = (char *)summary,
	};
	return store_audit(st, &e);
}

/* --- the queries ------------------------------------------------------------------ */

static void iso_time(int64_t t, char *out, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A domain as the panel shows it: without the final dot. */
static json_t *panel_name(const char *domain)
{
	size_t n = domain != NULL ? strlen(domain) : 0;
	if (domain == NULL)
		return json_null();
	return json_stringn(domain, n > 1 && domain[n - 1] == '.' ? n - 1 : n);
}

static json_t *version_json(const struct store_version *v)
{
	char when[32];
	iso_time(v->created_at, when, sizeof(when));
	return json_pack("{s:I,s:I,s:s,s:I,s:s?,s:s,s:s?,s:I,s:b}", "version",
			 (json_int_t)v->version, "serial", (json_int_t)v->serial, "time", when,
			 "timestamp", (json_int_t)v->created_at, "actor", v->actor, "action",
			 v->action, "summary", v->summary, "records", (json_int_t)v->record_count,
			 "deleted", v->deleted);
}

/* The zone (a tombstone too: its history lasts until it is purged) and
 * this thread's store. The caller clears *z. */
static int get_zone(struct whm *w, int64_t zone_id, struct store **ret_st, struct store_zone *z,
		    struct errmsg *err)
{
	struct store *st = whm_store(w);
	err->text[0] = '\0';
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	int r = store_zone_get(st, zone_id, z);
	if (r == -ENOENT)
		return errmsg_set(err, ERR_NOT_FOUND, "zone %lld does not exist",
				  (long long)zone_id);
	if (r < 0)
		return errmsg_set(err, r, "reading the zone: %s", err_str(r));
	*ret_st = st;
	return 0;
}

static int get_version(struct store *st, const struct store_zone *z, uint64_t version,
		       struct store_version *ret, struct errmsg *err)
{
	int r = store_version_get(st, z->id, version, ret);
	if (r == -ENOENT)
		return errmsg_set(err, ERR_NOT_FOUND,
				  "zone '%s' has no version %llu in its history (never made, or "
				  "pruned by the retention)",
				  z->domain, (unsigned long long)version);
	if (r < 0)
		return errmsg_set(err, r, "reading version %llu: %s", (unsigned long long)version,
				  err_str(r));
	return 0;
}

struct list_ctx {
	json_t *list;
	unsigned left;	 /* entries still wanted; one more says there is a next page */
	json_int_t next; /* the 'before' of the next page */
	json_int_t last; /* the key of the last entry listed */
};

static int list_version(const struct store_version *v, void *ctx)
{
	struct list_ctx *c = ctx;
	if (c->left == 0) {
		c->next = c->last;
		return 1;
	}
	c->left--;
	c->last = (json_int_t)v->version;
	return json_array_append_new(c->list, version_json(v)) ? -ENOMEM : 0;
}

int history_versions(struct whm *w, int64_t zone_id, uint64_t before, unsigned limit, json_t **ret,
		     struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	struct list_ctx c = { json_array(), limit, 0, 0 };

	int r = get_zone(w, zone_id, &st, &z, err);
	if (r < 0) {
		json_decref(c.list);
		return r;
	}
	/* One more than asked: whether a next page exists. */
	r = c.list != NULL ? store_version_foreach(st, zone_id, before, limit + 1, list_version, &c)
			   : -ENOMEM;
	if (r >= 0) {
		*ret = json_pack("{s:I,s:o,s:I,s:b,s:o,s:o}", "zoneId", (json_int_t)z.id, "domain",
				 panel_name(z.domain), "current", (json_int_t)z.version, "deleted",
				 z.deleted, "versions", c.list, "next",
				 c.next ? json_integer(c.next) : json_null());
		r = *ret != NULL ? 0 : -ENOMEM;
	} else {
		json_decref(c.list);
		errmsg_set(err, 0, "reading the history: %s", err_str(r));
	}
	store_zone_clear(&z);
	return r;
}

int history_version(struct whm *w, int64_t zone_id, uint64_t version, json_t **ret,
		    struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	struct store_version v = { 0 };
	json_t *records = NULL;

	int r = get_zone(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	r = get_version(st, &z, version, &v, err);
	if (r == 0) {
		r = zdiff_decode(v.records, &records);
		if (r < 0)
			errmsg_set(err, ERR_BACKEND, "version %llu: its records cannot be read",
				   (unsigned long long)version);
	}
	json_t *o = r == 0 ? version_json(&v) : NULL;
	if (r == 0 && o != NULL) {
		json_object_set_new(o, "zoneId", json_integer(z.id));
		json_object_set_new(o, "domain", panel_name(z.domain));
		json_object_set_new(o, "digest", json_string(v.rdigest));
		json_object_set_new(o, "records", records);
		records = NULL;
		*ret = o;
	} else if (r == 0) {
		r = -ENOMEM;
	}
	store_version_clear(&v);
	json_decref(records);
	store_zone_clear(&z);
	return r < 0 && err->text[0] == '\0' ? errmsg_set(err, r, "out of memory") : r;
}

/* The records of version 'version' of 'z' ([] for a delete). */
static int version_records(struct store *st, const struct store_zone *z, uint64_t version,
			   json_t **ret, struct errmsg *err)
{
	struct store_version v;
	int r = get_version(st, z, version, &v, err);
	if (r < 0)
		return r;
	r = zdiff_decode(v.records, ret);
	store_version_clear(&v);
	if (r < 0)
		errmsg_set(err, ERR_BACKEND, "version %llu: its records cannot be read",
			   (unsigned long long)version);
	return r < 0 ? ERR_BACKEND : 0;
}

int history_diff(struct whm *w, int64_t zone_id, uint64_t from, uint64_t to, json_t **ret,
		 struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	json_t *a = NULL, *b = NULL, *d = NULL;

	int r = get_zone(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	/* Without 'to', a 'from' above the current version is one that does
	 * not exist (404 below), not a range the wrong way round. */
	bool given = to != 0;
	if (to == 0)
		to = from > z.version ? from : z.version;
	if (given && from > to)
		r = errmsg_set(err, ERR_MALFORMED, "from (%llu) is above to (%llu)",
			       (unsigned long long)from, (unsigned long long)to);
	if (r == 0)
		r = version_records(st, &z, from, &a, err);
	if (r == 0)
		r = version_records(st, &z, to, &b, err);
	if (r == 0) {
		r = zdiff_rrsets(a, b, &d);
		if (r < 0)
			errmsg_set(err, r, "comparing the versions: %s", err_str(r));
	}
	if (r == 0) {
		json_t *counts =
		    json_pack("{s:I,s:I,s:I}", "added",
			      (json_int_t)json_array_size(json_object_get(d, "added")), "removed",
			      (json_int_t)json_array_size(json_object_get(d, "removed")), "changed",
			      (json_int_t)json_array_size(json_object_get(d, "changed")));
		json_object_set_new(d, "zoneId", json_integer(z.id));
		json_object_set_new(d, "domain", panel_name(z.domain));
		json_object_set_new(d, "from", json_integer((json_int_t)from));
		json_object_set_new(d, "to", json_integer((json_int_t)to));
		json_object_set_new(d, "counts", counts);
		*ret = d;
	}
	json_decref(a);
	json_decref(b);
	store_zone_clear(&z);
	return r;
}

int history_rollback(struct whm *w, int64_t zone_id, uint64_t version, const char *actor,
		     struct zone_result *res, bool *ret_changed, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	struct store_version v = { 0 };
	json_t *target = NULL, *now = NULL;
	char *now_text = NULL;

	int r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	r = get_version(st, &z, version, &v, err);
	if (r < 0) {
		store_zone_clear(&z);
		return r;
	}
	if (v.deleted)
		r = errmsg_set(err, ERR_CONFLICT,
			       "version %llu deleted the zone: there is no content to go back to; "
			       "pick the version before it",
			       (unsigned long long)version);
	if (r == 0 && zdiff_decode(v.records, &target) < 0)
		r = errmsg_set(err, ERR_BACKEND, "version %llu: its records cannot be read",
			       (unsigned long long)version);
	/* The same content already: no new version, nothing to push. */
	if (r == 0)
		r = zones_load_records(st, zone_id, &now);
	if (r == 0)
		r = zdiff_encode(now, &now_text, NULL);
	if (r == 0 && strcmp(now_text, v.records) == 0) {
		*ret_changed = false;
		res->zone_id = z.id;
		res->version = z.version;
		res->serial = z.serial;
	} else if (r == 0) {
		char summary[HISTORY_SUMMARY_MAX];
		history_summary(summary, "roll back to version %llu (serial %u)",
				(unsigned long long)version, v.serial);
		r = zones_records_set(w, zone_id, target, false, NULL, actor, "zone.rollback",
				      summary, res, err);
		*ret_changed = r == 0;
	}
	if (r < 0 && err->text[0] == '\0')
		errmsg_set(err, r, "rolling back: %s", err_str(r));
	free(now_text);
	json_decref(now);
	json_decref(target);
	store_version_clear(&v);
	store_zone_clear(&z);
	return r;
}

static json_t *audit_json(const struct store_audit_entry *e)
{
	char when[32];
	iso_time(e->created_at, when, sizeof(when));
	json_t *o = json_pack("{s:I,s:s,s:I,s:s?,s:s,s:o,s:o,s:o,s:s?}", "id", (json_int_t)e->id,
			      "time", when, "timestamp", (json_int_t)e->created_at, "actor",
			      e->actor, "action", e->action, "zone", panel_name(e->zone), "zoneId",
			      e->zone_id ? json_integer(e->zone_id) : json_null(), "version",
			      e->version ? json_integer((json_int_t)e->version) : json_null(),
			      "summary", e->summary);
	return o;
}

static int list_audit(const struct store_audit_entry *e, void *ctx)
{
	struct list_ctx *c = ctx;
	if (c->left == 0) {
		c->next = c->last;
		return 1;
	}
	c->left--;
	c->last = e->id;
	return json_array_append_new(c->list, audit_json(e)) ? -ENOMEM : 0;
}

int history_audit(struct whm *w, const struct store_audit_filter *f, json_t **ret,
		  struct errmsg *err)
{
	struct store *st = whm_store(w);
	struct list_ctx c = { json_array(), f->limit, 0, 0 };
	struct store_audit_filter more = *f;

	err->text[0] = '\0';
	if (st == NULL || c.list == NULL) {
		json_decref(c.list);
		return errmsg_set(err, st == NULL ? ERR_UNAVAILABLE : -ENOMEM,
				  st == NULL ? "the store is unavailable" : "out of memory");
	}
	more.limit = f->limit + 1; /* one more: whether a next page exists */
	int r = store_audit_foreach(st, &more, list_audit, &c);
	if (r < 0) {
		json_decref(c.list);
		return errmsg_set(err, r, "reading the audit log: %s", err_str(r));
	}
	*ret = json_pack("{s:o,s:o}", "entries", c.list, "next",
			 c.next ? json_integer(c.next) : json_null());
	return *ret != NULL ? 0 : errmsg_set(err, -ENOMEM, "out of memory");
}
