/* RFC 2136 update policies, in the spirit of BIND's update-policy: each
 * TSIG key has a list of rules, and an update signed with the key may
 * change an RRset only if one rule grants it. A rule is
 *   {"zone": "example.com.", "match": "zone"|"name"|"subdomain"|"wildcard",
 *    "name": "...", "types": ["TXT", ...] or ["ANY"]}
 * "zone" grants every name of the zone (no "name"); "name" the name
 * itself; "subdomain" the name and every name below it; "wildcard" (a
 * name "*.x.example.com.") every name below x.example.com. "ANY" grants
 * every type but the apex NS, which a rule grants only by naming NS and
 * matching the apex. The SOA (its serial is the controller's) and the
 * DNSSEC types (the nodes sign) are never granted: the store refuses them
 * from any client. Policies live in the store (migration 12) by the key's
 * name as tsig.h stores it. */
#ifndef YUMNA_WHM_UPOLICY_H
#define YUMNA_WHM_UPOLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "dns/dns.h"
#include "store/store.h"
#include "whm.h"

#define UPOLICY_RULES_MAX 64

/* Check the body {"rules": [...]} and return the rules in their stored
 * form (names absolute and lower case, types upper case), the caller's
 * to json_decref(). ERR_INVALID naming the rule at fault. */
int upolicy_parse(const json_t *body, json_t **ret_rules, struct errmsg *err);

/* Whether stored 'rules' let the key change the RRset 'name' (absolute,
 * lower case) of type 'type' in zone 'zone' (both normalised). */
bool upolicy_allows(const json_t *rules, const char *zone, const char *name, uint16_t type);

/* Whether some rule of 'rules' is for zone 'zone' (normalised). */
bool upolicy_names_zone(const json_t *rules, const char *zone);

/* The stored rules of key 'key_name' (stored form): 0 with *ret (the
 * caller's), -ENOENT when the key has none, another negative code on a
 * store error. */
int upolicy_load(struct store *st, const char *key_name, json_t **ret);

/* Give TSIG key 'key' (any case, dot optional) the rules of 'body' (as
 * upolicy_parse() takes it), with an audit entry by 'actor'. The key's
 * stored name in 'ret_name', its stored rules in *ret_rules (the
 * caller's). ERR_NOT_FOUND for no such key, ERR_INVALID for bad rules;
 * 'err' says which. */
int upolicy_set(struct whm *w, const char *key, const json_t *body, const char *actor,
		char ret_name[DNAME_TEXT_MAX], json_t **ret_rules, struct errmsg *err);
/* Remove key 'key''s policy (the key then may update nothing), with an
 * audit entry; ERR_NOT_FOUND when it has none. A policy outlives its key:
 * a key made again with that name gets it back. */
int upolicy_delete(struct whm *w, const char *key, const char *actor, struct errmsg *err);
/* Every policy as [{"key", "rules"}], or one: {"key", "rules"}
 * (ERR_NOT_FOUND when the key has none); the caller owns *ret. */
int upolicy_list(struct whm *w, json_t **ret, struct errmsg *err);
int upolicy_get(struct whm *w, const char *key, json_t **ret, struct errmsg *err);

#endif
