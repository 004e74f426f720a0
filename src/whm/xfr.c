/* Zone transfers from a primary (xfr.h). Messages are built, parsed,
 * signed and verified by libknot; this file moves them over TCP (two-byte
 * length, RFC 1035 section 4.2.2) and follows the transfer's SOAs. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "xfr.h"

#define XFR_MSG_MAX KNOT_WIRE_MAX_PKTSIZE
#define XFR_TEXT_MAX 65536
#define XFR_MAC_MAX 64

void xfr_zone_clear(struct xfr_zone *z)
{
	if (z == NULL)
		return;
	knot_rrset_free(z->soa, NULL);
	json_decref(z->rrs);
	z->soa = NULL;
	z->rrs = NULL;
}

uint32_t xfr_zone_serial(const struct xfr_zone *z)
{
	return z->soa != NULL ? knot_soa_serial(z->soa->rrs.rdata) : 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the TCP session ---------------------------------------------------- */

struct session {
	int fd;
	int64_t deadline; /* the whole transfer, monotonic ms */
	int64_t stall_ms;
	size_t read_total, max_bytes;
	const knot_tsig_key_t *key;
	uint8_t mac[XFR_MAC_MAX]; /* the MAC to check the next message against */
	size_t mac_len;
	uint64_t signed_at; /* time signed of the last verified message; 0: none */
	uint16_t id;
	uint16_t qtype;		    /* of the query sent */
	knot_dname_storage_t qname; /* the zone asked about */
	const char *who;
};

/* Wait for 'events' on the session's socket within its bounds. */
static int wait_io(struct session *s, short events, struct errmsg *err)
{
	int64_t left = s->deadline - mono_ms();
	if (left <= 0)
		return errmsg_set(err, ERR_TIMEOUT, "%s: the transfer took too long", s->who);
	int wait = (int)(left < s->stall_ms ? left : s->stall_ms);
	struct pollfd pfd = { .fd = s->fd, .events = events };
	int r;
	do {
		r = poll(&pfd, 1, wait);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return errmsg_set(err, ERR_TIMEOUT, "%s: no answer for %d ms (stalled)", s->who,
				  wait);
	return r < 0 ? errmsg_set(err, -errno, "%s: poll: %s", s->who, strerror(errno)) : 0;
}

static int connect_to(struct session *s, const struct xfr_primary *p, struct errmsg *err)
{
	s->fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return errmsg_set(err, -errno, "%s: socket: %s", s->who, strerror(errno));
	if (connect(s->fd, (const struct sockaddr *)&p->addr, p->len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return errmsg_set(err, ERR_UNAVAILABLE, "%s: connect: %s", s->who, strerror(errno));
	int r = wait_io(s, POLLOUT, err);
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (r == 0 && getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr != 0)
		r = errmsg_set(err, ERR_UNAVAILABLE, "%s: connect: %s", s->who, strerror(soerr));
	return r;
}

static int write_all(struct session *s, const uint8_t *data, size_t len, struct errmsg *err)
{
	while (len > 0) {
		ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int r = wait_io(s, POLLOUT, err);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return errmsg_set(err, ERR_UNAVAILABLE, "%s: send: %s", s->who,
					  strerror(errno));
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Exactly 'len' bytes; ERR_UPSTREAM when the primary closes first. */
static int read_all(struct session *s, uint8_t *data, size_t len, struct errmsg *err)
{
	while (len > 0) {
		ssize_t n = recv(s->fd, data, len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int r = wait_io(s, POLLIN, err);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return errmsg_set(err, ERR_UNAVAILABLE, "%s: recv: %s", s->who,
					  strerror(errno));
		if (n == 0)
			return errmsg_set(err, ERR_UPSTREAM,
					  "%s: the connection closed before the transfer ended",
					  s->who);
		data += n;
		len -= (size_t)n;
		s->read_total += (size_t)n;
		if (s->read_total > s->max_bytes)
			return errmsg_set(err, ERR_TOO_LARGE, "%s: the transfer passed %zu bytes",
					  s->who, s->max_bytes);
	}
	return 0;
}

/* Build the query for 'zone' of 'qtype' (with 'soa' in the authority
 * section for an IXFR), sign it and send it. */
static int send_query(struct session *s, const knot_dname_t *zone, uint16_t qtype,
		      const knot_rrset_t *soa, struct errmsg *err)
{
	uint8_t wire[2 + 4096] = { 0 }; /* knot_pkt_new() keeps what a given buffer holds */
	knot_pkt_t *q = knot_pkt_new(wire + 2, sizeof(wire) - 2, NULL);
	if (q == NULL)
		return -ENOMEM;
	(void)getrandom(&s->id, sizeof(s->id), 0);
	knot_wire_set_id(q->wire, s->id);
	s->qtype = qtype;
	memcpy(s->qname, zone, knot_dname_size(zone));
	int r = knot_pkt_put_question(q, zone, KNOT_CLASS_IN, qtype);
	if (r == KNOT_EOK && soa != NULL) {
		r = knot_pkt_begin(q, KNOT_AUTHORITY);
		if (r == KNOT_EOK)
			r = knot_pkt_put(q, 0, soa, 0);
	}
	size_t len = q->size;
	if (r == KNOT_EOK && s->key != NULL) {
		s->mac_len = sizeof(s->mac);
		r = knot_tsig_sign(q->wire, &len, q->max_size, NULL, 0, s->mac, &s->mac_len, s->key,
				   0, 0);
	}
	knot_pkt_free(q);
	if (r != KNOT_EOK)
		return errmsg_set(err, -EINVAL, "building the query: %s", knot_strerror(r));
	wire[0] = (uint8_t)(len >> 8);
	wire[1] = (uint8_t)len;
	s->signed_at = 0;
	return write_all(s, wire, len + 2, err);
}

/* Verify the TSIG of answer 'pkt' (parsed) and keep its MAC for the next. */
static int check_tsig(struct session *s, knot_pkt_t *pkt, struct errmsg *err)
{
	if (s->key == NULL)
		return 0;
	if (pkt->tsig_rr == NULL)
		return errmsg_set(err, ERR_AUTH, "%s: an answer is not signed with the key",
				  s->who);
	int r = s->signed_at == 0
		    ? knot_tsig_client_check(pkt->tsig_rr, pkt->wire, pkt->size, s->mac, s->mac_len,
					     s->key, 0)
		    : knot_tsig_client_check_next(pkt->tsig_rr, pkt->wire, pkt->size, s->mac,
						  s->mac_len, s->key, s->signed_at);
	if (r != KNOT_EOK)
		return errmsg_set(err, ERR_AUTH, "%s: TSIG of an answer: %s", s->who,
				  knot_strerror(r));
	size_t n = knot_tsig_rdata_mac_length(pkt->tsig_rr);
	if (n > sizeof(s->mac))
		return errmsg_set(err, ERR_AUTH, "%s: TSIG MAC too long", s->who);
	memcpy(s->mac, knot_tsig_rdata_mac(pkt->tsig_rr), n);
	s->mac_len = n;
	s->signed_at = knot_tsig_rdata_time_signed(pkt->tsig_rr);
	return 0;
}

/* Read one answer into 'pkt' (the caller's 'buf' of XFR_MSG_MAX bytes),
 * parsed and checked: our id, a response, the key's signature. A refusal
 * is ERR_UPSTREAM with its rcode in *ret_rcode. */
static int read_answer(struct session *s, uint8_t *buf, knot_pkt_t **ret, int *ret_rcode,
		       struct errmsg *err)
{
	uint8_t lenb[2];
	int r = read_all(s, lenb, 2, err);
	size_t len = ((size_t)lenb[0] << 8) | lenb[1];
	if (r == 0 && len < KNOT_WIRE_HEADER_SIZE)
		r = errmsg_set(err, ERR_UPSTREAM, "%s: a message of %zu bytes", s->who, len);
	if (r == 0)
		r = read_all(s, buf, len, err);
	if (r < 0)
		return r;
	knot_pkt_t *pkt = knot_pkt_new(buf, (uint16_t)len, NULL);
	if (pkt == NULL)
		return -ENOMEM;
	r = knot_pkt_parse(pkt, 0);
	if (r != KNOT_EOK)
		r = errmsg_set(err, ERR_UPSTREAM, "%s: a malformed answer: %s", s->who,
			       knot_strerror(r));
	else if (knot_wire_get_id(pkt->wire) != s->id || !knot_wire_get_qr(pkt->wire) ||
		 knot_wire_get_opcode(pkt->wire) != KNOT_OPCODE_QUERY ||
		 (knot_wire_get_qdcount(pkt->wire) > 0 &&
		  (knot_pkt_qtype(pkt) != s->qtype || knot_pkt_qclass(pkt) != KNOT_CLASS_IN ||
		   !knot_dname_is_case_equal(knot_pkt_qname(pkt), s->qname))))
		r = errmsg_set(err, ERR_UPSTREAM, "%s: an answer to another query", s->who);
	else if (knot_wire_get_tc(pkt->wire))
		r = errmsg_set(err, ERR_UPSTREAM, "%s: a truncated answer over TCP", s->who);
	if (r == 0)
		r = check_tsig(s, pkt, err);
	*ret_rcode = r == 0 ? knot_pkt_ext_rcode(pkt) : 0;
	if (r == 0 && *ret_rcode != KNOT_RCODE_NOERROR)
		r = errmsg_set(err, ERR_UPSTREAM, "%s: answered %s", s->who,
			       knot_pkt_ext_rcode_name(pkt));
	if (r < 0) {
		knot_pkt_free(pkt);
		return r;
	}
	*ret = pkt;
	return 0;
}

static void session_close(struct session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void session_init(struct session *s, const struct xfr_primary *p, const knot_tsig_key_t *key,
			 const struct xfr_limits *lim)
{
	*s = (struct session){ .fd = -1,
			       .deadline = mono_ms() + lim->timeout_ms,
			       .stall_ms = lim->stall_ms,
			       .max_bytes = lim->max_bytes,
			       .key = key,
			       .who = p->text };
}

int xfr_soa_serial(const struct xfr_primary *primary, const knot_dname_t *zone,
		   const knot_tsig_key_t *key, const struct xfr_limits *lim, uint32_t *ret,
		   struct errmsg *err)
{
	struct session s;
	uint8_t *buf = malloc(XFR_MSG_MAX);
	knot_pkt_t *pkt = NULL;
	int rcode;

	session_init(&s, primary, key, lim);
	int r = buf != NULL ? connect_to(&s, primary, err) : -ENOMEM;
	if (r == 0)
		r = send_query(&s, zone, KNOT_RRTYPE_SOA, NULL, err);
	if (r == 0)
		r = read_answer(&s, buf, &pkt, &rcode, err);
	if (r == 0) {
		const knot_pktsection_t *an = knot_pkt_section(pkt, KNOT_ANSWER);
		const knot_rrset_t *soa = an->count > 0 ? knot_pkt_rr(an, 0) : NULL;
		if (soa == NULL || soa->type != KNOT_RRTYPE_SOA || soa->rrs.count != 1 ||
		    !knot_dname_is_equal(soa->owner, zone) || !knot_wire_get_aa(pkt->wire))
			r = errmsg_set(err, ERR_UPSTREAM,
				       "%s: not an authoritative answer with the zone's SOA",
				       primary->text);
		else
			*ret = knot_soa_serial(soa->rrs.rdata);
	}
	knot_pkt_free(pkt);
	session_close(&s);
	free(buf);
	return r;
}

/* --- following a transfer ----------------------------------------------- */

/* Where the transfer is: the first SOA (the primary's serial) is read;
 * then an AXFR's records up to the closing SOA, or an IXFR's differences,
 * each a deletion list after its old SOA and an addition list after its
 * new SOA, up to the new SOA again. */
enum xfr_state {
	XS_START,     /* nothing read */
	XS_FIRST_SOA, /* the first SOA read: the next record tells which kind */
	XS_AXFR,
	XS_IXFR_DEL,
	XS_IXFR_ADD,
	XS_DONE,
};

struct follow {
	enum xfr_state state;
	const knot_dname_t *zone;
	knot_rrset_t *new_soa; /* the first SOA */
	uint32_t serial;       /* its serial */
	uint32_t have_serial;  /* the serial asked from (IXFR) */
	uint32_t diff_to;      /* the serial the IXFR difference being read ends at */
	bool ixfr_asked;
	json_t *rrs; /* the zone being built */
	size_t text; /* its records' text (rrs_text()) */
	size_t max_records, max_text;
	size_t origin_len; /* the zone's name, as text */
	bool up_to_date;   /* IXFR answered with the SOA alone */
	bool incremental;  /* the answer came as differences */
	const char *who;
};

/* "owner\ttype\trdata" of RR 'pos' of 'rr'. */
static int rr_key(const knot_rrset_t *rr, uint16_t pos, char *out, size_t len)
{
	char owner[KNOT_DNAME_TXT_MAXLEN + 1], type[32];
	knot_dname_storage_t lower;

	memcpy(lower, rr->owner, knot_dname_size(rr->owner));
	knot_dname_to_lower(lower);
	if (knot_dname_to_str(owner, lower, sizeof(owner)) == NULL ||
	    knot_rrtype_to_string(rr->type, type, sizeof(type)) < 0)
		return -EINVAL;
	int n = snprintf(out, len, "%s\t%s\t", owner, type);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	int d =
	    knot_rrset_txt_dump_data(rr, pos, out + n, len - (size_t)n, &KNOT_DUMP_STYLE_DEFAULT);
	return d < 0 ? -EINVAL : 0;
}

/* What key 'key' of a record of a zone whose name is 'origin_len'
 * characters long counts towards a transfer's text: its owner relative to
 * the zone, as a push carries it (every owner ends with the zone's name). */
static size_t key_text(const char *key, size_t origin_len)
{
	size_t n = strlen(key);
	return n > origin_len ? n - origin_len : 0;
}

/* The text of every record of 'rrs' (key_text()). */
static size_t rrs_text(const json_t *rrs, size_t origin_len)
{
	const char *key;
	json_t *v;
	size_t sum = 0;

	json_object_foreach((json_t *)rrs, key, v)
		sum += key_text(key, origin_len);
	return sum;
}

/* Add (or with 'del' remove) every RR of 'rr' to 'rrs', and what that adds
 * to their text to '*text' ('origin_len' as for key_text()): 0, -EINVAL
 * for a record libknot cannot write as text, -ESTALE for a deletion of a
 * record 'rrs' does not hold, -ENOMEM. */
static int rrs_apply(json_t *rrs, const knot_rrset_t *rr, bool del, size_t origin_len, size_t *text)
{
	char *key = malloc(XFR_TEXT_MAX);
	int r = key != NULL ? 0 : -ENOMEM;

	for (uint16_t i = 0; r == 0 && i < rr->rrs.count; i++) {
		r = rr_key(rr, i, key, XFR_TEXT_MAX);
		bool held = r == 0 && json_object_get(rrs, key) != NULL;
		if (r == 0 && del)
			r = json_object_del(rrs, key) == 0 ? 0 : -ESTALE;
		else if (r == 0)
			r = json_object_set_new(rrs, key, json_integer(rr->ttl)) == 0 ? 0 : -ENOMEM;
		if (r == 0 && del)
			*text -= key_text(key, origin_len);
		else if (r == 0 && !held)
			*text += key_text(key, origin_len);
	}
	free(key);
	return r;
}

/* rrs_apply() to f->rrs, within the transfer's limits. */
static int apply_rr(struct follow *f, const knot_rrset_t *rr, bool del, struct errmsg *err)
{
	int r = rrs_apply(f->rrs, rr, del, f->origin_len, &f->text);

	if (r == -EINVAL)
		return errmsg_set(err, ERR_UPSTREAM, "%s: a record that cannot be written as text",
				  f->who);
	if (r == -ESTALE)
		return errmsg_set(err, -ESTALE,
				  "%s: the IXFR deletes a record the zone does not hold", f->who);
	if (r == 0 && json_object_size(f->rrs) > f->max_records)
		return errmsg_set(err, ERR_TOO_LARGE, "%s: the zone passes %zu records", f->who,
				  f->max_records);
	if (r == 0 && f->max_text > 0 && f->text > f->max_text)
		return errmsg_set(err, ERR_TOO_LARGE,
				  "%s: the zone's records pass %zu bytes as text, more than the "
				  "nodes take (max-zone-bytes)",
				  f->who, f->max_text);
	return r;
}

int xfr_zone_add(struct xfr_zone *z, const knot_rrset_t *rr)
{
	if (rr->type == KNOT_RRTYPE_SOA) {
		if (z->soa != NULL || rr->rrs.count != 1)
			return -EINVAL;
		z->soa = knot_rrset_copy(rr, NULL);
		return z->soa != NULL ? 0 : -ENOMEM;
	}
	if (z->rrs == NULL && (z->rrs = json_object()) == NULL)
		return -ENOMEM;
	size_t text = 0;
	return rrs_apply(z->rrs, rr, false, 0, &text);
}

/* One record of the answer stream. */
static int follow_rr(struct follow *f, const knot_rrset_t *rr, struct errmsg *err)
{
	bool soa = rr->type == KNOT_RRTYPE_SOA;

	if (f->state == XS_DONE)
		return errmsg_set(err, ERR_UPSTREAM, "%s: records after the closing SOA", f->who);
	if (rr->rclass != KNOT_CLASS_IN || knot_dname_in_bailiwick(rr->owner, f->zone) < 0) {
		char owner[KNOT_DNAME_TXT_MAXLEN + 1] = "?";
		(void)knot_dname_to_str(owner, rr->owner, sizeof(owner));
		return errmsg_set(err, ERR_UPSTREAM,
				  "%s: '%s' is outside the zone (or not class IN)", f->who, owner);
	}
	if (soa && (rr->rrs.count != 1 || !knot_dname_is_equal(rr->owner, f->zone)))
		return errmsg_set(err, ERR_UPSTREAM, "%s: an SOA that is not the zone's", f->who);
	uint32_t serial = soa ? knot_soa_serial(rr->rrs.rdata) : 0;
	switch (f->state) {
	case XS_START:
		if (!soa)
			return errmsg_set(err, ERR_UPSTREAM,
					  "%s: the transfer does not start with the SOA", f->who);
		f->new_soa = knot_rrset_copy(rr, NULL);
		f->serial = serial;
		f->state = XS_FIRST_SOA;
		return f->new_soa != NULL ? 0 : -ENOMEM;
	case XS_FIRST_SOA:
		if (soa && f->ixfr_asked && serial == f->have_serial && serial != f->serial) {
			f->state = XS_IXFR_DEL;
			f->incremental = true;
			return 0;
		}
		/* An empty zone: the SOA alone, twice. A second SOA of another
		 * serial is an IXFR that does not start at the zone held (the
		 * whole zone then: -ESTALE), or a broken AXFR. */
		if (soa && serial != f->serial)
			return errmsg_set(
			    err, f->ixfr_asked ? -ESTALE : ERR_UPSTREAM,
			    "%s: the second SOA has serial %u, neither the zone's %u nor "
			    "the transfer's %u",
			    f->who, serial, f->have_serial, f->serial);
		if (soa) {
			json_object_clear(f->rrs);
			f->text = 0;
			f->state = XS_DONE;
			return 0;
		}
		f->state = XS_AXFR;
		json_object_clear(f->rrs);
		f->text = 0;
		return apply_rr(f, rr, false, err);
	case XS_AXFR:
		if (soa) {
			f->state = XS_DONE;
			return serial == f->serial
				   ? 0
				   : errmsg_set(err, ERR_UPSTREAM,
						"%s: the closing SOA has another serial", f->who);
		}
		return apply_rr(f, rr, false, err);
	case XS_IXFR_DEL:
		if (soa) { /* the SOA the difference ends at: its additions follow */
			f->diff_to = serial;
			f->state = XS_IXFR_ADD;
			return 0;
		}
		return apply_rr(f, rr, true, err);
	case XS_IXFR_ADD:
		if (!soa)
			return apply_rr(f, rr, false, err);
		/* The closing SOA once the differences reach the transfer's
		 * serial; before that, the next difference starts where this one
		 * ended (RFC 1995 section 4). Anything else skips changes. */
		if (serial == f->serial && f->diff_to == f->serial) {
			f->state = XS_DONE;
			return 0;
		}
		if (serial != f->diff_to)
			return errmsg_set(
			    err, -ESTALE,
			    "%s: the IXFR's differences do not follow on: one ends at "
			    "serial %u, the next SOA has %u (the transfer's is %u)",
			    f->who, f->diff_to, serial, f->serial);
		f->state = XS_IXFR_DEL;
		return 0;
	case XS_DONE:
		break;
	}
	return 0;
}

/* One transfer attempt of kind 'qtype'. */
static int transfer_once(const struct xfr_primary *primary, const knot_dname_t *zone,
			 const knot_tsig_key_t *key, const struct xfr_limits *lim, uint16_t qtype,
			 struct xfr_zone *z, int *ret_rcode, struct errmsg *err)
{
	struct session s;
	uint8_t *buf = malloc(XFR_MSG_MAX);
	struct follow f = { .zone = zone,
			    .ixfr_asked = qtype == KNOT_RRTYPE_IXFR,
			    .have_serial = xfr_zone_serial(z),
			    .max_records = lim->max_records,
			    .max_text = lim->max_text,
			    .who = primary->text };
	char origin[KNOT_DNAME_TXT_MAXLEN + 1];

	*ret_rcode = 0;
	session_init(&s, primary, key, lim);
	/* An IXFR starts from a copy of the zone; an AXFR from nothing. */
	f.rrs = qtype == KNOT_RRTYPE_IXFR ? json_deep_copy(z->rrs) : json_object();
	f.origin_len = knot_dname_to_str(origin, zone, sizeof(origin)) != NULL ? strlen(origin) : 0;
	f.text = f.rrs != NULL ? rrs_text(f.rrs, f.origin_len) : 0;
	int r = buf != NULL && f.rrs != NULL ? connect_to(&s, primary, err) : -ENOMEM;
	if (r == 0)
		r = send_query(&s, zone, qtype, qtype == KNOT_RRTYPE_IXFR ? z->soa : NULL, err);
	for (bool first = true; r == 0 && f.state != XS_DONE; first = false) {
		knot_pkt_t *pkt = NULL;
		r = read_answer(&s, buf, &pkt, ret_rcode, err);
		if (r < 0)
			break;
		const knot_pktsection_t *an = knot_pkt_section(pkt, KNOT_ANSWER);
		for (uint16_t i = 0; r == 0 && i < an->count; i++)
			r = follow_rr(&f, knot_pkt_rr(an, i), err);
		knot_pkt_free(pkt);
		/* An IXFR answered with the SOA alone: the zone is up to date
		 * (RFC 1995 section 4). */
		if (r == 0 && first && f.state == XS_FIRST_SOA && f.ixfr_asked &&
		    (int32_t)(f.serial - f.have_serial) <= 0) {
			f.up_to_date = true;
			break;
		}
	}
	session_close(&s);
	free(buf);
	if (r == 0 && !f.up_to_date) {
		knot_rrset_free(z->soa, NULL);
		json_decref(z->rrs);
		z->soa = f.new_soa;
		z->rrs = f.rrs;
		f.new_soa = NULL;
		f.rrs = NULL;
	}
	knot_rrset_free(f.new_soa, NULL);
	json_decref(f.rrs);
	return r < 0 ? r : f.incremental ? 1 : 0;
}

int xfr_transfer(const struct xfr_primary *primary, const knot_dname_t *zone,
		 const knot_tsig_key_t *key, const struct xfr_limits *lim, bool ixfr,
		 struct xfr_zone *z, bool *ret_ixfr, struct errmsg *err)
{
	int rcode = 0;
	int r;

	*ret_ixfr = false;
	if (ixfr && z->soa != NULL && z->rrs != NULL) {
		r = transfer_once(primary, zone, key, lim, KNOT_RRTYPE_IXFR, z, &rcode, err);
		if (r >= 0) {
			*ret_ixfr = r == 1;
			return 0;
		}
		/* A primary without IXFR answers with an error rcode, and
		 * differences that do not apply to the zone held (-ESTALE)
		 * cannot be used: the whole zone then. Other failures (a bad
		 * signature, data outside the zone, a stall) stand. */
		bool refused = rcode != KNOT_RCODE_NOERROR && rcode != KNOT_RCODE_NOTAUTH;
		if (!refused && r != -ESTALE)
			return r;
	}
	r = transfer_once(primary, zone, key, lim, KNOT_RRTYPE_AXFR, z, &rcode, err);
	return r < 0 ? r : 0;
}

int xfr_zone_text(const struct xfr_zone *z, struct buf *out)
{
	char *text = malloc(XFR_TEXT_MAX), owner[KNOT_DNAME_TXT_MAXLEN + 1];
	const char *key;
	json_t *ttl;
	int r = text != NULL && z->soa != NULL ? 0 : -EINVAL;

	if (r == 0 &&
	    (knot_dname_to_str(owner, z->soa->owner, sizeof(owner)) == NULL ||
	     knot_rrset_txt_dump_data(z->soa, 0, text, XFR_TEXT_MAX, &KNOT_DUMP_STYLE_DEFAULT) < 0))
		r = -EINVAL;
	if (r == 0)
		r = buf_printf(out, "%s %u IN SOA %s\n", owner, z->soa->ttl, text);
	json_object_foreach(z->rrs, key, ttl) {
		const char *t1 = strchr(key, '\t');
		const char *t2 = t1 != NULL ? strchr(t1 + 1, '\t') : NULL;
		if (r < 0 || t2 == NULL)
			break;
		r = buf_printf(out, "%.*s %lld IN %.*s %s\n", (int)(t1 - key), key,
			       (long long)json_integer_value(ttl), (int)(t2 - t1 - 1), t1 + 1,
			       t2 + 1);
	}
	free(text);
	return r;
}
