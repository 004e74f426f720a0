/* yumna-whm: the controller. Owns every zone and keeps every node serving it.
 *
 *   yumna-whm -c FILE                        run
 *   yumna-whm -n -c FILE                     check the configuration
 *   yumna-whm -c FILE token create NAME ROLE  print a new API token (role admin or read)
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "dnssec.h"
#include "base/err.h"
#include "base/log.h"
#include "base/secret.h"
#include "events.h"
#include "metrics.h"
#include "sync.h"
#include "verify.h"
#include "whm.h"

static volatile sig_atomic_t stopping;
static pthread_key_t store_key;
static struct whm *the_whm;

static void on_signal(int sig)
{
	stopping = 1;
}

static void close_store(void *p)
{
	store_close(p);
}

struct store *whm_store(struct whm *w)
{
	struct store *st = pthread_getspecific(store_key);
	char err[STORE_ERR_MAX];
	if (st != NULL)
		return st;
	if (store_open(&w->store_conf, &st, err) < 0) {
		log_err("cannot open the store: %s", err);
		return NULL;
	}
	pthread_setspecific(store_key, st);
	return st;
}

int64_t whm_now(void)
{
	return (int64_t)time(NULL);
}

int64_t whm_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
static int prepare(struct whm *w, char *err)
{
	struct dns_err derr;
	if (dname_zone_normalize(w->conf.soa_mname, w->soa_mname, &derr) < 0 ||
	    dname_zone_normalize(w->conf.soa_rname, w->soa_rname, &derr) < 0) {
		snprintf(err, CONF_ERR_MAX, "soa-mname/soa-rname: %s", derr.text);
		return ERR_CONFIG;
	}
	const char *p = w->conf.default_ns;
	while (*p != '\0') {
		char item[DNAME_TEXT_MAX];
		p += strspn(p, " ,");
		size_t n = strcspn(p, ", ");
		if (n == 0)
			break;
		if (n >= sizeof(item) || w->n_default_ns == 8) {
			snprintf(err, CONF_ERR_MAX, "default-ns: at most 8 names");
			return ERR_CONFIG;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		if (dname_zone_normalize(item, w->default_ns[w->n_default_ns], &derr) < 0) {
			snprintf(err, CONF_ERR_MAX, "default-ns: %s", derr.text);
			return ERR_CONFIG;
		}
		w->n_default_ns++;
	}
	if (w->n_default_ns == 0) {
		snprintf(err, CONF_ERR_MAX, "default-ns: at least one name server");
		return ERR_CONFIG;
	}
	w->limits.max_rrset = (unsigned)w->conf.max_rrset_records;
	w->limits.max_records = (unsigned)w->conf.max_zone_records;
	whm_store_conf(&w->conf, &w->store_conf);
	if (metrics_new(api_routes, &w->metrics) < 0 || events_new(&w->events) < 0) {
		snprintf(err, CONF_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	w->store_conf.txn_observe = metrics_store_txn;
	w->store_conf.txn_ctx = w->metrics;
	return 0;
}

/* `token create NAME ROLE`: the token is printed once and stored hashed. */
static int token_create(struct whm *w, const char *name, const char *role)
{
	char token[80], hash[65];
	int64_t id;

	if (strcmp(role, "admin") != 0 && strcmp(role, "read") != 0) {
		fprintf(stderr, "yumna-whm: role must be admin or read\n");
		return 2;
	}
	struct store *st = whm_store(w);
	if (st == NULL)
		return 1;
	if (secret_random_hex(token, sizeof(token), 32) < 0 || secret_sha256_hex(token, hash) < 0)
		return 1;
	int r = store_begin(st);
	if (r == 0)
		r = store_token_insert(st, name, hash, role, &id);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		fprintf(stderr, "yumna-whm: cannot store the token: %s\n", err_str(r));
		return 1;
	}
	printf("%s\n", token);
	explicit_bzero(token, sizeof(token));
	return 0;
}

static int run(struct whm *w)
{
	struct http_server *srv;
	struct sync *sync;
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
	r = sync_start(w, &sync);
	if (r < 0)
		return r;
	r = dnssec_rollover_start(w);
	if (r < 0) {
		sync_stop(sync);
		return r;
	}
	r = http_server_start(&cfg, api_routes, &srv);
	if (r < 0) {
		log_err("cannot listen on %s port %u: %s", w->conf.listen_address,
			(unsigned)w->conf.listen_port, err_str(r));
		dnssec_rollover_stop(w);
		sync_stop(sync);
		return r;
	}
	log_notice("listening on %s port %u (%s)", w->conf.listen_address,
		   (unsigned)w->conf.listen_port, w->conf.tls_cert_pem ? "https" : "http");
	while (!stopping)
		pause();
	log_notice("stopping");
	http_server_stop(srv);
	dnssec_rollover_stop(w);
	sync_stop(sync);
	w->sync = NULL;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: yumna-whm [-n] [-s] -c FILE [token create NAME admin|read]\n");
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	bool check_only = false, use_syslog = false;
	char err[CONF_ERR_MAX];
	int c;

	while ((c = getopt(argc, argv, "c:nsh")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		case 's':
			use_syslog = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	bool token_cmd = optind + 4 == argc && strcmp(argv[optind], "token") == 0 &&
			 strcmp(argv[optind + 1], "create") == 0;
	if (path == NULL || (optind != argc && !token_cmd)) {
		usage(stderr);
		return 2;
	}

	static struct whm w;
	the_whm = &w;
	int r = whm_conf_load(path, &w.conf, err);
	if (r == 0)
		r = prepare(&w, err);
	if (r < 0) {
		fprintf(stderr, "yumna-whm: %s\n", err);
		metrics_free(w.metrics);
		events_free(w.events);
		whm_conf_free(&w.conf);
		return 1;
	}
	if (check_only) {
		printf("%s: ok\n", path);
		metrics_free(w.metrics);
		events_free(w.events);
		whm_conf_free(&w.conf);
		return 0;
	}
	enum log_level level = LOG_LVL_INFO;
	log_level_parse(w.conf.log_level, &level);
	log_init("yumna-whm", use_syslog, level);
	pthread_key_create(&store_key, close_store);

	if (token_cmd) {
		r = token_create(&w, argv[optind + 2], argv[optind + 3]);
	} else {
		struct sigaction sa = { .sa_handler = on_signal };
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		/* Open the store once here: migrations run before anything listens. */
		r = whm_store(&w) != NULL ? run(&w) : ERR_UNAVAILABLE;
		r = r < 0 ? 1 : 0;
	}
	store_close(pthread_getspecific(store_key));
	pthread_setspecific(store_key, NULL);
	dns_thread_cleanup();
	metrics_free(w.metrics);
	events_free(w.events);
	whm_conf_free(&w.conf);
	return r;
}
