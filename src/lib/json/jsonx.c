#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "json/jsonx.h"

bool jsonx_depth_ok(const char *data, size_t len, unsigned max)
{
	unsigned depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return false;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return true;
}

/* jansson's message quotes the token it stopped at ("invalid token near
 * '...'"), raw: control characters and 8-bit bytes of the input become
 * \xNN here, so the message stays one printable line. Its own quotes stay
 * as they are, unlike log_sanitize(). */
static void error_text(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p != '\0' && o + 5 < len; p++) {
		if (*p >= 0x20 && *p < 0x7f) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

int jsonx_parse(const char *data, size_t len, json_t **ret, struct errmsg *err)
{
	json_error_t je;
	char text[4 * JSON_ERROR_TEXT_LENGTH];

	if (!jsonx_depth_ok(data, len, JSONX_MAX_DEPTH))
		return errmsg_set(err, ERR_MALFORMED, "invalid JSON: nesting deeper than %d levels",
				  JSONX_MAX_DEPTH);
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		error_text(je.text, text, sizeof(text));
		return errmsg_set(err, ERR_MALFORMED, "invalid JSON at line %d column %d: %s",
				  je.line, je.column, text);
	}
	*ret = j;
	return 0;
}

int jsonx_check_keys(const json_t *obj, const char *const *allowed, const char *path,
		     struct errmsg *err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a != NULL && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok) {
			char k[96];
			log_sanitize(key, k, sizeof(k));
			return errmsg_set(err, ERR_INVALID, "%s: unknown field '%s'", path, k);
		}
	}
	return 0;
}

static int lookup(const json_t *obj, const char *key, bool required, const char *path, json_t **ret,
		  struct errmsg *err)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL) {
		if (!required)
			return -ENOENT;
		/* The constant, not errmsg_set()'s result: the callers'
		 * compiler must see that a failure is negative. */
		errmsg_set(err, 0, "%s: missing field '%s'", path, key);
		return ERR_INVALID;
	}
	*ret = v;
	return 0;
}

static int wrong_type(const char *path, const char *key, const char *want, struct errmsg *err)
{
	return errmsg_set(err, ERR_INVALID, "%s.%s: must be %s", path, key, want);
}

int jsonx_get_str(const json_t *obj, const char *key, bool required, const char *path,
		  const char **ret, struct errmsg *err)
{
	json_t *v;
	int r = lookup(obj, key, required, path, &v, err);
	if (r < 0)
		return r;
	if (!json_is_string(v))
		return wrong_type(path, key, "a string", err);
	*ret = json_string_value(v);
	return 0;
}

int jsonx_get_uint(const json_t *obj, const char *key, bool required, uint64_t min, uint64_t max,
		   const char *path, uint64_t *ret, struct errmsg *err)
{
	json_t *v;
	int r = lookup(obj, key, required, path, &v, err);
	if (r < 0)
		return r;
	if (!json_is_integer(v))
		return wrong_type(path, key, "an integer", err);
	json_int_t i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
		return errmsg_set(err, ERR_INVALID, "%s.%s: %lld is out of range %llu..%llu", path,
				  key, (long long)i, (unsigned long long)min,
				  (unsigned long long)max);
	*ret = (uint64_t)i;
	return 0;
}

int jsonx_get_bool(const json_t *obj, const char *key, bool required, const char *path, bool *ret,
		   struct errmsg *err)
{
	json_t *v;
	int r = lookup(obj, key, required, path, &v, err);
	if (r < 0)
		return r;
	if (!json_is_boolean(v))
		return wrong_type(path, key, "true or false", err);
	*ret = json_is_true(v);
	return 0;
}

int jsonx_get_array(const json_t *obj, const char *key, bool required, const char *path,
		    json_t **ret, struct errmsg *err)
{
	json_t *v;
	int r = lookup(obj, key, required, path, &v, err);
	if (r < 0)
		return r;
	if (!json_is_array(v))
		return wrong_type(path, key, "an array", err);
	*ret = v;
	return 0;
}

int jsonx_get_obj(const json_t *obj, const char *key, bool required, const char *path, json_t **ret,
		  struct errmsg *err)
{
	json_t *v;
	int r = lookup(obj, key, required, path, &v, err);
	if (r < 0)
		return r;
	if (!json_is_object(v))
		return wrong_type(path, key, "an object", err);
	*ret = v;
	return 0;
}
