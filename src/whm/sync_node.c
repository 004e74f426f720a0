/* The node worker: one thread per node that owns every request to it,
 * pushes what the node has not acknowledged (one zone, a batch, or a full
 * sync's pipeline of batches) and records each acknowledgement. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "agent.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "catalog.h"
#include "events.h"
#include "payloads.h"
#include "sync_node.h"
#include "zones.h"

#define PENDING_LIMIT 20000
/* A node worker whose last round found more than one zone waiting, and
 * that comes back for more within LINGER_WINDOW_MS of it, is under a
 * stream of changes: it waits LINGER_MS first, so the changes of that time
 * go as one batch (one request, one transaction and one cache purge on the
 * node) instead of a few each. A change after a quiet moment, or one
 * change after another, goes out at once. */
#define LINGER_WINDOW_MS 2
#define LINGER_MS 10

/* Until 'due_ms' (whm_mono_ms()), a change, a stop or a health sweep. */
static void sleep_until(struct sync *s, struct node *n, int64_t due_ms)
{
	struct timespec ts = whm_mono_deadline(due_ms);
	pthread_mutex_lock(&s->lock);
	while (!n->stop && !n->health_now && n->seen_gen == s->gen && whm_mono_ms() < due_ms) {
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

uint64_t sync_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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

/* The catalog zone after the zones it lists: a node notifies its
 * secondaries of the catalog once it holds it, and a secondary that then
 * asks for a new member the node does not hold yet is refused and tries
 * again only after its retry interval (Knot: 30 s). Moved to the end of
 * 'p'; true when it is there (and other zones before it). A round that
 * cannot hold every pending zone (a node that joins a large cluster)
 * leaves it out: a later round, with its members done, takes it. */
static bool catalog_last(const struct whm *w, struct pending *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (!catalog_is(w, p->zone[i]))
			continue;
		int64_t z = p->zone[i];
		uint32_t t = p->attempts[i];
		memmove(&p->zone[i], &p->zone[i + 1], (p->n - i - 1) * sizeof(*p->zone));
		memmove(&p->attempts[i], &p->attempts[i + 1],
			(p->n - i - 1) * sizeof(*p->attempts));
		p->zone[p->n - 1] = z;
		p->attempts[p->n - 1] = t;
		if (p->n == PENDING_LIMIT)
			p->n--;
		return p->n > 1 && p->zone[p->n - 1] == z;
	}
	return false;
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

/* Count one request to the node and how long it took. */
static void count_push(struct node *n, atomic_ullong *kind, uint64_t started_ns, int r)
{
	atomic_fetch_add_explicit(kind, 1, memory_order_relaxed);
	if (r < 0)
		atomic_fetch_add_explicit(&n->c.push_failures, 1, memory_order_relaxed);
	histogram_observe(&n->c.push_latency, sync_mono_ns() - started_ns);
}

/* Pushes to the node failed: an event when they start failing, and again
 * for a different error at most once a minute. */
static void sync_failed(struct node *n, const char *domain, const char *why)
{
	int64_t now = whm_mono_ms();
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

/* The push of a zone could not be built (a zone stored by an earlier
 * release that today's rules refuse, the store failing): that zone fails,
 * visibly and with backoff; it does not hold back the others. */
static void build_failed(struct node *n, struct store *st, int64_t zone_id, const char *domain,
			 uint32_t attempts, int r)
{
	char why[160];
	snprintf(why, sizeof(why), "its push cannot be built: %s", err_str(r));
	log_warn("node '%s': zone '%s' (id %lld): %s", n->name, domain, (long long)zone_id, why);
	record_failure(n, st, zone_id, attempts, why);
	sync_failed(n, domain, why);
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
static int check_digest(struct node *n, const struct payload *p, const char *held,
			struct errmsg *err)
{
	if (held != NULL && strcmp(held, p->digest) == 0)
		return 0;
	atomic_fetch_add_explicit(&n->c.drift, 1, memory_order_relaxed);
	errmsg_set(err, 0,
		   "the node holds other content for version %llu (digest %.12s, "
		   "expected %.12s)",
		   (unsigned long long)p->version,
		   held == NULL ? "missing"
		   : held[0]	? held
				: "none",
		   p->digest);
	log_warn("node '%s': zone '%s': %s", n->name, p->domain, err->text);
	events_add(n->s->w->events, "sync.drift", n->name, p->domain, "%s", err->text);
	return ERR_UPSTREAM;
}

bool sync_push_blocked(uint64_t version, const char *digest, const json_t *answer,
		       uint64_t *ret_held)
{
	/* Not applied: the node holds a delete or a version above ours, or
	 * this version with other content that it applied and still holds
	 * (what the store says of this version changed since: another SOA
	 * in the configuration, a store restored from a backup). The zone
	 * gets a version above the node's, pushed as any change. */
	uint64_t held = (uint64_t)json_integer_value(json_object_get(answer, "version"));
	const char *theirs = json_string_value(json_object_get(answer, "digest"));
	bool blocked = json_is_false(json_object_get(answer, "applied")) && held >= version &&
		       (json_is_true(json_object_get(answer, "deleted")) || held > version ||
			(theirs != NULL && strcmp(theirs, digest) != 0));
	if (blocked)
		*ret_held = held;
	return blocked;
}

static int push_one(struct node *n, struct store *st, int64_t zone_id, uint32_t attempts)
{
	char path[DNAME_TEXT_MAX + 64];
	struct errmsg err;
	struct payload p;
	long status;

	int r = payloads_get(n->s->payloads, n->s->w, st, zone_id, &p);
	if (r == -ENOENT)
		return 0; /* purged meanwhile */
	/* ERR_UNAVAILABLE: the zone changed at every read; the next round
	 * pushes its newer version, and this one goes on to the next zone
	 * (ERR_UNAVAILABLE from push_one() means the node is down). */
	if (r == ERR_UNAVAILABLE)
		return 0;
	if (r < 0) {
		build_failed(n, st, zone_id, p.domain, attempts, r);
		return r;
	}
	uint64_t started = sync_mono_ns();
	if (p.deleted) {
		snprintf(path, sizeof(path), "%s?version=%llu", p.domain,
			 (unsigned long long)p.version);
		json_t *answer = NULL;
		r = agent_call(n->http, AGENT_ZONE_DELETE, path, NULL, 0, &status, &answer, &err);
		count_push(n, &n->c.pushes_delete, started, r);
		/* A node that serves a version above the delete's (a store
		 * restored from a backup) keeps the zone: the delete is raised
		 * above it, not acknowledged. */
		json_int_t kept = json_integer_value(json_object_get(answer, "kept"));
		json_decref(answer);
		if (r == 0 && kept > 0 && (uint64_t)kept >= p.version) {
			payload_clear(&p);
			zones_raise_version(n->s->w, st, zone_id, (uint64_t)kept);
			return 0;
		}
	} else {
		json_t *answer = NULL;
		r = agent_call(n->http, AGENT_SYNC_ZONE, NULL, p.text, p.len, &status, &answer,
			       &err);
		count_push(n, &n->c.pushes_zone, started, r);
		uint64_t held = 0;
		bool blocked = r == 0 && sync_push_blocked(p.version, p.digest, answer, &held);
		if (r == 0 && !blocked)
			r = check_digest(
			    n, &p, json_string_value(json_object_get(answer, "digest")), &err);
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
			  (unsigned long long)p.version, err.text);
		record_failure(n, st, zone_id, attempts, err.text);
		sync_failed(n, p.domain, err.text);
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
	struct errmsg err;
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
	if (check_digest(n, pl, held, &err) < 0) {
		record_failure(n, st, p->zone[i], p->attempts[i], err.text);
		sync_failed(n, pl->domain, err.text);
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
	int *failed;   /* why a zone's push could not be built, or 0 */
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
	free(b->failed);
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
	b->failed = calloc(count, sizeof(*b->failed));
	buf_init(&b->body, SIZE_MAX);
	int r = b->pl && b->in_batch && b->deleted && b->failed ? buf_puts(&b->body, "{\"zones\":[")
								: -ENOMEM;
	for (size_t i = 0; r == 0 && i < count; i++) {
		int q = payloads_get(n->s->payloads, n->s->w, st, p->zone[from + i], &b->pl[i]);
		if (q == -ENOENT)
			continue;
		if (q == -ENOMEM) {
			r = q;
			break;
		}
		if (q < 0) {
			/* That zone fails alone (batch_send()); one that
			 * changed at every read waits for the next round. */
			b->failed[i] = q == ERR_UNAVAILABLE ? 0 : q;
			continue;
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

/* The version the node said it serves instead of deleting 'zone' (the
 * delete-batch answer's "kept"), or 0. */
static uint64_t kept_version(const json_t *answer, const char *zone)
{
	const json_t *k;
	size_t i;
	json_array_foreach(json_object_get(answer, "kept"), i, k) {
		const char *z = json_string_value(json_object_get(k, "zone"));
		if (z != NULL && strcmp(z, zone) == 0)
			return (uint64_t)json_integer_value(json_object_get(k, "version"));
	}
	return 0;
}

/* Record what the node answered to a delete-batch of the tombstones 'k'
 * (indexes into 'b', 'count' of them): r == 0, each is acknowledged, or
 * has its version raised above the one the node serves instead; else each
 * failed with 'err'. */
static void deletes_done(struct node *n, struct store *st, const struct pending *p,
			 const struct batch_req *b, const size_t *k, size_t count, int r,
			 const json_t *answer, const struct errmsg *err)
{
	uint64_t *raise = calloc(count, sizeof(*raise));
	bool grouped = store_begin(st) == 0;
	for (size_t i = 0; i < count; i++) {
		const struct payload *pl = &b->pl[k[i]];
		size_t z = b->from + k[i];
		uint64_t kept = r == 0 ? kept_version(answer, pl->domain) : 0;
		if (r < 0 || raise == NULL) {
			record_failure(n, st, p->zone[z], p->attempts[z],
				       r < 0 ? err->text : "out of memory");
		} else if (kept >= pl->version) {
			raise[i] = kept;
		} else {
			record_ack(n, st, p->zone[z], pl->version);
			atomic_fetch_add_explicit(&n->c.zones_acked, 1, memory_order_relaxed);
		}
	}
	if (grouped && store_commit(st) < 0)
		store_rollback(st);
	for (size_t i = 0; raise != NULL && i < count; i++)
		if (raise[i] > 0)
			zones_raise_version(n->s->w, st, p->zone[b->from + k[i]], raise[i]);
	free(raise);
}

/* One delete-batch request for the tombstones 'k' of 'b', its outcome
 * recorded: 0, or the error (in 'err'). Nothing recorded: 1 when the agent
 * does not take it as a batch (agent_delete_batch()), and the rest must go
 * one by one; 2 when the agent could not delete one of them (502:
 * PowerDNS's API refused a zone), and these go one by one, so that only
 * that zone waits and the others are acknowledged. */
static int delete_batch(struct node *n, struct store *st, const struct pending *p,
			const struct batch_req *b, const size_t *k, size_t count,
			struct errmsg *err)
{
	const char **zones = calloc(count, sizeof(*zones));
	uint64_t *versions = calloc(count, sizeof(*versions));
	if (zones == NULL || versions == NULL) {
		free(zones);
		free(versions);
		return 1;
	}
	for (size_t i = 0; i < count; i++) {
		zones[i] = b->pl[k[i]].domain;
		versions[i] = b->pl[k[i]].version;
	}
	json_t *answer = NULL;
	long status = 0;
	uint64_t started = sync_mono_ns();
	int r = agent_delete_batch(n->http, zones, versions, count, &status, &answer, err);
	free(zones);
	free(versions);
	count_push(n, &n->c.pushes_delete_batch, started, r > 0 ? ERR_UPSTREAM : r);
	if (r == 1)
		return 1;
	if (r == ERR_UPSTREAM && status == 502) {
		log_info("node '%s': delete of %zu zones failed (%s); deleting them one by one",
			 n->name, count, err->text);
		return 2;
	}
	deletes_done(n, st, p, b, k, count, r, answer, err);
	json_decref(answer);
	if (r < 0) {
		log_info("node '%s': delete of %zu zones failed: %s", n->name, count, err->text);
		sync_failed(n, NULL, err->text);
	} else {
		sync_succeeded(n);
	}
	return r;
}

/* The batch's tombstones: DELETE_BATCH_MAX at a time in one delete-batch
 * request when there is more than one (a mass delete, a node catching up
 * on one): one transaction and one cache purge on the node for many zones
 * instead of a request, a transaction and a purge per zone. 0, or
 * ERR_UNAVAILABLE when the node was found down or not answering. */
static int batch_deletes(struct node *n, struct store *st, const struct pending *p,
			 const struct batch_req *b)
{
	size_t *k = calloc(b->count + 1, sizeof(*k)), count = 0, from = 0;
	int down = 0;
	for (size_t i = 0; i < b->count; i++) {
		if (!b->deleted[i])
			continue;
		if (k == NULL) /* out of memory: one by one */
			push_one(n, st, p->zone[b->from + i], p->attempts[b->from + i]);
		else
			k[count++] = i;
	}
	while (count > 1 && from < count) {
		struct errmsg err;
		size_t m = count - from < DELETE_BATCH_MAX ? count - from : DELETE_BATCH_MAX;
		int r = delete_batch(n, st, p, b, k + from, m, &err);
		if (r == 1)
			break; /* the rest one by one */
		for (size_t i = from; r == 2 && i < from + m; i++)
			push_one(n, st, p->zone[b->from + k[i]], p->attempts[b->from + k[i]]);
		from += m;
		/* A node down or not answering: the rest would wait as long. */
		if (r == ERR_UNAVAILABLE || r == ERR_TIMEOUT) {
			deletes_done(n, st, p, b, k + from, count - from, r, NULL, &err);
			from = count;
			down = ERR_UNAVAILABLE;
		}
	}
	for (; from < count; from++)
		push_one(n, st, p->zone[b->from + k[from]], p->attempts[b->from + k[from]]);
	free(k);
	return down;
}

/* Send a built batch and record what the node answered for each zone;
 * tombstones go in requests of their own. 0, or the error of the batch's
 * request; a batch of tombstones alone: ERR_UNAVAILABLE when the node was
 * found down or not answering. */
static int batch_send(struct node *n, struct store *st, const struct pending *p,
		      struct batch_req *b)
{
	uint64_t *raise = calloc(b->count + 1, sizeof(*raise)); /* 0: nothing to raise */
	bool all_ok = true;
	struct errmsg err;
	json_t *answer = NULL;
	int r = raise != NULL ? b->r : -ENOMEM;

	for (size_t i = 0; r == 0 && i < b->count; i++)
		if (b->failed[i] < 0)
			build_failed(n, st, p->zone[b->from + i], b->pl[i].domain,
				     p->attempts[b->from + i], b->failed[i]);
	int down = r == 0 ? batch_deletes(n, st, p, b) : 0;
	if (r == 0 && b->zones > 0) {
		long status = 0;
		uint64_t started = sync_mono_ns();
		r = agent_call(n->http, AGENT_SYNC_BATCH, NULL, b->body.data, b->body.len, &status,
			       &answer, &err);
		count_push(n, &n->c.pushes_batch, started, r);
		/* The node refused the batch's content (422, or 413 for a zone
		 * over its own limits): push the zones one by one, so that only
		 * the zone it will not take waits. */
		bool one_by_one = r == ERR_UPSTREAM && (status == 422 || status == 413);
		if (one_by_one)
			log_info("node '%s': batch refused (%s); pushing its zones one by one",
				 n->name, err.text);
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
				record_failure(n, st, p->zone[k], p->attempts[k], err.text);
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
				 err.text);
			sync_failed(n, NULL, err.text);
		} else if (!one_by_one && all_ok) {
			sync_succeeded(n);
		}
	}
	json_decref(answer);
	free(raise);
	/* A batch of tombstones alone says whether the node answered them. */
	return r == 0 && b->zones == 0 ? down : r;
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
	struct errmsg err;
	struct store_conf relaxed = pp->n->s->w->store_conf;
	relaxed.relaxed = true;
	int r = store_open(&relaxed, &st, &err);
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

enum sync_push_mode sync_push_mode(size_t pending)
{
	if (pending <= BATCH_THRESHOLD)
		return SYNC_PUSH_EACH;
	return pending <= BATCH_MAX ? SYNC_PUSH_BATCH : SYNC_PUSH_PIPELINE;
}

static void push_pending(struct node *n, struct store *st)
{
	struct pending p = { 0 };

	if (n->last_round > 1 && whm_mono_ms() - n->last_push_ms < LINGER_WINDOW_MS) {
		struct timespec ts = { 0, LINGER_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	/* Retry times are wall-clock times in the store (they outlive the
	 * process); one further ahead than the longest backoff was set while
	 * the clock was ahead and is due now. */
	int r =
	    store_sync_foreach_pending(st, n->id, whm_now_ms(), (int64_t)n->s->w->conf.retry_max_ms,
				       PENDING_LIMIT, collect_pending, &p);
	if (r == 0)
		atomic_store_explicit(&n->c.queue_depth, p.n, memory_order_relaxed);
	if (r < 0 || p.n == 0)
		goto out;
	bool catalog = catalog_last(n->s->w, &p);
	switch (sync_push_mode(p.n)) {
	case SYNC_PUSH_EACH: {
		bool failed = false;
		for (size_t i = 0; i < p.n; i++) {
			/* A member refused this round: the catalog waits for the
			 * next, which that member (backing off) is not part of. */
			if (catalog && failed && i == p.n - 1)
				break;
			int pr = push_one(n, st, p.zone[i], p.attempts[i]);
			if (pr == ERR_UNAVAILABLE)
				break; /* the node is down: the rest would fail too */
			failed = failed || pr < 0;
		}
		break;
	}
	case SYNC_PUSH_BATCH: {
		struct batch_req b;
		batch_build(n, st, &p, 0, p.n, &b);
		batch_send(n, st, &p, &b);
		batch_req_clear(&b);
		break;
	}
	case SYNC_PUSH_PIPELINE:
		push_batches(n, st, &p);
		break;
	}
	notify_changed(n->s);
	n->last_push_ms = whm_mono_ms();
	n->last_round = p.n;
out:
	free(p.zone);
	free(p.attempts);
}

/* --- the worker --------------------------------------------------------------------- */

void *sync_worker(void *arg)
{
	struct node *n = arg;
	struct sync *s = n->s;
	const struct whm_conf *c = &s->w->conf;
	struct errmsg err;
	struct store *st = NULL;

	n->next_health_ms = 0;
	n->next_reconcile_ms = whm_mono_ms() + (int64_t)c->reconcile_interval_s * 1000;
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
		if (st == NULL && store_open(&relaxed, &st, &err) < 0) {
			log_err("node '%s': cannot open the store: %s", n->name, err.text);
			st = NULL;
			sleep_until(s, n, whm_mono_ms() + 1000);
			continue;
		}
		int64_t now = whm_mono_ms();
		pthread_mutex_lock(&s->lock);
		bool probe = n->health_now || now >= n->next_health_ms;
		pthread_mutex_unlock(&s->lock);
		if (probe) {
			sync_check_health(n, st);
			n->next_health_ms = whm_mono_ms() + (int64_t)c->health_interval_ms;
		}
		pthread_mutex_lock(&s->lock);
		bool up = n->h.pdns_running;
		pthread_mutex_unlock(&s->lock);
		if (up) {
			/* A walk of the node's zones under way goes on at
			 * every pass (after a failure, at n->far_next_ms). */
			if (n->far_walking && !n->reconcile_now) {
				if (now >= n->far_next_ms)
					sync_reconcile_walk(n, st);
			} else if (n->reconcile_now || now >= n->next_reconcile_ms) {
				sync_reconcile(n, st);
				n->reconcile_now = false;
				n->next_reconcile_ms =
				    whm_mono_ms() + (int64_t)c->reconcile_interval_s * 1000;
			}
			push_pending(n, st);
		}
		/* Wake for the next health check, or sooner for retries. */
		int64_t due = n->next_health_ms;
		if (up && due > whm_mono_ms() + 200)
			due = whm_mono_ms() + 200;
		sleep_until(s, n, due);
	}
	store_close(st);
	return NULL;
}
