/* One record changed (zones.h): added, replaced or deleted by its id
 * (zones_record_add, zones_record_update, zones_record_delete), each as one
 * version of the zone through the steps of zones_internal.h; the record
 * keeps the routing policy of its RRset, or takes the one it carries. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "zones.h"
#include "history.h"
#include "zones_internal.h"
#include "zones_steer.h"

/* A record as a summary shows it: "www A 192.0.2.1", "@ MX 10 mx.example.com.". */
static void record_text(char *out, size_t len, const char *name, const char *type,
			const char *content, uint32_t priority)
{
	if (strcmp(type, "MX") == 0 || strcmp(type, "SRV") == 0)
		snprintf(out, len, "%s %s %u %s", name, type, priority, content);
	else
		snprintf(out, len, "%s %s %s", name, type, content);
}

/* The record of 'records' (payload records) with id 'id', as text, taken
 * out of the array; "" if it is not there. */
static void take_record(json_t *records, int64_t id, char *out, size_t len, char *key,
			size_t keylen)
{
	size_t i;
	json_t *o;

	out[0] = '\0';
	key[0] = '\0';
	json_array_foreach(records, i, o) {
		if (json_integer_value(json_object_get(o, "id")) != id)
			continue;
		const char *type = json_string_value(json_object_get(o, "type"));
		if (zones_steer_key(json_string_value(json_object_get(o, "name")), type ? type : "",
				    key, keylen) < 0)
			key[0] = '\0';
		record_text(out, len, json_string_value(json_object_get(o, "name")),
			    type ? type : "", json_string_value(json_object_get(o, "content")),
			    (uint32_t)json_integer_value(json_object_get(o, "priority")));
		json_array_remove(records, i);
		return;
	}
}

/* The policies of the RRsets a one-record change touches ('records' the
 * zone's records after it, the changed one last when 'rec' is given;
 * 'was_key' the RRset the record left, or ""): each record keeps the
 * routing_policy its RRset's stored policy gives it, the changed one takes
 * the one 'rec' carries. */
static int record_plan(struct store *st, const struct store_zone *z, const json_t *records,
		       const json_t *rec, const char *was_key, json_t **ret, struct errmsg *err)
{
	json_t *policies = NULL, *keys = json_object(), *recs = json_array(), *o;
	size_t i, n = json_array_size(records);
	int r = keys != NULL && recs != NULL ? zones_steer_load(st, z->id, &policies) : -ENOMEM;

	json_array_foreach(records, i, o) {
		if (r < 0)
			break;
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *content = json_string_value(json_object_get(o, "content"));
		json_t *rp = rec != NULL && i == n - 1
				 ? json_incref(json_object_get(rec, "routing_policy"))
				 : zones_steer_record_policy(policies, name, type, content);
		json_t *x = json_pack("{s:s, s:s, s:s, s:o*, s:b}", "name", name, "type", type,
				      "content", content, "routing_policy", rp, "disabled",
				      json_is_true(json_object_get(o, "disabled")));
		if (x == NULL || json_array_append_new(recs, x) < 0)
			r = -ENOMEM;
	}
	char key[DNAME_TEXT_MAX + 40];
	if (r == 0 && rec != NULL) {
		o = json_array_get(records, n - 1);
		r = zones_steer_key(json_string_value(json_object_get(o, "name")),
				    json_string_value(json_object_get(o, "type")), key,
				    sizeof(key));
		const json_t *p = json_object_get(policies, key);
		if (r == 0 && p != NULL && !json_is_true(json_object_get(p, "per_record")))
			r = errmsg_set(err, ERR_INVALID,
				       "RRset '%s %s' is steered by its own routing policy; remove "
				       "it (PUT /api/dns/:zoneId/policies) before adding records",
				       json_string_value(json_object_get(o, "name")),
				       json_string_value(json_object_get(o, "type")));
		if (r == 0 && json_object_set_new(keys, key, json_true()) < 0)
			r = -ENOMEM;
	}
	if (r == 0 && was_key[0] != '\0' && json_object_set_new(keys, was_key, json_true()) < 0)
		r = -ENOMEM;
	if (r == 0)
		r = zones_steer_plan(recs, keys, z->domain, ret, err);
	json_decref(policies);
	json_decref(keys);
	json_decref(recs);
	return r == -ENOMEM ? errmsg_set(err, -ENOMEM, "out of memory") : r;
}

/* Add or replace (when 'replace_id' > 0) one record, or delete it
 * ('rec' NULL), as one version of the zone. */
static int record_attempts(struct whm *w, int64_t zone_id, int64_t replace_id, const json_t *rec,
			   const char *actor, const char *action, struct zone_result *res,
			   struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	json_t *records;
	struct model_record mr = { 0 };
	struct errmsg msg;
	char was[160] = "", now[160] = "", summary[HISTORY_SUMMARY_MAX];
	char was_key[DNAME_TEXT_MAX + 40] = "";
	json_t *plan = NULL;
	int r = -EAGAIN;

	for (int attempt = 0; r == -EAGAIN && attempt < ZONES_CHANGE_ATTEMPTS; attempt++) {
		r = zones_read(w, &st, zone_id, &z, &records, err);
		if (r < 0)
			return r;
		r = zones_editable(st, zone_id, err);
		if (r < 0) {
			json_decref(records);
			store_zone_clear(&z);
			return r;
		}
		uint64_t seen = z.version;
		model_record_clear(&mr);
		if (rec != NULL) {
			r = model_record_parse(rec, z.domain, (uint32_t)w->conf.default_ttl, &mr,
					       &msg);
			if (r < 0)
				errmsg_set(err, 0, "%s", msg.text);
			else if (strcmp(mr.type, ZONES_TYPE_SOA) == 0) {
				errmsg_set(err, 0,
					   "record.type: the SOA is managed by the controller");
				r = ERR_INVALID;
			}
		}
		if (r == 0 && replace_id > 0)
			take_record(records, replace_id, was, sizeof(was), was_key,
				    sizeof(was_key));
		if (r == 0 && rec != NULL)
			record_text(now, sizeof(now), mr.name, mr.type, mr.content, mr.priority);
		if (rec == NULL)
			history_summary(summary, "delete %s", was);
		else if (replace_id > 0)
			history_summary(summary, "update %s -> %s", was, now);
		else
			history_summary(summary, "add %s", now);
		if (r == 0 && rec != NULL)
			r = json_array_append_new(records,
						  zones_payload_record(replace_id, mr.name, mr.type,
								       mr.content, mr.ttl,
								       mr.priority, mr.disabled))
				? -ENOMEM
				: 0;
		json_decref(plan);
		plan = NULL;
		if (r == 0)
			r = record_plan(st, &z, records, rec, was_key, &plan, err);
		struct store_zone old = z;
		zones_bump(&z);
		if (r == 0)
			r = zones_validate(w, st, &z, records, plan, err);
		if (r == 0)
			r = zones_lock_unchanged(st, zone_id, seen, err);
		if (r == 0) {
			struct store_record row = { .id = replace_id,
						    .zone_id = zone_id,
						    .name = mr.name,
						    .type = mr.type,
						    .content = mr.content,
						    .ttl = mr.ttl,
						    .priority = mr.priority,
						    .created_at = whm_now(),
						    .disabled = mr.disabled };
			if (rec == NULL)
				r = store_record_delete(st, replace_id);
			else if (replace_id > 0)
				r = store_record_update(st, &row);
			else
				r = store_record_insert(st, &row);
			if (r == 0)
				r = zones_steer_apply(st, zone_id, plan);
			if (r == 0) {
				res->record_id = row.id;
				r = zones_finish(w, st, &old, &z, records, actor, action, summary,
						 res, err);
			} else {
				r = zones_fail(st, r, err, "writing the record");
			}
		}
		json_decref(records);
		store_zone_clear(&z);
	}
	model_record_clear(&mr);
	json_decref(plan);
	return r == -EAGAIN ? zones_busy(err) : r;
}

/* record_attempts() in the zone's turn (zones_turn_take()). */
static int record_change(struct whm *w, int64_t zone_id, int64_t replace_id, const json_t *rec,
			 const char *actor, const char *action, struct zone_result *res,
			 struct errmsg *err)
{
	pthread_mutex_t *turn = zones_turn_take(zone_id);
	int r = record_attempts(w, zone_id, replace_id, rec, actor, action, res, err);
	zones_turn_give(turn);
	return r;
}

int zones_record_add(struct whm *w, int64_t zone_id, const json_t *rec, const char *actor,
		     struct zone_result *res, struct errmsg *err)
{
	return record_change(w, zone_id, 0, rec, actor, "record.create", res, err);
}

/* The zone a record belongs to. */
static int record_zone(struct whm *w, int64_t record_id, int64_t *ret_zone, struct errmsg *err)
{
	struct store *st = whm_store(w);
	struct store_record r;
	err->text[0] = '\0';
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	int rc = store_record_get(st, record_id, &r);
	if (rc == -ENOENT)
		return errmsg_set(err, ERR_NOT_FOUND, "record %lld does not exist",
				  (long long)record_id);
	if (rc < 0) {
		errmsg_set(err, 0, "reading the record: %s", err_str(rc));
		return rc;
	}
	*ret_zone = r.zone_id;
	store_record_clear(&r);
	return 0;
}

int zones_record_update(struct whm *w, int64_t record_id, const json_t *rec, const char *actor,
			struct zone_result *res, struct errmsg *err)
{
	int64_t zone_id;
	int r = record_zone(w, record_id, &zone_id, err);
	return r < 0 ? r
		     : record_change(w, zone_id, record_id, rec, actor, "record.update", res, err);
}

int zones_record_delete(struct whm *w, int64_t record_id, const char *actor,
			struct zone_result *res, struct errmsg *err)
{
	int64_t zone_id;
	int r = record_zone(w, record_id, &zone_id, err);
	return r < 0 ? r
		     : record_change(w, zone_id, record_id, NULL, actor, "record.delete", res, err);
}
