/* Unit tests for src/lib/base/secret: comparing API keys, generating them
 * and checking that a key file is private. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/secret.h"

#define KEY "s3cr3t-Key_0123456789abcdef"

static void test_equal(void **state)
{
	(void)state;
	assert_true(secret_equal(KEY, KEY));
	/* Equal content at different addresses. */
	char copy[sizeof(KEY)];
	memcpy(copy, KEY, sizeof(KEY));
	assert_true(secret_equal(copy, KEY));
	assert_true(secret_equal("x", "x"));
}

static void test_different(void **state)
{
	(void)state;
	assert_false(secret_equal("s3cr3t-Key_0123456789abcdeF", KEY));
	assert_false(secret_equal("t3cr3t-Key_0123456789abcdef", KEY));
	assert_false(secret_equal("S3CR3T-KEY_0123456789ABCDEF", KEY));
	assert_false(secret_equal("wrong", KEY));
}

static void test_prefix_and_extension(void **state)
{
	(void)state;
	/* A prefix of the secret, the secret with more after it. */
	assert_false(secret_equal("s3cr3t-Key_0123456789abcde", KEY));
	assert_false(secret_equal("s", KEY));
	assert_false(secret_equal(KEY "0", KEY));
	assert_false(secret_equal(KEY " ", KEY));
	assert_false(secret_equal(KEY "\n", KEY));
	/* The other way round. */
	assert_false(secret_equal(KEY, "s3cr3t"));
}

static void test_empty_and_null(void **state)
{
	(void)state;
	assert_false(secret_equal("", KEY));
	assert_false(secret_equal(NULL, KEY));
	/* An empty or missing expected secret matches nothing, not even "". */
	assert_false(secret_equal("", ""));
	assert_false(secret_equal("anything", ""));
	assert_false(secret_equal(NULL, NULL));
	assert_false(secret_equal("", NULL));
}

static void test_random_hex(void **state)
{
	char a[65], b[65];

	(void)state;
	memset(a, 'Z', sizeof(a));
	assert_int_equal(secret_random_hex(a, sizeof(a), 32), 0);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	assert_int_equal(secret_random_hex(b, sizeof(b), 32), 0);
	assert_string_not_equal(a, b);

	/* Shorter keys fill only what they need. */
	memset(b, 'Z', sizeof(b));
	assert_int_equal(secret_random_hex(b, sizeof(b), 4), 0);
	assert_int_equal(strlen(b), 8);
	assert_int_equal(strspn(b, "0123456789abcdef"), 8);
	assert_int_equal(b[9], 'Z');

	assert_int_equal(secret_random_hex(b, 1, 0), 0);
	assert_string_equal(b, "");
}

static void test_sha256_hex(void **state)
{
	char out[65];
	(void)state;
	/* FIPS 180-2 test vector. */
	assert_int_equal(secret_sha256_hex("abc", out), 0);
	assert_string_equal(out,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(secret_sha256_hex("", out), 0);
	assert_string_equal(out,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_random_hex_limits(void **state)
{
	char out[300];

	(void)state;
	memset(out, 'Z', sizeof(out));
	/* One byte short of room for the NUL. */
	assert_int_equal(secret_random_hex(out, 64, 32), -EINVAL);
	assert_int_equal(out[0], 'Z');
	assert_int_equal(secret_random_hex(out, 0, 0), -EINVAL);
	/* More randomness than one call hands out. */
	assert_int_equal(secret_random_hex(out, sizeof(out), 129), -EINVAL);
	assert_int_equal(secret_random_hex(out, sizeof(out), 128), 0);
	assert_int_equal(strlen(out), 256);
}

/* Every digit shows up in both nibbles over many keys: the encoding uses the
 * whole byte. 64 KiB of random bytes miss one of 32 cases with negligible
 * probability. */
static void test_random_hex_spread(void **state)
{
	unsigned hi[16] = { 0 }, lo[16] = { 0 };
	char out[257];

	(void)state;
	for (unsigned round = 0; round < 512; round++) {
		assert_int_equal(secret_random_hex(out, sizeof(out), 128), 0);
		for (unsigned i = 0; i < 256; i++) {
			const char *d = strchr("0123456789abcdef", out[i]);
			assert_non_null(d);
			if (i % 2 == 0)
				hi[d - "0123456789abcdef"]++;
			else
				lo[d - "0123456789abcdef"]++;
		}
	}
	for (unsigned d = 0; d < 16; d++) {
		assert_true(hi[d] > 0);
		assert_true(lo[d] > 0);
	}
}

struct tmp_dir {
	char path[64];
};

static int dir_setup(void **state)
{
	struct tmp_dir *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "/tmp/yumna-test-secret-XXXXXX");
	if (mkdtemp(t->path) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int dir_teardown(void **state)
{
	struct tmp_dir *t = *state;
	static const char *const names[] = { "key", "dir" };
	char p[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", t->path, names[i]);
		if (unlink(p) < 0)
			rmdir(p);
	}
	rmdir(t->path);
	free(t);
	return 0;
}

static void write_key(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret\n", 7), 7);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_file_modes(void **state)
{
	static const struct {
		mode_t mode;
		int want;
	} cases[] = {
		{ 0600, 0 },	   { 0400, 0 },	      { 0700, 0 },	 { 0000, 0 },
		{ 0640, -EACCES }, { 0604, -EACCES }, { 0660, -EACCES }, { 0644, -EACCES },
		{ 0610, -EACCES }, { 0601, -EACCES }, { 0620, -EACCES }, { 0602, -EACCES },
	};
	struct tmp_dir *t = *state;
	char p[128];

	snprintf(p, sizeof(p), "%s/key", t->path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_key(p, cases[i].mode);
		int r = secret_file_is_private(p);
		if (r != cases[i].want)
			fail_msg("mode %04o: %d, want %d", (unsigned)cases[i].mode, r,
				 cases[i].want);
	}
}

static void test_file_not_regular(void **state)
{
	struct tmp_dir *t = *state;
	char p[128];

	snprintf(p, sizeof(p), "%s/dir", t->path);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(secret_file_is_private(p), -EINVAL);
	snprintf(p, sizeof(p), "%s/missing", t->path);
	assert_int_equal(secret_file_is_private(p), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_different),
		cmocka_unit_test(test_prefix_and_extension),
		cmocka_unit_test(test_empty_and_null),
		cmocka_unit_test(test_random_hex),
		cmocka_unit_test(test_random_hex_limits),
		cmocka_unit_test(test_sha256_hex),
		cmocka_unit_test(test_random_hex_spread),
		cmocka_unit_test_setup_teardown(test_file_modes, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_file_not_regular, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
