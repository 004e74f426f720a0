#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "dns/dns.h"
#include "http/client.h"
#include "pdns.h"

#define DNAME_PATH_MAX 1024

#define TIMEOUT_MS 5000
#define RESP_MAX (16u << 20)
#define SERVER "/api/v1/servers/localhost"

struct pdns {
	struct http_client *http;
};

static __thread char last_error[256];

void pdns_last_error(char *out, size_t len)
{
	snprintf(out, len, "%s", last_error[0] ? last_error : "no error");
}

int pdns_new(const char *api_url, const char *key, struct pdns **ret)
{
	return pdns_new_timeout(api_url, key, TIMEOUT_MS, ret);
}

int pdns_new_timeout(const char *api_url, const char *key, long timeout_ms, struct pdns **ret)
{
	struct pdns *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	int r = http_client_new(api_url, "X-API-Key", key, timeout_ms, &p->http);
	if (r < 0) {
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

void pdns_free(struct pdns *p)
{
	if (p == NULL)
		return;
	http_client_free(p->http);
	free(p);
}

/* Perform a call; a 2xx answer is success, its body parsed into *ret when
 * 'ret' is given. Anything else records the error for pdns_last_error(). */
static int call(struct pdns *p, const char *method, const char *path, json_t *body, json_t **ret)
{
	struct buf resp;
	long status = 0;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	if (body != NULL && text == NULL)
		return -ENOMEM;
	buf_init(&resp, RESP_MAX);
	int r = http_client_request(p->http, method, path, text, text ? strlen(text) : 0, &status,
				    &resp);
	free(text);
	if (r < 0) {
		snprintf(last_error, sizeof(last_error), "powerdns api: %s", err_str(r));
		buf_free(&resp);
		return r == ERR_TIMEOUT ? ERR_UNAVAILABLE : r;
	}
	if (status < 200 || status > 299) {
		json_t *j = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
		const char *msg = json_string_value(json_object_get(j, "error"));
		snprintf(last_error, sizeof(last_error), "powerdns api: %ld %s", status,
			 msg ? msg : "");
		json_decref(j);
		buf_free(&resp);
		return status == 404 ? -ENOENT : ERR_UPSTREAM;
	}
	if (ret != NULL) {
		*ret = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
		if (*ret == NULL) {
			snprintf(last_error, sizeof(last_error),
				 "powerdns api: invalid JSON answer");
			buf_free(&resp);
			return ERR_UPSTREAM;
		}
	}
	buf_free(&resp);
	return 0;
}

int pdns_ping(struct pdns *p, char *version, size_t len)
{
	json_t *j = NULL;
	int r = call(p, "GET", SERVER, NULL, &j);
	if (r < 0)
		return r;
	const char *v = json_string_value(json_object_get(j, "version"));
	snprintf(version, len, "%s", v ? v : "unknown");
	json_decref(j);
	return 0;
}

int pdns_flush(struct pdns *p, const char *zone)
{
	return pdns_flush_count(p, zone, NULL);
}

int pdns_flush_count(struct pdns *p, const char *zone, uint64_t *ret_count)
{
	char path[2 * DNAME_PATH_MAX];
	char id[DNAME_PATH_MAX];
	json_t *j = NULL;
	/* A name, not a zone id: PowerDNS reads the value as text. */
	if (http_pct_encode(zone, id, sizeof(id)) < 0)
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), SERVER "/cache/flush?domain=%s", id);
	int r = call(p, "PUT", path, NULL, ret_count != NULL ? &j : NULL);
	if (r == 0 && ret_count != NULL)
		*ret_count = (uint64_t)json_integer_value(json_object_get(j, "count"));
	json_decref(j);
	return r;
}

static int zone_call(struct pdns *p, const char *method, const char *zone, const char *suffix,
		     json_t *body, json_t **ret)
{
	char path[DNAME_PATH_MAX];
	char id[DNAME_PDNS_ID_MAX];
	dname_pdns_id(zone, id);
	snprintf(path, sizeof(path), SERVER "/zones/%s%s", id, suffix);
	return call(p, method, path, body, ret);
}

int pdns_zone_delete(struct pdns *p, const char *zone)
{
	return zone_call(p, "DELETE", zone, "", NULL, NULL);
}

int pdns_rectify(struct pdns *p, const char *zone)
{
	return zone_call(p, "PUT", zone, "/rectify", NULL, NULL);
}

int pdns_notify(struct pdns *p, const char *zone)
{
	return zone_call(p, "PUT", zone, "/notify", NULL, NULL);
}

int pdns_statistics(struct pdns *p, json_t **ret)
{
	return call(p, "GET", SERVER "/statistics?includerings=false", NULL, ret);
}

int pdns_keys_list(struct pdns *p, const char *zone, json_t **ret)
{
	return zone_call(p, "GET", zone, "/cryptokeys", NULL, ret);
}

int pdns_key_add(struct pdns *p, const char *zone, json_t *key)
{
	json_t *created = NULL;
	int r = zone_call(p, "POST", zone, "/cryptokeys", key, &created);
	json_decref(created);
	return r;
}

int pdns_key_get(struct pdns *p, const char *zone, long long id, json_t **ret)
{
	char suffix[48];
	snprintf(suffix, sizeof(suffix), "/cryptokeys/%lld", id);
	return zone_call(p, "GET", zone, suffix, NULL, ret);
}

int pdns_key_delete(struct pdns *p, const char *zone, long long id)
{
	char suffix[48];
	snprintf(suffix, sizeof(suffix), "/cryptokeys/%lld", id);
	return zone_call(p, "DELETE", zone, suffix, NULL, NULL);
}

int pdns_zone_put(struct pdns *p, const char *zone, json_t *settings)
{
	return zone_call(p, "PUT", zone, "", settings, NULL);
}

/* Metadata of a kind PowerDNS and the agent never store. */
#define NO_KIND "X-YUMNA-NONE"

int pdns_dnssec_refresh(struct pdns *p, const char *zone)
{
	json_t *keys = NULL;
	int r = zone_call(p, "GET", zone, "/cryptokeys", NULL, &keys);
	json_decref(keys);
	if (r == 0)
		r = zone_call(p, "DELETE", zone, "/metadata/" NO_KIND, NULL, NULL);
	return r;
}
