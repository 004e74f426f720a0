/* An HTTP/1.1 client for JSON APIs on a fixed base URL, over libcurl.
 *
 * It speaks HTTP, or HTTPS, to a numeric address: its peers are PowerDNS's
 * API on loopback and the agents. Each client keeps a few connections alive
 * for reuse, bounds every wait by a timeout and every answer by a cap, and
 * does nothing else: no redirects, no proxy from the environment, no
 * protocol but http(s), no signals.
 *
 * A client may be used from several threads at once; each takes one of its
 * connections (up to 8 are kept), a new one when all are busy. An optional key
 * is sent in a header whose name the caller chooses (X-API-Key for
 * PowerDNS); it is never logged. */
#ifndef YUMNA_HTTP_CLIENT_H
#define YUMNA_HTTP_CLIENT_H

#include <stddef.h>

#include "base/buf.h"

struct http_client;

/* 'base_url' like "http://127.0.0.1:8081" or "http://[::1]:8081" (a
 * numeric address; https needs http_client_new_tls); 'key_header' like
 * "X-API-Key" (NULL: none); 'key' is copied. 'timeout_ms' bounds connecting
 * (with the TLS handshake) and each wait for data to move either way, not the
 * whole exchange. */
int http_client_new(const char *base_url, const char *key_header, const char *key, long timeout_ms,
		    struct http_client **ret);

/* 0 if 'ca_pem' holds at least one certificate GnuTLS (libcurl's TLS
 * backend) accepts, else -EINVAL: for checking a configuration before any
 * client is made. */
int http_tls_ca_check(const char *ca_pem);

/* The same for "https://ADDR:PORT": 'ca_pem' (PEM text, copied) holds the
 * only certificates to trust (not the system's); the server's certificate
 * must chain to one of them and name ADDR (an IP address in its
 * subjectAltName). TLS 1.2 or 1.3. A
 * handshake that fails verification is ERR_TLS_VERIFY. -EINVAL for an
 * http URL with CAs, an https URL without, or CAs with no certificate. */
int http_client_new_tls(const char *base_url, const char *key_header, const char *key,
			long timeout_ms, const char *ca_pem, struct http_client **ret);

/* Close the pooled connections and free; accepts NULL. */
void http_client_free(struct http_client *c);

/* Send 'method' to base_url + 'path' ('path' already encoded) with 'body'
 * (may be NULL) as application/json. The answer's body is appended to 'resp'
 * (NULL: discarded) within its cap. Returns 0 with *ret_status set for any
 * HTTP answer; ERR_UNAVAILABLE if nothing answered (refused, reset);
 * ERR_TIMEOUT; ERR_UPSTREAM for an answer that is not valid HTTP/1.1;
 * ERR_TOO_LARGE past the cap. */
int http_client_request(struct http_client *c, const char *method, const char *path,
			const char *body, size_t body_len, long *ret_status, struct buf *resp);

/* 'in' percent-encoded into 'out' (size 'outlen') for a path segment or a
 * query value: every byte but [A-Za-z0-9-_] as %XX, so a name like "." or
 * one holding '?', '#' or '%' arrives as sent. 0, or -ENAMETOOLONG when it
 * does not fit (out is then ""). */
int http_pct_encode(const char *in, char *out, size_t outlen);

#endif
