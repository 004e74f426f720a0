#include <errno.h>
#include <gnutls/crypto.h>
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

static int check_key(const json_t *k, size_t i, char *err)
{
	char path[32];
	const char *type, *priv;
	bool flag;

	snprintf(path, sizeof(path), "keys[%zu]", i);
	if (!json_is_object(k)) {
		snprintf(err, DNSSEC_ERR_MAX, "%s: must be an object", path);
		return ERR_INVALID;
	}
	int r = jsonx_check_keys(k, key_keys, path, err);
	if (r == 0)
		r = jsonx_get_str(k, "keytype", true, path, &type, err);
	if (r == 0 && strcmp(type, "csk") != 0 && strcmp(type, "ksk") != 0 &&
	    strcmp(type, "zsk") != 0) {
		snprintf(err, DNSSEC_ERR_MAX, "%s.keytype: must be csk, ksk or zsk", path);
		r = ERR_INVALID;
	}
	if (r == 0)
		r = jsonx_get_str(k, "privatekey", true, path, &priv, err);
	if (r == 0) {
		char fp[DNSSEC_PRIVATE_KEY_MAX];
		if (strlen(priv) > DNSSEC_PRIVATE_KEY_MAX ||
		    strncmp(priv, "Private-key-format: v1.", 23) != 0 ||
		    key_fingerprint(priv, fp, sizeof(fp)) < 0) {
			snprintf(err, DNSSEC_ERR_MAX,
				 "%s.privatekey: must be a private key in ISC (BIND) format", path);
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

static int check_body(const json_t *body, json_t **ret_keys, const char **ret_nsec3, char *err)
{
	*ret_keys = NULL;
	*ret_nsec3 = NULL;
	if (body == NULL)
		return 0;
	if (!json_is_object(body)) {
		snprintf(err, DNSSEC_ERR_MAX, "body must be a JSON object");
		return ERR_INVALID;
	}
	int r = jsonx_check_keys(body, body_keys, "body", err);
	if (r < 0)
		return r;
	json_t *n3 = json_object_get(body, "nsec3param");
	if (n3 != NULL && !json_is_null(n3)) {
		/* RFC 9276: SHA-1, no extra iterations, empty salt; opt-out may be set. */
		const char *v = json_string_value(n3);
		if (v == NULL || (strcmp(v, "1 0 0 -") != 0 && strcmp(v, "1 1 0 -") != 0)) {
			snprintf(err, DNSSEC_ERR_MAX,
				 "nsec3param: must be \"1 0 0 -\" or, for opt-out, \"1 1 0 -\" "
				 "(RFC 9276)");
			return ERR_INVALID;
		}
		*ret_nsec3 = v;
	}
	r = jsonx_get_array(body, "keys", false, "body", ret_keys, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (json_array_size(*ret_keys) == 0 || json_array_size(*ret_keys) > DNSSEC_KEYS_MAX) {
		snprintf(err, DNSSEC_ERR_MAX, "keys: between 1 and %d keys", DNSSEC_KEYS_MAX);
		return ERR_INVALID;
	}
	size_t i;
	json_t *k;
	json_array_foreach(*ret_keys, i, k) {
		r = check_key(k, i, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int upstream_error(int r, const char *what, char *err)
{
	char why[256];
	pdns_last_error(why, sizeof(why));
	snprintf(err, DNSSEC_ERR_MAX, "%s: %s", what, why);
	return r == -ENOENT ? ERR_NOT_FOUND : r;
}

/* Make the zone's keys exactly 'wanted': import what is missing, remove
 * what is not wanted. Keys are matched by their private part. */
static int sync_keys(struct agent *a, const char *zone, json_t *wanted, char *err)
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

int dnssec_secure(struct agent *a, const char *zone, const json_t *body, json_t **ret, char *err)
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
		snprintf(err, DNSSEC_ERR_MAX, "zone is not served by this node");
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

/* Import the wanted keys PowerDNS lacks, fix flags, then remove the rest
 * (in that order, so the zone is never without a key on the way). */
static int apply_keys(struct agent *a, const char *zone, const json_t *wanted, bool *had_keys,
		      char *err)
{
	json_t *have = NULL;
	int r = pdns_keys_list(a->pdns, zone, &have);
	if (r < 0)
		return upstream_error(r, "listing keys", err);
	*had_keys = json_array_size(have) > 0;
	size_t nw = json_array_size(wanted), i, j;
	long long *match = calloc(nw + 1, sizeof(*match)); /* PowerDNS id + 1, 0: none */
	bool *keep = calloc(json_array_size(have) + 1, sizeof(*keep));
	json_t *hk, *wk;
	if (match == NULL || keep == NULL) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(wanted, j, wk) {
		const char *dk = json_string_value(json_object_get(wk, "dnskey"));
		const char *kt = json_string_value(json_object_get(wk, "keytype"));
		json_array_foreach(have, i, hk) {
			const char *hd = json_string_value(json_object_get(hk, "dnskey"));
			const char *ht = json_string_value(json_object_get(hk, "keytype"));
			if (!keep[i] && hd && ht && strcmp(hd, dk) == 0 && strcmp(ht, kt) == 0) {
				keep[i] = true;
				match[j] = json_integer_value(json_object_get(hk, "id")) + 1;
				bool act = flag_of(wk, "active"), pub = flag_of(wk, "published");
				if (act != json_is_true(json_object_get(hk, "active")) ||
				    pub != json_is_true(json_object_get(hk, "published")))
					r = pdns_key_set(a->pdns, zone, match[j] - 1, act, pub);
				break;
			}
		}
		if (r < 0)
			goto out;
	}
	json_array_foreach(wanted, j, wk) {
		if (match[j] != 0)
			continue;
		json_t *k = json_pack("{s:O,s:b,s:b,s:O}", "keytype",
				      json_object_get(wk, "keytype"), "active",
				      flag_of(wk, "active"), "published", flag_of(wk, "published"),
				      "privatekey", json_object_get(wk, "privatekey"));
		r = k ? pdns_key_add(a->pdns, zone, k) : -ENOMEM;
		json_decref(k);
		if (r < 0)
			goto out;
	}
	json_array_foreach(have, i, hk) {
		if (keep[i])
			continue;
		r = pdns_key_delete(a->pdns, zone, json_integer_value(json_object_get(hk, "id")));
		if (r < 0)
			goto out;
	}
out:
	free(match);
	free(keep);
	json_decref(have);
	return r < 0 && r != -ENOMEM ? upstream_error(r, "importing keys", err) : r;
}

static int set_meta(struct agent *a, const char *zone, const char *kind, const char *value)
{
	if (value == NULL) {
		int r = pdns_metadata_delete(a->pdns, zone, kind);
		return r == -ENOENT ? 0 : r;
	}
	json_t *v = json_pack("[s]", value);
	int r = v ? pdns_metadata_set(a->pdns, zone, kind, v) : -ENOMEM;
	json_decref(v);
	return r;
}

static int unsign(struct agent *a, const char *zone, char *err)
{
	json_t *have = NULL, *digest = NULL;
	int r = pdns_keys_list(a->pdns, zone, &have);
	if (r == 0)
		r = pdns_metadata_get(a->pdns, zone, DIGEST_KIND, &digest);
	if (r < 0) {
		json_decref(have);
		return upstream_error(r, "reading keys", err);
	}
	bool work = json_array_size(have) > 0 || json_array_size(digest) > 0;
	json_decref(digest);
	if (work && json_array_size(have) > 0) {
		json_t *s = json_pack("{s:s}", "nsec3param", "");
		r = pdns_zone_put(a->pdns, zone, s);
		json_decref(s);
	}
	size_t i;
	json_t *hk;
	json_array_foreach(have, i, hk) {
		if (r == 0)
			r = pdns_key_delete(a->pdns, zone,
					    json_integer_value(json_object_get(hk, "id")));
	}
	json_decref(have);
	if (work && r == 0)
		r = set_meta(a, zone, "PUBLISH-CDS", NULL);
	if (work && r == 0)
		r = set_meta(a, zone, "PUBLISH-CDNSKEY", NULL);
	if (work && r == 0)
		r = set_meta(a, zone, DIGEST_KIND, NULL);
	return r < 0 ? upstream_error(r, "removing keys", err) : 0;
}

int dnssec_apply(struct agent *a, const char *zone, const json_t *cfg, char *err)
{
	char digest[65];
	json_t *have = NULL;

	if (!json_is_true(json_object_get(cfg, "enabled")))
		return unsign(a, zone, err);
	int r = cfg_digest(cfg, digest);
	if (r < 0) {
		snprintf(err, DNSSEC_ERR_MAX, "digest: %s", err_str(r));
		return r;
	}
	r = pdns_metadata_get(a->pdns, zone, DIGEST_KIND, &have);
	if (r < 0)
		return upstream_error(r, "reading metadata", err);
	bool same = json_array_size(have) == 1 &&
		    strcmp(json_string_value(json_array_get(have, 0)) ?: "", digest) == 0;
	json_decref(have);
	if (same)
		return 0;

	bool had_keys = false;
	r = apply_keys(a, zone, json_object_get(cfg, "keys"), &had_keys, err);
	if (r < 0)
		return r;
	/* A zone that had no keys has no NSEC3 parameters either (they are
	 * cleared before keys are removed): NSEC needs no call then. */
	const char *n3 = json_string_value(json_object_get(cfg, "nsec3param"));
	if (n3 != NULL || had_keys) {
		json_t *s = json_pack("{s:s}", "nsec3param", n3 ? n3 : "");
		r = s ? pdns_zone_put(a->pdns, zone, s) : -ENOMEM;
		json_decref(s);
		if (r < 0)
			return upstream_error(r, "setting nsec3param", err);
	}
	/* RFC 7344: CDS with SHA-256 digests (type 2) and CDNSKEY. A managed
	 * PowerDNS publishes them for every signed zone by its configuration
	 * (default-publish-cds, default-publish-cdnskey); elsewhere per zone. */
	bool cds = flag_of(cfg, "publish_cds");
	if (!(cds && agent_is_managed(a))) {
		r = set_meta(a, zone, "PUBLISH-CDS", cds ? "2" : NULL);
		if (r == 0)
			r = set_meta(a, zone, "PUBLISH-CDNSKEY", cds ? "1" : NULL);
	}
	if (r == 0)
		r = set_meta(a, zone, DIGEST_KIND, digest);
	return r < 0 ? upstream_error(r, "setting metadata", err) : 0;
}
