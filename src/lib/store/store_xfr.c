/* Zone transfers to third-party secondaries (migration 13): one row per zone
 * that has its own settings, row 0 for the cluster's default. The texts are
 * JSON the controller checked before writing them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

struct xfr_row {
	char *allow;
	char *notify;
};

static int read_xfr(struct db_stmt *q, void *row)
{
	struct xfr_row *x = row;
	bool ok = store_col_dup(q, 0, &x->allow) && store_col_dup(q, 1, &x->notify);
	if (!ok || x->allow == NULL || x->notify == NULL) {
		free(x->allow);
		free(x->notify);
		return -ENOMEM;
	}
	return 0;
}

int store_xfr_get(struct store *st, int64_t zone_id, char **ret_allow, char **ret_notify)
{
	struct xfr_row x = { 0 };
	struct db_stmt *q;
	int r = store_stmt(st, Q_XFR_GET, &q, "i", zone_id);
	if (r == 0)
		r = store_run_row(q, read_xfr, &x);
	if (r < 0)
		return r;
	*ret_allow = x.allow;
	*ret_notify = x.notify;
	return 0;
}

int store_xfr_put(struct store *st, int64_t zone_id, const char *allow, const char *notify,
		  int64_t now)
{
	return store_exec(st, Q_XFR_PUT, "itti", zone_id, allow, notify, now);
}

int store_xfr_delete(struct store *st, int64_t zone_id)
{
	return store_exec(st, Q_XFR_DELETE, "i", zone_id);
}

/* The ids query 'q' answers (first column), those whose second column
 * contains 'needle' when it is not NULL, handed to 'fn' once all are read:
 * 'fn' may write through the store. */
static int each_id(struct db_stmt *q, const char *needle, store_id_fn fn, void *ctx)
{
	int64_t *ids = NULL;
	size_t n = 0, alloc = 0;
	int r;

	while ((r = db_step(q)) == DB_ROW) {
		const char *text = needle != NULL ? db_column_text(q, 1) : NULL;
		if (needle != NULL && (text == NULL || strstr(text, needle) == NULL))
			continue;
		if (n == alloc) {
			size_t a = alloc ? 2 * alloc : 64;
			int64_t *v = realloc(ids, a * sizeof(*v));
			if (v == NULL) {
				r = -ENOMEM;
				break;
			}
			ids = v;
			alloc = a;
		}
		ids[n++] = db_column_int64(q, 0);
	}
	db_reset(q);
	for (size_t i = 0; r == DB_DONE && i < n; i++) {
		int x = fn(ids[i], ctx);
		if (x != 0)
			r = x;
	}
	free(ids);
	return r == DB_DONE ? 0 : r;
}

int store_xfr_foreach_default(struct store *st, store_id_fn fn, void *ctx)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_XFR_ZONES, &q, "");
	return r < 0 ? r : each_id(q, NULL, fn, ctx);
}

int store_xfr_foreach_naming(struct store *st, const char *needle, store_id_fn fn, void *ctx)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_XFR_ROWS, &q, "");
	return r < 0 ? r : each_id(q, needle, fn, ctx);
}
