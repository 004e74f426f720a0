/* Per-node target health of a zone's routing policies: each node's agent
 * reads what its own PowerDNS considers up (src/agent/steerhealth.h) and
 * the controller puts the answers beside the policies, for
 * GET /api/dns/:id/policies/health. */
#ifndef YUMNA_WHM_STEER_HEALTH_H
#define YUMNA_WHM_STEER_HEALTH_H

#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "whm.h"

/* The health of every policy of live zone 'zone_id' (its row 'z') as
 * every cluster node reports it now. *ret (the caller frees it):
 * {"zoneId", "zone", "nodes": [{"name", "reachable", "read_at" | "error"}],
 *  "rrsets": [{"name", "type", "policy_type", "checked", "targets": [...],
 *              "health": {NODE: {"state": "read" | "unknown", "read_at",
 *                                "error", "targets": {ADDRESS: "up" |
 *                                "down" | "unknown"}}}}]}.
 * A node that did not answer, or did not report an RRset, has every
 * target "unknown" with the reason in "error": never "up". */
int steer_health_get(struct whm *w, struct store *st, const struct store_zone *z, json_t **ret,
		     struct errmsg *err);

#endif
