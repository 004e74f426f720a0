/* Error codes shared by every yumna-dns module.
 *
 * Functions return 0 on success or a negative code: a negated errno value
 * (-ENOMEM, -EINVAL, ...) or one of the project codes below, all under -1000.
 * err_str() names any of them; err_http_status() is the one mapping from an
 * error to the HTTP status an API answers with. */
#ifndef YUMNA_ERR_H
#define YUMNA_ERR_H

enum {
	ERR_BASE = -1000,
	ERR_INVALID = -1001,	 /* input is syntactically or semantically wrong: 422 */
	ERR_MALFORMED = -1002,	 /* request framing or JSON is broken: 400 */
	ERR_AUTH = -1003,	 /* missing or wrong credentials: 401 */
	ERR_FORBIDDEN = -1004,	 /* authenticated but not allowed: 403 */
	ERR_NOT_FOUND = -1005,	 /* 404 */
	ERR_CONFLICT = -1006,	 /* 409 */
	ERR_TOO_LARGE = -1007,	 /* body or collection over its cap: 413 */
	ERR_UNAVAILABLE = -1008, /* a dependency (PowerDNS, a node) is down: 503 */
	ERR_BACKEND = -1009,	 /* the database failed: 500 */
	ERR_UPSTREAM = -1010,	 /* an upstream answered with an error: 502 */
	ERR_NO_SPACE = -1011,	 /* storage is full: 507 */
	ERR_METHOD = -1012,	 /* wrong HTTP method on a known route: 405 */
	ERR_UNSUPPORTED = -1013, /* media type or feature not supported: 415 */
	ERR_TIMEOUT = -1014,	 /* 504 */
	ERR_CONFIG = -1015,	 /* configuration is invalid */
	ERR_TLS_VERIFY = -1016,	 /* a TLS peer's certificate was not trusted: 502 */
};

/* A static description of 'err'; never NULL. */
const char *err_str(int err);

/* The HTTP status an API answers with for 'err' (500 for unknown codes). */
unsigned err_http_status(int err);

#endif
