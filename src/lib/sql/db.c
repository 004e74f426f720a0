/* What the two drivers share: choosing one, error text, and the expansion
 * of the few dialect markers the SQL written over them uses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sql/db.h"

static db_open_fn mysql_open;

void db_set_mysql_open(db_open_fn fn)
{
	mysql_open = fn;
}

int db_open(const struct db_conf *conf, struct db **ret, struct errmsg *err)
{
	const char *driver = conf->driver != NULL ? conf->driver : "sqlite";

	if (strcmp(driver, "sqlite") == 0 || strcmp(driver, "sqlite3") == 0)
		return db_sqlite_open(conf, ret, err);
	if (strcmp(driver, "mysql") == 0 || strcmp(driver, "mariadb") == 0) {
		if (mysql_open == NULL)
			return errmsg_set(err, ERR_CONFIG, "the mysql driver is not loaded");
		return mysql_open(conf, ret, err);
	}
	return errmsg_set(err, ERR_CONFIG, "unknown database driver '%s' (sqlite or mysql)",
			  driver);
}

int db_exec_script(struct db *db, const char *sql)
{
	return db->ops->exec_script(db, sql);
}

int db_ping(struct db *db)
{
	return db->ops->ping(db);
}

int db_check(struct db *db)
{
	return db->ops->check != NULL ? db->ops->check(db) : 0;
}

int db_table_exists(struct db *db, const char *table)
{
	struct db_stmt *s;
	int r = db_prepare(db, db->dialect->table_exists, &s);

	if (r < 0)
		return r;
	r = db_bind_text(s, 1, table);
	if (r == 0)
		r = db_step(s);
	db_reset(s);
	db_finalize(s);
	return r < 0 ? r : r == DB_ROW;
}

int db_set_error(struct db *db, int code, const char *msg)
{
	snprintf(db->err, sizeof(db->err), "%s", msg != NULL ? msg : "unknown error");
	return code;
}

/* A growing string; 'ok' turns false on the first failed allocation. */
struct sb {
	char *p;
	size_t len, cap;
	bool ok;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (!b->ok)
		return;
	if (b->p == NULL || b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (p == NULL) {
			b->ok = false;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* 'fmt' with its one "%s" replaced by the n bytes at 'arg'. */
static void sb_subst(struct sb *b, const char *fmt, const char *arg, size_t n)
{
	const char *pct = strstr(fmt, "%s");

	if (pct == NULL) {
		sb_add(b, fmt, strlen(fmt));
		return;
	}
	sb_add(b, fmt, (size_t)(pct - fmt));
	sb_add(b, arg, n);
	sb_add(b, pct + 2, strlen(pct + 2));
}

char *db_sql_expand(const struct db *db, const char *sql)
{
	const struct db_dialect *d = db->dialect;
	struct sb b = { .ok = true };
	const char *p = sql;

	/* The SQL holds no other braces: '{' always opens a marker. */
	while (*p != '\0') {
		const char *open = strchr(p, '{');
		const char *close, *arg;

		if (open == NULL) {
			sb_add(&b, p, strlen(p));
			break;
		}
		close = strchr(open, '}');
		if (close == NULL) {
			sb_add(&b, p, strlen(p));
			break;
		}
		sb_add(&b, p, (size_t)(open - p));
		arg = memchr(open, ':', (size_t)(close - open));
		if (strncmp(open, "{GREATEST}", 10) == 0) {
			sb_add(&b, d->greatest, strlen(d->greatest));
		} else if (strncmp(open, "{FOR_UPDATE}", 12) == 0) {
			sb_add(&b, d->for_update, strlen(d->for_update));
		} else if (arg != NULL && strncmp(open, "{UPSERT:", 8) == 0) {
			sb_subst(&b, d->upsert_head, arg + 1, (size_t)(close - arg - 1));
		} else if (arg != NULL && strncmp(open, "{NEW:", 5) == 0) {
			sb_subst(&b, d->upsert_new, arg + 1, (size_t)(close - arg - 1));
		} else if (arg != NULL && strncmp(open, "{INDEXED_BY:", 12) == 0) {
			sb_subst(&b, d->indexed_by, arg + 1, (size_t)(close - arg - 1));
		} else {
			sb_add(&b, open, (size_t)(close - open + 1));
		}
		p = close + 1;
	}
	if (b.ok && b.p == NULL)
		sb_add(&b, "", 0);
	if (!b.ok) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
