/* The MariaDB/MySQL driver (libmariadb): the production store, the way
 * onto a replicated or Galera database, and PowerDNS's gmysql.
 *
 * Every statement is a server-side prepared statement with bound
 * parameters; nothing is ever pasted into SQL text. Result sets are stored
 * on the client (mysql_stmt_store_result) as soon as a statement runs, so
 * another statement can run on the connection while the caller still reads
 * rows; a 'stream' connection reads them from the wire instead. The session is InnoDB, utf8mb4, strict, READ COMMITTED (fewer gap
 * locks and so fewer deadlocks than REPEATABLE READ; needs binlog_format ROW
 * or MIXED, the MariaDB default, on a server that writes a binary log).
 *
 * The connection does not reconnect by itself: a silent reconnect would
 * drop an open transaction and the session settings. A lost connection is
 * ERR_UNAVAILABLE with db->lost set; the owner closes the handle and opens
 * a new one. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
/* The build skips the forced banned.h for this file (src/lib/meson.build)
 * because the macros of mysql.h use strcpy: apply it from here on. */
#undef YUMNA_BANNED_H
#include "base/banned.h"

#include "base/err.h"
#include "sql/db.h"

#define CONNECT_TIMEOUT_S 5
#define IO_TIMEOUT_S 60

struct my_db {
	struct db base;
	MYSQL *conn;
	bool stream;
};

struct my_param {
	int64_t i;
	char *text;
	unsigned long len;
	my_bool is_null;
};

struct my_col {
	char *buf;
	unsigned long cap;
	unsigned long len;
	my_bool is_null;
	my_bool error;
	bool is_int;
	int64_t i;
	char num[24];
};

struct my_stmt {
	struct db_stmt base;
	MYSQL_STMT *stmt;
	unsigned nparams, ncols;
	MYSQL_BIND *pb;
	struct my_param *pv;
	MYSQL_BIND *cb;
	struct my_col *cv;
	bool executed, has_result;
};

static const struct db_dialect my_dialect = {
	.greatest = "GREATEST",
	.upsert_head = "ON DUPLICATE KEY UPDATE",
	.upsert_new = "VALUES(%s)",
	.for_update = " FOR UPDATE",
	.indexed_by = "FORCE INDEX (%s)",
	.table_exists = "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() "
			"AND table_name = ?",
};

static struct my_db *mydb(struct db *db)
{
	return (struct my_db *)db;
}

static struct my_stmt *mystmt(struct db_stmt *s)
{
	return (struct my_stmt *)s;
}

static int map_errno(unsigned e)
{
	switch (e) {
	case ER_DUP_ENTRY:
	case ER_DUP_ENTRY_WITH_KEY_NAME:
	case ER_DUP_KEY:
	case ER_ROW_IS_REFERENCED:
	case ER_ROW_IS_REFERENCED_2:
		return ERR_CONFLICT;
	case ER_NO_REFERENCED_ROW:
	case ER_NO_REFERENCED_ROW_2:
		return -ENOENT;
	case ER_BAD_NULL_ERROR:
	case ER_DATA_TOO_LONG:
	case ER_CONSTRAINT_FAILED:
	case ER_WARN_DATA_OUT_OF_RANGE:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
		return ERR_INVALID;
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_ABORTED:
	case ER_CON_COUNT_ERROR:
	case ER_TOO_MANY_USER_CONNECTIONS:
	case ER_SERVER_SHUTDOWN:
	case ER_CONNECTION_KILLED:
	case ER_QUERY_INTERRUPTED:
	case ER_STATEMENT_TIMEOUT:
	case ER_NET_READ_INTERRUPTED:
	case ER_NET_WRITE_INTERRUPTED:
	case ER_ERROR_DURING_COMMIT:
	case ER_UNKNOWN_COM_ERROR:	   /* Galera: node not ready / not primary */
	case ER_OPTION_PREVENTS_STATEMENT: /* read_only: a replica, mid-failover */
	case ER_READ_ONLY_MODE:
	case ER_HOST_IS_BLOCKED:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_IPSOCK_ERROR:
	case CR_SOCKET_CREATE_ERROR:
	case CR_UNKNOWN_HOST:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_SERVER_HANDSHAKE_ERR:
		return ERR_UNAVAILABLE;
	case ER_DISK_FULL:
	case ER_RECORD_FILE_FULL:
		return ERR_NO_SPACE;
	case CR_OUT_OF_MEMORY:
		return -ENOMEM;
	case ER_ACCESS_DENIED_ERROR:
	case ER_DBACCESS_DENIED_ERROR:
	case ER_HOST_NOT_PRIVILEGED:
	case ER_BAD_DB_ERROR:
		return ERR_CONFIG;
	}
	return ERR_BACKEND;
}

/* The errors after which the connection cannot be used again. */
static bool conn_gone(unsigned e)
{
	switch (e) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_COMMANDS_OUT_OF_SYNC:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
		return true;
	}
	return false;
}

/* InnoDB reports a full disk as "table is full" or as errno 28 (ENOSPC)
 * inside a write error. */
static bool no_space(unsigned e, const char *msg)
{
	if (e != ER_ERROR_ON_WRITE && e != ER_GET_ERRNO)
		return false;
	return strstr(msg, "errno: 28") != NULL || strstr(msg, "Errcode: 28") != NULL ||
	       strstr(msg, "error 28 ") != NULL;
}

static int set_error(struct db *db, unsigned e, const char *msg)
{
	if (conn_gone(e))
		db->lost = true;
	return db_set_error(db, no_space(e, msg) ? ERR_NO_SPACE : map_errno(e), msg);
}

static int conn_error(struct db *db)
{
	MYSQL *c = mydb(db)->conn;

	return set_error(db, mysql_errno(c), mysql_error(c));
}

static int stmt_error(struct my_stmt *s)
{
	return set_error(s->base.db, mysql_stmt_errno(s->stmt), mysql_stmt_error(s->stmt));
}

static void my_close(struct db *db)
{
	struct my_db *m = mydb(db);

	mysql_close(m->conn);
	free(m);
}

static int my_exec(struct db *db, const char *sql)
{
	MYSQL *c = mydb(db)->conn;
	MYSQL_RES *res;

	if (mysql_real_query(c, sql, strlen(sql)) != 0)
		return conn_error(db);
	/* Drain a result the statement may have produced (SELECT GET_LOCK). */
	if (mysql_field_count(c) > 0) {
		res = mysql_store_result(c);
		if (res == NULL)
			return conn_error(db);
		mysql_free_result(res);
	}
	return 0;
}

/* Every statement's result is read, so that an error in any is seen. DDL
 * commits implicitly: a script that fails half-way has run its first half. */
static int my_exec_script(struct db *db, const char *sql)
{
	MYSQL *c = mydb(db)->conn;
	int r = 0, status;

	if (mysql_set_server_option(c, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0)
		return conn_error(db);
	status = mysql_real_query(c, sql, strlen(sql));
	if (status != 0)
		r = conn_error(db);
	while (status == 0) {
		mysql_free_result(mysql_store_result(c));
		status = mysql_next_result(c);
		if (status > 0)
			r = conn_error(db);
	}
	if (mysql_set_server_option(c, MYSQL_OPTION_MULTI_STATEMENTS_OFF) != 0 && r == 0)
		r = conn_error(db);
	return r;
}

static int my_ping(struct db *db)
{
	if (db->lost)
		return db_set_error(db, ERR_UNAVAILABLE, "connection lost");
	if (mysql_ping(mydb(db)->conn) != 0) {
		db->lost = true;
		return conn_error(db);
	}
	return 0;
}

/* Between statements the server sends nothing unasked but the end of the
 * connection (an error packet, then the socket closed): anything to read
 * now means the connection is gone. A streamed result may still be on the
 * wire, so such a connection is not checked. */
static int my_check(struct db *db)
{
	struct my_db *m = mydb(db);

	if (db->lost)
		return db_set_error(db, ERR_UNAVAILABLE, "connection lost");
	if (m->stream)
		return 0;
	struct pollfd p = { .fd = (int)mysql_get_socket(m->conn), .events = POLLIN | POLLRDHUP };
	if (p.fd < 0 || poll(&p, 1, 0) <= 0)
		return 0;
	db->lost = true;
	return db_set_error(db, ERR_UNAVAILABLE, "the server closed the connection");
}

static void my_finalize(struct db_stmt *base)
{
	struct my_stmt *s = mystmt(base);
	unsigned i;

	if (s->has_result)
		mysql_stmt_free_result(s->stmt);
	mysql_stmt_close(s->stmt);
	for (i = 0; s->pv != NULL && i < s->nparams; i++)
		free(s->pv[i].text);
	for (i = 0; s->cv != NULL && i < s->ncols; i++)
		free(s->cv[i].buf);
	free(s->pb);
	free(s->pv);
	free(s->cb);
	free(s->cv);
	free(s);
}

static int my_prepare(struct db *db, const char *sql, struct db_stmt **ret)
{
	struct my_stmt *s = calloc(1, sizeof(*s));
	my_bool on = 1;
	int r;

	if (s == NULL)
		return db_set_error(db, -ENOMEM, "out of memory");
	s->base.db = db;
	s->stmt = mysql_stmt_init(mydb(db)->conn);
	if (s->stmt == NULL) {
		free(s);
		return conn_error(db);
	}
	if (mysql_stmt_prepare(s->stmt, sql, strlen(sql)) != 0) {
		r = stmt_error(s);
		my_finalize(&s->base);
		return r;
	}
	/* Lets mysql_stmt_store_result() size every text column. */
	mysql_stmt_attr_set(s->stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
	s->nparams = (unsigned)mysql_stmt_param_count(s->stmt);
	s->ncols = mysql_stmt_field_count(s->stmt);
	if (s->nparams > 0) {
		s->pb = calloc(s->nparams, sizeof(*s->pb));
		s->pv = calloc(s->nparams, sizeof(*s->pv));
	}
	if (s->ncols > 0) {
		s->cb = calloc(s->ncols, sizeof(*s->cb));
		s->cv = calloc(s->ncols, sizeof(*s->cv));
	}
	if ((s->nparams > 0 && (s->pb == NULL || s->pv == NULL)) ||
	    (s->ncols > 0 && (s->cb == NULL || s->cv == NULL))) {
		my_finalize(&s->base);
		return db_set_error(db, -ENOMEM, "out of memory");
	}
	*ret = &s->base;
	return 0;
}

static int param_slot(struct my_stmt *s, unsigned idx)
{
	if (idx == 0 || idx > s->nparams)
		return db_set_error(s->base.db, ERR_BACKEND, "parameter index out of range");
	free(s->pv[idx - 1].text);
	s->pv[idx - 1].text = NULL;
	return 0;
}

/* Parameter 'idx' (1-based) made ready for a new value: its bind cleared
 * and pointed at its NULL flag. */
static int param_reset(struct my_stmt *s, unsigned idx, struct my_param **ret_p, MYSQL_BIND **ret_b)
{
	int r = param_slot(s, idx);
	if (r < 0)
		return r;
	*ret_p = &s->pv[idx - 1];
	*ret_b = &s->pb[idx - 1];
	memset(*ret_b, 0, sizeof(**ret_b));
	(*ret_b)->is_null = &(*ret_p)->is_null;
	return 0;
}

static int my_bind_int64(struct db_stmt *base, unsigned idx, int64_t v)
{
	struct my_param *p;
	MYSQL_BIND *b;
	int r = param_reset(mystmt(base), idx, &p, &b);

	if (r < 0)
		return r;
	p->i = v;
	p->is_null = 0;
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = &p->i;
	return 0;
}

static int my_bind_text(struct db_stmt *base, unsigned idx, const char *v)
{
	struct my_param *p;
	MYSQL_BIND *b;
	int r = param_reset(mystmt(base), idx, &p, &b);

	if (r < 0)
		return r;
	if (v == NULL) {
		p->is_null = 1;
		b->buffer_type = MYSQL_TYPE_NULL;
		return 0;
	}
	p->text = strdup(v);
	if (p->text == NULL)
		return db_set_error(base->db, -ENOMEM, "out of memory");
	p->len = (unsigned long)strlen(v);
	p->is_null = 0;
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = p->text;
	b->buffer_length = p->len;
	b->length = &p->len;
	return 0;
}

static int grow_col(struct my_col *c, unsigned long need)
{
	char *p;

	if (need <= c->cap)
		return 0;
	p = realloc(c->buf, need);
	if (p == NULL)
		return -ENOMEM;
	c->buf = p;
	c->cap = need;
	return 0;
}

static bool int_type(enum enum_field_types t)
{
	switch (t) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_YEAR:
		return true;
	default:
		return false;
	}
}

/* Binds a buffer for every result column: integers as int64, everything
 * else (text, DECIMAL from SUM()) as a string as long as its longest value. */
static int bind_result(struct my_stmt *s)
{
	MYSQL_RES *meta = mysql_stmt_result_metadata(s->stmt);
	MYSQL_FIELD *f;
	unsigned i, n;

	if (meta == NULL)
		return stmt_error(s);
	n = mysql_num_fields(meta);
	f = mysql_fetch_fields(meta);
	if (n != s->ncols) {
		mysql_free_result(meta);
		return db_set_error(s->base.db, ERR_BACKEND, "result column count changed");
	}
	for (i = 0; i < n; i++) {
		struct my_col *c = &s->cv[i];
		MYSQL_BIND *b = &s->cb[i];

		memset(b, 0, sizeof(*b));
		b->is_null = &c->is_null;
		b->error = &c->error;
		b->length = &c->len;
		c->is_int = int_type(f[i].type);
		if (c->is_int) {
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &c->i;
			continue;
		}
		/* A streamed result has no max_length: start small, and
		 * refetch_truncated() grows what does not fit. */
		if (grow_col(c, (mydb(s->base.db)->stream ? 255 : f[i].max_length) + 1) < 0) {
			mysql_free_result(meta);
			return db_set_error(s->base.db, -ENOMEM, "out of memory");
		}
		b->buffer_type = MYSQL_TYPE_STRING;
		b->buffer = c->buf;
		b->buffer_length = c->cap;
	}
	mysql_free_result(meta);
	if (mysql_stmt_bind_result(s->stmt, s->cb) != 0)
		return stmt_error(s);
	return 0;
}

/* A value longer than its buffer (max_length should prevent it): grow the
 * buffer and fetch that column again. */
static int refetch_truncated(struct my_stmt *s)
{
	unsigned i;

	for (i = 0; i < s->ncols; i++) {
		struct my_col *c = &s->cv[i];
		MYSQL_BIND *b = &s->cb[i];

		if (c->is_int || c->is_null || c->len < c->cap)
			continue;
		if (grow_col(c, c->len + 1) < 0)
			return db_set_error(s->base.db, -ENOMEM, "out of memory");
		b->buffer = c->buf;
		b->buffer_length = c->cap;
		if (mysql_stmt_fetch_column(s->stmt, b, i, 0) != 0)
			return stmt_error(s);
	}
	if (mysql_stmt_bind_result(s->stmt, s->cb) != 0)
		return stmt_error(s);
	return 0;
}

static int my_step(struct db_stmt *base)
{
	struct my_stmt *s = mystmt(base);
	int rc, r;

	if (!s->executed) {
		if (s->nparams > 0 && mysql_stmt_bind_param(s->stmt, s->pb) != 0)
			return stmt_error(s);
		if (mysql_stmt_execute(s->stmt) != 0)
			return stmt_error(s);
		s->executed = true;
		if (mysql_stmt_field_count(s->stmt) > 0) {
			if (!mydb(s->base.db)->stream && mysql_stmt_store_result(s->stmt) != 0)
				return stmt_error(s);
			s->has_result = true;
			r = bind_result(s);
			if (r < 0)
				return r;
		}
	}
	if (!s->has_result)
		return DB_DONE;
	rc = mysql_stmt_fetch(s->stmt);
	if (rc == 0)
		return DB_ROW;
	if (rc == MYSQL_NO_DATA)
		return DB_DONE;
	if (rc == MYSQL_DATA_TRUNCATED) {
		r = refetch_truncated(s);
		return r < 0 ? r : DB_ROW;
	}
	return stmt_error(s);
}

static void my_reset(struct db_stmt *base)
{
	struct my_stmt *s = mystmt(base);

	if (s->has_result)
		mysql_stmt_free_result(s->stmt);
	s->has_result = false;
	s->executed = false;
}

static bool my_column_null(struct db_stmt *base, unsigned col)
{
	struct my_stmt *s = mystmt(base);

	return col >= s->ncols || s->cv[col].is_null;
}

static int64_t my_column_int64(struct db_stmt *base, unsigned col)
{
	struct my_stmt *s = mystmt(base);
	struct my_col *c;

	if (my_column_null(base, col))
		return 0;
	c = &s->cv[col];
	if (c->is_int)
		return c->i;
	c->buf[c->len < c->cap ? c->len : c->cap - 1] = '\0';
	return strtoll(c->buf, NULL, 10);
}

static const char *my_column_text(struct db_stmt *base, unsigned col)
{
	struct my_stmt *s = mystmt(base);
	struct my_col *c;

	if (my_column_null(base, col))
		return NULL;
	c = &s->cv[col];
	if (c->is_int) {
		snprintf(c->num, sizeof(c->num), "%" PRId64, c->i);
		return c->num;
	}
	c->buf[c->len < c->cap ? c->len : c->cap - 1] = '\0';
	return c->buf;
}

static int64_t my_last_insert_id(struct db_stmt *base)
{
	return (int64_t)mysql_stmt_insert_id(mystmt(base)->stmt);
}

static uint64_t my_changes(struct db_stmt *base)
{
	my_ulonglong n = mysql_stmt_affected_rows(mystmt(base)->stmt);

	return n == (my_ulonglong)-1 ? 0 : (uint64_t)n;
}

static int my_begin(struct db *db)
{
	return my_exec(db, "START TRANSACTION");
}

static int my_commit(struct db *db)
{
	return my_exec(db, "COMMIT");
}

static int my_rollback(struct db *db)
{
	return my_exec(db, "ROLLBACK");
}

static const struct db_ops my_ops = {
	.close = my_close,
	.exec = my_exec,
	.exec_script = my_exec_script,
	.ping = my_ping,
	.check = my_check,
	.prepare = my_prepare,
	.finalize = my_finalize,
	.bind_int64 = my_bind_int64,
	.bind_text = my_bind_text,
	.step = my_step,
	.reset = my_reset,
	.column_null = my_column_null,
	.column_int64 = my_column_int64,
	.column_text = my_column_text,
	.last_insert_id = my_last_insert_id,
	.changes = my_changes,
	.begin = my_begin,
	.commit = my_commit,
	.rollback = my_rollback,
};

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;

/* mysql_init() initialises the library on first use, which is not safe
 * when two threads open their first connection at the same time. */
static void library_init(void)
{
	library_rc = mysql_library_init(0, NULL, NULL);
}

/* Strict: a value too long for a column fails instead of being cut. No
 * engine substitution: a table that cannot be InnoDB is an error, never a
 * MyISAM table without transactions. */
static const char *const session_sql[] = {
	"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
	"ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
	"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
	"SET SESSION autocommit = 1",
};
#define N_SESSION_SQL (sizeof(session_sql) / sizeof(session_sql[0]))

static const char *opt(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

int db_mysql_open(const struct db_conf *conf, struct db **ret, struct errmsg *err)
{
	unsigned connect_timeout = CONNECT_TIMEOUT_S, io_timeout = IO_TIMEOUT_S;
	unsigned local_infile = 0, proto = MYSQL_PROTOCOL_SOCKET;
	const char *host = opt(conf->host), *sock = opt(conf->socket);
	my_bool off = 0, on = 1;
	char lock_wait[64];
	const char *where;
	struct my_db *m;
	size_t i;
	int r;

	if (conf->database == NULL || conf->database[0] == '\0')
		return errmsg_set(err, ERR_CONFIG, "mysql store needs a database name");
	if (conf->user == NULL || conf->user[0] == '\0')
		return errmsg_set(err, ERR_CONFIG, "mysql store needs a user");
	pthread_once(&library_once, library_init);
	if (library_rc != 0)
		return errmsg_set(err, ERR_BACKEND, "cannot initialise the mysql client library");
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return errmsg_set(err, -ENOMEM, "out of memory");
	m->base.ops = &my_ops;
	m->base.dialect = &my_dialect;
	m->base.kind = DB_MYSQL;
	m->stream = conf->stream;
	m->conn = mysql_init(NULL);
	if (m->conn == NULL) {
		free(m);
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	mysql_options(m->conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	mysql_options(m->conn, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
	mysql_options(m->conn, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
	mysql_options(m->conn, MYSQL_OPT_RECONNECT, &off);
	mysql_options(m->conn, MYSQL_OPT_LOCAL_INFILE, &local_infile);
	mysql_options(m->conn, MYSQL_REPORT_DATA_TRUNCATION, &on);
	mysql_options(m->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (sock != NULL && host == NULL)
		mysql_options(m->conn, MYSQL_OPT_PROTOCOL, &proto);
	where = host != NULL ? host : sock != NULL ? sock : "localhost";
	/* The password goes to the library only; no message carries it. */
	if (mysql_real_connect(m->conn, host, conf->user, conf->password, conf->database,
			       conf->port, sock, CLIENT_FOUND_ROWS) == NULL) {
		r = conn_error(&m->base);
		errmsg_set(err, 0, "cannot connect to mysql '%s' as '%s': %s", where, conf->user,
			   m->base.err);
		goto fail;
	}
	/* Well below IO_TIMEOUT_S, so a lock wait fails as a lock wait
	 * (ERR_UNAVAILABLE) and not as a lost connection. */
	snprintf(lock_wait, sizeof(lock_wait), "SET SESSION innodb_lock_wait_timeout = %u",
		 conf->lock_wait_s > 0 ? conf->lock_wait_s : 10);
	for (i = 0; i <= N_SESSION_SQL; i++) {
		r = my_exec(&m->base, i < N_SESSION_SQL ? session_sql[i] : lock_wait);
		if (r < 0) {
			errmsg_set(err, 0, "mysql '%s': session set-up failed: %s", where,
				   m->base.err);
			goto fail;
		}
	}
	*ret = &m->base;
	return 0;
fail:
	mysql_close(m->conn);
	free(m);
	return r;
}
