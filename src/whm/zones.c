#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "model/ztree.h"
#include "zkeys.h"
#include "zones.h"
#include "zones_soa.h"

#define TYPE_SOA "SOA"

/* A record as the push payload carries it. */
static json_t *payload_record(int64_t id, const char *name, const char *type, const char *content,
			      uint32_t ttl, uint32_t priority)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "name", name, "type", type, "content", content,
			      "ttl", (json_int_t)ttl);
	if (o != NULL && id > 0)
		json_object_set_new(o, "id", json_integer(id));
	if (o != NULL && (strcmp(type, "MX") == 0 || strcmp(type, "SRV") == 0))
		json_object_set_new(o, "priority", json_integer(priority));
	return o;
}

static int collect_record(const struct store_record *r, void *ctx)
{
	json_t *o = payload_record(r->id, r->name, r->type, r->content, r->ttl, r->priority);
	return o != NULL && json_array_append_new(ctx, o) == 0 ? 0 : -ENOMEM;
}

static int load_records(struct store *st, int64_t zone_id, json_t **ret)
{
	json_t *a = json_array();
	int r = a ? store_record_foreach(st, zone_id, collect_record, a) : -ENOMEM;
	if (r < 0) {
		json_decref(a);
		return r;
	}
	*ret = a;
	return 0;
}

/* The payload of 'z' with 'records' (borrowed) and the zone's SOA as the
 * controller has it, so every node publishes the same SOA whatever its own
 * defaults. */
static json_t *build_payload(const struct whm *w, const struct store_zone *z, json_t *records,
			     json_t *dnssec)
{
	char soa[2 * DNAME_TEXT_MAX + 80];
	const struct whm_conf *c = &w->conf;

	zone_soa_text(w, z, soa, sizeof(soa));
	json_t *all = json_array();
	if (all == NULL)
		return NULL;
	json_array_extend(all, records);
	json_array_append_new(all, payload_record(0, "@", TYPE_SOA, soa, (uint32_t)c->soa_ttl, 0));
	json_t *p =
	    json_pack("{s:{s:s,s:I,s:I},s:o}", "zone", "domain", z->domain, "version",
		      (json_int_t)z->version, "serial", (json_int_t)z->serial, "records", all);
	if (p != NULL && dnssec != NULL)
		json_object_set(json_object_get(p, "zone"), "dnssec", dnssec);
	return p;
}

/* Validate the zone as it would be with 'records'; the same check every
 * agent runs on the push. Sets z->rdigest, the digest of those records. */
static int validate(const struct whm *w, struct store_zone *z, json_t *records, struct errmsg *err)
{
	struct soa_defaults soa;
	struct zone_push p;
	struct errmsg msg;

	json_t *payload = build_payload(w, z, records, NULL);
	if (payload == NULL)
		return -ENOMEM;
	whm_soa_defaults(w, &soa);
	int r = model_push_parse(payload, &w->limits, &soa, &p, &msg);
	json_decref(payload);
	if (r < 0)
		return errmsg_set(err, r, "%s", msg.text);
	struct zone_digest d;
	zone_digest_init(&d);
	zone_digest_add_zone(&d, &p.data);
	r = zone_digest_final(&d, z->rdigest, NULL);
	zone_push_clear(&p);
	if (r < 0)
		errmsg_set(err, 0, "digest: %s", err_str(r));
	return r;
}

int zones_digest(struct whm *w, struct store *st, struct store_zone *z, char ret[ZONE_DIGEST_HEX])
{
	if (z->deleted) {
		ret[0] = '\0';
		return 0;
	}
	if (z->rdigest[0] == '\0') {
		/* A zone stored before digests: computed once, then kept. */
		struct errmsg err;
		json_t *records = NULL;
		int r = load_records(st, z->id, &records);
		if (r == 0)
			r = validate(w, z, records, &err);
		json_decref(records);
		if (r < 0)
			return r;
		store_zone_set_rdigest(st, z->id, z->version, z->rdigest);
	}
	return zone_soa_digest(w, z, ret);
}

static int fail(struct store *st, int r, struct errmsg *err, const char *what)
{
	store_rollback(st);
	if (err->text[0] == '\0')
		errmsg_set(err, 0, "%s: %s", what, err_str(r));
	return r;
}

/* The zone kept changing under a change CHANGE_ATTEMPTS times. */
static int busy(struct errmsg *err)
{
	return errmsg_set(err, ERR_UNAVAILABLE, "the zone is changing too fast; try again");
}

/* Read zone 'zone_id' and its records, outside any transaction: a change
 * is prepared and validated (the costly part) while other changes commit,
 * and lock_unchanged() then makes sure nothing moved meanwhile. */
int zones_get_live(struct whm *w, int64_t zone_id, struct store **ret_st, struct store_zone *z,
		   struct errmsg *err)
{
	struct store *st = whm_store(w);
	err->text[0] = '\0';
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	*ret_st = st;
	int r = store_zone_get(st, zone_id, z);
	if (r == 0 && z->deleted) {
		store_zone_clear(z);
		r = -ENOENT;
	}
	if (r == -ENOENT)
		return errmsg_set(err, ERR_NOT_FOUND, "zone %lld does not exist",
				  (long long)zone_id);
	if (r < 0)
		errmsg_set(err, 0, "reading the zone: %s", err_str(r));
	return r;
}

static int read_zone(struct whm *w, struct store **ret_st, int64_t zone_id, struct store_zone *z,
		     json_t **records, struct errmsg *err)
{
	int r = zones_get_live(w, zone_id, ret_st, z, err);
	if (r < 0)
		return r;
	r = load_records(*ret_st, zone_id, records);
	if (r < 0) {
		store_zone_clear(z);
		errmsg_set(err, 0, "reading the records: %s", err_str(r));
	}
	return r;
}

/* Open the write transaction if the zone is still at 'version'; -EAGAIN
 * (nothing open) if another change committed since it was read. */
static int lock_unchanged(struct store *st, int64_t zone_id, uint64_t version, struct errmsg *err)
{
	struct store_zone now;
	int r = store_begin(st);
	if (r < 0)
		return fail(st, r, err, "starting a transaction");
	r = store_zone_get(st, zone_id, &now);
	if (r < 0)
		return fail(st, r, err, "reading the zone");
	bool same = now.version == version && !now.deleted;
	store_zone_clear(&now);
	if (!same) {
		store_rollback(st);
		return -EAGAIN;
	}
	return 0;
}

#define CHANGE_ATTEMPTS 8

/* The next version and serial of 'z'. */
static void bump(struct store_zone *z)
{
	z->version++;
	z->serial = model_serial_next(z->serial, time(NULL));
	z->updated_at = whm_now();
}

int zones_on_commit(struct whm *w, zones_commit_fn fn, void *ctx)
{
	if (w->n_commit_observers == WHM_COMMIT_OBSERVERS)
		return -ENOSPC;
	w->commit_observers[w->n_commit_observers++] = (struct whm_commit_observer){ fn, ctx };
	return 0;
}

/* Tell the observers, in the order they registered. */
static void committed(struct whm *w, struct store *st, const struct store_zone *old,
		      const struct store_zone *now)
{
	for (unsigned i = 0; i < w->n_commit_observers; i++)
		w->commit_observers[i].fn(w, st, old, now, w->commit_observers[i].ctx);
}

/* Close a change: zone row, what every node must reach, audit, commit,
 * tell the observers. */
static int finish_change(struct whm *w, struct store *st, const struct store_zone *old,
			 struct store_zone *z, const char *actor, const char *action,
			 const char *detail, struct zone_result *res, struct errmsg *err)
{
	int r = store_zone_update(st, z);
	if (r == 0)
		r = store_sync_want_all(st, z->id, z->version);
	if (r == 0)
		r = store_audit(st, actor, action, z->id, detail);
	if (r == 0)
		r = store_commit(st);
	if (r < 0)
		return fail(st, r, err, "committing");
	res->zone_id = z->id;
	res->version = z->version;
	res->serial = z->serial;
	committed(w, st, old, z);
	return 0;
}

int zones_change(struct whm *w, int64_t zone_id, zones_change_fn fn, void *ctx, const char *actor,
		 const char *action, struct zone_result *res, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	int r = -EAGAIN;

	for (int attempt = 0; r == -EAGAIN && attempt < CHANGE_ATTEMPTS; attempt++) {
		r = zones_get_live(w, zone_id, &st, &z, err);
		if (r < 0)
			return r;
		r = lock_unchanged(st, zone_id, z.version, err);
		if (r == 0) {
			struct store_zone old = z; /* before 'fn': a delete changes it */
			r = fn(st, &z, ctx, err);
			if (r == 0) {
				bump(&z);
				r = finish_change(w, st, &old, &z, actor, action, z.domain, res,
						  err);
			} else {
				store_rollback(st);
				if (r > 0) { /* nothing to change */
					res->zone_id = z.id;
					res->version = 0;
					res->serial = z.serial;
				}
			}
		}
		store_zone_clear(&z);
	}
	return r == -EAGAIN ? busy(err) : r;
}

int zones_create(struct whm *w, const char *domain, int64_t server_id, int64_t user_id,
		 const char *actor, struct zone_result *res, struct errmsg *err)
{
	char origin[DNAME_TEXT_MAX];
	struct errmsg derr;
	struct store_zone z = { 0 }, old;
	struct store *st = whm_store(w);
	json_t *records = NULL;

	err->text[0] = '\0';
	int r = dname_zone_normalize(domain, origin, &derr);
	if (r < 0)
		return errmsg_set(err, ERR_INVALID, "domain: %s", derr.text);
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	r = store_begin(st);
	if (r < 0)
		return fail(st, r, err, "starting a transaction");
	if (server_id > 0) {
		struct store_server s;
		r = store_server_get(st, server_id, &s);
		if (r == -ENOENT) {
			errmsg_set(err, 0, "server %lld does not exist", (long long)server_id);
			return fail(st, ERR_NOT_FOUND, err, "");
		}
		if (r < 0)
			return fail(st, r, err, "reading the server");
		store_server_clear(&s);
	}
	z.domain = origin;
	z.bucket = (int32_t)ztree_bucket(origin);
	z.server_id = server_id;
	z.user_id = user_id;
	z.created_at = z.updated_at = whm_now();
	z.version = 1;
	z.serial = model_serial_next(0, time(NULL));
	/* A tombstone of the same name continues its version and serial. */
	r = store_zone_get_by_name(st, origin, &old);
	if (r == 0) {
		bool live = !old.deleted;
		z.version = old.version + 1;
		z.serial = model_serial_next(old.serial, time(NULL));
		store_zone_clear(&old);
		if (live) {
			errmsg_set(err, 0, "zone '%s' already exists", origin);
			return fail(st, ERR_CONFLICT, err, "");
		}
	} else if (r != -ENOENT) {
		return fail(st, r, err, "reading zones");
	}

	records = json_array();
	for (unsigned i = 0; records != NULL && i < w->n_default_ns; i++)
		json_array_append_new(records, payload_record(0, "@", "NS", w->default_ns[i],
							      (uint32_t)w->conf.default_ttl, 0));
	r = records ? validate(w, &z, records, err) : -ENOMEM;
	if (r == 0)
		r = store_zone_insert(st, &z);
	for (unsigned i = 0; r == 0 && i < w->n_default_ns; i++) {
		struct store_record rec = { .zone_id = z.id,
					    .name = "@",
					    .type = "NS",
					    .content = w->default_ns[i],
					    .ttl = (uint32_t)w->conf.default_ttl,
					    .created_at = z.created_at };
		r = store_record_insert(st, &rec);
	}
	json_decref(records);
	if (r == ERR_CONFLICT)
		errmsg_set(err, 0, "zone '%s' already exists", origin);
	if (r < 0)
		return fail(st, r, err, "creating the zone");
	return finish_change(w, st, NULL, &z, actor, "zone.create", origin, res, err);
}

/* zones_change() step of a delete: the zone becomes a tombstone without
 * records or keys. */
static int mark_deleted(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	(void)ctx;
	z->deleted = true;
	z->dnssec = false;
	z->rdigest[0] = '\0';
	z->soa[0] = '\0';
	int r = store_record_delete_zone(st, z->id);
	if (r == 0)
		r = store_dnssec_delete(st, z->id);
	if (r < 0)
		errmsg_set(err, 0, "deleting records: %s", err_str(r));
	return r;
}

int zones_delete(struct whm *w, int64_t zone_id, const char *actor, struct zone_result *res,
		 struct errmsg *err)
{
	return zones_change(w, zone_id, mark_deleted, NULL, actor, "zone.delete", res, err);
}

/* Add or replace (when 'replace_id' > 0) one record, or delete it
 * ('rec' NULL), as one version of the zone. */
static int record_change(struct whm *w, int64_t zone_id, int64_t replace_id, const json_t *rec,
			 const char *actor, const char *action, struct zone_result *res,
			 struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	json_t *records;
	struct model_record mr = { 0 };
	struct errmsg msg;
	int r = -EAGAIN;

	for (int attempt = 0; r == -EAGAIN && attempt < CHANGE_ATTEMPTS; attempt++) {
		r = read_zone(w, &st, zone_id, &z, &records, err);
		if (r < 0)
			return r;
		uint64_t seen = z.version;
		model_record_clear(&mr);
		if (rec != NULL) {
			r = model_record_parse(rec, z.domain, (uint32_t)w->conf.default_ttl, &mr,
					       &msg);
			if (r < 0)
				errmsg_set(err, 0, "%s", msg.text);
			else if (strcmp(mr.type, TYPE_SOA) == 0) {
				errmsg_set(err, 0,
					   "record.type: the SOA is managed by the controller");
				r = ERR_INVALID;
			}
		}
		if (r == 0 && replace_id > 0) {
			size_t i;
			json_t *o;
			json_array_foreach(records, i, o) {
				if (json_integer_value(json_object_get(o, "id")) == replace_id) {
					json_array_remove(records, i);
					break;
				}
			}
		}
		if (r == 0 && rec != NULL)
			r = json_array_append_new(records,
						  payload_record(replace_id, mr.name, mr.type,
								 mr.content, mr.ttl, mr.priority))
				? -ENOMEM
				: 0;
		struct store_zone old = z;
		bump(&z);
		if (r == 0)
			r = validate(w, &z, records, err);
		if (r == 0)
			r = lock_unchanged(st, zone_id, seen, err);
		if (r == 0) {
			struct store_record row = { .id = replace_id,
						    .zone_id = zone_id,
						    .name = mr.name,
						    .type = mr.type,
						    .content = mr.content,
						    .ttl = mr.ttl,
						    .priority = mr.priority,
						    .created_at = whm_now() };
			if (rec == NULL)
				r = store_record_delete(st, replace_id);
			else if (replace_id > 0)
				r = store_record_update(st, &row);
			else
				r = store_record_insert(st, &row);
			if (r == 0) {
				char detail[300];
				res->record_id = row.id;
				snprintf(detail, sizeof(detail), "record %lld", (long long)row.id);
				r = finish_change(w, st, &old, &z, actor, action, detail, res, err);
			} else {
				r = fail(st, r, err, "writing the record");
			}
		}
		json_decref(records);
		store_zone_clear(&z);
	}
	model_record_clear(&mr);
	return r == -EAGAIN ? busy(err) : r;
}

int zones_record_add(struct whm *w, int64_t zone_id, const json_t *rec, const char *actor,
		     struct zone_result *res, struct errmsg *err)
{
	return record_change(w, zone_id, 0, rec, actor, "record.create", res, err);
}

/* The zone a record belongs to. */
static int record_zone(struct whm *w, int64_t record_id, int64_t *ret_zone, struct errmsg *err)
{
	struct store *st = whm_store(w);
	struct store_record r;
	err->text[0] = '\0';
	if (st == NULL)
		return errmsg_set(err, ERR_UNAVAILABLE, "the store is unavailable");
	int rc = store_record_get(st, record_id, &r);
	if (rc == -ENOENT)
		return errmsg_set(err, ERR_NOT_FOUND, "record %lld does not exist",
				  (long long)record_id);
	if (rc < 0) {
		errmsg_set(err, 0, "reading the record: %s", err_str(rc));
		return rc;
	}
	*ret_zone = r.zone_id;
	store_record_clear(&r);
	return 0;
}

int zones_record_update(struct whm *w, int64_t record_id, const json_t *rec, const char *actor,
			struct zone_result *res, struct errmsg *err)
{
	int64_t zone_id;
	int r = record_zone(w, record_id, &zone_id, err);
	return r < 0 ? r
		     : record_change(w, zone_id, record_id, rec, actor, "record.update", res, err);
}

int zones_record_delete(struct whm *w, int64_t record_id, const char *actor,
			struct zone_result *res, struct errmsg *err)
{
	int64_t zone_id;
	int r = record_zone(w, record_id, &zone_id, err);
	return r < 0 ? r
		     : record_change(w, zone_id, record_id, NULL, actor, "record.delete", res, err);
}

/* The key of an RRset in a set of them: owner and type. A normalised
 * owner never holds a raw tab (it would be written \009). */
static int rrset_key(const char *name, const char *type, char *out, size_t len)
{
	int n = snprintf(out, len, "%s\t%s", name, type);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* True if 'o' (a payload record) belongs to an RRset in 'named' (a JSON
 * object used as a hashed set of rrset_key()s). */
static bool in_rrsets(const json_t *o, const json_t *named)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *type = json_string_value(json_object_get(o, "type"));
	char key[DNAME_TEXT_MAX + 40];
	return name != NULL && type != NULL && rrset_key(name, type, key, sizeof(key)) == 0 &&
	       json_object_get(named, key) != NULL;
}

/* The same records (R), the same SOA fields and no serial ahead to move
 * past: committing would only raise the version and the serial. */
static bool same_zone(const struct store_zone *before, const struct store_zone *z,
		      const uint32_t *min_serial)
{
	return before->rdigest[0] != '\0' && strcmp(before->rdigest, z->rdigest) == 0 &&
	       strcmp(before->soa, z->soa) == 0 &&
	       (min_serial == NULL || (int32_t)(*min_serial - before->serial) <= 0);
}

/* Replace every record (or, with 'merge', every RRset the new records
 * name) as one version; the serial goes above 'min_serial' when given, the
 * zone's SOA fields become 'soa' when given. With 'noop', a change that
 * leaves the zone as it is commits nothing (res->version is 0). */
static int records_set(struct whm *w, int64_t zone_id, const json_t *records_in, bool merge,
		       const uint32_t *min_serial, const char *soa, bool noop, const char *actor,
		       const char *action, struct zone_result *res, struct errmsg *err)
{
	struct store *st;
	struct store_zone z;
	json_t *old;
	struct errmsg msg;
	size_t n = json_array_size(records_in), i;
	struct model_record *mr = calloc(n + 1, sizeof(*mr));
	int r = mr != NULL ? -EAGAIN : -ENOMEM;

	for (int attempt = 0; r == -EAGAIN && attempt < CHANGE_ATTEMPTS; attempt++) {
		json_t *records = json_array();
		r = read_zone(w, &st, zone_id, &z, &old, err);
		if (r < 0) {
			json_decref(records);
			break;
		}
		uint64_t seen = z.version;
		json_t *named = json_object();
		if (named == NULL)
			r = -ENOMEM;
		for (i = 0; i < n; i++)
			model_record_clear(&mr[i]);
		for (i = 0; r == 0 && i < n; i++) {
			r = model_record_parse(json_array_get(records_in, i), z.domain,
					       (uint32_t)w->conf.default_ttl, &mr[i], &msg);
			if (r < 0) {
				errmsg_set(err, 0, "records[%zu]: %s", i, msg.text);
			} else if (strcmp(mr[i].type, TYPE_SOA) == 0) {
				errmsg_set(err, 0,
					   "records[%zu]: the SOA is managed by the controller", i);
				r = ERR_INVALID;
			} else {
				char key[DNAME_TEXT_MAX + 40];
				json_array_append_new(records,
						      payload_record(0, mr[i].name, mr[i].type,
								     mr[i].content, mr[i].ttl,
								     mr[i].priority));
				r = rrset_key(mr[i].name, mr[i].type, key, sizeof(key));
				if (r == 0)
					r = json_object_set_new(named, key, json_true()) ? -ENOMEM
											 : 0;
			}
		}
		/* Merge: the records of RRsets the change does not name stay. */
		json_t *o;
		json_array_foreach(old, i, o) {
			if (r == 0 && merge && !in_rrsets(o, named))
				json_array_append(records, o);
		}
		struct store_zone before = z;
		bump(&z);
		if (min_serial != NULL && (int32_t)(*min_serial - z.serial) >= 0)
			z.serial = model_serial_next(*min_serial, time(NULL));
		if (soa != NULL)
			snprintf(z.soa, sizeof(z.soa), "%s", soa);
		if (r == 0)
			r = validate(w, &z, records, err);
		json_decref(records);
		if (r == 0 && noop && same_zone(&before, &z, min_serial)) {
			*res = (struct zone_result){ .zone_id = zone_id,
						     .version = before.version,
						     .serial = before.serial };
			r = 1;
		}
		if (r == 0)
			r = lock_unchanged(st, zone_id, seen, err);
		if (r == 0) {
			if (!merge) {
				r = store_record_delete_zone(st, zone_id);
			} else {
				json_array_foreach(old, i, o) {
					if (r == 0 && in_rrsets(o, named))
						r = store_record_delete(
						    st,
						    json_integer_value(json_object_get(o, "id")));
				}
			}
			for (i = 0; r == 0 && i < n; i++) {
				struct store_record row = { .zone_id = zone_id,
							    .name = mr[i].name,
							    .type = mr[i].type,
							    .content = mr[i].content,
							    .ttl = mr[i].ttl,
							    .priority = mr[i].priority,
							    .created_at = whm_now() };
				r = store_record_insert(st, &row);
			}
			if (r == 0)
				r = finish_change(w, st, &before, &z, actor, action, z.domain, res,
						  err);
			else
				r = fail(st, r, err, "replacing the records");
		}
		json_decref(named);
		json_decref(old);
		store_zone_clear(&z);
	}
	for (i = 0; mr != NULL && i < n; i++)
		model_record_clear(&mr[i]);
	free(mr);
	return r == -EAGAIN ? busy(err) : r;
}

int zones_records_replace(struct whm *w, int64_t zone_id, const json_t *records_in,
			  const char *actor, struct zone_result *res, struct errmsg *err)
{
	int r = records_set(w, zone_id, records_in, false, NULL, NULL, false, actor,
			    "records.replace", res, err);
	return r > 0 ? 0 : r;
}

int zones_records_import(struct whm *w, int64_t zone_id, const json_t *records, bool merge,
			 const uint32_t *min_serial, const char *soa, const char *actor,
			 struct zone_result *res, struct errmsg *err)
{
	return records_set(w, zone_id, records, merge, min_serial, soa, true, actor,
			   merge ? "zone.import.merge" : "zone.import.replace", res, err);
}

int zones_payload(struct whm *w, struct store *st, int64_t zone_id, json_t **ret,
		  uint64_t *ret_version, bool *ret_deleted, char *ret_domain, size_t domain_len)
{
	struct store_zone z, again = { 0 };
	json_t *records;

	/* Records are read between two reads of the zone row: if the version
	 * moved meanwhile, read again, so a payload never labels newer or
	 * older records with the wrong version. */
	for (int attempt = 0; attempt < 5; attempt++) {
		int r = store_zone_get(st, zone_id, &z);
		if (r < 0)
			return r;
		snprintf(ret_domain, domain_len, "%s", z.domain);
		*ret_version = z.version;
		*ret_deleted = z.deleted;
		if (z.deleted) {
			*ret = NULL;
			store_zone_clear(&z);
			return 0;
		}
		json_t *dnssec = NULL;
		r = load_records(st, zone_id, &records);
		if (r == 0) {
			r = zkeys_payload(st, zone_id, &dnssec);
			if (r < 0)
				json_decref(records);
		}
		if (r == 0)
			r = store_zone_get(st, zone_id, &again);
		if (r < 0) {
			store_zone_clear(&z);
			return r;
		}
		bool stable = again.version == z.version;
		store_zone_clear(&again);
		if (stable) {
			*ret = build_payload(w, &z, records, dnssec);
			json_decref(records);
			json_decref(dnssec);
			store_zone_clear(&z);
			return *ret ? 0 : -ENOMEM;
		}
		json_decref(records);
		json_decref(dnssec);
		store_zone_clear(&z);
	}
	return ERR_UNAVAILABLE;
}

int zones_raise_version(struct whm *w, struct store *st, int64_t zone_id, uint64_t node_version)
{
	struct store_zone z = { 0 };
	int r = store_begin(st);
	if (r == 0)
		r = store_zone_get(st, zone_id, &z);
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	struct store_zone old = z;
	if (z.version <= node_version) {
		z.version = node_version;
		bump(&z);
		log_notice("zone '%s': version raised to %llu, above the %llu a node holds",
			   z.domain, (unsigned long long)z.version,
			   (unsigned long long)node_version);
		r = store_zone_update(st, &z);
		if (r == 0)
			r = store_sync_want_all(st, z.id, z.version);
	}
	if (r == 0)
		r = store_commit(st);
	else
		store_rollback(st);
	if (r == 0 && old.version != z.version)
		committed(w, st, &old, &z);
	else if (r == 0)
		committed(w, st, NULL, NULL);
	store_zone_clear(&z);
	return r;
}

static void iso_time(int64_t t, char *out, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *zones_zone_json(const struct store_zone *z, uint64_t record_count)
{
	char created[32], domain[DNAME_TEXT_MAX];
	size_t n = strlen(z->domain);
	/* The panel shows names without the final dot. */
	snprintf(domain, sizeof(domain), "%.*s", (int)(n > 0 ? n - 1 : 0), z->domain);
	iso_time(z->created_at, created, sizeof(created));
	return json_pack("{s:I,s:s,s:I,s:I,s:b,s:s,s:I,s:I,s:I}", "id", (json_int_t)z->id, "domain",
			 domain, "userId", (json_int_t)z->user_id, "serverId",
			 (json_int_t)z->server_id, "dnssec_enabled", z->dnssec, "createdAt",
			 created, "records", (json_int_t)record_count, "version",
			 (json_int_t)z->version, "serial", (json_int_t)z->serial);
}

json_t *zones_record_json(const struct store_record *r)
{
	char created[32];
	iso_time(r->created_at, created, sizeof(created));
	return json_pack("{s:I,s:I,s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "id", (json_int_t)r->id, "zoneId",
			 (json_int_t)r->zone_id, "type", r->type, "name", r->name, "content",
			 r->content, "priority", (json_int_t)r->priority, "ttl", (json_int_t)r->ttl,
			 "status", "active", "createdAt", created);
}
