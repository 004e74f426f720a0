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

struct entry {
	char zone[ZONE_MAX];
	int64_t due;	/* ms, CLOCK_MONOTONIC */
	uint64_t first; /* the oldest purge asked that this one answers */
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

	/* Purges asked (repurge_mark) and, of those, how many are done: every
	 * purge asked up to 'done' has been sent to PowerDNS. */
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

/* With the lock held, after a purge was sent: every ask older than the
 * oldest one still waiting is done; tell the watcher. */
static void advance(struct repurge *rp)
{
	uint64_t low = atomic_load(&rp->asked) + 1; /* nothing waiting */
	if (rp->all)
		low = rp->all_first; /* again's are later */
	else if (rp->n > 0)
		low = rp->q[0].first;
	atomic_store(&rp->done, low - 1);
	if (rp->watch != NULL)
		rp->watch(rp->watch_arg);
}

static void purge(struct repurge *rp, const char *zone)
{
	if (pdns_flush(rp->pdns, zone) < 0) {
		char why[256];
		pdns_last_error(why, sizeof(why));
		log_debug("second purge of '%s' failed: %s", zone, why);
	}
}

static void wait_until(struct repurge *rp, int64_t due)
{
	struct timespec ts = { (time_t)(due / 1000), (long)(due % 1000) * 1000000L };
	pthread_cond_timedwait(&rp->cond, &rp->lock, &ts);
}

static void *run(void *arg)
{
	struct repurge *rp = arg;
	struct entry batch[QUEUE_MAX];

	pthread_mutex_lock(&rp->lock);
	for (;;) {
		while (!rp->stopping && !rp->all && rp->n == 0)
			pthread_cond_wait(&rp->cond, &rp->lock);
		if (rp->stopping)
			break;
		int64_t due = rp->all ? rp->all_due : rp->q[0].due;
		if (now_ms() < due) {
			wait_until(rp, due);
			continue;
		}
		if (rp->all) {
			rp->all = rp->again;
			rp->all_due = rp->again_due;
			rp->all_first = rp->again_first;
			rp->again = false;
			pthread_mutex_unlock(&rp->lock);
			purge(rp, ".");
			pthread_mutex_lock(&rp->lock);
			advance(rp);
			continue;
		}
		int64_t now = now_ms();
		size_t k = 0;
		while (k < rp->n && rp->q[k].due <= now)
			k++;
		memcpy(batch, rp->q, k * sizeof(batch[0]));
		memmove(rp->q, rp->q + k, (rp->n - k) * sizeof(rp->q[0]));
		rp->n -= k;
		pthread_mutex_unlock(&rp->lock);
		for (size_t i = 0; i < k; i++)
			purge(rp, batch[i].zone);
		pthread_mutex_lock(&rp->lock);
		advance(rp);
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
