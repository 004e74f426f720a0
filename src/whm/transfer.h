/* Zone import (BIND zone files, Route 53 JSON) and export (zone files).
 *
 * Import validates the whole input first: every record on its own (with
 * its line, or its place in the JSON), then the zone as it would be; only
 * then is it committed as one version (zones_records_import). A file's SOA
 * is checked and, unless asked to keep its fields, dropped: the controller
 * owns the serial, which only moves past the file's. Importing what the
 * zone already holds commits nothing. */
#ifndef YUMNA_WHM_TRANSFER_H
#define YUMNA_WHM_TRANSFER_H

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "model/import.h"
#include "whm.h"
#include "zones.h"

struct transfer_result {
	struct zone_result change; /* the zone's version and serial, new or not */
	bool changed;		   /* false: the zone already held this; nothing committed */
	size_t imported;	   /* records in the input */
	bool soa_seen;		   /* the input had an SOA */
	bool soa_kept;		   /* and its fields became the zone's */
	uint32_t soa_serial;	   /* its serial */
};

/* Import 'text' (a zone file, or Route 53 JSON as text) into zone
 * 'zone_id'; with 'keep_soa' the zone's SOA fields (MNAME, RNAME, the
 * timers) become the file's, which must have an SOA within the bounds of
 * zones_soa.h. On failure returns a negative code with one line in 'err'
 * and, for invalid input, every problem found in *ret_errors (an array of
 * {"line": N, "message"} or {"path": "...", "message"}; caller owns it;
 * NULL when there is none). With 'if_version' (0: any) the import commits
 * only onto that version of the zone: ERR_CONFLICT when it moved on.
 * Nothing is changed on failure. */
int transfer_import(struct whm *w, int64_t zone_id, enum import_format fmt, const char *text,
		    size_t len, bool merge, bool keep_soa, uint64_t if_version, const char *actor,
		    struct transfer_result *res, json_t **ret_errors, struct errmsg *err);

/* The zone as a zone file (SOA first, $ORIGIN and $TTL set) into 'out':
 * the enabled records as stored (zones_export_payload()), the RRsets with
 * a routing policy named in comment lines, which an import ignores. */
int transfer_export(struct whm *w, int64_t zone_id, struct buf *out, struct errmsg *err);

#endif
