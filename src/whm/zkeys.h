/* The controller's DNSSEC keys: generated here once (GnuTLS; DNSKEY and
 * key tag through libdnssec), kept in the store with the zone, and carried
 * to every node by the zone.dnssec part of each push. Used by zones.c (the
 * payload), signing.c and rollover.c. */
#ifndef YUMNA_WHM_ZKEYS_H
#define YUMNA_WHM_ZKEYS_H

#include <jansson.h>

#include "base/err.h"
#include "whm.h"

#define ALG_ECDSAP256 13
#define ALG_ED25519 15
#define FLAGS_KSK 257
#define FLAGS_ZSK 256
#define SCHEME_CSK "csk"      /* one combined signing key */
#define SCHEME_SPLIT "kskzsk" /* a KSK and a ZSK */

/* The mnemonic of algorithm 'alg' (13 or 15). */
const char *zkeys_alg_name(uint32_t alg);

/* Generate one key of 'keytype' ("csk", "ksk" or "zsk") for algorithm
 * 'alg': *k gets the DNSKEY RDATA text, the private key in the ISC format
 * PowerDNS imports, flags and tag, all owned by *k
 * (store_dnssec_key_clear). The zone and dates are the caller's to set.
 * On failure a message in 'err'. */
int zkeys_generate(uint32_t alg, const char *keytype, struct store_dnssec_key *k,
		   struct errmsg *err);

/* As zkeys_generate, with the private key of 'isc', a key in the ISC
 * format (what dnssec-keygen writes, PowerDNS exports and the API's
 * privatekey carries; algorithm 13 or 15): the DNSKEY is its public half.
 * Bad text is ERR_INVALID with a message in 'err' that quotes no key. */
int zkeys_import(const char *isc, const char *keytype, struct store_dnssec_key *k,
		 struct errmsg *err);

/* The DS (SHA-256) of DNSKEY RDATA text 'dnskey' of 'zone', in
 * presentation form. */
int zkeys_ds_text(const char *zone, const char *dnskey, char *out, size_t len);

/* The NSEC3PARAM the zone is served with, or NULL for NSEC. */
const char *zkeys_nsec3param(const struct store_dnssec *d);

/* The zone.dnssec object of a push (private keys included); for a zone
 * that is not signed, {"enabled": false}, so that a node drops any keys it
 * holds for the name. */
int zkeys_payload(struct store *st, int64_t zone_id, json_t **ret);

/* The clock of DNSSEC timing: Unix seconds, plus the test-only offset. */
int64_t zkeys_now(const struct whm *w);

#endif
