/* Unit tests for src/cli/human.c: durations and times in yumnactl's human
 * output (dnssec status). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "human.h"

static void test_duration(void **state)
{
	static const struct {
		int64_t s;
		const char *want;
	} cases[] = {
		{ 0, "0 s" },
		{ -5, "0 s" },
		{ 45, "45 s" },
		{ 60, "1 min" },
		{ 90, "1 min 30 s" },
		{ 3600, "1 h" },
		{ 12000, "3 h 20 min" },
		{ 12059, "3 h 20 min" }, /* the third unit is dropped */
		{ 86400, "1 d" },
		{ 2 * 86400 + 4 * 3600 + 59, "2 d 4 h" },
		{ 400 * 86400, "400 d" },
	};
	char out[64];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		human_duration(cases[i].s, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
}

static void test_utc_and_when(void **state)
{
	char out[96];
	(void)state;
	human_utc(1796565600, out, sizeof(out)); /* 2026-12-06 14:00:00 UTC */
	assert_string_equal(out, "2026-12-06 14:00 UTC");
	human_when(1796565600, 1796565600 - 12000, out, sizeof(out));
	assert_string_equal(out, "2026-12-06 14:00 UTC, in 3 h 20 min");
	human_when(1796565600, 1796565600 + 1, out, sizeof(out));
	assert_string_equal(out, "now (since 2026-12-06 14:00 UTC)");
	human_when(1796565600, 1796565600, out, sizeof(out));
	assert_string_equal(out, "now (since 2026-12-06 14:00 UTC)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_utc_and_when),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
