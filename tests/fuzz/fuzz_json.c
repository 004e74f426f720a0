/* The strict JSON helpers (src/lib/json): jsonx_parse() over the input,
 * then every field of a decoded object through each typed getter and the
 * key check. Oracles: a refusal has a printable message; a document that
 * was accepted dumps and decodes again to an equal document; a field is of
 * exactly one type or of none the getters read (null, reals); out of range
 * is refused, never cut. */
#include "fuzz.h"
#include "json/jsonx.h"

/* The keys the getters are asked for: as in the project, the code's own
 * names; a document's other keys only meet jsonx_check_keys(). */
static const char *const allowed[] = { "zone", "records", "name", "type", "content", "ttl", NULL };

static void fields(const json_t *obj)
{
	struct errmsg err = { "" };

	int r = jsonx_check_keys(obj, allowed, "body", &err);
	if (r < 0)
		fuzz_check_message("jsonx_check_keys", r, err.text);
	for (const char *const *k = allowed; *k != NULL; k++) {
		json_t *v = json_object_get(obj, *k);
		const char *s;
		uint64_t u;
		bool b;
		json_t *a;
		int ok = 0;

		r = jsonx_get_str(obj, *k, false, "body", &s, &err);
		if (v == NULL) {
			if (r != -ENOENT)
				fuzz_fail("a missing optional field is not -ENOENT");
			continue;
		}
		ok += r == 0;
		ok += jsonx_get_bool(obj, *k, true, "body", &b, &err) == 0;
		ok += jsonx_get_array(obj, *k, true, "body", &a, &err) == 0;
		ok += jsonx_get_obj(obj, *k, true, "body", &a, &err) == 0;
		ok += jsonx_get_uint(obj, *k, true, 0, UINT64_MAX, "body", &u, &err) == 0;
		if ((ok == 1) != (json_is_string(v) || json_is_boolean(v) || json_is_array(v) ||
				  json_is_object(v) ||
				  (json_is_integer(v) && json_integer_value(v) >= 0)) ||
		    ok > 1)
			fuzz_fail("field '%s' of type %d read as %d types", *k, json_typeof(v), ok);
		r = jsonx_get_uint(obj, *k, true, 1, 65535, "body", &u, &err);
		if (r == 0 && (u < 1 || u > 65535))
			fuzz_fail("field '%s': %llu read in range 1..65535", *k,
				  (unsigned long long)u);
		if (r < 0)
			fuzz_check_message("jsonx_get_uint", r, err.text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errmsg err = { "" };
	json_t *j, *again;

	int r = jsonx_parse((const char *)data, size, &j, &err);
	if (r < 0) {
		fuzz_check_message("jsonx_parse", r, err.text);
		return 0;
	}
	if (!jsonx_depth_ok((const char *)data, size, JSONX_MAX_DEPTH))
		fuzz_fail("a document deeper than %d levels was accepted", JSONX_MAX_DEPTH);
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL)
		fuzz_fail("an accepted document does not dump");
	r = jsonx_parse(text, strlen(text), &again, &err);
	if (r < 0)
		fuzz_fail("'%s' does not decode again: %s", text, err.text);
	if (!json_equal(j, again))
		fuzz_fail("'%s' decodes to another document", text);
	free(text);
	json_decref(again);
	if (json_is_object(j))
		fields(j);
	json_t *v;
	size_t i;
	json_array_foreach(j, i, v)
		if (json_is_object(v))
			fields(v);
	json_decref(j);
	return 0;
}
