/* The update policy routes (upolicy.h): which zones, names and types each
 * TSIG key may change by RFC 2136 UPDATE. Admin tokens only: a policy is
 * the key's power over the zones. */
#include <errno.h>

#include "api_internal.h"
#include "base/err.h"
#include "upolicy.h"

static bool admin_only(struct http_request *req, struct http_reply *rep)
{
	if (api_is_admin(req))
		return true;
	http_reply_error(rep, ERR_FORBIDDEN, "only an admin token may manage update policies");
	return false;
}

void api_upolicies_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;
	json_t *out = NULL;

	if (!admin_only(req, rep))
		return;
	int r = upolicy_list(ctx, &out, &err);
	api_reply_list(rep, r, out, err.text);
}

void api_upolicy_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;
	json_t *out = NULL;

	if (!admin_only(req, rep))
		return;
	int r = upolicy_get(ctx, http_request_param(req, 0), &out, &err);
	if (r < 0)
		http_reply_error(rep, r, err.text);
	else
		http_reply_json(rep, 200, out);
}

void api_upolicy_put(struct http_request *req, struct http_reply *rep, void *ctx)
{
	char name[DNAME_TEXT_MAX];
	struct errmsg err;
	json_t *body, *rules = NULL;

	if (!admin_only(req, rep) || api_body_object(req, rep, &body) < 0)
		return;
	int r =
	    upolicy_set(ctx, http_request_param(req, 0), body, api_actor(req), name, &rules, &err);
	json_decref(body);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	http_reply_json(rep, 200, json_pack("{s:s,s:o}", "key", name, "rules", rules));
}

void api_upolicy_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;

	if (!admin_only(req, rep))
		return;
	int r = upolicy_delete(ctx, http_request_param(req, 0), api_actor(req), &err);
	if (r < 0)
		http_reply_error(rep, r, err.text);
	else
		http_reply_json(rep, 200, json_pack("{s:b}", "success", 1));
}
