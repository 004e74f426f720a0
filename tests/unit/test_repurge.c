/* The agent's second cache purge (src/agent/repurge.c) and its marks: a
 * mark counts as passed only once every zone asked before it has been
 * purged again, also when a zone is asked twice and the second ask moves it
 * behind another zone. PowerDNS is replaced by a recorder of the purges
 * (this tests the queue's own logic), which can refuse them as a PowerDNS
 * that is down or restarting does; a gate holds the purge thread so that
 * the asks queue up behind it. meson.build shortens REPURGE_HOLD_MS, the
 * longest a failing purge holds a mark, for this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../src/agent/pdns.h"
#include "../../src/agent/repurge.h"

#define MAX_PURGES 64

#ifndef REPURGE_HOLD_MS
#error "tests/unit/meson.build sets REPURGE_HOLD_MS for this test"
#endif

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool gate_closed, held;	     /* the purge thread waits at the gate */
	char purged[MAX_PURGES][64]; /* the purges that succeeded */
	size_t n;
	int fail;	    /* the next this many purges fail */
	bool down;	    /* every purge fails */
	long fail_ms;	    /* what a failing purge takes */
	int attempts;	    /* purges tried, failed or not */
	int failed;	    /* of them, failed */
	int64_t first_fail; /* ms, CLOCK_MONOTONIC: the first failed one began */
	struct repurge *rp;
	uint64_t watch_mark; /* checked at every advance */
	size_t watch_need;   /* purges of 'watch_zone' needed before it passes */
	const char *watch_zone;
	bool violated;
	int advances;
} rec = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static struct pdns *const FAKE = (struct pdns *)&rec;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int pdns_new(const char *api_url, const char *key, struct pdns **ret)
{
	(void)api_url;
	(void)key;
	*ret = FAKE;
	return 0;
}

int pdns_set_control(struct pdns *p, const char *socket_path)
{
	(void)p;
	(void)socket_path;
	return 0;
}

void pdns_free(struct pdns *p)
{
	assert_ptr_equal(p, FAKE);
}

void pdns_last_error(char *out, size_t len)
{
	snprintf(out, len, "none");
}

int pdns_flush(struct pdns *p, const char *zone)
{
	assert_ptr_equal(p, FAKE);
	int64_t began = now_ms();
	pthread_mutex_lock(&rec.lock);
	rec.held = true;
	pthread_cond_broadcast(&rec.cond);
	while (rec.gate_closed)
		pthread_cond_wait(&rec.cond, &rec.lock);
	rec.held = false;
	rec.attempts++;
	bool fail = rec.down || rec.fail > 0;
	if (fail) {
		rec.fail -= rec.fail > 0;
		if (rec.failed++ == 0)
			rec.first_fail = began;
		long ms = rec.fail_ms;
		pthread_mutex_unlock(&rec.lock);
		sleep_ms(ms);
		return -111; /* as a refused connection */
	}
	if (rec.n < MAX_PURGES)
		snprintf(rec.purged[rec.n++], sizeof(rec.purged[0]), "%s", zone);
	pthread_mutex_unlock(&rec.lock);
	return 0;
}

static size_t purges_of(const char *zone)
{
	size_t k = 0;
	for (size_t i = 0; i < rec.n; i++)
		k += strcmp(rec.purged[i], zone) == 0 || strcmp(rec.purged[i], ".") == 0;
	return k;
}

/* The same, and the other records, read under the lock: an assertion
 * that fails must not leave it held. */
static size_t purged(const char *zone)
{
	pthread_mutex_lock(&rec.lock);
	size_t k = purges_of(zone);
	pthread_mutex_unlock(&rec.lock);
	return k;
}

static bool violated(void)
{
	pthread_mutex_lock(&rec.lock);
	bool v = rec.violated;
	pthread_mutex_unlock(&rec.lock);
	return v;
}

static int advances(void)
{
	pthread_mutex_lock(&rec.lock);
	int k = rec.advances;
	pthread_mutex_unlock(&rec.lock);
	return k;
}

static int attempts(void)
{
	pthread_mutex_lock(&rec.lock);
	int k = rec.attempts;
	pthread_mutex_unlock(&rec.lock);
	return k;
}

static void set_down(bool down)
{
	pthread_mutex_lock(&rec.lock);
	rec.down = down;
	pthread_mutex_unlock(&rec.lock);
}

/* Waits (10 s at most) until 'zone' has been purged 'k' times. */
static bool wait_purged(const char *zone, size_t k)
{
	for (int i = 0; i < 10000 && purged(zone) < k; i++)
		sleep_ms(1);
	return purged(zone) >= k;
}

/* Called by the purge thread after each purge: the watched mark must not
 * pass before its zone had the purges it needs. */
static void on_advance(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&rec.lock);
	rec.advances++;
	if (rec.watch_zone != NULL && repurge_passed(rec.rp, rec.watch_mark) &&
	    purges_of(rec.watch_zone) < rec.watch_need)
		rec.violated = true;
	pthread_cond_broadcast(&rec.cond);
	pthread_mutex_unlock(&rec.lock);
}

/* Waits (10 s at most) until 'mark' has passed. */
static bool wait_passed(uint64_t mark)
{
	for (int i = 0; i < 10000 && !repurge_passed(rec.rp, mark); i++)
		sleep_ms(1);
	return repurge_passed(rec.rp, mark);
}

static int setup(void **state)
{
	(void)state;
	memset(rec.purged, 0, sizeof(rec.purged));
	rec.n = 0;
	rec.fail = rec.attempts = rec.failed = 0;
	rec.down = false;
	rec.fail_ms = 0;
	rec.first_fail = 0;
	rec.gate_closed = rec.held = rec.violated = false;
	rec.watch_zone = NULL;
	rec.advances = 0;
	assert_int_equal(repurge_start("http://127.0.0.1:1", "k", NULL, &rec.rp), 0);
	repurge_watch(rec.rp, on_advance, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pthread_mutex_lock(&rec.lock);
	rec.gate_closed = false;
	pthread_cond_broadcast(&rec.cond);
	pthread_mutex_unlock(&rec.lock);
	repurge_stop(rec.rp);
	return 0;
}

static void test_nothing_asked_has_passed(void **state)
{
	(void)state;
	assert_true(repurge_passed(rec.rp, repurge_mark(rec.rp)));
	assert_true(repurge_passed(NULL, repurge_mark(NULL)));
	repurge_add(NULL, "a."); /* does nothing */
}

static void test_a_mark_passes_after_its_zone_is_purged_again(void **state)
{
	(void)state;
	repurge_add(rec.rp, "a.");
	uint64_t m = repurge_mark(rec.rp);
	assert_int_equal(m, 1);
	assert_true(wait_passed(m));
	assert_int_equal(purged("a."), 1);
	assert_true(advances() >= 1);
	/* later asks do not pass before their own purge */
	repurge_add(rec.rp, "b.");
	repurge_add(rec.rp, "c.");
	m = repurge_mark(rec.rp);
	assert_true(wait_passed(m));
	assert_int_equal(purged("b."), 1);
	assert_int_equal(purged("c."), 1);
}

/* Holds the purge thread in a purge of "x.", asks for 'zones' in turn
 * (15 ms apart), then lets it go: the mark taken right after the first ask
 * must not pass before that zone has been purged again. */
static void asks_behind_a_held_purge(const char *const *zones, size_t n)
{
	pthread_mutex_lock(&rec.lock);
	rec.gate_closed = true;
	pthread_mutex_unlock(&rec.lock);
	repurge_add(rec.rp, "x.");
	pthread_mutex_lock(&rec.lock);
	while (!rec.held)
		pthread_cond_wait(&rec.cond, &rec.lock);
	pthread_mutex_unlock(&rec.lock);

	repurge_add(rec.rp, zones[0]);
	uint64_t first = repurge_mark(rec.rp);
	pthread_mutex_lock(&rec.lock);
	rec.watch_mark = first;
	rec.watch_zone = zones[0];
	rec.watch_need = 1;
	pthread_mutex_unlock(&rec.lock);
	for (size_t i = 1; i < n; i++) {
		sleep_ms(15); /* each ask due well after the one before */
		repurge_add(rec.rp, zones[i]);
	}
	uint64_t all = repurge_mark(rec.rp);
	assert_false(repurge_passed(rec.rp, first));

	pthread_mutex_lock(&rec.lock);
	rec.gate_closed = false;
	pthread_cond_broadcast(&rec.cond);
	pthread_mutex_unlock(&rec.lock);
	assert_true(wait_passed(all));
	assert_false(violated());
	for (size_t i = 0; i < n; i++)
		assert_true(purged(zones[i]) >= 1);
}

/* "a." asked again while it waits: the first ask's mark waits for a purge
 * of "a." after it. */
static void test_a_zone_asked_again_keeps_its_first_mark_waiting(void **state)
{
	(void)state;
	static const char *const zones[] = { "a.", "a." };
	asks_behind_a_held_purge(zones, 2);
}

/* With the queue full, "a." asked again becomes a purge of everything,
 * which answers every ask before it. */
static void test_a_full_queue_turns_into_one_purge_of_everything(void **state)
{
	(void)state;
	static const char *const zones[] = { "a.", "b.", "a." };
	asks_behind_a_held_purge(zones, 3);
}

/* A zone asked about every 2 ms: its first mark passes while the asks go
 * on, rather than once they stop. It counts only when no two asks before
 * the pass were 8 ms apart or more (a pause of the test thread, under load,
 * would let even a put-off purge run), so it is tried up to 20 times. */
static void test_a_zone_changed_without_pause_is_not_put_off(void **state)
{
	(void)state;
	bool shown = false;
	for (int attempt = 0; attempt < 20 && !shown; attempt++) {
		repurge_add(rec.rp, "hot.");
		uint64_t first = repurge_mark(rec.rp);
		int64_t last = now_ms(), gap = 0;
		bool passed = false;
		for (int i = 0; i < 250 && !passed; i++) {
			sleep_ms(2);
			int64_t t = now_ms();
			gap = t - last > gap ? t - last : gap;
			last = t;
			repurge_add(rec.rp, "hot.");
			passed = repurge_passed(rec.rp, first);
		}
		shown = passed && gap < 8;
		assert_true(wait_passed(repurge_mark(rec.rp)));
	}
	assert_true(shown);
	assert_true(purged("hot.") >= 1);
}

/* More zones than the queue holds become one purge of everything, which
 * passes every mark taken before it. */
static void test_many_zones_become_one_purge_of_everything(void **state)
{
	(void)state;
	char zone[16];
	for (int i = 0; i < 10; i++) {
		snprintf(zone, sizeof(zone), "z%d.", i);
		repurge_add(rec.rp, zone);
	}
	uint64_t m = repurge_mark(rec.rp);
	assert_int_equal(m, 10);
	assert_true(wait_passed(m));
	assert_true(purged("z9.") >= 1);
	pthread_mutex_lock(&rec.lock);
	size_t all = 0;
	for (size_t i = 0; i < rec.n; i++)
		all += strcmp(rec.purged[i], ".") == 0;
	pthread_mutex_unlock(&rec.lock);
	assert_true(all >= 1);
}

/* The second purge of "a." is refused three times (PowerDNS restarting):
 * it is tried again until it succeeds, and the mark taken after the ask
 * passes only then, never after a failed one. */
static void test_a_failed_second_purge_is_retried_and_its_mark_waits(void **state)
{
	(void)state;
	pthread_mutex_lock(&rec.lock);
	rec.fail = 3;
	rec.watch_mark = 1; /* the first ask's */
	rec.watch_zone = "a.";
	rec.watch_need = 1;
	pthread_mutex_unlock(&rec.lock);
	repurge_add(rec.rp, "a.");
	uint64_t m = repurge_mark(rec.rp);
	assert_int_equal(m, 1);
	assert_true(wait_passed(m));
	assert_false(violated());
	assert_int_equal(purged("a."), 1);
	pthread_mutex_lock(&rec.lock);
	int tried = rec.attempts, failed = rec.failed;
	pthread_mutex_unlock(&rec.lock);
	assert_int_equal(failed, 3);
	assert_int_equal(tried, 4);
	/* nothing is left to retry */
	sleep_ms(100);
	assert_int_equal(attempts(), 4);
}

/* A PowerDNS that never answers: the mark waits for the failing purge for
 * REPURGE_HOLD_MS, then passes; the purge is still retried, ever less
 * often (the thread does not spin), and succeeds once PowerDNS is back. */
static void test_a_purge_that_keeps_failing_holds_its_mark_for_a_bounded_time(void **state)
{
	(void)state;
	pthread_mutex_lock(&rec.lock);
	rec.down = true;
	rec.fail_ms = 20; /* as a timeout, shortened */
	pthread_mutex_unlock(&rec.lock);
	repurge_add(rec.rp, "a.");
	uint64_t m = repurge_mark(rec.rp);
	assert_true(wait_passed(m));
	int64_t passed = now_ms();
	pthread_mutex_lock(&rec.lock);
	int64_t first_fail = rec.first_fail;
	int failed = rec.failed;
	pthread_mutex_unlock(&rec.lock);
	assert_true(failed >= 1);
	assert_true(passed - first_fail >= REPURGE_HOLD_MS - 2);
	assert_int_equal(purged("a."), 0);
	/* tried again 10 ms after the first failure, then at twice the
	 * interval each time: about 5 tries in 300 ms, then 3 in 1.5 s as
	 * the interval reaches its cap of a second */
	int k = attempts();
	assert_true(k <= 12);
	sleep_ms(1500);
	assert_true(attempts() - k >= 1);
	assert_true(attempts() - k <= 5);
	set_down(false);
	assert_true(wait_purged("a.", 1));
	k = attempts();
	sleep_ms(1200);
	assert_int_equal(attempts(), k);
}

/* Many zones whose purges all fail are retried as one purge of everything
 * (their set is bounded), which a PowerDNS back answers once for all. */
static void test_many_failing_zones_are_retried_as_one_purge_of_everything(void **state)
{
	(void)state;
	char zone[16];
	set_down(true);
	for (int i = 0; i < 40; i++) {
		snprintf(zone, sizeof(zone), "z%d.", i);
		repurge_add(rec.rp, zone);
		sleep_ms(15); /* each purged alone, and failing */
	}
	uint64_t m = repurge_mark(rec.rp);
	assert_true(wait_passed(m));
	assert_int_equal(purged("z0."), 0);
	int k = attempts();
	assert_true(k <= 40 + 15); /* each once, and a round of retries at a time */
	set_down(false);
	assert_true(wait_purged("z39.", 1));
	sleep_ms(1200); /* longer than the longest retry interval */
	pthread_mutex_lock(&rec.lock);
	size_t n = rec.n;
	bool everything = n > 0 && strcmp(rec.purged[0], ".") == 0;
	pthread_mutex_unlock(&rec.lock);
	assert_int_equal(n, 1);
	assert_true(everything);
	for (int i = 0; i < 40; i++) {
		snprintf(zone, sizeof(zone), "z%d.", i);
		assert_int_equal(purged(zone), 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nothing_asked_has_passed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_mark_passes_after_its_zone_is_purged_again,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_zone_asked_again_keeps_its_first_mark_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_full_queue_turns_into_one_purge_of_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_zone_changed_without_pause_is_not_put_off,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_zones_become_one_purge_of_everything,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_failed_second_purge_is_retried_and_its_mark_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_purge_that_keeps_failing_holds_its_mark_for_a_bounded_time, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_many_failing_zones_are_retried_as_one_purge_of_everything, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
