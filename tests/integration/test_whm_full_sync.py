"""A node that joins gets every zone through sync-batch; one zone the node
refuses must not hold back the others."""
import time

import cluster as cl  # noqa: F401  (fixtures)

pytest_plugins = ["cluster_fixtures"]


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


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
    assert wait_until(served, 3), c.whm.logs()
    assert strict.rcode("big.full-sync.example.", "SOA") == "REFUSED"

    def reported():
        s = c.whm.status()
        node = [n for n in s["nodes"] if n["nodeId"] == strict.server_id][0]
        return node["zones"]["failing"] == 1 and node["zones"]["in_sync"] == len(small)
    assert wait_until(reported, 10), c.whm.status()
