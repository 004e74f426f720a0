"""A secondary zone its primary signs is served as it comes (presigned): a
real knotd signs the zone (dnssec-signing with its default policy),
the controller transfers it with its DNSKEY, RRSIG and NSEC records, and
every node's PowerDNS serves them as knotd made them (PRESIGNED metadata:
it signs nothing). The checks compare each node's RRSIGs with knotd's,
validate each node's answers against knotd's DNSKEY as the only trust
anchor (dnspython, and a validating unbound stubbed to the node), follow a
change on the primary, and show that the content verification still finds
a node serving other signatures. Users still cannot write DNSSEC records
into a primary zone."""

import time

import dns.dnssec
import dns.flags
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

import cluster as cl
import harness
from dns_primaries import BindPrimary, KnotPrimary
from dnssec_tools import Unbound, validated
from test_secondary_zones import create_secondary, retrieve, zone_file
from test_yumnactl import Ctl
from test_verification import behind_the_back, whm_metric

pytest_plugins = ["cluster_fixtures"]

VERIFY_INTERVAL = 1  # agent: seconds per background verification pass


def rrsets(msg, name, rtype):
    """The answer RRset 'name'/'rtype' and the RRSIG RRset covering it."""
    qname = dns.name.from_text(name)
    rdtype = dns.rdatatype.from_text(rtype)
    found = sig = None
    for rrset in msg.answer:
        if rrset.name != qname:
            continue
        if rrset.rdtype == rdtype:
            found = rrset
        elif rrset.rdtype == dns.rdatatype.RRSIG and rrset.covers == rdtype:
            sig = rrset
    return found, sig


def wire_set(rrset):
    """The RDATA of an RRset in wire form, sorted: equal byte for byte."""
    return sorted(rd.to_digestable() for rd in rrset) if rrset is not None else []


def wait_signed(primary, name, rtype, timeout=30.0):
    """knotd's answer for 'name'/'rtype' once it carries its RRSIG."""
    deadline = time.monotonic() + timeout
    while True:
        msg = primary.query(name, rtype)
        found, sig = rrsets(msg, name, rtype)
        if found is not None and sig is not None:
            return msg
        if time.monotonic() > deadline:
            raise AssertionError("knotd did not sign %s/%s: %s" % (name, rtype, primary.logs()))
        time.sleep(0.2)


def same_as_primary(node, primary, name, rtype):
    """True when 'node' answers 'name'/'rtype' with the RRset and the RRSIGs
    knotd answers, byte for byte; else what differs."""
    want = rrsets(primary.query(name, rtype), name, rtype)
    have = rrsets(node.query(name, rtype, dnssec=True), name, rtype)
    if have[1] is None:
        return "%s: no RRSIG for %s/%s" % (node.name, name, rtype)
    if wire_set(want[0]) != wire_set(have[0]) or wire_set(want[1]) != wire_set(have[1]):
        return "%s: %s/%s differs: %s vs %s" % (node.name, name, rtype, have, want)
    return True


def wait_same(node, primary, name, rtype, timeout, what):
    """Until same_as_primary() is True; else fail with 'what' and what differs."""
    if not harness.wait_until(lambda: same_as_primary(node, primary, name, rtype) is True,
                              timeout):
        raise AssertionError("%s: not within %.1f s (last: %r)"
                             % (what, timeout, same_as_primary(node, primary, name, rtype)))


def nsec_proof(msg, rdtype=dns.rdatatype.NSEC):
    """The NSEC (or NSEC3) records of a negative answer's authority section
    with their owners, in wire form, sorted: PowerDNS picks them by the
    zone's order names."""
    return sorted((rrset.name.to_digestable(), rd.to_digestable()) for rrset in msg.authority
                  if rrset.rdtype == rdtype for rd in rrset)


def validate_on(node, zone, keys, name, rtype):
    """Validate the node's answer with knotd's DNSKEY RRset as the only
    trust anchor (dnspython, the DNSKEY RRset itself first)."""
    zname = dns.name.from_text(zone)
    anchor = {zname: keys}
    dnskey, dnskey_sig = rrsets(node.query(zone, "DNSKEY", dnssec=True), zone, "DNSKEY")
    dns.dnssec.validate(dnskey, dnskey_sig, anchor)
    found, sig = rrsets(node.query(name, rtype, dnssec=True), name, rtype)
    assert found is not None and sig is not None, (node.name, name, rtype)
    dns.dnssec.validate(found, sig, {zname: dnskey})


@pytest.fixture(params=["knot", "bind"])
def signed(request, cluster_factory, tmp_path, domain):
    """knotd, or named with inline signing (whose zone holds its private
    signing-state records, TYPE65534, which its apex NSEC lists)."""
    zone = domain + "."
    if request.param == "bind":
        primary = BindPrimary(tmp_path / "named", {zone: zone_file(zone, 100)}, signs=True)
    else:
        primary = KnotPrimary(tmp_path / "knot", {zone: zone_file(zone, 100)}, signs=True)
    primary.start()
    c = cluster_factory(n=2, node_config={"verify-interval": VERIFY_INTERVAL})
    try:
        yield c, primary, zone
    finally:
        primary.stop()


def test_a_zone_its_primary_signs_is_served_as_signed_by_every_node(signed, tmp_path):
    c, primary, zone = signed
    www = "www." + zone
    wait_signed(primary, www, "A")
    keys, _ = rrsets(wait_signed(primary, zone, "DNSKEY"), zone, "DNSKEY")

    made = create_secondary(c.whm, zone, [primary.address])
    zid = made["zoneId"]
    for node in c.nodes:
        wait_same(node, primary, zone, "DNSKEY", 30,
                  "%s serves knotd's DNSKEY and its RRSIG" % node.name)
        for name, rtype in ((www, "A"), (zone, "SOA"), (zone, "NS"),
                            ("txt." + zone, "TXT"), ("mail." + zone, "MX")):
            assert same_as_primary(node, primary, name, rtype) is True
            validate_on(node, zone, keys, name, rtype)
        # A name that does not exist: knotd's NSEC records prove it.
        nx = "nowhere." + zone
        want = nsec_proof(primary.query(nx, "A"))
        assert want and nsec_proof(node.query(nx, "A", dnssec=True)) == want, node.name

    # Shown as presigned, and the controller's own signing is refused.
    z = c.whm.zone(zid)
    assert z["kind"] == "secondary" and z["presigned"] is True, z
    assert z["secondary"]["presigned"] is True, z
    r = c.whm.post("/api/dns/%d/dnssec" % zid, {})
    assert r.status_code == 409, cl.describe(r)
    shown = Ctl(c, tmp_path).run("zones", "show", zone).stdout
    assert "dnssec   presigned by its primary" in shown, shown

    # A validating resolver with knotd's key as its only anchor: the
    # node's answers are secure (AD), names that do not exist included.
    ds = [dns.dnssec.make_ds(zone, k, "SHA256").to_text() for k in keys
          if k.flags & 1]
    for node in c.nodes:
        with Unbound(tmp_path / ("unbound-" + node.name), zone, ds, node) as u:
            a = u.query(www, "A")
            assert a.rcode() == dns.rcode.NOERROR and validated(a), (a, u.logs())
            nx = u.query("nowhere." + zone, "A")
            assert nx.rcode() == dns.rcode.NXDOMAIN and validated(nx), (nx, u.logs())

    # A change on the primary: knotd signs it, a refresh brings it, and
    # every node serves the new data with knotd's new signatures.
    primary.reload(zone, zone_file(zone, 101, a="192.0.2.2"))
    assert harness.wait_until(
        lambda: rrsets(primary.query(www, "A"), www, "A")[0][0].to_text() == "192.0.2.2", 30,
        interval=0.2), primary.logs()
    wait_signed(primary, www, "A")
    retrieve(c.whm, zid)
    for node in c.nodes:
        wait_same(node, primary, www, "A", 30,
                  "%s serves the change as knotd signed it" % node.name)
        validate_on(node, zone, keys, www, "A")


def test_verification_sees_no_drift_and_catches_other_signatures(signed):
    c, primary, zone = signed
    www = "www." + zone
    wait_signed(primary, www, "A")
    zid = create_secondary(c.whm, zone, [primary.address])["zoneId"]
    for node in c.nodes:
        wait_same(node, primary, www, "A", 30, "%s serves the signed zone" % node.name)

    # Healthy nodes: a few verification passes find nothing to repair, and
    # every node holds the digest the controller committed.
    time.sleep(4 * VERIFY_INTERVAL)
    for node in c.nodes:
        assert "yumna_agent_drift_total 0" in node.get("/metrics").text, node.name
    digests = {n.zone(zone).json()["digest"] for n in c.nodes}
    assert len(digests) == 1, digests
    z = c.whm.zone(zid)
    assert {n.zone(zone).json()["version"] for n in c.nodes} == {z["version"]}

    # One node's PowerDNS made to serve another signature: found, and
    # put back as knotd signed it.
    victim = c.nodes[1]
    before = whm_metric(c, "yumna_whm_node_drift_total", victim) or 0
    # the original TTL field the signature covers: 300 -> 301
    behind_the_back(victim, "UPDATE records SET content = replace(content, ' 300 ', ' 301 ') "
                            "WHERE name = ? AND type = 'RRSIG' AND content LIKE 'A %'",
                    www.rstrip("."))
    harness.wait_until(lambda: (whm_metric(c, "yumna_whm_node_drift_total", victim) or 0) > before
                       or "yumna_agent_drift_total 0" not in victim.get("/metrics").text, 15,
                       "the changed signature is found")
    wait_same(victim, primary, www, "A", 15, "%s serves knotd's signature again" % victim.name)

    # A node purged and joined again gets the zone by a full sync (the
    # batch path): the same signatures, and the same NSEC proofs.
    c.leave(victim, purge=True)
    c.join(victim)
    wait_same(victim, primary, www, "A", 30,
              "%s serves the zone again after its full sync" % victim.name)
    nx = "nowhere." + zone
    want = nsec_proof(primary.query(nx, "A"))
    assert want and nsec_proof(victim.query(nx, "A", dnssec=True)) == want


def test_a_primary_zone_still_refuses_dnssec_records(cluster, domain):
    zone = domain + "."
    zid = cluster.create_zone(zone)
    for rtype, content in (
            ("RRSIG", "A 13 3 300 20300101000000 20200101000000 12345 %s AAAA" % zone),
            ("DNSKEY", "257 3 13 AAAA"),
            ("NSEC", "www.%s A RRSIG NSEC" % zone)):
        r = cluster.whm.post("/api/dns/%d/records" % zid,
                             {"name": "www", "type": rtype, "content": content})
        assert r.status_code == 422, cl.describe(r)
        assert "signer" in r.json()["error"], r.json()
    r = cluster.whm.post("/api/dns/%d/records" % zid,
                         {"name": "@", "type": "TYPE65534", "content": r"\# 5 0D3C4F0001"})
    assert r.status_code == 422 and "generic type" in r.json()["error"], cl.describe(r)
    r = cluster.whm.request("PATCH", "/api/dns/%d/rrsets" % zid, json_body={"rrsets": [
        {"name": "www." + zone, "type": "RRSIG", "changetype": "REPLACE", "ttl": 300,
         "records": [{"content": "A 13 3 300 20300101000000 20200101000000 12345 %s AAAA"
                                 % zone}]}]})
    assert r.status_code == 422 and "signer" in r.json()["error"], cl.describe(r)
    r = cluster.whm.post("/api/dns/%d/import" % zid, {
        "content": "www 300 IN A 192.0.2.1\n"
                   "www 300 IN RRSIG A 13 3 300 20300101000000 20200101000000 12345 %s "
                   "AAAA\n" % zone})
    assert r.status_code == 422, cl.describe(r)
    z = cluster.whm.zone(zid)
    assert z.get("presigned") is None, z
    r = cluster.whm.get("/api/dns/%d/records" % zid)
    assert r.status_code == 200 and "RRSIG" not in r.text, r.text


@pytest.mark.parametrize("signs", ["nsec3", "nsec3-optout"])
def test_a_zone_signed_with_nsec3_proves_what_does_not_exist(cluster_factory, tmp_path, domain,
                                                            signs):
    """NSEC3: PowerDNS gets the primary's NSEC3PARAM as the zone's metadata
    and the hashed order of its names (empty non-terminals included) from
    the agent; its NXDOMAIN and NODATA answers, and its referral to an
    insecure delegation, carry knotd's NSEC3 records and validate. With
    opt-out the delegation has no NSEC3 of its own: the referral carries
    the closest encloser's and the opt-out span's that covers it."""
    zone = domain + "."
    primary = KnotPrimary(tmp_path / "knot", {
        zone: zone_file(zone, 100, extra="a.b.deep IN A 192.0.2.77\n"
                                          "insecure IN NS ns.example.net.\n")}, signs=signs)
    primary.start()
    try:
        c = cluster_factory(n=2)
        www = "www." + zone
        wait_signed(primary, www, "A")
        keys, _ = rrsets(wait_signed(primary, zone, "DNSKEY"), zone, "DNSKEY")
        zid = create_secondary(c.whm, zone, [primary.address])["zoneId"]
        ds = [dns.dnssec.make_ds(zone, k, "SHA256").to_text() for k in keys if k.flags & 1]
        for node in c.nodes:
            wait_same(node, primary, www, "A", 30, "%s serves the NSEC3 zone" % node.name)
            validate_on(node, zone, keys, www, "A")
            for name, rtype in (("nowhere." + zone, "A"), (www, "TXT"),
                                ("b.deep." + zone, "A"), ("host.insecure." + zone, "A")):
                want = nsec_proof(primary.query(name, rtype), dns.rdatatype.NSEC3)
                have = nsec_proof(node.query(name, rtype, dnssec=True), dns.rdatatype.NSEC3)
                assert want and have == want, (node.name, name, rtype)
            optout = {rd.flags & 1 for rrset in primary.query("nowhere." + zone, "A").authority
                      if rrset.rdtype == dns.rdatatype.NSEC3 for rd in rrset}
            assert optout == {1 if signs == "nsec3-optout" else 0}, optout
            # A name error proven by an opt-out span is insecure, not bogus
            # (RFC 5155 section 9.2: an unsigned delegation may be there):
            # NXDOMAIN without AD. A bad proof would be SERVFAIL.
            secure_nxdomain = signs != "nsec3-optout"
            with Unbound(tmp_path / ("unbound-" + node.name), zone, ds, node) as u:
                for name, rtype, rcode, secure in (
                        ("nowhere." + zone, "A", dns.rcode.NXDOMAIN, secure_nxdomain),
                        (www, "TXT", dns.rcode.NOERROR, True)):
                    a = u.query(name, rtype)
                    assert a.rcode() == rcode and validated(a) == secure, (a, u.logs())
        assert c.whm.zone(zid)["presigned"] is True
    finally:
        primary.stop()
