/* Applying pushes and deletes: the version rules, the backend transaction
 * and making PowerDNS serve the result at once. */
#ifndef YUMNA_AGENT_APPLY_H
#define YUMNA_AGENT_APPLY_H

#include "agent.h"
#include "backend.h"
#include "base/err.h"
#include "model/model.h"

struct apply_result {
	bool applied;	  /* false: the version was not newer */
	uint64_t version; /* the version now applied */
	uint32_t serial;
	int64_t domain_id;
	bool deleted;		      /* not applied because a delete at 'version' stands */
	char digest[ZONE_DIGEST_HEX]; /* of what the zone holds now ("" none) */
	bool repaired;		      /* written at the version it had: the backend had drifted */
};

/* Apply one validated push: when its version is newer than the applied one
 * (and than any tombstone) replace the zone in one transaction, then purge
 * PowerDNS's caches (rectify first if the zone is signed) and send NOTIFY
 * when secondaries are configured. ERR_UNAVAILABLE when PowerDNS is down:
 * nothing is acknowledged then, though the data may already be committed
 * (the zone stays dirty and is purged when PowerDNS returns). */
int apply_push(struct agent *a, const struct zone_push *p, struct apply_result *res,
	       struct errmsg *err);

/* Delete 'zone' unless its applied version is newer than 'version'
 * (0: unconditional). *ret_deleted tells whether anything was removed;
 * *ret_kept is the newer version the node serves instead, or 0. */
int apply_delete(struct agent *a, const char *zone, uint64_t version, bool *ret_deleted,
		 uint64_t *ret_kept, struct errmsg *err);

/* Delete many zones, each as apply_delete() with its version (0:
 * unconditional), in transactions of a few hundred zones with one cache
 * purge each. Fills
 * 'deleted' and 'kept' of each; 'via_api' is the agent's own. On an error
 * the zones before it may be deleted (their 'deleted' says so); none is
 * half deleted. */
struct apply_delete_zone {
	const char *zone; /* normalised */
	uint64_t version;
	bool deleted;
	uint64_t kept;
	bool via_api;
};
int apply_delete_batch(struct agent *a, struct apply_delete_zone *d, size_t n, struct errmsg *err);

/* Apply a batch of zones read by 'next' (which fills 'z', valid until the
 * next call, and returns 1; 0 at the end; or a negative error), in
 * transactions of a few hundred zones, purging caches once per
 * transaction. 'ahead' (or NULL) names the zones the next calls of 'next'
 * return, in order: up to 'max' into 'names' (valid until the batch ends),
 * returning how many; their states are then read a window at a time
 * instead of zone by zone. Counts what was applied and what was unchanged.
 * 'report' (an object with an object "digests" and an array "blocked", or
 * NULL) gets every zone's digest after the batch and the zones a newer
 * version or delete kept out ({"zone", "version", "deleted"}). */
typedef int (*apply_next_fn)(void *ctx, struct backend_zone *z);
typedef size_t (*apply_ahead_fn)(void *ctx, const char **names, size_t max);
int apply_batch(struct agent *a, apply_next_fn next, apply_ahead_fn ahead, void *ctx,
		json_t *report, uint64_t *ret_applied, uint64_t *ret_unchanged,
		uint64_t *ret_records, struct errmsg *err);

/* Purge the caches of zones whose data was committed while PowerDNS was
 * unreachable. */
int apply_flush_dirty(struct agent *a);

/* Describe the validated push 'p' as backend records in 'rrs' (p->data.n
 * entries, pointing into 'p'). */
void apply_zone_view(const struct zone_push *p, struct backend_rr *rrs, struct backend_zone *ret);

/* Refresh a->zones from the database (takes db_lock). */
void apply_count_zones(struct agent *a);

/* Fail fast with ERR_UNAVAILABLE while PowerDNS is known to be down. */
int apply_check_pdns(struct agent *a, struct errmsg *err);

#endif
