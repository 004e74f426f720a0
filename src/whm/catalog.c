#include <errno.h>
#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "catalog.h"
#include "events.h"
#include "history.h"
#include "xfrout.h"
#include "zones.h"
#include "zones_internal.h"

#define CATALOG_ACTOR "catalog"
/* A pass also runs this often without a change: it puts right whatever a
 * failed pass left. */
#define CATALOG_RECHECK_MS 60000
/* After a failed pass: the next one after 1 s, then twice as long each
 * time, up to this. */
#define CATALOG_RETRY_MAX_MS 8000

struct catalog {
	struct whm *w;
	char name[DNAME_TEXT_MAX];
	atomic_int_fast64_t zone_id; /* 0 until the zone is made */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool dirty, stop;
	/* The last pass: failed or not, since when, why (under 'lock'). */
	bool failing;
	int64_t failing_since; /* Unix ms */
	size_t members;
	char error[ERRMSG_MAX];
};

/* Set on the catalog's own thread: its changes pass the guard. */
static _Thread_local bool catalog_thread;

bool catalog_internal(bool on)
{
	bool was = catalog_thread;
	catalog_thread = on;
	return was;
}

bool catalog_is(const struct whm *w, int64_t zone_id)
{
	const struct catalog *c = w->catalog;
	return c != NULL && zone_id > 0 && zone_id == atomic_load(&c->zone_id);
}

int catalog_guard(const struct whm *w, int64_t zone_id, struct errmsg *err)
{
	const struct catalog *c = w->catalog;
	if (c == NULL || catalog_thread || zone_id != atomic_load(&c->zone_id))
		return 0;
	return errmsg_set(err, ERR_FORBIDDEN,
			  "'%s' is the catalog zone: the controller maintains it", c->name);
}

int catalog_guard_name(const struct whm *w, const char *origin, struct errmsg *err)
{
	const struct catalog *c = w->catalog;
	if (c == NULL || catalog_thread || strcmp(origin, c->name) != 0)
		return 0;
	return errmsg_set(err, ERR_FORBIDDEN,
			  "'%s' is the catalog zone: the controller maintains it", c->name);
}

static void wake(struct catalog *c)
{
	pthread_mutex_lock(&c->lock);
	c->dirty = !c->stop;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void catalog_changed(struct whm *w)
{
	struct catalog *c = w->catalog;
	if (c != NULL)
		wake(c);
}

/* A zone came to life or was deleted: the members change. */
static void on_commit(struct whm *w, struct store *st, const struct store_zone *old,
		      const struct store_zone *now, void *ctx)
{
	struct catalog *c = w->catalog; /* NULL once stopped */
	(void)st;
	(void)ctx;
	if (c == NULL || now == NULL || now->id == atomic_load(&c->zone_id))
		return;
	bool was = old != NULL && !old->deleted;
	if (was != !now->deleted)
		wake(c);
}

static json_t *record(const char *name, const char *type, const char *content)
{
	return json_pack("{s:s,s:s,s:s,s:i}", "name", name, "type", type, "content", content, "ttl",
			 3600);
}

struct members {
	const char *catalog;
	json_t *records;
	const int64_t *closed; /* ascending: zones left out */
	size_t n_closed;
};

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int add_member(const struct store_zone *z, void *ctx)
{
	struct members *m = ctx;
	unsigned char h[20];
	char owner[64], text[DNAME_TEXT_MAX + 16];

	if (strcmp(z->domain, m->catalog) == 0)
		return 0;
	/* Its secondaries could not transfer it: neither listed nor named. */
	if (m->n_closed > 0 &&
	    bsearch(&z->id, m->closed, m->n_closed, sizeof(*m->closed), cmp_id) != NULL)
		return 0;
	/* The name alone for its first life (as PowerDNS's producer, and as
	 * before lives were counted); another life, another id, so that
	 * consumers reset the member (RFC 9432 section 5.5). */
	int n = z->life == 0 ? snprintf(text, sizeof(text), "%s", z->domain)
			     : snprintf(text, sizeof(text), "%s#%u", z->domain, z->life);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -ENAMETOOLONG;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, text, (size_t)n, h) < 0)
		return -EIO;
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(owner + 2 * i, 3, "%02x", h[i]);
	snprintf(owner + 40, sizeof(owner) - 40, ".zones");
	json_t *r = record(owner, "PTR", z->domain);
	return r != NULL && json_array_append_new(m->records, r) == 0 ? 0 : -ENOMEM;
}

/* The zone, made if it is missing (or deleted). */
static int ensure_zone(struct catalog *c, struct store *st, struct errmsg *err)
{
	struct store_zone z;
	struct zone_result res = { 0 };
	int r = store_zone_get_by_name(st, c->name, &z);

	if (r == 0 && !z.deleted) {
		atomic_store(&c->zone_id, z.id);
		store_zone_clear(&z);
		return 0;
	}
	if (r == 0)
		store_zone_clear(&z);
	if (r < 0 && r != -ENOENT)
		return r;
	json_t *records = json_array();
	for (unsigned i = 0; records != NULL && i < c->w->n_default_ns; i++)
		json_array_append_new(records, record("@", "NS", c->w->default_ns[i]));
	json_array_append_new(records, record("version", "TXT", "\"2\""));
	struct zone_init init = { .records = records };
	r = zones_create_with(c->w, c->name, 0, 0, &init, CATALOG_ACTOR, &res, err);
	json_decref(records);
	if (r < 0)
		return r;
	atomic_store(&c->zone_id, res.zone_id);
	log_notice("catalog zone '%s': created", c->name);
	return 0;
}

/* Make the catalog's records what the live zones say; 'why' says what
 * failed. */
static int pass(struct catalog *c, size_t *ret_members, struct errmsg *why)
{
	struct store *st = whm_store(c->w);
	struct zone_result res = { 0 };
	struct errmsg err = { "" };
	char summary[HISTORY_SUMMARY_MAX];

	if (st == NULL)
		return errmsg_set(why, ERR_UNAVAILABLE, "the store is unavailable");
	int r = ensure_zone(c, st, &err);
	if (r < 0)
		return errmsg_set(why, r, "the zone cannot be created: %s",
				  err.text[0] != '\0' ? err.text : err_str(r));
	int64_t *closed = NULL;
	size_t n_closed = 0;
	r = xfrout_closed_to_default(st, &closed, &n_closed);
	if (r < 0)
		return errmsg_set(why, r, "reading the transfer settings: %s", err_str(r));
	struct members m = { c->name, json_array(), closed, n_closed };
	if (m.records == NULL) {
		free(closed);
		return errmsg_set(why, -ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < c->w->n_default_ns; i++)
		json_array_append_new(m.records, record("@", "NS", c->w->default_ns[i]));
	json_array_append_new(m.records, record("version", "TXT", "\"2\""));
	r = store_zone_foreach(st, false, add_member, &m);
	size_t members = json_array_size(m.records) - c->w->n_default_ns - 1;
	history_summary(summary, "catalog with %zu member zones", members);
	if (r < 0)
		errmsg_set(&err, 0, "reading the zones: %s", err_str(r));
	if (r == 0)
		r = zones_records_set(c->w, atomic_load(&c->zone_id), m.records, false, NULL, NULL,
				      true, 0, CATALOG_ACTOR, "catalog.update", summary, &res,
				      &err);
	json_decref(m.records);
	free(closed);
	if (r < 0)
		return errmsg_set(why, r, "%s", err.text[0] != '\0' ? err.text : err_str(r));
	*ret_members = members;
	return 0;
}

/* Note how a pass ended: a failure, and a recovery, are logged and made an
 * event once, when the state changes; catalog_status_json() shows the
 * latest reason. */
static void note(struct catalog *c, int r, size_t members, const struct errmsg *why)
{
	pthread_mutex_lock(&c->lock);
	bool was = c->failing;
	c->failing = r < 0;
	if (r < 0 && !was)
		c->failing_since = whm_now_ms();
	if (r < 0)
		snprintf(c->error, sizeof(c->error), "%s", why->text);
	else
		c->members = members;
	pthread_mutex_unlock(&c->lock);
	if (r < 0 && !was) {
		log_warn("catalog zone '%s': not brought up to date: %s", c->name, why->text);
		events_add(c->w->events, "catalog.failed", NULL, c->name,
			   "not brought up to date: %s", why->text);
	} else if (r == 0 && was) {
		log_notice("catalog zone '%s': up to date again (%zu member zones)", c->name,
			   members);
		events_add(c->w->events, "catalog.recovered", NULL, c->name,
			   "up to date again: %zu member zones", members);
	}
}

json_t *catalog_status_json(struct whm *w)
{
	struct catalog *c = w->catalog;
	if (c == NULL)
		return json_null();
	pthread_mutex_lock(&c->lock);
	json_t *j = json_pack("{s:s,s:s,s:I}", "zone", c->name, "state",
			      c->failing ? "failing" : "ok", "members", (json_int_t)c->members);
	if (j != NULL && c->failing) {
		json_object_set_new(j, "lastError", json_string(c->error));
		json_object_set_new(j, "since", json_integer(c->failing_since / 1000));
	}
	pthread_mutex_unlock(&c->lock);
	return j;
}

static void *run(void *arg)
{
	struct catalog *c = arg;
	int64_t retry_ms = 1000;

	catalog_thread = true;
	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		struct errmsg why = { "" };
		size_t members = 0;
		c->dirty = false;
		pthread_mutex_unlock(&c->lock);
		int r = pass(c, &members, &why);
		note(c, r, members, &why);
		pthread_mutex_lock(&c->lock);
		if (r < 0)
			c->dirty = true; /* again after a short wait */
		int64_t due = whm_mono_ms() + (r < 0 ? retry_ms : CATALOG_RECHECK_MS);
		if (r == 0)
			retry_ms = 1000;
		else if ((retry_ms *= 2) > CATALOG_RETRY_MAX_MS)
			retry_ms = CATALOG_RETRY_MAX_MS;
		struct timespec ts = whm_mono_deadline(due);
		while (!c->stop && !c->dirty && whm_mono_ms() < due)
			if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
				break;
		if (r < 0 && !c->stop) {
			/* after a failure, wait it out even if woken */
			while (!c->stop && whm_mono_ms() < due)
				if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
					break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int catalog_name_check(const char *text, char ret[DNAME_TEXT_MAX], struct errmsg *err)
{
	char owner[DNAME_TEXT_MAX];
	int r = dname_zone_normalize(text, ret, err);
	/* A member's owner: 40 hex digits and "zones" below the catalog. */
	if (r == 0 && dname_owner_normalize("0000000000000000000000000000000000000000.zones", ret,
					    owner, err) < 0)
		r = errmsg_set(
		    err, ERR_CONFIG,
		    "'%.300s' leaves no room for its members' names (<40 hex digits>.zones."
		    "<catalog>): at most 208 octets",
		    text);
	return r < 0 ? ERR_CONFIG : 0;
}

int catalog_start(struct whm *w)
{
	struct errmsg err = { "" };
	const char *name = w->conf.catalog_zone;

	if (name == NULL || name[0] == '\0')
		return 0;
	struct catalog *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->w = w;
	if (catalog_name_check(name, c->name, &err) < 0) {
		log_err("catalog-zone: %s", err.text);
		free(c);
		return ERR_CONFIG;
	}
	pthread_mutex_init(&c->lock, NULL);
	whm_cond_init(&c->cond);
	w->catalog = c;
	/* Made before anything listens: the guard knows its id from the start. */
	struct store *st = whm_store(w);
	catalog_thread = true;
	int r = st != NULL ? ensure_zone(c, st, &err) : ERR_UNAVAILABLE;
	catalog_thread = false;
	if (r < 0 && st != NULL)
		log_err("catalog zone '%s': cannot be created: %s", c->name,
			err.text[0] != '\0' ? err.text : err_str(r));
	if (r == 0)
		r = zones_on_commit(w, on_commit, NULL);
	if (r == 0)
		r = -pthread_create(&c->thread, NULL, run, c);
	if (r < 0) {
		w->catalog = NULL;
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		free(c);
	}
	return r;
}

void catalog_stop(struct whm *w)
{
	struct catalog *c = w->catalog;
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	/* Kept until catalog_free(): the sync engine may still commit (and
	 * call on_commit) until it is stopped. */
}

void catalog_free(struct whm *w)
{
	struct catalog *c = w->catalog;
	if (c == NULL)
		return;
	w->catalog = NULL;
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
