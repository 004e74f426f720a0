"""Cluster membership: a node removed stops receiving changes (and with
?purge=1 stops serving the zones); a node added receives every zone by
itself."""

import time

import cluster as cl

pytest_plugins = ["cluster_fixtures"]


def test_removed_node_stops_receiving_changes(cluster):
    c = cluster
    zid = c.create_zone("leaving.example")
    c.add_record(zid, "www", "A", "192.0.2.1")
    gone, staying = c.nodes[2], c.nodes[:2]

    answer = c.leave(gone)

    assert answer["success"] is True
    servers = {s["id"]: s for s in c.whm.servers()}
    assert servers[gone.server_id]["in_cluster"] is False
    status = c.whm.status()
    assert gone.server_id not in [n["nodeId"] for n in status["nodes"]]
    change = c.add_record(zid, "new", "A", "192.0.2.2")
    assert sorted(n["nodeId"] for n in change["nodes"]) == sorted(n.server_id for n in staying)
    assert change["synced"] is True, change
    c.create_zone("after-leave.example")
    # reconcile-interval is 2 s: wait past it, the change must never appear there.
    time.sleep(3)
    assert gone.rcode("new.leaving.example.", "A") == "NXDOMAIN"
    assert gone.rcode("after-leave.example.", "SOA") == "REFUSED"
    # Without purge, it keeps what it had.
    assert gone.dig("www.leaving.example.", "A") == ["192.0.2.1"]
    assert c.answers("new.leaving.example.", "A", nodes=staying) == {
        n.name: ["192.0.2.2"] for n in staying}


def test_removed_node_with_purge_stops_serving_every_zone(cluster):
    c = cluster
    for d in ("purge-a.example", "purge-b.example"):
        c.create_zone(d)
    gone = c.nodes[0]

    answer = c.leave(gone, purge=True)

    assert answer["success"] is True
    assert answer.get("zonesDeleted") == 2, answer
    c.wait_rcode("purge-a.example.", "SOA", "REFUSED", timeout=5, nodes=[gone])
    c.wait_rcode("purge-b.example.", "SOA", "REFUSED", timeout=5, nodes=[gone])
    assert gone.zones() == {}
    for n in c.nodes[1:]:
        assert sorted(n.zones()) == ["purge-a.example.", "purge-b.example."]


def test_added_node_receives_every_existing_zone_by_itself(cluster):
    c = cluster
    expected = {}
    for i in range(5):
        zid = c.create_zone("existing-%d.example" % i)
        c.add_record(zid, "www", "A", "192.0.2.%d" % (i + 1))
        expected["www.existing-%d.example." % i] = ["192.0.2.%d" % (i + 1)]
    gone = c.create_zone("deleted-before.example")
    c.delete_zone(gone)

    late = c.add_node("ns4")

    c.wait_converged(timeout=10, nodes=[late])
    for name, rdata in expected.items():
        assert late.dig(name, "A") == rdata
    assert set(c.soa_serials("existing-0.example.").values()) == {
        c.whm.zones()["existing-0.example."]["serial"]}
    assert late.rcode("deleted-before.example.", "SOA") == "REFUSED"
    # And it takes part in the next change's ?wait=all.
    answer = c.add_record(c.whm.zones()["existing-0.example."]["id"], "next", "A", "192.0.2.50")
    assert late.server_id in [n["nodeId"] for n in answer["nodes"]], answer
    assert late.dig("next.existing-0.example.", "A") == ["192.0.2.50"]


def test_node_that_rejoins_catches_up(cluster):
    c = cluster
    zid = c.create_zone("rejoin.example")
    node = c.nodes[1]
    c.leave(node)
    c.add_record(zid, "while-out", "A", "192.0.2.3")
    time.sleep(0.5)
    assert node.rcode("while-out.rejoin.example.", "A") == "NXDOMAIN"

    c.join(node)

    c.wait_all_nodes("while-out.rejoin.example.", "A", ["192.0.2.3"], timeout=10)
    c.wait_converged(timeout=5)


def test_registered_but_not_joined_server_receives_nothing(cluster):
    c = cluster
    c.create_zone("not-joined.example")
    outsider = c.add_node("ns4", join=False)

    time.sleep(3)   # past a reconcile-interval

    assert outsider.zones() == {}
    servers = {s["id"]: s for s in c.whm.servers()}
    assert servers[outsider.server_id]["in_cluster"] is False
    assert c.whm.status()["totalNodes"] == 3
    r = c.whm.get("/api/dns/servers/%d" % outsider.server_id)
    assert r.status_code == 200, cl.describe(r)


def test_nodes_leaving_and_joining_while_metrics_and_status_are_read(cluster):
    """Readers of the node list (metrics, status) never meet a node that is
    being stopped, and two membership changes at once do not stop one node
    twice (under `make check-asan` any use after free fails this test)."""
    import threading

    import requests

    c = cluster
    stop = threading.Event()
    failures = []

    def read():
        s = requests.Session()
        s.headers["Authorization"] = "Bearer " + c.whm.admin_token
        while not stop.is_set():
            for path in ("/metrics", "/api/dns/cluster/status"):
                r = s.get(c.whm.url + path, timeout=10)
                if r.status_code != 200:
                    failures.append((path, r.status_code))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for _ in range(10):
            both = [threading.Thread(target=c.leave, args=(n,)) for n in c.nodes[1:]]
            for t in both:
                t.start()
            for t in both:
                t.join()
            for n in c.nodes[1:]:
                c.join(n)
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert failures == []
    assert c.whm.running()
    status = c.whm.status()
    assert sorted(n["nodeId"] for n in status["nodes"]) == sorted(n.server_id for n in c.nodes)
