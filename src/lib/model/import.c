/* Reading an import (import.h): zone files through zonefile_parse(), Route
 * 53 JSON here, every record through rr_parse() and into the panel's form;
 * the zone as a whole through model_push_parse(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "model/import.h"
#include "json/jsonx.h"

#define TYPE_SOA 6

/* Past ZONEFILE_ERRORS_MAX errors, one last entry says more follow and
 * the rest are dropped: a body of a million bad entries must not become a
 * million error objects. */
static int add_error(struct import_result *c, const char *key, json_t *where, const char *msg)
{
	size_t n = json_array_size(c->errors);
	if (n > ZONEFILE_ERRORS_MAX) {
		json_decref(where);
		return 0;
	}
	if (n == ZONEFILE_ERRORS_MAX) {
		json_decref(where);
		where = json_null();
		key = "line";
		msg = "more errors follow; fix these first";
	}
	json_t *e = json_pack("{s:o,s:s}", key, where, "message", msg);
	return e != NULL && json_array_append_new(c->errors, e) == 0 ? 0 : -ENOMEM;
}

/* The serial: the third field of canonical SOA text. */
static uint32_t soa_serial(const char *content)
{
	const char *p = content;
	for (int field = 0; field < 2 && p != NULL; field++) {
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	return p != NULL ? (uint32_t)strtoul(p, NULL, 10) : 0;
}

/* One validated record into the collection; 'where' (stolen) says where it
 * came from for errors. */
static int collect_rr(struct import_result *c, const struct rr *rr, const char *key, json_t *where)
{
	struct model_record mr;

	if (rr->type == TYPE_SOA) {
		const char *msg = NULL;
		if (strcmp(rr->owner, c->origin) != 0)
			msg = "an SOA is only allowed at the zone apex";
		else if (c->soa_seen)
			msg = "a second SOA";
		if (msg != NULL)
			return add_error(c, key, where, msg);
		c->soa_seen = true;
		c->soa_serial = soa_serial(rr->content);
		/* Kept for a caller that makes the file's SOA fields the
		 * zone's (zone_soa_from_rdata()), with where it was. */
		c->soa_rdata = strdup(rr->content);
		c->soa_where = where;
		return c->soa_rdata != NULL ? 0 : -ENOMEM;
	}
	json_decref(where);
	int r = model_record_from_rr(rr, c->origin, &mr);
	if (r < 0)
		return r;
	json_t *o =
	    json_pack("{s:s,s:s,s:s,s:I,s:I}", "name", mr.name, "type", mr.type, "content",
		      mr.content, "ttl", (json_int_t)mr.ttl, "priority", (json_int_t)mr.priority);
	model_record_clear(&mr);
	return o != NULL && json_array_append_new(c->records, o) == 0 ? 0 : -ENOMEM;
}

static int collect_bind(struct import_result *c, const struct zonefile *zf)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < zf->n_errs; i++)
		r = add_error(c, "line", json_integer((json_int_t)zf->errs[i].line),
			      zf->errs[i].text);
	if (r == 0 && zf->more_errs)
		r = add_error(c, "line", json_null(), "more errors follow; fix these first");
	for (size_t i = 0; r == 0 && i < zf->n; i++)
		r = collect_rr(c, &zf->rrs[i].rr, "line",
			       json_integer((json_int_t)zf->rrs[i].line));
	return r;
}

/* --- Route 53 ------------------------------------------------------------- */

static const char *const r53_keys[] = { "Name", "Type", "TTL", "ResourceRecords", NULL };
static const char *const r53_unsupported[] = {
	"AliasTarget",
	"SetIdentifier",
	"Weight",
	"Region",
	"GeoLocation",
	"Failover",
	"MultiValueAnswer",
	"HealthCheckId",
	"CidrRoutingConfig",
	"TrafficPolicyInstanceId",
	"GeoProximityLocation",
	NULL,
};

static int r53_rrset(struct import_result *c, const json_t *set, const char *path,
		     uint64_t default_ttl, size_t *count, size_t max)
{
	/* Room for a name in UTF-8, up to four bytes a character, that is
	 * not longer than a name once in A-labels. */
	char name[4 * DNAME_TEXT_MAX + 8], owner[DNAME_TEXT_MAX];
	struct errmsg err;
	const char *name_in, *type_text;
	uint64_t ttl = default_ttl;
	json_t *values;
	uint16_t type;
	struct errmsg derr;

	if (!json_is_object(set))
		return add_error(c, "path", json_string(path), "must be an object");
	for (const char *const *k = r53_unsupported; *k != NULL; k++) {
		if (json_object_get(set, *k) != NULL) {
			errmsg_set(&err, 0,
				   "%s: Route 53 aliases and routing policies have no equivalent "
				   "here; write plain records",
				   *k);
			return add_error(c, "path", json_string(path), err.text);
		}
	}
	int r = jsonx_check_keys(set, r53_keys, path, &err);
	if (r == 0)
		r = jsonx_get_str(set, "Name", true, path, &name_in, &err);
	if (r == 0)
		r = jsonx_get_str(set, "Type", true, path, &type_text, &err);
	if (r == 0 &&
	    (r = jsonx_get_uint(set, "TTL", false, 0, DNS_TTL_MAX, path, &ttl, &err)) == -ENOENT)
		r = 0;
	if (r == 0)
		r = jsonx_get_array(set, "ResourceRecords", true, path, &values, &err);
	if (r < 0)
		return r == -ENOMEM ? r : add_error(c, "path", json_string(path), err.text);
	/* Route 53 names are absolute, with or without the final dot, and
	 * write a leading '*' as \052. */
	size_t nl = strlen(name_in);
	const char *rest = name_in;
	if (strncmp(name_in, "\\052", 4) == 0) {
		rest = name_in + 4;
		nl -= 4;
	}
	int len = snprintf(name, sizeof(name), "%s%s%s", rest != name_in ? "*" : "", rest,
			   nl > 0 && rest[nl - 1] == '.' ? "" : ".");
	/* Cut short, it would lose its final dot and read as relative. */
	if (len < 0 || (size_t)len >= sizeof(name))
		return add_error(c, "path", json_string(path), "Name: too long for a domain name");
	if (dname_owner_normalize(name, c->origin, owner, &derr) < 0 ||
	    rr_type_parse(type_text, &type, &derr) < 0)
		return add_error(c, "path", json_string(path), derr.text);
	size_t i;
	json_t *v;
	json_array_foreach(values, i, v) {
		char vpath[ERRMSG_MAX];
		const char *value;
		struct rr rr;
		snprintf(vpath, sizeof(vpath), "%s.ResourceRecords[%zu]", path, i);
		if (!json_is_object(v) || json_object_size(v) != 1 ||
		    !json_is_string(json_object_get(v, "Value"))) {
			r = add_error(c, "path", json_string(vpath), "must be {\"Value\": string}");
			if (r < 0)
				return r;
			continue;
		}
		if (max > 0 && ++*count > max)
			return add_error(c, "path", json_string(vpath), "too many records");
		value = json_string_value(json_object_get(v, "Value"));
		r = rr_parse(owner, type, (uint32_t)ttl, value, c->origin, &rr, &derr);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			r = add_error(c, "path", json_string(vpath), derr.text);
		else
			r = collect_rr(c, &rr, "path", json_string(vpath));
		rr_clear(&rr);
		if (r < 0)
			return r;
	}
	return 0;
}

static int collect_route53(struct import_result *c, const char *text, size_t len,
			   uint64_t default_ttl, size_t max)
{
	struct errmsg err;
	json_t *doc, *sets = NULL;
	size_t count = 0;

	int r = jsonx_parse(text, len, &doc, &err);
	if (r < 0)
		return r == -ENOMEM ? r : add_error(c, "path", json_string("content"), err.text);
	if (json_is_array(doc))
		sets = doc;
	else if (json_is_object(doc))
		sets = json_object_get(doc, "ResourceRecordSets");
	if (!json_is_array(sets)) {
		json_decref(doc);
		return add_error(c, "path", json_string("content"),
				 "expected {\"ResourceRecordSets\": [...]}");
	}
	size_t i;
	json_t *set;
	json_array_foreach(sets, i, set) {
		char path[64];
		snprintf(path, sizeof(path), "ResourceRecordSets[%zu]", i);
		r = r53_rrset(c, set, path, default_ttl, &count, max);
		if (r < 0 || json_array_size(c->errors) > ZONEFILE_ERRORS_MAX)
			break;
	}
	json_decref(doc);
	return r;
}

json_t *import_error_line(const struct import_result *c, const char *msg)
{
	const struct zonefile *zf = &c->zf;
	const char *a = strchr(msg, '\''), *b = a ? strchr(a + 1, '\'') : NULL;
	if (b == NULL)
		return json_null();
	for (size_t i = 0; i < zf->n; i++) {
		const char *o = zf->rrs[i].rr.owner;
		if (strlen(o) == (size_t)(b - a - 1) && strncmp(o, a + 1, (size_t)(b - a - 1)) == 0)
			return json_integer((json_int_t)zf->rrs[i].line);
	}
	return json_null();
}

int import_add_zone_error(struct import_result *c, enum import_format fmt, const char *msg)
{
	json_t *e =
	    json_pack("{s:o,s:s}", fmt == IMPORT_BIND ? "line" : "path",
		      fmt == IMPORT_BIND ? import_error_line(c, msg) : json_null(), "message", msg);
	return e != NULL && json_array_append_new(c->errors, e) == 0 ? 0 : -ENOMEM;
}

int import_check_zone(struct import_result *c, enum import_format fmt,
		      const struct zone_limits *lim, const struct soa_defaults *soa)
{
	struct zone_push p;
	struct errmsg err;

	/* The push of version 1: its SOA is made from 'soa' (none of the
	 * records is one, collect_rr() kept it aside). */
	json_t *payload = json_pack("{s:{s:s,s:i,s:I},s:O}", "zone", "domain", c->origin, "version",
				    1, "serial", (json_int_t)c->soa_serial, "records", c->records);
	if (payload == NULL)
		return -ENOMEM;
	int r = model_push_parse(payload, lim, soa, &p, &err);
	json_decref(payload);
	if (r == 0) {
		zone_push_clear(&p);
		return 0;
	}
	return r == -ENOMEM ? r : import_add_zone_error(c, fmt, err.text);
}

int import_read(enum import_format fmt, const char *text, size_t len, const char *origin,
		uint64_t default_ttl, size_t max_records, struct import_result *ret)
{
	return import_read_flags(fmt, text, len, origin, default_ttl, max_records, 0, ret);
}

int import_read_flags(enum import_format fmt, const char *text, size_t len, const char *origin,
		      uint64_t default_ttl, size_t max_records, unsigned flags,
		      struct import_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->origin = origin;
	ret->records = json_array();
	ret->errors = json_array();
	int r = ret->records != NULL && ret->errors != NULL ? 0 : -ENOMEM;
	if (r == 0 && fmt == IMPORT_BIND) {
		r = zonefile_parse_flags(text, len, origin, (uint32_t)default_ttl, max_records,
					 (flags & IMPORT_PRESIGNED) ? ZONEFILE_PRESIGNED : 0,
					 &ret->zf);
		if (r == 0)
			r = collect_bind(ret, &ret->zf);
	} else if (r == 0) {
		r = collect_route53(ret, text, len, default_ttl, max_records);
	}
	if (r < 0)
		import_result_clear(ret);
	return r;
}

void import_result_clear(struct import_result *c)
{
	zonefile_clear(&c->zf);
	json_decref(c->records);
	json_decref(c->errors);
	json_decref(c->soa_where);
	free(c->soa_rdata);
	c->records = c->errors = c->soa_where = NULL;
	c->soa_rdata = NULL;
}
