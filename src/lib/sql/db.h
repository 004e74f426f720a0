/* The SQL driver layer: one small vtable, one implementation per database
 * engine (db_sqlite.c, db_mysql.c). The controller's store (src/lib/store)
 * and the agent's PowerDNS backend (src/agent/backend*.c) write their SQL
 * once over it; each driver keeps only what differs between the engines:
 * placeholders, upsert, error mapping, connection and durability set-up.
 *
 * A 'struct db' is one connection and is not thread-safe. Statements are
 * prepared once and reused: bind every parameter (1-based), db_step() until
 * DB_DONE or an error, then db_reset() before the next use. Columns are
 * 0-based and valid until the next step or reset. Every error is one of the
 * project's codes (base/err.h) and leaves a message in db->err. The layer
 * never logs: its callers decide what an error is worth. */
#ifndef YUMNA_SQL_DB_H
#define YUMNA_SQL_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

#define DB_ERR_MAX 256

/* Where a database is and how to use it. */
struct db_conf {
	const char *driver; /* "sqlite" or "mysql" */

	const char *path; /* sqlite: the database file */
	/* sqlite: create the file 0600 if missing and refuse one that group
	 * or others may read (it holds secrets: the controller's store, a
	 * managed agent's PowerDNS database); otherwise SQLite creates a
	 * missing file with the umask's mode (a database the caller does not
	 * own, such as an external PowerDNS's). */
	bool private_file;
	/* sqlite: commits skip the WAL sync; for data that can be redone,
	 * never for changes a caller acknowledges. Otherwise COMMIT returns
	 * once the WAL holding it is on disk. */
	bool relaxed;
	/* sqlite: the page cache in KiB; 0 keeps SQLite's default. */
	unsigned cache_kib;

	const char *host; /* mysql: NULL or "" for the socket */
	unsigned port;	  /* mysql: 0 for 3306 */
	const char *socket;
	const char *user;
	const char *password;
	const char *database;
	/* mysql: how long a statement waits for a row lock, in seconds
	 * (innodb_lock_wait_timeout); 0 for 10. Below the 60 s I/O timeout, so
	 * a lock wait fails as one and not as a lost connection. */
	unsigned lock_wait_s;
	/* mysql: rows are read from the wire as they are stepped instead of
	 * being stored on the client when the statement runs: memory stays
	 * flat over a million-row result, but no other statement may run on
	 * the connection until the result is read to its end or reset. */
	bool stream;
};

/* db_step() results besides negative errors. */
#define DB_DONE 0
#define DB_ROW 1

enum db_kind {
	DB_SQLITE,
	DB_MYSQL,
};

struct db;

/* Every driver's statement begins with this. */
struct db_stmt {
	struct db *db;
};

struct db_ops {
	void (*close)(struct db *db);
	/* One statement without parameters or result rows (DDL, SET, ...). */
	int (*exec)(struct db *db, const char *sql);
	/* Several statements, ';' between them, none with result rows. */
	int (*exec_script)(struct db *db, const char *sql);
	int (*ping)(struct db *db);
	/* NULL: nothing to check without a round trip. */
	int (*check)(struct db *db);
	int (*prepare)(struct db *db, const char *sql, struct db_stmt **ret);
	void (*finalize)(struct db_stmt *s);
	int (*bind_int64)(struct db_stmt *s, unsigned idx, int64_t v);
	/* 'v' is copied; NULL binds SQL NULL. */
	int (*bind_text)(struct db_stmt *s, unsigned idx, const char *v);
	int (*step)(struct db_stmt *s);
	void (*reset)(struct db_stmt *s);
	bool (*column_null)(struct db_stmt *s, unsigned col);
	int64_t (*column_int64)(struct db_stmt *s, unsigned col);
	/* NULL for SQL NULL. */
	const char *(*column_text)(struct db_stmt *s, unsigned col);
	/* After an INSERT ran to DB_DONE. */
	int64_t (*last_insert_id)(struct db_stmt *s);
	/* Rows matched by the UPDATE or DELETE that ran to DB_DONE. */
	uint64_t (*changes)(struct db_stmt *s);
	int (*begin)(struct db *db);
	/* Durable on success. */
	int (*commit)(struct db *db);
	int (*rollback)(struct db *db);
};

/* What portable SQL cannot say the same way in both dialects. */
struct db_dialect {
	/* Two-argument maximum: "MAX" (SQLite's scalar max) or "GREATEST". */
	const char *greatest;
	/* Upsert clause head; "%s" stands for the conflict target columns. */
	const char *upsert_head;
	/* The value an upsert would have inserted into column "%s". */
	const char *upsert_new;
	/* Appended to a SELECT that must lock its rows until the end of the
	 * transaction; empty for SQLite, whose writers hold the database. */
	const char *for_update;
	/* After a table name: read it through index "%s", where a planner
	 * without statistics would scan instead. */
	const char *indexed_by;
	/* One row if table ?1 exists in the connection's database. */
	const char *table_exists;
};

struct db {
	const struct db_ops *ops;
	const struct db_dialect *dialect;
	enum db_kind kind;
	/* The connection is gone (the server closed it or went away): every
	 * later call fails with ERR_UNAVAILABLE; the owner closes this handle
	 * and opens a new one. Never set by SQLite. */
	bool lost;
	char err[DB_ERR_MAX];
};

/* Opens the driver conf->driver names. 'err' says why not; it
 * never holds the password. */
int db_open(const struct db_conf *conf, struct db **ret, struct errmsg *err);
int db_sqlite_open(const struct db_conf *conf, struct db **ret, struct errmsg *err);
/* The MySQL driver is its own library (libmariadb brings OpenSSL): a program
 * that does not link it may load it (dlopen) and call this through
 * db_set_mysql_open(). */
int db_mysql_open(const struct db_conf *conf, struct db **ret, struct errmsg *err);
typedef int (*db_open_fn)(const struct db_conf *conf, struct db **ret, struct errmsg *err);
void db_set_mysql_open(db_open_fn fn);

/* 'sql' with the dialect markers {GREATEST}, {UPSERT:cols}, {NEW:col} and
 * {FOR_UPDATE} replaced for db->kind. The caller frees the result; NULL when out of
 * memory. */
char *db_sql_expand(const struct db *db, const char *sql);

/* Runs 'sql', several statements separated by ';' (a schema file), through
 * the engine's own multi-statement support. */
int db_exec_script(struct db *db, const char *sql);

/* Whether the connection still answers (MySQL pings the server); 0 or
 * ERR_UNAVAILABLE, with db->lost set. */
int db_ping(struct db *db);

/* Whether the connection still looks usable, without a round trip: a
 * MariaDB connection on which the server has sent something unasked
 * between statements (it closed the connection: a restart, KILL,
 * wait_timeout) is lost. 0 or ERR_UNAVAILABLE, with db->lost set. Only
 * between statements: not while a streamed result is being read. */
int db_check(struct db *db);

/* Whether 'table' exists in the database the connection uses: 1, 0 or an
 * error. */
int db_table_exists(struct db *db, const char *table);

/* Copies 'msg' into db->err (truncating) and returns 'code'. */
int db_set_error(struct db *db, int code, const char *msg);

static inline void db_close(struct db *db)
{
	if (db != NULL)
		db->ops->close(db);
}

static inline int db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

static inline int db_prepare(struct db *db, const char *sql, struct db_stmt **ret)
{
	return db->ops->prepare(db, sql, ret);
}

static inline void db_finalize(struct db_stmt *s)
{
	if (s != NULL)
		s->db->ops->finalize(s);
}

static inline int db_bind_int64(struct db_stmt *s, unsigned idx, int64_t v)
{
	return s->db->ops->bind_int64(s, idx, v);
}

static inline int db_bind_text(struct db_stmt *s, unsigned idx, const char *v)
{
	return s->db->ops->bind_text(s, idx, v);
}

static inline int db_step(struct db_stmt *s)
{
	return s->db->ops->step(s);
}

static inline void db_reset(struct db_stmt *s)
{
	s->db->ops->reset(s);
}

static inline bool db_column_null(struct db_stmt *s, unsigned col)
{
	return s->db->ops->column_null(s, col);
}

static inline int64_t db_column_int64(struct db_stmt *s, unsigned col)
{
	return s->db->ops->column_int64(s, col);
}

static inline const char *db_column_text(struct db_stmt *s, unsigned col)
{
	return s->db->ops->column_text(s, col);
}

static inline int64_t db_last_insert_id(struct db_stmt *s)
{
	return s->db->ops->last_insert_id(s);
}

static inline uint64_t db_changes(struct db_stmt *s)
{
	return s->db->ops->changes(s);
}

static inline int db_begin(struct db *db)
{
	return db->ops->begin(db);
}

static inline int db_commit(struct db *db)
{
	return db->ops->commit(db);
}

static inline int db_rollback(struct db *db)
{
	return db->ops->rollback(db);
}

#endif
