/* Signing a zone on this node with keys the controller sends (so every node
 * publishes the same DNSSEC state), written into PowerDNS's tables in the
 * transaction of the zone's records; or with a key PowerDNS generates through
 * its API when the node runs alone. No shell, no pdnsutil. */
#ifndef YUMNA_AGENT_DNSSEC_H
#define YUMNA_AGENT_DNSSEC_H

#include <jansson.h>

#include "agent.h"
#include "backend.h"
#include "base/err.h"

#define DNSSEC_KEYS_MAX 8
#define DNSSEC_PRIVATE_KEY_MAX 8192

/* Secure 'zone' as 'body' asks (may be NULL: generate a key if the zone has
 * none, use NSEC). On success *ret is the reply object. */
int dnssec_secure(struct agent *a, const char *zone, const json_t *body, json_t **ret,
		  struct errmsg *err);

/* Whether the keys of a push's zone.dnssec (validated by
 * model_dnssec_check) can be served: each private key is a valid key and
 * the private half of its dnskey. Reads nothing; ERR_UPSTREAM if not (the
 * code PowerDNS's refusal of such a key had). */
int dnssec_check(const json_t *cfg, struct errmsg *err);

/* Inside the transaction that writes the zone's records (the zone exists
 * in it), with db_lock held: make PowerDNS's tables hold exactly the DNSSEC
 * state 'cfg' (checked by dnssec_check) describes: its keys (cryptokeys),
 * NSEC or NSEC3 parameters, CDS and CDNSKEY publication and the digest of
 * it all (domainmetadata); or, for {"enabled": false}, no keys. Does
 * nothing when the zone's recorded digest says it is already so;
 * *ret_changed says whether it did something, and then, once committed,
 * PowerDNS must read them again (pdns_dnssec_refresh) before the zone is
 * rectified and its caches purged. */
int dnssec_write(struct agent *a, const char *zone, const json_t *cfg, bool *ret_changed,
		 struct errmsg *err);

/* With db_lock held: DNSSEC_DRIFTED when the keys or NSEC3 parameters
 * 'zone' holds are no longer what dnssec_write() left (or it holds keys it
 * was never given); DNSSEC_UNRECORDED when a zone written before that was
 * kept has no record of it; 0 when they are as written; or a negative
 * error. With 'write' (inside a transaction) it acts on what it finds: a
 * drifted zone's record of its key set is dropped, so that the next push
 * writes the keys again; an unrecorded one is recorded. Without, it only
 * reads. */
#define DNSSEC_DRIFTED 1
#define DNSSEC_UNRECORDED 2
int dnssec_verify(struct backend *db, const char *zone, bool write);

/* Inside the transaction that writes zone 'z' (the zone exists in it), with
 * db_lock held: PowerDNS's PRESIGNED metadata set when the zone holds
 * RRSIG records, the signatures of a primary that signs it (PowerDNS then
 * serves them and signs nothing), and its NSEC3PARAM metadata as the
 * zone's NSEC3PARAM record says; both taken back when a zone that
 * 'existed' no longer holds any. 1 when nothing changed, 0 when written
 * (PowerDNS must read its metadata again: pdns_dnssec_refresh), or a
 * negative error. */
int dnssec_presigned_write(struct agent *a, const struct backend_zone *z, bool existed);

#endif
