"""POST /api/dns/zones/:z/dnssec: PowerDNS generates a key, or the node imports
exactly the keys it is sent, so that several nodes publish the same DNSKEYs."""

import base64
import importlib.util
import os
import secrets
import sqlite3

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from harness import basic_records, rec, zone_payload

# dnspython checks signatures only when python3-cryptography is installed.
CAN_VALIDATE = importlib.util.find_spec("cryptography") is not None

# --- ECDSA P-256 keys with the standard library only (FIPS 186-4, D.1.2.3) --

P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
A = P - 3
N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
     0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)


def _add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % P == 0:
        return None
    if p1 == p2:
        lam = (3 * x1 * x1 + A) * pow(2 * y1, P - 2, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, P - 2, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return x3, (lam * (x1 - x3) - y1) % P


def _mul(k, point):
    result = None
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


class P256Key:
    """A fresh ECDSA P-256 key: ISC private-key text and the DNSKEY it makes."""

    def __init__(self):
        self.d = secrets.randbelow(N - 1) + 1
        x, y = _mul(self.d, G)
        self.public = x.to_bytes(32, "big") + y.to_bytes(32, "big")

    def private_text(self):
        return ("Private-key-format: v1.2\n"
                "Algorithm: 13 (ECDSAP256SHA256)\n"
                "PrivateKey: %s\n" % base64.b64encode(self.d.to_bytes(32, "big")).decode())

    def dnskey(self, flags=257):
        return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, "%d 3 13 %s" % (
            flags, base64.b64encode(self.public).decode()))

    def ds(self, zone):
        return dns.dnssec.make_ds(dns.name.from_text(zone), self.dnskey(), "SHA256")


def csk(key):
    return {"keytype": "csk", "active": True, "published": True,
            "privatekey": key.private_text()}


# --- helpers ----------------------------------------------------------------

def signed_rrsets(node, name, rtype):
    """(rrset, rrsig rrset) for 'name'/'rtype' asked with DO."""
    msg = node.query(name, rtype, dnssec=True)
    qname = dns.name.from_text(name)
    qtype = dns.rdatatype.from_text(rtype)
    rrset = sigs = None
    for r in msg.answer:
        if r.name == qname and r.rdtype == qtype:
            rrset = r
        if r.name == qname and r.rdtype == dns.rdatatype.RRSIG and r.covers == qtype:
            sigs = r
    return rrset, sigs


def assert_signed(node, zone, name, rtype):
    """'name'/'rtype' comes with RRSIGs that the zone's DNSKEYs validate."""
    keys, key_sigs = signed_rrsets(node, zone, "DNSKEY")
    rrset, sigs = signed_rrsets(node, name, rtype)
    assert keys is not None and key_sigs is not None, "no signed DNSKEY at %s" % zone
    assert rrset is not None and sigs is not None, "no signed %s %s" % (name, rtype)
    if CAN_VALIDATE:
        zname = dns.name.from_text(zone)
        dns.dnssec.validate(keys, key_sigs, {zname: keys})
        dns.dnssec.validate(rrset, sigs, {zname: keys})


def same_rdata(texts, rtype):
    """Canonical form of presentation RDATA, to compare texts of any spelling."""
    t = dns.rdatatype.from_text(rtype)
    return sorted(dns.rdata.from_text(dns.rdataclass.IN, t, x).to_text() for x in texts)


def sign(node, zone, body=None):
    path = "/api/dns/zones/%s/dnssec" % zone
    if body is None:
        return node.request("POST", path)
    return node.post(path, body)


# --- tests ------------------------------------------------------------------

def test_signing_without_keys_generates_a_csk(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, basic_records())

    r = sign(shared_node, zone_name)

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["enabled"] is True
    assert body["zone"] == zone_name
    assert len(body["keys"]) == 1
    key = body["keys"][0]
    assert key["keytype"] == "csk"
    assert key["active"] is True and key["published"] is True
    assert key["algorithm"] == "ECDSAP256SHA256"
    assert key["flags"] == 257
    assert key["dnskey"].startswith("257 3 13 ")
    assert body["dnskey"] == [key["dnskey"]]
    dnskey = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, key["dnskey"])
    ds = dns.dnssec.make_ds(dns.name.from_text(zone_name), dnskey, "SHA256").to_text()
    assert ds in same_rdata(key["ds"], "DS")
    assert ds in same_rdata(body["ds"], "DS")

    assert shared_node.dig(zone_name, "DNSKEY") == same_rdata(body["dnskey"], "DNSKEY")
    assert_signed(shared_node, zone_name, zone_name, "DNSKEY")
    assert_signed(shared_node, zone_name, "www." + zone_name, "A")
    assert_signed(shared_node, zone_name, zone_name, "SOA")
    assert shared_node.zone(zone_name).json()["dnssec"] is True


def test_imported_key_is_published_identically_by_two_nodes(node_factory, zone_name):
    key = P256Key()
    nodes = [node_factory(), node_factory()]
    for n in nodes:
        n.push_ok(zone_name, 1, 1, basic_records())

    for n in nodes:
        r = sign(n, zone_name, {"keys": [csk(key)]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert same_rdata(body["dnskey"], "DNSKEY") == [key.dnskey().to_text()]
        assert key.ds(zone_name).to_text() in same_rdata(body["ds"], "DS")
        assert key.private_text() not in r.text

    answers = [n.query(zone_name, "DNSKEY", dnssec=True) for n in nodes]
    rrsets = [[r for r in a.answer if r.rdtype == dns.rdatatype.DNSKEY][0] for a in answers]
    wire = [(r.ttl, sorted(rd.to_digestable() for rd in r)) for r in rrsets]
    assert wire[0] == wire[1]
    assert [rd.to_text() for rd in rrsets[0]] == [key.dnskey().to_text()]
    for n in nodes:
        assert_signed(n, zone_name, "www." + zone_name, "A")


def test_import_replaces_keys_not_in_the_list(shared_node, zone_name):
    first, second = P256Key(), P256Key()
    shared_node.push_ok(zone_name, 1, 1, basic_records())
    assert sign(shared_node, zone_name, {"keys": [csk(first)]}).status_code == 200

    r = sign(shared_node, zone_name, {"keys": [csk(second)]})

    assert r.status_code == 200, r.text
    assert same_rdata(r.json()["dnskey"], "DNSKEY") == [second.dnskey().to_text()]
    assert shared_node.dig(zone_name, "DNSKEY") == [second.dnskey().to_text()]
    assert_signed(shared_node, zone_name, "www." + zone_name, "A")


def test_import_is_idempotent(shared_node, zone_name):
    key = P256Key()
    shared_node.push_ok(zone_name, 1, 1, basic_records())
    body = {"keys": [csk(key)]}
    assert sign(shared_node, zone_name, body).status_code == 200

    r = sign(shared_node, zone_name, body)

    assert r.status_code == 200, r.text
    assert len(r.json()["keys"]) == 1
    assert shared_node.dig(zone_name, "DNSKEY") == [key.dnskey().to_text()]


def test_ksk_and_zsk_pair_is_imported(shared_node, zone_name):
    ksk, zsk = P256Key(), P256Key()
    shared_node.push_ok(zone_name, 1, 1, basic_records())

    r = sign(shared_node, zone_name, {"keys": [
        dict(csk(ksk), keytype="ksk"), dict(csk(zsk), keytype="zsk")]})

    assert r.status_code == 200, r.text
    assert shared_node.dig(zone_name, "DNSKEY") == sorted(
        [ksk.dnskey(257).to_text(), zsk.dnskey(256).to_text()])
    assert_signed(shared_node, zone_name, "www." + zone_name, "A")


def test_nsec3param_is_applied(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, basic_records())

    r = sign(shared_node, zone_name, {"keys": [csk(P256Key())], "nsec3param": "1 0 0 -"})

    assert r.status_code == 200, r.text
    assert shared_node.dig(zone_name, "NSEC3PARAM") == ["1 0 0 -"]
    msg = shared_node.query("nope." + zone_name, "A", dnssec=True)
    types = {r.rdtype for r in msg.authority}
    assert dns.rdatatype.NSEC3 in types and dns.rdatatype.NSEC not in types


def test_signed_zone_stays_signed_after_a_push(shared_node, zone_name):
    key = P256Key()
    shared_node.push_ok(zone_name, 1, 1, basic_records("192.0.2.1"))
    assert sign(shared_node, zone_name, {"keys": [csk(key)]}).status_code == 200

    records = basic_records("192.0.2.2") + [rec("new", "A", "192.0.2.3")]
    shared_node.push_ok(zone_name, 2, 2, records)

    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.2"]
    assert shared_node.dig(zone_name, "DNSKEY") == [key.dnskey().to_text()]
    assert_signed(shared_node, zone_name, "www." + zone_name, "A")
    assert_signed(shared_node, zone_name, "new." + zone_name, "A")
    assert_signed(shared_node, zone_name, zone_name, "SOA")
    assert shared_node.zone(zone_name).json()["dnssec"] is True


def test_deleted_signed_zone_comes_back_unsigned(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, basic_records())
    assert sign(shared_node, zone_name).status_code == 200
    shared_node.delete_zone(zone_name)

    shared_node.push_ok(zone_name, 2, 2, basic_records())

    assert shared_node.zone(zone_name).json()["dnssec"] is False
    assert shared_node.dig(zone_name, "DNSKEY") == []
    assert signed_rrsets(shared_node, "www." + zone_name, "A")[1] is None


def test_a_zone_without_keys_deleted_and_pushed_again_signed_is_signed_at_once(shared_node,
                                                                              zone_name):
    """A managed node deletes a zone with no keys and no metadata in its
    database alone, without PowerDNS's API: what PowerDNS cached of the zone
    (its answers, and that it has no keys) must not outlive the delete. It
    is gone at once, and signed at once when it comes back with keys."""
    node = shared_node
    node.push_ok(zone_name, 1, 1, basic_records("192.0.2.1"))
    assert node.dig("www." + zone_name, "A") == ["192.0.2.1"]
    assert node.dig(zone_name, "DNSKEY") == []
    assert signed_rrsets(node, "www." + zone_name, "A")[1] is None
    assert node.delete_zone(zone_name).json()["deleted"] is True
    assert node.rcode("www." + zone_name, "A") == "REFUSED"
    assert node.rcode(zone_name, "DNSKEY") == "REFUSED"

    key = P256Key()
    r = push_signed(node, zone_name, 2, [pushed_key(key)])
    assert r.status_code == 200 and r.json()["applied"] is True, r.text
    assert node.dig(zone_name, "DNSKEY") == [key.dnskey().to_text()]
    assert_signed(node, zone_name, "www." + zone_name, "A")


def test_a_delete_batch_with_signed_and_plain_zones_clears_what_powerdns_kept(shared_node,
                                                                             zone_name):
    """One delete-batch: the signed zone goes through PowerDNS's API (its
    keys and what PowerDNS cached of them go), the plain one through the
    database. Pushed back, each has exactly the keys it is pushed with."""
    node = shared_node
    signed, plain = "s" + zone_name, "p" + zone_name
    node.push_ok(signed, 1, 1, basic_records())
    assert sign(node, signed).status_code == 200
    assert node.dig(signed, "DNSKEY") != []
    node.push_ok(plain, 1, 1, basic_records())
    assert node.dig(plain, "DNSKEY") == []

    r = node.post("/api/dns/delete-batch", {"zones": [{"zone": signed, "version": 2},
                                                      {"zone": plain, "version": 2}]})

    assert r.status_code == 200 and r.json()["deleted"] == 2, r.text
    assert node.rcode(signed, "DNSKEY") == "REFUSED"
    assert node.rcode("www." + plain, "A") == "REFUSED"
    node.push_ok(signed, 3, 3, basic_records())
    assert node.zone(signed).json()["dnssec"] is False
    assert node.dig(signed, "DNSKEY") == []
    key = P256Key()
    r = push_signed(node, plain, 3, [pushed_key(key)])
    assert r.status_code == 200 and r.json()["applied"] is True, r.text
    assert node.dig(plain, "DNSKEY") == [key.dnskey().to_text()]
    assert_signed(node, plain, "www." + plain, "A")


def test_dnssec_on_an_unknown_zone_is_404(shared_node, zone_name):
    r = sign(shared_node, zone_name)

    assert r.status_code == 404, r.text
    assert "error" in r.json()


@pytest.mark.parametrize("case", ["garbage-key", "bad-keytype", "unknown-field",
                                  "unknown-key-field", "keys-not-a-list", "bad-nsec3param",
                                  "active-as-string"])
def test_bad_dnssec_request_is_refused_and_changes_nothing(shared_node, zone_name, case):
    shared_node.push_ok(zone_name, 1, 1, basic_records())
    good = csk(P256Key())
    body = {
        "garbage-key": {"keys": [dict(good, privatekey="Private-key-format: v1.2\nnope\n")]},
        "bad-keytype": {"keys": [dict(good, keytype="super")]},
        "unknown-field": {"keys": [good], "frobnicate": True},
        "unknown-key-field": {"keys": [dict(good, bits=4096)]},
        "keys-not-a-list": {"keys": good},
        "bad-nsec3param": {"keys": [good], "nsec3param": "1 0 70000 -"},
        "active-as-string": {"keys": [dict(good, active="yes")]},
    }[case]
    before = shared_node.zone(zone_name).content

    r = sign(shared_node, zone_name, body)

    assert r.status_code in (400, 422), r.text
    assert isinstance(r.json()["error"], str)
    assert shared_node.zone(zone_name).content == before
    assert shared_node.dig(zone_name, "DNSKEY") == []


# --- zone.dnssec in sync-zone: the controller's key set travels with pushes --

def pushed_key(key, keytype="csk", **flags):
    k = {"keytype": keytype, "privatekey": key.private_text(),
         "dnskey": "%d 3 13 %s" % (257 if keytype != "zsk" else 256,
                                   base64.b64encode(key.public).decode())}
    k.update(flags)
    return k


def push_signed(node, zone, version, keys, nsec3param=None, records=None):
    d = {"enabled": True, "keys": keys, "publish_cds": True}
    if nsec3param is not None:
        d["nsec3param"] = nsec3param
    return node.push(zone, version, version, records or basic_records(), dnssec=d)


def test_push_with_keys_signs_a_new_zone_with_exactly_those_keys(shared_node, zone_name):
    key = P256Key()
    r = push_signed(shared_node, zone_name, 1, [pushed_key(key)])
    assert r.status_code == 200 and r.json()["applied"] is True, r.text
    assert key.private_text() not in r.text
    assert shared_node.dig(zone_name, "DNSKEY") == [key.dnskey().to_text()]
    assert_signed(shared_node, zone_name, "www." + zone_name, "A")
    assert shared_node.dig(zone_name, "CDS") == [key.ds(zone_name).to_text()]
    assert shared_node.zone(zone_name).json()["version"] == 1


def test_push_replaces_keys_not_in_the_set_and_keeps_them_across_record_changes(
        shared_node, zone_name):
    first, second = P256Key(), P256Key()
    assert push_signed(shared_node, zone_name, 1, [pushed_key(first)]).status_code == 200
    # Roll: both, then only the second; NSEC3 on the way.
    assert push_signed(shared_node, zone_name, 2,
                       [pushed_key(first), pushed_key(second, published=True)],
                       nsec3param="1 0 0 -").status_code == 200
    assert shared_node.dig(zone_name, "DNSKEY") == sorted(
        [first.dnskey().to_text(), second.dnskey().to_text()])
    assert shared_node.dig(zone_name, "NSEC3PARAM") == ["1 0 0 -"]
    assert push_signed(shared_node, zone_name, 3, [pushed_key(second)]).status_code == 200
    assert shared_node.dig(zone_name, "DNSKEY") == [second.dnskey().to_text()]
    assert shared_node.dig(zone_name, "NSEC3PARAM") == []
    # A push that only changes records leaves the keys alone.
    records = basic_records(a="192.0.2.99")
    assert push_signed(shared_node, zone_name, 4, [pushed_key(second)],
                       records=records).status_code == 200
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.99"]
    assert shared_node.dig(zone_name, "DNSKEY") == [second.dnskey().to_text()]
    assert_signed(shared_node, zone_name, "www." + zone_name, "A")
    # A push without zone.dnssec (the original panel's) leaves them too.
    shared_node.push_ok(zone_name, 5, 5, basic_records(a="192.0.2.98"))
    assert shared_node.dig(zone_name, "DNSKEY") == [second.dnskey().to_text()]
    # {"enabled": false} removes them.
    r = shared_node.push(zone_name, 6, 6, basic_records(), dnssec={"enabled": False})
    assert r.status_code == 200, r.text
    assert shared_node.dig(zone_name, "DNSKEY") == []
    assert shared_node.dig(zone_name, "CDS") == []
    assert shared_node.zone(zone_name).json()["dnssec"] is False


BAD_DNSSEC = [
    ({"enabled": True}, "keys"),
    ({"enabled": True, "keys": []}, "between 1 and"),
    ({"enabled": "yes"}, "enabled"),
    ({"enabled": False, "nsec3param": "1 0 0 -"}, "nothing else"),
    ({"enabled": True, "nsec3param": "1 0 5 aabb", "keys": "K"}, "RFC 9276"),
    ({"enabled": True, "keys": [{"keytype": "csk", "dnskey": "257 3 8 AAAA",
                                 "privatekey": "Private-key-format: v1.2\nPrivateKey: A\n"}]},
     "dnskey"),
    ({"enabled": True, "keys": [{"keytype": "csk", "dnskey": "257 3 13 AAAA",
                                 "privatekey": "not a key"}]}, "ISC"),
]


@pytest.mark.parametrize("dnssec,why", BAD_DNSSEC, ids=[w for _, w in BAD_DNSSEC])
def test_bad_zone_dnssec_is_refused_and_changes_nothing(shared_node, zone_name, dnssec, why):
    shared_node.push_ok(zone_name, 1, 1, basic_records())
    if dnssec.get("keys") == "K":
        dnssec = dict(dnssec, keys=[pushed_key(P256Key())])
    r = shared_node.push(zone_name, 2, 2, basic_records(a="192.0.2.50"), dnssec=dnssec)
    assert r.status_code == 422, r.text
    assert why in r.json()["error"]
    assert shared_node.zone(zone_name).json()["version"] == 1
    assert shared_node.dig(zone_name, "DNSKEY") == []
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.1"]


def test_keys_go_into_powerdns_tables_with_the_records_and_a_mismatched_key_is_refused(
        shared_node, zone_name):
    key, other = P256Key(), P256Key()
    shared_node.push_ok(zone_name, 1, 1, basic_records())
    # A private key that is not the one of its dnskey: refused before anything is written.
    bad = pushed_key(key)
    bad["privatekey"] = other.private_text()
    r = push_signed(shared_node, zone_name, 2, [bad], records=basic_records(a="192.0.2.50"))
    assert r.status_code == 502 and "privatekey" in r.json()["error"], r.text
    assert shared_node.zone(zone_name).json()["version"] == 1
    assert shared_node.dig(zone_name, "DNSKEY") == []
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.1"]

    r = push_signed(shared_node, zone_name, 3, [pushed_key(key)], nsec3param="1 0 0 -")
    assert r.status_code == 200, r.text
    db = sqlite3.connect(os.path.join(shared_node.data_dir, "pdns.sqlite3"))
    try:
        name = zone_name.rstrip(".").lower()
        keys = db.execute("SELECT k.flags, k.active, k.published, k.content FROM cryptokeys k "
                          "JOIN domains d ON d.id = k.domain_id WHERE d.name = ?",
                          (name,)).fetchall()
        meta = dict(db.execute("SELECT m.kind, m.content FROM domainmetadata m JOIN domains d "
                               "ON d.id = m.domain_id WHERE d.name = ?", (name,)).fetchall())
    finally:
        db.close()
    assert keys == [(257, 1, 1, key.private_text())]
    assert meta["NSEC3PARAM"] == "1 0 0 -" and len(meta["X-YUMNA-DNSSEC"]) == 64
    assert shared_node.dig(zone_name, "DNSKEY") == [key.dnskey().to_text()]
    assert shared_node.dig(zone_name, "NSEC3PARAM") == ["1 0 0 -"]
    assert_signed(shared_node, zone_name, "www." + zone_name, "A")


def test_batch_with_keys_applies_them_and_a_refused_key_waits_for_a_retry(node, zone_name):
    good, other = P256Key(), P256Key()
    bad = pushed_key(P256Key())
    bad["privatekey"] = ("Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\n"
                         "PrivateKey: AAAA\n")        # a shape we accept, a key PowerDNS refuses
    zones = ["a." + zone_name, "b." + zone_name, "c." + zone_name]
    payloads = [
        zone_payload(zones[0], 3, 3, basic_records(),
                     dnssec={"enabled": True, "keys": [pushed_key(good)]}),
        zone_payload(zones[1], 3, 3, basic_records(), dnssec={"enabled": True, "keys": [bad]}),
        zone_payload(zones[2], 3, 3, basic_records()),
    ]
    r = node.sync_batch(payloads)
    assert r.status_code >= 500, r.text
    assert zones[1] in r.json()["error"]
    assert node.dig(zones[0], "DNSKEY") == [good.dnskey().to_text()]
    assert_signed(node, zones[0], "www." + zones[0], "A")
    have = node.zones()
    assert have[zones[0]]["version"] == 3 and have[zones[2]]["version"] == 3
    assert have[zones[1]]["version"] < 3          # not acknowledged: a retry applies it
    payloads[1] = zone_payload(zones[1], 3, 3, basic_records(),
                               dnssec={"enabled": True, "keys": [pushed_key(other)]})
    r = node.sync_batch(payloads)
    assert r.status_code == 200, r.text
    assert r.json()["applied"] == 1 and r.json()["unchanged"] == 2
    assert node.dig(zones[1], "DNSKEY") == [other.dnskey().to_text()]
    assert node.zones()[zones[1]]["version"] == 3


def test_a_refused_key_in_a_batch_leaves_a_zone_the_node_holds_as_it_was(node, zone_name):
    """As a single push: a batch whose keys for a zone the node holds cannot
    be used changes nothing of that zone (its new records were written and
    served under the old version, signed with the old keys)."""
    key = P256Key()
    r = push_signed(node, zone_name, 1, [pushed_key(key)])
    assert r.status_code == 200, r.text
    before = node.zone(zone_name).json()
    bad = pushed_key(P256Key())
    bad["privatekey"] = ("Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\n"
                         "PrivateKey: AAAA\n")
    r = node.sync_batch([zone_payload(zone_name, 2, 2, basic_records(a="192.0.2.50"),
                                      dnssec={"enabled": True, "keys": [bad]})])
    assert r.status_code == 502 and zone_name in r.json()["error"], r.text
    after = node.zone(zone_name).json()
    assert (after["version"], after["serial"], after["applied_digest"]) == \
        (before["version"], before["serial"], before["applied_digest"]), (before, after)
    assert node.dig("www." + zone_name, "A") == ["192.0.2.1"]
    assert node.dig(zone_name, "DNSKEY") == [key.dnskey().to_text()]


def test_a_refused_key_does_not_hold_back_the_rest_of_a_large_batch(node, zone_name):
    bad = pushed_key(P256Key())
    bad["privatekey"] = ("Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\n"
                         "PrivateKey: AAAA\n")
    payloads = [zone_payload("bad." + zone_name, 1, 1, basic_records(),
                             dnssec={"enabled": True, "keys": [bad]})]
    # More than one of the agent's batch transactions (500 zones each).
    names = ["p%d.%s" % (i, zone_name) for i in range(520)]
    payloads += [zone_payload(n, 1, 1, basic_records()) for n in names]
    r = node.sync_batch(payloads)
    assert r.status_code >= 500 and "bad." + zone_name in r.json()["error"], r.text
    have = node.zones()
    assert all(have[n]["version"] == 1 for n in names)
    assert node.dig("www." + names[-1], "A") == ["192.0.2.1"]
