/* TSIG keys (tsig.h): checked with libdnssec, stored in the store's
 * tsig_keys, made into libknot keys for the wire. */
#include <errno.h>
#include <libdnssec/binary.h>
#include <libdnssec/error.h>
#include <libdnssec/random.h>
#include <libdnssec/tsig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "history.h"
#include "tsig.h"
#include "xfrout.h"

/* The algorithms a key may have: the SHA-2 HMACs, and HMAC-MD5 for peers
 * that know nothing else (RFC 8945 §6: MD5 is deprecated). */
static const char *const algorithms[] = { "hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-md5",
					  NULL };

#define SECRET_MIN 16
#define SECRET_MAX 64

void tsig_key_clear(struct tsig_key *k)
{
	explicit_bzero(k, sizeof(*k));
}

static int check_name(const char *text, char out[DNAME_TEXT_MAX], struct errmsg *err)
{
	struct errmsg why;

	if (dname_zone_normalize(text, out, &why) < 0)
		return errmsg_set(err, ERR_INVALID, "name: %s", why.text);
	return 0;
}

static int check_algorithm(const char *text, const char **ret, struct errmsg *err)
{
	/* libdnssec reads the names with or without the trailing dot and in
	 * any case; the stored name is the one listed above. */
	dnssec_tsig_algorithm_t a = dnssec_tsig_algorithm_from_name(text);
	for (size_t i = 0; algorithms[i] != NULL; i++) {
		if (a != DNSSEC_TSIG_UNKNOWN &&
		    a == dnssec_tsig_algorithm_from_name(algorithms[i])) {
			*ret = algorithms[i];
			return 0;
		}
	}
	return errmsg_set(err, ERR_INVALID,
			  "algorithm: one of hmac-sha256, hmac-sha384, hmac-sha512, or hmac-md5 "
			  "for old peers");
}

/* A secret the user gave, checked: base64 of 16 to 64 bytes. */
static int check_secret(const char *b64, struct errmsg *err)
{
	dnssec_binary_t in = { .size = strlen(b64), .data = (uint8_t *)b64 }, raw = { 0 };

	if (in.size == 0 || in.size >= TSIG_SECRET_MAX ||
	    dnssec_binary_from_base64(&in, &raw) != DNSSEC_EOK)
		return errmsg_set(err, ERR_INVALID, "secret: not base64 of %d to %d bytes",
				  SECRET_MIN, SECRET_MAX);
	size_t n = raw.size;
	explicit_bzero(raw.data, raw.size);
	dnssec_binary_free(&raw);
	if (n < SECRET_MIN || n > SECRET_MAX)
		return errmsg_set(err, ERR_INVALID,
				  "secret: %zu bytes; a key has %d to %d (as long as its hash is "
				  "best)",
				  n, SECRET_MIN, SECRET_MAX);
	return 0;
}

/* A random secret as long as the algorithm's hash (RFC 8945 §6). */
static int make_secret(const char *algorithm, char out[TSIG_SECRET_MAX])
{
	dnssec_tsig_algorithm_t a = dnssec_tsig_algorithm_from_name(algorithm);
	uint8_t raw[SECRET_MAX];
	size_t n = dnssec_tsig_algorithm_size(a);
	dnssec_binary_t in = { .size = n, .data = raw }, b64 = { 0 };
	int r = -EIO;

	if (n >= SECRET_MIN && n <= SECRET_MAX && dnssec_random_buffer(raw, n) == DNSSEC_EOK &&
	    dnssec_binary_to_base64(&in, &b64) == DNSSEC_EOK && b64.size < TSIG_SECRET_MAX) {
		memcpy(out, b64.data, b64.size);
		out[b64.size] = '\0';
		r = 0;
	}
	explicit_bzero(raw, sizeof(raw));
	if (b64.data != NULL)
		explicit_bzero(b64.data, b64.size);
	dnssec_binary_free(&b64);
	return r;
}

static void from_store(const struct store_tsig_key *s, struct tsig_key *k)
{
	memset(k, 0, sizeof(*k));
	k->id = s->id;
	snprintf(k->name, sizeof(k->name), "%s", s->name);
	snprintf(k->algorithm, sizeof(k->algorithm), "%s", s->algorithm);
	snprintf(k->secret, sizeof(k->secret), "%s", s->secret);
	k->legacy = strcmp(k->algorithm, "hmac-md5") == 0;
	k->created_at = s->created_at;
	k->updated_at = s->updated_at;
}

static struct store *store_or(struct whm *w, struct errmsg *err)
{
	struct store *st = whm_store(w);

	if (st == NULL)
		errmsg_set(err, ERR_UNAVAILABLE, "the store is not available");
	return st;
}

/* The key 'name' (normalised) as stored now, in 'k'. */
static int load(struct store *st, const char *name, struct tsig_key *k, struct errmsg *err)
{
	struct store_tsig_key s = { 0 };
	int r = store_tsig_get(st, name, &s);

	if (r == -ENOENT)
		return errmsg_set(err, ERR_NOT_FOUND, "no TSIG key named %s", name);
	if (r < 0)
		return errmsg_set(err, r, "cannot read the TSIG key");
	from_store(&s, k);
	store_tsig_key_clear(&s);
	return 0;
}

/* 'k' (the key as it is, or zeroed for a new one) as 'c' makes it. */
static int apply_change(const struct tsig_change *c, struct tsig_key *k, struct errmsg *err)
{
	const char *alg = NULL;
	int r = 0;

	if (c->name != NULL)
		r = check_name(c->name, k->name, err);
	if (r == 0 && (c->algorithm != NULL || k->algorithm[0] == '\0'))
		r = check_algorithm(c->algorithm != NULL ? c->algorithm : "hmac-sha256", &alg, err);
	if (r == 0 && alg != NULL)
		snprintf(k->algorithm, sizeof(k->algorithm), "%s", alg);
	if (r == 0 && c->secret != NULL && c->new_secret)
		r = errmsg_set(err, ERR_INVALID, "give a secret or ask for a new one, not both");
	if (r == 0 && c->secret != NULL) {
		r = check_secret(c->secret, err);
		if (r == 0)
			snprintf(k->secret, sizeof(k->secret), "%s", c->secret);
	} else if (r == 0 && (c->new_secret || k->secret[0] == '\0')) {
		if (make_secret(k->algorithm, k->secret) < 0)
			r = errmsg_set(err, -EIO, "cannot make a secret");
	}
	k->legacy = strcmp(k->algorithm, "hmac-md5") == 0;
	return r;
}

static int taken(struct store *st, const char *name, int64_t self, struct errmsg *err)
{
	struct store_tsig_key s = { 0 };
	int r = store_tsig_get(st, name, &s);

	if (r == -ENOENT)
		return 0;
	if (r == 0 && s.id != self)
		r = errmsg_set(err, ERR_CONFLICT, "a TSIG key named %s exists", name);
	store_tsig_key_clear(&s);
	return r;
}

/* A key's RFC 2136 update policy goes with it: renamed with the key
 * ('to' its new name), or deleted with it ('to' NULL). */
static int move_policy(struct store *st, const char *from, const char *to)
{
	char *rules = NULL;
	int r = store_upolicy_get(st, from, &rules);

	if (r == -ENOENT)
		return 0;
	if (r == 0 && to != NULL)
		r = store_upolicy_put(st, to, rules);
	if (r == 0)
		r = store_upolicy_delete(st, from);
	free(rules);
	return r;
}

/* Writes 'k' (a new key when its id is 0; 'old_name' the name it had)
 * with an audit entry. */
static int save(struct store *st, struct tsig_key *k, const char *old_name, const char *action,
		const char *actor, struct errmsg *err)
{
	char summary[HISTORY_SUMMARY_MAX];

	int r = store_begin(st);
	if (r == 0)
		r = taken(st, k->name, k->id, err);
	if (r == 0 && old_name != NULL && strcmp(old_name, k->name) != 0)
		r = move_policy(st, old_name, k->name);
	if (r == 0)
		r = k->id == 0 ? store_tsig_insert(st, k->name, k->algorithm, k->secret, &k->id)
			       : store_tsig_update(st, k->id, k->name, k->algorithm, k->secret);
	if (r == 0) {
		history_summary(summary, "TSIG key %s, %s", k->name, k->algorithm);
		r = history_note(st, actor, action, summary);
	}
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		if (err->text[0] == '\0')
			errmsg_set(err, r, "cannot store the TSIG key");
	}
	return r;
}

int tsig_create(struct whm *w, const struct tsig_change *c, const char *actor, struct tsig_key *ret,
		struct errmsg *err)
{
	struct store *st = store_or(w, err);

	memset(ret, 0, sizeof(*ret));
	err->text[0] = '\0';
	if (st == NULL)
		return ERR_UNAVAILABLE;
	if (c->name == NULL)
		return errmsg_set(err, ERR_INVALID, "name: a key needs one");
	int r = apply_change(c, ret, err);
	if (r == 0)
		r = save(st, ret, NULL, "tsig.create", actor, err);
	if (r < 0)
		tsig_key_clear(ret);
	else
		ret->created_at = ret->updated_at = whm_now();
	/* Settings may still name a key of this name that was deleted (or
	 * renamed): the nodes get the new one for them too. */
	if (r == 0 && xfrout_key_changed(w, ret->name) < 0)
		log_warn("tsig key '%s': zones naming it not pushed again", ret->name);
	return r;
}

int tsig_update(struct whm *w, const char *name, const struct tsig_change *c, const char *actor,
		struct tsig_key *ret, struct errmsg *err)
{
	char norm[DNAME_TEXT_MAX];
	struct store *st = store_or(w, err);

	memset(ret, 0, sizeof(*ret));
	err->text[0] = '\0';
	if (st == NULL)
		return ERR_UNAVAILABLE;
	int r = check_name(name, norm, err);
	if (r == 0)
		r = load(st, norm, ret, err);
	if (r == 0)
		r = apply_change(c, ret, err);
	if (r == 0)
		r = save(st, ret, norm,
			 c->new_secret || c->secret != NULL ? "tsig.rotate" : "tsig.update", actor,
			 err);
	if (r < 0)
		tsig_key_clear(ret);
	else
		ret->updated_at = whm_now();
	/* The nodes hold the secret of the keys their zones' transfers name:
	 * by the old name, and by the new one a renamed key takes. */
	if (r == 0 && xfrout_key_changed(w, norm) < 0)
		log_warn("tsig key '%s': zones naming it not pushed again", norm);
	if (r == 0 && strcmp(norm, ret->name) != 0 && xfrout_key_changed(w, ret->name) < 0)
		log_warn("tsig key '%s': zones naming it not pushed again", ret->name);
	return r;
}

int tsig_delete(struct whm *w, const char *name, const char *actor, struct errmsg *err)
{
	char norm[DNAME_TEXT_MAX], summary[HISTORY_SUMMARY_MAX];
	struct tsig_key k;
	struct store *st = store_or(w, err);

	err->text[0] = '\0';
	if (st == NULL)
		return ERR_UNAVAILABLE;
	int r = check_name(name, norm, err);
	if (r < 0)
		return r;
	r = store_begin(st);
	if (r == 0)
		r = load(st, norm, &k, err);
	if (r == 0)
		r = store_tsig_delete(st, k.id);
	if (r == 0)
		r = move_policy(st, norm, NULL);
	if (r == 0) {
		history_summary(summary, "TSIG key %s", norm);
		r = history_note(st, actor, "tsig.delete", summary);
	}
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		if (err->text[0] == '\0')
			errmsg_set(err, r, "cannot delete the TSIG key");
	}
	tsig_key_clear(&k);
	if (r == 0 && xfrout_key_changed(w, norm) < 0)
		log_warn("tsig key '%s': zones naming it not pushed again", norm);
	return r;
}

int tsig_get(struct whm *w, const char *name, struct tsig_key *ret, struct errmsg *err)
{
	char norm[DNAME_TEXT_MAX];
	struct store *st = store_or(w, err);

	memset(ret, 0, sizeof(*ret));
	if (st == NULL)
		return ERR_UNAVAILABLE;
	int r = check_name(name, norm, err);
	return r < 0 ? r : load(st, norm, ret, err);
}

struct each {
	int (*fn)(const struct tsig_key *k, void *ctx);
	void *ctx;
};

static int each_key(const struct store_tsig_key *s, void *ctx)
{
	struct each *e = ctx;
	struct tsig_key k;

	from_store(s, &k);
	int r = e->fn(&k, e->ctx);
	tsig_key_clear(&k);
	return r;
}

int tsig_each(struct whm *w, int (*fn)(const struct tsig_key *k, void *ctx), void *ctx)
{
	struct each e = { fn, ctx };
	struct store *st = whm_store(w);

	return st == NULL ? ERR_UNAVAILABLE : store_tsig_foreach(st, each_key, &e);
}

int tsig_knot_key(struct whm *w, const knot_dname_t *name, knot_tsig_key_t *ret)
{
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	struct errmsg err;
	struct tsig_key k;

	memset(ret, 0, sizeof(*ret));
	if (knot_dname_to_str(text, name, sizeof(text)) == NULL)
		return ERR_NOT_FOUND;
	int r = tsig_get(w, text, &k, &err);
	if (r == ERR_INVALID)
		r = ERR_NOT_FOUND;
	if (r == 0 && knot_tsig_key_init(ret, k.algorithm, k.name, k.secret) != KNOT_EOK)
		r = -ENOMEM;
	tsig_key_clear(&k);
	return r;
}
