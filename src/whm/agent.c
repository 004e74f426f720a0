#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "base/buf.h"
#include "base/err.h"
#include "dns/dns.h"

#define RESP_MAX (8u << 20)

static const struct {
	const char *method;
	const char *path;
} agent_endpoints[] = {
	[AGENT_HEALTH] = { "GET", "/health" },
	[AGENT_SYNC_ZONE] = { "POST", "/api/dns/sync-zone" },
	[AGENT_SYNC_BATCH] = { "POST", "/api/dns/sync-batch" },
	[AGENT_ZONE_DELETE] = { "DELETE", "/api/dns/zones/" },
	[AGENT_DELETE_BATCH] = { "POST", "/api/dns/delete-batch" },
	[AGENT_ZONES] = { "GET", "/api/dns/zones" },
	[AGENT_TREE] = { "GET", "/api/dns/tree" },
	[AGENT_STATISTICS] = { "GET", "/api/dns/statistics" },
	[AGENT_STATUS] = { "GET", "/api/dns/status" },
	[AGENT_ZONE_NOTIFY] = { "POST", "/api/dns/zones/" },
	[AGENT_CACHE_FLUSH] = { "POST", "/api/dns/cache/flush/" },
	[AGENT_STEER_HEALTH] = { "GET", "/api/dns/zones/" },
};

int agent_client_new(const struct whm_conf *c, const struct store_server *srv, long timeout_ms,
		     char *url, size_t urllen, struct http_client **ret)
{
	const char *ca = c->agent_tls_ca_pem;
	const char *scheme = ca != NULL ? "https" : "http";
	if (strchr(srv->ip, ':') != NULL)
		snprintf(url, urllen, "%s://[%s]:%u", scheme, srv->ip, srv->agent_port);
	else
		snprintf(url, urllen, "%s://%s:%u", scheme, srv->ip, srv->agent_port);
	return http_client_new_tls(url, "X-Agent-Secret", srv->agent_secret, timeout_ms, ca, ret);
}

static int request(struct http_client *c, const char *method, const char *path, const char *body,
		   size_t len, long *status, json_t **ret, struct errmsg *err)
{
	struct buf resp;

	*status = 0;
	buf_init(&resp, RESP_MAX);
	int r = http_client_request(c, method, path, body, len, status, &resp);
	if (r < 0) {
		errmsg_set(err, 0, "%s", err_str(r));
		buf_free(&resp);
		return r;
	}
	json_t *j = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
	if (*status < 200 || *status > 299) {
		const char *msg = json_string_value(json_object_get(j, "error"));
		errmsg_set(err, 0, "agent answered %ld: %.150s", *status, msg ? msg : "");
		json_decref(j);
		buf_free(&resp);
		return *status == 503 ? ERR_UNAVAILABLE : ERR_UPSTREAM;
	}
	buf_free(&resp);
	if (ret != NULL)
		*ret = j;
	else
		json_decref(j);
	if (ret != NULL && j == NULL)
		return errmsg_set(err, ERR_UPSTREAM, "agent answered with invalid JSON");
	return 0;
}

int agent_call(struct http_client *c, enum agent_endpoint ep, const char *tail, const char *body,
	       size_t len, long *status, json_t **ret, struct errmsg *err)
{
	char path[1024];
	int n = snprintf(path, sizeof(path), "%s%s", agent_endpoints[ep].path, tail ? tail : "");
	if (n < 0 || (size_t)n >= sizeof(path)) {
		*status = 0;
		return errmsg_set(err, -EINVAL, "request path too long");
	}
	return request(c, agent_endpoints[ep].method, path, body, len, status, ret, err);
}

int agent_delete_batch(struct http_client *c, const char *const *zones, const uint64_t *versions,
		       size_t n, long *status, json_t **ret, struct errmsg *err)
{
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && i < n; i++) {
		json_t *o = versions != NULL ? json_pack("{s:s,s:I}", "zone", zones[i], "version",
							 (json_int_t)versions[i])
					     : json_pack("{s:s}", "zone", zones[i]);
		if (json_array_append_new(list, o) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	json_t *req = list != NULL ? json_pack("{s:o}", "zones", list) : NULL;
	char *body = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	*status = 0;
	if (body == NULL)
		return errmsg_set(err, -ENOMEM, "out of memory");
	int r = agent_call(c, AGENT_DELETE_BATCH, NULL, body, strlen(body), status, ret, err);
	free(body);
	if (r == ERR_UPSTREAM && (*status == 404 || *status == 413 || *status == 422))
		return 1;
	return r;
}

int agent_health(struct http_client *c, long *status, struct agent_health *ret, struct errmsg *err)
{
	struct agent_health h = { 0 };
	struct buf resp;

	*status = 0;
	buf_init(&resp, RESP_MAX);
	int r = http_client_request(c, agent_endpoints[AGENT_HEALTH].method,
				    agent_endpoints[AGENT_HEALTH].path, NULL, 0, status, &resp);
	if (r < 0) {
		buf_free(&resp);
		return errmsg_set(err, r, "%s", err_str(r));
	}
	/* Read for 503 too: it is the agent's answer when PowerDNS is down. */
	json_t *j = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
	buf_free(&resp);
	if (*status != 200 && *status != 503) {
		const char *msg = json_string_value(json_object_get(j, "error"));
		r = errmsg_set(err, ERR_UPSTREAM, "agent answered %ld: %.150s", *status,
			       msg ? msg : "");
		json_decref(j);
		return r;
	}
	const char *state = json_string_value(json_object_get(j, "status"));
	json_t *pdns = json_object_get(j, "powerdns");
	json_t *running = json_object_get(pdns, "running");
	if (state == NULL || (strcmp(state, "healthy") != 0 && strcmp(state, "unhealthy") != 0) ||
	    !json_is_boolean(running)) {
		r = errmsg_set(
		    err, ERR_UPSTREAM,
		    "what answers %ld on /health is not a yumna-agent (no \"healthy\" or "
		    "\"unhealthy\" status with powerdns.running)",
		    *status);
		json_decref(j);
		return r;
	}
	/* Running only when all three say so; an agent's answer that says
	 * less is PowerDNS down with the agent up. */
	h.pdns_running = *status == 200 && strcmp(state, "healthy") == 0 && json_is_true(running);
	const char *v =
	    json_string_value(json_object_get(pdns, h.pdns_running ? "version" : "error"));
	if (h.pdns_running)
		snprintf(h.pdns_version, sizeof(h.pdns_version), "%s", v ? v : "");
	else
		snprintf(h.pdns_error, sizeof(h.pdns_error), "%s", v ? v : "no reason given");
	h.drift = (uint64_t)json_integer_value(json_object_get(j, "drift"));
	h.pdns_restarts = (uint64_t)json_integer_value(json_object_get(pdns, "restarts"));
	json_decref(j);
	*ret = h;
	return 0;
}

int agent_zone_page(struct http_client *c, const char *after, unsigned limit, json_t **ret,
		    struct errmsg *err)
{
	char encoded[DNAME_TEXT_MAX * 3], path[sizeof(encoded) + 40];
	long status;

	if (http_pct_encode(after, encoded, sizeof(encoded)) < 0)
		return errmsg_set(err, -ENAMETOOLONG, "zone name too long: '%.255s'", after);
	snprintf(path, sizeof(path), "?limit=%u%s%s", limit, encoded[0] ? "&after=" : "", encoded);
	return agent_call(c, AGENT_ZONES, path, NULL, 0, &status, ret, err);
}
