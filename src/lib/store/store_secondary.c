/* Secondary zones: the primaries each is transferred from (store.h). */
#include <errno.h>
#include <stdlib.h>

#include "store/store_internal.h"

int store_secondary_put(struct store *st, int64_t zone_id, const char *primaries,
			const char *tsig_key)
{
	return store_exec(st, Q_SECONDARY_PUT, "itt", zone_id, primaries,
			  tsig_key != NULL ? tsig_key : "");
}

static int secondary_row(struct db_stmt *q, void *row)
{
	struct store_secondary *s = row;

	s->zone_id = db_column_int64(q, 0);
	s->refreshed_at = db_column_int64(q, 4);
	s->life = (uint32_t)db_column_int64(q, 5);
	if (!store_col_dup(q, 1, &s->domain) || !store_col_dup(q, 2, &s->primaries) ||
	    !store_col_dup(q, 3, &s->tsig_key) || s->domain == NULL || s->primaries == NULL ||
	    s->tsig_key == NULL) {
		store_secondary_clear(s);
		return -ENOMEM;
	}
	return 0;
}

int store_secondary_get(struct store *st, int64_t zone_id, struct store_secondary *ret)
{
	struct store_secondary s = { 0 };
	struct db_stmt *q;
	int r = store_stmt(st, Q_SECONDARY_GET, &q, "i", zone_id);

	if (r == 0)
		r = store_run_row(q, secondary_row, &s);
	if (r == 0)
		*ret = s;
	return r;
}

int store_secondary_delete(struct store *st, int64_t zone_id)
{
	return store_exec(st, Q_SECONDARY_DELETE, "i", zone_id);
}

int store_secondary_forget(struct store *st, int64_t zone_id)
{
	return store_exec_changed(st, Q_SECONDARY_DELETE, "i", zone_id);
}

int store_secondary_held(struct store *st, int64_t zone_id)
{
	struct db_stmt *q;
	int64_t id;
	int r = store_stmt(st, Q_SECONDARY_HELD, &q, "i", zone_id);

	return r == 0 ? store_run_int(q, &id) : r;
}

int store_secondary_refreshed(struct store *st, int64_t zone_id, uint32_t life, int64_t at)
{
	return store_exec_changed(st, Q_SECONDARY_REFRESHED, "iiii", at, zone_id, zone_id,
				  (int64_t)life);
}

int store_secondary_foreach(struct store *st, store_secondary_fn fn, void *ctx)
{
	struct db_stmt *q = NULL;
	int r = store_stmt(st, Q_SECONDARY_LIST, &q, "");

	if (r < 0)
		return r;
	while ((r = db_step(q)) == DB_ROW) {
		struct store_secondary s = { 0 };
		r = secondary_row(q, &s);
		s.expired = db_column_int64(q, 6) != 0;
		if (r == 0)
			r = fn(&s, ctx);
		store_secondary_clear(&s);
		if (r != 0)
			break;
	}
	db_reset(q);
	return r;
}

void store_secondary_clear(struct store_secondary *s)
{
	if (s == NULL)
		return;
	free(s->domain);
	free(s->primaries);
	free(s->tsig_key);
	s->domain = s->primaries = s->tsig_key = NULL;
}
