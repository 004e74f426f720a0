"""The controller verifies what every node serves by content, not by the
version a node was told: a node purged and joined again serves every zone
again, an edit or a delete made in a node's PowerDNS database behind its
agent is found and repaired without anyone asking, and a sync of a zone
reports success only for nodes that hold exactly what was committed.

What is served is checked with DNS queries to the nodes. PowerDNS caches
answers for 20 s; after editing its database behind the agent, the tests
purge PowerDNS's caches through its own API (as an expiring cache would), so
the wrong data is what PowerDNS would serve unless it is repaired."""

import os
import sqlite3

import pytest
import requests

import harness
from cluster import Cluster

VERIFY_INTERVAL = 1  # agent: seconds per background verification pass


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("verify"), n=3,
                node_config={"verify-interval": VERIFY_INTERVAL})
    yield c
    c.stop()


def behind_the_back(node, sql, *params):
    """Change the node's PowerDNS database directly, as an operator or a
    tool on the node would, then purge PowerDNS's caches through its API."""
    db = sqlite3.connect(os.path.join(node.data_dir, "pdns.sqlite3"), timeout=10)
    with db:
        db.execute(sql, params)
    db.close()
    flush_caches(node)


def flush_caches(node):
    with open(os.path.join(node.data_dir, "pdns-api-key")) as f:
        key = f.read().strip()
    r = requests.put("http://%s:%d/api/v1/servers/localhost/cache/flush" %
                     (node.address, node.pdns_api_port), params={"domain": "."},
                     headers={"X-API-Key": key}, timeout=5)
    assert r.status_code == 200, r.text


def agent_drift(node):
    """The agent's yumna_agent_drift_total."""
    for line in node.get("/metrics").text.splitlines():
        if line.startswith("yumna_agent_drift_total "):
            return float(line.split()[1])
    raise AssertionError("no yumna_agent_drift_total")


def node_digest(node, zone):
    r = node.zone(zone)
    return r.json()["digest"] if r.status_code == 200 else None


def digests(c, zone):
    return {n.name: node_digest(n, zone) for n in c.nodes}


def whm_metric(c, name, node):
    text = c.whm.get("/metrics").text
    for line in text.splitlines():
        if line.startswith(name + "{") and 'node="%s"' % node.name in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def test_a_node_purged_and_joined_again_serves_every_zone(cluster):
    zones = ["rejoin-%d.example." % i for i in range(30)]
    for i, z in enumerate(zones):
        zid = cluster.create_zone(z)
        cluster.add_record(zid, "www", "A", "192.0.2.%d" % (i + 1))
    ns3 = cluster.nodes[2]
    cluster.wait_all_nodes("www." + zones[-1], "A", ["192.0.2.30"])

    cluster.leave(ns3, purge=True)
    harness.wait_until(lambda: not any(z in ns3.zones() for z in zones), 10,
                       "the purge empties the node")
    assert ns3.rcode("www." + zones[0], "A") == "REFUSED"
    cluster.join(ns3)

    for i, z in enumerate(zones):
        harness.wait_until(lambda: ns3.dig("www." + z, "A") == ["192.0.2.%d" % (i + 1)], 15,
                           "node ns3 serves %s again" % z)
    # The node serves a zone before the controller records its answer.
    def caught_up():
        progress = cluster.whm.get("/api/dns/cluster/sync-all/%d" % ns3.server_id).json()
        return progress["behind"] == 0 or progress
    assert harness.wait_until(lambda: caught_up() is True, 5), \
        "the controller counts ns3 as caught up: %r" % (caught_up(),)
    want = digests(cluster, zones[5])
    assert len(set(want.values())) == 1, want


def test_a_record_changed_behind_the_agent_is_repaired(cluster):
    zone = "edited.example."
    zid = cluster.create_zone(zone)
    cluster.add_record(zid, "www", "A", "192.0.2.10")
    ns2 = cluster.nodes[1]
    before = whm_metric(cluster, "yumna_whm_node_drift_total", ns2) or 0

    behind_the_back(ns2, "UPDATE records SET content = '192.0.2.66' "
                         "WHERE name = 'www.edited.example' AND type = 'A'")

    harness.wait_until(lambda: ns2.dig("www." + zone, "A") == ["192.0.2.10"],
                       4 * VERIFY_INTERVAL + 8, "the edit on ns2 is repaired")
    harness.wait_until(lambda: len(set(digests(cluster, zone).values())) == 1, 5,
                       "every node holds the same content")
    # The controller counts the repair, and makes it an event, once the
    # agent answered the push it serves already.
    harness.wait_until(lambda: whm_metric(cluster, "yumna_whm_node_drift_total", ns2) > before,
                       5, "the controller counts ns2's drift")
    agent_metrics = ns2.get("/metrics").text
    assert "yumna_agent_drift_total 0" not in agent_metrics

    def drift_event():
        events = cluster.whm.get("/api/dns/cluster/events").json()
        drift = [e for e in events["events"]
                 if e["kind"] == "sync.drift" and e.get("zone") == zone]
        return bool(drift) and drift[-1]["node"] == ns2.name or events
    assert harness.wait_until(lambda: drift_event() is True, 5), \
        "a sync.drift event for ns2: %r" % (drift_event(),)


def test_a_zone_deleted_behind_the_agent_is_restored(cluster):
    zone = "vanished.example."
    zid = cluster.create_zone(zone)
    cluster.add_record(zid, "www", "A", "192.0.2.11")
    ns1 = cluster.nodes[0]

    behind_the_back(ns1, "DELETE FROM records WHERE domain_id = "
                         "(SELECT id FROM domains WHERE name = 'vanished.example')")
    behind_the_back(ns1, "DELETE FROM domains WHERE name = 'vanished.example'")

    harness.wait_until(lambda: ns1.dig("www." + zone, "A") == ["192.0.2.11"],
                       4 * VERIFY_INTERVAL + 8, "the zone deleted on ns1 is served again")
    assert len(set(digests(cluster, zone).values())) == 1


def test_a_database_restored_under_the_running_agent_is_brought_up_to_date(cluster, tmp_path):
    """PowerDNS's database copied back from an earlier copy while the agent
    runs: every zone in it matches its own recorded digest, so only the
    agent's tree tells what it lost; the node serves the committed data
    again without anyone asking."""
    zone = "restored-db.example."
    zid = cluster.create_zone(zone)
    rec = cluster.add_record(zid, "www", "A", "192.0.2.21")
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.21"])
    ns3 = cluster.nodes[2]
    path = os.path.join(ns3.data_dir, "pdns.sqlite3")
    copy = str(tmp_path / "pdns-copy.sqlite3")
    harness.sqlite_copy(path, copy)
    cluster.update_record(rec["id"], "www", "A", "192.0.2.22")
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.22"])

    harness.sqlite_copy(copy, path)
    flush_caches(ns3)
    assert ns3.dig("www." + zone, "A") == ["192.0.2.21"]

    # Found by a pass over every zone the module's cluster holds by now, and
    # repaired by a push: under the sanitizers' load (make check-asan beside
    # make check) that took over 12 s once.
    harness.wait_until(lambda: ns3.dig("www." + zone, "A") == ["192.0.2.22"], 30,
                       "the restored database on ns3 is brought up to date")
    assert len(set(digests(cluster, zone).values())) == 1


def test_keys_deleted_behind_the_agent_are_written_again(cluster):
    """A signed zone's keys deleted from a node's database (its records
    untouched): verification finds it, and the node serves the zone's one
    key set again; an unsigned zone given a key behind the agent loses it."""
    zone = "keys-gone.example."
    zid = cluster.create_zone(zone)
    cluster.add_record(zid, "www", "A", "192.0.2.31")
    cluster.whm.call("POST", "/api/dns/%d/dnssec" % zid, None, params={"wait": "all"},
                     expect=200)
    ns1, ns2 = cluster.nodes[0], cluster.nodes[1]
    keys = ns1.dig(zone, "DNSKEY")
    assert keys and ns2.dig(zone, "DNSKEY") == keys

    drift = agent_drift(ns2)
    behind_the_back(ns2, "DELETE FROM cryptokeys WHERE domain_id = "
                         "(SELECT id FROM domains WHERE name = 'keys-gone.example')")

    def served():
        flush_caches(ns2)
        return ns2.dig(zone, "DNSKEY") == keys

    def stored():
        # PowerDNS keeps keys in a cache of its own that a purge does not
        # empty: the answers may show them before they are written again
        db = sqlite3.connect(os.path.join(ns2.data_dir, "pdns.sqlite3"), timeout=10)
        n = db.execute("SELECT COUNT(*) FROM cryptokeys WHERE domain_id = (SELECT id FROM "
                       "domains WHERE name = 'keys-gone.example')").fetchone()[0]
        db.close()
        return n > 0
    harness.wait_until(lambda: agent_drift(ns2) > drift, 4 * VERIFY_INTERVAL + 8,
                       "the agent finds the keys gone")
    harness.wait_until(stored, 4 * VERIFY_INTERVAL + 8, "ns2's keys written again")
    harness.wait_until(served, 4 * VERIFY_INTERVAL + 8, "ns2 serves the zone's keys again")

    plain = "keys-added.example."
    pid = cluster.create_zone(plain)
    cluster.add_record(pid, "www", "A", "192.0.2.32")
    cluster.wait_all_nodes("www." + plain, "A", ["192.0.2.32"])
    db = sqlite3.connect(os.path.join(ns2.data_dir, "pdns.sqlite3"), timeout=10)
    with db:
        row = db.execute("SELECT flags, active, published, content FROM cryptokeys WHERE "
                         "domain_id = (SELECT id FROM domains WHERE name = "
                         "'keys-gone.example') LIMIT 1").fetchone()
        db.execute("INSERT INTO cryptokeys (domain_id, flags, active, published, content) "
                   "SELECT id, ?, ?, ?, ? FROM domains WHERE name = 'keys-added.example'", row)
    db.close()
    drift = agent_drift(ns2)
    flush_caches(ns2)

    def unsigned():
        flush_caches(ns2)
        return ns2.dig(plain, "DNSKEY") == []
    harness.wait_until(lambda: agent_drift(ns2) > drift, 4 * VERIFY_INTERVAL + 8,
                       "the agent finds the key added")
    harness.wait_until(unsigned, 4 * VERIFY_INTERVAL + 8,
                       "the key added behind the agent is gone")


def test_a_sync_of_a_zone_succeeds_only_where_the_node_holds_the_content(cluster):
    zone = "synced.example."
    zid = cluster.create_zone(zone)
    cluster.add_record(zid, "www", "A", "192.0.2.12")
    ns3 = cluster.nodes[2]
    good = node_digest(cluster.nodes[0], zone)
    behind_the_back(ns3, "UPDATE records SET ttl = 7 WHERE name = 'www.synced.example'")

    r = cluster.whm.post("/api/dns/cluster/sync/%d" % zid)

    assert r.status_code == 200, r.text
    results = {x["hostname"]: x for x in r.json()["results"]}
    assert all(x["success"] for x in results.values()), results
    # Success means verified: the node holds the committed content now.
    assert node_digest(ns3, zone) == good
    assert ns3.query("www." + zone, "A").answer[0].ttl != 7


def test_the_digest_is_the_same_on_every_node_and_changes_with_the_content(cluster):
    zone = "digest.example."
    zid = cluster.create_zone(zone)
    cluster.add_record(zid, "www", "A", "192.0.2.13")
    first = digests(cluster, zone)
    assert len(set(first.values())) == 1 and len(first["ns1"]) == 64, first

    cluster.add_record(zid, "www", "A", "192.0.2.14")

    second = digests(cluster, zone)
    assert len(set(second.values())) == 1, second
    assert second["ns1"] != first["ns1"]
    listed = cluster.nodes[0].zones()[zone]
    assert listed["digest"] == second["ns1"]


def test_a_powerdns_restart_by_an_agent_is_an_event_and_a_metric(cluster):
    ns1 = cluster.nodes[0]
    pid = ns1.pdns_pid()
    os.kill(pid, 9)

    def restarted():
        events = cluster.whm.get("/api/dns/cluster/events").json()["events"]
        return any(e["kind"] == "node.powerdns_restarted" and e.get("node") == ns1.name
                   for e in events)
    harness.wait_until(restarted, 15, "the controller reports the restart")
    # The health check stores the count after adding the event.
    harness.wait_until(lambda: whm_metric(cluster, "yumna_whm_node_powerdns_restarts", ns1) >= 1,
                       5, "the restart counted")
    assert ns1.pdns_pid() != pid


def test_another_soa_in_the_configuration_reaches_every_node(cluster):
    """Last in this module: it restarts the controller with another SOA
    rname. What every node holds at the zones' versions is then not what
    the store means by them; the controller raises the versions and every
    node serves the new SOA, without any change to the zones."""
    zone = "soa-moves.example."
    zid = cluster.create_zone(zone)
    before = cluster.whm.get("/api/dns/%d" % zid).json()
    version = (before.get("zone") or before)["version"]
    cluster.whm.extra_config["soa-rname"] = "dns-admin.yumna.test."
    cluster.whm.write_config()
    cluster.whm.restart()

    def new_soa_everywhere():
        for n in cluster.nodes:
            soa = n.dig(zone, "SOA")
            if not soa or soa[0].split()[1] != "dns-admin.yumna.test.":
                return soa
        return True
    assert harness.wait_until(lambda: new_soa_everywhere() is True, 30), \
        "every node serves the new SOA: %r" % (new_soa_everywhere(),)
    after = cluster.whm.get("/api/dns/%d" % zid).json()
    assert (after.get("zone") or after)["version"] > version
    harness.wait_until(lambda: len(set(digests(cluster, zone).values())) == 1, 10,
                       "every node holds the same content")
