/* The routes for operators and monitors: health, metrics, events, and the
 * cluster's state as the store and the agents report it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "base/err.h"
#include "catalog.h"
#include "events.h"
#include "metrics.h"
#include "nodes.h"
#include "secondary.h"
#include "sync.h"

void api_health(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct errmsg err;
	struct store *st = whm_store_try(ctx, &err);
	uint64_t zones, records;
	int r = st != NULL ? store_zone_counts(st, &zones, &records) : ERR_UNAVAILABLE;
	if (r < 0) {
		if (st != NULL)
			api_store_failed(st, r, "cannot count the zones");
		else
			api_store_refused(err.text);
		http_reply_json(rep, 503,
				json_pack("{s:s,s:I}", "status", "unhealthy", "timestamp",
					  (json_int_t)whm_now()));
		return;
	}
	http_reply_json(rep, 200,
			json_pack("{s:s,s:I,s:b,s:I}", "status", "healthy", "timestamp",
				  (json_int_t)whm_now(), "anycast_ready", 1, "zones",
				  (json_int_t)zones));
}

/* Prometheus text format; any valid token (a read token is enough). */
void api_metrics(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct buf out;
	buf_init(&out, 64u << 20);
	int r = metrics_render(ctx, &out);
	if (r < 0) {
		buf_free(&out);
		http_reply_error(rep, r, "cannot render metrics");
		return;
	}
	api_reply_buf(rep, "text/plain; version=0.0.4; charset=utf-8", &out);
}

/* Recent events, oldest first; ?since=SEQ for the ones after SEQ. */
void api_cluster_events(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	char text[24];
	uint64_t since = 0, limit = EVENTS_MAX;

	for (int i = 0; i < 2; i++) {
		const char *key = i == 0 ? "since" : "limit";
		int r = http_request_query(req, key, text, sizeof(text));
		if (r == -ENOENT)
			continue;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(text, &end, 10);
		if (r < 0 || text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 ||
		    (i == 1 && (v < 1 || v > EVENTS_MAX))) {
			http_reply_error(rep, ERR_INVALID,
					 i == 0 ? "since: must be a sequence number"
						: "limit: must be between 1 and 256");
			return;
		}
		if (i == 0)
			since = v;
		else
			limit = v;
	}
	json_t *j = events_json(w->events, since, (unsigned)limit);
	if (j == NULL) {
		http_reply_error(rep, -ENOMEM, NULL);
		return;
	}
	http_reply_json(rep, 200, j);
}

void api_cluster_status(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st = api_store(ctx, rep);
	json_t *nodes;
	unsigned online, offline;

	if (st == NULL)
		return;
	int r = nodes_status(ctx, st, &nodes, &online, &offline);
	if (r < 0) {
		http_reply_error(rep, r, "cannot read the cluster");
		return;
	}
	http_reply_json(rep, 200,
			json_pack("{s:I,s:I,s:I,s:o,s:o,s:o}", "totalNodes",
				  (json_int_t)json_array_size(nodes), "onlineNodes",
				  (json_int_t)online, "offlineNodes", (json_int_t)offline, "nodes",
				  nodes, "secondaryZones", secondary_summary_json(ctx), "catalog",
				  catalog_status_json(ctx)));
}

/* Totals from the store, and per node what its agent reports (zones,
 * records and PowerDNS's counters), fetched from every node at once. */
void api_cluster_statistics(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st = api_store(w, rep);
	uint64_t zones = 0, records = 0;
	json_t *agents = NULL;
	if (st == NULL)
		return;
	json_t *nodes = NULL;
	unsigned online = 0, offline = 0;
	int r = store_zone_counts(st, &zones, &records);
	if (r == 0)
		r = nodes_status(w, st, &nodes, &online, &offline);
	if (r == 0)
		r = sync_agents_get(w->sync, AGENT_STATISTICS, 1500, &agents);
	if (r < 0) {
		json_decref(nodes);
		http_reply_error(rep, r, "cannot read statistics");
		return;
	}
	static const char *const counters[] = { "queries", "answers", "cache_hits", "cache_misses",
						NULL };
	json_t *totals = json_object();
	size_t i;
	json_t *node;
	uint64_t served = 0;
	json_array_foreach(nodes, i, node) {
		char key[24];
		snprintf(key, sizeof(key), "%lld",
			 (long long)json_integer_value(json_object_get(node, "nodeId")));
		json_t *a = json_object_get(agents, key);
		json_object_set(node, "statistics", a ? a : json_null());
		served += (uint64_t)json_integer_value(json_object_get(a, "zones"));
		for (const char *const *k = counters; *k != NULL; k++)
			json_object_set_new(
			    totals, *k,
			    json_integer(json_integer_value(json_object_get(totals, *k)) +
					 json_integer_value(json_object_get(a, *k))));
	}
	json_decref(agents);
	size_t n = json_array_size(nodes);
	http_reply_json(rep, 200,
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:o,s:o}", "totalZones",
				  (json_int_t)zones, "totalRecords", (json_int_t)records,
				  "clusterNodes", (json_int_t)n, "onlineNodes", (json_int_t)online,
				  "offlineNodes", (json_int_t)offline, "averageZonesPerNode",
				  n ? (double)served / (double)n : 0.0, "queries", totals, "nodes",
				  nodes));
}

void api_cluster_health(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	json_t *results;
	int r = sync_health_sweep(w->sync, 1500, &results);
	if (r < 0) {
		http_reply_error(rep, r, NULL);
		return;
	}
	size_t healthy = api_count_true(results, "healthy");
	http_reply_json(rep, 200,
			json_pack("{s:I,s:I,s:I,s:o}", "timestamp", (json_int_t)whm_now(),
				  "totalNodes", (json_int_t)json_array_size(results),
				  "healthyNodes", (json_int_t)healthy, "results", results));
}
