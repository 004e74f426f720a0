"""Per-node target health of traffic steering: each node's agent reads what
its own PowerDNS considers up (a LUA TXT record the controller pushes beside
the steered RRset, asked over loopback) and the controller shows it per node,
per RRset, per target at GET /api/dns/:id/policies/health."""

import re
import socket
import threading
import time

import dns.message
import dns.query
import pytest

import harness
from cluster_fixtures import ClusterFactory
from test_dashboard import browser  # noqa: F401 (the dashboard tests' Chromium)

pytest_plugins = ["cluster_fixtures"]

CHECK_INTERVAL = 1
# a state change is seen within two check intervals; the margin covers
# the controller's and the agents' round trips on a loaded machine
WITHIN = 2 * CHECK_INTERVAL + 3


class Listener:
    """A TCP listener on 127.0.0.1 that accepts (and closes) every
    connection, so PowerDNS's checks never fill its backlog."""

    def __init__(self, port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
                conn.close()
            except OSError:
                return

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def health_cluster(tmp_path_factory, request):
    """Two nodes with one-second health checks."""
    base = tmp_path_factory.mktemp(re.sub(r"\W", "_", request.module.__name__))
    f = ClusterFactory(base)
    try:
        yield f(n=2, node_config={"lua-health-checks-interval": CHECK_INTERVAL})
    finally:
        f.close()


def health(c, zid):
    return c.whm.call("GET", "/api/dns/%d/policies/health" % zid, expect=200)


def states(c, zid, name, rtype="A"):
    """{node name: {target: state}} of RRset name/rtype."""
    h = health(c, zid)
    rr = [r for r in h["rrsets"] if r["name"] == name and r["type"] == rtype]
    assert len(rr) == 1, h
    return {node: v["targets"] for node, v in rr[0]["health"].items()}, rr[0], h


def wait_states(c, zid, name, want, timeout):
    """Until every node reports 'want' ({target: state}); the last view."""
    deadline = time.monotonic() + timeout
    while True:
        got, rr, h = states(c, zid, name)
        if set(got) == {n.name for n in c.nodes} and all(v == want for v in got.values()):
            return rr, h
        if time.monotonic() > deadline:
            raise AssertionError("wanted %r on every node, got %r" % (want, h))
        time.sleep(0.3)


def set_policy(c, zid, name, rtype, policy, expect=200):
    return c.whm.call("PUT", "/api/dns/%d/policies" % zid,
                      {"name": name, "type": rtype, "policy": policy}, expect=expect)


def test_failover_target_health_per_node(health_cluster):
    c = health_cluster
    zid = c.create_zone("steer-health.example")
    c.add_record(zid, "static", "A", "192.0.2.1")
    listener = Listener()
    try:
        set_policy(c, zid, "www", "A", {
            "type": "failover", "targets": ["127.0.0.1", "127.0.0.2"],
            "check": {"tcp_port": listener.port}})
        c.wait_all_nodes("www.steer-health.example.", "A", ["127.0.0.1"], timeout=15)
        rr, h = wait_states(c, zid, "www", {"127.0.0.1": "up", "127.0.0.2": "down"}, 15)
        assert rr["policy_type"] == "failover" and rr["checked"] is True
        assert rr["targets"] == ["127.0.0.1", "127.0.0.2"]
        assert sorted(n["name"] for n in h["nodes"]) == sorted(n.name for n in c.nodes)
        for n in h["nodes"]:
            assert n["reachable"] is True and n["read_at"] >= time.time() - 60, n
        for v in rr["health"].values():
            assert v["state"] == "read" and v["read_at"] >= time.time() - 60, v
        # the steered answer and the health the API shows are one view
        listener.close()
        wait_states(c, zid, "www", {"127.0.0.1": "down", "127.0.0.2": "down"}, WITHIN)
        listener = Listener(listener.port)
        wait_states(c, zid, "www", {"127.0.0.1": "up", "127.0.0.2": "down"}, WITHIN)
    finally:
        listener.close()


def test_health_of_many_targets_is_read_whole(health_cluster):
    """32 IPv6 targets: the health record's answer is larger than PowerDNS
    sends over UDP (it truncates at 1,232 bytes), so the agent asks again
    over TCP and every node reports every target."""
    c = health_cluster
    zid = c.create_zone("steer-health-many.example")
    targets = ["2001:db8:ffff:ffff:ffff:ffff:ffff:%x" % i for i in range(1, 33)]
    set_policy(c, zid, "many", "AAAA", {"type": "failover", "targets": targets,
                                        "check": {"tcp_port": 9}})
    deadline = time.monotonic() + 15
    while True:
        rr = [r for r in health(c, zid)["rrsets"] if r["name"] == "many"]
        views = rr[0]["health"] if rr else {}
        if len(views) == len(c.nodes) and all(
                v.get("state") == "read" and len(v.get("targets", {})) == 32
                for v in views.values()):
            break
        assert time.monotonic() < deadline, rr
        time.sleep(0.3)


def test_health_record_answers_only_the_node_itself(health_cluster):
    c = health_cluster
    zid = c.create_zone("steer-health-who.example")
    set_policy(c, zid, "w", "A", {"type": "failover", "targets": ["192.0.2.7"],
                                  "check": {"tcp_port": 9}})
    node = c.nodes[0]
    q = dns.message.make_query("_yumna-health.w.steer-health-who.example.", "TXT")

    def asked():
        r = dns.query.udp(q, node.address, port=node.dns_port, timeout=3)
        return [b"".join(x.strings).decode() for rr in r.answer for x in rr]
    texts = harness.wait_until(asked, 10, interval=0.2)
    # the node itself (127.0.0.1) reads the states
    assert texts and all(re.fullmatch(r"A 192\.0\.2\.7 (up|down)", t) for t in texts), texts
    # anyone else (here 127.0.0.2, which is not the node's own address)
    # learns nothing
    r = dns.query.udp(q, node.address, port=node.dns_port, timeout=3, source="127.0.0.2")
    assert [b"".join(x.strings).decode() for rr in r.answer for x in rr] == ["refused"]


def test_unchecked_policy_and_bad_zone(health_cluster, tmp_path):
    c = health_cluster
    zid = c.create_zone("steer-health-w.example")
    set_policy(c, zid, "w", "A", {"type": "weighted",
                                  "targets": [{"target": "192.0.2.1", "weight": 1}]})
    h = health(c, zid)
    rr = [r for r in h["rrsets"] if r["name"] == "w"][0]
    assert rr["checked"] is False and rr["targets"] == []
    assert all(v is None for v in rr["health"].values()), h
    from test_yumnactl import Ctl
    lines = Ctl(c, tmp_path).run("policy", "health", "steer-health-w.example").stdout
    assert "w A - - unchecked" in lines.splitlines(), lines
    r = c.whm.request("GET", "/api/dns/999999/policies/health")
    assert r.status_code == 404 and r.json()["error"]


def test_dashboard_shows_policies_health_and_refuses_a_bad_policy(health_cluster, browser,
                                                                   tmp_path):
    from selenium.webdriver.common.by import By
    from test_dashboard import (accept_dialog, click_in, click_subtab, click_zone,
                                console_errors, fill, screenshot, show_view, sign_in_as,
                                wait_for)
    c = health_cluster
    domain = "steer-ui.example"
    zid = c.create_zone(domain)
    listener = Listener()
    try:
        set_policy(c, zid, "www", "A", {
            "type": "failover", "targets": ["127.0.0.1", "127.0.0.2"],
            "check": {"tcp_port": listener.port}})
        sign_in_as(browser, c.whm, c.whm.admin_token, "admin")
        show_view(browser, "zones")
        click_zone(browser, domain)
        click_subtab(browser, "policies")
        row = '#policies tr[data-policy="www A"]'
        summary = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, row).find_elements(
            By.TAG_NAME, "td")[2].text, what="the policy row")
        assert "failover" in summary and "127.0.0.1, 127.0.0.2" in summary, summary
        assert "TCP port %d" % listener.port in summary, summary

        def shown(d):
            out = {}
            for line in d.find_elements(By.CSS_SELECTOR, row + " .health-node"):
                out[line.get_attribute("data-node")] = {
                    t.get_attribute("data-target"): t.get_attribute("data-state")
                    for t in line.find_elements(By.CSS_SELECTOR, ".target")}
            return out
        want = {n.name: {"127.0.0.1": "up", "127.0.0.2": "down"} for n in c.nodes}
        wait_for(browser, lambda d: shown(d) == want, timeout=20, what="per-node health")
        # the page reads the health again on its own: the target goes down
        listener.close()
        want = {n.name: {"127.0.0.1": "down", "127.0.0.2": "down"} for n in c.nodes}
        wait_for(browser, lambda d: shown(d) == want, timeout=WITHIN + 4,
                 what="the target down on every node")
        screenshot(browser, tmp_path, "policies")

        # a bad policy: the controller's message beside the JSON, nothing changed
        before = (c.whm.zone(zid)["version"], c.whm.call("GET", "/api/dns/%d/policies" % zid))
        fill(browser, "pol-name", "www")
        fill(browser, "pol-type", "A")
        fill(browser, "pol-json", '{"type": "failover", "targets": ["not-an-address"], '
                                  '"check": {"tcp_port": 80}}')
        browser.find_element(By.ID, "pol-save").click()
        err = wait_for(browser, lambda d: d.find_element(By.ID, "pol-json-err").text,
                       what="the error beside the policy field")
        assert "not an IPv4 address" in err, err
        assert (c.whm.zone(zid)["version"],
                c.whm.call("GET", "/api/dns/%d/policies" % zid)) == before
        # text that is not JSON never reaches the controller
        fill(browser, "pol-json", "{not json")
        browser.find_element(By.ID, "pol-save").click()
        wait_for(browser, lambda d: "not JSON" in d.find_element(By.ID, "pol-json-err").text,
                 what="the JSON error")
        assert c.whm.zone(zid)["version"] == before[0]
        # a good one through the same editor is set and listed
        fill(browser, "pol-name", "w2")
        fill(browser, "pol-json", '{"type": "weighted", "targets": '
                                  '[{"target": "192.0.2.5", "weight": 1}]}')
        browser.find_element(By.ID, "pol-save").click()
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR,
                                                    '#policies tr[data-policy="w2 A"]'),
                 what="the new policy row")
        c.wait_all_nodes("w2." + domain + ".", "A", ["192.0.2.5"])
        # and deleted from its row, after a confirmation
        click_in(browser, '#policies tr[data-policy="w2 A"]', "Delete")
        accept_dialog(browser)
        wait_for(browser, lambda d: not d.find_elements(By.CSS_SELECTOR,
                                                        '#policies tr[data-policy="w2 A"]'),
                 what="the deleted policy's row gone")
        assert [p["name"] for p in c.whm.call("GET", "/api/dns/%d/policies" % zid)] == ["www"]
        assert console_errors(browser, expected=(("/policies", 422),)) == []
    finally:
        listener.close()


def test_a_zone_record_at_the_health_name_wins_and_health_is_unknown(health_cluster):
    c = health_cluster
    zid = c.create_zone("steer-health-own.example")
    c.add_record(zid, "_yumna-health.www", "TXT", "mine")
    set_policy(c, zid, "www", "A", {"type": "failover", "targets": ["192.0.2.8"],
                                    "check": {"tcp_port": 9}})
    c.wait_all_nodes("www.steer-health-own.example.", "A", ["192.0.2.8"], timeout=15)
    # the zone's own record is served as it is, not the health record
    c.wait_all_nodes("_yumna-health.www.steer-health-own.example.", "TXT", ['"mine"'])
    got, rr, h = states(c, zid, "www")
    for node, targets in got.items():
        assert targets == {"192.0.2.8": "unknown"}, h
        assert "no health record" in rr["health"][node]["error"], h


def test_wildcard_rrsets_report_their_health(health_cluster):
    """_yumna-health.* is no owner (an asterisk is a wildcard only
    leftmost): a wildcard's health record is served at
    _yumna-health-wildcard in place of the '*', and every node reads it."""
    c = health_cluster
    zone = "steer-health-wild.example."
    zid = c.create_zone(zone)
    listener = Listener()
    try:
        for name in ("*", "*.w"):
            set_policy(c, zid, name, "A", {"type": "failover",
                                           "targets": ["127.0.0.1", "127.0.0.2"],
                                           "check": {"tcp_port": listener.port}})
        c.wait_all_nodes("any." + zone, "A", ["127.0.0.1"], timeout=15)
        c.wait_all_nodes("any.w." + zone, "A", ["127.0.0.1"], timeout=15)
        for name in ("*", "*.w"):
            wait_states(c, zid, name, {"127.0.0.1": "up", "127.0.0.2": "down"}, 15)
        # the names below the wildcards are still its
        c.wait_all_nodes("other.w." + zone, "A", ["127.0.0.1"], timeout=5)
    finally:
        listener.close()


# last: the node it stops stays stopped for the rest of the module
def test_a_stopped_node_shows_unknown_never_up(health_cluster, tmp_path):
    from test_yumnactl import Ctl
    c = health_cluster
    zid = c.create_zone("steer-health-stop.example")
    listener = Listener()
    try:
        set_policy(c, zid, "www", "A", {
            "type": "failover", "targets": ["127.0.0.1", "127.0.0.2"],
            "check": {"tcp_port": listener.port}})
        wait_states(c, zid, "www", {"127.0.0.1": "up", "127.0.0.2": "down"}, 15)
        # a node that does not answer is unknown, never up
        down = c.nodes[1]
        down.stop()
        got, rr, h = states(c, zid, "www")
        assert got[down.name] == {"127.0.0.1": "unknown", "127.0.0.2": "unknown"}, h
        assert rr["health"][down.name]["state"] == "unknown"
        assert rr["health"][down.name]["error"], h
        assert got[c.nodes[0].name] == {"127.0.0.1": "up", "127.0.0.2": "down"}, h
        node = [n for n in h["nodes"] if n["name"] == down.name][0]
        assert node["reachable"] is False and node["error"], h
        # yumnactl shows the same, as a table and as the API's JSON
        ctl = Ctl(c, tmp_path)
        lines = ctl.run("policy", "health", "steer-health-stop.example").stdout.splitlines()
        up = c.nodes[0].name
        assert "www A %s 127.0.0.1 up" % up in lines, lines
        assert "www A %s 127.0.0.2 down" % up in lines, lines
        assert any(ln.startswith("www A %s 127.0.0.1 unknown (" % down.name) for ln in lines), lines
        js = ctl.json("policy", "health", "steer-health-stop.example")
        assert js["rrsets"][0]["health"][down.name]["targets"]["127.0.0.1"] == "unknown", js
    finally:
        listener.close()
