/* GET /metrics: the agent's counters and PowerDNS's, in Prometheus text. */
#ifndef YUMNA_AGENT_METRICS_H
#define YUMNA_AGENT_METRICS_H

#include "agent.h"
#include "base/buf.h"

int metrics_render(struct agent *a, struct buf *out);

#endif
