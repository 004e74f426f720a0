"""International names (issue 13): a zone, an owner or a target written
with U-labels is stored and served under its IDNA2008 A-labels (UTS #46
mapping, non-transitional), and shown with both; what IDNA2008 refuses is
refused with the reason, and nothing changes."""

import json

import pytest

import cluster as cl

pytest_plugins = ["cluster_fixtures"]


def everywhere(c, value):
    return {n.name: value for n in c.nodes}


def test_unicode_zone_is_stored_and_served_under_its_a_label(shared_cluster, domain):
    c = shared_cluster
    answer = c.whm.call("POST", "/api/dns", {"domain": "b\u00fccher." + domain}, expect=201,
                        params={"wait": "all"})
    assert answer["synced"] is True, answer
    zid = answer["zoneId"]

    z = c.whm.zone(zid)
    assert z["domain"] == "xn--bcher-kva." + domain
    assert z["domain_unicode"] == "b\u00fccher." + domain
    # The list shows every field of the zone but its SOA (only GET of one zone has it).
    listed = {k: v for k, v in z.items() if k != "soa"}
    assert z["soa"]["own"] == [] and c.whm.zones()["xn--bcher-kva.%s." % domain] == listed
    apex = "xn--bcher-kva.%s." % domain
    assert c.answers(apex, "NS") == everywhere(c, sorted(cl.DEFAULT_NS))
    assert all(len(v) == 1 for v in c.answers(apex, "SOA").values())
    # The same zone, by either name.
    for again in ("xn--bcher-kva." + domain, "B\u00dcCHER." + domain):
        r = c.whm.post("/api/dns", {"domain": again})
        assert r.status_code == 409, cl.describe(r)


def test_ascii_zone_shows_the_same_name_twice(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    z = c.whm.zone(zid)
    assert z["domain"] == z["domain_unicode"] == domain


def test_unicode_owners_and_targets_become_a_labels(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    zone = domain + "."

    c.add_record(zid, "stra\u00dfe", "A", "192.0.2.10")          # non-transitional: ß stays
    c.add_record(zid, "alias", "CNAME", "stra\u00dfe")
    c.add_record(zid, "ext", "CNAME", "www.b\u00fccher.example.")
    c.add_record(zid, "@", "MX", "mail.m\u00fcnchen.example.", priority=10)

    assert c.answers("xn--strae-oqa." + zone, "A") == everywhere(c, ["192.0.2.10"])
    assert c.answers("alias." + zone, "CNAME") == everywhere(c, ["xn--strae-oqa." + zone])
    assert c.answers("ext." + zone, "CNAME") == everywhere(c, ["www.xn--bcher-kva.example."])
    assert c.answers(zone, "MX") == everywhere(c, ["10 mail.xn--mnchen-3ya.example."])
    recs = {(r["name"], r["type"]): r for r in c.whm.records(zid)}
    assert recs[("xn--strae-oqa", "A")]["name_unicode"] == "stra\u00dfe"
    assert recs[("alias", "CNAME")]["content"] == "xn--strae-oqa." + zone
    assert recs[("alias", "CNAME")]["name_unicode"] == "alias"


@pytest.mark.parametrize("name, words", [
    ("b\u2665cher.example", "U+2665"),                 # disallowed code point
    ("xn--zz.example", "IDNA2008"),                   # bad punycode
    ("a\u05d0.example", "bi-directional"),            # Latin and Hebrew in one label
    ("a\u200db.example", "context"),                  # a joiner out of context
    ("\u0301ab.example", "combining"),                # leading combining mark
    ("\u00fc" * 60 + ".example", "longer than 63 octets"),
    ("\u00fc_x.example", "letters, digits and '-'"),
    ("\u2474.example", "letters, digits and '-'"),    # maps to "(1)"
    ("\U0001F642.example", "U+1F642"),
])
def test_invalid_international_zone_names_are_refused_with_the_reason(shared_cluster, name,
                                                                      words):
    c = shared_cluster
    before = c.whm.zones()
    r = c.whm.post("/api/dns", {"domain": name})
    assert r.status_code == 422, cl.describe(r)
    assert words in r.json()["error"], r.json()
    assert c.whm.zones() == before


def test_invalid_international_owner_and_target_are_refused(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    version = c.whm.zone(zid)["version"]
    for name, rtype, content, words in [
            ("b\u2665", "A", "192.0.2.1", "U+2665"),
            ("x", "CNAME", "b\u2665cher.example.", "U+2665"),
            ("x", "CNAME", "xn--zz.example.", "IDNA2008"),
            ("x", "TXT", "\"caf\u00e9\"", "non-ASCII")]:
        r = c.whm.post("/api/dns/%d/records" % zid,
                       {"name": name, "type": rtype, "content": content})
        assert r.status_code == 422, cl.describe(r)
        assert words in r.json()["error"], r.json()
    assert c.whm.zone(zid)["version"] == version


def test_international_owners_import_and_export_identically(shared_cluster, domain):
    c = shared_cluster
    zone = domain + "."
    zid = c.create_zone(domain)
    text = ("@ IN NS ns1.yumna.test.\n"
            "xn--bcher-kva 300 IN A 192.0.2.20\n"
            "www 300 IN CNAME xn--bcher-kva\n")
    c.whm.call("POST", "/api/dns/%d/import" % zid,
               {"content": text, "format": "bind", "mode": "replace"}, params={"wait": "all"})
    # Route 53 with U-labels, as a panel user may paste them.
    sets = {"ResourceRecordSets": [
        {"Name": "stra\u00dfe." + zone, "Type": "CNAME", "TTL": 300,
         "ResourceRecords": [{"Value": "b\u00fccher." + zone}]}]}
    c.whm.call("POST", "/api/dns/%d/import" % zid,
               {"content": json.dumps(sets), "format": "route53", "mode": "merge"},
               params={"wait": "all"})
    assert c.answers("xn--strae-oqa." + zone, "CNAME") == everywhere(
        c, ["xn--bcher-kva." + zone])
    before = sorted((r["name"], r["type"], r["content"], r["ttl"]) for r in c.whm.records(zid))

    exported = c.whm.get("/api/dns/%d/export" % zid).text
    assert "xn--strae-oqa\t300\tIN\tCNAME\txn--bcher-kva.%s" % zone in exported
    c.whm.call("POST", "/api/dns/%d/import" % zid,
               {"content": exported, "format": "bind", "mode": "replace"})
    assert sorted((r["name"], r["type"], r["content"], r["ttl"])
                  for r in c.whm.records(zid)) == before

    # U-labels in a zone file: refused with what to write instead.
    r = c.whm.post("/api/dns/%d/import" % zid,
                   {"content": "b\u00fccher IN A 192.0.2.1\n", "format": "bind"})
    assert r.status_code == 422, cl.describe(r)
    assert "A-labels" in r.json()["errors"][0]["message"], r.json()
