#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libdnssec/binary.h>
#include <libdnssec/crypto.h>
#include <libdnssec/error.h>
#include <libdnssec/key.h>
#include <libknot/libknot.h>

#include "base/err.h"
#include "base/log.h"
#include "dnssec.h"
#include "json/jsonx.h"

#define ALG_ECDSAP256 13
#define ALG_ED25519 15
#define FLAGS_KSK 257
#define FLAGS_ZSK 256
#define SCHEME_CSK "csk"
#define SCHEME_SPLIT "kskzsk"
#define KEYS_MAX 4
#define ROLL_ZSK "zsk"
#define ROLL_KSK "ksk"
#define ROLL_CSK "csk"

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

static void crypto_init(void)
{
	dnssec_crypto_init();
}

static const char *alg_name(uint32_t alg)
{
	return alg == ALG_ED25519 ? "ED25519" : "ECDSAP256SHA256";
}

/* --- keys ------------------------------------------------------------------ */

static char *base64(const uint8_t *data, size_t len)
{
	dnssec_binary_t in = { .size = len, .data = (uint8_t *)data }, out = { 0 };
	if (dnssec_binary_to_base64(&in, &out) != DNSSEC_EOK)
		return NULL;
	char *s = malloc(out.size + 1);
	if (s != NULL) {
		memcpy(s, out.data, out.size);
		s[out.size] = '\0';
	}
	dnssec_binary_free(&out);
	return s;
}

/* The private scalar (ECDSA) or seed (Ed25519) as exactly 32 bytes. */
static int scalar32(const gnutls_datum_t *k, uint8_t out[32])
{
	const uint8_t *p = k->data;
	size_t n = k->size;
	while (n > 32 && *p == 0) {
		p++;
		n--;
	}
	if (n > 32)
		return -EINVAL;
	memset(out, 0, 32 - n);
	memcpy(out + 32 - n, p, n);
	return 0;
}

/* A libdnssec key for 'zone' from its DNSKEY RDATA text "F 3 A <base64>". */
static int key_from_text(const char *zone, const char *dnskey, dnssec_key_t **ret)
{
	unsigned flags, proto, alg;
	int used = 0;
	/* NOLINTNEXTLINE(cert-err34-c): text the controller wrote itself */
	if (sscanf(dnskey, "%u %u %u %n", &flags, &proto, &alg, &used) != 3 || used == 0)
		return -EINVAL;
	const char *b64 = dnskey + used;
	dnssec_binary_t in = { .size = strlen(b64), .data = (uint8_t *)b64 }, pub = { 0 };
	if (dnssec_binary_from_base64(&in, &pub) != DNSSEC_EOK)
		return -EINVAL;
	dnssec_key_t *k = NULL;
	uint8_t *dname = knot_dname_from_str_alloc(zone);
	int r = dname && dnssec_key_new(&k) == DNSSEC_EOK ? 0 : -ENOMEM;
	if (r == 0 && (dnssec_key_set_dname(k, dname) != DNSSEC_EOK ||
		       dnssec_key_set_flags(k, (uint16_t)flags) != DNSSEC_EOK ||
		       dnssec_key_set_algorithm(k, (uint8_t)alg) != DNSSEC_EOK ||
		       dnssec_key_set_pubkey(k, &pub) != DNSSEC_EOK))
		r = -EINVAL;
	free(dname);
	dnssec_binary_free(&pub);
	if (r < 0) {
		dnssec_key_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

/* The DS (SHA-256) of a DNSKEY, in presentation form. */
static int ds_text(const char *zone, const char *dnskey, char *out, size_t len)
{
	dnssec_key_t *k;
	dnssec_binary_t ds = { 0 };
	int r = key_from_text(zone, dnskey, &k);
	if (r < 0)
		return r;
	if (dnssec_key_create_ds(k, DNSSEC_KEY_DIGEST_SHA256, &ds) != DNSSEC_EOK || ds.size < 5) {
		dnssec_key_free(k);
		return -EINVAL;
	}
	size_t o = (size_t)snprintf(out, len, "%u %u %u ", (ds.data[0] << 8) | ds.data[1],
				    ds.data[2], ds.data[3]);
	for (size_t i = 4; i < ds.size && o + 3 <= len; i++, o += 2)
		snprintf(out + o, len - o, "%02X", ds.data[i]);
	dnssec_binary_free(&ds);
	dnssec_key_free(k);
	return 0;
}

/* Generate one key: GnuTLS makes it, libdnssec derives the DNSKEY and its
 * tag from the private key, and the private key is written in the ISC
 * format PowerDNS imports. */
static int keygen(uint32_t alg, const char *keytype, struct store_dnssec_key *k, char *err)
{
	gnutls_x509_privkey_t pk = NULL;
	gnutls_datum_t pem = { 0 }, x = { 0 }, y = { 0 }, d = { 0 };
	gnutls_ecc_curve_t curve;
	dnssec_key_t *key = NULL;
	uint8_t scalar[32];
	char *b64 = NULL, *pub = NULL;
	int r = -EIO;

	pthread_once(&crypto_once, crypto_init);
	memset(k, 0, sizeof(*k));
	uint16_t flags = strcmp(keytype, "zsk") == 0 ? FLAGS_ZSK : FLAGS_KSK;
	bool ed = alg == ALG_ED25519;
	if (gnutls_x509_privkey_init(&pk) < 0)
		goto out;
	if (gnutls_x509_privkey_generate(
		pk, ed ? GNUTLS_PK_EDDSA_ED25519 : GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(ed ? GNUTLS_ECC_CURVE_ED25519 : GNUTLS_ECC_CURVE_SECP256R1),
		0) < 0 ||
	    gnutls_x509_privkey_export2_pkcs8(pk, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
					      &pem) < 0 ||
	    gnutls_x509_privkey_export_ecc_raw(pk, &curve, &x, &y, &d) < 0)
		goto out;
	if (scalar32(&d, scalar) < 0)
		goto out;
	dnssec_binary_t pem_bin = { .size = pem.size, .data = pem.data };
	if (dnssec_key_new(&key) != DNSSEC_EOK ||
	    dnssec_key_set_algorithm(key, alg) != DNSSEC_EOK ||
	    dnssec_key_set_flags(key, flags) != DNSSEC_EOK ||
	    dnssec_key_load_pkcs8(key, &pem_bin) != DNSSEC_EOK)
		goto out;
	dnssec_binary_t pubkey;
	if (dnssec_key_get_pubkey(key, &pubkey) != DNSSEC_EOK)
		goto out;
	pub = base64(pubkey.data, pubkey.size);
	b64 = base64(scalar, sizeof(scalar));
	if (pub == NULL || b64 == NULL) {
		r = -ENOMEM;
		goto out;
	}
	char dnskey[1024];
	snprintf(dnskey, sizeof(dnskey), "%u 3 %u %s", flags, alg, pub);
	size_t plen = strlen(b64) + 128;
	k->private_key = malloc(plen);
	k->dnskey = strdup(dnskey);
	k->keytype = strdup(keytype);
	if (k->private_key == NULL || k->dnskey == NULL || k->keytype == NULL) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(k->private_key, plen,
		 "Private-key-format: v1.2\nAlgorithm: %u (%s)\nPrivateKey: %s\n", alg,
		 alg_name(alg), b64);
	k->algorithm = alg;
	k->flags = flags;
	k->keytag = dnssec_key_get_keytag(key);
	k->active = k->published = true;
	r = 0;
out:
	if (r < 0) {
		store_dnssec_key_clear(k);
		snprintf(err, ZONES_ERR_MAX, "generating a %s key failed", alg_name(alg));
	}
	explicit_bzero(scalar, sizeof(scalar));
	if (b64 != NULL) {
		explicit_bzero(b64, strlen(b64));
		free(b64);
	}
	free(pub);
	dnssec_key_free(key);
	if (d.data != NULL) {
		gnutls_memset(d.data, 0, d.size);
		gnutls_free(d.data);
	}
	if (pem.data != NULL) {
		gnutls_memset(pem.data, 0, pem.size);
		gnutls_free(pem.data);
	}
	gnutls_free(x.data);
	gnutls_free(y.data);
	gnutls_x509_privkey_deinit(pk);
	return r;
}

/* --- the push payload ------------------------------------------------------ */

static int add_payload_key(const struct store_dnssec_key *k, void *ctx)
{
	json_t *o =
	    json_pack("{s:s,s:b,s:b,s:s,s:s}", "keytype", k->keytype, "active", k->active,
		      "published", k->published, "dnskey", k->dnskey, "privatekey", k->private_key);
	return o && json_array_append_new(ctx, o) == 0 ? 0 : -ENOMEM;
}

static const char *nsec3param(const struct store_dnssec *d)
{
	/* RFC 9276: SHA-1, no extra iterations, empty salt. */
	return !d->nsec3 ? NULL : d->nsec3_optout ? "1 1 0 -" : "1 0 0 -";
}

int dnssec_payload(struct store *st, int64_t zone_id, json_t **ret)
{
	struct store_dnssec d;
	*ret = NULL;
	int r = store_dnssec_get(st, zone_id, &d);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	json_t *o;
	if (!d.enabled) {
		o = json_pack("{s:b}", "enabled", 0);
	} else {
		json_t *keys = json_array();
		r = keys ? store_dnssec_key_foreach(st, zone_id, add_payload_key, keys) : -ENOMEM;
		o = r == 0 ? json_pack("{s:b,s:s?,s:b,s:o}", "enabled", 1, "nsec3param",
				       nsec3param(&d), "publish_cds", 1, "keys", keys)
			   : NULL;
		if (r < 0)
			json_decref(keys);
	}
	store_dnssec_clear(&d);
	if (r < 0)
		return r;
	*ret = o;
	return o ? 0 : -ENOMEM;
}

/* --- signing --------------------------------------------------------------- */

struct sign_req {
	uint32_t algorithm; /* 0: not asked */
	const char *scheme; /* NULL: not asked */
	int nsec3;	    /* -1: not asked */
	int optout;	    /* -1: not asked */
	struct store_dnssec_key keys[2];
	size_t nkeys;
	int64_t now; /* dnssec_now(): key ages are measured on that clock */
};

static const char *const sign_keys[] = { "algorithm", "scheme", "nsec3", "nsec3_optout", NULL };

static int parse_algorithm(const json_t *v, uint32_t *ret, char *err)
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
	snprintf(err, ZONES_ERR_MAX,
		 "algorithm: must be 13 (\"ECDSAP256SHA256\", the default) or 15 (\"ED25519\")");
	return ERR_INVALID;
}

static int parse_sign(const json_t *body, struct sign_req *q, char *err)
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
			snprintf(err, ZONES_ERR_MAX,
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
		snprintf(err, ZONES_ERR_MAX, "nsec3_optout: opt-out needs \"nsec3\": true");
		r = ERR_INVALID;
	}
	return r;
}

static int sign_fn(struct store *st, struct store_zone *z, void *ctx, char *err)
{
	struct sign_req *q = ctx;
	struct store_dnssec d;
	int r = store_dnssec_get(st, z->id, &d);
	if (r < 0 && r != -ENOENT)
		return r;
	bool was = r == 0 && d.enabled;
	if (was) {
		if ((q->algorithm && q->algorithm != d.algorithm) ||
		    (q->scheme && strcmp(q->scheme, d.scheme) != 0)) {
			snprintf(err, ZONES_ERR_MAX,
				 "the zone is signed with %s (%s); changing the algorithm or the "
				 "key scheme needs a rollover, which is not supported: unsign the "
				 "zone first (DELETE .../dnssec), or keep its settings",
				 alg_name(d.algorithm),
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
		r = store_dnssec_put(st, &d);
		store_dnssec_clear(&d);
		return r;
	}
	if (r == 0)
		store_dnssec_clear(&d);
	if (q->nkeys == 0) {
		snprintf(err, ZONES_ERR_MAX,
			 "the zone's DNSSEC state changed meanwhile; try again");
		return ERR_CONFLICT;
	}
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
	return r;
}

int dnssec_sign(struct whm *w, int64_t zone_id, const json_t *body, const char *actor,
		struct zone_result *res, json_t **ret, char *err)
{
	struct sign_req q;
	struct store_zone z;
	struct store_dnssec d;

	err[0] = '\0';
	int r = parse_sign(body, &q, err);
	if (r < 0)
		return r;
	q.now = dnssec_now(w);
	struct store *st;
	r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	/* Keys are made before the transaction (it is the slow part); if the
	 * zone turns out to be signed meanwhile, they are thrown away. */
	r = store_dnssec_get(st, zone_id, &d);
	bool signed_now = r == 0 && d.enabled;
	if (r == 0)
		store_dnssec_clear(&d);
	r = 0;
	if (!signed_now) {
		uint32_t alg = q.algorithm ? q.algorithm : ALG_ECDSAP256;
		bool split = q.scheme != NULL && strcmp(q.scheme, SCHEME_SPLIT) == 0;
		r = keygen(alg, split ? "ksk" : "csk", &q.keys[0], err);
		q.nkeys = r == 0;
		if (r == 0 && split) {
			r = keygen(alg, "zsk", &q.keys[1], err);
			q.nkeys += r == 0;
		}
	}
	store_zone_clear(&z);
	if (r == 0)
		r = zones_change(w, zone_id, sign_fn, &q, actor, "zone.dnssec.sign", res, err);
	for (size_t i = 0; i < q.nkeys; i++)
		store_dnssec_key_clear(&q.keys[i]);
	if (r < 0)
		return r;
	r = dnssec_view(w, zone_id, ret, err);
	return r;
}

static int unsign_fn(struct store *st, struct store_zone *z, void *ctx, char *err)
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
	d.roll_next_at = d.roll_ds_at = 0;
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

int dnssec_unsign(struct whm *w, int64_t zone_id, bool force, const char *actor,
		  struct zone_result *res, char *err)
{
	struct store_zone z;
	struct store_dnssec d;
	err[0] = '\0';
	struct store *st;
	int r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	store_zone_clear(&z);
	r = store_dnssec_get(st, zone_id, &d);
	bool on = r == 0 && d.enabled;
	if (r == 0)
		store_dnssec_clear(&d);
	if (on && !force) {
		snprintf(err, ZONES_ERR_MAX,
			 "the zone is signed, and its parent may still publish a DS record for "
			 "it: removing the keys now would make validating resolvers reject every "
			 "answer. First remove the DS records at the registrar, wait until the "
			 "parent's DS TTL has passed (often one or two days), then repeat this "
			 "request with ?force=1");
		return ERR_CONFLICT;
	}
	return zones_change(w, zone_id, unsign_fn, NULL, actor, "zone.dnssec.unsign", res, err);
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
	if (k->flags == FLAGS_KSK && ds_text(v->zone, k->dnskey, ds, sizeof(ds)) == 0) {
		json_array_append_new(dss, json_string(ds));
		json_array_append_new(v->ds, json_string(ds));
	}
	if (k->published)
		json_array_append_new(v->dnskey, json_string(k->dnskey));
	json_t *o =
	    json_pack("{s:I,s:s,s:I,s:s,s:I,s:I,s:s,s:o,s:b,s:b,s:I}", "id", (json_int_t)k->id,
		      "keytype", k->keytype, "algorithm", (json_int_t)k->algorithm, "algorithmName",
		      alg_name(k->algorithm), "flags", (json_int_t)k->flags, "keytag",
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
	if (zsk && d->roll_step == 1)
		next = "the new ZSK starts signing, the old one stops (both stay published)";
	else if (zsk)
		next = "the old ZSK is removed";
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
	return json_pack("{s:s,s:s,s:i,s:s,s:I,s:s,s:I,s:b}", "state", "rolling", "kind", k, "step",
			 (int)d->roll_step, "next_step", next, "not_before",
			 (json_int_t)d->roll_next_at, "waiting_for", waiting, "now",
			 (json_int_t)dnssec_now(w), "nodes_synced", acked);
}

int dnssec_view(struct whm *w, int64_t zone_id, json_t **ret, char *err)
{
	struct store_zone z;
	struct store_dnssec d;
	err[0] = '\0';
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
		const char *n3 = nsec3param(&d);
		*ret = json_pack(
		    "{s:b,s:I,s:s,s:b,s:I,s:s,s:s,s:s,s:s?,s:b,s:b,s:O,s:O,s:O,s:o,s:I,s:{s:s,s:n,"
		    "s:s}}",
		    "success", 1, "zoneId", (json_int_t)zone_id, "domain", z.domain, "enabled", 1,
		    "algorithm", (json_int_t)d.algorithm, "algorithmName", alg_name(d.algorithm),
		    "scheme", strcmp(d.scheme, SCHEME_CSK) == 0 ? "csk" : "ksk-zsk", "denial",
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
		snprintf(err, ZONES_ERR_MAX, "reading the keys: %s", err_str(r));
	return r;
}

/* --- rollover ------------------------------------------------------------------ */

/* ZSK: pre-publication (RFC 6781 section 4.1.1.1): the new ZSK is published
 * (step 1), after the DNSKEY TTL it signs instead of the old one (step 2),
 * after the largest TTL of the zone the old one is removed.
 * KSK and CSK: double-KSK with CDS signalling (RFC 6781 section 4.1.2,
 * RFC 7344): the new key is published and signs beside the old one (step
 * 1; CDS now lists both); once the DNSKEY TTL has passed the parent may
 * publish the new DS, which the operator confirms (step 2); after the
 * parent's DS TTL the old key is removed. Each step waits until every node
 * acknowledged the previous one. */

struct rollover {
	struct whm *w;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

int64_t dnssec_now(const struct whm *w)
{
	int64_t now = whm_now();
	const char *path = w->conf.dnssec_test_clock_offset_file;
	if (path == NULL || path[0] == '\0')
		return now;
	FILE *f = fopen(path, "r");
	long long off = 0;
	if (f != NULL) {
		/* NOLINTNEXTLINE(cert-err34-c): a file only the test suite writes */
		if (fscanf(f, "%lld", &off) != 1)
			off = 0;
		fclose(f);
	}
	return now + off;
}

static int max_ttl_fn(const struct store_record *r, void *ctx)
{
	uint32_t *m = ctx;
	if (r->ttl > *m)
		*m = r->ttl;
	return 0;
}

/* The TTL of the DNSKEY set (PowerDNS serves it with the SOA's) and the
 * largest TTL a resolver may hold anything of the zone for, SOA and
 * negative answers included. */
static void zone_ttls(struct whm *w, struct store *st, int64_t zone_id, uint32_t *dnskey,
		      uint32_t *max)
{
	const struct whm_conf *c = &w->conf;
	*dnskey = (uint32_t)(c->soa_ttl > c->soa_minimum ? c->soa_ttl : c->soa_minimum);
	*max = *dnskey;
	store_record_foreach(st, zone_id, max_ttl_fn, max);
}

struct roll_ctx {
	struct whm *w;
	const char *start; /* start this kind, or NULL: advance */
	struct store_dnssec_key key;
	bool have_key;
	int64_t now;
	const char *did;
};

struct key_list {
	struct store_dnssec_key k[KEYS_MAX * 2];
	size_t n;
};

static int collect_key(const struct store_dnssec_key *k, void *ctx)
{
	struct key_list *l = ctx;
	if (l->n >= sizeof(l->k) / sizeof(l->k[0]))
		return 0;
	l->k[l->n] = *k;
	l->k[l->n].keytype = strdup(k->keytype);
	l->k[l->n].dnskey = NULL;
	l->k[l->n].private_key = NULL;
	if (l->k[l->n].keytype == NULL)
		return -ENOMEM;
	l->n++;
	return 0;
}

static void key_list_clear(struct key_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->k[i].keytype);
	l->n = 0;
}

/* The newest key of 'type' (largest id). */
static int64_t newest(const struct key_list *l, const char *type)
{
	int64_t id = 0;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->k[i].keytype, type) == 0 && l->k[i].id > id)
			id = l->k[i].id;
	return id;
}

static int roll_fn(struct store *st, struct store_zone *z, void *ctx, char *err)
{
	struct roll_ctx *rc = ctx;
	struct store_dnssec d;
	struct key_list l = { .n = 0 };
	uint32_t dnskey_ttl, max_ttl;
	const struct whm_conf *c = &rc->w->conf;
	int r = store_dnssec_get(st, z->id, &d);
	if (r == -ENOENT || (r == 0 && !d.enabled)) {
		if (r == 0)
			store_dnssec_clear(&d);
		snprintf(err, ZONES_ERR_MAX, "the zone is not signed");
		return ERR_CONFLICT;
	}
	if (r < 0)
		return r;
	zone_ttls(rc->w, st, z->id, &dnskey_ttl, &max_ttl);
	r = store_dnssec_key_foreach(st, z->id, collect_key, &l);
	int64_t delay = (int64_t)c->dnssec_propagation_delay_s;
	char *kind = d.roll_kind;
	if (r < 0)
		goto out;
	if (rc->start != NULL) {
		if (kind[0] != '\0') {
			snprintf(err, ZONES_ERR_MAX, "a %s rollover is already in progress", kind);
			r = ERR_CONFLICT;
			goto out;
		}
		r = store_dnssec_key_insert(st, &rc->key);
		if (r < 0)
			goto out;
		d.roll_kind = (char *)rc->start;
		d.roll_step = 1;
		d.roll_next_at = rc->now + dnskey_ttl + delay;
		d.roll_ds_at = 0;
		rc->did = "new key published";
	} else if (strcmp(kind, ROLL_ZSK) == 0 && d.roll_step == 1) {
		int64_t id = newest(&l, "zsk");
		for (size_t i = 0; r == 0 && i < l.n; i++)
			if (strcmp(l.k[i].keytype, "zsk") == 0)
				r = store_dnssec_key_set_flags(st, z->id, l.k[i].id,
							       l.k[i].id == id, true);
		d.roll_step = 2;
		d.roll_next_at = rc->now + max_ttl + delay;
		rc->did = "new ZSK signs; old ZSK still published";
	} else if ((strcmp(kind, ROLL_ZSK) == 0 && d.roll_step == 2) ||
		   (strcmp(kind, ROLL_ZSK) != 0 && d.roll_step == 2)) {
		const char *type = strcmp(kind, ROLL_ZSK) == 0 ? "zsk" : kind;
		int64_t id = newest(&l, type);
		for (size_t i = 0; r == 0 && i < l.n; i++)
			if (strcmp(l.k[i].keytype, type) == 0 && l.k[i].id != id)
				r = store_dnssec_key_delete(st, z->id, l.k[i].id);
		d.roll_kind = (char *)"";
		d.roll_step = 0;
		d.roll_next_at = 0;
		d.roll_ds_at = 0;
		rc->did = "old key removed; rollover done";
	} else {
		r = 1; /* nothing to do at this step */
		goto out;
	}
	if (r == 0) {
		d.roll_version = z->version + 1; /* zones_change's bump */
		d.updated_at = whm_now();
		r = store_dnssec_put(st, &d);
	}
out:
	d.roll_kind = kind;
	store_dnssec_clear(&d);
	key_list_clear(&l);
	return r;
}

/* Confirm the parent publishes the new DS: no change for the nodes. */
static int confirm_ds(struct whm *w, int64_t zone_id, char *err)
{
	struct store *st = whm_store(w);
	struct store_dnssec d;
	if (st == NULL) {
		snprintf(err, ZONES_ERR_MAX, "the store is unavailable");
		return ERR_UNAVAILABLE;
	}
	int64_t now = dnssec_now(w);
	int r = store_begin(st);
	if (r == 0)
		r = store_dnssec_get(st, zone_id, &d);
	if (r == -ENOENT) {
		snprintf(err, ZONES_ERR_MAX, "the zone is not signed");
		r = ERR_CONFLICT;
	}
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): r is 0 (the store returns 0 or < 0) */
	bool ksk = strcmp(d.roll_kind, ROLL_KSK) == 0 || strcmp(d.roll_kind, ROLL_CSK) == 0;
	if (!ksk || d.roll_step != 1) {
		snprintf(err, ZONES_ERR_MAX,
			 "no KSK or CSK rollover is waiting for its DS (start one with "
			 "{\"keytype\": \"ksk\"} or {\"keytype\": \"csk\"})");
		r = ERR_CONFLICT;
	} else if (now < d.roll_next_at) {
		snprintf(err, ZONES_ERR_MAX,
			 "too early: the new DNSKEY set may not be in every cache until %lld; "
			 "give the parent the new DS after that",
			 (long long)d.roll_next_at);
		r = ERR_CONFLICT;
	} else {
		d.roll_step = 2;
		d.roll_ds_at = now;
		d.roll_next_at = now + (int64_t)w->conf.dnssec_parent_ds_ttl_s +
				 (int64_t)w->conf.dnssec_propagation_delay_s;
		d.updated_at = whm_now();
		r = store_dnssec_put(st, &d);
	}
	store_dnssec_clear(&d);
	if (r == 0)
		r = store_commit(st);
	else
		store_rollback(st);
	return r;
}

static const char *const roll_keys[] = { "keytype", "ds_published", NULL };

int dnssec_rollover(struct whm *w, int64_t zone_id, const json_t *body, const char *actor,
		    struct zone_result *res, json_t **ret, char *err)
{
	struct roll_ctx rc = { .w = w, .now = dnssec_now(w) };
	struct store_dnssec d;
	struct store_zone z;
	bool b;

	err[0] = '\0';
	int r = body ? jsonx_check_keys(body, roll_keys, "body", err) : 0;
	if (r < 0)
		return r;
	const char *type = json_string_value(json_object_get(body, "keytype"));
	r = jsonx_get_bool(body, "ds_published", false, "body", &b, err);
	if (r == 0 && type == NULL) {
		if (!b) {
			snprintf(err, ZONES_ERR_MAX, "ds_published: only true confirms a DS");
			return ERR_INVALID;
		}
		r = confirm_ds(w, zone_id, err);
		return r < 0 ? r : dnssec_view(w, zone_id, ret, err);
	}
	if (r == 0 || (r != -ENOENT && r < 0)) {
		if (r == 0)
			snprintf(err, ZONES_ERR_MAX, "give either keytype or ds_published");
		return r == 0 ? ERR_INVALID : r;
	}
	if (type == NULL ||
	    (strcmp(type, "zsk") != 0 && strcmp(type, "ksk") != 0 && strcmp(type, "csk") != 0)) {
		snprintf(err, ZONES_ERR_MAX, "keytype: must be \"zsk\", \"ksk\" or \"csk\"");
		return ERR_INVALID;
	}
	struct store *st;
	r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	r = store_dnssec_get(st, zone_id, &d);
	if (r == -ENOENT || (r == 0 && !d.enabled)) {
		snprintf(err, ZONES_ERR_MAX, "the zone is not signed");
		r = r == 0 ? (store_dnssec_clear(&d), ERR_CONFLICT) : ERR_CONFLICT;
		store_zone_clear(&z);
		return r;
	}
	if (r < 0) {
		store_zone_clear(&z);
		return r;
	}
	bool csk = strcmp(d.scheme, SCHEME_CSK) == 0;
	if (csk != (strcmp(type, "csk") == 0)) {
		snprintf(err, ZONES_ERR_MAX, "the zone is signed with %s; roll %s",
			 csk ? "one combined key (csk)" : "a KSK and a ZSK",
			 csk ? "the csk" : "the ksk or the zsk");
		r = ERR_CONFLICT;
	}
	if (r == 0)
		r = keygen(d.algorithm, type, &rc.key, err);
	store_dnssec_clear(&d);
	store_zone_clear(&z);
	if (r < 0)
		return r;
	rc.key.zone_id = zone_id;
	rc.key.created_at = rc.now;
	rc.key.active = strcmp(type, "zsk") != 0; /* a new ZSK is published first */
	rc.key.published = true;
	rc.start = strcmp(type, "zsk") == 0   ? ROLL_ZSK
		   : strcmp(type, "ksk") == 0 ? ROLL_KSK
					      : ROLL_CSK;
	r = zones_change(w, zone_id, roll_fn, &rc, actor, "zone.dnssec.rollover", res, err);
	store_dnssec_key_clear(&rc.key);
	if (r < 0)
		return r;
	log_notice("zone %lld: %s rollover started", (long long)zone_id, type);
	return dnssec_view(w, zone_id, ret, err);
}

struct tick_ctx {
	struct whm *w;
	struct store *st;
	int64_t now;
};

static int zsk_due(const struct store_dnssec_key *k, void *ctx)
{
	int64_t *newest_active = ctx;
	if (strcmp(k->keytype, "zsk") == 0 && k->active && k->created_at > *newest_active)
		*newest_active = k->created_at;
	return 0;
}

static int tick_zone(int64_t zone_id, void *arg)
{
	struct tick_ctx *t = arg;
	struct whm *w = t->w;
	struct store_dnssec d;
	char err[ZONES_ERR_MAX];
	struct zone_result res = { 0 };

	if (store_dnssec_get(t->st, zone_id, &d) < 0)
		return 0;
	bool rolling = d.roll_kind[0] != '\0';
	/* ZSK steps 1 and 2 and KSK/CSK step 2 advance by time; KSK/CSK step
	 * 1 waits for the operator's DS confirmation. */
	bool ksk = rolling && strcmp(d.roll_kind, ROLL_ZSK) != 0;
	bool due = rolling && t->now >= d.roll_next_at && !(ksk && d.roll_step == 1);
	uint64_t need = d.roll_version;
	bool zsk_scheme = strcmp(d.scheme, SCHEME_SPLIT) == 0;
	store_dnssec_clear(&d);
	if (rolling) {
		bool acked = false;
		if (!due || store_sync_all_acked(t->st, zone_id, need, &acked) < 0 || !acked)
			return 0;
		struct roll_ctx rc = { .w = w, .now = t->now };
		int r = zones_change(w, zone_id, roll_fn, &rc, "rollover", "zone.dnssec.rollover",
				     &res, err);
		if (r == 0)
			log_notice("zone %lld: rollover: %s", (long long)zone_id, rc.did);
		else if (r < 0)
			log_warn("zone %lld: rollover step failed: %s", (long long)zone_id, err);
		return 0;
	}
	/* The scheduled ZSK rollover. */
	if (!zsk_scheme || w->conf.dnssec_zsk_lifetime_days == 0)
		return 0;
	int64_t created = 0;
	store_dnssec_key_foreach(t->st, zone_id, zsk_due, &created);
	if (created == 0 || t->now < created + (int64_t)w->conf.dnssec_zsk_lifetime_days * 86400)
		return 0;
	json_t *body = json_pack("{s:s}", "keytype", "zsk"), *view = NULL;
	int r = dnssec_rollover(w, zone_id, body, "rollover", &res, &view, err);
	json_decref(body);
	json_decref(view);
	if (r < 0)
		log_warn("zone %lld: scheduled ZSK rollover: %s", (long long)zone_id, err);
	return 0;
}

void dnssec_rollover_tick(struct whm *w)
{
	struct tick_ctx t = { w, whm_store(w), dnssec_now(w) };
	if (t.st != NULL)
		store_dnssec_foreach_rolling(t.st, tick_zone, &t);
}

static void *rollover_main(void *arg)
{
	struct rollover *ro = arg;
	pthread_mutex_lock(&ro->lock);
	while (!ro->stop) {
		pthread_mutex_unlock(&ro->lock);
		dnssec_rollover_tick(ro->w);
		pthread_mutex_lock(&ro->lock);
		int64_t due = whm_now_ms() + (int64_t)ro->w->conf.dnssec_rollover_check_ms;
		struct timespec ts = { due / 1000, (due % 1000) * 1000000L };
		while (!ro->stop && whm_now_ms() < due)
			if (pthread_cond_timedwait(&ro->cond, &ro->lock, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&ro->lock);
	return NULL;
}

int dnssec_rollover_start(struct whm *w)
{
	struct rollover *ro = calloc(1, sizeof(*ro));
	if (ro == NULL)
		return -ENOMEM;
	ro->w = w;
	pthread_mutex_init(&ro->lock, NULL);
	pthread_cond_init(&ro->cond, NULL);
	if (pthread_create(&ro->thread, NULL, rollover_main, ro) != 0) {
		pthread_cond_destroy(&ro->cond);
		pthread_mutex_destroy(&ro->lock);
		free(ro);
		return -EAGAIN;
	}
	w->rollover = ro;
	return 0;
}

void dnssec_rollover_stop(struct whm *w)
{
	struct rollover *ro = w->rollover;
	if (ro == NULL)
		return;
	pthread_mutex_lock(&ro->lock);
	ro->stop = true;
	pthread_cond_broadcast(&ro->cond);
	pthread_mutex_unlock(&ro->lock);
	pthread_join(ro->thread, NULL);
	pthread_cond_destroy(&ro->cond);
	pthread_mutex_destroy(&ro->lock);
	free(ro);
	w->rollover = NULL;
}
