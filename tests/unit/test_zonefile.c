/* Unit tests for src/lib/dns/zonefile: zone files read with libzscanner,
 * every record checked by rr_parse(), every error kept with its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "base/err.h"
#include "dns/zonefile.h"

#define ORIGIN "example.com."

static void parse(const char *text, size_t max, struct zonefile *zf)
{
	assert_int_equal(zonefile_parse(text, strlen(text), ORIGIN, 3600, max, zf), 0);
}

static void test_directives_relative_names_and_parentheses(void **state)
{
	struct zonefile zf;
	(void)state;
	parse("; comment\n"
	      "$TTL 1h\n"
	      "@ IN SOA ns1 hostmaster (\n"
	      "   2024010101 ; serial\n"
	      "   7200 3600 1209600 300 )\n"
	      "  IN NS ns1\n"
	      "www 300 IN CNAME @\n"
	      "$ORIGIN sub.example.com.\n"
	      "host IN A 192.0.2.1\n"
	      "txt IN TXT \"a b\" \"c;d\" ; trailing\n",
	      0, &zf);
	assert_int_equal(zf.n_errs, 0);
	assert_int_equal(zf.n, 5);
	assert_string_equal(zf.rrs[0].rr.owner, ORIGIN);
	assert_string_equal(
	    zf.rrs[0].rr.content,
	    "ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300");
	assert_int_equal(zf.rrs[0].rr.ttl, 3600);
	assert_string_equal(zf.rrs[1].rr.content, "ns1.example.com.");
	assert_string_equal(zf.rrs[2].rr.owner, "www.example.com.");
	assert_int_equal(zf.rrs[2].rr.ttl, 300);
	assert_int_equal(zf.rrs[2].line, 7);
	assert_string_equal(zf.rrs[3].rr.owner, "host.sub.example.com.");
	assert_int_equal(zf.rrs[3].line, 9);
	assert_string_equal(zf.rrs[4].rr.content, "\"a b\" \"c;d\"");
	zonefile_clear(&zf);
}

static void test_every_error_with_its_line(void **state)
{
	struct zonefile zf;
	(void)state;
	parse("@ IN NS ns.example.net.\n"
	      "a IN A 192.0.2.300\n"
	      "$INCLUDE /etc/passwd\n"
	      "ok IN A 192.0.2.1\n"
	      "c IN CAA 0 issu \"x\"\n"
	      "d IN A 192.0.2.2\n"
	      "www.example.com IN A 192.0.2.3\n"
	      "out.example.org. IN A 192.0.2.4\n"
	      "k IN DNSKEY 257 3 13 AAAA\n"
	      "m IN MX 10 mail.example.com\n",
	      0, &zf);
	unsigned long want[] = { 2, 3, 5, 7, 8, 9, 10 };
	assert_int_equal(zf.n_errs, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < zf.n_errs; i++)
		assert_int_equal(zf.errs[i].line, want[i]);
	assert_non_null(strstr(zf.errs[1].text, "$INCLUDE"));
	assert_non_null(strstr(zf.errs[2].text, "issu"));
	assert_non_null(strstr(zf.errs[3].text, "final dot"));
	assert_non_null(strstr(zf.errs[4].text, "not inside"));
	assert_non_null(strstr(zf.errs[5].text, "signer"));
	assert_non_null(strstr(zf.errs[6].text, "final dot"));
	assert_int_equal(zf.n, 3); /* the good lines are still read */
	zonefile_clear(&zf);
}

static void test_last_line_without_newline_and_caps(void **state)
{
	struct zonefile zf;
	(void)state;
	parse("a IN A 192.0.2.1", 0, &zf);
	assert_int_equal(zf.n_errs, 0);
	assert_int_equal(zf.n, 1);
	zonefile_clear(&zf);

	parse("a IN A 192.0.2.1\nb IN A 192.0.2.2\nc IN A 192.0.2.3\n", 2, &zf);
	assert_int_equal(zf.n, 2);
	assert_int_equal(zf.n_errs, 1);
	assert_int_equal(zf.errs[0].line, 3);
	zonefile_clear(&zf);

	assert_int_equal(zonefile_parse("a IN A 192.0.2.1\n\0x", 19, ORIGIN, 3600, 0, &zf), 0);
	assert_int_equal(zf.n_errs, 1);
	assert_int_equal(zf.errs[0].line, 0);
	zonefile_clear(&zf);

	parse("", 0, &zf);
	assert_int_equal(zf.n + zf.n_errs, 0);
	zonefile_clear(&zf);
}

static void test_long_strings_are_not_split_silently(void **state)
{
	char text[600];
	struct zonefile zf;
	(void)state;
	memset(text, 'x', sizeof(text));
	memcpy(text, "t IN TXT \"", 10);
	memcpy(text + 10 + 300, "\"\n", 3);
	parse(text, 0, &zf);
	assert_int_equal(zf.n, 0);
	assert_int_equal(zf.n_errs, 1);
	assert_int_equal(zf.errs[0].line, 1);
	assert_non_null(strstr(zf.errs[0].text, "255"));
	zonefile_clear(&zf);

	/* Exactly 255 bytes and a second string, over two lines: as written. */
	char two[700];
	memset(two, 'y', sizeof(two));
	memcpy(two, "t IN TXT ( \"", 12);
	static const char tail[] = "\"\n \"zz\" ) ; \"x\"\n";
	memcpy(two + 12 + 255, tail, sizeof(tail));
	parse(two, 0, &zf);
	assert_int_equal(zf.n_errs, 0);
	assert_int_equal(zf.n, 1);
	assert_int_equal(zf.rrs[0].rr.wire_len, 256 + 3);
	zonefile_clear(&zf);
}

/* The types PowerDNS 4.7 serves beyond the basic ones, with names in
 * their data relative to $ORIGIN like any other. */
static void test_modern_types(void **state)
{
	struct zonefile zf;
	(void)state;
	parse("www IN HTTPS 1 . alpn=h2,h3\n"
	      "_svc IN SVCB 0 svc\n"
	      "loc IN LOC 52 22 23 N 4 53 32 E -2m\n"
	      "kx IN KX 10 kx\n"
	      "rp IN RP admin txt\n"
	      "ipsec IN IPSECKEY 10 0 2 . AQNRU3mG\n"
	      "zmd IN ZONEMD 1 1 1 00112233445566778899AABBCCDDEEFF\n",
	      0, &zf);
	assert_int_equal(zf.n, 5);
	assert_string_equal(zf.rrs[0].rr.content, "1 . alpn=h2,h3");
	assert_string_equal(zf.rrs[1].rr.content, "0 svc.example.com.");
	assert_string_equal(zf.rrs[2].rr.content, "52 22 23 N 4 53 32 E -2m 1m 10000m 10m");
	assert_string_equal(zf.rrs[3].rr.content, "10 kx.example.com.");
	assert_string_equal(zf.rrs[4].rr.content, "admin.example.com. txt.example.com.");
	assert_int_equal(zf.n_errs, 2);
	assert_int_equal(zf.errs[0].line, 6);
	assert_non_null(strstr(zf.errs[0].text, "gateway type 0"));
	assert_int_equal(zf.errs[1].line, 7);
	assert_non_null(strstr(zf.errs[1].text, "ZONEMD"));
	zonefile_clear(&zf);
}

/* International names: A-labels as the tools write them; U-labels are
 * refused with what to write instead. */
static void test_international_names(void **state)
{
	struct zonefile zf;
	(void)state;
	parse("xn--bcher-kva IN A 192.0.2.1\n"
	      "www IN CNAME xn--bcher-kva\n"
	      "b\xc3\xbc"
	      "cher IN A 192.0.2.2\n"
	      "x IN CNAME b\xc3\xbc"
	      "cher.example.net.\n",
	      0, &zf);
	assert_int_equal(zf.n, 2);
	assert_string_equal(zf.rrs[0].rr.owner, "xn--bcher-kva.example.com.");
	assert_string_equal(zf.rrs[1].rr.content, "xn--bcher-kva.example.com.");
	assert_int_equal(zf.n_errs, 2);
	assert_int_equal(zf.errs[0].line, 3);
	assert_non_null(strstr(zf.errs[0].text, "IDNA A-labels (xn--...)"));
	assert_int_equal(zf.errs[1].line, 4);
	assert_non_null(strstr(zf.errs[1].text, "IDNA A-labels"));
	zonefile_clear(&zf);
}

static void test_error_count_is_capped(void **state)
{
	static char text[ZONEFILE_ERRORS_MAX * 40];
	struct zonefile zf;
	(void)state;
	static const char line[] = "a IN A 300.0.0.1\n";
	size_t n = 0;
	for (int i = 0; i < ZONEFILE_ERRORS_MAX + 20; i++, n += sizeof(line) - 1)
		memcpy(text + n, line, sizeof(line) - 1);
	text[n] = '\0';
	parse(text, 0, &zf);
	assert_int_equal(zf.n_errs, ZONEFILE_ERRORS_MAX);
	assert_true(zf.more_errs);
	zonefile_clear(&zf);
}

/* A zone as a primary that signs it transfers it: its DNSSEC records
 * are refused from a user's file, read as they are for a presigned
 * secondary zone, and the whole-zone rules let RRSIG and NSEC stand beside
 * a CNAME and at a delegation (RFC 4035 sections 2.2, 2.3 and 2.5). */
/* PowerDNS's LUA type (65402) has a name in this library but no zone data
 * form, and other private types none at all: each line is an error, with
 * or without the presigned flag, and the rest is still read. */
static void test_private_types_are_refused(void **state)
{
	static const char text[] = "www 300 IN TYPE65402 \\# 5 0001414243\n"
				   "ok 300 IN A 192.0.2.1\n"
				   "p 300 IN TYPE65535 \\# 0\n";
	struct zonefile zf;

	(void)state;
	for (int presigned = 0; presigned < 2; presigned++) {
		assert_int_equal(zonefile_parse_flags(text, strlen(text), ORIGIN, 3600, 0,
						      presigned ? ZONEFILE_PRESIGNED : 0, &zf),
				 0);
		assert_int_equal(zf.n_errs, 2);
		assert_int_equal(zf.errs[0].line, 1);
		assert_non_null(strstr(zf.errs[0].text, "LUA"));
		assert_int_equal(zf.errs[1].line, 3);
		assert_non_null(strstr(zf.errs[1].text, "TYPE65535"));
		assert_int_equal(zf.n, 1);
		zonefile_clear(&zf);
	}
}

static void test_presigned_zone(void **state)
{
	static const char text[] =
	    "@ 300 IN SOA ns.example.net. h.example.com. 1 7200 3600 1209600 300\n"
	    "@ 300 IN RRSIG SOA 13 2 300 20300101000000 20200101000000 12345 example.com. "
	    "AAAAAAAA\n"
	    "@ 300 IN NS ns.example.net.\n"
	    "@ 300 IN DNSKEY 257 3 13 AAAA\n"
	    "@ 300 IN NSEC alias.example.com. NS SOA RRSIG NSEC DNSKEY\n"
	    "alias 300 IN CNAME www.example.com.\n"
	    "alias 300 IN RRSIG CNAME 13 3 300 20300101000000 20200101000000 12345 "
	    "example.com. AAAAAAAA\n"
	    "alias 300 IN NSEC sub.example.com. CNAME RRSIG NSEC\n"
	    "sub 300 IN NS ns.example.net.\n"
	    "sub 300 IN DS 12345 13 2 "
	    "0000000000000000000000000000000000000000000000000000000000000000\n"
	    "sub 300 IN NSEC www.example.com. NS DS RRSIG NSEC\n"
	    "sub 300 IN RRSIG NSEC 13 3 300 20300101000000 20200101000000 12345 "
	    "example.com. AAAAAAAA\n"
	    "www 300 IN A 192.0.2.1\n";
	struct zonefile zf;
	struct zone_data z;
	struct errmsg err;

	(void)state;
	parse(text, 0, &zf);
	assert_int_equal(zf.n_errs, 7);
	assert_non_null(strstr(zf.errs[0].text, "signer"));
	zonefile_clear(&zf);

	assert_int_equal(
	    zonefile_parse_flags(text, strlen(text), ORIGIN, 3600, 0, ZONEFILE_PRESIGNED, &zf), 0);
	assert_int_equal(zf.n_errs, 0);
	assert_int_equal(zf.n, 13);
	zone_data_init(&z, ORIGIN);
	for (size_t i = 0; i < zf.n; i++) {
		assert_int_equal(zone_data_take_rr(&z, &zf.rrs[i].rr), 0);
		memset(&zf.rrs[i].rr, 0, sizeof(zf.rrs[i].rr));
	}
	assert_int_equal(zone_check(&z, NULL, &err), 0);
	zone_data_clear(&z);
	zonefile_clear(&zf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directives_relative_names_and_parentheses),
		cmocka_unit_test(test_every_error_with_its_line),
		cmocka_unit_test(test_last_line_without_newline_and_caps),
		cmocka_unit_test(test_long_strings_are_not_split_silently),
		cmocka_unit_test(test_modern_types),
		cmocka_unit_test(test_international_names),
		cmocka_unit_test(test_error_count_is_capped),
		cmocka_unit_test(test_presigned_zone),
		cmocka_unit_test(test_private_types_are_refused),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	dns_thread_cleanup();
	return r;
}
