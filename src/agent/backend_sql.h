/* The PowerDNS SQL of the backend (backend_sql.c), written once over the
 * SQL layer (sql/db.h) for gsqlite3 and gmysql. Internal to the backend
 * module: backend.c keeps the public functions of backend.h and the tree of
 * applied zones, and calls these for the database.
 *
 * Every function but backend_sql_open/close reopens a lost MySQL connection
 * first, unless a transaction was open on it (that transaction is gone: the
 * call fails with ERR_UNAVAILABLE until the caller rolls back). */
#ifndef YUMNA_AGENT_BACKEND_SQL_H
#define YUMNA_AGENT_BACKEND_SQL_H

#include "backend.h"

#include <time.h>

#include "sql/db.h"

/* Rows go in by multi-row INSERTs of these sizes (largest first): one
 * round trip for up to 64 rows on MySQL, one statement step on SQLite. */
#define BACKEND_SQL_ROW_COLS 7
#define BACKEND_SQL_CHUNKS 3
extern const unsigned backend_sql_chunk_rows[BACKEND_SQL_CHUNKS];

enum stmt_id {
	ST_STATE,
	ST_DOMAIN_ID,
	ST_DOMAIN_INSERT,
	ST_DOMAIN_KIND,
	ST_ROWS,
	ST_ROW_DELETE,
	ST_RECORDS_DELETE,
	ST_COMMENTS_DELETE,
	ST_META_DELETE,
	ST_KEYS_DELETE,
	ST_DOMAIN_DELETE,
	ST_TOMBSTONE,
	ST_MARK_CLEAN,
	ST_SET_VERSION,
	ST_SET_DIGEST,
	ST_STATE_PAGE,
	ST_MARK_ALL_CLEAN,
	ST_RECORDS_LIST,
	ST_ZONES_LIST,
	ST_KEYS_COUNT,
	ST_ZONE_EXTRAS,
	ST_COUNTS,
	ST_ZONE_COUNT,
	ST_KEYS_LIST,
	ST_KEY_INSERT,
	ST_KEY_DELETE,
	ST_META_GET,
	ST_META_ANY,
	ST_META_KIND_DELETE,
	ST_META_INSERT,
	ST_TSIG_DELETE,
	ST_TSIG_INSERT,
	ST_TSIG_GET,
	ST_ORDERNAME,
	ST_INSERT, /* ST_INSERT + i: insert backend_sql_chunk_rows[i] rows */
	ST_STATES = ST_INSERT + BACKEND_SQL_CHUNKS,	  /* the same for zone states */
	ST_DOMAINS = ST_STATES + BACKEND_SQL_CHUNKS,	  /* and for domains rows */
	ST_DOMAIN_IDS = ST_DOMAINS + BACKEND_SQL_CHUNKS,  /* their ids, read back */
	ST_PREFETCH = ST_DOMAIN_IDS + BACKEND_SQL_CHUNKS, /* BACKEND_PREFETCH_MAX states */
	ST_COUNT
};

/* A zone's state read ahead by backend_sql_prefetch(), with what
 * backend_sql_zone_state() keeps of its domains row for domain_id(). */
struct backend_prefetched {
	char zone[DNAME_TEXT_MAX];
	bool valid; /* not yet answered, the zone not written since */
	struct zone_state st;
	int64_t id; /* 0: no domains row */
	char kind[16];
};

/* The rows and zone states a transaction wrote, queued to go in by
 * multi-row statements (backend_queue.c): a fresh node's full sync of a
 * few thousand zones then costs the database a few hundred statements
 * instead of one per row and one per zone, which on MySQL are round trips. */
struct backend_queued_domain {
	size_t name, kind; /* offsets in 'text' */
	int64_t id;	   /* read back once the row is written */
};
struct backend_queued_row {
	int64_t domain_id; /* 0: that of queued domain 'domain' */
	size_t domain;
	size_t name, type, content; /* offsets in 'text'; SIZE_MAX for NULL */
	long prio;
	uint32_t ttl;
	bool auth;
};
struct backend_queued_state {
	size_t zone, digest; /* offsets in 'text' */
	uint64_t version;
	uint32_t serial;
	int64_t updated_at;
};
struct backend_queue {
	struct backend_queued_domain *domains;
	size_t ndomains, adomains;
	struct backend_queued_row *rows;
	size_t nrows, arows;
	struct backend_queued_state *states;
	size_t nstates, astates;
	char *text;
	size_t len, cap;
};

struct backend_sql {
	struct db *db;
	struct db_conf conf; /* its strings owned, to open the database again */
	struct db_stmt *st[ST_COUNT];
	bool prepared;	  /* statements exist (schema_ensure ran) */
	bool in_txn;	  /* a transaction is open on this connection */
	bool unreachable; /* the last connection attempt failed (logged once) */
	time_t last_used;
	char where[200]; /* "gmysql database 'x' at host:port", for log lines */
	/* The zone backend_sql_zone_state() last read and what it found of
	 * its domains row, for the write that usually follows. */
	char last_zone[DNAME_TEXT_MAX];
	int64_t last_id; /* 0: no domains row */
	char last_kind[16];
	struct backend_queue q;
	/* The states of the zones a transaction is about to read, read in one
	 * statement (backend_sql_prefetch); dropped when it ends. */
	struct backend_prefetched *win; /* BACKEND_PREFETCH_MAX entries */
	size_t nwin;
};

/* --- shared by backend_conn.c (connection, schema, transactions) and
 * backend_sql.c (zones) ------------------------------------------------ */

/* PowerDNS stores names lowercase without the trailing dot. */
void backend_sql_pdns_name(const char *name, char out[DNAME_TEXT_MAX]);
/* Log what an operator needs of error 'r' of the database; returns 'r'. */
int backend_sql_fail(struct backend_sql *b, int r);
/* Reopen a lost connection (outside a transaction); see the top. */
int backend_sql_ensure(struct backend_sql *b);
/* Statement 'id', reset, ready to bind. */
struct db_stmt *backend_sql_stmt(struct backend_sql *b, enum stmt_id id);
/* Run 's' (bound; 'r' is the binding's result) to its end. */
int backend_sql_run(struct backend_sql *b, struct db_stmt *s, int r);
/* Statement 'id' with one or two text parameters ('t2' NULL: one). */
int backend_sql_run_text(struct backend_sql *b, enum stmt_id id, const char *t1, const char *t2);
/* Statement 'id' with one integer parameter. */
int backend_sql_run_id(struct backend_sql *b, enum stmt_id id, int64_t v);
/* The first row of a SELECT bound by the caller ('r' the binding's result):
 * 1 (readable until the next db_reset of 's'), 0 (none) or an error. */
int backend_sql_first_row(struct backend_sql *b, struct db_stmt *s, int r);

/* Inside a transaction: the ordername of the rows of 'name' (absolute,
 * trailing dot) in 'zone' (NULL: none), an empty non-terminal's too. */
int backend_sql_ordername_set(struct backend_sql *b, const char *zone, const char *name,
			      const char *ordername);

/* Queue a domains row for zone 'name' (PowerDNS's form) of 'kind'. */
int backend_sql_queue_domain(struct backend_sql *b, const char *name, const char *kind);
/* Queue the rows of 'w' not found stored, for domain 'domain_id' (0: the
 * domain queued last). */
int backend_sql_queue_rows(struct backend_sql *b, int64_t domain_id, const struct backend_rows *w);
/* Queue 'z's state: applied at its version and serial, dirty. */
int backend_sql_queue_state(struct backend_sql *b, const struct backend_zone *z);
/* Write what is queued: everything ('zone' NULL), or only if 'zone' is
 * among the queued states (before a statement that reads or changes it). */
int backend_sql_flush(struct backend_sql *b, const char *zone);
/* Forget what is queued (the transaction rolls back). */
void backend_sql_queue_clear(struct backend_sql *b);

/* --- for backend.c ---------------------------------------------------- */

int backend_sql_open(const struct backend_conf *conf, struct backend_sql **ret);
void backend_sql_close(struct backend_sql *b);

/* The connection, for statements of another module on PowerDNS's tables
 * inside the backend's transaction (between backend_sql_begin and
 * commit). Borrowed; valid until the next call of this module. The rows
 * and states of zones written in the transaction may still be queued
 * (backend_sql_flush() writes them). */
struct db *backend_sql_db(struct backend_sql *b);

int backend_sql_schema_ensure(struct backend_sql *b, const char *schema_file);
int backend_sql_begin(struct backend_sql *b);
int backend_sql_commit(struct backend_sql *b);
void backend_sql_rollback(struct backend_sql *b);

int backend_sql_zone_state(struct backend_sql *b, const char *zone, struct zone_state *ret);
int backend_sql_prefetch(struct backend_sql *b, const char *const *zones, size_t n);
int backend_sql_zone_replace(struct backend_sql *b, const struct backend_zone *z, const char *kind,
			     int64_t *ret_domain_id);
int backend_sql_zone_delete(struct backend_sql *b, const char *zone, uint64_t version);
int backend_sql_zone_mark_clean(struct backend_sql *b, const char *zone);
int backend_sql_zone_set_version(struct backend_sql *b, const char *zone, uint64_t version,
				 uint32_t serial);
int backend_sql_zone_set_digest(struct backend_sql *b, const char *zone, const char *digest);
int backend_sql_mark_all_clean(struct backend_sql *b);
int backend_sql_zone_foreach(struct backend_sql *b, backend_zone_fn fn, void *ctx);
int backend_sql_state_page(struct backend_sql *b, const char *after, size_t limit,
			   backend_zone_fn fn, void *ctx, size_t *ret_n);
int backend_sql_zone_records(struct backend_sql *b, const char *zone, backend_record_fn fn,
			     void *ctx);
int backend_sql_counts(struct backend_sql *b, uint64_t *ret_zones, uint64_t *ret_records);
int backend_sql_zone_extras(struct backend_sql *b, const char *zone, bool *ret);
int backend_sql_zone_info(struct backend_sql *b, const char *zone, bool *ret_signed, char *kind,
			  unsigned kind_len);
int backend_sql_zone_keys(struct backend_sql *b, const char *zone, backend_key_fn fn, void *ctx);
int backend_sql_key_add(struct backend_sql *b, const char *zone, const struct backend_key *k);
int backend_sql_key_delete(struct backend_sql *b, int64_t id);
int backend_sql_meta_get(struct backend_sql *b, const char *zone, const char *kind, char *out,
			 size_t len);
int backend_sql_meta_any(struct backend_sql *b, const char *zone, const char *const *kinds,
			 size_t n);
int backend_sql_meta_set(struct backend_sql *b, const char *zone, const char *kind,
			 const char *value);
int backend_sql_meta_set_list(struct backend_sql *b, const char *zone, const char *kind,
			      const char *const *values, size_t n);
int backend_sql_tsig_put(struct backend_sql *b, const char *name, const char *algorithm,
			 const char *secret);
int backend_sql_tsig_get(struct backend_sql *b, const char *name, char *algorithm, size_t alg_len,
			 char *secret, size_t secret_len);

#endif
