/* Where the answer to a transfer question ends, for a relay that passes the
 * messages on as they come (RFC 5936 section 2.2, RFC 1995 section 4): at
 * the SOA that repeats the first one's serial, the third time in an
 * incremental IXFR answer; after one message for any other question or an
 * error; after the first SOA when the question is an IXFR and that SOA is
 * not newer (RFC 1982) than the serial it holds: the asker is up to date.
 * A first message holding the SOA alone (PowerDNS sends one) is not the end
 * of an AXFR-style answer. */
#ifndef YUMNA_DNS_XFREND_H
#define YUMNA_DNS_XFREND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

struct xfr_end {
	uint16_t qtype;
	bool ixfr; /* an IXFR question with an SOA of serial 'have' */
	uint32_t have;
	size_t rrs; /* answer records so far */
	uint32_t serial;
	int soas; /* SOAs with 'serial' so far */
	bool incremental;
	bool done;
};

/* Before the first message of the answer to parsed question 'q'. */
void xfr_end_init(struct xfr_end *e, const knot_pkt_t *q);
/* After each parsed message of the answer: e->done says whether it was
 * the last. */
void xfr_end_message(struct xfr_end *e, const knot_pkt_t *answer);

#endif
