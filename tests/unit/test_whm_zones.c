/* Unit tests for src/whm/zones.c: the version, serial and commit rules of
 * zone changes, the history they keep (history.c), on a controller whose store is a fresh SQLite file. No
 * thread is started (whm_init in WHM_TOOL mode): the tests see commits
 * through an observer of their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "history.h"
#include "zones.h"
#include "zones_soa.h"

struct seen {
	unsigned commits;
	uint64_t old_version, now_version; /* 0: NULL */
};

struct fx {
	char dir[64];
	struct whm w;
	struct seen seen;
	int64_t zone; /* example.com., created by setup */
	uint64_t version;
	uint32_t serial;
};

static void observe(struct whm *w, struct store *st, const struct store_zone *old,
		    const struct store_zone *now, void *ctx)
{
	struct seen *s = ctx;
	s->commits++;
	s->old_version = old ? old->version : 0;
	s->now_version = now ? now->version : 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[128];
	struct errmsg err;
	struct zone_result res = { 0 };

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_whm_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/whm.conf", f->dir);
	FILE *c = fopen(path, "w");
	assert_non_null(c);
	fprintf(c,
		"store-path = %s/whm.sqlite3\n"
		"default-ns = ns1.example.net., ns2.example.net.\n"
		"max-rrset-records = 3\n",
		f->dir);
	fclose(c);
	chmod(path, 0600);
	assert_int_equal(whm_conf_load(path, &f->w.conf, &err), 0);
	assert_int_equal(whm_init(&f->w, WHM_TOOL, &err), 0);
	assert_int_equal(zones_on_commit(&f->w, observe, &f->seen), 0);
	assert_int_equal(zones_create(&f->w, "Example.COM", 0, 0, "test", &res, &err), 0);
	f->zone = res.zone_id;
	f->version = res.version;
	f->serial = res.serial;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[128];
	whm_deinit(&f->w);
	const char *names[] = { "whm.conf", "whm.sqlite3", "whm.sqlite3-wal", "whm.sqlite3-shm" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static json_t *record(const char *name, const char *type, const char *content)
{
	return json_pack("{s:s,s:s,s:s,s:i}", "name", name, "type", type, "content", content, "ttl",
			 300);
}

static void stored(struct fx *f, struct store_zone *z)
{
	assert_int_equal(store_zone_get(whm_store(&f->w), f->zone, z), 0);
}

/* A new zone starts at version 1 with its name normalised, and is one
 * commit the observers hear of. */
static void test_create(void **state)
{
	struct fx *f = *state;
	struct store_zone z;
	stored(f, &z);
	assert_string_equal(z.domain, "example.com.");
	assert_int_equal(z.version, 1);
	assert_int_equal(f->version, 1);
	assert_int_equal(z.serial, f->serial);
	store_zone_clear(&z);
	/* setup registered the observer before it created the zone. */
	assert_int_equal(f->seen.commits, 1);
	assert_int_equal(f->seen.old_version, 0);
	assert_int_equal(f->seen.now_version, 1);
}

/* A live zone of the same name is refused, and nothing is committed. */
static void test_create_twice(void **state)
{
	struct fx *f = *state;
	struct zone_result res = { 0 };
	struct errmsg err;
	assert_int_equal(zones_create(&f->w, "example.com.", 0, 0, "test", &res, &err),
			 ERR_CONFLICT);
	assert_non_null(strstr(err.text, "already exists"));
	assert_int_equal(f->seen.commits, 1);
}

/* Each record change bumps the version by one and raises the serial. */
static void test_change_bumps(void **state)
{
	struct fx *f = *state;
	struct zone_result res = { 0 };
	struct errmsg err;
	json_t *rec = record("www", "A", "192.0.2.1");
	assert_int_equal(zones_record_add(&f->w, f->zone, rec, "test", &res, &err), 0);
	json_decref(rec);
	assert_int_equal(res.version, f->version + 1);
	assert_true(res.serial > f->serial);
	assert_int_equal(f->seen.commits, 2);
	assert_int_equal(f->seen.old_version, f->version);
	assert_int_equal(f->seen.now_version, res.version);

	uint32_t serial = res.serial;
	rec = record("mail", "A", "192.0.2.2");
	assert_int_equal(zones_record_add(&f->w, f->zone, rec, "test", &res, &err), 0);
	json_decref(rec);
	assert_int_equal(res.version, f->version + 2);
	assert_true(res.serial > serial);
}

/* A change the rules refuse leaves the zone as it was: same version,
 * same serial, no commit. */
static void test_refused_change(void **state)
{
	struct fx *f = *state;
	struct zone_result res = { 0 };
	struct errmsg err;
	struct store_zone z;

	json_t *bad = record("www", "A", "not an address");
	assert_true(zones_record_add(&f->w, f->zone, bad, "test", &res, &err) < 0);
	json_decref(bad);
	json_t *soa = record("@", "SOA", "a. b. 1 2 3 4 5");
	assert_int_equal(zones_record_add(&f->w, f->zone, soa, "test", &res, &err), ERR_INVALID);
	json_decref(soa);
	/* max-rrset-records = 3: a fourth A record at one name is refused. */
	json_t *list = json_array();
	for (int i = 1; i <= 4; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "192.0.2.%d", i);
		json_array_append_new(list, record("www", "A", ip));
	}
	assert_true(zones_records_replace(&f->w, f->zone, list, 0, "test", &res, &err) < 0);
	json_decref(list);
	stored(f, &z);
	assert_int_equal(z.version, f->version);
	assert_int_equal(z.serial, f->serial);
	store_zone_clear(&z);
	assert_int_equal(f->seen.commits, 1);
}

static int nothing(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	return 1;
}

static int touch(struct store *st, struct store_zone *z, void *ctx, struct errmsg *err)
{
	z->dnssec = !z->dnssec;
	return 0;
}

/* zones_change: a step with nothing to change commits nothing and
 * reports version 0; one that changes the zone bumps it once. */
static void test_zones_change(void **state)
{
	struct fx *f = *state;
	struct zone_result res = { 0 };
	struct errmsg err;
	assert_int_equal(zones_change(&f->w, f->zone, nothing, NULL, "test", "t", NULL, &res, &err),
			 1);
	assert_int_equal(res.version, 0);
	assert_int_equal(res.serial, f->serial);
	assert_int_equal(f->seen.commits, 1);
	assert_int_equal(
	    zones_change(&f->w, f->zone, touch, NULL, "test", "t", "touch", &res, &err), 0);
	assert_int_equal(res.version, f->version + 1);
	assert_true(res.serial > f->serial);
	assert_int_equal(f->seen.commits, 2);
}

/* An import with a minimum serial (a zone file's SOA) lands above it. */
static void test_import_min_serial(void **state)
{
	struct fx *f = *state;
	struct zone_result res = { 0 };
	struct errmsg err;
	uint32_t min = f->serial + 1000;
	json_t *list = json_array();
	json_array_append_new(list, record("www", "A", "192.0.2.9"));
	assert_int_equal(
	    zones_records_import(&f->w, f->zone, list, true, &min, NULL, 0, "test", &res, &err), 0);
	json_decref(list);
	assert_true(res.serial > min);
	assert_int_equal(res.version, f->version + 1);
}

/* An import made for one version of the zone is refused, changing
 * nothing, once the zone has moved past it; onto that version it commits. */
static void test_import_if_version(void **state)
{
	struct fx *f = *state;
	struct zone_result res = { 0 };
	struct errmsg err;
	json_t *list = json_array();
	json_array_append_new(list, record("www", "A", "192.0.2.9"));
	unsigned commits = f->seen.commits;
	assert_int_equal(zones_records_import(&f->w, f->zone, list, true, NULL, NULL,
					      f->version + 7, "t", &res, &err),
			 ERR_CONFLICT);
	assert_non_null(strstr(err.text, "changed since"));
	assert_int_equal(f->seen.commits, commits);
	assert_int_equal(zones_records_import(&f->w, f->zone, list, true, NULL, NULL, f->version,
					      "t", &res, &err),
			 0);
	assert_int_equal(res.version, f->version + 1);
	json_decref(list);
}

/* Importing what the zone holds again commits nothing: no version, no
 * serial, no commit; a file whose serial is ahead still moves it. */
static void test_import_identical_is_no_change(void **state)
{
	struct fx *f = *state;
	struct zone_result res = { 0 }, again = { 0 };
	struct errmsg err;
	json_t *list = json_array();
	json_array_append_new(list, record("www", "A", "192.0.2.9"));
	assert_int_equal(
	    zones_records_import(&f->w, f->zone, list, true, NULL, NULL, 0, "t", &res, &err), 0);
	unsigned commits = f->seen.commits;
	uint32_t behind = res.serial - 5;
	assert_int_equal(
	    zones_records_import(&f->w, f->zone, list, true, &behind, NULL, 0, "t", &again, &err),
	    1);
	assert_int_equal(again.version, res.version);
	assert_int_equal(again.serial, res.serial);
	assert_int_equal(f->seen.commits, commits);
	/* The same records with other SOA fields are a change. */
	assert_int_equal(zones_records_import(&f->w, f->zone, list, true, NULL,
					      "ns9.example.net. - - - - -", 0, "t", &again, &err),
			 0);
	assert_int_equal(again.version, res.version + 1);
	uint32_t ahead = again.serial + 1000;
	assert_int_equal(zones_records_import(&f->w, f->zone, list, true, &ahead,
					      "ns9.example.net. - - - - -", 0, "t", &res, &err),
			 0);
	assert_true(res.serial > ahead);
	json_decref(list);
}

/* A zone's own SOA fields: kept as text, checked field by field and as a
 * whole, in the pushed SOA, and one version per change. */
static void test_soa_fields(void **state)
{
	struct fx *f = *state;
	struct zone_result res = { 0 };
	struct errmsg err;
	struct zone_soa s;
	char text[STORE_ZONE_SOA_MAX];

	zone_soa_init(&s);
	zone_soa_write(&s, text);
	assert_string_equal(text, "");
	json_t *o = json_pack("{s:s,s:s,s:i,s:i}", "mname", "NS1.Example.ORG", "rname",
			      "dns@example.org", "refresh", 7200, "minimum", 0);
	assert_int_equal(zone_soa_apply_json(&f->w, o, &s, &err), 0);
	zone_soa_write(&s, text);
	assert_string_equal(text, "ns1.example.org. dns.example.org. 7200 - - 0");
	struct zone_soa back;
	zone_soa_read(text, &back);
	assert_memory_equal(&back, &s, sizeof(s));
	json_decref(o);
	static const char *const bad[] = {
		"{\"refresh\": 59}",	"{\"retry\": 2419201}",
		"{\"minimum\": 86401}", "{\"expire\": \"1w\"}",
		"{\"mname\": \"a b\"}", "{\"rname\": \"a.b@c.d\"}",
		"{\"serial\": 1}",	"{\"retry\": 10800, \"refresh\": 3600}",
		"{\"expire\": 3600}",	"[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zone_soa t = s;
		json_t *b = json_loads(bad[i], 0, NULL);
		assert_int_equal(zone_soa_apply_json(&f->w, b, &t, &err), ERR_INVALID);
		json_decref(b);
	}
	o = json_pack("{s:s,s:n,s:i}", "mname", "ns1.example.org.", "rname", "refresh", 7200);
	json_t *now = NULL;
	assert_int_equal(zones_set_soa(&f->w, f->zone, o, "t", &res, &now, &err), 0);
	assert_int_equal(res.version, f->version + 1);
	assert_string_equal(json_string_value(json_object_get(now, "mname")), "ns1.example.org.");
	assert_int_equal(json_integer_value(json_object_get(now, "refresh")), 7200);
	assert_int_equal(json_array_size(json_object_get(now, "own")), 2);
	json_decref(now);
	assert_int_equal(zones_set_soa(&f->w, f->zone, o, "t", &res, NULL, &err), 0);
	assert_int_equal(res.version, 0); /* the same again: nothing to change */
	json_decref(o);
	json_t *payload;
	uint64_t version;
	bool deleted;
	char domain[DNAME_TEXT_MAX];
	assert_int_equal(zones_payload(&f->w, whm_store(&f->w), f->zone, &payload, &version,
				       &deleted, domain, sizeof(domain)),
			 0);
	size_t i;
	json_t *r;
	const char *soa = NULL;
	json_array_foreach(json_object_get(payload, "records"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "type")), "SOA") == 0)
			soa = json_string_value(json_object_get(r, "content"));
	/* Its fields over the cluster's; the serial is the controller's. */
	assert_non_null(soa);
	const char *head = "ns1.example.org. hostmaster.example.net. ";
	assert_int_equal(strncmp(soa, head, strlen(head)), 0);
	assert_string_equal(strchr(soa + strlen(head), ' '), " 7200 3600 604800 3600");
	json_decref(payload);
}

/* A delete leaves a tombstone: no longer live, and a zone created again
 * under the name continues its version and serial. */
static void test_delete_and_recreate(void **state)
{
	struct fx *f = *state;
	struct zone_result res = { 0 }, again = { 0 };
	struct store *st;
	struct store_zone z;
	struct errmsg err;
	assert_int_equal(zones_delete(&f->w, f->zone, "test", &res, &err), 0);
	assert_int_equal(res.version, f->version + 1);
	assert_int_equal(zones_get_live(&f->w, f->zone, &st, &z, &err), ERR_NOT_FOUND);
	assert_int_equal(zones_create(&f->w, "example.com.", 0, 0, "test", &again, &err), 0);
	assert_true(again.version > res.version);
	assert_true(again.serial > res.serial);
}

/* A node holding a version at or above the store's makes the zone jump
 * above it; one below it changes nothing but still wakes the observers. */
static void test_raise_version(void **state)
{
	struct fx *f = *state;
	struct store_zone z;
	struct store *st = whm_store(&f->w);
	assert_int_equal(zones_raise_version(&f->w, st, f->zone, 41), 0);
	stored(f, &z);
	assert_int_equal(z.version, 42);
	assert_true(z.serial > f->serial);
	store_zone_clear(&z);
	assert_int_equal(f->seen.commits, 2);
	assert_int_equal(f->seen.now_version, 42);

	assert_int_equal(zones_raise_version(&f->w, st, f->zone, 7), 0);
	stored(f, &z);
	assert_int_equal(z.version, 42);
	store_zone_clear(&z);
	assert_int_equal(f->seen.commits, 3);
	assert_int_equal(f->seen.now_version, 0);
}

static int count_version(const struct store_version *v, void *ctx)
{
	(*(unsigned *)ctx)++;
	return 0;
}

static unsigned versions_kept(struct fx *f)
{
	unsigned n = 0;
	assert_int_equal(
	    store_version_foreach(whm_store(&f->w), f->zone, 0, 1000, count_version, &n), 0);
	return n;
}

/* Every change is a version of the history with its actor and action; a
 * rollback is one more version with the old content, and one to the
 * content the zone has changes nothing. */
static void test_history_and_rollback(void **state)
{
	struct fx *f = *state;
	struct zone_result one = { 0 }, two = { 0 }, back = { 0 }, same = { 0 };
	struct store_version v;
	struct errmsg err;
	bool changed = false;
	json_t *rec = record("www", "A", "192.0.2.1");
	assert_int_equal(zones_record_add(&f->w, f->zone, rec, "alice", &one, &err), 0);
	json_decref(rec);
	rec = record("www", "A", "192.0.2.2");
	assert_int_equal(zones_record_update(&f->w, one.record_id, rec, "bob", &two, &err), 0);
	json_decref(rec);
	assert_int_equal(versions_kept(f), 3);
	assert_int_equal(store_version_get(whm_store(&f->w), f->zone, two.version, &v), 0);
	assert_string_equal(v.actor, "bob");
	assert_string_equal(v.action, "record.update");
	assert_string_equal(v.summary, "update www A 192.0.2.1 -> www A 192.0.2.2");
	assert_int_equal(v.record_count, 3);
	store_version_clear(&v);

	assert_int_equal(
	    history_rollback(&f->w, f->zone, one.version, "carol", &back, &changed, &err), 0);
	assert_true(changed);
	assert_int_equal(back.version, two.version + 1);
	assert_int_equal(store_version_get(whm_store(&f->w), f->zone, back.version, &v), 0);
	assert_string_equal(v.action, "zone.rollback");
	store_version_clear(&v);
	assert_int_equal(
	    history_rollback(&f->w, f->zone, one.version, "carol", &same, &changed, &err), 0);
	assert_false(changed);
	assert_int_equal(same.version, back.version);
	assert_int_equal(history_rollback(&f->w, f->zone, 99, "carol", &same, &changed, &err),
			 ERR_NOT_FOUND);
}

/* Retention keeps the newest N and never the current version away. */
static void test_prune_keeps_the_newest(void **state)
{
	struct fx *f = *state;
	struct zone_result res = { 0 };
	struct errmsg err;
	uint64_t versions = 0, audit = 0;
	char name[16];
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		json_t *rec = record(name, "A", "192.0.2.1");
		assert_int_equal(zones_record_add(&f->w, f->zone, rec, "test", &res, &err), 0);
		json_decref(rec);
	}
	assert_int_equal(versions_kept(f), 6);
	f->w.conf.history_keep_versions = 2;
	f->w.conf.history_keep_days = 0;
	sleep(1); /* "older than 0 days": made before this second */
	assert_int_equal(history_prune_pass(&f->w, whm_store(&f->w), &versions, &audit), 0);
	assert_int_equal(versions, 4);
	assert_int_equal(audit, 0); /* audit-keep-days 0: kept */
	assert_int_equal(versions_kept(f), 2);
	struct store_version v;
	assert_int_equal(store_version_get(whm_store(&f->w), f->zone, res.version, &v), 0);
	store_version_clear(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_bumps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zones_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_min_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_if_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_identical_is_no_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_soa_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_recreate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raise_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_and_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_keeps_the_newest, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
