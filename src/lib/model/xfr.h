/* Zone transfers to third-party secondaries, as the controller checks its
 * settings and as a push carries them to the nodes:
 *   zone.transfer = {"allow_from": ["192.0.2.0/24", ...],
 *                    "keys": ["key1.example.", ...],
 *                    "notify": ["192.0.2.1", "192.0.2.1:5300", "[2001:db8::1]:53", ...],
 *                    "tsig": [{"name", "algorithm", "secret"}, ...]}
 * "keys" are the TSIG keys that may transfer the zone (each named in
 * "tsig" with its secret), "notify" the addresses told of each change. */
#ifndef YUMNA_MODEL_XFR_H
#define YUMNA_MODEL_XFR_H

#include <stddef.h>

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

#endif
