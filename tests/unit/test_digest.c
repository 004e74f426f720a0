/* Unit tests for src/lib/dns/digest: the zone content digest the
 * controller and the agents compare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "dns/digest.h"
#include "dns/nsec3.h"

#define SOA_RDATA "ns1.example.net. hostmaster.example.net. 7 3600 600 604800 300"

static void digest_of(const char *const (*rows)[4], size_t n, char rec[ZONE_DIGEST_HEX],
		      char zone[ZONE_DIGEST_HEX])
{
	struct zone_digest d;
	zone_digest_init(&d);
	for (size_t i = 0; i < n; i++)
		zone_digest_add(&d, rows[i][0], rows[i][1], (uint32_t)strlen(rows[i][2]),
				rows[i][3]);
	assert_int_equal(zone_digest_final(&d, rec, zone), 0);
}

static const char *const base[][4] = {
	{ "example.com.", "SOA", "x", SOA_RDATA },
	{ "example.com.", "NS", "xx", "ns1.example.net." },
	{ "www.example.com.", "A", "xxx", "192.0.2.1" },
	{ "example.com.", "MX", "xx", "10 mail.example.com." },
};

/* The order records come in does not matter (SQL and the validator sort
 * differently). */
static void test_order_does_not_matter(void **state)
{
	(void)state;
	static const char *const shuffled[][4] = {
		{ "www.example.com.", "A", "xxx", "192.0.2.1" },
		{ "example.com.", "MX", "xx", "10 mail.example.com." },
		{ "example.com.", "NS", "xx", "ns1.example.net." },
		{ "example.com.", "SOA", "x", SOA_RDATA },
	};
	char r1[ZONE_DIGEST_HEX], z1[ZONE_DIGEST_HEX], r2[ZONE_DIGEST_HEX], z2[ZONE_DIGEST_HEX];
	digest_of(base, 4, r1, z1);
	digest_of(shuffled, 4, r2, z2);
	assert_string_equal(r1, r2);
	assert_string_equal(z1, z2);
	assert_true(zone_digest_valid(z1));
	assert_int_equal(strlen(z1), 64);
}

/* Any change of owner, type, TTL or RDATA changes the digest; records
 * PowerDNS makes itself do not. */
static void test_every_field_counts(void **state)
{
	(void)state;
	char r0[ZONE_DIGEST_HEX], z0[ZONE_DIGEST_HEX], r[ZONE_DIGEST_HEX], z[ZONE_DIGEST_HEX];
	digest_of(base, 4, r0, z0);

	const char *changed[][4] = {
		{ "example.com.", "SOA", "x", SOA_RDATA },
		{ "example.com.", "NS", "xx", "ns1.example.net." },
		{ "www.example.com.", "A", "xxx", "192.0.2.1" },
		{ "example.com.", "MX", "xx", "10 mail.example.com." },
	};
	static const struct {
		int row, col;
		const char *value;
	} edits[] = { { 2, 0, "ww.example.com." },
		      { 2, 1, "TXT" },
		      { 2, 2, "xxxx" },
		      { 2, 3, "192.0.2.2" },
		      { 3, 3, "20 mail.example.com." } };
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const char *old = changed[edits[i].row][edits[i].col];
		changed[edits[i].row][edits[i].col] = edits[i].value;
		digest_of((const char *const(*)[4])changed, 4, r, z);
		assert_string_not_equal(r, r0);
		assert_string_not_equal(z, z0);
		changed[edits[i].row][edits[i].col] = old;
	}
	/* A record missing changes it too. */
	digest_of(base, 3, r, z);
	assert_string_not_equal(z, z0);

	static const char *const signed_zone[][4] = {
		{ "example.com.", "SOA", "x", SOA_RDATA },
		{ "example.com.", "NS", "xx", "ns1.example.net." },
		{ "www.example.com.", "A", "xxx", "192.0.2.1" },
		{ "example.com.", "MX", "xx", "10 mail.example.com." },
		{ "example.com.", "DNSKEY", "xx", "257 3 13 AAAA" },
		{ "example.com.", "CDS", "xx", "1 13 2 AA" },
	};
	/* A presigned zone's DNSSEC records are its data: they count. */
	digest_of(signed_zone, 6, r, z);
	assert_string_not_equal(z, z0);
}

/* The SOA is kept apart: R does not move with the serial, D does, and D
 * can be derived from R and the SOA alone, as the controller does. */
static void test_soa_combines_with_records(void **state)
{
	(void)state;
	char r0[ZONE_DIGEST_HEX], z0[ZONE_DIGEST_HEX], r[ZONE_DIGEST_HEX], z[ZONE_DIGEST_HEX];
	digest_of(base, 4, r0, z0);
	char d[ZONE_DIGEST_HEX];
	assert_int_equal(zone_digest_combine(r0, "example.com.", 1, SOA_RDATA, d), 0);
	assert_string_equal(d, z0);

	const char *serial8[][4] = {
		{ "example.com.", "SOA", "x",
		  "ns1.example.net. hostmaster.example.net. 8 3600 600 604800 300" },
		{ "example.com.", "NS", "xx", "ns1.example.net." },
		{ "www.example.com.", "A", "xxx", "192.0.2.1" },
		{ "example.com.", "MX", "xx", "10 mail.example.com." },
	};
	digest_of((const char *const(*)[4])serial8, 4, r, z);
	assert_string_equal(r, r0);
	assert_string_not_equal(z, z0);
}

/* No SOA: the zone is not there, whatever else is. */
static void test_absent_zone_is_empty(void **state)
{
	(void)state;
	char r[ZONE_DIGEST_HEX], z[ZONE_DIGEST_HEX];
	digest_of(base + 1, 3, r, z);
	assert_string_equal(z, "");
	assert_true(zone_digest_valid(""));
	assert_false(zone_digest_valid("abc"));
	assert_false(
	    zone_digest_valid("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
}

/* RFC 5155 appendix A: the zone "example", salt aabbccdd, 12 iterations. */
static void test_nsec3_hash(void **state)
{
	static const char *const want[][2] = {
		{ "example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" },
		{ "a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl" },
		{ "ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi" },
		{ "ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr" },
		{ "*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en" },
		{ "xx.example.", "t644ebqk9bibcna874givr6joj62mlhv" },
	};
	char out[DNS_NSEC3_HASH_TEXT];

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(dns_nsec3_hash(want[i][0], "1 0 12 AABBCCDD", out), 0);
		assert_string_equal(out, want[i][1]);
	}
	assert_int_equal(dns_nsec3_hash("Example.", "1 1 12 aabbccdd", out), 0);
	assert_string_equal(out, want[0][1]);
	assert_int_equal(dns_nsec3_hash("example.", "1 0 0 -", out), 0);
	assert_int_equal(dns_nsec3_hash("example.", "2 0 0 -", out), -EINVAL);
	assert_int_equal(dns_nsec3_hash("example.", "1 0 2501 -", out), -EINVAL);
	assert_int_equal(dns_nsec3_hash("example.", "1 0 0 ABC", out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_does_not_matter),
		cmocka_unit_test(test_every_field_counts),
		cmocka_unit_test(test_soa_combines_with_records),
		cmocka_unit_test(test_absent_zone_is_empty),
		cmocka_unit_test(test_nsec3_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
