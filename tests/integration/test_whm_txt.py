"""TXT, SPF and CAA values the way the panel writes them (issue 13): an
unquoted value is one text, cut only into 255-octet strings; quoted
presentation keeps its strings and escapes; the panel reads back what it
wrote. Checked through the controller's routes, with dig on every node."""

import base64
import hashlib

import dns.rdatatype

import cluster as cl

pytest_plugins = ["cluster_fixtures"]

# The p= value of a 2048-bit RSA key: the base64 of its 294-byte DER
# SubjectPublicKeyInfo (a fixed prefix, then the modulus and the exponent).
SPKI_PREFIX = bytes.fromhex("30820122300d06092a864886f70d01010105000382010f003082010a0282010100")
MODULUS = b"".join(hashlib.sha256(b"yumna %d" % i).digest() for i in range(8))
DKIM_P = base64.b64encode(SPKI_PREFIX + bytes([MODULUS[0] | 0x80]) + MODULUS[1:] +
                          bytes.fromhex("0203010001")).decode()
DKIM = "v=DKIM1; k=rsa; p=" + DKIM_P


def served_strings(c, name, rtype="TXT"):
    """{node: [the character-strings of each record]} from every node."""
    out = {}
    for n in c.nodes:
        msg = n.query(name, rtype)
        rrs = [r for r in msg.answer if r.rdtype == dns.rdatatype.from_text(rtype)]
        out[n.name] = sorted([s.decode("ascii") for s in rd.strings] for rr in rrs for rd in rr)
    return out


def everywhere(c, value):
    return {n.name: value for n in c.nodes}


def contents(c, zid, rtype):
    return sorted((r["name"], r["content"]) for r in c.whm.records(zid) if r["type"] == rtype)


def test_unquoted_spf_is_served_as_one_string_not_split_at_blanks(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)

    c.add_record(zid, "@", "TXT", "v=spf1 include:_spf.example.net ~all")

    zone = domain + "."
    assert served_strings(c, zone) == everywhere(c, [["v=spf1 include:_spf.example.net ~all"]])
    assert c.answers(zone, "TXT") == everywhere(c, ['"v=spf1 include:_spf.example.net ~all"'])
    assert contents(c, zid, "TXT") == [("@", "v=spf1 include:_spf.example.net ~all")]


def test_unquoted_dkim_key_over_255_octets_is_served_as_strings_that_concatenate(shared_cluster,
                                                                                domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    assert len(DKIM) > 255 and len(DKIM_P) == 392

    c.add_record(zid, "sel1._domainkey", "TXT", DKIM)

    got = served_strings(c, "sel1._domainkey.%s." % domain)
    for strings in got.values():
        assert len(strings) == 1
        parts = strings[0]
        assert len(parts) >= 2 and all(len(p) <= 255 for p in parts), parts
        assert "".join(parts) == DKIM
    assert contents(c, zid, "TXT") == [("sel1._domainkey", DKIM)]


def test_unquoted_dmarc_keeps_its_semicolons_and_blanks(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    dmarc = "v=DMARC1; p=reject; rua=mailto:dmarc@example.net; pct=100"

    c.add_record(zid, "_dmarc", "TXT", dmarc)

    assert served_strings(c, "_dmarc.%s." % domain) == everywhere(c, [[dmarc]])
    assert contents(c, zid, "TXT") == [("_dmarc", dmarc)]


def test_quoted_presentation_keeps_its_strings_and_escapes(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)

    c.add_record(zid, "two", "TXT", '"a" "b"')
    c.add_record(zid, "esc", "TXT", r'"say \"hi\" \065"')
    c.add_record(zid, "quoted", "TXT", '"v=spf1 -all"')

    assert served_strings(c, "two.%s." % domain) == everywhere(c, [["a", "b"]])
    assert served_strings(c, "esc.%s." % domain) == everywhere(c, [['say "hi" A']])
    assert served_strings(c, "quoted.%s." % domain) == everywhere(c, [["v=spf1 -all"]])
    # Two strings have no plain form: they read back quoted; one text reads
    # back plain whichever way it was written.
    assert contents(c, zid, "TXT") == [("esc", 'say "hi" A'), ("quoted", "v=spf1 -all"),
                                       ("two", '"a" "b"')]


def test_spf_type_and_caa_value_unquoted(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    zone = domain + "."

    c.add_record(zid, "@", "SPF", "v=spf1 mx -all")
    c.add_record(zid, "@", "CAA", "0 issue letsencrypt.org; validationmethods=dns-01")
    c.add_record(zid, "@", "CAA", '0 iodef "mailto:security@example.net"')

    assert served_strings(c, zone, "SPF") == everywhere(c, [["v=spf1 mx -all"]])
    assert c.answers(zone, "CAA") == everywhere(c, sorted([
        '0 issue "letsencrypt.org; validationmethods=dns-01"',
        '0 iodef "mailto:security@example.net"']))
    assert contents(c, zid, "CAA") == [("@", "0 iodef mailto:security@example.net"),
                                       ("@", "0 issue letsencrypt.org; validationmethods=dns-01")]


def test_what_the_panel_reads_back_goes_back_in_unchanged(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    c.add_record(zid, "@", "TXT", "v=spf1 -all")
    c.add_record(zid, "k._domainkey", "TXT", DKIM)
    c.add_record(zid, "two", "TXT", '"a b" "c"')
    c.add_record(zid, "@", "CAA", "0 issue letsencrypt.org")
    before = {n: c.answers(n + "." + domain + ".", t) for n, t in
              (("k._domainkey", "TXT"), ("two", "TXT"))}
    export = c.whm.get("/api/dns/%d/export" % zid).text

    # The panel's edit form: read every record, send them all back.
    records = [{k: r[k] for k in ("name", "type", "content", "ttl", "priority")}
               for r in c.whm.records(zid)]
    c.replace_records(zid, records)

    after = {n: c.answers(n + "." + domain + ".", t) for n, t in
             (("k._domainkey", "TXT"), ("two", "TXT"))}
    assert after == before
    strip = lambda t: [l for l in t.splitlines() if not l.startswith(";") and " SOA " not in l
                       and "\tSOA\t" not in l]
    assert strip(c.whm.get("/api/dns/%d/export" % zid).text) == strip(export)


def test_unquoted_generic_data_and_raw_newlines_are_refused_and_change_nothing(shared_cluster,
                                                                            domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    version = c.whm.zone(zid)["version"]

    for content in ("\\# 4 03616263", "line1\nline2", ""):
        r = c.whm.post("/api/dns/%d/records" % zid,
                       {"name": "t", "type": "TXT", "content": content})
        assert r.status_code == 422, cl.describe(r)
        assert r.json()["error"], r.text
    assert c.whm.zone(zid)["version"] == version
    assert contents(c, zid, "TXT") == []
