/* Zone snapshots and their differences: the content of one zone version as
 * the controller keeps it (the records column of dns_zone_versions), and
 * the RRsets in which two versions differ.
 *
 * Records come in as payload records (model.h): objects with "name",
 * "type", "content", "ttl", for MX and SRV "priority", and "disabled":
 * true for a record kept but not served; other keys (an "id") are
 * ignored. A snapshot is their canonical text: a compact JSON array of
 * [name, type, ttl, content] or, for MX and SRV, [name, type, ttl,
 * content, priority], and for a disabled record [name, type, ttl,
 * content, priority (0 unless MX or SRV), true], sorted by name, type,
 * content, priority, ttl and disabled, so that two contents are equal
 * exactly when their snapshots are. Records come out as objects {"name",
 * "type", "content", "ttl", "priority"} (priority 0 unless MX or SRV),
 * with "disabled": true for a disabled one, the shape the panel lists
 * records in. A disabled record differs from the same record enabled. */
#ifndef YUMNA_MODEL_ZDIFF_H
#define YUMNA_MODEL_ZDIFF_H

#include <stddef.h>

#include <jansson.h>

#include "base/err.h"

/* The snapshot text of 'records' (an array of payload records) and how
 * many records it holds. The caller frees *ret. ERR_INVALID when a record
 * lacks a field or has one of the wrong type, -ENOMEM. */
int zdiff_encode(const json_t *records, char **ret, size_t *ret_count);

/* The records of snapshot 'text' in snapshot order; the caller owns *ret.
 * ERR_INVALID for text that is not a snapshot. */
int zdiff_decode(const char *text, json_t **ret);

/* The RRsets (owner and type) that differ from 'from' to 'to' (arrays of
 * payload records, or of zdiff_decode()'s records), in name and type
 * order; the caller owns *ret:
 *   {"added":   [{"name", "type", "records": [{"content", "ttl", "priority"}]}],
 *    "removed": [the same],
 *    "changed": [{"name", "type", "before": [records], "after": [records]}]}
 * An RRset is changed when any of its records (content, priority or TTL)
 * differs. ERR_INVALID as zdiff_encode(), -ENOMEM. */
int zdiff_rrsets(const json_t *from, const json_t *to, json_t **ret);

#endif
