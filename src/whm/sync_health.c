/* The health checker: each node worker asks its agent's /health on its own
 * schedule (or at once for a sweep) and logs only changes of state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "base/log.h"
#include "events.h"
#include "sync_node.h"

void sync_check_health(struct node *n, struct store *st)
{
	struct sync *s = n->s;
	struct node_health h = { .known = true, .last_check = whm_now() };
	long status = 0;
	struct agent_health ah;
	struct errmsg err = { "" };
	struct timespec a, b;

	pthread_mutex_lock(&s->lock);
	uint64_t ask = n->health_asked;
	pthread_mutex_unlock(&s->lock);
	clock_gettime(CLOCK_MONOTONIC, &a);
	int r = agent_health(n->probe, &status, &ah, &err);
	clock_gettime(CLOCK_MONOTONIC, &b);
	h.response_ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	/* Reachable: the agent itself answered (agent_health() refuses what
	 * only looks like it); up: it says PowerDNS runs. */
	h.reachable = r == 0;
	h.pdns_running = r == 0 && ah.pdns_running;
	if (r == 0) {
		snprintf(h.pdns_version, sizeof(h.pdns_version), "%s", ah.pdns_version);
		/* Counts that rose since the last answer (an agent that restarted
		 * starts again from 0): the agent found zones changed behind its
		 * back, so compare now rather than at the next periodic pass; or
		 * it restarted PowerDNS. */
		if (n->answered && ah.drift > n->agent_drift)
			n->reconcile_now = true;
		if (n->answered && ah.pdns_restarts > atomic_load(&n->c.pdns_restarts))
			events_add(s->w->events, "node.powerdns_restarted", n->name, NULL,
				   "the agent restarted powerdns (%llu restarts since it started)",
				   (unsigned long long)ah.pdns_restarts);
		n->agent_drift = ah.drift;
		atomic_store(&n->c.pdns_restarts, ah.pdns_restarts);
		n->answered = true;
		if (!ah.pdns_running)
			snprintf(h.error, sizeof(h.error), "powerdns is not running: %.*s",
				 (int)sizeof(h.error) - 32, ah.pdns_error);
	} else {
		snprintf(h.error, sizeof(h.error), "%.*s", (int)sizeof(h.error) - 1, err.text);
	}

	atomic_fetch_add_explicit(&n->c.health_checks, 1, memory_order_relaxed);
	pthread_mutex_lock(&s->lock);
	struct node_health old = n->h;
	n->h = h;
	n->health_answered = ask;
	n->health_now = n->health_asked != ask; /* a sweep asked meanwhile */
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);

	const char *state = !h.reachable ? "down" : h.pdns_running ? "up" : "powerdns-down";
	const char *was = !old.known	     ? "unknown"
			  : !old.reachable   ? "down"
			  : old.pdns_running ? "up"
					     : "powerdns-down";
	if (strcmp(state, was) == 0)
		return;
	if (h.error[0])
		log_notice("node '%s': state %s -> %s (%s, %.0f ms)", n->name, was, state, h.error,
			   h.response_ms);
	else
		log_notice("node '%s': state %s -> %s (%.1f ms)", n->name, was, state,
			   h.response_ms);
	events_add(s->w->events,
		   !h.reachable	    ? "node.down"
		   : h.pdns_running ? "node.up"
				    : "node.degraded",
		   n->name, NULL, "state %s -> %s%s%s", was, state, h.error[0] ? ": " : "",
		   h.error);
	if (h.pdns_running)
		n->reconcile_now = true; /* it may have missed changes, or lost data */
	struct store_server srv;
	if (st != NULL && store_server_get(st, n->id, &srv) == 0) {
		free(srv.status);
		srv.status = strdup(h.pdns_running ? "online"
				    : h.reachable  ? "degraded"
						   : "offline");
		free(srv.pdns_version);
		srv.pdns_version = strdup(h.pdns_version);
		free(srv.last_error);
		srv.last_error = strdup(h.error);
		if (h.reachable)
			srv.last_seen = h.last_check;
		if (srv.status != NULL && srv.pdns_version != NULL && srv.last_error != NULL)
			store_server_update(st, &srv);
		store_server_clear(&srv);
	}
}

void sync_node_health(struct sync *s, int64_t server_id, struct node_health *ret)
{
	memset(ret, 0, sizeof(*ret));
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++) {
		if (s->nodes[i]->id != server_id)
			continue;
		*ret = s->nodes[i]->h;
		ret->drift = atomic_load(&s->nodes[i]->c.drift);
		ret->pdns_restarts = atomic_load(&s->nodes[i]->c.pdns_restarts);
	}
	pthread_mutex_unlock(&s->lock);
}

int sync_health_sweep(struct sync *s, long timeout_ms, json_t **ret)
{
	int64_t deadline = whm_mono_ms() + timeout_ms;
	pthread_mutex_lock(&s->lock);
	uint64_t *want = calloc(s->n + 1, sizeof(*want));
	if (want == NULL) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++) {
		want[i] = ++s->nodes[i]->health_asked;
		s->nodes[i]->health_now = true;
	}
	pthread_cond_broadcast(&s->wake);
	size_t n = s->n;
	for (;;) {
		bool done = true;
		for (size_t i = 0; i < n && i < s->n; i++)
			done = done && s->nodes[i]->health_answered >= want[i];
		if (done || whm_mono_ms() >= deadline)
			break;
		struct timespec ts = whm_mono_deadline(deadline);
		pthread_cond_timedwait(&s->changed, &s->lock, &ts);
	}
	json_t *out = json_array();
	for (size_t i = 0; i < s->n; i++) {
		struct node *nd = s->nodes[i];
		bool fresh = i < n && nd->health_answered >= want[i];
		json_t *o = json_pack("{s:I,s:s,s:b,s:f}", "nodeId", (json_int_t)nd->id, "hostname",
				      nd->name, "healthy", fresh && nd->h.pdns_running,
				      "responseTime", fresh ? nd->h.response_ms : -1.0);
		if (fresh && nd->h.pdns_running)
			json_object_set_new(o, "details",
					    json_pack("{s:s}", "powerdns", nd->h.pdns_version));
		else
			json_object_set_new(o, "error",
					    json_string(fresh ? nd->h.error : "no answer in time"));
		json_array_append_new(out, o);
	}
	pthread_mutex_unlock(&s->lock);
	free(want);
	*ret = out;
	return 0;
}
