#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "dns/zonefile.h"
#include "json/jsonx.h"
#include "store/store.h"
#include "transfer.h"
#include "zones_soa.h"

#define TYPE_SOA 6

/* What an import collects before anything is committed. */
struct collect {
	const char *origin;
	json_t *records; /* panel record objects, for zones_records_import */
	json_t *errors;	 /* [{"line"|"path", "message"}] */
	bool soa_seen;
	uint32_t soa_serial;
	bool keep_soa;	     /* the file's SOA fields become the zone's */
	struct zone_soa soa; /* with keep_soa: the file's */
	const struct whm *w;
};

/* Past ZONEFILE_ERRORS_MAX errors, one last entry says more follow and
 * the rest are dropped: a body of a million bad entries must not become a
 * million error objects. */
static int add_error(struct collect *c, const char *key, json_t *where, const char *msg)
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
static int collect_rr(struct collect *c, const struct rr *rr, const char *key, json_t *where)
{
	struct model_record mr;
	struct errmsg msgbuf;

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
		if (c->keep_soa && zone_soa_from_rdata(c->w, rr->content, &c->soa, &msgbuf) < 0)
			return add_error(c, key, where, msgbuf.text);
		json_decref(where);
		return 0;
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

static int collect_bind(struct collect *c, const struct zonefile *zf)
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

static int r53_rrset(struct collect *c, const json_t *set, const char *path, uint64_t default_ttl,
		     size_t *count, size_t max)
{
	char name[DNAME_TEXT_MAX + 8], owner[DNAME_TEXT_MAX];
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
	snprintf(name, sizeof(name), "%s%s%s", rest != name_in ? "*" : "", rest,
		 nl > 0 && rest[nl - 1] == '.' ? "" : ".");
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

static int collect_route53(struct collect *c, const char *text, size_t len, uint64_t default_ttl,
			   size_t max)
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

/* --- import --------------------------------------------------------------- */

/* A whole-zone error names an owner in quotes: point at its first line. */
static json_t *error_line(const struct zonefile *zf, const char *msg)
{
	const char *a = strchr(msg, '\''), *b = a ? strchr(a + 1, '\'') : NULL;
	if (zf == NULL || b == NULL)
		return json_null();
	for (size_t i = 0; i < zf->n; i++) {
		const char *o = zf->rrs[i].rr.owner;
		if (strlen(o) == (size_t)(b - a - 1) && strncmp(o, a + 1, (size_t)(b - a - 1)) == 0)
			return json_integer((json_int_t)zf->rrs[i].line);
	}
	return json_null();
}

int transfer_import(struct whm *w, int64_t zone_id, enum transfer_format fmt, const char *text,
		    size_t len, bool merge, bool keep_soa, const char *actor,
		    struct transfer_result *res, json_t **ret_errors, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	struct zonefile zf = { 0 };
	struct collect c = { 0 };
	int r;

	*ret_errors = NULL;
	memset(res, 0, sizeof(*res));
	r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	c.origin = z.domain;
	c.keep_soa = keep_soa;
	c.w = w;
	c.records = json_array();
	c.errors = json_array();
	if (c.records == NULL || c.errors == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (fmt == TRANSFER_BIND) {
		r = zonefile_parse(text, len, z.domain, (uint32_t)w->conf.default_ttl,
				   w->conf.max_zone_records, &zf);
		if (r == 0)
			r = collect_bind(&c, &zf);
	} else {
		r = collect_route53(&c, text, len, w->conf.default_ttl, w->conf.max_zone_records);
	}
	if (r == 0 && keep_soa && !c.soa_seen)
		r = add_error(&c, fmt == TRANSFER_BIND ? "line" : "path", json_null(),
			      "asked to keep the file's SOA, but it has none");
	if (r < 0)
		goto out;
	if (json_array_size(c.errors) > 0) {
		errmsg_set(err, 0, "%zu error%s in the %s; nothing was imported",
			   json_array_size(c.errors), json_array_size(c.errors) > 1 ? "s" : "",
			   fmt == TRANSFER_BIND ? "zone file" : "Route 53 data");
		*ret_errors = c.errors;
		c.errors = NULL;
		r = ERR_INVALID;
		goto out;
	}
	char soa[STORE_ZONE_SOA_MAX];
	if (keep_soa)
		zone_soa_write(&c.soa, soa);
	r = zones_records_import(w, zone_id, c.records, merge, c.soa_seen ? &c.soa_serial : NULL,
				 keep_soa ? soa : NULL, actor, &res->change, err);
	if (r == ERR_INVALID || r == ERR_TOO_LARGE) {
		/* The zone as a whole (CNAME next to other data, no apex NS...). */
		json_t *e =
		    json_pack("{s:o,s:s}", fmt == TRANSFER_BIND ? "line" : "path",
			      fmt == TRANSFER_BIND ? error_line(&zf, err->text) : json_null(),
			      "message", err->text);
		json_array_append_new(c.errors, e);
		*ret_errors = c.errors;
		c.errors = NULL;
		goto out;
	}
	if (r >= 0) {
		res->changed = r == 0;
		res->imported = json_array_size(c.records);
		res->soa_seen = c.soa_seen;
		res->soa_kept = keep_soa;
		res->soa_serial = c.soa_serial;
		r = 0;
	}
out:
	if (r == -ENOMEM)
		errmsg_set(err, 0, "out of memory");
	zonefile_clear(&zf);
	json_decref(c.records);
	json_decref(c.errors);
	store_zone_clear(&z);
	return r;
}

/* --- export --------------------------------------------------------------- */

static int export_record(struct buf *out, const json_t *o)
{
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *prio_sep = "";
	char prio[16] = "";
	if (strcmp(type, "MX") == 0 || strcmp(type, "SRV") == 0) {
		snprintf(prio, sizeof(prio), "%lld",
			 (long long)json_integer_value(json_object_get(o, "priority")));
		prio_sep = " ";
	}
	return buf_printf(out, "%s\t%lld\tIN\t%s\t%s%s%s\n",
			  json_string_value(json_object_get(o, "name")),
			  (long long)json_integer_value(json_object_get(o, "ttl")), type, prio,
			  prio_sep, json_string_value(json_object_get(o, "content")));
}

int transfer_export(struct whm *w, int64_t zone_id, struct buf *out, struct errmsg *err)
{
	struct store *st = whm_store(w);
	char domain[DNAME_TEXT_MAX];
	uint64_t version;
	bool deleted;
	json_t *payload;

	err->text[0] = '\0';
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	int r = zones_payload(w, st, zone_id, &payload, &version, &deleted, domain, sizeof(domain));
	if (r == -ENOENT || (r == 0 && deleted))
		return errmsg_set(err, ERR_NOT_FOUND, "no such zone");
	if (r < 0)
		return errmsg_set(err, r, "reading the zone: %s", err_str(r));
	json_t *records = json_object_get(payload, "records");
	r = buf_printf(out,
		       "; zone %s exported by yumna-whm (version %llu, serial %lld)\n"
		       "$ORIGIN %s\n$TTL %llu\n",
		       domain, (unsigned long long)version,
		       (long long)json_integer_value(
			   json_object_get(json_object_get(payload, "zone"), "serial")),
		       domain, (unsigned long long)w->conf.default_ttl);
	/* The SOA first, as RFC 1035 section 5.2 wants. */
	size_t i;
	json_t *o;
	json_array_foreach(records, i, o) {
		if (r == 0 && strcmp(json_string_value(json_object_get(o, "type")), "SOA") == 0)
			r = export_record(out, o);
	}
	json_array_foreach(records, i, o) {
		if (r == 0 && strcmp(json_string_value(json_object_get(o, "type")), "SOA") != 0)
			r = export_record(out, o);
	}
	json_decref(payload);
	if (r < 0)
		errmsg_set(err, 0, "the zone does not fit: %s", err_str(r));
	return r;
}
