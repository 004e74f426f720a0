/* Unit tests for src/lib/model/steer*.c: routing policies checked and
 * compiled to the LUA record content PowerDNS 4.7 runs, the panel's
 * per-record shape turned into a policy, and bad input refused with a
 * message naming the field. */
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

#include "base/buf.h"
#include "base/err.h"
#include "model/steer.h"

#define ORIGIN "example.com."

static json_t *load(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (j == NULL)
		fail_msg("test policy does not parse: %s: %s", je.text, text);
	return j;
}

/* 'policy' for an RRset of 'type' compiles to exactly 'want'. */
static void compiles(const char *type, const char *policy, const char *want)
{
	struct errmsg err = { "" };
	json_t *j = load(policy);
	char *out = NULL;

	int r = steer_compile(j, type, ORIGIN, &out, &err);
	json_decref(j);
	if (r != 0)
		fail_msg("refused (%d): %s\n  policy: %s", r, err.text, policy);
	if (strcmp(out, want) != 0)
		fail_msg("compiled to\n  %s\nwanted\n  %s", out, want);
	free(out);
}

/* 'policy' is refused with a message containing 'needle'. */
static void refused(const char *type, const char *policy, const char *needle)
{
	struct errmsg err = { "" };
	json_t *j = load(policy);
	char *out = NULL;

	int r = steer_compile(j, type, ORIGIN, &out, &err);
	json_decref(j);
	if (r == 0) {
		fail_msg("accepted as %s\n  policy: %s", out, policy);
		free(out);
	}
	assert_int_equal(r, ERR_INVALID);
	if (strstr(err.text, needle) == NULL)
		fail_msg("message '%s' lacks '%s'", err.text, needle);
}

static void test_weighted(void **state)
{
	(void)state;
	compiles("A",
		 "{\"type\":\"weighted\",\"targets\":[{\"target\":\"192.0.2.1\",\"weight\":30},"
		 "{\"target\":\"192.0.2.2\",\"weight\":70}]}",
		 "A \"pickwrandom({{30,'192.0.2.1'},{70,'192.0.2.2'}})\"");
	/* sticky per client network; a zero weight leaves the target out */
	compiles("AAAA",
		 "{\"type\":\"weighted\",\"sticky\":true,\"targets\":["
		 "{\"target\":\"2001:DB8:0:0::1\",\"weight\":0},"
		 "{\"target\":\"2001:db8::2\",\"weight\":5}]}",
		 "AAAA \"pickwhashed({{5,'2001:db8::2'}})\"");
	/* CNAME targets are names, made absolute */
	compiles("CNAME",
		 "{\"type\":\"weighted\",\"targets\":[{\"target\":\"a\",\"weight\":1},"
		 "{\"target\":\"b.example.net.\",\"weight\":1}]}",
		 "CNAME \"pickwrandom({{1,'a.example.com.'},{1,'b.example.net.'}})\"");
}

static void test_weighted_bad(void **state)
{
	(void)state;
	refused("A",
		"{\"type\":\"weighted\",\"targets\":[{\"target\":\"192.0.2.1\",\"weight\":-1}]}",
		"out of range");
	refused("A",
		"{\"type\":\"weighted\",\"targets\":[{\"target\":\"192.0.2.1\",\"weight\":1.5}]}",
		"integer");
	refused("A",
		"{\"type\":\"weighted\",\"targets\":[{\"target\":\"192.0.2.1\",\"weight\":0}]}",
		"add up to 0");
	refused("A", "{\"type\":\"weighted\",\"targets\":[]}", "1 to 32 targets");
	refused("A", "{\"type\":\"weighted\",\"targets\":[{\"target\":\"www\",\"weight\":1}]}",
		"not an IPv4 address");
	refused("AAAA",
		"{\"type\":\"weighted\",\"targets\":[{\"target\":\"192.0.2.1\",\"weight\":1}]}",
		"not an IPv6 address");
	/* a quote in a target never reaches the code */
	refused("CNAME",
		"{\"type\":\"weighted\",\"targets\":[{\"target\":\"a')os.exit(\",\"weight\":1}]}",
		"not a name");
	refused("A",
		"{\"type\":\"weighted\",\"targets\":[{\"target\":\"192.0.2.1\",\"weight\":1,"
		"\"x\":1}]}",
		"x");
}

static void test_failover(void **state)
{
	(void)state;
	/* equal targets, all of them when none is up: PowerDNS's own selectors */
	compiles("A",
		 "{\"type\":\"failover\",\"targets\":[\"192.0.2.1\",\"192.0.2.2\"],"
		 "\"check\":{\"tcp_port\":443,\"interval\":2,\"minimum_failures\":1}}",
		 "A \"ifportup(443,{'192.0.2.1','192.0.2.2'},{selector='all',"
		 "backupSelector='all',interval=2,minimumFailures=1})\"");
	compiles("A",
		 "{\"type\":\"failover\",\"targets\":[\"192.0.2.1\"],"
		 "\"check\":{\"url\":\"https://www.example.com:8443/health?x=1\",\"timeout\":3}}",
		 "A \"ifurlup('https://www.example.com:8443/health?x=1',{{'192.0.2.1'}},"
		 "{selector='all',backupSelector='all',timeout=3})\"");
	/* ordered with a named backup: each target's own state */
	compiles(
	    "A",
	    "{\"type\":\"failover\",\"order\":\"ordered\",\"targets\":[\"192.0.2.1\","
	    "\"192.0.2.2\"],\"check\":{\"tcp_port\":80},\"when_all_down\":\"backup\","
	    "\"backup\":\"198.51.100.9\"}",
	    "A \";local function up(t) return #ifportup(80,{t,'255.255.255.255'},{selector='all',"
	    "backupSelector='all'})==1 end local all={'192.0.2.1','192.0.2.2'} local r={} "
	    "for _,t in ipairs(all) do if up(t) then return {t} end end if #r>0 then "
	    "return r end return {'198.51.100.9'}\"");
}

static void test_failover_bad(void **state)
{
	(void)state;
	const char *t = "\"type\":\"failover\",\"targets\":[\"192.0.2.1\"],";
	char p[512];

	snprintf(p, sizeof(p), "{%s\"check\":{\"tcp_port\":70000}}", t);
	refused("A", p, "out of range");
	snprintf(p, sizeof(p), "{%s\"check\":{\"tcp_port\":0}}", t);
	refused("A", p, "out of range");
	snprintf(p, sizeof(p), "{%s\"check\":{\"tcp_port\":80,\"interval\":0}}", t);
	refused("A", p, "interval");
	snprintf(p, sizeof(p), "{%s\"check\":{\"url\":\"https://u:p@example.com/\"}}", t);
	refused("A", p, "userinfo");
	snprintf(p, sizeof(p), "{%s\"check\":{\"url\":\"ftp://example.com/\"}}", t);
	refused("A", p, "http:// or https://");
	snprintf(p, sizeof(p), "{%s\"check\":{\"url\":\"http://example.com/'..x\"}}", t);
	refused("A", p, "0x27");
	snprintf(p, sizeof(p), "{%s\"check\":{\"url\":\"http://example.com:0/\"}}", t);
	refused("A", p, "port");
	snprintf(p, sizeof(p), "{%s\"check\":{\"url\":\"http://exa mple.com/\"}}", t);
	refused("A", p, "host");
	snprintf(p, sizeof(p), "{%s\"check\":{\"url\":\"http://[2001:db8::1]/\"}}", t);
	refused("A", p, "IPv6 address as the URL's host");
	snprintf(p, sizeof(p), "{%s\"check\":{\"url\":\"http://example.com?x=1\"}}", t);
	refused("A", p, "a query needs a path");
	/* ... but a policy stored by an earlier release with such a URL is
	 * still compiled to serve it (a zone must never become unpushable) */
	for (int i = 0; i < 2; i++) {
		struct errmsg err = { "" };
		char *out = NULL;
		snprintf(p, sizeof(p), "{%s\"check\":{\"url\":\"%s\"}}", t,
			 i ? "http://example.com?x=1" : "http://[2001:db8::1]:8080/");
		json_t *j = load(p);
		assert_int_equal(steer_compile_flags(j, "A", ORIGIN, STEER_STORED, &out, &err), 0);
		json_decref(j);
		free(out);
	}
	snprintf(p, sizeof(p), "{%s\"check\":{\"url\":\"http://[2001:db8::1]x/\"}}", t);
	{
		struct errmsg err = { "" };
		char *out = NULL;
		json_t *j = load(p);
		assert_int_equal(steer_compile_flags(j, "A", ORIGIN, STEER_STORED, &out, &err),
				 ERR_INVALID);
		json_decref(j);
	}
	snprintf(p, sizeof(p), "{%s\"check\":{}}", t);
	refused("A", p, "either tcp_port or url");
	snprintf(p, sizeof(p), "{%s\"check\":{\"tcp_port\":80},\"when_all_down\":\"backup\"}", t);
	refused("A", p, "backup: required");
	snprintf(p, sizeof(p), "{%s\"check\":{\"tcp_port\":80},\"order\":\"random\"}", t);
	refused("A", p, "equal, ordered");
	snprintf(p, sizeof(p), "{%s\"check\":{\"tcp_port\":80}}", t);
	refused("CNAME", p, "A and AAAA");
}

static void test_geo(void **state)
{
	(void)state;
	/* countries before continents, whatever the order given */
	compiles("A",
		 "{\"type\":\"geo\",\"regions\":[{\"continent\":\"eu\",\"targets\":"
		 "[\"192.0.2.1\"]},{\"country\":\"de\",\"targets\":[\"192.0.2.2\"]}],"
		 "\"default\":[\"192.0.2.3\",\"192.0.2.4\"]}",
		 "A \";if country('DE') then return {'192.0.2.2'} end if continent('EU') then "
		 "return {'192.0.2.1'} end return {'192.0.2.3','192.0.2.4'}\"");
	/* geo, then health within the region */
	compiles("A",
		 "{\"type\":\"geo\",\"regions\":[{\"country\":\"US\",\"targets\":"
		 "[\"192.0.2.1\",\"192.0.2.2\"]}],\"default\":[\"192.0.2.3\"],"
		 "\"check\":{\"tcp_port\":53}}",
		 "A \";if country('US') then return ifportup(53,{'192.0.2.1','192.0.2.2'},"
		 "{selector='all',backupSelector='all'}) end return ifportup(53,{'192.0.2.3'},"
		 "{selector='all',backupSelector='all'})\"");
	/* country NA (Namibia) and continent NA (North America) are two regions */
	compiles("A",
		 "{\"type\":\"geo\",\"regions\":[{\"country\":\"NA\",\"targets\":"
		 "[\"192.0.2.1\"]},{\"continent\":\"NA\",\"targets\":[\"192.0.2.2\"]},"
		 "{\"country\":\"AF\",\"targets\":[\"192.0.2.3\"]},{\"continent\":\"AF\","
		 "\"targets\":[\"192.0.2.4\"]}],\"default\":[\"192.0.2.5\"]}",
		 "A \";if country('NA') then return {'192.0.2.1'} end if country('AF') then "
		 "return {'192.0.2.3'} end if continent('NA') then return {'192.0.2.2'} end "
		 "if continent('AF') then return {'192.0.2.4'} end return {'192.0.2.5'}\"");
	compiles("CNAME",
		 "{\"type\":\"geo\",\"regions\":[{\"country\":\"FR\",\"targets\":[\"fr\"]}],"
		 "\"default\":[\"www.example.org.\"]}",
		 "CNAME \";if country('FR') then return 'fr.example.com.' end return "
		 "'www.example.org.'\"");
}

static void test_geo_bad(void **state)
{
	(void)state;
	refused("A",
		"{\"type\":\"geo\",\"regions\":[{\"country\":\"XX\",\"targets\":[\"192.0.2.1\"]}],"
		"\"default\":[\"192.0.2.3\"]}",
		"'XX' is not an ISO 3166 country code");
	refused(
	    "A",
	    "{\"type\":\"geo\",\"regions\":[{\"continent\":\"ZZ\",\"targets\":[\"192.0.2.1\"]}],"
	    "\"default\":[\"192.0.2.3\"]}",
	    "continent code");
	refused("A",
		"{\"type\":\"geo\",\"regions\":[{\"country\":\"DE\",\"targets\":[\"192.0.2.1\"]},"
		"{\"country\":\"de\",\"targets\":[\"192.0.2.2\"]}],\"default\":[\"192.0.2.3\"]}",
		"listed twice");
	refused("A",
		"{\"type\":\"geo\",\"regions\":[{\"continent\":\"SA\",\"targets\":"
		"[\"192.0.2.1\"]},{\"continent\":\"sa\",\"targets\":[\"192.0.2.2\"]}],"
		"\"default\":[\"192.0.2.3\"]}",
		"listed twice");
	refused("A", "{\"type\":\"geo\",\"regions\":[]}", "default");
	refused("CNAME", "{\"type\":\"geo\",\"regions\":[],\"default\":[\"a\",\"b\"]}",
		"one target");
}

/* An absolute name of exactly 'len' (14 to 253) characters, labels of
 * 'a' in front of "example.net.", into 'out'. */
static void name_of_len(char *out, size_t len)
{
	size_t left = len - strlen("example.net."), o = 0;

	while (left > 0) {
		size_t k = left - 1 < 50 ? left - 1 : 50;
		if (left - (k + 1) == 1)
			k--;
		memset(out + o, 'a', k);
		out[o + k] = '.';
		o += k + 1;
		left -= k + 1;
	}
	memcpy(out + o, "example.net.", sizeof("example.net."));
}

/* Every content the compiler gives keeps to the limit the stored record
 * is checked against, type and quotes included: a geo CNAME policy of 64
 * countries whose last target grows a character at a time is compiled
 * within the limit or refused for its size, and both happen. */
static void test_size_limit(void **state)
{
	static const char codes[] = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBN"
				    "BOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZ"
				    "DEDJDKDMDODZECEE";
	size_t accepted = 0, too_big = 0;
	char name[256];

	(void)state;
	for (size_t last = 14; last <= 253; last++) {
		struct buf b;
		struct errmsg err = { "" };
		char *out = NULL;

		buf_init(&b, 1 << 20);
		buf_puts(&b, "{\"type\":\"geo\",\"regions\":[");
		for (unsigned g = 0; g < 64; g++) {
			name_of_len(name, g < 63 ? 221 : last);
			name[0] = (char)('a' + g % 26); /* no two regions alike */
			buf_printf(&b, "%s{\"country\":\"%.2s\",\"targets\":[\"%s\"]}",
				   g ? "," : "", codes + 2 * g, name);
		}
		buf_puts(&b, "],\"default\":[\"www.example.net.\"]}");
		json_t *j = load(b.data);
		buf_free(&b);
		int r = steer_compile(j, "CNAME", ORIGIN, &out, &err);
		json_decref(j);
		if (r == 0) {
			accepted++;
			if (strlen(out) > STEER_CONTENT_MAX)
				fail_msg("a last target of %zu: %zu bytes of content", last,
					 strlen(out));
			free(out);
		} else {
			too_big++;
			assert_int_equal(r, ERR_INVALID);
			if (strstr(err.text, "compiles to more than") == NULL)
				fail_msg("a last target of %zu: %s", last, err.text);
		}
	}
	assert_true(accepted > 0 && too_big > 0);
}

static void test_closest_and_types(void **state)
{
	(void)state;
	compiles("A", "{\"type\":\"closest\",\"targets\":[\"192.0.2.1\",\"198.51.100.1\"]}",
		 "A \"pickclosest({'192.0.2.1','198.51.100.1'})\"");
	refused("CNAME", "{\"type\":\"closest\",\"targets\":[\"a\"]}", "A and AAAA");
	refused("MX", "{\"type\":\"weighted\",\"targets\":[]}", "not MX");
	refused("A", "{\"type\":\"random\"}", "not one of");
	refused("A", "[]", "an object");
}

/* 'policy' makes the health record 'want' (NULL: none). */
static void health(const char *type, const char *policy, const char *want)
{
	struct errmsg err = { "" };
	json_t *j = load(policy);
	char *out = NULL;

	int r = steer_health_compile(j, type, ORIGIN, 0, &out, &err);
	json_decref(j);
	if (r != 0)
		fail_msg("refused (%d): %s\n  policy: %s", r, err.text, policy);
	if (want == NULL && out != NULL)
		fail_msg("a health record for an unchecked policy: %s", out);
	if (want != NULL && (out == NULL || strcmp(out, want) != 0))
		fail_msg("health record\n  %s\nwanted\n  %s", out ? out : "(none)", want);
	free(out);
}

static void test_health(void **state)
{
	struct errmsg err = { "" };
	char *out = NULL;

	(void)state;
	/* the same check as the served record, per target, loopback only */
	health("A",
	       "{\"type\":\"failover\",\"targets\":[\"192.0.2.1\",\"192.0.2.2\"],"
	       "\"check\":{\"tcp_port\":443,\"interval\":2}}",
	       "TXT \";local w=who:toString() if w~='127.0.0.1' and w~='::1' then return "
	       "'refused' end local function up(t) return #ifportup(443,{t,'255.255.255.255'},"
	       "{selector='all',backupSelector='all',interval=2})==1 end local s,r={},{} for "
	       "_,g in ipairs({{'192.0.2.1','192.0.2.2'}}) do for _,t in ipairs(g) do if not "
	       "s[t] then s[t]=1 r[#r+1]='A '..t..(up(t) and ' up' or ' down') end end end "
	       "return r\"");
	/* a geo's regions and default, through a URL check */
	health(
	    "AAAA",
	    "{\"type\":\"geo\",\"regions\":[{\"country\":\"DE\",\"targets\":"
	    "[\"2001:db8::1\"]}],\"default\":[\"2001:db8::2\"],"
	    "\"check\":{\"url\":\"http://h.example/\"}}",
	    "TXT \";local w=who:toString() if w~='127.0.0.1' and w~='::1' then return "
	    "'refused' end local function up(t) return #ifurlup('http://h.example/',"
	    "{{t,'255.255.255.255'}},{selector='all',backupSelector='all'})==1 end local s,r={},{} "
	    "for _,g in ipairs({{'2001:db8::1'},{'2001:db8::2'}}) do for _,t in ipairs(g) do "
	    "if not s[t] then s[t]=1 r[#r+1]='AAAA '..t..(up(t) and ' up' or ' down') end "
	    "end end return r\"");
	/* nothing checked, nothing to read */
	health("A",
	       "{\"type\":\"weighted\",\"targets\":[{\"target\":\"192.0.2.1\","
	       "\"weight\":1}]}",
	       NULL);
	health("A", "{\"type\":\"geo\",\"regions\":[],\"default\":[\"192.0.2.1\"]}", NULL);
	/* a bad policy is refused as steer_compile() refuses it */
	json_t *j = load("{\"type\":\"failover\",\"targets\":[\"x\"],"
			 "\"check\":{\"tcp_port\":1}}");
	assert_int_equal(steer_health_compile(j, "A", ORIGIN, 0, &out, &err), ERR_INVALID);
	assert_null(out);
	json_decref(j);
	/* what the agent takes in a push */
	assert_int_equal(steer_lua_check("TXT \"'x'\"", &err), 0);
	assert_int_equal(steer_lua_check("MX \"'x'\"", &err), ERR_INVALID);
}

static void test_lua_quote(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(steer_lua_quote(&b, "a.example."), 0);
	assert_string_equal(b.data, "'a.example.'");
	assert_int_equal(steer_lua_quote(&b, "it's"), -EINVAL);
	assert_int_equal(steer_lua_quote(&b, "a\"b"), -EINVAL);
	assert_int_equal(steer_lua_quote(&b, "a\\b"), -EINVAL);
	assert_int_equal(steer_lua_quote(&b, "a\nb"), -EINVAL);
	buf_free(&b);
}

static void test_codes(void **state)
{
	(void)state;
	assert_true(steer_country_known("DE"));
	assert_true(steer_country_known("ZW"));
	assert_true(steer_country_known("AD"));
	assert_false(steer_country_known("XX"));
	assert_false(steer_country_known("de"));
	assert_true(steer_continent_known("OC"));
	assert_false(steer_continent_known("EA"));
}

/* The panel's records of one RRset make one policy. */
static void from_records(const char *records, const char *want)
{
	struct errmsg err = { "" };
	json_t *j = load(records), *pol = NULL;

	int r = steer_policy_from_records("A", j, &pol, &err);
	json_decref(j);
	if (r != 0)
		fail_msg("refused: %s", err.text);
	if (want == NULL) {
		assert_null(pol);
		return;
	}
	char *text = json_dumps(pol, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(pol);
	if (strcmp(text, want) != 0)
		fail_msg("made\n  %s\nwanted\n  %s", text, want);
	free(text);
}

static void from_records_refused_as(const char *type, const char *records, const char *needle)
{
	struct errmsg err = { "" };
	json_t *j = load(records), *pol = NULL;

	int r = steer_policy_from_records(type, j, &pol, &err);
	json_decref(j);
	assert_null(pol);
	assert_int_equal(r, ERR_INVALID);
	if (strstr(err.text, needle) == NULL)
		fail_msg("message '%s' lacks '%s'", err.text, needle);
}

static void from_records_refused(const char *records, const char *needle)
{
	from_records_refused_as("A", records, needle);
}

static void test_panel_records(void **state)
{
	(void)state;
	from_records("[{\"content\":\"192.0.2.1\",\"routing_policy\":null}]", NULL);
	from_records("[{\"content\":\"192.0.2.1\",\"routing_policy\":{\"type\":\"weighted\","
		     "\"weight\":20}},{\"content\":\"192.0.2.2\",\"routing_policy\":"
		     "{\"type\":\"weighted\",\"weight\":80}}]",
		     "{\"targets\":[{\"target\":\"192.0.2.1\",\"weight\":20},{\"target\":"
		     "\"192.0.2.2\",\"weight\":80}],\"type\":\"weighted\"}");
	from_records("[{\"content\":\"192.0.2.1\",\"routing_policy\":{\"type\":\"geo\","
		     "\"region\":\"DE\"}},{\"content\":\"192.0.2.2\",\"routing_policy\":"
		     "{\"type\":\"geo\",\"region\":\"US\"}}]",
		     "{\"default\":[\"192.0.2.1\",\"192.0.2.2\"],\"regions\":[{\"country\":\"DE\","
		     "\"targets\":[\"192.0.2.1\"]},{\"country\":\"US\",\"targets\":"
		     "[\"192.0.2.2\"]}],\"type\":\"geo\"}");
	/* a region in any case is one country, read back in upper case */
	from_records("[{\"content\":\"192.0.2.1\",\"routing_policy\":{\"type\":\"geo\","
		     "\"region\":\"de\"}},{\"content\":\"192.0.2.2\",\"routing_policy\":"
		     "{\"type\":\"geo\",\"region\":\"De\"}}]",
		     "{\"default\":[\"192.0.2.1\",\"192.0.2.2\"],\"regions\":[{\"country\":\"DE\","
		     "\"targets\":[\"192.0.2.1\",\"192.0.2.2\"]}],\"type\":\"geo\"}");
	from_records("[{\"content\":\"192.0.2.1\",\"routing_policy\":{\"type\":\"failover\","
		     "\"health_check_url\":\"http://192.0.2.1/\"}}]",
		     "{\"check\":{\"url\":\"http://192.0.2.1/\"},\"targets\":[\"192.0.2.1\"],"
		     "\"type\":\"failover\",\"when_all_down\":\"all\"}");
}

static void test_panel_records_bad(void **state)
{
	(void)state;
	from_records_refused("[{\"content\":\"192.0.2.1\",\"routing_policy\":{\"type\":"
			     "\"weighted\",\"weight\":20}},{\"content\":\"192.0.2.2\","
			     "\"routing_policy\":null}]",
			     "beside records without one");
	from_records_refused("[{\"content\":\"192.0.2.1\",\"routing_policy\":{\"type\":"
			     "\"weighted\",\"weight\":20}},{\"content\":\"192.0.2.2\","
			     "\"routing_policy\":{\"type\":\"geo\",\"region\":\"DE\"}}]",
			     "share one policy type");
	from_records_refused("[{\"content\":\"192.0.2.1\",\"routing_policy\":{\"type\":"
			     "\"weighted\",\"weight\":101}}]",
			     "out of range");
	from_records_refused("[{\"content\":\"192.0.2.1\",\"routing_policy\":{\"type\":"
			     "\"geo\",\"region\":\"QQ\"}}]",
			     "ISO 3166");
	from_records_refused("[{\"content\":\"192.0.2.1\",\"routing_policy\":{\"type\":"
			     "\"failover\",\"health_check_url\":\"http://a.example/\"}},"
			     "{\"content\":\"192.0.2.2\",\"routing_policy\":{\"type\":"
			     "\"failover\",\"health_check_url\":\"http://b.example/\"}}]",
			     "share one health check URL");
	from_records_refused("[{\"content\":\"192.0.2.1\",\"routing_policy\":\"weighted\"}]",
			     "an object or null");
	/* A CNAME answers one name: nothing to give clients of other countries. */
	from_records_refused_as("CNAME",
				"[{\"content\":\"a.example.net.\",\"routing_policy\":{\"type\":"
				"\"geo\",\"region\":\"DE\"}},{\"content\":\"b.example.net.\","
				"\"routing_policy\":{\"type\":\"geo\",\"region\":\"US\"}}]",
				"geo policies on the records of a CNAME RRset");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weighted),
		cmocka_unit_test(test_weighted_bad),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_failover_bad),
		cmocka_unit_test(test_geo),
		cmocka_unit_test(test_geo_bad),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_closest_and_types),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_lua_quote),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_panel_records),
		cmocka_unit_test(test_panel_records_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
