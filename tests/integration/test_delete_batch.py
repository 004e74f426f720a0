"""POST /api/dns/delete-batch: many zones deleted in one request, each as
DELETE /api/dns/zones/:zone?version=N, checked whole before anything
changes."""

import os
import sqlite3

import pytest

import harness
from harness import basic_records, rec, zone_payload


def zones(prefix, n, version=1):
    return [zone_payload("%s%d.example." % (prefix, i), version, 1000 + i,
                         basic_records() + [rec("n%d" % i, "TXT", '"zone %d"' % i)])
            for i in range(n)]


def asks(prefix, n, version):
    return [{"zone": "%s%d.example." % (prefix, i), "version": version} for i in range(n)]


def tombstones(node):
    r = node.get("/api/dns/zones")
    r.raise_for_status()
    return {t["zone"]: t["version"] for t in r.json()["tombstones"]}


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n = harness.Node(tmp_path_factory.mktemp("delete_batch"), name="delbatch",
                     config={"max-zones-per-batch": 1200})
    try:
        yield n.start()
    finally:
        n.stop()


def test_a_delete_batch_removes_every_zone_and_leaves_tombstones(node):
    """More zones than one transaction holds (500): the zones of every
    transaction are gone, none still answered from PowerDNS's cache (a
    zone of the first and one of the last were asked before)."""
    assert node.sync_batch(zones("mass-", 1100)).json()["applied"] == 1100
    assert node.dig("www.mass-0.example.", "A") == ["192.0.2.1"]
    assert node.dig("www.mass-1099.example.", "A") == ["192.0.2.1"]

    r = node.post("/api/dns/delete-batch", {"zones": asks("mass-", 1100, 2)})

    assert r.status_code == 200, r.text
    assert r.json() == {"success": True, "zones": 1100, "deleted": 1100, "kept": []}
    for i in (0, 499, 500, 999, 1000, 1099):
        assert node.rcode("www.mass-%d.example." % i, "A") == "REFUSED", i
    held = node.zones()
    assert not [z for z in held if z.startswith("mass-")]
    stones = tombstones(node)
    assert all(stones["mass-%d.example." % i] == 2 for i in range(1100))
    assert node.get("/health").json()["zones"] == len(held)


def test_a_delete_batch_again_changes_nothing(node):
    node.sync_batch(zones("twice-", 3))
    assert node.post("/api/dns/delete-batch",
                     {"zones": asks("twice-", 3, 2)}).json()["deleted"] == 3

    r = node.post("/api/dns/delete-batch", {"zones": asks("twice-", 3, 2)})

    assert r.status_code == 200, r.text
    assert r.json()["deleted"] == 0 and r.json()["kept"] == []


def test_a_zone_served_at_a_newer_version_is_kept_and_said_so(node):
    node.sync_batch(zones("kept-", 3))
    node.push_ok("kept-1.example.", 9, 9, basic_records("192.0.2.9"))

    r = node.post("/api/dns/delete-batch", {"zones": asks("kept-", 3, 5)})

    assert r.status_code == 200, r.text
    assert r.json()["deleted"] == 2
    assert r.json()["kept"] == [{"zone": "kept-1.example.", "version": 9}]
    assert node.dig("www.kept-1.example.", "A") == ["192.0.2.9"]
    assert node.rcode("www.kept-0.example.", "A") == "REFUSED"


def test_a_delayed_older_push_does_not_bring_a_deleted_zone_back(node):
    node.sync_batch(zones("late-", 2))
    node.post("/api/dns/delete-batch", {"zones": asks("late-", 2, 4)})

    r = node.sync_batch(zones("late-", 2, version=3))

    assert r.status_code == 200, r.text
    assert r.json()["applied"] == 0
    assert {b["zone"]: (b["version"], b["deleted"]) for b in r.json()["blocked"]} == {
        "late-0.example.": (4, True), "late-1.example.": (4, True)}
    assert node.rcode("www.late-0.example.", "A") == "REFUSED"
    assert node.sync_batch(zones("late-", 2, version=5)).json()["applied"] == 2
    assert node.dig("www.late-1.example.", "A") == ["192.0.2.1"]


def dirty(node, zones):
    """The zones among 'zones' whose state row the agent marks as not yet
    published to PowerDNS (a flush would publish each one by one)."""
    db = sqlite3.connect(os.path.join(node.data_dir, "pdns.sqlite3"), timeout=10)
    try:
        rows = db.execute("SELECT zone FROM yumna_zone_state WHERE dirty = 1").fetchall()
    finally:
        db.close()
    return sorted(z for (z,) in rows if z in zones)


def test_zones_the_node_never_held_leave_tombstones(node):
    r = node.post("/api/dns/delete-batch", {"zones": asks("never-", 2, 7)})

    assert r.status_code == 200, r.text
    assert r.json()["deleted"] == 0
    assert tombstones(node)["never-1.example."] == 7
    # Nothing was served, so nothing waits for a purge.
    assert dirty(node, {"never-0.example.", "never-1.example."}) == []
    assert node.push("never-1.example.", 6, 6, basic_records()).json()["applied"] is False


def test_a_delete_without_a_version_keeps_what_was_applied_for_its_return(node):
    """As DELETE without ?version (a stray zone, a purge): the zone goes,
    and a push of the very version the node held brings it back."""
    node.sync_batch(zones("nover-", 2, version=3))

    r = node.post("/api/dns/delete-batch", {"zones": [{"zone": "nover-0.example."},
                                                      {"zone": "nover-1.example."}]})

    assert r.status_code == 200, r.text
    assert r.json()["deleted"] == 2
    assert node.rcode("www.nover-0.example.", "A") == "REFUSED"
    assert tombstones(node)["nover-0.example."] == 3
    assert node.sync_batch(zones("nover-", 2, version=3)).json()["applied"] == 2
    assert node.dig("www.nover-1.example.", "A") == ["192.0.2.1"]


BAD = [
    ([], 422, "list"),
    ({}, 422, "no-zones"),
    ({"zones": []}, 422, "empty"),
    ({"zones": None}, 422, "zones-null"),
    ({"zones": {}}, 422, "zones-object"),
    ({"zones": [{"zone": "bad-0.example.", "version": 2}], "extra": 1}, 422, "unknown-field"),
    ({"zones": ["bad-0.example."]}, 422, "zone-not-object"),
    ({"zones": [{"zone": "bad-0.example.", "version": None}]}, 422, "version-null"),
    ({"zones": [{"zone": "bad-0.example.", "version": 0}]}, 422, "version-0"),
    ({"zones": [{"zone": "bad-0.example.", "version": -1}]}, 422, "version-negative"),
    ({"zones": [{"zone": "bad-0.example.", "version": "2"}]}, 422, "version-string"),
    ({"zones": [{"zone": "bad-0.example.", "version": 1.5}]}, 422, "version-float"),
    # Beyond int64: jansson's parse refuses it, as every body of the agent's.
    ({"zones": [{"zone": "bad-0.example.", "version": 2 ** 63}]}, 400, "version-too-big"),
    ({"zones": [{"version": 2}]}, 422, "no-zone"),
    ({"zones": [{"zone": 5, "version": 2}]}, 422, "zone-number"),
    ({"zones": [{"zone": "bad..example.", "version": 2}]}, 422, "empty-label"),
    ({"zones": [{"zone": "a" * 64 + ".example.", "version": 2}]}, 422, "label-too-long"),
    ({"zones": [{"zone": "bad-0.example.", "version": 2, "deleted": True}]}, 422, "zone-field"),
]


@pytest.mark.parametrize("body,status", [(b, s) for b, s, _ in BAD], ids=[i for _, _, i in BAD])
def test_a_bad_delete_batch_is_refused_and_changes_nothing(node, body, status):
    node.sync_batch(zones("bad-", 2))
    # A good zone beside the bad one: nothing of the request is applied.
    if isinstance(body, dict) and isinstance(body.get("zones"), list) and body["zones"]:
        body = {**body, "zones": [{"zone": "bad-1.example.", "version": 2}] + body["zones"]}
    before = node.get("/api/dns/zones").content

    r = node.post("/api/dns/delete-batch", body)

    assert r.status_code == status, r.text
    assert r.json()["error"]
    assert node.get("/api/dns/zones").content == before
    assert node.dig("www.bad-0.example.", "A") == ["192.0.2.1"]
    assert node.dig("www.bad-1.example.", "A") == ["192.0.2.1"]


def test_a_delete_batch_naming_a_zone_twice_is_refused(node):
    node.sync_batch(zones("dup-", 2))

    r = node.post("/api/dns/delete-batch", {"zones": asks("dup-", 2, 2) + [
        {"zone": "DUP-1.example", "version": 3}]})

    assert r.status_code == 422, r.text
    assert "dup-1.example." in r.json()["error"]
    assert node.dig("www.dup-0.example.", "A") == ["192.0.2.1"]


def test_a_delete_batch_over_the_zone_cap_is_refused(node):
    node.sync_batch(zones("cap-", 1))

    r = node.post("/api/dns/delete-batch", {"zones": asks("cap-", 1201, 2)})

    assert r.status_code == 413, r.text
    assert node.dig("www.cap-0.example.", "A") == ["192.0.2.1"]


def test_malformed_json_and_a_wrong_secret_are_refused(node):
    node.sync_batch(zones("auth-", 1))
    body = {"zones": asks("auth-", 1, 2)}

    assert node.request("POST", "/api/dns/delete-batch", data=b'{"zones": [').status_code == 400
    assert node.post("/api/dns/delete-batch", body, auth=False).status_code == 401
    assert node.request("GET", "/api/dns/delete-batch").status_code == 405
    assert node.dig("www.auth-0.example.", "A") == ["192.0.2.1"]
