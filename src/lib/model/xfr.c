#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addrlist.h"
#include "dns/dns.h"
#include "json/jsonx.h"
#include "model/xfr.h"

int xfr_prefix_check(const char *text, const char **ret_msg)
{
	struct addrlist l;
	size_t at, len;

	/* One entry: addrlist_parse() would split "a, b" into two. */
	if (addrlist_parse(text, &l, ret_msg, &at, &len) < 0)
		return ERR_INVALID;
	if (l.n != 1) {
		*ret_msg = "must be one IP address or prefix";
		return ERR_INVALID;
	}
	return 0;
}

static int parse_port(const char *p, unsigned *ret)
{
	unsigned v = 0;
	size_t n = strlen(p);

	if (n == 0 || n > 5 || p[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*ret = v;
	return 0;
}

int xfr_notify_check(const char *text, char ret[XFR_ADDR_MAX], const char **ret_msg)
{
	char item[XFR_ADDR_MAX], out[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	unsigned port = 0;
	int family = AF_INET;

	*ret_msg = "must be an IP address with an optional port (192.0.2.1:5300, "
		   "[2001:db8::1]:5300)";
	if (strlen(text) >= sizeof(item))
		return ERR_INVALID;
	snprintf(item, sizeof(item), "%s", text);
	char *addr = item, *colon = strchr(item, ':');
	if (item[0] == '[') {
		char *close = strchr(item, ']');
		if (close == NULL || close[1] != ':' || parse_port(close + 2, &port) < 0)
			return ERR_INVALID;
		*close = '\0';
		addr = item + 1;
		family = AF_INET6;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		*colon = '\0'; /* IPv4 with a port */
		if (parse_port(colon + 1, &port) < 0)
			return ERR_INVALID;
	} else if (colon != NULL) {
		family = AF_INET6;
	}
	if (inet_pton(family, addr, bin) != 1 || inet_ntop(family, bin, out, sizeof(out)) == NULL)
		return ERR_INVALID;
	if (port == 0)
		snprintf(ret, XFR_ADDR_MAX, "%s", out);
	else if (family == AF_INET6)
		snprintf(ret, XFR_ADDR_MAX, "[%s]:%u", out, port);
	else
		snprintf(ret, XFR_ADDR_MAX, "%s:%u", out, port);
	return 0;
}

static const char *const transfer_keys[] = {
	"allow", "allow_from", "keys", "notify", "tsig", NULL
};
static const char *const pair_keys[] = { "from", "key", NULL };
static const char *const tsig_keys[] = { "name", "algorithm", "secret", NULL };
static const char *const algorithms[] = { "hmac-md5", "hmac-sha256", "hmac-sha384", "hmac-sha512",
					  NULL };

/* Array 'key' of 't' (absent: empty), at most XFR_LIST_MAX members. */
static int list_of(const json_t *t, const char *key, const char *path, json_t **ret,
		   struct errmsg *err)
{
	json_t *a = NULL;
	int r = jsonx_get_array(t, key, false, path, &a, err);
	if (r == -ENOENT)
		r = 0;
	if (r == 0 && json_array_size(a) > XFR_LIST_MAX)
		r = errmsg_set(err, ERR_INVALID, "%s.%s: at most %d entries", path, key,
			       XFR_LIST_MAX);
	*ret = a;
	return r;
}

static int check_name(const json_t *v, const char *where, struct errmsg *err)
{
	char name[DNAME_TEXT_MAX];
	struct errmsg derr;
	const char *s = json_string_value(v);

	if (s == NULL)
		return errmsg_set(err, ERR_INVALID, "%s: must be a string", where);
	if (dname_zone_normalize(s, name, &derr) < 0)
		return errmsg_set(err, ERR_INVALID, "%s: %s", where, derr.text);
	return 0;
}

static int check_tsig(const json_t *k, const char *where, struct errmsg *err)
{
	const char *alg = NULL, *secret = NULL;
	int r = jsonx_check_keys(k, tsig_keys, where, err);

	if (r == 0)
		r = check_name(json_object_get(k, "name"), where, err);
	if (r == 0)
		r = jsonx_get_str(k, "algorithm", true, where, &alg, err);
	if (r == 0)
		r = jsonx_get_str(k, "secret", true, where, &secret, err);
	if (r < 0 || alg == NULL || secret == NULL)
		return ERR_INVALID;
	bool known = false;
	for (size_t i = 0; algorithms[i] != NULL; i++)
		known = known || strcmp(alg, algorithms[i]) == 0;
	if (!known)
		return errmsg_set(err, ERR_INVALID, "%s.algorithm: unknown", where);
	size_t n = strlen(secret);
	if (n == 0 || n > 128 ||
	    strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			   "0123456789+/=") != n)
		return errmsg_set(err, ERR_INVALID, "%s.secret: must be base64", where);
	return 0;
}

/* One of "allow": {"from": prefix, "key": name}. */
static int check_pair(const json_t *p, const char *where, struct errmsg *err)
{
	const char *from = NULL, *msg;
	char kwhere[112];
	int r = jsonx_check_keys(p, pair_keys, where, err);

	if (r == 0)
		r = jsonx_get_str(p, "from", true, where, &from, err);
	if (r < 0 || from == NULL)
		return ERR_INVALID;
	if (xfr_prefix_check(from, &msg) < 0)
		return errmsg_set(err, ERR_INVALID, "%s.from: %s", where, msg);
	snprintf(kwhere, sizeof(kwhere), "%s.key", where);
	return check_name(json_object_get(p, "key"), kwhere, err);
}

int model_transfer_check(const json_t *t, const char *path, struct errmsg *err)
{
	json_t *pairs = NULL, *allow = NULL, *keys = NULL, *notify = NULL, *tsig = NULL, *v;
	char where[96], canon[XFR_ADDR_MAX];
	const char *msg;
	size_t i;

	if (!json_is_object(t))
		return errmsg_set(err, ERR_INVALID, "%s: must be an object", path);
	int r = jsonx_check_keys(t, transfer_keys, path, err);
	if (r == 0)
		r = list_of(t, "allow", path, &pairs, err);
	if (r == 0)
		r = list_of(t, "allow_from", path, &allow, err);
	if (r == 0)
		r = list_of(t, "keys", path, &keys, err);
	if (r == 0)
		r = list_of(t, "notify", path, &notify, err);
	if (r == 0)
		r = list_of(t, "tsig", path, &tsig, err);
	if (r < 0)
		return ERR_INVALID;
	json_array_foreach(allow, i, v) {
		const char *s = json_string_value(v);
		if (s == NULL || xfr_prefix_check(s, &msg) < 0)
			return errmsg_set(err, ERR_INVALID, "%s.allow_from[%zu]: %s", path, i,
					  s == NULL ? "must be a string" : msg);
	}
	json_array_foreach(notify, i, v) {
		const char *s = json_string_value(v);
		if (s == NULL || xfr_notify_check(s, canon, &msg) < 0)
			return errmsg_set(err, ERR_INVALID, "%s.notify[%zu]: %s", path, i,
					  s == NULL ? "must be a string" : msg);
	}
	json_array_foreach(pairs, i, v) {
		snprintf(where, sizeof(where), "%s.allow[%zu]", path, i);
		if ((r = check_pair(v, where, err)) < 0)
			return r;
	}
	json_array_foreach(keys, i, v) {
		snprintf(where, sizeof(where), "%s.keys[%zu]", path, i);
		if ((r = check_name(v, where, err)) < 0)
			return r;
	}
	json_array_foreach(tsig, i, v) {
		snprintf(where, sizeof(where), "%s.tsig[%zu]", path, i);
		if ((r = check_tsig(v, where, err)) < 0)
			return r;
	}
	return 0;
}

int xfr_primary_parse(const char *text, struct xfr_primary *ret, struct errmsg *err)
{
	char host[XFR_PRIMARY_TEXT_MAX];
	const char *port = NULL;
	size_t n = strlen(text);
	struct xfr_primary p = { 0 };

	if (n == 0 || n >= sizeof(host))
		return errmsg_set(err, ERR_INVALID,
				  "a primary is an address with an optional port");
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return errmsg_set(err, ERR_INVALID,
					  "a bracketed IPv6 address ends with ']'");
		snprintf(host, sizeof(host), "%.*s", (int)(end - text - 1), text + 1);
		port = end[1] == ':' ? end + 2 : NULL;
	} else if (strchr(text, ':') != NULL && strchr(text, ':') == strrchr(text, ':')) {
		const char *colon = strchr(text, ':');
		snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
		port = colon + 1;
	} else {
		snprintf(host, sizeof(host), "%s", text);
	}
	unsigned long pn = XFR_DEFAULT_PORT;
	if (port != NULL) {
		char *end;
		errno = 0;
		pn = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || errno != 0 || pn == 0 || pn > 65535)
			return errmsg_set(err, ERR_INVALID, "'%s': the port is 1 to 65535", text);
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)&p.addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&p.addr;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)pn);
		p.len = sizeof(*v4);
		snprintf(p.text, sizeof(p.text), "%s:%lu", host, pn);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)pn);
		p.len = sizeof(*v6);
		snprintf(p.text, sizeof(p.text), "[%s]:%lu", host, pn);
	} else {
		return errmsg_set(err, ERR_INVALID, "'%s' is not an IP address (with a port)",
				  text);
	}
	*ret = p;
	return 0;
}

bool xfr_primary_matches(const struct xfr_primary *p, const struct sockaddr_storage *a)
{
	/* A dual-stack listener (dns-listen-address ::) sees an IPv4 sender
	 * as ::ffff:a.b.c.d: the same host as a.b.c.d. */
	const struct sockaddr_in6 *m = (const struct sockaddr_in6 *)a;
	if (p->addr.ss_family == AF_INET && a->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&m->sin6_addr))
		return memcmp(&((const struct sockaddr_in *)&p->addr)->sin_addr,
			      m->sin6_addr.s6_addr + 12, sizeof(struct in_addr)) == 0;
	if (p->addr.ss_family != a->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)&p->addr)->sin_addr,
			      &((const struct sockaddr_in *)a)->sin_addr,
			      sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)&p->addr)->sin6_addr,
		      &((const struct sockaddr_in6 *)a)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

bool xfr_prefix_contains(const char *prefix, const struct sockaddr_storage *a)
{
	struct addrlist l;
	const char *msg;
	size_t at, len;

	return addrlist_parse(prefix, &l, &msg, &at, &len) == 0 &&
	       addrlist_match(&l, (const struct sockaddr *)a,
			      a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						       : sizeof(struct sockaddr_in));
}
