"""DNSSEC across the cluster: the controller makes one key set per zone and
every node serves it, so one DS at the parent validates answers from any
node. Checked with tools that are not ours: unbound validating through a
stub to one node at a time, ldns-verify-zone over each node's AXFR,
ldns-key2ds and dnssec-dsfromkey for the DS."""

import os
import signal
import sqlite3
import time

import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

import cluster as cl
import harness
import dnssec_tools as dt

pytest_plugins = ["cluster_fixtures"]


def canon(texts, rtype="DNSKEY"):
    """Texts as dnspython prints them (what the cluster helpers compare)."""
    return sorted(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype),
                                      t).to_text() for t in texts)


def dnssec_path(zid):
    return "/api/dns/%d/dnssec" % zid


def sign(c, zid, body=None, expect=200, wait=True):
    return c.whm.call("POST", dnssec_path(zid), body, expect=expect,
                      params={"wait": "all"} if wait else None)


def view(c, zid):
    return c.whm.call("GET", dnssec_path(zid), expect=200)


def signed_zone(c, domain, body=None):
    zid = c.create_zone(domain)
    c.add_record(zid, "www", "A", "192.0.2.1", ttl=300)
    c.add_record(zid, "@", "MX", "mail.%s." % domain, priority=10)
    c.add_record(zid, "mail", "A", "192.0.2.25")
    c.add_record(zid, "a.b.deep", "TXT", '"empty non-terminals above"')
    answer = sign(c, zid, body)
    assert answer["changed"] is True and answer["synced"] is True, answer
    return zid, answer


def dnskeys_everywhere(c, zone, nodes=None):
    return {n.name: dt.rrset_wire(n, zone, "DNSKEY")[0] for n in (nodes or c.nodes)}


def wait_dnskeys(c, zone, expected_texts, timeout=15.0, nodes=None):
    c.wait_all_nodes(zone, "DNSKEY", canon(expected_texts), timeout=timeout, nodes=nodes)


# --- one key set, byte-identical everywhere ----------------------------------


def test_every_node_publishes_the_same_dnskey_rrset_and_the_ds_matches_it(shared_cluster, domain,
                                                                          tmp_path):
    c = shared_cluster
    zone = domain + "."
    zid, answer = signed_zone(c, domain)

    wires = dnskeys_everywhere(c, zone)
    assert len(set(wires.values())) == 1 and b"" not in wires.values(), wires
    _, rrset = dt.rrset_wire(c.nodes[0], zone, "DNSKEY")
    served = sorted(r.to_text(chunksize=0) for r in rrset)
    assert served == sorted(answer["dnskey"])
    assert len(answer["ds"]) == 1
    assert answer["keys"][0]["keytype"] == "csk" and answer["algorithm"] == 13
    # DS from two independent tools, over the key the nodes serve.
    assert dt.ds_by_ldns(tmp_path, zone, served[0]) == answer["ds"]
    assert dt.ds_by_bind(tmp_path, zone, served[0]) == answer["ds"]
    assert answer["ds"][0] in answer["instructions"]
    # CDS / CDNSKEY (RFC 7344) from every node, matching DS and DNSKEY.
    for n in c.nodes:
        _, cds = dt.rrset_wire(n, zone, "CDS")
        _, cdnskey = dt.rrset_wire(n, zone, "CDNSKEY")
        assert cds is not None and cdnskey is not None, n.name
        assert [r.to_text().upper() for r in cds] == answer["ds"]
        assert [r.to_text(chunksize=0) for r in cdnskey] == answer["dnskey"]
    # The zone listing shows it signed.
    assert c.whm.zone(zid)["dnssec_enabled"] is True


# --- a validating resolver, one node at a time --------------------------------

VARIANTS = [
    pytest.param({}, id="ecdsa-csk-nsec"),
    pytest.param({"nsec3": True}, id="ecdsa-csk-nsec3"),
    pytest.param({"algorithm": "ED25519", "scheme": "ksk-zsk", "nsec3": True,
                  "nsec3_optout": True}, id="ed25519-kskzsk-nsec3-optout"),
    pytest.param({"algorithm": 15}, id="ed25519-csk-nsec"),
]


@pytest.mark.parametrize("body", VARIANTS)
def test_unbound_validates_answers_and_denials_from_every_node(shared_cluster, domain, tmp_path,
                                                               body):
    c = shared_cluster
    zone = domain + "."
    zid, answer = signed_zone(c, domain, body)
    state = view(c, zid)
    assert state["denial"] == ("nsec3" if body.get("nsec3") else "nsec")
    if body.get("scheme") == "ksk-zsk":
        assert sorted(k["keytype"] for k in state["keys"]) == ["ksk", "zsk"]
        assert len(state["ds"]) == 1            # only the KSK goes to the parent
    for n in c.nodes:
        with dt.Unbound(tmp_path / ("ub-" + n.name), zone, answer["ds"], n) as ub:
            yes = ub.query("www." + zone, "A")
            assert yes.rcode() == dns.rcode.NOERROR and dt.validated(yes), (n.name, yes,
                                                                              ub.logs())
            assert [r.to_text() for rr in yes.answer if rr.rdtype == dns.rdatatype.A
                    for r in rr] == ["192.0.2.1"]
            mx = ub.query(zone, "MX")
            assert dt.validated(mx), (n.name, mx)
            missing = ub.query("no-such-name." + zone, "A")
            assert missing.rcode() == dns.rcode.NXDOMAIN, (n.name, missing.to_text())
            # With opt-out the NSEC3 covering a missing name may hide an
            # unsigned delegation, so the denial is insecure, not bogus
            # (RFC 5155 section 9.2); otherwise it must be authenticated.
            if not body.get("nsec3_optout"):
                assert dt.validated(missing), "%s\n%s\n%s" % (n.name, missing.to_text(),
                                                               ub.logs())
            nodata = ub.query("www." + zone, "TXT")
            assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
            assert dt.validated(nodata), (n.name, nodata)
            ent = ub.query("deep." + zone, "A")       # empty non-terminal: NODATA
            assert ent.rcode() == dns.rcode.NOERROR and dt.validated(ent), (n.name, ent)


def test_a_wrong_trust_anchor_fails_validation(shared_cluster, domain, tmp_path):
    """The resolver really validates: a DS that matches no key gives SERVFAIL."""
    c = shared_cluster
    zone = domain + "."
    _, answer = signed_zone(c, domain)
    tag, alg, dtype, digest = answer["ds"][0].split()
    wrong = "%s %s %s %s" % (tag, alg, dtype, ("0" if digest[0] != "0" else "1") + digest[1:])
    with dt.Unbound(tmp_path / "ub", zone, [wrong], c.nodes[0]) as ub:
        assert ub.query("www." + zone, "A").rcode() == dns.rcode.SERVFAIL


# --- the whole zone, as each node transfers it ---------------------------------


@pytest.mark.parametrize("body", [pytest.param({}, id="nsec"),
                                  pytest.param({"nsec3": True}, id="nsec3")])
def test_axfr_from_every_node_passes_ldns_verify_zone(shared_cluster, domain, tmp_path, body):
    c = shared_cluster
    zone = domain + "."
    signed_zone(c, domain, body)
    for n in c.nodes:
        text = dt.axfr_text(n, zone)
        assert " RRSIG " in text and (" NSEC3 " in text) == bool(body.get("nsec3"))
        path = tmp_path / ("%s.zone" % n.name)
        path.write_text(text)
        rc, out = dt.ldns_verify(str(path))
        assert rc == 0, (n.name, out)


# --- changes in a signed zone -----------------------------------------------------


def test_record_change_in_a_signed_zone_is_served_signed_and_valid_everywhere(
        shared_cluster, domain, tmp_path):
    c = shared_cluster
    zone = domain + "."
    zid, answer = signed_zone(c, domain)
    version = answer["version"]
    t0 = time.monotonic()
    change = c.add_record(zid, "new", "A", "192.0.2.77", ttl=60)
    took = time.monotonic() - t0
    assert change["synced"] is True and change["version"] > version
    assert took < 2.0, took
    keys_before = dnskeys_everywhere(c, zone)
    for n in c.nodes:
        with dt.Unbound(tmp_path / ("ub-" + n.name), zone, answer["ds"], n) as ub:
            a = ub.query("new." + zone, "A")
            assert dt.validated(a), (n.name, a, ub.logs())
            assert [r.to_text() for rr in a.answer if rr.rdtype == dns.rdatatype.A
                    for r in rr] == ["192.0.2.77"]
    # A record change leaves the keys alone.
    assert dnskeys_everywhere(c, zone) == keys_before


def test_signing_again_with_the_same_settings_changes_nothing(shared_cluster, domain):
    c = shared_cluster
    zid, answer = signed_zone(c, domain)
    again = sign(c, zid)
    assert again["changed"] is False and again["ds"] == answer["ds"]
    assert c.whm.zone(zid)["version"] == answer["version"]


def test_switching_from_nsec_to_nsec3_keeps_the_keys(shared_cluster, domain, tmp_path):
    c = shared_cluster
    zone = domain + "."
    zid, answer = signed_zone(c, domain)
    changed = sign(c, zid, {"nsec3": True})
    assert changed["changed"] is True and changed["synced"] is True
    assert changed["ds"] == answer["ds"] and changed["denial"] == "nsec3"
    c.wait_all_nodes(zone, "NSEC3PARAM", ["1 0 0 -"])
    for n in c.nodes:
        rc, out = dt.ldns_verify(_write(tmp_path, n, dt.axfr_text(n, zone)))
        assert rc == 0, out


def _write(tmp_path, node, text):
    p = tmp_path / ("%s-%d.zone" % (node.name, time.monotonic_ns()))
    p.write_text(text)
    return str(p)


# --- unsigning -------------------------------------------------------------------


def test_unsign_is_refused_while_a_ds_may_be_published_then_forced(shared_cluster, domain):
    c = shared_cluster
    zone = domain + "."
    zid, answer = signed_zone(c, domain)

    r = c.whm.delete(dnssec_path(zid))
    assert r.status_code == 409, cl.describe(r)
    assert "DS" in r.json()["error"] and "force=1" in r.json()["error"]
    assert c.whm.zone(zid)["version"] == answer["version"]
    wait_dnskeys(c, zone, answer["dnskey"], timeout=2)

    done = c.whm.call("DELETE", dnssec_path(zid), params={"force": "1", "wait": "all"},
                      expect=200)
    assert done["changed"] is True and done["synced"] is True
    c.wait_all_nodes(zone, "DNSKEY", [])
    c.wait_all_nodes("www." + zone, "A", ["192.0.2.1"])
    assert view(c, zid)["enabled"] is False
    assert c.whm.zone(zid)["dnssec_enabled"] is False
    for n in c.nodes:
        msg = n.query("www." + zone, "A", dnssec=True)
        assert not any(rr.rdtype == dns.rdatatype.RRSIG for rr in msg.answer), n.name
    # Unsigning an unsigned zone changes nothing; signing again makes new keys.
    again = c.whm.call("DELETE", dnssec_path(zid), params={"force": "1"}, expect=200)
    assert again["changed"] is False
    resigned = sign(c, zid)
    assert resigned["dnskey"] != answer["dnskey"]
    wait_dnskeys(c, zone, resigned["dnskey"])


# --- bad input ----------------------------------------------------------------------

BAD_BODIES = [
    ({"algorithm": 8}, 422),
    ({"algorithm": "RSASHA256"}, 422),
    ({"algorithm": "ecdsa-p384"}, 422),
    ({"algorithm": None}, 422),
    ({"scheme": "zsk-only"}, 422),
    ({"nsec3": "yes"}, 422),
    ({"nsec3_optout": True}, 422),
    ({"nsec3": False, "nsec3_optout": True}, 422),
    ({"iterations": 10}, 422),
    ({"salt": "abcd", "nsec3": True}, 422),
    ({"privatekey": "Private-key-format: v1.2"}, 422),
]


@pytest.mark.parametrize("body,status", BAD_BODIES, ids=[str(b) for b, _ in BAD_BODIES])
def test_bad_sign_requests_are_refused_and_change_nothing(shared_cluster, domain, body, status):
    c = shared_cluster
    zid = c.create_zone(domain)
    before = c.whm.zone(zid)
    r = c.whm.post(dnssec_path(zid), body)
    assert r.status_code == status, cl.describe(r)
    assert "error" in r.json()
    assert c.whm.zone(zid) == before
    assert view(c, zid)["enabled"] is False
    assert c.answers(domain + ".", "DNSKEY") == {n.name: [] for n in c.nodes}


def test_dnssec_routes_check_ids_tokens_and_bodies(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    assert c.whm.get(dnssec_path(999999)).status_code == 404
    assert c.whm.post(dnssec_path(999999)).status_code == 404
    assert c.whm.delete(dnssec_path(999999)).status_code == 404
    assert c.whm.get("/api/dns/abc/dnssec").status_code == 422
    assert c.whm.post(dnssec_path(zid), token=None).status_code == 401
    assert c.whm.get(dnssec_path(zid), token=None).status_code == 401
    assert c.whm.post(dnssec_path(zid), token=c.whm.read_token).status_code == 403
    assert c.whm.delete(dnssec_path(zid), token=c.whm.read_token).status_code == 403
    assert c.whm.get(dnssec_path(zid), token=c.whm.read_token).status_code == 200
    assert c.whm.post(dnssec_path(zid), data=b"[1]").status_code in (400, 422)
    assert c.whm.post(dnssec_path(zid), data=b"{nope").status_code == 400
    assert view(c, zid)["enabled"] is False


def test_changing_the_algorithm_of_a_signed_zone_is_refused(shared_cluster, domain):
    c = shared_cluster
    zid, answer = signed_zone(c, domain)
    for body in ({"algorithm": 15}, {"scheme": "ksk-zsk"}):
        r = c.whm.post(dnssec_path(zid), body)
        assert r.status_code == 409, cl.describe(r)
        assert "unsign" in r.json()["error"]
    assert view(c, zid)["dnskey"] == answer["dnskey"]
    assert c.whm.zone(zid)["version"] == answer["version"]


# --- secrets ------------------------------------------------------------------------


def test_private_keys_stay_in_the_store_and_go_only_to_agents(shared_cluster, domain):
    c = shared_cluster
    zid, answer = signed_zone(c, domain, {"scheme": "ksk-zsk"})
    db = sqlite3.connect("file:%s?mode=ro" % c.whm.store_path, uri=True)
    try:
        privs = [row[0] for row in db.execute(
            "SELECT private_key FROM dnssec_keys WHERE zone_id = ?", (zid,))]
    finally:
        db.close()
    assert len(privs) == 2
    secrets = [p.split("PrivateKey:")[1].strip() for p in privs]
    texts = [str(answer), str(view(c, zid)), str(c.whm.zone(zid)),
             str(c.whm.call("GET", "/api/dns", expect=200)),
             str(c.whm.records(zid))]
    with open(c.whm.log_path, encoding="utf-8", errors="replace") as f:
        texts.append(f.read())
    for n in c.nodes:
        with open(n.log_path, encoding="utf-8", errors="replace") as f:
            texts.append(f.read())
    for t in texts:
        assert "Private-key-format" not in t
        assert not any(s in t for s in secrets)
    assert os.stat(c.whm.store_path).st_mode & 0o077 == 0


# --- nodes that were away, nodes that join ----------------------------------------


def test_a_node_away_during_key_changes_converges_to_the_same_keys(cluster, tmp_path):
    c = cluster
    away = c.nodes[2]
    zids = {}
    for i in range(5):
        domain = "away%d.example" % i
        zids[domain] = c.create_zone(domain)
        c.add_record(zids[domain], "www", "A", "192.0.2.%d" % (i + 1))
    first = sign(c, zids["away0.example"])
    harness.sigstop(away.proc.pid)
    try:
        # A key change (unsign, sign again: new keys) and new signed zones,
        # more than a batch's threshold, while the node does not answer.
        c.whm.call("DELETE", dnssec_path(zids["away0.example"]), params={"force": "1"},
                   expect=200)
        answers = {d: sign(c, z, wait=False) for d, z in zids.items()}
        assert answers["away0.example"]["dnskey"] != first["dnskey"]
        for d, a in answers.items():
            wait_dnskeys(c, d + ".", a["dnskey"], nodes=c.nodes[:2])
        time.sleep(1.0)                        # failed pushes and retries
    finally:
        away.proc.send_signal(signal.SIGCONT)
    for d, a in answers.items():
        wait_dnskeys(c, d + ".", a["dnskey"], timeout=20)
        wires = dnskeys_everywhere(c, d + ".")
        assert len(set(wires.values())) == 1, (d, wires)
    c.wait_converged(timeout=20)
    # The node that was away validates like the others.
    with dt.Unbound(tmp_path / "ub", "away0.example.", answers["away0.example"]["ds"],
                    away) as ub:
        assert dt.validated(ub.query("www.away0.example.", "A")), ub.logs()

    # A node that joins later receives the same keys; it never makes its own.
    late = c.add_node()
    for d, a in answers.items():
        wait_dnskeys(c, d + ".", a["dnskey"], timeout=20, nodes=[late])
    wires = dnskeys_everywhere(c, "away3.example.")
    assert len(set(wires.values())) == 1


def test_a_batch_carries_the_keys_too(shared_cluster, domain):
    """sync-batch applies zone.dnssec like sync-zone: the keys the store
    holds, served by the node."""
    c = shared_cluster
    zid, answer = signed_zone(c, domain)
    store = sqlite3.connect("file:%s?mode=ro" % c.whm.store_path, uri=True)
    try:
        row = store.execute("SELECT dnskey, private_key FROM dnssec_keys WHERE zone_id = ?",
                            (zid,)).fetchone()
    finally:
        store.close()
    other = "batch-" + domain + "."
    payloads = [cl.harness.zone_payload(
        other, 1, 1, cl.harness.basic_records(),
        dnssec={"enabled": True, "keys": [{"keytype": "csk", "dnskey": row[0],
                                           "privatekey": row[1]}]})]
    payloads += [cl.harness.zone_payload("plain%d-%s." % (i, domain), 1, 1,
                                         cl.harness.basic_records()) for i in range(3)]
    n = c.nodes[0]
    r = n.sync_batch(payloads)
    assert r.status_code == 200 and r.json()["applied"] == 4, r.text
    assert n.dig(other, "DNSKEY") == canon(answer["dnskey"])
    assert n.zones()[other]["version"] == 1
    for i in range(3):
        n.delete_zone("plain%d-%s." % (i, domain))
    n.delete_zone(other)


def test_a_deleted_signed_zone_comes_back_unsigned(shared_cluster, domain):
    c = shared_cluster
    zone = domain + "."
    zid, answer = signed_zone(c, domain)
    c.delete_zone(zid)
    c.wait_rcode("www." + zone, "A", "REFUSED")
    again = c.create_zone(domain)
    assert view(c, again)["enabled"] is False
    c.wait_all_nodes(zone, "SOA", [c.answers(zone, "SOA")[c.nodes[0].name][0]])
    assert c.answers(zone, "DNSKEY") == {n.name: [] for n in c.nodes}
    resigned = sign(c, again)
    assert resigned["dnskey"] != answer["dnskey"]
    wait_dnskeys(c, zone, resigned["dnskey"])


def test_a_node_away_while_a_signed_zone_is_deleted_and_created_again_drops_the_keys(
        cluster, domain):
    """The node misses the delete: the zone created again reaches it as the
    next version of the signed zone it holds, and must come without the old
    keys (found by make torture: kind pdns-stop seed 1)."""
    c = cluster
    zone = domain + "."
    away = c.nodes[2]
    zid, answer = signed_zone(c, domain)
    c.leave(away)
    c.delete_zone(zid)
    again = c.create_zone(domain)
    c.add_record(again, "www", "A", "192.0.2.9")
    assert away.dig(zone, "DNSKEY") == canon(answer["dnskey"])    # still the old zone
    c.join(away)
    c.wait_all_nodes("www." + zone, "A", ["192.0.2.9"], timeout=20)
    c.wait_converged(timeout=20)
    assert c.answers(zone, "DNSKEY") == {n.name: [] for n in c.nodes}
    assert c.answers(zone, "RRSIG") == {n.name: [] for n in c.nodes}
