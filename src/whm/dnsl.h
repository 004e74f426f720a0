/* The controller's DNS listener: UDP and TCP on dns-listen-address and
 * dns-listen-port, dns-threads threads with poll() (the first one serves
 * TCP too), each message answered by dnsmsg_answer(). Every resource a client controls has a bound: TCP
 * connections (dns-tcp-clients; one over it is closed at once), a
 * message's size (dns-max-message-size; a larger one is dropped and its
 * connection closed), and the time a TCP client may take to send a whole
 * message or read its answer (dns-tcp-timeout-ms). A slow client holds
 * only its own connection: reads and writes never block. */
#ifndef YUMNA_WHM_DNSL_H
#define YUMNA_WHM_DNSL_H

#include "whm.h"

/* Start the listener when the configuration names an address (a no-op
 * otherwise): 0, or a negative code with a log line when it cannot bind. */
int dnsl_start(struct whm *w);
/* Stop it and close every connection; accepts a listener never started. */
void dnsl_stop(struct whm *w);

#endif
