/* Secondary zones (secondary.h): the refresh thread, NOTIFY and the state
 * the API and the metrics show. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "dns/zonefile.h"
#include "model/import.h"
#include "secondary.h"
#include "transfer.h"
#include "tsig.h"
#include "xfr.h"
#include "zones.h"
#include "zkeys.h"
#include "zones_soa.h"

/* Before the first transfer, and for a zone whose SOA is not known, a
 * failed refresh is retried after this long. */
#define SECONDARY_FIRST_RETRY_S 10
#define SECONDARY_TIMEOUT_MS 120000 /* a whole transfer */
#define SECONDARY_STALL_MS 10000    /* no byte from the primary */
#define SECONDARY_MAX_BYTES ((size_t)256 << 20)
#define SECONDARY_RELOAD_MS 1000 /* the zone list is read again at least this often */

enum sec_state { SEC_PENDING, SEC_OK, SEC_RETRYING, SEC_EXPIRED };
static const char *const state_names[] = { "pending", "ok", "retrying", "expired" };

struct sec_zone {
	int64_t zone_id;
	char domain[DNAME_TEXT_MAX];
	knot_dname_storage_t dname;
	char primaries_text[STORE_PRIMARIES_MAX];
	struct xfr_primary primaries[SECONDARY_PRIMARIES_MAX];
	unsigned n_primaries;
	char tsig_key[DNAME_TEXT_MAX];
	struct xfr_zone data; /* as the last transfer left it (IXFR starts here) */
	bool transferred;     /* 'serial' is the primary's */
	uint32_t serial;
	uint32_t refresh, retry, expire; /* the SOA's timers, seconds */
	int64_t due_ms;			 /* monotonic: the next refresh */
	int64_t refreshed_at;		 /* wall seconds: a primary last answered */
	int64_t last_check, last_transfer;
	enum sec_state state;
	char last_error[ERRMSG_MAX];
	uint64_t axfr, ixfr, failures;
	bool seen;	    /* in the last reload */
	bool again;	    /* asked for while it was being refreshed ... */
	bool again_notify;  /* ... by NOTIFYs only */
	int64_t done_ms;    /* monotonic: when its last refresh ended (0: none yet) */
	bool notify_warned; /* a NOTIFY from a stranger was logged */
	uint32_t life;	    /* the zone's store_zone.life: which zone of the name */
	bool proven;	    /* proven() */
};

/* A NOTIFY starts a refresh of its zone at most once in this time after
 * the last one ended: a primary notifying in a loop, or anyone sending
 * NOTIFYs from its address, costs that primary one SOA query per zone per
 * interval, not one per NOTIFY. A refresh asked over the API (retrieve)
 * is not held back. */
#define SECONDARY_NOTIFY_GAP_MS 2000

/* Zones refreshed at the same time: a primary that stalls holds up one
 * worker (SECONDARY_STALL_MS, at most SECONDARY_TIMEOUT_MS), not the
 * refresh of every other secondary zone. Of them, one is kept for the zones
 * whose last refresh worked (proven()): primaries that trickle or stall,
 * however many, hold at most the others, so the zones that work keep
 * their refreshes. */
#define SECONDARY_WORKERS 4
#define SECONDARY_UNPROVEN_WORKERS (SECONDARY_WORKERS - 1)

struct secondary {
	struct whm *w;
	pthread_t threads[SECONDARY_WORKERS];
	unsigned n_threads;
	pthread_mutex_t lock; /* the list and every zone's state */
	pthread_cond_t cond;
	atomic_bool stop;
	bool wake;
	struct sec_zone **zones;
	size_t n, cap;
	unsigned unproven; /* refreshes of zones not proven() now */
	atomic_ullong notifies, rejected;
};

int secondary_primaries_check(const json_t *primaries, const char *what, char *out, size_t len,
			      struct errmsg *err)
{
	size_t i, used = 0;
	const json_t *p;

	if (!json_is_array(primaries) || json_array_size(primaries) == 0 ||
	    json_array_size(primaries) > SECONDARY_PRIMARIES_MAX)
		return errmsg_set(err, ERR_INVALID, "%s: an array of 1 to %d primaries", what,
				  SECONDARY_PRIMARIES_MAX);
	out[0] = '\0';
	json_array_foreach(primaries, i, p) {
		struct xfr_primary xp;
		struct errmsg msg;
		if (!json_is_string(p))
			return errmsg_set(err, ERR_INVALID, "%s[%zu]: a string, \"address[:port]\"",
					  what, i);
		if (xfr_primary_parse(json_string_value(p), &xp, &msg) < 0)
			return errmsg_set(err, ERR_INVALID, "%s[%zu]: %s", what, i, msg.text);
		int n = snprintf(out + used, len - used, "%s%s", i > 0 ? "," : "", xp.text);
		if (n < 0 || (size_t)n >= len - used)
			return errmsg_set(err, ERR_INVALID, "%s: too long", what);
		used += (size_t)n;
	}
	return 0;
}

int secondary_tsig_check(struct whm *w, const char *name, const char *what, char *out, size_t len,
			 struct errmsg *err)
{
	struct tsig_key k;
	struct errmsg msg;
	int r = tsig_get(w, name, &k, &msg);

	if (r == ERR_NOT_FOUND || r == ERR_INVALID)
		return errmsg_set(err, ERR_INVALID, "%s: no TSIG key '%s' (create it first)", what,
				  name);
	if (r < 0)
		return errmsg_set(err, r, "%s: %s", what, msg.text);
	snprintf(out, len, "%s", k.name);
	tsig_key_clear(&k);
	return 0;
}

int secondary_set(struct store *st, int64_t zone_id, const char *primaries, const char *tsig_key,
		  bool *ret_changed)
{
	struct store_secondary row;
	int r = store_secondary_get(st, zone_id, &row);

	if (r < 0)
		return r;
	if (primaries == NULL)
		primaries = row.primaries;
	if (tsig_key == NULL)
		tsig_key = row.tsig_key;
	bool changed = strcmp(primaries, row.primaries) != 0 || strcmp(tsig_key, row.tsig_key) != 0;
	if (changed)
		r = store_secondary_put(st, zone_id, primaries, tsig_key);
	store_secondary_clear(&row);
	if (r == 0)
		*ret_changed = changed;
	return r;
}

/* --- the zone list ----------------------------------------------------- */

static struct sec_zone *find_id(struct secondary *s, int64_t zone_id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->zones[i]->zone_id == zone_id)
			return s->zones[i];
	return NULL;
}

static void zone_free(struct sec_zone *z)
{
	xfr_zone_clear(&z->data);
	free(z);
}

/* Whether a worker is refreshing 'z' now: then only that worker touches
 * its primaries, key and data, and it stays in the list. Under the lock. */
static bool busy(const struct sec_zone *z)
{
	return z->due_ms == INT64_MAX;
}

/* Whether the last refresh of 'z' in this process worked: a new zone, one
 * whose primaries fail, and every zone after a restart until its first
 * refresh works, are not proven. */
static bool proven(const struct sec_zone *z)
{
	return z->proven;
}

/* (Re)read a stored secondary into 'z': its primaries and key; a change
 * of either refreshes now. */
static void zone_settings(struct secondary *s, struct sec_zone *z,
			  const struct store_secondary *row)
{
	if (strcmp(z->primaries_text, row->primaries) == 0 &&
	    strcmp(z->tsig_key, row->tsig_key) == 0)
		return;
	snprintf(z->primaries_text, sizeof(z->primaries_text), "%s", row->primaries);
	snprintf(z->tsig_key, sizeof(z->tsig_key), "%s", row->tsig_key);
	z->n_primaries = 0;
	char *copy = strdup(row->primaries), *save = NULL;
	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL;
	     t != NULL && z->n_primaries < SECONDARY_PRIMARIES_MAX;
	     t = strtok_r(NULL, ",", &save)) {
		struct errmsg err;
		if (xfr_primary_parse(t, &z->primaries[z->n_primaries], &err) == 0)
			z->n_primaries++;
	}
	free(copy);
	z->due_ms = whm_mono_ms();
	(void)s;
}

struct reload {
	struct secondary *s;
	struct store *st;
};

static int reload_one(const struct store_secondary *row, void *ctx)
{
	struct reload *rl = ctx;
	struct secondary *s = rl->s;
	struct sec_zone *z = find_id(s, row->zone_id);

	if (z != NULL && z->life != row->life && !busy(z)) {
		/* Deleted and made a secondary zone again meanwhile: another
		 * zone, which starts from nothing (else at the next reload,
		 * after the refresh of the one before). */
		for (size_t i = 0; i < s->n; i++)
			if (s->zones[i] == z)
				s->zones[i] = s->zones[--s->n];
		zone_free(z);
		z = NULL;
	}
	if (z == NULL) {
		struct store_zone sz;
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 16;
			struct sec_zone **nz = realloc(s->zones, cap * sizeof(*nz));
			if (nz == NULL)
				return -ENOMEM;
			s->zones = nz;
			s->cap = cap;
		}
		z = calloc(1, sizeof(*z));
		if (z == NULL)
			return -ENOMEM;
		z->zone_id = row->zone_id;
		z->life = row->life;
		snprintf(z->domain, sizeof(z->domain), "%s", row->domain);
		if (knot_dname_from_str(z->dname, row->domain, sizeof(z->dname)) == NULL) {
			free(z);
			return 0;
		}
		knot_dname_to_lower(z->dname);
		z->refreshed_at = row->refreshed_at;
		z->transferred = row->refreshed_at != 0 && !row->expired;
		z->retry = z->refresh = SECONDARY_FIRST_RETRY_S;
		z->expire = 0;
		if (z->transferred && store_zone_get(rl->st, row->zone_id, &sz) == 0) {
			/* The timers of the SOA it holds, until a primary answers. */
			struct zone_soa soa;
			zone_soa_read(sz.soa, &soa);
			z->serial = sz.serial;
			z->expire = soa.expire > 0 ? (uint32_t)soa.expire : 0;
			z->retry = soa.retry > 0 ? (uint32_t)soa.retry : z->retry;
			z->refresh = soa.refresh > 0 ? (uint32_t)soa.refresh : z->refresh;
			store_zone_clear(&sz);
		}
		z->state = row->expired ? SEC_EXPIRED : z->transferred ? SEC_OK : SEC_PENDING;
		s->zones[s->n++] = z;
	}
	if (!busy(z)) /* else at the next reload, after its refresh */
		zone_settings(s, z, row);
	z->seen = true;
	return 0;
}

/* The stored secondaries into the list (under the lock). */
static void reload(struct secondary *s, struct store *st)
{
	struct reload rl = { s, st };
	for (size_t i = 0; i < s->n; i++)
		s->zones[i]->seen = false;
	int r = store_secondary_foreach(st, reload_one, &rl);
	if (r < 0) {
		log_warn("secondary: reading the secondary zones: %s", err_str(r));
		return;
	}
	for (size_t i = 0; i < s->n;) {
		if (s->zones[i]->seen || busy(s->zones[i])) {
			i++;
			continue;
		}
		zone_free(s->zones[i]);
		s->zones[i] = s->zones[--s->n];
	}
}

/* --- one refresh ------------------------------------------------------- */

/* Store the transferred zone 'data' as zone 'z''s new version, if it is
 * still the zone of life 'life' the refresh began with. */
static int commit(struct secondary *s, struct sec_zone *z, uint32_t life,
		  const struct xfr_zone *data, struct errmsg *err)
{
	struct whm *w = s->w;
	struct buf text;
	struct import_result c = { 0 };
	struct zone_soa soa;
	char soa_text[STORE_ZONE_SOA_MAX];
	struct zone_result res;
	uint32_t serial = xfr_zone_serial(data);

	buf_init(&text, SECONDARY_MAX_BYTES);
	int r = xfr_zone_text(data, &text);
	if (r == 0)
		r = import_read_flags(IMPORT_BIND, text.data, text.len, z->domain,
				      w->conf.default_ttl, w->conf.max_zone_records,
				      IMPORT_PRESIGNED, &c);
	if (r < 0) {
		errmsg_set(err, r, "reading the transferred zone: %s", err_str(r));
	} else if (json_array_size(c.errors) > 0) {
		json_t *e = json_array_get(c.errors, 0);
		r = errmsg_set(err, ERR_INVALID, "the transferred zone is refused: line %lld: %s",
			       (long long)json_integer_value(json_object_get(e, "line")),
			       json_string_value(json_object_get(e, "message")));
	} else if (!c.soa_seen) {
		r = errmsg_set(err, ERR_INVALID, "the transferred zone has no SOA");
	} else if (zone_soa_from_rdata(w, c.soa_rdata, &soa, err) < 0) {
		r = ERR_INVALID;
	}
	struct store *st = whm_store(w);
	struct store_zone now;
	bool expired = false;
	if (r == 0 && st != NULL && store_zone_get(st, z->zone_id, &now) == 0) {
		expired = now.deleted;
		store_zone_clear(&now);
	}
	if (r == 0)
		zone_soa_write(&soa, soa_text);
	if (r == 0 && expired) {
		/* Expired, so deleted: a primary answers again, and the zone
		 * comes back with what it sent as one version (its tombstone
		 * revived, its primaries kept), unless it was deleted since. */
		struct zone_init init = { .records = c.records,
					  .soa = soa_text,
					  .primaries = z->primaries_text,
					  .tsig_key = z->tsig_key[0] ? z->tsig_key : NULL,
					  .record_flags = MODEL_PRESIGNED,
					  .serial = &serial,
					  .revive_life = &life };
		r = zones_create_with(w, z->domain, 0, 0, &init, "secondary", &res, err);
		if (r == 0) {
			log_notice("secondary: zone %s: a primary answers again: served again",
				   z->domain);
			pthread_mutex_lock(&s->lock);
			z->life = res.life; /* a revived tombstone's next life */
			pthread_mutex_unlock(&s->lock);
		}
	} else if (r == 0) {
		r = zones_records_transfer(w, z->zone_id, life, c.records, serial, soa_text,
					   "secondary", &res, err);
		r = r > 0 ? 0 : r;
	}
	import_result_clear(&c);
	buf_free(&text);
	return r;
}

/* One stored record into 'z' as a transfer would have put it there. */
static int held_add(struct xfr_zone *z, const struct rr *rr)
{
	knot_dname_storage_t owner;

	if (knot_dname_from_str(owner, rr->owner, sizeof(owner)) == NULL)
		return -EINVAL;
	knot_rrset_t *set = knot_rrset_new(owner, rr->type, KNOT_CLASS_IN, rr->ttl, NULL);
	int r = set != NULL ? knot_rrset_add_rdata(set, rr->wire, rr->wire_len, NULL) : -ENOMEM;
	r = r == KNOT_EOK ? xfr_zone_add(z, set) : -ENOMEM;
	knot_rrset_free(set, NULL);
	return r;
}

/* A restart loses the zone held in memory: read it back from the store,
 * where the last transfer left it, so the next change can come as an
 * IXFR from the stored serial (RFC 1995). Differences that do not apply
 * to it still make the transfer an AXFR (xfr_transfer()); anything amiss
 * here leaves nothing held, and the next transfer is an AXFR. */
static void held_from_store(struct secondary *s, struct sec_zone *z)
{
	struct whm *w = s->w;
	struct xfr_zone held = { 0 };
	struct zonefile zf = { 0 };
	struct errmsg err;
	struct buf text;

	buf_init(&text, SECONDARY_MAX_BYTES);
	int r = transfer_export(w, z->zone_id, &text, &err);
	if (r == 0)
		r = zonefile_parse_flags(text.data, text.len, z->domain, w->conf.default_ttl,
					 w->conf.max_zone_records, ZONEFILE_PRESIGNED, &zf);
	if (r == 0 && zf.n_errs > 0)
		r = -EINVAL;
	for (size_t i = 0; r == 0 && i < zf.n; i++)
		r = held_add(&held, &zf.rrs[i].rr);
	if (r == 0 && (held.soa == NULL || xfr_zone_serial(&held) != z->serial))
		r = -ESTALE;
	if (r == 0) {
		pthread_mutex_lock(&s->lock);
		z->data = held;
		pthread_mutex_unlock(&s->lock);
	} else {
		xfr_zone_clear(&held);
		log_info("secondary: zone %s: the stored zone cannot be the base of an IXFR (%s): "
			 "the next transfer is an AXFR",
			 z->domain, err_str(r));
	}
	zonefile_clear(&zf);
	buf_free(&text);
}

/* The libknot key of zone 'z' into 'key' (*ret_use: whether it has one). */
static int zone_key(struct whm *w, const struct sec_zone *z, knot_tsig_key_t *key, bool *ret_use,
		    struct errmsg *err)
{
	knot_dname_storage_t name;

	*ret_use = false;
	if (z->tsig_key[0] == '\0')
		return 0;
	if (knot_dname_from_str(name, z->tsig_key, sizeof(name)) == NULL ||
	    tsig_knot_key(w, name, key) < 0)
		return errmsg_set(err, ERR_NOT_FOUND, "TSIG key '%s' is gone", z->tsig_key);
	*ret_use = true;
	return 0;
}

/* Ask each primary in turn until one answers for the zone. Runs without
 * the lock on a zone only this thread changes; the fields the API reads
 * are written under the lock. */
static void refresh(struct secondary *s, struct sec_zone *z)
{
	struct whm *w = s->w;
	struct errmsg err = { .text = "no primary" };
	knot_tsig_key_t key;
	bool use_key, ixfr = false, done = false;
	const struct xfr_limits lim = { .timeout_ms = SECONDARY_TIMEOUT_MS,
					.stall_ms = SECONDARY_STALL_MS,
					.max_records = w->conf.max_zone_records,
					.max_bytes = SECONDARY_MAX_BYTES,
					.max_text = w->conf.max_zone_bytes };
	const uint32_t life = z->life; /* the zone this refresh is for */
	int r = zone_key(w, z, &key, &use_key, &err);

	for (unsigned i = 0; r == 0 && !done && i < z->n_primaries; i++) {
		const struct xfr_primary *p = &z->primaries[i];
		uint32_t serial;
		int rp = xfr_soa_serial(p, z->dname, use_key ? &key : NULL, &lim, &serial, &err);
		if (rp < 0)
			continue;
		int32_t ahead = (int32_t)(serial - z->serial);
		if (z->transferred && ahead == 0) {
			done = true;
			break;
		}
		if (z->transferred && ahead < 0) {
			if (strstr(z->last_error, "backwards") == NULL)
				log_warn("secondary: zone %s: primary %s has serial %u, behind %u: "
					 "ignored",
					 z->domain, p->text, serial, z->serial);
			errmsg_set(&err, ERR_UPSTREAM,
				   "%s: serial %u went backwards from %u; ignored", p->text, serial,
				   z->serial);
			atomic_fetch_add(&s->rejected, 1);
			continue;
		}
		if (z->transferred && z->data.soa == NULL)
			held_from_store(s, z);
		struct xfr_zone data = { 0 };
		bool from_held = z->transferred && z->data.soa != NULL;
		if (from_held) {
			data.soa = knot_rrset_copy(z->data.soa, NULL);
			data.rrs = json_deep_copy(z->data.rrs);
		}
		rp = xfr_transfer(p, z->dname, use_key ? &key : NULL, &lim, from_held, &data, &ixfr,
				  &err);
		/* Only a serial ahead of the one held is new data (RFC 1982):
		 * other data at the same serial would leave the nodes' own
		 * secondaries with the old at that serial. A transfer at the
		 * serial held (its SOA answer said more) is what is held. */
		if (rp == 0 && z->transferred && xfr_zone_serial(&data) == z->serial) {
			log_info(
			    "secondary: zone %s: the transfer from %s carries the serial held, "
			    "%u: nothing to store",
			    z->domain, p->text, z->serial);
			xfr_zone_clear(&data);
			done = true;
			break;
		}
		if (rp == 0 && z->transferred && (int32_t)(xfr_zone_serial(&data) - z->serial) < 0)
			rp = errmsg_set(&err, ERR_UPSTREAM,
					"%s: the transfer's serial went backwards", p->text);
		int rc = 0; /* what the commit answered */
		if (rp == 0)
			rp = rc = commit(s, z, life, &data, &err);
		if (rp < 0) {
			xfr_zone_clear(&data);
			atomic_fetch_add(&s->rejected, 1);
			log_warn("secondary: zone %s: transfer from %s refused: %s", z->domain,
				 p->text, err.text);
			/* The zone changed under the refresh (another life, or the
			 * controller signs it): another primary's data would be
			 * refused the same way. */
			if (rc == ERR_CONFLICT)
				break;
			continue;
		}
		log_info("secondary: zone %s: %s from %s, serial %u", z->domain,
			 ixfr ? "IXFR" : "AXFR", p->text, xfr_zone_serial(&data));
		pthread_mutex_lock(&s->lock);
		xfr_zone_clear(&z->data);
		z->data = data;
		z->serial = xfr_zone_serial(&data);
		z->transferred = true;
		z->last_transfer = whm_now();
		if (ixfr)
			z->ixfr++;
		else
			z->axfr++;
		pthread_mutex_unlock(&s->lock);
		done = true;
	}
	if (use_key)
		knot_tsig_key_deinit(&key);
	int64_t now = whm_now();
	/* The expire timer runs on the clock tests may shift (zkeys_now). */
	bool expiring = !done && z->transferred && z->expire > 0 && z->state != SEC_EXPIRED &&
			zkeys_now(w) - z->refreshed_at > (int64_t)z->expire;
	pthread_mutex_lock(&s->lock);
	z->last_check = now;
	if (done) {
		const knot_rdata_t *soa = z->data.soa != NULL ? z->data.soa->rrs.rdata : NULL;
		if (soa != NULL) {
			z->refresh = knot_soa_refresh(soa);
			z->retry = knot_soa_retry(soa);
			z->expire = knot_soa_expire(soa);
		}
		z->refreshed_at = now;
		z->state = SEC_OK;
		z->proven = true;
		z->last_error[0] = '\0';
		z->due_ms = whm_mono_ms() + (int64_t)(z->refresh ? z->refresh : 1) * 1000;
	} else {
		z->proven = false;
		z->failures++;
		/* Logged when the zone goes from working (or new) to failing,
		 * not at every retry. */
		if (z->state == SEC_OK || (z->state == SEC_PENDING && z->last_error[0] == '\0'))
			log_warn("secondary: zone %s: refresh failed: %s", z->domain, err.text);
		snprintf(z->last_error, sizeof(z->last_error), "%s", err.text);
		if (expiring)
			log_err("secondary: zone %s: expired: no primary answered for %u s; it is "
				"not served until one does",
				z->domain, z->expire);
		if (expiring || z->state == SEC_EXPIRED)
			z->state = SEC_EXPIRED;
		else
			z->state = z->transferred ? SEC_RETRYING : SEC_PENDING;
		z->due_ms = whm_mono_ms() + (int64_t)(z->retry ? z->retry : 1) * 1000;
	}
	z->done_ms = whm_mono_ms();
	if (z->again)
		z->due_ms = z->again_notify ? z->done_ms + SECONDARY_NOTIFY_GAP_MS : 0;
	z->again = z->again_notify = false;
	const uint32_t held = z->life; /* 'life', or the next once revived */
	pthread_mutex_unlock(&s->lock);
	if (done) {
		struct store *st = whm_store(w);
		/* Not for the zone of another life made meanwhile */
		int rr = st != NULL ? store_secondary_refreshed(st, z->zone_id, held, now) : 0;
		if (rr < 0 && rr != -ENOENT)
			log_warn("secondary: zone %s: cannot record the refresh", z->domain);
	}
	if (expiring) {
		/* RFC 1035 section 4.3.5: no longer served. The data held goes:
		 * the zone comes back by a whole transfer. */
		struct zone_result res;
		if (zones_expire(w, z->zone_id, life, "secondary", &res, &err) < 0)
			log_err("secondary: zone %s: cannot stop serving it: %s", z->domain,
				err.text);
		pthread_mutex_lock(&s->lock);
		xfr_zone_clear(&z->data);
		z->transferred = false;
		pthread_mutex_unlock(&s->lock);
	}
}

static void *secondary_main(void *arg)
{
	struct secondary *s = arg;

	while (!atomic_load(&s->stop)) {
		struct store *st = whm_store(s->w);
		pthread_mutex_lock(&s->lock);
		if (st != NULL)
			reload(s, st);
		s->wake = false;
		int64_t now = whm_mono_ms(), next = now + SECONDARY_RELOAD_MS;
		struct sec_zone *due = NULL;
		bool more = false, unproven_full = s->unproven >= SECONDARY_UNPROVEN_WORKERS;
		for (size_t i = 0; i < s->n; i++) {
			struct sec_zone *z = s->zones[i];
			/* A zone waiting for a worker of the unproven ones is
			 * woken by the end of one of their refreshes. */
			if (busy(z) || (unproven_full && !proven(z)))
				continue;
			if (z->due_ms <= now && due != NULL)
				more = true;
			else if (z->due_ms <= now)
				due = z;
			if (z->due_ms < next)
				next = z->due_ms;
		}
		if (due != NULL) {
			/* Refreshed without the lock: busy(), it is this
			 * worker's alone. Another worker takes the next. */
			bool counted = !proven(due);
			due->due_ms = INT64_MAX;
			s->unproven += counted;
			if (more) {
				s->wake = true;
				pthread_cond_signal(&s->cond);
			}
			pthread_mutex_unlock(&s->lock);
			refresh(s, due);
			pthread_mutex_lock(&s->lock);
			s->unproven -= counted;
			/* A zone held back for want of a worker may go now. */
			if (counted) {
				s->wake = true;
				pthread_cond_broadcast(&s->cond);
			}
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		struct timespec ts = whm_mono_deadline(next);
		while (!atomic_load(&s->stop) && !s->wake && whm_mono_ms() < next)
			if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

int secondary_start(struct whm *w)
{
	struct secondary *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->w = w;
	pthread_mutex_init(&s->lock, NULL);
	whm_cond_init(&s->cond);
	w->secondary = s;
	for (; s->n_threads < SECONDARY_WORKERS; s->n_threads++) {
		if (pthread_create(&s->threads[s->n_threads], NULL, secondary_main, s) != 0) {
			secondary_stop(w);
			return -EAGAIN;
		}
	}
	return 0;
}

void secondary_stop(struct whm *w)
{
	struct secondary *s = w->secondary;
	if (s == NULL)
		return;
	for (unsigned i = 0; i < s->n_threads; i++)
		whm_thread_stop(s->threads[i], &s->lock, &s->cond, &s->stop);
	w->secondary = NULL;
	for (size_t i = 0; i < s->n; i++)
		zone_free(s->zones[i]);
	free(s->zones);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* --- requests from other threads --------------------------------------- */

/* Refresh 'z' at once, or once more when it is being refreshed now (its
 * due time is INT64_MAX then); for a NOTIFY, not before
 * SECONDARY_NOTIFY_GAP_MS after the last refresh ended. Under the lock. */
static void refresh_now(struct secondary *s, struct sec_zone *z, bool notify)
{
	int64_t at = notify && z->done_ms > 0 ? z->done_ms + SECONDARY_NOTIFY_GAP_MS : 0;
	if (!busy(z)) {
		if (at < z->due_ms)
			z->due_ms = at;
	} else {
		z->again_notify = z->again ? z->again_notify && notify : notify;
		z->again = true;
	}
	s->wake = true;
	pthread_cond_signal(&s->cond);
}

/* Whether key name 'key' (a TSIG owner) is 'z''s key. */
static bool zone_key_is(const struct sec_zone *z, const knot_dname_t *key)
{
	knot_dname_storage_t mine;

	return key != NULL && z->tsig_key[0] != '\0' &&
	       knot_dname_from_str(mine, z->tsig_key, sizeof(mine)) != NULL &&
	       knot_dname_is_case_equal(mine, key);
}

int secondary_notify(struct whm *w, const knot_dname_t *zone, const struct sockaddr_storage *from,
		     const knot_dname_t *key)
{
	struct secondary *s = w->secondary;
	knot_dname_storage_t lower;
	int rcode = KNOT_RCODE_NOTAUTH;
	bool warn = false;

	if (s == NULL || knot_dname_size(zone) > sizeof(lower))
		return KNOT_RCODE_REFUSED;
	memcpy(lower, zone, knot_dname_size(zone));
	knot_dname_to_lower(lower);
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++) {
		struct sec_zone *z = s->zones[i];
		if (!knot_dname_is_equal(z->dname, lower))
			continue;
		bool known = zone_key_is(z, key);
		for (unsigned k = 0; !known && from != NULL && k < z->n_primaries; k++)
			known = xfr_primary_matches(&z->primaries[k], from);
		rcode = known ? KNOT_RCODE_NOERROR : KNOT_RCODE_REFUSED;
		if (known) {
			refresh_now(s, z, true);
			atomic_fetch_add(&s->notifies, 1);
		}
		/* Logged once per zone: a NOTIFY costs its sender nothing. */
		warn = rcode == KNOT_RCODE_REFUSED && !z->notify_warned;
		z->notify_warned = z->notify_warned || warn;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	if (warn)
		log_warn("secondary: NOTIFY for a secondary zone from an address that is not its "
			 "primary, not signed with its key: refused (logged once per zone)");
	return rcode;
}

int secondary_retrieve(struct whm *w, int64_t zone_id, struct errmsg *err)
{
	struct secondary *s = w->secondary;
	struct store *st = whm_store(w);
	struct store_secondary row;

	if (s != NULL) { /* an expired zone too */
		pthread_mutex_lock(&s->lock);
		struct sec_zone *z = find_id(s, zone_id);
		if (z != NULL)
			refresh_now(s, z, false);
		pthread_mutex_unlock(&s->lock);
		if (z != NULL)
			return 0;
	}
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	int r = store_secondary_get(st, zone_id, &row);
	if (r == -ENOENT)
		return errmsg_set(err, ERR_NOT_FOUND,
				  "zone %lld is not a secondary zone: it has no primary to "
				  "retrieve it from",
				  (long long)zone_id);
	if (r < 0)
		return errmsg_set(err, r, "reading the zone: %s", err_str(r));
	store_secondary_clear(&row);
	if (s == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "zone transfers are not running");
	/* Not in the list yet: the next reload adds it, due at once. */
	pthread_mutex_lock(&s->lock);
	s->wake = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

json_t *secondary_zone_json(struct whm *w, int64_t zone_id)
{
	struct secondary *s = w->secondary;
	struct store *st = whm_store(w);
	struct store_secondary row;

	if (st == NULL || store_secondary_get(st, zone_id, &row) < 0)
		return NULL;
	json_t *prim = json_array(), *o;
	char *copy = strdup(row.primaries), *save = NULL;
	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t != NULL;
	     t = strtok_r(NULL, ",", &save))
		json_array_append_new(prim, json_string(t));
	free(copy);
	/* Served as the primary signed it: its DNSSEC records came with it. */
	bool presigned = false;
	if (zones_presigned(st, zone_id, &presigned) < 0)
		log_warn("secondary: zone %lld: cannot read its records", (long long)zone_id);
	o = json_pack("{s:o,s:o,s:b}", "primaries", prim, "tsig_key",
		      row.tsig_key[0] ? json_string(row.tsig_key) : json_null(), "presigned",
		      presigned);
	store_secondary_clear(&row);
	if (o == NULL || s == NULL)
		return o;
	pthread_mutex_lock(&s->lock);
	const struct sec_zone *z = find_id(s, zone_id);
	if (z != NULL) {
		json_object_set_new(o, "state", json_string(state_names[z->state]));
		json_object_set_new(o, "serial",
				    z->transferred ? json_integer(z->serial) : json_null());
		json_object_set_new(o, "last_check", json_integer(z->last_check));
		json_object_set_new(o, "last_transfer", json_integer(z->last_transfer));
		json_object_set_new(o, "last_error",
				    z->last_error[0] ? json_string(z->last_error) : json_null());
		json_object_set_new(o, "transfers",
				    json_pack("{s:I,s:I,s:I}", "axfr", (json_int_t)z->axfr, "ixfr",
					      (json_int_t)z->ixfr, "failed",
					      (json_int_t)z->failures));
	} else {
		json_object_set_new(o, "state", json_string("pending"));
	}
	pthread_mutex_unlock(&s->lock);
	return o;
}

json_t *secondary_summary_json(struct whm *w)
{
	struct secondary *s = w->secondary;
	json_int_t by_state[4] = { 0 };
	json_t *attention = json_array();

	if (s != NULL) {
		pthread_mutex_lock(&s->lock);
		for (size_t i = 0; i < s->n; i++) {
			const struct sec_zone *z = s->zones[i];
			by_state[z->state]++;
			if (z->state != SEC_OK && json_array_size(attention) < 100)
				json_array_append_new(
				    attention,
				    json_pack("{s:I,s:s,s:s,s:o}", "zoneId", (json_int_t)z->zone_id,
					      "zone", z->domain, "state", state_names[z->state],
					      "last_error",
					      z->last_error[0] ? json_string(z->last_error)
							       : json_null()));
		}
		pthread_mutex_unlock(&s->lock);
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:o}", "pending", by_state[SEC_PENDING], "ok",
			 by_state[SEC_OK], "retrying", by_state[SEC_RETRYING], "expired",
			 by_state[SEC_EXPIRED], "attention", attention);
}

int secondary_metrics(struct whm *w, struct buf *out)
{
	struct secondary *s = w->secondary;
	unsigned long long axfr = 0, ixfr = 0, failed = 0, by_state[4] = { 0 };

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++) {
		axfr += s->zones[i]->axfr;
		ixfr += s->zones[i]->ixfr;
		failed += s->zones[i]->failures;
		by_state[s->zones[i]->state]++;
	}
	pthread_mutex_unlock(&s->lock);
	int r =
	    buf_printf(out, "# HELP yumna_whm_secondary_zones secondary zones by state (pending: "
			    "never transferred, retrying: the last refresh failed, expired: no "
			    "primary answered within the SOA's expire)\n"
			    "# TYPE yumna_whm_secondary_zones gauge\n");
	for (unsigned k = 0; r == 0 && k < 4; k++)
		r = buf_printf(out, "yumna_whm_secondary_zones{state=\"%s\"} %llu\n",
			       state_names[k], by_state[k]);
	if (r == 0)
		r = buf_printf(out,
			       "# HELP yumna_whm_secondary_transfers_total zone transfers stored, "
			       "by kind\n# TYPE yumna_whm_secondary_transfers_total counter\n"
			       "yumna_whm_secondary_transfers_total{kind=\"axfr\"} %llu\n"
			       "yumna_whm_secondary_transfers_total{kind=\"ixfr\"} %llu\n",
			       axfr, ixfr);
	if (r == 0)
		r = buf_printf(
		    out,
		    "# HELP yumna_whm_secondary_refresh_failures_total refreshes no "
		    "primary answered\n# TYPE yumna_whm_secondary_refresh_failures_total "
		    "counter\nyumna_whm_secondary_refresh_failures_total %llu\n"
		    "# HELP yumna_whm_secondary_rejected_total transfers refused (bad "
		    "data, serial backwards, bad signature)\n"
		    "# TYPE yumna_whm_secondary_rejected_total counter\n"
		    "yumna_whm_secondary_rejected_total %llu\n"
		    "# HELP yumna_whm_secondary_notifies_total NOTIFY messages accepted "
		    "from primaries\n# TYPE yumna_whm_secondary_notifies_total counter\n"
		    "yumna_whm_secondary_notifies_total %llu\n",
		    failed, (unsigned long long)atomic_load(&s->rejected),
		    (unsigned long long)atomic_load(&s->notifies));
	return r;
}
