#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base/err.h"
#include "http/client.h"

#define POOL_MAX 8

/* One transfer slot: an easy handle and the multi handle that drives it.
 * The multi handle keeps the slot's connection open between requests. */
struct slot {
	CURLM *multi;
	CURL *easy;
};

struct http_client {
	char base[96]; /* "http://ADDR:PORT", no trailing slash */
	bool https;
	char *ca_pem; /* https: the trusted CAs, PEM text */
	int ca_fd;    /* without CAINFO_BLOB: a memfd holding ca_pem, and its name */
	char ca_path[32];
	struct curl_slist *head;      /* headers of a request without a body */
	struct curl_slist *head_body; /* ... and with a JSON body */
	long timeout_ms;
	pthread_mutex_t lock;
	struct slot idle[POOL_MAX];
	unsigned nidle;
};

/* Where an answer goes, and what the transfer has seen of it. */
struct sink {
	struct buf *resp;
	curl_off_t received; /* header and body bytes */
	bool too_large;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;
static bool have_ca_blob; /* the TLS backend takes CURLOPT_CAINFO_BLOB */

/* curl_global_init is not safe to run twice at once: once per process. */
static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *e = global_rc == CURLE_OK ? curl_easy_init() : NULL;
	static char none[1];
	struct curl_blob b = { none, 0, CURL_BLOB_NOCOPY };
	have_ca_blob = e != NULL && curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b) == CURLE_OK;
	curl_easy_cleanup(e);
}

/* Check "http://ADDR:PORT" or "https://ADDR:PORT" (a numeric address, an
 * optional trailing slash) and keep it without the slash. */
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

	unsigned char addr[16];
	const char *scheme = c->https ? "https" : "http";
	if (inet_pton(AF_INET, host, addr) == 1)
		snprintf(c->base, sizeof(c->base), "%s://%s:%lu", scheme, host, port);
	else if (inet_pton(AF_INET6, host, addr) == 1)
		snprintf(c->base, sizeof(c->base), "%s://[%s]:%lu", scheme, host, port);
	else
		return -EINVAL;
	return 0;
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

/* The CAs as a file libcurl can read, for a libcurl whose TLS backend does
 * not take CURLOPT_CAINFO_BLOB (GnuTLS before curl 8.8; Debian 12 has 7.88):
 * a memfd, named through /proc/self/fd, so the PEM never touches a disk. */
static int ca_file(struct http_client *c)
{
	c->ca_fd = memfd_create("yumna-ca", MFD_CLOEXEC);
	if (c->ca_fd < 0)
		return -errno;
	size_t len = strlen(c->ca_pem);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(c->ca_fd, c->ca_pem + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	snprintf(c->ca_path, sizeof(c->ca_path), "/proc/self/fd/%d", c->ca_fd);
	return 0;
}

static void headers_free(struct curl_slist *l)
{
	for (struct curl_slist *h = l; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data)); /* the key */
	curl_slist_free_all(l);
}

static int header_add(struct curl_slist **l, const char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line); /* NULL: *l untouched */
	if (n == NULL)
		return -ENOMEM;
	*l = n;
	return 0;
}

/* The same headers on every request: JSON both ways, the key, and no
 * "Expect: 100-continue" (which would wait for an answer our peers never
 * send). With a body, its type; without, none (libcurl would otherwise name
 * a form). */
static int headers_make(struct http_client *c, const char *key_header, const char *key)
{
	for (int with_body = 0; with_body < 2; with_body++) {
		struct curl_slist *l = NULL;
		int r = header_add(&l, "Accept: application/json");
		if (r == 0)
			r = header_add(&l, "Expect:");
		if (r == 0)
			r = header_add(&l, with_body ? "Content-Type: application/json"
						     : "Content-Type:");
		if (r == 0 && key_header != NULL && key != NULL) {
			size_t len = strlen(key_header) + strlen(key) + 3;
			char *line = malloc(len);
			r = -ENOMEM;
			if (line != NULL) {
				/* "Name;" is libcurl's way to send an empty value
				 * ("Name:" would remove the header). */
				if (*key != '\0')
					snprintf(line, len, "%s: %s", key_header, key);
				else
					snprintf(line, len, "%s;", key_header);
				r = header_add(&l, line);
				explicit_bzero(line, len);
				free(line);
			}
		}
		if (r < 0) {
			headers_free(l);
			return r;
		}
		if (with_body)
			c->head_body = l;
		else
			c->head = l;
	}
	return 0;
}

int http_client_new(const char *base_url, const char *key_header, const char *key, long timeout_ms,
		    struct http_client **ret)
{
	return http_client_new_tls(base_url, key_header, key, timeout_ms, NULL, ret);
}

int http_client_new_tls(const char *base_url, const char *key_header, const char *key,
			long timeout_ms, const char *ca_pem, struct http_client **ret)
{
	if (key_header != NULL && key != NULL &&
	    (strpbrk(key, "\r\n") != NULL || strpbrk(key_header, "\r\n:") != NULL))
		return -EINVAL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return -ENOMEM;
	struct http_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->ca_fd = -1;
	c->timeout_ms = timeout_ms;
	pthread_mutex_init(&c->lock, NULL);
	int r = parse_base(c, base_url);
	if (r == 0 && c->https != (ca_pem != NULL))
		r = -EINVAL; /* https needs the CAs to trust, and only https uses them */
	if (r == 0 && c->https)
		r = http_tls_ca_check(ca_pem);
	if (r == 0 && c->https) {
		c->ca_pem = strdup(ca_pem);
		r = c->ca_pem == NULL ? -ENOMEM : 0;
	}
	if (r == 0 && c->https && !have_ca_blob)
		r = ca_file(c);
	if (r == 0)
		r = headers_make(c, key_header, key);
	if (r < 0) {
		http_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

static void slot_free(struct slot *s)
{
	curl_easy_cleanup(s->easy);
	curl_multi_cleanup(s->multi); /* closes the slot's connection */
}

void http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->nidle; i++)
		slot_free(&c->idle[i]);
	headers_free(c->head);
	headers_free(c->head_body);
	free(c->ca_pem);
	if (c->ca_fd >= 0)
		close(c->ca_fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct sink *k = ctx;
	k->received += (curl_off_t)n;
	if (k->resp != NULL && buf_append(k->resp, data, n) < 0) {
		k->too_large = true;
		return 0; /* ends the transfer with CURLE_WRITE_ERROR */
	}
	return n;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct sink *k = ctx;
	k->received += (curl_off_t)n;
	return n;
}

/* What every request of a client shares. Everything not needed is off: no
 * redirects, no proxy from the environment, no signals (several threads),
 * no protocol but http(s). Verification is strict: the configured CAs only
 * (not the system's), the certificate must name the address, TLS 1.2+. */
static int easy_setup(struct http_client *c, CURL *e)
{
	CURLcode rc = CURLE_OK;
#define SET(opt, val)                                       \
	do {                                                \
		if (rc == CURLE_OK)                         \
			rc = curl_easy_setopt(e, opt, val); \
	} while (0)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, c->https ? "https" : "http");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_PATH_AS_IS, 1L);
	SET(CURLOPT_TCP_NODELAY, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	if (c->https) {
		SET(CURLOPT_SSL_VERIFYPEER, 1L);
		SET(CURLOPT_SSL_VERIFYHOST, 2L);
		SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		SET(CURLOPT_CAPATH, (char *)NULL);
		if (have_ca_blob) {
			struct curl_blob b = { c->ca_pem, strlen(c->ca_pem), CURL_BLOB_NOCOPY };
			SET(CURLOPT_CAINFO_BLOB, &b);
		} else {
			SET(CURLOPT_CAINFO, c->ca_path);
		}
	}
#undef SET
	return rc == CURLE_OK ? 0 : rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

static int slot_take(struct http_client *c, struct slot *ret)
{
	bool got = false;
	pthread_mutex_lock(&c->lock);
	if (c->nidle > 0) {
		*ret = c->idle[--c->nidle];
		got = true;
	}
	pthread_mutex_unlock(&c->lock);
	if (got)
		return 0;
	ret->multi = curl_multi_init();
	ret->easy = curl_easy_init();
	int r = ret->multi != NULL && ret->easy != NULL ? easy_setup(c, ret->easy) : -ENOMEM;
	if (r < 0)
		slot_free(ret);
	return r;
}

static void slot_give(struct http_client *c, struct slot *s)
{
	pthread_mutex_lock(&c->lock);
	bool kept = c->nidle < POOL_MAX;
	if (kept)
		c->idle[c->nidle++] = *s;
	pthread_mutex_unlock(&c->lock);
	if (!kept)
		slot_free(s);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drive one transfer to its end. libcurl's own timeouts bound a whole
 * transfer; ours bounds each wait, as a slow answer to a large push is not a
 * dead peer: ERR_TIMEOUT once no byte has moved for timeout_ms. */
static int run(struct http_client *c, struct slot *s, const struct sink *k, CURLcode *ret_rc)
{
	if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
		return -ENOMEM;
	long last = now_ms();
	curl_off_t seen = -1;
	int running = 1, r = 0;
	for (;;) {
		if (curl_multi_perform(s->multi, &running) != CURLM_OK) {
			r = -ENOMEM;
			break;
		}
		if (running == 0)
			break;
		curl_off_t sent = 0;
		curl_easy_getinfo(s->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
		long now = now_ms();
		if (sent + k->received != seen) {
			seen = sent + k->received;
			last = now;
		} else if (now - last >= c->timeout_ms) {
			r = ERR_TIMEOUT;
			break;
		}
		if (curl_multi_poll(s->multi, NULL, 0, (int)(last + c->timeout_ms - now), NULL) !=
		    CURLM_OK) {
			r = -ENOMEM;
			break;
		}
	}
	CURLMsg *m;
	int left;
	*ret_rc = CURLE_OK;
	while (r == 0 && (m = curl_multi_info_read(s->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE)
			*ret_rc = m->data.result;
	curl_multi_remove_handle(s->multi, s->easy); /* mid-transfer: closes the connection */
	return r;
}

static int result_err(CURLcode rc, const struct sink *k)
{
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return ERR_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return ERR_TLS_VERIFY;
	case CURLE_WRITE_ERROR:
		return k->too_large ? ERR_TOO_LARGE : ERR_UPSTREAM;
	case CURLE_UNSUPPORTED_PROTOCOL: /* only http(s) is asked for: an HTTP/0.9 answer */
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_PARTIAL_FILE:
	case CURLE_BAD_CONTENT_ENCODING:
		return ERR_UPSTREAM; /* not HTTP/1.1, or cut short */
	case CURLE_OUT_OF_MEMORY:
		/* libcurl 7.x also says this of a header past its own cap */
		return k->received > 0 ? ERR_UPSTREAM : -ENOMEM;
	default:
		/* Refused, reset, nothing answered, a failed handshake; a
		 * connection that fails in the middle of an answer must not pass
		 * for a peer that is down. */
		return k->received > 0 ? ERR_UPSTREAM : ERR_UNAVAILABLE;
	}
}

int http_client_request(struct http_client *c, const char *method, const char *path,
			const char *body, size_t body_len, long *ret_status, struct buf *resp)
{
	if (strpbrk(method, " \r\n") != NULL || strpbrk(path, " \r\n") != NULL || path[0] != '/')
		return -EINVAL;
	size_t url_len = strlen(c->base) + strlen(path) + 1;
	char *url = malloc(url_len);
	if (url == NULL)
		return -ENOMEM;
	snprintf(url, url_len, "%s%s", c->base, path);

	struct slot s;
	int r = slot_take(c, &s);
	if (r < 0) {
		free(url);
		return r;
	}
	struct sink k = { .resp = resp };
	CURL *e = s.easy;
	CURLcode rc = CURLE_OK;
	/* Always a Content-Length, 0 without a body, as before. libcurl copies
	 * the URL; the body is read during the transfer. */
	if ((rc = curl_easy_setopt(e, CURLOPT_URL, url)) == CURLE_OK &&
	    (rc = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method)) == CURLE_OK &&
	    (rc = curl_easy_setopt(e, CURLOPT_POSTFIELDS, body != NULL ? body : "")) == CURLE_OK &&
	    (rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				   (curl_off_t)(body != NULL ? body_len : 0))) == CURLE_OK &&
	    (rc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, body != NULL ? c->head_body : c->head)) ==
		CURLE_OK &&
	    (rc = curl_easy_setopt(e, CURLOPT_WRITEDATA, &k)) == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_HEADERDATA, &k);
	free(url);
	if (rc == CURLE_OK)
		r = run(c, &s, &k, &rc);
	else
		r = rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
	if (r == 0)
		r = result_err(rc, &k);
	if (r == 0)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, ret_status);
	slot_give(c, &s);
	return r;
}

int http_pct_encode(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		bool plain = isalnum(*p) || *p == '-' || *p == '_';
		if (o + (plain ? 1 : 3) + 1 > outlen) { /* with the final NUL */
			if (outlen > 0)
				out[0] = '\0';
			return -ENAMETOOLONG;
		}
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	if (outlen == 0)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}
