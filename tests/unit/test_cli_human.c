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

static void test_parse_duration(void **state)
{
	static const struct {
		const char *text;
		int64_t want; /* ms; -1: refused */
	} cases[] = {
		{ "30", 30000 },
		{ "30s", 30000 },
		{ "500ms", 500 },
		{ "10m", 600000 },
		{ "10min", 600000 },
		{ "2h", 7200000 },
		{ "1d", 86400000 },
		{ "1w", -1 },
		{ "0", 0 },
		{ "", -1 },
		{ "s", -1 },
		{ "-5", -1 },
		{ "5 s", -1 },
		{ "5sec", -1 },
		{ "1.5", -1 },
		{ "1y", -1 },
		{ "86400", 86400000 },
		{ "86401", -1 },
		{ "99999999999999999999", -1 },
		{ "2d", -1 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = 12345;
		int r = human_parse_duration(cases[i].text, 86400000, &ms);
		if (cases[i].want < 0) {
			assert_int_equal(r, -1);
			assert_int_equal(ms, 12345);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(ms, cases[i].want);
		}
	}
	int64_t ms = 0;
	assert_int_equal(human_parse_duration("1w", INT64_MAX / 2, &ms), 0);
	assert_int_equal(ms, 604800000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_utc_and_when),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
