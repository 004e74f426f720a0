/* Unit tests for PowerDNS's API shapes (src/whm/pdns_shape.h): zone ids
 * both ways, the stored zone settings, and RRsets read into the panel's
 * records with the refusals PowerDNS's clients must see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdns_shape.h"

static void test_zone_ids(void **state)
{
	char id[DNAME_PDNS_ID_MAX], name[DNAME_TEXT_MAX];
	struct errmsg err;

	(void)state;
	dname_pdns_id("example-1.org.", id);
	assert_string_equal(id, "example-1.org.");
	dname_pdns_id("a_b/c.", id);
	assert_string_equal(id, "a=5Fb=2Fc.");
	assert_int_equal(dname_pdns_id_read(id, name, &err), 0);
	assert_string_equal(name, "a_b/c.");
	assert_int_equal(dname_pdns_id_read("ex=2Dample.org.", name, &err), 0);
	assert_string_equal(name, "ex-ample.org.");
	assert_int_equal(dname_pdns_id_read("bad=Z1.", name, &err), ERR_MALFORMED);
	assert_int_equal(dname_pdns_id_read("cut=4", name, &err), ERR_MALFORMED);
	assert_int_equal(dname_pdns_id_read("nul=00.org.", name, &err), ERR_INVALID);
}

static void apply(const char *body_text, struct pdns_settings *s, int want)
{
	struct errmsg err;
	json_t *body = json_loads(body_text, 0, NULL);

	assert_non_null(body);
	assert_int_equal(pdns_settings_apply(body, s, &err), want);
	json_decref(body);
}

/* The defaults are stored as ""; what a request sets comes back as it was
 * written, an account with blanks included; refusals leave nothing half
 * applied that the caller would keep. */
static void test_settings(void **state)
{
	struct pdns_settings s, back;
	char stored[STORE_ZONE_PDNS_MAX];

	(void)state;
	pdns_settings_read("", &s);
	assert_string_equal(s.kind, "Native");
	assert_string_equal(s.soa_edit_api, "DEFAULT");
	pdns_settings_write(&s, stored);
	assert_string_equal(stored, "");

	apply("{\"kind\": \"master\", \"soa_edit_api\": \"epoch\", \"account\": \"team a\"}", &s,
	      0);
	pdns_settings_write(&s, stored);
	assert_string_equal(stored, "Master EPOCH team a");
	pdns_settings_read(stored, &back);
	assert_string_equal(back.kind, "Master");
	assert_string_equal(back.soa_edit_api, "EPOCH");
	assert_string_equal(back.account, "team a");
	apply("{\"kind\": \"Primary\"}", &s, 0);
	assert_string_equal(s.kind, "Master");

	apply("{\"kind\": \"Secondary\"}", &s, 0);
	assert_string_equal(s.kind, "Slave");
	pdns_settings_write(&s, stored);
	pdns_settings_read(stored, &back);
	assert_string_equal(back.kind, "Slave");
	apply("{\"kind\": \"Consumer\"}", &s, ERR_INVALID);
	apply("{\"kind\": \"Producer\"}", &s, ERR_INVALID);
	apply("{\"kind\": \"Bogus\"}", &s, ERR_INVALID);
	apply("{\"kind\": 1}", &s, ERR_INVALID);
	apply("{\"soa_edit_api\": \"SOA-EDIT\"}", &s, ERR_INVALID);
	apply("{\"account\": \"a\\u0001b\"}", &s, ERR_INVALID);
	pdns_settings_read("garbage", &back);
	assert_string_equal(back.kind, "Native");
}

static int read_rrsets(const char *text, struct pdns_records *p, struct errmsg *err)
{
	json_t *rrsets = json_loads(text, 0, NULL);

	assert_non_null(rrsets);
	int r = pdns_rrsets_read(rrsets, "example.org.", p, err);
	json_decref(rrsets);
	return r;
}

static void test_rrsets(void **state)
{
	struct pdns_records p;
	struct errmsg err;

	(void)state;
	assert_int_equal(
	    read_rrsets("[{\"name\": \"www.example.org.\", \"type\": \"A\", \"ttl\": 60,"
			" \"records\": [{\"content\": \"192.0.2.1\"}, {\"content\": \"192.0.2.2\","
			" \"disabled\": false}], \"comments\": []},"
			" {\"name\": \"Example.org.\", \"type\": \"SOA\", \"ttl\": 60, \"records\":"
			" [{\"content\": \"ns1.example.org. h.example.org. 1 2 3 4 5\"}]},"
			" {\"name\": \"example.org.\", \"type\": \"NS\", \"ttl\": 60, \"records\":"
			" [{\"content\": \"ns1.example.org.\"}]}]",
			&p, &err),
	    0);
	assert_int_equal(json_array_size(p.records), 3);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(p.records, 0), "name")),
	    "www.example.org.");
	assert_string_equal(p.soa_rdata, "ns1.example.org. h.example.org. 1 2 3 4 5");
	assert_true(p.apex_ns);
	assert_null(p.comments);
	pdns_records_clear(&p);

	/* Disabled records and comments are kept, the comments by the RRset's
	 * name as records name it. */
	assert_int_equal(
	    read_rrsets("[{\"name\": \"www.example.org.\", \"type\": \"a\", \"ttl\": 60,"
			" \"records\": [{\"content\": \"192.0.2.1\", \"disabled\": true}],"
			" \"comments\": [{\"content\": \"c\", \"account\": \"a\"}]}]",
			&p, &err),
	    0);
	assert_true(json_is_true(json_object_get(json_array_get(p.records, 0), "disabled")));
	assert_int_equal(json_array_size(json_object_get(p.comments, "www\tA")), 1);
	pdns_records_clear(&p);

	static const char *const refused[] = {
		"{}",
		"[5]",
		"[{\"name\": \"www.example.org\", \"type\": \"A\", \"ttl\": 1, \"records\": []}]",
		"[{\"name\": \"www.other.org.\", \"type\": \"A\", \"ttl\": 1, \"records\": []}]",
		"[{\"name\": \"www.example.org.\", \"type\": \"A\", \"records\": []}]",
		"[{\"name\": \"www.example.org.\", \"type\": \"A\", \"ttl\": 1}]",
		"[{\"name\": \"www.example.org.\", \"type\": \"A\", \"ttl\": 1, \"records\":"
		" [{\"content\": \"192.0.2.1\", \"disabled\": 1}]}]",
		"[{\"name\": \"www.example.org.\", \"type\": \"A\", \"ttl\": 1, \"records\": [],"
		" \"comments\": [{\"content\": \"x\"}]}]",
		"[{\"name\": \"a.example.org.\", \"type\": \"A\", \"ttl\": 1, \"records\": []},"
		" {\"name\": \"A.example.org.\", \"type\": \"a\", \"ttl\": 1, \"records\": []}]",
		"[{\"name\": \"www.example.org.\", \"type\": \"SOA\", \"ttl\": 1, \"records\":"
		" [{\"content\": \"ns1.example.org. h.example.org. 1 2 3 4 5\"}]}]",
		"[{\"name\": \"www.example.org.\", \"type\": \"A\", \"ttl\": 1, \"records\":"
		" [{\"content\": 5}]}]",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		err.text[0] = '\0';
		assert_int_equal(read_rrsets(refused[i], &p, &err), ERR_INVALID);
		assert_true(err.text[0] != '\0');
		assert_null(p.records);
	}
}

static void test_comments(void **state)
{
	struct errmsg err;
	json_t *out = NULL;

	(void)state;
	json_t *in = json_loads("[{\"content\": \"c1\", \"account\": \"a\", \"modified_at\": 5,"
				" \"extra\": 1}, {\"content\": \"\", \"account\": \"\"}]",
				0, NULL);
	assert_int_equal(pdns_comments_read(in, "rrsets[0]", 77, &out, &err), 0);
	json_decref(in);
	char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "[{\"account\":\"a\",\"content\":\"c1\",\"modified_at\":5},"
				  "{\"account\":\"\",\"content\":\"\",\"modified_at\":77}]");
	free(text);
	json_decref(out);

	static const char *const refused[] = {
		"\"x\"",
		"[\"x\"]",
		"[{\"content\": 5, \"account\": \"a\"}]",
		"[{\"content\": \"x\"}]",
		"[{\"content\": \"x\", \"account\": \"a\", \"modified_at\": \"now\"}]",
		"[{\"content\": \"x\", \"account\": \"a\", \"modified_at\": -1}]",
		"[{\"content\": \"x\", \"account\": "
		"\"12345678901234567890123456789012345678901\"}]",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		in = json_loads(refused[i], JSON_DECODE_ANY, NULL);
		assert_non_null(in);
		err.text[0] = '\0';
		out = NULL;
		assert_int_equal(pdns_comments_read(in, "rrsets[0]", 77, &out, &err), ERR_INVALID);
		assert_non_null(strstr(err.text, "rrsets[0].comments"));
		assert_null(out);
		json_decref(in);
	}
	/* Too long a content, too many comments. */
	char *big = calloc(PDNS_COMMENT_MAX + 2, 1);
	assert_non_null(big);
	memset(big, 'x', PDNS_COMMENT_MAX + 1);
	in = json_pack("[{s:s,s:s}]", "content", big, "account", "a");
	assert_int_equal(pdns_comments_read(in, "rrsets[0]", 77, &out, &err), ERR_INVALID);
	json_decref(in);
	big[PDNS_COMMENT_MAX] = '\0';
	in = json_pack("[{s:s,s:s}]", "content", big, "account", "a");
	assert_int_equal(pdns_comments_read(in, "rrsets[0]", 77, &out, &err), 0);
	json_decref(out);
	json_decref(in);
	free(big);
	in = json_array();
	for (int i = 0; i <= PDNS_COMMENTS_MAX; i++)
		json_array_append_new(in, json_pack("{s:s,s:s}", "content", "c", "account", "a"));
	assert_int_equal(pdns_comments_read(in, "rrsets[0]", 77, &out, &err), ERR_INVALID);
	json_decref(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_ids),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_rrsets),
		cmocka_unit_test(test_comments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
