/* Unit tests for src/lib/base/err: the one mapping from error codes to
 * HTTP statuses and to text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

struct status_case {
	int err;
	unsigned status;
	const char *text; /* err_str(), NULL: strerror's */
};

/* Every project code, and the errno values that have a meaning of their own. */
static const struct status_case status_cases[] = {
	{ ERR_INVALID, 422, "invalid input" },
	{ ERR_MALFORMED, 400, "malformed request" },
	{ ERR_AUTH, 401, "unauthorized" },
	{ ERR_FORBIDDEN, 403, "forbidden" },
	{ ERR_NOT_FOUND, 404, "not found" },
	{ ERR_CONFLICT, 409, "conflict" },
	{ ERR_TOO_LARGE, 413, "too large" },
	{ ERR_UNAVAILABLE, 503, "service unavailable" },
	{ ERR_BACKEND, 500, "database error" },
	{ ERR_UPSTREAM, 502, "upstream error" },
	{ ERR_NO_SPACE, 507, "no space left" },
	{ ERR_METHOD, 405, "method not allowed" },
	{ ERR_UNSUPPORTED, 415, "unsupported" },
	{ ERR_TIMEOUT, 504, "timed out" },
	{ ERR_CONFIG, 500, "invalid configuration" },
	{ ERR_TLS_VERIFY, 502, "tls certificate not trusted" },
	{ -EINVAL, 422, NULL },
	{ -ENOENT, 404, NULL },
	{ -E2BIG, 413, NULL },
	{ -ENOSPC, 507, NULL },
	{ -ENOMEM, 500, NULL },
	{ -EIO, 500, NULL },
	{ -EACCES, 500, NULL },
};

static void test_status_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
		const struct status_case *c = &status_cases[i];
		unsigned got = err_http_status(c->err);
		const char *want = c->text ? c->text : strerror(-c->err);

		if (got != c->status)
			fail_msg("err %d: status %u, want %u", c->err, got, c->status);
		if (strcmp(err_str(c->err), want) != 0)
			fail_msg("err %d: text '%s', want '%s'", c->err, err_str(c->err), want);
	}
}

/* The table above names every project code: none is left to the default. */
static void test_every_project_code_listed(void **state)
{
	(void)state;
	for (int e = ERR_INVALID; e >= ERR_TLS_VERIFY; e--) {
		bool found = false;
		for (size_t i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++)
			found = found || status_cases[i].err == e;
		if (!found)
			fail_msg("code %d is missing from the table", e);
		if (strcmp(err_str(e), "unknown error") == 0)
			fail_msg("code %d has no text", e);
	}
}

/* Project codes have distinct texts, so a message names its cause. */
static void test_texts_distinct(void **state)
{
	(void)state;
	for (int a = ERR_INVALID; a >= ERR_TLS_VERIFY; a--)
		for (int b = a - 1; b >= ERR_TLS_VERIFY; b--)
			if (strcmp(err_str(a), err_str(b)) == 0)
				fail_msg("codes %d and %d share '%s'", a, b, err_str(a));
}

static void test_unknown_codes(void **state)
{
	(void)state;
	assert_int_equal(err_http_status(ERR_BASE), 500);
	assert_int_equal(err_http_status(ERR_TLS_VERIFY - 1), 500);
	assert_int_equal(err_http_status(-123456), 500);
	assert_int_equal(err_http_status(7), 500);
	assert_string_equal(err_str(ERR_BASE), "unknown error");
	assert_string_equal(err_str(ERR_TLS_VERIFY - 1), "unknown error");
	assert_string_equal(err_str(-123456), "unknown error");
	assert_string_equal(err_str(7), "unknown error");
	assert_string_equal(err_str(0), "success");
	/* Below ERR_BASE's range but negative: an errno value. */
	assert_string_equal(err_str(-ENOMEM), strerror(ENOMEM));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_every_project_code_listed),
		cmocka_unit_test(test_texts_distinct),
		cmocka_unit_test(test_unknown_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
