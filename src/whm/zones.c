#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "model/ztree.h"
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

int zones_load_records(struct store *st, int64_t zone_id, json_t **ret)
{
	json_t *a = json_array();
	int r = a ? store_record_foreach(st, zone_id, collect_record, a) : -ENOMEM;
	if (r < 0) {
		json_decref(a);
		return r;
	}
	*ret = a;
	return 0;
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
	r = model_push_parse(payload, &w->limits, &soa, &p, &msg);
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
	r = store_zone_get(st, zone_id, &now);
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
	struct store_secondary s;
	int r = store_secondary_get(st, zone_id, &s);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return errmsg_set(err, r, "reading the zone's kind: %s", err_str(r));
	store_secondary_clear(&s);
	return errmsg_set(err, ERR_CONFLICT,
			  "the zone's data comes from its primary: it is a secondary zone, "
			  "changed only by zone transfers");
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
	committed(w, st, old, z);
	return 0;
}

int zones_change(struct whm *w, int64_t zone_id, zones_change_fn fn, void *ctx, const char *actor,
		 const char *action, const char *summary, struct zone_result *res,
		 struct errmsg *err)
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

/* The records a new zone of 'origin' starts with, as payload records into
 * 'records' and stored forms into *ret_mr (*ret_n of them; the caller
 * clears and frees them): init->records checked one by one, or the
 * cluster's NS records. */
static int initial_records(const struct whm *w, const char *origin, const struct zone_init *init,
			   json_t *records, struct model_record **ret_mr, size_t *ret_n,
			   struct errmsg *err)
{
	const json_t *in = init != NULL ? init->records : NULL;
	size_t n = in != NULL ? json_array_size(in) : w->n_default_ns;
	struct model_record *mr = calloc(n + 1, sizeof(*mr));
	struct errmsg msg;
	int r = mr != NULL ? 0 : -ENOMEM;

	*ret_mr = mr;
	*ret_n = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (in == NULL) {
			snprintf(mr[i].name, sizeof(mr[i].name), "@");
			snprintf(mr[i].type, sizeof(mr[i].type), "NS");
			mr[i].content = strdup(w->default_ns[i]);
			mr[i].ttl = (uint32_t)w->conf.default_ttl;
			r = mr[i].content != NULL ? 0 : -ENOMEM;
		} else {
			r = model_record_parse(json_array_get(in, i), origin,
					       (uint32_t)w->conf.default_ttl, &mr[i], &msg);
			if (r < 0)
				errmsg_set(err, 0, "records[%zu]: %s", i, msg.text);
			else if (strcmp(mr[i].type, ZONES_TYPE_SOA) == 0)
				r = errmsg_set(err, ERR_INVALID,
					       "records[%zu]: the SOA is managed by the controller",
					       i);
			else if (!json_is_null(
				     json_object_get(json_array_get(in, i), "routing_policy")) &&
				 json_object_get(json_array_get(in, i), "routing_policy") != NULL)
				r = errmsg_set(err, ERR_INVALID,
					       "records[%zu].routing_policy: set routing policies "
					       "through the record routes once the zone exists",
					       i);
		}
		*ret_n = i + 1;
		if (r == 0 && json_array_append_new(
				  records, zones_payload_record(
					       0, mr[i].name, mr[i].type, mr[i].content, mr[i].ttl,
					       mr[i].priority, mr[i].disabled)) < 0)
			r = -ENOMEM;
	}
	return r;
}

int zones_create(struct whm *w, const char *domain, int64_t server_id, int64_t user_id,
		 const char *actor, struct zone_result *res, struct errmsg *err)
{
	return zones_create_with(w, domain, server_id, user_id, NULL, actor, res, err);
}

int zones_create_with(struct whm *w, const char *domain, int64_t server_id, int64_t user_id,
		      const struct zone_init *init, const char *actor, struct zone_result *res,
		      struct errmsg *err)
{
	char origin[DNAME_TEXT_MAX];
	struct errmsg derr;
	struct store_zone z = { 0 }, old;
	struct store *st = whm_store(w);
	struct model_record *mr = NULL;
	size_t n = 0;

	err->text[0] = '\0';
	int r = dname_zone_normalize(domain, origin, &derr);
	if (r < 0)
		return errmsg_set(err, ERR_INVALID, "domain: %s", derr.text);
	if ((r = catalog_guard_name(w, origin, err)) < 0)
		return r;
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	json_t *records = json_array();
	r = records != NULL ? initial_records(w, origin, init, records, &mr, &n, err) : -ENOMEM;
	if (r == 0 && (r = store_begin(st)) < 0)
		r = zones_fail(st, r, err, "starting a transaction");
	if (r == 0 && server_id > 0) {
		struct store_server s;
		r = store_server_get(st, server_id, &s);
		if (r == -ENOENT) {
			errmsg_set(err, 0, "server %lld does not exist", (long long)server_id);
			r = zones_fail(st, ERR_NOT_FOUND, err, "");
		} else if (r < 0) {
			r = zones_fail(st, r, err, "reading the server");
		} else {
			store_server_clear(&s);
		}
	}
	z.domain = origin;
	z.bucket = (int32_t)ztree_bucket(origin);
	z.server_id = server_id;
	z.user_id = user_id;
	z.created_at = z.updated_at = whm_now();
	z.version = 1;
	/* The first serial by the zone's rule; one that moves past a
	 * tombstone's even if the serial otherwise stays. */
	enum model_serial_rule rule =
	    pdns_serial_rule(init != NULL && init->pdns != NULL ? init->pdns : "");
	bool counts = rule == MODEL_SERIAL_INCREASE || rule == MODEL_SERIAL_KEEP;
	z.serial = counts ? 1 : model_serial_after(rule, 0, time(NULL));
	/* A tombstone of the same name continues its version and serial. */
	int rg = r == 0 ? store_zone_get_by_name(st, origin, &old) : r;
	if (r == 0 && rg == 0) {
		bool live = !old.deleted;
		z.version = old.version + 1;
		z.serial = model_serial_after(counts ? MODEL_SERIAL_INCREASE : rule, old.serial,
					      time(NULL));
		store_zone_clear(&old);
		if (live) {
			errmsg_set(err, 0, "zone '%s' already exists", origin);
			r = zones_fail(st, ERR_CONFLICT, err, "");
		}
	} else if (r == 0 && rg != -ENOENT) {
		r = zones_fail(st, rg, err, "reading zones");
	}
	int rw = r;
	if (rw == 0)
		rw = zones_validate(w, NULL, &z, records, NULL, err);
	if (rw == 0)
		rw = store_zone_insert(st, &z);
	/* An insert starts with the defaults; zones_finish() writes these. */
	if (init != NULL && init->soa != NULL)
		snprintf(z.soa, sizeof(z.soa), "%s", init->soa);
	if (init != NULL && init->pdns != NULL) {
		snprintf(z.pdns, sizeof(z.pdns), "%s", init->pdns);
	} else if (init != NULL && init->primaries != NULL) {
		struct pdns_settings set; /* shown as PowerDNS shows a secondary */
		pdns_settings_read("", &set);
		snprintf(set.kind, sizeof(set.kind), "Slave");
		pdns_settings_write(&set, z.pdns);
	}
	if (rw == 0 && init != NULL && init->primaries != NULL)
		rw = store_secondary_put(st, z.id, init->primaries, init->tsig_key);
	else if (rw == 0)
		rw = store_secondary_delete(st, z.id);
	for (size_t i = 0; rw == 0 && i < n; i++) {
		struct store_record rec = { .zone_id = z.id,
					    .name = mr[i].name,
					    .type = mr[i].type,
					    .content = mr[i].content,
					    .ttl = mr[i].ttl,
					    .priority = mr[i].priority,
					    .created_at = z.created_at,
					    .disabled = mr[i].disabled };
		rw = store_record_insert(st, &rec);
	}
	if (rw == 0 && init != NULL && init->comments != NULL)
		rw = zones_write_comments(st, z.id, init->comments);
	if (rw == ERR_CONFLICT)
		errmsg_set(err, 0, "zone '%s' already exists", origin);
	if (r == 0 && rw == 0) {
		char summary[HISTORY_SUMMARY_MAX];
		if (init == NULL)
			history_summary(summary, "create %s with %u NS records", origin,
					w->n_default_ns);
		else
			history_summary(summary, "create %s with %zu records", origin, n);
		r = zones_finish(w, st, NULL, &z, records, actor, "zone.create", summary, res, err);
	} else if (r == 0) {
		r = zones_fail(st, rw, err, "creating the zone");
	}
	for (size_t i = 0; mr != NULL && i < n; i++)
		model_record_clear(&mr[i]);
	free(mr);
	json_decref(records);
	return r;
}

/* zones_change() step of a delete: the zone becomes a tombstone without
 * records, keys, settings, metadata or comments; with 'ctx' (an expiry) a
 * secondary zone keeps its primaries. */
static int mark_deleted(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	z->deleted = true;
	z->dnssec = false;
	z->rdigest[0] = '\0';
	z->soa[0] = '\0';
	z->pdns[0] = '\0';
	int r = store_record_delete_zone(st, z->id);
	if (r == 0)
		r = store_dnssec_delete(st, z->id);
	if (r == 0)
		r = store_meta_delete_zone(st, z->id);
	if (r == 0)
		r = store_comment_delete_zone(st, z->id);
	if (r == 0)
		r = store_policy_delete_zone(st, z->id);
	if (r == 0 && ctx == NULL)
		r = store_secondary_delete(st, z->id);
	if (r == 0)
		r = store_xfr_delete(st, z->id);
	if (r < 0)
		errmsg_set(err, 0, "deleting records: %s", err_str(r));
	return r;
}

int zones_delete(struct whm *w, int64_t zone_id, const char *actor, struct zone_result *res,
		 struct errmsg *err)
{
	int r = zones_change(w, zone_id, mark_deleted, NULL, actor, "zone.delete",
			     "delete the zone", res, err);
	/* An expired secondary zone is already a tombstone that kept its
	 * primaries: deleting it forgets them, and nothing brings it back. */
	struct store *st = r == ERR_NOT_FOUND ? whm_store(w) : NULL;
	struct store_zone z;
	if (st != NULL && store_zone_get(st, zone_id, &z) == 0) {
		if (z.deleted && store_secondary_forget(st, zone_id) == 0) {
			*res = (struct zone_result){ .zone_id = zone_id,
						     .version = z.version,
						     .serial = z.serial };
			r = 0;
		}
		store_zone_clear(&z);
	}
	return r;
}

int zones_expire(struct whm *w, int64_t zone_id, const char *actor, struct zone_result *res,
		 struct errmsg *err)
{
	static const bool keep = true;
	return zones_change(w, zone_id, mark_deleted, (void *)&keep, actor, "zone.expire",
			    "expired: no primary answered within the SOA's expire", res, err);
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

int zones_payload(struct whm *w, struct store *st, int64_t zone_id, json_t **ret,
		  uint64_t *ret_version, bool *ret_deleted, char *ret_domain, size_t domain_len)
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
		json_t *dnssec = NULL, *xfr = NULL;
		r = zones_load_records(st, zone_id, &records);
		if (r == 0) {
			r = zkeys_payload(st, zone_id, &dnssec);
			if (r == 0)
				r = xfrout_payload(w, st, zone_id, &xfr);
			if (r < 0) {
				json_decref(records);
				json_decref(dnssec);
			}
		}
		if (r == 0)
			r = store_zone_get(st, zone_id, &again);
		if (r < 0) {
			store_zone_clear(&z);
			return r;
		}
		bool stable = again.version == z.version;
		store_zone_clear(&again);
		json_t *serve = NULL;
		struct errmsg err;
		if (stable && served(st, zone_id, z.domain, records, NULL, &serve, &err) < 0)
			log_err("zone '%s': %s", z.domain, err.text);
		if (stable && serve != NULL) {
			*ret = build_payload(w, &z, serve, dnssec);
			json_decref(serve);
			if (*ret != NULL)
				json_object_set(json_object_get(*ret, "zone"), "transfer", xfr);
			json_decref(xfr);
			json_decref(records);
			json_decref(dnssec);
			store_zone_clear(&z);
			return *ret ? 0 : -ENOMEM;
		}
		json_decref(records);
		json_decref(dnssec);
		json_decref(xfr);
		store_zone_clear(&z);
	}
	return ERR_UNAVAILABLE;
}

int zones_raise_version(struct whm *w, struct store *st, int64_t zone_id, uint64_t node_version)
{
	struct store_zone z = { 0 };
	int r = store_begin(st);
	if (r == 0)
		r = store_zone_get(st, zone_id, &z);
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
	r = store_zone_get(st, zone_id, z);
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

int zones_pdns_set(struct whm *w, int64_t zone_id, const char *pdns, const char *actor,
		   const char *summary, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;

	/* Read in the write transaction: a change committing meanwhile keeps
	 * its version and serial, this one only the settings. */
	int r = zones_begin_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	if (strcmp(z.pdns, pdns) == 0) {
		store_rollback(st);
		store_zone_clear(&z);
		return 1;
	}
	snprintf(z.pdns, sizeof(z.pdns), "%s", pdns);
	r = store_zone_update(st, &z);
	if (r == 0)
		r = history_note_zone(st, &z, actor, "zone.settings", summary);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		errmsg_set(err, r, "storing the settings: %s", err_str(r));
	}
	store_zone_clear(&z);
	return r;
}
