"""A node that joins gets every zone through sync-batch; one zone the node
refuses must not hold back the others."""
import pytest

import cluster as cl  # noqa: F401  (fixtures)
import harness

pytest_plugins = ["cluster_fixtures"]


def test_zone_a_joining_node_refuses_does_not_hold_back_the_others(cluster_factory):
    # Slow retries: the refused zone must not make the others wait for one.
    c = cluster_factory(n=1, whm_config={"retry-min-ms": 8000, "retry-max-ms": 16000})
    small = [c.create_zone("small%d.full-sync.example" % i) for i in range(24)]
    big = c.create_zone("big.full-sync.example")
    for i in range(6):  # 2 NS + 6 A + SOA: over the strict node's limit of 5
        c.add_record(big, "h%d" % i, "A", "192.0.2.%d" % (i + 1))

    strict = c.add_node("strict", config={"max-zone-records": 5})

    served = lambda: all(  # noqa: E731
        strict.rcode("small%d.full-sync.example." % i, "SOA") == "NOERROR"
        for i in range(len(small)))
    assert harness.wait_until(served, 3), c.whm.logs()
    assert strict.rcode("big.full-sync.example.", "SOA") == "REFUSED"

    def reported():
        s = c.whm.status()
        node = [n for n in s["nodes"] if n["nodeId"] == strict.server_id][0]
        return node["zones"]["failing"] == 1 and node["zones"]["in_sync"] == len(small)
    assert harness.wait_until(reported, 10), c.whm.status()


def deletes_pushed(c, node):
    """(single deletes, delete-batch requests) the controller sent 'node'."""
    from test_metrics import value, whm_metrics
    samples, _ = whm_metrics(c)
    return tuple(value(samples, "yumna_whm_pushes_total", node=node.name, kind=k)
                 for k in ("delete", "delete_batch"))


@pytest.mark.parametrize("cap", [None, 50], ids=["batches", "node-cap-below-the-batch"])
def test_a_node_catches_up_on_many_deletes_in_few_requests(cluster_factory, cap):
    """Zones deleted while a node was away reach it as delete-batch
    requests of up to 100 zones (one transaction and purge each), not one
    request per zone; every zone is gone from it afterwards. A node whose
    max-zones-per-batch is below that answers 413: one by one then."""
    # Slow retries: what the node missed waits for the full sync below.
    c = cluster_factory(n=1, whm_config={"retry-min-ms": 60000, "retry-max-ms": 60000})
    away = c.add_node("away", config={"max-zones-per-batch": cap} if cap else None)
    other = c.nodes[0]
    names = ["gone%d.mass.example" % i for i in range(150)]
    ids = [c.create_zone(n, wait=False) for n in names]
    c.create_zone("stays.mass.example")
    c.wait_converged(timeout=10)
    away.stop_agent()
    for zid in ids:
        c.delete_zone(zid, wait=False)
    c.wait_converged(timeout=10, nodes=[other])
    assert away.rcode(names[0] + ".", "SOA") == "NOERROR"   # its PowerDNS still serves
    before = deletes_pushed(c, away)

    away.start()
    r = c.whm.request("POST", "/api/dns/cluster/sync-all/%d" % away.server_id)
    assert r.status_code in (200, 202), r.text

    c.wait_converged(timeout=30)
    assert all(away.rcode(n + ".", "SOA") == "REFUSED" for n in names)
    assert away.rcode("stays.mass.example.", "SOA") == "NOERROR"
    assert not [z for z in away.zones() if z.startswith("gone")]
    single, batches = (a - b for a, b in zip(deletes_pushed(c, away), before))
    if cap:
        assert single >= 150 - 2 and batches >= 1, (single, batches)
    else:
        assert batches >= 2 and single <= 2, (single, batches)
