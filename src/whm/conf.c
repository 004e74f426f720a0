#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/secret.h"
#include "catalog.h"
#include "http/client.h"
#include "whm.h"

static const char *const drivers[] = { "sqlite", "mysql", NULL };
static const char *const levels[] = { "err", "warn", "notice", "info", "debug", NULL };

#define O(f) offsetof(struct whm_conf, f)
static const struct conf_item schema[] = {
	{ "listen-address", CONF_STR, O(listen_address), "127.0.0.1", 0, 64, NULL, 0, NULL },
	{ "listen-port", CONF_UINT, O(listen_port), "4000", 1, 65535, NULL, 0, NULL },
	{ "http-threads", CONF_UINT, O(http_threads), "4", 1, 64, NULL, 0, NULL },
	{ "store", CONF_ENUM, O(store_driver), "sqlite", 0, 0, drivers, 0, NULL },
	{ "store-path", CONF_STR, O(store_path), "/var/lib/yumna-whm/whm.sqlite3", 0, 4000, NULL, 0,
	  NULL },
	{ "mysql-host", CONF_STR, O(mysql_host), "127.0.0.1", 0, 255, NULL, 0, NULL },
	{ "mysql-port", CONF_UINT, O(mysql_port), "3306", 1, 65535, NULL, 0, NULL },
	{ "mysql-socket", CONF_STR, O(mysql_socket), NULL, 0, 4000, NULL, 0, NULL },
	{ "mysql-user", CONF_STR, O(mysql_user), NULL, 0, 80, NULL, 0, NULL },
	{ "mysql-password", CONF_STR, O(mysql_password), NULL, 0, 200, NULL, CONF_SECRET, NULL },
	{ "mysql-password-file", CONF_STR, O(mysql_password_file), NULL, 0, 4000, NULL, 0, NULL },
	{ "mysql-database", CONF_STR, O(mysql_database), "yumna", 0, 64, NULL, 0, NULL },
	{ "default-ns", CONF_STR, O(default_ns), "ns1.example.net., ns2.example.net.", 0, 2048,
	  NULL, 0, NULL },
	{ "default-ttl", CONF_UINT, O(default_ttl), "3600", 0, DNS_TTL_MAX, NULL, 0, NULL },
	{ "soa-mname", CONF_STR, O(soa_mname), "ns1.example.net.", 0, 255, NULL, 0, NULL },
	{ "soa-rname", CONF_STR, O(soa_rname), "hostmaster.example.net.", 0, 255, NULL, 0, NULL },
	{ "soa-refresh", CONF_UINT, O(soa_refresh), "10800", 0, DNS_TTL_MAX, NULL, 0, NULL },
	{ "soa-retry", CONF_UINT, O(soa_retry), "3600", 0, DNS_TTL_MAX, NULL, 0, NULL },
	{ "soa-expire", CONF_UINT, O(soa_expire), "604800", 0, DNS_TTL_MAX, NULL, 0, NULL },
	{ "soa-minimum", CONF_UINT, O(soa_minimum), "3600", 0, DNS_TTL_MAX, NULL, 0, NULL },
	{ "soa-ttl", CONF_UINT, O(soa_ttl), "3600", 0, DNS_TTL_MAX, NULL, 0, NULL },
	{ "agent-timeout-ms", CONF_UINT, O(agent_timeout_ms), "2000", 50, 600000, NULL, 0, NULL },
	{ "health-interval-ms", CONF_UINT, O(health_interval_ms), "2000", 100, 3600000, NULL, 0,
	  NULL },
	{ "retry-min-ms", CONF_UINT, O(retry_min_ms), "100", 10, 3600000, NULL, 0, NULL },
	{ "retry-max-ms", CONF_UINT, O(retry_max_ms), "30000", 10, 86400000, NULL, 0, NULL },
	{ "reconcile-interval", CONF_UINT, O(reconcile_interval_s), "300", 1, 86400, NULL, 0,
	  NULL },
	{ "wait-timeout-ms", CONF_UINT, O(wait_timeout_ms), "5000", 1, 600000, NULL, 0, NULL },
	{ "max-body-size", CONF_UINT, O(max_body_size), "4194304", 1024, 1ull << 30, NULL, 0,
	  NULL },
	{ "max-rrset-records", CONF_UINT, O(max_rrset_records), "500", 1, 65535, NULL, 0, NULL },
	{ "max-zone-records", CONF_UINT, O(max_zone_records), "100000", 2, 10000000, NULL, 0,
	  NULL },
	{ "max-zone-bytes", CONF_UINT, O(max_zone_bytes), "3932160", 4096, 1ull << 30, NULL, 0,
	  NULL },
	{ "ui", CONF_BOOL, O(ui), "yes", 0, 0, NULL, 0, NULL },
	{ "allow-raw-lua", CONF_BOOL, O(allow_raw_lua), "no", 0, 0, NULL, 0, NULL },
	{ "tls-cert-file", CONF_STR, O(tls_cert_file), NULL, 0, 4000, NULL, 0, NULL },
	{ "tls-key-file", CONF_STR, O(tls_key_file), NULL, 0, 4000, NULL, 0, NULL },
	{ "agent-tls-ca-file", CONF_STR, O(agent_tls_ca_file), NULL, 0, 4000, NULL, 0, NULL },
	{ "log-level", CONF_ENUM, O(log_level), "info", 0, 0, levels, 0, NULL },
	{ "dnssec-propagation-delay", CONF_UINT, O(dnssec_propagation_delay_s), "300", 0, 86400,
	  NULL, 0, NULL },
	{ "dnssec-parent-ds-ttl", CONF_UINT, O(dnssec_parent_ds_ttl_s), "86400", 0, DNS_TTL_MAX,
	  NULL, 0, NULL },
	{ "dnssec-zsk-lifetime-days", CONF_UINT, O(dnssec_zsk_lifetime_days), "90", 0, 36500, NULL,
	  0, NULL },
	{ "dnssec-rollover-check-ms", CONF_UINT, O(dnssec_rollover_check_ms), "10000", 10, 3600000,
	  NULL, 0, NULL },
	{ "dnssec-test-clock-offset-file", CONF_STR, O(dnssec_test_clock_offset_file), NULL, 0,
	  4000, NULL, 0, NULL },
	{ "history-keep-versions", CONF_UINT, O(history_keep_versions), "100", 1, 1000000, NULL, 0,
	  NULL },
	{ "history-keep-days", CONF_UINT, O(history_keep_days), "30", 0, 36500, NULL, 0, NULL },
	{ "history-prune-interval", CONF_UINT, O(history_prune_interval_s), "3600", 1, 604800, NULL,
	  0, NULL },
	{ "audit-keep-days", CONF_UINT, O(audit_keep_days), "0", 0, 36500, NULL, 0, NULL },
	{ "dns-listen-address", CONF_STR, O(dns_listen_address), NULL, 0, 64, NULL, 0, NULL },
	{ "dns-listen-port", CONF_UINT, O(dns_listen_port), "53", 1, 65535, NULL, 0, NULL },
	{ "dns-threads", CONF_UINT, O(dns_threads), "4", 1, 64, NULL, 0, NULL },
	{ "dns-tcp-clients", CONF_UINT, O(dns_tcp_clients), "64", 1, 1024, NULL, 0, NULL },
	{ "dns-tcp-timeout-ms", CONF_UINT, O(dns_tcp_timeout_ms), "5000", 100, 600000, NULL, 0,
	  NULL },
	{ "dns-max-message-size", CONF_UINT, O(dns_max_message_size), "65535", 512, 65535, NULL, 0,
	  NULL },
	{ "catalog-zone", CONF_STR, O(catalog_zone), "", 0, 255, NULL, 0, NULL },
	{ 0 },
};
#undef O

int whm_conf_load(const char *path, struct whm_conf *c, struct errmsg *err)
{
	int r = secret_file_is_private(path);
	if (r == -EACCES) {
		errmsg_set(
		    err, 0,
		    "%.300s: may hold secrets but is readable by group or others (chmod 600)",
		    path);
		return ERR_CONFIG;
	}
	if (r < 0 && r != -EINVAL)
		return errmsg_set(err, ERR_CONFIG, "%.300s: %s", path, strerror(-r));
	r = conf_load(path, schema, c, err);
	if (r < 0)
		return r;
	if (c->mysql_password != NULL && c->mysql_password_file != NULL)
		return errmsg_set(err, ERR_CONFIG,
				  "%.300s: set 'mysql-password' or 'mysql-password-file', not both",
				  path);
	if (c->mysql_password_file != NULL) {
		r = conf_read_secret_file(c->mysql_password_file, &c->mysql_password, err);
		if (r < 0)
			return r;
	}
	if (strcmp(c->store_driver, "mysql") == 0 && c->mysql_user == NULL)
		return errmsg_set(err, ERR_CONFIG, "%.300s: store = mysql needs 'mysql-user'",
				  path);
	r = conf_read_tls(c->tls_cert_file, c->tls_key_file, &c->tls_cert_pem, &c->tls_key_pem,
			  err);
	if (r == 0 && c->agent_tls_ca_file != NULL)
		r = conf_read_text_file(c->agent_tls_ca_file, false, 1u << 20, &c->agent_tls_ca_pem,
					err);
	if (r == 0 && c->agent_tls_ca_pem != NULL && http_tls_ca_check(c->agent_tls_ca_pem) < 0) {
		errmsg_set(err, 0, "agent-tls-ca-file '%.300s': no certificate in it",
			   c->agent_tls_ca_file);
		r = ERR_CONFIG;
	}
	if (r < 0)
		return r;
	struct in6_addr addr;
	if (c->dns_listen_address != NULL &&
	    inet_pton(AF_INET, c->dns_listen_address, &addr) != 1 &&
	    inet_pton(AF_INET6, c->dns_listen_address, &addr) != 1)
		return errmsg_set(err, ERR_CONFIG,
				  "%.300s: 'dns-listen-address' is not an IPv4 or IPv6 address",
				  path);
	if (c->retry_min_ms > c->retry_max_ms)
		return errmsg_set(err, ERR_CONFIG, "%.300s: 'retry-min-ms' is above 'retry-max-ms'",
				  path);
	char catalog[DNAME_TEXT_MAX];
	struct errmsg why = { "" };
	if (c->catalog_zone[0] != '\0' && catalog_name_check(c->catalog_zone, catalog, &why) < 0)
		return errmsg_set(err, ERR_CONFIG, "%.300s: catalog-zone: %s", path, why.text);
	return 0;
}

void whm_conf_free(struct whm_conf *c)
{
	conf_tls_free(&c->tls_cert_pem, &c->tls_key_pem);
	free(c->agent_tls_ca_pem);
	c->agent_tls_ca_pem = NULL;
	conf_free(schema, c);
}

void whm_store_conf(const struct whm_conf *c, struct store_conf *ret)
{
	*ret = (struct store_conf){
		.driver = c->store_driver,
		.path = c->store_path,
		.host = c->mysql_host,
		.port = (unsigned)c->mysql_port,
		.socket = c->mysql_socket,
		.user = c->mysql_user,
		.password = c->mysql_password,
		.database = c->mysql_database,
	};
}
