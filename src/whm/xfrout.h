/* Zone transfers to third-party secondaries: per zone, and as the cluster's
 * default for the zones without settings of their own, the secondaries
 * that may transfer the zone (an address or prefix, each with the TSIG key
 * it must sign with) and the addresses to NOTIFY of each change. Settings
 * are shown and taken as
 *   {"allow": [{"from": "192.0.2.0/24", "key": "key1.example."}, ...],
 *    "notify": ["192.0.2.1", "192.0.2.1:5300", "[2001:db8::1]:5300", ...]}
 * and reach every node inside the zone's push (zone.transfer, model/xfr.h),
 * so a change of them is a new version of the zone. */
#ifndef YUMNA_WHM_XFROUT_H
#define YUMNA_WHM_XFROUT_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"
#include "whm.h"
#include "zones.h"

/* The settings of zone 'zone_id' (0: the cluster's default) as shown, with
 * "default": true when the zone follows the cluster's. The caller owns
 * *ret. */
int xfrout_get(struct whm *w, struct store *st, int64_t zone_id, json_t **ret);

/* Check 'body' (shape above; a member left out is an empty list): every
 * "from" an address or prefix (inet_pton), every "key" a TSIG key the
 * controller has, every "notify" an address with an optional port. 0 with
 * the canonical JSON texts of both lists (the caller frees them), or
 * ERR_INVALID / ERR_NOT_FOUND with a message in 'err'. */
int xfrout_parse(struct whm *w, const json_t *body, char **ret_allow, char **ret_notify,
		 struct errmsg *err);

/* Give zone 'zone_id' the settings 'body' (NULL: it follows the cluster's
 * default again) as a new version pushed to every node. res->version is 0
 * when nothing changed. Nothing is changed on failure. */
int xfrout_zone_set(struct whm *w, int64_t zone_id, const json_t *body, const char *actor,
		    struct zone_result *res, struct errmsg *err);

/* Make 'body' the cluster's default; every zone that follows it gets a new
 * version, soon after (xfrout_push.h). *ret_zones: how many follow it. */
int xfrout_default_set(struct whm *w, const json_t *body, const char *actor, uint64_t *ret_zones,
		       struct errmsg *err);

/* zone.transfer of the push of zone 'zone_id': its settings or else the
 * default's, with the TSIG keys they name (keys since deleted are left
 * out, so they no longer grant anything). Always an object, so a node
 * clears what the zone no longer has. The caller owns *ret. */
int xfrout_payload(struct whm *w, struct store *st, int64_t zone_id, json_t **ret);

/* The zones with settings of their own that do not let in everyone the
 * cluster's default lets in (for each entry of the default, an entry with
 * its key and the same or a wider prefix of the same family): the catalog
 * zone, which follows the default, does not list them. Their ids in
 * ascending order in *ret (the caller frees it), *ret_n of them. */
int xfrout_closed_to_default(struct store *st, int64_t **ret, size_t *ret_n);

/* A key was changed or deleted: every zone whose settings name it gets a
 * new version (soon after, xfrout_push.h), so the nodes hold its secret as it
 * is now. */
int xfrout_key_changed(struct whm *w, const char *name);

/* PowerDNS's metadata kinds for these settings, in its API: the distinct
 * addresses of the allow list (ALLOW-AXFR-FROM), its distinct keys
 * (TSIG-ALLOW-AXFR) and the notify list (ALSO-NOTIFY), as they apply to
 * the zone (its own settings or the cluster's). A write gives the zone
 * settings of its own: every address crossed with every key (no address:
 * any, 0.0.0.0/0 and ::/0), checked as xfrout_parse() checks them. */
#define XFROUT_META_FROM "ALLOW-AXFR-FROM"
#define XFROUT_META_KEYS "TSIG-ALLOW-AXFR"
#define XFROUT_META_NOTIFY "ALSO-NOTIFY"
bool xfrout_meta_kind(const char *kind);
/* The values of 'kind' for zone 'zone_id'; the caller owns *ret. */
int xfrout_meta_get(struct whm *w, struct store *st, int64_t zone_id, const char *kind,
		    json_t **ret);
/* Replace (or with 'append' add to) the values of 'kind'; 'values' NULL
 * or empty with !append clears it. As xfrout_zone_set() otherwise. */
int xfrout_meta_set(struct whm *w, int64_t zone_id, const char *kind, const json_t *values,
		    bool append, const char *actor, struct zone_result *res, struct errmsg *err);

#endif
