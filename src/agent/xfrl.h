/* The node's transfer port: where third-party secondaries transfer the
 * zones they are allowed (xfr.h), on dns-address and transfer-port, over
 * UDP (SOA) and TCP (SOA, AXFR, IXFR).
 *
 * A question is let through only when it is signed with a key (TSIG,
 * RFC 8945, checked with libknot) and comes from an address, that one of
 * the zone's "allow" pairs names together; anything else is answered
 * REFUSED (NOTAUTH with a TSIG error for a bad signature, unsigned as RFC
 * 8945 says). A question let through goes on unsigned to the node's
 * PowerDNS, signed with the relay's own key, which PowerDNS alone honours
 * for these zones; each message of its answer is signed again with the
 * secondary's key (the first against the question's MAC, each later one
 * against the one before) and passed on. So every node is a primary for
 * the zone with the same data and serial, and the secondary sees one.
 *
 * Bounds: transfer-tcp-clients connections at once, at most
 * transfer-tcp-clients-per-address of them from one address (one more is
 * closed at once, so one address cannot keep the others out), a message of
 * at most 65,535 bytes, 10 s without progress from a client or from
 * PowerDNS ends the connection. */
#ifndef YUMNA_AGENT_XFRL_H
#define YUMNA_AGENT_XFRL_H

#include "agent.h"

struct xfrl;

/* Make the relay's key and listen, when transfer-port is set (otherwise
 * *ret is NULL): 0, or a negative code with 'err' set. */
int xfrl_start(struct agent *a, struct xfrl **ret, struct errmsg *err);
/* Stop listening and wait for the connections to end; accepts NULL. */
void xfrl_stop(struct xfrl *l);

#endif
