/* Error codes shared by every yumna-dns module.
 *
 * Functions return 0 on success or a negative code. As in Knot DNS, a code
 * whose meaning an errno value already has is that value (ERR_NOT_FOUND is
 * -ENOENT), so a store's or a system call's -ENOENT needs no translation on
 * its way to a 404. The codes without an errno twin are project codes under
 * ERR_BASE: input a user got wrong (ERR_INVALID; -EINVAL stays a caller's
 * mistake), credentials (-EACCES from open() is not a 401), the database,
 * and the rest below. err_str() names any code; err_http_status() is the one
 * mapping from an error to the HTTP status an API answers with.
 *
 * An error's text for people travels beside the code in a struct errmsg. */
#ifndef YUMNA_ERR_H
#define YUMNA_ERR_H

#include <errno.h>
#include <stdarg.h>

enum {
	/* errno aliases */
	ERR_NOT_FOUND = -ENOENT,	 /* 404 */
	ERR_CONFLICT = -EEXIST,		 /* 409 */
	ERR_TOO_LARGE = -E2BIG,		 /* body or collection over its cap: 413 */
	ERR_MALFORMED = -EBADMSG,	 /* request framing or JSON is broken: 400 */
	ERR_UNAVAILABLE = -ECONNREFUSED, /* a dependency (PowerDNS, a node) is down: 503 */
	ERR_UPSTREAM = -EPROTO,		 /* an upstream answered with an error: 502 */
	ERR_NO_SPACE = -ENOSPC,		 /* storage is full: 507 */
	ERR_TIMEOUT = -ETIMEDOUT,	 /* 504 */

	/* project codes */
	ERR_BASE = -1000,
	ERR_INVALID = -1001,	 /* input is syntactically or semantically wrong: 422 */
	ERR_AUTH = -1002,	 /* missing or wrong credentials: 401 */
	ERR_FORBIDDEN = -1003,	 /* authenticated but not allowed: 403 */
	ERR_BACKEND = -1004,	 /* the database failed: 500 */
	ERR_METHOD = -1005,	 /* wrong HTTP method on a known route: 405 */
	ERR_UNSUPPORTED = -1006, /* media type or feature not supported: 415 */
	ERR_CONFIG = -1007,	 /* configuration is invalid */
	ERR_TLS_VERIFY = -1008,	 /* a TLS peer's certificate was not trusted: 502 */
	ERR_LAST = ERR_TLS_VERIFY,
};

/* A static description of 'err'; never NULL. */
const char *err_str(int err);

/* The HTTP status an API answers with for 'err' (500 for unknown codes). */
unsigned err_http_status(int err);

/* Room for one error message, NUL included: the largest any module writes. */
#define ERRMSG_MAX 640

/* What went wrong, for people: one line that may become a 4xx body or a log
 * line. A function that fills one takes 'struct errmsg *err'. */
struct errmsg {
	char text[ERRMSG_MAX];
};

/* Format into 'e' (NULL: nothing is written), truncating to ERRMSG_MAX - 1
 * bytes and a NUL. */
void errmsg_printf(struct errmsg *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* errmsg_printf(), then 'code', so that a failure reads
 * 'return errmsg_set(err, ERR_INVALID, "...")'. A macro, so that the
 * compiler and the static analyzer see which code comes back. */
#define errmsg_set(e, code, ...)                 \
	({                                       \
		errmsg_printf((e), __VA_ARGS__); \
		(code);                          \
	})

int errmsg_vset(struct errmsg *e, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
