#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/secret.h"
#include "json/jsonx.h"
#include "history.h"
#include "tokens.h"

int tokens_find(struct store *st, const char *token, char ret_role[16], int64_t *ret_id,
		char ret_name[64])
{
	char hash[65];

	/* Only the SHA-256 of a token is stored; looking it up by hash leaks
	 * nothing about the token through timing. */
	if (secret_sha256_hex(token, hash) < 0)
		return -EIO;
	return store_token_find(st, hash, ret_role, ret_id, ret_name);
}

static int list_token(int64_t id, const char *name, const char *role, int64_t created_at,
		      bool revoked, void *ctx)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:b}", "id", (json_int_t)id, "name", name, "role",
			      role, "created_at", (json_int_t)created_at, "revoked", revoked);
	return o != NULL && json_array_append_new(ctx, o) == 0 ? 0 : -ENOMEM;
}

int tokens_list(struct store *st, json_t **ret)
{
	json_t *out = json_array();
	int r = store_token_foreach(st, list_token, out);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

int tokens_create(struct store *st, const char *name, const char *role, const char *actor,
		  int64_t *ret_id, char ret_token[TOKENS_TEXT_MAX], struct errmsg *err)
{
	char hash[65];

	if (secret_random_hex(ret_token, TOKENS_TEXT_MAX, 32) < 0 ||
	    secret_sha256_hex(ret_token, hash) < 0) {
		explicit_bzero(ret_token, TOKENS_TEXT_MAX);
		return errmsg_set(err, -EIO, "cannot make a token");
	}
	char summary[HISTORY_SUMMARY_MAX];
	uint64_t same = 0;
	err->text[0] = '\0';
	int r = store_begin(st);
	if (r == 0)
		r = store_token_count_live(st, NULL, name, &same);
	if (r == 0 && same > 0)
		r = errmsg_set(err, ERR_CONFLICT,
			       "a token named '%s' exists; revoke it first or choose another name",
			       name);
	if (r == 0)
		r = store_token_insert(st, name, hash, role, ret_id);
	if (r == 0) {
		history_summary(summary, "token %lld '%s', role %s", (long long)*ret_id, name,
				role);
		r = history_note(st, actor, "token.create", summary);
	}
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		explicit_bzero(ret_token, TOKENS_TEXT_MAX);
		if (err->text[0] == '\0')
			errmsg_set(err, 0, "cannot store the token");
	}
	return r;
}

/* Revoking the last live admin token would leave nobody able to manage
 * tokens through the API (only `yumna-whm token create` on the
 * controller's host could make one again). */
static int keeps_an_admin(struct store *st, int64_t id, int64_t self_id, struct errmsg *err)
{
	char role[16];
	bool revoked;
	uint64_t admins = 0;

	int r = store_token_get(st, id, role, &revoked);
	if (r == -ENOENT)
		return errmsg_set(err, ERR_NOT_FOUND, "no such token");
	if (r < 0 || revoked || strcmp(role, "admin") != 0)
		return r;
	r = store_token_count_live(st, "admin", NULL, &admins);
	if (r == 0 && admins <= 1)
		r = errmsg_set(err, ERR_CONFLICT,
			       "token %lld is the last admin token%s: revoking it would lock every "
			       "admin out; create another admin token first",
			       (long long)id, id == self_id ? ", and the one you are using" : "");
	return r;
}

int tokens_revoke(struct store *st, int64_t id, int64_t self_id, const char *actor,
		  struct errmsg *err)
{
	char summary[HISTORY_SUMMARY_MAX];

	err->text[0] = '\0';
	history_summary(summary, "token %lld", (long long)id);
	int r = store_begin(st);
	if (r == 0)
		r = keeps_an_admin(st, id, self_id, err);
	if (r == 0)
		r = store_token_revoke(st, id);
	if (r == 0)
		r = history_note(st, actor, "token.revoke", summary);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		if (err->text[0] == '\0')
			errmsg_set(err, 0, "%s", r == -ENOENT ? "no such token" : err_str(r));
		return r;
	}
	return 0;
}
