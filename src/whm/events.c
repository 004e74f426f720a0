#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "events.h"
#include "whm.h"
#include "zones.h"

struct event {
	uint64_t seq;
	int64_t time_ms;
	const char *kind;
	char node[64];
	char zone[DNAME_TEXT_MAX];
	char message[240];
};

struct events {
	pthread_mutex_t lock;
	uint64_t next;	  /* sequence number of the next event; the first is 1 */
	uint64_t changes; /* events_touch() calls since the start */
	uint32_t boot;
	struct event ring[EVENTS_MAX];
};

int events_new(struct events **ret)
{
	struct events *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	pthread_mutex_init(&e->lock, NULL);
	e->next = 1;
	if (getrandom(&e->boot, sizeof(e->boot), GRND_NONBLOCK) < 0)
		e->boot = (uint32_t)whm_now_ms();
	e->boot &= 0x7fffffff;
	*ret = e;
	return 0;
}

void events_free(struct events *e)
{
	if (e == NULL)
		return;
	pthread_mutex_destroy(&e->lock);
	free(e);
}

/* Texts are cut to fit and may come from agents: keep printable ASCII only,
 * so a cut never splits a UTF-8 sequence and the JSON is always valid. */
static void ascii_only(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

void events_add(struct events *e, const char *kind, const char *node, const char *zone,
		const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	struct event *ev = &e->ring[e->next % EVENTS_MAX];
	ev->seq = e->next++;
	ev->time_ms = whm_now_ms();
	ev->kind = kind;
	snprintf(ev->node, sizeof(ev->node), "%s", node ? node : "");
	snprintf(ev->zone, sizeof(ev->zone), "%s", zone ? zone : "");
	va_start(ap, fmt);
	vsnprintf(ev->message, sizeof(ev->message), fmt, ap);
	va_end(ap);
	ascii_only(ev->node);
	ascii_only(ev->zone);
	ascii_only(ev->message);
	pthread_mutex_unlock(&e->lock);
}

void events_touch(struct events *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	e->changes++;
	pthread_mutex_unlock(&e->lock);
}

static void on_commit(struct whm *w, struct store *st, const struct store_zone *old,
		      const struct store_zone *now, void *ctx)
{
	events_touch(w->events);
}

int events_watch_zones(struct whm *w)
{
	return zones_on_commit(w, on_commit, NULL);
}

json_t *events_json(struct events *e, uint64_t since, unsigned limit)
{
	json_t *list = json_array();

	pthread_mutex_lock(&e->lock);
	uint64_t last = e->next - 1;
	uint64_t changes = e->changes;
	uint64_t first = last >= EVENTS_MAX ? last - EVENTS_MAX + 1 : 1;
	if (since >= last)
		first = last + 1; /* nothing newer */
	else if (since + 1 > first)
		first = since + 1;
	if (limit > 0 && last >= first && last - first + 1 > limit)
		first = last - limit + 1;
	for (uint64_t seq = first; list != NULL && seq <= last; seq++) {
		const struct event *ev = &e->ring[seq % EVENTS_MAX];
		json_t *o =
		    json_pack("{s:I,s:I,s:s,s:s}", "seq", (json_int_t)ev->seq, "time",
			      (json_int_t)ev->time_ms, "kind", ev->kind, "message", ev->message);
		if (o != NULL && ev->node[0])
			json_object_set_new(o, "node", json_string(ev->node));
		if (o != NULL && ev->zone[0])
			json_object_set_new(o, "zone", json_string(ev->zone));
		if (o == NULL || json_array_append_new(list, o) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	pthread_mutex_unlock(&e->lock);
	if (list == NULL)
		return NULL;
	return json_pack("{s:I,s:I,s:I,s:o}", "boot", (json_int_t)e->boot, "last", (json_int_t)last,
			 "changes", (json_int_t)changes, "events", list);
}
