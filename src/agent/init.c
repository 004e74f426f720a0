#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/secret.h"
#include "dnsaddr.h"
#include "init.h"
#include "repurge.h"
#include "pdns.h"

#define START_TIMEOUT_MS 15000

static bool managed(const struct agent *a)
{
	return strcmp(a->conf.mode, "managed") == 0;
}

static bool gmysql(const struct agent *a)
{
	return strcmp(a->conf.backend, "gmysql") == 0;
}

static int path_join(char *out, size_t len, const char *dir, const char *name)
{
	return (size_t)snprintf(out, len, "%s/%s", dir, name) < len ? 0 : -ENAMETOOLONG;
}

static int ensure_dir(const char *path, struct errmsg *err)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		errmsg_set(err, 0, "cannot create '%s': %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* In managed mode data-dir holds PowerDNS's database (DNSSEC private keys,
 * TSIG secrets), its config (API key, gmysql-password) and its log. The
 * agent creates data-dir 0700 and the database 0600 when missing, but never
 * loosens or tightens what it finds: data-dir is a path the operator chose,
 * and a chmod there could cut off whatever else uses it, or hide a mistake
 * such as data-dir = /var/lib. It refuses to start instead. 'path' may be
 * missing unless it is data-dir. */
static int check_private(const char *path, bool dir, struct errmsg *err)
{
	struct stat sb;

	if (stat(path, &sb) < 0) {
		int e = errno;
		if (e == ENOENT && !dir)
			return 0;
		errmsg_set(err, 0, "cannot stat '%s': %s", path, strerror(e));
		return -e;
	}
	if (dir && !S_ISDIR(sb.st_mode))
		return errmsg_set(err, ERR_CONFIG, "data-dir '%s' is not a directory", path);
	if (!dir && !S_ISREG(sb.st_mode))
		return errmsg_set(err, ERR_CONFIG, "'%s' is not a regular file", path);
	if ((sb.st_mode & 077) != 0)
		return errmsg_set(err, ERR_CONFIG,
				  "%s '%s' is accessible by group or others (mode %04o) and holds "
				  "powerdns's keys: chmod %s it",
				  dir ? "data-dir" : "database", path,
				  (unsigned)(sb.st_mode & 07777), dir ? "700" : "600");
	return 0;
}

/* data-dir, and the gsqlite3 database with its -wal and -shm files (SQLite
 * creates those with the database's mode, but keeps the mode of files an
 * earlier run left). */
static int check_managed_files(const struct agent *a, struct errmsg *err)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char path[4300];

	int r = check_private(a->conf.data_dir, true, err);
	for (size_t i = 0; r == 0 && !gmysql(a) && i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", a->db_path, suffix[i]) >=
		    sizeof(path))
			return -ENAMETOOLONG;
		r = check_private(path, false, err);
	}
	return r;
}

/* Write 'data' to 'path' (mode 0600) through a temporary file and rename,
 * so a reader never sees half a file. */
static int write_private_file(const char *path, const char *data, size_t len)
{
	char tmp[4200];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = 0;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* The random key of PowerDNS's local API, kept across agent restarts so a
 * restarted agent can still talk to the PowerDNS it started before. */
static int load_api_key(struct agent *a, struct errmsg *err)
{
	char path[4200];
	int r = path_join(path, sizeof(path), a->conf.data_dir, "pdns-api-key");
	if (r < 0)
		return r;
	FILE *f = fopen(path, "re");
	if (f != NULL) {
		size_t n = fread(a->api_key, 1, sizeof(a->api_key) - 1, f);
		fclose(f);
		a->api_key[n] = '\0';
		if (n == 64 && secret_file_is_private(path) == 0)
			return 0;
	}
	r = secret_random_hex(a->api_key, sizeof(a->api_key), 32);
	if (r == 0)
		r = write_private_file(path, a->api_key, strlen(a->api_key));
	if (r < 0)
		errmsg_set(err, 0, "cannot write '%.300s': %s", path, strerror(-r));
	return r;
}

/* PowerDNS reads the database the agent writes, DNSSEC data included. */
static int pdns_conf_backend(const struct agent *a, struct buf *c)
{
	const struct agent_conf *k = &a->conf;
	if (!gmysql(a))
		return buf_printf(c, "launch=gsqlite3\ngsqlite3-database=%s\ngsqlite3-dnssec=yes\n",
				  a->db_path);
	int r = buf_printf(c,
			   "launch=gmysql\ngmysql-port=%u\ngmysql-user=%s\ngmysql-dbname=%s\n"
			   "gmysql-dnssec=yes\n",
			   (unsigned)k->gmysql_port, k->gmysql_user, k->gmysql_dbname);
	if (r == 0 && k->gmysql_host != NULL)
		r = buf_printf(c, "gmysql-host=%s\n", k->gmysql_host);
	if (r == 0 && k->gmysql_socket != NULL)
		r = buf_printf(c, "gmysql-socket=%s\n", k->gmysql_socket);
	if (r == 0 && k->gmysql_password != NULL)
		r = buf_printf(c, "gmysql-password=%s\n", k->gmysql_password);
	return r;
}

/* LUA records (routing policies): health checks every
 * 'lua-health-checks-interval' seconds, and with
 * 'geoip-database' the geoip backend beside the SQL one, with EDNS Client
 * Subnet, for country() and continent(). */
static int pdns_conf_lua(const struct agent *a, struct buf *c)
{
	char zones[4200];
	/* A zone that starts using LUA records says so in its
	 * ENABLE-LUA-RECORDS; PowerDNS keeps metadata for a minute, but the
	 * control socket's purge after every push empties that cache too. */
	int r = buf_printf(c, "lua-health-checks-interval=%llu\n",
			   (unsigned long long)a->conf.lua_health_checks_interval);
	/* One Lua state for every LUA answer: PowerDNS 4.7 otherwise builds
	 * one per query (measured: about 300 against 17,000 answers a second
	 * on one node), but 'shared' turns LUA records on node-wide, which
	 * only the controller writes (bench/run.py --only steer) */
	if (r == 0 && a->conf.lua_shared_state)
		r = buf_puts(c, "enable-lua-records=shared\n");
	if (r < 0 || a->conf.geoip_database == NULL)
		return r;
	/* the geoip backend serves no zone of its own: an empty zones file */
	r = path_join(zones, sizeof(zones), a->conf.data_dir, "geoip-zones.yaml");
	if (r == 0)
		r = write_private_file(zones, "domains: []\n", 12);
	if (r == 0)
		r = buf_printf(c,
			       "launch+=geoip\ngeoip-database-files=%s\ngeoip-zones-file=%s\n"
			       "edns-subnet-processing=yes\n",
			       a->conf.geoip_database, zones);
	return r;
}

/* A query PowerDNS cannot answer from its packet cache (a LUA record's
 * answer always; a name that does not exist; any other once a purge
 * emptied the cache) goes from the thread that received it to a
 * distributor thread and back. With one distributor the receiving thread
 * would ask the backend itself: LUA answers come faster that way, but
 * every cached answer then waits behind the uncached ones, so a flood of
 * random names or one zone's steered name slows every zone the node
 * serves (bench/run.py --only steer measures a static name's latency
 * under both floods). PowerDNS's default of 3, whatever the backend. */
static unsigned distributor_threads(const struct agent *a)
{
	return a->conf.pdns_distributor_threads > 0 ? (unsigned)a->conf.pdns_distributor_threads
						    : 3;
}

static int write_pdns_conf(struct agent *a, struct errmsg *err)
{
	char path[4200], run[4200];
	struct buf c;
	int r;

	char local[DNSADDR_MAX * (INET6_ADDRSTRLEN + 2)];
	r = dnsaddr_text(&a->conf.dns_addrs, local, sizeof(local));
	if (r < 0)
		return errmsg_set(err, r, "dns-address: %s", strerror(-r));
	buf_init(&c, 1u << 16);
	path_join(run, sizeof(run), a->conf.data_dir, "run");
	r = buf_puts(
	    &c,
	    "# written by yumna-agent at every start; edit the agent's configuration instead\n");
	if (r == 0)
		r = pdns_conf_backend(a, &c);
	if (r == 0)
		r = buf_printf(&c,
			       "local-address=%s\n"
			       "local-port=%u\n"
			       "api=yes\n"
			       "api-key=%s\n"
			       "webserver=yes\n"
			       "webserver-address=127.0.0.1\n"
			       "webserver-port=%u\n"
			       "webserver-allow-from=127.0.0.1,::1\n"
			       "webserver-loglevel=none\n"
			       "security-poll-suffix=\n"
			       "socket-dir=%s\n"
			       "guardian=no\n"
			       "daemon=no\n"
			       "disable-syslog=yes\n"
			       "log-timestamp=no\n"
			       "zone-cache-refresh-interval=0\n"
			       "default-api-rectify=yes\n"
			       /* CDS (SHA-256) and CDNSKEY for every signed zone
				* (RFC 7344), without a metadata write per zone. */
			       "default-publish-cds=2\n"
			       "default-publish-cdnskey=1\n",
			       local, (unsigned)a->conf.dns_port, a->api_key,
			       (unsigned)a->conf.pdns_api_port, run);
	/* Always a primary: a zone with secondaries of its own (a push's
	 * zone.transfer) is a MASTER zone that PowerDNS notifies of changes.
	 * Only the addresses named for it (ALSO-NOTIFY, also-notify) are
	 * told, not whatever the zone's NS records resolve to. */
	if (r == 0)
		r = buf_puts(&c, "primary=yes\nonly-notify=\n");
	/* PowerDNS 4.7 reserves its query cache at this size, and every purge
	 * of a zone ('purge ZONE$', after each push) costs it in proportion:
	 * about 0.58 ms of its CPU at its default of 1,000,000 entries, 0.17 ms
	 * at 100,000 (measured on 2 cores). */
	if (r == 0)
		r = buf_printf(&c, "max-cache-entries=%llu\n",
			       (unsigned long long)a->conf.pdns_query_cache_entries);
	if (r == 0)
		r = buf_printf(&c, "distributor-threads=%u\n", distributor_threads(a));
	/* PowerDNS's defaults let one address hold all its 20 TCP connections
	 * (one that sends a byte every few seconds stays): every TCP question,
	 * the transfer relay's among them, then went unanswered. A
	 * connection's life is bounded too; a question over TCP, or a
	 * transfer to the relay, takes well under a minute. */
	if (r == 0)
		r = buf_printf(&c,
			       "max-tcp-connections=%llu\n"
			       "max-tcp-connections-per-client=%llu\n"
			       "max-tcp-connection-duration=60\n",
			       (unsigned long long)a->conf.pdns_tcp_clients,
			       (unsigned long long)a->conf.pdns_tcp_clients_per_address);
	if (r == 0)
		r = pdns_conf_lua(a, &c);
	if (r == 0 && a->notify_enabled)
		r = buf_printf(&c, "also-notify=%s\nallow-axfr-ips=127.0.0.1,::1%s\n",
			       a->conf.also_notify, a->axfr_ips);
	if (r == 0 && !a->notify_enabled)
		r = buf_puts(&c, "allow-axfr-ips=127.0.0.1,::1\n");
	if (r == 0)
		r = path_join(path, sizeof(path), a->conf.data_dir, "pdns.conf");
	if (r == 0)
		r = write_private_file(path, c.data, c.len);
	explicit_bzero(c.data, c.len);
	buf_free(&c);
	if (r < 0)
		errmsg_set(err, 0, "cannot write pdns.conf in '%s': %s", a->conf.data_dir,
			   strerror(-r));
	return r;
}

/* also-notify takes addresses only ("192.0.2.1" or "192.0.2.1:5300"); they
 * go into pdns.conf, so nothing else may pass. */
static int check_notify_list(const char *list, struct errmsg *err)
{
	for (const char *p = list; *p != '\0'; p++) {
		bool ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
			  (*p >= 'A' && *p <= 'F') || *p == '.' || *p == ':' || *p == ',' ||
			  *p == ' ' || *p == '[' || *p == ']';
		if (!ok)
			return errmsg_set(
			    err, ERR_CONFIG,
			    "'also-notify' takes IP addresses with optional ports, comma "
			    "separated");
	}
	return 0;
}

/* The addresses of the also-notify list without their ports, as
 * ",addr,addr" for allow-axfr-ips: the secondaries we notify may transfer. */
static int secondaries_addresses(const char *list, char *out, size_t len, struct errmsg *err)
{
	char item[80];
	size_t o = 0;

	out[0] = '\0';
	for (const char *p = list; *p != '\0';) {
		p += strspn(p, " ,");
		size_t n = strcspn(p, ",");
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == 0)
			break;
		if (n >= sizeof(item))
			goto bad;
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		char *addr = item, *colon = strrchr(item, ':');
		if (item[0] == '[') {
			char *close = strchr(item, ']');
			if (close == NULL)
				goto bad;
			*close = '\0';
			addr = item + 1;
		} else if (colon != NULL && strchr(item, ':') == colon) {
			*colon = '\0'; /* IPv4 with a port */
		}
		unsigned char bin[16];
		if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
			goto bad;
		int w = snprintf(out + o, len - o, ",%s", addr);
		if (w < 0 || (size_t)w >= len - o)
			goto bad;
		o += (size_t)w;
	}
	return 0;
bad:
	return errmsg_set(err, ERR_CONFIG,
			  "'also-notify' takes IP addresses with optional ports, comma separated");
}

static int normalize_soa_names(struct agent *a, struct errmsg *err)
{
	struct errmsg derr;
	int r = dname_zone_normalize(a->conf.soa_mname, a->soa_mname, &derr);
	if (r == 0)
		r = dname_zone_normalize(a->conf.soa_rname, a->soa_rname, &derr);
	if (r < 0)
		errmsg_set(err, 0, "soa-mname/soa-rname: %s", derr.text);
	return r;
}

void agent_soa_defaults(const struct agent *a, struct soa_defaults *ret)
{
	*ret = (struct soa_defaults){
		.mname = a->soa_mname,
		.rname = a->soa_rname,
		.refresh = (uint32_t)a->conf.soa_refresh,
		.retry = (uint32_t)a->conf.soa_retry,
		.expire = (uint32_t)a->conf.soa_expire,
		.minimum = (uint32_t)a->conf.soa_minimum,
		.ttl = (uint32_t)a->conf.soa_ttl,
	};
}

int init_prepare(struct agent *a, struct errmsg *err)
{
	int r = normalize_soa_names(a, err);
	if (r < 0)
		return r;
	a->notify_enabled = a->conf.also_notify != NULL && a->conf.also_notify[0] != '\0';
	if (a->notify_enabled && (r = check_notify_list(a->conf.also_notify, err)) < 0)
		return r;
	if (a->notify_enabled && (r = secondaries_addresses(a->conf.also_notify, a->axfr_ips,
							    sizeof(a->axfr_ips), err)) < 0)
		return r;
	a->limits.max_rrset = (unsigned)a->conf.max_rrset_records;
	a->limits.max_records = (unsigned)a->conf.max_zone_records;

	r = ensure_dir(a->conf.data_dir, err);
	if (r < 0)
		return r;
	if (managed(a)) {
		char run[4200];
		if (!gmysql(a))
			r = path_join(a->db_path, sizeof(a->db_path), a->conf.data_dir,
				      "pdns.sqlite3");
		if (r == 0)
			r = check_managed_files(a, err);
		if (r == 0)
			r = path_join(run, sizeof(run), a->conf.data_dir, "run");
		if (r == 0)
			r = ensure_dir(run, err);
		if (r == 0)
			r = load_api_key(a, err);
		snprintf(a->api_url, sizeof(a->api_url), "http://127.0.0.1:%u",
			 (unsigned)a->conf.pdns_api_port);
	} else {
		if (!gmysql(a))
			snprintf(a->db_path, sizeof(a->db_path), "%s", a->conf.gsqlite3_database);
		snprintf(a->api_url, sizeof(a->api_url), "%s", a->conf.pdns_api_url);
		snprintf(a->api_key, sizeof(a->api_key), "%s", a->conf.pdns_api_key);
	}
	if (r < 0)
		return r;

	struct backend_conf bc = {
		.kind = a->conf.backend,
		.path = a->db_path,
		/* Only managed mode owns the file; in external mode it is the
		 * database of a PowerDNS someone else runs. */
		.private_file = managed(a) && !gmysql(a),
		.sync_full = strcmp(a->conf.sync_mode, "full") == 0,
		.host = a->conf.gmysql_host,
		.port = (unsigned)a->conf.gmysql_port,
		.socket = a->conf.gmysql_socket,
		.user = a->conf.gmysql_user,
		.password = a->conf.gmysql_password,
		.dbname = a->conf.gmysql_dbname,
	};
	r = backend_open(&bc, &a->db);
	if (r == 0)
		r = backend_schema_ensure(a->db, a->conf.pdns_schema);
	if (r < 0) {
		if (gmysql(a))
			errmsg_set(err, 0, "gmysql database '%.64s': %s", bc.dbname, err_str(r));
		else
			errmsg_set(err, 0, "database '%.300s': %s", a->db_path, err_str(r));
		return r;
	}
	/* A pdns_server the agent starts keeps its control socket in 'run'
	 * (socket-dir): cache purges go there. */
	char control[4200];
	bool ctl = managed(a) && path_join(control, sizeof(control), a->conf.data_dir,
					   "run/pdns.controlsocket") == 0;
	r = pdns_new(a->api_url, a->api_key, &a->pdns);
	if (r == 0 && ctl)
		r = pdns_set_control(a->pdns, control);
	if (r == 0)
		r = repurge_start(a->api_url, a->api_key, ctl ? control : NULL, &a->repurge);
	if (r < 0)
		errmsg_set(err, 0, "powerdns api client: %s", err_str(r));
	return r;
}

static int spawn_pdns(struct agent *a, pid_t *ret_pid, struct errmsg *err)
{
	char confdir_arg[4200], log_path[4200];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	extern char **environ;

	if (access(a->conf.pdns_server, X_OK) < 0) {
		errmsg_set(
		    err, 0,
		    "pdns_server not found at '%s' (install pdns-server and pdns-backend-%s)",
		    a->conf.pdns_server, gmysql(a) ? "mysql" : "sqlite3");
		return ERR_UNAVAILABLE;
	}
	snprintf(confdir_arg, sizeof(confdir_arg), "--config-dir=%s", a->conf.data_dir);
	path_join(log_path, sizeof(log_path), a->conf.data_dir, "pdns.log");
	char *const argv[] = { a->conf.pdns_server, confdir_arg, NULL };

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawnattr_init(&attr);
	/* Its own session: signals aimed at the agent's group leave DNS up. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	int rc = posix_spawn(ret_pid, a->conf.pdns_server, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		errmsg_set(err, 0, "cannot start '%.300s': %s", a->conf.pdns_server, strerror(rc));
		return -rc;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int init_powerdns(struct agent *a, struct errmsg *err)
{
	bool started;
	return init_ensure_powerdns(a, &started, err);
}

/* Called with pdns_lock held. */
static int ensure_powerdns(struct agent *a, bool *ret_started, struct errmsg *err)
{
	char version[64];
	pid_t pid;

	*ret_started = false;
	int r = pdns_ping(a->pdns, version, sizeof(version));
	if (r == 0 || !managed(a)) {
		if (r < 0) {
			char why[256];
			pdns_last_error(why, sizeof(why));
			errmsg_set(err, 0, "powerdns at '%.200s' does not answer: %.250s",
				   a->api_url, why);
		}
		goto done;
	}
	r = write_pdns_conf(a, err);
	if (r < 0)
		return r;
	r = spawn_pdns(a, &pid, err);
	if (r < 0)
		return r;
	/* A pdns_server that does not answer in time stays recorded: the
	 * supervisor kills it before starting another. */
	a->pdns_pid = pid;
	*ret_started = true;
	log_notice("started pdns_server (pid %d)", (int)pid);
	for (long waited = 0; waited < START_TIMEOUT_MS; waited += 50) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			a->pdns_pid = 0;
			return errmsg_set(err, ERR_UNAVAILABLE,
					  "pdns_server exited at start-up (see %s/pdns.log)",
					  a->conf.data_dir);
		}
		r = pdns_ping(a->pdns, version, sizeof(version));
		if (r == 0)
			break;
		sleep_ms(50);
	}
	if (r < 0)
		errmsg_set(err, 0, "pdns_server did not answer within %d s (see %s/pdns.log)",
			   START_TIMEOUT_MS / 1000, a->conf.data_dir);
done:
	pthread_mutex_lock(&a->state_lock);
	if (r == 0) {
		snprintf(a->pdns_version, sizeof(a->pdns_version), "%s", version);
		a->pdns_error[0] = '\0';
	} else {
		snprintf(a->pdns_error, sizeof(a->pdns_error), "%.*s",
			 (int)sizeof(a->pdns_error) - 1, err->text);
	}
	pthread_mutex_unlock(&a->state_lock);
	atomic_store(&a->pdns_up, r == 0);
	return r;
}

int init_ensure_powerdns(struct agent *a, bool *ret_started, struct errmsg *err)
{
	pthread_mutex_lock(&a->pdns_lock);
	int r = ensure_powerdns(a, ret_started, err);
	pthread_mutex_unlock(&a->pdns_lock);
	return r;
}
