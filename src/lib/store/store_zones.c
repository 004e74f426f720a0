/* The store's zones and their records (store.h), over store_internal.h.
 *
 * Where store.h leaves a choice open:
 * - store_zone_insert fills an updated_at of 0 (as created_at) and writes
 *   back version and serial too, which reviving a tombstone may raise
 *   (the serial continues in RFC 1982 terms, as the version does). A
 *   revived zone starts without the tombstone's records. A zone created
 *   again after its tombstone was purged gets a new id but still
 *   continues the purged zone's version and serial (dns_purged_zones).
 * - store_record_update leaves zone_id and created_at alone.
 * - store_zone_get and store_zone_get_by_name return tombstones too.
 * - store_zone_purge refuses a live zone with ERR_CONFLICT. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "store/store_internal.h"

/* --- zones ---------------------------------------------------------------- */

void store_zone_clear(struct store_zone *z)
{
	if (z == NULL)
		return;
	free(z->domain);
	memset(z, 0, sizeof(*z));
}

static int row_zone(struct db_stmt *q, void *row)
{
	struct store_zone *z = row;

	memset(z, 0, sizeof(*z));
	z->id = db_column_int64(q, 0);
	z->user_id = db_column_int64(q, 2);
	z->server_id = db_column_int64(q, 3);
	z->version = (uint64_t)db_column_int64(q, 4);
	z->serial = (uint32_t)db_column_int64(q, 5);
	z->deleted = db_column_int64(q, 6) != 0;
	z->dnssec = db_column_int64(q, 7) != 0;
	z->created_at = db_column_int64(q, 8);
	z->updated_at = db_column_int64(q, 9);
	const char *rdigest = db_column_text(q, 10);
	snprintf(z->rdigest, sizeof(z->rdigest), "%s", rdigest ? rdigest : "");
	z->bucket = (int32_t)db_column_int64(q, 11);
	const char *soa = db_column_text(q, 12);
	snprintf(z->soa, sizeof(z->soa), "%s", soa ? soa : "");
	const char *pdns = db_column_text(q, 13);
	snprintf(z->pdns, sizeof(z->pdns), "%s", pdns ? pdns : "");
	z->life = (uint32_t)db_column_int64(q, 14);
	if (!store_col_dup(q, 1, &z->domain) || z->domain == NULL) {
		store_zone_clear(z);
		return -ENOMEM;
	}
	return 0;
}

/* The serial a revived zone gets: 'given' when it is after 'old' in RFC
 * 1982 arithmetic, else old + 1. A secondary (or a node's cache) that
 * still holds the old zone must see the new one as newer. */
static uint32_t serial_after(uint32_t old, uint32_t given)
{
	uint32_t d = given - old;

	if (d != 0 && d < 0x80000000u)
		return given;
	return old + 1;
}

struct zone_find {
	int64_t id;
	bool deleted;
	uint64_t version;
	uint32_t serial;
	uint32_t life;
};

static int zone_find(struct store *st, const char *domain, struct zone_find *ret)
{
	struct db_stmt *q;
	int r;

	r = store_stmt(st, Q_ZONE_FIND, &q, "t", domain);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW) {
		ret->id = db_column_int64(q, 0);
		ret->deleted = db_column_int64(q, 1) != 0;
		ret->version = (uint64_t)db_column_int64(q, 2);
		ret->serial = (uint32_t)db_column_int64(q, 3);
		ret->life = (uint32_t)db_column_int64(q, 4);
		r = 0;
	} else if (r == DB_DONE) {
		r = -ENOENT;
	}
	db_reset(q);
	return r;
}

static int purged_find(struct store *st, const char *domain, struct zone_find *ret)
{
	struct db_stmt *q;
	int r;

	r = store_stmt(st, Q_PURGED_FIND, &q, "t", domain);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW) {
		memset(ret, 0, sizeof(*ret));
		ret->version = (uint64_t)db_column_int64(q, 0);
		ret->serial = (uint32_t)db_column_int64(q, 1);
		ret->life = (uint32_t)db_column_int64(q, 2);
		r = 0;
	} else if (r == DB_DONE) {
		r = -ENOENT;
	}
	db_reset(q);
	return r;
}

int store_zone_insert(struct store *st, struct store_zone *z)
{
	int64_t created = z->created_at != 0 ? z->created_at : store_now();
	int64_t updated = z->updated_at != 0 ? z->updated_at : created;
	uint64_t version = z->version;
	uint32_t serial = z->serial;
	uint32_t life = 0;
	struct zone_find old;
	struct db_stmt *q;
	int64_t id = 0;
	bool own;
	int r;

	if (z->domain == NULL || z->domain[0] == '\0')
		return -EINVAL;
	r = store_check_version(z->version);
	if (r < 0)
		return r;
	r = store_auto_begin(st, &own);
	if (r < 0)
		return r;
	r = zone_find(st, z->domain, &old);
	if (r == 0 && !old.deleted) {
		r = ERR_CONFLICT;
	} else if (r == 0) {
		/* The tombstone comes back: same id, a version above every
		 * version any node may hold, and none of its old records. */
		id = old.id;
		if (version <= old.version)
			version = old.version + 1;
		serial = serial_after(old.serial, serial);
		life = old.life + 1;
		r = store_check_version(version);
		if (r == 0)
			r = store_exec(st, Q_RECORD_DELETE_ZONE, "i", id);
		if (r == 0)
			r = store_exec(st, Q_ZONE_REVIVE, "iiiiiiitii", z->user_id, z->server_id,
				       (int64_t)version, (int64_t)serial, (int64_t)z->dnssec,
				       created, updated, z->rdigest, (int64_t)life, id);
	} else if (r == -ENOENT) {
		/* Purged before: continue what the purged zone reached. */
		r = purged_find(st, z->domain, &old);
		if (r == 0) {
			if (version <= old.version)
				version = old.version + 1;
			serial = serial_after(old.serial, serial);
			life = old.life + 1;
			r = store_check_version(version);
			if (r == 0)
				r = store_exec(st, Q_PURGED_FORGET, "t", z->domain);
		} else if (r == -ENOENT) {
			r = 0;
		}
		if (r == 0)
			r = store_stmt(st, Q_ZONE_INSERT, &q, "tiiiiiiitii", z->domain, z->user_id,
				       z->server_id, (int64_t)version, (int64_t)serial,
				       (int64_t)z->dnssec, created, updated, z->rdigest,
				       (int64_t)z->bucket, (int64_t)life);
		if (r == 0)
			r = store_run(q, NULL, &id);
	}
	r = store_auto_end(st, own, r);
	if (r < 0)
		return r;
	z->id = id;
	z->version = version;
	z->serial = serial;
	z->life = life;
	z->deleted = false;
	z->soa[0] = '\0';
	z->pdns[0] = '\0';
	z->created_at = created;
	z->updated_at = updated;
	return 0;
}

int store_zone_update(struct store *st, const struct store_zone *z)
{
	int r;

	r = store_check_version(z->version);
	if (r < 0)
		return r;
	return store_exec_changed(
	    st, Q_ZONE_UPDATE, "iiiiiiittti", (int64_t)z->version, (int64_t)z->serial,
	    (int64_t)z->deleted, (int64_t)z->dnssec, z->user_id, z->server_id,
	    z->updated_at != 0 ? z->updated_at : store_now(), z->rdigest, z->soa, z->pdns, z->id);
}

static int zone_get(struct store *st, enum query which, int64_t id, const char *domain,
		    struct store_zone *ret)
{
	struct db_stmt *q;
	int r;

	if (which == Q_ZONE_GET || which == Q_ZONE_GET_LOCKED)
		r = store_stmt(st, which, &q, "i", id);
	else
		r = store_stmt(st, which, &q, "t", domain);
	if (r < 0)
		return r;
	return store_run_row(q, row_zone, ret);
}

int store_zone_get(struct store *st, int64_t id, struct store_zone *ret)
{
	return zone_get(st, Q_ZONE_GET, id, NULL, ret);
}

int store_zone_get_locked(struct store *st, int64_t id, struct store_zone *ret)
{
	return zone_get(st, Q_ZONE_GET_LOCKED, id, NULL, ret);
}

int store_zone_get_by_name(struct store *st, const char *domain, struct store_zone *ret)
{
	if (domain == NULL)
		return -EINVAL;
	return zone_get(st, Q_ZONE_GET_NAME, 0, domain, ret);
}

int store_zone_foreach(struct store *st, bool with_deleted, store_zone_fn fn, void *ctx)
{
	return store_zone_foreach_after(st, with_deleted, 0, fn, ctx);
}

STORE_ROWS(zone, struct store_zone, row_zone, store_zone_clear, store_zone_fn);

int store_zone_foreach_after(struct store *st, bool with_deleted, int64_t after, store_zone_fn fn,
			     void *ctx)
{
	return store_walk(st, with_deleted ? Q_ZONE_PAGE_ALL : Q_ZONE_PAGE, NULL, after, &zone_rows,
			  (store_fn)fn, ctx);
}

#define PREFIX_BY_NAME 2000

int store_zone_foreach_prefix(struct store *st, const char *prefix, int64_t after, store_zone_fn fn,
			      void *ctx)
{
	char hi[STORE_PREFIX_MAX + 1];
	size_t len = prefix != NULL ? strlen(prefix) : 0;

	if (len == 0 || len > STORE_PREFIX_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (prefix[i] < '!' || prefix[i] > '}')
			return -EINVAL;
	}
	/* Both engines compare the bytes (utf8mb4_bin on MariaDB): the names
	 * in [prefix, prefix with its last byte plus one) are exactly those
	 * that start with it. */
	memcpy(hi, prefix, len + 1);
	hi[len - 1]++;
	/* SQLite without statistics always walks the ids, so a prefix that
	 * few names share read every zone: 43 ms for 100 names of 100,000
	 * zones, against 0.2 ms by the name index. Up to PREFIX_BY_NAME
	 * names (counted on the index, at most that many read) the name
	 * index is used; past it the names are dense enough that the id
	 * walk finds a page soon. */
	struct db_stmt *q;
	int64_t n = 0;
	int r =
	    store_stmt(st, Q_ZONE_PREFIX_COUNT, &q, "tti", prefix, hi, (int64_t)PREFIX_BY_NAME + 1);
	if (r == 0)
		r = store_run_int(q, &n);
	if (r < 0)
		return r;
	return store_walk_range(st,
				n <= PREFIX_BY_NAME ? Q_ZONE_PAGE_PREFIX_NAME : Q_ZONE_PAGE_PREFIX,
				prefix, hi, after, &zone_rows, (store_fn)fn, ctx);
}

int store_zone_foreach_bucket(struct store *st, unsigned bucket, store_zone_fn fn, void *ctx)
{
	int64_t key = (int64_t)bucket;

	return store_walk(st, Q_ZONE_PAGE_BUCKET, &key, 0, &zone_rows, (store_fn)fn, ctx);
}

int store_zone_set_bucket(struct store *st, int64_t id, unsigned bucket)
{
	return store_exec(st, Q_ZONE_SET_BUCKET, "ii", (int64_t)bucket, id);
}

int store_zone_set_rdigest(struct store *st, int64_t id, uint64_t version, const char *rdigest)
{
	return store_exec(st, Q_ZONE_SET_RDIGEST, "tii", rdigest, id, (int64_t)version);
}

int store_zone_purge(struct store *st, int64_t id)
{
	struct db_stmt *q;
	int64_t deleted = 0;
	uint64_t n = 0;
	bool own;
	int r;

	r = store_auto_begin(st, &own);
	if (r < 0)
		return r;
	/* Its version and serial outlive it (dns_purged_zones); records,
	 * versions and node states go with it (ON DELETE CASCADE). */
	r = store_exec(st, Q_PURGED_REMEMBER, "ii", store_now(), id);
	if (r == 0)
		r = store_stmt(st, Q_ZONE_PURGE, &q, "i", id);
	if (r == 0)
		r = store_run(q, &n, NULL);
	if (r == 0 && n == 0) {
		/* Nothing purged: no such zone, or a live one, refused. */
		r = store_stmt(st, Q_ZONE_IS_DELETED, &q, "i", id);
		if (r == 0)
			r = store_run_int(q, &deleted);
		if (r == 0)
			r = ERR_CONFLICT;
	}
	return store_auto_end(st, own, r);
}

int store_zone_counts(struct store *st, uint64_t *ret_zones, uint64_t *ret_records)
{
	int64_t zones = 0, records = 0;
	struct db_stmt *q;
	int r;

	r = store_stmt(st, Q_ZONE_COUNT, &q, "");
	if (r == 0)
		r = store_run_int(q, &zones);
	if (r == 0)
		r = store_stmt(st, Q_RECORD_COUNT, &q, "");
	if (r == 0)
		r = store_run_int(q, &records);
	if (r < 0)
		return r;
	if (ret_zones != NULL)
		*ret_zones = (uint64_t)zones;
	if (ret_records != NULL)
		*ret_records = (uint64_t)records;
	return 0;
}

/* --- records -------------------------------------------------------------- */

int store_record_count(struct store *st, int64_t zone_id, uint64_t *ret)
{
	struct db_stmt *q;
	int64_t n = 0;
	int r = store_stmt(st, Q_RECORD_COUNT_ZONE, &q, "i", zone_id);
	if (r == 0)
		r = store_run_int(q, &n);
	if (r == 0)
		*ret = (uint64_t)n;
	return r;
}

void store_record_clear(struct store_record *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->type);
	free(r->content);
	memset(r, 0, sizeof(*r));
}

static int row_record(struct db_stmt *q, void *row)
{
	struct store_record *rec = row;
	bool ok;

	memset(rec, 0, sizeof(*rec));
	rec->id = db_column_int64(q, 0);
	rec->zone_id = db_column_int64(q, 1);
	rec->ttl = (uint32_t)db_column_int64(q, 5);
	rec->priority = (uint32_t)db_column_int64(q, 6);
	rec->created_at = db_column_int64(q, 7);
	rec->disabled = db_column_int64(q, 8) != 0;
	ok = store_col_dup(q, 2, &rec->name);
	ok = store_col_dup(q, 3, &rec->type) && ok;
	ok = store_col_dup(q, 4, &rec->content) && ok;
	if (!ok || rec->name == NULL || rec->type == NULL || rec->content == NULL) {
		store_record_clear(rec);
		return -ENOMEM;
	}
	return 0;
}

static bool record_valid(const struct store_record *rec)
{
	return rec->name != NULL && rec->type != NULL && rec->type[0] != '\0' &&
	       rec->content != NULL;
}

int store_record_insert(struct store *st, struct store_record *rec)
{
	int64_t created = rec->created_at != 0 ? rec->created_at : store_now();
	struct db_stmt *q;
	int64_t id = 0;
	int r;

	if (!record_valid(rec))
		return -EINVAL;
	r = store_stmt(st, Q_RECORD_INSERT, &q, "itttiiii", rec->zone_id, rec->name, rec->type,
		       rec->content, (int64_t)rec->ttl, (int64_t)rec->priority, created,
		       (int64_t)rec->disabled);
	if (r < 0)
		return r;
	r = store_run(q, NULL, &id);
	if (r < 0)
		return r;
	rec->id = id;
	rec->created_at = created;
	return 0;
}

int store_record_update(struct store *st, const struct store_record *rec)
{

	if (!record_valid(rec))
		return -EINVAL;
	return store_exec_changed(st, Q_RECORD_UPDATE, "tttiiii", rec->name, rec->type,
				  rec->content, (int64_t)rec->ttl, (int64_t)rec->priority,
				  (int64_t)rec->disabled, rec->id);
}

int store_record_get(struct store *st, int64_t id, struct store_record *ret)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_RECORD_GET, &q, "i", id);

	return r < 0 ? r : store_run_row(q, row_record, ret);
}

int store_record_delete(struct store *st, int64_t id)
{
	return store_exec_changed(st, Q_RECORD_DELETE, "i", id);
}

int store_record_delete_zone(struct store *st, int64_t zone_id)
{

	return store_exec(st, Q_RECORD_DELETE_ZONE, "i", zone_id);
}

STORE_ROWS(record, struct store_record, row_record, store_record_clear, store_record_fn);

int store_record_foreach(struct store *st, int64_t zone_id, store_record_fn fn, void *ctx)
{
	return store_walk(st, Q_RECORD_PAGE, &zone_id, 0, &record_rows, (store_fn)fn, ctx);
}

/* --- zone metadata ---------------------------------------------------------- */

int store_meta_put(struct store *st, int64_t zone_id, const char *kind, const char *content)
{
	return store_exec(st, Q_META_PUT, "itt", zone_id, kind, content);
}

static int row_text(struct db_stmt *q, void *row)
{
	char **ret = row;
	return store_col_dup(q, 0, ret) && *ret != NULL ? 0 : -ENOMEM;
}

int store_meta_get(struct store *st, int64_t zone_id, const char *kind, char **ret)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_META_GET, &q, "it", zone_id, kind);

	return r < 0 ? r : store_run_row(q, row_text, ret);
}

int store_meta_foreach(struct store *st, int64_t zone_id, store_meta_fn fn, void *ctx)
{
	struct db_stmt *q = NULL;
	int r = store_stmt(st, Q_META_LIST, &q, "i", zone_id);

	if (r < 0)
		return r;
	while ((r = db_step(q)) == DB_ROW) {
		const char *kind = db_column_text(q, 0), *content = db_column_text(q, 1);
		r = fn(kind ? kind : "", content ? content : "", ctx);
		if (r != 0)
			break;
	}
	db_reset(q);
	return r; /* DB_DONE is 0 */
}

int store_meta_delete(struct store *st, int64_t zone_id, const char *kind)
{
	return store_exec(st, Q_META_DELETE, "it", zone_id, kind);
}

int store_meta_delete_zone(struct store *st, int64_t zone_id)
{
	return store_exec(st, Q_META_DELETE_ZONE, "i", zone_id);
}

/* --- RRset comments ----------------------------------------------------------- */

int store_comment_put(struct store *st, int64_t zone_id, const char *name, const char *type,
		      const char *content)
{
	return store_exec(st, Q_COMMENT_PUT, "ittt", zone_id, name, type, content);
}

int store_comment_delete(struct store *st, int64_t zone_id, const char *name, const char *type)
{
	return store_exec(st, Q_COMMENT_DELETE, "itt", zone_id, name, type);
}

int store_comment_delete_zone(struct store *st, int64_t zone_id)
{
	return store_exec(st, Q_COMMENT_DELETE_ZONE, "i", zone_id);
}

int store_comment_foreach(struct store *st, int64_t zone_id, store_comment_fn fn, void *ctx)
{
	struct db_stmt *q = NULL;
	int r = store_stmt(st, Q_COMMENT_LIST, &q, "i", zone_id);

	if (r < 0)
		return r;
	while ((r = db_step(q)) == DB_ROW) {
		const char *name = db_column_text(q, 0), *type = db_column_text(q, 1);
		const char *content = db_column_text(q, 2);
		r = fn(name ? name : "", type ? type : "", content ? content : "", ctx);
		if (r != 0)
			break;
	}
	db_reset(q);
	return r; /* DB_DONE is 0 */
}

int store_comment_foreach_all(struct store *st, store_comment_all_fn fn, void *ctx)
{
	struct db_stmt *q = NULL;
	int r = store_stmt(st, Q_COMMENT_LIST_ALL, &q, "");

	if (r < 0)
		return r;
	while ((r = db_step(q)) == DB_ROW) {
		const char *name = db_column_text(q, 1), *type = db_column_text(q, 2);
		const char *content = db_column_text(q, 3);
		r = fn(db_column_int64(q, 0), name ? name : "", type ? type : "",
		       content ? content : "", ctx);
		if (r != 0)
			break;
	}
	db_reset(q);
	return r; /* DB_DONE is 0 */
}

int store_record_foreach_after(struct store *st, int64_t after, store_record_fn fn, void *ctx)
{
	return store_walk(st, Q_RECORD_PAGE_ALL, NULL, after, &record_rows, (store_fn)fn, ctx);
}
