/* PowerDNS's generic SQL schema, written directly (see backend.h and
 * backend_sql.h), once for gsqlite3 and gmysql over the SQL layer.
 *
 * What differs between the engines stays small: the dialect markers of
 * sql/db.h (upsert, GREATEST), a second text for the two statements whose
 * string handling differs (binary order, concatenation and collations), the
 * agent's own table's DDL, and on MySQL the check that PowerDNS's tables
 * are InnoDB. A zone is replaced by rewriting only the rows that changed,
 * the rows that are new going in by multi-row INSERTs.
 *
 * PowerDNS's gmysql schema has no foreign keys, so deleting a zone deletes
 * from each table that names it; on gsqlite3 that leaves ON DELETE CASCADE
 * nothing to do. PowerDNS's schema file creates InnoDB tables on MySQL, so
 * a zone replace is one InnoDB transaction: PowerDNS's readers (consistent
 * reads) see the old zone until the commit and the new one after it.
 *
 * The MySQL connection is never reconnected behind the caller's back (that
 * would silently drop an open transaction): a lost connection fails the
 * current call with ERR_UNAVAILABLE and is opened again, with its
 * statements, by the next call outside a transaction. Its results are read
 * from the wire (db_conf.stream): a callback of zone_foreach, state_page or
 * zone_records must not use the backend. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend_sql.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "sql/db.h"

#define SCHEMA_FILE_MAX (1u << 20)

const unsigned backend_sql_chunk_rows[BACKEND_SQL_CHUNKS] = { 64, 8, 1 };
/* A MySQL connection idle this long is pinged before use: a server that
 * closed it (wait_timeout, restart) costs a reconnect, not a failed push. */
#define IDLE_PING_S 30

/* Portable SQL with '?' and the markers of db_sql_expand(); 'mysql' where
 * MySQL needs another text. */
static const struct {
	const char *sql, *mysql;
} stmt_sql[ST_INSERT] = {
	/* (SELECT 1) gives exactly one row whether or not either table has one. */
	[ST_STATE] = { "SELECT d.id, s.version, s.serial, s.deleted, s.dirty, s.digest, d.type "
		       "FROM (SELECT 1) q LEFT JOIN domains d ON d.name = ? "
		       "LEFT JOIN yumna_zone_state s ON s.zone = ?" },
	[ST_DOMAIN_ID] = { "SELECT id, type FROM domains WHERE name = ?" },
	[ST_DOMAIN_INSERT] = { "INSERT INTO domains (name, type) VALUES (?, ?)" },
	[ST_DOMAIN_KIND] = { "UPDATE domains SET type = ? WHERE id = ?" },
	[ST_ROWS] = { "SELECT id, name, type, content, ttl, prio, auth, disabled FROM records "
		      "WHERE domain_id = ?" },
	[ST_ROW_DELETE] = { "DELETE FROM records WHERE id = ?" },
	[ST_RECORDS_DELETE] = { "DELETE FROM records WHERE domain_id = ?" },
	[ST_COMMENTS_DELETE] = { "DELETE FROM comments WHERE domain_id = ?" },
	[ST_META_DELETE] = { "DELETE FROM domainmetadata WHERE domain_id = ?" },
	[ST_KEYS_DELETE] = { "DELETE FROM cryptokeys WHERE domain_id = ?" },
	[ST_DOMAIN_DELETE] = { "DELETE FROM domains WHERE id = ?" },
	[ST_TOMBSTONE] = { "INSERT INTO yumna_zone_state (zone, version, serial, deleted, dirty, "
			   "updated_at) VALUES (?, ?, 0, 1, 1, ?) {UPSERT:zone} "
			   "version = {GREATEST}(version, {NEW:version}), deleted = 1, dirty = 1, "
			   "updated_at = {NEW:updated_at}, digest = ''" },
	[ST_MARK_CLEAN] = { "UPDATE yumna_zone_state SET dirty = 0 WHERE zone = ?" },
	[ST_SET_VERSION] = { "UPDATE yumna_zone_state SET version = ?, serial = ? WHERE zone = ?" },
	[ST_SET_DIGEST] = { "UPDATE yumna_zone_state SET digest = ? WHERE zone = ?" },
	[ST_STATE_PAGE] = { "SELECT zone, version, serial, deleted, dirty, digest FROM "
			    "yumna_zone_state WHERE zone > ? ORDER BY zone LIMIT ?" },
	[ST_MARK_ALL_CLEAN] = { "UPDATE yumna_zone_state SET dirty = 0 WHERE dirty = 1" },
	/* Binary order on both (gmysql's columns are latin1_swedish_ci). */
	[ST_RECORDS_LIST] = { "SELECT r.name, r.type, r.content, r.ttl, r.prio FROM records r "
			      "JOIN domains d ON d.id = r.domain_id WHERE d.name = ? "
			      "AND r.type IS NOT NULL AND r.disabled = 0 "
			      "ORDER BY r.name, r.type, r.prio, r.content",
			      "SELECT r.name, r.type, r.content, r.ttl, r.prio FROM records r "
			      "JOIN domains d ON d.id = r.domain_id WHERE d.name = ? "
			      "AND r.type IS NOT NULL AND r.disabled = 0 "
			      "ORDER BY CAST(r.name AS BINARY), CAST(r.type AS BINARY), r.prio, "
			      "CAST(r.content AS BINARY)" },
	/* On MySQL the zone column is ascii_bin: converting the latin1 side
	 * keeps the primary key usable for the join. */
	[ST_ZONES_LIST] = { "SELECT d.name || '.', s.version, s.serial, 0, s.dirty, 1, s.digest "
			    "FROM domains d LEFT JOIN yumna_zone_state s ON s.zone = d.name || '.' "
			    "UNION ALL SELECT s.zone, s.version, s.serial, s.deleted, s.dirty, 0, "
			    "s.digest FROM yumna_zone_state s WHERE s.deleted = 1 "
			    "AND NOT EXISTS (SELECT 1 FROM domains d WHERE d.name || '.' = s.zone) "
			    "ORDER BY 1",
			    "SELECT CONCAT(d.name, '.') AS zone, s.version, s.serial, 0, s.dirty, "
			    "1, s.digest FROM domains d LEFT JOIN yumna_zone_state s "
			    "ON s.zone = CONVERT(CONCAT(d.name, '.') USING ascii) COLLATE "
			    "ascii_bin "
			    "UNION ALL SELECT s.zone, s.version, s.serial, s.deleted, s.dirty, 0, "
			    "s.digest FROM yumna_zone_state s WHERE s.deleted = 1 AND NOT EXISTS "
			    "(SELECT 1 FROM domains d WHERE d.name = LEFT(s.zone, "
			    "CHAR_LENGTH(s.zone) - 1)) ORDER BY 1" },
	[ST_KEYS_COUNT] = { "SELECT d.type, (SELECT COUNT(*) FROM cryptokeys k WHERE "
			    "k.domain_id = d.id AND k.active = 1) FROM domains d WHERE d.name = "
			    "?" },
	[ST_ZONE_EXTRAS] = { "SELECT (SELECT COUNT(*) FROM cryptokeys k WHERE k.domain_id = d.id) "
			     "+ (SELECT COUNT(*) FROM domainmetadata m WHERE m.domain_id = d.id) "
			     "FROM domains d WHERE d.name = ?" },
	[ST_COUNTS] = { "SELECT (SELECT COUNT(*) FROM domains), "
			"(SELECT COUNT(*) FROM records WHERE type IS NOT NULL)" },
	[ST_ZONE_COUNT] = { "SELECT COUNT(*), 0 FROM domains" },
	[ST_KEYS_LIST] = { "SELECT k.id, k.flags, k.active, k.published, k.content FROM "
			   "cryptokeys k JOIN domains d ON d.id = k.domain_id WHERE d.name = ? "
			   "ORDER BY k.id" },
	[ST_KEY_INSERT] = { "INSERT INTO cryptokeys (domain_id, flags, active, published, "
			    "content) SELECT id, ?, ?, ?, ? FROM domains WHERE name = ?" },
	[ST_KEY_DELETE] = { "DELETE FROM cryptokeys WHERE id = ?" },
	[ST_META_GET] = { "SELECT m.content FROM domainmetadata m JOIN domains d ON "
			  "d.id = m.domain_id WHERE d.name = ? AND m.kind = ? ORDER BY m.id" },
	[ST_META_ANY] = { "SELECT COUNT(*) FROM domainmetadata m JOIN domains d ON "
			  "d.id = m.domain_id WHERE d.name = ? AND m.kind IN (?, ?, ?, ?)" },
	[ST_META_KIND_DELETE] = { "DELETE FROM domainmetadata WHERE kind = ? AND domain_id IN "
				  "(SELECT id FROM domains WHERE name = ?)" },
	[ST_META_INSERT] = { "INSERT INTO domainmetadata (domain_id, kind, content) "
			     "SELECT id, ?, ? FROM domains WHERE name = ?" },
	[ST_ORDERNAME] = { "UPDATE records SET ordername = ? WHERE domain_id = (SELECT id FROM "
			   "domains WHERE name = ?) AND name = ?" },
	/* PowerDNS looks a key up by name and algorithm; one name, one key. */
	[ST_TSIG_DELETE] = { "DELETE FROM tsigkeys WHERE name = ?" },
	[ST_TSIG_INSERT] = { "INSERT INTO tsigkeys (name, algorithm, secret) VALUES (?, ?, ?)" },
	[ST_TSIG_GET] = { "SELECT algorithm, secret FROM tsigkeys WHERE name = ?" },
};

/* The agent's own table, per engine. */
static const char *const state_ddl_sqlite[] = {
	"CREATE TABLE IF NOT EXISTS yumna_zone_state (zone TEXT PRIMARY KEY, "
	"version INTEGER NOT NULL, serial INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, "
	"dirty INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL, "
	"digest TEXT NOT NULL DEFAULT '')",
	/* Clearing the dirty flags after each batch must not scan every zone:
	 * at a million zones that scan was most of a full sync's time. */
	"CREATE INDEX IF NOT EXISTS yumna_zone_state_dirty ON yumna_zone_state (dirty) "
	"WHERE dirty = 1",
	NULL,
};
static const char *const state_ddl_mysql[] = {
	"CREATE TABLE IF NOT EXISTS yumna_zone_state ("
	" zone VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,"
	" version BIGINT UNSIGNED NOT NULL, serial INT UNSIGNED NOT NULL,"
	" deleted TINYINT NOT NULL DEFAULT 0, dirty TINYINT NOT NULL DEFAULT 0,"
	" updated_at BIGINT NOT NULL,"
	" digest VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT ''"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	/* A table from before digests: an empty digest never matches a push,
	 * so its zones are verified by the first push of each. */
	"ALTER TABLE yumna_zone_state ADD COLUMN IF NOT EXISTS "
	"digest VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT ''",
	"CREATE INDEX IF NOT EXISTS yumna_zone_state_dirty ON yumna_zone_state (dirty)",
	NULL,
};

static time_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* PowerDNS stores names lowercase without the trailing dot. */
void backend_sql_pdns_name(const char *name, char out[DNAME_TEXT_MAX])
{
	size_t n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	memcpy(out, name, n);
	out[n] = '\0';
}

/* Log what an operator needs of error 'r' of the database, and return it.
 * The messages never hold the password; they may quote data, so they are
 * sanitised. */
int backend_sql_fail(struct backend_sql *b, int r)
{
	char shown[DB_ERR_MAX];

	if (r >= 0 || b->db == NULL)
		return r;
	log_sanitize(b->db->err, shown, sizeof(shown));
	if (r == ERR_UNAVAILABLE && b->db->lost)
		log_warn("%s: connection lost: %s", b->where, shown);
	else if (r == ERR_UNAVAILABLE)
		log_warn("%s: %s", b->where, shown);
	else if (r == ERR_NO_SPACE)
		log_err("%s: out of space: %s", b->where, shown);
	else if (r != ERR_INVALID && r != -ENOMEM)
		log_err("%s: %s", b->where, shown);
	return r;
}

/* --- connection ------------------------------------------------------- */

static void close_stmts(struct backend_sql *b)
{
	for (unsigned i = 0; i < ST_COUNT; i++) {
		db_finalize(b->st[i]);
		b->st[i] = NULL;
	}
}

static void disconnect(struct backend_sql *b)
{
	close_stmts(b);
	db_close(b->db);
	b->db = NULL;
}

static int prepare(struct backend_sql *b, enum stmt_id id, const char *text)
{
	char *sql = db_sql_expand(b->db, text);
	if (sql == NULL)
		return -ENOMEM;
	int r = db_prepare(b->db, sql, &b->st[id]);
	free(sql);
	return backend_sql_fail(b, r);
}

/* The multi-row writes of the queue (backend_queue.c): "INSERT INTO ...
 * VALUES (...), (...)" for 'rows' rows, and what follows the values. */
static const struct {
	const char *head, *row, *tail;
	const char *again; /* not NULL: a second list of as many rows follows it */
} multi_sql[] = {
	{ "INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, ordername, "
	  "auth) VALUES ",
	  "(?, ?, ?, ?, ?, ?, 0, NULL, ?)", "", NULL },
	{ "INSERT INTO yumna_zone_state (zone, version, serial, deleted, dirty, updated_at, "
	  "digest) VALUES ",
	  "(?, ?, ?, 0, 1, ?, ?)",
	  " {UPSERT:zone} version = {NEW:version}, serial = {NEW:serial}, deleted = 0, dirty = 1, "
	  "updated_at = {NEW:updated_at}, digest = {NEW:digest}",
	  NULL },
	{ "INSERT INTO domains (name, type) VALUES ", "(?, ?)", "", NULL },
	{ "SELECT id, name FROM domains WHERE name IN (", "?", ")", NULL },
	/* Zone states read ahead: the domains rows (PowerDNS's names), then
	 * the agent's rows (names with their dot), each name in its own
	 * column so that no UNION mixes their collations on MySQL. */
	{ "SELECT d.name, d.id, d.type, NULL, NULL, NULL, NULL, NULL, NULL FROM domains d "
	  "WHERE d.name IN (",
	  "?", ")",
	  ") UNION ALL SELECT NULL, NULL, NULL, s.zone, s.version, s.serial, s.deleted, s.dirty, "
	  "s.digest FROM yumna_zone_state s WHERE s.zone IN (" },
};

static int prepare_multi(struct backend_sql *b, unsigned what, enum stmt_id id, unsigned rows)
{
	struct buf sql;
	buf_init(&sql, 1u << 16);
	int r = buf_puts(&sql, multi_sql[what].head);
	for (unsigned i = 0; r == 0 && i < rows; i++)
		r = buf_printf(&sql, "%s%s", i ? ", " : "", multi_sql[what].row);
	if (r == 0 && multi_sql[what].again != NULL) {
		r = buf_puts(&sql, multi_sql[what].again);
		for (unsigned i = 0; r == 0 && i < rows; i++)
			r = buf_printf(&sql, "%s%s", i ? ", " : "", multi_sql[what].row);
	}
	if (r == 0)
		r = buf_puts(&sql, multi_sql[what].tail);
	if (r == 0)
		r = prepare(b, id, sql.data);
	buf_free(&sql);
	return r;
}

static int prepare_all(struct backend_sql *b)
{
	int r = 0;
	for (unsigned i = 0; r == 0 && i < ST_INSERT; i++) {
		const char *mysql = stmt_sql[i].mysql;
		/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): called connected */
		r = prepare(b, i, b->db->kind == DB_MYSQL && mysql ? mysql : stmt_sql[i].sql);
	}
	for (unsigned i = 0; r == 0 && i < BACKEND_SQL_CHUNKS; i++)
		r = prepare_multi(b, 0, ST_INSERT + i, backend_sql_chunk_rows[i]);
	for (unsigned i = 0; r == 0 && i < BACKEND_SQL_CHUNKS; i++)
		r = prepare_multi(b, 1, ST_STATES + i, backend_sql_chunk_rows[i]);
	for (unsigned i = 0; r == 0 && i < BACKEND_SQL_CHUNKS; i++)
		r = prepare_multi(b, 2, ST_DOMAINS + i, backend_sql_chunk_rows[i]);
	for (unsigned i = 0; r == 0 && i < BACKEND_SQL_CHUNKS; i++)
		r = prepare_multi(b, 3, ST_DOMAIN_IDS + i, backend_sql_chunk_rows[i]);
	if (r == 0)
		r = prepare_multi(b, 4, ST_PREFETCH, BACKEND_PREFETCH_MAX);
	if (r < 0)
		close_stmts(b);
	return r;
}

static int connect_db(struct backend_sql *b)
{
	char shown[ERRMSG_MAX];
	struct errmsg err;

	int r = db_open(&b->conf, &b->db, &err);
	if (r < 0) {
		log_sanitize(err.text, shown, sizeof(shown));
		if (!b->unreachable)
			log_err("%s: %s", b->where, shown);
		b->unreachable = true;
		b->db = NULL;
		return r;
	}
	b->unreachable = false;
	b->in_txn = false;
	b->last_used = now_mono();
	if (b->prepared)
		r = prepare_all(b);
	if (r < 0)
		disconnect(b);
	return r;
}

/* Before every call: reopen a lost connection, unless a transaction was
 * open on it (that transaction is gone; the caller must roll back first). */
int backend_sql_ensure(struct backend_sql *b)
{
	time_t now = now_mono();
	if (b->db != NULL && !b->db->lost) {
		if (b->in_txn || now - b->last_used < IDLE_PING_S || db_ping(b->db) == 0) {
			b->last_used = now;
			return 0;
		}
		backend_sql_fail(b, ERR_UNAVAILABLE);
	}
	if (b->in_txn)
		return ERR_UNAVAILABLE;
	disconnect(b);
	int r = connect_db(b);
	if (r == 0)
		log_notice("%s: connected again", b->where);
	return r;
}

static char *dup_opt(const char *s, bool *ok)
{
	if (s == NULL || s[0] == '\0')
		return NULL;
	char *d = strdup(s);
	if (d == NULL)
		*ok = false;
	return d;
}

static void free_secret(const char *s)
{
	if (s != NULL)
		explicit_bzero((char *)s, strlen(s));
	free((char *)s);
}

void backend_sql_close(struct backend_sql *b)
{
	if (b == NULL)
		return;
	disconnect(b);
	free((char *)b->conf.path);
	free((char *)b->conf.host);
	free((char *)b->conf.socket);
	free((char *)b->conf.user);
	free_secret(b->conf.password);
	free((char *)b->conf.database);
	free(b->q.domains);
	free(b->q.rows);
	free(b->q.states);
	free(b->q.text);
	free(b->win);
	free(b);
}

int backend_sql_open(const struct backend_conf *conf, struct backend_sql **ret)
{
	bool mysql = strcmp(conf->kind, "gmysql") == 0, ok = true;

	if (!mysql && strcmp(conf->kind, "gsqlite3") != 0)
		return -EINVAL;
	if (mysql && (conf->user == NULL || conf->dbname == NULL))
		return -EINVAL;
	struct backend_sql *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->conf = (struct db_conf){
		.driver = mysql ? "mysql" : "sqlite",
		.path = dup_opt(conf->path, &ok),
		.private_file = conf->private_file,
		/* synchronous=FULL in the old terms: COMMIT returns once the
		 * WAL holding it is on disk. */
		.relaxed = !conf->sync_full,
		/* The page cache holds the interior pages of PowerDNS's
		 * indexes, so a zone's lookups and inserts read one leaf page
		 * each from the file. With 512 KiB, a million-zone database
		 * read several pages per lookup and a full sync spent half its
		 * time in pread(); 16 MiB keeps the agent well inside its
		 * memory budget (bench/results.md). */
		.cache_kib = 16384,
		.host = dup_opt(conf->host, &ok),
		.port = conf->port,
		.socket = dup_opt(conf->socket, &ok),
		.user = dup_opt(conf->user, &ok),
		.password = dup_opt(conf->password, &ok),
		.database = dup_opt(conf->dbname, &ok),
		/* Above the 10 s default: PowerDNS's API and an operator's
		 * tools write the same tables in external mode. */
		.lock_wait_s = 20,
		.stream = true,
	};
	if (!ok) {
		backend_sql_close(b);
		return -ENOMEM;
	}
	if (!mysql)
		snprintf(b->where, sizeof(b->where), "gsqlite3 '%.140s'", conf->path);
	else if (b->conf.host != NULL)
		snprintf(b->where, sizeof(b->where), "gmysql database '%.64s' at %.64s:%u",
			 conf->dbname, b->conf.host, conf->port ? conf->port : 3306);
	else
		snprintf(b->where, sizeof(b->where), "gmysql database '%.64s' at %.70s",
			 conf->dbname, b->conf.socket ? b->conf.socket : "the default socket");
	int r = connect_db(b);
	if (r < 0) {
		backend_sql_close(b);
		return r;
	}
	*ret = b;
	return 0;
}

struct db *backend_sql_db(struct backend_sql *b)
{
	return b->db;
}

/* --- statements ------------------------------------------------------- */

struct db_stmt *backend_sql_stmt(struct backend_sql *b, enum stmt_id id)
{
	db_reset(b->st[id]);
	return b->st[id];
}

/* Run 's' (bound) to its end; 'r' is the binding's result. */
int backend_sql_run(struct backend_sql *b, struct db_stmt *s, int r)
{
	if (r == 0)
		r = db_step(s);
	if (r == DB_ROW)
		r = 0; /* no statement run this way returns rows */
	db_reset(s);
	return backend_sql_fail(b, r);
}

/* Bind 'zone' (or any text) and an optional second text, then run. */
int backend_sql_run_text(struct backend_sql *b, enum stmt_id id, const char *t1, const char *t2)
{
	struct db_stmt *s = backend_sql_stmt(b, id);
	int r = db_bind_text(s, 1, t1);
	if (r == 0 && t2 != NULL)
		r = db_bind_text(s, 2, t2);
	return backend_sql_run(b, s, r);
}

int backend_sql_run_id(struct backend_sql *b, enum stmt_id id, int64_t v)
{
	struct db_stmt *s = backend_sql_stmt(b, id);
	return backend_sql_run(b, s, db_bind_int64(s, 1, v));
}

/* The first row of a SELECT bound by the caller: 1 (the row is readable
 * until the next db_reset of 's'), 0 (none) or an error. */
int backend_sql_first_row(struct backend_sql *b, struct db_stmt *s, int r)
{
	if (r == 0)
		r = db_step(s);
	if (r != DB_ROW)
		db_reset(s);
	return r == DB_ROW ? 1 : backend_sql_fail(b, r);
}

/* --- schema ----------------------------------------------------------- */

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

/* PowerDNS's tables from the file its package ships, run as one script by
 * the engine (DDL commits implicitly on MySQL: a half-created schema is
 * reported, and the next start fails on the tables that already exist). */
static int create_pdns_tables(struct backend_sql *b, const char *schema_file)
{
	struct buf sql;
	buf_init(&sql, SCHEMA_FILE_MAX);
	int r = read_file(schema_file, &sql);
	if (r < 0)
		log_err("%s: cannot read schema file '%s': %s", b->where, schema_file,
			strerror(-r));
	if (r == 0)
		r = backend_sql_fail(b, db_exec_script(b->db, sql.data ? sql.data : ""));
	buf_free(&sql);
	if (r == 0)
		log_notice("%s: created powerdns tables from '%s'", b->where, schema_file);
	return r;
}

/* Replacing a zone atomically needs transactions. */
static int check_innodb(struct backend_sql *b)
{
	struct db_stmt *s;
	int r = backend_sql_fail(
	    b, db_prepare(b->db,
			  "SELECT COUNT(*) FROM information_schema.tables WHERE "
			  "table_schema = DATABASE() AND table_name IN ('domains', "
			  "'records', 'comments', 'domainmetadata', 'cryptokeys') "
			  "AND engine <> 'InnoDB'",
			  &s));
	if (r < 0)
		return r;
	r = backend_sql_first_row(b, s, 0);
	if (r == 1 && db_column_int64(s, 0) > 0) {
		log_err("%s: powerdns tables must use InnoDB (transactions)", b->where);
		r = ERR_BACKEND;
	}
	db_reset(s);
	db_finalize(s);
	return r < 0 ? r : 0;
}

/* SQLite before digests: ALTER TABLE has no IF NOT EXISTS there. */
static int sqlite_add_digest(struct backend_sql *b)
{
	struct db_stmt *s;
	int r =
	    backend_sql_fail(b, db_prepare(b->db,
					   "SELECT 1 FROM pragma_table_info('yumna_zone_state') "
					   "WHERE name = 'digest'",
					   &s));
	if (r == 0)
		r = backend_sql_first_row(b, s, 0);
	if (r >= 0)
		db_reset(s);
	db_finalize(s);
	if (r == 0)
		r = backend_sql_fail(
		    b, db_exec(b->db, "ALTER TABLE yumna_zone_state ADD COLUMN digest TEXT "
				      "NOT NULL DEFAULT ''"));
	return r < 0 ? r : 0;
}

int backend_sql_schema_ensure(struct backend_sql *b, const char *schema_file)
{
	bool mysql;
	int r = backend_sql_ensure(b);

	if (r < 0)
		return r;
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): backend_sql_ensure() connected */
	mysql = b->db->kind == DB_MYSQL;
	r = backend_sql_fail(b, db_table_exists(b->db, "domains"));
	if (r == 0)
		r = create_pdns_tables(b, schema_file);
	else if (r == 1)
		r = 0;
	if (r == 0 && mysql)
		r = check_innodb(b);
	const char *const *ddl = mysql ? state_ddl_mysql : state_ddl_sqlite;
	for (unsigned i = 0; r == 0 && ddl[i] != NULL; i++)
		r = backend_sql_fail(b, db_exec(b->db, ddl[i]));
	if (r == 0 && !mysql)
		r = sqlite_add_digest(b);
	if (r == 0 && !b->prepared) {
		r = prepare_all(b);
		b->prepared = r == 0;
	}
	return r;
}

/* --- transactions ----------------------------------------------------- */

int backend_sql_begin(struct backend_sql *b)
{
	backend_sql_queue_clear(b);
	int r = backend_sql_ensure(b);
	if (r == 0)
		r = backend_sql_fail(b, db_begin(b->db));
	b->in_txn = r == 0;
	b->last_zone[0] = '\0';
	b->nwin = 0;
	return r;
}

void backend_sql_rollback(struct backend_sql *b)
{
	if (b->in_txn && b->db != NULL && !b->db->lost)
		(void)db_rollback(b->db);
	b->in_txn = false;
	b->last_zone[0] = '\0';
	b->nwin = 0;
	backend_sql_queue_clear(b);
}

int backend_sql_commit(struct backend_sql *b)
{
	int r = b->db == NULL || b->db->lost ? ERR_UNAVAILABLE : backend_sql_flush(b, NULL);
	if (r == 0)
		r = backend_sql_fail(b, db_commit(b->db));
	if (r < 0)
		backend_sql_rollback(b);
	b->in_txn = false;
	b->last_zone[0] = '\0';
	b->nwin = 0;
	return r;
}
