/* The controller's client of a node's agent: the one place that knows the
 * agent's URLs (agent_endpoints in agent.c) and reads its answers. */
#ifndef YUMNA_WHM_AGENT_H
#define YUMNA_WHM_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "http/client.h"
#include "whm.h"

/* What the controller asks of an agent. A call names one and adds a tail
 * to its path: a zone name, a query string. */
enum agent_endpoint {
	AGENT_HEALTH,	    /* GET /health */
	AGENT_SYNC_ZONE,    /* POST /api/dns/sync-zone: one zone's payload */
	AGENT_SYNC_BATCH,   /* POST /api/dns/sync-batch: {"zones": [payload, ...]} */
	AGENT_ZONE_DELETE,  /* DELETE /api/dns/zones/NAME[?version=N] */
	AGENT_DELETE_BATCH, /* POST /api/dns/delete-batch: {"zones": [{zone, version}]} */
	AGENT_ZONES,	    /* GET /api/dns/zones?buckets=... or ?limit=N&after=NAME */
	AGENT_TREE,	    /* GET /api/dns/tree?prefix=P: one node of the hash tree */
	AGENT_STATISTICS,   /* GET /api/dns/statistics: PowerDNS's counters ("pdns") */
	AGENT_STATUS,	    /* GET /api/dns/status: is PowerDNS running, its version */
	AGENT_ZONE_NOTIFY,  /* POST /api/dns/zones/NAME/notify: send NOTIFY for a zone */
	AGENT_CACHE_FLUSH,  /* POST /api/dns/cache/flush/NAME: purge PowerDNS's caches */
	AGENT_STEER_HEALTH, /* GET /api/dns/zones/NAME/steer-health: targets PowerDNS sees up */
};

/* A client for server 'srv''s agent: https verified against
 * agent-tls-ca-file when that is set, else http; the agent's base URL is
 * written to 'url' (for logs). The caller frees *ret with
 * http_client_free(). */
int agent_client_new(const struct whm_conf *c, const struct store_server *srv, long timeout_ms,
		     char *url, size_t urllen, struct http_client **ret);

/* One request to endpoint 'ep' with 'tail' (may be NULL) after its path;
 * 'body' is JSON text ('len' bytes) or NULL. On a 2xx answer *ret (if
 * not NULL) is the parsed JSON, which the caller frees. Otherwise a
 * negative code with 'err' set: ERR_UNAVAILABLE for a 503 (the agent is
 * up, PowerDNS is not), ERR_UPSTREAM for other answers, or the client's
 * error; *status is the HTTP status (0 without an answer). */
int agent_call(struct http_client *c, enum agent_endpoint ep, const char *tail, const char *body,
	       size_t len, long *status, json_t **ret, struct errmsg *err);

/* POST /api/dns/delete-batch of 'zones' (n of them), each at versions[i],
 * or, with 'versions' NULL, without a version; as agent_call(), but 1 (the
 * node changed nothing) when the agent does not take them as a batch: 404
 * from a release before the route, 413 from a lower max-zones-per-batch,
 * 422 for a zone it refuses. The caller then deletes them one by one. */
int agent_delete_batch(struct http_client *c, const char *const *zones, const uint64_t *versions,
		       size_t n, long *status, json_t **ret, struct errmsg *err);

/* One page of the node's zone list (GET /api/dns/zones?limit=&after=):
 * up to 'limit' zones after zone 'after' ("" for the first page; encoded
 * here), in name order, as agent_call() answers it: "zones" ([{"zone": NAME,
 * ...}]) and "next" (null on the last page). A zone deleted meanwhile
 * leaves the list without moving the rest, so a walk that deletes goes on
 * after the last name it saw. */
int agent_zone_page(struct http_client *c, const char *after, unsigned limit, json_t **ret,
		    struct errmsg *err);

/* What an agent's GET /health said (docs/agent-api.md). */
struct agent_health {
	bool pdns_running;	/* 200, "healthy" and "powerdns": {"running": true} */
	char pdns_version[32];	/* "" unless running */
	char pdns_error[160];	/* the agent's reason when PowerDNS is not running */
	uint64_t drift;		/* zones found changed behind the agent */
	uint64_t pdns_restarts; /* pdns_server restarts by the agent */
};

/* GET /health. 0 with *ret filled when a yumna-agent answered, 200 or
 * 503: its "status" is "healthy" or "unhealthy" and "powerdns.running" a
 * boolean. PowerDNS counts as running only for 200 "healthy" with
 * "running": true; otherwise (the agent's 503 when PowerDNS is down) the
 * agent is up and PowerDNS is not. Anything else is a negative code with
 * 'err' set: no answer (the client's error, *status 0), another status
 * (401: the secret refused), or an answer that is not a yumna-agent's
 * (ERR_UPSTREAM), so that no server that merely answers JSON passes for a
 * node. */
int agent_health(struct http_client *c, long *status, struct agent_health *ret, struct errmsg *err);

#endif
