/* Unit tests for the zone transfer client's pieces that need no primary
 * (src/whm/xfr.h): primaries as text, NOTIFY senders matched to them, and
 * the zone text a transfer's records make. The transfers themselves are
 * tested against real BIND and a fake primary
 * (tests/integration/test_secondary_zones.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "xfr.h"

static void test_primaries(void **state)
{
	struct xfr_primary p;
	struct errmsg err;

	(void)state;
	assert_int_equal(xfr_primary_parse("192.0.2.1", &p, &err), 0);
	assert_string_equal(p.text, "192.0.2.1:53");
	assert_int_equal(xfr_primary_parse("192.0.2.1:5300", &p, &err), 0);
	assert_string_equal(p.text, "192.0.2.1:5300");
	assert_int_equal(xfr_primary_parse("2001:db8::1", &p, &err), 0);
	assert_string_equal(p.text, "[2001:db8::1]:53");
	assert_int_equal(xfr_primary_parse("[2001:db8::1]:853", &p, &err), 0);
	assert_string_equal(p.text, "[2001:db8::1]:853");
	static const char *const bad[] = { "",
					   "ns1.example.com",
					   "192.0.2.1:0",
					   "192.0.2.1:65536",
					   "192.0.2.1:x",
					   "[2001:db8::1",
					   "[::1]x",
					   "300.1.1.1",
					   NULL };
	for (unsigned i = 0; bad[i] != NULL; i++) {
		err.text[0] = '\0';
		assert_int_equal(xfr_primary_parse(bad[i], &p, &err), ERR_INVALID);
		assert_true(err.text[0] != '\0');
	}
}

static void test_notify_sender_matches_by_address(void **state)
{
	struct xfr_primary p;
	struct errmsg err;
	struct sockaddr_storage from = { 0 };
	struct sockaddr_in *v4 = (struct sockaddr_in *)&from;

	(void)state;
	assert_int_equal(xfr_primary_parse("192.0.2.1:5300", &p, &err), 0);
	v4->sin_family = AF_INET;
	v4->sin_port = htons(40000); /* any source port */
	inet_pton(AF_INET, "192.0.2.1", &v4->sin_addr);
	assert_true(xfr_primary_matches(&p, &from));
	inet_pton(AF_INET, "192.0.2.2", &v4->sin_addr);
	assert_false(xfr_primary_matches(&p, &from));
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&from;
	memset(&from, 0, sizeof(from));
	v6->sin6_family = AF_INET6;
	/* a dual-stack listener sees the IPv4 primary as a mapped address */
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &v6->sin6_addr);
	assert_true(xfr_primary_matches(&p, &from));
	inet_pton(AF_INET6, "::ffff:192.0.2.2", &v6->sin6_addr);
	assert_false(xfr_primary_matches(&p, &from));
	inet_pton(AF_INET6, "2001:db8::c000:201", &v6->sin6_addr);
	assert_false(xfr_primary_matches(&p, &from));
}

static void test_zone_text(void **state)
{
	struct xfr_zone z = { 0 };
	struct buf out;
	uint8_t soa[] = { 3,  'n', 's', '1', 0, 1,  'h', 0, 0,	0,   0, 7, 0, 0,
			  14, 16,  0,	0,   2, 88, 0,	 1, 81, 128, 0, 0, 1, 44 };

	knot_dname_storage_t owner;

	(void)state;
	assert_non_null(knot_dname_from_str(owner, "example.com.", sizeof(owner)));
	z.soa = knot_rrset_new(owner, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, 300, NULL);
	assert_non_null(z.soa);
	assert_int_equal(knot_rrset_add_rdata(z.soa, soa, sizeof(soa), NULL), KNOT_EOK);
	z.rrs = json_pack("{s:i}", "www.example.com.\tA\t192.0.2.1", 60);
	assert_int_equal(xfr_zone_serial(&z), 7);
	buf_init(&out, 1 << 16);
	assert_int_equal(xfr_zone_text(&z, &out), 0);
	assert_non_null(strstr(out.data, "example.com. 300 IN SOA ns1. h. 7 3600 600 86400 300\n"));
	assert_non_null(strstr(out.data, "www.example.com. 60 IN A 192.0.2.1\n"));
	buf_free(&out);
	xfr_zone_clear(&z);
	assert_null(z.soa);
	xfr_zone_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primaries),
		cmocka_unit_test(test_notify_sender_matches_by_address),
		cmocka_unit_test(test_zone_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
