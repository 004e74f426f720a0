#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

const char *err_str(int err)
{
	switch (err) {
	case 0:
		return "success";
	case ERR_INVALID:
		return "invalid input";
	case ERR_MALFORMED:
		return "malformed request";
	case ERR_AUTH:
		return "unauthorized";
	case ERR_FORBIDDEN:
		return "forbidden";
	case ERR_NOT_FOUND:
		return "not found";
	case ERR_CONFLICT:
		return "conflict";
	case ERR_TOO_LARGE:
		return "too large";
	case ERR_UNAVAILABLE:
		return "service unavailable";
	case ERR_BACKEND:
		return "database error";
	case ERR_UPSTREAM:
		return "upstream error";
	case ERR_NO_SPACE:
		return "no space left";
	case ERR_METHOD:
		return "method not allowed";
	case ERR_UNSUPPORTED:
		return "unsupported";
	case ERR_TIMEOUT:
		return "timed out";
	case ERR_CONFIG:
		return "invalid configuration";
	case ERR_TLS_VERIFY:
		return "tls certificate not trusted";
	}
	if (err < 0 && err > ERR_BASE) /* an errno value without an alias */
		return strerror(-err);
	return "unknown error";
}

unsigned err_http_status(int err)
{
	switch (err) {
	case ERR_INVALID:
	case -EINVAL:
		return 422;
	case ERR_MALFORMED:
		return 400;
	case ERR_AUTH:
		return 401;
	case ERR_FORBIDDEN:
		return 403;
	case ERR_NOT_FOUND:
		return 404;
	case ERR_METHOD:
		return 405;
	case ERR_CONFLICT:
		return 409;
	case ERR_TOO_LARGE:
		return 413;
	case ERR_UNSUPPORTED:
		return 415;
	case ERR_UPSTREAM:
	case ERR_TLS_VERIFY:
		return 502;
	case ERR_UNAVAILABLE:
		return 503;
	case ERR_TIMEOUT:
		return 504;
	case ERR_NO_SPACE:
		return 507;
	}
	return 500;
}

int errmsg_vset(struct errmsg *e, int code, const char *fmt, va_list ap)
{
	if (e != NULL)
		vsnprintf(e->text, sizeof(e->text), fmt, ap);
	return code;
}

void errmsg_printf(struct errmsg *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errmsg_vset(e, 0, fmt, ap);
	va_end(ap);
}
