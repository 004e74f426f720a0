/* Zone transfers to third-party secondaries, as the controller checks its
 * settings and as a push carries them to the nodes:
 *   zone.transfer = {"allow": [{"from": "192.0.2.0/24", "key": "key1."}, ...],
 *                    "allow_from": ["192.0.2.0/24", ...],
 *                    "keys": ["key1.example.", ...],
 *                    "notify": ["192.0.2.1", "192.0.2.1:5300", "[2001:db8::1]:53", ...],
 *                    "tsig": [{"name", "algorithm", "secret"}, ...]}
 * "allow" are the secondaries that may transfer the zone: each one a
 * prefix its address must lie in and the TSIG key it must sign with (each
 * key named in "tsig" with its secret); "allow_from" and "keys" are the
 * same prefixes and keys listed apart (for agents of older releases; an
 * agent given no "allow" takes every prefix with every key). "notify" are
 * the addresses told of each change. */
#ifndef YUMNA_MODEL_XFR_H
#define YUMNA_MODEL_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <jansson.h>

#include "base/err.h"

#define XFR_LIST_MAX 64
/* "[ffff:...:255.255.255.255]:65535" and its terminator. */
#define XFR_ADDR_MAX 64

/* An IP address or prefix ("192.0.2.1", "2001:db8::/32"; no bits past the
 * length). 0, or ERR_INVALID with a static message in *ret_msg. */
int xfr_prefix_check(const char *text, const char **ret_msg);

/* An address to NOTIFY: "192.0.2.1", "192.0.2.1:5300", "2001:db8::1" or
 * "[2001:db8::1]:5300" (port 1 to 65535). 0 with its canonical text in
 * 'ret' (the address as inet_ntop writes it, the port only when given),
 * or ERR_INVALID with a static message in *ret_msg. */
int xfr_notify_check(const char *text, char ret[XFR_ADDR_MAX], const char **ret_msg);

/* Check a push's zone.transfer object (shape above); ERR_INVALID with a
 * message in 'err' prefixed with 'path'. */
int model_transfer_check(const json_t *t, const char *path, struct errmsg *err);

#define XFR_PRIMARY_TEXT_MAX 64
#define XFR_DEFAULT_PORT 53

/* One primary: its address and port. */
struct xfr_primary {
	struct sockaddr_storage addr;
	socklen_t len;
	char text[XFR_PRIMARY_TEXT_MAX + 8]; /* "192.0.2.1:53", "[2001:db8::1]:53" */
};

/* "address", "address:port", "[v6address]:port" or a bare IPv6 address
 * into 'ret' (port 53 unless given). ERR_INVALID with a message in 'err'. */
int xfr_primary_parse(const char *text, struct xfr_primary *ret, struct errmsg *err);

/* Whether 'a' is the address of 'p' (the port is not compared: a NOTIFY
 * comes from any port). */
bool xfr_primary_matches(const struct xfr_primary *p, const struct sockaddr_storage *a);

/* Whether address 'a' lies in prefix 'prefix' (checked by
 * xfr_prefix_check(); a bare address is its own /32 or /128). */
bool xfr_prefix_contains(const char *prefix, const struct sockaddr_storage *a);

#endif
