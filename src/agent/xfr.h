/* A push's zone.transfer (model/xfr.h) kept in PowerDNS's backend, so that
 * this node is a primary for the zone's third-party secondaries.
 *
 * Such a secondary transfers from the node's transfer port (xfrl.h), which
 * lets a transfer in only from an address of one of the zone's "allow"
 * prefixes signed with that prefix's key, and relays it to PowerDNS. So
 * PowerDNS itself grants the zone's transfers to the relay's key alone
 * (TSIG-ALLOW-AXFR): PowerDNS 4.7 grants a signed transfer on the key
 * alone and an unsigned one on the address alone, and cannot ask for both.
 * The settings themselves are the zone's X-YUMNA-TRANSFER metadata (one
 * JSON row: {"allow": [{"from", "key"}, ...], "notify": [...]}, which
 * PowerDNS ignores), the keys' secrets are in PowerDNS's tsigkeys, and the
 * agent sends the zone's NOTIFYs itself (xfrn.h): ALSO-NOTIFY and
 * ALLOW-AXFR-FROM are never written. */
#ifndef YUMNA_AGENT_XFR_H
#define YUMNA_AGENT_XFR_H

#include <stdbool.h>

#include <jansson.h>

#include "agent.h"

#define XFR_META "X-YUMNA-TRANSFER"
/* The relay's own key (xfrl.h), made at each start; no key pushed by the
 * controller may take its name. */
#define XFR_RELAY_KEY "yumna-agent-relay.invalid."

/* Whether 't' (a checked zone.transfer, or NULL) names secondaries to
 * notify. */
bool xfr_notifies(const json_t *t);

/* Write 't' for 'zone' inside the caller's backend transaction, after the
 * zone's domains row: 0 when it changed the zone's metadata (PowerDNS
 * must read it again), 1 when the metadata already was so, or a negative
 * code with 'err' set. */
int xfr_write(struct agent *a, const char *zone, const json_t *t, struct errmsg *err);

/* The zone's settings as xfr_write() kept them: a new reference with
 * "allow" and "notify" (both arrays), or NULL when the zone has none (or
 * cannot be read). With db_lock held. */
json_t *xfr_read(struct agent *a, const char *zone);

#endif
