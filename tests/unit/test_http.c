/* Unit tests for src/lib/http: percent-decoding, and the server and client
 * talking over loopback.
 *
 * The group setup starts http_server on 127.0.0.1 with a port chosen at run
 * time and a tiny route table; the tests speak to it through http_client,
 * or through a raw socket where the client cannot send what is needed (a
 * wrong content type, a Content-Length without the body). The client against
 * peers that misbehave is in test_http_client.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "http/client.h"
#include "http/server.h"

#define KEY_HEADER "X-Test-Key"
#define KEY "k-0123456789"
#define AUTH KEY_HEADER ": " KEY "\r\n"
#define CT_JSON "Content-Type: application/json\r\n"
#define CT_TEXT "Content-Type: text/plain\r\n"
#define CHUNKED "Transfer-Encoding: chunked\r\n"
#define CLEN(n) "Content-Length: " #n "\r\n"
#define DEFAULT_CAP 1024
#define SMALL_CAP 16

/* --- http_pct_decode ---------------------------------------------------- */

struct pct_case {
	const char *in;
	size_t outlen;
	const char *want; /* NULL: ERR_MALFORMED */
};

static const struct pct_case pct_cases[] = {
	{ "plain", 16, "plain" },
	{ "", 1, "" },
	{ "a%2Fb", 16, "a/b" },
	{ "a%2fb", 16, "a/b" },
	{ "%41%42%43", 16, "ABC" },
	{ "a+b", 16, "a+b" },
	{ "%2B", 16, "+" },
	{ "%25", 16, "%" },
	/* One level only: "%2541" is "%41", not "A". */
	{ "%2541", 16, "%41" },
	{ "%C3%A9", 16, "\xc3\xa9" },
	{ "%ff", 16, "\xff" },
	{ "%20x%20", 16, " x " },
	{ "%00", 16, NULL },
	{ "a%00b", 16, NULL },
	{ "%zz", 16, NULL },
	{ "%g0", 16, NULL },
	{ "%0g", 16, NULL },
	{ "%", 16, NULL },
	{ "%4", 16, NULL },
	{ "abc%", 16, NULL },
	{ "abc%4", 16, NULL },
	{ "%%41", 16, NULL },
	{ "% 41", 16, NULL },
	{ "%-1", 16, NULL },
	/* Output size counts the NUL. */
	{ "abc", 4, "abc" },
	{ "abc", 3, NULL },
	{ "%41%42%43", 4, "ABC" },
	{ "%41%42%43", 3, NULL },
	{ "", 0, NULL },
	{ "a", 0, NULL },
};

static void test_pct_decode(void **state)
{
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(pct_cases) / sizeof(pct_cases[0]); i++) {
		const struct pct_case *c = &pct_cases[i];

		memset(out, '#', sizeof(out));
		int r = http_pct_decode(c->in, strlen(c->in), out, c->outlen);
		if (c->want == NULL) {
			if (r != ERR_MALFORMED)
				fail_msg("'%s' (size %zu): %d, want ERR_MALFORMED", c->in,
					 c->outlen, r);
		} else if (r != 0) {
			fail_msg("'%s' (size %zu): %d", c->in, c->outlen, r);
		} else if (strcmp(out, c->want) != 0) {
			fail_msg("'%s': got '%s', want '%s'", c->in, out, c->want);
		}
		for (size_t k = c->outlen; k < sizeof(out); k++)
			if (out[k] != '#')
				fail_msg("'%s': byte %zu written past size %zu", c->in, k,
					 c->outlen);
	}
}

/* Only 'len' bytes are decoded: a segment of a longer path. */
static void test_pct_decode_length(void **state)
{
	static const char path[] = "ab%2Fcd/ef%4";
	char out[16];

	(void)state;
	assert_int_equal(http_pct_decode(path, 7, out, sizeof(out)), 0);
	assert_string_equal(out, "ab/cd");
	/* An escape cut off by the length is malformed, even though the
	 * bytes after it would complete it. */
	assert_int_equal(http_pct_decode(path, 4, out, sizeof(out)), ERR_MALFORMED);
	assert_int_equal(http_pct_decode(path, 3, out, sizeof(out)), ERR_MALFORMED);
	/* A raw NUL inside the length is refused like an escaped one. */
	assert_int_equal(http_pct_decode("a\0b", 3, out, sizeof(out)), ERR_MALFORMED);
}

/* --- the loopback server ------------------------------------------------- */

struct fixture {
	struct http_server *srv;
	struct http_client *cli;  /* sends the key */
	struct http_client *anon; /* sends none */
	unsigned port;
	unsigned authorize_calls;
	unsigned handler_calls;
	/* What the observer saw last, and how often it was called. */
	unsigned observed;
	const struct http_route *observed_route;
	unsigned observed_status;
	uint64_t observed_ns;
	unsigned streams_done; /* streamed replies freed */
};

static int authorize(struct http_request *req, void *ctx, const char **ret_msg)
{
	struct fixture *f = ctx;
	const char *key = http_request_header(req, KEY_HEADER);

	(void)ret_msg;
	__atomic_add_fetch(&f->authorize_calls, 1, __ATOMIC_SEQ_CST);
	return key != NULL && strcmp(key, KEY) == 0 ? 0 : ERR_AUTH;
}

/* Echo what the route saw: method, parameters, body. */
static void h_echo(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct fixture *f = ctx;
	const struct buf *body = http_request_body(req);
	json_t *params = json_array();

	__atomic_add_fetch(&f->handler_calls, 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < HTTP_MAX_PARAMS && http_request_param(req, i) != NULL; i++)
		json_array_append_new(params, json_string(http_request_param(req, i)));
	/* json_pack "o" steals 'params'. */
	http_reply_json(rep, 200,
			json_pack("{s:s, s:o, s:s%}", "method", http_request_method(req), "params",
				  params, "body", body->data, body->len));
}

static void h_created(struct http_request *req, struct http_reply *rep, void *ctx)
{
	http_reply_json(rep, 201, json_pack("{s:b}", "created", 1));
}

static void h_query(struct http_request *req, struct http_reply *rep, void *ctx)
{
	char q[8];
	int r = http_request_query(req, "q", q, sizeof(q));

	http_reply_json(rep, 200, json_pack("{s:i, s:s}", "r", r, "q", r == 0 ? q : ""));
}

static void h_silent(struct http_request *req, struct http_reply *rep, void *ctx)
{
}

static void h_text(struct http_request *req, struct http_reply *rep, void *ctx)
{
	http_reply_text(rep, 200, "text/plain", "hello\n", 6);
}

/* A streamed JSON array of the numbers below 'n', 100 per piece; with
 * 'fail' the piece after the first refuses, cutting the answer. */
struct numbers {
	struct fixture *f;
	unsigned next, n;
	bool fail, opened;
};

static int number_piece(void *ctx, struct buf *out)
{
	struct numbers *s = ctx;

	if (s->opened && s->fail)
		return -EIO;
	if (!s->opened && buf_puts(out, "[") < 0)
		return -ENOMEM;
	s->opened = true;
	for (unsigned i = 0; i < 100 && s->next < s->n; i++, s->next++)
		if (buf_printf(out, "%s%u", s->next > 0 ? "," : "", s->next) < 0)
			return -ENOMEM;
	if (s->next < s->n)
		return 1;
	return buf_puts(out, "]") < 0 ? -ENOMEM : 0;
}

static void number_done(void *ctx)
{
	struct numbers *s = ctx;
	__atomic_add_fetch(&s->f->streams_done, 1, __ATOMIC_SEQ_CST);
	free(s);
}

/* /stream?q=N (or q=fail, or q=replace: a stream replaced by an error). */
static void h_stream(struct http_request *req, struct http_reply *rep, void *ctx)
{
	char q[8] = "";
	struct numbers *s = calloc(1, sizeof(*s));

	http_request_query(req, "q", q, sizeof(q));
	s->f = ctx;
	s->n = (unsigned)strtoul(q, NULL, 10);
	s->fail = strcmp(q, "fail") == 0;
	if (s->fail)
		s->n = 1000;
	http_reply_stream(rep, 200, NULL, number_piece, number_done, s);
	if (strcmp(q, "replace") == 0)
		http_reply_error(rep, ERR_INVALID, "replaced");
}

static const struct http_header extra_headers[] = {
	{ "X-Frame-Options", "DENY" },
	{ "Content-Security-Policy", "default-src 'none'" },
	{ NULL, NULL },
};

/* Answers with its own path (as sent) and two extra headers. */
static void h_path(struct http_request *req, struct http_reply *rep, void *ctx)
{
	const char *path = http_request_path(req);
	http_reply_text(rep, 200, "text/plain", path, strlen(path));
	rep->headers = extra_headers;
}

static void observe(void *ctx, const struct http_route *route, unsigned status, uint64_t ns)
{
	struct fixture *f = ctx;
	f->observed_route = route;
	f->observed_status = status;
	f->observed_ns = ns;
	__atomic_add_fetch(&f->observed, 1, __ATOMIC_SEQ_CST);
}

static const struct http_route routes[] = {
	{ "GET", "/items/:id", h_echo, 0, NULL, NULL },
	{ "POST", "/items/:id", h_echo, 0, NULL, NULL },
	{ "DELETE", "/items/:id/tags/:tag", h_echo, 0, NULL, NULL },
	{ "POST", "/small", h_created, SMALL_CAP, NULL, NULL },
	{ "GET", "/query", h_query, 0, NULL, NULL },
	{ "GET", "/silent", h_silent, 0, NULL, NULL },
	{ "GET", "/text", h_text, 0, NULL, NULL },
	{ "GET", "/path/:p", h_path, 0, NULL, NULL },
	{ "GET", "/", h_echo, 0, NULL, NULL },
	{ "GET", "/stream", h_stream, 0, NULL, NULL },
	{ 0 },
};

/* A port nobody listens on right now: bound by the kernel, then released. */
static unsigned free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		close(fd);
		return 0;
	}
	close(fd);
	return ntohs(a.sin_port);
}

static int client_for(unsigned port, bool with_key, struct http_client **ret)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	return http_client_new(url, with_key ? KEY_HEADER : NULL, with_key ? KEY : NULL, 5000, ret);
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int r = -1;

	if (f == NULL)
		return -1;
	/* Another process may take the port between the probe and the start. */
	for (int attempt = 0; attempt < 5 && r < 0; attempt++) {
		struct http_server_config cfg = {
			.address = "127.0.0.1",
			.port = free_port(),
			.threads = 2,
			.connection_limit = 32,
			.timeout_s = 5,
			.max_body = DEFAULT_CAP,
			.authorize = authorize,
			.observe = observe,
			.ctx = f,
		};
		if (cfg.port == 0)
			continue;
		r = http_server_start(&cfg, routes, &f->srv);
		f->port = cfg.port;
	}
	if (r < 0 || client_for(f->port, true, &f->cli) < 0 ||
	    client_for(f->port, false, &f->anon) < 0) {
		http_client_free(f->cli);
		http_server_stop(f->srv);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	http_client_free(f->cli);
	http_client_free(f->anon);
	http_server_stop(f->srv);
	free(f);
	return 0;
}

/* One request through 'c'; returns the status, the body is parsed into
 * *ret_json when it is JSON (caller decrefs) and left NULL otherwise. */
static long request(struct http_client *c, const char *method, const char *path, const char *body,
		    json_t **ret_json)
{
	struct buf resp;
	long status = -1;

	buf_init(&resp, 1 << 16);
	int r = http_client_request(c, method, path, body, body ? strlen(body) : 0, &status, &resp);
	if (r < 0) {
		buf_free(&resp);
		fail_msg("%s %s: %d (%s)", method, path, r, err_str(r));
	}
	if (ret_json != NULL)
		*ret_json = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
	buf_free(&resp);
	return status;
}

/* 'method path' through 'c' answers 'status' with {"error": 'message'}. */
static void expect_error(struct http_client *c, const char *method, const char *path,
			 const char *body, long status, const char *message)
{
	json_t *j = NULL;
	long got = request(c, method, path, body, &j);
	const char *msg = json_string_value(json_object_get(j, "error"));

	if (got != status || msg == NULL || strcmp(msg, message) != 0 || json_object_size(j) != 1) {
		char *text = j ? json_dumps(j, 0) : NULL;
		fail_msg("%s %s: %ld %s, want %ld {\"error\": \"%s\"}", method, path, got,
			 text ? text : "(not JSON)", status, message);
	}
	json_decref(j);
}

/* 'method path' reaches h_echo; returns its JSON (caller decrefs). */
static json_t *expect_echo(struct http_client *c, const char *method, const char *path,
			   const char *body)
{
	json_t *j = NULL;
	long got = request(c, method, path, body, &j);

	if (got != 200 || j == NULL)
		fail_msg("%s %s: %ld, want 200 with JSON", method, path, got);
	assert_string_equal(json_string_value(json_object_get(j, "method")), method);
	return j;
}

static const char *param(const json_t *echo, size_t i)
{
	return json_string_value(json_array_get(json_object_get(echo, "params"), i));
}

/* A raw HTTP exchange: send 'req' as is, read until the server closes. */
struct raw_reply {
	int status;
	char text[8192];
	const char *body;
};

static void raw_request(unsigned port, const char *req, size_t req_len, struct raw_reply *out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	for (size_t sent = 0; sent < req_len;) {
		ssize_t w = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL);
		assert_true(w > 0);
		sent += (size_t)w;
	}
	while (n < sizeof(out->text) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5000) <= 0)
			break;
		ssize_t rd = recv(fd, out->text + n, sizeof(out->text) - 1 - n, 0);
		if (rd <= 0)
			break;
		n += (size_t)rd;
	}
	close(fd);
	out->text[n] = '\0';
	if (sscanf(out->text, "HTTP/1.1 %d ", &out->status) != 1)
		out->status = 0;
	const char *end = strstr(out->text, "\r\n\r\n");
	out->body = end ? end + 4 : "";
}

/* Send a request with 'headers' (each ending in \r\n) and 'body'. */
static void raw_post(unsigned port, const char *path, const char *headers, const char *body,
		     struct raw_reply *out)
{
	char req[4096];
	int n = snprintf(req, sizeof(req),
			 "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n%s",
			 path, headers, body);

	assert_true(n > 0 && (size_t)n < sizeof(req));
	raw_request(port, req, (size_t)n, out);
}

static void expect_raw(const struct raw_reply *r, int status, const char *body)
{
	if (r->status != status || strcmp(r->body, body) != 0)
		fail_msg("got %d '%s', want %d '%s'", r->status, r->body, status, body);
}

static void test_401_before_routing(void **state)
{
	struct fixture *f = *state;
	unsigned calls = __atomic_load_n(&f->authorize_calls, __ATOMIC_SEQ_CST);
	unsigned handled = __atomic_load_n(&f->handler_calls, __ATOMIC_SEQ_CST);

	/* Without the key nothing about the routes shows: known, unknown,
	 * wrong method and a path that would not even decode all look alike. */
	expect_error(f->anon, "GET", "/items/1", NULL, 401, "unauthorized");
	expect_error(f->anon, "GET", "/nope", NULL, 401, "unauthorized");
	expect_error(f->anon, "PUT", "/items/1", NULL, 401, "unauthorized");
	expect_error(f->anon, "GET", "/items/%00", NULL, 401, "unauthorized");
	expect_error(f->anon, "POST", "/small", "{\"much too long for the cap\":1}", 401,
		     "unauthorized");
	assert_int_equal(__atomic_load_n(&f->authorize_calls, __ATOMIC_SEQ_CST), calls + 5);
	assert_int_equal(__atomic_load_n(&f->handler_calls, __ATOMIC_SEQ_CST), handled);

	/* A wrong key is no key. */
	struct http_client *wrong;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", f->port);
	assert_int_equal(http_client_new(url, KEY_HEADER, KEY "x", 5000, &wrong), 0);
	expect_error(wrong, "GET", "/items/1", NULL, 401, "unauthorized");
	http_client_free(wrong);

	/* With the key, the unknown path is a plain 404. */
	expect_error(f->cli, "GET", "/nope", NULL, 404, "no such route");
	expect_error(f->cli, "GET", "/items", NULL, 404, "no such route");
	expect_error(f->cli, "GET", "/items/", NULL, 404, "no such route");
	expect_error(f->cli, "GET", "/items/a/b", NULL, 404, "no such route");
	expect_error(f->cli, "GET", "/items/a/", NULL, 404, "no such route");
}

static void test_401_raw(void **state)
{
	struct fixture *f = *state;
	struct raw_reply r;
	static const char options[] = "OPTIONS /items/1 HTTP/1.1\r\nHost: x\r\n"
				      "Connection: close\r\n\r\n";
	static const char head[] = "HEAD /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

	raw_request(f->port, options, sizeof(options) - 1, &r);
	expect_raw(&r, 401, "{\"error\":\"unauthorized\"}");
	/* The challenge says how to authenticate; errors are never cached. */
	assert_non_null(strstr(r.text, "\r\nWWW-Authenticate: Bearer\r\n"));
	assert_non_null(strstr(r.text, "\r\nCache-Control: no-store\r\n"));
	assert_non_null(strstr(r.text, "\r\nContent-Type: application/json\r\n"));

	raw_request(f->port, head, sizeof(head) - 1, &r);
	assert_int_equal(r.status, 401);
}

/* Every answer reaches the observer with the route it matched (none when
 * refused before routing), its status and a duration; one at a time here,
 * so the last observation is this request's. */
static void test_observer_and_headers(void **state)
{
	struct fixture *f = *state;
	struct raw_reply r;
	static const char get_path[] = "GET /path/a%2Fb HTTP/1.1\r\nHost: x\r\n" KEY_HEADER ": " KEY
				       "\r\nConnection: close\r\n\r\n";
	unsigned before = __atomic_load_n(&f->observed, __ATOMIC_SEQ_CST);

	raw_request(f->port, get_path, sizeof(get_path) - 1, &r);
	expect_raw(&r, 200, "/path/a%2Fb");
	assert_non_null(strstr(r.text, "\r\nX-Frame-Options: DENY\r\n"));
	assert_non_null(strstr(r.text, "\r\nContent-Security-Policy: default-src 'none'\r\n"));
	assert_non_null(strstr(r.text, "\r\nX-Content-Type-Options: nosniff\r\n"));
	assert_int_equal(__atomic_load_n(&f->observed, __ATOMIC_SEQ_CST), before + 1);
	assert_ptr_equal(f->observed_route, &routes[7]);
	assert_string_equal(f->observed_route->pattern, "/path/:p");
	assert_int_equal(f->observed_status, 200);
	assert_true(f->observed_ns > 0 && f->observed_ns < 5000000000ull);

	expect_error(f->anon, "GET", "/path/x", NULL, 401, "unauthorized");
	assert_int_equal(__atomic_load_n(&f->observed, __ATOMIC_SEQ_CST), before + 2);
	assert_null(f->observed_route);
	assert_int_equal(f->observed_status, 401);

	expect_error(f->cli, "GET", "/nope", NULL, 404, "no such route");
	assert_null(f->observed_route);
	assert_int_equal(f->observed_status, 404);

	expect_error(f->cli, "POST", "/small", "{\"much too long for the cap\":1}", 413,
		     "request body too large");
	assert_string_equal(f->observed_route->pattern, "/small");
	assert_int_equal(f->observed_status, 413);
	assert_int_equal(__atomic_load_n(&f->observed, __ATOMIC_SEQ_CST), before + 4);
}

static void test_405(void **state)
{
	struct fixture *f = *state;

	expect_error(f->cli, "PUT", "/items/1", NULL, 405, "method not allowed");
	expect_error(f->cli, "POST", "/query", "{}", 405, "method not allowed");
	expect_error(f->cli, "GET", "/small", NULL, 405, "method not allowed");
	expect_error(f->cli, "GET", "/items/1/tags/2", NULL, 405, "method not allowed");
	/* Methods are case-sensitive (RFC 9110 section 9.1). */
	expect_error(f->cli, "get", "/items/1", NULL, 405, "method not allowed");
}

static void test_path_params(void **state)
{
	struct fixture *f = *state;
	json_t *j;

	j = expect_echo(f->cli, "GET", "/items/plain", NULL);
	assert_string_equal(param(j, 0), "plain");
	assert_int_equal(json_array_size(json_object_get(j, "params")), 1);
	json_decref(j);

	/* %2F stays inside its segment. */
	j = expect_echo(f->cli, "GET", "/items/a%2Fb", NULL);
	assert_string_equal(param(j, 0), "a/b");
	json_decref(j);

	/* Decoded exactly once. */
	j = expect_echo(f->cli, "GET", "/items/%252F", NULL);
	assert_string_equal(param(j, 0), "%2F");
	json_decref(j);

	j = expect_echo(f->cli, "GET", "/items/a+b%20c%C3%A9", NULL);
	assert_string_equal(param(j, 0), "a+b c\xc3\xa9");
	json_decref(j);

	j = expect_echo(f->cli, "DELETE", "/items/x%20y/tags/t%2F1", NULL);
	assert_string_equal(param(j, 0), "x y");
	assert_string_equal(param(j, 1), "t/1");
	assert_int_equal(json_array_size(json_object_get(j, "params")), 2);
	json_decref(j);

	j = expect_echo(f->cli, "GET", "/", NULL);
	assert_int_equal(json_array_size(json_object_get(j, "params")), 0);
	json_decref(j);

	expect_error(f->cli, "GET", "/items/%00", NULL, 400, "malformed request");
	expect_error(f->cli, "GET", "/items/a%zz", NULL, 400, "malformed request");
	expect_error(f->cli, "GET", "/items/a%4", NULL, 400, "malformed request");
}

static void test_query(void **state)
{
	struct fixture *f = *state;
	json_t *j;

	assert_int_equal(request(f->cli, "GET", "/query?q=a%2Fb", NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "r")), 0);
	assert_string_equal(json_string_value(json_object_get(j, "q")), "a/b");
	json_decref(j);

	assert_int_equal(request(f->cli, "GET", "/query?other=1", NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "r")), -ENOENT);
	json_decref(j);

	assert_int_equal(request(f->cli, "GET", "/query?q=%00", NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "r")), ERR_MALFORMED);
	json_decref(j);

	/* Longer than the route's 8-byte buffer. */
	assert_int_equal(request(f->cli, "GET", "/query?q=12345678", NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "r")), ERR_MALFORMED);
	json_decref(j);
}

static void test_handler_json(void **state)
{
	static const char text_req[] =
	    "GET /text HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" AUTH "\r\n";
	struct fixture *f = *state;
	struct raw_reply r;
	json_t *j;

	j = expect_echo(f->cli, "POST", "/items/7", "{\"a\":[1,2]}");
	assert_string_equal(param(j, 0), "7");
	assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"a\":[1,2]}");
	json_decref(j);

	/* No body: the handler sees an empty, terminated one. */
	j = expect_echo(f->cli, "POST", "/items/7", NULL);
	assert_string_equal(json_string_value(json_object_get(j, "body")), "");
	json_decref(j);

	assert_int_equal(request(f->cli, "POST", "/small", "{}", &j), 201);
	assert_true(json_is_true(json_object_get(j, "created")));
	json_decref(j);

	raw_post(f->port, "/items/x", AUTH CT_JSON CLEN(2), "{}", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.text, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(r.text, "\r\nCache-Control: no-store\r\n"));
	assert_null(strstr(r.text, "WWW-Authenticate"));

	/* A plain-text reply keeps its type. */
	raw_request(f->port, text_req, sizeof(text_req) - 1, &r);
	expect_raw(&r, 200, "hello\n");
	assert_non_null(strstr(r.text, "\r\nContent-Type: text/plain\r\n"));
}

static void wait_streams_done(struct fixture *f, unsigned want)
{
	for (int i = 0; i < 200 && __atomic_load_n(&f->streams_done, __ATOMIC_SEQ_CST) < want; i++)
		usleep(10000);
	assert_int_equal(__atomic_load_n(&f->streams_done, __ATOMIC_SEQ_CST), want);
}

/* A streamed answer arrives whole over many pieces; one that fails half
 * way is cut (the client sees a broken answer, never a short one that
 * parses); a stream replaced by an error is freed; each is freed once. */
static void test_stream(void **state)
{
	struct fixture *f = *state;
	unsigned done = __atomic_load_n(&f->streams_done, __ATOMIC_SEQ_CST);
	json_t *j;

	assert_int_equal(request(f->cli, "GET", "/stream?q=2500", NULL, &j), 200);
	assert_int_equal(json_array_size(j), 2500);
	for (size_t i = 0; i < 2500; i++)
		assert_int_equal(json_integer_value(json_array_get(j, i)), i);
	json_decref(j);
	wait_streams_done(f, done + 1);
	assert_int_equal(request(f->cli, "GET", "/stream?q=0", NULL, &j), 200);
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
	wait_streams_done(f, done + 2);

	struct buf resp;
	long status = 0;
	buf_init(&resp, 1 << 16);
	assert_true(http_client_request(f->cli, "GET", "/stream?q=fail", NULL, 0, &status, &resp) <
		    0);
	buf_free(&resp);
	wait_streams_done(f, done + 3);

	expect_error(f->cli, "GET", "/stream?q=replace", NULL, 422, "replaced");
	wait_streams_done(f, done + 4);
}

static void test_handler_without_reply(void **state)
{
	struct fixture *f = *state;

	expect_error(f->cli, "GET", "/silent", NULL, 500, "internal error: no reply");
}

static void test_413(void **state)
{
	struct fixture *f = *state;
	struct raw_reply r;
	char body[2 * DEFAULT_CAP];

	/* The route's own cap: 16 bytes pass, 17 do not. */
	assert_int_equal(request(f->cli, "POST", "/small", "{\"k\":\"12345678\"}", NULL), 201);
	expect_error(f->cli, "POST", "/small", "{\"k\":\"123456789\"}", 413,
		     "request body too large");

	/* The server's default cap. */
	memset(body, ' ', sizeof(body));
	body[0] = '{';
	body[DEFAULT_CAP - 1] = '}';
	body[DEFAULT_CAP] = '\0';
	json_t *j = expect_echo(f->cli, "POST", "/items/1", body);
	json_decref(j);
	body[DEFAULT_CAP] = '}';
	body[DEFAULT_CAP + 1] = '\0';
	expect_error(f->cli, "POST", "/items/1", body, 413, "request body too large");

	/* Refused from the header, before a byte of body is sent. */
	raw_post(f->port, "/items/1", AUTH CT_JSON CLEN(1000000000), "", &r);
	expect_raw(&r, 413, "{\"error\":\"request body too large\"}");
	raw_post(f->port, "/small", AUTH CT_JSON CLEN(17), "", &r);
	expect_raw(&r, 413, "{\"error\":\"request body too large\"}");

	/* A chunked body is counted as it arrives. */
	raw_post(f->port, "/small", AUTH CT_JSON CHUNKED,
		 "a\r\n{\"k\":\"1234\r\na\r\n56789012\"}\r\n0\r\n\r\n", &r);
	expect_raw(&r, 413, "{\"error\":\"request body too large\"}");
	raw_post(f->port, "/small", AUTH CT_JSON CHUNKED, "2\r\n{}\r\n0\r\n\r\n", &r);
	expect_raw(&r, 201, "{\"created\":true}");
}

static void test_bad_framing(void **state)
{
	struct fixture *f = *state;
	struct raw_reply r;

	raw_post(f->port, "/small", AUTH CT_JSON CLEN(99999999999999999999999), "", &r);
	assert_true(r.status == 400 || r.status == 413);
	raw_post(f->port, "/small", AUTH CT_JSON CLEN(2) CLEN(2), "{}", &r);
	assert_int_equal(r.status, 400);
}

static void test_415(void **state)
{
	struct fixture *f = *state;
	struct raw_reply r;

	raw_post(f->port, "/items/1", AUTH CT_TEXT CLEN(2), "{}", &r);
	expect_raw(&r, 415, "{\"error\":\"request body must be application/json\"}");
	raw_post(f->port, "/items/1", AUTH CLEN(2), "{}", &r);
	expect_raw(&r, 415, "{\"error\":\"request body must be application/json\"}");
	raw_post(f->port, "/items/1",
		 AUTH "Content-Type: application/jsonx\r\nContent-Length: 2\r\n", "{}", &r);
	expect_raw(&r, 415, "{\"error\":\"request body must be application/json\"}");
	raw_post(f->port, "/items/1", AUTH CT_TEXT CHUNKED, "2\r\n{}\r\n0\r\n\r\n", &r);
	assert_int_equal(r.status, 415);

	/* Parameters and case do not matter; no body needs no type. */
	raw_post(f->port, "/items/1",
		 AUTH "Content-Type: Application/JSON; charset=utf-8\r\nContent-Length: 2\r\n",
		 "{}", &r);
	assert_int_equal(r.status, 200);
	raw_post(f->port, "/items/1", AUTH CT_TEXT CLEN(0), "", &r);
	assert_int_equal(r.status, 200);
}

/* Several clients at once on the pooled connections. */
static void *hammer(void *arg)
{
	struct fixture *f = arg;
	char path[32], want[32];
	intptr_t ok = 0;

	for (int i = 0; i < 50; i++) {
		struct buf resp;
		long status = 0;

		snprintf(path, sizeof(path), "/items/%d", i);
		snprintf(want, sizeof(want), "\"params\":[\"%d\"]", i);
		buf_init(&resp, 4096);
		if (http_client_request(f->cli, "GET", path, NULL, 0, &status, &resp) == 0 &&
		    status == 200 && resp.data != NULL && strstr(resp.data, want) != NULL)
			ok++;
		buf_free(&resp);
	}
	return (void *)ok;
}

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, f), 0);
	for (int i = 0; i < 4; i++) {
		void *ok;
		assert_int_equal(pthread_join(t[i], &ok), 0);
		assert_int_equal((intptr_t)ok, 50);
	}
}

/* --- the client on its own ---------------------------------------------- */

static void test_client_answer_cap(void **state)
{
	struct fixture *f = *state;
	struct buf resp;
	long status = -1;

	buf_init(&resp, 8);
	assert_int_equal(http_client_request(f->cli, "GET", "/items/1", NULL, 0, &status, &resp),
			 ERR_TOO_LARGE);
	buf_free(&resp);

	/* The client still works after a refused answer. */
	assert_int_equal(request(f->cli, "GET", "/items/1", NULL, NULL), 200);
	/* A NULL sink discards the body. */
	status = -1;
	assert_int_equal(http_client_request(f->cli, "GET", "/items/1", NULL, 0, &status, NULL), 0);
	assert_int_equal(status, 200);
}

static void test_server_bad_config(void **state)
{
	struct http_server_config cfg = { .address = "localhost",
					  .port = 0,
					  .authorize = authorize };
	struct http_server *srv = NULL;

	(void)state;
	assert_int_equal(http_server_start(&cfg, routes, &srv), -EINVAL);
	cfg.address = "127.0.0.1";
	cfg.port = 70000;
	assert_int_equal(http_server_start(&cfg, routes, &srv), -EINVAL);
	assert_null(srv);
	http_server_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pct_decode),
		cmocka_unit_test(test_pct_decode_length),
		cmocka_unit_test(test_401_before_routing),
		cmocka_unit_test(test_401_raw),
		cmocka_unit_test(test_observer_and_headers),
		cmocka_unit_test(test_405),
		cmocka_unit_test(test_path_params),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_handler_json),
		cmocka_unit_test(test_handler_without_reply),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_413),
		cmocka_unit_test(test_bad_framing),
		cmocka_unit_test(test_415),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_client_answer_cap),
		cmocka_unit_test(test_server_bad_config),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
