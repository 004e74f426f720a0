#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "model/ztree.h"

struct ztree {
	pthread_mutex_t lock;
	struct ztree_node *bucket; /* ZTREE_BUCKETS */
};

int ztree_new(struct ztree **ret)
{
	struct ztree *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->bucket = calloc(ZTREE_BUCKETS, sizeof(*t->bucket));
	if (t->bucket == NULL) {
		free(t);
		return -ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	*ret = t;
	return 0;
}

void ztree_free(struct ztree *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->bucket);
	free(t);
}

unsigned ztree_bucket(const char *zone)
{
	unsigned char h[32];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, zone, strlen(zone), h) < 0)
		return 0;
	return (unsigned)h[0] << 8 | h[1];
}

static void leaf(const char *zone, uint64_t version, const char *digest, uint8_t out[16])
{
	char text[512];
	unsigned char h[32];
	int n =
	    snprintf(text, sizeof(text), "%s %llu %s", zone, (unsigned long long)version, digest);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, text, (size_t)n, h) < 0)
		memset(h, 0xff, sizeof(h)); /* cannot happen for valid names */
	memcpy(out, h, 16);
}

void ztree_node_toggle(struct ztree_node *acc, const char *zone, uint64_t version,
		       const char *digest, int count)
{
	uint8_t l[16];
	leaf(zone, version, digest, l);
	for (unsigned i = 0; i < 16; i++)
		acc->hash[i] ^= l[i];
	acc->zones += (uint64_t)(int64_t)count;
}

void ztree_toggle(struct ztree *t, const char *zone, uint64_t version, const char *digest,
		  int count)
{
	struct ztree_node one = { { 0 }, 0 };
	ztree_node_toggle(&one, zone, version, digest, count);
	unsigned b = ztree_bucket(zone);
	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < 16; i++)
		t->bucket[b].hash[i] ^= one.hash[i];
	t->bucket[b].zones += one.zones;
	pthread_mutex_unlock(&t->lock);
}

void ztree_clear(struct ztree *t)
{
	pthread_mutex_lock(&t->lock);
	memset(t->bucket, 0, ZTREE_BUCKETS * sizeof(*t->bucket));
	pthread_mutex_unlock(&t->lock);
}

void ztree_bucket_set(struct ztree *t, unsigned bucket, const struct ztree_node *v)
{
	pthread_mutex_lock(&t->lock);
	t->bucket[bucket % ZTREE_BUCKETS] = *v;
	pthread_mutex_unlock(&t->lock);
}

bool ztree_prefix_valid(const char *prefix)
{
	size_t n = strlen(prefix);
	if (n > ZTREE_DEPTH)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((prefix[i] >= '0' && prefix[i] <= '9') ||
		      (prefix[i] >= 'a' && prefix[i] <= 'f')))
			return false;
	return true;
}

static unsigned hexval(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

unsigned ztree_prefix_bucket(const char *prefix)
{
	unsigned v = 0;
	for (size_t i = 0; prefix[i] != '\0' && i < ZTREE_DEPTH; i++)
		v = v << 4 | hexval(prefix[i]);
	return v;
}

/* XOR of the buckets [first, first + n) into 'out'. */
static void sum(const struct ztree *t, unsigned first, unsigned n, struct ztree_node *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned b = first; b < first + n; b++) {
		for (unsigned i = 0; i < 16; i++)
			out->hash[i] ^= t->bucket[b].hash[i];
		out->zones += t->bucket[b].zones;
	}
}

int ztree_get(struct ztree *t, const char *prefix, struct ztree_node *ret_node,
	      struct ztree_node ret_children[16])
{
	if (!ztree_prefix_valid(prefix))
		return -EINVAL;
	size_t depth = strlen(prefix);
	unsigned width = 1u << (4 * (ZTREE_DEPTH - depth)); /* buckets under the node */
	unsigned first = ztree_prefix_bucket(prefix) * width;
	pthread_mutex_lock(&t->lock);
	sum(t, first, width, ret_node);
	for (unsigned c = 0; ret_children != NULL && depth < ZTREE_DEPTH && c < 16; c++)
		sum(t, first + c * (width / 16), width / 16, &ret_children[c]);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void ztree_hex(const struct ztree_node *n, char out[ZTREE_LEAF_HEX])
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < 16; i++) {
		out[2 * i] = hex[n->hash[i] >> 4];
		out[2 * i + 1] = hex[n->hash[i] & 15];
	}
	out[32] = '\0';
}
