/* Reading a zone import: a BIND zone file or Route 53 JSON into the
 * panel's record objects, before anything is committed.
 *
 * Every record is validated on its own (rr_parse(), the same rules as every
 * other way in) and every problem is kept with its line in the file or its
 * place in the JSON, so a client can fix the input in one go. The
 * controller's import (src/whm/transfer.c) and yumnactl's offline check
 * (src/cli/cmd_check.c) both read through here; the commit and the zone's
 * own SOA are the controller's, and nothing here touches a store. */
#ifndef YUMNA_MODEL_IMPORT_H
#define YUMNA_MODEL_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dns/zonefile.h"
#include "model/model.h"

enum import_format {
	IMPORT_BIND,
	IMPORT_ROUTE53,
};

struct import_result {
	const char *origin; /* borrowed from the caller */
	/* The records as the panel's objects {"name", "type", "content",
	 * "ttl", "priority"}, the SOA left out (see soa_seen). */
	json_t *records;
	/* [{"line": N, "message"} or {"path": "...", "message"}]: at most
	 * ZONEFILE_ERRORS_MAX, and one more saying that more follow. */
	json_t *errors;
	bool soa_seen;	     /* the input had an SOA at the apex (left out) */
	uint32_t soa_serial; /* its serial */
	char *soa_rdata;     /* its canonical RDATA text (owned), or NULL */
	json_t *soa_where;   /* its line or its path, for errors about it */
	struct zonefile zf;  /* a zone file's records with their lines */
};

/* Read 'len' bytes of 'text' (a zone file, or Route 53 JSON as text:
 * {"ResourceRecordSets": [...]} or the bare array) for the zone 'origin'
 * (normalised). Records without a TTL get 'default_ttl'; at most
 * 'max_records' (0: no cap). Returns 0 with the result in 'ret', problems
 * in input included (ret->errors not empty), or -ENOMEM. The caller clears
 * 'ret' with import_result_clear() after success. */
int import_read(enum import_format fmt, const char *text, size_t len, const char *origin,
		uint64_t default_ttl, size_t max_records, struct import_result *ret);

/* Flags of import_read_flags(). */
enum {
	/* A zone file as a primary that signs the zone transfers it: the
	 * DNSSEC types its signer made are kept (ZONEFILE_PRESIGNED). Only
	 * for a secondary zone's transfers, never for a user's import. */
	IMPORT_PRESIGNED = 1 << 0,
};

/* import_read() with IMPORT_* 'flags'. */
int import_read_flags(enum import_format fmt, const char *text, size_t len, const char *origin,
		      uint64_t default_ttl, size_t max_records, unsigned flags,
		      struct import_result *ret);

/* Frees what 'c' holds; accepts a cleared result. */
void import_result_clear(struct import_result *c);

/* A whole-zone error message names an owner in quotes: the line of that
 * owner's first record in the zone file read into 'c', as a JSON integer,
 * or JSON null. */
json_t *import_error_line(const struct import_result *c, const char *msg);

/* Add 'msg', a refusal of the zone as a whole, to c->errors: at the line
 * import_error_line() finds for a zone file, without a place otherwise.
 * 0 or -ENOMEM. */
int import_add_zone_error(struct import_result *c, enum import_format fmt, const char *msg);

/* The whole-zone rules every node applies to a push (model_push_parse(),
 * zone_check(): a CNAME beside other data, NS at the apex, the RRset and
 * zone limits in 'lim'), for the records of 'c' and an SOA made from 'soa'
 * (the zone's own, or the file's). This is the check the controller makes
 * before it commits an import, for a caller without the zone at hand: a
 * refusal goes into c->errors (import_add_zone_error()). 0 (c->errors
 * says whether the zone passed), or -ENOMEM. */
int import_check_zone(struct import_result *c, enum import_format fmt,
		      const struct zone_limits *lim, const struct soa_defaults *soa);

#endif
