/* The server's side of TSIG (RFC 8945) over libknot, as Knot's own server
 * applies it: a request's TSIG is checked against its key (BADKEY and
 * BADSIG are answered unsigned, BADTIME signed), and the answer is signed
 * when the request's key verified. Used by every DNS listener we run: the
 * controller's (UPDATE, NOTIFY) and each node's transfer port. */
#ifndef YUMNA_DNS_TSIGSRV_H
#define YUMNA_DNS_TSIGSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include "base/err.h"

/* The longest MAC: HMAC-SHA512's. */
#define TSIGSRV_MAC_MAX 64
/* A request signed further than this from the server's clock is BADTIME,
 * whatever fudge it gives (a larger fudge lets a captured request be
 * replayed for longer). */
#define TSIGSRV_FUDGE_MAX 300

struct tsigsrv {
	knot_tsig_key_t key;	      /* the request's key, once found */
	bool signing;		      /* the answer is signed with 'key' */
	uint16_t tsig_rcode;	      /* BADKEY, BADSIG, BADTIME or 0 */
	uint64_t time_signed;	      /* the request's, for a BADTIME answer */
	uint8_t mac[TSIGSRV_MAC_MAX]; /* the last MAC signed, for the next message */
	size_t mac_len;
	bool first_sent; /* a message of the answer was signed already */
};

/* Check the TSIG of parsed request 'q' after its key was looked up:
 * 'lookup' is 0 with t->key set to it, ERR_NOT_FOUND when no key has the
 * name, or another code. Returns the RCODE for the answer (NOERROR when
 * the request is signed and verified, or not signed at all), with a
 * message in 'why' otherwise. 'key_name' names the key in that message. */
int tsigsrv_verify(struct tsigsrv *t, const knot_pkt_t *q, int lookup, const char *key_name,
		   struct errmsg *why);

/* Sign answer message 'wire' ('*len' bytes of 'max') to request 'q' as
 * tsigsrv_verify() decided: with the key (the first message of an answer
 * against the request's MAC, each later one against the one before, as
 * RFC 8945 section 5.3.1 says for a TCP stream), with a TSIG error RR
 * alone, or not at all. A libknot code. */
int tsigsrv_sign(struct tsigsrv *t, const knot_pkt_t *q, uint8_t *wire, size_t *len, size_t max);

/* Wipes and frees the key. */
void tsigsrv_clear(struct tsigsrv *t);

/* An answer made of request 'q's header alone ('out' holds at least a
 * header), for what libknot cannot parse: its length. */
size_t tsigsrv_header_only(const uint8_t *q, uint8_t *out, int rcode);

/* "BADSIG", "BADKEY", "BADTIME" or "?". */
const char *tsigsrv_error_name(uint16_t e);

#endif
