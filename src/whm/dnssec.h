/* DNSSEC across the cluster: the controller is the one place keys are
 * made. It generates them once (GnuTLS), keeps them in the store with the
 * zone, and every push of a signed zone carries the same keys to every
 * node, which imports them into PowerDNS. Signing and unsigning are zone
 * changes: they raise the zone's version like a record change does.
 *
 * Private keys leave the controller only inside pushes to agents; no reply
 * and no log line carries them.
 *
 *   zkeys.c     key generation, DS, the zone.dnssec part of pushes (zkeys.h)
 *   signing.c   signing, unsigning, the DNSSEC view
 *   rollover.c  key rollovers and the thread that advances them */
#ifndef YUMNA_WHM_DNSSEC_H
#define YUMNA_WHM_DNSSEC_H

#include <jansson.h>

#include "base/err.h"
#include "whm.h"
#include "zones.h"

/* Sign the zone as 'body' asks (may be NULL: ECDSA P-256 CSK, NSEC).
 * Body fields, all optional: "algorithm" (13, 15, "ECDSAP256SHA256",
 * "ED25519"), "scheme" ("csk" or "ksk-zsk"), "nsec3" (bool),
 * "nsec3_optout" (bool). On an already signed zone only the NSEC/NSEC3
 * choice may change. *ret is the zone's DNSSEC view (signing_view) with
 * instructions; res->version is 0 when nothing changed. */
int signing_sign(struct whm *w, int64_t zone_id, const json_t *body, const char *actor,
		 struct zone_result *res, json_t **ret, struct errmsg *err);

/* As signing_sign, with 'key' (zkeys_import()) as the zone's one CSK
 * instead of a key made here; 'key' is taken over (cleared) either way.
 * A zone signed already is ERR_INVALID. */
int signing_sign_key(struct whm *w, int64_t zone_id, const json_t *body,
		     struct store_dnssec_key *key, const char *actor, struct zone_result *res,
		     json_t **ret, struct errmsg *err);

/* Unsign: refused (ERR_CONFLICT, with what to do in 'err') unless 'force',
 * since the parent may still publish a DS. */
int signing_unsign(struct whm *w, int64_t zone_id, bool force, const char *actor,
		   struct zone_result *res, struct errmsg *err);

/* State, public keys, DS, rollover: what GET /api/dns/:id/dnssec shows. */
int signing_view(struct whm *w, int64_t zone_id, json_t **ret, struct errmsg *err);

/* The keys of every signed zone, 'limit' at most (1 to 1000) with a key id
 * above 'after', in key id order: what GET /api/dns/dnssec/keys shows,
 *   {"keys": [{"id", "zoneId", "zone", "role" (csk, ksk, zsk), "keytag",
 *              "algorithm", "algorithmName", "flags", "state" ("active":
 *              published and signing; "published": published only, as in a
 *              rollover), "active", "published", "createdAt",
 *              "rollover": null or the zone's {"kind", "step"}}],
 *    "next": the "after" of the next page, or null}.
 * One store query, whatever the number of zones; never a private key. */
int signing_keys(struct whm *w, int64_t after, unsigned limit, json_t **ret, struct errmsg *err);

/* Key rollover. 'body' {"keytype": "zsk"|"ksk"|"csk"} starts one (ZSK by
 * pre-publication; KSK/CSK by double-KSK with CDS); {"ds_published": true}
 * confirms that the parent publishes the new DS of a KSK/CSK rollover.
 * The steps after the first are taken by the rollover thread when every
 * node acknowledged the previous one and the TTLs have passed. */
int rollover_request(struct whm *w, int64_t zone_id, const json_t *body, const char *actor,
		     struct zone_result *res, json_t **ret, struct errmsg *err);

/* One pass of the rollover engine over every signed zone. */
void rollover_tick(struct whm *w);
int rollover_start(struct whm *w);
void rollover_stop(struct whm *w);

#endif
