/* The transfer port (xfrl.h): a thread for UDP, one that accepts TCP
 * connections, and one thread per connection (at most
 * transfer-tcp-clients), each with blocking sockets that time out. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "backend.h"
#include "base/addrlist.h"
#include "base/log.h"
#include "base/secret.h"
#include "dns/tsigsrv.h"
#include "dns/xfrend.h"
#include "dnsaddr.h"
#include "model/xfr.h"
#include "xfr.h"
#include "xfrl.h"

#define MSG_MAX KNOT_WIRE_MAX_PKTSIZE
#define IO_TIMEOUT_S 10
/* A question over TCP, its length included, is read within this time of
 * waiting for it: a client trickling bytes holds a connection no longer. */
#define QUESTION_MS 5000
#define POLL_MS 200
#define RELAY_ALG "hmac-sha512"

struct xfrl {
	struct agent *a;
	int udp[DNSADDR_MAX], tcp[DNSADDR_MAX]; /* one of each per dns-address */
	unsigned nsock;
	pthread_t udp_thread, tcp_thread;
	atomic_bool stopping;
	pthread_mutex_t lock;
	struct conn **active; /* the TCP connections served, transfer-tcp-clients */
	unsigned nactive;
	knot_tsig_key_t relay;
	struct sockaddr_storage pdns; /* the node's PowerDNS */
	socklen_t pdns_len;
};

/* One question and its answer. */
struct ask {
	struct xfrl *l;
	knot_pkt_t *q;
	uint16_t qtype;
	const struct sockaddr_storage *from;
	socklen_t from_len;
	char peer[INET6_ADDRSTRLEN + 8];
	char zone[DNAME_TEXT_MAX];
	char key_name[DNAME_TEXT_MAX];
	int fd;	 /* the client's TCP connection, or -1 for UDP */
	int udp; /* over UDP: the socket the question came in on */
	struct tsigsrv tsig;
	struct errmsg why;
	uint8_t *in;  /* MSG_MAX + 2: the question, with its TCP length in front */
	uint8_t *buf; /* MSG_MAX + 2: an answer message, the same */
};

static const char *rcode_name(int rcode)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	return rcode == KNOT_RCODE_NOERROR ? "relay failed for" : l != NULL ? l->name : "?";
}

/* At most ten lines a second about refused or broken questions. */
static bool may_log(void)
{
	static _Atomic time_t second;
	static atomic_int count;
	time_t now = time(NULL);
	if (atomic_exchange(&second, now) != now)
		atomic_store(&count, 0);
	return atomic_fetch_add(&count, 1) < 10;
}

/* A name in presentation form, lower case, sanitised for the log. */
static void text_name(const knot_dname_t *name, char out[DNAME_TEXT_MAX])
{
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	if (name == NULL || knot_dname_to_str(text, name, sizeof(text)) == NULL)
		snprintf(text, sizeof(text), "?");
	for (char *p = text; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	log_sanitize(text, out, DNAME_TEXT_MAX);
}

static void set_timeouts(int fd)
{
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Exactly 'len' bytes by 'deadline' (agent_mono_s()); -1 at the end of
 * the stream, an error or the deadline. */
static int read_by(int fd, uint8_t *p, size_t len, double deadline)
{
	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = deadline - agent_mono_s();
		int n = left > 0 ? poll(&pfd, 1, (int)(left * 1000) + 1) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		ssize_t got = recv(fd, p, len, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		p += got;
		len -= (size_t)got;
	}
	return 0;
}

/* read_by() within IO_TIMEOUT_S. */
static int read_all(int fd, uint8_t *p, size_t len)
{
	return read_by(fd, p, len, agent_mono_s() + IO_TIMEOUT_S);
}

/* Send answer message k->buf + 2 of 'len' bytes to the client. */
static int emit(struct ask *k, size_t len)
{
	if (k->fd < 0)
		return sendto(k->udp, k->buf + 2, len, 0, (const struct sockaddr *)k->from,
			      k->from_len) < 0
			   ? -1
			   : 0;
	k->buf[0] = (uint8_t)(len >> 8);
	k->buf[1] = (uint8_t)len;
	return write_all(k->fd, k->buf, len + 2);
}

/* An answer without records: 'rcode', and TC when 'truncated'. */
static int answer_empty(struct ask *k, int rcode, bool truncated)
{
	uint8_t *out = k->buf + 2;
	knot_pkt_t *resp = knot_pkt_new(out, MSG_MAX, NULL);
	size_t len = 0;
	if (resp != NULL && knot_pkt_init_response(resp, k->q) == KNOT_EOK) {
		knot_wire_set_rcode(resp->wire, (short)rcode);
		if (truncated)
			knot_wire_set_tc(resp->wire);
		else
			knot_wire_clear_aa(resp->wire);
		len = resp->size;
	}
	knot_pkt_free(resp);
	if (len == 0 || tsigsrv_sign(&k->tsig, k->q, out, &len, MSG_MAX) != KNOT_EOK)
		len = tsigsrv_header_only(k->q->wire, out, KNOT_RCODE_SERVFAIL);
	return emit(k, len);
}

/* The key a TSIG names, from PowerDNS's tsigkeys; never the relay's. */
static int key_of(struct agent *a, const char *name, knot_tsig_key_t *ret)
{
	char alg[32], secret[160];
	if (strcmp(name, XFR_RELAY_KEY) == 0)
		return ERR_NOT_FOUND;
	int r = backend_tsig_get(a->db, name, alg, sizeof(alg), secret, sizeof(secret));
	if (r == -ENOENT)
		return ERR_NOT_FOUND;
	if (r == 0 && knot_tsig_key_init(ret, alg, name, secret) != KNOT_EOK)
		r = -EINVAL;
	memset(secret, 0, sizeof(secret));
	return r;
}

/* Whether one of 't's "allow" pairs names both the client's address and
 * the key it signed with. */
static bool allowed(const json_t *t, const struct ask *k)
{
	const json_t *p;
	size_t i;
	json_array_foreach(json_object_get(t, "allow"), i, p) {
		const char *from = json_string_value(json_object_get(p, "from"));
		const char *key = json_string_value(json_object_get(p, "key"));
		if (from != NULL && key != NULL && strcasecmp(key, k->key_name) == 0 &&
		    xfr_prefix_contains(from, k->from))
			return true;
	}
	return false;
}

/* The RCODE for the question: NOERROR when it may go on to PowerDNS. */
static int authorize(struct ask *k)
{
	const knot_rrset_t *tsig = k->q->tsig_rr;
	struct agent *a = k->l->a;
	int lookup = 0;

	text_name(knot_pkt_qname(k->q), k->zone);
	/* Refused before the database is asked: a flood of unsigned
	 * questions costs no lookups and no turn of db_lock. */
	if (tsig == NULL) {
		errmsg_set(&k->why, 0, "not signed");
		return KNOT_RCODE_REFUSED;
	}
	pthread_mutex_lock(&a->db_lock);
	json_t *t = xfr_read(a, k->zone);
	text_name(tsig->owner, k->key_name);
	lookup = key_of(a, k->key_name, &k->tsig.key);
	pthread_mutex_unlock(&a->db_lock);
	int rcode = tsigsrv_verify(&k->tsig, k->q, lookup, k->key_name, &k->why);
	if (rcode == KNOT_RCODE_NOERROR && !allowed(t, k)) {
		errmsg_set(&k->why, 0, "key '%s' from this address may not transfer it",
			   k->key_name);
		rcode = KNOT_RCODE_REFUSED;
	}
	json_decref(t);
	return rcode;
}

static int pdns_socket(struct xfrl *l, int type)
{
	int fd = socket(l->pdns.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	set_timeouts(fd);
	if (connect(fd, (const struct sockaddr *)&l->pdns, l->pdns_len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An answer message from PowerDNS in k->buf + 2 ('len' bytes): checked,
 * its TSIG (the relay's) taken off, signed for the client and sent. */
static int pass_on(struct ask *k, size_t len, size_t max, struct xfr_end *f)
{
	uint8_t *msg = k->buf + 2;
	knot_pkt_t *pkt = knot_pkt_new(msg, (uint16_t)len, NULL);
	if (pkt == NULL)
		return -1;
	int r = knot_pkt_parse(pkt, 0);
	if (r != KNOT_EOK || !knot_wire_get_qr(msg) ||
	    knot_wire_get_id(msg) != knot_wire_get_id(k->q->wire)) {
		errmsg_set(&k->why, 0, "powerdns gave a bad answer: %s",
			   r != KNOT_EOK ? knot_strerror(r) : "another id");
		knot_pkt_free(pkt);
		return -1;
	}
	xfr_end_message(f, pkt);
	len = pkt->size;
	knot_pkt_free(pkt);
	r = tsigsrv_sign(&k->tsig, k->q, msg, &len, max);
	if (r == KNOT_ESPACE && k->fd < 0) /* UDP: the client asks again over TCP */
		return answer_empty(k, KNOT_RCODE_NOERROR, true);
	if (r != KNOT_EOK) {
		errmsg_set(&k->why, 0, "signing the answer: %s", knot_strerror(r));
		return -1;
	}
	return emit(k, len);
}

/* The question without its TSIG (taken off by the parse), over UDP: the
 * SOA, answered in one message as large as the client said it takes. */
static int relay_udp(struct ask *k)
{
	int fd = pdns_socket(k->l, SOCK_DGRAM);
	size_t max = k->q->opt_rr != NULL ? knot_edns_get_payload(k->q->opt_rr) : 512;
	struct xfr_end f;
	ssize_t n = -1;
	xfr_end_init(&f, k->q);
	if (fd >= 0 && send(fd, k->q->wire, k->q->size, 0) == (ssize_t)k->q->size)
		n = recv(fd, k->buf + 2, MSG_MAX, 0);
	if (fd >= 0)
		close(fd);
	if (n < KNOT_WIRE_HEADER_SIZE) {
		errmsg_set(&k->why, 0, "powerdns does not answer");
		return answer_empty(k, KNOT_RCODE_SERVFAIL, false);
	}
	return pass_on(k, (size_t)n, max < 512 ? 512 : max > MSG_MAX ? MSG_MAX : max, &f);
}

/* Over TCP, signed with the relay's key, each message of the answer
 * passed on until the transfer ends. */
static int relay_tcp(struct ask *k)
{
	struct xfrl *l = k->l;
	uint8_t *q = k->buf + 2, digest[TSIGSRV_MAC_MAX];
	size_t len = k->q->size, dlen = sizeof(digest);
	struct xfr_end f;
	xfr_end_init(&f, k->q);

	memcpy(q, k->q->wire, len);
	int fd = pdns_socket(l, SOCK_STREAM);
	if (fd < 0 ||
	    knot_tsig_sign(q, &len, MSG_MAX, NULL, 0, digest, &dlen, &l->relay, 0, 0) != KNOT_EOK ||
	    (k->buf[0] = (uint8_t)(len >> 8), k->buf[1] = (uint8_t)len,
	     write_all(fd, k->buf, len + 2) < 0)) {
		if (fd >= 0)
			close(fd);
		errmsg_set(&k->why, 0, "powerdns does not answer");
		return answer_empty(k, KNOT_RCODE_SERVFAIL, false);
	}
	int r = 0;
	while (r == 0 && !f.done) {
		uint8_t lb[2];
		r = read_all(fd, lb, 2);
		len = ((size_t)lb[0] << 8) | lb[1];
		if (r == 0 && (len < KNOT_WIRE_HEADER_SIZE || read_all(fd, k->buf + 2, len) < 0))
			r = -1;
		if (r < 0)
			errmsg_set(&k->why, 0, "powerdns ended the transfer early");
		else
			r = pass_on(k, len, MSG_MAX, &f);
	}
	close(fd);
	return r;
}

/* Answer one question ('len' bytes in k->in + 2): -1 to close a TCP
 * connection. */
static int serve(struct ask *k, size_t len)
{
	uint8_t *wire = k->in + 2;
	if (len < KNOT_WIRE_HEADER_SIZE || knot_wire_get_qr(wire))
		return k->fd < 0 ? 0 : -1; /* never answer an answer */
	k->q = knot_pkt_new(wire, (uint16_t)len, NULL);
	if (k->q == NULL)
		return -1;
	int r = knot_pkt_parse(k->q, 0), rcode = KNOT_RCODE_FORMERR;
	if (r != KNOT_EOK) {
		errmsg_set(&k->why, 0, "malformed: %s", knot_strerror(r));
		r = emit(k, tsigsrv_header_only(wire, k->buf + 2, KNOT_RCODE_FORMERR));
		goto out;
	}
	k->qtype = knot_pkt_qtype(k->q);
	bool xfr = k->qtype == KNOT_RRTYPE_AXFR || k->qtype == KNOT_RRTYPE_IXFR;
	if (knot_wire_get_opcode(wire) != KNOT_OPCODE_QUERY || (xfr && k->fd < 0)) {
		rcode = KNOT_RCODE_NOTIMPL;
		errmsg_set(&k->why, 0, "%s", xfr ? "a transfer over UDP" : "not a QUERY");
	} else if (knot_wire_get_qdcount(wire) != 1) {
		errmsg_set(&k->why, 0, "not one question");
	} else if (!xfr && k->qtype != KNOT_RRTYPE_SOA) {
		rcode = KNOT_RCODE_REFUSED;
		errmsg_set(&k->why, 0, "this port answers SOA, AXFR and IXFR only");
	} else {
		rcode = authorize(k);
	}
	if (rcode != KNOT_RCODE_NOERROR)
		r = answer_empty(k, rcode, false);
	else if (k->fd < 0)
		r = relay_udp(k);
	else
		r = relay_tcp(k);
	if (rcode == KNOT_RCODE_NOERROR && xfr && r == 0)
		log_info("transfer: %s of '%s' to %s with key '%s'",
			 k->qtype == KNOT_RRTYPE_AXFR ? "AXFR" : "IXFR", k->zone, k->peer,
			 k->key_name);
out:
	if ((rcode != KNOT_RCODE_NOERROR || r < 0) && may_log())
		log_notice("transfer: %s '%s' from %s: %s%s%s", rcode_name(rcode),
			   k->zone[0] ? k->zone : "?", k->peer,
			   k->why.text[0] ? k->why.text : "refused",
			   k->tsig.tsig_rcode ? ", TSIG error " : "",
			   k->tsig.tsig_rcode ? tsigsrv_error_name(k->tsig.tsig_rcode) : "");
	tsigsrv_clear(&k->tsig);
	knot_pkt_free(k->q);
	k->q = NULL;
	/* A refused question ends its TCP connection: its place among
	 * transfer-tcp-clients is for clients that may transfer. */
	return k->fd >= 0 && rcode != KNOT_RCODE_NOERROR ? -1 : r;
}

/* --- the sockets --------------------------------------------------------- */

static void *udp_loop(void *arg)
{
	struct xfrl *l = arg;
	struct sockaddr_storage from;
	struct ask k = { .l = l, .fd = -1, .from = &from };
	k.in = malloc(MSG_MAX + 2);
	k.buf = malloc(MSG_MAX + 2);
	struct pollfd pfd[DNSADDR_MAX];
	for (unsigned i = 0; i < l->nsock; i++)
		pfd[i] = (struct pollfd){ .fd = l->udp[i], .events = POLLIN };
	while (k.in != NULL && k.buf != NULL && !atomic_load(&l->stopping)) {
		if (poll(pfd, l->nsock, POLL_MS) <= 0)
			continue;
		for (unsigned i = 0; i < l->nsock; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			k.udp = pfd[i].fd;
			k.from_len = sizeof(from);
			ssize_t n = recvfrom(k.udp, k.in + 2, MSG_MAX, MSG_DONTWAIT,
					     (struct sockaddr *)&from, &k.from_len);
			if (n < 0)
				continue;
			addr_text(&from, k.peer, sizeof(k.peer));
			k.zone[0] = k.key_name[0] = '\0';
			k.why.text[0] = '\0';
			serve(&k, (size_t)n);
		}
	}
	free(k.in);
	free(k.buf);
	return NULL;
}

struct conn {
	struct xfrl *l;
	int fd;
	struct sockaddr_storage from;
	socklen_t from_len;
};

/* Take a place for 'c' among the connections served: NULL, or why not. */
static const char *join(struct conn *c)
{
	struct xfrl *l = c->l;
	const struct agent_conf *conf = &l->a->conf;
	unsigned same = 0;
	const char *why = NULL;
	pthread_mutex_lock(&l->lock);
	for (unsigned i = 0; i < l->nactive; i++)
		same += addr_same_client(&l->active[i]->from, &c->from);
	if (l->nactive >= conf->transfer_tcp_clients)
		why = "transfer-tcp-clients";
	else if (same >= conf->transfer_tcp_clients_per_address)
		why = "transfer-tcp-clients-per-address";
	else
		l->active[l->nactive++] = c;
	pthread_mutex_unlock(&l->lock);
	return why;
}

/* Give up the place of 'c' and free it. */
static void leave(struct conn *c)
{
	struct xfrl *l = c->l;
	pthread_mutex_lock(&l->lock);
	for (unsigned i = 0; i < l->nactive; i++)
		if (l->active[i] == c) {
			l->active[i] = l->active[--l->nactive];
			break;
		}
	pthread_mutex_unlock(&l->lock);
	free(c);
}

static unsigned active_count(struct xfrl *l)
{
	pthread_mutex_lock(&l->lock);
	unsigned n = l->nactive;
	pthread_mutex_unlock(&l->lock);
	return n;
}

static void *conn_loop(void *arg)
{
	struct conn *c = arg;
	struct ask k = { .l = c->l, .fd = c->fd, .from = &c->from, .from_len = c->from_len };
	k.in = malloc(MSG_MAX + 2);
	k.buf = malloc(MSG_MAX + 2);
	addr_text(&c->from, k.peer, sizeof(k.peer));
	set_timeouts(c->fd);
	while (k.in != NULL && k.buf != NULL && !atomic_load(&c->l->stopping)) {
		double deadline = agent_mono_s() + QUESTION_MS / 1000.0;
		if (read_by(c->fd, k.in, 2, deadline) < 0)
			break;
		size_t len = ((size_t)k.in[0] << 8) | k.in[1];
		if (len < KNOT_WIRE_HEADER_SIZE || read_by(c->fd, k.in + 2, len, deadline) < 0)
			break;
		k.zone[0] = k.key_name[0] = '\0';
		k.why.text[0] = '\0';
		if (serve(&k, len) < 0)
			break;
	}
	close(c->fd);
	free(k.in);
	free(k.buf);
	leave(c);
	return NULL;
}

/* Accept a connection on listening socket 'fd' and serve it on a thread
 * of its own, if there is a place for it. */
static void take(struct xfrl *l, int fd, const pthread_attr_t *attr)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	c->l = l;
	c->from_len = sizeof(c->from);
	c->fd = accept4(fd, (struct sockaddr *)&c->from, &c->from_len, SOCK_CLOEXEC);
	if (c->fd < 0) {
		free(c);
		return;
	}
	pthread_t t;
	const char *why = join(c);
	if (why == NULL && pthread_create(&t, attr, conn_loop, c) == 0)
		return;
	char peer[INET6_ADDRSTRLEN + 8];
	addr_text(&c->from, peer, sizeof(peer));
	if (may_log())
		log_notice("transfer: connection from %s closed: %s", peer,
			   why != NULL ? why : "no thread for it");
	close(c->fd);
	if (why == NULL)
		leave(c);
	else
		free(c);
}

static void *tcp_loop(void *arg)
{
	struct xfrl *l = arg;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	struct pollfd pfd[DNSADDR_MAX];
	for (unsigned i = 0; i < l->nsock; i++)
		pfd[i] = (struct pollfd){ .fd = l->tcp[i], .events = POLLIN };
	while (!atomic_load(&l->stopping)) {
		if (poll(pfd, l->nsock, POLL_MS) <= 0)
			continue;
		for (unsigned i = 0; i < l->nsock; i++)
			if (pfd[i].revents & POLLIN)
				take(l, pfd[i].fd, &attr);
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

static int listen_on(struct xfrl *l, const struct sockaddr_storage *sa, socklen_t len, int type)
{
	int one = 1;
	int fd = socket(sa->ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		int r = -errno;
		close(fd);
		return r;
	}
	(void)l;
	return fd;
}

/* A new random key for the relay, in PowerDNS's tsigkeys and in 'l'. Its
 * secret is 64 hexadecimal digits, which are base64 too (48 bytes). */
static int make_relay_key(struct xfrl *l)
{
	char secret[65];
	struct agent *a = l->a;
	int r = secret_random_hex(secret, sizeof(secret), 32);
	if (r == 0) {
		pthread_mutex_lock(&a->db_lock);
		r = backend_begin(a->db);
		if (r == 0 && (r = backend_tsig_put(a->db, XFR_RELAY_KEY, RELAY_ALG, secret)) == 0)
			r = backend_commit(a->db);
		else if (r == 0)
			backend_rollback(a->db);
		pthread_mutex_unlock(&a->db_lock);
	}
	if (r == 0 && knot_tsig_key_init(&l->relay, RELAY_ALG, XFR_RELAY_KEY, secret) != KNOT_EOK)
		r = -EINVAL;
	memset(secret, 0, sizeof(secret));
	return r;
}

/* Closes what 'l' holds and frees it; knot_tsig_key_deinit() takes a key
 * never made. */
static void xfrl_free(struct xfrl *l)
{
	for (unsigned i = 0; i < l->nsock; i++) {
		close(l->udp[i]);
		close(l->tcp[i]);
	}
	knot_tsig_key_deinit(&l->relay);
	pthread_mutex_destroy(&l->lock);
	free(l->active);
	free(l);
}

/* A UDP and a TCP socket on each of the node's DNS addresses at 'port'. */
static int listen_all(struct xfrl *l, unsigned port, char *where, size_t len)
{
	const struct addrlist *addrs = &l->a->conf.dns_addrs;
	for (unsigned i = 0; i < addrs->n; i++) {
		struct sockaddr_storage sa;
		socklen_t salen;
		dnsaddr_sockaddr(&addrs->v[i], port, false, &sa, &salen);
		int u = listen_on(l, &sa, salen, SOCK_DGRAM);
		int t = u < 0 ? -1 : listen_on(l, &sa, salen, SOCK_STREAM);
		if (u < 0 || t < 0) {
			if (u >= 0)
				close(u);
			addr_text(&sa, where, len);
			return u < 0 ? u : t;
		}
		l->udp[l->nsock] = u;
		l->tcp[l->nsock++] = t;
	}
	return 0;
}

int xfrl_start(struct agent *a, struct xfrl **ret, struct errmsg *err)
{
	unsigned port = (unsigned)a->conf.transfer_port;
	char where[INET6_ADDRSTRLEN + 8] = "";

	*ret = NULL;
	if (port == 0)
		return 0;
	struct xfrl *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return errmsg_set(err, -ENOMEM, "transfer port: out of memory");
	l->a = a;
	pthread_mutex_init(&l->lock, NULL);
	l->active = calloc(a->conf.transfer_tcp_clients, sizeof(*l->active));
	if (l->active == NULL) {
		xfrl_free(l);
		return errmsg_set(err, -ENOMEM, "transfer port: out of memory");
	}
	dnsaddr_sockaddr(dnsaddr_local(&a->conf.dns_addrs), (unsigned)a->conf.dns_port, true,
			 &l->pdns, &l->pdns_len);
	int r = make_relay_key(l);
	if (r < 0) {
		xfrl_free(l);
		return errmsg_set(err, r, "transfer port: the relay key: %s", err_str(r));
	}
	r = listen_all(l, port, where, sizeof(where));
	if (r == 0 && (r = -pthread_create(&l->udp_thread, NULL, udp_loop, l)) == 0 &&
	    (r = -pthread_create(&l->tcp_thread, NULL, tcp_loop, l)) < 0) {
		atomic_store(&l->stopping, true);
		pthread_join(l->udp_thread, NULL);
	}
	if (r < 0) {
		xfrl_free(l);
		return errmsg_set(err, r, "transfer port %u%s%s: %s", port, where[0] ? " on " : "",
				  where, err_str(r));
	}
	log_notice("transfer port: %s %u", a->conf.dns_address, port);
	*ret = l;
	return 0;
}

void xfrl_stop(struct xfrl *l)
{
	if (l == NULL)
		return;
	atomic_store(&l->stopping, true);
	pthread_join(l->udp_thread, NULL);
	pthread_join(l->tcp_thread, NULL);
	/* A connection ends within IO_TIMEOUT_S; one still open at exit keeps
	 * 'l', which is then not freed. */
	for (int i = 0; i < 20 && active_count(l) > 0; i++) {
		struct timespec ts = { 0, 100000000L };
		nanosleep(&ts, NULL);
	}
	if (active_count(l) == 0)
		xfrl_free(l);
}
