#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "dnsaddr.h"

static size_t addr_len(const struct addr_prefix *p)
{
	return p->family == AF_INET ? 4 : 16;
}

bool dnsaddr_is_wildcard(const struct addr_prefix *p)
{
	static const unsigned char zero[16];
	return memcmp(p->addr, zero, addr_len(p)) == 0;
}

bool dnsaddr_is_loopback(const struct addr_prefix *p)
{
	static const unsigned char v6[16] = { [15] = 1 };
	return p->family == AF_INET ? p->addr[0] == 127 : memcmp(p->addr, v6, 16) == 0;
}

static void entry_text(const struct addr_prefix *p, char *out, size_t len)
{
	if (inet_ntop(p->family, p->addr, out, (socklen_t)len) == NULL)
		snprintf(out, len, "?");
}

int dnsaddr_parse(const char *text, struct addrlist *ret, char *why, size_t len)
{
	const char *msg = NULL;
	size_t at = 0, n = 0;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (addrlist_parse(text, ret, &msg, &at, &n) < 0) {
		snprintf(why, len, "the list %s", msg);
		return ERR_MALFORMED;
	}
	if (ret->n > DNSADDR_MAX) {
		snprintf(why, len, "more than %d addresses", DNSADDR_MAX);
		return ERR_MALFORMED;
	}
	for (unsigned i = 0; i < ret->n; i++) {
		const struct addr_prefix *p = &ret->v[i];
		entry_text(p, a, sizeof(a));
		if (p->bits != addr_len(p) * 8) {
			snprintf(why, len, "'%s/%u' is a network, not an address", a, p->bits);
			return ERR_MALFORMED;
		}
		for (unsigned j = 0; j < i; j++) {
			const struct addr_prefix *q = &ret->v[j];
			if (q->family != p->family)
				continue;
			entry_text(q, b, sizeof(b));
			if (memcmp(q->addr, p->addr, addr_len(p)) == 0) {
				snprintf(why, len, "'%s' appears twice", a);
				return ERR_MALFORMED;
			}
			if (dnsaddr_is_wildcard(p) || dnsaddr_is_wildcard(q)) {
				bool q_wide = dnsaddr_is_wildcard(q);
				snprintf(why, len, "'%s' covers '%s' (list one of them)",
					 q_wide ? b : a, q_wide ? a : b);
				return ERR_MALFORMED;
			}
		}
	}
	return 0;
}

void dnsaddr_sockaddr(const struct addr_prefix *p, unsigned port, bool local,
		      struct sockaddr_storage *sa, socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	if (p->family == AF_INET) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		memcpy(&v4->sin_addr, p->addr, 4);
		if (local && dnsaddr_is_wildcard(p))
			v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*v4);
	} else {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		memcpy(&v6->sin6_addr, p->addr, 16);
		if (local && dnsaddr_is_wildcard(p))
			v6->sin6_addr = in6addr_loopback;
		*len = sizeof(*v6);
	}
}

const struct addr_prefix *dnsaddr_local(const struct addrlist *l)
{
	for (unsigned i = 0; i < l->n; i++)
		if (dnsaddr_is_loopback(&l->v[i]) || dnsaddr_is_wildcard(&l->v[i]))
			return &l->v[i];
	return &l->v[0];
}

const struct addr_prefix *dnsaddr_notify_source(const struct addrlist *l, int family)
{
	const struct addr_prefix *loop = NULL;
	for (unsigned i = 0; i < l->n; i++) {
		const struct addr_prefix *p = &l->v[i];
		if (p->family != family || dnsaddr_is_wildcard(p))
			continue;
		if (!dnsaddr_is_loopback(p))
			return p;
		if (loop == NULL)
			loop = p;
	}
	return loop;
}

int dnsaddr_text(const struct addrlist *l, char *out, size_t len)
{
	size_t used = 0;
	char a[INET6_ADDRSTRLEN];

	for (unsigned i = 0; i < l->n; i++) {
		entry_text(&l->v[i], a, sizeof(a));
		int n = snprintf(out + used, len - used, "%s%s", i > 0 ? ", " : "", a);
		if (n < 0 || (size_t)n >= len - used)
			return -ENAMETOOLONG;
		used += (size_t)n;
	}
	return 0;
}
