/* Unit tests for the rollover engine's step decisions (src/whm/rollover.h):
 * what each step does, when the engine may take it, when a ZSK is due for
 * its scheduled rollover, when a DS confirmation is taken, and the TTLs
 * the steps wait on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rollover.h"

/* ZSK pre-publication: step 1 swaps the signing ZSK, step 2 removes the
 * old key. Double-KSK: step 1 is the operator's (DS), step 2 removes the
 * old key. */
static void test_next_step(void **state)
{
	assert_int_equal(rollover_next_step(ROLL_ZSK, 1), ROLLOVER_STEP_SWAP_ZSK);
	assert_int_equal(rollover_next_step(ROLL_ZSK, 2), ROLLOVER_STEP_REMOVE_OLD);
	assert_int_equal(rollover_next_step(ROLL_KSK, 1), ROLLOVER_STEP_NONE);
	assert_int_equal(rollover_next_step(ROLL_KSK, 2), ROLLOVER_STEP_REMOVE_OLD);
	assert_int_equal(rollover_next_step(ROLL_CSK, 1), ROLLOVER_STEP_NONE);
	assert_int_equal(rollover_next_step(ROLL_CSK, 2), ROLLOVER_STEP_REMOVE_OLD);
	assert_int_equal(rollover_next_step("", 0), ROLLOVER_STEP_NONE);
}

/* Time-driven steps are due once their time has come; a KSK or CSK at
 * step 1 never is (it waits for the DS); no rollover, nothing due. */
static void test_step_due(void **state)
{
	assert_int_equal(rollover_tick_action(ROLL_ZSK, 1, true, 1000, 999), ROLLOVER_TICK_NONE);
	assert_int_equal(rollover_tick_action(ROLL_ZSK, 1, true, 1000, 1000), ROLLOVER_TICK_STEP);
	assert_int_equal(rollover_tick_action(ROLL_ZSK, 2, true, 1000, 5000), ROLLOVER_TICK_STEP);
	assert_int_equal(rollover_tick_action(ROLL_KSK, 1, true, 1000, 5000), ROLLOVER_TICK_NONE);
	assert_int_equal(rollover_tick_action(ROLL_CSK, 1, true, 1000, 5000), ROLLOVER_TICK_NONE);
	assert_int_equal(rollover_tick_action(ROLL_KSK, 2, true, 1000, 999), ROLLOVER_TICK_NONE);
	assert_int_equal(rollover_tick_action(ROLL_KSK, 2, true, 1000, 1000), ROLLOVER_TICK_STEP);
	assert_int_equal(rollover_tick_action(ROLL_CSK, 2, true, 1000, 1001), ROLLOVER_TICK_STEP);
	assert_int_equal(rollover_tick_action("", 0, true, 0, 5000), ROLLOVER_TICK_NONE);
	assert_int_equal(rollover_tick_action("", 0, false, 0, 5000), ROLLOVER_TICK_NONE);
}

/* A step's wait begins when every node acknowledged it, not when the step
 * began; a node that loses the step's version starts it again; nothing is
 * taken while a node lacks it, however late. */
static void test_wait_counts_from_every_node(void **state)
{
	assert_int_equal(rollover_tick_action(ROLL_ZSK, 1, false, 0, 5000), ROLLOVER_TICK_NONE);
	assert_int_equal(rollover_tick_action(ROLL_ZSK, 1, true, 0, 5000), ROLLOVER_TICK_COUNT);
	assert_int_equal(rollover_tick_action(ROLL_ZSK, 2, true, 0, 5000), ROLLOVER_TICK_COUNT);
	assert_int_equal(rollover_tick_action(ROLL_CSK, 1, true, 0, 5000), ROLLOVER_TICK_COUNT);
	assert_int_equal(rollover_tick_action(ROLL_ZSK, 1, false, 1000, 5000),
			 ROLLOVER_TICK_RECOUNT);
	assert_int_equal(rollover_tick_action(ROLL_KSK, 2, false, 1000, 5000),
			 ROLLOVER_TICK_RECOUNT);
}

/* The scheduled ZSK rollover: only with a split scheme, a lifetime set
 * and a ZSK, once the ZSK has reached the lifetime. */
static void test_zsk_expired(void **state)
{
	const int64_t day = 86400, t0 = 1700000000;
	assert_false(rollover_zsk_expired(true, 90, t0, t0 + 90 * day - 1));
	assert_true(rollover_zsk_expired(true, 90, t0, t0 + 90 * day));
	assert_false(rollover_zsk_expired(false, 90, t0, t0 + 365 * day));
	assert_false(rollover_zsk_expired(true, 0, t0, t0 + 365 * day));
	assert_false(rollover_zsk_expired(true, 90, 0, t0 + 365 * day));
}

/* A DS confirmation needs a KSK or CSK rollover at step 1 that every node
 * publishes, after its DNSKEY set has had time to reach every cache. */
static void test_ds_check(void **state)
{
	assert_int_equal(rollover_ds_check(ROLL_KSK, 1, true, 1000, 1000), ROLLOVER_DS_OK);
	assert_int_equal(rollover_ds_check(ROLL_CSK, 1, true, 1000, 2000), ROLLOVER_DS_OK);
	assert_int_equal(rollover_ds_check(ROLL_KSK, 1, true, 1000, 999), ROLLOVER_DS_TOO_EARLY);
	assert_int_equal(rollover_ds_check(ROLL_CSK, 1, true, 0, 2000), ROLLOVER_DS_TOO_EARLY);
	assert_int_equal(rollover_ds_check(ROLL_CSK, 1, false, 1000, 2000), ROLLOVER_DS_NODES);
	assert_int_equal(rollover_ds_check(ROLL_KSK, 1, false, 0, 2000), ROLLOVER_DS_NODES);
	assert_int_equal(rollover_ds_check(ROLL_KSK, 2, true, 1000, 2000), ROLLOVER_DS_NOT_WAITING);
	assert_int_equal(rollover_ds_check(ROLL_ZSK, 1, true, 1000, 2000), ROLLOVER_DS_NOT_WAITING);
	assert_int_equal(rollover_ds_check("", 0, true, 0, 2000), ROLLOVER_DS_NOT_WAITING);
}

/* The waits: the DNSKEY TTL is the SOA minimum the zone is served with
 * (PowerDNS's DNSKEY TTL), or the SOA TTL when larger; the largest TTL is
 * the records' when one is above that. */
static void test_ttls(void **state)
{
	uint32_t dnskey, max;
	rollover_ttls(3600, 86400, 300, &dnskey, &max);
	assert_int_equal(dnskey, 86400);
	assert_int_equal(max, 86400);
	rollover_ttls(3600, 300, 0, &dnskey, &max);
	assert_int_equal(dnskey, 3600);
	assert_int_equal(max, 3600);
	rollover_ttls(3600, 7200, 172800, &dnskey, &max);
	assert_int_equal(dnskey, 7200);
	assert_int_equal(max, 172800);
	rollover_ttls(0, 0, 0, &dnskey, &max);
	assert_int_equal(dnskey, 0);
	assert_int_equal(max, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_step),
		cmocka_unit_test(test_step_due),
		cmocka_unit_test(test_wait_counts_from_every_node),
		cmocka_unit_test(test_zsk_expired),
		cmocka_unit_test(test_ds_check),
		cmocka_unit_test(test_ttls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
