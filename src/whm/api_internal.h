/* What the route files (api_*.c) share: the helpers every route uses to
 * check, parse and answer a request (api.c), and the handlers that api.c's
 * route table names. Not for use outside the API. */
#ifndef YUMNA_WHM_API_INTERNAL_H
#define YUMNA_WHM_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "http/server.h"
#include "whm.h"
#include "zones.h"

/* --- helpers (api.c); each one that refuses a request has answered it ------ */

/* Writes need an admin token. */
bool api_may_write(struct http_request *req, struct http_reply *rep);
/* Whether the request carries an admin token (not a read token). */
bool api_is_admin(const struct http_request *req);

/* Raw LUA records run code inside every node's PowerDNS: a body that
 * names type "LUA" anywhere (an object's "type") passes only from an admin
 * token and with allow-raw-lua set; otherwise the reply is the error (403
 * or 422) and the result false. */
bool api_raw_lua_allowed(const struct whm *w, const struct http_request *req,
			 struct http_reply *rep, const json_t *body);
/* Who asked, for the history and the audit log: the name of the request's
 * token; valid until the handler returns. */
const char *api_actor(const struct http_request *req);

/* Whether 's' is 'min' to 'max' printable ASCII characters (no control
 * bytes that a terminal or a log would act on), none of them in 'refused'. */
bool api_printable(const char *s, size_t min, size_t max, const char *refused);

/* Path parameter 'i' as a positive id: 0, or ERR_INVALID. */
int api_path_id(struct http_request *req, struct http_reply *rep, unsigned i, int64_t *ret);
/* A query argument that must be a whole number in [min, max] when given:
 * 0 (*ret set), -ENOENT when absent, or ERR_INVALID. */
int api_query_uint(struct http_request *req, struct http_reply *rep, const char *name, uint64_t min,
		   uint64_t max, uint64_t *ret);
/* A query argument that must be true/false, 1/0 or yes/no when given: 0
 * (*ret set), -ENOENT when absent, or ERR_INVALID. */
int api_query_bool(struct http_request *req, struct http_reply *rep, const char *name, bool *ret);
/* The same, refused with 'code' (ERR_MALFORMED: a 400) instead of
 * ERR_INVALID (a 422). */
int api_query_number(struct http_request *req, struct http_reply *rep, const char *name,
		     uint64_t min, uint64_t max, int code, uint64_t *ret);
/* The body as a JSON object; the caller owns *ret. */
int api_body_object(struct http_request *req, struct http_reply *rep, json_t **ret);
/* This thread's store, or NULL with a 503 (logged: api_store_refused()). */
struct store *api_store(struct whm *w, struct http_reply *rep);
/* Log that a request is refused with 503 because the store cannot be
 * opened or failed, for reason 'why' (never a token or a body): at once,
 * then at most one line every WHM_FAILURE_LOG_MS, with how many requests
 * were refused since the last, so that an outage under load does not flood
 * the log. */
void api_store_refused(const char *why);
/* api_store_refused() for 'what' that failed in store 'st' with 'r'
 * (ERR_BACKEND, ERR_UNAVAILABLE: with the database's message). */
void api_store_failed(struct store *st, int r, const char *what);

/* An error with a service's message, or the code's own text for "". */
void api_reply_error(struct http_reply *rep, int err, const char *message);
/* Answer a list: 'list' (taken) if 'r' is 0, else 'r' with 'message'. */
void api_reply_list(struct http_reply *rep, int r, json_t *list, const char *message);
/* How many objects of 'array' have 'key' true. */
size_t api_count_true(const json_t *array, const char *key);
/* A 200 with the content of 'out', which is emptied without a copy. */
void api_reply_buf(struct http_reply *rep, const char *content_type, struct buf *out);
/* Reply to a zone change: its result, 'extra' (taken, may be NULL) and
 * with ?wait=all the nodes' answers. */
void api_reply_change(struct whm *w, struct http_request *req, struct http_reply *rep,
		      unsigned status, const char *message, const struct zone_result *res,
		      json_t *extra);
/* Add ?wait=all's node answers to 'j' (the answer to change 'res'). */
void api_wait_nodes(struct whm *w, struct http_request *req, const struct zone_result *res,
		    json_t *j);

/* --- handlers (the route table in api.c) ----------------------------------- */

/* Each is an http_handler_fn: 'ctx' is the struct whm. */

/* api_xfrout.c */
void api_xfr_default_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_xfr_default_put(struct http_request *req, struct http_reply *rep, void *ctx);
void api_xfr_zone_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_xfr_zone_put(struct http_request *req, struct http_reply *rep, void *ctx);
void api_xfr_zone_delete(struct http_request *req, struct http_reply *rep, void *ctx);

/* api_zones.c */
void api_zones_list(struct http_request *req, struct http_reply *rep, void *ctx);
void api_zone_create(struct http_request *req, struct http_reply *rep, void *ctx);
void api_zone_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_zone_update(struct http_request *req, struct http_reply *rep, void *ctx);
void api_zone_delete(struct http_request *req, struct http_reply *rep, void *ctx);
void api_records_list(struct http_request *req, struct http_reply *rep, void *ctx);
void api_record_create(struct http_request *req, struct http_reply *rep, void *ctx);
void api_records_replace(struct http_request *req, struct http_reply *rep, void *ctx);
void api_record_update(struct http_request *req, struct http_reply *rep, void *ctx);
void api_record_delete(struct http_request *req, struct http_reply *rep, void *ctx);
void api_rrsets_patch(struct http_request *req, struct http_reply *rep, void *ctx);
void api_policies_list(struct http_request *req, struct http_reply *rep, void *ctx);
void api_policies_health(struct http_request *req, struct http_reply *rep, void *ctx);
void api_policy_set(struct http_request *req, struct http_reply *rep, void *ctx);
void api_zone_increase_serial(struct http_request *req, struct http_reply *rep, void *ctx);
void api_zone_import(struct http_request *req, struct http_reply *rep, void *ctx);
void api_zone_export(struct http_request *req, struct http_reply *rep, void *ctx);

/* api_nodes.c */
void api_servers_list(struct http_request *req, struct http_reply *rep, void *ctx);
void api_server_create(struct http_request *req, struct http_reply *rep, void *ctx);
void api_server_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_server_update(struct http_request *req, struct http_reply *rep, void *ctx);
void api_server_delete(struct http_request *req, struct http_reply *rep, void *ctx);
void api_cluster_node_add(struct http_request *req, struct http_reply *rep, void *ctx);
void api_cluster_node_remove(struct http_request *req, struct http_reply *rep, void *ctx);
void api_cluster_sync_zone(struct http_request *req, struct http_reply *rep, void *ctx);
void api_cluster_sync_all(struct http_request *req, struct http_reply *rep, void *ctx);
void api_cluster_sync_progress(struct http_request *req, struct http_reply *rep, void *ctx);
void api_zone_notify(struct http_request *req, struct http_reply *rep, void *ctx);
void api_zone_retrieve(struct http_request *req, struct http_reply *rep, void *ctx);

/* api_tokens.c */
void api_tokens_list(struct http_request *req, struct http_reply *rep, void *ctx);
void api_token_create(struct http_request *req, struct http_reply *rep, void *ctx);
void api_token_revoke(struct http_request *req, struct http_reply *rep, void *ctx);

/* api_upolicy.c */
void api_upolicies_list(struct http_request *req, struct http_reply *rep, void *ctx);
void api_upolicy_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_upolicy_put(struct http_request *req, struct http_reply *rep, void *ctx);
void api_upolicy_delete(struct http_request *req, struct http_reply *rep, void *ctx);

/* api_dnssec.c */
void api_dnssec_keys(struct http_request *req, struct http_reply *rep, void *ctx);
void api_dnssec_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_dnssec_post(struct http_request *req, struct http_reply *rep, void *ctx);
void api_dnssec_delete(struct http_request *req, struct http_reply *rep, void *ctx);
void api_dnssec_roll(struct http_request *req, struct http_reply *rep, void *ctx);

/* api_history.c */
void api_versions_list(struct http_request *req, struct http_reply *rep, void *ctx);
void api_version_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_zone_diff(struct http_request *req, struct http_reply *rep, void *ctx);
void api_zone_rollback(struct http_request *req, struct http_reply *rep, void *ctx);
void api_audit_list(struct http_request *req, struct http_reply *rep, void *ctx);

/* api_ops.c */
void api_health(struct http_request *req, struct http_reply *rep, void *ctx);
void api_metrics(struct http_request *req, struct http_reply *rep, void *ctx);
void api_cluster_status(struct http_request *req, struct http_reply *rep, void *ctx);
void api_cluster_statistics(struct http_request *req, struct http_reply *rep, void *ctx);
void api_cluster_health(struct http_request *req, struct http_reply *rep, void *ctx);
void api_cluster_events(struct http_request *req, struct http_reply *rep, void *ctx);

/* api_pdns.c: PowerDNS's API (api_pdns.h: what its files share) */
void api_pdns_discovery(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_v1(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_servers(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_server(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_config(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_zones(struct http_request *req, struct http_reply *rep, void *ctx);
/* api_pdns_zone.c: PowerDNS's API, one zone */
void api_pdns_zone_create(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_zone_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_zone_patch(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_zone_delete(struct http_request *req, struct http_reply *rep, void *ctx);

/* api_pdns_keys.c: PowerDNS's cryptokeys over the zone's key set */
void api_pdns_keys_list(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_key_create(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_key_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_key_update(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_key_delete(struct http_request *req, struct http_reply *rep, void *ctx);
/* api_pdns_meta.c: PowerDNS's zone metadata */
void api_pdns_meta_list(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_meta_post(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_meta_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_meta_put(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_meta_delete(struct http_request *req, struct http_reply *rep, void *ctx);

/* api_tsig.c: TSIG keys, the panel's routes and PowerDNS's */
void api_tsig_list(struct http_request *req, struct http_reply *rep, void *ctx);
void api_tsig_create(struct http_request *req, struct http_reply *rep, void *ctx);
void api_tsig_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_tsig_update(struct http_request *req, struct http_reply *rep, void *ctx);
void api_tsig_delete(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_tsig_list(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_tsig_create(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_tsig_get(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_tsig_update(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_tsig_delete(struct http_request *req, struct http_reply *rep, void *ctx);

/* api_pdns_ops.c: PowerDNS's API, operations */
void api_pdns_zone_put(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_zone_notify(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_zone_retrieve(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_zone_rectify(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_zone_export(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_cache_flush(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_statistics(struct http_request *req, struct http_reply *rep, void *ctx);
void api_pdns_search(struct http_request *req, struct http_reply *rep, void *ctx);

#endif
