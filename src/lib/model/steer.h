/* Traffic steering: routing policies checked and compiled to PowerDNS LUA
 * record content.
 *
 * An A, AAAA or CNAME RRset may carry one structured policy (JSON):
 *
 *   {"type": "weighted", "sticky": false,
 *    "targets": [{"target": "192.0.2.1", "weight": 30}, ...]}
 *   {"type": "failover", "targets": ["192.0.2.1", ...],
 *    "order": "equal" | "ordered",
 *    "check": {"tcp_port": 443} | {"url": "https://host/path"}
 *             (+ "interval", "timeout", "minimum_failures"),
 *    "when_all_down": "all" | "backup", "backup": "192.0.2.9"}
 *   {"type": "geo", "regions": [{"country": "DE", "targets": [...]},
 *                               {"continent": "EU", "targets": [...]}],
 *    "default": [...], "check": {...}}
 *   {"type": "closest", "targets": [...]}
 *
 * Each may hold "ttl" (0..2147483647): the TTL of an RRset-level policy's
 * answer (STEER_DEFAULT_TTL when absent).
 *
 * The panel's per-record shape ({"type": "weighted", "weight": 0..100},
 * {"type": "geo", "region": "DE"}, {"type": "failover", "health_check_url":
 * "..."}) is turned into that form by steer_policy_from_records().
 *
 * Every value that reaches the Lua code is checked first (addresses with
 * inet_pton, names with the dns library, codes against ISO 3166, URLs
 * parsed) and then written by one quoting function: the content is never
 * a concatenation of unchecked input. Errors are ERR_INVALID (422) with a
 * message in 'err' naming the field, or -ENOMEM. */
#ifndef YUMNA_STEER_H
#define YUMNA_STEER_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"

#define STEER_TARGETS_MAX 32
#define STEER_REGIONS_MAX 64
#define STEER_WEIGHT_MAX 1000000
#define STEER_URL_MAX 1024
/* The TTL of a steered answer whose policy gives none ("ttl"). */
#define STEER_DEFAULT_TTL 60
/* The longest LUA record content the compiler produces. */
#define STEER_CONTENT_MAX 16384
/* An address that is never up: Linux refuses a TCP connect() to the
 * limited broadcast address at once (ENETUNREACH), whatever the routes
 * (0.0.0.0/8, used before, is routable since Linux 5.3). A health check
 * of {target, sentinel} with selector 'all' returns one address exactly
 * when the target is up. */
#define STEER_SENTINEL "255.255.255.255"

/* True if 'code' is an ISO 3166-1 alpha-2 country code (upper case). */
bool steer_country_known(const char *code);

/* True if 'code' is one of the continent codes of the GeoIP databases
 * (AF AN AS EU NA OC SA). */
bool steer_continent_known(const char *code);

/* Flags of steer_compile_flags() and steer_url_check_flags(). */
/* A policy the store holds, compiled to serve it: the rules it was saved
 * under hold, so that a policy an earlier release took is still served
 * (an IPv6 literal URL host, a query without a path). New policies are
 * checked without it. */
#define STEER_STORED 1u

/* Check a health-check URL: http or https, no userinfo or fragment, the
 * host a name or an IPv4 address (no IPv6 literal), the port 1..65535, a
 * path before any query, the path and query plain RFC 3986 text without
 * quotes. 'path' names the field in messages. */
int steer_url_check(const char *s, const char *path, struct errmsg *err);
int steer_url_check_flags(const char *s, const char *path, unsigned flags, struct errmsg *err);

/* Check a panel record's routing_policy 'rp' (JSON null is no policy and
 * fine). 'path' prefixes messages ("record"). */
int steer_record_policy_check(const json_t *rp, const char *path, struct errmsg *err);

/* The structured policy the records of one RRset make. 'type' is the
 * RRset's type mnemonic; 'records' an array of objects holding at least
 * "content" and "routing_policy". *ret is NULL when no record carries a
 * policy; otherwise a new reference the caller releases. Refused: a policy
 * beside records without one, records of mixed policy types, failover
 * records with different URLs. */
int steer_policy_from_records(const char *type, const json_t *records, json_t **ret,
			      struct errmsg *err);

/* Check 'policy' for an RRset of 'type' ("A", "AAAA", "CNAME") in zone
 * 'origin' (normalised, trailing dot) and compile it into the content of
 * one LUA record ('type' followed by the quoted Lua code). On success the
 * caller frees *ret. */
int steer_compile(const json_t *policy, const char *type, const char *origin, char **ret,
		  struct errmsg *err);
/* steer_compile() with STEER_* 'flags'. */
int steer_compile_flags(const json_t *policy, const char *type, const char *origin, unsigned flags,
			char **ret, struct errmsg *err);

/* The first label of the name a node reads its targets' health at: the
 * TXT record steer_health_compile() makes for RRset NAME is served at
 * _yumna-health.NAME (a wildcard's: below). */
#define STEER_HEALTH_LABEL "_yumna-health"

/* The first label of the health record of a wildcard RRset, '*' or
 * '*.NAME': _yumna-health-wildcard or _yumna-health-wildcard.NAME, in
 * place of the '*' (_yumna-health.*.NAME is no owner: an asterisk label
 * is a wildcard only leftmost, RFC 4592 section 2.1.1). */
#define STEER_HEALTH_WILDCARD_LABEL "_yumna-health-wildcard"

/* The health record of a health-checked policy (failover, geo with a
 * "check") of an RRset of 'type' in zone 'origin': the content of a LUA
 * TXT record whose answer, to a query from the node itself (127.0.0.1 or
 * ::1), is one string per distinct target, "TYPE ADDRESS up" or "TYPE
 * ADDRESS down", as PowerDNS's own checks (the same ones the served
 * record makes) see it; to anyone else the one string "refused". *ret is
 * NULL for a policy without health checks; otherwise the caller frees
 * it. 'flags' and errors as steer_compile_flags(). */
int steer_health_compile(const json_t *policy, const char *type, const char *origin, unsigned flags,
			 char **ret, struct errmsg *err);

/* Check the content of a LUA record as steer_compile() or
 * steer_health_compile() writes it: "A", "AAAA", "CNAME" or "TXT", a space, and one double-quoted string of printable
 * ASCII without '"' or '\\', at most STEER_CONTENT_MAX bytes. What the
 * agent accepts in a push. */
int steer_lua_check(const char *content, struct errmsg *err);

/* Append 's' to 'b' as a single-quoted Lua string. Only printable ASCII
 * without quotes or backslashes is accepted (-EINVAL otherwise): checked
 * values never hold other bytes, and refusing beats escaping through two
 * layers of quoting (Lua's and the LUA record's). */
struct buf;
int steer_lua_quote(struct buf *b, const char *s);

#endif
