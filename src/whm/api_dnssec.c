/* The DNSSEC routes of a zone: its state, signing, unsigning, rollovers. */
#include <string.h>

#include "api_internal.h"
#include "dnssec.h"

/* Answer a change: its error 'r' with 'err', or 'j' (taken) for change
 * 'res', which is no change when res->version is 0, with the new version
 * and serial, and with ?wait=all the nodes' answers. */
static void reply_dnssec(struct whm *w, struct http_request *req, struct http_reply *rep, int r,
			 const char *err, const struct zone_result *res, json_t *j)
{
	if (r < 0) {
		http_reply_error(rep, r, err);
		return;
	}
	if (res->version != 0) {
		json_object_set_new(j, "version", json_integer((json_int_t)res->version));
		json_object_set_new(j, "serial", json_integer((json_int_t)res->serial));
		api_wait_nodes(w, req, res, j);
	}
	http_reply_json(rep, 200, j);
}

void api_dnssec_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct errmsg err;
	int64_t id;
	json_t *j = NULL;

	if (api_path_id(req, rep, 0, &id) < 0)
		return;
	int r = signing_view(w, id, &j, &err);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	http_reply_json(rep, 200, j);
}

/* GET /api/dns/dnssec/keys?limit=N&after=ID: the keys of every signed zone. */
void api_dnssec_keys(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;
	uint64_t limit = 1000, after = 0;
	json_t *j = NULL;

	int r = api_query_uint(req, rep, "limit", 1, STORE_KEY_PAGE_MAX, &limit);
	if (r == ERR_INVALID)
		return;
	r = api_query_uint(req, rep, "after", 0, INT64_MAX, &after);
	if (r == ERR_INVALID)
		return;
	r = signing_keys(ctx, (int64_t)after, (unsigned)limit, &j, &err);
	if (r < 0)
		http_reply_error(rep, r, err.text);
	else
		http_reply_json(rep, 200, j);
}

void api_dnssec_post(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct errmsg err;
	struct zone_result res = { 0 };
	int64_t id;
	json_t *b = NULL, *j = NULL;

	if (!api_may_write(req, rep) || api_path_id(req, rep, 0, &id) < 0)
		return;
	if (http_request_body(req)->len > 0 && api_body_object(req, rep, &b) < 0)
		return;
	int r = signing_sign(w, id, b, api_actor(req), &res, &j, &err);
	json_decref(b);
	if (r >= 0) {
		json_object_set_new(j, "changed", json_boolean(res.version != 0));
		json_object_set_new(j, "message",
				    json_string(res.version != 0
						    ? "zone signed"
						    : "already signed so; nothing changed"));
	}
	reply_dnssec(w, req, rep, r, err.text, &res, j);
}

void api_dnssec_roll(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct errmsg err;
	struct zone_result res = { 0 };
	int64_t id;
	json_t *b = NULL, *j = NULL;

	if (!api_may_write(req, rep) || api_path_id(req, rep, 0, &id) < 0 ||
	    api_body_object(req, rep, &b) < 0)
		return;
	int r = rollover_request(w, id, b, api_actor(req), &res, &j, &err);
	json_decref(b);
	reply_dnssec(w, req, rep, r, err.text, &res, j);
}

void api_dnssec_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char force[8];
	struct errmsg err;
	struct zone_result res = { 0 };
	int64_t id;

	if (!api_may_write(req, rep) || api_path_id(req, rep, 0, &id) < 0)
		return;
	bool forced = http_request_query(req, "force", force, sizeof(force)) == 0 &&
		      (strcmp(force, "1") == 0 || strcmp(force, "true") == 0);
	int r = signing_unsign(w, id, forced, api_actor(req), &res, &err);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	json_t *j = json_pack("{s:b,s:I,s:b,s:b,s:s}", "success", 1, "zoneId", (json_int_t)id,
			      "enabled", 0, "changed", res.version != 0, "message",
			      res.version != 0 ? "zone unsigned; every node removes its keys"
					       : "the zone is not signed; nothing changed");
	reply_dnssec(w, req, rep, 0, NULL, &res, j);
}
