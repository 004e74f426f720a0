#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base/err.h"
#include "http/client.h"

#define POOL_MAX 8
#define HEAD_MAX (64u << 10)

/* One connection: a socket, and its TLS session for https. */
struct conn {
	int fd;
	gnutls_session_t tls; /* NULL for plain HTTP */
};

struct http_client {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr;
	socklen_t addr_len;
	char host[80];	    /* for the Host header */
	char addr_text[64]; /* the numeric address, which the certificate must name */
	bool https;
	gnutls_certificate_credentials_t cred; /* https: the trusted CAs */
	char *key_line;			       /* "Name: key\r\n" or NULL */
	long timeout_ms;
	pthread_mutex_t lock;
	struct conn idle[POOL_MAX];
	unsigned nidle;
};

static void conn_close(struct conn *cn)
{
	if (cn->tls != NULL)
		gnutls_deinit(cn->tls);
	cn->tls = NULL;
	if (cn->fd >= 0)
		close(cn->fd);
	cn->fd = -1;
}

/* Parse "http://ADDR:PORT" or "https://ADDR:PORT" with a numeric address. */
static int parse_base(struct http_client *c, const char *url)
{
	char host[64];
	const char *p;
	if (strncmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		p = url + 8;
		c->https = true;
	} else {
		return -EINVAL;
	}
	const char *end;
	if (*p == '[') {
		end = strchr(p, ']');
		if (end == NULL || end[1] != ':')
			return -EINVAL;
		p++;
	} else {
		end = strrchr(p, ':');
		if (end == NULL)
			return -EINVAL;
	}
	size_t hlen = (size_t)(end - p);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, p, hlen);
	host[hlen] = '\0';
	const char *port_text = end + (*end == ']' ? 2 : 1);
	char *stop;
	unsigned long port = strtoul(port_text, &stop, 10);
	if (!isdigit((unsigned char)*port_text) || port == 0 || port > 65535 ||
	    (*stop != '\0' && strcmp(stop, "/") != 0))
		return -EINVAL;

	memset(&c->addr, 0, sizeof(c->addr));
	snprintf(c->addr_text, sizeof(c->addr_text), "%s", host);
	if (inet_pton(AF_INET, host, &c->addr.in4.sin_addr) == 1) {
		c->addr.in4.sin_family = AF_INET;
		c->addr.in4.sin_port = htons((uint16_t)port);
		c->addr_len = sizeof(c->addr.in4);
		snprintf(c->host, sizeof(c->host), "%s:%lu", host, port);
	} else if (inet_pton(AF_INET6, host, &c->addr.in6.sin6_addr) == 1) {
		c->addr.in6.sin6_family = AF_INET6;
		c->addr.in6.sin6_port = htons((uint16_t)port);
		c->addr_len = sizeof(c->addr.in6);
		snprintf(c->host, sizeof(c->host), "[%s]:%lu", host, port);
	} else {
		return -EINVAL;
	}
	return 0;
}

int http_client_new(const char *base_url, const char *key_header, const char *key, long timeout_ms,
		    struct http_client **ret)
{
	return http_client_new_tls(base_url, key_header, key, timeout_ms, NULL, ret);
}

int http_tls_ca_check(const char *ca_pem)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t d = { (unsigned char *)ca_pem, (unsigned)strlen(ca_pem) };
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return -ENOMEM;
	int n = gnutls_certificate_set_x509_trust_mem(cred, &d, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	return n > 0 ? 0 : -EINVAL;
}

int http_client_new_tls(const char *base_url, const char *key_header, const char *key,
			long timeout_ms, const char *ca_pem, struct http_client **ret)
{
	struct http_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	int r = parse_base(c, base_url);
	if (r == 0 && c->https != (ca_pem != NULL))
		r = -EINVAL; /* https needs the CAs to trust, and only https uses them */
	if (r == 0 && c->https) {
		gnutls_datum_t d = { (unsigned char *)ca_pem, (unsigned)strlen(ca_pem) };
		if (gnutls_certificate_allocate_credentials(&c->cred) < 0) {
			c->cred = NULL;
			r = -ENOMEM;
		} else if (gnutls_certificate_set_x509_trust_mem(c->cred, &d,
								 GNUTLS_X509_FMT_PEM) <= 0) {
			r = -EINVAL; /* no certificate in it */
		}
	}
	if (r < 0) {
		if (c->cred != NULL)
			gnutls_certificate_free_credentials(c->cred);
		free(c);
		return r;
	}
	if (key_header != NULL && key != NULL) {
		if (strpbrk(key, "\r\n") != NULL || strpbrk(key_header, "\r\n:") != NULL) {
			if (c->cred != NULL)
				gnutls_certificate_free_credentials(c->cred);
			free(c);
			return -EINVAL;
		}
		size_t n = strlen(key_header) + strlen(key) + 5;
		c->key_line = malloc(n);
		if (c->key_line == NULL) {
			if (c->cred != NULL)
				gnutls_certificate_free_credentials(c->cred);
			free(c);
			return -ENOMEM;
		}
		snprintf(c->key_line, n, "%s: %s\r\n", key_header, key);
	}
	c->timeout_ms = timeout_ms;
	pthread_mutex_init(&c->lock, NULL);
	*ret = c;
	return 0;
}

void http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->nidle; i++)
		conn_close(&c->idle[i]);
	if (c->cred != NULL)
		gnutls_certificate_free_credentials(c->cred);
	if (c->key_line != NULL)
		explicit_bzero(c->key_line, strlen(c->key_line));
	free(c->key_line);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static bool take_idle(struct http_client *c, struct conn *ret)
{
	bool got = false;
	pthread_mutex_lock(&c->lock);
	if (c->nidle > 0) {
		*ret = c->idle[--c->nidle];
		got = true;
	}
	pthread_mutex_unlock(&c->lock);
	return got;
}

static void give_idle(struct http_client *c, struct conn *cn)
{
	pthread_mutex_lock(&c->lock);
	if (c->nidle < POOL_MAX) {
		c->idle[c->nidle++] = *cn;
		cn->fd = -1;
		cn->tls = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	conn_close(cn);
}

static int wait_fd(int fd, short events, long timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	for (;;) {
		int n = poll(&p, 1, (int)timeout_ms);
		if (n > 0)
			return 0;
		if (n == 0)
			return ERR_TIMEOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_new(struct http_client *c)
{
	int fd = socket(c->addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, &c->addr.sa, c->addr_len) < 0) {
		int r =
		    errno == EINPROGRESS ? wait_fd(fd, POLLOUT, c->timeout_ms) : ERR_UNAVAILABLE;
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		if (r == 0 &&
		    (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0))
			r = ERR_UNAVAILABLE;
		if (r < 0) {
			close(fd);
			return r == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_UNAVAILABLE;
		}
	}
	return fd;
}

/* The TLS handshake on a connected non-blocking socket; the peer's
 * certificate must chain to the configured CAs and name the address we
 * connected to (an IP address in its subjectAltName). */
static int tls_start(struct http_client *c, struct conn *cn)
{
	if (gnutls_init(&cn->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
		cn->tls = NULL;
		return -ENOMEM;
	}
	if (gnutls_priority_set_direct(cn->tls, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
				       NULL) < 0 ||
	    gnutls_credentials_set(cn->tls, GNUTLS_CRD_CERTIFICATE, c->cred) < 0)
		return -ENOMEM;
	gnutls_session_set_verify_cert(cn->tls, c->addr_text, 0);
	gnutls_transport_set_int(cn->tls, cn->fd);
	gnutls_handshake_set_timeout(cn->tls, (unsigned)c->timeout_ms);
	for (;;) {
		int r = gnutls_handshake(cn->tls);
		if (r == GNUTLS_E_SUCCESS)
			return 0;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			int w =
			    wait_fd(cn->fd, gnutls_record_get_direction(cn->tls) ? POLLOUT : POLLIN,
				    c->timeout_ms);
			if (w < 0)
				return w == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_UNAVAILABLE;
			continue;
		}
		if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR || r == GNUTLS_E_CERTIFICATE_ERROR)
			return ERR_TLS_VERIFY;
		if (gnutls_error_is_fatal(r))
			return ERR_UNAVAILABLE;
	}
}

static int conn_open(struct http_client *c, struct conn *cn)
{
	cn->tls = NULL;
	cn->fd = connect_new(c);
	if (cn->fd < 0)
		return cn->fd;
	if (!c->https)
		return 0;
	int r = tls_start(c, cn);
	if (r < 0)
		conn_close(cn);
	return r;
}

static int send_all(struct conn *cn, const char *p, size_t n, long timeout_ms)
{
	int fd = cn->fd;
	while (n > 0 && cn->tls != NULL) {
		ssize_t w = gnutls_record_send(cn->tls, p, n);
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED) {
			int r = wait_fd(fd, POLLOUT, timeout_ms);
			if (r < 0)
				return r;
			continue;
		}
		if (w < 0)
			return ERR_UNAVAILABLE;
		p += w;
		n -= (size_t)w;
	}
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN) {
				int r = wait_fd(fd, POLLOUT, timeout_ms);
				if (r < 0)
					return r;
				continue;
			}
			if (errno == EINTR)
				continue;
			return ERR_UNAVAILABLE;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads from a connection through a small buffer. */
struct reader {
	int fd;
	gnutls_session_t tls;
	long timeout_ms;
	char buf[16384];
	size_t pos, len;
	bool got_any;
};

static int fill(struct reader *rd)
{
	while (rd->tls != NULL) {
		ssize_t n = gnutls_record_recv(rd->tls, rd->buf, sizeof(rd->buf));
		if (n > 0) {
			rd->pos = 0;
			rd->len = (size_t)n;
			rd->got_any = true;
			return 0;
		}
		if (n == GNUTLS_E_INTERRUPTED)
			continue;
		/* A close_notify ends the stream. A connection that fails before
		 * answering anything was a stale one from the pool; one that fails
		 * in the middle of an answer must not pass for its end. */
		if (n == 0 || (n != GNUTLS_E_AGAIN && !rd->got_any))
			return -ECONNRESET;
		if (n != GNUTLS_E_AGAIN)
			return ERR_UPSTREAM;
		int r = wait_fd(rd->fd, POLLIN, rd->timeout_ms);
		if (r < 0)
			return r;
	}
	for (;;) {
		ssize_t n = recv(rd->fd, rd->buf, sizeof(rd->buf), 0);
		if (n > 0) {
			rd->pos = 0;
			rd->len = (size_t)n;
			rd->got_any = true;
			return 0;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -ECONNRESET;
		int r = wait_fd(rd->fd, POLLIN, rd->timeout_ms);
		if (r < 0)
			return r;
	}
}

/* One line ending in CRLF into 'line' (without it). */
static int read_line(struct reader *rd, struct buf *line)
{
	buf_reset(line);
	for (;;) {
		if (rd->pos == rd->len) {
			int r = fill(rd);
			if (r < 0)
				return r;
		}
		char *nl = memchr(rd->buf + rd->pos, '\n', rd->len - rd->pos);
		size_t take = nl ? (size_t)(nl - (rd->buf + rd->pos)) + 1 : rd->len - rd->pos;
		if (buf_append(line, rd->buf + rd->pos, take) < 0)
			return ERR_UPSTREAM;
		rd->pos += take;
		if (nl != NULL) {
			line->len -= 1;
			if (line->len > 0 && line->data[line->len - 1] == '\r')
				line->len--;
			line->data[line->len] = '\0';
			return 0;
		}
	}
}

static int read_body(struct reader *rd, size_t n, struct buf *resp)
{
	while (n > 0) {
		if (rd->pos == rd->len) {
			int r = fill(rd);
			if (r < 0)
				return r == -ECONNRESET ? ERR_UPSTREAM : r;
		}
		size_t take = rd->len - rd->pos < n ? rd->len - rd->pos : n;
		if (resp != NULL && buf_append(resp, rd->buf + rd->pos, take) < 0)
			return ERR_TOO_LARGE;
		rd->pos += take;
		n -= take;
	}
	return 0;
}

static int parse_size(const char *text, int base, size_t *ret)
{
	char *end;
	if (!isxdigit((unsigned char)*text))
		return ERR_UPSTREAM;
	errno = 0;
	unsigned long long v = strtoull(text, &end, base);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno != 0 || (*end != '\0' && *end != ';') || v > (1ull << 32))
		return ERR_UPSTREAM;
	*ret = (size_t)v;
	return 0;
}

static int read_chunked(struct reader *rd, struct buf *line, struct buf *resp)
{
	for (;;) {
		size_t n = 0;
		int r = read_line(rd, line);
		if (r == 0)
			r = parse_size(line->data, 16, &n);
		if (r < 0)
			return r == -ECONNRESET ? ERR_UPSTREAM : r;
		if (n == 0)
			break;
		r = read_body(rd, n, resp);
		if (r == 0)
			r = read_line(rd, line);
		if (r < 0)
			return r == -ECONNRESET ? ERR_UPSTREAM : r;
	}
	do { /* trailers up to the empty line */
		int r = read_line(rd, line);
		if (r < 0)
			return ERR_UPSTREAM;
	} while (line->len > 0);
	return 0;
}

/* Read one answer. *keep tells whether the connection may be reused. */
static int read_response(struct reader *rd, long *status, struct buf *resp, bool *keep)
{
	struct buf line;
	size_t length = 0;
	bool have_length = false, chunked = false;
	int r;

	buf_init(&line, HEAD_MAX);
	*keep = true;
	r = read_line(rd, &line);
	if (r < 0)
		goto out;
	if (strncmp(line.data, "HTTP/1.", 7) != 0 || line.len < 12 || line.data[8] != ' ') {
		r = ERR_UPSTREAM;
		goto out;
	}
	*status = strtol(line.data + 9, NULL, 10);
	if (line.data[7] == '0')
		*keep = false;
	for (;;) {
		r = read_line(rd, &line);
		if (r < 0)
			goto out;
		if (line.len == 0)
			break;
		char *colon = strchr(line.data, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(line.data, "Content-Length") == 0) {
			r = parse_size(v, 10, &length);
			if (r < 0)
				goto out;
			have_length = true;
		} else if (strcasecmp(line.data, "Transfer-Encoding") == 0) {
			chunked = strcasecmp(v, "chunked") == 0;
		} else if (strcasecmp(line.data, "Connection") == 0) {
			if (strcasecmp(v, "close") == 0)
				*keep = false;
		}
	}
	if (chunked) {
		r = read_chunked(rd, &line, resp);
	} else if (have_length) {
		r = read_body(rd, length, resp);
	} else {
		*keep = false; /* the body ends when the peer closes */
		for (;;) {
			r = fill(rd);
			if (r == -ECONNRESET) {
				r = 0;
				break;
			}
			if (r < 0)
				break;
			if (resp != NULL && buf_append(resp, rd->buf, rd->len) < 0) {
				r = ERR_TOO_LARGE;
				break;
			}
			rd->pos = rd->len;
		}
	}
	if (rd->pos != rd->len)
		*keep = false; /* unexpected bytes after the answer */
out:
	buf_free(&line);
	if (r == -ECONNRESET)
		r = rd->got_any ? ERR_UPSTREAM : ERR_UNAVAILABLE;
	return r;
}

static int build_request(struct http_client *c, const char *method, const char *path,
			 size_t body_len, bool has_body, struct buf *out)
{
	if (strpbrk(method, " \r\n") != NULL || strpbrk(path, " \r\n") != NULL || path[0] != '/')
		return -EINVAL;
	int r = buf_printf(out, "%s %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n%s",
			   method, path, c->host, c->key_line ? c->key_line : "");
	if (r == 0 && has_body)
		r = buf_printf(out, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			       body_len);
	else if (r == 0)
		r = buf_puts(out, "Content-Length: 0\r\n\r\n");
	return r;
}

int http_client_request(struct http_client *c, const char *method, const char *path,
			const char *body, size_t body_len, long *ret_status, struct buf *resp)
{
	struct buf req;
	size_t resp_start = resp ? resp->len : 0;
	int r;

	buf_init(&req, HEAD_MAX);
	r = build_request(c, method, path, body_len, body != NULL, &req);
	if (r < 0) {
		buf_free(&req);
		return r;
	}
	/* A pooled connection may have been closed by the peer meanwhile: if it
	 * fails before any answer arrives, try once more on a new one. */
	for (int attempt = 0; attempt < 2; attempt++) {
		struct conn cn = { -1, NULL };
		bool reused = attempt == 0 && take_idle(c, &cn);
		if (!reused) {
			r = conn_open(c, &cn);
			if (r < 0)
				break;
		}
		struct reader *rd = malloc(sizeof(*rd));
		if (rd == NULL) {
			conn_close(&cn);
			r = -ENOMEM;
			break;
		}
		rd->fd = cn.fd;
		rd->tls = cn.tls;
		rd->timeout_ms = c->timeout_ms;
		rd->pos = rd->len = 0;
		rd->got_any = false;
		bool keep = false;
		r = send_all(&cn, req.data, req.len, c->timeout_ms);
		if (r == 0 && body != NULL)
			r = send_all(&cn, body, body_len, c->timeout_ms);
		if (r == 0)
			r = read_response(rd, ret_status, resp, &keep);
		bool retry = reused && r == ERR_UNAVAILABLE && !rd->got_any;
		free(rd);
		if (r == 0 && keep)
			give_idle(c, &cn);
		else
			conn_close(&cn);
		if (!retry)
			break;
		if (resp != NULL)
			resp->len = resp_start;
	}
	buf_free(&req);
	return r;
}
