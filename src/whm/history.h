/* Zone history and the audit log: every version of every zone kept with
 * who made it and what it was (history.c), the records at a version, the
 * RRsets two versions differ in, rollback as a new version, the audit log
 * of every change of a zone, a token or a server, and the retention that
 * prunes old versions and audit entries in the background
 * (history_prune.c).
 *
 * Actors are the names of API tokens, "system:rollover" (the DNSSEC
 * rollover engine), "system:reconcile" (a version raised above what a
 * node holds) and "local:yumna-whm" (yumna-whm's own command line).
 *
 * The queries return 0 or a negative code with a message in 'err'
 * (ERR_NOT_FOUND for no such zone or version); the caller owns *ret. */
#ifndef YUMNA_WHM_HISTORY_H
#define YUMNA_WHM_HISTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "whm.h"
#include "zones.h"

/* The actors that are not tokens. */
#define HISTORY_ROLLOVER "system:rollover"
#define HISTORY_RECONCILE "system:reconcile"
#define HISTORY_LOCAL "local:yumna-whm"

/* Most versions or audit entries one page may ask for. */
#define HISTORY_PAGE_MAX 1000
/* Room for a summary ("update www A 192.0.2.1 -> www A 192.0.2.2"). */
#define HISTORY_SUMMARY_MAX 256

/* Keep version z->version of zone 'z' (as committed by the open
 * transaction) and its audit entry: 'records' are its payload records
 * (NULL: read from the store, inside the transaction; ignored when the
 * version deleted the zone). */
int history_record(struct store *st, const struct store_zone *z, const json_t *records,
		   const char *actor, const char *action, const char *summary);

/* The audit entry of a change that is not a zone's (a token, a server), in
 * the caller's transaction. */
int history_note(struct store *st, const char *actor, const char *action, const char *summary);

/* The audit entry of something done to zone 'z' that made no version
 * (zone_id and domain taken from 'z'), in the caller's transaction. */
int history_note_zone(struct store *st, const struct store_zone *z, const char *actor,
		      const char *action, const char *summary);

/* snprintf() into a summary, with "..." where it was cut. */
void history_summary(char out[HISTORY_SUMMARY_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The zone's versions below 'before' (0: from the current one), newest
 * first, at most 'limit', as JSON text appended to 'out': {"zoneId", "domain", "current", "deleted",
 * "versions": [{"version", "serial", "time", "timestamp", "actor",
 * "action", "summary", "records", "deleted"}], "next": the 'before' of the
 * next page or null}. Tombstones (not yet purged) have a history too. */
int history_versions(struct whm *w, int64_t zone_id, uint64_t before, unsigned limit,
		     struct buf *out, struct errmsg *err);

/* One version with its records: the fields of a listing's entry plus
 * "zoneId", "domain", "digest" and "records": [{"name", "type", "content",
 * "ttl", "priority"}]. */
int history_version(struct whm *w, int64_t zone_id, uint64_t version, json_t **ret,
		    struct errmsg *err);

/* What changed from version 'from' to version 'to' (0: the current one):
 * {"zoneId", "domain", "from", "to", "added", "removed", "changed",
 * "counts": {"added", "removed", "changed"}} with zdiff_rrsets()'s lists.
 * ERR_MALFORMED when 'from' is above 'to'. */
int history_diff(struct whm *w, int64_t zone_id, uint64_t from, uint64_t to, json_t **ret,
		 struct errmsg *err);

/* Give the zone the records of version 'version', and the SOA fields it
 * set then, as a new version (new serial, pushed to every node like any
 * change). When the zone already holds exactly those nothing changes: *ret_changed is false and
 * res has the current version. ERR_CONFLICT for a version that deleted
 * the zone. The zone's DNSSEC state is not part of a version: it stays. */
int history_rollback(struct whm *w, int64_t zone_id, uint64_t version, const char *actor,
		     struct zone_result *res, bool *ret_changed, struct errmsg *err);

/* The audit entries 'f' asks for, newest first, as JSON text appended to
 * 'out': {"entries": [{"id",
 * "time", "timestamp", "actor", "action", "zone", "zoneId", "version",
 * "summary"}], "next": the 'before' of the next page or null}. Unless
 * 'admin', the summaries of token.* entries (a token's name and role) are
 * null: only admins may list tokens. */
int history_audit(struct whm *w, const struct store_audit_filter *f, bool admin, struct buf *out,
		  struct errmsg *err);

/* Retention (history_prune.c): a version goes when it is not among its
 * zone's history-keep-versions newest and is older than
 * history-keep-days; an audit entry when it is older than
 * audit-keep-days (0: kept forever). One pass prunes everything due, a
 * small step at a time, each its own short transaction; *ret_versions and
 * *ret_audit (may be NULL) say how much went. */
int history_prune_pass(struct whm *w, struct store *st, uint64_t *ret_versions,
		       uint64_t *ret_audit);
/* The thread that runs a pass every history-prune-interval seconds, on a
 * store connection of its own whose commits skip the WAL sync (what a
 * crash loses is pruned again). */
int history_prune_start(struct whm *w);
void history_prune_stop(struct whm *w);

#endif
