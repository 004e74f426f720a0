"""The sync engine when one zone cannot be pushed or a node lost what it
held: the other zones still reach every node, and what cannot be done is
reported, not taken as done."""

import os
import sqlite3
import sys
import time

import pytest
import requests

import harness
from cluster import Cluster

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "torture"))
from proxy import FaultProxy  # noqa: E402

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


def _wait(predicate, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def _node_zones(c, node):
    s = c.whm.status()
    return [n for n in s["nodes"] if n["nodeId"] == node.server_id][0]["zones"]


def test_a_node_that_lost_its_zones_gets_them_again_while_one_zone_waits(cluster_factory):
    """A node whose database is lost (wiped, replaced) holds next to
    nothing: reconciliation pushes every zone again. One zone the node
    keeps refusing (always behind) is no full sync on its way and must not
    stop that."""
    c = cluster_factory(n=0)
    many = 1100  # over the differences reconciliation walks bucket by bucket
    for i in range(many):
        c.whm.call("POST", "/api/dns", {"domain": "z%d.lost.test." % i}, expect=201)
    big = c.create_zone("big.lost.test.", wait=False)
    for i in range(6):  # 2 NS + 6 A + SOA: over the strict node's limit of 5
        c.add_record(big, "h%d" % i, "A", "192.0.2.%d" % (i + 1), wait=False)

    strict = c.add_node("strict", config={"max-zone-records": 5})
    assert _wait(lambda: len(strict.zones()) == many, 120, 0.5), len(strict.zones())
    assert _wait(lambda: _node_zones(c, strict)["failing"] == 1, 10), _node_zones(c, strict)

    # the node loses its database: its agent comes back with nothing
    strict.stop()
    for f in os.listdir(strict.data_dir):
        if f.startswith("pdns.sqlite3"):
            os.unlink(os.path.join(strict.data_dir, f))
    strict.start()
    assert len(strict.zones()) == 0
    assert _wait(lambda: len(strict.zones()) == many, 60, 0.5), \
        "the node holds %d zones of %d; controller says %s" % (
            len(strict.zones()), many, _node_zones(c, strict))
    assert strict.rcode("z7.lost.test.", "SOA") == "NOERROR"


def _events(c, kind):
    return [e for e in c.whm.call("GET", "/api/dns/cluster/events",
                                  params={"limit": 256}, expect=200)["events"]
            if e["kind"] == kind]


def test_a_store_restored_from_before_many_zones_has_them_deleted_from_the_node(
        cluster_factory, tmp_path):
    """The store goes back to a backup from before more zones were made than
    reconciliation walks bucket by bucket: the node, too far apart for the
    tree, has every zone pushed again once and the zones the store does not
    know deleted, then serves exactly the store's zones; nothing is pushed
    again at every reconciliation after that."""
    c = cluster_factory(n=1)
    node = c.nodes[0]
    c.create_zone("kept.restore.test.")
    c.whm.stop()
    backup = str(tmp_path / "store-backup.sqlite3")
    harness.sqlite_copy(c.whm.store_path, backup)
    c.whm.start()

    many = 1100  # over the differences reconciliation walks bucket by bucket
    for i in range(many):
        c.whm.call("POST", "/api/dns", {"domain": "z%d.late.test." % i}, expect=201)
    assert _wait(lambda: len(node.zones()) == many + 1, 90, 0.5), len(node.zones())
    assert node.rcode("z7.late.test.", "SOA") == "NOERROR"

    c.whm.stop()
    harness.sqlite_copy(backup, c.whm.store_path)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(c.whm.store_path + suffix):
            os.unlink(c.whm.store_path + suffix)
    c.whm.session = requests.Session()
    logged = os.path.getsize(c.whm.log_path)
    c.whm.start()
    assert list(c.whm.zones()) == ["kept.restore.test."]

    # reconcile-interval is 2 s; the 1,100 deletes go 100 to a delete-batch
    assert _wait(lambda: len(node.zones()) == 1, 45, 0.5), \
        "the node holds %d zones against 1" % len(node.zones())
    c.wait_converged(timeout=10)
    for name in ("z0.late.test.", "z7.late.test.", "z%d.late.test." % (many - 1)):
        assert node.rcode(name, "SOA") == "REFUSED", name
    assert node.rcode("kept.restore.test.", "SOA") == "NOERROR"
    with open(node.log_path, "rb") as f:
        assert b"delete batch of 100 zones: 100 deleted" in f.read()
    assert _wait(lambda: _node_zones(c, node) == dict(
        _node_zones(c, node), in_sync=1, behind=0, failing=0, deleting=0), 10), \
        _node_zones(c, node)

    # in sync: later reconciliations find nothing to push again
    drifts = len(_events(c, "sync.drift"))
    assert drifts >= 1
    time.sleep(5)
    assert len(_events(c, "sync.drift")) == drifts
    with open(c.whm.log_path, "rb") as f:
        f.seek(logged)
        said = f.read().decode("utf-8", "replace")
    assert said.count("pushing every zone again") == 1, said


@pytest.mark.parametrize("status", [502, 404], ids=["a-zone-refused", "an-older-agent"])
def test_a_delete_batch_the_node_does_not_take_goes_again_zone_by_zone(cluster_factory, status):
    """Deletes that reach a node together go in a delete-batch. A node that
    fails one (502: PowerDNS's API refused one of its zones) gets those
    zones again one by one in the same round, so only the zone it cannot
    delete would wait; an agent without the route (404: a release before
    it) gets every delete one by one. Either way the zones are deleted and
    acknowledged."""
    c = Cluster(os.path.join(cluster_factory.base, "proxied"), n=1, start=False)
    cluster_factory.clusters.append(c)
    node = c.nodes[0]
    proxy = FaultProxy(node.api_port, name="proxy-" + node.name)
    try:
        node.front = ("127.0.0.1", proxy.port)
        c.start()
        names = ["gone%d.test." % i for i in range(5)]
        ids = [c.create_zone(d) for d in names]
        c.wait_converged()
        proxy.set("reset")          # the deletes wait for the node, then go together
        for zid in ids:
            c.delete_zone(zid, wait=False)
        proxy.refuse("POST", "/api/dns/delete-batch", status, count=1 if status == 502 else 100)
        proxy.reset_state()         # what the proxy saw starts now

        c.wait_converged()

        seen = proxy.seen
        batches = [i for i, (m, p, _) in enumerate(seen) if p == "/api/dns/delete-batch"]
        refused = set(seen[batches[0]][2])
        # The zones of the refused batch went again alone, none in another
        # batch (zones whose retry was not due yet may follow in one).
        alone = {z[0] for m, _, z in seen[batches[0] + 1:] if m == "DELETE"}
        assert len(refused) >= 2 and refused <= alone, seen
        assert not [i for i in batches[1:] if refused & set(seen[i][2])], seen
        for d in names:
            assert node.rcode("www." + d, "A") == "REFUSED", d
        nodes = c.whm.call("GET", "/api/dns/cluster/status", expect=200)["nodes"]
        assert nodes[0]["zones"]["deleting"] == 0, nodes
    finally:
        proxy.close()
