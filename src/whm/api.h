/* The controller's HTTP routes: the Yumna panel's /api/dns routes. */
#ifndef YUMNA_WHM_API_H
#define YUMNA_WHM_API_H

#include "http/server.h"
#include "whm.h"

extern const struct http_route api_routes[];

/* Bearer token (hashed, looked up in the store); read-only tokens may only
 * GET. Writes with a read token are refused with 403 by the handlers. */
bool api_authorize(struct http_request *req, void *ctx);

#endif
