/* Per-target health of a zone's health-checked routing policies, read
 * from the node's own PowerDNS: for each health record the controller
 * pushed (model/steer.h steer_health_compile, owner _yumna-health.NAME,
 * or _yumna-health-wildcard.NAME for the wildcard *.NAME),
 * a TXT query over UDP to PowerDNS on a loopback address, whose answer
 * PowerDNS computes with the same checks that steer the served answers.
 * PowerDNS 4.7 has no API for its LUA health-check results: this reads
 * its own view, not one the agent would form with checks of its own. */
#ifndef YUMNA_AGENT_STEERHEALTH_H
#define YUMNA_AGENT_STEERHEALTH_H

#include <jansson.h>

#include "agent.h"
#include "base/err.h"

/* At most this many health records of one zone are read per request. */
#define STEERHEALTH_NAMES_MAX 256
/* How long one query waits for PowerDNS's answer; the first that gets
 * none ends the request (503), which must stay within the controller's
 * agent timeout. */
#define STEERHEALTH_TIMEOUT_MS 500

/* Read the health of zone 'zone' (normalised, trailing dot) now. *ret
 * (the caller frees it): {"zone", "read_at" (Unix time), "rrsets": [
 * {"name", "type", "targets": {ADDRESS: "up" | "down"}} or {"name",
 * "error"} for a health record PowerDNS did not answer as expected]}.
 * -ENOENT when the node does not serve the zone; other errors with 'err'
 * set. */
int steerhealth_read(struct agent *a, const char *zone, json_t **ret, struct errmsg *err);

#endif
