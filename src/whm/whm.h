/* yumna-whm: the controller's context (whm.c) and configuration (conf.c). */
#ifndef YUMNA_WHM_H
#define YUMNA_WHM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "model/model.h"
#include "store/store.h"

struct whm_conf {
	char *listen_address;
	uint64_t listen_port;
	uint64_t http_threads;
	char *store_driver; /* "sqlite" or "mysql" */
	char *store_path;
	char *mysql_host;
	uint64_t mysql_port;
	char *mysql_socket;
	char *mysql_user;
	char *mysql_password;
	char *mysql_password_file;
	char *mysql_database;
	char *default_ns; /* comma-separated */
	uint64_t default_ttl;
	char *soa_mname;
	char *soa_rname;
	uint64_t soa_refresh, soa_retry, soa_expire, soa_minimum, soa_ttl;
	uint64_t agent_timeout_ms;
	uint64_t health_interval_ms;
	uint64_t retry_min_ms;
	uint64_t retry_max_ms;
	uint64_t reconcile_interval_s;
	uint64_t wait_timeout_ms; /* bound of ?wait=all */
	uint64_t max_body_size;
	uint64_t max_rrset_records;
	uint64_t max_zone_records;
	uint64_t max_zone_bytes; /* a zone's records as the nodes get them */
	int ui;			 /* serve the dashboard at /ui/ */
	int allow_raw_lua;	 /* admin tokens may write LUA records */
	char *tls_cert_file;
	char *tls_key_file;
	char *agent_tls_ca_file;
	char *tls_cert_pem; /* read from the files (not schema items) */
	char *tls_key_pem;
	char *agent_tls_ca_pem;
	char *log_level;
	uint64_t dnssec_propagation_delay_s; /* margin added to every rollover wait */
	uint64_t dnssec_parent_ds_ttl_s;     /* the parent's DS TTL */
	uint64_t dnssec_zsk_lifetime_days;   /* 0: no scheduled ZSK rollover */
	uint64_t dnssec_rollover_check_ms;
	char *dnssec_test_clock_offset_file; /* tests only: seconds added to the clock */
	/* Retention (history.h): a version goes when it is neither among its
	 * zone's keep-versions newest nor younger than keep-days. */
	uint64_t history_keep_versions;
	uint64_t history_keep_days;
	uint64_t history_prune_interval_s;
	uint64_t audit_keep_days; /* 0: the audit log is kept forever */
	/* The DNS listener (dnsl.h): off without an address. */
	char *dns_listen_address;
	uint64_t dns_listen_port;
	uint64_t dns_threads;
	uint64_t dns_tcp_clients;
	uint64_t dns_tcp_timeout_ms;
	uint64_t dns_max_message_size;
	char *catalog_zone; /* RFC 9432 catalog the controller keeps; "": none */
};

int whm_conf_load(const char *path, struct whm_conf *c, struct errmsg *err);
void whm_conf_free(struct whm_conf *c);
/* The store settings the configuration names. */
void whm_store_conf(const struct whm_conf *c, struct store_conf *ret);

struct sync;
struct events;
struct whm_metrics;
struct http_server;
struct dnsl;
struct whm;

/* Who hears of each zone commit (zones_on_commit in zones.h). */
struct whm_commit_observer {
	void (*fn)(struct whm *w, struct store *st, const struct store_zone *old,
		   const struct store_zone *now, void *ctx);
	void *ctx;
};
#define WHM_COMMIT_OBSERVERS 6

struct whm {
	struct whm_conf conf;
	struct store_conf store_conf;
	struct zone_limits limits;
	char soa_mname[DNAME_TEXT_MAX];
	char soa_rname[DNAME_TEXT_MAX];
	char default_ns[8][DNAME_TEXT_MAX];
	unsigned n_default_ns;
	struct sync *sync;
	struct events *events;	     /* recent cluster events */
	struct whm_metrics *metrics; /* counters for GET /metrics */
	struct rollover *rollover;
	struct history_prune *prune;	 /* the retention thread (history.h) */
	struct secondary *secondary;	 /* the secondary zones' refresh workers */
	struct catalog *catalog;	 /* the catalog zone's keeper (catalog.h) */
	struct xfrout_push *xfrout_push; /* pushes of changed transfer settings (xfrout_push.h) */
	struct memtrim *memtrim;	 /* freed memory given back (base/memtrim.h) */
	struct ztree *tree;		 /* every live zone as committed (verify.h) */
	struct http_server *http;
	struct dnsl *dnsl; /* the DNS listener, when configured */
	struct whm_commit_observer commit_observers[WHM_COMMIT_OBSERVERS];
	unsigned n_commit_observers;
};

enum whm_mode {
	WHM_CHECK, /* check the configuration: nothing is opened */
	WHM_TOOL,  /* a command over the store: the store is opened (and migrated) */
	WHM_SERVE, /* the daemon: store, verification tree, sync, rollover, HTTP */
};

/* Start the controller on the loaded configuration 'w->conf', as far as
 * 'mode' asks. A configuration error returns with a message in 'err';
 * other failures are logged and leave 'err' empty. Call whm_deinit() in
 * every case. */
int whm_init(struct whm *w, enum whm_mode mode, struct errmsg *err);
/* Stop what whm_init() started, close this thread's store, free the
 * context and its configuration. */
void whm_deinit(struct whm *w);

/* A failure that may repeat at every request or every turn of a thread (the
 * store down) is logged at once, then at most once in this time, with how
 * many times it happened since the last line (log_limit_pass()). */
#define WHM_FAILURE_LOG_MS 10000

/* This thread's store connection, opened on first use and closed when the
 * thread exits; NULL with the reason in 'err' if the database cannot be
 * reached. */
struct store *whm_store_try(struct whm *w, struct errmsg *err);
/* The same with the reason logged (WHM_FAILURE_LOG_MS). */
struct store *whm_store(struct whm *w);

/* The SOA fields of pushes (the serial comes from the zone). */
void whm_soa_defaults(const struct whm *w, struct soa_defaults *ret);

/* Current time in Unix seconds / milliseconds: for what is stored or
 * shown. The wall clock may jump (an NTP step, a clock set right by hand),
 * so waits and timers use whm_mono_ms(). */
int64_t whm_now(void);
int64_t whm_now_ms(void);
/* Milliseconds of CLOCK_MONOTONIC: deadlines inside the process. */
int64_t whm_mono_ms(void);
/* A condition variable whose timed waits take whm_mono_ms() deadlines, and
 * such a deadline as pthread_cond_timedwait() takes it. */
int whm_cond_init(pthread_cond_t *cond);
struct timespec whm_mono_deadline(int64_t due_ms);

/* Stop a module's thread that waits on 'cond' under 'lock' and ends once
 * it sees 'stop': set 'stop' under 'lock', wake every waiter, and wait for
 * 'thread' to end. The caller then destroys 'lock' and 'cond'. */
void whm_thread_stop(pthread_t thread, pthread_mutex_t *lock, pthread_cond_t *cond,
		     atomic_bool *stop);

#endif
