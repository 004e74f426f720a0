/* Unit tests for src/lib/conf: `key = value` files read through a schema.
 *
 * A small schema with one setting of every type stands in for a program's;
 * each test writes a file, loads it and checks either the values or the
 * exact "file:line: message" a user would see. Built with test_alloc.h, so
 * a string the loader loses fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "conf/conf.h"

struct tconf {
	char *name;
	uint64_t port;
	int enabled;
	char *mode;
	char *api_key;
	char *comment;
	uint64_t big;
};

static const char *const modes[] = { "primary", "secondary", NULL };

#define O(f) offsetof(struct tconf, f)
static const struct conf_item schema[] = {
	{ "name", CONF_STR, O(name), "agent", 0, 16, NULL, 0, "node name" },
	{ "port", CONF_UINT, O(port), "8053", 1, 65535, NULL, 0, NULL },
	{ "enabled", CONF_BOOL, O(enabled), "yes", 0, 0, NULL, 0, NULL },
	{ "mode", CONF_ENUM, O(mode), "primary", 0, 0, modes, 0, NULL },
	{ "api-key", CONF_STR, O(api_key), NULL, 0, 32, NULL, CONF_REQUIRED | CONF_SECRET, NULL },
	{ "comment", CONF_STR, O(comment), NULL, 0, 0, NULL, 0, NULL },
	{ "big", CONF_UINT, O(big), "0", 0, UINT64_MAX, NULL, 0, NULL },
	{ 0 },
};
#undef O

#define KEY_LINE "api-key = hunter2hunter2\n"

struct fixture {
	char dir[64];
	char path[96];
	struct tconf c;
	/* Room after the message catches a write past ERRMSG_MAX, even
	 * one that starts well beyond it. */
	struct {
		struct errmsg err;
		char guard[ERRMSG_MAX];
	} e;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/yumna-test-conf-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/t.conf", f->dir);
	memset(f->e.guard, 0x5a, sizeof(f->e.guard));
	*state = f;
	return 0;
}

static void check_guard(const struct fixture *f)
{
	for (size_t i = 0; i < sizeof(f->e.guard); i++)
		if (f->e.guard[i] != 0x5a)
			fail_msg("error message ran past ERRMSG_MAX (byte %zu)", i);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	bool overrun = false;

	for (size_t i = 0; i < sizeof(f->e.guard); i++)
		overrun = overrun || f->e.guard[i] != 0x5a;
	/* Each test frees what it loaded: cmocka checks a test for leaks
	 * before its teardown runs. */
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	if (overrun)
		fail_msg("error message ran past ERRMSG_MAX");
	return 0;
}

static void write_file(const struct fixture *f, const char *text, size_t len)
{
	FILE *fp = fopen(f->path, "we");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Load 'text'; return the result. */
static int load(struct fixture *f, const char *text)
{
	conf_free(schema, &f->c);
	memset(&f->c, 0, sizeof(f->c));
	write_file(f, text, strlen(text));
	return conf_load(f->path, schema, &f->c, &f->e.err);
}

/* Load 'text', expect ERR_CONFIG and exactly "<path>:<line>: <msg>"
 * (line 0: "<path>: <msg>"). */
static void expect_error(struct fixture *f, const char *text, unsigned line, const char *msg)
{
	char want[ERRMSG_MAX];

	if (line > 0)
		snprintf(want, sizeof(want), "%s:%u: %s", f->path, line, msg);
	else
		snprintf(want, sizeof(want), "%s: %s", f->path, msg);
	int r = load(f, text);
	if (r != ERR_CONFIG)
		fail_msg("'%s': %d, want ERR_CONFIG", text, r);
	if (strcmp(f->e.err.text, want) != 0)
		fail_msg("'%s':\n got  %s\n want %s", text, f->e.err.text, want);
}

/* A NUL byte would end the line for every C string function, and what
 * follows it would be ignored unseen: the file is refused. */
static void test_nul_byte_refused(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "api-key = secret\0, more\nport = 1\n";

	conf_free(schema, &f->c);
	memset(&f->c, 0, sizeof(f->c));
	write_file(f, text, sizeof(text) - 1);
	assert_int_equal(conf_load(f->path, schema, &f->c, &f->e.err), ERR_CONFIG);
	char want[ERRMSG_MAX];
	snprintf(want, sizeof(want), "%s:1: a NUL byte: not a text file", f->path);
	assert_string_equal(f->e.err.text, want);
	conf_free(schema, &f->c);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, KEY_LINE), 0);
	assert_string_equal(f->e.err.text, "");
	assert_string_equal(f->c.name, "agent");
	assert_int_equal(f->c.port, 8053);
	assert_int_equal(f->c.enabled, 1);
	assert_string_equal(f->c.mode, "primary");
	assert_string_equal(f->c.api_key, "hunter2hunter2");
	assert_null(f->c.comment);
	assert_int_equal(f->c.big, 0);
	conf_free(schema, &f->c);
}

static void test_values(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "# a comment\n"
				 "\n"
				 "   name   =   ns 2  \n"
				 "port=53 # the DNS port\n"
				 "\tenabled = off\r\n"
				 "mode = secondary\n"
				 "comment = a = b\n"
				 "big = 18446744073709551615\n"
				 "api-key = k" /* no newline at the end */),
			 0);
	assert_string_equal(f->c.name, "ns 2");
	assert_int_equal(f->c.port, 53);
	assert_int_equal(f->c.enabled, 0);
	assert_string_equal(f->c.mode, "secondary");
	assert_string_equal(f->c.comment, "a = b");
	assert_int_equal(f->c.big, UINT64_MAX);
	assert_string_equal(f->c.api_key, "k");
	conf_free(schema, &f->c);
}

/* A '#' starts a comment at the start of a line or after white space only:
 * one inside a value (a base64 secret, a generated password) is kept, where
 * the value was once cut short there without a word. */
static void test_hash_inside_a_value(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "api-key = AAAAAAAA#BBBBBBBB\n"
				 "name = a#b # the comment\n"
				 "\t# an indented comment\n"
				 "comment = x#\t#y\n"
				 "port = 53 #54\n"
				 "mode = #secondary\n"),
			 0);
	assert_string_equal(f->c.api_key, "AAAAAAAA#BBBBBBBB");
	assert_string_equal(f->c.name, "a#b");
	assert_string_equal(f->c.comment, "x#");
	assert_int_equal(f->c.port, 53);
	assert_string_equal(f->c.mode, "primary");

	/* An enum or a number is checked with its '#'. */
	assert_int_equal(load(f, KEY_LINE "mode = secondary#\n"), ERR_CONFIG);
	assert_int_equal(load(f, KEY_LINE "port = 53#\n"), ERR_CONFIG);
	conf_free(schema, &f->c);
}

static void test_bools(void **state)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{ "yes", 1 }, { "true", 1 },  { "on", 1 },  { "1", 1 },
		{ "no", 0 },  { "false", 0 }, { "off", 0 }, { "0", 0 },
	};
	struct fixture *f = *state;
	char text[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), KEY_LINE "enabled = %s\n", cases[i].text);
		f->c.enabled = -1;
		assert_int_equal(load(f, text), 0);
		if (f->c.enabled != cases[i].want)
			fail_msg("'%s' read as %d", cases[i].text, f->c.enabled);
	}
	expect_error(f, KEY_LINE "enabled = maybe\n", 2, "'enabled': 'maybe' is not yes or no");
	expect_error(f, KEY_LINE "enabled = YES\n", 2, "'enabled': 'YES' is not yes or no");
	expect_error(f, KEY_LINE "enabled = 2\n", 2, "'enabled': '2' is not yes or no");
	conf_free(schema, &f->c);
}

static void test_uint_errors(void **state)
{
	struct fixture *f = *state;

	expect_error(f, KEY_LINE "port = abc\n", 2, "'port': 'abc' is not a non-negative integer");
	expect_error(f, KEY_LINE "port = -1\n", 2, "'port': '-1' is not a non-negative integer");
	expect_error(f, KEY_LINE "port = +5\n", 2, "'port': '+5' is not a non-negative integer");
	expect_error(f, KEY_LINE "port = 53x\n", 2, "'port': '53x' is not a non-negative integer");
	expect_error(f, KEY_LINE "port = 0x35\n", 2,
		     "'port': '0x35' is not a non-negative integer");
	expect_error(f, KEY_LINE "port = 5 3\n", 2, "'port': '5 3' is not a non-negative integer");
	expect_error(f, KEY_LINE "big = 18446744073709551616\n", 2,
		     "'big': '18446744073709551616' is not a non-negative integer");
	expect_error(f, KEY_LINE "port = 0\n", 2, "'port': '0' is out of range 1..65535");
	expect_error(f, KEY_LINE "port = 65536\n", 2, "'port': '65536' is out of range 1..65535");
	/* The edges themselves are fine. */
	assert_int_equal(load(f, KEY_LINE "port = 1\n"), 0);
	assert_int_equal(f->c.port, 1);
	assert_int_equal(load(f, KEY_LINE "port = 65535\n"), 0);
	assert_int_equal(f->c.port, 65535);
	assert_int_equal(load(f, KEY_LINE "port = 00080\n"), 0);
	assert_int_equal(f->c.port, 80);
	conf_free(schema, &f->c);
}

static void test_enum(void **state)
{
	struct fixture *f = *state;

	expect_error(f, KEY_LINE "mode = tertiary\n", 2,
		     "'mode': 'tertiary' is not one of the allowed values");
	expect_error(f, KEY_LINE "mode = Primary\n", 2,
		     "'mode': 'Primary' is not one of the allowed values");
	expect_error(f, KEY_LINE "mode = prim\n", 2,
		     "'mode': 'prim' is not one of the allowed values");
	conf_free(schema, &f->c);
}

static void test_string_length(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, KEY_LINE "name = 0123456789abcdef\n"), 0);
	assert_string_equal(f->c.name, "0123456789abcdef");
	expect_error(f, KEY_LINE "name = 0123456789abcdefg\n", 2,
		     "'name': value '0123456789abcdefg' is too long (at most 16 characters)");
	conf_free(schema, &f->c);
}

/* User text in a message is quoted and sanitised. */
static void test_values_sanitised(void **state)
{
	struct fixture *f = *state;

	expect_error(f, KEY_LINE "mode = it's\n", 2,
		     "'mode': 'it\\x27s' is not one of the allowed values");
	expect_error(f, KEY_LINE "mode = a\x1b[2Jb\n", 2,
		     "'mode': 'a\\x1b[2Jb' is not one of the allowed values");
	conf_free(schema, &f->c);
}

static void test_unknown_key(void **state)
{
	struct fixture *f = *state;

	expect_error(f, KEY_LINE "\n# c\nbogus = 1\n", 4, "unknown setting 'bogus'");
	expect_error(f, "Port = 1\n", 1, "unknown setting 'Port'");
	expect_error(f, "na\x01me = x\n", 1, "unknown setting 'na\\x01me'");
	expect_error(f, "= 5\n", 1, "unknown setting ''");
	conf_free(schema, &f->c);
}

static void test_duplicate_key(void **state)
{
	struct fixture *f = *state;

	expect_error(f, KEY_LINE "port = 1\nname = x\nport = 2\n", 4, "'port' is set twice");
	/* Even when one of them is empty. */
	expect_error(f, KEY_LINE "port =\nport = 2\n", 3, "'port' is set twice");
	conf_free(schema, &f->c);
}

static void test_missing_equals(void **state)
{
	struct fixture *f = *state;

	expect_error(f, KEY_LINE "port 53\n", 2, "expected 'key = value'");
	expect_error(f, "enabled\n", 1, "expected 'key = value'");
	conf_free(schema, &f->c);
}

static void test_empty_value_keeps_default(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, KEY_LINE "port =\nname =   \nmode= # none\n"), 0);
	assert_int_equal(f->c.port, 8053);
	assert_string_equal(f->c.name, "agent");
	assert_string_equal(f->c.mode, "primary");
	conf_free(schema, &f->c);
}

static void test_required(void **state)
{
	struct fixture *f = *state;

	expect_error(f, "port = 53\n", 0, "'api-key' must be set");
	expect_error(f, "api-key =\n", 0, "'api-key' must be set");
	expect_error(f, "", 0, "'api-key' must be set");
	conf_free(schema, &f->c);
}

/* The buffer takes 4096 characters and the newline. */
static void test_line_length(void **state)
{
	struct fixture *f = *state;
	size_t n = 4200;
	char *text = malloc(n);

	assert_non_null(text);
	/* "comment = " and a value that makes the line exactly 4096 long. */
	memset(text, 'c', n);
	memcpy(text, KEY_LINE "comment = ", strlen(KEY_LINE) + 10);
	size_t end = strlen(KEY_LINE) + 4096;
	text[end] = '\n';
	text[end + 1] = '\0';
	assert_int_equal(load(f, text), 0);
	assert_int_equal(strlen(f->c.comment), 4096 - 10);

	/* The same at the end of the file, without the newline. */
	text[end] = '\0';
	assert_int_equal(load(f, text), 0);
	assert_int_equal(strlen(f->c.comment), 4096 - 10);

	/* One more character: too long, with or without a newline after it. */
	text[end] = 'c';
	text[end + 1] = '\n';
	text[end + 2] = '\0';
	expect_error(f, text, 2, "line too long");
	text[end + 1] = '\0';
	expect_error(f, text, 2, "line too long");

	/* A long comment line is still a line. */
	memset(text, '#', n - 1);
	text[n - 1] = '\0';
	expect_error(f, text, 1, "line too long");
	free(text);
	conf_free(schema, &f->c);
}

/* A secret value never appears in a message, whatever is wrong around it. */
static void test_secret_not_echoed(void **state)
{
	static const char secret[] = "hunter2-very-secret-and-too-long-for-32";
	struct fixture *f = *state;
	char text[256];

	snprintf(text, sizeof(text), "api-key = %s\n", secret);
	expect_error(f, text, 1, "'api-key': value '(secret)' is too long (at most 32 characters)");
	assert_null(strstr(f->e.err.text, "hunter2"));

	snprintf(text, sizeof(text), "api-key = hunter2\napi-key = hunter3\n");
	expect_error(f, text, 2, "'api-key' is set twice");
	assert_null(strstr(f->e.err.text, "hunter"));

	expect_error(f, "api-key hunter2\n", 1, "expected 'key = value'");
	assert_null(strstr(f->e.err.text, "hunter"));

	expect_error(f, "api_key = hunter2\n", 1, "unknown setting 'api_key'");
	assert_null(strstr(f->e.err.text, "hunter"));
	conf_free(schema, &f->c);
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	char want[ERRMSG_MAX];

	snprintf(want, sizeof(want), "%s/nope.conf: cannot open: %s", f->dir, strerror(ENOENT));
	char path[128];
	snprintf(path, sizeof(path), "%s/nope.conf", f->dir);
	assert_int_equal(conf_load(path, schema, &f->c, &f->e.err), -ENOENT);
	assert_string_equal(f->e.err.text, want);
	/* The defaults were applied before the file was tried. */
	assert_int_equal(f->c.port, 8053);
	conf_free(schema, &f->c);
}

/* An error half-way leaves what was read so far for conf_free(). */
static void test_error_after_strings(void **state)
{
	struct fixture *f = *state;

	expect_error(f, "name = n\ncomment = c\nmode = secondary\nport = x\n", 4,
		     "'port': 'x' is not a non-negative integer");
	assert_string_equal(f->c.name, "n");
	assert_string_equal(f->c.comment, "c");
	assert_string_equal(f->c.mode, "secondary");
	/* Without this the test allocator fails the test with a leak. */
	conf_free(schema, &f->c);
}

static void test_conf_set_and_free(void **state)
{
	struct fixture *f = *state;
	const struct conf_item *name = &schema[0], *port = &schema[1];

	assert_int_equal(conf_set(name, &f->c, "one", "cli", &f->e.err), 0);
	assert_int_equal(conf_set(name, &f->c, "two", "cli", &f->e.err), 0);
	assert_string_equal(f->c.name, "two");
	assert_int_equal(conf_set(port, &f->c, "99999", "--port", &f->e.err), ERR_CONFIG);
	assert_string_equal(f->e.err.text, "--port: 'port': '99999' is out of range 1..65535");
	conf_free(schema, &f->c);
	assert_null(f->c.name);
	conf_free(schema, &f->c);
}

/* A 'where' as long as the buffer is cut, not written past it. */
static void test_conf_set_long_where(void **state)
{
	struct fixture *f = *state;
	char where[700];

	memset(where, 'w', sizeof(where) - 1);
	where[sizeof(where) - 1] = '\0';
	assert_int_equal(conf_set(&schema[1], &f->c, "x", where, &f->e.err), ERR_CONFIG);
	check_guard(f);
	assert_int_equal(strlen(f->e.err.text), ERRMSG_MAX - 1);
	assert_memory_equal(f->e.err.text, where, ERRMSG_MAX - 1);

	where[ERRMSG_MAX - 3] = '\0';
	assert_int_equal(conf_set(&schema[1], &f->c, "x", where, &f->e.err), ERR_CONFIG);
	check_guard(f);
	assert_int_equal(strlen(f->e.err.text), ERRMSG_MAX - 1);
	assert_memory_equal(f->e.err.text + ERRMSG_MAX - 3, ": ", 2);
	conf_free(schema, &f->c);
}

/* A schema whose default is invalid names the setting. */
static void test_bad_default(void **state)
{
	static const struct conf_item bad[] = {
		{ "n", CONF_UINT, 0, "12", 1, 10, NULL, 0, NULL },
		{ 0 },
	};
	struct fixture *f = *state;
	uint64_t v = 0;

	write_file(f, "", 0);
	assert_int_equal(conf_load(f->path, bad, &v, &f->e.err), ERR_CONFIG);
	assert_string_equal(f->e.err.text, "(default): 'n': '12' is out of range 1..10");
	conf_free(schema, &f->c);
}

/* Read 'len' bytes of 'text' as a secret file (mode 0600); the result,
 * *ret set on success. */
static int read_secret(struct fixture *f, const char *text, size_t len, char **ret)
{
	write_file(f, text, len);
	assert_int_equal(chmod(f->path, 0600), 0);
	*ret = NULL;
	return conf_read_secret_file(f->path, ret, &f->e.err);
}

/* The first line is the secret; one too long to be one is refused, not
 * cut to a prefix that matches nothing; so are an empty line and a NUL. */
static void test_secret_file(void **state)
{
	struct fixture *f = *state;
	static char text[CONF_SECRET_FILE_MAX + 8];
	char *got, want[ERRMSG_MAX];

	assert_int_equal(read_secret(f, "s3cret\r\nsecond line\n", 20, &got), 0);
	assert_string_equal(got, "s3cret");
	free(got);
	/* What follows the first line is not read as the secret. */
	assert_int_equal(read_secret(f, "s3cret\n\0\n", 9, &got), 0);
	assert_string_equal(got, "s3cret");
	free(got);

	memset(text, 'k', sizeof(text));
	text[CONF_SECRET_FILE_MAX] = '\n';
	assert_int_equal(read_secret(f, text, CONF_SECRET_FILE_MAX + 1, &got), 0);
	assert_int_equal(strlen(got), CONF_SECRET_FILE_MAX);
	free(got);
	assert_int_equal(read_secret(f, text, CONF_SECRET_FILE_MAX, &got), 0);
	assert_int_equal(strlen(got), CONF_SECRET_FILE_MAX);
	free(got);

	const struct {
		const char *text;
		size_t len;
		const char *why;
	} bad[] = {
		{ text, CONF_SECRET_FILE_MAX + 1,
		  "the first line is longer than the 1024 "
		  "characters a secret may have" },
		{ text, CONF_SECRET_FILE_MAX + 6,
		  "the first line is longer than the 1024 "
		  "characters a secret may have" },
		{ "", 0, "the first line is empty" },
		{ "\nsecret\n", 8, "the first line is empty" },
		{ "sec\0ret\n", 8, "not a text file" },
		{ "\0secret\n", 8, "not a text file" },
	};
	text[CONF_SECRET_FILE_MAX] = 'k';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(read_secret(f, bad[i].text, bad[i].len, &got), ERR_CONFIG);
		assert_null(got);
		snprintf(want, sizeof(want), "%s: %s", f->path, bad[i].why);
		assert_string_equal(f->e.err.text, want);
	}
	check_guard(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_values),
		T(test_hash_inside_a_value),
		T(test_bools),
		T(test_uint_errors),
		T(test_enum),
		T(test_string_length),
		T(test_values_sanitised),
		T(test_unknown_key),
		T(test_duplicate_key),
		T(test_missing_equals),
		T(test_empty_value_keeps_default),
		T(test_required),
		T(test_line_length),
		T(test_nul_byte_refused),
		T(test_secret_not_echoed),
		T(test_missing_file),
		T(test_error_after_strings),
		T(test_conf_set_and_free),
		T(test_conf_set_long_where),
		T(test_bad_default),
		T(test_secret_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
