/* The PowerDNS Authoritative HTTP API (4.7) over the whole cluster: the
 * discovery and server routes, and zones read and deleted in PowerDNS's
 * shapes, so the tools written for one pdns_server (lego, external-dns,
 * octoDNS, PowerDNS-Admin) see the cluster as one server "localhost".
 * The data is the controller's: every zone is served by every node, so
 * each is listed with kind "Native"; a change through this API is a zone
 * change like any other (zones.h). docs/powerdns-api.md lists what is
 * covered and where it differs from PowerDNS on purpose. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "base/buf.h"
#include "base/err.h"
#include "dns/dns.h"
#include "zones_soa.h"

/* What clients that parse it (octoDNS, the Terraform provider) compare
 * with: 4.7 makes them use SOA-EDIT-API and the rrsets of 4.x. */
#define PDNS_VERSION "4.7.4"
#define PDNS_SERVER_URL "/api/v1/servers/localhost"

/* Path parameter 0 of every /servers/:server route: only "localhost"
 * exists, as in PowerDNS; anything else is a 404. */
static bool our_server(struct http_request *req, struct http_reply *rep)
{
	if (strcmp(http_request_param(req, 0), "localhost") == 0)
		return true;
	http_reply_error(rep, ERR_NOT_FOUND, "Not Found");
	return false;
}

/* A zone id as PowerDNS writes it: the name with every byte outside
 * [A-Za-z0-9.-] as "=XX" (names here are A-labels, so only '_' and the
 * rare escaped byte need it). */
static void zone_id(const char *name, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0' && o + 4 < len; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '=';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The zone named by path parameter 1 (a zone id, "=XX" escapes undone, the
 * trailing dot optional as PowerDNS takes it): 0 with *z set (the caller
 * clears it), or an answered error: 400 for a broken escape, 422 for a
 * name that is not one, 404 for no such live zone. */
static int path_zone(struct http_request *req, struct http_reply *rep, struct store *st,
		     struct store_zone *z)
{
	const char *id = http_request_param(req, 1);
	char text[DNAME_TEXT_MAX], name[DNAME_TEXT_MAX];
	struct errmsg err;
	size_t o = 0;

	for (const char *p = id; *p != '\0'; p++) {
		int hi = p[0] == '=' ? hex_digit(p[1]) : 0, lo = hi >= 0 ? hex_digit(p[2]) : -1;
		if (p[0] == '=' && (hi < 0 || lo < 0)) {
			http_reply_error(rep, ERR_MALFORMED, "the zone id has a broken =XX escape");
			return ERR_MALFORMED;
		}
		if (o + 1 >= sizeof(text)) {
			http_reply_error(rep, ERR_INVALID, "the zone id is not a zone name");
			return ERR_INVALID;
		}
		if (p[0] == '=') {
			text[o++] = (char)(hi << 4 | lo);
			p += 2;
		} else {
			text[o++] = *p;
		}
	}
	text[o] = '\0';
	if (memchr(text, '\0', o) != NULL || dname_zone_normalize(text, name, &err) < 0) {
		http_reply_error(rep, ERR_INVALID, o > 0 ? err.text : "the zone id is empty");
		return ERR_INVALID;
	}
	int r = store_zone_get_by_name(st, name, z);
	if (r == 0 && z->deleted) {
		store_zone_clear(z);
		r = -ENOENT;
	}
	if (r < 0)
		http_reply_error(rep, r, r == -ENOENT ? "Not Found" : "cannot read the zone");
	return r;
}

/* The fields of a zone in a list ('full': those of GET one, without its
 * rrsets). With 'dnssec' false, as ?dnssec=false asks, the fields that
 * PowerDNS must compute per zone are left out (dnssec, edited_serial). */
static json_t *zone_json(const struct store_zone *z, bool full, bool dnssec)
{
	char id[3 * DNAME_TEXT_MAX + 1], url[sizeof(id) + 64];

	zone_id(z->domain, id, sizeof(id));
	snprintf(url, sizeof(url), PDNS_SERVER_URL "/zones/%s", id);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:[],s:I,s:I,s:s}", "id", id, "url", url,
			      "name", z->domain, "kind", "Native", "account", "", "serial",
			      (json_int_t)z->serial, "masters", "notified_serial", (json_int_t)0,
			      "last_check", (json_int_t)0, "catalog", "");
	if (o != NULL && dnssec) {
		json_object_set_new(o, "dnssec", json_boolean(z->dnssec));
		json_object_set_new(o, "edited_serial", json_integer(z->serial));
	}
	if (o != NULL && full) {
		json_t *more =
		    json_pack("{s:b,s:[],s:b,s:s,s:[],s:s,s:s}", "api_rectify", 0,
			      "master_tsig_key_ids", "nsec3narrow", 0, "nsec3param", "",
			      "slave_tsig_key_ids", "soa_edit", "", "soa_edit_api", "DEFAULT");
		if (more == NULL || json_object_update(o, more) < 0) {
			json_decref(o);
			o = NULL;
		}
		json_decref(more);
	}
	return o;
}

/* GET /api: the API versions. */
void api_pdns_discovery(struct http_request *req, struct http_reply *rep, void *ctx)
{
	(void)req;
	(void)ctx;
	http_reply_json(rep, 200, json_pack("[{s:s,s:i}]", "url", "/api/v1", "version", 1));
}

/* GET /api/v1: where the servers are. */
void api_pdns_v1(struct http_request *req, struct http_reply *rep, void *ctx)
{
	(void)req;
	(void)ctx;
	http_reply_json(
	    rep, 200,
	    json_pack("[{s:[],s:s}]", "api_features", "server_url", "/api/v1/servers{/server}"));
}

static json_t *server_json(void)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "Server", "id", "localhost",
			 "daemon_type", "authoritative", "version", PDNS_VERSION, "url",
			 PDNS_SERVER_URL, "zones_url", PDNS_SERVER_URL "/zones{/zone}",
			 "config_url", PDNS_SERVER_URL "/config{/config_setting}",
			 "autoprimaries_url", PDNS_SERVER_URL "/autoprimaries{/autoprimary}");
}

/* GET /api/v1/servers */
void api_pdns_servers(struct http_request *req, struct http_reply *rep, void *ctx)
{
	(void)req;
	(void)ctx;
	json_t *a = json_array();
	json_array_append_new(a, server_json());
	http_reply_json(rep, 200, a);
}

/* GET /api/v1/servers/:server */
void api_pdns_server(struct http_request *req, struct http_reply *rep, void *ctx)
{
	(void)ctx;
	if (our_server(req, rep))
		http_reply_json(rep, 200, server_json());
}

/* --- zones --------------------------------------------------------------- */

struct list_ctx {
	json_t *zones;
	bool dnssec;
};

static int list_zone(const struct store_zone *z, void *ctx)
{
	struct list_ctx *c = ctx;
	json_t *o = zone_json(z, false, c->dnssec);

	return o != NULL && json_array_append_new(c->zones, o) == 0 ? 0 : -ENOMEM;
}

/* GET /api/v1/servers/localhost/zones[?zone=NAME][&dnssec=false]: every
 * live zone, or the one named (as in PowerDNS, the name must be canonical,
 * with its trailing dot). */
void api_pdns_zones(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct list_ctx c = { .dnssec = true };
	char text[DNAME_TEXT_MAX], name[DNAME_TEXT_MAX];
	struct errmsg err;

	if (!our_server(req, rep) || (st = api_store(ctx, rep)) == NULL)
		return;
	if (api_query_bool(req, rep, "dnssec", &c.dnssec) == ERR_INVALID)
		return;
	c.zones = json_array();
	int r = http_request_query(req, "zone", text, sizeof(text));
	if (r == -ENOENT) {
		r = store_zone_foreach(st, false, list_zone, &c);
	} else if (r < 0 || dname_zone_normalize(text, name, &err) < 0 || strcmp(text, name) != 0) {
		json_decref(c.zones);
		http_reply_error(rep, ERR_INVALID,
				 "zone must be a canonical zone name (lowercase, with its "
				 "trailing dot)");
		return;
	} else {
		struct store_zone z;
		r = store_zone_get_by_name(st, name, &z);
		if (r == 0 && !z.deleted)
			r = list_zone(&z, &c);
		if (r == 0)
			store_zone_clear(&z);
		r = r == -ENOENT ? 0 : r;
	}
	api_reply_list(rep, r < 0 ? r : 0, c.zones, "cannot list the zones");
}

struct rrsets_ctx {
	const char *origin;
	const char *only_name; /* ?rrset_name, or NULL */
	const char *only_type; /* ?rrset_type, or NULL */
	json_t *rrsets;	       /* in the order first seen */
	json_t *index;	       /* "name/type" -> its rrset */
};

/* Add one record (absolute owner 'owner') to its RRset. */
static int add_rr(struct rrsets_ctx *c, const char *owner, const char *type, const char *content,
		  uint32_t ttl)
{
	char key[DNAME_TEXT_MAX + 32];

	if ((c->only_name != NULL && strcmp(owner, c->only_name) != 0) ||
	    (c->only_type != NULL && strcmp(type, c->only_type) != 0))
		return 0;
	snprintf(key, sizeof(key), "%s/%s", owner, type);
	json_t *set = json_object_get(c->index, key);
	if (set == NULL) {
		set = json_pack("{s:s,s:s,s:I,s:[],s:[]}", "name", owner, "type", type, "ttl",
				(json_int_t)ttl, "records", "comments");
		if (set == NULL || json_array_append_new(c->rrsets, set) < 0 ||
		    json_object_set(c->index, key, set) < 0)
			return -ENOMEM;
	}
	json_t *rr = json_pack("{s:s,s:b}", "content", content, "disabled", 0);
	return rr != NULL && json_array_append_new(json_object_get(set, "records"), rr) == 0
		   ? 0
		   : -ENOMEM;
}

/* A stored record in PowerDNS's terms: an absolute owner, and the MX and
 * SRV priority in front of the content. */
static int collect_rr(const struct store_record *rec, void *ctx)
{
	struct rrsets_ctx *c = ctx;
	char owner[DNAME_TEXT_MAX + DNAME_TEXT_MAX];
	bool prio = strcmp(rec->type, "MX") == 0 || strcmp(rec->type, "SRV") == 0;

	if (strcmp(rec->name, "@") == 0)
		snprintf(owner, sizeof(owner), "%s", c->origin);
	else
		snprintf(owner, sizeof(owner), "%s.%s", rec->name, c->origin);
	if (!prio)
		return add_rr(c, owner, rec->type, rec->content, rec->ttl);
	size_t len = strlen(rec->content) + 16;
	char *content = malloc(len);
	if (content == NULL)
		return -ENOMEM;
	snprintf(content, len, "%u %s", rec->priority, rec->content);
	int r = add_rr(c, owner, rec->type, content, rec->ttl);
	free(content);
	return r;
}

/* ?rrset_name, and ?rrset_type with it: the RRsets of that name (and
 * type). */
static int rrset_filter(struct http_request *req, struct http_reply *rep, const char *origin,
			char name[DNAME_TEXT_MAX], char type[16], struct rrsets_ctx *c)
{
	char text[DNAME_TEXT_MAX];
	struct errmsg err;
	int r = http_request_query(req, "rrset_name", text, sizeof(text));

	if (r == 0 && (dname_owner_normalize(text, origin, name, &err) < 0 ||
		       text[strlen(text) - 1] != '.')) {
		http_reply_error(rep, ERR_INVALID,
				 "rrset_name must be a name in the zone, with "
				 "its trailing dot");
		return ERR_INVALID;
	}
	c->only_name = r == 0 ? name : NULL;
	r = http_request_query(req, "rrset_type", text, sizeof(text));
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

/* GET /api/v1/servers/localhost/zones/:zone[?rrsets=false]
 * [&rrset_name=NAME&rrset_type=TYPE]: the zone with its RRsets, the SOA
 * as every node serves it. */
void api_pdns_zone_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_zone z;
	char name[DNAME_TEXT_MAX], type[16];
	bool rrsets = true;
	struct rrsets_ctx c = { 0 };

	if (!our_server(req, rep) || (st = api_store(w, rep)) == NULL ||
	    api_query_bool(req, rep, "rrsets", &rrsets) == ERR_INVALID ||
	    path_zone(req, rep, st, &z) < 0)
		return;
	c.origin = z.domain;
	int r = rrset_filter(req, rep, z.domain, name, type, &c);
	json_t *o = r == 0 ? zone_json(&z, true, true) : NULL;
	if (r == 0 && rrsets) {
		char soa[2 * DNAME_TEXT_MAX + 80];
		c.rrsets = json_array();
		c.index = json_object();
		r = c.rrsets != NULL && c.index != NULL ? 0 : -ENOMEM;
		if (r == 0)
			r = store_record_foreach(st, z.id, collect_rr, &c);
		zone_soa_text(w, &z, soa, sizeof(soa));
		if (r == 0)
			r = add_rr(&c, z.domain, "SOA", soa, (uint32_t)w->conf.soa_ttl);
		if (r == 0 && o != NULL)
			json_object_set(o, "rrsets", c.rrsets);
		if (r < 0)
			http_reply_error(rep, r, "cannot read the zone's records");
		json_decref(c.rrsets);
		json_decref(c.index);
	}
	if (r == 0)
		http_reply_json(rep, 200, o);
	else
		json_decref(o);
	store_zone_clear(&z);
}

/* DELETE /api/v1/servers/localhost/zones/:zone: 204; every node drops it. */
void api_pdns_zone_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_zone z;
	struct zone_result res;
	struct errmsg err = { "" };

	if (!our_server(req, rep) || !api_may_write(req, rep) || (st = api_store(w, rep)) == NULL ||
	    path_zone(req, rep, st, &z) < 0)
		return;
	int r = zones_delete(w, z.id, api_actor(req), &res, &err);
	store_zone_clear(&z);
	if (r < 0)
		api_reply_error(rep, r, err.text);
	else
		http_reply_text(rep, 204, NULL, "", 0);
}

/* GET /api/v1/servers/localhost/config: the settings a PowerDNS client
 * reads, as the cluster has them. */
void api_pdns_config(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char ttl[24];

	if (!our_server(req, rep))
		return;
	snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)w->conf.default_ttl);
	json_t *a = json_array();
	/* Sorted by name, as PowerDNS lists them. */
	const char *const settings[][2] = {
		{ "api", "yes" },
		{ "daemon-type", "authoritative" },
		{ "default-soa-edit", "" },
		{ "default-ttl", ttl },
		{ "launch", "yumna-dns" },
		{ "primary", "yes" },
		{ "version-string", PDNS_VERSION },
	};
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "name", settings[i][0], "type",
						   "ConfigSetting", "value", settings[i][1]));
	http_reply_json(rep, 200, a);
}
