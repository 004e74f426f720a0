/* The history's retention (history.h): a thread that prunes old zone
 * versions and old audit entries.
 *
 * It never holds up a change: each step deletes at most PRUNE_STEP rows of
 * one zone in a transaction of its own (a writer waits for one short
 * DELETE at most), on a connection whose commits skip the WAL sync, and
 * the current version is never a candidate (it is always among the
 * newest). The zones it visits are those whose version is above
 * history-keep-versions: only they can hold more versions than that. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/log.h"
#include "history.h"

#define PRUNE_STEP 500	/* rows deleted per transaction */
#define PRUNE_ZONES 256 /* candidate zones read per page */

struct history_prune {
	struct whm *w;
	struct store *st;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_bool stop;
};

static bool stopping(const struct whm *w)
{
	return w->prune != NULL && atomic_load(&w->prune->stop);
}

struct zone_page {
	int64_t id[PRUNE_ZONES];
	unsigned n;
};

static int collect_zone(int64_t id, void *ctx)
{
	struct zone_page *p = ctx;
	p->id[p->n++] = id;
	return 0;
}

static int prune_versions(struct whm *w, struct store *st, uint64_t *ret)
{
	unsigned keep = (unsigned)w->conf.history_keep_versions;
	int64_t older = whm_now() - (int64_t)w->conf.history_keep_days * 86400;
	struct zone_page page;
	int64_t after = 0;
	int r;

	do {
		page.n = 0;
		r = store_version_candidates(st, after, keep, PRUNE_ZONES, collect_zone, &page);
		for (unsigned i = 0; r == 0 && i < page.n && !stopping(w); i++) {
			uint64_t n;
			do {
				r = store_version_prune(st, page.id[i], keep, older, PRUNE_STEP,
							&n);
				*ret += r == 0 ? n : 0;
			} while (r == 0 && n == PRUNE_STEP && !stopping(w));
			after = page.id[i];
		}
	} while (r == 0 && page.n == PRUNE_ZONES && !stopping(w));
	return r;
}

static int prune_audit(struct whm *w, struct store *st, uint64_t *ret)
{
	int64_t older = whm_now() - (int64_t)w->conf.audit_keep_days * 86400;
	uint64_t n;
	int r;

	if (w->conf.audit_keep_days == 0)
		return 0;
	do {
		r = store_audit_prune(st, older, PRUNE_STEP, &n);
		*ret += r == 0 ? n : 0;
	} while (r == 0 && n == PRUNE_STEP && !stopping(w));
	return r;
}

int history_prune_pass(struct whm *w, struct store *st, uint64_t *ret_versions, uint64_t *ret_audit)
{
	uint64_t versions = 0, audit = 0;
	int r = prune_versions(w, st, &versions);
	int ra = prune_audit(w, st, &audit);
	if (versions > 0 || audit > 0)
		log_info("history: pruned %llu versions and %llu audit entries",
			 (unsigned long long)versions, (unsigned long long)audit);
	if (ret_versions != NULL)
		*ret_versions = versions;
	if (ret_audit != NULL)
		*ret_audit = audit;
	return r < 0 ? r : ra;
}

static void *prune_main(void *arg)
{
	struct history_prune *p = arg;
	struct whm *w = p->w;

	pthread_mutex_lock(&p->lock);
	while (!atomic_load(&p->stop)) {
		pthread_mutex_unlock(&p->lock);
		int r = history_prune_pass(w, p->st, NULL, NULL);
		if (r < 0)
			log_warn("history: pruning failed: %s", err_str(r));
		pthread_mutex_lock(&p->lock);
		int64_t due = whm_now_ms() + (int64_t)w->conf.history_prune_interval_s * 1000;
		struct timespec ts = { due / 1000, (due % 1000) * 1000000L };
		while (!atomic_load(&p->stop) && whm_now_ms() < due)
			if (pthread_cond_timedwait(&p->cond, &p->lock, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int history_prune_start(struct whm *w)
{
	struct store_conf conf = w->store_conf;
	struct errmsg err;
	struct history_prune *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->w = w;
	/* Bookkeeping that is redone if a crash loses it: no WAL sync. */
	conf.relaxed = true;
	int r = store_open(&conf, &p->st, &err);
	if (r < 0) {
		log_err("history: cannot open the store: %s", err.text);
		free(p);
		return r;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	w->prune = p;
	if (pthread_create(&p->thread, NULL, prune_main, p) != 0) {
		w->prune = NULL;
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		store_close(p->st);
		free(p);
		return -EAGAIN;
	}
	return 0;
}

void history_prune_stop(struct whm *w)
{
	struct history_prune *p = w->prune;
	if (p == NULL)
		return;
	whm_thread_stop(p->thread, &p->lock, &p->cond, &p->stop);
	w->prune = NULL;
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	store_close(p->st);
	free(p);
}
