/* Unit tests for src/lib/http/client.c against peers that misbehave.
 *
 * Each test starts a scripted peer on 127.0.0.1 (a port chosen at run
 * time): a thread that accepts one connection, reads the request and then
 * answers what the test asks for, or nothing. The well-behaved exchanges
 * (methods, keys, caps, threads) are in test_http.c, against http_server. */
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

#include "base/buf.h"
#include "base/err.h"
#include "http/client.h"

/* A peer that answers one request with 'parts', 'gap_ms' apart, then
 * closes (or, with 'hold_ms', waits that long first). */
struct peer {
	int fd;
	unsigned port;
	pthread_t thread;
	const char *const *parts;
	long gap_ms;
	long hold_ms;
	char request[2048]; /* what the client sent, up to the blank line */
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static void *peer_run(void *arg)
{
	struct peer *p = arg;
	size_t n = 0;
	int c = accept(p->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	while (n < sizeof(p->request) - 1 && strstr(p->request, "\r\n\r\n") == NULL) {
		struct pollfd pf = { .fd = c, .events = POLLIN };
		if (poll(&pf, 1, 5000) <= 0)
			break;
		ssize_t r = recv(c, p->request + n, sizeof(p->request) - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		p->request[n] = '\0';
	}
	for (size_t i = 0; p->parts != NULL && p->parts[i] != NULL; i++) {
		if (i > 0)
			sleep_ms(p->gap_ms);
		if (send(c, p->parts[i], strlen(p->parts[i]), MSG_NOSIGNAL) < 0)
			break;
	}
	sleep_ms(p->hold_ms);
	close(c);
	return NULL;
}

static void peer_start(struct peer *p, const char *const *parts, long gap_ms, long hold_ms)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	memset(p, 0, sizeof(*p));
	p->parts = parts;
	p->gap_ms = gap_ms;
	p->hold_ms = hold_ms;
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(p->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(p->fd, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(listen(p->fd, 4), 0);
	p->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&p->thread, NULL, peer_run, p), 0);
}

static void peer_join(struct peer *p)
{
	pthread_join(p->thread, NULL);
	close(p->fd);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* One request to the peer; returns the client's result. */
static int exchange(struct peer *p, long timeout_ms, const char *method, const char *body,
		    long *status, struct buf *resp, long *ret_ms)
{
	struct http_client *c = NULL;
	struct timespec t0;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", p->port);
	assert_int_equal(http_client_new(url, "X-Key", "secret-1", timeout_ms, &c), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = http_client_request(c, method, "/a/b%2Fc?x=1", body, body ? strlen(body) : 0,
				    status, resp);
	if (ret_ms != NULL)
		*ret_ms = elapsed_ms(&t0);
	http_client_free(c);
	return r;
}

/* What goes on the wire: the method, the path as given, JSON both ways,
 * the key, a Content-Length even without a body, nothing else to wait on. */
static void test_request_on_the_wire(void **state)
{
	static const char *const ok[] = { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", NULL };
	struct peer p;
	struct buf resp;
	long status = -1;

	(void)state;
	buf_init(&resp, 64);
	peer_start(&p, ok, 0, 0);
	assert_int_equal(exchange(&p, 2000, "PATCH", "{\"a\":1}", &status, &resp, NULL), 0);
	peer_join(&p);
	assert_int_equal(status, 200);
	assert_int_equal(resp.len, 2);
	assert_non_null(strstr(p.request, "PATCH /a/b%2Fc?x=1 HTTP/1.1\r\n"));
	assert_non_null(strstr(p.request, "\r\nHost: 127.0.0.1:"));
	assert_non_null(strstr(p.request, "\r\nAccept: application/json\r\n"));
	assert_non_null(strstr(p.request, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(p.request, "\r\nContent-Length: 7\r\n"));
	assert_non_null(strstr(p.request, "\r\nX-Key: secret-1\r\n"));
	assert_null(strstr(p.request, "Expect:"));

	buf_reset(&resp);
	peer_start(&p, ok, 0, 0);
	assert_int_equal(exchange(&p, 2000, "DELETE", NULL, &status, &resp, NULL), 0);
	peer_join(&p);
	assert_non_null(strstr(p.request, "DELETE /a/b%2Fc?x=1 HTTP/1.1\r\n"));
	assert_non_null(strstr(p.request, "\r\nContent-Length: 0\r\n"));
	assert_null(strstr(p.request, "Content-Type"));
	buf_free(&resp);
}

/* A peer that does not speak HTTP, or cuts its answer short, is an
 * upstream error, not a peer that is down. */
static void test_not_http_is_upstream(void **state)
{
	static const char *const ssh[] = { "SSH-2.0-OpenSSH_9.2\r\n", NULL };
	static const char *const cut[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n{\"partial\":", NULL
	};
	static const char *const bad_chunk[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", NULL
	};
	const char *const *cases[] = { ssh, cut, bad_chunk };
	struct peer p;
	struct buf resp;
	long status;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&resp, 1024);
		peer_start(&p, cases[i], 0, 0);
		int r = exchange(&p, 2000, "GET", NULL, &status, &resp, NULL);
		peer_join(&p);
		buf_free(&resp);
		if (r != ERR_UPSTREAM)
			fail_msg("case %zu: %d (%s), want ERR_UPSTREAM", i, r, err_str(r));
	}
}

/* Accepted, read, never answered: ERR_TIMEOUT after about timeout_ms. */
static void test_silent_peer_times_out(void **state)
{
	struct peer p;
	long status = -1, ms;

	(void)state;
	peer_start(&p, NULL, 0, 1500);
	assert_int_equal(exchange(&p, 300, "GET", NULL, &status, NULL, &ms), ERR_TIMEOUT);
	peer_join(&p);
	assert_int_equal(status, -1);
	if (ms < 250 || ms > 1400)
		fail_msg("timed out after %ld ms, want about 300", ms);
}

/* The timeout bounds each wait, not the exchange: an answer that keeps
 * coming, slower in total than the timeout, is read to its end. */
static void test_slow_answer_is_read(void **state)
{
	static const char *const drip[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", "a", "b", "c", "d", NULL
	};
	struct peer p;
	struct buf resp;
	long status = -1, ms;

	(void)state;
	buf_init(&resp, 64);
	peer_start(&p, drip, 150, 0);
	assert_int_equal(exchange(&p, 400, "GET", NULL, &status, &resp, &ms), 0);
	peer_join(&p);
	assert_int_equal(status, 200);
	assert_int_equal(resp.len, 4);
	assert_memory_equal(resp.data, "abcd", 4);
	assert_true(ms >= 600);
	buf_free(&resp);
}

/* A redirect is an answer like any other, and no proxy from the
 * environment stands between the client and its peer. */
static void test_no_redirect_no_proxy(void **state)
{
	static const char *const moved[] = {
		"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/x\r\nContent-Length: 0\r\n\r\n",
		NULL
	};
	struct peer p;
	long status = -1;

	(void)state;
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
	peer_start(&p, moved, 0, 0);
	int r = exchange(&p, 2000, "GET", NULL, &status, NULL, NULL);
	peer_join(&p);
	unsetenv("http_proxy");
	unsetenv("ALL_PROXY");
	assert_int_equal(r, 0);
	assert_int_equal(status, 302);
	assert_non_null(strstr(p.request, "GET /a/b%2Fc?x=1 HTTP/1.1\r\n"));
}

/* Nothing listens: ERR_UNAVAILABLE, nothing written to the answer. */
static void test_refused_is_unavailable(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct http_client *c = NULL;
	struct buf resp;
	long status = -1;
	char url[64];
	/* Bound but not listening: the port is ours and refuses. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(a.sin_port));
	assert_int_equal(http_client_new(url, NULL, NULL, 1000, &c), 0);
	buf_init(&resp, 64);
	assert_int_equal(http_client_request(c, "GET", "/x", NULL, 0, &status, &resp),
			 ERR_UNAVAILABLE);
	assert_int_equal(status, -1);
	assert_int_equal(resp.len, 0);
	/* And again, on a fresh connection attempt. */
	assert_int_equal(http_client_request(c, "POST", "/x", "{}", 2, &status, &resp),
			 ERR_UNAVAILABLE);
	buf_free(&resp);
	http_client_free(c);
	close(fd);
}

static void test_bad_base(void **state)
{
	static const char *const bad[] = {
		"https://127.0.0.1:8081", "127.0.0.1:8081",	"http://localhost:8081",
		"http://127.0.0.1",	  "http://127.0.0.1:0", "http://127.0.0.1:65536",
		"http://[::1]8081",	  "ftp://127.0.0.1:21",
	};
	struct http_client *c = NULL;
	long status;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (http_client_new(bad[i], NULL, NULL, 1000, &c) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	}
	/* A key that would inject a header line. */
	assert_int_equal(
	    http_client_new("http://127.0.0.1:1", "X-Key", "a\r\nHost: evil", 1000, &c), -EINVAL);
	assert_null(c);
	/* CAs for http, or https without CAs or with no certificate in them. */
	assert_int_equal(http_client_new_tls("http://127.0.0.1:1", NULL, NULL, 1000, "x", &c),
			 -EINVAL);
	assert_int_equal(
	    http_client_new_tls("https://127.0.0.1:1", NULL, NULL, 1000, "not a certificate\n", &c),
	    -EINVAL);
	assert_int_equal(http_tls_ca_check("not a certificate\n"), -EINVAL);
	assert_null(c);
	assert_int_equal(http_client_new("http://[::1]:8081", NULL, NULL, 1000, &c), 0);
	/* A path or method that would break the request line. */
	assert_int_equal(http_client_request(c, "GET", "x", NULL, 0, &status, NULL), -EINVAL);
	assert_int_equal(http_client_request(c, "GET", "/a b", NULL, 0, &status, NULL), -EINVAL);
	assert_int_equal(http_client_request(c, "GET /x", "/", NULL, 0, &status, NULL), -EINVAL);
	http_client_free(c);
	http_client_free(NULL);
}

static void test_pct_encode_keeps_only_letters_digits_dash_underscore(void **state)
{
	(void)state;
	char out[64], small[8];

	assert_int_equal(http_pct_encode("www.Example-1_a.", out, sizeof(out)), 0);
	assert_string_equal(out, "www%2EExample-1_a%2E");
	assert_int_equal(http_pct_encode(".", out, sizeof(out)), 0);
	assert_string_equal(out, "%2E");
	assert_int_equal(http_pct_encode("a?b#c%d\\032\xc3", out, sizeof(out)), 0);
	assert_string_equal(out, "a%3Fb%23c%25d%5C032%C3");
	assert_int_equal(http_pct_encode("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* Exactly fits (with its NUL), then one byte too many. */
	assert_int_equal(http_pct_encode("abcd%", small, sizeof(small)), 0);
	assert_string_equal(small, "abcd%25");
	assert_int_equal(http_pct_encode("abcd%", out, 7), -ENAMETOOLONG);
	assert_string_equal(out, "");
	assert_int_equal(http_pct_encode("abcdefgh", small, sizeof(small)), -ENAMETOOLONG);
	assert_int_equal(http_pct_encode("abcdefg", small, sizeof(small)), 0);
	assert_string_equal(small, "abcdefg");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_on_the_wire),
		cmocka_unit_test(test_not_http_is_upstream),
		cmocka_unit_test(test_silent_peer_times_out),
		cmocka_unit_test(test_slow_answer_is_read),
		cmocka_unit_test(test_no_redirect_no_proxy),
		cmocka_unit_test(test_refused_is_unavailable),
		cmocka_unit_test(test_bad_base),
		cmocka_unit_test(test_pct_encode_keeps_only_letters_digits_dash_underscore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
