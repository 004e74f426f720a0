/* A push's zone.transfer (model/xfr.h) written into PowerDNS's backend, so
 * that this node is a primary for the zone's third-party secondaries: the
 * TSIG keys that may transfer it (TSIG-ALLOW-AXFR, with the keys in
 * tsigkeys) and the addresses PowerDNS notifies (ALSO-NOTIFY).
 *
 * ALLOW-AXFR-FROM is never written: PowerDNS 4.7 lets an unsigned
 * transfer in from any address it lists, and every transfer here must be
 * signed with an allowed key. */
#ifndef YUMNA_AGENT_XFR_H
#define YUMNA_AGENT_XFR_H

#include <stdbool.h>

#include <jansson.h>

#include "agent.h"

/* Whether 't' (a checked zone.transfer, or NULL) names secondaries to
 * notify: the zone is then of PowerDNS kind MASTER, which PowerDNS needs
 * to send NOTIFY. */
bool xfr_notifies(const json_t *t);

/* Write 't' for 'zone' inside the caller's backend transaction, after the
 * zone's domains row: 0 when it changed the zone's metadata (PowerDNS
 * must read it again), 1 when the metadata already was so, or a negative
 * code with 'err' set. */
int xfr_write(struct agent *a, const char *zone, const json_t *t, struct errmsg *err);

#endif
