/* PowerDNS's cryptokeys routes over the zone's one key set, the same on
 * every node. The controller's key authority (dnssec.h) makes and retires
 * keys: creating a key signs an unsigned zone (with one combined signing
 * key, as PowerDNS does for a lone KSK), deleting the only key unsigns it,
 * and a key changes later only by rollover (POST /api/dns/:id/dnssec/
 * rollover), so other changes are refused with what to do instead.
 * Private keys are never returned. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "api_pdns.h"
#include "base/err.h"
#include "dnssec.h"
#include "json/jsonx.h"
#include "zkeys.h"

/* A key as PowerDNS shows one; its DS (digest type 2, SHA-256) for a KSK
 * or CSK, in lowercase hex as PowerDNS writes it. */
static json_t *key_json(const char *zone, const struct store_dnssec_key *k)
{
	char ds[256];
	json_t *dss = json_array();

	if (dss != NULL && k->flags == FLAGS_KSK &&
	    zkeys_ds_text(zone, k->dnskey, ds, sizeof(ds)) == 0) {
		for (char *p = ds; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		json_array_append_new(dss, json_string(ds));
	}
	return json_pack("{s:s,s:I,s:b,s:b,s:s,s:I,s:s,s:s,s:i,s:o}", "type", "Cryptokey", "id",
			 (json_int_t)k->id, "active", k->active, "published", k->published,
			 "keytype", k->keytype, "flags", (json_int_t)k->flags, "dnskey", k->dnskey,
			 "algorithm", zkeys_alg_name(k->algorithm), "bits", 256, "ds", dss);
}

struct keys_ctx {
	const char *zone;
	int64_t only; /* one key's id, or 0 for all */
	json_t *keys;
	size_t count; /* every key of the zone */
};

static int collect_key(const struct store_dnssec_key *k, void *arg)
{
	struct keys_ctx *c = arg;

	c->count++;
	if (c->only != 0 && k->id != c->only)
		return 0;
	json_t *o = key_json(c->zone, k);
	return o != NULL && json_array_append_new(c->keys, o) == 0 ? 0 : -ENOMEM;
}

/* The zone of path parameter 1 and its keys (those of id 'only', or all)
 * into 'c'; 0, or an error answered. The caller clears *z and c->keys. */
static int zone_keys(struct http_request *req, struct http_reply *rep, struct whm *w, int64_t only,
		     struct store_zone *z, struct keys_ctx *c)
{
	struct store *st;

	if (!api_pdns_our_server(req, rep) || (st = api_store(w, rep)) == NULL)
		return ERR_NOT_FOUND;
	int r = api_pdns_path_zone(req, rep, st, z);
	if (r < 0)
		return r;
	*c = (struct keys_ctx){ .zone = z->domain, .only = only, .keys = json_array() };
	r = c->keys != NULL ? store_dnssec_key_foreach(st, z->id, collect_key, c) : -ENOMEM;
	if (r < 0) {
		http_reply_error(rep, r, "cannot read the zone's keys");
		json_decref(c->keys);
		store_zone_clear(z);
	}
	return r;
}

/* GET .../zones/:zone/cryptokeys */
void api_pdns_keys_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store_zone z;
	struct keys_ctx c;

	if (zone_keys(req, rep, ctx, 0, &z, &c) < 0)
		return;
	http_reply_json(rep, 200, c.keys);
	store_zone_clear(&z);
}

/* The key of path parameter 2 on its own: 0 with *ret (taken), or an
 * error answered (404 for no such key of this zone). */
static int one_key(struct http_request *req, struct http_reply *rep, struct whm *w,
		   struct store_zone *z, struct keys_ctx *c, json_t **ret)
{
	int64_t id;

	if (api_path_id(req, rep, 2, &id) < 0)
		return ERR_INVALID;
	int r = zone_keys(req, rep, w, id, z, c);
	if (r < 0)
		return r;
	*ret = json_incref(json_array_get(c->keys, 0));
	json_decref(c->keys);
	if (*ret == NULL) {
		http_reply_error(rep, ERR_NOT_FOUND, "Not Found");
		store_zone_clear(z);
		return ERR_NOT_FOUND;
	}
	return 0;
}

/* GET .../zones/:zone/cryptokeys/:key, without its private key. */
void api_pdns_key_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store_zone z;
	struct keys_ctx c;
	json_t *key;

	if (one_key(req, rep, ctx, &z, &c, &key) == 0) {
		http_reply_json(rep, 200, key);
		store_zone_clear(&z);
	}
}

/* The algorithm a creation asks for, as PowerDNS names them, or 13. */
static int key_algorithm(const json_t *v, uint32_t *ret, struct errmsg *err)
{
	static const struct {
		const char *name;
		uint32_t alg;
	} names[] = { { "ecdsa256", ALG_ECDSAP256 },
		      { "ecdsap256sha256", ALG_ECDSAP256 },
		      { "13", ALG_ECDSAP256 },
		      { "ed25519", ALG_ED25519 },
		      { "15", ALG_ED25519 } };

	*ret = ALG_ECDSAP256;
	if (v == NULL)
		return 0;
	if (json_is_integer(v) &&
	    (json_integer_value(v) == ALG_ECDSAP256 || json_integer_value(v) == ALG_ED25519)) {
		*ret = (uint32_t)json_integer_value(v);
		return 0;
	}
	for (size_t i = 0; json_is_string(v) && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(json_string_value(v), names[i].name) == 0) {
			*ret = names[i].alg;
			return 0;
		}
	}
	return errmsg_set(err, ERR_INVALID,
			  "algorithm: the cluster signs with ECDSAP256SHA256 (13) or ED25519 (15)");
}

/* A creation's body, checked: what PowerDNS takes that the cluster can do;
 * *isc is the private key it imports (from field *field), or NULL. */
static int creation(const json_t *b, uint32_t *alg, const char **isc, const char **field,
		    struct errmsg *err)
{
	const char *keytype = NULL;
	const char *import = "privatekey";
	json_t *bits = json_object_get(b, "bits");
	json_t *key = json_object_get(b, import);
	int r = jsonx_get_str(b, "keytype", false, "body", &keytype, err);

	if (r == -ENOENT)
		return errmsg_set(err, ERR_INVALID, "Key 'keytype' not present or not a String");
	if (r < 0)
		return r;
	if (strcasecmp(keytype, "zsk") == 0)
		return errmsg_set(
		    err, ERR_INVALID,
		    "keytype: a zone is signed with a KSK or CSK first; ZSKs come and "
		    "go by rollover (POST /api/dns/:id/dnssec/rollover)");
	if (strcasecmp(keytype, "ksk") != 0 && strcasecmp(keytype, "csk") != 0)
		return errmsg_set(err, ERR_INVALID, "keytype: ksk, zsk or csk");
	/* PowerDNS reads an import from "content" when "privatekey" is null
	 * or absent, as older clients send it. */
	if (key == NULL || json_is_null(key))
		key = json_object_get(b, import = "content");
	*isc = NULL;
	if (key != NULL && !json_is_null(key) && !json_is_string(key))
		return errmsg_set(err, ERR_INVALID, "%s: must be a string", import);
	if (key != NULL && !json_is_null(key))
		*isc = json_string_value(key);
	*field = import;
	const json_t *alg_in = json_object_get(b, "algorithm");
	if (*isc != NULL &&
	    ((alg_in != NULL && !json_is_null(alg_in)) || (bits != NULL && !json_is_null(bits))))
		return errmsg_set(err, ERR_INVALID,
				  "Either you submit just the 'privatekey' field or you leave "
				  "'privatekey' empty and submit the other fields.");
	if (json_is_false(json_object_get(b, "active")) ||
	    json_is_false(json_object_get(b, "published")))
		return errmsg_set(err, ERR_INVALID,
				  "active, published: a new key signs and is published at once "
				  "here; keys that wait are made by rollover");
	if (bits != NULL && !(json_is_integer(bits) &&
			      (json_integer_value(bits) == 0 || json_integer_value(bits) == 256)))
		return errmsg_set(err, ERR_INVALID, "bits: the cluster's keys have 256");
	return key_algorithm(json_object_get(b, "algorithm"), alg, err);
}

/* POST .../zones/:zone/cryptokeys {"keytype": "ksk"|"csk", "active",
 * "published", "algorithm", "privatekey"}: sign the unsigned zone with one
 * CSK, made here or imported (the ISC text in "privatekey", or "content");
 * 201 with it. A signed zone is a 422: its keys change by rollover. */
void api_pdns_key_create(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store_zone z;
	struct keys_ctx c;
	struct zone_result res;
	struct errmsg err = { "" };
	uint32_t alg = ALG_ECDSAP256;
	json_t *b, *view = NULL;

	if (!api_may_write(req, rep) || api_body_object(req, rep, &b) < 0)
		return;
	if (zone_keys(req, rep, w, 0, &z, &c) < 0) {
		json_decref(b);
		return;
	}
	const char *isc = NULL, *field = NULL;
	struct store_dnssec_key given = { 0 };
	struct errmsg why;
	int r = creation(b, &alg, &isc, &field, &err);
	if (r == 0 && json_array_size(c.keys) > 0)
		r = errmsg_set(&err, ERR_INVALID,
			       "the zone is signed: its keys change by rollover (POST "
			       "/api/dns/%lld/dnssec/rollover), the same on every node",
			       (long long)z.id);
	json_decref(c.keys);
	/* An imported key signs as the zone's CSK, with its own algorithm
	 * whatever the body names, as PowerDNS takes it. */
	const bool imported = r == 0 && isc != NULL;
	if (imported && (r = zkeys_import(isc, "csk", &given, &why)) < 0)
		errmsg_set(&err, r, "%s: %s", field, why.text);
	if (isc != NULL) /* the private key's text, wiped before it is freed */
		explicit_bzero((char *)isc, strlen(isc));
	json_decref(b); /* 'isc' and 'field' point into it */
	char dnskey[1024] = "";
	if (r == 0 && imported) {
		alg = given.algorithm;
		snprintf(dnskey, sizeof(dnskey), "%s", given.dnskey);
	}
	json_t *body = json_pack("{s:i,s:s}", "algorithm", (int)alg, "scheme", "csk");
	if (r == 0)
		r = signing_sign_key(w, z.id, body, imported ? &given : NULL, api_actor(req), &res,
				     &view, &err);
	json_decref(body);
	json_decref(view);
	store_zone_clear(&z);
	if (r < 0) {
		api_reply_error(rep, r, err.text);
		return;
	}
	if (zone_keys(req, rep, w, 0, &z, &c) < 0)
		return;
	json_t *key = json_incref(json_array_get(c.keys, 0));
	const char *served = json_string_value(json_object_get(key, "dnskey"));
	json_decref(c.keys);
	store_zone_clear(&z);
	if (key == NULL)
		http_reply_error(rep, ERR_CONFLICT, "the zone was signed and unsigned meanwhile");
	else if (imported && (served == NULL || strcmp(served, dnskey) != 0))
		http_reply_error(rep, ERR_CONFLICT,
				 "the zone was signed with another key meanwhile; the given key "
				 "was not used");
	else
		http_reply_json(rep, 201, key);
}

/* PUT .../zones/:zone/cryptokeys/:key {"active", "published"}: 204 when
 * the key already is so; any other change is made by rollover. */
void api_pdns_key_update(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store_zone z;
	struct keys_ctx c;
	json_t *b, *key;
	int r;

	if (!api_may_write(req, rep) || api_body_object(req, rep, &b) < 0)
		return;
	if (one_key(req, rep, ctx, &z, &c, &key) < 0) {
		json_decref(b);
		return;
	}
	/* As PowerDNS: "active" is required, "published" is not. */
	r = json_is_boolean(json_object_get(b, "active")) ? 0 : ERR_INVALID;
	for (const char *k = "active"; r == 0 && k != NULL;
	     k = strcmp(k, "active") == 0 ? "published" : NULL) {
		json_t *want = json_object_get(b, k);
		if (want != NULL && !json_is_boolean(want))
			r = ERR_INVALID;
		else if (want != NULL && json_equal(want, json_object_get(key, k)) == 0)
			r = ERR_CONFLICT;
	}
	if (r == ERR_INVALID)
		http_reply_error(rep, r,
				 json_is_boolean(json_object_get(b, "active"))
				     ? "Key 'published' not a Bool"
				     : "Key 'active' not present or not a Bool");
	else if (r < 0)
		http_reply_error(rep, ERR_INVALID,
				 "keys are activated, published and retired by the controller's "
				 "rollover (POST /api/dns/:id/dnssec/rollover), the same on every "
				 "node");
	else
		http_reply_text(rep, 204, NULL, "", 0);
	json_decref(key);
	json_decref(b);
	store_zone_clear(&z);
}

/* DELETE .../zones/:zone/cryptokeys/:key: the zone's only key goes with
 * its signatures (the zone is unsigned, as asked, whatever the parent's
 * DS says); one of several is retired by rollover instead. */
void api_pdns_key_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store_zone z;
	struct keys_ctx c;
	struct zone_result res;
	struct errmsg err = { "" };
	json_t *key;

	if (!api_may_write(req, rep) || one_key(req, rep, w, &z, &c, &key) < 0)
		return;
	json_decref(key);
	int r = 0;
	if (c.count > 1)
		r = errmsg_set(&err, ERR_INVALID,
			       "the zone has %zu keys: one of them is retired by rollover (POST "
			       "/api/dns/%lld/dnssec/rollover); deleting the only key unsigns the "
			       "zone",
			       c.count, (long long)z.id);
	if (r == 0)
		r = signing_unsign(w, z.id, true, api_actor(req), &res, &err);
	store_zone_clear(&z);
	if (r < 0)
		api_reply_error(rep, r, err.text);
	else
		http_reply_text(rep, 204, NULL, "", 0);
}
