/* The store's servers (the DNS nodes) and what each node should serve and
 * has acknowledged (store.h), over store_internal.h.
 *
 * Where store.h leaves a choice open:
 * - A NULL server hostname, ip or agent_secret is stored as "", a NULL
 *   status as "unknown"; pdns_version and last_error stay NULL.
 * - store_server_update leaves created_at alone.
 * - The "want" calls never lower desired; store_sync_ack and
 *   store_sync_fail on a (server, zone) without a row are -ENOENT.
 * - store_sync_foreach_pending: limit 0 means no limit.
 * - store_sync_summary: server_id 0 sums over every node; "failing" are
 *   the behind rows with attempts > 0; rows of zones gone from
 *   dns_zones (purged) are not counted.
 * - store_sync_all_acked and store_sync_node_acked: a node without a row
 *   has not acknowledged, unless the zone is gone: a purged zone (every
 *   node confirmed its delete first) counts as acknowledged, so a caller
 *   waiting for a delete sees it done even when the purge came first.
 * - store_sync_reset creates the row when missing, raises desired to the
 *   zone's version, and, like store_sync_reset_server, makes the row due
 *   at once (next_attempt_ms = 0; attempts and last_error stay). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

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

static int row_server(struct db_stmt *q, void *row)
{
	struct store_server *s = row;
	bool ok;

	memset(s, 0, sizeof(*s));
	s->id = db_column_int64(q, 0);
	s->agent_port = (uint32_t)db_column_int64(q, 4);
	s->in_cluster = db_column_int64(q, 6) != 0;
	s->last_seen = db_column_int64(q, 10);
	s->created_at = db_column_int64(q, 11);
	ok = store_col_dup(q, 1, &s->name);
	ok = store_col_dup(q, 2, &s->hostname) && ok;
	ok = store_col_dup(q, 3, &s->ip) && ok;
	ok = store_col_dup(q, 5, &s->agent_secret) && ok;
	ok = store_col_dup(q, 7, &s->status) && ok;
	ok = store_col_dup(q, 8, &s->pdns_version) && ok;
	ok = store_col_dup(q, 9, &s->last_error) && ok;
	if (!ok) {
		store_server_clear(s);
		return -ENOMEM;
	}
	return 0;
}

int store_server_insert(struct store *st, struct store_server *s)
{
	int64_t created = s->created_at != 0 ? s->created_at : store_now();
	struct db_stmt *q;
	int64_t id = 0;
	int r;

	if (s->name == NULL || s->name[0] == '\0')
		return -EINVAL;
	r = store_stmt(st, Q_SERVER_INSERT, &q, "tttititttii", s->name, or_empty(s->hostname),
		       or_empty(s->ip), (int64_t)s->agent_port, or_empty(s->agent_secret),
		       (int64_t)s->in_cluster, or_unknown(s->status), s->pdns_version,
		       s->last_error, s->last_seen, created);
	if (r < 0)
		return r;
	r = store_run(q, NULL, &id);
	if (r < 0)
		return r;
	s->id = id;
	s->created_at = created;
	return 0;
}

int store_server_update(struct store *st, const struct store_server *s)
{

	if (s->name == NULL || s->name[0] == '\0')
		return -EINVAL;
	return store_exec_changed(
	    st, Q_SERVER_UPDATE, "tttititttii", s->name, or_empty(s->hostname), or_empty(s->ip),
	    (int64_t)s->agent_port, or_empty(s->agent_secret), (int64_t)s->in_cluster,
	    or_unknown(s->status), s->pdns_version, s->last_error, s->last_seen, s->id);
}

int store_server_get(struct store *st, int64_t id, struct store_server *ret)
{
	struct db_stmt *q;
	int r = store_stmt(st, Q_SERVER_GET, &q, "i", id);

	return r < 0 ? r : store_run_row(q, row_server, ret);
}

int store_server_delete(struct store *st, int64_t id)
{
	struct db_stmt *q;
	uint64_t n = 0;
	bool own;
	int r;

	r = store_auto_begin(st, &own);
	if (r < 0)
		return r;
	/* The foreign key cascades too; this does not depend on it. */
	r = store_exec(st, Q_SERVER_DELETE_STATE, "i", id);
	if (r == 0)
		r = store_stmt(st, Q_SERVER_DELETE, &q, "i", id);
	if (r == 0)
		r = store_run(q, &n, NULL);
	if (r == 0 && n == 0)
		r = -ENOENT;
	return store_auto_end(st, own, r);
}

int store_sync_held(struct store *st, int64_t server_id, uint64_t *ret)
{
	struct db_stmt *q;
	int64_t n = 0;
	int r = store_stmt(st, Q_SYNC_HELD, &q, "i", server_id);
	if (r == 0)
		r = store_run_int(q, &n);
	if (r == 0)
		*ret = (uint64_t)n;
	return r;
}

int store_sync_forget_server(struct store *st, int64_t server_id)
{
	return store_exec(st, Q_SERVER_DELETE_STATE, "i", server_id);
}

STORE_ROWS(server, struct store_server, row_server, store_server_clear, store_server_fn);

int store_server_foreach(struct store *st, bool cluster_only, store_server_fn fn, void *ctx)
{
	return store_walk(st, cluster_only ? Q_SERVER_PAGE_CLUSTER : Q_SERVER_PAGE, NULL, 0,
			  &server_rows, (store_fn)fn, ctx);
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
	int r;

	r = store_check_version(version);
	if (r < 0)
		return r;
	return store_exec(st, Q_SYNC_WANT_ALL, "iiii", zone_id, (int64_t)version,
			  (int64_t)(version > 0), store_now());
}

/* 0 when server 'id' exists, else -ENOENT. */
static int server_exists(struct store *st, int64_t id)
{
	struct db_stmt *q;
	int64_t found = 0;
	int r = store_stmt(st, Q_SERVER_EXISTS, &q, "i", id);

	return r < 0 ? r : store_run_int(q, &found);
}

int store_sync_want_server(struct store *st, int64_t server_id)
{
	int r = server_exists(st, server_id);

	return r < 0 ? r : store_exec(st, Q_SYNC_WANT_SERVER, "ii", server_id, store_now());
}

int store_sync_ack(struct store *st, int64_t server_id, int64_t zone_id, uint64_t applied)
{
	int r;

	r = store_check_version(applied);
	if (r < 0)
		return r;
	return store_exec_changed(st, Q_SYNC_ACK, "iiiii", (int64_t)applied, (int64_t)applied,
				  store_now(), server_id, zone_id);
}

int store_sync_fail(struct store *st, int64_t server_id, int64_t zone_id, const char *error,
		    uint32_t attempts, int64_t next_attempt_ms)
{
	return store_exec_changed(st, Q_SYNC_FAIL, "tiiiii",
				  error != NULL ? error : "unknown error", (int64_t)attempts,
				  next_attempt_ms, store_now(), server_id, zone_id);
}

/* True when zone 'id' no longer exists: a purged tombstone, which every
 * node confirmed before it was purged (store_zone_purge's precondition). */
static int zone_gone(struct store *st, int64_t id, bool *ret)
{
	struct db_stmt *q;
	int64_t found = 0;
	int r;

	r = store_stmt(st, Q_ZONE_EXISTS, &q, "i", id);
	if (r == 0)
		r = store_run_int(q, &found);
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

	r = store_check_version(applied);
	if (r < 0)
		return r;
	/* An unknown server fails on its foreign key; an unknown zone would
	 * just insert nothing. */
	r = store_stmt(st, Q_ZONE_EXISTS, &q, "i", zone_id);
	if (r == 0)
		r = store_run_int(q, &found);
	if (r == 0)
		r = store_exec(st, Q_SYNC_RESET, "iiiii", server_id, (int64_t)applied,
			       (int64_t)applied, store_now(), zone_id);
	return r;
}

int store_sync_reset_server(struct store *st, int64_t server_id)
{
	int r = server_exists(st, server_id);

	return r < 0 ? r : store_exec(st, Q_SYNC_RESET_SERVER, "ii", store_now(), server_id);
}

int store_sync_node_acked(struct store *st, int64_t server_id, int64_t zone_id, uint64_t version,
			  bool *ret)
{
	struct db_stmt *q;
	int64_t applied = 0;
	int r;

	r = store_check_version(version);
	if (r < 0)
		return r;
	r = store_stmt(st, Q_SYNC_NODE_APPLIED, &q, "ii", server_id, zone_id);
	if (r == 0)
		r = store_run_int(q, &applied);
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
	if (!store_col_dup(q, 6, &s->last_error))
		return -ENOMEM;
	return 0;
}

int store_sync_foreach_pending(struct store *st, int64_t server_id, int64_t now_ms,
			       int64_t horizon_ms, unsigned limit, store_sync_fn fn, void *ctx)
{
	int64_t due = now_ms != 0 ? now_ms : INT64_MAX;
	int64_t beyond = now_ms != 0 && horizon_ms >= 0 && now_ms < INT64_MAX - horizon_ms
			     ? now_ms + horizon_ms
			     : INT64_MAX;
	int64_t max = limit != 0 ? (int64_t)limit : INT64_MAX;
	struct store_sync *rows = NULL, *grown;
	size_t n = 0, cap = 0, i;
	struct db_stmt *q;
	int r;

	/* The whole answer is read before 'fn' runs: 'fn' typically acks or
	 * fails rows, which moves them in this very ordering. */
	if (server_id != 0)
		r = store_stmt(st, Q_SYNC_PENDING_SERVER, &q, "iiii", server_id, due, beyond, max);
	else
		r = store_stmt(st, Q_SYNC_PENDING, &q, "iii", due, beyond, max);
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
		r = store_stmt(st, Q_SYNC_SUMMARY_BEHIND, &q, "i", server_id);
	else if (server_id != 0)
		r = store_stmt(st, Q_SYNC_SUMMARY_SERVER, &q, "i", server_id);
	else
		r = store_stmt(st, Q_SYNC_SUMMARY, &q, "");
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW) {
		total = db_column_int64(q, 0);
		sum.behind = (uint64_t)db_column_int64(q, 1);
		sum.failing = (uint64_t)db_column_int64(q, 2);
		sum.oldest_pending = db_column_int64(q, 3);
		sum.deletes = (uint64_t)db_column_int64(q, 4);
		if (behind_only)
			total = (int64_t)*live;
		sum.in_sync = (uint64_t)total > sum.behind ? (uint64_t)total - sum.behind : 0;
		r = 0;
	}
	db_reset(q);
	if (r < 0)
		return r;
	if (server_id != 0)
		r = store_stmt(st, Q_SYNC_LAST_ERROR_SERVER, &q, "i", server_id);
	else
		r = store_stmt(st, Q_SYNC_LAST_ERROR, &q, "");
	if (r < 0)
		return r;
	r = db_step(q);
	if (r == DB_ROW)
		r = store_col_dup(q, 0, &sum.last_error) ? 0 : -ENOMEM;
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

	r = store_check_version(version);
	if (r < 0)
		return r;
	r = store_stmt(st, Q_SYNC_NOT_ACKED, &q, "ii", zone_id, (int64_t)version);
	if (r == 0)
		r = store_run_int(q, &behind);
	if (r < 0)
		return r;
	if (behind == 0) {
		*ret = true;
		return 0;
	}
	/* Nodes without rows: a purged zone has none, and counts as done. */
	return zone_gone(st, zone_id, ret);
}
