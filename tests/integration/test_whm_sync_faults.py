"""The sync engine when one zone cannot be pushed or a node lost what it
held: the other zones still reach every node, and what cannot be done is
reported, not taken as done."""

import os
import sqlite3
import time

pytest_plugins = ["cluster_fixtures"]


def _make_unpushable(whm, zone_id):
    """Make zone 'zone_id' one the controller cannot build a push of, as an
    earlier release could have left it: stored before digests (none
    recorded) with a record today's rules refuse."""
    db = sqlite3.connect(whm.store_path, timeout=10)
    try:
        with db:
            db.execute("UPDATE dns_zones SET rdigest = '' WHERE id = ?", (zone_id,))
            db.execute("INSERT INTO dns_records (zone_id, name, type, content, ttl)"
                       " VALUES (?, 'old', 'A', 'not-an-address', 300)", (zone_id,))
    finally:
        db.close()


def _progress(c, node):
    return c.whm.call("GET", "/api/dns/cluster/sync-all/%d" % node.server_id)


def test_one_unpushable_zone_does_not_hold_back_a_new_nodes_other_zones(cluster_factory):
    """A node that joins gets every zone in one batch. One zone whose push
    cannot be built fails alone, visibly; the others reach the node."""
    c = cluster_factory(n=1)
    good = ["good%d.test." % i for i in range(3)]
    for d in good:
        c.create_zone(d)
    bad = c.create_zone("stale.test.")
    c.whm.stop()
    _make_unpushable(c.whm, bad)
    c.whm.start()
    new = c.add_node()
    deadline = time.monotonic() + 15
    have = {}
    while time.monotonic() < deadline:
        have = new.zones()
        if all(d in have for d in good):
            break
        time.sleep(0.2)
    assert all(d in have for d in good), "the new node holds %s" % sorted(have)
    assert "stale.test." not in have
    # the zone that cannot go is reported as failing, with its error
    deadline = time.monotonic() + 10
    p = {}
    while time.monotonic() < deadline:
        p = _progress(c, new)
        if p.get("failing") == 1:
            break
        time.sleep(0.2)
    assert p.get("failing") == 1 and p.get("behind") == 1 and not p.get("done"), p
    assert p.get("lastError"), p

