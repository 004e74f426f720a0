/* Unit tests for src/lib/base/procstat: parsing /proc/<pid>/stat and the
 * btime line of /proc/stat, and the process_* metrics rendered from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/procstat.h"

/* A real line, from a yumna-agent: utime 250, stime 50, starttime 123456,
 * vsize 220000256, rss 1536 pages. */
#define STAT_LINE                                                                              \
	"4242 (yumna-agent) S 1 4242 4242 0 -1 4194560 1801 0 0 0 250 50 0 0 20 0 9 0 123456 " \
	"220000256 1536 18446744073709551615 1 1 0 0 0 0 0 4096 17667 0 0 0 17 1 0 0 0 0 0 0 " \
	"0 0 0 0 0 0 0\n"

static void test_parse_stat(void **state)
{
	struct procstat p = { 0 };

	assert_int_equal(procstat_parse_stat(STAT_LINE, 100, 4096, 1700000000, &p), 0);
	assert_true(p.cpu_seconds > 2.999 && p.cpu_seconds < 3.001);
	assert_true(p.start_time > 1700001234.55 && p.start_time < 1700001234.57);
	assert_int_equal(p.virtual_bytes, 220000256);
	assert_int_equal(p.resident_bytes, 1536 * 4096);
}

/* The command name is what the process chose: spaces, parentheses and
 * digits must not shift the fields. */
static void test_parse_stat_odd_command_names(void **state)
{
	static const char *const lines[] = {
		"7 (a b) c) 9 9) R 1 7 7 0 -1 0 0 0 0 0 250 50 0 0 20 0 1 0 123456 4096 2\n",
		"7 ()) S 1 7 7 0 -1 0 0 0 0 0 250 50 0 0 20 0 1 0 123456 4096 2\n",
		"7 (1 2 3 4 5 6 7 8 9 10 11 12) S 1 7 7 0 -1 0 0 0 0 0 250 50 0 0 20 0 1 0 123456 "
		"4096 2",
	};
	for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct procstat p = { 0 };
		assert_int_equal(procstat_parse_stat(lines[i], 100, 4096, 0, &p), 0);
		assert_true(p.cpu_seconds > 2.999 && p.cpu_seconds < 3.001);
		assert_true(p.start_time > 1234.55 && p.start_time < 1234.57);
		assert_int_equal(p.virtual_bytes, 4096);
		assert_int_equal(p.resident_bytes, 2 * 4096);
	}
}

static void test_parse_stat_refuses_broken_text(void **state)
{
	static const char *const bad[] = {
		"",
		"4242 yumna-agent S 1",
		"4242 (yumna-agent) S 1 4242 4242 0 -1 4194560 1801 0 0 0 250 50\n", /* short */
		"1 (yumna-agent) S 1 1 1 0 -1 0 0 0 0 0 2x0 50 0 0 20 0 9 0 1 2 3\n",
		"4242 (yumna-agent)",
		"4242 (yumna-agent) ",
	};
	struct procstat p = { .virtual_bytes = 77 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(procstat_parse_stat(bad[i], 100, 4096, 0, &p), ERR_MALFORMED);
	assert_int_equal(p.virtual_bytes, 77); /* untouched */
	assert_int_equal(procstat_parse_stat(STAT_LINE, 0, 4096, 0, &p), ERR_MALFORMED);
}

/* A negative rss (proc(5) allows it while a process starts or exits)
 * reads as 0, never as a huge unsigned number. */
static void test_parse_stat_negative_rss(void **state)
{
	struct procstat p = { 0 };
	assert_int_equal(procstat_parse_stat("1 (x) Z 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 -1",
					     100, 4096, 0, &p),
			 0);
	assert_int_equal(p.resident_bytes, 0);
}

static int boot_time(const char *text, uint64_t *ret)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	int r = procstat_read_boot_time(f, ret);
	fclose(f);
	return r;
}

static void test_boot_time(void **state)
{
	uint64_t t = 0;

	assert_int_equal(boot_time("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n", &t), 0);
	assert_int_equal(t, 1700000000);
	assert_int_equal(boot_time("btime 42", &t), 0);
	assert_int_equal(t, 42);
	assert_int_equal(boot_time("cpu  1 2 3\nprocesses 5\n", &t), -ENOENT);
	assert_int_equal(boot_time("btime x\n", &t), ERR_MALFORMED);
}

/* The "intr" line runs to kilobytes, past the line buffer; a piece of it
 * that happens to start with "btime " is not the btime line. */
static void test_boot_time_after_a_long_line(void **state)
{
	char text[8192];
	size_t n = 0;
	uint64_t t = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "intr");
	while (n < 255)
		text[n++] = ' ';
	n += (size_t)snprintf(text + n, sizeof(text) - n, "btime 666");
	while (n < 4000)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " 0");
	snprintf(text + n, sizeof(text) - n, "\nbtime 1700000000\n");
	assert_int_equal(boot_time(text, &t), 0);
	assert_int_equal(t, 1700000000);
}

/* This test process, read for real. */
static void test_read_self(void **state)
{
	struct procstat p = { 0 };
	FILE *f = fopen("/proc/self/stat", "r"); /* one more descriptor while it is open */

	assert_non_null(f);
	assert_int_equal(procstat_read(&p), 0);
	assert_true(p.open_fds >= 4); /* stdin, stdout, stderr and f */
	fclose(f);
	struct procstat q = { 0 };
	assert_int_equal(procstat_read(&q), 0);
	assert_int_equal(q.open_fds, p.open_fds - 1);
	assert_true(p.max_fds >= p.open_fds);
	assert_true(p.resident_bytes > 0);
	assert_true(p.virtual_bytes >= p.resident_bytes);
	assert_true(p.cpu_seconds >= 0);
	double now = (double)time(NULL);
	assert_true(p.start_time > now - 3600 && p.start_time < now + 2);
}

static void test_render(void **state)
{
	struct procstat p = { .cpu_seconds = 3,
			      .resident_bytes = 6291456,
			      .virtual_bytes = 220000256,
			      .open_fds = 12,
			      .max_fds = 1024,
			      .start_time = 1700001234.56 };
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(procstat_render(&p, &b), 0);
	assert_non_null(strstr(b.data, "\n# TYPE process_cpu_seconds_total counter\n"
				       "process_cpu_seconds_total 3.00\n"));
	assert_non_null(strstr(b.data, "\nprocess_resident_memory_bytes 6291456\n"));
	assert_non_null(strstr(b.data, "\nprocess_virtual_memory_bytes 220000256\n"));
	assert_non_null(strstr(b.data, "\nprocess_open_fds 12\n"));
	assert_non_null(strstr(b.data, "\nprocess_max_fds 1024\n"));
	assert_non_null(strstr(b.data, "\nprocess_start_time_seconds 1700001234.56\n"));
	assert_int_equal(b.data[b.len - 1], '\n');
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_parse_stat_odd_command_names),
		cmocka_unit_test(test_parse_stat_refuses_broken_text),
		cmocka_unit_test(test_parse_stat_negative_rss),
		cmocka_unit_test(test_boot_time),
		cmocka_unit_test(test_boot_time_after_a_long_line),
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
