/* The server's side of TSIG (tsigsrv.h). */
#include <string.h>
#include <time.h>

#include "dns/tsigsrv.h"

int tsigsrv_verify(struct tsigsrv *t, const knot_pkt_t *q, int lookup, const char *key_name,
		   struct errmsg *why)
{
	const knot_rrset_t *tsig = q->tsig_rr;

	if (tsig == NULL)
		return KNOT_RCODE_NOERROR;
	if (lookup == ERR_NOT_FOUND) {
		t->tsig_rcode = KNOT_RCODE_BADKEY;
		errmsg_set(why, 0, "unknown TSIG key '%s'", key_name);
		return KNOT_RCODE_NOTAUTH;
	}
	if (lookup < 0) {
		errmsg_set(why, 0, "TSIG key '%s': %s", key_name, err_str(lookup));
		return KNOT_RCODE_SERVFAIL;
	}
	int r = knot_tsig_server_check(tsig, q->wire, q->size, &t->key);
	/* The client chooses the fudge, up to 18 hours: a captured message
	 * could be replayed for as long. The server's own window is
	 * TSIGSRV_FUDGE_MAX (RFC 8945 section 5.2.3 leaves it to the server;
	 * BIND's is 300 s too). */
	if (r == KNOT_EOK) {
		int64_t off = (int64_t)knot_tsig_rdata_time_signed(tsig) - (int64_t)time(NULL);
		if (off > TSIGSRV_FUDGE_MAX || off < -TSIGSRV_FUDGE_MAX)
			r = KNOT_TSIG_EBADTIME;
	}
	switch (r) {
	case KNOT_EOK:
		t->signing = true;
		return KNOT_RCODE_NOERROR;
	case KNOT_TSIG_EBADTIME:
		t->signing = true;
		t->tsig_rcode = KNOT_RCODE_BADTIME;
		t->time_signed = knot_tsig_rdata_time_signed(tsig);
		errmsg_set(why, 0,
			   "TSIG key '%s': time signed %llu is outside the fudge (at most %d s)",
			   key_name, (unsigned long long)t->time_signed, TSIGSRV_FUDGE_MAX);
		return KNOT_RCODE_NOTAUTH;
	case KNOT_TSIG_EBADKEY:
		t->tsig_rcode = KNOT_RCODE_BADKEY;
		errmsg_set(why, 0, "TSIG key '%s': another algorithm", key_name);
		return KNOT_RCODE_NOTAUTH;
	case KNOT_EMALF:
		errmsg_set(why, 0, "TSIG key '%s': malformed TSIG", key_name);
		return KNOT_RCODE_FORMERR;
	default:
		t->tsig_rcode = KNOT_RCODE_BADSIG;
		errmsg_set(why, 0, "TSIG key '%s': bad signature", key_name);
		return KNOT_RCODE_NOTAUTH;
	}
}

int tsigsrv_sign(struct tsigsrv *t, const knot_pkt_t *q, uint8_t *wire, size_t *len, size_t max)
{
	uint8_t digest[TSIGSRV_MAC_MAX];
	size_t digest_len = sizeof(digest);
	int r;

	if (t->signing && !t->first_sent)
		r = knot_tsig_sign(wire, len, max, knot_tsig_rdata_mac(q->tsig_rr),
				   knot_tsig_rdata_mac_length(q->tsig_rr), digest, &digest_len,
				   &t->key, t->tsig_rcode, t->time_signed);
	else if (t->signing)
		r = knot_tsig_sign_next(wire, len, max, t->mac, t->mac_len, digest, &digest_len,
					&t->key, wire, *len);
	else if (q->tsig_rr != NULL && t->tsig_rcode != KNOT_RCODE_NOERROR)
		return knot_tsig_add(wire, len, max, t->tsig_rcode, q->tsig_rr);
	else
		return KNOT_EOK;
	if (r == KNOT_EOK) {
		memcpy(t->mac, digest, digest_len);
		t->mac_len = digest_len;
		t->first_sent = true;
	}
	return r;
}

void tsigsrv_clear(struct tsigsrv *t)
{
	if (t->key.name != NULL)
		knot_tsig_key_deinit(&t->key);
	memset(t, 0, sizeof(*t));
}

size_t tsigsrv_header_only(const uint8_t *q, uint8_t *out, int rcode)
{
	memcpy(out, q, KNOT_WIRE_HEADER_SIZE);
	knot_wire_set_qr(out);
	knot_wire_clear_aa(out);
	knot_wire_clear_tc(out);
	knot_wire_clear_ra(out);
	knot_wire_set_rcode(out, (short)rcode);
	knot_wire_set_qdcount(out, 0);
	knot_wire_set_ancount(out, 0);
	knot_wire_set_nscount(out, 0);
	knot_wire_set_arcount(out, 0);
	return KNOT_WIRE_HEADER_SIZE;
}

const char *tsigsrv_error_name(uint16_t e)
{
	return e == KNOT_RCODE_BADSIG	 ? "BADSIG"
	       : e == KNOT_RCODE_BADKEY	 ? "BADKEY"
	       : e == KNOT_RCODE_BADTIME ? "BADTIME"
					 : "?";
}
