/* RFC 2136 UPDATE over the zone as stored (dnsupdate.h).
 *
 * The records at the names the message mentions are read into a working
 * set; the prerequisites are checked against it, the update section is
 * applied to it in order, and every RRset it changed goes to
 * zones_rrsets_patch() as one REPLACE (or DELETE) with the zone version
 * read, so a change committed meanwhile makes the whole update start
 * again rather than apply over data it did not check.
 *
 * A disabled record is served by no node: the prerequisites do not see
 * it, and a REPLACE keeps it disabled unless the update adds it. The SOA,
 * which is no stored record, is in the working set as the nodes serve
 * it. An RRset steered by a routing policy is left to the panel: a
 * REPLACE carries no policy, so an update that touches one is refused;
 * one steered by a policy of its own has no stored records, and is there
 * for the prerequisites all the same. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "catalog.h"
#include "dnsupdate.h"
#include "upolicy.h"
#include "zones.h"
#include "zones_soa.h"

#define RDATA_TEXT_MAX 262144u /* DNS_RDATA_MAX as \DDD escapes, and more */
#define ATTEMPTS 20	       /* a busy zone: each attempt lost is one change committed */

struct wrr {
	char owner[DNAME_TEXT_MAX];
	uint16_t type;
	uint32_t ttl;
	bool disabled; /* as stored: kept, served by no node */
	char *content; /* canonical presentation text (MX/SRV with priority) */
};

struct wset {
	struct wrr *v;
	size_t n, alloc;
};

struct rrkey {
	char owner[DNAME_TEXT_MAX];
	uint16_t type;
};

struct job {
	struct whm *w;
	const knot_pkt_t *pkt;
	const char *zone;
	const json_t *rules;
	char (*owners)[DNAME_TEXT_MAX]; /* sorted, unique */
	size_t n_owners;
	struct wset orig, cur;
	struct rrkey *touched;
	size_t n_touched;
	struct rrkey *steered; /* our RRsets with a routing policy */
	size_t n_steered, steered_alloc;
	char *text; /* RDATA_TEXT_MAX bytes for knot's dump */
	struct errmsg *why;
};

static void wset_clear(struct wset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].content);
	free(s->v);
	*s = (struct wset){ 0 };
}

static int wset_add(struct wset *s, const char *owner, uint16_t type, uint32_t ttl, bool disabled,
		    const char *content)
{
	if (s->n == s->alloc) {
		size_t na = s->alloc ? 2 * s->alloc : 16;
		struct wrr *nv = realloc(s->v, na * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		s->v = nv;
		s->alloc = na;
	}
	struct wrr *e = &s->v[s->n];
	snprintf(e->owner, sizeof(e->owner), "%s", owner);
	e->type = type;
	e->ttl = ttl;
	e->disabled = disabled;
	e->content = strdup(content);
	if (e->content == NULL)
		return -ENOMEM;
	s->n++;
	return 0;
}

static void wset_remove(struct wset *s, size_t i)
{
	free(s->v[i].content);
	s->n--;
	memmove(&s->v[i], &s->v[i + 1], (s->n - i) * sizeof(s->v[0]));
}

static int cmp_owner(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool is_owner(const struct job *j, const char *name)
{
	return bsearch(name, j->owners, j->n_owners, DNAME_TEXT_MAX, cmp_owner) != NULL;
}

/* The owner of 'rr' as stored ("www.example.com."): ERR_INVALID outside
 * the zone (NOTZONE) or for a name the store would refuse. */
static int owner_text(const struct job *j, const knot_rrset_t *rr, char out[DNAME_TEXT_MAX])
{
	knot_dname_storage_t lower;
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	struct errmsg derr;

	if (knot_dname_store(lower, rr->owner) == 0)
		return ERR_INVALID;
	knot_dname_to_lower(lower);
	if (knot_dname_to_str(text, lower, sizeof(text)) == NULL)
		return ERR_INVALID;
	if (dname_owner_normalize(text, j->zone, out, &derr) < 0) {
		errmsg_set(j->why, 0, "%s", derr.text);
		return ERR_INVALID;
	}
	return 0;
}

static bool in_zone(const struct job *j, const knot_rrset_t *rr)
{
	knot_dname_storage_t zone;
	return knot_dname_from_str(zone, j->zone, sizeof(zone)) != NULL &&
	       knot_dname_in_bailiwick(rr->owner, zone) >= 0;
}

/* Every owner named by the prerequisite and update sections, sorted. */
static int collect_owners(struct job *j, const knot_pktsection_t *pre, const knot_pktsection_t *upd)
{
	size_t n = (size_t)pre->count + upd->count;
	j->owners = calloc(n ? n : 1, DNAME_TEXT_MAX);
	if (j->owners == NULL)
		return -ENOMEM;
	for (unsigned s = 0; s < 2; s++) {
		const knot_pktsection_t *sec = s == 0 ? pre : upd;
		for (uint16_t i = 0; i < sec->count; i++) {
			const knot_rrset_t *rr = knot_pkt_rr(sec, i);
			if (!in_zone(j, rr)) {
				errmsg_set(j->why, 0, "a record outside the zone");
				return KNOT_RCODE_NOTZONE;
			}
			if (owner_text(j, rr, j->owners[j->n_owners]) < 0) {
				if (j->why->text[0] == '\0')
					errmsg_set(j->why, 0, "a name the store refuses");
				return KNOT_RCODE_REFUSED;
			}
			j->n_owners++;
		}
	}
	qsort(j->owners, j->n_owners, DNAME_TEXT_MAX, cmp_owner);
	return 0;
}

/* The absolute owner of a name as the store keeps it ("@", "www" or
 * absolute): false when it is none of ours. */
static bool our_owner(const struct job *j, const char *name, char owner[DNAME_TEXT_MAX])
{
	if (strcmp(name, "@") == 0)
		snprintf(owner, DNAME_TEXT_MAX, "%s", j->zone);
	else if (name[0] != '\0' && name[strlen(name) - 1] == '.')
		snprintf(owner, DNAME_TEXT_MAX, "%s", name);
	else if ((size_t)snprintf(owner, DNAME_TEXT_MAX, "%s.%s", name, j->zone) >= DNAME_TEXT_MAX)
		return false;
	return is_owner(j, owner);
}

/* A stored record in the working set when its owner is one of ours. */
static int load_record(const struct store_record *r, void *ctx)
{
	struct job *j = ctx;
	char owner[DNAME_TEXT_MAX], content[DNS_RDATA_TEXT_MAX / 64];
	uint16_t type;
	struct errmsg terr;

	if (!our_owner(j, r->name, owner) || rr_type_parse(r->type, &type, &terr) < 0)
		return 0;
	const char *text = r->content;
	char *big = NULL;
	if (type == KNOT_RRTYPE_MX || type == KNOT_RRTYPE_SRV) {
		size_t need = strlen(r->content) + 16;
		char *dst = need <= sizeof(content) ? content : (big = malloc(need));
		if (dst == NULL)
			return -ENOMEM;
		snprintf(dst, need, "%u %s", r->priority, r->content);
		text = dst;
	}
	int ret = wset_add(&j->orig, owner, type, r->ttl, r->disabled, text);
	free(big);
	return ret;
}

/* An RRset of ours with a routing policy (per record or its own) noted,
 * a store_policy_foreach() step. */
static int load_policy(const char *name, const char *type_text, bool per_record, const char *policy,
		       void *ctx)
{
	struct job *j = ctx;
	char owner[DNAME_TEXT_MAX];
	uint16_t type;
	struct errmsg terr;

	(void)per_record;
	(void)policy;
	if (!our_owner(j, name, owner) || rr_type_parse(type_text, &type, &terr) < 0)
		return 0;
	if (j->n_steered == j->steered_alloc) {
		size_t na = j->steered_alloc ? 2 * j->steered_alloc : 4;
		struct rrkey *nv = realloc(j->steered, na * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		j->steered = nv;
		j->steered_alloc = na;
	}
	struct rrkey *k = &j->steered[j->n_steered++];
	snprintf(k->owner, sizeof(k->owner), "%s", owner);
	k->type = type;
	return 0;
}

/* The SOA as the nodes serve it (its serial and fields are the
 * controller's, never a stored record): a prerequisite may name it by
 * value (section 3.2.3), and an update cannot change it (allowed()). */
static int load_soa(struct job *j, const struct store_zone *z)
{
	char text[3 * DNAME_TEXT_MAX];
	struct errmsg perr;
	struct rr soa;

	zone_soa_text(j->w, z, text, sizeof(text));
	int r = rr_parse(j->zone, KNOT_RRTYPE_SOA, (uint32_t)j->w->conf.soa_ttl, text, j->zone,
			 &soa, &perr);
	if (r < 0)
		return r;
	r = wset_add(&j->orig, j->zone, KNOT_RRTYPE_SOA, soa.ttl, false, soa.content);
	rr_clear(&soa);
	return r;
}

/* The records at our owners (the SOA too) and the zone's version, read
 * consistently. */
static int load(struct job *j, int64_t zone_id, uint64_t *ret_version)
{
	struct store *st;
	struct store_zone z;
	struct errmsg err;

	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		int r = zones_get_live(j->w, zone_id, &st, &z, &err);
		if (r < 0)
			return r;
		uint64_t before = z.version;
		store_zone_clear(&z);
		wset_clear(&j->orig);
		j->n_steered = 0;
		r = store_record_foreach(st, zone_id, load_record, j);
		if (r == 0)
			r = store_policy_foreach(st, zone_id, load_policy, j);
		if (r < 0)
			return r;
		r = zones_get_live(j->w, zone_id, &st, &z, &err);
		if (r < 0)
			return r;
		uint64_t after = z.version;
		if (before == after)
			r = load_soa(j, &z);
		store_zone_clear(&z);
		if (before == after) {
			*ret_version = after;
			return r;
		}
	}
	return ERR_CONFLICT;
}

/* Whether 'keys' (n of them) name the RRset owner/type. */
static bool rrkey_in(const struct rrkey *keys, size_t n, const char *owner, uint16_t type)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i].type == type && strcmp(keys[i].owner, owner) == 0)
			return true;
	return false;
}

/* The prerequisites see the zone as the nodes serve it: a disabled
 * record is not in it (nor would a key learn of one by asking). */
static bool name_in_use(const struct wset *s, const struct job *j, const char *owner)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i].disabled && strcmp(s->v[i].owner, owner) == 0)
			return true;
	for (size_t i = 0; i < j->n_steered; i++)
		if (strcmp(j->steered[i].owner, owner) == 0)
			return true;
	return false;
}

/* An RRset steered by a policy of its own has no stored records, and is
 * served all the same. */
static bool rrset_exists(const struct wset *s, const struct job *j, const char *owner,
			 uint16_t type)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i].disabled && s->v[i].type == type && strcmp(s->v[i].owner, owner) == 0)
			return true;
	return rrkey_in(j->steered, j->n_steered, owner, type);
}

static ssize_t find_rr(const struct wset *s, const char *owner, uint16_t type, const char *content)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].type == type && strcmp(s->v[i].owner, owner) == 0 &&
		    strcmp(s->v[i].content, content) == 0)
			return (ssize_t)i;
	return -1;
}

/* The records of RRset owner/type in 's' (only those served, when
 * 'served'). */
static size_t rrset_size(const struct wset *s, const char *owner, uint16_t type, bool served)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].type == type && strcmp(s->v[i].owner, owner) == 0 &&
		     !(served && s->v[i].disabled);
	return n;
}

/* The canonical text of the one record of 'rr' (rr_parse(): the HTTP
 * routes' validation), in *ret (the caller frees it). */
static int canonical(struct job *j, const knot_rrset_t *rr, const char *owner, char **ret)
{
	struct rr parsed;
	struct errmsg perr;

	if (rr->rrs.count != 1)
		return ERR_INVALID;
	int n = knot_rrset_txt_dump_data(rr, 0, j->text, RDATA_TEXT_MAX, &KNOT_DUMP_STYLE_DEFAULT);
	if (n < 0) {
		errmsg_set(j->why, 0, "'%s': RDATA that cannot be read", owner);
		return ERR_INVALID;
	}
	uint32_t ttl = rr->ttl > DNS_TTL_MAX ? DNS_TTL_MAX : rr->ttl;
	if (rr_parse(owner, rr->type, ttl, j->text, j->zone, &parsed, &perr) < 0) {
		errmsg_set(j->why, 0, "%s", perr.text);
		return ERR_INVALID;
	}
	*ret = parsed.content;
	parsed.content = NULL;
	rr_clear(&parsed);
	return 0;
}

static int cmp_rrset(const struct wrr *a, const struct wrr *b)
{
	int c = strcmp(a->owner, b->owner);
	return c != 0 ? c : (a->type > b->type) - (a->type < b->type);
}

/* qsort() order of struct wrr pointers: by RRset, then content. */
static int cmp_wrr(const void *pa, const void *pb)
{
	const struct wrr *a = *(const struct wrr *const *)pa, *b = *(const struct wrr *const *)pb;
	int c = cmp_rrset(a, b);
	return c != 0 ? c : strcmp(a->content, b->content);
}

/* The entries of 's' (the served ones only when 'served'), sorted by
 * cmp_wrr(), in *ret (the caller frees it); their count in *n. */
static int sorted_rrs(const struct wset *s, bool served, const struct wrr ***ret, size_t *n)
{
	const struct wrr **v = calloc(s->n ? s->n : 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	*n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (!served || !s->v[i].disabled)
			v[(*n)++] = &s->v[i];
	qsort(v, *n, sizeof(*v), cmp_wrr);
	*ret = v;
	return 0;
}

/* Whether each RRset of 'want' holds in 'have' exactly the contents it
 * does in 'want' (both sorted by cmp_wrr(), duplicates allowed): one
 * walk of both. The first RRset that does not in *bad. */
static bool same_rrsets(const struct wrr **want, size_t nw, const struct wrr **have, size_t nh,
			const struct wrr **bad)
{
	size_t h = 0;
	for (size_t i = 0; i < nw;) {
		const struct wrr *set = want[i];
		*bad = set;
		while (h < nh && cmp_rrset(have[h], set) < 0)
			h++; /* RRsets the prerequisites do not name */
		while (i < nw && cmp_rrset(want[i], set) == 0) {
			const struct wrr *e = want[i];
			if (h == nh || cmp_wrr(&have[h], &e) != 0)
				return false;
			while (i < nw && cmp_wrr(&want[i], &e) == 0)
				i++;
			while (h < nh && cmp_wrr(&have[h], &e) == 0)
				h++;
		}
		if (h < nh && cmp_rrset(have[h], set) == 0)
			return false; /* a record the prerequisites leave out */
	}
	return true;
}

/* Section 3.2.5: an RRset given in full must exist exactly so. Both sides
 * sorted, the check costs O(n log n), not a search per record: a thousand
 * prerequisites cost no more than their sort, with the zone's turn held. */
static int prereq_values(struct job *j, const struct wset *want)
{
	const struct wrr **w = NULL, **have = NULL, *bad = NULL;
	size_t nw = 0, nh = 0;
	int rcode = KNOT_RCODE_NOERROR;

	if (want->n == 0)
		return rcode;
	if (sorted_rrs(want, false, &w, &nw) < 0 || sorted_rrs(&j->orig, true, &have, &nh) < 0)
		rcode = KNOT_RCODE_SERVFAIL;
	else if (!same_rrsets(w, nw, have, nh, &bad))
		rcode = KNOT_RCODE_NXRRSET;
	if (rcode == KNOT_RCODE_NXRRSET)
		errmsg_set(j->why, 0, "prerequisite: '%s' %s is not as given", bad->owner,
			   rr_type_name(bad->type) ? rr_type_name(bad->type) : "RRset");
	free(w);
	free(have);
	return rcode;
}

/* Section 3.2: the prerequisites against the zone as read. */
static int prereqs(struct job *j, const knot_pktsection_t *pre)
{
	struct wset want = { 0 };
	char owner[DNAME_TEXT_MAX];
	int rcode = KNOT_RCODE_NOERROR;

	for (uint16_t i = 0; i < pre->count && rcode == KNOT_RCODE_NOERROR; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(pre, i);
		bool empty = rr->rrs.count == 0 || knot_rdataset_at(&rr->rrs, 0)->len == 0;
		if (owner_text(j, rr, owner) < 0 || rr->ttl != 0) {
			rcode = KNOT_RCODE_FORMERR;
			break;
		}
		if (rr->rclass == KNOT_CLASS_ANY && empty) {
			if (rr->type == KNOT_RRTYPE_ANY && !name_in_use(&j->orig, j, owner))
				rcode = KNOT_RCODE_NXDOMAIN;
			else if (rr->type != KNOT_RRTYPE_ANY &&
				 !rrset_exists(&j->orig, j, owner, rr->type))
				rcode = KNOT_RCODE_NXRRSET;
		} else if (rr->rclass == KNOT_CLASS_NONE && empty) {
			if (rr->type == KNOT_RRTYPE_ANY && name_in_use(&j->orig, j, owner))
				rcode = KNOT_RCODE_YXDOMAIN;
			else if (rr->type != KNOT_RRTYPE_ANY &&
				 rrset_exists(&j->orig, j, owner, rr->type))
				rcode = KNOT_RCODE_YXRRSET;
		} else if (rr->rclass == KNOT_CLASS_IN && !empty) {
			char *content = NULL;
			if (canonical(j, rr, owner, &content) < 0) {
				rcode = KNOT_RCODE_NXRRSET; /* data the zone cannot hold */
				break;
			}
			if (wset_add(&want, owner, rr->type, 0, false, content) < 0)
				rcode = KNOT_RCODE_SERVFAIL;
			free(content);
		} else {
			rcode = KNOT_RCODE_FORMERR;
		}
		if (rcode != KNOT_RCODE_NOERROR && j->why->text[0] == '\0')
			errmsg_set(j->why, 0, "prerequisite on '%s' not met", owner);
	}
	if (rcode == KNOT_RCODE_NOERROR)
		rcode = prereq_values(j, &want);
	wset_clear(&want);
	return rcode;
}

static void touch(struct job *j, const char *owner, uint16_t type)
{
	if (rrkey_in(j->touched, j->n_touched, owner, type))
		return;
	struct rrkey *k = &j->touched[j->n_touched++];
	snprintf(k->owner, sizeof(k->owner), "%s", owner);
	k->type = type;
}

static bool allowed(struct job *j, const char *owner, uint16_t type)
{
	if (upolicy_allows(j->rules, j->zone, owner, type))
		return true;
	const char *name = rr_type_name(type);
	if (type == KNOT_RRTYPE_SOA)
		errmsg_set(j->why, 0, "'%s' SOA: the serial and SOA are the controller's", owner);
	else if (name == NULL || type == TYPE_LUA || rr_type_is_dnssec(type))
		errmsg_set(j->why, 0, "'%s' type %u: not a type the zone may hold by update", owner,
			   type);
	else
		errmsg_set(j->why, 0, "'%s' %s: not allowed by the key's update policy", owner,
			   name);
	return false;
}

/* Section 3.4.1: the form of each update RR, and the policy (3.3). */
static int prescan(struct job *j, const knot_pktsection_t *upd)
{
	char owner[DNAME_TEXT_MAX];

	for (uint16_t i = 0; i < upd->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(upd, i);
		bool empty = rr->rrs.count == 0 || knot_rdataset_at(&rr->rrs, 0)->len == 0;
		bool meta = rr->type == KNOT_RRTYPE_ANY || rr->type == KNOT_RRTYPE_AXFR ||
			    rr->type == KNOT_RRTYPE_IXFR || rr->type == KNOT_RRTYPE_OPT ||
			    rr->type == KNOT_RRTYPE_TSIG;
		if (owner_text(j, rr, owner) < 0)
			return KNOT_RCODE_REFUSED;
		if (rr->rclass == KNOT_CLASS_IN) {
			if (meta || empty)
				return KNOT_RCODE_FORMERR;
		} else if (rr->rclass == KNOT_CLASS_ANY) {
			if (rr->ttl != 0 || !empty || (meta && rr->type != KNOT_RRTYPE_ANY))
				return KNOT_RCODE_FORMERR;
		} else if (rr->rclass == KNOT_CLASS_NONE) {
			if (rr->ttl != 0 || meta)
				return KNOT_RCODE_FORMERR;
		} else {
			return KNOT_RCODE_FORMERR;
		}
		if (rr->type != KNOT_RRTYPE_ANY && !allowed(j, owner, rr->type))
			return KNOT_RCODE_REFUSED;
	}
	return KNOT_RCODE_NOERROR;
}

static bool apex_kept(const struct job *j, const char *owner, uint16_t type)
{
	return strcmp(owner, j->zone) == 0 && (type == KNOT_RRTYPE_SOA || type == KNOT_RRTYPE_NS);
}

static int add_rr(struct job *j, const knot_rrset_t *rr, const char *owner)
{
	char *content = NULL;
	bool cname = false, other = false;

	if (canonical(j, rr, owner, &content) < 0)
		return KNOT_RCODE_REFUSED;
	for (size_t i = 0; i < j->cur.n; i++) {
		if (strcmp(j->cur.v[i].owner, owner) != 0)
			continue;
		cname |= j->cur.v[i].type == KNOT_RRTYPE_CNAME;
		other |= j->cur.v[i].type != KNOT_RRTYPE_CNAME;
	}
	/* Section 3.4.2.2: a CNAME beside other data is ignored, and other
	 * data beside a CNAME too; a new CNAME replaces the old one. */
	if ((rr->type == KNOT_RRTYPE_CNAME && other) || (rr->type != KNOT_RRTYPE_CNAME && cname)) {
		free(content);
		return KNOT_RCODE_NOERROR;
	}
	for (size_t i = j->cur.n; i-- > 0;) {
		struct wrr *e = &j->cur.v[i];
		if (e->type == rr->type && strcmp(e->owner, owner) == 0) {
			if (rr->type == KNOT_RRTYPE_CNAME)
				wset_remove(&j->cur, i);
			else
				e->ttl = rr->ttl; /* one TTL per RRset, the newest */
		}
	}
	int r = KNOT_RCODE_NOERROR;
	ssize_t had = find_rr(&j->cur, owner, rr->type, content);
	if (had >= 0)
		j->cur.v[had].disabled = false; /* added by name: served from now on */
	else if (wset_add(&j->cur, owner, rr->type, rr->ttl, false, content) < 0)
		r = KNOT_RCODE_SERVFAIL;
	free(content);
	touch(j, owner, rr->type);
	return r;
}

static int delete_rrs(struct job *j, const knot_rrset_t *rr, const char *owner)
{
	char *content = NULL;

	/* A steered RRset is served whatever its stored records are: a delete
	 * that names it touches it (touches_steered() refuses it). */
	for (size_t i = 0; i < j->n_steered; i++)
		if (strcmp(j->steered[i].owner, owner) == 0 &&
		    (rr->type == KNOT_RRTYPE_ANY || rr->type == j->steered[i].type))
			touch(j, owner, j->steered[i].type);
	if (rr->rclass == KNOT_CLASS_NONE && canonical(j, rr, owner, &content) < 0)
		return KNOT_RCODE_NOERROR; /* data the zone cannot hold is not in it */
	for (size_t i = j->cur.n; i-- > 0;) {
		struct wrr *e = &j->cur.v[i];
		if (strcmp(e->owner, owner) != 0)
			continue;
		if (rr->type != KNOT_RRTYPE_ANY && e->type != rr->type)
			continue;
		if (content != NULL && strcmp(e->content, content) != 0)
			continue;
		if (content == NULL && apex_kept(j, owner, e->type))
			continue; /* section 3.4.2.3 */
		if (content != NULL && e->type == KNOT_RRTYPE_NS && strcmp(owner, j->zone) == 0 &&
		    !e->disabled && rrset_size(&j->cur, owner, KNOT_RRTYPE_NS, true) == 1)
			continue; /* section 3.4.2.4: the last apex NS served stays */
		if (!allowed(j, owner, e->type)) {
			free(content);
			return KNOT_RCODE_REFUSED;
		}
		touch(j, owner, e->type);
		wset_remove(&j->cur, i);
	}
	free(content);
	return KNOT_RCODE_NOERROR;
}

/* Section 3.4.2: the update section over the working set. */
static int apply(struct job *j, const knot_pktsection_t *upd)
{
	char owner[DNAME_TEXT_MAX];

	for (size_t i = 0; i < j->orig.n; i++)
		if (wset_add(&j->cur, j->orig.v[i].owner, j->orig.v[i].type, j->orig.v[i].ttl,
			     j->orig.v[i].disabled, j->orig.v[i].content) < 0)
			return KNOT_RCODE_SERVFAIL;
	for (uint16_t i = 0; i < upd->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(upd, i);
		int rcode;
		if (owner_text(j, rr, owner) < 0)
			return KNOT_RCODE_REFUSED;
		if (rr->rclass == KNOT_CLASS_IN)
			rcode = add_rr(j, rr, owner);
		else
			rcode = delete_rrs(j, rr, owner);
		if (rcode != KNOT_RCODE_NOERROR)
			return rcode;
	}
	return KNOT_RCODE_NOERROR;
}

/* Whether RRset 'k' differs between the zone as read and as updated. */
static bool changed(const struct job *j, const struct rrkey *k)
{
	size_t n = rrset_size(&j->cur, k->owner, k->type, false);
	if (n != rrset_size(&j->orig, k->owner, k->type, false))
		return true;
	for (size_t i = 0; i < j->cur.n; i++) {
		const struct wrr *e = &j->cur.v[i];
		if (e->type != k->type || strcmp(e->owner, k->owner) != 0)
			continue;
		ssize_t o = find_rr(&j->orig, e->owner, e->type, e->content);
		if (o < 0 || j->orig.v[o].ttl != e->ttl || j->orig.v[o].disabled != e->disabled)
			return true;
	}
	return false;
}

/* Whether the update touches an RRset steered by a routing policy: a
 * REPLACE carries none, and the policy would go with it. */
static bool touches_steered(const struct job *j)
{
	for (size_t t = 0; t < j->n_touched; t++) {
		const struct rrkey *k = &j->touched[t];
		if (rrkey_in(j->steered, j->n_steered, k->owner, k->type)) {
			const char *name = rr_type_name(k->type);
			errmsg_set(j->why, 0,
				   "'%s' %s has a routing policy: change it in the panel", k->owner,
				   name ? name : "RRset");
			return true;
		}
	}
	return false;
}

/* The changed RRsets as zones_rrsets_patch() takes them. */
static json_t *changes(const struct job *j)
{
	json_t *out = json_array();

	for (size_t t = 0; out != NULL && t < j->n_touched; t++) {
		const struct rrkey *k = &j->touched[t];
		if (!changed(j, k))
			continue;
		json_t *recs = json_array();
		uint32_t ttl = 0;
		for (size_t i = 0; recs != NULL && i < j->cur.n; i++) {
			const struct wrr *e = &j->cur.v[i];
			if (e->type != k->type || strcmp(e->owner, k->owner) != 0)
				continue;
			ttl = e->ttl;
			/* a REPLACE sets every record's flag: the disabled stay so */
			json_array_append_new(recs, json_pack("{s:s,s:b}", "content", e->content,
							      "disabled", e->disabled));
		}
		json_t *set =
		    json_pack("{s:s,s:s,s:s,s:o}", "name", k->owner, "type", rr_type_name(k->type),
			      "changetype", json_array_size(recs) ? "REPLACE" : "DELETE", "records",
			      recs ? recs : json_array());
		if (set != NULL && json_array_size(recs))
			json_object_set_new(set, "ttl", json_integer(ttl));
		if (set == NULL || json_array_append_new(out, set) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* A secondary zone's data comes from its primary, the catalog's from the
 * controller: neither takes updates, and a secondary that does not
 * forward them refuses them (RFC 2136 section 3.1.2, as BIND does). */
static int updatable(struct job *j, int64_t zone_id)
{
	struct store *st = whm_store(j->w);
	struct errmsg err;

	if (catalog_is(j->w, zone_id)) {
		errmsg_set(j->why, 0, "the catalog zone is kept by the controller");
		return KNOT_RCODE_REFUSED;
	}
	int r = st != NULL ? zones_editable(st, zone_id, &err) : ERR_UNAVAILABLE;
	if (r == ERR_CONFLICT) {
		errmsg_set(j->why, 0, "%s", err.text);
		return KNOT_RCODE_REFUSED;
	}
	return r < 0 ? KNOT_RCODE_SERVFAIL : KNOT_RCODE_NOERROR;
}

static int attempt(struct job *j, int64_t zone_id, const char *key_name)
{
	const knot_pktsection_t *pre = knot_pkt_section(j->pkt, KNOT_ANSWER);
	const knot_pktsection_t *upd = knot_pkt_section(j->pkt, KNOT_AUTHORITY);
	char actor[DNAME_TEXT_MAX + 8];
	struct zone_result res;
	struct errmsg err;
	uint64_t version;

	wset_clear(&j->cur);
	j->n_touched = 0;
	int r = load(j, zone_id, &version);
	if (r == -ENOENT)
		return KNOT_RCODE_NOTAUTH;
	if (r < 0)
		return r == ERR_CONFLICT ? -EAGAIN : KNOT_RCODE_SERVFAIL;
	r = updatable(j, zone_id);
	if (r != KNOT_RCODE_NOERROR)
		return r;
	/* Each update RR touches one RRset, or (a delete of a name) some of
	 * those read. */
	struct rrkey *t =
	    realloc(j->touched, (j->orig.n + (size_t)upd->count + j->n_steered + 1) * sizeof(*t));
	if (t == NULL)
		return KNOT_RCODE_SERVFAIL;
	j->touched = t;
	r = prereqs(j, pre);
	if (r == KNOT_RCODE_NOERROR)
		r = prescan(j, upd);
	if (r == KNOT_RCODE_NOERROR)
		r = apply(j, upd);
	if (r == KNOT_RCODE_NOERROR && touches_steered(j))
		r = KNOT_RCODE_REFUSED;
	if (r != KNOT_RCODE_NOERROR)
		return r;
	json_t *patch = changes(j);
	if (patch == NULL)
		return KNOT_RCODE_SERVFAIL;
	if (json_array_size(patch) == 0) {
		json_decref(patch);
		return KNOT_RCODE_NOERROR; /* nothing to change: no new version */
	}
	snprintf(actor, sizeof(actor), "rfc2136:%s", key_name);
	r = zones_rrsets_patch(j->w, zone_id, patch, version, 0, actor, &res, &err);
	json_decref(patch);
	if (r == ERR_CONFLICT)
		return -EAGAIN;
	if (r == ERR_NOT_FOUND)
		return KNOT_RCODE_NOTAUTH;
	if (r == ERR_INVALID || r == ERR_TOO_LARGE || r == ERR_FORBIDDEN) {
		errmsg_set(j->why, 0, "%s", err.text);
		return KNOT_RCODE_REFUSED;
	}
	if (r < 0) {
		errmsg_set(j->why, 0, "%s", err.text[0] ? err.text : err_str(r));
		return KNOT_RCODE_SERVFAIL;
	}
	return KNOT_RCODE_NOERROR;
}

int dnsupdate_apply(struct whm *w, const knot_pkt_t *pkt, int64_t zone_id, const char *zone,
		    const json_t *rules, const char *key_name, struct errmsg *why)
{
	const knot_pktsection_t *pre = knot_pkt_section(pkt, KNOT_ANSWER);
	const knot_pktsection_t *upd = knot_pkt_section(pkt, KNOT_AUTHORITY);
	struct job j = { .w = w, .pkt = pkt, .zone = zone, .rules = rules, .why = why };
	int rcode;

	why->text[0] = '\0';
	if ((size_t)pre->count + upd->count > DNSUPDATE_RRS_MAX) {
		errmsg_set(why, 0, "more than %d records", DNSUPDATE_RRS_MAX);
		return KNOT_RCODE_REFUSED;
	}
	j.text = malloc(RDATA_TEXT_MAX);
	if (j.text == NULL) {
		rcode = KNOT_RCODE_SERVFAIL;
		goto out;
	}
	rcode = collect_owners(&j, pre, upd);
	if (rcode < 0)
		rcode = KNOT_RCODE_SERVFAIL;
	/* The zone's turn over every attempt: racing the zone's other changes
	 * (the listener's and the HTTP routes') an update would only lose
	 * attempts to the version check, each a load and a patch done for
	 * nothing. */
	pthread_mutex_t *turn = zones_turn_take(zone_id);
	for (int a = 0; rcode == KNOT_RCODE_NOERROR && a < ATTEMPTS; a++) {
		why->text[0] = '\0';
		rcode = attempt(&j, zone_id, key_name);
		if (rcode != -EAGAIN)
			break;
		rcode = KNOT_RCODE_NOERROR;
		if (a == ATTEMPTS - 1) {
			errmsg_set(why, 0, "the zone kept changing meanwhile");
			rcode = KNOT_RCODE_SERVFAIL;
		}
	}
	zones_turn_give(turn);
out:
	wset_clear(&j.orig);
	wset_clear(&j.cur);
	free(j.owners);
	free(j.touched);
	free(j.steered);
	free(j.text);
	return rcode;
}
