/* The token routes: only admin tokens list, make and revoke tokens. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "base/err.h"
#include "json/jsonx.h"
#include "tokens.h"

/* Tokens give full or read access to every zone: only admins see them. */
static bool admin_only(struct http_request *req, struct http_reply *rep)
{
	if (api_is_admin(req))
		return true;
	http_reply_error(rep, ERR_FORBIDDEN, "only an admin token may manage tokens");
	return false;
}

void api_tokens_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	json_t *out = NULL;

	if (!admin_only(req, rep) || (st = api_store(ctx, rep)) == NULL)
		return;
	int r = tokens_list(st, &out);
	api_reply_list(rep, r, out, "cannot list tokens");
}

static const char *const token_keys[] = { "name", "role", NULL };

void api_token_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	char token[TOKENS_TEXT_MAX];
	struct errmsg err;
	const char *name = NULL, *role = NULL;
	int64_t id = 0;
	json_t *b;

	if (!admin_only(req, rep) || (st = api_store(ctx, rep)) == NULL ||
	    api_body_object(req, rep, &b) < 0)
		return;
	int r = jsonx_check_keys(b, token_keys, "body", &err);
	if (r == 0)
		r = jsonx_get_str(b, "name", true, "body", &name, &err);
	if (r == 0)
		r = jsonx_get_str(b, "role", true, "body", &role, &err);
	if (r == 0 && !api_printable(name, 1, 63, "'\"")) {
		errmsg_set(&err, 0, "body.name: 1 to 63 printable ASCII characters, no quotes");
		r = ERR_INVALID;
	}
	if (r == 0 && strcmp(role, "admin") != 0 && strcmp(role, "read") != 0) {
		errmsg_set(&err, 0, "body.role: admin or read");
		r = ERR_INVALID;
	}
	if (r == 0)
		r = tokens_create(st, name, role, api_actor(req), &id, token, &err);
	if (r < 0) {
		json_decref(b);
		http_reply_error(rep, r, err.text);
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

void api_token_revoke(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct errmsg err;
	int64_t id;

	if (!admin_only(req, rep) || (st = api_store(ctx, rep)) == NULL ||
	    api_path_id(req, rep, 0, &id) < 0)
		return;
	int r = tokens_revoke(st, id, http_request_principal_id(req), api_actor(req), &err);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	http_reply_json(rep, 200,
			json_pack("{s:b,s:s,s:I}", "success", 1, "message", "token revoked", "id",
				  (json_int_t)id));
}
