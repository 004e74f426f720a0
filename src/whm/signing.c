/* Signing and unsigning a zone, and the DNSSEC view of it: zone changes
 * that raise its version like a record change does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "dnssec.h"
#include "history.h"
#include "json/jsonx.h"
#include "rollover.h"
#include "zkeys.h"

struct sign_req {
	uint32_t algorithm; /* 0: not asked */
	const char *scheme; /* NULL: not asked */
	int nsec3;	    /* -1: not asked */
	int optout;	    /* -1: not asked */
	struct store_dnssec_key keys[2];
	size_t nkeys;
	int64_t now;			   /* zkeys_now(): key ages are measured on that clock */
	char summary[HISTORY_SUMMARY_MAX]; /* what sign_fn did, for the history */
};

static const char *const sign_keys[] = { "algorithm", "scheme", "nsec3", "nsec3_optout", NULL };

static int parse_algorithm(const json_t *v, uint32_t *ret, struct errmsg *err)
{
	const char *s = json_string_value(v);
	if (json_is_integer(v) &&
	    (json_integer_value(v) == ALG_ECDSAP256 || json_integer_value(v) == ALG_ED25519)) {
		*ret = (uint32_t)json_integer_value(v);
		return 0;
	}
	if (s != NULL && (strcasecmp(s, "ECDSAP256SHA256") == 0 || strcasecmp(s, "ecdsa256") == 0 ||
			  strcmp(s, "13") == 0)) {
		*ret = ALG_ECDSAP256;
		return 0;
	}
	if (s != NULL && (strcasecmp(s, "ED25519") == 0 || strcmp(s, "15") == 0)) {
		*ret = ALG_ED25519;
		return 0;
	}
	return errmsg_set(
	    err, ERR_INVALID,
	    "algorithm: must be 13 (\"ECDSAP256SHA256\", the default) or 15 (\"ED25519\")");
}

static int parse_sign(const json_t *body, struct sign_req *q, struct errmsg *err)
{
	bool b;
	memset(q, 0, sizeof(*q));
	q->nsec3 = q->optout = -1;
	if (body == NULL)
		return 0;
	int r = jsonx_check_keys(body, sign_keys, "body", err);
	json_t *v = json_object_get(body, "algorithm");
	if (r == 0 && v != NULL)
		r = parse_algorithm(v, &q->algorithm, err);
	v = json_object_get(body, "scheme");
	if (r == 0 && v != NULL) {
		const char *s = json_string_value(v);
		if (s != NULL && strcmp(s, "csk") == 0) {
			q->scheme = SCHEME_CSK;
		} else if (s != NULL && (strcmp(s, "ksk-zsk") == 0 || strcmp(s, "kskzsk") == 0)) {
			q->scheme = SCHEME_SPLIT;
		} else {
			errmsg_set(err, 0,
				   "scheme: must be \"csk\" (one combined key, the default) or "
				   "\"ksk-zsk\"");
			r = ERR_INVALID;
		}
	}
	if (r == 0) {
		r = jsonx_get_bool(body, "nsec3", false, "body", &b, err);
		if (r == 0)
			q->nsec3 = b;
		r = r == -ENOENT ? 0 : r;
	}
	if (r == 0) {
		r = jsonx_get_bool(body, "nsec3_optout", false, "body", &b, err);
		if (r == 0)
			q->optout = b;
		r = r == -ENOENT ? 0 : r;
	}
	if (r == 0 && q->optout == 1 && q->nsec3 != 1) {
		errmsg_set(err, 0, "nsec3_optout: opt-out needs \"nsec3\": true");
		r = ERR_INVALID;
	}
	return r;
}

static int sign_fn(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	struct sign_req *q = ctx;
	struct store_dnssec d;
	/* A secondary zone is served as its primary signs it, or not. */
	int r = zones_editable(st, z->id, err);
	if (r < 0)
		return r;
	r = store_dnssec_get(st, z->id, &d);
	if (r < 0 && r != -ENOENT)
		return r;
	bool was = r == 0 && d.enabled;
	if (was) {
		if ((q->algorithm && q->algorithm != d.algorithm) ||
		    (q->scheme && strcmp(q->scheme, d.scheme) != 0)) {
			errmsg_set(
			    err, 0,
			    "the zone is signed with %s (%s); changing the algorithm or the "
			    "key scheme needs a rollover, which is not supported: unsign the "
			    "zone first (DELETE .../dnssec), or keep its settings",
			    zkeys_alg_name(d.algorithm),
			    strcmp(d.scheme, SCHEME_CSK) == 0 ? "csk" : "ksk-zsk");
			store_dnssec_clear(&d);
			return ERR_CONFLICT;
		}
		bool n3 = q->nsec3 >= 0 ? q->nsec3 : d.nsec3;
		bool oo = n3 && (q->optout >= 0 ? q->optout : (q->nsec3 < 0 && d.nsec3_optout));
		if (n3 == d.nsec3 && oo == d.nsec3_optout) {
			store_dnssec_clear(&d);
			return 1;
		}
		d.nsec3 = n3;
		d.nsec3_optout = oo;
		d.updated_at = whm_now();
		history_summary(q->summary, "denial of existence: %s",
				n3 ? (oo ? "NSEC3 with opt-out" : "NSEC3") : "NSEC");
		r = store_dnssec_put(st, &d);
		store_dnssec_clear(&d);
		return r;
	}
	if (r == 0)
		store_dnssec_clear(&d);
	if (q->nkeys == 0)
		return errmsg_set(err, ERR_CONFLICT,
				  "the zone's DNSSEC state changed meanwhile; try again");
	struct store_dnssec nd = {
		.zone_id = z->id,
		.enabled = true,
		.algorithm = q->keys[0].algorithm,
		.scheme = (char *)(q->nkeys == 2 ? SCHEME_SPLIT : SCHEME_CSK),
		.nsec3 = q->nsec3 == 1,
		.nsec3_optout = q->optout == 1,
		.signed_at = q->now,
		.updated_at = whm_now(),
	};
	r = store_dnssec_key_delete_zone(st, z->id);
	if (r == 0)
		r = store_dnssec_put(st, &nd);
	for (size_t i = 0; r == 0 && i < q->nkeys; i++) {
		struct store_dnssec_key k = q->keys[i];
		k.zone_id = z->id;
		k.created_at = q->now;
		r = store_dnssec_key_insert(st, &k);
	}
	if (r == 0)
		z->dnssec = true;
	history_summary(q->summary, "sign with %s, %s, %s", zkeys_alg_name(nd.algorithm),
			q->nkeys == 2 ? "ksk-zsk" : "csk",
			nd.nsec3 ? (nd.nsec3_optout ? "NSEC3 with opt-out" : "NSEC3") : "NSEC");
	return r;
}

int signing_sign(struct whm *w, int64_t zone_id, const json_t *body, const char *actor,
		 struct zone_result *res, json_t **ret, struct errmsg *err)
{
	return signing_sign_key(w, zone_id, body, NULL, actor, res, ret, err);
}

int signing_sign_key(struct whm *w, int64_t zone_id, const json_t *body,
		     struct store_dnssec_key *key, const char *actor, struct zone_result *res,
		     json_t **ret, struct errmsg *err)
{
	struct sign_req q;
	struct store_zone z;
	struct store_dnssec d;

	err->text[0] = '\0';
	int r = parse_sign(body, &q, err);
	if (r == 0 && key != NULL && q.scheme != NULL && strcmp(q.scheme, SCHEME_CSK) != 0)
		r = errmsg_set(err, ERR_INVALID,
			       "scheme: a zone signed with a given key has one, "
			       "a CSK");
	if (r == 0 && key != NULL) {
		q.keys[0] = *key; /* taken over: cleared below with the others */
		q.nkeys = 1;
		memset(key, 0, sizeof(*key));
	} else if (key != NULL) {
		store_dnssec_key_clear(key);
	}
	if (r < 0)
		return r;
	q.now = zkeys_now(w);
	struct store *st;
	r = zones_get_live(w, zone_id, &st, &z, err);
	/* Keys are made before the transaction (it is the slow part); if the
	 * zone turns out to be signed meanwhile, they are thrown away. */
	bool signed_now = false;
	if (r == 0 && store_dnssec_get(st, zone_id, &d) == 0) {
		signed_now = d.enabled;
		store_dnssec_clear(&d);
	}
	if (r == 0)
		store_zone_clear(&z);
	if (r == 0 && signed_now && key != NULL)
		r = errmsg_set(err, ERR_INVALID,
			       "the zone is signed: its keys change by rollover (POST "
			       "/api/dns/%lld/dnssec/rollover)",
			       (long long)zone_id);
	else if (r == 0 && !signed_now && key == NULL) {
		uint32_t alg = q.algorithm ? q.algorithm : ALG_ECDSAP256;
		bool split = q.scheme != NULL && strcmp(q.scheme, SCHEME_SPLIT) == 0;
		r = zkeys_generate(alg, split ? "ksk" : "csk", &q.keys[0], err);
		q.nkeys = r == 0;
		if (r == 0 && split) {
			r = zkeys_generate(alg, "zsk", &q.keys[1], err);
			q.nkeys += r == 0;
		}
	}
	if (r == 0)
		r = zones_change(w, zone_id, sign_fn, &q, actor, "zone.dnssec.sign", q.summary, res,
				 err);
	for (size_t i = 0; i < q.nkeys; i++)
		store_dnssec_key_clear(&q.keys[i]);
	if (r < 0)
		return r;
	r = signing_view(w, zone_id, ret, err);
	return r;
}

static int unsign_fn(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	struct store_dnssec d;
	int r = store_dnssec_get(st, z->id, &d);
	if (r == -ENOENT)
		return 1;
	if (r < 0)
		return r;
	bool was = d.enabled;
	d.enabled = false;
	d.updated_at = whm_now();
	free(d.roll_kind);
	d.roll_kind = NULL; /* a rollover ends with the keys */
	d.roll_step = 0;
	d.roll_next_at = d.roll_ds_at = d.roll_wait = 0;
	r = was ? store_dnssec_key_delete_zone(st, z->id) : 1;
	if (r == 0)
		r = store_dnssec_put(st, &d);
	if (r == 0)
		z->dnssec = false;
	store_dnssec_clear(&d);
	(void)ctx;
	(void)err;
	return r;
}

int signing_unsign(struct whm *w, int64_t zone_id, bool force, const char *actor,
		   struct zone_result *res, struct errmsg *err)
{
	struct store_zone z;
	struct store_dnssec d;
	err->text[0] = '\0';
	struct store *st;
	int r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	store_zone_clear(&z);
	r = store_dnssec_get(st, zone_id, &d);
	bool on = r == 0 && d.enabled;
	if (r == 0)
		store_dnssec_clear(&d);
	if (on && !force)
		return errmsg_set(
		    err, ERR_CONFLICT,
		    "the zone is signed, and its parent may still publish a DS record for "
		    "it: removing the keys now would make validating resolvers reject every "
		    "answer. First remove the DS records at the registrar, wait until the "
		    "parent's DS TTL has passed (often one or two days), then repeat this "
		    "request with ?force=1");
	return zones_change(w, zone_id, unsign_fn, NULL, actor, "zone.dnssec.unsign",
			    "unsign: the keys are removed", res, err);
}

/* --- the view ---------------------------------------------------------------- */

struct view_ctx {
	const char *zone;
	json_t *keys, *ds, *dnskey;
	int r;
};

static int add_view_key(const struct store_dnssec_key *k, void *arg)
{
	struct view_ctx *v = arg;
	char ds[256] = "";
	json_t *dss = json_array();
	/* A DS for the keys the parent points at: KSK or CSK. */
	if (k->flags == FLAGS_KSK && zkeys_ds_text(v->zone, k->dnskey, ds, sizeof(ds)) == 0) {
		json_array_append_new(dss, json_string(ds));
		json_array_append_new(v->ds, json_string(ds));
	}
	if (k->published)
		json_array_append_new(v->dnskey, json_string(k->dnskey));
	json_t *o =
	    json_pack("{s:I,s:s,s:I,s:s,s:I,s:I,s:s,s:o,s:b,s:b,s:I}", "id", (json_int_t)k->id,
		      "keytype", k->keytype, "algorithm", (json_int_t)k->algorithm, "algorithmName",
		      zkeys_alg_name(k->algorithm), "flags", (json_int_t)k->flags, "keytag",
		      (json_int_t)k->keytag, "dnskey", k->dnskey, "ds", dss, "active", k->active,
		      "published", k->published, "createdAt", (json_int_t)k->created_at);
	return o && json_array_append_new(v->keys, o) == 0 ? 0 : -ENOMEM;
}

static json_t *instructions(const char *domain, json_t *ds)
{
	char text[2048];
	size_t n = strlen(domain);
	int o = snprintf(text, sizeof(text),
			 "The zone %.*s is signed and every name server publishes the same keys. "
			 "To turn on validation, give the registrar of %.*s this DS record "
			 "(key tag, algorithm, digest type 2 = SHA-256, digest):",
			 (int)(n - 1), domain, (int)(n - 1), domain);
	size_t i;
	json_t *d;
	json_array_foreach(ds, i, d) {
		if (o > 0 && (size_t)o < sizeof(text))
			o +=
			    snprintf(text + o, sizeof(text) - (size_t)o, " %s%s",
				     json_string_value(d), i + 1 < json_array_size(ds) ? ";" : ".");
	}
	if (o > 0 && (size_t)o < sizeof(text))
		snprintf(text + o, sizeof(text) - (size_t)o,
			 " Registrars that ask for the public key instead take the DNSKEY listed "
			 "here. Parents that read CDS/CDNSKEY records (RFC 7344, RFC 8078) can "
			 "pick it up by themselves. Until the DS is published the zone is served "
			 "signed but not yet validated; before unsigning, remove the DS first.");
	return json_string(text);
}

static json_t *rollover_view(struct whm *w, struct store *st, const struct store_dnssec *d)
{
	const char *k = d->roll_kind ? d->roll_kind : "";
	bool acked = true;
	if (k[0] == '\0') {
		const char *sched =
		    strcmp(d->scheme, SCHEME_SPLIT) == 0 && w->conf.dnssec_zsk_lifetime_days > 0
			? "the ZSK is rolled by pre-publication when it reaches "
			  "dnssec-zsk-lifetime-days; a rollover can be started with POST "
			  ".../dnssec/rollover"
			: "no rollover in progress; start one with POST .../dnssec/rollover";
		return json_pack("{s:s,s:n,s:s}", "state", "idle", "next_step", "message", sched);
	}
	store_sync_all_acked(st, d->zone_id, d->roll_version, &acked);
	bool zsk = strcmp(k, ROLL_ZSK) == 0;
	const char *next, *waiting;
	int64_t now = zkeys_now(w);
	/* The step's wait begins once every node publishes it: until then
	 * (or until the rollover engine saw it), the earliest time is now
	 * plus the whole wait, and it moves on with the clock. */
	bool counting = acked && d->roll_next_at != 0;
	int64_t not_before = counting ? d->roll_next_at : now + d->roll_wait;
	if (zsk && d->roll_step == 1)
		next = "the new ZSK starts signing, the old one stops (both stay published)";
	else if (zsk)
		next = "the old ZSK is removed";
	else if (d->roll_step == 1 && !acked)
		next = "wait until every node publishes the new key (waiting_for: nodes); the "
		       "parent must not get its DS before. Then, once not_before has passed, "
		       "give the parent the DS of the new key and confirm with POST "
		       ".../dnssec/rollover {\"ds_published\": true}";
	else if (d->roll_step == 1)
		next = "give the parent the DS of the new key (it is in \"ds\" and in the "
		       "zone's CDS records) once not_before has passed, then confirm with POST "
		       ".../dnssec/rollover {\"ds_published\": true}";
	else
		next = "the old key is removed once the parent's DS TTL has passed";
	if (!acked)
		waiting = "nodes";
	else if (!zsk && d->roll_step == 1)
		waiting = "ds";
	else
		waiting = "time";
	json_t *began = counting ? json_integer(d->roll_next_at - d->roll_wait) : json_null();
	return json_pack("{s:s,s:s,s:i,s:s,s:I,s:I,s:o,s:s,s:I,s:b}", "state", "rolling", "kind", k,
			 "step", (int)d->roll_step, "next_step", next, "not_before",
			 (json_int_t)not_before, "wait", (json_int_t)d->roll_wait, "wait_began",
			 began, "waiting_for", waiting, "now", (json_int_t)now, "nodes_synced",
			 acked);
}

static int add_listed_key(const struct store_key_listing *l, void *arg)
{
	const struct store_dnssec_key *k = &l->key;
	json_t *roll = l->roll_kind[0] != '\0'
			   ? json_pack("{s:s,s:i}", "kind", l->roll_kind, "step", (int)l->roll_step)
			   : json_null();
	json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:I,s:I,s:s,s:I,s:s,s:b,s:b,s:I,s:o}", "id",
			      (json_int_t)k->id, "zoneId", (json_int_t)k->zone_id, "zone",
			      l->domain, "role", k->keytype, "keytag", (json_int_t)k->keytag,
			      "algorithm", (json_int_t)k->algorithm, "algorithmName",
			      zkeys_alg_name(k->algorithm), "flags", (json_int_t)k->flags, "state",
			      k->active && k->published ? "active"
			      : k->published		? "published"
							: "inactive",
			      "active", k->active, "published", k->published, "createdAt",
			      (json_int_t)k->created_at, "rollover", roll);
	return o != NULL && json_array_append_new(arg, o) == 0 ? 0 : -ENOMEM;
}

int signing_keys(struct whm *w, int64_t after, unsigned limit, json_t **ret, struct errmsg *err)
{
	struct store *st = whm_store(w);
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	json_t *keys = json_array();
	int r =
	    keys != NULL ? store_dnssec_key_page(st, after, limit, add_listed_key, keys) : -ENOMEM;
	if (r < 0) {
		json_decref(keys);
		return errmsg_set(err, r, "reading the keys: %s", err_str(r));
	}
	size_t n = json_array_size(keys);
	json_t *last = json_object_get(json_array_get(keys, n - 1), "id");
	*ret = json_pack("{s:o,s:o}", "keys", keys, "next",
			 n == limit && last != NULL ? json_incref(last) : json_null());
	return *ret != NULL ? 0 : errmsg_set(err, -ENOMEM, "out of memory");
}

int signing_view(struct whm *w, int64_t zone_id, json_t **ret, struct errmsg *err)
{
	struct store_zone z;
	struct store_dnssec d;
	err->text[0] = '\0';
	struct store *st;
	int r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	r = store_dnssec_get(st, zone_id, &d);
	if (r == -ENOENT || (r == 0 && !d.enabled)) {
		if (r == 0)
			store_dnssec_clear(&d);
		*ret = json_pack("{s:b,s:I,s:s,s:b,s:[],s:[],s:[]}", "success", 1, "zoneId",
				 (json_int_t)zone_id, "domain", z.domain, "enabled", 0, "keys",
				 "ds", "dnskey");
		store_zone_clear(&z);
		return *ret ? 0 : -ENOMEM;
	}
	if (r < 0) {
		store_zone_clear(&z);
		return r;
	}
	struct view_ctx v = { z.domain, json_array(), json_array(), json_array(), 0 };
	r = store_dnssec_key_foreach(st, zone_id, add_view_key, &v);
	if (r == 0) {
		const char *n3 = zkeys_nsec3param(&d);
		*ret = json_pack(
		    "{s:b,s:I,s:s,s:b,s:I,s:s,s:s,s:s,s:s?,s:b,s:b,s:O,s:O,s:O,s:o,s:I,s:{s:s,s:n,"
		    "s:s}}",
		    "success", 1, "zoneId", (json_int_t)zone_id, "domain", z.domain, "enabled", 1,
		    "algorithm", (json_int_t)d.algorithm, "algorithmName",
		    zkeys_alg_name(d.algorithm), "scheme",
		    strcmp(d.scheme, SCHEME_CSK) == 0 ? "csk" : "ksk-zsk", "denial",
		    d.nsec3 ? "nsec3" : "nsec", "nsec3param", n3, "nsec3_optout", d.nsec3_optout,
		    "publish_cds", 1, "keys", v.keys, "ds", v.ds, "dnskey", v.dnskey,
		    "instructions", instructions(z.domain, v.ds), "signedAt",
		    (json_int_t)d.signed_at, "rollover", "state", "idle", "next_step", "message",
		    "no rollover in progress");
		if (*ret != NULL)
			json_object_set_new(*ret, "rollover", rollover_view(w, st, &d));
		if (*ret == NULL)
			r = -ENOMEM;
	}
	json_decref(v.keys);
	json_decref(v.ds);
	json_decref(v.dnskey);
	store_dnssec_clear(&d);
	store_zone_clear(&z);
	if (r < 0)
		errmsg_set(err, 0, "reading the keys: %s", err_str(r));
	return r;
}
