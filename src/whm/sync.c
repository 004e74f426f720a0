#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "base/err.h"
#include "base/log.h"
#include "events.h"
#include "payloads.h"
#include "sync_node.h"
#include "zones.h"

static void node_free(struct node *n)
{
	if (n == NULL)
		return;
	http_client_free(n->http);
	http_client_free(n->probe);
	if (n->secret != NULL)
		explicit_bzero(n->secret, strlen(n->secret));
	free(n->secret);
	free(n->ip);
	free(n);
}

static struct node *node_new(struct sync *s, const struct store_server *srv)
{
	char url[128];
	struct node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->s = s;
	n->id = srv->id;
	snprintf(n->name, sizeof(n->name), "%s", srv->name);
	n->ip = strdup(srv->ip);
	n->secret = strdup(srv->agent_secret);
	n->agent_port = srv->agent_port;
	if (n->ip == NULL || n->secret == NULL) {
		node_free(n);
		return NULL;
	}
	long timeout = (long)s->w->conf.agent_timeout_ms;
	int r = agent_client_new(&s->w->conf, srv, timeout, url, sizeof(url), &n->http);
	snprintf(n->url, sizeof(n->url), "%s", url);
	long probe = timeout < HEALTH_TIMEOUT_MS ? timeout : HEALTH_TIMEOUT_MS;
	if (r < 0 || agent_client_new(&s->w->conf, srv, probe, url, sizeof(url), &n->probe) < 0) {
		log_err("node '%s': invalid agent address '%s'", n->name, url);
		node_free(n);
		return NULL;
	}
	return n;
}

static void node_stop(struct sync *s, struct node *n)
{
	pthread_mutex_lock(&s->lock);
	n->stop = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(n->thread, NULL);
	node_free(n);
}

struct server_list {
	struct store_server *v;
	size_t n;
};

static int collect_server(const struct store_server *srv, void *ctx)
{
	struct server_list *l = ctx;
	struct store_server *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	l->v = v;
	v[l->n] = (struct store_server){ .id = srv->id,
					 .name = strdup(srv->name),
					 .ip = strdup(srv->ip),
					 .agent_port = srv->agent_port,
					 .agent_secret = strdup(srv->agent_secret) };
	l->n++;
	return 0;
}

/* Server 'srv' of 'l' with id 'id', or NULL. */
static const struct store_server *find_server(const struct server_list *l, int64_t id)
{
	for (size_t j = 0; j < l->n; j++)
		if (l->v[j].id == id)
			return &l->v[j];
	return NULL;
}

/* Whether the worker of 'n' reaches its agent otherwise than 'srv' says
 * (its clients were made with the old address, port and secret), or goes
 * by another name (its logs, events and metrics would keep the old one). */
static bool agent_moved(const struct node *n, const struct store_server *srv)
{
	return strcmp(n->ip, srv->ip) != 0 || n->agent_port != srv->agent_port ||
	       strcmp(n->secret, srv->agent_secret) != 0 ||
	       strncmp(n->name, srv->name, sizeof(n->name) - 1) != 0;
}

void sync_nodes_changed(struct sync *s)
{
	struct store *st = whm_store(s->w);
	struct server_list l = { 0 };

	if (st == NULL || store_server_foreach(st, true, collect_server, &l) < 0) {
		log_err("cannot read the node list");
		goto out;
	}
	/* Stop workers of nodes that left or whose agent moved (another
	 * address, port or secret: its clients hold the old ones), start the
	 * new ones. The nodes that stay are published first, so nobody
	 * walking s->nodes (metrics, health) meets a node that is being freed. */
	pthread_mutex_lock(&s->change_lock);
	struct node **keep = calloc(l.n + 1, sizeof(*keep));
	struct node **gone = NULL;
	bool *moved = calloc(l.n + 1, sizeof(*moved)); /* by index in l */
	size_t nkeep = 0, ngone = 0;
	pthread_mutex_lock(&s->lock);
	if (keep != NULL && moved != NULL)
		gone = calloc(s->n + 1, sizeof(*gone));
	for (size_t i = 0; gone && i < s->n; i++) {
		const struct store_server *now = find_server(&l, s->nodes[i]->id);
		if (now != NULL && agent_moved(s->nodes[i], now))
			moved[now - l.v] = true;
		if (now != NULL && !moved[now - l.v])
			keep[nkeep++] = s->nodes[i];
		else
			gone[ngone++] = s->nodes[i];
	}
	if (gone != NULL) {
		free(s->nodes);
		s->nodes = keep;
		s->n = nkeep;
	}
	pthread_mutex_unlock(&s->lock);
	if (gone == NULL) {
		pthread_mutex_unlock(&s->change_lock);
		free(keep);
		free(moved);
		goto out;
	}
	for (size_t i = 0; i < ngone; i++) {
		if (find_server(&l, gone[i]->id) == NULL) {
			log_notice("node '%s': leaves the cluster", gone[i]->name);
			events_add(s->w->events, "node.left", gone[i]->name, NULL,
				   "leaves the cluster");
		}
		node_stop(s, gone[i]);
	}
	for (size_t j = 0; j < l.n; j++) {
		bool running = false;
		for (size_t i = 0; i < nkeep && !running; i++)
			running = keep[i]->id == l.v[j].id;
		if (running)
			continue;
		struct node *n = node_new(s, &l.v[j]);
		if (n == NULL)
			continue;
		/* An agent reached otherwise may be another machine, holding
		 * anything. Reconciliation is how a worker learns what a node
		 * holds (its first health check would ask for it too; this does
		 * not depend on that): by the hash tree, the zones it lacks or
		 * holds with other content are pushed again, strays deleted, and
		 * a node holding next to nothing gets every zone again. The same
		 * machine on a new port costs one request. Forgetting the
		 * acknowledgements instead would push every zone again even then. */
		n->reconcile_now = moved[j];
		if (pthread_create(&n->thread, NULL, sync_worker, n) != 0) {
			node_free(n);
			continue;
		}
		if (moved[j]) {
			log_notice("node '%s': its agent is now reached at %s (name, address, "
				   "port or secret changed); reconciling it",
				   n->name, n->url);
			events_add(s->w->events, "node.moved", n->name, NULL,
				   "its agent is now reached at %s; reconciling it", n->url);
		} else {
			log_notice("node '%s': joins the cluster (%s)", n->name, n->url);
			events_add(s->w->events, "node.joined", n->name, NULL,
				   "joins the cluster (%s)", n->url);
		}
		/* Past s->n: readers do not look there until s->n says so. */
		keep[nkeep++] = n;
		pthread_mutex_lock(&s->lock);
		s->n = nkeep;
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&s->change_lock);
	free(gone);
	free(moved);
out:
	for (size_t i = 0; i < l.n; i++)
		store_server_clear(&l.v[i]);
	free(l.v);
}

/* A zone commit: every worker looks for what to push. */
static void on_commit(struct whm *w, struct store *st, const struct store_zone *old,
		      const struct store_zone *now, void *ctx)
{
	sync_wake(w->sync);
}

int sync_start(struct whm *w, struct sync **ret)
{
	struct sync *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->w = w;
	if (payloads_new(&s->payloads) < 0) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->change_lock, NULL);
	pthread_mutex_init(&s->lock, NULL);
	whm_cond_init(&s->wake); /* whm_mono_ms() deadlines */
	whm_cond_init(&s->changed);
	w->sync = s;
	zones_on_commit(w, on_commit, NULL);
	sync_nodes_changed(s);
	*ret = s;
	return 0;
}

void sync_stop(struct sync *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	struct node **nodes = s->nodes;
	size_t n = s->n;
	s->nodes = NULL;
	s->n = 0;
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < n; i++)
		node_stop(s, nodes[i]);
	free(nodes);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->change_lock);
	payloads_free(s->payloads);
	free(s);
}

void sync_wake(struct sync *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->gen++;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

int sync_foreach_node(struct sync *s, sync_node_fn fn, void *ctx)
{
	int r = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; r >= 0 && i < s->n; i++)
		r = fn(s->nodes[i]->id, s->nodes[i]->name, &s->nodes[i]->h, &s->nodes[i]->c, ctx);
	pthread_mutex_unlock(&s->lock);
	return r < 0 ? r : 0;
}

static json_t *node_results(struct sync *s, struct store *st, int64_t zone_id, uint64_t version,
			    bool *ret_all)
{
	json_t *out = json_array();
	struct server_list l = { 0 };
	*ret_all = true;
	if (store_server_foreach(st, true, collect_server, &l) < 0)
		*ret_all = false;
	for (size_t i = 0; i < l.n; i++) {
		bool acked = false;
		struct node_health h;
		sync_node_health(s, l.v[i].id, &h);
		int r = store_sync_node_acked(st, l.v[i].id, zone_id, version, &acked);
		if (r < 0 || !acked)
			*ret_all = false;
		json_array_append_new(
		    out, json_pack("{s:I,s:s,s:b,s:s?}", "nodeId", (json_int_t)l.v[i].id,
				   "hostname", l.v[i].name, "success", acked, "error",
				   acked ? NULL : (h.error[0] ? h.error : "pending")));
		store_server_clear(&l.v[i]);
	}
	free(l.v);
	return out;
}

int sync_wait(struct sync *s, int64_t zone_id, uint64_t version, long timeout_ms, json_t **ret)
{
	struct store *st = whm_store(s->w);
	int64_t deadline = whm_mono_ms() + timeout_ms;
	bool all = false;

	if (st == NULL)
		return ERR_UNAVAILABLE;
	for (;;) {
		if (store_sync_all_acked(st, zone_id, version, &all) == 0 && all)
			break;
		if (whm_mono_ms() >= deadline)
			break;
		int64_t due = whm_mono_ms() + 50 < deadline ? whm_mono_ms() + 50 : deadline;
		struct timespec ts = whm_mono_deadline(due);
		pthread_mutex_lock(&s->lock);
		pthread_cond_timedwait(&s->changed, &s->lock, &ts);
		pthread_mutex_unlock(&s->lock);
	}
	*ret = node_results(s, st, zone_id, version, &all);
	return all ? 0 : ERR_TIMEOUT;
}

int sync_purge_node(struct sync *s, int64_t server_id, unsigned *ret_deleted, struct errmsg *err)
{
	struct store *st = whm_store(s->w);
	struct store_server srv;
	long status;
	json_t *j = NULL;
	unsigned deleted = 0;

	if (st == NULL)
		return ERR_UNAVAILABLE;
	int r = store_server_get(st, server_id, &srv);
	if (r < 0)
		return r;
	struct node *n = node_new(s, &srv);
	store_server_clear(&srv);
	if (n == NULL)
		return -ENOMEM;
	/* A page at a time (agent_zone_page()). */
	char after[DNAME_TEXT_MAX] = "";
	unsigned failed = 0;
	struct errmsg derr;
	for (bool more = true; more;) {
		r = agent_zone_page(n->http, after, 1000, &j, err);
		if (r < 0)
			break;
		size_t i;
		json_t *item;
		json_array_foreach(json_object_get(j, "zones"), i, item) {
			const char *name = json_string_value(json_object_get(item, "zone"));
			if (name == NULL)
				continue;
			if (agent_call(n->http, AGENT_ZONE_DELETE, name, NULL, 0, &status, NULL,
				       &derr) == 0)
				deleted++;
			else if (failed++ == 0)
				errmsg_set(err, 0, "zone '%.255s': %s", name, derr.text);
		}
		const char *next = json_string_value(json_object_get(j, "next"));
		more = next != NULL;
		if (more)
			snprintf(after, sizeof(after), "%s", next);
		json_decref(j);
		j = NULL;
	}
	node_free(n);
	*ret_deleted = deleted;
	if (r == 0 && failed > 0) {
		derr = *err;
		r = errmsg_set(err, ERR_UPSTREAM, "%u zone%s not deleted, the first %s", failed,
			       failed > 1 ? "s" : "", derr.text);
	}
	return r;
}

struct fetch {
	struct sync *s;
	struct store_server srv;
	enum agent_endpoint ep;
	const char *tail;
	long timeout_ms;
	json_t *answer;
	pthread_t thread;
	bool started;
};

static void *fetch_one(void *arg)
{
	struct fetch *f = arg;
	struct http_client *c;
	struct errmsg err;
	long status;
	json_t *j = NULL;
	char url[128];

	if (agent_client_new(&f->s->w->conf, &f->srv, f->timeout_ms, url, sizeof(url), &c) < 0) {
		f->answer = json_pack("{s:s}", "error", "invalid agent address");
		return NULL;
	}
	if (agent_call(c, f->ep, f->tail, NULL, 0, &status, &j, &err) < 0)
		f->answer = json_pack("{s:s,s:i}", "error", err.text, "status", (int)status);
	else
		f->answer = j;
	http_client_free(c);
	return NULL;
}

int sync_agents_get(struct sync *s, enum agent_endpoint ep, long timeout_ms, json_t **ret)
{
	return sync_agents_call(s, ep, NULL, timeout_ms, ret);
}

int sync_agents_call(struct sync *s, enum agent_endpoint ep, const char *tail, long timeout_ms,
		     json_t **ret)
{
	struct store *st = whm_store(s->w);
	struct server_list l = { 0 };

	if (st == NULL)
		return ERR_UNAVAILABLE;
	int r = store_server_foreach(st, true, collect_server, &l);
	struct fetch *f = calloc(l.n + 1, sizeof(*f));
	if (r == 0 && f == NULL)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		f[i] = (struct fetch){
			.s = s, .srv = l.v[i], .ep = ep, .tail = tail, .timeout_ms = timeout_ms
		};
		f[i].started = pthread_create(&f[i].thread, NULL, fetch_one, &f[i]) == 0;
		if (!f[i].started)
			fetch_one(&f[i]);
	}
	json_t *out = json_object();
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		char key[24];
		if (f[i].started)
			pthread_join(f[i].thread, NULL);
		snprintf(key, sizeof(key), "%lld", (long long)l.v[i].id);
		json_object_set_new(out, key, f[i].answer ? f[i].answer : json_object());
	}
	for (size_t i = 0; i < l.n; i++)
		store_server_clear(&l.v[i]);
	free(l.v);
	free(f);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}
