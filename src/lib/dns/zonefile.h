/* Zone files (RFC 1035 section 5, BIND's master file format) read with
 * libzscanner: $ORIGIN, $TTL, relative names, parentheses over several lines,
 * comments and every type rr_type_parse() accepts. $INCLUDE is refused: a
 * file sent over the API must not name files on the controller's host.
 *
 * Every record is checked on its own with rr_parse() (the same rules as
 * every other way in); whole-zone rules are zone_check()'s, applied by the
 * caller with whatever else the zone holds. All errors are collected, each
 * with its line, so a client can fix the file in one go. */
#ifndef YUMNA_DNS_ZONEFILE_H
#define YUMNA_DNS_ZONEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

/* Errors kept; past this the file is refused with a note that more exist. */
#define ZONEFILE_ERRORS_MAX 100

struct zonefile_rr {
	struct rr rr;
	unsigned long line;
};

struct zonefile_error {
	unsigned long line; /* 0: about the file as a whole */
	char text[400];
};

struct zonefile {
	struct zonefile_rr *rrs;
	size_t n, alloc;
	struct zonefile_error *errs;
	size_t n_errs;
	bool more_errs; /* errors past ZONEFILE_ERRORS_MAX were dropped */
};

/* Read 'len' bytes of 'text' as the zone file of 'origin' (normalised);
 * names without a trailing dot are relative to 'origin' until a $ORIGIN
 * changes it. Records without a TTL and before any $TTL get 'default_ttl'.
 * At most 'max_records' records (0: no cap). Returns 0 with the records in
 * ret->rrs and the errors, if any, in ret->errs (the caller must check
 * ret->n_errs), or -ENOMEM. The caller frees 'ret' with zonefile_clear(). */
int zonefile_parse(const char *text, size_t len, const char *origin, uint32_t default_ttl,
		   size_t max_records, struct zonefile *ret);

/* Flags of zonefile_parse_flags(). */
enum {
	/* The DNSSEC types a signer makes are accepted too (as
	 * rr_type_parse_presigned() does): the zone as its primary signed it. */
	ZONEFILE_PRESIGNED = 1 << 0,
};

/* zonefile_parse() with ZONEFILE_* 'flags'. */
int zonefile_parse_flags(const char *text, size_t len, const char *origin, uint32_t default_ttl,
			 size_t max_records, unsigned flags, struct zonefile *ret);

void zonefile_clear(struct zonefile *zf);

/* Add an error at 'line' to 'zf' (for callers' own checks on its records).
 * -ENOMEM on allocation failure. */
int zonefile_add_error(struct zonefile *zf, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
