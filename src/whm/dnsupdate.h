/* RFC 2136 UPDATE: prerequisites (section 3.2) checked against the zone
 * as stored, then the update section (3.4) applied all-or-nothing as one
 * new zone version through zones_rrsets_patch(): the same validation as
 * the HTTP routes, committed (and so pushed to every node) before the
 * caller answers NOERROR. */
#ifndef YUMNA_WHM_DNSUPDATE_H
#define YUMNA_WHM_DNSUPDATE_H

#include <jansson.h>
#include <libknot/libknot.h>

#include "whm.h"

/* The most records the prerequisite and update sections may hold. */
#define DNSUPDATE_RRS_MAX 1000

/* Apply UPDATE 'pkt' (parsed, its TSIG already verified with the key
 * 'key_name') to the live zone 'zone_id' named 'zone' (normalised), as
 * far as the key's 'rules' (upolicy.h) allow. Returns the DNS RCODE to
 * answer (KNOT_RCODE_NOERROR once committed, or when nothing changes);
 * anything but NOERROR changed nothing and leaves a line for the log in
 * 'why'. */
int dnsupdate_apply(struct whm *w, const knot_pkt_t *pkt, int64_t zone_id, const char *zone,
		    const json_t *rules, const char *key_name, struct errmsg *why);

#endif
