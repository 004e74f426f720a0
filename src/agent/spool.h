/* The body of POST /api/dns/sync-batch, read as it arrives.
 *
 * {"zones": [<push>, <push>, ...]} is split into its elements byte by
 * byte (never decoded whole); each element is validated on its own with
 * model_push_parse() and its canonical records are written to an unlinked
 * file, so memory stays small however large the batch. The zones are then
 * read back one by one for apply_batch(). No HTTP and no PowerDNS here:
 * the agent's route (batch.c) feeds the body and applies the result. */
#ifndef YUMNA_AGENT_SPOOL_H
#define YUMNA_AGENT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backend.h"
#include "dns/dns.h"
#include "model/model.h"

struct spool_config {
	const char *dir;	   /* where the unlinked spool file lives */
	struct zone_limits limits; /* per zone */
	struct soa_defaults soa;   /* for zones pushed without one; borrowed */
	uint64_t max_zones;	   /* elements in one batch */
	size_t max_element;	   /* bytes of one element */
};

struct spool;

/* Start reading a batch: creates the unlinked file in cfg->dir (-EIO if it
 * cannot) and copies 'cfg' (its strings stay borrowed). The caller frees
 * *ret with spool_free(). */
int spool_new(const struct spool_config *cfg, struct spool **ret);

/* Free everything; accepts NULL. */
void spool_free(struct spool *s);

/* The next 'len' bytes of the body. Returns 0 to go on, or the first error
 * when reading can stop (broken framing, a batch or element too large, an
 * I/O error); an invalid element does not stop it, so that every invalid
 * element is reported. */
int spool_feed(struct spool *s, const char *data, size_t len);

/* The body has ended: check that it was complete and that no zone appears
 * twice. Returns 0 when every element was valid, else the first error
 * (ERR_MALFORMED, ERR_INVALID, ERR_TOO_LARGE or a negative errno), with
 * the messages in spool_errors(). */
int spool_finish(struct spool *s);

/* Up to 20 messages ("zones[3]: ..."), borrowed; empty after success. */
json_t *spool_errors(const struct spool *s);

/* Elements seen, valid or not. */
size_t spool_zones(const struct spool *s);

/* After a successful spool_finish(): back to the first zone. -EIO. */
int spool_rewind(struct spool *s);

/* apply_next_fn and apply_ahead_fn over the spool (ctx: the spool): the
 * zones in body order, strings valid until the next call. */
int spool_next(void *ctx, struct backend_zone *z);
size_t spool_ahead(void *ctx, const char **names, size_t max);

#endif
