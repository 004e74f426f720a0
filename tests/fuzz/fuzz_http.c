/* The HTTP server's request target: the input is "<method> <path>[?query]"
 * (one line; the method defaults to GET). The path is routed by
 * http_route_match() against the agent's and the controller's route
 * patterns (copied here; a pattern missing only costs coverage), which
 * percent-decodes the path parameters; the query is split into arguments
 * as libmicrohttpd splits it for http_request_query() ('&', '=', '+' as a
 * space), and each value is decoded by http_pct_decode() into buffers of
 * the sizes the routes use, then checked as a hash-tree prefix. Oracles:
 * routing answers a route whose method and parameter count match, or one
 * of its three refusals; a decoded value fits its buffer, and decoding
 * into a smaller buffer gives the same text or a refusal. */
#include <stdbool.h>

#include "fuzz.h"
#include "http/server.h"
#include "model/ztree.h"

static void handler(struct http_request *req, struct http_reply *rep, void *ctx)
{
}

#define R(m, p)                              \
	{                                    \
		m, p, handler, 0, NULL, NULL \
	}
static const struct http_route agent_routes[] = {
	R("POST", "/api/dns/sync-zone"),
	R("POST", "/api/dns/sync-batch"),
	R("GET", "/api/dns/zones"),
	R("GET", "/api/dns/tree"),
	R("GET", "/api/dns/zones/:zone"),
	R("DELETE", "/api/dns/zones/:zone"),
	R("POST", "/api/dns/delete-batch"),
	R("POST", "/api/dns/zones/:zone/notify"),
	R("POST", "/api/dns/zones/:zone/dnssec"),
	R("GET", "/api/dns/status"),
	R("GET", "/api/dns/statistics"),
	R("POST", "/api/dns/initialize"),
	R("GET", "/health"),
	R("GET", "/metrics"),
	{ 0 },
};

static const struct http_route whm_routes[] = {
	R("GET", "/health"),
	R("GET", "/metrics"),
	R("GET", "/ui"),
	R("GET", "/ui/"),
	R("GET", "/ui/:file"),
	R("GET", "/api/dns/servers"),
	R("POST", "/api/dns/servers"),
	R("GET", "/api/dns/servers/:id"),
	R("PUT", "/api/dns/servers/:id"),
	R("DELETE", "/api/dns/servers/:id"),
	R("GET", "/api/dns/cluster/status"),
	R("GET", "/api/dns/cluster/events"),
	R("POST", "/api/dns/cluster/nodes/:id"),
	R("DELETE", "/api/dns/cluster/nodes/:id"),
	R("POST", "/api/dns/cluster/sync/:id"),
	R("POST", "/api/dns/cluster/sync-all/:id"),
	R("GET", "/api/dns/cluster/sync-all/:id"),
	R("PUT", "/api/dns/records/:id"),
	R("DELETE", "/api/dns/records/:id"),
	R("GET", "/api/dns/tokens"),
	R("DELETE", "/api/dns/tokens/:id"),
	R("GET", "/api/dns"),
	R("POST", "/api/dns"),
	R("GET", "/api/dns/:id"),
	R("DELETE", "/api/dns/:id"),
	R("GET", "/api/dns/:id/records"),
	R("PUT", "/api/dns/:id/records"),
	R("POST", "/api/dns/:id/import"),
	R("GET", "/api/dns/:id/export"),
	R("POST", "/api/dns/:id/dnssec/rollover"),
	/* Not routes of either program: parameters side by side. */
	R("GET", "/:a/:b/:c/:d"),
	R("GET", "/x/:a/y/:b"),
	{ 0 },
};

static unsigned pattern_params(const char *pattern)
{
	unsigned n = 0;
	for (const char *p = strstr(pattern, "/:"); p != NULL; p = strstr(p + 1, "/:"))
		n++;
	return n;
}

static void route(const struct http_route *routes, const char *method, const char *path)
{
	char *params[HTTP_MAX_PARAMS] = { 0 };
	const struct http_route *rt = NULL;

	int r = http_route_match(routes, method, path, &rt, params);
	if (r == 0) {
		if (rt == NULL || strcmp(rt->method, method) != 0)
			fuzz_fail("'%s %s' routed to another method", method, path);
		unsigned n = pattern_params(rt->pattern);
		for (unsigned i = 0; i < HTTP_MAX_PARAMS; i++) {
			if ((i < n) != (params[i] != NULL))
				fuzz_fail("'%s' matched '%s' with parameter %u %s", path,
					  rt->pattern, i, params[i] ? "set" : "missing");
			if (params[i] != NULL && strlen(params[i]) >= 1024)
				fuzz_fail("parameter %u of '%s' is too long", i, path);
		}
	} else if (r != ERR_NOT_FOUND && r != ERR_METHOD && r != ERR_MALFORMED) {
		fuzz_fail("'%s %s': routing error %d", method, path, r);
	}
	for (unsigned i = 0; i < HTTP_MAX_PARAMS; i++)
		free(params[i]);
}

/* One query value, as http_request_query() decodes it for a route. */
static void query_value(const char *raw)
{
	static const size_t sizes[] = { 1024, 256, 64, 24, 16, 8, 1 };
	char full[1024];
	size_t len = strlen(raw);

	int r = http_pct_decode(raw, len, full, sizeof(full));
	if (r < 0 && r != ERR_MALFORMED)
		fuzz_fail("http_pct_decode: error %d", r);
	if (r == 0 && strchr(raw, '%') == NULL && strcmp(raw, full) != 0)
		fuzz_fail("'%s' without escapes decoded to '%s'", raw, full);
	for (size_t i = 1; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char out[1024];
		int r2 = http_pct_decode(raw, len, out, sizes[i]);
		if (r2 == 0 && (r != 0 || strcmp(out, full) != 0 || strlen(out) >= sizes[i]))
			fuzz_fail("'%s' decodes differently into %zu bytes", raw, sizes[i]);
	}
	if (r == 0 && ztree_prefix_valid(full) && strlen(full) == ZTREE_DEPTH &&
	    ztree_prefix_bucket(full) >= ZTREE_BUCKETS)
		fuzz_fail("prefix '%s' names bucket %u", full, ztree_prefix_bucket(full));
}

/* libmicrohttpd's split (MHD_parse_arguments_): arguments separated by
 * '&', the key before the first '=', '+' read as a space in both; with
 * the server's unescape callback, percent escapes are left to the route. */
static void query(char *q)
{
	while (q != NULL && *q != '\0') {
		char *amp = strchr(q, '&');
		if (amp != NULL)
			*amp = '\0';
		for (char *p = q; *p != '\0'; p++)
			if (*p == '+')
				*p = ' ';
		char *eq = strchr(q, '=');
		if (eq != NULL)
			query_value(eq + 1);
		q = amp != NULL ? amp + 1 : NULL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	if (text == NULL)
		return 0;
	text[strcspn(text, "\r\n")] = '\0';
	const char *method = "GET";
	char *target = text;
	char *sp = strchr(text, ' ');
	if (sp != NULL) {
		*sp = '\0';
		method = text;
		target = sp + 1;
	}
	char *q = strchr(target, '?');
	if (q != NULL)
		*q++ = '\0';
	route(agent_routes, method, target);
	route(whm_routes, method, target);
	query(q);
	free(text);
	return 0;
}
