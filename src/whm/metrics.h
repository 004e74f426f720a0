/* The controller's counters and GET /metrics (Prometheus text format 0.0.4).
 *
 * What is counted on a hot path (every API request, every store
 * transaction, every push) is a few relaxed atomic adds on memory allocated
 * once: no lock, no allocation. Gauges that the store or the sync engine
 * already know (zones behind, node health) are read when /metrics is
 * scraped. */
#ifndef YUMNA_WHM_METRICS_H
#define YUMNA_WHM_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "http/server.h"

/* Upper bounds (seconds) of the latency histograms' buckets. */
#define METRICS_BOUNDS                                                                         \
	{                                                                                      \
		0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 \
	}
#define METRICS_NBOUNDS 14

/* A latency histogram: one bucket per bound plus one above the last; each
 * observation lands in one bucket (made cumulative when rendered). */
struct histogram {
	atomic_ullong bucket[METRICS_NBOUNDS + 1];
	atomic_ullong sum_ns;
};

void histogram_observe(struct histogram *h, uint64_t ns);

/* Append the _bucket, _sum and _count samples of 'h' for metric 'name';
 * 'labels' is empty or 'key="value",' pairs ending with a comma. */
int histogram_render(const struct histogram *h, struct buf *out, const char *name,
		     const char *labels);

/* Append '"value"' with backslash, quote and newline escaped. */
int metrics_label(struct buf *out, const char *value);

struct whm;
struct whm_metrics;

/* Counters for the API routes in 'routes' (ending with a zeroed entry,
 * which must outlive the metrics). */
int metrics_new(const struct http_route *routes, struct whm_metrics **ret);
void metrics_free(struct whm_metrics *m);

/* http_observe_fn: 'ctx' is the struct whm whose metrics count it. */
void metrics_http_observe(void *ctx, const struct http_route *route, unsigned status,
			  uint64_t elapsed_ns);

/* The store's txn_observe: 'ctx' is the struct whm_metrics. */
void metrics_store_txn(void *ctx, int how, bool relaxed, uint64_t elapsed_ns);

/* The whole exposition. */
int metrics_render(struct whm *w, struct buf *out);

#endif
