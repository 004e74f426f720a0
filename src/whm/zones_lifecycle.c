/* A zone's life: created (zones_create, zones_create_with: with its first
 * records, or the cluster's NS records), and deleted or expired into a
 * tombstone (zones_delete, zones_expire) that keeps its version, serial
 * and history for a zone of the same name created later. Each is one
 * version through the steps of zones_internal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "model/ztree.h"
#include "pdns_shape.h"
#include "zones.h"
#include "history.h"
#include "zones_internal.h"
#include "catalog.h"

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
			r = model_record_parse_flags(json_array_get(in, i), origin,
						     (uint32_t)w->conf.default_ttl,
						     init->record_flags, &mr[i], &msg);
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
	/* The zone is checked before the transaction, out of the way of the
	 * store's one writer (the check reads nothing from the store); its
	 * outcome waits for the checks the transaction makes first. */
	struct errmsg verr;
	int rv = r == 0 ? zones_validate(w, NULL, &z, records, NULL, &verr) : 0;
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
	/* A tombstone of the same name continues its version and serial. */
	int rg = r == 0 ? store_zone_get_by_name(st, origin, &old) : r;
	const uint32_t *revive = init != NULL ? init->revive_life : NULL;
	if (r == 0 && rg == 0) {
		bool live = !old.deleted;
		z.version = old.version + 1;
		z.serial = model_serial_after(counts ? MODEL_SERIAL_INCREASE : rule, old.serial,
					      time(NULL));
		bool kept = revive == NULL ||
			    (!live && old.life == *revive && store_secondary_held(st, old.id) == 0);
		store_zone_clear(&old);
		if (live) {
			errmsg_set(err, 0, "zone '%s' already exists", origin);
			r = zones_fail(st, ERR_CONFLICT, err, "");
		} else if (!kept) {
			errmsg_set(err, 0,
				   "zone '%s' was deleted: what its primary sent is dropped",
				   origin);
			r = zones_fail(st, ERR_CONFLICT, err, "");
		}
	} else if (r == 0 && rg == -ENOENT && revive != NULL) {
		errmsg_set(err, 0, "zone '%s' was deleted: what its primary sent is dropped",
			   origin);
		r = zones_fail(st, ERR_CONFLICT, err, "");
	} else if (r == 0 && rg != -ENOENT) {
		r = zones_fail(st, rg, err, "reading zones");
	}
	int rw = r;
	if (rw == 0 && rg == 0) {
		/* It continues a tombstone: another version and serial. */
		rw = zones_validate(w, NULL, &z, records, NULL, err);
	} else if (rw == 0 && rv < 0) {
		*err = verr;
		rw = rv;
	}
	if (rw == 0)
		rw = store_zone_insert(st, &z);
	/* An insert starts with the defaults; zones_finish() writes these. */
	if (init != NULL && init->soa != NULL)
		snprintf(z.soa, sizeof(z.soa), "%s", init->soa);
	/* A transfer's serial, as the primary gave it: the tombstone's was
	 * never served (store_zone_insert() moved past it). */
	if (init != NULL && init->serial != NULL)
		z.serial = *init->serial;
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

/* zones_change() step of an expiry: a delete that keeps the primaries,
 * of the secondary zone of life *ctx only. */
static int mark_expired(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	const uint32_t *life = ctx;
	int r = zones_secondary_same(st, z, *life, err);
	return r < 0 ? r : mark_deleted(st, z, ctx, err);
}

int zones_expire(struct whm *w, int64_t zone_id, uint32_t life, const char *actor,
		 struct zone_result *res, struct errmsg *err)
{
	return zones_change(w, zone_id, mark_expired, &life, actor, "zone.expire",
			    "expired: no primary answered within the SOA's expire", res, err);
}
