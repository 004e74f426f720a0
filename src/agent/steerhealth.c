/* Per-target health read from the node's own PowerDNS (steerhealth.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "backend.h"
#include "dns/dns.h"
#include "dnsaddr.h"
#include "model/steer.h"
#include "steerhealth.h"

#define ANSWER_MAX 65535
#define EDNS_SIZE 4096

struct owners {
	char *v[STEERHEALTH_NAMES_MAX];
	size_t n;
	bool more; /* the zone holds more than STEERHEALTH_NAMES_MAX */
};

static void owners_clear(struct owners *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->v[i]);
	o->n = 0;
}

/* The RRset owner 'owner' (absolute) is the health record of, into
 * 'out': the name after the first label STEER_HEALTH_LABEL, or the
 * wildcard '*' in place of STEER_HEALTH_WILDCARD_LABEL. -EINVAL for
 * another owner. */
static int rrset_of(const char *owner, char out[DNAME_TEXT_MAX])
{
	size_t l = strlen(STEER_HEALTH_LABEL), wl = strlen(STEER_HEALTH_WILDCARD_LABEL);
	int n = -1;

	if (strncmp(owner, STEER_HEALTH_LABEL, l) == 0 && owner[l] == '.')
		n = snprintf(out, DNAME_TEXT_MAX, "%s", owner + l + 1);
	else if (strncmp(owner, STEER_HEALTH_WILDCARD_LABEL, wl) == 0 && owner[wl] == '.')
		n = snprintf(out, DNAME_TEXT_MAX, "*%s", owner + wl);
	return n < 0 || n >= DNAME_TEXT_MAX ? -EINVAL : 0;
}

/* The owners of the zone's health records: LUA TXT records whose first
 * label is STEER_HEALTH_LABEL or STEER_HEALTH_WILDCARD_LABEL (sorted, so
 * each owner comes once in a row). */
static int collect(const char *name, const char *type, const char *content, uint32_t ttl, void *ctx)
{
	struct owners *o = ctx;
	char rrset[DNAME_TEXT_MAX];

	(void)ttl;
	if (strcmp(type, "LUA") != 0 || strncmp(content, "TXT ", 4) != 0 ||
	    rrset_of(name, rrset) < 0)
		return 0;
	if (o->n > 0 && strcmp(o->v[o->n - 1], name) == 0)
		return 0;
	if (o->n == STEERHEALTH_NAMES_MAX) {
		o->more = true;
		return 0;
	}
	o->v[o->n] = strdup(name);
	return o->v[o->n] != NULL ? (o->n++, 0) : -ENOMEM;
}

/* Where PowerDNS answers the node itself: the loopback address among
 * 'dns-address' (a wildcard address stands for its family's loopback). */
static int loopback_target(const struct agent *a, struct sockaddr_storage *ss, socklen_t *len,
			   struct errmsg *err)
{
	const struct addr_prefix *p = dnsaddr_local(&a->conf.dns_addrs);
	if (dnsaddr_is_loopback(p) || dnsaddr_is_wildcard(p)) {
		dnsaddr_sockaddr(p, (unsigned)a->conf.dns_port, true, ss, len);
		return 0;
	}
	return errmsg_set(err, ERR_UNAVAILABLE,
			  "PowerDNS listens on no loopback address (dns-address '%s')",
			  a->conf.dns_address);
}

/* A TXT query for 'owner' with EDNS (a policy of many targets answers
 * with more than 512 bytes) into 'wire'; its id into *id. */
static int build_query(const char *owner, uint8_t *wire, size_t cap, size_t *ret_len, uint16_t *id)
{
	uint8_t qname[KNOT_DNAME_MAXLEN];
	knot_rrset_t opt;

	knot_rrset_init_empty(&opt);
	if (knot_dname_from_str(qname, owner, sizeof(qname)) == NULL)
		return -EINVAL;
	knot_pkt_t *q = knot_pkt_new(wire, (uint16_t)cap, NULL);
	if (q == NULL)
		return -ENOMEM;
	if (getrandom(id, sizeof(*id), 0) != sizeof(*id))
		*id = (uint16_t)time(NULL);
	knot_wire_set_id(q->wire, *id);
	int r = knot_pkt_put_question(q, qname, KNOT_CLASS_IN, KNOT_RRTYPE_TXT);
	if (r == KNOT_EOK)
		r = knot_edns_init(&opt, EDNS_SIZE, 0, 0, NULL);
	if (r == KNOT_EOK)
		r = knot_pkt_begin(q, KNOT_ADDITIONAL);
	if (r == KNOT_EOK)
		r = knot_pkt_put(q, 0, &opt, 0);
	*ret_len = q->size;
	knot_pkt_free(q); /* the OPT record stays ours: freed here */
	knot_rrset_clear(&opt, NULL);
	return r == KNOT_EOK ? 0 : -EINVAL;
}

/* Wait for 'fd' to be ready for 'events' until 't0' plus the timeout. */
static int wait_fd(int fd, short events, const struct timespec *t0, struct errmsg *err)
{
	struct timespec now;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent =
		    (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
		struct pollfd p = { .fd = fd, .events = events };
		int n = spent < STEERHEALTH_TIMEOUT_MS
			    ? poll(&p, 1, (int)(STEERHEALTH_TIMEOUT_MS - spent))
			    : 0;
		if (n > 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return errmsg_set(err, ERR_UNAVAILABLE, "PowerDNS did not answer in %u ms",
				  STEERHEALTH_TIMEOUT_MS);
	}
}

/* Send the query and wait for its answer on connected socket 'fd'. */
static ssize_t exchange(int fd, const uint8_t *q, size_t qlen, uint16_t id, uint8_t *ans,
			struct errmsg *err)
{
	struct timespec t0;

	if (send(fd, q, qlen, 0) != (ssize_t)qlen)
		return errmsg_set(err, ERR_UNAVAILABLE, "sending the query: %s", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int r = wait_fd(fd, POLLIN, &t0, err);
		if (r < 0)
			return r;
		ssize_t n = recv(fd, ans, ANSWER_MAX, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errmsg_set(err, ERR_UNAVAILABLE, "PowerDNS: %s", strerror(errno));
		/* a late answer to an earlier query is not this one's */
		if ((size_t)n >= KNOT_WIRE_HEADER_SIZE && knot_wire_get_id(ans) == id)
			return n;
	}
}

/* The query over TCP (RFC 7766), for an answer too large for UDP: PowerDNS
 * truncates UDP answers at its udp-truncation-threshold (1,232 bytes),
 * whatever the EDNS size asked, and a policy of many targets says more. */
static ssize_t exchange_tcp(const struct sockaddr_storage *ss, socklen_t sslen, const uint8_t *q,
			    size_t qlen, uint16_t id, uint8_t *ans, struct errmsg *err)
{
	struct timespec t0;
	uint8_t msg[2 + 512];
	size_t got = 0, want = 2;
	ssize_t r = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errmsg_set(err, ERR_UNAVAILABLE, "a TCP socket: %s", strerror(errno));
	knot_wire_write_u16(msg, (uint16_t)qlen);
	memcpy(msg + 2, q, qlen);
	if (connect(fd, (const struct sockaddr *)ss, sslen) < 0 && errno != EINPROGRESS)
		r = errmsg_set(err, ERR_UNAVAILABLE, "connecting to PowerDNS over TCP: %s",
			       strerror(errno));
	else if ((r = wait_fd(fd, POLLOUT, &t0, err)) == 0 &&
		 send(fd, msg, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2))
		r = errmsg_set(err, ERR_UNAVAILABLE, "sending the query over TCP: %s",
			       strerror(errno));
	/* the length, then the answer into 'ans' */
	uint8_t len[2];
	while (r == 0 && got < want) {
		if ((r = wait_fd(fd, POLLIN, &t0, err)) < 0)
			break;
		uint8_t *to = want == 2 ? len + got : ans + got;
		ssize_t n = recv(fd, to, want - got, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			r = errmsg_set(err, ERR_UNAVAILABLE, "PowerDNS closed the TCP connection");
			break;
		}
		got += (size_t)n;
		if (want == 2 && got == 2) {
			want = knot_wire_read_u16(len);
			got = 0;
			if (want < KNOT_WIRE_HEADER_SIZE)
				r = errmsg_set(err, ERR_UPSTREAM, "a TCP answer of %zu bytes",
					       want);
		}
	}
	close(fd);
	if (r == 0 && knot_wire_get_id(ans) != id)
		r = errmsg_set(err, ERR_UPSTREAM, "a TCP answer to another query");
	return r < 0 ? r : (ssize_t)got;
}

/* One string of the health record, "TYPE ADDRESS up|down", into the
 * RRset objects of 'rrsets' for owner 'name'. */
static int take_string(json_t *rrsets, const char *name, const char *s, struct errmsg *err)
{
	char type[8], addr[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *sp1 = strchr(s, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;

	if (strcmp(s, "refused") == 0)
		return errmsg_set(err, ERR_UPSTREAM,
				  "PowerDNS refused: the query did not come from loopback");
	if (sp2 == NULL || (size_t)(sp1 - s) >= sizeof(type) ||
	    (size_t)(sp2 - sp1 - 1) >= sizeof(addr))
		return errmsg_set(err, ERR_UPSTREAM, "an unexpected health string '%.60s'", s);
	memcpy(type, s, (size_t)(sp1 - s));
	type[sp1 - s] = '\0';
	memcpy(addr, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	addr[sp2 - sp1 - 1] = '\0';
	int af = strcmp(type, "A") == 0 ? AF_INET : strcmp(type, "AAAA") == 0 ? AF_INET6 : 0;
	const char *state = sp2 + 1;
	if (af == 0 || inet_pton(af, addr, bin) != 1 ||
	    (strcmp(state, "up") != 0 && strcmp(state, "down") != 0))
		return errmsg_set(err, ERR_UPSTREAM, "an unexpected health string '%.60s'", s);
	json_t *set = NULL, *o;
	size_t i;
	json_array_foreach(rrsets, i, o) {
		if (strcmp(json_string_value(json_object_get(o, "name")), name) == 0 &&
		    strcmp(json_string_value(json_object_get(o, "type")), type) == 0)
			set = o;
	}
	if (set == NULL) {
		set = json_pack("{s:s,s:s,s:{}}", "name", name, "type", type, "targets");
		if (set == NULL || json_array_append_new(rrsets, set) < 0)
			return -ENOMEM;
	}
	return json_object_set_new(json_object_get(set, "targets"), addr, json_string(state));
}

/* The TXT answer 'ans' ('len' bytes) for health owner 'owner' of RRset
 * owner 'name', into 'rrsets'. */
static int take_answer(json_t *rrsets, const char *name, uint8_t *ans, size_t len,
		       struct errmsg *err)
{
	knot_pkt_t *pkt = knot_pkt_new(ans, (uint16_t)len, NULL);
	if (pkt == NULL)
		return -ENOMEM;
	int r = knot_pkt_parse(pkt, 0);
	if (r != KNOT_EOK)
		r = errmsg_set(err, ERR_UPSTREAM, "a malformed answer: %s", knot_strerror(r));
	else if (knot_wire_get_tc(pkt->wire))
		r = errmsg_set(err, ERR_UPSTREAM, "the answer was truncated");
	else if (knot_pkt_ext_rcode(pkt) != KNOT_RCODE_NOERROR)
		r = errmsg_set(err, ERR_UPSTREAM, "PowerDNS answered %s (is the record served?)",
			       knot_pkt_ext_rcode_name(pkt));
	const knot_pktsection_t *an = knot_pkt_section(pkt, KNOT_ANSWER);
	for (uint16_t i = 0; r == 0 && i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->type != KNOT_RRTYPE_TXT)
			continue;
		for (uint16_t k = 0; r == 0 && k < rr->rrs.count; k++) {
			const knot_rdata_t *rd = knot_rdataset_at(&rr->rrs, k);
			char s[256 * 2];
			size_t sl = 0;
			/* character-strings, each a length byte and its bytes */
			for (size_t p = 0; p < rd->len && sl < sizeof(s) - 1;) {
				size_t l = rd->data[p++];
				for (size_t q = 0; q < l && p < rd->len && sl < sizeof(s) - 1; q++)
					s[sl++] = (char)rd->data[p++];
			}
			s[sl] = '\0';
			r = take_string(rrsets, name, s, err);
		}
	}
	knot_pkt_free(pkt);
	return r;
}

/* Read health owner 'owner' into 'rrsets' ({"name", "error"} when it
 * cannot be read). 'fd' is a UDP socket connected to PowerDNS at 'ss'; a
 * truncated answer is asked again over TCP. A failure to reach PowerDNS
 * at all is returned: the caller stops there. */
static int read_owner(int fd, const struct sockaddr_storage *ss, socklen_t sslen, const char *owner,
		      json_t *rrsets, struct errmsg *err)
{
	uint8_t q[512] = { 0 }, *ans = NULL; /* knot_pkt_new() keeps a given header */
	char name[DNAME_TEXT_MAX];
	size_t qlen = 0;
	uint16_t id = 0;
	ssize_t n = -1;

	if (rrset_of(owner, name) < 0) /* collect() took only these */
		return -EINVAL;
	ans = malloc(ANSWER_MAX);
	if (ans == NULL)
		return -ENOMEM;
	int r = build_query(owner, q, sizeof(q), &qlen, &id);
	if (r < 0)
		r = errmsg_set(err, r, "building the query for '%s'", owner);
	else
		n = exchange(fd, q, qlen, id, ans, err);
	struct errmsg one;
	if (n >= KNOT_WIRE_HEADER_SIZE && knot_wire_get_tc(ans)) {
		n = exchange_tcp(ss, sslen, q, qlen, id, ans, &one);
		/* A bad answer over TCP is this owner's error; PowerDNS not
		 * answering stops the reading, as over UDP. */
		if (n == ERR_UPSTREAM) {
			free(ans);
			json_t *o = json_pack("{s:s,s:s}", "name", name, "error", one.text);
			return o != NULL && json_array_append_new(rrsets, o) == 0 ? 0 : -ENOMEM;
		}
		if (n < 0)
			*err = one;
	}
	if (n < 0) {
		free(ans);
		return r < 0 ? r : (int)n;
	}
	json_t *mine = json_array();
	r = mine != NULL ? take_answer(mine, name, ans, (size_t)n, &one) : -ENOMEM;
	free(ans);
	if (r == -ENOMEM) {
		json_decref(mine);
		return r;
	}
	if (r < 0) {
		json_decref(mine);
		json_t *o = json_pack("{s:s,s:s}", "name", name, "error", one.text);
		return o != NULL && json_array_append_new(rrsets, o) == 0 ? 0 : -ENOMEM;
	}
	r = json_array_extend(rrsets, mine) == 0 ? 0 : -ENOMEM;
	json_decref(mine);
	return r;
}

int steerhealth_read(struct agent *a, const char *zone, json_t **ret, struct errmsg *err)
{
	struct owners o = { .n = 0 };
	struct sockaddr_storage ss;
	socklen_t sslen = 0;

	pthread_mutex_lock(&a->db_lock);
	int r = backend_zone_records(a->db, zone, collect, &o);
	pthread_mutex_unlock(&a->db_lock);
	if (r < 0) {
		owners_clear(&o);
		return r == -ENOENT ? errmsg_set(err, r, "zone is not served by this node")
				    : errmsg_set(err, r, "reading the zone: %s", err_str(r));
	}
	json_t *rrsets = json_array();
	int fd = -1;
	r = rrsets != NULL ? 0 : -ENOMEM;
	if (r == 0 && o.n > 0)
		r = loopback_target(a, &ss, &sslen, err);
	if (r == 0 && o.n > 0) {
		fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sslen) < 0)
			r = errmsg_set(err, ERR_UNAVAILABLE, "a socket to PowerDNS: %s",
				       strerror(errno));
	}
	for (size_t i = 0; r == 0 && i < o.n; i++)
		r = read_owner(fd, &ss, sslen, o.v[i], rrsets, err);
	if (fd >= 0)
		close(fd);
	owners_clear(&o);
	if (r < 0) {
		json_decref(rrsets);
		return r;
	}
	json_t *out = json_pack("{s:s,s:I,s:o}", "zone", zone, "read_at", (json_int_t)time(NULL),
				"rrsets", rrsets);
	if (out != NULL && o.more)
		json_object_set_new(out, "truncated", json_true());
	if (out == NULL)
		return errmsg_set(err, -ENOMEM, "out of memory");
	*ret = out;
	return 0;
}
