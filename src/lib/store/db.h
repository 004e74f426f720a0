/* The SQL driver layer under the store: one small vtable, one
 * implementation per database engine (db_sqlite.c, db_mysql.c). Internal to
 * src/lib/store; nothing outside the store includes this header.
 *
 * A 'struct db' is one connection and is not thread-safe. Statements are
 * prepared once and reused: bind every parameter (1-based), db_step() until
 * DB_DONE or an error, then db_reset() before the next use. Columns are
 * 0-based and valid until the next step or reset. Every error is one of the
 * store's codes (store.h) and leaves a message in db->err. */
#ifndef YUMNA_STORE_DB_H
#define YUMNA_STORE_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define DB_ERR_MAX 256

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
};

struct db {
	const struct db_ops *ops;
	const struct db_dialect *dialect;
	enum db_kind kind;
	char err[DB_ERR_MAX];
};

/* Opens the driver conf->driver names. 'err' (STORE_ERR_MAX) says why not. */
int db_open(const struct store_conf *conf, struct db **ret, char *err);
int db_sqlite_open(const struct store_conf *conf, struct db **ret, char *err);
int db_mysql_open(const struct store_conf *conf, struct db **ret, char *err);

/* 'sql' with the dialect markers {GREATEST}, {UPSERT:cols}, {NEW:col} and
 * {FOR_UPDATE} replaced for db->kind. The caller frees the result; NULL when out of
 * memory. */
char *db_sql_expand(const struct db *db, const char *sql);

/* Applies the numbered migrations (schema.c). */
int db_migrate(struct db *db, char *err);

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
