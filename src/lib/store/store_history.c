/* The store's history (store.h): zone version snapshots and the audit
 * log, over store_internal.h.
 *
 * Where store.h leaves a choice open: store_audit stores zone_id 0 as NULL
 * (no zone). */
#include <errno.h>

#include "store/store_internal.h"

int store_version_insert(struct store *st, int64_t zone_id, uint64_t version, uint32_t serial,
			 const char *records_json, const char *actor, const char *comment)
{
	int r;

	if (records_json == NULL)
		return -EINVAL;
	r = store_check_version(version);
	if (r < 0)
		return r;
	return store_exec(st, Q_VERSION_INSERT, "iiittti", zone_id, (int64_t)version,
			  (int64_t)serial, records_json, actor, comment, store_now());
}

int store_audit(struct store *st, const char *actor, const char *action, int64_t zone_id,
		const char *detail)
{
	if (action == NULL)
		return -EINVAL;
	/* zone_id 0 is "no zone": NULL, not a reference. */
	if (zone_id != 0)
		return store_exec(st, Q_AUDIT_INSERT, "ittit", store_now(), actor, action, zone_id,
				  detail);
	return store_exec(st, Q_AUDIT_INSERT, "itttt", store_now(), actor, action, NULL, detail);
}
