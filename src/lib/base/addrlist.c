#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>

#include "base/addrlist.h"
#include "base/err.h"

/* The longest entry worth reading: a full IPv6 address with an embedded
 * IPv4 part and "/128". */
#define ENTRY_MAX 64

static bool is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t';
}

/* Whether the bits of 'addr' past 'bits' are all zero. */
static bool host_bits_clear(const unsigned char *addr, unsigned size, unsigned bits)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
		unsigned char mask = keep ? (unsigned char)(0xff << (8 - keep)) : 0;
		if (addr[i] & (unsigned char)~mask)
			return false;
	}
	return true;
}

static int parse_entry(const char *s, size_t len, struct addr_prefix *p, const char **ret_msg)
{
	char text[ENTRY_MAX + 1];

	if (len > ENTRY_MAX) {
		*ret_msg = "is not an IP address or prefix";
		return ERR_MALFORMED;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	char *slash = strchr(text, '/');
	if (slash != NULL)
		*slash = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, text, p->addr) == 1) {
		p->family = AF_INET;
		p->bits = 32;
	} else if (inet_pton(AF_INET6, text, p->addr) == 1) {
		p->family = AF_INET6;
		p->bits = 128;
	} else {
		*ret_msg = "is not an IP address or prefix";
		return ERR_MALFORMED;
	}
	if (slash == NULL)
		return 0;

	const char *n = slash + 1;
	size_t nlen = strlen(n);
	unsigned bits = 0;
	if (nlen == 0 || nlen > 3 || (nlen > 1 && n[0] == '0')) {
		*ret_msg = "has a bad prefix length";
		return ERR_MALFORMED;
	}
	for (size_t i = 0; i < nlen; i++) {
		if (!isdigit((unsigned char)n[i])) {
			*ret_msg = "has a bad prefix length";
			return ERR_MALFORMED;
		}
		bits = bits * 10 + (unsigned)(n[i] - '0');
	}
	if (bits > p->bits) {
		*ret_msg = p->family == AF_INET ? "has a prefix length over 32"
						: "has a prefix length over 128";
		return ERR_MALFORMED;
	}
	/* "192.0.2.1/24" is most likely a typo for an address or for
	 * 192.0.2.0/24: refuse it rather than guess. */
	if (!host_bits_clear(p->addr, p->family == AF_INET ? 4 : 16, bits)) {
		*ret_msg = "has bits set past its prefix length";
		return ERR_MALFORMED;
	}
	p->bits = bits;
	return 0;
}

int addrlist_parse(const char *text, struct addrlist *ret, const char **ret_msg, size_t *ret_at,
		   size_t *ret_len)
{
	struct addrlist l = { 0 };
	size_t i = 0;

	*ret_at = 0;
	*ret_len = 0;
	for (;;) {
		while (is_sep(text[i]))
			i++;
		if (text[i] == '\0')
			break;
		size_t start = i;
		while (text[i] != '\0' && !is_sep(text[i]))
			i++;
		if (l.n == ADDRLIST_MAX) {
			*ret_msg = "has too many entries (at most 64)";
			return ERR_MALFORMED;
		}
		int r = parse_entry(text + start, i - start, &l.v[l.n], ret_msg);
		if (r < 0) {
			*ret_at = start;
			*ret_len = i - start;
			return r;
		}
		l.n++;
	}
	if (l.n == 0) {
		*ret_msg = "has no address";
		return ERR_MALFORMED;
	}
	if (ret != NULL)
		*ret = l;
	return 0;
}

static bool prefix_match(const struct addr_prefix *p, const unsigned char *addr)
{
	unsigned whole = p->bits / 8, rest = p->bits % 8;

	if (memcmp(p->addr, addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (p->addr[whole] & mask) == (addr[whole] & mask);
}

bool addr_prefix_within(const struct addr_prefix *in, const struct addr_prefix *out)
{
	return in->family == out->family && out->bits <= in->bits && prefix_match(out, in->addr);
}

bool addrlist_match(const struct addrlist *l, const struct sockaddr *sa, socklen_t len)
{
	const unsigned char *v4 = NULL, *v6 = NULL;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		v4 = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)
			 ->sin_addr;
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		v6 = a->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			v4 = a->s6_addr + 12;
	}
	for (unsigned i = 0; i < l->n; i++) {
		const struct addr_prefix *p = &l->v[i];
		if ((p->family == AF_INET && v4 != NULL && prefix_match(p, v4)) ||
		    (p->family == AF_INET6 && v6 != NULL && prefix_match(p, v6)))
			return true;
	}
	return false;
}

void addr_text(const struct sockaddr_storage *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	}
	snprintf(out, len, "%s#%u", host, port);
}

bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b, bool port)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_addr.s_addr == y->sin_addr.s_addr &&
		       (!port || x->sin_port == y->sin_port);
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0 &&
		       (!port || x->sin6_port == y->sin6_port);
	}
	return false;
}

/* The IPv4 address of 'sa', also when it is IPv4-mapped IPv6: 1, or 0. */
static int v4_of(const struct sockaddr_storage *sa, uint32_t *ret)
{
	if (sa->ss_family == AF_INET) {
		*ret = ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr;
		return 1;
	}
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (sa->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a6)) {
		memcpy(ret, &a6->s6_addr[12], sizeof(*ret));
		return 1;
	}
	return 0;
}

bool addr_same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	uint32_t x4 = 0, y4 = 0;
	int ax = v4_of(a, &x4), bx = v4_of(b, &y4);
	if (ax || bx)
		return ax && bx && x4 == y4;
	if (a->ss_family != AF_INET6 || b->ss_family != AF_INET6)
		return false;
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return memcmp(&x->sin6_addr, &y->sin6_addr, 8) == 0;
}
