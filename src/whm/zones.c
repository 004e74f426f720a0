/* The zone service's core (zones.h): the steps every zone change takes
 * (zones_internal.h: read, validate, lock, finish), zones_change() for the
 * changes that are not record changes (a serial increased here; a delete in
 * zones_lifecycle.c), the push payload and digest each node must reach,
 * a zone's PowerDNS settings, and the panel's JSON of zones and records.
 * Zones are created and deleted in zones_lifecycle.c; their records are
 * changed in zones_record.c (one record), zones_records.c (every record:
 * replace, import, transfer) and zones_rrsets.c (RRsets, as PowerDNS's
 * PATCH changes them). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "pdns_shape.h"
#include "zkeys.h"
#include "zones.h"
#include "history.h"
#include "zones_internal.h"
#include "zones_steer.h"
#include "zones_soa.h"
#include "catalog.h"
#include "xfrout.h"

json_t *zones_payload_record(int64_t id, const char *name, const char *type, const char *content,
			     uint32_t ttl, uint32_t priority, bool disabled)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "name", name, "type", type, "content", content,
			      "ttl", (json_int_t)ttl);
	if (o != NULL && id > 0)
		json_object_set_new(o, "id", json_integer(id));
	if (o != NULL && (strcmp(type, "MX") == 0 || strcmp(type, "SRV") == 0))
		json_object_set_new(o, "priority", json_integer(priority));
	if (o != NULL && disabled)
		json_object_set_new(o, "disabled", json_true());
	return o;
}

static int collect_record(const struct store_record *r, void *ctx)
{
	json_t *o = zones_payload_record(r->id, r->name, r->type, r->content, r->ttl, r->priority,
					 r->disabled);
	return o != NULL && json_array_append_new(ctx, o) == 0 ? 0 : -ENOMEM;
}

/* Without the records' ids, which no node reads: a push is the size the
 * zone's check measured (zones_validate(), max-zone-bytes). */
static int collect_pushed(const struct store_record *r, void *ctx)
{
	json_t *o =
	    zones_payload_record(0, r->name, r->type, r->content, r->ttl, r->priority, r->disabled);
	return o != NULL && json_array_append_new(ctx, o) == 0 ? 0 : -ENOMEM;
}

int zones_write_comments(struct store *st, int64_t zone_id, const json_t *comments)
{
	const char *key;
	json_t *list;
	int r = 0;

	json_object_foreach((json_t *)comments, key, list) {
		char name[DNAME_TEXT_MAX];
		const char *tab = strchr(key, '\t');
		if (tab == NULL || (size_t)(tab - key) >= sizeof(name))
			return -EINVAL;
		snprintf(name, sizeof(name), "%.*s", (int)(tab - key), key);
		if (json_array_size(list) == 0) {
			r = store_comment_delete(st, zone_id, name, tab + 1);
		} else {
			char *text = json_dumps(list, JSON_COMPACT);
			r = text != NULL ? store_comment_put(st, zone_id, name, tab + 1, text)
					 : -ENOMEM;
			free(text);
		}
		if (r < 0)
			break;
	}
	return r;
}

static int load_records(struct store *st, int64_t zone_id, bool ids, json_t **ret)
{
	json_t *a = json_array();
	int r = a ? store_record_foreach(st, zone_id, ids ? collect_record : collect_pushed, a)
		  : -ENOMEM;
	if (r < 0) {
		json_decref(a);
		return r;
	}
	*ret = a;
	return 0;
}

int zones_load_records(struct store *st, int64_t zone_id, json_t **ret)
{
	return load_records(st, zone_id, true, ret);
}

/* The payload of 'z' with 'records' (borrowed; the disabled ones left out:
 * no node serves them, and the digest the nodes are checked against is of
 * what they serve) and the zone's SOA as the controller has it, so every
 * node publishes the same SOA whatever its own defaults. */
static json_t *build_payload(const struct whm *w, const struct store_zone *z, json_t *records,
			     json_t *dnssec)
{
	char soa[2 * DNAME_TEXT_MAX + 80];
	const struct whm_conf *c = &w->conf;

	zone_soa_text(w, z, soa, sizeof(soa));
	json_t *all = json_array(), *o;
	size_t i;
	if (all == NULL)
		return NULL;
	json_array_foreach(records, i, o) {
		if (!json_is_true(json_object_get(o, "disabled")))
			json_array_append(all, o);
	}
	json_array_append_new(
	    all, zones_payload_record(0, "@", ZONES_TYPE_SOA, soa, (uint32_t)c->soa_ttl, 0, false));
	json_t *p =
	    json_pack("{s:{s:s,s:I,s:I},s:o}", "zone", "domain", z->domain, "version",
		      (json_int_t)z->version, "serial", (json_int_t)z->serial, "records", all);
	if (p != NULL && dnssec != NULL)
		json_object_set(json_object_get(p, "zone"), "dnssec", dnssec);
	/* Signed by its primary: nodes serve its signatures, sign nothing. */
	if (p != NULL && zones_records_presigned(all))
		json_object_set_new(json_object_get(p, "zone"), "presigned", json_true());
	return p;
}

/* 'records' as the nodes serve them (zones_steer_serve). */
static int served(struct store *st, int64_t zone_id, const char *origin, json_t *records,
		  const json_t *plan, json_t **ret, struct errmsg *err)
{
	json_t *policies = NULL;
	int r = st != NULL && zone_id > 0 ? zones_steer_load(st, zone_id, &policies) : 0;

	if (r == 0)
		r = zones_steer_serve(records, policies, plan, origin, ret, err);
	else
		errmsg_set(err, 0, "reading routing policies: %s", err_str(r));
	json_decref(policies);
	return r;
}

/* The size of 'payload' as a push carries it: compact, and without the
 * records' ids (collect_pushed()), which records read from the store hold
 * here: ',"id":N' (or '"id":N,' first), six bytes and the digits. */
static size_t pushed_bytes(const json_t *payload)
{
	size_t bytes = json_dumpb(payload, NULL, 0, JSON_COMPACT), i;
	const json_t *o;

	if (bytes == 0)
		return SIZE_MAX; /* jansson could not: refused, never wrapped */

	json_array_foreach(json_object_get(payload, "records"), i, o) {
		const json_t *id = json_object_get(o, "id");
		char digits[24];
		if (json_is_integer(id))
			bytes -= strlen(",\"id\":") +
				 (size_t)snprintf(digits, sizeof(digits), "%lld",
						  (long long)json_integer_value(id));
	}
	return bytes;
}

int zones_validate(const struct whm *w, struct store *st, struct store_zone *z, json_t *records,
		   const json_t *plan, struct errmsg *err)
{
	struct soa_defaults soa;
	struct zone_push p;
	struct errmsg msg;
	json_t *serve = NULL;

	int r = served(st, z->id, z->domain, records, plan, &serve, err);
	if (r < 0)
		return r;
	json_t *payload = build_payload(w, z, serve, NULL);
	json_decref(serve);
	if (payload == NULL)
		return -ENOMEM;
	whm_soa_defaults(w, &soa);
	/* The catalog is the controller's own zone, as large as the zone
	 * count: max-zone-records bounds the customers' zones, not it. */
	struct zone_limits lim = w->limits;
	bool catalog = catalog_is(w, z->id);
	if (catalog)
		lim.max_records = UINT_MAX;
	/* A node takes a zone of up to its max-body-size (4 MiB by default)
	 * and refuses a larger push for good: a zone no node would take is
	 * refused here, before anything is acknowledged. The push adds the
	 * zone's keys and transfer settings, which max-zone-bytes leaves room
	 * for (at most 64 transfer entries: under 70 KB; keys: a few KB). */
	size_t bytes = catalog ? 0 : pushed_bytes(payload);
	if (bytes > w->conf.max_zone_bytes) {
		json_decref(payload);
		return errmsg_set(err, ERR_TOO_LARGE,
				  "the zone's records take %zu bytes as the nodes get them, over "
				  "max-zone-bytes (%llu): the nodes would refuse it",
				  bytes, (unsigned long long)w->conf.max_zone_bytes);
	}
	r = model_push_parse(payload, &lim, &soa, &p, &msg);
	json_decref(payload);
	if (r < 0)
		return errmsg_set(err, r, "%s", msg.text);
	struct zone_digest d;
	zone_digest_init(&d);
	zone_digest_add_zone(&d, &p.data);
	r = zone_digest_final(&d, z->rdigest, NULL);
	zone_push_clear(&p);
	if (r < 0)
		errmsg_set(err, 0, "digest: %s", err_str(r));
	return r;
}

int zones_digest(struct whm *w, struct store *st, struct store_zone *z, char ret[ZONE_DIGEST_HEX])
{
	if (z->deleted) {
		ret[0] = '\0';
		return 0;
	}
	if (z->rdigest[0] == '\0') {
		/* A zone stored before digests: computed once, then kept. */
		struct errmsg err;
		json_t *records = NULL;
		int r = zones_load_records(st, z->id, &records);
		if (r == 0)
			r = zones_validate(w, st, z, records, NULL, &err);
		json_decref(records);
		if (r < 0)
			return r;
		store_zone_set_rdigest(st, z->id, z->version, z->rdigest);
	}
	return zone_soa_digest(w, z, ret);
}

int zones_fail(struct store *st, int r, struct errmsg *err, const char *what)
{
	store_rollback(st);
	if (err->text[0] == '\0')
		errmsg_set(err, 0, "%s: %s", what, err_str(r));
	return r;
}

int zones_busy(struct errmsg *err)
{
	return errmsg_set(err, ERR_UNAVAILABLE, "the zone is changing too fast; try again");
}

int zones_get(struct whm *w, int64_t zone_id, struct store **ret_st, struct store_zone *z,
	      struct errmsg *err)
{
	struct store *st = whm_store(w);
	err->text[0] = '\0';
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	*ret_st = st;
	int r = store_zone_get(st, zone_id, z);
	if (r == -ENOENT)
		return errmsg_set(err, ERR_NOT_FOUND, "zone %lld does not exist",
				  (long long)zone_id);
	if (r < 0)
		return errmsg_set(err, r, "reading the zone: %s", err_str(r));
	return 0;
}

/* Read zone 'zone_id' and its records, outside any transaction: a change
 * is prepared and validated (the costly part) while other changes commit,
 * and zones_lock_unchanged() then makes sure nothing moved meanwhile. */
int zones_get_live(struct whm *w, int64_t zone_id, struct store **ret_st, struct store_zone *z,
		   struct errmsg *err)
{
	int r = zones_get(w, zone_id, ret_st, z, err);
	if (r == 0 && z->deleted) {
		store_zone_clear(z);
		return errmsg_set(err, ERR_NOT_FOUND, "zone %lld does not exist",
				  (long long)zone_id);
	}
	return r;
}

int zones_read(struct whm *w, struct store **ret_st, int64_t zone_id, struct store_zone *z,
	       json_t **records, struct errmsg *err)
{
	int r = catalog_guard(w, zone_id, err);
	if (r < 0)
		return r;
	r = zones_get_live(w, zone_id, ret_st, z, err);
	if (r < 0)
		return r;
	r = zones_load_records(*ret_st, zone_id, records);
	if (r < 0) {
		store_zone_clear(z);
		errmsg_set(err, 0, "reading the records: %s", err_str(r));
	}
	return r;
}

int zones_lock_unchanged(struct store *st, int64_t zone_id, uint64_t version, struct errmsg *err)
{
	struct store_zone now;
	int r = store_begin(st);
	if (r < 0)
		return zones_fail(st, r, err, "starting a transaction");
	r = store_zone_get_locked(st, zone_id, &now);
	if (r < 0)
		return zones_fail(st, r, err, "reading the zone");
	bool same = now.version == version && !now.deleted;
	store_zone_clear(&now);
	if (!same) {
		store_rollback(st);
		return -EAGAIN;
	}
	return 0;
}

int zones_editable(struct store *st, int64_t zone_id, struct errmsg *err)
{
	int r = store_secondary_held(st, zone_id);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return errmsg_set(err, r, "reading the zone's kind: %s", err_str(r));
	return errmsg_set(err, ERR_CONFLICT,
			  "the zone's data comes from its primary: it is a secondary zone, "
			  "changed only by zone transfers");
}

int zones_secondary_same(struct store *st, const struct store_zone *z, uint32_t life,
			 struct errmsg *err)
{
	int r = z->life == life && !z->deleted ? store_secondary_held(st, z->id) : -ENOENT;

	if (r == -ENOENT)
		return errmsg_set(err, ERR_CONFLICT,
				  "the zone was deleted, created again or made a zone of its own "
				  "since its refresh began: what the refresh brought is dropped");
	if (r < 0)
		return errmsg_set(err, r, "reading the zone's kind: %s", err_str(r));
	return 0;
}

void zones_bump(struct store_zone *z)
{
	z->version++;
	z->serial = model_serial_after(pdns_serial_rule(z->pdns), z->serial, time(NULL));
	z->updated_at = whm_now();
}

int zones_on_commit(struct whm *w, zones_commit_fn fn, void *ctx)
{
	if (w->n_commit_observers == WHM_COMMIT_OBSERVERS)
		return -ENOSPC;
	w->commit_observers[w->n_commit_observers++] = (struct whm_commit_observer){ fn, ctx };
	return 0;
}

/* Tell the observers, in the order they registered. */
static void committed(struct whm *w, struct store *st, const struct store_zone *old,
		      const struct store_zone *now)
{
	for (unsigned i = 0; i < w->n_commit_observers; i++)
		w->commit_observers[i].fn(w, st, old, now, w->commit_observers[i].ctx);
}

int zones_finish(struct whm *w, struct store *st, const struct store_zone *old,
		 struct store_zone *z, const json_t *records, const char *actor, const char *action,
		 const char *summary, struct zone_result *res, struct errmsg *err)
{
	int r = store_zone_update(st, z);
	if (r == 0)
		r = store_sync_want_all(st, z->id, z->version);
	if (r == 0)
		r = history_record(st, z, records, actor, action, summary);
	if (r == 0)
		r = store_commit(st);
	if (r < 0)
		return zones_fail(st, r, err, "committing");
	res->zone_id = z->id;
	res->version = z->version;
	res->serial = z->serial;
	res->life = z->life;
	committed(w, st, old, z);
	return 0;
}

static pthread_mutex_t turns[ZONES_TURNS] = { [0 ... ZONES_TURNS - 1] =
						  PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP };

pthread_mutex_t *zones_turn_take(int64_t zone_id)
{
	pthread_mutex_t *t = &turns[(uint64_t)zone_id % ZONES_TURNS];
	pthread_mutex_lock(t);
	return t;
}

void zones_turn_give(pthread_mutex_t *turn)
{
	pthread_mutex_unlock(turn);
}

static int change_attempts(struct whm *w, int64_t zone_id, zones_change_fn fn, void *ctx,
			   const char *actor, const char *action, const char *summary,
			   struct zone_result *res, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	int r = -EAGAIN;

	for (int attempt = 0; r == -EAGAIN && attempt < ZONES_CHANGE_ATTEMPTS; attempt++) {
		r = zones_get_live(w, zone_id, &st, &z, err);
		if (r < 0)
			return r;
		r = catalog_guard(w, zone_id, err);
		if (r == 0)
			r = zones_lock_unchanged(st, zone_id, z.version, err);
		if (r == 0) {
			struct store_zone old = z; /* before 'fn': a delete changes it */
			r = fn(st, &z, ctx, err);
			if (r == 0) {
				zones_bump(&z);
				/* The records did not change (a delete has none):
				 * the snapshot reads them in the transaction. */
				r = zones_finish(w, st, &old, &z, NULL, actor, action, summary, res,
						 err);
			} else {
				store_rollback(st);
				if (r > 0) { /* nothing to change */
					res->zone_id = z.id;
					res->version = 0;
					res->serial = z.serial;
				}
			}
		}
		store_zone_clear(&z);
	}
	return r == -EAGAIN ? zones_busy(err) : r;
}

int zones_change(struct whm *w, int64_t zone_id, zones_change_fn fn, void *ctx, const char *actor,
		 const char *action, const char *summary, struct zone_result *res,
		 struct errmsg *err)
{
	pthread_mutex_t *turn = zones_turn_take(zone_id);
	int r = change_attempts(w, zone_id, fn, ctx, actor, action, summary, res, err);
	zones_turn_give(turn);
	return r;
}

/* zones_change() step of a serial increase: nothing to write, the version
 * and serial rise; by one for a zone whose serial otherwise stays. */
static int raise_serial(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	int r = zones_editable(st, z->id, err);
	if (r < 0)
		return r;
	(void)ctx;
	(void)err;
	if (pdns_serial_rule(z->pdns) == MODEL_SERIAL_KEEP)
		z->serial = model_serial_after(MODEL_SERIAL_INCREASE, z->serial, time(NULL));
	return 0;
}

int zones_increase_serial(struct whm *w, int64_t zone_id, const char *actor,
			  struct zone_result *res, struct errmsg *err)
{
	return zones_change(w, zone_id, raise_serial, NULL, actor, "zone.increase-serial",
			    "increase the serial", res, err);
}

/* zones_payload(), or with 'stored' zones_export_payload(): the records as
 * stored, and the zone's policies as "policies". */
static int read_payload(struct whm *w, struct store *st, int64_t zone_id, bool stored, json_t **ret,
			uint64_t *ret_version, bool *ret_deleted, char *ret_domain,
			size_t domain_len)
{
	struct store_zone z, again = { 0 };
	json_t *records;

	/* Records are read between two reads of the zone row: if the version
	 * moved meanwhile, read again, so a payload never labels newer or
	 * older records with the wrong version. */
	for (int attempt = 0; attempt < 5; attempt++) {
		int r = store_zone_get(st, zone_id, &z);
		if (r < 0)
			return r;
		snprintf(ret_domain, domain_len, "%s", z.domain);
		*ret_version = z.version;
		*ret_deleted = z.deleted;
		if (z.deleted) {
			*ret = NULL;
			store_zone_clear(&z);
			return 0;
		}
		json_t *dnssec = NULL, *xfr = NULL, *policies = NULL;
		r = load_records(st, zone_id, stored, &records);
		if (r == 0) {
			r = zkeys_payload(st, zone_id, &dnssec);
			if (r == 0)
				r = xfrout_payload(w, st, zone_id, &xfr);
			if (r == 0 && stored)
				r = zones_steer_load(st, zone_id, &policies);
			if (r < 0) {
				json_decref(records);
				json_decref(dnssec);
				json_decref(xfr);
			}
		}
		if (r == 0)
			r = store_zone_get(st, zone_id, &again);
		if (r < 0) {
			json_decref(policies);
			store_zone_clear(&z);
			return r;
		}
		bool stable = again.version == z.version;
		store_zone_clear(&again);
		json_t *serve = NULL;
		struct errmsg err;
		if (stable && stored)
			serve = json_incref(records);
		else if (stable && served(st, zone_id, z.domain, records, NULL, &serve, &err) < 0)
			log_err("zone '%s': %s", z.domain, err.text);
		if (stable && serve != NULL) {
			*ret = build_payload(w, &z, serve, dnssec);
			json_decref(serve);
			if (*ret != NULL)
				json_object_set(json_object_get(*ret, "zone"), "transfer", xfr);
			/* json_object_set_new() takes 'policies', set or not */
			if (*ret != NULL && policies != NULL &&
			    json_object_set_new(*ret, "policies", policies) < 0) {
				json_decref(*ret);
				*ret = NULL;
			} else if (*ret == NULL) {
				json_decref(policies);
			}
			json_decref(xfr);
			json_decref(records);
			json_decref(dnssec);
			store_zone_clear(&z);
			return *ret ? 0 : -ENOMEM;
		}
		json_decref(policies);
		json_decref(records);
		json_decref(dnssec);
		json_decref(xfr);
		store_zone_clear(&z);
	}
	return ERR_UNAVAILABLE;
}

int zones_payload(struct whm *w, struct store *st, int64_t zone_id, json_t **ret,
		  uint64_t *ret_version, bool *ret_deleted, char *ret_domain, size_t domain_len)
{
	return read_payload(w, st, zone_id, false, ret, ret_version, ret_deleted, ret_domain,
			    domain_len);
}

int zones_export_payload(struct whm *w, struct store *st, int64_t zone_id, json_t **ret,
			 uint64_t *ret_version, bool *ret_deleted, char *ret_domain,
			 size_t domain_len)
{
	return read_payload(w, st, zone_id, true, ret, ret_version, ret_deleted, ret_domain,
			    domain_len);
}

int zones_raise_version(struct whm *w, struct store *st, int64_t zone_id, uint64_t node_version)
{
	struct store_zone z = { 0 };
	int r = store_begin(st);
	if (r == 0)
		r = store_zone_get_locked(st, zone_id, &z); /* no change commits under it */
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	struct store_zone old = z;
	if (z.version <= node_version) {
		z.version = node_version;
		zones_bump(&z);
		log_notice("zone '%s': version raised to %llu, above the %llu a node holds",
			   z.domain, (unsigned long long)z.version,
			   (unsigned long long)node_version);
		r = store_zone_update(st, &z);
		if (r == 0)
			r = store_sync_want_all(st, z.id, z.version);
		if (r == 0) {
			char summary[HISTORY_SUMMARY_MAX];
			history_summary(summary, "version raised above the %llu a node holds",
					(unsigned long long)node_version);
			r = history_record(st, &z, NULL, HISTORY_RECONCILE, "zone.raise-version",
					   summary);
		}
	}
	if (r == 0)
		r = store_commit(st);
	else
		store_rollback(st);
	if (r == 0 && old.version != z.version)
		committed(w, st, &old, &z);
	else if (r == 0)
		committed(w, st, NULL, NULL);
	store_zone_clear(&z);
	return r;
}

static void iso_time(int64_t t, char *out, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *zones_zone_json(const struct store_zone *z, uint64_t record_count)
{
	char created[32], domain[DNAME_TEXT_MAX], unicode[DNAME_UNICODE_MAX];
	size_t n = strlen(z->domain);
	/* The panel shows names without the final dot. */
	snprintf(domain, sizeof(domain), "%.*s", (int)(n > 0 ? n - 1 : 0), z->domain);
	/* An international name as people write it ("bücher.example"). */
	if (dname_to_unicode(domain, unicode, sizeof(unicode)) < 0)
		snprintf(unicode, sizeof(unicode), "%s", domain);
	iso_time(z->created_at, created, sizeof(created));
	return json_pack("{s:I,s:s,s:s,s:I,s:I,s:b,s:s,s:I,s:I,s:I}", "id", (json_int_t)z->id,
			 "domain", domain, "domain_unicode", unicode, "userId",
			 (json_int_t)z->user_id, "serverId", (json_int_t)z->server_id,
			 "dnssec_enabled", z->dnssec, "createdAt", created, "records",
			 (json_int_t)record_count, "version", (json_int_t)z->version, "serial",
			 (json_int_t)z->serial);
}

json_t *zones_record_json(const struct store_record *r)
{
	char created[32], *plain = NULL;
	iso_time(r->created_at, created, sizeof(created));
	/* TXT, SPF and CAA read back the way the panel writes them. */
	if (model_content_show(r->type, r->content, &plain) < 0)
		return NULL;
	char unicode[DNAME_UNICODE_MAX];
	if (dname_to_unicode(r->name, unicode, sizeof(unicode)) < 0)
		snprintf(unicode, sizeof(unicode), "%s", r->name);
	json_t *j = json_pack(
	    "{s:I,s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "id", (json_int_t)r->id, "zoneId",
	    (json_int_t)r->zone_id, "type", r->type, "name", r->name, "name_unicode", unicode,
	    "content", plain != NULL ? plain : r->content, "priority", (json_int_t)r->priority,
	    "ttl", (json_int_t)r->ttl, "status", "active", "createdAt", created);
	if (j != NULL)
		json_object_set_new(j, "disabled", json_boolean(r->disabled));
	free(plain);
	return j;
}

int zones_begin_live(struct whm *w, int64_t zone_id, struct store **ret_st, struct store_zone *z,
		     struct errmsg *err)
{
	struct store *st = whm_store(w);

	err->text[0] = '\0';
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	if (catalog_guard(w, zone_id, err) < 0)
		return ERR_FORBIDDEN;
	/* Read in the write transaction: a change committing meanwhile keeps
	 * its version and serial, this one only the settings. */
	int r = store_begin(st);
	if (r < 0)
		return errmsg_set(err, r, "starting a transaction: %s", err_str(r));
	r = store_zone_get_locked(st, zone_id, z);
	if (r == 0 && z->deleted) {
		store_zone_clear(z);
		r = -ENOENT;
	}
	if (r < 0) {
		store_rollback(st);
		return r == -ENOENT ? errmsg_set(err, ERR_NOT_FOUND, "no such zone")
				    : errmsg_set(err, r, "reading the zone: %s", err_str(r));
	}
	*ret_st = st;
	return 0;
}

int zones_settings_change(struct whm *w, int64_t zone_id, zones_settings_fn fn, void *ctx,
			  const char *actor, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	char summary[HISTORY_SUMMARY_MAX] = "";

	/* Read in the write transaction: 'fn' changes the settings as they
	 * are now, so two changes at once each keep the other's; a change
	 * committing meanwhile keeps its version and serial. */
	int r = zones_begin_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	r = fn(st, &z, summary, sizeof(summary), ctx, err);
	if (r == 0)
		r = store_zone_update(st, &z);
	if (r == 0)
		r = history_note_zone(st, &z, actor, "zone.settings", summary);
	if (r == 0)
		r = store_commit(st);
	if (r != 0)
		store_rollback(st);
	if (r < 0 && err->text[0] == '\0')
		errmsg_set(err, r, "storing the settings: %s", err_str(r));
	store_zone_clear(&z);
	return r;
}
