/* Transfers to third-party secondaries (xfrout.h): the cluster's default at
 * /api/dns/transfers, a zone's own at /api/dns/:id/transfers. Reads for
 * any token, changes for admin tokens. */
#include <errno.h>
#include <stdio.h>

#include "api_internal.h"
#include "xfrout.h"

static void reply_settings(struct whm *w, struct http_reply *rep, int64_t zone_id, json_t *extra)
{
	struct store *st = api_store(w, rep);
	json_t *j = NULL;

	if (st == NULL) {
		json_decref(extra);
		return;
	}
	int r = xfrout_get(w, st, zone_id, &j);
	if (r < 0) {
		json_decref(extra);
		http_reply_error(rep, r, "cannot read the transfer settings");
		return;
	}
	json_object_set_new(j, "success", json_true());
	if (extra != NULL)
		json_object_update(j, extra);
	json_decref(extra);
	http_reply_json(rep, 200, j);
}

/* GET /api/dns/transfers */
void api_xfr_default_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	(void)req;
	reply_settings(ctx, rep, 0, NULL);
}

/* PUT /api/dns/transfers {"allow", "notify"}: 200 with the settings and
 * "zones", how many zones follow them (each has a new version). */
void api_xfr_default_put(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;
	uint64_t n = 0;
	json_t *b;

	if (!api_may_write(req, rep) || api_body_object(req, rep, &b) < 0)
		return;
	int r = xfrout_default_set(ctx, b, api_actor(req), &n, &err);
	json_decref(b);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	reply_settings(ctx, rep, 0, json_pack("{s:I}", "zones", (json_int_t)n));
}

/* GET /api/dns/:id/transfers: the settings that apply, "default": true
 * when they are the cluster's. */
void api_xfr_zone_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct store_zone z;
	struct errmsg err;
	int64_t id;

	if (api_path_id(req, rep, 0, &id) < 0)
		return;
	int r = zones_get_live(ctx, id, &st, &z, &err);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	store_zone_clear(&z);
	reply_settings(ctx, rep, id, NULL);
}

/* PUT (own settings) and DELETE (the cluster's again) of
 * /api/dns/:id/transfers: a new version, with ?wait=all as any change. */
static void zone_set(struct http_request *req, struct http_reply *rep, void *ctx, bool put)
{
	struct whm *w = ctx;
	struct zone_result res = { 0 };
	struct errmsg err;
	json_t *b = NULL;
	int64_t id;

	if (!api_may_write(req, rep) || api_path_id(req, rep, 0, &id) < 0)
		return;
	if (put && api_body_object(req, rep, &b) < 0)
		return;
	int r = xfrout_zone_set(w, id, b, api_actor(req), &res, &err);
	json_decref(b);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	json_t *extra = json_pack("{s:b}", "changed", res.version != 0);
	if (res.version != 0) {
		json_object_set_new(extra, "version", json_integer((json_int_t)res.version));
		json_object_set_new(extra, "serial", json_integer((json_int_t)res.serial));
		api_wait_nodes(w, req, &res, extra);
	}
	reply_settings(w, rep, id, extra);
}

void api_xfr_zone_put(struct http_request *req, struct http_reply *rep, void *ctx)
{
	zone_set(req, rep, ctx, true);
}

void api_xfr_zone_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	zone_set(req, rep, ctx, false);
}
