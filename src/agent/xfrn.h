/* NOTIFY (RFC 1996) after each change the agent applied, and when asked
 * (POST /api/zones/{zone}/notify). To a zone's own third-party secondaries
 * the agent sends it rather than PowerDNS (xfr.h says why); to the node's
 * also-notify PowerDNS sends it, asked from this thread. Each address of
 * the zone's "notify" gets a NOTIFY for its SOA, signed with the key of
 * the zone's first "allow" pair when it has one (a secondary that allows
 * NOTIFY only with its key, as Knot can, takes it), from the node's
 * dns-address; one without an answer is sent again after 1, 2, 4 and 8
 * seconds, then given up with a log line; a newer round for the zone
 * replaces its messages still unanswered. The first is sent once the
 * second purge of PowerDNS's caches after the change is done (repurge.h;
 * one that keeps failing, once the old SOA has expired from the caches),
 * when no cache holds the old SOA any more (a secondary told before could
 * be answered the old serial and stay behind); PowerDNS is asked at the
 * same moment for the same reason. The zones waiting and the
 * messages awaiting an answer are bounded: past them a zone is dropped
 * with a log line (its secondaries still refresh on the SOA timers). */
#ifndef YUMNA_AGENT_XFRN_H
#define YUMNA_AGENT_XFRN_H

#include "agent.h"

struct xfrn;

int xfrn_start(struct agent *a, struct xfrn **ret);
/* Stop and free; accepts NULL. */
void xfrn_stop(struct xfrn *x);

/* Notify the secondaries of 'zone' (with its trailing dot): its own when
 * 'own', the node's when 'node' (PowerDNS's also-notify); does not wait.
 * Accepts a NULL 'x' (does nothing). */
void xfrn_queue(struct xfrn *x, const char *zone, bool own, bool node);

#endif
