/* The store's history (store.h): zone version snapshots and the audit
 * log, over store_internal.h.
 *
 * Where store.h leaves a choice open:
 * - store_audit stores zone_id 0 as NULL (no zone).
 * - Listings read their page into memory and reset the statement before
 *   the callback runs, as store_walk does, so it may call the store.
 * - Pruning takes no transaction of its own: its reads only bound the
 *   one DELETE, which checks every condition again, so a version added
 *   meanwhile is never taken. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store_internal.h"

/* --- versions --------------------------------------------------------------- */

void store_version_clear(struct store_version *v)
{
	if (v == NULL)
		return;
	free(v->actor);
	free(v->action);
	free(v->summary);
	free(v->records);
	free(v->soa);
	memset(v, 0, sizeof(*v));
}

/* VERSION_COLS (queries.c), and with 'records' the records column after them. */
static int read_version(struct db_stmt *q, struct store_version *v, bool records)
{
	memset(v, 0, sizeof(*v));
	v->id = db_column_int64(q, 0);
	v->zone_id = db_column_int64(q, 1);
	v->version = (uint64_t)db_column_int64(q, 2);
	v->serial = (uint32_t)db_column_int64(q, 3);
	v->created_at = db_column_int64(q, 4);
	const char *d = db_column_text(q, 8);
	snprintf(v->rdigest, sizeof(v->rdigest), "%s", d ? d : "");
	v->deleted = db_column_int64(q, 9) != 0;
	v->record_count = (uint64_t)db_column_int64(q, 10);
	if (!store_col_dup(q, 5, &v->actor) || !store_col_dup(q, 6, &v->action) ||
	    !store_col_dup(q, 7, &v->summary) || !store_col_dup(q, 11, &v->soa) ||
	    v->action == NULL ||
	    (records && (!store_col_dup(q, 12, &v->records) || v->records == NULL))) {
		store_version_clear(v);
		return -ENOMEM;
	}
	return 0;
}

static int row_version(struct db_stmt *q, void *row)
{
	return read_version(q, row, false);
}

static int row_version_records(struct db_stmt *q, void *row)
{
	return read_version(q, row, true);
}

STORE_ROWS(version, struct store_version, row_version, store_version_clear, store_version_fn);

int store_version_insert(struct store *st, const struct store_version *v)
{
	int r;

	if (v->records == NULL || v->action == NULL)
		return -EINVAL;
	r = store_check_version(v->version);
	if (r < 0)
		return r;
	return store_exec(st, Q_VERSION_INSERT, "iiittitttiit", v->zone_id, (int64_t)v->version,
			  (int64_t)v->serial, v->records, v->actor,
			  v->created_at != 0 ? v->created_at : store_now(), v->action, v->summary,
			  v->rdigest, (int64_t)v->deleted, (int64_t)v->record_count, v->soa);
}

int store_version_get(struct store *st, int64_t zone_id, uint64_t version,
		      struct store_version *ret)
{
	struct db_stmt *q;
	int r;

	if (version > (uint64_t)INT64_MAX)
		return -ENOENT;
	r = store_stmt(st, Q_VERSION_GET, &q, "ii", zone_id, (int64_t)version);
	if (r < 0)
		return r;
	return store_run_row(q, row_version_records, ret);
}

/* Read at most 'limit' rows of the bound statement 'q' as 'kind', reset
 * it, then hand them to 'fn' in order. */
static int pass_rows(struct db_stmt *q, const struct store_rows *kind, unsigned limit, store_fn fn,
		     void *ctx)
{
	char *rows = calloc(limit > 0 ? limit : 1, kind->size);
	size_t n = 0, i;
	int r = rows != NULL ? 0 : -ENOMEM;

	while (r == 0 && n < limit && (r = db_step(q)) == DB_ROW) {
		r = kind->read(q, rows + n * kind->size);
		n += r == 0;
	}
	db_reset(q);
	for (i = 0; i < n; i++) {
		int rf = kind->pass(rows + i * kind->size, r == 0 ? fn : NULL, ctx);
		if (r == 0 && rf != 0)
			r = rf; /* stopped: the rest are only freed */
	}
	free(rows);
	return r;
}

int store_version_foreach(struct store *st, int64_t zone_id, uint64_t before, unsigned limit,
			  store_version_fn fn, void *ctx)
{
	struct db_stmt *q;
	int64_t below = before == 0 || before > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)before;
	int r;

	if (limit == 0)
		return 0;
	r = store_stmt(st, Q_VERSION_PAGE, &q, "iii", zone_id, below, (int64_t)limit);
	if (r < 0)
		return r;
	return pass_rows(q, &version_rows, limit, (store_fn)fn, ctx);
}

/* The one integer 'q' answers (-ENOENT: no row), its parameters bound by
 * 'fmt'. */
static int query_int(struct store *st, enum query q, int64_t *ret, const char *fmt, int64_t a,
		     int64_t b, int64_t c)
{
	struct db_stmt *s;
	int r;

	if (fmt[1] == '\0')
		r = store_stmt(st, q, &s, fmt, a);
	else if (fmt[2] == '\0')
		r = store_stmt(st, q, &s, fmt, a, b);
	else
		r = store_stmt(st, q, &s, fmt, a, b, c);
	return r < 0 ? r : store_run_int(s, ret);
}

int store_version_prune(struct store *st, int64_t zone_id, unsigned keep, int64_t older_than,
			unsigned max, uint64_t *ret_deleted)
{
	struct db_stmt *q;
	int64_t oldest_kept, bound;
	uint64_t n = 0;
	int r;

	if (keep == 0 || max == 0)
		return -EINVAL;
	*ret_deleted = 0;
	r = query_int(st, Q_VERSION_NTH, &oldest_kept, "ii", zone_id, keep - 1, 0);
	if (r == -ENOENT)
		return 0; /* not more than 'keep' versions */
	if (r < 0)
		return r;
	r = store_stmt(st, Q_VERSION_PRUNE_BOUND, &q, "iiii", zone_id, oldest_kept, older_than,
		       (int64_t)max - 1);
	if (r == 0)
		r = store_run_int(q, &bound);
	if (r == -ENOENT) {
		bound = INT64_MAX; /* fewer than 'max' may go: all of them */
		r = 0;
	}
	if (r == 0)
		r = store_stmt(st, Q_VERSION_PRUNE, &q, "iiii", zone_id, oldest_kept, bound,
			       older_than);
	if (r == 0)
		r = store_run(q, &n, NULL);
	if (r < 0)
		return r;
	*ret_deleted = n;
	return 0;
}

struct id_row {
	int64_t id;
};

static int row_id(struct db_stmt *q, void *row)
{
	((struct id_row *)row)->id = db_column_int64(q, 0);
	return 0;
}

static int pass_id(void *row, store_fn fn, void *ctx)
{
	return fn != NULL ? ((store_id_fn)fn)(((struct id_row *)row)->id, ctx) : 0;
}

static const struct store_rows id_rows = { sizeof(struct id_row), offsetof(struct id_row, id),
					   row_id, pass_id };

int store_version_candidates(struct store *st, int64_t after, unsigned keep, unsigned limit,
			     store_id_fn fn, void *ctx)
{
	struct db_stmt *q;
	int r;

	if (limit == 0)
		return 0;
	r = store_stmt(st, Q_VERSION_CANDIDATES, &q, "iii", after, (int64_t)keep, (int64_t)limit);
	if (r < 0)
		return r;
	return pass_rows(q, &id_rows, limit, (store_fn)fn, ctx);
}

/* --- the audit log ---------------------------------------------------------------- */

void store_audit_clear(struct store_audit_entry *e)
{
	if (e == NULL)
		return;
	free(e->actor);
	free(e->action);
	free(e->zone);
	free(e->summary);
	memset(e, 0, sizeof(*e));
}

/* AUDIT_COLS (queries.c). */
static int row_audit(struct db_stmt *q, void *row)
{
	struct store_audit_entry *e = row;

	memset(e, 0, sizeof(*e));
	e->id = db_column_int64(q, 0);
	e->created_at = db_column_int64(q, 1);
	e->zone_id = db_column_int64(q, 4);
	e->version = (uint64_t)db_column_int64(q, 6);
	if (!store_col_dup(q, 2, &e->actor) || !store_col_dup(q, 3, &e->action) ||
	    !store_col_dup(q, 5, &e->zone) || !store_col_dup(q, 7, &e->summary) ||
	    e->action == NULL) {
		store_audit_clear(e);
		return -ENOMEM;
	}
	return 0;
}

STORE_ROWS(audit, struct store_audit_entry, row_audit, store_audit_clear, store_audit_fn);

int store_audit(struct store *st, const struct store_audit_entry *e)
{
	int64_t at = e->created_at != 0 ? e->created_at : store_now();
	int r;

	if (e->action == NULL)
		return -EINVAL;
	r = store_check_version(e->version);
	if (r < 0)
		return r;
	/* zone_id 0 is "no zone": NULL, not a reference. */
	if (e->zone_id != 0)
		return store_exec(st, Q_AUDIT_INSERT, "ittitti", at, e->actor, e->action,
				  e->zone_id, e->summary, e->zone, (int64_t)e->version);
	return store_exec(st, Q_AUDIT_INSERT, "ittttti", at, e->actor, e->action, NULL, e->summary,
			  e->zone, (int64_t)e->version);
}

static const char *or_any(const char *s)
{
	return s != NULL ? s : "";
}

int store_audit_foreach(struct store *st, const struct store_audit_filter *f, store_audit_fn fn,
			void *ctx)
{
	const char *zone = or_any(f->zone), *actor = or_any(f->actor), *action = or_any(f->action);
	int64_t lo = 0, hi = f->before > 0 ? f->before : INT64_MAX, id;
	int64_t until = f->until > 0 ? f->until : INT64_MAX;
	struct db_stmt *q;
	int r = 0;

	if (f->limit == 0)
		return 0;
	/* The time range as an id range: an index lookup at each end. */
	if (f->since > 0) {
		r = query_int(st, Q_AUDIT_ID_SINCE, &id, "i", f->since, 0, 0);
		if (r == 0)
			lo = id;
	}
	if (r == 0 && f->until > 0) {
		r = query_int(st, Q_AUDIT_ID_UNTIL, &id, "i", f->until, 0, 0);
		if (r == 0 && id < hi)
			hi = id + 1;
	}
	if (r == -ENOENT)
		return 0; /* nothing in the range */
	if (r < 0)
		return r;
	const char *drive = zone[0] ? zone : actor[0] ? actor : action[0] ? action : NULL;
	enum query which = zone[0]     ? Q_AUDIT_PAGE_ZONE
			   : actor[0]  ? Q_AUDIT_PAGE_ACTOR
			   : action[0] ? Q_AUDIT_PAGE_ACTION
				       : Q_AUDIT_PAGE;
	if (drive != NULL)
		r = store_stmt(st, which, &q, "tttttttiiiii", drive, zone, zone, actor, actor,
			       action, action, lo, hi, f->since, until, (int64_t)f->limit);
	else
		r = store_stmt(st, which, &q, "ttttttiiiii", zone, zone, actor, actor, action,
			       action, lo, hi, f->since, until, (int64_t)f->limit);
	if (r < 0)
		return r;
	return pass_rows(q, &audit_rows, f->limit, (store_fn)fn, ctx);
}

int store_audit_prune(struct store *st, int64_t older_than, unsigned max, uint64_t *ret_deleted)
{
	int64_t bound;
	struct db_stmt *q;
	uint64_t n = 0;

	if (max == 0)
		return -EINVAL;
	*ret_deleted = 0;
	int r = query_int(st, Q_AUDIT_PRUNE_BOUND, &bound, "i", (int64_t)max - 1, 0, 0);
	if (r == -ENOENT) {
		bound = INT64_MAX;
		r = 0;
	}
	if (r == 0)
		r = store_stmt(st, Q_AUDIT_PRUNE, &q, "ii", bound, older_than);
	if (r == 0)
		r = store_run(q, &n, NULL);
	if (r < 0)
		return r;
	*ret_deleted = n;
	return 0;
}
