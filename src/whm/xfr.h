/* The client side of zone transfers (RFC 5936 AXFR, RFC 1995 IXFR) over
 * TCP, with libknot's messages and TSIG (RFC 8945): the controller's way
 * to fetch a secondary zone from its primary (secondary.h).
 *
 * A transfer is all or nothing: the zone in 'struct xfr_zone' changes only
 * when the whole transfer arrived, every message answered the query, was
 * signed with the key (when one is given) and every record lies in the
 * zone. Everything read from the primary is bounded: the time without a
 * byte ('stall_ms'), the whole transfer ('timeout_ms'), the records, the
 * bytes read and the text the zone being built holds. */
#ifndef YUMNA_WHM_XFR_H
#define YUMNA_WHM_XFR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libknot/libknot.h>

#include "base/buf.h"
#include "base/err.h"
#include "model/xfr.h"

struct xfr_limits {
	int64_t timeout_ms; /* the whole transfer */
	int64_t stall_ms;   /* without a byte from the primary */
	size_t max_records;
	size_t max_bytes; /* every message read, together */
	/* The zone being built, as the text of its records with owners
	 * relative to the zone (0: no bound): what a transfer holds in
	 * memory, however many bytes its differences take on the wire. */
	size_t max_text;
};

/* A zone as the last transfer left it: its SOA (NULL before any transfer)
 * and every other record, as keys "owner\ttype\trdata" (owner absolute
 * and lower case, rdata in presentation format) with their TTLs. */
struct xfr_zone {
	knot_rrset_t *soa;
	json_t *rrs;
};

void xfr_zone_clear(struct xfr_zone *z);
/* Its serial; 0 without an SOA. */
uint32_t xfr_zone_serial(const struct xfr_zone *z);

/* The serial of the SOA 'primary' answers for zone 'zone'. */
int xfr_soa_serial(const struct xfr_primary *primary, const knot_dname_t *zone,
		   const knot_tsig_key_t *key, const struct xfr_limits *lim, uint32_t *ret,
		   struct errmsg *err);

/* Transfer zone 'zone' from 'primary' into 'z': an IXFR from z's serial
 * when z holds a zone and 'ixfr' is set (a primary that answers with the
 * whole zone, or refuses IXFR, gets an AXFR), else an AXFR. On success *z
 * is the zone at the primary's serial and *ret_ixfr says whether it came
 * as differences; on failure *z is unchanged and 'err' says why. */
int xfr_transfer(const struct xfr_primary *primary, const knot_dname_t *zone,
		 const knot_tsig_key_t *key, const struct xfr_limits *lim, bool ixfr,
		 struct xfr_zone *z, bool *ret_ixfr, struct errmsg *err);

/* Add record set 'rr' to 'z' as a transfer would (the SOA as z's, which
 * must not have one yet): how a zone held before is built again from its
 * stored records. 0, -EINVAL or -ENOMEM. */
int xfr_zone_add(struct xfr_zone *z, const knot_rrset_t *rr);

/* The zone as zone file text (the SOA first, absolute owners) into 'out'. */
int xfr_zone_text(const struct xfr_zone *z, struct buf *out);

#endif
