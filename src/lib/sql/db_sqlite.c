/* The SQLite driver: the embedded default store, and PowerDNS's gsqlite3.
 *
 * Durability: WAL, and a durable connection's COMMIT returns only once the
 * WAL holding it has reached the disk. SQLite's synchronous=FULL would sync
 * inside the commit, while the writer lock is held, so every writer waited
 * for every other writer's fsync. Here the connection runs with
 * synchronous=NORMAL and syncs the WAL itself after the COMMIT and after
 * the lock is released: writers that commit meanwhile share the disk flush
 * (group commit), and nothing is acknowledged before it is on disk. The
 * sync engine's bookkeeping connections ('relaxed') skip that sync.
 * Writers take the lock at BEGIN (BEGIN IMMEDIATE): a deferred transaction
 * that later needs to write can fail with SQLITE_BUSY without the busy
 * handler being consulted. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/err.h"
#include "sql/db.h"

#define BUSY_TIMEOUT_MS 5000

struct lite_db {
	struct db base;
	sqlite3 *h;
	bool writing; /* holds the writer mutex */
	bool durable; /* sync the WAL after each COMMIT */
	struct wal_group *group;
};

struct lite_stmt {
	struct db_stmt base;
	sqlite3_stmt *stmt;
};

static const struct db_dialect lite_dialect = {
	.greatest = "MAX",
	.upsert_head = "ON CONFLICT(%s) DO UPDATE SET",
	.upsert_new = "excluded.%s",
	.for_update = "",
	.indexed_by = "INDEXED BY %s",
	.table_exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
};

static struct lite_db *lite(struct db *db)
{
	return (struct lite_db *)db;
}

static struct lite_stmt *lstmt(struct db_stmt *s)
{
	return (struct lite_stmt *)s;
}

/* The store code for SQLite result code 'rc' (extended codes are on). */
static int map_rc(sqlite3 *h, int rc)
{
	int sys;

	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return ERR_CONFLICT;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		/* Every foreign key cascades on delete, so this is an insert
		 * or update naming a row that does not exist. */
		return -ENOENT;
	case SQLITE_CONSTRAINT_NOTNULL:
	case SQLITE_CONSTRAINT_CHECK:
		return ERR_INVALID;
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return ERR_UNAVAILABLE;
	case SQLITE_FULL:
		return ERR_NO_SPACE;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_IOERR:
		sys = h != NULL ? sqlite3_system_errno(h) : 0;
		if (sys == ENOSPC || sys == EDQUOT)
			return ERR_NO_SPACE;
		return ERR_BACKEND;
	}
	return ERR_BACKEND;
}

static int lite_error(struct db *db, int rc)
{
	sqlite3 *h = lite(db)->h;

	return db_set_error(db, map_rc(h, rc), h != NULL ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
}

/* SQLite has one writer at a time. Left to themselves, the controller's
 * threads would wait for the write lock in SQLite's busy handler, which
 * sleeps in steps of up to 100 ms: measured, that cut 2,000 writes/s to
 * under 600 with latency spikes over a second. In-process writers queue on
 * this mutex instead, held from BEGIN to COMMIT or ROLLBACK. */
static pthread_mutex_t writer = PTHREAD_MUTEX_INITIALIZER;

/* Group commit, per database file. Its commits are numbered in WAL order,
 * under 'writer'; one thread at a time syncs the WAL, and that sync covers
 * every commit numbered before it began (an fdatasync covers what any
 * connection wrote to the file). A committer already covered syncs
 * nothing; one that is not waits for the sync in flight, then leads the
 * next. */
struct wal_group {
	struct wal_group *next;
	dev_t dev;
	ino_t ino;
	unsigned users;
	atomic_uint_fast64_t commits; /* last number given */
	uint64_t synced;	      /* every commit up to this is on disk */
	bool syncing;		      /* a sync is in flight */
};
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER; /* the groups' fields */
static pthread_cond_t sync_done = PTHREAD_COND_INITIALIZER;
static struct wal_group *groups;

static struct wal_group *group_join(dev_t dev, ino_t ino)
{
	pthread_mutex_lock(&sync_lock);
	struct wal_group *g = groups;
	while (g != NULL && (g->dev != dev || g->ino != ino))
		g = g->next;
	if (g == NULL && (g = calloc(1, sizeof(*g))) != NULL) {
		g->dev = dev;
		g->ino = ino;
		g->next = groups;
		groups = g;
	}
	if (g != NULL)
		g->users++;
	pthread_mutex_unlock(&sync_lock);
	return g;
}

static void group_leave(struct wal_group *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&sync_lock);
	if (--g->users == 0) {
		struct wal_group **p = &groups;
		while (*p != g)
			p = &(*p)->next;
		*p = g->next;
		free(g);
	}
	pthread_mutex_unlock(&sync_lock);
}

static void lite_close(struct db *db)
{
	struct lite_db *l = lite(db);

	if (l->writing)
		pthread_mutex_unlock(&writer);

	/* Statements are finalized by their owner first; close_v2 would
	 * defer the close otherwise instead of failing. */
	sqlite3_close_v2(l->h);
	group_leave(l->group);
	free(l);
}

static int lite_exec(struct db *db, const char *sql)
{
	int rc = sqlite3_exec(lite(db)->h, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : lite_error(db, rc);
}

static int lite_ping(struct db *db)
{
	(void)db;
	return 0;
}

static int lite_prepare(struct db *db, const char *sql, struct db_stmt **ret)
{
	struct lite_stmt *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return db_set_error(db, -ENOMEM, "out of memory");
	rc = sqlite3_prepare_v3(lite(db)->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt, NULL);
	if (rc != SQLITE_OK) {
		free(s);
		return lite_error(db, rc);
	}
	s->base.db = db;
	*ret = &s->base;
	return 0;
}

static void lite_finalize(struct db_stmt *s)
{
	sqlite3_finalize(lstmt(s)->stmt);
	free(s);
}

static int lite_bind_int64(struct db_stmt *s, unsigned idx, int64_t v)
{
	int rc = sqlite3_bind_int64(lstmt(s)->stmt, (int)idx, v);

	return rc == SQLITE_OK ? 0 : lite_error(s->db, rc);
}

static int lite_bind_text(struct db_stmt *s, unsigned idx, const char *v)
{
	int rc;

	if (v == NULL)
		rc = sqlite3_bind_null(lstmt(s)->stmt, (int)idx);
	else
		rc = sqlite3_bind_text(lstmt(s)->stmt, (int)idx, v, -1, SQLITE_TRANSIENT);
	return rc == SQLITE_OK ? 0 : lite_error(s->db, rc);
}

static int lite_step(struct db_stmt *s)
{
	int rc = sqlite3_step(lstmt(s)->stmt);

	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	return lite_error(s->db, rc);
}

static void lite_reset(struct db_stmt *s)
{
	/* Returns the error of the last step again, already reported. */
	(void)sqlite3_reset(lstmt(s)->stmt);
}

static bool lite_column_null(struct db_stmt *s, unsigned col)
{
	return sqlite3_column_type(lstmt(s)->stmt, (int)col) == SQLITE_NULL;
}

static int64_t lite_column_int64(struct db_stmt *s, unsigned col)
{
	return sqlite3_column_int64(lstmt(s)->stmt, (int)col);
}

static const char *lite_column_text(struct db_stmt *s, unsigned col)
{
	return (const char *)sqlite3_column_text(lstmt(s)->stmt, (int)col);
}

static int64_t lite_last_insert_id(struct db_stmt *s)
{
	return sqlite3_last_insert_rowid(lite(s->db)->h);
}

static uint64_t lite_changes(struct db_stmt *s)
{
	int n = sqlite3_changes(lite(s->db)->h);

	return n > 0 ? (uint64_t)n : 0;
}

static int lite_begin(struct db *db)
{
	pthread_mutex_lock(&writer);
	int r = lite_exec(db, "BEGIN IMMEDIATE");
	if (r < 0)
		pthread_mutex_unlock(&writer);
	else
		lite(db)->writing = true;
	return r;
}

static void end_write(struct db *db)
{
	if (lite(db)->writing) {
		lite(db)->writing = false;
		pthread_mutex_unlock(&writer);
	}
}

/* Flush this connection's WAL file to disk (fdatasync). */
static int sync_wal(struct db *db)
{
	sqlite3_file *wal = NULL;
	int rc = sqlite3_file_control(lite(db)->h, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
	if (rc == SQLITE_OK && (wal == NULL || wal->pMethods == NULL))
		rc = SQLITE_IOERR_FSYNC; /* not in WAL mode: never the case here */
	if (rc == SQLITE_OK)
		rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
	return rc == SQLITE_OK ? 0 : lite_error(db, rc);
}

/* Return once commit 'mine' of this connection's file is on disk. */
static int group_sync(struct db *db, uint64_t mine)
{
	struct wal_group *g = lite(db)->group;
	int r = 0;
	pthread_mutex_lock(&sync_lock);
	while (r == 0 && g->synced < mine) {
		if (g->syncing) {
			pthread_cond_wait(&sync_done, &sync_lock);
			continue;
		}
		g->syncing = true;
		uint64_t covers = atomic_load(&g->commits);
		pthread_mutex_unlock(&sync_lock);
		r = sync_wal(db);
		pthread_mutex_lock(&sync_lock);
		g->syncing = false;
		if (r == 0 && covers > g->synced)
			g->synced = covers;
		pthread_cond_broadcast(&sync_done);
	}
	pthread_mutex_unlock(&sync_lock);
	return r;
}

static int lite_commit(struct db *db)
{
	uint64_t mine = 0;
	int r = lite_exec(db, "COMMIT");
	if (r == 0)
		mine = atomic_fetch_add(&lite(db)->group->commits, 1) + 1;
	if (r == 0 || sqlite3_get_autocommit(lite(db)->h))
		end_write(db);
	if (r == 0 && lite(db)->durable)
		r = group_sync(db, mine);
	return r;
}

static int lite_rollback(struct db *db)
{
	int r = 0;
	/* SQLite rolls back by itself after some errors (SQLITE_FULL,
	 * SQLITE_IOERR, ...); a second ROLLBACK would be an error. */
	if (!sqlite3_get_autocommit(lite(db)->h))
		r = lite_exec(db, "ROLLBACK");
	end_write(db);
	return r;
}

static const struct db_ops lite_ops = {
	.close = lite_close,
	.exec = lite_exec,
	.exec_script = lite_exec, /* sqlite3_exec runs every statement */
	.ping = lite_ping,
	.prepare = lite_prepare,
	.finalize = lite_finalize,
	.bind_int64 = lite_bind_int64,
	.bind_text = lite_bind_text,
	.step = lite_step,
	.reset = lite_reset,
	.column_null = lite_column_null,
	.column_int64 = lite_column_int64,
	.column_text = lite_column_text,
	.last_insert_id = lite_last_insert_id,
	.changes = lite_changes,
	.begin = lite_begin,
	.commit = lite_commit,
	.rollback = lite_rollback,
};

/* Creates the file 0600 when missing, and refuses one that group or others
 * may read or write: it holds secrets (the controller's store: the agents'
 * secrets; an agent's PowerDNS database: DNSSEC and TSIG keys). SQLite
 * gives the -wal and -shm files the database file's mode.
 *
 * An existing file is checked with stat(), never opened: closing any
 * descriptor of the file drops every POSIX lock this process holds on it,
 * those of the open connections included. Another process closing the
 * database then takes itself for the last one and deletes the -wal and
 * -shm files under the running connections, which from then on neither
 * see its writes nor are seen by it. */
/* Check the database file ('path'), creating it if missing; its identity
 * in *ret. */
static int check_file(const char *path, struct stat *ret, struct errmsg *err)
{
	struct stat sb;
	int fd, e;

	if (stat(path, &sb) < 0) {
		e = errno;
		if (e != ENOENT)
			return errmsg_set(err, ERR_CONFIG, "cannot stat database '%s': %s", path,
					  strerror(e));
		/* Missing: no connection of ours can have it open. */
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0 && errno != EEXIST) {
			e = errno;
			errmsg_set(err, 0, "cannot create database '%s': %s", path, strerror(e));
			return e == ENOSPC || e == EDQUOT ? ERR_NO_SPACE : ERR_CONFIG;
		}
		if (fd >= 0)
			close(fd);
		if (stat(path, &sb) < 0) {
			e = errno;
			return errmsg_set(err, ERR_CONFIG, "cannot stat database '%s': %s", path,
					  strerror(e));
		}
	}
	if (!S_ISREG(sb.st_mode))
		return errmsg_set(err, ERR_CONFIG, "database '%s' is not a regular file", path);
	if ((sb.st_mode & 077) != 0)
		return errmsg_set(
		    err, ERR_CONFIG,
		    "database '%s' is accessible by group or others (mode %04o) and holds "
		    "secrets: chmod 600 it",
		    path, (unsigned)(sb.st_mode & 07777));
	*ret = sb;
	return 0;
}

/* Runs a PRAGMA that answers one row and checks the answer. */
static int pragma_expect(struct db *db, const char *sql, const char *want, struct errmsg *err)
{
	sqlite3_stmt *s;
	const char *got;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(lite(db)->h, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		r = lite_error(db, rc);
		return errmsg_set(err, r, "%s: %s", sql, db->err);
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = lite_error(db, rc);
		errmsg_set(err, 0, "%s: %s", sql, db->err);
	} else if (want != NULL) {
		got = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
		if (got == NULL || strcmp(got, want) != 0) {
			errmsg_set(err, 0, "%s: answered '%s', need '%s'", sql,
				   got != NULL ? got : "", want);
			r = ERR_BACKEND;
		}
	}
	sqlite3_finalize(s);
	return r;
}

int db_sqlite_open(const struct db_conf *conf, struct db **ret, struct errmsg *err)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	struct lite_db *l;
	struct stat sb;
	char sql[64];
	int rc, r;

	if (conf->path == NULL || conf->path[0] == '\0')
		return errmsg_set(err, ERR_CONFIG, "sqlite store needs a database path");
	if (conf->private_file) {
		r = check_file(conf->path, &sb, err);
		if (r < 0)
			return r;
	} else {
		flags |= SQLITE_OPEN_CREATE;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return errmsg_set(err, -ENOMEM, "out of memory");
	l->base.ops = &lite_ops;
	l->base.dialect = &lite_dialect;
	l->base.kind = DB_SQLITE;
	rc = sqlite3_open_v2(conf->path, &l->h, flags, NULL);
	if (rc != SQLITE_OK) {
		r = lite_error(&l->base, rc);
		errmsg_set(err, 0, "cannot open database '%s': %s", conf->path, l->base.err);
		goto fail;
	}
	/* The file's identity names its group of committers (created above
	 * when it was missing). */
	if (!conf->private_file && stat(conf->path, &sb) < 0) {
		r = ERR_CONFIG;
		errmsg_set(err, 0, "cannot stat database '%s': %s", conf->path, strerror(errno));
		goto fail;
	}
	l->group = group_join(sb.st_dev, sb.st_ino);
	if (l->group == NULL) {
		r = -ENOMEM;
		errmsg_set(err, 0, "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(l->h, 1);
	sqlite3_busy_timeout(l->h, BUSY_TIMEOUT_MS);
	r = pragma_expect(&l->base, "PRAGMA journal_mode=WAL", "wal", err);
	if (r < 0)
		goto fail;
	/* Durable connections sync the WAL themselves after each COMMIT. */
	r = pragma_expect(&l->base, "PRAGMA synchronous=NORMAL", NULL, err);
	l->durable = !conf->relaxed;
	if (r < 0)
		goto fail;
	r = pragma_expect(&l->base, "PRAGMA foreign_keys=ON", NULL, err);
	if (r < 0)
		goto fail;
	/* A build without foreign keys accepts the pragma silently. */
	r = pragma_expect(&l->base, "PRAGMA foreign_keys", "1", err);
	if (r < 0)
		goto fail;
	/* Statement journals (a multi-row INSERT or an upsert that may have to
	 * undo part of itself) stay in memory: in a temporary file each such
	 * statement costs an open and a write per page, six times the page
	 * writes of a whole batch transaction. */
	r = pragma_expect(&l->base, "PRAGMA temp_store=MEMORY", NULL, err);
	if (r < 0)
		goto fail;
	if (conf->cache_kib > 0) {
		snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%u", conf->cache_kib);
		r = pragma_expect(&l->base, sql, NULL, err);
		if (r < 0)
			goto fail;
	}
	*ret = &l->base;
	return 0;
fail:
	lite_close(&l->base);
	return r;
}
