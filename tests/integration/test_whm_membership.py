"""Cluster membership: a node removed stops receiving changes (and with
?purge=1 stops serving the zones); a node added receives every zone by
itself; a server removed from the registry has its zones deleted unless
the operator chose to keep them (and is then told they are frozen)."""

import threading
import time

import cluster as cl
import harness

pytest_plugins = ["cluster_fixtures"]


def test_removed_node_stops_receiving_changes(cluster):
    c = cluster
    zid = c.create_zone("leaving.example")
    c.add_record(zid, "www", "A", "192.0.2.1")
    gone, staying = c.nodes[2], c.nodes[:2]

    answer = c.leave(gone)

    assert answer["success"] is True
    assert answer["purged"] is False and answer["zonesKept"] == 1, answer
    assert "no longer be updated" in answer["warning"], answer
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


def test_a_join_during_a_purge_waits_for_it_and_the_node_gets_every_zone(cluster):
    """A client that gives up on a slow removal with purge and joins the
    node again: the join must not run between the purge's deletes, or the
    purge deletes what the join's full sync pushed and forgets that it did."""
    c = cluster
    names = ["p%03d.purge-race.example" % i for i in range(300)]
    for name in names:
        c.create_zone(name, wait=False)
    c.wait_converged(timeout=60)
    node = c.nodes[1]
    answers = {}

    def leave():
        answers["leave"] = c.leave(node, purge=True)

    t = threading.Thread(target=leave)
    t.start()
    # the purge deletes 300 zones one by one: join while it runs
    harness.wait_until(lambda: len(node.zones()) != len(names), 10, interval=0.005)
    answers["join"] = c.join(node)
    t.join(60)

    assert answers["leave"]["zonesDeleted"] >= 300, answers["leave"]
    assert answers["join"]["success"] is True
    c.wait_converged(timeout=30)
    assert set(n + "." for n in names) <= set(node.zones())
    # and the controller counts them in sync there (its rows for the node
    # were not forgotten): the status follows the acknowledgements
    want = len(c.whm.zones())

    def status():
        return {n["nodeId"]: n for n in c.whm.status()["nodes"]}
    assert harness.wait_until(lambda: status()[node.server_id]["zones"]["in_sync"] == want, 30,
                              interval=0.2), status()


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


def _server_ids(c):
    return [s["id"] for s in c.whm.servers()]


def test_a_server_removed_from_the_registry_has_its_zones_deleted_first(cluster):
    c = cluster
    for d in ("gone-a.example", "gone-b.example"):
        c.create_zone(d)
    gone = c.nodes[2]

    r = c.whm.delete("/api/dns/servers/%d" % gone.server_id)

    assert r.status_code == 200, cl.describe(r)
    answer = r.json()
    assert answer["purged"] is True and answer["zonesDeleted"] == 2, answer
    assert "warning" not in answer
    assert gone.zones() == {}
    assert gone.rcode("gone-a.example.", "SOA") == "REFUSED"
    assert gone.server_id not in _server_ids(c)
    # The audit log says what happened, as for every server action.
    entries = c.whm.call("GET", "/api/dns/audit", params={"limit": 20}, expect=200)["entries"]
    mine = [e["action"] for e in entries if "'%s'" % gone.name in (e["summary"] or "")]
    assert mine[:3] == ["server.delete", "node.purge", "node.leave"], entries
    purge = next(e for e in entries if e["action"] == "node.purge")
    assert purge["summary"].startswith("2 zones deleted from server"), purge
    for n in c.nodes[:2]:
        assert sorted(n.zones()) == ["gone-a.example.", "gone-b.example."]


def test_a_server_removed_keeping_its_zones_is_warned_about_frozen_data(cluster):
    c = cluster
    zid = c.create_zone("frozen.example")
    c.add_record(zid, "www", "A", "192.0.2.1")
    kept = c.nodes[2]

    r = c.whm.delete("/api/dns/servers/%d" % kept.server_id, params={"purge": "false"})

    assert r.status_code == 200, cl.describe(r)
    answer = r.json()
    assert answer["purged"] is False and answer["zonesKept"] == 1, answer
    assert "no longer be updated" in answer["warning"] and "'ns3'" in answer["warning"]
    assert kept.server_id not in _server_ids(c)
    c.add_record(zid, "www", "A", "192.0.2.2")
    assert kept.dig("www.frozen.example.", "A") == ["192.0.2.1"]


def test_a_server_whose_agent_is_down_is_not_removed_unless_forced(cluster):
    c = cluster
    zid = c.create_zone("unreachable.example")
    c.add_record(zid, "www", "A", "192.0.2.1")
    down = c.nodes[1]
    down.stop_agent()           # PowerDNS goes on serving what it has

    r = c.whm.delete("/api/dns/servers/%d" % down.server_id)

    assert r.status_code == 409, cl.describe(r)
    msg = r.json()["error"]
    assert "cannot delete its zones" in msg and "Nothing was changed" in msg, msg
    assert "force" in msg and "purge=false" in msg
    servers = {s["id"]: s for s in c.whm.servers()}
    assert servers[down.server_id]["in_cluster"] is True
    # Leaving with a purge is refused the same way.
    r = c.whm.delete("/api/dns/cluster/nodes/%d" % down.server_id, params={"purge": "1"})
    assert r.status_code == 409, cl.describe(r)
    assert {s["id"]: s for s in c.whm.servers()}[down.server_id]["in_cluster"] is True

    r = c.whm.delete("/api/dns/servers/%d" % down.server_id, params={"force": "true"})

    assert r.status_code == 200, cl.describe(r)
    answer = r.json()
    assert answer["purged"] is False and answer["zonesKept"] == 1, answer
    assert "could not be deleted" in answer["warning"], answer
    assert down.server_id not in _server_ids(c)
    assert down.dig("www.unreachable.example.", "A") == ["192.0.2.1"]


def test_a_node_that_left_keeping_its_zones_has_them_deleted_when_removed(cluster):
    c = cluster
    c.create_zone("left-then-removed.example")
    node = c.nodes[0]
    c.leave(node)
    assert sorted(node.zones()) == ["left-then-removed.example."]

    r = c.whm.delete("/api/dns/servers/%d" % node.server_id)

    assert r.status_code == 200, cl.describe(r)
    assert r.json()["purged"] is True and r.json()["zonesDeleted"] == 1, r.json()
    assert node.zones() == {}


def test_bad_purge_and_force_arguments_are_422_and_change_nothing(cluster):
    c = cluster
    node = c.nodes[0]
    for q in ({"purge": "maybe"}, {"force": "2"}):
        for path in ("/api/dns/servers/%d", "/api/dns/cluster/nodes/%d"):
            r = c.whm.delete(path % node.server_id, params=q)
            assert r.status_code == 422, cl.describe(r)
    assert sorted(_server_ids(c)) == sorted(n.server_id for n in c.nodes)
    assert c.whm.status()["totalNodes"] == 3


def _node_status(c, node_or_id):
    sid = getattr(node_or_id, "server_id", node_or_id)
    return {n["nodeId"]: n for n in c.whm.status()["nodes"]}[sid]


def test_a_node_whose_agent_port_and_secret_change_keeps_receiving_changes(cluster):
    """PUT /api/dns/servers/:id with a new port and secret: the controller
    pushes with them at once, without a restart (its worker for the node
    used to keep the old ones: the node stayed offline)."""
    c = cluster
    c.create_zone("before-move.example")
    node = c.nodes[1]
    old_secret = node.secret
    node.stop_agent()               # PowerDNS goes on serving
    node.secret = "rotated-" + "s" * 40
    node.api_port = harness.free_port()
    node.write_config()
    node.start()

    c.whm.call("PUT", "/api/dns/servers/%d" % node.server_id,
               {"agent_port": node.api_port, "agent_secret": node.secret}, expect=200)

    answer = c.create_zone_answer("after-move.example")
    assert answer["synced"] is True, answer
    assert node.server_id in [n["nodeId"] for n in answer["nodes"] if n["success"]], answer
    assert "after-move.example." in node.zones()
    assert _node_status(c, node)["status"] == "online"
    logs = c.whm.logs(2000)
    assert node.secret not in logs and old_secret not in logs

    # A new name: the node's metrics and the controller's log say it (the
    # worker kept the old one until the controller restarted).
    c.whm.call("PUT", "/api/dns/servers/%d" % node.server_id, {"name": "renamed-ns"},
               expect=200)
    up = 'yumna_whm_node_up{node="renamed-ns",node_id="%d"} 1' % node.server_id
    # the new worker's first health check
    harness.wait_until(lambda: up in c.whm.get("/metrics").text, 10, interval=0.1)
    text = c.whm.get("/metrics").text
    assert up in text, text
    assert 'node="%s"' % node.name not in text
    assert "node 'renamed-ns'" in c.whm.logs(2000)


def test_a_node_moved_to_another_machine_gets_every_zone_there(cluster):
    """The server's address and secret now lead to another machine, with
    nothing on it: it receives every committed zone by itself, deletes
    included, and takes part in the next change."""
    c = cluster
    zid = c.create_zone("moved-a.example")
    c.add_record(zid, "www", "A", "192.0.2.11")
    c.create_zone("moved-b.example")
    c.delete_zone(c.create_zone("moved-deleted.example"))
    old = c.nodes[1]
    fresh = c.new_node("ns2-new")   # another agent and PowerDNS, empty
    fresh.start()
    assert fresh.zones() == {}

    c.whm.call("PUT", "/api/dns/servers/%d" % old.server_id,
               {"agent_port": fresh.api_port, "agent_secret": fresh.secret}, expect=200)

    c.wait_converged(timeout=15, nodes=[c.nodes[0], fresh])
    assert fresh.dig("www.moved-a.example.", "A") == ["192.0.2.11"]
    assert fresh.rcode("moved-deleted.example.", "SOA") == "REFUSED"
    answer = c.add_record(zid, "next", "A", "192.0.2.12")
    assert answer["synced"] is True, answer
    assert fresh.dig("next.moved-a.example.", "A") == ["192.0.2.12"]
    # The old machine is no longer the node: it gets nothing more.
    assert old.rcode("next.moved-a.example.", "A") == "NXDOMAIN"
    status = _node_status(c, old.server_id)
    assert status["status"] == "online" and status["zones"]["behind"] == 0, status
    kinds = [e["kind"] for e in c.whm.call("GET", "/api/dns/cluster/events")["events"]
             if e.get("node") == old.name]
    assert "node.moved" in kinds and "node.left" not in kinds, kinds
