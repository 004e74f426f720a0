/* The panel's per-record routing_policy (steer.h): each record of an RRset
 * carries {"type": "weighted", "weight": 0..100}, {"type": "geo",
 * "region": "DE"} or {"type": "failover", "health_check_url": "..."}, and
 * the records together make one structured policy, as record sets do in
 * Route 53. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json/jsonx.h"
#include "model/steer.h"

#define PANEL_WEIGHT_MAX 100

static const char *const weighted_keys[] = { "type", "weight", NULL };
static const char *const geo_keys[] = { "type", "region", NULL };
static const char *const failover_keys[] = { "type", "health_check_url", NULL };

int steer_record_policy_check(const json_t *rp, const char *path, struct errmsg *err)
{
	char p[64];
	const char *kind, *s = NULL;
	uint64_t w;

	if (rp == NULL || json_is_null(rp))
		return 0;
	snprintf(p, sizeof(p), "%s.routing_policy", path);
	if (!json_is_object(rp))
		return errmsg_set(err, ERR_INVALID, "%s: an object or null", p);
	int r = jsonx_get_str(rp, "type", true, p, &kind, err);
	if (r < 0)
		return r;
	if (strcmp(kind, "weighted") == 0) {
		r = jsonx_check_keys(rp, weighted_keys, p, err);
		return r < 0 ? r
			     : jsonx_get_uint(rp, "weight", true, 0, PANEL_WEIGHT_MAX, p, &w, err);
	}
	if (strcmp(kind, "geo") == 0) {
		char code[3];
		r = jsonx_check_keys(rp, geo_keys, p, err);
		if (r == 0)
			r = jsonx_get_str(rp, "region", true, p, &s, err);
		if (r < 0 || s == NULL)
			return r < 0 ? r : -EINVAL;
		if (strlen(s) != 2)
			return errmsg_set(err, ERR_INVALID,
					  "%s.region: '%.20s' is not a 2-letter code", p, s);
		code[0] = (char)toupper((unsigned char)s[0]);
		code[1] = (char)toupper((unsigned char)s[1]);
		code[2] = '\0';
		if (!steer_country_known(code))
			return errmsg_set(err, ERR_INVALID,
					  "%s.region: '%.20s' is not an ISO 3166 country code", p,
					  s);
		return 0;
	}
	if (strcmp(kind, "failover") == 0) {
		r = jsonx_check_keys(rp, failover_keys, p, err);
		if (r == 0)
			r = jsonx_get_str(rp, "health_check_url", true, p, &s, err);
		if (r < 0)
			return r;
		snprintf(p + strlen(p), sizeof(p) - strlen(p), ".health_check_url");
		return steer_url_check(s, p, err);
	}
	return errmsg_set(err, ERR_INVALID,
			  "%s.type: '%.40s' is not one of weighted, geo, failover", p, kind);
}

/* Append a new reference to 'v' to 'arr' (jansson's _new steals it). */
static int push(json_t *arr, json_t *v)
{
	return v != NULL && json_array_append_new(arr, v) == 0 ? 0 : -ENOMEM;
}

static int build_weighted(const json_t *records, json_t *pol)
{
	json_t *targets = json_array(), *rec;
	size_t i;

	if (targets == NULL || json_object_set_new(pol, "targets", targets) < 0)
		return -ENOMEM;
	json_array_foreach(records, i, rec) {
		json_t *rp = json_object_get(rec, "routing_policy");
		json_t *t = json_pack("{s:O, s:O}", "target", json_object_get(rec, "content"),
				      "weight", json_object_get(rp, "weight"));
		if (push(targets, t) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* One region per country, in the order the records name them, its code in
 * upper case (read back so); the default is every target, for clients
 * from anywhere else. Each record's region is checked already. */
static int build_geo(const json_t *records, json_t *pol)
{
	json_t *regions = json_array(), *def = json_array(), *rec, *reg;
	size_t i, k;

	if (regions == NULL || def == NULL || json_object_set_new(pol, "regions", regions) < 0 ||
	    json_object_set_new(pol, "default", def) < 0) {
		json_decref(regions);
		json_decref(def);
		return -ENOMEM;
	}
	json_array_foreach(records, i, rec) {
		json_t *content = json_object_get(rec, "content");
		const char *region = json_string_value(
		    json_object_get(json_object_get(rec, "routing_policy"), "region"));
		char code[3] = { (char)toupper((unsigned char)region[0]),
				 (char)toupper((unsigned char)region[1]), '\0' };
		json_t *found = NULL;
		json_array_foreach(regions, k, reg) {
			if (strcmp(json_string_value(json_object_get(reg, "country")), code) == 0)
				found = json_object_get(reg, "targets");
		}
		if (found == NULL) {
			found = json_array();
			if (push(regions,
				 json_pack("{s:s, s:o}", "country", code, "targets", found)) < 0)
				return -ENOMEM;
		}
		if (push(found, json_incref(content)) < 0 || push(def, json_incref(content)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int build_failover(const json_t *records, json_t *pol, struct errmsg *err)
{
	json_t *targets = json_array(), *rec;
	const char *url = NULL;
	size_t i;

	if (targets == NULL || json_object_set_new(pol, "targets", targets) < 0)
		return -ENOMEM;
	json_array_foreach(records, i, rec) {
		const char *u = json_string_value(
		    json_object_get(json_object_get(rec, "routing_policy"), "health_check_url"));
		if (url != NULL && strcmp(url, u) != 0)
			return errmsg_set(
			    err, ERR_INVALID,
			    "records[%zu].routing_policy.health_check_url: the "
			    "failover records of one RRset share one health check URL",
			    i);
		url = u;
		if (push(targets, json_incref(json_object_get(rec, "content"))) < 0)
			return -ENOMEM;
	}
	json_t *chk = json_pack("{s:s}", "url", url);
	if (chk == NULL || json_object_set_new(pol, "check", chk) < 0)
		return -ENOMEM;
	return json_object_set_new(pol, "when_all_down", json_string("all")) < 0 ? -ENOMEM : 0;
}

int steer_policy_from_records(const char *type, const json_t *records, json_t **ret,
			      struct errmsg *err)
{
	const char *kind = NULL;
	size_t i, with = 0;
	json_t *rec;
	char p[64];

	*ret = NULL;
	json_array_foreach(records, i, rec) {
		json_t *rp = json_object_get(rec, "routing_policy");
		snprintf(p, sizeof(p), "records[%zu]", i);
		int r = steer_record_policy_check(rp, p, err);
		if (r < 0)
			return r;
		if (rp == NULL || json_is_null(rp))
			continue;
		if (!json_is_string(json_object_get(rec, "content")))
			return errmsg_set(err, ERR_INVALID, "%s.content: a string", p);
		const char *k = json_string_value(json_object_get(rp, "type"));
		if (kind != NULL && strcmp(kind, k) != 0)
			return errmsg_set(err, ERR_INVALID,
					  "%s.routing_policy.type: '%s' beside '%s' in one RRset: "
					  "the records of an RRset share one policy type",
					  p, k, kind);
		kind = k;
		with++;
	}
	if (with == 0)
		return 0;
	if (with != json_array_size(records))
		return errmsg_set(
		    err, ERR_INVALID,
		    "routing_policy: a %s policy beside records without one in the "
		    "same %.16s RRset; give every record of the RRset a policy or none",
		    kind, type);
	/* Clients of the countries no record names get every target; a CNAME
	 * answers with one name, so it has no such answer. */
	if (strcmp(kind, "geo") == 0 && strcmp(type, "CNAME") == 0 && with > 1)
		return errmsg_set(
		    err, ERR_INVALID,
		    "routing_policy: geo policies on the records of a CNAME RRset leave clients "
		    "of other countries no single target; give the RRset a geo policy with a "
		    "default instead");
	json_t *pol = json_pack("{s:s}", "type", kind);
	if (pol == NULL)
		return -ENOMEM;
	int r;
	if (strcmp(kind, "weighted") == 0)
		r = build_weighted(records, pol);
	else if (strcmp(kind, "geo") == 0)
		r = build_geo(records, pol);
	else
		r = build_failover(records, pol, err);
	if (r < 0) {
		json_decref(pol);
		return r == -ENOMEM ? errmsg_set(err, -ENOMEM, "out of memory") : r;
	}
	*ret = pol;
	return 0;
}
