/* What zones.c shares with the other files of the zone service
 * (zones_lifecycle.c, zones_record.c, zones_records.c, zones_rrsets.c,
 * history.c, ...): the steps every zone change takes. Not for use outside
 * the zone service.
 *
 * A change reads the zone and its records outside any transaction
 * (zones_read), prepares and validates the new content (zones_validate,
 * the costly part), then opens the write transaction only if the zone did
 * not move meanwhile (zones_lock_unchanged; -EAGAIN: read again, at most
 * ZONES_CHANGE_ATTEMPTS times), writes, and closes with zones_finish. */
#ifndef YUMNA_WHM_ZONES_INTERNAL_H
#define YUMNA_WHM_ZONES_INTERNAL_H

#include <jansson.h>

#include "base/err.h"
#include "whm.h"
#include "zones.h"

#define ZONES_TYPE_SOA "SOA"
#define ZONES_CHANGE_ATTEMPTS 8

/* A record as the push payload carries it ('id' 0: none; the priority
 * only for MX and SRV; "disabled": true for a disabled record, which the
 * payload itself then leaves out). NULL without memory. */
json_t *zones_payload_record(int64_t id, const char *name, const char *type, const char *content,
			     uint32_t ttl, uint32_t priority, bool disabled);

/* Write RRset comments of zone 'zone_id' inside the caller's transaction:
 * 'comments' maps "name<TAB>type" (the name as records name their owner)
 * to the RRset's comments, an array (pdns_shape.h's shape; empty: none). */
int zones_write_comments(struct store *st, int64_t zone_id, const json_t *comments);

/* The zone's records as payload records, in id order; the caller owns *ret. */
int zones_load_records(struct store *st, int64_t zone_id, json_t **ret);

/* Validate the zone as it would be with 'records'; the same check every
 * agent runs on the push. Sets z->rdigest, the digest of those records as
 * the nodes serve them: the RRsets with a routing policy (stored for zone
 * z->id in 'st', overlaid with 'plan', zones_steer.h) as LUA records. */
int zones_validate(const struct whm *w, struct store *st, struct store_zone *z, json_t *records,
		   const json_t *plan, struct errmsg *err);

/* zones_get_live() and the zone's records (zones_load_records). */
int zones_read(struct whm *w, struct store **ret_st, int64_t zone_id, struct store_zone *z,
	       json_t **records, struct errmsg *err);

/* Open the write transaction if the zone is still at 'version'; -EAGAIN
 * (nothing open) if another change committed since it was read. */
int zones_lock_unchanged(struct store *st, int64_t zone_id, uint64_t version, struct errmsg *err);

/* Open the write transaction and read live zone 'zone_id' in it, for a
 * change that makes no version (settings, comments): ERR_NOT_FOUND for no
 * live zone, with 'err' set and nothing open. The caller commits or rolls
 * back, and clears *z. */
int zones_begin_live(struct whm *w, int64_t zone_id, struct store **ret_st, struct store_zone *z,
		     struct errmsg *err);

/* The next version and serial of 'z'. */
void zones_bump(struct store_zone *z);

/* Roll back, set 'err' to "'what': <code's text>" unless it says something
 * already, and return 'r'. */
int zones_fail(struct store *st, int r, struct errmsg *err, const char *what);

/* The zone kept changing under a change ZONES_CHANGE_ATTEMPTS times. */
int zones_busy(struct errmsg *err);

/* Close a change inside its transaction: zone row 'z' (bumped), what every
 * node must reach, the version in the history with its audit entry
 * (history_record: 'records' are the zone's records now, NULL to read them
 * in the transaction), commit, then tell the observers ('old' is the zone
 * before). */
int zones_finish(struct whm *w, struct store *st, const struct store_zone *old,
		 struct store_zone *z, const json_t *records, const char *actor, const char *action,
		 const char *summary, struct zone_result *res, struct errmsg *err);

/* Replace every record (or, with 'merge', every RRset 'records' names)
 * as one version; the serial goes above 'min_serial' when given, the
 * zone's SOA fields become 'soa' (zone_soa_write() text) when given.
 * 'summary' NULL: one is made ("replace every record: 12 records"). With
 * 'noop', a change that leaves the zone as it is (the same records, SOA
 * fields and serial) commits nothing and returns 1, *res the zone as it
 * is. With 'if_version' (0: any), ERR_CONFLICT and nothing changed unless
 * the zone is at that version when the change commits. */
int zones_records_set(struct whm *w, int64_t zone_id, const json_t *records, bool merge,
		      const uint32_t *min_serial, const char *soa, bool noop, uint64_t if_version,
		      const char *actor, const char *action, const char *summary,
		      struct zone_result *res, struct errmsg *err);

/* The key of an RRset in a set of them (a JSON object used as a hashed
 * set): owner and type, "name<TAB>type". A normalised owner never holds a
 * raw tab (it would be written \009). -ENAMETOOLONG if 'len' is short. */
int zones_rrset_key(const char *name, const char *type, char *out, size_t len);

/* What zones_records_apply() makes of the zone. */
struct zones_set_spec {
	const json_t *records; /* the panel's records */
	/* Replace only the RRsets 'records' names, and those 'emptied' names
	 * (an object whose keys are zones_rrset_key()s; NULL: none). A record
	 * without a TTL then takes that of the RRset it replaces. */
	bool merge;
	const json_t *emptied;
	const uint32_t *min_serial;
	const char *soa;
	bool noop;
	/* A transfer from the zone's primary: the serial becomes exactly
	 * this one, and a secondary zone may be written. NULL otherwise. */
	const uint32_t *transfer_serial;
	uint32_t transfer_life; /* the zone's life the transfer is for */
	/* Disabled records stay as they are (an import: a zone file holds
	 * what is served, and the export leaves them out). */
	bool keep_disabled;
	/* The records of an RRset with a per-record routing policy get it
	 * back (zones_steer_keep()) where the policy covers them all: an
	 * import or a rollback, whose input carries no policies (the export
	 * writes none; a version holds none). */
	bool keep_policies;
	/* An RRset with an RRset-level routing policy may not be given
	 * records: refused, as adding a record to it is (the panel's PUT of
	 * its listing, which holds no records for it). Otherwise records
	 * given to such an RRset replace its policy (an RRset change, an
	 * import, a rollback, a transfer). */
	bool refuse_steered;
	uint64_t if_version; /* 0, or the version the zone must be at */
	/* RRset comments written with the change: zones_rrset_key() -> the
	 * RRset's comments (an array) or null (none); NULL: none changed. */
	const json_t *comments;
	const char *action;
	const char *summary;
};

/* zones_records_set() as 'spec' says (zones_records.c); the RRset changes
 * of zones_rrsets.c name what they empty and their comments through it. */
int zones_records_apply(struct whm *w, int64_t zone_id, const struct zones_set_spec *spec,
			const char *actor, struct zone_result *res, struct errmsg *err);

#endif
