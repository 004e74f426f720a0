/* Where a transfer answer ends (xfrend.h). */
#include <string.h>

#include "dns/xfrend.h"

void xfr_end_init(struct xfr_end *e, const knot_pkt_t *q)
{
	memset(e, 0, sizeof(*e));
	e->qtype = knot_pkt_qtype(q);
	const knot_pktsection_t *ns = knot_pkt_section(q, KNOT_AUTHORITY);
	if (e->qtype == KNOT_RRTYPE_IXFR && ns->count > 0 &&
	    knot_pkt_rr(ns, 0)->type == KNOT_RRTYPE_SOA) {
		e->ixfr = true;
		e->have = knot_soa_serial(knot_pkt_rr(ns, 0)->rrs.rdata);
	}
}

void xfr_end_message(struct xfr_end *e, const knot_pkt_t *answer)
{
	const knot_pktsection_t *an = knot_pkt_section(answer, KNOT_ANSWER);
	bool transfer = e->qtype == KNOT_RRTYPE_AXFR || e->qtype == KNOT_RRTYPE_IXFR;

	for (uint16_t i = 0; i < an->count && !e->done; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		e->rrs++;
		if (rr->type != KNOT_RRTYPE_SOA) {
			e->done = e->rrs == 1; /* not a transfer */
			continue;
		}
		uint32_t serial = knot_soa_serial(rr->rrs.rdata);
		if (e->rrs == 1) {
			e->serial = serial;
			e->soas = 1;
			e->done = e->ixfr && (int32_t)(serial - e->have) <= 0; /* RFC 1982 */
		} else if (e->rrs == 2 && serial != e->serial) {
			e->incremental = true;
		} else if (serial == e->serial) {
			e->soas++;
		}
		e->done = e->done || e->soas >= (e->incremental ? 3 : 2);
	}
	e->done = e->done || !transfer || an->count == 0 ||
		  knot_wire_get_rcode(answer->wire) != KNOT_RCODE_NOERROR;
}
