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

int store_xfr_foreach_default(struct store *st, store_id_fn fn, void *ctx)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_XFR_ZONES, &q, "");
	return r < 0 ? r : store_each_id(q, NULL, fn, ctx);
}

int store_xfr_foreach_naming(struct store *st, const char *needle, store_id_fn fn, void *ctx)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_XFR_ROWS, &q, "");
	return r < 0 ? r : store_each_id(q, needle, fn, ctx);
}
