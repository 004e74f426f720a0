/* The content digest of a zone: what the controller committed and what a
 * node's backend holds, compared without comparing the records themselves.
 *
 * In the spirit of ZONEMD (RFC 8976), over the canonical presentation form
 * the validator produces and the agent stores, with these rules:
 *
 *   - every record is one line "owner TYPE ttl rdata" (owner absolute and
 *     lowercase, TYPE the mnemonic, rdata canonical as rr_parse() prints
 *     it, MX and SRV with their priority);
 *   - the records digest R is SHA-256 over the lines of every record but
 *     the SOA, sorted bytewise, each ending in '\n' (so the order in which
 *     records were added does not matter). The DNSSEC records PowerDNS
 *     makes when it signs a zone are never records (it signs as it
 *     answers); those of a presigned zone are, as its primary signed them,
 *     so a node serving other signatures is found as any other change;
 *   - the zone digest D is SHA-256 over R in hex, '\n', and the SOA's line
 *     with its '\n': the SOA (serial included) changes on every version
 *     while R changes only when records do, so the controller keeps R with
 *     the zone and derives D for any serial without reading the records;
 *   - a zone that is not there (no SOA) has the empty digest "".
 *
 * Keys and DNSSEC metadata are not part of the digest: the agent checks
 * those against the push's zone.dnssec on its own (X-YUMNA-DNSSEC). */
#ifndef YUMNA_DNS_DIGEST_H
#define YUMNA_DNS_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

/* 64 hex digits and a NUL. */
#define ZONE_DIGEST_HEX 65
/* What an agent records for a zone whose backend was found not to hold
 * what the agent applied: matches no content. */
#define ZONE_DIGEST_DRIFTED "0000000000000000000000000000000000000000000000000000000000000000"

struct zone_digest {
	char **lines; /* records other than the SOA, unsorted */
	size_t n, alloc;
	char *soa; /* the SOA's line, or NULL */
	int err;   /* the first allocation failure, reported at the end */
};

void zone_digest_init(struct zone_digest *d);
/* Add one record. 'type' is the mnemonic ("MX"). Errors are kept and
 * reported by zone_digest_final(). */
void zone_digest_add(struct zone_digest *d, const char *owner, const char *type, uint32_t ttl,
		     const char *content);
/* Every record of a validated zone. */
void zone_digest_add_zone(struct zone_digest *d, const struct zone_data *z);
/* R (the records other than the SOA) into 'ret_records' and D into
 * 'ret_zone' (either may be NULL); frees what 'd' holds. -ENOMEM, or -EIO
 * when the hash fails. D is "" when no SOA was added. */
int zone_digest_final(struct zone_digest *d, char ret_records[ZONE_DIGEST_HEX],
		      char ret_zone[ZONE_DIGEST_HEX]);

/* D from a records digest R and the zone's SOA (owner, ttl, canonical
 * RDATA). */
int zone_digest_combine(const char *records_hex, const char *soa_owner, uint32_t soa_ttl,
			const char *soa_content, char ret[ZONE_DIGEST_HEX]);

/* Whether 'text' is a digest: "" or 64 lowercase hex digits. */
bool zone_digest_valid(const char *text);

#endif
