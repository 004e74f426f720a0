/* Unit tests for the sync engine's decisions (src/whm/sync_node.h): how a
 * round sends what is pending, when a node's answer keeps a push out, and
 * what reconciliation sends again. Pure functions: no node, no store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>

#include "sync_node.h"

#define DIGEST "0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210"

/* One zone goes alone; up to BATCH_MAX in one sync-batch; more than that
 * as pipelined batches. */
static void test_push_mode(void **state)
{
	assert_int_equal(sync_push_mode(1), SYNC_PUSH_EACH);
	assert_int_equal(sync_push_mode(BATCH_THRESHOLD), SYNC_PUSH_EACH);
	assert_int_equal(sync_push_mode(BATCH_THRESHOLD + 1), SYNC_PUSH_BATCH);
	assert_int_equal(sync_push_mode(BATCH_MAX), SYNC_PUSH_BATCH);
	assert_int_equal(sync_push_mode(BATCH_MAX + 1), SYNC_PUSH_PIPELINE);
	assert_int_equal(sync_push_mode(1000000), SYNC_PUSH_PIPELINE);
}

static bool blocked(const char *answer_text, uint64_t version, uint64_t *held)
{
	json_t *answer = json_loads(answer_text, 0, NULL);
	assert_non_null(answer);
	*held = 0;
	bool b = sync_push_blocked(version, DIGEST, answer, held);
	json_decref(answer);
	return b;
}

/* Applied, or not applied because the node already holds exactly this
 * version: acknowledged. A delete, a higher version, or this version with
 * other content on the node: blocked, with the node's version. */
static void test_push_blocked(void **state)
{
	uint64_t held;
	assert_false(
	    blocked("{\"applied\": true, \"version\": 5, \"digest\": \"" DIGEST "\"}", 5, &held));
	assert_false(
	    blocked("{\"applied\": false, \"version\": 5, \"digest\": \"" DIGEST "\"}", 5, &held));
	assert_false(blocked("{\"applied\": false, \"version\": 4}", 5, &held));
	assert_true(blocked("{\"applied\": false, \"version\": 7}", 5, &held));
	assert_int_equal(held, 7);
	assert_true(blocked("{\"applied\": false, \"version\": 5, \"deleted\": true}", 5, &held));
	assert_int_equal(held, 5);
	assert_true(
	    blocked("{\"applied\": false, \"version\": 5, \"digest\": \"" OTHER "\"}", 5, &held));
	assert_int_equal(held, 5);
	/* "applied" missing is not a refusal. */
	assert_false(blocked("{\"version\": 9}", 5, &held));
}

/* A tombstone is held when the node does not list the zone; a live zone
 * when the node has its version with the committed content. */
static void test_node_holds(void **state)
{
	assert_true(sync_node_holds(true, 3, false, 0, false));
	assert_false(sync_node_holds(true, 3, true, 2, false));
	assert_true(sync_node_holds(false, 3, true, 3, true));
	assert_false(sync_node_holds(false, 3, true, 3, false));
	assert_false(sync_node_holds(false, 3, true, 2, true));
	assert_false(sync_node_holds(false, 3, false, 0, true));
}

/* A node ahead of the store makes the store raise its version; at the same version with
 * other content the zone is pushed again as it is; otherwise it is pushed
 * again from what the node holds. */
static void test_reconcile_action(void **state)
{
	assert_int_equal(sync_reconcile_action(false, 3, 4), SYNC_REPAIR_AHEAD);
	assert_int_equal(sync_reconcile_action(false, 3, 3), SYNC_REPAIR_SAME);
	assert_int_equal(sync_reconcile_action(false, 3, 1), SYNC_REPAIR_FROM_NODE);
	assert_int_equal(sync_reconcile_action(false, 3, 0), SYNC_REPAIR_FROM_NODE);
	/* A tombstone the node still serves is deleted again, above what it holds. */
	assert_int_equal(sync_reconcile_action(true, 3, 9), SYNC_REPAIR_AHEAD);
	assert_int_equal(sync_reconcile_action(true, 3, 3), SYNC_REPAIR_FROM_NODE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_mode),
		cmocka_unit_test(test_push_blocked),
		cmocka_unit_test(test_node_holds),
		cmocka_unit_test(test_reconcile_action),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
