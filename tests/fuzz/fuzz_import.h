/* The controller's zone import up to its commit, shared by the zone file and
 * the Route 53 targets: import_read(), then what zones_records_import()
 * does before it writes: every collected record through
 * model_record_parse() (it was validated already, so it must pass), and the
 * zone as a push through model_push_parse() (the whole-zone rules), whose
 * refusal import_error_line() then places. */
#ifndef YUMNA_FUZZ_IMPORT_H
#define YUMNA_FUZZ_IMPORT_H

#include "fuzz.h"
#include "import.h"
#include "model/model.h"

#define FUZZ_ORIGIN "example.com."

static inline void fuzz_import_zone(const struct import_result *c)
{
	static const struct zone_limits limits = { .max_rrset = 50, .max_records = 400 };
	static const struct soa_defaults soa = {
		"ns1.example.net.", "hostmaster.example.net.", 10800, 3600, 604800, 3600, 3600
	};
	struct errmsg err = { "" };
	struct zone_push p;
	size_t i;
	json_t *o;

	json_t *records = json_array();
	if (records == NULL)
		return;
	json_array_foreach(c->records, i, o) {
		struct model_record mr;
		int r = model_record_parse(o, FUZZ_ORIGIN, 3600, &mr, &err);
		if (r < 0)
			fuzz_fail("imported record %zu refused: %s", i, err.text);
		json_t *rec = json_pack("{s:s,s:s,s:s,s:I}", "name", mr.name, "type", mr.type,
					"content", mr.content, "ttl", (json_int_t)mr.ttl);
		if (rec != NULL && (strcmp(mr.type, "MX") == 0 || strcmp(mr.type, "SRV") == 0))
			json_object_set_new(rec, "priority", json_integer(mr.priority));
		json_array_append_new(records, rec);
		model_record_clear(&mr);
	}
	json_array_append_new(records,
			      json_pack("{s:s,s:s,s:s,s:i}", "name", "@", "type", "SOA", "content",
					"ns1.example.net. hostmaster.example.net. 7 "
					"10800 3600 604800 3600",
					"ttl", 3600));
	json_t *payload = json_pack("{s:{s:s,s:i,s:i},s:o}", "zone", "domain", FUZZ_ORIGIN,
				    "version", 1, "serial", 7, "records", records);
	if (payload == NULL)
		return;
	int r = model_push_parse(payload, &limits, &soa, &p, &err);
	json_decref(payload);
	if (r == 0) {
		zone_push_clear(&p);
		return;
	}
	fuzz_check_message("model_push_parse", r, err.text);
	json_decref(import_error_line(c, err.text));
}

static inline void fuzz_import(enum import_format fmt, const uint8_t *data, size_t size)
{
	struct import_result c;
	size_t i;
	json_t *e;

	if (import_read(fmt, (const char *)data, size, FUZZ_ORIGIN, 3600, 300, &c) < 0)
		return;
	if (json_array_size(c.errors) > ZONEFILE_ERRORS_MAX + 1)
		fuzz_fail("%zu errors kept", json_array_size(c.errors));
	json_array_foreach(c.errors, i, e) {
		const char *msg = json_string_value(json_object_get(e, "message"));
		if (msg == NULL)
			fuzz_fail("error %zu without a message", i);
		fuzz_check_message("import_read", ERR_INVALID, msg);
	}
	if (json_array_size(c.errors) == 0)
		fuzz_import_zone(&c);
	import_result_clear(&c);
}

#endif
