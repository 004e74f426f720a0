"""Routing policies on the panel's record routes: each record's
routing_policy ({"type": "weighted"|"geo"|"failover", ...}) is checked on
its own and with the other records of its RRset, kept per RRset, and read
back by GET; bad input is a 422 that changes nothing."""

import pytest

import cluster as cl
from test_whm_bad_input import assert_refused

pytest_plugins = ["cluster_fixtures"]


@pytest.fixture(scope="module")
def steer(shared_cluster):
    c = shared_cluster
    zid = c.create_zone("steer-routes.example")
    c.add_record(zid, "static", "A", "192.0.2.1")
    return {"cluster": c, "zone_id": zid, "zone": "steer-routes.example."}


def weighted(w):
    return {"type": "weighted", "weight": w}


def policies(c, zid, name):
    return sorted((r["content"], r["routing_policy"]) for r in c.whm.records(zid)
                  if r["name"] == name)


def test_weighted_records_are_kept_and_read_back(steer):
    c, zid = steer["cluster"], steer["zone_id"]
    a = c.add_record(zid, "w", "A", "192.0.2.10", routing_policy=weighted(30))
    c.add_record(zid, "w", "A", "192.0.2.11", routing_policy=weighted(70))
    assert policies(c, zid, "w") == [("192.0.2.10", weighted(30)), ("192.0.2.11", weighted(70))]
    # the static record of another RRset has none
    assert policies(c, zid, "static") == [("192.0.2.1", None)]
    # a listing taken back as it is keeps them
    listing = c.whm.records(zid)
    c.replace_records(zid, listing)
    assert policies(c, zid, "w") == [("192.0.2.10", weighted(30)), ("192.0.2.11", weighted(70))]
    # a record deleted leaves the others' policies
    a = [r for r in c.whm.records(zid) if r["content"] == "192.0.2.10"][0]
    c.delete_record(a["id"])
    assert policies(c, zid, "w") == [("192.0.2.11", weighted(70))]


def test_geo_and_failover_records_are_read_back(steer):
    c, zid = steer["cluster"], steer["zone_id"]
    c.add_record(zid, "g", "A", "192.0.2.20", routing_policy={"type": "geo", "region": "DE"})
    c.add_record(zid, "g", "A", "192.0.2.21", routing_policy={"type": "geo", "region": "US"})
    assert policies(c, zid, "g") == [("192.0.2.20", {"type": "geo", "region": "DE"}),
                                     ("192.0.2.21", {"type": "geo", "region": "US"})]
    f = {"type": "failover", "health_check_url": "https://192.0.2.30/health"}
    c.add_record(zid, "f", "A", "192.0.2.30", routing_policy=f)
    assert policies(c, zid, "f") == [("192.0.2.30", f)]


def refused(steer, record, needle):
    c, zid = steer["cluster"], steer["zone_id"]
    doc = assert_refused({"cluster": c, "zone_id": zid}, "POST", "/api/dns/%d/records" % zid,
                         record, statuses=(422,))
    assert needle in doc["error"], doc
    return doc


def a(name, content, rp, rtype="A"):
    return {"type": rtype, "name": name, "content": content, "routing_policy": rp}


@pytest.mark.parametrize("rp,needle", [
    ({"type": "weighted", "weight": -1}, "out of range"),
    ({"type": "weighted", "weight": 101}, "out of range"),
    ({"type": "weighted", "weight": 2.5}, "integer"),
    ({"type": "geo", "region": "XX"}, "ISO 3166"),
    ({"type": "geo", "region": "DEU"}, "2-letter"),
    ({"type": "failover", "health_check_url": "ftp://192.0.2.1/"}, "http"),
    ({"type": "failover", "health_check_url": "http://user:pw@192.0.2.1/"}, "userinfo"),
    ({"type": "failover", "health_check_url": "http://192.0.2.1:99999/"}, "port"),
    ({"type": "random"}, "not one of"),
])
def test_bad_record_policy_is_422(steer, rp, needle):
    refused(steer, a("bad", "192.0.2.40", rp), needle)


def test_weights_adding_up_to_zero_are_422(steer):
    refused(steer, a("zero", "192.0.2.41", weighted(0)), "add up to 0")


def test_policy_beside_static_records_is_422(steer):
    refused(steer, a("static", "192.0.2.2", weighted(50)), "beside records without one")


def test_static_record_beside_policies_is_422(steer):
    c, zid = steer["cluster"], steer["zone_id"]
    c.add_record(zid, "mixed", "A", "192.0.2.50", routing_policy=weighted(10))
    refused(steer, a("mixed", "192.0.2.51", None), "beside records without one")
    refused(steer, a("mixed", "192.0.2.51", {"type": "geo", "region": "FR"}),
            "share one policy type")


def test_policy_on_a_type_that_cannot_carry_one_is_422(steer):
    refused(steer, {"type": "TXT", "name": "t", "content": "hello",
                    "routing_policy": weighted(10)}, "A, AAAA and CNAME")


def test_failover_on_a_cname_is_422(steer):
    refused(steer, a("fc", "target.example.net.",
                     {"type": "failover", "health_check_url": "http://192.0.2.1/"}, "CNAME"),
            "A and AAAA")


def test_raw_lua_is_422_without_allow_raw_lua(steer):
    refused(steer, {"type": "LUA", "name": "raw", "content": "A \"'192.0.2.9'\""},
            "allow-raw-lua")
    c, zid = steer["cluster"], steer["zone_id"]
    before = c.whm.records(zid)
    r = c.whm.request("PATCH", "/api/v1/servers/localhost/zones/" + steer["zone"],
                      json_body={"rrsets": [{"name": "raw." + steer["zone"], "type": "LUA",
                                             "ttl": 60, "changetype": "REPLACE",
                                             "records": [{"content": "A \"'192.0.2.9'\"",
                                                          "disabled": False}]}]})
    assert r.status_code == 422 and "allow-raw-lua" in r.json()["error"], r.text
    assert c.whm.records(zid) == before


def test_steered_cname_beside_other_data_is_422(steer):
    c, zid = steer["cluster"], steer["zone_id"]
    c.add_record(zid, "cn", "TXT", "beside")
    refused(steer, a("cn", "target.example.net.", weighted(1), "CNAME"), "CNAME")
    before = c.whm.zone(zid)["version"]
    r = c.whm.request("PUT", "/api/dns/%d/policies" % zid, json_body={
        "name": "cn", "type": "CNAME", "policy": {
            "type": "weighted", "targets": [{"target": "a.example.net.", "weight": 1}]}})
    assert r.status_code == 422 and "CNAME" in r.json()["error"], r.text
    assert c.whm.zone(zid)["version"] == before


def test_disabled_record_with_a_policy_is_422(steer):
    refused(steer, dict(a("dis", "192.0.2.60", weighted(1)), disabled=True), "disabled")


def test_policy_of_a_secondary_zone_is_409_and_changes_nothing(steer):
    """A secondary zone serves its primary's data with the primary's serial:
    a routing policy set or removed on it is refused as a record is."""
    from test_secondary_zones import fake_primary, wait_state
    c = steer["cluster"]
    zone = "steer-secondary.example."
    primary = fake_primary(zone)
    try:
        zid = c.whm.call("POST", "/api/dns", {"domain": zone, "kind": "secondary",
                                              "primaries": [primary.address]})["zoneId"]
        z = wait_state(c.whm, zid, lambda s: s.get("serial") == 100)
        assert z["serial"] == 100, z
        for policy in ({"type": "weighted", "targets": [{"target": "192.0.2.1", "weight": 1}]},
                       None):
            r = c.whm.request("PUT", "/api/dns/%d/policies" % zid,
                              json_body={"name": "steered", "type": "A", "policy": policy})
            assert r.status_code == 409, cl.describe(r)
            assert "comes from its primary" in r.json()["error"], r.text
        after = c.whm.zone(zid)
        assert (after["version"], after["serial"]) == (z["version"], 100)
        assert c.whm.call("GET", "/api/dns/%d/policies" % zid) == []
    finally:
        primary.close()


def test_listing_put_back_with_a_record_for_an_rrset_policy_is_422(steer):
    """PUT /records takes back the GET listing, which holds no records for
    an RRset steered by its own policy: a record added there is refused as
    POST /records refuses it, and the policy stays."""
    c, zid = steer["cluster"], steer["zone_id"]
    c.whm.call("PUT", "/api/dns/%d/policies" % zid, {"name": "geo-rrset", "type": "A", "policy": {
        "type": "geo", "regions": [{"country": "DE", "targets": ["192.0.2.100"]}],
        "default": ["192.0.2.101"]}})
    listing = c.whm.records(zid)
    policies_before = c.whm.call("GET", "/api/dns/%d/policies" % zid)
    doc = assert_refused({"cluster": c, "zone_id": zid}, "PUT", "/api/dns/%d/records" % zid,
                         {"records": listing + [{"type": "A", "name": "geo-rrset",
                                                 "content": "192.0.2.200"}]}, statuses=(422,))
    assert "steered by its own routing policy" in doc["error"], doc
    assert c.whm.call("GET", "/api/dns/%d/policies" % zid) == policies_before
    # the listing as it is goes back and keeps the policy
    c.replace_records(zid, listing)
    assert c.whm.call("GET", "/api/dns/%d/policies" % zid) == policies_before


def geo(region):
    return {"type": "geo", "region": region}


def test_the_same_record_twice_in_a_steered_rrset_is_422(steer):
    """RFC 2181 section 5 holds for steered RRsets too, whose records the
    nodes never see (they serve one LUA record): the same content twice is
    refused as in a plain RRset, and no record's policy is lost."""
    c, zid = steer["cluster"], steer["zone_id"]
    c.add_record(zid, "eu", "A", "192.0.2.10", routing_policy=geo("DE"))
    doc = refused(steer, a("eu", "192.0.2.10", geo("GB")), "duplicate record")
    # one address for several countries: the RRset-level geo policy
    assert "PUT /api/dns/:zoneId/policies" in doc["error"], doc
    c.add_record(zid, "eu", "A", "192.0.2.12", routing_policy=geo("US"))
    assert policies(c, zid, "eu") == [("192.0.2.10", geo("DE")), ("192.0.2.12", geo("US"))]

    c.add_record(zid, "dupw", "A", "192.0.2.1", routing_policy=weighted(10))
    refused(steer, a("dupw", "192.0.2.1", weighted(20)), "duplicate record")
    c.add_record(zid, "dupw", "A", "192.0.2.2", routing_policy=weighted(20))
    bad = {"cluster": c, "zone_id": zid}
    second = [r for r in c.whm.records(zid) if r["content"] == "192.0.2.2"][0]
    # a record's content changed to another's
    doc = assert_refused(bad, "PUT", "/api/dns/records/%d" % second["id"],
                         a("dupw", "192.0.2.1", weighted(20)), statuses=(422,))
    assert "duplicate record" in doc["error"], doc
    # a listing that holds it twice
    listing = c.whm.records(zid)
    doc = assert_refused(bad, "PUT", "/api/dns/%d/records" % zid,
                         {"records": listing + [dict(second, content="192.0.2.1")]},
                         statuses=(422,))
    assert "duplicate record" in doc["error"], doc
    assert policies(c, zid, "dupw") == [("192.0.2.1", weighted(10)), ("192.0.2.2", weighted(20))]
    # the same address written two ways is one record
    c.add_record(zid, "dup6", "AAAA", "2001:db8::1", routing_policy=weighted(1))
    refused(steer, a("dup6", "2001:DB8:0::1", weighted(2), "AAAA"), "duplicate record")


def test_rrset_geo_policy_regions_share_a_target(steer):
    """What the duplicate's message points to: one address answered to the
    clients of several countries."""
    c, zid = steer["cluster"], steer["zone_id"]
    pol = {"type": "geo", "regions": [{"country": "DE", "targets": ["192.0.2.10"]},
                                      {"country": "GB", "targets": ["192.0.2.10"]}],
           "default": ["192.0.2.10", "192.0.2.12"]}
    c.whm.call("PUT", "/api/dns/%d/policies" % zid, {"name": "eu-shared", "type": "A",
                                                       "policy": pol})
    got = [p for p in c.whm.call("GET", "/api/dns/%d/policies" % zid)
           if p["name"] == "eu-shared"]
    assert got == [{"name": "eu-shared", "type": "A", "per_record": False, "policy": pol}], got
