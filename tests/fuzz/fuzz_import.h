/* The controller's zone import up to its commit, shared by the zone file and
 * the Route 53 targets: import_read(), then what zones_records_import()
 * does before it writes: every collected record through
 * model_record_parse() (it was validated already, so it must pass), and the
 * zone as a push through model_push_parse() (the whole-zone rules), whose
 * refusal import_error_line() then places. A zone that passes is written
 * as transfer_export() writes it, and that zone file must import again
 * without an error and to the same records, unless it holds a name that
 * repeats the zone's name: the API takes one written absolute, a zone file
 * never (a final dot is probably missing there). */
#ifndef YUMNA_FUZZ_IMPORT_H
#define YUMNA_FUZZ_IMPORT_H

#include "fuzz.h"
#include "model/import.h"
#include "model/model.h"

#define FUZZ_ORIGIN "example.com."

static inline int fuzz_cmp_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The records of an import as sorted lines of JSON, to compare two. */
static inline char *fuzz_record_set(const json_t *records)
{
	size_t n = json_array_size(records), len = 1;
	char **lines = calloc(n + 1, sizeof(*lines));
	for (size_t i = 0; lines != NULL && i < n; i++) {
		lines[i] = json_dumps(json_array_get(records, i), JSON_COMPACT | JSON_SORT_KEYS);
		if (lines[i] == NULL)
			fuzz_fail("json_dumps failed");
		len += strlen(lines[i]) + 1;
	}
	if (lines == NULL)
		fuzz_fail("out of memory");
	qsort(lines, n, sizeof(*lines), fuzz_cmp_text);
	char *out = malloc(len), *p = out;
	if (out == NULL)
		fuzz_fail("out of memory");
	for (size_t i = 0; i < n; i++) {
		p += snprintf(p, len - (size_t)(p - out), "%s\n", lines[i]);
		free(lines[i]);
	}
	*p = '\0';
	free(lines);
	return out;
}

/* The zone file transfer_export() writes for 'stored' (the stored forms
 * of the records, SOA last), imported again. */
static inline void fuzz_export_again(const struct import_result *c, const json_t *stored)
{
	size_t alloc = 4096, len = 0, i;
	char *text = malloc(alloc);
	json_t *o;

	if (text == NULL)
		fuzz_fail("out of memory");
	len += (size_t)snprintf(text, alloc, "$ORIGIN %s\n$TTL 3600\n", FUZZ_ORIGIN);
	for (int soa = 1; soa >= 0; soa--) {
		json_array_foreach(stored, i, o) {
			const char *type = json_string_value(json_object_get(o, "type"));
			json_t *prio = json_object_get(o, "priority");
			if ((strcmp(type, "SOA") == 0) != soa)
				continue;
			char line[70000];
			char ptext[16] = "";
			if (prio != NULL)
				snprintf(ptext, sizeof(ptext), "%lld ",
					 (long long)json_integer_value(prio));
			int n =
			    snprintf(line, sizeof(line), "%s\t%lld\tIN\t%s\t%s%s\n",
				     json_string_value(json_object_get(o, "name")),
				     (long long)json_integer_value(json_object_get(o, "ttl")), type,
				     ptext, json_string_value(json_object_get(o, "content")));
			if (n < 0 || (size_t)n >= sizeof(line))
				fuzz_fail("an exported line does not fit");
			while (len + (size_t)n + 1 > alloc) {
				text = realloc(text, alloc *= 2);
				if (text == NULL)
					fuzz_fail("out of memory");
			}
			memcpy(text + len, line, (size_t)n + 1);
			len += (size_t)n;
		}
	}
	struct import_result again;
	if (strstr(text, FUZZ_ORIGIN FUZZ_ORIGIN) != NULL) {
		free(text);
		return;
	}
	if (import_read(IMPORT_BIND, text, len, FUZZ_ORIGIN, 3600, 0, &again) < 0)
		fuzz_fail("out of memory");
	if (json_array_size(again.errors) > 0)
		fuzz_fail(
		    "the export does not import again: line %lld: %s\n%s",
		    (long long)json_integer_value(
			json_object_get(json_array_get(again.errors, 0), "line")),
		    json_string_value(json_object_get(json_array_get(again.errors, 0), "message")),
		    text);
	char *before = fuzz_record_set(c->records), *after = fuzz_record_set(again.records);
	if (strcmp(before, after) != 0)
		fuzz_fail("the export imports as other records:\n%s\nbecame\n%s", before, after);
	free(before);
	free(after);
	free(text);
	import_result_clear(&again);
}

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
	json_incref(records);
	json_t *payload = json_pack("{s:{s:s,s:i,s:i},s:o}", "zone", "domain", FUZZ_ORIGIN,
				    "version", 1, "serial", 7, "records", records);
	if (payload == NULL) {
		json_decref(records);
		return;
	}
	int r = model_push_parse(payload, &limits, &soa, &p, &err);
	json_decref(payload);
	if (r == 0) {
		zone_push_clear(&p);
		fuzz_export_again(c, records);
	} else {
		fuzz_check_message("model_push_parse", r, err.text);
		json_decref(import_error_line(c, err.text));
	}
	json_decref(records);
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
