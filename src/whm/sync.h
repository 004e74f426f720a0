/* The sync engine: brings every node to the committed state.
 *
 * One worker thread per node owns every request to that node. It wakes on
 * each commit (sync_wake), pushes the zones whose desired version is above
 * what the node acknowledged — the zone as stored at that moment, so a burst
 * of changes to one zone goes out as one push of the newest state — and
 * records each acknowledgement. Many pending zones go in one sync-batch. A
 * failed push is retried with capped exponential backoff and jitter without
 * slowing the other nodes. The same worker checks the node's health on its
 * own schedule (logging only state changes) and, when the node comes back
 * and periodically, reconciles: it compares the node's zone list with the
 * store, pushes what the node misses and deletes what it should not serve.
 *
 * The engine is sync.c; the worker, reconciliation, the health checker
 * and the agent client are in the files sync_node.h lists. */
#ifndef YUMNA_WHM_SYNC_H
#define YUMNA_WHM_SYNC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "base/err.h"
#include "metrics.h"
#include "whm.h"

struct sync;

int sync_start(struct whm *w, struct sync **ret);
/* Stop every worker and free; accepts NULL. */
void sync_stop(struct sync *s);

/* A commit happened: wake every worker. Cheap; callable from any thread. */
void sync_wake(struct sync *s);

/* The set of servers changed (added, removed, joined, left): start and stop
 * workers to match the store. */
void sync_nodes_changed(struct sync *s);

/* Wait until every cluster node acknowledged 'version' of 'zone_id' or
 * 'timeout_ms' passed; *ret is an array of per-node results
 * ({nodeId, hostname, success, applied, error}). Returns 0 when all
 * acknowledged, ERR_TIMEOUT otherwise (*ret is set either way). */
int sync_wait(struct sync *s, int64_t zone_id, uint64_t version, long timeout_ms, json_t **ret);

/* What the worker last saw of a node. */
struct node_health {
	bool known; /* a worker exists and has checked at least once */
	bool reachable;
	bool pdns_running;
	char pdns_version[32];
	double response_ms;
	int64_t last_check; /* Unix seconds */
	char error[200];
	/* Filled by sync_node_health() from the node's counters. */
	uint64_t drift;		/* zone versions found holding other content */
	uint64_t pdns_restarts; /* PowerDNS restarts its agent reports */
};
void sync_node_health(struct sync *s, int64_t server_id, struct node_health *ret);

/* A node worker's counters (for /metrics); written by the worker only. */
struct node_counters {
	atomic_ullong pushes_zone;	   /* sync-zone requests */
	atomic_ullong pushes_delete;	   /* zone deletes */
	atomic_ullong pushes_batch;	   /* sync-batch requests */
	atomic_ullong pushes_delete_batch; /* delete-batch requests */
	atomic_ullong push_failures;	   /* of the above, not acknowledged */
	atomic_ullong zones_acked;	   /* zone versions the node acknowledged */
	atomic_ullong queue_depth;	   /* zones due at the worker's last pass */
	atomic_ullong health_checks;
	atomic_ullong drift;	       /* zone versions found holding other content */
	atomic_ullong pdns_restarts;   /* the agent's restarts of PowerDNS, as it reports */
	atomic_ullong reconciles;      /* reconciliation passes */
	atomic_ullong reconcile_ns;    /* how long the last one took */
	struct histogram push_latency; /* one observation per request above */
};

/* Call 'fn' for each node worker, under the engine's lock: 'fn' must be
 * quick and must not call back into the engine. Stops at a negative return. */
typedef int (*sync_node_fn)(int64_t id, const char *name, const struct node_health *h,
			    const struct node_counters *c, void *ctx);
int sync_foreach_node(struct sync *s, sync_node_fn fn, void *ctx);

/* Check every cluster node now, in parallel, and wait for the answers;
 * *ret is the array for GET /api/dns/cluster/health. */
int sync_health_sweep(struct sync *s, long timeout_ms, json_t **ret);

/* Ask endpoint 'ep' (a GET, agent.h) of every cluster node at once (one
 * thread each, bounded by 'timeout_ms'); *ret maps each node's id (as a
 * string) to its answer, or to {"error": "...", "status": the agent's HTTP
 * status, 0 without an answer}. */
int sync_agents_get(struct sync *s, enum agent_endpoint ep, long timeout_ms, json_t **ret);
/* The same for any endpoint without a body, with 'tail' (may be NULL)
 * after its path. */
int sync_agents_call(struct sync *s, enum agent_endpoint ep, const char *tail, long timeout_ms,
		     json_t **ret);

/* Send DELETE for every zone the node serves (a node leaving with
 * purge); counts what was deleted. 0 only when every zone it listed was
 * deleted; otherwise the first failure is in 'err'. */
int sync_purge_node(struct sync *s, int64_t server_id, unsigned *ret_deleted, struct errmsg *err);

#endif
