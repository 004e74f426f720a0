#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "dnssec.h"
#include "base/err.h"
#include "base/log.h"
#include "events.h"
#include "json/jsonx.h"
#include "base/secret.h"
#include "metrics.h"
#include "sync.h"
#include "transfer.h"
#include "ui.h"
#include "verify.h"
#include "zones.h"

#define SECRET_MIN 32

bool api_authorize(struct http_request *req, void *ctx)
{
	struct whm *w = ctx;
	char hash[65];

	/* The dashboard's files are public; the API calls it makes are not. */
	if (ui_path(http_request_method(req), http_request_path(req)))
		return true;
	if (http_request_header_count(req, "Authorization") != 1)
		return false;
	const char *h = http_request_header(req, "Authorization");
	/* RFC 9110 section 11.1: the scheme is case-insensitive. */
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0' || strlen(h + 7) > 200)
		return false;
	/* Only the SHA-256 of a token is stored; looking it up by hash leaks
	 * nothing about the token through timing. */
	if (secret_sha256_hex(h + 7, hash) < 0)
		return false;
	struct store *st = whm_store(w);
	char role[16];
	int64_t id;
	if (st == NULL || store_token_find(st, hash, role, &id) < 0)
		return false;
	http_request_set_principal(req, id, role);
	return true;
}

static bool is_admin(const struct http_request *req)
{
	return strcmp(http_request_principal_role(req), "admin") == 0;
}

/* Writes need an admin token. */
static bool may_write(struct http_request *req, struct http_reply *rep)
{
	if (is_admin(req))
		return true;
	http_reply_error(rep, ERR_FORBIDDEN, "this token may only read");
	return false;
}

/* For the audit log; valid until the handler returns. */
static const char *actor(const struct http_request *req)
{
	static __thread char who[32];
	snprintf(who, sizeof(who), "token:%lld", (long long)http_request_principal_id(req));
	return who;
}

/* Whether 's' is 'min' to 'max' printable ASCII characters (no control
 * bytes that a terminal or a log would act on), none of them in 'refused'. */
static bool printable(const char *s, size_t min, size_t max, const char *refused)
{
	size_t n = strlen(s);
	if (n < min || n > max || strpbrk(s, refused) != NULL)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static int path_id(struct http_request *req, struct http_reply *rep, unsigned i, int64_t *ret)
{
	const char *t = http_request_param(req, i);
	char *end;
	errno = 0;
	long long v = strtoll(t, &end, 10);
	if (t[0] < '1' || t[0] > '9' || *end != '\0' || errno != 0 || v <= 0) {
		http_reply_error(rep, ERR_INVALID, "the id must be a positive integer");
		return ERR_INVALID;
	}
	*ret = v;
	return 0;
}

static int body_object(struct http_request *req, struct http_reply *rep, json_t **ret)
{
	char err[JSONX_ERR_MAX];
	const struct buf *b = http_request_body(req);
	int r = jsonx_parse(b->data ? b->data : "", b->len, ret, err);
	if (r < 0) {
		http_reply_error(rep, r, err);
		return r;
	}
	if (!json_is_object(*ret)) {
		json_decref(*ret);
		http_reply_error(rep, ERR_INVALID, "body must be a JSON object");
		return ERR_INVALID;
	}
	return 0;
}

static struct store *store_or_503(struct whm *w, struct http_reply *rep)
{
	struct store *st = whm_store(w);
	if (st == NULL)
		http_reply_error(rep, ERR_UNAVAILABLE, "the store is unavailable");
	return st;
}

/* Reply to a change: its result, and with ?wait=all the nodes' answers. */
static void reply_change_extra(struct whm *w, struct http_request *req, struct http_reply *rep,
			       unsigned status, const char *message, const struct zone_result *res,
			       json_t *extra)
{
	char wait[16];
	json_t *j = json_pack("{s:b,s:s,s:I,s:I,s:I}", "success", 1, "message", message, "zoneId",
			      (json_int_t)res->zone_id, "version", (json_int_t)res->version,
			      "serial", (json_int_t)res->serial);
	if (extra != NULL)
		json_object_update(j, extra);
	json_decref(extra);
	if (res->record_id > 0)
		json_object_set_new(j, "id", json_integer(res->record_id));
	if (http_request_query(req, "wait", wait, sizeof(wait)) == 0 && strcmp(wait, "all") == 0) {
		json_t *nodes = NULL;
		int r = sync_wait(w->sync, res->zone_id, res->version,
				  (long)w->conf.wait_timeout_ms, &nodes);
		json_object_set_new(j, "synced", json_boolean(r == 0));
		json_object_set_new(j, "nodes", nodes ? nodes : json_array());
	}
	http_reply_json(rep, status, j);
}

static void reply_change(struct whm *w, struct http_request *req, struct http_reply *rep,
			 unsigned status, const char *message, const struct zone_result *res)
{
	reply_change_extra(w, req, rep, status, message, res, NULL);
}

/* A change named by the path's id and described by the body. */
typedef int (*body_change_fn)(struct whm *w, int64_t id, const json_t *body, const char *actor,
			      struct zone_result *res, char *err);

static void body_change(struct http_request *req, struct http_reply *rep, struct whm *w,
			body_change_fn fn, unsigned status, const char *message)
{
	char err[ZONES_ERR_MAX];
	struct zone_result res = { 0 };
	int64_t id;
	json_t *b;

	if (!may_write(req, rep) || path_id(req, rep, 0, &id) < 0 || body_object(req, rep, &b) < 0)
		return;
	int r = fn(w, id, b, actor(req), &res, err);
	json_decref(b);
	if (r < 0) {
		http_reply_error(rep, r, err);
		return;
	}
	reply_change(w, req, rep, status, message, &res);
}

/* A change named by the path's id alone. */
typedef int (*id_change_fn)(struct whm *w, int64_t id, const char *actor, struct zone_result *res,
			    char *err);

static void id_change(struct http_request *req, struct http_reply *rep, struct whm *w,
		      id_change_fn fn, const char *message)
{
	char err[ZONES_ERR_MAX];
	struct zone_result res = { 0 };
	int64_t id;

	if (!may_write(req, rep) || path_id(req, rep, 0, &id) < 0)
		return;
	int r = fn(w, id, actor(req), &res, err);
	if (r < 0) {
		http_reply_error(rep, r, err);
		return;
	}
	reply_change(w, req, rep, 200, message, &res);
}

/* --- zones ------------------------------------------------------------------ */

/* A query argument that must be a whole number in [min, max] when given:
 * 0 (*ret set), -ENOENT when absent, or ERR_INVALID with the reply sent. */
static int query_uint(struct http_request *req, struct http_reply *rep, const char *name,
		      uint64_t min, uint64_t max, uint64_t *ret)
{
	char text[24], *end = text;
	int r = http_request_query(req, name, text, sizeof(text));
	if (r == -ENOENT)
		return r;
	errno = 0;
	unsigned long long v = r == 0 ? strtoull(text, &end, 10) : 0;
	if (r < 0 || text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max) {
		char err[128];
		snprintf(err, sizeof(err), "%s must be a whole number from %llu to %llu", name,
			 (unsigned long long)min, (unsigned long long)max);
		http_reply_error(rep, ERR_INVALID, err);
		return ERR_INVALID;
	}
	*ret = v;
	return 0;
}

#define LIST_LIMIT_MAX 10000

struct list_ctx {
	struct store *st;
	struct buf out;
	uint64_t left; /* zones still wanted */
	bool first;
};

static int list_zone(const struct store_zone *z, void *ctx)
{
	struct list_ctx *c = ctx;
	uint64_t n = 0;
	if (c->left == 0)
		return 1;
	int r = store_record_count(c->st, z->id, &n);
	json_t *j = r == 0 ? zones_zone_json(z, n) : NULL;
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	if (r == 0)
		r = text == NULL ? -ENOMEM : buf_puts(&c->out, c->first ? "" : ",");
	if (r == 0)
		r = buf_puts(&c->out, text);
	free(text);
	json_decref(j);
	c->first = false;
	c->left--;
	return r;
}

/* GET /api/dns[?limit=N&after=ID]: the live zones in id order, all of them
 * or a page of N after zone ID (the next page starts after the last id).
 * The answer is written as text zone by zone: 100,000 zones cost their
 * text, about 25 MB, not a JSON tree of them (150 MB). */
static void zones_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = store_or_503(ctx, rep);
	struct list_ctx c = { st, { 0 }, UINT64_MAX, true };
	uint64_t after = 0;
	int r;

	if (st == NULL)
		return;
	if (query_uint(req, rep, "limit", 1, LIST_LIMIT_MAX, &c.left) == ERR_INVALID ||
	    query_uint(req, rep, "after", 0, INT64_MAX, &after) == ERR_INVALID)
		return;
	buf_init(&c.out, SIZE_MAX);
	r = buf_puts(&c.out, "[");
	if (r == 0)
		r = store_zone_foreach_after(st, false, (int64_t)after, list_zone, &c);
	if (r >= 0)
		r = buf_puts(&c.out, "]");
	if (r < 0) {
		buf_free(&c.out);
		http_reply_error(rep, r, "cannot list zones");
		return;
	}
	size_t len = c.out.len;
	http_reply_take(rep, 200, NULL, buf_take(&c.out), len);
}

static const char *const zone_create_keys[] = { "domain", "serverId", "userId", NULL };

static void zone_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char err[ZONES_ERR_MAX];
	const char *domain;
	uint64_t server_id = 0, user_id = 0;
	struct zone_result res = { 0 };
	json_t *b;

	if (!may_write(req, rep) || body_object(req, rep, &b) < 0)
		return;
	int r = jsonx_check_keys(b, zone_create_keys, "body", err);
	if (r == 0)
		r = jsonx_get_str(b, "domain", true, "body", &domain, err);
	if (r == 0) {
		r = jsonx_get_uint(b, "serverId", false, 1, INT64_MAX, "body", &server_id, err);
		r = r == -ENOENT ? 0 : r;
	}
	if (r == 0) {
		r = jsonx_get_uint(b, "userId", false, 0, INT64_MAX, "body", &user_id, err);
		r = r == -ENOENT ? 0 : r;
	}
	if (r == 0)
		r = zones_create(w, domain, (int64_t)server_id, (int64_t)user_id, actor(req), &res,
				 err);
	json_decref(b);
	if (r < 0) {
		http_reply_error(rep, r, err);
		return;
	}
	reply_change(w, req, rep, 201, "zone created", &res);
}

static void zone_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = store_or_503(ctx, rep);
	struct store_zone z;
	int64_t id;
	uint64_t n = 0;

	if (st == NULL || path_id(req, rep, 0, &id) < 0)
		return;
	int r = store_zone_get(st, id, &z);
	if (r == 0 && z.deleted) {
		store_zone_clear(&z);
		r = -ENOENT;
	}
	if (r < 0) {
		http_reply_error(rep, r == -ENOENT ? ERR_NOT_FOUND : r, "no such zone");
		return;
	}
	r = store_record_count(st, id, &n);
	if (r == 0)
		http_reply_json(rep, 200, zones_zone_json(&z, n));
	else
		http_reply_error(rep, r, "cannot count the zone's records");
	store_zone_clear(&z);
}

static void zone_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	id_change(req, rep, ctx, zones_delete, "zone deleted");
}

/* --- records --------------------------------------------------------------- */

static int list_record(const struct store_record *r, void *ctx)
{
	return json_array_append_new(ctx, zones_record_json(r)) ? -ENOMEM : 0;
}

static void records_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = store_or_503(ctx, rep);
	struct store_zone z;
	int64_t id;

	if (st == NULL || path_id(req, rep, 0, &id) < 0)
		return;
	int r = store_zone_get(st, id, &z);
	if (r == 0) {
		r = z.deleted ? -ENOENT : 0;
		store_zone_clear(&z);
	}
	if (r < 0) {
		http_reply_error(rep, r == -ENOENT ? ERR_NOT_FOUND : r, "no such zone");
		return;
	}
	json_t *out = json_array();
	r = store_record_foreach(st, id, list_record, out);
	if (r < 0) {
		json_decref(out);
		http_reply_error(rep, r, "cannot list records");
		return;
	}
	http_reply_json(rep, 200, out);
}

static void record_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	body_change(req, rep, ctx, zones_record_add, 201, "record created");
}

static const char *const replace_keys[] = { "records", NULL };

static int replace_records(struct whm *w, int64_t id, const json_t *b, const char *who,
			   struct zone_result *res, char *err)
{
	json_t *records = NULL;
	int r = jsonx_check_keys(b, replace_keys, "body", err);
	if (r == 0)
		r = jsonx_get_array(b, "records", true, "body", &records, err);
	if (r == 0 && json_array_size(records) > w->conf.max_zone_records) {
		snprintf(err, ZONES_ERR_MAX, "records: more than %llu records",
			 (unsigned long long)w->conf.max_zone_records);
		r = ERR_TOO_LARGE;
	}
	return r < 0 ? r : zones_records_replace(w, id, records, who, res, err);
}

static void records_replace(struct http_request *req, struct http_reply *rep, void *ctx)
{
	body_change(req, rep, ctx, replace_records, 200, "records replaced");
}

static void record_update(struct http_request *req, struct http_reply *rep, void *ctx)
{
	body_change(req, rep, ctx, zones_record_update, 200, "record updated");
}

static void record_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	id_change(req, rep, ctx, zones_record_delete, "record deleted");
}

/* --- import and export --------------------------------------------------------- */

static const char *const import_keys[] = { "content", "bindData",   "format",
					   "mode",    "replaceAll", NULL };

/* POST /api/dns/:id/import: {"content" (or the panel's "bindData"),
 * "format": "bind"|"route53", "mode": "merge"|"replace" (or the panel's
 * "replaceAll")}. */
static void zone_import(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char err[ZONES_ERR_MAX] = "out of memory";
	const char *format = "bind", *mode = NULL;
	bool replace_all = false, have_replace_all = false;
	struct transfer_result res;
	json_t *b, *content, *errors = NULL;
	char *dumped = NULL;
	int64_t id;

	if (!may_write(req, rep) || path_id(req, rep, 0, &id) < 0 || body_object(req, rep, &b) < 0)
		return;
	int r = jsonx_check_keys(b, import_keys, "body", err);
	if (r == 0 && (r = jsonx_get_str(b, "format", false, "body", &format, err)) == -ENOENT)
		r = 0;
	if (r == 0 && (r = jsonx_get_str(b, "mode", false, "body", &mode, err)) == -ENOENT)
		r = 0;
	if (r == 0) {
		r = jsonx_get_bool(b, "replaceAll", false, "body", &replace_all, err);
		have_replace_all = r == 0;
		r = r == -ENOENT ? 0 : r;
	}
	content = json_object_get(b, "content");
	if (content != NULL && json_object_get(b, "bindData") != NULL) {
		snprintf(err, sizeof(err), "body: give content or bindData, not both");
		r = ERR_INVALID;
	}
	if (content == NULL)
		content = json_object_get(b, "bindData");
	enum transfer_format fmt = TRANSFER_BIND;
	if (r == 0 && strcmp(format, "route53") == 0)
		fmt = TRANSFER_ROUTE53;
	else if (r == 0 && strcmp(format, "bind") != 0) {
		snprintf(err, sizeof(err), "body.format: bind or route53");
		r = ERR_INVALID;
	}
	if (r == 0 && mode != NULL && strcmp(mode, "merge") != 0 && strcmp(mode, "replace") != 0) {
		snprintf(err, sizeof(err), "body.mode: merge or replace");
		r = ERR_INVALID;
	}
	if (r == 0 && mode != NULL && have_replace_all &&
	    replace_all != (strcmp(mode, "replace") == 0)) {
		snprintf(err, sizeof(err), "body: mode and replaceAll disagree");
		r = ERR_INVALID;
	}
	const char *text = NULL;
	if (r == 0 && json_is_string(content)) {
		text = json_string_value(content);
	} else if (r == 0 && fmt == TRANSFER_ROUTE53 &&
		   (json_is_object(content) || json_is_array(content))) {
		dumped = json_dumps(content, JSON_COMPACT);
		text = dumped;
		if (dumped == NULL)
			r = -ENOMEM;
	} else if (r == 0) {
		snprintf(err, sizeof(err),
			 fmt == TRANSFER_BIND
			     ? "body.content: the zone file as a string"
			     : "body.content: the Route 53 ResourceRecordSets as JSON or a string");
		r = ERR_INVALID;
	}
	bool merge = mode != NULL ? strcmp(mode, "merge") == 0 : !replace_all;
	if (r == 0)
		r = transfer_import(w, id, fmt, text, strlen(text), merge, actor(req), &res,
				    &errors, err);
	free(dumped);
	json_decref(b);
	if (r < 0) {
		json_t *j = json_pack("{s:s}", "error", err);
		if (errors != NULL)
			json_object_set_new(j, "errors", errors);
		http_reply_json(rep, err_http_status(r), j);
		return;
	}
	json_t *extra = json_pack("{s:I,s:s}", "imported", (json_int_t)res.imported, "mode",
				  merge ? "merge" : "replace");
	if (res.soa_seen)
		json_object_set_new(extra, "soa",
				    json_pack("{s:b,s:I,s:s}", "ignored", 1, "fileSerial",
					      (json_int_t)res.soa_serial, "note",
					      "the controller owns the SOA; its serial "
					      "moved past the file's"));
	reply_change_extra(w, req, rep, 200, "zone imported", &res.change, extra);
}

#define EXPORT_MAX (256u << 20)

/* A 200 with the content of 'out', which is emptied without a copy. */
static void reply_buf(struct http_reply *rep, const char *content_type, struct buf *out)
{
	size_t len = out->len;
	if (out->data == NULL)
		http_reply_text(rep, 200, content_type, "", 0);
	else
		http_reply_take(rep, 200, content_type, buf_take(out), len);
}

static void zone_export(struct http_request *req, struct http_reply *rep, void *ctx)
{
	char err[ZONES_ERR_MAX];
	struct buf out;
	int64_t id;

	if (path_id(req, rep, 0, &id) < 0)
		return;
	buf_init(&out, EXPORT_MAX);
	int r = transfer_export(ctx, id, &out, err);
	if (r < 0)
		http_reply_error(rep, r, err);
	else
		reply_buf(rep, "text/dns; charset=utf-8", &out);
	buf_free(&out);
}

/* --- API tokens ------------------------------------------------------------------ */

/* Tokens give full or read access to every zone: only admins see them. */
static bool admin_only(struct http_request *req, struct http_reply *rep)
{
	if (is_admin(req))
		return true;
	http_reply_error(rep, ERR_FORBIDDEN, "only an admin token may manage tokens");
	return false;
}

static int list_token(int64_t id, const char *name, const char *role, int64_t created_at,
		      bool revoked, void *ctx)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:b}", "id", (json_int_t)id, "name", name, "role",
			      role, "created_at", (json_int_t)created_at, "revoked", revoked);
	return o != NULL && json_array_append_new(ctx, o) == 0 ? 0 : -ENOMEM;
}

static void tokens_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	if (!admin_only(req, rep) || (st = store_or_503(ctx, rep)) == NULL)
		return;
	json_t *out = json_array();
	int r = store_token_foreach(st, list_token, out);
	if (r < 0) {
		json_decref(out);
		http_reply_error(rep, r, "cannot list tokens");
		return;
	}
	http_reply_json(rep, 200, out);
}

static const char *const token_keys[] = { "name", "role", NULL };

static void token_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	char err[JSONX_ERR_MAX], token[80], hash[65];
	const char *name = NULL, *role = NULL;
	int64_t id = 0;
	json_t *b;

	if (!admin_only(req, rep) || (st = store_or_503(ctx, rep)) == NULL ||
	    body_object(req, rep, &b) < 0)
		return;
	int r = jsonx_check_keys(b, token_keys, "body", err);
	if (r == 0)
		r = jsonx_get_str(b, "name", true, "body", &name, err);
	if (r == 0)
		r = jsonx_get_str(b, "role", true, "body", &role, err);
	if (r == 0 && !printable(name, 1, 63, "'\"")) {
		snprintf(err, sizeof(err),
			 "body.name: 1 to 63 printable ASCII characters, no quotes");
		r = ERR_INVALID;
	}
	if (r == 0 && strcmp(role, "admin") != 0 && strcmp(role, "read") != 0) {
		snprintf(err, sizeof(err), "body.role: admin or read");
		r = ERR_INVALID;
	}
	if (r < 0) {
		json_decref(b);
		http_reply_error(rep, r, err);
		return;
	}
	if (secret_random_hex(token, sizeof(token), 32) < 0 || secret_sha256_hex(token, hash) < 0) {
		json_decref(b);
		http_reply_error(rep, -EIO, "cannot make a token");
		return;
	}
	r = store_begin(st);
	if (r == 0)
		r = store_token_insert(st, name, hash, role, &id);
	if (r == 0)
		r = store_audit(st, actor(req), "token.create", 0, name);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		explicit_bzero(token, sizeof(token));
		json_decref(b);
		http_reply_error(rep, r, "cannot store the token");
		return;
	}
	/* The only time the token is shown: the store keeps its hash. */
	json_t *out =
	    json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)id, "name", name, "role", role,
		      "token", token, "note", "shown once; only its SHA-256 is stored");
	explicit_bzero(token, sizeof(token));
	json_decref(b);
	http_reply_json(rep, 201, out);
}

static void token_revoke(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	int64_t id;
	char detail[32];

	if (!admin_only(req, rep) || (st = store_or_503(ctx, rep)) == NULL ||
	    path_id(req, rep, 0, &id) < 0)
		return;
	snprintf(detail, sizeof(detail), "token %lld", (long long)id);
	int r = store_begin(st);
	if (r == 0)
		r = store_token_revoke(st, id);
	if (r == 0)
		r = store_audit(st, actor(req), "token.revoke", 0, detail);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		http_reply_error(rep, r == -ENOENT ? ERR_NOT_FOUND : r, "no such token");
		return;
	}
	http_reply_json(rep, 200,
			json_pack("{s:b,s:s,s:I}", "success", 1, "message", "token revoked", "id",
				  (json_int_t)id));
}

/* --- servers ------------------------------------------------------------------ */

/* A server as the API shows it: never its secret. */
static json_t *server_json(const struct store_server *s)
{
	return json_pack(
	    "{s:I,s:s,s:s,s:s,s:I,s:b,s:s,s:s?,s:I,s:I}", "id", (json_int_t)s->id, "name", s->name,
	    "hostname", s->hostname, "ip", s->ip, "agent_port", (json_int_t)s->agent_port,
	    "in_cluster", s->in_cluster, "status", s->status ? s->status : "unknown",
	    "pdns_version", s->pdns_version && s->pdns_version[0] ? s->pdns_version : NULL,
	    "last_seen", (json_int_t)s->last_seen, "created_at", (json_int_t)s->created_at);
}

static int list_server(const struct store_server *s, void *ctx)
{
	return json_array_append_new(ctx, server_json(s)) ? -ENOMEM : 0;
}

static void servers_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = store_or_503(ctx, rep);
	if (st == NULL)
		return;
	json_t *out = json_array();
	int r = store_server_foreach(st, false, list_server, out);
	if (r < 0) {
		json_decref(out);
		http_reply_error(rep, r, "cannot list servers");
		return;
	}
	http_reply_json(rep, 200, out);
}

static const char *const server_keys[] = { "name",	 "hostname",	 "ip",
					   "agent_port", "agent_secret", NULL };

/* Read and check a server body into 's' (strings borrowed from 'b'). */
static int server_from_body(const json_t *b, struct store_server *s, bool partial, char *err)
{
	const char *name = s->name, *host = s->hostname, *ip = s->ip, *secret = s->agent_secret;
	uint64_t port = s->agent_port;
	unsigned char bin[16];

	int r = jsonx_check_keys(b, server_keys, "body", err);
	if (r == 0 && (r = jsonx_get_str(b, "name", !partial, "body", &name, err)) == -ENOENT)
		r = 0;
	if (r == 0 && (r = jsonx_get_str(b, "hostname", false, "body", &host, err)) == -ENOENT)
		r = 0;
	if (r == 0 && (r = jsonx_get_str(b, "ip", !partial, "body", &ip, err)) == -ENOENT)
		r = 0;
	if (r == 0 && (r = jsonx_get_uint(b, "agent_port", !partial, 1, 65535, "body", &port,
					  err)) == -ENOENT)
		r = 0;
	if (r == 0 &&
	    (r = jsonx_get_str(b, "agent_secret", !partial, "body", &secret, err)) == -ENOENT)
		r = 0;
	if (r < 0)
		return r;
	if (name == NULL || !printable(name, 1, 63, " /\\'\"")) {
		snprintf(
		    err, JSONX_ERR_MAX,
		    "body.name: 1 to 63 printable ASCII characters, no spaces, slashes or quotes");
		return ERR_INVALID;
	}
	if (ip == NULL || (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1)) {
		snprintf(err, JSONX_ERR_MAX, "body.ip: must be a numeric IPv4 or IPv6 address");
		return ERR_INVALID;
	}
	if (secret == NULL || strlen(secret) < SECRET_MIN || strlen(secret) > 1024 ||
	    strpbrk(secret, "\r\n") != NULL) {
		snprintf(err, JSONX_ERR_MAX, "body.agent_secret: at least %d characters",
			 SECRET_MIN);
		return ERR_INVALID;
	}
	if (host != NULL && !printable(host, 0, 255, " '\"")) {
		snprintf(err, JSONX_ERR_MAX,
			 "body.hostname: at most 255 printable ASCII characters, no spaces");
		return ERR_INVALID;
	}
	s->name = (char *)name;
	s->hostname = (char *)(host ? host : name);
	s->ip = (char *)ip;
	s->agent_port = (uint32_t)port;
	s->agent_secret = (char *)secret;
	return 0;
}

static void server_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	char err[JSONX_ERR_MAX];
	struct store_server s = { .status = "unknown", .pdns_version = "", .last_error = "" };
	json_t *b;

	if (!may_write(req, rep) || (st = store_or_503(w, rep)) == NULL ||
	    body_object(req, rep, &b) < 0)
		return;
	int r = server_from_body(b, &s, false, err);
	if (r < 0) {
		json_decref(b);
		http_reply_error(rep, r, err);
		return;
	}
	s.created_at = whm_now();
	r = store_begin(st);
	if (r == 0)
		r = store_server_insert(st, &s);
	if (r == 0)
		r = store_audit(st, actor(req), "server.create", 0, s.name);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		json_decref(b);
		http_reply_error(rep, r,
				 r == ERR_CONFLICT ? "a server with that name exists" : NULL);
		return;
	}
	json_t *out = server_json(&s);
	json_decref(b);
	http_reply_json(rep, 201, out);
}

static void server_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = store_or_503(ctx, rep);
	struct store_server s;
	int64_t id;
	if (st == NULL || path_id(req, rep, 0, &id) < 0)
		return;
	int r = store_server_get(st, id, &s);
	if (r < 0) {
		http_reply_error(rep, r == -ENOENT ? ERR_NOT_FOUND : r, "no such server");
		return;
	}
	http_reply_json(rep, 200, server_json(&s));
	store_server_clear(&s);
}

static void server_update(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_server s;
	char err[JSONX_ERR_MAX];
	int64_t id;
	json_t *b;

	if (!may_write(req, rep) || (st = store_or_503(w, rep)) == NULL ||
	    path_id(req, rep, 0, &id) < 0 || body_object(req, rep, &b) < 0)
		return;
	int r = store_begin(st);
	if (r == 0)
		r = store_server_get(st, id, &s);
	if (r < 0) {
		store_rollback(st);
		json_decref(b);
		http_reply_error(rep, r == -ENOENT ? ERR_NOT_FOUND : r, "no such server");
		return;
	}
	struct store_server upd = s;
	r = server_from_body(b, &upd, true, err);
	if (r == 0)
		r = store_server_update(st, &upd);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		http_reply_error(rep, r, err[0] ? err : NULL);
	} else {
		http_reply_json(rep, 200, server_json(&upd));
		sync_nodes_changed(w->sync);
	}
	json_decref(b);
	store_server_clear(&s);
}

static void server_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	int64_t id;

	if (!may_write(req, rep) || (st = store_or_503(w, rep)) == NULL ||
	    path_id(req, rep, 0, &id) < 0)
		return;
	int r = store_begin(st);
	if (r == 0)
		r = store_server_delete(st, id);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		http_reply_error(rep, r == -ENOENT ? ERR_NOT_FOUND : r, "no such server");
		return;
	}
	sync_nodes_changed(w->sync);
	http_reply_json(rep, 200,
			json_pack("{s:b,s:s}", "success", 1, "message", "server deleted"));
}

/* --- cluster ------------------------------------------------------------------------ */

struct status_ctx {
	struct whm *w;
	struct store *st;
	json_t *nodes;
	unsigned online, offline;
};

static int node_status(const struct store_server *s, void *ctx)
{
	struct status_ctx *c = ctx;
	struct node_health h;
	struct store_sync_summary sum = { 0 };

	sync_node_health(c->w->sync, s->id, &h);
	uint64_t live = verify_live_zones(c->w);
	store_sync_summary(c->st, s->id, &live, &sum);
	const char *state = !h.known	     ? "unknown"
			    : !h.reachable   ? "offline"
			    : h.pdns_running ? "online"
					     : "degraded";
	if (h.known && h.pdns_running)
		c->online++;
	else
		c->offline++;
	json_t *o = json_pack(
	    "{s:I,s:s,s:s,s:s,s:{s:b,s:b,s:s?,s:I},s:{s:I,s:I,s:I,s:I},s:I,s:f,s:s?,s:I}", "nodeId",
	    (json_int_t)s->id, "hostname", s->hostname, "ip", s->ip, "status", state, "dnsStatus",
	    "reachable", h.reachable, "running", h.pdns_running, "version",
	    h.pdns_version[0] ? h.pdns_version : NULL, "restarts", (json_int_t)h.pdns_restarts,
	    "zones", "in_sync", (json_int_t)sum.in_sync, "behind", (json_int_t)sum.behind,
	    "failing", (json_int_t)sum.failing, "drift", (json_int_t)h.drift, "lag_seconds",
	    (json_int_t)(sum.oldest_pending ? whm_now() - sum.oldest_pending : 0), "responseTime",
	    h.response_ms, "lastError", h.error[0] ? h.error : sum.last_error, "lastCheck",
	    (json_int_t)h.last_check);
	free(sum.last_error);
	return json_array_append_new(c->nodes, o) ? -ENOMEM : 0;
}

static void cluster_status(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st = store_or_503(w, rep);
	if (st == NULL)
		return;
	struct status_ctx c = { w, st, json_array(), 0, 0 };
	int r = store_server_foreach(st, true, node_status, &c);
	if (r < 0) {
		json_decref(c.nodes);
		http_reply_error(rep, r, "cannot read the cluster");
		return;
	}
	http_reply_json(rep, 200,
			json_pack("{s:I,s:I,s:I,s:o}", "totalNodes",
				  (json_int_t)json_array_size(c.nodes), "onlineNodes",
				  (json_int_t)c.online, "offlineNodes", (json_int_t)c.offline,
				  "nodes", c.nodes));
}

/* Totals from the store, and per node what its agent reports (zones,
 * records and PowerDNS's counters), fetched from every node at once. */
static void cluster_statistics(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st = store_or_503(w, rep);
	uint64_t zones = 0, records = 0;
	json_t *agents = NULL;
	if (st == NULL)
		return;
	struct status_ctx c = { w, st, json_array(), 0, 0 };
	int r = store_zone_counts(st, &zones, &records);
	if (r == 0)
		r = store_server_foreach(st, true, node_status, &c);
	if (r == 0)
		r = sync_agents_get(w->sync, "/api/dns/statistics", 1500, &agents);
	if (r < 0) {
		json_decref(c.nodes);
		http_reply_error(rep, r, "cannot read statistics");
		return;
	}
	static const char *const counters[] = { "queries", "answers", "cache_hits", "cache_misses",
						NULL };
	json_t *totals = json_object();
	size_t i;
	json_t *node;
	uint64_t served = 0;
	json_array_foreach(c.nodes, i, node) {
		char key[24];
		snprintf(key, sizeof(key), "%lld",
			 (long long)json_integer_value(json_object_get(node, "nodeId")));
		json_t *a = json_object_get(agents, key);
		json_object_set(node, "statistics", a ? a : json_null());
		served += (uint64_t)json_integer_value(json_object_get(a, "zones"));
		for (const char *const *k = counters; *k != NULL; k++)
			json_object_set_new(
			    totals, *k,
			    json_integer(json_integer_value(json_object_get(totals, *k)) +
					 json_integer_value(json_object_get(a, *k))));
	}
	json_decref(agents);
	size_t n = json_array_size(c.nodes);
	http_reply_json(rep, 200,
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:o,s:o}", "totalZones",
				  (json_int_t)zones, "totalRecords", (json_int_t)records,
				  "clusterNodes", (json_int_t)n, "onlineNodes",
				  (json_int_t)c.online, "offlineNodes", (json_int_t)c.offline,
				  "averageZonesPerNode", n ? (double)served / (double)n : 0.0,
				  "queries", totals, "nodes", c.nodes));
}

static void cluster_health(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	json_t *results;
	int r = sync_health_sweep(w->sync, 1500, &results);
	if (r < 0) {
		http_reply_error(rep, r, NULL);
		return;
	}
	size_t i, healthy = 0;
	json_t *o;
	json_array_foreach(results, i, o)
		healthy += json_is_true(json_object_get(o, "healthy"));
	http_reply_json(rep, 200,
			json_pack("{s:I,s:I,s:I,s:o}", "timestamp", (json_int_t)whm_now(),
				  "totalNodes", (json_int_t)json_array_size(results),
				  "healthyNodes", (json_int_t)healthy, "results", results));
}

/* Join or leave the cluster. */
static void cluster_node_set(struct http_request *req, struct http_reply *rep, void *ctx, bool join)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_server s = { 0 };
	char purge[8] = "";
	int64_t id;

	if (!may_write(req, rep) || (st = store_or_503(w, rep)) == NULL ||
	    path_id(req, rep, 0, &id) < 0)
		return;
	int r = http_request_query(req, "purge", purge, sizeof(purge));
	if (r != 0 && r != -ENOENT) {
		http_reply_error(rep, ERR_MALFORMED, "purge: bad encoding");
		return;
	}
	r = store_begin(st);
	if (r == 0)
		r = store_server_get(st, id, &s);
	if (r < 0) {
		store_rollback(st);
		http_reply_error(rep, r == -ENOENT ? ERR_NOT_FOUND : r, "no such server");
		return;
	}
	s.in_cluster = join;
	r = store_server_update(st, &s);
	if (r == 0 && join)
		r = store_sync_want_server(st, id); /* everything, pushed by the worker */
	if (r == 0)
		r = store_audit(st, actor(req), join ? "node.join" : "node.leave", 0, s.name);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		store_server_clear(&s);
		http_reply_error(rep, r, NULL);
		return;
	}
	sync_nodes_changed(w->sync);
	unsigned deleted = 0;
	if (!join && (strcmp(purge, "1") == 0 || strcmp(purge, "true") == 0)) {
		char err[256];
		if (sync_purge_node(w->sync, id, &deleted, err, sizeof(err)) < 0)
			log_warn("node '%s': purge failed: %s", s.name, err);
	}
	json_t *out = json_pack("{s:b,s:s,s:o}", "success", 1, "message",
				join ? "node joined the cluster; a full sync is under way"
				     : "node left the cluster",
				"node", server_json(&s));
	if (!join)
		json_object_set_new(out, "zonesDeleted", json_integer(deleted));
	store_server_clear(&s);
	http_reply_json(rep, 200, out);
}

static void cluster_node_add(struct http_request *req, struct http_reply *rep, void *ctx)
{
	cluster_node_set(req, rep, ctx, true);
}

static void cluster_node_remove(struct http_request *req, struct http_reply *rep, void *ctx)
{
	cluster_node_set(req, rep, ctx, false);
}

struct id_list {
	int64_t *v;
	size_t n;
};

static int collect_id(const struct store_server *srv, void *ctx)
{
	struct id_list *l = ctx;
	int64_t *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	l->v = v;
	l->v[l->n++] = srv->id;
	return 0;
}

/* Push one zone to every node now and report each node. */
static void cluster_sync_zone(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_zone z = { 0 };
	int64_t id;
	json_t *nodes = NULL;

	if (!may_write(req, rep) || (st = store_or_503(w, rep)) == NULL ||
	    path_id(req, rep, 0, &id) < 0)
		return;
	int r = store_begin(st);
	if (r == 0)
		r = store_zone_get(st, id, &z);
	if (r < 0) {
		store_rollback(st);
		http_reply_error(rep, r == -ENOENT ? ERR_NOT_FOUND : r, "no such zone");
		return;
	}
	/* Push it to every node again, acknowledged or not, so the answer
	 * reports what each node says now; the agents' version check makes a
	 * repeat harmless. */
	r = store_sync_want_all(st, id, z.version);
	struct id_list nodes_in = { 0 };
	if (r == 0)
		r = store_server_foreach(st, true, collect_id, &nodes_in);
	for (size_t i = 0; r == 0 && i < nodes_in.n; i++)
		r = store_sync_reset(st, nodes_in.v[i], id, 0);
	free(nodes_in.v);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		store_zone_clear(&z);
		http_reply_error(rep, r, NULL);
		return;
	}
	sync_wake(w->sync);
	sync_wait(w->sync, id, z.version, (long)w->conf.wait_timeout_ms, &nodes);
	size_t i, ok = 0;
	json_t *o;
	json_array_foreach(nodes, i, o)
		ok += json_is_true(json_object_get(o, "success"));
	http_reply_json(rep, 200,
			json_pack("{s:b,s:s,s:o,s:I,s:I,s:I}", "success", 1, "zone", z.domain,
				  "results", nodes, "totalNodes",
				  (json_int_t)json_array_size(nodes), "successCount",
				  (json_int_t)ok, "version", (json_int_t)z.version));
	store_zone_clear(&z);
}

static void cluster_sync_all(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_server s = { 0 };
	uint64_t zones = 0, records = 0;
	int64_t id;

	if (!may_write(req, rep) || (st = store_or_503(w, rep)) == NULL ||
	    path_id(req, rep, 0, &id) < 0)
		return;
	int r = store_begin(st);
	if (r == 0)
		r = store_server_get(st, id, &s);
	if (r < 0) {
		store_rollback(st);
		http_reply_error(rep, r == -ENOENT ? ERR_NOT_FOUND : r, "no such server");
		return;
	}
	if (r == 0)
		r = store_sync_want_server(st, id);
	if (r == 0)
		r = store_sync_reset_server(st, id);
	if (r == 0)
		r = store_zone_counts(st, &zones, &records);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		store_server_clear(&s);
		http_reply_error(rep, r, NULL);
		return;
	}
	sync_wake(w->sync);
	http_reply_json(rep, 202,
			json_pack("{s:b,s:o,s:I,s:s}", "success", 1, "node", server_json(&s),
				  "totalZones", (json_int_t)zones, "progress",
				  "GET this URL to follow the sync"));
	store_server_clear(&s);
}

static void cluster_sync_progress(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = store_or_503(ctx, rep);
	struct store_sync_summary sum = { 0 };
	int64_t id;
	if (st == NULL || path_id(req, rep, 0, &id) < 0)
		return;
	uint64_t live = verify_live_zones(ctx);
	int r = store_sync_summary(st, id, &live, &sum);
	if (r < 0) {
		http_reply_error(rep, r, NULL);
		return;
	}
	uint64_t total = sum.in_sync + sum.behind;
	http_reply_json(rep, 200,
			json_pack("{s:I,s:I,s:I,s:I,s:b,s:s?}", "totalZones", (json_int_t)total,
				  "inSync", (json_int_t)sum.in_sync, "behind",
				  (json_int_t)sum.behind, "failing", (json_int_t)sum.failing,
				  "done", sum.behind == 0, "lastError", sum.last_error));
	free(sum.last_error);
}

/* --- DNSSEC ------------------------------------------------------------------ */

/* Add ?wait=all's node results to a change's answer 'j'. */
static void wait_nodes(struct whm *w, struct http_request *req, const struct zone_result *res,
		       json_t *j)
{
	char wait[16];
	if (res->version == 0 || http_request_query(req, "wait", wait, sizeof(wait)) < 0 ||
	    strcmp(wait, "all") != 0)
		return;
	json_t *nodes = NULL;
	int r =
	    sync_wait(w->sync, res->zone_id, res->version, (long)w->conf.wait_timeout_ms, &nodes);
	json_object_set_new(j, "synced", json_boolean(r == 0));
	json_object_set_new(j, "nodes", nodes ? nodes : json_array());
}

static void dnssec_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char err[ZONES_ERR_MAX];
	int64_t id;
	json_t *j = NULL;

	if (path_id(req, rep, 0, &id) < 0)
		return;
	int r = dnssec_view(w, id, &j, err);
	if (r < 0) {
		http_reply_error(rep, r, err);
		return;
	}
	http_reply_json(rep, 200, j);
}

static void dnssec_post(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char err[ZONES_ERR_MAX];
	struct zone_result res = { 0 };
	int64_t id;
	json_t *b = NULL, *j = NULL;

	if (!may_write(req, rep) || path_id(req, rep, 0, &id) < 0)
		return;
	if (http_request_body(req)->len > 0 && body_object(req, rep, &b) < 0)
		return;
	int r = dnssec_sign(w, id, b, actor(req), &res, &j, err);
	json_decref(b);
	if (r < 0) {
		http_reply_error(rep, r, err);
		return;
	}
	json_object_set_new(j, "changed", json_boolean(res.version != 0));
	json_object_set_new(
	    j, "message",
	    json_string(res.version != 0 ? "zone signed" : "already signed so; nothing changed"));
	if (res.version != 0) {
		json_object_set_new(j, "version", json_integer((json_int_t)res.version));
		json_object_set_new(j, "serial", json_integer((json_int_t)res.serial));
	}
	wait_nodes(w, req, &res, j);
	http_reply_json(rep, 200, j);
}

static void dnssec_roll(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char err[ZONES_ERR_MAX];
	struct zone_result res = { 0 };
	int64_t id;
	json_t *b = NULL, *j = NULL;

	if (!may_write(req, rep) || path_id(req, rep, 0, &id) < 0 || body_object(req, rep, &b) < 0)
		return;
	int r = dnssec_rollover(w, id, b, actor(req), &res, &j, err);
	json_decref(b);
	if (r < 0) {
		http_reply_error(rep, r, err);
		return;
	}
	if (res.version != 0) {
		json_object_set_new(j, "version", json_integer((json_int_t)res.version));
		json_object_set_new(j, "serial", json_integer((json_int_t)res.serial));
	}
	wait_nodes(w, req, &res, j);
	http_reply_json(rep, 200, j);
}

static void dnssec_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char err[ZONES_ERR_MAX], force[8];
	struct zone_result res = { 0 };
	int64_t id;

	if (!may_write(req, rep) || path_id(req, rep, 0, &id) < 0)
		return;
	bool forced = http_request_query(req, "force", force, sizeof(force)) == 0 &&
		      (strcmp(force, "1") == 0 || strcmp(force, "true") == 0);
	int r = dnssec_unsign(w, id, forced, actor(req), &res, err);
	if (r < 0) {
		http_reply_error(rep, r, err);
		return;
	}
	json_t *j = json_pack("{s:b,s:I,s:b,s:b,s:s}", "success", 1, "zoneId", (json_int_t)id,
			      "enabled", 0, "changed", res.version != 0, "message",
			      res.version != 0 ? "zone unsigned; every node removes its keys"
					       : "the zone is not signed; nothing changed");
	if (res.version != 0) {
		json_object_set_new(j, "version", json_integer((json_int_t)res.version));
		json_object_set_new(j, "serial", json_integer((json_int_t)res.serial));
	}
	wait_nodes(w, req, &res, j);
	http_reply_json(rep, 200, j);
}

static void health(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = whm_store(ctx);
	uint64_t zones, records;
	if (st == NULL || store_zone_counts(st, &zones, &records) < 0) {
		http_reply_json(rep, 503,
				json_pack("{s:s,s:I}", "status", "unhealthy", "timestamp",
					  (json_int_t)whm_now()));
		return;
	}
	http_reply_json(rep, 200,
			json_pack("{s:s,s:I,s:b,s:I}", "status", "healthy", "timestamp",
				  (json_int_t)whm_now(), "anycast_ready", 1, "zones",
				  (json_int_t)zones));
}

/* Recent events, oldest first; ?since=SEQ for the ones after SEQ. */
static void cluster_events(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char text[24];
	uint64_t since = 0, limit = EVENTS_MAX;

	for (int i = 0; i < 2; i++) {
		const char *key = i == 0 ? "since" : "limit";
		int r = http_request_query(req, key, text, sizeof(text));
		if (r == -ENOENT)
			continue;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(text, &end, 10);
		if (r < 0 || text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 ||
		    (i == 1 && (v < 1 || v > EVENTS_MAX))) {
			http_reply_error(rep, ERR_INVALID,
					 i == 0 ? "since: must be a sequence number"
						: "limit: must be between 1 and 256");
			return;
		}
		if (i == 0)
			since = v;
		else
			limit = v;
	}
	json_t *j = events_json(w->events, since, (unsigned)limit);
	if (j == NULL) {
		http_reply_error(rep, -ENOMEM, NULL);
		return;
	}
	http_reply_json(rep, 200, j);
}

/* Prometheus text format; any valid token (a read token is enough). */
static void metrics(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct buf out;
	buf_init(&out, 64u << 20);
	int r = metrics_render(ctx, &out);
	if (r < 0) {
		buf_free(&out);
		http_reply_error(rep, r, "cannot render metrics");
		return;
	}
	reply_buf(rep, "text/plain; version=0.0.4; charset=utf-8", &out);
}

/* Specific paths before the ones with a parameter in the same place. */
const struct http_route api_routes[] = {
	{ "GET", "/health", health, 0, NULL, NULL },
	{ "GET", "/metrics", metrics, 0, NULL, NULL },
	{ "GET", "/ui", ui_index, 0, NULL, NULL },
	{ "GET", "/ui/", ui_index, 0, NULL, NULL },
	{ "GET", "/ui/:file", ui_file, 0, NULL, NULL },
	{ "GET", "/api/dns/servers", servers_list, 0, NULL, NULL },
	{ "POST", "/api/dns/servers", server_create, 0, NULL, NULL },
	{ "GET", "/api/dns/servers/:id", server_get, 0, NULL, NULL },
	{ "PUT", "/api/dns/servers/:id", server_update, 0, NULL, NULL },
	{ "DELETE", "/api/dns/servers/:id", server_delete, 0, NULL, NULL },
	{ "GET", "/api/dns/cluster/status", cluster_status, 0, NULL, NULL },
	{ "GET", "/api/dns/cluster/statistics", cluster_statistics, 0, NULL, NULL },
	{ "GET", "/api/dns/cluster/health", cluster_health, 0, NULL, NULL },
	{ "GET", "/api/dns/cluster/events", cluster_events, 0, NULL, NULL },
	{ "POST", "/api/dns/cluster/nodes/:id", cluster_node_add, 0, NULL, NULL },
	{ "DELETE", "/api/dns/cluster/nodes/:id", cluster_node_remove, 0, NULL, NULL },
	{ "POST", "/api/dns/cluster/sync/:id", cluster_sync_zone, 0, NULL, NULL },
	{ "POST", "/api/dns/cluster/sync-all/:id", cluster_sync_all, 0, NULL, NULL },
	{ "GET", "/api/dns/cluster/sync-all/:id", cluster_sync_progress, 0, NULL, NULL },
	{ "PUT", "/api/dns/records/:id", record_update, 0, NULL, NULL },
	{ "DELETE", "/api/dns/records/:id", record_delete, 0, NULL, NULL },
	{ "GET", "/api/dns/tokens", tokens_list, 0, NULL, NULL },
	{ "POST", "/api/dns/tokens", token_create, 0, NULL, NULL },
	{ "DELETE", "/api/dns/tokens/:id", token_revoke, 0, NULL, NULL },
	{ "GET", "/api/dns", zones_list, 0, NULL, NULL },
	{ "POST", "/api/dns", zone_create, 0, NULL, NULL },
	{ "GET", "/api/dns/:id", zone_get, 0, NULL, NULL },
	{ "DELETE", "/api/dns/:id", zone_delete, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/records", records_list, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/records", record_create, 0, NULL, NULL },
	{ "PUT", "/api/dns/:id/records", records_replace, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/import", zone_import, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/export", zone_export, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/dnssec", dnssec_get, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/dnssec", dnssec_post, 0, NULL, NULL },
	{ "DELETE", "/api/dns/:id/dnssec", dnssec_delete, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/dnssec/rollover", dnssec_roll, 0, NULL, NULL },
	{ 0 },
};
