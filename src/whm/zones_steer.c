/* Routing policies in the zone service (zones_steer.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "history.h"
#include "json/jsonx.h"
#include "model/model.h"
#include "model/steer.h"
#include "zones.h"
#include "zones_internal.h"
#include "zones_steer.h"

#define KEY_MAX (DNAME_TEXT_MAX + 40)

int zones_steer_key(const char *name, const char *type, char *out, size_t len)
{
	/* a normalised owner never holds a raw tab (it would be \009) */
	int n = snprintf(out, len, "%s\t%s", name, type);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int zones_steer_key_split(const char *key, char name[DNAME_TEXT_MAX], const char **ret_type)
{
	const char *tab = strchr(key, '\t');
	if (tab == NULL || (size_t)(tab - key) >= DNAME_TEXT_MAX)
		return -EINVAL;
	memcpy(name, key, (size_t)(tab - key));
	name[tab - key] = '\0';
	*ret_type = tab + 1;
	return 0;
}

static int load_one(const char *name, const char *type, bool per_record, const char *policy,
		    void *ctx)
{
	char key[KEY_MAX];
	json_t *pol = json_loads(policy, 0, NULL);

	if (pol == NULL || zones_steer_key(name, type, key, sizeof(key)) < 0) {
		json_decref(pol);
		return 0; /* not ours to read: shown as no policy */
	}
	json_t *o = json_pack("{s:b, s:o}", "per_record", per_record, "policy", pol);
	return o != NULL && json_object_set_new(ctx, key, o) == 0 ? 0 : -ENOMEM;
}

int zones_steer_load(struct store *st, int64_t zone_id, json_t **ret)
{
	json_t *out = json_object();

	if (out == NULL)
		return -ENOMEM;
	int r = store_policy_foreach(st, zone_id, load_one, out);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

static bool holds(const json_t *arr, const char *content)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), content) == 0)
			return true;
	}
	return false;
}

json_t *zones_steer_record_policy(const json_t *policies, const char *name, const char *type,
				  const char *content)
{
	char key[KEY_MAX];
	size_t i;
	json_t *v;

	if (zones_steer_key(name, type, key, sizeof(key)) < 0)
		return json_null();
	const json_t *o = json_object_get(policies, key);
	if (!json_is_true(json_object_get(o, "per_record")))
		return json_null();
	const json_t *pol = json_object_get(o, "policy");
	const char *kind = json_string_value(json_object_get(pol, "type"));
	if (kind == NULL)
		return json_null();
	/* steer_policy_from_records() made 'pol': read each shape back */
	if (strcmp(kind, "weighted") == 0) {
		json_array_foreach(json_object_get(pol, "targets"), i, v) {
			const char *t = json_string_value(json_object_get(v, "target"));
			if (t != NULL && strcmp(t, content) == 0)
				return json_pack("{s:s, s:O}", "type", "weighted", "weight",
						 json_object_get(v, "weight"));
		}
	} else if (strcmp(kind, "geo") == 0) {
		json_array_foreach(json_object_get(pol, "regions"), i, v) {
			if (holds(json_object_get(v, "targets"), content))
				return json_pack("{s:s, s:O}", "type", "geo", "region",
						 json_object_get(v, "country"));
		}
	} else if (strcmp(kind, "failover") == 0) {
		return json_pack("{s:s, s:O}", "type", "failover", "health_check_url",
				 json_object_get(json_object_get(pol, "check"), "url"));
	}
	return json_null();
}

/* The rrset key of payload record 'o': 0, or -1 when it has none. */
static int record_key(const json_t *o, char key[KEY_MAX])
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *type = json_string_value(json_object_get(o, "type"));
	return name != NULL && type != NULL && zones_steer_key(name, type, key, KEY_MAX) == 0 ? 0
											      : -1;
}

int zones_steer_keep(const json_t *policies, json_t *records)
{
	json_t *uncovered = json_object(), *o;
	char key[KEY_MAX];
	size_t i;
	int r = uncovered != NULL ? 0 : -ENOMEM;

	json_array_foreach(records, i, o) {
		const char *content = json_string_value(json_object_get(o, "content"));
		if (r < 0 || content == NULL || record_key(o, key) < 0)
			continue;
		json_t *rp = zones_steer_record_policy(
		    policies, json_string_value(json_object_get(o, "name")),
		    json_string_value(json_object_get(o, "type")), content);
		/* A disabled record takes no policy: its RRset is written
		 * without one, as the version it comes from had it. */
		bool none = json_is_null(rp) || json_is_true(json_object_get(o, "disabled"));
		if (rp == NULL || json_object_set_new(o, "routing_policy", rp) < 0 ||
		    (none && json_object_set_new(uncovered, key, json_true()) < 0))
			r = -ENOMEM;
	}
	/* An RRset not covered whole keeps none. */
	json_array_foreach(records, i, o) {
		if (r == 0 && record_key(o, key) == 0 && json_object_get(uncovered, key) != NULL &&
		    json_object_set_new(o, "routing_policy", json_null()) < 0)
			r = -ENOMEM;
	}
	json_decref(uncovered);
	return r;
}

/* The records of 'recs' by RRset key, each RRset's in the order of
 * 'recs' (as steer_policy_from_records() takes them): one pass, so that a
 * plan of every RRset of a large zone (a transfer, an import) does not
 * walk every record once per RRset. NULL when out of memory. */
static json_t *by_rrset(const json_t *recs)
{
	json_t *groups = json_object(), *o;
	char key[KEY_MAX];
	size_t i;

	json_array_foreach(recs, i, o) {
		if (groups == NULL || record_key(o, key) < 0)
			continue;
		json_t *g = json_object_get(groups, key);
		if (g == NULL) {
			g = json_array();
			if (g == NULL || json_object_set_new(groups, key, g) < 0) {
				json_decref(groups);
				return NULL;
			}
		}
		if (json_array_append(g, o) < 0) {
			json_decref(groups);
			return NULL;
		}
	}
	return groups;
}

/* RFC 2181 section 5: an RRset holds each record once. A steered RRset is
 * served as one LUA record, so the zone's own duplicate check never sees
 * its records ('set', canonical content), and a per-record policy is
 * matched to its record by content: a duplicate would lose one policy. */
static int check_duplicates(const json_t *set, const char *name, const char *type,
			    const json_t *pol, struct errmsg *err)
{
	json_t *seen = json_object(), *o;
	size_t i;
	int r = seen != NULL ? 0 : -ENOMEM;

	json_array_foreach(set, i, o) {
		const char *content = json_string_value(json_object_get(o, "content"));
		if (r < 0 || content == NULL)
			continue;
		if (json_object_get(seen, content) == NULL) {
			r = json_object_set_new(seen, content, json_true()) < 0 ? -ENOMEM : 0;
			continue;
		}
		const char *kind = json_string_value(json_object_get(pol, "type"));
		bool geo = kind != NULL && strcmp(kind, "geo") == 0;
		r = errmsg_set(err, ERR_INVALID,
			       "RRset '%s %s': duplicate record '%.80s' (RFC 2181 section 5): an "
			       "RRset holds each record once%s",
			       name, type, content,
			       geo ? "; to answer one target to several countries, give the "
				     "RRset a geo policy (PUT /api/dns/:zoneId/policies), whose "
				     "regions may share targets"
				   : "");
	}
	json_decref(seen);
	return r;
}

/* The policy RRset 'key' gets from its records 'set' (by_rrset(); NULL:
 * none): checked, compiled once to be sure it compiles, or JSON null. */
static int plan_one(json_t *set, const char *key, const char *origin, json_t **ret,
		    struct errmsg *err)
{
	char name[DNAME_TEXT_MAX];
	const char *type;
	struct errmsg msg;
	json_t *pol = NULL, *o;
	char *lua = NULL;
	size_t i;

	if (zones_steer_key_split(key, name, &type) < 0)
		return -EINVAL;
	set = set != NULL ? json_incref(set) : json_array();
	if (set == NULL)
		return -ENOMEM;
	/* a steered answer is compiled from every record of the RRset: a
	 * disabled one would still be served */
	json_array_foreach(set, i, o) {
		json_t *rp = json_object_get(o, "routing_policy");
		if (json_is_true(json_object_get(o, "disabled")) && rp != NULL &&
		    !json_is_null(rp)) {
			json_decref(set);
			return errmsg_set(err, ERR_INVALID,
					  "RRset '%s %s': a record with a routing policy cannot be "
					  "disabled; remove the RRset's policies first",
					  name, type);
		}
	}
	int r = steer_policy_from_records(type, set, &pol, &msg);
	if (r == 0 && pol != NULL)
		r = steer_compile(pol, type, origin, &lua, &msg);
	free(lua);
	if (r == ERR_INVALID) {
		json_decref(set);
		json_decref(pol);
		return errmsg_set(err, ERR_INVALID, "RRset '%s %s': %s", name, type, msg.text);
	}
	if (r == 0 && pol != NULL)
		r = check_duplicates(set, name, type, pol, err);
	json_decref(set);
	if (r < 0) {
		json_decref(pol);
		return r;
	}
	*ret = pol != NULL ? pol : json_null();
	return 0;
}

int zones_steer_plan(const json_t *recs, const json_t *keys, const char *origin, json_t **ret,
		     struct errmsg *err)
{
	json_t *plan = json_object(), *groups = by_rrset(recs), *v, *pol;
	const char *key;
	int r = plan != NULL && groups != NULL ? 0 : -ENOMEM;

	json_object_foreach((json_t *)keys, key, v) {
		if (r < 0)
			break;
		r = plan_one(json_object_get(groups, key), key, origin, &pol, err);
		if (r == 0 && json_object_set_new(plan, key, pol) < 0)
			r = -ENOMEM;
	}
	json_decref(groups);
	if (r < 0) {
		json_decref(plan);
		return r;
	}
	*ret = plan;
	return 0;
}

int zones_steer_apply(struct store *st, int64_t zone_id, const json_t *plan)
{
	char name[DNAME_TEXT_MAX];
	const char *key;
	json_t *pol;

	json_object_foreach((json_t *)plan, key, pol) {
		const char *type;
		int r;
		if (zones_steer_key_split(key, name, &type) < 0)
			return -EINVAL;
		if (json_is_null(pol)) {
			r = store_policy_delete(st, zone_id, name, type);
		} else {
			char *text = json_dumps(pol, JSON_COMPACT);
			if (text == NULL)
				return -ENOMEM;
			r = store_policy_put(st, zone_id, name, type, true, text);
			free(text);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* The policy RRset 'key' is served with, or NULL. */
static const json_t *effective(const json_t *policies, const json_t *plan, const char *key)
{
	const json_t *p = json_object_get(plan, key);
	if (p != NULL)
		return json_is_null(p) ? NULL : p;
	return json_object_get(json_object_get(policies, key), "policy");
}

/* True if 'records' holds a record of RRset 'key'. */
static bool has_rrset_key(const json_t *records, const char *key)
{
	char k[KEY_MAX];
	json_t *o;
	size_t i;

	json_array_foreach(records, i, o) {
		const char *n = json_string_value(json_object_get(o, "name"));
		const char *t = json_string_value(json_object_get(o, "type"));
		if (n != NULL && t != NULL && zones_steer_key(n, t, k, sizeof(k)) == 0 &&
		    strcmp(k, key) == 0)
			return true;
	}
	return false;
}

int zones_steer_health_owner(const char *name, char out[DNAME_TEXT_MAX])
{
	int n;

	if (strcmp(name, "@") == 0)
		n = snprintf(out, DNAME_TEXT_MAX, "%s", STEER_HEALTH_LABEL);
	else if (name[0] == '*' && (name[1] == '\0' || name[1] == '.'))
		n = snprintf(out, DNAME_TEXT_MAX, "%s%s", STEER_HEALTH_WILDCARD_LABEL, name + 1);
	else
		n = snprintf(out, DNAME_TEXT_MAX, "%s.%s", STEER_HEALTH_LABEL, name);
	return n < 0 || n >= DNAME_TEXT_MAX ? -ENAMETOOLONG : 0;
}

/* True if 'records' holds a record owned by 'name' (stored form). */
static bool has_owner(const json_t *records, const char *name)
{
	json_t *o;
	size_t i;

	json_array_foreach(records, i, o) {
		const char *n = json_string_value(json_object_get(o, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* Beside the LUA record of RRset 'name' 'type' under 'pol': its health
 * record (steer_health_compile), TTL 0, which the node's agent reads.
 * None when the policy checks nothing, when the owner would not be a
 * name, or when the zone's 'records' hold that owner themselves. */
static int add_health(json_t *out, const json_t *records, const char *name, const char *type,
		      const json_t *pol, const char *origin, struct errmsg *err)
{
	char owner[DNAME_TEXT_MAX], abs[DNAME_TEXT_MAX];
	struct errmsg msg;
	char *content = NULL;

	if (zones_steer_health_owner(name, owner) < 0 ||
	    dname_owner_normalize(owner, origin, abs, &msg) < 0 || has_owner(records, owner))
		return 0;
	int r = steer_health_compile(pol, type, origin, STEER_STORED, &content, &msg);
	if (r == ERR_INVALID)
		return errmsg_set(err, ERR_INVALID, "RRset '%s %s': %s", name, type, msg.text);
	if (r < 0 || content == NULL)
		return r;
	json_t *rec = json_pack("{s:s, s:s, s:s, s:i}", "name", owner, "type", "LUA", "content",
				content, "ttl", 0);
	free(content);
	return rec != NULL && json_array_append_new(out, rec) == 0 ? 0 : -ENOMEM;
}

/* The LUA record of RRset 'key' that has no records of its own ('pol'
 * NULL: none), with the policy's "ttl" or the default, and its health
 * record. */
static int add_rrset_lua(json_t *out, const json_t *records, const char *key, const json_t *pol,
			 const char *origin, struct errmsg *err)
{
	char name[DNAME_TEXT_MAX];
	const char *type;
	struct errmsg msg;
	char *content = NULL;

	if (pol == NULL)
		return 0;
	if (zones_steer_key_split(key, name, &type) < 0)
		return -EINVAL;
	int r = steer_compile_flags(pol, type, origin, STEER_STORED, &content, &msg);
	if (r == ERR_INVALID)
		return errmsg_set(err, ERR_INVALID, "RRset '%s %s': %s", name, type, msg.text);
	if (r < 0)
		return r;
	const json_t *ttl = json_object_get(pol, "ttl");
	json_t *rec =
	    json_pack("{s:s, s:s, s:s, s:I}", "name", name, "type", "LUA", "content", content,
		      "ttl", ttl != NULL ? json_integer_value(ttl) : (json_int_t)STEER_DEFAULT_TTL);
	free(content);
	if (rec == NULL || json_array_append_new(out, rec) < 0)
		return -ENOMEM;
	return add_health(out, records, name, type, pol, origin, err);
}

int zones_steer_serve(json_t *records, const json_t *policies, const json_t *plan,
		      const char *origin, json_t **ret, struct errmsg *err)
{
	char key[KEY_MAX];
	json_t *out, *lua, *o;
	size_t i;
	int r = 0;

	if (json_object_size(policies) == 0 && json_object_size(plan) == 0) {
		*ret = json_incref(records);
		return 0;
	}
	out = json_array();
	lua = json_object(); /* rrset key -> its LUA record, once */
	if (out == NULL || lua == NULL)
		r = -ENOMEM;
	json_array_foreach(records, i, o) {
		if (r < 0)
			break;
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *type = json_string_value(json_object_get(o, "type"));
		const json_t *pol = NULL;
		if (name != NULL && type != NULL &&
		    zones_steer_key(name, type, key, sizeof(key)) == 0)
			pol = effective(policies, plan, key);
		if (pol == NULL) {
			r = json_array_append(out, o) < 0 ? -ENOMEM : 0;
			continue;
		}
		if (json_object_get(lua, key) != NULL)
			continue;
		char *content = NULL;
		struct errmsg msg;
		r = steer_compile_flags(pol, type, origin, STEER_STORED, &content, &msg);
		if (r == ERR_INVALID)
			r = errmsg_set(err, ERR_INVALID, "RRset '%s %s': %s", name, type, msg.text);
		if (r < 0)
			break;
		json_t *rec = json_pack("{s:s, s:s, s:s, s:O}", "name", name, "type", "LUA",
					"content", content, "ttl", json_object_get(o, "ttl"));
		free(content);
		if (rec == NULL || json_object_set(lua, key, rec) < 0 ||
		    json_array_append_new(out, rec) < 0)
			r = -ENOMEM;
		if (r == 0)
			r = add_health(out, records, name, type, pol, origin, err);
	}
	/* RRset-level policies stand for RRsets without records */
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)policies, k, v) {
		if (r == 0 && json_object_get(lua, k) == NULL &&
		    !json_is_true(json_object_get(v, "per_record")))
			r = add_rrset_lua(out, records, k, effective(policies, plan, k), origin,
					  err);
	}
	json_object_foreach((json_t *)plan, k, v) {
		if (r == 0 && json_object_get(lua, k) == NULL &&
		    json_object_get(policies, k) == NULL && !json_is_null(v) &&
		    !has_rrset_key(records, k))
			r = add_rrset_lua(out, records, k, v, origin, err);
	}
	json_decref(lua);
	if (r < 0) {
		json_decref(out);
		return r == -ENOMEM ? errmsg_set(err, -ENOMEM, "out of memory") : r;
	}
	*ret = out;
	return 0;
}

static const char *const policy_keys[] = { "name", "type", "policy", NULL };

/* True if 'records' holds a record of RRset 'name' 'type'. */
static bool has_rrset(const json_t *records, const char *name, const char *type)
{
	json_t *o;
	size_t i;

	json_array_foreach(records, i, o) {
		const char *n = json_string_value(json_object_get(o, "name"));
		const char *t = json_string_value(json_object_get(o, "type"));
		if (n != NULL && t != NULL && strcmp(n, name) == 0 && strcmp(t, type) == 0)
			return true;
	}
	return false;
}

/* Check the body of zones_rrset_policy_set() for zone 'origin': the RRset's
 * stored name and type, and the plan it makes. */
static int policy_body(const json_t *body, const char *origin, char name[DNAME_TEXT_MAX],
		       char type[16], json_t **ret_plan, struct errmsg *err)
{
	const char *n, *t;
	char key[KEY_MAX];
	char *lua = NULL;
	struct errmsg msg;

	int r = jsonx_check_keys(body, policy_keys, "body", err);
	if (r == 0)
		r = jsonx_get_str(body, "name", true, "body", &n, err);
	if (r == 0)
		r = jsonx_get_str(body, "type", true, "body", &t, err);
	if (r == 0 && json_object_get(body, "policy") == NULL)
		r = errmsg_set(err, ERR_INVALID, "body.policy: required (null removes it)");
	if (r < 0)
		return r;
	r = model_rrset_parse(n, t, origin, name, type, &msg);
	if (r < 0)
		return errmsg_set(err, r, "body: %s", msg.text);
	json_t *pol = json_object_get(body, "policy");
	if (!json_is_null(pol)) {
		r = steer_compile(pol, type, origin, &lua, &msg);
		free(lua);
		if (r < 0)
			return errmsg_set(err, r, "%s", msg.text);
	}
	r = zones_steer_key(name, type, key, sizeof(key));
	json_t *plan = json_object();
	if (r < 0 || plan == NULL || json_object_set(plan, key, pol) < 0) {
		json_decref(plan);
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	*ret_plan = plan;
	return 0;
}

static int policy_attempts(struct whm *w, int64_t zone_id, const json_t *body, const char *actor,
			   struct zone_result *res, struct errmsg *err)
{
	char name[DNAME_TEXT_MAX], type[16], summary[HISTORY_SUMMARY_MAX];
	struct store *st;
	struct store_zone z;
	json_t *records, *plan = NULL;
	int r = -EAGAIN;

	err->text[0] = '\0';
	for (int attempt = 0; r == -EAGAIN && attempt < ZONES_CHANGE_ATTEMPTS; attempt++) {
		r = zones_read(w, &st, zone_id, &z, &records, err);
		if (r < 0)
			break;
		/* a secondary zone serves its primary's data: a policy set or
		 * removed here would move its serial away from the primary's */
		r = zones_editable(st, zone_id, err);
		if (r < 0) {
			json_decref(records);
			store_zone_clear(&z);
			break;
		}
		uint64_t seen = z.version;
		json_decref(plan);
		plan = NULL;
		r = policy_body(body, z.domain, name, type, &plan, err);
		if (r == 0 && has_rrset(records, name, type))
			r = errmsg_set(err, ERR_INVALID,
				       "RRset '%s %s' has records: delete them, or give them "
				       "routing_policy on the record routes",
				       name, type);
		bool removing = r == 0 && json_is_null(json_object_get(body, "policy"));
		history_summary(summary, "%s routing policy %s %s", removing ? "remove" : "set",
				name, type);
		struct store_zone old = z;
		zones_bump(&z);
		if (r == 0)
			r = zones_validate(w, st, &z, records, plan, err);
		if (r == 0)
			r = zones_lock_unchanged(st, zone_id, seen, err);
		if (r == 0) {
			char *text = removing ? NULL
					      : json_dumps(json_object_get(body, "policy"),
							   JSON_COMPACT | JSON_SORT_KEYS);
			if (removing)
				r = store_policy_delete(st, zone_id, name, type);
			else
				r = text != NULL
					? store_policy_put(st, zone_id, name, type, false, text)
					: -ENOMEM;
			free(text);
			if (r == 0)
				r = zones_finish(w, st, &old, &z, records, actor, "rrset.policy",
						 summary, res, err);
			else
				r = zones_fail(st, r, err, "writing the policy");
		}
		json_decref(records);
		store_zone_clear(&z);
	}
	json_decref(plan);
	return r == -EAGAIN ? zones_busy(err) : r;
}

int zones_rrset_policy_set(struct whm *w, int64_t zone_id, const json_t *body, const char *actor,
			   struct zone_result *res, struct errmsg *err)
{
	pthread_mutex_t *turn = zones_turn_take(zone_id);
	int r = policy_attempts(w, zone_id, body, actor, res, err);
	zones_turn_give(turn);
	return r;
}
