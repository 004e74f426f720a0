/* HTTP client over libcurl for JSON APIs on a fixed base URL.
 *
 * A client keeps a small pool of connections (keep-alive) and may be used
 * from several threads at once. An optional API key is sent as a header
 * whose name the caller chooses (X-API-Key for PowerDNS); it is never
 * logged. */
#ifndef YUMNA_HTTP_CLIENT_H
#define YUMNA_HTTP_CLIENT_H

#include <stddef.h>

#include "base/buf.h"

struct http_client;

/* Call once per program before threads start. */
int http_client_global_init(void);

/* 'base_url' like "http://127.0.0.1:8081"; 'key_header' like "X-API-Key"
 * (NULL: none); 'key' is copied. 'timeout_ms' bounds each request. */
int http_client_new(const char *base_url, const char *key_header, const char *key,
		    long timeout_ms, struct http_client **ret);

/* Free the client and its connections; accepts NULL. */
void http_client_free(struct http_client *c);

/* Send 'method' to base_url + 'path' ('path' must already be encoded), with
 * 'body' (may be NULL) as application/json. The response body is appended
 * to 'resp' (may be NULL to discard), within its cap. Returns 0 with
 * *ret_status set for any HTTP answer; ERR_UNAVAILABLE if nothing answered
 * (refused, timed out); ERR_TOO_LARGE if the answer passes the cap. */
int http_client_request(struct http_client *c, const char *method, const char *path,
			const char *body, size_t body_len, long *ret_status, struct buf *resp);

#endif
