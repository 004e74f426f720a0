#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"

#include "api.h"
#include "apply.h"
#include "backend.h"
#include "base/err.h"
#include "base/log.h"
#include "base/secret.h"
#include "batch.h"
#include "dnssec.h"
#include "init.h"
#include "json/jsonx.h"
#include "metrics.h"
#include "model/model.h"
#include "pdns.h"
#include "steerhealth.h"
#include "xfr.h"
#include "xfrn.h"

/* Only the secret (or the metrics token for GET /metrics) is checked. */
static bool secret_given(struct http_request *req, const struct agent *a)
{
	unsigned n_secret = http_request_header_count(req, "X-Agent-Secret");
	unsigned n_auth = http_request_header_count(req, "Authorization");
	const char *given = NULL;

	if (n_secret + n_auth != 1)
		return false;
	if (n_secret == 1) {
		given = http_request_header(req, "X-Agent-Secret");
	} else {
		const char *h = http_request_header(req, "Authorization");
		/* RFC 9110 section 11.1: the scheme is case-insensitive. */
		if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
			return false;
		given = h + 7;
	}
	if (secret_equal(given, a->conf.secret))
		return true;
	/* A scraper's token reads the metrics and nothing else. */
	return a->conf.metrics_token != NULL && strcmp(http_request_method(req), "GET") == 0 &&
	       strcmp(http_request_path(req), "/metrics") == 0 &&
	       secret_equal(given, a->conf.metrics_token);
}

int api_authorize(struct http_request *req, void *ctx, const char **ret_msg)
{
	(void)ret_msg;
	return secret_given(req, ctx) ? 0 : ERR_AUTH;
}

/* The zone named by path parameter 0, normalised. */
static int path_zone(struct http_request *req, struct http_reply *rep, char zone[DNAME_TEXT_MAX])
{
	struct errmsg derr;
	int r = dname_zone_normalize(http_request_param(req, 0), zone, &derr);
	if (r < 0)
		http_reply_error(rep, r, derr.text);
	return r;
}

/* Decode the request body as JSON; an empty body gives 'empty_ok' ? NULL. */
static int body_json(struct http_request *req, struct http_reply *rep, bool empty_ok, json_t **ret)
{
	struct errmsg err;
	const struct buf *body = http_request_body(req);

	*ret = NULL;
	if (body->len == 0 && empty_ok)
		return 0;
	int r = jsonx_parse(body->data ? body->data : "", body->len, ret, &err);
	if (r < 0)
		http_reply_error(rep, r, err.text);
	return r;
}

static void sync_zone(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	struct errmsg err;
	struct soa_defaults soa;
	struct zone_push p;
	struct apply_result res = { 0 };
	json_t *j;
	double t0 = agent_mono_s();

	if (body_json(req, rep, false, &j) < 0) {
		atomic_fetch_add(&a->stats.pushes_rejected, 1);
		return;
	}
	agent_soa_defaults(a, &soa);
	int r = model_push_parse(j, &a->limits, &soa, &p, &err);
	json_decref(j);
	if (r < 0) {
		atomic_fetch_add(&a->stats.pushes_rejected, 1);
		http_reply_error(rep, r, err.text);
		return;
	}
	r = apply_push(a, &p, &res, &err);
	if (r < 0) {
		atomic_fetch_add(&a->stats.pushes_failed, 1);
		log_warn("zone '%s': push of version %llu failed: %s", p.data.origin,
			 (unsigned long long)p.version, err.text);
		http_reply_error(rep, r, err.text);
		zone_push_clear(&p);
		return;
	}
	char msg[400];
	if (res.applied) {
		atomic_fetch_add(&a->stats.pushes_applied, 1);
		agent_stats_observe(&a->stats, agent_mono_s() - t0);
		snprintf(msg, sizeof(msg), "zone '%s' applied at version %llu", p.data.origin,
			 (unsigned long long)res.version);
	} else {
		atomic_fetch_add(&a->stats.pushes_unchanged, 1);
		snprintf(msg, sizeof(msg),
			 "version %llu is not newer than %s version %llu; nothing changed",
			 (unsigned long long)p.version, res.deleted ? "the delete at" : "applied",
			 (unsigned long long)res.version);
	}
	json_t *out =
	    json_pack("{s:b,s:b,s:s,s:I,s:I,s:I,s:I,s:s,s:s}", "success", 1, "applied", res.applied,
		      "zone", p.data.origin, "version", (json_int_t)res.version, "serial",
		      (json_int_t)res.serial, "recordCount", (json_int_t)p.data.n, "domainId",
		      (json_int_t)res.domain_id, "message", msg, "digest", res.digest);
	/* The zone is not served: a delete at 'version' stands. A controller
	 * that still wants the zone must push a higher version. */
	if (res.deleted)
		json_object_set_new(out, "deleted", json_true());
	if (res.repaired)
		json_object_set_new(out, "repaired", json_true());
	http_reply_json(rep, 200, out);
	zone_push_clear(&p);
}

static void delete_zone(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	char zone[DNAME_TEXT_MAX], vtext[24];
	struct errmsg err;
	uint64_t version = 0;
	bool deleted;
	uint64_t kept;

	if (path_zone(req, rep, zone) < 0)
		return;
	int r = http_request_query(req, "version", vtext, sizeof(vtext));
	if (r == 0) {
		char *end;
		errno = 0;
		version = strtoull(vtext, &end, 10);
		if (vtext[0] < '0' || vtext[0] > '9' || *end != '\0' || errno != 0 ||
		    version == 0 || version > MODEL_VERSION_MAX) {
			http_reply_error(rep, ERR_INVALID, "version: must be an integer 1..2^63-1");
			return;
		}
	} else if (r != -ENOENT) {
		http_reply_error(rep, ERR_MALFORMED, "version: bad encoding");
		return;
	}
	r = apply_delete(a, zone, version, &deleted, &kept, &err);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	atomic_fetch_add(&a->stats.deletes, deleted ? 1 : 0);
	char msg[400];
	if (kept != 0)
		snprintf(msg, sizeof(msg),
			 "zone '%s' is served at version %llu, newer than the delete", zone,
			 (unsigned long long)kept);
	else
		snprintf(msg, sizeof(msg),
			 deleted ? "zone '%s' deleted" : "zone '%s' was not served here", zone);
	json_t *o = json_pack("{s:b,s:b,s:s,s:s}", "success", 1, "deleted", deleted, "zone", zone,
			      "message", msg);
	if (o != NULL && kept != 0)
		json_object_set_new(o, "kept", json_integer((json_int_t)kept));
	http_reply_json(rep, 200, o);
}

static int compare_zone(const void *x, const void *y)
{
	const struct apply_delete_zone *a = x, *b = y;
	return strcmp(a->zone, b->zone);
}

/* {"zones": [{"zone": NAME, "version": N (optional)}, ...]} into *ret (the
 * names owned, *ret_n of them filled). */
static int delete_batch_parse(const struct agent *a, const json_t *j,
			      struct apply_delete_zone **ret, size_t *ret_n, struct errmsg *err)
{
	static const char *const top[] = { "zones", NULL };
	static const char *const one[] = { "zone", "version", NULL };
	json_t *zones = NULL, *o;
	size_t i;

	*ret = NULL;
	*ret_n = 0;
	if (!json_is_object(j))
		return errmsg_set(err, ERR_INVALID, "body must be {\"zones\": [...]}");
	int r = jsonx_check_keys(j, top, "body", err);
	if (r == 0)
		r = jsonx_get_array(j, "zones", true, "body", &zones, err);
	if (r < 0)
		return r;
	size_t n = json_array_size(zones);
	if (n == 0)
		return errmsg_set(err, ERR_INVALID, "zones: must not be empty");
	if (n > a->conf.max_zones_per_batch)
		return errmsg_set(err, ERR_TOO_LARGE,
				  "zones: %zu zones, over max-zones-per-batch %llu", n,
				  (unsigned long long)a->conf.max_zones_per_batch);
	struct apply_delete_zone *d = calloc(n, sizeof(*d));
	if (d == NULL)
		return errmsg_set(err, -ENOMEM, "out of memory");
	json_array_foreach(zones, i, o) {
		char path[40], zone[DNAME_TEXT_MAX];
		const char *name;
		snprintf(path, sizeof(path), "zones[%zu]", i);
		if (!json_is_object(o))
			r = errmsg_set(err, ERR_INVALID, "%s: must be an object", path);
		if (r == 0)
			r = jsonx_check_keys(o, one, path, err);
		if (r == 0)
			r = jsonx_get_str(o, "zone", true, path, &name, err);
		/* Without a version: unconditional, as DELETE without ?version. */
		if (r == 0 && (r = jsonx_get_uint(o, "version", false, 1, MODEL_VERSION_MAX, path,
						  &d[i].version, err)) == -ENOENT)
			r = 0;
		struct errmsg why;
		if (r == 0 && (r = dname_zone_normalize(name, zone, &why)) < 0)
			errmsg_set(err, r, "%s.zone: %s", path, why.text);
		if (r == 0 && (d[i].zone = strdup(zone)) == NULL)
			r = errmsg_set(err, -ENOMEM, "out of memory");
		if (r < 0)
			break;
		*ret_n = i + 1;
	}
	*ret = d;
	if (r < 0)
		return r;
	struct apply_delete_zone *sorted = malloc(n * sizeof(*sorted));
	if (sorted == NULL)
		return errmsg_set(err, -ENOMEM, "out of memory");
	memcpy(sorted, d, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), compare_zone);
	for (i = 1; r == 0 && i < n; i++)
		if (strcmp(sorted[i - 1].zone, sorted[i].zone) == 0)
			r = errmsg_set(err, ERR_INVALID, "zones: '%s' is named twice",
				       sorted[i].zone);
	free(sorted);
	return r;
}

static void delete_batch(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	struct apply_delete_zone *d = NULL;
	struct errmsg err;
	size_t n = 0;
	json_t *j;

	if (body_json(req, rep, false, &j) < 0)
		return;
	int r = delete_batch_parse(a, j, &d, &n, &err);
	json_decref(j);
	if (r == 0)
		r = apply_delete_batch(a, d, n, &err);
	uint64_t deleted = 0;
	json_t *kept = json_array();
	for (size_t i = 0; i < n; i++) {
		deleted += d[i].deleted;
		if (r == 0 && d[i].kept != 0)
			json_array_append_new(kept, json_pack("{s:s,s:I}", "zone", d[i].zone,
							      "version", (json_int_t)d[i].kept));
	}
	atomic_fetch_add(&a->stats.deletes, deleted);
	if (r < 0) {
		json_decref(kept);
		http_reply_error(rep, r, err.text);
	} else {
		log_info("delete batch of %zu zones: %llu deleted", n, (unsigned long long)deleted);
		http_reply_json(rep, 200,
				json_pack("{s:b,s:I,s:I,s:o}", "success", 1, "zones", (json_int_t)n,
					  "deleted", (json_int_t)deleted, "kept", kept));
	}
	for (size_t i = 0; i < n; i++)
		free((char *)d[i].zone);
	free(d);
}

struct zone_lists {
	json_t *zones;
	json_t *tombstones;
};

static int list_zone(const char *zone, const struct zone_state *st, void *ctx)
{
	struct zone_lists *l = ctx;
	json_t *o;
	if (st->exists)
		o = json_pack("{s:s,s:I,s:I,s:s}", "zone", zone, "version", (json_int_t)st->version,
			      "serial", (json_int_t)st->serial, "digest", st->digest);
	else
		o = json_pack("{s:s,s:I}", "zone", zone, "version", (json_int_t)st->version);
	return json_array_append_new(st->exists ? l->zones : l->tombstones, o) == 0 ? 0 : -ENOMEM;
}

#define LIST_PAGE_MAX 10000

/* ?limit=N[&after=ZONE]: one page of the zones the agent keeps a state
 * for, in name order, with "next" to ask for the following page (null at
 * the end). Memory stays bounded whatever the number of zones. */
struct page_ctx {
	struct zone_lists l;
	char last[DNAME_TEXT_MAX];
};

static int page_zone(const char *zone, const struct zone_state *st, void *ctx)
{
	struct page_ctx *p = ctx;
	json_t *o = json_pack("{s:s,s:I}", "zone", zone, "version", (json_int_t)st->version);
	if (o != NULL && !st->deleted) {
		json_object_set_new(o, "serial", json_integer(st->serial));
		json_object_set_new(o, "digest", json_string(st->digest));
	}
	snprintf(p->last, sizeof(p->last), "%s", zone);
	return json_array_append_new(st->deleted ? p->l.tombstones : p->l.zones, o) == 0 ? 0
											 : -ENOMEM;
}

static void list_page(struct http_request *req, struct http_reply *rep, struct agent *a,
		      const char *limit_text)
{
	char after[DNAME_TEXT_MAX] = "", *end;
	struct page_ctx p = { { json_array(), json_array() }, "" };
	size_t n = 0;
	errno = 0;
	unsigned long long limit = strtoull(limit_text, &end, 10);
	if (limit_text[0] < '0' || limit_text[0] > '9' || *end != '\0' || errno != 0 ||
	    limit == 0 || limit > LIST_PAGE_MAX) {
		json_decref(p.l.zones);
		json_decref(p.l.tombstones);
		http_reply_error(rep, ERR_INVALID, "limit: must be an integer 1..10000");
		return;
	}
	int r = http_request_query(req, "after", after, sizeof(after));
	if (r == -ENOENT)
		r = 0;
	else if (r < 0)
		r = ERR_MALFORMED;
	if (r == 0) {
		pthread_mutex_lock(&a->db_lock);
		r = backend_state_page(a->db, after, (size_t)limit, page_zone, &p, &n);
		pthread_mutex_unlock(&a->db_lock);
	}
	if (r < 0) {
		json_decref(p.l.zones);
		json_decref(p.l.tombstones);
		http_reply_error(rep, r,
				 r == ERR_MALFORMED ? "after: bad encoding" : "cannot list zones");
		return;
	}
	http_reply_json(rep, 200,
			json_pack("{s:o,s:o,s:s?}", "zones", p.l.zones, "tombstones",
				  p.l.tombstones, "next", n == limit ? p.last : NULL));
}

/* ?buckets=B1,B2,...: the live zones in those hash-tree buckets (4 hex
 * digits each, at most 64), found by one walk over every zone. */
struct bucket_ctx {
	bool want[ZTREE_BUCKETS];
	json_t *zones;
	char last[DNAME_TEXT_MAX];
};

static int bucket_zone(const char *zone, const struct zone_state *st, void *ctx)
{
	struct bucket_ctx *b = ctx;
	snprintf(b->last, sizeof(b->last), "%s", zone);
	if (st->deleted || !b->want[ztree_bucket(zone)])
		return 0;
	json_t *o = json_pack("{s:s,s:I,s:I,s:s}", "zone", zone, "version", (json_int_t)st->version,
			      "serial", (json_int_t)st->serial, "digest", st->digest);
	return json_array_append_new(b->zones, o) == 0 ? 0 : -ENOMEM;
}

#define BUCKETS_MAX 64

static void list_buckets(struct http_reply *rep, struct agent *a, char *text)
{
	struct bucket_ctx *b = calloc(1, sizeof(*b));
	unsigned n = 0;
	int r = b != NULL ? 0 : -ENOMEM;
	char *save = NULL;
	for (char *t = strtok_r(text, ",", &save); r == 0 && t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		if (strlen(t) != ZTREE_DEPTH || !ztree_prefix_valid(t) || ++n > BUCKETS_MAX)
			r = ERR_INVALID;
		else
			b->want[ztree_prefix_bucket(t)] = true;
	}
	if (r == 0 && n == 0)
		r = ERR_INVALID;
	if (r < 0) {
		free(b);
		http_reply_error(rep, r,
				 r == ERR_INVALID
				     ? "buckets: 1 to 64 bucket numbers of 4 lowercase hex digits"
				     : NULL);
		return;
	}
	b->zones = json_array();
	size_t got = 0;
	do {
		char after[DNAME_TEXT_MAX];
		snprintf(after, sizeof(after), "%s", b->last);
		pthread_mutex_lock(&a->db_lock);
		r = backend_state_page(a->db, after, 2000, bucket_zone, b, &got);
		pthread_mutex_unlock(&a->db_lock);
	} while (r == 0 && got == 2000);
	if (r < 0) {
		json_decref(b ? b->zones : NULL);
		free(b);
		http_reply_error(rep, r, "cannot list zones");
		return;
	}
	http_reply_json(rep, 200, json_pack("{s:o}", "zones", b->zones));
	free(b);
}

static void list_zones(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	char arg[BUCKETS_MAX * (ZTREE_DEPTH + 1) + 1];
	int q = http_request_query(req, "buckets", arg, sizeof(arg));
	if (q == 0) {
		list_buckets(rep, a, arg);
		return;
	}
	if (q == -ENOENT && (q = http_request_query(req, "limit", arg, sizeof(arg))) == 0) {
		list_page(req, rep, a, arg);
		return;
	}
	if (q != -ENOENT) {
		http_reply_error(rep, ERR_INVALID, "buckets, limit: bad or too long");
		return;
	}
	struct zone_lists l = { json_array(), json_array() };

	pthread_mutex_lock(&a->db_lock);
	int r = backend_zone_foreach(a->db, list_zone, &l);
	pthread_mutex_unlock(&a->db_lock);
	if (r < 0) {
		json_decref(l.zones);
		json_decref(l.tombstones);
		http_reply_error(rep, r, "cannot list zones");
		return;
	}
	http_reply_json(rep, 200,
			json_pack("{s:o,s:o}", "zones", l.zones, "tombstones", l.tombstones));
}

struct zone_view {
	json_t *records;
	struct zone_digest digest;
};

static int list_record(const char *name, const char *type, const char *content, uint32_t ttl,
		       void *ctx)
{
	struct zone_view *v = ctx;
	json_t *o = json_pack("{s:s,s:s,s:I,s:s}", "name", name, "type", type, "ttl",
			      (json_int_t)ttl, "content", content);
	zone_digest_add(&v->digest, name, type, ttl, content);
	return json_array_append_new(v->records, o) == 0 ? 0 : -ENOMEM;
}

static void get_zone(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	char zone[DNAME_TEXT_MAX], kind[16];
	struct zone_state st;
	bool is_signed = false;
	struct zone_view v = { .records = json_array() };
	char held[ZONE_DIGEST_HEX];

	zone_digest_init(&v.digest);
	if (path_zone(req, rep, zone) < 0) {
		json_decref(v.records);
		return;
	}
	pthread_mutex_lock(&a->db_lock);
	int r = backend_zone_state(a->db, zone, &st);
	if (r == 0)
		r = backend_zone_info(a->db, zone, &is_signed, kind, sizeof(kind));
	if (r == 0)
		r = backend_zone_records(a->db, zone, list_record, &v);
	pthread_mutex_unlock(&a->db_lock);
	int d = zone_digest_final(&v.digest, NULL, held);
	if (r == 0 && d < 0)
		r = d;
	if (r < 0) {
		json_decref(v.records);
		http_reply_error(rep, r, r == -ENOENT ? "zone is not served by this node" : NULL);
		return;
	}
	/* "digest": what the backend holds now, read for this answer;
	 * "applied_digest": what the agent recorded when it wrote or last
	 * verified the zone. They differ only after a change behind its back. */
	http_reply_json(rep, 200,
			json_pack("{s:s,s:I,s:I,s:s,s:b,s:o,s:s,s:s}", "zone", zone, "version",
				  (json_int_t)st.version, "serial", (json_int_t)st.serial, "kind",
				  kind, "dnssec", is_signed, "records", v.records, "digest", held,
				  "applied_digest", st.digest));
}

/* GET /api/dns/zones/:zone/steer-health: what PowerDNS considers up
 * (steerhealth.h). 503 when PowerDNS does not answer. */
static void steer_health(struct http_request *req, struct http_reply *rep, void *ctx)
{
	char zone[DNAME_TEXT_MAX];
	struct errmsg err;
	json_t *out = NULL;

	if (path_zone(req, rep, zone) < 0)
		return;
	int r = steerhealth_read(ctx, zone, &out, &err);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	http_reply_json(rep, 200, out);
}

static void notify_zone(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	char zone[DNAME_TEXT_MAX];
	struct errmsg err;
	struct zone_state st;
	bool own = false;

	if (path_zone(req, rep, zone) < 0)
		return;
	if (apply_check_pdns(a, &err) < 0) {
		http_reply_error(rep, ERR_UNAVAILABLE, err.text);
		return;
	}
	pthread_mutex_lock(&a->db_lock);
	int r = backend_zone_state(a->db, zone, &st);
	if (r == 0 && st.exists) {
		json_t *t = xfr_read(a, zone);
		own = xfr_notifies(t);
		json_decref(t);
	}
	pthread_mutex_unlock(&a->db_lock);
	/* Secondaries are the node's (also-notify, notified by PowerDNS) or
	 * the zone's own (notified by the agent). */
	if (r == 0 && st.exists && !a->notify_enabled && !own) {
		http_reply_error(rep, ERR_CONFLICT,
				 "no secondaries are configured on this node (also-notify)");
		return;
	}
	if (r == 0 && !st.exists)
		r = -ENOENT;
	if (r == 0)
		xfrn_queue(a->xfrn, zone, own, false);
	if (r == 0 && a->notify_enabled)
		r = pdns_notify(a->pdns, zone);
	if (r < 0) {
		pdns_last_error(err.text, sizeof(err.text));
		http_reply_error(rep, r,
				 r == -ENOENT ? "zone is not served by this node" : err.text);
		return;
	}
	http_reply_json(rep, 200,
			json_pack("{s:b,s:s}", "success", 1, "message",
				  "notification queued for the configured secondaries"));
}

static void dnssec_zone(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	char zone[DNAME_TEXT_MAX];
	struct errmsg err;
	json_t *body, *result = NULL;

	if (path_zone(req, rep, zone) < 0 || body_json(req, rep, true, &body) < 0)
		return;
	int r = dnssec_secure(a, zone, body, &result, &err);
	json_decref(body);
	if (r < 0) {
		http_reply_error(rep, r, err.text);
		return;
	}
	http_reply_json(rep, 200, result);
}

/* Purge PowerDNS's caches for a name and everything below it ("." for
 * everything), as its own API does (and refresh the zone cache entry):
 * {"count", "result"}. */
static void cache_flush(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	char name[DNAME_TEXT_MAX];
	struct errmsg err;
	uint64_t count = 0;

	/* "." is every name, as in PowerDNS; any other must be a name (an
	 * owner below the root: "_acme-challenge.example.com." too). */
	const char *text = http_request_param(req, 0);
	if (strcmp(text, ".") == 0) {
		snprintf(name, sizeof(name), ".");
	} else if (text[0] == '\0' || text[strlen(text) - 1] != '.' ||
		   dname_owner_normalize(text, ".", name, &err) < 0) {
		http_reply_error(rep, ERR_INVALID, "not an absolute name");
		return;
	}
	if (apply_check_pdns(a, &err) < 0) {
		http_reply_error(rep, ERR_UNAVAILABLE, err.text);
		return;
	}
	int r = pdns_flush_count(a->pdns, name, &count);
	if (r < 0) {
		pdns_last_error(err.text, sizeof(err.text));
		http_reply_error(rep, r, err.text);
		return;
	}
	http_reply_json(
	    rep, 200,
	    json_pack("{s:I,s:s}", "count", (json_int_t)count, "result", "Flushed cache."));
}

/* Zone and record counts, for status and statistics. */
static int counts(struct agent *a, uint64_t *zones, uint64_t *records)
{
	pthread_mutex_lock(&a->db_lock);
	int r = backend_counts(a->db, zones, records);
	pthread_mutex_unlock(&a->db_lock);
	return r;
}

static void pdns_state(struct agent *a, char *version, size_t vlen, char *error, size_t elen)
{
	pthread_mutex_lock(&a->state_lock);
	snprintf(version, vlen, "%s", a->pdns_version);
	snprintf(error, elen, "%s", a->pdns_error);
	pthread_mutex_unlock(&a->state_lock);
}

static void status(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	char version[64], error[160];
	uint64_t zones = 0, records = 0;
	bool up = atomic_load(&a->pdns_up);

	pdns_state(a, version, sizeof(version), error, sizeof(error));
	int r = counts(a, &zones, &records);
	const char *st = !up ? "error" : r < 0 ? "error" : "running";
	http_reply_json(rep, 200,
			json_pack("{s:b,s:s,s:s,s:{s:s,s:I,s:I}}", "running", up, "message",
				  up ? "PowerDNS is running" : error, "version", version,
				  "statistics", "status", st, "zones", (json_int_t)zones, "records",
				  (json_int_t)records));
}

static json_int_t stat_value(json_t *list, const char *name)
{
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		if (strcmp(json_string_value(json_object_get(item, "name")) ?: "", name) == 0) {
			const char *v = json_string_value(json_object_get(item, "value"));
			return v ? (json_int_t)strtoll(v, NULL, 10) : 0;
		}
	}
	return 0;
}

static void statistics(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	uint64_t zones = 0, records = 0;
	json_t *list = NULL;

	counts(a, &zones, &records);
	if (pdns_statistics(a->pdns, &list) < 0) {
		http_reply_json(rep, 200,
				json_pack("{s:s,s:I,s:I}", "status", "error", "zones",
					  (json_int_t)zones, "records", (json_int_t)records));
		return;
	}
	json_t *j =
	    json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "status", "running", "zones",
		      (json_int_t)zones, "records", (json_int_t)records, "queries",
		      stat_value(list, "udp-queries") + stat_value(list, "tcp-queries"), "answers",
		      stat_value(list, "udp-answers") + stat_value(list, "tcp-answers"),
		      "cache_hits", stat_value(list, "packetcache-hit"), "cache_misses",
		      stat_value(list, "packetcache-miss"), "latency_us",
		      stat_value(list, "latency"), "uptime", stat_value(list, "uptime"));
	json_t *raw = json_object();
	size_t i;
	json_t *item;
	/* PowerDNS's own counters by name (its StatisticItems), for the
	 * controller's copy of PowerDNS's statistics route. */
	json_array_foreach(list, i, item) {
		const char *name = json_string_value(json_object_get(item, "name"));
		const char *v = json_string_value(json_object_get(item, "value"));
		if (name != NULL && v != NULL &&
		    strcmp(json_string_value(json_object_get(item, "type")) ?: "",
			   "StatisticItem") == 0)
			json_object_set_new(raw, name, json_integer(strtoll(v, NULL, 10)));
	}
	json_object_set_new(j, "pdns", raw);
	json_decref(list);
	http_reply_json(rep, 200, j);
}

static void initialize(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	struct errmsg err;

	int r = init_powerdns(a, &err);
	if (r < 0) {
		http_reply_error(rep, ERR_UNAVAILABLE, err.text);
		return;
	}
	apply_flush_dirty(a);
	http_reply_json(rep, 200,
			json_pack("{s:b,s:s}", "success", 1, "message",
				  "PowerDNS is running and the backend is ready"));
}

static long read_pid(const struct agent *a)
{
	char path[4200], text[32] = "";
	snprintf(path, sizeof(path), "%s/run/pdns.pid", a->conf.data_dir);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0;
	if (fgets(text, sizeof(text), f) == NULL)
		text[0] = '\0';
	fclose(f);
	return strtol(text, NULL, 10);
}

static void health(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	char version[64], error[160];
	bool up = atomic_load(&a->pdns_up);
	json_t *p;

	json_int_t restarts = (json_int_t)atomic_load(&a->stats.pdns_restarts);

	pdns_state(a, version, sizeof(version), error, sizeof(error));
	if (up)
		p = json_pack("{s:b,s:s,s:I,s:I}", "running", 1, "version", version, "pid",
			      (json_int_t)read_pid(a), "restarts", restarts);
	else
		p = json_pack("{s:b,s:s,s:I}", "running", 0, "error", error, "restarts", restarts);
	http_reply_json(rep, up ? 200 : 503,
			json_pack("{s:s,s:o,s:I,s:s,s:I}", "status", up ? "healthy" : "unhealthy",
				  "powerdns", p, "zones", (json_int_t)atomic_load(&a->zones),
				  "agent_version", YUMNA_VERSION, "drift",
				  (json_int_t)atomic_load(&a->stats.drift)));
}

/* GET /api/dns/tree[?prefix=HEX]: a node of the hash tree of what this
 * node serves (model/ztree.h) and its 16 children. */
static json_t *tree_node_json(const struct ztree_node *n)
{
	char hex[ZTREE_LEAF_HEX];
	ztree_hex(n, hex);
	return json_pack("{s:s,s:I}", "hash", hex, "zones", (json_int_t)n->zones);
}

static void tree(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	char prefix[ZTREE_DEPTH + 2] = "";
	struct ztree_node node, children[16];

	int r = http_request_query(req, "prefix", prefix, sizeof(prefix));
	if ((r < 0 && r != -ENOENT) || ztree_get(a->tree, prefix, &node, children) < 0) {
		http_reply_error(rep, ERR_INVALID, "prefix: 0 to 4 lowercase hex digits");
		return;
	}
	json_t *out = json_pack("{s:s,s:o}", "prefix", prefix, "node", tree_node_json(&node));
	if (strlen(prefix) < ZTREE_DEPTH) {
		json_t *c = json_array();
		for (unsigned i = 0; i < 16; i++)
			json_array_append_new(c, tree_node_json(&children[i]));
		json_object_set_new(out, "children", c);
	}
	http_reply_json(rep, 200, out);
}

static void metrics(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct buf out;
	buf_init(&out, 1u << 20);
	int r = metrics_render(ctx, &out);
	if (r < 0) {
		buf_free(&out);
		http_reply_error(rep, r, "cannot render metrics");
		return;
	}
	http_reply_text(rep, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
	buf_free(&out);
}

struct http_route api_routes[] = {
	{ "POST", "/api/dns/sync-zone", sync_zone, 0, NULL, NULL },
	{ "POST", "/api/dns/sync-batch", batch_handle, 0, batch_stream, batch_cleanup },
	{ "GET", "/api/dns/zones", list_zones, 0, NULL, NULL },
	{ "GET", "/api/dns/tree", tree, 0, NULL, NULL },
	{ "GET", "/api/dns/zones/:zone", get_zone, 0, NULL, NULL },
	{ "DELETE", "/api/dns/zones/:zone", delete_zone, 0, NULL, NULL },
	{ "POST", "/api/dns/delete-batch", delete_batch, 0, NULL, NULL },
	{ "POST", "/api/dns/zones/:zone/notify", notify_zone, 0, NULL, NULL },
	{ "GET", "/api/dns/zones/:zone/steer-health", steer_health, 0, NULL, NULL },
	{ "POST", "/api/dns/zones/:zone/dnssec", dnssec_zone, 0, NULL, NULL },
	{ "POST", "/api/dns/cache/flush/:name", cache_flush, 0, NULL, NULL },
	{ "GET", "/api/dns/status", status, 0, NULL, NULL },
	{ "GET", "/api/dns/statistics", statistics, 0, NULL, NULL },
	{ "POST", "/api/dns/initialize", initialize, 0, NULL, NULL },
	{ "GET", "/health", health, 0, NULL, NULL },
	{ "GET", "/metrics", metrics, 0, NULL, NULL },
	{ 0 },
};

void api_configure(struct agent *a)
{
	for (struct http_route *rt = api_routes; rt->pattern != NULL; rt++)
		if (rt->stream == batch_stream)
			rt->max_body = a->conf.max_batch_size;
}
