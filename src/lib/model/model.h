/* The JSON of zones and records, shared by every program.
 *
 * A zone push is the original Yumna panel's payload
 *   {"zone": {"domain": ..., "version": N, "serial": S, ...}, "records": [...]}
 * with records {"name", "type", "content", "ttl", "priority"}. This module
 * turns it into validated, canonical DNS data (dns.h) or refuses it with one
 * line saying what is wrong and where. */
#ifndef YUMNA_MODEL_H
#define YUMNA_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "dns/dns.h"

#define MODEL_ERR_MAX 512
#define MODEL_VERSION_MAX 9223372036854775807ull
#define MODEL_DEFAULT_TTL 3600

/* The SOA added to a zone whose records hold none. */
struct soa_defaults {
	const char *mname; /* normalised absolute names */
	const char *rname;
	uint32_t refresh, retry, expire, minimum, ttl;
};

struct zone_push {
	struct zone_data data; /* checked by zone_check, SOA included */
	uint64_t version;
	uint32_t serial;
};

/* Parse and validate one push payload. On success the caller owns 'ret'
 * (zone_push_clear). On failure returns ERR_INVALID (422), ERR_TOO_LARGE
 * (413) or -ENOMEM, with the message in 'err' (MODEL_ERR_MAX bytes), and
 * 'ret' holds nothing. */
int model_push_parse(const json_t *payload, const struct zone_limits *lim,
		     const struct soa_defaults *soa, struct zone_push *ret, char *err);

void zone_push_clear(struct zone_push *p);

#endif
