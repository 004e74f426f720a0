/* The push payloads of recent zone versions, as JSON text, shared by the
 * node workers. Every change goes to every node; without this each node's
 * worker would read the zone's records and serialise them again (at three
 * nodes, two thirds of that work for nothing). A payload is fixed by the
 * zone's row (id, version, serial, name), so an entry is never stale; the
 * table is small and bounded, and a miss only costs the build. */
#ifndef YUMNA_WHM_PAYLOADS_H
#define YUMNA_WHM_PAYLOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whm.h"

struct payloads;

int payloads_new(struct payloads **ret);
void payloads_free(struct payloads *pc);

/* The zone as stored now: its payload text in *ret_text (the caller frees
 * it; NULL for a tombstone, reported with *ret_deleted), its version and
 * name. -ENOENT if the zone does not exist. */
int payloads_get(struct payloads *pc, struct whm *w, struct store *st, int64_t zone_id,
		 char **ret_text, size_t *ret_len, uint64_t *ret_version, bool *ret_deleted,
		 char *ret_domain, size_t domain_len);

#endif
