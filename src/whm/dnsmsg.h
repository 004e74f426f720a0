/* One DNS message to the controller's listener (dnsl.h) and its answer:
 * parsed and signed with libknot, dispatched by opcode. The controller is
 * not a name server: a QUERY is REFUSED, whatever it asks. */
#ifndef YUMNA_WHM_DNSMSG_H
#define YUMNA_WHM_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "whm.h"

/* Answer message 'q' ('qlen' bytes; the caller's buffer, which may be
 * changed) from 'peer' (text for the log) at address 'from' (NULL when not
 * known: a NOTIFY is then refused) into 'out' of 'outmax' bytes:
 * 0 with *ret_len set, or -1 to send nothing (a response, a message too
 * short to answer). Never fails otherwise: a bad message gets FORMERR and
 * one log line. A 'datagram' answer holds what the client takes (512
 * bytes, or its EDNS payload up to 1,232) or is cut with TC set. An EDNS
 * request gets an OPT back, and BADVERS for a version other than 0. */
int dnsmsg_answer(struct whm *w, uint8_t *q, size_t qlen, uint8_t *out, size_t outmax,
		  bool datagram, size_t *ret_len, const char *peer,
		  const struct sockaddr_storage *from);

/* Whether one more line about a bad message may be logged: at most ten a
 * second, so that a flood of them does not flood the log too. */
bool dnsmsg_may_log(void);

#endif
