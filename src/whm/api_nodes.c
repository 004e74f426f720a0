/* The node routes: servers (the nodes as the store keeps them), joining
 * and leaving the cluster, and pushes on demand. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "base/err.h"
#include "base/secret.h"
#include "json/jsonx.h"
#include "nodes.h"

/* --- servers ------------------------------------------------------------------ */

void api_servers_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = api_store(ctx, rep);
	json_t *out = NULL;

	if (st == NULL)
		return;
	int r = nodes_list(st, &out);
	api_reply_list(rep, r, out, "cannot list servers");
}

static const char *const server_keys[] = { "name",	 "hostname",	 "ip",
					   "agent_port", "agent_secret", NULL };

/* Read and check a server body into 's' (strings borrowed from 'b'); with
 * 'partial' the fields it leaves out keep their values in 's'. */
static int server_from_body(const json_t *b, struct store_server *s, bool partial,
			    struct errmsg *err)
{
	const char *name = s->name, *host = s->hostname, *ip = s->ip, *secret = s->agent_secret;
	uint64_t port = s->agent_port;
	unsigned char bin[16];

	int r = jsonx_check_keys(b, server_keys, "body", err);
	if (r == 0 && (r = jsonx_get_str(b, "name", !partial, "body", &name, err)) == -ENOENT)
		r = 0;
	if (r == 0 && (r = jsonx_get_str(b, "hostname", false, "body", &host, err)) == -ENOENT)
		r = 0;
	if (r == 0 && (r = jsonx_get_str(b, "ip", !partial, "body", &ip, err)) == -ENOENT)
		r = 0;
	if (r == 0 && (r = jsonx_get_uint(b, "agent_port", !partial, 1, 65535, "body", &port,
					  err)) == -ENOENT)
		r = 0;
	if (r == 0 &&
	    (r = jsonx_get_str(b, "agent_secret", !partial, "body", &secret, err)) == -ENOENT)
		r = 0;
	if (r < 0)
		return r;
	if (name == NULL || !api_printable(name, 1, 63, " /\\'\"")) {
		errmsg_set(
		    err, 0,
		    "body.name: 1 to 63 printable ASCII characters, no spaces, slashes or quotes");
		return ERR_INVALID;
	}
	if (ip == NULL || (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1))
		return errmsg_set(err, ERR_INVALID,
				  "body.ip: must be a numeric IPv4 or IPv6 address");
	if (secret == NULL || strlen(secret) < SECRET_AGENT_MIN ||
	    strlen(secret) > SECRET_AGENT_MAX || strpbrk(secret, "\r\n") != NULL) {
		return errmsg_set(err, ERR_INVALID,
				  "body.agent_secret: %d to %d characters, on one line",
				  SECRET_AGENT_MIN, SECRET_AGENT_MAX);
	}
	if (host != NULL && !api_printable(host, 0, 255, " '\""))
		return errmsg_set(
		    err, ERR_INVALID,
		    "body.hostname: at most 255 printable ASCII characters, no spaces");
	s->name = (char *)name;
	s->hostname = (char *)(host ? host : name);
	s->ip = (char *)ip;
	s->agent_port = (uint32_t)port;
	s->agent_secret = (char *)secret;
	return 0;
}

void api_server_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct errmsg err;
	struct store_server s = { .status = "unknown", .pdns_version = "", .last_error = "" };
	json_t *b;

	bool check = true;

	if (!api_may_write(req, rep) || (st = api_store(ctx, rep)) == NULL ||
	    api_query_bool(req, rep, "check", &check) == ERR_INVALID ||
	    api_body_object(req, rep, &b) < 0)
		return;
	int r = server_from_body(b, &s, false, &err);
	if (r == 0)
		r = nodes_create(ctx, st, &s, check, api_actor(req), &err);
	if (r < 0) {
		json_decref(b);
		api_reply_error(rep, r, err.text);
		return;
	}
	json_t *out = nodes_server_json(&s);
	json_decref(b);
	http_reply_json(rep, 201, out);
}

void api_server_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = api_store(ctx, rep);
	struct store_server s;
	int64_t id;
	if (st == NULL || api_path_id(req, rep, 0, &id) < 0)
		return;
	int r = store_server_get(st, id, &s);
	if (r < 0) {
		http_reply_error(rep, r, "no such server");
		return;
	}
	http_reply_json(rep, 200, nodes_server_json(&s));
	store_server_clear(&s);
}

/* The body of a PUT over the server as stored (nodes_edit_fn). */
static int edit_from_body(struct store_server *s, void *ctx, struct errmsg *err)
{
	return server_from_body(ctx, s, true, err);
}

void api_server_update(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct errmsg err;
	int64_t id;
	json_t *b, *out = NULL;

	bool check = true;

	if (!api_may_write(req, rep) || (st = api_store(ctx, rep)) == NULL ||
	    api_path_id(req, rep, 0, &id) < 0 ||
	    api_query_bool(req, rep, "check", &check) == ERR_INVALID ||
	    api_body_object(req, rep, &b) < 0)
		return;
	int r = nodes_update(ctx, st, id, edit_from_body, b, check, api_actor(req), &out, &err);
	if (r < 0)
		api_reply_error(rep, r, err.text);
	else
		http_reply_json(rep, 200, out);
	json_decref(b);
}

/* DELETE of a server (unregister) or of a cluster node: ?purge= (default
 * 'purge'), ?force=, one service call, and the answer with what became of
 * the zones the node held. */
static void remove_server(struct http_request *req, struct http_reply *rep, void *ctx,
			  bool unregister, bool purge)
{
	struct store *st;
	struct store_server s;
	struct errmsg err;
	struct nodes_removed out;
	struct nodes_removal how = { purge, false, unregister };
	int64_t id;

	if (!api_may_write(req, rep) || (st = api_store(ctx, rep)) == NULL ||
	    api_path_id(req, rep, 0, &id) < 0 ||
	    api_query_bool(req, rep, "purge", &how.purge) == ERR_INVALID ||
	    api_query_bool(req, rep, "force", &how.force) == ERR_INVALID)
		return;
	int r = nodes_remove(ctx, st, id, &how, api_actor(req), &s, &out, &err);
	if (r < 0) {
		api_reply_error(rep, r, err.text);
		return;
	}
	json_t *j = json_pack("{s:b,s:s,s:b,s:I}", "success", 1, "message",
			      unregister ? "server deleted" : "node left the cluster", "purged",
			      out.purged, "zonesDeleted", (json_int_t)out.zones_deleted);
	if (!unregister)
		json_object_set_new(j, "node", nodes_server_json(&s));
	if (out.warning[0] != '\0') {
		json_object_set_new(j, "zonesKept", json_integer((json_int_t)out.zones_kept));
		json_object_set_new(j, "warning", json_string(out.warning));
	}
	store_server_clear(&s);
	http_reply_json(rep, 200, j);
}

/* A server removed from the registry has its zones deleted unless asked
 * not to (?purge=false): otherwise it would go on serving them, frozen. */
void api_server_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	remove_server(req, rep, ctx, true, true);
}

/* --- the cluster ---------------------------------------------------------------- */

void api_cluster_node_add(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct store_server s;
	struct errmsg err;
	int64_t id;

	if (!api_may_write(req, rep) || (st = api_store(ctx, rep)) == NULL ||
	    api_path_id(req, rep, 0, &id) < 0)
		return;
	int r = nodes_join(ctx, st, id, api_actor(req), &s, &err);
	if (r < 0) {
		api_reply_error(rep, r, err.text);
		return;
	}
	json_t *out = json_pack("{s:b,s:s,s:o}", "success", 1, "message",
				"node joined the cluster; a full sync is under way", "node",
				nodes_server_json(&s));
	store_server_clear(&s);
	http_reply_json(rep, 200, out);
}

/* Leaving the cluster keeps the zones on the node unless ?purge=1, as the
 * panel's route always did; the answer warns when it keeps some. */
void api_cluster_node_remove(struct http_request *req, struct http_reply *rep, void *ctx)
{
	remove_server(req, rep, ctx, false, false);
}

/* Push one zone to every node now and report each node. */
void api_cluster_sync_zone(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct store_zone z;
	struct errmsg err;
	int64_t id;
	json_t *nodes = NULL;

	if (!api_may_write(req, rep) || (st = api_store(ctx, rep)) == NULL ||
	    api_path_id(req, rep, 0, &id) < 0)
		return;
	int r = nodes_push_zone(ctx, st, id, api_actor(req), &z, &nodes, &err);
	if (r < 0) {
		api_reply_error(rep, r, err.text);
		return;
	}
	size_t ok = api_count_true(nodes, "success");
	http_reply_json(rep, 200,
			json_pack("{s:b,s:s,s:o,s:I,s:I,s:I}", "success", 1, "zone", z.domain,
				  "results", nodes, "totalNodes",
				  (json_int_t)json_array_size(nodes), "successCount",
				  (json_int_t)ok, "version", (json_int_t)z.version));
	store_zone_clear(&z);
}

/* POST /api/dns/:id/notify: every node sends a DNS NOTIFY for the zone to
 * its secondaries; 502 with each node's answer unless every node did. */
void api_zone_notify(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct store_zone z;
	struct errmsg err;
	int64_t id;
	size_t ok = 0;
	json_t *nodes = NULL;

	if (!api_may_write(req, rep) || (st = api_store(ctx, rep)) == NULL ||
	    api_path_id(req, rep, 0, &id) < 0)
		return;
	int r = nodes_notify_zone(ctx, st, id, api_actor(req), &z, &nodes, &ok, &err);
	if (r < 0) {
		api_reply_error(rep, r, err.text);
		return;
	}
	size_t total = json_array_size(nodes);
	char msg[160];
	snprintf(msg, sizeof(msg), "%zu of %zu nodes sent the NOTIFY", ok, total);
	bool all = ok == total;
	json_t *j = json_pack("{s:b,s:I,s:s,s:o,s:I,s:I}", "success", all, "zoneId", (json_int_t)id,
			      "zone", z.domain, "nodes", nodes, "totalNodes", (json_int_t)total,
			      "successCount", (json_int_t)ok);
	json_object_set_new(j, all ? "message" : "error", json_string(msg));
	store_zone_clear(&z);
	http_reply_json(rep, all ? 200 : err_http_status(ERR_UPSTREAM), j);
}

void api_cluster_sync_all(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct store_server s;
	struct errmsg err;
	uint64_t zones = 0;
	int64_t id;

	if (!api_may_write(req, rep) || (st = api_store(ctx, rep)) == NULL ||
	    api_path_id(req, rep, 0, &id) < 0)
		return;
	int r = nodes_sync_all(ctx, st, id, api_actor(req), &s, &zones, &err);
	if (r < 0) {
		api_reply_error(rep, r, err.text);
		return;
	}
	http_reply_json(rep, 202,
			json_pack("{s:b,s:o,s:I,s:s}", "success", 1, "node", nodes_server_json(&s),
				  "totalZones", (json_int_t)zones, "progress",
				  "GET this URL to follow the sync"));
	store_server_clear(&s);
}

void api_cluster_sync_progress(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = api_store(ctx, rep);
	struct store_sync_summary sum = { 0 };
	struct errmsg err;
	int64_t id;
	if (st == NULL || api_path_id(req, rep, 0, &id) < 0)
		return;
	int r = nodes_sync_progress(ctx, st, id, &sum, &err);
	if (r < 0) {
		api_reply_error(rep, r, err.text);
		return;
	}
	/* Live zones only, as POST answered totalZones; the deletes the node
	 * still owes are counted apart, and done waits for them too. */
	uint64_t total = sum.in_sync + sum.behind;
	http_reply_json(
	    rep, 200,
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:b,s:s?}", "totalZones", (json_int_t)total, "inSync",
		      (json_int_t)sum.in_sync, "behind", (json_int_t)sum.behind, "failing",
		      (json_int_t)sum.failing, "deleting", (json_int_t)sum.deletes, "done",
		      sum.behind == 0 && sum.deletes == 0, "lastError", sum.last_error));
	free(sum.last_error);
}
