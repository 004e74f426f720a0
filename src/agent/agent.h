/* yumna-agent: shared state of the node agent's modules. */
#ifndef YUMNA_AGENT_H
#define YUMNA_AGENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "base/addrlist.h"
#include "base/err.h"
#include "conf/conf.h"
#include "dns/dns.h"

struct agent_conf {
	char *secret;
	char *secret_file;
	char *metrics_token; /* optional; accepted on GET /metrics only */
	char *metrics_token_file;
	char *tls_cert_file;
	char *tls_key_file;
	char *tls_cert_pem; /* read from the files (not schema items) */
	char *tls_key_pem;
	char *listen_address;
	uint64_t listen_port;
	uint64_t http_threads;
	char *allow_from; /* client addresses served; others are refused at accept */
	uint64_t max_connections_per_address;
	uint64_t header_timeout_ms;
	uint64_t body_min_rate; /* bytes/s after body_grace_ms; 0: off */
	uint64_t body_grace_ms;
	char *mode; /* "managed" or "external" */
	char *data_dir;
	char *dns_address;
	struct addrlist dns_addrs; /* dns-address parsed (dnsaddr.h), not a schema item */
	uint64_t dns_port;
	uint64_t transfer_port;	       /* 0: no transfer listener (xfrl.h) */
	uint64_t transfer_tcp_clients; /* its TCP connections at once */
	uint64_t transfer_tcp_clients_per_address;
	uint64_t pdns_api_port;
	char *pdns_server;
	char *pdns_schema;
	char *pdns_api_url;	 /* external mode */
	char *pdns_api_key;	 /* external mode */
	char *pdns_api_key_file; /* external mode */
	char *gsqlite3_database; /* external mode */
	char *backend;		 /* "gsqlite3" or "gmysql" */
	char *gmysql_host;	 /* NULL: the local server's default socket */
	uint64_t gmysql_port;
	char *gmysql_socket;
	char *gmysql_user;
	char *gmysql_password;
	char *gmysql_password_file;
	char *gmysql_dbname;
	char *sync_mode; /* "full" or "normal" */
	char *soa_mname;
	char *soa_rname;
	uint64_t soa_refresh, soa_retry, soa_expire, soa_minimum, soa_ttl;
	char *also_notify;
	char *geoip_database;		     /* GeoIP file for LUA country()/continent(), or NULL */
	uint64_t lua_health_checks_interval; /* seconds between LUA health checks */
	int lua_shared_state;		     /* enable-lua-records=shared (CONF_BOOL) */
	uint64_t pdns_query_cache_entries;   /* PowerDNS's max-cache-entries */
	uint64_t pdns_distributor_threads;   /* PowerDNS's distributor-threads; 0: 3 */
	uint64_t pdns_tcp_clients;	     /* PowerDNS's max-tcp-connections ... */
	uint64_t pdns_tcp_clients_per_address; /* ... -per-client */
	uint64_t max_body_size;
	uint64_t max_batch_size;
	uint64_t max_zones_per_batch;
	uint64_t max_rrset_records;
	uint64_t max_zone_records;
	uint64_t verify_interval;	 /* seconds per pass of the background verifier */
	uint64_t pdns_restart_delay_min; /* ms, managed mode: first restart delay */
	uint64_t pdns_restart_delay_max; /* ms: cap of the doubling delay */
	char *log_level;
};

/* Load and check 'path'. Fills 'err' with "file:line: message" on failure. */
int agent_conf_load(const char *path, struct agent_conf *c, struct errmsg *err);
void agent_conf_free(struct agent_conf *c);

struct backend;
struct pdns;
struct repurge;
struct xfrl;
struct xfrn;

/* A latency histogram: one bucket per bound plus one above the last; each
 * observation lands in one bucket (made cumulative when rendered, so a
 * scrape racing an observation still sees consistent counts). */
#define AGENT_NBOUNDS 8
struct agent_histogram {
	atomic_ullong bucket[AGENT_NBOUNDS + 1];
	atomic_ullong sum_us;
};

/* Counters exported on /metrics. */
struct agent_stats {
	atomic_ullong pushes_applied;
	atomic_ullong pushes_unchanged;
	atomic_ullong pushes_rejected;
	atomic_ullong pushes_failed;
	atomic_ullong batches;
	atomic_ullong batch_zones; /* zones carried by the batches counted in 'batches' */
	atomic_ullong deletes;
	atomic_ullong drift;		      /* zones found not to hold what was applied */
	struct agent_histogram push_latency;  /* AGENT_PUSH_BOUNDS */
	struct agent_histogram batch_latency; /* AGENT_BATCH_BOUNDS */
	atomic_ullong pdns_restarts;	      /* pdns_server starts by the supervisor */
};

/* One zone: a millisecond to half a second. */
#define AGENT_PUSH_BOUNDS                                         \
	{                                                         \
		0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5 \
	}
/* A batch carries one zone to a full node's worth (a million zones). */
#define AGENT_BATCH_BOUNDS                           \
	{                                            \
		0.01, 0.05, 0.25, 1, 5, 30, 120, 600 \
	}

struct agent {
	struct agent_conf conf;
	struct zone_limits limits;
	char soa_mname[DNAME_TEXT_MAX];
	char soa_rname[DNAME_TEXT_MAX];
	bool notify_enabled;
	char axfr_ips[1100]; /* ",addr,..." of the also-notify hosts */

	char db_path[4096];
	char api_url[256];
	char api_key[80]; /* managed mode: random, written into pdns.conf */

	struct backend *db; /* writer connection, under db_lock */
	pthread_mutex_t db_lock;
	struct pdns *pdns;
	struct repurge *repurge; /* the second purge after each publish */
	struct xfrl *xfrl;	 /* the transfer port, or NULL */
	struct xfrn *xfrn;	 /* NOTIFYs to the zones' own secondaries */
	struct ztree *tree;	 /* what the node serves, for the controller's comparison */

	atomic_ullong zones; /* zones served, refreshed after every write */
	atomic_bool pdns_up;
	atomic_bool dirty;     /* some zone's caches still need a purge */
	char pdns_version[64]; /* under state_lock */
	char pdns_error[160];  /* under state_lock */
	pthread_mutex_t state_lock;

	/* Managed mode: starting, killing and reaping pdns_server (init.c,
	 * supervise.c) happen under pdns_lock. pdns_pid is the pdns_server the
	 * agent started and has not reaped yet, 0 if none. */
	pthread_mutex_t pdns_lock;
	pid_t pdns_pid;

	struct agent_stats stats;
};

/* Monotonic seconds, for the latency histograms. */
static inline double agent_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Record the latency of one applied push. */
void agent_stats_observe(struct agent_stats *s, double seconds);

/* Record one sync-batch answered with success: how long it took, from the
 * first byte of its body to its zones served, and how many zones it
 * carried. */
void agent_stats_observe_batch(struct agent_stats *s, double seconds, uint64_t zones);

/* Managed mode: the agent writes pdns.conf and runs pdns_server. */
static inline bool agent_is_managed(const struct agent *a)
{
	return strcmp(a->conf.mode, "managed") == 0;
}

#endif
