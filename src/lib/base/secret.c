#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <gnutls/crypto.h>

#include "base/secret.h"

#define DIGEST_LEN 32

bool secret_equal(const char *given, const char *expected)
{
	unsigned char a[DIGEST_LEN], b[DIGEST_LEN];
	unsigned char diff = 0;

	if (given == NULL || expected == NULL || expected[0] == '\0')
		return false;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, given, strlen(given), a) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, expected, strlen(expected), b) < 0)
		return false;
	for (unsigned i = 0; i < DIGEST_LEN; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

int secret_sha256_hex(const char *text, char out[65])
{
	unsigned char digest[32];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, text, strlen(text), digest) < 0)
		return -EIO;
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	explicit_bzero(digest, sizeof(digest));
	return 0;
}

int secret_random_hex(char *out, size_t len, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[128];

	if (nbytes > sizeof(raw) || len < 2 * nbytes + 1)
		return -EINVAL;
	size_t got = 0;
	while (got < nbytes) {
		ssize_t n = getrandom(raw + got, nbytes - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

int secret_file_is_private(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return -EACCES;
	return 0;
}
