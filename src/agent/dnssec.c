#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "backend.h"
#include "base/err.h"
#include "dnssec.h"
#include "json/jsonx.h"
#include "pdns.h"

static const char *const body_keys[] = { "keys", "nsec3param", NULL };
static const char *const key_keys[] = { "keytype", "active", "published", "privatekey", NULL };

/* What identifies a private key whatever PowerDNS does to the file's other
 * lines: the value of "PrivateKey:" (ECDSA, EdDSA) or "Modulus:" (RSA). */
static int key_fingerprint(const char *text, char *out, size_t len)
{
	static const char *const fields[] = { "\nPrivateKey:", "\nModulus:" };
	for (unsigned i = 0; i < 2; i++) {
		const char *p = strstr(text, fields[i]);
		if (p == NULL)
			continue;
		p += strlen(fields[i]);
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, "\r\n");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= len)
			return -EINVAL;
		memcpy(out, p, n);
		out[n] = '\0';
		return 0;
	}
	return -EINVAL;
}

static int check_key(const json_t *k, size_t i, struct errmsg *err)
{
	char path[32];
	const char *type, *priv;
	bool flag;

	snprintf(path, sizeof(path), "keys[%zu]", i);
	if (!json_is_object(k))
		return errmsg_set(err, ERR_INVALID, "%s: must be an object", path);
	int r = jsonx_check_keys(k, key_keys, path, err);
	if (r == 0)
		r = jsonx_get_str(k, "keytype", true, path, &type, err);
	if (r == 0 && strcmp(type, "csk") != 0 && strcmp(type, "ksk") != 0 &&
	    strcmp(type, "zsk") != 0) {
		errmsg_set(err, 0, "%s.keytype: must be csk, ksk or zsk", path);
		r = ERR_INVALID;
	}
	if (r == 0)
		r = jsonx_get_str(k, "privatekey", true, path, &priv, err);
	if (r == 0) {
		char fp[DNSSEC_PRIVATE_KEY_MAX];
		if (strlen(priv) > DNSSEC_PRIVATE_KEY_MAX ||
		    strncmp(priv, "Private-key-format: v1.", 23) != 0 ||
		    key_fingerprint(priv, fp, sizeof(fp)) < 0) {
			errmsg_set(err, 0,
				   "%s.privatekey: must be a private key in ISC (BIND) format",
				   path);
			r = ERR_INVALID;
		}
	}
	for (unsigned f = 0; r == 0 && f < 2; f++) {
		const char *name = f ? "published" : "active";
		r = jsonx_get_bool(k, name, false, path, &flag, err);
		r = r == -ENOENT ? 0 : r;
	}
	return r;
}

static int check_body(const json_t *body, json_t **ret_keys, const char **ret_nsec3,
		      struct errmsg *err)
{
	*ret_keys = NULL;
	*ret_nsec3 = NULL;
	if (body == NULL)
		return 0;
	if (!json_is_object(body))
		return errmsg_set(err, ERR_INVALID, "body must be a JSON object");
	int r = jsonx_check_keys(body, body_keys, "body", err);
	if (r < 0)
		return r;
	json_t *n3 = json_object_get(body, "nsec3param");
	if (n3 != NULL && !json_is_null(n3)) {
		/* RFC 9276: SHA-1, no extra iterations, empty salt; opt-out may be set. */
		const char *v = json_string_value(n3);
		if (v == NULL || (strcmp(v, "1 0 0 -") != 0 && strcmp(v, "1 1 0 -") != 0))
			return errmsg_set(
			    err, ERR_INVALID,
			    "nsec3param: must be \"1 0 0 -\" or, for opt-out, \"1 1 0 -\" "
			    "(RFC 9276)");
		*ret_nsec3 = v;
	}
	r = jsonx_get_array(body, "keys", false, "body", ret_keys, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (json_array_size(*ret_keys) == 0 || json_array_size(*ret_keys) > DNSSEC_KEYS_MAX)
		return errmsg_set(err, ERR_INVALID, "keys: between 1 and %d keys", DNSSEC_KEYS_MAX);
	size_t i;
	json_t *k;
	json_array_foreach(*ret_keys, i, k) {
		r = check_key(k, i, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int upstream_error(int r, const char *what, struct errmsg *err)
{
	char why[256];
	pdns_last_error(why, sizeof(why));
	return errmsg_set(err, r, "%s: %s", what, why);
}

/* Make the zone's keys exactly 'wanted': import what is missing, remove
 * what is not wanted. Keys are matched by their private part. */
static int sync_keys(struct agent *a, const char *zone, json_t *wanted, struct errmsg *err)
{
	json_t *have = NULL;
	char fp[DNSSEC_PRIVATE_KEY_MAX];
	int r = pdns_keys_list(a->pdns, zone, &have);
	if (r < 0)
		return upstream_error(r, "listing keys", err);

	bool *present = calloc(json_array_size(wanted) + 1, sizeof(bool));
	if (present == NULL) {
		json_decref(have);
		return -ENOMEM;
	}
	size_t i, j;
	json_t *hk, *wk;
	json_array_foreach(have, i, hk) {
		long long id = json_integer_value(json_object_get(hk, "id"));
		json_t *full = NULL;
		bool keep = false;
		r = pdns_key_get(a->pdns, zone, id, &full);
		if (r < 0)
			break;
		const char *priv = json_string_value(json_object_get(full, "privatekey"));
		char have_fp[DNSSEC_PRIVATE_KEY_MAX];
		if (priv != NULL && key_fingerprint(priv, have_fp, sizeof(have_fp)) == 0) {
			json_array_foreach(wanted, j, wk) {
				key_fingerprint(
				    json_string_value(json_object_get(wk, "privatekey")), fp,
				    sizeof(fp));
				if (strcmp(fp, have_fp) == 0) {
					keep = present[j] = true;
					break;
				}
			}
		}
		json_decref(full);
		if (!keep && (r = pdns_key_delete(a->pdns, zone, id)) < 0)
			break;
	}
	json_array_foreach(wanted, j, wk) {
		if (r < 0 || present[j])
			continue;
		json_t *k =
		    json_pack("{s:O,s:b,s:b,s:O}", "keytype", json_object_get(wk, "keytype"),
			      "active", !json_is_false(json_object_get(wk, "active")), "published",
			      !json_is_false(json_object_get(wk, "published")), "privatekey",
			      json_object_get(wk, "privatekey"));
		r = k ? pdns_key_add(a->pdns, zone, k) : -ENOMEM;
		json_decref(k);
	}
	free(present);
	json_decref(have);
	return r < 0 ? upstream_error(r, "importing keys", err) : 0;
}

static json_t *describe_keys(const char *zone, json_t *list)
{
	json_t *keys = json_array(), *dnskeys = json_array(), *ds = json_array();
	size_t i, j;
	json_t *k, *d;
	json_array_foreach(list, i, k) {
		json_array_append_new(keys, json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?}",
						      "keytype", json_object_get(k, "keytype"),
						      "active", json_object_get(k, "active"),
						      "published", json_object_get(k, "published"),
						      "algorithm", json_object_get(k, "algorithm"),
						      "flags", json_object_get(k, "flags"),
						      "dnskey", json_object_get(k, "dnskey"), "ds",
						      json_object_get(k, "ds")));
		if (json_is_true(json_object_get(k, "published")))
			json_array_append(dnskeys, json_object_get(k, "dnskey"));
		json_array_foreach(json_object_get(k, "ds"), j, d)
			json_array_append(ds, d);
	}
	return json_pack("{s:b,s:b,s:s,s:o,s:o,s:o}", "success", 1, "enabled", 1, "zone", zone,
			 "keys", keys, "dnskey", dnskeys, "ds", ds);
}

int dnssec_secure(struct agent *a, const char *zone, const json_t *body, json_t **ret,
		  struct errmsg *err)
{
	json_t *wanted, *list = NULL;
	const char *nsec3;
	struct zone_state st;

	int r = check_body(body, &wanted, &nsec3, err);
	if (r < 0)
		return r;
	r = apply_check_pdns(a, err);
	if (r < 0)
		return r;

	pthread_mutex_lock(&a->db_lock);
	r = backend_zone_state(a->db, zone, &st);
	if (r == 0 && !st.exists) {
		errmsg_set(err, 0, "zone is not served by this node");
		r = ERR_NOT_FOUND;
		goto out;
	}
	if (wanted != NULL) {
		r = sync_keys(a, zone, wanted, err);
	} else {
		r = pdns_keys_list(a->pdns, zone, &list);
		if (r == 0 && json_array_size(list) == 0) {
			json_t *k = json_pack("{s:s,s:b,s:b,s:s}", "keytype", "csk", "active", 1,
					      "published", 1, "algorithm", "ecdsa256");
			r = pdns_key_add(a->pdns, zone, k);
			json_decref(k);
		}
		json_decref(list);
		list = NULL;
		if (r < 0)
			r = upstream_error(r, "generating a key", err);
	}
	if (r == 0) {
		json_t *s = json_pack("{s:s}", "nsec3param", nsec3 ? nsec3 : "");
		r = pdns_zone_put(a->pdns, zone, s);
		json_decref(s);
		if (r < 0)
			r = upstream_error(r, "setting nsec3param", err);
	}
	if (r == 0 && (r = pdns_rectify(a->pdns, zone)) < 0)
		r = upstream_error(r, "rectifying", err);
	if (r == 0 && (r = pdns_flush(a->pdns, zone)) < 0)
		r = upstream_error(r, "purging caches", err);
	if (r == 0 && (r = pdns_keys_list(a->pdns, zone, &list)) < 0)
		r = upstream_error(r, "listing keys", err);
out:
	pthread_mutex_unlock(&a->db_lock);
	if (r < 0)
		return r;
	*ret = describe_keys(zone, list);
	json_decref(list);
	return *ret ? 0 : -ENOMEM;
}

/* --- the controller's key set, carried by pushes ------------------------- */

#define DIGEST_KIND "X-YUMNA-DNSSEC"
/* The digest of the keys and NSEC3 parameters the zone held once written
 * (held_digest()), so that verification finds them changed behind the
 * agent. */
#define HELD_KIND "X-YUMNA-DNSSEC-HELD"
#define TYPE_RRSIG 46
#define TYPE_NSEC3 50
#define TYPE_NSEC3PARAM 51
#define FLAGS_KSK 257
#define FLAGS_ZSK 256

/* SHA-256 (hex) of the public view of 'cfg' (private parts left out): what
 * the node last made PowerDNS serve, kept in the zone's metadata, so that a
 * push that changes only records costs one metadata read. */
static int cfg_digest(const json_t *cfg, char out[65])
{
	unsigned char d[32];
	json_t *v = json_deep_copy(cfg);
	size_t i;
	json_t *k;
	if (v == NULL)
		return -ENOMEM;
	json_array_foreach(json_object_get(v, "keys"), i, k)
		json_object_del(k, "privatekey");
	char *t = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(v);
	if (t == NULL)
		return -ENOMEM;
	int r = gnutls_hash_fast(GNUTLS_DIG_SHA256, t, strlen(t), d);
	free(t);
	if (r < 0)
		return -EIO;
	for (size_t j = 0; j < 32; j++)
		snprintf(out + 2 * j, 3, "%02x", d[j]);
	return 0;
}

static bool flag_of(const json_t *k, const char *name)
{
	return !json_is_false(json_object_get(k, name));
}

static unsigned flags_of(const json_t *k)
{
	const char *t = json_string_value(json_object_get(k, "keytype"));
	return t != NULL && strcmp(t, "zsk") == 0 ? FLAGS_ZSK : FLAGS_KSK;
}

static int b64_decode(const char *text, size_t len, gnutls_datum_t *out)
{
	gnutls_datum_t in = { (unsigned char *)text, (unsigned)len };
	out->data = NULL;
	return gnutls_base64_decode2(&in, out) < 0 ? -EINVAL : 0;
}

/* Whether the ISC private key 'priv' is a valid key of the algorithm of the
 * DNSKEY RDATA 'dnskey' (ECDSA P-256 or Ed25519, model.c checked its
 * shape) and is the private half of it: PowerDNS would refuse the first,
 * and serve another DNSKEY than the controller published for the second. */
static bool key_pair_ok(const char *priv, const char *dnskey)
{
	unsigned flags, proto, alg, isc_alg;
	int used = 0;
	char fp[DNSSEC_PRIVATE_KEY_MAX];
	const char *a = strstr(priv, "\nAlgorithm:");
	/* A wrapped number in either only makes the pair mismatch. */
	/* NOLINTBEGIN(cert-err34-c) */
	if (sscanf(dnskey, "%u %u %u %n", &flags, &proto, &alg, &used) != 3 || used == 0 ||
	    a == NULL || sscanf(a + 11, "%u", &isc_alg) != 1 || isc_alg != alg ||
	    key_fingerprint(priv, fp, sizeof(fp)) < 0)
		return false;
	/* NOLINTEND(cert-err34-c) */
	gnutls_datum_t pub, k;
	if (b64_decode(dnskey + used, strlen(dnskey + used), &pub) < 0)
		return false;
	bool ok = false;
	gnutls_privkey_t key = NULL;
	if (b64_decode(fp, strlen(fp), &k) == 0) {
		bool ed = alg == 15;
		gnutls_datum_t x = { pub.data, ed ? pub.size : pub.size / 2 };
		gnutls_datum_t y = { pub.data + pub.size / 2, pub.size / 2 };
		ok = k.size == 32 && pub.size == (ed ? 32u : 64u) &&
		     gnutls_privkey_init(&key) == 0 &&
		     gnutls_privkey_import_ecc_raw(
			 key, ed ? GNUTLS_ECC_CURVE_ED25519 : GNUTLS_ECC_CURVE_SECP256R1, &x,
			 ed ? NULL : &y, &k) == 0 &&
		     gnutls_privkey_verify_params(key) == 0;
		gnutls_memset(k.data, 0, k.size);
		gnutls_free(k.data);
	}
	gnutls_privkey_deinit(key);
	explicit_bzero(fp, sizeof(fp));
	gnutls_free(pub.data);
	return ok;
}

int dnssec_check(const json_t *cfg, struct errmsg *err)
{
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(cfg, "keys"), i, k) {
		if (!key_pair_ok(json_string_value(json_object_get(k, "privatekey")),
				 json_string_value(json_object_get(k, "dnskey")))) {
			errmsg_set(
			    err, 0,
			    "importing keys: keys[%zu].privatekey is not a valid private key "
			    "of its dnskey",
			    i);
			return ERR_UPSTREAM;
		}
	}
	return 0;
}

/* The zone's keys as the backend holds them (copies). */
struct key_rows {
	struct backend_key *v;
	size_t n;
};

static int collect_key(const struct backend_key *k, void *ctx)
{
	struct key_rows *l = ctx;
	struct backend_key *w = realloc(l->v, (l->n + 1) * sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	l->v = w;
	l->v[l->n] = *k;
	l->v[l->n].content = strdup(k->content);
	return l->v[l->n].content != NULL ? (l->n++, 0) : -ENOMEM;
}

static void key_rows_free(struct key_rows *l)
{
	for (size_t i = 0; i < l->n; i++) {
		explicit_bzero((char *)l->v[i].content, strlen(l->v[i].content));
		free((char *)l->v[i].content);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Make the zone's keys exactly 'wanted': a key is kept when its private
 * part and flags match a wanted one (and its active and published flags are
 * set right), added when none does, removed when it is not wanted. */
static int write_keys(struct backend *db, const char *zone, const json_t *wanted,
		      struct key_rows *have)
{
	char fp[DNSSEC_PRIVATE_KEY_MAX], have_fp[DNSSEC_PRIVATE_KEY_MAX];
	bool *keep = calloc(have->n + 1, sizeof(*keep));
	size_t i, j;
	json_t *wk;
	int r = keep ? 0 : -ENOMEM;
	json_array_foreach(wanted, j, wk) {
		const char *priv = json_string_value(json_object_get(wk, "privatekey"));
		struct backend_key k = { 0, flags_of(wk), flag_of(wk, "active"),
					 flag_of(wk, "published"), priv };
		bool found = false;
		if (r < 0)
			break;
		key_fingerprint(priv, fp, sizeof(fp));
		for (i = 0; i < have->n && !found; i++) {
			const struct backend_key *h = &have->v[i];
			found = !keep[i] && h->flags == k.flags && h->active == k.active &&
				h->published == k.published &&
				key_fingerprint(h->content, have_fp, sizeof(have_fp)) == 0 &&
				strcmp(fp, have_fp) == 0;
			keep[i] = keep[i] || found;
		}
		if (!found)
			r = backend_key_add(db, zone, &k);
	}
	for (i = 0; r == 0 && i < have->n; i++)
		if (!keep[i])
			r = backend_key_delete(db, have->v[i].id);
	explicit_bzero(fp, sizeof(fp));
	explicit_bzero(have_fp, sizeof(have_fp));
	free(keep);
	return r;
}

static int cmp_text(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* SHA-256 (hex) of what the zone holds of its keys (flags, active,
 * published, the private key's identifying field) and its NSEC3PARAM
 * metadata, in an order of their own. */
static int held_digest(struct backend *db, const char *zone, char out[65])
{
	struct key_rows have = { 0 };
	char nsec3[256] = "", fp[DNSSEC_PRIVATE_KEY_MAX];
	unsigned char d[32];
	char **lines = NULL;
	gnutls_hash_hd_t h = NULL;
	int r = backend_zone_keys(db, zone, collect_key, &have);
	if (r == 0 &&
	    (r = backend_meta_get(db, zone, "NSEC3PARAM", nsec3, sizeof(nsec3))) == -ENOENT)
		r = 0;
	if (r == 0 && (lines = calloc(have.n + 1, sizeof(*lines))) == NULL)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < have.n; i++) {
		const struct backend_key *k = &have.v[i];
		if (key_fingerprint(k->content, fp, sizeof(fp)) < 0)
			snprintf(fp, sizeof(fp), "?");
		if (asprintf(&lines[i], "%u %d %d %s\n", k->flags, k->active, k->published, fp) <
		    0) {
			lines[i] = NULL;
			r = -ENOMEM;
		}
	}
	if (r == 0 && have.n > 1)
		qsort(lines, have.n, sizeof(*lines), cmp_text);
	if (r == 0 && gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		r = -EIO;
	for (size_t i = 0; r == 0 && i < have.n; i++)
		gnutls_hash(h, lines[i], strlen(lines[i]));
	if (r == 0) {
		gnutls_hash(h, nsec3, strlen(nsec3));
		gnutls_hash_deinit(h, d);
		for (size_t j = 0; j < 32; j++)
			snprintf(out + 2 * j, 3, "%02x", d[j]);
	}
	for (size_t i = 0; lines != NULL && i < have.n; i++) {
		if (lines[i] != NULL)
			explicit_bzero(lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	free(lines);
	explicit_bzero(fp, sizeof(fp));
	key_rows_free(&have);
	return r;
}

int dnssec_verify(struct backend *db, const char *zone, bool write)
{
	char want[65], held[65], cfg[65];
	int r = backend_meta_get(db, zone, DIGEST_KIND, cfg, sizeof(cfg));
	if (r == -ENOENT) {
		/* Unsigned here: any key is one written behind the agent. */
		struct key_rows have = { 0 };
		r = backend_zone_keys(db, zone, collect_key, &have);
		bool any = have.n > 0;
		key_rows_free(&have);
		return r < 0 ? r : any ? DNSSEC_DRIFTED : 0;
	}
	if (r == 0)
		r = held_digest(db, zone, held);
	if (r < 0)
		return r;
	r = backend_meta_get(db, zone, HELD_KIND, want, sizeof(want));
	if (r == -ENOENT) { /* written before this was kept: kept from now */
		r = write ? backend_meta_set(db, zone, HELD_KIND, held) : 0;
		return r < 0 ? r : DNSSEC_UNRECORDED;
	}
	if (r < 0 || strcmp(want, held) == 0)
		return r;
	/* The next push writes the keys again. */
	r = write ? backend_meta_set(db, zone, DIGEST_KIND, NULL) : 0;
	if (r == 0 && write)
		r = backend_meta_set(db, zone, HELD_KIND, NULL);
	return r < 0 ? r : DNSSEC_DRIFTED;
}

/* NSEC3 parameters as PowerDNS's API sets them (NSEC3NARROW never set). */
static int write_nsec3(struct backend *db, const char *zone, const char *nsec3param)
{
	int r = backend_meta_set(db, zone, "NSEC3PARAM", nsec3param);
	return r == 0 ? backend_meta_set(db, zone, "NSEC3NARROW", NULL) : r;
}

static int unsign(struct agent *a, const char *zone, bool *changed)
{
	char digest[65];
	struct key_rows have = { 0 };
	int r = backend_zone_keys(a->db, zone, collect_key, &have);
	int d = r == 0 ? backend_meta_get(a->db, zone, DIGEST_KIND, digest, sizeof(digest)) : 0;
	if (r == 0 && d < 0 && d != -ENOENT)
		r = d;
	*changed = r == 0 && (have.n > 0 || d == 0);
	for (size_t i = 0; *changed && r == 0 && i < have.n; i++)
		r = backend_key_delete(a->db, have.v[i].id);
	if (*changed && r == 0)
		r = write_nsec3(a->db, zone, NULL);
	static const char *const kinds[] = { "PUBLISH-CDS", "PUBLISH-CDNSKEY", DIGEST_KIND,
					     HELD_KIND };
	for (unsigned i = 0; *changed && r == 0 && i < 4; i++)
		r = backend_meta_set(a->db, zone, kinds[i], NULL);
	key_rows_free(&have);
	return r;
}

int dnssec_write(struct agent *a, const char *zone, const json_t *cfg, bool *ret_changed,
		 struct errmsg *err)
{
	char digest[65], have_digest[65];
	struct key_rows have = { 0 };

	*ret_changed = false;
	int r = json_is_true(json_object_get(cfg, "enabled")) ? cfg_digest(cfg, digest)
							      : unsign(a, zone, ret_changed);
	if (r < 0 || !json_is_true(json_object_get(cfg, "enabled")))
		goto out;
	r = backend_meta_get(a->db, zone, DIGEST_KIND, have_digest, sizeof(have_digest));
	if (r == 0 && strcmp(have_digest, digest) == 0)
		goto out;
	r = r == -ENOENT || r == ERR_TOO_LARGE ? 0 : r;
	if (r == 0)
		r = backend_zone_keys(a->db, zone, collect_key, &have);
	if (r == 0)
		r = write_keys(a->db, zone, json_object_get(cfg, "keys"), &have);
	if (r == 0)
		r = write_nsec3(a->db, zone, json_string_value(json_object_get(cfg, "nsec3param")));
	/* RFC 7344: CDS with SHA-256 digests (type 2) and CDNSKEY. A managed
	 * PowerDNS publishes them for every signed zone by its configuration
	 * (default-publish-cds, default-publish-cdnskey); elsewhere per zone. */
	bool cds = flag_of(cfg, "publish_cds"), per_zone = !(cds && agent_is_managed(a));
	if (r == 0)
		r = backend_meta_set(a->db, zone, "PUBLISH-CDS", per_zone && cds ? "2" : NULL);
	if (r == 0)
		r = backend_meta_set(a->db, zone, "PUBLISH-CDNSKEY", per_zone && cds ? "1" : NULL);
	if (r == 0)
		r = backend_meta_set(a->db, zone, DIGEST_KIND, digest);
	char held[65];
	if (r == 0)
		r = held_digest(a->db, zone, held);
	if (r == 0)
		r = backend_meta_set(a->db, zone, HELD_KIND, held);
	*ret_changed = r == 0;
out:
	key_rows_free(&have);
	if (r < 0)
		errmsg_set(err, 0, "writing keys: %s", err_str(r));
	return r;
}

/* The flags field of NSEC3 or NSEC3PARAM content 'rdata' ("alg flags
 * iterations salt ..."), with the algorithm in *ret_alg and in *ret_rest
 * where the iterations start; -1 when it is not there. */
static long nsec3_flags(const char *rdata, unsigned long *ret_alg, const char **ret_rest)
{
	char *end;
	*ret_alg = strtoul(rdata, &end, 10);
	if (end == rdata || *end != ' ')
		return -1;
	const char *p = end + 1;
	unsigned long flags = strtoul(p, &end, 10);
	if (end == p || *end != ' ' || flags > 255)
		return -1;
	*ret_rest = end + 1;
	return (long)flags;
}

/* Whether NSEC3 content 'rdata' has the opt-out flag (RFC 5155 section
 * 3.1.2). */
static bool nsec3_opt_out(const char *rdata)
{
	const char *rest;
	unsigned long alg;
	long flags = nsec3_flags(rdata, &alg, &rest);
	return flags > 0 && (flags & 1) != 0;
}

int dnssec_presigned_write(struct agent *a, const struct backend_zone *z, bool existed)
{
	const char *one = "1", *nsec3param = NULL;
	bool presigned = false, opt_out = false;
	char meta[640]; /* a salt of 255 octets is 510 hex digits */

	for (size_t i = 0; i < z->n; i++) {
		presigned = presigned || z->rrs[i].type == TYPE_RRSIG;
		if (z->rrs[i].type == TYPE_NSEC3PARAM && strcmp(z->rrs[i].owner, z->origin) == 0)
			nsec3param = z->rrs[i].content;
		if (z->rrs[i].type == TYPE_NSEC3)
			opt_out = opt_out || nsec3_opt_out(z->rrs[i].content);
	}
	/* PowerDNS writes the flags of its NSEC3 answers from the metadata,
	 * where flag 1 means opt-out (the NSEC3PARAM record itself keeps 0):
	 * an opt-out chain's records, whose signatures cover that flag, are
	 * served as signed only so. */
	const char *meta_nsec3 = nsec3param, *rest;
	unsigned long alg;
	if (nsec3param != NULL && opt_out && nsec3_flags(nsec3param, &alg, &rest) >= 0) {
		snprintf(meta, sizeof(meta), "%lu 1 %s", alg, rest);
		meta_nsec3 = meta;
	}
	/* A zone that never was presigned has nothing to take back. */
	if (!presigned && !existed)
		return 1;
	int same = backend_meta_set_list(a->db, z->origin, "PRESIGNED", presigned ? &one : NULL,
					 presigned);
	/* PowerDNS answers a presigned zone with NSEC3 proofs when its
	 * NSEC3PARAM metadata names the primary's parameters, NSEC without. A
	 * zone the controller signs has its own (dnssec_write()). */
	if (same >= 0 && (presigned || nsec3param != NULL)) {
		int r = backend_meta_set_list(a->db, z->origin, "NSEC3PARAM",
					      meta_nsec3 ? &meta_nsec3 : NULL, meta_nsec3 != NULL);
		same = r < 0 ? r : same && r;
	}
	/* PowerDNS rectifies no presigned zone: the chain's order is
	 * written here. */
	if (same >= 0 && presigned) {
		int r = backend_zone_ordernames(a->db, z, nsec3param);
		same = r < 0 ? r : same;
	}
	return same;
}
