/* TSIG keys (RFC 8945), kept by the controller: made and changed here,
 * used on the wire by the controller's DNS listener and given to the nodes
 * that need them. A key's secret is shown when it is made and to admins on
 * a single-key read; never in lists or logs.
 *
 * Names are stored in lower case with the trailing dot; a name is given in
 * any case, with or without the dot. Changes return 0 or a negative code
 * with a message in 'err'; nothing is changed on failure. 'actor' names
 * who asked (for the audit log). */
#ifndef YUMNA_WHM_TSIG_H
#define YUMNA_WHM_TSIG_H

#include <libknot/libknot.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "dns/dns.h"
#include "whm.h"

/* Room for a secret in base64: 64 bytes, the most a key may have. */
#define TSIG_SECRET_MAX 96

struct tsig_key {
	int64_t id;
	char name[DNAME_TEXT_MAX];
	char algorithm[16]; /* "hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-md5" */
	char secret[TSIG_SECRET_MAX];
	bool legacy; /* hmac-md5: for old peers only */
	int64_t created_at;
	int64_t updated_at;
};

/* Wipes the secret. */
void tsig_key_clear(struct tsig_key *k);

/* What a change gives a key; NULL members keep what the key has. A new
 * key with no 'secret' gets a random one as long as its algorithm's hash;
 * 'new_secret' asks for a random one on a change (a rotation). */
struct tsig_change {
	const char *name;
	const char *algorithm; /* NULL for a new key: hmac-sha256 */
	const char *secret;    /* base64, 16 to 64 bytes */
	bool new_secret;
};

/* A new key; ERR_CONFLICT when one has that name. */
int tsig_create(struct whm *w, const struct tsig_change *c, const char *actor, struct tsig_key *ret,
		struct errmsg *err);
/* Change key 'name'; ERR_NOT_FOUND for no such key, ERR_CONFLICT when
 * renamed onto another key's name. */
int tsig_update(struct whm *w, const char *name, const struct tsig_change *c, const char *actor,
		struct tsig_key *ret, struct errmsg *err);
int tsig_delete(struct whm *w, const char *name, const char *actor, struct errmsg *err);
/* Key 'name'; ERR_NOT_FOUND when there is none, ERR_INVALID for a name
 * that is not one. */
int tsig_get(struct whm *w, const char *name, struct tsig_key *ret, struct errmsg *err);
/* Every key in id order; a non-zero return of 'fn' stops and is returned. */
int tsig_each(struct whm *w, int (*fn)(const struct tsig_key *k, void *ctx), void *ctx);

/* libknot's key for the wire, named by the owner 'name' of a TSIG RR;
 * knot_tsig_key_deinit() it after use. ERR_NOT_FOUND for no such key. */
int tsig_knot_key(struct whm *w, const knot_dname_t *name, knot_tsig_key_t *ret);

#endif
