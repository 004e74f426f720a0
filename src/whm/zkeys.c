#include <errno.h>
#include <gmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libdnssec/binary.h>
#include <libdnssec/crypto.h>
#include <libdnssec/error.h>
#include <libdnssec/key.h>
#include <libknot/libknot.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/eddsa.h>

#include "zkeys.h"

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

static void crypto_init(void)
{
	dnssec_crypto_init();
}

const char *zkeys_alg_name(uint32_t alg)
{
	return alg == ALG_ED25519 ? "ED25519" : "ECDSAP256SHA256";
}

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
int zkeys_ds_text(const char *zone, const char *dnskey, char *out, size_t len)
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

/* Fill *k from the GnuTLS private key 'pk': libdnssec derives the DNSKEY
 * and its tag from the private key, and the private key is written in the
 * ISC format PowerDNS imports. */
static int key_from(gnutls_x509_privkey_t pk, uint32_t alg, const char *keytype,
		    struct store_dnssec_key *k)
{
	gnutls_datum_t pem = { 0 }, x = { 0 }, y = { 0 }, d = { 0 };
	gnutls_ecc_curve_t curve;
	dnssec_key_t *key = NULL;
	uint8_t scalar[32];
	char *b64 = NULL, *pub = NULL;
	int r = -EIO;
	uint16_t flags = strcmp(keytype, "zsk") == 0 ? FLAGS_ZSK : FLAGS_KSK;

	if (gnutls_x509_privkey_export2_pkcs8(pk, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
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
		 zkeys_alg_name(alg), b64);
	k->algorithm = alg;
	k->flags = flags;
	k->keytag = dnssec_key_get_keytag(key);
	k->active = k->published = true;
	r = 0;
out:
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
	return r;
}

int zkeys_generate(uint32_t alg, const char *keytype, struct store_dnssec_key *k,
		   struct errmsg *err)
{
	gnutls_x509_privkey_t pk = NULL;
	bool ed = alg == ALG_ED25519;
	int r = -EIO;

	pthread_once(&crypto_once, crypto_init);
	memset(k, 0, sizeof(*k));
	if (gnutls_x509_privkey_init(&pk) == 0 &&
	    gnutls_x509_privkey_generate(
		pk, ed ? GNUTLS_PK_EDDSA_ED25519 : GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(ed ? GNUTLS_ECC_CURVE_ED25519 : GNUTLS_ECC_CURVE_SECP256R1),
		0) == 0)
		r = key_from(pk, alg, keytype, k);
	gnutls_x509_privkey_deinit(pk);
	if (r < 0) {
		store_dnssec_key_clear(k);
		errmsg_set(err, 0, "generating a %s key failed", zkeys_alg_name(alg));
	}
	return r;
}

/* --- import ---------------------------------------------------------------- */

/* 'v' as exactly 32 big-endian bytes (it is below a 256-bit order). */
static void mpz_out32(const mpz_t v, uint8_t out[32])
{
	size_t n = (mpz_sizeinbase(v, 2) + 7) / 8;
	memset(out, 0, 32);
	if (mpz_sgn(v) != 0 && n <= 32)
		mpz_export(out + 32 - n, NULL, 1, 1, 1, 0, v);
}

/* The public half of private key 'priv' of 'alg', computed with nettle
 * (GnuTLS's own arithmetic: GnuTLS takes a private key only with its
 * public half, and the ISC format carries the private one alone): the
 * point x, y of an ECDSA P-256 scalar (-EINVAL unless 0 < scalar < the
 * group's order), or in 'x' the key of an Ed25519 seed. */
static int public_half(uint32_t alg, const uint8_t priv[32], uint8_t x[32], uint8_t y[32])
{
	if (alg == ALG_ED25519) {
		ed25519_sha512_public_key(x, priv);
		return 0;
	}
	const struct ecc_curve *curve = nettle_get_secp_256r1();
	struct ecc_scalar sc;
	struct ecc_point pt;
	mpz_t z, px, py;
	mpz_inits(z, px, py, NULL);
	mpz_import(z, 32, 1, 1, 1, 0, priv);
	ecc_scalar_init(&sc, curve);
	ecc_point_init(&pt, curve);
	int r = ecc_scalar_set(&sc, z) ? 0 : -EINVAL;
	if (r == 0) {
		ecc_point_mul_g(&pt, &sc);
		ecc_point_get(&pt, px, py);
		mpz_out32(px, x);
		mpz_out32(py, y);
	}
	/* GMP and nettle free without wiping: the scalar's limbs first. */
	if (mpz_size(z) > 0)
		explicit_bzero(mpz_limbs_modify(z, (mp_size_t)mpz_size(z)),
			       mpz_size(z) * sizeof(mp_limb_t));
	explicit_bzero(sc.p, (size_t)ecc_size(curve) * sizeof(mp_limb_t));
	ecc_scalar_clear(&sc);
	ecc_point_clear(&pt);
	mpz_clears(z, px, py, NULL);
	return r;
}

/* The value of field 'name' in ISC private key text 'isc' ("Name: value"
 * lines), into 'out' (at most 'len' bytes with its NUL); -ENOENT when
 * absent, -EINVAL when longer. */
static int isc_field(const char *isc, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	for (const char *line = isc; line != NULL && *line != '\0';) {
		const char *end = strchr(line, '\n');
		size_t ll = end != NULL ? (size_t)(end - line) : strlen(line);
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll > nl && strncmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			size_t vl = ll - nl - 1;
			while (vl > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vl--;
			}
			if (vl >= len)
				return -EINVAL;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 0;
		}
		line = end != NULL ? end + 1 : NULL;
	}
	return -ENOENT;
}

/* Algorithm and private key of ISC text 'isc' (what dnssec-keygen writes
 * and PowerDNS exports), checked. */
static int isc_parse(const char *isc, uint32_t *alg, uint8_t priv[32], struct errmsg *err)
{
	char format[32], algorithm[64], key[128];
	if (isc_field(isc, "Private-key-format", format, sizeof(format)) < 0 ||
	    strncmp(format, "v1.", 3) != 0 ||
	    isc_field(isc, "Algorithm", algorithm, sizeof(algorithm)) < 0)
		return errmsg_set(err, ERR_INVALID,
				  "not a private key in the ISC format (the lines "
				  "Private-key-format: v1.2, Algorithm and PrivateKey)");
	char *end;
	unsigned long a = strtoul(algorithm, &end, 10);
	if (end == algorithm || (*end != '\0' && *end != ' '))
		return errmsg_set(err, ERR_INVALID, "Algorithm: not an algorithm number");
	if (a != ALG_ECDSAP256 && a != ALG_ED25519)
		return errmsg_set(err, ERR_INVALID,
				  "Algorithm %lu: the cluster signs with ECDSAP256SHA256 (13) or "
				  "ED25519 (15)",
				  a);
	int r = isc_field(isc, "PrivateKey", key, sizeof(key));
	if (r < 0)
		return errmsg_set(err, ERR_INVALID,
				  r == -ENOENT
				      ? "not a private key in the ISC format (no PrivateKey line)"
				      : "PrivateKey: not 32 bytes in base64");
	dnssec_binary_t in = { .size = strlen(key), .data = (uint8_t *)key }, raw = { 0 };
	bool ok = dnssec_binary_from_base64(&in, &raw) == DNSSEC_EOK && raw.size == 32;
	if (ok)
		memcpy(priv, raw.data, 32);
	if (raw.data != NULL)
		explicit_bzero(raw.data, raw.size);
	dnssec_binary_free(&raw);
	explicit_bzero(key, sizeof(key));
	if (!ok)
		return errmsg_set(err, ERR_INVALID, "PrivateKey: not 32 bytes in base64");
	*alg = (uint32_t)a;
	return 0;
}

int zkeys_import(const char *isc, const char *keytype, struct store_dnssec_key *k,
		 struct errmsg *err)
{
	gnutls_x509_privkey_t pk = NULL;
	uint8_t priv[32], x[32], y[32];
	uint32_t alg = 0;

	pthread_once(&crypto_once, crypto_init);
	memset(k, 0, sizeof(*k));
	int r = isc_parse(isc, &alg, priv, err);
	if (r == 0 && public_half(alg, priv, x, y) < 0)
		r = errmsg_set(err, ERR_INVALID, "PrivateKey: not a P-256 private key");
	if (r == 0) {
		bool ed = alg == ALG_ED25519;
		gnutls_datum_t xd = { x, 32 }, yd = { y, 32 }, kd = { priv, 32 };
		r = gnutls_x509_privkey_init(&pk) == 0 &&
			    gnutls_x509_privkey_import_ecc_raw(
				pk, ed ? GNUTLS_ECC_CURVE_ED25519 : GNUTLS_ECC_CURVE_SECP256R1, &xd,
				ed ? NULL : &yd, &kd) == 0
			? key_from(pk, alg, keytype, k)
			: -EIO;
		if (r < 0) {
			store_dnssec_key_clear(k);
			errmsg_set(err, r, "importing the %s key failed", zkeys_alg_name(alg));
		}
	}
	gnutls_x509_privkey_deinit(pk);
	explicit_bzero(priv, sizeof(priv));
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

const char *zkeys_nsec3param(const struct store_dnssec *d)
{
	/* RFC 9276: SHA-1, no extra iterations, empty salt. */
	return !d->nsec3 ? NULL : d->nsec3_optout ? "1 1 0 -" : "1 0 0 -";
}

int zkeys_payload(struct store *st, int64_t zone_id, json_t **ret)
{
	struct store_dnssec d;
	*ret = NULL;
	int r = store_dnssec_get(st, zone_id, &d);
	if (r == -ENOENT) {
		/* Never signed, or signed before a delete: either way no keys.
		 * Said rather than left out, which would let a node keep what it
		 * holds: a node that missed the delete of a signed zone receives
		 * the zone created again under its name as the next version of
		 * the signed one. */
		*ret = json_pack("{s:b}", "enabled", 0);
		return *ret ? 0 : -ENOMEM;
	}
	if (r < 0)
		return r;
	json_t *o;
	if (!d.enabled) {
		o = json_pack("{s:b}", "enabled", 0);
	} else {
		json_t *keys = json_array();
		r = keys ? store_dnssec_key_foreach(st, zone_id, add_payload_key, keys) : -ENOMEM;
		o = r == 0 ? json_pack("{s:b,s:s?,s:b,s:o}", "enabled", 1, "nsec3param",
				       zkeys_nsec3param(&d), "publish_cds", 1, "keys", keys)
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

int64_t zkeys_now(const struct whm *w)
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
