/* Key rollovers (rollover.h): starting one, the DS confirmation, and the
 * thread that starts each step's wait once every node acknowledged the
 * step and takes the next step once that wait has passed. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "dnssec.h"
#include "history.h"
#include "json/jsonx.h"
#include "rollover.h"
#include "zkeys.h"
#include "zones_soa.h"

enum rollover_step rollover_next_step(const char *kind, uint32_t step)
{
	if (strcmp(kind, ROLL_ZSK) == 0 && step == 1)
		return ROLLOVER_STEP_SWAP_ZSK;
	return step == 2 ? ROLLOVER_STEP_REMOVE_OLD : ROLLOVER_STEP_NONE;
}

enum rollover_tick rollover_tick_action(const char *kind, uint32_t step, bool synced,
					int64_t next_at, int64_t now)
{
	bool ksk = strcmp(kind, ROLL_ZSK) != 0;
	if (kind[0] == '\0')
		return ROLLOVER_TICK_NONE;
	if (!synced)
		return next_at != 0 ? ROLLOVER_TICK_RECOUNT : ROLLOVER_TICK_NONE;
	if (next_at == 0)
		return ROLLOVER_TICK_COUNT;
	return now >= next_at && !(ksk && step == 1) ? ROLLOVER_TICK_STEP : ROLLOVER_TICK_NONE;
}

bool rollover_zsk_expired(bool split, uint64_t lifetime_days, int64_t zsk_created, int64_t now)
{
	if (!split || lifetime_days == 0 || zsk_created == 0)
		return false;
	return now >= zsk_created + (int64_t)lifetime_days * 86400;
}

void rollover_ttls(uint32_t soa_ttl, uint32_t soa_minimum, uint32_t records_max, uint32_t *dnskey,
		   uint32_t *max)
{
	*dnskey = soa_minimum > soa_ttl ? soa_minimum : soa_ttl;
	*max = records_max > *dnskey ? records_max : *dnskey;
}

enum rollover_ds rollover_ds_check(const char *kind, uint32_t step, bool synced, int64_t next_at,
				   int64_t now)
{
	bool ksk = strcmp(kind, ROLL_KSK) == 0 || strcmp(kind, ROLL_CSK) == 0;
	if (!ksk || step != 1)
		return ROLLOVER_DS_NOT_WAITING;
	if (!synced)
		return ROLLOVER_DS_NODES;
	return next_at == 0 || now < next_at ? ROLLOVER_DS_TOO_EARLY : ROLLOVER_DS_OK;
}

struct rollover {
	struct whm *w;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

static int max_ttl_fn(const struct store_record *r, void *ctx)
{
	uint32_t *m = ctx;
	if (r->ttl > *m)
		*m = r->ttl;
	return 0;
}

/* The TTLs zone 'z''s rollover steps wait on (rollover_ttls()), from its
 * SOA as the nodes serve it: its own fields where it sets them. */
static void zone_ttls(const struct whm *w, struct store *st, const struct store_zone *z,
		      uint32_t *dnskey, uint32_t *max)
{
	uint32_t soa_ttl, soa_minimum, records_max = 0;
	zone_soa_ttls(w, z, &soa_ttl, &soa_minimum);
	store_record_foreach(st, z->id, max_ttl_fn, &records_max);
	rollover_ttls(soa_ttl, soa_minimum, records_max, dnskey, max);
}

struct roll_ctx {
	struct whm *w;
	const char *start; /* start this kind, or NULL: advance */
	struct store_dnssec_key key;
	bool have_key;
	int64_t now;
	const char *did;
	char summary[HISTORY_SUMMARY_MAX]; /* what roll_fn did, for the history */
};

struct key_list {
	struct store_dnssec_key k[KEYS_MAX * 2];
	size_t n;
};

static int collect_key(const struct store_dnssec_key *k, void *ctx)
{
	struct key_list *l = ctx;
	if (l->n >= sizeof(l->k) / sizeof(l->k[0]))
		return 0;
	l->k[l->n] = *k;
	l->k[l->n].keytype = strdup(k->keytype);
	l->k[l->n].dnskey = NULL;
	l->k[l->n].private_key = NULL;
	if (l->k[l->n].keytype == NULL)
		return -ENOMEM;
	l->n++;
	return 0;
}

static void key_list_clear(struct key_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->k[i].keytype);
	l->n = 0;
}

/* The newest key of 'type' (largest id). */
static int64_t newest(const struct key_list *l, const char *type)
{
	int64_t id = 0;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->k[i].keytype, type) == 0 && l->k[i].id > id)
			id = l->k[i].id;
	return id;
}

static int roll_fn(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	struct roll_ctx *rc = ctx;
	struct store_dnssec d;
	struct key_list l = { .n = 0 };
	uint32_t dnskey_ttl, max_ttl;
	const struct whm_conf *c = &rc->w->conf;
	int r = store_dnssec_get(st, z->id, &d);
	if (r == -ENOENT || (r == 0 && !d.enabled)) {
		if (r == 0)
			store_dnssec_clear(&d);
		return errmsg_set(err, ERR_CONFLICT, "the zone is not signed");
	}
	if (r < 0)
		return r;
	zone_ttls(rc->w, st, z, &dnskey_ttl, &max_ttl);
	r = store_dnssec_key_foreach(st, z->id, collect_key, &l);
	int64_t delay = (int64_t)c->dnssec_propagation_delay_s;
	char *kind = d.roll_kind;
	if (r < 0)
		goto out;
	if (rc->start != NULL) {
		if (kind[0] != '\0') {
			errmsg_set(err, 0, "a %s rollover is already in progress", kind);
			r = ERR_CONFLICT;
			goto out;
		}
		r = store_dnssec_key_insert(st, &rc->key);
		if (r < 0)
			goto out;
		d.roll_kind = (char *)rc->start;
		d.roll_step = 1;
		d.roll_wait = dnskey_ttl + delay;
		d.roll_next_at = 0; /* the wait begins once every node publishes the key */
		d.roll_ds_at = 0;
		rc->did = "new key published";
	} else if (rollover_next_step(kind, d.roll_step) == ROLLOVER_STEP_SWAP_ZSK) {
		int64_t id = newest(&l, "zsk");
		for (size_t i = 0; r == 0 && i < l.n; i++)
			if (strcmp(l.k[i].keytype, "zsk") == 0)
				r = store_dnssec_key_set_flags(st, z->id, l.k[i].id,
							       l.k[i].id == id, true);
		d.roll_step = 2;
		d.roll_wait = max_ttl + delay;
		d.roll_next_at = 0;
		rc->did = "new ZSK signs; old ZSK still published";
	} else if (rollover_next_step(kind, d.roll_step) == ROLLOVER_STEP_REMOVE_OLD) {
		const char *type = strcmp(kind, ROLL_ZSK) == 0 ? "zsk" : kind;
		int64_t id = newest(&l, type);
		for (size_t i = 0; r == 0 && i < l.n; i++)
			if (strcmp(l.k[i].keytype, type) == 0 && l.k[i].id != id)
				r = store_dnssec_key_delete(st, z->id, l.k[i].id);
		d.roll_kind = (char *)"";
		d.roll_step = 0;
		d.roll_next_at = 0;
		d.roll_ds_at = 0;
		d.roll_wait = 0;
		rc->did = "old key removed; rollover done";
	} else {
		r = 1; /* nothing to do at this step */
		goto out;
	}
	if (r == 0) {
		d.roll_version = z->version + 1; /* zones_change's bump */
		d.updated_at = whm_now();
		r = store_dnssec_put(st, &d);
		history_summary(rc->summary, "%s rollover: %s", rc->start ? rc->start : kind,
				rc->did);
	}
out:
	d.roll_kind = kind;
	store_dnssec_clear(&d);
	key_list_clear(&l);
	return r;
}

/* Confirm the parent publishes the new DS: no change for the nodes. Taken
 * only once every node publishes the new key and the DNSKEY set with it
 * had its wait: a resolver that gets the new DS while it holds a DNSKEY set
 * without the new key (from a node not there yet) fails validation. */
static int confirm_ds(struct whm *w, int64_t zone_id, const char *actor, struct errmsg *err)
{
	struct store *st = whm_store(w);
	struct store_dnssec d;
	bool synced = false;
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	int64_t now = zkeys_now(w);
	int r = store_begin(st);
	if (r == 0)
		r = store_dnssec_get(st, zone_id, &d);
	if (r == -ENOENT) {
		errmsg_set(err, 0, "the zone is not signed");
		r = ERR_CONFLICT;
	}
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): r is 0 (the store returns 0 or < 0) */
	r = store_sync_all_acked(st, zone_id, d.roll_version, &synced);
	if (r < 0) {
		store_dnssec_clear(&d);
		store_rollback(st);
		return r;
	}
	enum rollover_ds ds =
	    rollover_ds_check(d.roll_kind, d.roll_step, synced, d.roll_next_at, now);
	if (ds == ROLLOVER_DS_NOT_WAITING) {
		errmsg_set(err, 0,
			   "no KSK or CSK rollover is waiting for its DS (start one with "
			   "{\"keytype\": \"ksk\"} or {\"keytype\": \"csk\"})");
		r = ERR_CONFLICT;
	} else if (ds == ROLLOVER_DS_NODES) {
		errmsg_set(err, 0,
			   "too early: not every node publishes the new key yet (waiting_for is "
			   "\"nodes\"); once they all do, the new DNSKEY set needs %lld more "
			   "seconds to reach every cache: give the parent the new DS after that",
			   (long long)d.roll_wait);
		r = ERR_CONFLICT;
	} else if (ds == ROLLOVER_DS_TOO_EARLY) {
		errmsg_set(err, 0,
			   "too early: the new DNSKEY set may not be in every cache until %lld; "
			   "give the parent the new DS after that",
			   (long long)(d.roll_next_at != 0 ? d.roll_next_at : now + d.roll_wait));
		r = ERR_CONFLICT;
	} else {
		/* The nodes already publish this step's version: the wait for
		 * the parent's DS TTL begins now. */
		d.roll_step = 2;
		d.roll_ds_at = now;
		d.roll_wait = (int64_t)w->conf.dnssec_parent_ds_ttl_s +
			      (int64_t)w->conf.dnssec_propagation_delay_s;
		d.roll_next_at = now + d.roll_wait;
		d.updated_at = whm_now();
		r = store_dnssec_put(st, &d);
	}
	if (r == 0) {
		struct store_zone z = { 0 };
		char summary[HISTORY_SUMMARY_MAX];
		history_summary(summary, "%s rollover: the parent publishes the new DS",
				d.roll_kind);
		r = store_zone_get(st, zone_id, &z);
		if (r == 0)
			r = history_note_zone(st, &z, actor, "zone.dnssec.ds-published", summary);
		store_zone_clear(&z);
	}
	store_dnssec_clear(&d);
	if (r == 0)
		r = store_commit(st);
	else
		store_rollback(st);
	return r;
}

static const char *const roll_keys[] = { "keytype", "ds_published", NULL };

int rollover_request(struct whm *w, int64_t zone_id, const json_t *body, const char *actor,
		     struct zone_result *res, json_t **ret, struct errmsg *err)
{
	struct roll_ctx rc = { .w = w, .now = zkeys_now(w) };
	struct store_dnssec d;
	struct store_zone z;
	bool b;

	err->text[0] = '\0';
	int r = body ? jsonx_check_keys(body, roll_keys, "body", err) : 0;
	if (r < 0)
		return r;
	const char *type = json_string_value(json_object_get(body, "keytype"));
	r = jsonx_get_bool(body, "ds_published", false, "body", &b, err);
	if (r == 0 && type == NULL) {
		if (!b)
			return errmsg_set(err, ERR_INVALID,
					  "ds_published: only true confirms a DS");
		r = confirm_ds(w, zone_id, actor, err);
		return r < 0 ? r : signing_view(w, zone_id, ret, err);
	}
	if (r == 0 || (r != -ENOENT && r < 0)) {
		if (r == 0)
			errmsg_set(err, 0, "give either keytype or ds_published");
		return r == 0 ? ERR_INVALID : r;
	}
	if (type == NULL ||
	    (strcmp(type, "zsk") != 0 && strcmp(type, "ksk") != 0 && strcmp(type, "csk") != 0)) {
		return errmsg_set(err, ERR_INVALID, "keytype: must be \"zsk\", \"ksk\" or \"csk\"");
	}
	struct store *st;
	r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	r = store_dnssec_get(st, zone_id, &d);
	if (r == -ENOENT || (r == 0 && !d.enabled)) {
		errmsg_set(err, 0, "the zone is not signed");
		r = r == 0 ? (store_dnssec_clear(&d), ERR_CONFLICT) : ERR_CONFLICT;
		store_zone_clear(&z);
		return r;
	}
	if (r < 0) {
		store_zone_clear(&z);
		return r;
	}
	bool csk = strcmp(d.scheme, SCHEME_CSK) == 0;
	if (csk != (strcmp(type, "csk") == 0)) {
		errmsg_set(err, 0, "the zone is signed with %s; roll %s",
			   csk ? "one combined key (csk)" : "a KSK and a ZSK",
			   csk ? "the csk" : "the ksk or the zsk");
		r = ERR_CONFLICT;
	}
	if (r == 0)
		r = zkeys_generate(d.algorithm, type, &rc.key, err);
	store_dnssec_clear(&d);
	store_zone_clear(&z);
	if (r < 0)
		return r;
	rc.key.zone_id = zone_id;
	rc.key.created_at = rc.now;
	rc.key.active = strcmp(type, "zsk") != 0; /* a new ZSK is published first */
	rc.key.published = true;
	rc.start = strcmp(type, "zsk") == 0   ? ROLL_ZSK
		   : strcmp(type, "ksk") == 0 ? ROLL_KSK
					      : ROLL_CSK;
	r = zones_change(w, zone_id, roll_fn, &rc, actor, "zone.dnssec.rollover", rc.summary, res,
			 err);
	store_dnssec_key_clear(&rc.key);
	if (r < 0)
		return r;
	log_notice("zone %lld: %s rollover started", (long long)zone_id, type);
	return signing_view(w, zone_id, ret, err);
}

struct tick_ctx {
	struct whm *w;
	struct store *st;
	int64_t now;
};

static int zsk_due(const struct store_dnssec_key *k, void *ctx)
{
	int64_t *newest_active = ctx;
	if (strcmp(k->keytype, "zsk") == 0 && k->active && k->created_at > *newest_active)
		*newest_active = k->created_at;
	return 0;
}

/* Set the deadline of zone 'zone_id''s rollover step to 'next_at' if the
 * rollover is still at 'step' of 'version' (an operator's request may have
 * moved it since it was read). */
static int set_next_at(struct store *st, int64_t zone_id, uint32_t step, uint64_t version,
		       int64_t next_at)
{
	struct store_dnssec d;
	int r = store_begin(st);
	if (r < 0)
		return r;
	r = store_dnssec_get(st, zone_id, &d);
	if (r == 0) {
		if (d.roll_kind[0] != '\0' && d.roll_step == step && d.roll_version == version) {
			d.roll_next_at = next_at;
			d.updated_at = whm_now();
			r = store_dnssec_put(st, &d);
		}
		store_dnssec_clear(&d);
	}
	if (r == 0)
		return store_commit(st);
	store_rollback(st);
	return r;
}

/* A step's wait, never less than what the zone's TTLs ask now: a wait
 * carried over from a store older than roll_wait (migration 18) was
 * derived from the row's times, which a change of NSEC/NSEC3 during the
 * step moves. The DNSKEY TTL plus the delay, or for the ZSK swap the
 * largest TTL. */
static int64_t wait_floor(const struct whm *w, struct store *st, int64_t zone_id, bool zsk_swap,
			  int64_t wait)
{
	struct store_zone z;
	uint32_t dnskey_ttl, max_ttl;
	if (store_zone_get(st, zone_id, &z) < 0)
		return wait;
	zone_ttls(w, st, &z, &dnskey_ttl, &max_ttl);
	store_zone_clear(&z);
	int64_t floor = (int64_t)(zsk_swap ? max_ttl : dnskey_ttl) +
			(int64_t)w->conf.dnssec_propagation_delay_s;
	return wait > floor ? wait : floor;
}

static int tick_zone(int64_t zone_id, void *arg)
{
	struct tick_ctx *t = arg;
	struct whm *w = t->w;
	struct store_dnssec d;
	struct errmsg err;
	struct zone_result res = { 0 };
	bool synced = false;

	if (store_dnssec_get(t->st, zone_id, &d) < 0)
		return 0;
	bool rolling = d.roll_kind[0] != '\0';
	uint64_t need = d.roll_version;
	uint32_t step = d.roll_step;
	int64_t wait = d.roll_wait;
	bool zsk_scheme = strcmp(d.scheme, SCHEME_SPLIT) == 0;
	enum rollover_tick act = ROLLOVER_TICK_NONE;
	if (rolling && store_sync_all_acked(t->st, zone_id, need, &synced) == 0)
		act = rollover_tick_action(d.roll_kind, step, synced, d.roll_next_at, t->now);
	bool after_ds = strcmp(d.roll_kind, ROLL_ZSK) != 0 && step == 2;
	bool zsk_swap = strcmp(d.roll_kind, ROLL_ZSK) == 0 && step == 2;
	store_dnssec_clear(&d);
	if (act == ROLLOVER_TICK_COUNT && !after_ds)
		wait = wait_floor(w, t->st, zone_id, zsk_swap, wait);
	if (act == ROLLOVER_TICK_COUNT || act == ROLLOVER_TICK_RECOUNT) {
		/* The wait runs from the moment the last node publishes the
		 * step: a resolver may have cached that node's previous answer
		 * just before. A controller down at that moment counts from
		 * its first look after: later, never earlier. */
		int64_t at = act == ROLLOVER_TICK_COUNT ? t->now + wait : 0;
		int r = set_next_at(t->st, zone_id, step, need, at);
		if (r < 0)
			log_warn("zone %lld: rollover: recording the wait: %s", (long long)zone_id,
				 err_str(r));
		else if (act == ROLLOVER_TICK_COUNT)
			log_info("zone %lld: rollover: every node publishes step %u; next step "
				 "at %lld",
				 (long long)zone_id, step, (long long)at);
		else
			log_notice("zone %lld: rollover: a node no longer publishes step %u; its "
				   "wait begins again once it does",
				   (long long)zone_id, step);
		return 0;
	}
	if (rolling) {
		if (act != ROLLOVER_TICK_STEP)
			return 0;
		struct roll_ctx rc = { .w = w, .now = t->now };
		int r = zones_change(w, zone_id, roll_fn, &rc, HISTORY_ROLLOVER,
				     "zone.dnssec.rollover", rc.summary, &res, &err);
		if (r == 0)
			log_notice("zone %lld: rollover: %s", (long long)zone_id, rc.did);
		else if (r < 0)
			log_warn("zone %lld: rollover step failed: %s", (long long)zone_id,
				 err.text);
		return 0;
	}
	/* The scheduled ZSK rollover. */
	if (!zsk_scheme || w->conf.dnssec_zsk_lifetime_days == 0)
		return 0;
	int64_t created = 0;
	store_dnssec_key_foreach(t->st, zone_id, zsk_due, &created);
	if (!rollover_zsk_expired(zsk_scheme, w->conf.dnssec_zsk_lifetime_days, created, t->now))
		return 0;
	json_t *body = json_pack("{s:s}", "keytype", "zsk"), *view = NULL;
	int r = rollover_request(w, zone_id, body, HISTORY_ROLLOVER, &res, &view, &err);
	json_decref(body);
	json_decref(view);
	if (r < 0)
		log_warn("zone %lld: scheduled ZSK rollover: %s", (long long)zone_id, err.text);
	return 0;
}

void rollover_tick(struct whm *w)
{
	struct tick_ctx t = { w, whm_store(w), zkeys_now(w) };
	if (t.st != NULL)
		store_dnssec_foreach_rolling(t.st, tick_zone, &t);
}

static void *rollover_main(void *arg)
{
	struct rollover *ro = arg;
	pthread_mutex_lock(&ro->lock);
	while (!ro->stop) {
		pthread_mutex_unlock(&ro->lock);
		rollover_tick(ro->w);
		pthread_mutex_lock(&ro->lock);
		int64_t due = whm_mono_ms() + (int64_t)ro->w->conf.dnssec_rollover_check_ms;
		struct timespec ts = whm_mono_deadline(due);
		while (!ro->stop && whm_mono_ms() < due)
			if (pthread_cond_timedwait(&ro->cond, &ro->lock, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&ro->lock);
	return NULL;
}

int rollover_start(struct whm *w)
{
	struct rollover *ro = calloc(1, sizeof(*ro));
	if (ro == NULL)
		return -ENOMEM;
	ro->w = w;
	pthread_mutex_init(&ro->lock, NULL);
	whm_cond_init(&ro->cond);
	if (pthread_create(&ro->thread, NULL, rollover_main, ro) != 0) {
		pthread_cond_destroy(&ro->cond);
		pthread_mutex_destroy(&ro->lock);
		free(ro);
		return -EAGAIN;
	}
	w->rollover = ro;
	return 0;
}

void rollover_stop(struct whm *w)
{
	struct rollover *ro = w->rollover;
	if (ro == NULL)
		return;
	pthread_mutex_lock(&ro->lock);
	ro->stop = true;
	pthread_cond_broadcast(&ro->cond);
	pthread_mutex_unlock(&ro->lock);
	pthread_join(ro->thread, NULL);
	pthread_cond_destroy(&ro->cond);
	pthread_mutex_destroy(&ro->lock);
	free(ro);
	w->rollover = NULL;
}
