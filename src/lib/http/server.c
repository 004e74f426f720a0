#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "base/err.h"
#include "http/server.h"
#include "http/server_internal.h"

/* Discarding a body that passed its cap costs bandwidth only; past this much
 * more the connection is dropped without an answer. */
#define DISCARD_SLACK (64u << 20)
#define PARAM_MAX 1024

/* Modern TLS only; GnuTLS's defaults for everything else. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static void server_free(struct http_server *srv)
{
	if (srv->watching) {
		pthread_cond_destroy(&srv->watch_wake);
		pthread_mutex_destroy(&srv->watch_lock);
	}
	if (srv->tls_key != NULL)
		explicit_bzero(srv->tls_key, strlen(srv->tls_key));
	free(srv->tls_key);
	free(srv->tls_cert);
	free(srv);
}

/* Only addresses on the allow-list get a connection. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	const struct http_server *srv = cls;
	return addrlist_match(&srv->allow, addr, addrlen) ? MHD_YES : MHD_NO;
}

/* --- percent decoding --------------------------------------------------- */

int http_pct_decode(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '%') {
			if (i + 2 >= len || !isxdigit((unsigned char)in[i + 1]) ||
			    !isxdigit((unsigned char)in[i + 2]))
				return ERR_MALFORMED;
			char hex[3] = { in[i + 1], in[i + 2], '\0' };
			c = (unsigned char)strtoul(hex, NULL, 16);
			i += 2;
		}
		if (c == '\0' || o + 1 >= outlen)
			return ERR_MALFORMED;
		out[o++] = (char)c;
	}
	if (outlen == 0)
		return ERR_MALFORMED;
	out[o] = '\0';
	return 0;
}

/* --- replies ----------------------------------------------------------- */

/* A reply replaced before it was sent frees the stream it had. */
static void drop_stream(struct http_reply *rep)
{
	if (rep->piece_done != NULL)
		rep->piece_done(rep->piece_ctx);
	rep->piece = NULL;
	rep->piece_done = NULL;
	rep->piece_ctx = NULL;
}

void http_reply_json(struct http_reply *rep, unsigned status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	drop_stream(rep);
	free(rep->body);
	rep->content_type = NULL;
	if (text == NULL) {
		rep->status = 500;
		rep->body = strdup("{\"error\": \"out of memory\"}");
		rep->len = rep->body ? strlen(rep->body) : 0;
		return;
	}
	rep->status = status;
	rep->body = text;
	rep->len = strlen(text);
}

void http_reply_error(struct http_reply *rep, int err, const char *message)
{
	json_t *j = json_pack("{s:s}", "error", message ? message : err_str(err));
	http_reply_json(rep, err_http_status(err), j);
}

void http_reply_text(struct http_reply *rep, unsigned status, const char *content_type,
		     const char *text, size_t len)
{
	drop_stream(rep);
	free(rep->body);
	rep->body = malloc(len + 1);
	if (rep->body == NULL) {
		rep->status = 500;
		rep->len = 0;
		return;
	}
	memcpy(rep->body, text, len);
	rep->body[len] = '\0';
	rep->len = len;
	rep->status = status;
	rep->content_type = content_type;
}

void http_reply_take(struct http_reply *rep, unsigned status, const char *content_type, char *body,
		     size_t len)
{
	drop_stream(rep);
	free(rep->body);
	rep->body = body;
	rep->len = len;
	rep->status = status;
	rep->content_type = content_type;
}

void http_reply_stream(struct http_reply *rep, unsigned status, const char *content_type,
		       http_piece_fn piece, void (*done)(void *ctx), void *ctx)
{
	drop_stream(rep);
	free(rep->body);
	rep->body = NULL;
	rep->len = 0;
	rep->status = status;
	rep->content_type = content_type;
	rep->piece = piece;
	rep->piece_done = done;
	rep->piece_ctx = ctx;
}

/* A streamed body while MHD sends it: the piece being sent and how much of
 * it went. */
struct stream {
	struct buf buf;
	size_t off;
	bool ended;
	http_piece_fn piece;
	void (*done)(void *ctx);
	void *ctx;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *s = cls;

	(void)pos;
	while (s->off == s->buf.len) {
		if (s->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		buf_reset(&s->buf);
		s->off = 0;
		int r = s->piece(s->ctx, &s->buf);
		if (r < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		s->ended = r == 0;
	}
	size_t n = s->buf.len - s->off < max ? s->buf.len - s->off : max;
	memcpy(out, s->buf.data + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;

	if (s->done != NULL)
		s->done(s->ctx);
	buf_free(&s->buf);
	free(s);
}

/* The MHD response of 'rep' (its body or its stream taken), or NULL. */
static struct MHD_Response *make_response(struct http_reply *rep)
{
	struct MHD_Response *resp;

	if (rep->piece == NULL) {
		resp = MHD_create_response_from_buffer(rep->len, rep->body ? rep->body : (char *)"",
						       rep->body ? MHD_RESPMEM_MUST_FREE
								 : MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			free(rep->body);
		rep->body = NULL;
		return resp;
	}
	struct stream *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		drop_stream(rep);
		return NULL;
	}
	buf_init(&s->buf, HTTP_PIECE_MAX);
	s->piece = rep->piece;
	s->done = rep->piece_done;
	s->ctx = rep->piece_ctx;
	rep->piece = NULL;
	rep->piece_done = NULL;
	rep->piece_ctx = NULL;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, (size_t)64 * 1024, stream_read,
						 s, stream_free);
	if (resp == NULL)
		stream_free(s);
	return resp;
}

static enum MHD_Result send_reply(struct http_request *req, struct http_reply *rep)
{
	struct MHD_Response *resp = make_response(rep);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				rep->content_type ? rep->content_type : "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (rep->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	for (const struct http_header *h = rep->headers; h != NULL && h->name != NULL; h++)
		MHD_add_response_header(resp, h->name, h->value);
	enum MHD_Result r = MHD_queue_response(req->conn, rep->status, resp);
	MHD_destroy_response(resp);
	req->replied = true;
	watch_enter(req->srv, req->watch, W_WORK);
	if (req->srv->cfg.observe != NULL) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t ns = (int64_t)(now.tv_sec - req->started.tv_sec) * 1000000000 +
			     (now.tv_nsec - req->started.tv_nsec);
		req->srv->cfg.observe(req->srv->cfg.ctx, req->route, rep->status,
				      ns > 0 ? (uint64_t)ns : 0);
	}
	return r;
}

static enum MHD_Result reply_error_now(struct http_request *req, int err, const char *message)
{
	struct http_reply rep = { 0 };
	http_reply_error(&rep, err, message);
	return send_reply(req, &rep);
}

/* --- request accessors ------------------------------------------------- */

const char *http_request_method(const struct http_request *req)
{
	return req->method;
}

const char *http_request_path(const struct http_request *req)
{
	return req->url;
}

const char *http_request_param(const struct http_request *req, unsigned i)
{
	return i < HTTP_MAX_PARAMS ? req->params[i] : NULL;
}

const struct buf *http_request_body(const struct http_request *req)
{
	return &req->body;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct count_ctx {
	const char *name;
	unsigned n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct count_ctx *c = cls;
	if (strcasecmp(key, c->name) == 0)
		c->n++;
	return MHD_YES;
}

unsigned http_request_header_count(const struct http_request *req, const char *name)
{
	struct count_ctx c = { name, 0 };
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_header, &c);
	return c.n;
}

int http_request_query(const struct http_request *req, const char *name, char *out, size_t len)
{
	const char *raw = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
	if (raw == NULL)
		return -ENOENT;
	return http_pct_decode(raw, strlen(raw), out, len);
}

void http_request_set_principal(struct http_request *req, int64_t id, const char *role,
				const char *name)
{
	req->principal_id = id;
	snprintf(req->principal_role, sizeof(req->principal_role), "%s", role);
	snprintf(req->principal_name, sizeof(req->principal_name), "%s", name);
}

int64_t http_request_principal_id(const struct http_request *req)
{
	return req->principal_id;
}

const char *http_request_principal_role(const struct http_request *req)
{
	return req->principal_role;
}

const char *http_request_principal_name(const struct http_request *req)
{
	return req->principal_name;
}

void **http_request_state(struct http_request *req)
{
	return &req->state;
}

/* --- routing ----------------------------------------------------------- */

/* Match the raw 'path' against 'pattern'; on success the decoded parameters
 * are stored in 'params' (an entry it replaces is freed). Returns 1 on
 * match, 0 on no match, ERR_MALFORMED on a bad escape in a parameter. */
static int match(const char *pattern, const char *path, char *params[HTTP_MAX_PARAMS])
{
	unsigned np = 0;
	const char *p = pattern, *u = path;

	while (*p != '\0' && *u != '\0') {
		if (*p != '/' || *u != '/')
			return 0;
		p++;
		u++;
		size_t plen = strcspn(p, "/");
		size_t ulen = strcspn(u, "/");
		if (p[0] == ':') {
			if (ulen == 0 || np >= HTTP_MAX_PARAMS)
				return 0;
			char *dec = malloc(PARAM_MAX);
			if (dec == NULL)
				return -ENOMEM;
			int r = http_pct_decode(u, ulen, dec, PARAM_MAX);
			if (r < 0) {
				free(dec);
				return r;
			}
			free(params[np]);
			params[np++] = dec;
		} else if (plen != ulen || memcmp(p, u, plen) != 0) {
			return 0;
		}
		p += plen;
		u += ulen;
	}
	return *p == '\0' && *u == '\0';
}

int http_route_match(const struct http_route *routes, const char *method, const char *path,
		     const struct http_route **ret_route, char *params[HTTP_MAX_PARAMS])
{
	bool path_known = false;

	for (const struct http_route *rt = routes; rt->pattern != NULL; rt++) {
		int r = match(rt->pattern, path, params);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		path_known = true;
		if (strcmp(rt->method, method) == 0) {
			*ret_route = rt;
			return 0;
		}
	}
	return path_known ? ERR_METHOD : ERR_NOT_FOUND;
}

static bool is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	if (ct == NULL || strncasecmp(ct, want, sizeof(want) - 1) != 0)
		return false;
	char next = ct[sizeof(want) - 1];
	return next == '\0' || next == ';' || next == ' ';
}

/* Validate the framing headers on the first call. */
static int check_body_headers(struct http_request *req)
{
	const char *cl = http_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = http_request_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	bool has_body = te != NULL;

	if (http_request_header_count(req, MHD_HTTP_HEADER_CONTENT_LENGTH) > 1 ||
	    (cl != NULL && te != NULL))
		return ERR_MALFORMED;
	if (cl != NULL) {
		char *end;
		if (!isdigit((unsigned char)cl[0]))
			return ERR_MALFORMED;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (errno != 0 || *end != '\0')
			return ERR_MALFORMED;
		if (n > req->cap)
			return ERR_TOO_LARGE;
		has_body = n > 0;
	}
	if (has_body && !is_json_type(http_request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE)))
		return ERR_UNSUPPORTED;
	return 0;
}

static const char *first_call_message(int err)
{
	switch (err) {
	case ERR_TOO_LARGE:
		return "request body too large";
	case ERR_UNSUPPORTED:
		return "request body must be application/json";
	case ERR_METHOD:
		return "method not allowed";
	case ERR_NOT_FOUND:
		return "no such route";
	case ERR_MALFORMED:
		return "malformed request";
	}
	return err_str(err);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;

	if (req == NULL) {
		req = calloc(1, sizeof(*req));
		if (req == NULL)
			return MHD_NO;
		req->srv = srv;
		req->conn = conn;
		req->method = method;
		req->url = url;
		req->cap = srv->cfg.max_body;
		if (srv->cfg.observe != NULL)
			clock_gettime(CLOCK_MONOTONIC, &req->started);
		buf_init(&req->body, req->cap);
		*con_cls = req;
		/* Headers complete: from here the body's rate counts. */
		req->watch = watch_get(srv, conn);
		if (!watch_enter(srv, req->watch, W_BODY))
			return MHD_NO;

		const char *why = "unauthorized";
		int r = srv->cfg.authorize(req, srv->cfg.ctx, &why);
		if (r < 0)
			return reply_error_now(req, r, r == ERR_AUTH ? "unauthorized" : why);
		r = http_route_match(srv->routes, method, url, &req->route, req->params);
		if (r == 0 && req->route->max_body)
			req->cap = req->route->max_body;
		req->body.max = req->cap;
		if (r == 0)
			r = check_body_headers(req);
		if (r < 0)
			return reply_error_now(req, r, first_call_message(r));
		return MHD_YES;
	}
	if (req->replied) {
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		req->received += n;
		watch_body(srv, req->watch, n);
		if (req->failed)
			return req->received - req->cap > DISCARD_SLACK ? MHD_NO : MHD_YES;
		if (req->received > req->cap) {
			req->failed = ERR_TOO_LARGE;
			buf_free(&req->body);
			return MHD_YES;
		}
		if (req->route->stream != NULL) {
			if (!req->stream_stopped &&
			    req->route->stream(req, upload_data, n, srv->cfg.ctx) < 0)
				req->stream_stopped = true;
			return MHD_YES;
		}
		int r = buf_append(&req->body, upload_data, n);
		if (r < 0) {
			req->failed = r == -E2BIG ? ERR_TOO_LARGE : r;
			buf_free(&req->body);
		}
		return MHD_YES;
	}

	if (req->failed)
		return reply_error_now(req, req->failed,
				       req->failed == ERR_TOO_LARGE ? "request body too large"
								    : NULL);
	if (req->body.data == NULL)
		buf_append(&req->body, "", 0);
	if (!watch_enter(srv, req->watch, W_WORK))
		return MHD_NO; /* cut off just now: the handler must not run */

	struct http_reply rep = { 0 };
	req->route->handler(req, &rep, srv->cfg.ctx);
	if (rep.status == 0)
		http_reply_error(&rep, -EIO, "internal error: no reply");
	return send_reply(req, &rep);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_request *req = *con_cls;
	struct http_server *srv = cls;

	/* A kept-alive connection now waits for its next request. */
	watch_enter(srv, watch_get(srv, conn), W_IDLE);
	if (req == NULL)
		return;
	if (req->route != NULL && req->route->cleanup != NULL && req->state != NULL)
		req->route->cleanup(req->state);
	for (unsigned i = 0; i < HTTP_MAX_PARAMS; i++)
		free(req->params[i]);
	/* Bodies carry secrets (TSIG keys, agent secrets, private keys to
	 * import): wiped before the memory goes back. Earlier copies (the
	 * buffer's growth, libmicrohttpd's own pool) are not reached. */
	if (req->body.data != NULL)
		explicit_bzero(req->body.data, req->body.len);
	buf_free(&req->body);
	free(req);
	*con_cls = NULL;
}

/* Strict parsing (MHD_OPTION_STRICT_FOR_CLIENT) refuses sloppy framing,
 * but not a NUL inside a header value: libmicrohttpd hands values over as
 * C strings, which end at the NUL, so "<secret>\0junk" reads as "<secret>".
 * That lets in no one without the credential: what comes before the NUL is
 * compared whole (its SHA-256) with the whole secret or token, so a NUL
 * inside it leaves a prefix that fails, and what follows it is never read. */

/* Paths and query arguments are decoded by the routes themselves, exactly
 * once and per segment, so "%2F" cannot split a segment. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

/* Whether GnuTLS takes the certificate and the key as a pair, so that a
 * failure to start later can only be the address. */
static bool tls_pair_ok(const char *cert, const char *key)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t c = { (unsigned char *)cert, (unsigned)strlen(cert) };
	gnutls_datum_t k = { (unsigned char *)key, (unsigned)strlen(key) };

	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return false;
	int r = gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	return r >= 0;
}

int http_server_start(const struct http_server_config *cfg, const struct http_route *routes,
		      struct http_server **ret)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	memset(&addr, 0, sizeof(addr));
	if (cfg->port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, cfg->address, &addr.in4.sin_addr) == 1) {
		addr.in4.sin_family = AF_INET;
		addr.in4.sin_port = htons((uint16_t)cfg->port);
	} else if (inet_pton(AF_INET6, cfg->address, &addr.in6.sin6_addr) == 1) {
		addr.in6.sin6_family = AF_INET6;
		addr.in6.sin6_port = htons((uint16_t)cfg->port);
		flags |= MHD_USE_IPv6;
	} else {
		return -EINVAL;
	}

	bool tls = cfg->tls_cert_pem != NULL || cfg->tls_key_pem != NULL;
	if (tls && (cfg->tls_cert_pem == NULL || cfg->tls_key_pem == NULL))
		return -EINVAL;
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return ERR_UNSUPPORTED;

	if (tls && !tls_pair_ok(cfg->tls_cert_pem, cfg->tls_key_pem))
		return ERR_CONFIG;

	struct http_server *srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -ENOMEM;
	srv->routes = routes;
	srv->cfg = *cfg;
	if (srv->cfg.timeout_s == 0)
		srv->cfg.timeout_s = 30;
	if (cfg->allow != NULL) {
		srv->allow = *cfg->allow;
		srv->cfg.allow = &srv->allow;
	}
	if (cfg->header_timeout_ms != 0 || cfg->body_min_rate != 0) {
		int r = watchdog_init(srv);
		if (r < 0) {
			server_free(srv);
			return r;
		}
	}
	if (tls) {
		srv->tls_cert = strdup(cfg->tls_cert_pem);
		srv->tls_key = strdup(cfg->tls_key_pem);
		if (srv->tls_cert == NULL || srv->tls_key == NULL) {
			server_free(srv);
			return -ENOMEM;
		}
		srv->cfg.tls_cert_pem = srv->tls_cert;
		srv->cfg.tls_key_pem = srv->tls_key;
		flags |= MHD_USE_TLS;
	}

	/* The TLS options are ignored (MHD_OPTION_END first) without TLS. */
	struct MHD_OptionItem tls_opts[] = {
		{ tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls_cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES },
		{ MHD_OPTION_END, 0, NULL },
	};

	/* The accept policy runs before MHD allocates anything for the
	 * connection: a refused client costs an accept() and a close(). */
	srv->daemon = MHD_start_daemon(
	    flags, 0, cfg->allow != NULL ? on_accept : NULL, srv, on_request, srv,
	    MHD_OPTION_SOCK_ADDR, &addr.sa, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)(cfg->threads ? cfg->threads : 4), MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)(cfg->connection_limit ? cfg->connection_limit : 256),
	    MHD_OPTION_CONNECTION_TIMEOUT, srv->cfg.timeout_s, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    cfg->per_address_limit, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, http_on_connection, srv, MHD_OPTION_URI_LOG_CALLBACK,
	    http_on_request_line, srv, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_ARRAY, tls_opts,
	    MHD_OPTION_END);
	if (srv->daemon == NULL) {
		server_free(srv);
		return -EADDRINUSE;
	}
	if (srv->watching) {
		int r = pthread_create(&srv->watchdog, NULL, watchdog_main, srv);
		if (r != 0) {
			MHD_stop_daemon(srv->daemon);
			server_free(srv);
			return -r;
		}
	}
	*ret = srv;
	return 0;
}

void http_server_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->daemon);
	/* MHD reported every connection closed: the watch list is empty. */
	if (srv->watching)
		watchdog_stop(srv);
	server_free(srv);
}
