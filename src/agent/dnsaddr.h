/* The node's DNS addresses ('dns-address'): where its PowerDNS answers,
 * where the transfer port listens (xfrl.h) and where NOTIFYs come from
 * (xfrn.h). One address or a list: PowerDNS binds "::" to IPv6 only, so a
 * node that answers on every address of both families says
 * "0.0.0.0, ::". */
#ifndef YUMNA_AGENT_DNSADDR_H
#define YUMNA_AGENT_DNSADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/addrlist.h"

/* Each address is a socket per protocol in PowerDNS and on the transfer port. */
#define DNSADDR_MAX 8

/* Parse 'text' into *ret: addresses (no networks), at most DNSADDR_MAX,
 * none twice, and no address beside the wildcard of its family, which
 * covers it (the two would not bind together). Returns 0, or
 * ERR_MALFORMED with why in 'why' ("'0.0.0.0' covers '127.0.0.1' ..."). */
int dnsaddr_parse(const char *text, struct addrlist *ret, char *why, size_t len);

/* Entry 'p' at 'port'; a wildcard becomes its family's loopback when
 * 'local' (an address to send to, not to bind). */
void dnsaddr_sockaddr(const struct addr_prefix *p, unsigned port, bool local,
		      struct sockaddr_storage *sa, socklen_t *len);

/* The entry through which the node reaches its own PowerDNS: the first
 * loopback or wildcard address, else the first. */
const struct addr_prefix *dnsaddr_local(const struct addrlist *l);

/* Where NOTIFYs of 'family' (AF_INET, AF_INET6) come from: the first
 * entry of that family that is neither a wildcard nor loopback (a packet
 * from loopback reaches no other host), else the first loopback one, else
 * NULL (the system chooses). */
const struct addr_prefix *dnsaddr_notify_source(const struct addrlist *l, int family);

/* Whether 'p' is the wildcard of its family (0.0.0.0 or ::). */
bool dnsaddr_is_wildcard(const struct addr_prefix *p);

/* Whether 'p' is a loopback address (127.0.0.0/8 or ::1). */
bool dnsaddr_is_loopback(const struct addr_prefix *p);

/* "a, b" for PowerDNS's local-address. -ENAMETOOLONG if it does not fit. */
int dnsaddr_text(const struct addrlist *l, char *out, size_t len);

#endif
