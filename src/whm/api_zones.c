/* The zone routes: zones, records, import and export. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "base/err.h"
#include "json/jsonx.h"
#include "transfer.h"
#include "zones.h"
#include "secondary.h"
#include "steer_health.h"
#include "zones_steer.h"
#include "zones_soa.h"

/* A change named by the path's id and described by the body. */
typedef int (*body_change_fn)(struct whm *w, int64_t id, const json_t *body, const char *actor,
			      struct zone_result *res, struct errmsg *err);

static void body_change(struct http_request *req, struct http_reply *rep, struct whm *w,
			body_change_fn fn, unsigned status, const char *message)
{
	struct errmsg err;
	struct zone_result res = { 0 };
	int64_t id;
	json_t *b;

	if (!api_may_write(req, rep) || api_path_id(req, rep, 0, &id) < 0 ||
	    api_body_object(req, rep, &b) < 0)
		return;
	if (!api_raw_lua_allowed(w, req, rep, b)) {
		json_decref(b);
		return;
	}
	int r = fn(w, id, b, api_actor(req), &res, &err);
	json_decref(b);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	api_reply_change(w, req, rep, status, message, &res, NULL);
}

/* A change named by the path's id alone. */
typedef int (*id_change_fn)(struct whm *w, int64_t id, const char *actor, struct zone_result *res,
			    struct errmsg *err);

static void id_change(struct http_request *req, struct http_reply *rep, struct whm *w,
		      id_change_fn fn, const char *message)
{
	struct errmsg err;
	struct zone_result res = { 0 };
	int64_t id;

	if (!api_may_write(req, rep) || api_path_id(req, rep, 0, &id) < 0)
		return;
	int r = fn(w, id, api_actor(req), &res, &err);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	api_reply_change(w, req, rep, 200, message, &res, NULL);
}

/* --- zones ------------------------------------------------------------------ */

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

/* The zone-name prefix of ?q=: lowercase ASCII as names are stored (a
 * final dot is part of the name); 0 and 'out' empty when not given. */
static int list_prefix(struct http_request *req, struct http_reply *rep, char *out, size_t len)
{
	int r = http_request_query(req, "q", out, len);

	if (r != 0)
		out[0] = '\0';
	if (r == -ENOENT)
		return 0;
	for (char *p = out; r == 0 && *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (*p < '!' || *p > '}')
			r = -EINVAL;
	}
	if (r < 0 || out[0] == '\0') {
		http_reply_error(rep, ERR_INVALID,
				 "q must be the start of a zone name in ASCII (A-labels), "
				 "1 to 255 characters");
		return ERR_INVALID;
	}
	return 0;
}

/* GET /api/dns[?q=PREFIX][&limit=N&after=ID]: the live zones in id order,
 * all of them or a page of N after zone ID (the next page starts after the
 * last id); with q only those whose name starts with PREFIX.
 * The answer is written as text zone by zone: 100,000 zones cost their
 * text, about 25 MB, not a JSON tree of them (150 MB). */
void api_zones_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = api_store(ctx, rep);
	struct list_ctx c = { st, { 0 }, UINT64_MAX, true };
	uint64_t after = 0;
	char prefix[STORE_PREFIX_MAX + 1];
	int r;

	if (st == NULL)
		return;
	if (api_query_uint(req, rep, "limit", 1, LIST_LIMIT_MAX, &c.left) == ERR_INVALID ||
	    api_query_uint(req, rep, "after", 0, INT64_MAX, &after) == ERR_INVALID ||
	    list_prefix(req, rep, prefix, sizeof(prefix)) < 0)
		return;
	buf_init(&c.out, SIZE_MAX);
	r = buf_puts(&c.out, "[");
	if (r == 0)
		r = prefix[0] != '\0'
			? store_zone_foreach_prefix(st, prefix, (int64_t)after, list_zone, &c)
			: store_zone_foreach_after(st, false, (int64_t)after, list_zone, &c);
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

static const char *const zone_create_keys[] = { "domain",    "serverId", "userId", "kind",
						"primaries", "tsig_key", NULL };

/* A creation's "kind" ("primary", the default, or "secondary"), and for a
 * secondary its "primaries" and optional "tsig_key" into 'init' (the texts
 * in 'prim' and 'key'). */
static int create_kind(struct whm *w, const json_t *b, struct zone_init *init, char *prim,
		       size_t prim_len, char *key, size_t key_len, struct errmsg *err)
{
	const char *kind = "primary", *tsig = NULL;
	int r = jsonx_get_str(b, "kind", false, "body", &kind, err);
	if (r < 0 && r != -ENOENT)
		return r;
	bool secondary = strcmp(kind, "secondary") == 0;
	if (!secondary && strcmp(kind, "primary") != 0)
		return errmsg_set(err, ERR_INVALID, "body.kind: \"primary\" or \"secondary\"");
	if (!secondary) {
		if (json_object_get(b, "primaries") != NULL ||
		    json_object_get(b, "tsig_key") != NULL)
			return errmsg_set(err, ERR_INVALID,
					  "body.primaries and body.tsig_key are for a zone of kind "
					  "\"secondary\"");
		return 0;
	}
	r = secondary_primaries_check(json_object_get(b, "primaries"), "body.primaries", prim,
				      prim_len, err);
	const json_t *k = json_object_get(b, "tsig_key");
	if (r == 0 && k != NULL && !json_is_null(k))
		r = jsonx_get_str(b, "tsig_key", true, "body", &tsig, err);
	if (r == 0 && tsig != NULL)
		r = secondary_tsig_check(w, tsig, "body.tsig_key", key, key_len, err);
	init->primaries = prim;
	init->tsig_key = tsig != NULL ? key : NULL;
	return r;
}

void api_zone_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct errmsg err;
	const char *domain;
	uint64_t server_id = 0, user_id = 0;
	struct zone_result res = { 0 };
	json_t *b;

	if (!api_may_write(req, rep) || api_body_object(req, rep, &b) < 0)
		return;
	int r = jsonx_check_keys(b, zone_create_keys, "body", &err);
	if (r == 0)
		r = jsonx_get_str(b, "domain", true, "body", &domain, &err);
	if (r == 0) {
		r = jsonx_get_uint(b, "serverId", false, 1, INT64_MAX, "body", &server_id, &err);
		r = r == -ENOENT ? 0 : r;
	}
	if (r == 0) {
		r = jsonx_get_uint(b, "userId", false, 0, INT64_MAX, "body", &user_id, &err);
		r = r == -ENOENT ? 0 : r;
	}
	char prim[STORE_PRIMARIES_MAX], key[DNAME_TEXT_MAX];
	struct zone_init init = { 0 };
	if (r == 0)
		r = create_kind(w, b, &init, prim, sizeof(prim), key, sizeof(key), &err);
	if (r == 0)
		r = zones_create_with(w, domain, (int64_t)server_id, (int64_t)user_id,
				      init.primaries != NULL ? &init : NULL, api_actor(req), &res,
				      &err);
	json_decref(b);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	if (init.primaries != NULL)
		(void)secondary_retrieve(w, res.zone_id, &err);
	api_reply_change(w, req, rep, 201, "zone created", &res, NULL);
}

/* Zone 'id' unless it is deleted, or "no such zone" answered. The caller
 * clears *z. */
static int live_zone(struct store *st, struct http_reply *rep, int64_t id, struct store_zone *z)
{
	int r = store_zone_get(st, id, z);
	if (r == 0 && z->deleted) {
		store_zone_clear(z);
		r = -ENOENT;
	}
	if (r < 0)
		http_reply_error(rep, r, "no such zone");
	return r;
}

void api_zone_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = api_store(ctx, rep);
	struct store_zone z;
	int64_t id;
	uint64_t n = 0;

	if (st == NULL || api_path_id(req, rep, 0, &id) < 0 || live_zone(st, rep, id, &z) < 0)
		return;
	int r = store_record_count(st, id, &n);
	json_t *j = r == 0 ? zones_zone_json(&z, n) : NULL;
	if (j != NULL) {
		json_t *sec = secondary_zone_json(ctx, id);
		json_object_set_new(j, "soa", zone_soa_json(ctx, &z));
		/* A zone of its own has the list's shape (and its SOA). */
		if (sec != NULL) {
			json_object_set_new(j, "kind", json_string("secondary"));
			json_object_set(j, "presigned", json_object_get(sec, "presigned"));
			json_object_set_new(j, "secondary", sec);
		}
	}
	if (r == 0)
		http_reply_json(rep, 200, j);
	else
		http_reply_error(rep, r, "cannot count the zone's records");
	store_zone_clear(&z);
}

static const char *const zone_update_keys[] = { "soa", NULL };

/* PUT /api/dns/:id {"soa": {"mname"?, "rname"?, "refresh"?, "retry"?,
 * "expire"?, "minimum"?}}: the zone's own SOA fields (null: the
 * cluster's again). */
void api_zone_update(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct errmsg err;
	struct zone_result res = { 0 };
	json_t *b, *soa = NULL, *now = NULL;
	int64_t id;

	if (!api_may_write(req, rep) || api_path_id(req, rep, 0, &id) < 0 ||
	    api_body_object(req, rep, &b) < 0)
		return;
	int r = jsonx_check_keys(b, zone_update_keys, "body", &err);
	if (r == 0)
		r = jsonx_get_obj(b, "soa", true, "body", &soa, &err);
	if (r == 0)
		r = zones_set_soa(w, id, soa, api_actor(req), &res, &now, &err);
	json_decref(b);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	if (res.version == 0) {
		http_reply_json(rep, 200,
				json_pack("{s:b,s:b,s:s,s:I,s:I,s:o}", "success", 1, "changed", 0,
					  "message", "the SOA is already so; nothing changed",
					  "zoneId", (json_int_t)id, "serial",
					  (json_int_t)res.serial, "soa", now));
		return;
	}
	api_reply_change(w, req, rep, 200, "SOA updated", &res,
			 json_pack("{s:b,s:o}", "changed", 1, "soa", now));
}

void api_zone_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	id_change(req, rep, ctx, zones_delete, "zone deleted");
}

/* --- records --------------------------------------------------------------- */

struct listing {
	json_t *out;
	const json_t *policies; /* zones_steer_load() */
};

static int list_record(const struct store_record *r, void *ctx)
{
	struct listing *l = ctx;
	json_t *o = zones_record_json(r);
	json_t *rp = zones_steer_record_policy(l->policies, r->name, r->type, r->content);

	if (o == NULL || rp == NULL || json_object_set_new(o, "routing_policy", rp) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return json_array_append_new(l->out, o) ? -ENOMEM : 0;
}

void api_records_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = api_store(ctx, rep);
	struct listing l = { 0 };
	struct store_zone z;
	json_t *policies = NULL;
	int64_t id;

	if (st == NULL || api_path_id(req, rep, 0, &id) < 0 || live_zone(st, rep, id, &z) < 0)
		return;
	store_zone_clear(&z);
	l.out = json_array();
	int r = zones_steer_load(st, id, &policies);
	l.policies = policies;
	if (r == 0)
		r = store_record_foreach(st, id, list_record, &l);
	json_decref(policies);
	api_reply_list(rep, r, l.out, "cannot list records");
}

static int list_policy(const char *name, const char *type, bool per_record, const char *policy,
		       void *ctx)
{
	json_t *pol = json_loads(policy, 0, NULL);
	json_t *o = json_pack("{s:s, s:s, s:b, s:o*}", "name", name, "type", type, "per_record",
			      per_record, "policy", pol);
	return o != NULL && json_array_append_new(ctx, o) == 0 ? 0 : -ENOMEM;
}

/* GET /api/dns/:id/policies: every RRset's routing policy, per-record
 * ones (made from the records' routing_policy) included. */
void api_policies_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = api_store(ctx, rep);
	struct store_zone z;
	int64_t id;

	if (st == NULL || api_path_id(req, rep, 0, &id) < 0 || live_zone(st, rep, id, &z) < 0)
		return;
	store_zone_clear(&z);
	json_t *out = json_array();
	int r = out != NULL ? store_policy_foreach(st, id, list_policy, out) : -ENOMEM;
	api_reply_list(rep, r, out, "cannot list routing policies");
}

/* GET /api/dns/:id/policies/health: per node, per RRset, per target what
 * the node's PowerDNS considers up (steer_health.h). */
void api_policies_health(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = api_store(ctx, rep);
	struct store_zone z;
	struct errmsg err;
	json_t *out = NULL;
	int64_t id;

	if (st == NULL || api_path_id(req, rep, 0, &id) < 0 || live_zone(st, rep, id, &z) < 0)
		return;
	int r = steer_health_get(ctx, st, &z, &out, &err);
	store_zone_clear(&z);
	if (r < 0)
		http_reply_error(rep, r, err.text);
	else
		http_reply_json(rep, 200, out);
}

/* PUT /api/dns/:id/policies {"name", "type", "policy"}. */
void api_policy_set(struct http_request *req, struct http_reply *rep, void *ctx)
{
	body_change(req, rep, ctx, zones_rrset_policy_set, 200, "routing policy set");
}

void api_record_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	body_change(req, rep, ctx, zones_record_add, 201, "record created");
}

static const char *const replace_keys[] = { "records", "ifVersion", NULL };

/* "ifVersion" of a change's body: 0 when not given. */
static int if_version(const json_t *b, uint64_t *ret, struct errmsg *err)
{
	*ret = 0;
	int r = jsonx_get_uint(b, "ifVersion", false, 1, MODEL_VERSION_MAX, "body", ret, err);
	return r == -ENOENT ? 0 : r;
}

/* The fields GET /api/dns/:id/records adds to a record that a record
 * routes' body does not take: a listing is taken back as it is (ids,
 * times and the Unicode name are the controller's; it ignores them). */
static const char *const listing_keys[] = { "id", "zoneId", "createdAt", "name_unicode", NULL };

/* 'in' (the body's records) without the listing's own fields; the caller
 * owns *ret. */
static int listing_records(const json_t *in, json_t **ret, struct errmsg *err)
{
	json_t *out = json_array(), *rec;
	size_t i;
	int r = out != NULL ? 0 : -ENOMEM;

	json_array_foreach(in, i, rec) {
		if (r < 0)
			break;
		json_t *o = json_is_object(rec) ? json_copy(rec) : json_incref(rec);
		const char *status = json_string_value(json_object_get(rec, "status"));
		if (o == NULL) {
			r = -ENOMEM;
			break;
		}
		for (unsigned k = 0; json_is_object(o) && listing_keys[k] != NULL; k++)
			json_object_del(o, listing_keys[k]);
		/* A listing's records are all active; no other status is served. */
		if (status != NULL && strcmp(status, "active") == 0)
			json_object_del(o, "status");
		else if (json_object_get(o, "status") != NULL)
			r = errmsg_set(err, ERR_INVALID,
				       "records[%zu].status: only active records can be served", i);
		if (json_array_append_new(out, o) < 0)
			r = -ENOMEM;
	}
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

static int replace_records(struct whm *w, int64_t id, const json_t *b, const char *who,
			   struct zone_result *res, struct errmsg *err)
{
	json_t *records = NULL, *plain = NULL;
	uint64_t version = 0;
	int r = jsonx_check_keys(b, replace_keys, "body", err);
	if (r == 0)
		r = jsonx_get_array(b, "records", true, "body", &records, err);
	if (r == 0)
		r = if_version(b, &version, err);
	if (r == 0 && json_array_size(records) > w->conf.max_zone_records) {
		errmsg_set(err, 0, "records: more than %llu records",
			   (unsigned long long)w->conf.max_zone_records);
		r = ERR_TOO_LARGE;
	}
	if (r == 0)
		r = listing_records(records, &plain, err);
	if (r == 0)
		r = zones_records_replace(w, id, plain, version, who, res, err);
	json_decref(plain);
	return r;
}

void api_records_replace(struct http_request *req, struct http_reply *rep, void *ctx)
{
	body_change(req, rep, ctx, replace_records, 200, "records replaced");
}

static const char *const patch_keys[] = { "rrsets", "ifVersion", NULL };

static int patch_rrsets(struct whm *w, int64_t id, const json_t *b, const char *who,
			struct zone_result *res, struct errmsg *err)
{
	json_t *rrsets = NULL;
	uint64_t version = 0;
	int r = jsonx_check_keys(b, patch_keys, "body", err);
	if (r == 0)
		r = jsonx_get_array(b, "rrsets", true, "body", &rrsets, err);
	if (r == 0)
		r = if_version(b, &version, err);
	return r < 0 ? r : zones_rrsets_patch(w, id, rrsets, version, 0, who, res, err);
}

/* PATCH /api/dns/:id/rrsets {"rrsets": [...], "ifVersion"?}: the PowerDNS
 * API's RRset changes (zones_rrsets_patch()) as one version. */
void api_rrsets_patch(struct http_request *req, struct http_reply *rep, void *ctx)
{
	body_change(req, rep, ctx, patch_rrsets, 200, "rrsets changed");
}

void api_zone_increase_serial(struct http_request *req, struct http_reply *rep, void *ctx)
{
	id_change(req, rep, ctx, zones_increase_serial, "serial increased");
}

void api_record_update(struct http_request *req, struct http_reply *rep, void *ctx)
{
	body_change(req, rep, ctx, zones_record_update, 200, "record updated");
}

void api_record_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	id_change(req, rep, ctx, zones_record_delete, "record deleted");
}

/* --- import and export --------------------------------------------------------- */

static const char *const import_keys[] = { "content",	 "bindData", "format",	  "mode",
					   "replaceAll", "keepSoa",  "ifVersion", NULL };

/* POST /api/dns/:id/import: {"content" (or the panel's "bindData"),
 * "format": "bind"|"route53", "mode": "merge"|"replace" (or the panel's
 * "replaceAll"), "keepSoa": the file's SOA fields become the zone's,
 * "ifVersion": only onto this version of the zone, else a 409}. */
void api_zone_import(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct errmsg err = { "out of memory" };
	const char *format = "bind", *mode = NULL;
	bool replace_all = false, have_replace_all = false, keep_soa = false;
	uint64_t if_version = 0;
	struct transfer_result res;
	json_t *b, *content, *errors = NULL;
	char *dumped = NULL;
	int64_t id;

	if (!api_may_write(req, rep) || api_path_id(req, rep, 0, &id) < 0 ||
	    api_body_object(req, rep, &b) < 0)
		return;
	int r = jsonx_check_keys(b, import_keys, "body", &err);
	if (r == 0 && (r = jsonx_get_str(b, "format", false, "body", &format, &err)) == -ENOENT)
		r = 0;
	if (r == 0 && (r = jsonx_get_str(b, "mode", false, "body", &mode, &err)) == -ENOENT)
		r = 0;
	if (r == 0) {
		r = jsonx_get_bool(b, "replaceAll", false, "body", &replace_all, &err);
		have_replace_all = r == 0;
		r = r == -ENOENT ? 0 : r;
	}
	if (r == 0 && (r = jsonx_get_bool(b, "keepSoa", false, "body", &keep_soa, &err)) == -ENOENT)
		r = 0;
	if (r == 0 && (r = jsonx_get_uint(b, "ifVersion", false, 1, MODEL_VERSION_MAX, "body",
					  &if_version, &err)) == -ENOENT)
		r = 0;
	content = json_object_get(b, "content");
	if (content != NULL && json_object_get(b, "bindData") != NULL) {
		errmsg_set(&err, 0, "body: give content or bindData, not both");
		r = ERR_INVALID;
	}
	if (content == NULL)
		content = json_object_get(b, "bindData");
	enum import_format fmt = IMPORT_BIND;
	if (r == 0 && strcmp(format, "route53") == 0)
		fmt = IMPORT_ROUTE53;
	else if (r == 0 && strcmp(format, "bind") != 0) {
		errmsg_set(&err, 0, "body.format: bind or route53");
		r = ERR_INVALID;
	}
	if (r == 0 && mode != NULL && strcmp(mode, "merge") != 0 && strcmp(mode, "replace") != 0) {
		errmsg_set(&err, 0, "body.mode: merge or replace");
		r = ERR_INVALID;
	}
	if (r == 0 && mode != NULL && have_replace_all &&
	    replace_all != (strcmp(mode, "replace") == 0)) {
		errmsg_set(&err, 0, "body: mode and replaceAll disagree");
		r = ERR_INVALID;
	}
	const char *text = NULL;
	if (r == 0 && json_is_string(content)) {
		text = json_string_value(content);
	} else if (r == 0 && fmt == IMPORT_ROUTE53 &&
		   (json_is_object(content) || json_is_array(content))) {
		dumped = json_dumps(content, JSON_COMPACT);
		text = dumped;
		if (dumped == NULL)
			r = -ENOMEM;
	} else if (r == 0) {
		errmsg_set(
		    &err, 0,
		    fmt == IMPORT_BIND
			? "body.content: the zone file as a string"
			: "body.content: the Route 53 ResourceRecordSets as JSON or a string");
		r = ERR_INVALID;
	}
	bool merge = mode != NULL ? strcmp(mode, "merge") == 0 : !replace_all;
	if (r == 0)
		r = transfer_import(w, id, fmt, text, strlen(text), merge, keep_soa, if_version,
				    api_actor(req), &res, &errors, &err);
	free(dumped);
	json_decref(b);
	if (r < 0) {
		json_t *j = json_pack("{s:s}", "error", err.text);
		if (errors != NULL)
			json_object_set_new(j, "errors", errors);
		http_reply_json(rep, err_http_status(r), j);
		return;
	}
	json_t *extra = json_pack("{s:I,s:s,s:b}", "imported", (json_int_t)res.imported, "mode",
				  merge ? "merge" : "replace", "changed", res.changed);
	/* Past the file's serial unless the zone's own was ahead of it, or the
	 * file's so far ahead that following it would take the zone's back. */
	bool past = (int32_t)(res.change.serial - res.soa_serial) > 0;
	if (res.soa_seen)
		json_object_set_new(
		    extra, "soa",
		    json_pack("{s:b,s:b,s:I,s:s}", "ignored", !res.soa_kept, "kept", res.soa_kept,
			      "fileSerial", (json_int_t)res.soa_serial, "note",
			      res.soa_kept ? (past ? "the zone now has the file's SOA fields; the "
						     "controller keeps the serial, past the file's"
						   : "the zone now has the file's SOA fields; the "
						     "controller keeps the serial, which cannot "
						     "move past the file's without going back")
			      : past
				  ? "the controller owns the SOA; its serial is past the file's"
				  : "the controller owns the SOA; its serial cannot move past the "
				    "file's without going back"));
	api_reply_change(w, req, rep, 200,
			 res.changed ? "zone imported"
				     : "nothing changed: the zone already holds this content",
			 &res.change, extra);
}

#define EXPORT_MAX (256u << 20)

void api_zone_export(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;
	struct buf out;
	int64_t id;

	if (api_path_id(req, rep, 0, &id) < 0)
		return;
	buf_init(&out, EXPORT_MAX);
	int r = transfer_export(ctx, id, &out, &err);
	if (r < 0)
		http_reply_error(rep, r, err.text);
	else
		api_reply_buf(rep, "text/dns; charset=utf-8", &out);
	buf_free(&out);
}

/* POST /api/dns/:id/retrieve: refresh a secondary zone from its primary
 * now (the transfer runs in the background; GET /api/dns/:id shows it). */
void api_zone_retrieve(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;
	int64_t id;

	if (!api_may_write(req, rep) || api_path_id(req, rep, 0, &id) < 0)
		return;
	int r = secondary_retrieve(ctx, id, &err);
	if (r < 0)
		http_reply_error(rep, r, err.text);
	else
		http_reply_json(rep, 202,
				json_pack("{s:b,s:s}", "success", 1, "message",
					  "a refresh from the primary was started"));
}
