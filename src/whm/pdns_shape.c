/* PowerDNS's API shapes into the controller's (pdns_shape.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libknot/libknot.h>

#include "model/import.h"
#include "base/log.h"
#include "json/jsonx.h"
#include "pdns_shape.h"

static void settings_default(struct pdns_settings *s)
{
	snprintf(s->kind, sizeof(s->kind), "Native");
	snprintf(s->soa_edit_api, sizeof(s->soa_edit_api), "DEFAULT");
	s->account[0] = '\0';
}

void pdns_settings_read(const char *stored, struct pdns_settings *s)
{
	char kind[8], edit[12];
	int n = 0;

	settings_default(s);
	/* "KIND EDIT ACCOUNT", the account last, after one blank, as it may
	 * hold blanks of its own (leading ones too). */
	if (sscanf(stored, "%7s %11s%n", kind, edit, &n) != 2 || stored[n] != ' ')
		return;
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	snprintf(s->soa_edit_api, sizeof(s->soa_edit_api), "%s", edit);
	snprintf(s->account, sizeof(s->account), "%s", stored + n + 1);
}

void pdns_settings_write(const struct pdns_settings *s, char out[STORE_ZONE_PDNS_MAX])
{
	if (strcmp(s->kind, "Native") == 0 && strcmp(s->soa_edit_api, "DEFAULT") == 0 &&
	    s->account[0] == '\0')
		out[0] = '\0';
	else
		snprintf(out, STORE_ZONE_PDNS_MAX, "%s %s %s", s->kind, s->soa_edit_api,
			 s->account);
}

enum model_serial_rule pdns_serial_rule(const char *stored)
{
	struct pdns_settings s;

	if (stored[0] == '\0')
		return MODEL_SERIAL_DATE;
	pdns_settings_read(stored, &s);
	if (strcmp(s.soa_edit_api, "INCREASE") == 0)
		return MODEL_SERIAL_INCREASE;
	if (strcmp(s.soa_edit_api, "EPOCH") == 0)
		return MODEL_SERIAL_EPOCH;
	if (strcmp(s.soa_edit_api, "OFF") == 0)
		return MODEL_SERIAL_KEEP;
	return MODEL_SERIAL_DATE;
}

/* Which of 'names' (NULL-terminated) 'text' is, case aside: its index, or -1. */
static int one_of(const char *text, const char *const *names)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcasecmp(text, names[i]) == 0)
			return i;
	return -1;
}

/* body[key] as an optional string, JSON null being absent (-ENOENT):
 * PowerDNS-Admin sends "account": null for a zone without one. */
static int setting_get(const json_t *body, const char *key, const char **text, struct errmsg *err)
{
	if (json_is_null(json_object_get(body, key)))
		return -ENOENT;
	return jsonx_get_str(body, key, false, "body", text, err);
}

int pdns_settings_apply(const json_t *body, struct pdns_settings *s, struct errmsg *err)
{
	static const char *const kinds[] = { "Native", "Master",    "Primary",
					     "Slave",  "Secondary", NULL };
	static const char *const transfers[] = { "Producer", "Consumer", NULL };
	static const char *const edits[] = { "DEFAULT", "INCREASE", "EPOCH", "OFF", NULL };
	const char *text;
	int r = setting_get(body, "kind", &text, err);

	if (r == 0 && one_of(text, transfers) >= 0)
		return errmsg_set(err, ERR_INVALID,
				  "kind: %s zones need catalog zones, which the cluster does not "
				  "do yet; every node serves Native, Master and Slave zones",
				  text);
	if (r == 0 && one_of(text, kinds) < 0)
		return errmsg_set(err, ERR_INVALID, "kind: must be Native, Master or Slave");
	if (r == 0) {
		int k = one_of(text, kinds);
		snprintf(s->kind, sizeof(s->kind), "%s",
			 k == 0	  ? "Native"
			 : k >= 3 ? "Slave"
				  : "Master");
	}
	if (r == 0 || r == -ENOENT)
		r = setting_get(body, "soa_edit_api", &text, err);
	/* "" is no SOA-EDIT-API in PowerDNS: the serial stays (OFF). */
	if (r == 0 && text[0] == '\0')
		text = "OFF";
	if (r == 0 && one_of(text, edits) < 0)
		return errmsg_set(err, ERR_INVALID,
				  "soa_edit_api: must be DEFAULT, INCREASE, EPOCH or OFF");
	if (r == 0)
		snprintf(s->soa_edit_api, sizeof(s->soa_edit_api), "%s",
			 edits[one_of(text, edits)]);
	if (r == 0 || r == -ENOENT)
		r = setting_get(body, "account", &text, err);
	if (r == 0) {
		if (strlen(text) >= sizeof(s->account))
			return errmsg_set(err, ERR_INVALID, "account: longer than %zu bytes",
					  sizeof(s->account) - 1);
		for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
			if (*p < 0x20 || *p == 0x7f)
				return errmsg_set(err, ERR_INVALID,
						  "account: control characters are not allowed");
		snprintf(s->account, sizeof(s->account), "%s", text);
	}
	return r == -ENOENT ? 0 : r;
}

int pdns_dnssec_wanted(const json_t *body, int *sign, json_t **how, struct errmsg *err)
{
	const json_t *d = json_object_get(body, "dnssec"), *p = json_object_get(body, "nsec3param");
	const json_t *narrow = json_object_get(body, "nsec3narrow");
	const char *text = json_string_value(p);

	/* null is as if not given, as PowerDNS reads it (Go clients send
	 * their zero values as null). */
	if (json_is_null(d))
		d = NULL;
	if (json_is_null(narrow))
		narrow = NULL;
	*sign = -1;
	*how = NULL;
	if (d != NULL && !json_is_boolean(d))
		return errmsg_set(err, ERR_INVALID, "dnssec: must be true or false");
	if (narrow != NULL && !json_is_false(narrow))
		return errmsg_set(err, ERR_INVALID, "nsec3narrow: narrow NSEC3 is not supported");
	if (p != NULL && !json_is_null(p) && text == NULL)
		return errmsg_set(err, ERR_INVALID, "nsec3param: must be a string");
	if (d != NULL)
		*sign = json_is_true(d);
	if (text == NULL)
		return 0;
	bool nsec3 = text[0] != '\0', optout = strcmp(text, "1 1 0 -") == 0;
	if (nsec3 && !optout && strcmp(text, "1 0 0 -") != 0)
		return errmsg_set(
		    err, ERR_INVALID,
		    "nsec3param: the cluster signs with NSEC3 as RFC 9276 asks: '1 0 0 "
		    "-' (SHA-1, no opt-out, no extra iterations, no salt), or '1 1 0 -' "
		    "with opt-out");
	if (*sign == 0)
		return errmsg_set(err, ERR_INVALID, "nsec3param: given with \"dnssec\": false");
	*how = json_pack("{s:b,s:b}", "nsec3", nsec3, "nsec3_optout", optout);
	return *how != NULL ? 0 : -ENOMEM;
}

int pdns_canonical(const char *what, const char *name, struct errmsg *err)
{
	char q[128];

	if (name[0] != '\0' && name[strlen(name) - 1] == '.')
		return 0;
	log_sanitize(name, q, sizeof(q));
	return errmsg_set(err, ERR_INVALID,
			  "%s: '%s' is not canonical (an absolute name ends with '.')", what, q);
}

void pdns_records_clear(struct pdns_records *p)
{
	json_decref(p->records);
	json_decref(p->comments);
	free(p->soa_rdata);
	memset(p, 0, sizeof(*p));
}

/* Keys of an RRset or a record other than those read here are ignored, as
 * PowerDNS ignores them (Terraform's provider sends "set-ptr" in every
 * record, lego a "kind" in its RRsets). */

/* The SOA record 'content' of apex 'origin' as its canonical RDATA
 * (rr_parse()) into *ret (the caller frees it): names absolute, as
 * PowerDNS takes them ("Not in expected format" otherwise), never made
 * relative to the zone, numbers checked. ERR_INVALID naming 'at'. */
static int soa_read(const char *origin, uint32_t ttl, const char *content, const char *at,
		    char **ret, struct errmsg *err)
{
	struct rr rr;
	struct errmsg derr;
	int r = rr_parse_flags(origin, KNOT_RRTYPE_SOA, ttl, content, origin, RR_PARSE_ABSOLUTE,
			       &rr, &derr);

	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return errmsg_set(err, ERR_INVALID, "%s: %s", at, derr.text);
	*ret = strdup(rr.content);
	rr_clear(&rr);
	return *ret != NULL ? 0 : -ENOMEM;
}

/* One RRset's records into the panel's objects for owner 'name'. */
static int read_records(const json_t *set, const char *path, const char *name, const char *type,
			uint64_t ttl, struct pdns_records *ret, struct errmsg *err)
{
	json_t *records = NULL, *rec;
	size_t i;
	char at[96];
	int r = jsonx_get_array(set, "records", true, path, &records, err);

	if (r < 0)
		return r;
	json_array_foreach(records, i, rec) {
		const char *content = NULL;
		bool disabled = false;
		snprintf(at, sizeof(at), "%s.records[%zu]", path, i);
		if (!json_is_object(rec))
			return errmsg_set(err, ERR_INVALID, "%s: must be an object", at);
		r = jsonx_get_str(rec, "content", true, at, &content, err);
		if (r == 0 &&
		    (r = jsonx_get_bool(rec, "disabled", false, at, &disabled, err)) == -ENOENT)
			r = 0;
		if (r < 0 || content == NULL)
			return r < 0 ? r : -EINVAL;
		if (strcasecmp(type, "SOA") == 0) {
			if (strcmp(name, ret->origin) != 0)
				return errmsg_set(err, ERR_INVALID,
						  "%s: an SOA belongs at the apex", at);
			if (ret->soa_rdata != NULL || i > 0)
				return errmsg_set(err, ERR_INVALID, "%s: only one SOA record", at);
			r = soa_read(name, (uint32_t)ttl, content, at, &ret->soa_rdata, err);
			if (r < 0)
				return r;
			continue;
		}
		json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "name", name, "type", type, "content",
				      content, "ttl", (json_int_t)ttl);
		if (o != NULL && disabled)
			json_object_set_new(o, "disabled", json_true());
		if (o == NULL || json_array_append_new(ret->records, o) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The comments of an RRset of a new zone into ret->comments, keyed as
 * zone_init.comments. */
static int rrset_comments(const json_t *comments, const char *path, const char *owner,
			  const char *type, struct pdns_records *ret, struct errmsg *err)
{
	char name[DNAME_TEXT_MAX], mnemonic[16], key[DNAME_TEXT_MAX + 24];
	struct errmsg msg;
	json_t *list = NULL;
	int r = pdns_comments_read(comments, path, (uint32_t)time(NULL), &list, err);

	if (r < 0 || json_array_size(list) == 0) {
		json_decref(list);
		return r;
	}
	if (model_rrset_parse(owner, type, ret->origin, name, mnemonic, &msg) < 0) {
		json_decref(list);
		return errmsg_set(err, ERR_INVALID, "%s: %s", path, msg.text);
	}
	snprintf(key, sizeof(key), "%s\t%s", name, mnemonic);
	if (ret->comments == NULL && (ret->comments = json_object()) == NULL) {
		json_decref(list);
		return -ENOMEM;
	}
	return json_object_set_new(ret->comments, key, list) < 0 ? -ENOMEM : 0;
}

int pdns_rrsets_read(const json_t *rrsets, const char *origin, struct pdns_records *ret,
		     struct errmsg *err)
{
	json_t *seen = json_object(), *set;
	size_t i;
	int r = seen != NULL ? 0 : -ENOMEM;

	memset(ret, 0, sizeof(*ret));
	ret->origin = origin;
	ret->records = json_array();
	if (ret->records == NULL)
		r = -ENOMEM;
	if (r == 0 && rrsets != NULL && !json_is_null(rrsets) && !json_is_array(rrsets))
		r = errmsg_set(err, ERR_INVALID, "rrsets: must be an array");
	json_array_foreach(rrsets, i, set) {
		char path[32], owner[DNAME_TEXT_MAX], key[DNAME_TEXT_MAX + 24];
		const char *name, *type;
		uint64_t ttl;
		struct errmsg nerr;
		if (r < 0)
			break;
		snprintf(path, sizeof(path), "rrsets[%zu]", i);
		if (!json_is_object(set)) {
			r = errmsg_set(err, ERR_INVALID, "%s: must be an object", path);
			break;
		}
		r = jsonx_get_str(set, "name", true, path, &name, err);
		if (r == 0)
			r = jsonx_get_str(set, "type", true, path, &type, err);
		if (r == 0)
			r = jsonx_get_uint(set, "ttl", true, 0, INT32_MAX, path, &ttl, err);
		char what[48], q[48];
		snprintf(what, sizeof(what), "%s.name", path);
		if (r == 0)
			r = pdns_canonical(what, name, err);
		if (r == 0 && dname_owner_normalize(name, origin, owner, &nerr) < 0)
			r = errmsg_set(err, ERR_INVALID, "%s.name: %s", path, nerr.text);
		if (r == 0) {
			snprintf(key, sizeof(key), "%s/%s", owner, type);
			for (char *k = key; *k != '\0'; k++)
				*k = (char)(*k >= 'a' && *k <= 'z' ? *k - 32 : *k);
			log_sanitize(type, q, sizeof(q));
			if (json_object_get(seen, key) != NULL)
				r = errmsg_set(err, ERR_INVALID, "%s: RRset '%s' %s is given twice",
					       path, owner, q);
			else
				r = json_object_set_new(seen, key, json_true()) < 0 ? -ENOMEM : 0;
		}
		json_t *comments = json_object_get(set, "comments");
		if (r == 0 && comments != NULL)
			r = rrset_comments(comments, path, name, type, ret, err);
		if (r == 0)
			r = read_records(set, path, owner, type, ttl, ret, err);
		if (r == 0 && strcmp(owner, origin) == 0 && strcasecmp(type, "NS") == 0)
			ret->apex_ns = true;
	}
	json_decref(seen);
	if (r == -ENOMEM)
		errmsg_set(err, r, "out of memory");
	if (r < 0)
		pdns_records_clear(ret);
	return r;
}

int pdns_comments_read(const json_t *in, const char *path, uint32_t now, json_t **ret,
		       struct errmsg *err)
{
	json_t *out, *c;
	size_t i;

	if (!json_is_array(in))
		return errmsg_set(err, ERR_INVALID, "%s.comments: must be an array", path);
	if (json_array_size(in) > PDNS_COMMENTS_MAX)
		return errmsg_set(err, ERR_INVALID, "%s.comments: at most %d comments an RRset",
				  path, PDNS_COMMENTS_MAX);
	out = json_array();
	if (out == NULL)
		return -ENOMEM;
	json_array_foreach(in, i, c) {
		char at[64];
		const char *content, *account;
		uint64_t when = now;
		int r;

		snprintf(at, sizeof(at), "%s.comments[%zu]", path, i);
		if (!json_is_object(c)) {
			r = errmsg_set(err, ERR_INVALID, "%s: must be an object", at);
		} else {
			/* As PowerDNS: content and account are required strings,
			 * modified_at is the time of the change when absent;
			 * other keys are ignored. */
			r = jsonx_get_str(c, "content", true, at, &content, err);
			if (r == 0)
				r = jsonx_get_str(c, "account", true, at, &account, err);
			if (r == 0 && strlen(content) > PDNS_COMMENT_MAX)
				r = errmsg_set(err, ERR_INVALID, "%s.content: longer than %d bytes",
					       at, PDNS_COMMENT_MAX);
			if (r == 0 && strlen(account) > PDNS_ACCOUNT_MAX)
				r = errmsg_set(err, ERR_INVALID, "%s.account: longer than %d bytes",
					       at, PDNS_ACCOUNT_MAX);
			if (r == 0 && (r = jsonx_get_uint(c, "modified_at", false, 0, UINT32_MAX,
							  at, &when, err)) == -ENOENT)
				r = 0;
		}
		if (r == 0 && json_array_append_new(
				  out, json_pack("{s:s,s:s,s:I}", "content", content, "account",
						 account, "modified_at", (json_int_t)when)) < 0)
			r = -ENOMEM;
		if (r < 0) {
			json_decref(out);
			return r;
		}
	}
	*ret = out;
	return 0;
}

int pdns_zone_text_read(const char *text, size_t len, const char *origin, uint64_t default_ttl,
			size_t max_records, struct pdns_records *ret, struct errmsg *err)
{
	struct import_result c = { 0 };
	json_t *rec;
	size_t i;

	memset(ret, 0, sizeof(*ret));
	ret->origin = origin;
	int r = import_read(IMPORT_BIND, text, len, origin, default_ttl, max_records, &c);
	if (r < 0)
		return errmsg_set(err, r, "out of memory");
	json_t *first = json_array_get(c.errors, 0);
	if (first != NULL) {
		json_t *line = json_object_get(first, "line");
		const char *msg = json_string_value(json_object_get(first, "message"));
		if (json_is_integer(line))
			errmsg_set(err, ERR_INVALID, "zone: line %lld: %s",
				   (long long)json_integer_value(line), msg ? msg : "invalid");
		else
			errmsg_set(err, ERR_INVALID, "zone: %s", msg ? msg : "invalid");
		import_result_clear(&c);
		return ERR_INVALID;
	}
	json_array_foreach(c.records, i, rec) {
		const char *name = json_string_value(json_object_get(rec, "name"));
		const char *type = json_string_value(json_object_get(rec, "type"));
		if (name != NULL && type != NULL && strcmp(type, "NS") == 0 &&
		    (strcmp(name, "@") == 0 || strcmp(name, origin) == 0))
			ret->apex_ns = true;
	}
	ret->records = c.records;
	c.records = NULL;
	ret->soa_rdata = c.soa_rdata;
	c.soa_rdata = NULL;
	import_result_clear(&c);
	return 0;
}
