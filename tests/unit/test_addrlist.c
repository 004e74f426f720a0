/* Unit tests for src/lib/base/addrlist: parsing allow-lists and matching
 * peer addresses against them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "base/addrlist.h"
#include "base/err.h"

static bool match(const struct addrlist *l, const char *addr)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, addr, &in4.sin_addr) == 1)
		return addrlist_match(l, (struct sockaddr *)&in4, sizeof(in4));
	assert_int_equal(inet_pton(AF_INET6, addr, &in6.sin6_addr), 1);
	return addrlist_match(l, (struct sockaddr *)&in6, sizeof(in6));
}

static void parse_ok(const char *text, struct addrlist *l)
{
	const char *msg = NULL;
	size_t at, len;
	int r = addrlist_parse(text, l, &msg, &at, &len);
	if (r != 0)
		fail_msg("'%s': %s", text, msg);
}

static void test_match(void **state)
{
	struct addrlist l;

	parse_ok("127.0.0.1, ::1 192.0.2.0/24,2001:db8::/32\t10.0.0.0/8", &l);
	assert_int_equal(l.n, 5);
	assert_true(match(&l, "127.0.0.1"));
	assert_false(match(&l, "127.0.0.2"));
	assert_true(match(&l, "192.0.2.0"));
	assert_true(match(&l, "192.0.2.255"));
	assert_false(match(&l, "192.0.3.0"));
	assert_true(match(&l, "10.255.0.1"));
	assert_false(match(&l, "11.0.0.1"));
	assert_true(match(&l, "::1"));
	assert_false(match(&l, "::2"));
	assert_true(match(&l, "2001:db8:ffff::1"));
	assert_false(match(&l, "2001:db9::1"));
	/* A v4-mapped peer (dual-stack socket) matches the IPv4 entries. */
	assert_true(match(&l, "::ffff:192.0.2.7"));
	assert_false(match(&l, "::ffff:192.0.3.7"));
}

static void test_odd_prefixes(void **state)
{
	struct addrlist l;

	parse_ok("0.0.0.0/0", &l);
	assert_true(match(&l, "203.0.113.9"));
	assert_false(match(&l, "2001:db8::1"));
	parse_ok("::/0", &l);
	assert_true(match(&l, "2001:db8::1"));
	parse_ok("192.0.2.128/25, 198.51.100.7/32, 2001:db8:8000::/33", &l);
	assert_true(match(&l, "192.0.2.200"));
	assert_false(match(&l, "192.0.2.127"));
	assert_true(match(&l, "198.51.100.7"));
	assert_false(match(&l, "198.51.100.6"));
	assert_true(match(&l, "2001:db8:8000::1"));
	assert_false(match(&l, "2001:db8:7fff::1"));
}

static void test_refused(void **state)
{
	static const struct {
		const char *text;
		const char *entry; /* NULL: the list as a whole */
		const char *msg;
	} cases[] = {
		{ "127.0.0.1, 10.0.0.0/33", "10.0.0.0/33", "has a prefix length over 32" },
		{ "2001:db8::/129", "2001:db8::/129", "has a prefix length over 128" },
		{ "192.0.2.1/24", "192.0.2.1/24", "has bits set past its prefix length" },
		{ "2001:db8::1/64", "2001:db8::1/64", "has bits set past its prefix length" },
		{ "10.0.0.0/", "10.0.0.0/", "has a bad prefix length" },
		{ "10.0.0.0/08", "10.0.0.0/08", "has a bad prefix length" },
		{ "10.0.0.0/+8", "10.0.0.0/+8", "has a bad prefix length" },
		{ "10.0.0.0/8/8", "10.0.0.0/8/8", "has a bad prefix length" },
		{ "example.com", "example.com", "is not an IP address or prefix" },
		{ "fe80::1%eth0", "fe80::1%eth0", "is not an IP address or prefix" },
		{ "10.1", "10.1", "is not an IP address or prefix" },
		{ "", NULL, "has no address" },
		{ " , ,", NULL, "has no address" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addrlist l = { .n = 99 };
		const char *msg = NULL;
		size_t at = 99, len = 99;
		assert_int_equal(addrlist_parse(cases[i].text, &l, &msg, &at, &len), ERR_MALFORMED);
		assert_int_equal(l.n, 99); /* untouched */
		assert_string_equal(msg, cases[i].msg);
		if (cases[i].entry == NULL) {
			assert_int_equal(len, 0);
			continue;
		}
		assert_int_equal(len, strlen(cases[i].entry));
		assert_memory_equal(cases[i].text + at, cases[i].entry, len);
	}
}

static void test_too_many(void **state)
{
	char text[ADDRLIST_MAX * 16 + 32] = "";
	size_t n = 0;
	struct addrlist l;
	const char *msg;
	size_t at, len;

	for (unsigned i = 0; i < ADDRLIST_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "10.0.%u.1,", i);
	assert_int_equal(addrlist_parse(text, &l, &msg, &at, &len), 0);
	assert_int_equal(l.n, ADDRLIST_MAX);
	snprintf(text + n, sizeof(text) - n, "10.1.0.1");
	assert_int_equal(addrlist_parse(text, &l, &msg, &at, &len), ERR_MALFORMED);
	assert_string_equal(msg, "has too many entries (at most 64)");
}

static void test_other_families(void **state)
{
	struct addrlist l;
	struct sockaddr sa = { .sa_family = AF_UNIX };

	parse_ok("0.0.0.0/0, ::/0", &l);
	assert_false(addrlist_match(&l, &sa, sizeof(sa)));
	assert_false(addrlist_match(&l, NULL, 0));
}

/* A socket address of 'addr' (IPv4 or IPv6) and 'port'. */
static struct sockaddr_storage sa_of(const char *addr, unsigned port)
{
	struct sockaddr_storage sa = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
	}
	return sa;
}

/* The same address with or without its port; text for the log. */
static void test_equal_and_text(void **state)
{
	(void)state;
	struct sockaddr_storage a = sa_of("192.0.2.1", 53), b = sa_of("192.0.2.1", 5300),
				c = sa_of("192.0.2.2", 53), d = sa_of("2001:db8::1", 53),
				e = sa_of("2001:db8::1", 54);
	char text[64];

	assert_true(addr_equal(&a, &b, false));
	assert_false(addr_equal(&a, &b, true));
	assert_true(addr_equal(&a, &a, true));
	assert_false(addr_equal(&a, &c, false));
	assert_false(addr_equal(&a, &d, false));
	assert_true(addr_equal(&d, &e, false));
	assert_false(addr_equal(&d, &e, true));
	addr_text(&b, text, sizeof(text));
	assert_string_equal(text, "192.0.2.1#5300");
	addr_text(&d, text, sizeof(text));
	assert_string_equal(text, "2001:db8::1#53");
}

/* One client for a per-client limit: an IPv4 address (mapped or not), or an
 * IPv6 /64. */
static void test_same_client(void **state)
{
	(void)state;
	struct sockaddr_storage v4 = sa_of("192.0.2.1", 1), v4b = sa_of("192.0.2.2", 1),
				mapped = sa_of("::ffff:192.0.2.1", 2),
				mapped_b = sa_of("::ffff:192.0.2.2", 2),
				a = sa_of("2001:db8:0:1::1", 1),
				a2 = sa_of("2001:db8:0:1:ffff::9", 3),
				b = sa_of("2001:db8:0:2::1", 1), zero = sa_of("::1", 1);

	assert_true(addr_same_client(&v4, &v4));
	assert_false(addr_same_client(&v4, &v4b));
	assert_true(addr_same_client(&v4, &mapped));
	assert_true(addr_same_client(&mapped, &v4));
	/* mapped addresses share their first 64 bits, not their client */
	assert_false(addr_same_client(&mapped, &mapped_b));
	assert_false(addr_same_client(&mapped, &zero));
	assert_true(addr_same_client(&a, &a2));
	assert_false(addr_same_client(&a, &b));
	assert_false(addr_same_client(&a, &v4));
}

/* A prefix within another: same family, as long or longer, same bits. */
static void test_prefix_within(void **state)
{
	(void)state;
	struct addrlist l;
	parse_ok("192.0.2.0/24, 192.0.2.128/25, 192.0.3.0/24, 192.0.2.7, ::ffff:192.0.2.0/120, "
		 "2001:db8::/32, 2001:db8:1::/48, 0.0.0.0/0",
		 &l);
	const struct addr_prefix *v24 = &l.v[0], *v25 = &l.v[1], *other = &l.v[2], *one = &l.v[3],
				 *mapped = &l.v[4], *v6 = &l.v[5], *v6b = &l.v[6], *all = &l.v[7];
	assert_true(addr_prefix_within(v25, v24));
	assert_true(addr_prefix_within(one, v24));
	assert_true(addr_prefix_within(v24, v24));
	assert_true(addr_prefix_within(v24, all));
	assert_false(addr_prefix_within(v24, v25));
	assert_false(addr_prefix_within(other, v24));
	assert_false(addr_prefix_within(mapped, v24));
	assert_true(addr_prefix_within(v6b, v6));
	assert_false(addr_prefix_within(v6, v6b));
	assert_false(addr_prefix_within(v6, all));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),	       cmocka_unit_test(test_odd_prefixes),
		cmocka_unit_test(test_refused),	       cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_other_families), cmocka_unit_test(test_equal_and_text),
		cmocka_unit_test(test_same_client),    cmocka_unit_test(test_prefix_within),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
