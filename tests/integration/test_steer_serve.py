"""Steered answers on every node: the controller pushes an RRset with a
routing policy as one PowerDNS LUA record, with ENABLE-LUA-RECORDS for its
zone only, and each node computes the answer itself."""

import collections
import os
import re
import socket
import time

import dns.edns
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from cluster_fixtures import ClusterFactory

pytest_plugins = ["cluster_fixtures"]

GEOIP = "/usr/share/GeoIP/GeoIP.dat"  # Debian's geoip-database
CHECK_INTERVAL = 1

# The chi-square critical value for 1 degree of freedom at p = 0.01.
CHI2_1DF_P01 = 6.635


def ask(node, name, rtype="A", ecs=None):
    options = [dns.edns.ECSOption(ecs, 24)] if ecs else []
    q = dns.message.make_query(name, rtype, use_edns=0, options=options)
    r = dns.query.udp(q, node.address, port=node.dns_port, timeout=3)
    return r


def addresses(r):
    return sorted(x.to_text() for rr in r.answer for x in rr)


@pytest.fixture(scope="module")
def steer_cluster(tmp_path_factory, request):
    """Three nodes with the GeoIP database and one-second health checks."""
    if not os.path.exists(GEOIP):
        pytest.skip("no %s (apt-get install geoip-database)" % GEOIP)
    base = tmp_path_factory.mktemp(re.sub(r"\W", "_", request.module.__name__))
    f = ClusterFactory(base)
    try:
        yield f(whm_config={"allow-raw-lua": "yes"},
                node_config={"geoip-database": GEOIP,
                             "lua-health-checks-interval": CHECK_INTERVAL,
                             "verify-interval": 1})
    finally:
        f.close()


@pytest.fixture(scope="module")
def zone(steer_cluster):
    c = steer_cluster
    zid = c.create_zone("steer-serve.example")
    c.add_record(zid, "static", "A", "192.0.2.1")
    return {"cluster": c, "zone_id": zid, "zone": "steer-serve.example."}


def test_weighted_answers_follow_the_weights(zone):
    c, zid = zone["cluster"], zone["zone_id"]
    c.add_record(zid, "w", "A", "192.0.2.10", routing_policy={"type": "weighted", "weight": 20})
    c.add_record(zid, "w", "A", "192.0.2.11", routing_policy={"type": "weighted", "weight": 80})
    name = "w." + zone["zone"]
    # A test at p = 0.01 fails one sample in a hundred by chance: a node
    # fails only when two samples in a row do (one in ten thousand), which
    # a wrong distribution still does.
    for node in c.nodes:
        n = 10000 if node is c.nodes[0] else 500
        tries = []
        for sample in range(2):
            counts = collections.Counter()
            for i in range(n):
                got = addresses(ask(node, name, ecs="198.%d.%d.0" % (i // 256 % 256, i % 256)))
                assert len(got) == 1, got
                counts[got[0]] += 1
            assert set(counts) <= {"192.0.2.10", "192.0.2.11"}, counts
            expected = {"192.0.2.10": 0.2 * n, "192.0.2.11": 0.8 * n}
            chi2 = sum((counts[k] - e) ** 2 / e for k, e in expected.items())
            tries.append((counts, chi2))
            if chi2 < CHI2_1DF_P01:
                break
        assert tries[-1][1] < CHI2_1DF_P01, (node.name, tries)
    # the static RRset beside it is served as before
    assert c.answers("static." + zone["zone"], "A") == {n.name: ["192.0.2.1"] for n in c.nodes}


def test_policy_added_to_a_queried_name_is_served_at_once(zone):
    c, zid = zone["cluster"], zone["zone_id"]
    name = "later." + zone["zone"]
    c.add_record(zid, "later", "A", "192.0.2.40")
    c.wait_all_nodes(name, "A", ["192.0.2.40"])
    rec = [r for r in c.whm.records(zid) if r["name"] == "later"][0]
    c.whm.call("PUT", "/api/dns/records/%d" % rec["id"],
               {"type": "A", "name": "later", "content": "192.0.2.41",
                "routing_policy": {"type": "weighted", "weight": 5}})
    c.wait_all_nodes(name, "A", ["192.0.2.41"], timeout=5)


def test_a_policy_ttl_of_zero_is_served_as_zero(zone):
    c, zid = zone["cluster"], zone["zone_id"]
    name = "ttl0." + zone["zone"]
    set_policy(c, zid, "ttl0", "A", {
        "type": "weighted", "targets": [{"target": "192.0.2.42", "weight": 1}], "ttl": 0})
    c.wait_all_nodes(name, "A", ["192.0.2.42"], timeout=5)
    for node in c.nodes:
        assert [rrset.ttl for rrset in node.query(name, "A").answer] == [0], node.name


def test_policy_removed_serves_static_records_again(zone):
    c, zid = zone["cluster"], zone["zone_id"]
    c.add_record(zid, "once", "A", "192.0.2.20", routing_policy={"type": "weighted", "weight": 1})
    name = "once." + zone["zone"]
    c.wait_all_nodes(name, "A", ["192.0.2.20"])
    rec = [r for r in c.whm.records(zid) if r["name"] == "once"][0]
    c.whm.call("PUT", "/api/dns/records/%d" % rec["id"],
               {"type": "A", "name": "once", "content": "192.0.2.21", "routing_policy": None})
    c.wait_all_nodes(name, "A", ["192.0.2.21"])


def test_geo_answers_by_client_country(zone):
    c, zid = zone["cluster"], zone["zone_id"]
    c.add_record(zid, "g", "A", "192.0.2.30", routing_policy={"type": "geo", "region": "DE"})
    c.add_record(zid, "g", "A", "192.0.2.31", routing_policy={"type": "geo", "region": "US"})
    name = "g." + zone["zone"]
    for node in c.nodes:
        de = ask(node, name, ecs="85.214.132.117")
        assert addresses(de) == ["192.0.2.30"], de
        # the answer holds for the client's /24 (ECS scope)
        scope = [o.scopelen for o in de.options if isinstance(o, dns.edns.ECSOption)]
        assert scope == [24], de
        assert addresses(ask(node, name, ecs="8.8.8.8")) == ["192.0.2.31"]
        # elsewhere: every record of the RRset
        assert addresses(ask(node, name, ecs="1.2.3.4")) == ["192.0.2.30", "192.0.2.31"]


def test_geo_regions_sharing_a_target_answer_it_in_each(zone):
    """One address for the clients of several countries, which per-record
    policies cannot give (one record, one policy): the RRset-level geo
    policy, whose regions share the target."""
    c, zid = zone["cluster"], zone["zone_id"]
    set_policy(c, zid, "shared", "A", {"type": "geo", "regions": [
        {"country": "DE", "targets": ["192.0.2.70"]},
        {"country": "US", "targets": ["192.0.2.70"]}], "default": ["192.0.2.71"]})
    name = "shared." + zone["zone"]
    c.wait_all_nodes(name, "A", ["192.0.2.71"], timeout=10)
    for node in c.nodes:
        assert addresses(ask(node, name, ecs="85.214.132.117")) == ["192.0.2.70"]
        assert addresses(ask(node, name, ecs="8.8.8.8")) == ["192.0.2.70"]
        assert addresses(ask(node, name, ecs="1.2.3.4")) == ["192.0.2.71"]


def listen(port=0):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    return s


def set_policy(c, zid, name, rtype, policy, expect=200):
    return c.whm.call("PUT", "/api/dns/%d/policies" % zid,
                      {"name": name, "type": rtype, "policy": policy}, expect=expect)


def test_failover_follows_a_tcp_listener(zone):
    c, zid = zone["cluster"], zone["zone_id"]
    listener = listen()
    port = listener.getsockname()[1]
    set_policy(c, zid, "f", "A", {
        "type": "failover", "order": "ordered", "targets": ["127.0.0.1", "127.0.0.2"],
        "check": {"tcp_port": port}, "when_all_down": "backup", "backup": "192.0.2.99",
        "ttl": 5})
    set_policy(c, zid, "fe", "A", {
        "type": "failover", "targets": ["127.0.0.1", "127.0.0.3"],
        "check": {"tcp_port": port}})
    name, equal = "f." + zone["zone"], "fe." + zone["zone"]
    try:
        # the first query starts the checks; until the first one ran, every
        # target counts as down
        c.answers(name, "A")
        c.answers(equal, "A")
        c.wait_all_nodes(name, "A", ["127.0.0.1"], timeout=10)
        c.wait_all_nodes(equal, "A", ["127.0.0.1"], timeout=10)
        listener.close()
        # no node answers it within two check intervals (and a second)
        c.wait_all_nodes(name, "A", ["192.0.2.99"], timeout=2 * CHECK_INTERVAL + 1)
        c.wait_all_nodes(equal, "A", ["127.0.0.1", "127.0.0.3"], timeout=2 * CHECK_INTERVAL + 1)
        listener = listen(port)
        c.wait_all_nodes(name, "A", ["127.0.0.1"], timeout=2 * CHECK_INTERVAL + 1)
    finally:
        listener.close()
    policies = c.whm.call("GET", "/api/dns/%d/policies" % zid, expect=200)
    assert {(p["name"], p["type"], p["per_record"]) for p in policies} >= {
        ("f", "A", False), ("fe", "A", False)}
    # removed: the name is gone from every node
    set_policy(c, zid, "fe", "A", None)
    for node in c.nodes:
        deadline = 0
        while dns.rcode.to_text(ask(node, equal).rcode()) != "NXDOMAIN" and deadline < 50:
            deadline += 1
            time.sleep(0.1)
        assert dns.rcode.to_text(ask(node, equal).rcode()) == "NXDOMAIN"


def refused(c, zid, name, rtype, policy, needle):
    before = (c.whm.zone(zid)["version"], c.whm.call("GET", "/api/dns/%d/policies" % zid))
    r = c.whm.request("PUT", "/api/dns/%d/policies" % zid,
                      json_body={"name": name, "type": rtype, "policy": policy})
    assert r.status_code == 422, r.text
    assert needle in r.json()["error"], r.text
    assert (c.whm.zone(zid)["version"], c.whm.call("GET", "/api/dns/%d/policies" % zid)) == before


A = {"type": "failover", "targets": ["192.0.2.1"], "check": {"tcp_port": 80}}


@pytest.mark.parametrize("name,rtype,policy,needle", [
    ("x", "A", dict(A, check={"tcp_port": 0}), "out of range"),
    ("x", "A", dict(A, check={"tcp_port": 65536}), "out of range"),
    ("x", "A", dict(A, check={"url": "https://u@192.0.2.1/"}), "userinfo"),
    ("x", "A", dict(A, check={"url": "file:///etc/passwd"}), "http"),
    ("x", "A", dict(A, check={"tcp_port": 80, "interval": 0}), "interval"),
    ("x", "A", dict(A, targets=["www.example.com."]), "not an IPv4 address"),
    ("x", "AAAA", dict(A), "not an IPv6 address"),
    ("x", "MX", dict(A), "A, AAAA and CNAME"),
    ("x", "CNAME", {"type": "weighted", "targets": [{"target": "a b", "weight": 1}]},
     "not a name"),
    ("x", "A", {"type": "weighted", "targets": [{"target": "192.0.2.1", "weight": 0}]},
     "add up to 0"),
    ("x", "A", {"type": "geo", "regions": [{"continent": "XX", "targets": ["192.0.2.1"]}],
                "default": ["192.0.2.2"]}, "continent"),
    ("static", "A", dict(A), "has records"),
    # PowerDNS 4.7 cannot check these URLs (it would check no server, or another)
    ("x", "A", dict(A, check={"url": "http://[2001:db8::1]/"}), "IPv6 address"),
    ("x", "A", dict(A, check={"url": "http://192.0.2.1?x=1"}), "needs a path"),
])
def test_bad_rrset_policy_is_422_and_changes_nothing(zone, name, rtype, policy, needle):
    refused(zone["cluster"], zone["zone_id"], name, rtype, policy, needle)


def test_steered_zone_verifies_without_drift(zone):
    """The LUA records a node holds digest as the controller digested them:
    the verifier (one pass a second) finds nothing to repair."""
    c = zone["cluster"]
    time.sleep(3)
    for node in c.nodes:
        assert "yumna_agent_drift_total 0" in node.get("/metrics").text, node.name
        assert node.zone(zone["zone"]).json()["version"] == c.whm.zone(zone["zone_id"])["version"]
    digests = {n.zone(zone["zone"]).json()["digest"] for n in c.nodes}
    assert len(digests) == 1, digests


def test_yumnactl_policy_set_list_delete(zone, tmp_path):
    from test_yumnactl import Ctl, REFUSED
    c, zid = zone["cluster"], zone["zone_id"]
    ctl = Ctl(c, tmp_path)
    f = tmp_path / "policy.json"
    f.write_text('{"type": "weighted", "targets": [{"target": "192.0.2.77", "weight": 1}]}')
    ctl.run("policy", "set", zone["zone"], "cli", "A", f)
    c.wait_all_nodes("cli." + zone["zone"], "A", ["192.0.2.77"])
    listed = ctl.run("policy", "list", zone["zone"]).stdout
    assert 'cli A rrset {"targets":[{"target":"192.0.2.77","weight":1}],"type":"weighted"}' \
        in listed, listed
    f.write_text('{"type": "weighted", "targets": [{"target": "192.0.2.77", "weight": -1}]}')
    err = ctl.run("policy", "set", zone["zone"], "cli", "A", f, expect=REFUSED).stderr
    assert "out of range" in err, err
    ctl.run("policy", "delete", zone["zone"], "cli", "A")
    assert "cli A" not in ctl.run("policy", "list", zone["zone"]).stdout


def test_steered_name_in_a_signed_zone_validates_on_every_node(zone, tmp_path):
    """Steered answers are signed live by every node with the zone's one key
    set: a validating unbound with the DS as trust anchor accepts them."""
    import dnssec_tools as dt
    from test_whm_dnssec import sign
    c = zone["cluster"]
    zid = c.create_zone("steer-signed.example")
    c.add_record(zid, "w", "A", "192.0.2.50", routing_policy={"type": "weighted", "weight": 1})
    c.add_record(zid, "w", "A", "192.0.2.51", routing_policy={"type": "weighted", "weight": 1})
    set_policy(c, zid, "g", "A", {"type": "geo", "regions": [
        {"country": "DE", "targets": ["192.0.2.60"]}], "default": ["192.0.2.61"]})
    answer = sign(c, zid, {})
    assert answer["changed"] is True and answer["synced"] is True, answer
    for n in c.nodes:
        with dt.Unbound(tmp_path / ("ub-" + n.name), "steer-signed.example.", answer["ds"],
                        n) as ub:
            for name, allowed in (("w", {"192.0.2.50", "192.0.2.51"}), ("g", {"192.0.2.61"})):
                r = ub.query(name + ".steer-signed.example.", "A")
                assert r.rcode() == dns.rcode.NOERROR and dt.validated(r), (n.name, r,
                                                                            ub.logs())
                got = {x.to_text() for rr in r.answer if rr.rdtype == dns.rdatatype.A
                       for x in rr}
                assert got and got <= allowed, (n.name, r)


def test_lua_shared_state_serves_steered_answers(cluster_factory):
    """lua-shared-state = yes (one Lua state for every answer, PowerDNS's
    enable-lua-records=shared): the same policies answer the same way."""
    c = cluster_factory(n=1, node_config={"lua-shared-state": "yes",
                                          "lua-health-checks-interval": CHECK_INTERVAL})
    zid = c.create_zone("steer-shared.example")
    c.add_record(zid, "w", "A", "192.0.2.10", routing_policy={"type": "weighted", "weight": 1})
    c.add_record(zid, "w", "A", "192.0.2.11", routing_policy={"type": "weighted", "weight": 1})
    listener = listen()
    try:
        set_policy(c, zid, "f", "A", {
            "type": "failover", "order": "ordered", "targets": ["127.0.0.2", "127.0.0.1"],
            "check": {"tcp_port": listener.getsockname()[1]}, "when_all_down": "backup",
            "backup": "192.0.2.99"})
        seen = {addresses(ask(c.nodes[0], "w.steer-shared.example."))[0] for _ in range(200)}
        assert seen == {"192.0.2.10", "192.0.2.11"}, seen
        c.answers("f.steer-shared.example.", "A")
        c.wait_all_nodes("f.steer-shared.example.", "A", ["127.0.0.1"], timeout=10)
    finally:
        listener.close()
    c.wait_all_nodes("f.steer-shared.example.", "A", ["192.0.2.99"], timeout=2 * CHECK_INTERVAL + 1)


def test_raw_lua_from_an_admin_token_where_allowed(zone):
    c, zid = zone["cluster"], zone["zone_id"]
    raw = {"type": "LUA", "name": "raw", "content": "A \"'192.0.2.8'\"", "ttl": 60}
    r = c.whm.request("POST", "/api/dns/%d/records" % zid, json_body=raw,
                      token=c.whm.read_token)
    assert r.status_code == 403, r.text
    c.whm.call("POST", "/api/dns/%d/records" % zid, raw, expect=201)
    c.wait_all_nodes("raw." + zone["zone"], "A", ["192.0.2.8"])
    # and on PowerDNS's API, as octoDNS would send it
    r = c.whm.request("PATCH", "/api/v1/servers/localhost/zones/" + zone["zone"],
                      json_body={"rrsets": [{"name": "raw2." + zone["zone"], "type": "LUA",
                                             "ttl": 60, "changetype": "REPLACE",
                                             "records": [{"content": "A \"'192.0.2.7'\"",
                                                          "disabled": False}]}]})
    assert r.status_code == 204, r.text
    c.wait_all_nodes("raw2." + zone["zone"], "A", ["192.0.2.7"])
    # content the compiler would never write is refused
    r = c.whm.request("POST", "/api/dns/%d/records" % zid,
                      json_body=dict(raw, name="raw3", content='A "os.exit(\\"x\\")"'))
    assert r.status_code == 422, r.text


def test_raw_lua_once_disallowed_can_be_removed_but_not_rolled_back(zone):
    """Raw LUA written while allow-raw-lua was on, then the setting turned
    off: /api/v1 still deletes such an RRset, and a rollback to a version
    holding raw LUA the zone no longer holds is refused, nothing changed;
    a rollback keeping the raw LUA the zone still holds goes through."""
    c, zid, zname = zone["cluster"], zone["zone_id"], zone["zone"]
    url = "/api/v1/servers/localhost/zones/" + zname

    def lua_rrset(name, value, change="REPLACE", disabled=False):
        r = {"name": name + "." + zname, "type": "LUA", "changetype": change}
        if change == "REPLACE":
            r.update(ttl=60,
                     records=[{"content": "A \"'%s'\"" % value, "disabled": disabled}])
        return r

    def patch(rrset):
        r = c.whm.request("PATCH", url, json_body={"rrsets": [rrset]})
        assert r.status_code == 204, r.text
        return c.whm.zone(zid)["version"]

    kept_served = patch(lua_rrset("kept", "192.0.2.22"))
    patch(lua_rrset("kept", "192.0.2.22", disabled=True))
    with_both = patch(lua_rrset("gone", "192.0.2.21"))
    c.whm.extra_config["allow-raw-lua"] = "no"
    c.whm.write_config()
    c.whm.restart()
    try:
        r = c.whm.request("PATCH", url, json_body={"rrsets": [lua_rrset("x", "192.0.2.23")]})
        assert r.status_code == 422 and "allow-raw-lua" in r.json()["error"], r.text
        # a zone POST stores an RRset's records whatever its changetype says
        sneaky = dict(lua_rrset("x", "192.0.2.23"), changetype="DELETE",
                      name="x.sneaky-" + zname)
        r = c.whm.request("POST", "/api/v1/servers/localhost/zones",
                          json_body={"name": "sneaky-" + zname, "kind": "Native",
                                     "nameservers": ["ns1.example.net."], "rrsets": [sneaky]})
        assert r.status_code == 422 and "allow-raw-lua" in r.json()["error"], r.text
        r = c.whm.request("PATCH", url,
                          json_body={"rrsets": [lua_rrset("gone", None, "DELETE")]})
        assert r.status_code == 204, r.text
        c.wait_rcode("gone." + zname, "A", "NXDOMAIN")
        before = c.whm.zone(zid)["version"]
        # back to a version holding raw LUA the zone no longer holds, or
        # holds disabled where that version served it: refused
        for v in (with_both, kept_served):
            r = c.whm.post("/api/dns/%d/rollback" % zid, {"version": v})
            assert r.status_code == 422 and "raw LUA" in r.json()["error"], (v, r.text)
            assert c.whm.zone(zid)["version"] == before
        # back to a version that holds only the raw LUA the zone still holds
        c.whm.call("POST", "/api/dns/%d/rollback" % zid, {"version": before}, expect=200)
    finally:
        c.whm.extra_config["allow-raw-lua"] = "yes"
        c.whm.write_config()
        c.whm.restart()


def test_a_policy_an_earlier_release_stored_is_still_served(zone):
    """A failover check URL with an IPv6 literal host was accepted before
    (PowerDNS 4.7 cannot parse it, so new policies are refused): one in the
    store, as an earlier release left it, must not make its zone
    unpushable. A change elsewhere in the zone is taken and served."""
    import sqlite3
    c, zid, zname = zone["cluster"], zone["zone_id"], zone["zone"]
    set_policy(c, zid, "old6", "A", {"type": "failover", "targets": ["192.0.2.61"],
                                     "check": {"url": "http://192.0.2.61/health"}})
    db = sqlite3.connect(c.whm.store_path, timeout=10)
    try:
        with db:
            n = db.execute("UPDATE dns_rrset_policies SET policy = replace(policy, "
                           "'http://192.0.2.61/health', 'http://[2001:db8::61]/health') "
                           "WHERE zone_id = ? AND name = 'old6'", (zid,)).rowcount
        assert n == 1
    finally:
        db.close()
    c.add_record(zid, "after-old6", "A", "192.0.2.62")
    c.wait_all_nodes("after-old6." + zname, "A", ["192.0.2.62"], timeout=10)
    # the same URL in a new policy is refused
    refused(c, zid, "new6", "A", {"type": "failover", "targets": ["192.0.2.63"],
                                 "check": {"url": "http://[2001:db8::61]/health"}},
            "IPv6 address")
