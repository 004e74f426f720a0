/* Unit tests for src/lib/model/zdiff.c: zone snapshots (canonical text of
 * a version's records) and the RRsets two versions differ in. jansson
 * allocates through cmocka's test allocator here too, so a JSON value
 * the module leaks fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "model/zdiff.h"

static void *json_test_malloc(size_t n)
{
	return test_malloc(n);
}

static void json_test_free(void *p)
{
	test_free(p);
}

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	assert_non_null(j);
	return j;
}

static char *encode(const char *records, size_t *count)
{
	json_t *a = parse(records);
	char *text = NULL;
	assert_int_equal(zdiff_encode(a, &text, count), 0);
	json_decref(a);
	return text;
}

static void assert_json_equal(const json_t *got, const char *want)
{
	json_t *w = parse(want);
	if (!json_equal(got, w)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
		print_error("got  %s\nwant %s\n", g, want);
		free(g);
		json_decref(w);
		fail();
	}
	json_decref(w);
}

static void test_encode_is_canonical(void **state)
{
	size_t n = 0;
	char *a = encode(
	    "[{\"id\":7,\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.2\",\"ttl\":300},"
	    "{\"name\":\"@\",\"type\":\"MX\",\"content\":\"mail.example.com.\","
	    "\"ttl\":3600,\"priority\":10},"
	    "{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\",\"ttl\":300}]",
	    &n);
	/* The same records in another order, without ids. */
	char *b = encode("[{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\",\"ttl\":300},"
			 "{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.2\",\"ttl\":300},"
			 "{\"name\":\"@\",\"type\":\"MX\",\"content\":\"mail.example.com.\","
			 "\"ttl\":3600,\"priority\":10}]",
			 NULL);

	assert_int_equal(n, 3);
	assert_string_equal(a, b);
	assert_string_equal(a,
			    "[[\"@\",\"MX\",3600,\"mail.example.com.\",10],"
			    "[\"www\",\"A\",300,\"192.0.2.1\"],[\"www\",\"A\",300,\"192.0.2.2\"]]");
	free(a);
	free(b);
}

static void test_encode_empty_zone(void **state)
{
	size_t n = 9;
	char *a = encode("[]", &n);
	assert_int_equal(n, 0);
	assert_string_equal(a, "[]");
	free(a);
}

static void test_encode_refuses_incomplete_records(void **state)
{
	static const char *const bad[] = {
		"{}",
		"[{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\"}]",
		"[{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\",\"ttl\":-1}]",
		"[{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\",\"ttl\":\"300\"}]",
		"[{\"name\":\"www\",\"type\":\"A\",\"ttl\":300}]",
		"[{\"type\":\"A\",\"content\":\"192.0.2.1\",\"ttl\":300}]",
		"[{\"name\":\"@\",\"type\":\"MX\",\"content\":\"m.\",\"ttl\":1,\"priority\":70000}"
		"]",
		"[7]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *a = parse(bad[i]);
		char *text = NULL;
		assert_int_equal(zdiff_encode(a, &text, NULL), ERR_INVALID);
		assert_null(text);
		json_decref(a);
	}
}

static void test_decode_round_trip(void **state)
{
	char *text =
	    encode("[{\"name\":\"@\",\"type\":\"SRV\",\"content\":\"5 443 srv.example.com.\","
		   "\"ttl\":60,\"priority\":1},"
		   "{\"name\":\"txt\",\"type\":\"TXT\",\"content\":\"\\\"a b\\\"\",\"ttl\":0}]",
		   NULL);
	json_t *records = NULL;
	assert_int_equal(zdiff_decode(text, &records), 0);
	assert_json_equal(records,
			  "[{\"name\":\"@\",\"type\":\"SRV\","
			  "\"content\":\"5 443 srv.example.com.\",\"ttl\":60,\"priority\":1},"
			  "{\"name\":\"txt\",\"type\":\"TXT\",\"content\":\"\\\"a b\\\"\","
			  "\"ttl\":0,\"priority\":0}]");
	/* What decode gives encodes to the same text. */
	char *again = NULL;
	assert_int_equal(zdiff_encode(records, &again, NULL), 0);
	assert_string_equal(again, text);
	free(again);
	free(text);
	json_decref(records);
}

static void test_decode_refuses_what_is_not_a_snapshot(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"{}",
		"[{}]",
		"[[\"a\"]]",
		"[[\"@\",\"A\",-1,\"192.0.2.1\"]]",
		"[[\"@\",\"A\",1,2]]",
		"[{\"name\":\"@\",\"type\":\"A\",\"content\":\"x\",\"ttl\":1}]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *out = NULL;
		assert_int_equal(zdiff_decode(bad[i], &out), ERR_INVALID);
		assert_null(out);
	}
}

static json_t *diff(const char *from, const char *to)
{
	json_t *a = parse(from), *b = parse(to), *d = NULL;
	assert_int_equal(zdiff_rrsets(a, b, &d), 0);
	json_decref(a);
	json_decref(b);
	return d;
}

#define NS "{\"name\":\"@\",\"type\":\"NS\",\"content\":\"ns1.example.net.\",\"ttl\":3600}"
#define WWW1 "{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\",\"ttl\":300}"
#define WWW2 "{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.2\",\"ttl\":300}"
#define MX10                                                                                       \
	"{\"name\":\"@\",\"type\":\"MX\",\"content\":\"mx.example.com.\",\"ttl\":60,\"priority\":" \
	"10}"
#define MX20                                                                                       \
	"{\"name\":\"@\",\"type\":\"MX\",\"content\":\"mx.example.com.\",\"ttl\":60,\"priority\":" \
	"20}"

static void test_diff_of_equal_contents_is_empty(void **state)
{
	json_t *d = diff("[" NS "," WWW1 "," WWW2 "]", "[" WWW2 "," NS "," WWW1 "]");
	assert_json_equal(d, "{\"added\":[],\"removed\":[],\"changed\":[]}");
	json_decref(d);
}

static void test_diff_added_and_removed_rrsets(void **state)
{
	json_t *d = diff("[" NS "," MX10 "]", "[" NS "," WWW1 "," WWW2 "]");
	assert_json_equal(d, "{\"added\":[{\"name\":\"www\",\"type\":\"A\",\"records\":["
			     "{\"content\":\"192.0.2.1\",\"ttl\":300,\"priority\":0},"
			     "{\"content\":\"192.0.2.2\",\"ttl\":300,\"priority\":0}]}],"
			     "\"removed\":[{\"name\":\"@\",\"type\":\"MX\",\"records\":["
			     "{\"content\":\"mx.example.com.\",\"ttl\":60,\"priority\":10}]}],"
			     "\"changed\":[]}");
	json_decref(d);
}

static void test_diff_changed_rrsets(void **state)
{
	/* A record added to an RRset, a priority changed, a TTL changed. */
	json_t *d =
	    diff("[" NS "," WWW1 "," MX10 "]",
		 "[" WWW1 "," WWW2 "," MX20 ","
		 "{\"name\":\"@\",\"type\":\"NS\",\"content\":\"ns1.example.net.\",\"ttl\":60}]");
	assert_json_equal(
	    d, "{\"added\":[],\"removed\":[],\"changed\":["
	       "{\"name\":\"@\",\"type\":\"MX\","
	       "\"before\":[{\"content\":\"mx.example.com.\",\"ttl\":60,\"priority\":10}],"
	       "\"after\":[{\"content\":\"mx.example.com.\",\"ttl\":60,\"priority\":20}]},"
	       "{\"name\":\"@\",\"type\":\"NS\","
	       "\"before\":[{\"content\":\"ns1.example.net.\",\"ttl\":3600,\"priority\":0}],"
	       "\"after\":[{\"content\":\"ns1.example.net.\",\"ttl\":60,\"priority\":0}]},"
	       "{\"name\":\"www\",\"type\":\"A\","
	       "\"before\":[{\"content\":\"192.0.2.1\",\"ttl\":300,\"priority\":0}],"
	       "\"after\":[{\"content\":\"192.0.2.1\",\"ttl\":300,\"priority\":0},"
	       "{\"content\":\"192.0.2.2\",\"ttl\":300,\"priority\":0}]}]}");
	json_decref(d);
}

static void test_diff_from_and_to_empty(void **state)
{
	json_t *d = diff("[]", "[" WWW1 "]");
	assert_int_equal(json_array_size(json_object_get(d, "added")), 1);
	json_decref(d);
	d = diff("[" WWW1 "," NS "]", "[]");
	assert_int_equal(json_array_size(json_object_get(d, "removed")), 2);
	/* In name, type order: "@" NS before "www" A. */
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(d, "removed"), 0), "type")),
			    "NS");
	json_decref(d);
}

static void test_diff_accepts_decoded_snapshots(void **state)
{
	char *text = encode("[" NS "," WWW1 "]", NULL);
	json_t *old = NULL, *now = parse("[" NS "," WWW2 "]"), *d = NULL;
	assert_int_equal(zdiff_decode(text, &old), 0);
	assert_int_equal(zdiff_rrsets(old, now, &d), 0);
	assert_int_equal(json_array_size(json_object_get(d, "changed")), 1);
	json_decref(d);
	json_decref(old);
	json_decref(now);
	free(text);
}

static void test_diff_refuses_bad_records(void **state)
{
	json_t *a = parse("[" NS "]"), *b = parse("[{\"name\":\"www\"}]"), *d = NULL;
	assert_int_equal(zdiff_rrsets(a, b, &d), ERR_INVALID);
	assert_int_equal(zdiff_rrsets(b, a, &d), ERR_INVALID);
	assert_null(d);
	json_decref(a);
	json_decref(b);
}

/* A disabled record keeps its flag through a snapshot, sorts after the
 * same record enabled, and is a change of its RRset. */
static void test_disabled_records(void **state)
{
	(void)state;
	char *text = encode("[{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\","
			    "\"ttl\":60,\"disabled\":true},"
			    "{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\","
			    "\"ttl\":60,\"disabled\":false},"
			    "{\"name\":\"@\",\"type\":\"MX\",\"content\":\"mx.example.com.\","
			    "\"ttl\":60,\"priority\":5,\"disabled\":true}]",
			    NULL);
	assert_string_equal(text, "[[\"@\",\"MX\",60,\"mx.example.com.\",5,true],"
				  "[\"www\",\"A\",60,\"192.0.2.1\"],"
				  "[\"www\",\"A\",60,\"192.0.2.1\",0,true]]");
	json_t *records = NULL;
	assert_int_equal(zdiff_decode(text, &records), 0);
	assert_json_equal(records,
			  "[{\"name\":\"@\",\"type\":\"MX\",\"content\":\"mx.example.com.\","
			  "\"ttl\":60,\"priority\":5,\"disabled\":true},"
			  "{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\",\"ttl\":60,"
			  "\"priority\":0},"
			  "{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\",\"ttl\":60,"
			  "\"priority\":0,\"disabled\":true}]");
	char *again = NULL;
	assert_int_equal(zdiff_encode(records, &again, NULL), 0);
	assert_string_equal(again, text);
	free(again);
	free(text);
	json_decref(records);
	json_t *d =
	    diff("[" WWW1 "]", "[{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\","
			       "\"ttl\":300,\"disabled\":true}]");
	assert_int_equal(json_array_size(json_object_get(d, "changed")), 1);
	json_decref(d);
	static const char *const bad[] = {
		"[[\"www\",\"A\",60,\"192.0.2.1\",0,false]]",
		"[[\"www\",\"A\",60,\"192.0.2.1\",0,true,1]]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *out = NULL;
		assert_int_equal(zdiff_decode(bad[i], &out), ERR_INVALID);
		assert_null(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_is_canonical),
		cmocka_unit_test(test_encode_empty_zone),
		cmocka_unit_test(test_encode_refuses_incomplete_records),
		cmocka_unit_test(test_decode_round_trip),
		cmocka_unit_test(test_decode_refuses_what_is_not_a_snapshot),
		cmocka_unit_test(test_diff_of_equal_contents_is_empty),
		cmocka_unit_test(test_diff_added_and_removed_rrsets),
		cmocka_unit_test(test_diff_changed_rrsets),
		cmocka_unit_test(test_diff_from_and_to_empty),
		cmocka_unit_test(test_diff_accepts_decoded_snapshots),
		cmocka_unit_test(test_diff_refuses_bad_records),
		cmocka_unit_test(test_disabled_records),
	};
	json_set_alloc_funcs(json_test_malloc, json_test_free);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
