#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "catalog.h"
#include "xfrout_push.h"
#include "zones.h"

/* Key names queued at most; past it every zone with settings of its own
 * is given a new version, which covers whatever keys they were. */
#define KEYS_MAX 32

struct xfrout_push {
	struct whm *w;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	bool all_default; /* the default changed */
	bool all_keys;	  /* more keys than KEYS_MAX changed */
	unsigned n_keys;
	char keys[KEYS_MAX][DNAME_TEXT_MAX];
};

/* zones_change() step that only moves the version: what a push carries
 * from the transfer settings changed. */
static int touch(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	(void)st;
	(void)z;
	(void)ctx;
	(void)err;
	return 0;
}

struct bump {
	struct whm *w;
	const char *summary;
};

static int bump_zone(int64_t id, void *ctx)
{
	struct bump *b = ctx;
	struct zone_result res = { 0 };
	struct errmsg err;
	/* The catalog zone follows the default too. */
	bool was = catalog_internal(true);
	int r = zones_change(b->w, id, touch, NULL, "transfers", "zone.transfers", b->summary, &res,
			     &err);
	catalog_internal(was);
	if (r < 0 && r != ERR_NOT_FOUND) /* not found: deleted meanwhile */
		log_warn("zone %lld: transfer settings not pushed: %s", (long long)id, err.text);
	return 0;
}

static void bump_default(struct whm *w, struct store *st)
{
	struct bump b = { w, "the cluster's transfer settings changed" };
	int r = store_xfr_foreach_default(st, bump_zone, &b);
	if (r < 0)
		log_warn("transfer settings: zones following the default not pushed: %s",
			 err_str(r));
}

/* 'all_default': the default's zones are done already. */
static void bump_key(struct whm *w, struct store *st, const char *name, bool all_default)
{
	char needle[DNAME_TEXT_MAX + 16], *allow = NULL, *notify = NULL;
	struct bump b = { w, "a TSIG key of the transfer settings changed" };

	/* The stored JSON is compact and names keys in their canonical form;
	 * NULL: any key. */
	if (name != NULL)
		snprintf(needle, sizeof(needle), "\"key\":\"%s\"", name);
	else
		snprintf(needle, sizeof(needle), "\"key\":");
	int r = store_xfr_foreach_naming(st, needle, bump_zone, &b);
	if (r == 0 && !all_default && store_xfr_get(st, 0, &allow, &notify) == 0 &&
	    strstr(allow, needle) != NULL)
		bump_default(w, st);
	free(allow);
	free(notify);
	if (r < 0)
		log_warn("transfer settings: zones naming a changed key not pushed: %s",
			 err_str(r));
}

static void *run(void *arg)
{
	struct xfrout_push *p = arg;
	char(*keys)[DNAME_TEXT_MAX] = malloc(sizeof(p->keys));

	pthread_mutex_lock(&p->lock);
	while (!p->stop && keys != NULL) {
		if (!p->all_default && !p->all_keys && p->n_keys == 0) {
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		bool all_default = p->all_default, all_keys = p->all_keys;
		unsigned n = p->n_keys;
		memcpy(keys, p->keys, sizeof(p->keys));
		p->all_default = p->all_keys = false;
		p->n_keys = 0;
		pthread_mutex_unlock(&p->lock);
		struct store *st = whm_store(p->w);
		if (st != NULL && all_default)
			bump_default(p->w, st);
		if (st != NULL && all_keys)
			bump_key(p->w, st, NULL, all_default);
		for (unsigned i = 0; st != NULL && !all_keys && i < n; i++)
			bump_key(p->w, st, keys[i], all_default);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	free(keys);
	return NULL;
}

int xfrout_push_start(struct whm *w)
{
	struct xfrout_push *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->w = w;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	int r = -pthread_create(&p->thread, NULL, run, p);
	if (r < 0) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return r;
	}
	w->xfrout_push = p;
	return 0;
}

void xfrout_push_stop(struct whm *w)
{
	struct xfrout_push *p = w->xfrout_push;
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	w->xfrout_push = NULL;
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void xfrout_push_default(struct whm *w)
{
	struct xfrout_push *p = w->xfrout_push;
	struct store *st;

	if (p == NULL) {
		if ((st = whm_store(w)) != NULL)
			bump_default(w, st);
		return;
	}
	pthread_mutex_lock(&p->lock);
	p->all_default = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void xfrout_push_key(struct whm *w, const char *name)
{
	struct xfrout_push *p = w->xfrout_push;
	struct store *st;

	if (p == NULL) {
		if ((st = whm_store(w)) != NULL)
			bump_key(w, st, name, false);
		return;
	}
	pthread_mutex_lock(&p->lock);
	bool queued = false;
	for (unsigned i = 0; i < p->n_keys && !queued; i++)
		queued = strcmp(p->keys[i], name) == 0;
	if (!queued && p->n_keys < KEYS_MAX)
		snprintf(p->keys[p->n_keys++], DNAME_TEXT_MAX, "%s", name);
	else if (!queued)
		p->all_keys = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}
