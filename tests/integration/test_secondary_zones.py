"""Zones from an external primary: a real BIND named is the primary of a
secondary zone; the controller transfers it (AXFR, then IXFR where named
offers it) and every node serves the primary's data with the primary's
serial. A NOTIFY from the primary to the controller's DNS listener starts
a refresh (test_a_notify_from_the_primary_starts_the_transfer); the other
tests start it with POST /api/dns/:id/retrieve, which does the same; bad
transfers (out-of-zone data, a transfer that ends early or stalls, a serial
that goes backwards, a wrong TSIG key) change nothing."""

import base64
import socket
import time

import dns.message
import dns.name
import dns.opcode
import dns.rdata
import dns.rrset
import pytest

import cluster as cl
import harness
from dns_primaries import BindPrimary, FakePrimary, KnotPrimary
from dnsupdate_tools import exchange_udp, keyring, listener, listener_cluster, rcode_of
from test_yumnactl import NOT_FOUND, REFUSED, USAGE, Ctl

pytest_plugins = ["cluster_fixtures"]

SECRET = base64.b64encode(b"secondary-zone-test-secret-32by!").decode()
OTHER = base64.b64encode(b"a-different-secret-of-32-bytes!!").decode()


def zone_file(zone, serial, a="192.0.2.1", extra=""):
    return """$TTL 300
@ IN SOA ns1.{z} hostmaster.{z} {s} 3600 600 86400 300
@ IN NS ns1.{z}
ns1 IN A 192.0.2.53
www IN A {a}
mail IN MX 10 mx.example.net.
txt IN TXT "from the primary"
{extra}""".format(z=zone, s=serial, a=a, extra=extra)


def create_secondary(whm, zone, primaries, key=None, expect=201):
    body = {"domain": zone, "kind": "secondary", "primaries": primaries}
    if key:
        body["tsig_key"] = key
    r = whm.post("/api/dns", body)
    assert r.status_code == expect, cl.describe(r)
    return r.json()


def wait_state(whm, zone_id, pred, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        z = whm.zone(zone_id)
        if pred(z["secondary"]) or time.monotonic() > deadline:
            return z
        time.sleep(0.1)


def fake_soa(zone, serial):
    return dns.rrset.from_text(zone, 3600, "IN", "SOA",
                               "ns1.%s h.%s %d 3600 600 86400 300" % (zone, zone, serial))


def fake_primary(zone, serial=100, www="192.0.2.1", extra=(), mode="ok"):
    """A FakePrimary of 'zone' at 'serial': its apex NS, www A 'www' and the
    RRsets 'extra'."""
    recs = [dns.rrset.from_text(zone, 300, "IN", "NS", "ns1." + zone),
            dns.rrset.from_text("www." + zone, 300, "IN", "A", www)] + list(extra)
    return FakePrimary(zone, "ns1.%s h.%s %d 3600 600 86400 300" % (zone, zone, serial), recs,
                       mode=mode)


def retrieve(whm, zone_id):
    r = whm.post("/api/dns/%d/retrieve" % zone_id)
    assert r.status_code == 202, cl.describe(r)


@pytest.fixture
def primary(tmp_path, domain):
    zone = domain + "."
    p = BindPrimary(tmp_path / "named", {zone: zone_file(zone, 100)})
    p.start()
    yield p
    p.stop()


def test_a_large_zone_is_transferred_whole(cluster, tmp_path, domain):
    """A zone of 50,000 RRsets from a BIND primary: stored as one version
    and served by every node. Its routing policies were once planned by a
    walk of every record for each RRset (50,000 squared: minutes, the
    zone's turn held), so it never arrived; it takes seconds."""
    zone = domain + "."
    n = 50000
    extra = "".join('t%d IN TXT "v%d"\n' % (i, i) for i in range(n))
    p = BindPrimary(tmp_path / "named", {zone: zone_file(zone, 100, extra=extra)})
    p.start()
    try:
        zid = create_secondary(cluster.whm, zone, [p.address])["zoneId"]
        z = wait_state(cluster.whm, zid, lambda s: s.get("serial") == 100 or
                       (s.get("last_error") and "SERVFAIL" not in s["last_error"]), 45)
        assert z["serial"] == 100, z["secondary"]
        cluster.wait_all_nodes("t%d.%s" % (n - 1, zone), "TXT", ['"v%d"' % (n - 1)], timeout=60)
        assert set(cluster.soa_serials(zone).values()) == {100}
    finally:
        p.stop()


def test_a_bind_primary_feeds_every_node_with_its_serial(cluster, primary, domain):
    zone = domain + "."
    made = create_secondary(cluster.whm, zone, [primary.address])
    zid = made["zoneId"]
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
    cluster.wait_all_nodes("txt." + zone, "TXT", ['"from the primary"'])
    assert set(cluster.soa_serials(zone).values()) == {100}
    z = wait_state(cluster.whm, zid, lambda s: s.get("serial") == 100)
    assert z["kind"] == "secondary" and z["serial"] == 100
    assert z["secondary"]["state"] == "ok" and z["secondary"]["transfers"]["axfr"] == 1
    assert z["secondary"]["primaries"] == [primary.address]

    # Users cannot change it: its data comes from its primary.
    r = cluster.whm.post("/api/dns/%d/records" % zid,
                         {"name": "x", "type": "A", "content": "192.0.2.9"})
    assert r.status_code == 409 and "comes from its primary" in r.json()["error"]
    r = cluster.whm.request("PATCH", "/api/dns/%d/rrsets" % zid, json_body={"rrsets": [
        {"name": "x." + zone, "type": "A", "changetype": "REPLACE",
         "records": [{"content": "192.0.2.9"}]}]})
    assert r.status_code == 409, cl.describe(r)
    r = cluster.whm.post("/api/dns/%d/increase-serial" % zid)
    assert r.status_code == 409, cl.describe(r)
    r = cluster.whm.post("/api/dns/%d/dnssec" % zid, {})
    assert r.status_code == 409 and "comes from its primary" in r.json()["error"], \
        cl.describe(r)
    r = cluster.whm.put("/api/dns/%d" % zid, {"soa": {"refresh": 7200}})
    assert r.status_code == 409, cl.describe(r)
    r = cluster.whm.post("/api/dns/%d/import" % zid, {"content": "x 60 IN A 192.0.2.9\n"})
    assert r.status_code == 409, cl.describe(r)
    r = cluster.whm.post("/api/dns/%d/rollback" % zid, {"version": 1})
    assert r.status_code == 409, cl.describe(r)

    # A change on the primary, then a refresh (what a NOTIFY starts): it
    # comes as an IXFR, and every node serves it with the new serial.
    primary.reload(zone, zone_file(zone, 101, a="192.0.2.2"))
    retrieve(cluster.whm, zid)
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.2"], timeout=20)
    assert set(cluster.soa_serials(zone).values()) == {101}
    z = wait_state(cluster.whm, zid, lambda s: s.get("serial") == 101)
    assert z["secondary"]["transfers"]["ixfr"] == 1, z
    assert "IXFR started" in primary.logs()
    metrics = cluster.whm.get("/metrics").text
    assert 'yumna_whm_secondary_transfers_total{kind="ixfr"} 1' in metrics

    # The same serial again: nothing new is stored.
    version = cluster.whm.zone(zid)["version"]
    retrieve(cluster.whm, zid)
    time.sleep(1.0)
    assert cluster.whm.zone(zid)["version"] == version


def test_the_primary_stopped_and_restarted(cluster, primary, domain):
    zone = domain + "."
    zid = create_secondary(cluster.whm, zone, [primary.address])["zoneId"]
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
    primary.stop()
    retrieve(cluster.whm, zid)
    z = wait_state(cluster.whm, zid, lambda s: s["state"] == "retrying")
    assert z["secondary"]["state"] == "retrying" and z["secondary"]["last_error"], z
    status = cluster.whm.get("/api/dns/cluster/status").json()["secondaryZones"]
    assert status["retrying"] == 1 and status["attention"][0]["zone"] == zone, status
    assert 'yumna_whm_secondary_zones{state="retrying"} 1' in cluster.whm.get("/metrics").text
    # The nodes keep serving what they had.
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"])
    primary.write_zone(zone, zone_file(zone, 102, a="192.0.2.3"))
    primary.start()
    retrieve(cluster.whm, zid)
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.3"], timeout=20)
    assert set(cluster.soa_serials(zone).values()) == {102}
    assert wait_state(cluster.whm, zid, lambda s: s["state"] == "ok")["secondary"]["state"] == "ok"


def test_a_serial_going_backwards_is_ignored(cluster, domain):
    # BIND refuses to load a lower serial itself: a primary that serves one.
    zone = domain + "."
    fake = fake_primary(zone)
    try:
        zid = create_secondary(cluster.whm, zone, [fake.address])["zoneId"]
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
        version = wait_state(cluster.whm, zid, lambda s: s.get("serial") == 100)["version"]
        fake.soa = fake_soa(zone, 50)
        other = dns.rrset.from_text("www." + zone, 300, "IN", "A", "192.0.2.66")
        fake.records = [fake.records[0], other]
        retrieve(cluster.whm, zid)
        z = wait_state(cluster.whm, zid,
                       lambda s: "backwards" in (s.get("last_error") or ""))
        assert "backwards" in (z["secondary"]["last_error"] or ""), z
        assert z["version"] == version and z["serial"] == 100
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"])
        assert set(cluster.soa_serials(zone).values()) == {100}
        assert "behind 100: ignored" in cluster.whm.logs()
    finally:
        fake.close()


def test_tsig_signs_the_transfers_and_a_wrong_key_stores_nothing(cluster, tmp_path, domain):
    zone = domain + "."
    keyname = "xfr." + zone
    cluster.whm.call("POST", "/api/dns/tsig-keys", {"name": keyname, "secret": SECRET},
                     expect=201)
    good = BindPrimary(tmp_path / "good", {zone: zone_file(zone, 7)},
                       key=(keyname, "hmac-sha256", SECRET))
    bad = BindPrimary(tmp_path / "bad", {zone: zone_file(zone, 8, a="192.0.2.99")},
                      key=(keyname, "hmac-sha256", OTHER))
    good.start()
    bad.start()
    try:
        # The wrong secret: refused, nothing stored.
        zid = create_secondary(cluster.whm, zone, [bad.address], key=keyname)["zoneId"]
        z = wait_state(cluster.whm, zid, lambda s: s.get("last_error"))
        assert z["secondary"]["state"] == "pending" and z["version"] == 1, z
        assert cluster.whm.records(zid) == [] or all(
            r["content"] != "192.0.2.99" for r in cluster.whm.records(zid))
        cluster.whm.call("DELETE", "/api/dns/%d" % zid, expect=200)
        # The right key: transferred.
        zid = create_secondary(cluster.whm, zone, [good.address], key=keyname)["zoneId"]
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
        assert set(cluster.soa_serials(zone).values()) == {7}
    finally:
        good.stop()
        bad.stop()


def test_an_unknown_key_or_bad_primaries_are_refused(cluster, domain):
    zone = domain + "."
    for body, what in [
        ({"primaries": []}, "primaries"),
        ({"primaries": ["not an address"]}, "primaries[0]"),
        ({"primaries": ["127.0.0.1:70000"]}, "primaries[0]"),
        ({"primaries": ["127.0.0.1"], "tsig_key": "nope.example."}, "tsig_key"),
        ({"kind": "primary", "primaries": ["127.0.0.1"]}, "primaries"),
        ({"kind": "other"}, "kind"),
    ]:
        body = dict({"domain": zone, "kind": "secondary"}, **body)
        r = cluster.whm.post("/api/dns", body)
        assert r.status_code == 422 and what in r.json()["error"], cl.describe(r)
    assert zone not in cluster.whm.zones()


@pytest.mark.parametrize("mode", ["outside", "short", "stall", "private", "lua",
                                  "other-question"])
def test_bad_transfers_store_nothing(cluster, domain, mode):
    """Data outside the zone, a transfer that ends early or stalls: refused.
    So is BIND's signing state (TYPE65534, generic data) in a zone without
    signatures, with the type named. (A zone its primary signs is served
    as it comes, BIND's TYPE65534 included: test_secondary_presigned.py.)
    So is a LUA record, as a PowerDNS primary serves it (type 65402), and
    a transfer answered to a question about another zone."""
    zone = domain + "."
    extra = {
        "outside": [dns.rrset.from_text("www.elsewhere.example.", 300, "IN", "A", "192.0.2.8")],
        "private": [dns.rrset.from_text(zone, 0, "IN", "TYPE65534", r"\# 5 0D3C4F0001")],
        "lua": [dns.rrset.from_text("lua." + zone, 300, "IN", "TYPE65402", r"\# 5 0001414243")],
    }
    fake = fake_primary(zone, serial=5, www="192.0.2.7", extra=extra.get(mode, ()),
                        mode="ok" if mode in extra else mode)
    try:
        zid = create_secondary(cluster.whm, zone, [fake.address])["zoneId"]
        z = wait_state(cluster.whm, zid, lambda s: s.get("last_error"), timeout=30)
        err = z["secondary"]["last_error"]
        assert err, z
        assert {"outside": "outside the zone", "short": "closed before",
                "stall": "stalled", "private": "TYPE65534", "lua": "LUA",
                "other-question": "another query"}[mode] in err, err
        assert z["version"] == 1 and z["secondary"]["state"] == "pending"
        assert all(r["content"] != "192.0.2.7" for r in cluster.whm.records(zid))
    finally:
        fake.close()


@pytest.mark.parametrize("stream", ["gap", "wrong-start"])
def test_an_ixfr_that_skips_changes_stores_nothing(cluster, domain, stream):
    """An IXFR whose differences skip one (100 -> 101, then the closing SOA
    of 102) or do not start at the serial held: the controller asks for the
    whole zone instead, and as an AXFR the same stream is broken too, so
    nothing is stored and the zone keeps serial 100 on every node."""
    zone = domain + "."

    def soa(serial):
        return fake_soa(zone, serial)

    fake = fake_primary(zone)
    try:
        zid = create_secondary(cluster.whm, zone, [fake.address])["zoneId"]
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
        version = cluster.whm.zone(zid)["version"]
        added = dns.rrset.from_text("x." + zone, 300, "IN", "A", "192.0.2.9")
        fake.records = {"gap": [soa(102), soa(100), soa(101), added, soa(102)],
                        "wrong-start": [soa(102), soa(3)]}[stream]
        fake.soa, fake.mode = soa(102), "raw"
        retrieve(cluster.whm, zid)
        z = wait_state(cluster.whm, zid, lambda s: s.get("last_error"))
        assert z["secondary"]["last_error"], z
        assert z["version"] == version and z["secondary"].get("serial") == 100, z
        assert all(r["name"] != "x" for r in cluster.whm.records(zid))
        assert set(cluster.soa_serials(zone).values()) == {100}
    finally:
        fake.close()


def test_a_stalled_transfer_does_not_hold_up_the_other_zones(cluster, primary, domain):
    """Secondary zones are refreshed by a few workers at once: while one
    primary has gone quiet in the middle of a transfer (the controller
    waits 10 s for its next byte), another zone is transferred and served
    by every node."""
    quiet = "quiet-" + domain + "."
    fake = fake_primary(quiet, serial=5, www="192.0.2.7", mode="stall")
    try:
        qid = create_secondary(cluster.whm, quiet, [fake.address])["zoneId"]
        assert fake.stalled.wait(20)
        zone = domain + "."
        create_secondary(cluster.whm, zone, [primary.address])
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
        # The quiet zone's first refresh has not ended yet: it ends in an
        # error only when the stall limit runs out.
        s = cluster.whm.zone(qid)["secondary"]
        assert s["state"] == "pending" and not s["last_error"] and not s["last_check"], s
        z = wait_state(cluster.whm, qid, lambda s: s.get("last_error"), timeout=30)
        assert "stalled" in z["secondary"]["last_error"], z
    finally:
        fake.close()


def test_primaries_that_stall_do_not_hold_up_the_zones_that_work(cluster, primary, domain):
    """Four zones whose primaries go quiet mid-transfer, as many as there
    are workers: one worker stays for the zones whose refreshes work, so a
    change on a working primary reaches every node while the four wait
    out their stall (10 s each); before, it waited for one of them."""
    zone = domain + "."
    zid = create_secondary(cluster.whm, zone, [primary.address])["zoneId"]
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
    wait_state(cluster.whm, zid, lambda s: s.get("state") == "ok")
    fakes = [fake_primary("quiet%d-%s" % (i, zone), serial=5, mode="stall") for i in range(4)]
    try:
        for f in fakes:
            create_secondary(cluster.whm, f.zone, [f.address])
        # Three stall at once; the fourth waits for one of them.
        harness.wait_until(lambda: sum(f.stalled.is_set() for f in fakes) >= 3, 20)
        assert sum(f.stalled.is_set() for f in fakes) == 3
        primary.reload(zone, zone_file(zone, 101, a="192.0.2.2"))
        t0 = time.monotonic()
        retrieve(cluster.whm, zid)
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.2"], timeout=20)
        assert time.monotonic() - t0 < 5, "the working zone waited for a stalled one"
        assert sum(f.stalled.is_set() for f in fakes) == 3, "a fourth stall took the last worker"
    finally:
        for f in fakes:
            f.close()


def test_powerdns_api_slave_zone_with_masters(cluster, primary, domain):
    """POST /api/v1/servers/localhost/zones with kind Slave and masters, as
    PowerDNS's API takes it; PUT .../axfr-retrieve refreshes it."""
    zone = domain + "."
    base = "/api/v1/servers/localhost/zones"
    r = cluster.whm.post(base, {"name": zone, "kind": "Slave", "nameservers": [],
                                "masters": [primary.address]})
    assert r.status_code == 201, cl.describe(r)
    assert r.json()["kind"] == "Slave" and r.json()["masters"] == [primary.address]
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
    got = cluster.whm.get(base + "/" + zone).json()
    assert got["kind"] == "Slave" and got["serial"] == 100 and got["masters"] == [primary.address]
    primary.reload(zone, zone_file(zone, 101, a="192.0.2.2"))
    r = cluster.whm.put(base + "/" + zone + "/axfr-retrieve")
    assert r.status_code == 200 and "retrieval" in r.json()["result"], cl.describe(r)
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.2"], timeout=20)
    # Its records are not the API's to change, nor its kind.
    r = cluster.whm.request("PATCH", base + "/" + zone, json_body={"rrsets": [
        {"name": "x." + zone, "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "192.0.2.9", "disabled": False}]}]})
    assert r.status_code in (409, 422) and "primary" in r.json()["error"], cl.describe(r)
    r = cluster.whm.put(base + "/" + zone, {"kind": "Native"})
    assert r.status_code == 422, cl.describe(r)
    # A zone of its own has nothing to retrieve.
    cluster.whm.post(base, {"name": "own." + zone, "kind": "Native",
                            "nameservers": ["ns1.example.net."]})
    r = cluster.whm.put(base + "/own." + zone + "/axfr-retrieve")
    assert r.status_code == 422, cl.describe(r)


def test_yumnactl_creates_shows_and_retrieves_a_secondary_zone(cluster, primary, domain,
                                                                tmp_path):
    ctl = Ctl(cluster, tmp_path)
    zone = domain + "."
    ctl.run("zones", "create", "--tsig-key", "k.example.", zone, expect=USAGE)
    ctl.run("zones", "create", "--primary", "nowhere", zone, expect=REFUSED)
    made = ctl.json("zones", "create", "--primary", primary.address, zone)
    zid = made["zoneId"]
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
    wait_state(cluster.whm, zid, lambda s: s.get("serial") == 100)
    shown = ctl.run("zones", "show", zone).stdout
    assert "secondary of" in shown and primary.address in shown and "state    ok" in shown
    ctl.run("records", "add", zone, "x", "A", "192.0.2.9", expect=REFUSED)
    primary.reload(zone, zone_file(zone, 101, a="192.0.2.2"))
    ctl.run("zones", "retrieve", zone)
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.2"], timeout=20)
    own = ctl.json("zones", "create", "own." + zone)["zoneId"]
    ctl.run("zones", "retrieve", str(own), expect=NOT_FOUND)


def test_past_expire_the_zone_is_not_served_until_a_primary_answers(cluster_factory, tmp_path,
                                                                     domain):
    """RFC 1035 section 4.3.5: past the SOA's expire (86400 s here) without
    a primary, the zone stops being served; the clock is moved with the
    controller's test clock file."""
    clock = tmp_path / "clock-offset"
    clock.write_text("0\n")
    c = cluster_factory(whm_config={"dnssec-test-clock-offset-file": str(clock)})
    zone = domain + "."
    primary = BindPrimary(tmp_path / "named", {zone: zone_file(zone, 100)})
    primary.start()
    try:
        zid = create_secondary(c.whm, zone, [primary.address])["zoneId"]
        c.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
        wait_state(c.whm, zid, lambda s: s.get("serial") == 100)
        primary.stop()
        # Not yet past expire: retrying, still served.
        retrieve(c.whm, zid)
        wait_state(c.whm, zid, lambda s: s["state"] == "retrying")
        c.wait_all_nodes("www." + zone, "A", ["192.0.2.1"])
        # Past expire: no node serves it; the status and the metrics say so.
        clock.write_text("90000\n")
        retrieve(c.whm, zid)
        c.wait_rcode(zone, "SOA", "REFUSED", timeout=20)
        status = c.whm.get("/api/dns/cluster/status").json()["secondaryZones"]
        assert status["expired"] == 1 and status["attention"][0]["zoneId"] == zid, status
        assert 'yumna_whm_secondary_zones{state="expired"} 1' in c.whm.get("/metrics").text
        assert "expired: no primary answered" in c.whm.logs()
        # The primary is back (with a change): the zone is served again.
        primary.write_zone(zone, zone_file(zone, 103, a="192.0.2.4"))
        primary.start()
        retrieve(c.whm, zid)
        c.wait_all_nodes("www." + zone, "A", ["192.0.2.4"], timeout=20)
        assert set(c.soa_serials(zone).values()) == {103}
        z = wait_state(c.whm, zid, lambda s: s["state"] == "ok")
        assert z["kind"] == "secondary" and z["serial"] == 103
        # Expired again, then deleted by a user: gone for good.
        primary.stop()
        clock.write_text("200000\n")
        retrieve(c.whm, zid)
        c.wait_rcode(zone, "SOA", "REFUSED", timeout=20)
        c.whm.call("DELETE", "/api/dns/%d" % zid, expect=200)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = c.whm.get("/api/dns/cluster/status").json()["secondaryZones"]
            if status["expired"] == 0:
                break
            time.sleep(0.2)
        assert status["expired"] == 0 and status["attention"] == [], status
        r = c.whm.post("/api/dns/%d/retrieve" % zid)
        assert r.status_code == 404, cl.describe(r)
    finally:
        primary.stop()


def test_a_notify_from_the_primary_starts_the_transfer(tmp_path, domain):
    """BIND sends its NOTIFY to the controller's DNS listener after each
    change (also-notify): every node serves the change without a retrieve
    request or a refresh timer (the SOA's refresh is an hour). A NOTIFY
    from another address is REFUSED and starts nothing."""
    zone = domain + "."
    with listener_cluster(str(tmp_path / "c")) as c:
        addr = listener(c.whm)
        primary = BindPrimary(tmp_path / "named", {zone: zone_file(zone, 100)}, notify=addr)
        primary.start()
        try:
            zid = create_secondary(c.whm, zone, [primary.address])["zoneId"]
            c.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
            wait_state(c.whm, zid, lambda s: s.get("serial") == 100)
            primary.reload(zone, zone_file(zone, 101, a="192.0.2.2"))
            c.wait_all_nodes("www." + zone, "A", ["192.0.2.2"], timeout=20)
            assert set(c.soa_serials(zone).values()) == {101}
            z = wait_state(c.whm, zid, lambda s: s["transfers"]["ixfr"] == 1)
            assert z["secondary"]["transfers"]["ixfr"] == 1, z
            assert "yumna_whm_secondary_notifies_total 1" in c.whm.get("/metrics").text
            # The same NOTIFY from an address that is not the primary.
            n = dns.message.make_query(zone, "SOA")
            n.set_opcode(dns.opcode.NOTIFY)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.2", 0))
                s.settimeout(5)
                s.sendto(n.to_wire(), addr)
                assert rcode_of(s.recv(65535)) == "REFUSED"
            # A NOTIFY for a zone that is not a secondary zone here.
            other = dns.message.make_query("own-" + zone, "SOA")
            other.set_opcode(dns.opcode.NOTIFY)
            assert rcode_of(exchange_udp(addr, other.to_wire())) == "NOTAUTH"
            # And the primary's own, by hand: accepted.
            assert rcode_of(exchange_udp(addr, n.to_wire())) == "NOERROR"
        finally:
            primary.stop()


def test_a_notify_storm_costs_the_primary_an_soa_query_per_interval(tmp_path, domain):
    """NOTIFYs from the primary's address in a loop (the primary's own bug,
    or anyone spoofing it): the controller asks the primary for the SOA at
    most once per 2 s per zone, not once per NOTIFY."""
    zone = domain + "."
    with listener_cluster(str(tmp_path / "c")) as c:
        addr = listener(c.whm)
        fake = fake_primary(zone)
        try:
            create_secondary(c.whm, zone, [fake.address])
            c.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
            n = dns.message.make_query(zone, "SOA")
            n.set_opcode(dns.opcode.NOTIFY)
            wire, sent, before = n.to_wire(), 0, fake.soa_queries
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", 0))
                s.setblocking(False)
                end = time.monotonic() + 3.0
                while time.monotonic() < end:
                    s.sendto(wire, addr)
                    sent += 1
                    try:
                        while True:
                            s.recv(65535)
                    except BlockingIOError:
                        pass
                    time.sleep(0.002)
            time.sleep(0.5)
            asked = fake.soa_queries - before
            assert sent > 300 and 1 <= asked <= 3, (sent, asked)
        finally:
            fake.close()


def test_a_notify_signed_with_the_zones_key_is_taken_from_any_address(tmp_path, domain):
    """A primary that notifies from another address (a second interface, a
    NAT) is still known by the zone's TSIG key: a NOTIFY signed with it
    starts the refresh from any address, and its answer is signed. From an
    address that is not the primary, an unsigned NOTIFY, or one signed with
    another key the controller knows, is REFUSED and starts nothing."""
    zone = domain + "."
    with listener_cluster(str(tmp_path / "c")) as c:
        addr = listener(c.whm)
        mine = ("notify." + zone, "hmac-sha256", SECRET)
        other = ("other." + zone, "hmac-sha256", OTHER)
        for name, alg, secret in (mine, other):
            c.whm.call("POST", "/api/dns/tsig-keys",
                       {"name": name, "algorithm": alg, "secret": secret}, expect=201)
        primary = KnotPrimary(tmp_path / "knot", {zone: zone_file(zone, 300)}, key=mine)
        primary.start()
        try:
            zid = create_secondary(c.whm, zone, [primary.address], key=mine[0])["zoneId"]
            c.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
            wait_state(c.whm, zid, lambda s: s.get("serial") == 300)
            primary.reload(zone, zone_file(zone, 301, a="192.0.2.31"))

            def notify(key):
                n = dns.message.make_query(zone, "SOA")
                n.set_opcode(dns.opcode.NOTIFY)
                if key:
                    n.use_tsig(keyring(key))
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind(("127.0.0.2", 0))
                    s.settimeout(5)
                    s.sendto(n.to_wire(), addr)
                    answer = s.recv(65535)
                if key:     # dnspython checks the answer's TSIG
                    dns.message.from_wire(answer, keyring=keyring(key), request_mac=n.mac)
                return rcode_of(answer)

            assert notify(None) == "REFUSED"
            assert notify(other) == "REFUSED"
            time.sleep(1.0)
            assert c.whm.zone(zid)["serial"] == 300     # the refresh is an hour away
            assert notify(mine) == "NOERROR"
            c.wait_all_nodes("www." + zone, "A", ["192.0.2.31"], timeout=20)
            assert set(c.soa_serials(zone).values()) == {301}
        finally:
            primary.stop()


def test_a_controller_restart_keeps_the_secondary_zones(cluster, primary, domain):
    """After a restart the refresh thread reads the secondary zones back
    from the store: the zone is ok at its serial (not transferred again
    while the primary's serial is the same), and the next change still
    comes as an IXFR: the zone it starts from is read back from the store."""
    zone = domain + "."
    zid = create_secondary(cluster.whm, zone, [primary.address])["zoneId"]
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
    version = wait_state(cluster.whm, zid, lambda s: s.get("serial") == 100)["version"]
    cluster.whm.restart()
    retrieve(cluster.whm, zid)
    z = wait_state(cluster.whm, zid, lambda s: s["state"] == "ok" and s["last_check"] > 0)
    assert z["version"] == version and z["secondary"]["transfers"]["axfr"] == 0, z
    primary.reload(zone, zone_file(zone, 101, a="192.0.2.2"))
    retrieve(cluster.whm, zid)
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.2"], timeout=20)
    z = wait_state(cluster.whm, zid, lambda s: s.get("serial") == 101)
    assert z["secondary"]["transfers"] == {"axfr": 0, "ixfr": 1, "failed": 0}, z
    assert "IXFR started" in primary.logs()
    cluster.wait_all_nodes("mail." + zone, "MX", ["10 mx.example.net."])


def test_a_knot_primary_with_tsig_feeds_the_zone_by_ixfr(cluster, tmp_path, domain):
    """knotd signs every message of its transfers with the key; the
    controller verifies each, and takes Knot's IXFR after a change."""
    zone = domain + "."
    keyname = "knot-xfr." + zone
    cluster.whm.call("POST", "/api/dns/tsig-keys",
                     {"name": keyname, "algorithm": "hmac-sha512", "secret": SECRET},
                     expect=201)
    primary = KnotPrimary(tmp_path / "knot", {zone: zone_file(zone, 300)},
                          key=(keyname, "hmac-sha512", SECRET))
    primary.start()
    try:
        zid = create_secondary(cluster.whm, zone, [primary.address], key=keyname)["zoneId"]
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
        wait_state(cluster.whm, zid, lambda s: s.get("serial") == 300)
        primary.reload(zone, zone_file(zone, 301, a="192.0.2.31"))
        retrieve(cluster.whm, zid)
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.31"], timeout=20)
        assert set(cluster.soa_serials(zone).values()) == {301}
        z = wait_state(cluster.whm, zid, lambda s: s["transfers"]["ixfr"] == 1)
        assert z["secondary"]["transfers"] == {"axfr": 1, "ixfr": 1, "failed": 0}, z
        assert "IXFR, outgoing" in primary.logs() and "started, serial 300 -> 301" in primary.logs()
    finally:
        primary.stop()


def test_a_zone_deleted_and_created_again_during_a_transfer_keeps_its_own_data(cluster,
                                                                             domain):
    """The transfer in flight is for the zone that was: the zone of the same
    name created meanwhile (same id, another life) does not take it."""
    zone = domain + "."
    p, other = fake_primary(zone, serial=100), fake_primary(zone, serial=105)
    try:
        zid = create_secondary(cluster.whm, zone, [p.address, other.address])["zoneId"]
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
        p.soa, p.records = fake_soa(zone, 105), fake_primary_records(zone, "192.0.2.6")
        p.mode = "hold"
        retrieve(cluster.whm, zid)
        assert p.stalled.wait(20)
        cluster.whm.call("DELETE", "/api/dns/%d" % zid, expect=200)
        nid = cluster.create_zone(domain)
        cluster.add_record(nid, "mine", "A", "198.51.100.1")
        before = cluster.whm.zone(nid)
        p.release.set()
        assert harness.wait_until(
            lambda: any(s in cluster.whm.logs() for s in ("what the refresh brought is dropped",
                                                          "serial 105")),
            10, interval=0.1), cluster.whm.logs()
        after = cluster.whm.zone(nid)
        assert after.get("secondary") is None
        assert (after["version"], after["serial"]) == (before["version"], before["serial"])
        assert not any(r["content"] == "192.0.2.6" for r in cluster.whm.records(nid))
        cluster.wait_all_nodes("mine." + zone, "A", ["198.51.100.1"])
        assert set(cluster.soa_serials(zone).values()) == {before["serial"]}
        # the zone's other primary is not asked for data that would be
        # dropped the same way
        assert other.soa_queries == 0
    finally:
        p.release.set()
        p.close()
        other.close()


def fake_primary_records(zone, www):
    return [dns.rrset.from_text(zone, 300, "IN", "NS", "ns1." + zone),
            dns.rrset.from_text("www." + zone, 300, "IN", "A", www)]


def expiring_cluster(cluster_factory, tmp_path):
    """A cluster whose controller's clock a test moves (the file holds the
    seconds it is ahead), and that file."""
    clock = tmp_path / "clock-offset"
    clock.write_text("0\n")
    return cluster_factory(whm_config={"dnssec-test-clock-offset-file": str(clock)}), clock


def test_an_expiry_does_not_delete_the_zone_created_again_meanwhile(cluster_factory, tmp_path,
                                                                   domain):
    c, clock = expiring_cluster(cluster_factory, tmp_path)
    zone = domain + "."
    p = fake_primary(zone, serial=100)
    try:
        zid = create_secondary(c.whm, zone, [p.address])["zoneId"]
        c.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
        # past expire, and the primary takes 4 s to fail the refresh
        p.mode, p.delay = "down", 4.0
        clock.write_text("90000\n")
        retrieve(c.whm, zid)
        assert p.stalled.wait(20)
        c.whm.call("DELETE", "/api/dns/%d" % zid, expect=200)
        nid = c.create_zone(domain)
        c.add_record(nid, "mine", "A", "198.51.100.1")
        assert harness.wait_until(lambda: "expired: no primary answered" in c.whm.logs(), 15,
                                  interval=0.1), c.whm.logs()
        time.sleep(1)       # the expiry is tried right after it is logged
        assert c.whm.get("/api/dns/%d" % nid).status_code == 200
        c.wait_all_nodes("mine." + zone, "A", ["198.51.100.1"])
    finally:
        p.close()


def test_an_expired_zone_comes_back_in_one_version_with_data_it_can_serve(cluster_factory,
                                                                         tmp_path, domain):
    """RFC 1035 section 4.3.5: an expired zone is not served until a
    transfer is taken; the transfer that brings it back is one version,
    with the primary's serial, and one the cluster refuses brings nothing
    back."""
    c, clock = expiring_cluster(cluster_factory, tmp_path)
    zone = domain + "."
    p = fake_primary(zone, serial=100, www="192.0.2.7")
    try:
        zid = create_secondary(c.whm, zone, [p.address])["zoneId"]
        c.wait_all_nodes("www." + zone, "A", ["192.0.2.7"], timeout=20)
        p.mode = "down"
        clock.write_text("90000\n")
        retrieve(c.whm, zid)
        c.wait_rcode(zone, "SOA", "REFUSED", timeout=20)
        expired = c.whm.get("/api/dns/%d/versions" % zid).json()["current"]
        # back, with data the cluster refuses (a CNAME beside other data)
        p.mode, p.soa = "ok", fake_soa(zone, 101)
        p.records = fake_primary_records(zone, "192.0.2.7") + [
            dns.rrset.from_text("alias." + zone, 300, "IN", "CNAME", "www." + zone),
            dns.rrset.from_text("alias." + zone, 300, "IN", "TXT", "x")]
        retrieve(c.whm, zid)
        assert harness.wait_until(lambda: "transfer from %s refused" % p.address in c.whm.logs(),
                                  20, interval=0.1), c.whm.logs()
        c.wait_rcode(zone, "SOA", "REFUSED")
        assert c.whm.get("/api/dns/%d" % zid).status_code == 404
        assert c.whm.get("/api/dns/%d/versions" % zid).json()["current"] == expired
        # and with data it can serve: one version, the primary's serial
        p.soa, p.records = fake_soa(zone, 102), fake_primary_records(zone, "192.0.2.8")
        retrieve(c.whm, zid)
        c.wait_all_nodes("www." + zone, "A", ["192.0.2.8"], timeout=20)
        assert set(c.soa_serials(zone).values()) == {102}
        versions = c.whm.get("/api/dns/%d/versions" % zid).json()
        assert versions["current"] == expired + 1, versions
        z = wait_state(c.whm, zid, lambda s: s["state"] == "ok")
        assert z["serial"] == 102
        # the primary's SOA fields, not the cluster's
        assert (z["soa"]["mname"], z["soa"]["rname"], z["soa"]["refresh"]) == (
            "ns1." + zone, "h." + zone, 3600), z["soa"]
    finally:
        p.close()


def test_a_transfer_at_the_serial_held_changes_nothing(cluster, domain):
    """The primary's SOA says 101 and its transfer carries 100, the serial
    held, with other data: only a serial ahead is new data (RFC 1982)."""
    zone = domain + "."
    p = fake_primary(zone, serial=100)
    try:
        zid = create_secondary(cluster.whm, zone, [p.address])["zoneId"]
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"], timeout=20)
        version = cluster.whm.zone(zid)["version"]
        p.query_soa = fake_soa(zone, 101)
        p.records = fake_primary_records(zone, "192.0.2.99")
        retrieve(cluster.whm, zid)
        assert harness.wait_until(lambda: "carries the serial held" in cluster.whm.logs(), 10,
                                  interval=0.1), cluster.whm.logs()
        z = cluster.whm.zone(zid)
        assert (z["version"], z["serial"], z["secondary"]["state"]) == (version, 100, "ok"), z
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.1"])
    finally:
        p.close()


def test_after_a_restart_an_unchanged_zone_is_polled_at_its_refresh(cluster, domain):
    """The SOA's refresh (3600 s) holds after a restart too, not the 10 s
    of a zone never transferred."""
    zone = domain + "."
    p = fake_primary(zone, serial=100)
    try:
        zid = create_secondary(cluster.whm, zone, [p.address])["zoneId"]
        wait_state(cluster.whm, zid, lambda s: s.get("serial") == 100)
        t0 = time.monotonic()
        cluster.whm.restart()
        time.sleep(max(0.0, t0 + 22 - time.monotonic()))
        asked = [round(t - t0, 1) for t in p.soa_times if t >= t0]
        assert len(asked) <= 1, asked    # the check at start, then none for an hour
    finally:
        p.close()


def test_a_transfer_stops_once_the_zone_passes_max_zone_bytes(cluster_factory, domain):
    """A primary that sends far more than the nodes take (max-zone-bytes):
    the controller stops reading once the zone it builds passes the limit,
    instead of holding the whole transfer (up to 256 MiB on the wire, some
    four times that in memory) only to refuse it afterwards; nothing is
    stored."""
    c = cluster_factory(n=1, whm_config={"max-zone-bytes": 65536})
    zone = domain + "."
    text = dns.rdata.from_text("IN", "TXT", " ".join('"%s"' % (c * 250) for c in "abcd"))
    recs = [dns.rrset.from_rdata(dns.name.from_text("t%d.%s" % (i, zone)), 300, text)
            for i in range(30000)]
    p = FakePrimary(zone, "ns1.%s h.%s 100 3600 600 86400 300" % (zone, zone),
                    [dns.rrset.from_text(zone, 300, "IN", "NS", "ns1." + zone)] + recs)
    p.per_message = 50  # some 50 KB a message, 30 MB in all
    try:
        zid = create_secondary(c.whm, zone, [p.address])["zoneId"]
        z = wait_state(c.whm, zid, lambda s: s.get("last_error"), 60)
        err = z["secondary"]["last_error"]
        assert "max-zone-bytes" in err and "65536" in err, z["secondary"]
        assert z["secondary"].get("serial") != 100 and z["serial"] != 100, z
        assert harness.wait_until(lambda: p.cut >= 1, 10, interval=0.1), \
            "the controller read the whole transfer"
    finally:
        p.close()
