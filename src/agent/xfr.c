#include <errno.h>
#include <string.h>

#include "backend.h"
#include "base/err.h"
#include "model/xfr.h"
#include "xfr.h"

bool xfr_notifies(const json_t *t)
{
	return json_array_size(json_object_get(t, "notify")) > 0;
}

/* The strings of array 'key' of 't' (checked: at most XFR_LIST_MAX). */
static size_t strings_of(const json_t *t, const char *key, const char *out[XFR_LIST_MAX])
{
	const json_t *a = json_object_get(t, key);
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(a) && n < XFR_LIST_MAX; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s != NULL)
			out[n++] = s;
	}
	return n;
}

int xfr_write(struct agent *a, const char *zone, const json_t *t, struct errmsg *err)
{
	const char *v[XFR_LIST_MAX];
	const json_t *tsig = json_object_get(t, "tsig");
	int r = 0, same = 0;

	/* Keys are shared by every zone that names them: a push writes the
	 * ones it names as they are now (a rotated secret included). */
	for (size_t i = 0; r == 0 && i < json_array_size(tsig); i++) {
		const json_t *k = json_array_get(tsig, i);
		r = backend_tsig_put(a->db, json_string_value(json_object_get(k, "name")),
				     json_string_value(json_object_get(k, "algorithm")),
				     json_string_value(json_object_get(k, "secret")));
	}
	size_t n = strings_of(t, "keys", v);
	if (r == 0)
		same += r = backend_meta_set_list(a->db, zone, "TSIG-ALLOW-AXFR", v, n);
	n = strings_of(t, "notify", v);
	if (r >= 0)
		same += r = backend_meta_set_list(a->db, zone, "ALSO-NOTIFY", v, n);
	if (r >= 0)
		same += r = backend_meta_set_list(a->db, zone, "ALLOW-AXFR-FROM", NULL, 0);
	if (r < 0)
		return errmsg_set(err, r, "writing transfer settings: %s", err_str(r));
	return same == 3;
}
