/* PowerDNS's API shapes and the controller's: RRsets as PowerDNS's
 * clients send them ({"name": absolute, "type", "ttl", "records":
 * [{"content", "disabled"}], "comments"}) into the panel's record objects
 * that the zones service takes, checked on the way as PowerDNS checks
 * them. The RDATA itself is checked by the zones service
 * (the same rules as every other way in). */
#ifndef YUMNA_WHM_PDNS_SHAPE_H
#define YUMNA_WHM_PDNS_SHAPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "dns/dns.h"
#include "model/model.h"
#include "store/store.h"

/* A zone's settings as PowerDNS's API shows them. Every zone is served by
 * every node whatever its kind: Native and Master are kept for the tools
 * that read them back (and Master zones are notified, as in PowerDNS). */
struct pdns_settings {
	char kind[8];	       /* "Native", "Master" or "Slave" (secondary.h) */
	char soa_edit_api[12]; /* "DEFAULT", "INCREASE", "EPOCH" or "OFF" */
	char account[256];     /* "" for none */
};

/* The settings of a stored zone (store_zone.pdns; "" or a text this module
 * did not write: the defaults). */
void pdns_settings_read(const char *stored, struct pdns_settings *s);
/* Their stored text: "" for the defaults. */
void pdns_settings_write(const struct pdns_settings *s, char out[STORE_ZONE_PDNS_MAX]);
/* The serial rule of a zone whose stored settings are 'stored': its
 * SOA-EDIT-API (DEFAULT is the controller's date-based rule). */
enum model_serial_rule pdns_serial_rule(const char *stored);

/* Apply the "kind", "soa_edit_api" and "account" of a request body (each
 * optional; JSON null is absent, as PowerDNS-Admin sends it) to 's'.
 * ERR_INVALID with 'err' naming the key: kinds that need catalog zones
 * (Producer, Consumer) are refused, unknown kinds and SOA-EDIT-API values
 * too. "Secondary" is stored as "Slave"; an empty soa_edit_api is OFF. */
int pdns_settings_apply(const json_t *body, struct pdns_settings *s, struct errmsg *err);

/* What a body's "dnssec", "nsec3param" and "nsec3narrow" ask: *sign -1
 * (leave it), 0 (unsign) or 1 (sign); *how, when "nsec3param" is given,
 * the signing service's body for the NSEC choice ({"nsec3", "nsec3_optout"};
 * the caller frees it), else NULL. The cluster signs with NSEC3 as RFC 9276
 * asks: "1 0 0 -", or "1 1 0 -" with opt-out; "" is NSEC. ERR_INVALID for
 * other parameters, narrow NSEC3, or "nsec3param" with "dnssec": false.
 * Each is optional; JSON null is as if not given. */
int pdns_dnssec_wanted(const json_t *body, int *sign, json_t **how, struct errmsg *err);

/* What the RRsets of a new zone hold: the panel's records (the SOA not
 * among them), and the SOA's RDATA when one was given. */
struct pdns_records {
	const char *origin; /* the zone's name, borrowed */
	json_t *records;    /* [{"name", "type", "content", "ttl", "disabled"?}] */
	char *soa_rdata;    /* owned; NULL if the RRsets had no SOA */
	bool apex_ns;	    /* an NS RRset at the apex was among them */
	json_t *comments;   /* "name<TAB>type" -> comments (zones.h's
			     * zone_init.comments); NULL when none */
};

/* Read the "rrsets" of a zone creation for zone 'origin' (normalised):
 * names absolute and canonical (their trailing dot), inside the zone,
 * each (name, type) once, a TTL for each, records as objects with a
 * "content" string and an optional "disabled", comments as
 * pdns_comments_read() takes them; NULL or JSON null: none. ERR_INVALID
 * with 'err' naming the RRset. The caller clears 'ret' with
 * pdns_records_clear(). */
int pdns_rrsets_read(const json_t *rrsets, const char *origin, struct pdns_records *ret,
		     struct errmsg *err);

/* Read a zone creation's "zone", 'len' bytes of BIND zone file text, for
 * zone 'origin' as an import reads it (whm/import.h): records without a
 * TTL get 'default_ttl', at most 'max_records'. ERR_INVALID with the first
 * problem and its line in 'err'. The caller clears 'ret'. */
int pdns_zone_text_read(const char *text, size_t len, const char *origin, uint64_t default_ttl,
			size_t max_records, struct pdns_records *ret, struct errmsg *err);

void pdns_records_clear(struct pdns_records *p);

/* Limits of RRset comments: PowerDNS's SQL schemas keep 64 KiB of text
 * and 40 bytes of account; a bound on their number keeps one RRset's
 * comments within the store's row. */
#define PDNS_COMMENTS_MAX 20
#define PDNS_COMMENT_MAX 65535
#define PDNS_ACCOUNT_MAX 40

/* Read the "comments" of an RRset at 'path' ("rrsets[2]") as PowerDNS
 * takes them, [{"content", "account", "modified_at"?}], into *ret (the
 * caller frees it), each with its three keys, "modified_at" 'now' when
 * absent. ERR_INVALID naming the comment at fault: not a list, a comment
 * not an object, content or account missing or not a string, too long,
 * modified_at not a number of seconds (0 to 2^32-1), more than
 * PDNS_COMMENTS_MAX. */
int pdns_comments_read(const json_t *in, const char *path, uint32_t now, json_t **ret,
		       struct errmsg *err);

/* Whether 'name' is canonical as PowerDNS's API asks (absolute: it ends
 * with '.'): 0, or ERR_INVALID with 'err' naming 'what' and the name
 * (quoted for a message). */
int pdns_canonical(const char *what, const char *name, struct errmsg *err);

#endif
