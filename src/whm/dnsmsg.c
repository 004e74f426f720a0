/* One message to the DNS listener (dnsmsg.h): libknot parses it and
 * checks and makes its TSIG (RFC 8945 as Knot's own server applies it:
 * BADKEY and BADSIG answered unsigned, BADTIME signed), then one function
 * per opcode decides the RCODE. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libknot/libknot.h>

#include "base/log.h"
#include "dnsmsg.h"
#include "dns/tsigsrv.h"
#include "dnsupdate.h"
#include "secondary.h"
#include "tsig.h"
#include "upolicy.h"
#include "zones.h"
#include "zones_soa.h"

struct msg {
	struct whm *w;
	knot_pkt_t *q;
	const char *peer;
	const struct sockaddr_storage *from; /* NULL: not known */
	struct tsigsrv tsig;
	char key_name[DNAME_TEXT_MAX];
	struct errmsg why; /* what the log line says of a refusal */
};

bool dnsmsg_may_log(void)
{
	static _Atomic int64_t second;
	static _Atomic int count;
	int64_t now = whm_mono_ms() / 1000;

	if (second != now) {
		second = now;
		count = 0;
	}
	return ++count <= 10;
}

static const char *rcode_name(int rcode)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	return l != NULL ? l->name : "?";
}

static void text_name(const knot_dname_t *name, char out[DNAME_TEXT_MAX])
{
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	if (name == NULL || knot_dname_to_str(text, name, sizeof(text)) == NULL)
		snprintf(text, sizeof(text), "?");
	log_sanitize(text, out, DNAME_TEXT_MAX);
}

/* RFC 8945 section 5.2: the TSIG of the request, if it has one. */
static int verify(struct msg *m)
{
	const knot_rrset_t *tsig = m->q->tsig_rr;
	int lookup = 0;

	if (tsig != NULL) {
		text_name(tsig->owner, m->key_name);
		lookup = tsig_knot_key(m->w, tsig->owner, &m->tsig.key);
	}
	return tsigsrv_verify(&m->tsig, m->q, lookup, m->key_name, &m->why);
}

/* RFC 2136: an UPDATE of one of the controller's zones, signed with a key
 * whose policy allows every change it makes. */
static int on_update(struct msg *m)
{
	char zone[DNAME_TEXT_MAX], text[DNAME_TEXT_MAX];
	struct store_zone z = { 0 };
	struct errmsg derr;
	json_t *rules = NULL;

	if (knot_wire_get_qdcount(m->q->wire) != 1 || knot_pkt_qtype(m->q) != KNOT_RRTYPE_SOA ||
	    knot_pkt_qclass(m->q) != KNOT_CLASS_IN) {
		errmsg_set(&m->why, 0, "the zone section is not one SOA question of class IN");
		return KNOT_RCODE_FORMERR;
	}
	if (m->q->tsig_rr == NULL) {
		errmsg_set(&m->why, 0, "not signed: updates need a TSIG key");
		return KNOT_RCODE_REFUSED;
	}
	text_name(knot_pkt_qname(m->q), text);
	struct store *st = whm_store(m->w);
	if (st == NULL)
		return KNOT_RCODE_SERVFAIL;
	if (dname_zone_normalize(text, zone, &derr) < 0 ||
	    store_zone_get_by_name(st, zone, &z) < 0 || z.deleted) {
		store_zone_clear(&z);
		errmsg_set(&m->why, 0, "zone '%s' is not one of the controller's", text);
		return KNOT_RCODE_NOTAUTH;
	}
	int64_t zone_id = z.id;
	store_zone_clear(&z);
	char key[DNAME_TEXT_MAX];
	text_name(m->tsig.key.name, text);
	if (dname_zone_normalize(text, key, &derr) < 0 || upolicy_load(st, key, &rules) < 0) {
		errmsg_set(&m->why, 0, "key '%s' has no update policy", m->key_name);
		return KNOT_RCODE_REFUSED;
	}
	/* Before the prerequisites: their answers (NXRRSET, YXDOMAIN, ...)
	 * would tell a key of no rule here what the zone holds. */
	if (!upolicy_names_zone(rules, zone)) {
		json_decref(rules);
		errmsg_set(&m->why, 0, "key '%s' has no update policy for zone '%s'", m->key_name,
			   zone);
		return KNOT_RCODE_REFUSED;
	}
	int rcode = dnsupdate_apply(m->w, m->q, zone_id, zone, rules, key, &m->why);
	json_decref(rules);
	if (rcode == KNOT_RCODE_NOERROR)
		log_info("zone '%s': update from %s with key '%s' applied", zone, m->peer, key);
	return rcode;
}

/* RFC 1996: a NOTIFY for a secondary zone from one of its primaries, or
 * signed with the zone's TSIG key (verified), starts its refresh at once
 * (secondary_notify()); NOTAUTH for a zone that is not a secondary zone
 * here, REFUSED from anyone else. */
static int on_notify(struct msg *m, knot_pkt_t *resp)
{
	if (knot_wire_get_qdcount(m->q->wire) != 1 || knot_pkt_qtype(m->q) != KNOT_RRTYPE_SOA ||
	    knot_pkt_qclass(m->q) != KNOT_CLASS_IN) {
		errmsg_set(&m->why, 0, "NOTIFY: the question must be the zone's SOA");
		return KNOT_RCODE_FORMERR;
	}
	/* verify() answered every TSIG that failed before this runs. */
	const knot_dname_t *key = m->tsig.signing && m->tsig.tsig_rcode == KNOT_RCODE_NOERROR
				      ? m->q->tsig_rr->owner
				      : NULL;
	int rcode = m->from != NULL || key != NULL
			? secondary_notify(m->w, knot_pkt_qname(m->q), m->from, key)
			: KNOT_RCODE_REFUSED;
	if (rcode == KNOT_RCODE_NOTAUTH)
		errmsg_set(&m->why, 0, "NOTIFY for a zone that is not a secondary zone here");
	else if (rcode == KNOT_RCODE_REFUSED)
		errmsg_set(&m->why, 0,
			   "NOTIFY from an address that is not the zone's primary, not signed with "
			   "the zone's key");
	else
		knot_wire_set_aa(resp->wire);
	return rcode;
}

/* The SOA of live zone 'zone' into the answer section, with AA set. */
static int put_soa(struct msg *m, knot_pkt_t *resp, const char *zone)
{
	char text[3 * DNAME_TEXT_MAX];
	struct store_zone z = { 0 };
	struct errmsg perr;
	struct rr soa = { 0 };
	knot_rrset_t set;
	struct store *st = whm_store(m->w);

	if (st == NULL || store_zone_get_by_name(st, zone, &z) < 0 || z.deleted) {
		store_zone_clear(&z);
		return KNOT_RCODE_REFUSED;
	}
	zone_soa_text(m->w, &z, text, sizeof(text));
	store_zone_clear(&z);
	if (rr_parse(zone, KNOT_RRTYPE_SOA, (uint32_t)m->w->conf.soa_ttl, text, zone, &soa, &perr) <
	    0)
		return KNOT_RCODE_SERVFAIL;
	knot_rrset_init(&set, (knot_dname_t *)knot_pkt_qname(m->q), KNOT_RRTYPE_SOA, KNOT_CLASS_IN,
			soa.ttl);
	int r = knot_rrset_add_rdata(&set, soa.wire, soa.wire_len, NULL);
	if (r == KNOT_EOK)
		r = knot_pkt_begin(resp, KNOT_ANSWER);
	if (r == KNOT_EOK)
		r = knot_pkt_put(resp, KNOT_COMPR_HINT_QNAME, &set, 0);
	knot_rdataset_clear(&set.rrs, NULL);
	rr_clear(&soa);
	if (r != KNOT_EOK)
		return KNOT_RCODE_SERVFAIL;
	knot_wire_set_aa(resp->wire);
	return KNOT_RCODE_NOERROR;
}

/* The controller is not a name server: it answers no question but one,
 * the SOA of a zone's apex asked with a key whose update policy names
 * the zone. That is how update clients (certbot's RFC 2136 plugin among
 * them) find the zone a name belongs to before they send the update. */
static int on_query(struct msg *m, knot_pkt_t *resp)
{
	char zone[DNAME_TEXT_MAX], text[DNAME_TEXT_MAX], key[DNAME_TEXT_MAX];
	struct errmsg derr;
	json_t *rules = NULL;

	errmsg_set(&m->why, 0, "a query: the controller is not a name server");
	if (!m->tsig.signing || knot_wire_get_qdcount(m->q->wire) != 1 ||
	    knot_pkt_qtype(m->q) != KNOT_RRTYPE_SOA || knot_pkt_qclass(m->q) != KNOT_CLASS_IN)
		return KNOT_RCODE_REFUSED;
	struct store *st = whm_store(m->w);
	text_name(knot_pkt_qname(m->q), text);
	if (st == NULL || dname_zone_normalize(text, zone, &derr) < 0)
		return KNOT_RCODE_REFUSED;
	text_name(m->tsig.key.name, text);
	if (dname_zone_normalize(text, key, &derr) < 0 || upolicy_load(st, key, &rules) < 0)
		return KNOT_RCODE_REFUSED;
	bool named = upolicy_names_zone(rules, zone);
	json_decref(rules);
	if (!named)
		return KNOT_RCODE_REFUSED;
	m->why.text[0] = '\0';
	return put_soa(m, resp, zone);
}

static int dispatch(struct msg *m, knot_pkt_t *resp)
{
	switch (knot_wire_get_opcode(m->q->wire)) {
	case KNOT_OPCODE_UPDATE:
		return on_update(m);
	case KNOT_OPCODE_NOTIFY:
		return on_notify(m, resp);
	case KNOT_OPCODE_QUERY:
		return on_query(m, resp);
	default:
		errmsg_set(&m->why, 0, "opcode %u is not implemented",
			   knot_wire_get_opcode(m->q->wire));
		return KNOT_RCODE_NOTIMPL;
	}
}

/* The payload this listener offers in its OPT (RFC 6891), and takes. */
#define EDNS_PAYLOAD 1232

/* The most a datagram answer to 'q' may hold: 512 bytes without EDNS
 * (RFC 1035), else what the client offers, within [512, EDNS_PAYLOAD]. */
static size_t datagram_max(const knot_pkt_t *q)
{
	if (q->opt_rr == NULL)
		return KNOT_WIRE_MIN_PKTSIZE;
	uint16_t p = knot_edns_get_payload(q->opt_rr);
	return p < KNOT_WIRE_MIN_PKTSIZE ? KNOT_WIRE_MIN_PKTSIZE
	       : p > EDNS_PAYLOAD	 ? EDNS_PAYLOAD
					 : p;
}

/* The room the TSIG of the answer may take: the request's, with room for
 * a longer MAC and a BADTIME answer's other data. */
static size_t tsig_room(const knot_pkt_t *q)
{
	return q->tsig_rr == NULL ? 0 : knot_rrset_size(q->tsig_rr) + TSIGSRV_MAC_MAX + 6;
}

/* Sets 'rcode' (its upper bits in the OPT, which an EDNS request gets
 * back), cuts a datagram that would not fit to its header and question
 * with TC set (RFC 2181 section 9: the client asks again over TCP), and
 * signs. A libknot code. */
static int finish(struct msg *m, knot_pkt_t *resp, int rcode, bool datagram, size_t *len)
{
	knot_rrset_t opt;
	size_t room = tsig_room(m->q), max = datagram ? datagram_max(m->q) : resp->max_size;
	int r = KNOT_EOK;

	if (m->q->opt_rr != NULL) {
		r = knot_edns_init(&opt, EDNS_PAYLOAD, (uint8_t)(rcode >> 4), 0, NULL);
		if (r != KNOT_EOK)
			return r;
		room += knot_edns_wire_size(&opt);
	}
	if (resp->size + room > max) {
		bool aa = knot_wire_get_aa(resp->wire);
		knot_pkt_clear(resp);
		r = knot_pkt_init_response(resp, m->q);
		if (aa)
			knot_wire_set_aa(resp->wire);
		knot_wire_set_tc(resp->wire);
	}
	knot_wire_set_rcode(resp->wire, (short)(rcode & 0xf));
	if (r == KNOT_EOK && m->q->opt_rr != NULL)
		r = knot_pkt_begin(resp, KNOT_ADDITIONAL);
	if (r == KNOT_EOK && m->q->opt_rr != NULL)
		r = knot_pkt_put(resp, KNOT_COMPR_HINT_NONE, &opt, 0);
	*len = resp->size;
	if (r == KNOT_EOK)
		r = tsigsrv_sign(&m->tsig, m->q, resp->wire, len, max);
	if (m->q->opt_rr != NULL)
		knot_rrset_clear(&opt, NULL);
	return r;
}

int dnsmsg_answer(struct whm *w, uint8_t *q, size_t qlen, uint8_t *out, size_t outmax,
		  bool datagram, size_t *ret_len, const char *peer,
		  const struct sockaddr_storage *from)
{
	struct msg m = { .w = w, .peer = peer, .from = from };

	if (qlen < KNOT_WIRE_HEADER_SIZE || qlen > UINT16_MAX || outmax < KNOT_WIRE_MIN_PKTSIZE ||
	    knot_wire_get_qr(q))
		return -1; /* responses are never answered: no loops between servers */
	m.q = knot_pkt_new(q, (uint16_t)qlen, NULL);
	if (m.q == NULL)
		return -1;
	int r = knot_pkt_parse(m.q, 0);
	if (r != KNOT_EOK) {
		if (dnsmsg_may_log())
			log_notice("dns: malformed message from %s: %s", peer, knot_strerror(r));
		knot_pkt_free(m.q);
		*ret_len = tsigsrv_header_only(q, out, KNOT_RCODE_FORMERR);
		return 0;
	}
	knot_pkt_t *resp =
	    knot_pkt_new(out, (uint16_t)(outmax > UINT16_MAX ? UINT16_MAX : outmax), NULL);
	int rcode = KNOT_RCODE_SERVFAIL;
	if (resp == NULL || knot_pkt_init_response(resp, m.q) != KNOT_EOK) {
		*ret_len = tsigsrv_header_only(q, out, KNOT_RCODE_SERVFAIL);
		r = 0;
		goto out;
	}
	knot_wire_clear_aa(resp->wire);
	rcode = verify(&m);
	if (rcode == KNOT_RCODE_NOERROR && m.q->opt_rr != NULL &&
	    knot_edns_get_version(m.q->opt_rr) != 0) {
		errmsg_set(&m.why, 0, "EDNS version %u: only 0 is known",
			   knot_edns_get_version(m.q->opt_rr));
		rcode = KNOT_RCODE_BADVERS;
	} else if (rcode == KNOT_RCODE_NOERROR) {
		rcode = dispatch(&m, resp);
	}
	if (finish(&m, resp, rcode, datagram, ret_len) != KNOT_EOK) {
		*ret_len = tsigsrv_header_only(q, out, KNOT_RCODE_SERVFAIL);
		if (datagram)
			knot_wire_set_tc(out);
	}
	r = 0;
out:
	if (rcode != KNOT_RCODE_NOERROR && dnsmsg_may_log())
		log_notice("dns: %s from %s: %s%s%s", rcode_name(rcode), peer,
			   m.why.text[0] ? m.why.text : "refused",
			   m.tsig.tsig_rcode ? ", TSIG error " : "",
			   m.tsig.tsig_rcode ? tsigsrv_error_name(m.tsig.tsig_rcode) : "");
	tsigsrv_clear(&m.tsig);
	knot_pkt_free(resp);
	knot_pkt_free(m.q);
	return r;
}
