/* API tokens: made here, shown once, stored only as their SHA-256.
 *
 * 'st' is this thread's store (whm_store()). Changes return 0 or a negative
 * code with a message in 'err'; nothing is changed on
 * failure. 'actor' names who asked (for the audit log). */
#ifndef YUMNA_WHM_TOKENS_H
#define YUMNA_WHM_TOKENS_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "whm.h"

/* Room for a token's text: 64 hex digits and a NUL. */
#define TOKENS_TEXT_MAX 80

/* The token 'token' (as a client sends it) if it is stored and not
 * revoked: its role ("admin" or "read"), id and name. -ENOENT otherwise. */
int tokens_find(struct store *st, const char *token, char ret_role[16], int64_t *ret_id,
		char ret_name[64]);

/* Every token (never its hash), in id order; the caller owns *ret. */
int tokens_list(struct store *st, json_t **ret);

/* A new token named 'name' with role 'role' (both checked by the caller):
 * its id and its text, which the caller shows once and then wipes
 * (explicit_bzero). ERR_CONFLICT if a live token has that name. */
int tokens_create(struct store *st, const char *name, const char *role, const char *actor,
		  int64_t *ret_id, char ret_token[TOKENS_TEXT_MAX], struct errmsg *err);

/* Revoke token 'id' for the holder of token 'self_id'. ERR_NOT_FOUND for
 * no such token; ERR_CONFLICT (nothing changed) when it is the last live
 * admin token, which would leave no admin. Revoking a revoked token again
 * succeeds. */
int tokens_revoke(struct store *st, int64_t id, int64_t self_id, const char *actor,
		  struct errmsg *err);

#endif
