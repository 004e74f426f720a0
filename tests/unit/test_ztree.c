/* Unit tests for src/lib/model/ztree: the hash tree a node and the
 * controller compare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/ztree.h"

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "2222222222222222222222222222222222222222222222222222222222222222"

static void root(struct ztree *t, char out[ZTREE_LEAF_HEX], uint64_t *zones)
{
	struct ztree_node n;
	assert_int_equal(ztree_get(t, "", &n, NULL), 0);
	ztree_hex(&n, out);
	*zones = n.zones;
}

/* The same zones added in any order give the same tree; removing a zone is
 * the same call again. */
static void test_order_and_removal(void **state)
{
	(void)state;
	struct ztree *a, *b;
	char ra[ZTREE_LEAF_HEX], rb[ZTREE_LEAF_HEX], empty[ZTREE_LEAF_HEX];
	uint64_t na, nb;
	assert_int_equal(ztree_new(&a), 0);
	assert_int_equal(ztree_new(&b), 0);
	root(a, empty, &na);
	for (int i = 0; i < 100; i++) {
		char z[64];
		snprintf(z, sizeof(z), "z%d.example.", i);
		ztree_toggle(a, z, (uint64_t)i, D1, +1);
		snprintf(z, sizeof(z), "z%d.example.", 99 - i);
		ztree_toggle(b, z, (uint64_t)(99 - i), D1, +1);
	}
	root(a, ra, &na);
	root(b, rb, &nb);
	assert_string_equal(ra, rb);
	assert_int_equal(na, 100);

	/* Another version or digest of one zone: another root. */
	ztree_toggle(b, "z5.example.", 5, D1, -1);
	ztree_toggle(b, "z5.example.", 6, D1, +1);
	root(b, rb, &nb);
	assert_string_not_equal(ra, rb);
	assert_int_equal(nb, 100);
	ztree_toggle(b, "z5.example.", 6, D1, -1);
	ztree_toggle(b, "z5.example.", 5, D2, +1);
	root(b, rb, &nb);
	assert_string_not_equal(ra, rb);
	ztree_toggle(b, "z5.example.", 5, D2, -1);
	ztree_toggle(b, "z5.example.", 5, D1, +1);
	root(b, rb, &nb);
	assert_string_equal(ra, rb);

	for (int i = 0; i < 100; i++) {
		char z[64];
		snprintf(z, sizeof(z), "z%d.example.", i);
		ztree_toggle(a, z, (uint64_t)i, D1, -1);
	}
	root(a, ra, &na);
	assert_string_equal(ra, empty);
	assert_int_equal(na, 0);
	ztree_free(a);
	ztree_free(b);
}

/* A node's children add up to it, and the child that holds a zone's
 * bucket is the one that changes with it. */
static void test_children_lead_to_the_bucket(void **state)
{
	(void)state;
	struct ztree *t;
	struct ztree_node node, kids[16], before[16];
	char prefix[ZTREE_DEPTH + 1] = "";
	assert_int_equal(ztree_new(&t), 0);
	for (int i = 0; i < 50; i++) {
		char z[64];
		snprintf(z, sizeof(z), "n%d.example.", i);
		ztree_toggle(t, z, 1, D1, +1);
	}
	unsigned bucket = ztree_bucket("moved.example.");
	for (int depth = 0; depth < ZTREE_DEPTH; depth++) {
		assert_int_equal(ztree_get(t, prefix, &node, before), 0);
		ztree_toggle(t, "moved.example.", 1, D1, +1);
		assert_int_equal(ztree_get(t, prefix, &node, kids), 0);
		ztree_toggle(t, "moved.example.", 1, D1, -1);
		uint64_t sum = 0;
		unsigned changed = 16, nchanged = 0;
		for (unsigned c = 0; c < 16; c++) {
			sum += kids[c].zones;
			if (memcmp(kids[c].hash, before[c].hash, 16) != 0) {
				changed = c;
				nchanged++;
			}
		}
		assert_int_equal(sum, node.zones);
		assert_int_equal(nchanged, 1);
		assert_int_equal(changed, (bucket >> (4 * (ZTREE_DEPTH - 1 - depth))) & 15);
		snprintf(prefix + depth, sizeof(prefix) - (size_t)depth, "%x", changed);
	}
	assert_int_equal(ztree_prefix_bucket(prefix), bucket);
	ztree_free(t);
}

static void test_prefixes(void **state)
{
	(void)state;
	assert_true(ztree_prefix_valid(""));
	assert_true(ztree_prefix_valid("0af9"));
	assert_false(ztree_prefix_valid("0af9a"));
	assert_false(ztree_prefix_valid("0AF9"));
	assert_false(ztree_prefix_valid("x"));
	assert_int_equal(ztree_prefix_bucket("0af9"), 0x0af9);
	struct ztree *t;
	struct ztree_node n;
	assert_int_equal(ztree_new(&t), 0);
	assert_int_equal(ztree_get(t, "g", &n, NULL), -EINVAL);
	ztree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_removal),
		cmocka_unit_test(test_children_lead_to_the_bucket),
		cmocka_unit_test(test_prefixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
