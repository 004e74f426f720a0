/* Inside the sync engine (sync.h): a node worker's state and what the
 * engine's files share.
 *
 *   sync.c            the engine: the set of workers, waits, fan-out requests
 *   sync_node.c       the node worker: its loop, pushes, batches, full sync
 *   sync_reconcile.c  comparing a node's hash tree and zones with the store
 *   sync_health.c     the health checker
 *   agent.c           the client of an agent's API (its URLs)
 *
 * Not for other modules; the decision functions are here to be tested. */
#ifndef YUMNA_WHM_SYNC_NODE_H
#define YUMNA_WHM_SYNC_NODE_H

#include <pthread.h>

#include "dns/dns.h"
#include "http/client.h"
#include "model/ztree.h"
#include "sync.h"

#define HEALTH_TIMEOUT_MS 1000
#define BATCH_THRESHOLD 1 /* pending zones above which one sync-batch is sent */
#define BATCH_MAX 2000	  /* zones per sync-batch request */
/* Zones per delete-batch request: a zone with DNSSEC keys goes through
 * PowerDNS's API on the node (some 7 ms each), and the request must be
 * answered well within agent-timeout-ms (2 s by default). */
#define DELETE_BATCH_MAX 100

struct node {
	struct sync *s;
	int64_t id;
	char name[64];
	char url[128];
	/* Where and how the clients below reach the agent, as the store said
	 * when the worker started: a change makes a new worker. Owned. */
	char *ip;
	char *secret;
	uint32_t agent_port;
	struct http_client *http;  /* pushes */
	struct http_client *probe; /* health, with a short timeout */
	pthread_t thread;
	bool stop;	 /* under s->lock */
	bool health_now; /* under s->lock */
	uint64_t seen_gen;
	/* Sweeps that asked for a check, and the count a completed check
	 * started under: a check already running when a sweep asks does not
	 * answer it. Both under s->lock. */
	uint64_t health_asked, health_answered;
	struct node_health h;	/* under s->lock */
	int64_t next_health_ms; /* whm_mono_ms(), as every time here */
	int64_t next_reconcile_ms;
	int64_t last_push_ms; /* when the last push round that sent something ended */
	size_t last_round;    /* zones that round found waiting */
	bool reconcile_now;
	/* What the agent's /health last said of drift it found (its own
	 * verifier) and of PowerDNS restarts; the worker's own state. */
	uint64_t agent_drift;
	bool answered; /* the agent answered a health check at least once */
	struct node_counters c;
	/* Sync failures as events: one when pushes start failing, one when
	 * they succeed again; the worker's own state. */
	bool failing;
	int64_t failing_event_ms;
	char failing_error[160];
	/* The last reconciliation that found the node too far apart to walk
	 * its tree: the roots of the controller's tree and the node's when its
	 * walk of the node's zone list ended ("" when not known), and whether
	 * that walk deleted every zone of the node the store does not have.
	 * A walk goes on over several passes of the worker (far_walking),
	 * from the zone after far_after. Cleared by a
	 * reconciliation that walks the tree. The worker's own state. */
	char far_ours[ZTREE_LEAF_HEX];
	char far_theirs[ZTREE_LEAF_HEX];
	bool far_clean;
	bool far_walking;
	int64_t far_next_ms; /* after a failure, the walk goes on then */
	unsigned far_kept;   /* zones the node would not delete */
	char far_after[DNAME_TEXT_MAX];
};

struct sync {
	struct whm *w;
	pthread_mutex_t change_lock; /* one sync_nodes_changed() at a time */
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* workers wait here */
	pthread_cond_t changed; /* acknowledgements and health results */
	uint64_t gen;
	struct node **nodes;
	size_t n;
	struct payloads *payloads; /* built once, pushed to every node */
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t sync_mono_ns(void);

/* The worker thread of node 'arg' (sync_node.c). */
void *sync_worker(void *arg);
/* Check the node's health and record it (and its state change) (sync_health.c). */
void sync_check_health(struct node *n, struct store *st);
/* Compare the node with the store and mark what it must be sent again
 * (sync_reconcile.c). */
void sync_reconcile(struct node *n, struct store *st);
/* The next step of a walk of the node's zone list that a reconciliation
 * began (n->far_walking): the zones the store does not have deleted. */
void sync_reconcile_walk(struct node *n, struct store *st);

/* How a round sends 'pending' zones: one request each, one sync-batch, or
 * batches built on a second thread while the node applies the last one. */
enum sync_push_mode {
	SYNC_PUSH_EACH,
	SYNC_PUSH_BATCH,
	SYNC_PUSH_PIPELINE,
};
enum sync_push_mode sync_push_mode(size_t pending);

/* The node answered a sync-zone of 'version' with digest 'digest' by not
 * applying it because it holds a delete, a higher version, or this
 * version with other content: true with the node's version in *ret_held
 * (the zone must then get a version above it). */
bool sync_push_blocked(uint64_t version, const char *digest, const json_t *answer,
		       uint64_t *ret_held);

/* Whether the node holds a zone as the store has it: a tombstone when the
 * node does not list it ('listed' false), a live zone at 'version' with
 * the committed content ('same_digest'). */
bool sync_node_holds(bool deleted, uint64_t version, bool listed, uint64_t on_node,
		     bool same_digest);

/* What reconciliation does with a zone the node does not hold as
 * committed although it acknowledged that version. */
enum sync_repair {
	SYNC_REPAIR_AHEAD,     /* the node serves a version above the store's: raise it */
	SYNC_REPAIR_SAME,      /* same version, other content: push it again */
	SYNC_REPAIR_FROM_NODE, /* push again, from the version the node holds */
};
enum sync_repair sync_reconcile_action(bool deleted, uint64_t version, uint64_t on_node);

#endif
