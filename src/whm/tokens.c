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
	int r = store_begin(st);
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
		errmsg_set(err, 0, "cannot store the token");
	}
	return r;
}

int tokens_revoke(struct store *st, int64_t id, const char *actor, struct errmsg *err)
{
	char summary[HISTORY_SUMMARY_MAX];

	history_summary(summary, "token %lld", (long long)id);
	int r = store_begin(st);
	if (r == 0)
		r = store_token_revoke(st, id);
	if (r == 0)
		r = history_note(st, actor, "token.revoke", summary);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		return errmsg_set(err, r, "no such token");
	}
	return 0;
}
