#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "pdns.h"
#include "repurge.h"

/* A lookup in flight when a change commits finishes well within this;
 * short enough that a stale answer it cached is gone before anyone
 * measuring propagation in milliseconds sees it. */
#define REPURGE_DELAY_MS 10
/* More zones than this due together: purge everything once instead (each
 * purge costs PowerDNS about 0.3 ms of CPU, whatever it covers). */
#define QUEUE_MAX 2
#define ZONE_MAX 256
/* A second purge that failed is tried again RETRY_FIRST_MS later, then at
 * twice the interval after each failure, up to RETRY_LAST_MS: a PowerDNS
 * restarting is purged soon after it answers, one that is down is asked
 * once a second. */
#define RETRY_FIRST_MS 10
#define RETRY_LAST_MS 1000
/* Zones whose purge is being retried; one more makes them all one purge
 * of everything. */
#define RETRY_MAX 16
/* How long a failed purge holds the marks it covers (repurge.h): PowerDNS's
 * cache-ttl and query-cache-ttl (20 s, their defaults, which managed mode
 * keeps), after which an answer it was to remove has expired anyway. */
#ifndef REPURGE_HOLD_MS
#define REPURGE_HOLD_MS 20000
#endif

struct entry {
	char zone[ZONE_MAX];
	int64_t due;	/* ms, CLOCK_MONOTONIC */
	uint64_t first; /* the oldest purge asked that this one answers */
};

/* A zone ("." for everything) whose second purge failed, until a purge of
 * it (or of everything) succeeds. */
struct retry {
	char zone[ZONE_MAX];
	bool holds;	/* marks from 'first' on wait for it, ... */
	uint64_t first; /* (the oldest ask it answers that still holds them) */
	int64_t until;	/* ... until then at most (ms, CLOCK_MONOTONIC) */
};

struct repurge {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
	struct pdns *pdns;

	struct entry q[QUEUE_MAX]; /* due times and firsts never decrease */
	size_t n;
	/* A purge of everything is due at all_due; zones added after it was
	 * decided need one more, due at again_due. Under a steady stream of
	 * changes this is one purge of everything per REPURGE_DELAY_MS. */
	bool all, again;
	int64_t all_due, again_due;
	uint64_t all_first, again_first;

	/* Failed purges, each zone once (or one purge of everything), all
	 * tried again at retry_due; retry_wait is the interval before it. */
	struct retry r[RETRY_MAX];
	size_t nr;
	int64_t retry_due, retry_wait;

	/* Purges asked (repurge_mark) and, of those, how many are done: every
	 * purge asked up to 'done' has been done by PowerDNS, or failed and
	 * held the marks for REPURGE_HOLD_MS. */
	_Atomic uint64_t asked, done;
	void (*watch)(void *);
	void *watch_arg;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void repurge_add(struct repurge *rp, const char *zone)
{
	if (rp == NULL)
		return;
	int64_t due = now_ms() + REPURGE_DELAY_MS;
	pthread_mutex_lock(&rp->lock);
	uint64_t ask = atomic_load(&rp->asked) + 1;
	if (rp->all) {
		if (!rp->again)
			rp->again_first = ask;
		rp->again = true;
		rp->again_due = due;
	} else if (strcmp(zone, ".") == 0 || strlen(zone) >= ZONE_MAX || rp->n == QUEUE_MAX) {
		/* Later than every queued entry's due time, so it covers them. */
		rp->all = true;
		rp->all_due = due;
		rp->all_first = rp->n > 0 ? rp->q[0].first : ask;
		rp->n = 0;
	} else {
		/* A zone already waiting gets a second entry, not a later due
		 * time: a zone changed more often than every REPURGE_DELAY_MS
		 * would otherwise never be purged again while the changes last
		 * (nor notified: xfrn.h); two entries make the next ask a purge
		 * of everything, which is not put off. */
		snprintf(rp->q[rp->n].zone, ZONE_MAX, "%s", zone);
		rp->q[rp->n].due = due;
		rp->q[rp->n].first = ask;
		rp->n++;
	}
	atomic_store(&rp->asked, ask);
	pthread_cond_signal(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
}

uint64_t repurge_mark(struct repurge *rp)
{
	return rp != NULL ? atomic_load(&rp->asked) : 0;
}

bool repurge_passed(struct repurge *rp, uint64_t mark)
{
	return rp == NULL || atomic_load(&rp->done) >= mark;
}

void repurge_watch(struct repurge *rp, void (*fn)(void *), void *arg)
{
	if (rp == NULL)
		return;
	pthread_mutex_lock(&rp->lock);
	rp->watch = fn;
	rp->watch_arg = arg;
	pthread_mutex_unlock(&rp->lock);
}

/* With the lock held, after a purge was sent or a failed one stopped
 * holding the marks: every ask older than the oldest one still waiting or
 * held is done; tell the watcher. */
static void advance(struct repurge *rp)
{
	uint64_t low = atomic_load(&rp->asked) + 1; /* nothing waiting */
	if (rp->all)
		low = rp->all_first; /* again's are later */
	else if (rp->n > 0)
		low = rp->q[0].first;
	for (size_t i = 0; i < rp->nr; i++)
		if (rp->r[i].holds && rp->r[i].first < low)
			low = rp->r[i].first;
	atomic_store(&rp->done, low - 1);
	if (rp->watch != NULL)
		rp->watch(rp->watch_arg);
}

/* 'src' into 'dst', for the same zone or into a purge of everything: the
 * marks held by either stay held, until the sooner of their two times. A
 * zone failing again does not hold a mark longer than its first failure
 * did, so a PowerDNS that keeps failing cannot hold the NOTIFYs for good. */
static void retry_merge(struct retry *dst, const struct retry *src)
{
	if (!src->holds)
		return;
	if (!dst->holds) {
		dst->holds = true;
		dst->first = src->first;
		dst->until = src->until;
		return;
	}
	if (src->first < dst->first)
		dst->first = src->first;
	if (src->until < dst->until)
		dst->until = src->until;
}

/* With the lock held: the purge of 'zone', which answered the asks from
 * 'first' on and began at 'began', failed. */
static void retry_add(struct repurge *rp, const char *zone, uint64_t first, int64_t began)
{
	struct retry f = { .holds = true, .first = first, .until = began + REPURGE_HOLD_MS };
	snprintf(f.zone, sizeof(f.zone), "%s", zone);
	if (rp->nr == 0) {
		rp->retry_wait = RETRY_FIRST_MS;
		rp->retry_due = now_ms() + RETRY_FIRST_MS;
	}
	size_t i = 0;
	while (i < rp->nr && strcmp(rp->r[i].zone, zone) != 0 && strcmp(rp->r[i].zone, ".") != 0)
		i++;
	if (i < rp->nr) {
		retry_merge(&rp->r[i], &f);
		return;
	}
	if (strcmp(zone, ".") != 0 && rp->nr < RETRY_MAX) {
		rp->r[rp->nr++] = f;
		return;
	}
	/* A purge of everything answers for every zone failing (and this
	 * one); the oldest hold stays. */
	for (i = 0; i < rp->nr; i++)
		retry_merge(&f, &rp->r[i]);
	snprintf(f.zone, sizeof(f.zone), ".");
	rp->r[0] = f;
	rp->nr = 1;
}

/* With the lock held: a purge of 'zone' that began after every failure
 * still retried succeeded, so they need no retry for it. */
static void retry_done(struct repurge *rp, const char *zone)
{
	if (strcmp(zone, ".") == 0) {
		rp->nr = 0;
		return;
	}
	for (size_t i = 0; i < rp->nr; i++)
		if (strcmp(rp->r[i].zone, zone) == 0) {
			rp->r[i] = rp->r[--rp->nr];
			return;
		}
}

/* With the lock held: the failed purges that have held their marks for
 * REPURGE_HOLD_MS stop holding them (they are still retried); whether any
 * did. */
static bool retry_release(struct repurge *rp, int64_t now)
{
	bool released = false;
	for (size_t i = 0; i < rp->nr; i++) {
		struct retry *f = &rp->r[i];
		if (f->holds && f->until <= now) {
			f->holds = false;
			released = true;
			log_warn("second purge of '%s' still failing after %d ms: the NOTIFYs "
				 "waiting for it are sent (PowerDNS's cache-ttl has passed)",
				 f->zone, REPURGE_HOLD_MS);
		}
	}
	return released;
}

/* 0 when PowerDNS purged 'zone'. */
static int purge(struct repurge *rp, const char *zone)
{
	int r = pdns_flush(rp->pdns, zone);
	if (r < 0) {
		char why[256];
		pdns_last_error(why, sizeof(why));
		log_debug("second purge of '%s' failed: %s", zone, why);
	}
	return r;
}

static void wait_until(struct repurge *rp, int64_t due)
{
	struct timespec ts = { (time_t)(due / 1000), (long)(due % 1000) * 1000000L };
	pthread_cond_timedwait(&rp->cond, &rp->lock, &ts);
}

/* With the lock held: the purges asked that are due, the lock released
 * while PowerDNS does them. */
static void run_asked(struct repurge *rp, int64_t now)
{
	struct entry batch[QUEUE_MAX];
	int64_t began[QUEUE_MAX];
	int r[QUEUE_MAX];

	if (rp->all) {
		uint64_t first = rp->all_first;
		rp->all = rp->again;
		rp->all_due = rp->again_due;
		rp->all_first = rp->again_first;
		rp->again = false;
		pthread_mutex_unlock(&rp->lock);
		began[0] = now_ms();
		r[0] = purge(rp, ".");
		pthread_mutex_lock(&rp->lock);
		if (r[0] < 0)
			retry_add(rp, ".", first, began[0]);
		else
			retry_done(rp, ".");
		return;
	}
	size_t k = 0;
	while (k < rp->n && rp->q[k].due <= now)
		k++;
	memcpy(batch, rp->q, k * sizeof(batch[0]));
	memmove(rp->q, rp->q + k, (rp->n - k) * sizeof(rp->q[0]));
	rp->n -= k;
	pthread_mutex_unlock(&rp->lock);
	for (size_t i = 0; i < k; i++) {
		began[i] = now_ms();
		r[i] = purge(rp, batch[i].zone);
	}
	pthread_mutex_lock(&rp->lock);
	/* In order: a zone twice in the batch is retried only if its later
	 * purge failed. */
	for (size_t i = 0; i < k; i++) {
		if (r[i] < 0)
			retry_add(rp, batch[i].zone, batch[i].first, began[i]);
		else
			retry_done(rp, batch[i].zone);
	}
}

/* With the lock held: the failed purges again, the lock released while
 * PowerDNS does them. The first that fails again ends the round (PowerDNS
 * is likely still down) and goes last, so that the next round starts with
 * another; the round after waits twice as long. */
static void run_retries(struct repurge *rp)
{
	char zone[ZONE_MAX];
	int r = 0;
	while (rp->nr > 0 && !rp->stopping) {
		snprintf(zone, sizeof(zone), "%s", rp->r[0].zone);
		pthread_mutex_unlock(&rp->lock);
		r = purge(rp, zone);
		pthread_mutex_lock(&rp->lock);
		if (r < 0)
			break;
		/* Only this thread changes r[]: r[0] is still 'zone'. */
		retry_done(rp, zone);
	}
	if (r < 0) {
		struct retry f = rp->r[0];
		memmove(rp->r, rp->r + 1, (rp->nr - 1) * sizeof(rp->r[0]));
		rp->r[rp->nr - 1] = f;
		rp->retry_wait =
		    rp->retry_wait * 2 < RETRY_LAST_MS ? rp->retry_wait * 2 : RETRY_LAST_MS;
		rp->retry_due = now_ms() + rp->retry_wait;
	}
}

/* When the thread has something to do next: a purge asked, a retry, or a
 * failed purge to stop holding the marks; INT64_MAX for nothing. */
static int64_t next_due(const struct repurge *rp)
{
	int64_t due = INT64_MAX;
	if (rp->all)
		due = rp->all_due;
	else if (rp->n > 0)
		due = rp->q[0].due;
	if (rp->nr > 0 && rp->retry_due < due)
		due = rp->retry_due;
	for (size_t i = 0; i < rp->nr; i++)
		if (rp->r[i].holds && rp->r[i].until < due)
			due = rp->r[i].until;
	return due;
}

static void *run(void *arg)
{
	struct repurge *rp = arg;

	pthread_mutex_lock(&rp->lock);
	while (!rp->stopping) {
		int64_t now = now_ms(), due = next_due(rp);
		if (due == INT64_MAX) {
			pthread_cond_wait(&rp->cond, &rp->lock);
		} else if (now < due) {
			wait_until(rp, due);
		} else if (retry_release(rp, now)) {
			advance(rp);
		} else if (rp->all ? rp->all_due <= now : rp->n > 0 && rp->q[0].due <= now) {
			run_asked(rp, now);
			advance(rp);
		} else {
			run_retries(rp);
			advance(rp);
		}
	}
	pthread_mutex_unlock(&rp->lock);
	return NULL;
}

int repurge_start(const char *api_url, const char *key, const char *control, struct repurge **ret)
{
	pthread_condattr_t ca;
	struct repurge *rp = calloc(1, sizeof(*rp));
	if (rp == NULL)
		return -ENOMEM;
	int r = pdns_new(api_url, key, &rp->pdns);
	if (r == 0 && control != NULL && (r = pdns_set_control(rp->pdns, control)) < 0)
		pdns_free(rp->pdns);
	if (r < 0) {
		free(rp);
		return r;
	}
	pthread_mutex_init(&rp->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rp->cond, &ca);
	pthread_condattr_destroy(&ca);
	r = -pthread_create(&rp->thread, NULL, run, rp);
	if (r < 0) {
		pdns_free(rp->pdns);
		free(rp);
		return r;
	}
	*ret = rp;
	return 0;
}

void repurge_stop(struct repurge *rp)
{
	if (rp == NULL)
		return;
	pthread_mutex_lock(&rp->lock);
	rp->stopping = true;
	pthread_cond_signal(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
	pthread_join(rp->thread, NULL);
	pthread_cond_destroy(&rp->cond);
	pthread_mutex_destroy(&rp->lock);
	pdns_free(rp->pdns);
	free(rp);
}
