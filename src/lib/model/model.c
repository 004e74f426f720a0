#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "json/jsonx.h"
#include "model/xfr.h"
#include "model/model.h"
#include "model/steer.h"

#define TYPE_MX 15
#define TYPE_SRV 33
#define TYPE_SOA 6

/* Columns of the original panel's dns_zones and dns_records rows that may
 * travel with a push; they carry nothing a node needs. */
static const char *const zone_keys[] = {
	"domain",
	"name",
	"version",
	"serial",
	"id",
	"userId",
	"serverId",
	"createdAt",
	"cloudflare_zone_id",
	"dnssec_enabled",
	"dnssec_ds_record",
	"dnssec_dnskey",
	"is_locked",
	"allowed_ips",
	"webhook_url",
	"anycast_enabled",
	"records",
	"dnssec",
	"transfer",
	"presigned",
	NULL,
};
static const char *const record_keys[] = {
	"name",	  "type",      "content",   "ttl",    "priority", "id",
	"zoneId", "createdAt", "is_locked", "status", NULL,
};
static const char *const payload_keys[] = { "zone", "records", NULL };

static int parse_zone(const json_t *zone, struct zone_push *ret, char *origin, struct errmsg *err)
{
	const char *name = NULL;
	struct errmsg derr;
	uint64_t serial;

	int r = jsonx_check_keys(zone, zone_keys, "zone", err);
	if (r < 0)
		return r;
	const char *other = NULL;
	r = jsonx_get_str(zone, "domain", false, "zone", &name, err);
	if (r == 0)
		r = jsonx_get_str(zone, "name", false, "zone", &other, err);
	else if (r == -ENOENT)
		r = jsonx_get_str(zone, "name", true, "zone", &name, err);
	if (r == -ENOENT)
		r = 0; /* "domain" without "name" */
	if (r < 0)
		return r;
	r = dname_zone_normalize(name, origin, &derr);
	if (r < 0)
		return errmsg_set(err, r, "zone.domain: %s", derr.text);
	if (other != NULL) {
		char again[DNAME_TEXT_MAX];
		if (dname_zone_normalize(other, again, &derr) < 0 || strcmp(again, origin) != 0)
			return errmsg_set(err, ERR_INVALID,
					  "zone.name and zone.domain name different zones");
	}
	r = jsonx_get_uint(zone, "version", true, 1, MODEL_VERSION_MAX, "zone", &ret->version, err);
	if (r < 0)
		return r;
	r = jsonx_get_uint(zone, "serial", true, 0, UINT32_MAX, "zone", &serial, err);
	ret->serial = (uint32_t)serial;
	json_t *d = json_object_get(zone, "dnssec");
	if (r == 0 && d != NULL && !json_is_null(d)) {
		r = model_dnssec_check(d, "zone.dnssec", err);
		if (r == 0)
			ret->dnssec = json_incref(d);
	}
	if (r == 0) {
		r = jsonx_get_bool(zone, "presigned", false, "zone", &ret->presigned, err);
		r = r == -ENOENT ? 0 : r;
	}
	json_t *t = json_object_get(zone, "transfer");
	if (r == 0 && t != NULL && !json_is_null(t)) {
		r = model_transfer_check(t, "zone.transfer", err);
		if (r == 0)
			ret->transfer = json_incref(t);
	}
	return r;
}

static const char *const dnssec_keys[] = { "enabled", "nsec3param", "publish_cds", "keys", NULL };
static const char *const dnssec_key_keys[] = {
	"keytype", "active", "published", "dnskey", "privatekey", NULL,
};

/* The shape of the controller's DNSKEY text, "<flags> 3 <algorithm> <base64>"
 * with flags 256 or 257 and algorithm 13 or 15. The agent only compares it
 * with what PowerDNS lists; PowerDNS derives the key from the private part. */
static bool dnskey_text_ok(const char *t)
{
	unsigned flags, proto, alg;
	int used = 0;
	/* NOLINTNEXTLINE(cert-err34-c): glibc converts as strtoul; out of range fails below */
	if (sscanf(t, "%u %u %u %n", &flags, &proto, &alg, &used) != 3 || used == 0)
		return false;
	if ((flags != 256 && flags != 257) || proto != 3 || (alg != 13 && alg != 15))
		return false;
	const char *b = t + used;
	size_t n = strlen(b);
	if (n < 4 || n % 4 != 0 || n > 2048)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '+' || c == '/' ||
			  (c == '=' && i >= n - 2);
		if (!ok)
			return false;
	}
	return true;
}

static int dnssec_key_check(const json_t *k, const char *path, struct errmsg *err)
{
	const char *type, *priv, *dnskey;
	bool flag;

	if (!json_is_object(k))
		return errmsg_set(err, ERR_INVALID, "%s: must be an object", path);
	int r = jsonx_check_keys(k, dnssec_key_keys, path, err);
	if (r == 0)
		r = jsonx_get_str(k, "keytype", true, path, &type, err);
	if (r == 0 && strcmp(type, "csk") != 0 && strcmp(type, "ksk") != 0 &&
	    strcmp(type, "zsk") != 0) {
		return errmsg_set(err, ERR_INVALID, "%s.keytype: must be csk, ksk or zsk", path);
	}
	if (r == 0)
		r = jsonx_get_str(k, "dnskey", true, path, &dnskey, err);
	if (r == 0 && !dnskey_text_ok(dnskey))
		return errmsg_set(
		    err, ERR_INVALID,
		    "%s.dnskey: must be DNSKEY RDATA \"<256|257> 3 <13|15> <base64>\"", path);
	if (r == 0)
		r = jsonx_get_str(k, "privatekey", true, path, &priv, err);
	if (r == 0 && (strlen(priv) > MODEL_PRIVATE_KEY_MAX ||
		       strncmp(priv, "Private-key-format: v1.", 23) != 0 ||
		       strstr(priv, "\nPrivateKey:") == NULL)) {
		return errmsg_set(err, ERR_INVALID,
				  "%s.privatekey: must be a private key in ISC (BIND) format",
				  path);
	}
	for (unsigned f = 0; r == 0 && f < 2; f++) {
		r = jsonx_get_bool(k, f ? "published" : "active", false, path, &flag, err);
		r = r == -ENOENT ? 0 : r;
	}
	return r;
}

int model_dnssec_check(const json_t *d, const char *path, struct errmsg *err)
{
	bool enabled = false, flag;
	json_t *keys;

	if (!json_is_object(d))
		return errmsg_set(err, ERR_INVALID, "%s: must be an object", path);
	int r = jsonx_check_keys(d, dnssec_keys, path, err);
	if (r == 0)
		r = jsonx_get_bool(d, "enabled", true, path, &enabled, err);
	if (r < 0)
		return r;
	if (!enabled) {
		if (json_object_size(d) != 1)
			return errmsg_set(err, ERR_INVALID,
					  "%s: a disabled zone carries nothing else", path);
		return 0;
	}
	json_t *n3 = json_object_get(d, "nsec3param");
	if (n3 != NULL && !json_is_null(n3)) {
		/* RFC 9276: SHA-1, no extra iterations, empty salt; opt-out may be set. */
		const char *v = json_string_value(n3);
		if (v == NULL || (strcmp(v, "1 0 0 -") != 0 && strcmp(v, "1 1 0 -") != 0))
			return errmsg_set(
			    err, ERR_INVALID,
			    "%s.nsec3param: must be null, \"1 0 0 -\" or, for opt-out, "
			    "\"1 1 0 -\" (RFC 9276)",
			    path);
	}
	r = jsonx_get_bool(d, "publish_cds", false, path, &flag, err);
	if (r < 0 && r != -ENOENT)
		return r;
	r = jsonx_get_array(d, "keys", true, path, &keys, err);
	if (r < 0)
		return r;
	size_t n = json_array_size(keys), i;
	if (n == 0 || n > MODEL_DNSSEC_KEYS_MAX)
		return errmsg_set(err, ERR_INVALID, "%s.keys: between 1 and %d keys", path,
				  MODEL_DNSSEC_KEYS_MAX);
	json_t *k;
	json_array_foreach(keys, i, k) {
		char kp[64];
		snprintf(kp, sizeof(kp), "%s.keys[%zu]", path, i);
		r = dnssec_key_check(k, kp, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The RDATA text of a record into *ret (the caller frees it): MX and SRV
 * take their first field from 'priority' when it is given (the original
 * panel's columns); plain TXT, SPF and CAA values become presentation text
 * (rr_text_from_plain). */
static int record_rdata(const json_t *rec, uint16_t type, const char *content, const char *path,
			char **ret, struct errmsg *err)
{
	uint64_t prio;
	char *plain = NULL;
	int r = jsonx_get_uint(rec, "priority", false, 0, 65535, path, &prio, err);
	if (r < 0 && r != -ENOENT)
		return r;
	bool with_prio = r == 0 && (prio != 0 || type == TYPE_MX || type == TYPE_SRV);
	if (with_prio && type != TYPE_MX && type != TYPE_SRV)
		return errmsg_set(err, ERR_INVALID,
				  "%s.priority: only MX and SRV records have a priority", path);
	if (strlen(content) > DNS_RDATA_TEXT_MAX)
		return errmsg_set(err, ERR_INVALID, "%s.content: longer than %u characters", path,
				  DNS_RDATA_TEXT_MAX);
	r = rr_text_from_plain(type, content, &plain);
	if (r < 0)
		return errmsg_set(err, r, "out of memory");
	const char *text = plain != NULL ? plain : content;
	size_t len = strlen(text) + 32;
	*ret = malloc(len);
	if (*ret != NULL) {
		if (with_prio)
			snprintf(*ret, len, "%llu %s", (unsigned long long)prio, text);
		else
			memcpy(*ret, text, strlen(text) + 1);
	}
	free(plain);
	return *ret != NULL ? 0 : errmsg_set(err, -ENOMEM, "out of memory");
}

/* One record object into 'ret'; 'allowed' are the keys it may carry. */
/* A LUA record of a push: its content checked (steer_lua_check), kept as
 * it is, its "wire" form the content's bytes (the duplicate check and the
 * digest see it as opaque data). */
static int lua_record(const char *owner, uint32_t ttl, const char *content, const char *path,
		      struct rr *ret, struct errmsg *err)
{
	struct errmsg derr;
	size_t len = strlen(content);

	if (steer_lua_check(content, &derr) < 0)
		return errmsg_set(err, ERR_INVALID, "%s: %s", path, derr.text);
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->owner, sizeof(ret->owner), "%s", owner);
	ret->type = TYPE_LUA;
	ret->ttl = ttl;
	ret->content = strdup(content);
	ret->wire = malloc(len);
	if (ret->content == NULL || ret->wire == NULL) {
		rr_clear(ret);
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	memcpy(ret->wire, content, len);
	ret->wire_len = (uint16_t)len;
	return 0;
}

/* 'flags' are MODEL_*: MODEL_PRESIGNED, the DNSSEC types a signer makes
 * are accepted too; MODEL_ABSOLUTE, names in the content are absolute. */
static int parse_record(const json_t *rec, const char *path, const char *origin,
			const char *const *allowed, uint64_t default_ttl, unsigned flags,
			struct rr *ret, struct errmsg *err)
{
	char owner[DNAME_TEXT_MAX];
	const char *name = NULL, *type_text = NULL, *content, *status;
	uint64_t ttl = default_ttl;
	uint16_t type = 0;
	struct errmsg derr;

	if (!json_is_object(rec))
		return errmsg_set(err, ERR_INVALID, "%s: must be an object", path);
	int r = jsonx_check_keys(rec, allowed, path, err);
	if (r == 0)
		r = jsonx_get_str(rec, "name", true, path, &name, err);
	if (r == 0)
		r = jsonx_get_str(rec, "type", true, path, &type_text, err);
	if (r == 0)
		r = jsonx_get_str(rec, "content", true, path, &content, err);
	if (r == 0) {
		r = jsonx_get_uint(rec, "ttl", false, 0, DNS_TTL_MAX, path, &ttl, err);
		r = r == -ENOENT ? 0 : r;
	}
	if (r == 0) {
		r = jsonx_get_str(rec, "status", false, path, &status, err);
		if (r == 0 && strcmp(status, "active") != 0) {
			errmsg_set(err, 0, "%s.status: only active records can be served", path);
			r = ERR_INVALID;
		}
		r = r == -ENOENT ? 0 : r;
	}
	if (r < 0)
		return r;

	r = dname_owner_normalize(name, origin, owner, &derr);
	if (r < 0)
		return errmsg_set(err, r, "%s: %s", path, derr.text);
	/* The controller pushes a steered RRset as one PowerDNS LUA record
	 * (model/steer.h); the record routes take raw ones too, which the
	 * controller lets through only from admin tokens with allow-raw-lua
	 * (whm/api.c) */
	if (type_text != NULL && strcasecmp(type_text, "LUA") == 0)
		/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): set, r was 0 */
		return lua_record(owner, (uint32_t)ttl, content, path, ret, err);
	r = (flags & MODEL_PRESIGNED) != 0 ? rr_type_parse_presigned(type_text, &type, &derr)
					   : rr_type_parse(type_text, &type, &derr);
	if (r < 0)
		return errmsg_set(err, r, "%s: %s", path, derr.text);
	char *rdata = NULL;
	/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): set, r was 0 (0 or < 0 only) */
	r = record_rdata(rec, type, content, path, &rdata, err);
	if (r < 0)
		return r;
	r = rr_parse_flags(owner, type, (uint32_t)ttl, rdata, origin,
			   (flags & MODEL_ABSOLUTE) != 0 ? RR_PARSE_ABSOLUTE : 0, ret, &derr);
	free(rdata);
	if (r < 0)
		errmsg_set(err, 0, "%s: %s", path, derr.text);
	return r;
}

static int add_soa(struct zone_push *p, const struct soa_defaults *soa, struct errmsg *err)
{
	char rdata[2 * DNAME_TEXT_MAX + 80];
	struct rr rr;
	struct errmsg derr;

	snprintf(rdata, sizeof(rdata), "%s %s %u %u %u %u %u", soa->mname, soa->rname, p->serial,
		 soa->refresh, soa->retry, soa->expire, soa->minimum);
	int r = rr_parse(p->data.origin, TYPE_SOA, soa->ttl, rdata, p->data.origin, &rr, &derr);
	if (r < 0)
		return errmsg_set(err, r, "configured SOA: %s", derr.text);
	r = zone_data_take_rr(&p->data, &rr);
	if (r < 0)
		rr_clear(&rr);
	return r;
}

/* An SOA sent with the records must publish the zone's serial. */
static int check_soa_serial(const struct rr *rr, uint32_t serial, struct errmsg *err)
{
	unsigned long s = 0;
	const char *c = rr->content;
	for (int field = 0; field < 2 && c != NULL; field++) {
		c = strchr(c, ' ');
		if (c != NULL)
			c++;
	}
	if (c != NULL)
		s = strtoul(c, NULL, 10);
	if (c == NULL || s != serial)
		return errmsg_set(err, ERR_INVALID, "SOA serial %lu differs from zone.serial %u", s,
				  serial);
	return 0;
}

int model_push_parse(const json_t *payload, const struct zone_limits *lim,
		     const struct soa_defaults *soa, struct zone_push *ret, struct errmsg *err)
{
	char origin[DNAME_TEXT_MAX];
	json_t *zone = NULL, *records = NULL;
	struct errmsg derr;
	bool has_soa = false;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(payload))
		return errmsg_set(err, ERR_INVALID, "body must be a JSON object");
	int r = jsonx_check_keys(payload, payload_keys, "body", err);
	if (r == 0)
		r = jsonx_get_obj(payload, "zone", true, "body", &zone, err);
	if (r == 0)
		r = jsonx_get_array(payload, "records", true, "body", &records, err);
	if (r == 0)
		r = parse_zone(zone, ret, origin, err);
	if (r < 0)
		return r;
	zone_data_init(&ret->data, origin);

	size_t n = json_array_size(records);
	if (n > lim->max_records) {
		errmsg_set(err, 0, "records: %zu records, the limit is %u per zone", n,
			   lim->max_records);
		zone_push_clear(ret);
		return ERR_TOO_LARGE;
	}
	for (size_t i = 0; i < n; i++) {
		struct rr rr;
		char path[48];
		snprintf(path, sizeof(path), "records[%zu]", i);
		r = parse_record(json_array_get(records, i), path, ret->data.origin, record_keys,
				 MODEL_DEFAULT_TTL, ret->presigned ? MODEL_PRESIGNED : 0, &rr, err);
		if (r < 0)
			goto fail;
		if (rr.type == TYPE_SOA) {
			has_soa = true;
			r = check_soa_serial(&rr, ret->serial, err);
		}
		if (r == 0)
			r = zone_data_take_rr(&ret->data, &rr);
		if (r < 0) {
			rr_clear(&rr);
			goto fail;
		}
	}
	if (!has_soa) {
		r = add_soa(ret, soa, err);
		if (r < 0)
			goto fail;
	}
	r = zone_check(&ret->data, lim, &derr);
	if (r < 0) {
		errmsg_set(err, 0, "%s", derr.text);
		goto fail;
	}
	return 0;
fail:
	zone_push_clear(ret);
	return r;
}

void zone_push_clear(struct zone_push *p)
{
	zone_data_clear(&p->data);
	json_decref(p->dnssec);
	p->dnssec = NULL;
	json_decref(p->transfer);
	p->transfer = NULL;
}

/* Fields of a record as the panel sends it to the controller. */
static const char *const api_record_keys[] = {
	"name",		"type",		  "content",  "ttl", "priority",
	"auto_publish", "routing_policy", "disabled", NULL,
};

int model_record_parse(const json_t *rec, const char *origin, uint32_t default_ttl,
		       struct model_record *ret, struct errmsg *err)
{
	return model_record_parse_flags(rec, origin, default_ttl, 0, ret, err);
}

int model_record_parse_flags(const json_t *rec, const char *origin, uint32_t default_ttl,
			     unsigned flags, struct model_record *ret, struct errmsg *err)
{
	struct rr rr;
	bool flag;

	memset(ret, 0, sizeof(*ret));
	int r = parse_record(rec, "record", origin, api_record_keys, default_ttl, flags, &rr, err);
	if (r < 0)
		return r;
	r = jsonx_get_bool(rec, "auto_publish", false, "record", &flag, err);
	/* the record's own shape; what its RRset's records make together is
	 * the zone service's to check (steer_policy_from_records) */
	if (r == 0 || r == -ENOENT)
		r = steer_record_policy_check(json_object_get(rec, "routing_policy"), "record",
					      err);
	bool disabled = false;
	if (r == 0 &&
	    (r = jsonx_get_bool(rec, "disabled", false, "record", &disabled, err)) == -ENOENT)
		r = 0;
	if (r == 0)
		r = model_record_from_rr(&rr, origin, ret);
	if (r == 0)
		ret->disabled = disabled;
	rr_clear(&rr);
	if (r == -ENOMEM)
		errmsg_set(err, 0, "out of memory");
	return r;
}

/* The stored form of absolute owner 'owner' in zone 'origin'. */
static void owner_stored(const char *owner, const char *origin, char out[DNAME_TEXT_MAX])
{
	size_t olen = strlen(origin), nlen = strlen(owner);

	if (nlen == olen) {
		snprintf(out, DNAME_TEXT_MAX, "@");
		return;
	}
	/* The name relative to the zone, unless that ends with the zone's own
	 * name ("www.example.com" for www.example.com.example.com.): the
	 * trailing-dot rule refuses such text when it is read back (dns.h),
	 * so that owner is stored absolute. */
	size_t rl = nlen - olen - 1, zl = olen - 1;
	bool doubled = zl > 0 && rl >= zl && strncmp(owner + rl - zl, origin, zl) == 0 &&
		       (rl == zl || owner[rl - zl - 1] == '.');
	if (doubled)
		snprintf(out, DNAME_TEXT_MAX, "%s", owner);
	else
		snprintf(out, DNAME_TEXT_MAX, "%.*s", (int)rl, owner);
}

int model_record_from_rr(const struct rr *rr, const char *origin, struct model_record *ret)
{
	const char *content = rr->content;

	memset(ret, 0, sizeof(*ret));
	owner_stored(rr->owner, origin, ret->name);
	snprintf(ret->type, sizeof(ret->type), "%s", rr_type_name(rr->type));
	if (rr->type == TYPE_MX || rr->type == TYPE_SRV) {
		char *end;
		ret->priority = (uint32_t)strtoul(content, &end, 10);
		content = *end == ' ' ? end + 1 : end;
	}
	ret->ttl = rr->ttl;
	ret->content = strdup(content);
	return ret->content ? 0 : -ENOMEM;
}

int model_rrset_parse(const char *name, const char *type, const char *origin,
		      char ret_name[DNAME_TEXT_MAX], char ret_type[16], struct errmsg *err)
{
	char owner[DNAME_TEXT_MAX];
	uint16_t t = 0;
	int r = dname_owner_normalize(name, origin, owner, err);
	/* LUA as model_record_parse() takes it */
	if (r == 0 && strcasecmp(type, "LUA") == 0)
		t = TYPE_LUA;
	else if (r == 0)
		r = rr_type_parse(type, &t, err);
	if (r < 0)
		return r;
	owner_stored(owner, origin, ret_name);
	snprintf(ret_type, 16, "%s", rr_type_name(t));
	return 0;
}

int model_content_show(const char *type, const char *content, char **ret)
{
	struct errmsg err;
	struct rr rr;
	uint16_t t;

	*ret = NULL;
	if (strcmp(type, "TXT") != 0 && strcmp(type, "SPF") != 0 && strcmp(type, "CAA") != 0)
		return 0;
	if (rr_type_parse(type, &t, &err) < 0)
		return 0;
	/* Text data holds no names: any owner and origin will do. */
	int r = rr_parse(".", t, 0, content, ".", &rr, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0; /* shown as stored */
	r = rr_text_to_plain(&rr, ret);
	rr_clear(&rr);
	return r;
}

void model_record_clear(struct model_record *r)
{
	free(r->content);
	r->content = NULL;
}

uint32_t model_serial_after(enum model_serial_rule rule, uint32_t current, time_t now)
{
	uint32_t next = current + 1 == 0 ? 1 : current + 1;

	switch (rule) {
	case MODEL_SERIAL_INCREASE:
		return next;
	case MODEL_SERIAL_EPOCH:
		return (int32_t)((uint32_t)now - current) > 0 && (uint32_t)now != 0 ? (uint32_t)now
										    : next;
	case MODEL_SERIAL_KEEP:
		return current;
	case MODEL_SERIAL_DATE:
	default:
		return model_serial_next(current, now);
	}
}

uint32_t model_serial_next(uint32_t current, time_t now)
{
	struct tm tm;
	gmtime_r(&now, &tm);
	uint32_t dated = (uint32_t)(tm.tm_year + 1900) * 1000000u +
			 (uint32_t)(tm.tm_mon + 1) * 10000u + (uint32_t)tm.tm_mday * 100u;
	uint32_t next = current + 1; /* RFC 1982: wraps, still "greater" */
	/* Date-based when that moves forward within RFC 1982's half range. */
	if ((int32_t)(dated - current) > 0)
		return dated;
	return next == 0 ? 1 : next;
}
