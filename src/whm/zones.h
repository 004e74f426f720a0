/* Zone and record changes: validate with the same library as the agents,
 * commit with the zone's new version and serial and the nodes' desired
 * version in one transaction, then tell the commit observers (the
 * verification tree, then the sync engine). */
#ifndef YUMNA_WHM_ZONES_H
#define YUMNA_WHM_ZONES_H

#include <jansson.h>
#include <pthread.h>

#include "base/err.h"
#include "dns/digest.h"
#include "whm.h"

struct zone_result {
	int64_t zone_id;
	int64_t record_id;
	uint64_t version;
	uint32_t serial;
	uint32_t life; /* the zone's store_zone.life (after a commit) */
};

/* The changes of one zone take turns in the controller: each holds its
 * zone's turn (one of ZONES_TURNS mutexes, by id) from its first read to
 * its commit, so that writers of one zone queue instead of losing their
 * attempts to each other's version checks (eight clients writing one
 * zone at once got "changing too fast" for some changes). The version
 * check stays for writers outside this controller. A thread may take the
 * turn it holds again (an RFC 2136 update holds it over its reads and its
 * change); a change never starts one of another zone while it holds its
 * turn. */
#define ZONES_TURNS 1024
pthread_mutex_t *zones_turn_take(int64_t zone_id);
void zones_turn_give(pthread_mutex_t *turn);

/* After every commit of a zone, 'fn' is called on the committing thread
 * with the zone row before ('old', NULL for a new zone) and after ('now');
 * both NULL when the commit changed no zone row yet the nodes may have
 * something to do. Observers are called in the order they registered
 * (at start-up, before any change); -ENOSPC past WHM_COMMIT_OBSERVERS. */
typedef void (*zones_commit_fn)(struct whm *w, struct store *st, const struct store_zone *old,
				const struct store_zone *now, void *ctx);
int zones_on_commit(struct whm *w, zones_commit_fn fn, void *ctx);

/* Each returns 0 or a negative code with a message in 'err'; nothing is
 * changed on failure. 'actor' names who asked (for the audit log). */
int zones_create(struct whm *w, const char *domain, int64_t server_id, int64_t user_id,
		 const char *actor, struct zone_result *res, struct errmsg *err);
/* What a new zone starts with; NULL members take the defaults. */
struct zone_init {
	const json_t *records; /* the panel's record objects, the SOA not among
				* them; NULL: the cluster's NS records */
	const char *soa;       /* its own SOA fields (zones_soa.h), or NULL */
	const char *pdns;      /* its PowerDNS API settings (pdns_shape.h), or NULL */
	/* RRset comments: "name<TAB>type" (the name as records name their
	 * owner) -> the comments (pdns_shape.h); NULL: none. */
	const json_t *comments;
	/* A secondary zone (secondary.h): its primaries, checked, as
	 * secondary_primaries_check() writes them; NULL for a zone of its own. */
	const char *primaries;
	const char *tsig_key;  /* the key its transfers are signed with, or NULL */
	unsigned record_flags; /* MODEL_* flags each of 'records' is parsed with */
	/* A transfer that brings back an expired secondary zone: its serial
	 * exactly, and only over the tombstone of life *revive_life that kept
	 * its primaries (ERR_CONFLICT otherwise: it was deleted meanwhile). */
	const uint32_t *serial;
	const uint32_t *revive_life;
};
/* zones_create() with 'init' (NULL: as zones_create()): the zone and its
 * records in one version, or nothing (every record is checked first). */
int zones_create_with(struct whm *w, const char *domain, int64_t server_id, int64_t user_id,
		      const struct zone_init *init, const char *actor, struct zone_result *res,
		      struct errmsg *err);
int zones_delete(struct whm *w, int64_t zone_id, const char *actor, struct zone_result *res,
		 struct errmsg *err);
/* 'rec' is the panel's record object. */
int zones_record_add(struct whm *w, int64_t zone_id, const json_t *rec, const char *actor,
		     struct zone_result *res, struct errmsg *err);
int zones_record_update(struct whm *w, int64_t record_id, const json_t *rec, const char *actor,
			struct zone_result *res, struct errmsg *err);
int zones_record_delete(struct whm *w, int64_t record_id, const char *actor,
			struct zone_result *res, struct errmsg *err);
/* Replace every record of the zone with 'records' (an array) as one
 * version. Records that stay exactly as they were keep their ids. With
 * 'if_version' (0: none) the zone must be at that version: ERR_CONFLICT
 * otherwise, nothing changed. A record of an RRset steered by a policy
 * of its own is ERR_INVALID (its listing holds none). */
int zones_records_replace(struct whm *w, int64_t zone_id, const json_t *records,
			  uint64_t if_version, const char *actor, struct zone_result *res,
			  struct errmsg *err);

/* Change RRsets as the PowerDNS API's PATCH of rrsets does, all of them as
 * one version with one serial, or none: 'rrsets' is an array of
 *   {"name", "type", "changetype": "REPLACE"|"DELETE", "ttl"?,
 *    "records"?: [{"content", "priority"?, "disabled"?}],
 *    "comments"?: [{"content", "account", "modified_at"}]}
 * with names and contents as the panel's record routes take them (MX and
 * SRV priority in "priority" or at the start of the content). REPLACE
 * gives the RRset exactly the records it carries (none: the RRset goes;
 * no "ttl": the RRset's TTL, or default-ttl for a new one) and, when it
 * carries "comments", those comments (pdns_shape.h's checks; none: the
 * comments go); it must carry one or both, and an empty "records" without
 * "comments" removes the comments too, as in PowerDNS. DELETE removes the
 * RRset's records and comments. Disabled records are stored and served by no
 * node. Records that stay as they were keep their ids. A patch that
 * changes only comments makes no version (nothing served changes): it is
 * written with an audit entry, and 'res' is the zone as it is. ERR_INVALID
 * naming the change at fault for an unknown changetype, an RRset named
 * twice, the SOA, a name outside the zone, a bad record or a zone the
 * change would make invalid (CNAME beside other data...); ERR_TOO_LARGE
 * past max-zone-records; ERR_CONFLICT when 'if_version' is not 0 and the
 * zone is at another version. Each record is parsed with MODEL_* 'record_flags'
 * (the PowerDNS API: MODEL_ABSOLUTE). */
int zones_rrsets_patch(struct whm *w, int64_t zone_id, const json_t *rrsets, uint64_t if_version,
		       unsigned record_flags, const char *actor, struct zone_result *res,
		       struct errmsg *err);

/* Give RRset 'name' 'type' of zone 'zone_id' the structured routing
 * policy 'policy' (model/steer.h; JSON null: remove it), as one version:
 * the nodes serve the RRset as the LUA record it compiles to. 'body' is
 * {"name", "type", "policy"}. ERR_INVALID for a bad policy, an RRset that
 * has records (its records are the answer, or carry per-record
 * policies), a type that cannot carry one. */
int zones_rrset_policy_set(struct whm *w, int64_t zone_id, const json_t *body, const char *actor,
			   struct zone_result *res, struct errmsg *err);

/* A change of zone 'zone_id''s settings that changes nothing a node
 * serves (its PowerDNS API settings, a secondary zone's primaries), so
 * it makes no version and nothing is pushed: 'fn' runs inside the write
 * transaction with the zone as stored, changes z->pdns and writes what
 * else it changes through 'st', and writes the audit entry's text into
 * 'summary' ('len' bytes). It returns 0 to commit (the zone row and a
 * "zone.settings" audit entry), 1 when nothing changes, or an error with
 * 'err' set; either of the last two rolls back. Returns what 'fn' did, or
 * a negative code with 'err' set (ERR_NOT_FOUND for no live zone). */
typedef int (*zones_settings_fn)(struct store *st, struct store_zone *z, char *summary, size_t len,
				 void *ctx, struct errmsg *err);
int zones_settings_change(struct whm *w, int64_t zone_id, zones_settings_fn fn, void *ctx,
			  const char *actor, struct errmsg *err);

/* A new version with the next serial (model_serial_next()) and the same
 * records, pushed to every node like any change. */
int zones_increase_serial(struct whm *w, int64_t zone_id, const char *actor,
			  struct zone_result *res, struct errmsg *err);

/* Import: like zones_records_replace(), or with 'merge' replace only the
 * RRsets (owner and type) that 'records' name and keep the others.
 * Disabled records stay either way: a zone file holds what is served (the
 * export leaves them out), so an exported, edited and imported zone keeps
 * them. So do routing policies: the records of an RRset get back the
 * per-record policy it has where that covers them all
 * (zones_steer_keep()), and an RRset-level policy stays while 'records'
 * give its RRset none. With
 * 'min_serial' the new serial is above it (a file's SOA serial, so
 * secondaries that followed the old primary see the zone move forward).
 * With 'soa' the zone's own SOA fields become it (zones_soa.h's stored
 * text). An import that leaves the zone as it was (the same records, the
 * same SOA, no serial ahead of the zone's) commits nothing: it returns 1,
 * with the zone's current version and serial in 'res'. With 'if_version'
 * (0: any) the import commits only onto that version of the zone, else
 * ERR_CONFLICT and nothing changed. */
int zones_records_import(struct whm *w, int64_t zone_id, const json_t *records, bool merge,
			 const uint32_t *min_serial, const char *soa, uint64_t if_version,
			 const char *actor, struct zone_result *res, struct errmsg *err);
/* 0 when the records of zone 'zone_id' may be changed by a user, or
 * ERR_CONFLICT with 'err' set for a secondary zone (its data comes from
 * its primary). */
int zones_editable(struct store *st, int64_t zone_id, struct errmsg *err);
/* 0 when zone 'z' is still the live secondary zone of life 'life' that a
 * refresh began with; ERR_CONFLICT when it was deleted, created again or
 * made a zone of its own meanwhile (what the refresh brings is dropped). */
int zones_secondary_same(struct store *st, const struct store_zone *z, uint32_t life,
			 struct errmsg *err);

/* A secondary zone whose primaries all stayed silent past its SOA's
 * expire (RFC 1035 section 4.3.5): deleted as zones_delete() deletes
 * (every node stops serving it) but its primaries are kept, so a transfer
 * brings it back (zones_create_with() revives the tombstone). Only while
 * it is the secondary zone of life 'life' (zones_secondary_same()). */
int zones_expire(struct whm *w, int64_t zone_id, uint32_t life, const char *actor,
		 struct zone_result *res, struct errmsg *err);

/* Whether 'records' (the panel's objects) hold RRSIGs: only a transfer
 * from a primary that signs the zone (a presigned secondary zone) stores
 * them, with the other DNSSEC types (rr_type_is_dnssec()), which a push
 * carries only beside signatures. */
bool zones_records_presigned(const json_t *records);

/* zones_records_presigned() of zone 'zone_id''s stored records. */
int zones_presigned(struct store *st, int64_t zone_id, bool *ret);

/* A zone transfer from a secondary zone's primary (secondary.h): the
 * zone's records become 'records' (the panel's objects, the SOA not among
 * them), its SOA fields 'soa' (zones_soa.h's stored text) and its serial
 * exactly 'serial', whatever the zone's serial rule, as one version. The
 * DNSSEC records of a primary that signs the zone are kept, to be served
 * as they are (presigned); ERR_CONFLICT if the controller signs the zone
 * too. The same data and serial commit nothing and return 1. Only while
 * the zone is the secondary zone of life 'life' (zones_secondary_same()). */
int zones_records_transfer(struct whm *w, int64_t zone_id, uint32_t life, const json_t *records,
			   uint32_t serial, const char *soa, const char *actor,
			   struct zone_result *res, struct errmsg *err);

/* Zone 'zone_id', a deleted one (a tombstone: its history lasts until it
 * is purged) too, and this thread's store: ERR_NOT_FOUND for no zone,
 * ERR_UNAVAILABLE without a store, with 'err' set. The caller clears *z. */
int zones_get(struct whm *w, int64_t zone_id, struct store **ret_st, struct store_zone *z,
	      struct errmsg *err);
/* zones_get() of a live zone: ERR_NOT_FOUND for a deleted one too. */
int zones_get_live(struct whm *w, int64_t zone_id, struct store **ret_st, struct store_zone *z,
		   struct errmsg *err);

/* A change of the zone that is not a record change (a delete, DNSSEC),
 * kept in the history as 'action' by 'actor' with 'summary' (read after
 * 'fn' ran, so 'fn' may write it through 'ctx'): 'fn' runs
 * inside the write transaction with the zone as stored and makes its
 * writes (it may change z->dnssec); it returns 0 to commit (the version
 * and serial rise, every node is marked), 1 when there is nothing to
 * change (rolled back; res->version is 0), or an error with 'err' set.
 * 'fn' may run again if another change committed meanwhile. */
typedef int (*zones_change_fn)(struct store *st, struct store_zone *z, void *ctx,
			       struct errmsg *err);
int zones_change(struct whm *w, int64_t zone_id, zones_change_fn fn, void *ctx, const char *actor,
		 const char *action, const char *summary, struct zone_result *res,
		 struct errmsg *err);

/* The push payload of the zone as stored now (SOA included); with its
 * version in *ret_version. -ENOENT if the zone does not exist (a
 * tombstone is reported with *ret_deleted and no payload). */
int zones_payload(struct whm *w, struct store *st, int64_t zone_id, json_t **ret,
		  uint64_t *ret_version, bool *ret_deleted, char *ret_domain, size_t domain_len);

/* zones_payload() with the records as stored rather than as served (an
 * RRset with a routing policy keeps its own records, no LUA record or
 * health record stands for it; the disabled records are left out all the
 * same) and the zone's routing policies (zones_steer_load()'s object) as
 * "policies": what an export writes. */
int zones_export_payload(struct whm *w, struct store *st, int64_t zone_id, json_t **ret,
			 uint64_t *ret_version, bool *ret_deleted, char *ret_domain,
			 size_t domain_len);

/* The digest (dns/digest.h) of zone 'z' as every node must hold it at
 * z->version: "" for a deleted zone. A zone stored before digests gets its
 * records digest computed and stored (z->rdigest is set). */
int zones_digest(struct whm *w, struct store *st, struct store_zone *z, char ret[ZONE_DIGEST_HEX]);

/* A node holds the zone at 'node_version' or deleted it there (a store
 * restored from a backup, a delete behind the controller's back): give the
 * zone a version above it, so the next push wins, and mark every node. */
int zones_raise_version(struct whm *w, struct store *st, int64_t zone_id, uint64_t node_version);

/* JSON of a stored zone / record in the panel's shapes. */
json_t *zones_zone_json(const struct store_zone *z, uint64_t record_count);
json_t *zones_record_json(const struct store_record *r);

#endif
