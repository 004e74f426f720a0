/* The controller store (store.h), written once over the driver layer
 * (db.h). Every query is a named constant in queries.c, in portable SQL
 * with '?' parameters plus the few dialect markers db_sql_expand() knows;
 * each is prepared on first use and kept for the life of the connection.
 *
 * Walks never keep a statement open while the caller's function runs: rows
 * are read into memory first (a page of PAGE rows at a time for the id
 * ordered walks, the whole result for the pending walk, which is bounded by
 * its limit), so the function may run any other store call.
 *
 * Versions are uint64_t in the interface and signed 64-bit columns in SQL;
 * a version above INT64_MAX is refused with -ERANGE.
 *
 * Where store.h leaves a choice open:
 * - A NULL server hostname, ip or agent_secret is stored as "", a NULL
 *   status as "unknown"; pdns_version and last_error stay NULL. A NULL
 *   name, domain, record name/type/content or token field is -EINVAL.
 * - The inserts fill a created_at (and a zone's updated_at) of 0 with the
 *   current time and write back what they stored; store_zone_insert also
 *   writes back version and serial, which reviving a tombstone may raise
 *   (the serial continues in RFC 1982 terms, as the version does). A
 *   revived zone starts without the tombstone's records. A zone created
 *   again after its tombstone was purged gets a new id but still
 *   continues the purged zone's version and serial (dns_purged_zones).
 * - store_server_update leaves created_at alone; store_record_update
 *   leaves zone_id and created_at alone.
 * - store_zone_get and store_zone_get_by_name return tombstones too.
 * - store_zone_purge refuses a live zone with ERR_CONFLICT.
 * - The "want" calls never lower desired; store_sync_ack and
 *   store_sync_fail on a (server, zone) without a row are -ENOENT.
 * - store_sync_foreach_pending: limit 0 means no limit.
 * - store_sync_summary: server_id 0 sums over every node; "failing" are
 *   the behind rows with attempts > 0.
 * - store_sync_all_acked and store_sync_node_acked: a node without a row
 *   has not acknowledged, unless the zone is gone: a purged zone (every
 *   node confirmed its delete first) counts as acknowledged, so a caller
 *   waiting for a delete sees it done even when the purge came first.
 * - store_sync_reset creates the row when missing, raises desired to the
 *   zone's version, and, like store_sync_reset_server, makes the row due
 *   at once (next_attempt_ms = 0; attempts and last_error stay).
 * - store_begin inside a transaction is -EBUSY, store_commit outside one
 *   -EINVAL; a commit that fails is rolled back before it returns.
 * - store_audit stores zone_id 0 as NULL (no zone). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "store/db.h"
#include "store/queries.h"
#include "store/store.h"

/* Rows read per round trip in the id-ordered walks. */
#define PAGE 256

struct store {
	struct db *db;
	bool in_txn;
	bool relaxed;
	struct timespec txn_start; /* when the open transaction began */
	void (*txn_observe)(void *ctx, int how, bool relaxed, uint64_t elapsed_ns);
	void *txn_ctx;
	struct db_stmt *stmt[Q_COUNT];
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* The prepared statement for 'q' with its parameters bound. 'fmt' has one
 * letter per parameter: 'i' an int64_t, 't' a const char * (NULL: NULL).
 * On success the caller steps it and calls db_reset(). */
static int start(struct store *st, enum query q, struct db_stmt **ret, const char *fmt, ...)
{
	struct db_stmt *s = st->stmt[q];
	unsigned idx = 1;
	va_list ap;
	int r = 0;

	if (s == NULL) {
		char *sql = db_sql_expand(st->db, store_query_sql[q]);

		if (sql == NULL)
			return -ENOMEM;
		r = db_prepare(st->db, sql, &s);
		free(sql);
		if (r < 0)
			return r;
		st->stmt[q] = s;
	}
	va_start(ap, fmt);
	for (; *fmt != '\0' && r == 0; fmt++, idx++) {
		if (*fmt == 'i')
			r = db_bind_int64(s, idx, va_arg(ap, int64_t));
		else
			r = db_bind_text(s, idx, va_arg(ap, const char *));
	}
	va_end(ap);
	if (r < 0) {
		db_reset(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* Runs a statement without result rows; 'ret_changes' and 'ret_id' may be
 * NULL. */
static int finish(struct db_stmt *s, uint64_t *ret_changes, int64_t *ret_id)
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

/* Runs a query answering one integer; -ENOENT when it answers no row. */
static int finish_int(struct db_stmt *s, int64_t *ret)
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

/* A copy of text column 'col' (NULL stays NULL); false when out of memory. */
static bool dup_col(struct db_stmt *s, unsigned col, char **ret)
{
	const char *v = db_column_text(s, col);

	*ret = NULL;
	if (v == NULL)
		return true;
	*ret = strdup(v);
	return *ret != NULL;
}

static int check_version(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? -ERANGE : 0;
}

/* Writes that take more than one statement run in a transaction of their
 * own when the caller has none open. */
static int auto_begin(struct store *st, bool *own)
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

static int auto_end(struct store *st, bool own, int r)
{
	if (!own)
		return r;
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	return store_commit(st);
}

/* --- connection and transactions ----------------------------------------- */

int store_open(const struct store_conf *conf, struct store **ret, char *err)
{
	struct store *st;
	int r;

	err[0] = '\0';
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		snprintf(err, STORE_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	r = db_open(conf, &st->db, err);
	if (r < 0) {
		free(st);
		return r;
	}
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
	size_t i;

	if (st == NULL)
		return;
	if (st->in_txn)
		(void)db_rollback(st->db);
	for (i = 0; i < Q_COUNT; i++)
		db_finalize(st->stmt[i]);
	db_close(st->db);
	free(st);
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
	if (st->txn_observe != NULL)
		clock_gettime(CLOCK_MONOTONIC, &st->txn_start);
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

/* --- servers -------------------------------------------------------------- */

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static const char *or_unknown(const char *s)
{
	return s != NULL ? s : "unknown";
}

void store_server_clear(struct store_server *s)
{
	if (s == NULL)
		return;
	free(s->name);
	free(s->hostname);
	free(s->ip);
	free(s->agent_secret);
	free(s->status);
	free(s->pdns_version);
	free(s->last_error);
	memset(s, 0, sizeof(*s));
}

static int row_server(struct db_stmt *q, struct store_server *s)
{
	bool ok;

	memset(s, 0, sizeof(*s));
	s->id = db_column_int64(q, 0);
	s->agent_port = (uint32_t)db_column_int64(q, 4);
	s->in_cluster = db_column_int64(q, 6) != 0;
	s->last_seen = db_column_int64(q, 10);
	s->created_at = db_column_int64(q, 11);
	ok = dup_col(q, 1, &s->name);
	ok = dup_col(q, 2, &s->hostname) && ok;
	ok = dup_col(q, 3, &s->ip) && ok;
	ok = dup_col(q, 5, &s->agent_secret) && ok;
	ok = dup_col(q, 7, &s->status) && ok;
	ok = dup_col(q, 8, &s->pdns_version) && ok;
	ok = dup_col(q, 9, &s->last_error) && ok;
	if (!ok) {
		store_server_clear(s);
		return -ENOMEM;
	}
	return 0;
}

int store_server_insert(struct store *st, struct store_server *s)
{
	int64_t created = s->created_at != 0 ? s->created_at : now_s();
	struct db_stmt *q;
	int64_t id = 0;
	int r;

	if (s->name == NULL || s->name[0] == '\0')
		return -EINVAL;
	r = start(st, Q_SERVER_INSERT, &q, "tttititttii", s->name, or_empty(s->hostname),
		  or_empty(s->ip), (int64_t)s->agent_port, or_empty(s->agent_secret),
		  (int64_t)s->in_cluster, or_unknown(s->status), s->pdns_version, s->last_error,
		  s->last_seen, created);
	if (r < 0)
		return r;
	r = finish(q, NULL, &id);
	if (r < 0)
		return r;
	s->id = id;
	s->created_at = created;
	return 0;
}

int store_server_update(struct store *st, const struct store_server *s)
{
	struct db_stmt *q;
	uint64_t n = 0;
	int r;

	if (s->name == NULL || s->name[0] == '\0')
		return -EINVAL;
	r = start(st, Q_SERVER_UPDATE, &q, "tttititttii", s->name, or_empty(s->hostname),
		  or_empty(s->ip), (int64_t)s->agent_port, or_empty(s->agent_secret),
		  (int64_t)s->in_cluster, or_unknown(s->status), s->pdns_version, s->last_error,
		  s->last_seen, s->id);
	if (r < 0)
		return r;
	r = finish(q, &n, NULL);
	if (r < 0)
		return r;
	return n == 0 ? -ENOENT : 0;
}

int store_server_get(struct store *st, int64_t id, struct store_server *ret)
{
	struct db_stmt *q;
	int r;

	r = start(st, Q_SERVER_GET, &q, "i", id);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW)
		r = row_server(q, ret);
	else if (r == DB_DONE)
		r = -ENOENT;
	db_reset(q);
	return r;
}

int store_server_delete(struct store *st, int64_t id)
{
	struct db_stmt *q;
	uint64_t n = 0;
	bool own;
	int r;

	r = auto_begin(st, &own);
	if (r < 0)
		return r;
	/* The foreign key cascades too; this does not depend on it. */
	r = start(st, Q_SERVER_DELETE_STATE, &q, "i", id);
	if (r == 0)
		r = finish(q, NULL, NULL);
	if (r == 0)
		r = start(st, Q_SERVER_DELETE, &q, "i", id);
	if (r == 0)
		r = finish(q, &n, NULL);
	if (r == 0 && n == 0)
		r = -ENOENT;
	return auto_end(st, own, r);
}

int store_server_foreach(struct store *st, bool cluster_only, store_server_fn fn, void *ctx)
{
	struct store_server *rows = calloc(PAGE, sizeof(*rows));
	int64_t after = 0;
	size_t n, i;
	int r = 0;

	if (rows == NULL)
		return -ENOMEM;
	do {
		struct db_stmt *q;

		r = start(st, cluster_only ? Q_SERVER_PAGE_CLUSTER : Q_SERVER_PAGE, &q, "ii", after,
			  (int64_t)PAGE);
		if (r < 0)
			break;
		for (n = 0; n < PAGE && (r = db_step(q)) == DB_ROW; n++) {
			r = row_server(q, &rows[n]);
			if (r < 0)
				break;
		}
		db_reset(q);
		if (r < 0) {
			for (i = 0; i < n; i++)
				store_server_clear(&rows[i]);
			break;
		}
		if (n > 0)
			after = rows[n - 1].id;
		for (i = 0; i < n; i++) {
			if (r == 0)
				r = fn(&rows[i], ctx);
			store_server_clear(&rows[i]);
		}
	} while (r == 0 && n == PAGE);
	free(rows);
	return r;
}

/* --- zones ---------------------------------------------------------------- */

void store_zone_clear(struct store_zone *z)
{
	if (z == NULL)
		return;
	free(z->domain);
	memset(z, 0, sizeof(*z));
}

static int row_zone(struct db_stmt *q, struct store_zone *z)
{
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
	if (!dup_col(q, 1, &z->domain) || z->domain == NULL) {
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
};

static int zone_find(struct store *st, const char *domain, struct zone_find *ret)
{
	struct db_stmt *q;
	int r;

	r = start(st, Q_ZONE_FIND, &q, "t", domain);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW) {
		ret->id = db_column_int64(q, 0);
		ret->deleted = db_column_int64(q, 1) != 0;
		ret->version = (uint64_t)db_column_int64(q, 2);
		ret->serial = (uint32_t)db_column_int64(q, 3);
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

	r = start(st, Q_PURGED_FIND, &q, "t", domain);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW) {
		memset(ret, 0, sizeof(*ret));
		ret->version = (uint64_t)db_column_int64(q, 0);
		ret->serial = (uint32_t)db_column_int64(q, 1);
		r = 0;
	} else if (r == DB_DONE) {
		r = -ENOENT;
	}
	db_reset(q);
	return r;
}

int store_zone_insert(struct store *st, struct store_zone *z)
{
	int64_t created = z->created_at != 0 ? z->created_at : now_s();
	int64_t updated = z->updated_at != 0 ? z->updated_at : created;
	uint64_t version = z->version;
	uint32_t serial = z->serial;
	struct zone_find old;
	struct db_stmt *q;
	int64_t id = 0;
	bool own;
	int r;

	if (z->domain == NULL || z->domain[0] == '\0')
		return -EINVAL;
	r = check_version(z->version);
	if (r < 0)
		return r;
	r = auto_begin(st, &own);
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
		r = check_version(version);
		if (r == 0)
			r = start(st, Q_RECORD_DELETE_ZONE, &q, "i", id);
		if (r == 0)
			r = finish(q, NULL, NULL);
		if (r == 0)
			r = start(st, Q_ZONE_REVIVE, &q, "iiiiiiiti", z->user_id, z->server_id,
				  (int64_t)version, (int64_t)serial, (int64_t)z->dnssec, created,
				  updated, z->rdigest, id);
		if (r == 0)
			r = finish(q, NULL, NULL);
	} else if (r == -ENOENT) {
		/* Purged before: continue what the purged zone reached. */
		r = purged_find(st, z->domain, &old);
		if (r == 0) {
			if (version <= old.version)
				version = old.version + 1;
			serial = serial_after(old.serial, serial);
			r = check_version(version);
			if (r == 0)
				r = start(st, Q_PURGED_FORGET, &q, "t", z->domain);
			if (r == 0)
				r = finish(q, NULL, NULL);
		} else if (r == -ENOENT) {
			r = 0;
		}
		if (r == 0)
			r = start(st, Q_ZONE_INSERT, &q, "tiiiiiiiti", z->domain, z->user_id,
				  z->server_id, (int64_t)version, (int64_t)serial,
				  (int64_t)z->dnssec, created, updated, z->rdigest,
				  (int64_t)z->bucket);
		if (r == 0)
			r = finish(q, NULL, &id);
	}
	r = auto_end(st, own, r);
	if (r < 0)
		return r;
	z->id = id;
	z->version = version;
	z->serial = serial;
	z->deleted = false;
	z->created_at = created;
	z->updated_at = updated;
	return 0;
}

int store_zone_update(struct store *st, const struct store_zone *z)
{
	struct db_stmt *q;
	uint64_t n = 0;
	int r;

	r = check_version(z->version);
	if (r < 0)
		return r;
	r = start(st, Q_ZONE_UPDATE, &q, "iiiiiiiti", (int64_t)z->version, (int64_t)z->serial,
		  (int64_t)z->deleted, (int64_t)z->dnssec, z->user_id, z->server_id,
		  z->updated_at != 0 ? z->updated_at : now_s(), z->rdigest, z->id);
	if (r < 0)
		return r;
	r = finish(q, &n, NULL);
	if (r < 0)
		return r;
	return n == 0 ? -ENOENT : 0;
}

static int zone_get(struct store *st, enum query which, int64_t id, const char *domain,
		    struct store_zone *ret)
{
	struct db_stmt *q;
	int r;

	if (which == Q_ZONE_GET)
		r = start(st, which, &q, "i", id);
	else
		r = start(st, which, &q, "t", domain);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW)
		r = row_zone(q, ret);
	else if (r == DB_DONE)
		r = -ENOENT;
	db_reset(q);
	return r;
}

int store_zone_get(struct store *st, int64_t id, struct store_zone *ret)
{
	return zone_get(st, Q_ZONE_GET, id, NULL, ret);
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

/* The zones of query 'which' in id order after 'after', a page at a time;
 * 'bucket' >= 0 is the query's first parameter. */
static int zone_walk(struct store *st, enum query which, int64_t bucket, int64_t after,
		     store_zone_fn fn, void *ctx)
{
	struct store_zone *rows = calloc(PAGE, sizeof(*rows));
	size_t n, i;
	int r = 0;

	if (rows == NULL)
		return -ENOMEM;
	do {
		struct db_stmt *q;

		if (bucket >= 0)
			r = start(st, which, &q, "iii", bucket, after, (int64_t)PAGE);
		else
			r = start(st, which, &q, "ii", after, (int64_t)PAGE);
		if (r < 0)
			break;
		for (n = 0; n < PAGE && (r = db_step(q)) == DB_ROW; n++) {
			r = row_zone(q, &rows[n]);
			if (r < 0)
				break;
		}
		db_reset(q);
		if (r < 0) {
			for (i = 0; i < n; i++)
				store_zone_clear(&rows[i]);
			break;
		}
		if (n > 0)
			after = rows[n - 1].id;
		for (i = 0; i < n; i++) {
			if (r == 0)
				r = fn(&rows[i], ctx);
			store_zone_clear(&rows[i]);
		}
	} while (r == 0 && n == PAGE);
	free(rows);
	return r;
}

int store_zone_foreach_after(struct store *st, bool with_deleted, int64_t after, store_zone_fn fn,
			     void *ctx)
{
	return zone_walk(st, with_deleted ? Q_ZONE_PAGE_ALL : Q_ZONE_PAGE, -1, after, fn, ctx);
}

int store_zone_foreach_bucket(struct store *st, unsigned bucket, store_zone_fn fn, void *ctx)
{
	return zone_walk(st, Q_ZONE_PAGE_BUCKET, (int64_t)bucket, 0, fn, ctx);
}

int store_zone_set_bucket(struct store *st, int64_t id, unsigned bucket)
{
	struct db_stmt *q;
	int r = start(st, Q_ZONE_SET_BUCKET, &q, "ii", (int64_t)bucket, id);
	return r < 0 ? r : finish(q, NULL, NULL);
}

int store_zone_set_rdigest(struct store *st, int64_t id, uint64_t version, const char *rdigest)
{
	struct db_stmt *q;
	int r = start(st, Q_ZONE_SET_RDIGEST, &q, "tii", rdigest, id, (int64_t)version);
	return r < 0 ? r : finish(q, NULL, NULL);
}

int store_zone_purge(struct store *st, int64_t id)
{
	struct db_stmt *q;
	int64_t deleted = 0;
	uint64_t n = 0;
	bool own;
	int r;

	r = auto_begin(st, &own);
	if (r < 0)
		return r;
	/* Its version and serial outlive it (dns_purged_zones); records,
	 * versions and node states go with it (ON DELETE CASCADE). */
	r = start(st, Q_PURGED_REMEMBER, &q, "ii", now_s(), id);
	if (r == 0)
		r = finish(q, NULL, NULL);
	if (r == 0)
		r = start(st, Q_ZONE_PURGE, &q, "i", id);
	if (r == 0)
		r = finish(q, &n, NULL);
	if (r == 0 && n == 0) {
		/* Nothing purged: no such zone, or a live one, refused. */
		r = start(st, Q_ZONE_IS_DELETED, &q, "i", id);
		if (r == 0)
			r = finish_int(q, &deleted);
		if (r == 0)
			r = ERR_CONFLICT;
	}
	return auto_end(st, own, r);
}

int store_zone_counts(struct store *st, uint64_t *ret_zones, uint64_t *ret_records)
{
	int64_t zones = 0, records = 0;
	struct db_stmt *q;
	int r;

	r = start(st, Q_ZONE_COUNT, &q, "");
	if (r == 0)
		r = finish_int(q, &zones);
	if (r == 0)
		r = start(st, Q_RECORD_COUNT, &q, "");
	if (r == 0)
		r = finish_int(q, &records);
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
	int r = start(st, Q_RECORD_COUNT_ZONE, &q, "i", zone_id);
	if (r == 0)
		r = finish_int(q, &n);
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

static int row_record(struct db_stmt *q, struct store_record *rec)
{
	bool ok;

	memset(rec, 0, sizeof(*rec));
	rec->id = db_column_int64(q, 0);
	rec->zone_id = db_column_int64(q, 1);
	rec->ttl = (uint32_t)db_column_int64(q, 5);
	rec->priority = (uint32_t)db_column_int64(q, 6);
	rec->created_at = db_column_int64(q, 7);
	ok = dup_col(q, 2, &rec->name);
	ok = dup_col(q, 3, &rec->type) && ok;
	ok = dup_col(q, 4, &rec->content) && ok;
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
	int64_t created = rec->created_at != 0 ? rec->created_at : now_s();
	struct db_stmt *q;
	int64_t id = 0;
	int r;

	if (!record_valid(rec))
		return -EINVAL;
	r = start(st, Q_RECORD_INSERT, &q, "itttiii", rec->zone_id, rec->name, rec->type,
		  rec->content, (int64_t)rec->ttl, (int64_t)rec->priority, created);
	if (r < 0)
		return r;
	r = finish(q, NULL, &id);
	if (r < 0)
		return r;
	rec->id = id;
	rec->created_at = created;
	return 0;
}

int store_record_update(struct store *st, const struct store_record *rec)
{
	struct db_stmt *q;
	uint64_t n = 0;
	int r;

	if (!record_valid(rec))
		return -EINVAL;
	r = start(st, Q_RECORD_UPDATE, &q, "tttiii", rec->name, rec->type, rec->content,
		  (int64_t)rec->ttl, (int64_t)rec->priority, rec->id);
	if (r < 0)
		return r;
	r = finish(q, &n, NULL);
	if (r < 0)
		return r;
	return n == 0 ? -ENOENT : 0;
}

int store_record_get(struct store *st, int64_t id, struct store_record *ret)
{
	struct db_stmt *q;
	int r;

	r = start(st, Q_RECORD_GET, &q, "i", id);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW)
		r = row_record(q, ret);
	else if (r == DB_DONE)
		r = -ENOENT;
	db_reset(q);
	return r;
}

int store_record_delete(struct store *st, int64_t id)
{
	struct db_stmt *q;
	uint64_t n = 0;
	int r;

	r = start(st, Q_RECORD_DELETE, &q, "i", id);
	if (r < 0)
		return r;
	r = finish(q, &n, NULL);
	if (r < 0)
		return r;
	return n == 0 ? -ENOENT : 0;
}

int store_record_delete_zone(struct store *st, int64_t zone_id)
{
	struct db_stmt *q;
	int r;

	r = start(st, Q_RECORD_DELETE_ZONE, &q, "i", zone_id);
	if (r < 0)
		return r;
	return finish(q, NULL, NULL);
}

int store_record_foreach(struct store *st, int64_t zone_id, store_record_fn fn, void *ctx)
{
	struct store_record *rows = calloc(PAGE, sizeof(*rows));
	int64_t after = 0;
	size_t n, i;
	int r = 0;

	if (rows == NULL)
		return -ENOMEM;
	do {
		struct db_stmt *q;

		r = start(st, Q_RECORD_PAGE, &q, "iii", zone_id, after, (int64_t)PAGE);
		if (r < 0)
			break;
		for (n = 0; n < PAGE && (r = db_step(q)) == DB_ROW; n++) {
			r = row_record(q, &rows[n]);
			if (r < 0)
				break;
		}
		db_reset(q);
		if (r < 0) {
			for (i = 0; i < n; i++)
				store_record_clear(&rows[i]);
			break;
		}
		if (n > 0)
			after = rows[n - 1].id;
		for (i = 0; i < n; i++) {
			if (r == 0)
				r = fn(&rows[i], ctx);
			store_record_clear(&rows[i]);
		}
	} while (r == 0 && n == PAGE);
	free(rows);
	return r;
}

/* --- node sync state -------------------------------------------------------- */

void store_sync_clear(struct store_sync *s)
{
	if (s == NULL)
		return;
	free(s->last_error);
	memset(s, 0, sizeof(*s));
}

int store_sync_want_all(struct store *st, int64_t zone_id, uint64_t version)
{
	struct db_stmt *q;
	int r;

	r = check_version(version);
	if (r < 0)
		return r;
	r = start(st, Q_SYNC_WANT_ALL, &q, "iiii", zone_id, (int64_t)version,
		  (int64_t)(version > 0), now_s());
	if (r < 0)
		return r;
	return finish(q, NULL, NULL);
}

int store_sync_want_server(struct store *st, int64_t server_id)
{
	struct db_stmt *q;
	int64_t found = 0;
	int r;

	r = start(st, Q_SERVER_EXISTS, &q, "i", server_id);
	if (r == 0)
		r = finish_int(q, &found);
	if (r == 0)
		r = start(st, Q_SYNC_WANT_SERVER, &q, "ii", server_id, now_s());
	if (r == 0)
		r = finish(q, NULL, NULL);
	return r;
}

int store_sync_ack(struct store *st, int64_t server_id, int64_t zone_id, uint64_t applied)
{
	struct db_stmt *q;
	uint64_t n = 0;
	int r;

	r = check_version(applied);
	if (r < 0)
		return r;
	r = start(st, Q_SYNC_ACK, &q, "iiiii", (int64_t)applied, (int64_t)applied, now_s(),
		  server_id, zone_id);
	if (r < 0)
		return r;
	r = finish(q, &n, NULL);
	if (r < 0)
		return r;
	return n == 0 ? -ENOENT : 0;
}

int store_sync_fail(struct store *st, int64_t server_id, int64_t zone_id, const char *error,
		    uint32_t attempts, int64_t next_attempt_ms)
{
	struct db_stmt *q;
	uint64_t n = 0;
	int r;

	r = start(st, Q_SYNC_FAIL, &q, "tiiiii", error != NULL ? error : "unknown error",
		  (int64_t)attempts, next_attempt_ms, now_s(), server_id, zone_id);
	if (r < 0)
		return r;
	r = finish(q, &n, NULL);
	if (r < 0)
		return r;
	return n == 0 ? -ENOENT : 0;
}

/* True when zone 'id' no longer exists: a purged tombstone, which every
 * node confirmed before it was purged (store_zone_purge's precondition). */
static int zone_gone(struct store *st, int64_t id, bool *ret)
{
	struct db_stmt *q;
	int64_t found = 0;
	int r;

	r = start(st, Q_ZONE_EXISTS, &q, "i", id);
	if (r == 0)
		r = finish_int(q, &found);
	if (r == -ENOENT) {
		*ret = true;
		return 0;
	}
	if (r == 0)
		*ret = false;
	return r;
}

int store_sync_reset(struct store *st, int64_t server_id, int64_t zone_id, uint64_t applied)
{
	struct db_stmt *q;
	int64_t found = 0;
	int r;

	r = check_version(applied);
	if (r < 0)
		return r;
	/* An unknown server fails on its foreign key; an unknown zone would
	 * just insert nothing. */
	r = start(st, Q_ZONE_EXISTS, &q, "i", zone_id);
	if (r == 0)
		r = finish_int(q, &found);
	if (r == 0)
		r = start(st, Q_SYNC_RESET, &q, "iiiii", server_id, (int64_t)applied,
			  (int64_t)applied, now_s(), zone_id);
	if (r == 0)
		r = finish(q, NULL, NULL);
	return r;
}

int store_sync_reset_server(struct store *st, int64_t server_id)
{
	struct db_stmt *q;
	int64_t found = 0;
	int r;

	r = start(st, Q_SERVER_EXISTS, &q, "i", server_id);
	if (r == 0)
		r = finish_int(q, &found);
	if (r == 0)
		r = start(st, Q_SYNC_RESET_SERVER, &q, "ii", now_s(), server_id);
	if (r == 0)
		r = finish(q, NULL, NULL);
	return r;
}

int store_sync_node_acked(struct store *st, int64_t server_id, int64_t zone_id, uint64_t version,
			  bool *ret)
{
	struct db_stmt *q;
	int64_t applied = 0;
	int r;

	r = check_version(version);
	if (r < 0)
		return r;
	r = start(st, Q_SYNC_NODE_APPLIED, &q, "ii", server_id, zone_id);
	if (r == 0)
		r = finish_int(q, &applied);
	if (r == -ENOENT) {
		/* No row: the node was never asked for the zone, or the zone
		 * was purged, which happens only once every node confirmed. */
		r = zone_gone(st, zone_id, ret);
		return r;
	}
	if (r < 0)
		return r;
	*ret = (uint64_t)applied >= version;
	return 0;
}

static int row_sync(struct db_stmt *q, struct store_sync *s)
{
	memset(s, 0, sizeof(*s));
	s->server_id = db_column_int64(q, 0);
	s->zone_id = db_column_int64(q, 1);
	s->desired = (uint64_t)db_column_int64(q, 2);
	s->applied = (uint64_t)db_column_int64(q, 3);
	s->attempts = (uint32_t)db_column_int64(q, 4);
	s->next_attempt_ms = db_column_int64(q, 5);
	s->updated_at = db_column_int64(q, 7);
	if (!dup_col(q, 6, &s->last_error))
		return -ENOMEM;
	return 0;
}

int store_sync_foreach_pending(struct store *st, int64_t server_id, int64_t now_ms, unsigned limit,
			       store_sync_fn fn, void *ctx)
{
	int64_t due = now_ms != 0 ? now_ms : INT64_MAX;
	int64_t max = limit != 0 ? (int64_t)limit : INT64_MAX;
	struct store_sync *rows = NULL, *grown;
	size_t n = 0, cap = 0, i;
	struct db_stmt *q;
	int r;

	/* The whole answer is read before 'fn' runs: 'fn' typically acks or
	 * fails rows, which moves them in this very ordering. */
	if (server_id != 0)
		r = start(st, Q_SYNC_PENDING_SERVER, &q, "iii", server_id, due, max);
	else
		r = start(st, Q_SYNC_PENDING, &q, "ii", due, max);
	if (r < 0)
		return r;
	while ((r = db_step(q)) == DB_ROW) {
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			grown = realloc(rows, cap * sizeof(*rows));
			if (grown == NULL) {
				r = -ENOMEM;
				break;
			}
			rows = grown;
		}
		r = row_sync(q, &rows[n]);
		if (r < 0)
			break;
		n++;
	}
	db_reset(q);
	if (r > 0)
		r = 0;
	for (i = 0; i < n; i++) {
		if (r == 0)
			r = fn(&rows[i], ctx);
		store_sync_clear(&rows[i]);
	}
	free(rows);
	return r;
}

int store_sync_summary(struct store *st, int64_t server_id, const uint64_t *live,
		       struct store_sync_summary *ret)
{
	struct store_sync_summary sum = { 0 };
	struct db_stmt *q;
	int64_t total;
	int r;

	bool behind_only = server_id != 0 && live != NULL;
	if (behind_only)
		r = start(st, Q_SYNC_SUMMARY_BEHIND, &q, "i", server_id);
	else if (server_id != 0)
		r = start(st, Q_SYNC_SUMMARY_SERVER, &q, "i", server_id);
	else
		r = start(st, Q_SYNC_SUMMARY, &q, "");
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW) {
		total = db_column_int64(q, 0);
		sum.behind = (uint64_t)db_column_int64(q, 1);
		sum.in_sync = (uint64_t)total - sum.behind;
		sum.failing = (uint64_t)db_column_int64(q, 2);
		sum.oldest_pending = db_column_int64(q, 3);
		if (behind_only) {
			uint64_t live_behind = (uint64_t)db_column_int64(q, 4);
			sum.in_sync = *live > live_behind ? *live - live_behind : 0;
		}
		r = 0;
	}
	db_reset(q);
	if (r < 0)
		return r;
	if (server_id != 0)
		r = start(st, Q_SYNC_LAST_ERROR_SERVER, &q, "i", server_id);
	else
		r = start(st, Q_SYNC_LAST_ERROR, &q, "");
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW)
		r = dup_col(q, 0, &sum.last_error) ? 0 : -ENOMEM;
	db_reset(q);
	if (r < 0)
		return r;
	*ret = sum;
	return 0;
}

int store_sync_all_acked(struct store *st, int64_t zone_id, uint64_t version, bool *ret)
{
	struct db_stmt *q;
	int64_t behind = 0;
	int r;

	r = check_version(version);
	if (r < 0)
		return r;
	r = start(st, Q_SYNC_NOT_ACKED, &q, "ii", zone_id, (int64_t)version);
	if (r == 0)
		r = finish_int(q, &behind);
	if (r < 0)
		return r;
	if (behind == 0) {
		*ret = true;
		return 0;
	}
	/* Nodes without rows: a purged zone has none, and counts as done. */
	return zone_gone(st, zone_id, ret);
}

/* --- API tokens --------------------------------------------------------------- */

int store_token_insert(struct store *st, const char *name, const char *hash, const char *role,
		       int64_t *ret_id)
{
	struct db_stmt *q;
	int64_t id = 0;
	int r;

	if (name == NULL || hash == NULL || hash[0] == '\0' || role == NULL || role[0] == '\0' ||
	    strlen(role) >= 16)
		return -EINVAL;
	r = start(st, Q_TOKEN_INSERT, &q, "ttti", name, hash, role, now_s());
	if (r < 0)
		return r;
	r = finish(q, NULL, &id);
	if (r < 0)
		return r;
	if (ret_id != NULL)
		*ret_id = id;
	return 0;
}

int store_token_find(struct store *st, const char *hash, char role[16], int64_t *ret_id)
{
	struct db_stmt *q;
	const char *v;
	int64_t id;
	int r;

	if (hash == NULL)
		return -EINVAL;
	r = start(st, Q_TOKEN_FIND, &q, "t", hash);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW) {
		id = db_column_int64(q, 0);
		v = db_column_text(q, 1);
		if (v == NULL || strlen(v) >= 16) {
			r = ERR_BACKEND;
		} else {
			memcpy(role, v, strlen(v) + 1);
			if (ret_id != NULL)
				*ret_id = id;
			r = 0;
		}
	} else if (r == DB_DONE) {
		r = -ENOENT;
	}
	db_reset(q);
	return r;
}

int store_token_revoke(struct store *st, int64_t id)
{
	struct db_stmt *q;
	uint64_t n = 0;
	int r;

	r = start(st, Q_TOKEN_REVOKE, &q, "ii", now_s(), id);
	if (r < 0)
		return r;
	r = finish(q, &n, NULL);
	if (r < 0)
		return r;
	return n == 0 ? -ENOENT : 0;
}

struct token_row {
	int64_t id;
	char *name;
	char *role;
	int64_t created_at;
	bool revoked;
};

static void token_row_clear(struct token_row *t)
{
	free(t->name);
	free(t->role);
	memset(t, 0, sizeof(*t));
}

int store_token_foreach(struct store *st, store_token_fn fn, void *ctx)
{
	struct token_row *rows = calloc(PAGE, sizeof(*rows));
	int64_t after = 0;
	size_t n, i;
	int r = 0;

	if (rows == NULL)
		return -ENOMEM;
	do {
		struct db_stmt *q;

		r = start(st, Q_TOKEN_PAGE, &q, "ii", after, (int64_t)PAGE);
		if (r < 0)
			break;
		for (n = 0; n < PAGE && (r = db_step(q)) == DB_ROW; n++) {
			struct token_row *t = &rows[n];

			t->id = db_column_int64(q, 0);
			t->created_at = db_column_int64(q, 3);
			t->revoked = db_column_int64(q, 4) != 0;
			if (!dup_col(q, 1, &t->name) || !dup_col(q, 2, &t->role) ||
			    t->name == NULL || t->role == NULL) {
				token_row_clear(t);
				r = -ENOMEM;
				break;
			}
		}
		db_reset(q);
		if (r < 0) {
			for (i = 0; i < n; i++)
				token_row_clear(&rows[i]);
			break;
		}
		if (n > 0)
			after = rows[n - 1].id;
		for (i = 0; i < n; i++) {
			if (r == 0)
				r = fn(rows[i].id, rows[i].name, rows[i].role, rows[i].created_at,
				       rows[i].revoked, ctx);
			token_row_clear(&rows[i]);
		}
	} while (r == 0 && n == PAGE);
	free(rows);
	return r;
}

/* --- history ------------------------------------------------------------------- */

int store_version_insert(struct store *st, int64_t zone_id, uint64_t version, uint32_t serial,
			 const char *records_json, const char *actor, const char *comment)
{
	struct db_stmt *q;
	int r;

	if (records_json == NULL)
		return -EINVAL;
	r = check_version(version);
	if (r < 0)
		return r;
	r = start(st, Q_VERSION_INSERT, &q, "iiittti", zone_id, (int64_t)version, (int64_t)serial,
		  records_json, actor, comment, now_s());
	if (r < 0)
		return r;
	return finish(q, NULL, NULL);
}

int store_audit(struct store *st, const char *actor, const char *action, int64_t zone_id,
		const char *detail)
{
	struct db_stmt *q;
	int r;

	if (action == NULL)
		return -EINVAL;
	/* zone_id 0 is "no zone": NULL, not a reference. */
	if (zone_id != 0)
		r = start(st, Q_AUDIT_INSERT, &q, "ittit", now_s(), actor, action, zone_id, detail);
	else
		r = start(st, Q_AUDIT_INSERT, &q, "itttt", now_s(), actor, action, NULL, detail);
	if (r < 0)
		return r;
	return finish(q, NULL, NULL);
}

/* --- DNSSEC ---------------------------------------------------------------- */

void store_dnssec_clear(struct store_dnssec *d)
{
	if (d == NULL)
		return;
	free(d->scheme);
	free(d->roll_kind);
	memset(d, 0, sizeof(*d));
}

int store_dnssec_get(struct store *st, int64_t zone_id, struct store_dnssec *ret)
{
	struct db_stmt *q;
	int r = start(st, Q_DNSSEC_GET, &q, "i", zone_id);
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW) {
		memset(ret, 0, sizeof(*ret));
		ret->zone_id = db_column_int64(q, 0);
		ret->enabled = db_column_int64(q, 1) != 0;
		ret->algorithm = (uint32_t)db_column_int64(q, 2);
		ret->nsec3 = db_column_int64(q, 4) != 0;
		ret->nsec3_optout = db_column_int64(q, 5) != 0;
		ret->signed_at = db_column_int64(q, 6);
		ret->updated_at = db_column_int64(q, 7);
		ret->roll_step = (uint32_t)db_column_int64(q, 9);
		ret->roll_next_at = db_column_int64(q, 10);
		ret->roll_version = (uint64_t)db_column_int64(q, 11);
		ret->roll_ds_at = db_column_int64(q, 12);
		bool ok = dup_col(q, 3, &ret->scheme) && ret->scheme != NULL;
		ok = dup_col(q, 8, &ret->roll_kind) && ret->roll_kind != NULL && ok;
		r = ok ? 0 : -ENOMEM;
		if (r < 0)
			store_dnssec_clear(ret);
	} else if (r == DB_DONE) {
		r = -ENOENT;
	}
	db_reset(q);
	return r;
}

int store_dnssec_put(struct store *st, const struct store_dnssec *d)
{
	struct db_stmt *q;
	bool own;

	if (d->scheme == NULL)
		return -EINVAL;
	int r = auto_begin(st, &own);
	if (r == 0)
		r = start(st, Q_DNSSEC_DELETE, &q, "i", d->zone_id);
	if (r == 0)
		r = finish(q, NULL, NULL);
	if (r == 0)
		r = start(st, Q_DNSSEC_INSERT, &q, "iiitiiiitiiii", d->zone_id, (int64_t)d->enabled,
			  (int64_t)d->algorithm, d->scheme, (int64_t)d->nsec3,
			  (int64_t)d->nsec3_optout, d->signed_at,
			  d->updated_at != 0 ? d->updated_at : now_s(),
			  d->roll_kind ? d->roll_kind : "", (int64_t)d->roll_step, d->roll_next_at,
			  (int64_t)d->roll_version, d->roll_ds_at);
	if (r == 0)
		r = finish(q, NULL, NULL);
	return auto_end(st, own, r);
}

int store_dnssec_delete(struct store *st, int64_t zone_id)
{
	struct db_stmt *q;
	bool own;
	int r = auto_begin(st, &own);
	if (r == 0)
		r = start(st, Q_KEY_DELETE_ZONE, &q, "i", zone_id);
	if (r == 0)
		r = finish(q, NULL, NULL);
	if (r == 0)
		r = start(st, Q_DNSSEC_DELETE, &q, "i", zone_id);
	if (r == 0)
		r = finish(q, NULL, NULL);
	return auto_end(st, own, r);
}

void store_dnssec_key_clear(struct store_dnssec_key *k)
{
	if (k == NULL)
		return;
	free(k->keytype);
	free(k->dnskey);
	if (k->private_key != NULL) {
		explicit_bzero(k->private_key, strlen(k->private_key));
		free(k->private_key);
	}
	memset(k, 0, sizeof(*k));
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): the analyzer mixes up the rows of key_foreach */
}

int store_dnssec_key_insert(struct store *st, struct store_dnssec_key *k)
{
	int64_t created = k->created_at != 0 ? k->created_at : now_s();
	struct db_stmt *q;
	int64_t id = 0;

	if (k->keytype == NULL || k->dnskey == NULL || k->private_key == NULL)
		return -EINVAL;
	int r = start(st, Q_KEY_INSERT, &q, "itiiittiii", k->zone_id, k->keytype,
		      (int64_t)k->algorithm, (int64_t)k->flags, (int64_t)k->keytag, k->dnskey,
		      k->private_key, (int64_t)k->active, (int64_t)k->published, created);
	if (r < 0)
		return r;
	r = finish(q, NULL, &id);
	if (r < 0)
		return r;
	k->id = id;
	k->created_at = created;
	return 0;
}

int store_dnssec_key_delete_zone(struct store *st, int64_t zone_id)
{
	struct db_stmt *q;
	int r = start(st, Q_KEY_DELETE_ZONE, &q, "i", zone_id);
	return r < 0 ? r : finish(q, NULL, NULL);
}

/* A zone has a handful of keys: read them all, then call 'fn'. */
#define KEYS_MAX 32

int store_dnssec_key_foreach(struct store *st, int64_t zone_id, store_dnssec_key_fn fn, void *ctx)
{
	struct store_dnssec_key rows[KEYS_MAX];
	struct db_stmt *q;
	size_t n = 0;

	int r = start(st, Q_KEY_LIST, &q, "i", zone_id);
	if (r < 0)
		return r;
	while (n < KEYS_MAX && (r = db_step(q)) == DB_ROW) {
		struct store_dnssec_key *k = &rows[n];
		/* NOLINTBEGIN(clang-analyzer-unix.Malloc): rows[n] is a fresh row, not the last one */
		memset(k, 0, sizeof(*k));
		k->id = db_column_int64(q, 0);
		/* NOLINTEND(clang-analyzer-unix.Malloc) */
		k->zone_id = db_column_int64(q, 1);
		k->algorithm = (uint32_t)db_column_int64(q, 3);
		k->flags = (uint32_t)db_column_int64(q, 4);
		k->keytag = (uint32_t)db_column_int64(q, 5);
		k->active = db_column_int64(q, 8) != 0;
		k->published = db_column_int64(q, 9) != 0;
		k->created_at = db_column_int64(q, 10);
		n++;
		bool ok = dup_col(q, 2, &k->keytype);
		ok = dup_col(q, 6, &k->dnskey) && ok;
		ok = dup_col(q, 7, &k->private_key) && ok;
		if (!ok || k->keytype == NULL || k->dnskey == NULL || k->private_key == NULL) {
			r = -ENOMEM;
			break;
		}
	}
	db_reset(q);
	if (r == DB_ROW || r == DB_DONE)
		r = 0;
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = fn(&rows[i], ctx);
		store_dnssec_key_clear(&rows[i]);
	}
	return r;
}

int store_dnssec_key_delete(struct store *st, int64_t zone_id, int64_t key_id)
{
	struct db_stmt *q;
	uint64_t n = 0;
	int r = start(st, Q_KEY_DELETE, &q, "ii", key_id, zone_id);
	if (r == 0)
		r = finish(q, &n, NULL);
	return r < 0 ? r : n == 0 ? -ENOENT : 0;
}

int store_dnssec_key_set_flags(struct store *st, int64_t zone_id, int64_t key_id, bool active,
			       bool published)
{
	struct db_stmt *q;
	uint64_t n = 0;
	int r = start(st, Q_KEY_SET_FLAGS, &q, "iiii", (int64_t)active, (int64_t)published, key_id,
		      zone_id);
	if (r == 0)
		r = finish(q, &n, NULL);
	return r < 0 ? r : n == 0 ? -ENOENT : 0;
}

int store_dnssec_foreach_rolling(struct store *st, store_id_fn fn, void *ctx)
{
	struct db_stmt *q;
	int64_t *ids = NULL;
	size_t n = 0, alloc = 0;
	int r = start(st, Q_DNSSEC_ROLLING, &q, "");
	if (r < 0)
		return r;
	while ((r = db_step(q)) == DB_ROW) {
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
