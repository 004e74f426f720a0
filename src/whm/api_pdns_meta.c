/* PowerDNS's zone metadata routes. Two kinds come from the zone itself and
 * are shown, never written here: SOA-EDIT-API (its serial rule, set with
 * the zone's settings) and NSEC3PARAM (how it is signed). X-* kinds are
 * kept for the tools that use them, gone with the zone. ALLOW-AXFR-FROM,
 * TSIG-ALLOW-AXFR and ALSO-NOTIFY are the zone's transfer settings
 * (xfrout.h); other kinds that steer a PowerDNS server are refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "api_pdns.h"
#include "base/err.h"
#include "base/log.h"
#include "json/jsonx.h"
#include "pdns_shape.h"
#include "xfrout.h"
#include "zones_internal.h"
#include "zkeys.h"

#define META_VALUES_MAX 100
#define META_VALUE_MAX 2048

static json_t *meta_json(const char *kind, json_t *values)
{
	return json_pack("{s:s,s:s,s:o}", "type", "Metadata", "kind", kind, "metadata", values);
}

/* Whether 'kind' is one this API keeps: "X-" and then letters, digits and
 * '-', as PowerDNS's own checks take them. */
static bool kept_kind(const char *kind)
{
	size_t n = strlen(kind);

	if (n < 3 || n > 64 || (kind[0] != 'X' && kind[0] != 'x') || kind[1] != '-')
		return false;
	for (size_t i = 2; i < n; i++)
		if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= 'A' && kind[i] <= 'Z') ||
		      (kind[i] >= '0' && kind[i] <= '9') || kind[i] == '-'))
			return false;
	return true;
}

/* A kind that is not X-*: answered with why it is not written here. */
static void refuse_kind(struct http_reply *rep, const char *kind)
{
	char msg[256], q[72];

	if (strcmp(kind, "SOA-EDIT-API") == 0)
		snprintf(msg, sizeof(msg),
			 "SOA-EDIT-API is the zone's soa_edit_api: set it with PUT of the zone");
	else if (strcmp(kind, "NSEC3PARAM") == 0)
		snprintf(msg, sizeof(msg),
			 "NSEC3PARAM follows how the zone is signed (POST /api/dns/:id/dnssec)");
	else
		snprintf(msg, sizeof(msg),
			 "Unsupported metadata kind '%s': the cluster keeps X-* kinds and the "
			 "transfer kinds ALLOW-AXFR-FROM, TSIG-ALLOW-AXFR and ALSO-NOTIFY",
			 (log_sanitize(kind, q, sizeof(q)), q));
	http_reply_error(rep, ERR_INVALID, msg);
}

static int add_stored(const char *kind, const char *content, void *list)
{
	json_t *values = json_loads(content, 0, NULL);

	if (!json_is_array(values)) {
		json_decref(values);
		values = json_array();
	}
	return json_array_append_new(list, meta_json(kind, values)) < 0 ? -ENOMEM : 0;
}

/* A transfer kind when the zone has values for it. */
static int add_xfr(struct whm *w, struct store *st, int64_t zone_id, const char *kind, json_t *list)
{
	json_t *values = NULL;
	int r = xfrout_meta_get(w, st, zone_id, kind, &values);
	if (r == 0 && json_array_size(values) > 0)
		return json_array_append_new(list, meta_json(kind, values)) < 0 ? -ENOMEM : 0;
	json_decref(values);
	return r;
}

/* GET .../zones/:zone/metadata: the transfer kinds that have values,
 * NSEC3PARAM when the zone is signed with
 * NSEC3, SOA-EDIT-API, then the kept kinds as the store lists them, by
 * kind: sorted by kind as PowerDNS sorts them, since every kept kind
 * starts with 'X' or 'x', after 'N' and 'S' byte by byte. */
void api_pdns_meta_list(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct whm *w = ctx;
	struct store *st;
	struct store_zone z;
	struct pdns_settings set;
	struct store_dnssec d;
	json_t *list = json_array();

	if (!api_pdns_our_server(req, rep) || (st = api_store(w, rep)) == NULL ||
	    api_pdns_path_zone(req, rep, st, &z) < 0) {
		json_decref(list);
		return;
	}
	int r = add_xfr(w, st, z.id, XFROUT_META_FROM, list);
	if (r == 0)
		r = add_xfr(w, st, z.id, XFROUT_META_NOTIFY, list);
	if (store_dnssec_get(st, z.id, &d) == 0) {
		const char *p = d.enabled ? zkeys_nsec3param(&d) : NULL;
		if (p != NULL)
			json_array_append_new(list, meta_json("NSEC3PARAM", json_pack("[s]", p)));
		store_dnssec_clear(&d);
	}
	pdns_settings_read(z.pdns, &set);
	json_array_append_new(list, meta_json("SOA-EDIT-API", json_pack("[s]", set.soa_edit_api)));
	if (r == 0)
		r = add_xfr(w, st, z.id, XFROUT_META_KEYS, list);
	if (r == 0)
		r = store_meta_foreach(st, z.id, add_stored, list);
	store_zone_clear(&z);
	if (r < 0) {
		json_decref(list);
		http_reply_error(rep, r, "cannot read the zone's metadata");
		return;
	}
	http_reply_json(rep, 200, list);
}

/* The kind of path parameter 2, the zone of parameter 1: 0, or answered. */
static int meta_target(struct http_request *req, struct http_reply *rep, struct whm *w,
		       struct store **st, struct store_zone *z, const char **kind)
{
	if (!api_pdns_our_server(req, rep) || (*st = api_store(w, rep)) == NULL)
		return ERR_NOT_FOUND;
	int r = api_pdns_path_zone(req, rep, *st, z);
	if (r < 0)
		return r;
	*kind = http_request_param(req, 2);
	if (*kind != NULL && !kept_kind(*kind) && !xfrout_meta_kind(*kind)) {
		refuse_kind(rep, *kind);
		store_zone_clear(z);
		return ERR_INVALID;
	}
	return 0;
}

/* GET .../metadata/:kind: its values, [] when the zone has none. */
void api_pdns_meta_get(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct store_zone z;
	const char *kind;
	char *content = NULL;

	if (meta_target(req, rep, ctx, &st, &z, &kind) < 0)
		return;
	if (xfrout_meta_kind(kind)) {
		json_t *values = NULL;
		int r = xfrout_meta_get(ctx, st, z.id, kind, &values);
		store_zone_clear(&z);
		if (r < 0)
			http_reply_error(rep, r, "cannot read the zone's metadata");
		else
			http_reply_json(rep, 200, meta_json(kind, values));
		return;
	}
	int r = store_meta_get(st, z.id, kind, &content);
	store_zone_clear(&z);
	if (r < 0 && r != -ENOENT) {
		http_reply_error(rep, r, "cannot read the zone's metadata");
		return;
	}
	json_t *values = content != NULL ? json_loads(content, 0, NULL) : NULL;
	free(content);
	if (!json_is_array(values)) {
		json_decref(values);
		values = json_array();
	}
	http_reply_json(rep, 200, meta_json(kind, values));
}

/* The "metadata" of a body: 1 to META_VALUES_MAX strings, each printable
 * and at most META_VALUE_MAX bytes. */
static int read_values(const json_t *b, json_t **ret, struct errmsg *err)
{
	json_t *values, *v;
	size_t i;
	int r = jsonx_get_array(b, "metadata", true, "body", &values, err);

	if (r < 0)
		return r;
	if (json_array_size(values) > META_VALUES_MAX)
		return errmsg_set(err, ERR_INVALID, "metadata: at most %d values", META_VALUES_MAX);
	json_array_foreach(values, i, v) {
		const char *s = json_string_value(v);
		if (s == NULL)
			return errmsg_set(err, ERR_INVALID, "metadata[%zu]: must be a string", i);
		if (strlen(s) > META_VALUE_MAX)
			return errmsg_set(err, ERR_INVALID, "metadata[%zu]: longer than %d bytes",
					  i, META_VALUE_MAX);
		for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
			if (*p < 0x20 || *p == 0x7f)
				return errmsg_set(
				    err, ERR_INVALID,
				    "metadata[%zu]: control characters are not allowed", i);
	}
	*ret = values;
	return 0;
}

/* Whether 'list' holds the string 'v'. */
static bool holds(const json_t *list, const json_t *v)
{
	size_t i;
	const json_t *have;

	json_array_foreach(list, i, have)
		if (json_equal(have, v))
			return true;
	return false;
}

/* Kind 'kind' of zone 'zone_id' becomes 'values', or with 'append' the
 * values it has and then those of 'values' it does not have yet (as
 * PowerDNS merges a POST); *ret the values now. Read and written in one
 * transaction, so that writes at once each keep the others' values. */
static int store_kind(struct whm *w, int64_t zone_id, const char *kind, const json_t *values,
		      bool append, json_t **ret, struct errmsg *err)
{
	char *old = NULL, *text = NULL;
	json_t *now = NULL, *v;
	struct store *st;
	struct store_zone z;
	size_t i;
	/* The zone's row locked (MariaDB): writers of its metadata take turns,
	 * and a zone deleted meanwhile gets none. */
	int r = zones_begin_live(w, zone_id, &st, &z, err);

	if (r < 0)
		return r;
	store_zone_clear(&z);
	r = append ? store_meta_get(st, zone_id, kind, &old) : -ENOENT;
	if (r == 0)
		now = json_loads(old, 0, NULL);
	free(old);
	if (!json_is_array(now)) {
		json_decref(now);
		now = json_array();
	}
	r = r == -ENOENT || r == 0 ? 0 : r;
	if (r == 0 && now == NULL)
		r = -ENOMEM;
	json_array_foreach(values, i, v) {
		if (r == 0 && (!append || !holds(now, v)) && json_array_append(now, v) < 0)
			r = -ENOMEM;
	}
	if (r == 0 && json_array_size(now) > META_VALUES_MAX)
		r = errmsg_set(err, ERR_INVALID, "metadata: more than 100 values for the kind");
	if (r == 0 && (text = json_dumps(now, JSON_COMPACT)) == NULL)
		r = -ENOMEM;
	if (r == 0)
		r = json_array_size(now) > 0 ? store_meta_put(st, zone_id, kind, text)
					     : store_meta_delete(st, zone_id, kind);
	free(text);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		json_decref(now);
		return r;
	}
	*ret = now;
	return 0;
}

/* Write 'values' as kind 'kind' of zone 'z' ('append': added to the
 * values it has, store_kind()), then answer 'status' with the kind as it
 * is. */
static void write_kind(struct http_reply *rep, struct whm *w, const struct store_zone *z,
		       const char *kind, const json_t *values, bool append, unsigned status)
{
	struct errmsg err = { "" };
	json_t *now = NULL;
	int r = store_kind(w, z->id, kind, values, append, &now, &err);

	if (r < 0)
		http_reply_error(
		    rep, r, err.text[0] != '\0' ? err.text : "cannot write the zone's metadata");
	else
		http_reply_json(rep, status, meta_json(kind, now));
}

/* A transfer kind written ('values' NULL: cleared): a new version of the
 * zone; answered with the kind's values, or no body for a delete. */
static void write_xfr(struct http_request *req, struct http_reply *rep, struct whm *w,
		      struct store *st, const struct store_zone *z, const char *kind,
		      const json_t *values, bool post)
{
	struct zone_result res = { 0 };
	struct errmsg err;
	json_t *now = NULL;
	int r = xfrout_meta_set(w, z->id, kind, values, post, api_actor(req), &res, &err);

	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	if (values == NULL) {
		http_reply_text(rep, 200, NULL, "", 0);
		return;
	}
	r = xfrout_meta_get(w, st, z->id, kind, &now);
	if (r < 0)
		http_reply_error(rep, r, "cannot read the zone's metadata");
	else
		http_reply_json(rep, post ? 201 : 200, meta_json(kind, now));
}

/* PUT .../metadata/:kind {"metadata": [...]} replaces the kind's values
 * (200 with them); POST .../metadata {"kind", "metadata": [...]} adds to
 * them ('post'; 201 with them all). */
static void meta_write(struct http_request *req, struct http_reply *rep, void *ctx, bool post)
{
	struct store *st;
	struct store_zone z;
	struct errmsg err;
	const char *kind;
	json_t *b, *values;

	if (!api_may_write(req, rep) || api_body_object(req, rep, &b) < 0)
		return;
	if (meta_target(req, rep, ctx, &st, &z, &kind) == 0) {
		int r = post ? jsonx_get_str(b, "kind", true, "body", &kind, &err) : 0;
		if (r == 0 && !kept_kind(kind) && !xfrout_meta_kind(kind))
			refuse_kind(rep, kind);
		else if (r == 0 && (r = read_values(b, &values, &err)) == 0 &&
			 xfrout_meta_kind(kind))
			write_xfr(req, rep, ctx, st, &z, kind, values, post);
		else if (r == 0)
			write_kind(rep, ctx, &z, kind, values, post, post ? 201 : 200);
		if (r < 0)
			http_reply_error(rep, ERR_INVALID, err.text);
		store_zone_clear(&z);
	}
	json_decref(b);
}

void api_pdns_meta_put(struct http_request *req, struct http_reply *rep, void *ctx)
{
	meta_write(req, rep, ctx, false);
}

void api_pdns_meta_post(struct http_request *req, struct http_reply *rep, void *ctx)
{
	meta_write(req, rep, ctx, true);
}

/* DELETE .../metadata/:kind: 200 with no body, as PowerDNS answers. */
void api_pdns_meta_delete(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct store *st;
	struct store_zone z;
	const char *kind;

	if (!api_may_write(req, rep) || meta_target(req, rep, ctx, &st, &z, &kind) < 0)
		return;
	if (xfrout_meta_kind(kind)) {
		write_xfr(req, rep, ctx, st, &z, kind, NULL, false);
		store_zone_clear(&z);
		return;
	}
	int r = store_meta_delete(st, z.id, kind);
	store_zone_clear(&z);
	if (r < 0)
		http_reply_error(rep, r, "cannot write the zone's metadata");
	else
		http_reply_text(rep, 200, NULL, "", 0);
}
