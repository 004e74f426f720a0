/* What the store's files share (store.c and store_*.c); internal to
 * src/lib/store. The only header of the store that includes the driver
 * layer (db.h).
 *
 * Every query is a named constant in queries.c; store_stmt() prepares it
 * on first use and keeps it for the life of the connection. */
#ifndef YUMNA_STORE_INTERNAL_H
#define YUMNA_STORE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store/db.h"
#include "store/queries.h"
#include "store/store.h"

/* Rows read per round trip in the id-ordered walks. */
#define STORE_PAGE 256

struct store {
	struct db *db;
	bool in_txn;
	bool relaxed;
	struct timespec txn_start; /* when the open transaction began */
	void (*txn_observe)(void *ctx, int how, bool relaxed, uint64_t elapsed_ns);
	void *txn_ctx;
	struct db_stmt *stmt[Q_COUNT];
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

/* A copy of text column 'col' (NULL stays NULL); false when out of memory. */
bool store_col_dup(struct db_stmt *s, unsigned col, char **ret);

/* -ERANGE for a version above INT64_MAX (versions are signed 64-bit
 * columns), else 0. */
int store_check_version(uint64_t v);

/* Writes that take more than one statement run in a transaction of their
 * own when the caller has none open: store_auto_begin() opens one if
 * needed and says so in '*own'; store_auto_end() ends what it opened,
 * committing when 'r' is 0, and returns the outcome ('r' otherwise). */
int store_auto_begin(struct store *st, bool *own);
int store_auto_end(struct store *st, bool own, int r);

#endif
