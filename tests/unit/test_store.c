/* Unit tests for src/lib/store: the controller's store, run once per driver.
 *
 * Every test function runs against SQLite in a fresh mkdtemp directory and,
 * when YUMNA_TEST_MYSQL_HOST, _PORT, _USER, _PASSWORD and _DATABASE are set,
 * again against that MariaDB/MySQL database (its tables are dropped before
 * each test; give the suite a database of its own). Each test opens and
 * closes its store itself: the store and its drivers are built with
 * test_alloc.h, so a block a test leaves behind fails it by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>

#include <sqlite3.h>

#include "base/err.h"
#include "store/schema.h"
#include "store/queries.h"
#include "store/store.h"

/* --- a VFS that counts syncs of WAL files -------------------------------------- */

/* Installed as SQLite's default VFS for the whole program: it opens files
 * through the real one and, for WAL files, counts xSync calls. */
static sqlite3_vfs count_vfs;
static sqlite3_io_methods count_wal_methods;
static const sqlite3_io_methods *real_wal_methods;
static atomic_int wal_syncs;
static atomic_int wal_sync_delay_us; /* a slow disk, for the group commit test */

static int count_wal_sync(sqlite3_file *f, int flags)
{
	atomic_fetch_add(&wal_syncs, 1);
	if (atomic_load(&wal_sync_delay_us) > 0)
		usleep((useconds_t)atomic_load(&wal_sync_delay_us));
	return real_wal_methods->xSync(f, flags);
}

static int count_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	sqlite3_vfs *real = vfs->pAppData;
	int rc = real->xOpen(real, name, f, flags, out);
	if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) && f->pMethods != NULL) {
		if (real_wal_methods == NULL) {
			real_wal_methods = f->pMethods;
			count_wal_methods = *f->pMethods;
			count_wal_methods.xSync = count_wal_sync;
		}
		if (f->pMethods == real_wal_methods)
			f->pMethods = &count_wal_methods;
	}
	return rc;
}

static void install_count_vfs(void)
{
	sqlite3_vfs *real = sqlite3_vfs_find(NULL);
	count_vfs = *real;
	count_vfs.zName = "count";
	count_vfs.pAppData = real;
	count_vfs.xOpen = count_open;
	sqlite3_vfs_register(&count_vfs, 1);
}

struct fx {
	bool mysql;
	char dir[PATH_MAX];
	char path[PATH_MAX];
	struct store_conf conf;
	struct store *st;
};

static struct fx fx_sqlite, fx_mysql;

/* --- fixtures ------------------------------------------------------------- */

static int setup_sqlite(void **state)
{
	struct fx *f = &fx_sqlite;
	const char *tmp = getenv("TMPDIR");

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/test_store.XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if (snprintf(f->path, sizeof(f->path), "%s/whm.db", f->dir) >= (int)sizeof(f->path))
		return -1;
	f->conf.driver = "sqlite";
	f->conf.path = f->path;
	*state = f;
	return 0;
}

static int teardown_sqlite(void **state)
{
	struct fx *f = *state;
	struct dirent *e;
	char p[PATH_MAX + 300];
	DIR *d;

	store_close(f->st);
	f->st = NULL;
	d = opendir(f->dir);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	return 0;
}

static bool mysql_configured(void)
{
	return getenv("YUMNA_TEST_MYSQL_HOST") != NULL &&
	       getenv("YUMNA_TEST_MYSQL_DATABASE") != NULL &&
	       getenv("YUMNA_TEST_MYSQL_USER") != NULL;
}

static const char *const all_tables[] = {
	"dns_rrset_policies",
	"dns_secondary_zones",
	"dns_rrset_comments",
	"dns_zone_meta",
	"dnssec_keys",
	"dnssec_zones",
	"node_zone_state",
	"dns_records",
	"dns_zone_versions",
	"audit_log",
	"api_tokens",
	"dns_zones",
	"servers",
	"dns_purged_zones",
	"schema_migrations",
	"tsig_keys",
	"update_policies",
	"dns_zone_transfers",
};

static int setup_mysql(void **state)
{
	struct fx *f = &fx_mysql;
	const char *port = getenv("YUMNA_TEST_MYSQL_PORT");
	char sql[128];
	struct errmsg err;
	struct db *db;
	size_t i;

	memset(f, 0, sizeof(*f));
	f->mysql = true;
	f->conf.driver = "mysql";
	f->conf.host = getenv("YUMNA_TEST_MYSQL_HOST");
	f->conf.port = port != NULL ? (unsigned)strtoul(port, NULL, 10) : 3306;
	f->conf.user = getenv("YUMNA_TEST_MYSQL_USER");
	f->conf.password = getenv("YUMNA_TEST_MYSQL_PASSWORD");
	f->conf.database = getenv("YUMNA_TEST_MYSQL_DATABASE");
	/* A fresh, empty database for every test. */
	if (store_db_open(&f->conf, &db, &err) < 0) {
		fprintf(stderr, "mysql: %s\n", err.text);
		return -1;
	}
	for (i = 0; i < sizeof(all_tables) / sizeof(all_tables[0]); i++) {
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", all_tables[i]);
		if (db_exec(db, sql) < 0) {
			fprintf(stderr, "mysql: %s: %s\n", sql, db->err);
			db_close(db);
			return -1;
		}
	}
	db_close(db);
	*state = f;
	return 0;
}

static int teardown_mysql(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	f->st = NULL;
	return 0;
}

static struct store *fx_open(struct fx *f)
{
	struct errmsg err;
	int r;

	r = store_open(&f->conf, &f->st, &err);
	if (r < 0)
		fail_msg("store_open: %s (%s)", err.text, err_str(r));
	return f->st;
}

static void fx_close(struct fx *f)
{
	store_close(f->st);
	f->st = NULL;
}

/* One integer from 'sql' over a connection of its own (a raw look at what
 * the store wrote, committed). */
static int64_t raw_int(struct fx *f, const char *sql)
{
	struct errmsg err;
	struct db_stmt *s;
	struct db *db;
	int64_t v = -1;
	int r;

	if (store_db_open(&f->conf, &db, &err) < 0)
		fail_msg("store_db_open: %s", err.text);
	r = db_prepare(db, sql, &s);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", sql, db->err);
		db_close(db);
		fail_msg("raw_int failed");
	}
	if (db_step(s) == DB_ROW)
		v = db_column_int64(s, 0);
	db_reset(s);
	db_finalize(s);
	db_close(db);
	return v;
}

static void raw_exec(struct fx *f, const char *sql)
{
	struct errmsg err;
	struct db *db;
	int r;

	if (store_db_open(&f->conf, &db, &err) < 0)
		fail_msg("store_db_open: %s", err.text);
	r = db_exec(db, sql);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", sql, db->err);
		db_close(db);
		fail_msg("raw_exec failed");
	}
	db_close(db);
}

/* --- builders --------------------------------------------------------------- */

static int64_t add_server(struct store *st, const char *name, bool in_cluster)
{
	struct store_server s = {
		.name = (char *)name,
		.hostname = (char *)"ns.example.net",
		.ip = (char *)"192.0.2.1",
		.agent_port = 8053,
		.agent_secret = (char *)"s3cret",
		.in_cluster = in_cluster,
		.status = (char *)"online",
	};

	assert_int_equal(store_server_insert(st, &s), 0);
	assert_true(s.id > 0);
	return s.id;
}

static int64_t add_zone(struct store *st, const char *domain, uint64_t version)
{
	struct store_zone z = {
		.domain = (char *)domain,
		.user_id = 7,
		.server_id = 1,
		.version = version,
		.serial = 2024010101,
	};

	assert_int_equal(store_zone_insert(st, &z), 0);
	assert_true(z.id > 0);
	return z.id;
}

static void add_version(struct store *st, int64_t zone, uint64_t version, int64_t at,
			const char *action)
{
	struct store_version v = {
		.zone_id = zone,
		.version = version,
		.serial = 2024010100 + (uint32_t)version,
		.created_at = at,
		.actor = (char *)"ops",
		.action = (char *)action,
		.summary = (char *)"a change",
		.record_count = 1,
		.records = (char *)"[[\"@\",\"A\",300,\"192.0.2.1\"]]",
	};
	assert_int_equal(store_version_insert(st, &v), 0);
}

static int64_t add_record(struct store *st, int64_t zone_id, const char *name, const char *content)
{
	struct store_record r = {
		.zone_id = zone_id,
		.name = (char *)name,
		.type = (char *)"A",
		.content = (char *)content,
		.ttl = 300,
	};

	assert_int_equal(store_record_insert(st, &r), 0);
	assert_true(r.id > 0);
	return r.id;
}

/* Collects what a pending walk hands out. */
struct pending {
	size_t n;
	struct {
		int64_t server_id, zone_id;
		uint64_t desired, applied;
		uint32_t attempts;
		int64_t next_attempt_ms;
		char last_error[64];
	} row[32];
};

static int collect_pending(const struct store_sync *s, void *ctx)
{
	struct pending *p = ctx;

	assert_true(p->n < 32);
	p->row[p->n].server_id = s->server_id;
	p->row[p->n].zone_id = s->zone_id;
	p->row[p->n].desired = s->desired;
	p->row[p->n].applied = s->applied;
	p->row[p->n].attempts = s->attempts;
	p->row[p->n].next_attempt_ms = s->next_attempt_ms;
	snprintf(p->row[p->n].last_error, sizeof(p->row[p->n].last_error), "%s",
		 s->last_error != NULL ? s->last_error : "");
	p->n++;
	return 0;
}

/* The index of the row for (server, zone); fails the test when absent. */
static size_t row_of(const struct pending *p, int64_t server_id, int64_t zone_id)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->row[i].server_id == server_id && p->row[i].zone_id == zone_id)
			return i;
	fail_msg("no pending row for server %lld zone %lld", (long long)server_id,
		 (long long)zone_id);
	return 0;
}

static struct pending pending_within(struct store *st, int64_t server_id, int64_t now_ms,
				     int64_t horizon_ms, unsigned limit)
{
	struct pending p = { 0 };

	assert_int_equal(store_sync_foreach_pending(st, server_id, now_ms, horizon_ms, limit,
						    collect_pending, &p),
			 0);
	return p;
}

struct audit_walk {
	int64_t id[16];
	char action[16][32];
	size_t n;
};

static int walk_audit(const struct store_audit_entry *e, void *ctx)
{
	struct audit_walk *w = ctx;
	if (w->n < 16) {
		w->id[w->n] = e->id;
		snprintf(w->action[w->n], sizeof(w->action[0]), "%s", e->action);
		w->n++;
	}
	return 0;
}

static size_t audit_of(struct store *st, const struct store_audit_filter *f, struct audit_walk *w)
{
	memset(w, 0, sizeof(*w));
	assert_int_equal(store_audit_foreach(st, f, walk_audit, w), 0);
	return w->n;
}

/* Without a horizon: a row is due at its next_attempt_ms, however far. */
static struct pending pending(struct store *st, int64_t server_id, int64_t now_ms, unsigned limit)
{
	return pending_within(st, server_id, now_ms, -1, limit);
}

/* --- open, migrations, transactions ----------------------------------------- */

static void test_migrations_idempotent_on_reopen(void **state)
{
	struct fx *f = *state;

	fx_open(f);
	fx_close(f);
	fx_open(f);
	add_server(f->st, "ns1", true);
	fx_close(f);
	fx_open(f);
	fx_close(f);
	/* 1 to 18. */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM schema_migrations"), 18);
	assert_int_equal(raw_int(f, "SELECT MAX(version) FROM schema_migrations"), 18);
	assert_true(raw_int(f, "SELECT MIN(applied_at) FROM schema_migrations") > 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM servers"), 1);
}

/* A store from before migration 5 (its columns and indexes taken away
 * again): opening it adds them and names the zone of its audit entries.
 * Migration 6 stays recorded, as in a store made by a build that had the
 * zone SOA before the history: 5 is applied although 6 is newer. */
static void test_migration_5_names_old_audit_entries(void **state)
{
	static const char *const indexes[] = { "idx_audit_zone_name", "idx_audit_actor",
					       "idx_audit_action", "idx_audit_created" };
	static const char *const columns[] = {
		"audit_log DROP COLUMN zone",
		"audit_log DROP COLUMN version",
		"dns_zone_versions DROP COLUMN action",
		"dns_zone_versions DROP COLUMN summary",
		"dns_zone_versions DROP COLUMN rdigest",
		"dns_zone_versions DROP COLUMN deleted",
		"dns_zone_versions DROP COLUMN record_count",
	};
	struct fx *f = *state;
	char sql[256];
	int64_t z;

	fx_open(f);
	z = add_zone(f->st, "old.example.", 3);
	fx_close(f);
	for (size_t i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++) {
		snprintf(sql, sizeof(sql),
			 f->mysql ? "DROP INDEX %s ON audit_log" : "DROP INDEX %s", indexes[i]);
		raw_exec(f, sql);
	}
	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++) {
		snprintf(sql, sizeof(sql), "ALTER TABLE %s", columns[i]);
		raw_exec(f, sql);
	}
	raw_exec(f, "DELETE FROM schema_migrations WHERE version = 5");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO audit_log (created_at, actor, action, zone_id, detail)"
		 " VALUES (1, 'token:1', 'zone.create', %lld, 'old.example.')",
		 (long long)z);
	raw_exec(f, sql);
	raw_exec(
	    f, "INSERT INTO audit_log (created_at, actor, action) VALUES (2, 'x', 'token.create')");

	fx_open(f);
	struct store_audit_filter q = { .zone = "old.example.", .limit = 10 };
	struct audit_walk w;
	assert_int_equal(audit_of(f->st, &q, &w), 1);
	assert_string_equal(w.action[0], "zone.create");
	add_version(f->st, z, 3, 0, "record.create");
	fx_close(f);
	assert_int_equal(raw_int(f, "SELECT MAX(version) FROM schema_migrations"), 18);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM schema_migrations WHERE version = 5"), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM audit_log WHERE zone IS NULL"), 1);
}

/* A store from before migration 18 with a rollover in progress: the step
 * keeps its deadline, and its wait is the one that deadline was counted
 * with (from the row's last write, when the step began); a zone not rolling
 * gets no wait. */
static void test_migration_18_keeps_the_wait_of_a_rollover(void **state)
{
	struct fx *f = *state;
	struct store_dnssec d = { .enabled = true, .algorithm = 13, .scheme = (char *)"csk" };
	struct store_dnssec got;

	fx_open(f);
	d.zone_id = add_zone(f->st, "rolling.example.", 3);
	d.updated_at = 1800000000;
	d.roll_kind = (char *)"csk";
	d.roll_step = 1;
	d.roll_next_at = 1800003601;
	d.roll_version = 3;
	assert_int_equal(store_dnssec_put(f->st, &d), 0);
	int64_t idle = add_zone(f->st, "idle.example.", 1);
	struct store_dnssec i = { .zone_id = idle, .enabled = true, .algorithm = 13 };
	i.scheme = (char *)"csk";
	i.updated_at = 1800000000;
	assert_int_equal(store_dnssec_put(f->st, &i), 0);
	fx_close(f);
	raw_exec(f, "ALTER TABLE dnssec_zones DROP COLUMN roll_wait");
	raw_exec(f, "DELETE FROM schema_migrations WHERE version = 18");

	fx_open(f);
	assert_int_equal(store_dnssec_get(f->st, d.zone_id, &got), 0);
	assert_int_equal(got.roll_next_at, 1800003601);
	assert_int_equal(got.roll_wait, 3601);
	store_dnssec_clear(&got);
	assert_int_equal(store_dnssec_get(f->st, idle, &got), 0);
	assert_int_equal(got.roll_wait, 0);
	store_dnssec_clear(&got);
	fx_close(f);
}

/* Transfer settings: a zone's own row, the default (row 0), and the live
 * zones that follow the default. */
static int collect_xfr_id(int64_t id, void *ctx)
{
	int64_t *got = ctx;
	got[++got[0]] = id;
	return 0;
}

static void test_xfr_settings_per_zone_and_default(void **state)
{
	struct fx *f = *state;
	char *allow = NULL, *notify = NULL;
	int64_t got[8] = { 0 };

	fx_open(f);
	int64_t a = add_zone(f->st, "a.example.", 1), b = add_zone(f->st, "b.example.", 1);
	assert_int_equal(store_xfr_get(f->st, a, &allow, &notify), -ENOENT);
	assert_int_equal(store_xfr_put(f->st, 0, "[]", "[\"192.0.2.1\"]", 1), 0);
	assert_int_equal(store_xfr_put(f->st, a, "[{\"from\":\"192.0.2.0/24\"}]", "[]", 1), 0);
	assert_int_equal(store_xfr_put(f->st, a, "[]", "[\"192.0.2.2\"]", 2), 0);
	assert_int_equal(store_xfr_get(f->st, a, &allow, &notify), 0);
	assert_string_equal(allow, "[]");
	assert_string_equal(notify, "[\"192.0.2.2\"]");
	free(allow);
	free(notify);
	assert_int_equal(store_xfr_foreach_default(f->st, collect_xfr_id, got), 0);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], b);
	assert_int_equal(store_xfr_delete(f->st, a), 0);
	assert_int_equal(store_xfr_get(f->st, a, &allow, &notify), -ENOENT);
	assert_int_equal(store_xfr_get(f->st, 0, &allow, &notify), 0);
	free(allow);
	free(notify);
	fx_close(f);
}

/* Every query the enum names has its SQL (a missing one is NULL). */
static void test_every_query_has_its_sql(void **state)
{
	(void)state;
	for (int q = 0; q < Q_COUNT; q++)
		assert_non_null(store_query_sql[q]);
}

static void test_newer_schema_is_refused(void **state)
{
	struct fx *f = *state;
	struct errmsg err;
	struct store *st = NULL;

	fx_open(f);
	fx_close(f);
	raw_exec(f, "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 1)");
	assert_int_equal(store_open(&f->conf, &st, &err), ERR_CONFIG);
	assert_null(st);
	assert_non_null(strstr(err.text, "999"));
}

static void test_unknown_driver_is_refused(void **state)
{
	struct store_conf conf = { .driver = "oracle" };
	struct errmsg err;
	struct store *st = NULL;

	(void)state;
	assert_int_equal(store_open(&conf, &st, &err), ERR_CONFIG);
	assert_null(st);
	assert_non_null(strstr(err.text, "oracle"));
}

static void test_commit_survives_reopen(void **state)
{
	struct fx *f = *state;
	struct store_zone z;
	struct store_record r;
	int64_t zid, rid;

	fx_open(f);
	assert_int_equal(store_begin(f->st), 0);
	zid = add_zone(f->st, "example.com.", 1);
	rid = add_record(f->st, zid, "www", "192.0.2.7");
	assert_int_equal(store_commit(f->st), 0);
	fx_close(f);

	fx_open(f);
	assert_int_equal(store_zone_get(f->st, zid, &z), 0);
	assert_string_equal(z.domain, "example.com.");
	store_zone_clear(&z);
	assert_int_equal(store_record_get(f->st, rid, &r), 0);
	assert_string_equal(r.content, "192.0.2.7");
	store_record_clear(&r);
	fx_close(f);
}

static void test_rollback_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct store_zone z;
	uint64_t zones = 9, records = 9;
	int64_t zid;

	fx_open(f);
	/* Safe without a transaction. */
	store_rollback(f->st);
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_begin(f->st), -EBUSY);
	zid = add_zone(f->st, "rolled.example.", 1);
	add_record(f->st, zid, "@", "192.0.2.1");
	add_server(f->st, "ns-rolled", true);
	store_rollback(f->st);
	store_rollback(f->st);
	assert_int_equal(store_zone_get(f->st, zid, &z), -ENOENT);
	assert_int_equal(store_zone_counts(f->st, &zones, &records), 0);
	assert_int_equal(zones, 0);
	assert_int_equal(records, 0);
	assert_int_equal(store_commit(f->st), -EINVAL);
	fx_close(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM servers"), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM dns_zones"), 0);
}

/* A store closed with a transaction open rolls it back. */
static void test_close_rolls_back(void **state)
{
	struct fx *f = *state;

	fx_open(f);
	assert_int_equal(store_begin(f->st), 0);
	add_server(f->st, "ns-open", true);
	fx_close(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM servers"), 0);
}

/* --- servers ------------------------------------------------------------------ */

struct walk {
	size_t n;
	int64_t ids[600];
	int stop_at;
	struct store *st;
};

static int walk_server(const struct store_server *s, void *ctx)
{
	struct walk *w = ctx;

	w->ids[w->n++] = s->id;
	return w->stop_at != 0 && (int)w->n == w->stop_at ? 42 : 0;
}

static void test_server_crud(void **state)
{
	struct fx *f = *state;
	struct store_server s = { 0 }, got;
	struct walk w = { 0 };
	int64_t a, b, c;

	fx_open(f);
	a = add_server(f->st, "ns1", true);
	b = add_server(f->st, "ns2", false);
	c = add_server(f->st, "ns3", true);
	assert_true(a < b && b < c);

	assert_int_equal(store_server_get(f->st, a, &got), 0);
	assert_int_equal(got.id, a);
	assert_string_equal(got.name, "ns1");
	assert_string_equal(got.hostname, "ns.example.net");
	assert_string_equal(got.ip, "192.0.2.1");
	assert_int_equal(got.agent_port, 8053);
	assert_string_equal(got.agent_secret, "s3cret");
	assert_true(got.in_cluster);
	assert_string_equal(got.status, "online");
	assert_null(got.pdns_version);
	assert_null(got.last_error);
	assert_true(got.created_at > 0);

	/* Update every column. */
	free(got.status);
	got.status = strdup("offline");
	got.pdns_version = strdup("4.7.3");
	got.last_error = strdup("connection refused");
	got.last_seen = 1700000000;
	got.agent_port = 9053;
	got.in_cluster = false;
	assert_int_equal(store_server_update(f->st, &got), 0);
	store_server_clear(&got);
	assert_int_equal(store_server_get(f->st, a, &got), 0);
	assert_string_equal(got.status, "offline");
	assert_string_equal(got.pdns_version, "4.7.3");
	assert_string_equal(got.last_error, "connection refused");
	assert_int_equal(got.last_seen, 1700000000);
	assert_int_equal(got.agent_port, 9053);
	assert_false(got.in_cluster);

	/* Unique names, on insert and on update. */
	s.name = (char *)"ns2";
	assert_int_equal(store_server_insert(f->st, &s), ERR_CONFLICT);
	assert_int_equal(s.id, 0);
	free(got.name);
	got.name = strdup("ns3");
	assert_int_equal(store_server_update(f->st, &got), ERR_CONFLICT);
	got.id = 99999;
	free(got.name);
	got.name = strdup("ns99");
	assert_int_equal(store_server_update(f->st, &got), -ENOENT);
	store_server_clear(&got);
	store_server_clear(&got);
	assert_int_equal(store_server_get(f->st, 99999, &got), -ENOENT);
	s.name = NULL;
	assert_int_equal(store_server_insert(f->st, &s), -EINVAL);

	/* Walks in id order; cluster_only; the callback's stop value. */
	assert_int_equal(store_server_foreach(f->st, false, walk_server, &w), 0);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.ids[0], a);
	assert_int_equal(w.ids[1], b);
	assert_int_equal(w.ids[2], c);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_server_foreach(f->st, true, walk_server, &w), 0);
	assert_int_equal(w.n, 1); /* ns1 left the cluster above */
	assert_int_equal(w.ids[0], c);
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	assert_int_equal(store_server_foreach(f->st, false, walk_server, &w), 42);
	assert_int_equal(w.n, 2);

	assert_int_equal(store_server_delete(f->st, b), 0);
	assert_int_equal(store_server_delete(f->st, b), -ENOENT);
	assert_int_equal(store_server_get(f->st, b, &got), -ENOENT);
	fx_close(f);
}

/* --- zones ---------------------------------------------------------------------- */

static int walk_zone(const struct store_zone *z, void *ctx)
{
	struct walk *w = ctx;

	w->ids[w->n++] = z->id;
	return 0;
}

static void test_zone_crud(void **state)
{
	struct fx *f = *state;
	struct store_zone z = { 0 }, got;
	struct walk w = { 0 };
	uint64_t zones, records;
	int64_t a, b;

	fx_open(f);
	a = add_zone(f->st, "example.com.", 1);
	b = add_zone(f->st, "example.org.", 1);
	add_record(f->st, a, "@", "192.0.2.1");
	add_record(f->st, a, "www", "192.0.2.2");
	add_record(f->st, b, "@", "192.0.2.3");

	z.domain = (char *)"example.com.";
	z.version = 1;
	assert_int_equal(store_zone_insert(f->st, &z), ERR_CONFLICT);
	assert_int_equal(z.id, 0);

	assert_int_equal(store_zone_get(f->st, a, &got), 0);
	assert_string_equal(got.domain, "example.com.");
	assert_int_equal(got.user_id, 7);
	assert_int_equal(got.server_id, 1);
	assert_int_equal(got.version, 1);
	assert_int_equal(got.serial, 2024010101);
	assert_false(got.deleted);
	assert_false(got.dnssec);
	assert_true(got.created_at > 0 && got.updated_at > 0);

	got.version = 2;
	got.serial = 4000000000u; /* above INT32_MAX: the full uint32 range survives */
	got.dnssec = true;
	got.user_id = 8;
	got.server_id = 3;
	got.updated_at = 1800000000;
	assert_int_equal(store_zone_update(f->st, &got), 0);
	store_zone_clear(&got);
	assert_int_equal(store_zone_get_by_name(f->st, "example.com.", &got), 0);
	assert_int_equal(got.id, a);
	assert_int_equal(got.version, 2);
	assert_int_equal(got.serial, 4000000000u);
	assert_true(got.dnssec);
	assert_int_equal(got.user_id, 8);
	assert_int_equal(got.server_id, 3);
	assert_int_equal(got.updated_at, 1800000000);
	got.id = 99999;
	assert_int_equal(store_zone_update(f->st, &got), -ENOENT);
	store_zone_clear(&got);
	assert_int_equal(store_zone_get(f->st, 99999, &got), -ENOENT);
	assert_int_equal(store_zone_get_by_name(f->st, "nope.example.", &got), -ENOENT);

	assert_int_equal(store_zone_counts(f->st, &zones, &records), 0);
	assert_int_equal(zones, 2);
	assert_int_equal(records, 3);
	assert_int_equal(store_record_count(f->st, a, &records), 0);
	assert_int_equal(records, 2);
	assert_int_equal(store_record_count(f->st, b, &records), 0);
	assert_int_equal(records, 1);
	assert_int_equal(store_record_count(f->st, 99999, &records), 0);
	assert_int_equal(records, 0);
	/* A walk from an id starts after it. */
	assert_int_equal(store_zone_foreach_after(f->st, false, a, walk_zone, &w), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.ids[0], b);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_zone_foreach_after(f->st, false, b, walk_zone, &w), 0);
	assert_int_equal(w.n, 0);

	/* A tombstone leaves the counts and the default walk. */
	assert_int_equal(store_zone_get(f->st, b, &got), 0);
	got.deleted = true;
	got.version++;
	assert_int_equal(store_zone_update(f->st, &got), 0);
	store_zone_clear(&got);
	assert_int_equal(store_zone_counts(f->st, &zones, &records), 0);
	assert_int_equal(zones, 1);
	assert_int_equal(records, 2);
	assert_int_equal(store_zone_foreach(f->st, false, walk_zone, &w), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.ids[0], a);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_zone_foreach(f->st, true, walk_zone, &w), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.ids[0], a);
	assert_int_equal(w.ids[1], b);
	/* get_by_name sees tombstones too. */
	assert_int_equal(store_zone_get_by_name(f->st, "example.org.", &got), 0);
	assert_true(got.deleted);
	store_zone_clear(&got);
	fx_close(f);
}

static void test_zone_prefix_walk_finds_the_names_that_start_with_it(void **state)
{
	struct fx *f = *state;
	struct store_zone got;
	struct walk w = { 0 };
	int64_t a, b, c;

	fx_open(f);
	a = add_zone(f->st, "shop.example.", 1);
	add_zone(f->st, "shoq.example.", 1); /* the byte after the prefix's last */
	b = add_zone(f->st, "shop-2.example.", 1);
	add_zone(f->st, "sho.example.", 1);
	c = add_zone(f->st, "shop.example.net.", 1);

	assert_int_equal(store_zone_foreach_prefix(f->st, "shop", 0, walk_zone, &w), 0);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.ids[0], a);
	assert_int_equal(w.ids[1], b);
	assert_int_equal(w.ids[2], c);
	/* From an id, as the other walks; the prefix is bytes, dots too. */
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_zone_foreach_prefix(f->st, "shop", a, walk_zone, &w), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.ids[0], b);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_zone_foreach_prefix(f->st, "shop.example.", 0, walk_zone, &w), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.ids[0], a);
	assert_int_equal(w.ids[1], c);
	/* Tombstones are not found. */
	assert_int_equal(store_zone_get(f->st, b, &got), 0);
	got.deleted = true;
	got.version++;
	assert_int_equal(store_zone_update(f->st, &got), 0);
	store_zone_clear(&got);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_zone_foreach_prefix(f->st, "shop-", 0, walk_zone, &w), 0);
	assert_int_equal(w.n, 0);

	assert_int_equal(store_zone_foreach_prefix(f->st, "", 0, walk_zone, &w), -EINVAL);
	assert_int_equal(store_zone_foreach_prefix(f->st, NULL, 0, walk_zone, &w), -EINVAL);
	assert_int_equal(store_zone_foreach_prefix(f->st, "a b", 0, walk_zone, &w), -EINVAL);
	assert_int_equal(store_zone_foreach_prefix(f->st, "~", 0, walk_zone, &w), -EINVAL);
	fx_close(f);
}

struct prefix_walk {
	const char *prefix;
	size_t n;
	int64_t last;
	bool ordered, matched;
};

static int prefix_walk(const struct store_zone *z, void *ctx)
{
	struct prefix_walk *w = ctx;

	w->ordered = w->ordered && z->id > w->last;
	w->matched = w->matched && strncmp(z->domain, w->prefix, strlen(w->prefix)) == 0;
	w->last = z->id;
	w->n++;
	return 0;
}

static size_t prefix_count(struct store *st, const char *prefix, int64_t after)
{
	struct prefix_walk w = { prefix, 0, after, true, true };

	assert_int_equal(store_zone_foreach_prefix(st, prefix, after, prefix_walk, &w), 0);
	assert_true(w.ordered);
	assert_true(w.matched);
	return w.n;
}

/* The walk reads a prefix that few names share by the name index and one
 * that many share by the ids: both give the zones in id order, from an id.
 * The names go in backwards, so name order is not id order. */
static void test_zone_prefix_walk_is_in_id_order_by_either_plan(void **state)
{
	struct fx *f = *state;
	char name[32];
	int64_t mid = 0;

	fx_open(f);
	assert_int_equal(store_begin(f->st), 0);
	for (int i = 2099; i >= 0; i--) {
		snprintf(name, sizeof(name), "many-%04d.example.", i);
		int64_t id = add_zone(f->st, name, 1);
		if (i == 150)
			mid = id;
		if (i % 500 == 0) { /* other names between them */
			snprintf(name, sizeof(name), "%s%d.example.", i == 0 ? "manx" : "other", i);
			add_zone(f->st, name, 1);
		}
	}
	assert_int_equal(store_commit(f->st), 0);

	assert_int_equal(prefix_count(f->st, "many-", 0), 2100);   /* past 2000: by id */
	assert_int_equal(prefix_count(f->st, "many-01", 0), 100);  /* by name */
	assert_int_equal(prefix_count(f->st, "many-01", mid), 50); /* many-0100..0149 */
	assert_int_equal(prefix_count(f->st, "many-", mid), 150);  /* many-0000..0149 */
	assert_int_equal(prefix_count(f->st, "man", 0), 2101);
	assert_int_equal(prefix_count(f->st, "manx", 0), 1);
	assert_int_equal(prefix_count(f->st, "other", 0), 4);
	fx_close(f);
}

static void test_zone_revival_keeps_id_and_raises_version(void **state)
{
	struct fx *f = *state;
	struct store_zone z = { 0 }, got;
	struct store_record r;
	int64_t id, rid, s1;
	struct pending p;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	id = add_zone(f->st, "revive.example.", 5);
	rid = add_record(f->st, id, "www", "192.0.2.9");
	assert_int_equal(store_sync_want_all(f->st, id, 5), 0);
	assert_int_equal(store_sync_ack(f->st, s1, id, 5), 0);

	/* The zone has its own SOA fields, kept by an update. */
	assert_int_equal(store_zone_get(f->st, id, &got), 0);
	assert_string_equal(got.soa, "");
	assert_int_equal(got.life, 0); /* its first */
	snprintf(got.soa, sizeof(got.soa), "ns1.revive.example. - 7200 - - 300");
	assert_int_equal(store_zone_update(f->st, &got), 0);
	store_zone_clear(&got);
	assert_int_equal(store_zone_get(f->st, id, &got), 0);
	assert_string_equal(got.soa, "ns1.revive.example. - 7200 - - 300");

	/* Deleted at version 6; the node confirms. */
	got.deleted = true;
	got.version = 6;
	got.serial = 2024010109;
	assert_int_equal(store_zone_update(f->st, &got), 0);
	store_zone_clear(&got);
	assert_int_equal(store_sync_want_all(f->st, id, 6), 0);
	assert_int_equal(store_sync_ack(f->st, s1, id, 6), 0);

	/* Created again by someone who thinks it is new (version 1). */
	z.domain = (char *)"revive.example.";
	z.version = 1;
	z.serial = 2024010101;
	assert_int_equal(store_zone_insert(f->st, &z), 0);
	assert_int_equal(z.id, id);
	assert_int_equal(z.version, 7);
	assert_int_equal(z.serial, 2024010110); /* continues the old serial */
	assert_int_equal(z.life, 1);		/* another life */
	assert_false(z.deleted);
	assert_int_equal(store_zone_get(f->st, id, &got), 0);
	assert_false(got.deleted);
	assert_int_equal(got.life, 1);
	assert_int_equal(got.version, 7);
	assert_int_equal(got.serial, 2024010110);
	assert_string_equal(got.soa, ""); /* a new zone: the cluster's SOA */
	store_zone_clear(&got);
	/* The tombstone's records do not come back with it. */
	assert_int_equal(store_record_get(f->st, rid, &r), -ENOENT);
	/* The node's applied version carries over: 7 is pending, not 1. */
	assert_int_equal(store_sync_want_all(f->st, id, z.version), 0);
	p = pending(f->st, s1, 0, 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.row[0].desired, 7);
	assert_int_equal(p.row[0].applied, 6);

	/* A live duplicate is a conflict... */
	memset(&z, 0, sizeof(z));
	z.domain = (char *)"revive.example.";
	assert_int_equal(store_zone_insert(f->st, &z), ERR_CONFLICT);

	/* ...and a given version above the old one is kept as is. */
	assert_int_equal(store_zone_get(f->st, id, &got), 0);
	got.deleted = true;
	got.version = 8;
	assert_int_equal(store_zone_update(f->st, &got), 0);
	store_zone_clear(&got);
	memset(&z, 0, sizeof(z));
	z.domain = (char *)"revive.example.";
	z.version = 100;
	z.serial = 2030010101;
	assert_int_equal(store_zone_insert(f->st, &z), 0);
	assert_int_equal(z.id, id);
	assert_int_equal(z.version, 100);
	assert_int_equal(z.serial, 2030010101);
	assert_int_equal(z.life, 2);
	fx_close(f);
}

static void test_zone_purge(void **state)
{
	struct fx *f = *state;
	struct store_zone got;
	struct store_record r;
	int64_t id, rid, s1;
	bool acked;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	id = add_zone(f->st, "purge.example.", 1);
	rid = add_record(f->st, id, "@", "192.0.2.1");
	add_version(f->st, id, 1, 0, "zone.create");
	assert_int_equal(store_sync_want_all(f->st, id, 1), 0);

	assert_int_equal(store_zone_purge(f->st, id), ERR_CONFLICT); /* still live */
	assert_int_equal(store_zone_purge(f->st, 99999), -ENOENT);

	assert_int_equal(store_zone_get(f->st, id, &got), 0);
	got.deleted = true;
	got.version = 2;
	assert_int_equal(store_zone_update(f->st, &got), 0);
	store_zone_clear(&got);
	/* Every node confirms the delete; the tombstone goes for good. */
	assert_int_equal(store_sync_want_all(f->st, id, 2), 0);
	assert_int_equal(store_sync_ack(f->st, s1, id, 2), 0);
	assert_int_equal(store_zone_purge(f->st, id), 0);
	assert_int_equal(store_zone_get(f->st, id, &got), -ENOENT);
	/* Whoever still waits for the delete sees it acknowledged. */
	acked = false;
	assert_int_equal(store_sync_all_acked(f->st, id, 2, &acked), 0);
	assert_true(acked);
	acked = false;
	assert_int_equal(store_sync_node_acked(f->st, s1, id, 2, &acked), 0);
	assert_true(acked);

	/* Created again: a new id, but the version and serial go on from
	 * the purged zone's, so no node takes it for the old one. */
	memset(&got, 0, sizeof(got));
	got.domain = (char *)"purge.example.";
	got.version = 1;
	got.serial = 1;
	assert_int_equal(store_zone_insert(f->st, &got), 0);
	assert_true(got.id > id);
	assert_int_equal(got.version, 3);
	assert_int_equal(got.serial, 2024010102);
	assert_int_equal(got.life, 1); /* the life count goes on too */
	/* Purged and created once more: still rising. */
	got.deleted = true;
	got.version = 4;
	assert_int_equal(store_zone_update(f->st, &got), 0);
	assert_int_equal(store_zone_purge(f->st, got.id), 0);
	memset(&got, 0, sizeof(got));
	got.domain = (char *)"purge.example.";
	got.version = 1;
	got.serial = 2024010105;
	assert_int_equal(store_zone_insert(f->st, &got), 0);
	assert_int_equal(got.version, 5);
	assert_int_equal(got.serial, 2024010105);
	assert_int_equal(got.life, 2);
	assert_int_equal(store_record_get(f->st, rid, &r), -ENOENT);
	assert_int_equal(pending(f->st, s1, 0, 0).n, 0);
	fx_close(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM node_zone_state"), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM dns_zone_versions"), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM dns_records"), 0);
}

/* --- records -------------------------------------------------------------------- */

static int walk_record(const struct store_record *r, void *ctx)
{
	struct walk *w = ctx;
	struct store_record again;

	/* Another query on the same connection in the middle of the walk. */
	assert_int_equal(store_record_get(w->st, r->id, &again), 0);
	assert_string_equal(again.content, r->content);
	store_record_clear(&again);
	assert_true(w->n < 600);
	w->ids[w->n++] = r->id;
	return 0;
}

static int count_secondary(const struct store_secondary *s, void *ctx)
{
	unsigned *n = ctx;
	n[0]++;
	n[1] += s->expired;
	return 0;
}

static void test_secondary_crud(void **state)
{
	struct fx *f = *state;
	struct store_secondary s;
	struct store_zone z;
	unsigned n[2] = { 0 };

	fx_open(f);
	int64_t a = add_zone(f->st, "sec-a.example.", 1), b = add_zone(f->st, "sec-b.example.", 1);
	assert_int_equal(store_secondary_get(f->st, a, &s), -ENOENT);
	assert_int_equal(store_secondary_put(f->st, a, "192.0.2.1:53", NULL), 0);
	assert_int_equal(store_secondary_put(f->st, b, "192.0.2.2:53,[2001:db8::2]:53", "k."), 0);
	assert_int_equal(store_secondary_refreshed(f->st, b, 1, 1700000000), -ENOENT); /* life 0 */
	assert_int_equal(store_secondary_refreshed(f->st, b, 0, 1700000000), 0);
	assert_int_equal(store_secondary_get(f->st, b, &s), 0);
	assert_string_equal(s.domain, "sec-b.example.");
	assert_string_equal(s.primaries, "192.0.2.2:53,[2001:db8::2]:53");
	assert_string_equal(s.tsig_key, "k.");
	assert_int_equal(s.refreshed_at, 1700000000);
	store_secondary_clear(&s);
	/* New primaries: the refresh starts again. */
	assert_int_equal(store_secondary_put(f->st, b, "192.0.2.3:53", ""), 0);
	assert_int_equal(store_secondary_get(f->st, b, &s), 0);
	assert_string_equal(s.primaries, "192.0.2.3:53");
	assert_int_equal(s.refreshed_at, 0);
	store_secondary_clear(&s);
	/* An expired zone is a tombstone that kept its row: listed, not got. */
	assert_int_equal(store_zone_get(f->st, b, &z), 0);
	z.deleted = true;
	z.version++;
	assert_int_equal(store_zone_update(f->st, &z), 0);
	store_zone_clear(&z);
	assert_int_equal(store_secondary_get(f->st, b, &s), -ENOENT);
	assert_int_equal(store_secondary_foreach(f->st, count_secondary, n), 0);
	assert_int_equal(n[0], 2);
	assert_int_equal(n[1], 1);
	assert_int_equal(store_secondary_forget(f->st, b), 0);
	assert_int_equal(store_secondary_forget(f->st, b), -ENOENT);
	assert_int_equal(store_secondary_delete(f->st, a), 0);
	assert_int_equal(store_secondary_delete(f->st, a), 0);
	n[0] = n[1] = 0;
	assert_int_equal(store_secondary_foreach(f->st, count_secondary, n), 0);
	assert_int_equal(n[0], 0);
	/* Too many primaries for the column: refused, as on both engines. */
	char long_text[1100];
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	assert_true(store_secondary_put(f->st, a, long_text, NULL) < 0);
	fx_close(f);
}

static int walk_comment(const char *name, const char *type, const char *content, void *ctx)
{
	char *out = ctx;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%s/%s=%s;", name, type, content);
	return 0;
}

/* RRset comments: one text per (zone, name, type), replaced, removed one
 * by one or with the zone's, gone when the zone row goes. */
static void test_comments(void **state)
{
	struct fx *f = *state;
	char seen[256] = "";
	int64_t a, b;

	fx_open(f);
	a = add_zone(f->st, "a.example.", 1);
	b = add_zone(f->st, "b.example.", 1);
	assert_int_equal(store_comment_put(f->st, a, "www", "A", "[1]"), 0);
	assert_int_equal(store_comment_put(f->st, a, "@", "NS", "[2]"), 0);
	assert_int_equal(store_comment_put(f->st, a, "www", "A", "[3]"), 0);
	assert_int_equal(store_comment_put(f->st, b, "www", "A", "[4]"), 0);
	assert_int_equal(store_comment_foreach(f->st, a, walk_comment, seen), 0);
	assert_string_equal(seen, "@/NS=[2];www/A=[3];");
	assert_int_equal(store_comment_delete(f->st, a, "www", "A"), 0);
	assert_int_equal(store_comment_delete(f->st, a, "www", "A"), 0);
	seen[0] = '\0';
	assert_int_equal(store_comment_foreach(f->st, a, walk_comment, seen), 0);
	assert_string_equal(seen, "@/NS=[2];");
	assert_int_equal(store_comment_delete_zone(f->st, a), 0);
	seen[0] = '\0';
	assert_int_equal(store_comment_foreach(f->st, a, walk_comment, seen), 0);
	assert_string_equal(seen, "");
	assert_int_equal(store_comment_foreach(f->st, b, walk_comment, seen), 0);
	assert_string_equal(seen, "www/A=[4];");
	/* A zone that does not exist has no comments. */
	assert_int_equal(store_comment_put(f->st, 99999, "www", "A", "[]"), -ENOENT);
	fx_close(f);
}

/* Update policies: one text per key name, replaced by a put, listed in key
 * order, gone with a delete (-ENOENT when there is none). */
static int count_policy(const char *key_name, const char *rules, void *ctx)
{
	(void)rules;
	size_t *n = ctx;
	if (*n == 0)
		assert_string_equal(key_name, "a.key.");
	(*n)++;
	return 0;
}

static void test_update_policy_crud(void **state)
{
	struct fx *f = *state;
	char *rules = NULL;
	size_t n = 0;

	fx_open(f);
	assert_int_equal(store_upolicy_get(f->st, "b.key.", &rules), -ENOENT);
	assert_int_equal(store_upolicy_put(f->st, "b.key.", "[1]"), 0);
	assert_int_equal(store_upolicy_put(f->st, "b.key.", "[2]"), 0);
	assert_int_equal(store_upolicy_put(f->st, "a.key.", "[]"), 0);
	assert_int_equal(store_upolicy_get(f->st, "b.key.", &rules), 0);
	assert_string_equal(rules, "[2]");
	free(rules);
	assert_int_equal(store_upolicy_foreach(f->st, count_policy, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_upolicy_delete(f->st, "b.key."), 0);
	assert_int_equal(store_upolicy_delete(f->st, "b.key."), -ENOENT);
	assert_int_equal(store_upolicy_put(f->st, "", "[]"), -EINVAL);
	fx_close(f);
}

/* Routing policies per RRset: upserted, listed by name and type, deleted
 * one by one or with the zone's. */
static int collect_policy(const char *name, const char *type, bool per_record, const char *policy,
			  void *ctx)
{
	char *out = ctx;
	size_t n = strlen(out);
	snprintf(out + n, 256 - n, "%s/%s/%d/%s;", name, type, per_record, policy);
	return 0;
}

static void test_policy_crud(void **state)
{
	struct fx *f = *state;
	char seen[256] = "";

	fx_open(f);
	int64_t z = add_zone(f->st, "example.com.", 1);

	assert_int_equal(store_policy_put(f->st, z, "www", "A", true, "{\"a\":1}"), 0);
	assert_int_equal(store_policy_put(f->st, z, "@", "AAAA", false, "{}"), 0);
	assert_int_equal(store_policy_put(f->st, z, "www", "A", false, "{\"a\":2}"), 0);
	assert_int_equal(store_policy_foreach(f->st, z, collect_policy, seen), 0);
	assert_string_equal(seen, "@/AAAA/0/{};www/A/0/{\"a\":2};");
	assert_int_equal(store_policy_delete(f->st, z, "www", "A"), 0);
	assert_int_equal(store_policy_delete(f->st, z, "www", "A"), 0);
	seen[0] = '\0';
	assert_int_equal(store_policy_foreach(f->st, z, collect_policy, seen), 0);
	assert_string_equal(seen, "@/AAAA/0/{};");
	assert_int_equal(store_policy_delete_zone(f->st, z), 0);
	seen[0] = '\0';
	assert_int_equal(store_policy_foreach(f->st, z, collect_policy, seen), 0);
	assert_string_equal(seen, "");
	fx_close(f);
}

static void test_record_crud(void **state)
{
	struct fx *f = *state;
	struct store_record r = { 0 }, got;
	struct walk w = { 0 };
	char content[32];
	int64_t a, b, rid, first = 0;
	size_t i;

	fx_open(f);
	a = add_zone(f->st, "a.example.", 1);
	b = add_zone(f->st, "b.example.", 1);
	rid = add_record(f->st, a, "www", "192.0.2.1");

	assert_int_equal(store_record_get(f->st, rid, &got), 0);
	assert_int_equal(got.zone_id, a);
	assert_string_equal(got.name, "www");
	assert_string_equal(got.type, "A");
	assert_string_equal(got.content, "192.0.2.1");
	assert_int_equal(got.ttl, 300);
	assert_int_equal(got.priority, 0);
	assert_true(got.created_at > 0);

	free(got.type);
	free(got.content);
	got.type = strdup("MX");
	got.content = strdup("mail.a.example.");
	got.priority = 10;
	got.ttl = 2147483647u;
	assert_int_equal(store_record_update(f->st, &got), 0);
	store_record_clear(&got);
	assert_int_equal(store_record_get(f->st, rid, &got), 0);
	assert_string_equal(got.type, "MX");
	assert_string_equal(got.content, "mail.a.example.");
	assert_int_equal(got.priority, 10);
	assert_int_equal(got.ttl, 2147483647u);
	assert_false(got.disabled);
	/* A disabled record is kept as such, and enabled again. */
	got.disabled = true;
	assert_int_equal(store_record_update(f->st, &got), 0);
	store_record_clear(&got);
	assert_int_equal(store_record_get(f->st, rid, &got), 0);
	assert_true(got.disabled);
	got.disabled = false;
	assert_int_equal(store_record_update(f->st, &got), 0);
	got.id = 99999;
	assert_int_equal(store_record_update(f->st, &got), -ENOENT);
	store_record_clear(&got);

	/* A record must belong to an existing zone. */
	r.zone_id = 99999;
	r.name = (char *)"x";
	r.type = (char *)"A";
	r.content = (char *)"192.0.2.1";
	assert_int_equal(store_record_insert(f->st, &r), -ENOENT);
	r.zone_id = a;
	r.content = NULL;
	assert_int_equal(store_record_insert(f->st, &r), -EINVAL);

	/* More than a page of records, walked in id order, only zone a's. */
	for (i = 0; i < 300; i++) {
		snprintf(content, sizeof(content), "192.0.2.%zu", i % 250);
		if (i % 7 == 0)
			add_record(f->st, b, "other", content);
		if (i == 0)
			first = add_record(f->st, a, "h", content);
		else
			add_record(f->st, a, "h", content);
	}
	w.st = f->st;
	assert_int_equal(store_record_foreach(f->st, a, walk_record, &w), 0);
	assert_int_equal(w.n, 301);
	assert_int_equal(w.ids[0], rid);
	assert_int_equal(w.ids[1], first);
	for (i = 1; i < w.n; i++)
		assert_true(w.ids[i] > w.ids[i - 1]);
	/* Every zone's records, in id order, from the first id above 'after'. */
	memset(&w, 0, sizeof(w));
	w.st = f->st;
	assert_int_equal(store_record_foreach_after(f->st, 0, walk_record, &w), 0);
	assert_int_equal(w.n, 301 + 43);
	assert_int_equal(w.ids[0], rid);
	for (i = 1; i < w.n; i++)
		assert_true(w.ids[i] > w.ids[i - 1]);
	memset(&w, 0, sizeof(w));
	w.st = f->st;
	assert_int_equal(store_record_foreach_after(f->st, first, walk_record, &w), 0);
	assert_int_equal(w.n, 301 + 43 - 3); /* rid, b's first and 'first' itself */
	assert_true(w.ids[0] > first);

	assert_int_equal(store_record_delete(f->st, rid), 0);
	assert_int_equal(store_record_delete(f->st, rid), -ENOENT);
	assert_int_equal(store_record_delete_zone(f->st, a), 0);
	memset(&w, 0, sizeof(w));
	w.st = f->st;
	assert_int_equal(store_record_foreach(f->st, a, walk_record, &w), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(store_record_foreach(f->st, b, walk_record, &w), 0);
	assert_int_equal(w.n, 43);
	fx_close(f);
}

/* --- node sync state ------------------------------------------------------------ */

static void test_sync_want_all_and_ack_never_lowers(void **state)
{
	struct fx *f = *state;
	int64_t s1, s2, s3, z;
	struct pending p;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	s2 = add_server(f->st, "ns2", true);
	s3 = add_server(f->st, "ns3", false); /* not in the cluster */
	z = add_zone(f->st, "example.com.", 3);

	assert_int_equal(store_sync_want_all(f->st, z, 3), 0);
	p = pending(f->st, 0, 0, 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.row[0].server_id, s1);
	assert_int_equal(p.row[1].server_id, s2);
	assert_int_equal(p.row[0].desired, 3);
	assert_int_equal(p.row[0].applied, 0);
	assert_int_equal(pending(f->st, s3, 0, 0).n, 0);

	assert_int_equal(store_sync_ack(f->st, s1, z, 3), 0);
	p = pending(f->st, 0, 0, 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.row[0].server_id, s2);

	/* An older want changes nothing; a late ack of an older version
	 * does not lower applied. */
	assert_int_equal(store_sync_want_all(f->st, z, 2), 0);
	assert_int_equal(pending(f->st, s1, 0, 0).n, 0);
	assert_int_equal(store_sync_ack(f->st, s1, z, 1), 0);
	assert_int_equal(pending(f->st, s1, 0, 0).n, 0);
	assert_int_equal(store_sync_want_all(f->st, z, 4), 0);
	p = pending(f->st, s1, 0, 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.row[0].desired, 4);
	assert_int_equal(p.row[0].applied, 3);
	/* Acking ahead of desired is in sync. */
	assert_int_equal(store_sync_ack(f->st, s2, z, 9), 0);
	assert_int_equal(pending(f->st, s2, 0, 0).n, 0);

	/* No row, nothing to ack. */
	assert_int_equal(store_sync_ack(f->st, s3, z, 1), -ENOENT);
	assert_int_equal(store_sync_fail(f->st, s3, z, "x", 1, 0), -ENOENT);
	assert_int_equal(store_sync_ack(f->st, s1, z, UINT64_MAX), -ERANGE);
	fx_close(f);
}

static void test_sync_want_server_includes_tombstones(void **state)
{
	struct fx *f = *state;
	int64_t s1, z1, z2, z3;
	struct store_zone got;
	struct pending p;

	fx_open(f);
	z1 = add_zone(f->st, "a.example.", 4);
	z2 = add_zone(f->st, "b.example.", 2);
	z3 = add_zone(f->st, "c.example.", 5);
	assert_int_equal(store_zone_get(f->st, z2, &got), 0);
	got.deleted = true;
	got.version = 3;
	assert_int_equal(store_zone_update(f->st, &got), 0);
	store_zone_clear(&got);
	/* A joining node, out of the cluster for now: it still gets all. */
	s1 = add_server(f->st, "ns-new", false);
	assert_int_equal(store_sync_want_server(f->st, s1), 0);
	p = pending(f->st, s1, 0, 0);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.row[0].zone_id, z1);
	assert_int_equal(p.row[0].desired, 4);
	assert_int_equal(p.row[1].zone_id, z2);
	assert_int_equal(p.row[1].desired, 3);
	assert_int_equal(p.row[2].zone_id, z3);
	assert_int_equal(p.row[2].desired, 5);
	/* Again: the same rows, nothing doubled. */
	assert_int_equal(store_sync_ack(f->st, s1, z1, 4), 0);
	assert_int_equal(store_sync_want_server(f->st, s1), 0);
	assert_int_equal(pending(f->st, s1, 0, 0).n, 2);
	assert_int_equal(store_sync_want_server(f->st, 99999), -ENOENT);
	fx_close(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM node_zone_state"), 3);
}

/* What a node may still serve: live zones it acknowledged, deletes it did
 * not; nothing once forgotten (its zones were purged). */
static void test_sync_held_and_forget(void **state)
{
	struct fx *f = *state;
	int64_t s1, s2, live, gone;
	struct store_zone got;
	uint64_t n = 99;

	fx_open(f);
	live = add_zone(f->st, "live.example.", 2);
	gone = add_zone(f->st, "gone.example.", 2);
	add_zone(f->st, "never.example.", 2); /* never acknowledged: not held */
	s1 = add_server(f->st, "ns1", true);
	s2 = add_server(f->st, "ns2", true);
	assert_int_equal(store_sync_held(f->st, s1, &n), 0);
	assert_int_equal(n, 0);
	for (int64_t s = s1; s <= s2; s++) {
		assert_int_equal(store_sync_want_server(f->st, s), 0);
		assert_int_equal(store_sync_ack(f->st, s, live, 2), 0);
		assert_int_equal(store_sync_ack(f->st, s, gone, 2), 0);
	}
	assert_int_equal(store_zone_get(f->st, gone, &got), 0);
	got.deleted = true;
	got.version = 3;
	assert_int_equal(store_zone_update(f->st, &got), 0);
	store_zone_clear(&got);
	assert_int_equal(store_sync_want_all(f->st, gone, 3), 0);
	assert_int_equal(store_sync_ack(f->st, s2, gone, 3), 0);
	/* ns1 still holds the deleted zone; ns2 confirmed its delete. */
	assert_int_equal(store_sync_held(f->st, s1, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_sync_held(f->st, s2, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_sync_forget_server(f->st, s1), 0);
	assert_int_equal(store_sync_held(f->st, s1, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_sync_held(f->st, s2, &n), 0);
	assert_int_equal(n, 1);
	fx_close(f);
}

static void test_sync_pending_due_limit_and_order(void **state)
{
	struct fx *f = *state;
	int64_t s1, s2, z1, z2, now_ms = (int64_t)time(NULL) * 1000;
	struct pending p;
	char sql[160];
	size_t i;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	s2 = add_server(f->st, "ns2", true);
	z1 = add_zone(f->st, "a.example.", 1);
	z2 = add_zone(f->st, "b.example.", 1);
	assert_int_equal(store_sync_want_all(f->st, z1, 1), 0);
	assert_int_equal(store_sync_want_all(f->st, z2, 1), 0);
	/* The two calls may fall in two milliseconds on a slow machine. */
	fx_close(f);
	raw_exec(f, "UPDATE node_zone_state SET updated_at = 2000");
	fx_open(f);

	/* Same updated_at: ordered by server, then zone. */
	p = pending(f->st, 0, now_ms, 0);
	assert_int_equal(p.n, 4);
	assert_true(p.row[0].server_id == s1 && p.row[0].zone_id == z1);
	assert_true(p.row[1].server_id == s1 && p.row[1].zone_id == z2);
	assert_true(p.row[2].server_id == s2 && p.row[2].zone_id == z1);
	assert_true(p.row[3].server_id == s2 && p.row[3].zone_id == z2);

	/* At most 'limit'. */
	p = pending(f->st, 0, now_ms, 3);
	assert_int_equal(p.n, 3);
	p = pending(f->st, s2, now_ms, 1);
	assert_int_equal(p.n, 1);
	assert_true(p.row[0].server_id == s2 && p.row[0].zone_id == z1);

	/* A failed push waits for its next attempt. */
	assert_int_equal(store_sync_fail(f->st, s1, z1, "timeout", 2, now_ms + 60000), 0);
	p = pending(f->st, s1, now_ms, 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.row[0].zone_id, z2);
	p = pending(f->st, s1, now_ms + 60000, 0);
	assert_int_equal(p.n, 2);
	p = pending(f->st, s1, 0, 0); /* 0: regardless of the time */
	assert_int_equal(p.n, 2);
	i = row_of(&p, s1, z1);
	assert_int_equal(p.row[i].attempts, 2);
	assert_int_equal(p.row[i].next_attempt_ms, now_ms + 60000);
	assert_string_equal(p.row[i].last_error, "timeout");

	/* The oldest row first, whatever its ids. */
	snprintf(sql, sizeof(sql),
		 "UPDATE node_zone_state SET updated_at = 1000 WHERE server_id = %lld"
		 " AND zone_id = %lld",
		 (long long)s2, (long long)z2);
	fx_close(f);
	raw_exec(f, sql);
	fx_open(f);
	p = pending(f->st, 0, 0, 2);
	assert_int_equal(p.n, 2);
	assert_true(p.row[0].server_id == s2 && p.row[0].zone_id == z2);

	/* A success clears error, attempts and backoff. */
	assert_int_equal(store_sync_ack(f->st, s1, z1, 1), 0);
	assert_int_equal(store_sync_want_all(f->st, z1, 2), 0);
	p = pending(f->st, s1, now_ms, 0);
	assert_int_equal(p.n, 2);
	i = row_of(&p, s1, z1);
	assert_int_equal(p.row[i].attempts, 0);
	assert_int_equal(p.row[i].next_attempt_ms, 0);
	assert_string_equal(p.row[i].last_error, "");
	fx_close(f);
}

/* A retry put off further ahead than the horizon (the longest backoff) was
 * set while the wall clock was ahead (an NTP step back since): due now. */
static void test_sync_pending_beyond_the_horizon_is_due(void **state)
{
	struct fx *f = *state;
	int64_t s1, z1, z2, now_ms = (int64_t)time(NULL) * 1000;
	struct pending p;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	z1 = add_zone(f->st, "a.example.", 1);
	z2 = add_zone(f->st, "b.example.", 1);
	assert_int_equal(store_sync_want_all(f->st, z1, 1), 0);
	assert_int_equal(store_sync_want_all(f->st, z2, 1), 0);
	assert_int_equal(store_sync_fail(f->st, s1, z1, "timeout", 3, now_ms + 800), 0);
	assert_int_equal(store_sync_fail(f->st, s1, z2, "timeout", 1, now_ms + 86400000), 0);

	p = pending_within(f->st, s1, now_ms, 1000, 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.row[0].zone_id, z2);
	p = pending_within(f->st, s1, now_ms + 900, 1000, 0);
	assert_int_equal(p.n, 2);
	p = pending(f->st, s1, now_ms, 0);
	assert_int_equal(p.n, 0);
	fx_close(f);
}

/* A row already waiting keeps its place in the queue when a newer version
 * is wanted; a row that was in sync joins at the back. */
static void test_sync_pending_keeps_its_place(void **state)
{
	struct fx *f = *state;
	struct store_sync_summary sum;
	int64_t s1, z;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	z = add_zone(f->st, "example.com.", 1);
	assert_int_equal(store_sync_want_all(f->st, z, 1), 0);
	raw_exec(f, "UPDATE node_zone_state SET updated_at = 1000");
	assert_int_equal(store_sync_want_all(f->st, z, 2), 0);
	assert_int_equal(store_sync_summary(f->st, s1, NULL, &sum), 0);
	assert_int_equal(sum.behind, 1);
	assert_int_equal(sum.oldest_pending, 1000);
	free(sum.last_error);

	assert_int_equal(store_sync_ack(f->st, s1, z, 2), 0);
	raw_exec(f, "UPDATE node_zone_state SET updated_at = 1000");
	assert_int_equal(store_sync_want_all(f->st, z, 2), 0); /* nothing new */
	assert_int_equal(store_sync_summary(f->st, s1, NULL, &sum), 0);
	assert_int_equal(sum.behind, 0);
	assert_int_equal(sum.in_sync, 1);
	assert_int_equal(store_sync_want_all(f->st, z, 3), 0);
	assert_int_equal(store_sync_summary(f->st, s1, NULL, &sum), 0);
	assert_int_equal(sum.behind, 1);
	assert_true(sum.oldest_pending > 1000);
	/* Told how many zones are live, it reads only the rows behind and
	 * gives the same answer. */
	uint64_t live = 1;
	struct store_sync_summary quick = { 0 };
	assert_int_equal(store_sync_summary(f->st, s1, &live, &quick), 0);
	assert_int_equal(quick.behind, 1);
	assert_int_equal(quick.in_sync, 0);
	assert_int_equal(quick.oldest_pending, sum.oldest_pending);
	live = 5; /* four more live zones, none behind */
	assert_int_equal(store_sync_summary(f->st, s1, &live, &quick), 0);
	assert_int_equal(quick.behind, 1);
	assert_int_equal(quick.in_sync, 4);
	fx_close(f);
	assert_int_equal(raw_int(f, "SELECT desired FROM node_zone_state"), 3);
	assert_int_equal(raw_int(f, "SELECT applied FROM node_zone_state"), 2);
}

/* Reconciliation: what the node reports wins, even when it is lower. */
static void test_sync_reset_follows_the_node(void **state)
{
	struct fx *f = *state;
	int64_t s1, s2, z1, z2, now_ms = (int64_t)time(NULL) * 1000;
	struct pending p;
	size_t i;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	s2 = add_server(f->st, "ns2", false);
	z1 = add_zone(f->st, "a.example.", 5);
	z2 = add_zone(f->st, "b.example.", 3);
	assert_int_equal(store_sync_want_all(f->st, z1, 5), 0);
	assert_int_equal(store_sync_ack(f->st, s1, z1, 5), 0);
	assert_int_equal(store_sync_fail(f->st, s1, z1, "later", 4, now_ms + 600000), 0);

	/* The node lost the zone: applied 0, pending, due now. */
	assert_int_equal(store_sync_reset(f->st, s1, z1, 0), 0);
	p = pending(f->st, s1, now_ms, 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.row[0].zone_id, z1);
	assert_int_equal(p.row[0].desired, 5);
	assert_int_equal(p.row[0].applied, 0);
	assert_int_equal(p.row[0].attempts, 4);
	/* It reports the version after all: in sync again. */
	assert_int_equal(store_sync_reset(f->st, s1, z1, 5), 0);
	assert_int_equal(pending(f->st, s1, 0, 0).n, 0);

	/* No row yet (a node outside the cluster): one is made, wanting
	 * the zone's current version. */
	assert_int_equal(store_sync_reset(f->st, s2, z2, 1), 0);
	p = pending(f->st, s2, 0, 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.row[0].desired, 3);
	assert_int_equal(p.row[0].applied, 1);
	/* A row whose desired lags the zone catches up. */
	assert_int_equal(store_sync_want_all(f->st, z2, 2), 0);
	assert_int_equal(store_sync_reset(f->st, s1, z2, 2), 0);
	p = pending(f->st, s1, 0, 0);
	assert_int_equal(p.n, 1);
	i = row_of(&p, s1, z2);
	assert_int_equal(p.row[i].desired, 3);
	assert_int_equal(p.row[i].applied, 2);

	assert_int_equal(store_sync_reset(f->st, s1, 99999, 0), -ENOENT);
	assert_int_equal(store_sync_reset(f->st, 99999, z1, 0), -ENOENT);
	fx_close(f);
}

static void test_sync_reset_server_resends_everything(void **state)
{
	struct fx *f = *state;
	int64_t s1, s2, z1, z2, now_ms = (int64_t)time(NULL) * 1000;
	struct pending p;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	s2 = add_server(f->st, "ns2", true);
	z1 = add_zone(f->st, "a.example.", 2);
	z2 = add_zone(f->st, "b.example.", 4);
	assert_int_equal(store_sync_want_all(f->st, z1, 2), 0);
	assert_int_equal(store_sync_want_all(f->st, z2, 4), 0);
	assert_int_equal(store_sync_ack(f->st, s1, z1, 2), 0);
	assert_int_equal(store_sync_ack(f->st, s1, z2, 4), 0);
	assert_int_equal(store_sync_ack(f->st, s2, z1, 2), 0);
	assert_int_equal(store_sync_ack(f->st, s2, z2, 4), 0);
	assert_int_equal(store_sync_fail(f->st, s1, z2, "later", 1, now_ms + 600000), 0);
	assert_int_equal(pending(f->st, 0, 0, 0).n, 0);

	assert_int_equal(store_sync_reset_server(f->st, s1), 0);
	p = pending(f->st, 0, now_ms, 0);
	assert_int_equal(p.n, 2);
	assert_true(p.row[0].server_id == s1 && p.row[1].server_id == s1);
	assert_int_equal(p.row[row_of(&p, s1, z1)].applied, 0);
	assert_int_equal(p.row[row_of(&p, s1, z2)].desired, 4);
	assert_int_equal(store_sync_reset_server(f->st, 99999), -ENOENT);
	fx_close(f);
}

static void test_sync_node_acked(void **state)
{
	struct fx *f = *state;
	int64_t s1, s2, z;
	bool acked = true;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	s2 = add_server(f->st, "ns2", true);
	z = add_zone(f->st, "example.com.", 3);
	assert_int_equal(store_sync_node_acked(f->st, s1, z, 3, &acked), 0);
	assert_false(acked); /* no row */
	assert_int_equal(store_sync_want_all(f->st, z, 3), 0);
	assert_int_equal(store_sync_ack(f->st, s1, z, 3), 0);
	assert_int_equal(store_sync_node_acked(f->st, s1, z, 3, &acked), 0);
	assert_true(acked);
	assert_int_equal(store_sync_node_acked(f->st, s1, z, 2, &acked), 0);
	assert_true(acked);
	assert_int_equal(store_sync_node_acked(f->st, s1, z, 4, &acked), 0);
	assert_false(acked);
	assert_int_equal(store_sync_node_acked(f->st, s2, z, 3, &acked), 0);
	assert_false(acked);
	fx_close(f);
}

/* The walk's function may ack the rows it is handed. */
static int ack_each(const struct store_sync *s, void *ctx)
{
	struct store *st = ctx;

	assert_int_equal(store_sync_ack(st, s->server_id, s->zone_id, s->desired), 0);
	return 0;
}

static void test_sync_pending_callback_may_write(void **state)
{
	struct fx *f = *state;
	int64_t z;
	int i;

	fx_open(f);
	add_server(f->st, "ns1", true);
	add_server(f->st, "ns2", true);
	for (i = 0; i < 5; i++) {
		char name[32];

		snprintf(name, sizeof(name), "z%d.example.", i);
		z = add_zone(f->st, name, 1);
		assert_int_equal(store_sync_want_all(f->st, z, 1), 0);
	}
	assert_int_equal(store_sync_foreach_pending(f->st, 0, 0, -1, 0, ack_each, f->st), 0);
	assert_int_equal(pending(f->st, 0, 0, 0).n, 0);
	fx_close(f);
}

static void test_sync_summary_counts(void **state)
{
	struct fx *f = *state;
	struct store_sync_summary sum;
	int64_t s1, s2, z1, z2, z3;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	s2 = add_server(f->st, "ns2", true);
	assert_int_equal(store_sync_summary(f->st, s1, NULL, &sum), 0);
	assert_int_equal(sum.in_sync + sum.behind + sum.failing, 0);
	assert_int_equal(sum.oldest_pending, 0);
	assert_null(sum.last_error);

	z1 = add_zone(f->st, "a.example.", 1);
	z2 = add_zone(f->st, "b.example.", 1);
	z3 = add_zone(f->st, "c.example.", 1);
	assert_int_equal(store_sync_want_all(f->st, z1, 1), 0);
	assert_int_equal(store_sync_want_all(f->st, z2, 1), 0);
	assert_int_equal(store_sync_want_all(f->st, z3, 1), 0);
	assert_int_equal(store_sync_ack(f->st, s1, z1, 1), 0);
	assert_int_equal(store_sync_fail(f->st, s1, z2, "connection refused", 1, 0), 0);

	assert_int_equal(store_sync_summary(f->st, s1, NULL, &sum), 0);
	assert_int_equal(sum.in_sync, 1);
	assert_int_equal(sum.behind, 2);
	assert_int_equal(sum.failing, 1);
	assert_true(sum.oldest_pending > 0);
	assert_string_equal(sum.last_error, "connection refused");
	free(sum.last_error);

	assert_int_equal(store_sync_summary(f->st, s2, NULL, &sum), 0);
	assert_int_equal(sum.in_sync, 0);
	assert_int_equal(sum.behind, 3);
	assert_int_equal(sum.failing, 0);
	assert_null(sum.last_error);

	/* 0: every node. */
	assert_int_equal(store_sync_summary(f->st, 0, NULL, &sum), 0);
	assert_int_equal(sum.in_sync, 1);
	assert_int_equal(sum.behind, 5);
	assert_int_equal(sum.failing, 1);
	assert_int_equal(sum.deletes, 0);
	assert_string_equal(sum.last_error, "connection refused");
	free(sum.last_error);

	/* A deleted zone is not a zone to sync: its delete is counted apart,
	 * read in full or from the rows behind only. */
	struct store_zone got;
	assert_int_equal(store_zone_get(f->st, z3, &got), 0);
	got.deleted = true;
	got.version = 2;
	assert_int_equal(store_zone_update(f->st, &got), 0);
	store_zone_clear(&got);
	assert_int_equal(store_sync_want_all(f->st, z3, 2), 0);
	uint64_t live = 2;
	for (int quick = 0; quick < 2; quick++) {
		assert_int_equal(store_sync_summary(f->st, s2, quick ? &live : NULL, &sum), 0);
		assert_int_equal(sum.in_sync, 0);
		assert_int_equal(sum.behind, 2);
		assert_int_equal(sum.failing, 0);
		assert_int_equal(sum.deletes, 1);
		assert_int_equal(store_sync_summary(f->st, s1, quick ? &live : NULL, &sum), 0);
		assert_int_equal(sum.in_sync, 1);
		assert_int_equal(sum.behind, 1);
		assert_int_equal(sum.failing, 1);
		assert_int_equal(sum.deletes, 1);
		free(sum.last_error);
	}
	fx_close(f);
}

static void test_sync_all_acked(void **state)
{
	struct fx *f = *state;
	int64_t s1, s2, z;
	bool acked = true;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	s2 = add_server(f->st, "ns2", true);
	add_server(f->st, "ns-out", false);
	z = add_zone(f->st, "example.com.", 2);
	/* No rows yet: not acknowledged. */
	assert_int_equal(store_sync_all_acked(f->st, z, 2, &acked), 0);
	assert_false(acked);
	assert_int_equal(store_sync_want_all(f->st, z, 2), 0);
	assert_int_equal(store_sync_ack(f->st, s1, z, 2), 0);
	acked = true;
	assert_int_equal(store_sync_all_acked(f->st, z, 2, &acked), 0);
	assert_false(acked);
	assert_int_equal(store_sync_ack(f->st, s2, z, 3), 0);
	assert_int_equal(store_sync_all_acked(f->st, z, 2, &acked), 0);
	assert_true(acked); /* the out-of-cluster node does not count */
	assert_int_equal(store_sync_all_acked(f->st, z, 3, &acked), 0);
	assert_false(acked);
	/* A node that joins must catch up before a version counts as done. */
	add_server(f->st, "ns-late", true);
	assert_int_equal(store_sync_all_acked(f->st, z, 2, &acked), 0);
	assert_false(acked);
	fx_close(f);
}

static void test_server_delete_cascades_to_sync_state(void **state)
{
	struct fx *f = *state;
	struct store_sync_summary sum;
	int64_t s1, s2, z;

	fx_open(f);
	s1 = add_server(f->st, "ns1", true);
	s2 = add_server(f->st, "ns2", true);
	z = add_zone(f->st, "example.com.", 1);
	assert_int_equal(store_sync_want_all(f->st, z, 1), 0);
	assert_int_equal(store_sync_fail(f->st, s1, z, "down", 3, 0), 0);
	assert_int_equal(pending(f->st, 0, 0, 0).n, 2);

	assert_int_equal(store_server_delete(f->st, s1), 0);
	assert_int_equal(pending(f->st, s1, 0, 0).n, 0);
	assert_int_equal(pending(f->st, 0, 0, 0).n, 1);
	assert_int_equal(store_sync_summary(f->st, s1, NULL, &sum), 0);
	assert_int_equal(sum.in_sync + sum.behind + sum.failing, 0);
	assert_null(sum.last_error);
	/* Inside a caller's transaction too. */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_server_delete(f->st, s2), 0);
	assert_int_equal(store_commit(f->st), 0);
	fx_close(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM node_zone_state"), 0);
}

/* --- tokens ------------------------------------------------------------------------ */

struct token_walk {
	size_t n;
	int64_t id[4];
	bool revoked[4];
	char role[4][16];
};

static int walk_token(int64_t id, const char *name, const char *role, int64_t created_at,
		      bool revoked, void *ctx)
{
	struct token_walk *w = ctx;

	assert_true(w->n < 4);
	assert_non_null(name);
	assert_true(created_at > 0);
	w->id[w->n] = id;
	w->revoked[w->n] = revoked;
	snprintf(w->role[w->n], sizeof(w->role[w->n]), "%s", role);
	w->n++;
	return 0;
}

static void test_tokens_find_and_revoke(void **state)
{
	static const char h1[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	static const char h2[] = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";
	struct fx *f = *state;
	struct token_walk w = { 0 };
	int64_t id1 = 0, id2 = 0, found = 0;
	char role[16], name[64];

	fx_open(f);
	assert_int_equal(store_token_insert(f->st, "ci", h1, "admin", &id1), 0);
	assert_int_equal(store_token_insert(f->st, "dashboard", h2, "read", &id2), 0);
	assert_true(id1 > 0 && id2 > id1);
	assert_int_equal(store_token_insert(f->st, "again", h1, "read", NULL), ERR_CONFLICT);
	assert_int_equal(store_token_insert(f->st, "bad", "abc", "a-role-that-is-too-long", NULL),
			 -EINVAL);

	assert_int_equal(store_token_find(f->st, h1, role, &found, name), 0);
	assert_string_equal(role, "admin");
	assert_string_equal(name, "ci");
	assert_int_equal(found, id1);
	assert_int_equal(store_token_find(f->st, h2, role, &found, NULL), 0);
	assert_string_equal(role, "read");
	assert_int_equal(found, id2);
	assert_int_equal(store_token_find(f->st, "0000", role, &found, NULL), -ENOENT);
	/* Hashes are compared exactly. */
	assert_int_equal(
	    store_token_find(f->st,
			     "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
			     role, &found, NULL),
	    -ENOENT);

	uint64_t n = 9;
	bool revoked = true;
	assert_int_equal(store_token_count_live(f->st, "admin", NULL, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_token_count_live(f->st, NULL, "dashboard", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_token_count_live(f->st, NULL, "nobody", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_token_get(f->st, id1, role, &revoked), 0);
	assert_string_equal(role, "admin");
	assert_false(revoked);
	assert_int_equal(store_token_get(f->st, 99999, role, &revoked), -ENOENT);

	assert_int_equal(store_token_revoke(f->st, id1), 0);
	assert_int_equal(store_token_revoke(f->st, id1), 0);
	assert_int_equal(store_token_revoke(f->st, 99999), -ENOENT);
	assert_int_equal(store_token_get(f->st, id1, role, &revoked), 0);
	assert_true(revoked);
	/* Revoked tokens are not live: neither their role nor their name. */
	assert_int_equal(store_token_count_live(f->st, "admin", NULL, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_token_count_live(f->st, NULL, "ci", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_token_find(f->st, h1, role, &found, NULL), -ENOENT);

	assert_int_equal(store_token_foreach(f->st, walk_token, &w), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.id[0], id1);
	assert_true(w.revoked[0]);
	assert_string_equal(w.role[0], "admin");
	assert_int_equal(w.id[1], id2);
	assert_false(w.revoked[1]);
	fx_close(f);
}

/* --- history ------------------------------------------------------------------------ */

struct version_walk {
	uint64_t v[16];
	size_t n;
	bool records_seen;
};

static int walk_version(const struct store_version *v, void *ctx)
{
	struct version_walk *w = ctx;
	if (w->n < 16)
		w->v[w->n++] = v->version;
	w->records_seen |= v->records != NULL;
	return 0;
}

static size_t versions_of(struct store *st, int64_t zone, uint64_t before, unsigned limit,
			  struct version_walk *w)
{
	memset(w, 0, sizeof(*w));
	assert_int_equal(store_version_foreach(st, zone, before, limit, walk_version, w), 0);
	assert_false(w->records_seen);
	return w->n;
}

static int collect_id(int64_t id, void *ctx)
{
	struct version_walk *w = ctx;
	if (w->n < 16)
		w->v[w->n++] = (uint64_t)id;
	return 0;
}

static void test_versions_kept_listed_and_pruned(void **state)
{
	struct fx *f = *state;
	struct store_version got;
	struct version_walk w;
	uint64_t n = 0;
	int64_t now = time(NULL), old = now - 90 * 86400;
	int64_t z, small;

	fx_open(f);
	z = add_zone(f->st, "example.com.", 8);
	small = add_zone(f->st, "small.example.", 2);
	for (uint64_t v = 1; v <= 6; v++)
		add_version(f->st, z, v, old, v == 1 ? "zone.create" : "record.create");
	add_version(f->st, z, 7, now, "record.update");
	add_version(f->st, z, 8, now, "zone.rollback");
	add_version(f->st, small, 1, old, "zone.create");
	struct store_version bad = {
		.zone_id = 99999, .version = 1, .action = (char *)"x", .records = (char *)"[]"
	};
	assert_int_equal(store_version_insert(f->st, &bad), -ENOENT);
	int64_t mine = add_zone(f->st, "own-soa.example.", 2);
	add_version(f->st, mine, 1, now, "zone.create");
	struct store_version own = { .zone_id = mine,
				     .version = 2,
				     .action = (char *)"zone.soa",
				     .records = (char *)"[]",
				     .soa = (char *)"- - 7200 - - 300" };
	assert_int_equal(store_version_insert(f->st, &own), 0);

	/* The zone's own SOA fields come back with the version; NULL when
	 * none were kept. */
	assert_int_equal(store_version_get(f->st, mine, 2, &got), 0);
	assert_string_equal(got.soa, "- - 7200 - - 300");
	store_version_clear(&got);
	assert_int_equal(store_version_get(f->st, mine, 1, &got), 0);
	assert_null(got.soa);
	store_version_clear(&got);

	/* One version with its records; an unknown one is -ENOENT. */
	assert_int_equal(store_version_get(f->st, z, 7, &got), 0);
	assert_int_equal(got.version, 7);
	assert_int_equal(got.serial, 2024010107);
	assert_int_equal(got.created_at, now);
	assert_string_equal(got.actor, "ops");
	assert_string_equal(got.action, "record.update");
	assert_string_equal(got.summary, "a change");
	assert_string_equal(got.records, "[[\"@\",\"A\",300,\"192.0.2.1\"]]");
	assert_int_equal(got.record_count, 1);
	assert_false(got.deleted);
	store_version_clear(&got);
	assert_int_equal(store_version_get(f->st, z, 9, &got), -ENOENT);
	assert_int_equal(store_version_get(f->st, small, 7, &got), -ENOENT);

	/* Newest first, in pages. */
	assert_int_equal(versions_of(f->st, z, 0, 3, &w), 3);
	assert_int_equal(w.v[0], 8);
	assert_int_equal(w.v[2], 6);
	assert_int_equal(versions_of(f->st, z, 6, 100, &w), 5);
	assert_int_equal(w.v[0], 5);
	assert_int_equal(w.v[4], 1);

	/* Candidates: zones whose version is above 'keep'. */
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_version_candidates(f->st, 0, 2, 10, collect_id, &w), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal((int64_t)w.v[0], z);

	/* Retention: at most 'max' a step, the oldest first; never the
	 * 'keep' newest; never one younger than 'older_than'. */
	assert_int_equal(store_version_prune(f->st, z, 2, now - 30 * 86400, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_version_get(f->st, z, 2, &got), -ENOENT);
	assert_int_equal(store_version_get(f->st, z, 3, &got), 0);
	store_version_clear(&got);
	assert_int_equal(store_version_prune(f->st, z, 2, now - 30 * 86400, 100, &n), 0);
	assert_int_equal(n, 4); /* 3 to 6: older than 30 days and not among the 2 newest */
	assert_int_equal(versions_of(f->st, z, 0, 100, &w), 2);
	/* Version 7 is young: kept even when only one may stay. */
	assert_int_equal(store_version_prune(f->st, z, 1, now - 30 * 86400, 100, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_version_prune(f->st, z, 1, now + 1, 100, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(versions_of(f->st, z, 0, 100, &w), 1);
	assert_int_equal(w.v[0], 8);
	assert_int_equal(store_version_prune(f->st, small, 1, now + 1, 100, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_version_prune(f->st, z, 0, now, 100, &n), -EINVAL);
	fx_close(f);
}

static void test_audit_filters_pages_and_prunes(void **state)
{
	struct fx *f = *state;
	struct audit_walk w;
	uint64_t n = 0;
	int64_t z;

	fx_open(f);
	z = add_zone(f->st, "example.com.", 1);
	const struct store_audit_entry e[] = {
		{ .created_at = 1000, .actor = (char *)"ops", .action = (char *)"token.create" },
		{ .created_at = 2000,
		  .actor = (char *)"ops",
		  .action = (char *)"zone.create",
		  .zone_id = z,
		  .zone = (char *)"example.com.",
		  .version = 1 },
		{ .created_at = 3000,
		  .actor = (char *)"ci",
		  .action = (char *)"record.create",
		  .zone_id = z,
		  .zone = (char *)"example.com.",
		  .version = 2,
		  .summary = (char *)"add www A 192.0.2.1" },
		{ .created_at = 4000,
		  .actor = (char *)"ops",
		  .action = (char *)"server.update",
		  .summary = (char *)"server 'ns1'" },
		{ .created_at = 5000,
		  .actor = (char *)"ci",
		  .action = (char *)"record.create",
		  .zone_id = z,
		  .zone = (char *)"example.com.",
		  .version = 3 },
	};
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++)
		assert_int_equal(store_audit(f->st, &e[i]), 0);
	struct store_audit_entry bad = { .actor = (char *)"ops" };
	assert_int_equal(store_audit(f->st, &bad), -EINVAL);

	/* Everything, newest first; then a page after the second. */
	struct store_audit_filter q = { .limit = 100 };
	assert_int_equal(audit_of(f->st, &q, &w), 5);
	assert_string_equal(w.action[0], "record.create");
	assert_string_equal(w.action[4], "token.create");
	q.limit = 2;
	assert_int_equal(audit_of(f->st, &q, &w), 2);
	q.before = w.id[1];
	assert_int_equal(audit_of(f->st, &q, &w), 2);
	assert_string_equal(w.action[0], "record.create");
	assert_string_equal(w.action[1], "zone.create");

	/* Each filter, and filters together. */
	struct store_audit_filter by_zone = { .zone = "example.com.", .limit = 100 };
	assert_int_equal(audit_of(f->st, &by_zone, &w), 3);
	struct store_audit_filter by_actor = { .actor = "ci", .limit = 100 };
	assert_int_equal(audit_of(f->st, &by_actor, &w), 2);
	struct store_audit_filter by_action = { .action = "server.update", .limit = 100 };
	assert_int_equal(audit_of(f->st, &by_action, &w), 1);
	struct store_audit_filter both = { .zone = "example.com.", .actor = "ops", .limit = 100 };
	assert_int_equal(audit_of(f->st, &both, &w), 1);
	assert_string_equal(w.action[0], "zone.create");
	struct store_audit_filter none = { .actor = "nobody", .limit = 100 };
	assert_int_equal(audit_of(f->st, &none, &w), 0);

	/* Time ranges, inclusive at both ends. */
	struct store_audit_filter range = { .since = 2000, .until = 4000, .limit = 100 };
	assert_int_equal(audit_of(f->st, &range, &w), 3);
	assert_string_equal(w.action[0], "server.update");
	assert_string_equal(w.action[2], "zone.create");
	range.actor = "ci";
	assert_int_equal(audit_of(f->st, &range, &w), 1);
	struct store_audit_filter later = { .since = 6000, .limit = 100 };
	assert_int_equal(audit_of(f->st, &later, &w), 0);
	struct store_audit_filter earlier = { .until = 999, .limit = 100 };
	assert_int_equal(audit_of(f->st, &earlier, &w), 0);

	/* Pruning: at most 'max' a step, oldest first, only the old ones. */
	assert_int_equal(store_audit_prune(f->st, 3500, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_audit_prune(f->st, 3500, 100, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_audit_prune(f->st, 3500, 100, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(audit_of(f->st, &q, &w), 0); /* 'before' was the zone.create entry */
	q.before = 0;
	assert_int_equal(audit_of(f->st, &q, &w), 2);
	fx_close(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM audit_log WHERE zone_id IS NULL"), 1);
}

/* Both drivers refuse the same over-long values. */
static void test_length_limits_match(void **state)
{
	struct fx *f = *state;
	struct store_zone z = { 0 };
	char name[300];

	fx_open(f);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	z.domain = name;
	z.version = 1;
	assert_int_equal(store_zone_insert(f->st, &z), ERR_INVALID);
	z.domain = (char *)"ok.example.";
	assert_int_equal(store_zone_insert(f->st, &z), 0);
	fx_close(f);
}

/* --- SQLite only ----------------------------------------------------------------- */

struct key_walk {
	int64_t ids[8];
	char types[8][8];
	size_t n;
};

static int walk_key(const struct store_dnssec_key *k, void *ctx)
{
	struct key_walk *w = ctx;
	if (w->n < 8) {
		w->ids[w->n] = k->id;
		snprintf(w->types[w->n], sizeof(w->types[0]), "%s", k->keytype);
	}
	w->n++;
	assert_non_null(k->private_key);
	assert_non_null(k->dnskey);
	return 0;
}

/* ids[0] counts, ids[1..] are the ids seen. */
static int collect_ids(int64_t id, void *ctx)
{
	int64_t *ids = ctx;
	if (ids[0] < 3)
		ids[1 + ids[0]] = id;
	ids[0]++;
	return 0;
}

static void test_dnssec_settings_and_keys(void **state)
{
	struct fx *f = *state;
	struct store_dnssec d = { 0 }, got;
	struct key_walk w = { 0 };
	char priv[] = "Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: x\n";

	fx_open(f);
	int64_t a = add_zone(f->st, "signed.example.", 1);
	int64_t b = add_zone(f->st, "other.example.", 1);
	assert_int_equal(store_dnssec_get(f->st, a, &got), -ENOENT);
	assert_int_equal(store_dnssec_key_foreach(f->st, a, walk_key, &w), 0);
	assert_int_equal(w.n, 0);

	d.zone_id = a;
	d.enabled = true;
	d.algorithm = 15;
	d.scheme = (char *)"kskzsk";
	d.nsec3 = true;
	d.nsec3_optout = true;
	d.signed_at = 1800000000;
	assert_int_equal(store_dnssec_put(f->st, &d), 0);
	assert_int_equal(store_dnssec_get(f->st, a, &got), 0);
	assert_true(got.enabled && got.nsec3 && got.nsec3_optout);
	assert_int_equal(got.algorithm, 15);
	assert_string_equal(got.scheme, "kskzsk");
	assert_int_equal(got.signed_at, 1800000000);
	assert_true(got.updated_at > 0);
	store_dnssec_clear(&got);
	/* put replaces the row */
	d.enabled = false;
	d.nsec3 = false;
	assert_int_equal(store_dnssec_put(f->st, &d), 0);
	assert_int_equal(store_dnssec_get(f->st, a, &got), 0);
	assert_false(got.enabled);
	assert_false(got.nsec3);
	store_dnssec_clear(&got);

	const char *types[] = { "ksk", "zsk", "csk" };
	for (int i = 0; i < 3; i++) {
		struct store_dnssec_key k = { .zone_id = i < 2 ? a : b,
					      .keytype = (char *)types[i],
					      .algorithm = 13,
					      .flags = i == 1 ? 256 : 257,
					      .keytag = 4000u + (unsigned)i,
					      .dnskey = (char *)"257 3 13 AAAA",
					      .private_key = priv,
					      .active = true,
					      .published = i != 1 };
		assert_int_equal(store_dnssec_key_insert(f->st, &k), 0);
		assert_true(k.id > 0 && k.created_at > 0);
	}
	assert_int_equal(store_dnssec_key_foreach(f->st, a, walk_key, &w), 0);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.types[0], "ksk");
	assert_string_equal(w.types[1], "zsk");
	assert_true(w.ids[0] < w.ids[1]);

	struct store_dnssec_key bad = { .zone_id = a, .keytype = (char *)"csk" };
	assert_int_equal(store_dnssec_key_insert(f->st, &bad), -EINVAL);

	/* Rollover state, per-key changes, the rollover walk. */
	d.enabled = true;
	d.roll_kind = (char *)"zsk";
	d.roll_step = 2;
	d.roll_next_at = 1800000100;
	d.roll_version = 9;
	d.roll_ds_at = 1800000050;
	d.roll_wait = 3601;
	assert_int_equal(store_dnssec_put(f->st, &d), 0);
	assert_int_equal(store_dnssec_get(f->st, a, &got), 0);
	assert_string_equal(got.roll_kind, "zsk");
	assert_int_equal(got.roll_step, 2);
	assert_int_equal(got.roll_next_at, 1800000100);
	assert_int_equal(got.roll_version, 9);
	assert_int_equal(got.roll_ds_at, 1800000050);
	assert_int_equal(got.roll_wait, 3601);
	store_dnssec_clear(&got);
	int64_t rolling[4] = { 0 };
	assert_int_equal(store_dnssec_foreach_rolling(f->st, collect_ids, rolling), 0);
	assert_int_equal(rolling[0], 1);
	assert_int_equal(rolling[1], a);
	assert_int_equal(store_dnssec_key_set_flags(f->st, a, w.ids[1], true, true), 0);
	assert_int_equal(store_dnssec_key_set_flags(f->st, b, w.ids[1], true, true), -ENOENT);
	assert_int_equal(store_dnssec_key_delete(f->st, b, w.ids[0]), -ENOENT);
	assert_int_equal(store_dnssec_key_delete(f->st, a, w.ids[0]), 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_dnssec_key_foreach(f->st, a, walk_key, &w), 0);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.types[0], "zsk");

	/* Deleting a zone's DNSSEC state leaves the other zone's keys. */
	assert_int_equal(store_dnssec_delete(f->st, a), 0);
	assert_int_equal(store_dnssec_get(f->st, a, &got), -ENOENT);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_dnssec_key_foreach(f->st, a, walk_key, &w), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(store_dnssec_key_foreach(f->st, b, walk_key, &w), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(store_dnssec_key_delete_zone(f->st, b), 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_dnssec_key_foreach(f->st, b, walk_key, &w), 0);
	assert_int_equal(w.n, 0);
	fx_close(f);
}

struct listing_walk {
	size_t n;
	int64_t ids[8];
	char zones[8][64];
	char roll[8][16];
};

static int walk_listing(const struct store_key_listing *l, void *ctx)
{
	struct listing_walk *w = ctx;
	assert_null(l->key.private_key);
	assert_null(l->key.dnskey);
	if (w->n < 8) {
		w->ids[w->n] = l->key.id;
		snprintf(w->zones[w->n], sizeof(w->zones[0]), "%s", l->domain);
		snprintf(w->roll[w->n], sizeof(w->roll[0]), "%s%u", l->roll_kind, l->roll_step);
	}
	w->n++;
	return 0;
}

/* The keys of every signed live zone in one query, a page at a time: not
 * those of an unsigned zone (its keys stay until pushes removed them) nor
 * of a deleted one, and never the private part. */
static void test_dnssec_key_page_lists_signed_live_zones_only(void **state)
{
	struct fx *f = *state;
	char priv[] = "Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: x\n";
	const char *names[] = { "a.example.", "b.example.", "off.example.", "gone.example." };
	struct listing_walk w = { 0 };
	struct store_zone z;
	int64_t ids[4];

	fx_open(f);
	for (int i = 0; i < 4; i++) {
		ids[i] = add_zone(f->st, names[i], 1);
		struct store_dnssec d = { .zone_id = ids[i],
					  .enabled = i != 2,
					  .algorithm = 13,
					  .scheme = (char *)"csk",
					  .roll_kind = (char *)(i == 1 ? "csk" : ""),
					  .roll_step = i == 1 ? 1 : 0 };
		assert_int_equal(store_dnssec_put(f->st, &d), 0);
		for (int k = 0; k < (i == 1 ? 2 : 1); k++) {
			struct store_dnssec_key key = { .zone_id = ids[i],
							.keytype = (char *)"csk",
							.algorithm = 13,
							.flags = 257,
							.keytag = 100u + (unsigned)i,
							.dnskey = (char *)"257 3 13 AAAA",
							.private_key = priv,
							.active = true,
							.published = true };
			assert_int_equal(store_dnssec_key_insert(f->st, &key), 0);
		}
	}
	assert_int_equal(store_zone_get(f->st, ids[3], &z), 0);
	z.deleted = true;
	z.version++;
	assert_int_equal(store_zone_update(f->st, &z), 0);
	store_zone_clear(&z);

	assert_int_equal(store_dnssec_key_page(f->st, 0, 10, walk_listing, &w), 0);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.zones[0], "a.example.");
	assert_string_equal(w.zones[1], "b.example.");
	assert_string_equal(w.zones[2], "b.example.");
	assert_string_equal(w.roll[0], "0");
	assert_string_equal(w.roll[1], "csk1");
	/* Pages: after the first key, one at a time. */
	struct listing_walk p = { 0 };
	assert_int_equal(store_dnssec_key_page(f->st, w.ids[0], 1, walk_listing, &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.ids[0], w.ids[1]);
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_dnssec_key_page(f->st, w.ids[2], 5, walk_listing, &p), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(store_dnssec_key_page(f->st, 0, 0, walk_listing, &p), -EINVAL);
	assert_int_equal(store_dnssec_key_page(f->st, 0, STORE_KEY_PAGE_MAX + 1, walk_listing, &p),
			 -EINVAL);
	fx_close(f);
}

/* A durable connection's COMMIT returns once the WAL is synced (after the
 * writer lock, so writers share the flush); the sync engine's relaxed
 * connections skip it. Syncs of the WAL during one committed write on an open store. */
static int syncs_of_one_commit(struct fx *f, const char *domain)
{
	int before = wal_syncs;
	assert_int_equal(store_begin(f->st), 0);
	add_zone(f->st, domain, 1);
	assert_int_equal(store_commit(f->st), 0);
	return wal_syncs - before;
}

static void test_sqlite_durable_commit_syncs_the_wal(void **state)
{
	struct fx *f = *state;

	/* The first write to a new WAL may sync its header: not counted. */
	fx_open(f);
	syncs_of_one_commit(f, "first.example.");
	assert_int_equal(syncs_of_one_commit(f, "durable.example."), 1);
	assert_int_equal(syncs_of_one_commit(f, "durable2.example."), 1);
	fx_close(f);

	f->conf.relaxed = true;
	fx_open(f);
	syncs_of_one_commit(f, "first-relaxed.example.");
	assert_int_equal(syncs_of_one_commit(f, "relaxed.example."), 0);
	assert_int_equal(syncs_of_one_commit(f, "relaxed2.example."), 0);
	fx_close(f);
	f->conf.relaxed = false;
}

#define COMMITTERS 6

struct committer {
	struct fx *f;
	pthread_barrier_t *ready;
	int n;
	int r;
};

static void *commit_one(void *arg)
{
	struct committer *c = arg;
	char domain[64];
	struct errmsg err;
	struct store *st = NULL;

	c->r = store_open(&c->f->conf, &st, &err);
	pthread_barrier_wait(c->ready);
	if (c->r == 0)
		c->r = store_begin(st);
	if (c->r == 0) {
		snprintf(domain, sizeof(domain), "group%d.example.", c->n);
		struct store_zone z = { .domain = domain, .version = 1, .serial = 1 };
		c->r = store_zone_insert(st, &z);
	}
	if (c->r == 0)
		c->r = store_commit(st);
	store_close(st);
	return NULL;
}

/* Writers that commit while a sync is in flight share the next one: on a
 * disk where a sync takes 30 ms, six concurrent commits need two syncs or
 * three, not six (each waits for a sync that began after its commit). */
static void test_sqlite_concurrent_commits_share_a_sync(void **state)
{
	struct fx *f = *state;
	pthread_t t[COMMITTERS];
	struct committer c[COMMITTERS];
	pthread_barrier_t ready;

	fx_open(f);
	syncs_of_one_commit(f, "first.example."); /* the WAL's header */
	pthread_barrier_init(&ready, NULL, COMMITTERS);
	atomic_store(&wal_sync_delay_us, 30000);
	int before = atomic_load(&wal_syncs);
	for (int i = 0; i < COMMITTERS; i++) {
		c[i] = (struct committer){ f, &ready, i, -1 };
		assert_int_equal(pthread_create(&t[i], NULL, commit_one, &c[i]), 0);
	}
	for (int i = 0; i < COMMITTERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].r, 0);
	}
	int syncs = atomic_load(&wal_syncs) - before;
	atomic_store(&wal_sync_delay_us, 0);
	pthread_barrier_destroy(&ready);
	assert_true(syncs >= 1);
	assert_true(syncs < COMMITTERS);
	/* Every commit is there, for a connection opened afterwards too. */
	fx_close(f);
	fx_open(f);
	for (int i = 0; i < COMMITTERS; i++) {
		char domain[64];
		struct store_zone z;
		snprintf(domain, sizeof(domain), "group%d.example.", i);
		assert_int_equal(store_zone_get_by_name(f->st, domain, &z), 0);
		store_zone_clear(&z);
	}
	fx_close(f);
}

static void test_sqlite_file_is_0600(void **state)
{
	struct fx *f = *state;
	struct stat sb;
	mode_t old = umask(0);

	fx_open(f);
	umask(old);
	add_server(f->st, "ns1", true);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	fx_close(f);
}

static void test_sqlite_refuses_readable_file(void **state)
{
	struct fx *f = *state;
	struct errmsg err;
	struct store *st = NULL;

	fx_open(f);
	fx_close(f);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(store_open(&f->conf, &st, &err), ERR_CONFIG);
	assert_null(st);
	assert_non_null(strstr(err.text, "0644"));
	assert_non_null(strstr(err.text, f->path));
	assert_int_equal(chmod(f->path, 0640), 0);
	assert_int_equal(store_open(&f->conf, &st, &err), ERR_CONFIG);
	assert_int_equal(chmod(f->path, 0600), 0);
	fx_open(f);
	fx_close(f);
}

static void test_sqlite_missing_directory(void **state)
{
	struct fx *f = *state;
	struct store_conf conf = f->conf;
	char path[PATH_MAX + 16];
	struct errmsg err;
	struct store *st = NULL;

	snprintf(path, sizeof(path), "%s/no/such.db", f->dir);
	conf.path = path;
	assert_int_equal(store_open(&conf, &st, &err), ERR_CONFIG);
	assert_non_null(strstr(err.text, "no/such.db"));
	conf.path = NULL;
	assert_int_equal(store_open(&conf, &st, &err), ERR_CONFIG);
	assert_null(st);
}

/* A writer that cannot get the database within the busy timeout gets
 * ERR_UNAVAILABLE (the caller may retry), not a generic failure. */
static void test_sqlite_busy_is_unavailable(void **state)
{
	struct fx *f = *state;
	struct store_server s = { .name = (char *)"ns-waiting" };
	struct errmsg err;
	struct store *other;

	fx_open(f);
	assert_int_equal(store_open(&f->conf, &other, &err), 0);
	assert_int_equal(store_begin(f->st), 0);
	add_server(f->st, "ns-holding", true);
	assert_int_equal(store_server_insert(other, &s), ERR_UNAVAILABLE);
	store_rollback(f->st);
	assert_int_equal(store_server_insert(other, &s), 0);
	store_close(other);
	fx_close(f);
}

/* --- MySQL only ---------------------------------------------------------------- */

static void test_mysql_bad_password_is_not_echoed(void **state)
{
	struct fx *f = *state;
	struct store_conf conf = f->conf;
	struct errmsg err;
	struct store *st = NULL;
	int r;

	conf.password = "wrong-password-7f3a9";
	r = store_open(&conf, &st, &err);
	assert_int_equal(r, ERR_CONFIG);
	assert_null(st);
	assert_null(strstr(err.text, "wrong-password-7f3a9"));
	assert_non_null(strstr(err.text, conf.user));
}

/* Every driver runs these; T() names the driver's fixtures. */
/* clang-format off */
#define STORE_TESTS \
	T(test_migrations_idempotent_on_reopen), \
	T(test_newer_schema_is_refused), \
	T(test_xfr_settings_per_zone_and_default), \
	T(test_every_query_has_its_sql), \
	T(test_migration_5_names_old_audit_entries), \
	T(test_migration_18_keeps_the_wait_of_a_rollover), \
	T(test_unknown_driver_is_refused), \
	T(test_comments), \
	T(test_commit_survives_reopen), \
	T(test_rollback_leaves_nothing), \
	T(test_close_rolls_back), \
	T(test_server_crud), \
	T(test_zone_crud), \
	T(test_zone_prefix_walk_finds_the_names_that_start_with_it), \
	T(test_zone_prefix_walk_is_in_id_order_by_either_plan), \
	T(test_zone_revival_keeps_id_and_raises_version), \
	T(test_zone_purge), \
	T(test_record_crud), \
	T(test_secondary_crud), \
	T(test_update_policy_crud), \
	T(test_policy_crud), \
	T(test_sync_want_all_and_ack_never_lowers), \
	T(test_sync_want_server_includes_tombstones), \
	T(test_sync_held_and_forget), \
	T(test_sync_pending_due_limit_and_order), \
	T(test_sync_pending_beyond_the_horizon_is_due), \
	T(test_sync_pending_keeps_its_place), \
	T(test_sync_pending_callback_may_write), \
	T(test_sync_reset_follows_the_node), \
	T(test_sync_reset_server_resends_everything), \
	T(test_sync_node_acked), \
	T(test_sync_summary_counts), \
	T(test_sync_all_acked), \
	T(test_server_delete_cascades_to_sync_state), \
	T(test_tokens_find_and_revoke), \
	T(test_versions_kept_listed_and_pruned), \
	T(test_audit_filters_pages_and_prunes), \
	T(test_length_limits_match), \
	T(test_dnssec_settings_and_keys), \
	T(test_dnssec_key_page_lists_signed_live_zones_only)
/* clang-format on */

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown_sqlite)
	const struct CMUnitTest sqlite_tests[] = {
		STORE_TESTS,
		T(test_sqlite_durable_commit_syncs_the_wal),
		T(test_sqlite_concurrent_commits_share_a_sync),
		T(test_sqlite_file_is_0600),
		T(test_sqlite_refuses_readable_file),
		T(test_sqlite_missing_directory),
		T(test_sqlite_busy_is_unavailable),
	};
#undef T
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_mysql, teardown_mysql)
	const struct CMUnitTest mysql_tests[] = {
		T(test_mysql_bad_password_is_not_echoed),
		/* Last, so the database keeps the tables of the last test. */
		STORE_TESTS,
	};
#undef T
	int failed;

	install_count_vfs();
	failed = cmocka_run_group_tests_name("store_sqlite", sqlite_tests, NULL, NULL);
	if (mysql_configured())
		failed += cmocka_run_group_tests_name("store_mysql", mysql_tests, NULL, NULL);
	else
		printf("store_mysql: skipped (YUMNA_TEST_MYSQL_HOST, _USER, _DATABASE unset)\n");
	return failed;
}
