/* Unit tests for src/lib/base/buf: the capped byte buffer that holds
 * everything read from outside. Built with test_alloc.h, so a block the
 * buffer loses or overruns fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/buf.h"

/* The buffer holds exactly 'want' and is NUL-terminated after it. */
static void assert_buf(const struct buf *b, const char *want)
{
	size_t n = strlen(want);

	assert_int_equal(b->len, n);
	assert_non_null(b->data);
	assert_memory_equal(b->data, want, n);
	assert_int_equal(b->data[n], '\0');
}

static void test_init_allocates_nothing(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 100);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	assert_int_equal(b.max, 100);
	/* Freeing and resetting an untouched buffer is harmless. */
	buf_reset(&b);
	buf_free(&b);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.max, 100);
}

static void test_append_up_to_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "abcd", 4), 0);
	assert_buf(&b, "abcd");
	assert_int_equal(buf_puts(&b, "efgh"), 0);
	assert_buf(&b, "abcdefgh");
	/* Exactly at the cap: one more byte fails, nothing changes. */
	assert_int_equal(buf_append(&b, "x", 1), -E2BIG);
	assert_int_equal(buf_puts(&b, "xyz"), -E2BIG);
	assert_buf(&b, "abcdefgh");
	/* An empty append at the cap is fine. */
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_buf(&b, "abcdefgh");
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_append_over_cap_at_once(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "123456789", 9), -E2BIG);
	assert_int_equal(b.len, 0);
	/* A length that would wrap the arithmetic must not be read at all. */
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -E2BIG);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 3), -E2BIG);
	assert_int_equal(b.len, 0);
	buf_free(&b);

	/* Even with no cap to speak of, a wrapping length is refused. */
	buf_init(&b, SIZE_MAX);
	assert_int_equal(buf_append(&b, "a", 1), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -E2BIG);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 1), -E2BIG);
	assert_buf(&b, "a");
	buf_free(&b);
}

static void test_zero_cap(void **state)
{
	struct buf b;
	char *p = NULL;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "a", 1), -E2BIG);
	assert_int_equal(buf_extend(&b, 1, &p), -E2BIG);
	assert_null(p);
	/* Nothing is still something: an empty, terminated string. */
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_buf(&b, "");
	buf_free(&b);
}

static void test_growth_keeps_content(void **state)
{
	char chunk[100];
	struct buf b;

	(void)state;
	buf_init(&b, 100000);
	for (unsigned i = 0; i < 1000; i++) {
		memset(chunk, 'a' + (int)(i % 26), sizeof(chunk));
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	}
	assert_int_equal(b.len, 100000);
	assert_true(b.alloc > b.len);
	for (size_t i = 0; i < b.len; i++) {
		if (b.data[i] != 'a' + (int)((i / 100) % 26))
			fail_msg("byte %zu is '%c'", i, b.data[i]);
	}
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(buf_append(&b, "x", 1), -E2BIG);
	buf_free(&b);
}

static void test_reset_keeps_memory(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(buf_puts(&b, "hello"), 0);
	char *mem = b.data;
	size_t alloc = b.alloc;
	buf_reset(&b);
	assert_buf(&b, "");
	assert_ptr_equal(b.data, mem);
	assert_int_equal(b.alloc, alloc);
	/* The cap counts from the reset, not from what was there before. */
	char full[64];
	memset(full, 'z', sizeof(full));
	assert_int_equal(buf_append(&b, full, sizeof(full)), 0);
	assert_int_equal(b.len, 64);
	buf_free(&b);
}

static void test_printf(void **state)
{
	char big[600];
	struct buf b;

	(void)state;
	buf_init(&b, 1000);
	assert_int_equal(buf_printf(&b, "%s=%d;", "x", -42), 0);
	assert_buf(&b, "x=-42;");

	/* Longer than the on-stack attempt: formatted straight into the buffer. */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 6 + 601);
	assert_memory_equal(b.data, "x=-42;[qqq", 10);
	assert_int_equal(b.data[b.len - 1], ']');
	assert_int_equal(b.data[b.len], '\0');

	/* Over the cap, short or long: -E2BIG and no change. */
	size_t len = b.len;
	assert_int_equal(buf_printf(&b, "%s", big), -E2BIG);
	assert_int_equal(b.len, len);
	assert_int_equal(buf_printf(&b, "%0400d", 7), -E2BIG);
	assert_int_equal(b.len, len);
	assert_int_equal(buf_printf(&b, "%0393d", 7), 0);
	assert_int_equal(b.len, 1000);
	assert_int_equal(b.data[1000], '\0');
	assert_int_equal(b.data[999], '7');
	buf_free(&b);
}

static void test_extend(void **state)
{
	struct buf b;
	char *p = NULL, *sentinel = (char *)&b;

	(void)state;
	buf_init(&b, 16);
	assert_int_equal(buf_puts(&b, "ab"), 0);
	assert_int_equal(buf_extend(&b, 3, &p), 0);
	assert_ptr_equal(p, b.data + 2);
	assert_int_equal(b.len, 5);
	assert_int_equal(b.data[5], '\0');
	memcpy(p, "xyz", 3);
	assert_buf(&b, "abxyz");

	assert_int_equal(buf_extend(&b, 0, &p), 0);
	assert_ptr_equal(p, b.data + 5);
	assert_buf(&b, "abxyz");

	/* Up to the cap, then refused without touching the out-pointer. */
	assert_int_equal(buf_extend(&b, 11, &p), 0);
	memset(p, '-', 11);
	assert_int_equal(b.len, 16);
	assert_int_equal(b.data[16], '\0');
	p = sentinel;
	assert_int_equal(buf_extend(&b, 1, &p), -E2BIG);
	assert_ptr_equal(p, sentinel);
	assert_int_equal(buf_extend(&b, SIZE_MAX, &p), -E2BIG);
	assert_ptr_equal(p, sentinel);
	assert_int_equal(b.len, 16);
	assert_memory_equal(b.data, "abxyz-----------", 16);
	buf_free(&b);
}

static void test_take(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 32);
	/* An empty buffer still hands out a string the caller frees. */
	char *s = buf_take(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);

	assert_int_equal(buf_puts(&b, "payload"), 0);
	char *mem = b.data;
	s = buf_take(&b);
	assert_ptr_equal(s, mem);
	assert_string_equal(s, "payload");
	/* The buffer is empty, owns nothing and keeps its cap. */
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	assert_int_equal(b.max, 32);
	assert_int_equal(buf_puts(&b, "again"), 0);
	assert_buf(&b, "again");
	assert_string_equal(s, "payload");
	free(s);
	buf_free(&b);
}

/* --- buf_json_str -------------------------------------------------------- */

struct json_case {
	const char *in;
	const char *want;
};

static const struct json_case json_cases[] = {
	{ "", "\"\"" },
	{ "plain text", "\"plain text\"" },
	{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
	{ "C:\\dir\\", "\"C:\\\\dir\\\\\"" },
	{ "a\nb", "\"a\\u000ab\"" },
	{ "\t\r", "\"\\u0009\\u000d\"" },
	{ "\x01", "\"\\u0001\"" },
	{ "\x1f", "\"\\u001f\"" },
	{ "\x1b[31mred", "\"\\u001b[31mred\"" },
	{ "'single' /slash/", "\"'single' /slash/\"" },
	{ "\x7f", "\"\x7f\"" },
	{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" },
	{ "\"\\\"", "\"\\\"\\\\\\\"\"" },
	{ "end\x02", "\"end\\u0002\"" },
};

static void test_json_str_table(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	for (size_t i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
		buf_reset(&b);
		assert_int_equal(buf_json_str(&b, json_cases[i].in), 0);
		if (strcmp(b.data, json_cases[i].want) != 0)
			fail_msg("row %zu: got %s, want %s", i, b.data, json_cases[i].want);
		assert_int_equal(b.len, strlen(json_cases[i].want));
	}
	buf_free(&b);
}

/* Every ASCII byte, alone and between text, decodes back to itself. */
static void test_json_str_round_trip(void **state)
{
	char in[8];
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	for (int c = 1; c < 0x80; c++) {
		snprintf(in, sizeof(in), "a%cb", c);
		buf_reset(&b);
		assert_int_equal(buf_puts(&b, "{\"k\":"), 0);
		assert_int_equal(buf_json_str(&b, in), 0);
		assert_int_equal(buf_puts(&b, "}"), 0);

		json_error_t je;
		json_t *j = json_loads(b.data, 0, &je);
		if (j == NULL)
			fail_msg("byte 0x%02x: %s does not parse: %s", c, b.data, je.text);
		const char *out = json_string_value(json_object_get(j, "k"));
		if (out == NULL || strcmp(out, in) != 0) {
			json_decref(j);
			fail_msg("byte 0x%02x does not round-trip", c);
		}
		json_decref(j);
	}
	buf_free(&b);
}

static void test_json_str_appends(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(buf_puts(&b, "["), 0);
	assert_int_equal(buf_json_str(&b, "a"), 0);
	assert_int_equal(buf_puts(&b, ","), 0);
	assert_int_equal(buf_json_str(&b, "\n"), 0);
	assert_int_equal(buf_puts(&b, "]"), 0);
	assert_buf(&b, "[\"a\",\"\\u000a\"]");
	buf_free(&b);
}

static void test_json_str_cap(void **state)
{
	struct buf b;

	(void)state;
	/* "abc" needs 5 bytes quoted; an escape needs 6 on its own. */
	buf_init(&b, 5);
	assert_int_equal(buf_json_str(&b, "abc"), 0);
	assert_buf(&b, "\"abc\"");
	buf_free(&b);

	buf_init(&b, 4);
	assert_int_equal(buf_json_str(&b, "abc"), -E2BIG);
	assert_true(b.len <= 4);
	buf_free(&b);

	buf_init(&b, 7);
	assert_int_equal(buf_json_str(&b, "\x01"), -E2BIG);
	assert_true(b.len <= 7);
	buf_free(&b);

	buf_init(&b, 8);
	assert_int_equal(buf_json_str(&b, "\x01"), 0);
	assert_buf(&b, "\"\\u0001\"");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_allocates_nothing),
		cmocka_unit_test(test_append_up_to_cap),
		cmocka_unit_test(test_append_over_cap_at_once),
		cmocka_unit_test(test_zero_cap),
		cmocka_unit_test(test_growth_keeps_content),
		cmocka_unit_test(test_reset_keeps_memory),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_extend),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_json_str_table),
		cmocka_unit_test(test_json_str_round_trip),
		cmocka_unit_test(test_json_str_appends),
		cmocka_unit_test(test_json_str_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
