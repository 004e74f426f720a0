#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "history.h"
#include "json/jsonx.h"
#include "nodes.h"
#include "sync.h"
#include "verify.h"

json_t *nodes_server_json(const struct store_server *s)
{
	return json_pack(
	    "{s:I,s:s,s:s,s:s,s:I,s:b,s:s,s:s?,s:I,s:I}", "id", (json_int_t)s->id, "name", s->name,
	    "hostname", s->hostname, "ip", s->ip, "agent_port", (json_int_t)s->agent_port,
	    "in_cluster", s->in_cluster, "status", s->status ? s->status : "unknown",
	    "pdns_version", s->pdns_version && s->pdns_version[0] ? s->pdns_version : NULL,
	    "last_seen", (json_int_t)s->last_seen, "created_at", (json_int_t)s->created_at);
}

static int list_server(const struct store_server *s, void *ctx)
{
	return json_array_append_new(ctx, nodes_server_json(s)) ? -ENOMEM : 0;
}

int nodes_list(struct store *st, json_t **ret)
{
	json_t *out = json_array();
	int r = store_server_foreach(st, false, list_server, out);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

int64_t nodes_lag_seconds(const struct store_sync_summary *sum, int64_t now)
{
	if (sum->oldest_pending == 0 || now < sum->oldest_pending)
		return 0;
	return now - sum->oldest_pending;
}

struct status_ctx {
	struct whm *w;
	struct store *st;
	json_t *nodes;
	unsigned online, offline;
};

static int node_status(const struct store_server *s, void *ctx)
{
	struct status_ctx *c = ctx;
	struct node_health h;
	struct store_sync_summary sum = { 0 };

	sync_node_health(c->w->sync, s->id, &h);
	uint64_t live = verify_live_zones(c->w);
	store_sync_summary(c->st, s->id, &live, &sum);
	const char *state = !h.known	     ? "unknown"
			    : !h.reachable   ? "offline"
			    : h.pdns_running ? "online"
					     : "degraded";
	if (h.known && h.pdns_running)
		c->online++;
	else
		c->offline++;
	json_t *o = json_pack(
	    "{s:I,s:s,s:s,s:s,s:{s:b,s:b,s:s?,s:I},s:{s:I,s:I,s:I,s:I,s:I},s:I,s:f,s:s?,s:I}",
	    "nodeId", (json_int_t)s->id, "hostname", s->hostname, "ip", s->ip, "status", state,
	    "dnsStatus", "reachable", h.reachable, "running", h.pdns_running, "version",
	    h.pdns_version[0] ? h.pdns_version : NULL, "restarts", (json_int_t)h.pdns_restarts,
	    "zones", "in_sync", (json_int_t)sum.in_sync, "behind", (json_int_t)sum.behind,
	    "failing", (json_int_t)sum.failing, "deleting", (json_int_t)sum.deletes, "drift",
	    (json_int_t)h.drift, "lag_seconds", (json_int_t)nodes_lag_seconds(&sum, whm_now()),
	    "responseTime", h.response_ms, "lastError", h.error[0] ? h.error : sum.last_error,
	    "lastCheck", (json_int_t)h.last_check);
	free(sum.last_error);
	return json_array_append_new(c->nodes, o) ? -ENOMEM : 0;
}

int nodes_status(struct whm *w, struct store *st, json_t **ret, unsigned *ret_online,
		 unsigned *ret_offline)
{
	struct status_ctx c = { w, st, json_array(), 0, 0 };
	int r = store_server_foreach(st, true, node_status, &c);
	if (r < 0) {
		json_decref(c.nodes);
		return r;
	}
	*ret = c.nodes;
	*ret_online = c.online;
	*ret_offline = c.offline;
	return 0;
}

/* The audit entry of 'action' on server 's'. */
static int note_server(struct store *st, const char *actor, const char *action,
		       const struct store_server *s, const char *what)
{
	char summary[HISTORY_SUMMARY_MAX];
	history_summary(summary, "%sserver %lld '%s' at %s port %u", what, (long long)s->id,
			s->name, s->ip, (unsigned)s->agent_port);
	return history_note(st, actor, action, summary);
}

int nodes_check_agent(struct whm *w, const struct store_server *s, struct errmsg *err)
{
	struct http_client *c;
	struct errmsg aerr = { "" };
	char url[128];
	long status = 0;
	json_t *j = NULL;

	if (agent_client_new(&w->conf, s, (long)w->conf.agent_timeout_ms, url, sizeof(url), &c) < 0)
		return errmsg_set(err, ERR_INVALID, "cannot make a client for the agent at %s",
				  url);
	int r = agent_call(c, AGENT_STATUS, NULL, NULL, 0, &status, &j, &aerr);
	http_client_free(c);
	if (r < 0 && status == 0)
		return errmsg_set(err, ERR_UPSTREAM,
				  "the agent at %s did not answer (%s): check the address, the "
				  "agent port and that yumna-agent runs there",
				  url, aerr.text);
	if (status == 401 || status == 403)
		return errmsg_set(err, ERR_INVALID,
				  "body.agent_secret: the agent at %s refused it (%s): it is not "
				  "the secret in that agent's configuration",
				  url, aerr.text);
	if (r < 0)
		return errmsg_set(err, ERR_UPSTREAM, "the agent at %s: %s", url, aerr.text);
	json_t *running = json_object_get(j, "running");
	const char *msg = json_string_value(json_object_get(j, "message"));
	if (!json_is_boolean(running))
		r = errmsg_set(err, ERR_UPSTREAM,
			       "what answers at %s is not a yumna-agent (no PowerDNS status)", url);
	else if (!json_is_true(running))
		r = errmsg_set(err, ERR_UPSTREAM,
			       "the agent at %s answers, but its PowerDNS is not running: %.200s",
			       url, msg ? msg : "no reason given");
	json_decref(j);
	return r;
}

/* The server named 'name' exists (other than 'except'). */
struct name_taken {
	const char *name;
	int64_t except;
};

static int same_name(const struct store_server *s, void *ctx)
{
	const struct name_taken *t = ctx;
	return s->id != t->except && strcmp(s->name, t->name) == 0 ? 1 : 0;
}

int nodes_create(struct whm *w, struct store *st, struct store_server *s, bool check,
		 const char *actor, struct errmsg *err)
{
	struct name_taken taken = { s->name, 0 };
	err->text[0] = '\0';
	/* The name first: a taken name is the answer whatever the agent says. */
	int r = store_server_foreach(st, false, same_name, &taken);
	if (r == 1)
		return errmsg_set(err, ERR_CONFLICT, "a server with that name exists");
	if (r < 0)
		return r;
	if (check && (r = nodes_check_agent(w, s, err)) < 0)
		return r;
	s->created_at = whm_now();
	r = store_begin(st);
	if (r == 0)
		r = store_server_insert(st, s);
	if (r == 0)
		r = note_server(st, actor, "server.create", s,
				check ? "" : "without checking its agent: ");
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		if (r == ERR_CONFLICT)
			errmsg_set(err, 0, "a server with that name exists");
	}
	return r;
}

/* Open a transaction and read server 'id' in it; on failure the
 * transaction is closed and the answer is "no such server". */
static int begin_get(struct store *st, int64_t id, struct store_server *ret, struct errmsg *err)
{
	int r = store_begin(st);
	if (r == 0)
		r = store_server_get(st, id, ret);
	if (r < 0) {
		store_rollback(st);
		return errmsg_set(err, r, "no such server");
	}
	return 0;
}

/* Close begin_get()'s transaction over 's': commit if 'r' is 0 and hand
 * 's' to *ret, or roll back and clear 's'. */
static int end_txn(struct store *st, int r, struct store_server *s, struct store_server *ret,
		   struct errmsg *err)
{
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		store_server_clear(s);
		err->text[0] = '\0';
		return r;
	}
	*ret = *s;
	return 0;
}

/* Whether the controller reaches the agent of 'b' otherwise than that of 'a'. */
static bool reached_otherwise(const struct store_server *a, const struct store_server *b)
{
	return strcmp(a->ip, b->ip) != 0 || a->agent_port != b->agent_port ||
	       strcmp(a->agent_secret, b->agent_secret) != 0;
}

int nodes_update(struct whm *w, struct store *st, int64_t id, nodes_edit_fn fn, void *ctx,
		 bool check, const char *actor, json_t **ret, struct errmsg *err)
{
	struct store_server s = { 0 };

	err->text[0] = '\0';
	/* The agent is asked before the transaction: a write lock is not held
	 * across a network call. The edit is applied again inside it. */
	int r = store_server_get(st, id, &s);
	if (r < 0)
		return errmsg_set(err, r, "no such server");
	struct store_server upd = s;
	r = fn(&upd, ctx, err);
	if (r == 0 && check && reached_otherwise(&s, &upd))
		r = nodes_check_agent(w, &upd, err);
	store_server_clear(&s);
	if (r < 0)
		return r;
	r = begin_get(st, id, &s, err);
	if (r < 0)
		return r;
	upd = s;
	r = fn(&upd, ctx, err);
	if (r == 0)
		r = store_server_update(st, &upd);
	if (r == 0)
		r = note_server(
		    st, actor, "server.update", &upd,
		    check || !reached_otherwise(&s, &upd) ? "" : "without checking its agent: ");
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		if (r == ERR_CONFLICT && err->text[0] == '\0')
			errmsg_set(err, 0, "a server with that name exists");
	} else {
		*ret = nodes_server_json(&upd);
		sync_nodes_changed(w->sync);
	}
	store_server_clear(&s);
	return r;
}

/* A node's joins, full syncs and removals happen one at a time. A removal with purge
 * deletes the node's zones and then forgets what it acknowledged, trusting
 * that no push brings a zone back meanwhile: a join between the two (a
 * client that gave up on a slow removal and joined the node again) would
 * have its full sync undone, the zones deleted after their pushes and the
 * rows that would push them again forgotten (make torture, controller-stop,
 * found it). */
static pthread_mutex_t membership = PTHREAD_MUTEX_INITIALIZER;

static int set_cluster(struct whm *w, struct store *st, int64_t id, bool join, const char *actor,
		       struct store_server *ret, struct errmsg *err)
{
	struct store_server s = { 0 };
	int r = begin_get(st, id, &s, err);
	if (r < 0)
		return r;
	s.in_cluster = join;
	r = store_server_update(st, &s);
	if (r == 0 && join)
		r = store_sync_want_server(st, id); /* everything, pushed by the worker */
	if (r == 0)
		r = note_server(st, actor, join ? "node.join" : "node.leave", &s, "");
	r = end_txn(st, r, &s, ret, err);
	if (r == 0)
		sync_nodes_changed(w->sync);
	return r;
}

int nodes_join(struct whm *w, struct store *st, int64_t id, const char *actor,
	       struct store_server *ret, struct errmsg *err)
{
	pthread_mutex_lock(&membership);
	int r = set_cluster(w, st, id, true, actor, ret, err);
	pthread_mutex_unlock(&membership);
	return r;
}

/* Delete the zones server 's' holds from it, once it is out of the
 * cluster (no push can bring one back meanwhile), and forget what it
 * acknowledged. */
static int purge(struct whm *w, struct store *st, const struct store_server *s, const char *actor,
		 struct nodes_removed *out, struct errmsg *err)
{
	char what[64];
	int r = sync_purge_node(w->sync, s->id, &out->zones_deleted, err);
	if (r == 0)
		r = store_sync_forget_server(st, s->id);
	if (r == 0)
		out->purged = true;
	else
		log_warn("node '%s': purge failed: %s", s->name, err->text);
	/* In the audit log whether or not it all went: what was deleted. */
	snprintf(what, sizeof(what), "%s%u zones deleted from ",
		 r == 0 ? "" : "incomplete: ", out->zones_deleted);
	int n = note_server(st, actor, "node.purge", s, what);
	if (n < 0)
		log_warn("node '%s': cannot record the purge: %s", s->name, err_str(n));
	return r;
}

/* The server's row goes, with its audit line. */
static int unregister(struct whm *w, struct store *st, const struct store_server *s,
		      const char *actor, struct errmsg *err)
{
	int r = store_begin(st);
	if (r == 0)
		r = store_server_delete(st, s->id);
	if (r == 0)
		r = note_server(st, actor, "server.delete", s, "");
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		return errmsg_set(err, r, "%s", r == -ENOENT ? "no such server" : err_str(r));
	}
	sync_nodes_changed(w->sync);
	return 0;
}

static int remove_node(struct whm *w, struct store *st, int64_t id, const struct nodes_removal *how,
		       const char *actor, struct store_server *ret, struct nodes_removed *out,
		       struct errmsg *err)
{
	struct store_server s;
	struct errmsg why = { "" };
	uint64_t held = 0;

	err->text[0] = '\0';
	memset(out, 0, sizeof(*out));
	int r = store_server_get(st, id, &s);
	if (r < 0)
		return errmsg_set(err, r, "no such server");
	r = store_sync_held(st, id, &held);
	bool holds = s.in_cluster || held > 0, reachable = false;
	/* Before anything changes: a purge that cannot happen is refused
	 * rather than leaving a node that serves frozen zones. */
	if (r == 0 && how->purge && holds) {
		reachable = nodes_check_agent(w, &s, &why) == 0;
		if (!reachable && !how->force)
			r = errmsg_set(
			    err, ERR_CONFLICT,
			    "node '%s' cannot delete its zones now: %s. Nothing was "
			    "changed: try again once it answers, or use force (it then "
			    "keeps serving the %llu zones it holds, no longer updated, if "
			    "it comes back) or keep its zones (purge=false)",
			    s.name, why.text, (unsigned long long)held);
	}
	if (r == 0 && s.in_cluster) {
		struct store_server left;
		r = set_cluster(w, st, id, false, actor, &left, err);
		if (r == 0)
			store_server_clear(&left);
	}
	if (r == 0 && how->purge && holds && reachable) {
		r = purge(w, st, &s, actor, out, &why);
		if (r < 0 && !how->force)
			r = errmsg_set(
			    err, r,
			    "node '%s' left the cluster, but its zones could not all be "
			    "deleted (%u were; %s). It %s: run the removal again, or use "
			    "force",
			    s.name, out->zones_deleted, why.text,
			    how->unregister ? "stays registered, out of the cluster"
					    : "is out of the cluster");
		else
			r = 0;
	}
	if (r == 0 && holds && !out->purged) {
		out->zones_kept = held;
		if (how->purge)
			snprintf(out->warning, sizeof(out->warning),
				 "the zones on node '%s' could not be deleted (%.300s): if it "
				 "answers again, it serves the %llu zones it holds as they were, "
				 "never updated; delete them there",
				 s.name, why.text, (unsigned long long)held);
		else
			snprintf(out->warning, sizeof(out->warning),
				 "node '%s' keeps serving the %llu zones it holds as they are now; "
				 "they will no longer be updated: delete them there, or remove it "
				 "with purge",
				 s.name, (unsigned long long)held);
	}
	if (r == 0 && how->unregister)
		r = unregister(w, st, &s, actor, err);
	if (r == 0 && !how->unregister) {
		store_server_clear(&s);
		r = store_server_get(st, id, &s);
		if (r < 0)
			errmsg_set(err, r, "no such server");
	}
	if (r < 0) {
		store_server_clear(&s);
		return r;
	}
	*ret = s;
	return 0;
}

int nodes_remove(struct whm *w, struct store *st, int64_t id, const struct nodes_removal *how,
		 const char *actor, struct store_server *ret, struct nodes_removed *out,
		 struct errmsg *err)
{
	pthread_mutex_lock(&membership);
	int r = remove_node(w, st, id, how, actor, ret, out, err);
	pthread_mutex_unlock(&membership);
	return r;
}

/* Only a cluster node has a worker that pushes to it: rows kept for any
 * other server (one that left keeping its zones) are not a sync. */
static int need_member(const struct store_server *s, struct errmsg *err)
{
	if (s->in_cluster)
		return 0;
	return errmsg_set(err, ERR_CONFLICT,
			  "server '%s' is not a cluster node: nothing is pushed to it. Join it "
			  "(POST /api/dns/cluster/nodes/%lld), which sends it every zone",
			  s->name, (long long)s->id);
}

static int sync_all(struct whm *w, struct store *st, int64_t id, const char *actor,
		    struct store_server *ret, uint64_t *ret_zones, struct errmsg *err)
{
	struct store_server s = { 0 };
	uint64_t zones = 0, records = 0;

	int r = begin_get(st, id, &s, err);
	if (r < 0)
		return r;
	r = need_member(&s, err);
	if (r < 0) {
		store_rollback(st);
		store_server_clear(&s);
		return r;
	}
	r = store_sync_want_server(st, id);
	if (r == 0)
		r = store_sync_reset_server(st, id);
	if (r == 0)
		r = store_zone_counts(st, &zones, &records);
	if (r == 0)
		r = note_server(st, actor, "node.sync-all", &s, "push every zone again to ");
	r = end_txn(st, r, &s, ret, err);
	if (r == 0) {
		sync_wake(w->sync);
		*ret_zones = zones;
	}
	return r;
}

int nodes_sync_all(struct whm *w, struct store *st, int64_t id, const char *actor,
		   struct store_server *ret, uint64_t *ret_zones, struct errmsg *err)
{
	pthread_mutex_lock(&membership);
	int r = sync_all(w, st, id, actor, ret, ret_zones, err);
	pthread_mutex_unlock(&membership);
	return r;
}

int nodes_sync_progress(struct whm *w, struct store *st, int64_t id, struct store_sync_summary *ret,
			struct errmsg *err)
{
	struct store_server s;

	err->text[0] = '\0';
	int r = store_server_get(st, id, &s);
	if (r < 0)
		return errmsg_set(err, r, "%s", r == -ENOENT ? "no such server" : err_str(r));
	r = need_member(&s, err);
	store_server_clear(&s);
	if (r < 0)
		return r;
	uint64_t live = verify_live_zones(w);
	return store_sync_summary(st, id, &live, ret);
}

struct id_list {
	int64_t *v;
	size_t n;
};

static int collect_id(const struct store_server *srv, void *ctx)
{
	struct id_list *l = ctx;
	int64_t *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	l->v = v;
	l->v[l->n++] = srv->id;
	return 0;
}

int nodes_push_zone(struct whm *w, struct store *st, int64_t zone_id, const char *actor,
		    struct store_zone *ret, json_t **ret_nodes, struct errmsg *err)
{
	struct store_zone z = { 0 };

	int r = store_begin(st);
	if (r == 0)
		r = store_zone_get(st, zone_id, &z);
	if (r < 0) {
		store_rollback(st);
		return errmsg_set(err, r, "no such zone");
	}
	/* Push it to every node again, acknowledged or not, so the answer
	 * reports what each node says now; the agents' version check makes a
	 * repeat harmless. */
	r = store_sync_want_all(st, zone_id, z.version);
	struct id_list nodes_in = { 0 };
	if (r == 0)
		r = store_server_foreach(st, true, collect_id, &nodes_in);
	for (size_t i = 0; r == 0 && i < nodes_in.n; i++)
		r = store_sync_reset(st, nodes_in.v[i], zone_id, 0);
	free(nodes_in.v);
	if (r == 0) {
		char summary[HISTORY_SUMMARY_MAX];
		history_summary(summary, "push version %llu to every node again",
				(unsigned long long)z.version);
		r = history_note_zone(st, &z, actor, "zone.push", summary);
	}
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		store_zone_clear(&z);
		err->text[0] = '\0';
		return r;
	}
	sync_wake(w->sync);
	*ret_nodes = NULL;
	sync_wait(w->sync, zone_id, z.version, (long)w->conf.wait_timeout_ms, ret_nodes);
	*ret = z;
	return 0;
}

struct notified {
	const json_t *answers; /* sync_agents_call()'s, by node id */
	json_t *nodes;
	size_t ok;
};

static int notified_node(const struct store_server *srv, void *ctx)
{
	struct notified *n = ctx;
	char key[24];
	snprintf(key, sizeof(key), "%lld", (long long)srv->id);
	const json_t *a = json_object_get(n->answers, key);
	if (a == NULL)
		return 0; /* joined since the agents were asked */
	const char *error = json_string_value(json_object_get(a, "error"));
	const char *message = json_string_value(json_object_get(a, "message"));
	json_t *o = json_pack("{s:I,s:s,s:s,s:b}", "nodeId", (json_int_t)srv->id, "name", srv->name,
			      "hostname", srv->hostname, "success", error == NULL);
	if (o != NULL)
		json_object_set_new(o, error ? "error" : "message",
				    json_string(error	  ? error
						: message ? message
							  : "sent"));
	if (o != NULL && error != NULL)
		json_object_set(o, "status", json_object_get(a, "status"));
	n->ok += error == NULL;
	return o != NULL && json_array_append_new(n->nodes, o) == 0 ? 0 : -ENOMEM;
}

int nodes_notify_zone(struct whm *w, struct store *st, int64_t zone_id, const char *actor,
		      struct store_zone *ret, json_t **ret_nodes, size_t *ret_ok,
		      struct errmsg *err)
{
	struct store_zone z = { 0 };
	struct notified n = { NULL, json_array(), 0 };
	json_t *answers = NULL;
	char tail[DNAME_TEXT_MAX + 16], summary[HISTORY_SUMMARY_MAX];

	err->text[0] = '\0';
	int r = store_zone_get(st, zone_id, &z);
	if (r == 0 && z.deleted) {
		store_zone_clear(&z);
		r = -ENOENT;
	}
	if (r < 0) {
		json_decref(n.nodes);
		return errmsg_set(err, r, "%s", r == -ENOENT ? "no such zone" : err_str(r));
	}
	snprintf(tail, sizeof(tail), "%s/notify", z.domain);
	r = n.nodes != NULL ? sync_agents_call(w->sync, AGENT_ZONE_NOTIFY, tail,
					       (long)w->conf.agent_timeout_ms, &answers)
			    : -ENOMEM;
	n.answers = answers;
	if (r == 0)
		r = store_server_foreach(st, true, notified_node, &n);
	json_decref(answers);
	if (r == 0) {
		history_summary(summary, "send NOTIFY from every node: %zu of %zu did", n.ok,
				json_array_size(n.nodes));
		r = store_begin(st);
		if (r == 0)
			r = history_note_zone(st, &z, actor, "zone.notify", summary);
		if (r == 0)
			r = store_commit(st);
		else
			store_rollback(st);
	}
	if (r < 0) {
		json_decref(n.nodes);
		store_zone_clear(&z);
		return r;
	}
	*ret = z;
	*ret_nodes = n.nodes;
	*ret_ok = n.ok;
	return 0;
}
