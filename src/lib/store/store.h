/* The controller's store: every zone, record, node and token, behind one
 * small interface with two drivers, SQLite (the embedded default) and
 * MariaDB/MySQL (production, and the way to put the controller's data on a
 * replicated database). All SQL of the controller lives under src/lib/store.
 *
 * A 'struct store' is one database connection: not thread-safe; every
 * thread that needs the store opens its own. Writes happen inside
 * store_begin()/store_commit(); store_commit() returns only once the
 * transaction is durable (SQLite: its WAL synced to disk after the commit;
 * InnoDB with its log flushed), which is what lets the API acknowledge a
 * change.
 *
 * A MariaDB connection that was lost (the server restarted, killed it, or
 * closed it after wait_timeout) is replaced by a new one on the next call
 * made outside a transaction; before such a call, a connection the server
 * has closed is found so without a round trip, and one idle for
 * STORE_IDLE_PING_MS is pinged; after a try to connect that failed slowly
 * (a host that drops packets), the next is made a second later
 * (STORE_RECONNECT_GAP_MS; in between, such calls fail with
 * ERR_UNAVAILABLE at once). The 'struct store' stays the same. Inside a
 * transaction nothing is replaced: the transaction is gone with its
 * connection, its calls fail with ERR_UNAVAILABLE and the caller rolls back
 * (so a change in flight is never acknowledged). A transaction is begun on
 * a new connection when the old one is found lost by store_begin() itself.
 *
 * Conventions: 0 or a negative code; -ENOENT when a row does not exist;
 * ERR_CONFLICT on a unique constraint; ERR_NO_SPACE when the disk is full;
 * ERR_UNAVAILABLE when the server is unreachable or a lock wait timed out
 * (the caller may retry); ERR_BACKEND otherwise. Out-parameters are written
 * only on success. Strings in returned rows are owned by the row and freed
 * by its *_clear() function. Times are Unix seconds. */
#ifndef YUMNA_STORE_H
#define YUMNA_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

struct store;

struct store_conf {
	const char *driver; /* "sqlite" or "mysql" */
	const char *path;   /* sqlite: database file (created 0600 if missing) */
	const char *host;   /* mysql */
	unsigned port;
	const char *socket;
	const char *user;
	const char *password;
	const char *database;
	bool relaxed; /* sqlite: commits skip the WAL sync;
				 * for bookkeeping that can be redone, never for changes
				 * the API acknowledges */
	/* Optional: told of every transaction that ends, with how long it was
	 * open (store_begin to the end of commit or rollback) and how it
	 * ended (STORE_TXN_*). Runs on the connection's thread; must be cheap. */
	void (*txn_observe)(void *ctx, int how, bool relaxed, uint64_t elapsed_ns);
	void *txn_ctx;
	/* Optional: told when a lost connection was replaced by a new one,
	 * with what the database said when it was lost. Runs on the
	 * connection's thread. */
	void (*reconnected)(void *ctx, const char *why);
	void *reconnected_ctx;
};

/* How long a MariaDB connection may stay unused before it is pinged ahead
 * of its next use outside a transaction. */
#define STORE_IDLE_PING_MS 30000

#define STORE_TXN_COMMIT 0
#define STORE_TXN_ROLLBACK 1
#define STORE_TXN_FAILED 2 /* the commit failed (and was rolled back) */

/* Connect and apply the numbered migrations that have not run yet (each in
 * its own transaction, recorded in schema_migrations). 'err' says
 * what failed. */
int store_open(const struct store_conf *conf, struct store **ret, struct errmsg *err);
/* Accepts NULL. */
void store_close(struct store *st);
/* What the database said when a call on 'st' last failed with ERR_BACKEND
 * or ERR_UNAVAILABLE ("no such table: ...", "connection lost"; "" before
 * any did): the reason to log beside such a failure. MariaDB quotes the
 * value of a duplicate key in its message, so it is for failed reads. */
const char *store_error(const struct store *st);

int store_begin(struct store *st);
int store_commit(struct store *st);
/* Safe to call when no transaction is open. */
void store_rollback(struct store *st);

/* --- servers (DNS nodes) ------------------------------------------------ */

struct store_server {
	int64_t id;
	char *name; /* unique */
	char *hostname;
	char *ip; /* numeric address of the agent */
	uint32_t agent_port;
	char *agent_secret; /* sent to the agent; never returned by the API */
	bool in_cluster;    /* receives zones */
	char *status;	    /* "unknown", "online", "offline", ... */
	char *pdns_version;
	char *last_error;
	int64_t last_seen;
	int64_t created_at;
};

/* Insert 's' (its id is ignored) and set s->id. */
int store_server_insert(struct store *st, struct store_server *s);
/* Update every column of the row s->id. */
int store_server_update(struct store *st, const struct store_server *s);
int store_server_get(struct store *st, int64_t id, struct store_server *ret);
/* Delete the server and its node_zone_state rows. */
int store_server_delete(struct store *st, int64_t id);
typedef int (*store_server_fn)(const struct store_server *s, void *ctx);
/* In id order; 'cluster_only' keeps in_cluster servers. A non-zero return
 * from 'fn' stops the walk and is returned. */
int store_server_foreach(struct store *st, bool cluster_only, store_server_fn fn, void *ctx);
void store_server_clear(struct store_server *s);

/* --- zones -------------------------------------------------------------- */

#define STORE_ZONE_SOA_MAX 600
#define STORE_ZONE_PDNS_MAX 300

struct store_zone {
	int64_t id;
	char *domain; /* normalised, trailing dot; unique */
	int64_t user_id;
	int64_t server_id;
	uint64_t version; /* rises with every change, deletes included */
	uint32_t serial;  /* SOA serial, RFC 1982 */
	bool deleted;	  /* tombstone until every node confirmed the delete */
	bool dnssec;
	int64_t created_at;
	int64_t updated_at;
	/* The records digest R of this version (dns/digest.h), "" when not
	 * known yet (a zone from before digests; computed on first use). */
	char rdigest[65];
	/* The zone's bucket in the controller's hash tree (model/ztree.h),
	 * set by the caller on insert; -1 for a zone stored before buckets. */
	int32_t bucket;
	/* The zone's own SOA fields as the controller writes them, "" when it
	 * has the cluster's; an insert or a revived tombstone starts with "". */
	char soa[STORE_ZONE_SOA_MAX];
	/* Its settings as PowerDNS's API shows them, written and read by the
	 * controller (whm/pdns_shape.h) as one text; "" for the defaults. An
	 * insert or a revived tombstone starts with "". */
	char pdns[STORE_ZONE_PDNS_MAX];
	/* How many zones of this name were created before this one (a
	 * revived tombstone or a zone made again after a purge continues the
	 * count; store_zone_insert sets it). 0 for a zone stored before. */
	uint32_t life;
};

/* Insert a zone, or bring back the tombstone of the same name (keeping its
 * id and continuing its version, so no node can take the new zone for an
 * older one). Sets z->id. ERR_CONFLICT if a live zone has the name. */
int store_zone_insert(struct store *st, struct store_zone *z);
/* Update version, serial, deleted, dnssec, user_id, server_id, updated_at,
 * rdigest, soa and pdns. */
int store_zone_update(struct store *st, const struct store_zone *z);
int store_zone_get(struct store *st, int64_t id, struct store_zone *ret);
/* store_zone_get() inside a write transaction, the zone's row locked
 * until it ends: a writer that read the zone this way has its version
 * for itself until it commits. MariaDB reads committed rows without
 * locks otherwise; SQLite's one writer holds the whole database already. */
int store_zone_get_locked(struct store *st, int64_t id, struct store_zone *ret);
int store_zone_get_by_name(struct store *st, const char *domain, struct store_zone *ret);
typedef int (*store_zone_fn)(const struct store_zone *z, void *ctx);
/* In id order; tombstones only with 'with_deleted'. A positive return of
 * 'fn' stops the walk and is returned. */
int store_zone_foreach(struct store *st, bool with_deleted, store_zone_fn fn, void *ctx);
/* The same, from the first zone with an id above 'after'. */
int store_zone_foreach_after(struct store *st, bool with_deleted, int64_t after, store_zone_fn fn,
			     void *ctx);
#define STORE_PREFIX_MAX 255
/* The live zones whose name starts with 'prefix' (borrowed; lowercase
 * ASCII, as names are stored), in id order from the first id above
 * 'after'. A range on the name index: it costs the zones that match.
 * -EINVAL for an empty prefix or one with a byte outside [!-}]. */
int store_zone_foreach_prefix(struct store *st, const char *prefix, int64_t after, store_zone_fn fn,
			      void *ctx);
/* Record the records digest of zone 'id' at 'version' (a zone stored
 * before digests; nothing changes if the zone moved on). */
int store_zone_set_rdigest(struct store *st, int64_t id, uint64_t version, const char *rdigest);
/* The zones (tombstones too) of hash-tree bucket 'bucket', in id order. */
int store_zone_foreach_bucket(struct store *st, unsigned bucket, store_zone_fn fn, void *ctx);
/* Set the bucket of a zone stored before buckets. */
int store_zone_set_bucket(struct store *st, int64_t id, unsigned bucket);
/* Remove a tombstone for good (every node confirmed the delete). */
int store_zone_purge(struct store *st, int64_t id);
/* Live zones and records over them. */
int store_zone_counts(struct store *st, uint64_t *ret_zones, uint64_t *ret_records);
void store_zone_clear(struct store_zone *z);

/* --- records -------------------------------------------------------------- */

struct store_record {
	int64_t id;
	int64_t zone_id;
	char *name;    /* as the panel shows it: "@", "www", "_dmarc" */
	char *type;    /* "A", "MX", ... */
	char *content; /* canonical RDATA without the MX/SRV priority */
	uint32_t ttl;
	uint32_t priority; /* MX and SRV; 0 otherwise */
	int64_t created_at;
	bool disabled; /* kept and shown, served by no node */
};

int store_record_insert(struct store *st, struct store_record *r);
int store_record_update(struct store *st, const struct store_record *r);
int store_record_get(struct store *st, int64_t id, struct store_record *ret);
int store_record_delete(struct store *st, int64_t id);
int store_record_delete_zone(struct store *st, int64_t zone_id);

/* --- zone metadata (PowerDNS's API): per zone and kind, one text ----------- */

/* Set kind 'kind' of zone 'zone_id' to 'content' (inserted or replaced). */
int store_meta_put(struct store *st, int64_t zone_id, const char *kind, const char *content);
/* Its content (the caller frees it); -ENOENT if the zone has no such kind. */
int store_meta_get(struct store *st, int64_t zone_id, const char *kind, char **ret);
/* Every kind of the zone, in kind order; a nonzero return of 'fn' stops. */
typedef int (*store_meta_fn)(const char *kind, const char *content, void *ctx);
int store_meta_foreach(struct store *st, int64_t zone_id, store_meta_fn fn, void *ctx);
/* Remove one kind (0 whether it was there or not), or every kind of a zone. */
int store_meta_delete(struct store *st, int64_t zone_id, const char *kind);
int store_meta_delete_zone(struct store *st, int64_t zone_id);

/* --- RRset comments (PowerDNS's API): per zone, owner and type, one text ---- */

/* Set the comments of RRset 'name' (as records name their owner) 'type' of
 * zone 'zone_id' to 'content' (inserted or replaced). */
int store_comment_put(struct store *st, int64_t zone_id, const char *name, const char *type,
		      const char *content);
/* Remove one RRset's comments (0 whether there were any or not), or every
 * comment of a zone. */
int store_comment_delete(struct store *st, int64_t zone_id, const char *name, const char *type);
int store_comment_delete_zone(struct store *st, int64_t zone_id);
/* Every RRset of the zone with comments, in name and type order; a nonzero
 * return of 'fn' stops the walk and is returned. */
typedef int (*store_comment_fn)(const char *name, const char *type, const char *content, void *ctx);
int store_comment_foreach(struct store *st, int64_t zone_id, store_comment_fn fn, void *ctx);
/* The comments of every live zone, in zone id, name and type order, as one
 * statement (a walk of the comments table, which holds only the RRsets
 * that have comments); a nonzero return of 'fn' stops the walk. */
typedef int (*store_comment_all_fn)(int64_t zone_id, const char *name, const char *type,
				    const char *content, void *ctx);
int store_comment_foreach_all(struct store *st, store_comment_all_fn fn, void *ctx);

/* --- RFC 2136 update policies: per TSIG key name, one JSON text ----------- */

/* Set key 'key_name''s rules to 'rules' (inserted or replaced). */
int store_upolicy_put(struct store *st, const char *key_name, const char *rules);
/* Its rules (the caller frees them); -ENOENT if the key has no policy. */
int store_upolicy_get(struct store *st, const char *key_name, char **ret);
/* Every policy in key name order; a nonzero return of 'fn' stops. */
typedef int (*store_upolicy_fn)(const char *key_name, const char *rules, void *ctx);
int store_upolicy_foreach(struct store *st, store_upolicy_fn fn, void *ctx);
/* 0 when removed, -ENOENT when the key had no policy. */
int store_upolicy_delete(struct store *st, const char *key_name);

/* --- secondary zones: transferred from primaries outside the cluster ------ */

#define STORE_PRIMARIES_MAX 1024

struct store_secondary {
	int64_t zone_id;
	char *domain;	      /* the zone's name */
	char *primaries;      /* "address[:port]" comma-separated */
	char *tsig_key;	      /* "" for none */
	int64_t refreshed_at; /* a primary last answered for the data held; 0 never */
	uint32_t life;	      /* the zone's store_zone.life */
	bool expired;	      /* the zone is a tombstone that kept its primaries
			       * (store_secondary_foreach only) */
};

/* Make zone 'zone_id' a secondary of 'primaries' (replacing what it had;
 * refreshed_at starts at 0). */
int store_secondary_put(struct store *st, int64_t zone_id, const char *primaries,
			const char *tsig_key);
/* -ENOENT when the zone is not a live secondary zone. */
int store_secondary_get(struct store *st, int64_t zone_id, struct store_secondary *ret);
/* The zone is not a secondary any more (0 whether it was or not). */
int store_secondary_delete(struct store *st, int64_t zone_id);
/* The same, -ENOENT when it was not one. */
int store_secondary_forget(struct store *st, int64_t zone_id);
/* 0 when zone 'zone_id', live or a tombstone, has its primaries (an
 * expired secondary zone keeps them); -ENOENT otherwise. */
int store_secondary_held(struct store *st, int64_t zone_id);
/* A primary answered for the data of live secondary zone 'zone_id' of
 * life 'life' at 'at'; -ENOENT (nothing written) for another life. */
int store_secondary_refreshed(struct store *st, int64_t zone_id, uint32_t life, int64_t at);
typedef int (*store_secondary_fn)(const struct store_secondary *s, void *ctx);
/* Every secondary zone in zone id order, expired ones too (their zone is
 * a tombstone: a user's delete removes the secondary row with it); a
 * nonzero return of 'fn' stops. */
int store_secondary_foreach(struct store *st, store_secondary_fn fn, void *ctx);
void store_secondary_clear(struct store_secondary *s);

/* --- transfers to third-party secondaries (zone_id 0: the cluster's default) - */

/* The zone's allow list and notify list (JSON texts, the caller frees
 * both); -ENOENT when it has no settings of its own. */
int store_xfr_get(struct store *st, int64_t zone_id, char **ret_allow, char **ret_notify);
/* Insert or replace the zone's settings. */
int store_xfr_put(struct store *st, int64_t zone_id, const char *allow, const char *notify,
		  int64_t now);
/* Remove them (0 whether they were there or not). */
int store_xfr_delete(struct store *st, int64_t zone_id);
/* The ids of the zones with settings of their own whose allow list
 * contains 'needle', in id order; read first, so 'fn' may write. */
int store_xfr_foreach_naming(struct store *st, const char *needle, int (*fn)(int64_t id, void *ctx),
			     void *ctx);

/* --- routing policies (model/steer.h): per RRset, one JSON text ------------ */

/* Set the policy of RRset 'name' 'type' (the stored forms of struct
 * model_record) of zone 'zone_id'; 'per_record' when the records' own
 * routing_policy made it. */
int store_policy_put(struct store *st, int64_t zone_id, const char *name, const char *type,
		     bool per_record, const char *policy);
/* Every policy of the zone, by name and type; a nonzero return of 'fn'
 * stops. The strings are borrowed for the call. */
typedef int (*store_policy_fn)(const char *name, const char *type, bool per_record,
			       const char *policy, void *ctx);
int store_policy_foreach(struct store *st, int64_t zone_id, store_policy_fn fn, void *ctx);
/* Remove one RRset's policy (0 whether it was there or not), or the zone's. */
int store_policy_delete(struct store *st, int64_t zone_id, const char *name, const char *type);
int store_policy_delete_zone(struct store *st, int64_t zone_id);
typedef int (*store_record_fn)(const struct store_record *r, void *ctx);
/* How many records zone 'zone_id' has. */
int store_record_count(struct store *st, int64_t zone_id, uint64_t *ret);
/* In id order. */
int store_record_foreach(struct store *st, int64_t zone_id, store_record_fn fn, void *ctx);
/* Every record of every zone with an id above 'after', in id order, a page
 * at a time (a walk of the primary key: it costs every record it passes;
 * a positive return of 'fn' stops it and is returned). Records belong to
 * live zones only (a delete removes them). */
int store_record_foreach_after(struct store *st, int64_t after, store_record_fn fn, void *ctx);
void store_record_clear(struct store_record *r);

/* --- what each node should serve and has acknowledged -------------------- */

struct store_sync {
	int64_t server_id;
	int64_t zone_id;
	uint64_t desired;	 /* the zone version the node must reach */
	uint64_t applied;	 /* the version the node acknowledged */
	uint32_t attempts;	 /* failures since the last success */
	int64_t next_attempt_ms; /* monotonic-free: Unix milliseconds */
	char *last_error;
	int64_t updated_at;
};

/* For every in_cluster server: desired = 'version' for 'zone_id'. */
int store_sync_want_all(struct store *st, int64_t zone_id, uint64_t version);
/* For one server: desired = the current version of every zone, tombstones
 * included (a node that joins gets everything). */
int store_sync_want_server(struct store *st, int64_t server_id);
/* The node acknowledged 'applied': raise applied (never lower it), clear
 * the error and attempts. */
int store_sync_ack(struct store *st, int64_t server_id, int64_t zone_id, uint64_t applied);
/* The push failed: record the error, attempts and when to try again. */
int store_sync_fail(struct store *st, int64_t server_id, int64_t zone_id, const char *error,
		    uint32_t attempts, int64_t next_attempt_ms);
/* Set applied to what the node reports it serves, even when lower
 * (reconciliation found the node behind, or a full re-sync is wanted: 0). */
int store_sync_reset(struct store *st, int64_t server_id, int64_t zone_id, uint64_t applied);
/* applied = 0 for every zone of the server: the next pass pushes everything. */
int store_sync_reset_server(struct store *st, int64_t server_id);
/* How many zones server 'server_id' may still serve from us: the live
 * zones it acknowledged a version of, and the deleted ones whose delete it
 * did not acknowledge. */
int store_sync_held(struct store *st, int64_t server_id, uint64_t *ret);
/* Forget what server 'server_id' acknowledged (its zones were deleted from
 * it): every row of it goes. */
int store_sync_forget_server(struct store *st, int64_t server_id);
typedef int (*store_sync_fn)(const struct store_sync *s, void *ctx);
/* Rows with desired > applied, for one server (0: all), due at 'now_ms' or
 * earlier (0: regardless of next_attempt_ms), oldest first, at most 'limit'.
 * A row due later than 'now_ms' + 'horizon_ms' is due too: no retry is put
 * off that far, so it was put off while the wall clock was ahead. */
int store_sync_foreach_pending(struct store *st, int64_t server_id, int64_t now_ms,
			       int64_t horizon_ms, unsigned limit, store_sync_fn fn, void *ctx);
struct store_sync_summary {
	/* Live zones only: a deleted zone is not one more zone to sync. */
	uint64_t in_sync, behind, failing;
	/* Deleted zones whose delete the node has not acknowledged yet. */
	uint64_t deletes;
	int64_t oldest_pending; /* updated_at of the oldest behind row (a
				 * delete too), 0 if none */
	char *last_error;	/* most recent error, or NULL; caller frees */
};
/* For one server (or all with 0). With 'live' (the number of live zones,
 * which the caller keeps) and a server, only the rows still behind are
 * read, through an index, so the cost does not grow with the number of
 * zones: in_sync is then the live zones not behind. 'live' NULL counts
 * every row of a live zone. */
int store_sync_summary(struct store *st, int64_t server_id, const uint64_t *live,
		       struct store_sync_summary *ret);
/* True if the node acknowledged at least 'version' of the zone. */
int store_sync_node_acked(struct store *st, int64_t server_id, int64_t zone_id, uint64_t version,
			  bool *ret);
/* True if every in_cluster node acknowledged at least 'version'. */
int store_sync_all_acked(struct store *st, int64_t zone_id, uint64_t version, bool *ret);
void store_sync_clear(struct store_sync *s);

/* --- API tokens ----------------------------------------------------------- */

/* 'hash' is the hex SHA-256 of the token; the token itself is never stored.
 * 'role' is "admin" or "read". */
int store_token_insert(struct store *st, const char *name, const char *hash, const char *role,
		       int64_t *ret_id);
/* The role of the live (not revoked) token with 'hash', its id and (when
 * 'ret_name' is not NULL) its name, cut to 63 bytes; -ENOENT otherwise. */
int store_token_find(struct store *st, const char *hash, char role[16], int64_t *ret_id,
		     char ret_name[64]);
int store_token_revoke(struct store *st, int64_t id);
/* The role of token 'id' and whether it was revoked; -ENOENT if none. */
int store_token_get(struct store *st, int64_t id, char role[16], bool *ret_revoked);
/* How many live (not revoked) tokens have role 'role', or (with 'role'
 * NULL) the name 'name'. Inside a transaction, the rows read stay locked
 * until it ends. */
int store_token_count_live(struct store *st, const char *role, const char *name, uint64_t *ret);
typedef int (*store_token_fn)(int64_t id, const char *name, const char *role, int64_t created_at,
			      bool revoked, void *ctx);
int store_token_foreach(struct store *st, store_token_fn fn, void *ctx);

/* --- TSIG keys ------------------------------------------------------------- */

/* A TSIG key: 'name' in lower case with the trailing dot, 'algorithm' as
 * libdnssec names it ("hmac-sha256"), 'secret' in base64. */
struct store_tsig_key {
	int64_t id;
	char *name;
	char *algorithm;
	char *secret;
	int64_t created_at;
	int64_t updated_at;
};
/* Frees the members, wiping the secret first. */
void store_tsig_key_clear(struct store_tsig_key *k);
/* The key's id in '*ret_id' (may be NULL); its timestamps are now. */
int store_tsig_insert(struct store *st, const char *name, const char *algorithm, const char *secret,
		      int64_t *ret_id);
/* The key named 'name' (as stored); -ENOENT if none. */
int store_tsig_get(struct store *st, const char *name, struct store_tsig_key *ret);
/* Key 'id' gets these name, algorithm and secret; -ENOENT if none. */
int store_tsig_update(struct store *st, int64_t id, const char *name, const char *algorithm,
		      const char *secret);
int store_tsig_delete(struct store *st, int64_t id);
typedef int (*store_tsig_fn)(const struct store_tsig_key *k, void *ctx);
/* Every key in id order. */
int store_tsig_foreach(struct store *st, store_tsig_fn fn, void *ctx);

/* --- DNSSEC ------------------------------------------------------------------ */

/* A zone's signing settings. A row with enabled = false remains after the
 * zone was unsigned, so its pushes keep telling nodes to remove the keys. */
struct store_dnssec {
	int64_t zone_id;
	bool enabled;
	uint32_t algorithm; /* 13 (ECDSAP256SHA256) or 15 (ED25519) */
	char *scheme;	    /* "csk" or "kskzsk" */
	bool nsec3;
	bool nsec3_optout;
	int64_t signed_at;
	int64_t updated_at;
	/* A key rollover in progress: roll_kind "zsk", "ksk" or "csk" ("" for
	 * none), its step, when the next step may run at the earliest (0:
	 * not known yet, the step's wait has not begun), the zone version
	 * every node must have acknowledged first, when the operator said the
	 * parent publishes the new DS (0: not yet), and the step's wait in
	 * seconds, which begins once every node acknowledged roll_version. */
	char *roll_kind;
	uint32_t roll_step;
	int64_t roll_next_at;
	uint64_t roll_version;
	int64_t roll_ds_at;
	int64_t roll_wait;
};

/* One key. 'private_key' is ISC (BIND) private-key text: it goes to agents
 * and nowhere else (never into a reply or a log line). */
struct store_dnssec_key {
	int64_t id;
	int64_t zone_id;
	char *keytype; /* "csk", "ksk" or "zsk" */
	uint32_t algorithm;
	uint32_t flags; /* 257 or 256 */
	uint32_t keytag;
	char *dnskey; /* DNSKEY RDATA text: "257 3 13 <base64>" */
	char *private_key;
	bool active;
	bool published;
	int64_t created_at;
};

/* -ENOENT when the zone was never signed. */
int store_dnssec_get(struct store *st, int64_t zone_id, struct store_dnssec *ret);
/* Insert or replace the zone's settings row. */
int store_dnssec_put(struct store *st, const struct store_dnssec *d);
/* Remove the settings row and every key of the zone. */
int store_dnssec_delete(struct store *st, int64_t zone_id);
void store_dnssec_clear(struct store_dnssec *d);

/* Sets k->id (and k->created_at when 0). */
int store_dnssec_key_insert(struct store *st, struct store_dnssec_key *k);
int store_dnssec_key_delete_zone(struct store *st, int64_t zone_id);
/* One key of the zone: -ENOENT if it is not there. */
int store_dnssec_key_delete(struct store *st, int64_t zone_id, int64_t key_id);
int store_dnssec_key_set_flags(struct store *st, int64_t zone_id, int64_t key_id, bool active,
			       bool published);
/* Zones signed with a rollover in progress, or with a ZSK that may be due
 * for one (scheme "kskzsk"). */
typedef int (*store_id_fn)(int64_t id, void *ctx);
int store_dnssec_foreach_rolling(struct store *st, store_id_fn fn, void *ctx);
/* The ids of the live zones without transfer settings of their own (they
 * follow the cluster's default), in id order; read first, so 'fn' may
 * write; a nonzero return of 'fn' stops. */
int store_xfr_foreach_default(struct store *st, store_id_fn fn, void *ctx);
typedef int (*store_dnssec_key_fn)(const struct store_dnssec_key *k, void *ctx);
/* The zone's keys in id order. */
int store_dnssec_key_foreach(struct store *st, int64_t zone_id, store_dnssec_key_fn fn, void *ctx);
void store_dnssec_key_clear(struct store_dnssec_key *k);

/* A key of a signed zone in the listing of every key: its public facts
 * (key.dnskey and key.private_key are NULL), its zone's name and the
 * zone's rollover (roll_kind "" for none). */
struct store_key_listing {
	struct store_dnssec_key key;
	char *domain;
	char *roll_kind;
	uint32_t roll_step;
};
typedef int (*store_key_listing_fn)(const struct store_key_listing *k, void *ctx);
/* The keys of every live signed zone with an id above 'after', in id order,
 * at most 'limit' (1 to STORE_KEY_PAGE_MAX): one query, whatever the number
 * of zones. */
#define STORE_KEY_PAGE_MAX 1000
int store_dnssec_key_page(struct store *st, int64_t after, unsigned limit, store_key_listing_fn fn,
			  void *ctx);

/* --- history ---------------------------------------------------------------- */

/* One version of a zone as its history keeps it. */
struct store_version {
	int64_t id;
	int64_t zone_id;
	uint64_t version;
	uint32_t serial;
	int64_t created_at;
	char *actor;	  /* who made it: a token's name, "system:..."; may be NULL */
	char *action;	  /* what it was: "record.create", "zone.rollback", ... */
	char *summary;	  /* a short text about it; may be NULL */
	char rdigest[65]; /* the records digest (dns/digest.h); "" if deleted */
	bool deleted;	  /* the version deleted the zone */
	uint64_t record_count;
	char *records; /* the snapshot (model/zdiff.h); NULL in listings */
	char *soa;     /* the zone's own SOA fields then (store_zone.soa); NULL
			* if the version was written before they were kept */
};

/* Keep version v->version of zone v->zone_id (v->id is ignored; a
 * created_at of 0 is now). -ENOENT if the zone does not exist. */
int store_version_insert(struct store *st, const struct store_version *v);
/* Version 'version' of the zone with its records; -ENOENT if the zone
 * never had it or it was pruned. */
int store_version_get(struct store *st, int64_t zone_id, uint64_t version,
		      struct store_version *ret);
typedef int (*store_version_fn)(const struct store_version *v, void *ctx);
/* The zone's versions below 'before' (0: from the newest), newest first,
 * at most 'limit' of them, without their records. */
int store_version_foreach(struct store *st, int64_t zone_id, uint64_t before, unsigned limit,
			  store_version_fn fn, void *ctx);
/* Retention, one step: delete the zone's versions that are not among its
 * 'keep' newest (keep >= 1: the current one always stays) and were made
 * before 'older_than', the oldest first and at most 'max' of them;
 * *ret_deleted says how many went. */
int store_version_prune(struct store *st, int64_t zone_id, unsigned keep, int64_t older_than,
			unsigned max, uint64_t *ret_deleted);
/* The zones (tombstones too) that may hold more than 'keep' versions, in
 * id order from the first id above 'after', at most 'limit' of them. */
int store_version_candidates(struct store *st, int64_t after, unsigned keep, unsigned limit,
			     store_id_fn fn, void *ctx);
void store_version_clear(struct store_version *v);

/* One entry of the audit log: every change of a zone, a token or a server. */
struct store_audit_entry {
	int64_t id;
	int64_t created_at; /* 0 on insert: now */
	char *actor;	    /* may be NULL */
	char *action;	    /* "zone.create", "token.revoke", "server.update", ... */
	int64_t zone_id;    /* 0: not about a zone */
	char *zone;	    /* the zone's name, or NULL */
	uint64_t version;   /* the zone version the change made, 0 for none */
	char *summary;	    /* may be NULL */
};

/* Append 'e' (its id is ignored). */
int store_audit(struct store *st, const struct store_audit_entry *e);

/* Which entries store_audit_foreach() reads. */
struct store_audit_filter {
	const char *zone, *actor, *action; /* exact matches; NULL or "": any */
	int64_t since, until;		   /* created_at range, inclusive; 0: open */
	int64_t before;			   /* entries with an id below it; 0: from the newest */
	unsigned limit;			   /* at most this many (1 or more) */
};
typedef int (*store_audit_fn)(const struct store_audit_entry *e, void *ctx);
/* The entries 'f' asks for, newest first. Each page is an index range:
 * the first filter given of zone, actor and action picks the index, and
 * the time range becomes an id range. */
int store_audit_foreach(struct store *st, const struct store_audit_filter *f, store_audit_fn fn,
			void *ctx);
/* Delete entries made before 'older_than', the oldest first and at most
 * 'max' of them; *ret_deleted says how many went. */
int store_audit_prune(struct store *st, int64_t older_than, unsigned max, uint64_t *ret_deleted);
void store_audit_clear(struct store_audit_entry *e);

#endif
