/* The TSIG key routes: the panel's (/api/dns/tsig-keys) and PowerDNS's
 * (/api/v1/servers/localhost/tsigkeys), both over tsig.h. Read tokens
 * list keys; only admin tokens make, change and delete them, and only they
 * see a secret, on a single-key read or when it was made. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "api_pdns.h"
#include "base/err.h"
#include "json/jsonx.h"
#include "tsig.h"

/* A key in the panel's shape, with its secret when 'secret'. */
static json_t *panel_json(const struct tsig_key *k, bool secret)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:b,s:I,s:I}", "id", (json_int_t)k->id, "name", k->name,
			      "algorithm", k->algorithm, "legacy", k->legacy, "created_at",
			      (json_int_t)k->created_at, "updated_at", (json_int_t)k->updated_at);
	if (o != NULL && secret)
		json_object_set_new(o, "secret", json_string(k->secret));
	return o;
}

/* PowerDNS's TSIGKey: the name without its trailing dot, the id with it
 * ("=XX" escapes), the key "" unless 'secret'. */
static json_t *pdns_json(const struct tsig_key *k, bool secret)
{
	char id[DNAME_PDNS_ID_MAX], name[DNAME_TEXT_MAX];
	size_t n = strlen(k->name);

	dname_pdns_id(k->name, id);
	snprintf(name, sizeof(name), "%.*s", (int)(n > 1 ? n - 1 : n), k->name);
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "algorithm", k->algorithm, "id", id, "key",
			 secret ? k->secret : "", "name", name, "type", "TSIGKey");
}

struct list {
	json_t *out;
	bool pdns;
};

static int list_key(const struct tsig_key *k, void *ctx)
{
	struct list *l = ctx;
	json_t *o = l->pdns ? pdns_json(k, false) : panel_json(k, false);

	return o != NULL && json_array_append_new(l->out, o) == 0 ? 0 : -ENOMEM;
}

static void list(struct http_reply *rep, struct whm *w, bool pdns)
{
	struct list l = { json_array(), pdns };
	int r = l.out != NULL ? tsig_each(w, list_key, &l) : -ENOMEM;

	api_reply_list(rep, r, l.out, "cannot list the TSIG keys");
}

/* The change a body asks for: 'name', 'algorithm' and the secret in
 * 'secret' (the panel) or 'key' (PowerDNS, where "" means a new one). */
static int read_change(const json_t *b, bool pdns, struct tsig_change *c, struct errmsg *err)
{
	static const char *const panel_keys[] = { "name", "algorithm", "secret", "rotate", NULL };
	const char *secret_key = pdns ? "key" : "secret";

	memset(c, 0, sizeof(*c));
	/* PowerDNS ignores what it does not know (clients send the whole
	 * TSIGKey back, "id" and "type" included); the panel's routes refuse it. */
	int r = pdns ? 0 : jsonx_check_keys(b, panel_keys, "body", err);
	if (r == 0 && (r = jsonx_get_str(b, "name", false, "body", &c->name, err)) == -ENOENT)
		r = 0;
	if (r == 0 &&
	    (r = jsonx_get_str(b, "algorithm", false, "body", &c->algorithm, err)) == -ENOENT)
		r = 0;
	if (r == 0 && (r = jsonx_get_str(b, secret_key, false, "body", &c->secret, err)) == -ENOENT)
		r = 0;
	if (r == 0 && !pdns &&
	    (r = jsonx_get_bool(b, "rotate", false, "body", &c->new_secret, err)) == -ENOENT)
		r = 0;
	if (r == 0 && pdns && c->secret != NULL && c->secret[0] == '\0') {
		c->secret = NULL;
		c->new_secret = true;
	}
	return r;
}

/* --- the panel's routes ------------------------------------------------- */

void api_tsig_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	(void)req;
	list(rep, ctx, false);
}

void api_tsig_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct tsig_change c;
	struct tsig_key k;
	struct errmsg err = { "" };
	json_t *b;

	if (!api_may_write(req, rep) || api_body_object(req, rep, &b) < 0)
		return;
	int r = read_change(b, false, &c, &err);
	if (r == 0)
		r = tsig_create(ctx, &c, api_actor(req), &k, &err);
	json_decref(b);
	if (r < 0) {
		api_reply_error(rep, r, err.text);
		return;
	}
	/* The other side must be configured with the secret: shown here,
	 * and later only to admins reading this one key. */
	http_reply_json(rep, 201, panel_json(&k, true));
	tsig_key_clear(&k);
}

void api_tsig_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct tsig_key k;
	struct errmsg err = { "" };

	int r = tsig_get(ctx, http_request_param(req, 0), &k, &err);
	if (r < 0)
		api_reply_error(rep, r, err.text);
	else
		http_reply_json(rep, 200, panel_json(&k, api_is_admin(req)));
	tsig_key_clear(&k);
}

void api_tsig_update(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct tsig_change c;
	struct tsig_key k;
	struct errmsg err = { "" };
	json_t *b;

	if (!api_may_write(req, rep) || api_body_object(req, rep, &b) < 0)
		return;
	int r = read_change(b, false, &c, &err);
	if (r == 0)
		r = tsig_update(ctx, http_request_param(req, 0), &c, api_actor(req), &k, &err);
	json_decref(b);
	if (r < 0)
		api_reply_error(rep, r, err.text);
	else
		http_reply_json(rep, 200, panel_json(&k, true));
	tsig_key_clear(&k);
}

void api_tsig_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err = { "" };
	const char *name = http_request_param(req, 0);

	if (!api_may_write(req, rep))
		return;
	int r = tsig_delete(ctx, name, api_actor(req), &err);
	if (r < 0)
		api_reply_error(rep, r, err.text);
	else
		http_reply_json(rep, 200,
				json_pack("{s:b,s:s,s:s}", "success", 1, "message",
					  "TSIG key deleted", "name", name));
}

/* --- PowerDNS's routes --------------------------------------------------- */

/* The key name of path parameter 1, a PowerDNS id ("=XX" escapes undone). */
static int path_key(struct http_request *req, struct http_reply *rep, char name[DNAME_TEXT_MAX])
{
	struct errmsg err;
	int r = dname_pdns_id_read(http_request_param(req, 1), name, &err);

	if (r < 0)
		http_reply_error(rep, r, err.text);
	return r;
}

void api_pdns_tsig_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	if (api_pdns_our_server(req, rep))
		list(rep, ctx, true);
}

/* PowerDNS answers 404 with "Not Found" for a key it does not have. */
static void pdns_error(struct http_reply *rep, int r, const struct errmsg *err)
{
	http_reply_error(rep, r, r == ERR_NOT_FOUND ? "Not Found" : err->text);
}

void api_pdns_tsig_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct tsig_change c;
	struct tsig_key k;
	struct errmsg err = { "" };
	json_t *b;

	if (!api_pdns_our_server(req, rep) || !api_may_write(req, rep) ||
	    api_body_object(req, rep, &b) < 0)
		return;
	/* As PowerDNS asks: a name and an algorithm, the key optional. */
	int r = read_change(b, true, &c, &err);
	if (r == 0 && c.name == NULL)
		r = errmsg_set(&err, ERR_INVALID, "Key 'name' not present or not a String");
	if (r == 0 && c.algorithm == NULL)
		r = errmsg_set(&err, ERR_INVALID, "Key 'algorithm' not present or not a String");
	if (r == 0)
		r = tsig_create(ctx, &c, api_actor(req), &k, &err);
	json_decref(b);
	if (r < 0)
		http_reply_error(rep, r, err.text);
	else
		http_reply_json(rep, 201, pdns_json(&k, true));
	tsig_key_clear(&k);
}

void api_pdns_tsig_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	char name[DNAME_TEXT_MAX];
	struct tsig_key k;
	struct errmsg err = { "" };

	if (!api_pdns_our_server(req, rep) || path_key(req, rep, name) < 0)
		return;
	int r = tsig_get(ctx, name, &k, &err);
	if (r < 0)
		pdns_error(rep, r, &err);
	else
		http_reply_json(rep, 200, pdns_json(&k, api_is_admin(req)));
	tsig_key_clear(&k);
}

void api_pdns_tsig_update(struct http_request *req, struct http_reply *rep, void *ctx)
{
	char name[DNAME_TEXT_MAX];
	struct tsig_change c;
	struct tsig_key k;
	struct errmsg err = { "" };
	json_t *b;

	if (!api_pdns_our_server(req, rep) || !api_may_write(req, rep) ||
	    path_key(req, rep, name) < 0 || api_body_object(req, rep, &b) < 0)
		return;
	int r = read_change(b, true, &c, &err);
	if (r == 0)
		r = tsig_update(ctx, name, &c, api_actor(req), &k, &err);
	json_decref(b);
	if (r < 0)
		pdns_error(rep, r, &err);
	else
		http_reply_json(rep, 200, pdns_json(&k, true));
	tsig_key_clear(&k);
}

void api_pdns_tsig_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	char name[DNAME_TEXT_MAX];
	struct errmsg err = { "" };

	if (!api_pdns_our_server(req, rep) || !api_may_write(req, rep) ||
	    path_key(req, rep, name) < 0)
		return;
	int r = tsig_delete(ctx, name, api_actor(req), &err);
	if (r < 0)
		pdns_error(rep, r, &err);
	else
		http_reply_text(rep, 204, NULL, "", 0);
}
