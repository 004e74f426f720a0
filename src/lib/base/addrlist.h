/* Lists of client addresses for allow-lists: IPv4 and IPv6 addresses and
 * CIDR prefixes, written "127.0.0.1, ::1, 192.0.2.0/24, 2001:db8::/32".
 *
 * A list is a fixed-size value (no allocation): parse it once, copy it
 * freely, match socket addresses against it from any thread. */
#ifndef YUMNA_ADDRLIST_H
#define YUMNA_ADDRLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define ADDRLIST_MAX 64

struct addr_prefix {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network order; 4 bytes used for AF_INET */
	unsigned bits;		/* prefix length: 32 or 128 for one address */
};

struct addrlist {
	unsigned n;
	struct addr_prefix v[ADDRLIST_MAX];
};

/* Parse 'text': entries separated by commas and/or white space, each a
 * numeric address or address/length with no bits set past the length (a
 * scope such as "%eth0" is refused). At least one entry, at most
 * ADDRLIST_MAX. Returns 0 and fills *ret, or ERR_MALFORMED with a static
 * message in *ret_msg and, when one entry is at fault, its place in 'text'
 * in *ret_at and *ret_len (else *ret_len is 0). *ret is written only on
 * success; 'ret' may be NULL to check the text only. */
int addrlist_parse(const char *text, struct addrlist *ret, const char **ret_msg, size_t *ret_at,
		   size_t *ret_len);

/* Whether the peer address 'sa' (AF_INET or AF_INET6, 'len' bytes) falls
 * in one of the entries. An IPv4-mapped IPv6 address (::ffff:192.0.2.1)
 * also matches the IPv4 entries. Other families never match. */
bool addrlist_match(const struct addrlist *l, const struct sockaddr *sa, socklen_t len);

/* Whether every address of prefix 'in' is in prefix 'out' (the same
 * family, 'out' as long or shorter, with the same leading bits). */
bool addr_prefix_within(const struct addr_prefix *in, const struct addr_prefix *out);

/* A peer's address and port for a log line: "192.0.2.1#53",
 * "2001:db8::1#53" ("?#0" for another family). */
void addr_text(const struct sockaddr_storage *sa, char *out, size_t len);

/* Whether 'a' and 'b' are the same IPv4 or IPv6 address (and the same
 * port when 'port'). */
bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b, bool port);

/* Whether 'a' and 'b' are one client for a per-client limit: the same
 * IPv4 address (an IPv4-mapped IPv6 address is its IPv4 address), or IPv6
 * addresses in the same /64, which one client is usually given whole. */
bool addr_same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

#endif
