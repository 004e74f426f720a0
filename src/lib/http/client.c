#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/err.h"
#include "http/client.h"

#define POOL_MAX 8

struct http_client {
	char *base;
	char *auth_header;	/* "Name: key", or NULL */
	long timeout_ms;
	pthread_mutex_t lock;
	CURL *idle[POOL_MAX];
	unsigned nidle;
};

int http_client_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

int http_client_new(const char *base_url, const char *key_header, const char *key,
		    long timeout_ms, struct http_client **ret)
{
	struct http_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->base = strdup(base_url);
	if (key_header != NULL && key != NULL) {
		size_t n = strlen(key_header) + strlen(key) + 3;
		c->auth_header = malloc(n);
		if (c->auth_header != NULL)
			snprintf(c->auth_header, n, "%s: %s", key_header, key);
	}
	if (c->base == NULL || (key_header != NULL && key != NULL && c->auth_header == NULL)) {
		http_client_free(c);
		return -ENOMEM;
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
		curl_easy_cleanup(c->idle[i]);
	if (c->auth_header != NULL)
		explicit_bzero(c->auth_header, strlen(c->auth_header));
	free(c->auth_header);
	free(c->base);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static CURL *take_handle(struct http_client *c)
{
	CURL *h = NULL;
	pthread_mutex_lock(&c->lock);
	if (c->nidle > 0)
		h = c->idle[--c->nidle];
	pthread_mutex_unlock(&c->lock);
	return h ? h : curl_easy_init();
}

static void give_handle(struct http_client *c, CURL *h)
{
	pthread_mutex_lock(&c->lock);
	if (c->nidle < POOL_MAX) {
		c->idle[c->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (h != NULL)
		curl_easy_cleanup(h);
}

struct sink {
	struct buf *b;
	int err;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;
	if (s->b == NULL)
		return n;
	int r = buf_append(s->b, ptr, n);
	if (r < 0) {
		s->err = r == -E2BIG ? ERR_TOO_LARGE : r;
		return 0;
	}
	return n;
}

int http_client_request(struct http_client *c, const char *method, const char *path,
			const char *body, size_t body_len, long *ret_status, struct buf *resp)
{
	size_t ulen = strlen(c->base) + strlen(path) + 1;
	char *url = malloc(ulen);
	CURL *h = take_handle(c);
	struct curl_slist *hdrs = NULL;
	struct sink sink = { resp, 0 };
	int r = 0;

	if (url == NULL || h == NULL) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(url, ulen, "%s%s", c->base, path);

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (c->auth_header != NULL)
		hdrs = curl_slist_append(hdrs, c->auth_header);
	if (body != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

	CURLcode cc = curl_easy_perform(h);
	if (sink.err < 0) {
		r = sink.err;
	} else if (cc != CURLE_OK) {
		r = cc == CURLE_OPERATION_TIMEDOUT ? ERR_TIMEOUT : ERR_UNAVAILABLE;
	} else {
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		*ret_status = status;
	}
out:
	curl_slist_free_all(hdrs);
	free(url);
	if (h != NULL) {
		if (r < 0) {
			curl_easy_cleanup(h);
		} else {
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
			give_handle(c, h);
		}
	}
	return r;
}
