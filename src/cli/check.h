/* Checking a zone file on this machine, with the controller's rules and
 * without a controller: yumnactl check, and yumnactl edit before it sends
 * anything. Both read through model/import.h, the code the controller's
 * import runs, then the whole-zone check every node applies. */
#ifndef YUMNA_CTL_CHECK_H
#define YUMNA_CTL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"
#include "model/import.h"

/* What the controller takes by default (yumna-whm.conf: default-ttl,
 * max-rrset-records, max-zone-records); a controller configured otherwise
 * may still refuse a file that passes here. */
#define CHECK_DEFAULT_TTL 3600
#define CHECK_MAX_RRSET 500
#define CHECK_MAX_RECORDS 100000

/* The origin of 'text' when none is given: the name of its first $ORIGIN
 * (a zone file) or else the owner of its SOA (or the Name of a Route 53
 * SOA RRset), normalised into 'ret'. -ENOENT when the file names none,
 * ERR_INVALID with 'err' set when the name found is not a domain name. */
int check_find_origin(enum import_format fmt, const char *text, size_t len,
		      char ret[DNAME_TEXT_MAX], struct errmsg *err);

/* Read and check 'text' for zone 'origin' (normalised): every record, then
 * the zone as a whole. 0 with the result in 'ret' (ret->errors empty when
 * the file is valid; the caller clears it with import_result_clear()), or
 * -ENOMEM. */
int check_text(enum import_format fmt, const char *text, size_t len, const char *origin,
	       struct import_result *ret);

/* The fields of canonical SOA RDATA text ("MNAME RNAME SERIAL REFRESH
 * RETRY EXPIRE MINIMUM", as model/import.h keeps it): 0, or -EINVAL when
 * 'rdata' is not that. */
struct check_soa {
	char mname[DNAME_TEXT_MAX];
	char rname[DNAME_TEXT_MAX];
	uint32_t serial, refresh, retry, expire, minimum;
};
int check_soa_parse(const char *rdata, struct check_soa *ret);

/* Print each error of 'c' on stderr as "NAME:LINE: message" (a zone
 * file) or "NAME: PATH: message" (Route 53). */
void check_print_errors(const char *name, const struct import_result *c);

#endif
