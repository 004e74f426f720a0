/* The controller's HTTP routes: the Yumna panel's /api/dns routes. */
#ifndef YUMNA_WHM_API_H
#define YUMNA_WHM_API_H

#include "http/server.h"
#include "whm.h"

extern const struct http_route api_routes[];

/* Bearer token (hashed, looked up in the store); read-only tokens may only
 * GET. Writes with a read token are refused with 403 by the handlers. A
 * token the store does not hold is ERR_AUTH (401); a store that cannot be
 * read is ERR_UNAVAILABLE (503), never a 401. */
int api_authorize(struct http_request *req, void *ctx, const char **ret_msg);

#endif
