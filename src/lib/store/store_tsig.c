/* The store's TSIG keys (store.h), over store_internal.h. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

void store_tsig_key_clear(struct store_tsig_key *k)
{
	if (k->secret != NULL)
		explicit_bzero(k->secret, strlen(k->secret));
	free(k->name);
	free(k->algorithm);
	free(k->secret);
	memset(k, 0, sizeof(*k));
}

static int row_tsig(struct db_stmt *q, void *row)
{
	struct store_tsig_key *k = row;

	memset(k, 0, sizeof(*k));
	k->id = db_column_int64(q, 0);
	k->created_at = db_column_int64(q, 4);
	k->updated_at = db_column_int64(q, 5);
	if (!store_col_dup(q, 1, &k->name) || !store_col_dup(q, 2, &k->algorithm) ||
	    !store_col_dup(q, 3, &k->secret) || k->name == NULL || k->algorithm == NULL ||
	    k->secret == NULL) {
		store_tsig_key_clear(k);
		return -ENOMEM;
	}
	return 0;
}

STORE_ROWS(tsig, struct store_tsig_key, row_tsig, store_tsig_key_clear, store_tsig_fn);

int store_tsig_insert(struct store *st, const char *name, const char *algorithm, const char *secret,
		      int64_t *ret_id)
{
	struct db_stmt *q;
	int64_t now = store_now();
	int r = store_stmt(st, Q_TSIG_INSERT, &q, "tttii", name, algorithm, secret, now, now);

	return r < 0 ? r : store_run(q, NULL, ret_id);
}

int store_tsig_get(struct store *st, const char *name, struct store_tsig_key *ret)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_TSIG_GET, &q, "t", name);

	return r < 0 ? r : store_run_row(q, row_tsig, ret);
}

int store_tsig_update(struct store *st, int64_t id, const char *name, const char *algorithm,
		      const char *secret)
{
	return store_exec_changed(st, Q_TSIG_UPDATE, "tttii", name, algorithm, secret, store_now(),
				  id);
}

int store_tsig_delete(struct store *st, int64_t id)
{
	return store_exec_changed(st, Q_TSIG_DELETE, "i", id);
}

int store_tsig_foreach(struct store *st, store_tsig_fn fn, void *ctx)
{
	return store_walk(st, Q_TSIG_PAGE, NULL, 0, &tsig_rows, (store_fn)fn, ctx);
}
