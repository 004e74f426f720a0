/* Unit tests for src/lib/dns: names, single records and whole zones.
 *
 * The tables pin what a client may send and what we store: every accepted
 * row names its canonical form, every rejected row the error code and a
 * piece of the message. Accepted records must also be fixed points: parsing
 * the canonical content again gives the same content and wire form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/err.h"
#include "dns/dns.h"

#define ORIGIN "example.com."

/* Hex digests: 20, 32, 48 and 64 bytes; libknot prints hex in uppercase. */
#define H20 "0123456789abcdef0123456789abcdef01234567"
#define H20U "0123456789ABCDEF0123456789ABCDEF01234567"
#define H32 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H32U "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define H48 H32 "0123456789abcdef0123456789abcdef"
#define H48U H32U "0123456789ABCDEF0123456789ABCDEF"
#define H64 H32 H32
#define H64U H32U H32U
#define L63 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc"
#define L64 L63 "d"

/* A message is one lowercase line without a trailing period. */
static void check_message(const char *msg, const char *want, const char *row)
{
	size_t len = strlen(msg);

	if (len == 0)
		fail_msg("%s: empty error message", row);
	if (strchr(msg, '\n') != NULL || msg[len - 1] == '.')
		fail_msg("%s: badly formed message \"%s\"", row, msg);
	if (!(msg[0] == '\'' || islower((unsigned char)msg[0])))
		fail_msg("%s: message does not start in lowercase: \"%s\"", row, msg);
	if (want != NULL && strstr(msg, want) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", row, msg, want);
}

/* --- names ------------------------------------------------------------------ */

struct name_case {
	const char *text;
	const char *want; /* normalised form, NULL if rejected */
	const char *msg;  /* part of the message of a rejected row */
};

static const struct name_case zone_cases[] = {
	{ "example.com", "example.com.", NULL },
	{ "example.com.", "example.com.", NULL },
	{ "Example.COM.", "example.com.", NULL },
	{ "test", "test.", NULL },
	{ "test.", "test.", NULL },
	{ "sub.example.co.uk", "sub.example.co.uk.", NULL },
	{ "a-b.example", "a-b.example.", NULL },
	{ "xn--bcher-kva.de", "xn--bcher-kva.de.", NULL },
	{ "XN--MNCHEN-3YA.DE.", "xn--mnchen-3ya.de.", NULL },
	{ "0.2.192.in-addr.arpa", "0.2.192.in-addr.arpa.", NULL },
	{ L63 ".com", L63 ".com.", NULL },
	{ "", NULL, "empty" },
	{ ".", NULL, "root zone" },
	{ "..", NULL, "empty label" },
	{ "..example", NULL, "empty label" },
	{ "example..com", NULL, "empty label" },
	{ "example.com..", NULL, "empty label" },
	{ "*.example.com", NULL, "wildcards" },
	{ "_tcp.example.com", NULL, "'_' is not allowed" },
	{ "a/b.example.", NULL, "character '/'" },
	{ "-a.example", NULL, "starts or ends with '-'" },
	{ "a-.example", NULL, "starts or ends with '-'" },
	{ "xn--zz-.example", NULL, "IDNA2008" },
	{ "exa mple.com", NULL, "spaces" },
	/* International names: U-labels become A-labels (issue 13). */
	{ "m\xc3\xbcnchen.de", "xn--mnchen-3ya.de.", NULL },
	{ "b\xc3\xbc"
	  "cher.example",
	  "xn--bcher-kva.example.", NULL },
	{ "B\xc3\x9c"
	  "CHER.Example.",
	  "xn--bcher-kva.example.", NULL },
	{ "fa\xc3\x9f.de", "xn--fa-hia.de.", NULL }, /* non-transitional */
	{ "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88.jp", "xn--zckzah.jp.", NULL }, /* テスト */
	{ "\xd9\x85\xd8\xab\xd8\xa7\xd9\x84.example", "xn--mgbh0fb.example.", NULL },
	{ "\xef\xbd\x85x.com", "ex.com.", NULL }, /* UTS #46 maps fullwidth */
	{ "b\xc3\xbc"
	  "cher\xe3\x80\x82"
	  "example",
	  "xn--bcher-kva.example.", NULL },
	{ "b\xe2\x99\xa5"
	  "cher.example",
	  NULL, "is not allowed (IDNA2008" },		 /* U+2665 */
	{ "a\xd7\x90.example", NULL, "bi-directional" }, /* Latin + Hebrew */
	{ "a\xe2\x80\x8d"
	  "b.example",
	  NULL, "'a<U+200D>b'" }, /* ZWJ */
	{ "\xcc\x81"
	  "ab.example",
	  NULL, "combining" }, /* leading U+0301 */
	{ "\xc3\xbc-.example", NULL, "hyphen" },
	{ "\xc3\xbc_x.example", NULL, "letters, digits and '-'" },
	{ "\xe2\x91\xb4.example", NULL, "letters, digits and '-'" }, /* ⑴ maps to (1) */
	{ "\xf0\x9f\x99\x82.example", NULL, "character U+1F642" },   /* emoji */
	{ "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	  "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	  "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	  "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	  "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
	  "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc.example",
	  NULL, "longer than 63" },
	{ "b\xc3\x28.example", NULL, "\\xc3" }, /* not UTF-8 */
	{ "xn--bcher-kva.example", "xn--bcher-kva.example.", NULL },
	{ "a.b\\.c", NULL, "escapes" },
	{ L64 ".com", NULL, "longer than 63" },
	{ "example.com;rm -rf", NULL, "character ';'" },
	{ "@", NULL, "character '@'" },
	{ "example.com\n", NULL, "control" },
	{ "%2e%2e%2f", NULL, "character '%'" },
	{ "--config-dir=x", NULL, "character '='" },
};

static const struct name_case owner_cases[] = {
	{ "@", "example.com.", NULL },
	{ "www", "www.example.com.", NULL },
	{ "WWW", "www.example.com.", NULL },
	{ "www.example.com.", "www.example.com.", NULL },
	{ "WWW.Example.COM.", "www.example.com.", NULL },
	{ "example.com.", "example.com.", NULL },
	{ "_dmarc", "_dmarc.example.com.", NULL },
	{ "_sip._tcp", "_sip._tcp.example.com.", NULL },
	{ "_acme-challenge.www", "_acme-challenge.www.example.com.", NULL },
	{ "a_b", "a_b.example.com.", NULL },
	{ "*", "*.example.com.", NULL },
	{ "*.dev", "*.dev.example.com.", NULL },
	{ "*.example.com.", "*.example.com.", NULL },
	{ "a-b", "a-b.example.com.", NULL },
	{ "a1.b2", "a1.b2.example.com.", NULL },
	{ "1", "1.example.com.", NULL },
	{ "xn--bcher-kva", "xn--bcher-kva.example.com.", NULL },
	{ "XN--BCHER-KVA", "xn--bcher-kva.example.com.", NULL },
	{ "xn--55qx5d.shop", "xn--55qx5d.shop.example.com.", NULL },
	{ "example", "example.example.com.", NULL },
	{ "mail.example", "mail.example.example.com.", NULL },
	{ "com", "com.example.com.", NULL },
	{ L63, L63 ".example.com.", NULL },
	{ "a.b.c.d.e", "a.b.c.d.e.example.com.", NULL },
	{ "www.example.com.example.com.", "www.example.com.example.com.", NULL },
	/* The trailing-dot rule: never double the zone name, never guess. */
	{ "www.example.com", NULL, "write 'www' or 'www.example.com.'" },
	{ "WWW.EXAMPLE.COM", NULL, "no trailing dot" },
	{ "a.b.example.com", NULL, "write 'a.b' or 'a.b.example.com.'" },
	{ "example.com", NULL, "write '@' or 'example.com.'" },
	{ "", NULL, "empty" },
	{ "a..b", NULL, "empty label" },
	{ ".www", NULL, "empty label" },
	{ "www..", NULL, "empty label" },
	{ ".", NULL, "not inside zone" },
	{ "www.example.org.", NULL, "not inside zone" },
	{ "example.com.evil.", NULL, "not inside zone" },
	{ "notexample.com.", NULL, "not inside zone" },
	{ "com.", NULL, "not inside zone" },
	{ "a b", NULL, "spaces" },
	{ "a/b", NULL, "character '/'" },
	{ "a;b", NULL, "character ';'" },
	{ "a@b", NULL, "character '@'" },
	{ "@.www", NULL, "character '@'" },
	{ "a\\.b", NULL, "escapes" },
	{ "a\\065", NULL, "escapes" },
	{ "a`b", NULL, "character '`'" },
	{ "$(reboot)", NULL, "character '$'" },
	{ "a\nb", NULL, "control" },
	{ "a\tb", NULL, "control" },
	{ "a\rb", NULL, "control" },
	{ "a\x7f", NULL, "control" },
	{ "m\xc3\xbcnchen", "xn--mnchen-3ya.example.com.", NULL },
	{ "_dmarc.b\xc3\xbc"
	  "cher",
	  "_dmarc.xn--bcher-kva.example.com.", NULL },
	{ "*.b\xc3\xbc"
	  "cher",
	  "*.xn--bcher-kva.example.com.", NULL },
	{ "www.b\xc3\xbc"
	  "cher.example.com.",
	  "www.xn--bcher-kva.example.com.", NULL },
	{ "b\xc3\xbc"
	  "cher.example.com",
	  NULL, "write 'xn--bcher-kva' or" },
	{ "b\xc3\xbc"
	  "cher.example.org.",
	  NULL, "not inside zone" },
	{ "\xc3\xbc_x", NULL, "letters, digits and '-'" },
	{ "b\xe2\x99\xa5", NULL, "character U+2665 '\xe2\x99\xa5' is not allowed" },
	{ "xn--_x-wka", NULL, "IDNA2008" }, /* punycode of "ü_x": not an A-label */
	{ "-a", NULL, "starts or ends with '-'" },
	{ "a-", NULL, "starts or ends with '-'" },
	{ "a.-b", NULL, "starts or ends with '-'" },
	{ "--", NULL, "starts or ends with '-'" },
	{ "a.*", NULL, "leftmost" },
	{ "*.*", NULL, "leftmost" },
	{ "*a", NULL, "'*'" },
	{ "a*", NULL, "'*'" },
	{ "xn--zz-", NULL, "IDNA2008" },
	{ "xn--a", NULL, "IDNA2008" },
	{ "xn--ls8h", NULL, "IDNA2008" },
	{ "xn--", NULL, "IDNA2008" },
	{ "xn--bcher-kva-", NULL, "IDNA2008" },
	{ L64, NULL, "longer than 63" },
	{ "a,b", NULL, "character ','" },
	{ "a:b", NULL, "character ':'" },
	{ "a+b", NULL, "character '+'" },
	{ "a\"b", NULL, "character '\"'" },
	{ "a'b", NULL, "character '''" },
	{ "a(b)", NULL, "character '('" },
	{ "a%2eb", NULL, "character '%'" },
	{ "a#b", NULL, "character '#'" },
	{ "a=b", NULL, "character '='" },
	{ "a~b", NULL, "character '~'" },
	{ "a|b", NULL, "character '|'" },
	{ "a<b", NULL, "character '<'" },
};

static void test_zone_name_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(zone_cases) / sizeof(zone_cases[0]); i++) {
		const struct name_case *c = &zone_cases[i];
		char out[DNAME_TEXT_MAX], row[80];
		struct errmsg err = { { 0 } };
		int r;

		snprintf(row, sizeof(row), "zone row %zu", i);
		memset(out, 0, sizeof(out));
		r = dname_zone_normalize(c->text, out, &err);
		if (c->want != NULL) {
			if (r != 0)
				fail_msg("%s: '%s' rejected: %s", row, c->text, err.text);
			assert_string_equal(out, c->want);
		} else {
			if (r != ERR_INVALID)
				fail_msg("%s: '%s' accepted as '%s' (r=%d)", row, c->text, out, r);
			check_message(err.text, c->msg, row);
		}
	}
}

static void test_owner_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(owner_cases) / sizeof(owner_cases[0]); i++) {
		const struct name_case *c = &owner_cases[i];
		char out[DNAME_TEXT_MAX], row[80];
		struct errmsg err = { { 0 } };
		int r;

		snprintf(row, sizeof(row), "owner row %zu", i);
		memset(out, 0, sizeof(out));
		r = dname_owner_normalize(c->text, ORIGIN, out, &err);
		if (c->want != NULL) {
			if (r != 0)
				fail_msg("%s: '%s' rejected: %s", row, c->text, err.text);
			assert_string_equal(out, c->want);
			/* Normalising is idempotent. */
			r = dname_owner_normalize(c->want, ORIGIN, out, &err);
			assert_int_equal(r, 0);
			assert_string_equal(out, c->want);
		} else {
			if (r != ERR_INVALID)
				fail_msg("%s: '%s' accepted as '%s' (r=%d)", row, c->text, out, r);
			check_message(err.text, c->msg, row);
		}
	}
}

/* 255 octets on the wire is the limit (RFC 1035 section 2.3.4). */
static void test_name_length(void **state)
{
	char text[600], out[DNAME_TEXT_MAX];
	struct errmsg err;
	size_t len = 0;

	(void)state;
	/* 3 x 63-octet labels + a 49-octet one + "example.com." = 255 octets. */
	for (int i = 0; i < 3; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s.", L63);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "%.49s.%s", L63, ORIGIN);
	assert_int_equal(strlen(text) + 1, 255);
	assert_int_equal(dname_owner_normalize(text, ORIGIN, out, &err), 0);
	assert_string_equal(out, text);
	/* One octet more. */
	memmove(text + 2, text, strlen(text) + 1);
	memcpy(text, "x.", 2);
	assert_int_equal(dname_owner_normalize(text, ORIGIN, out, &err), ERR_INVALID);
	check_message(err.text, "255 octets", "long owner");
	/* The same through the relative form. */
	text[strlen(text) - strlen(ORIGIN) - 1] = '\0';
	assert_int_equal(dname_owner_normalize(text, ORIGIN, out, &err), ERR_INVALID);
	check_message(err.text, "255 octets", "long relative owner");
}

/* Names are shown to people with their U-labels. */
static void test_to_unicode(void **state)
{
	static const char *const rows[][2] = {
		{ "xn--bcher-kva.example.", "b\xc3\xbc"
					    "cher.example." },
		{ "www.xn--bcher-kva.xn--zckzah.", "www.b\xc3\xbc"
						   "cher.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88." },
		{ "XN--FA-HIA.de.", "fa\xc3\x9f.de." },
		{ "example.com.", "example.com." },
		{ "_dmarc.xn--bcher-kva.example.", "_dmarc.b\xc3\xbc"
						   "cher.example." },
		{ "*.example.", "*.example." },
	};
	char out[DNAME_UNICODE_MAX], small[8], zone[DNAME_TEXT_MAX];
	struct errmsg err;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(dname_to_unicode(rows[i][0], out, sizeof(out)), 0);
		assert_string_equal(out, rows[i][1]);
		/* ... and go back in as the same name. */
		if (rows[i][0][0] != '_' && rows[i][0][0] != '*') {
			assert_int_equal(dname_zone_normalize(out, zone, &err), 0);
			assert_int_equal(strcasecmp(zone, rows[i][0]), 0);
		}
	}
	assert_int_equal(dname_to_unicode("xn--bcher-kva.example.", small, sizeof(small)),
			 -ENAMETOOLONG);
}

static void test_is_at_or_below(void **state)
{
	(void)state;
	assert_true(dname_is_at_or_below("example.com.", "example.com."));
	assert_true(dname_is_at_or_below("www.example.com.", "example.com."));
	assert_true(dname_is_at_or_below("a.b.example.com.", "example.com."));
	assert_true(dname_is_at_or_below("WWW.Example.com.", "example.com."));
	assert_true(dname_is_at_or_below("www.example.com.", "."));
	assert_false(dname_is_at_or_below("notexample.com.", "example.com."));
	assert_false(dname_is_at_or_below("com.", "example.com."));
	assert_false(dname_is_at_or_below("example.com.evil.", "example.com."));
	assert_false(dname_is_at_or_below("example.org.", "example.com."));
}

/* --- records ---------------------------------------------------------------- */

struct rr_case {
	const char *owner; /* as a client writes it, in zone ORIGIN */
	const char *type;  /* mnemonic through rr_type_parse() */
	uint32_t ttl;
	const char *rdata;
	const char *want; /* canonical content, NULL if rejected */
	int code;	  /* error for a rejected row */
	const char *msg;  /* part of its message */
};

#define OK(o, t, rd, w)                   \
	{                                 \
		o, t, 300, rd, w, 0, NULL \
	}
#define BAD(o, t, rd, m)                            \
	{                                           \
		o, t, 300, rd, NULL, ERR_INVALID, m \
	}

static const struct rr_case rr_cases[] = {
	/* A: exactly a dotted quad. */
	OK("www", "A", "192.0.2.1", "192.0.2.1"),
	OK("www", "a", "  192.0.2.1 ", "192.0.2.1"),
	OK("www", "A", "( 192.0.2.1 )", "192.0.2.1"),
	BAD("www", "A", "\t192.0.2.1", "control"),
	BAD("www", "A", "( 192.0.2.1", "parenthesis"),
	BAD("www", "A", "192.0.2.1 )", NULL),
	BAD("www", "A", "192.0.2.1 \\", NULL),
	OK("www", "A", "0.0.0.0", "0.0.0.0"),
	OK("*", "A", "255.255.255.255", "255.255.255.255"),
	BAD("www", "A", "010.1.1.1", "IPv4"),
	BAD("www", "A", "1.2.3", "IPv4"),
	BAD("www", "A", "1.2.3.4.5", NULL),
	BAD("www", "A", "256.1.1.1", NULL),
	BAD("www", "A", "0x1.2.3.4", NULL),
	BAD("www", "A", "1.2.3.4/24", NULL),
	BAD("www", "A", "-1.2.3.4", NULL),
	BAD("www", "A", "1e3", NULL),
	BAD("www", "A", "::1", NULL),
	BAD("www", "A", "1.2.3.4 5.6.7.8", NULL),
	BAD("www", "A", "1.2.3.4 ; comment", "comments"),
	BAD("www", "A", "1.2.3.4;x", "comments"),
	BAD("www", "A", "\\# 4 01020304", "generic"),
	BAD("www", "A", " ( \\# 4 01020304 )", "generic"),
	BAD("www", "A", "", "empty"),
	BAD("www", "A", "   ", "empty"),
	BAD("www", "A", "1.2.3.4\n", "control"),
	BAD("www", "A", "1.2.3.4\nevil 300 IN A 5.6.7.8", "control"),
	BAD("www", "A", "1.2.3.4\r", "control"),
	BAD("www", "A", "$(reboot)", NULL),
	BAD("www", "A", "1.2.3.4 `id`", NULL),
	/* AAAA: stored in RFC 5952 form so duplicates are caught. */
	OK("www", "AAAA", "2001:db8::1", "2001:db8::1"),
	OK("www", "AAAA", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
	OK("www", "AAAA", "2001:0db8:0::1", "2001:db8::1"),
	OK("www", "AAAA", "2001:DB8::1", "2001:db8::1"),
	OK("www", "AAAA", "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
	OK("www", "AAAA", "::1", "::1"),
	OK("www", "AAAA", "::", "::"),
	OK("www", "AAAA", "::ffff:192.0.2.1", "::ffff:192.0.2.1"),
	BAD("www", "AAAA", "fe80::1%eth0", NULL),
	BAD("www", "AAAA", "2001:db8::1/64", NULL),
	BAD("www", "AAAA", "2001:db8::g", NULL),
	BAD("www", "AAAA", "2001:db8:::1", NULL),
	BAD("www", "AAAA", "1:2:3:4:5:6:7:8:9", NULL),
	BAD("www", "AAAA", "192.0.2.1", NULL),
	BAD("www", "AAAA", "\\# 16 20010db8000000000000000000000001", "generic"),
	/* CNAME: names in RDATA are absolute and lowercase. */
	OK("alias", "CNAME", "www", "www.example.com."),
	OK("alias", "CNAME", "WWW.Example.COM.", "www.example.com."),
	OK("alias", "CNAME", "target.example.net.", "target.example.net."),
	OK("alias", "CNAME", "@", "example.com."),
	OK("alias", "CNAME", "_acme.example.net.", "_acme.example.net."),
	OK("alias", "CNAME", "mail.example", "mail.example.example.com."),
	OK("alias", "CNAME", "xn--bcher-kva.example.", "xn--bcher-kva.example."),
	OK("alias", "CNAME", "www.example.com.example.com.", "www.example.com.example.com."),
	OK("alias", "CNAME", "example.com.example.com.", "example.com.example.com."),
	BAD("alias", "CNAME", "www.example.com.example.com", "no trailing dot"),
	BAD("alias", "CNAME", "www.example.com", "write 'www' or 'www.example.com.'"),
	BAD("alias", "CNAME", "example.com", "write '@' or 'example.com.'"),
	BAD("alias", "CNAME", "WWW.EXAMPLE.COM", "no trailing dot"),
	BAD("alias", "CNAME", ".", "root name"),
	BAD("alias", "CNAME", "-bad.example.net.", "starts or ends with '-'"),
	BAD("alias", "CNAME", "bad-.example.net.", "starts or ends with '-'"),
	BAD("alias", "CNAME", "a\\.b.example.net.", "only letters"),
	BAD("alias", "CNAME", "a\\000b.example.net.", "only letters"),
	BAD("alias", "CNAME", "a\\/b.example.net.", "only letters"),
	BAD("alias", "CNAME", "*.example.net.", "wildcards"),
	BAD("alias", "CNAME", "xn--zz-.example.net.", "IDNA2008"),
	BAD("alias", "CNAME", "a b", NULL),
	/* Names in RDATA may be U-labels (issue 13); strings may not. */
	OK("alias", "CNAME", "caf\xc3\xa9.example.net.", "xn--caf-dma.example.net."),
	OK("alias", "CNAME",
	   "b\xc3\xbc"
	   "cher",
	   "xn--bcher-kva.example.com."),
	OK("alias", "CNAME",
	   "WWW.B\xc3\x9c"
	   "CHER.example.",
	   "www.xn--bcher-kva.example."),
	BAD("alias", "CNAME",
	    "b\xe2\x99\xa5"
	    "cher.example.",
	    "U+2665"),
	BAD("alias", "CNAME",
	    "b\xc3\xbc"
	    "cher.example.com",
	    "no trailing dot"),
	BAD("alias", "CNAME", "\"caf\xc3\xa9.example.net.\"", "non-ASCII"),
	OK("@", "MX",
	   "10 mail.b\xc3\xbc"
	   "cher.example.",
	   "10 mail.xn--bcher-kva.example."),
	OK("@", "NS",
	   "ns1.b\xc3\xbc"
	   "cher.example.",
	   "ns1.xn--bcher-kva.example."),
	OK("_sip._tcp", "SRV",
	   "0 5 5060 sip.b\xc3\xbc"
	   "cher.example.",
	   "0 5 5060 sip.xn--bcher-kva.example."),
	OK("@", "SOA",
	   "ns.b\xc3\xbc"
	   "cher.example. h.b\xc3\xbc"
	   "cher.example. 1 2 3 4 5",
	   "ns.xn--bcher-kva.example. h.xn--bcher-kva.example. 1 2 3 4 5"),
	OK("@", "NAPTR",
	   "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.b\xc3\xbc"
	   "cher.example.",
	   "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.xn--bcher-kva.example."),
	BAD("@", "NAPTR", "100 10 \"S\" \"SIP+D2U\" \"!\xc3\xbc!\" .", "non-ASCII"),
	BAD("@", "MX", "1\xc3\xbc mail.example.net.", "non-ASCII"),
	BAD("alias", "CNAME", "caf\\195\\169.example.net.", "non-ASCII"),
	/* MX */
	OK("@", "MX", "10 mail", "10 mail.example.com."),
	OK("@", "MX", "10 MAIL.example.net.", "10 mail.example.net."),
	OK("@", "MX", "0 .", "0 ."),
	OK("@", "MX", "65535 mx", "65535 mx.example.com."),
	BAD("@", "MX", "10 .", "preference 0"),
	BAD("@", "MX", "70000 mail", NULL),
	BAD("@", "MX", "-1 mail", NULL),
	BAD("@", "MX", "10", NULL),
	BAD("@", "MX", "mail", NULL),
	BAD("@", "MX", "10 mail.example.com", "write 'mail' or 'mail.example.com.'"),
	BAD("@", "MX", "10 _mail.example.net.", "'_' is not allowed"),
	BAD("@", "MX", "10 mail-.example.net.", "starts or ends with '-'"),
	/* RFC 1123 section 2.1: a host name's top label is never all-numeric,
	 * so an IPv4 address is no target; numeric labels below it are fine. */
	BAD("@", "MX", "10 192.0.2.1.", "'192.0.2.1.' is an IPv4 address"),
	BAD("@", "MX", "10 192.0.2.1",
	    "'192.0.2.1' is an IPv4 address, not a host name; "
	    "without a trailing dot it means '192.0.2.1.example.com.'"),
	BAD("@", "MX", "10 mail.123.", "all-numeric label"),
	BAD("@", "MX", "10 1234.5.6.7.", "all-numeric label"),
	OK("@", "MX", "10 1.example.com.", "10 1.example.com."),
	OK("@", "MX", "10 mail1.example.", "10 mail1.example."),
	OK("@", "MX", "10 1", "10 1.example.com."),
	OK("@", "MX", "10 192.0.2.1.example.com.", "10 192.0.2.1.example.com."),
	OK("@", "MX", "10 1.2.3.4.5", "10 1.2.3.4.5.example.com."),
	OK("@", "MX", "10 1234.0.2.1", "10 1234.0.2.1.example.com."),
	OK("@", "MX", "10 1.2.3.4x.", "10 1.2.3.4x."),
	/* NS */
	OK("@", "NS", "ns1", "ns1.example.com."),
	OK("sub", "NS", "NS1.Example.NET.", "ns1.example.net."),
	BAD("@", "NS", ".", "root name"),
	BAD("@", "NS", "_ns.example.net.", "'_' is not allowed"),
	BAD("@", "NS", "ns1.example.com", "no trailing dot"),
	BAD("@", "NS", "ns1 ns2", NULL),
	/* RFC 1123 section 2.1 */
	BAD("@", "NS", "192.0.2.53.", "IPv4 address"),
	BAD("sub", "NS", "192.0.2.53", "without a trailing dot"),
	BAD("@", "NS", "ns.8.", "all-numeric label"),
	OK("@", "NS", "ns1.2.example.net.", "ns1.2.example.net."),
	/* SRV */
	OK("_sip._tcp", "SRV", "10 20 5060 sip.example.net.", "10 20 5060 sip.example.net."),
	OK("_sip._tcp", "SRV", "0 0 0 .", "0 0 0 ."),
	OK("_sip._tcp", "SRV", "10 20 5060 sip", "10 20 5060 sip.example.com."),
	BAD("_sip._tcp", "SRV", "10 20 70000 sip", NULL),
	BAD("_sip._tcp", "SRV", "10 20 sip", NULL),
	BAD("_sip._tcp", "SRV", "10 20 5060 _sip.example.net.", "'_' is not allowed"),
	BAD("_sip._tcp", "SRV", "10 20 5060 sip.example.com", "no trailing dot"),
	/* RFC 1123 section 2.1, RFC 2782: the target is a host name. */
	BAD("_sip._tcp", "SRV", "10 20 5060 192.0.2.1.", "IPv4 address"),
	BAD("_sip._tcp", "SRV", "10 20 5060 192.0.2.1", "without a trailing dot"),
	OK("_sip._tcp", "SRV", "10 20 5060 1.sip.example.", "10 20 5060 1.sip.example."),
	/* PTR */
	OK("1", "PTR", "host.example.net.", "host.example.net."),
	OK("1", "PTR", "host", "host.example.com."),
	OK("1", "PTR", "_x.example.net.", "_x.example.net."),
	BAD("1", "PTR", ".", "root name"),
	/* DNAME */
	OK("old", "DNAME", "new.example.net.", "new.example.net."),
	BAD("old", "DNAME", ".", "root name"),
	/* The host name rule is for MX, NS and SRV only. */
	OK("old", "DNAME", "2.0.192.in-addr.arpa.", "2.0.192.in-addr.arpa."),
	/* TXT: strings quoted, escapes kept, NUL and raw control bytes refused. */
	OK("@", "TXT", "\"hello world\"", "\"hello world\""),
	OK("@", "TXT", "hello", "\"hello\""),
	OK("@", "TXT", "\"a\" \"b\"", "\"a\" \"b\""),
	OK("@", "TXT", "\"v=spf1 -all\"", "\"v=spf1 -all\""),
	OK("@", "TXT", "\"\"", "\"\""),
	OK("@", "TXT", "\"semi;colon\"", "\"semi;colon\""),
	OK("@", "TXT", "\"quote\\\"d\"", "\"quote\\\"d\""),
	OK("@", "TXT", "\"A\\065\"", "\"AA\""),
	OK("@", "TXT", "\"caf\\195\\169\"", "\"caf\\195\\169\""),
	OK("@", "TXT", "\"tab\\009x\"", "\"tab\\009x\""),
	OK("@", "TXT", "\"Mixed Case\"", "\"Mixed Case\""),
	OK("_dmarc", "TXT", "\"v=DMARC1; p=none\"", "\"v=DMARC1; p=none\""),
	BAD("@", "TXT", "\"a\\000b\"", "NUL"),
	BAD("@", "TXT", "\"unbalanced", NULL),
	BAD("@", "TXT", "\"trail\\", NULL),
	BAD("@", "TXT", "\"caf\xc3\xa9\"", "non-ASCII"),
	BAD("@", "TXT", "\"a\"\n\"b\"", "control"),
	BAD("@", "TXT", "\"bell\a\"", "control"),
	BAD("@", "TXT", "\"tab\tx\"", "control"),
	BAD("@", "TXT", "\"del\x7f\"", "control"),
	BAD("@", "TXT", "\"x\" ; comment", "comments"),
	BAD("@", "TXT", "\\# 2 0161", "generic"),
	/* SPF (type 99) is TXT's twin. */
	OK("@", "SPF", "\"v=spf1 -all\"", "\"v=spf1 -all\""),
	OK("@", "spf", "v=spf1", "\"v=spf1\""),
	BAD("@", "SPF", "\"a\\000\"", "NUL"),
	/* CAA (RFC 8659) */
	OK("@", "CAA", "0 issue \"letsencrypt.org\"", "0 issue \"letsencrypt.org\""),
	OK("@", "CAA", "0 issue letsencrypt.org", "0 issue \"letsencrypt.org\""),
	OK("@", "CAA", "0 ISSUE \"letsencrypt.org\"", "0 issue \"letsencrypt.org\""),
	OK("@", "CAA", "128 issuewild \";\"", "128 issuewild \";\""),
	OK("@", "CAA", "0 iodef \"mailto:security@example.com\"",
	   "0 iodef \"mailto:security@example.com\""),
	OK("@", "CAA", "0 iodef \"https://example.com/caa\"",
	   "0 iodef \"https://example.com/caa\""),
	OK("@", "CAA", "0 issue \"ca.example; account=Xy\"", "0 issue \"ca.example; account=Xy\""),
	BAD("@", "CAA", "0 iodef \"ftp://example.com/\"", "iodef"),
	BAD("@", "CAA", "0 iodef \"mailto:\"", "iodef"),
	BAD("@", "CAA", "0 is-sue \"x\"", "1 to 15 letters or digits"),
	BAD("@", "CAA", "0 issueissueissue1 \"x\"", NULL),
	BAD("@", "CAA", "0 isue \"x\"", "unknown tag"),
	BAD("@", "CAA", "1 issue \"x\"", "flags"),
	BAD("@", "CAA", "256 issue \"x\"", NULL),
	/* RFC 8659 section 4.2: the issue and issuewild grammar. */
	OK("@", "CAA", "0 issue \"ca.example.net\"", "0 issue \"ca.example.net\""),
	OK("@", "CAA", "0 issue \";\"", "0 issue \";\""),
	OK("@", "CAA", "0 issue \"\"", "0 issue \"\""),
	OK("@", "CAA", "0 issue \"ca.example.net;\"", "0 issue \"ca.example.net;\""),
	OK("@", "CAA", "0 issue \"ca.example.net; account=230123\"",
	   "0 issue \"ca.example.net; account=230123\""),
	OK("@", "CAA", "0 issue \"ca.example.net; key1=v1; key2=v2\"",
	   "0 issue \"ca.example.net; key1=v1; key2=v2\""),
	OK("@", "CAA", "0 issue \" ca.example.net ; key1 = v1 ;key-2=\"",
	   "0 issue \" ca.example.net ; key1 = v1 ;key-2=\""),
	OK("@", "CAA", "0 issue \"; validationmethods=dns-01,http-01\"",
	   "0 issue \"; validationmethods=dns-01,http-01\""),
	OK("@", "CAA", "0 issuewild \"x--y.example; a=b=c:d\"",
	   "0 issuewild \"x--y.example; a=b=c:d\""),
	BAD("@", "CAA", "0 issue \"ca.example.net; key\"", "parameter 'key' is not 'tag=value'"),
	BAD("@", "CAA", "0 issue \"ca..example.net\"", "issuer domain name 'ca..example.net'"),
	BAD("@", "CAA", "0 issuewild \"ca..example.net\"", "issuer domain name"),
	BAD("@", "CAA", "0 issue \"ca.example.net.\"", "without a trailing dot"),
	BAD("@", "CAA", "0 issue \".ca.example.net\"", "issuer domain name"),
	BAD("@", "CAA", "0 issue \"-ca.example.net\"", "issuer domain name"),
	BAD("@", "CAA", "0 issue \"ca_x.example.net\"", "issuer domain name"),
	BAD("@", "CAA", "0 issue \"ca.example.net key=v\"", "unexpected 'key=v'"),
	BAD("@", "CAA", "0 issue \"ca.example.net; key=v;\"", "followed by another parameter"),
	BAD("@", "CAA", "0 issue \"ca.example.net; key=v x=y\"", "unexpected 'x=y'"),
	BAD("@", "CAA", "0 issue \"ca.example.net; key=a b\"", "unexpected 'b'"),
	BAD("@", "CAA", "0 issue \"ca.example.net; =v\"", "parameter tag ''"),
	BAD("@", "CAA", "0 issue \"ca.example.net; -k=v\"", "parameter tag '-k'"),
	BAD("@", "CAA", "0 issue \"ca.example.net; k_y=v\"", "parameter tag 'k_y'"),
	BAD("@", "CAA", "0 issue \"ca.example.net;;\"", "parameter '' is not"),
	BAD("@", "CAA", "0 issue \"ca.example.net; k=\\127\"", "unexpected"),
	BAD("@", "CAA", "0 issue \"caf\\195\\169.example\"", "issuer domain name"),
	BAD("@", "CAA", "0 issue \"" L64 ".example\"", "issuer domain name"),
	/* DS: digest length by digest type. */
	OK("sub", "DS", "12345 8 2 " H32, "12345 8 2 " H32U),
	OK("sub", "DS", "12345 8 1 " H20, "12345 8 1 " H20U),
	OK("sub", "DS", "12345 13 4 " H48, "12345 13 4 " H48U),
	OK("sub", "DS", "12345 RSASHA256 2 " H32, "12345 8 2 " H32U),
	BAD("sub", "DS", "12345 8 2 0123", "needs 32 bytes"),
	BAD("sub", "DS", "12345 8 1 " H32, "needs 20 bytes"),
	BAD("sub", "DS", "12345 8 3 " H32, "digest type 3"),
	BAD("sub", "DS", "12345 8 2 012", NULL),
	BAD("sub", "DS", "70000 8 2 " H32, NULL),
	/* RFC 4034 appendix A.1: algorithms 0 and 255 are reserved. */
	BAD("sub", "DS", "12345 0 2 " H32, "algorithm 0 is reserved"),
	BAD("sub", "DS", "12345 255 2 " H32, "algorithm 255 is reserved"),
	OK("sub", "DS", "12345 253 2 " H32, "12345 253 2 " H32U),
	/* SSHFP */
	OK("www", "SSHFP", "1 1 " H20, "1 1 " H20U),
	OK("www", "SSHFP", "4 2 " H32, "4 2 " H32U),
	BAD("www", "SSHFP", "1 2 0123", "needs 32 bytes"),
	BAD("www", "SSHFP", "1 3 " H20, "fingerprint type 3"),
	BAD("www", "SSHFP", "0 1 " H20, "algorithm 0"),
	/* TLSA (RFC 6698) */
	OK("_443._tcp", "TLSA", "3 1 1 " H32, "3 1 1 " H32U),
	OK("_443._tcp", "TLSA", "3 1 2 " H64, "3 1 2 " H64U),
	OK("_443._tcp", "TLSA", "2 0 0 0123abcd", "2 0 0 0123ABCD"),
	BAD("_443._tcp", "TLSA", "9 1 1 " H32, "usage 9"),
	BAD("_443._tcp", "TLSA", "3 2 1 " H32, "selector 2"),
	BAD("_443._tcp", "TLSA", "3 1 3 " H32, "matching type 3"),
	BAD("_443._tcp", "TLSA", "3 1 1 0123", "needs 32 bytes"),
	BAD("_443._tcp", "TLSA", "3 1 2 " H32, "needs 64 bytes"),
	/* NAPTR (RFC 3403) */
	OK("@", "NAPTR", "100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
	   "100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" ."),
	OK("@", "NAPTR", "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp",
	   "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com."),
	BAD("@", "NAPTR", "100 10 \"S\" \"SIP+D2U\" \"\" -bad.example.net.", "replacement"),
	BAD("@", "NAPTR", "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com", "no trailing dot"),
	/* SOA */
	OK("@", "SOA", "ns1 hostmaster 2024010101 3600 600 604800 300",
	   "ns1.example.com. hostmaster.example.com. 2024010101 3600 600 604800 300"),
	OK("@", "SOA", "NS1.example.net. Host-Master.example.net. 1 2 3 4 5",
	   "ns1.example.net. host-master.example.net. 1 2 3 4 5"),
	BAD("@", "SOA", "ns1 hostmaster 1 2 3 4", NULL),
	BAD("@", "SOA", ". hostmaster 1 2 3 4 5", "mname"),
	BAD("@", "SOA", "ns1 hostmaster 4294967296 1 2 3 4", NULL),
	BAD("@", "SOA", "ns1.example.com hostmaster 1 2 3 4 5", "mname 'ns1.example.com'"),
	BAD("@", "SOA", "ns1 hostmaster.example.com 1 2 3 4 5", "rname"),
	/* The types PowerDNS 4.7 serves beyond the basic ones (issue 13). */
	OK("_https._tcp", "SVCB", "1 . alpn=h2,h3 ipv4hint=192.0.2.1 port=8443",
	   "1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1"),
	OK("www", "HTTPS", "1 . alpn=\"h2,h3\"", "1 . alpn=h2,h3"),
	OK("www", "HTTPS", "0 cdn.example.net.", "0 cdn.example.net."),
	OK("www", "HTTPS", "1 cdn", "1 cdn.example.com."),
	OK("www", "HTTPS", "1 . mandatory=alpn alpn=h2 no-default-alpn ipv6hint=2001:db8::1",
	   "1 . mandatory=alpn alpn=h2 no-default-alpn ipv6hint=2001:db8::1"),
	OK("www", "HTTPS", "1 . key65000=abc", "1 . key65000=\"abc\""),
	BAD("www", "HTTPS", "1 . dohpath=/q{?dns}", NULL), /* libknot 3.2: key7=... */
	OK("www", "HTTPS", "1 . key7=/q{?dns}", "1 . key7=\"/q{?dns}\""),
	BAD("www", "HTTPS", "1 . key65000", "PowerDNS 4.7"),
	BAD("www", "HTTPS", "1 . key65535=x", "reserved"),
	BAD("www", "HTTPS", "1 . key3=8443", "no presentation form"),
	/* RFC 9460 appendix A.1: a ',' inside an ALPN id is "\\," in a
	 * zone file; "\," is a plain ','. */
	OK("www", "HTTPS", "1 . alpn=h2\\\\,h3,h1", "1 . alpn=h2\\\\,h3,h1"),
	OK("www", "HTTPS", "1 . alpn=h2\\,h3,h1", "1 . alpn=h2,h3,h1"),
	BAD("www", "HTTPS", "1 . mandatory=alpn", NULL),
	BAD("www", "HTTPS", "1 . alpn=h2 alpn=h3", NULL),
	BAD("www", "HTTPS", "1 -bad.example.net.", "starts or ends with '-'"),
	BAD("www", "HTTPS", "1 cdn.example.com", "no trailing dot"),
	OK("www", "LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m",
	   "52 22 23 N 4 53 32 E -2m 0m 10000m 10m"),
	OK("www", "LOC", "52 N 4 E 1m", "52 0 0 N 4 0 0 E 1m 1m 10000m 10m"),
	OK("www", "LOC", "42 21 54.123 N 71 6 18.5 W -24m 30m",
	   "42 21 54.123 N 71 6 18.500 W -24m 30m 10000m 10m"),
	OK("www", "LOC", "0 N 0 E 0m 40000000m", "0 0 0 N 0 0 0 E 0m 40000000m 10000m 10m"),
	BAD("www", "LOC", "0 N 0 E 0m 90000000m", "PowerDNS 4.7"),
	BAD("www", "LOC", "91 N 0 E 0m", NULL),
	OK("smime", "SMIMEA", "3 1 1 " H32, "3 1 1 " H32U),
	BAD("smime", "SMIMEA", "4 1 1 " H32, "usage 4"),
	OK("www", "HINFO", "\"PC Intel\" \"Linux 6\"", "\"PC Intel\" \"Linux 6\""),
	OK("www", "HINFO", "PC Linux", "\"PC\" \"Linux\""),
	BAD("www", "HINFO", "\"PC\"", NULL),
	OK("www", "MINFO", "rm em.example.net.", "rm.example.com. em.example.net."),
	OK("www", "RP", "admin.example.com. _txt", "admin.example.com. _txt.example.com."),
	OK("www", "RP", ". .", ". ."),
	OK("www", "AFSDB", "1 afs", "1 afs.example.com."),
	BAD("www", "AFSDB", "1 192.0.2.1.", "IPv4 address"),
	OK("www", "KX", "10 kx.example.net.", "10 kx.example.net."),
	BAD("www", "KX", "10 _kx.example.net.", "'_' is not allowed"),
	OK("www", "KEY", "256 3 13 AQIDBA==", "256 3 13 AQIDBA=="),
	OK("www", "CERT", "PGP 0 0 AQIDBA==", "3 0 0 AQIDBA=="),
	BAD("www", "CERT", "PGP 0 0 !!!", NULL),
	OK("www", "APL", "1:192.0.2.0/24 !2:2001:db8::/32", "1:192.0.2.0/24 !2:2001:db8::/32"),
	BAD("www", "APL", "1:192.0.2.0/33", NULL),
	OK("www", "IPSECKEY", "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
	   "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=="),
	OK("www", "IPSECKEY", "10 3 2 gw AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
	   "10 3 2 gw.example.com. AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=="),
	OK("www", "IPSECKEY",
	   "10 3 2 gw.b\xc3\xbc"
	   "cher.example. AQNRU3mG",
	   "10 3 2 gw.xn--bcher-kva.example. AQNRU3mG"),
	BAD("www", "IPSECKEY",
	    "10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==", "gateway type 0"),
	OK("www", "DHCID", "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
	   "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="),
	OK("www", "OPENPGPKEY", "AQIDBAUGBwg=", "AQIDBAUGBwg="),
	OK("@", "CSYNC", "66 3 A NS AAAA", "66 3 A NS AAAA"),
	OK("www", "NID", "10 0014:4fff:ff20:ee64", "10 0014:4FFF:FF20:EE64"),
	OK("www", "L32", "10 10.1.2.0", "10 10.1.2.0"),
	OK("www", "L64", "10 2001:0db8:1140:1000", "10 2001:0DB8:1140:1000"),
	OK("www", "LP", "10 l64-subnet", "10 l64-subnet.example.com."),
	OK("www", "EUI48", "00-00-5e-00-53-2a", "00-00-5E-00-53-2A"),
	OK("www", "EUI64", "00-00-5e-ef-10-00-00-2a", "00-00-5E-EF-10-00-00-2A"),
	BAD("www", "EUI48", "00:00:5e:00:53:2a", NULL),
	OK("_ftp._tcp", "URI", "10 1 \"ftp://ftp1.example.com/public\"",
	   "10 1 \"ftp://ftp1.example.com/public\""),
	BAD("_ftp._tcp", "URI", "10 1 \"\"", "empty"),
	/* Types: only the accepted list; the signer's types are read-only. */
	OK("www", "mx", "10 mail", "10 mail.example.com."),
	BAD("@", "RRSIG", "A 8 2 300 20300101000000 20200101000000 1 example.com. AAAA", "signer"),
	BAD("@", "DNSKEY", "257 3 8 AwEAAQ==", "signer"),
	BAD("@", "NSEC", "www.example.com. A", "signer"),
	BAD("@", "NSEC3", "1 0 0 - ABC", "signer"),
	BAD("@", "NSEC3PARAM", "1 0 0 -", "signer"),
	BAD("@", "CDS", "12345 8 2 " H32, "signer"),
	BAD("@", "cdnskey", "257 3 8 AwEAAQ==", "signer"),
	BAD("www", "TYPE1", "192.0.2.1", "generic type"),
	BAD("www", "TYPE65535", "\\# 0", "generic type"),
	BAD("@", "ZONEMD", "2018031900 1 1 " H48, "new serial with every change"),
	BAD("www", "RT", "10 rt.example.net.", "PowerDNS 4.7 cannot serve it"),
	BAD("www", "ALIAS", "www.example.net.", "PowerDNS's own"),
	BAD("www", "MB", "mb.example.net.", "not supported"),
	BAD("www", "A6", "0 2001:db8::1", "obsolete"),
	BAD("www", "FOO", "x", "unknown record type 'FOO'"),
	BAD("www", "", "x", "empty"),
	BAD("www", "A A", "x", "unknown"),
	/* TTL (RFC 2181 section 8) */
	{ "www", "A", 0, "192.0.2.1", "192.0.2.1", 0, NULL },
	{ "www", "A", 2147483647u, "192.0.2.1", "192.0.2.1", 0, NULL },
	{ "www", "A", 2147483648u, "192.0.2.1", NULL, ERR_INVALID, "TTL" },
	{ "www", "A", 4294967295u, "192.0.2.1", NULL, ERR_INVALID, "TTL" },
};

#define N_RR_CASES (sizeof(rr_cases) / sizeof(rr_cases[0]))

/* Run one row; returns NULL or a description of the failure in 'buf'. */
static const char *rr_row(size_t i, char *buf, size_t len)
{
	const struct rr_case *c = &rr_cases[i];
	char owner[DNAME_TEXT_MAX];
	struct errmsg err = { { 0 } };
	struct rr rr, again;
	uint16_t type = 0;
	int r;

	if (dname_owner_normalize(c->owner, ORIGIN, owner, &err) != 0) {
		snprintf(buf, len, "row %zu: owner '%s': %s", i, c->owner, err.text);
		return buf;
	}
	r = rr_type_parse(c->type, &type, &err);
	if (r == 0)
		r = rr_parse(owner, type, c->ttl, c->rdata, ORIGIN, &rr, &err);
	else
		memset(&rr, 0, sizeof(rr));
	if (c->want == NULL) {
		if (r != c->code) {
			snprintf(buf, len, "row %zu: %s '%s': r=%d content '%s'", i, c->type,
				 c->rdata, r, rr.content ? rr.content : "");
			rr_clear(&rr);
			return buf;
		}
		if (rr.content != NULL || rr.wire != NULL) {
			snprintf(buf, len, "row %zu: rejected but holds data", i);
			return buf;
		}
		if (c->msg != NULL && strstr(err.text, c->msg) == NULL) {
			snprintf(buf, len, "row %zu: message \"%s\" lacks \"%s\"", i, err.text,
				 c->msg);
			return buf;
		}
		return NULL;
	}
	if (r != 0) {
		snprintf(buf, len, "row %zu: %s '%s' rejected: %s", i, c->type, c->rdata, err.text);
		return buf;
	}
	if (strcmp(rr.content, c->want) != 0 || strcmp(rr.owner, owner) != 0 || rr.type != type ||
	    rr.ttl != c->ttl || rr.wire == NULL || rr.wire_len == 0) {
		snprintf(buf, len, "row %zu: %s '%s' gave '%s', want '%s'", i, c->type, c->rdata,
			 rr.content, c->want);
		rr_clear(&rr);
		return buf;
	}
	/* The canonical form is a fixed point. */
	r = rr_parse(owner, type, c->ttl, rr.content, ORIGIN, &again, &err);
	if (r != 0 || strcmp(again.content, rr.content) != 0 || again.wire_len != rr.wire_len ||
	    memcmp(again.wire, rr.wire, rr.wire_len) != 0) {
		snprintf(buf, len, "row %zu: canonical '%s' does not parse back to itself (%s)", i,
			 rr.content, r != 0 ? err.text : again.content);
		rr_clear(&again);
		rr_clear(&rr);
		return buf;
	}
	rr_clear(&again);
	rr_clear(&rr);
	return NULL;
}

static void test_rr_table(void **state)
{
	char buf[1024];
	size_t accepted = 0, failed = 0;

	(void)state;
	for (size_t i = 0; i < N_RR_CASES; i++) {
		const char *fail = rr_row(i, buf, sizeof(buf));

		if (fail != NULL) {
			print_error("%s\n", fail);
			failed++;
		}
		accepted += rr_cases[i].want != NULL;
	}
	if (failed > 0)
		fail_msg("%zu of %zu rows failed", failed, N_RR_CASES);
	/* The table must keep both kinds, and plenty of them. */
	assert_true(accepted >= 60);
	assert_true(N_RR_CASES - accepted >= 80);
	assert_true(N_RR_CASES + sizeof(owner_cases) / sizeof(owner_cases[0]) +
			sizeof(zone_cases) / sizeof(zone_cases[0]) >=
		    150);
}

/* The scanner is reused: a failed parse must not affect the next one. */
static void test_rr_table_reversed(void **state)
{
	char buf[1024];

	(void)state;
	for (size_t k = 0; k < N_RR_CASES; k++) {
		const char *fail = rr_row(N_RR_CASES - 1 - k, buf, sizeof(buf));

		if (fail != NULL)
			fail_msg("reversed: %s", fail);
	}
}

static void test_rr_messages(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_RR_CASES; i++) {
		const struct rr_case *c = &rr_cases[i];
		char owner[DNAME_TEXT_MAX], row[40];
		struct errmsg err = { { 0 } };
		uint16_t type;
		struct rr rr;
		int r;

		if (c->want != NULL)
			continue;
		snprintf(row, sizeof(row), "rr row %zu", i);
		assert_int_equal(dname_owner_normalize(c->owner, ORIGIN, owner, &err), 0);
		r = rr_type_parse(c->type, &type, &err);
		if (r == 0)
			r = rr_parse(owner, type, c->ttl, c->rdata, ORIGIN, &rr, &err);
		assert_int_not_equal(r, 0);
		check_message(err.text, NULL, row);
	}
}

static void test_rr_type_names(void **state)
{
	static const char *const names[] = {
		"A",  "AAAA", "CAA", "CNAME", "DNAME", "DS",   "MX",  "NAPTR",
		"NS", "PTR",  "SOA", "SRV",   "SSHFP", "TLSA", "TXT",
	};
	uint16_t type;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(rr_type_parse(names[i], &type, NULL), 0);
		assert_string_equal(rr_type_name(type), names[i]);
	}
	/* The DNSSEC types have names, and are never user data. */
	assert_string_equal(rr_type_name(46), "RRSIG");
	assert_true(rr_type_is_dnssec(46));
	assert_false(rr_type_is_dnssec(1));
	assert_int_equal(rr_type_parse("RRSIG", &type, NULL), ERR_INVALID);
	assert_int_equal(rr_type_parse_presigned("rrsig", &type, NULL), 0);
	assert_int_equal(type, 46);
	assert_int_equal(rr_type_parse_presigned("MX", &type, NULL), 0);
	assert_int_equal(type, 15);
	assert_int_equal(rr_type_parse_presigned("ZONEMD", &type, NULL), ERR_INVALID);
	/* BIND's signing state: generic data, only beside a primary's signatures. */
	assert_int_equal(rr_type_parse("TYPE65534", &type, NULL), ERR_INVALID);
	assert_int_equal(rr_type_parse_presigned("TYPE65534", &type, NULL), 0);
	assert_int_equal(type, 65534);
	assert_true(rr_type_is_dnssec(65534));
	struct rr rr;
	assert_int_equal(
	    rr_parse("example.com.", 65534, 0, "\\# 5 0D3C4F0001", "example.com.", &rr, NULL), 0);
	assert_string_equal(rr.content, "\\# 5 0D3C4F0001");
	rr_clear(&rr);
	assert_int_equal(
	    rr_parse("example.com.", 1, 0, "\\# 4 C0000201", "example.com.", &rr, NULL),
	    ERR_INVALID);
	assert_null(rr_type_name(21)); /* RT: PowerDNS 4.7 cannot serve it */
	assert_null(rr_type_name(63)); /* ZONEMD */
	assert_null(rr_type_name(0));
	assert_int_equal(rr_type_parse(NULL, &type, NULL), ERR_INVALID);
}

/* PowerDNS's LUA type has a name here (rr_type_name()) but no zone data
 * form: rr_parse() refuses it, as any type without one, rather than read
 * a type table it has no row in. */
static void test_rr_lua_and_unlisted_types(void **state)
{
	struct errmsg err = { { 0 } };
	struct rr rr;

	(void)state;
	assert_int_equal(
	    rr_parse("www.example.com.", TYPE_LUA, 300, "A \"'192.0.2.1'\"", ORIGIN, &rr, &err),
	    ERR_INVALID);
	assert_non_null(strstr(err.text, "LUA"));
	assert_null(rr.content);
	assert_int_equal(rr_parse("www.example.com.", 65535, 300, "\\# 0", ORIGIN, &rr, &err),
			 ERR_INVALID);
	assert_non_null(strstr(err.text, "not accepted"));
}

static void test_rr_bad_arguments(void **state)
{
	struct errmsg err;
	struct rr rr;

	(void)state;
	/* Owner outside the zone, type not accepted, owner not normalised. */
	assert_int_equal(rr_parse("www.example.org.", 1, 300, "192.0.2.1", ORIGIN, &rr, &err),
			 ERR_INVALID);
	check_message(err.text, "not inside zone", "outside owner");
	assert_int_equal(rr_parse("www.example.com.", 46, 300, "x", ORIGIN, &rr, &err),
			 ERR_INVALID);
	assert_int_equal(rr_parse("www example.com.", 1, 300, "192.0.2.1", ORIGIN, &rr, &err),
			 -EINVAL);
	assert_int_equal(rr_parse("WWW.example.com.", 1, 300, "192.0.2.1", ORIGIN, &rr, &err),
			 -EINVAL);
	assert_null(rr.content);
	assert_null(rr.wire);
	/* rr_clear() takes zeroed and cleared records. */
	memset(&rr, 0, sizeof(rr));
	rr_clear(&rr);
	rr_clear(&rr);
	rr_clear(NULL);
}

/* TXT: 255 bytes per string, DNS_RDATA_MAX in all, capped text. */
static void test_txt_limits(void **state)
{
	size_t big = DNS_RDATA_TEXT_MAX + 10;
	char *text = malloc(big + 1);
	struct errmsg err;
	struct rr rr;
	size_t len = 0;

	(void)state;
	assert_non_null(text);
	text[len++] = '"';
	memset(text + len, 'x', 255);
	len += 255;
	text[len++] = '"';
	text[len] = '\0';
	assert_int_equal(rr_parse(ORIGIN, 16, 300, text, ORIGIN, &rr, &err), 0);
	assert_int_equal(rr.wire_len, 256);
	rr_clear(&rr);
	/* 256 bytes in one string: libzscanner would split it into 255 + 1;
	 * that is a silent change of the data, so it is refused. */
	memmove(text + 2, text + 1, len);
	text[1] = 'x';
	assert_int_equal(rr_parse(ORIGIN, 16, 300, text, ORIGIN, &rr, &err), ERR_INVALID);
	check_message(err.text, "longer than 255 bytes", "txt string over 255");
	/* The same bytes as two strings, and as bare words with escapes, pass. */
	assert_int_equal(
	    rr_parse(ORIGIN, 16, 300, "\"a b\" c\\ d \"e\\\"f\" ( g )", ORIGIN, &rr, &err), 0);
	assert_string_equal(rr.content, "\"a b\" \"c d\" \"e\\\"f\" \"g\"");
	rr_clear(&rr);

	/* 254 strings of 256 bytes on the wire: 65,024 > DNS_RDATA_MAX. */
	len = 0;
	for (int i = 0; i < 254; i++) {
		text[len++] = '"';
		memset(text + len, 'y', 255);
		len += 255;
		text[len++] = '"';
		text[len++] = ' ';
	}
	text[len] = '\0';
	assert_int_equal(rr_parse(ORIGIN, 16, 300, text, ORIGIN, &rr, &err), ERR_INVALID);
	check_message(err.text, "limit", "big txt");
	/* 253 strings (64,768 bytes) still fit. */
	text[len - 258] = '\0';
	assert_int_equal(rr_parse(ORIGIN, 16, 300, text, ORIGIN, &rr, &err), 0);
	assert_int_equal(rr.wire_len, 253 * 256);
	rr_clear(&rr);
	/* More than 65,535 bytes: the scanner's own limit. */
	len = 0;
	for (int i = 0; i < 300; i++) {
		text[len++] = '"';
		memset(text + len, 'z', 255);
		len += 255;
		text[len++] = '"';
		text[len++] = ' ';
	}
	text[len] = '\0';
	assert_int_equal(rr_parse(ORIGIN, 16, 300, text, ORIGIN, &rr, &err), ERR_INVALID);
	/* Text over the cap is refused before parsing. */
	memset(text, ' ', big);
	text[big] = '\0';
	assert_int_equal(rr_parse(ORIGIN, 16, 300, text, ORIGIN, &rr, &err), ERR_INVALID);
	free(text);
}

/* Canonical wire form is what duplicates are compared on. */
static void test_rr_wire(void **state)
{
	struct errmsg err;
	struct rr a, b;

	(void)state;
	assert_int_equal(rr_parse("www.example.com.", 28, 300, "2001:db8::1", ORIGIN, &a, &err), 0);
	assert_int_equal(rr_parse("www.example.com.", 28, 300, "2001:0db8:0::1", ORIGIN, &b, &err),
			 0);
	assert_int_equal(a.wire_len, 16);
	assert_memory_equal(a.wire, b.wire, 16);
	rr_clear(&a);
	rr_clear(&b);
	assert_int_equal(rr_parse("www.example.com.", 15, 300, "10 Mail", ORIGIN, &a, &err), 0);
	assert_int_equal(
	    rr_parse("www.example.com.", 15, 300, "10 mail.EXAMPLE.com.", ORIGIN, &b, &err), 0);
	assert_int_equal(a.wire_len, b.wire_len);
	assert_memory_equal(a.wire, b.wire, a.wire_len);
	assert_memory_equal(a.wire,
			    "\x00\x0a\x04mail\x07"
			    "example\x03"
			    "com",
			    a.wire_len);
	rr_clear(&a);
	rr_clear(&b);
	/* TXT keeps its case. */
	assert_int_equal(rr_parse("www.example.com.", 16, 300, "\"A\"", ORIGIN, &a, &err), 0);
	assert_int_equal(rr_parse("www.example.com.", 16, 300, "\"a\"", ORIGIN, &b, &err), 0);
	assert_memory_not_equal(a.wire, b.wire, 2);
	rr_clear(&a);
	rr_clear(&b);
}

/* --- the panel's plain text values ---------------------------------------- */

struct plain_case {
	const char *type;
	const char *content; /* as the panel sends it */
	const char *want;    /* canonical content; NULL if refused */
	const char *plain;   /* what rr_text_to_plain() gives back; NULL: none */
};

/* A 2048-bit RSA key's DKIM record: 410 characters, over one string. */
#define DKIM_P                                                                         \
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAx8Gk2vT3eRkN7d1kQp8h3R9mYb5w2xUe" \
	"Lq0yH6tZ4sVb1nCj8fWuXo3aD2gKp7rEi9lMz5QhT0cYy4NvBw6Jx1SUd8Re3oPk2Fa7Ih5GqLt"  \
	"Vm9Zs0bKjC4Xn6Wu1Dy8Tr2Ep3Hf7Qg5Ia9Ob0Lc6Md4Ne1Pf2Rh3Sj8Tk7Ul5Vm6Wn9Xo0Yp"    \
	"4Zq3Ar2Bs1Ct0Du9Ev8Fw7Gx6Hy5Iz4Ja3Kb2Lc1Md0Ne9Of8Pg7Qh6Ri5Sj4Tk3Ul2Vm1Wn0Xo"  \
	"9Yp8Zq7Ar6Bs5Ct4Du3Ev2Fw1Gx0Hy9Iz8Ja7Kb6Lc5Md4Ne3Of2Pg1Qh0Ri9Sj8Tk7Ul6Vm5W"   \
	"n4Xo3Yp2Zq1Ar0Bs9Ct8Du7Ev6Fw5Gx4Hy3QIDAQAB"
#define DKIM "v=DKIM1; k=rsa; p=" DKIM_P

static const struct plain_case plain_cases[] = {
	/* One text, whatever blanks and quotes it holds (issue 13). */
	{ "TXT", "v=spf1 -all", "\"v=spf1 -all\"", "v=spf1 -all" },
	{ "TXT", "v=spf1 include:_spf.example.net ~all", "\"v=spf1 include:_spf.example.net ~all\"",
	  "v=spf1 include:_spf.example.net ~all" },
	{ "TXT", "v=DMARC1; p=reject; rua=mailto:d@example.com",
	  "\"v=DMARC1; p=reject; rua=mailto:d@example.com\"",
	  "v=DMARC1; p=reject; rua=mailto:d@example.com" },
	{ "SPF", "v=spf1 -all", "\"v=spf1 -all\"", "v=spf1 -all" },
	{ "TXT", "say \"hi\" \\ (x)", "\"say \\\"hi\\\" \\\\ (x)\"", "say \"hi\" \\ (x)" },
	{ "TXT", "a  b", "\"a  b\"", "a  b" },
	{ "TXT", "plain", "\"plain\"", "plain" },
	/* Quoted presentation keeps its meaning. */
	{ "TXT", "\"v=spf1 -all\"", "\"v=spf1 -all\"", "v=spf1 -all" },
	{ "TXT", "\"a\" \"b\"", "\"a\" \"b\"", NULL },
	{ "TXT", "\"a\\\"b\"", "\"a\\\"b\"", "a\"b" },
	{ "TXT", "\"A\\066C\"", "\"ABC\"", "ABC" },
	{ "TXT", "\"\"", "\"\"", NULL },
	{ "TXT", "\" lead\"", "\" lead\"", NULL },
	{ "TXT", "\"trail \"", "\"trail \"", NULL },
	{ "TXT", "\"caf\\195\\169\"", "\"caf\\195\\169\"", NULL },
	{ "TXT", "\"\\\"q\"", "\"\\\"q\"", NULL },
	{ "TXT", "\"\\\\# 1 00\"", "\"\\\\# 1 00\"", NULL },
	/* A leading blank is part of the text, so it reads back quoted. */
	{ "TXT", " x", "\" x\"", NULL },
	/* Refused, as the same bytes would be when quoted. */
	{ "TXT", "\\# 2 0161", NULL, NULL },
	{ "TXT", "caf\xc3\xa9", NULL, NULL },
	{ "TXT", "line\nbreak", NULL, NULL },
	{ "TXT", "nul\\000", "\"nul\\\\000\"", "nul\\000" },
	{ "TXT", "", NULL, NULL },
	/* CAA: the value is everything after the tag. */
	{ "CAA", "0 issue letsencrypt.org", "0 issue \"letsencrypt.org\"",
	  "0 issue letsencrypt.org" },
	{ "CAA", "0 issue \"letsencrypt.org\"", "0 issue \"letsencrypt.org\"",
	  "0 issue letsencrypt.org" },
	{ "CAA", "0 issue letsencrypt.org; validationmethods=dns-01",
	  "0 issue \"letsencrypt.org; validationmethods=dns-01\"",
	  "0 issue letsencrypt.org; validationmethods=dns-01" },
	{ "CAA", "128  iodef  mailto:security@example.com",
	  "128 iodef \"mailto:security@example.com\"", "128 iodef mailto:security@example.com" },
	{ "CAA", "0 issuewild ;", "0 issuewild \";\"", "0 issuewild ;" },
	{ "CAA", "0 issue \"\"", "0 issue \"\"", NULL },
	{ "CAA", "0 issue", NULL, NULL },
	{ "CAA", "0 issue ca..example", NULL, NULL },
	/* Other types are presentation text as they are. */
	{ "A", "192.0.2.1", "192.0.2.1", NULL },
};

static void test_plain_text(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(plain_cases) / sizeof(plain_cases[0]); i++) {
		const struct plain_case *c = &plain_cases[i];
		struct errmsg err = { { 0 } };
		char *text = NULL, *plain = NULL;
		uint16_t type;
		struct rr rr;

		assert_int_equal(rr_type_parse(c->type, &type, &err), 0);
		assert_int_equal(rr_text_from_plain(type, c->content, &text), 0);
		int r = rr_parse(ORIGIN, type, 300, text != NULL ? text : c->content, ORIGIN, &rr,
				 &err);
		free(text);
		if (c->want == NULL) {
			if (r != ERR_INVALID)
				fail_msg("row %zu: '%s' accepted as '%s'", i, c->content,
					 rr.content);
			check_message(err.text, NULL, "plain");
			continue;
		}
		if (r != 0)
			fail_msg("row %zu: '%s' refused: %s", i, c->content, err.text);
		if (strcmp(rr.content, c->want) != 0)
			fail_msg("row %zu: '%s' gave '%s', want '%s'", i, c->content, rr.content,
				 c->want);
		assert_int_equal(rr_text_to_plain(&rr, &plain), 0);
		if (c->plain == NULL ? plain != NULL
				     : plain == NULL || strcmp(plain, c->plain) != 0)
			fail_msg("row %zu: plain form '%s', want '%s'", i, plain ? plain : "(none)",
				 c->plain ? c->plain : "(none)");
		/* The plain form goes back in as exactly the same data. */
		if (plain != NULL) {
			struct rr again;
			assert_int_equal(rr_text_from_plain(type, plain, &text), 0);
			assert_int_equal(
			    rr_parse(ORIGIN, type, 300, text ? text : plain, ORIGIN, &again, &err),
			    0);
			assert_int_equal(again.wire_len, rr.wire_len);
			assert_memory_equal(again.wire, rr.wire, rr.wire_len);
			rr_clear(&again);
			free(text);
		}
		free(plain);
		rr_clear(&rr);
	}
}

/* A DKIM key over 255 octets is one text: cut into strings of 255 that
 * concatenate to the value, and read back whole. */
static void test_plain_long_txt(void **state)
{
	char *text, *plain;
	struct errmsg err;
	struct rr rr;
	size_t n = strlen(DKIM);

	(void)state;
	assert_true(n > 255);
	assert_int_equal(rr_text_from_plain(16, DKIM, &text), 0);
	assert_int_equal(rr_parse("sel._domainkey." ORIGIN, 16, 300, text, ORIGIN, &rr, &err), 0);
	free(text);
	assert_int_equal(rr.wire_len, n + (n + 254) / 255);
	assert_int_equal(rr.wire[0], 255);
	assert_memory_equal(rr.wire + 1, DKIM, 255);
	assert_int_equal(rr.wire[256], n - 255);
	assert_memory_equal(rr.wire + 257, DKIM + 255, n - 255);
	assert_int_equal(rr_text_to_plain(&rr, &plain), 0);
	assert_string_equal(plain, DKIM);
	free(plain);
	rr_clear(&rr);

	/* The same key written as presentation strings cut elsewhere keeps
	 * its strings, and then has no plain form. */
	assert_int_equal(
	    rr_parse(ORIGIN, 16, 300, "\"v=DKIM1; k=rsa; \" \"p=" DKIM_P "\"", ORIGIN, &rr, &err),
	    ERR_INVALID); /* "p=..." is one string over 255 */
	assert_int_equal(
	    rr_parse(ORIGIN, 16, 300, "\"v=DKIM1; k=rsa; \" \"p=abc\"", ORIGIN, &rr, &err), 0);
	assert_int_equal(rr_text_to_plain(&rr, &plain), 0);
	assert_null(plain);
	rr_clear(&rr);

	/* Every length around the cuts reads back as written. */
	char *v = malloc(1200);
	assert_non_null(v);
	for (size_t len = 250; len < 1100; len += 7) {
		for (size_t i = 0; i < len; i++)
			v[i] = (char)('!' + (i * 7 + len) % 94);
		v[0] = 'v';
		v[len - 1] = 'z';
		v[len] = '\0';
		assert_int_equal(rr_text_from_plain(16, v, &text), 0);
		assert_int_equal(rr_parse(ORIGIN, 16, 300, text, ORIGIN, &rr, &err), 0);
		free(text);
		assert_int_equal(rr_text_to_plain(&rr, &plain), 0);
		assert_non_null(plain);
		assert_string_equal(plain, v);
		free(plain);
		rr_clear(&rr);
	}
	free(v);
}

/* Several HTTP workers parse at once: each thread gets its own scanner. */
#define N_THREADS 4

static void *thread_main(void *arg)
{
	long *failures = arg;
	char buf[1024];

	for (int round = 0; round < 10; round++)
		for (size_t i = 0; i < N_RR_CASES; i++)
			if (rr_row((i * 7 + (size_t)round) % N_RR_CASES, buf, sizeof(buf)) != NULL)
				(*failures)++;
	return NULL;
}

static void test_rr_threads(void **state)
{
	pthread_t t[N_THREADS];
	long failures[N_THREADS] = { 0 };

	(void)state;
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, &failures[i]), 0);
	for (int i = 0; i < N_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(failures[i], 0);
	}
}

/* --- zones ------------------------------------------------------------------ */

/* Load "owner ttl TYPE rdata" lines into 'z', failing the test on a record
 * that does not parse. */
static void zone_load(struct zone_data *z, const char *origin, const char *const *lines)
{
	zone_data_init(z, origin);
	for (; *lines != NULL; lines++) {
		char owner_text[300], type_text[32], owner[DNAME_TEXT_MAX];
		struct errmsg err;
		unsigned ttl;
		int used = 0;
		uint16_t type;
		struct rr rr;

		if (sscanf(*lines, "%299s %u %31s %n", owner_text, &ttl, type_text, &used) != 3)
			fail_msg("bad test line '%s'", *lines);
		if (dname_owner_normalize(owner_text, origin, owner, &err) != 0 ||
		    rr_type_parse(type_text, &type, &err) != 0 ||
		    rr_parse(owner, type, ttl, *lines + used, origin, &rr, &err) != 0)
			fail_msg("test line '%s': %s", *lines, err.text);
		assert_int_equal(zone_data_take_rr(z, &rr), 0);
		assert_null(rr.content);
	}
}

#define BASE                                                                \
	"@ 3600 SOA ns1 hostmaster 1 3600 600 604800 300", "@ 3600 NS ns1", \
	    "@ 3600 NS ns2.example.net.", "ns1 3600 A 192.0.2.53"

struct zone_case {
	const char *name;
	const char *const *lines;
	int code;
	const char *msg;
};

#define ZL(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct zone_case zone_check_cases[] = {
	{ "minimal", ZL(BASE), 0, NULL },
	{ "full",
	  ZL(BASE, "www 300 A 192.0.2.1", "www 300 AAAA 2001:db8::1", "alias 300 CNAME www",
	     "@ 300 MX 10 mail.example.net.", "_sip._tcp 300 SRV 0 5 5060 www", "sub 300 NS ns.sub",
	     "sub 300 DS 1 8 2 " H32, "ns.sub 300 A 192.0.2.2", "ns.sub 300 AAAA 2001:db8::2",
	     "* 300 TXT wild", "old 300 DNAME new.example.net.", "@ 300 CAA 0 issue x.org",
	     "nomail 300 MX 0 ."),
	  0, NULL },
	{ "no apex NS",
	  ZL("@ 3600 SOA ns1 hostmaster 1 3600 600 604800 300", "www 300 A 192.0.2.1"), ERR_INVALID,
	  "at least one NS" },
	{ "NS only below the apex", ZL("sub 300 NS ns.example.net."), ERR_INVALID,
	  "at least one NS" },
	{ "CNAME and A", ZL(BASE, "www 300 CNAME other.example.net.", "www 300 A 192.0.2.1"),
	  ERR_INVALID, "must be alone" },
	{ "CNAME and TXT", ZL(BASE, "www 300 TXT x", "www 300 CNAME other.example.net."),
	  ERR_INVALID, "must be alone" },
	{ "CNAME at apex", ZL(BASE, "@ 300 CNAME other.example.net."), ERR_INVALID, "zone apex" },
	{ "two CNAMEs", ZL(BASE, "www 300 CNAME a.example.net.", "www 300 CNAME b.example.net."),
	  ERR_INVALID, "only one CNAME" },
	{ "duplicate AAAA in other spelling",
	  ZL(BASE, "www 300 AAAA 2001:db8::1", "www 300 AAAA 2001:0db8:0::1"), ERR_INVALID,
	  "duplicate record '2001:db8::1'" },
	{ "duplicate A", ZL(BASE, "www 300 A 192.0.2.1", "www 300 A 192.0.2.1"), ERR_INVALID,
	  "duplicate" },
	{ "duplicate MX in other case",
	  ZL(BASE, "@ 300 MX 10 Mail.Example.NET.", "@ 300 MX 10 mail.example.net."), ERR_INVALID,
	  "duplicate" },
	{ "TXT differing in case only", ZL(BASE, "www 300 TXT \"A\"", "www 300 TXT \"a\""), 0,
	  NULL },
	{ "same data, other owner", ZL(BASE, "a 300 A 192.0.2.1", "b 300 A 192.0.2.1"), 0, NULL },
	{ "two TTLs in one RRset", ZL(BASE, "www 300 A 192.0.2.1", "www 600 A 192.0.2.2"),
	  ERR_INVALID, "one TTL" },
	{ "two TTLs at the apex NS", ZL(BASE, "@ 60 NS ns3.example.net."), ERR_INVALID, "one TTL" },
	{ "SOA off the apex", ZL(BASE, "www 300 SOA ns1 hostmaster 1 2 3 4 5"), ERR_INVALID,
	  "only allowed at the zone apex" },
	{ "two SOAs", ZL(BASE, "@ 3600 SOA ns1 hostmaster 2 3600 600 604800 300"), ERR_INVALID,
	  "only one SOA" },
	{ "no SOA", ZL("@ 3600 NS ns1.example.net."), 0, NULL },
	{ "MX to alias", ZL(BASE, "@ 300 MX 10 mail", "mail 300 CNAME www", "www 300 A 192.0.2.1"),
	  ERR_INVALID, "'example.com.' MX: target 'mail.example.com.' is an alias (CNAME)" },
	{ "NS to alias", ZL(BASE, "sub 300 NS nsalias", "nsalias 300 CNAME ns1"), ERR_INVALID,
	  "is an alias" },
	{ "SRV to alias", ZL(BASE, "_x._tcp 300 SRV 0 0 1 srv", "srv 300 CNAME www"), ERR_INVALID,
	  "RFC 2782" },
	{ "MX to an outside name", ZL(BASE, "@ 300 MX 10 mail.example.net."), 0, NULL },
	{ "CNAME to itself", ZL(BASE, "loop 300 CNAME loop"), ERR_INVALID, "points to itself" },
	{ "CNAME to itself, absolute", ZL(BASE, "loop 300 CNAME LOOP.example.com."), ERR_INVALID,
	  "points to itself" },
	{ "CNAME 2-cycle", ZL(BASE, "a 300 CNAME b", "b 300 CNAME a"), ERR_INVALID, "loop" },
	{ "CNAME 3-cycle", ZL(BASE, "a 300 CNAME b", "b 300 CNAME c", "c 300 CNAME a"), ERR_INVALID,
	  "loop" },
	{ "CNAME into a cycle", ZL(BASE, "a 300 CNAME b", "b 300 CNAME c", "c 300 CNAME b"),
	  ERR_INVALID, "loop" },
	{ "CNAME chain of 16",
	  ZL(BASE, "c1 1 CNAME c2", "c2 1 CNAME c3", "c3 1 CNAME c4", "c4 1 CNAME c5",
	     "c5 1 CNAME c6", "c6 1 CNAME c7", "c7 1 CNAME c8", "c8 1 CNAME c9", "c9 1 CNAME c10",
	     "c10 1 CNAME c11", "c11 1 CNAME c12", "c12 1 CNAME c13", "c13 1 CNAME c14",
	     "c14 1 CNAME c15", "c15 1 CNAME c16", "c16 1 CNAME www", "www 1 A 192.0.2.1"),
	  0, NULL },
	{ "CNAME chain of 17",
	  ZL(BASE, "c1 1 CNAME c2", "c2 1 CNAME c3", "c3 1 CNAME c4", "c4 1 CNAME c5",
	     "c5 1 CNAME c6", "c6 1 CNAME c7", "c7 1 CNAME c8", "c8 1 CNAME c9", "c9 1 CNAME c10",
	     "c10 1 CNAME c11", "c11 1 CNAME c12", "c12 1 CNAME c13", "c13 1 CNAME c14",
	     "c14 1 CNAME c15", "c15 1 CNAME c16", "c16 1 CNAME c17", "c17 1 CNAME www",
	     "www 1 A 192.0.2.1"),
	  ERR_INVALID, "longer than 16" },
	{ "wildcard NS", ZL(BASE, "* 300 NS ns.example.net."), ERR_INVALID, "wildcard" },
	{ "wildcard DNAME", ZL(BASE, "*.dev 300 DNAME x.example.net."), ERR_INVALID, "wildcard" },
	{ "wildcard A and MX", ZL(BASE, "* 300 A 192.0.2.1", "* 300 MX 10 mx.example.net."), 0,
	  NULL },
	{ "DS at apex", ZL(BASE, "@ 300 DS 1 8 2 " H32), ERR_INVALID, "zone apex" },
	{ "DS without NS", ZL(BASE, "sub 300 DS 1 8 2 " H32), ERR_INVALID,
	  "only allowed at a delegation" },
	{ "TXT below a delegation", ZL(BASE, "sub 300 NS ns.example.net.", "x.sub 300 TXT hi"),
	  ERR_INVALID, "only glue" },
	{ "NS below a delegation",
	  ZL(BASE, "sub 300 NS ns.example.net.", "deeper.sub 300 NS ns.example.net."), ERR_INVALID,
	  "only glue" },
	{ "A at a delegation", ZL(BASE, "sub 300 NS ns.example.net.", "sub 300 A 192.0.2.1"),
	  ERR_INVALID, "only NS and DS" },
	{ "DNAME at a delegation",
	  ZL(BASE, "sub 300 NS ns.example.net.", "sub 300 DNAME x.example.net."), ERR_INVALID,
	  "only NS and DS" },
	{ "glue below a delegation",
	  ZL(BASE, "sub 300 NS ns.sub", "ns.sub 300 A 192.0.2.9", "a.b.sub 300 AAAA 2001:db8::9",
	     "subway 300 TXT \"not below\""),
	  0, NULL },
	{ "data below a DNAME", ZL(BASE, "old 300 DNAME new.example.net.", "x.old 300 A 192.0.2.1"),
	  ERR_INVALID, "below the DNAME" },
	{ "DNAME next to CNAME",
	  ZL(BASE, "old 300 DNAME new.example.net.", "old 300 CNAME y.example.net."), ERR_INVALID,
	  "must be alone" },
	{ "DNAME at the apex with nothing below",
	  ZL("@ 3600 NS ns1.example.net.", "@ 300 DNAME example.net."), 0, NULL },
	{ "DNAME at the apex with data below",
	  ZL("@ 3600 NS ns1.example.net.", "@ 300 DNAME example.net.", "www 300 A 192.0.2.1"),
	  ERR_INVALID, "below the DNAME" },
	/* RFC 6672 section 2.4: DNAME naming loops. */
	{ "DNAME to itself", ZL(BASE, "x 300 DNAME x.example.com."), ERR_INVALID,
	  "'x.example.com.' DNAME: points to itself" },
	{ "DNAME to itself, relative", ZL(BASE, "x 300 DNAME x"), ERR_INVALID, "points to itself" },
	{ "DNAME into its own subtree", ZL(BASE, "x 300 DNAME a.x.example.com."), ERR_INVALID,
	  "target 'a.x.example.com.' is below the owner" },
	{ "DNAME at the apex into the zone",
	  ZL("@ 3600 NS ns1.example.net.", "@ 300 DNAME sub.example.com."), ERR_INVALID,
	  "below the owner" },
	{ "DNAME 2-cycle", ZL(BASE, "x 300 DNAME y.example.com.", "y 300 DNAME x.example.com."),
	  ERR_INVALID, "loops back to 'x.example.com.'" },
	{ "DNAME cycle through a subtree",
	  ZL(BASE, "x 300 DNAME a.y.example.com.", "y 300 DNAME b.x.example.com."), ERR_INVALID,
	  "loops back" },
	{ "DNAME to the parent", ZL(BASE, "x 300 DNAME example.com."), 0, NULL },
	{ "DNAME to a sibling", ZL(BASE, "x 300 DNAME xy.example.com."), 0, NULL },
	{ "DNAME to a name ending like the owner", ZL(BASE, "x 300 DNAME ax.example.com."), 0,
	  NULL },
	{ "DNAME chain without loop",
	  ZL(BASE, "x 300 DNAME y.example.com.", "y 300 DNAME z.example.net."), 0, NULL },
	{ "DNAME to another zone's same name", ZL(BASE, "x 300 DNAME x.example.net."), 0, NULL },
	{ "null MX alone", ZL(BASE, "@ 300 MX 0 ."), 0, NULL },
	{ "null MX with another MX", ZL(BASE, "@ 300 MX 0 .", "@ 300 MX 10 mail.example.net."),
	  ERR_INVALID, "null MX" },
};

static void test_zone_check_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(zone_check_cases) / sizeof(zone_check_cases[0]); i++) {
		const struct zone_case *c = &zone_check_cases[i];
		struct errmsg err = { { 0 } };
		struct zone_data z;
		int r;

		zone_load(&z, ORIGIN, c->lines);
		r = zone_check(&z, NULL, &err);
		if (r != c->code) {
			char msg[sizeof(err.text)];

			memcpy(msg, err.text, sizeof(msg));
			zone_data_clear(&z);
			fail_msg("zone case '%s': r=%d, want %d (%s)", c->name, r, c->code, msg);
		}
		if (c->code != 0) {
			char row[120];

			snprintf(row, sizeof(row), "zone case '%s'", c->name);
			check_message(err.text, c->msg, row);
		}
		zone_data_clear(&z);
	}
}

static void test_zone_caps(void **state)
{
	const struct zone_limits lim = { .max_rrset = 3, .max_records = 8 };
	struct errmsg err;
	struct zone_data z;

	(void)state;
	zone_load(&z, ORIGIN,
		  ZL(BASE, "www 300 A 192.0.2.1", "www 300 A 192.0.2.2", "www 300 A 192.0.2.3"));
	assert_int_equal(zone_check(&z, &lim, &err), 0);
	zone_data_clear(&z);

	zone_load(&z, ORIGIN,
		  ZL(BASE, "www 300 A 192.0.2.1", "www 300 A 192.0.2.2", "www 300 A 192.0.2.3",
		     "www 300 A 192.0.2.4"));
	assert_int_equal(zone_check(&z, &lim, &err), ERR_TOO_LARGE);
	check_message(err.text, "per RRset", "rrset cap");
	zone_data_clear(&z);

	zone_load(&z, ORIGIN,
		  ZL(BASE, "a 300 A 192.0.2.1", "b 300 A 192.0.2.2", "c 300 A 192.0.2.3",
		     "d 300 A 192.0.2.4", "e 300 A 192.0.2.5"));
	assert_int_equal(zone_check(&z, &lim, &err), ERR_TOO_LARGE);
	check_message(err.text, "9 records", "zone cap");
	zone_data_clear(&z);
}

/* Records of another zone are refused as a whole. */
static void test_zone_outside_owner(void **state)
{
	struct errmsg err;
	struct zone_data z, other;

	(void)state;
	zone_load(&z, ORIGIN, ZL(BASE));
	zone_load(&other, "example.org.", ZL("www 300 A 192.0.2.1"));
	assert_int_equal(zone_data_take_rr(&z, &other.rrs[0]), 0);
	assert_int_equal(zone_check(&z, NULL, &err), ERR_INVALID);
	check_message(err.text, "'www.example.org.' A: owner is not inside zone", "outside");
	zone_data_clear(&other);
	zone_data_clear(&z);
}

/* Canonical order (RFC 4034 section 6.1), then type, then RDATA wire. */
static void test_zone_sort(void **state)
{
	static const char *const want[][2] = {
		{ "example.com.", "NS" }, /* ns1.example.com. */
		{ "example.com.", "NS" }, /* ns2.example.net. */
		{ "example.com.", "SOA" },	    { "example.com.", "MX" },
		{ "*.example.com.", "A" },	    { "a.example.com.", "A" },
		{ "yljkjljk.a.example.com.", "A" }, { "z.a.example.com.", "A" },
		{ "ns1.example.com.", "A" },	    { "sub.example.com.", "NS" },
		{ "a.sub.example.com.", "A" },	    { "sub-x.example.com.", "A" },
		{ "zz.example.com.", "A" },	    { "zz.example.com.", "A" },
	};
	struct errmsg err;
	struct zone_data z;

	(void)state;
	zone_load(&z, ORIGIN,
		  ZL("zz 300 A 192.0.2.2", "zz 300 A 192.0.2.1", "sub-x 300 A 192.0.2.1",
		     "a.sub 300 A 192.0.2.1", "sub 300 NS a.sub", "z.a 300 A 192.0.2.1",
		     "yljkjljk.a 300 A 192.0.2.1", "a 300 A 192.0.2.1", "* 300 A 192.0.2.1",
		     "@ 300 MX 10 mx.example.net.", BASE));
	assert_int_equal(zone_check(&z, NULL, &err), 0);
	assert_int_equal(z.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < z.n; i++) {
		if (strcmp(z.rrs[i].owner, want[i][0]) != 0 ||
		    strcmp(rr_type_name(z.rrs[i].type), want[i][1]) != 0)
			fail_msg("position %zu: '%s' %s, want '%s' %s", i, z.rrs[i].owner,
				 rr_type_name(z.rrs[i].type), want[i][0], want[i][1]);
	}
	assert_string_equal(z.rrs[0].content, "ns1.example.com.");
	assert_string_equal(z.rrs[1].content, "ns2.example.net.");
	assert_string_equal(z.rrs[12].content, "192.0.2.1");
	assert_string_equal(z.rrs[13].content, "192.0.2.2");
	zone_data_clear(&z);
}

static void test_zone_is_auth(void **state)
{
	struct errmsg err;
	struct zone_data z;
	size_t checked = 0;

	(void)state;
	zone_load(&z, ORIGIN,
		  ZL(BASE, "www 300 A 192.0.2.1", "sub 300 NS ns.sub", "sub 300 NS ns.example.net.",
		     "sub 300 DS 1 8 2 " H32, "ns.sub 300 A 192.0.2.2",
		     "a.b.sub 300 AAAA 2001:db8::2", "subway 300 A 192.0.2.3"));
	assert_int_equal(zone_check(&z, NULL, &err), 0);
	for (size_t i = 0; i < z.n; i++) {
		const struct rr *r = &z.rrs[i];
		bool want = true;

		if (strcmp(r->owner, "sub.example.com.") == 0 && r->type == 2)
			want = false; /* delegation NS */
		if (strcmp(r->owner, "ns.sub.example.com.") == 0 ||
		    strcmp(r->owner, "a.b.sub.example.com.") == 0)
			want = false; /* glue */
		if (zone_rr_is_auth(&z, i) != want)
			fail_msg("'%s' %s: auth %d", r->owner, rr_type_name(r->type), !want);
		checked++;
	}
	assert_int_equal(checked, 11);
	assert_false(zone_rr_is_auth(&z, z.n));
	zone_data_clear(&z);
}

static void test_zone_data(void **state)
{
	struct zone_data z;
	struct errmsg err;
	struct rr rr;

	(void)state;
	zone_data_init(&z, ORIGIN);
	assert_string_equal(z.origin, ORIGIN);
	assert_int_equal(z.n, 0);
	for (int i = 0; i < 100; i++) {
		char text[32];

		snprintf(text, sizeof(text), "192.0.2.%d", i);
		assert_int_equal(rr_parse("www.example.com.", 1, 60, text, ORIGIN, &rr, &err), 0);
		assert_int_equal(zone_data_take_rr(&z, &rr), 0);
		assert_null(rr.content);
		assert_null(rr.wire);
	}
	assert_int_equal(z.n, 100);
	assert_true(z.alloc >= 100);
	zone_data_clear(&z);
	assert_int_equal(z.n, 0);
	assert_null(z.rrs);
	zone_data_clear(&z);
}

/* The agent's hot path: 10,000 zones of 10 records. Timed only on request
 * (YUMNA_BENCH=1), so that valgrind and sanitizer runs stay quick. */
static void test_bench(void **state)
{
	unsigned zones = getenv("YUMNA_BENCH") != NULL ? 10000 : 20;
	struct timespec t0, t1;
	double secs;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < zones; i++) {
		static const char *const recs[][3] = {
			{ "@", "SOA", "ns1 hostmaster 2024010101 3600 600 604800 300" },
			{ "@", "NS", "ns1" },
			{ "@", "NS", "ns2.example.net." },
			{ "@", "MX", "10 mail" },
			{ "@", "TXT", "\"v=spf1 mx -all\"" },
			{ "ns1", "A", "192.0.2.53" },
			{ "mail", "A", "192.0.2.25" },
			{ "www", "A", "192.0.2.80" },
			{ "www", "AAAA", "2001:db8::80" },
			{ "ftp", "CNAME", "www" },
		};
		char zone[64], owner[DNAME_TEXT_MAX];
		struct errmsg err;
		struct zone_data z;

		snprintf(zone, sizeof(zone), "zone%u.example.", i);
		zone_data_init(&z, zone);
		for (size_t k = 0; k < sizeof(recs) / sizeof(recs[0]); k++) {
			uint16_t type;
			struct rr rr;

			assert_int_equal(dname_owner_normalize(recs[k][0], zone, owner, &err), 0);
			assert_int_equal(rr_type_parse(recs[k][1], &type, &err), 0);
			assert_int_equal(rr_parse(owner, type, 3600, recs[k][2], zone, &rr, &err),
					 0);
			assert_int_equal(zone_data_take_rr(&z, &rr), 0);
		}
		assert_int_equal(zone_check(&z, NULL, &err), 0);
		zone_data_clear(&z);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (getenv("YUMNA_BENCH") != NULL)
		print_message("bench: %u zones, %u records in %.3f s\n", zones, zones * 10, secs);
}

static int group_teardown(void **state)
{
	(void)state;
	dns_thread_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_name_table),
		cmocka_unit_test(test_owner_table),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_to_unicode),
		cmocka_unit_test(test_is_at_or_below),
		cmocka_unit_test(test_rr_table),
		cmocka_unit_test(test_rr_table_reversed),
		cmocka_unit_test(test_rr_messages),
		cmocka_unit_test(test_rr_type_names),
		cmocka_unit_test(test_rr_bad_arguments),
		cmocka_unit_test(test_rr_lua_and_unlisted_types),
		cmocka_unit_test(test_txt_limits),
		cmocka_unit_test(test_rr_wire),
		cmocka_unit_test(test_plain_text),
		cmocka_unit_test(test_plain_long_txt),
		cmocka_unit_test(test_rr_threads),
		cmocka_unit_test(test_zone_check_table),
		cmocka_unit_test(test_zone_caps),
		cmocka_unit_test(test_zone_outside_owner),
		cmocka_unit_test(test_zone_sort),
		cmocka_unit_test(test_zone_is_auth),
		cmocka_unit_test(test_zone_data),
		cmocka_unit_test(test_bench),
	};

	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
