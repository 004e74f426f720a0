/* Zones in PowerDNS's tables: a zone's rows rewritten where they changed,
 * its state, and what is read back (see backend.h and backend_sql.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backend_sql.h"
#include "base/buf.h"
#include "base/err.h"
#include "sql/db.h"

/* A digest column into 'out': "" for NULL or anything that is not one. */
static void copy_digest(struct db_stmt *s, unsigned col, char out[ZONE_DIGEST_HEX])
{
	const char *t = db_column_text(s, col);
	snprintf(out, ZONE_DIGEST_HEX, "%s", t != NULL && zone_digest_valid(t) ? t : "");
}

/* --- zones ------------------------------------------------------------ */

/* Before a statement on 'zone' (NULL: on any zone): the connection is
 * there, and what the transaction queued for the zone is written. */
static int ready(struct backend_sql *b, const char *zone)
{
	int r = backend_sql_ensure(b);
	return r < 0 ? r : backend_sql_flush(b, zone);
}

static void read_state(struct db_stmt *s, unsigned first, struct zone_state *st)
{
	st->known = !db_column_null(s, first);
	st->version = (uint64_t)db_column_int64(s, first);
	st->serial = (uint32_t)db_column_int64(s, first + 1);
	st->deleted = db_column_int64(s, first + 2) != 0;
	st->dirty = db_column_int64(s, first + 3) != 0;
	copy_digest(s, first + 4, st->digest);
}

/* --- states read ahead -------------------------------------------------- */

/* A write of 'zone' (NULL: of every zone) is coming: what was read ahead
 * of it no longer holds. */
static void forget(struct backend_sql *b, const char *zone)
{
	for (size_t i = 0; i < b->nwin; i++)
		if (zone == NULL || strcmp(b->win[i].zone, zone) == 0)
			b->win[i].valid = false;
}

/* Whether PowerDNS's name 'pdns' (matched as its column compares:
 * ignoring case) is that of 'zone'. */
static bool same_domain(const char *pdns, const char *zone)
{
	size_t n = strlen(pdns);
	return strncasecmp(pdns, zone, n) == 0 && zone[n] == '.' && zone[n + 1] == '\0';
}

/* One row of ST_PREFETCH into the entries it is the state of. */
static void prefetched_row(struct backend_sql *b, struct db_stmt *s)
{
	const char *dname = db_column_text(s, 0), *zone = db_column_text(s, 3);
	for (size_t i = 0; i < b->nwin; i++) {
		struct backend_prefetched *e = &b->win[i];
		if (dname != NULL && !e->st.exists && same_domain(dname, e->zone)) {
			const char *kind = db_column_text(s, 2);
			e->st.exists = true;
			e->id = db_column_int64(s, 1);
			snprintf(e->kind, sizeof(e->kind), "%s", kind ? kind : "");
		} else if (zone != NULL && !e->st.known && strcmp(zone, e->zone) == 0) {
			read_state(s, 4, &e->st);
		}
	}
}

int backend_sql_prefetch(struct backend_sql *b, const char *const *zones, size_t n)
{
	char name[DNAME_TEXT_MAX];

	b->nwin = 0;
	if (!b->in_txn || n == 0 || n > BACKEND_PREFETCH_MAX)
		return n > BACKEND_PREFETCH_MAX ? -EINVAL : 0;
	if (b->win == NULL && (b->win = malloc(BACKEND_PREFETCH_MAX * sizeof(*b->win))) == NULL)
		return -ENOMEM;
	/* What the transaction queued for these zones is written first. */
	int r = backend_sql_ensure(b);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = backend_sql_flush(b, zones[i]);
	if (r < 0)
		return r;
	struct db_stmt *s = backend_sql_stmt(b, ST_PREFETCH);
	/* The lists are filled up with the last name again. */
	for (unsigned i = 0; r == 0 && i < BACKEND_PREFETCH_MAX; i++) {
		const char *zone = zones[i < n ? i : n - 1];
		backend_sql_pdns_name(zone, name);
		r = db_bind_text(s, i + 1, name);
		if (r == 0)
			r = db_bind_text(s, BACKEND_PREFETCH_MAX + i + 1, zone);
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct backend_prefetched *e = &b->win[i];
		memset(e, 0, sizeof(*e));
		snprintf(e->zone, sizeof(e->zone), "%s", zones[i]);
		e->valid = true;
	}
	b->nwin = n;
	int rc;
	while ((rc = db_step(s)) == DB_ROW)
		prefetched_row(b, s);
	db_reset(s);
	if (rc < 0)
		b->nwin = 0;
	return rc < 0 ? backend_sql_fail(b, rc) : 0;
}

/* The state of 'zone' read ahead and not yet answered, taken: 1, or 0. */
static int take_prefetched(struct backend_sql *b, const char *zone, struct zone_state *ret)
{
	for (size_t i = 0; i < b->nwin; i++) {
		struct backend_prefetched *e = &b->win[i];
		if (!e->valid || strcmp(e->zone, zone) != 0)
			continue;
		e->valid = false;
		*ret = e->st;
		snprintf(b->last_zone, sizeof(b->last_zone), "%s", zone);
		b->last_id = e->id;
		snprintf(b->last_kind, sizeof(b->last_kind), "%s", e->kind);
		return 1;
	}
	return 0;
}

int backend_sql_zone_state(struct backend_sql *b, const char *zone, struct zone_state *ret)
{
	char name[DNAME_TEXT_MAX];
	if (take_prefetched(b, zone, ret))
		return 0;
	int r = ready(b, zone);
	if (r < 0)
		return r;
	backend_sql_pdns_name(zone, name);
	struct db_stmt *s = backend_sql_stmt(b, ST_STATE);
	r = db_bind_text(s, 1, name);
	if (r == 0)
		r = db_bind_text(s, 2, zone);
	r = backend_sql_first_row(b, s, r);
	if (r <= 0)
		return r == 0 ? ERR_BACKEND : r;
	memset(ret, 0, sizeof(*ret));
	ret->exists = !db_column_null(s, 0);
	read_state(s, 1, ret);
	const char *kind = db_column_text(s, 6);
	snprintf(b->last_zone, sizeof(b->last_zone), "%s", zone);
	b->last_id = ret->exists ? db_column_int64(s, 0) : 0;
	snprintf(b->last_kind, sizeof(b->last_kind), "%s", kind ? kind : "");
	db_reset(s);
	return 0;
}

/* The zone's domain id, its row created if there is none (*ret_new), its
 * kind set. The state read just before, if it was this zone's, spares a
 * look-up. With 'queue', a new row is queued and its id is not known (0). */
static int domain_id(struct backend_sql *b, const char *zone, const char *kind, bool queue,
		     int64_t *ret, bool *ret_new)
{
	char name[DNAME_TEXT_MAX], old_kind[sizeof(b->last_kind)];
	int64_t id = 0;
	int r;

	backend_sql_pdns_name(zone, name);
	if (strcmp(b->last_zone, zone) == 0) {
		id = b->last_id;
		snprintf(old_kind, sizeof(old_kind), "%s", b->last_kind);
	} else {
		struct db_stmt *s = backend_sql_stmt(b, ST_DOMAIN_ID);
		r = backend_sql_first_row(b, s, db_bind_text(s, 1, name));
		if (r < 0)
			return r;
		if (r == 1) {
			const char *k = db_column_text(s, 1);
			id = db_column_int64(s, 0);
			snprintf(old_kind, sizeof(old_kind), "%s", k ? k : "");
			db_reset(s);
		}
	}
	*ret_new = id == 0;
	*ret = id;
	if (id != 0) {
		if (strcmp(old_kind, kind) == 0)
			return 0;
		struct db_stmt *s = backend_sql_stmt(b, ST_DOMAIN_KIND);
		r = db_bind_text(s, 1, kind);
		if (r == 0)
			r = db_bind_int64(s, 2, id);
		return backend_sql_run(b, s, r);
	}
	if (queue)
		return backend_sql_queue_domain(b, name, kind);
	struct db_stmt *s = backend_sql_stmt(b, ST_DOMAIN_INSERT);
	r = db_bind_text(s, 1, name);
	if (r == 0)
		r = db_bind_text(s, 2, kind);
	if (r == 0)
		r = db_step(s);
	if (r >= 0)
		*ret = db_last_insert_id(s);
	db_reset(s);
	return backend_sql_fail(b, r < 0 ? r : 0);
}

static int add_id(int64_t **v, size_t *n, size_t *alloc, int64_t id)
{
	if (*n == *alloc) {
		size_t a = *alloc ? 2 * *alloc : 16;
		int64_t *nv = realloc(*v, a * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		*v = nv;
		*alloc = a;
	}
	(*v)[(*n)++] = id;
	return 0;
}

/* Find the stored rows of 'w' and delete every other row of the zone:
 * every row written costs PowerDNS's table four index updates, and a
 * change of one record in a zone of many would otherwise delete and
 * insert them all. */
static int keep_stored(struct backend_sql *b, int64_t id, struct backend_rows *w)
{
	int64_t *gone = NULL;
	size_t ngone = 0, agone = 0;
	struct db_stmt *s = backend_sql_stmt(b, ST_ROWS);
	int r = db_bind_int64(s, 1, id), rc = DB_DONE;

	while (r == 0 && (rc = db_step(s)) == DB_ROW) {
		const char *name = db_column_text(s, 1);
		struct backend_row *row =
		    name ? backend_rows_find(w, name, db_column_text(s, 2), db_column_text(s, 3),
					     (long)db_column_int64(s, 5))
			 : NULL;
		if (row != NULL && !row->stored && db_column_int64(s, 4) == row->ttl &&
		    (db_column_int64(s, 6) != 0) == row->auth && db_column_int64(s, 7) == 0)
			row->stored = true;
		else
			r = add_id(&gone, &ngone, &agone, db_column_int64(s, 0));
	}
	if (r == 0 && rc < 0)
		r = backend_sql_fail(b, rc);
	db_reset(s);
	for (size_t i = 0; r == 0 && i < ngone; i++)
		r = backend_sql_run_id(b, ST_ROW_DELETE, gone[i]);
	free(gone);
	return r;
}

int backend_sql_zone_replace(struct backend_sql *b, const struct backend_zone *z, const char *kind,
			     int64_t *ret_domain_id)
{
	struct backend_rows w;
	int64_t id = 0;
	bool created = false;

	/* A zone written earlier in this transaction may have its domains
	 * row and its rows queued. A caller that wants the id (to write the
	 * zone's keys) has its domains row written now. */
	forget(b, z->origin);
	int r = ready(b, z->origin);
	if (r == 0)
		r = domain_id(b, z->origin, kind, ret_domain_id == NULL, &id, &created);
	b->last_zone[0] = '\0';
	if (r < 0)
		return r;
	r = backend_rows_build(z, &w);
	if (r < 0)
		return r;
	if (!created)
		r = keep_stored(b, id, &w);
	if (r == 0)
		r = backend_sql_queue_rows(b, id, &w);
	backend_rows_free(&w);
	if (r == 0)
		r = backend_sql_queue_state(b, z);
	if (r == 0 && !b->in_txn)
		r = backend_sql_flush(b, NULL);
	if (r == 0 && ret_domain_id != NULL)
		*ret_domain_id = id;
	return r;
}

int backend_sql_zone_delete(struct backend_sql *b, const char *zone, uint64_t version)
{
	static const enum stmt_id by_id[] = { ST_RECORDS_DELETE, ST_COMMENTS_DELETE, ST_META_DELETE,
					      ST_KEYS_DELETE, ST_DOMAIN_DELETE };
	char name[DNAME_TEXT_MAX];
	int64_t id = 0;

	forget(b, zone);
	int r = ready(b, zone);
	if (r < 0)
		return r;
	b->last_zone[0] = '\0';
	backend_sql_pdns_name(zone, name);
	struct db_stmt *s = backend_sql_stmt(b, ST_DOMAIN_ID);
	r = backend_sql_first_row(b, s, db_bind_text(s, 1, name));
	if (r < 0)
		return r;
	if (r == 1) {
		id = db_column_int64(s, 0);
		db_reset(s);
		r = 0;
		for (unsigned i = 0; r == 0 && i < sizeof(by_id) / sizeof(by_id[0]); i++)
			r = backend_sql_run_id(b, by_id[i], id);
		if (r < 0)
			return r;
	}
	s = backend_sql_stmt(b, ST_TOMBSTONE);
	r = db_bind_text(s, 1, zone);
	if (r == 0)
		r = db_bind_int64(s, 2, (int64_t)version);
	if (r == 0)
		r = db_bind_int64(s, 3, (int64_t)time(NULL));
	return backend_sql_run(b, s, r);
}

int backend_sql_zone_mark_clean(struct backend_sql *b, const char *zone)
{
	forget(b, zone);
	int r = ready(b, zone);
	return r < 0 ? r : backend_sql_run_text(b, ST_MARK_CLEAN, zone, NULL);
}

int backend_sql_zone_set_version(struct backend_sql *b, const char *zone, uint64_t version,
				 uint32_t serial)
{
	forget(b, zone);
	int r = ready(b, zone);
	if (r < 0)
		return r;
	struct db_stmt *s = backend_sql_stmt(b, ST_SET_VERSION);
	r = db_bind_int64(s, 1, (int64_t)version);
	if (r == 0)
		r = db_bind_int64(s, 2, serial);
	if (r == 0)
		r = db_bind_text(s, 3, zone);
	return backend_sql_run(b, s, r);
}

int backend_sql_zone_set_digest(struct backend_sql *b, const char *zone, const char *digest)
{
	forget(b, zone);
	int r = ready(b, zone);
	return r < 0 ? r : backend_sql_run_text(b, ST_SET_DIGEST, digest, zone);
}

int backend_sql_mark_all_clean(struct backend_sql *b)
{
	forget(b, NULL);
	int r = ready(b, NULL);
	return r < 0 ? r : backend_sql_run(b, backend_sql_stmt(b, ST_MARK_ALL_CLEAN), 0);
}

/* --- reading ---------------------------------------------------------- */

/* Call 'fn' for each row of 's' (bound by the caller, 'r' the binding's
 * result): the zone in column 0 and its state from column 1; for the list
 * of every zone ('listing'), whether PowerDNS holds it in column 5 and the
 * digest in column 6. */
static int each_state(struct backend_sql *b, struct db_stmt *s, int r, bool listing,
		      backend_zone_fn fn, void *ctx, size_t *ret_n)
{
	size_t n = 0;
	int rc = DB_DONE;

	while (r == 0 && (rc = db_step(s)) == DB_ROW) {
		struct zone_state st = { .exists = listing && db_column_int64(s, 5) != 0 };
		read_state(s, 1, &st);
		if (listing)
			copy_digest(s, 6, st.digest);
		n++;
		const char *zone = db_column_text(s, 0);
		r = fn(zone ? zone : "", &st, ctx);
	}
	if (r == 0 && rc < 0)
		r = backend_sql_fail(b, rc);
	db_reset(s);
	if (ret_n != NULL)
		*ret_n = n;
	return r;
}

int backend_sql_zone_foreach(struct backend_sql *b, backend_zone_fn fn, void *ctx)
{
	int r = ready(b, NULL);
	return r < 0 ? r
		     : each_state(b, backend_sql_stmt(b, ST_ZONES_LIST), 0, true, fn, ctx, NULL);
}

int backend_sql_state_page(struct backend_sql *b, const char *after, size_t limit,
			   backend_zone_fn fn, void *ctx, size_t *ret_n)
{
	int r = ready(b, NULL);

	*ret_n = 0;
	if (r < 0)
		return r;
	struct db_stmt *s = backend_sql_stmt(b, ST_STATE_PAGE);
	r = db_bind_text(s, 1, after);
	if (r == 0)
		r = db_bind_int64(s, 2, (int64_t)limit);
	return each_state(b, s, r, false, fn, ctx, ret_n);
}

int backend_sql_zone_records(struct backend_sql *b, const char *zone, backend_record_fn fn,
			     void *ctx)
{
	char name[DNAME_TEXT_MAX], owner[2 * DNAME_TEXT_MAX + 1];
	struct zone_state st;
	struct buf content;
	int rc = DB_DONE;

	int r = backend_sql_zone_state(b, zone, &st);
	if (r < 0)
		return r;
	if (!st.exists)
		return -ENOENT;
	backend_sql_pdns_name(zone, name);
	buf_init(&content, 1u << 20);
	struct db_stmt *s = backend_sql_stmt(b, ST_RECORDS_LIST);
	r = db_bind_text(s, 1, name);
	while (r == 0 && (rc = db_step(s)) == DB_ROW) {
		const char *rname = db_column_text(s, 0);
		const char *type = db_column_text(s, 1);
		const char *text = db_column_text(s, 2);
		snprintf(owner, sizeof(owner), "%s.", rname ? rname : "");
		type = type ? type : "";
		buf_reset(&content);
		if (strcmp(type, "MX") == 0 || strcmp(type, "SRV") == 0)
			r = buf_printf(&content, "%lld ", (long long)db_column_int64(s, 4));
		if (r == 0)
			r = buf_puts(&content, text ? text : "");
		if (r == 0)
			r = fn(owner, type, content.data, (uint32_t)db_column_int64(s, 3), ctx);
	}
	if (r == 0 && rc < 0)
		r = backend_sql_fail(b, rc);
	db_reset(s);
	buf_free(&content);
	return r;
}

int backend_sql_counts(struct backend_sql *b, uint64_t *ret_zones, uint64_t *ret_records)
{
	int r = ready(b, NULL);
	if (r < 0)
		return r;
	struct db_stmt *s = backend_sql_stmt(b, ret_records ? ST_COUNTS : ST_ZONE_COUNT);
	r = backend_sql_first_row(b, s, 0);
	if (r <= 0)
		return r == 0 ? ERR_BACKEND : r;
	*ret_zones = (uint64_t)db_column_int64(s, 0);
	if (ret_records != NULL)
		*ret_records = (uint64_t)db_column_int64(s, 1);
	db_reset(s);
	return 0;
}

/* Statement 'id', which reads the domains row of 'zone' (its name bound
 * first), at that row: 0 with *ret set, -ENOENT without the row. */
static int domain_row(struct backend_sql *b, enum stmt_id id, const char *zone,
		      struct db_stmt **ret)
{
	char name[DNAME_TEXT_MAX];
	int r = ready(b, zone);
	if (r < 0)
		return r;
	backend_sql_pdns_name(zone, name);
	*ret = backend_sql_stmt(b, id);
	r = backend_sql_first_row(b, *ret, db_bind_text(*ret, 1, name));
	return r > 0 ? 0 : r == 0 ? -ENOENT : r;
}

int backend_sql_zone_extras(struct backend_sql *b, const char *zone, bool *ret)
{
	struct db_stmt *s;
	int r = domain_row(b, ST_ZONE_EXTRAS, zone, &s);
	if (r < 0)
		return r;
	*ret = db_column_int64(s, 0) > 0;
	db_reset(s);
	return 0;
}

int backend_sql_zone_info(struct backend_sql *b, const char *zone, bool *ret_signed, char *kind,
			  unsigned kind_len)
{
	struct db_stmt *s;
	int r = domain_row(b, ST_KEYS_COUNT, zone, &s);
	if (r < 0)
		return r;
	const char *k = db_column_text(s, 0);
	snprintf(kind, kind_len, "%s", k ? k : "");
	*ret_signed = db_column_int64(s, 1) > 0;
	db_reset(s);
	return 0;
}

/* --- DNSSEC keys and metadata ------------------------------------------ */

/* Statement 'id' with the zone's name (PowerDNS's form) bound at 'idx',
 * once the zone's queued domains row is written (its keys name it). */
static int zone_stmt(struct backend_sql *b, enum stmt_id id, const char *zone, unsigned idx,
		     struct db_stmt **ret)
{
	char name[DNAME_TEXT_MAX];
	int r = ready(b, zone);
	if (r < 0)
		return r;
	backend_sql_pdns_name(zone, name);
	*ret = backend_sql_stmt(b, id);
	return db_bind_text(*ret, idx, name);
}

int backend_sql_zone_keys(struct backend_sql *b, const char *zone, backend_key_fn fn, void *ctx)
{
	struct db_stmt *s;
	int rc = DB_DONE;
	int r = zone_stmt(b, ST_KEYS_LIST, zone, 1, &s);
	if (r < 0)
		return r;
	while (r == 0 && (rc = db_step(s)) == DB_ROW) {
		const char *content = db_column_text(s, 4);
		struct backend_key k = { db_column_int64(s, 0), (unsigned)db_column_int64(s, 1),
					 db_column_int64(s, 2) != 0, db_column_int64(s, 3) != 0,
					 content ? content : "" };
		r = fn(&k, ctx);
	}
	if (r == 0 && rc < 0)
		r = backend_sql_fail(b, rc);
	db_reset(s);
	return r;
}

int backend_sql_key_add(struct backend_sql *b, const char *zone, const struct backend_key *k)
{
	struct db_stmt *s;
	int r = zone_stmt(b, ST_KEY_INSERT, zone, 5, &s);
	if (r < 0)
		return r;
	r = db_bind_int64(s, 1, k->flags);
	if (r == 0)
		r = db_bind_int64(s, 2, k->active);
	if (r == 0)
		r = db_bind_int64(s, 3, k->published);
	if (r == 0)
		r = db_bind_text(s, 4, k->content);
	if (r == 0 && (r = db_step(s)) >= 0)
		r = db_changes(s) == 1 ? 0 : -ENOENT;
	db_reset(s);
	return r == -ENOENT ? r : backend_sql_fail(b, r);
}

int backend_sql_key_delete(struct backend_sql *b, int64_t id)
{
	int r = backend_sql_ensure(b);
	return r < 0 ? r : backend_sql_run_id(b, ST_KEY_DELETE, id);
}

int backend_sql_meta_get(struct backend_sql *b, const char *zone, const char *kind, char *out,
			 size_t len)
{
	struct db_stmt *s;
	int r = zone_stmt(b, ST_META_GET, zone, 1, &s);
	if (r < 0)
		return r;
	r = db_bind_text(s, 2, kind);
	r = backend_sql_first_row(b, s, r);
	if (r <= 0)
		return r == 0 ? -ENOENT : r;
	const char *v = db_column_text(s, 0);
	r = (size_t)snprintf(out, len, "%s", v ? v : "") < len ? 0 : ERR_TOO_LARGE;
	db_reset(s);
	return r;
}

int backend_sql_meta_any(struct backend_sql *b, const char *zone, const char *const *kinds,
			 size_t n)
{
	struct db_stmt *s;
	int r =
	    n >= 1 && n <= BACKEND_META_ANY_MAX ? zone_stmt(b, ST_META_ANY, zone, 1, &s) : -EINVAL;
	/* Slots past 'n' repeat the first kind. */
	for (unsigned i = 0; r == 0 && i < BACKEND_META_ANY_MAX; i++)
		r = db_bind_text(s, i + 2, kinds[i < n ? i : 0]);
	if (r < 0)
		return r;
	r = backend_sql_first_row(b, s, r);
	if (r <= 0)
		return r;
	r = db_column_int64(s, 0) > 0;
	db_reset(s);
	return r;
}

int backend_sql_meta_set(struct backend_sql *b, const char *zone, const char *kind,
			 const char *value)
{
	struct db_stmt *s;
	int r = zone_stmt(b, ST_META_KIND_DELETE, zone, 2, &s);
	if (r < 0)
		return r;
	r = backend_sql_run(b, s, db_bind_text(s, 1, kind));
	if (r < 0 || value == NULL)
		return r;
	r = zone_stmt(b, ST_META_INSERT, zone, 3, &s);
	if (r < 0)
		return r;
	r = db_bind_text(s, 1, kind);
	if (r == 0)
		r = db_bind_text(s, 2, value);
	return backend_sql_run(b, s, r);
}

/* Whether the zone's metadata of 'kind' is already the 'n' rows 'values',
 * in that order: 1 when it is, 0 when not, or an error. */
static int meta_is(struct backend_sql *b, const char *zone, const char *kind,
		   const char *const *values, size_t n)
{
	struct db_stmt *s;
	size_t i = 0;
	int r = zone_stmt(b, ST_META_GET, zone, 1, &s);
	if (r < 0)
		return r;
	r = backend_sql_first_row(b, s, db_bind_text(s, 2, kind));
	if (r <= 0)
		return r < 0 ? r : n == 0;
	bool same = true;
	do {
		const char *v = db_column_text(s, 0);
		same = i < n && v != NULL && strcmp(v, values[i]) == 0;
		i++;
	} while (same && (r = db_step(s)) == DB_ROW);
	db_reset(s);
	if (same && r != DB_DONE)
		return backend_sql_fail(b, r);
	return same && i == n;
}

int backend_sql_meta_set_list(struct backend_sql *b, const char *zone, const char *kind,
			      const char *const *values, size_t n)
{
	struct db_stmt *s;
	int r = meta_is(b, zone, kind, values, n);
	if (r != 0)
		return r;
	r = backend_sql_meta_set(b, zone, kind, NULL);
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = zone_stmt(b, ST_META_INSERT, zone, 3, &s);
		if (r < 0)
			return r;
		r = db_bind_text(s, 1, kind);
		if (r == 0)
			r = db_bind_text(s, 2, values[i]);
		r = backend_sql_run(b, s, r);
	}
	return r;
}

int backend_sql_ordername_set(struct backend_sql *b, const char *zone, const char *name,
			      const char *ordername)
{
	char pzone[DNAME_TEXT_MAX], pname[DNAME_TEXT_MAX];
	int r = ready(b, zone);
	if (r < 0)
		return r;
	backend_sql_pdns_name(zone, pzone);
	backend_sql_pdns_name(name, pname);
	struct db_stmt *s = backend_sql_stmt(b, ST_ORDERNAME);
	r = db_bind_text(s, 1, ordername);
	if (r == 0)
		r = db_bind_text(s, 2, pzone);
	if (r == 0)
		r = db_bind_text(s, 3, pname);
	return backend_sql_run(b, s, r);
}

int backend_sql_tsig_put(struct backend_sql *b, const char *name, const char *algorithm,
			 const char *secret)
{
	char pname[DNAME_TEXT_MAX];
	int r = backend_sql_ensure(b);
	if (r < 0)
		return r;
	backend_sql_pdns_name(name, pname);
	struct db_stmt *s = backend_sql_stmt(b, ST_TSIG_DELETE);
	r = backend_sql_run(b, s, db_bind_text(s, 1, pname));
	if (r < 0)
		return r;
	s = backend_sql_stmt(b, ST_TSIG_INSERT);
	r = db_bind_text(s, 1, pname);
	if (r == 0)
		r = db_bind_text(s, 2, algorithm);
	if (r == 0)
		r = db_bind_text(s, 3, secret);
	return backend_sql_run(b, s, r);
}

int backend_sql_tsig_get(struct backend_sql *b, const char *name, char *algorithm, size_t alg_len,
			 char *secret, size_t secret_len)
{
	char pname[DNAME_TEXT_MAX];
	int r = backend_sql_ensure(b);
	if (r < 0)
		return r;
	backend_sql_pdns_name(name, pname);
	struct db_stmt *s = backend_sql_stmt(b, ST_TSIG_GET);
	r = backend_sql_first_row(b, s, db_bind_text(s, 1, pname));
	if (r <= 0)
		return r == 0 ? -ENOENT : r;
	const char *alg = db_column_text(s, 0), *sec = db_column_text(s, 1);
	r = (size_t)snprintf(algorithm, alg_len, "%s", alg ? alg : "") < alg_len &&
		    (size_t)snprintf(secret, secret_len, "%s", sec ? sec : "") < secret_len
		? 0
		: ERR_TOO_LARGE;
	db_reset(s);
	return r;
}
