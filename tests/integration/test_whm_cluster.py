"""The servers routes and the panel's cluster routes, with real meaning:
status and statistics from what the nodes really answered, parallel health
checks, per-node sync results and a bulk re-sync whose progress can be
followed."""

import http.server
import os
import shutil
import signal
import threading
import time

import pytest

import cluster as cl
import harness
from test_status_metrics import parse_metrics

pytest_plugins = ["cluster_fixtures"]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ok, last = predicate()
        if ok:
            return last
        time.sleep(0.05)
    raise AssertionError("after %.1f s still not %s; last: %s" % (timeout, what, last))


def all_online(c):
    def check():
        s = c.whm.status()
        return s["onlineNodes"] == len(c.nodes) and all(
            n["status"] == "online" for n in s["nodes"]), s
    return wait_for(check, 5, "all online")


def test_servers_list_has_the_panel_shape(cluster):
    c = cluster
    servers = c.whm.servers()

    assert sorted(s["id"] for s in servers) == sorted(n.server_id for n in c.nodes)
    for s in servers:
        node = c.node_by_id(s["id"])
        assert set(s) >= {"id", "name", "hostname", "ip", "agent_port", "in_cluster", "status",
                          "pdns_version", "last_seen", "created_at"}
        assert s["name"] == node.name
        assert s["ip"] == "127.0.0.1"
        assert s["agent_port"] == node.api_port
        assert s["in_cluster"] is True
        assert c.whm.call("GET", "/api/dns/servers/%d" % s["id"], expect=200)["name"] == node.name


def test_server_update_changes_only_what_is_sent(cluster):
    c = cluster
    node = c.nodes[1]
    before = c.whm.call("GET", "/api/dns/servers/%d" % node.server_id, expect=200)

    after = c.whm.call("PUT", "/api/dns/servers/%d" % node.server_id,
                       {"hostname": "renamed.yumna.test"}, expect=200)

    assert after["hostname"] == "renamed.yumna.test"
    for k in ("id", "name", "ip", "agent_port", "in_cluster"):
        assert after[k] == before[k]
    # It still receives changes (its secret was kept).
    zid = c.create_zone("after-update.example")
    c.add_record(zid, "www", "A", "192.0.2.1")
    assert node.dig("www.after-update.example.", "A") == ["192.0.2.1"]


def test_cluster_status_reports_every_node_and_its_zones(cluster):
    c = cluster
    for d in ("status-a.example", "status-b.example"):
        c.create_zone(d)

    def in_sync():
        s = c.whm.status()
        return all(n["zones"]["in_sync"] == 2 for n in s["nodes"]), s
    wait_for(in_sync, 5, "2 zones in sync on every node")
    s = all_online(c)

    assert s["totalNodes"] == 3 and s["onlineNodes"] == 3 and s["offlineNodes"] == 0
    assert sorted(n["nodeId"] for n in s["nodes"]) == sorted(n.server_id for n in c.nodes)
    for n in s["nodes"]:
        assert set(n) >= {"nodeId", "hostname", "ip", "status", "dnsStatus", "zones",
                          "lag_seconds", "responseTime", "lastError", "lastCheck"}
        assert n["hostname"] == c.node_by_id(n["nodeId"]).name
        assert n["ip"] == "127.0.0.1"
        assert n["dnsStatus"]["reachable"] is True
        assert n["dnsStatus"]["running"] is True
        assert isinstance(n["dnsStatus"]["version"], str) and n["dnsStatus"]["version"]
        assert n["zones"] == {"in_sync": 2, "behind": 0, "failing": 0, "deleting": 0, "drift": 0}
        assert n["lag_seconds"] == 0
        assert isinstance(n["responseTime"], (int, float)) and n["responseTime"] >= 0
        assert isinstance(n["lastCheck"], int) and abs(n["lastCheck"] - time.time()) < 60


def test_cluster_status_shows_a_node_whose_powerdns_is_down_as_degraded(cluster):
    c = cluster
    all_online(c)
    # The agent restarts a pdns_server that dies (docs/agent.md); told to
    # wait an hour first, it leaves the node degraded long enough to see.
    down = c.nodes[2]
    down.extra_config.update({"pdns-restart-delay-min": 3600000,
                              "pdns-restart-delay-max": 3600000})
    down.write_config()
    down.restart()
    all_online(c)
    down.stop_pdns()

    def degraded():
        s = c.whm.status()
        n = [x for x in s["nodes"] if x["nodeId"] == c.nodes[2].server_id][0]
        return n["status"] == "degraded" and n["dnsStatus"]["running"] is False, s
    s = wait_for(degraded, 10, "degraded")
    assert s["onlineNodes"] == 2
    n = [x for x in s["nodes"] if x["nodeId"] == down.server_id][0]
    assert n["dnsStatus"]["reachable"] is True, n
    assert n["lastError"].startswith("powerdns is not running: "), n


def test_cluster_statistics_counts_zones_and_records(cluster):
    c = cluster
    z1 = c.create_zone("stats-a.example")
    c.create_zone("stats-b.example")
    c.add_record(z1, "www", "A", "192.0.2.1")
    c.add_record(z1, "www", "A", "192.0.2.2")

    s = c.whm.call("GET", "/api/dns/cluster/statistics", expect=200)

    assert s["totalZones"] == 2
    # two default NS per zone, two A (the SOA is the controller's, not a record)
    assert s["totalRecords"] == 6
    assert s["clusterNodes"] == 3
    assert s["onlineNodes"] + s["offlineNodes"] == 3
    assert isinstance(s["averageZonesPerNode"], (int, float))
    assert len(s["nodes"]) == 3


def test_cluster_health_checks_every_node_with_response_times(cluster):
    c = cluster
    r = c.whm.call("GET", "/api/dns/cluster/health", expect=200)

    assert r["totalNodes"] == 3 and r["healthyNodes"] == 3
    assert isinstance(r["timestamp"], int)
    assert sorted(x["nodeId"] for x in r["results"]) == sorted(n.server_id for n in c.nodes)
    for x in r["results"]:
        assert x["healthy"] is True
        assert x["hostname"] == c.node_by_id(x["nodeId"]).name
        assert isinstance(x["responseTime"], (int, float)) and 0 <= x["responseTime"] < 1500
        assert "details" in x


def test_cluster_health_is_parallel_and_bounded_with_a_node_that_hangs(cluster):
    c = cluster
    hung = c.nodes[0]
    harness.sigstop(hung.proc.pid)
    try:
        t = time.monotonic()
        r = c.whm.call("GET", "/api/dns/cluster/health", expect=200)
        took = time.monotonic() - t
    finally:
        hung.proc.send_signal(signal.SIGCONT)

    assert took < 3.0, "health sweep took %.1f s" % took
    assert r["totalNodes"] == 3 and r["healthyNodes"] == 2
    by_id = {x["nodeId"]: x for x in r["results"]}
    assert by_id[hung.server_id]["healthy"] is False
    assert isinstance(by_id[hung.server_id]["error"], str)


class _Impostor(http.server.BaseHTTPRequestHandler):
    """Any server on a node's address that answers JSON 200 to everything."""
    body = b"{}"

    def _answer(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("answer", [b'{"status": "ok"}', b'{"status": "healthy"}',
                                    b'{"status": "healthy", "powerdns": {"running": "yes"}}'])
def test_a_server_that_is_not_a_yumna_agent_is_never_a_running_node(cluster_factory, answer):
    """Health took any JSON 200 from /health for PowerDNS running: a node
    whose address leads to another HTTP server showed online, healthy and up."""
    c = cluster_factory(n=1)
    handler = type("Impostor", (_Impostor,), {"body": answer})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        r = c.whm.post("/api/dns/servers", {"name": "impostor", "ip": "127.0.0.1",
                                            "agent_port": server.server_address[1],
                                            "agent_secret": "i" * 40},
                       params={"check": "false"})
        assert r.status_code == 201, cl.describe(r)
        sid = r.json()["id"]
        c.whm.call("POST", "/api/dns/cluster/nodes/%d" % sid)

        def checked():
            n = {x["nodeId"]: x for x in c.whm.status()["nodes"]}[sid]
            return n["status"] != "unknown", n
        status = wait_for(checked, 10, "checked")
        health = c.whm.call("GET", "/api/dns/cluster/health", expect=200)
        samples, _ = parse_metrics(c.whm.get("/metrics").text)
    finally:
        server.shutdown()
        server.server_close()

    assert status["status"] == "offline", status
    assert status["dnsStatus"]["running"] is False and status["dnsStatus"]["reachable"] is False
    assert "not a yumna-agent" in status["lastError"], status
    assert health["healthyNodes"] == 1, health
    mine = [x for x in health["results"] if x["nodeId"] == sid][0]
    assert mine["healthy"] is False and "not a yumna-agent" in mine["error"], mine
    labels = 'node="impostor",node_id="%d"' % sid
    for name in ("yumna_whm_node_up", "yumna_whm_node_reachable"):
        assert [v for lab, v in samples[name] if labels in lab] == [0.0], name


def wipe(node):
    """The node is rebuilt from scratch: same address and secret, no data.
    Its zones are not checked to be gone once it is back: the controller's
    verification may already be giving them back, as it should."""
    node.stop()
    shutil.rmtree(node.data_dir)
    assert not os.path.exists(node.data_dir)
    node.start()


def test_sync_of_one_zone_reports_every_node(cluster):
    c = cluster
    zid = c.create_zone("sync-one.example")
    c.add_record(zid, "www", "A", "192.0.2.1")

    r = c.whm.call("POST", "/api/dns/cluster/sync/%d" % zid, expect=200)

    assert r["success"] is True
    assert r["zone"].rstrip(".") == "sync-one.example"
    assert r["totalNodes"] == 3 and r["successCount"] == 3
    assert sorted(x["nodeId"] for x in r["results"]) == sorted(n.server_id for n in c.nodes)
    assert all(x["success"] is True for x in r["results"]), r
    assert c.answers("www.sync-one.example.", "A") == {n.name: ["192.0.2.1"] for n in c.nodes}


def test_sync_of_one_zone_with_a_node_down_reports_the_failure(cluster):
    c = cluster
    zid = c.create_zone("sync-down.example")
    down = c.nodes[2]
    down.stop_agent()

    t = time.monotonic()
    r = c.whm.call("POST", "/api/dns/cluster/sync/%d" % zid, expect=200)
    took = time.monotonic() - t

    assert took < 7, "sync took %.1f s" % took
    assert r["totalNodes"] == 3 and r["successCount"] == 2, r
    by_id = {x["nodeId"]: x for x in r["results"]}
    assert by_id[down.server_id]["success"] is False
    assert all(by_id[n.server_id]["success"] is True for n in c.nodes[:2]), r


def test_sync_all_pushes_every_zone_again_and_reports_progress(cluster):
    c = cluster
    domains = ["bulk-%d.example" % i for i in range(12)]
    for d in domains:
        c.create_zone(d, wait=False)
    c.wait_converged(timeout=10)
    node = c.nodes[1]
    wipe(node)

    r = c.whm.post("/api/dns/cluster/sync-all/%d" % node.server_id)
    assert r.status_code == 202, cl.describe(r)
    assert r.json()["success"] is True

    def done():
        p = c.whm.call("GET", "/api/dns/cluster/sync-all/%d" % node.server_id, expect=200)
        return p["done"] is True and p["inSync"] == len(domains), p
    p = wait_for(done, 10, "done")
    assert p["totalZones"] == len(domains)
    assert p["behind"] == 0 and p["failing"] == 0
    c.wait_converged(timeout=5)
    assert sorted(node.zones()) == sorted(d + "." for d in domains)


def test_sync_all_of_a_server_outside_the_cluster_is_refused_not_reported_done(cluster):
    """The progress of a full sync was derived from the live zone count, so
    an unknown server or one outside the cluster read as in sync and done,
    and POST answered 202 for a sync no worker would ever make."""
    c = cluster
    for i in range(3):
        c.create_zone("outside-%d.example" % i, wait=False)
    outsider = c.add_node("ns4", join=False)
    path = "/api/dns/cluster/sync-all/%d"

    for method in ("GET", "POST"):
        r = c.whm.request(method, path % 999999)
        assert r.status_code == 404, cl.describe(r)
        assert r.json()["error"] == "no such server", r.text
        r = c.whm.request(method, path % outsider.server_id)
        assert r.status_code == 409, cl.describe(r)
        assert "'ns4' is not a cluster node" in r.json()["error"], r.text
    assert outsider.zones() == {}
    # A node that left keeps rows for the zones it held: not a sync either.
    left = c.nodes[0]
    c.leave(left)
    r = c.whm.get(path % left.server_id)
    assert r.status_code == 409, cl.describe(r)

    c.join(outsider)

    def done():
        p = c.whm.call("GET", path % outsider.server_id, expect=200)
        return p["done"] is True, p
    p = wait_for(done, 10, "done")
    assert (p["totalZones"], p["inSync"], p["behind"]) == (3, 3, 0), p
    assert len(outsider.zones()) == 3


def test_server_delete_removes_it_from_the_cluster(cluster):
    c = cluster
    node = c.nodes[2]
    r = c.whm.delete("/api/dns/servers/%d" % node.server_id)
    assert r.status_code == 200, cl.describe(r)

    assert node.server_id not in [s["id"] for s in c.whm.servers()]
    assert c.whm.status()["totalNodes"] == 2
    r = c.whm.get("/api/dns/servers/%d" % node.server_id)
    assert r.status_code == 404, cl.describe(r)
    zid = c.create_zone("after-server-delete.example")
    answer = c.add_record(zid, "www", "A", "192.0.2.1")
    assert answer["synced"] is True and len(answer["nodes"]) == 2, answer


def _server_names(c):
    return sorted(s["name"] for s in c.whm.servers())


def test_a_server_with_a_wrong_secret_or_no_agent_is_refused_and_nothing_is_registered(cluster):
    c = cluster
    node = c.new_node("ns4")
    node.start()
    before = _server_names(c)
    body = {"name": "ns4", "ip": node.address, "agent_port": node.api_port,
            "agent_secret": "W" * 40}

    r = c.whm.post("/api/dns/servers", body)

    assert r.status_code == 422, cl.describe(r)
    msg = r.json()["error"]
    assert "refused" in msg and "agent_secret" in msg and "401" in msg, msg
    assert "W" * 40 not in r.text and node.secret not in r.text
    # Nothing listens there: 502, with what was tried.
    r = c.whm.post("/api/dns/servers", dict(body, agent_secret=node.secret,
                                            agent_port=harness.free_port()))
    assert r.status_code == 502, cl.describe(r)
    assert "did not answer" in r.json()["error"], r.text
    assert _server_names(c) == before
    # The right secret: registered, and it works.
    r = c.whm.post("/api/dns/servers", dict(body, agent_secret=node.secret))
    assert r.status_code == 201, cl.describe(r)
    # ?check=false registers an agent that is not there (yet).
    r = c.whm.post("/api/dns/servers?check=false", dict(body, name="later", agent_port=1))
    assert r.status_code == 201, cl.describe(r)
    r = c.whm.post("/api/dns/servers?check=maybe", dict(body, name="other"))
    assert r.status_code == 422, cl.describe(r)
    assert _server_names(c) == sorted(before + ["ns4", "later"])


def test_a_server_whose_powerdns_is_down_is_refused_with_the_agents_reason(cluster_factory):
    c = cluster_factory(n=1, node_config={"pdns-restart-delay-min": 3600000,
                                          "pdns-restart-delay-max": 3600000})
    node = c.new_node("ns2")
    node.start()
    node.stop_pdns()
    # The agent notices on its next check of PowerDNS.
    wait_for(lambda: (node.get("/health").status_code == 503, None), 10, "noticed")

    r = c.whm.post("/api/dns/servers", {"name": "ns2", "ip": node.address,
                                        "agent_port": node.api_port,
                                        "agent_secret": node.secret})

    assert r.status_code == 502, cl.describe(r)
    assert "PowerDNS is not running" in r.json()["error"], r.text
    assert node.secret not in r.text
    assert "ns2" not in _server_names(c)


def test_a_server_update_tries_a_new_address_port_or_secret_first(cluster):
    c = cluster
    node = c.nodes[1]
    path = "/api/dns/servers/%d" % node.server_id
    # What an update may change; the health poll owns the rest (status,
    # last_seen, pdns_version) and may write it at any moment.
    config = ("name", "hostname", "ip", "agent_port", "in_cluster", "created_at")

    def settings():
        s = c.whm.call("GET", path, expect=200)
        return {k: s[k] for k in config}

    before = settings()

    r = c.whm.put(path, {"agent_secret": "X" * 40})
    assert r.status_code == 422, cl.describe(r)
    r = c.whm.put(path, {"agent_port": c.nodes[0].api_port})  # another agent, other secret
    assert r.status_code == 422, cl.describe(r)
    r = c.whm.put(path, {"ip": "127.0.0.2", "agent_port": 1})
    assert r.status_code == 502, cl.describe(r)
    r = c.whm.put(path, {"name": c.nodes[0].name})
    assert r.status_code == 409, cl.describe(r)
    assert settings() == before
    # The node still receives changes: its secret and address were kept.
    zid = c.create_zone("kept-secret.example")
    c.add_record(zid, "www", "A", "192.0.2.9")
    assert node.dig("www.kept-secret.example.", "A") == ["192.0.2.9"]
    # Unchecked on request; a rename alone needs no agent.
    after = c.whm.call("PUT", path + "?check=false", {"agent_port": 1}, expect=200)
    assert after["agent_port"] == 1
    c.whm.call("PUT", path, {"agent_port": node.api_port, "name": "renamed"}, expect=200)


def test_sync_counts_are_of_live_zones_and_deletes_are_counted_apart(cluster):
    """Deleted zones are not zones to sync: nodes list, the sync-all progress,
    the dashboard's totals (which add up the status) and the metrics count
    live zones; the deletes a node owes are 'deleting'."""
    c = cluster
    ids = [c.create_zone("count-%d.example" % i) for i in range(3)]
    down = c.nodes[2]
    down.stop_agent()
    for zid in ids[1:]:
        c.delete_zone(zid, wait=False)

    def zones_of(node):
        nodes = {n["nodeId"]: n for n in c.whm.status()["nodes"]}
        return nodes[node.server_id]["zones"]

    wait_for(lambda: (zones_of(c.nodes[0]).get("deleting", 0) == 0 and
                      zones_of(c.nodes[0])["in_sync"] == 1, zones_of(c.nodes[0])), 10, "synced")
    z = zones_of(down)
    assert (z["in_sync"], z["behind"], z.get("deleting")) == (1, 0, 2), z
    assert z["failing"] == 0, z
    status = c.whm.status()
    assert sum(n["zones"]["behind"] for n in status["nodes"]) == 0, status

    path = "/api/dns/cluster/sync-all/%d" % down.server_id
    started = c.whm.call("POST", path, expect=202)
    p = c.whm.call("GET", path, expect=200)
    assert started["totalZones"] == 1 and p["totalZones"] == 1, (started, p)
    assert p["inSync"] + p["behind"] == 1 and p["deleting"] == 2 and p["done"] is False, p
    metrics = c.whm.get("/metrics").text
    line = 'yumna_whm_node_zones{node="ns3",node_id="%d",state="%s"}'
    assert line % (down.server_id, "behind") + " 1" in metrics, metrics
    assert line % (down.server_id, "deleting") + " 2" in metrics

    down.start()
    p = wait_for(lambda: (c.whm.call("GET", path, expect=200)["done"],
                          c.whm.call("GET", path, expect=200)), 15, "done")
    assert (p["totalZones"], p["inSync"], p["deleting"]) == (1, 1, 0), p
