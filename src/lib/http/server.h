/* HTTP/1.1 API server over libmicrohttpd.
 *
 * A program hands over a table of routes ("/api/dns/zones/:zone") and an
 * authorisation callback. The server:
 *  - authorises every request before anything else, so an unknown route,
 *    OPTIONS or HEAD without credentials answers 401, not 404;
 *  - matches the raw path segment by segment and percent-decodes each path
 *    parameter exactly once ("%2F" stays inside its segment; "%00" and bad
 *    escapes are refused with 400);
 *  - caps bodies (413 from Content-Length before reading, or once the cap is
 *    passed), requires application/json on bodies, caps connections and
 *    idle time;
 *  - optionally refuses clients outside an allow-list at accept time (the
 *    socket is closed before any byte is read: no slot, no thread), caps
 *    connections per client address, closes connections whose request
 *    headers are not complete in time and cuts off bodies that arrive
 *    slower than a minimum rate (see struct http_server_config);
 *  - answers every error as {"error": "..."};
 *  - sends "X-Content-Type-Options: nosniff" and "Cache-Control: no-store"
 *    on every answer, plus whatever headers a reply lists.
 * Handlers run on the server's worker threads. */
#ifndef YUMNA_HTTP_SERVER_H
#define YUMNA_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/addrlist.h"
#include "base/buf.h"

#define HTTP_MAX_PARAMS 4

struct http_request;

/* An extra response header; arrays of them end with a zeroed entry. */
struct http_header {
	const char *name;
	const char *value;
};

/* A reply body made piece by piece while it is sent (http_reply_stream):
 * append the next piece to 'out' and return 1 while more follow, 0 after
 * the last one, or a negative code (the connection is cut: the status and
 * the first pieces are already sent). Called on the thread that ran the
 * handler, after it returned. */
typedef int (*http_piece_fn)(void *ctx, struct buf *out);
/* The most one piece may hold. */
#define HTTP_PIECE_MAX (16u << 20)

struct http_reply {
	unsigned status;
	char *body; /* owned; freed by the server */
	size_t len;
	const char *content_type;	   /* static string; NULL means application/json */
	const struct http_header *headers; /* optional static array, added to the answer */
	/* A streamed body instead of 'body' (http_reply_stream). */
	http_piece_fn piece;
	void (*piece_done)(void *ctx);
	void *piece_ctx;
};

typedef void (*http_handler_fn)(struct http_request *req, struct http_reply *rep, void *ctx);

/* For routes that consume their body as it arrives instead of buffering it:
 * called with each chunk; a negative return stops the stream, the rest of
 * the body is discarded and the handler still runs (it can see the error it
 * recorded in its own state). */
typedef int (*http_stream_fn)(struct http_request *req, const char *data, size_t len, void *ctx);
/* Frees what a streaming route hung on http_request_state(). */
typedef void (*http_cleanup_fn)(void *state);

struct http_route {
	const char *method;  /* "GET", "POST", ... */
	const char *pattern; /* "/api/dns/zones/:zone"; ':' marks a parameter segment */
	http_handler_fn handler;
	size_t max_body;	 /* 0: the server's default cap */
	http_stream_fn stream;	 /* optional */
	http_cleanup_fn cleanup; /* optional, for 'stream' state */
};

/* Decide whether the request may proceed (credentials). Runs first.
 * 0 lets it through; ERR_AUTH answers 401 "unauthorized" (with
 * WWW-Authenticate). Any other error is a failure that is not the client's
 * (a store that cannot be read): it answers that error's status with
 * *ret_msg, a static string the callback sets. */
typedef int (*http_auth_fn)(struct http_request *req, void *ctx, const char **ret_msg);

/* Called once per answered request, on the worker thread that answered it,
 * with the route it matched (NULL when none: refused before routing, or
 * unknown path), the status sent and the time from the first byte of the
 * request to the answer being queued. Must be cheap and must not block:
 * it is on every request's path (a few atomic adds is the intended use). */
typedef void (*http_observe_fn)(void *ctx, const struct http_route *route, unsigned status,
				uint64_t elapsed_ns);

struct http_server_config {
	const char *address; /* numeric IPv4 or IPv6 */
	unsigned port;
	unsigned threads;
	unsigned connection_limit;
	unsigned timeout_s; /* idle connection timeout */
	size_t max_body;    /* default body cap */
	/* Slow and unwanted clients; each is off when 0 (NULL).
	 * 'allow': only these client addresses are served, others are closed
	 * at accept without an answer (copied at start).
	 * 'per_address_limit': connections open at once from one address.
	 * 'header_timeout_ms': the request line and headers of a request must
	 * be complete within this time of the connection being accepted, or,
	 * on a kept-alive connection, of its request line (an idle kept-alive
	 * connection gets 'timeout_s', however slowly a request line
	 * trickles). Unlike 'timeout_s' this is not reset by each byte.
	 * 'body_min_rate': after 'body_grace_ms' from the end of the headers a
	 * body must have arrived at this many bytes per second on average
	 * (each byte extends the deadline by 1/rate, like Apache's
	 * mod_reqtimeout MinRate).
	 * A connection past a deadline is shut down (no answer; the handler of
	 * its request does not run) within about 100 ms. */
	const struct addrlist *allow;
	unsigned per_address_limit;
	unsigned header_timeout_ms;
	unsigned body_min_rate;
	unsigned body_grace_ms;
	/* HTTPS when both are set: PEM text (certificate chain, private key),
	 * copied at start. TLS 1.2 and 1.3 only. */
	const char *tls_cert_pem;
	const char *tls_key_pem;
	http_auth_fn authorize;
	http_observe_fn observe; /* optional */
	void *ctx;		 /* passed to every callback */
};

struct http_server;

/* Start listening. 'routes' ends with a zeroed entry and must outlive the
 * server. -EINVAL for a bad address or only one of the TLS parts; a
 * negative errno if the watchdog thread (header timeout, body rate) cannot
 * start;
 * ERR_CONFIG when TLS is asked for and the certificate or key is refused. On success the caller owns *ret and stops it with
 * http_server_stop(). */
int http_server_start(const struct http_server_config *cfg, const struct http_route *routes,
		      struct http_server **ret);

/* Stop accepting, wait for handlers, free. Accepts NULL. */
void http_server_stop(struct http_server *srv);

/* --- request accessors (valid during callbacks) ------------------------ */

const char *http_request_method(const struct http_request *req);
/* The request's path as sent (not decoded, without the query). */
const char *http_request_path(const struct http_request *req);
/* The decoded value of path parameter 'i' (in pattern order). */
const char *http_request_param(const struct http_request *req, unsigned i);
/* The buffered body (empty for streaming routes); NUL-terminated. */
const struct buf *http_request_body(const struct http_request *req);
/* The value of header 'name' (first occurrence), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);
/* How many times header 'name' occurs. */
unsigned http_request_header_count(const struct http_request *req, const char *name);
/* Query argument 'name', percent-decoded into 'out' (size 'len'):
 * 0, -ENOENT if absent, ERR_MALFORMED if badly encoded or too long. */
int http_request_query(const struct http_request *req, const char *name, char *out, size_t len);
/* Who the authorize callback found the caller to be, kept with the request
 * for its handler (which may run on another connection's turn of the same
 * thread, so never in a thread-local): an id, a role and a name ("" until
 * set; 'role' is cut to 15 bytes, 'name' to 63). */
void http_request_set_principal(struct http_request *req, int64_t id, const char *role,
				const char *name);
int64_t http_request_principal_id(const struct http_request *req);
const char *http_request_principal_role(const struct http_request *req);
const char *http_request_principal_name(const struct http_request *req);

/* A pointer the route may use for per-request state (streaming routes). */
void **http_request_state(struct http_request *req);

/* --- replies ----------------------------------------------------------- */

/* Serialise 'j' (stolen: its reference is released) as the reply. */
void http_reply_json(struct http_reply *rep, unsigned status, json_t *j);
/* {"error": message} with the status err_http_status(err). */
void http_reply_error(struct http_reply *rep, int err, const char *message);
/* A plain body with a content type (copied). */
void http_reply_text(struct http_reply *rep, unsigned status, const char *content_type,
		     const char *text, size_t len);

/* A body of unknown length sent as 'piece' makes it (chunked transfer
 * coding), so a long list never sits in memory whole; 'done' frees 'ctx'
 * once the answer is over, sent or not (also when this reply is replaced
 * or never sent). */
void http_reply_stream(struct http_reply *rep, unsigned status, const char *content_type,
		       http_piece_fn piece, void (*done)(void *ctx), void *ctx);

/* The same, taking 'body' (malloc'd, 'len' bytes plus a NUL) without a
 * copy: for large answers. */
void http_reply_take(struct http_reply *rep, unsigned status, const char *content_type, char *body,
		     size_t len);

/* Routing, as the server does it for every request (no connection
 * needed): match the raw 'path' (as sent, without the query) against
 * 'routes' segment by segment. On success *ret_route is the first route
 * whose pattern and method match, and params[i] holds the percent-decoded
 * value of its parameter i (malloc'd). 'params' starts zeroed; entries are
 * replaced (the old value freed) while routes are tried, and the caller
 * frees every non-NULL entry afterwards, whatever the result.
 * ERR_NOT_FOUND when no pattern matches the path, ERR_METHOD when one does
 * but not for 'method', ERR_MALFORMED for a bad escape in a parameter,
 * -ENOMEM. */
int http_route_match(const struct http_route *routes, const char *method, const char *path,
		     const struct http_route **ret_route, char *params[HTTP_MAX_PARAMS]);

/* Percent-decode 'in' (length 'len') into 'out' (size 'outlen'): exactly
 * one level of decoding; '+' is kept. ERR_MALFORMED on a bad escape, an
 * escaped or raw NUL, or if it does not fit. */
int http_pct_decode(const char *in, size_t len, char *out, size_t outlen);

#endif
