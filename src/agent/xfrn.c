/* NOTIFY to the zones' own secondaries (xfrn.h): one thread, one UDP
 * socket per address family, the messages awaiting an answer in a table. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "backend.h"
#include "base/addrlist.h"
#include "base/log.h"
#include "dnsaddr.h"
#include "model/xfr.h"
#include "pdns.h"
#include "repurge.h"
#include "xfr.h"
#include "xfrn.h"

#define QUEUE_MAX 65536 /* zones waiting */
#define FLIGHT_MAX 1024 /* messages awaiting an answer */
#define TRIES 5		/* sends of one message, 1 + 2 + 4 + 8 s apart */
#define MSG_MAX 1024	/* a question and a TSIG */
#define POLL_MS 50	/* how often the queue is looked at while answers are due */
/* A zone notified again within TRAIL_MS of its last NOTIFY is changing in
 * a burst: once the newest NOTIFY is answered, it is sent once more
 * TRAIL_MS later. A secondary still transferring an earlier version may
 * answer a NOTIFY without acting on it; without this it would stay behind
 * until the SOA refresh timer, hours later. BIND's notify-delay coalesces
 * a burst the same way, after it rather than at its start. */
#define TRAIL_MS 2000
#define RECENT_SLOTS 4096 /* zones whose last NOTIFY time is kept (lossy) */

struct sent {
	struct xfr_primary to;
	uint16_t id;
	uint8_t wire[MSG_MAX];
	size_t len;
	int tries;
	int64_t due; /* ms, CLOCK_MONOTONIC: the next send */
	bool trail;  /* sent once more TRAIL_MS after it is answered */
	char zone[DNAME_TEXT_MAX];
};

/* When a zone was last notified, by a hash of its name. */
struct recent {
	uint64_t hash;
	int64_t at; /* ms, CLOCK_MONOTONIC */
};

struct xfrn {
	struct agent *a;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
	struct waiting {
		char *zone;
		uint64_t mark; /* sent once the second purges up to it are done */
		bool own;      /* to the zone's own secondaries */
		bool node;     /* by PowerDNS, to the node's also-notify */
	} * queue;	       /* a ring of QUEUE_MAX, marks never decrease */
	struct pdns *pdns;     /* this thread's connection, for 'node' */
	size_t head, n;
	uint64_t dropped; /* zones not queued since the last one queued */
	int fd[2];	  /* IPv4, IPv6 */
	struct sent *fly;
	size_t nfly;
	struct recent *recent; /* RECENT_SLOTS of them */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void xfrn_queue(struct xfrn *x, const char *zone, bool own, bool node)
{
	if (x == NULL || (!own && !node))
		return;
	pthread_mutex_lock(&x->lock);
	char *copy = x->n < QUEUE_MAX ? strdup(zone) : NULL;
	uint64_t dropped = copy == NULL ? ++x->dropped : 0;
	if (copy != NULL) {
		x->dropped = 0; /* a new overflow is logged from its first drop */
		x->queue[(x->head + x->n) % QUEUE_MAX] = (struct waiting){
			.zone = copy,
			.mark = repurge_mark(x->a->repurge),
			.own = own,
			.node = node,
		};
		x->n++;
		pthread_cond_signal(&x->cond);
	}
	pthread_mutex_unlock(&x->lock);
	/* A full sync can overflow the queue by many zones: a line for the
	 * first and then every thousandth of a run of drops, not one per zone. */
	if (dropped % 1000 == 1)
		log_warn("zone '%s': NOTIFY not sent: %d zones are waiting already (%llu "
			 "zones not notified in a row; their secondaries refresh on the SOA "
			 "timers)",
			 zone, QUEUE_MAX, (unsigned long long)dropped);
}

/* A signed (when 'key' is given) NOTIFY for the SOA of 'zone' into 's'. */
static int build(struct sent *s, const char *zone, const knot_tsig_key_t *key)
{
	knot_dname_t name[KNOT_DNAME_MAXLEN];
	uint8_t digest[64];
	size_t dlen = sizeof(digest);

	if (knot_dname_from_str(name, zone, sizeof(name)) == NULL)
		return -EINVAL;
	memset(s->wire, 0, sizeof(s->wire));
	knot_pkt_t *p = knot_pkt_new(s->wire, sizeof(s->wire), NULL);
	if (p == NULL)
		return -ENOMEM;
	(void)getrandom(&s->id, sizeof(s->id), 0);
	knot_wire_set_id(p->wire, s->id);
	knot_wire_set_opcode(p->wire, KNOT_OPCODE_NOTIFY);
	knot_wire_set_aa(p->wire);
	int r = knot_pkt_put_question(p, name, KNOT_CLASS_IN, KNOT_RRTYPE_SOA);
	s->len = p->size;
	if (r == KNOT_EOK && key != NULL)
		r = knot_tsig_sign(p->wire, &s->len, p->max_size, NULL, 0, digest, &dlen, key, 0,
				   0);
	knot_pkt_free(p);
	return r == KNOT_EOK ? 0 : -EINVAL;
}

static void send_one(struct xfrn *x, struct sent *s)
{
	int fd = x->fd[s->to.addr.ss_family == AF_INET6];
	if (fd < 0 ||
	    sendto(fd, s->wire, s->len, 0, (const struct sockaddr *)&s->to.addr, s->to.len) < 0)
		log_debug("zone '%s': NOTIFY to %s: %s", s->zone, s->to.text,
			  fd < 0 ? "no socket" : strerror(errno));
	s->tries++;
	s->due = now_ms() + (1000LL << (s->tries - 1));
}

/* The key of the zone's first "allow" pair, from PowerDNS's tsigkeys. */
static bool zone_key(struct agent *a, const json_t *t, knot_tsig_key_t *ret)
{
	const char *name = json_string_value(
	    json_object_get(json_array_get(json_object_get(t, "allow"), 0), "key"));
	char alg[32], secret[160];
	return name != NULL &&
	       backend_tsig_get(a->db, name, alg, sizeof(alg), secret, sizeof(secret)) == 0 &&
	       knot_tsig_key_init(ret, alg, name, secret) == KNOT_EOK;
}

/* PowerDNS sends the NOTIFYs of 'zone' to the node's also-notify: false
 * when PowerDNS did not answer (a refusal of this one zone is logged and
 * counts as an answer). */
static bool ask_pdns(struct xfrn *x, const char *zone)
{
	int r = pdns_notify(x->pdns, zone);
	if (r == 0)
		return true;
	char why[256];
	pdns_last_error(why, sizeof(why));
	log_warn("zone '%s': notify failed: %s", zone, why);
	return r != ERR_UNAVAILABLE;
}

static void drop(struct xfrn *x, size_t i)
{
	x->fly[i] = x->fly[--x->nfly];
}

/* FNV-1a of the zone's name. */
static uint64_t name_hash(const char *zone)
{
	uint64_t h = 14695981039346656037ULL;
	for (const char *c = zone; *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ULL;
	return h;
}

/* Whether 'zone' was notified less than TRAIL_MS ago; notes it now. */
static bool in_burst(struct xfrn *x, const char *zone)
{
	uint64_t h = name_hash(zone);
	struct recent *r = &x->recent[h % RECENT_SLOTS];
	int64_t now = now_ms();
	bool burst = r->hash == h && r->at > 0 && now - r->at < TRAIL_MS;
	*r = (struct recent){ h, now };
	return burst;
}

/* Send the first NOTIFY of 'zone' to each of its secondaries. The
 * messages of earlier rounds for the zone still awaiting an answer are
 * dropped: the new one says all they said, and a secondary that does not
 * answer holds one message's room in flight, not one per push. */
static void start(struct xfrn *x, const char *zone)
{
	knot_tsig_key_t key = { 0 };
	pthread_mutex_lock(&x->a->db_lock);
	json_t *t = xfr_read(x->a, zone);
	bool keyed = t != NULL && zone_key(x->a, t, &key);
	pthread_mutex_unlock(&x->a->db_lock);

	for (size_t i = 0; i < x->nfly;) {
		if (strcmp(x->fly[i].zone, zone) == 0)
			drop(x, i);
		else
			i++;
	}
	bool burst = in_burst(x, zone);
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(t, "notify"), i, v) {
		struct errmsg err;
		if (x->nfly == FLIGHT_MAX) {
			log_warn("zone '%s': NOTIFY not sent: %d are awaiting an answer", zone,
				 FLIGHT_MAX);
			break;
		}
		struct sent *s = &x->fly[x->nfly];
		*s = (struct sent){ 0 };
		if (xfr_primary_parse(json_string_value(v), &s->to, &err) < 0 ||
		    build(s, zone, keyed ? &key : NULL) < 0)
			continue;
		snprintf(s->zone, sizeof(s->zone), "%s", zone);
		s->trail = burst;
		send_one(x, s);
		x->nfly++;
	}
	json_decref(t);
	if (keyed)
		knot_tsig_key_deinit(&key);
}

/* Answers: each one ends the message it answers (whatever its RCODE: a
 * secondary that refuses says so in its own log), or for the newest
 * NOTIFY of a burst, makes it due once more TRAIL_MS later. */
static void receive(struct xfrn *x, int fd)
{
	uint8_t buf[MSG_MAX];
	struct sockaddr_storage from;
	for (;;) {
		socklen_t fl = sizeof(from);
		ssize_t n =
		    recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (n < KNOT_WIRE_HEADER_SIZE || !knot_wire_get_qr(buf))
			continue;
		for (size_t i = 0; i < x->nfly; i++)
			if (x->fly[i].id == knot_wire_get_id(buf) &&
			    addr_equal(&x->fly[i].to.addr, &from, true)) {
				struct sent *s = &x->fly[i];
				if (s->trail) {
					s->trail = false;
					s->tries = 0;
					s->due = now_ms() + TRAIL_MS;
				} else if (s->tries > 0) {
					drop(x, i);
				} /* else a late answer to a send before the trailing one */
				break;
			}
	}
}

static void resend_due(struct xfrn *x)
{
	int64_t now = now_ms();
	for (size_t i = 0; i < x->nfly;) {
		struct sent *s = &x->fly[i];
		if (s->due > now) {
			i++;
		} else if (s->tries >= TRIES) {
			log_warn("zone '%s': NOTIFY to %s unanswered after %d tries", s->zone,
				 s->to.text, TRIES);
			drop(x, i);
		} else {
			send_one(x, s);
			i++;
		}
	}
}

/* Whether the first zone waiting may be notified: its purges are done
 * and, for its own secondaries, there is room for them in flight. */
static bool head_ready(struct xfrn *x)
{
	const struct waiting *w = &x->queue[x->head];
	return x->n > 0 && repurge_passed(x->a->repurge, w->mark) &&
	       (!w->own || x->nfly + XFR_LIST_MAX <= FLIGHT_MAX);
}

static void wake(void *arg)
{
	struct xfrn *x = arg;
	pthread_mutex_lock(&x->lock);
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

static void *run(void *arg)
{
	struct xfrn *x = arg;
	pthread_mutex_lock(&x->lock);
	for (;;) {
		while (!x->stopping && x->nfly == 0 && !head_ready(x))
			pthread_cond_wait(&x->cond, &x->lock);
		if (x->stopping)
			break;
		/* PowerDNS's API may hang (its supervisor restarts it): once it
		 * did not answer, this pass asks it nothing more, rather than
		 * waiting a timeout per zone while the NOTIFYs in flight wait
		 * too. PowerDNS's own serial check notifies those zones later. */
		bool pdns_answers = true;
		size_t skipped = 0;
		while (!x->stopping && head_ready(x)) {
			struct waiting w = x->queue[x->head];
			x->head = (x->head + 1) % QUEUE_MAX;
			x->n--;
			pthread_mutex_unlock(&x->lock);
			if (w.own)
				start(x, w.zone);
			if (w.node && pdns_answers)
				pdns_answers = ask_pdns(x, w.zone);
			else if (w.node)
				skipped++;
			free(w.zone);
			pthread_mutex_lock(&x->lock);
		}
		if (skipped > 0)
			log_warn(
			    "also-notify of %zu more zones not asked of powerdns, which did not "
			    "answer; it notifies them when it next checks their serials",
			    skipped);
		pthread_mutex_unlock(&x->lock);
		struct pollfd pfd[2] = { { .fd = x->fd[0], .events = POLLIN },
					 { .fd = x->fd[1], .events = POLLIN } };
		if (x->nfly > 0 && poll(pfd, 2, POLL_MS) > 0)
			for (int i = 0; i < 2; i++)
				if (pfd[i].revents & POLLIN)
					receive(x, pfd[i].fd);
		resend_due(x);
		pthread_mutex_lock(&x->lock);
	}
	pthread_mutex_unlock(&x->lock);
	return NULL;
}

/* A UDP socket of 'family', from the node's dns-address of that family
 * (dnsaddr_notify_source()), else from where the system chooses (a
 * secondary takes NOTIFY from the address it transfers from). */
static int open_socket(const struct addrlist *addrs, int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	const struct addr_prefix *p = dnsaddr_notify_source(addrs, family);
	if (fd < 0 || p == NULL)
		return fd;
	struct sockaddr_storage sa;
	socklen_t len;
	char text[INET6_ADDRSTRLEN];
	dnsaddr_sockaddr(p, 0, false, &sa, &len);
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		int e = errno;
		inet_ntop(family, p->addr, text, sizeof(text));
		log_warn("NOTIFY source %s: %s; the system chooses one", text, strerror(e));
	}
	return fd;
}

int xfrn_start(struct agent *a, struct xfrn **ret)
{
	struct xfrn *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	x->a = a;
	x->queue = calloc(QUEUE_MAX, sizeof(*x->queue));
	x->fly = calloc(FLIGHT_MAX, sizeof(*x->fly));
	x->recent = calloc(RECENT_SLOTS, sizeof(*x->recent));
	x->fd[0] = open_socket(&a->conf.dns_addrs, AF_INET);
	x->fd[1] = open_socket(&a->conf.dns_addrs, AF_INET6);
	int r = x->queue == NULL || x->fly == NULL || x->recent == NULL ? -ENOMEM : 0;
	if (r == 0 && a->notify_enabled)
		r = pdns_new(a->api_url, a->api_key, &x->pdns);
	pthread_mutex_init(&x->lock, NULL);
	pthread_cond_init(&x->cond, NULL); /* never waited on with a timeout */
	/* Before the thread runs: it waits for the purges' wake-ups. */
	repurge_watch(a->repurge, wake, x);
	if (r == 0)
		r = -pthread_create(&x->thread, NULL, run, x);
	if (r < 0) {
		x->stopping = true; /* no thread to join */
		xfrn_stop(x);
		return r;
	}
	*ret = x;
	return 0;
}

void xfrn_stop(struct xfrn *x)
{
	if (x == NULL)
		return;
	repurge_watch(x->a->repurge, NULL, NULL);
	pthread_mutex_lock(&x->lock);
	bool started = !x->stopping;
	x->stopping = true;
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->lock);
	if (started)
		pthread_join(x->thread, NULL);
	for (size_t i = 0; x->queue != NULL && i < x->n; i++)
		free(x->queue[(x->head + i) % QUEUE_MAX].zone);
	for (int i = 0; i < 2; i++)
		if (x->fd[i] >= 0)
			close(x->fd[i]);
	pthread_cond_destroy(&x->cond);
	pthread_mutex_destroy(&x->lock);
	pdns_free(x->pdns);
	free(x->queue);
	free(x->fly);
	free(x->recent);
	free(x);
}
