/* The JSON of zones and records, shared by every program.
 *
 * A zone push is the original Yumna panel's payload
 *   {"zone": {"domain": ..., "version": N, "serial": S, ...}, "records": [...]}
 * with records {"name", "type", "content", "ttl", "priority"}. This module
 * turns it into validated, canonical DNS data (dns.h) or refuses it with one
 * line saying what is wrong and where. */
#ifndef YUMNA_MODEL_H
#define YUMNA_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "base/err.h"
#include "dns/dns.h"

#define MODEL_VERSION_MAX 9223372036854775807ull
#define MODEL_DEFAULT_TTL 3600

/* The SOA added to a zone whose records hold none. */
struct soa_defaults {
	const char *mname; /* normalised absolute names */
	const char *rname;
	uint32_t refresh, retry, expire, minimum, ttl;
};

struct zone_push {
	struct zone_data data; /* checked by zone_check, SOA included */
	uint64_t version;
	uint32_t serial;
	/* zone.dnssec as sent, validated (model_dnssec_check), or NULL when
	 * the push says nothing about DNSSEC (the node's keys stay as they
	 * are). Owned: zone_push_clear() releases it. */
	json_t *dnssec;
	/* zone.transfer as sent, validated (model_transfer_check in xfr.h),
	 * or NULL when the push says nothing about transfers. Owned. */
	json_t *transfer;
	/* zone.presigned: the zone is served as its primary signed it, and
	 * its records may hold the DNSSEC types a signer makes
	 * (rr_type_is_dnssec()); without it they are refused. */
	bool presigned;
};

#define MODEL_DNSSEC_KEYS_MAX 8
#define MODEL_PRIVATE_KEY_MAX 8192

/* Check a push's zone.dnssec object:
 *   {"enabled": false}
 *   {"enabled": true, "nsec3param": null | "1 0 0 -" | "1 1 0 -",
 *    "publish_cds": true, "keys": [{"keytype": "csk"|"ksk"|"zsk",
 *    "active": true, "published": true, "dnskey": "257 3 13 <base64>",
 *    "privatekey": "Private-key-format: v1.2\n..."}, ...]}
 * ERR_INVALID with a message in 'err'; 'path' prefixes it. */
int model_dnssec_check(const json_t *d, const char *path, struct errmsg *err);

/* Parse and validate one push payload. On success the caller owns 'ret'
 * (zone_push_clear). On failure returns ERR_INVALID (422), ERR_TOO_LARGE
 * (413) or -ENOMEM, with the message in 'err', and
 * 'ret' holds nothing. */
int model_push_parse(const json_t *payload, const struct zone_limits *lim,
		     const struct soa_defaults *soa, struct zone_push *ret, struct errmsg *err);

void zone_push_clear(struct zone_push *p);

/* A record in the form the controller stores and the panel shows. */
struct model_record {
	/* "@", or relative to the zone ("www"); absolute (with its final
	 * dot) when the relative form would end with the zone's name. */
	char name[DNAME_TEXT_MAX];
	char type[16];
	char *content; /* canonical RDATA without MX/SRV priority; owned */
	uint32_t ttl;
	uint32_t priority; /* MX and SRV; 0 otherwise */
	bool disabled;	   /* kept, served by no node (PowerDNS's "disabled") */
};

/* Validate one record of the panel's API ({"name", "type", "content",
 * "ttl", "priority", "auto_publish", "routing_policy", "disabled"}) for
 * zone 'origin' on its own (whole-zone rules are zone_check's) and return
 * its stored form. A raw LUA record (type "LUA", content as
 * steer_lua_check() takes it) is accepted here: who may write one is the
 * controller's to decide. ERR_INVALID with a message in 'err'. */
int model_record_parse(const json_t *rec, const char *origin, uint32_t default_ttl,
		       struct model_record *ret, struct errmsg *err);

/* Flags of model_record_parse_flags(). */
enum {
	/* The DNSSEC types a signer makes are accepted too: only for the
	 * records a primary that signs the zone transfers, never a user's. */
	MODEL_PRESIGNED = 1 << 0,
	/* Names in the content are absolute, as the PowerDNS HTTP API takes
	 * them: one without a trailing dot is refused (RR_PARSE_ABSOLUTE),
	 * not made relative to the zone. */
	MODEL_ABSOLUTE = 1 << 1,
};

/* model_record_parse() with MODEL_* 'flags'. */
int model_record_parse_flags(const json_t *rec, const char *origin, uint32_t default_ttl,
			     unsigned flags, struct model_record *ret, struct errmsg *err);

/* The stored form of a validated record. */
int model_record_from_rr(const struct rr *rr, const char *origin, struct model_record *ret);

void model_record_clear(struct model_record *r);

/* An RRset's owner and type as a record of the panel's API gives them
 * ('name' "@", relative or absolute inside zone 'origin'; 'type' a
 * mnemonic, any case) in the form model_record_parse() stores them: the
 * name of struct model_record, the type's mnemonic. ERR_INVALID with a
 * message in 'err'. */
int model_rrset_parse(const char *name, const char *type, const char *origin,
		      char ret_name[DNAME_TEXT_MAX], char ret_type[16], struct errmsg *err);

/* The content the panel reads for a stored record of 'type' (a mnemonic)
 * whose canonical content is 'content': for TXT, SPF and CAA the plain form
 * the panel writes (rr_text_to_plain), when the data has one. *ret is NULL
 * when the stored content is what to show; otherwise the caller frees it.
 * Returns 0 or -ENOMEM. */
int model_content_show(const char *type, const char *content, char **ret);

/* The SOA serial after 'current' at time 'now': YYYYMMDD00 when that is
 * ahead of 'current' in RFC 1982 arithmetic, else current + 1 (never
 * backwards, whatever the clock says). */
uint32_t model_serial_next(uint32_t current, time_t now);

/* How a zone's serial moves on a change: PowerDNS's SOA-EDIT-API values
 * (DEFAULT, INCREASE, EPOCH, OFF), each never backwards in RFC 1982
 * arithmetic. */
enum model_serial_rule {
	MODEL_SERIAL_DATE,     /* model_serial_next() */
	MODEL_SERIAL_INCREASE, /* current + 1 */
	MODEL_SERIAL_EPOCH,    /* the Unix time, or current + 1 if that is not ahead */
	MODEL_SERIAL_KEEP,     /* current: the serial stays */
};

/* The serial after 'current' at time 'now' by 'rule'; 0 is skipped. */
uint32_t model_serial_after(enum model_serial_rule rule, uint32_t current, time_t now);

#endif
