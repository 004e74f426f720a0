/* The store's database: its connection (sql/db.h) and its schema.
 * Internal to src/lib/store (and its unit test). */
#ifndef YUMNA_STORE_SCHEMA_H
#define YUMNA_STORE_SCHEMA_H

#include "base/err.h"
#include "sql/db.h"
#include "store/store.h"

/* Opens the database 'conf' names, as the store uses it: a SQLite file
 * private to its owner (it holds agent secrets). 'err' says why
 * not. */
int store_db_open(const struct store_conf *conf, struct db **ret, struct errmsg *err);

/* Applies the numbered migrations (schema.c). */
int db_migrate(struct db *db, struct errmsg *err);

#endif
