"""PowerDNS's API on the controller, the operations: a zone's settings
(PUT), notify, rectify, export, cache flush and statistics, side by side
with a real pdns_server 4.7 as in test_pdns_api.py (whose Side, shape and
fixtures this reuses), with the divergences listed in DIVERGENCES."""

import time

import dns.rdatatype
import dns.rrset
import dns.zone
import pytest
import requests

import harness
from dns_primaries import FakePrimary
from test_pdns_api import BASE, DIVERGENCES as ROUTE_DIVERGENCES, Side, pdns, sides, same_zone, \
    shape  # noqa: F401 (fixtures)

pytest_plugins = ["cluster_fixtures"]

# Where these routes answer differently on purpose (beyond those of
# test_pdns_api.py), and why.
DIVERGENCES = dict(ROUTE_DIVERGENCES, **{
    "settings refused": "PUT of a zone checks kind and soa_edit_api as POST does (422 for an "
                        "unknown value or a transfer kind); PowerDNS stores any text",
    "NSEC3 parameters": "nsec3param only as RFC 9276 asks ('1 0 0 -', or '1 1 0 -' with "
                        "opt-out; other parameters are 422); nsec3narrow is 422",
    "unsigning": "dnssec: false unsigns the zone at once, as PowerDNS does, though the panel's "
                 "route asks for force",
    "notify": "every node sends it; 502 naming the nodes that could not (a node without "
              "secondaries counts as done, as PowerDNS queues to nobody)",
    "export text": "the zone file is the panel's export (a comment line, $ORIGIN and $TTL, "
                   "the SOA first); PowerDNS writes one absolute record a line, sorted",
    "cache flush": "every node purges; count is the sum; 502 naming a node that could not",
    "statistics": "PowerDNS's counters over the nodes that answer: latencies averaged, uptime "
                  "the shortest, the rest summed; no rings, no map or ring items",
    "empty soa_edit_api": "\"soa_edit_api\": \"\" (PowerDNS-Admin's choice for none) is "
                          "stored and shown as OFF, which is what it does; PowerDNS shows \"\"",
    "masters": "only a Slave zone has masters: masters or a master key given to another zone "
               "are a 422 (PowerDNS keeps them, with no effect but on a Slave zone), and so "
               "are masters that are not a list (PowerDNS ignores them) and an empty list for "
               "a Slave zone, which would have nobody to transfer it from (PowerDNS keeps it)",
    "search": "the SOA, which the controller makes for every zone, is not among the records "
              "found; max above 10000 and a max that is not a number are 422 (PowerDNS: "
              "500 for the latter), and so is a q over 255 bytes (the longest name)",
})


def audit(c, domain, action):
    entries = c.whm.call("GET", "/api/dns/audit", params={"zone": domain + "."},
                         expect=200)["entries"]
    return [e for e in entries if e["action"] == action]


def settings(side, name):
    z = side.send("GET", BASE + "/zones/" + name, params={"rrsets": "false"})[1]
    return {k: z[k] for k in ("kind", "account", "soa_edit_api", "dnssec")}


def test_put_settings_agrees_with_powerdns_and_makes_no_version(sides, domain):
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    before = c.whm.zone(zid)
    body = {"kind": "Master", "account": "cust42", "soa_edit_api": "INCREASE",
            "name": name, "serial": 1}  # keys PUT does not change are ignored
    a, b = ours.send("PUT", BASE + "/zones/" + name, body), \
        pdns.send("PUT", BASE + "/zones/" + name, body)
    assert a[0] == b[0] == 204 and a[2].content == b[2].content == b""
    assert settings(ours, name) == settings(pdns, name) == {
        "kind": "Master", "account": "cust42", "soa_edit_api": "INCREASE", "dnssec": False}
    listed = ours.send("GET", BASE + "/zones?zone=" + name)[1][0]
    assert listed["kind"] == "Master" and listed["account"] == "cust42"
    # Nothing the nodes serve changed: no version, but an audit entry.
    after = c.whm.zone(zid)
    assert (after["version"], after["serial"]) == (before["version"], before["serial"])
    notes = audit(c, domain, "zone.settings")
    assert len(notes) == 1 and "cust42" in notes[0]["summary"], notes
    # The same settings again: nothing written, no second entry.
    assert ours.send("PUT", BASE + "/zones/" + name, body)[0] == 204
    assert len(audit(c, domain, "zone.settings")) == 1
    # Only what is given changes.
    for side in (ours, pdns):
        assert side.send("PUT", BASE + "/zones/" + name, {"account": ""})[0] == 204
    assert settings(ours, name) == settings(pdns, name)
    assert settings(ours, name)["kind"] == "Master"


def test_powerdns_admin_nulls_and_empty_soa_edit_api_agree_with_powerdns(sides, domain):
    """PowerDNS-Admin sends "account": null and "soa_edit_api": "" (OFF)
    when it creates and edits a zone; null is no value, as in PowerDNS."""
    c, ours, pdns = sides
    name = domain + "."
    body = {"name": name, "kind": "Master", "nameservers": ["ns1.yumna.test."],
            "account": None, "soa_edit_api": "", "masters": []}
    a, b = [side.send("POST", BASE + "/zones", body) for side in (ours, pdns)]
    assert a[0] == b[0] == 201, (a[1], b[1])
    mine, theirs = settings(ours, name), settings(pdns, name)
    assert mine["account"] == theirs["account"] == ""
    assert mine["kind"] == theirs["kind"] == "Master"
    # See DIVERGENCES ("empty soa_edit_api"): OFF here, "" in PowerDNS.
    assert (mine["soa_edit_api"], theirs["soa_edit_api"]) == ("OFF", "")
    for side in (ours, pdns):
        assert side.send("PUT", BASE + "/zones/" + name,
                         {"account": "cust7", "soa_edit_api": "EPOCH"})[0] == 204
    body = {"kind": None, "account": None, "soa_edit_api": ""}
    a, b = [side.send("PUT", BASE + "/zones/" + name, body) for side in (ours, pdns)]
    assert a[0] == b[0] == 204, (a[1], b[1])
    mine, theirs = settings(ours, name), settings(pdns, name)
    assert mine["account"] == theirs["account"] == "cust7"
    assert mine["kind"] == theirs["kind"] == "Master"
    assert (mine["soa_edit_api"], theirs["soa_edit_api"]) == ("OFF", "")
    # Neither moves the serial on a change any more.
    serials = [side.send("GET", BASE + "/zones/" + name)[1]["serial"] for side in (ours, pdns)]
    a, b = [side.send("PATCH", BASE + "/zones/" + name, {"rrsets": [
        {"name": "www." + name, "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "192.0.2.1"}]}]}) for side in (ours, pdns)]
    assert a[0] == b[0] == 204, (a[1], b[1])
    assert [side.send("GET", BASE + "/zones/" + name)[1]["serial"]
            for side in (ours, pdns)] == serials
    c.wait_all_nodes("www." + name, "A", ["192.0.2.1"])


def test_put_dnssec_signs_and_unsigns_on_every_node(sides, domain):
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    version = c.whm.zone(zid)["version"]
    for side in (ours, pdns):
        assert side.send("PUT", BASE + "/zones/" + name, {"dnssec": True})[0] == 204
    assert settings(ours, name)["dnssec"] is settings(pdns, name)["dnssec"] is True
    # Signing is a version: the keys go to every node.
    assert c.whm.zone(zid)["version"] == version + 1
    assert harness.wait_until(lambda: all(c._dig(n, name, "DNSKEY") for n in c.nodes), 15,
                              interval=0.2)
    # Signed again: nothing to do.
    assert ours.send("PUT", BASE + "/zones/" + name, {"dnssec": True})[0] == 204
    assert c.whm.zone(zid)["version"] == version + 1
    for side in (ours, pdns):
        assert side.send("PUT", BASE + "/zones/" + name, {"dnssec": False})[0] == 204
    assert settings(ours, name)["dnssec"] is settings(pdns, name)["dnssec"] is False
    assert c.whm.zone(zid)["version"] == version + 2
    # Signed with NSEC3 as RFC 9276 asks, then back to NSEC on the signed zone.
    for side in (ours, pdns):
        a = side.send("PUT", BASE + "/zones/" + name, {"dnssec": True, "nsec3param": "1 0 0 -"})
        assert a[0] == 204, a[1]
    assert ours.send("GET", BASE + "/zones/" + name)[1]["nsec3param"] == \
        pdns.send("GET", BASE + "/zones/" + name)[1]["nsec3param"] == "1 0 0 -"
    c.wait_all_nodes(name, "NSEC3PARAM", ["1 0 0 -"], timeout=15)
    assert ours.send("PUT", BASE + "/zones/" + name, {"nsec3param": ""})[0] == 204
    c.wait_all_nodes(name, "NSEC3PARAM", [], timeout=15)


@pytest.mark.parametrize("body,same", [
    ({"kind": "Slave"}, False),
    ({"kind": "Bogus"}, False),
    ({"soa_edit_api": "BOGUS"}, False),
    ({"account": 5}, None),
    ({"dnssec": "yes"}, None),
    ({"kind": "Master", "nsec3param": "1 0 0 -"}, True),
    ({"dnssec": True, "nsec3param": "1 0 10 abcd"}, False),
    ({"dnssec": False, "nsec3param": "1 0 0 -"}, None),
    ({"kind": "Master", "nsec3narrow": True}, None),
])
def test_a_refused_put_changes_nothing(sides, domain, body, same):
    """'same': PowerDNS refuses it too (True), stores it (False, see
    DIVERGENCES), or was not compared (None)."""
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    before, version = settings(ours, name), c.whm.zone(zid)["version"]
    a = ours.send("PUT", BASE + "/zones/" + name, body)
    assert a[0] == 422 and a[1]["error"], a[1]
    assert settings(ours, name) == before and c.whm.zone(zid)["version"] == version
    assert audit(c, domain, "zone.settings") == []
    if same is not None:
        b = pdns.send("PUT", BASE + "/zones/" + name, body)
        assert (b[0] == 422) is same, (b[0], b[2].text)


def test_put_masters_of_a_slave_zone_agrees_with_powerdns(sides, domain):
    """PUT of a Slave zone's masters and master key: applied (the zone is
    transferred from its new masters at once), and bad ones refused as
    PowerDNS refuses them, nothing changed."""
    c, ours, pdns = sides
    name, key = domain + ".", "k-" + domain
    primary = FakePrimary(name, "ns1.%s h.%s 7 3600 600 86400 300" % (name, name), [
        dns.rrset.from_text(name, 300, "IN", "NS", "ns1.example.net."),
        dns.rrset.from_text("www." + name, 300, "IN", "A", "192.0.2.44")])
    try:
        # Nobody answers on port 1: the zone waits for masters that do.
        for side in (ours, pdns):
            a = side.send("POST", BASE + "/zones", {"name": name, "kind": "Slave",
                                                    "masters": ["127.0.0.1:1"]})
            assert a[0] == 201, a[1]
            a = side.send("POST", BASE + "/tsigkeys", {"name": key, "algorithm": "hmac-sha256"})
            assert a[0] == 201, a[1]

        def masters(side):
            z = side.send("GET", BASE + "/zones/" + name, params={"rrsets": "false"})[1]
            return z["masters"], [k.rstrip(".") for k in z["master_tsig_key_ids"]]
        for body in ({"masters": ["not-an-ip"]}, {"masters": [5]},
                     {"masters": ["192.0.2.1:70000"]},
                     {"master_tsig_key_ids": ["no-such-key."]},
                     {"masters": ["192.0.2.1:5300"], "master_tsig_key_ids": ["no-such-key."]}):
            a, b = [side.send("PUT", BASE + "/zones/" + name, body) for side in (ours, pdns)]
            assert a[0] == b[0] == 422 and a[1]["error"], (body, a[1], b[2].text)
            assert masters(ours) == masters(pdns) == (["127.0.0.1:1"], []), body
        assert audit(c, domain, "zone.settings") == []

        for body, want in (({"master_tsig_key_ids": [key]}, (["127.0.0.1:1"], [key])),
                           ({"masters": ["192.0.2.1:5300", "127.0.0.1:1"]},
                            (["192.0.2.1:5300", "127.0.0.1:1"], [key])),
                           ({"masters": None, "master_tsig_key_ids": None},
                            (["192.0.2.1:5300", "127.0.0.1:1"], [key])),
                           ({"masters": [primary.address], "master_tsig_key_ids": []},
                            ([primary.address], []))):
            a, b = [side.send("PUT", BASE + "/zones/" + name, body) for side in (ours, pdns)]
            assert a[0] == b[0] == 204, (body, a[1], b[2].text)
            assert masters(ours) == masters(pdns) == want, body
        notes = audit(c, domain, "zone.settings")
        assert len(notes) == 3 and primary.address in notes[0]["summary"], notes
        # Transferred from the new master at once, served by every node.
        c.wait_all_nodes("www." + name, "A", ["192.0.2.44"], timeout=20)

        # See DIVERGENCES ("masters"): PowerDNS empties the list.
        a = ours.send("PUT", BASE + "/zones/" + name, {"masters": []})
        assert a[0] == 422 and "masters" in a[1]["error"], a[1]
        assert masters(ours) == ([primary.address], [])
    finally:
        primary.close()


def test_masters_are_shown_as_given_as_powerdns_shows_them(sides, domain):
    """Masters read back as PowerDNS shows them: without the default port
    53 (and the brackets that only a port needs), so a client comparing
    what it sent (Terraform) sees no change."""
    c, ours, pdns = sides
    name = domain + "."
    # Multicast addresses, which no TCP connection reaches: the zone's
    # refresh fails at once, nothing is asked of anyone on port 53.
    given = ["224.0.0.1", "ff0e::2", "224.0.0.3:53", "[ff0e::4]:53", "224.0.0.5:5300",
             "[FF0E::6]:5300"]
    shown = ["224.0.0.1", "ff0e::2", "224.0.0.3", "ff0e::4", "224.0.0.5:5300",
             "[ff0e::6]:5300"]
    try:
        a, b = [side.send("POST", BASE + "/zones", {"name": name, "kind": "Slave",
                                                    "masters": given})
                for side in (ours, pdns)]
        assert a[0] == b[0] == 201, (a[1], b[1])
        assert a[1]["masters"] == b[1]["masters"] == shown
        a, b = [side.send("GET", BASE + "/zones/" + name) for side in (ours, pdns)]
        assert a[1]["masters"] == b[1]["masters"] == shown
        # Sent back as shown, they read back the same.
        assert ours.send("PUT", BASE + "/zones/" + name, {"masters": shown})[0] == 204
        assert ours.send("GET", BASE + "/zones/" + name)[1]["masters"] == shown
    finally:
        for side in (ours, pdns):
            side.send("DELETE", BASE + "/zones/" + name)


def test_masters_of_a_zone_that_is_not_slave_are_refused(sides, domain):
    """Only a Slave zone has masters: for another, masters are a 422 (see
    DIVERGENCES, PowerDNS keeps them with no effect), never a silent 204;
    empty lists (sent with every zone by some clients) change nothing."""
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    for body in ({"masters": ["192.0.2.7"]}, {"masters": "192.0.2.7"},
                 {"master_tsig_key_ids": "k"},
                 {"kind": "Master", "masters": ["192.0.2.7"]}):
        a = ours.send("PUT", BASE + "/zones/" + name, body)
        assert a[0] == 422 and a[1]["error"], (body, a[1])
    assert settings(ours, name)["kind"] == "Native"
    assert audit(c, domain, "zone.settings") == []
    version = c.whm.zone(zid)["version"]
    for body in ({"masters": [], "master_tsig_key_ids": []},
                 {"masters": None, "master_tsig_key_ids": None}):
        a, b = [side.send("PUT", BASE + "/zones/" + name, body) for side in (ours, pdns)]
        assert a[0] == b[0] == 204, (body, a[1], b[2].text)
    z = ours.send("GET", BASE + "/zones/" + name)[1]
    assert z["masters"] == [] and z["master_tsig_key_ids"] == [] and z["kind"] == "Native"
    assert c.whm.zone(zid)["version"] == version


def settings_put_rounds(side, names, rounds):
    """Round after round, three PUTs of a zone of 'names' at the same
    moment, from three threads on their own connections: its account, its
    soa_edit_api, its kind, each to a value the zone does not have. The
    rounds whose zone then lacks one of the three: (round, zone, settings)."""
    import threading
    edits = ["INCREASE", "EPOCH", "OFF"]
    start, done = threading.Barrier(3, timeout=60), threading.Barrier(3, timeout=60)
    statuses, lost = [], []

    def want(n):
        return {"kind": ("Master", "Native")[n // len(names) % 2], "account": "acc%d" % n,
                "soa_edit_api": edits[n // len(names) % 3], "dnssec": False}

    def worker(key):
        session = requests.Session()
        session.headers.update({"X-API-Key": side.key, "Connection": "close"})
        for n in range(rounds):
            name = names[n % len(names)]
            start.wait()
            r = session.put(side.url + BASE + "/zones/" + name, json={key: want(n)[key]},
                            timeout=30)
            statuses.append(r.status_code)
            done.wait()
            if key == "kind" and settings(side, name) != want(n):
                lost.append((n, name, settings(side, name)))
    threads = [threading.Thread(target=worker, args=(k,))
               for k in ("account", "soa_edit_api", "kind")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [204] * (3 * rounds)
    return lost


def test_concurrent_puts_of_different_settings_keep_every_one(sides, domain):
    """PUTs of one setting each, at once on one zone, all answered 204:
    each keeps the others' (the settings are read in the transaction that
    writes them, not before)."""
    c, ours, pdns = sides
    names = ["c%d-%s." % (i, domain) for i in range(6)]
    for name in names:
        a = ours.send("POST", BASE + "/zones", {"name": name, "kind": "Native",
                                                "nameservers": ["ns1.yumna.test."]})
        assert a[0] == 201, a[1]
    lost = settings_put_rounds(ours, names, 300)
    assert lost == [], "%d of 300 rounds lost a setting: %s" % (len(lost), lost[:3])


def test_zone_operations_need_a_zone_and_an_admin_token(sides, domain):
    c, ours, pdns = sides
    same_zone(c, ours, pdns, domain)
    name = domain + "."
    for method, tail, body in (("PUT", "", {"kind": "Master"}), ("PUT", "/notify", None),
                               ("PUT", "/rectify", None), ("GET", "/export", None)):
        a = ours.send(method, BASE + "/zones/nope-" + name + tail, body)
        b = pdns.send(method, BASE + "/zones/nope-" + name + tail, body)
        assert a[0] == b[0] == 404, (method, tail)
        assert a[1]["error"]
        a = ours.send(method, BASE + "/zones/" + name + tail, body, key=c.whm.read_token)
        assert a[0] == (200 if method == "GET" else 403), (method, tail, a[1])
    assert ours.send("PUT", BASE + "/cache/flush", params={"domain": name},
                     key=c.whm.read_token)[0] == 403
    assert ours.send("GET", BASE + "/statistics", key=c.whm.read_token)[0] == 200
    # The verbs PowerDNS does not have there.
    for method, tail in (("POST", "/notify"), ("GET", "/notify"), ("PUT", "/export")):
        a = ours.send(method, BASE + "/zones/" + name + tail)
        b = pdns.send(method, BASE + "/zones/" + name + tail)
        assert a[0] == b[0] == 405, (method, tail)


def test_notify_and_rectify_answer_as_powerdns(sides, domain):
    """The nodes of this cluster have no secondaries: each has nobody to
    notify, as a pdns_server without any, which queues the NOTIFY anyway."""
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    for tail, result in (("/notify", "Notification queued"), ("/rectify", "Rectified")):
        a = ours.send("PUT", BASE + "/zones/" + name + tail)
        b = pdns.send("PUT", BASE + "/zones/" + name + tail)
        assert a[0] == b[0] == 200, (tail, a[1])
        assert a[1] == b[1] == {"result": result}
    assert len(audit(c, domain, "zone.notify")) == 1
    # The panel's route calls that a failure, and says why for each node.
    r = c.whm.post("/api/dns/%d/notify" % zid)
    assert r.status_code == 502
    assert {n["status"] for n in r.json()["nodes"]} == {409}


def test_notify_is_sent_by_every_node_and_a_node_that_cannot_is_named(cluster_factory, domain):
    from test_notify import Secondary
    secondary = Secondary()
    try:
        # PowerDNS stopped below stays down for the test.
        c = cluster_factory(n=1, node_config={"also-notify": "127.0.0.1:%d" % secondary.port,
                                              "pdns-restart-delay-min": 3600000,
                                              "pdns-restart-delay-max": 3600000})
        ours = Side(c.whm.url, c.whm.admin_token)
        c.create_zone(domain)
        secondary.drain()
        a = ours.send("PUT", BASE + "/zones/%s./notify" % domain)
        assert a[0] == 200 and a[1] == {"result": "Notification queued"}
        assert secondary.wait_notify(domain + ".", timeout=5.0) is not None
        # A node that cannot: 502 naming it, for a NOTIFY and a cache flush;
        # the statistics are those of the nodes that answer (none here).
        c.nodes[0].stop_pdns()
        a = ours.send("PUT", BASE + "/zones/%s./notify" % domain)
        assert a[0] == 502 and "node 'ns1'" in a[1]["error"], a[1]
        a = ours.send("PUT", BASE + "/cache/flush", params={"domain": domain + "."})
        assert a[0] == 502 and "node 'ns1'" in a[1]["error"], a[1]
        a = ours.send("GET", BASE + "/statistics")
        assert a[0] == 200 and a[1] == []
    finally:
        secondary.close()


def records_of(text, name):
    """The RRsets of a zone file but the SOA, as {(name, type): sorted texts}."""
    z = dns.zone.from_text(text, origin=name, relativize=False, check_origin=False)
    out = {}
    for owner, node in z.nodes.items():
        for rds in node.rdatasets:
            if rds.rdtype != dns.rdatatype.SOA:
                out[(owner.to_text(), dns.rdatatype.to_text(rds.rdtype))] = (
                    rds.ttl, sorted(r.to_text() for r in rds))
    return out


def test_export_agrees_with_powerdns(sides, domain):
    c, ours, pdns = sides
    same_zone(c, ours, pdns, domain)
    name = domain + "."
    a, b = ours.send("GET", BASE + "/zones/%s/export" % name), \
        pdns.send("GET", BASE + "/zones/%s/export" % name)
    assert a[0] == b[0] == 200
    assert a[2].headers["content-type"] == b[2].headers["content-type"] == \
        "text/plain; charset=us-ascii"
    mine, theirs = records_of(a[2].text, name), records_of(b[2].text, name)
    assert ("www." + name, "A") in mine
    # The NS TTL is the cluster's default-ttl, PowerDNS's default-ttl its own.
    assert {k: v[1] for k, v in mine.items()} == {k: v[1] for k, v in theirs.items()}
    assert {k: v for k, v in mine.items() if k[1] != "NS"} == \
        {k: v for k, v in theirs.items() if k[1] != "NS"}
    # JSON when asked for.
    a, b = [side.send("GET", BASE + "/zones/%s/export" % name,
                      headers={"Accept": "application/json"}) for side in (ours, pdns)]
    assert a[0] == b[0] == 200 and shape(a[1]) == shape(b[1]) == {"zone": "str"}
    assert records_of(a[1]["zone"], name) == mine


def query_each_node(c, name, times=1):
    for n in c.nodes:
        for _ in range(times):
            n.query(name, "A")


def test_cache_flush_purges_every_node(sides, domain):
    c, ours, pdns = sides
    same_zone(c, ours, pdns, domain)
    name = domain + "."
    c.wait_all_nodes("www." + name, "A", ["192.0.2.1", "192.0.2.2"])
    # Each node purges a changed zone a second time 10 ms after the push
    # (src/agent/repurge.c): cache the answer only after that one ran.
    time.sleep(0.2)
    query_each_node(c, "www." + name)
    a = ours.send("PUT", BASE + "/cache/flush", params={"domain": name})
    b = pdns.send("PUT", BASE + "/cache/flush", params={"domain": name})
    assert a[0] == b[0] == 200 and shape(a[1]) == shape(b[1])
    assert a[1]["result"] == b[1]["result"] == "Flushed cache."
    # Each node had the answer in its packet cache.
    assert a[1]["count"] >= len(c.nodes), a[1]
    # Nothing left to purge.
    a = ours.send("PUT", BASE + "/cache/flush", params={"domain": name})
    assert a[0] == 200 and a[1]["count"] < len(c.nodes), a[1]
    # Any name, the root too; case does not matter.
    for q in (".", name.upper(), "_acme-challenge.www." + name):
        a, b = ours.send("PUT", BASE + "/cache/flush", params={"domain": q}), \
            pdns.send("PUT", BASE + "/cache/flush", params={"domain": q})
        assert a[0] == b[0] == 200, (q, a[1])
    query_each_node(c, "www." + name)
    a = ours.send("PUT", BASE + "/cache/flush", params={"domain": "."})
    assert a[0] == 200 and a[1]["count"] >= len(c.nodes), a[1]
    for q in ({"domain": domain}, {"domain": "bad..x."}, {}):
        a, b = ours.send("PUT", BASE + "/cache/flush", params=q), \
            pdns.send("PUT", BASE + "/cache/flush", params=q)
        assert a[0] == b[0] == 422 and a[1]["error"], q


def stat(side, statistic):
    a = side.send("GET", BASE + "/statistics", params={"statistic": statistic})
    assert a[0] == 200, a[1]
    assert len(a[1]) == 1 and a[1][0]["name"] == statistic
    return int(a[1][0]["value"])


def test_statistics_are_the_nodes_counters_summed(sides, domain):
    c, ours, pdns = sides
    same_zone(c, ours, pdns, domain)
    name = domain + "."
    c.wait_all_nodes("www." + name, "A", ["192.0.2.1", "192.0.2.2"])
    a, b = ours.send("GET", BASE + "/statistics"), pdns.send("GET", BASE + "/statistics")
    assert a[0] == b[0] == 200
    assert shape(a[1]) == [{"name": "str", "type": "str", "value": "str"}]
    assert {"name": "str", "type": "str", "value": "str"} in shape(b[1])
    names = [s["name"] for s in a[1]]
    assert names == sorted(names) and {s["type"] for s in a[1]} == {"StatisticItem"}
    theirs = {s["name"] for s in b[1]}
    for n in ("udp-queries", "udp-answers", "packetcache-hit", "packetcache-miss", "uptime"):
        assert n in names and n in theirs, n
    before = stat(ours, "udp-queries")
    query_each_node(c, "www." + name, times=3)
    assert stat(ours, "udp-queries") >= before + 3 * len(c.nodes)
    for side in (ours, pdns):
        a = side.send("GET", BASE + "/statistics", params={"statistic": "no-such-counter"})
        assert a[0] == 422 and a[1] == {"error": "Unknown statistic name"}
    a, b = [side.send("GET", BASE + "/statistics", params={"includerings": "false"})
            for side in (ours, pdns)]
    assert a[0] == b[0] == 200


def found(side, **params):
    a = side.send("GET", BASE + "/search-data", params=params)
    assert a[0] == 200, (params, a[1])
    return a[1]


def without_soa(objects):
    return sorted((o for o in objects if o.get("type") != "SOA"),
                  key=lambda o: sorted((k, str(v)) for k, v in o.items()))


def test_search_data_agrees_with_powerdns(sides, domain):
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    c.add_record(zid, "uniq", "TXT", '"mark-%s"' % domain, ttl=60)
    assert pdns.send("PATCH", BASE + "/zones/" + name, {"rrsets": [
        {"name": "uniq." + name, "type": "TXT", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": '"mark-%s"' % domain, "disabled": False}]}]})[0] == 204

    # Names without their final dot, in records' names and contents alike.
    for q in (domain, domain.upper(), "www." + domain, "*." + domain, "mail." + domain,
              '"mark-%s"' % domain, "*mark-%s*" % domain, "w?w." + domain, name):
        mine, theirs = found(ours, q=q), found(pdns, q=q)
        assert without_soa(mine) == without_soa(theirs), q
        assert shape(mine) == shape(theirs) or mine == theirs == [], q
    # The zone itself, with the records at its apex, zones first.
    mine = found(ours, q=domain)
    assert mine[0] == {"name": name, "object_type": "zone", "zone_id": name}
    assert {o["type"] for o in mine[1:]} == {"NS", "MX"}
    assert [o["content"] for o in found(ours, q="mail." + domain)] == ["10 mail." + name]
    assert found(ours, q=name) == found(ours, q="mail." + name) == []
    # max counts each kind of object; object_type picks one.
    for side in (ours, pdns):
        assert len(found(side, q="*." + domain, max=1)) == 1
        assert len(found(side, q=domain, max=1)) == 2
        assert [o["object_type"] for o in found(side, q=domain, object_type="zone")] == ["zone"]
        assert {o["object_type"] for o in found(side, q=domain, object_type="record")} == \
            {"record"}
        assert found(side, q=domain, object_type="comment") == []
    # A read token may search.
    assert ours.send("GET", BASE + "/search-data", params={"q": domain},
                     key=c.whm.read_token)[0] == 200


def test_search_data_patterns_cost_what_the_text_does(sides, domain):
    """q is at most 255 bytes, and a pattern made to backtrack ('*' then
    many '?') over long TXT records is answered like any other, several at
    once beside other requests."""
    import concurrent.futures
    c, ours, pdns = sides
    name = domain + "."
    strings = lambda i, j: " ".join('"%s"' % ("%d-%d-" % (i, j) + "a" * 240) for _ in range(8))
    body = {"name": name, "kind": "Native", "nameservers": ["ns1.yumna.test."],
            "rrsets": [{"name": "t%d.%s" % (i, name), "type": "TXT", "ttl": 60,
                        "records": [{"content": strings(i, j)} for j in range(10)]}
                       for i in range(20)]}
    assert ours.send("POST", BASE + "/zones", body, params={"rrsets": "false"})[0] == 201
    a = ours.send("GET", BASE + "/search-data", params={"q": "*" * 256})
    assert a[0] == 422 and "255 bytes" in a[1]["error"], a[1]
    costly = {"q": "*" + "?" * 253 + '"', "max": "1000", "object_type": "record"}
    with concurrent.futures.ThreadPoolExecutor(9) as pool:
        searches = [pool.submit(ours.send, "GET", BASE + "/search-data", params=costly)
                    for _ in range(8)]
        other = pool.submit(ours.send, "GET", BASE + "/zones/" + name,
                            params={"rrsets": "false"})
        assert other.result()[0] == 200
        for f in searches:
            a = f.result()
            assert a[0] == 200, a[1]
            assert len([o for o in a[1] if o["zone"] == name]) == 200
    # The longest pattern still matches as before.
    q = "t1?." + domain + "*" * (255 - 4 - len(domain))
    assert len(q) == 255
    assert {o["name"] for o in found(ours, q=q, object_type="record")} == \
        {"t%d.%s" % (i, name) for i in range(10, 20)}


@pytest.mark.parametrize("params", [
    {}, {"q": ""}, {"q": "*", "max": "0"}, {"q": "*", "object_type": "bogus"},
])
def test_search_data_refusals_agree_with_powerdns(sides, params):
    c, ours, pdns = sides
    a, b = [side.send("GET", BASE + "/search-data", params=params) for side in (ours, pdns)]
    assert a[0] == b[0] == 422 and a[1]["error"], (params, a[1], b[1])
    if "max" not in params:
        assert a[1] == b[1]
    a = ours.send("GET", BASE + "/search-data", params={"q": "*", "max": "x"})
    assert a[0] == 422 and a[1]["error"]
