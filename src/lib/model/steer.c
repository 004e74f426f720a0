/* Routing policies checked and compiled to LUA record content (steer.h).
 *
 * The compiler checks and writes in one pass into a buffer that is thrown
 * away on any error. Everything it writes is either its own fixed text,
 * an integer it range-checked, or a value that passed its check and goes
 * through steer_lua_quote().
 *
 * PowerDNS 4.7 facts the output relies on: LUA content starting with ';'
 * is a statement block, otherwise an expression; ifportup() takes a flat
 * list (a list of lists is a SERVFAIL), ifurlup() takes a list of groups;
 * with selector and backupSelector 'all' both return every target that is
 * up, or every target when none is. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "dns/dns.h"
#include "json/jsonx.h"
#include "model/steer.h"

#define TYPE_CNAME 5
#define CHECK_INTERVAL_MAX 3600
#define CHECK_TIMEOUT_MAX 60
#define CHECK_FAILURES_MAX 100

enum rtype { RT_A, RT_AAAA, RT_CNAME };

struct ctx {
	enum rtype rt;
	const char *origin;
	struct buf *b;
	struct errmsg *err;
	unsigned flags; /* STEER_* */
};

struct check {
	unsigned port;			      /* TCP check, or 0 */
	const char *url;		      /* URL check, or NULL */
	uint64_t interval, timeout, failures; /* 0: PowerDNS's default */
};

int steer_lua_quote(struct buf *b, const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '\'' || *p == '"' || *p == '\\')
			return -EINVAL;
	int r = buf_puts(b, "'");
	if (r == 0)
		r = buf_puts(b, s);
	if (r == 0)
		r = buf_puts(b, "'");
	return r;
}

/* -E2BIG from the buffer is the policy's fault: too many or too long. */
static int put_result(const struct ctx *c, int r)
{
	if (r == -E2BIG)
		return errmsg_set(c->err, ERR_INVALID,
				  "policy: the policy compiles to more than %u bytes",
				  STEER_CONTENT_MAX);
	if (r == -EINVAL) /* a checked value that the quoting refuses: a bug */
		return errmsg_set(c->err, ERR_INVALID, "policy: a value cannot be quoted");
	return r;
}

static int put(const struct ctx *c, const char *s)
{
	return put_result(c, buf_puts(c->b, s));
}

static int put_quoted(const struct ctx *c, const char *s)
{
	return put_result(c, steer_lua_quote(c->b, s));
}

static int put_uint(const struct ctx *c, uint64_t v)
{
	return put_result(c, buf_printf(c->b, "%llu", (unsigned long long)v));
}

/* Check target 'v' for the RRset's type and write it quoted, in its
 * canonical form. */
static int put_target(const struct ctx *c, const json_t *v, const char *path)
{
	char canon[DNAME_TEXT_MAX];
	unsigned char addr[sizeof(struct in6_addr)];

	if (!json_is_string(v))
		return errmsg_set(c->err, ERR_INVALID, "%s: a target is a string", path);
	const char *s = json_string_value(v);
	if (c->rt == RT_A || c->rt == RT_AAAA) {
		int af = c->rt == RT_A ? AF_INET : AF_INET6;
		if (inet_pton(af, s, addr) != 1)
			return errmsg_set(c->err, ERR_INVALID, "%s: '%.100s' is not an %s address",
					  path, s, c->rt == RT_A ? "IPv4" : "IPv6");
		if (inet_ntop(af, addr, canon, sizeof(canon)) == NULL)
			return -EINVAL;
		return put_quoted(c, canon);
	}
	struct errmsg derr;
	struct rr rr;
	int r = rr_parse(c->origin, TYPE_CNAME, 0, s, c->origin, &rr, &derr);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return errmsg_set(c->err, ERR_INVALID, "%s: '%.100s' is not a name: %s", path, s,
				  derr.text);
	snprintf(canon, sizeof(canon), "%s", rr.content);
	rr_clear(&rr);
	return put_quoted(c, canon);
}

/* Check a list of 1..STEER_TARGETS_MAX targets and write it as a Lua
 * table, or for a CNAME with 'single' as its one name. */
static int put_targets(const struct ctx *c, const json_t *arr, const char *path, bool single)
{
	char p[128];
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > STEER_TARGETS_MAX)
		return errmsg_set(c->err, ERR_INVALID, "%s: a list of 1 to %u targets", path,
				  STEER_TARGETS_MAX);
	if (single) {
		if (json_array_size(arr) != 1)
			return errmsg_set(c->err, ERR_INVALID,
					  "%s: a CNAME answers with one target", path);
		snprintf(p, sizeof(p), "%s[0]", path);
		return put_target(c, json_array_get(arr, 0), p);
	}
	int r = put(c, "{");
	json_array_foreach(arr, i, v) {
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (r == 0 && i > 0)
			r = put(c, ",");
		if (r == 0)
			r = put_target(c, v, p);
	}
	return r < 0 ? r : put(c, "}");
}

static bool url_char_ok(char ch)
{
	/* RFC 3986 pchar, '/' and '?', without the quote Lua uses */
	return isalnum((unsigned char)ch) || strchr("-._~!$&()*+,;=:@/?%", ch) != NULL;
}

int steer_url_check(const char *s, const char *path, struct errmsg *err)
{
	return steer_url_check_flags(s, path, 0, err);
}

/* A host name or IPv4 address with an optional ":port" after it, the
 * first 'alen' bytes of 'p': the port checked after. */
static int host_check(const char *p, size_t alen, const char *path, const char **ret_port,
		      struct errmsg *err)
{
	char host[DNAME_TEXT_MAX], norm[DNAME_TEXT_MAX];
	unsigned char addr[sizeof(struct in_addr)];
	struct errmsg derr;
	const char *colon = memchr(p, ':', alen);
	size_t hlen = colon != NULL ? (size_t)(colon - p) : alen;

	if (hlen == 0 || hlen >= sizeof(host))
		return errmsg_set(err, ERR_INVALID, "%s: the host is empty or too long", path);
	memcpy(host, p, hlen);
	host[hlen] = '\0';
	for (size_t i = 0; i < hlen; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '-' && host[i] != '.')
			return errmsg_set(err, ERR_INVALID,
					  "%s: '%.100s' is not a host name or address", path, host);
	if (inet_pton(AF_INET, host, addr) != 1) {
		int r = dname_zone_normalize(host, norm, &derr);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return errmsg_set(err, ERR_INVALID, "%s: host '%s': %s", path, host,
					  derr.text);
	}
	*ret_port = colon != NULL ? colon + 1 : NULL;
	return 0;
}

/* An IPv6 literal host "[...]" with an optional ":port" after it, as
 * policies stored by earlier releases may hold: the port checked after. */
static int stored_v6_host(const char *p, size_t alen, const char *path, const char **ret_port,
			  struct errmsg *err)
{
	char host[INET6_ADDRSTRLEN];
	unsigned char addr[sizeof(struct in6_addr)];
	const char *close = memchr(p, ']', alen);
	size_t hlen = close != NULL ? (size_t)(close - p - 1) : 0;

	if (close == NULL || hlen == 0 || hlen >= sizeof(host))
		return errmsg_set(err, ERR_INVALID, "%s: not an IPv6 address in '[]'", path);
	memcpy(host, p + 1, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET6, host, addr) != 1)
		return errmsg_set(err, ERR_INVALID, "%s: '%s' is not an IPv6 address", path, host);
	if (close + 1 < p + alen && close[1] != ':')
		return errmsg_set(err, ERR_INVALID, "%s: junk after the host", path);
	*ret_port = close + 1 < p + alen ? close + 2 : NULL;
	return 0;
}

int steer_url_check_flags(const char *s, const char *path, unsigned flags, struct errmsg *err)
{
	const char *p;

	if (strlen(s) > STEER_URL_MAX)
		return errmsg_set(err, ERR_INVALID, "%s: longer than %u characters", path,
				  STEER_URL_MAX);
	if (strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		p = s + 8;
	else
		return errmsg_set(err, ERR_INVALID,
				  "%s: '%.100s' is not an http:// or https:// URL", path, s);
	size_t alen = strcspn(p, "/?#");
	if (memchr(p, '@', alen) != NULL)
		return errmsg_set(err, ERR_INVALID, "%s: a URL with userinfo is refused", path);
	/* PowerDNS 4.7 takes the host as what comes before the first ':' and
	 * the port as the rest up to the first '/': an IPv6 literal's colons,
	 * or a query without a path, would make it check another server (or
	 * none). The address checked is the target's anyway. */
	bool stored = (flags & STEER_STORED) != 0;
	if (*p == '[' && !stored)
		return errmsg_set(err, ERR_INVALID,
				  "%s: an IPv6 address as the URL's host is not supported by "
				  "PowerDNS's checks; name the host (each target's own address is "
				  "what is checked)",
				  path);
	if (p[alen] == '?' && !stored)
		return errmsg_set(err, ERR_INVALID, "%s: a query needs a path before it ('/?')",
				  path);
	const char *port = NULL;
	int r = *p == '[' ? stored_v6_host(p, alen, path, &port, err)
			  : host_check(p, alen, path, &port, err);
	if (r < 0)
		return r;
	if (port != NULL) {
		char *end;
		size_t plen = (size_t)(p + alen - port);
		unsigned long n = strtoul(port, &end, 10);
		if (plen == 0 || plen > 5 || !isdigit((unsigned char)*port) || end != p + alen ||
		    n == 0 || n > 65535)
			return errmsg_set(err, ERR_INVALID, "%s: the port is not 1..65535", path);
	}
	for (const char *q = p + alen; *q != '\0'; q++) {
		if (*q == '#')
			return errmsg_set(err, ERR_INVALID, "%s: a URL with a fragment is refused",
					  path);
		if (!url_char_ok(*q))
			return errmsg_set(err, ERR_INVALID,
					  "%s: character 0x%02x is not allowed in a URL "
					  "(percent-encode it)",
					  path, (unsigned char)*q);
		if (*q == '%' && (!isxdigit((unsigned char)q[1]) || !isxdigit((unsigned char)q[2])))
			return errmsg_set(err, ERR_INVALID,
					  "%s: a '%%' not followed by two hex digits", path);
	}
	return 0;
}

static const char *const check_keys[] = {
	"tcp_port", "url", "interval", "timeout", "minimum_failures", NULL,
};

static int check_parse(const json_t *obj, const char *path, unsigned flags, struct check *ret,
		       struct errmsg *err)
{
	char p[64];
	uint64_t port = 0;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(obj))
		return errmsg_set(err, ERR_INVALID, "%s: an object", path);
	int r = jsonx_check_keys(obj, check_keys, path, err);
	if (r < 0)
		return r;
	bool has_port = json_object_get(obj, "tcp_port") != NULL;
	bool has_url = json_object_get(obj, "url") != NULL;
	if (has_port == has_url)
		return errmsg_set(err, ERR_INVALID, "%s: give either tcp_port or url", path);
	if (has_port) {
		r = jsonx_get_uint(obj, "tcp_port", true, 1, 65535, path, &port, err);
		ret->port = (unsigned)port;
	} else {
		r = jsonx_get_str(obj, "url", true, path, &ret->url, err);
		snprintf(p, sizeof(p), "%s.url", path);
		if (r == 0)
			r = steer_url_check_flags(ret->url, p, flags, err);
	}
	if (r < 0)
		return r;
	r = jsonx_get_uint(obj, "interval", false, 1, CHECK_INTERVAL_MAX, path, &ret->interval,
			   err);
	if (r == 0 || r == -ENOENT)
		r = jsonx_get_uint(obj, "timeout", false, 1, CHECK_TIMEOUT_MAX, path, &ret->timeout,
				   err);
	if (r == 0 || r == -ENOENT)
		r = jsonx_get_uint(obj, "minimum_failures", false, 1, CHECK_FAILURES_MAX, path,
				   &ret->failures, err);
	return r == -ENOENT ? 0 : r;
}

/* The head of a health-checked selection: the target list follows, then
 * put_check_tail(). ifurlup() takes groups: the list is its one group. */
static int put_check_head(const struct ctx *c, const struct check *chk)
{
	int r;
	if (chk->url != NULL) {
		r = put(c, "ifurlup(");
		if (r == 0)
			r = put_quoted(c, chk->url);
		return r < 0 ? r : put(c, ",{");
	}
	r = put(c, "ifportup(");
	if (r == 0)
		r = put_uint(c, chk->port);
	return r < 0 ? r : put(c, ",");
}

static int put_check_tail(const struct ctx *c, const struct check *chk)
{
	int r = put(c, chk->url != NULL ? "},{" : ",{");
	if (r == 0)
		r = put(c, "selector='all',backupSelector='all'");
	if (r == 0 && chk->interval != 0)
		r = put(c, ",interval=");
	if (r == 0 && chk->interval != 0)
		r = put_uint(c, chk->interval);
	if (r == 0 && chk->timeout != 0)
		r = put(c, ",timeout=");
	if (r == 0 && chk->timeout != 0)
		r = put_uint(c, chk->timeout);
	if (r == 0 && chk->failures != 0)
		r = put(c, ",minimumFailures=");
	if (r == 0 && chk->failures != 0)
		r = put_uint(c, chk->failures);
	return r < 0 ? r : put(c, "})");
}

static int put_checked_targets(const struct ctx *c, const struct check *chk, const json_t *arr,
			       const char *path)
{
	int r = put_check_head(c, chk);
	if (r == 0)
		r = put_targets(c, arr, path, false);
	return r < 0 ? r : put_check_tail(c, chk);
}

static const char *const weighted_keys[] = { "type", "sticky", "targets", "ttl", NULL };
static const char *const weighted_target_keys[] = { "target", "weight", NULL };

static int compile_weighted(const struct ctx *c, const json_t *pol)
{
	char p[64];
	json_t *targets = NULL, *t;
	bool sticky = false;
	uint64_t total = 0;
	size_t i;

	int r = jsonx_check_keys(pol, weighted_keys, "policy", c->err);
	if (r == 0)
		r = jsonx_get_bool(pol, "sticky", false, "policy", &sticky, c->err);
	if (r == 0 || r == -ENOENT)
		r = jsonx_get_array(pol, "targets", true, "policy", &targets, c->err);
	if (r < 0)
		return r;
	if (json_array_size(targets) == 0 || json_array_size(targets) > STEER_TARGETS_MAX)
		return errmsg_set(c->err, ERR_INVALID, "policy.targets: a list of 1 to %u targets",
				  STEER_TARGETS_MAX);
	/* pickwhashed() hashes the client's network: one client, one answer */
	r = put(c, sticky ? "pickwhashed({" : "pickwrandom({");
	bool first = true;
	json_array_foreach(targets, i, t) {
		uint64_t w = 0;
		snprintf(p, sizeof(p), "policy.targets[%zu]", i);
		if (!json_is_object(t))
			return errmsg_set(c->err, ERR_INVALID, "%s: an object", p);
		if (r == 0)
			r = jsonx_check_keys(t, weighted_target_keys, p, c->err);
		if (r == 0)
			r = jsonx_get_uint(t, "weight", true, 0, STEER_WEIGHT_MAX, p, &w, c->err);
		if (r < 0)
			return r;
		total += w;
		/* a weight of 0 keeps the target out of the answers, checked */
		if (w > 0)
			r = put(c, first ? "{" : ",{");
		if (r == 0 && w > 0)
			r = put_uint(c, w);
		if (r == 0 && w > 0)
			r = put(c, ",");
		snprintf(p + strlen(p), sizeof(p) - strlen(p), ".target");
		if (r == 0) {
			struct buf scratch;
			struct ctx cc = *c;
			/* a zero-weight target is checked but not written */
			buf_init(&scratch, DNAME_TEXT_MAX + 8);
			if (w == 0)
				cc.b = &scratch;
			r = put_target(&cc, json_object_get(t, "target"), p);
			buf_free(&scratch);
		}
		if (r == 0 && w > 0)
			r = put(c, "}");
		if (r < 0)
			return r;
		first = first && w == 0;
	}
	if (total == 0)
		return errmsg_set(c->err, ERR_INVALID, "policy.targets: the weights add up to 0");
	return put(c, "})");
}

static const char *const failover_keys[] = {
	"type", "targets", "order", "check", "when_all_down", "backup", "ttl", NULL,
};

/* A Lua function up(t): whether PowerDNS considers target t up. It asks
 * about {t, sentinel}, which is one address iff t is up. The same check
 * (address, port or URL, options) shares PowerDNS's state with every
 * record that makes it. */
static int put_up_function(const struct ctx *c, const struct check *chk)
{
	int r = put(c, "local function up(t) return #");
	if (r == 0)
		r = put_check_head(c, chk);
	if (r == 0)
		r = put(c, "{t,");
	if (r == 0)
		r = put_quoted(c, STEER_SENTINEL);
	if (r == 0)
		r = put(c, "}");
	if (r == 0)
		r = put_check_tail(c, chk);
	return r < 0 ? r : put(c, "==1 end ");
}

/* Ordered targets, or a named backup, need each target's own state. */
static int put_failover_script(const struct ctx *c, const struct check *chk, const json_t *targets,
			       bool ordered, const json_t *backup)
{
	int r = put(c, ";");
	if (r == 0)
		r = put_up_function(c, chk);
	if (r == 0)
		r = put(c, "local all=");
	if (r == 0)
		r = put_targets(c, targets, "policy.targets", false);
	if (r == 0)
		r = put(c, " local r={} for _,t in ipairs(all) do if up(t) then ");
	if (r == 0)
		r = put(c, ordered ? "return {t}" : "r[#r+1]=t");
	if (r == 0)
		r = put(c, " end end if #r>0 then return r end return ");
	if (r == 0 && backup != NULL) {
		r = put(c, "{");
		if (r == 0)
			r = put_target(c, backup, "policy.backup");
		if (r == 0)
			r = put(c, "}");
	} else if (r == 0) {
		r = put(c, "all");
	}
	return r;
}

static int compile_failover(const struct ctx *c, const json_t *pol)
{
	const char *order = "equal", *down = "all";
	json_t *targets = NULL, *chk_obj = NULL, *backup;
	struct check chk = { 0 };

	if (c->rt == RT_CNAME)
		return errmsg_set(c->err, ERR_INVALID,
				  "policy.type: failover checks addresses: A and AAAA RRsets only");
	int r = jsonx_check_keys(pol, failover_keys, "policy", c->err);
	if (r == 0)
		r = jsonx_get_array(pol, "targets", true, "policy", &targets, c->err);
	if (r == 0)
		r = jsonx_get_obj(pol, "check", true, "policy", &chk_obj, c->err);
	if (r == 0)
		r = check_parse(chk_obj, "policy.check", c->flags, &chk, c->err);
	if (r == 0)
		r = jsonx_get_str(pol, "order", false, "policy", &order, c->err);
	if (r == 0 || r == -ENOENT)
		r = jsonx_get_str(pol, "when_all_down", false, "policy", &down, c->err);
	if (r < 0 && r != -ENOENT)
		return r;
	bool ordered = strcmp(order, "ordered") == 0;
	if (!ordered && strcmp(order, "equal") != 0)
		return errmsg_set(c->err, ERR_INVALID,
				  "policy.order: '%.40s' is not one of equal, ordered", order);
	backup = json_object_get(pol, "backup");
	if (strcmp(down, "backup") == 0) {
		if (backup == NULL)
			return errmsg_set(c->err, ERR_INVALID,
					  "policy.backup: required when when_all_down is backup");
	} else if (strcmp(down, "all") == 0) {
		if (backup != NULL)
			return errmsg_set(c->err, ERR_INVALID,
					  "policy.backup: only with when_all_down backup");
	} else {
		return errmsg_set(c->err, ERR_INVALID,
				  "policy.when_all_down: '%.40s' is not one of all, backup", down);
	}
	if (!ordered && backup == NULL)
		return put_checked_targets(c, &chk, targets, "policy.targets");
	return put_failover_script(c, &chk, targets, ordered, backup);
}

static const char *const geo_keys[] = { "type", "regions", "default", "check", "ttl", NULL };
static const char *const region_keys[] = { "country", "continent", "targets", NULL };

/* One region's or the default's answer: the targets, health-checked when
 * the policy has a check. */
static int put_geo_answer(const struct ctx *c, const struct check *chk, const json_t *arr,
			  const char *path)
{
	if (chk != NULL)
		return put_checked_targets(c, chk, arr, path);
	return put_targets(c, arr, path, c->rt == RT_CNAME);
}

/* The regions whose code is a country ('countries') or a continent, each
 * code checked and seen once among its kind: country NA (Namibia) and
 * continent NA (North America) are two regions, as are AS, SA and AF. */
static int put_geo_regions(const struct ctx *c, const json_t *regions, bool countries,
			   const struct check *chk)
{
	char p[64], code[3], seen[STEER_REGIONS_MAX][3];
	size_t nseen = 0;
	const char *key = countries ? "country" : "continent";
	json_t *reg;
	size_t i;

	json_array_foreach(regions, i, reg) {
		const char *s;
		snprintf(p, sizeof(p), "policy.regions[%zu]", i);
		if (!json_is_object(reg))
			return errmsg_set(c->err, ERR_INVALID, "%s: an object", p);
		int r = jsonx_check_keys(reg, region_keys, p, c->err);
		if (r < 0)
			return r;
		bool has_country = json_object_get(reg, "country") != NULL;
		if (has_country == (json_object_get(reg, "continent") != NULL))
			return errmsg_set(c->err, ERR_INVALID,
					  "%s: give either country or continent", p);
		if (has_country != countries)
			continue;
		r = jsonx_get_str(reg, key, true, p, &s, c->err);
		if (r < 0)
			return r;
		if (strlen(s) != 2 || !isalpha((unsigned char)s[0]) ||
		    !isalpha((unsigned char)s[1]))
			return errmsg_set(c->err, ERR_INVALID,
					  "%s.%s: '%.20s' is not a 2-letter code", p, key, s);
		code[0] = (char)toupper((unsigned char)s[0]);
		code[1] = (char)toupper((unsigned char)s[1]);
		code[2] = '\0';
		if (countries ? !steer_country_known(code) : !steer_continent_known(code))
			return errmsg_set(c->err, ERR_INVALID,
					  "%s.%s: '%s' is not an ISO 3166 %s code", p, key, code,
					  countries ? "country" : "continent");
		for (size_t k = 0; k < nseen; k++)
			if (strcmp(seen[k], code) == 0)
				return errmsg_set(c->err, ERR_INVALID,
						  "%s.%s: '%s' is listed twice", p, key, code);
		memcpy(seen[nseen++], code, 3);
		snprintf(p + strlen(p), sizeof(p) - strlen(p), ".targets");
		r = put(c, countries ? "if country(" : "if continent(");
		if (r == 0)
			r = put_quoted(c, code);
		if (r == 0)
			r = put(c, ") then return ");
		if (r == 0)
			r = put_geo_answer(c, chk, json_object_get(reg, "targets"), p);
		if (r == 0)
			r = put(c, " end ");
		if (r < 0)
			return r;
	}
	return 0;
}

static int compile_geo(const struct ctx *c, const json_t *pol)
{
	json_t *regions = NULL, *def = NULL, *chk_obj = NULL;
	struct check chk = { 0 };

	int r = jsonx_check_keys(pol, geo_keys, "policy", c->err);
	if (r == 0)
		r = jsonx_get_array(pol, "regions", true, "policy", &regions, c->err);
	if (r == 0)
		r = jsonx_get_array(pol, "default", true, "policy", &def, c->err);
	if (r == 0)
		r = jsonx_get_obj(pol, "check", false, "policy", &chk_obj, c->err);
	if (r == 0)
		r = check_parse(chk_obj, "policy.check", c->flags, &chk, c->err);
	if (r < 0 && r != -ENOENT)
		return r;
	if (chk_obj != NULL && c->rt == RT_CNAME)
		return errmsg_set(c->err, ERR_INVALID,
				  "policy.check: health checks need addresses: A and AAAA RRsets "
				  "only");
	if (json_array_size(regions) > STEER_REGIONS_MAX)
		return errmsg_set(c->err, ERR_INVALID, "policy.regions: at most %u regions",
				  STEER_REGIONS_MAX);
	const struct check *cp = chk_obj != NULL ? &chk : NULL;
	/* a country is more precise than its continent: countries first */
	r = put(c, ";");
	if (r == 0)
		r = put_geo_regions(c, regions, true, cp);
	if (r == 0)
		r = put_geo_regions(c, regions, false, cp);
	if (r == 0)
		r = put(c, "return ");
	return r < 0 ? r : put_geo_answer(c, cp, def, "policy.default");
}

static const char *const closest_keys[] = { "type", "targets", "ttl", NULL };

static int compile_closest(const struct ctx *c, const json_t *pol)
{
	json_t *targets = NULL;

	if (c->rt == RT_CNAME)
		return errmsg_set(c->err, ERR_INVALID,
				  "policy.type: closest picks among addresses: A and AAAA RRsets "
				  "only");
	int r = jsonx_check_keys(pol, closest_keys, "policy", c->err);
	if (r == 0)
		r = jsonx_get_array(pol, "targets", true, "policy", &targets, c->err);
	if (r == 0)
		r = put(c, "pickclosest(");
	if (r == 0)
		r = put_targets(c, targets, "policy.targets", false);
	return r < 0 ? r : put(c, ")");
}

static int rtype_of(const char *type, enum rtype *ret)
{
	if (strcmp(type, "A") == 0)
		*ret = RT_A;
	else if (strcmp(type, "AAAA") == 0)
		*ret = RT_AAAA;
	else if (strcmp(type, "CNAME") == 0)
		*ret = RT_CNAME;
	else
		return -EINVAL;
	return 0;
}

/* 'code' as the content of a LUA record of 'type': the type, a space and
 * the code in one quoted string (it holds no '"' or '\\': steer_lua_quote
 * refuses them, so it needs no escapes). */
static int wrap_content(const struct ctx *c, const char *type, const struct buf *code, char **ret)
{
	struct buf out;

	/* The content, type and quotes included, keeps to the limit the
	 * stored record is checked against (steer_lua_check()). */
	if (code->len + strlen(type) + 3 > STEER_CONTENT_MAX)
		return put_result(c, -E2BIG);
	buf_init(&out, STEER_CONTENT_MAX + 32);
	int r = buf_printf(&out, "%s \"%s\"", type, code->data);
	if (r == 0)
		*ret = buf_take(&out);
	buf_free(&out);
	return put_result(c, r);
}

int steer_compile(const json_t *policy, const char *type, const char *origin, char **ret,
		  struct errmsg *err)
{
	return steer_compile_flags(policy, type, origin, 0, ret, err);
}

int steer_compile_flags(const json_t *policy, const char *type, const char *origin, unsigned flags,
			char **ret, struct errmsg *err)
{
	struct buf code;
	struct ctx c = { .origin = origin, .b = &code, .err = err, .flags = flags };
	const char *kind;
	int r;

	if (rtype_of(type, &c.rt) < 0)
		return errmsg_set(
		    err, ERR_INVALID,
		    "policy: routing policies are served on A, AAAA and CNAME RRsets, "
		    "not %.16s",
		    type);
	if (!json_is_object(policy))
		return errmsg_set(err, ERR_INVALID, "policy: an object");
	r = jsonx_get_str(policy, "type", true, "policy", &kind, err);
	if (r < 0)
		return r;
	uint64_t ttl;
	r = jsonx_get_uint(policy, "ttl", false, 0, 2147483647, "policy", &ttl, err);
	if (r < 0 && r != -ENOENT)
		return r;
	buf_init(&code, STEER_CONTENT_MAX);
	if (strcmp(kind, "weighted") == 0)
		r = compile_weighted(&c, policy);
	else if (strcmp(kind, "failover") == 0)
		r = compile_failover(&c, policy);
	else if (strcmp(kind, "geo") == 0)
		r = compile_geo(&c, policy);
	else if (strcmp(kind, "closest") == 0)
		r = compile_closest(&c, policy);
	else
		r = errmsg_set(
		    err, ERR_INVALID,
		    "policy.type: '%.40s' is not one of weighted, failover, geo, closest", kind);
	if (r == 0)
		r = wrap_content(&c, type, &code, ret);
	buf_free(&code);
	return r;
}

/* The target lists of a checked policy as one Lua list of lists: a
 * failover's targets, or every region's and the default of a geo. */
static int put_checked_lists(const struct ctx *c, const json_t *policy, bool geo)
{
	json_t *reg;
	size_t i;

	int r = put(c, "{");
	if (!geo)
		r = r < 0 ? r : put_targets(c, json_object_get(policy, "targets"), "policy", false);
	json_array_foreach(geo ? json_object_get(policy, "regions") : NULL, i, reg) {
		if (r == 0)
			r = put_targets(c, json_object_get(reg, "targets"), "policy", false);
		if (r == 0)
			r = put(c, ",");
	}
	if (r == 0 && geo)
		r = put_targets(c, json_object_get(policy, "default"), "policy", false);
	return r < 0 ? r : put(c, "}");
}

int steer_health_compile(const json_t *policy, const char *type, const char *origin, unsigned flags,
			 char **ret, struct errmsg *err)
{
	struct buf code;
	struct ctx c = { .origin = origin, .b = &code, .err = err, .flags = flags };
	struct check chk;
	char *served = NULL;

	*ret = NULL;
	int r = steer_compile_flags(policy, type, origin, flags, &served, err);
	free(served);
	if (r < 0)
		return r;
	const char *kind = json_string_value(json_object_get(policy, "type"));
	const json_t *chk_obj = json_object_get(policy, "check");
	bool geo = strcmp(kind, "geo") == 0;
	if (chk_obj == NULL || (!geo && strcmp(kind, "failover") != 0))
		return 0;
	r = rtype_of(type, &c.rt);
	if (r == 0)
		r = check_parse(chk_obj, "policy.check", flags, &chk, err);
	if (r < 0)
		return r;
	buf_init(&code, STEER_CONTENT_MAX);
	/* only the node itself reads it: anyone else learns nothing */
	r = put(&c, ";local w=who:toString() if w~='127.0.0.1' and w~='::1' then return "
		    "'refused' end ");
	if (r == 0)
		r = put_up_function(&c, &chk);
	if (r == 0)
		r = put(&c, "local s,r={},{} for _,g in ipairs(");
	if (r == 0)
		r = put_checked_lists(&c, policy, geo);
	if (r == 0)
		r = put(&c, ") do for _,t in ipairs(g) do if not s[t] then s[t]=1 r[#r+1]='");
	if (r == 0)
		r = put(&c, type);
	if (r == 0)
		r = put(&c, " '..t..(up(t) and ' up' or ' down') end end end return r");
	if (r == 0)
		r = wrap_content(&c, "TXT", &code, ret);
	buf_free(&code);
	return r;
}

int steer_lua_check(const char *content, struct errmsg *err)
{
	size_t len = strlen(content);
	const char *q = strchr(content, ' ');

	if (len > STEER_CONTENT_MAX)
		return errmsg_set(err, ERR_INVALID, "LUA content over %u bytes", STEER_CONTENT_MAX);
	if (q == NULL || !((q - content == 1 && content[0] == 'A') ||
			   (q - content == 4 && strncmp(content, "AAAA", 4) == 0) ||
			   (q - content == 5 && strncmp(content, "CNAME", 5) == 0) ||
			   (q - content == 3 && strncmp(content, "TXT", 3) == 0)))
		return errmsg_set(err, ERR_INVALID,
				  "LUA content must start with A, AAAA, CNAME or TXT");
	if (q[1] != '"' || len < (size_t)(q - content) + 3 || content[len - 1] != '"')
		return errmsg_set(err, ERR_INVALID, "LUA content must be one quoted string");
	for (const char *p = q + 2; p < content + len - 1; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			return errmsg_set(err, ERR_INVALID,
					  "LUA content holds a byte 0x%02x it may not hold",
					  (unsigned char)*p);
	return 0;
}
