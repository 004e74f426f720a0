#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "payloads.h"
#include "zones.h"

/* One entry per slot, the slot chosen by zone id: the nodes' workers ask
 * for the same zone within milliseconds of each other, so a small table
 * catches nearly all of it. A larger payload is rare and built each time;
 * the table never holds more than SLOTS * TEXT_MAX bytes. */
#define SLOTS 256
#define TEXT_MAX (16u << 10)

struct slot {
	int64_t zone_id; /* 0: empty */
	uint64_t version;
	uint32_t serial;
	char *domain;
	char *text;
	size_t len;
	char digest[ZONE_DIGEST_HEX];
};

struct payloads {
	pthread_mutex_t lock;
	struct slot slot[SLOTS];
};

int payloads_new(struct payloads **ret)
{
	struct payloads *pc = calloc(1, sizeof(*pc));
	if (pc == NULL)
		return -ENOMEM;
	pthread_mutex_init(&pc->lock, NULL);
	*ret = pc;
	return 0;
}

void payloads_free(struct payloads *pc)
{
	if (pc == NULL)
		return;
	for (size_t i = 0; i < SLOTS; i++) {
		free(pc->slot[i].domain);
		free(pc->slot[i].text);
	}
	pthread_mutex_destroy(&pc->lock);
	free(pc);
}

static struct slot *slot_of(struct payloads *pc, int64_t zone_id)
{
	return &pc->slot[(uint64_t)zone_id % SLOTS];
}

/* A copy of the cached text of the zone at exactly this row, or NULL. */
static char *cached(struct payloads *pc, const struct store_zone *z, size_t *len,
		    char digest[ZONE_DIGEST_HEX])
{
	char *copy = NULL;
	pthread_mutex_lock(&pc->lock);
	struct slot *s = slot_of(pc, z->id);
	if (s->zone_id == z->id && s->version == z->version && s->serial == z->serial &&
	    strcmp(s->domain, z->domain) == 0 && (copy = malloc(s->len + 1)) != NULL) {
		memcpy(copy, s->text, s->len + 1);
		*len = s->len;
		memcpy(digest, s->digest, ZONE_DIGEST_HEX);
	}
	pthread_mutex_unlock(&pc->lock);
	return copy;
}

static void keep(struct payloads *pc, const struct store_zone *z, const char *text, size_t len,
		 const char *digest)
{
	if (len > TEXT_MAX)
		return;
	char *t = malloc(len + 1), *d = strdup(z->domain);
	if (t == NULL || d == NULL) {
		free(t);
		free(d);
		return; /* the next worker builds it again */
	}
	memcpy(t, text, len + 1);
	pthread_mutex_lock(&pc->lock);
	struct slot *s = slot_of(pc, z->id);
	free(s->domain);
	free(s->text);
	*s = (struct slot){ z->id, z->version, z->serial, d, t, len, "" };
	memcpy(s->digest, digest, ZONE_DIGEST_HEX);
	pthread_mutex_unlock(&pc->lock);
}

/* The zone row 'z' and its digest, once more if the zone moved between
 * the read of the row and the build of the payload. */
int payloads_get(struct payloads *pc, struct whm *w, struct store *st, int64_t zone_id,
		 struct payload *ret)
{
	struct store_zone z;
	int r = ERR_UNAVAILABLE;

	memset(ret, 0, sizeof(*ret));
	for (int attempt = 0; attempt < 3 && r == ERR_UNAVAILABLE; attempt++) {
		r = store_zone_get(st, zone_id, &z);
		if (r < 0)
			return r;
		snprintf(ret->domain, sizeof(ret->domain), "%s", z.domain);
		ret->version = z.version;
		ret->deleted = z.deleted;
		ret->text = z.deleted ? NULL : cached(pc, &z, &ret->len, ret->digest);
		if (z.deleted || ret->text != NULL) {
			if (z.deleted)
				ret->digest[0] = '\0';
			store_zone_clear(&z);
			return 0;
		}
		r = zones_digest(w, st, &z, ret->digest);
		json_t *payload = NULL;
		uint64_t version = 0;
		bool deleted = false;
		if (r == 0)
			r = zones_payload(w, st, zone_id, &payload, &version, &deleted, ret->domain,
					  sizeof(ret->domain));
		if (r == 0 && (version != z.version || deleted)) {
			json_decref(payload);
			r = ERR_UNAVAILABLE; /* it changed meanwhile: again */
		} else if (r == 0 && payload != NULL) {
			ret->text = json_dumps(payload, JSON_COMPACT);
			json_decref(payload);
			if (ret->text == NULL)
				r = -ENOMEM;
		}
		if (r == 0 && ret->text != NULL) {
			ret->len = strlen(ret->text);
			keep(pc, &z, ret->text, ret->len, ret->digest);
		}
		store_zone_clear(&z);
	}
	return r;
}

void payload_clear(struct payload *p)
{
	free(p->text);
	p->text = NULL;
}
