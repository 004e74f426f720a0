"""Zones and records through the panel's routes and JSON shapes: every change
is acknowledged with the zone's new version and serial and is then served by
every node, with the same SOA serial everywhere."""

import re

import pytest
import requests

import cluster as cl

pytest_plugins = ["cluster_fixtures"]

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def soa_text(serial):
    return "%s %s %d 10800 3600 604800 3600" % (cl.harness.SOA_MNAME, cl.harness.SOA_RNAME,
                                                 serial)


def dig_everywhere_once(c, name, rtype):
    """One query per node, no retry: for answers after ?wait=all."""
    return c.answers(name, rtype)


def same_everywhere(c, value):
    return {n.name: value for n in c.nodes}


def test_created_zone_is_served_everywhere_with_its_soa_and_default_ns(shared_cluster, domain):
    c = shared_cluster
    answer = c.create_zone_answer(domain, wait=True)

    assert answer["success"] is True
    assert isinstance(answer["zoneId"], int)
    assert answer["version"] >= 1
    assert answer["synced"] is True, answer
    assert sorted(n["nodeId"] for n in answer["nodes"]) == sorted(n.server_id for n in c.nodes)
    assert all(n["success"] is True for n in answer["nodes"]), answer
    zone = domain + "."
    assert dig_everywhere_once(c, zone, "SOA") == same_everywhere(c, [soa_text(answer["serial"])])
    assert dig_everywhere_once(c, zone, "NS") == same_everywhere(c, sorted(cl.DEFAULT_NS))


def test_created_zone_without_wait_reaches_every_node(shared_cluster, domain):
    c = shared_cluster
    answer = c.create_zone_answer(domain, wait=False)

    assert "synced" not in answer
    c.wait_all_nodes(domain + ".", "SOA", [soa_text(answer["serial"])], timeout=5)
    c.wait_all_nodes(domain + ".", "NS", cl.DEFAULT_NS, timeout=5)


def test_zone_and_record_listings_have_the_panel_shapes(shared_cluster, domain):
    c = shared_cluster
    created = c.create_zone_answer(domain)
    zid = created["zoneId"]
    c.add_record(zid, "www", "A", "192.0.2.1", ttl=300)

    zones = [z for z in c.whm.call("GET", "/api/dns", expect=200) if z["id"] == zid]
    assert len(zones) == 1
    z = zones[0]
    assert set(z) >= {"id", "domain", "userId", "serverId", "dnssec_enabled", "createdAt",
                      "records", "version", "serial"}
    assert z["domain"] == domain
    assert z["version"] == created["version"] + 1
    assert z["dnssec_enabled"] is False
    assert ISO.match(z["createdAt"]), z
    one = c.whm.zone(zid)   # the list's shape, and the zone's SOA
    assert one.pop("soa")["serial"] == z["serial"]
    assert one == z

    records = c.whm.records(zid)
    for r in records:
        assert set(r) >= {"id", "zoneId", "type", "name", "content", "priority", "ttl", "status",
                          "createdAt"}
        assert r["zoneId"] == zid and r["status"] == "active"
    got = sorted((r["name"], r["type"], r["content"]) for r in records)
    assert got == sorted([("@", "NS", ns) for ns in cl.DEFAULT_NS] + [("www", "A", "192.0.2.1")])
    assert [r["ttl"] for r in records if r["type"] == "A"] == [300]
    assert all(r["type"] != "SOA" for r in records)


def test_added_a_mx_and_txt_are_answered_by_every_node_after_wait_all(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    zone = domain + "."

    a = c.add_record(zid, "www", "A", "192.0.2.10", ttl=300)
    mx = c.add_record(zid, "@", "MX", "mail." + zone, priority=10)
    txt = c.add_record(zid, "@", "TXT", '"v=spf1 -all"')

    for answer in (a, mx, txt):
        assert answer["synced"] is True, answer
        assert isinstance(answer["id"], int)
        assert all(n["success"] for n in answer["nodes"]), answer
    assert dig_everywhere_once(c, "www." + zone, "A") == same_everywhere(c, ["192.0.2.10"])
    assert dig_everywhere_once(c, zone, "MX") == same_everywhere(c, ["10 mail.%s" % zone])
    assert dig_everywhere_once(c, zone, "TXT") == same_everywhere(c, ['"v=spf1 -all"'])
    assert dig_everywhere_once(c, zone, "SOA") == same_everywhere(c, [soa_text(txt["serial"])])


def test_added_record_without_wait_reaches_every_node(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)

    answer = c.add_record(zid, "api", "AAAA", "2001:db8::1", wait=False)

    assert "synced" not in answer and "nodes" not in answer
    c.wait_all_nodes("api.%s." % domain, "AAAA", ["2001:db8::1"], timeout=5)


def test_absolute_and_relative_names_land_on_the_same_owner(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    zone = domain + "."

    c.add_record(zid, "a.b", "A", "192.0.2.1")
    c.add_record(zid, "a.b." + zone, "A", "192.0.2.2")
    c.add_record(zid, zone, "TXT", '"apex"')

    assert dig_everywhere_once(c, "a.b." + zone, "A") == same_everywhere(
        c, ["192.0.2.1", "192.0.2.2"])
    assert dig_everywhere_once(c, zone, "TXT") == same_everywhere(c, ['"apex"'])


def test_updated_record_is_served_and_the_old_content_is_gone(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    rec = c.add_record(zid, "www", "A", "192.0.2.1")
    c.add_record(zid, "@", "MX", "mx1." + domain + ".", priority=10)

    answer = c.update_record(rec["id"], "www", "A", "192.0.2.2", ttl=60)

    assert answer["synced"] is True, answer
    assert answer["version"] == rec["version"] + 2
    assert dig_everywhere_once(c, "www.%s." % domain, "A") == same_everywhere(c, ["192.0.2.2"])
    stored = [r for r in c.whm.records(zid) if r["id"] == rec["id"]]
    assert len(stored) == 1 and stored[0]["content"] == "192.0.2.2" and stored[0]["ttl"] == 60


def test_record_can_be_moved_to_another_name_and_type(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    rec = c.add_record(zid, "old", "A", "192.0.2.1")

    c.update_record(rec["id"], "new", "TXT", '"moved"')

    assert c.answers("new.%s." % domain, "TXT") == same_everywhere(c, ['"moved"'])
    for n in c.nodes:
        assert n.rcode("old.%s." % domain, "A") == "NXDOMAIN"


def test_deleted_record_is_gone_from_every_node(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    keep = c.add_record(zid, "www", "A", "192.0.2.1")
    gone = c.add_record(zid, "www", "A", "192.0.2.2")
    assert dig_everywhere_once(c, "www.%s." % domain, "A") == same_everywhere(
        c, ["192.0.2.1", "192.0.2.2"])

    answer = c.delete_record(gone["id"])

    assert answer["synced"] is True, answer
    assert dig_everywhere_once(c, "www.%s." % domain, "A") == same_everywhere(c, ["192.0.2.1"])
    assert [r["id"] for r in c.whm.records(zid) if r["type"] == "A"] == [keep["id"]]
    r = c.whm.delete("/api/dns/records/%d" % gone["id"])
    assert r.status_code == 404, cl.describe(r)


def test_replacing_all_records_is_one_version(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    c.add_record(zid, "www", "A", "192.0.2.1")
    c.add_record(zid, "old", "TXT", '"old"')
    before = c.whm.zone(zid)
    new = [
        {"type": "NS", "name": "@", "content": "ns1.yumna.test."},
        {"type": "A", "name": "www", "content": "192.0.2.7", "ttl": 120},
        {"type": "A", "name": "www", "content": "192.0.2.8", "ttl": 120},
        {"type": "MX", "name": "@", "content": "mail.%s." % domain, "priority": 5},
        {"type": "A", "name": "mail", "content": "192.0.2.25"},
    ]

    answer = c.replace_records(zid, new)

    assert answer["synced"] is True, answer
    assert answer["version"] == before["version"] + 1
    after = c.whm.zone(zid)
    assert after["version"] == before["version"] + 1
    assert after["serial"] > before["serial"]
    stored = sorted((r["name"], r["type"], r["content"]) for r in c.whm.records(zid))
    assert stored == sorted((r["name"], r["type"], r["content"]) for r in new)
    zone = domain + "."
    assert dig_everywhere_once(c, "www." + zone, "A") == same_everywhere(c, ["192.0.2.7",
                                                                             "192.0.2.8"])
    assert dig_everywhere_once(c, zone, "NS") == same_everywhere(c, ["ns1.yumna.test."])
    assert dig_everywhere_once(c, zone, "MX") == same_everywhere(c, ["5 mail." + zone])
    for n in c.nodes:
        assert n.rcode("old." + zone, "TXT") == "NXDOMAIN"
        assert n.zones()[zone]["version"] == after["version"]


def test_deleted_zone_is_refused_by_every_node(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    c.add_record(zid, "www", "A", "192.0.2.1")

    answer = c.delete_zone(zid)

    assert answer["success"] is True and answer["synced"] is True, answer
    zone = domain + "."
    for n in c.nodes:
        assert n.rcode(zone, "SOA") == "REFUSED"
        assert n.rcode("www." + zone, "A") == "REFUSED"
        assert zone not in n.zones()
    r = c.whm.get("/api/dns/%d" % zid)
    assert r.status_code == 404, cl.describe(r)
    assert zone not in c.whm.zones()
    r = c.whm.get("/api/dns/%d/records" % zid)
    assert r.status_code == 404, cl.describe(r)


def test_recreated_zone_is_served_again_with_a_higher_version(shared_cluster, domain):
    c = shared_cluster
    zone = domain + "."
    first = c.create_zone_answer(domain)
    c.add_record(first["zoneId"], "www", "A", "192.0.2.1")
    deleted = c.delete_zone(first["zoneId"])
    c.wait_rcode(zone, "SOA", "REFUSED", timeout=1)

    again = c.create_zone_answer(domain)

    assert again["synced"] is True, again
    assert again["version"] > deleted["version"]
    assert again["serial"] > deleted["serial"]
    assert c.answers(zone, "SOA") == same_everywhere(c, [soa_text(again["serial"])])
    # The old zone's records did not come back with it.
    for n in c.nodes:
        assert n.rcode("www." + zone, "A") == "NXDOMAIN"
        assert n.zones()[zone]["version"] == again["version"]


def test_serial_increases_on_every_change_and_is_the_same_on_every_node(shared_cluster, domain):
    c = shared_cluster
    zone = domain + "."
    created = c.create_zone_answer(domain)
    zid = created["zoneId"]
    seen = [(created["version"], created["serial"])]
    rec = c.add_record(zid, "www", "A", "192.0.2.1")
    seen.append((rec["version"], rec["serial"]))
    for i in range(5):
        a = c.update_record(rec["id"], "www", "A", "192.0.2.%d" % (i + 2))
        seen.append((a["version"], a["serial"]))
        assert c.soa_serials(zone) == same_everywhere(c, a["serial"])
    extra = c.add_record(zid, "x", "TXT", '"x"')
    seen.append((extra["version"], extra["serial"]))
    d = c.delete_record(extra["id"])
    seen.append((d["version"], d["serial"]))
    assert c.soa_serials(zone) == same_everywhere(c, d["serial"])

    versions = [v for v, _ in seen]
    serials = [s for _, s in seen]
    assert versions == list(range(versions[0], versions[0] + len(versions))), seen
    assert all(b > a for a, b in zip(serials, serials[1:])), seen
    assert all(0 < s < 2 ** 32 for s in serials), seen


@pytest.mark.parametrize("rtype,content,priority,expected", [
    ("AAAA", "2001:db8::53", None, ["2001:db8::53"]),
    ("CNAME", "www.{zone}", None, ["www.{zone}"]),
    ("SRV", "5 443 sip.{zone}", 10, ["10 5 443 sip.{zone}"]),
    ("CAA", '0 issue "letsencrypt.org"', None, ['0 issue "letsencrypt.org"']),
])
def test_other_record_types_reach_every_node(shared_cluster, domain, rtype, content, priority,
                                            expected):
    c = shared_cluster
    zone = domain + "."
    zid = c.create_zone(domain)
    name = "_sip._tcp" if rtype == "SRV" else "r"

    c.add_record(zid, name, rtype, content.format(zone=zone), priority=priority)

    want = [e.format(zone=zone) for e in expected]
    assert c.answers("%s.%s" % (name, zone), rtype) == same_everywhere(c, want)


def test_zone_list_pages_cover_every_zone_once_in_id_order(shared_cluster, domain):
    c = shared_cluster
    for i in range(5):
        c.create_zone_answer("p%d.%s" % (i, domain), wait=False)
    everything = c.whm.call("GET", "/api/dns", expect=200)
    ids = [z["id"] for z in everything]
    assert ids == sorted(ids) and len(ids) >= 5

    paged, after = [], 0
    while True:
        page = c.whm.call("GET", "/api/dns?limit=2&after=%d" % after, expect=200)
        assert len(page) <= 2
        if not page:
            break
        paged += page
        after = page[-1]["id"]
    assert paged == everything
    # A page keeps the full shape, record count included.
    first = c.whm.call("GET", "/api/dns?limit=1", expect=200)
    assert first == everything[:1]


def test_zone_list_searches_by_name_prefix_and_pages(shared_cluster, domain):
    c = shared_cluster
    names = ["alpha%d.%s" % (i, domain) for i in range(5)] + ["beta.%s" % domain]
    for n in names:
        c.create_zone_answer(n, wait=False)
    c.create_zone_answer("alpha-not-this.example", wait=False)
    want = [z for z in c.whm.call("GET", "/api/dns", expect=200)
            if z["domain"].startswith("alpha") and z["domain"].endswith("." + domain)]
    assert len(want) == 5
    # The prefix is the start of the name (lowercase A-labels, final dot).
    found = c.whm.call("GET", "/api/dns?q=ALPHA", expect=200)
    assert [z["domain"] for z in found if z["domain"].endswith("." + domain)] == \
        [z["domain"] for z in want]
    assert "alpha-not-this.example" in [z["domain"] for z in found]
    assert all(z["domain"].startswith("alpha") for z in found)
    assert c.whm.call("GET", "/api/dns?q=beta.%s" % domain, expect=200)[0]["domain"] == \
        "beta.%s" % domain
    assert c.whm.call("GET", "/api/dns?q=alpha0.%s." % domain, expect=200)[0]["domain"] == \
        "alpha0.%s" % domain
    assert c.whm.call("GET", "/api/dns?q=zz-nothing", expect=200) == []
    # Pages of a search, as of the whole list.
    paged, after = [], 0
    while True:
        page = c.whm.call("GET", "/api/dns?q=alpha&limit=2&after=%d" % after, expect=200)
        if not page:
            break
        assert len(page) <= 2 and all(z["domain"].startswith("alpha") for z in page)
        paged += page
        after = page[-1]["id"]
    assert paged == found


@pytest.mark.parametrize("query", ["q=", "q=b%C3%BCcher", "q=a%20b", "q=" + "a" * 300])
def test_zone_list_refuses_a_search_it_cannot_read(shared_cluster, query):
    r = shared_cluster.whm.get("/api/dns?" + query)
    assert r.status_code == 422, (query, r.status_code, r.text)
    assert "q must be" in r.json()["error"]


@pytest.mark.parametrize("query", [
    "limit=0", "limit=10001", "limit=-1", "limit=abc", "limit=", "limit=1e3",
    "after=-1", "after=x", "after=99999999999999999999", "limit=%00"])
def test_zone_list_refuses_bad_paging_arguments(shared_cluster, query):
    r = shared_cluster.whm.get("/api/dns?" + query)
    assert r.status_code == 422, (query, r.status_code, r.text)
    assert "error" in r.json()


def test_zone_soa_fields_are_set_shown_and_served_by_every_node(shared_cluster, domain):
    c = shared_cluster
    zone = domain + "."
    zid = c.create_zone(domain)
    before = c.whm.zone(zid)
    assert before["soa"]["own"] == [] and before["soa"]["mname"] == cl.harness.SOA_MNAME
    path = "/api/dns/%d" % zid

    answer = c.whm.call("PUT", path, {"soa": {"mname": "ns1." + domain,
                                              "rname": "dns@" + domain,
                                              "refresh": 7200, "minimum": 300}},
                        expect=200, params={"wait": "all"})

    assert answer["changed"] is True and answer["synced"] is True, answer
    assert answer["version"] == before["version"] + 1 and answer["serial"] > before["serial"]
    want = "ns1.%s dns.%s %d 7200 3600 604800 300" % (zone, zone, answer["serial"])
    assert dig_everywhere_once(c, zone, "SOA") == same_everywhere(c, [want])
    soa = c.whm.zone(zid)["soa"]
    assert sorted(soa["own"]) == ["minimum", "mname", "refresh", "rname"], soa
    assert (soa["retry"], soa["expire"], soa["serial"]) == (3600, 604800, answer["serial"])

    # The same values again: nothing changes, and the answer says so.
    again = c.whm.call("PUT", path, {"soa": {"refresh": 7200}}, expect=200)
    assert again["changed"] is False and "nothing changed" in again["message"], again
    assert c.whm.zone(zid)["version"] == answer["version"]
    # null gives a field back to the cluster.
    back = c.whm.call("PUT", path, {"soa": {"mname": None, "minimum": None}}, expect=200,
                      params={"wait": "all"})
    want = "%s dns.%s %d 7200 3600 604800 3600" % (cl.harness.SOA_MNAME, zone, back["serial"])
    assert dig_everywhere_once(c, zone, "SOA") == same_everywhere(c, [want])


@pytest.mark.parametrize("body,words", [
    ({"soa": {"refresh": 59}}, "soa.refresh"),
    ({"soa": {"minimum": 86401}}, "soa.minimum"),
    ({"soa": {"retry": 20000}}, "soa.retry"),
    ({"soa": {"expire": 7200}}, "soa.expire"),
    ({"soa": {"refresh": "2h"}}, "soa.refresh"),
    ({"soa": {"mname": "not a name"}}, "soa.mname"),
    ({"soa": {"rname": "a.b@example.org"}}, "soa.rname"),
    ({"soa": {"serial": 2099010100}}, "serial"),
    ({"soa": "ns1.example.org."}, "soa"),
    ({"domain": "other.example"}, "domain"),
    ({}, "soa"),
])
def test_bad_zone_soa_is_422_and_changes_nothing(shared_cluster, domain, body, words):
    c = shared_cluster
    zid = c.create_zone(domain)
    before = c.whm.zone(zid)

    r = c.whm.put("/api/dns/%d" % zid, body)

    assert r.status_code == 422, cl.describe(r)
    assert words in r.json()["error"], r.json()
    assert c.whm.zone(zid) == before


def test_zone_soa_needs_an_admin_token_and_a_live_zone(shared_cluster, domain):
    c = shared_cluster
    zid = c.create_zone(domain)
    body = {"soa": {"refresh": 7200}}
    r = c.whm.put("/api/dns/%d" % zid, body, token=c.whm.read_token)
    assert r.status_code == 403, cl.describe(r)
    c.delete_zone(zid)
    assert c.whm.put("/api/dns/%d" % zid, body).status_code == 404
    assert c.whm.put("/api/dns/999999", body).status_code == 404


def test_writers_of_one_zone_at_once_all_commit_each_its_own_version(cluster):
    """Eight clients adding records to one zone at once: each change is
    acknowledged (none refused as 'changing too fast'), has a version of
    its own, and is stored and served. Run on MariaDB too
    (test_whm_on_mariadb), whose transactions read without locks."""
    from concurrent.futures import ThreadPoolExecutor

    zid = cluster.create_zone("one-zone-writers.example")
    url = cluster.whm.url + "/api/dns/%d/records" % zid
    headers = {"Authorization": "Bearer " + cluster.whm.admin_token}

    def add(i):
        r = requests.post(url, json={"name": "w%d" % i, "type": "A",
                                     "content": "192.0.2.%d" % (i % 250 + 1)},
                          headers=headers, timeout=30)
        return r.status_code, r.text, r.json().get("version") if r.ok else None

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(add, range(240)))
    refused = [(s, t) for s, t, _ in answers if s != 201]
    assert refused == [], refused[:3]
    versions = [v for _, _, v in answers]
    assert len(set(versions)) == len(versions), "versions given twice"
    names = {r["name"] for r in cluster.whm.records(zid)}
    assert {"w%d" % i for i in range(240)} <= names
    cluster.wait_all_nodes("w239.one-zone-writers.example.", "A", ["192.0.2.240"])
    cluster.wait_converged()
