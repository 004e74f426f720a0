/* Nodes (the store's servers): adding, changing and removing them, joining
 * and leaving the cluster, and full pushes. Each change is one store
 * transaction, after which the sync engine is told.
 *
 * 'st' is this thread's store (whm_store()). Each function returns 0 or a
 * negative code with a message in 'err', which is ""
 * when the code says it all; nothing is changed on failure. 'actor' names
 * who asked (for the audit log). */
#ifndef YUMNA_WHM_NODES_H
#define YUMNA_WHM_NODES_H

#include <jansson.h>

#include "base/err.h"
#include "whm.h"

/* A server as the API shows it: never its secret. NULL without memory. */
json_t *nodes_server_json(const struct store_server *s);

/* Every server as nodes_server_json() shows it, in id order; the caller
 * owns *ret. */
int nodes_list(struct store *st, json_t **ret);

/* How far the node is behind, as "lag_seconds" in GET
 * /api/dns/cluster/status and yumna_whm_node_lag_seconds on /metrics: the
 * age at 'now' (whm_now()) of the oldest change still waiting for it in
 * 'sum', 0 when none waits. */
int64_t nodes_lag_seconds(const struct store_sync_summary *sum, int64_t now);

/* Each node as GET /api/dns/cluster/status shows it (health from the sync
 * engine, zones from the store), with the count of nodes that serve and of
 * those that do not. The caller owns *ret. */
int nodes_status(struct whm *w, struct store *st, json_t **ret, unsigned *ret_online,
		 unsigned *ret_offline);

/* Ask the agent of 's' (its address, port and secret as given) for its
 * status: 0 when it answers, accepts the secret and its PowerDNS runs;
 * else ERR_INVALID when it refuses the secret, ERR_UPSTREAM when it does
 * not answer, answers an error, or its PowerDNS is down, with the agent's
 * answer (never the secret) in 'err'. */
int nodes_check_agent(struct whm *w, const struct store_server *s, struct errmsg *err);

/* Add the server 's' (checked by the caller): sets s->created_at and s->id.
 * ERR_CONFLICT if a server has its name; with 'check', the agent must pass
 * nodes_check_agent() first. */
int nodes_create(struct whm *w, struct store *st, struct store_server *s, bool check,
		 const char *actor, struct errmsg *err);

/* Changes a stored server inside nodes_update()'s transaction: strings it
 * sets must outlive the call of nodes_update(). */
typedef int (*nodes_edit_fn)(struct store_server *s, void *ctx, struct errmsg *err);

/* Change server 'id' with 'fn'; *ret is the server as stored now
 * (nodes_server_json(), the caller owns it). With 'check', a change of
 * the address, port or secret must pass nodes_check_agent() first ('fn'
 * then runs twice: once to see the change, once inside the transaction). */
int nodes_update(struct whm *w, struct store *st, int64_t id, nodes_edit_fn fn, void *ctx,
		 bool check, const char *actor, json_t **ret, struct errmsg *err);

/* Put server 'id' in the cluster and mark every zone for it (its worker
 * pushes them all). *ret is the server as stored now (store_server_clear). */
int nodes_join(struct whm *w, struct store *st, int64_t id, const char *actor,
	       struct store_server *ret, struct errmsg *err);

/* How a server leaves: out of the cluster, and with 'unregister' out of the
 * registry too. A node that may serve our zones (in the cluster, or it
 * acknowledged zones it was never told to delete) then either has them
 * deleted ('purge': the controller asks its agent to delete every zone it
 * serves) or keeps them, frozen, with a warning. */
struct nodes_removal {
	bool purge;
	bool force; /* go on when the zones cannot be deleted (with a warning) */
	bool unregister;
};

struct nodes_removed {
	bool purged;		  /* its zones were deleted from it */
	unsigned zones_deleted;	  /* how many */
	uint64_t zones_kept;	  /* zones it may still serve, no longer updated */
	char warning[ERRMSG_MAX]; /* "" or what the operator must know */
};

/* Remove server 'id' as 'how' says. With 'purge', an agent that cannot be
 * asked (down, or its PowerDNS down) makes it ERR_CONFLICT, nothing
 * changed, unless 'force'; a purge that fails half-way leaves the node out
 * of the cluster (and registered) with ERR_UPSTREAM, so that the removal can
 * run again. *ret is the server as it was (with 'unregister') or as stored
 * now (store_server_clear). */
int nodes_remove(struct whm *w, struct store *st, int64_t id, const struct nodes_removal *how,
		 const char *actor, struct store_server *ret, struct nodes_removed *out,
		 struct errmsg *err);

/* Push every zone to server 'id' again (its worker does); *ret is the
 * server (store_server_clear) and *ret_zones the number of live zones.
 * -ENOENT for no such server; ERR_CONFLICT, with 'err' saying why, for a
 * server that is not a cluster node (no worker would push to it). */
int nodes_sync_all(struct whm *w, struct store *st, int64_t id, const char *actor,
		   struct store_server *ret, uint64_t *ret_zones, struct errmsg *err);

/* How far cluster node 'id' is from every committed zone (a full sync's
 * progress) into *ret (its last_error: the caller frees). The same
 * refusals as nodes_sync_all(): a server outside the cluster has no
 * progress to report, its rows would count it in sync. */
int nodes_sync_progress(struct whm *w, struct store *st, int64_t id, struct store_sync_summary *ret,
			struct errmsg *err);

/* Push zone 'zone_id' to every node now, acknowledged or not, and wait (up
 * to wait-timeout) for their answers: *ret is the zone (store_zone_clear),
 * *ret_nodes each node's answer (sync_wait(), the caller owns it). */
int nodes_push_zone(struct whm *w, struct store *st, int64_t zone_id, const char *actor,
		    struct store_zone *ret, json_t **ret_nodes, struct errmsg *err);

/* Ask every cluster node's agent, all at once, to send a DNS NOTIFY for
 * zone 'zone_id' to its secondaries (its also-notify): *ret_nodes lists
 * each node as {"nodeId", "name", "hostname", "success", "message" or
 * "error" and "status" (the agent's, its HTTP status: 409 when the node
 * has no secondaries, 0 when it did not answer)} and *ret_ok counts those
 * that did. The request goes into the audit log. *ret is the zone
 * (store_zone_clear). */
int nodes_notify_zone(struct whm *w, struct store *st, int64_t zone_id, const char *actor,
		      struct store_zone *ret, json_t **ret_nodes, size_t *ret_ok,
		      struct errmsg *err);

#endif
