/* The DNS listener's sockets and connections (dnsl.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addrlist.h"
#include "base/log.h"
#include "dnsl.h"
#include "dnsmsg.h"

#define UDP_BATCH 64 /* datagrams read before the TCP side gets a turn */
#define MSG_MAX 65535

struct conn {
	int fd;
	int64_t deadline; /* whm_mono_ms(): the whole message, or its answer */
	uint8_t len[2];
	size_t got;   /* bytes of the current frame, its length included */
	size_t need;  /* the message's length, once read */
	uint8_t *in;  /* MSG_MAX bytes, while reading a message */
	uint8_t *out; /* the answer still to write, framed */
	size_t out_len, out_done;
	char peer[INET6_ADDRSTRLEN + 8];
	struct sockaddr_storage addr;
};

/* A thread that answers UDP only, beside the main one. */
struct udp_worker {
	struct dnsl *l;
	pthread_t thread;
	uint8_t buf[MSG_MAX + 2], answer[MSG_MAX + 2];
};

struct dnsl {
	struct whm *w;
	pthread_t thread;
	struct udp_worker *workers;
	unsigned n_workers; /* started */
	bool running;	    /* the main thread was started */
	int wake[2];
	int udp, tcp;
	size_t max_msg;
	unsigned max_conns;
	int64_t timeout_ms;
	struct conn *conns;
	unsigned n_conns;
	uint8_t *buf, *answer; /* MSG_MAX + 2 each */
};

static int open_socket(const struct addrinfo *ai, int type)
{
	int one = 1;
	int fd = socket(ai->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static void conn_close(struct dnsl *l, unsigned i)
{
	struct conn *c = &l->conns[i];
	close(c->fd);
	free(c->in);
	free(c->out);
	l->conns[i] = l->conns[--l->n_conns];
}

static void on_udp(struct dnsl *l, uint8_t *buf, uint8_t *answer)
{
	struct sockaddr_storage sa = { 0 };
	char peer[INET6_ADDRSTRLEN + 8];
	size_t alen;

	for (int i = 0; i < UDP_BATCH; i++) {
		socklen_t sl = sizeof(sa);
		ssize_t n = recvfrom(l->udp, buf, MSG_MAX + 1, MSG_TRUNC, (void *)&sa, &sl);
		if (n < 0)
			return;
		addr_text(&sa, peer, sizeof(peer));
		if ((size_t)n > l->max_msg) {
			if (dnsmsg_may_log())
				log_info("dns: %zd-byte message from %s dropped: over %zu", n, peer,
					 l->max_msg);
			continue;
		}
		if (dnsmsg_answer(l->w, buf, (size_t)n, answer, MSG_MAX, true, &alen, peer, &sa) ==
		    0)
			sendto(l->udp, answer, alen, 0, (void *)&sa, sl);
	}
}

static void on_accept(struct dnsl *l)
{
	struct sockaddr_storage sa = { 0 };
	socklen_t sl = sizeof(sa);
	int fd = accept4(l->tcp, (void *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* One address holds at most a quarter of the places (4 at least, or
	 * all of them when there are fewer), so that it cannot keep the
	 * other clients out. */
	unsigned same = 0, per_addr = l->max_conns / 4;
	if (per_addr < 4)
		per_addr = l->max_conns < 4 ? l->max_conns : 4;
	for (unsigned i = 0; i < l->n_conns; i++)
		same += addr_same_client(&l->conns[i].addr, &sa);
	if (l->n_conns == l->max_conns || same >= per_addr) {
		static int64_t logged;
		if (whm_mono_ms() - logged > 1000) {
			logged = whm_mono_ms();
			log_warn("dns: %u TCP clients already (%u from one address at most): new "
				 "ones are closed",
				 l->n_conns, per_addr);
		}
		close(fd);
		return;
	}
	struct conn *c = &l->conns[l->n_conns++];
	*c = (struct conn){ .fd = fd, .deadline = whm_mono_ms() + l->timeout_ms, .addr = sa };
	addr_text(&sa, c->peer, sizeof(c->peer));
}

/* Write what is left of the answer: 0 when all of it went, 1 to wait for
 * the socket, -1 to close. */
static int flush(struct conn *c)
{
	while (c->out_done < c->out_len) {
		ssize_t n =
		    send(c->fd, c->out + c->out_done, c->out_len - c->out_done, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
		c->out_done += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_done = 0;
	return 0;
}

static int answer(struct dnsl *l, struct conn *c)
{
	size_t alen;

	int r = dnsmsg_answer(l->w, c->in, c->need, l->answer + 2, MSG_MAX, false, &alen, c->peer,
			      &c->addr);
	free(c->in);
	c->in = NULL;
	c->got = c->need = 0;
	c->deadline = whm_mono_ms() + l->timeout_ms;
	if (r < 0)
		return 0;
	c->out = malloc(alen + 2);
	if (c->out == NULL)
		return -1;
	l->answer[0] = (uint8_t)(alen >> 8);
	l->answer[1] = (uint8_t)alen;
	memcpy(c->out, l->answer, alen + 2);
	c->out_len = alen + 2;
	return flush(c) < 0 ? -1 : 0;
}

/* Read what the client sent: 0 to keep the connection, -1 to close it. */
static int on_read(struct dnsl *l, struct conn *c)
{
	for (;;) {
		if (c->out != NULL)
			return 0; /* one answer at a time: read on once it is written */
		ssize_t n;
		if (c->got < 2) {
			n = recv(c->fd, c->len + c->got, 2 - c->got, 0);
		} else {
			n = recv(c->fd, c->in + (c->got - 2), c->need - (c->got - 2), 0);
		}
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->got += (size_t)n;
		if (c->got == 2) {
			c->need = (size_t)c->len[0] << 8 | c->len[1];
			if (c->need == 0 || c->need > l->max_msg) {
				if (dnsmsg_may_log())
					log_info("dns: %zu-byte message from %s: connection closed",
						 c->need, c->peer);
				return -1;
			}
			c->in = malloc(c->need);
			if (c->in == NULL)
				return -1;
		} else if (c->got > 2 && c->got - 2 == c->need) {
			/* One message per connection per round: a client that
			 * pipelines a stream of them takes turns with the others
			 * (poll() wakes again for what it left unread). */
			return answer(l, c) < 0 ? -1 : 0;
		}
	}
}

static void *run(void *arg)
{
	struct dnsl *l = arg;
	struct pollfd *pfd = calloc(l->max_conns + 3, sizeof(*pfd));

	if (pfd == NULL) {
		log_err("dns: out of memory");
		return NULL;
	}
	for (;;) {
		int64_t now = whm_mono_ms(), next = now + 1000;
		pfd[0] = (struct pollfd){ .fd = l->wake[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = l->udp, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = l->tcp, .events = POLLIN };
		for (unsigned i = 0; i < l->n_conns; i++) {
			struct conn *c = &l->conns[i];
			pfd[3 + i] =
			    (struct pollfd){ .fd = c->fd, .events = c->out ? POLLOUT : POLLIN };
			if (c->deadline < next)
				next = c->deadline;
		}
		unsigned n = l->n_conns;
		if (poll(pfd, 3 + n, next > now ? (int)(next - now) : 0) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		/* Connections first, from the last: closing one moves the last
		 * into its slot, which has been seen already. */
		now = whm_mono_ms();
		for (unsigned i = n; i-- > 0;) {
			struct conn *c = &l->conns[i];
			int r = 0;
			if (pfd[3 + i].revents & (POLLERR | POLLNVAL))
				r = -1;
			else if (c->out != NULL && pfd[3 + i].revents)
				r = flush(c) < 0 ? -1 : on_read(l, c);
			else if (pfd[3 + i].revents)
				r = on_read(l, c);
			if (r == 0 && c->deadline <= now) {
				if (dnsmsg_may_log())
					log_info("dns: TCP client %s too slow: connection closed",
						 c->peer);
				r = -1;
			}
			if (r < 0)
				conn_close(l, i);
		}
		if (pfd[1].revents)
			on_udp(l, l->buf, l->answer);
		if (pfd[2].revents)
			on_accept(l);
	}
	free(pfd);
	return NULL;
}

/* Datagrams only: every thread polls the one UDP socket, and the one that
 * reads a datagram answers it, so updates to different zones commit side
 * by side. The wake pipe is never read: once written, it wakes them all. */
static void *udp_run(void *arg)
{
	struct udp_worker *u = arg;
	struct pollfd pfd[2] = { { .fd = u->l->wake[0], .events = POLLIN },
				 { .fd = u->l->udp, .events = POLLIN } };

	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents)
			on_udp(u->l, u->buf, u->answer);
	}
	return NULL;
}

static void dnsl_free(struct dnsl *l)
{
	if (l == NULL)
		return;
	while (l->n_conns > 0)
		conn_close(l, l->n_conns - 1);
	for (int i = 0; i < 2; i++)
		if (l->wake[i] >= 0)
			close(l->wake[i]);
	if (l->udp >= 0)
		close(l->udp);
	if (l->tcp >= 0)
		close(l->tcp);
	free(l->workers);
	free(l->conns);
	free(l->buf);
	free(l->answer);
	free(l);
}

static void stop_threads(struct dnsl *l)
{
	if (write(l->wake[1], "x", 1) < 0)
		log_warn("dns: cannot wake the listener: %s", strerror(errno));
	if (l->running)
		pthread_join(l->thread, NULL);
	l->running = false;
	for (unsigned i = 0; i < l->n_workers; i++)
		pthread_join(l->workers[i].thread, NULL);
	l->n_workers = 0;
}

int dnsl_start(struct whm *w)
{
	const struct whm_conf *cf = &w->conf;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char port[8];

	if (cf->dns_listen_address == NULL)
		return 0;
	struct dnsl *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	*l = (struct dnsl){ .w = w,
			    .wake = { -1, -1 },
			    .udp = -1,
			    .tcp = -1,
			    .max_msg = cf->dns_max_message_size,
			    .max_conns = (unsigned)cf->dns_tcp_clients,
			    .timeout_ms = (int64_t)cf->dns_tcp_timeout_ms };
	l->conns = calloc(l->max_conns, sizeof(*l->conns));
	l->buf = malloc(MSG_MAX + 2);
	l->answer = malloc(MSG_MAX + 2);
	int r = l->conns && l->buf && l->answer ? 0 : -ENOMEM;
	if (r == 0 && pipe2(l->wake, O_CLOEXEC) < 0)
		r = -errno;
	snprintf(port, sizeof(port), "%u", (unsigned)cf->dns_listen_port);
	if (r == 0 && getaddrinfo(cf->dns_listen_address, port, &hints, &ai) != 0)
		r = -EINVAL;
	if (r == 0 && (l->udp = open_socket(ai, SOCK_DGRAM)) < 0)
		r = l->udp;
	if (r == 0 && (l->tcp = open_socket(ai, SOCK_STREAM)) < 0)
		r = l->tcp;
	if (ai != NULL)
		freeaddrinfo(ai);
	unsigned extra = (unsigned)cf->dns_threads - 1;
	if (r == 0 && extra > 0 && (l->workers = calloc(extra, sizeof(*l->workers))) == NULL)
		r = -ENOMEM;
	if (r == 0 && pthread_create(&l->thread, NULL, run, l) != 0)
		r = -EAGAIN;
	l->running = r == 0;
	while (r == 0 && l->n_workers < extra) {
		struct udp_worker *u = &l->workers[l->n_workers];
		u->l = l;
		if (pthread_create(&u->thread, NULL, udp_run, u) != 0)
			r = -EAGAIN;
		else
			l->n_workers++;
	}
	if (r < 0 && l->running)
		stop_threads(l);
	if (r < 0) {
		log_err("dns: cannot listen on %s port %s: %s", cf->dns_listen_address, port,
			err_str(r));
		dnsl_free(l);
		return r;
	}
	w->dnsl = l;
	log_notice("dns: listening on %s port %s (UDP and TCP, %u threads)", cf->dns_listen_address,
		   port, extra + 1);
	return 0;
}

void dnsl_stop(struct whm *w)
{
	struct dnsl *l = w->dnsl;

	if (l == NULL)
		return;
	w->dnsl = NULL;
	stop_threads(l);
	dnsl_free(l);
}
