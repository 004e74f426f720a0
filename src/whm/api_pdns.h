/* What the files of PowerDNS's API (api_pdns.c, api_pdns_zone.c,
 * api_pdns_ops.c, api_pdns_keys.c, api_pdns_meta.c) share: the checks of
 * the path every /api/v1/servers/:server route starts with, and a zone's
 * fields. Not for use outside the API. */
#ifndef YUMNA_WHM_API_PDNS_H
#define YUMNA_WHM_API_PDNS_H

#include <jansson.h>
#include <stdbool.h>

#include "base/err.h"
#include "dns/dns.h"
#include "http/server.h"
#include "store/store.h"
#include "whm.h"

#define PDNS_SERVER_URL "/api/v1/servers/localhost"

/* Path parameter 0 of every /servers/:server route: only "localhost"
 * exists, as in PowerDNS; anything else is answered with a 404. */
bool api_pdns_our_server(struct http_request *req, struct http_reply *rep);

/* The zone named by path parameter 1 (a zone id, "=XX" escapes undone, the
 * trailing dot optional as PowerDNS takes it): 0 with *z set (the caller
 * clears it), or an answered error: 400 for a broken escape, 422 for a
 * name that is not one, 404 for no such live zone. */
int api_pdns_path_zone(struct http_request *req, struct http_reply *rep, struct store *st,
		       struct store_zone *z);

/* The fields of zone 'z' in a list ('full': those of GET one, without its
 * rrsets). With 'dnssec' false, as ?dnssec=false asks, the fields that
 * PowerDNS must compute per zone are left out (dnssec, edited_serial).
 * The caller owns the result; NULL without memory. */
json_t *api_pdns_zone_json(const struct store_zone *z, bool full, bool dnssec);

/* A Slave zone's "masters" and "master_tsig_key_ids" in a body, as
 * api_pdns_masters_read() checks them. */
struct pdns_masters {
	bool masters;			     /* "masters" given (not absent, not null) */
	bool keys;			     /* "master_tsig_key_ids" given */
	char primaries[STORE_PRIMARIES_MAX]; /* secondary_primaries_check()'s
					      * text; "" for an empty list */
	char key[DNAME_TEXT_MAX];	     /* the key's stored name; "" for none */
};

/* Read a body's "masters" (a list of up to 8 "address[:port]") and
 * "master_tsig_key_ids" (a list of at most one existing key's name) into
 * 'ret'; each may be absent or null (JSON null is absent, as Go clients
 * send a nil list). ERR_INVALID with 'err' naming the value at fault. */
int api_pdns_masters_read(struct whm *w, const json_t *body, struct pdns_masters *ret,
			  struct errmsg *err);

#endif
