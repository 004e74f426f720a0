#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "events.h"
#include "http/client.h"
#include "payloads.h"
#include "sync.h"
#include "verify.h"
#include "zones.h"

#define BATCH_THRESHOLD 1 /* pending zones above which one sync-batch is sent */
#define BATCH_MAX 2000	  /* zones per sync-batch request */
#define PENDING_LIMIT 20000
/* A node worker whose last round found more than one zone waiting, and
 * that comes back for more within LINGER_WINDOW_MS of it, is under a
 * stream of changes: it waits LINGER_MS first, so the changes of that time
 * go as one batch (one request, one transaction and one cache purge on the
 * node) instead of a few each. A change after a quiet moment, or one
 * change after another, goes out at once. */
#define LINGER_WINDOW_MS 2
#define LINGER_MS 10
#define RESP_MAX (8u << 20)
#define HEALTH_TIMEOUT_MS 1000

struct node {
	struct sync *s;
	int64_t id;
	char name[64];
	char url[128];
	struct http_client *http;  /* pushes */
	struct http_client *probe; /* health, with a short timeout */
	pthread_t thread;
	bool stop;	 /* under s->lock */
	bool health_now; /* under s->lock */
	uint64_t seen_gen;
	uint64_t checks;      /* completed health checks, under s->lock */
	struct node_health h; /* under s->lock */
	int64_t next_health_ms;
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

static void sleep_until(struct sync *s, struct node *n, int64_t due_ms)
{
	struct timespec ts = { due_ms / 1000, (due_ms % 1000) * 1000000L };
	pthread_mutex_lock(&s->lock);
	while (!n->stop && !n->health_now && n->seen_gen == s->gen && whm_now_ms() < due_ms) {
		if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) == ETIMEDOUT)
			break;
	}
	n->seen_gen = s->gen;
	pthread_mutex_unlock(&s->lock);
}

static int64_t backoff_ms(const struct whm_conf *c, uint32_t attempts)
{
	uint64_t d = c->retry_min_ms;
	for (uint32_t i = 1; i < attempts && d < c->retry_max_ms; i++)
		d *= 2;
	if (d > c->retry_max_ms)
		d = c->retry_max_ms;
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) < 0)
		rnd = (uint32_t)whm_now_ms();
	/* Jitter: between half and all of the delay, so nodes do not retry in step. */
	return (int64_t)(d / 2 + (rnd % (d / 2 + 1)));
}

static void notify_changed(struct sync *s)
{
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

/* --- one request to the agent ------------------------------------------- */

/* 'body' is JSON text ('len' bytes) or NULL. */
static int agent_call(struct node *n, struct http_client *c, const char *method, const char *path,
		      const char *body, size_t len, long *status, json_t **ret, char *err,
		      size_t errlen)
{
	struct buf resp;

	buf_init(&resp, RESP_MAX);
	int r = http_client_request(c, method, path, body, len, status, &resp);
	if (r < 0) {
		snprintf(err, errlen, "%s", err_str(r));
		buf_free(&resp);
		return r;
	}
	json_t *j = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
	if (*status < 200 || *status > 299) {
		const char *msg = json_string_value(json_object_get(j, "error"));
		snprintf(err, errlen, "agent answered %ld: %.150s", *status, msg ? msg : "");
		json_decref(j);
		buf_free(&resp);
		return *status == 503 ? ERR_UNAVAILABLE : ERR_UPSTREAM;
	}
	buf_free(&resp);
	if (ret != NULL)
		*ret = j;
	else
		json_decref(j);
	if (ret != NULL && j == NULL) {
		snprintf(err, errlen, "agent answered with invalid JSON");
		return ERR_UPSTREAM;
	}
	return 0;
}

/* --- health ---------------------------------------------------------------- */

static void check_health(struct node *n, struct store *st)
{
	struct sync *s = n->s;
	struct node_health h = { .known = true, .last_check = whm_now() };
	long status = 0;
	json_t *j = NULL;
	char err[200] = "";
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	int r = agent_call(n, n->probe, "GET", "/health", NULL, 0, &status, &j, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &b);
	h.response_ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	h.reachable = r == 0 || status == 503;
	h.pdns_running = r == 0;
	if (j != NULL) {
		json_t *pdns = json_object_get(j, "powerdns");
		const char *v = json_string_value(json_object_get(pdns, "version"));
		snprintf(h.pdns_version, sizeof(h.pdns_version), "%s", v ? v : "");
		uint64_t drift = (uint64_t)json_integer_value(json_object_get(j, "drift"));
		uint64_t restarts = (uint64_t)json_integer_value(json_object_get(pdns, "restarts"));
		/* Counts that rose since the last answer (an agent that restarted
		 * starts again from 0): the agent found zones changed behind its
		 * back, so compare now rather than at the next periodic pass; or
		 * it restarted PowerDNS. */
		if (n->answered && drift > n->agent_drift)
			n->reconcile_now = true;
		if (n->answered && restarts > atomic_load(&n->c.pdns_restarts))
			events_add(s->w->events, "node.powerdns_restarted", n->name, NULL,
				   "the agent restarted powerdns (%llu restarts since it started)",
				   (unsigned long long)restarts);
		n->agent_drift = drift;
		atomic_store(&n->c.pdns_restarts, restarts);
		n->answered = true;
		json_decref(j);
	}
	if (r < 0)
		snprintf(h.error, sizeof(h.error), "%s", err);

	atomic_fetch_add_explicit(&n->c.health_checks, 1, memory_order_relaxed);
	pthread_mutex_lock(&s->lock);
	struct node_health old = n->h;
	n->h = h;
	n->checks++;
	n->health_now = false;
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

/* --- pushing ----------------------------------------------------------------- */

struct pending {
	int64_t *zone;
	uint32_t *attempts;
	size_t n, alloc;
};

static int collect_pending(const struct store_sync *row, void *ctx)
{
	struct pending *p = ctx;
	if (p->n == p->alloc) {
		size_t a = p->alloc ? 2 * p->alloc : 64;
		int64_t *z = realloc(p->zone, a * sizeof(*z));
		if (z == NULL)
			return -ENOMEM;
		p->zone = z;
		uint32_t *t = realloc(p->attempts, a * sizeof(*t));
		if (t == NULL)
			return -ENOMEM;
		p->attempts = t;
		p->alloc = a;
	}
	p->zone[p->n] = row->zone_id;
	p->attempts[p->n++] = row->attempts;
	return 0;
}

static void record_failure(struct node *n, struct store *st, int64_t zone_id, uint32_t attempts,
			   const char *why)
{
	const struct whm_conf *c = &n->s->w->conf;
	store_sync_fail(st, n->id, zone_id, why, attempts + 1,
			whm_now_ms() + backoff_ms(c, attempts + 1));
}

/* A node acknowledged a version. */
static void record_ack(struct node *n, struct store *st, int64_t zone_id, uint64_t version)
{
	/* Tombstones are kept after every node confirmed the delete: a zone
	 * created again under the same name continues the version, so no node
	 * can take it for the one it deleted. */
	store_sync_ack(st, n->id, zone_id, version);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Count one request to the node and how long it took. */
static void count_push(struct node *n, atomic_ullong *kind, uint64_t started_ns, int r)
{
	atomic_fetch_add_explicit(kind, 1, memory_order_relaxed);
	if (r < 0)
		atomic_fetch_add_explicit(&n->c.push_failures, 1, memory_order_relaxed);
	histogram_observe(&n->c.push_latency, mono_ns() - started_ns);
}

/* Pushes to the node failed: an event when they start failing, and again
 * for a different error at most once a minute. */
static void sync_failed(struct node *n, const char *domain, const char *why)
{
	int64_t now = whm_now_ms();
	if (n->failing && (strncmp(why, n->failing_error, sizeof(n->failing_error) - 1) == 0 ||
			   now - n->failing_event_ms < 60000))
		return;
	n->failing = true;
	n->failing_event_ms = now;
	snprintf(n->failing_error, sizeof(n->failing_error), "%s", why);
	events_add(n->s->w->events, "sync.failed", n->name, domain, "%s", why);
}

static void sync_succeeded(struct node *n)
{
	if (!n->failing)
		return;
	n->failing = false;
	events_add(n->s->w->events, "sync.recovered", n->name, NULL, "pushes succeed again");
}

/* The node wrote a push of the version it had acknowledged because its
 * backend no longer held it (changed behind its agent): drift, repaired. */
static void node_repaired(struct node *n, const char *domain, uint64_t version)
{
	atomic_fetch_add_explicit(&n->c.drift, 1, memory_order_relaxed);
	log_warn("node '%s': zone '%s' version %llu: drift: the node no longer held it as "
		 "committed; written again",
		 n->name, domain, (unsigned long long)version);
	events_add(n->s->w->events, "sync.drift", n->name, domain,
		   "version %llu: the node no longer held it as committed; written again",
		   (unsigned long long)version);
}

/* A node reported 'held' for a zone whose version it holds: an
 * acknowledgement counts only when that is the digest of what was
 * committed (ERR_UPSTREAM with 'err' set otherwise, counted as drift). */
static int check_digest(struct node *n, const struct payload *p, const char *held, char *err,
			size_t errlen)
{
	if (held != NULL && strcmp(held, p->digest) == 0)
		return 0;
	atomic_fetch_add_explicit(&n->c.drift, 1, memory_order_relaxed);
	snprintf(err, errlen,
		 "the node holds other content for version %llu (digest %.12s, "
		 "expected %.12s)",
		 (unsigned long long)p->version,
		 held == NULL ? "missing"
		 : held[0]    ? held
			      : "none",
		 p->digest);
	log_warn("node '%s': zone '%s': %s", n->name, p->domain, err);
	events_add(n->s->w->events, "sync.drift", n->name, p->domain, "%s", err);
	return ERR_UPSTREAM;
}

static int push_one(struct node *n, struct store *st, int64_t zone_id, uint32_t attempts)
{
	char path[DNAME_TEXT_MAX + 64], err[256];
	struct payload p;
	long status;

	int r = payloads_get(n->s->payloads, n->s->w, st, zone_id, &p);
	if (r == -ENOENT)
		return 0; /* purged meanwhile */
	if (r < 0)
		return r;
	uint64_t started = mono_ns();
	if (p.deleted) {
		snprintf(path, sizeof(path), "/api/dns/zones/%s?version=%llu", p.domain,
			 (unsigned long long)p.version);
		r = agent_call(n, n->http, "DELETE", path, NULL, 0, &status, NULL, err,
			       sizeof(err));
		count_push(n, &n->c.pushes_delete, started, r);
	} else {
		json_t *answer = NULL;
		r = agent_call(n, n->http, "POST", "/api/dns/sync-zone", p.text, p.len, &status,
			       &answer, err, sizeof(err));
		count_push(n, &n->c.pushes_zone, started, r);
		/* Not applied: the node holds a delete or a version above ours, or
		 * this version with other content that it applied and still holds
		 * (what the store says of this version changed since: another SOA
		 * in the configuration, a store restored from a backup). The zone
		 * gets a version above the node's, pushed as any change. */
		uint64_t held = (uint64_t)json_integer_value(json_object_get(answer, "version"));
		const char *digest = json_string_value(json_object_get(answer, "digest"));
		bool blocked =
		    r == 0 && json_is_false(json_object_get(answer, "applied")) &&
		    held >= p.version &&
		    (json_is_true(json_object_get(answer, "deleted")) || held > p.version ||
		     (digest != NULL && strcmp(digest, p.digest) != 0));
		if (r == 0 && !blocked)
			r = check_digest(n, &p,
					 json_string_value(json_object_get(answer, "digest")), err,
					 sizeof(err));
		if (r == 0 && json_is_true(json_object_get(answer, "repaired")))
			node_repaired(n, p.domain, p.version);
		json_decref(answer);
		if (blocked) {
			payload_clear(&p);
			zones_raise_version(n->s->w, st, zone_id, held);
			return 0;
		}
	}
	payload_clear(&p);
	if (r < 0) {
		log_debug("node '%s': zone '%s' version %llu: %s", n->name, p.domain,
			  (unsigned long long)p.version, err);
		record_failure(n, st, zone_id, attempts, err);
		sync_failed(n, p.domain, err);
		return r;
	}
	record_ack(n, st, zone_id, p.version);
	atomic_fetch_add_explicit(&n->c.zones_acked, 1, memory_order_relaxed);
	sync_succeeded(n);
	return 0;
}

/* What the node answered for one zone of a batch: acknowledge it when it
 * holds exactly what was committed (0); when a newer version or delete on
 * the node kept the push out, 1 with that version in *ret_held (the
 * caller raises the zone's version after the acknowledgements' commit);
 * else a failure (-1). */
static int batch_zone_done(struct node *n, struct store *st, const struct pending *p, size_t i,
			   const struct payload *pl, json_t *answer, uint64_t *ret_held)
{
	char err[256];
	json_t *b;
	size_t k;
	json_array_foreach(json_object_get(answer, "blocked"), k, b) {
		const char *zone = json_string_value(json_object_get(b, "zone"));
		if (zone == NULL || strcmp(zone, pl->domain) != 0)
			continue;
		uint64_t held = (uint64_t)json_integer_value(json_object_get(b, "version"));
		if (held >= pl->version) {
			*ret_held = held;
			return 1;
		}
	}
	const char *held =
	    json_string_value(json_object_get(json_object_get(answer, "digests"), pl->domain));
	if (check_digest(n, pl, held, err, sizeof(err)) < 0) {
		record_failure(n, st, p->zone[i], p->attempts[i], err);
		sync_failed(n, pl->domain, err);
		return -1;
	}
	json_t *z;
	size_t k2;
	json_array_foreach(json_object_get(answer, "repaired"), k2, z) {
		if (json_is_string(z) && strcmp(json_string_value(z), pl->domain) == 0)
			node_repaired(n, pl->domain, pl->version);
	}
	record_ack(n, st, p->zone[i], pl->version);
	atomic_fetch_add_explicit(&n->c.zones_acked, 1, memory_order_relaxed);
	return 0;
}

/* One sync-batch request: the payloads of pending zones [from, from +
 * count), joined as they are, and what is needed to read the answer. */
struct batch_req {
	size_t from, count, zones;
	struct payload *pl;
	bool *in_batch;
	bool *deleted; /* tombstones: sent one by one */
	struct buf body;
	int r;
};

static void batch_req_clear(struct batch_req *b)
{
	for (size_t i = 0; b->pl != NULL && i < b->count; i++)
		payload_clear(&b->pl[i]);
	free(b->pl);
	free(b->in_batch);
	free(b->deleted);
	buf_free(&b->body);
	memset(b, 0, sizeof(*b));
}

static int batch_build(struct node *n, struct store *st, const struct pending *p, size_t from,
		       size_t count, struct batch_req *b)
{
	memset(b, 0, sizeof(*b));
	b->from = from;
	b->count = count;
	b->pl = calloc(count, sizeof(*b->pl));
	b->in_batch = calloc(count, sizeof(*b->in_batch));
	b->deleted = calloc(count, sizeof(*b->deleted));
	buf_init(&b->body, SIZE_MAX);
	int r = b->pl && b->in_batch && b->deleted ? buf_puts(&b->body, "{\"zones\":[") : -ENOMEM;
	for (size_t i = 0; r == 0 && i < count; i++) {
		int q = payloads_get(n->s->payloads, n->s->w, st, p->zone[from + i], &b->pl[i]);
		if (q == -ENOENT)
			continue;
		if (q < 0) {
			r = q;
			break;
		}
		if (b->pl[i].deleted) {
			b->deleted[i] = true;
			continue;
		}
		if (b->zones > 0)
			r = buf_puts(&b->body, ",");
		if (r == 0)
			r = buf_append(&b->body, b->pl[i].text, b->pl[i].len);
		payload_clear(&b->pl[i]);
		b->in_batch[i] = r == 0;
		b->zones += r == 0;
	}
	if (r == 0 && b->zones > 0)
		r = buf_puts(&b->body, "]}");
	b->r = r;
	return r;
}

/* Send a built batch and record what the node answered for each zone;
 * tombstones go one by one. */
static int batch_send(struct node *n, struct store *st, const struct pending *p,
		      struct batch_req *b)
{
	uint64_t *raise = calloc(b->count + 1, sizeof(*raise)); /* 0: nothing to raise */
	bool all_ok = true;
	char err[256];
	json_t *answer = NULL;
	int r = raise != NULL ? b->r : -ENOMEM;

	for (size_t i = 0; r == 0 && i < b->count; i++)
		if (b->deleted[i])
			push_one(n, st, p->zone[b->from + i], p->attempts[b->from + i]);
	if (r == 0 && b->zones > 0) {
		long status = 0;
		uint64_t started = mono_ns();
		r = agent_call(n, n->http, "POST", "/api/dns/sync-batch", b->body.data, b->body.len,
			       &status, &answer, err, sizeof(err));
		count_push(n, &n->c.pushes_batch, started, r);
		/* The node refused the batch's content (422, or 413 for a zone
		 * over its own limits): push the zones one by one, so that only
		 * the zone it will not take waits. */
		bool one_by_one = r == ERR_UPSTREAM && (status == 422 || status == 413);
		if (one_by_one)
			log_info("node '%s': batch refused (%s); pushing its zones one by one",
				 n->name, err);
		/* One transaction for the batch's acknowledgements. */
		bool grouped = r == 0 && store_begin(st) == 0;
		for (size_t i = 0; i < b->count; i++) {
			size_t k = b->from + i;
			if (!b->in_batch[i])
				continue;
			if (one_by_one)
				push_one(n, st, p->zone[k], p->attempts[k]);
			else if (r == 0)
				all_ok &=
				    batch_zone_done(n, st, p, k, &b->pl[i], answer, &raise[i]) == 0;
			else
				record_failure(n, st, p->zone[k], p->attempts[k], err);
		}
		if (grouped && store_commit(st) < 0)
			store_rollback(st);
		for (size_t i = 0; r == 0 && i < b->count; i++)
			if (raise[i] > 0)
				zones_raise_version(n->s->w, st, p->zone[b->from + i], raise[i]);
		if (one_by_one)
			r = 0;
		if (r < 0) {
			log_info("node '%s': batch of %zu zones failed: %s", n->name, b->zones,
				 err);
			sync_failed(n, NULL, err);
		} else if (!one_by_one && all_ok) {
			sync_succeeded(n);
		}
	}
	json_decref(answer);
	free(raise);
	return r;
}

/* Many batches (a full sync): the next batch is built on another thread,
 * with its own store connection, while the node applies the current one,
 * so the controller's work and the node's overlap instead of taking turns. */
struct pipeline {
	struct node *n;
	const struct pending *p;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch_req slot;
	bool full, stop, done;
};

static void *batch_builder(void *arg)
{
	struct pipeline *pp = arg;
	struct store *st = NULL;
	char err[STORE_ERR_MAX];
	struct store_conf relaxed = pp->n->s->w->store_conf;
	relaxed.relaxed = true;
	int r = store_open(&relaxed, &st, err);
	for (size_t from = 0; from < pp->p->n; from += BATCH_MAX) {
		size_t count = pp->p->n - from < BATCH_MAX ? pp->p->n - from : BATCH_MAX;
		struct batch_req b;
		if (r == 0)
			batch_build(pp->n, st, pp->p, from, count, &b);
		else
			b = (struct batch_req){ .from = from, .r = r };
		pthread_mutex_lock(&pp->lock);
		while (pp->full && !pp->stop)
			pthread_cond_wait(&pp->cond, &pp->lock);
		bool stop = pp->stop;
		if (!stop) {
			pp->slot = b;
			pp->full = true;
			pthread_cond_broadcast(&pp->cond);
		}
		pthread_mutex_unlock(&pp->lock);
		if (stop) {
			batch_req_clear(&b);
			break;
		}
	}
	pthread_mutex_lock(&pp->lock);
	pp->done = true;
	pthread_cond_broadcast(&pp->cond);
	pthread_mutex_unlock(&pp->lock);
	store_close(st);
	return NULL;
}

static void push_batches(struct node *n, struct store *st, const struct pending *p)
{
	struct pipeline pp = { .n = n, .p = p };
	pthread_t t;

	pthread_mutex_init(&pp.lock, NULL);
	pthread_cond_init(&pp.cond, NULL);
	if (pthread_create(&t, NULL, batch_builder, &pp) != 0) {
		for (size_t from = 0; from < p->n; from += BATCH_MAX) {
			struct batch_req b;
			size_t count = p->n - from < BATCH_MAX ? p->n - from : BATCH_MAX;
			batch_build(n, st, p, from, count, &b);
			int r = batch_send(n, st, p, &b);
			batch_req_clear(&b);
			if (r == ERR_UNAVAILABLE)
				break;
		}
	} else {
		for (;;) {
			pthread_mutex_lock(&pp.lock);
			while (!pp.full && !pp.done)
				pthread_cond_wait(&pp.cond, &pp.lock);
			if (!pp.full) {
				pthread_mutex_unlock(&pp.lock);
				break;
			}
			struct batch_req b = pp.slot;
			pp.full = false;
			pthread_cond_broadcast(&pp.cond);
			pthread_mutex_unlock(&pp.lock);
			int r = batch_send(n, st, p, &b);
			batch_req_clear(&b);
			if (r == ERR_UNAVAILABLE) /* the node is down: the rest would fail too */
				break;
		}
		pthread_mutex_lock(&pp.lock);
		pp.stop = true;
		pthread_cond_broadcast(&pp.cond);
		pthread_mutex_unlock(&pp.lock);
		pthread_join(t, NULL);
		if (pp.full)
			batch_req_clear(&pp.slot);
	}
	pthread_cond_destroy(&pp.cond);
	pthread_mutex_destroy(&pp.lock);
}

static void push_pending(struct node *n, struct store *st)
{
	struct pending p = { 0 };

	if (n->last_round > 1 && whm_now_ms() - n->last_push_ms < LINGER_WINDOW_MS) {
		struct timespec ts = { 0, LINGER_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	int r =
	    store_sync_foreach_pending(st, n->id, whm_now_ms(), PENDING_LIMIT, collect_pending, &p);
	if (r == 0)
		atomic_store_explicit(&n->c.queue_depth, p.n, memory_order_relaxed);
	if (r < 0 || p.n == 0)
		goto out;
	if (p.n <= BATCH_THRESHOLD) {
		for (size_t i = 0; i < p.n; i++)
			if (push_one(n, st, p.zone[i], p.attempts[i]) == ERR_UNAVAILABLE)
				break; /* the node is down: the rest would fail too */
	} else if (p.n <= BATCH_MAX) {
		struct batch_req b;
		batch_build(n, st, &p, 0, p.n, &b);
		batch_send(n, st, &p, &b);
		batch_req_clear(&b);
	} else {
		push_batches(n, st, &p);
	}
	notify_changed(n->s);
	n->last_push_ms = whm_now_ms();
	n->last_round = p.n;
out:
	free(p.zone);
	free(p.attempts);
}

/* --- reconciliation -------------------------------------------------------------- */

struct recon {
	struct node *n;
	struct store *st;
	json_t *agent; /* zone name -> {"version", "digest"}, live zones on the node */
	unsigned fixed;
	unsigned drift;
};

static int reconcile_zone(const struct store_zone *z, void *ctx)
{
	struct recon *rc = ctx;
	json_t *v = json_object_get(rc->agent, z->domain);
	uint64_t on_node = (uint64_t)json_integer_value(json_object_get(v, "version"));
	char held[ZONE_DIGEST_HEX] = "", want[ZONE_DIGEST_HEX] = "";
	bool same = false;

	if (v != NULL) {
		snprintf(held, sizeof(held), "%s",
			 json_string_value(json_object_get(v, "digest")) ?: "");
		json_object_del(rc->agent, z->domain); /* what remains is unknown to the store */
	}
	if (z->deleted) {
		same = v == NULL;
	} else if (on_node == z->version) {
		/* The node holds the version: it counts only with the content. */
		struct store_zone copy = *z;
		same =
		    zones_digest(rc->n->s->w, rc->st, &copy, want) < 0 || strcmp(held, want) == 0;
	}
	if (same)
		return 0;
	/* A version the node has not acknowledged yet is on its way: only a
	 * node that lost what it acknowledged needs the zone again. */
	bool acked = false;
	if (store_sync_node_acked(rc->st, rc->n->id, z->id, z->version, &acked) < 0 || !acked)
		return 0;
	if (!z->deleted && on_node > z->version) {
		log_warn("node '%s': zone '%s' is at version %llu, ahead of the store's %llu",
			 rc->n->name, z->domain, (unsigned long long)on_node,
			 (unsigned long long)z->version);
		return 0;
	}
	rc->fixed++;
	if (!z->deleted && on_node == z->version) {
		/* Pushed again at the same version: the agent writes it when its
		 * backend drifted (counted as drift when it says it repaired it),
		 * and keeps it out when it holds what it applied, which makes the
		 * store raise the version (the store's meaning of it changed). */
		rc->drift++;
		log_notice("node '%s': zone '%s' version %llu: the node holds digest %.12s, the "
			   "store %.12s; pushing it again",
			   rc->n->name, z->domain, (unsigned long long)z->version,
			   held[0] ? held : "none", want);
		return store_sync_reset(rc->st, rc->n->id, z->id, 0);
	}
	return store_sync_reset(rc->st, rc->n->id, z->id, z->deleted ? 0 : on_node);
}

/* Differing buckets above which the node is taken as having lost its data
 * (a database restored or wiped): every zone is pushed to it again. */
#define RECON_BUCKETS_MAX 1024
/* Buckets listed by one request (the agent walks its zones once for it). */
#define RECON_BUCKETS_PER_CALL 64

struct tree_diff {
	unsigned *buckets;
	size_t n;
	unsigned requests;
	uint64_t node_zones; /* the node's count of live zones (the root) */
};

/* The node's live zones and ours are so far apart that descending the
 * tree would reach most buckets. */
static bool differ_widely(uint64_t ours, uint64_t theirs)
{
	uint64_t gap = ours > theirs ? ours - theirs : theirs - ours;
	return gap > RECON_BUCKETS_MAX;
}

/* Compare the node's hash tree with the controller's top-down from
 * 'prefix' and collect the buckets that differ; ERR_TOO_LARGE past
 * RECON_BUCKETS_MAX. An in-sync node costs one request. */
static int tree_diff(struct node *n, const char *prefix, struct tree_diff *d)
{
	char path[64], err[256], mine[ZTREE_LEAF_HEX];
	struct ztree_node node, kids[16];
	long status;
	json_t *j = NULL;

	snprintf(path, sizeof(path), "/api/dns/tree?prefix=%s", prefix);
	int r = agent_call(n, n->http, "GET", path, NULL, 0, &status, &j, err, sizeof(err));
	d->requests++;
	if (r < 0)
		return r;
	ztree_get(n->s->w->tree, prefix, &node, kids);
	if (prefix[0] == '\0') {
		d->node_zones = (uint64_t)json_integer_value(
		    json_object_get(json_object_get(j, "node"), "zones"));
		if (differ_widely(node.zones, d->node_zones)) {
			json_decref(j);
			return ERR_TOO_LARGE;
		}
	}
	json_t *children = json_object_get(j, "children");
	for (unsigned c = 0; r == 0 && c < 16; c++) {
		const char *theirs =
		    json_string_value(json_object_get(json_array_get(children, c), "hash"));
		ztree_hex(&kids[c], mine);
		if (theirs != NULL && strcmp(theirs, mine) == 0)
			continue;
		char child[ZTREE_DEPTH + 1];
		snprintf(child, sizeof(child), "%s%x", prefix, c);
		if (strlen(child) < ZTREE_DEPTH)
			r = tree_diff(n, child, d);
		else if (d->n == RECON_BUCKETS_MAX)
			r = ERR_TOO_LARGE;
		else
			d->buckets[d->n++] = ztree_prefix_bucket(child);
	}
	json_decref(j);
	return r;
}

/* Reconcile the zones of buckets[0..count) with what the node lists for
 * them; the controller's own buckets are read again from the store first,
 * in case another process changed them. */
static int reconcile_buckets(struct node *n, struct store *st, const unsigned *buckets,
			     size_t count, struct recon *rc, unsigned *stray)
{
	char path[40 + RECON_BUCKETS_PER_CALL * (ZTREE_DEPTH + 1)], err[256];
	long status;
	json_t *j = NULL;
	size_t off = (size_t)snprintf(path, sizeof(path), "/api/dns/zones?buckets=");

	for (size_t i = 0; i < count; i++)
		off += (size_t)snprintf(path + off, sizeof(path) - off, "%s%04x", i ? "," : "",
					buckets[i]);
	int r = agent_call(n, n->http, "GET", path, NULL, 0, &status, &j, err, sizeof(err));
	if (r < 0)
		return r;
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(j, "zones"), i, item) {
		const char *name = json_string_value(json_object_get(item, "zone"));
		if (name != NULL)
			json_object_set(rc->agent, name, item);
	}
	json_decref(j);
	for (i = 0; r == 0 && i < count; i++) {
		r = verify_bucket_refresh(n->s->w, st, buckets[i]);
		if (r == 0)
			r = store_zone_foreach_bucket(st, buckets[i], reconcile_zone, rc);
	}
	/* Zones the node serves that the store does not know: delete them. */
	const char *name;
	json_t *v;
	json_object_foreach(rc->agent, name, v) {
		char zpath[DNAME_TEXT_MAX + 32];
		if (r < 0)
			break;
		snprintf(zpath, sizeof(zpath), "/api/dns/zones/%s", name);
		if (agent_call(n, n->http, "DELETE", zpath, NULL, 0, &status, NULL, err,
			       sizeof(err)) == 0)
			(*stray)++;
	}
	json_object_clear(rc->agent);
	return r;
}

static void reconcile(struct node *n, struct store *st)
{
	struct recon rc = { n, st, json_object(), 0, 0 };
	struct tree_diff d = { calloc(RECON_BUCKETS_MAX, sizeof(unsigned)), 0, 0, 0 };
	unsigned stray = 0;
	uint64_t started = mono_ns();

	int r = d.buckets != NULL && rc.agent != NULL ? tree_diff(n, "", &d) : -ENOMEM;
	struct store_sync_summary sum = { 0 };
	uint64_t live = verify_live_zones(n->s->w);
	bool catching_up = r == ERR_TOO_LARGE &&
			   (store_sync_summary(st, n->id, &live, &sum) < 0 || sum.behind > 0);
	free(sum.last_error);
	if (r == ERR_TOO_LARGE && catching_up) {
		/* A node far behind with pushes on their way (a full sync): the
		 * differences are those pushes. */
		log_debug("node '%s': reconciliation: %llu zones against %llu, pushes pending; "
			  "skipped",
			  n->name, (unsigned long long)d.node_zones, (unsigned long long)live);
		d.n = 0;
		r = 0;
	} else if (r == ERR_TOO_LARGE) {
		/* Nothing pending, yet most of it differs: the node lost what it
		 * had (a database restored or wiped). Push everything again. */
		log_warn("node '%s': reconciliation: it holds %llu zones against %llu, or more "
			 "than %d of its %u buckets differ; pushing every zone again",
			 n->name, (unsigned long long)d.node_zones, (unsigned long long)live,
			 RECON_BUCKETS_MAX, ZTREE_BUCKETS);
		events_add(n->s->w->events, "sync.drift", n->name, NULL,
			   "the node holds %llu zones against %llu with nothing pending; pushing "
			   "every zone again",
			   (unsigned long long)d.node_zones, (unsigned long long)live);
		store_sync_reset_server(st, n->id);
		d.n = 0;
	}
	for (size_t i = 0; r == 0 && i < d.n; i += RECON_BUCKETS_PER_CALL) {
		size_t count = d.n - i < RECON_BUCKETS_PER_CALL ? d.n - i : RECON_BUCKETS_PER_CALL;
		r = reconcile_buckets(n, st, d.buckets + i, count, &rc, &stray);
	}
	json_decref(rc.agent);
	free(d.buckets);
	atomic_store(&n->c.reconcile_ns, mono_ns() - started);
	atomic_fetch_add(&n->c.reconciles, 1);
	if (rc.fixed || stray)
		log_notice(
		    "node '%s': reconciliation: %zu buckets differed (%u requests), %u zones "
		    "to push again (%u with other content), %u stray zones deleted",
		    n->name, d.n, d.requests, rc.fixed, rc.drift, stray);
	else if (d.n > 0)
		log_debug("node '%s': reconciliation: %zu buckets differed, all on their way",
			  n->name, d.n);
}

/* --- the worker --------------------------------------------------------------------- */

static void *worker(void *arg)
{
	struct node *n = arg;
	struct sync *s = n->s;
	const struct whm_conf *c = &s->w->conf;
	char err[STORE_ERR_MAX];
	struct store *st = NULL;

	n->next_health_ms = 0;
	n->next_reconcile_ms = whm_now_ms() + (int64_t)c->reconcile_interval_s * 1000;
	for (;;) {
		pthread_mutex_lock(&s->lock);
		bool stop = n->stop;
		pthread_mutex_unlock(&s->lock);
		if (stop)
			break;
		/* Acknowledgements can be redone (a lost one means one more push,
		 * which the agent's version check makes harmless): no fsync. */
		struct store_conf relaxed = s->w->store_conf;
		relaxed.relaxed = true;
		if (st == NULL && store_open(&relaxed, &st, err) < 0) {
			log_err("node '%s': cannot open the store: %s", n->name, err);
			st = NULL;
			sleep_until(s, n, whm_now_ms() + 1000);
			continue;
		}
		int64_t now = whm_now_ms();
		pthread_mutex_lock(&s->lock);
		bool probe = n->health_now || now >= n->next_health_ms;
		pthread_mutex_unlock(&s->lock);
		if (probe) {
			check_health(n, st);
			n->next_health_ms = whm_now_ms() + (int64_t)c->health_interval_ms;
		}
		pthread_mutex_lock(&s->lock);
		bool up = n->h.pdns_running;
		pthread_mutex_unlock(&s->lock);
		if (up) {
			if (n->reconcile_now || now >= n->next_reconcile_ms) {
				reconcile(n, st);
				n->reconcile_now = false;
				n->next_reconcile_ms =
				    whm_now_ms() + (int64_t)c->reconcile_interval_s * 1000;
			}
			push_pending(n, st);
		}
		/* Wake for the next health check, or sooner for retries. */
		int64_t due = n->next_health_ms;
		if (up && due > whm_now_ms() + 200)
			due = whm_now_ms() + 200;
		sleep_until(s, n, due);
	}
	store_close(st);
	return NULL;
}

static void node_free(struct node *n)
{
	if (n == NULL)
		return;
	http_client_free(n->http);
	http_client_free(n->probe);
	free(n);
}

/* A client for a node's agent: https, verified against agent-tls-ca-file,
 * when that is set. */
static int agent_client(struct sync *s, const struct store_server *srv, long timeout_ms, char *url,
			size_t urllen, struct http_client **ret)
{
	const char *ca = s->w->conf.agent_tls_ca_pem;
	const char *scheme = ca != NULL ? "https" : "http";
	if (strchr(srv->ip, ':') != NULL)
		snprintf(url, urllen, "%s://[%s]:%u", scheme, srv->ip, srv->agent_port);
	else
		snprintf(url, urllen, "%s://%s:%u", scheme, srv->ip, srv->agent_port);
	return http_client_new_tls(url, "X-Agent-Secret", srv->agent_secret, timeout_ms, ca, ret);
}

static struct node *node_new(struct sync *s, const struct store_server *srv)
{
	char url[128];
	struct node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->s = s;
	n->id = srv->id;
	snprintf(n->name, sizeof(n->name), "%s", srv->name);
	long timeout = (long)s->w->conf.agent_timeout_ms;
	int r = agent_client(s, srv, timeout, url, sizeof(url), &n->http);
	snprintf(n->url, sizeof(n->url), "%s", url);
	if (r < 0 || agent_client(s, srv, timeout < HEALTH_TIMEOUT_MS ? timeout : HEALTH_TIMEOUT_MS,
				  url, sizeof(url), &n->probe) < 0) {
		log_err("node '%s': invalid agent address '%s'", n->name, url);
		node_free(n);
		return NULL;
	}
	return n;
}

static void node_stop(struct sync *s, struct node *n)
{
	pthread_mutex_lock(&s->lock);
	n->stop = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(n->thread, NULL);
	node_free(n);
}

struct server_list {
	struct store_server *v;
	size_t n;
};

static int collect_server(const struct store_server *srv, void *ctx)
{
	struct server_list *l = ctx;
	struct store_server *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	l->v = v;
	v[l->n] = (struct store_server){ .id = srv->id,
					 .name = strdup(srv->name),
					 .ip = strdup(srv->ip),
					 .agent_port = srv->agent_port,
					 .agent_secret = strdup(srv->agent_secret) };
	l->n++;
	return 0;
}

void sync_nodes_changed(struct sync *s)
{
	struct store *st = whm_store(s->w);
	struct server_list l = { 0 };

	if (st == NULL || store_server_foreach(st, true, collect_server, &l) < 0) {
		log_err("cannot read the node list");
		goto out;
	}
	/* Stop workers of nodes that left or changed, start the new ones. The
	 * nodes that stay are published first, so nobody walking s->nodes
	 * (metrics, health) meets a node that is being freed. */
	pthread_mutex_lock(&s->change_lock);
	struct node **keep = calloc(l.n + 1, sizeof(*keep));
	struct node **gone = NULL;
	size_t nkeep = 0, ngone = 0;
	pthread_mutex_lock(&s->lock);
	if (keep != NULL)
		gone = calloc(s->n + 1, sizeof(*gone));
	for (size_t i = 0; gone && i < s->n; i++) {
		bool found = false;
		for (size_t j = 0; j < l.n && !found; j++)
			found = l.v[j].id == s->nodes[i]->id;
		if (found)
			keep[nkeep++] = s->nodes[i];
		else
			gone[ngone++] = s->nodes[i];
	}
	if (gone != NULL) {
		free(s->nodes);
		s->nodes = keep;
		s->n = nkeep;
	}
	pthread_mutex_unlock(&s->lock);
	if (gone == NULL) {
		pthread_mutex_unlock(&s->change_lock);
		free(keep);
		goto out;
	}
	for (size_t i = 0; i < ngone; i++) {
		log_notice("node '%s': leaves the cluster", gone[i]->name);
		events_add(s->w->events, "node.left", gone[i]->name, NULL, "leaves the cluster");
		node_stop(s, gone[i]);
	}
	for (size_t j = 0; j < l.n; j++) {
		bool running = false;
		for (size_t i = 0; i < nkeep && !running; i++)
			running = keep[i]->id == l.v[j].id;
		if (running)
			continue;
		struct node *n = node_new(s, &l.v[j]);
		if (n == NULL)
			continue;
		if (pthread_create(&n->thread, NULL, worker, n) != 0) {
			node_free(n);
			continue;
		}
		log_notice("node '%s': joins the cluster (%s)", n->name, n->url);
		events_add(s->w->events, "node.joined", n->name, NULL, "joins the cluster (%s)",
			   n->url);
		/* Past s->n: readers do not look there until s->n says so. */
		keep[nkeep++] = n;
		pthread_mutex_lock(&s->lock);
		s->n = nkeep;
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&s->change_lock);
	free(gone);
out:
	for (size_t i = 0; i < l.n; i++)
		store_server_clear(&l.v[i]);
	free(l.v);
}

/* A zone commit: every worker looks for what to push. */
static void on_commit(struct whm *w, struct store *st, const struct store_zone *old,
		      const struct store_zone *now, void *ctx)
{
	sync_wake(w->sync);
}

int sync_start(struct whm *w, struct sync **ret)
{
	struct sync *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->w = w;
	if (payloads_new(&s->payloads) < 0) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->change_lock, NULL);
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_cond_init(&s->wake, &ca); /* CLOCK_REALTIME: whm_now_ms() deadlines */
	pthread_cond_init(&s->changed, &ca);
	pthread_condattr_destroy(&ca);
	w->sync = s;
	zones_on_commit(w, on_commit, NULL);
	sync_nodes_changed(s);
	*ret = s;
	return 0;
}

void sync_stop(struct sync *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	struct node **nodes = s->nodes;
	size_t n = s->n;
	s->nodes = NULL;
	s->n = 0;
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < n; i++)
		node_stop(s, nodes[i]);
	free(nodes);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->change_lock);
	payloads_free(s->payloads);
	free(s);
}

void sync_wake(struct sync *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->gen++;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

int sync_foreach_node(struct sync *s, sync_node_fn fn, void *ctx)
{
	int r = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; r >= 0 && i < s->n; i++)
		r = fn(s->nodes[i]->id, s->nodes[i]->name, &s->nodes[i]->h, &s->nodes[i]->c, ctx);
	pthread_mutex_unlock(&s->lock);
	return r < 0 ? r : 0;
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

static json_t *node_results(struct sync *s, struct store *st, int64_t zone_id, uint64_t version,
			    bool *ret_all)
{
	json_t *out = json_array();
	struct server_list l = { 0 };
	*ret_all = true;
	if (store_server_foreach(st, true, collect_server, &l) < 0)
		*ret_all = false;
	for (size_t i = 0; i < l.n; i++) {
		bool acked = false;
		struct node_health h;
		sync_node_health(s, l.v[i].id, &h);
		int r = store_sync_node_acked(st, l.v[i].id, zone_id, version, &acked);
		if (r < 0 || !acked)
			*ret_all = false;
		json_array_append_new(
		    out, json_pack("{s:I,s:s,s:b,s:s?}", "nodeId", (json_int_t)l.v[i].id,
				   "hostname", l.v[i].name, "success", acked, "error",
				   acked ? NULL : (h.error[0] ? h.error : "pending")));
		store_server_clear(&l.v[i]);
	}
	free(l.v);
	return out;
}

int sync_wait(struct sync *s, int64_t zone_id, uint64_t version, long timeout_ms, json_t **ret)
{
	struct store *st = whm_store(s->w);
	int64_t deadline = whm_now_ms() + timeout_ms;
	bool all = false;

	if (st == NULL)
		return ERR_UNAVAILABLE;
	for (;;) {
		if (store_sync_all_acked(st, zone_id, version, &all) == 0 && all)
			break;
		if (whm_now_ms() >= deadline)
			break;
		struct timespec ts;
		int64_t due = whm_now_ms() + 50 < deadline ? whm_now_ms() + 50 : deadline;
		ts.tv_sec = due / 1000;
		ts.tv_nsec = (due % 1000) * 1000000L;
		pthread_mutex_lock(&s->lock);
		pthread_cond_timedwait(&s->changed, &s->lock, &ts);
		pthread_mutex_unlock(&s->lock);
	}
	*ret = node_results(s, st, zone_id, version, &all);
	return all ? 0 : ERR_TIMEOUT;
}

int sync_health_sweep(struct sync *s, long timeout_ms, json_t **ret)
{
	int64_t deadline = whm_now_ms() + timeout_ms;
	pthread_mutex_lock(&s->lock);
	uint64_t *before = calloc(s->n + 1, sizeof(*before));
	if (before == NULL) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++) {
		before[i] = s->nodes[i]->checks;
		s->nodes[i]->health_now = true;
	}
	pthread_cond_broadcast(&s->wake);
	size_t n = s->n;
	for (;;) {
		bool done = true;
		for (size_t i = 0; i < n && i < s->n; i++)
			done = done && s->nodes[i]->checks > before[i];
		if (done || whm_now_ms() >= deadline)
			break;
		struct timespec ts = { deadline / 1000, (deadline % 1000) * 1000000L };
		pthread_cond_timedwait(&s->changed, &s->lock, &ts);
	}
	json_t *out = json_array();
	for (size_t i = 0; i < s->n; i++) {
		struct node *nd = s->nodes[i];
		bool fresh = i < n && nd->checks > before[i];
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
	free(before);
	*ret = out;
	return 0;
}

int sync_purge_node(struct sync *s, int64_t server_id, unsigned *ret_deleted, char *err,
		    size_t errlen)
{
	struct store *st = whm_store(s->w);
	struct store_server srv;
	long status;
	json_t *j = NULL;
	unsigned deleted = 0;

	if (st == NULL)
		return ERR_UNAVAILABLE;
	int r = store_server_get(st, server_id, &srv);
	if (r < 0)
		return r;
	struct node *n = node_new(s, &srv);
	store_server_clear(&srv);
	if (n == NULL)
		return -ENOMEM;
	/* A page at a time (the zones it deletes leave the list, so each page
	 * starts again from the first zone after the last one seen). */
	char after[DNAME_TEXT_MAX] = "";
	for (bool more = true; more;) {
		char path[DNAME_TEXT_MAX + 64];
		snprintf(path, sizeof(path), "/api/dns/zones?limit=1000&after=%s", after);
		r = agent_call(n, n->http, "GET", path, NULL, 0, &status, &j, err, errlen);
		if (r < 0)
			break;
		size_t i;
		json_t *item;
		json_array_foreach(json_object_get(j, "zones"), i, item) {
			const char *name = json_string_value(json_object_get(item, "zone"));
			if (name == NULL)
				continue;
			snprintf(path, sizeof(path), "/api/dns/zones/%s", name);
			if (agent_call(n, n->http, "DELETE", path, NULL, 0, &status, NULL, err,
				       errlen) == 0)
				deleted++;
		}
		const char *next = json_string_value(json_object_get(j, "next"));
		more = next != NULL;
		if (more)
			snprintf(after, sizeof(after), "%s", next);
		json_decref(j);
		j = NULL;
	}
	node_free(n);
	*ret_deleted = deleted;
	return r;
}

struct fetch {
	struct sync *s;
	struct store_server srv;
	const char *path;
	long timeout_ms;
	json_t *answer;
	pthread_t thread;
	bool started;
};

static void *fetch_one(void *arg)
{
	struct fetch *f = arg;
	struct http_client *c;
	char err[256];
	long status;
	json_t *j = NULL;
	char url[128];

	if (agent_client(f->s, &f->srv, f->timeout_ms, url, sizeof(url), &c) < 0) {
		f->answer = json_pack("{s:s}", "error", "invalid agent address");
		return NULL;
	}
	struct node tmp = { .s = f->s };
	snprintf(tmp.name, sizeof(tmp.name), "%s", f->srv.name);
	if (agent_call(&tmp, c, "GET", f->path, NULL, 0, &status, &j, err, sizeof(err)) < 0)
		f->answer = json_pack("{s:s}", "error", err);
	else
		f->answer = j;
	http_client_free(c);
	return NULL;
}

int sync_agents_get(struct sync *s, const char *path, long timeout_ms, json_t **ret)
{
	struct store *st = whm_store(s->w);
	struct server_list l = { 0 };

	if (st == NULL)
		return ERR_UNAVAILABLE;
	int r = store_server_foreach(st, true, collect_server, &l);
	struct fetch *f = calloc(l.n + 1, sizeof(*f));
	if (r == 0 && f == NULL)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		f[i] =
		    (struct fetch){ .s = s, .srv = l.v[i], .path = path, .timeout_ms = timeout_ms };
		f[i].started = pthread_create(&f[i].thread, NULL, fetch_one, &f[i]) == 0;
		if (!f[i].started)
			fetch_one(&f[i]);
	}
	json_t *out = json_object();
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		char key[24];
		if (f[i].started)
			pthread_join(f[i].thread, NULL);
		snprintf(key, sizeof(key), "%lld", (long long)l.v[i].id);
		json_object_set_new(out, key, f[i].answer ? f[i].answer : json_object());
	}
	for (size_t i = 0; i < l.n; i++)
		store_server_clear(&l.v[i]);
	free(l.v);
	free(f);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}
