/* Unit tests for the agent's backend (src/agent/backend*.c) on a fresh
 * gsqlite3 file: zone states read ahead for a batch must answer exactly
 * what a read of each zone would, and never once the zone was written or
 * the transaction ended. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#include "../../src/agent/backend.h"
#include "model/ztree.h"

struct fx {
	char dir[64], path[128];
	struct backend *b;
};

static int open_backend(struct fx *f, struct backend **ret)
{
	struct backend_conf conf = { .kind = "gsqlite3", .path = f->path };
	int r = backend_open(&conf, ret);
	return r < 0 ? r : backend_schema_ensure(*ret, YUMNA_PDNS_SQLITE_SCHEMA);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_backend_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/pdns.sqlite3", f->dir);
	assert_int_equal(open_backend(f, &f->b), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[160];
	backend_close(f->b);
	static const char *const files[] = { "", "-wal", "-shm" };
	for (unsigned i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, files[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Write 'zone' (an SOA and an A record) at 'version', in a transaction of
 * its own unless one is open ('own'). */
static void put(struct backend *b, const char *zone, uint64_t version, bool own)
{
	char soa[128];
	snprintf(soa, sizeof(soa),
		 "ns1.example.net. hostmaster.example.net. %llu 3600 600 86400 300",
		 (unsigned long long)version);
	struct backend_rr rrs[] = { { zone, 6, 3600, soa, true },
				    { zone, 1, 300, "192.0.2.1", true } };
	struct backend_zone z = { zone, rrs, 2, version, (uint32_t)version, NULL, NULL, NULL };
	char digest[ZONE_DIGEST_HEX];
	assert_int_equal(backend_zone_digest(&z, digest), 0);
	z.digest = digest;
	if (own)
		assert_int_equal(backend_begin(b), 0);
	assert_int_equal(backend_zone_replace(b, &z, "NATIVE", NULL), 0);
	if (own)
		assert_int_equal(backend_commit(b), 0);
}

static void prefetch(struct backend *b, const char *z1, const char *z2)
{
	const char *names[] = { z1, z2 };
	assert_int_equal(backend_zone_state_prefetch(b, names, z2 ? 2 : 1), 0);
}

static struct zone_state state(struct backend *b, const char *zone)
{
	struct zone_state st;
	assert_int_equal(backend_zone_state(b, zone, &st), 0);
	return st;
}

static void assert_same_state(const struct zone_state *x, const struct zone_state *y)
{
	assert_int_equal(x->exists, y->exists);
	assert_int_equal(x->known, y->known);
	assert_int_equal(x->deleted, y->deleted);
	assert_int_equal(x->dirty, y->dirty);
	assert_int_equal(x->version, y->version);
	assert_int_equal(x->serial, y->serial);
	assert_string_equal(x->digest, y->digest);
}

/* What is read ahead is what a read of each zone finds: unknown, live,
 * clean, tombstoned, held by PowerDNS without a state. */
static void test_prefetch_same_as_read(void **state_)
{
	struct fx *f = *state_;
	static const char *const zones[] = { "none.test.", "live.test.", "clean.test.",
					     "gone.test.", "bare.test." };
	put(f->b, "live.test.", 3, true);
	put(f->b, "clean.test.", 4, true);
	assert_int_equal(backend_zone_mark_clean(f->b, "clean.test."), 0);
	put(f->b, "gone.test.", 5, true);
	assert_int_equal(backend_begin(f->b), 0);
	assert_int_equal(backend_zone_delete(f->b, "gone.test.", 6), 0);
	assert_int_equal(backend_commit(f->b), 0);
	put(f->b, "bare.test.", 2, true);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM yumna_zone_state WHERE zone = 'bare.test.'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	for (unsigned i = 0; i < 5; i++) {
		struct zone_state read = state(f->b, zones[i]);
		assert_int_equal(backend_begin(f->b), 0);
		prefetch(f->b, zones[i], "other.test.");
		struct zone_state ahead = state(f->b, zones[i]);
		assert_same_state(&ahead, &read);
		backend_rollback(f->b);
	}
	struct zone_state st = state(f->b, "gone.test.");
	assert_true(st.deleted && !st.exists && st.version == 6);
	st = state(f->b, "clean.test.");
	assert_true(st.exists && !st.dirty && st.version == 4);
}

/* A batch that names a zone twice: its second read follows the write of
 * the first, whatever was read ahead for it. */
static void test_prefetch_not_stale_after_write(void **state_)
{
	struct fx *f = *state_;
	assert_int_equal(backend_begin(f->b), 0);
	prefetch(f->b, "twice.test.", "twice.test.");
	struct zone_state st = state(f->b, "twice.test.");
	assert_false(st.known || st.exists);
	put(f->b, "twice.test.", 1, false);
	st = state(f->b, "twice.test.");
	assert_true(st.known && st.exists && st.version == 1);

	prefetch(f->b, "twice.test.", "twice.test.");
	st = state(f->b, "twice.test.");
	assert_true(st.version == 1);
	assert_int_equal(backend_zone_set_version(f->b, "twice.test.", 2, 2), 0);
	st = state(f->b, "twice.test.");
	assert_true(st.version == 2 && st.serial == 2);

	prefetch(f->b, "twice.test.", "twice.test.");
	assert_int_equal(backend_zone_set_digest(f->b, "twice.test.", ""), 0);
	st = state(f->b, "twice.test.");
	assert_string_equal(st.digest, "");
	prefetch(f->b, "twice.test.", "twice.test.");
	st = state(f->b, "twice.test.");
	assert_int_equal(backend_zone_delete(f->b, "twice.test.", 3), 0);
	st = state(f->b, "twice.test.");
	assert_true(st.deleted && !st.exists && st.version == 3);
	assert_int_equal(backend_commit(f->b), 0);

	/* Written again after its state was read ahead and answered: its
	 * rows are those of the new version only. */
	put(f->b, "again.test.", 1, true);
	assert_int_equal(backend_begin(f->b), 0);
	prefetch(f->b, "again.test.", NULL);
	st = state(f->b, "again.test.");
	assert_true(st.exists && st.version == 1);
	put(f->b, "again.test.", 2, false);
	assert_int_equal(backend_commit(f->b), 0);
	uint64_t zones, records;
	assert_int_equal(backend_counts(f->b, &zones, &records), 0);
	assert_int_equal(zones, 1);
	assert_int_equal(records, 2);
}

/* The window ends with its transaction: what another connection changed
 * since is read, not what was read ahead. Outside a transaction nothing
 * is read ahead. */
static void test_prefetch_dropped_at_commit(void **state_)
{
	struct fx *f = *state_;
	struct backend *other;
	put(f->b, "kept.test.", 1, true);
	assert_int_equal(open_backend(f, &other), 0);

	assert_int_equal(backend_begin(f->b), 0);
	prefetch(f->b, "kept.test.", NULL);
	assert_int_equal(backend_commit(f->b), 0);
	put(other, "kept.test.", 2, true);
	assert_int_equal(state(f->b, "kept.test.").version, 2);

	assert_int_equal(backend_begin(f->b), 0);
	prefetch(f->b, "kept.test.", NULL);
	backend_rollback(f->b);
	put(other, "kept.test.", 3, true);
	assert_int_equal(state(f->b, "kept.test.").version, 3);

	prefetch(f->b, "kept.test.", NULL);
	put(other, "kept.test.", 4, true);
	assert_int_equal(state(f->b, "kept.test.").version, 4);
	backend_close(other);
}

/* A whole check of the attached tree: how many buckets it set. */
static int tree_check(struct backend *b, void (*between)(void *), void *ctx)
{
	struct backend_tree_check *c;
	assert_int_equal(backend_tree_check_start(b, &c), 0);
	if (between != NULL)
		between(ctx);
	int r;
	while ((r = backend_tree_check_step(b, c)) > 0)
		;
	assert_int_equal(r, 0);
	return backend_tree_check_finish(b, c);
}

static void write_a_again(void *ctx)
{
	put(ctx, "a.test.", 8, true);
}

static void assert_same_tree(struct ztree *x, struct ztree *y)
{
	struct ztree_node nx, ny;
	assert_int_equal(ztree_get(x, "", &nx, NULL), 0);
	assert_int_equal(ztree_get(y, "", &ny, NULL), 0);
	assert_memory_equal(&nx, &ny, sizeof(nx));
}

/* The tree follows the database when it was changed behind the handle (a
 * copy restored), except in the buckets the handle wrote meanwhile: those
 * at the next check. */
static void test_tree_check(void **state_)
{
	struct fx *f = *state_;
	struct ztree *t, *fresh;
	struct backend *other, *third;
	assert_int_not_equal(ztree_bucket("a.test."), ztree_bucket("b.test."));
	assert_int_equal(ztree_new(&t), 0);
	put(f->b, "a.test.", 1, true);
	put(f->b, "b.test.", 1, true);
	assert_int_equal(backend_tree_attach(f->b, t), 0);
	put(f->b, "a.test.", 2, true);
	assert_int_equal(tree_check(f->b, NULL, NULL), 0);

	assert_int_equal(open_backend(f, &other), 0);
	put(other, "b.test.", 5, true);
	put(other, "a.test.", 7, true);
	backend_close(other);
	/* a.test. written by the handle during the check: left for later */
	assert_int_equal(tree_check(f->b, write_a_again, f->b), 1);
	assert_int_equal(tree_check(f->b, NULL, NULL), 1);
	assert_int_equal(tree_check(f->b, NULL, NULL), 0);

	assert_int_equal(open_backend(f, &third), 0);
	assert_int_equal(ztree_new(&fresh), 0);
	assert_int_equal(backend_tree_attach(third, fresh), 0);
	assert_same_tree(t, fresh);
	backend_close(third);
	ztree_free(fresh);
	backend_close(f->b);
	f->b = NULL;
	ztree_free(t);
	assert_int_equal(open_backend(f, &f->b), 0);
}

/* A TSIG key put into PowerDNS's tsigkeys reads back, a second put of the
 * name replaces it, and a name without a key is -ENOENT. */
static void test_tsig_keys(void **state_)
{
	struct fx *f = *state_;
	char alg[32], secret[160];

	assert_int_equal(backend_begin(f->b), 0);
	assert_int_equal(backend_tsig_put(f->b, "k.example.", "hmac-sha256", "c2VjcmV0"), 0);
	assert_int_equal(backend_tsig_put(f->b, "k.example.", "hmac-sha512", "b3RoZXI="), 0);
	assert_int_equal(backend_commit(f->b), 0);
	assert_int_equal(
	    backend_tsig_get(f->b, "k.example.", alg, sizeof(alg), secret, sizeof(secret)), 0);
	assert_string_equal(alg, "hmac-sha512");
	assert_string_equal(secret, "b3RoZXI=");
	assert_int_equal(
	    backend_tsig_get(f->b, "none.example.", alg, sizeof(alg), secret, sizeof(secret)),
	    -ENOENT);
	assert_int_equal(backend_tsig_get(f->b, "k.example.", alg, sizeof(alg), secret, 4),
			 ERR_TOO_LARGE);
}

/* Whether a zone has metadata of some kinds: none, then one of them. */
static void test_meta_any(void **state_)
{
	struct fx *f = *state_;
	const char *kinds[] = { "X-A", "X-B" }, *v[] = { "1" };

	put(f->b, "m.example.", 1, true);
	assert_int_equal(backend_meta_any(f->b, "m.example.", kinds, 2), 0);
	assert_int_equal(backend_begin(f->b), 0);
	assert_int_equal(backend_meta_set_list(f->b, "m.example.", "X-C", v, 1), 0);
	assert_int_equal(backend_commit(f->b), 0);
	assert_int_equal(backend_meta_any(f->b, "m.example.", kinds, 2), 0);
	assert_int_equal(backend_begin(f->b), 0);
	assert_int_equal(backend_meta_set_list(f->b, "m.example.", "X-B", v, 1), 0);
	assert_int_equal(backend_commit(f->b), 0);
	assert_int_equal(backend_meta_any(f->b, "m.example.", kinds, 2), 1);
	assert_int_equal(backend_meta_any(f->b, "m.example.", kinds, 1), 0);
	assert_int_equal(backend_meta_any(f->b, "m.example.", kinds, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prefetch_same_as_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefetch_not_stale_after_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prefetch_dropped_at_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tsig_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta_any, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_check, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
