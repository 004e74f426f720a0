#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "base/err.h"
#include "base/log.h"
#include "model/xfr.h"
#include "xfr.h"

/* Room for XFR_LIST_MAX pairs and addresses as JSON. */
#define XFR_META_MAX ((size_t)XFR_LIST_MAX * (DNAME_TEXT_MAX + 2 * XFR_ADDR_MAX + 32))

bool xfr_notifies(const json_t *t)
{
	return json_array_size(json_object_get(t, "notify")) > 0;
}

/* The (prefix, key) pairs of 't': its "allow", or from an older controller
 * every prefix of "allow_from" with every key of "keys". */
static json_t *pairs_of(const json_t *t)
{
	const json_t *allow = json_object_get(t, "allow");
	if (json_is_array(allow))
		return json_deep_copy(allow);
	json_t *out = json_array(), *f, *k;
	size_t i, j;
	json_array_foreach(json_object_get(t, "allow_from"), i, f)
		json_array_foreach(json_object_get(t, "keys"), j, k)
			json_array_append_new(out, json_pack("{s:O,s:O}", "from", f, "key", k));
	return out;
}

/* The kinds xfr_write() writes. */
static const char *const kinds[] = { XFR_META, "TSIG-ALLOW-AXFR", "ALSO-NOTIFY",
				     "ALLOW-AXFR-FROM" };

int xfr_write(struct agent *a, const char *zone, const json_t *t, struct errmsg *err)
{
	const json_t *tsig = json_object_get(t, "tsig");
	int r = 0, same = 0;

	/* Most zones have no secondaries of their own and had none: one read
	 * says there is nothing to write. */
	if (json_array_size(json_object_get(t, "allow")) == 0 &&
	    json_array_size(json_object_get(t, "allow_from")) == 0 && !xfr_notifies(t)) {
		r = backend_meta_any(a->db, zone, kinds, sizeof(kinds) / sizeof(kinds[0]));
		if (r == 0)
			return 1;
		if (r < 0)
			return errmsg_set(err, r, "reading transfer settings: %s", err_str(r));
		r = 0; /* some to remove */
	}

	/* Keys are shared by every zone that names them: a push writes the
	 * ones it names as they are now (a rotated secret included). */
	for (size_t i = 0; r == 0 && i < json_array_size(tsig); i++) {
		const json_t *k = json_array_get(tsig, i);
		const char *name = json_string_value(json_object_get(k, "name"));
		if (strcmp(name, XFR_RELAY_KEY) == 0) {
			log_warn("zone '%s': TSIG key '%s' is the agent's own; not used", zone,
				 name);
			continue;
		}
		r = backend_tsig_put(a->db, name,
				     json_string_value(json_object_get(k, "algorithm")),
				     json_string_value(json_object_get(k, "secret")));
	}
	json_t *pairs = pairs_of(t);
	size_t npairs = json_array_size(pairs);
	json_t *kept =
	    json_pack("{s:o,s:O}", "allow", pairs, "notify",
		      json_is_array(json_object_get(t, "notify")) ? json_object_get(t, "notify")
								  : json_array());
	char *text = kept != NULL ? json_dumps(kept, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	bool any = npairs + json_array_size(json_object_get(kept, "notify")) > 0;
	const char *v[1] = { text }, *relay[1] = { XFR_RELAY_KEY };
	if (r == 0 && text == NULL)
		r = -ENOMEM;
	if (r == 0)
		same += r = backend_meta_set_list(a->db, zone, kinds[0], v, any ? 1 : 0);
	/* PowerDNS gives the zone to the relay alone, and only when the node
	 * has a transfer port to relay from. */
	bool grant = npairs > 0 && a->conf.transfer_port != 0;
	static atomic_bool warned;
	if (npairs > 0 && !grant && !atomic_exchange(&warned, true))
		log_warn("zone '%s' has third-party secondaries, but this node has no "
			 "transfer-port to serve them from: nobody may transfer it",
			 zone);
	if (r >= 0)
		same += r = backend_meta_set_list(a->db, zone, "TSIG-ALLOW-AXFR", relay, grant);
	if (r >= 0)
		same += r = backend_meta_set_list(a->db, zone, "ALSO-NOTIFY", NULL, 0);
	if (r >= 0)
		same += r = backend_meta_set_list(a->db, zone, "ALLOW-AXFR-FROM", NULL, 0);
	free(text);
	json_decref(kept);
	if (r < 0)
		return errmsg_set(err, r, "writing transfer settings: %s", err_str(r));
	return same == 4;
}

json_t *xfr_read(struct agent *a, const char *zone)
{
	char *text = malloc(XFR_META_MAX);
	if (text == NULL)
		return NULL;
	json_t *t = NULL;
	if (backend_meta_get(a->db, zone, XFR_META, text, XFR_META_MAX) == 0)
		t = json_loads(text, 0, NULL);
	free(text);
	if (t != NULL && (!json_is_array(json_object_get(t, "allow")) ||
			  !json_is_array(json_object_get(t, "notify")))) {
		json_decref(t);
		t = NULL;
	}
	return t;
}
