/* Unit tests for src/agent/dnsaddr.c: the node's DNS addresses, their
 * checks, the socket addresses made of them and the list PowerDNS gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "../../src/agent/dnsaddr.h"
#include "base/err.h"

static void parse_ok(const char *text, struct addrlist *l)
{
	char why[256] = "";
	if (dnsaddr_parse(text, l, why, sizeof(why)) != 0)
		fail_msg("'%s': %s", text, why);
}

static void refused(const char *text, const char *want)
{
	struct addrlist l;
	char why[256] = "";
	assert_int_equal(dnsaddr_parse(text, &l, why, sizeof(why)), ERR_MALFORMED);
	if (strstr(why, want) == NULL)
		fail_msg("'%s': '%s' does not say '%s'", text, why, want);
}

static void test_lists(void **state)
{
	struct addrlist l;
	char text[256];
	(void)state;

	parse_ok("0.0.0.0", &l);
	assert_int_equal(l.n, 1);
	parse_ok("0.0.0.0, ::", &l);
	assert_int_equal(dnsaddr_text(&l, text, sizeof(text)), 0);
	assert_string_equal(text, "0.0.0.0, ::");
	/* blanks or commas, written back in PowerDNS's form */
	parse_ok(" 192.0.2.1   2001:DB8::0:1,127.0.0.1 ", &l);
	assert_int_equal(dnsaddr_text(&l, text, sizeof(text)), 0);
	assert_string_equal(text, "192.0.2.1, 2001:db8::1, 127.0.0.1");
	assert_int_equal(dnsaddr_text(&l, text, 12), -ENAMETOOLONG);
	/* a single address written as a /32 or /128 is that address */
	parse_ok("192.0.2.1/32, ::1/128", &l);
	assert_int_equal(l.n, 2);
	parse_ok("127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 ::1 ::2 ::3 ::4", &l);
	assert_int_equal(l.n, DNSADDR_MAX);
}

static void test_refused(void **state)
{
	(void)state;
	refused("", "no address");
	refused("ns1.example.", "not an IP address");
	refused("192.0.2.0/24", "'192.0.2.0/24' is a network");
	refused("2001:db8::/64", "'2001:db8::/64' is a network");
	refused("::1, 0:0:0::1", "'::1' appears twice");
	refused("0.0.0.0, 127.0.0.1", "'0.0.0.0' covers '127.0.0.1'");
	refused("127.0.0.1, ::1, 0.0.0.0", "'0.0.0.0' covers '127.0.0.1'");
	refused("2001:db8::1 ::", "'::' covers '2001:db8::1'");
	refused("127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 ::1 ::2 ::3 ::4 ::5", "more than 8");
}

static void test_local_and_families(void **state)
{
	struct addrlist l;
	struct sockaddr_storage sa;
	socklen_t len;
	char text[INET6_ADDRSTRLEN];
	(void)state;

	/* the first loopback or wildcard entry, else the first */
	parse_ok("192.0.2.1, ::, 127.0.0.1", &l);
	assert_ptr_equal(dnsaddr_local(&l), &l.v[1]);
	dnsaddr_sockaddr(dnsaddr_local(&l), 53, true, &sa, &len);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&sa;
	assert_true(IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr));
	assert_int_equal(ntohs(v6->sin6_port), 53);
	/* to bind: the wildcard stays */
	dnsaddr_sockaddr(dnsaddr_local(&l), 53, false, &sa, &len);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr));
	parse_ok("192.0.2.1, 2001:db8::1", &l);
	assert_ptr_equal(dnsaddr_local(&l), &l.v[0]);
	dnsaddr_sockaddr(dnsaddr_local(&l), 5300, true, &sa, &len);
	struct sockaddr_in *v4 = (struct sockaddr_in *)&sa;
	assert_int_equal(len, sizeof(*v4));
	assert_string_equal(inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text)), "192.0.2.1");
	assert_int_equal(ntohs(v4->sin_port), 5300);

	assert_false(dnsaddr_is_wildcard(&l.v[0]));
	parse_ok("0.0.0.0", &l);
	assert_true(dnsaddr_is_wildcard(&l.v[0]));
}

static void test_notify_source(void **state)
{
	struct addrlist l;
	(void)state;

	/* a packet from loopback reaches no other host: the public address */
	parse_ok("127.0.0.1, ::1, 192.0.2.10, 2001:db8::10", &l);
	assert_ptr_equal(dnsaddr_notify_source(&l, AF_INET), &l.v[2]);
	assert_ptr_equal(dnsaddr_notify_source(&l, AF_INET6), &l.v[3]);
	/* loopback only (a test or a demo): loopback */
	parse_ok("127.0.0.2, ::1", &l);
	assert_ptr_equal(dnsaddr_notify_source(&l, AF_INET), &l.v[0]);
	assert_ptr_equal(dnsaddr_notify_source(&l, AF_INET6), &l.v[1]);
	/* a wildcard, or no address of the family: the system chooses */
	parse_ok("0.0.0.0", &l);
	assert_null(dnsaddr_notify_source(&l, AF_INET));
	assert_null(dnsaddr_notify_source(&l, AF_INET6));
	parse_ok("::, 192.0.2.1", &l);
	assert_null(dnsaddr_notify_source(&l, AF_INET6));
	assert_ptr_equal(dnsaddr_notify_source(&l, AF_INET), &l.v[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_local_and_families),
		cmocka_unit_test(test_notify_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
