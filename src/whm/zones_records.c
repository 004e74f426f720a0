/* Every record of a zone changed at once (zones.h): replaced
 * (zones_records_replace), imported whole or merged RRset by RRset
 * (zones_records_import), written by a transfer from the primary
 * (zones_records_transfer), each as one version through
 * zones_records_apply(), which the RRset changes of zones_rrsets.c take
 * too. The records that stay exactly as they were keep their rows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/err.h"
#include "model/zdiff.h"
#include "zones.h"
#include "history.h"
#include "zones_internal.h"
#include "zones_steer.h"

int zones_rrset_key(const char *name, const char *type, char *out, size_t len)
{
	int n = snprintf(out, len, "%s\t%s", name, type);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* True if 'o' (a payload record) belongs to an RRset in 'named' (a JSON
 * object used as a hashed set of zones_rrset_key()s). */
static bool in_rrsets(const json_t *o, const json_t *named)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *type = json_string_value(json_object_get(o, "type"));
	char key[DNAME_TEXT_MAX + 40];
	return name != NULL && type != NULL && zones_rrset_key(name, type, key, sizeof(key)) == 0 &&
	       json_object_get(named, key) != NULL;
}

/* Whether disabled record 'o' (a payload record) is among the 'n' records
 * 'mr' of a change, enabled: an import that gives it enables it, and
 * keeping the disabled one beside would hold the record twice. */
static bool enabled_by(const json_t *o, const struct model_record *mr, size_t n)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *content = json_string_value(json_object_get(o, "content"));
	for (size_t i = 0; name && type && content && i < n; i++)
		if (!mr[i].disabled && strcmp(mr[i].name, name) == 0 &&
		    strcmp(mr[i].type, type) == 0 && strcmp(mr[i].content, content) == 0)
			return true;
	return false;
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

/* The store's rows of a zones_records_apply(), inside its transaction.
 * Without 'merge' every row is replaced, with it the rows of the RRsets
 * 'named' names. Either way the rows of records that stay exactly as they
 * are keep their id (a panel holding record ids, or a rollback that
 * changes one record, finds the others where they were); only the others
 * are deleted and inserted. */
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
		if (keep_disabled && json_is_true(json_object_get(o, "disabled")) &&
		    !enabled_by(o, mr, n))
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

/* Name the RRset of a per-record policy (store_policy_foreach() step) in
 * 'ctx', the keys of a set_plan(). */
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

/* ERR_INVALID if a record of 'mr' belongs to an RRset that 'policies'
 * (zones_steer_load()) give an RRset-level policy. */
static int refuse_steered(const json_t *policies, const struct model_record *mr, size_t n,
			  struct errmsg *err)
{
	char key[DNAME_TEXT_MAX + 40];

	for (size_t i = 0; i < n; i++) {
		if (zones_steer_key(mr[i].name, mr[i].type, key, sizeof(key)) < 0)
			continue;
		const json_t *p = json_object_get(policies, key);
		if (p != NULL && !json_is_true(json_object_get(p, "per_record")))
			return errmsg_set(
			    err, ERR_INVALID,
			    "records[%zu]: RRset '%s %s' is steered by its own "
			    "routing policy; remove it (PUT /api/dns/:zoneId/policies) "
			    "before adding records",
			    i, mr[i].name, mr[i].type);
	}
	return 0;
}

/* The policies the RRsets a zones_records_apply() names get from the
 * routing_policy of its records ('in', parsed into 'mr'), or with 'keep'
 * from the per-record policies the zone has now (zones_steer_keep(), read
 * in the change's attempt: a change meanwhile makes it read again);
 * without 'merge' every RRset that has one now is named too, so that it
 * goes with its records. With 'refuse' a record given to an RRset that has
 * an RRset-level policy is refused (zones_set_spec.refuse_steered). */
static int set_plan(struct store *st, const struct store_zone *z, const json_t *in,
		    const struct model_record *mr, size_t n, const json_t *named, bool merge,
		    bool keep, bool refuse, json_t **ret, struct errmsg *err)
{
	json_t *keys = json_deep_copy(named), *recs = json_array(), *policies = NULL;
	int r = keys != NULL && recs != NULL ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *rp = json_object_get(json_array_get(in, i), "routing_policy");
		json_t *x = json_pack("{s:s, s:s, s:s, s:O*, s:b}", "name", mr[i].name, "type",
				      mr[i].type, "content", mr[i].content, "routing_policy", rp,
				      "disabled", mr[i].disabled);
		if (x == NULL || json_array_append_new(recs, x) < 0)
			r = -ENOMEM;
	}
	if (r == 0 && (keep || refuse) && (r = zones_steer_load(st, z->id, &policies)) < 0 &&
	    r != -ENOMEM)
		r = errmsg_set(err, r, "reading routing policies: %s", err_str(r));
	if (r == 0 && refuse)
		r = refuse_steered(policies, mr, n, err);
	if (r == 0 && keep)
		r = zones_steer_keep(policies, recs);
	if (r == 0 && !merge)
		r = store_policy_foreach(st, z->id, add_policy_key, keys);
	if (r == 0)
		r = zones_steer_plan(recs, keys, z->domain, ret, err);
	json_decref(policies);
	json_decref(keys);
	json_decref(recs);
	return r == -ENOMEM ? errmsg_set(err, -ENOMEM, "out of memory") : r;
}

static int apply_attempts(struct whm *w, int64_t zone_id, const struct zones_set_spec *spec,
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
		r = spec->transfer_serial == NULL
			? zones_editable(st, zone_id, err)
			: zones_secondary_same(st, &z, spec->transfer_life, err);
		if (r < 0) {
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
				r = zones_rrset_key(mr[i].name, mr[i].type, key, sizeof(key));
				if (r == 0)
					r = json_object_set_new(named, key, json_true()) ? -ENOMEM
											 : 0;
			}
		}
		/* Merge: the records of RRsets the change does not name stay. */
		json_t *o;
		json_array_foreach(old, i, o) {
			bool off = json_is_true(json_object_get(o, "disabled"));
			if (r == 0 && ((merge && !in_rrsets(o, named)) ||
				       (spec->keep_disabled && off && !enabled_by(o, mr, n))))
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
			r = set_plan(st, &z, records_in, mr, n, named, merge, spec->keep_policies,
				     spec->refuse_steered, &plan, err);
		struct store_zone before = z;
		zones_bump(&z);
		/* Past the file's serial when that is also past the zone's own:
		 * RFC 1982 comparisons do not chain, and a file serial far
		 * ahead could give one behind the zone's (its date serial, or
		 * the file's plus one, may both be). Otherwise the zone's own
		 * next serial: a serial never goes back. */
		if (min_serial != NULL && (int32_t)(*min_serial - z.serial) >= 0) {
			uint32_t past = model_serial_next(*min_serial, time(NULL));
			if ((int32_t)(past - before.serial) <= 0)
				past = *min_serial + 1 != 0 ? *min_serial + 1 : 1;
			if ((int32_t)(past - before.serial) > 0)
				z.serial = past;
		}
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

int zones_records_apply(struct whm *w, int64_t zone_id, const struct zones_set_spec *spec,
			const char *actor, struct zone_result *res, struct errmsg *err)
{
	pthread_mutex_t *turn = zones_turn_take(zone_id);
	int r = apply_attempts(w, zone_id, spec, actor, res, err);
	zones_turn_give(turn);
	return r;
}

int zones_records_set(struct whm *w, int64_t zone_id, const json_t *records, bool merge,
		      const uint32_t *min_serial, const char *soa, bool noop, uint64_t if_version,
		      const char *actor, const char *action, const char *summary,
		      struct zone_result *res, struct errmsg *err)
{
	struct zones_set_spec spec = { .records = records,
				       .merge = merge,
				       .min_serial = min_serial,
				       .soa = soa,
				       .noop = noop,
				       .if_version = if_version,
				       .action = action,
				       .summary = summary };
	return zones_records_apply(w, zone_id, &spec, actor, res, err);
}

int zones_records_replace(struct whm *w, int64_t zone_id, const json_t *records_in,
			  uint64_t if_version, const char *actor, struct zone_result *res,
			  struct errmsg *err)
{
	struct zones_set_spec spec = { .records = records_in,
				       .refuse_steered = true,
				       .if_version = if_version,
				       .action = "records.replace" };
	int r = zones_records_apply(w, zone_id, &spec, actor, res, err);
	return r > 0 ? 0 : r;
}

int zones_records_import(struct whm *w, int64_t zone_id, const json_t *records, bool merge,
			 const uint32_t *min_serial, const char *soa, uint64_t if_version,
			 const char *actor, struct zone_result *res, struct errmsg *err)
{
	struct zones_set_spec spec = { .records = records,
				       .merge = merge,
				       .min_serial = min_serial,
				       .soa = soa,
				       .noop = true,
				       .keep_disabled = true,
				       .keep_policies = true,
				       .if_version = if_version,
				       .action =
					   merge ? "zone.import.merge" : "zone.import.replace" };
	return zones_records_apply(w, zone_id, &spec, actor, res, err);
}

int zones_records_transfer(struct whm *w, int64_t zone_id, uint32_t life, const json_t *records,
			   uint32_t serial, const char *soa, const char *actor,
			   struct zone_result *res, struct errmsg *err)
{
	char summary[HISTORY_SUMMARY_MAX];
	struct zones_set_spec spec = { .records = records,
				       .soa = soa,
				       .noop = true,
				       .transfer_serial = &serial,
				       .transfer_life = life,
				       .action = "zone.transfer",
				       .summary = summary };

	history_summary(summary, "transfer from the primary: serial %u, %zu records", serial,
			json_array_size(records));
	return zones_records_apply(w, zone_id, &spec, actor, res, err);
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
