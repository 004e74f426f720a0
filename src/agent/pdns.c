#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

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
	long timeout_ms;
	char *control; /* the control socket's path, or NULL */
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
	p->timeout_ms = timeout_ms;
	*ret = p;
	return 0;
}

int pdns_set_control(struct pdns *p, const char *socket_path)
{
	char *copy = strdup(socket_path);
	if (copy == NULL)
		return -ENOMEM;
	free(p->control);
	p->control = copy;
	return 0;
}

void pdns_free(struct pdns *p)
{
	if (p == NULL)
		return;
	http_client_free(p->http);
	free(p->control);
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

/* The control socket's "purge ZONE$": the same purge as the API's cache
 * flush (a zone cache is off on managed nodes), at a fraction of its cost:
 * one line over a Unix socket, no TCP connection (PowerDNS's web server
 * closes each one), no HTTP, no JSON. The answer is the count, then EOF.
 * Any failure returns < 0 and the caller asks the API, which reports. */
static int control_purge(struct pdns *p, const char *zone, uint64_t *ret_count)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[DNAME_PATH_MAX + 16], answer[64];
	size_t got = 0;

	if (strlen(p->control) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	/* Presentation format escapes blanks and controls; anything else
	 * would not be one argument. */
	for (const char *c = zone; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			return -EINVAL;
	int n = snprintf(line, sizeof(line), "purge %s$\n", zone);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, p->control, strlen(p->control) + 1);
	/* Non-blocking: a PowerDNS that stopped accepting fills the socket's
	 * backlog, and a blocking connect() would then wait for good (EAGAIN
	 * instead: the caller falls back to the API, which has a timeout). */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	if (r == 0 && send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		r = -EIO;
	while (r == 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, (int)p->timeout_ms);
		if (pr <= 0) {
			r = pr == 0 ? -ETIMEDOUT : -errno;
			break;
		}
		ssize_t k = recv(fd, answer + got, sizeof(answer) - 1 - got, 0);
		if (k < 0) {
			r = -errno;
		} else if (k == 0) {
			break;
		} else if ((got += (size_t)k) == sizeof(answer) - 1) {
			r = -E2BIG;
		}
	}
	close(fd);
	if (r < 0)
		return r;
	answer[got] = '\0';
	char *end;
	unsigned long long count = strtoull(answer, &end, 10);
	if (end == answer || (*end != '\0' && *end != '\n'))
		return -EPROTO;
	if (ret_count != NULL)
		*ret_count = count;
	return 0;
}

int pdns_flush_count(struct pdns *p, const char *zone, uint64_t *ret_count)
{
	if (p->control != NULL && control_purge(p, zone, ret_count) == 0)
		return 0;
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
