/* The PowerDNS backend database, written directly.
 *
 * This is the only module that knows PowerDNS's generic SQL schema
 * (domains, records, cryptokeys, ...). Writing it directly, in one
 * transaction per zone or per batch, is what makes a whole-zone replace
 * atomic and a 10,000-zone full sync take seconds instead of the minutes
 * PowerDNS's API needs (DESIGN.md section 3).
 *
 * Beside PowerDNS's tables the agent keeps yumna_zone_state: per zone the
 * applied version and serial, a tombstone flag for deleted zones (so an
 * older push cannot resurrect them) and a dirty flag (data committed but
 * PowerDNS's caches not yet purged). It lives in the same database so it
 * commits atomically with the records.
 *
 * A backend handle is not thread-safe; the agent serialises access. */
#ifndef YUMNA_AGENT_BACKEND_H
#define YUMNA_AGENT_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "dns/digest.h"
#include "dns/dns.h"
#include "model/ztree.h"

struct backend;

/* Where the backend database is. */
struct backend_conf {
	const char *kind; /* "gsqlite3" or "gmysql" */
	const char *path; /* gsqlite3: the database file */
	/* gsqlite3: the agent owns the file (managed mode): created 0600 when
	 * missing, refused when group or others may use it (db_conf). */
	bool private_file;
	bool sync_full;	  /* gsqlite3: synchronous=FULL, else NORMAL */
	const char *host; /* gmysql */
	unsigned port;
	const char *socket;
	const char *user;
	const char *password;
	const char *dbname;
};

struct zone_state {
	bool exists;  /* a domains row exists */
	bool known;   /* a yumna_zone_state row exists */
	bool deleted; /* tombstone */
	bool dirty;
	uint64_t version;
	uint32_t serial;
	/* The digest (dns/digest.h) of what the zone held when it was last
	 * written or verified; "" for a zone not served. */
	char digest[ZONE_DIGEST_HEX];
};

/* Connect to the database 'conf' names (a gsqlite3 file is created if
 * missing; WAL, synchronous as 'sync_full' says). */
int backend_open(const struct backend_conf *conf, struct backend **ret);
/* Accepts NULL. */
void backend_close(struct backend *b);

/* Create PowerDNS's tables from 'schema_file' (the file the PowerDNS package
 * ships) if the database has none, and the agent's own table. */
int backend_schema_ensure(struct backend *b, const char *schema_file);

int backend_begin(struct backend *b);
int backend_commit(struct backend *b);
void backend_rollback(struct backend *b);

/* The state of 'zone' (normalised name with trailing dot). */
int backend_zone_state(struct backend *b, const char *zone, struct zone_state *ret);

/* Inside a transaction: read the states of 'zones' (n <= BACKEND_PREFETCH_MAX,
 * normalised) in one statement, for the backend_zone_state() calls that
 * follow: each answers one of them once from what was read, unless the
 * zone was written since. The rest are dropped at the next prefetch, commit
 * or rollback. Outside a transaction it does nothing. On MySQL this is one
 * round trip where reading zone by zone is one per zone. */
#define BACKEND_PREFETCH_MAX 64
int backend_zone_state_prefetch(struct backend *b, const char *const *zones, size_t n);

/* One record as the backend stores it. */
struct backend_rr {
	const char *owner; /* absolute, lowercase, trailing dot */
	uint16_t type;
	uint32_t ttl;
	const char *content; /* canonical RDATA (MX/SRV with their priority) */
	bool auth;	     /* false for delegation NS and glue */
};

/* A whole zone at one version, ready to store. */
struct backend_zone {
	const char *origin; /* normalised, trailing dot */
	const struct backend_rr *rrs;
	size_t n;
	uint64_t version;
	uint32_t serial;
	const char *dnssec;   /* the push's zone.dnssec as JSON text, or NULL */
	const char *digest;   /* backend_zone_digest() of it, recorded with it */
	const char *transfer; /* the push's zone.transfer as JSON text, or NULL */
};

/* The digest of 'z' as pushed (SOA included). */
int backend_zone_digest(const struct backend_zone *z, char ret[ZONE_DIGEST_HEX]);

/* The digest of what the backend holds for 'zone' now, read from its
 * records ("" when PowerDNS does not hold the zone). */
int backend_zone_held_digest(struct backend *b, const char *zone, char ret[ZONE_DIGEST_HEX]);

/* Inside or outside a transaction: record 'digest' as what the zone holds
 * (the verifier found it changed behind the agent's back). */
int backend_zone_set_digest(struct backend *b, const char *zone, const char *digest);

/* Inside a transaction: replace the zone's records with 'z' (validated,
 * SOA included), set its kind ("NATIVE" or "MASTER"), record its version
 * and serial and mark it dirty. */
int backend_zone_replace(struct backend *b, const struct backend_zone *z, const char *kind,
			 int64_t *ret_domain_id);

/* Inside a transaction: remove the zone and all PowerDNS keeps for it,
 * leaving a tombstone at 'version'. */
int backend_zone_delete(struct backend *b, const char *zone, uint64_t version);

/* Clear the dirty flag (caches were purged). */
int backend_zone_mark_clean(struct backend *b, const char *zone);

/* Inside a transaction: record 'version' and 'serial' as applied for a
 * zone whose records were already written (a batch's signed zone, once its
 * keys are in). */
int backend_zone_set_version(struct backend *b, const char *zone, uint64_t version,
			     uint32_t serial);

/* Clear every dirty flag (all caches were purged). */
int backend_mark_all_clean(struct backend *b);

/* Call 'fn' for every zone PowerDNS holds or the agent remembers. */
typedef int (*backend_zone_fn)(const char *zone, const struct zone_state *st, void *ctx);
int backend_zone_foreach(struct backend *b, backend_zone_fn fn, void *ctx);

/* Call 'fn' for up to 'limit' zones the agent keeps a state for (applied
 * or deleted), in name order after 'after' ("" for the first); *ret_n is
 * how many. 'exists' is not filled. Memory does not grow with the number
 * of zones: page through them. */
int backend_state_page(struct backend *b, const char *after, size_t limit, backend_zone_fn fn,
		       void *ctx, size_t *ret_n);

/* Keep 't' (model/ztree.h) as the tree of every zone the agent applied and
 * did not delete, at its version and recorded digest: built now from the
 * database, then changed with every committed write through this handle.
 * Once per handle. */
int backend_tree_attach(struct backend *b, struct ztree *t);

/* Check the attached tree against the database, which may have changed
 * behind the agent (restored from a copy): start, then steps of a page
 * each (1 while more follow, 0 at the end, or an error) and finish, each
 * called under whatever serialises the handle's writes, with writes
 * allowed in between. Finish sets every bucket no commit touched since the
 * start to what the database held, returns how many differed, and frees
 * the check (also after an error or before the end: then it sets nothing). */
struct backend_tree_check;
int backend_tree_check_start(struct backend *b, struct backend_tree_check **ret);
int backend_tree_check_step(struct backend *b, struct backend_tree_check *c);
int backend_tree_check_finish(struct backend *b, struct backend_tree_check *c);

/* Call 'fn' for every record of 'zone' PowerDNS serves (disabled rows
 * left out), sorted by name, type, content.
 * 'name' has a trailing dot, 'content' is the full RDATA (MX and SRV with
 * their priority). -ENOENT if PowerDNS does not hold the zone. */
typedef int (*backend_record_fn)(const char *name, const char *type, const char *content,
				 uint32_t ttl, void *ctx);
int backend_zone_records(struct backend *b, const char *zone, backend_record_fn fn, void *ctx);

/* Zones PowerDNS holds and records over all of them ('ret_records' NULL:
 * the zones only, without reading every record). */
int backend_counts(struct backend *b, uint64_t *ret_zones, uint64_t *ret_records);

/* Whether 'zone' has any DNSSEC key (active or not) or metadata: what
 * PowerDNS caches beside its records. -ENOENT when it has no domains row. */
int backend_zone_extras(struct backend *b, const char *zone, bool *ret);

/* Whether 'zone' has DNSSEC keys, and its kind ("NATIVE", "MASTER"). */
int backend_zone_info(struct backend *b, const char *zone, bool *ret_signed, char *kind,
		      unsigned kind_len);

/* --- DNSSEC keys and metadata ------------------------------------------ */

/* One row of PowerDNS's cryptokeys table. */
struct backend_key {
	int64_t id;
	unsigned flags; /* 257: KSK or CSK, 256: ZSK */
	bool active;
	bool published;
	const char *content; /* the private key in ISC format */
};

/* Call 'fn' for every key of 'zone', in id order. 'fn' may not use the
 * backend (the rows are still being read). */
typedef int (*backend_key_fn)(const struct backend_key *k, void *ctx);
int backend_zone_keys(struct backend *b, const char *zone, backend_key_fn fn, void *ctx);

/* Inside a transaction, for a zone PowerDNS holds: add a key ('id' is not
 * read; -ENOENT if the zone has no domains row), remove one by its id. */
int backend_key_add(struct backend *b, const char *zone, const struct backend_key *k);
int backend_key_delete(struct backend *b, int64_t id);

/* Inside a transaction, after backend_zone_replace(z): the ordername of
 * every name of 'z' in its NSEC chain (all but glue below a delegation), as
 * PowerDNS's rectify would write it: for NSEC (nsec3param NULL) the
 * name's labels last first; for NSEC3 under 'nsec3param' (NSEC3PARAM
 * text) its hash, empty non-terminals included and the signer's hashed
 * owners left out. A presigned zone needs them for PowerDNS to answer
 * with its primary's NSEC or NSEC3 records (it finds the covering one by
 * ordername), and PowerDNS rectifies no presigned zone itself. 'z''s
 * records are sorted by owner (zone_check()). */
int backend_zone_ordernames(struct backend *b, const struct backend_zone *z,
			    const char *nsec3param);

/* The first value of the zone's metadata of 'kind' into 'out' (-ENOENT if
 * it has none, ERR_TOO_LARGE if it does not fit). */
int backend_meta_get(struct backend *b, const char *zone, const char *kind, char *out, size_t len);
/* Whether the zone has metadata of any of the 'n' kinds 'kinds' (1 to
 * BACKEND_META_ANY_MAX): 1 or 0, or a negative code. */
#define BACKEND_META_ANY_MAX 4
int backend_meta_any(struct backend *b, const char *zone, const char *const *kinds, size_t n);
/* Inside a transaction: make 'value' the zone's only metadata of 'kind'
 * (NULL: none). */
int backend_meta_set(struct backend *b, const char *zone, const char *kind, const char *value);
/* Kind 'kind' of the zone becomes the 'n' rows 'values' (none: removed):
 * 0 when written, 1 when it already was so (nothing written). */
int backend_meta_set_list(struct backend *b, const char *zone, const char *kind,
			  const char *const *values, size_t n);
/* PowerDNS's TSIG key 'name' (with its trailing dot) becomes this one. */
int backend_tsig_put(struct backend *b, const char *name, const char *algorithm,
		     const char *secret);
/* PowerDNS's TSIG key 'name' (with its trailing dot): its algorithm and
 * base64 secret; -ENOENT when there is none. */
int backend_tsig_get(struct backend *b, const char *name, char *algorithm, size_t alg_len,
		     char *secret, size_t secret_len);

/* --- for the SQL of the backend (backend_sql.c) ------------------------ */

/* The empty non-terminals of 'z': names between the apex and an owner that
 * hold no records themselves. PowerDNS needs a row for each (type NULL), or
 * it answers NXDOMAIN where RFC 8020 wants NODATA. 'fn' gets each name
 * (pointing into 'z') and whether it is authoritative (not below a
 * delegation). */
typedef int (*backend_ent_fn)(const char *name, bool auth, void *ctx);
int backend_zone_ents(const struct backend_zone *z, backend_ent_fn fn, void *ctx);

/* One row PowerDNS keeps for a zone: a record, or an empty non-terminal
 * (type and content NULL). 'name' points into the zone's data and keeps
 * its trailing dot, which 'name_len' leaves out (PowerDNS's form). */
struct backend_row {
	const char *name;
	size_t name_len;
	const char *type;
	const char *content; /* without the priority of MX and SRV */
	long prio;
	uint32_t ttl;
	bool auth;
	bool stored; /* found among the stored rows */
	size_t rr;   /* its index in the zone's rrs; SIZE_MAX for an ENT */
};

/* The rows of 'z', sorted, to rewrite only the rows that changed: each
 * stored row is looked up, what is not found is deleted, and what was not
 * found stored is inserted. */
struct backend_rows {
	struct backend_row *v;
	size_t n, alloc;
};
int backend_rows_build(const struct backend_zone *z, struct backend_rows *ret);
/* The row with this name (PowerDNS's form), type, content and priority. */
struct backend_row *backend_rows_find(struct backend_rows *w, const char *name, const char *type,
				      const char *content, long prio);
void backend_rows_free(struct backend_rows *w);

#endif
