/* The agent's HTTP routes (docs/agent-api.md). */
#ifndef YUMNA_AGENT_API_H
#define YUMNA_AGENT_API_H

#include "agent.h"
#include "http/server.h"

/* The route table; ends with a zeroed entry. */
extern struct http_route api_routes[];

/* Apply the configured limits to the route table (the batch body cap). */
void api_configure(struct agent *a);

/* The authorisation callback: X-Agent-Secret or Authorization: Bearer,
 * exactly one credential, compared in constant time. */
int api_authorize(struct http_request *req, void *ctx, const char **ret_msg);

#endif
