#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/descriptor.h>

#include "json/jsonx.h"
#include "history.h"
#include "zones_internal.h"
#include "zones_soa.h"

/* The numeric fields, in RDATA order after the serial. */
enum { F_REFRESH, F_RETRY, F_EXPIRE, F_MINIMUM, F_COUNT };
static const char *const num_name[F_COUNT] = { "refresh", "retry", "expire", "minimum" };
static const uint32_t num_min[F_COUNT] = { ZONE_SOA_REFRESH_MIN, ZONE_SOA_RETRY_MIN,
					   ZONE_SOA_EXPIRE_MIN, 0 };
static const uint32_t num_max[F_COUNT] = { ZONE_SOA_REFRESH_MAX, ZONE_SOA_RETRY_MAX,
					   ZONE_SOA_EXPIRE_MAX, ZONE_SOA_MINIMUM_MAX };

static int64_t *num_field(struct zone_soa *s, unsigned i)
{
	int64_t *f[F_COUNT] = { &s->refresh, &s->retry, &s->expire, &s->minimum };
	return f[i];
}

void zone_soa_init(struct zone_soa *s)
{
	memset(s, 0, sizeof(*s));
	s->refresh = s->retry = s->expire = s->minimum = -1;
}

/* One stored field: "-" (the cluster's) or a name / a number. */
static bool read_field(const char **p, char *out, size_t len)
{
	size_t n = strcspn(*p, " ");
	if (n == 0 || n >= len)
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	if (**p == ' ')
		(*p)++;
	return true;
}

void zone_soa_read(const char *stored, struct zone_soa *s)
{
	char f[6][DNAME_TEXT_MAX];
	const char *p = stored;

	zone_soa_init(s);
	for (unsigned i = 0; i < 6; i++)
		if (!read_field(&p, f[i], sizeof(f[i])))
			return;
	if (*p != '\0')
		return;
	if (strcmp(f[0], "-") != 0)
		snprintf(s->mname, sizeof(s->mname), "%s", f[0]);
	if (strcmp(f[1], "-") != 0)
		snprintf(s->rname, sizeof(s->rname), "%s", f[1]);
	for (unsigned i = 0; i < F_COUNT; i++) {
		char *end;
		if (strcmp(f[2 + i], "-") != 0)
			*num_field(s, i) = strtoll(f[2 + i], &end, 10);
	}
}

void zone_soa_write(const struct zone_soa *s, char out[STORE_ZONE_SOA_MAX])
{
	char n[F_COUNT][24];
	struct zone_soa copy = *s;
	bool any = s->mname[0] != '\0' || s->rname[0] != '\0';

	for (unsigned i = 0; i < F_COUNT; i++) {
		int64_t v = *num_field(&copy, i);
		any = any || v >= 0;
		snprintf(n[i], sizeof(n[i]), v >= 0 ? "%" PRId64 : "-", v);
	}
	if (!any) {
		out[0] = '\0';
		return;
	}
	snprintf(out, STORE_ZONE_SOA_MAX, "%.255s %.255s %.11s %.11s %.11s %.11s",
		 s->mname[0] ? s->mname : "-", s->rname[0] ? s->rname : "-", n[0], n[1], n[2],
		 n[3]);
}

/* The values in force: the zone's over the cluster's. */
struct soa_values {
	const char *mname, *rname;
	uint32_t num[F_COUNT];
};

static void effective(const struct whm *w, const struct zone_soa *s, struct soa_values *v)
{
	const struct whm_conf *c = &w->conf;
	const uint64_t dflt[F_COUNT] = { c->soa_refresh, c->soa_retry, c->soa_expire,
					 c->soa_minimum };
	struct zone_soa copy = *s;

	v->mname = s->mname[0] ? s->mname : w->soa_mname;
	v->rname = s->rname[0] ? s->rname : w->soa_rname;
	for (unsigned i = 0; i < F_COUNT; i++) {
		int64_t own = *num_field(&copy, i);
		v->num[i] = own >= 0 ? (uint32_t)own : (uint32_t)dflt[i];
	}
}

/* A name for MNAME or RNAME, normalised as zone names are (Knot's
 * parser: no escapes, no '_'). An RNAME may be given as a mail address
 * whose local part has no dot (RFC 1035 section 8 would escape it). */
static int set_name(const char *field, const char *text, char out[DNAME_TEXT_MAX],
		    struct errmsg *err)
{
	char mail[DNAME_TEXT_MAX + 1];
	struct errmsg derr;
	const char *at = strcmp(field, "rname") == 0 ? strchr(text, '@') : NULL;

	if (at != NULL) {
		size_t local = (size_t)(at - text);
		if (local == 0 || memchr(text, '.', local) != NULL || strchr(at + 1, '@') != NULL ||
		    strlen(text) >= sizeof(mail))
			return errmsg_set(err, ERR_INVALID,
					  "soa.rname: a mail address whose local part has no dot "
					  "(hostmaster@example.com), or a name");
		snprintf(mail, sizeof(mail), "%s", text);
		mail[local] = '.';
		text = mail;
	}
	if (dname_zone_normalize(text, out, &derr) < 0)
		return errmsg_set(err, ERR_INVALID, "soa.%s: %s", field, derr.text);
	return 0;
}

/* The SOA the zone would have, as a whole: each timer within its bounds
 * (checked where it was set) and in a sensible relation to the others. */
static int check_whole(const struct whm *w, const struct zone_soa *s, struct errmsg *err)
{
	struct soa_values v;
	effective(w, s, &v);
	if (v.num[F_RETRY] > v.num[F_REFRESH])
		return errmsg_set(err, ERR_INVALID,
				  "soa.retry: %" PRIu32 " is above refresh (%" PRIu32
				  "): a secondary would retry less often than it refreshes",
				  v.num[F_RETRY], v.num[F_REFRESH]);
	if ((uint64_t)v.num[F_EXPIRE] < (uint64_t)v.num[F_REFRESH] + v.num[F_RETRY])
		return errmsg_set(err, ERR_INVALID,
				  "soa.expire: %" PRIu32 " is below refresh + retry (%" PRIu64
				  "): a secondary would drop the zone before it retried",
				  v.num[F_EXPIRE], (uint64_t)v.num[F_REFRESH] + v.num[F_RETRY]);
	return 0;
}

static int set_number(unsigned i, const json_t *val, struct zone_soa *s, struct errmsg *err)
{
	json_int_t n = json_integer_value(val);
	if (!json_is_integer(val) || n < (json_int_t)num_min[i] || n > (json_int_t)num_max[i])
		return errmsg_set(err, ERR_INVALID,
				  "soa.%s: a whole number of seconds from %" PRIu32 " to %" PRIu32
				  " (or null for the cluster's)",
				  num_name[i], num_min[i], num_max[i]);
	*num_field(s, i) = n;
	return 0;
}

int zone_soa_apply_json(const struct whm *w, const json_t *o, struct zone_soa *s,
			struct errmsg *err)
{
	static const char *const keys[] = { "mname",  "rname",	 "refresh", "retry",
					    "expire", "minimum", NULL };
	if (!json_is_object(o))
		return errmsg_set(
		    err, ERR_INVALID,
		    "soa: an object of mname, rname, refresh, retry, expire, minimum");
	int r = jsonx_check_keys(o, keys, "soa", err);
	for (unsigned i = 0; r == 0 && i < 2; i++) {
		const json_t *val = json_object_get(o, keys[i]);
		char *out = i == 0 ? s->mname : s->rname;
		if (json_is_null(val))
			out[0] = '\0';
		else if (json_is_string(val))
			r = set_name(keys[i], json_string_value(val), out, err);
		else if (val != NULL)
			r = errmsg_set(err, ERR_INVALID,
				       "soa.%s: a domain name (or null for the cluster's)",
				       keys[i]);
	}
	for (unsigned i = 0; r == 0 && i < F_COUNT; i++) {
		const json_t *val = json_object_get(o, num_name[i]);
		if (json_is_null(val))
			*num_field(s, i) = -1;
		else if (val != NULL)
			r = set_number(i, val, s, err);
	}
	return r == 0 ? check_whole(w, s, err) : r;
}

int zone_soa_from_rdata(const struct whm *w, const char *rdata, struct zone_soa *s,
			struct errmsg *err)
{
	char f[7][DNAME_TEXT_MAX];
	const char *p = rdata;

	zone_soa_init(s);
	for (unsigned i = 0; i < 7; i++)
		if (!read_field(&p, f[i], sizeof(f[i])))
			return errmsg_set(err, ERR_INVALID, "SOA: cannot read its fields");
	int r = set_name("mname", f[0], s->mname, err);
	if (r == 0)
		r = set_name("rname", f[1], s->rname, err);
	for (unsigned i = 0; r == 0 && i < F_COUNT; i++) {
		json_t *n = json_integer(strtoll(f[3 + i], NULL, 10));
		r = set_number(i, n, s, err);
		json_decref(n);
	}
	if (r == 0)
		r = check_whole(w, s, err);
	return r;
}

void zone_soa_text(const struct whm *w, const struct store_zone *z, char *out, size_t len)
{
	struct zone_soa s;
	struct soa_values v;

	zone_soa_read(z->soa, &s);
	effective(w, &s, &v);
	snprintf(out, len, "%s %s %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32,
		 v.mname, v.rname, z->serial, v.num[F_REFRESH], v.num[F_RETRY], v.num[F_EXPIRE],
		 v.num[F_MINIMUM]);
}

void zone_soa_ttls(const struct whm *w, const struct store_zone *z, uint32_t *ttl,
		   uint32_t *minimum)
{
	struct zone_soa s;
	struct soa_values v;

	zone_soa_read(z->soa, &s);
	effective(w, &s, &v);
	*ttl = (uint32_t)w->conf.soa_ttl;
	*minimum = v.num[F_MINIMUM];
}

json_t *zone_soa_json(const struct whm *w, const struct store_zone *z)
{
	struct zone_soa s;
	struct soa_values v;

	zone_soa_read(z->soa, &s);
	effective(w, &s, &v);
	json_t *own = json_array();
	if (s.mname[0] != '\0')
		json_array_append_new(own, json_string("mname"));
	if (s.rname[0] != '\0')
		json_array_append_new(own, json_string("rname"));
	for (unsigned i = 0; i < F_COUNT; i++)
		if (*num_field(&s, i) >= 0)
			json_array_append_new(own, json_string(num_name[i]));
	return json_pack(
	    "{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "mname", v.mname, "rname", v.rname, "serial",
	    (json_int_t)z->serial, "refresh", (json_int_t)v.num[F_REFRESH], "retry",
	    (json_int_t)v.num[F_RETRY], "expire", (json_int_t)v.num[F_EXPIRE], "minimum",
	    (json_int_t)v.num[F_MINIMUM], "ttl", (json_int_t)w->conf.soa_ttl, "own", own);
}

/* The SOA text zone_soa_text() writes is already canonical (normalised
 * names, plain numbers) unless the configuration says otherwise; that is
 * checked once per serial's shape for the cluster's SOA rather than
 * parsing every zone's SOA (a million zones at start-up). A zone with its
 * own fields is parsed each time. */
int zone_soa_digest(const struct whm *w, const struct store_zone *z, char ret[ZONE_DIGEST_HEX])
{
	char soa[2 * DNAME_TEXT_MAX + 80];
	uint32_t ttl = (uint32_t)w->conf.soa_ttl;
	struct errmsg derr;
	struct rr rr;
	static _Atomic int canonical; /* 0: not known, 1: yes, -1: no */
	bool own = z->soa[0] != '\0';

	zone_soa_text(w, z, soa, sizeof(soa));
	if (!own && atomic_load(&canonical) == 1)
		return zone_digest_combine(z->rdigest, z->domain, ttl, soa, ret);
	int r = rr_parse(z->domain, KNOT_RRTYPE_SOA, ttl, soa, z->domain, &rr, &derr);
	if (r < 0)
		return r;
	if (!own && atomic_load(&canonical) == 0)
		atomic_store(&canonical, strcmp(rr.content, soa) == 0 ? 1 : -1);
	r = zone_digest_combine(z->rdigest, z->domain, ttl, rr.content, ret);
	rr_clear(&rr);
	return r;
}

/* zones_change() step: the zone's SOA fields from the request, or 1 when
 * they stay as they are. */
static int set_soa(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	const struct whm *w = ((const void **)ctx)[0];
	const json_t *o = ((const void **)ctx)[1];
	struct zone_soa s;
	char text[STORE_ZONE_SOA_MAX];

	int r = zones_editable(st, z->id, err);
	if (r < 0)
		return r;
	zone_soa_read(z->soa, &s);
	r = zone_soa_apply_json(w, o, &s, err);
	if (r < 0)
		return r;
	zone_soa_write(&s, text);
	if (strcmp(text, z->soa) == 0)
		return 1;
	memcpy(z->soa, text, sizeof(text));
	return 0;
}

/* What the history says of a change of SOA fields: each field asked for
 * with its value ("set the SOA: refresh 3600, mname ns1.example."; null:
 * back to the cluster's). */
static void soa_summary(const json_t *o, char out[HISTORY_SUMMARY_MAX])
{
	char fields[HISTORY_SUMMARY_MAX] = "";
	size_t used = 0;
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		char *text = json_is_null(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);
		int n =
		    snprintf(fields + used, sizeof(fields) - used, "%s%s %s", used > 0 ? ", " : "",
			     key, text != NULL ? text : "(the cluster's)");
		free(text);
		if (n < 0 || (size_t)n >= sizeof(fields) - used)
			break;
		used += (size_t)n;
	}
	history_summary(out, "set the SOA: %s", used > 0 ? fields : "no field");
}

int zones_set_soa(struct whm *w, int64_t zone_id, const json_t *soa, const char *actor,
		  struct zone_result *res, json_t **ret_soa, struct errmsg *err)
{
	const void *ctx[2] = { w, soa };
	struct store_zone z;
	struct store *st;

	char summary[HISTORY_SUMMARY_MAX];
	soa_summary(soa, summary);
	int r = zones_change(w, zone_id, set_soa, ctx, actor, "zone.soa", summary, res, err);
	if (r < 0 || ret_soa == NULL)
		return r < 0 ? r : 0;
	/* As stored now, after this change or another one. */
	r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	*ret_soa = zone_soa_json(w, &z);
	store_zone_clear(&z);
	return 0;
}
