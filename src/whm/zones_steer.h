/* Routing policies of a zone's RRsets (model/steer.h) in the zone
 * service: the panel's per-record routing_policy read back from the
 * RRset's stored policy, and the policies a change leaves, checked and
 * compiled before the change writes anything. Not for use outside the
 * zone service. */
#ifndef YUMNA_WHM_ZONES_STEER_H
#define YUMNA_WHM_ZONES_STEER_H

#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "dns/dns.h"
#include "store/store.h"

/* The zone's stored policies as an object: rrset key ("name\ttype") →
 * {"per_record": bool, "policy": {...}}. The caller owns *ret. */
int zones_steer_load(struct store *st, int64_t zone_id, json_t **ret);

/* The routing_policy the panel reads for record 'name' 'type' 'content'
 * under 'policies' (zones_steer_load): a new reference, JSON null when
 * its RRset has no per-record policy; NULL without memory. */
json_t *zones_steer_record_policy(const json_t *policies, const char *name, const char *type,
				  const char *content);

/* Give each record of 'records' (payload records, changed in place) the
 * routing_policy the per-record policy in 'policies' (zones_steer_load)
 * gives it, in the RRsets where that policy covers every record; the
 * records of other RRsets carry none. So content written back whole (a
 * rollback, an import: neither holds policies) keeps the policies of what
 * it leaves as it is; an RRset that holds a disabled record keeps none
 * (a disabled record cannot carry one). */
int zones_steer_keep(const json_t *policies, json_t *records);

/* The policies the RRsets named in 'keys' (an object of rrset keys) get
 * from their records in 'recs' (objects {"name", "type", "content",
 * "routing_policy"}; the stored forms), each checked and compiled for
 * zone 'origin'. *ret maps each key to its policy, or to JSON null when
 * its records carry none; the caller owns it. ERR_INVALID with the RRset
 * named in 'err'. */
int zones_steer_plan(const json_t *recs, const json_t *keys, const char *origin, json_t **ret,
		     struct errmsg *err);

/* Write a plan inside the change's transaction. */
int zones_steer_apply(struct store *st, int64_t zone_id, const json_t *plan);

/* The records the nodes serve: 'records' (payload records of zone
 * 'origin') with each RRset that has a policy replaced by one LUA record
 * (type "LUA", the compiled policy, the RRset's TTL). The policy of an
 * RRset is the one 'plan' gives it (JSON null: none), else the one in
 * 'policies' (zones_steer_load; NULL: none). *ret is a new array, or a
 * new reference to 'records' when nothing is steered. A health-checked
 * policy adds its health record (model/steer.h steer_health_compile) at
 * zones_steer_health_owner(), TTL 0, unless the zone holds that owner. */
int zones_steer_serve(json_t *records, const json_t *policies, const json_t *plan,
		      const char *origin, json_t **ret, struct errmsg *err);

/* The owner (stored form, like 'name': relative, "@" or absolute) of the
 * health record of RRset owner 'name' (model/steer.h STEER_HEALTH_LABEL,
 * STEER_HEALTH_WILDCARD_LABEL for a wildcard). */
int zones_steer_health_owner(const char *name, char out[DNAME_TEXT_MAX]);

/* The rrset key of 'name' and 'type'. */
int zones_steer_key(const char *name, const char *type, char *out, size_t len);

/* The owner name (into 'name') and the type (*ret_type, inside 'key') of
 * rrset key 'key': 0, or -EINVAL for text that is not one. */
int zones_steer_key_split(const char *key, char name[DNAME_TEXT_MAX], const char **ret_type);

#endif
