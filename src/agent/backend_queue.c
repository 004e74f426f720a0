/* The queue of rows and zone states a transaction writes (backend_sql.h).
 *
 * Measured on a fresh gmysql node's full sync of 3,000 zones of ten
 * records, one statement per zone for its records and one for its state
 * made the sync a conversation of round trips with the server, several
 * times slower than gsqlite3. Queued, they go in by INSERTs of up to 64
 * rows across zones, new zones' domains rows too, whose ids are then read
 * back by name, 64 at a time, for their records. (A subquery per record
 * for its domain id cost MariaDB more than the round trips it saved.)
 *
 * What is queued is written before anything reads it or changes it: at
 * commit, before a zone's rows or state are read or written again, and
 * before every read of records or states. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend_sql.h"
#include "base/err.h"
#include "sql/db.h"

/* Written when this many rows or states are queued (about 1 MiB): the memory of a
 * batch's queue stays small, and the statements stay full. */
#define QUEUE_ROWS_MAX 8192
#define QUEUE_STATES_MAX 1024

static int grow(void **v, size_t *alloc, size_t need, size_t size)
{
	if (need <= *alloc)
		return 0;
	size_t a = *alloc ? 2 * *alloc : 64;
	while (a < need)
		a *= 2;
	void *nv = realloc(*v, a * size);
	if (nv == NULL)
		return -ENOMEM;
	*v = nv;
	*alloc = a;
	return 0;
}

/* Copy 'n' bytes of 's' and a NUL into the queue's text; its offset in
 * *ret (SIZE_MAX for NULL). */
static int add_text(struct backend_queue *q, const char *s, size_t n, size_t *ret)
{
	if (s == NULL) {
		*ret = SIZE_MAX;
		return 0;
	}
	int r = grow((void **)&q->text, &q->cap, q->len + n + 1, 1);
	if (r < 0)
		return r;
	memcpy(q->text + q->len, s, n);
	q->text[q->len + n] = '\0';
	*ret = q->len;
	q->len += n + 1;
	return 0;
}

static const char *text_at(const struct backend_queue *q, size_t off)
{
	return off == SIZE_MAX ? NULL : q->text + off;
}

void backend_sql_queue_clear(struct backend_sql *b)
{
	b->q.ndomains = b->q.nrows = b->q.nstates = b->q.len = 0;
}

int backend_sql_queue_domain(struct backend_sql *b, const char *name, const char *kind)
{
	struct backend_queue *q = &b->q;

	int r = grow((void **)&q->domains, &q->adomains, q->ndomains + 1, sizeof(*q->domains));
	if (r < 0)
		return r;
	struct backend_queued_domain *o = &q->domains[q->ndomains];
	r = add_text(q, name, strlen(name), &o->name);
	if (r == 0)
		r = add_text(q, kind, strlen(kind), &o->kind);
	o->id = 0;
	if (r == 0)
		q->ndomains++;
	return r;
}

int backend_sql_queue_rows(struct backend_sql *b, int64_t domain_id, const struct backend_rows *w)
{
	struct backend_queue *q = &b->q;
	int r = 0;

	if (domain_id == 0 && q->ndomains == 0)
		return ERR_BACKEND;
	for (size_t i = 0; r == 0 && i < w->n; i++) {
		const struct backend_row *row = &w->v[i];
		if (row->stored)
			continue;
		r = grow((void **)&q->rows, &q->arows, q->nrows + 1, sizeof(*q->rows));
		if (r < 0)
			return r;
		struct backend_queued_row *o = &q->rows[q->nrows];
		*o = (struct backend_queued_row){ .domain_id = domain_id,
						  .domain = q->ndomains - 1,
						  .prio = row->prio,
						  .ttl = row->ttl,
						  .auth = row->auth };
		r = add_text(q, row->name, row->name_len, &o->name);
		if (r == 0)
			r = add_text(q, row->type, row->type ? strlen(row->type) : 0, &o->type);
		if (r == 0)
			r = add_text(q, row->content, row->content ? strlen(row->content) : 0,
				     &o->content);
		if (r == 0)
			q->nrows++;
	}
	if (r == 0 && q->nrows >= QUEUE_ROWS_MAX)
		r = backend_sql_flush(b, NULL);
	return r;
}

int backend_sql_queue_state(struct backend_sql *b, const struct backend_zone *z)
{
	struct backend_queue *q = &b->q;
	const char *digest = z->digest ? z->digest : "";

	int r = grow((void **)&q->states, &q->astates, q->nstates + 1, sizeof(*q->states));
	if (r < 0)
		return r;
	struct backend_queued_state *o = &q->states[q->nstates];
	*o = (struct backend_queued_state){ .version = z->version,
					    .serial = z->serial,
					    .updated_at = (int64_t)time(NULL) };
	r = add_text(q, z->origin, strlen(z->origin), &o->zone);
	if (r == 0)
		r = add_text(q, digest, strlen(digest), &o->digest);
	if (r == 0)
		q->nstates++;
	if (r == 0 && q->nstates >= QUEUE_STATES_MAX)
		r = backend_sql_flush(b, NULL);
	return r;
}

static int bind_row(const struct backend_queue *q, struct db_stmt *s, unsigned i,
		    const struct backend_queued_row *row)
{
	unsigned p = i * BACKEND_SQL_ROW_COLS;
	bool ent = row->type == SIZE_MAX; /* an empty non-terminal: NULL but for its name */

	int64_t id = row->domain_id ? row->domain_id : q->domains[row->domain].id;
	int r = id != 0 ? db_bind_int64(s, p + 1, id) : ERR_BACKEND;
	if (r == 0)
		r = db_bind_text(s, p + 2, text_at(q, row->name));
	if (r == 0)
		r = db_bind_text(s, p + 3, text_at(q, row->type));
	if (r == 0)
		r = db_bind_text(s, p + 4, text_at(q, row->content));
	if (r == 0)
		r = ent ? db_bind_text(s, p + 5, NULL) : db_bind_int64(s, p + 5, row->ttl);
	if (r == 0)
		r = ent ? db_bind_text(s, p + 6, NULL) : db_bind_int64(s, p + 6, row->prio);
	if (r == 0)
		r = db_bind_int64(s, p + 7, row->auth ? 1 : 0);
	return r;
}

static int bind_state(const struct backend_queue *q, struct db_stmt *s, unsigned i,
		      const struct backend_queued_state *st)
{
	unsigned p = i * 5;

	int r = db_bind_text(s, p + 1, text_at(q, st->zone));
	if (r == 0)
		r = db_bind_int64(s, p + 2, (int64_t)st->version);
	if (r == 0)
		r = db_bind_int64(s, p + 3, st->serial);
	if (r == 0)
		r = db_bind_int64(s, p + 4, st->updated_at);
	if (r == 0)
		r = db_bind_text(s, p + 5, text_at(q, st->digest));
	return r;
}

/* Write 'n' queued items by statements 'first' + k of the chunk sizes,
 * 'bind' binding item i as a statement's row. */
static int write_multi(struct backend_sql *b, enum stmt_id first, size_t n,
		       int (*bind)(struct backend_sql *b, struct db_stmt *s, unsigned row,
				   size_t i))
{
	size_t i = 0;
	int r = 0;

	while (r == 0 && i < n) {
		unsigned k = 0;
		while (n - i < backend_sql_chunk_rows[k])
			k++;
		struct db_stmt *s = backend_sql_stmt(b, first + k);
		for (unsigned row = 0; r == 0 && row < backend_sql_chunk_rows[k]; row++)
			r = bind(b, s, row, i + row);
		r = backend_sql_run(b, s, r);
		i += backend_sql_chunk_rows[k];
	}
	return r;
}

static int bind_row_at(struct backend_sql *b, struct db_stmt *s, unsigned row, size_t i)
{
	return bind_row(&b->q, s, row, &b->q.rows[i]);
}

static int bind_state_at(struct backend_sql *b, struct db_stmt *s, unsigned row, size_t i)
{
	return bind_state(&b->q, s, row, &b->q.states[i]);
}

static int bind_domain_at(struct backend_sql *b, struct db_stmt *s, unsigned row, size_t i)
{
	const struct backend_queued_domain *d = &b->q.domains[i];

	int r = db_bind_text(s, 2 * row + 1, text_at(&b->q, d->name));
	return r < 0 ? r : db_bind_text(s, 2 * row + 2, text_at(&b->q, d->kind));
}

/* The ids of the queued domains just written, 'chunk' names at a time. */
static int read_domain_ids(struct backend_sql *b)
{
	struct backend_queue *q = &b->q;
	size_t i = 0;
	int r = 0;

	while (r == 0 && i < q->ndomains) {
		unsigned k = 0;
		while (q->ndomains - i < backend_sql_chunk_rows[k])
			k++;
		unsigned n = backend_sql_chunk_rows[k];
		struct db_stmt *s = backend_sql_stmt(b, ST_DOMAIN_IDS + k);
		for (unsigned j = 0; r == 0 && j < n; j++)
			r = db_bind_text(s, j + 1, text_at(q, q->domains[i + j].name));
		while (r == 0 && (r = db_step(s)) == DB_ROW) {
			const char *name = db_column_text(s, 1);
			for (unsigned j = 0; name != NULL && j < n; j++)
				if (strcmp(text_at(q, q->domains[i + j].name), name) == 0)
					q->domains[i + j].id = db_column_int64(s, 0);
			r = 0;
		}
		db_reset(s);
		r = backend_sql_fail(b, r);
		i += n;
	}
	return r;
}

static bool queued(const struct backend_queue *q, const char *zone)
{
	for (size_t i = 0; i < q->nstates; i++)
		if (strcmp(q->text + q->states[i].zone, zone) == 0)
			return true;
	return false;
}

int backend_sql_flush(struct backend_sql *b, const char *zone)
{
	struct backend_queue *q = &b->q;

	if (q->ndomains == 0 && q->nrows == 0 && q->nstates == 0)
		return 0;
	if (zone != NULL && !queued(q, zone))
		return 0;
	int r = write_multi(b, ST_DOMAINS, q->ndomains, bind_domain_at);
	if (r == 0)
		r = read_domain_ids(b);
	if (r == 0)
		r = write_multi(b, ST_INSERT, q->nrows, bind_row_at);
	if (r == 0)
		r = write_multi(b, ST_STATES, q->nstates, bind_state_at);
	backend_sql_queue_clear(b);
	return r;
}
