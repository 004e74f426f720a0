/* The history routes: a zone's versions, the records at one, the diff of
 * two, rollback, and the audit log. Read tokens may read them all; only
 * admin tokens roll back. A version, a limit or a filter that cannot be
 * read is a malformed request (400): BAD is its code here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_internal.h"
#include "base/err.h"
#include "history.h"
#include "json/jsonx.h"

#define PAGE_DEFAULT 100
#define BAD ERR_MALFORMED

/* ?limit= (1..HISTORY_PAGE_MAX, default PAGE_DEFAULT): a larger one is
 * refused with the bound, not cut silently. */
static int page_limit(struct http_request *req, struct http_reply *rep, unsigned *ret)
{
	uint64_t v = PAGE_DEFAULT;
	int r = api_query_number(req, rep, "limit", 1, HISTORY_PAGE_MAX, BAD, &v);
	if (r == BAD)
		return r;
	*ret = (unsigned)v;
	return 0;
}

/* An optional version or id argument: 0 when absent. */
static int query_id(struct http_request *req, struct http_reply *rep, const char *name,
		    uint64_t *ret)
{
	*ret = 0;
	int r = api_query_number(req, rep, name, 1, INT64_MAX, BAD, ret);
	return r == -ENOENT ? 0 : r;
}

/* Path parameter 1 as a version. */
static int path_version(struct http_request *req, struct http_reply *rep, uint64_t *ret)
{
	const char *t = http_request_param(req, 1);
	char *end;
	errno = 0;
	unsigned long long v = strtoull(t, &end, 10);
	if (t[0] < '1' || t[0] > '9' || *end != '\0' || errno != 0 || v > INT64_MAX) {
		http_reply_error(rep, BAD, "the version must be a positive integer");
		return BAD;
	}
	*ret = v;
	return 0;
}

static void reply(struct http_reply *rep, int r, json_t *out, const struct errmsg *err)
{
	if (r < 0)
		api_reply_error(rep, r, err->text);
	else
		http_reply_json(rep, 200, out);
}

/* A listing written as text (history.h), or its error. */
static void reply_buf(struct http_reply *rep, int r, struct buf *out, const struct errmsg *err)
{
	if (r < 0)
		api_reply_error(rep, r, err->text);
	else
		api_reply_buf(rep, NULL, out);
	buf_free(out);
}

/* GET /api/dns/:id/versions[?limit=N&before=V] */
void api_versions_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;
	struct buf out;
	unsigned limit;
	uint64_t before;
	int64_t id;

	if (api_path_id(req, rep, 0, &id) < 0 || page_limit(req, rep, &limit) < 0 ||
	    query_id(req, rep, "before", &before) < 0)
		return;
	buf_init(&out, SIZE_MAX);
	int r = history_versions(ctx, id, before, limit, &out, &err);
	reply_buf(rep, r, &out, &err);
}

/* GET /api/dns/:id/versions/:version */
void api_version_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;
	uint64_t v;
	int64_t id;
	json_t *out = NULL;

	if (api_path_id(req, rep, 0, &id) < 0 || path_version(req, rep, &v) < 0)
		return;
	int r = history_version(ctx, id, v, &out, &err);
	reply(rep, r, out, &err);
}

/* GET /api/dns/:id/diff?from=V[&to=W] (to: the current version) */
void api_zone_diff(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;
	uint64_t from = 0, to = 0;
	int64_t id;
	json_t *out = NULL;

	if (api_path_id(req, rep, 0, &id) < 0 || query_id(req, rep, "from", &from) < 0 ||
	    query_id(req, rep, "to", &to) < 0)
		return;
	if (from == 0) {
		http_reply_error(rep, BAD, "from: the version to compare from is required");
		return;
	}
	if (to != 0 && from > to) {
		http_reply_error(rep, BAD, "from must not be above to");
		return;
	}
	int r = history_diff(ctx, id, from, to, &out, &err);
	reply(rep, r, out, &err);
}

static const char *const rollback_keys[] = { "version", NULL };

/* POST /api/dns/:id/rollback {"version": V}: a new version with the
 * content of V, or a 200 that says nothing changed when the zone already
 * has that content. */
void api_zone_rollback(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;
	struct zone_result res = { 0 };
	uint64_t version = 0;
	bool changed = false;
	int64_t id;
	json_t *b;

	if (!api_may_write(req, rep) || api_path_id(req, rep, 0, &id) < 0 ||
	    api_body_object(req, rep, &b) < 0)
		return;
	int r = jsonx_check_keys(b, rollback_keys, "body", &err);
	if (r == 0)
		r = jsonx_get_uint(b, "version", true, 1, INT64_MAX, "body", &version, &err);
	if (r == ERR_INVALID)
		r = BAD; /* not a version: as a bad ?from= is */
	json_decref(b);
	if (r == 0)
		r = history_rollback(ctx, id, version, api_actor(req), &res, &changed, &err);
	if (r < 0) {
		api_reply_error(rep, r, err.text);
		return;
	}
	char message[128];
	if (changed)
		snprintf(message, sizeof(message), "zone rolled back to version %llu",
			 (unsigned long long)version);
	else
		snprintf(message, sizeof(message),
			 "the zone already has the content of version %llu; nothing changed",
			 (unsigned long long)version);
	api_reply_change(
	    ctx, req, rep, 200, message, &res,
	    json_pack("{s:b,s:I}", "changed", changed, "rolledBackTo", (json_int_t)version));
}

/* Whether 'text' has the shape of 'pattern', where '9' stands for a digit. */
static bool shaped(const char *text, const char *pattern)
{
	for (; *pattern != '\0'; text++, pattern++)
		if (*pattern == '9' ? *text < '0' || *text > '9' : *text != *pattern)
			return false;
	return *text == '\0';
}

/* The number the 'n' digits at 's' write (shaped() checked them). */
static int digits(const char *s, int n)
{
	int v = 0;
	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

/* UTC as 2026-01-31T12:00:00Z or 2026-01-31 (midnight) into Unix seconds. */
static bool parse_utc(const char *text, int64_t *ret)
{
	struct tm tm = { 0 };
	bool full = shaped(text, "9999-99-99T99:99:99Z");
	if (!full && !shaped(text, "9999-99-99"))
		return false;
	tm.tm_year = digits(text, 4);
	tm.tm_mon = digits(text + 5, 2);
	tm.tm_mday = digits(text + 8, 2);
	if (full) {
		tm.tm_hour = digits(text + 11, 2);
		tm.tm_min = digits(text + 14, 2);
		tm.tm_sec = digits(text + 17, 2);
	}
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = tm.tm_year % 4 == 0 && (tm.tm_year % 100 != 0 || tm.tm_year % 400 == 0);
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > days[tm.tm_mon - 1] || (tm.tm_mon == 2 && tm.tm_mday == 29 && !leap) ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ret = (int64_t)timegm(&tm);
	return true;
}

/* A time argument: Unix seconds or parse_utc()'s forms; 0 (*ret set),
 * -ENOENT when absent, or BAD answered. */
static int query_time(struct http_request *req, struct http_reply *rep, const char *name,
		      int64_t *ret)
{
	char text[32], msg[160];
	uint64_t v;
	int r = http_request_query(req, name, text, sizeof(text));
	if (r == -ENOENT)
		return r;
	if (r == 0 && text[0] != '\0' && strspn(text, "0123456789") == strlen(text)) {
		r = api_query_number(req, rep, name, 1, INT64_MAX, BAD, &v);
		if (r == 0)
			*ret = (int64_t)v;
		return r;
	}
	if (r == 0 && parse_utc(text, ret))
		return 0;
	snprintf(msg, sizeof(msg),
		 "%s: Unix seconds, or a UTC time as 2026-01-31T12:00:00Z or 2026-01-31", name);
	http_reply_error(rep, BAD, msg);
	return BAD;
}

/* A text argument of at most 'max' printable characters: 0, -ENOENT when
 * absent, or BAD answered. */
static int query_text(struct http_request *req, struct http_reply *rep, const char *name, char *out,
		      size_t len)
{
	int r = http_request_query(req, name, out, len);
	if (r == -ENOENT)
		return r;
	if (r < 0 || !api_printable(out, 1, len - 1, "")) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%s: 1 to %zu printable ASCII characters", name,
			 len - 1);
		http_reply_error(rep, BAD, msg);
		return BAD;
	}
	return 0;
}

/* GET /api/dns/audit[?zone=&actor=&action=&since=&until=&before=&limit=] */
void api_audit_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	char zone[4 * DNAME_TEXT_MAX], origin[DNAME_TEXT_MAX], actor[256], action[65];
	struct store_audit_filter f = { 0 };
	struct errmsg err;
	uint64_t before = 0;
	int r;

	if (page_limit(req, rep, &f.limit) < 0 || query_id(req, rep, "before", &before) < 0)
		return;
	f.before = (int64_t)before;
	/* A zone as people write it too (U-labels): the name's own rules
	 * check it. */
	if ((r = http_request_query(req, "zone", zone, sizeof(zone))) < 0 && r != -ENOENT) {
		http_reply_error(rep, BAD, "zone: not a zone name");
		return;
	}
	if (r == 0) {
		struct errmsg derr;
		if (dname_zone_normalize(zone, origin, &derr) < 0) {
			errmsg_set(&err, 0, "zone: %s", derr.text);
			http_reply_error(rep, BAD, err.text);
			return;
		}
		f.zone = origin;
	}
	if ((r = query_text(req, rep, "actor", actor, sizeof(actor))) == BAD)
		return;
	f.actor = r == 0 ? actor : NULL;
	if ((r = query_text(req, rep, "action", action, sizeof(action))) == BAD)
		return;
	f.action = r == 0 ? action : NULL;
	if (query_time(req, rep, "since", &f.since) == BAD ||
	    query_time(req, rep, "until", &f.until) == BAD)
		return;
	if (f.since > 0 && f.until > 0 && f.since > f.until) {
		http_reply_error(rep, BAD, "since must not be after until");
		return;
	}
	struct buf out;
	buf_init(&out, SIZE_MAX);
	r = history_audit(ctx, &f, api_is_admin(req), &out, &err);
	reply_buf(rep, r, &out, &err);
}
