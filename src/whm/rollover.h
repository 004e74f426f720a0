/* Inside the rollover engine (rollover.c): the kinds of rollover and the
 * decisions of each step, as pure functions (tested on their own). The
 * entry points are in dnssec.h.
 *
 * ZSK: pre-publication (RFC 6781 section 4.1.1.1): the new ZSK is published
 * (step 1), after the DNSKEY TTL it signs instead of the old one (step 2),
 * after the largest TTL of the zone the old one is removed.
 * KSK and CSK: double-KSK with CDS signalling (RFC 6781 section 4.1.2,
 * RFC 7344): the new key is published and signs beside the old one (step
 * 1; CDS now lists both); once the DNSKEY TTL has passed the parent may
 * publish the new DS, which the operator confirms (step 2); after the
 * parent's DS TTL the old key is removed. Each wait is counted from the
 * moment every node acknowledged the step's zone version: RFC 7583's
 * intervals (section 3) begin once the propagation delay has brought the
 * change to the last name server, however late that node is. */
#ifndef YUMNA_WHM_ROLLOVER_H
#define YUMNA_WHM_ROLLOVER_H

#include <stdbool.h>
#include <stdint.h>

#define ROLL_ZSK "zsk"
#define ROLL_KSK "ksk"
#define ROLL_CSK "csk"
#define KEYS_MAX 4

/* What advancing a rollover of 'kind' ("" when none) at 'step' does. */
enum rollover_step {
	ROLLOVER_STEP_NONE,	  /* nothing to do at this step */
	ROLLOVER_STEP_SWAP_ZSK,	  /* the new ZSK signs, the old one stays published */
	ROLLOVER_STEP_REMOVE_OLD, /* the old key goes; the rollover is done */
};
enum rollover_step rollover_next_step(const char *kind, uint32_t step);

/* What the rollover engine does now for a rollover of 'kind' ("" when
 * none) at 'step', given whether every node acknowledged the step's
 * version ('synced') and its roll_next_at ('next_at', 0 while its wait has
 * not begun). ZSK steps and KSK/CSK step 2 advance by time; KSK/CSK step 1
 * waits for the operator's DS confirmation instead, but its wait (until
 * the DS may be given) is counted the same way. */
enum rollover_tick {
	ROLLOVER_TICK_NONE,    /* nothing to do now */
	ROLLOVER_TICK_COUNT,   /* every node publishes the step: its wait begins now */
	ROLLOVER_TICK_RECOUNT, /* a node no longer has the step's version (one added or
				* reset): its wait begins again once every node has it */
	ROLLOVER_TICK_STEP,    /* take the next step */
};
enum rollover_tick rollover_tick_action(const char *kind, uint32_t step, bool synced,
					int64_t next_at, int64_t now);

/* Whether a zone not rolling starts its scheduled ZSK rollover: a zone
 * signed with a KSK and a ZSK ('split'), a ZSK lifetime set (days, 0:
 * none), and its newest active ZSK created at 'zsk_created' (0: none)
 * that old at 'now'. */
bool rollover_zsk_expired(bool split, uint64_t lifetime_days, int64_t zsk_created, int64_t now);

/* The TTLs a rollover step waits on, from the zone's SOA as the nodes
 * serve it ('soa_ttl', and 'soa_minimum': the zone's own over the
 * cluster's) and the largest TTL of its records ('records_max').
 * *dnskey: PowerDNS (4.7) serves the DNSKEY set, its RRSIG, CDS and CDNSKEY
 * with the SOA minimum; the SOA TTL counts too when it is larger. *max:
 * the largest TTL a resolver may hold anything of the zone for, so a
 * signature by an old ZSK; the SOA and negative answers are within
 * *dnskey. */
void rollover_ttls(uint32_t soa_ttl, uint32_t soa_minimum, uint32_t records_max, uint32_t *dnskey,
		   uint32_t *max);

/* Whether the operator's "the parent publishes the new DS" may be taken
 * now: ROLLOVER_DS_OK, or why not. 'synced' and 'next_at' as for
 * rollover_tick_action(). */
enum rollover_ds {
	ROLLOVER_DS_OK,
	ROLLOVER_DS_NOT_WAITING, /* no KSK/CSK rollover at step 1 */
	ROLLOVER_DS_NODES,	 /* a node does not publish the new key yet */
	ROLLOVER_DS_TOO_EARLY,	 /* the new DNSKEY set may not be in every cache yet */
};
enum rollover_ds rollover_ds_check(const char *kind, uint32_t step, bool synced, int64_t next_at,
				   int64_t now);

#endif
