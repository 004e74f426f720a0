/* Whole zones: the rules that need more than one record.
 *
 * zone_check() sorts the records into DNS canonical order first (RFC 4034
 * section 6: owner label by label from the right, then type, then RDATA
 * wire). In that order the records of one owner, and of one RRset, are
 * adjacent, and a name's whole subtree follows it directly, so every rule is
 * one linear scan plus binary searches: no quadratic pass over the zone. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>

#include "base/err.h"
#include "base/log.h"
#include "dns/dns.h"
#include "dns/dns_internal.h"

/* Longest CNAME chain followed inside one zone. */
#define CNAME_CHAIN_MAX 16

void zone_data_init(struct zone_data *z, const char *origin)
{
	memset(z, 0, sizeof(*z));
	snprintf(z->origin, sizeof(z->origin), "%s", origin != NULL ? origin : "");
}

int zone_data_take_rr(struct zone_data *z, struct rr *rr)
{
	if (z->n == z->alloc) {
		size_t alloc = z->alloc > 0 ? 2 * z->alloc : 16;
		struct rr *rrs;

		if (alloc > SIZE_MAX / sizeof(*rrs))
			return -ENOMEM;
		rrs = realloc(z->rrs, alloc * sizeof(*rrs));
		if (rrs == NULL)
			return -ENOMEM;
		z->rrs = rrs;
		z->alloc = alloc;
	}
	z->rrs[z->n++] = *rr;
	memset(rr, 0, sizeof(*rr));
	return 0;
}

void zone_data_clear(struct zone_data *z)
{
	if (z == NULL)
		return;
	for (size_t i = 0; i < z->n; i++)
		rr_clear(&z->rrs[i]);
	free(z->rrs);
	z->rrs = NULL;
	z->n = 0;
	z->alloc = 0;
}

/* RFC 4034 section 6.3: RDATA compared as unsigned octets, a prefix first. */
static int wire_cmp(const struct rr *a, const struct rr *b)
{
	size_t n = a->wire_len < b->wire_len ? a->wire_len : b->wire_len;
	int c = n > 0 ? memcmp(a->wire, b->wire, n) : 0;

	if (c != 0)
		return c;
	return (a->wire_len > b->wire_len) - (a->wire_len < b->wire_len);
}

static int rr_cmp(const struct rr *a, const struct rr *b)
{
	int c = dns_name_canon_cmp(a->owner, b->owner);

	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return wire_cmp(a, b);
}

static int rr_ptr_cmp(const void *a, const void *b)
{
	return rr_cmp(*(const struct rr *const *)a, *(const struct rr *const *)b);
}

/* Sort through an array of pointers: struct rr is 290 bytes. */
static int zone_sort(struct zone_data *z)
{
	struct rr **idx;
	struct rr *sorted;

	if (z->n < 2)
		return 0;
	idx = malloc(z->n * sizeof(*idx));
	sorted = malloc(z->n * sizeof(*sorted));
	if (idx == NULL || sorted == NULL) {
		free(idx);
		free(sorted);
		return -ENOMEM;
	}
	for (size_t i = 0; i < z->n; i++)
		idx[i] = &z->rrs[i];
	qsort(idx, z->n, sizeof(*idx), rr_ptr_cmp);
	for (size_t i = 0; i < z->n; i++)
		sorted[i] = *idx[i];
	free(idx);
	free(z->rrs);
	z->rrs = sorted;
	z->alloc = z->n;
	return 0;
}

/* Index of the first record of RRset ('owner', 'type') in a sorted zone, or
 * -1. */
static long rr_find(const struct zone_data *z, const char *owner, uint16_t type)
{
	size_t lo = 0, hi = z->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rr *m = &z->rrs[mid];
		int c = dns_name_canon_cmp(m->owner, owner);

		if (c == 0)
			c = (m->type > type) - (m->type < type);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < z->n && z->rrs[lo].type == type && strcmp(z->rrs[lo].owner, owner) == 0)
		return (long)lo;
	return -1;
}

/* The name a CNAME, DNAME, NS, MX or SRV record points to, as text. */
static bool rr_target(const struct rr *rr, char out[DNAME_TEXT_MAX])
{
	size_t off;

	switch (rr->type) {
	case KNOT_RRTYPE_CNAME:
	case KNOT_RRTYPE_DNAME:
	case KNOT_RRTYPE_NS:
		off = 0;
		break;
	case KNOT_RRTYPE_MX:
		off = 2;
		break;
	case KNOT_RRTYPE_SRV:
		off = 6;
		break;
	default:
		return false;
	}
	if (rr->wire == NULL || off >= rr->wire_len ||
	    knot_dname_wire_check(rr->wire + off, rr->wire + rr->wire_len, NULL) <= 0)
		return false;
	return knot_dname_to_str(out, rr->wire + off, DNAME_TEXT_MAX) != NULL;
}

static const char *type_str(uint16_t type)
{
	const char *name = rr_type_name(type);

	return name != NULL ? name : "?";
}

/* 'name' strictly below 'top'. */
static bool strictly_below(const char *name, const char *top)
{
	return strcmp(name, top) != 0 && dname_is_at_or_below(name, top);
}

/* Follow the CNAME chain that starts at rrs[i] inside the zone: no record
 * may point back into the chain (RFC 1034 section 3.6.2: a loop makes the
 * name unresolvable; PowerDNS answers SERVFAIL), and no chain may be longer
 * than CNAME_CHAIN_MAX. Only exact owners count, not wildcard matches. */
static int cname_chain(const struct zone_data *z, size_t i, struct errmsg *err)
{
	const char *seen[CNAME_CHAIN_MAX + 1];
	char target[DNAME_TEXT_MAX];
	const struct rr *cur = &z->rrs[i];
	size_t n = 0;

	seen[n++] = cur->owner;
	for (;;) {
		long next;

		if (!rr_target(cur, target))
			return 0;
		for (size_t k = 0; k < n; k++) {
			if (strcmp(seen[k], target) != 0)
				continue;
			if (n == 1)
				errmsg_set(err, 0, "'%s' CNAME: points to itself", cur->owner);
			else
				errmsg_set(err, 0, "'%s' CNAME: the chain loops back to '%s'",
					   z->rrs[i].owner, target);
			return ERR_INVALID;
		}
		if (!dname_is_at_or_below(target, z->origin))
			return 0;
		next = rr_find(z, target, KNOT_RRTYPE_CNAME);
		if (next < 0)
			return 0;
		if (n > CNAME_CHAIN_MAX - 1)
			return errmsg_set(err, ERR_INVALID,
					  "'%s' CNAME: chain longer than %d aliases",
					  z->rrs[i].owner, CNAME_CHAIN_MAX);
		cur = &z->rrs[next];
		seen[n++] = cur->owner;
	}
}

/* The DNAME whose owner is 'name' or its closest ancestor inside the zone,
 * or -1. Names here are normalised LDH text, so every '.' ends a label. */
static long dname_above(const struct zone_data *z, const char *name)
{
	for (const char *p = name; dname_is_at_or_below(p, z->origin);) {
		long k = rr_find(z, p, KNOT_RRTYPE_DNAME);

		if (k >= 0)
			return k;
		if (strcmp(p, z->origin) == 0)
			return -1;
		p = strchr(p, '.') + 1;
	}
	return -1;
}

/* Follow the DNAME at rrs[i] through the zone's DNAMEs: a name below the
 * owner is rewritten under the target, and if that lies at or below the
 * owner again, or at or below a later DNAME of the chain, rewriting never
 * ends (RFC 6672 section 2.4: naming loops; servers answer SERVFAIL or
 * YXDOMAIN). 'target' is where the owner's own subtree lands; it is moved on
 * by each DNAME it falls under. A chain that leaves the zone, grows past 255
 * octets or gets longer than CNAME_CHAIN_MAX is not followed further. */
static int dname_chain(const struct zone_data *z, size_t i, struct errmsg *err)
{
	const char *seen[CNAME_CHAIN_MAX + 1];
	char target[DNAME_TEXT_MAX], next[DNAME_TEXT_MAX];
	const struct rr *cur = &z->rrs[i];
	size_t n = 0;

	if (!rr_target(cur, target))
		return 0;
	seen[n++] = cur->owner;
	for (;;) {
		size_t plen;
		long k;

		for (size_t m = 0; m < n; m++) {
			if (!dname_is_at_or_below(target, seen[m]))
				continue;
			if (n == 1 && strcmp(target, cur->owner) == 0)
				errmsg_set(err, 0,
					   "'%s' DNAME: points to itself (RFC 6672 section 2.4)",
					   cur->owner);
			else if (n == 1)
				errmsg_set(err, 0,
					   "'%s' DNAME: target '%s' is below the owner, so names "
					   "are rewritten without end (RFC 6672 section 2.4)",
					   cur->owner, target);
			else
				errmsg_set(
				    err, 0,
				    "'%s' DNAME: the chain of DNAMEs loops back to '%s' (RFC "
				    "6672 section 2.4)",
				    cur->owner, seen[m]);
			return ERR_INVALID;
		}
		if (n > CNAME_CHAIN_MAX - 1)
			return 0;
		k = dname_above(z, target);
		if (k < 0)
			return 0;
		/* target = <prefix>.<owner of k>  becomes  <prefix>.<target of k> */
		plen = strlen(target) - strlen(z->rrs[k].owner);
		if (!rr_target(&z->rrs[k], next))
			return 0;
		if (plen + strlen(next) >= DNAME_TEXT_MAX - 1)
			return 0;
		memmove(target + plen, next, strlen(next) + 1);
		seen[n++] = z->rrs[k].owner;
	}
}

/* RRset rules for the records [a, b) of one owner and type. */
static int rrset_check(const struct zone_data *z, size_t a, size_t b, const struct zone_limits *lim,
		       struct errmsg *err)
{
	const struct rr *first = &z->rrs[a];
	const char *t = type_str(first->type);

	if (lim != NULL && lim->max_rrset > 0 && b - a > lim->max_rrset)
		return errmsg_set(err, ERR_TOO_LARGE,
				  "'%s' %s: %zu records, over the limit of %u per RRset",
				  first->owner, t, b - a, lim->max_rrset);
	for (size_t k = a + 1; k < b; k++) {
		const struct rr *r = &z->rrs[k];

		/* Sorted by wire form: equal records are neighbours. */
		if (wire_cmp(r, &z->rrs[k - 1]) == 0) {
			char q[160];

			log_sanitize(r->content, q, sizeof(q));
			return errmsg_set(err, ERR_INVALID,
					  "'%s' %s: duplicate record '%s' (RFC 2181 section 5)",
					  r->owner, t, q);
		}
		/* RFC 4034 section 3: an RRSIG has the TTL of the RRset it
		 * covers, and one owner's RRSIGs cover RRsets of other TTLs. */
		if (r->ttl != first->ttl && first->type != KNOT_RRTYPE_RRSIG)
			return errmsg_set(
			    err, ERR_INVALID,
			    "'%s' %s: records of one RRset must share one TTL, not %u and "
			    "%u (RFC 2181 section 5.2)",
			    r->owner, t, first->ttl, r->ttl);
	}
	return 0;
}

struct owner_info {
	size_t n, cname, ns, ds, soa, dname, glue, mx;
	size_t proof; /* RRSIG and NSEC, which go with any data (presigned zones) */
	bool null_mx;
	uint16_t other;	     /* one type besides CNAME, for the message */
	uint16_t not_at_cut; /* one type other than NS and DS */
	uint16_t not_glue;   /* one type other than A and AAAA */
};

static void owner_scan(const struct zone_data *z, size_t a, size_t b, struct owner_info *o)
{
	memset(o, 0, sizeof(*o));
	o->n = b - a;
	for (size_t k = a; k < b; k++) {
		const struct rr *r = &z->rrs[k];
		/* a steered CNAME (routing policy) is a CNAME to every rule */
		bool lua_cname = r->type == TYPE_LUA && strncmp(r->content, "CNAME ", 6) == 0;

		if (lua_cname)
			o->cname++;
		/* RFC 4035 section 2.5: a CNAME owner in a signed zone has its
		 * RRSIG and NSEC; a delegation point its NSEC and the RRSIGs
		 * of them and of its DS (sections 2.2 and 2.3). */
		if (r->type == KNOT_RRTYPE_RRSIG || r->type == KNOT_RRTYPE_NSEC) {
			o->proof++;
			continue;
		}
		switch (r->type) {
		case KNOT_RRTYPE_CNAME:
			o->cname++;
			break;
		case KNOT_RRTYPE_NS:
			o->ns++;
			break;
		case KNOT_RRTYPE_DS:
			o->ds++;
			break;
		case KNOT_RRTYPE_SOA:
			o->soa++;
			break;
		case KNOT_RRTYPE_DNAME:
			o->dname++;
			break;
		case KNOT_RRTYPE_A:
		case KNOT_RRTYPE_AAAA:
			o->glue++;
			break;
		case KNOT_RRTYPE_MX:
			o->mx++;
			if (r->wire_len == 3 && r->wire[2] == 0)
				o->null_mx = true;
			break;
		default:
			break;
		}
		if (r->type != KNOT_RRTYPE_CNAME && !lua_cname && o->other == 0)
			o->other = r->type;
		if (r->type != KNOT_RRTYPE_NS && r->type != KNOT_RRTYPE_DS && o->not_at_cut == 0)
			o->not_at_cut = r->type;
		if (r->type != KNOT_RRTYPE_A && r->type != KNOT_RRTYPE_AAAA && o->not_glue == 0)
			o->not_glue = r->type;
	}
}

/* The rules for one owner's records [a, b). 'cut' and 'dname' are the
 * closest delegation and DNAME owner above, or NULL. */
static int owner_check(const struct zone_data *z, size_t a, size_t b, const char *cut,
		       const char *dname, struct owner_info *o, struct errmsg *err)
{
	const char *owner = z->rrs[a].owner;
	bool apex = strcmp(owner, z->origin) == 0;
	bool wild = owner[0] == '*' && owner[1] == '.';

	if (!dname_is_at_or_below(owner, z->origin))
		return errmsg_set(err, ERR_INVALID, "'%s' %s: owner is not inside zone '%s'", owner,
				  type_str(z->rrs[a].type), z->origin);
	owner_scan(z, a, b, o);
	if (dname != NULL) {
		errmsg_set(
		    err, 0,
		    "'%s' %s: no data may exist below the DNAME at '%s' (RFC 6672 section 2.4)",
		    owner, type_str(z->rrs[a].type), dname);
		return ERR_INVALID;
	}
	if (cut != NULL && o->not_glue != 0)
		return errmsg_set(
		    err, ERR_INVALID,
		    "'%s' %s: below the delegation '%s' only glue (A, AAAA) is allowed", owner,
		    type_str(o->not_glue), cut);
	if (o->soa > 0 && !apex)
		return errmsg_set(err, ERR_INVALID, "'%s' SOA: only allowed at the zone apex '%s'",
				  owner, z->origin);
	if (o->soa > 1)
		return errmsg_set(err, ERR_INVALID, "'%s' SOA: only one SOA record is allowed",
				  owner);
	if (o->cname > 0) {
		if (apex)
			return errmsg_set(err, ERR_INVALID,
					  "'%s' CNAME: not allowed at the zone apex", owner);
		if (o->cname > 1)
			return errmsg_set(
			    err, ERR_INVALID,
			    "'%s' CNAME: only one CNAME per owner (RFC 2181 section 10.1)", owner);
		if (o->n > o->cname + o->proof)
			return errmsg_set(
			    err, ERR_INVALID,
			    "'%s' CNAME: the owner also has %s data; a CNAME must be alone "
			    "(RFC 1034 section 3.6.2)",
			    owner, type_str(o->other));
	}
	if (o->dname > 1)
		return errmsg_set(err, ERR_INVALID,
				  "'%s' DNAME: only one DNAME per owner (RFC 6672 section 2.4)",
				  owner);
	if (wild && (o->ns > 0 || o->soa > 0 || o->dname > 0))
		return errmsg_set(err, ERR_INVALID,
				  "'%s' %s: not allowed at a wildcard owner (RFC 4592 section 4)",
				  owner,
				  o->ns > 0	 ? "NS"
				  : o->dname > 0 ? "DNAME"
						 : "SOA");
	if (o->ds > 0 && apex)
		return errmsg_set(
		    err, ERR_INVALID,
		    "'%s' DS: not allowed at the zone apex; it belongs in the parent zone", owner);
	if (o->ds > 0 && o->ns == 0)
		return errmsg_set(
		    err, ERR_INVALID,
		    "'%s' DS: only allowed at a delegation (an owner with NS records)", owner);
	if (o->ns > 0 && !apex && o->not_at_cut != 0)
		return errmsg_set(
		    err, ERR_INVALID,
		    "'%s' %s: only NS and DS are allowed at the delegation point '%s'", owner,
		    type_str(o->not_at_cut), owner);
	if (o->null_mx && o->mx > 1)
		return errmsg_set(err, ERR_INVALID,
				  "'%s' MX: a null MX ('0 .') must be the only MX (RFC 7505)",
				  owner);
	return 0;
}

/* MX, NS and SRV must name a host, not an alias (RFC 2181 section 10.3,
 * RFC 2782): checked where the target is a CNAME owner in this zone. */
static int target_check(const struct zone_data *z, size_t k, struct errmsg *err)
{
	const struct rr *r = &z->rrs[k];
	char target[DNAME_TEXT_MAX];

	if (r->type != KNOT_RRTYPE_MX && r->type != KNOT_RRTYPE_NS && r->type != KNOT_RRTYPE_SRV)
		return 0;
	if (!rr_target(r, target) || !dname_is_at_or_below(target, z->origin))
		return 0;
	if (rr_find(z, target, KNOT_RRTYPE_CNAME) < 0)
		return 0;
	return errmsg_set(err, ERR_INVALID, "'%s' %s: target '%s' is an alias (CNAME), %s",
			  r->owner, type_str(r->type), target,
			  r->type == KNOT_RRTYPE_SRV ? "RFC 2782" : "RFC 2181 section 10.3");
}

int zone_check(struct zone_data *z, const struct zone_limits *lim, struct errmsg *err)
{
	const char *cut = NULL, *dname = NULL;
	bool apex_ns = false;
	size_t a, b;
	int r;

	if (lim != NULL && lim->max_records > 0 && z->n > lim->max_records)
		return errmsg_set(err, ERR_TOO_LARGE,
				  "zone '%s': %zu records, over the limit of %u", z->origin, z->n,
				  lim->max_records);
	r = zone_sort(z);
	if (r < 0)
		return errmsg_set(err, r, "zone '%s': out of memory", z->origin);
	for (a = 0; a < z->n; a = b) {
		const char *owner = z->rrs[a].owner;
		struct owner_info o;

		for (b = a + 1; b < z->n && strcmp(z->rrs[b].owner, owner) == 0; b++)
			;
		/* The subtree of a name follows it: leaving it ends its scope. */
		if (cut != NULL && !strictly_below(owner, cut))
			cut = NULL;
		if (dname != NULL && !strictly_below(owner, dname))
			dname = NULL;
		r = owner_check(z, a, b, cut, dname, &o, err);
		if (r < 0)
			return r;
		for (size_t s = a, e; s < b; s = e) {
			for (e = s + 1; e < b && z->rrs[e].type == z->rrs[s].type; e++)
				;
			r = rrset_check(z, s, e, lim, err);
			if (r < 0)
				return r;
		}
		for (size_t k = a; k < b; k++) {
			r = target_check(z, k, err);
			if (r < 0)
				return r;
		}
		if (o.cname > 0) {
			r = cname_chain(z, a, err);
			if (r < 0)
				return r;
		}
		if (strcmp(owner, z->origin) == 0) {
			apex_ns = o.ns > 0;
		} else if (o.ns > 0 && cut == NULL) {
			cut = owner;
		}
		if (o.dname > 0) {
			r = dname_chain(z, (size_t)rr_find(z, owner, KNOT_RRTYPE_DNAME), err);
			if (r < 0)
				return r;
			dname = owner;
		}
	}
	if (!apex_ns)
		return errmsg_set(err, ERR_INVALID,
				  "zone '%s': at least one NS record is required at the apex",
				  z->origin);
	return 0;
}

bool zone_rr_is_auth(const struct zone_data *z, size_t i)
{
	const struct rr *r;
	const char *p;
	size_t olen;
	bool auth = true;

	if (z == NULL || i >= z->n)
		return false;
	r = &z->rrs[i];
	olen = strlen(z->origin);
	/* Look for NS at the owner and at each ancestor below the apex. */
	for (p = r->owner; p != NULL && strlen(p) > olen; p = strchr(p, '.')) {
		if (p != r->owner)
			p++;
		if (strlen(p) <= olen)
			break;
		if (rr_find(z, p, KNOT_RRTYPE_NS) < 0)
			continue;
		if (p != r->owner)
			return false;
		/* At the cut, NS is the parent's copy of the child's data; DS is
		 * the parent's own (PowerDNS auth=0 semantics). */
		auth = r->type != KNOT_RRTYPE_NS;
	}
	return auth;
}
