/* Secondary zones: zones whose data comes from a primary outside the
 * cluster (RFC 1034 section 4.3.5, RFC 1996).
 *
 * A few controller threads keep every secondary zone in step with its
 * primaries, each refreshing one zone at a time: it asks a primary for the zone's SOA when the zone's refresh
 * (or, after a failure, retry) timer runs out, or at once on a NOTIFY
 * from a listed primary or a retrieve request; when the primary's serial
 * is ahead it transfers the zone (IXFR from the serial held when the
 * primary offers it, else AXFR; xfr.h), checks it as every change is
 * checked, and stores it as one new version whose serial is exactly the
 * primary's, which every node then serves. A serial that goes backwards
 * is ignored (and logged once); a transfer that fails changes nothing.
 * When no primary answered for longer than the SOA's expire, the zone is
 * expired: shown in the zone's status and the metrics.
 *
 * Transfers never run on the HTTP threads. */
#ifndef YUMNA_WHM_SECONDARY_H
#define YUMNA_WHM_SECONDARY_H

#include <jansson.h>
#include <sys/socket.h>

#include <libknot/libknot.h>

#include "base/buf.h"
#include "base/err.h"
#include "whm.h"

#define SECONDARY_PRIMARIES_MAX 8

/* Start and stop the refresh threads (whm_init / whm_deinit). */
int secondary_start(struct whm *w);
void secondary_stop(struct whm *w);

/* A request's "primaries" (an array of 1 to SECONDARY_PRIMARIES_MAX
 * "address[:port]" strings) as the stored text (comma-separated, each with
 * its port). ERR_INVALID naming 'what' and the entry at fault. */
int secondary_primaries_check(const json_t *primaries, const char *what, char *out, size_t len,
			      struct errmsg *err);

/* A request's TSIG key name: the stored name of an existing key (tsig.h)
 * into 'out', or ERR_INVALID naming 'what'. */
int secondary_tsig_check(struct whm *w, const char *name, const char *what, char *out, size_t len,
			 struct errmsg *err);

/* Inside the caller's write transaction: secondary zone 'zone_id' gets the
 * primaries 'primaries' (as secondary_primaries_check() writes them;
 * NULL: it keeps its own) and the key 'tsig_key' (as
 * secondary_tsig_check() writes it, "" for none; NULL: it keeps its own).
 * *ret_changed says whether that changed anything (nothing is written
 * otherwise). -ENOENT when the zone is not a secondary zone. The refresh
 * threads see the change at their next reload; secondary_retrieve()
 * after the commit makes that now. */
int secondary_set(struct store *st, int64_t zone_id, const char *primaries, const char *tsig_key,
		  bool *ret_changed);

/* A NOTIFY (RFC 1996) for 'zone' from 'from' (NULL: not known), signed
 * with the TSIG key named 'key' and verified (NULL: not signed): when
 * 'zone' is a secondary zone and 'from' one of its primaries, or 'key' is
 * the zone's own key (a primary that notifies from another address), its
 * refresh starts now. Returns the DNS rcode to answer with: NOERROR,
 * NOTAUTH for a zone that is not a secondary zone here, REFUSED for
 * anyone else. */
int secondary_notify(struct whm *w, const knot_dname_t *zone, const struct sockaddr_storage *from,
		     const knot_dname_t *key);

/* Refresh zone 'zone_id' now (a retrieve request): 0, or ERR_NOT_FOUND
 * when it is not a secondary zone. */
int secondary_retrieve(struct whm *w, int64_t zone_id, struct errmsg *err);

/* The zone's secondary settings and state for the API, or NULL when it is
 * not a secondary zone: {"primaries": [...], "tsig_key": name|null,
 * "presigned": whether its primary signs it (zones_presigned()), "state": "pending"|"ok"|"retrying"|"expired", "serial", "last_check",
 * "last_transfer", "last_error", "transfers": {"axfr", "ixfr"}}. */
json_t *secondary_zone_json(struct whm *w, int64_t zone_id);

/* The secondary zones at a glance, for GET /api/dns/cluster/status:
 * {"pending": N, "ok": N, "retrying": N, "expired": N, "attention":
 * [{"zone", "state", "last_error"}] (those not ok, at most 100)}. */
json_t *secondary_summary_json(struct whm *w);

/* The Prometheus lines of the secondary zones into 'out'. */
int secondary_metrics(struct whm *w, struct buf *out);

#endif
