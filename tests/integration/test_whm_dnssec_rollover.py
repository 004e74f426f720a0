"""Key rollover with a controllable clock (a test-only offset the controller
adds to its clock): ZSK by pre-publication, CSK by double-KSK with CDS. At
every step, answers from every node validate with the trust anchor a
resolver holds (unbound, stubbed to one node at a time)."""

import os
import signal
import time

import dns.rcode
import dns.rdatatype
import pytest

import cluster as cl
import dnssec_tools as dt
import harness

pytest_plugins = ["cluster_fixtures"]

DELAY = 1          # dnssec-propagation-delay
DS_TTL = 600       # dnssec-parent-ds-ttl
SOA_TTL = 3600     # the cluster's SOA TTL and minimum: the DNSKEY TTL of a zone without its own


@pytest.fixture
def rcluster(cluster_factory, tmp_path):
    clock = tmp_path / "clock-offset"
    clock.write_text("0\n")
    c = cluster_factory(whm_config={
        "dnssec-propagation-delay": DELAY,
        "dnssec-parent-ds-ttl": DS_TTL,
        "dnssec-rollover-check-ms": 50,
        "dnssec-zsk-lifetime-days": 1,
        "dnssec-test-clock-offset-file": str(clock),
    })
    c.clock = clock
    return c


def advance(c, seconds):
    now = int(c.clock.read_text())
    c.clock.write_text("%d\n" % (now + seconds))


def path(zid, tail=""):
    return "/api/dns/%d/dnssec%s" % (zid, tail)


def state(c, zid):
    return c.whm.call("GET", path(zid), expect=200)


def wait_state(c, zid, pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        s = state(c, zid)
        if pred(s):
            return s
        if time.monotonic() > deadline:
            raise AssertionError("state not reached: %s" % s)
        time.sleep(0.05)


def served_keys(c, zone):
    """{node: sorted DNSKEY texts} once every node serves the same set."""
    out = {}
    for n in c.nodes:
        _, rrset = dt.rrset_wire(n, zone, "DNSKEY")
        out[n.name] = sorted(r.to_text(chunksize=0) for r in rrset) if rrset else []
    return out


def wait_keys(c, zone, want, timeout=15.0):
    want = sorted(want)
    if not harness.wait_until(lambda: all(v == want for v in served_keys(c, zone).values()),
                              timeout):
        raise AssertionError("DNSKEY should be %s everywhere: %s" % (want, served_keys(c, zone)))


def validates_everywhere(c, zone, ds, tmp, label):
    for n in c.nodes:
        with dt.Unbound(tmp / ("%s-%s" % (label, n.name)), zone, ds, n) as ub:
            a = ub.query("www." + zone, "A")
            assert dt.validated(a), "%s: %s does not validate with %s\n%s\n%s" % (
                label, n.name, ds, a.to_text(), ub.logs())
            missing = ub.query("missing." + zone, "A")
            assert dt.validated(missing), "%s: %s denial" % (label, n.name)


def signers(c, zone):
    """Key tags of the RRSIGs over www A, per node."""
    out = {}
    for n in c.nodes:
        msg = n.query("www." + zone, "A", dnssec=True)
        out[n.name] = sorted(r.key_tag for rr in msg.answer
                             if rr.rdtype == dns.rdatatype.RRSIG for r in rr)
    return out


def wait_synced(c, zid, timeout=20.0):
    """The state once every node acknowledged the step and its wait began."""
    return wait_state(c, zid, lambda s: s["rollover"]["wait_began"] is not None,
                      timeout=timeout)


def test_csk_rollover_by_double_ksk_validates_at_every_step(rcluster, tmp_path):
    c = rcluster
    zone = "csk-roll.example."
    zid = c.create_zone(zone)
    c.add_record(zid, "www", "A", "192.0.2.1")
    signed = c.whm.call("POST", path(zid), params={"wait": "all"}, expect=200)
    ds0, key0 = signed["ds"], signed["dnskey"]
    validates_everywhere(c, zone, ds0, tmp_path, "signed")

    # Step 1: the new CSK is published and signs beside the old one.
    r = c.whm.call("POST", path(zid, "/rollover"), {"keytype": "csk"},
                   params={"wait": "all"}, expect=200)
    assert r["rollover"]["state"] == "rolling" and r["rollover"]["kind"] == "csk"
    assert r["rollover"]["step"] == 1 and r["synced"] is True
    assert len(r["dnskey"]) == 2 and len(r["ds"]) == 2
    new_key = [k for k in r["dnskey"] if k not in key0]
    ds1 = [d for d in r["ds"] if d not in ds0]
    assert len(new_key) == 1 and len(ds1) == 1
    wait_keys(c, zone, r["dnskey"])
    validates_everywhere(c, zone, ds0, tmp_path, "step1-old-ds")
    for n in c.nodes:                           # CDS tells the parent both
        _, cds = dt.rrset_wire(n, zone, "CDS")
        assert sorted(x.to_text().upper() for x in cds) == sorted(r["ds"])
    # Nothing moves without the DS, and the DS is refused too early.
    too_early = c.whm.post(path(zid, "/rollover"), {"ds_published": True})
    assert too_early.status_code == 409 and "too early" in too_early.text
    wait_synced(c, zid)
    advance(c, SOA_TTL + DELAY)
    s = wait_state(c, zid, lambda s: s["rollover"]["waiting_for"] == "ds")
    assert s["rollover"]["step"] == 1
    time.sleep(0.3)
    assert len(state(c, zid)["dnskey"]) == 2

    # Step 2: the parent publishes the new DS (the resolver now holds it).
    r = c.whm.call("POST", path(zid, "/rollover"), {"ds_published": True}, expect=200)
    assert r["rollover"]["step"] == 2
    validates_everywhere(c, zone, ds1, tmp_path, "step2-new-ds")
    validates_everywhere(c, zone, ds0 + ds1, tmp_path, "step2-both")
    time.sleep(0.3)
    assert len(state(c, zid)["dnskey"]) == 2   # the DS TTL has not passed

    # Step 3: after the parent's DS TTL the old key goes.
    advance(c, DS_TTL + DELAY)
    s = wait_state(c, zid, lambda s: s["rollover"]["state"] == "idle")
    assert s["dnskey"] == new_key and s["ds"] == ds1
    wait_keys(c, zone, new_key)
    validates_everywhere(c, zone, ds1, tmp_path, "done")
    c.wait_converged()
    # Why the DS comes first: a resolver that still had only the old DS
    # would now fail.
    with dt.Unbound(tmp_path / "old-ds-only", zone, ds0, c.nodes[0]) as ub:
        assert ub.query("www." + zone, "A").rcode() == dns.rcode.SERVFAIL


def test_zsk_rollover_by_pre_publication_validates_at_every_step(rcluster, tmp_path):
    c = rcluster
    zone = "zsk-roll.example."
    zid = c.create_zone(zone)
    c.add_record(zid, "www", "A", "192.0.2.1")
    signed = c.whm.call("POST", path(zid), {"scheme": "ksk-zsk"}, params={"wait": "all"},
                        expect=200)
    ds = signed["ds"]
    keys = {k["keytype"]: k for k in signed["keys"]}
    old_zsk = keys["zsk"]["keytag"]
    validates_everywhere(c, zone, ds, tmp_path, "signed")

    r = c.whm.call("POST", path(zid, "/rollover"), {"keytype": "zsk"},
                   params={"wait": "all"}, expect=200)
    assert r["rollover"]["kind"] == "zsk" and r["rollover"]["step"] == 1
    zsks = [k for k in r["keys"] if k["keytype"] == "zsk"]
    new = [k for k in zsks if k["keytag"] != old_zsk][0]
    assert new["published"] is True and new["active"] is False
    assert r["ds"] == ds                        # the parent sees no change
    wait_keys(c, zone, r["dnskey"])
    assert all(v == [old_zsk] for v in signers(c, zone).values())
    validates_everywhere(c, zone, ds, tmp_path, "published")

    # Nothing before the DNSKEY TTL has passed.
    wait_synced(c, zid)
    time.sleep(0.3)
    assert state(c, zid)["rollover"]["step"] == 1
    advance(c, SOA_TTL + DELAY)
    s = wait_state(c, zid, lambda s: s["rollover"]["step"] == 2
                   and s["rollover"]["nodes_synced"])
    assert harness.wait_until(lambda: all(v == [new["keytag"]] for v in signers(c, zone).values()),
                              10), signers(c, zone)
    assert len(s["dnskey"]) == 3                # the old ZSK is still published
    validates_everywhere(c, zone, ds, tmp_path, "active")

    wait_synced(c, zid)
    advance(c, SOA_TTL + DELAY)
    s = wait_state(c, zid, lambda s: s["rollover"]["state"] == "idle")
    assert sorted(k["keytag"] for k in s["keys"]) == sorted([keys["ksk"]["keytag"],
                                                             new["keytag"]])
    wait_keys(c, zone, s["dnskey"])
    validates_everywhere(c, zone, ds, tmp_path, "done")


def test_the_zsk_is_rolled_on_schedule(rcluster, tmp_path):
    c = rcluster
    zone = "zsk-schedule.example."
    zid = c.create_zone(zone)
    c.add_record(zid, "www", "A", "192.0.2.1")
    c.whm.call("POST", path(zid), {"scheme": "ksk-zsk"}, params={"wait": "all"}, expect=200)
    time.sleep(0.3)
    assert state(c, zid)["rollover"]["state"] == "idle"
    advance(c, 86400 + 60)                      # dnssec-zsk-lifetime-days = 1
    s = wait_state(c, zid, lambda s: s["rollover"]["state"] == "rolling")
    assert s["rollover"]["kind"] == "zsk"
    wait_keys(c, zone, s["dnskey"])
    validates_everywhere(c, zone, s["ds"], tmp_path, "scheduled")


def test_rollover_requests_are_checked(rcluster):
    c = rcluster
    zid = c.create_zone("roll-bad.example.")
    r = c.whm.post(path(zid, "/rollover"), {"keytype": "csk"})
    assert r.status_code == 409 and "not signed" in r.text
    c.whm.call("POST", path(zid), params={"wait": "all"}, expect=200)
    before = state(c, zid)
    for body, status in (({"keytype": "zsk"}, 409), ({"keytype": "ksk"}, 409),
                         ({"keytype": "rsa"}, 422), ({}, 422), ({"ds_published": False}, 422),
                         ({"ds_published": True}, 409), ({"keytype": "csk", "x": 1}, 422),
                         ({"keytype": "csk", "ds_published": True}, 422)):
        r = c.whm.post(path(zid, "/rollover"), body)
        assert r.status_code == status, cl.describe(r)
    assert c.whm.post(path(zid, "/rollover"), {"keytype": "csk"},
                      token=c.whm.read_token).status_code == 403
    assert state(c, zid) == before
    c.whm.call("POST", path(zid, "/rollover"), {"keytype": "csk"}, expect=200)
    again = c.whm.post(path(zid, "/rollover"), {"keytype": "csk"})
    assert again.status_code == 409 and "in progress" in again.text
    # Unsigning ends the rollover with the keys.
    c.whm.call("DELETE", path(zid), params={"force": "1"}, expect=200)
    assert state(c, zid)["enabled"] is False
    signed = c.whm.call("POST", path(zid), expect=200)
    assert signed["rollover"]["state"] == "idle" and len(signed["keys"]) == 1


def test_a_rollover_step_waits_for_every_node(rcluster, tmp_path):
    """Each wait is counted from when the last node publishes the step: a
    resolver may have cached a late node's previous DNSKEY set (or its old
    signatures) just before, for a whole TTL."""
    c = rcluster
    zone = "roll-wait.example."
    zid = c.create_zone(zone)
    c.add_record(zid, "www", "A", "192.0.2.1")
    signed = c.whm.call("POST", path(zid), {"scheme": "ksk-zsk"}, params={"wait": "all"},
                        expect=200)
    old_zsk = [k["keytag"] for k in signed["keys"] if k["keytype"] == "zsk"][0]
    away = c.nodes[2]

    # Step 1 (the new ZSK published) reaches the last node after its wait.
    away.proc.send_signal(signal.SIGSTOP)
    try:
        r = c.whm.call("POST", path(zid, "/rollover"), {"keytype": "zsk"}, expect=200)
        advance(c, SOA_TTL + DELAY)
        time.sleep(1.0)
        s = state(c, zid)
        assert s["rollover"]["step"] == 1 and s["rollover"]["waiting_for"] == "nodes", s
        assert s["rollover"]["not_before"] >= s["rollover"]["now"] + SOA_TTL, s
    finally:
        away.proc.send_signal(signal.SIGCONT)
    s = wait_synced(c, zid)
    assert s["rollover"]["step"] == 1 and s["rollover"]["waiting_for"] == "time", s
    assert s["rollover"]["not_before"] >= s["rollover"]["now"] + SOA_TTL, s
    time.sleep(0.3)
    assert state(c, zid)["rollover"]["step"] == 1
    assert all(v == [old_zsk] for v in signers(c, zone).values()), signers(c, zone)

    # Step 2 (the new ZSK signs) likewise: the old ZSK stays published for
    # a whole wait after the last node stops signing with it.
    away.proc.send_signal(signal.SIGSTOP)
    try:
        advance(c, SOA_TTL + DELAY)
        s = wait_state(c, zid, lambda s: s["rollover"]["step"] == 2)
        time.sleep(0.3)
        s = state(c, zid)
        assert s["rollover"]["step"] == 2 and s["rollover"]["waiting_for"] == "nodes", s
        advance(c, SOA_TTL + DELAY)
        time.sleep(1.0)
        s = state(c, zid)
        assert s["rollover"]["state"] == "rolling" and s["rollover"]["step"] == 2, s
    finally:
        away.proc.send_signal(signal.SIGCONT)
    s = wait_synced(c, zid)
    assert s["rollover"]["step"] == 2 and len(s["dnskey"]) == 3, s
    time.sleep(0.5)
    assert state(c, zid)["rollover"]["state"] == "rolling"
    wait_keys(c, zone, s["dnskey"], timeout=20)
    validates_everywhere(c, zone, signed["ds"], tmp_path, "after")
    advance(c, SOA_TTL + DELAY)
    s = wait_state(c, zid, lambda s: s["rollover"]["state"] == "idle")
    assert len(r["dnskey"]) == 3 and len(s["dnskey"]) == 2


def test_the_ds_is_refused_while_a_node_lacks_the_new_key(rcluster):
    """A parent given the new DS while a node still serves a DNSKEY set
    without the new key makes the resolvers that asked that node fail: the
    confirmation waits for every node, then for the DNSKEY TTL after."""
    c = rcluster
    zone = "roll-ds-wait.example."
    zid = c.create_zone(zone)
    c.add_record(zid, "www", "A", "192.0.2.1")
    c.whm.call("POST", path(zid), params={"wait": "all"}, expect=200)
    away = c.nodes[1]
    away.proc.send_signal(signal.SIGSTOP)
    try:
        c.whm.call("POST", path(zid, "/rollover"), {"keytype": "csk"}, expect=200)
        advance(c, SOA_TTL + DELAY)
        time.sleep(1.0)
        before = state(c, zid)
        roll = before["rollover"]
        assert roll["step"] == 1 and roll["waiting_for"] == "nodes", roll
        assert "every node" in roll["next_step"], roll
        assert roll["not_before"] >= roll["now"] + SOA_TTL, roll
        refused = c.whm.post(path(zid, "/rollover"), {"ds_published": True})
        assert refused.status_code == 409, cl.describe(refused)
        assert "not every node publishes the new key" in refused.json()["error"], refused.text
        after = state(c, zid)
        assert after["rollover"]["step"] == 1 and after["keys"] == before["keys"]
    finally:
        away.proc.send_signal(signal.SIGCONT)
    # Every node has the key now: the DNSKEY TTL still has to pass.
    s = wait_synced(c, zid)
    assert s["rollover"]["waiting_for"] == "ds", s
    too_early = c.whm.post(path(zid, "/rollover"), {"ds_published": True})
    assert too_early.status_code == 409 and "too early" in too_early.text, too_early.text
    advance(c, SOA_TTL + DELAY)
    r = c.whm.call("POST", path(zid, "/rollover"), {"ds_published": True}, expect=200)
    assert r["rollover"]["step"] == 2


def test_a_rollover_survives_a_controller_restart(rcluster, tmp_path):
    c = rcluster
    zone = "roll-restart.example."
    zid = c.create_zone(zone)
    c.add_record(zid, "www", "A", "192.0.2.1")
    signed = c.whm.call("POST", path(zid), {"scheme": "ksk-zsk"}, params={"wait": "all"},
                        expect=200)
    c.whm.call("POST", path(zid, "/rollover"), {"keytype": "zsk"}, params={"wait": "all"},
               expect=200)
    c.whm.kill()                                # SIGKILL mid-rollover
    c.whm.start()
    assert state(c, zid)["rollover"]["step"] == 1
    advance(c, SOA_TTL + DELAY)
    wait_state(c, zid, lambda s: s["rollover"]["step"] == 2, timeout=20)
    wait_synced(c, zid)                         # the wait counts from here
    advance(c, SOA_TTL + DELAY)
    s = wait_state(c, zid, lambda s: s["rollover"]["state"] == "idle", timeout=20)
    assert len(s["keys"]) == 2
    wait_keys(c, zone, s["dnskey"])
    validates_everywhere(c, zone, signed["ds"], tmp_path, "restarted")


def test_the_waits_follow_the_zones_own_soa(rcluster, tmp_path):
    """A zone with its own SOA minimum above the cluster's: PowerDNS serves
    its DNSKEY set with that minimum, so every wait is at least that long,
    not the cluster's soa-ttl / soa-minimum."""
    c = rcluster
    # The zone's SOA minimum, far above the cluster's (SOA_TTL); both ZSK
    # steps together stay below dnssec-zsk-lifetime-days, so the new ZSK is
    # not rolled again by schedule as soon as this rollover ends.
    own = 40000
    zone, csk_zone = "roll-own-soa.example.", "roll-own-soa-csk.example."
    zid, csk_zid = c.create_zone(zone), c.create_zone(csk_zone)
    for i in (zid, csk_zid):
        c.add_record(i, "www", "A", "192.0.2.1")
        soa = c.whm.call("PUT", "/api/dns/%d" % i, {"soa": {"minimum": own}},
                         expect=200)["soa"]
        assert soa["minimum"] == own and soa["ttl"] == SOA_TTL
    signed = c.whm.call("POST", path(zid), {"scheme": "ksk-zsk"}, params={"wait": "all"},
                        expect=200)
    c.whm.call("POST", path(csk_zid), params={"wait": "all"}, expect=200)
    for n in c.nodes:                           # the DNSKEY TTL the caches hold
        for z in (zone, csk_zone):
            _, rrset = dt.rrset_wire(n, z, "DNSKEY")
            assert rrset is not None and rrset.ttl == own, (n.name, z, rrset)

    # ZSK step 1: the new ZSK signs only after the zone's DNSKEY TTL.
    r = c.whm.call("POST", path(zid, "/rollover"), {"keytype": "zsk"},
                   params={"wait": "all"}, expect=200)
    roll = r["rollover"]
    assert roll["step"] == 1 and roll["not_before"] - roll["now"] >= own + DELAY, roll
    step1_at = roll["not_before"]
    # KSK/CSK step 1: the DS is too early until the zone's DNSKEY TTL.
    r = c.whm.call("POST", path(csk_zid, "/rollover"), {"keytype": "csk"},
                   params={"wait": "all"}, expect=200)
    roll = r["rollover"]
    assert roll["step"] == 1 and roll["not_before"] - roll["now"] >= own + DELAY, roll
    wait_synced(c, zid)
    wait_synced(c, csk_zid)

    # The cluster's wait is not enough.
    advance(c, SOA_TTL + DELAY)
    time.sleep(0.5)                             # dnssec-rollover-check-ms is 50
    s = state(c, zid)
    assert s["rollover"]["step"] == 1 and s["rollover"]["waiting_for"] == "time", s
    too_early = c.whm.post(path(csk_zid, "/rollover"), {"ds_published": True})
    assert too_early.status_code == 409 and "too early" in too_early.text

    advance(c, own - SOA_TTL)
    wait_state(c, zid, lambda s: s["rollover"]["step"] == 2)
    s = wait_synced(c, zid)
    # ZSK step 2: the old ZSK's signatures (over the DNSKEY set too) may be
    # cached for the zone's DNSKEY TTL.
    assert s["rollover"]["not_before"] >= step1_at + own + DELAY, s
    c.whm.call("POST", path(csk_zid, "/rollover"), {"ds_published": True}, expect=200)
    advance(c, SOA_TTL + DELAY)
    time.sleep(0.5)
    assert state(c, zid)["rollover"]["step"] == 2
    advance(c, own - SOA_TTL)
    s = wait_state(c, zid, lambda s: s["rollover"]["state"] == "idle")
    assert len(s["keys"]) == 2
    wait_keys(c, zone, s["dnskey"])
    validates_everywhere(c, zone, signed["ds"], tmp_path, "done")
    wait_state(c, csk_zid, lambda s: s["rollover"]["state"] == "idle")
