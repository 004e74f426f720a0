/* The HTTP server's watchdog: a header deadline and a minimum body rate
 * for every connection, enforced by one thread that shuts down the
 * sockets past their deadline (see http_server_config in server.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "http/server_internal.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct conn_watch *watch_get(const struct http_server *srv, struct MHD_Connection *conn)
{
	if (!srv->watching)
		return NULL;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* Move a connection to 'phase' unless the watchdog cut it: false then. */
bool watch_enter(struct http_server *srv, struct conn_watch *w, enum watch_phase phase)
{
	if (w == NULL)
		return true;
	pthread_mutex_lock(&srv->watch_lock);
	bool cut = w->cut;
	w->phase = phase;
	w->since_ms = now_ms();
	w->body_bytes = 0;
	pthread_mutex_unlock(&srv->watch_lock);
	return !cut;
}

void watch_body(struct http_server *srv, struct conn_watch *w, size_t n)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&srv->watch_lock);
	w->body_bytes += n;
	pthread_mutex_unlock(&srv->watch_lock);
}

/* MHD calls this before any byte is read and after the connection's last
 * callback, before it closes the socket. */
void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;

	if (!srv->watching)
		return;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct conn_watch *w = ci != NULL ? calloc(1, sizeof(*w)) : NULL;
		*socket_context = w;
		if (w == NULL) {
			/* A connection nothing would time out is not served. */
			if (ci != NULL)
				shutdown(ci->connect_fd, SHUT_RDWR);
			return;
		}
		w->fd = ci->connect_fd;
		w->phase = W_HEADER;
		w->since_ms = now_ms();
		pthread_mutex_lock(&srv->watch_lock);
		w->next = srv->watched;
		if (w->next != NULL)
			w->next->prev = w;
		srv->watched = w;
		pthread_mutex_unlock(&srv->watch_lock);
		return;
	}
	struct conn_watch *w = *socket_context;
	if (w == NULL)
		return;
	pthread_mutex_lock(&srv->watch_lock);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		srv->watched = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&srv->watch_lock);
	free(w);
	*socket_context = NULL;
}

/* The request line of a request has arrived: on a kept-alive connection
 * this ends the idle wait and starts the header deadline. Returns the
 * initial request state, which must stay NULL. */
void *http_on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *srv = cls;
	struct conn_watch *w = watch_get(srv, conn);

	if (w != NULL) {
		pthread_mutex_lock(&srv->watch_lock);
		if (w->phase == W_IDLE) {
			w->phase = W_HEADER;
			w->since_ms = now_ms();
		}
		pthread_mutex_unlock(&srv->watch_lock);
	}
	return NULL;
}

static bool past_deadline(const struct http_server_config *c, const struct conn_watch *w,
			  int64_t now)
{
	int64_t age = now - w->since_ms;

	switch (w->phase) {
	case W_HEADER:
		return c->header_timeout_ms != 0 && age > (int64_t)c->header_timeout_ms;
	case W_IDLE:
		/* MHD's idle timeout, made absolute against a request line
		 * trickled a byte at a time. */
		return c->header_timeout_ms != 0 && age > (int64_t)c->timeout_s * 1000;
	case W_BODY:
		return c->body_min_rate != 0 &&
		       age > (int64_t)c->body_grace_ms +
				 (int64_t)(w->body_bytes * 1000 / c->body_min_rate);
	case W_WORK:
		break;
	}
	return false;
}

/* Shut down (not close: MHD owns the descriptor) every connection past its
 * deadline. The socket then reads as closed, so MHD's own thread ends the
 * connection on its next turn: no MHD call from this thread. */
void *watchdog_main(void *arg)
{
	struct http_server *srv = arg;

	pthread_mutex_lock(&srv->watch_lock);
	while (!srv->watch_stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += WATCH_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->watch_wake, &srv->watch_lock, &until);
		int64_t now = now_ms();
		for (struct conn_watch *w = srv->watched; w != NULL; w = w->next) {
			if (w->cut || !past_deadline(&srv->cfg, w, now))
				continue;
			shutdown(w->fd, SHUT_RDWR);
			w->cut = true;
		}
	}
	pthread_mutex_unlock(&srv->watch_lock);
	return NULL;
}

int watchdog_init(struct http_server *srv)
{
	pthread_condattr_t attr;

	if (pthread_condattr_init(&attr) != 0)
		return -ENOMEM;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	int r = pthread_cond_init(&srv->watch_wake, &attr);
	pthread_condattr_destroy(&attr);
	if (r != 0)
		return -r;
	pthread_mutex_init(&srv->watch_lock, NULL);
	srv->watching = true;
	return 0;
}

void watchdog_stop(struct http_server *srv)
{
	pthread_mutex_lock(&srv->watch_lock);
	srv->watch_stop = true;
	pthread_cond_signal(&srv->watch_wake);
	pthread_mutex_unlock(&srv->watch_lock);
	pthread_join(srv->watchdog, NULL);
}
