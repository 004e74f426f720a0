/* Where a relayed transfer answer ends (dns/xfrend.h), on messages built
 * with libknot: AXFR, an AXFR-style IXFR answer (PowerDNS's), an
 * incremental one, an up-to-date IXFR, an SOA question, a refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dns/xfrend.h"

static const knot_dname_t ZONE[] = "\7example\0";

/* An RRset whose owner and rdata the packet it is put into frees. */
static knot_rrset_t rrset(uint16_t type, const uint8_t *rd, uint16_t len)
{
	knot_rrset_t rr;
	knot_rrset_init(&rr, knot_dname_copy(ZONE, NULL), type, KNOT_CLASS_IN, 3600);
	assert_int_equal(knot_rrset_add_rdata(&rr, rd, len, NULL), KNOT_EOK);
	return rr;
}

static knot_rrset_t soa(uint32_t serial)
{
	uint8_t rd[2 + 20] = { 0 }; /* root MNAME and RNAME, then five numbers */
	knot_wire_write_u32(rd + 2, serial);
	return rrset(KNOT_RRTYPE_SOA, rd, sizeof(rd));
}

static knot_rrset_t a_record(uint8_t last)
{
	uint8_t rd[4] = { 192, 0, 2, last };
	return rrset(KNOT_RRTYPE_A, rd, sizeof(rd));
}

/* A question of 'qtype', with an SOA of 'have' in authority when not 0. */
static knot_pkt_t *question(uint16_t qtype, uint32_t have)
{
	knot_pkt_t *q = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	assert_int_equal(knot_pkt_put_question(q, ZONE, KNOT_CLASS_IN, qtype), KNOT_EOK);
	if (have != 0) {
		assert_int_equal(knot_pkt_begin(q, KNOT_AUTHORITY), KNOT_EOK);
		knot_rrset_t rr = soa(have);
		assert_int_equal(knot_pkt_put(q, 0, &rr, KNOT_PF_FREE), KNOT_EOK);
	}
	return q;
}

/* One answer message of the records 'rrs' ('n' of them), freed after. */
static bool message(struct xfr_end *e, knot_rrset_t *rrs, size_t n, int rcode)
{
	knot_pkt_t *m = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	assert_int_equal(knot_pkt_put_question(m, ZONE, KNOT_CLASS_IN, e->qtype), KNOT_EOK);
	knot_wire_set_rcode(m->wire, (short)rcode);
	assert_int_equal(knot_pkt_begin(m, KNOT_ANSWER), KNOT_EOK);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(knot_pkt_put(m, 0, &rrs[i], KNOT_PF_FREE), KNOT_EOK);
	xfr_end_message(e, m);
	knot_pkt_free(m);
	return e->done;
}

static void test_axfr(void **state)
{
	struct xfr_end e;
	(void)state;
	knot_pkt_t *q = question(KNOT_RRTYPE_AXFR, 0);
	xfr_end_init(&e, q);
	/* PowerDNS: the SOA in a message of its own, the records, the SOA */
	assert_false(message(&e, (knot_rrset_t[]){ soa(7) }, 1, KNOT_RCODE_NOERROR));
	assert_false(
	    message(&e, (knot_rrset_t[]){ a_record(1), a_record(2) }, 2, KNOT_RCODE_NOERROR));
	assert_true(message(&e, (knot_rrset_t[]){ soa(7) }, 1, KNOT_RCODE_NOERROR));
	/* one message: SOA, record, SOA */
	xfr_end_init(&e, q);
	assert_true(
	    message(&e, (knot_rrset_t[]){ soa(9), a_record(1), soa(9) }, 3, KNOT_RCODE_NOERROR));
	/* a refusal, an answer that is not a transfer */
	xfr_end_init(&e, q);
	assert_true(message(&e, NULL, 0, KNOT_RCODE_REFUSED));
	xfr_end_init(&e, q);
	assert_true(message(&e, (knot_rrset_t[]){ a_record(1) }, 1, KNOT_RCODE_NOERROR));
	knot_pkt_free(q);
}

static void test_ixfr(void **state)
{
	struct xfr_end e;
	(void)state;
	/* up to date: the SOA alone, not newer than the question's */
	knot_pkt_t *q = question(KNOT_RRTYPE_IXFR, 5);
	xfr_end_init(&e, q);
	assert_true(message(&e, (knot_rrset_t[]){ soa(5) }, 1, KNOT_RCODE_NOERROR));
	/* newer: an AXFR-style answer whose first message is the SOA alone */
	xfr_end_init(&e, q);
	assert_false(message(&e, (knot_rrset_t[]){ soa(6) }, 1, KNOT_RCODE_NOERROR));
	assert_false(message(&e, (knot_rrset_t[]){ a_record(1) }, 1, KNOT_RCODE_NOERROR));
	assert_true(message(&e, (knot_rrset_t[]){ soa(6) }, 1, KNOT_RCODE_NOERROR));
	/* incremental: SOA 7, SOA 5, deleted, SOA 6, added, SOA 6, ..., SOA 7, added, SOA 7 */
	xfr_end_init(&e, q);
	assert_false(message(&e, (knot_rrset_t[]){ soa(7), soa(5), a_record(1), soa(6) }, 4,
			     KNOT_RCODE_NOERROR));
	assert_false(message(&e, (knot_rrset_t[]){ a_record(2), soa(6), a_record(2), soa(7) }, 4,
			     KNOT_RCODE_NOERROR));
	assert_true(message(&e, (knot_rrset_t[]){ a_record(3), soa(7) }, 2, KNOT_RCODE_NOERROR));
	knot_pkt_free(q);
	/* serial arithmetic wraps (RFC 1982): 1 is newer than 4294967295 */
	q = question(KNOT_RRTYPE_IXFR, 4294967295u);
	xfr_end_init(&e, q);
	assert_false(message(&e, (knot_rrset_t[]){ soa(1) }, 1, KNOT_RCODE_NOERROR));
	knot_pkt_free(q);
}

static void test_soa_question(void **state)
{
	struct xfr_end e;
	(void)state;
	knot_pkt_t *q = question(KNOT_RRTYPE_SOA, 0);
	xfr_end_init(&e, q);
	assert_true(message(&e, (knot_rrset_t[]){ soa(3) }, 1, KNOT_RCODE_NOERROR));
	knot_pkt_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_axfr),
		cmocka_unit_test(test_ixfr),
		cmocka_unit_test(test_soa_question),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
