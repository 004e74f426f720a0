"""Push, update, delete and versioning of single zones (POST /api/dns/sync-zone,
DELETE /api/dns/zones/:z, GET /api/dns/zones[/:z])."""

import random
import threading

import requests

from harness import basic_records, rec, zone_payload


def served(node, zone):
    """What a client sees: GET /api/dns/zones/:z (status, body) and two digs."""
    r = node.zone(zone)
    return (r.status_code, r.content, node.dig(zone, "SOA"), node.dig("www." + zone, "A"))


def is_sorted(records):
    """Sorted by name (text order or DNS canonical order), then type."""
    text = sorted(records, key=lambda t: (t[0], t[1]))
    canonical = sorted(records, key=lambda t: (list(reversed(t[0].lower().split("."))), t[1]))
    keys = [(t[0], t[1]) for t in records]
    return keys in ([(t[0], t[1]) for t in text], [(t[0], t[1]) for t in canonical])


def test_pushed_zone_is_served_immediately(shared_node, zone_name):
    # Ask first, so nothing a cache kept about the missing zone may linger.
    assert shared_node.rcode("www." + zone_name, "A") == "REFUSED"

    r = shared_node.push(zone_name, 1, 2026010101, basic_records("192.0.2.10"))

    assert r.status_code == 200, r.text
    # Exactly one query, right after the 200: no sleep, no retry.
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.10"]


def test_push_answer_reports_the_applied_zone(shared_node, zone_name):
    r = shared_node.push(zone_name.rstrip("."), 3, 2026010103, basic_records())

    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["success"] is True
    assert body["applied"] is True
    assert body["zone"] == zone_name
    assert body["version"] == 3
    assert body["serial"] == 2026010103
    assert body["recordCount"] >= 3
    assert isinstance(body["domainId"], int)
    assert isinstance(body["message"], str)


def test_zone_name_may_come_as_zone_name_field(shared_node, zone_name):
    r = shared_node.post("/api/dns/sync-zone", {
        "zone": {"name": zone_name, "version": 1, "serial": 7},
        "records": basic_records("192.0.2.77")})

    assert r.status_code == 200, r.text
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.77"]


def test_updated_record_is_served_immediately(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, basic_records("192.0.2.1"))
    # Warm every cache PowerDNS has with the old answer.
    for _ in range(3):
        assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.1"]

    r = shared_node.push(zone_name, 2, 2, basic_records("192.0.2.2"))

    assert r.status_code == 200 and r.json()["applied"] is True, r.text
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.2"]


def test_added_name_is_served_immediately_despite_cached_nxdomain(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, basic_records())
    for _ in range(3):
        assert shared_node.rcode("new." + zone_name, "A") == "NXDOMAIN"

    shared_node.push_ok(zone_name, 2, 2, basic_records() + [rec("new", "A", "192.0.2.99")])

    assert shared_node.dig("new." + zone_name, "A") == ["192.0.2.99"]


def test_removed_record_is_gone_immediately(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, basic_records() + [rec("old", "A", "192.0.2.50")])
    assert shared_node.dig("old." + zone_name, "A") == ["192.0.2.50"]

    shared_node.push_ok(zone_name, 2, 2, basic_records())

    assert shared_node.rcode("old." + zone_name, "A") == "NXDOMAIN"


def test_deleted_zone_is_not_served(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, basic_records())
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.1"]

    r = shared_node.delete_zone(zone_name)

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["deleted"] is True
    assert body["zone"] == zone_name
    assert shared_node.rcode("www." + zone_name, "A") == "REFUSED"
    assert shared_node.rcode(zone_name, "SOA") == "REFUSED"
    r = shared_node.zone(zone_name)
    assert r.status_code == 404
    assert "error" in r.json()
    assert zone_name not in shared_node.zones()


def test_delete_is_idempotent(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, basic_records())
    assert shared_node.delete_zone(zone_name).json()["deleted"] is True

    r = shared_node.delete_zone(zone_name)

    assert r.status_code == 200, r.text
    assert r.json()["success"] is True
    assert r.json()["deleted"] is False
    assert shared_node.rcode("www." + zone_name, "A") == "REFUSED"


def test_delete_of_a_zone_never_seen_answers_200_not_deleted(shared_node, zone_name):
    r = shared_node.delete_zone(zone_name)

    assert r.status_code == 200, r.text
    assert r.json()["deleted"] is False


def test_push_with_same_version_changes_nothing(shared_node, zone_name):
    shared_node.push_ok(zone_name, 5, 500, basic_records("192.0.2.5"))
    before = served(shared_node, zone_name)

    r = shared_node.push(zone_name, 5, 500, basic_records("192.0.2.5"))

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True
    assert body["applied"] is False
    assert body["version"] == 5
    assert body["serial"] == 500
    assert "not newer" in body["message"]
    assert body["digest"] == shared_node.zone(zone_name).json()["digest"]
    assert served(shared_node, zone_name) == before
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.5"]


def test_push_with_same_version_and_other_content_changes_nothing(shared_node, zone_name):
    """A conflicting duplicate: the node still holds what it applied, so it
    keeps it and says what it holds (a controller then sees the mismatch)."""
    shared_node.push_ok(zone_name, 5, 500, basic_records("192.0.2.5"))
    first = shared_node.zone(zone_name).json()["digest"]

    r = shared_node.push(zone_name, 5, 500, basic_records("192.0.2.6"))

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["applied"] is False
    assert body["version"] == 5
    assert body["digest"] == first
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.5"]


def test_push_with_older_version_changes_nothing(shared_node, zone_name):
    shared_node.push_ok(zone_name, 5, 500, basic_records("192.0.2.5"))
    before = served(shared_node, zone_name)

    r = shared_node.push(zone_name, 4, 400, basic_records("192.0.2.4"))

    assert r.status_code == 200, r.text
    assert r.json()["applied"] is False
    assert r.json()["version"] == 5
    assert served(shared_node, zone_name) == before


def test_tombstone_stops_an_older_push_from_resurrecting_a_deleted_zone(shared_node, zone_name):
    shared_node.push_ok(zone_name, 3, 3, basic_records())
    assert shared_node.delete_zone(zone_name, version=5).json()["deleted"] is True

    r = shared_node.push(zone_name, 4, 4, basic_records())

    assert r.status_code == 200, r.text
    assert r.json()["applied"] is False
    assert shared_node.rcode("www." + zone_name, "A") == "REFUSED"
    assert shared_node.zone(zone_name).status_code == 404
    listing = shared_node.get("/api/dns/zones").json()
    tombstones = {t["zone"]: t["version"] for t in listing["tombstones"]}
    assert tombstones[zone_name] == 5


def test_tombstone_without_version_keeps_the_last_applied_version(shared_node, zone_name):
    shared_node.push_ok(zone_name, 7, 7, basic_records())
    shared_node.delete_zone(zone_name)

    r = shared_node.push(zone_name, 6, 6, basic_records())

    assert r.json()["applied"] is False, r.text
    assert r.json()["deleted"] is True, r.text
    assert shared_node.rcode("www." + zone_name, "A") == "REFUSED"
    tombstones = {t["zone"]: t["version"] for t in shared_node.get("/api/dns/zones").json()["tombstones"]}
    assert tombstones[zone_name] == 7


def test_a_delete_without_version_does_not_block_the_version_it_removed(shared_node, zone_name):
    """A node's purge deletes without a version: the controller's push of
    the version the node held brings the zone back (a tombstone never makes
    a node skip a zone the controller says it must serve)."""
    shared_node.push_ok(zone_name, 7, 7, basic_records("192.0.2.7"))
    shared_node.delete_zone(zone_name)
    assert shared_node.rcode("www." + zone_name, "A") == "REFUSED"

    r = shared_node.push(zone_name, 7, 7, basic_records("192.0.2.7"))

    assert r.json()["applied"] is True, r.text
    assert r.json()["digest"] == shared_node.zone(zone_name).json()["digest"]
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.7"]


def test_newer_version_after_delete_recreates_the_zone(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, basic_records("192.0.2.1"))
    shared_node.delete_zone(zone_name, version=2)

    r = shared_node.push(zone_name, 3, 3, basic_records("192.0.2.3"))

    assert r.status_code == 200 and r.json()["applied"] is True, r.text
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.3"]
    assert shared_node.zones()[zone_name]["version"] == 3
    tombstones = [t["zone"] for t in shared_node.get("/api/dns/zones").json()["tombstones"]]
    assert zone_name not in tombstones


def test_delete_with_older_version_leaves_a_newer_zone_alone(shared_node, zone_name):
    shared_node.push_ok(zone_name, 9, 9, basic_records())

    r = shared_node.delete_zone(zone_name, version=8)

    assert r.status_code == 200, r.text
    assert r.json()["deleted"] is False
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.1"]
    assert shared_node.zones()[zone_name]["version"] == 9


def test_zone_list_shows_applied_versions_and_serials(shared_node, zone_name):
    a, b = "a-" + zone_name, "b-" + zone_name
    shared_node.push_ok(a, 11, 2026010111, basic_records())
    shared_node.push_ok(b, 12, 4294967295, basic_records())
    shared_node.push(b, 10, 1, basic_records())  # stale: must not show up

    r = shared_node.get("/api/dns/zones")

    assert r.status_code == 200
    body = r.json()
    assert isinstance(body["tombstones"], list)
    zones = {z["zone"]: z for z in body["zones"]}
    for z in (a, b):
        assert zones[z]["digest"] == shared_node.zone(z).json()["digest"]
        assert len(zones[z].pop("digest")) == 64
    assert zones[a] == {"zone": a, "version": 11, "serial": 2026010111}
    assert zones[b] == {"zone": b, "version": 12, "serial": 4294967295}


def test_zone_detail_lists_the_served_records_sorted(shared_node, zone_name):
    records = [
        rec("www", "A", "192.0.2.2", ttl=300),
        rec("@", "MX", "mail." + zone_name, ttl=3600, priority=10),
        rec("@", "NS", "ns1.example.net.", ttl=3600),
        rec("mail", "A", "192.0.2.25", ttl=300),
        rec("@", "A", "192.0.2.1", ttl=300),
        rec("www", "A", "192.0.2.1", ttl=300),
    ]
    shared_node.push_ok(zone_name, 4, 2026010104, records)

    r = shared_node.zone(zone_name)

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["zone"] == zone_name
    assert body["version"] == 4
    assert body["serial"] == 2026010104
    assert body["kind"] == "NATIVE"
    assert body["dnssec"] is False
    got = [(x["name"], x["type"], x["ttl"], x["content"]) for x in body["records"]]
    assert is_sorted(got)
    without_soa = [g for g in got if g[1] != "SOA"]
    assert sorted(without_soa) == sorted([
        (zone_name, "A", 300, "192.0.2.1"),
        (zone_name, "MX", 3600, "10 mail." + zone_name),
        (zone_name, "NS", 3600, "ns1.example.net."),
        ("mail." + zone_name, "A", 300, "192.0.2.25"),
        ("www." + zone_name, "A", 300, "192.0.2.1"),
        ("www." + zone_name, "A", 300, "192.0.2.2"),
    ])
    assert [g[1] for g in got].count("SOA") == 1


def test_unknown_zone_detail_is_404(shared_node, zone_name):
    r = shared_node.zone(zone_name)

    assert r.status_code == 404
    assert isinstance(r.json()["error"], str)


def test_zone_names_are_case_insensitive(shared_node, zone_name):
    shared_node.push_ok(zone_name.upper(), 1, 1, basic_records("192.0.2.8"))

    r = shared_node.push(zone_name, 1, 1, basic_records("192.0.2.8"))

    assert r.json()["applied"] is False, r.text
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.8"]
    assert zone_name in shared_node.zones()


def test_version_and_serial_limits_are_accepted(shared_node, zone_name):
    r = shared_node.push(zone_name, 2**63 - 1, 2**32 - 1, basic_records())

    assert r.status_code == 200 and r.json()["applied"] is True, r.text
    listed = shared_node.zones()[zone_name]
    assert (listed["version"], listed["serial"]) == (2**63 - 1, 2**32 - 1)
    assert shared_node.dig(zone_name, "SOA")[0].split()[2] == str(2**32 - 1)


def test_original_panel_fields_are_accepted_and_ignored(shared_node, zone_name):
    fields = {"id": 12, "userId": 3, "serverId": 1, "createdAt": "2024-01-01T00:00:00Z",
              "cloudflare_zone_id": None, "dnssec_enabled": False, "dnssec_ds_record": None,
              "dnssec_dnskey": None, "is_locked": False, "allowed_ips": None,
              "webhook_url": None, "anycast_enabled": False, "records": []}
    records = [dict(r, id=i, zoneId=12, createdAt="2024-01-01T00:00:00Z", is_locked=False,
                    status="active") for i, r in enumerate(basic_records("192.0.2.12"))]

    doc = zone_payload(zone_name, 1, 1, records)
    doc["zone"].update(fields)
    r = shared_node.post("/api/dns/sync-zone", doc)

    assert r.status_code == 200, r.text
    assert shared_node.dig("www." + zone_name, "A") == ["192.0.2.12"]


def test_concurrent_pushes_end_at_the_highest_version(shared_node, zone_name):
    versions = list(range(1, 31))
    random.Random(7).shuffle(versions)
    results = {}

    def push(v):
        # Plain requests.post: a requests.Session is not meant to be shared by threads.
        r = requests.post(shared_node.url + "/api/dns/sync-zone",
                          json=zone_payload(zone_name, v, v, basic_records("10.0.0.%d" % v)),
                          headers=shared_node.headers(), timeout=30)
        results[v] = r

    threads = [threading.Thread(target=push, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert all(r.status_code == 200 for r in results.values()), \
        [(v, r.status_code, r.text) for v, r in results.items() if r.status_code != 200]
    assert results[30].json()["applied"] is True
    assert shared_node.zones()[zone_name]["version"] == 30
    assert shared_node.dig("www." + zone_name, "A") == ["10.0.0.30"]
    assert shared_node.dig(zone_name, "SOA")[0].split()[2] == "30"


def stored_rows(node, zone):
    """PowerDNS's rows of 'zone' in the node's gsqlite3 database, without
    their ids: what a push must leave, however it got there."""
    import os
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(node.data_dir, "pdns.sqlite3"),
                         uri=True)
    try:
        return sorted(db.execute(
            "SELECT r.name, r.type, r.content, r.ttl, r.prio, r.auth, r.disabled FROM records r "
            "JOIN domains d ON d.id = r.domain_id WHERE d.name = ?", (zone.rstrip("."),)),
            key=repr)
    finally:
        db.close()


def test_a_replaced_zone_has_the_rows_of_a_zone_written_whole(node_factory, zone_name):
    """The agent rewrites only the rows that changed. After each step of a
    series of changes (a TTL, a priority, a delegation that turns records
    into glue, empty non-terminals that come and go, a record removed) the
    node holds exactly the rows of the same zone written once on a node
    that never held it, and answers for it."""
    a, b = node_factory(), node_factory()
    steps = [
        basic_records("192.0.2.1") + [rec("@", "MX", "mail." + zone_name, ttl=300, priority=10)],
        basic_records("192.0.2.1") + [rec("@", "MX", "mail." + zone_name, ttl=600, priority=20)],
        basic_records("192.0.2.2") + [rec("a.b.c", "TXT", '"deep"', ttl=60),
                                      rec("sub", "NS", "ns.sub." + zone_name, ttl=60),
                                      rec("ns.sub", "A", "192.0.2.53", ttl=60)],
        basic_records("192.0.2.2") + [rec("x.a.b.c", "TXT", '"deeper"', ttl=60),
                                      rec("sub", "NS", "ns.sub." + zone_name, ttl=60),
                                      rec("ns.sub", "A", "192.0.2.53", ttl=120)],
        basic_records("192.0.2.3"),
    ]
    for version, records in enumerate(steps, start=1):
        a.push_ok(zone_name, version, 2026010100 + version, records)
        # Written whole: deleted first, then pushed at a version above the delete.
        assert b.delete_zone(zone_name, version=100 * version).status_code == 200
        b.push_ok(zone_name, 100 * version + 1, 2026010100 + version, records)
        assert stored_rows(a, zone_name) == stored_rows(b, zone_name), "step %d" % version
        assert a.dig("www." + zone_name, "A") == b.dig("www." + zone_name, "A")
        assert a.rcode("b.c." + zone_name, "TXT") == b.rcode("b.c." + zone_name, "TXT")
    assert a.dig("www." + zone_name, "A") == ["192.0.2.3"]
    assert a.rcode("a.b.c." + zone_name, "TXT") == "NXDOMAIN"
