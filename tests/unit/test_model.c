/* Unit tests for src/lib/model: the zone push payload of the original panel
 * turned into validated DNS data, or refused with a message that names the
 * field. The DNS rules themselves are test_dns.c's business; these tests pin
 * what the model adds: field names and types, priority, status, the SOA. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "model/model.h"
#include "model/xfr.h"

#define TYPE_A 1
#define TYPE_NS 2
#define TYPE_SOA 6
#define TYPE_MX 15
#define TYPE_SRV 33

static const struct soa_defaults soa = {
	.mname = "ns1.example.net.",
	.rname = "hostmaster.example.net.",
	.refresh = 10800,
	.retry = 3600,
	.expire = 604800,
	.minimum = 300,
	.ttl = 7200,
};

static const struct zone_limits limits = { .max_rrset = 100, .max_records = 1000 };

/* The apex NS every valid zone needs, as the first records. */
#define NS_RECORDS                                                           \
	"{\"name\":\"@\",\"type\":\"NS\",\"content\":\"ns1.example.net.\"}," \
	"{\"name\":\"@\",\"type\":\"NS\",\"content\":\"ns2.example.net.\"}"

#define ZONE "\"zone\":{\"domain\":\"example.com\",\"version\":3,\"serial\":2024010101}"

static json_t *load(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (j == NULL)
		fail_msg("test payload does not parse: %s: %s", je.text, text);
	return j;
}

/* 'text' is accepted; the caller clears *ret. */
static void push_ok(const char *text, struct zone_push *ret)
{
	struct errmsg err = { "" };
	json_t *j = load(text);
	int r = model_push_parse(j, &limits, &soa, ret, &err);

	json_decref(j);
	if (r != 0)
		fail_msg("refused (%d): %s\npayload: %s", r, err.text, text);
}

/* 'text' is refused with 'want_r' and a message containing 'want'
 * (exactly 'want' if 'exact'); the result holds nothing. */
static void push_bad_r(const char *text, int want_r, const char *want, bool exact)
{
	struct errmsg err = { "" };
	struct zone_push p;
	json_t *j = load(text);

	memset(&p, 0x5a, sizeof(p));
	int r = model_push_parse(j, &limits, &soa, &p, &err);
	json_decref(j);
	if (r == 0)
		zone_push_clear(&p);
	if (r != want_r)
		fail_msg("%d (%s), want %d\npayload: %s", r, err.text, want_r, text);
	if (exact ? strcmp(err.text, want) != 0 : strstr(err.text, want) == NULL)
		fail_msg("message '%s', want %s'%s'\npayload: %s", err.text, exact ? "" : "part ",
			 want, text);
	assert_null(p.data.rrs);
	assert_int_equal(p.data.n, 0);
}

static void push_bad(const char *text, const char *want)
{
	push_bad_r(text, ERR_INVALID, want, true);
}

/* The only record of 'type' at 'owner'; fails if there is not exactly one. */
static const struct rr *find_rr(const struct zone_push *p, const char *owner, uint16_t type)
{
	const struct rr *found = NULL;

	for (size_t i = 0; i < p->data.n; i++) {
		const struct rr *rr = &p->data.rrs[i];
		if (rr->type != type || strcmp(rr->owner, owner) != 0)
			continue;
		if (found != NULL)
			fail_msg("more than one type %u at '%s'", type, owner);
		found = rr;
	}
	if (found == NULL)
		fail_msg("no type %u at '%s'", type, owner);
	return found;
}

static unsigned count_type(const struct zone_push *p, uint16_t type)
{
	unsigned n = 0;

	for (size_t i = 0; i < p->data.n; i++)
		n += p->data.rrs[i].type == type;
	return n;
}

/* A push carries a steered RRset as one PowerDNS LUA record, kept as it
 * is; the record routes take one only as the controller allows. */
static void test_push_lua_record(void **state)
{
	struct zone_push p;
	(void)state;

	push_ok("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"LUA\","
		"\"content\":\"A \\\"pickwrandom({{1,'192.0.2.1'}})\\\"\",\"ttl\":60}]}",
		&p);
	bool found = false;
	for (size_t i = 0; i < p.data.n; i++)
		if (p.data.rrs[i].type == TYPE_LUA) {
			assert_string_equal(p.data.rrs[i].owner, "www.example.com.");
			assert_string_equal(p.data.rrs[i].content,
					    "A \"pickwrandom({{1,'192.0.2.1'}})\"");
			found = true;
		}
	assert_true(found);
	zone_push_clear(&p);
	/* a steered CNAME is a CNAME: nothing else at its owner */
	push_bad_r("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"LUA\","
		   "\"content\":\"CNAME \\\"'a.example.net.'\\\"\"},"
		   "{\"name\":\"www\",\"type\":\"TXT\",\"content\":\"\\\"x\\\"\"}]}",
		   ERR_INVALID, "CNAME", false);
	push_bad_r("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"LUA\","
		   "\"content\":\"MX \\\"x\\\"\"}]}",
		   ERR_INVALID, "A, AAAA, CNAME or TXT", false);
	push_bad_r("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"LUA\","
		   "\"content\":\"A \\\"a\\\\\\\"b\\\"\"}]}",
		   ERR_INVALID, "may not hold", false);

	struct model_record mr;
	struct errmsg err;
	/* a raw one on the record routes: who may is the controller's call */
	json_t *j = load("{\"name\":\"www\",\"type\":\"lua\",\"content\":\"A \\\"'x'\\\"\"}");
	assert_int_equal(model_record_parse(j, "example.com.", 300, &mr, &err), 0);
	assert_string_equal(mr.type, "LUA");
	assert_string_equal(mr.content, "A \"'x'\"");
	model_record_clear(&mr);
	json_decref(j);
	j = load("{\"name\":\"www\",\"type\":\"LUA\",\"content\":\"MX \\\"x\\\"\"}");
	assert_int_equal(model_record_parse(j, "example.com.", 300, &mr, &err), ERR_INVALID);
	json_decref(j);
}

static void test_valid_push(void **state)
{
	struct zone_push p;

	(void)state;
	push_ok("{\"zone\":{\"domain\":\"Example.COM\",\"version\":3,\"serial\":2024010101,"
		"\"id\":7,\"userId\":1,\"dnssec_enabled\":false},"
		"\"records\":[" NS_RECORDS ","
		"{\"name\":\"@\",\"type\":\"MX\",\"content\":\"mail.example.com.\",\"priority\":10,"
		"\"ttl\":300},"
		"{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\",\"priority\":0,"
		"\"status\":\"active\",\"id\":12,\"zoneId\":7},"
		"{\"name\":\"mail\",\"type\":\"a\",\"content\":\"192.0.2.25\",\"ttl\":0}]}",
		&p);
	assert_string_equal(p.data.origin, "example.com.");
	assert_int_equal(p.version, 3);
	assert_int_equal(p.serial, 2024010101u);
	/* Five records and the SOA added for them. */
	assert_int_equal(p.data.n, 6);

	const struct rr *mx = find_rr(&p, "example.com.", TYPE_MX);
	assert_string_equal(mx->content, "10 mail.example.com.");
	assert_int_equal(mx->ttl, 300);

	const struct rr *www = find_rr(&p, "www.example.com.", TYPE_A);
	assert_string_equal(www->content, "192.0.2.1");
	assert_int_equal(www->ttl, MODEL_DEFAULT_TTL);

	const struct rr *mail = find_rr(&p, "mail.example.com.", TYPE_A);
	assert_int_equal(mail->ttl, 0);
	assert_int_equal(count_type(&p, TYPE_NS), 2);
	zone_push_clear(&p);
}

/* "name" is the older spelling of "domain". */
static void test_zone_name_alias(void **state)
{
	struct zone_push p;

	(void)state;
	push_ok("{\"zone\":{\"name\":\"example.org.\",\"version\":1,\"serial\":0},"
		"\"records\":[" NS_RECORDS "]}",
		&p);
	assert_string_equal(p.data.origin, "example.org.");
	assert_int_equal(p.version, 1);
	assert_int_equal(p.serial, 0);
	zone_push_clear(&p);
}

static void test_soa_added(void **state)
{
	struct zone_push p;

	(void)state;
	push_ok("{" ZONE ",\"records\":[" NS_RECORDS "]}", &p);
	assert_int_equal(p.data.n, 3);
	const struct rr *s = find_rr(&p, "example.com.", TYPE_SOA);
	assert_string_equal(
	    s->content,
	    "ns1.example.net. hostmaster.example.net. 2024010101 10800 3600 604800 300");
	assert_int_equal(s->ttl, 7200);
	zone_push_clear(&p);

	/* The largest serial is carried as is. */
	push_ok("{\"zone\":{\"domain\":\"example.com\",\"version\":9223372036854775807,"
		"\"serial\":4294967295},\"records\":[" NS_RECORDS "]}",
		&p);
	assert_int_equal(p.version, MODEL_VERSION_MAX);
	assert_int_equal(p.serial, 4294967295u);
	s = find_rr(&p, "example.com.", TYPE_SOA);
	assert_non_null(strstr(s->content, " 4294967295 "));
	zone_push_clear(&p);
}

static void test_soa_sent(void **state)
{
	struct zone_push p;

	(void)state;
	/* A SOA that publishes the zone's serial is kept, not doubled. */
	push_ok("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"@\",\"type\":\"SOA\","
		"\"content\":\"ns1.example.net. admin.example.com. 2024010101 1 2 3 4\"}]}",
		&p);
	assert_int_equal(count_type(&p, TYPE_SOA), 1);
	const struct rr *s = find_rr(&p, "example.com.", TYPE_SOA);
	assert_string_equal(s->content, "ns1.example.net. admin.example.com. 2024010101 1 2 3 4");
	zone_push_clear(&p);

	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"@\",\"type\":\"SOA\","
		 "\"content\":\"ns1.example.net. admin.example.com. 7 1 2 3 4\"}]}",
		 "SOA serial 7 differs from zone.serial 2024010101");
}

static void test_priority(void **state)
{
	struct zone_push p;

	(void)state;
	/* Without "priority" the content carries it; with it, it is prepended;
	 * 0 is a priority for MX and SRV. */
	push_ok(
	    "{" ZONE ",\"records\":[" NS_RECORDS ","
	    "{\"name\":\"a\",\"type\":\"MX\",\"content\":\"20 mx2\"},"
	    "{\"name\":\"b\",\"type\":\"MX\",\"content\":\"mx0.example.net.\",\"priority\":0},"
	    "{\"name\":\"c\",\"type\":\"MX\",\"content\":\"mx.example.net.\",\"priority\":65535},"
	    "{\"name\":\"_sip._tcp\",\"type\":\"SRV\",\"content\":\"5 5060 sip.example.net.\","
	    "\"priority\":10}]}",
	    &p);
	assert_string_equal(find_rr(&p, "a.example.com.", TYPE_MX)->content, "20 mx2.example.com.");
	assert_string_equal(find_rr(&p, "b.example.com.", TYPE_MX)->content, "0 mx0.example.net.");
	assert_string_equal(find_rr(&p, "c.example.com.", TYPE_MX)->content,
			    "65535 mx.example.net.");
	assert_string_equal(find_rr(&p, "_sip._tcp.example.com.", TYPE_SRV)->content,
			    "10 5 5060 sip.example.net.");
	zone_push_clear(&p);

	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		 "\"content\":\"192.0.2.1\",\"priority\":5}]}",
		 "records[2].priority: only MX and SRV records have a priority");
	push_bad("{" ZONE ",\"records\":[{\"name\":\"@\",\"type\":\"NS\","
		 "\"content\":\"ns1.example.net.\",\"priority\":1}]}",
		 "records[0].priority: only MX and SRV records have a priority");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"@\",\"type\":\"MX\","
		 "\"content\":\"mx.example.net.\",\"priority\":65536}]}",
		 "records[2].priority: 65536 is out of range 0..65535");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"@\",\"type\":\"MX\","
		 "\"content\":\"mx.example.net.\",\"priority\":-1}]}",
		 "records[2].priority: -1 is out of range 0..65535");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"@\",\"type\":\"MX\","
		 "\"content\":\"mx.example.net.\",\"priority\":\"10\"}]}",
		 "records[2].priority: must be an integer");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"@\",\"type\":\"MX\","
		 "\"content\":\"mx.example.net.\",\"priority\":10.0}]}",
		 "records[2].priority: must be an integer");
	/* The priority given twice is not a valid MX. */
	push_bad_r("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"@\",\"type\":\"MX\","
		   "\"content\":\"10 mx.example.net.\",\"priority\":10}]}",
		   ERR_INVALID, "records[2]: ", false);
}

/* The panel writes TXT, SPF and the CAA value unquoted (issue 13): one
 * text, never split at blanks; it reads them back the same way. */
static void test_plain_text_values(void **state)
{
	struct model_record mr;
	struct errmsg err;
	struct zone_push p;
	char *shown;

	(void)state;
	push_ok("{" ZONE ",\"records\":[" NS_RECORDS ","
		"{\"name\":\"@\",\"type\":\"TXT\",\"content\":\"v=spf1 -all\"},"
		"{\"name\":\"q\",\"type\":\"TXT\",\"content\":\"\\\"a\\\" \\\"b\\\"\"},"
		"{\"name\":\"@\",\"type\":\"SPF\",\"content\":\"v=spf1 mx -all\"},"
		"{\"name\":\"@\",\"type\":\"CAA\",\"content\":\"0 issue ca.example; a=b\"}]}",
		&p);
	assert_string_equal(find_rr(&p, "example.com.", 16)->content, "\"v=spf1 -all\"");
	assert_string_equal(find_rr(&p, "q.example.com.", 16)->content, "\"a\" \"b\"");
	assert_string_equal(find_rr(&p, "example.com.", 99)->content, "\"v=spf1 mx -all\"");
	assert_string_equal(find_rr(&p, "example.com.", 257)->content,
			    "0 issue \"ca.example; a=b\"");
	zone_push_clear(&p);

	json_t *j = load("{\"name\":\"_dmarc\",\"type\":\"TXT\","
			 "\"content\":\"v=DMARC1; p=reject\"}");
	assert_int_equal(model_record_parse(j, "example.com.", 3600, &mr, &err), 0);
	json_decref(j);
	assert_string_equal(mr.content, "\"v=DMARC1; p=reject\"");
	assert_int_equal(model_content_show(mr.type, mr.content, &shown), 0);
	assert_string_equal(shown, "v=DMARC1; p=reject");
	free(shown);
	model_record_clear(&mr);

	assert_int_equal(model_content_show("TXT", "\"a\" \"b\"", &shown), 0);
	assert_null(shown);
	assert_int_equal(model_content_show("CAA", "0 issue \"ca.example\"", &shown), 0);
	assert_string_equal(shown, "0 issue ca.example");
	free(shown);
	assert_int_equal(model_content_show("MX", "mail.example.com.", &shown), 0);
	assert_null(shown);
}

static void test_unknown_fields(void **state)
{
	(void)state;
	push_bad("{\"zone\":{\"domain\":\"example.com\",\"version\":3,\"serial\":1,\"bogus\":1},"
		 "\"records\":[" NS_RECORDS "]}",
		 "zone: unknown field 'bogus'");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		 "\"content\":\"192.0.2.1\",\"weight\":5}]}",
		 "records[2]: unknown field 'weight'");
	push_bad("{" ZONE ",\"records\":[],\"extra\":true}", "body: unknown field 'extra'");
	/* Key names are client text: quoted safely. */
	push_bad("{" ZONE ",\"records\":[{\"name\":\"@\",\"type\":\"NS\",\"content\":\"ns1.\","
		 "\"ty'pe\":1}]}",
		 "records[0]: unknown field 'ty\\x27pe'");
}

static void test_ttl_types(void **state)
{
	(void)state;
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		 "\"content\":\"192.0.2.1\",\"ttl\":\"3600\"}]}",
		 "records[2].ttl: must be an integer");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		 "\"content\":\"192.0.2.1\",\"ttl\":3600.0}]}",
		 "records[2].ttl: must be an integer");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		 "\"content\":\"192.0.2.1\",\"ttl\":null}]}",
		 "records[2].ttl: must be an integer");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		 "\"content\":\"192.0.2.1\",\"ttl\":-1}]}",
		 "records[2].ttl: -1 is out of range 0..2147483647");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		 "\"content\":\"192.0.2.1\",\"ttl\":2147483648}]}",
		 "records[2].ttl: 2147483648 is out of range 0..2147483647");
}

static void test_status(void **state)
{
	(void)state;
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		 "\"content\":\"192.0.2.1\",\"status\":\"disabled\"}]}",
		 "records[2].status: only active records can be served");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		 "\"content\":\"192.0.2.1\",\"status\":\"Active\"}]}",
		 "records[2].status: only active records can be served");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		 "\"content\":\"192.0.2.1\",\"status\":\"\"}]}",
		 "records[2].status: only active records can be served");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		 "\"content\":\"192.0.2.1\",\"status\":true}]}",
		 "records[2].status: must be a string");
}

static void test_structure(void **state)
{
	(void)state;
	push_bad("[]", "body must be a JSON object");
	push_bad("{\"records\":[]}", "body: missing field 'zone'");
	push_bad("{" ZONE "}", "body: missing field 'records'");
	push_bad("{\"zone\":[],\"records\":[]}", "body.zone: must be an object");
	push_bad("{" ZONE ",\"records\":{}}", "body.records: must be an array");
	push_bad("{" ZONE ",\"records\":[" NS_RECORDS ",\"www A 192.0.2.1\"]}",
		 "records[2]: must be an object");
	push_bad("{" ZONE ",\"records\":[{\"type\":\"A\",\"content\":\"192.0.2.1\"}]}",
		 "records[0]: missing field 'name'");
	push_bad("{" ZONE ",\"records\":[{\"name\":\"www\",\"content\":\"192.0.2.1\"}]}",
		 "records[0]: missing field 'type'");
	push_bad("{" ZONE ",\"records\":[{\"name\":\"www\",\"type\":\"A\"}]}",
		 "records[0]: missing field 'content'");
	push_bad("{" ZONE ",\"records\":[{\"name\":\"www\",\"type\":1,\"content\":\"x\"}]}",
		 "records[0].type: must be a string");
}

static void test_zone_fields(void **state)
{
	(void)state;
	push_bad_r("{\"zone\":{\"version\":1,\"serial\":1},\"records\":[]}", ERR_INVALID,
		   "zone: missing field '", false);
	push_bad("{\"zone\":{\"domain\":7,\"version\":1,\"serial\":1},\"records\":[]}",
		 "zone.domain: must be a string");
	push_bad("{\"zone\":{\"domain\":\"example.com\",\"serial\":1},\"records\":[]}",
		 "zone: missing field 'version'");
	push_bad("{\"zone\":{\"domain\":\"example.com\",\"version\":0,\"serial\":1},"
		 "\"records\":[]}",
		 "zone.version: 0 is out of range 1..9223372036854775807");
	push_bad("{\"zone\":{\"domain\":\"example.com\",\"version\":\"3\",\"serial\":1},"
		 "\"records\":[]}",
		 "zone.version: must be an integer");
	push_bad("{\"zone\":{\"domain\":\"example.com\",\"version\":1},\"records\":[]}",
		 "zone: missing field 'serial'");
	push_bad("{\"zone\":{\"domain\":\"example.com\",\"version\":1,\"serial\":4294967296},"
		 "\"records\":[]}",
		 "zone.serial: 4294967296 is out of range 0..4294967295");
	/* The name rules are dns.h's; the model names the field. */
	push_bad_r("{\"zone\":{\"domain\":\"exa mple.com\",\"version\":1,\"serial\":1},"
		   "\"records\":[]}",
		   ERR_INVALID, "zone.domain: ", false);
}

/* DNS errors come back with the record's path in front. */
static void test_record_paths(void **state)
{
	(void)state;
	push_bad_r("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"A\","
		   "\"content\":\"192.0.2.256\"}]}",
		   ERR_INVALID, "records[2]: ", false);
	push_bad_r("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www\",\"type\":\"BOGUS\","
		   "\"content\":\"x\"}]}",
		   ERR_INVALID, "records[2]: ", false);
	push_bad_r("{" ZONE ",\"records\":[" NS_RECORDS ",{\"name\":\"www.example.org.\","
		   "\"type\":\"A\",\"content\":\"192.0.2.1\"}]}",
		   ERR_INVALID, "records[2]: ", false);
}

/* An owner whose name relative to the zone would end with the zone's name
 * is stored absolute: read back, the relative text would be refused by the
 * trailing-dot rule ("www.example.com" in example.com.). */
static void test_record_name_reads_back(void **state)
{
	static const char *const cases[][2] = {
		{ "www", "www" },
		{ "@", "@" },
		{ "example.com.", "@" },
		{ "www.example.com.example.com.", "www.example.com.example.com." },
		{ "example.com.example.com.", "example.com.example.com." },
		{ "Example.Com.example.com.", "example.com.example.com." },
		{ "xexample.com.example.com.", "xexample.com" },
		{ "example.com.x.example.com.", "example.com.x" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct model_record mr, again;
		struct errmsg err = { "" };
		char text[400];

		snprintf(text, sizeof(text),
			 "{\"name\":\"%s\",\"type\":\"A\",\"content\":\"192.0.2.1\"}", cases[i][0]);
		json_t *j = load(text);
		if (model_record_parse(j, "example.com.", 3600, &mr, &err) < 0)
			fail_msg("'%s' refused: %s", cases[i][0], err.text);
		json_decref(j);
		assert_string_equal(mr.name, cases[i][1]);
		snprintf(text, sizeof(text),
			 "{\"name\":\"%s\",\"type\":\"A\",\"content\":\"192.0.2.1\"}", mr.name);
		j = load(text);
		if (model_record_parse(j, "example.com.", 3600, &again, &err) < 0)
			fail_msg("'%s' stored as '%s' does not read back: %s", cases[i][0], mr.name,
				 err.text);
		json_decref(j);
		assert_string_equal(again.name, mr.name);
		model_record_clear(&mr);
		model_record_clear(&again);
	}
}

static void test_record_cap(void **state)
{
	static const struct zone_limits tight = { .max_rrset = 100, .max_records = 2 };
	struct errmsg err;
	struct zone_push p;
	json_t *j;

	(void)state;
	/* Counted before any record is parsed. */
	j = load("{" ZONE ",\"records\":[1,2,3]}");
	assert_int_equal(model_push_parse(j, &tight, &soa, &p, &err), ERR_TOO_LARGE);
	assert_string_equal(err.text, "records: 3 records, the limit is 2 per zone");
	assert_null(p.data.rrs);
	json_decref(j);

	/* Two records and the SOA added to them pass the cap: refused by the
	 * zone check, which counts the SOA. */
	j = load("{" ZONE ",\"records\":[" NS_RECORDS "]}");
	int r = model_push_parse(j, &tight, &soa, &p, &err);
	json_decref(j);
	if (r == 0)
		zone_push_clear(&p);
	assert_int_equal(r, ERR_TOO_LARGE);
	assert_non_null(strstr(err.text, "3 records"));
	assert_null(p.data.rrs);
}

/* A zone without NS is not a zone: the whole-zone check runs. */
static void test_zone_check_runs(void **state)
{
	(void)state;
	push_bad_r("{" ZONE ",\"records\":[{\"name\":\"www\",\"type\":\"A\","
		   "\"content\":\"192.0.2.1\"}]}",
		   ERR_INVALID, "NS", false);
}

/* DNSSEC records ride only on a push that says the zone is presigned. */
#define SIGNED_RECORDS                                                                          \
	NS_RECORDS ",{\"name\":\"@\",\"type\":\"DNSKEY\",\"content\":\"257 3 13 AAAA\"},"       \
		   "{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\"},"               \
		   "{\"name\":\"www\",\"type\":\"RRSIG\",\"ttl\":300,\"content\":\"A 13 3 300 " \
		   "20300101000000 20200101000000 1 example.com. AAAA\"}"

static void test_presigned(void **state)
{
	struct zone_push p;

	(void)state;
	push_bad_r("{" ZONE ",\"records\":[" SIGNED_RECORDS "]}", ERR_INVALID,
		   "maintained by the signer", false);
	push_bad_r("{\"zone\":{\"domain\":\"example.com\",\"version\":3,\"serial\":1,"
		   "\"presigned\":false},\"records\":[" SIGNED_RECORDS "]}",
		   ERR_INVALID, "maintained by the signer", false);
	push_bad_r("{\"zone\":{\"domain\":\"example.com\",\"version\":3,\"serial\":1,"
		   "\"presigned\":1},\"records\":[" NS_RECORDS "]}",
		   ERR_INVALID, "presigned", false);
	push_ok("{\"zone\":{\"domain\":\"example.com\",\"version\":3,\"serial\":1,"
		"\"presigned\":true},\"records\":[" SIGNED_RECORDS "]}",
		&p);
	assert_true(p.presigned);
	assert_non_null(find_rr(&p, "www.example.com.", 46));
	zone_push_clear(&p);
}

static int group_teardown(void **state)
{
	(void)state;
	dns_thread_cleanup();
	return 0;
}

#define DZONE(d)                                                                              \
	"{\"zone\":{\"domain\":\"example.com\",\"version\":3,\"serial\":1,\"dnssec\":" d "}," \
	"\"records\":[" NS_RECORDS "]}"
#define DKEY(extra)                                                             \
	"{\"keytype\":\"csk\",\"dnskey\":\"257 3 13 AAECAwQ=\",\"privatekey\":" \
	"\"Private-key-format: v1.2\\nAlgorithm: 13 (ECDSAP256SHA256)\\n"       \
	"PrivateKey: AAAA\\n\"" extra "}"

static void dnssec_bad(const char *text, const char *want)
{
	push_bad_r(text, ERR_INVALID, want, false);
}

static void test_dnssec(void **state)
{
	struct zone_push p;

	(void)state;
	push_ok(DZONE("{\"enabled\":true,\"keys\":[" DKEY("") "]}"), &p);
	assert_non_null(p.dnssec);
	assert_true(json_is_true(json_object_get(p.dnssec, "enabled")));
	zone_push_clear(&p);
	assert_null(p.dnssec);
	push_ok(DZONE("{\"enabled\":true,\"nsec3param\":\"1 1 0 -\",\"publish_cds\":true,"
		      "\"keys\":[" DKEY(",\"active\":true,\"published\":false") "]}"),
		&p);
	zone_push_clear(&p);
	push_ok(DZONE("{\"enabled\":false}"), &p);
	assert_non_null(p.dnssec);
	zone_push_clear(&p);
	push_ok(DZONE("null"), &p);
	assert_null(p.dnssec);
	zone_push_clear(&p);

	dnssec_bad(DZONE("true"), "zone.dnssec: must be an object");
	dnssec_bad(DZONE("{}"), "enabled");
	dnssec_bad(DZONE("{\"enabled\":false,\"keys\":[]}"), "a disabled zone carries nothing");
	dnssec_bad(DZONE("{\"enabled\":true}"), "keys");
	dnssec_bad(DZONE("{\"enabled\":true,\"keys\":[]}"), "between 1 and 8 keys");
	dnssec_bad(DZONE("{\"enabled\":true,\"salt\":\"ab\",\"keys\":[" DKEY("") "]}"), "salt");
	dnssec_bad(DZONE("{\"enabled\":true,\"nsec3param\":\"1 0 10 ab\",\"keys\":[" DKEY("") "]}"),
		   "RFC 9276");
	dnssec_bad(DZONE("{\"enabled\":true,\"keys\":[" DKEY(",\"flags\":257") "]}"), "flags");
	dnssec_bad(DZONE("{\"enabled\":true,\"keys\":[" DKEY(",\"active\":1") "]}"), "active");
	dnssec_bad(
	    DZONE("{\"enabled\":true,\"keys\":[{\"keytype\":\"big\",\"dnskey\":\"257 3 13 "
		  "AAAA\",\"privatekey\":\"Private-key-format: v1.2\\nPrivateKey: A\\n\"}]}"),
	    "keytype");
	dnssec_bad(
	    DZONE("{\"enabled\":true,\"keys\":[{\"keytype\":\"csk\",\"dnskey\":\"257 3 8 "
		  "AAAA\",\"privatekey\":\"Private-key-format: v1.2\\nPrivateKey: A\\n\"}]}"),
	    "dnskey");
	dnssec_bad(
	    DZONE("{\"enabled\":true,\"keys\":[{\"keytype\":\"csk\",\"dnskey\":\"257 3 13 "
		  "A#A=\",\"privatekey\":\"Private-key-format: v1.2\\nPrivateKey: A\\n\"}]}"),
	    "dnskey");
	dnssec_bad(DZONE("{\"enabled\":true,\"keys\":[{\"keytype\":\"csk\",\"dnskey\":\"257 3 13 "
			 "AAAA\",\"privatekey\":\"-----BEGIN PRIVATE KEY-----\"}]}"),
		   "ISC (BIND) format");
}

/* An RRset named in any form the record routes take is found in the form
 * they store its records in. */
static void test_rrset_names(void **state)
{
	char name[DNAME_TEXT_MAX], type[16];
	struct errmsg err;
	struct model_record mr;

	(void)state;
	assert_int_equal(model_rrset_parse("WWW", "a", "example.com.", name, type, &err), 0);
	assert_string_equal(name, "www");
	assert_string_equal(type, "A");
	assert_int_equal(
	    model_rrset_parse("www.example.com.", "A", "example.com.", name, type, &err), 0);
	assert_string_equal(name, "www");
	assert_int_equal(model_rrset_parse("example.com.", "mx", "example.com.", name, type, &err),
			 0);
	assert_string_equal(name, "@");
	assert_string_equal(type, "MX");
	/* The relative form would end with the zone's name: stored absolute,
	 * as model_record_parse() stores it. */
	assert_int_equal(model_rrset_parse("www.example.com.example.com.", "A", "example.com.",
					   name, type, &err),
			 0);
	json_t *j = load("{\"name\":\"www.example.com.example.com.\",\"type\":\"A\","
			 "\"content\":\"192.0.2.1\"}");
	assert_int_equal(model_record_parse(j, "example.com.", 3600, &mr, &err), 0);
	json_decref(j);
	assert_string_equal(name, mr.name);
	model_record_clear(&mr);
	assert_int_equal(
	    model_rrset_parse("www.example.net.", "A", "example.com.", name, type, &err),
	    ERR_INVALID);
	assert_non_null(strstr(err.text, "not inside zone"));
	assert_int_equal(model_rrset_parse("www", "BOGUS", "example.com.", name, type, &err),
			 ERR_INVALID);
}

/* Each rule moves the serial on, never backwards in RFC 1982 terms, and
 * never to 0; KEEP leaves it. 1764979200 is 2025-12-06T00:00:00Z. */
static void test_serial_rules(void **state)
{
	const time_t now = 1764979200;

	(void)state;
	assert_int_equal(model_serial_next(7, now), 2025120600u);
	assert_int_equal(model_serial_next(2025120600u, now), 2025120601u);
	assert_int_equal(model_serial_after(MODEL_SERIAL_DATE, 7, now), 2025120600u);
	assert_int_equal(model_serial_after(MODEL_SERIAL_INCREASE, 7, now), 8);
	assert_int_equal(model_serial_after(MODEL_SERIAL_INCREASE, UINT32_MAX, now), 1);
	assert_int_equal(model_serial_after(MODEL_SERIAL_EPOCH, 7, now), (uint32_t)now);
	/* A serial ahead of the clock: one more, not back to the clock. */
	assert_int_equal(model_serial_after(MODEL_SERIAL_EPOCH, 2025120600u, now), 2025120601u);
	assert_int_equal(model_serial_after(MODEL_SERIAL_EPOCH, (uint32_t)now, now),
			 (uint32_t)now + 1);
	assert_int_equal(model_serial_after(MODEL_SERIAL_KEEP, 42, now), 42);
}

/* Transfer settings: addresses and prefixes with inet_pton, notify
 * addresses with ports, and a push's zone.transfer. */
static void test_transfer_checks(void **state)
{
	char canon[XFR_ADDR_MAX];
	const char *msg;
	struct errmsg err;
	(void)state;

	assert_int_equal(xfr_prefix_check("192.0.2.0/24", &msg), 0);
	assert_int_equal(xfr_prefix_check("2001:db8::/32", &msg), 0);
	assert_int_equal(xfr_prefix_check("192.0.2.1", &msg), 0);
	assert_int_equal(xfr_prefix_check("192.0.2.1/24", &msg), ERR_INVALID);
	assert_int_equal(xfr_prefix_check("192.0.2.0/33", &msg), ERR_INVALID);
	assert_int_equal(xfr_prefix_check("300.0.0.1", &msg), ERR_INVALID);
	assert_int_equal(xfr_prefix_check("192.0.2.1 192.0.2.2", &msg), ERR_INVALID);
	assert_int_equal(xfr_prefix_check("", &msg), ERR_INVALID);

	assert_int_equal(xfr_notify_check("192.0.2.1", canon, &msg), 0);
	assert_string_equal(canon, "192.0.2.1");
	assert_int_equal(xfr_notify_check("192.0.2.1:5300", canon, &msg), 0);
	assert_string_equal(canon, "192.0.2.1:5300");
	assert_int_equal(xfr_notify_check("2001:DB8:0::1", canon, &msg), 0);
	assert_string_equal(canon, "2001:db8::1");
	assert_int_equal(xfr_notify_check("[2001:db8::1]:53", canon, &msg), 0);
	assert_string_equal(canon, "[2001:db8::1]:53");
	static const char *const bad[] = { "192.0.2.1:0",    "192.0.2.1:65536",
					   "192.0.2.1:053",  "[2001:db8::1]",
					   "[2001:db8::1]:", "example.com",
					   "192.0.2.1:5x",   "",
					   "1.2.3.4/32" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xfr_notify_check(bad[i], canon, &msg), ERR_INVALID);

	json_t *t = json_loads("{\"allow_from\": [\"192.0.2.0/24\"], \"keys\": [\"k.example.\"],"
			       " \"notify\": [\"192.0.2.1:5300\"], \"tsig\": [{\"name\": "
			       "\"k.example.\", \"algorithm\": \"hmac-sha256\", \"secret\": "
			       "\"MDEyMzQ1Njc4OWFiY2RlZg==\"}]}",
			       0, NULL);
	assert_int_equal(model_transfer_check(t, "zone.transfer", &err), 0);
	json_object_set_new(json_array_get(json_object_get(t, "tsig"), 0), "algorithm",
			    json_string("hmac-sha1"));
	assert_int_equal(model_transfer_check(t, "zone.transfer", &err), ERR_INVALID);
	assert_non_null(strstr(err.text, "algorithm"));
	json_decref(t);
	t = json_loads("{\"notify\": [\"nope\"]}", 0, NULL);
	assert_int_equal(model_transfer_check(t, "zone.transfer", &err), ERR_INVALID);
	assert_non_null(strstr(err.text, "notify[0]"));
	json_decref(t);
	t = json_loads("{\"other\": []}", 0, NULL);
	assert_int_equal(model_transfer_check(t, "zone.transfer", &err), ERR_INVALID);
	json_decref(t);

	/* "allow": pairs of a prefix and a key */
	t = json_loads("{\"allow\": [{\"from\": \"192.0.2.0/24\", \"key\": \"k.example.\"}]}", 0,
		       NULL);
	assert_int_equal(model_transfer_check(t, "zone.transfer", &err), 0);
	json_decref(t);
	static const char *const bad_pairs[] = {
		"{\"allow\": [{\"from\": \"192.0.2.1/24\", \"key\": \"k.example.\"}]}",
		"{\"allow\": [{\"from\": \"192.0.2.1\"}]}",
		"{\"allow\": [{\"from\": \"192.0.2.1\", \"key\": \"-bad..\"}]}",
		"{\"allow\": [{\"from\": \"192.0.2.1\", \"key\": \"k.\", \"port\": 53}]}",
		"{\"allow\": [\"192.0.2.1\"]}",
	};
	for (size_t i = 0; i < sizeof(bad_pairs) / sizeof(bad_pairs[0]); i++) {
		t = json_loads(bad_pairs[i], 0, NULL);
		assert_non_null(t);
		assert_int_equal(model_transfer_check(t, "zone.transfer", &err), ERR_INVALID);
		assert_non_null(strstr(err.text, "zone.transfer.allow[0]"));
		json_decref(t);
	}
}

/* Whether an address lies in a prefix: the check the transfer port makes. */
static void test_prefix_contains(void **state)
{
	struct xfr_primary a, b6;
	struct errmsg err;
	(void)state;

	assert_int_equal(xfr_primary_parse("192.0.2.77", &a, &err), 0);
	assert_int_equal(xfr_primary_parse("[2001:db8::5]:53", &b6, &err), 0);
	assert_true(xfr_prefix_contains("192.0.2.0/24", &a.addr));
	assert_true(xfr_prefix_contains("192.0.2.77", &a.addr));
	assert_false(xfr_prefix_contains("192.0.2.76", &a.addr));
	assert_false(xfr_prefix_contains("192.0.3.0/24", &a.addr));
	assert_false(xfr_prefix_contains("2001:db8::/32", &a.addr));
	assert_true(xfr_prefix_contains("2001:db8::/32", &b6.addr));
	assert_false(xfr_prefix_contains("2001:db9::/32", &b6.addr));
	assert_false(xfr_prefix_contains("0.0.0.0/0", &b6.addr));
	assert_true(xfr_prefix_contains("::/0", &b6.addr));
	assert_false(xfr_prefix_contains("not an address", &a.addr));
}

int main(void)
{
	/* One test a line. */
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_push),
		cmocka_unit_test(test_push_lua_record),
		cmocka_unit_test(test_zone_name_alias),
		cmocka_unit_test(test_soa_added),
		cmocka_unit_test(test_soa_sent),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_plain_text_values),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_ttl_types),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_zone_fields),
		cmocka_unit_test(test_record_paths),
		cmocka_unit_test(test_record_cap),
		cmocka_unit_test(test_record_name_reads_back),
		cmocka_unit_test(test_zone_check_runs),
		cmocka_unit_test(test_presigned),
		cmocka_unit_test(test_dnssec),
		cmocka_unit_test(test_rrset_names),
		cmocka_unit_test(test_serial_rules),
		cmocka_unit_test(test_transfer_checks),
		cmocka_unit_test(test_prefix_contains),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
