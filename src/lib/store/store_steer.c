/* Routing policies per RRset (store.h), kept beside the records. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store_internal.h"

int store_policy_put(struct store *st, int64_t zone_id, const char *name, const char *type,
		     bool per_record, const char *policy)
{
	return store_exec(st, Q_POLICY_PUT, "ittit", zone_id, name, type, (int64_t)per_record,
			  policy);
}

int store_policy_foreach(struct store *st, int64_t zone_id, store_policy_fn fn, void *ctx)
{
	struct db_stmt *q = NULL;
	int r = store_stmt(st, Q_POLICY_LIST, &q, "i", zone_id);

	if (r < 0)
		return r;
	while ((r = db_step(q)) == DB_ROW) {
		const char *name = db_column_text(q, 0), *type = db_column_text(q, 1);
		const char *policy = db_column_text(q, 3);
		r = fn(name ? name : "", type ? type : "", db_column_int64(q, 2) != 0,
		       policy ? policy : "", ctx);
		if (r != 0)
			break;
	}
	db_reset(q);
	return r; /* DB_DONE is 0 */
}

int store_policy_delete(struct store *st, int64_t zone_id, const char *name, const char *type)
{
	return store_exec(st, Q_POLICY_DELETE, "itt", zone_id, name, type);
}

int store_policy_delete_zone(struct store *st, int64_t zone_id)
{
	return store_exec(st, Q_POLICY_DELETE_ZONE, "i", zone_id);
}
