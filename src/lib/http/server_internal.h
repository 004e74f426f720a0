/* What the HTTP server's files share (server.c, server_watch.c); internal
 * to src/lib/http. */
#ifndef YUMNA_HTTP_SERVER_INTERNAL_H
#define YUMNA_HTTP_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <microhttpd.h>

#include "base/addrlist.h"
#include "base/buf.h"
#include "http/server.h"

/* How often the watchdog looks for connections past their deadline. */
#define WATCH_TICK_MS 100

/* What a connection is waiting for; only HEADER, IDLE and BODY have a
 * deadline (WORK: the handler runs or the answer is being sent, which the
 * idle timeout covers). */
enum watch_phase { W_HEADER, W_BODY, W_WORK, W_IDLE };

/* One open connection, as the watchdog sees it: created when MHD accepts
 * the connection, freed when MHD reports it closed, which it does before
 * closing the socket, so 'fd' is valid for as long as the entry is listed.
 * Everything under http_server.watch_lock. */
struct conn_watch {
	struct conn_watch *prev, *next;
	int fd;
	enum watch_phase phase;
	int64_t since_ms; /* start of the current phase */
	uint64_t body_bytes;
	bool cut; /* shut down by the watchdog */
};

struct http_server {
	struct MHD_Daemon *daemon;
	const struct http_route *routes;
	struct http_server_config cfg;
	struct addrlist allow; /* cfg.allow points here */
	char *tls_cert;	       /* copies, kept while the daemon runs */
	char *tls_key;

	bool watching; /* header timeout or body rate: the watchdog runs */
	pthread_t watchdog;
	pthread_mutex_t watch_lock;
	pthread_cond_t watch_wake;
	bool watch_stop;
	struct conn_watch *watched;
};

struct http_request {
	struct http_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	const struct http_route *route;
	struct timespec started;  /* only when the server has an observer */
	struct conn_watch *watch; /* the connection's, when the server watches */
	char *params[HTTP_MAX_PARAMS];
	struct buf body;
	void *state;
	int64_t principal_id;
	char principal_role[16];
	char principal_name[64];
	size_t cap;
	size_t received;
	int failed; /* error that ends the request once the body is read */
	bool stream_stopped;
	bool replied;
};

/* --- the watchdog (server_watch.c) -------------------------------------- */

/* The connection's watch entry; NULL when the server does not watch. */
struct conn_watch *watch_get(const struct http_server *srv, struct MHD_Connection *conn);
/* Move a connection to 'phase' unless the watchdog cut it: false then. */
bool watch_enter(struct http_server *srv, struct conn_watch *w, enum watch_phase phase);
/* 'n' more body bytes arrived. */
void watch_body(struct http_server *srv, struct conn_watch *w, size_t n);
/* MHD_OPTION_NOTIFY_CONNECTION and MHD_OPTION_URI_LOG_CALLBACK. */
void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode code);
void *http_on_request_line(void *cls, const char *uri, struct MHD_Connection *conn);
int watchdog_init(struct http_server *srv);
/* The watchdog thread (pthread_create) and its stop. */
void *watchdog_main(void *arg);
void watchdog_stop(struct http_server *srv);

#endif
