#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libknot/libknot.h>

#include "history.h"
#include "json/jsonx.h"
#include "tsig.h"
#include "upolicy.h"

static const char *const rule_keys[] = { "zone", "match", "name", "types", NULL };
static const char *const matches[] = { "zone", "name", "subdomain", "wildcard", NULL };

static int parse_types(const json_t *types, const char *path, json_t *out, struct errmsg *err)
{
	size_t i;
	json_t *t;

	if (!json_is_array(types) || json_array_size(types) == 0 || json_array_size(types) > 64)
		return errmsg_set(err, ERR_INVALID, "%s.types: an array of 1 to 64 types", path);
	json_array_foreach(types, i, t) {
		const char *s = json_string_value(t);
		uint16_t type;
		struct errmsg terr;

		if (s == NULL)
			return errmsg_set(err, ERR_INVALID, "%s.types[%zu]: a string", path, i);
		if (strcasecmp(s, "ANY") == 0) {
			json_array_append_new(out, json_string("ANY"));
			continue;
		}
		if (rr_type_parse(s, &type, &terr) < 0)
			return errmsg_set(err, ERR_INVALID, "%s.types[%zu]: %s", path, i,
					  terr.text);
		if (type == KNOT_RRTYPE_SOA)
			return errmsg_set(err, ERR_INVALID,
					  "%s.types[%zu]: the SOA is the controller's", path, i);
		json_array_append_new(out, json_string(rr_type_name(type)));
	}
	return 0;
}

static int parse_rule(const json_t *in, const char *path, json_t **ret, struct errmsg *err)
{
	const char *zone_text = NULL, *match = NULL, *name_text = NULL;
	char zone[DNAME_TEXT_MAX], name[DNAME_TEXT_MAX];
	json_t *types = NULL;
	struct errmsg derr;
	unsigned m;

	if (!json_is_object(in))
		return errmsg_set(err, ERR_INVALID, "%s: an object", path);
	int r = jsonx_check_keys(in, rule_keys, path, err);
	if (r == 0)
		r = jsonx_get_str(in, "zone", true, path, &zone_text, err);
	if (r == 0)
		r = jsonx_get_str(in, "match", true, path, &match, err);
	if (r == 0)
		r = jsonx_get_array(in, "types", true, path, &types, err);
	if (r == 0) {
		r = jsonx_get_str(in, "name", false, path, &name_text, err);
		r = r == -ENOENT ? 0 : r;
	}
	if (r < 0 || zone_text == NULL || match == NULL)
		return r < 0 ? r : -EINVAL;
	if (dname_zone_normalize(zone_text, zone, &derr) < 0)
		return errmsg_set(err, ERR_INVALID, "%s.zone: %s", path, derr.text);
	for (m = 0; matches[m] != NULL && strcmp(matches[m], match) != 0; m++)
		;
	if (matches[m] == NULL)
		return errmsg_set(err, ERR_INVALID, "%s.match: zone, name, subdomain or wildcard",
				  path);
	if (m == 0 && name_text != NULL)
		return errmsg_set(err, ERR_INVALID, "%s.name: not with match zone", path);
	if (m != 0 && name_text == NULL)
		return errmsg_set(err, ERR_INVALID, "%s.name: required with match %s", path, match);
	if (m != 0 && dname_owner_normalize(name_text, zone, name, &derr) < 0)
		return errmsg_set(err, ERR_INVALID, "%s.name: %s", path, derr.text);
	if (m == 3 && strncmp(name, "*.", 2) != 0)
		return errmsg_set(err, ERR_INVALID,
				  "%s.name: a wildcard ('*.dev') with match "
				  "wildcard",
				  path);
	json_t *out = json_pack("{s:s,s:s,s:[]}", "zone", zone, "match", match, "types");
	if (out == NULL)
		return errmsg_set(err, -ENOMEM, "out of memory");
	if (m != 0)
		json_object_set_new(out, "name", json_string(name));
	r = parse_types(types, path, json_object_get(out, "types"), err);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

int upolicy_parse(const json_t *body, json_t **ret_rules, struct errmsg *err)
{
	static const char *const body_keys[] = { "rules", NULL };
	char path[32];
	json_t *rules = NULL, *rule, *out;
	size_t i;

	int r = jsonx_check_keys(body, body_keys, "body", err);
	if (r == 0)
		r = jsonx_get_array(body, "rules", true, "body", &rules, err);
	if (r < 0)
		return r;
	if (json_array_size(rules) > UPOLICY_RULES_MAX)
		return errmsg_set(err, ERR_INVALID, "body.rules: at most %d rules",
				  UPOLICY_RULES_MAX);
	out = json_array();
	if (out == NULL)
		return errmsg_set(err, -ENOMEM, "out of memory");
	json_array_foreach(rules, i, rule) {
		json_t *one;
		snprintf(path, sizeof(path), "rules[%zu]", i);
		r = parse_rule(rule, path, &one, err);
		if (r < 0) {
			json_decref(out);
			return r;
		}
		json_array_append_new(out, one);
	}
	*ret_rules = out;
	return 0;
}

static bool below(const char *name, const char *parent)
{
	return strcmp(name, parent) != 0 && dname_is_at_or_below(name, parent);
}

static bool name_matches(const json_t *rule, const char *zone, const char *name)
{
	const char *match = json_string_value(json_object_get(rule, "match"));
	const char *rname = json_string_value(json_object_get(rule, "name"));

	if (match == NULL)
		return false;
	if (strcmp(match, "zone") == 0)
		return dname_is_at_or_below(name, zone);
	if (rname == NULL)
		return false;
	if (strcmp(match, "name") == 0)
		return strcmp(name, rname) == 0;
	if (strcmp(match, "subdomain") == 0)
		return dname_is_at_or_below(name, rname);
	return strcmp(match, "wildcard") == 0 && below(name, rname + 2);
}

static bool type_matches(const json_t *rule, uint16_t type, bool apex_ns)
{
	const char *want = rr_type_name(type);
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(rule, "types"), i, t) {
		const char *s = json_string_value(t);
		if (s == NULL)
			continue;
		if (strcmp(s, "ANY") == 0 && !apex_ns)
			return true;
		if (want != NULL && strcmp(s, want) == 0)
			return true;
	}
	return false;
}

bool upolicy_allows(const json_t *rules, const char *zone, const char *name, uint16_t type)
{
	bool apex_ns = type == KNOT_RRTYPE_NS && strcmp(name, zone) == 0;
	size_t i;
	json_t *rule;

	if (type == KNOT_RRTYPE_SOA || type == TYPE_LUA || rr_type_name(type) == NULL ||
	    rr_type_is_dnssec(type))
		return false;
	json_array_foreach(rules, i, rule) {
		const char *rzone = json_string_value(json_object_get(rule, "zone"));
		if (rzone != NULL && strcmp(rzone, zone) == 0 && name_matches(rule, zone, name) &&
		    type_matches(rule, type, apex_ns))
			return true;
	}
	return false;
}

bool upolicy_names_zone(const json_t *rules, const char *zone)
{
	size_t i;
	json_t *rule;

	json_array_foreach(rules, i, rule) {
		const char *rzone = json_string_value(json_object_get(rule, "zone"));
		if (rzone != NULL && strcmp(rzone, zone) == 0)
			return true;
	}
	return false;
}

int upolicy_load(struct store *st, const char *key_name, json_t **ret)
{
	char *text = NULL;
	struct errmsg err;
	json_t *rules;

	int r = store_upolicy_get(st, key_name, &text);
	if (r < 0)
		return r;
	r = jsonx_parse(text, strlen(text), &rules, &err);
	free(text);
	if (r < 0)
		return ERR_BACKEND;
	if (!json_is_array(rules)) {
		json_decref(rules);
		return ERR_BACKEND;
	}
	*ret = rules;
	return 0;
}

/* The stored name of key 'key' (it must exist). */
static int key_name(struct whm *w, const char *key, char out[DNAME_TEXT_MAX], struct errmsg *err)
{
	struct tsig_key k;

	int r = tsig_get(w, key, &k, err);
	if (r == 0)
		snprintf(out, DNAME_TEXT_MAX, "%s", k.name);
	else if (r == ERR_NOT_FOUND || r == ERR_INVALID)
		r = errmsg_set(err, ERR_NOT_FOUND, "no TSIG key named '%.255s'", key);
	tsig_key_clear(&k);
	return r;
}

static int write_policy(struct store *st, const char *name, const char *rules, const char *actor,
			struct errmsg *err)
{
	char summary[HISTORY_SUMMARY_MAX];

	int r = store_begin(st);
	if (r == 0)
		r = rules ? store_upolicy_put(st, name, rules) : store_upolicy_delete(st, name);
	if (r == 0) {
		history_summary(summary, "update policy of TSIG key %s", name);
		r = history_note(st, actor, rules ? "update-policy.set" : "update-policy.delete",
				 summary);
	}
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		if (r == -ENOENT)
			return errmsg_set(err, ERR_NOT_FOUND, "TSIG key %s has no update policy",
					  name);
		return errmsg_set(err, r, "cannot store the update policy");
	}
	return 0;
}

int upolicy_set(struct whm *w, const char *key, const json_t *body, const char *actor,
		char ret_name[DNAME_TEXT_MAX], json_t **ret_rules, struct errmsg *err)
{
	struct store *st = whm_store(w);
	json_t *rules = NULL;

	err->text[0] = '\0';
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	int r = key_name(w, key, ret_name, err);
	if (r == 0)
		r = upolicy_parse(body, &rules, err);
	if (r < 0)
		return r;
	char *text = json_dumps(rules, JSON_COMPACT);
	r = text != NULL ? write_policy(st, ret_name, text, actor, err)
			 : errmsg_set(err, -ENOMEM, "out of memory");
	free(text);
	if (r < 0) {
		json_decref(rules);
		return r;
	}
	*ret_rules = rules;
	return 0;
}

int upolicy_delete(struct whm *w, const char *key, const char *actor, struct errmsg *err)
{
	char name[DNAME_TEXT_MAX];
	struct errmsg derr;
	struct store *st = whm_store(w);

	err->text[0] = '\0';
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	/* The key itself may be gone already: its name is enough. */
	if (dname_zone_normalize(key, name, &derr) < 0)
		return errmsg_set(err, ERR_NOT_FOUND, "no update policy for '%.255s'", key);
	return write_policy(st, name, NULL, actor, err);
}

static int list_one(const char *key_name, const char *rules, void *ctx)
{
	struct errmsg err;
	json_t *parsed;

	if (jsonx_parse(rules, strlen(rules), &parsed, &err) < 0)
		return ERR_BACKEND;
	return json_array_append_new(ctx,
				     json_pack("{s:s,s:o}", "key", key_name, "rules", parsed)) < 0
		   ? -ENOMEM
		   : 0;
}

int upolicy_list(struct whm *w, json_t **ret, struct errmsg *err)
{
	struct store *st = whm_store(w);
	json_t *out = json_array();

	if (st == NULL || out == NULL) {
		json_decref(out);
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	}
	int r = store_upolicy_foreach(st, list_one, out);
	if (r < 0) {
		json_decref(out);
		return errmsg_set(err, r, "cannot list the update policies");
	}
	*ret = out;
	return 0;
}

int upolicy_get(struct whm *w, const char *key, json_t **ret, struct errmsg *err)
{
	char name[DNAME_TEXT_MAX];
	struct errmsg derr;
	struct store *st = whm_store(w);
	json_t *rules;

	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	if (dname_zone_normalize(key, name, &derr) < 0)
		return errmsg_set(err, ERR_NOT_FOUND, "no update policy for '%.255s'", key);
	int r = upolicy_load(st, name, &rules);
	if (r == -ENOENT)
		return errmsg_set(err, ERR_NOT_FOUND, "TSIG key %s has no update policy", name);
	if (r < 0)
		return errmsg_set(err, r, "cannot read the update policy");
	*ret = json_pack("{s:s,s:o}", "key", name, "rules", rules);
	return *ret ? 0 : errmsg_set(err, -ENOMEM, "out of memory");
}
