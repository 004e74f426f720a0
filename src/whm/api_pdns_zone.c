/* PowerDNS's API (4.7) over the cluster, one zone: GET with its RRsets
 * (the SOA as every node serves it, the stored comments), POST to create
 * one (its records, SOA fields and settings, or a Slave zone's masters),
 * PATCH of its RRsets and DELETE. Each change is a zone change like any
 * other (zones.h), answered 204 as PowerDNS answers, or with ?wait=all
 * the change's version and each node's answer. docs/powerdns-api.md says
 * where they differ from PowerDNS. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "api_pdns.h"
#include "base/err.h"
#include "dns/dns.h"
#include "dnssec.h"
#include "json/jsonx.h"
#include "model/xfr.h"
#include "pdns_shape.h"
#include "secondary.h"
#include "zkeys.h"
#include "zones_soa.h"

/* A stored primary ("192.0.2.1:53", "[2001:db8::1]:53") as PowerDNS
 * shows a master: the address alone on port 53, else with its port
 * ("192.0.2.1:5300", "[2001:db8::1]:5300"), as a client gave it; a
 * client that compares what it sent sees no change. */
static json_t *master_json(const char *stored)
{
	struct xfr_primary p;
	struct errmsg err;
	char addr[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 16];

	if (xfr_primary_parse(stored, &p, &err) < 0)
		return json_string(stored);
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)&p.addr;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&p.addr;
	bool six = p.addr.ss_family == AF_INET6;
	unsigned port = ntohs(six ? v6->sin6_port : v4->sin_port);
	if (inet_ntop(p.addr.ss_family, six ? (const void *)&v6->sin6_addr : &v4->sin_addr, addr,
		      sizeof(addr)) == NULL)
		return json_string(stored);
	if (port == XFR_DEFAULT_PORT)
		snprintf(text, sizeof(text), "%s", addr);
	else
		snprintf(text, sizeof(text), six ? "[%s]:%u" : "%s:%u", addr, port);
	return json_string(text);
}

/* A Slave zone's "masters" and "master_tsig_key_ids" in 'o' (GET of one
 * zone), from its secondary settings (secondary.h). */
static void add_masters(struct whm *w, json_t *o, int64_t zone_id)
{
	json_t *sec = secondary_zone_json(w, zone_id), *masters = json_array(), *m;
	size_t i;

	if (sec == NULL || masters == NULL) {
		json_decref(sec);
		json_decref(masters);
		return;
	}
	json_array_foreach(json_object_get(sec, "primaries"), i, m)
		json_array_append_new(masters, master_json(json_string_value(m)));
	json_object_set_new(o, "masters", masters);
	/* As PowerDNS shows a zone its primary signs. */
	json_object_set(o, "presigned", json_object_get(sec, "presigned"));
	json_t *key = json_object_get(sec, "tsig_key");
	json_object_set_new(o, "master_tsig_key_ids",
			    json_is_string(key) ? json_pack("[O]", key) : json_array());
	json_decref(sec);
}

/* A Slave zone's creation: its "masters" (required) and the key of
 * "master_tsig_key_ids" (at most one) into 'init' ('m' holds the texts);
 * no records, which come from the masters. */
static int creation_masters(struct whm *w, const json_t *b, struct zone_init *init,
			    struct pdns_masters *m, struct errmsg *err)
{
	if (json_array_size(json_object_get(b, "rrsets")) > 0 ||
	    json_string_length(json_object_get(b, "zone")) > 0)
		return errmsg_set(err, ERR_INVALID,
				  "rrsets, zone: a Slave zone's data comes from its masters");
	int r = api_pdns_masters_read(w, b, m, err);
	if (r < 0)
		return r;
	if (m->primaries[0] == '\0')
		return errmsg_set(err, ERR_INVALID, "masters: a Slave zone has 1 to %d masters",
				  SECONDARY_PRIMARIES_MAX);
	init->primaries = m->primaries;
	init->tsig_key = m->key[0] != '\0' ? m->key : NULL;
	return 0;
}

struct rrsets_ctx {
	const char *origin;
	const char *only_name; /* ?rrset_name, or NULL */
	const char *only_type; /* ?rrset_type, or NULL */
	json_t *rrsets;	       /* in the order first seen */
	json_t *index;	       /* "name/type" -> its rrset */
};

/* The RRset 'owner' (absolute) 'type' of 'c', made (with 'ttl', no
 * records and no comments) if it is not there yet; NULL when the filters
 * leave it out, or without memory (*ret_r -ENOMEM). */
static json_t *rrset_of(struct rrsets_ctx *c, const char *owner, const char *type, uint32_t ttl,
			int *ret_r)
{
	char key[DNAME_TEXT_MAX + 32];

	*ret_r = 0;
	if ((c->only_name != NULL && strcmp(owner, c->only_name) != 0) ||
	    (c->only_type != NULL && strcmp(type, c->only_type) != 0))
		return NULL;
	snprintf(key, sizeof(key), "%s/%s", owner, type);
	json_t *set = json_object_get(c->index, key);
	if (set != NULL)
		return set;
	set = json_pack("{s:s,s:s,s:I,s:[],s:[]}", "name", owner, "type", type, "ttl",
			(json_int_t)ttl, "records", "comments");
	if (set == NULL || json_array_append_new(c->rrsets, set) < 0 ||
	    json_object_set(c->index, key, set) < 0) {
		*ret_r = -ENOMEM;
		return NULL;
	}
	return set;
}

/* Add one record (absolute owner 'owner') to its RRset. */
static int add_rr(struct rrsets_ctx *c, const char *owner, const char *type, const char *content,
		  uint32_t ttl, bool disabled)
{
	int r;
	json_t *set = rrset_of(c, owner, type, ttl, &r);

	if (set == NULL)
		return r;
	json_t *rr = json_pack("{s:s,s:b}", "content", content, "disabled", disabled);
	return rr != NULL && json_array_append_new(json_object_get(set, "records"), rr) == 0
		   ? 0
		   : -ENOMEM;
}

/* The absolute owner of 'name' as records name it ("@", "www", or already
 * absolute) in zone 'origin'. */
static void owner_of(const char *name, const char *origin, char *out, size_t len)
{
	if (strcmp(name, "@") == 0)
		snprintf(out, len, "%s", origin);
	else if (name[strlen(name) - 1] == '.') /* stored absolute (model.h) */
		snprintf(out, len, "%s", name);
	else
		snprintf(out, len, "%s.%s", name, origin);
}

/* A stored record in PowerDNS's terms: an absolute owner, and the MX and
 * SRV priority in front of the content. */
static int collect_rr(const struct store_record *rec, void *ctx)
{
	struct rrsets_ctx *c = ctx;
	char owner[DNAME_TEXT_MAX + DNAME_TEXT_MAX];
	bool prio = strcmp(rec->type, "MX") == 0 || strcmp(rec->type, "SRV") == 0;

	owner_of(rec->name, c->origin, owner, sizeof(owner));
	if (!prio)
		return add_rr(c, owner, rec->type, rec->content, rec->ttl, rec->disabled);
	size_t len = strlen(rec->content) + 16;
	char *content = malloc(len);
	if (content == NULL)
		return -ENOMEM;
	snprintf(content, len, "%u %s", rec->priority, rec->content);
	int r = add_rr(c, owner, rec->type, content, rec->ttl, rec->disabled);
	free(content);
	return r;
}

/* An RRset's stored comments into its RRset; one with comments and no
 * records is shown with none and TTL 0, as PowerDNS shows it. */
static int collect_comments(const char *name, const char *type, const char *content, void *ctx)
{
	struct rrsets_ctx *c = ctx;
	char owner[DNAME_TEXT_MAX + DNAME_TEXT_MAX];
	int r;

	owner_of(name, c->origin, owner, sizeof(owner));
	json_t *set = rrset_of(c, owner, type, 0, &r);
	if (set == NULL)
		return r;
	json_t *list = json_loads(content, 0, NULL);
	if (!json_is_array(list)) {
		json_decref(list);
		return 0; /* not ours to show */
	}
	return json_object_set_new(set, "comments", list) < 0 ? -ENOMEM : 0;
}

/* ?rrset_name, and ?rrset_type with it: the RRsets of that name (and
 * type). */
static int rrset_filter(struct http_request *req, struct http_reply *rep, const char *origin,
			char name[DNAME_TEXT_MAX], char type[16], struct rrsets_ctx *c)
{
	char text[DNAME_TEXT_MAX];
	struct errmsg err;
	int r = http_request_query(req, "rrset_name", text, sizeof(text));

	/* Present but unreadable (%00, too long): refused, not dropped. */
	if (r < 0 && r != -ENOENT) {
		http_reply_error(rep, ERR_INVALID,
				 "rrset_name is not a name (badly encoded or too long)");
		return ERR_INVALID;
	}
	if (r == 0 && (dname_owner_normalize(text, origin, name, &err) < 0 ||
		       text[strlen(text) - 1] != '.')) {
		http_reply_error(rep, ERR_INVALID,
				 "rrset_name must be a name in the zone, with "
				 "its trailing dot");
		return ERR_INVALID;
	}
	c->only_name = r == 0 ? name : NULL;
	r = http_request_query(req, "rrset_type", text, sizeof(text));
	if (r < 0 && r != -ENOENT) {
		http_reply_error(rep, ERR_INVALID, "rrset_type is not a record type");
		return ERR_INVALID;
	}
	if (r == 0 && strcasecmp(text, "SOA") == 0) {
		snprintf(type, 16, "SOA");
	} else if (r == 0) {
		uint16_t t;
		if (rr_type_parse(text, &t, &err) < 0) {
			http_reply_error(rep, ERR_INVALID, "rrset_type is not a record type");
			return ERR_INVALID;
		}
		snprintf(type, 16, "%s", rr_type_name(t));
	}
	c->only_type = r == 0 ? type : NULL;
	/* PowerDNS ignores a type without a name; a filter is not dropped here. */
	if (c->only_type != NULL && c->only_name == NULL) {
		http_reply_error(rep, ERR_INVALID, "rrset_type needs rrset_name");
		return ERR_INVALID;
	}
	return 0;
}

/* An answer to a change through this API: 204 as in PowerDNS, or with
 * ?wait=all (an addition) 200 with the change's version and serial and
 * each node's answer, as on the panel's routes. */
static void reply_done(struct whm *w, struct http_request *req, struct http_reply *rep,
		       const struct zone_result *res)
{
	char wait[8];

	if (http_request_query(req, "wait", wait, sizeof(wait)) != 0 || strcmp(wait, "all") != 0) {
		http_reply_text(rep, 204, NULL, "", 0);
		return;
	}
	json_t *j = json_pack("{s:I,s:I}", "version", (json_int_t)res->version, "serial",
			      (json_int_t)res->serial);
	if (j != NULL)
		api_wait_nodes(w, req, res, j);
	http_reply_json(rep, 200, j);
}

/* Answer 'status' with zone 'z' as PowerDNS shows one zone: with its
 * RRsets (those 'c' lets through; the SOA as every node serves it) unless
 * 'rrsets' is false; after change 'res' (or NULL) with ?wait=all also
 * "synced" and each node's answer (an addition). */
static void reply_zone(struct whm *w, struct http_request *req, struct store *st,
		       const struct store_zone *z, unsigned status, bool rrsets,
		       struct rrsets_ctx *c, const struct zone_result *res, struct http_reply *rep)
{
	char soa[2 * DNAME_TEXT_MAX + 80];
	json_t *o = api_pdns_zone_json(z, true, true);
	int r = o != NULL ? 0 : -ENOMEM;

	if (o != NULL)
		add_masters(w, o, z->id);
	c->origin = z->domain;
	struct store_dnssec d;
	if (r == 0 && z->dnssec && store_dnssec_get(st, z->id, &d) == 0) {
		const char *param = d.enabled ? zkeys_nsec3param(&d) : NULL;
		if (param != NULL)
			json_object_set_new(o, "nsec3param", json_string(param));
		store_dnssec_clear(&d);
	}
	if (r == 0 && rrsets) {
		c->rrsets = json_array();
		c->index = json_object();
		r = c->rrsets != NULL && c->index != NULL ? 0 : -ENOMEM;
		if (r == 0)
			r = store_record_foreach(st, z->id, collect_rr, c);
		zone_soa_text(w, z, soa, sizeof(soa));
		if (r == 0)
			r = add_rr(c, z->domain, "SOA", soa, (uint32_t)w->conf.soa_ttl, false);
		if (r == 0)
			r = store_comment_foreach(st, z->id, collect_comments, c);
		if (r == 0)
			r = json_object_set(o, "rrsets", c->rrsets) < 0 ? -ENOMEM : 0;
		json_decref(c->rrsets);
		json_decref(c->index);
	}
	if (r == 0 && res != NULL)
		api_wait_nodes(w, req, res, o);
	if (r == 0) {
		http_reply_json(rep, status, o);
	} else {
		json_decref(o);
		http_reply_error(rep, r, "cannot read the zone's records");
	}
}

/* GET /api/v1/servers/localhost/zones/:zone[?rrsets=false]
 * [&rrset_name=NAME&rrset_type=TYPE]: the zone with its RRsets. */
void api_pdns_zone_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_zone z;
	char name[DNAME_TEXT_MAX], type[16];
	bool rrsets = true;
	struct rrsets_ctx c = { 0 };

	if (!api_pdns_our_server(req, rep) || (st = api_store(w, rep)) == NULL ||
	    api_query_bool(req, rep, "rrsets", &rrsets) == ERR_INVALID ||
	    api_pdns_path_zone(req, rep, st, &z) < 0)
		return;
	if (rrset_filter(req, rep, z.domain, name, type, &c) == 0)
		reply_zone(w, req, st, &z, 200, rrsets, &c, NULL, rep);
	store_zone_clear(&z);
}

/* The records of a new zone from a creation body for zone 'origin' into
 * 'pr': its "rrsets", or its "zone" as BIND text; "nameservers" as apex NS
 * records, or the cluster's NS records when the zone would have none. */
static int creation_records(const struct whm *w, const json_t *b, const char *origin,
			    struct pdns_records *pr, struct errmsg *err)
{
	json_t *ns = json_object_get(b, "nameservers"), *text = json_object_get(b, "zone"), *v;
	json_t *rrsets = json_object_get(b, "rrsets");
	size_t i;
	int r;

	/* null is none, as PowerDNS reads it: Go clients send null for a
	 * nil list. */
	if (json_is_null(ns))
		ns = NULL;
	if (json_is_null(text))
		text = NULL;
	if (json_is_null(rrsets))
		rrsets = NULL;
	if (ns != NULL && !json_is_array(ns))
		return errmsg_set(err, ERR_INVALID, "nameservers: must be a list of names");
	if (text != NULL && !json_is_string(text))
		return errmsg_set(err, ERR_INVALID, "zone: must be a zone file as text");
	if (json_string_length(text) == 0)
		text = NULL; /* "" is no zone text, as in PowerDNS */
	if (text != NULL && json_array_size(rrsets) > 0)
		return errmsg_set(err, ERR_INVALID, "rrsets and zone: give one of them, not both");
	if (text != NULL)
		r = pdns_zone_text_read(json_string_value(text), json_string_length(text), origin,
					w->conf.default_ttl, w->conf.max_zone_records, pr, err);
	else
		r = pdns_rrsets_read(rrsets, origin, pr, err);
	if (r < 0)
		return r;
	if (json_array_size(pr->records) > w->conf.max_zone_records)
		return errmsg_set(err, ERR_TOO_LARGE, "more than %llu records",
				  (unsigned long long)w->conf.max_zone_records);
	if (json_array_size(ns) > 0 && pr->apex_ns)
		return errmsg_set(err, ERR_INVALID,
				  "nameservers: must not be given with an NS RRset at the apex");
	json_array_foreach(ns, i, v) {
		char what[48];
		if (!json_is_string(v))
			return errmsg_set(err, ERR_INVALID, "nameservers[%zu]: must be a name", i);
		/* As PowerDNS: "Nameserver is not canonical", not made relative. */
		snprintf(what, sizeof(what), "nameservers[%zu]", i);
		if (pdns_canonical(what, json_string_value(v), err) < 0)
			return ERR_INVALID;
		if (json_array_append_new(pr->records,
					  json_pack("{s:s,s:s,s:O,s:I}", "name", origin, "type",
						    "NS", "content", v, "ttl",
						    (json_int_t)w->conf.default_ttl)) < 0)
			return -ENOMEM;
		pr->apex_ns = true;
	}
	for (i = 0; !pr->apex_ns && i < w->n_default_ns; i++)
		if (json_array_append_new(pr->records,
					  json_pack("{s:s,s:s,s:s,s:I}", "name", origin, "type",
						    "NS", "content", w->default_ns[i], "ttl",
						    (json_int_t)w->conf.default_ttl)) < 0)
			return -ENOMEM;
	return 0;
}

/* POST /api/v1/servers/localhost/zones[?rrsets=false]: a new zone, with
 * its records, SOA fields and settings, in one version; 201 with the zone
 * as GET shows it. Keys PowerDNS ignores are ignored; "serial" too (as
 * PowerDNS, the serial is the server's). */
void api_pdns_zone_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct errmsg err = { "" };
	struct pdns_settings set;
	struct pdns_records pr = { 0 };
	struct zone_result res;
	char origin[DNAME_TEXT_MAX], soa[STORE_ZONE_SOA_MAX], stored[STORE_ZONE_PDNS_MAX];
	const char *name, *kind;
	bool rrsets = true;
	json_t *b;

	if (!api_pdns_our_server(req, rep) || !api_may_write(req, rep) ||
	    (st = api_store(w, rep)) == NULL ||
	    api_query_bool(req, rep, "rrsets", &rrsets) == ERR_INVALID ||
	    api_body_object(req, rep, &b) < 0)
		return;
	if (!api_raw_lua_allowed(w, req, rep, b)) {
		json_decref(b);
		return;
	}
	pdns_settings_read("", &set);
	int r = jsonx_get_str(b, "name", true, "body", &name, &err);
	if (r == 0)
		r = pdns_canonical("name", name, &err);
	if (r == 0 && dname_zone_normalize(name, origin, &err) < 0)
		r = ERR_INVALID;
	if (r == 0)
		r = jsonx_get_str(b, "kind", true, "body", &kind, &err);
	if (r == 0)
		r = pdns_settings_apply(b, &set, &err);
	int sign = -1;
	json_t *how = NULL;
	if (r == 0)
		r = pdns_dnssec_wanted(b, &sign, &how, &err);
	if (r == 0 && how != NULL && sign != 1)
		r = errmsg_set(&err, ERR_INVALID, "nsec3param: needs \"dnssec\": true");
	struct pdns_masters masters;
	struct zone_init init = { 0 };
	bool slave = strcmp(set.kind, "Slave") == 0;
	if (r == 0 && slave && sign == 1)
		r = errmsg_set(&err, ERR_INVALID,
			       "dnssec: a Slave zone is served as its masters sign it");
	if (r == 0 && slave)
		r = creation_masters(w, b, &init, &masters, &err);
	else if (r == 0)
		r = creation_records(w, b, origin, &pr, &err);
	init.records = pr.records;
	init.comments = pr.comments;
	/* Names in "rrsets" and "nameservers" content are absolute, as PowerDNS
	 * takes them; zone text ("zone") has its own origin rules. */
	if (json_string_length(json_object_get(b, "zone")) == 0)
		init.record_flags = MODEL_ABSOLUTE;
	if (r == 0 && pr.soa_rdata != NULL) {
		struct zone_soa own;
		struct errmsg serr;
		r = zone_soa_from_rdata(w, pr.soa_rdata, &own, &serr);
		if (r < 0) {
			errmsg_set(&err, r, "the SOA: %s", serr.text);
		} else {
			zone_soa_write(&own, soa);
			init.soa = soa;
		}
	}
	pdns_settings_write(&set, stored);
	init.pdns = stored;
	if (r == 0)
		r = zones_create_with(w, origin, 0, 0, &init, api_actor(req), &res, &err);
	/* Signed as asked, through the cluster's key authority: a second
	 * version, as a sign is for any zone. */
	if (r == 0 && sign == 1) {
		json_t *view = NULL;
		r = signing_sign(w, res.zone_id, how, api_actor(req), &res, &view, &err);
		json_decref(view);
		if (r < 0)
			errmsg_set(&err, r, "the zone was created, but not signed: %s", err.text);
	}
	json_decref(how);
	pdns_records_clear(&pr);
	json_decref(b);
	if (r < 0) {
		api_reply_error(rep, r, err.text);
		return;
	}
	if (slave)
		(void)secondary_retrieve(w, res.zone_id, &err);
	struct store_zone z;
	struct rrsets_ctx c = { 0 };
	r = store_zone_get(st, res.zone_id, &z);
	if (r < 0) {
		http_reply_error(rep, r, "the zone was created but cannot be read back");
		return;
	}
	reply_zone(w, req, st, &z, 201, rrsets, &c, &res, rep);
	store_zone_clear(&z);
}

/* One RRset change of a PATCH as the zones service takes it: the keys it
 * knows (others, like the "kind" lego sends, are ignored as PowerDNS
 * ignores them), the name canonical. */
static int patch_change(const json_t *in, size_t i, json_t *out, struct errmsg *err)
{
	static const char *const keys[] = { "name", "type", "ttl", "changetype", NULL };
	json_t *set, *records = json_object_get(in, "records"), *rec;
	json_t *comments = json_object_get(in, "comments");
	const char *name = json_string_value(json_object_get(in, "name"));
	size_t j;

	if (!json_is_object(in))
		return errmsg_set(err, ERR_INVALID, "rrsets[%zu]: must be an object", i);
	/* "records": null is no records given, as PowerDNS reads it (Go
	 * clients send null for an empty list): a change of comments alone. */
	if (json_is_null(records))
		records = NULL;
	char what[48];
	snprintf(what, sizeof(what), "rrsets[%zu].name", i);
	if (name != NULL && pdns_canonical(what, name, err) < 0)
		return ERR_INVALID;
	set = json_object();
	if (set == NULL || json_array_append_new(out, set) < 0)
		return -ENOMEM;
	for (unsigned k = 0; keys[k] != NULL; k++)
		if (json_object_get(in, keys[k]) != NULL &&
		    json_object_set(set, keys[k], json_object_get(in, keys[k])) < 0)
			return -ENOMEM;
	/* PowerDNS reads the changetype in any case ("replace"); the zones
	 * service, as the panel's route, takes it in capitals. */
	const char *op = json_string_value(json_object_get(in, "changetype"));
	bool del = op != NULL && strcasecmp(op, "DELETE") == 0;
	if ((del || (op != NULL && strcasecmp(op, "REPLACE") == 0)) &&
	    json_object_set_new(set, "changetype", json_string(del ? "DELETE" : "REPLACE")) < 0)
		return -ENOMEM;
	/* A DELETE's records, comments and TTL mean nothing (lego sends a
	 * TTL): it removes the RRset's records and comments. */
	if (del) {
		json_object_del(set, "ttl");
		return 0;
	}
	/* Records without a TTL: PowerDNS refuses them (even an empty list);
	 * the panel's route would give them the default TTL. */
	const json_t *ttl = json_object_get(in, "ttl");
	if (records != NULL && (ttl == NULL || json_is_null(ttl)))
		return errmsg_set(err, ERR_INVALID,
				  "rrsets[%zu]: Key 'ttl' not an Integer or not present", i);
	/* Checked by the zones service, as on the panel's route. */
	if (comments != NULL && json_object_set(set, "comments", comments) < 0)
		return -ENOMEM;
	/* None, or not a list: the zones service says what is wrong. */
	if (records == NULL)
		return 0;
	if (!json_is_array(records))
		return json_object_set(set, "records", records) < 0 ? -ENOMEM : 0;
	json_t *list = json_array();
	if (list == NULL || json_object_set_new(set, "records", list) < 0)
		return -ENOMEM;
	json_array_foreach(records, j, rec) {
		json_t *o = json_object();
		if (o == NULL || json_array_append_new(list, o) < 0)
			return -ENOMEM;
		if (!json_is_object(rec))
			return errmsg_set(err, ERR_INVALID,
					  "rrsets[%zu].records[%zu]: must be an object", i, j);
		if (json_object_set(o, "content", json_object_get(rec, "content")) < 0 ||
		    (json_object_get(rec, "disabled") != NULL &&
		     json_object_set(o, "disabled", json_object_get(rec, "disabled")) < 0))
			return errmsg_set(err, ERR_INVALID,
					  "rrsets[%zu].records[%zu].content: required", i, j);
	}
	return 0;
}

/* PATCH /api/v1/servers/localhost/zones/:zone {"rrsets": [...]}: RRsets
 * replaced and deleted as one version or not at all; 204. Other keys of
 * the body (external-dns sends a whole zone) are ignored, as in PowerDNS. */
void api_pdns_zone_patch(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_zone z;
	struct zone_result res;
	struct errmsg err = { "" };
	json_t *b, *in, *set, *changes = json_array();
	size_t i;

	if (!api_pdns_our_server(req, rep) || !api_may_write(req, rep) ||
	    (st = api_store(w, rep)) == NULL || api_body_object(req, rep, &b) < 0) {
		json_decref(changes);
		return;
	}
	if (!api_raw_lua_allowed(w, req, rep, b) || api_pdns_path_zone(req, rep, st, &z) < 0) {
		json_decref(changes);
		json_decref(b);
		return;
	}
	int r = jsonx_get_array(b, "rrsets", true, "body", &in, &err);
	json_array_foreach(in, i, set) {
		if (r < 0)
			break;
		r = patch_change(set, i, changes, &err);
	}
	/* Nothing to change: nothing changes (PowerDNS answers 204 too). */
	bool nothing = json_array_size(changes) == 0;
	if (r == 0 && !nothing)
		r = zones_rrsets_patch(w, z.id, changes, 0, MODEL_ABSOLUTE, api_actor(req), &res,
				       &err);
	json_decref(changes);
	json_decref(b);
	store_zone_clear(&z);
	if (r < 0)
		api_reply_error(rep, r, err.text);
	else if (nothing)
		http_reply_text(rep, 204, NULL, "", 0);
	else
		reply_done(w, req, rep, &res);
}

/* DELETE /api/v1/servers/localhost/zones/:zone: 204; every node drops it. */
void api_pdns_zone_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_zone z;
	struct zone_result res;
	struct errmsg err = { "" };

	if (!api_pdns_our_server(req, rep) || !api_may_write(req, rep) ||
	    (st = api_store(w, rep)) == NULL || api_pdns_path_zone(req, rep, st, &z) < 0)
		return;
	int r = zones_delete(w, z.id, api_actor(req), &res, &err);
	store_zone_clear(&z);
	if (r < 0)
		api_reply_error(rep, r, err.text);
	else
		reply_done(w, req, rep, &res);
}
