/* PowerDNS's API bodies as the controller reads them (src/whm/pdns_shape.h):
 * the RRsets of a zone creation, a zone's settings, the DNSSEC wishes, and
 * zone ids. Oracles: a refusal has a printable message and hands nothing
 * back; accepted RRsets give records named inside the zone, each with a
 * type, a content and a TTL; settings that were accepted are read back
 * from their stored text as they were; an id read back and written again
 * reads back the same. */
#include "fuzz.h"
#include "json/jsonx.h"
#include "pdns_shape.h"

#define ORIGIN "example.org."

static void rrsets(const json_t *body)
{
	struct pdns_records p;
	struct errmsg err = { "" };
	json_t *rec;
	size_t i;

	int r = pdns_rrsets_read(json_object_get(body, "rrsets"), ORIGIN, &p, &err);
	if (r < 0) {
		fuzz_check_message("pdns_rrsets_read", r, err.text);
		if (p.records != NULL || p.soa_rdata != NULL)
			fuzz_fail("pdns_rrsets_read: refused, yet records handed back");
		return;
	}
	json_array_foreach(p.records, i, rec) {
		const char *name = json_string_value(json_object_get(rec, "name"));
		size_t n = name != NULL ? strlen(name) : 0;
		if (n < strlen(ORIGIN) || strcmp(name + n - strlen(ORIGIN), ORIGIN) != 0)
			fuzz_fail("record %zu: name '%s' outside the zone", i,
				  name ? name : "(none)");
		if (!json_is_string(json_object_get(rec, "type")) ||
		    !json_is_string(json_object_get(rec, "content")) ||
		    !json_is_integer(json_object_get(rec, "ttl")))
			fuzz_fail("record %zu: type, content or TTL missing", i);
	}
	pdns_records_clear(&p);
}

static void settings(const json_t *body)
{
	struct pdns_settings s, back;
	struct errmsg err = { "" };
	char stored[STORE_ZONE_PDNS_MAX];
	int sign;
	json_t *how;

	pdns_settings_read("", &s);
	int r = pdns_settings_apply(body, &s, &err);
	if (r < 0) {
		fuzz_check_message("pdns_settings_apply", r, err.text);
	} else {
		pdns_settings_write(&s, stored);
		pdns_settings_read(stored, &back);
		if (strcmp(s.kind, back.kind) != 0 ||
		    strcmp(s.soa_edit_api, back.soa_edit_api) != 0 ||
		    strcmp(s.account, back.account) != 0)
			fuzz_fail("settings '%s' read back otherwise", stored);
	}
	r = pdns_dnssec_wanted(body, &sign, &how, &err);
	if (r < 0)
		fuzz_check_message("pdns_dnssec_wanted", r, err.text);
	else if (sign < -1 || sign > 1 || (how != NULL && sign == 0))
		fuzz_fail("pdns_dnssec_wanted: sign %d with%s a body", sign, how ? "" : "out");
	json_decref(how);
}

static void zone_id(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size), name[DNAME_TEXT_MAX], again[DNAME_TEXT_MAX];
	char id[DNAME_PDNS_ID_MAX];
	struct errmsg err = { "" };

	if (text == NULL)
		return;
	int r = dname_pdns_id_read(text, name, &err);
	if (r < 0) {
		fuzz_check_message("dname_pdns_id_read", r, err.text);
	} else {
		dname_pdns_id(name, id);
		if (dname_pdns_id_read(id, again, &err) < 0 || strcmp(name, again) != 0)
			fuzz_fail("id '%s' does not read back as '%s'", id, name);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errmsg err = { "" };
	json_t *body;

	zone_id(data, size);
	if (jsonx_parse((const char *)data, size, &body, &err) < 0)
		return 0;
	if (json_is_object(body)) {
		rrsets(body);
		settings(body);
	}
	json_decref(body);
	return 0;
}
