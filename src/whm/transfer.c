#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "store/store.h"
#include "transfer.h"
#include "zones_soa.h"
#include "zones_steer.h"

/* One more problem with the input, about its SOA ('where' stolen; JSON null
 * when it has none). */
static int soa_error(struct import_result *c, enum import_format fmt, json_t *where,
		     const char *msg)
{
	json_t *e = json_pack("{s:o,s:s}", fmt == IMPORT_BIND ? "line" : "path",
			      where != NULL ? where : json_null(), "message", msg);
	return e != NULL && json_array_append_new(c->errors, e) == 0 ? 0 : -ENOMEM;
}

int transfer_import(struct whm *w, int64_t zone_id, enum import_format fmt, const char *text,
		    size_t len, bool merge, bool keep_soa, uint64_t if_version, const char *actor,
		    struct transfer_result *res, json_t **ret_errors, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	struct import_result c = { 0 };
	int r;

	*ret_errors = NULL;
	memset(res, 0, sizeof(*res));
	r = zones_get_live(w, zone_id, &st, &z, err);
	if (r < 0)
		return r;
	r = import_read(fmt, text, len, z.domain, w->conf.default_ttl, w->conf.max_zone_records,
			&c);
	/* With keep_soa the file's SOA fields become the zone's: they must be
	 * there, and valid as the zone's own. */
	struct zone_soa soa_in;
	if (r == 0 && keep_soa && !c.soa_seen) {
		r = soa_error(&c, fmt, NULL, "asked to keep the file's SOA, but it has none");
	} else if (r == 0 && keep_soa) {
		struct errmsg msgbuf;
		if (zone_soa_from_rdata(w, c.soa_rdata, &soa_in, &msgbuf) < 0)
			r = soa_error(&c, fmt, json_incref(c.soa_where), msgbuf.text);
	}
	if (r < 0)
		goto out;
	if (json_array_size(c.errors) > 0) {
		errmsg_set(err, 0, "%zu error%s in the %s; nothing was imported",
			   json_array_size(c.errors), json_array_size(c.errors) > 1 ? "s" : "",
			   fmt == IMPORT_BIND ? "zone file" : "Route 53 data");
		*ret_errors = c.errors;
		c.errors = NULL;
		r = ERR_INVALID;
		goto out;
	}
	char soa[STORE_ZONE_SOA_MAX];
	if (keep_soa)
		zone_soa_write(&soa_in, soa);
	r = zones_records_import(w, zone_id, c.records, merge, c.soa_seen ? &c.soa_serial : NULL,
				 keep_soa ? soa : NULL, if_version, actor, &res->change, err);
	if (r == ERR_INVALID || r == ERR_TOO_LARGE) {
		/* The zone as a whole (CNAME next to other data, no apex NS...). */
		import_add_zone_error(&c, fmt, err->text);
		*ret_errors = c.errors;
		c.errors = NULL;
		goto out;
	}
	if (r >= 0) {
		res->changed = r == 0;
		res->imported = json_array_size(c.records);
		res->soa_seen = c.soa_seen;
		res->soa_kept = keep_soa;
		res->soa_serial = c.soa_serial;
		r = 0;
	}
out:
	if (r == -ENOMEM)
		errmsg_set(err, 0, "out of memory");
	import_result_clear(&c);
	store_zone_clear(&z);
	return r;
}

/* --- export --------------------------------------------------------------- */

static int export_record(struct buf *out, const json_t *o)
{
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *prio_sep = "";
	char prio[16] = "";
	if (strcmp(type, "MX") == 0 || strcmp(type, "SRV") == 0) {
		snprintf(prio, sizeof(prio), "%lld",
			 (long long)json_integer_value(json_object_get(o, "priority")));
		prio_sep = " ";
	}
	return buf_printf(out, "%s\t%lld\tIN\t%s\t%s%s%s\n",
			  json_string_value(json_object_get(o, "name")),
			  (long long)json_integer_value(json_object_get(o, "ttl")), type, prio,
			  prio_sep, json_string_value(json_object_get(o, "content")));
}

/* 'text' for a comment line: as it is when it holds no control byte (a
 * stored owner name is presentation text), else log_sanitize()d. */
static const char *comment_text(const char *text, char *tmp, unsigned len)
{
	for (const char *p = text; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			log_sanitize(text, tmp, len);
			return tmp;
		}
	}
	return text;
}

/* Comment lines naming the RRsets that have a routing policy
 * (zones_steer_load()'s object). A policy is not a record: the file
 * holds the RRset's own records, and an import keeps the policy (the
 * import ignores comments). */
static int export_policies(struct buf *out, const json_t *policies)
{
	char tmp[2 * DNAME_TEXT_MAX];
	const char *key;
	json_t *v;
	int r = 0;

	if (json_object_size(policies) == 0)
		return 0;
	r = buf_printf(out,
		       "; routing policies, kept beside the records and not written here: an\n"
		       "; import keeps an RRset's policy while it leaves the RRset's records as "
		       "they are\n");
	json_object_foreach((json_t *)policies, key, v) {
		char name[DNAME_TEXT_MAX];
		const char *type;
		const char *kind =
		    json_string_value(json_object_get(json_object_get(v, "policy"), "type"));
		if (r < 0 || zones_steer_key_split(key, name, &type) < 0)
			continue;
		if (kind == NULL || kind[0] == '\0' ||
		    strspn(kind, "abcdefghijklmnopqrstuvwxyz") != strlen(kind))
			kind = "unknown";
		r = buf_printf(out, "; routing policy: %s %s %s, %s\n",
			       comment_text(name, tmp, sizeof(tmp)), type, kind,
			       json_is_true(json_object_get(v, "per_record"))
				   ? "on its records (their routing_policy)"
				   : "on the RRset, which has no records (PUT .../policies)");
	}
	return r;
}

int transfer_export(struct whm *w, int64_t zone_id, struct buf *out, struct errmsg *err)
{
	struct store *st = whm_store(w);
	char domain[DNAME_TEXT_MAX];
	uint64_t version;
	bool deleted;
	json_t *payload;

	err->text[0] = '\0';
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	/* The records as stored: those of an RRset with a routing policy, not
	 * the LUA record and the health record the nodes serve for it. */
	int r = zones_export_payload(w, st, zone_id, &payload, &version, &deleted, domain,
				     sizeof(domain));
	if (r == -ENOENT || (r == 0 && deleted))
		return errmsg_set(err, ERR_NOT_FOUND, "no such zone");
	if (r < 0)
		return errmsg_set(err, r, "reading the zone: %s", err_str(r));
	json_t *records = json_object_get(payload, "records");
	r = buf_printf(out,
		       "; zone %s exported by yumna-whm (version %llu, serial %lld)\n"
		       "$ORIGIN %s\n$TTL %llu\n",
		       domain, (unsigned long long)version,
		       (long long)json_integer_value(
			   json_object_get(json_object_get(payload, "zone"), "serial")),
		       domain, (unsigned long long)w->conf.default_ttl);
	if (r == 0)
		r = export_policies(out, json_object_get(payload, "policies"));
	/* The SOA first, as RFC 1035 section 5.2 wants. */
	size_t i;
	json_t *o;
	json_array_foreach(records, i, o) {
		if (r == 0 && strcmp(json_string_value(json_object_get(o, "type")), "SOA") == 0)
			r = export_record(out, o);
	}
	json_array_foreach(records, i, o) {
		if (r == 0 && strcmp(json_string_value(json_object_get(o, "type")), "SOA") != 0)
			r = export_record(out, o);
	}
	json_decref(payload);
	if (r < 0)
		errmsg_set(err, 0, "the zone does not fit: %s", err_str(r));
	return r;
}
