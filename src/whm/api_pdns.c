/* The PowerDNS Authoritative HTTP API (4.7) over the whole cluster, in
 * PowerDNS's shapes, so the tools written for one pdns_server (lego,
 * external-dns, octoDNS, PowerDNS-Admin) see the cluster as one server
 * "localhost". Here: the discovery, server and config routes, the checks
 * of the path every route shares (api_pdns.h), and the zone list. One
 * zone (GET, POST, PATCH, DELETE) is in api_pdns_zone.c; its settings,
 * notify, export and the server's operations in api_pdns_ops.c; keys and
 * metadata in api_pdns_keys.c and api_pdns_meta.c. The data is the
 * controller's: every zone is served by every node, so each is listed
 * with kind "Native". docs/powerdns-api.md lists what is covered and
 * where it differs from PowerDNS on purpose. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "api_pdns.h"
#include "base/buf.h"
#include "base/err.h"
#include "dns/dns.h"
#include "pdns_shape.h"
#include "secondary.h"

/* What clients that parse it (octoDNS, the Terraform provider) compare
 * with: 4.7 makes them use SOA-EDIT-API and the rrsets of 4.x. */
#define PDNS_VERSION "4.7.4"

bool api_pdns_our_server(struct http_request *req, struct http_reply *rep)
{
	if (strcmp(http_request_param(req, 0), "localhost") == 0)
		return true;
	http_reply_error(rep, ERR_NOT_FOUND, "Not Found");
	return false;
}

int api_pdns_path_zone(struct http_request *req, struct http_reply *rep, struct store *st,
		       struct store_zone *z)
{
	char text[DNAME_TEXT_MAX], name[DNAME_TEXT_MAX];
	struct errmsg err;

	int r = dname_pdns_id_read(http_request_param(req, 1), text, &err);
	if (r == 0 && dname_zone_normalize(text, name, &err) < 0)
		r = ERR_INVALID;
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return r;
	}
	r = store_zone_get_by_name(st, name, z);
	if (r == 0 && z->deleted) {
		store_zone_clear(z);
		r = -ENOENT;
	}
	if (r < 0)
		http_reply_error(rep, r, r == -ENOENT ? "Not Found" : "cannot read the zone");
	return r;
}

json_t *api_pdns_zone_json(const struct store_zone *z, bool full, bool dnssec)
{
	char id[DNAME_PDNS_ID_MAX], url[sizeof(id) + 64];
	struct pdns_settings set;

	pdns_settings_read(z->pdns, &set);
	dname_pdns_id(z->domain, id);
	snprintf(url, sizeof(url), PDNS_SERVER_URL "/zones/%s", id);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:[],s:I,s:I,s:s}", "id", id, "url", url,
			      "name", z->domain, "kind", set.kind, "account", set.account, "serial",
			      (json_int_t)z->serial, "masters", "notified_serial", (json_int_t)0,
			      "last_check", (json_int_t)0, "catalog", "");
	if (o != NULL && dnssec) {
		json_object_set_new(o, "dnssec", json_boolean(z->dnssec));
		json_object_set_new(o, "edited_serial", json_integer(z->serial));
	}
	if (o != NULL && full) {
		json_t *more = json_pack("{s:b,s:[],s:b,s:s,s:[],s:s,s:s}", "api_rectify", 0,
					 "master_tsig_key_ids", "nsec3narrow", 0, "nsec3param", "",
					 "slave_tsig_key_ids", "soa_edit", "", "soa_edit_api",
					 set.soa_edit_api);
		if (more == NULL || json_object_update(o, more) < 0) {
			json_decref(o);
			o = NULL;
		}
		json_decref(more);
	}
	return o;
}

int api_pdns_masters_read(struct whm *w, const json_t *body, struct pdns_masters *ret,
			  struct errmsg *err)
{
	const json_t *m = json_object_get(body, "masters");
	const json_t *k = json_object_get(body, "master_tsig_key_ids");
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	ret->masters = m != NULL && !json_is_null(m);
	ret->keys = k != NULL && !json_is_null(k);
	if (ret->masters && !json_is_array(m))
		return errmsg_set(err, ERR_INVALID, "masters: a list of \"address[:port]\"");
	if (json_array_size(m) > 0)
		r = secondary_primaries_check(m, "masters", ret->primaries, sizeof(ret->primaries),
					      err);
	if (r == 0 && ret->keys &&
	    (!json_is_array(k) || json_array_size(k) > 1 ||
	     (json_array_size(k) == 1 && !json_is_string(json_array_get(k, 0)))))
		return errmsg_set(err, ERR_INVALID,
				  "master_tsig_key_ids: a list of at most one key name");
	if (r == 0 && json_array_size(k) == 1)
		r = secondary_tsig_check(w, json_string_value(json_array_get(k, 0)),
					 "master_tsig_key_ids[0]", ret->key, sizeof(ret->key), err);
	return r;
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
	if (api_pdns_our_server(req, rep))
		http_reply_json(rep, 200, server_json());
}

/* --- zones --------------------------------------------------------------- */

/* The zone list as it is sent: ZONES_PIECE zones per piece, read from the
 * store as they go, so 100,000 zones never sit in memory at once. */
#define ZONES_PIECE 500

struct zone_list {
	struct whm *w;
	int64_t after; /* the id of the last zone sent */
	uint64_t left; /* zones still to send; UINT64_MAX: all */
	bool dnssec;
	bool opened;	/* "[" sent */
	bool started;	/* a zone sent */
	unsigned count; /* in this piece */
	struct buf *out;
};

static int list_zone(const struct store_zone *z, void *ctx)
{
	struct zone_list *l = ctx;
	json_t *o = api_pdns_zone_json(z, false, l->dnssec);
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	int r = text != NULL ? 0 : -ENOMEM;

	json_decref(o);
	if (r == 0 && l->started)
		r = buf_puts(l->out, ",");
	if (r == 0)
		r = buf_puts(l->out, text);
	free(text);
	if (r < 0)
		return r;
	l->started = true;
	l->after = z->id;
	l->left--;
	return ++l->count == ZONES_PIECE || l->left == 0 ? 1 : 0;
}

static int zones_piece(void *ctx, struct buf *out)
{
	struct zone_list *l = ctx;
	struct store *st = whm_store(l->w);

	if (st == NULL)
		return -EIO;
	if (!l->opened && buf_puts(out, "[") < 0)
		return -ENOMEM;
	l->opened = true;
	l->out = out;
	l->count = 0;
	int r = l->left > 0 ? store_zone_foreach_after(st, false, l->after, list_zone, l) : 0;
	if (r < 0)
		return r;
	if (l->count == ZONES_PIECE && l->left > 0)
		return 1;
	return buf_puts(out, "]") < 0 ? -ENOMEM : 0;
}

/* The one zone ?zone= names, as a list of it or of nothing. */
static void reply_one_zone(struct store *st, struct http_reply *rep, const char *text, bool dnssec)
{
	char name[DNAME_TEXT_MAX];
	struct errmsg err;
	struct store_zone z;
	json_t *list = json_array();

	if (dname_zone_normalize(text, name, &err) < 0 || strcmp(text, name) != 0) {
		json_decref(list);
		http_reply_error(rep, ERR_INVALID,
				 "zone must be a canonical zone name (lowercase, with its "
				 "trailing dot)");
		return;
	}
	int r = store_zone_get_by_name(st, name, &z);
	if (r == 0) {
		if (!z.deleted &&
		    json_array_append_new(list, api_pdns_zone_json(&z, false, dnssec)) < 0)
			r = -ENOMEM;
		store_zone_clear(&z);
	}
	api_reply_list(rep, r == -ENOENT ? 0 : r, list, "cannot read the zone");
}

/* GET /api/v1/servers/localhost/zones[?zone=NAME][&dnssec=false]
 * [&limit=N][&after=NAME]: every live zone, or the one named (as in
 * PowerDNS, the name must be canonical, with its trailing dot). The list
 * is sent as it is read. limit and after page it (an addition: PowerDNS
 * has no paging): zones come in the order they were created, and after=
 * continues past the zone of that name. */
void api_pdns_zones(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	char text[DNAME_TEXT_MAX];
	bool dnssec = true;
	uint64_t limit = UINT64_MAX;

	if (!api_pdns_our_server(req, rep) || (st = api_store(w, rep)) == NULL ||
	    api_query_bool(req, rep, "dnssec", &dnssec) == ERR_INVALID ||
	    api_query_uint(req, rep, "limit", 1, 1000000, &limit) == ERR_INVALID)
		return;
	int r = http_request_query(req, "zone", text, sizeof(text));
	if (r != -ENOENT) {
		if (r < 0)
			http_reply_error(rep, ERR_INVALID, "zone is not a zone name");
		else
			reply_one_zone(st, rep, text, dnssec);
		return;
	}
	int64_t after = 0;
	r = http_request_query(req, "after", text, sizeof(text));
	if (r != -ENOENT) {
		struct store_zone z = { 0 };
		if (r == 0)
			r = store_zone_get_by_name(st, text, &z);
		if (r != 0) {
			http_reply_error(rep, ERR_INVALID,
					 r == -ENOENT ? "after: no zone of that name (give the "
							"name of the last zone of a page)"
						      : "after is not a zone name");
			return;
		}
		after = z.id;
		store_zone_clear(&z);
	}
	struct zone_list *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		http_reply_error(rep, -ENOMEM, "out of memory");
		return;
	}
	*l = (struct zone_list){ .w = w, .after = after, .left = limit, .dnssec = dnssec };
	http_reply_stream(rep, 200, NULL, zones_piece, free, l);
}

/* GET /api/v1/servers/localhost/config: the settings a PowerDNS client
 * reads, as the cluster has them. */
void api_pdns_config(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char ttl[24];

	if (!api_pdns_our_server(req, rep))
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
