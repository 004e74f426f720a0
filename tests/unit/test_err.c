/* Unit tests for src/lib/base/err: the one mapping from error codes to
 * HTTP statuses and to text, and the error-message type. */
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

/* The errno aliases are the errno values themselves: a -ENOENT from a store
 * or a system call is a 404 without translation. */
static void test_errno_aliases(void **state)
{
	(void)state;
	assert_int_equal(ERR_NOT_FOUND, -ENOENT);
	assert_int_equal(ERR_CONFLICT, -EEXIST);
	assert_int_equal(ERR_TOO_LARGE, -E2BIG);
	assert_int_equal(ERR_NO_SPACE, -ENOSPC);
	assert_int_equal(ERR_TIMEOUT, -ETIMEDOUT);
	assert_int_equal(err_http_status(-ENOENT), 404);
	assert_string_equal(err_str(-ENOENT), "not found");
}

/* The table above names every project code: none is left to the default. */
static void test_every_project_code_listed(void **state)
{
	(void)state;
	for (int e = ERR_INVALID; e >= ERR_LAST; e--) {
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
	for (size_t a = 0; a < sizeof(status_cases) / sizeof(status_cases[0]); a++)
		for (size_t b = a + 1; b < sizeof(status_cases) / sizeof(status_cases[0]); b++) {
			int x = status_cases[a].err, y = status_cases[b].err;
			if (status_cases[a].text != NULL && status_cases[b].text != NULL &&
			    strcmp(err_str(x), err_str(y)) == 0)
				fail_msg("codes %d and %d share '%s'", x, y, err_str(x));
		}
}

static void test_unknown_codes(void **state)
{
	(void)state;
	assert_int_equal(err_http_status(ERR_BASE), 500);
	assert_int_equal(err_http_status(ERR_LAST - 1), 500);
	assert_int_equal(err_http_status(-123456), 500);
	assert_int_equal(err_http_status(7), 500);
	assert_string_equal(err_str(ERR_BASE), "unknown error");
	assert_string_equal(err_str(ERR_LAST - 1), "unknown error");
	assert_string_equal(err_str(-123456), "unknown error");
	assert_string_equal(err_str(7), "unknown error");
	assert_string_equal(err_str(0), "success");
	/* Below ERR_BASE's range but negative: an errno value. */
	assert_string_equal(err_str(-ENOMEM), strerror(ENOMEM));
}

static void test_errmsg_set(void **state)
{
	struct errmsg e;

	(void)state;
	memset(&e, 'x', sizeof(e));
	assert_int_equal(errmsg_set(&e, ERR_INVALID, "%s: %d", "zone", 7), ERR_INVALID);
	assert_string_equal(e.text, "zone: 7");
	assert_int_equal(errmsg_set(&e, 0, "again"), 0);
	assert_string_equal(e.text, "again");
	/* No target: nothing is written, the code still comes back. */
	assert_int_equal(errmsg_set(NULL, ERR_NOT_FOUND, "%s", "lost"), ERR_NOT_FOUND);
}

static void test_errmsg_truncates(void **state)
{
	/* A message that cannot fit ends at ERRMSG_MAX - 1 bytes and a NUL,
	 * and nothing is written past the struct. */
	struct {
		struct errmsg e;
		char guard[16];
	} b;
	char big[ERRMSG_MAX * 2];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(errmsg_set(&b.e, ERR_TOO_LARGE, "%s", big), ERR_TOO_LARGE);
	assert_int_equal(strlen(b.e.text), ERRMSG_MAX - 1);
	assert_memory_equal(b.e.text, big, ERRMSG_MAX - 1);
	for (size_t i = 0; i < sizeof(b.guard); i++)
		assert_int_equal(b.guard[i], 0x5a);
	/* One byte short of the room fits whole. */
	big[ERRMSG_MAX - 1] = '\0';
	assert_int_equal(errmsg_set(&b.e, 0, "%s", big), 0);
	assert_string_equal(b.e.text, big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_errno_aliases),
		cmocka_unit_test(test_every_project_code_listed),
		cmocka_unit_test(test_texts_distinct),
		cmocka_unit_test(test_unknown_codes),
		cmocka_unit_test(test_errmsg_set),
		cmocka_unit_test(test_errmsg_truncates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
