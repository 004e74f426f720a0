/* yumna-whm: the controller's context (Knot's server_t): the settings as
 * normalised once, this thread's store, the clock, and the start and stop
 * of every module in their order. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "base/err.h"
#include "base/log.h"
#include "base/memtrim.h"
#include "dnsl.h"
#include "dnssec.h"
#include "events.h"
#include "catalog.h"
#include "xfrout_push.h"
#include "history.h"
#include "secondary.h"
#include "metrics.h"
#include "sync.h"
#include "verify.h"
#include "whm.h"

static pthread_key_t store_key;
static pthread_once_t store_key_once = PTHREAD_ONCE_INIT;

static void close_store(void *p)
{
	store_close(p);
}

static void store_key_create(void)
{
	pthread_key_create(&store_key, close_store);
}

struct store *whm_store_try(struct whm *w, struct errmsg *err)
{
	pthread_once(&store_key_once, store_key_create);
	struct store *st = pthread_getspecific(store_key);
	if (st != NULL)
		return st;
	if (store_open(&w->store_conf, &st, err) < 0)
		return NULL;
	pthread_setspecific(store_key, st);
	return st;
}

struct store *whm_store(struct whm *w)
{
	static struct log_limit failures = LOG_LIMIT_INIT(WHM_FAILURE_LOG_MS);
	struct errmsg err;
	uint64_t n;
	struct store *st = whm_store_try(w, &err);
	if (st != NULL || !log_limit_pass(&failures, whm_mono_ms(), &n))
		return st;
	if (n == 1)
		log_err("cannot open the store: %s", err.text);
	else
		log_err("cannot open the store (%llu times since the last line): %s",
			(unsigned long long)n, err.text);
	return NULL;
}

/* Every thread replaces its own lost connection (store.h): after the
 * database restarted, one line for all of them. */
static void store_reconnected(void *ctx, const char *why)
{
	static struct log_limit lines = LOG_LIMIT_INIT(WHM_FAILURE_LOG_MS);
	char shown[ERRMSG_MAX];
	uint64_t n;

	(void)ctx;
	if (!log_limit_pass(&lines, whm_mono_ms(), &n))
		return;
	log_sanitize(why, shown, sizeof(shown));
	if (n == 1)
		log_notice("store: connected again (the connection was lost: %s)", shown);
	else
		log_notice("store: %llu connections connected again since the last line (the "
			   "last was lost: %s)",
			   (unsigned long long)n, shown);
}

/* clock_gettime(), not time(): glibc's time() reads the kernel's coarse
 * clock, which can still say the second before for a few milliseconds
 * after one began, so a row stamped at once could read as older than a
 * moment a client (or whm_now_ms()) saw before it. */
int64_t whm_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t whm_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t whm_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int whm_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t ca;
	int r = pthread_condattr_init(&ca);
	if (r == 0)
		r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(cond, &ca);
	pthread_condattr_destroy(&ca);
	return -r;
}

void whm_thread_stop(pthread_t thread, pthread_mutex_t *lock, pthread_cond_t *cond,
		     atomic_bool *stop)
{
	pthread_mutex_lock(lock);
	atomic_store(stop, true);
	pthread_cond_broadcast(cond);
	pthread_mutex_unlock(lock);
	pthread_join(thread, NULL);
}

struct timespec whm_mono_deadline(int64_t due_ms)
{
	return (struct timespec){ due_ms / 1000, (due_ms % 1000) * 1000000L };
}

void whm_soa_defaults(const struct whm *w, struct soa_defaults *ret)
{
	*ret = (struct soa_defaults){
		.mname = w->soa_mname,
		.rname = w->soa_rname,
		.refresh = (uint32_t)w->conf.soa_refresh,
		.retry = (uint32_t)w->conf.soa_retry,
		.expire = (uint32_t)w->conf.soa_expire,
		.minimum = (uint32_t)w->conf.soa_minimum,
		.ttl = (uint32_t)w->conf.soa_ttl,
	};
}

/* Normalise the configured SOA names and default NS list. */
static int prepare(struct whm *w, struct errmsg *err)
{
	struct errmsg derr;
	if (dname_zone_normalize(w->conf.soa_mname, w->soa_mname, &derr) < 0 ||
	    dname_zone_normalize(w->conf.soa_rname, w->soa_rname, &derr) < 0) {
		return errmsg_set(err, ERR_CONFIG, "soa-mname/soa-rname: %s", derr.text);
	}
	const char *p = w->conf.default_ns;
	while (*p != '\0') {
		char item[DNAME_TEXT_MAX];
		p += strspn(p, " ,");
		size_t n = strcspn(p, ", ");
		if (n == 0)
			break;
		if (n >= sizeof(item) || w->n_default_ns == 8)
			return errmsg_set(err, ERR_CONFIG, "default-ns: at most 8 names");
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		if (dname_zone_normalize(item, w->default_ns[w->n_default_ns], &derr) < 0)
			return errmsg_set(err, ERR_CONFIG, "default-ns: %s", derr.text);
		w->n_default_ns++;
	}
	if (w->n_default_ns == 0)
		return errmsg_set(err, ERR_CONFIG, "default-ns: at least one name server");
	char catalog[DNAME_TEXT_MAX];
	if (w->conf.catalog_zone != NULL && w->conf.catalog_zone[0] != '\0' &&
	    dname_zone_normalize(w->conf.catalog_zone, catalog, &derr) < 0)
		return errmsg_set(err, ERR_CONFIG, "catalog-zone: %s", derr.text);
	w->limits.max_rrset = (unsigned)w->conf.max_rrset_records;
	w->limits.max_records = (unsigned)w->conf.max_zone_records;
	whm_store_conf(&w->conf, &w->store_conf);
	if (metrics_new(api_routes, &w->metrics) < 0 || events_new(&w->events) < 0)
		return errmsg_set(err, -ENOMEM, "out of memory");
	w->store_conf.txn_observe = metrics_store_txn;
	w->store_conf.txn_ctx = w->metrics;
	w->store_conf.reconnected = store_reconnected;
	return 0;
}

/* The verification tree, the sync engine, the rollover thread, the
 * history's retention thread and the HTTP server, in that order: each may
 * use the ones before it. */
static int serve(struct whm *w)
{
	struct http_server_config cfg = {
		.address = w->conf.listen_address,
		.port = (unsigned)w->conf.listen_port,
		.threads = (unsigned)w->conf.http_threads,
		.connection_limit = 1024,
		.timeout_s = 30,
		.max_body = w->conf.max_body_size,
		.tls_cert_pem = w->conf.tls_cert_pem,
		.tls_key_pem = w->conf.tls_key_pem,
		.authorize = api_authorize,
		.observe = metrics_http_observe,
		.ctx = w,
	};

	int r = verify_tree_build(w, whm_store(w));
	if (r < 0) {
		log_err("cannot build the verification tree: %s", err_str(r));
		return r;
	}
	r = sync_start(w, &w->sync);
	if (r < 0)
		return r;
	r = events_watch_zones(w);
	if (r < 0)
		return r;
	r = rollover_start(w);
	if (r < 0)
		return r;
	r = history_prune_start(w);
	if (r < 0)
		return r;
	r = secondary_start(w);
	if (r < 0)
		return r;
	r = dnsl_start(w);
	if (r < 0)
		return r;
	r = xfrout_push_start(w);
	if (r < 0)
		return r;
	r = catalog_start(w);
	if (r < 0) {
		log_err("cannot keep the catalog zone: %s", err_str(r));
		return r;
	}
	r = memtrim_start(&w->memtrim);
	if (r < 0) {
		log_err("cannot start the memory trimmer: %s", err_str(r));
		return r;
	}
	r = http_server_start(&cfg, api_routes, &w->http);
	if (r < 0) {
		log_err("cannot listen on %s port %u: %s", w->conf.listen_address,
			(unsigned)w->conf.listen_port, err_str(r));
		return r;
	}
	log_notice("listening on %s port %u (%s)", w->conf.listen_address,
		   (unsigned)w->conf.listen_port, w->conf.tls_cert_pem ? "https" : "http");
	return 0;
}

int whm_init(struct whm *w, enum whm_mode mode, struct errmsg *err)
{
	err->text[0] = '\0';
	int r = prepare(w, err);
	if (r < 0 || mode == WHM_CHECK)
		return r;
	/* Open the store once here: migrations run before anything listens.
	 * What fails from here on is logged. */
	if (whm_store(w) == NULL)
		return ERR_UNAVAILABLE;
	return mode == WHM_SERVE ? serve(w) : 0;
}

void whm_deinit(struct whm *w)
{
	if (w->http != NULL) {
		log_notice("stopping");
		http_server_stop(w->http);
		w->http = NULL;
	}
	dnsl_stop(w);
	secondary_stop(w);
	history_prune_stop(w);
	rollover_stop(w);
	catalog_stop(w);
	xfrout_push_stop(w);
	sync_stop(w->sync);
	w->sync = NULL;
	memtrim_stop(w->memtrim);
	w->memtrim = NULL;
	catalog_free(w);
	pthread_once(&store_key_once, store_key_create);
	store_close(pthread_getspecific(store_key));
	pthread_setspecific(store_key, NULL);
	dns_thread_cleanup();
	metrics_free(w->metrics);
	w->metrics = NULL;
	events_free(w->events);
	w->events = NULL;
	ztree_free(w->tree);
	w->tree = NULL;
	whm_conf_free(&w->conf);
}
