"""RRset changes (PATCH /api/dns/:id/rrsets, the PowerDNS API's changes),
ifVersion on them and on PUT /api/dns/:id/records, increase-serial and
notify: each change is one version with one serial served by every node;
each refusal changes nothing."""

import pytest

import cluster as cl
from test_notify import Secondary

pytest_plugins = ["cluster_fixtures"]


def rrsets_path(zid):
    return "/api/dns/%d/rrsets" % zid


def patch(c, zid, rrsets, expect=200, **body):
    body["rrsets"] = rrsets
    return c.whm.call("PATCH", rrsets_path(zid), body, expect=expect, params={"wait": "all"})


def ids(records):
    """{(name, type, content): id} of a listing."""
    return {(r["name"], r["type"], r["content"]): r["id"] for r in records}


@pytest.fixture
def zone(shared_cluster, domain):
    """A zone with www A (two records, TTL 600), old TXT and @ MX."""
    c = shared_cluster
    zid = c.create_zone(domain)
    c.replace_records(zid, [
        {"name": "@", "type": "NS", "content": ns} for ns in cl.DEFAULT_NS] + [
        {"name": "www", "type": "A", "content": "192.0.2.1", "ttl": 600},
        {"name": "www", "type": "A", "content": "192.0.2.2", "ttl": 600},
        {"name": "old", "type": "TXT", "content": "bye"},
        {"name": "@", "type": "MX", "content": "mx1", "priority": 10},
    ])
    return zid


def test_patch_replaces_and_deletes_rrsets_as_one_version_everywhere(shared_cluster, domain,
                                                                     zone):
    c = shared_cluster
    before = c.whm.zone(zone)

    answer = patch(c, zone, [
        {"name": "www", "type": "A", "ttl": 300, "changetype": "REPLACE",
         "records": [{"content": "192.0.2.1"}, {"content": "192.0.2.3"}]},
        {"name": "old", "type": "TXT", "changetype": "DELETE"},
        {"name": "@", "type": "MX", "changetype": "REPLACE",
         "records": [{"content": "mx2", "priority": 20}, {"content": "5 mx3"}]},
        {"name": "new." + domain + ".", "type": "AAAA", "changetype": "REPLACE",
         "records": [{"content": "2001:db8::1"}]},
    ])

    assert answer["success"] is True and answer["synced"] is True, answer
    assert answer["version"] == before["version"] + 1
    assert answer["serial"] != before["serial"]
    z = domain + "."
    assert c.answers("www." + z, "A") == {n.name: ["192.0.2.1", "192.0.2.3"] for n in c.nodes}
    assert c.answers("old." + z, "TXT") == {n.name: [] for n in c.nodes}
    assert c.answers(z, "MX") == {n.name: ["20 mx2.%s" % z, "5 mx3.%s" % z] for n in c.nodes}
    assert c.answers("new." + z, "AAAA") == {n.name: ["2001:db8::1"] for n in c.nodes}
    assert set(c.soa_serials(z).values()) == {answer["serial"]}
    www = [r for r in c.whm.records(zone) if r["name"] == "www"]
    assert {r["ttl"] for r in www} == {300}
    versions = c.whm.call("GET", "/api/dns/%d/versions" % zone, expect=200)["versions"]
    assert versions[0]["version"] == answer["version"]
    assert versions[0]["action"] == "rrsets.patch"
    assert "delete old TXT" in versions[0]["summary"], versions[0]


def test_disabled_records_and_comments_through_the_panel_route(shared_cluster, domain, zone):
    """The panel's route keeps disabled records (listed, served by no node)
    and comments; comments alone make no version."""
    c = shared_cluster
    one = patch(c, zone, [{"name": "www", "type": "A", "changetype": "REPLACE",
                           "records": [{"content": "192.0.2.1"},
                                       {"content": "192.0.2.2", "disabled": True}]}])
    c.wait_all_nodes("www.%s." % domain, "A", ["192.0.2.1"])
    listed = {r["content"]: r["disabled"] for r in c.whm.records(zone) if r["type"] == "A"}
    assert listed == {"192.0.2.1": False, "192.0.2.2": True}
    two = patch(c, zone, [{"name": "www", "type": "A", "changetype": "REPLACE",
                           "comments": [{"content": "why", "account": "ops"}]}])
    assert two["version"] == one["version"] and two["serial"] == one["serial"], (one, two)
    assert c.whm.zone(zone)["version"] == one["version"]
    api = c.whm.call("GET", "/api/v1/servers/localhost/zones/%s." % domain, expect=200)
    www = [s for s in api["rrsets"] if s["name"] == "www.%s." % domain and s["type"] == "A"][0]
    assert [(x["content"], x["account"]) for x in www["comments"]] == [("why", "ops")]


def test_unchanged_records_keep_their_ids(shared_cluster, zone):
    c = shared_cluster
    was = ids(c.whm.records(zone))

    patch(c, zone, [{"name": "www", "type": "A", "ttl": 600, "changetype": "REPLACE",
                     "records": [{"content": "192.0.2.1"}, {"content": "192.0.2.9"}]}])

    now = ids(c.whm.records(zone))
    kept = {k: v for k, v in was.items() if k != ("www", "A", "192.0.2.2")}
    assert {k: now[k] for k in kept} == kept
    assert ("www", "A", "192.0.2.2") not in now
    assert now[("www", "A", "192.0.2.9")] not in was.values()


def test_replace_without_ttl_keeps_the_rrset_ttl_and_empty_replace_deletes(shared_cluster,
                                                                           domain, zone):
    c = shared_cluster
    patch(c, zone, [{"name": "www", "type": "A", "changetype": "REPLACE",
                     "records": [{"content": "192.0.2.7"}]},
                    {"name": "fresh", "type": "A", "changetype": "REPLACE",
                     "records": [{"content": "192.0.2.8"}]}])
    ttls = {r["name"]: r["ttl"] for r in c.whm.records(zone) if r["type"] == "A"}
    assert ttls == {"www": 600, "fresh": 3600}

    patch(c, zone, [{"name": "www", "type": "A", "changetype": "REPLACE", "records": []}])

    assert c.answers("www.%s." % domain, "A") == {n.name: [] for n in c.nodes}
    assert [r for r in c.whm.records(zone) if r["name"] == "www"] == []


def www(ttl=300, **extra):
    rec = {"name": "www", "type": "A", "ttl": ttl, "changetype": "REPLACE",
           "records": [{"content": "192.0.2.50"}]}
    rec.update(extra)
    return rec


BAD = {
    "unknown changetype": [www(changetype="UPSERT")],
    "lowercase changetype": [www(changetype="replace")],
    "the same RRset twice": [www(), www(name="WWW.{domain}.")],
    "the SOA": [{"name": "@", "type": "SOA", "changetype": "DELETE"}],
    "CNAME beside other data": [{"name": "www", "type": "CNAME", "changetype": "REPLACE",
                                 "records": [{"content": "elsewhere.example."}]}],
    "a name outside the zone": [www(name="www.example.net.")],
    "the zone's name doubled": [www(name="www.{domain}")],
    "a negative TTL": [www(ttl=-1)],
    "a TTL past 2^31-1": [www(ttl=2 ** 31)],
    "a TTL that is text": [www(ttl="300")],
    "REPLACE without records": [{"name": "www", "type": "A", "changetype": "REPLACE"}],
    "DELETE with records": [www(changetype="DELETE")],
    "a disabled flag that is not true or false":
        [www(records=[{"content": "192.0.2.9", "disabled": "yes"}])],
    "comments that are not a list": [www(comments="x")],
    "a comment without its account": [www(comments=[{"content": "x"}])],
    "bad content": [www(records=[{"content": "192.0.2.300"}])],
    "a priority on an A record": [www(records=[{"content": "192.0.2.9", "priority": 5}])],
    "an unknown RRset key": [www(note="x")],
    "an unknown record key": [www(records=[{"content": "192.0.2.9", "id": 4}])],
    "an unknown type": [www(type="BOGUS")],
    "no RRsets": [],
    "an RRset that is not an object": ["www"],
    "one bad change among good ones": [
        {"name": "old", "type": "TXT", "changetype": "DELETE"},
        www(records=[{"content": "not an address"}])],
}


@pytest.mark.parametrize("what", sorted(BAD))
def test_bad_patch_is_refused_and_changes_nothing(shared_cluster, domain, zone, what):
    c = shared_cluster
    before, records = c.whm.zone(zone), c.whm.records(zone)
    rrsets = [dict(s, name=s["name"].format(domain=domain)) if isinstance(s, dict) else s
              for s in BAD[what]]

    r = c.whm.request("PATCH", rrsets_path(zone), json_body={"rrsets": rrsets})

    assert 400 <= r.status_code < 500, (what, r.status_code, r.text)
    assert r.json()["error"], r.text
    assert c.whm.zone(zone)["version"] == before["version"]
    assert c.whm.records(zone) == records


@pytest.mark.parametrize("body", [{"rrsets": "www"}, {"rrsets": [www()], "ifVersion": 0},
                                  {"rrsets": [www()], "ifVersion": "1"},
                                  {"rrsets": [www()], "extra": 1}, {}])
def test_bad_patch_body_is_refused(shared_cluster, zone, body):
    c = shared_cluster
    before = c.whm.zone(zone)["version"]
    r = c.whm.request("PATCH", rrsets_path(zone), json_body=body)
    assert 400 <= r.status_code < 500, r.text
    assert c.whm.zone(zone)["version"] == before


def test_if_version_conflict_is_409_and_changes_nothing(shared_cluster, zone):
    c = shared_cluster
    version = c.whm.zone(zone)["version"]
    records = c.whm.records(zone)

    r = c.whm.request("PATCH", rrsets_path(zone),
                      json_body={"rrsets": [www()], "ifVersion": version - 1})
    assert r.status_code == 409, r.text
    assert "version %d" % version in r.json()["error"], r.text
    r = c.whm.put("/api/dns/%d/records" % zone,
                  json_body={"records": [], "ifVersion": version + 1})
    assert r.status_code == 409, r.text
    assert c.whm.zone(zone)["version"] == version
    assert c.whm.records(zone) == records

    answer = patch(c, zone, [www()], ifVersion=version)
    assert answer["version"] == version + 1
    answer = c.whm.call("PUT", "/api/dns/%d/records" % zone,
                        {"records": [{"name": "@", "type": "NS", "content": ns}
                                     for ns in cl.DEFAULT_NS], "ifVersion": version + 1},
                        expect=200)
    assert answer["version"] == version + 2


def test_records_listing_is_taken_back_and_unchanged_ids_stay(shared_cluster, domain, zone):
    c = shared_cluster
    listing = c.whm.records(zone)
    changed = next(r for r in listing if r["type"] == "TXT")
    changed["content"] = "hello again"

    c.replace_records(zone, listing)

    now = c.whm.records(zone)
    assert {r["id"] for r in now if r["type"] != "TXT"} == \
        {r["id"] for r in listing if r["type"] != "TXT"}
    assert [r["content"] for r in now if r["type"] == "TXT"] == ["hello again"]
    assert c.answers("old.%s." % domain, "TXT") == \
        {n.name: ['"hello again"'] for n in c.nodes}
    # Only active records exist: another status is refused.
    listing[0]["status"] = "disabled"
    r = c.whm.put("/api/dns/%d/records" % zone, json_body={"records": listing})
    assert r.status_code == 422 and "status" in r.json()["error"], r.text


def test_increase_serial_is_one_version_with_the_same_records(shared_cluster, domain, zone):
    c = shared_cluster
    before, records = c.whm.zone(zone), c.whm.records(zone)

    answer = c.whm.call("POST", "/api/dns/%d/increase-serial" % zone, expect=200,
                        params={"wait": "all"})

    assert answer["synced"] is True, answer
    assert answer["version"] == before["version"] + 1
    assert (answer["serial"] - before["serial"]) % 2 ** 32 in range(1, 2 ** 31)
    assert c.whm.records(zone) == records
    assert c.soa_serials(domain + ".") == {n.name: answer["serial"] for n in c.nodes}
    versions = c.whm.call("GET", "/api/dns/%d/versions" % zone, expect=200)["versions"]
    assert versions[0]["action"] == "zone.increase-serial"


def test_changes_need_an_admin_token_and_a_zone(shared_cluster, zone):
    c = shared_cluster
    read = c.whm.read_token
    before = c.whm.zone(zone)["version"]
    for method, path, body in [("PATCH", rrsets_path(zone), {"rrsets": [www()]}),
                               ("POST", "/api/dns/%d/increase-serial" % zone, None),
                               ("POST", "/api/dns/%d/notify" % zone, None)]:
        r = c.whm.request(method, path, json_body=body, token=read)
        assert r.status_code == 403, (path, r.text)
        r = c.whm.request(method, path.replace("/%d/" % zone, "/999999/"), json_body=body)
        assert r.status_code == 404, (path, r.text)
    assert c.whm.zone(zone)["version"] == before


def test_notify_without_secondaries_reports_each_node(shared_cluster, zone):
    c = shared_cluster
    r = c.whm.post("/api/dns/%d/notify" % zone)

    assert r.status_code == 502, r.text
    j = r.json()
    assert j["success"] is False and j["successCount"] == 0, j
    assert sorted(n["name"] for n in j["nodes"]) == sorted(n.name for n in c.nodes)
    assert all(n["success"] is False and "also-notify" in n["error"] for n in j["nodes"]), j


def test_notify_is_sent_by_every_node(cluster_factory, domain):
    secondary = Secondary()
    try:
        c = cluster_factory(n=2, node_config={"also-notify": "127.0.0.1:%d" % secondary.port})
        zid = c.create_zone(domain)
        secondary.wait_notify(domain + ".", timeout=1.0)  # those a push may trigger
        secondary.drain()

        j = c.whm.call("POST", "/api/dns/%d/notify" % zid, expect=200)

        assert j["success"] is True and j["successCount"] == 2, j
        assert sorted(n["name"] for n in j["nodes"]) == ["ns1", "ns2"]
        assert all(n["success"] is True for n in j["nodes"]), j
        assert secondary.wait_notify(domain + ".", timeout=5.0) is not None
        audit = c.whm.call("GET", "/api/dns/audit", expect=200)["entries"]
        assert any(e["action"] == "zone.notify" for e in audit), audit
    finally:
        secondary.close()
