/* Unit tests for src/lib/base/log: log_sanitize(), which quotes user text
 * into log lines and error messages, log_level_parse(), and
 * log_limit_pass(), which keeps a line that may repeat at every request to
 * one an interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

struct sanitize_case {
	const char *in;
	unsigned len;
	const char *want;
};

static const struct sanitize_case sanitize_cases[] = {
	{ "www.example.com.", 64, "www.example.com." },
	{ "", 64, "" },
	{ NULL, 64, "(null)" },
	{ "a b~", 64, "a b~" },
	{ "it's", 64, "it\\x27s" },
	{ "\"q\"", 64, "\\x22q\\x22" },
	{ "a\\b", 64, "a\\x5cb" },
	{ "l1\nl2\r", 64, "l1\\x0al2\\x0d" },
	{ "\x01\x1f\x7f", 64, "\\x01\\x1f\\x7f" },
	{ "\x1b[2J", 64, "\\x1b[2J" },
	{ "caf\xc3\xa9", 64, "caf\\xc3\\xa9" },
	{ "\xff", 64, "\\xff" },
	/* Fits exactly: 15 characters and the NUL in 16 bytes, nothing cut. */
	{ "abcdefghijklmno", 16, "abcdefghijklmno" },
	{ "abcdefghijklm", 16, "abcdefghijklm" },
	{ "abc\n", 8, "abc\\x0a" },
	/* One more and it is cut where "..." and the NUL fit. */
	{ "abcdefghijklmnop", 16, "abcdefghijkl..." },
	{ "abcdefghijklmnopqrstuvwxyz", 16, "abcdefghijkl..." },
	/* An escape is never split. */
	{ "abcdefghijk\n", 16, "abcdefghijk\\x0a" },
	{ "abcdefghijk\nz", 16, "abcdefghijk..." },
	{ "abcdefghijkl\n", 16, "abcdefghijkl..." },
	{ "abcdefghijklm\n", 16, "abcdefghijkl..." },
	{ "\n\n\n\n", 16, "\\x0a\\x0a\\x0a..." },
	{ "\n\n\n", 16, "\\x0a\\x0a\\x0a" },
	/* Tiny buffers: always terminated, never a misleading prefix. */
	{ "abc", 4, "abc" },
	{ "abcd", 4, "..." },
	{ "a", 4, "a" },
	{ "\n", 4, "..." },
	{ "\n", 5, "\\x0a" },
	{ "ab", 3, "ab" },
	{ "abc", 3, ".." },
	{ "a", 2, "a" },
	{ "ab", 2, "." },
	{ "", 1, "" },
	{ "a", 1, "" },
	{ "abcdef", 1, "" },
	{ NULL, 4, "..." },
	{ NULL, 7, "(null)" },
};

static void test_sanitize_table(void **state)
{
	char out[80];

	(void)state;
	for (size_t i = 0; i < sizeof(sanitize_cases) / sizeof(sanitize_cases[0]); i++) {
		const struct sanitize_case *c = &sanitize_cases[i];

		memset(out, '#', sizeof(out));
		log_sanitize(c->in, out, c->len);
		if (memchr(out, '\0', c->len) == NULL)
			fail_msg("row %zu: not NUL-terminated within %u bytes", i, c->len);
		if (strcmp(out, c->want) != 0)
			fail_msg("row %zu: got '%s', want '%s'", i, out, c->want);
		/* Nothing written past 'len'. */
		for (size_t k = c->len; k < sizeof(out); k++)
			if (out[k] != '#')
				fail_msg("row %zu: byte %zu written past %u", i, k, c->len);
	}
}

/* A zero-length buffer is not touched. */
static void test_sanitize_zero_len(void **state)
{
	char out[4] = { 'x', 'y', 'z', 'w' };

	(void)state;
	log_sanitize("abc", out, 0);
	assert_memory_equal(out, "xyzw", 4);
}

/* Whatever goes in, the output is printable ASCII without quotes, fits and
 * is a prefix of the full rendering unless it ends in the cut marker. */
static void test_sanitize_every_byte_every_len(void **state)
{
	char in[3], full[64], out[32];

	(void)state;
	for (int c = 1; c < 256; c++) {
		in[0] = (char)c;
		in[1] = (char)c;
		in[2] = '\0';
		log_sanitize(in, full, sizeof(full));
		for (unsigned len = 1; len < sizeof(out); len++) {
			memset(out, '#', sizeof(out));
			log_sanitize(in, out, len);
			size_t n = strnlen(out, len);
			if (n == len)
				fail_msg("byte 0x%02x len %u: not terminated", c, len);
			for (size_t k = 0; k < n; k++) {
				unsigned char ch = (unsigned char)out[k];
				if (ch < 0x20 || ch >= 0x7f || ch == '\'' || ch == '"')
					fail_msg("byte 0x%02x len %u: raw 0x%02x in output", c, len,
						 ch);
			}
			if (strcmp(out, full) == 0)
				continue;
			/* Cut: a real prefix of the rendering, then dots; with
			 * one byte there is room for the NUL only. */
			if (len == 1)
				continue;
			size_t dots = 0;
			while (dots < n && out[n - 1 - dots] == '.')
				dots++;
			if (dots == 0 || dots > 3 || strncmp(out, full, n - dots) != 0)
				fail_msg("byte 0x%02x len %u: '%s' is not a cut of '%s'", c, len,
					 out, full);
		}
	}
}

static void test_level_parse(void **state)
{
	static const struct {
		const char *text;
		enum log_level level;
	} ok[] = {
		{ "err", LOG_LVL_ERR },	  { "warn", LOG_LVL_WARN },   { "notice", LOG_LVL_NOTICE },
		{ "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
	};
	static const char *const bad[] = { "", "error", "Info", "warning", "debug ", "7" };
	enum log_level level;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		level = (enum log_level)0;
		assert_int_equal(log_level_parse(ok[i].text, &level), 0);
		assert_int_equal(level, ok[i].level);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		level = LOG_LVL_NOTICE;
		if (log_level_parse(bad[i], &level) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(level, LOG_LVL_NOTICE);
	}
}

/* The first line at once, then at most one an interval, each with how many
 * events it stands for. */
static void test_limit_first_then_one_an_interval(void **state)
{
	struct log_limit l = LOG_LIMIT_INIT(10000);
	uint64_t n = 99;

	(void)state;
	assert_true(log_limit_pass(&l, 5000, &n));
	assert_int_equal(n, 1);
	for (int64_t t = 5000; t < 15000; t += 100)
		assert_false(log_limit_pass(&l, t, &n));
	/* 100 held back, and this one. */
	assert_true(log_limit_pass(&l, 15000, &n));
	assert_int_equal(n, 101);
	assert_false(log_limit_pass(&l, 24999, &n));
	assert_true(log_limit_pass(&l, 90000, &n));
	assert_int_equal(n, 2);
	/* A quiet spell: the next one is logged at once, alone. */
	assert_true(log_limit_pass(&l, 200000, &n));
	assert_int_equal(n, 1);
	pthread_mutex_destroy(&l.lock);
}

#define LIMIT_THREADS 4
#define LIMIT_EVENTS 20000

struct limit_run {
	struct log_limit *l;
	uint64_t lines, counted;
};

static void *limit_worker(void *arg)
{
	struct limit_run *run = arg;
	uint64_t n;

	for (int64_t t = 0; t < LIMIT_EVENTS; t++) {
		if (log_limit_pass(run->l, t, &n)) {
			run->lines++;
			run->counted += n;
		}
	}
	return NULL;
}

/* From several threads at once: every event is in exactly one line's
 * count, and the lines stay one an interval. */
static void test_limit_threads_count_every_event_once(void **state)
{
	struct log_limit l = LOG_LIMIT_INIT(1000);
	struct limit_run runs[LIMIT_THREADS];
	pthread_t th[LIMIT_THREADS];
	uint64_t lines = 0, counted = 0, n;

	(void)state;
	for (int i = 0; i < LIMIT_THREADS; i++) {
		runs[i] = (struct limit_run){ &l, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, limit_worker, &runs[i]), 0);
	}
	for (int i = 0; i < LIMIT_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		lines += runs[i].lines;
		counted += runs[i].counted;
	}
	assert_true(log_limit_pass(&l, 1000000, &n));
	assert_int_equal(counted + n, (uint64_t)LIMIT_THREADS * LIMIT_EVENTS + 1);
	assert_true(lines >= 1 && lines <= LIMIT_EVENTS / 1000);
	pthread_mutex_destroy(&l.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_table),
		cmocka_unit_test(test_sanitize_zero_len),
		cmocka_unit_test(test_sanitize_every_byte_every_len),
		cmocka_unit_test(test_level_parse),
		cmocka_unit_test(test_limit_first_then_one_an_interval),
		cmocka_unit_test(test_limit_threads_count_every_event_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
