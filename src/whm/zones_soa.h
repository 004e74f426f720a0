/* A zone's SOA: the cluster's (the soa-* settings) field by field unless
 * the zone sets its own MNAME, RNAME, refresh, retry, expire or minimum.
 * The serial is always the controller's.
 *
 * What a zone sets is kept in its store row (store_zone.soa) as one text,
 * "MNAME RNAME REFRESH RETRY EXPIRE MINIMUM" with "-" for each field it
 * leaves to the cluster, or "" when it sets none: this module is the only
 * one that reads or writes it. */
#ifndef YUMNA_WHM_ZONES_SOA_H
#define YUMNA_WHM_ZONES_SOA_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "dns/digest.h"
#include "whm.h"
#include "zones.h"

/* Bounds of what a zone may set, in seconds (RFC 1035 section 3.3.13,
 * RFC 1912 section 2.2, RFC 2308 section 5: a negative answer is not
 * worth caching for more than a day). Besides, retry <= refresh and
 * expire >= refresh + retry. */
#define ZONE_SOA_REFRESH_MIN 60u
#define ZONE_SOA_REFRESH_MAX 2419200u /* 4 weeks */
#define ZONE_SOA_RETRY_MIN 60u
#define ZONE_SOA_RETRY_MAX 2419200u
#define ZONE_SOA_EXPIRE_MIN 3600u
#define ZONE_SOA_EXPIRE_MAX 31536000u /* a year */
#define ZONE_SOA_MINIMUM_MAX 86400u   /* a day; 0 is allowed */

/* What a zone sets: "" and -1 leave a field to the cluster. */
struct zone_soa {
	char mname[DNAME_TEXT_MAX];
	char rname[DNAME_TEXT_MAX];
	int64_t refresh, retry, expire, minimum;
};

/* Every field left to the cluster. */
void zone_soa_init(struct zone_soa *s);

/* 'stored' (a store row's soa) into 's'; a text this module did not write
 * counts as "" (the cluster's SOA). */
void zone_soa_read(const char *stored, struct zone_soa *s);

/* The stored text of 's': "" when it sets nothing. */
void zone_soa_write(const struct zone_soa *s, char out[STORE_ZONE_SOA_MAX]);

/* Apply a body's "soa" object to 's': {"mname", "rname", "refresh",
 * "retry", "expire", "minimum"}, each optional; null gives a field back to
 * the cluster. Names are checked and normalised (an RNAME may be written
 * as a mail address, "hostmaster@example.com"), numbers checked against
 * the bounds above; then the SOA the zone would have as a whole.
 * ERR_INVALID with 'err' naming the field ("soa.retry: ..."). */
int zone_soa_apply_json(const struct whm *w, const json_t *o, struct zone_soa *s,
			struct errmsg *err);

/* The six fields of an SOA's canonical RDATA ("mname rname serial refresh
 * retry expire minimum", as rr_parse() prints it) into 's', all set and
 * checked as zone_soa_apply_json() checks them. */
int zone_soa_from_rdata(const struct whm *w, const char *rdata, struct zone_soa *s,
			struct errmsg *err);

/* The SOA RDATA text of zone 'z' at its serial: its fields over the
 * cluster's. */
void zone_soa_text(const struct whm *w, const struct store_zone *z, char *out, size_t len);

/* The TTL and the minimum (the negative-caching TTL) of zone 'z''s SOA as
 * the nodes serve it: its own minimum over the cluster's soa-minimum, and
 * soa-ttl (a zone does not set the TTL). */
void zone_soa_ttls(const struct whm *w, const struct store_zone *z, uint32_t *ttl,
		   uint32_t *minimum);

/* The zone's SOA for the API: {"mname", "rname", "serial", "refresh",
 * "retry", "expire", "minimum", "ttl", "own": [the fields it sets]}. */
json_t *zone_soa_json(const struct whm *w, const struct store_zone *z);

/* D, the zone digest (dns/digest.h), of zone 'z' from its records digest
 * and its SOA. */
int zone_soa_digest(const struct whm *w, const struct store_zone *z, char ret[ZONE_DIGEST_HEX]);

/* Set zone 'zone_id''s SOA fields from 'soa' (a body's "soa" object, as
 * zone_soa_apply_json() reads it) as one version of the zone. A request
 * that leaves the SOA as it is changes nothing: res->version is 0. With
 * 'ret_soa', *ret_soa is the zone's SOA after (zone_soa_json()). */
int zones_set_soa(struct whm *w, int64_t zone_id, const json_t *soa, const char *actor,
		  struct zone_result *res, json_t **ret_soa, struct errmsg *err);

#endif
