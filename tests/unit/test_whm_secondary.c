/* Unit tests for src/whm/secondary.c with a store and the refresh thread
 * but no primary: NOTIFY answered by zone and sender (RFC 1996), the
 * refusal of user changes, and the state a failed refresh leaves. The
 * transfers themselves are tested against real BIND
 * (tests/integration/test_secondary_zones.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "secondary.h"
#include "zones.h"

struct fx {
	char dir[64];
	struct whm w;
	int64_t zone;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[128];
	struct errmsg err;
	struct zone_result res = { 0 };
	/* Port 1 on loopback: nobody listens, a refresh fails at once. */
	struct zone_init init = { .primaries = "127.0.0.1:1,[::1]:1" };

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_whm_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/whm.conf", f->dir);
	FILE *c = fopen(path, "w");
	assert_non_null(c);
	fprintf(c, "store-path = %s/whm.sqlite3\ndefault-ns = ns1.example.net.\n", f->dir);
	fclose(c);
	chmod(path, 0600);
	assert_int_equal(whm_conf_load(path, &f->w.conf, &err), 0);
	assert_int_equal(whm_init(&f->w, WHM_TOOL, &err), 0);
	assert_int_equal(
	    zones_create_with(&f->w, "Secondary.example", 0, 0, &init, "test", &res, &err), 0);
	f->zone = res.zone_id;
	assert_int_equal(secondary_start(&f->w), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[128];
	secondary_stop(&f->w);
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

/* The zone's "secondary" state once its last error is set (the first
 * refresh failed), within 5 s. */
static json_t *failed_state(struct fx *f)
{
	for (int i = 0; i < 500; i++) {
		json_t *o = secondary_zone_json(&f->w, f->zone);
		assert_non_null(o);
		if (json_is_string(json_object_get(o, "last_error")))
			return o;
		json_decref(o);
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	fail_msg("the first refresh did not fail in 5 s");
	return NULL;
}

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage a = { 0 };
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a;
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(5353);
		assert_int_equal(inet_pton(AF_INET6, text, &v6->sin6_addr), 1);
	} else {
		struct sockaddr_in *v4 = (struct sockaddr_in *)&a;
		v4->sin_family = AF_INET;
		v4->sin_port = htons(5353);
		assert_int_equal(inet_pton(AF_INET, text, &v4->sin_addr), 1);
	}
	return a;
}

static void test_notify_by_zone_and_sender(void **state)
{
	struct fx *f = *state;
	knot_dname_storage_t zone, other;
	struct buf out;

	json_decref(failed_state(f)); /* the zone is in the refresh thread's list */
	assert_non_null(knot_dname_from_str(zone, "SECONDARY.example.", sizeof(zone)));
	assert_non_null(knot_dname_from_str(other, "other.example.", sizeof(other)));
	struct sockaddr_storage p4 = addr("127.0.0.1"), p6 = addr("::1"),
				stranger = addr("127.0.0.2");
	knot_dname_storage_t key;
	assert_non_null(knot_dname_from_str(key, "some-key.example.", sizeof(key)));
	assert_int_equal(secondary_notify(&f->w, zone, &p4, NULL), KNOT_RCODE_NOERROR);
	assert_int_equal(secondary_notify(&f->w, zone, &p6, NULL), KNOT_RCODE_NOERROR);
	assert_int_equal(secondary_notify(&f->w, zone, &stranger, NULL), KNOT_RCODE_REFUSED);
	/* A key is no way in for a zone without one; no address, no key. */
	assert_int_equal(secondary_notify(&f->w, zone, &stranger, key), KNOT_RCODE_REFUSED);
	assert_int_equal(secondary_notify(&f->w, zone, NULL, NULL), KNOT_RCODE_REFUSED);
	assert_int_equal(secondary_notify(&f->w, other, &p4, NULL), KNOT_RCODE_NOTAUTH);
	buf_init(&out, 1 << 16);
	assert_int_equal(secondary_metrics(&f->w, &out), 0);
	assert_non_null(strstr(out.data, "yumna_whm_secondary_notifies_total 2\n"));
	assert_non_null(strstr(out.data, "yumna_whm_secondary_zones{state=\"pending\"} 1\n"));
	buf_free(&out);
}

static void test_a_failed_refresh_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct errmsg err;
	struct zone_result res;
	struct store *st;
	struct store_zone z;

	json_t *o = failed_state(f);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "pending");
	assert_true(json_is_null(json_object_get(o, "serial")));
	assert_non_null(strstr(json_string_value(json_object_get(o, "last_error")), "connect"));
	json_decref(o);
	assert_int_equal(zones_get_live(&f->w, f->zone, &st, &z, &err), 0);
	assert_int_equal(z.version, 1);
	store_zone_clear(&z);
	json_t *rec =
	    json_pack("{s:s,s:s,s:s}", "name", "www", "type", "A", "content", "192.0.2.1");
	assert_int_equal(zones_record_add(&f->w, f->zone, rec, "test", &res, &err), ERR_CONFLICT);
	assert_non_null(strstr(err.text, "comes from its primary"));
	json_decref(rec);
	assert_int_equal(zones_increase_serial(&f->w, f->zone, "test", &res, &err), ERR_CONFLICT);
	assert_int_equal(secondary_retrieve(&f->w, f->zone, &err), 0);
	assert_int_equal(secondary_retrieve(&f->w, f->zone + 1000, &err), ERR_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notify_by_zone_and_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_failed_refresh_changes_nothing, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
