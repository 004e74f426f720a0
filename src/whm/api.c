/* The route table and what every route shares: authorization, parsing of
 * ids, query arguments and bodies, and the shapes of answers. The routes
 * themselves are in api_zones.c, api_nodes.c, api_tokens.c, api_dnssec.c,
 * api_history.c and api_ops.c, and PowerDNS's API in api_pdns.c,
 * api_pdns_zone.c and api_pdns_ops.c (api_pdns.h); each parses, calls one
 * service and answers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api_internal.h"
#include "base/err.h"
#include "base/log.h"
#include "json/jsonx.h"
#include "sync.h"
#include "tokens.h"
#include "ui.h"

/* The token a request carries: as a bearer token, or in X-API-Key as
 * PowerDNS's clients send it; one of them, once. NULL if there is none. */
static const char *request_token(struct http_request *req)
{
	unsigned bearer = http_request_header_count(req, "Authorization");
	unsigned key = http_request_header_count(req, "X-API-Key");
	const char *token;
	if (bearer + key != 1)
		return NULL;
	if (bearer == 1) {
		token = http_request_header(req, "Authorization");
		/* RFC 9110 section 11.1: the scheme is case-insensitive. */
		if (token == NULL || strncasecmp(token, "Bearer ", 7) != 0)
			return NULL;
		token += 7;
	} else {
		token = http_request_header(req, "X-API-Key");
	}
	if (token == NULL || token[0] == '\0' || strlen(token) > 200)
		return NULL;
	return token;
}

void api_store_refused(const char *why)
{
	static struct log_limit refusals = LOG_LIMIT_INIT(WHM_FAILURE_LOG_MS);
	uint64_t n;

	if (!log_limit_pass(&refusals, whm_mono_ms(), &n))
		return;
	if (n == 1)
		log_err("a request refused with 503, the store is unavailable: %s", why);
	else
		log_err("%llu requests refused with 503 since the last line, the store is "
			"unavailable: %s",
			(unsigned long long)n, why);
}

int api_authorize(struct http_request *req, void *ctx, const char **ret_msg)
{
	struct whm *w = ctx;

	/* The dashboard's files are public; the API calls it makes are not. */
	if (ui_path(http_request_method(req), http_request_path(req)))
		return 0;
	const char *token = request_token(req);
	if (token == NULL)
		return ERR_AUTH;
	struct errmsg err;
	struct store *st = whm_store_try(w, &err);
	char role[16], name[64];
	int64_t id;
	int r = st != NULL ? tokens_find(st, token, role, &id, name) : ERR_UNAVAILABLE;
	if (r == ERR_NOT_FOUND)
		return ERR_AUTH;
	if (r < 0) {
		if (st != NULL)
			api_store_failed(st, r, "cannot look a token up");
		else
			api_store_refused(err.text);
		/* Not a 401: the token may well be good, and a client told it
		 * is wrong may throw it away or page someone to rotate it. */
		*ret_msg = "the store is unavailable";
		return ERR_UNAVAILABLE;
	}
	http_request_set_principal(req, id, role, name);
	return 0;
}

bool api_is_admin(const struct http_request *req)
{
	return strcmp(http_request_principal_role(req), "admin") == 0;
}

/* True if 'j' holds, at any depth, an object whose "type" is "LUA", other
 * than an RRset deleted ("changetype": "DELETE" on /api/v1 PATCH, with no
 * records: removing raw LUA is always allowed; a zone POST stores the
 * records of an RRset whatever its changetype says). */
static bool names_lua(const json_t *j, unsigned depth)
{
	const char *key;
	json_t *v;
	size_t i;

	if (depth > JSONX_MAX_DEPTH)
		return false;
	if (json_is_object(j)) {
		const char *t = json_string_value(json_object_get(j, "type"));
		const char *change = json_string_value(json_object_get(j, "changetype"));
		if (t != NULL && strcasecmp(t, "LUA") == 0)
			return change == NULL || strcasecmp(change, "DELETE") != 0 ||
			       json_array_size(json_object_get(j, "records")) > 0;
		json_object_foreach((json_t *)j, key, v) {
			if (names_lua(v, depth + 1))
				return true;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (names_lua(v, depth + 1))
				return true;
		}
	}
	return false;
}

bool api_raw_lua_allowed(const struct whm *w, const struct http_request *req,
			 struct http_reply *rep, const json_t *body)
{
	if (!names_lua(body, 0))
		return true;
	if (!w->conf.allow_raw_lua) {
		http_reply_error(rep, ERR_INVALID,
				 "raw LUA records are refused: they run code inside PowerDNS on "
				 "every node; use a routing policy, or set allow-raw-lua = yes in "
				 "the controller's configuration");
		return false;
	}
	if (!api_is_admin(req)) {
		http_reply_error(rep, ERR_FORBIDDEN, "raw LUA records need an admin token");
		return false;
	}
	return true;
}

bool api_may_write(struct http_request *req, struct http_reply *rep)
{
	if (api_is_admin(req))
		return true;
	http_reply_error(rep, ERR_FORBIDDEN, "this token may only read");
	return false;
}

const char *api_actor(const struct http_request *req)
{
	static __thread char who[32];
	const char *name = http_request_principal_name(req);
	if (name[0] != '\0')
		return name;
	snprintf(who, sizeof(who), "token:%lld", (long long)http_request_principal_id(req));
	return who;
}

bool api_printable(const char *s, size_t min, size_t max, const char *refused)
{
	size_t n = strlen(s);
	if (n < min || n > max || strpbrk(s, refused) != NULL)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

int api_path_id(struct http_request *req, struct http_reply *rep, unsigned i, int64_t *ret)
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

int api_query_uint(struct http_request *req, struct http_reply *rep, const char *name, uint64_t min,
		   uint64_t max, uint64_t *ret)
{
	return api_query_number(req, rep, name, min, max, ERR_INVALID, ret);
}

int api_query_number(struct http_request *req, struct http_reply *rep, const char *name,
		     uint64_t min, uint64_t max, int code, uint64_t *ret)
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
		http_reply_error(rep, code, err);
		return code;
	}
	*ret = v;
	return 0;
}

int api_query_bool(struct http_request *req, struct http_reply *rep, const char *name, bool *ret)
{
	static const char *const yes[] = { "1", "true", "yes", NULL };
	static const char *const no[] = { "0", "false", "no", NULL };
	char text[8];
	int r = http_request_query(req, name, text, sizeof(text));
	if (r == -ENOENT)
		return r;
	for (unsigned i = 0; r == 0 && yes[i] != NULL; i++) {
		if (strcmp(text, yes[i]) == 0 || strcmp(text, no[i]) == 0) {
			*ret = strcmp(text, yes[i]) == 0;
			return 0;
		}
	}
	char err[96];
	snprintf(err, sizeof(err), "%s must be true or false (1 or 0)", name);
	http_reply_error(rep, ERR_INVALID, err);
	return ERR_INVALID;
}

int api_body_object(struct http_request *req, struct http_reply *rep, json_t **ret)
{
	struct errmsg err;
	const struct buf *b = http_request_body(req);
	int r = jsonx_parse(b->data ? b->data : "", b->len, ret, &err);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return r;
	}
	if (!json_is_object(*ret)) {
		json_decref(*ret);
		http_reply_error(rep, ERR_INVALID, "body must be a JSON object");
		return ERR_INVALID;
	}
	return 0;
}

struct store *api_store(struct whm *w, struct http_reply *rep)
{
	struct errmsg err;
	struct store *st = whm_store_try(w, &err);
	if (st == NULL) {
		api_store_refused(err.text);
		http_reply_error(rep, ERR_UNAVAILABLE, "the store is unavailable");
	}
	return st;
}

void api_store_failed(struct store *st, int r, const char *what)
{
	struct errmsg why;
	bool said = r == ERR_BACKEND || r == ERR_UNAVAILABLE; /* store_error() tells */

	errmsg_printf(&why, "%s: %s%s%s", what, err_str(r), said ? ": " : "",
		      said ? store_error(st) : "");
	api_store_refused(why.text);
}

void api_reply_error(struct http_reply *rep, int err, const char *message)
{
	http_reply_error(rep, err, message[0] != '\0' ? message : NULL);
}

void api_reply_list(struct http_reply *rep, int r, json_t *list, const char *message)
{
	if (r < 0) {
		json_decref(list);
		http_reply_error(rep, r, message);
	} else {
		http_reply_json(rep, 200, list);
	}
}

size_t api_count_true(const json_t *array, const char *key)
{
	size_t i, n = 0;
	json_t *o;
	json_array_foreach(array, i, o)
		n += json_is_true(json_object_get(o, key));
	return n;
}

void api_reply_buf(struct http_reply *rep, const char *content_type, struct buf *out)
{
	size_t len = out->len;
	if (out->data == NULL)
		http_reply_text(rep, 200, content_type, "", 0);
	else
		http_reply_take(rep, 200, content_type, buf_take(out), len);
}

void api_wait_nodes(struct whm *w, struct http_request *req, const struct zone_result *res,
		    json_t *j)
{
	char wait[16];
	if (http_request_query(req, "wait", wait, sizeof(wait)) < 0 || strcmp(wait, "all") != 0)
		return;
	json_t *nodes = NULL;
	int r =
	    sync_wait(w->sync, res->zone_id, res->version, (long)w->conf.wait_timeout_ms, &nodes);
	json_object_set_new(j, "synced", json_boolean(r == 0));
	json_object_set_new(j, "nodes", nodes ? nodes : json_array());
}

void api_reply_change(struct whm *w, struct http_request *req, struct http_reply *rep,
		      unsigned status, const char *message, const struct zone_result *res,
		      json_t *extra)
{
	json_t *j = json_pack("{s:b,s:s,s:I,s:I,s:I}", "success", 1, "message", message, "zoneId",
			      (json_int_t)res->zone_id, "version", (json_int_t)res->version,
			      "serial", (json_int_t)res->serial);
	if (extra != NULL)
		json_object_update(j, extra);
	json_decref(extra);
	if (res->record_id > 0)
		json_object_set_new(j, "id", json_integer(res->record_id));
	api_wait_nodes(w, req, res, j);
	http_reply_json(rep, status, j);
}

/* Specific paths before the ones with a parameter in the same place. */
const struct http_route api_routes[] = {
	{ "GET", "/health", api_health, 0, NULL, NULL },
	{ "GET", "/metrics", api_metrics, 0, NULL, NULL },
	{ "GET", "/ui", ui_index, 0, NULL, NULL },
	{ "GET", "/ui/", ui_index, 0, NULL, NULL },
	{ "GET", "/ui/:file", ui_file, 0, NULL, NULL },
	{ "GET", "/api", api_pdns_discovery, 0, NULL, NULL },
	{ "GET", "/api/v1", api_pdns_v1, 0, NULL, NULL },
	{ "GET", "/api/v1/servers", api_pdns_servers, 0, NULL, NULL },
	{ "GET", "/api/v1/servers/:server", api_pdns_server, 0, NULL, NULL },
	{ "GET", "/api/v1/servers/:server/config", api_pdns_config, 0, NULL, NULL },
	{ "GET", "/api/v1/servers/:server/zones", api_pdns_zones, 0, NULL, NULL },
	{ "POST", "/api/v1/servers/:server/zones", api_pdns_zone_create, 0, NULL, NULL },
	{ "GET", "/api/v1/servers/:server/zones/:zone", api_pdns_zone_get, 0, NULL, NULL },
	{ "GET", "/api/v1/servers/:server/zones/:zone/metadata", api_pdns_meta_list, 0, NULL,
	  NULL },
	{ "POST", "/api/v1/servers/:server/zones/:zone/metadata", api_pdns_meta_post, 0, NULL,
	  NULL },
	{ "GET", "/api/v1/servers/:server/zones/:zone/metadata/:kind", api_pdns_meta_get, 0, NULL,
	  NULL },
	{ "PUT", "/api/v1/servers/:server/zones/:zone/metadata/:kind", api_pdns_meta_put, 0, NULL,
	  NULL },
	{ "DELETE", "/api/v1/servers/:server/zones/:zone/metadata/:kind", api_pdns_meta_delete, 0,
	  NULL, NULL },
	{ "GET", "/api/v1/servers/:server/zones/:zone/cryptokeys", api_pdns_keys_list, 0, NULL,
	  NULL },
	{ "POST", "/api/v1/servers/:server/zones/:zone/cryptokeys", api_pdns_key_create, 0, NULL,
	  NULL },
	{ "GET", "/api/v1/servers/:server/zones/:zone/cryptokeys/:key", api_pdns_key_get, 0, NULL,
	  NULL },
	{ "PUT", "/api/v1/servers/:server/zones/:zone/cryptokeys/:key", api_pdns_key_update, 0,
	  NULL, NULL },
	{ "DELETE", "/api/v1/servers/:server/zones/:zone/cryptokeys/:key", api_pdns_key_delete, 0,
	  NULL, NULL },
	{ "PATCH", "/api/v1/servers/:server/zones/:zone", api_pdns_zone_patch, 0, NULL, NULL },
	{ "DELETE", "/api/v1/servers/:server/zones/:zone", api_pdns_zone_delete, 0, NULL, NULL },
	{ "PUT", "/api/v1/servers/:server/zones/:zone", api_pdns_zone_put, 0, NULL, NULL },
	{ "PUT", "/api/v1/servers/:server/zones/:zone/axfr-retrieve", api_pdns_zone_retrieve, 0,
	  NULL, NULL },
	{ "PUT", "/api/v1/servers/:server/zones/:zone/notify", api_pdns_zone_notify, 0, NULL,
	  NULL },
	{ "PUT", "/api/v1/servers/:server/zones/:zone/rectify", api_pdns_zone_rectify, 0, NULL,
	  NULL },
	{ "GET", "/api/v1/servers/:server/zones/:zone/export", api_pdns_zone_export, 0, NULL,
	  NULL },
	{ "PUT", "/api/v1/servers/:server/cache/flush", api_pdns_cache_flush, 0, NULL, NULL },
	{ "GET", "/api/v1/servers/:server/statistics", api_pdns_statistics, 0, NULL, NULL },
	{ "GET", "/api/v1/servers/:server/search-data", api_pdns_search, 0, NULL, NULL },
	{ "GET", "/api/v1/servers/:server/tsigkeys", api_pdns_tsig_list, 0, NULL, NULL },
	{ "POST", "/api/v1/servers/:server/tsigkeys", api_pdns_tsig_create, 0, NULL, NULL },
	{ "GET", "/api/v1/servers/:server/tsigkeys/:key", api_pdns_tsig_get, 0, NULL, NULL },
	{ "PUT", "/api/v1/servers/:server/tsigkeys/:key", api_pdns_tsig_update, 0, NULL, NULL },
	{ "DELETE", "/api/v1/servers/:server/tsigkeys/:key", api_pdns_tsig_delete, 0, NULL, NULL },
	{ "GET", "/api/dns/servers", api_servers_list, 0, NULL, NULL },
	{ "POST", "/api/dns/servers", api_server_create, 0, NULL, NULL },
	{ "GET", "/api/dns/servers/:id", api_server_get, 0, NULL, NULL },
	{ "PUT", "/api/dns/servers/:id", api_server_update, 0, NULL, NULL },
	{ "DELETE", "/api/dns/servers/:id", api_server_delete, 0, NULL, NULL },
	{ "GET", "/api/dns/cluster/status", api_cluster_status, 0, NULL, NULL },
	{ "GET", "/api/dns/cluster/statistics", api_cluster_statistics, 0, NULL, NULL },
	{ "GET", "/api/dns/cluster/health", api_cluster_health, 0, NULL, NULL },
	{ "GET", "/api/dns/cluster/events", api_cluster_events, 0, NULL, NULL },
	{ "POST", "/api/dns/cluster/nodes/:id", api_cluster_node_add, 0, NULL, NULL },
	{ "DELETE", "/api/dns/cluster/nodes/:id", api_cluster_node_remove, 0, NULL, NULL },
	{ "POST", "/api/dns/cluster/sync/:id", api_cluster_sync_zone, 0, NULL, NULL },
	{ "POST", "/api/dns/cluster/sync-all/:id", api_cluster_sync_all, 0, NULL, NULL },
	{ "GET", "/api/dns/cluster/sync-all/:id", api_cluster_sync_progress, 0, NULL, NULL },
	{ "PUT", "/api/dns/records/:id", api_record_update, 0, NULL, NULL },
	{ "DELETE", "/api/dns/records/:id", api_record_delete, 0, NULL, NULL },
	{ "GET", "/api/dns/tokens", api_tokens_list, 0, NULL, NULL },
	{ "POST", "/api/dns/tokens", api_token_create, 0, NULL, NULL },
	{ "DELETE", "/api/dns/tokens/:id", api_token_revoke, 0, NULL, NULL },
	{ "GET", "/api/dns/tsig-keys", api_tsig_list, 0, NULL, NULL },
	{ "POST", "/api/dns/tsig-keys", api_tsig_create, 0, NULL, NULL },
	{ "GET", "/api/dns/tsig-keys/:name", api_tsig_get, 0, NULL, NULL },
	{ "PUT", "/api/dns/tsig-keys/:name", api_tsig_update, 0, NULL, NULL },
	{ "DELETE", "/api/dns/tsig-keys/:name", api_tsig_delete, 0, NULL, NULL },
	{ "GET", "/api/dns/audit", api_audit_list, 0, NULL, NULL },
	{ "GET", "/api/dns/update-policies", api_upolicies_list, 0, NULL, NULL },
	{ "GET", "/api/dns/update-policies/:key", api_upolicy_get, 0, NULL, NULL },
	{ "PUT", "/api/dns/update-policies/:key", api_upolicy_put, 0, NULL, NULL },
	{ "DELETE", "/api/dns/update-policies/:key", api_upolicy_delete, 0, NULL, NULL },
	{ "GET", "/api/dns/dnssec/keys", api_dnssec_keys, 0, NULL, NULL },
	{ "GET", "/api/dns/transfers", api_xfr_default_get, 0, NULL, NULL },
	{ "PUT", "/api/dns/transfers", api_xfr_default_put, 0, NULL, NULL },
	{ "GET", "/api/dns", api_zones_list, 0, NULL, NULL },
	{ "POST", "/api/dns", api_zone_create, 0, NULL, NULL },
	{ "GET", "/api/dns/:id", api_zone_get, 0, NULL, NULL },
	{ "PUT", "/api/dns/:id", api_zone_update, 0, NULL, NULL },
	{ "DELETE", "/api/dns/:id", api_zone_delete, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/records", api_records_list, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/records", api_record_create, 0, NULL, NULL },
	{ "PUT", "/api/dns/:id/records", api_records_replace, 0, NULL, NULL },
	{ "PATCH", "/api/dns/:id/rrsets", api_rrsets_patch, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/policies", api_policies_list, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/policies/health", api_policies_health, 0, NULL, NULL },
	{ "PUT", "/api/dns/:id/policies", api_policy_set, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/increase-serial", api_zone_increase_serial, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/notify", api_zone_notify, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/retrieve", api_zone_retrieve, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/import", api_zone_import, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/export", api_zone_export, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/versions", api_versions_list, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/versions/:version", api_version_get, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/diff", api_zone_diff, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/rollback", api_zone_rollback, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/dnssec", api_dnssec_get, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/dnssec", api_dnssec_post, 0, NULL, NULL },
	{ "DELETE", "/api/dns/:id/dnssec", api_dnssec_delete, 0, NULL, NULL },
	{ "GET", "/api/dns/:id/transfers", api_xfr_zone_get, 0, NULL, NULL },
	{ "PUT", "/api/dns/:id/transfers", api_xfr_zone_put, 0, NULL, NULL },
	{ "DELETE", "/api/dns/:id/transfers", api_xfr_zone_delete, 0, NULL, NULL },
	{ "POST", "/api/dns/:id/dnssec/rollover", api_dnssec_roll, 0, NULL, NULL },
	{ 0 },
};
