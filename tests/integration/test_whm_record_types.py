"""Every record type PowerDNS 4.7 serves and libknot parses (issue 13),
through the panel's routes: each is validated and stored in libknot's
canonical form, and every node serves exactly that data, with pdnsutil
finding no error in the zone and PowerDNS logging no failure to build an
answer. The types PowerDNS cannot serve as stored, and those the cluster
keeps itself, are refused and change nothing. An export with them all goes
back in as the same records."""

import os
import shutil
import subprocess

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

import cluster as cl

pytest_plugins = ["cluster_fixtures"]

H32 = "0123456789abcdef" * 4
B64 = "AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=="
ECH = ("AEn+DQBFKwAgACABWIHUGj4u+PIggYXcR5JF0gYk3dCRioBW8uJq9H4mKAAIAAEAAQABAANAEnB1YmxpYy50"
       "bHMtZWNoLmRldgAA")

# (owner, type, content as the panel sends it, what kdig prints for the
# types dnspython does not know (None: dnspython reads the answers))
RECORDS = [
    ("_443._tcp.svc", "SVCB", "1 . alpn=h2,h3 ipv4hint=192.0.2.1 port=8443", None),
    ("_dns.svc", "SVCB", "1 dns.example.net. alpn=dot key7=/dns-query{?dns}", None),
    ("alias.svc", "SVCB", "0 pool.example.net.", None),
    ("www", "HTTPS", "1 . alpn=h3,h2 ech=" + ECH + " ipv6hint=2001:db8::1", None),
    ("www2", "HTTPS", "1 . mandatory=alpn,port alpn=h2 port=443 no-default-alpn", None),
    ("www3", "HTTPS", '2 cdn.example.net. key65000="a b"', None),
    ("loc", "LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m", None),
    ("loc2", "LOC", "42 21 54.5 N 71 6 18 W -24m 30m", None),
    ("_443._tcp.www", "TLSA", "3 1 1 " + H32, None),
    ("smimea", "SMIMEA", "3 0 1 " + H32, None),
    ("host", "SSHFP", "4 2 " + H32, None),
    ("naptr", "NAPTR", '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .', None),
    ("_ftp._tcp", "URI", '10 1 "ftp://ftp1.example.com/public"', None),
    ("cert", "CERT", "PGP 0 0 AQIDBA==", None),
    ("pgp", "OPENPGPKEY", "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq", None),
    ("old", "DNAME", "new.example.net.", None),
    ("hinfo", "HINFO", '"PC Intel" "Linux 6"', None),
    ("minfo", "MINFO", "rm.example.net. em.example.net.", "rm.example.net. em.example.net."),
    ("rp", "RP", "admin.example.net. txt.example.net.", None),
    ("afsdb", "AFSDB", "1 afs.example.net.", None),
    ("kx", "KX", "10 kx.example.net.", None),
    ("key", "KEY", "256 3 13 AQIDBA==", "256 3 13 AQIDBA=="),
    ("dhcid", "DHCID", "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=", None),
    ("@", "CSYNC", "66 3 A NS AAAA", None),
    ("apl", "APL", "1:192.0.2.0/24 !1:192.0.2.128/28 2:2001:db8::/32", None),
    ("ipsec", "IPSECKEY", "10 1 2 192.0.2.38 " + B64, None),
    ("ipsec2", "IPSECKEY", "10 3 2 gw.example.net. " + B64, None),
    ("ipsec3", "IPSECKEY", "10 2 2 2001:db8::1 " + B64, None),
    ("eui48", "EUI48", "00-00-5e-00-53-2a", None),
    ("eui64", "EUI64", "00-00-5e-ef-10-00-00-2a", None),
    ("ila", "NID", "10 0014:4fff:ff20:ee64", None),
    ("ila", "L32", "10 10.1.2.0", None),
    ("ila", "L64", "10 2001:0db8:1140:1000", None),
    ("ila", "LP", "10 l64-subnet.example.net.", None),
    ("@", "SPF", "v=spf1 -all", None),
    ("@", "CAA", "0 issue letsencrypt.org", None),
    ("sub", "NS", "ns.sub.{zone}", None),
    ("ns.sub", "A", "192.0.2.53", None),
    ("sub", "DS", "12345 13 2 " + H32, None),
]


def served(node, name, rtype):
    """The rdata objects of 'name'/'rtype' in a node's answer (or referral,
    for a DS at a cut: the answer)."""
    msg = node.query(name, rtype)
    want = dns.rdatatype.from_text(rtype)
    return sorted((rd for rr in msg.answer if rr.rdtype == want and rr.name.to_text() == name
                   for rd in rr), key=lambda rd: rd.to_digestable())


def expected(rtype, content, zone):
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype),
                               content.replace("{zone}", zone))


def kdig(node, name, rtype):
    """What knot's dig prints for 'name'/'rtype' (it knows MINFO and KEY,
    and decompresses names in MINFO, which PowerDNS compresses)."""
    p = subprocess.run(["kdig", "@" + node.address, "-p", str(node.dns_port), "+short",
                        "+norecurse", name, rtype], stdout=subprocess.PIPE, text=True,
                       timeout=30)
    return sorted(l for l in p.stdout.splitlines() if l)


def pdnsutil_check(node, zone):
    p = subprocess.run(["pdnsutil", "--config-dir=" + os.path.join(node.directory, "data"),
                        "check-zone", zone], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=60)
    return p.returncode, p.stdout


@pytest.fixture(scope="module")
def typed_zone(shared_cluster, tmp_path_factory):
    """A zone holding one RRset of every type, added through the panel's route."""
    c = shared_cluster
    domain = "types-all.example"
    zone = domain + "."
    zid = c.create_zone(domain)
    for name, rtype, content, _ in RECORDS:
        c.add_record(zid, name, rtype, content.replace("{zone}", zone), wait=False)
    c.whm.call("POST", "/api/dns/cluster/sync/%d" % zid)
    return c, zid, zone


def test_every_type_is_served_by_every_node_as_validated(typed_zone):
    c, zid, zone = typed_zone
    stored = {(r["name"], r["type"]): r["content"] for r in c.whm.records(zid)}
    for name, rtype, content, printed in RECORDS:
        if name in ("sub", "ns.sub") and rtype != "DS":
            continue  # the delegation and its glue: a referral, not an answer
        owner = zone if name == "@" else "%s.%s" % (name, zone)
        if printed is not None:
            assert stored[(name, rtype)] == printed
            for n in c.nodes:
                assert kdig(n, owner, rtype) == [printed], (n.name, rtype)
            continue
        # The panel writes SPF and the CAA value unquoted: one text.
        want = expected(rtype, {"SPF": '"v=spf1 -all"', "CAA": '0 issue "letsencrypt.org"'}
                        .get(rtype, content), zone)
        if rtype not in ("SPF", "CAA"):  # those read back in the panel's plain form
            # What the controller stored (libknot's canonical text) is that data.
            assert expected(rtype, stored[(name, rtype)], zone) == want, \
                (rtype, stored[(name, rtype)])
        for n in c.nodes:
            got = served(n, owner, rtype)
            assert got == [want], (n.name, rtype, [g.to_text() for g in got], want.to_text())


def test_pdnsutil_finds_no_error_and_powerdns_logs_no_failed_answer(typed_zone):
    c, zid, zone = typed_zone
    for n in c.nodes:
        rc, out = pdnsutil_check(n, zone)
        assert rc == 0 and ", 0 errors" in out, out
        with open(os.path.join(n.directory, "data", "pdns.log")) as f:
            log = f.read()
        assert "Exception building answer" not in log, log[-2000:]


@pytest.mark.parametrize("rtype, content, words", [
    ("HTTPS", "1 . key65000", "PowerDNS 4.7"),                 # pdns needs '='
    ("IPSECKEY", "10 0 2 . " + B64, "gateway type 0"),          # pdns cannot read '.'
    ("LOC", "0 N 0 E 0m 90000000m", "PowerDNS 4.7"),            # pdns reads 32 bits
    ("URI", '10 1 ""', "empty"),
    ("HTTPS", "1 . key65535=x", "reserved"),
    ("HTTPS", "1 . key3=8443", "no presentation form"),
    ("HTTPS", "1 . mandatory=alpn", None),
    ("SMIMEA", "4 1 1 " + H32, "usage 4"),
    ("ZONEMD", "2026010101 1 1 " + "00" * 48, "serial"),
    ("CDS", "12345 13 2 " + H32, "signer"),
    ("CDNSKEY", "257 3 13 AQIDBA==", "signer"),
    ("DNSKEY", "257 3 13 AQIDBA==", "signer"),
    ("NSEC3PARAM", "1 0 0 -", "signer"),
    ("RT", "10 rt.example.net.", "PowerDNS 4.7 cannot serve it"),
    ("ALIAS", "www.example.net.", "PowerDNS's own"),
    ("KX", "10 192.0.2.1.", "IPv4 address"),
])
def test_what_powerdns_cannot_serve_or_the_cluster_keeps_is_refused(shared_cluster, domain,
                                                                   rtype, content, words):
    c = shared_cluster
    zid = c.create_zone(domain)
    version = c.whm.zone(zid)["version"]
    r = c.whm.post("/api/dns/%d/records" % zid, {"name": "x", "type": rtype, "content": content})
    assert r.status_code == 422, cl.describe(r)
    if words:
        assert words in r.json()["error"], r.json()
    assert c.whm.zone(zid)["version"] == version


def test_export_with_every_type_is_checked_and_imports_identically(typed_zone, tmp_path):
    c, zid, zone = typed_zone
    before = sorted((r["name"], r["type"], r["content"], r["ttl"], r["priority"])
                    for r in c.whm.records(zid))
    exported = c.whm.get("/api/dns/%d/export" % zid).text
    path = tmp_path / "types.zone"
    path.write_text(exported)
    for cmd in (["named-checkzone", zone, str(path)], ["kzonecheck", "-o", zone, str(path)]):
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0, (cmd, p.stdout, exported)

    c.whm.call("POST", "/api/dns/%d/import" % zid,
               {"content": exported, "format": "bind", "mode": "replace"})
    after = sorted((r["name"], r["type"], r["content"], r["ttl"], r["priority"])
                   for r in c.whm.records(zid))
    assert after == before


def test_route53_import_takes_the_new_types(shared_cluster, domain):
    c = shared_cluster
    zone = domain + "."
    zid = c.create_zone(domain)
    sets = {"ResourceRecordSets": [
        {"Name": "www." + zone, "Type": "HTTPS", "TTL": 300,
         "ResourceRecords": [{"Value": "1 . alpn=h2,h3"}]},
        {"Name": "_443._tcp.www." + zone, "Type": "TLSA", "TTL": 300,
         "ResourceRecords": [{"Value": "3 1 1 " + H32}]},
        {"Name": zone, "Type": "SPF", "TTL": 300,
         "ResourceRecords": [{"Value": '"v=spf1 -all"'}]},
        {"Name": zone, "Type": "CAA", "TTL": 300,
         "ResourceRecords": [{"Value": '0 issue "amazon.com"'}]},
    ]}
    c.whm.call("POST", "/api/dns/%d/import" % zid,
               {"content": sets, "format": "route53", "mode": "merge"}, params={"wait": "all"})
    assert c.answers("www." + zone, "HTTPS") == {n.name: ['1 . alpn="h2,h3"'] for n in c.nodes}
    assert c.answers(zone, "SPF") == {n.name: ['"v=spf1 -all"'] for n in c.nodes}
    got = {(r["name"], r["type"]) for r in c.whm.records(zid)}
    assert {("www", "HTTPS"), ("_443._tcp.www", "TLSA"), ("@", "SPF"), ("@", "CAA")} <= got
