/* Unit tests for src/lib/json/jsonx: strict decoding of client bodies and
 * typed field access with messages that name the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "json/jsonx.h"

/* An error message with room after it, to catch a write past its end. */
struct errbuf {
	struct errmsg m;
	char guard[64];
};

static void err_init(struct errbuf *e)
{
	memset(e, 0x5a, sizeof(*e));
	e->m.text[0] = '\0';
}

static void err_check_guard(const struct errbuf *e)
{
	for (size_t i = 0; i < sizeof(e->guard); i++)
		if (e->guard[i] != 0x5a)
			fail_msg("message ran past ERRMSG_MAX");
}

/* Parse 'text'; on success the caller owns the result. */
static int parse(const char *text, json_t **ret, struct errbuf *e)
{
	err_init(e);
	*ret = NULL;
	int r = jsonx_parse(text, strlen(text), ret, &e->m);
	err_check_guard(e);
	return r;
}

/* 'text' parses; returns it. */
static json_t *parse_ok(const char *text)
{
	struct errbuf e;
	json_t *j;

	int r = parse(text, &j, &e);
	if (r != 0)
		fail_msg("'%s' refused: %s", text, e.m.text);
	assert_non_null(j);
	return j;
}

/* 'text' is refused as malformed with a message containing 'want'. */
static void parse_bad(const char *text, const char *want)
{
	struct errbuf e;
	json_t *j;

	int r = parse(text, &j, &e);
	if (r != ERR_MALFORMED) {
		json_decref(j);
		fail_msg("'%s': %d, want ERR_MALFORMED", text, r);
	}
	assert_null(j);
	if (strstr(e.m.text, want) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", text, e.m.text, want);
}

/* '[' * n, then '1', then ']' * n. */
static char *nested_arrays(size_t n)
{
	char *s = malloc(2 * n + 2);

	assert_non_null(s);
	memset(s, '[', n);
	s[n] = '1';
	memset(s + n + 1, ']', n);
	s[2 * n + 1] = '\0';
	return s;
}

/* {"a": ... {"a": 1} ... } with n objects. */
static char *nested_objects(size_t n)
{
	char *s = malloc(6 * n + 2);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + 5 * i, "{\"a\":", 5);
	s[5 * n] = '1';
	memset(s + 5 * n + 1, '}', n);
	s[6 * n + 1] = '\0';
	return s;
}

/* --- decoding ---------------------------------------------------------- */

static void test_depth_limit(void **state)
{
	char *s;

	(void)state;
	s = nested_arrays(JSONX_MAX_DEPTH);
	json_decref(parse_ok(s));
	free(s);
	s = nested_arrays(JSONX_MAX_DEPTH + 1);
	parse_bad(s, "invalid JSON: nesting deeper than 32 levels");
	free(s);

	s = nested_objects(JSONX_MAX_DEPTH);
	json_decref(parse_ok(s));
	free(s);
	s = nested_objects(JSONX_MAX_DEPTH + 1);
	parse_bad(s, "nesting deeper than 32 levels");
	free(s);

	/* Mixed, 16 objects each holding an array: 32 in all. */
	char mixed[256] = "";
	size_t o = 0;
	for (int i = 0; i < 16; i++)
		o += (size_t)snprintf(mixed + o, sizeof(mixed) - o, "{\"k\":[");
	o += (size_t)snprintf(mixed + o, sizeof(mixed) - o, "0");
	for (int i = 0; i < 16; i++)
		o += (size_t)snprintf(mixed + o, sizeof(mixed) - o, "]}");
	assert_true(o < sizeof(mixed) - 1);
	json_decref(parse_ok(mixed));
}

/* Depth is measured at its peak, not as a total: siblings do not add up. */
static void test_depth_siblings(void **state)
{
	char s[4096];
	size_t o = 0;

	(void)state;
	s[o++] = '[';
	for (int i = 0; i < 200; i++) {
		if (i > 0)
			s[o++] = ',';
		o += (size_t)snprintf(s + o, sizeof(s) - o, "[[{\"a\":[]}]]");
	}
	s[o++] = ']';
	s[o] = '\0';
	json_decref(parse_ok(s));
}

/* A flood of '[' is refused by counting, before jansson allocates a node. */
static void test_depth_flood(void **state)
{
	size_t n = 10 * 1000 * 1000;
	char *s = malloc(n + 1);
	struct timespec t0, t1;
	struct errbuf e;
	json_t *j = NULL;

	(void)state;
	assert_non_null(s);
	memset(s, '[', n);
	s[n] = '\0';
	assert_false(jsonx_depth_ok(s, 100000, JSONX_MAX_DEPTH));
	err_init(&e);
	assert_int_equal(jsonx_parse(s, 100000, &j, &e.m), ERR_MALFORMED);
	assert_string_equal(e.m.text, "invalid JSON: nesting deeper than 32 levels");
	assert_null(j);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	err_init(&e);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(jsonx_parse(s, n, &j, &e.m), ERR_MALFORMED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_null(j);
	assert_string_equal(e.m.text, "invalid JSON: nesting deeper than 32 levels");
	/* 1000 refusals of 10 MB each: only possible if each stops at the 33rd
	 * byte. Scanning the buffer even once per call would take seconds. */
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (secs > 1.0)
		fail_msg("1000 refusals took %.3f s", secs);
	free(s);
}

#define DEPTH_OK(s, max) jsonx_depth_ok((s), strlen(s), (max))

static void test_depth_strings(void **state)
{
	char *deep = nested_arrays(JSONX_MAX_DEPTH);
	char s[512];

	(void)state;
	/* Brackets inside strings, escaped quotes included, do not count. */
	json_decref(parse_ok("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}"));
	json_decref(parse_ok("{\"a\":\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}"));
	json_decref(parse_ok("{\"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\":1}"));
	assert_true(DEPTH_OK("\"[[[[\"", 3));
	assert_true(DEPTH_OK("\"\\\"[[[[\"", 3));

	/* An escaped backslash ends in a real quote: what follows counts. A
	 * scanner taking \\" for an escaped quote would miss this depth. */
	snprintf(s, sizeof(s), "[\"\\\\\",%s]", deep);
	parse_bad(s, "nesting deeper than 32 levels");
	assert_false(DEPTH_OK("[\"\\\\\",[[[1]]]]", 3));
	assert_true(DEPTH_OK("[\"\\\\\",[[1]]]", 3));

	/* Closing brackets in excess do not buy depth back. */
	assert_false(DEPTH_OK("]]]][[[[", 3));
	assert_true(DEPTH_OK("]]]][[[", 3));
	free(deep);
}

/* jansson quotes the token it stopped at: bytes of the input that are not
 * printable ASCII reach the message as \xNN, never raw. */
static void test_error_quotes_input_printably(void **state)
{
	(void)state;
	parse_bad("{\"a\":1\x01}", "'}' expected near '\\x01'");
	parse_bad("[\x1a]", "invalid token near '\\x1a'");
	parse_bad("[\xc3\xa9]", "near '\\xc3\\xa9'");
}

static void test_strict_input(void **state)
{
	(void)state;
	parse_bad("{\"a\":1,\"a\":2}", "duplicate object key");
	parse_bad("{\"a\":{\"b\":1,\"b\":1}}", "duplicate object key");
	parse_bad("{\"a\":\"x\\u0000y\"}", "\\u0000 is not allowed");
	parse_bad("{\"a\":\"\xff\"}", "unable to decode byte 0xff");
	parse_bad("{\"a\":\"\xc0\xaf\"}", "unable to decode byte 0xc0");
	parse_bad("{\"a\":\"\xed\xa0\x80\"}", "unable to decode byte 0xed");
	parse_bad("{\"\xe2\x82\":1}", "unable to decode");
	parse_bad("{\"a\":\"\\ud800\"}", "invalid Unicode '\\uD800'");
	parse_bad("{\"a\":\"\\udc00\"}", "invalid Unicode '\\uDC00'");
	parse_bad("{\"a\":\"\\ud800x\"}", "invalid Unicode");
	parse_bad("{\"a\":\"a\x01\"}", "control character 0x1");
	parse_bad("{\"a\":1} x", "end of file expected");
	parse_bad("{\"a\":1}{}", "end of file expected");
	parse_bad("{\"a\":1,}", "invalid JSON at line 1");
	parse_bad("{'a':1}", "invalid JSON at line 1");
	parse_bad("1", "'[' or '{' expected");
	parse_bad("", "'[' or '{' expected");
	parse_bad("{\"a\":tru}", "invalid token");
	parse_bad("{\"v\":9223372036854775808}", "too big integer");
	parse_bad("{\"v\":-9223372036854775809}", "too big negative integer");
	parse_bad("{\"v\":1e400}", "real number overflow");
	parse_bad("{\n\"a\":\n}", "invalid JSON at line 3 column 1");

	/* What is valid stays valid. */
	json_t *j = parse_ok(" {\"a\":\"\\ud83d\\ude00 caf\xc3\xa9\", \"b\":[]} \n");
	assert_string_equal(json_string_value(json_object_get(j, "a")),
			    "\xf0\x9f\x98\x80 caf\xc3\xa9");
	json_decref(j);
}

/* Only 'len' bytes are read: the body need not be NUL-terminated. */
static void test_parse_length(void **state)
{
	static const char body[] = "{\"a\":1}garbage";
	struct errmsg err;
	json_t *j = NULL;

	(void)state;
	assert_int_equal(jsonx_parse(body, 7, &j, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
	json_decref(j);
	j = NULL;
	assert_int_equal(jsonx_parse(body, 6, &j, &err), ERR_MALFORMED);
	assert_null(j);
}

/* --- typed getters ----------------------------------------------------- */

static const char fields[] = "{\"i\":5,\"zero\":0,\"neg\":-1,\"max\":9223372036854775807,"
			     "\"r\":5.0,\"e\":1e2,\"s\":\"5\",\"t\":true,\"f\":false,\"n\":null,"
			     "\"a\":[1],\"o\":{}}";

static int getters_setup(void **state)
{
	json_error_t je;

	*state = json_loads(fields, 0, &je);
	return *state == NULL ? -1 : 0;
}

static int getters_teardown(void **state)
{
	json_decref(*state);
	return 0;
}

/* The getter failed with ERR_INVALID and exactly 'want'. */
static void expect_invalid(int r, const struct errbuf *e, const char *want)
{
	err_check_guard(e);
	if (r != ERR_INVALID)
		fail_msg("%d, want ERR_INVALID (%s)", r, want);
	if (strcmp(e->m.text, want) != 0)
		fail_msg("message '%s', want '%s'", e->m.text, want);
}

static void test_get_uint(void **state)
{
	const json_t *o = *state;
	struct errbuf e;
	uint64_t v = 77;

	err_init(&e);
	assert_int_equal(jsonx_get_uint(o, "i", true, 0, 10, "x", &v, &e.m), 0);
	assert_int_equal(v, 5);
	assert_int_equal(jsonx_get_uint(o, "i", true, 5, 5, "x", &v, &e.m), 0);
	assert_int_equal(jsonx_get_uint(o, "zero", true, 0, 0, "x", &v, &e.m), 0);
	assert_int_equal(v, 0);
	assert_int_equal(jsonx_get_uint(o, "max", true, 0, UINT64_MAX, "x", &v, &e.m), 0);
	assert_int_equal(v, 9223372036854775807ull);

	v = 77;
	expect_invalid(jsonx_get_uint(o, "i", true, 6, 10, "x", &v, &e.m), &e,
		       "x.i: 5 is out of range 6..10");
	expect_invalid(jsonx_get_uint(o, "i", true, 0, 4, "zone", &v, &e.m), &e,
		       "zone.i: 5 is out of range 0..4");
	expect_invalid(jsonx_get_uint(o, "neg", true, 0, 10, "x", &v, &e.m), &e,
		       "x.neg: -1 is out of range 0..10");
	expect_invalid(jsonx_get_uint(o, "neg", true, 0, UINT64_MAX, "x", &v, &e.m), &e,
		       "x.neg: -1 is out of range 0..18446744073709551615");
	expect_invalid(jsonx_get_uint(o, "max", true, 0, 9223372036854775806ull, "x", &v, &e.m), &e,
		       "x.max: 9223372036854775807 is out of range 0..9223372036854775806");
	/* Reals, even whole ones, strings, booleans and null are not integers. */
	expect_invalid(jsonx_get_uint(o, "r", true, 0, 10, "x", &v, &e.m), &e,
		       "x.r: must be an integer");
	expect_invalid(jsonx_get_uint(o, "e", true, 0, 1000, "x", &v, &e.m), &e,
		       "x.e: must be an integer");
	expect_invalid(jsonx_get_uint(o, "s", true, 0, 10, "x", &v, &e.m), &e,
		       "x.s: must be an integer");
	expect_invalid(jsonx_get_uint(o, "t", true, 0, 10, "x", &v, &e.m), &e,
		       "x.t: must be an integer");
	expect_invalid(jsonx_get_uint(o, "n", true, 0, 10, "x", &v, &e.m), &e,
		       "x.n: must be an integer");
	expect_invalid(jsonx_get_uint(o, "a", true, 0, 10, "x", &v, &e.m), &e,
		       "x.a: must be an integer");
	/* Missing. */
	expect_invalid(jsonx_get_uint(o, "q", true, 0, 10, "x", &v, &e.m), &e,
		       "x: missing field 'q'");
	assert_int_equal(jsonx_get_uint(o, "q", false, 0, 10, "x", &v, &e.m), -ENOENT);
	/* A failure leaves the out-parameter alone. */
	assert_int_equal(v, 77);
}

static void test_get_str(void **state)
{
	const json_t *o = *state;
	const char *s = "untouched";
	struct errbuf e;

	err_init(&e);
	assert_int_equal(jsonx_get_str(o, "s", true, "x", &s, &e.m), 0);
	assert_string_equal(s, "5");
	/* Borrowed from the object, not copied. */
	assert_ptr_equal(s, json_string_value(json_object_get(o, "s")));

	s = "untouched";
	expect_invalid(jsonx_get_str(o, "i", true, "x", &s, &e.m), &e, "x.i: must be a string");
	expect_invalid(jsonx_get_str(o, "r", true, "x", &s, &e.m), &e, "x.r: must be a string");
	expect_invalid(jsonx_get_str(o, "t", true, "x", &s, &e.m), &e, "x.t: must be a string");
	expect_invalid(jsonx_get_str(o, "n", false, "x", &s, &e.m), &e, "x.n: must be a string");
	expect_invalid(jsonx_get_str(o, "o", true, "x", &s, &e.m), &e, "x.o: must be a string");
	expect_invalid(jsonx_get_str(o, "q", true, "records[3]", &s, &e.m), &e,
		       "records[3]: missing field 'q'");
	assert_int_equal(jsonx_get_str(o, "q", false, "x", &s, &e.m), -ENOENT);
	assert_string_equal(s, "untouched");
}

static void test_get_bool(void **state)
{
	const json_t *o = *state;
	struct errbuf e;
	bool b = false;

	err_init(&e);
	assert_int_equal(jsonx_get_bool(o, "t", true, "x", &b, &e.m), 0);
	assert_true(b);
	assert_int_equal(jsonx_get_bool(o, "f", true, "x", &b, &e.m), 0);
	assert_false(b);

	b = true;
	expect_invalid(jsonx_get_bool(o, "i", true, "x", &b, &e.m), &e,
		       "x.i: must be true or false");
	expect_invalid(jsonx_get_bool(o, "zero", true, "x", &b, &e.m), &e,
		       "x.zero: must be true or false");
	expect_invalid(jsonx_get_bool(o, "s", true, "x", &b, &e.m), &e,
		       "x.s: must be true or false");
	expect_invalid(jsonx_get_bool(o, "n", true, "x", &b, &e.m), &e,
		       "x.n: must be true or false");
	assert_int_equal(jsonx_get_bool(o, "q", false, "x", &b, &e.m), -ENOENT);
	assert_true(b);
}

static void test_get_array_obj(void **state)
{
	const json_t *o = *state;
	struct errbuf e;
	json_t *v = NULL;

	err_init(&e);
	assert_int_equal(jsonx_get_array(o, "a", true, "x", &v, &e.m), 0);
	assert_ptr_equal(v, json_object_get(o, "a"));
	assert_int_equal(jsonx_get_obj(o, "o", true, "x", &v, &e.m), 0);
	assert_ptr_equal(v, json_object_get(o, "o"));

	v = NULL;
	expect_invalid(jsonx_get_array(o, "o", true, "x", &v, &e.m), &e, "x.o: must be an array");
	expect_invalid(jsonx_get_array(o, "s", true, "x", &v, &e.m), &e, "x.s: must be an array");
	expect_invalid(jsonx_get_obj(o, "a", true, "x", &v, &e.m), &e, "x.a: must be an object");
	expect_invalid(jsonx_get_obj(o, "n", true, "x", &v, &e.m), &e, "x.n: must be an object");
	expect_invalid(jsonx_get_obj(o, "q", true, "body", &v, &e.m), &e,
		       "body: missing field 'q'");
	assert_int_equal(jsonx_get_array(o, "q", false, "x", &v, &e.m), -ENOENT);
	assert_int_equal(jsonx_get_obj(o, "q", false, "x", &v, &e.m), -ENOENT);
	assert_null(v);
}

static void test_check_keys(void **state)
{
	static const char *const allowed[] = { "name", "type", "content", NULL };
	static const char *const none[] = { NULL };
	struct errbuf e;
	json_t *j;

	(void)state;
	err_init(&e);
	j = parse_ok("{\"name\":1,\"content\":2}");
	assert_int_equal(jsonx_check_keys(j, allowed, "records[0]", &e.m), 0);
	json_decref(j);

	j = parse_ok("{}");
	assert_int_equal(jsonx_check_keys(j, none, "x", &e.m), 0);
	json_decref(j);

	j = parse_ok("{\"name\":1,\"ttl\":2}");
	expect_invalid(jsonx_check_keys(j, allowed, "records[2]", &e.m), &e,
		       "records[2]: unknown field 'ttl'");
	json_decref(j);

	/* Near misses are unknown too. */
	j = parse_ok("{\"Name\":1}");
	expect_invalid(jsonx_check_keys(j, allowed, "zone", &e.m), &e,
		       "zone: unknown field 'Name'");
	json_decref(j);
	j = parse_ok("{\"nam\":1}");
	expect_invalid(jsonx_check_keys(j, allowed, "zone", &e.m), &e, "zone: unknown field 'nam'");
	json_decref(j);

	/* The key is client text: sanitised and cut. */
	j = parse_ok("{\"a'b\\n\":1}");
	expect_invalid(jsonx_check_keys(j, allowed, "zone", &e.m), &e,
		       "zone: unknown field 'a\\x27b\\x0a'");
	json_decref(j);

	char body[300], want[200];
	memset(body, 0, sizeof(body));
	memcpy(body, "{\"", 2);
	memset(body + 2, 'k', 200);
	memcpy(body + 202, "\":1}", 4);
	j = parse_ok(body);
	memset(want, 0, sizeof(want));
	memcpy(want, "zone: unknown field '", 21);
	memset(want + 21, 'k', 92);
	memcpy(want + 21 + 92, "...'", 4);
	expect_invalid(jsonx_check_keys(j, allowed, "zone", &e.m), &e, want);
	json_decref(j);
}

/* A path longer than the message buffer is cut, not written past it. */
static void test_long_path(void **state)
{
	const json_t *o = *state;
	char path[1000];
	const char *s = NULL;
	struct errbuf e;
	uint64_t v;

	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	err_init(&e);
	assert_int_equal(jsonx_get_uint(o, "r", true, 0, 1, path, &v, &e.m), ERR_INVALID);
	err_check_guard(&e);
	assert_int_equal(strlen(e.m.text), ERRMSG_MAX - 1);
	assert_int_equal(jsonx_get_uint(o, "i", true, 0, 1, path, &v, &e.m), ERR_INVALID);
	err_check_guard(&e);
	assert_int_equal(jsonx_get_str(o, "q", true, path, &s, &e.m), ERR_INVALID);
	err_check_guard(&e);
	assert_int_equal(strlen(e.m.text), ERRMSG_MAX - 1);
}

#define G(fn) cmocka_unit_test_setup_teardown(fn, getters_setup, getters_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_depth_siblings),
		cmocka_unit_test(test_depth_flood),
		cmocka_unit_test(test_depth_strings),
		cmocka_unit_test(test_strict_input),
		cmocka_unit_test(test_error_quotes_input_printably),
		cmocka_unit_test(test_parse_length),
		G(test_get_uint),
		G(test_get_str),
		G(test_get_bool),
		G(test_get_array_obj),
		cmocka_unit_test(test_check_keys),
		G(test_long_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
