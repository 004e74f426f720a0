/* PowerDNS gmysql backend, written directly (see backend.h).
 *
 * Same semantics as backend_sqlite.c, over libmariadb (MariaDB or MySQL).
 * Every statement is prepared once and takes its data as bound parameters;
 * the only SQL text assembled at run time is the multi-row record insert,
 * from a fixed template. PowerDNS's schema file creates InnoDB tables, so a
 * zone replace is one InnoDB transaction: PowerDNS's readers (consistent
 * reads) see the old zone until the commit and the new one after it.
 *
 * The connection is never reconnected behind the caller's back
 * (MYSQL_OPT_RECONNECT would silently drop an open transaction): a lost
 * connection fails the current call with ERR_UNAVAILABLE and is opened
 * again, with its statements, by the next call outside a transaction.
 *
 * Result sets are read unbuffered: a callback of zone_foreach or
 * zone_records must not use the backend. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
/* The build skips the forced banned.h for this file (src/agent/meson.build)
 * because the macros of mysql.h use strcpy: apply it from here on. */
#undef YUMNA_BANNED_H
#include "base/banned.h"

#include "backend.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"

#define SCHEMA_FILE_MAX (1u << 20)
#define CONNECT_TIMEOUT_S 5u
/* Above innodb_lock_wait_timeout (20 s, set in connect_db), so that a
 * lock wait ends as ER_LOCK_WAIT_TIMEOUT, not as a lost connection. */
#define IO_TIMEOUT_S 60u
/* A connection idle this long is pinged before use: a server that closed
 * it (wait_timeout, restart) costs a reconnect, not a failed push. */
#define IDLE_PING_S 30

/* records.content is VARCHAR(64000) in latin1; read through a utf8mb4
 * connection a byte may become two. */
#define CONTENT_MAX (2u * 64000u)
/* Records go in by multi-row INSERTs of these sizes (largest first). */
#define RR_COLS 7
static const unsigned chunk_rows[] = { 64, 8, 1 };
#define CHUNKS (sizeof(chunk_rows) / sizeof(chunk_rows[0]))
#define PARAMS_MAX (64 * RR_COLS)

enum stmt_id {
	ST_STATE,
	ST_DOMAIN_ID,
	ST_DOMAIN_INSERT,
	ST_DOMAIN_KIND,
	ST_RECORDS_DELETE,
	ST_ENT_INSERT,
	ST_STATE_UPSERT,
	ST_COMMENTS_DELETE,
	ST_META_DELETE,
	ST_KEYS_DELETE,
	ST_DOMAIN_DELETE,
	ST_TOMBSTONE,
	ST_MARK_CLEAN,
	ST_SET_VERSION,
	ST_SET_DIGEST,
	ST_STATE_PAGE,
	ST_MARK_ALL_CLEAN,
	ST_RECORDS_LIST,
	ST_ZONES_LIST,
	ST_KEYS_COUNT,
	ST_COUNTS,
	ST_ZONE_COUNT,
	ST_INSERT, /* ST_INSERT + i: insert chunk_rows[i] records */
	ST_COUNT = ST_INSERT + CHUNKS
};

static const char *const stmt_sql[ST_INSERT] = {
	/* (SELECT 1) gives exactly one row whether or not either table has one. */
	[ST_STATE] = "SELECT d.id, s.version, s.serial, s.deleted, s.dirty, s.digest "
		     "FROM (SELECT 1) q "
		     "LEFT JOIN domains d ON d.name = ? "
		     "LEFT JOIN yumna_zone_state s ON s.zone = ?",
	[ST_DOMAIN_ID] = "SELECT id FROM domains WHERE name = ?",
	[ST_DOMAIN_INSERT] = "INSERT INTO domains (name, type) VALUES (?, ?)",
	[ST_DOMAIN_KIND] = "UPDATE domains SET type = ? WHERE id = ? AND type <> ?",
	[ST_RECORDS_DELETE] = "DELETE FROM records WHERE domain_id = ?",
	[ST_ENT_INSERT] = "INSERT INTO records (domain_id, name, type, content, ttl, prio, "
			  "disabled, ordername, auth) VALUES (?, ?, NULL, NULL, NULL, NULL, 0, "
			  "NULL, ?)",
	[ST_STATE_UPSERT] =
	    "INSERT INTO yumna_zone_state (zone, version, serial, deleted, dirty, updated_at, "
	    "digest) VALUES (?, ?, ?, 0, 1, ?, ?) ON DUPLICATE KEY UPDATE version = "
	    "VALUES(version), serial = VALUES(serial), deleted = 0, dirty = 1, "
	    "updated_at = VALUES(updated_at), digest = VALUES(digest)",
	/* The MySQL schema has no foreign keys: what gsqlite3 removes by
	 * ON DELETE CASCADE is removed here one table at a time. */
	[ST_COMMENTS_DELETE] = "DELETE FROM comments WHERE domain_id = ?",
	[ST_META_DELETE] = "DELETE FROM domainmetadata WHERE domain_id = ?",
	[ST_KEYS_DELETE] = "DELETE FROM cryptokeys WHERE domain_id = ?",
	[ST_DOMAIN_DELETE] = "DELETE FROM domains WHERE id = ?",
	[ST_TOMBSTONE] = "INSERT INTO yumna_zone_state (zone, version, serial, deleted, dirty, "
			 "updated_at) VALUES (?, ?, 0, 1, 1, ?) ON DUPLICATE KEY UPDATE "
			 "version = GREATEST(version, VALUES(version)), deleted = 1, dirty = 1, "
			 "updated_at = VALUES(updated_at), digest = ''",
	[ST_MARK_CLEAN] = "UPDATE yumna_zone_state SET dirty = 0 WHERE zone = ?",
	[ST_SET_VERSION] = "UPDATE yumna_zone_state SET version = ?, serial = ? WHERE zone = ?",
	[ST_SET_DIGEST] = "UPDATE yumna_zone_state SET digest = ? WHERE zone = ?",
	[ST_STATE_PAGE] = "SELECT zone, version, serial, deleted, dirty, digest FROM "
			  "yumna_zone_state WHERE zone > ? ORDER BY zone LIMIT ?",
	[ST_MARK_ALL_CLEAN] = "UPDATE yumna_zone_state SET dirty = 0 WHERE dirty = 1",
	/* Binary order, as gsqlite3 sorts (the columns are latin1_swedish_ci). */
	[ST_RECORDS_LIST] =
	    "SELECT r.name, r.type, r.content, r.ttl, r.prio FROM records r "
	    "JOIN domains d ON d.id = r.domain_id WHERE d.name = ? "
	    "AND r.type IS NOT NULL AND r.disabled = 0 ORDER BY CAST(r.name AS BINARY), "
	    "CAST(r.type AS BINARY), r.prio, CAST(r.content AS BINARY)",
	/* The zone column is ascii_bin: converting the latin1 side keeps the
	 * primary key usable for the join. */
	[ST_ZONES_LIST] =
	    "SELECT CONCAT(d.name, '.') AS zone, s.version, s.serial, 0, s.dirty, 1, s.digest "
	    "FROM domains d LEFT JOIN yumna_zone_state s "
	    "ON s.zone = CONVERT(CONCAT(d.name, '.') USING ascii) COLLATE ascii_bin "
	    "UNION ALL SELECT s.zone, s.version, s.serial, s.deleted, s.dirty, 0, s.digest "
	    "FROM yumna_zone_state s WHERE s.deleted = 1 AND NOT EXISTS (SELECT 1 FROM "
	    "domains d WHERE d.name = LEFT(s.zone, CHAR_LENGTH(s.zone) - 1)) "
	    "ORDER BY 1",
	[ST_KEYS_COUNT] = "SELECT d.type, (SELECT COUNT(*) FROM cryptokeys k WHERE "
			  "k.domain_id = d.id AND k.active = 1) FROM domains d WHERE d.name = ?",
	[ST_COUNTS] = "SELECT (SELECT COUNT(*) FROM domains), "
		      "(SELECT COUNT(*) FROM records WHERE type IS NOT NULL)",
	[ST_ZONE_COUNT] = "SELECT COUNT(*), 0 FROM domains",
};

static const char state_table_sql[] =
    "CREATE TABLE IF NOT EXISTS yumna_zone_state ("
    " zone VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,"
    " version BIGINT UNSIGNED NOT NULL,"
    " serial INT UNSIGNED NOT NULL,"
    " deleted TINYINT NOT NULL DEFAULT 0,"
    " dirty TINYINT NOT NULL DEFAULT 0,"
    " updated_at BIGINT NOT NULL,"
    " digest VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT ''"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

/* A table from before digests: an empty digest never matches a push. */
static const char state_digest_sql[] = "ALTER TABLE yumna_zone_state ADD COLUMN IF NOT EXISTS "
				       "digest VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT ''";
/* Clearing the dirty flags after each batch must not scan every zone. */
static const char state_dirty_sql[] = "CREATE INDEX IF NOT EXISTS yumna_zone_state_dirty ON "
				      "yumna_zone_state (dirty)";

/* Bound parameters of the statement being run. */
struct params {
	MYSQL_BIND b[PARAMS_MAX];
	unsigned long len[PARAMS_MAX];
	long long num[PARAMS_MAX];
	unsigned n;
};

/* Result columns of the row being fetched. */
#define COLS_MAX 7
struct cols {
	MYSQL_BIND b[COLS_MAX];
	unsigned long len[COLS_MAX];
	my_bool null[COLS_MAX];
	long long num[COLS_MAX];
};

struct backend_mysql {
	struct backend base; /* first member: a driver is a backend */
	MYSQL *db;
	MYSQL_STMT *st[ST_COUNT];
	char *insert_sql[CHUNKS];
	bool prepared; /* statements exist (schema_ensure ran) */
	bool broken;   /* connection lost: reopen before the next use */
	bool in_txn;
	bool unreachable; /* the last connection attempt failed (logged once) */
	time_t last_used;

	char *host, *socket, *user, *password, *dbname;
	unsigned port;
	char where[160]; /* "database 'x' at host:port", for log lines */

	struct params p;
	char names[64][DNAME_TEXT_MAX];
	char *content; /* CONTENT_MAX + 1 bytes, for reading records */
};

static time_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
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

static bool is_connection_error(unsigned code)
{
	switch (code) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_COMMANDS_OUT_OF_SYNC:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
		return true;
	}
	return false;
}

/* InnoDB reports a full disk as "table is full" or as errno 28 (ENOSPC)
 * inside a write error. */
static bool is_no_space(unsigned code, const char *msg)
{
	if (code == ER_RECORD_FILE_FULL || code == ER_DISK_FULL)
		return true;
	if (code != ER_ERROR_ON_WRITE && code != ER_GET_ERRNO)
		return false;
	return strstr(msg, "errno: 28") != NULL || strstr(msg, "Errcode: 28") != NULL ||
	       strstr(msg, "error 28 ") != NULL;
}

/* Map a MySQL error to a project code, logging what an operator needs.
 * The messages never hold the password; they may quote data, so they are
 * sanitised. */
static int fail_code(struct backend_mysql *b, unsigned code, const char *msg)
{
	char shown[256];

	log_sanitize(msg, shown, sizeof(shown));
	if (is_connection_error(code)) {
		if (!b->broken)
			log_warn("gmysql %s: connection lost: %s", b->where, shown);
		b->broken = true;
		return ERR_UNAVAILABLE;
	}
	if (is_no_space(code, msg)) {
		log_err("gmysql %s: out of space: %s", b->where, shown);
		return ERR_NO_SPACE;
	}
	switch (code) {
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_QUERY_INTERRUPTED:
	case ER_CON_COUNT_ERROR:
	case ER_OPTION_PREVENTS_STATEMENT: /* read_only */
		log_warn("gmysql %s: %s", b->where, shown);
		return ERR_UNAVAILABLE;
	case ER_DATA_TOO_LONG:
		return ERR_INVALID; /* a value over a column of PowerDNS's schema */
	case CR_OUT_OF_MEMORY:
		return -ENOMEM;
	}
	log_err("gmysql %s: error %u: %s", b->where, code, shown);
	return ERR_BACKEND;
}

static int fail_db(struct backend_mysql *b)
{
	return fail_code(b, mysql_errno(b->db), mysql_error(b->db));
}

static int fail_stmt(struct backend_mysql *b, MYSQL_STMT *s)
{
	return fail_code(b, mysql_stmt_errno(s), mysql_stmt_error(s));
}

static int exec(struct backend_mysql *b, const char *sql)
{
	if (mysql_real_query(b->db, sql, strlen(sql)) != 0)
		return fail_db(b);
	MYSQL_RES *res = mysql_store_result(b->db);
	mysql_free_result(res);
	return 0;
}

/* --- parameters and columns ------------------------------------------- */

static struct params *params(struct backend_mysql *b)
{
	b->p.n = 0;
	return &b->p;
}

static MYSQL_BIND *param_next(struct params *p)
{
	MYSQL_BIND *x = &p->b[p->n];
	memset(x, 0, sizeof(*x));
	return x;
}

static void bind_text(struct params *p, const char *s)
{
	MYSQL_BIND *x = param_next(p);
	p->len[p->n] = strlen(s);
	x->buffer_type = MYSQL_TYPE_STRING;
	x->buffer = (void *)s;
	x->buffer_length = p->len[p->n];
	x->length = &p->len[p->n];
	p->n++;
}

static void bind_int(struct params *p, long long v)
{
	MYSQL_BIND *x = param_next(p);
	p->num[p->n] = v;
	x->buffer_type = MYSQL_TYPE_LONGLONG;
	x->buffer = &p->num[p->n];
	p->n++;
}

static void bind_uint(struct params *p, unsigned long long v)
{
	MYSQL_BIND *x = param_next(p);
	p->num[p->n] = (long long)v;
	x->buffer_type = MYSQL_TYPE_LONGLONG;
	x->buffer = &p->num[p->n];
	x->is_unsigned = 1;
	p->n++;
}

static void col_int(struct cols *c, unsigned i)
{
	c->b[i] = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_LONGLONG,
				.buffer = &c->num[i],
				.is_null = &c->null[i] };
}

static void col_uint(struct cols *c, unsigned i)
{
	col_int(c, i);
	c->b[i].is_unsigned = 1;
}

static void col_text(struct cols *c, unsigned i, char *buf, size_t cap)
{
	c->b[i] = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_STRING,
				.buffer = buf,
				.buffer_length = cap - 1,
				.length = &c->len[i],
				.is_null = &c->null[i] };
}

/* Terminate text column 'i' (its buffer holds cap - 1 bytes and a NUL). */
static const char *text_of(struct cols *c, unsigned i)
{
	char *s = c->b[i].buffer;
	unsigned long n = c->len[i] < c->b[i].buffer_length ? c->len[i] : c->b[i].buffer_length;
	s[c->null[i] ? 0 : n] = '\0';
	return s;
}

/* Execute statement 'id' with the parameters in 'p'. */
static int run(struct backend_mysql *b, enum stmt_id id, struct params *p)
{
	MYSQL_STMT *s = b->st[id];
	if ((p->n > 0 && mysql_stmt_bind_param(s, p->b)) || mysql_stmt_execute(s))
		return fail_stmt(b, s);
	return 0;
}

/* Execute a SELECT and get ready to fetch into 'c'. */
static int run_select(struct backend_mysql *b, enum stmt_id id, struct params *p, struct cols *c)
{
	int r = run(b, id, p);
	if (r == 0 && mysql_stmt_bind_result(b->st[id], c->b))
		r = fail_stmt(b, b->st[id]);
	return r;
}

/* The next row: 1, 0 at the end, or an error. */
static int fetch(struct backend_mysql *b, enum stmt_id id)
{
	int rc = mysql_stmt_fetch(b->st[id]);
	if (rc == 0)
		return 1;
	if (rc == MYSQL_NO_DATA)
		return 0;
	if (rc == MYSQL_DATA_TRUNCATED) {
		log_err("gmysql %s: a value does not fit the agent's buffer", b->where);
		return ERR_BACKEND;
	}
	return fail_stmt(b, b->st[id]);
}

/* Discard what is left of a result (unbuffered: the rows are still on the
 * wire). */
static void done(struct backend_mysql *b, enum stmt_id id)
{
	mysql_stmt_free_result(b->st[id]);
}

/* Run a SELECT expected to return at most one row; 1 if it did. */
static int select_row(struct backend_mysql *b, enum stmt_id id, struct params *p, struct cols *c)
{
	int r = run_select(b, id, p, c);
	if (r == 0)
		r = fetch(b, id);
	done(b, id);
	return r;
}

/* --- connection ------------------------------------------------------- */

static void close_stmts(struct backend_mysql *b)
{
	for (unsigned i = 0; i < ST_COUNT; i++) {
		if (b->st[i] != NULL)
			mysql_stmt_close(b->st[i]);
		b->st[i] = NULL;
	}
}

static void disconnect(struct backend_mysql *b)
{
	close_stmts(b);
	if (b->db != NULL)
		mysql_close(b->db);
	b->db = NULL;
}

static int prepare_all(struct backend_mysql *b)
{
	for (unsigned i = 0; i < ST_COUNT; i++) {
		const char *sql = i < ST_INSERT ? stmt_sql[i] : b->insert_sql[i - ST_INSERT];
		MYSQL_STMT *s = mysql_stmt_init(b->db);
		if (s == NULL)
			return -ENOMEM;
		b->st[i] = s;
		if (mysql_stmt_prepare(s, sql, strlen(sql)) != 0)
			return fail_stmt(b, s);
	}
	return 0;
}

/* Connection errors while connecting mean the server is unreachable (503);
 * anything else (access denied, unknown database) is a configuration
 * error, and is logged as such. */
static int connect_db(struct backend_mysql *b)
{
	unsigned ct = CONNECT_TIMEOUT_S, io = IO_TIMEOUT_S;
	my_bool off = 0, on = 1;
	unsigned proto = MYSQL_PROTOCOL_DEFAULT;

	MYSQL *db = mysql_init(NULL);
	if (db == NULL)
		return -ENOMEM;
	mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &io);
	mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &io);
	mysql_options(db, MYSQL_OPT_RECONNECT, &off);
	mysql_options(db, MYSQL_OPT_LOCAL_INFILE, &off);
	mysql_options(db, MYSQL_REPORT_DATA_TRUNCATION, &on);
	mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (b->socket != NULL && b->host == NULL) {
		proto = MYSQL_PROTOCOL_SOCKET;
		mysql_options(db, MYSQL_OPT_PROTOCOL, &proto);
	}
	if (mysql_real_connect(db, b->host, b->user, b->password, b->dbname, b->port, b->socket,
			       0) == NULL) {
		unsigned code = mysql_errno(db);
		char shown[256];
		log_sanitize(mysql_error(db), shown, sizeof(shown));
		if (!b->unreachable)
			log_err("gmysql %s: cannot connect: %s", b->where, shown);
		b->unreachable = true;
		mysql_close(db);
		if (code == CR_OUT_OF_MEMORY)
			return -ENOMEM;
		return is_connection_error(code) || code == ER_CON_COUNT_ERROR ? ERR_UNAVAILABLE
									       : ERR_BACKEND;
	}
	b->db = db;
	b->unreachable = false;
	b->broken = false;
	b->in_txn = false;
	b->last_used = now_mono();
	/* Strict: a value too long for a column fails instead of being cut.
	 * No engine substitution: a table that cannot be InnoDB is an error,
	 * never a MyISAM table without transactions. READ COMMITTED: a batch
	 * takes no gap locks, so other writers of the database (PowerDNS's
	 * API, an operator's tools in external mode) do not deadlock with it. */
	int r = exec(b, "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'");
	if (r == 0)
		r = exec(b, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	if (r == 0)
		r = exec(b, "SET SESSION innodb_lock_wait_timeout = 20");
	if (r == 0 && mysql_autocommit(b->db, 1) != 0)
		r = fail_db(b);
	if (r == 0 && b->prepared)
		r = prepare_all(b);
	if (r < 0)
		disconnect(b);
	return r;
}

/* Before every call: reopen a lost connection, unless a transaction was
 * open on it (that transaction is gone; the caller must roll back first). */
static int ensure(struct backend_mysql *b)
{
	time_t now = now_mono();
	if (b->db != NULL && !b->broken) {
		if (b->in_txn || now - b->last_used < IDLE_PING_S || mysql_ping(b->db) == 0) {
			b->last_used = now;
			return 0;
		}
		fail_db(b);
		b->broken = true;
	}
	if (b->in_txn)
		return ERR_UNAVAILABLE;
	disconnect(b);
	int r = connect_db(b);
	if (r == 0)
		log_notice("gmysql %s: connected again", b->where);
	return r;
}

static const struct backend_ops mysql_ops;
static void op_close(struct backend *base);

static char *dup_opt(const char *s, bool *ok)
{
	if (s == NULL || s[0] == '\0')
		return NULL;
	char *d = strdup(s);
	if (d == NULL)
		*ok = false;
	return d;
}

static int build_insert_sql(struct backend_mysql *b)
{
	for (unsigned i = 0; i < CHUNKS; i++) {
		struct buf sql;
		buf_init(&sql, 1u << 16);
		int r = buf_puts(&sql, "INSERT INTO records (domain_id, name, type, content, ttl, "
				       "prio, disabled, ordername, auth) VALUES ");
		for (unsigned row = 0; r == 0 && row < chunk_rows[i]; row++)
			r = buf_puts(&sql, row ? ", (?, ?, ?, ?, ?, ?, 0, NULL, ?)"
					       : "(?, ?, ?, ?, ?, ?, 0, NULL, ?)");
		if (r < 0) {
			buf_free(&sql);
			return r;
		}
		b->insert_sql[i] = buf_take(&sql);
		if (b->insert_sql[i] == NULL)
			return -ENOMEM;
	}
	return 0;
}

int backend_mysql_open(const struct backend_conf *conf, struct backend **ret)
{
	bool ok = true;

	/* Not thread-safe; the agent opens its backend before any thread. */
	if (mysql_library_init(0, NULL, NULL) != 0)
		return -ENOMEM;
	if (conf->user == NULL || conf->dbname == NULL)
		return -EINVAL;
	struct backend_mysql *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->base.ops = &mysql_ops;
	b->host = dup_opt(conf->host, &ok);
	b->socket = dup_opt(conf->socket, &ok);
	b->user = dup_opt(conf->user, &ok);
	b->password = dup_opt(conf->password, &ok);
	b->dbname = dup_opt(conf->dbname, &ok);
	b->port = conf->port ? conf->port : 3306;
	b->content = malloc(CONTENT_MAX + 1);
	int r = ok && b->content != NULL ? build_insert_sql(b) : -ENOMEM;
	if (r < 0) {
		op_close(&b->base);
		return r;
	}
	if (b->host != NULL)
		snprintf(b->where, sizeof(b->where), "database '%.64s' at %.64s:%u", conf->dbname,
			 b->host, b->port);
	else
		snprintf(b->where, sizeof(b->where), "database '%.64s' at %.80s", conf->dbname,
			 b->socket ? b->socket : "the default socket");
	r = connect_db(b);
	if (r < 0) {
		op_close(&b->base);
		return r;
	}
	*ret = &b->base;
	return 0;
}

static void free_secret(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

static void op_close(struct backend *base)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	if (b == NULL)
		return;
	disconnect(b);
	for (unsigned i = 0; i < CHUNKS; i++)
		free(b->insert_sql[i]);
	free(b->host);
	free(b->socket);
	free(b->user);
	free_secret(b->password);
	free(b->dbname);
	free(b->content);
	free(b);
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

/* Run a one-off SELECT of one integer (statements prepared here, so they
 * work before the schema exists). */
static int query_int(struct backend_mysql *b, const char *sql, const char *arg, long long *ret)
{
	struct params *p = params(b);
	struct cols c;
	MYSQL_STMT *s = mysql_stmt_init(b->db);
	if (s == NULL)
		return -ENOMEM;
	if (arg != NULL)
		bind_text(p, arg);
	col_int(&c, 0);
	int r = 0, rc = -1;
	if (mysql_stmt_prepare(s, sql, strlen(sql)) || (p->n && mysql_stmt_bind_param(s, p->b)) ||
	    mysql_stmt_execute(s) || mysql_stmt_bind_result(s, c.b) ||
	    ((rc = mysql_stmt_fetch(s)) != 0 && rc != MYSQL_NO_DATA))
		r = fail_stmt(b, s);
	*ret = rc == 0 && !c.null[0] ? c.num[0] : 0;
	mysql_stmt_close(s);
	return r;
}

/* The PowerDNS file is plain DDL, ';' between statements: run it as one
 * multi-statement query and read every result, so that an error in any
 * statement is seen. DDL commits implicitly; a half-created schema is
 * reported, and the next start fails on the tables that already exist. */
static int exec_script(struct backend_mysql *b, const char *sql, size_t len)
{
	if (mysql_set_server_option(b->db, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0)
		return fail_db(b);
	int r = 0, status = mysql_real_query(b->db, sql, len);
	if (status != 0)
		r = fail_db(b);
	while (status == 0) {
		mysql_free_result(mysql_store_result(b->db));
		status = mysql_next_result(b->db);
		if (status > 0)
			r = fail_db(b);
	}
	if (mysql_set_server_option(b->db, MYSQL_OPTION_MULTI_STATEMENTS_OFF) != 0 && r == 0)
		r = fail_db(b);
	return r;
}

static int op_schema_ensure(struct backend *base, const char *schema_file)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	long long n = 0;

	int r = ensure(b);
	if (r == 0)
		r = query_int(b,
			      "SELECT COUNT(*) FROM information_schema.tables WHERE "
			      "table_schema = DATABASE() AND table_name = ?",
			      "domains", &n);
	if (r == 0 && n == 0) {
		struct buf sql;
		buf_init(&sql, SCHEMA_FILE_MAX);
		r = read_file(schema_file, &sql);
		if (r < 0)
			log_err("gmysql: cannot read schema file '%s': %s", schema_file,
				strerror(-r));
		if (r == 0)
			r = exec_script(b, sql.data ? sql.data : "", sql.len);
		buf_free(&sql);
		if (r == 0)
			log_notice("gmysql %s: created powerdns tables from '%s'", b->where,
				   schema_file);
	}
	/* Replacing a zone atomically needs transactions. */
	if (r == 0)
		r = query_int(b,
			      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
			      "DATABASE() AND table_name IN ('domains', 'records', 'comments', "
			      "'domainmetadata', 'cryptokeys') AND engine <> 'InnoDB'",
			      NULL, &n);
	if (r == 0 && n > 0) {
		log_err("gmysql %s: powerdns tables must use InnoDB (transactions)", b->where);
		r = ERR_BACKEND;
	}
	if (r == 0)
		r = exec(b, state_table_sql);
	if (r == 0)
		r = exec(b, state_digest_sql);
	if (r == 0)
		r = exec(b, state_dirty_sql);
	if (r == 0 && !b->prepared) {
		r = prepare_all(b);
		if (r < 0)
			close_stmts(b);
		b->prepared = r == 0;
	}
	return r;
}

/* --- transactions ----------------------------------------------------- */

static int op_begin(struct backend *base)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	int r = ensure(b);
	if (r == 0)
		r = exec(b, "START TRANSACTION");
	b->in_txn = r == 0;
	return r;
}

static void op_rollback(struct backend *base)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	if (b->in_txn && b->db != NULL && !b->broken)
		mysql_rollback(b->db);
	b->in_txn = false;
}

static int op_commit(struct backend *base)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	if (b->broken) {
		op_rollback(base);
		return ERR_UNAVAILABLE;
	}
	int r = mysql_commit(b->db) == 0 ? 0 : fail_db(b);
	if (r < 0)
		op_rollback(base);
	b->in_txn = false;
	return r;
}

/* --- zones ------------------------------------------------------------ */

/* A digest column into 'out': "" for NULL or anything that is not one. */
static void copy_digest(struct cols *c, unsigned i, char out[ZONE_DIGEST_HEX])
{
	const char *t = text_of(c, i);
	snprintf(out, ZONE_DIGEST_HEX, "%s", zone_digest_valid(t) ? t : "");
}

static int zone_state(struct backend_mysql *b, const char *zone, struct zone_state *ret)
{
	char name[DNAME_TEXT_MAX], digest[ZONE_DIGEST_HEX + 1];
	struct params *p = params(b);
	struct cols c;

	pdns_name(zone, name);
	bind_text(p, name);
	bind_text(p, zone);
	col_int(&c, 0);
	col_uint(&c, 1);
	col_uint(&c, 2);
	col_int(&c, 3);
	col_int(&c, 4);
	col_text(&c, 5, digest, sizeof(digest));
	int r = select_row(b, ST_STATE, p, &c);
	if (r == 0)
		return ERR_BACKEND;
	if (r < 0)
		return r;
	*ret = (struct zone_state){
		.exists = !c.null[0],
		.known = !c.null[1],
		.version = c.null[1] ? 0 : (uint64_t)c.num[1],
		.serial = c.null[2] ? 0 : (uint32_t)c.num[2],
		.deleted = !c.null[3] && c.num[3] != 0,
		.dirty = !c.null[4] && c.num[4] != 0,
	};
	copy_digest(&c, 5, ret->digest);
	return 0;
}

static int op_zone_state(struct backend *base, const char *zone, struct zone_state *ret)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	int r = ensure(b);
	return r < 0 ? r : zone_state(b, zone, ret);
}

/* The id of domain 'name': 1 found, 0 not, or an error. */
static int find_domain(struct backend_mysql *b, const char *name, int64_t *ret)
{
	struct params *p = params(b);
	struct cols c;

	bind_text(p, name);
	col_int(&c, 0);
	int r = select_row(b, ST_DOMAIN_ID, p, &c);
	if (r == 1)
		*ret = c.num[0];
	return r;
}

static int domain_id(struct backend_mysql *b, const char *name, const char *kind, int64_t *ret)
{
	struct params *p;
	int r = find_domain(b, name, ret);
	if (r < 0)
		return r;
	if (r == 1) {
		p = params(b);
		bind_text(p, kind);
		bind_int(p, *ret);
		bind_text(p, kind);
		return run(b, ST_DOMAIN_KIND, p);
	}
	p = params(b);
	bind_text(p, name);
	bind_text(p, kind);
	r = run(b, ST_DOMAIN_INSERT, p);
	if (r == 0)
		*ret = (int64_t)mysql_stmt_insert_id(b->st[ST_DOMAIN_INSERT]);
	return r;
}

/* MX and SRV keep their first field in the prio column (PowerDNS 4 schema). */
static bool has_prio(uint16_t type)
{
	return type == 15 /* MX */ || type == 33 /* SRV */;
}

/* Bind one record as the next row of a multi-row insert. */
static int bind_rr(struct backend_mysql *b, struct params *p, unsigned row, int64_t id,
		   const struct backend_rr *rr)
{
	const char *content = rr->content;
	long prio = 0;

	pdns_name(rr->owner, b->names[row]);
	if (has_prio(rr->type)) {
		char *end;
		prio = strtol(content, &end, 10);
		if (end == content || *end != ' ')
			return ERR_INVALID;
		content = end + 1;
	}
	bind_int(p, id);
	bind_text(p, b->names[row]);
	bind_text(p, rr_type_name(rr->type));
	bind_text(p, content);
	bind_int(p, rr->ttl);
	bind_int(p, prio);
	bind_int(p, rr->auth ? 1 : 0);
	return 0;
}

static int insert_rrs(struct backend_mysql *b, int64_t id, const struct backend_rr *rrs, size_t n)
{
	size_t i = 0;
	unsigned k = 0;
	int r = 0;

	while (r == 0 && i < n) {
		while (n - i < chunk_rows[k])
			k++;
		struct params *p = params(b);
		for (unsigned row = 0; r == 0 && row < chunk_rows[k]; row++)
			r = bind_rr(b, p, row, id, &rrs[i + row]);
		if (r == 0)
			r = run(b, ST_INSERT + k, p);
		i += chunk_rows[k];
	}
	return r;
}

struct ent_ctx {
	struct backend_mysql *b;
	int64_t id;
};

static int insert_ent(const char *name, bool auth, void *ctx)
{
	struct ent_ctx *e = ctx;
	char pname[DNAME_TEXT_MAX];
	struct params *p = params(e->b);

	pdns_name(name, pname);
	bind_int(p, e->id);
	bind_text(p, pname);
	bind_int(p, auth ? 1 : 0);
	return run(e->b, ST_ENT_INSERT, p);
}

static int op_zone_replace(struct backend *base, const struct backend_zone *z, const char *kind,
			   int64_t *ret_domain_id)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	char name[DNAME_TEXT_MAX];
	int64_t id = 0;

	int r = ensure(b);
	if (r < 0)
		return r;
	pdns_name(z->origin, name);
	r = domain_id(b, name, kind, &id);
	if (r < 0)
		return r;
	struct params *p = params(b);
	bind_int(p, id);
	r = run(b, ST_RECORDS_DELETE, p);
	if (r == 0)
		r = insert_rrs(b, id, z->rrs, z->n);
	if (r == 0) {
		struct ent_ctx e = { b, id };
		r = backend_zone_ents(z, insert_ent, &e);
	}
	if (r == 0) {
		p = params(b);
		bind_text(p, z->origin);
		bind_uint(p, z->version);
		bind_uint(p, z->serial);
		bind_int(p, (long long)time(NULL));
		bind_text(p, z->digest ? z->digest : "");
		r = run(b, ST_STATE_UPSERT, p);
	}
	if (r == 0 && ret_domain_id != NULL)
		*ret_domain_id = id;
	return r;
}

static int op_zone_delete(struct backend *base, const char *zone, uint64_t version)
{
	static const enum stmt_id by_id[] = { ST_RECORDS_DELETE, ST_COMMENTS_DELETE, ST_META_DELETE,
					      ST_KEYS_DELETE, ST_DOMAIN_DELETE };
	struct backend_mysql *b = (struct backend_mysql *)base;
	char name[DNAME_TEXT_MAX];
	int64_t id = 0;

	int r = ensure(b);
	if (r < 0)
		return r;
	pdns_name(zone, name);
	int found = find_domain(b, name, &id);
	if (found < 0)
		return found;
	for (unsigned i = 0; found && r == 0 && i < sizeof(by_id) / sizeof(by_id[0]); i++) {
		struct params *p = params(b);
		bind_int(p, id);
		r = run(b, by_id[i], p);
	}
	if (r < 0)
		return r;
	struct params *p = params(b);
	bind_text(p, zone);
	bind_uint(p, version);
	bind_int(p, (long long)time(NULL));
	return run(b, ST_TOMBSTONE, p);
}

static int op_zone_mark_clean(struct backend *base, const char *zone)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	int r = ensure(b);
	if (r < 0)
		return r;
	struct params *p = params(b);
	bind_text(p, zone);
	return run(b, ST_MARK_CLEAN, p);
}

static int op_zone_set_version(struct backend *base, const char *zone, uint64_t version,
			       uint32_t serial)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	int r = ensure(b);
	if (r < 0)
		return r;
	struct params *p = params(b);
	bind_uint(p, version);
	bind_uint(p, serial);
	bind_text(p, zone);
	return run(b, ST_SET_VERSION, p);
}

static int op_zone_set_digest(struct backend *base, const char *zone, const char *digest)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	int r = ensure(b);
	if (r < 0)
		return r;
	struct params *p = params(b);
	bind_text(p, digest);
	bind_text(p, zone);
	return run(b, ST_SET_DIGEST, p);
}

static int op_mark_all_clean(struct backend *base)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	int r = ensure(b);
	return r < 0 ? r : run(b, ST_MARK_ALL_CLEAN, params(b));
}

static int op_zone_foreach(struct backend *base, backend_zone_fn fn, void *ctx)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	char zone[2 * DNAME_TEXT_MAX], digest[ZONE_DIGEST_HEX + 1];
	struct cols c;

	int r = ensure(b);
	if (r < 0)
		return r;
	col_text(&c, 0, zone, sizeof(zone));
	col_uint(&c, 1);
	col_uint(&c, 2);
	col_int(&c, 3);
	col_int(&c, 4);
	col_int(&c, 5);
	col_text(&c, 6, digest, sizeof(digest));
	r = run_select(b, ST_ZONES_LIST, params(b), &c);
	while (r == 0 && (r = fetch(b, ST_ZONES_LIST)) == 1) {
		struct zone_state st = {
			.exists = c.num[5] != 0,
			.known = !c.null[1],
			.version = c.null[1] ? 0 : (uint64_t)c.num[1],
			.serial = c.null[2] ? 0 : (uint32_t)c.num[2],
			.deleted = !c.null[3] && c.num[3] != 0,
			.dirty = !c.null[4] && c.num[4] != 0,
		};
		copy_digest(&c, 6, st.digest);
		r = fn(text_of(&c, 0), &st, ctx);
	}
	done(b, ST_ZONES_LIST);
	return r;
}

static int op_state_page(struct backend *base, const char *after, size_t limit, backend_zone_fn fn,
			 void *ctx, size_t *ret_n)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	char zone[2 * DNAME_TEXT_MAX], digest[ZONE_DIGEST_HEX + 1];
	struct cols c;
	size_t n = 0;

	int r = ensure(b);
	if (r < 0)
		return r;
	struct params *p = params(b);
	bind_text(p, after);
	bind_uint(p, limit);
	col_text(&c, 0, zone, sizeof(zone));
	col_uint(&c, 1);
	col_uint(&c, 2);
	col_int(&c, 3);
	col_int(&c, 4);
	col_text(&c, 5, digest, sizeof(digest));
	r = run_select(b, ST_STATE_PAGE, p, &c);
	while (r == 0 && (r = fetch(b, ST_STATE_PAGE)) == 1) {
		struct zone_state st = {
			.known = true,
			.version = (uint64_t)c.num[1],
			.serial = (uint32_t)c.num[2],
			.deleted = c.num[3] != 0,
			.dirty = c.num[4] != 0,
		};
		copy_digest(&c, 5, st.digest);
		n++;
		r = fn(text_of(&c, 0), &st, ctx);
	}
	done(b, ST_STATE_PAGE);
	*ret_n = n;
	return r;
}

static int op_zone_records(struct backend *base, const char *zone, backend_record_fn fn, void *ctx)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	char name[DNAME_TEXT_MAX], rname[2 * DNAME_TEXT_MAX], type[32];
	char owner[2 * DNAME_TEXT_MAX + 1];
	struct buf content;
	struct zone_state st = { 0 };
	struct cols c;

	int r = ensure(b);
	if (r == 0)
		r = zone_state(b, zone, &st);
	if (r < 0)
		return r;
	if (!st.exists)
		return -ENOENT;
	pdns_name(zone, name);
	struct params *p = params(b);
	bind_text(p, name);
	col_text(&c, 0, rname, sizeof(rname));
	col_text(&c, 1, type, sizeof(type));
	col_text(&c, 2, b->content, CONTENT_MAX + 1);
	col_int(&c, 3);
	col_int(&c, 4);
	buf_init(&content, 1u << 20);
	r = run_select(b, ST_RECORDS_LIST, p, &c);
	while (r == 0 && (r = fetch(b, ST_RECORDS_LIST)) == 1) {
		const char *t = text_of(&c, 1);
		snprintf(owner, sizeof(owner), "%s.", text_of(&c, 0));
		buf_reset(&content);
		r = 0;
		if (strcmp(t, "MX") == 0 || strcmp(t, "SRV") == 0)
			r = buf_printf(&content, "%lld ", c.null[4] ? 0LL : c.num[4]);
		if (r == 0)
			r = buf_puts(&content, text_of(&c, 2));
		if (r == 0)
			r = fn(owner, t, content.data, (uint32_t)c.num[3], ctx);
	}
	done(b, ST_RECORDS_LIST);
	buf_free(&content);
	return r;
}

static int op_counts(struct backend *base, uint64_t *ret_zones, uint64_t *ret_records)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	struct cols c;

	int r = ensure(b);
	if (r < 0)
		return r;
	col_int(&c, 0);
	col_int(&c, 1);
	r = select_row(b, ret_records ? ST_COUNTS : ST_ZONE_COUNT, params(b), &c);
	if (r == 0)
		return ERR_BACKEND;
	if (r < 0)
		return r;
	*ret_zones = (uint64_t)c.num[0];
	if (ret_records != NULL)
		*ret_records = (uint64_t)c.num[1];
	return 0;
}

static int op_zone_info(struct backend *base, const char *zone, bool *ret_signed, char *kind,
			unsigned kind_len)
{
	struct backend_mysql *b = (struct backend_mysql *)base;
	char name[DNAME_TEXT_MAX], type[32];
	struct cols c;

	int r = ensure(b);
	if (r < 0)
		return r;
	pdns_name(zone, name);
	struct params *p = params(b);
	bind_text(p, name);
	col_text(&c, 0, type, sizeof(type));
	col_int(&c, 1);
	r = select_row(b, ST_KEYS_COUNT, p, &c);
	if (r == 0)
		return -ENOENT;
	if (r < 0)
		return r;
	snprintf(kind, kind_len, "%s", text_of(&c, 0));
	*ret_signed = c.num[1] > 0;
	return 0;
}

static const struct backend_ops mysql_ops = {
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
