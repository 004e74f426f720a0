/* RRsets changed as PowerDNS's API PATCH changes them (zones.h,
 * zones_rrsets_patch): each REPLACE or DELETE checked and named in the
 * error that refuses it, then all of them as one version of the zone
 * (zones_records_apply), or, when only comments change, no version but an
 * audit entry. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "json/jsonx.h"
#include "pdns_shape.h"
#include "catalog.h"
#include "zones.h"
#include "history.h"
#include "zones_internal.h"

static const char *const rrset_keys[] = { "name",    "type",	 "ttl", "changetype",
					  "records", "comments", NULL };
static const char *const rrset_record_keys[] = { "content", "priority", "disabled", NULL };

/* The records of REPLACE 'set' (rrsets[i]) as panel records appended to
 * 'flat', each checked on its own for zone 'origin' (with MODEL_*
 * 'record_flags') so that a refusal names it. */
static int rrset_records(const struct whm *w, const json_t *set, size_t i, const char *origin,
			 unsigned record_flags, json_t *flat, struct errmsg *err)
{
	char path[64];
	struct model_record mr;
	struct errmsg msg;
	json_t *records = NULL, *rec;
	uint64_t ttl;
	size_t j;

	snprintf(path, sizeof(path), "rrsets[%zu]", i);
	int r = jsonx_get_array(set, "records", true, path, &records, err);
	if (r == 0) {
		r = jsonx_get_uint(set, "ttl", false, 0, DNS_TTL_MAX, path, &ttl, err);
		r = r == -ENOENT ? 0 : r;
	}
	if (r < 0)
		return r;
	json_array_foreach(records, j, rec) {
		if (r < 0)
			break;
		snprintf(path, sizeof(path), "rrsets[%zu].records[%zu]", i, j);
		if (!json_is_object(rec))
			return errmsg_set(err, ERR_INVALID, "%s: must be an object", path);
		r = jsonx_check_keys(rec, rrset_record_keys, path, err);
		if (r < 0)
			return r;
		/* The record as the panel's record routes take it. */
		json_t *o = json_pack("{s:O,s:O,s:O}", "name", json_object_get(set, "name"), "type",
				      json_object_get(set, "type"), "content",
				      json_object_get(rec, "content"));
		if (o == NULL)
			return errmsg_set(err, ERR_INVALID, "%s.content: required", path);
		if (json_object_get(rec, "priority") != NULL)
			json_object_set(o, "priority", json_object_get(rec, "priority"));
		if (json_object_get(rec, "disabled") != NULL)
			json_object_set(o, "disabled", json_object_get(rec, "disabled"));
		if (json_object_get(set, "ttl") != NULL)
			json_object_set(o, "ttl", json_object_get(set, "ttl"));
		r = model_record_parse_flags(o, origin, (uint32_t)w->conf.default_ttl, record_flags,
					     &mr, &msg);
		model_record_clear(&mr);
		if (r < 0)
			errmsg_set(err, 0, "%s: %s", path, msg.text);
		else if (json_array_append(flat, o) < 0)
			r = -ENOMEM;
		json_decref(o);
	}
	return r;
}

/* What a patch changes, gathered change by change. */
struct patch {
	json_t *seen;	  /* zones_rrset_key()s named so far */
	json_t *emptied;  /* those whose records are replaced or deleted */
	json_t *flat;	  /* the new records of those, as panel records */
	json_t *comments; /* zones_rrset_key() -> new comments (array; empty: none) */
	struct buf text;  /* a few words about each change */
};

/* Check rrsets[i] ('set') of a patch of zone 'origin' and add it to 'p'. A
 * REPLACE replaces what it carries: its "records", its "comments", or
 * both (an empty list of records without comments removes both); a DELETE
 * removes the RRset's records and comments. */
static int rrset_change(const struct whm *w, const json_t *set, size_t i, const char *origin,
			unsigned record_flags, struct patch *p, struct errmsg *err)
{
	char path[32], name[DNAME_TEXT_MAX], type[16], key[DNAME_TEXT_MAX + 40];
	const char *name_in = "", *type_in = "", *op = "";
	struct errmsg msg;

	snprintf(path, sizeof(path), "rrsets[%zu]", i);
	if (!json_is_object(set))
		return errmsg_set(err, ERR_INVALID, "%s: must be an object", path);
	int r = jsonx_check_keys(set, rrset_keys, path, err);
	if (r == 0)
		r = jsonx_get_str(set, "name", true, path, &name_in, err);
	if (r == 0)
		r = jsonx_get_str(set, "type", true, path, &type_in, err);
	if (r == 0)
		r = jsonx_get_str(set, "changetype", true, path, &op, err);
	if (r < 0)
		return r;
	bool replace = strcmp(op, "REPLACE") == 0;
	if (!replace && strcmp(op, "DELETE") != 0)
		return errmsg_set(err, ERR_INVALID, "%s.changetype: REPLACE or DELETE, not '%.40s'",
				  path, op);
	r = model_rrset_parse(name_in, type_in, origin, name, type, &msg);
	if (r < 0)
		return errmsg_set(err, ERR_INVALID, "%s: %s", path, msg.text);
	if (strcmp(type, ZONES_TYPE_SOA) == 0)
		return errmsg_set(err, ERR_INVALID, "%s: the SOA is managed by the controller",
				  path);
	const json_t *records = json_object_get(set, "records");
	json_t *comments = json_object_get(set, "comments");
	/* No records left and no comments given: the comments go too, as
	 * PowerDNS's SQL backends drop them with an emptied RRset. */
	bool emptied = json_is_array(records) && json_array_size(records) == 0;
	bool with_records = !replace || records != NULL;
	bool with_comments = !replace || comments != NULL || emptied;
	if (!with_records && !with_comments)
		return errmsg_set(err, ERR_INVALID,
				  "%s: a REPLACE carries records, comments or both: no change for "
				  "RRset %s %s",
				  path, name, type);
	json_t *list = NULL;
	if (replace && comments != NULL &&
	    (r = pdns_comments_read(comments, path, (uint32_t)time(NULL), &list, err)) < 0)
		return r;
	r = zones_rrset_key(name, type, key, sizeof(key));
	if (r == 0 && json_object_get(p->seen, key) != NULL) {
		json_decref(list);
		return errmsg_set(err, ERR_INVALID, "%s: RRset %s %s is named twice", path, name,
				  type);
	}
	if (r == 0)
		r = json_object_set_new(p->seen, key, json_true()) < 0 ? -ENOMEM : 0;
	if (r == 0 && with_records)
		r = json_object_set_new(p->emptied, key, json_true()) < 0 ? -ENOMEM : 0;
	if (r == 0 && with_comments)
		r = json_object_set_new(p->comments, key, list != NULL ? list : json_array()) < 0
			? -ENOMEM
			: 0;
	else
		json_decref(list);
	if (r == 0 && !replace && json_array_size(records) > 0)
		r = errmsg_set(err, ERR_INVALID, "%s.records: a DELETE carries no records", path);
	if (r == 0 && replace && with_records)
		r = rrset_records(w, set, i, origin, record_flags, p->flat, err);
	if (r == 0) {
		const char *what = !replace			  ? "delete"
				   : !with_records		  ? "comment"
				   : json_array_size(records) > 0 ? "replace"
								  : "delete";
		r = buf_printf(&p->text, "%s%s %s %s", i > 0 ? ", " : "", what, name, type);
		r = r == -E2BIG ? 0 : r; /* history_summary() cuts it anyway */
	}
	return r;
}

/* A patch that changes only comments: they are not served, so no version
 * and nothing pushed; the audit log keeps it. */
static int comments_only(struct whm *w, int64_t zone_id, const json_t *comments,
			 uint64_t if_version, const char *actor, const char *summary,
			 struct zone_result *res, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;

	int r = zones_begin_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	if (if_version != 0 && if_version != z.version)
		r = errmsg_set(err, ERR_CONFLICT,
			       "the zone is at version %llu, not %llu: it changed since then; "
			       "nothing was changed",
			       (unsigned long long)z.version, (unsigned long long)if_version);
	if (r == 0)
		r = zones_write_comments(st, zone_id, comments);
	if (r == 0)
		r = history_note_zone(st, &z, actor, "rrsets.comments", summary);
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		zones_fail(st, r, err, "storing the comments");
	} else {
		*res = (struct zone_result){ .zone_id = zone_id,
					     .version = z.version,
					     .serial = z.serial };
	}
	store_zone_clear(&z);
	return r;
}

int zones_rrsets_patch(struct whm *w, int64_t zone_id, const json_t *rrsets, uint64_t if_version,
		       unsigned record_flags, const char *actor, struct zone_result *res,
		       struct errmsg *err)
{
	char summary[HISTORY_SUMMARY_MAX];
	struct store *st;
	struct store_zone z;
	struct patch p = { 0 };
	size_t i;
	json_t *set;

	if (!json_is_array(rrsets) || json_array_size(rrsets) == 0)
		return errmsg_set(err, ERR_INVALID,
				  "rrsets: an array of at least one RRset change");
	if (json_array_size(rrsets) > w->conf.max_zone_records)
		return errmsg_set(err, ERR_TOO_LARGE, "rrsets: more than %llu RRsets",
				  (unsigned long long)w->conf.max_zone_records);
	int r = catalog_guard(w, zone_id, err);
	if (r < 0)
		return r;
	r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	r = zones_editable(st, zone_id, err);
	if (r < 0) {
		store_zone_clear(&z);
		return r;
	}
	p.seen = json_object();
	p.emptied = json_object();
	p.flat = json_array();
	p.comments = json_object();
	buf_init(&p.text, (size_t)4 * HISTORY_SUMMARY_MAX);
	r = p.seen != NULL && p.emptied != NULL && p.flat != NULL && p.comments != NULL
		? buf_puts(&p.text, "rrsets: ")
		: -ENOMEM;
	json_array_foreach(rrsets, i, set) {
		if (r < 0)
			break;
		r = rrset_change(w, set, i, z.domain, record_flags, &p, err);
		if (r == 0 && json_array_size(p.flat) > w->conf.max_zone_records)
			r = errmsg_set(err, ERR_TOO_LARGE, "rrsets: more than %llu records",
				       (unsigned long long)w->conf.max_zone_records);
	}
	store_zone_clear(&z);
	history_summary(summary, "%.*s", (int)p.text.len, p.text.data ? p.text.data : "");
	buf_free(&p.text);
	if (r == 0 && json_object_size(p.emptied) == 0) {
		r = comments_only(w, zone_id, p.comments, if_version, actor, summary, res, err);
	} else if (r == 0) {
		struct zones_set_spec spec = { .records = p.flat,
					       .merge = true,
					       .emptied = p.emptied,
					       .if_version = if_version,
					       .comments = p.comments,
					       .action = "rrsets.patch",
					       .summary = summary };
		r = zones_records_apply(w, zone_id, &spec, actor, res, err);
	}
	json_decref(p.seen);
	json_decref(p.emptied);
	json_decref(p.flat);
	json_decref(p.comments);
	return r == -ENOMEM && err->text[0] == '\0' ? errmsg_set(err, r, "out of memory") : r;
}
