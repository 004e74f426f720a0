/* POST /api/dns/sync-batch: many zones in one streamed request.
 *
 * The body {"zones": [<push>, <push>, ...]} is read as it arrives by a
 * spool (spool.h): split into its elements, each validated on its own, the
 * canonical records written to an unlinked file, so memory stays small
 * however large the batch. Only when every element is valid (and no zone
 * appears twice) is the spool applied, in transactions of a few hundred
 * zones. */
#ifndef YUMNA_AGENT_BATCH_H
#define YUMNA_AGENT_BATCH_H

#include <stddef.h>

#include "agent.h"
#include "http/server.h"

int batch_stream(struct http_request *req, const char *data, size_t len, void *ctx);
void batch_handle(struct http_request *req, struct http_reply *rep, void *ctx);
void batch_cleanup(void *state);

#endif
