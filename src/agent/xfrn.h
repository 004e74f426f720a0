/* NOTIFY (RFC 1996) to a zone's own third-party secondaries, sent by the
 * agent rather than PowerDNS (xfr.h says why): after each change the agent
 * applied, and when asked (POST /api/zones/{zone}/notify). Each address of
 * the zone's "notify" gets a NOTIFY for its SOA, signed with the key of
 * the zone's first "allow" pair when it has one (a secondary that allows
 * NOTIFY only with its key, as Knot can, takes it), from the node's
 * dns-address; one without an answer is sent again after 1, 2, 4 and 8
 * seconds, then given up with a log line. The first is sent once the
 * second purge of PowerDNS's caches after the change is done (repurge.h),
 * when no cache holds the old SOA any more (a secondary told before could
 * be answered the old serial and stay behind). The zones waiting and the
 * messages awaiting an answer are bounded: past them a zone is dropped
 * with a log line (its secondaries still refresh on the SOA timers). */
#ifndef YUMNA_AGENT_XFRN_H
#define YUMNA_AGENT_XFRN_H

#include "agent.h"

struct xfrn;

int xfrn_start(struct agent *a, struct xfrn **ret);
/* Stop and free; accepts NULL. */
void xfrn_stop(struct xfrn *x);

/* Notify the secondaries of 'zone' (with its trailing dot); does not wait.
 * Accepts a NULL 'x' (does nothing). */
void xfrn_queue(struct xfrn *x, const char *zone);

#endif
