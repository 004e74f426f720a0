/* yumna-agent: keeps the PowerDNS server of one DNS node serving exactly
 * the zones the controller pushes. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "api.h"
#include "base/memtrim.h"
#include "apply.h"
#include "backend.h"
#include "base/addrlist.h"
#include "base/err.h"
#include "base/log.h"
#include "init.h"
#include "repurge.h"
#include "pdns.h"
#include "supervise.h"
#include "verify.h"
#include "xfrl.h"
#include "xfrn.h"

#define HEALTH_INTERVAL_MS 1000

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: yumna-agent [-n] [-s] -c FILE\n"
		   "  -c FILE        configuration file (key = value; see etc/agent.conf.sample)\n"
		   "  -n             check the configuration and exit\n"
		   "  -s             log to syslog instead of stderr\n"
		   "  -h, --help     this text\n"
		   "  -V, --version  the version\n");
}

/* The health loop: notice PowerDNS going down or coming back (logging only
 * the change), purge caches left dirty while it was down. Restarting a
 * managed pdns_server (and reaping it) is the supervisor's (supervise.c). */
static void health_tick(struct agent *a)
{
	char version[64];
	int r = pdns_ping(a->pdns, version, sizeof(version));
	bool was = atomic_load(&a->pdns_up);

	pthread_mutex_lock(&a->state_lock);
	if (r == 0) {
		snprintf(a->pdns_version, sizeof(a->pdns_version), "%s", version);
		a->pdns_error[0] = '\0';
	} else {
		pdns_last_error(a->pdns_error, sizeof(a->pdns_error));
	}
	pthread_mutex_unlock(&a->state_lock);
	atomic_store(&a->pdns_up, r == 0);
	if (was != (r == 0))
		log_notice("powerdns state %s -> %s", was ? "up" : "down", r == 0 ? "up" : "down");
	if (r == 0)
		apply_flush_dirty(a);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int run(struct agent *a)
{
	struct http_server *srv;
	struct addrlist allow;
	const char *msg;
	size_t at, len;

	/* Checked when the file was read: this cannot fail. */
	if (addrlist_parse(a->conf.allow_from, &allow, &msg, &at, &len) < 0) {
		log_err("allow-from %s", msg);
		return ERR_CONFIG;
	}
	struct http_server_config cfg = {
		.address = a->conf.listen_address,
		.port = (unsigned)a->conf.listen_port,
		.threads = (unsigned)a->conf.http_threads,
		.connection_limit = 256,
		.timeout_s = 30,
		.max_body = a->conf.max_body_size,
		.allow = &allow,
		.per_address_limit = (unsigned)a->conf.max_connections_per_address,
		.header_timeout_ms = (unsigned)a->conf.header_timeout_ms,
		.body_min_rate = (unsigned)a->conf.body_min_rate,
		.body_grace_ms = (unsigned)a->conf.body_grace_ms,
		.tls_cert_pem = a->conf.tls_cert_pem,
		.tls_key_pem = a->conf.tls_key_pem,
		.authorize = api_authorize,
		.ctx = a,
	};

	api_configure(a);
	int r = http_server_start(&cfg, api_routes, &srv);
	if (r < 0) {
		log_err("cannot listen on %s port %u: %s", a->conf.listen_address,
			(unsigned)a->conf.listen_port, err_str(r));
		return r;
	}
	log_notice("listening on %s port %u (%s), powerdns %s", a->conf.listen_address,
		   (unsigned)a->conf.listen_port, a->conf.tls_cert_pem ? "https" : "http",
		   atomic_load(&a->pdns_up) ? "up" : "down");
	while (!stopping) {
		for (long t = 0; t < HEALTH_INTERVAL_MS && !stopping; t += 100)
			sleep_ms(100);
		if (!stopping)
			health_tick(a);
	}
	log_notice("stopping (powerdns keeps running)");
	http_server_stop(srv);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	bool check_only = false, use_syslog = false;
	struct errmsg err;
	int oi, c = conf_daemon_options(argc, argv, usage, &path, &check_only, &use_syslog, &oi);

	if (c == CONF_DAEMON_VERSION) {
		printf("yumna-agent %s\n", YUMNA_VERSION);
		return 0;
	}
	if (c >= 0)
		return c;
	if (path == NULL || oi != argc) {
		usage(stderr);
		return 2;
	}

	static struct agent a;
	int r = agent_conf_load(path, &a.conf, &err);
	if (r < 0) {
		fprintf(stderr, "yumna-agent: %s\n", err.text);
		agent_conf_free(&a.conf);
		return 1;
	}
	if (check_only) {
		printf("%s: ok\n", path);
		agent_conf_free(&a.conf);
		return 0;
	}
	enum log_level level = LOG_LVL_INFO;
	log_level_parse(a.conf.log_level, &level);
	log_init("yumna-agent", use_syslog, level);

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&a.db_lock, NULL);
	pthread_mutex_init(&a.state_lock, NULL);
	pthread_mutex_init(&a.pdns_lock, NULL);

	r = init_prepare(&a, &err);
	if (r == 0)
		apply_count_zones(&a);
	if (r == 0) {
		r = ztree_new(&a.tree);
		if (r == 0)
			r = backend_tree_attach(a.db, a.tree);
		if (r < 0)
			errmsg_set(&err, 0, "cannot read the zone states: %s", err_str(r));
	}
	atomic_store(&a.dirty, true); /* purge anything a crash left unpurged */
	if (r == 0 && init_powerdns(&a, &err) < 0)
		log_err("%s", err.text); /* keep running: /health says why, initialize retries */
	else if (r == 0)
		/* Before the API answers: a PowerDNS that kept running while the
		 * agent was down may still cache what a commit replaced. */
		apply_flush_dirty(&a);
	struct supervise *sup = NULL;
	if (r == 0 && agent_is_managed(&a)) {
		r = supervise_start(&a, &sup);
		if (r < 0)
			errmsg_set(&err, 0, "cannot start the powerdns supervisor: %s", err_str(r));
	}
	struct verify *ver = NULL;
	if (r == 0) {
		r = verify_start(&a, (unsigned)a.conf.verify_interval, &ver);
		if (r < 0)
			errmsg_set(&err, 0, "cannot start the verifier: %s", err_str(r));
	}
	struct memtrim *trim = NULL;
	if (r == 0 && (r = memtrim_start(&trim)) < 0)
		errmsg_set(&err, 0, "cannot start the memory trimmer: %s", err_str(r));
	if (r == 0 && (r = xfrn_start(&a, &a.xfrn)) < 0)
		errmsg_set(&err, 0, "cannot start the notifier: %s", err_str(r));
	if (r == 0)
		r = xfrl_start(&a, &a.xfrl, &err);
	if (r < 0)
		log_err("%s", err.text);
	else
		r = run(&a);

	xfrl_stop(a.xfrl);
	xfrn_stop(a.xfrn);
	memtrim_stop(trim);
	verify_stop(ver);
	supervise_stop(sup);
	repurge_stop(a.repurge);
	pdns_free(a.pdns);
	backend_close(a.db);
	ztree_free(a.tree);
	dns_thread_cleanup();
	agent_conf_free(&a.conf);
	return r < 0 ? 1 : 0;
}
