/* Record changes (zones.h): one record added, replaced or deleted, every
 * record replaced, RRsets replaced or deleted, or an import merged, each
 * as one version of the zone, through the steps of zones_internal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "json/jsonx.h"
#include "model/zdiff.h"
#include "pdns_shape.h"
#include "catalog.h"
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
static int record_change(struct whm *w, int64_t zone_id, int64_t replace_id, const json_t *rec,
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

/* The key of an RRset in a set of them: owner and type. A normalised
 * owner never holds a raw tab (it would be written \009). */
static int rrset_key(const char *name, const char *type, char *out, size_t len)
{
	int n = snprintf(out, len, "%s\t%s", name, type);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* True if 'o' (a payload record) belongs to an RRset in 'named' (a JSON
 * object used as a hashed set of rrset_key()s). */
static bool in_rrsets(const json_t *o, const json_t *named)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *type = json_string_value(json_object_get(o, "type"));
	char key[DNAME_TEXT_MAX + 40];
	return name != NULL && type != NULL && rrset_key(name, type, key, sizeof(key)) == 0 &&
	       json_object_get(named, key) != NULL;
}

/* A record's whole content as text: name, type, TTL, priority, whether it
 * is disabled, RDATA (last, so the text is unambiguous). The caller frees
 * it; NULL without memory. */
static char *content_key(const char *name, const char *type, const char *content, json_int_t ttl,
			 json_int_t priority, bool disabled)
{
	size_t len = strlen(name) + strlen(type) + strlen(content) + 48;
	char *k = malloc(len);
	if (k != NULL)
		snprintf(k, len, "%s\t%s\t%lld\t%lld\t%d\t%s", name, type, (long long)ttl,
			 (long long)priority, disabled, content);
	return k;
}

/* Count 'key' once more in 'want' (add), or take one of it if any is left
 * (*ret_taken); frees 'key'. */
static int want_key(json_t *want, char *key, bool add, bool *ret_taken)
{
	if (key == NULL)
		return -ENOMEM;
	json_int_t n = json_integer_value(json_object_get(want, key));
	int r = 0;
	if (add)
		r = json_object_set_new_nocheck(want, key, json_integer(n + 1)) ? -ENOMEM : 0;
	else if (n > 0)
		r = json_object_set_new_nocheck(want, key, json_integer(n - 1)) ? -ENOMEM : 0;
	if (ret_taken != NULL)
		*ret_taken = !add && n > 0;
	free(key);
	return r;
}

/* The store's rows of a records_set(), inside its transaction. Without
 * 'merge' every row is replaced, with it the rows of the RRsets 'named'
 * names. Either way the rows of records that stay exactly as they are keep
 * their id (a panel holding record ids, or a rollback that changes one
 * record, finds the others where they were); only the others are deleted
 * and inserted. */
static int write_records(struct store *st, int64_t zone_id, const json_t *old, const json_t *named,
			 const struct model_record *mr, size_t n, bool merge, bool keep_disabled)
{
	json_t *want = json_object(), *o;
	bool taken = false;
	size_t i;
	int r = want != NULL ? 0 : -ENOMEM;

	for (i = 0; r == 0 && i < n; i++)
		r = want_key(want,
			     content_key(mr[i].name, mr[i].type, mr[i].content, mr[i].ttl,
					 mr[i].priority, mr[i].disabled),
			     true, NULL);
	json_array_foreach(old, i, o) {
		if (r != 0)
			break;
		if (merge && !in_rrsets(o, named))
			continue; /* an RRset the change leaves alone */
		if (keep_disabled && json_is_true(json_object_get(o, "disabled")))
			continue;
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *content = json_string_value(json_object_get(o, "content"));
		r = name && type && content
			? want_key(want,
				   content_key(name, type, content,
					       json_integer_value(json_object_get(o, "ttl")),
					       json_integer_value(json_object_get(o, "priority")),
					       json_is_true(json_object_get(o, "disabled"))),
				   false, &taken)
			: ERR_BACKEND;
		if (r == 0 && !taken)
			r = store_record_delete(st, json_integer_value(json_object_get(o, "id")));
	}
	for (i = 0; r == 0 && i < n; i++) {
		struct store_record row = { .zone_id = zone_id,
					    .name = (char *)mr[i].name,
					    .type = (char *)mr[i].type,
					    .content = mr[i].content,
					    .ttl = mr[i].ttl,
					    .priority = mr[i].priority,
					    .created_at = whm_now(),
					    .disabled = mr[i].disabled };
		r = want_key(want,
			     content_key(mr[i].name, mr[i].type, mr[i].content, mr[i].ttl,
					 mr[i].priority, mr[i].disabled),
			     false, &taken);
		if (r == 0 && taken)
			r = store_record_insert(st, &row);
	}
	json_decref(want);
	return r;
}

/* The TTL of the RRset 'name' 'type' among 'old' (payload records), or
 * 'ttl' when the zone has no such RRset. */
static uint32_t rrset_ttl(const json_t *old, const char *name, const char *type, uint32_t ttl)
{
	size_t i;
	json_t *o;
	json_array_foreach(old, i, o) {
		const char *n = json_string_value(json_object_get(o, "name"));
		const char *t = json_string_value(json_object_get(o, "type"));
		if (n != NULL && t != NULL && strcmp(n, name) == 0 && strcmp(t, type) == 0)
			return (uint32_t)json_integer_value(json_object_get(o, "ttl"));
	}
	return ttl;
}

/* Whether 'a' and 'b' (payload records) hold the same disabled records,
 * which the records digest R does not see. */
static bool same_disabled(const json_t *a, const json_t *b)
{
	const json_t *side[2] = { a, b };
	char *text[2] = { NULL, NULL };
	bool same = false;

	for (int k = 0; k < 2; k++) {
		json_t *off = json_array(), *o;
		size_t i;
		json_array_foreach(side[k], i, o) {
			if (off != NULL && json_is_true(json_object_get(o, "disabled")))
				json_array_append(off, o);
		}
		if (off == NULL || zdiff_encode(off, &text[k], NULL) < 0)
			text[k] = NULL;
		json_decref(off);
	}
	same = text[0] != NULL && text[1] != NULL && strcmp(text[0], text[1]) == 0;
	free(text[0]);
	free(text[1]);
	return same;
}

/* The same records (R, and the same disabled ones), the same SOA fields
 * and no serial ahead to move past: committing would only raise the
 * version and the serial. */
static bool same_zone(const struct store_zone *before, const json_t *old,
		      const struct store_zone *z, const json_t *records, const uint32_t *min_serial)
{
	return before->rdigest[0] != '\0' && strcmp(before->rdigest, z->rdigest) == 0 &&
	       strcmp(before->soa, z->soa) == 0 &&
	       (min_serial == NULL || (int32_t)(*min_serial - before->serial) <= 0) &&
	       same_disabled(old, records);
}

/* What records_set() makes of the zone. */
struct set_spec {
	const json_t *records; /* the panel's records */
	/* Replace only the RRsets 'records' names, and those 'emptied' names
	 * (an object whose keys are rrset_key()s; NULL: none). A record
	 * without a TTL then takes that of the RRset it replaces. */
	bool merge;
	const json_t *emptied;
	const uint32_t *min_serial;
	const char *soa;
	bool noop;
	/* A transfer from the zone's primary: the serial becomes exactly
	 * this one, and a secondary zone may be written. NULL otherwise. */
	const uint32_t *transfer_serial;
	/* Disabled records stay as they are (an import: a zone file holds
	 * what is served, and the export leaves them out). */
	bool keep_disabled;
	uint64_t if_version; /* 0, or the version the zone must be at */
	/* RRset comments written with the change: rrset_key() -> the RRset's
	 * comments (an array) or null (none); NULL: none changed. */
	const json_t *comments;
	const char *action;
	const char *summary;
};

/* zones_records_set() as 'spec' says. */
static int add_policy_key(const char *name, const char *type, bool per_record, const char *policy,
			  void *ctx)
{
	char key[DNAME_TEXT_MAX + 40];
	(void)policy;
	/* an RRset-level policy stands without records: it stays */
	if (!per_record || zones_steer_key(name, type, key, sizeof(key)) < 0)
		return 0;
	return json_object_set_new(ctx, key, json_true()) < 0 ? -ENOMEM : 0;
}

/* The policies the RRsets a records_set() names get from the routing_policy
 * of its records ('in', parsed into 'mr'); without 'merge' every RRset that
 * has one now is named too, so that it goes with its records. */
static int set_plan(struct store *st, const struct store_zone *z, const json_t *in,
		    const struct model_record *mr, size_t n, const json_t *named, bool merge,
		    json_t **ret, struct errmsg *err)
{
	json_t *keys = json_deep_copy(named), *recs = json_array();
	int r = keys != NULL && recs != NULL ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *rp = json_object_get(json_array_get(in, i), "routing_policy");
		json_t *x = json_pack("{s:s, s:s, s:s, s:O*, s:b}", "name", mr[i].name, "type",
				      mr[i].type, "content", mr[i].content, "routing_policy", rp,
				      "disabled", mr[i].disabled);
		if (x == NULL || json_array_append_new(recs, x) < 0)
			r = -ENOMEM;
	}
	if (r == 0 && !merge)
		r = store_policy_foreach(st, z->id, add_policy_key, keys);
	if (r == 0)
		r = zones_steer_plan(recs, keys, z->domain, ret, err);
	json_decref(keys);
	json_decref(recs);
	return r == -ENOMEM ? errmsg_set(err, -ENOMEM, "out of memory") : r;
}

static int records_set(struct whm *w, int64_t zone_id, const struct set_spec *spec,
		       const char *actor, struct zone_result *res, struct errmsg *err)
{
	char made[HISTORY_SUMMARY_MAX];
	struct store *st;
	struct store_zone z;
	json_t *old;
	struct errmsg msg;
	const json_t *records_in = spec->records;
	const bool merge = spec->merge;
	const uint32_t *min_serial = spec->min_serial;
	const char *soa = spec->soa, *summary = spec->summary;
	size_t n = json_array_size(records_in), i;
	struct model_record *mr = calloc(n + 1, sizeof(*mr));
	json_t *plan = NULL;
	int r = mr != NULL ? -EAGAIN : -ENOMEM;

	for (int attempt = 0; r == -EAGAIN && attempt < ZONES_CHANGE_ATTEMPTS; attempt++) {
		json_t *records = json_array();
		r = zones_read(w, &st, zone_id, &z, &old, err);
		if (r < 0) {
			json_decref(records);
			break;
		}
		if (spec->transfer_serial == NULL && (r = zones_editable(st, zone_id, err)) < 0) {
			json_decref(records);
			json_decref(old);
			store_zone_clear(&z);
			break;
		}
		uint64_t seen = z.version;
		json_t *named = json_object();
		if (named == NULL || (merge && spec->emptied != NULL &&
				      json_object_update(named, (json_t *)spec->emptied) < 0))
			r = -ENOMEM;
		/* Checked again on each attempt: a change that committed
		 * meanwhile moved the zone past it. */
		if (r == 0 && spec->if_version != 0 && spec->if_version != z.version)
			r = errmsg_set(err, ERR_CONFLICT,
				       "the zone is at version %llu, not %llu: it changed since "
				       "then; nothing was changed",
				       (unsigned long long)z.version,
				       (unsigned long long)spec->if_version);
		for (i = 0; i < n; i++)
			model_record_clear(&mr[i]);
		for (i = 0; r == 0 && i < n; i++) {
			const json_t *in = json_array_get(records_in, i);
			/* A transfer keeps what the primary's signer made. */
			r = model_record_parse_flags(in, z.domain, (uint32_t)w->conf.default_ttl,
						     spec->transfer_serial ? MODEL_PRESIGNED : 0,
						     &mr[i], &msg);
			if (r < 0) {
				errmsg_set(err, 0, "records[%zu]: %s", i, msg.text);
			} else if (strcmp(mr[i].type, ZONES_TYPE_SOA) == 0) {
				errmsg_set(err, 0,
					   "records[%zu]: the SOA is managed by the controller", i);
				r = ERR_INVALID;
			} else {
				char key[DNAME_TEXT_MAX + 40];
				if (merge && json_object_get(in, "ttl") == NULL)
					mr[i].ttl =
					    rrset_ttl(old, mr[i].name, mr[i].type, mr[i].ttl);
				json_array_append_new(
				    records, zones_payload_record(0, mr[i].name, mr[i].type,
								  mr[i].content, mr[i].ttl,
								  mr[i].priority, mr[i].disabled));
				r = rrset_key(mr[i].name, mr[i].type, key, sizeof(key));
				if (r == 0)
					r = json_object_set_new(named, key, json_true()) ? -ENOMEM
											 : 0;
			}
		}
		/* Merge: the records of RRsets the change does not name stay. */
		json_t *o;
		json_array_foreach(old, i, o) {
			bool off = json_is_true(json_object_get(o, "disabled"));
			if (r == 0 &&
			    ((merge && !in_rrsets(o, named)) || (spec->keep_disabled && off)))
				json_array_append(records, o);
		}
		/* Two signers would serve two sets of signatures. */
		if (r == 0 && z.dnssec && zones_records_presigned(records))
			r = errmsg_set(
			    err, ERR_CONFLICT,
			    "the primary signs the zone, and the controller signs it too: "
			    "turn the controller's DNSSEC off for the zone to serve it as "
			    "the primary signed it");
		json_decref(plan);
		plan = NULL;
		if (r == 0)
			r = set_plan(st, &z, records_in, mr, n, named, merge, &plan, err);
		struct store_zone before = z;
		zones_bump(&z);
		if (min_serial != NULL && (int32_t)(*min_serial - z.serial) >= 0)
			z.serial = model_serial_next(*min_serial, time(NULL));
		if (spec->transfer_serial != NULL)
			z.serial = *spec->transfer_serial;
		if (soa != NULL)
			snprintf(z.soa, sizeof(z.soa), "%s", soa);
		if (r == 0)
			r = zones_validate(w, st, &z, records, plan, err);
		/* Nothing would change but the version and the serial: no
		 * version, no history entry (res says the zone as it is). */
		if (r == 0 && spec->noop && same_zone(&before, old, &z, records, min_serial) &&
		    (spec->transfer_serial == NULL || before.serial == z.serial)) {
			*res = (struct zone_result){ .zone_id = zone_id,
						     .version = before.version,
						     .serial = before.serial };
			r = 1;
		}
		if (r == 0)
			r = zones_lock_unchanged(st, zone_id, seen, err);
		if (r == 0) {
			r = write_records(st, zone_id, old, named, mr, n, merge,
					  spec->keep_disabled);
			if (r == 0)
				r = zones_write_comments(st, zone_id, spec->comments);
			if (r == 0)
				r = zones_steer_apply(st, zone_id, plan);
			if (summary == NULL && merge)
				history_summary(made, "merge %zu records into %zu RRsets", n,
						json_object_size(named));
			else if (summary == NULL)
				history_summary(made, "replace every record: %zu records", n);
			if (summary == NULL && soa != NULL)
				history_summary(made, "%s, and the SOA fields of the import",
						merge ? "merge" : "replace every record");
			if (r == 0)
				r = zones_finish(w, st, &before, &z, records, actor, spec->action,
						 summary ? summary : made, res, err);
			else
				r = zones_fail(st, r, err, "replacing the records");
		}
		json_decref(records);
		json_decref(named);
		json_decref(old);
		store_zone_clear(&z);
	}
	for (i = 0; mr != NULL && i < n; i++)
		model_record_clear(&mr[i]);
	free(mr);
	json_decref(plan);
	return r == -EAGAIN ? zones_busy(err) : r;
}

int zones_records_set(struct whm *w, int64_t zone_id, const json_t *records, bool merge,
		      const uint32_t *min_serial, const char *soa, bool noop, uint64_t if_version,
		      const char *actor, const char *action, const char *summary,
		      struct zone_result *res, struct errmsg *err)
{
	struct set_spec spec = { .records = records,
				 .merge = merge,
				 .min_serial = min_serial,
				 .soa = soa,
				 .noop = noop,
				 .if_version = if_version,
				 .action = action,
				 .summary = summary };
	return records_set(w, zone_id, &spec, actor, res, err);
}

int zones_records_replace(struct whm *w, int64_t zone_id, const json_t *records_in,
			  uint64_t if_version, const char *actor, struct zone_result *res,
			  struct errmsg *err)
{
	struct set_spec spec = { .records = records_in,
				 .if_version = if_version,
				 .action = "records.replace" };
	int r = records_set(w, zone_id, &spec, actor, res, err);
	return r > 0 ? 0 : r;
}

int zones_records_import(struct whm *w, int64_t zone_id, const json_t *records, bool merge,
			 const uint32_t *min_serial, const char *soa, uint64_t if_version,
			 const char *actor, struct zone_result *res, struct errmsg *err)
{
	struct set_spec spec = { .records = records,
				 .merge = merge,
				 .min_serial = min_serial,
				 .soa = soa,
				 .noop = true,
				 .keep_disabled = true,
				 .if_version = if_version,
				 .action = merge ? "zone.import.merge" : "zone.import.replace" };
	return records_set(w, zone_id, &spec, actor, res, err);
}

int zones_records_transfer(struct whm *w, int64_t zone_id, const json_t *records, uint32_t serial,
			   const char *soa, const char *actor, struct zone_result *res,
			   struct errmsg *err)
{
	char summary[HISTORY_SUMMARY_MAX];
	struct set_spec spec = { .records = records,
				 .soa = soa,
				 .noop = true,
				 .transfer_serial = &serial,
				 .action = "zone.transfer",
				 .summary = summary };

	history_summary(summary, "transfer from the primary: serial %u, %zu records", serial,
			json_array_size(records));
	return records_set(w, zone_id, &spec, actor, res, err);
}

/* --- RRset changes ------------------------------------------------------------ */

static const char *const rrset_keys[] = { "name",    "type",	 "ttl", "changetype",
					  "records", "comments", NULL };
static const char *const rrset_record_keys[] = { "content", "priority", "disabled", NULL };

/* The records of REPLACE 'set' (rrsets[i]) as panel records appended to
 * 'flat', each checked on its own for zone 'origin' so that a refusal
 * names it. */
static int rrset_records(const struct whm *w, const json_t *set, size_t i, const char *origin,
			 json_t *flat, struct errmsg *err)
{
	char path[64];
	struct model_record mr;
	struct errmsg msg;
	json_t *records = NULL, *rec;
	uint64_t ttl;
	size_t j;

	snprintf(path, sizeof(path), "rrsets[%zu]", i);
	int r = jsonx_get_array(set, "records", true, path, &records, err);
	if (r == 0) {
		r = jsonx_get_uint(set, "ttl", false, 0, DNS_TTL_MAX, path, &ttl, err);
		r = r == -ENOENT ? 0 : r;
	}
	if (r < 0)
		return r;
	json_array_foreach(records, j, rec) {
		if (r < 0)
			break;
		snprintf(path, sizeof(path), "rrsets[%zu].records[%zu]", i, j);
		if (!json_is_object(rec))
			return errmsg_set(err, ERR_INVALID, "%s: must be an object", path);
		r = jsonx_check_keys(rec, rrset_record_keys, path, err);
		if (r < 0)
			return r;
		/* The record as the panel's record routes take it. */
		json_t *o = json_pack("{s:O,s:O,s:O}", "name", json_object_get(set, "name"), "type",
				      json_object_get(set, "type"), "content",
				      json_object_get(rec, "content"));
		if (o == NULL)
			return errmsg_set(err, ERR_INVALID, "%s.content: required", path);
		if (json_object_get(rec, "priority") != NULL)
			json_object_set(o, "priority", json_object_get(rec, "priority"));
		if (json_object_get(rec, "disabled") != NULL)
			json_object_set(o, "disabled", json_object_get(rec, "disabled"));
		if (json_object_get(set, "ttl") != NULL)
			json_object_set(o, "ttl", json_object_get(set, "ttl"));
		r = model_record_parse(o, origin, (uint32_t)w->conf.default_ttl, &mr, &msg);
		model_record_clear(&mr);
		if (r < 0)
			errmsg_set(err, 0, "%s: %s", path, msg.text);
		else if (json_array_append(flat, o) < 0)
			r = -ENOMEM;
		json_decref(o);
	}
	return r;
}

/* What a patch changes, gathered change by change. */
struct patch {
	json_t *seen;	  /* rrset_key()s named so far */
	json_t *emptied;  /* those whose records are replaced or deleted */
	json_t *flat;	  /* the new records of those, as panel records */
	json_t *comments; /* rrset_key() -> new comments (an array; empty: none) */
	struct buf text;  /* a few words about each change */
};

/* Check rrsets[i] ('set') of a patch of zone 'origin' and add it to 'p'. A
 * REPLACE replaces what it carries: its "records", its "comments", or
 * both (an empty list of records without comments removes both); a DELETE
 * removes the RRset's records and comments. */
static int rrset_change(const struct whm *w, const json_t *set, size_t i, const char *origin,
			struct patch *p, struct errmsg *err)
{
	char path[32], name[DNAME_TEXT_MAX], type[16], key[DNAME_TEXT_MAX + 40];
	const char *name_in = "", *type_in = "", *op = "";
	struct errmsg msg;

	snprintf(path, sizeof(path), "rrsets[%zu]", i);
	if (!json_is_object(set))
		return errmsg_set(err, ERR_INVALID, "%s: must be an object", path);
	int r = jsonx_check_keys(set, rrset_keys, path, err);
	if (r == 0)
		r = jsonx_get_str(set, "name", true, path, &name_in, err);
	if (r == 0)
		r = jsonx_get_str(set, "type", true, path, &type_in, err);
	if (r == 0)
		r = jsonx_get_str(set, "changetype", true, path, &op, err);
	if (r < 0)
		return r;
	bool replace = strcmp(op, "REPLACE") == 0;
	if (!replace && strcmp(op, "DELETE") != 0)
		return errmsg_set(err, ERR_INVALID, "%s.changetype: REPLACE or DELETE, not '%.40s'",
				  path, op);
	r = model_rrset_parse(name_in, type_in, origin, name, type, &msg);
	if (r < 0)
		return errmsg_set(err, ERR_INVALID, "%s: %s", path, msg.text);
	if (strcmp(type, ZONES_TYPE_SOA) == 0)
		return errmsg_set(err, ERR_INVALID, "%s: the SOA is managed by the controller",
				  path);
	const json_t *records = json_object_get(set, "records");
	json_t *comments = json_object_get(set, "comments");
	/* No records left and no comments given: the comments go too, as
	 * PowerDNS's SQL backends drop them with an emptied RRset. */
	bool emptied = json_is_array(records) && json_array_size(records) == 0;
	bool with_records = !replace || records != NULL;
	bool with_comments = !replace || comments != NULL || emptied;
	if (!with_records && !with_comments)
		return errmsg_set(err, ERR_INVALID,
				  "%s: a REPLACE carries records, comments or both: no change for "
				  "RRset %s %s",
				  path, name, type);
	json_t *list = NULL;
	if (replace && comments != NULL &&
	    (r = pdns_comments_read(comments, path, (uint32_t)time(NULL), &list, err)) < 0)
		return r;
	r = rrset_key(name, type, key, sizeof(key));
	if (r == 0 && json_object_get(p->seen, key) != NULL) {
		json_decref(list);
		return errmsg_set(err, ERR_INVALID, "%s: RRset %s %s is named twice", path, name,
				  type);
	}
	if (r == 0)
		r = json_object_set_new(p->seen, key, json_true()) < 0 ? -ENOMEM : 0;
	if (r == 0 && with_records)
		r = json_object_set_new(p->emptied, key, json_true()) < 0 ? -ENOMEM : 0;
	if (r == 0 && with_comments)
		r = json_object_set_new(p->comments, key, list != NULL ? list : json_array()) < 0
			? -ENOMEM
			: 0;
	else
		json_decref(list);
	if (r == 0 && !replace && json_array_size(records) > 0)
		r = errmsg_set(err, ERR_INVALID, "%s.records: a DELETE carries no records", path);
	if (r == 0 && replace && with_records)
		r = rrset_records(w, set, i, origin, p->flat, err);
	if (r == 0) {
		const char *what = !replace			  ? "delete"
				   : !with_records		  ? "comment"
				   : json_array_size(records) > 0 ? "replace"
								  : "delete";
		r = buf_printf(&p->text, "%s%s %s %s", i > 0 ? ", " : "", what, name, type);
		r = r == -E2BIG ? 0 : r; /* history_summary() cuts it anyway */
	}
	return r;
}

/* A patch that changes only comments: they are not served, so no version
 * and nothing pushed; the audit log keeps it. */
static int comments_only(struct whm *w, int64_t zone_id, const json_t *comments,
			 uint64_t if_version, const char *actor, const char *summary,
			 struct zone_result *res, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;

	int r = zones_begin_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	if (if_version != 0 && if_version != z.version)
		r = errmsg_set(err, ERR_CONFLICT,
			       "the zone is at version %llu, not %llu: it changed since then; "
			       "nothing was changed",
			       (unsigned long long)z.version, (unsigned long long)if_version);
	if (r == 0)
		r = zones_write_comments(st, zone_id, comments);
	if (r == 0)
		r = history_note_zone(st, &z, actor, "rrsets.comments", summary);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		zones_fail(st, r, err, "storing the comments");
	} else {
		*res = (struct zone_result){ .zone_id = zone_id,
					     .version = z.version,
					     .serial = z.serial };
	}
	store_zone_clear(&z);
	return r;
}

int zones_rrsets_patch(struct whm *w, int64_t zone_id, const json_t *rrsets, uint64_t if_version,
		       const char *actor, struct zone_result *res, struct errmsg *err)
{
	char summary[HISTORY_SUMMARY_MAX];
	struct store *st;
	struct store_zone z;
	struct patch p = { 0 };
	size_t i;
	json_t *set;

	if (!json_is_array(rrsets) || json_array_size(rrsets) == 0)
		return errmsg_set(err, ERR_INVALID,
				  "rrsets: an array of at least one RRset change");
	if (json_array_size(rrsets) > w->conf.max_zone_records)
		return errmsg_set(err, ERR_TOO_LARGE, "rrsets: more than %llu RRsets",
				  (unsigned long long)w->conf.max_zone_records);
	int r = catalog_guard(w, zone_id, err);
	if (r < 0)
		return r;
	r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	r = zones_editable(st, zone_id, err);
	if (r < 0) {
		store_zone_clear(&z);
		return r;
	}
	p.seen = json_object();
	p.emptied = json_object();
	p.flat = json_array();
	p.comments = json_object();
	buf_init(&p.text, (size_t)4 * HISTORY_SUMMARY_MAX);
	r = p.seen != NULL && p.emptied != NULL && p.flat != NULL && p.comments != NULL
		? buf_puts(&p.text, "rrsets: ")
		: -ENOMEM;
	json_array_foreach(rrsets, i, set) {
		if (r < 0)
			break;
		r = rrset_change(w, set, i, z.domain, &p, err);
		if (r == 0 && json_array_size(p.flat) > w->conf.max_zone_records)
			r = errmsg_set(err, ERR_TOO_LARGE, "rrsets: more than %llu records",
				       (unsigned long long)w->conf.max_zone_records);
	}
	store_zone_clear(&z);
	history_summary(summary, "%.*s", (int)p.text.len, p.text.data ? p.text.data : "");
	buf_free(&p.text);
	if (r == 0 && json_object_size(p.emptied) == 0) {
		r = comments_only(w, zone_id, p.comments, if_version, actor, summary, res, err);
	} else if (r == 0) {
		struct set_spec spec = { .records = p.flat,
					 .merge = true,
					 .emptied = p.emptied,
					 .if_version = if_version,
					 .comments = p.comments,
					 .action = "rrsets.patch",
					 .summary = summary };
		r = records_set(w, zone_id, &spec, actor, res, err);
	}
	json_decref(p.seen);
	json_decref(p.emptied);
	json_decref(p.flat);
	json_decref(p.comments);
	return r == -ENOMEM && err->text[0] == '\0' ? errmsg_set(err, r, "out of memory") : r;
}

bool zones_records_presigned(const json_t *records)
{
	size_t i;
	const json_t *o;

	/* Signed by its primary: it holds signatures. Its other DNSSEC records
	 * without them are refused as any user's would be. */
	json_array_foreach(records, i, o) {
		const char *t = json_string_value(json_object_get(o, "type"));
		if (t != NULL && strcasecmp(t, "RRSIG") == 0)
			return true;
	}
	return false;
}

int zones_presigned(struct store *st, int64_t zone_id, bool *ret)
{
	json_t *records = NULL;
	int r = zones_load_records(st, zone_id, &records);

	if (r == 0)
		*ret = zones_records_presigned(records);
	json_decref(records);
	return r;
}
