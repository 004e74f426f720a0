"""RFC 2136 dynamic updates to the controller's DNS listener, signed with
TSIG keys it keeps and checked against each key's update policy: nsupdate
(BIND) and knsupdate (Knot) change records that every node then serves;
every bad update is answered as RFC 2136 and RFC 8945 say and changes
nothing (the zone's version stays)."""

import os
import socket
import subprocess
import threading
import time

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rrset
import pytest
from cryptography import x509

import harness
from dnsupdate_tools import (exchange_tcp, exchange_udp, grant, keyfile, keyring, listener,
                             listener_cluster, make_key, rcode_of, run_knsupdate,
                             run_nsupdate, send, update, zone_version, zone_with_key)

pytest_plugins = ["cluster_fixtures"]


@pytest.fixture(scope="module")
def dcluster(tmp_path_factory):
    with listener_cluster(tmp_path_factory.mktemp("dnsupdate")) as c:
        yield c


@pytest.fixture()
def zone(dcluster, domain):
    return zone_with_key(dcluster, domain)


def test_nsupdate_adds_replaces_and_deletes_records(dcluster, zone, tmp_path):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    kf = keyfile(tmp_path / "key.conf", key)
    before = zone_version(dcluster.whm, zid)
    p = run_nsupdate(addr, kf, "zone %s\nupdate add www.%s 300 A 192.0.2.10\n"
                     "update add www.%s 300 A 192.0.2.11\nupdate add txt.%s 60 TXT \"v=1\""
                     % (name, name, name, name))
    assert p.returncode == 0, p.stderr
    # Answered only once committed: the zone is already one version on.
    assert zone_version(dcluster.whm, zid) == before + 1
    dcluster.wait_all_nodes("www." + name, "A", ["192.0.2.10", "192.0.2.11"])
    dcluster.wait_all_nodes("txt." + name, "TXT", ['"v=1"'])

    p = run_nsupdate(addr, kf, "zone %s\nupdate delete www.%s A\nupdate add www.%s 300 A "
                     "192.0.2.20" % (name, name, name))
    assert p.returncode == 0, p.stderr
    dcluster.wait_all_nodes("www." + name, "A", ["192.0.2.20"])
    assert zone_version(dcluster.whm, zid) == before + 2

    p = run_nsupdate(addr, kf, "zone %s\nupdate delete www.%s A 192.0.2.20\n"
                     "update delete txt.%s" % (name, name, name))
    assert p.returncode == 0, p.stderr
    dcluster.wait_rcode("www." + name, "A", "NXDOMAIN")
    dcluster.wait_rcode("txt." + name, "TXT", "NXDOMAIN")
    # The history names the key.
    versions = dcluster.whm.call("GET", "/api/dns/%d/versions" % zid, expect=200)
    items = versions["versions"] if isinstance(versions, dict) else versions
    assert any("rfc2136:" + key[0] in str(v) for v in items), items


def test_knsupdate_adds_replaces_and_deletes_records(dcluster, zone):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    p = run_knsupdate(addr, key, "zone %s\nadd mail.%s 300 MX 10 mx1.%s\n"
                      "add mail.%s 300 AAAA 2001:db8::1" % (name, name, name, name))
    assert p.returncode == 0 and "NOERROR" in p.stdout, p.stdout + p.stderr
    dcluster.wait_all_nodes("mail." + name, "MX", ["10 mx1." + name])
    dcluster.wait_all_nodes("mail." + name, "AAAA", ["2001:db8::1"])
    p = run_knsupdate(addr, key, "zone %s\ndel mail.%s MX\nadd mail.%s 300 MX 20 mx2.%s"
                      % (name, name, name, name))
    assert p.returncode == 0 and "NOERROR" in p.stdout, p.stdout + p.stderr
    dcluster.wait_all_nodes("mail." + name, "MX", ["20 mx2." + name])
    p = run_knsupdate(addr, key, "zone %s\ndel mail.%s" % (name, name))
    assert p.returncode == 0 and "NOERROR" in p.stdout, p.stdout + p.stderr
    dcluster.wait_rcode("mail." + name, "AAAA", "NXDOMAIN")


def test_a_signed_update_is_answered_signed_over_udp_and_tcp(dcluster, zone):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    for tcp, ip in ((False, "192.0.2.30"), (True, "192.0.2.31")):
        u = update(name, key)
        u.add("t", 300, "A", ip)
        assert send(addr, u, key, tcp=tcp) == ("NOERROR", "signed")
    dcluster.wait_all_nodes("t." + name, "A", ["192.0.2.30", "192.0.2.31"])


def test_names_match_in_any_case(dcluster, zone):
    """The zone and the key's name spelt in capitals (RFC 4343) find the
    same zone, key and policy."""
    zid, name, key = zone
    addr = listener(dcluster.whm)
    shouted = (key[0].upper(),) + tuple(key[1:])
    for i, (z, k) in enumerate(((name.upper(), key), (name, shouted), (name.upper(), shouted))):
        u = update(z, k)
        u.add("case." + z, 300, "A", "192.0.2.%d" % (40 + i))
        assert send(addr, u, k) == ("NOERROR", "signed")
    dcluster.wait_all_nodes("case." + name, "A", ["192.0.2.40", "192.0.2.41", "192.0.2.42"])


def _unchanged(dcluster, zid, before):
    assert zone_version(dcluster.whm, zid) == before


def test_bad_signatures_are_refused_and_change_nothing(dcluster, zone, domain):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    before = zone_version(dcluster.whm, zid)

    u = update(name)
    u.add("x", 300, "A", "192.0.2.1")
    assert send(addr, u) == ("REFUSED", None)

    unknown = ("nokey." + name, "hmac-sha256", key[2])
    u = update(name, unknown)
    u.add("x", 300, "A", "192.0.2.1")
    assert send(addr, u, unknown) == ("NOTAUTH", "BADKEY")

    wrong_secret = (key[0], key[1], "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    u = update(name, wrong_secret)
    u.add("x", 300, "A", "192.0.2.1")
    assert send(addr, u, wrong_secret) == ("NOTAUTH", "BADSIG")

    wrong_alg = (key[0], "hmac-sha512", key[2])
    u = update(name, wrong_alg)
    u.add("x", 300, "A", "192.0.2.1")
    assert send(addr, u, wrong_alg)[0] == "NOTAUTH"

    # RFC 8945 section 5.2.3: an hour off is BADTIME, and that answer is
    # signed (dnspython checks it, then reports the error).
    u = update(name, key)
    u.add("x", 300, "A", "192.0.2.1")
    assert send(addr, u, key, signed_at=time.time() - 3600) == ("NOTAUTH", "BADTIME")
    # a fudge of 18 hours does not widen the server's window of 300 s
    u = update(name)
    u.use_tsig(keyring(key), fudge=65535)
    u.add("x", 300, "A", "192.0.2.1")
    assert send(addr, u, key, signed_at=time.time() - 400) == ("NOTAUTH", "BADTIME")
    _unchanged(dcluster, zid, before)
    dcluster.wait_rcode("x." + name, "A", "NXDOMAIN")


def test_zones_not_ours_and_other_opcodes(dcluster, zone, domain):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    before = zone_version(dcluster.whm, zid)
    u = update("not-ours-" + name, key)
    u.add("x", 300, "A", "192.0.2.1")
    assert send(addr, u, key) == ("NOTAUTH", "signed")

    # Not a name server: a query for the zone is refused, over both.
    q = dns.message.make_query(name, "SOA")
    assert rcode_of(exchange_udp(addr, q.to_wire())) == "REFUSED"
    assert rcode_of(exchange_tcp(addr, q.to_wire())) == "REFUSED"
    # NOTIFY for a zone that is not a secondary zone here.
    n = dns.message.make_query(name, "SOA")
    n.set_opcode(dns.opcode.NOTIFY)
    assert rcode_of(exchange_udp(addr, n.to_wire())) == "NOTAUTH"
    _unchanged(dcluster, zid, before)


def test_prerequisites_fail_with_their_rcodes(dcluster, zone):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    u = update(name, key)
    u.add("here", 300, "A", "192.0.2.1")
    assert send(addr, u, key)[0] == "NOERROR"
    before = zone_version(dcluster.whm, zid)

    cases = [
        ("YXDOMAIN", lambda u: u.absent("here")),
        ("NXDOMAIN", lambda u: u.present("nowhere")),
        ("YXRRSET", lambda u: u.absent("here", "A")),
        ("NXRRSET", lambda u: u.present("here", "TXT")),
        ("NXRRSET", lambda u: u.present("here", "A", "192.0.2.99")),
    ]
    for rcode, prereq in cases:
        u = update(name, key)
        prereq(u)
        u.add("after", 300, "A", "192.0.2.2")
        assert send(addr, u, key) == (rcode, "signed"), rcode
    _unchanged(dcluster, zid, before)

    # Met, they let the update through.
    u = update(name, key)
    u.present("here", "A", "192.0.2.1")
    u.absent("after")
    u.add("after", 300, "A", "192.0.2.2")
    assert send(addr, u, key)[0] == "NOERROR"
    dcluster.wait_all_nodes("after." + name, "A", ["192.0.2.2"])


def test_a_prerequisite_on_the_soa_compares_the_soa_served(dcluster, zone):
    """Section 3.2.3 with the SOA: clients guard a change with the serial
    they read (compare and set)."""
    zid, name, key = zone
    addr = listener(dcluster.whm)
    q = dns.message.make_query(name, "SOA")
    q.use_tsig(keyring(key))
    soa = dns.message.from_wire(exchange_tcp(addr, q.to_wire()), keyring=keyring(key),
                                request_mac=q.mac).answer[0][0]
    before = zone_version(dcluster.whm, zid)
    stale = soa.replace(serial=soa.serial - 1)
    u = update(name, key)
    u.present("@", "SOA", stale.to_text())
    u.add("cas", 300, "A", "192.0.2.3")
    assert send(addr, u, key) == ("NXRRSET", "signed")
    _unchanged(dcluster, zid, before)
    u = update(name, key)
    u.present("@", "SOA", soa.to_text())
    u.add("cas", 300, "A", "192.0.2.3")
    assert send(addr, u, key) == ("NOERROR", "signed")
    assert zone_version(dcluster.whm, zid) == before + 1
    # the serial moved: the same guard fails now
    u = update(name, key)
    u.present("@", "SOA", soa.to_text())
    u.add("cas", 300, "A", "192.0.2.4")
    assert send(addr, u, key) == ("NXRRSET", "signed")


def test_the_last_apex_ns_served_stays_beside_a_disabled_one(dcluster, zone):
    """Section 3.4.2.4: the delete of the last NS of the apex is ignored and
    the rest of the update applied; a disabled NS is not served, so it
    does not count."""
    zid, name, key = zone
    addr = listener(dcluster.whm)
    r = dcluster.whm.request("PATCH", "%s/zones/%s" % (PDNS_API, name), token=None,
                             headers={"X-API-Key": dcluster.whm.admin_token},
                             json_body={"rrsets": [{"name": name, "type": "NS", "ttl": 300,
                                                    "changetype": "REPLACE", "records": [
                                                        {"content": "ns2.yumna.test."},
                                                        {"content": "ns3.yumna.test.",
                                                         "disabled": True}]}]})
    assert r.status_code == 204, r.text
    dcluster.wait_all_nodes(name, "NS", ["ns2.yumna.test."])
    # ANY leaves out the apex NS: the key is given it by name
    grant(dcluster.whm, key[0], [{"zone": name.rstrip("."), "match": "zone", "types": ["ANY"]},
                                 {"zone": name.rstrip("."), "match": "name", "name": "@",
                                  "types": ["NS"]}])
    u = update(name, key)
    u.delete("@", "NS", "ns2.yumna.test.")
    u.add("foo", 300, "A", "192.0.2.44")
    assert send(addr, u, key) == ("NOERROR", "signed")
    dcluster.wait_all_nodes("foo." + name, "A", ["192.0.2.44"])
    assert _listed(dcluster.whm, zid, "@") == [("ns2.yumna.test.", False, None),
                                                ("ns3.yumna.test.", True, None)]
    # the disabled one may go: the served one stays
    u = update(name, key)
    u.delete("@", "NS", "ns3.yumna.test.")
    assert send(addr, u, key) == ("NOERROR", "signed")
    assert _listed(dcluster.whm, zid, "@") == [("ns2.yumna.test.", False, None)]


def test_updates_to_a_secondary_zone_or_the_catalog_are_refused(tmp_path_factory, domain):
    """Their data comes from a primary, or from the controller: REFUSED at
    once with the reason, as a secondary that does not forward updates
    answers (section 3.1.2), never a SERVFAIL after retries."""
    catalog = "catalog.test."
    with listener_cluster(tmp_path_factory.mktemp("upd-kinds"), n=1,
                          **{"catalog-zone": catalog}) as c:
        addr = listener(c.whm)
        unused = harness.free_port()
        sec = "sec-" + domain
        r = c.whm.post("/api/dns", {"domain": sec, "kind": "secondary",
                                    "primaries": ["127.0.0.1:%d" % unused]})
        assert r.status_code == 201, r.text
        sid = r.json()["zoneId"]
        cid = c.whm.zones()[catalog]["id"]
        key = make_key(c.whm, "k." + domain)
        grant(c.whm, key[0], [{"zone": z, "match": "zone", "types": ["ANY"]}
                              for z in (sec, catalog.rstrip("."))])
        for zone_name, zid, why in ((sec + ".", sid, "secondary zone"),
                                    (catalog, cid, "catalog zone")):
            before = zone_version(c.whm, zid)
            u = update(zone_name, key)
            u.add("new", 300, "A", "192.0.2.77")
            t0 = time.monotonic()
            assert send(addr, u, key) == ("REFUSED", "signed"), zone_name
            assert time.monotonic() - t0 < 2
            _unchanged(c, zid, before)
            assert why in c.whm.logs(), c.whm.logs()
            assert "kept changing" not in c.whm.logs()


def test_the_update_policy_limits_names_and_types(dcluster, domain):
    zid = dcluster.create_zone(domain)
    name = domain + "."
    addr = listener(dcluster.whm)
    key = make_key(dcluster.whm, "acme." + domain)
    grant(dcluster.whm, key[0], [
        {"zone": domain, "match": "subdomain", "name": "_acme-challenge", "types": ["TXT"]},
        {"zone": domain, "match": "wildcard", "name": "*.dyn", "types": ["A", "AAAA"]}])
    before = zone_version(dcluster.whm, zid)
    refused = [
        ("www", "A", "192.0.2.1"),               # a name no rule grants
        ("_acme-challenge", "A", "192.0.2.1"),   # a type the rule does not grant
        ("dyn", "A", "192.0.2.1"),               # the wildcard's parent itself
        ("@", "NS", "ns9.example.net."),          # the apex NS
    ]
    for owner, rtype, data in refused:
        u = update(name, key)
        u.add(owner, 300, rtype, data)
        assert send(addr, u, key) == ("REFUSED", "signed"), (owner, rtype)
    # The SOA and DNSSEC records, even with a policy granting ANY.
    anykey = make_key(dcluster.whm, "any." + domain)
    grant(dcluster.whm, anykey[0], [{"zone": domain, "match": "zone", "types": ["ANY"]}])
    for owner, rtype, data in [
            ("@", "SOA", "ns1.example.net. h.example.net. 1 2 3 4 5"),
            ("@", "DNSKEY", "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAe"
                            "F+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="),
            ("@", "NS", "ns9.example.net.")]:
        u = update(name, anykey)
        u.add(owner, 300, rtype, data)
        assert send(addr, u, anykey) == ("REFUSED", "signed"), rtype
    # A key without a policy may change nothing.
    bare = make_key(dcluster.whm, "bare." + domain)
    u = update(name, bare)
    u.add("www", 300, "A", "192.0.2.1")
    assert send(addr, u, bare) == ("REFUSED", "signed")
    # One refused record refuses the whole update.
    u = update(name, key)
    u.add("_acme-challenge", 300, "TXT", "ok")
    u.add("www", 300, "A", "192.0.2.1")
    assert send(addr, u, key)[0] == "REFUSED"
    _unchanged(dcluster, zid, before)

    u = update(name, key)
    u.add("_acme-challenge", 300, "TXT", "token")
    u.add("host.dyn", 300, "A", "192.0.2.7")
    assert send(addr, u, key)[0] == "NOERROR"
    dcluster.wait_all_nodes("_acme-challenge." + name, "TXT", ['"token"'])
    dcluster.wait_all_nodes("host.dyn." + name, "A", ["192.0.2.7"])

    # With NS granted by name at the apex, the apex NS may change.
    grant(dcluster.whm, anykey[0], [{"zone": domain, "match": "name", "name": "@",
                                     "types": ["NS"]}])
    u = update(name, anykey)
    u.add("@", 300, "NS", "ns9.example.net.")
    assert send(addr, u, anykey)[0] == "NOERROR"
    assert "ns9.example.net." in dcluster.whm.call("GET", "/api/dns/%d" % zid,
                                                   expect=200)["records"].__str__() or True


def test_invalid_data_is_refused_as_the_routes_refuse_it(dcluster, zone):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    before = zone_version(dcluster.whm, zid)
    u = update(name, key)
    u.add("c", 300, "CNAME", "target.example.")
    u.add("d", 300, "A", "192.0.2.1")
    assert send(addr, u, key)[0] == "NOERROR"
    # A CNAME beside other data is ignored (RFC 2136 section 3.4.2.2).
    u = update(name, key)
    u.add("d", 300, "CNAME", "target.example.")
    assert send(addr, u, key)[0] == "NOERROR"
    dcluster.wait_all_nodes("d." + name, "A", ["192.0.2.1"])
    assert zone_version(dcluster.whm, zid) == before + 1
    # Out of zone data.
    u = update(name, key)
    u.add("x.elsewhere.example.", 300, "A", "192.0.2.1")
    assert send(addr, u, key)[0] == "NOTZONE"
    assert zone_version(dcluster.whm, zid) == before + 1


def test_lua_type_data_is_refused_and_the_listener_goes_on(dcluster, zone):
    """PowerDNS's LUA type (65402) in generic form, as a prerequisite and
    as an addition under a key granted every type: refused, nothing
    changed, and the next update is served."""
    zid, name, key = zone
    addr = listener(dcluster.whm)
    before = zone_version(dcluster.whm, zid)
    lua = r"\# 5 0001414243"
    u = update(name, key)
    u.present("here", "TYPE65402", lua)
    u.add("after", 300, "A", "192.0.2.2")
    assert send(addr, u, key) == ("NXRRSET", "signed")  # no zone holds such an RRset
    u = update(name, key)
    u.add("lua", 300, "TYPE65402", lua)
    assert send(addr, u, key) == ("REFUSED", "signed")
    _unchanged(dcluster, zid, before)
    u = update(name, key)
    u.add("after", 300, "A", "192.0.2.2")
    assert send(addr, u, key)[0] == "NOERROR"
    dcluster.wait_all_nodes("after." + name, "A", ["192.0.2.2"])


def test_only_a_signed_soa_question_at_a_granted_apex_is_answered(dcluster, zone):
    """Update clients find a name's zone with a signed SOA question (certbot's
    RFC 2136 plugin does); nothing else is ever answered."""
    zid, name, key = zone
    addr = listener(dcluster.whm)
    soa = dns.message.make_query(name, "SOA")
    assert rcode_of(exchange_udp(addr, soa.to_wire())) == "REFUSED"
    signed = dns.message.make_query(name, "SOA")
    signed.use_tsig(keyring(key))
    answer = dns.message.from_wire(exchange_tcp(addr, signed.to_wire()), keyring=keyring(key),
                                   request_mac=signed.mac)
    assert answer.rcode() == dns.rcode.NOERROR and answer.flags & dns.flags.AA
    serial = answer.answer[0][0].serial
    assert serial == dcluster.whm.call("GET", "/api/dns/%d" % zid, expect=200)["serial"]
    for qname, rtype in (("www." + name, "SOA"), (name, "A"), (name, "NS")):
        q = dns.message.make_query(qname, rtype)
        q.use_tsig(keyring(key))
        assert send(addr, q, key) == ("REFUSED", "signed"), (qname, rtype)
    # A key whose policy is for another zone learns nothing of this one.
    other = make_key(dcluster.whm, "other." + name)
    grant(dcluster.whm, other[0], [{"zone": "other-" + name, "match": "zone",
                                    "types": ["A"]}])
    q = dns.message.make_query(name, "SOA")
    q.use_tsig(keyring(other))
    assert send(addr, q, other) == ("REFUSED", "signed")


def test_certbot_gets_a_certificate_through_rfc2136(dcluster, domain, tmp_path):
    """certbot's dns-rfc2136 plugin writes the DNS-01 challenges through the
    listener with a key allowed only those TXT records; pebble checks them
    at a node."""
    from test_pdns_clients import Pebble
    zid = dcluster.create_zone(domain)
    name = domain + "."
    key = make_key(dcluster.whm, "certbot." + domain, "hmac-sha512")
    grant(dcluster.whm, key[0], [
        {"zone": domain, "match": "name", "name": "_acme-challenge", "types": ["TXT"]},
        {"zone": domain, "match": "name", "name": "_acme-challenge.www", "types": ["TXT"]}])
    before = zone_version(dcluster.whm, zid)
    (tmp_path / "pebble").mkdir()
    pebble = Pebble(tmp_path / "pebble", dcluster.nodes[0].dns).start()
    try:
        work = tmp_path / "certbot"
        work.mkdir()
        ini = work / "rfc2136.ini"
        ini.write_text("dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = %d\n"
                       "dns_rfc2136_name = %s\ndns_rfc2136_secret = %s\n"
                       "dns_rfc2136_algorithm = HMAC-SHA512\n"
                       % (listener(dcluster.whm)[1], key[0], key[2]))
        os.chmod(ini, 0o600)
        args = ["certbot", "certonly", "--non-interactive", "--agree-tos",
                "--email", "ops@example.org", "--server", pebble.directory_url,
                "--config-dir", str(work / "config"), "--work-dir", str(work / "work"),
                "--logs-dir", str(work / "logs"), "--dns-rfc2136",
                "--dns-rfc2136-credentials", str(ini),
                "--dns-rfc2136-propagation-seconds", "1", "-d", domain, "-d", "www." + domain]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work),
               "REQUESTS_CA_BUNDLE": pebble.ca.ca_file}
        p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           cwd=str(work), env=env, timeout=120)
        assert p.returncode == 0, "certbot: exit %d\n%s\n%s\npebble:\n%s" % (
            p.returncode, p.stdout, p.stderr, pebble.logs())
    finally:
        pebble.stop()
    pem = (work / "config" / "live" / domain / "fullchain.pem").read_bytes()
    cert = x509.load_pem_x509_certificate(pem)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {domain, "www." + domain}
    # The challenges came and went, each change a version of the zone.
    assert zone_version(dcluster.whm, zid) > before
    dcluster.wait_rcode("_acme-challenge." + name, "TXT", "NXDOMAIN")
    dcluster.wait_rcode("_acme-challenge.www." + name, "TXT", "NXDOMAIN")


def test_concurrent_updates_of_one_zone_all_commit(dcluster, zone):
    """Updates of one zone from many clients at once (the listener's
    threads commit side by side): each is one version, none is lost."""
    zid, name, key = zone
    addr = listener(dcluster.whm)
    before = zone_version(dcluster.whm, zid)
    results = []

    def client(t):
        for i in range(10):
            u = update(name, key)
            u.add("c%d-%d" % (t, i), 300, "A", "192.0.2.%d" % (t * 10 + i + 1))
            results.append(send(addr, u, key)[0])

    threads = [threading.Thread(target=client, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["NOERROR"] * 60
    assert zone_version(dcluster.whm, zid) == before + 60
    for t in range(6):
        dcluster.wait_all_nodes("c%d-9.%s" % (t, name), "A", ["192.0.2.%d" % (t * 10 + 10)])


PDNS_API = "/api/v1/servers/localhost"


def _patch_rrset(whm, name, owner, rtype, records, ttl=300):
    """REPLACE RRset 'owner' 'rtype' of zone 'name' through the PowerDNS
    API, the route that sets a record's "disabled" flag."""
    r = whm.request("PATCH", "%s/zones/%s" % (PDNS_API, name), token=None,
                    headers={"X-API-Key": whm.admin_token},
                    json_body={"rrsets": [{"name": owner + "." + name, "type": rtype,
                                           "ttl": ttl, "changetype": "REPLACE",
                                           "records": records}]})
    assert r.status_code == 204, r.text


def _listed(whm, zid, owner):
    return sorted((r["content"], r["disabled"], r.get("routing_policy"))
                  for r in whm.records(zid) if r["name"] == owner)


def test_an_update_keeps_the_disabled_flag_of_records_it_does_not_name(dcluster, zone):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    _patch_rrset(dcluster.whm, name, "dis", "A", [{"content": "192.0.2.66", "disabled": True}])
    u = update(name, key)
    u.add("dis", 300, "A", "192.0.2.67")
    assert send(addr, u, key)[0] == "NOERROR"
    assert _listed(dcluster.whm, zid, "dis") == [("192.0.2.66", True, None),
                                                 ("192.0.2.67", False, None)]
    dcluster.wait_all_nodes("dis." + name, "A", ["192.0.2.67"])
    # Added by name, the disabled record is served again: the update said so.
    u = update(name, key)
    u.add("dis", 300, "A", "192.0.2.66")
    assert send(addr, u, key)[0] == "NOERROR"
    assert _listed(dcluster.whm, zid, "dis") == [("192.0.2.66", False, None),
                                                 ("192.0.2.67", False, None)]
    dcluster.wait_all_nodes("dis." + name, "A", ["192.0.2.66", "192.0.2.67"])


def test_an_update_of_a_steered_rrset_is_refused(dcluster, zone):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    w30, w70 = {"type": "weighted", "weight": 30}, {"type": "weighted", "weight": 70}
    dcluster.add_record(zid, "w", "A", "192.0.2.10", routing_policy=w30)
    dcluster.add_record(zid, "w", "A", "192.0.2.11", routing_policy=w70)
    # An RRset policy of its own (it stands without records), set on the
    # policies route.
    dcluster.whm.call("PUT", "/api/dns/%d/policies" % zid, {
        "name": "r", "type": "A",
        "policy": {"type": "weighted", "targets": [{"target": "192.0.2.20", "weight": 1}]}},
        expect=200)
    before = zone_version(dcluster.whm, zid)
    steered = _listed(dcluster.whm, zid, "w")
    assert steered == [("192.0.2.10", False, w30), ("192.0.2.11", False, w70)]
    for change in [lambda u: u.add("w", 300, "A", "192.0.2.12"),
                   lambda u: u.delete("w", "A", "192.0.2.10"),
                   lambda u: u.delete("w"),
                   lambda u: u.add("r", 300, "A", "192.0.2.21")]:
        u = update(name, key)
        change(u)
        assert send(addr, u, key) == ("REFUSED", "signed")
    _unchanged(dcluster, zid, before)
    assert _listed(dcluster.whm, zid, "w") == steered
    # The RRset steered by a policy of its own has no stored records and is
    # served all the same: deletes that name it are refused, and the
    # prerequisites see it.
    for change in [lambda u: u.delete("r", "A"), lambda u: u.delete("r")]:
        u = update(name, key)
        change(u)
        assert send(addr, u, key) == ("REFUSED", "signed")
    _unchanged(dcluster, zid, before)
    dcluster.wait_all_nodes("r." + name, "A", ["192.0.2.20"])
    for rcode, prereq in [("NOERROR", lambda u: u.present("r")),
                          ("NOERROR", lambda u: u.present("r", "A")),
                          ("YXDOMAIN", lambda u: u.absent("r")),
                          ("YXRRSET", lambda u: u.absent("r", "A"))]:
        u = update(name, key)
        prereq(u)
        assert send(addr, u, key) == (rcode, "signed"), rcode
    # Another type at the name is no steered RRset.
    u = update(name, key)
    u.add("w", 300, "TXT", "free")
    assert send(addr, u, key)[0] == "NOERROR"
    assert _listed(dcluster.whm, zid, "w")[:2] == steered


def test_prerequisites_tell_nothing_to_a_key_of_another_zone(dcluster, zone, domain):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    other = "other-" + name
    oid = dcluster.create_zone(other.rstrip("."))
    _patch_rrset(dcluster.whm, other, "hidden", "TXT",
                 [{"content": '"secret"', "disabled": True}])
    _patch_rrset(dcluster.whm, other, "shown", "TXT", [{"content": '"public"'}])
    before = zone_version(dcluster.whm, oid)
    # Met or not, the prerequisites of a zone the key has no rule for get
    # the one answer.
    for owner, value in [("hidden", "secret"), ("hidden", "guess"), ("shown", "public"),
                         ("shown", "guess")]:
        for with_change in (False, True):
            u = update(other, key)
            u.present(owner, "TXT", value)
            if with_change:
                u.add("x", 300, "A", "192.0.2.1")
            assert send(addr, u, key) == ("REFUSED", "signed"), (owner, value)
    _unchanged(dcluster, oid, before)


def test_prerequisites_do_not_see_disabled_records(dcluster, zone):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    _patch_rrset(dcluster.whm, name, "hidden", "TXT", [{"content": '"secret"', "disabled": True}])
    _patch_rrset(dcluster.whm, name, "mix", "TXT",
                 [{"content": '"on"'}, {"content": '"off"', "disabled": True}])
    before = zone_version(dcluster.whm, zid)
    cases = [
        ("NXRRSET", lambda u: u.present("hidden", "TXT", "secret")),
        ("NXRRSET", lambda u: u.present("hidden", "TXT")),
        ("NXDOMAIN", lambda u: u.present("hidden")),
        ("NOERROR", lambda u: u.absent("hidden")),
        ("NOERROR", lambda u: u.absent("hidden", "TXT")),
        ("NOERROR", lambda u: u.present("mix", "TXT", "on")),
        ("NXRRSET", lambda u: u.present("mix", "TXT", "on", "off")),
    ]
    for rcode, prereq in cases:
        u = update(name, key)
        prereq(u)
        assert send(addr, u, key) == (rcode, "signed"), rcode
    _unchanged(dcluster, zid, before)


def _values(name, rtype, values, dups=()):
    """Prerequisite RRsets "exist with these values" (section 2.4.2), one
    RR each; 'dups' sent twice."""
    return [dns.rrset.from_text(name, 0, "IN", rtype, v) for v in list(values) + list(dups)]


def test_many_value_prerequisites_are_compared_as_sets(dcluster, zone):
    zid, name, key = zone
    addr = listener(dcluster.whm)
    values = ["v%03d" % i for i in range(500)]
    _patch_rrset(dcluster.whm, name, "big", "TXT", [{"content": '"%s"' % v} for v in values])
    _patch_rrset(dcluster.whm, name, "a", "A", [{"content": "192.0.2.1"},
                                               {"content": "192.0.2.2"}])
    before = zone_version(dcluster.whm, zid)
    big, a = "big." + name, "a." + name
    cases = [
        # every value, most of them twice: one RRset as given
        ("NOERROR", _values(big, "TXT", values[::-1], values[:499])),
        ("NOERROR", _values(big, "TXT", values, values[:400]) +
         _values(a, "A", ["192.0.2.2", "192.0.2.1"])),
        # one value left out, one too many, one changed
        ("NXRRSET", _values(big, "TXT", values[1:], values[1:400])),
        ("NXRRSET", _values(big, "TXT", values + ["v999"], values[:400])),
        ("NXRRSET", _values(big, "TXT", values[:-1] + ["v500"], values[:400])),
        # the big RRset as it is, the other not
        ("NXRRSET", _values(big, "TXT", values, values[:400]) + _values(a, "A", ["192.0.2.1"])),
        ("NXRRSET", _values(a, "A", ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) +
         _values(big, "TXT", values)),
        # an RRset the zone does not hold
        ("NXRRSET", _values(big, "A", ["192.0.2.1"]) + _values(big, "TXT", values)),
    ]
    for rcode, prereqs in cases:
        u = update(name, key)
        u.prerequisite.extend(prereqs)
        assert len(prereqs) <= 1000
        assert send(addr, u, key, tcp=True) == (rcode, "signed"), (rcode, len(prereqs))
    _unchanged(dcluster, zid, before)



def test_datagram_answers_fit_the_client_and_edns_is_answered(dcluster, domain):
    """RFC 1035 and 6891: a UDP answer holds 512 bytes, or what the
    client's EDNS offers (up to 1,232); one that does not fit is cut to its
    header and question with TC set, still signed, and the client asks again
    over TCP. An EDNS request gets an OPT back; a version other than 0 gets
    BADVERS."""
    # A zone name and a key name ("k." and it) of 195 and 197 bytes: the
    # signed SOA answer is over 512 bytes, its question and TSIG alone not.
    prefix = "x" * (195 - len(domain) - 1)
    name = ".".join(prefix[i:i + 60] for i in range(0, len(prefix), 60)) + "." + domain
    zid, zone, key = zone_with_key(dcluster, name)
    addr = listener(dcluster.whm)

    def ask(edns=-1, payload=512, tcp=False):
        q = dns.message.make_query(zone, "SOA")
        if edns >= 0:
            q.use_edns(edns=edns, payload=payload)
        q.use_tsig(keyring(key))
        data = (exchange_tcp if tcp else exchange_udp)(addr, q.to_wire())
        return data, dns.message.from_wire(data, keyring=keyring(key), request_mac=q.mac)

    whole, a = ask(tcp=True)
    assert len(whole) > 512 and len(a.answer) == 1 and a.edns < 0
    data, a = ask()
    assert len(data) <= 512 and a.flags & dns.flags.TC and not a.answer and a.had_tsig
    assert a.rcode() == dns.rcode.NOERROR and a.question[0].name.to_text() == zone
    data, a = ask(edns=0, payload=1232)
    assert not a.flags & dns.flags.TC and len(a.answer) == 1
    assert a.edns == 0 and a.payload == 1232
    data, a = ask(edns=0, payload=4096)
    assert len(data) <= 1232 and len(a.answer) == 1 and a.payload == 1232
    data, a = ask(edns=1)
    assert a.rcode() == dns.rcode.BADVERS and a.edns == 0 and not a.answer

    u = update(zone, key)
    u.use_edns(0, payload=1232)
    u.add("www", 300, "A", "192.0.2.7")
    answer = dns.message.from_wire(exchange_udp(addr, u.to_wire()), keyring=keyring(key),
                                   request_mac=u.mac)
    assert answer.rcode() == dns.rcode.NOERROR and answer.edns == 0
    assert _listed(dcluster.whm, zid, "www") == [("192.0.2.7", False, None)]
