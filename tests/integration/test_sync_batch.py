"""POST /api/dns/sync-batch: many zones at once, all or nothing when invalid."""

import os
import subprocess

import pytest

import harness
from harness import basic_records, rec, zone_payload


def batch(prefix, n, version=1, a="192.0.2.1"):
    return [zone_payload("%s%d.example." % (prefix, i), version, 1000 + i,
                         basic_records(a) + [rec("n%d" % i, "TXT", '"zone %d"' % i)])
            for i in range(n)]


@pytest.fixture(scope="module")
def batch_node(tmp_path_factory):
    node = harness.Node(tmp_path_factory.mktemp("batch_node"), name="batch",
                        config={"max-zones-per-batch": 500})
    try:
        yield node.start()
    finally:
        node.stop()


def test_batch_of_300_zones_is_served(batch_node):
    zones = batch("b300-", 300)

    r = batch_node.sync_batch(zones)

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True
    assert body["zones"] == 300
    assert body["applied"] == 300
    assert body["unchanged"] == 0
    assert body["records"] >= 300 * 4
    for i in range(300):
        z = "b300-%d.example." % i
        assert batch_node.dig("www." + z, "A") == ["192.0.2.1"], z
        assert batch_node.dig("n%d.%s" % (i, z), "TXT") == ['"zone %d"' % i], z
    listed = batch_node.zones()
    assert all(listed["b300-%d.example." % i]["version"] == 1 for i in range(300))
    assert all(listed["b300-%d.example." % i]["serial"] == 1000 + i for i in range(300))


def test_batch_again_with_same_versions_changes_nothing(batch_node):
    zones = batch("again-", 20)
    first = batch_node.sync_batch(zones).json()
    assert first["applied"] == 20

    r = batch_node.sync_batch(batch("again-", 20))

    assert r.status_code == 200, r.text
    assert r.json()["applied"] == 0
    assert r.json()["unchanged"] == 20
    assert r.json()["digests"] == first["digests"]
    assert r.json()["blocked"] == []
    assert batch_node.dig("www.again-7.example.", "A") == ["192.0.2.1"]


def test_batch_at_the_same_versions_with_other_content_changes_nothing(batch_node):
    """Same versions, other content, while the node holds what it applied:
    conflicting duplicates, kept out and listed as blocked at their version
    (a controller raises the zones' versions); the digests say what the
    node holds."""
    first = batch_node.sync_batch(batch("conflict-", 5)).json()

    r = batch_node.sync_batch(batch("conflict-", 5, a="192.0.2.99"))

    assert r.status_code == 200, r.text
    assert r.json()["applied"] == 0
    assert r.json()["digests"] == first["digests"]
    assert sorted(b["zone"] for b in r.json()["blocked"]) == sorted(first["digests"])
    assert all(b["version"] == 1 and b["deleted"] is False for b in r.json()["blocked"])
    assert batch_node.dig("www.conflict-3.example.", "A") == ["192.0.2.1"]


def test_batch_reports_zones_a_newer_version_keeps_out(batch_node):
    batch_node.sync_batch(batch("newer-", 3))
    batch_node.push_ok("newer-1.example.", 9, 9, basic_records("192.0.2.9"))

    r = batch_node.sync_batch(batch("newer-", 3, version=2, a="192.0.2.50"))

    assert r.status_code == 200, r.text
    assert r.json()["blocked"] == [{"zone": "newer-1.example.", "version": 9, "deleted": False}]
    assert batch_node.dig("www.newer-1.example.", "A") == ["192.0.2.9"]
    assert batch_node.dig("www.newer-2.example.", "A") == ["192.0.2.50"]


def test_batch_updates_zones_immediately(batch_node):
    batch_node.sync_batch(batch("upd-", 10))
    assert batch_node.dig("www.upd-3.example.", "A") == ["192.0.2.1"]

    r = batch_node.sync_batch(batch("upd-", 10, version=2, a="192.0.2.2"))

    assert r.status_code == 200 and r.json()["applied"] == 10, r.text
    for i in range(10):
        assert batch_node.dig("www.upd-%d.example." % i, "A") == ["192.0.2.2"]


def test_batch_with_one_invalid_zone_applies_nothing(batch_node):
    batch_node.sync_batch(batch("partial-", 3))  # exists before, at version 1
    zones = batch("partial-", 30, version=2, a="192.0.2.2")
    zones[17]["records"].append(rec("bad", "A", "010.1.1.1"))
    before = batch_node.get("/api/dns/zones").content

    r = batch_node.sync_batch(zones)

    assert r.status_code == 422, r.text
    body = r.json()
    assert "zones[17]" in body["error"]
    assert "partial-17.example." in body["error"]
    assert isinstance(body["errors"], list) and body["errors"]
    assert batch_node.get("/api/dns/zones").content == before
    for i in range(3):
        assert batch_node.dig("www.partial-%d.example." % i, "A") == ["192.0.2.1"]
    for i in range(3, 30):
        assert batch_node.rcode("www.partial-%d.example." % i, "A") == "REFUSED"


def test_batch_with_the_same_zone_twice_is_refused(batch_node):
    zones = batch("dup-", 5)
    zones.append(zone_payload("DUP-2.example", 2, 1, basic_records()))

    r = batch_node.sync_batch(zones)

    assert r.status_code == 422, r.text
    assert "error" in r.json()
    for i in range(5):
        assert batch_node.rcode("www.dup-%d.example." % i, "A") == "REFUSED"


def test_batch_over_the_zone_cap_is_refused(batch_node):
    r = batch_node.sync_batch(batch("cap-", 501))

    assert r.status_code == 413, r.text
    assert "error" in r.json()
    assert batch_node.rcode("www.cap-0.example.", "A") == "REFUSED"


def test_batch_of_stale_and_new_zones_applies_only_the_new(batch_node):
    batch_node.sync_batch(batch("mix-", 4, version=5))
    zones = batch("mix-", 4, version=4, a="192.0.2.4") + batch("mixnew-", 2)

    r = batch_node.sync_batch(zones)

    assert r.status_code == 200, r.text
    assert r.json()["applied"] == 2
    assert r.json()["unchanged"] == 4
    assert batch_node.dig("www.mix-0.example.", "A") == ["192.0.2.1"]
    assert batch_node.dig("www.mixnew-1.example.", "A") == ["192.0.2.1"]


def test_empty_batch_is_a_no_op(batch_node):
    r = batch_node.sync_batch([])

    assert r.status_code == 200, r.text
    assert r.json()["zones"] == 0


@pytest.mark.parametrize("body", [[], {"zone": []}, {"zones": {}}, {"zones": None},
                                  {"zones": [], "extra": 1}, {"zones": [5]},
                                  {"zones ": []}, {" zones": []}, {"zo nes": []}],
                         ids=["list", "no-zones", "zones-object", "zones-null", "unknown-field",
                              "zone-not-object", "space-after-key", "space-before-key",
                              "space-inside-key"])
def test_batch_body_must_be_an_object_with_zones(batch_node, body):
    r = batch_node.post("/api/dns/sync-batch", body)

    assert r.status_code == 422, r.text  # well-formed JSON, invalid content
    assert "error" in r.json()


def test_a_batch_on_a_full_disk_is_507_and_changes_nothing(tmp_path):
    """data-dir on a small tmpfs filled up: a batch is refused as a single
    push is, 507 naming the full disk (it was a 500 blaming zones[0]), and
    applies once there is room."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)")
    node = harness.Node(str(mnt / "n"))
    try:
        node.start()
        zone = "full.example."
        node.push_ok(zone, 1, 1, basic_records())
        big = basic_records() + [rec("h%d" % i, "TXT", '"%d-%s"' % (i, "x" * 200))
                                 for i in range(3000)]
        with open(mnt / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        r = node.sync_batch([zone_payload(zone, 2, 2, big),
                             zone_payload("other.example.", 1, 1, basic_records())])
        assert r.status_code == 507 and "no space left" in r.json()["error"], r.text
        assert node.zone(zone).json()["version"] == 1
        assert node.dig("h1." + zone, "TXT") == []
        os.unlink(mnt / "filler")
        r = node.sync_batch([zone_payload(zone, 2, 2, big),
                             zone_payload("other.example.", 1, 1, basic_records())])
        assert r.status_code == 200, r.text
        assert node.zone(zone).json()["version"] == 2
    finally:
        node.stop()
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
