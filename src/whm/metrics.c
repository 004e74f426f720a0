#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "base/err.h"
#include "base/procstat.h"
#include "metrics.h"
#include "secondary.h"
#include "nodes.h"
#include "store/store.h"
#include "sync.h"
#include "verify.h"
#include "whm.h"

static const double bounds[METRICS_NBOUNDS] = METRICS_BOUNDS;

/* The statuses the API answers with get a counter each; anything else
 * (which would be a bug) is counted under its class ("5xx"). */
static const unsigned statuses[] = { 200, 201, 202, 204, 400, 401, 403, 404, 405,
				     409, 413, 415, 422, 500, 502, 503, 504, 507 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))
#define NCLASS 5 /* 1xx .. 5xx */

/* Per route, one latency histogram per status; the request counters are
 * their counts. */
struct route_counters {
	struct histogram latency[NSTATUS + NCLASS];
};

struct whm_metrics {
	const struct http_route *routes;
	size_t nroutes;
	struct route_counters *route; /* nroutes + 1: the last is "no route" */
	struct histogram txn[2][3];   /* [relaxed][STORE_TXN_*] */
};

void histogram_observe(struct histogram *h, uint64_t ns)
{
	double s = (double)ns / 1e9;
	unsigned i = 0;
	while (i < METRICS_NBOUNDS && s > bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

int histogram_render(const struct histogram *h, struct buf *out, const char *name,
		     const char *labels)
{
	unsigned long long total = 0;
	int r = 0;

	for (unsigned i = 0; r == 0 && i < METRICS_NBOUNDS; i++) {
		total += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
		r = buf_printf(out, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, bounds[i],
			       total);
	}
	total += atomic_load_explicit(&h->bucket[METRICS_NBOUNDS], memory_order_relaxed);
	/* Without braces when there are no labels. */
	size_t len = strlen(labels);
	if (r == 0)
		r = buf_printf(out, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels, total);
	if (r == 0)
		r = buf_printf(out, "%s_sum%s%.*s%s %.9f\n", name, len ? "{" : "",
			       len ? (int)len - 1 : 0, labels, len ? "}" : "",
			       (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) /
				   1e9);
	if (r == 0)
		r = buf_printf(out, "%s_count%s%.*s%s %llu\n", name, len ? "{" : "",
			       len ? (int)len - 1 : 0, labels, len ? "}" : "", total);
	return r;
}

int metrics_label(struct buf *out, const char *value)
{
	int r = buf_puts(out, "\"");
	for (const char *c = value; r == 0 && *c != '\0'; c++) {
		if (*c == '\\')
			r = buf_puts(out, "\\\\");
		else if (*c == '"')
			r = buf_puts(out, "\\\"");
		else if (*c == '\n')
			r = buf_puts(out, "\\n");
		else
			r = buf_append(out, c, 1);
	}
	return r == 0 ? buf_puts(out, "\"") : r;
}

int metrics_new(const struct http_route *routes, struct whm_metrics **ret)
{
	struct whm_metrics *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	m->routes = routes;
	while (routes[m->nroutes].pattern != NULL)
		m->nroutes++;
	m->route = calloc(m->nroutes + 1, sizeof(*m->route));
	if (m->route == NULL) {
		free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

void metrics_free(struct whm_metrics *m)
{
	if (m == NULL)
		return;
	free(m->route);
	free(m);
}

void metrics_http_observe(void *ctx, const struct http_route *route, unsigned status,
			  uint64_t elapsed_ns)
{
	struct whm_metrics *m = ((struct whm *)ctx)->metrics;
	size_t idx = m->nroutes;
	unsigned k = 0;

	if (route != NULL && route >= m->routes && route < m->routes + m->nroutes)
		idx = (size_t)(route - m->routes);
	while (k < NSTATUS && statuses[k] != status)
		k++;
	if (k == NSTATUS)
		k = NSTATUS + (status >= 100 && status < 600 ? status / 100 - 1 : 4);
	histogram_observe(&m->route[idx].latency[k], elapsed_ns);
}

void metrics_store_txn(void *ctx, int how, bool relaxed, uint64_t elapsed_ns)
{
	struct whm_metrics *m = ctx;
	if (how < 0 || how > STORE_TXN_FAILED)
		return;
	histogram_observe(&m->txn[relaxed ? 1 : 0][how], elapsed_ns);
}

/* --- rendering ---------------------------------------------------------------- */

static int header(struct buf *out, const char *name, const char *type, const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* 'route="...",method="...",' for route index 'i'. */
static int route_labels(const struct whm_metrics *m, size_t i, struct buf *l)
{
	int r = buf_puts(l, "route=");
	if (r == 0)
		r = metrics_label(l, i < m->nroutes ? m->routes[i].pattern : "unmatched");
	if (r == 0)
		r = buf_puts(l, ",method=");
	if (r == 0)
		r = metrics_label(l, i < m->nroutes ? m->routes[i].method : "any");
	if (r == 0)
		r = buf_puts(l, ",");
	return r;
}

static unsigned long long histogram_count(const struct histogram *h)
{
	unsigned long long n = 0;
	for (unsigned k = 0; k <= METRICS_NBOUNDS; k++)
		n += atomic_load_explicit(&h->bucket[k], memory_order_relaxed);
	return n;
}

/* 'route="...",method="...",code="...",' for route 'i' and status slot 'k'. */
static int http_labels(const struct whm_metrics *m, size_t i, unsigned k, struct buf *l)
{
	buf_reset(l);
	int r = route_labels(m, i, l);
	if (r == 0 && k < NSTATUS)
		r = buf_printf(l, "code=\"%u\",", statuses[k]);
	else if (r == 0)
		r = buf_printf(l, "code=\"%uxx\",", (unsigned)(k - NSTATUS + 1));
	return r;
}

static int render_http(const struct whm_metrics *m, struct buf *out)
{
	struct buf l;
	int r = header(out, "yumna_whm_http_requests_total", "counter",
		       "API requests answered, by route, method and status code");
	buf_init(&l, 4096);
	for (size_t i = 0; r == 0 && i <= m->nroutes; i++) {
		for (unsigned k = 0; r == 0 && k < NSTATUS + NCLASS; k++) {
			unsigned long long n = histogram_count(&m->route[i].latency[k]);
			if (n == 0)
				continue;
			r = http_labels(m, i, k, &l);
			if (r == 0)
				r = buf_printf(out, "yumna_whm_http_requests_total{%.*s} %llu\n",
					       (int)l.len - 1, l.data, n);
		}
	}
	if (r == 0)
		r = header(out, "yumna_whm_http_request_duration_seconds", "histogram",
			   "time from a request's arrival to its answer, by route, method and "
			   "status code");
	for (size_t i = 0; r == 0 && i <= m->nroutes; i++) {
		for (unsigned k = 0; r == 0 && k < NSTATUS + NCLASS; k++) {
			if (histogram_count(&m->route[i].latency[k]) == 0)
				continue;
			r = http_labels(m, i, k, &l);
			if (r == 0)
				r = histogram_render(&m->route[i].latency[k], out,
						     "yumna_whm_http_request_duration_seconds",
						     l.data);
		}
	}
	buf_free(&l);
	return r;
}

static int render_store(const struct whm_metrics *m, struct buf *out)
{
	static const char *const how[] = { "commit", "rollback", "failed" };
	int r = header(out, "yumna_whm_store_transaction_seconds", "histogram",
		       "time store transactions were open, from begin to the end of commit or "
		       "rollback; durable=\"false\" for the sync engine's bookkeeping, which skips "
		       "the fsync");
	for (unsigned d = 0; r == 0 && d < 2; d++)
		for (unsigned h = 0; r == 0 && h < 3; h++) {
			char labels[64];
			snprintf(labels, sizeof(labels), "result=\"%s\",durable=\"%s\",", how[h],
				 d ? "false" : "true");
			r = histogram_render(&m->txn[d][h], out,
					     "yumna_whm_store_transaction_seconds", labels);
		}
	return r;
}

/* --- per node ----------------------------------------------------------------- */

/* Every per-node metric, one section (HELP, TYPE, samples) after the other:
 * the node list is walked once per metric. */
enum node_metric {
	NM_UP,
	NM_REACHABLE,
	NM_RESPONSE,
	NM_CHECKS,
	NM_PUSHES,
	NM_FAILURES,
	NM_ACKED,
	NM_QUEUE,
	NM_DRIFT,
	NM_RESTARTS,
	NM_RECONCILES,
	NM_RECONCILE_SECONDS,
	NM_LATENCY,
	NM_COUNT,
};

static const char *const node_metric[NM_COUNT][3] = {
	{ "yumna_whm_node_up", "gauge",
	  "1 if the node's agent answered its last health check with PowerDNS running" },
	{ "yumna_whm_node_reachable", "gauge",
	  "1 if the node's agent answered its last health check" },
	{ "yumna_whm_node_health_check_seconds", "gauge",
	  "response time of the node's last health check" },
	{ "yumna_whm_node_health_checks_total", "counter", "health checks of the node" },
	{ "yumna_whm_pushes_total", "counter",
	  "requests that carried zones to the node, by kind (zone, delete, batch, "
	  "delete_batch)" },
	{ "yumna_whm_push_failures_total", "counter",
	  "requests to the node that were not acknowledged" },
	{ "yumna_whm_zones_acknowledged_total", "counter", "zone versions the node acknowledged" },
	{ "yumna_whm_sync_queue_depth", "gauge",
	  "zones due for a push to the node at its worker's last pass" },
	{ "yumna_whm_node_drift_total", "counter",
	  "zone versions the node was found holding with other content than committed "
	  "(changed behind its agent), each pushed again" },
	{ "yumna_whm_node_powerdns_restarts", "gauge",
	  "times the node's agent restarted PowerDNS since the agent started" },
	{ "yumna_whm_node_reconciliations_total", "counter",
	  "reconciliation passes: the node's hash tree compared with the store's" },
	{ "yumna_whm_node_reconcile_seconds", "gauge",
	  "how long the node's last reconciliation pass took" },
	{ "yumna_whm_push_duration_seconds", "histogram",
	  "time of one push request to the node, from sending to its answer" },
};

struct node_walk {
	struct buf *out;
	enum node_metric which;
};

static unsigned long long load(const atomic_ullong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static int render_node(int64_t id, const char *name, const struct node_health *h,
		       const struct node_counters *c, void *ctx)
{
	struct node_walk *wk = ctx;
	struct buf l;
	const char *metric = node_metric[wk->which][0];
	int r;

	buf_init(&l, 256);
	r = buf_puts(&l, "node=");
	if (r == 0)
		r = metrics_label(&l, name);
	if (r == 0)
		r = buf_printf(&l, ",node_id=\"%lld\"", (long long)id);
	if (r < 0) {
		buf_free(&l);
		return r;
	}
	switch (wk->which) {
	case NM_UP:
		r = buf_printf(wk->out, "%s{%s} %d\n", metric, l.data, h->known && h->pdns_running);
		break;
	case NM_REACHABLE:
		r = buf_printf(wk->out, "%s{%s} %d\n", metric, l.data, h->known && h->reachable);
		break;
	case NM_RESPONSE:
		r = buf_printf(wk->out, "%s{%s} %.6f\n", metric, l.data, h->response_ms / 1e3);
		break;
	case NM_CHECKS:
		r = buf_printf(wk->out, "%s{%s} %llu\n", metric, l.data, load(&c->health_checks));
		break;
	case NM_PUSHES:
		r = buf_printf(wk->out,
			       "%s{%s,kind=\"zone\"} %llu\n%s{%s,kind=\"delete\"} %llu\n"
			       "%s{%s,kind=\"batch\"} %llu\n%s{%s,kind=\"delete_batch\"} %llu\n",
			       metric, l.data, load(&c->pushes_zone), metric, l.data,
			       load(&c->pushes_delete), metric, l.data, load(&c->pushes_batch),
			       metric, l.data, load(&c->pushes_delete_batch));
		break;
	case NM_FAILURES:
		r = buf_printf(wk->out, "%s{%s} %llu\n", metric, l.data, load(&c->push_failures));
		break;
	case NM_ACKED:
		r = buf_printf(wk->out, "%s{%s} %llu\n", metric, l.data, load(&c->zones_acked));
		break;
	case NM_QUEUE:
		r = buf_printf(wk->out, "%s{%s} %llu\n", metric, l.data, load(&c->queue_depth));
		break;
	case NM_DRIFT:
		r = buf_printf(wk->out, "%s{%s} %llu\n", metric, l.data, load(&c->drift));
		break;
	case NM_RESTARTS:
		r = buf_printf(wk->out, "%s{%s} %llu\n", metric, l.data, load(&c->pdns_restarts));
		break;
	case NM_RECONCILES:
		r = buf_printf(wk->out, "%s{%s} %llu\n", metric, l.data, load(&c->reconciles));
		break;
	case NM_RECONCILE_SECONDS:
		r = buf_printf(wk->out, "%s{%s} %.6f\n", metric, l.data,
			       (double)load(&c->reconcile_ns) / 1e9);
		break;
	case NM_LATENCY:
		r = buf_puts(&l, ",");
		if (r == 0)
			r = histogram_render(&c->push_latency, wk->out, metric, l.data);
		break;
	case NM_COUNT:
		break;
	}
	buf_free(&l);
	return r;
}

/* One store query per node gives both the zone states and the lag; the
 * lag samples wait in 'lag' until the zone states' section is complete. */
struct zone_state_walk {
	struct whm *w;
	struct store *st;
	struct buf *out;
	struct buf *lag;
};

static int render_zone_states(const struct store_server *s, void *ctx)
{
	struct zone_state_walk *zw = ctx;
	struct store_sync_summary sum = { 0 };
	struct buf l;
	uint64_t live = verify_live_zones(zw->w);
	int r = store_sync_summary(zw->st, s->id, &live, &sum);
	if (r < 0)
		return r;
	free(sum.last_error);
	buf_init(&l, 256);
	r = buf_puts(&l, "node=");
	if (r == 0)
		r = metrics_label(&l, s->name);
	if (r == 0)
		r = buf_printf(&l, ",node_id=\"%lld\"", (long long)s->id);
	if (r == 0)
		r = buf_printf(zw->out,
			       "yumna_whm_node_zones{%s,state=\"in_sync\"} %llu\n"
			       "yumna_whm_node_zones{%s,state=\"behind\"} %llu\n"
			       "yumna_whm_node_zones{%s,state=\"failing\"} %llu\n"
			       "yumna_whm_node_zones{%s,state=\"deleting\"} %llu\n",
			       l.data, (unsigned long long)sum.in_sync, l.data,
			       (unsigned long long)sum.behind, l.data,
			       (unsigned long long)sum.failing, l.data,
			       (unsigned long long)sum.deletes);
	if (r == 0)
		r = buf_printf(zw->lag, "yumna_whm_node_lag_seconds{%s} %lld\n", l.data,
			       (long long)nodes_lag_seconds(&sum, whm_now()));
	buf_free(&l);
	return r;
}

int metrics_render(struct whm *w, struct buf *out)
{
	uint64_t zones = 0, records = 0;
	struct store *st = whm_store(w);
	if (st == NULL)
		return ERR_UNAVAILABLE;
	int r = store_zone_counts(st, &zones, &records);
	if (r == 0)
		r = header(out, "yumna_whm_build_info", "gauge", "the controller's version");
	if (r == 0)
		r = buf_printf(out, "yumna_whm_build_info{version=\"%s\"} 1\n", YUMNA_VERSION);
	if (r == 0)
		r = header(out, "yumna_whm_zones", "gauge", "zones in the store");
	if (r == 0)
		r = buf_printf(out, "yumna_whm_zones %llu\n", (unsigned long long)zones);
	if (r == 0)
		r = header(out, "yumna_whm_records", "gauge",
			   "records in the store, without the SOA the controller writes for each "
			   "zone (yumna_agent_records_with_soa counts it)");
	if (r == 0)
		r = buf_printf(out, "yumna_whm_records %llu\n", (unsigned long long)records);
	for (unsigned k = 0; r == 0 && k < NM_COUNT; k++) {
		struct node_walk wk = { out, (enum node_metric)k };
		r = header(out, node_metric[k][0], node_metric[k][1], node_metric[k][2]);
		if (r == 0)
			r = sync_foreach_node(w->sync, render_node, &wk);
	}
	if (r == 0)
		r = header(out, "yumna_whm_node_zones", "gauge",
			   "live zones per cluster node by sync state (in_sync, behind: a "
			   "newer version waits, failing: its last push failed), and deleted "
			   "zones it has not confirmed deleting (deleting)");
	if (r == 0) {
		struct buf lag;
		buf_init(&lag, out->max);
		struct zone_state_walk zw = { w, st, out, &lag };
		r = store_server_foreach(st, true, render_zone_states, &zw);
		if (r == 0)
			r = header(out, "yumna_whm_node_lag_seconds", "gauge",
				   "age of the oldest change still waiting for the node, 0 when "
				   "none waits (lag_seconds in GET /api/dns/cluster/status)");
		if (r == 0 && lag.len > 0)
			r = buf_append(out, lag.data, lag.len);
		buf_free(&lag);
	}
	if (r == 0)
		r = secondary_metrics(w, out);
	if (r == 0)
		r = render_store(w->metrics, out);
	if (r == 0)
		r = render_http(w->metrics, out);
	struct procstat ps;
	if (r == 0 && procstat_read(&ps) == 0) /* without /proc, the rest still counts */
		r = procstat_render(&ps, out);
	return r;
}
