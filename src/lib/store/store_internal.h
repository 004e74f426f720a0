/* What the store's files share (store.c and store_*.c); internal to
 * src/lib/store. The only header of the store that includes the SQL
 * layer (db.h).
 *
 * Every query is a named constant in queries.c; store_stmt() prepares it
 * on first use and keeps it for the life of the connection. */
#ifndef YUMNA_STORE_INTERNAL_H
#define YUMNA_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "sql/db.h"
#include "store/schema.h"
#include "store/queries.h"
#include "store/store.h"

/* Rows read per round trip in the id-ordered walks (store_walk). */
#define STORE_PAGE 256

#define STORE_RETIRED_MAX 4
#define STORE_RECONNECT_GAP_MS 1000
#define STORE_RECONNECT_SLOW_MS 200

struct store {
	struct db *db;
	bool in_txn;
	bool relaxed;
	struct timespec txn_start; /* when the open transaction began */
	void (*txn_observe)(void *ctx, int how, bool relaxed, uint64_t elapsed_ns);
	void *txn_ctx;
	struct db_stmt *stmt[Q_COUNT];
	/* What store_open() was given, its strings copied: to connect again. */
	struct store_conf conf;
	int64_t last_used_ms;	   /* CLOCK_MONOTONIC, when a statement was last had */
	char lost_why[DB_ERR_MAX]; /* what the database said when it was lost */
	/* The connections replaced last, with their statements: a caller may
	 * still hold one of them (a foreach whose callback used the store as
	 * the connection was replaced); each stays valid until
	 * STORE_RETIRED_MAX more replacements or store_close(), and running
	 * it again fails with ERR_UNAVAILABLE: a loop would have to see the
	 * connection lost and replaced that many times to lose one it steps. */
	struct retired {
		struct db *db;
		struct db_stmt *stmt[Q_COUNT];
	} retired[STORE_RETIRED_MAX];
	unsigned retired_next; /* the slot the next replacement takes */
	int64_t slow_fail_ms;  /* CLOCK_MONOTONIC, when a slow try failed (0: none) */
};

/* The current time, Unix seconds. */
int64_t store_now(void);

/* The prepared statement for 'q' with its parameters bound. 'fmt' has one
 * letter per parameter: 'i' an int64_t, 't' a const char * (NULL: NULL).
 * On success the caller steps it and calls db_reset(), or hands it to
 * store_run() or store_run_int(). */
int store_stmt(struct store *st, enum query q, struct db_stmt **ret, const char *fmt, ...);

/* Runs a statement without result rows and resets it; 'ret_changes' and
 * 'ret_id' may be NULL. */
int store_run(struct db_stmt *s, uint64_t *ret_changes, int64_t *ret_id);

/* Runs a query answering one integer and resets it; -ENOENT when it
 * answers no row. */
int store_run_int(struct db_stmt *s, int64_t *ret);

/* Runs an UPDATE or DELETE and resets it; -ENOENT when it changed no row. */
int store_run_changed(struct db_stmt *s);

/* Runs a query answering at most one row, read into 'ret' by 'read' (as
 * store_rows's), and resets it; -ENOENT when it answers no row. */
int store_run_row(struct db_stmt *s, int (*read)(struct db_stmt *s, void *row), void *ret);

/* Run query 'q' (its first column an id) and hand each id to 'fn' once
 * all are read, so 'fn' may use the store; with 'needle', only the rows
 * whose second column contains it. A nonzero return of 'fn' stops. */
int store_each_id(struct db_stmt *q, const char *needle, store_id_fn fn, void *ctx);

/* store_stmt() and store_run() (no outputs) in one call. */
int store_exec(struct store *st, enum query q, const char *fmt, ...);
/* store_stmt() and store_run_changed() in one call. */
int store_exec_changed(struct store *st, enum query q, const char *fmt, ...);

/* A copy of text column 'col' (NULL stays NULL); false when out of memory.
 * Inline: the row readers call it for every text column of every row. */
static inline bool store_col_dup(struct db_stmt *s, unsigned col, char **ret)
{
	const char *v = db_column_text(s, col);

	*ret = NULL;
	if (v == NULL)
		return true;
	*ret = strdup(v);
	return *ret != NULL;
}

/* -ERANGE for a version above INT64_MAX (versions are signed 64-bit
 * columns), else 0. */
int store_check_version(uint64_t v);

/* Writes that take more than one statement run in a transaction of their
 * own when the caller has none open: store_auto_begin() opens one if
 * needed and says so in '*own'; store_auto_end() ends what it opened,
 * committing when 'r' is 0, and returns the outcome ('r' otherwise). */
int store_auto_begin(struct store *st, bool *own);
int store_auto_end(struct store *st, bool own, int r);

/* Any callback type of store.h, passed through store_walk() and cast back
 * to its own type by the row kind. */
typedef void (*store_fn)(void);

/* One kind of row for store_walk(). */
struct store_rows {
	size_t size;	  /* of one row */
	size_t id_offset; /* of its int64_t id, the walk's order */
	/* Fill 'row' from the current result row; on failure the row is left
	 * cleared. */
	int (*read)(struct db_stmt *q, void *row);
	/* Hand 'row' to 'fn' (cast back to its type) unless 'fn' is NULL,
	 * then free what the row owns. Returns what 'fn' returned, else 0. */
	int (*pass)(void *row, store_fn fn, void *ctx);
};

/* Defines 'name'_rows, the store_rows of a row type 'type' of store.h
 * whose callback type 'fn_type' is int (*)(const type *, void *ctx): rows
 * are read by 'read' and freed by 'clear' (its *_clear function). */
#define STORE_ROWS(name, type, read, clear, fn_type)                                           \
	static int pass_##name(void *row, store_fn fn, void *ctx)                              \
	{                                                                                      \
		int r = fn != NULL ? ((fn_type)fn)(row, ctx) : 0;                              \
		clear(row);                                                                    \
		return r;                                                                      \
	}                                                                                      \
	static const struct store_rows name##_rows = { sizeof(type), offsetof(type, id), read, \
						       pass_##name }

/* The rows of paged query 'q' in id order from the first id above
 * 'after', STORE_PAGE at a time, each passed to 'fn' with 'ctx'. The
 * query's parameters are '*key' (when 'key' is not NULL), the last id seen
 * and the page size. Each page is read into memory and the statement reset
 * before 'fn' runs, so it may call the store. A non-zero return of 'fn'
 * stops the walk and is returned. */
int store_walk(struct store *st, enum query q, const int64_t *key, int64_t after,
	       const struct store_rows *rows, store_fn fn, void *ctx);
/* The same for a query whose first parameters are the text bounds 'lo'
 * and 'hi' (both borrowed) instead of '*key'. */
int store_walk_range(struct store *st, enum query q, const char *lo, const char *hi, int64_t after,
		     const struct store_rows *rows, store_fn fn, void *ctx);

#endif
