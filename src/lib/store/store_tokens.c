/* The store's API tokens (store.h), over store_internal.h. Only a token's
 * hash is stored, never the token. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "store/store_internal.h"

int store_token_insert(struct store *st, const char *name, const char *hash, const char *role,
		       int64_t *ret_id)
{
	struct db_stmt *q;
	int64_t id = 0;
	int r;

	if (name == NULL || hash == NULL || hash[0] == '\0' || role == NULL || role[0] == '\0' ||
	    strlen(role) >= 16)
		return -EINVAL;
	r = store_stmt(st, Q_TOKEN_INSERT, &q, "ttti", name, hash, role, store_now());
	if (r < 0)
		return r;
	r = store_run(q, NULL, &id);
	if (r < 0)
		return r;
	if (ret_id != NULL)
		*ret_id = id;
	return 0;
}

int store_token_find(struct store *st, const char *hash, char role[16], int64_t *ret_id,
		     char ret_name[64])
{
	struct db_stmt *q;
	const char *v;
	int64_t id;
	int r;

	if (hash == NULL)
		return -EINVAL;
	r = store_stmt(st, Q_TOKEN_FIND, &q, "t", hash);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW) {
		id = db_column_int64(q, 0);
		v = db_column_text(q, 1);
		if (v == NULL || strlen(v) >= 16) {
			r = ERR_BACKEND;
		} else {
			memcpy(role, v, strlen(v) + 1);
			if (ret_id != NULL)
				*ret_id = id;
			if (ret_name != NULL)
				snprintf(ret_name, 64, "%s",
					 db_column_text(q, 2) ? db_column_text(q, 2) : "");
			r = 0;
		}
	} else if (r == DB_DONE) {
		r = -ENOENT;
	}
	db_reset(q);
	return r;
}

int store_token_revoke(struct store *st, int64_t id)
{

	return store_exec_changed(st, Q_TOKEN_REVOKE, "ii", store_now(), id);
}

int store_token_get(struct store *st, int64_t id, char role[16], bool *ret_revoked)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_TOKEN_GET, &q, "i", id);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW) {
		const char *v = db_column_text(q, 0);
		if (v == NULL || strlen(v) >= 16) {
			r = ERR_BACKEND;
		} else {
			memcpy(role, v, strlen(v) + 1);
			*ret_revoked = db_column_int64(q, 1) != 0;
			r = 0;
		}
	} else if (r == DB_DONE) {
		r = -ENOENT;
	}
	db_reset(q);
	return r;
}

int store_token_count_live(struct store *st, const char *role, const char *name, uint64_t *ret)
{
	struct db_stmt *q;
	int64_t n = 0;
	int r = role != NULL ? store_stmt(st, Q_TOKEN_LIVE_ROLE, &q, "t", role)
			     : store_stmt(st, Q_TOKEN_LIVE_NAME, &q, "t", name);
	if (r == 0)
		r = store_run_int(q, &n);
	if (r == 0)
		*ret = (uint64_t)n;
	return r;
}

struct token_row {
	int64_t id;
	char *name;
	char *role;
	int64_t created_at;
	bool revoked;
};

static void token_row_clear(struct token_row *t)
{
	free(t->name);
	free(t->role);
	memset(t, 0, sizeof(*t));
}

static int row_token(struct db_stmt *q, void *row)
{
	struct token_row *t = row;

	memset(t, 0, sizeof(*t));
	t->id = db_column_int64(q, 0);
	t->created_at = db_column_int64(q, 3);
	t->revoked = db_column_int64(q, 4) != 0;
	if (!store_col_dup(q, 1, &t->name) || !store_col_dup(q, 2, &t->role) || t->name == NULL ||
	    t->role == NULL) {
		token_row_clear(t);
		return -ENOMEM;
	}
	return 0;
}

static int pass_token(void *row, store_fn fn, void *ctx)
{
	struct token_row *t = row;
	int r = 0;

	if (fn != NULL)
		r = ((store_token_fn)fn)(t->id, t->name, t->role, t->created_at, t->revoked, ctx);
	token_row_clear(t);
	return r;
}

static const struct store_rows token_rows = {
	.size = sizeof(struct token_row),
	.id_offset = offsetof(struct token_row, id),
	.read = row_token,
	.pass = pass_token,
};

int store_token_foreach(struct store *st, store_token_fn fn, void *ctx)
{
	return store_walk(st, Q_TOKEN_PAGE, NULL, 0, &token_rows, (store_fn)fn, ctx);
}
