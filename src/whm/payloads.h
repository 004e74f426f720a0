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

#include "dns/digest.h"
#include "whm.h"

struct payloads;

int payloads_new(struct payloads **ret);
void payloads_free(struct payloads *pc);

/* One zone version as the node workers push it. */
struct payload {
	char *text; /* JSON; NULL for a tombstone */
	size_t len;
	uint64_t version;
	bool deleted;
	char domain[DNAME_TEXT_MAX];
	char digest[ZONE_DIGEST_HEX]; /* what a node holding it must report */
};

/* The zone as stored now: its payload text in ret->text (the caller frees
 * it with payload_clear()), its version, name and digest. -ENOENT if the
 * zone does not exist. */
int payloads_get(struct payloads *pc, struct whm *w, struct store *st, int64_t zone_id,
		 struct payload *ret);
void payload_clear(struct payload *p);

#endif
