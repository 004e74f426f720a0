/* The controller store (store.h), written once over the driver layer
 * (db.h): the connection, its transactions and the statement helpers every
 * entity file shares (store_internal.h). The entities are in store_zones.c
 * (zones and records), store_nodes.c (servers and what each node should
 * serve), store_tokens.c, store_keys.c (DNSSEC) and store_history.c. Every
 * query is a named constant in queries.c, in portable SQL with '?'
 * parameters plus the few dialect markers db_sql_expand() knows; each is
 * prepared on first use and kept for the life of the connection.
 *
 * Walks never keep a statement open while the caller's function runs: rows
 * are read into memory first (a page of STORE_PAGE rows at a time for the
 * id ordered walks, store_walk(); the whole result for the walks bounded
 * otherwise), so the function may run any other store call.
 *
 * Versions are uint64_t in the interface and signed 64-bit columns in SQL;
 * a version above INT64_MAX is refused with -ERANGE.
 *
 * Where store.h leaves a choice open (the entity files note their own):
 * - A NULL name, domain, record name/type/content or token field is
 *   -EINVAL.
 * - The inserts fill a created_at of 0 with the current time and write
 *   back what they stored.
 * - store_begin inside a transaction is -EBUSY, store_commit outside one
 *   -EINVAL; a commit that fails is rolled back before it returns.
 *
 * A lost MariaDB connection (db->lost) is replaced only where no
 * transaction is open: before a statement is had outside one (stmt_v) and
 * in store_begin(), which also replaces a connection its BEGIN finds lost
 * and begins again, nothing having run yet. Before that, a connection the
 * server closed meanwhile (restart, KILL, wait_timeout) is found lost
 * without a round trip (db_check()), and one idle for STORE_IDLE_PING_MS
 * is pinged as well, so that a read does not fail on it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_internal.h"

/* clock_gettime(), not time(), whose coarse clock lags at second
 * boundaries (whm_now() says more). */
int64_t store_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void free_stmts(struct db *db, struct db_stmt **stmt)
{
	for (size_t i = 0; i < Q_COUNT; i++) {
		db_finalize(stmt[i]);
		stmt[i] = NULL;
	}
	db_close(db);
}

/* Replaces the lost connection by a new one: ERR_UNAVAILABLE (or what
 * connecting said) with the reason in store_error() when it cannot, and
 * at once, without trying, within STORE_RECONNECT_GAP_MS of a try that
 * failed slowly: a database host that drops packets makes each try wait
 * for the connect timeout, and a loop of store calls must not wait that
 * long at each. A server that refuses (restarting) is tried every time,
 * so the store is back the moment it is. */
static int reconnect(struct store *st)
{
	struct errmsg err;
	struct db *db;
	int64_t now = mono_ms();

	if (st->lost_why[0] == '\0')
		snprintf(st->lost_why, sizeof(st->lost_why), "%s", st->db->err);
	if (st->slow_fail_ms != 0 && now - st->slow_fail_ms < STORE_RECONNECT_GAP_MS)
		return db_set_error(st->db, ERR_UNAVAILABLE, st->lost_why);
	int r = store_db_open(&st->conf, &db, &err);
	if (r < 0) {
		int64_t done = mono_ms();
		st->slow_fail_ms = done - now >= STORE_RECONNECT_SLOW_MS ? done : 0;
		return db_set_error(st->db, r, err.text);
	}
	st->slow_fail_ms = 0;
	struct retired *old = &st->retired[st->retired_next];
	st->retired_next = (st->retired_next + 1) % STORE_RETIRED_MAX;
	free_stmts(old->db, old->stmt);
	old->db = st->db;
	memcpy(old->stmt, st->stmt, sizeof(st->stmt));
	memset(st->stmt, 0, sizeof(st->stmt));
	st->db = db;
	if (st->conf.reconnected != NULL)
		st->conf.reconnected(st->conf.reconnected_ctx, st->lost_why);
	st->lost_why[0] = '\0';
	return 0;
}

/* Before a statement or a transaction, outside a transaction. */
static int ready(struct store *st)
{
	if (st->db->kind != DB_MYSQL)
		return 0;
	int64_t now = mono_ms();
	if (db_check(st->db) == 0 && now - st->last_used_ms >= STORE_IDLE_PING_MS)
		(void)db_ping(st->db);
	st->last_used_ms = now;
	return st->db->lost ? reconnect(st) : 0;
}

static int prepare(struct store *st, enum query q, struct db_stmt **ret)
{
	char *sql = db_sql_expand(st->db, store_query_sql[q]);

	if (sql == NULL)
		return -ENOMEM;
	int r = db_prepare(st->db, sql, ret);
	free(sql);
	return r;
}

static int stmt_v(struct store *st, enum query q, struct db_stmt **ret, const char *fmt, va_list ap)
{
	unsigned idx = 1;
	int r = 0;

	if (!st->in_txn) {
		r = ready(st);
		if (r < 0)
			return r;
	}
	struct db_stmt *s = st->stmt[q];
	if (s == NULL) {
		r = prepare(st, q, &s);
		/* Found lost by the prepare itself: nothing ran yet. */
		if (r < 0 && !st->in_txn && st->db->lost && reconnect(st) == 0)
			r = prepare(st, q, &s);
		if (r < 0)
			return r;
		st->stmt[q] = s;
	}
	for (; *fmt != '\0' && r == 0; fmt++, idx++) {
		if (*fmt == 'i')
			r = db_bind_int64(s, idx, va_arg(ap, int64_t));
		else
			r = db_bind_text(s, idx, va_arg(ap, const char *));
	}
	if (r < 0) {
		db_reset(s);
		return r;
	}
	*ret = s;
	return 0;
}

int store_stmt(struct store *st, enum query q, struct db_stmt **ret, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = stmt_v(st, q, ret, fmt, ap);
	va_end(ap);
	return r;
}

int store_exec(struct store *st, enum query q, const char *fmt, ...)
{
	struct db_stmt *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = stmt_v(st, q, &s, fmt, ap);
	va_end(ap);
	return r < 0 ? r : store_run(s, NULL, NULL);
}

int store_exec_changed(struct store *st, enum query q, const char *fmt, ...)
{
	struct db_stmt *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = stmt_v(st, q, &s, fmt, ap);
	va_end(ap);
	return r < 0 ? r : store_run_changed(s);
}

int store_run(struct db_stmt *s, uint64_t *ret_changes, int64_t *ret_id)
{
	int r = db_step(s);

	if (r == DB_ROW)
		r = DB_DONE;
	if (r == DB_DONE) {
		if (ret_changes != NULL)
			*ret_changes = db_changes(s);
		if (ret_id != NULL)
			*ret_id = db_last_insert_id(s);
	}
	db_reset(s);
	return r;
}

int store_run_int(struct db_stmt *s, int64_t *ret)
{
	int r = db_step(s);

	if (r == DB_ROW) {
		*ret = db_column_int64(s, 0);
		r = 0;
	} else if (r == DB_DONE) {
		r = -ENOENT;
	}
	db_reset(s);
	return r;
}

int store_run_changed(struct db_stmt *s)
{
	uint64_t n = 0;
	int r = store_run(s, &n, NULL);

	if (r < 0)
		return r;
	return n == 0 ? -ENOENT : 0;
}

int store_run_row(struct db_stmt *s, int (*read)(struct db_stmt *s, void *row), void *ret)
{
	int r = db_step(s);

	if (r == DB_ROW)
		r = read(s, ret);
	else if (r == DB_DONE)
		r = -ENOENT;
	db_reset(s);
	return r;
}

int store_check_version(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? -ERANGE : 0;
}

int store_auto_begin(struct store *st, bool *own)
{
	int r;

	*own = false;
	if (st->in_txn)
		return 0;
	r = store_begin(st);
	if (r == 0)
		*own = true;
	return r;
}

int store_auto_end(struct store *st, bool own, int r)
{
	if (!own)
		return r;
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	return store_commit(st);
}

/* --- the paged walk ----------------------------------------------------- */

static int walk(struct store *st, enum query which, const int64_t *key, const char *lo,
		const char *hi, int64_t after, const struct store_rows *kind, store_fn fn,
		void *ctx)
{
	char *rows = calloc(STORE_PAGE, kind->size);
	size_t n, i;
	int r = 0;

	if (rows == NULL)
		return -ENOMEM;
	do {
		struct db_stmt *q;

		if (lo != NULL)
			r = store_stmt(st, which, &q, "ttii", lo, hi, after, (int64_t)STORE_PAGE);
		else if (key != NULL)
			r = store_stmt(st, which, &q, "iii", *key, after, (int64_t)STORE_PAGE);
		else
			r = store_stmt(st, which, &q, "ii", after, (int64_t)STORE_PAGE);
		if (r < 0)
			break;
		for (n = 0; n < STORE_PAGE && (r = db_step(q)) == DB_ROW; n++) {
			r = kind->read(q, rows + n * kind->size);
			if (r < 0)
				break;
		}
		db_reset(q);
		if (r < 0) {
			for (i = 0; i < n; i++)
				kind->pass(rows + i * kind->size, NULL, NULL);
			break;
		}
		if (n > 0)
			memcpy(&after, rows + (n - 1) * kind->size + kind->id_offset,
			       sizeof(after));
		/* After 'fn' stopped the walk, the rest of the page is only
		 * freed. */
		for (i = 0; i < n; i++) {
			int x = kind->pass(rows + i * kind->size, r == 0 ? fn : NULL, ctx);

			if (r == 0)
				r = x;
		}
	} while (r == 0 && n == STORE_PAGE);
	free(rows);
	return r;
}

int store_walk(struct store *st, enum query which, const int64_t *key, int64_t after,
	       const struct store_rows *kind, store_fn fn, void *ctx)
{
	return walk(st, which, key, NULL, NULL, after, kind, fn, ctx);
}

int store_walk_range(struct store *st, enum query which, const char *lo, const char *hi,
		     int64_t after, const struct store_rows *kind, store_fn fn, void *ctx)
{
	if (lo == NULL || hi == NULL)
		return -EINVAL;
	return walk(st, which, NULL, lo, hi, after, kind, fn, ctx);
}

/* --- connection and transactions ----------------------------------------- */

static void free_str(const char *s, bool secret)
{
	if (s != NULL && secret)
		explicit_bzero((char *)s, strlen(s));
	free((char *)s);
}

static void conf_free(struct store_conf *c)
{
	free_str(c->driver, false);
	free_str(c->path, false);
	free_str(c->host, false);
	free_str(c->socket, false);
	free_str(c->user, false);
	free_str(c->password, true);
	free_str(c->database, false);
}

/* 'c' with its strings copied (NULL stays NULL); false when out of
 * memory. */
static bool conf_copy(struct store_conf *c)
{
	const char **str[] = { &c->driver, &c->path,	 &c->host,    &c->socket,
			       &c->user,   &c->password, &c->database };
	bool ok = true;

	for (size_t i = 0; i < sizeof(str) / sizeof(str[0]); i++) {
		if (*str[i] == NULL)
			continue;
		*str[i] = strdup(*str[i]);
		ok = ok && *str[i] != NULL;
	}
	if (!ok)
		conf_free(c);
	return ok;
}

int store_open(const struct store_conf *conf, struct store **ret, struct errmsg *err)
{
	struct store *st;
	int r;

	err->text[0] = '\0';
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return errmsg_set(err, -ENOMEM, "out of memory");
	st->conf = *conf;
	if (!conf_copy(&st->conf)) {
		free(st);
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	r = store_db_open(conf, &st->db, err);
	if (r < 0) {
		conf_free(&st->conf);
		free(st);
		return r;
	}
	st->last_used_ms = mono_ms();
	r = db_migrate(st->db, err);
	if (r < 0) {
		store_close(st);
		return r;
	}
	st->relaxed = conf->relaxed;
	st->txn_observe = conf->txn_observe;
	st->txn_ctx = conf->txn_ctx;
	*ret = st;
	return 0;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->in_txn)
		(void)db_rollback(st->db);
	free_stmts(st->db, st->stmt);
	for (size_t i = 0; i < STORE_RETIRED_MAX; i++)
		free_stmts(st->retired[i].db, st->retired[i].stmt);
	conf_free(&st->conf);
	free(st);
}

const char *store_error(const struct store *st)
{
	return st->db->err;
}

static void txn_ended(struct store *st, int how)
{
	struct timespec now;

	if (st->txn_observe == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ns = (int64_t)(now.tv_sec - st->txn_start.tv_sec) * 1000000000 +
		     (now.tv_nsec - st->txn_start.tv_nsec);
	st->txn_observe(st->txn_ctx, how, st->relaxed, ns > 0 ? (uint64_t)ns : 0);
}

int store_begin(struct store *st)
{
	int r;

	if (st->in_txn)
		return -EBUSY;
	r = ready(st);
	if (r < 0)
		return r;
	if (st->txn_observe != NULL)
		clock_gettime(CLOCK_MONOTONIC, &st->txn_start);
	r = db_begin(st->db);
	if (r < 0 && st->db->lost && reconnect(st) == 0)
		r = db_begin(st->db);
	if (r == 0)
		st->in_txn = true;
	return r;
}

int store_commit(struct store *st)
{
	int r;

	if (!st->in_txn)
		return -EINVAL;
	r = db_commit(st->db);
	/* Either way no transaction is open afterwards: a failed commit is
	 * rolled back here, so the caller's store_rollback() is a no-op. */
	if (r < 0)
		(void)db_rollback(st->db);
	st->in_txn = false;
	txn_ended(st, r < 0 ? STORE_TXN_FAILED : STORE_TXN_COMMIT);
	return r;
}

void store_rollback(struct store *st)
{
	if (st == NULL || !st->in_txn)
		return;
	(void)db_rollback(st->db);
	st->in_txn = false;
	txn_ended(st, STORE_TXN_ROLLBACK);
}

/* The ids query 'q' answers (first column), those whose second column
 * contains 'needle' when it is not NULL, handed to 'fn' once all are read:
 * 'fn' may write through the store. */
int store_each_id(struct db_stmt *q, const char *needle, store_id_fn fn, void *ctx)
{
	int64_t *ids = NULL;
	size_t n = 0, alloc = 0;
	int r;

	while ((r = db_step(q)) == DB_ROW) {
		const char *text = needle != NULL ? db_column_text(q, 1) : NULL;
		if (needle != NULL && (text == NULL || strstr(text, needle) == NULL))
			continue;
		if (n == alloc) {
			size_t a = alloc ? 2 * alloc : 64;
			int64_t *v = realloc(ids, a * sizeof(*v));
			if (v == NULL) {
				r = -ENOMEM;
				break;
			}
			ids = v;
			alloc = a;
		}
		ids[n++] = db_column_int64(q, 0);
	}
	db_reset(q);
	for (size_t i = 0; r == DB_DONE && i < n; i++) {
		int x = fn(ids[i], ctx);
		if (x != 0)
			r = x;
	}
	free(ids);
	return r == DB_DONE ? 0 : r;
}
