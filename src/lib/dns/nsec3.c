#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <libknot/dname.h>

#include "dns/dns_internal.h"
#include "dns/nsec3.h"

#define NSEC3_SHA1 1
#define NSEC3_SALT_MAX 255
/* RFC 9276 section 3.2 asks for 0; PowerDNS's max-nsec3-iterations was
 * 2500 before 4.5. More is refused rather than spent. */
#define NSEC3_ITERATIONS_MAX 2500

/* "alg flags iterations salt" into its fields; the salt "-" is empty. */
static int parse_params(const char *text, unsigned *iterations, uint8_t *salt, size_t *salt_len)
{
	char *end;
	unsigned long alg = strtoul(text, &end, 10);
	if (end == text || *end != ' ' || alg != NSEC3_SHA1)
		return -EINVAL;
	text = end + 1;
	(void)strtoul(text, &end, 10); /* flags: opt-out does not change the hash */
	if (end == text || *end != ' ')
		return -EINVAL;
	text = end + 1;
	unsigned long it = strtoul(text, &end, 10);
	if (end == text || *end != ' ' || it > NSEC3_ITERATIONS_MAX)
		return -EINVAL;
	*iterations = (unsigned)it;
	text = end + 1;
	*salt_len = 0;
	if (strcmp(text, "-") == 0)
		return 0;
	size_t n = strlen(text);
	if (n == 0 || n % 2 != 0 || n / 2 > NSEC3_SALT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 2) {
		int hi = dns_hex_digit(text[i]), lo = dns_hex_digit(text[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		salt[(*salt_len)++] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int dns_nsec3_hash(const char *name, const char *nsec3param, char out[DNS_NSEC3_HASH_TEXT])
{
	static const char b32hex[] = "0123456789abcdefghijklmnopqrstuv";
	knot_dname_storage_t wire;
	uint8_t salt[NSEC3_SALT_MAX], buf[KNOT_DNAME_MAXLEN + NSEC3_SALT_MAX], hash[20];
	size_t salt_len;
	unsigned iterations;

	if (parse_params(nsec3param, &iterations, salt, &salt_len) < 0 ||
	    knot_dname_from_str(wire, name, sizeof(wire)) == NULL)
		return -EINVAL;
	knot_dname_to_lower(wire);
	/* IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(salt, x, k-1) || salt) */
	size_t len = knot_dname_size(wire);
	memcpy(buf, wire, len);
	for (unsigned k = 0; k <= iterations; k++) {
		memcpy(buf + len, salt, salt_len);
		if (gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, len + salt_len, hash) < 0)
			return -EIO;
		memcpy(buf, hash, sizeof(hash));
		len = sizeof(hash);
	}
	/* 160 bits, 5 at a time: 32 digits, no padding. */
	for (unsigned i = 0; i < 32; i++) {
		unsigned bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)hash[byte] << 8 | (byte + 1 < 20 ? hash[byte + 1] : 0);
		out[i] = b32hex[(v >> (11 - shift)) & 31];
	}
	out[32] = '\0';
	return 0;
}
