#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "backend.h"
#include "base/procstat.h"
#include "metrics.h"
#include "pdns.h"

static const double push_bounds[AGENT_NBOUNDS] = AGENT_PUSH_BOUNDS;
static const double batch_bounds[AGENT_NBOUNDS] = AGENT_BATCH_BOUNDS;

static void observe(struct agent_histogram *h, const double *bounds, double seconds)
{
	unsigned i = 0;
	while (i < AGENT_NBOUNDS && seconds > bounds[i])
		i++;
	atomic_fetch_add(&h->bucket[i], 1);
	atomic_fetch_add(&h->sum_us, (unsigned long long)(seconds * 1e6));
}

void agent_stats_observe(struct agent_stats *s, double seconds)
{
	observe(&s->push_latency, push_bounds, seconds);
}

void agent_stats_observe_batch(struct agent_stats *s, double seconds, uint64_t zones)
{
	observe(&s->batch_latency, batch_bounds, seconds);
	atomic_fetch_add(&s->batches, 1);
	atomic_fetch_add(&s->batch_zones, zones);
}

static int histogram(struct buf *out, const char *name, const char *help,
		     const struct agent_histogram *h, const double *bounds)
{
	unsigned long long total = 0;
	int r = buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (unsigned i = 0; r == 0 && i < AGENT_NBOUNDS; i++) {
		total += atomic_load(&h->bucket[i]);
		r = buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], total);
	}
	total += atomic_load(&h->bucket[AGENT_NBOUNDS]);
	if (r == 0)
		r = buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n",
			       name, total, name, (double)atomic_load(&h->sum_us) / 1e6, name,
			       total);
	return r;
}

static int counter(struct buf *out, const char *name, const char *help, const char *type,
		   unsigned long long v)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
			  name, v);
}

/* PowerDNS counters worth re-exporting: its name, ours, help, type. */
static const char *const pdns_exported[][4] = {
	{ "udp-queries", "yumna_pdns_udp_queries_total", "UDP queries received", "counter" },
	{ "tcp-queries", "yumna_pdns_tcp_queries_total", "TCP queries received", "counter" },
	{ "udp-answers", "yumna_pdns_udp_answers_total", "UDP answers sent", "counter" },
	{ "tcp-answers", "yumna_pdns_tcp_answers_total", "TCP answers sent", "counter" },
	{ "packetcache-hit", "yumna_pdns_packetcache_hits_total", "packet cache hits", "counter" },
	{ "packetcache-miss", "yumna_pdns_packetcache_misses_total", "packet cache misses",
	  "counter" },
	{ "query-cache-hit", "yumna_pdns_querycache_hits_total", "query cache hits", "counter" },
	{ "query-cache-miss", "yumna_pdns_querycache_misses_total", "query cache misses",
	  "counter" },
	{ "servfail-packets", "yumna_pdns_servfail_total", "SERVFAIL answers", "counter" },
	{ "latency", "yumna_pdns_latency_seconds",
	  "average time PowerDNS took to answer a query (its own moving average)", "gauge" },
	{ "uptime", "yumna_pdns_uptime_seconds", "PowerDNS uptime", "gauge" },
};

/* PowerDNS reports these in microseconds; Prometheus wants seconds. */
static bool in_microseconds(const char *pdns_name)
{
	return strcmp(pdns_name, "latency") == 0;
}

static int render_pdns(struct agent *a, struct buf *out)
{
	json_t *list = NULL;
	int r = 0;
	if (!atomic_load(&a->pdns_up) || pdns_statistics(a->pdns, &list) < 0)
		return 0;
	for (unsigned e = 0; r == 0 && e < sizeof(pdns_exported) / sizeof(pdns_exported[0]); e++) {
		size_t i;
		json_t *item;
		json_array_foreach(list, i, item) {
			const char *name = json_string_value(json_object_get(item, "name"));
			const char *value = json_string_value(json_object_get(item, "value"));
			if (name == NULL || value == NULL || strcmp(name, pdns_exported[e][0]) != 0)
				continue;
			if (in_microseconds(name))
				r = buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.6f\n",
					       pdns_exported[e][1], pdns_exported[e][2],
					       pdns_exported[e][1], pdns_exported[e][3],
					       pdns_exported[e][1],
					       (double)strtoull(value, NULL, 10) / 1e6);
			else
				r = counter(out, pdns_exported[e][1], pdns_exported[e][2],
					    pdns_exported[e][3], strtoull(value, NULL, 10));
			break;
		}
	}
	json_decref(list);
	return r;
}

int metrics_render(struct agent *a, struct buf *out)
{
	struct agent_stats *s = &a->stats;
	uint64_t zones = 0, records = 0;

	pthread_mutex_lock(&a->db_lock);
	backend_counts(a->db, &zones, &records);
	pthread_mutex_unlock(&a->db_lock);

	int r = buf_printf(out,
			   "# HELP yumna_agent_build_info the agent's version\n"
			   "# TYPE yumna_agent_build_info gauge\n"
			   "yumna_agent_build_info{version=\"%s\"} 1\n"
			   "# HELP yumna_agent_pushes_total zone pushes by result\n"
			   "# TYPE yumna_agent_pushes_total counter\n"
			   "yumna_agent_pushes_total{result=\"applied\"} %llu\n"
			   "yumna_agent_pushes_total{result=\"unchanged\"} %llu\n"
			   "yumna_agent_pushes_total{result=\"rejected\"} %llu\n"
			   "yumna_agent_pushes_total{result=\"failed\"} %llu\n",
			   YUMNA_VERSION, (unsigned long long)atomic_load(&s->pushes_applied),
			   (unsigned long long)atomic_load(&s->pushes_unchanged),
			   (unsigned long long)atomic_load(&s->pushes_rejected),
			   (unsigned long long)atomic_load(&s->pushes_failed));
	if (r == 0)
		r = counter(out, "yumna_agent_batches_total", "sync-batch requests applied",
			    "counter", atomic_load(&s->batches));
	if (r == 0)
		r = counter(out, "yumna_agent_zone_deletes_total", "zones deleted", "counter",
			    atomic_load(&s->deletes));
	if (r == 0)
		r = counter(out, "yumna_agent_drift_total",
			    "zones found not to hold what was applied (changed behind the agent), "
			    "then written again",
			    "counter", atomic_load(&s->drift));
	if (r == 0)
		r = counter(out, "yumna_agent_batch_zones_total",
			    "zones carried by the sync-batch requests in yumna_agent_batches_total",
			    "counter", atomic_load(&s->batch_zones));
	if (r == 0)
		r = histogram(out, "yumna_agent_push_duration_seconds",
			      "time from request to served, for applied single-zone pushes "
			      "(sync-zone); batches are in yumna_agent_batch_duration_seconds",
			      &s->push_latency, push_bounds);
	if (r == 0)
		r = histogram(out, "yumna_agent_batch_duration_seconds",
			      "time of a sync-batch request answered with success, from the first "
			      "byte of its body (zones are checked as it streams in) to its zones "
			      "served; one observation per batch whatever its size, divide by "
			      "yumna_agent_batch_zones_total for the time per zone",
			      &s->batch_latency, batch_bounds);
	if (r == 0)
		r = counter(out, "yumna_agent_zones", "zones PowerDNS serves from this node",
			    "gauge", zones);
	if (r == 0)
		r = counter(out, "yumna_agent_records_with_soa",
			    "records PowerDNS serves from this node, each zone's SOA included "
			    "(yumna_whm_records leaves the SOA out)",
			    "gauge", records);
	if (r == 0)
		r = counter(out, "yumna_agent_records",
			    "deprecated: the same value as yumna_agent_records_with_soa, whose "
			    "name says the SOA is counted",
			    "gauge", records);
	if (r == 0)
		r = counter(out, "yumna_agent_powerdns_up", "1 if PowerDNS answers its API",
			    "gauge", atomic_load(&a->pdns_up) ? 1 : 0);
	if (r == 0)
		r = counter(out, "yumna_agent_pdns_restarts_total",
			    "pdns_server restarts after it died or hung (managed mode)", "counter",
			    atomic_load(&s->pdns_restarts));
	if (r == 0)
		r = render_pdns(a, out);
	struct procstat ps;
	if (r == 0 && procstat_read(&ps) == 0) /* without /proc, the rest still counts */
		r = procstat_render(&ps, out);
	return r;
}
