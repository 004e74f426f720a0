/* PowerDNS gsqlite3 backend, written directly (see backend.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "backend.h"
#include "base/buf.h"
#include "base/err.h"

#define SCHEMA_FILE_MAX (1u << 20)

enum stmt_id {
	ST_STATE,
	ST_DOMAIN_ID,
	ST_DOMAIN_INSERT,
	ST_DOMAIN_KIND,
	ST_ROWS,
	ST_ROW_DELETE,
	ST_RECORD_INSERT,
	ST_ENT_INSERT,
	ST_STATE_UPSERT,
	ST_DOMAIN_DELETE,
	ST_TOMBSTONE,
	ST_MARK_CLEAN,
	ST_SET_VERSION,
	ST_SET_DIGEST,
	ST_STATE_PAGE,
	ST_RECORDS_LIST,
	ST_ZONES_LIST,
	ST_KEYS_COUNT,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_STATE] = "SELECT d.id, s.version, s.serial, s.deleted, s.dirty, s.digest "
		     "FROM (SELECT ?1 AS zone) q "
		     "LEFT JOIN domains d ON d.name = ?2 "
		     "LEFT JOIN yumna_zone_state s ON s.zone = q.zone",
	[ST_DOMAIN_ID] = "SELECT id FROM domains WHERE name = ?1",
	[ST_DOMAIN_INSERT] = "INSERT INTO domains (name, type) VALUES (?1, ?2)",
	[ST_DOMAIN_KIND] = "UPDATE domains SET type = ?2 WHERE id = ?1 AND type != ?2",
	[ST_ROWS] = "SELECT id, name, type, content, ttl, prio, auth, disabled FROM records "
		    "WHERE domain_id = ?1",
	[ST_ROW_DELETE] = "DELETE FROM records WHERE id = ?1",
	[ST_ENT_INSERT] =
	    "INSERT INTO records (domain_id, name, type, content, ttl, prio, "
	    "disabled, ordername, auth) VALUES (?1, ?2, NULL, NULL, NULL, NULL, 0, NULL, ?3)",
	[ST_RECORD_INSERT] =
	    "INSERT INTO records (domain_id, name, type, content, ttl, prio, "
	    "disabled, ordername, auth) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, NULL, ?7)",
	[ST_STATE_UPSERT] =
	    "INSERT INTO yumna_zone_state (zone, version, serial, deleted, dirty, "
	    "updated_at, digest) VALUES (?1, ?2, ?3, 0, 1, ?4, ?5) ON CONFLICT(zone) DO UPDATE "
	    "SET version = ?2, serial = ?3, deleted = 0, dirty = 1, updated_at = ?4, digest = ?5",
	[ST_DOMAIN_DELETE] = "DELETE FROM domains WHERE name = ?1",
	[ST_TOMBSTONE] = "INSERT INTO yumna_zone_state (zone, version, serial, deleted, dirty, "
			 "updated_at) VALUES (?1, ?2, 0, 1, 1, ?3) ON CONFLICT(zone) DO UPDATE "
			 "SET version = max(version, ?2), deleted = 1, dirty = 1, updated_at = ?3, "
			 "digest = ''",
	[ST_MARK_CLEAN] = "UPDATE yumna_zone_state SET dirty = 0 WHERE zone = ?1",
	[ST_SET_VERSION] = "UPDATE yumna_zone_state SET version = ?2, serial = ?3 WHERE zone = ?1",
	[ST_SET_DIGEST] = "UPDATE yumna_zone_state SET digest = ?2 WHERE zone = ?1",
	[ST_STATE_PAGE] = "SELECT zone, version, serial, deleted, dirty, digest FROM "
			  "yumna_zone_state WHERE zone > ?1 ORDER BY zone LIMIT ?2",
	[ST_RECORDS_LIST] = "SELECT r.name, r.type, r.content, r.ttl, r.prio FROM records r "
			    "JOIN domains d ON d.id = r.domain_id WHERE d.name = ?1 "
			    "AND r.type IS NOT NULL AND r.disabled = 0 "
			    "ORDER BY r.name, r.type, r.prio, r.content",
	[ST_ZONES_LIST] = "SELECT d.name || '.', s.version, s.serial, 0, s.dirty, 1, s.digest "
			  "FROM domains d "
			  "LEFT JOIN yumna_zone_state s ON s.zone = d.name || '.' "
			  "UNION ALL SELECT s.zone, s.version, s.serial, s.deleted, s.dirty, 0, "
			  "s.digest "
			  "FROM yumna_zone_state s WHERE s.deleted = 1 "
			  "AND NOT EXISTS (SELECT 1 FROM domains d WHERE d.name || '.' = s.zone) "
			  "ORDER BY 1",
	[ST_KEYS_COUNT] = "SELECT d.type, (SELECT count(*) FROM cryptokeys k WHERE "
			  "k.domain_id = d.id AND k.active) FROM domains d WHERE d.name = ?1",
};

struct backend_sqlite {
	struct backend base; /* first member: a driver is a backend */
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
};

static int map_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_FULL:
		return ERR_NO_SPACE;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return ERR_UNAVAILABLE;
	case SQLITE_NOMEM:
		return -ENOMEM;
	}
	return ERR_BACKEND;
}

/* PowerDNS stores names lowercase without the trailing dot. */
static void pdns_name(const char *name, char out[DNAME_TEXT_MAX])
{
	size_t n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	memcpy(out, name, n);
	out[n] = '\0';
}

static sqlite3_stmt *stmt(struct backend_sqlite *b, enum stmt_id id)
{
	sqlite3_stmt *s = b->st[id];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

static int exec(struct backend_sqlite *b, const char *sql)
{
	return map_err(sqlite3_exec(b->db, sql, NULL, NULL, NULL));
}

static const struct backend_ops sqlite_ops;
static void op_close(struct backend *base);
static void op_rollback(struct backend *base);

int backend_sqlite_open(const struct backend_conf *conf, struct backend **ret)
{
	const char *path = conf->path;
	bool sync_full = conf->sync_full;
	struct backend_sqlite *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	int rc = sqlite3_open_v2(
	    path, &b->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	int r = map_err(rc);
	if (r == 0) {
		sqlite3_busy_timeout(b->db, 5000);
		sqlite3_extended_result_codes(b->db, 1);
		r = exec(b, "PRAGMA journal_mode = WAL");
	}
	if (r == 0)
		r = exec(b,
			 sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
	if (r == 0)
		r = exec(b, "PRAGMA foreign_keys = ON");
	/* The page cache holds the interior pages of PowerDNS's indexes, so a
	 * zone's lookups and inserts read one leaf page each from the file.
	 * With 512 KiB, a million-zone database read several pages per lookup
	 * and a full sync spent half its time in pread(); 16 MiB keeps the
	 * agent well inside its memory budget (bench/results.md). */
	if (r == 0)
		r = exec(b, "PRAGMA cache_size = -16384");
	if (r < 0) {
		op_close(&b->base);
		return r;
	}
	b->base.ops = &sqlite_ops;
	*ret = &b->base;
	return 0;
}

static void op_close(struct backend *base)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	if (b == NULL)
		return;
	for (unsigned i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(b->st[i]);
	sqlite3_close(b->db);
	free(b);
}

static int read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	char chunk[8192];
	size_t n;
	int r = 0;
	while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		r = buf_append(out, chunk, n);
	if (r == 0 && ferror(f))
		r = -EIO;
	fclose(f);
	return r;
}

static bool table_exists(struct backend_sqlite *b, const char *name)
{
	sqlite3_stmt *s;
	bool found = false;
	if (sqlite3_prepare_v2(b->db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1",
			       -1, &s, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return found;
}

static bool column_exists(struct backend_sqlite *b, const char *table, const char *column)
{
	sqlite3_stmt *s;
	bool found = false;
	if (sqlite3_prepare_v2(b->db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &s,
			       NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, column, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return found;
}

/* A digest column into 'out': "" for NULL or anything that is not one. */
static void copy_digest(sqlite3_stmt *s, int col, char out[ZONE_DIGEST_HEX])
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	snprintf(out, ZONE_DIGEST_HEX, "%s", t != NULL && zone_digest_valid(t) ? t : "");
}

static int op_schema_ensure(struct backend *base, const char *schema_file)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	int r = 0;

	if (!table_exists(b, "domains")) {
		struct buf sql;
		buf_init(&sql, SCHEMA_FILE_MAX);
		r = read_file(schema_file, &sql);
		if (r == 0)
			r = exec(b, sql.data ? sql.data : "");
		buf_free(&sql);
		if (r < 0)
			return r;
	}
	r = exec(b, "CREATE TABLE IF NOT EXISTS yumna_zone_state ("
		    " zone TEXT PRIMARY KEY,"
		    " version INTEGER NOT NULL,"
		    " serial INTEGER NOT NULL,"
		    " deleted INTEGER NOT NULL DEFAULT 0,"
		    " dirty INTEGER NOT NULL DEFAULT 0,"
		    " updated_at INTEGER NOT NULL,"
		    " digest TEXT NOT NULL DEFAULT '')");
	/* A table from before digests: an empty digest never matches a
	 * push, so its zones are verified by the first push of each. */
	if (r == 0 && !column_exists(b, "yumna_zone_state", "digest"))
		r = exec(b,
			 "ALTER TABLE yumna_zone_state ADD COLUMN digest TEXT NOT NULL DEFAULT ''");
	/* Clearing the dirty flags after each batch must not scan every zone:
	 * at a million zones that scan was most of a full sync's time. */
	if (r == 0)
		r = exec(b, "CREATE INDEX IF NOT EXISTS yumna_zone_state_dirty ON yumna_zone_state "
			    "(dirty) WHERE dirty = 1");
	for (unsigned i = 0; r == 0 && i < ST_COUNT; i++) {
		if (b->st[i] == NULL)
			r = map_err(sqlite3_prepare_v3(b->db, stmt_sql[i], -1,
						       SQLITE_PREPARE_PERSISTENT, &b->st[i], NULL));
	}
	return r;
}

static int op_begin(struct backend *base)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	return exec(b, "BEGIN IMMEDIATE");
}

static int op_commit(struct backend *base)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	int r = exec(b, "COMMIT");
	if (r < 0)
		op_rollback(&b->base);
	return r;
}

static void op_rollback(struct backend *base)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	if (!sqlite3_get_autocommit(b->db))
		sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
}

static int op_zone_state(struct backend *base, const char *zone, struct zone_state *ret)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	char name[DNAME_TEXT_MAX];
	sqlite3_stmt *s = stmt(b, ST_STATE);

	pdns_name(zone, name);
	sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW)
		return map_err(rc) ? map_err(rc) : ERR_BACKEND;
	memset(ret, 0, sizeof(*ret));
	ret->exists = sqlite3_column_type(s, 0) != SQLITE_NULL;
	ret->known = sqlite3_column_type(s, 1) != SQLITE_NULL;
	ret->version = (uint64_t)sqlite3_column_int64(s, 1);
	ret->serial = (uint32_t)sqlite3_column_int64(s, 2);
	ret->deleted = sqlite3_column_int(s, 3) != 0;
	ret->dirty = sqlite3_column_int(s, 4) != 0;
	copy_digest(s, 5, ret->digest);
	sqlite3_reset(s);
	return 0;
}

static int step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	int r = rc == SQLITE_DONE ? 0 : (map_err(rc) ? map_err(rc) : ERR_BACKEND);
	sqlite3_reset(s);
	return r;
}

/* The zone's domain id, its row created if there is none (*ret_new). */
static int domain_id(struct backend_sqlite *b, const char *name, const char *kind, int64_t *ret,
		     bool *ret_new)
{
	*ret_new = false;
	sqlite3_stmt *s = stmt(b, ST_DOMAIN_ID);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		s = stmt(b, ST_DOMAIN_KIND);
		sqlite3_bind_int64(s, 1, *ret);
		sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
		return step_done(s);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return map_err(rc) ? map_err(rc) : ERR_BACKEND;
	s = stmt(b, ST_DOMAIN_INSERT);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	int r = step_done(s);
	if (r == 0)
		*ret = sqlite3_last_insert_rowid(b->db);
	*ret_new = r == 0;
	return r;
}

/* MX and SRV keep their first field in the prio column (PowerDNS 4 schema). */
static bool has_prio(uint16_t type)
{
	return type == 15 /* MX */ || type == 33 /* SRV */;
}

static int insert_rr(struct backend_sqlite *b, int64_t id, const struct backend_rr *rr)
{
	char name[DNAME_TEXT_MAX];
	const char *content = rr->content;
	long prio = 0;

	pdns_name(rr->owner, name);
	if (has_prio(rr->type)) {
		char *end;
		prio = strtol(content, &end, 10);
		if (end == content || *end != ' ')
			return ERR_INVALID;
		content = end + 1;
	}
	sqlite3_stmt *s = stmt(b, ST_RECORD_INSERT);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, rr_type_name(rr->type), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, content, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, rr->ttl);
	sqlite3_bind_int64(s, 6, prio);
	sqlite3_bind_int(s, 7, rr->auth ? 1 : 0);
	return step_done(s);
}

struct ent_ctx {
	struct backend_sqlite *b;
	int64_t id;
};

static int insert_ent(const char *name, bool auth, void *ctx)
{
	struct ent_ctx *e = ctx;
	char pname[DNAME_TEXT_MAX];

	pdns_name(name, pname);
	sqlite3_stmt *s = stmt(e->b, ST_ENT_INSERT);
	sqlite3_bind_int64(s, 1, e->id);
	sqlite3_bind_text(s, 2, pname, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, auth ? 1 : 0);
	return step_done(s);
}

static int state_upsert(struct backend_sqlite *b, const char *zone, uint64_t version,
			uint32_t serial, const char *digest)
{
	sqlite3_stmt *s = stmt(b, ST_STATE_UPSERT);
	sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)version);
	sqlite3_bind_int64(s, 3, serial);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(s, 5, digest ? digest : "", -1, SQLITE_STATIC);
	return step_done(s);
}

/* Every row of a zone that has none yet. */
static int insert_all(struct backend_sqlite *b, int64_t id, const struct backend_zone *z)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < z->n; i++)
		r = insert_rr(b, id, &z->rrs[i]);
	if (r == 0) {
		struct ent_ctx e = { b, id };
		r = backend_zone_ents(z, insert_ent, &e);
	}
	return r;
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

/* Rewrite only the rows that differ from 'z': every row written costs
 * PowerDNS's table four index updates, and a change of one record in a
 * zone of many would otherwise delete and insert them all. */
static int rewrite_changed(struct backend_sqlite *b, int64_t id, const struct backend_zone *z)
{
	struct backend_rows w;
	int64_t *gone = NULL;
	size_t ngone = 0, agone = 0;
	int rc = SQLITE_DONE;

	int r = backend_rows_build(z, &w);
	if (r < 0)
		return r;
	sqlite3_stmt *s = stmt(b, ST_ROWS);
	sqlite3_bind_int64(s, 1, id);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 1);
		struct backend_row *row =
		    name ? backend_rows_find(&w, name, (const char *)sqlite3_column_text(s, 2),
					     (const char *)sqlite3_column_text(s, 3),
					     (long)sqlite3_column_int64(s, 5))
			 : NULL;
		if (row != NULL && !row->stored && sqlite3_column_int64(s, 4) == row->ttl &&
		    (sqlite3_column_int(s, 6) != 0) == row->auth && sqlite3_column_int(s, 7) == 0)
			row->stored = true;
		else
			r = add_id(&gone, &ngone, &agone, sqlite3_column_int64(s, 0));
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = map_err(rc) ? map_err(rc) : ERR_BACKEND;
	sqlite3_reset(s);
	for (size_t i = 0; r == 0 && i < ngone; i++) {
		s = stmt(b, ST_ROW_DELETE);
		sqlite3_bind_int64(s, 1, gone[i]);
		r = step_done(s);
	}
	struct ent_ctx e = { b, id };
	for (size_t i = 0; r == 0 && i < w.n; i++) {
		const struct backend_row *row = &w.v[i];
		if (row->stored)
			continue;
		r = row->rr == SIZE_MAX ? insert_ent(row->name, row->auth, &e)
					: insert_rr(b, id, &z->rrs[row->rr]);
	}
	free(gone);
	backend_rows_free(&w);
	return r;
}

static int op_zone_replace(struct backend *base, const struct backend_zone *z, const char *kind,
			   int64_t *ret_domain_id)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	char name[DNAME_TEXT_MAX];
	int64_t id = 0;
	bool created;

	pdns_name(z->origin, name);
	int r = domain_id(b, name, kind, &id, &created);
	if (r == 0)
		r = created ? insert_all(b, id, z) : rewrite_changed(b, id, z);
	if (r == 0)
		r = state_upsert(b, z->origin, z->version, z->serial, z->digest);
	if (r == 0 && ret_domain_id != NULL)
		*ret_domain_id = id;
	return r;
}

static int op_zone_delete(struct backend *base, const char *zone, uint64_t version)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	char name[DNAME_TEXT_MAX];

	pdns_name(zone, name);
	sqlite3_stmt *s = stmt(b, ST_DOMAIN_DELETE);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int r = step_done(s);
	if (r < 0)
		return r;
	s = stmt(b, ST_TOMBSTONE);
	sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)version);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
	return step_done(s);
}

static int op_zone_mark_clean(struct backend *base, const char *zone)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	sqlite3_stmt *s = stmt(b, ST_MARK_CLEAN);
	sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
	return step_done(s);
}

static int op_zone_set_version(struct backend *base, const char *zone, uint64_t version,
			       uint32_t serial)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	sqlite3_stmt *s = stmt(b, ST_SET_VERSION);
	sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)version);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)serial);
	return step_done(s);
}

static int op_zone_set_digest(struct backend *base, const char *zone, const char *digest)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	sqlite3_stmt *s = stmt(b, ST_SET_DIGEST);
	sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, digest, -1, SQLITE_STATIC);
	return step_done(s);
}

static int op_mark_all_clean(struct backend *base)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	return exec(b, "UPDATE yumna_zone_state SET dirty = 0 WHERE dirty = 1");
}

static int op_zone_foreach(struct backend *base, backend_zone_fn fn, void *ctx)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	sqlite3_stmt *s = stmt(b, ST_ZONES_LIST);
	int rc, r = 0;

	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct zone_state st = {
			.exists = sqlite3_column_int(s, 5) != 0,
			.known = sqlite3_column_type(s, 1) != SQLITE_NULL,
			.version = (uint64_t)sqlite3_column_int64(s, 1),
			.serial = (uint32_t)sqlite3_column_int64(s, 2),
			.deleted = sqlite3_column_int(s, 3) != 0,
			.dirty = sqlite3_column_int(s, 4) != 0,
		};
		copy_digest(s, 6, st.digest);
		r = fn((const char *)sqlite3_column_text(s, 0), &st, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = map_err(rc) ? map_err(rc) : ERR_BACKEND;
	sqlite3_reset(s);
	return r;
}

static int op_state_page(struct backend *base, const char *after, size_t limit, backend_zone_fn fn,
			 void *ctx, size_t *ret_n)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	sqlite3_stmt *s = stmt(b, ST_STATE_PAGE);
	size_t n = 0;
	int rc, r = 0;

	sqlite3_bind_text(s, 1, after, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct zone_state st = {
			.known = true,
			.version = (uint64_t)sqlite3_column_int64(s, 1),
			.serial = (uint32_t)sqlite3_column_int64(s, 2),
			.deleted = sqlite3_column_int(s, 3) != 0,
			.dirty = sqlite3_column_int(s, 4) != 0,
		};
		copy_digest(s, 5, st.digest);
		n++;
		r = fn((const char *)sqlite3_column_text(s, 0), &st, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = map_err(rc) ? map_err(rc) : ERR_BACKEND;
	sqlite3_reset(s);
	*ret_n = n;
	return r;
}

static int op_zone_records(struct backend *base, const char *zone, backend_record_fn fn, void *ctx)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	char name[DNAME_TEXT_MAX], owner[DNAME_TEXT_MAX + 1];
	struct buf content;
	struct zone_state st;
	int rc = SQLITE_DONE;

	int r = op_zone_state(&b->base, zone, &st);
	if (r < 0)
		return r;
	if (!st.exists)
		return -ENOENT;
	pdns_name(zone, name);
	buf_init(&content, 1u << 20);
	sqlite3_stmt *s = stmt(b, ST_RECORDS_LIST);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *rname = (const char *)sqlite3_column_text(s, 0);
		const char *type = (const char *)sqlite3_column_text(s, 1);
		const char *text = (const char *)sqlite3_column_text(s, 2);
		snprintf(owner, sizeof(owner), "%s.", rname ? rname : "");
		buf_reset(&content);
		if (strcmp(type, "MX") == 0 || strcmp(type, "SRV") == 0)
			r = buf_printf(&content, "%lld ", (long long)sqlite3_column_int64(s, 4));
		if (r == 0)
			r = buf_puts(&content, text ? text : "");
		if (r == 0)
			r = fn(owner, type, content.data, (uint32_t)sqlite3_column_int64(s, 3),
			       ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = map_err(rc) ? map_err(rc) : ERR_BACKEND;
	sqlite3_reset(s);
	buf_free(&content);
	return r;
}

static int op_counts(struct backend *base, uint64_t *ret_zones, uint64_t *ret_records)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	sqlite3_stmt *s;
	int rc =
	    sqlite3_prepare_v2(b->db,
			       ret_records ? "SELECT (SELECT count(*) FROM domains), "
					     "(SELECT count(*) FROM records WHERE type IS NOT NULL)"
					   : "SELECT count(*), 0 FROM domains",
			       -1, &s, NULL);
	if (rc != SQLITE_OK)
		return map_err(rc);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ret_zones = (uint64_t)sqlite3_column_int64(s, 0);
		if (ret_records != NULL)
			*ret_records = (uint64_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : ERR_BACKEND;
}

static int op_zone_info(struct backend *base, const char *zone, bool *ret_signed, char *kind,
			unsigned kind_len)
{
	struct backend_sqlite *b = (struct backend_sqlite *)base;
	char name[DNAME_TEXT_MAX];

	pdns_name(zone, name);
	sqlite3_stmt *s = stmt(b, ST_KEYS_COUNT);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? -ENOENT : ERR_BACKEND;
	}
	snprintf(kind, kind_len, "%s", (const char *)sqlite3_column_text(s, 0));
	*ret_signed = sqlite3_column_int64(s, 1) > 0;
	sqlite3_reset(s);
	return 0;
}

static const struct backend_ops sqlite_ops = {
	.close = op_close,
	.schema_ensure = op_schema_ensure,
	.begin = op_begin,
	.commit = op_commit,
	.rollback = op_rollback,
	.zone_state = op_zone_state,
	.zone_replace = op_zone_replace,
	.zone_delete = op_zone_delete,
	.zone_mark_clean = op_zone_mark_clean,
	.zone_set_version = op_zone_set_version,
	.zone_set_digest = op_zone_set_digest,
	.state_page = op_state_page,
	.mark_all_clean = op_mark_all_clean,
	.zone_foreach = op_zone_foreach,
	.zone_records = op_zone_records,
	.counts = op_counts,
	.zone_info = op_zone_info,
};
