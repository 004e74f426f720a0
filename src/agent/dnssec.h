/* Signing a zone on this node with keys the controller sends (so every node
 * publishes the same DNSKEY set), or with a key PowerDNS generates when the
 * node runs alone. Keys go in through PowerDNS's API; no shell, no pdnsutil. */
#ifndef YUMNA_AGENT_DNSSEC_H
#define YUMNA_AGENT_DNSSEC_H

#include <jansson.h>

#include "agent.h"

#define DNSSEC_ERR_MAX 512
#define DNSSEC_KEYS_MAX 8
#define DNSSEC_PRIVATE_KEY_MAX 8192

/* Secure 'zone' as 'body' asks (may be NULL: generate a key if the zone has
 * none, use NSEC). On success *ret is the reply object. */
int dnssec_secure(struct agent *a, const char *zone, const json_t *body, json_t **ret, char *err);

/* Make PowerDNS hold exactly the DNSSEC state a push's zone.dnssec
 * (validated by model_dnssec_check) describes: import the keys it lacks,
 * set flags, remove keys not in the set, NSEC or NSEC3 parameters, CDS and
 * CDNSKEY publication; or, for {"enabled": false}, remove every key. Does
 * nothing when the zone's recorded digest says it is already so. Called
 * with db_lock held; the caller rectifies and purges caches. */
int dnssec_apply(struct agent *a, const char *zone, const json_t *cfg, char *err);

#endif
