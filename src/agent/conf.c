#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#include "agent.h"
#include "base/err.h"
#include "base/secret.h"
#include "dnsaddr.h"

static const char *const modes[] = { "managed", "external", NULL };
static const char *const sync_modes[] = { "full", "normal", NULL };
static const char *const backends[] = { "gsqlite3", "gmysql", NULL };
static const char *const levels[] = { "err", "warn", "notice", "info", "debug", NULL };

#define O(f) offsetof(struct agent_conf, f)
static const struct conf_item schema[] = {
	{ "secret", CONF_STR, O(secret), NULL, 0, SECRET_AGENT_MAX, NULL, CONF_SECRET,
	  "shared secret" },
	{ "secret-file", CONF_STR, O(secret_file), NULL, 0, 4096, NULL, 0,
	  "file holding the secret" },
	{ "metrics-token", CONF_STR, O(metrics_token), NULL, 0, 1024, NULL, CONF_SECRET,
	  "token accepted on GET /metrics only (for Prometheus)" },
	{ "metrics-token-file", CONF_STR, O(metrics_token_file), NULL, 0, 4096, NULL, 0,
	  "file holding the metrics token" },
	{ "tls-cert-file", CONF_STR, O(tls_cert_file), NULL, 0, 4096, NULL, 0,
	  "PEM certificate chain: the API speaks HTTPS" },
	{ "tls-key-file", CONF_STR, O(tls_key_file), NULL, 0, 4096, NULL, 0,
	  "PEM private key of tls-cert-file (private file)" },
	{ "listen-address", CONF_STR, O(listen_address), "127.0.0.1", 0, 64, NULL, 0, NULL },
	{ "listen-port", CONF_UINT, O(listen_port), "8053", 1, 65535, NULL, 0, NULL },
	{ "http-threads", CONF_UINT, O(http_threads), "4", 1, 64, NULL, 0, NULL },
	{ "allow-from", CONF_ADDRS, O(allow_from), "127.0.0.1, ::1", 0, 4096, NULL, 0,
	  "client addresses and prefixes served (the controller's); others are refused" },
	{ "max-connections-per-address", CONF_UINT, O(max_connections_per_address), "64", 1, 256,
	  NULL, 0, "connections open at once from one client address" },
	{ "header-timeout-ms", CONF_UINT, O(header_timeout_ms), "2000", 100, 60000, NULL, 0,
	  "time for a request's line and headers to arrive, however they trickle" },
	{ "body-min-rate", CONF_UINT, O(body_min_rate), "16384", 0, 1u << 30, NULL, 0,
	  "bytes per second a request body must average after body-grace-ms (0: off)" },
	{ "body-grace-ms", CONF_UINT, O(body_grace_ms), "5000", 100, 600000, NULL, 0,
	  "time a body may take before body-min-rate applies" },
	{ "mode", CONF_ENUM, O(mode), "managed", 0, 0, modes, 0, NULL },
	{ "data-dir", CONF_STR, O(data_dir), "/var/lib/yumna-agent", 0, 3900, NULL, 0, NULL },
	{ "dns-address", CONF_ADDRS, O(dns_address), "0.0.0.0", 0, 512, NULL, 0,
	  "where PowerDNS answers: an address or a list (\"0.0.0.0, ::\" for both families)" },
	{ "dns-port", CONF_UINT, O(dns_port), "53", 1, 65535, NULL, 0, NULL },
	{ "transfer-port", CONF_UINT, O(transfer_port), "0", 0, 65535, NULL, 0,
	  "where third-party secondaries transfer zones (on dns-address); 0: none" },
	{ "transfer-tcp-clients", CONF_UINT, O(transfer_tcp_clients), "16", 1, 1024, NULL, 0,
	  "TCP connections served at once on the transfer port" },
	{ "transfer-tcp-clients-per-address", CONF_UINT, O(transfer_tcp_clients_per_address), "4",
	  1, 1024, NULL, 0, "of them, from one address" },
	{ "pdns-api-port", CONF_UINT, O(pdns_api_port), "8081", 1, 65535, NULL, 0, NULL },
	{ "pdns-server", CONF_STR, O(pdns_server), YUMNA_PDNS_SERVER, 0, 4096, NULL, 0, NULL },
	/* Default by backend, set after loading. */
	{ "pdns-schema", CONF_STR, O(pdns_schema), NULL, 0, 4096, NULL, 0, NULL },
	{ "pdns-api-url", CONF_STR, O(pdns_api_url), NULL, 0, 200, NULL, 0, NULL },
	{ "pdns-api-key", CONF_STR, O(pdns_api_key), NULL, 0, 200, NULL, CONF_SECRET, NULL },
	{ "pdns-api-key-file", CONF_STR, O(pdns_api_key_file), NULL, 0, 4096, NULL, 0, NULL },
	{ "gsqlite3-database", CONF_STR, O(gsqlite3_database), NULL, 0, 4000, NULL, 0, NULL },
	{ "backend", CONF_ENUM, O(backend), "gsqlite3", 0, 0, backends, 0, NULL },
	{ "gmysql-host", CONF_STR, O(gmysql_host), NULL, 0, 255, NULL, 0, NULL },
	{ "gmysql-port", CONF_UINT, O(gmysql_port), "3306", 1, 65535, NULL, 0, NULL },
	{ "gmysql-socket", CONF_STR, O(gmysql_socket), NULL, 0, 107, NULL, 0, NULL },
	{ "gmysql-user", CONF_STR, O(gmysql_user), NULL, 0, 128, NULL, 0, NULL },
	{ "gmysql-password", CONF_STR, O(gmysql_password), NULL, 0, 1024, NULL, CONF_SECRET, NULL },
	{ "gmysql-password-file", CONF_STR, O(gmysql_password_file), NULL, 0, 4096, NULL, 0, NULL },
	{ "gmysql-dbname", CONF_STR, O(gmysql_dbname), NULL, 0, 64, NULL, 0, NULL },
	{ "sync-mode", CONF_ENUM, O(sync_mode), "full", 0, 0, sync_modes, 0, NULL },
	{ "soa-mname", CONF_STR, O(soa_mname), "ns1.example.net.", 0, 255, NULL, 0, NULL },
	{ "soa-rname", CONF_STR, O(soa_rname), "hostmaster.example.net.", 0, 255, NULL, 0, NULL },
	{ "soa-refresh", CONF_UINT, O(soa_refresh), "10800", 0, DNS_TTL_MAX, NULL, 0, NULL },
	{ "soa-retry", CONF_UINT, O(soa_retry), "3600", 0, DNS_TTL_MAX, NULL, 0, NULL },
	{ "soa-expire", CONF_UINT, O(soa_expire), "604800", 0, DNS_TTL_MAX, NULL, 0, NULL },
	{ "soa-minimum", CONF_UINT, O(soa_minimum), "3600", 0, DNS_TTL_MAX, NULL, 0, NULL },
	{ "soa-ttl", CONF_UINT, O(soa_ttl), "3600", 0, DNS_TTL_MAX, NULL, 0, NULL },
	{ "also-notify", CONF_STR, O(also_notify), NULL, 0, 1024, NULL, 0, NULL },
	{ "geoip-database", CONF_STR, O(geoip_database), NULL, 0, 3900, NULL, 0, NULL },
	{ "lua-health-checks-interval", CONF_UINT, O(lua_health_checks_interval), "5", 1, 3600,
	  NULL, 0, NULL },
	{ "lua-shared-state", CONF_BOOL, O(lua_shared_state), "no", 0, 0, NULL, 0, NULL },
	{ "pdns-query-cache-entries", CONF_UINT, O(pdns_query_cache_entries), "100000", 1000,
	  100000000, NULL, 0,
	  "PowerDNS's max-cache-entries (managed mode): every cache purge costs it in "
	  "proportion" },
	{ "pdns-distributor-threads", CONF_UINT, O(pdns_distributor_threads), "0", 0, 64, NULL, 0,
	  "PowerDNS's distributor-threads (managed mode); 0: its default, 3" },
	{ "pdns-tcp-clients", CONF_UINT, O(pdns_tcp_clients), "0", 0, 65535, NULL, 0,
	  "PowerDNS's max-tcp-connections (managed mode): DNS over TCP at once; 0: 256, or "
	  "32 more than pdns-tcp-clients-per-address if that is more" },
	{ "pdns-tcp-clients-per-address", CONF_UINT, O(pdns_tcp_clients_per_address), "0", 0, 65535,
	  NULL, 0,
	  "of them, from one address (the transfer relay's among them); 0: 32, or "
	  "transfer-tcp-clients when transfer-port is set and that is more" },
	{ "max-body-size", CONF_UINT, O(max_body_size), "4194304", 1024, 1ull << 30, NULL, 0,
	  NULL },
	{ "max-batch-size", CONF_UINT, O(max_batch_size), "268435456", 1024, 1ull << 34, NULL, 0,
	  NULL },
	{ "max-zones-per-batch", CONF_UINT, O(max_zones_per_batch), "20000", 1, 1000000, NULL, 0,
	  NULL },
	{ "max-rrset-records", CONF_UINT, O(max_rrset_records), "500", 1, 65535, NULL, 0, NULL },
	{ "max-zone-records", CONF_UINT, O(max_zone_records), "100000", 2, 10000000, NULL, 0,
	  NULL },
	{ "pdns-restart-delay-min", CONF_UINT, O(pdns_restart_delay_min), "100", 10, 3600000, NULL,
	  0, "ms before restarting a pdns_server that died or hung (managed mode)" },
	{ "pdns-restart-delay-max", CONF_UINT, O(pdns_restart_delay_max), "5000", 10, 3600000, NULL,
	  0, "cap of the restart delay, which doubles at each restart" },
	{ "verify-interval", CONF_UINT, O(verify_interval), "300", 1, 86400, NULL, 0,
	  "seconds in which every zone is read back from the backend and checked" },
	{ "log-level", CONF_ENUM, O(log_level), "info", 0, 0, levels, 0, NULL },
	{ 0 },
};
#undef O

/* A value the agent writes into pdns.conf: PowerDNS reads a line, joins
 * it with the next when it ends in a backslash, cuts a comment at a '#'
 * after white space and trims the value. */
static bool pdns_conf_safe(const char *v)
{
	size_t n = strlen(v);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f ||
		    (v[i] == '#' && i > 0 && v[i - 1] == ' '))
			return false;
	return n == 0 || (v[0] != ' ' && v[n - 1] != ' ' && v[n - 1] != '\\');
}

/* The gmysql settings: complete when the backend is gmysql, absent
 * otherwise, and fit for pdns.conf in managed mode. */
/* The managed PowerDNS's TCP limits, 0 for "as the other settings say".
 * The transfer relay asks PowerDNS from one address, one connection per
 * transfer it serves. */
static int check_pdns_tcp(const char *path, struct agent_conf *c, struct errmsg *err)
{
	uint64_t relay = c->transfer_port != 0 ? c->transfer_tcp_clients : 0;
	uint64_t *per = &c->pdns_tcp_clients_per_address, *all = &c->pdns_tcp_clients;

	if (*per == 0)
		*per = relay > 32 ? relay : 32;
	if (*all == 0)
		*all = *per + 32 > 256 ? *per + 32 : 256;
	if (strcmp(c->mode, "external") == 0)
		return 0; /* PowerDNS's settings are the operator's */
	if (*per < relay)
		return errmsg_set(err, ERR_CONFIG,
				  "%s: 'pdns-tcp-clients-per-address' (%llu) is below "
				  "'transfer-tcp-clients' (%llu): the transfer relay asks PowerDNS "
				  "from one address, one connection per transfer",
				  path, (unsigned long long)*per, (unsigned long long)relay);
	if (*per > *all)
		return errmsg_set(err, ERR_CONFIG,
				  "%s: 'pdns-tcp-clients-per-address' (%llu) is above "
				  "'pdns-tcp-clients' (%llu)",
				  path, (unsigned long long)*per, (unsigned long long)*all);
	if (*all < 20)
		return errmsg_set(err, ERR_CONFIG,
				  "%s: 'pdns-tcp-clients' must be at least 20 (PowerDNS's own "
				  "default)",
				  path);
	return 0;
}

static int check_gmysql(const char *path, struct agent_conf *c, struct errmsg *err)
{
	const struct {
		const char *key;
		char **value;
	} keys[] = {
		{ "gmysql-host", &c->gmysql_host },
		{ "gmysql-socket", &c->gmysql_socket },
		{ "gmysql-user", &c->gmysql_user },
		{ "gmysql-password", &c->gmysql_password },
		{ "gmysql-password-file", &c->gmysql_password_file },
		{ "gmysql-dbname", &c->gmysql_dbname },
	};
	bool gmysql = strcmp(c->backend, "gmysql") == 0;

	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!gmysql && *keys[i].value != NULL)
			return errmsg_set(err, ERR_CONFIG, "%s: '%s' needs 'backend = gmysql'",
					  path, keys[i].key);
	}
	if (!gmysql)
		return 0;
	if (c->gmysql_user == NULL || c->gmysql_dbname == NULL)
		return errmsg_set(err, ERR_CONFIG,
				  "%s: backend gmysql needs 'gmysql-user' and 'gmysql-dbname'",
				  path);
	if (c->gmysql_password != NULL && c->gmysql_password_file != NULL)
		return errmsg_set(err, ERR_CONFIG,
				  "%s: set 'gmysql-password' or 'gmysql-password-file', not both",
				  path);
	if (c->gmysql_password_file != NULL) {
		int r = conf_read_secret_file(c->gmysql_password_file, &c->gmysql_password, err);
		if (r < 0)
			return r;
	}
	if (strcmp(c->mode, "managed") != 0)
		return 0;
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (*keys[i].value != NULL && !pdns_conf_safe(*keys[i].value))
			return errmsg_set(
			    err, ERR_CONFIG,
			    "%s: '%s' cannot go into pdns.conf (control characters, ' #', "
			    "spaces at either end or a final backslash)",
			    path,
			    strcmp(keys[i].key, "gmysql-password-file") == 0 ? "gmysql-password"
									     : keys[i].key);
	}
	return 0;
}

int agent_conf_load(const char *path, struct agent_conf *c, struct errmsg *err)
{
	int r = secret_file_is_private(path);
	if (r == -EACCES)
		return errmsg_set(
		    err, ERR_CONFIG,
		    "%s: holds a secret but is readable by group or others (chmod 600)", path);
	if (r < 0 && r != -EINVAL)
		return errmsg_set(err, ERR_CONFIG, "%s: %s", path, strerror(-r));
	r = conf_load(path, schema, c, err);
	if (r < 0)
		return r;

	if (c->secret != NULL && c->secret_file != NULL)
		return errmsg_set(err, ERR_CONFIG, "%s: set 'secret' or 'secret-file', not both",
				  path);
	if (c->secret_file != NULL) {
		r = conf_read_secret_file(c->secret_file, &c->secret, err);
		if (r < 0)
			return r;
	}
	if (c->secret == NULL || strlen(c->secret) < SECRET_AGENT_MIN) {
		errmsg_set(
		    err, 0,
		    "%s: 'secret' must be set to at least %d characters (there is no default)",
		    path, SECRET_AGENT_MIN);
		return ERR_CONFIG;
	}
	/* The controller stores at most this many: a longer one could not
	 * be registered there. */
	if (strlen(c->secret) > SECRET_AGENT_MAX)
		return errmsg_set(err, ERR_CONFIG, "%s: 'secret' must have at most %d characters",
				  c->secret_file != NULL ? c->secret_file : path, SECRET_AGENT_MAX);
	r = conf_read_tls(c->tls_cert_file, c->tls_key_file, &c->tls_cert_pem, &c->tls_key_pem,
			  err);
	if (r < 0)
		return r;
	if (c->metrics_token != NULL && c->metrics_token_file != NULL)
		return errmsg_set(err, ERR_CONFIG,
				  "%s: set 'metrics-token' or 'metrics-token-file', not both",
				  path);
	if (c->metrics_token_file != NULL) {
		r = conf_read_secret_file(c->metrics_token_file, &c->metrics_token, err);
		if (r < 0)
			return r;
	}
	if (c->metrics_token != NULL && (strlen(c->metrics_token) < SECRET_AGENT_MIN ||
					 strcmp(c->metrics_token, c->secret) == 0)) {
		return errmsg_set(
		    err, ERR_CONFIG,
		    "%s: 'metrics-token' must have at least %d characters and differ from "
		    "'secret'",
		    path, SECRET_AGENT_MIN);
	}
	if (c->pdns_api_key_file != NULL) {
		free(c->pdns_api_key);
		c->pdns_api_key = NULL;
		r = conf_read_secret_file(c->pdns_api_key_file, &c->pdns_api_key, err);
		if (r < 0)
			return r;
	}
	r = check_gmysql(path, c, err);
	if (r < 0)
		return r;
	bool gsqlite3 = strcmp(c->backend, "gsqlite3") == 0;
	if (strcmp(c->mode, "external") == 0 &&
	    (c->pdns_api_url == NULL || c->pdns_api_key == NULL ||
	     (gsqlite3 && c->gsqlite3_database == NULL))) {
		return errmsg_set(err, ERR_CONFIG,
				  "%s: external mode needs 'pdns-api-url', 'pdns-api-key' (or "
				  "'pdns-api-key-file') and %s",
				  path, gsqlite3 ? "'gsqlite3-database'" : "the gmysql settings");
	}
	if (c->gsqlite3_database != NULL && !gsqlite3)
		return errmsg_set(err, ERR_CONFIG,
				  "%s: 'gsqlite3-database' needs 'backend = gsqlite3'", path);
	if (c->pdns_schema == NULL) {
		c->pdns_schema =
		    strdup(gsqlite3 ? YUMNA_PDNS_SQLITE_SCHEMA : YUMNA_PDNS_MYSQL_SCHEMA);
		if (c->pdns_schema == NULL)
			return -ENOMEM;
	}
	if (c->data_dir[0] != '/')
		return errmsg_set(err, ERR_CONFIG, "%s: 'data-dir' must be an absolute path", path);
	r = check_pdns_tcp(path, c, err);
	if (r < 0)
		return r;
	char why[256];
	if (dnsaddr_parse(c->dns_address, &c->dns_addrs, why, sizeof(why)) < 0)
		return errmsg_set(err, ERR_CONFIG, "%s: 'dns-address': %s", path, why);
	return 0;
}

void agent_conf_free(struct agent_conf *c)
{
	conf_tls_free(&c->tls_cert_pem, &c->tls_key_pem);
	conf_free(schema, c);
}
