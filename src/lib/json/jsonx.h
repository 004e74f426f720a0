/* Strict JSON input over jansson.
 *
 * Client bodies are decoded with duplicate keys, NUL characters, invalid
 * UTF-8 and nesting deeper than JSONX_MAX_DEPTH refused; fields are read with
 * exact types (an integer is never accepted as a string or a real, nor the
 * reverse) and objects are checked against a list of allowed keys, so an
 * unknown field is an error rather than something silently ignored.
 * Every function that rejects input writes one line into 'err' with
 * the field path, for the 4xx body. */
#ifndef YUMNA_JSONX_H
#define YUMNA_JSONX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"

#define JSONX_MAX_DEPTH 32

/* Decode 'len' bytes. ERR_MALFORMED with a message on any syntax problem;
 * on success the caller owns *ret (json_decref). */
int jsonx_parse(const char *data, size_t len, json_t **ret, struct errmsg *err);

/* True if the nesting of '[' and '{' in 'data' (outside strings) never
 * exceeds 'max'. Run before decoding, so deep input costs no allocation. */
bool jsonx_depth_ok(const char *data, size_t len, unsigned max);

/* ERR_INVALID if 'obj' has a key not in 'allowed' (NULL-terminated).
 * 'path' names the object in messages ("zone", "records[3]"). */
int jsonx_check_keys(const json_t *obj, const char *const *allowed, const char *path,
		     struct errmsg *err);

/* Read obj[key]. Missing: -ENOENT if 'required' is false (out-parameter
 * untouched), ERR_INVALID otherwise. Present with the wrong type or out of
 * range: ERR_INVALID. Strings are borrowed from 'obj'. */
int jsonx_get_str(const json_t *obj, const char *key, bool required, const char *path,
		  const char **ret, struct errmsg *err);
int jsonx_get_uint(const json_t *obj, const char *key, bool required, uint64_t min, uint64_t max,
		   const char *path, uint64_t *ret, struct errmsg *err);
int jsonx_get_bool(const json_t *obj, const char *key, bool required, const char *path, bool *ret,
		   struct errmsg *err);
/* obj[key] must be an array (or object, for _obj); borrowed. */
int jsonx_get_array(const json_t *obj, const char *key, bool required, const char *path,
		    json_t **ret, struct errmsg *err);
int jsonx_get_obj(const json_t *obj, const char *key, bool required, const char *path, json_t **ret,
		  struct errmsg *err);

#endif
