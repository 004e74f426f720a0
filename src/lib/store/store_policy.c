/* The store's RFC 2136 update policies (store.h), over store_internal.h:
 * one JSON text per TSIG key name, read and checked by whm/upolicy.c. */
#include <errno.h>
#include <stdlib.h>

#include "base/err.h"
#include "store/store_internal.h"

int store_upolicy_put(struct store *st, const char *key_name, const char *rules)
{
	if (key_name == NULL || key_name[0] == '\0' || rules == NULL)
		return -EINVAL;
	return store_exec(st, Q_UPOLICY_PUT, "tti", key_name, rules, store_now());
}

static int row_text(struct db_stmt *q, void *row)
{
	char **ret = row;
	return store_col_dup(q, 0, ret) && *ret != NULL ? 0 : -ENOMEM;
}

int store_upolicy_get(struct store *st, const char *key_name, char **ret)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_UPOLICY_GET, &q, "t", key_name);

	return r < 0 ? r : store_run_row(q, row_text, ret);
}

int store_upolicy_foreach(struct store *st, store_upolicy_fn fn, void *ctx)
{
	struct db_stmt *q = NULL;
	int r = store_stmt(st, Q_UPOLICY_LIST, &q, "");

	if (r < 0)
		return r;
	while ((r = db_step(q)) == DB_ROW) {
		const char *name = db_column_text(q, 0), *rules = db_column_text(q, 1);
		r = fn(name ? name : "", rules ? rules : "", ctx);
		if (r != 0)
			break;
	}
	db_reset(q);
	return r; /* DB_DONE is 0 */
}

int store_upolicy_delete(struct store *st, const char *key_name)
{
	return store_exec_changed(st, Q_UPOLICY_DELETE, "t", key_name);
}
