#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "base/err.h"
#include "base/log.h"
#include "dnssec.h"
#include "verify.h"

struct verify {
	struct agent *a;
	unsigned interval_s;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool stop;
};

#define PAGE 500

struct names {
	char **v;
	size_t n, alloc;
	char last[DNAME_TEXT_MAX]; /* the last zone of the page, live or not */
};

static void names_clear(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Zones the node should serve: every zone the agent applied and did not
 * delete, whether or not PowerDNS still holds it. */
static int collect(const char *zone, const struct zone_state *st, void *ctx)
{
	struct names *l = ctx;
	snprintf(l->last, sizeof(l->last), "%s", zone);
	if (!st->known || st->deleted)
		return 0;
	if (l->n == l->alloc) {
		size_t a = l->alloc ? 2 * l->alloc : 256;
		char **v = realloc(l->v, a * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->alloc = a;
	}
	l->v[l->n] = strdup(zone);
	return l->v[l->n++] ? 0 : -ENOMEM;
}

/* Verify one zone now: 1 when it had drifted (and is now marked so), 0
 * when it holds what was recorded, or a negative error. */
static int verify_zone(struct agent *a, const char *zone)
{
	struct zone_state st = { 0 };
	char held[ZONE_DIGEST_HEX] = "";

	pthread_mutex_lock(&a->db_lock);
	int r = backend_zone_state(a->db, zone, &st);
	if (r == 0 && (!st.known || (st.deleted && !st.exists))) {
		pthread_mutex_unlock(&a->db_lock);
		return 0; /* deleted meanwhile */
	}
	if (r == 0)
		r = backend_zone_held_digest(a->db, zone, held);
	if (r < 0 || strcmp(st.digest, ZONE_DIGEST_DRIFTED) == 0) {
		pthread_mutex_unlock(&a->db_lock);
		return r; /* found before; the repair is on its way */
	}
	/* The keys too: read first (a zone as written costs no transaction);
	 * what must change then changes in one transaction: the record of
	 * the zone's key set dropped and the zone marked, or neither. */
	int keys = st.exists ? dnssec_verify(a->db, zone, false) : 0;
	bool same = strcmp(held, st.digest) == 0;
	bool drifted = keys == DNSSEC_DRIFTED;
	/* A zone written before digests has none recorded: what it holds is
	 * recorded now. Otherwise the zone is marked as drifted: it then
	 * matches no digest, so the controller sees it and the agent writes
	 * the controller's push at the version it holds. */
	bool first = !drifted && st.digest[0] == '\0' && held[0] != '\0';
	if (keys < 0 || (keys == 0 && same)) {
		pthread_mutex_unlock(&a->db_lock);
		return keys < 0 ? keys : 0;
	}
	r = backend_begin(a->db);
	if (r == 0 && keys > 0 && (r = dnssec_verify(a->db, zone, true)) > 0)
		r = 0;
	if (r == 0 && (drifted || !same))
		r = backend_zone_set_digest(a->db, zone, first ? held : ZONE_DIGEST_DRIFTED);
	if (r == 0)
		r = backend_commit(a->db);
	if (r < 0)
		backend_rollback(a->db);
	pthread_mutex_unlock(&a->db_lock);
	if (r < 0 || first || (!drifted && same))
		return r;
	atomic_fetch_add(&a->stats.drift, 1);
	if (drifted && same)
		log_warn("zone '%s': drift: the backend holds other DNSSEC keys or NSEC3 "
			 "parameters than version %llu as applied",
			 zone, (unsigned long long)st.version);
	else
		log_warn("zone '%s': drift: the backend holds %s (digest %.12s), not version %llu "
			 "as applied (digest %.12s)",
			 zone, held[0] ? "other records" : "no zone", held[0] ? held : "none",
			 (unsigned long long)st.version, st.digest[0] ? st.digest : "none");
	return 1;
}

/* Check the agent's zone tree (what it tells the controller it holds)
 * against the database a page at a time: a database restored from a copy
 * under the running agent holds other versions than the tree, and every
 * zone in it verifies against its own recorded digest. Buckets that differ
 * take the database's value and count as drift, so that the controller
 * compares and pushes what the node lost. */
static void verify_tree(struct agent *a)
{
	struct backend_tree_check *c;
	pthread_mutex_lock(&a->db_lock);
	int r = backend_tree_check_start(a->db, &c);
	pthread_mutex_unlock(&a->db_lock);
	if (r < 0)
		return;
	do {
		pthread_mutex_lock(&a->db_lock);
		r = backend_tree_check_step(a->db, c);
		pthread_mutex_unlock(&a->db_lock);
	} while (r > 0);
	pthread_mutex_lock(&a->db_lock);
	int fixed = backend_tree_check_finish(a->db, c);
	pthread_mutex_unlock(&a->db_lock);
	if (r < 0) {
		log_warn("verification: cannot list zones: %s", err_str(r));
	} else if (fixed > 0) {
		atomic_fetch_add(&a->stats.drift, (uint64_t)fixed);
		log_warn("verification: the database holds other zone versions than the agent "
			 "wrote in %d buckets of zones (restored from a copy?); the agent now "
			 "reports what it holds",
			 fixed);
	}
}

/* Wait until 'deadline' (CLOCK_MONOTONIC) or a stop; true when stopping. */
static bool wait_until(struct verify *v, const struct timespec *deadline)
{
	pthread_mutex_lock(&v->lock);
	while (!v->stop && pthread_cond_timedwait(&v->cond, &v->lock, deadline) != ETIMEDOUT)
		;
	bool stop = v->stop;
	pthread_mutex_unlock(&v->lock);
	return stop;
}

static void add_ns(struct timespec *t, uint64_t ns)
{
	ns += (uint64_t)t->tv_nsec;
	t->tv_sec += (time_t)(ns / 1000000000u);
	t->tv_nsec = (long)(ns % 1000000000u);
}

static void *run(void *arg)
{
	struct verify *v = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		uint64_t period_ns = (uint64_t)v->interval_s * 1000000000u;
		struct ztree_node all;
		ztree_get(v->a->tree, "", &all, NULL);
		/* One zone every period/n: a pass takes the whole period. Names
		 * are read a page at a time, so memory does not grow with n. */
		uint64_t step_ns = all.zones > 0 ? period_ns / all.zones : period_ns;
		char after[DNAME_TEXT_MAX] = "";
		unsigned drifted = 0;
		size_t seen = 0, got = 0;
		bool stop = false;
		do {
			struct names l = { 0 };
			pthread_mutex_lock(&v->a->db_lock);
			int r = backend_state_page(v->a->db, after, PAGE, collect, &l, &got);
			pthread_mutex_unlock(&v->a->db_lock);
			if (r < 0) {
				log_warn("verification: cannot list zones: %s", err_str(r));
				got = 0;
			}
			snprintf(after, sizeof(after), "%s", l.last);
			for (size_t i = 0; i < l.n && !stop; i++) {
				int d = verify_zone(v->a, l.v[i]);
				drifted += d > 0;
				add_ns(&next, step_ns);
				stop = wait_until(v, &next);
			}
			seen += l.n;
			names_clear(&l);
		} while (got == PAGE && !stop);
		if (!stop)
			verify_tree(v->a);
		if (drifted)
			log_notice("verification: %u of %zu zones had drifted", drifted, seen);
		size_t n = seen;
		if (n == 0)
			add_ns(&next, period_ns);
		if (stop || wait_until(v, &next))
			break;
		/* Never catch up in a burst after a stall (a suspended process). */
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec + 1)
			next = now;
	}
	return NULL;
}

int verify_start(struct agent *a, unsigned interval_s, struct verify **ret)
{
	struct verify *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v->a = a;
	v->interval_s = interval_s ? interval_s : 1;
	pthread_mutex_init(&v->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&v->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&v->thread, NULL, run, v) != 0) {
		pthread_cond_destroy(&v->cond);
		pthread_mutex_destroy(&v->lock);
		free(v);
		return -EAGAIN;
	}
	*ret = v;
	return 0;
}

void verify_stop(struct verify *v)
{
	if (v == NULL)
		return;
	pthread_mutex_lock(&v->lock);
	v->stop = true;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	pthread_join(v->thread, NULL);
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->lock);
	free(v);
}
