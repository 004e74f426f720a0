#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "base/memtrim.h"

struct memtrim {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool stop;
};

static void *run(void *arg)
{
	struct memtrim *t = arg;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct timespec due;
		clock_gettime(CLOCK_MONOTONIC, &due);
		due.tv_sec += MEMTRIM_PERIOD_S;
		while (!t->stop && pthread_cond_timedwait(&t->cond, &t->lock, &due) != ETIMEDOUT)
			;
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->lock);
		malloc_trim(0);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int memtrim_start(struct memtrim **ret)
{
	struct memtrim *t = calloc(1, sizeof(*t));
	pthread_condattr_t ca;

	if (t == NULL)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	int r = -pthread_create(&t->thread, NULL, run, t);
	if (r < 0) {
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

void memtrim_stop(struct memtrim *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
