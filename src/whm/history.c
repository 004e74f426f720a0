/* Zone history and the audit log (history.h): what every change keeps,
 * and the queries and the rollback over it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "history.h"
#include "model/zdiff.h"
#include "zones_internal.h"
#include "zones_soa.h"

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
		.soa = z->deleted ? NULL : (char *)z->soa,
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

/* Listings are written as text entry by entry (as the zone list is):
 * 1,000 versions cost their text, not a JSON tree of them and its dump. */
struct list_ctx {
	struct buf *out;
	unsigned left; /* entries still wanted; one more says there is a next page */
	int64_t next;  /* the 'before' of the next page */
	int64_t last;  /* the key of the last entry listed */
	bool admin;    /* audit: the caller may see token summaries */
};

/* ',"key":' then 's' as a JSON string, or null. */
static int put_str(struct buf *b, const char *key, const char *s)
{
	int r = buf_printf(b, ",\"%s\":", key);
	if (r == 0)
		r = s != NULL ? buf_json_str(b, s) : buf_puts(b, "null");
	return r;
}

/* A page's entry: a separator unless it is the first, and whether it is
 * one past the page (then it only says there is a next page). */
static bool list_more(struct list_ctx *c, int64_t key, int *r)
{
	if (c->left == 0) {
		c->next = c->last;
		*r = 1;
		return false;
	}
	*r = c->out->data[c->out->len - 1] == '[' ? 0 : buf_puts(c->out, ",");
	c->left--;
	c->last = key;
	return *r == 0;
}

static int list_version(const struct store_version *v, void *ctx)
{
	struct list_ctx *c = ctx;
	char when[32];
	int r;

	if (!list_more(c, (int64_t)v->version, &r))
		return r;
	iso_time(v->created_at, when, sizeof(when));
	r = buf_printf(c->out, "{\"version\":%llu,\"serial\":%u,\"time\":\"%s\",\"timestamp\":%lld",
		       (unsigned long long)v->version, v->serial, when, (long long)v->created_at);
	if (r == 0)
		r = put_str(c->out, "actor", v->actor);
	if (r == 0)
		r = put_str(c->out, "action", v->action);
	if (r == 0)
		r = put_str(c->out, "summary", v->summary);
	if (r == 0)
		r = buf_printf(c->out, ",\"records\":%llu,\"deleted\":%s}",
			       (unsigned long long)v->record_count, v->deleted ? "true" : "false");
	return r;
}

/* '],"next":N}' or '],"next":null}' after a page. */
static int list_end(struct list_ctx *c)
{
	if (c->next != 0)
		return buf_printf(c->out, "],\"next\":%lld}", (long long)c->next);
	return buf_puts(c->out, "],\"next\":null}");
}

int history_versions(struct whm *w, int64_t zone_id, uint64_t before, unsigned limit,
		     struct buf *out, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	struct list_ctx c = { .out = out, .left = limit };

	int r = zones_get(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	size_t n = strlen(z.domain);
	if (n > 1 && z.domain[n - 1] == '.')
		z.domain[n - 1] = '\0'; /* the panel's form: no final dot */
	r = buf_printf(out, "{\"zoneId\":%lld,\"domain\":", (long long)z.id);
	if (r == 0)
		r = buf_json_str(out, z.domain);
	if (r == 0)
		r = buf_printf(out, ",\"current\":%llu,\"deleted\":%s,\"versions\":[",
			       (unsigned long long)z.version, z.deleted ? "true" : "false");
	/* One more than asked: whether a next page exists. */
	if (r == 0)
		r = store_version_foreach(st, zone_id, before, limit + 1, list_version, &c);
	if (r >= 0)
		r = list_end(&c);
	if (r < 0)
		errmsg_set(err, r, "reading the history: %s", err_str(r));
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

	int r = zones_get(w, zone_id, &st, &z, err);
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
		if (v.soa != NULL) {
			/* Its own fields then, over today's cluster settings. */
			struct store_zone then = { .serial = v.serial };
			snprintf(then.soa, sizeof(then.soa), "%s", v.soa);
			json_object_set_new(o, "soa", zone_soa_json(w, &then));
		}
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

	int r = zones_get(w, zone_id, &st, &z, err);
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

static bool is_lua(const json_t *rec)
{
	const char *t = json_string_value(json_object_get(rec, "type"));
	return t != NULL && strcasecmp(t, "LUA") == 0;
}

static bool holds_lua(const json_t *records)
{
	const json_t *rec;
	size_t i;

	json_array_foreach(records, i, rec) {
		if (is_lua(rec))
			return true;
	}
	return false;
}

static bool same_str(const json_t *a, const json_t *b, const char *key)
{
	const char *x = json_string_value(json_object_get(a, key));
	const char *y = json_string_value(json_object_get(b, key));
	return x != NULL && y != NULL && strcmp(x, y) == 0;
}

/* With allow-raw-lua off, the records of 'target' may keep the raw LUA
 * records the zone holds now (written while it was on, served or disabled
 * as now) but not bring back others: the routes refuse them, and a
 * rollback is no way around that. The caller applies 'target' only at the
 * version this read. */
static int raw_lua_check(struct store *st, int64_t zone_id, const json_t *target, uint64_t version,
			 struct errmsg *err)
{
	json_t *now = NULL, *rec, *o;
	size_t i, k;
	int r = 0;

	json_array_foreach(target, i, rec) {
		if (!is_lua(rec))
			continue;
		if (now == NULL && (r = zones_load_records(st, zone_id, &now)) < 0)
			return errmsg_set(err, r, "reading the zone's records: %s", err_str(r));
		bool held = false;
		json_array_foreach(now, k, o) {
			held = held || (is_lua(o) && same_str(o, rec, "name") &&
					same_str(o, rec, "content") &&
					json_is_true(json_object_get(o, "disabled")) ==
					    json_is_true(json_object_get(rec, "disabled")));
		}
		if (!held) {
			r = errmsg_set(
			    err, ERR_INVALID,
			    "version %llu holds a raw LUA record ('%.200s') the zone does "
			    "not hold now: raw LUA is refused while allow-raw-lua = no; "
			    "nothing was changed",
			    (unsigned long long)version,
			    json_string_value(json_object_get(rec, "name")));
			break;
		}
	}
	json_decref(now);
	return r;
}

int history_rollback(struct whm *w, int64_t zone_id, uint64_t version, const char *actor,
		     struct zone_result *res, bool *ret_changed, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	struct store_version v = { 0 };
	json_t *target = NULL;

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
	/* Checked against the zone as it is: then applied at that version
	 * only (a change meanwhile is a 409, not raw LUA brought back). */
	uint64_t pin = 0;
	if (r == 0 && !w->conf.allow_raw_lua && holds_lua(target)) {
		r = raw_lua_check(st, zone_id, target, version, err);
		pin = z.version;
	}
	/* The records and the SOA fields the version had, as one new version;
	 * none when they are the zone's already (nothing to push). A version
	 * from before the SOA fields were kept leaves them as they are. A
	 * version holds no routing policies: the RRsets it gives back keep the
	 * per-record policies the zone has for them. */
	if (r == 0) {
		char summary[HISTORY_SUMMARY_MAX];
		history_summary(summary, "roll back to version %llu (serial %u)",
				(unsigned long long)version, v.serial);
		struct zones_set_spec spec = { .records = target,
					       .soa = v.soa,
					       .noop = true,
					       .keep_policies = true,
					       .if_version = pin,
					       .action = "zone.rollback",
					       .summary = summary };
		r = zones_records_apply(w, zone_id, &spec, actor, res, err);
		*ret_changed = r == 0;
		r = r > 0 ? 0 : r;
	}
	if (r < 0 && err->text[0] == '\0')
		errmsg_set(err, r, "rolling back: %s", err_str(r));
	json_decref(target);
	store_version_clear(&v);
	store_zone_clear(&z);
	return r;
}

static int list_audit(const struct store_audit_entry *e, void *ctx)
{
	struct list_ctx *c = ctx;
	char when[32], zone[DNAME_TEXT_MAX];
	int r;

	if (!list_more(c, e->id, &r))
		return r;
	iso_time(e->created_at, when, sizeof(when));
	r = buf_printf(c->out, "{\"id\":%lld,\"time\":\"%s\",\"timestamp\":%lld", (long long)e->id,
		       when, (long long)e->created_at);
	if (r == 0)
		r = put_str(c->out, "actor", e->actor);
	if (r == 0)
		r = put_str(c->out, "action", e->action);
	if (e->zone != NULL) {
		size_t n = strlen(e->zone);
		snprintf(zone, sizeof(zone), "%.*s",
			 (int)(n > 1 && e->zone[n - 1] == '.' ? n - 1 : n), e->zone);
	}
	if (r == 0)
		r = put_str(c->out, "zone", e->zone != NULL ? zone : NULL);
	if (r == 0 && e->zone_id != 0)
		r = buf_printf(c->out, ",\"zoneId\":%lld", (long long)e->zone_id);
	else if (r == 0)
		r = buf_puts(c->out, ",\"zoneId\":null");
	if (r == 0 && e->version != 0)
		r = buf_printf(c->out, ",\"version\":%llu", (unsigned long long)e->version);
	else if (r == 0)
		r = buf_puts(c->out, ",\"version\":null");
	/* A token's name and role are for admins, who alone may list
	 * tokens. The entry stays, so that pages hold what they say. */
	bool hide = !c->admin && e->action != NULL && strncmp(e->action, "token.", 6) == 0;
	if (r == 0)
		r = put_str(c->out, "summary", hide ? NULL : e->summary);
	return r == 0 ? buf_puts(c->out, "}") : r;
}

int history_audit(struct whm *w, const struct store_audit_filter *f, bool admin, struct buf *out,
		  struct errmsg *err)
{
	struct store *st = whm_store(w);
	struct list_ctx c = { .out = out, .left = f->limit, .admin = admin };
	struct store_audit_filter more = *f;

	err->text[0] = '\0';
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	more.limit = f->limit + 1; /* one more: whether a next page exists */
	int r = buf_puts(out, "{\"entries\":[");
	if (r == 0)
		r = store_audit_foreach(st, &more, list_audit, &c);
	if (r >= 0)
		r = list_end(&c);
	if (r < 0)
		return errmsg_set(err, r, "reading the audit log: %s", err_str(r));
	return 0;
}
