"""The controller's wall clock may jump (an NTP step, a clock set right by
hand); its retries, health checks and reconciliation must not wait for the
wall clock to come back. The controller runs under libfaketime here, with a
timestamp file the test writes an offset into.

Found by make torture (kind clock-jump, seed 1): pushes that failed while
the clock was a day ahead were put off by a day once it was set right."""

import os
import sqlite3
import time

import pytest

import cluster as cl
import harness

pytest_plugins = ["cluster_fixtures"]


@pytest.fixture
def clock_cluster(tmp_path):
    clock = tmp_path / "clock"
    clock.write_text("+0\n")
    c = cl.Cluster(tmp_path / "c", n=3, start=False)
    c.whm.env.update(harness.faketime_env(clock))
    try:
        c.start()
        c.clock = clock
        yield c
    finally:
        c.stop()


def locked(node):
    """Hold a write lock on the node's PowerDNS database: the agent stays
    healthy, its writes (pushes) fail."""
    db = sqlite3.connect(os.path.join(node.data_dir, "pdns.sqlite3"), timeout=10,
                         isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    return db


@pytest.mark.parametrize("jump", ["+1d", "-1d", "+1h"])
def test_pushes_that_failed_during_a_clock_jump_are_retried_once_it_is_set_right(
        clock_cluster, jump):
    c = clock_cluster
    away = c.nodes[2]
    zid = c.create_zone("jump.example")
    gone = c.create_zone("gone.example")
    c.clock.write_text(jump + "\n")
    time.sleep(0.3)
    db = locked(away)
    try:
        c.add_record(zid, "www", "A", "192.0.2.1", wait=False)
        c.delete_zone(gone, wait=False)
        c.wait_all_nodes("www.jump.example.", "A", ["192.0.2.1"], nodes=c.nodes[:2])
        time.sleep(2.5)         # the pushes to the node fail, retries are put off
    finally:
        db.rollback()
        db.close()
    c.clock.write_text("+0\n")
    c.wait_all_nodes("www.jump.example.", "A", ["192.0.2.1"], timeout=10)
    c.wait_rcode("gone.example.", "SOA", "REFUSED", timeout=10)
    c.wait_converged(timeout=10)

    def zones():
        return {n["hostname"]: n["zones"] for n in c.whm.status()["nodes"]}
    # and the controller knows: nothing behind, nothing failing
    assert harness.wait_until(lambda: all(z["behind"] == 0 and z["failing"] == 0
                                          for z in zones().values()), 10, interval=0.1), zones()
