"""Zone history, diff, rollback and the audit log, on a real cluster whose
controller keeps its store in SQLite and, for every test again, in a real
MariaDB server (tests/integration/mariadb.py): every version is listed with
who made it and what it was, the records at a version and the RRsets two
versions differ in are served, a rollback is a new version that every node
serves, the audit log holds zone, token and server actions with filters and
paging, and the retention keeps the newest versions."""

import json
import re
import time

import pytest

import cluster as cl
import mariadb

pytest_plugins = ["cluster_fixtures"]

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
KEEP = 20
CONFIG = {"history-keep-versions": KEEP, "history-keep-days": 0, "history-prune-interval": 1}


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def store(request, tmp_path_factory):
    """None for SQLite; a running MariaDB server otherwise."""
    if request.param == "sqlite":
        yield None
        return
    server = mariadb.MariaDB(tmp_path_factory.mktemp("mariadb"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hc(store, tmp_path_factory):
    """A three-node cluster whose controller keeps KEEP versions per zone
    and prunes every second."""
    from cluster_fixtures import ClusterFactory
    from test_whm_on_mariadb import mariadb_cluster_factory

    base = tmp_path_factory.mktemp("history")
    f = ClusterFactory(base) if store is None else mariadb_cluster_factory(base, store)
    try:
        yield f(whm_config=dict(CONFIG))
    finally:
        f.close()


def versions(c, zid, **params):
    return c.whm.call("GET", "/api/dns/%d/versions" % zid, params=params, expect=200)


def audit(c, **params):
    return c.whm.call("GET", "/api/dns/audit", params=params, expect=200)["entries"]


def error(r, status):
    assert r.status_code == status, cl.describe(r)
    assert isinstance(r.json().get("error"), str) and r.json()["error"], cl.describe(r)
    return r.json()["error"]


def test_every_change_is_a_version_with_its_actor_and_action(hc, domain):
    c = hc
    created = c.create_zone_answer(domain)
    zid = created["zoneId"]
    www = c.add_record(zid, "www", "A", "192.0.2.1", ttl=300)
    c.update_record(www["id"], "www", "A", "192.0.2.2", ttl=300)
    mx = c.add_record(zid, "@", "MX", "mail.%s." % domain, priority=10)
    c.delete_record(mx["id"])
    last = c.replace_records(zid, [{"name": "@", "type": "NS", "content": ns}
                                   for ns in cl.DEFAULT_NS]
                             + [{"name": "www", "type": "A", "content": "192.0.2.3"}])

    h = versions(c, zid)
    assert h["zoneId"] == zid and h["domain"] == domain and h["current"] == last["version"]
    got = [(v["version"], v["action"]) for v in h["versions"]]
    first = created["version"]
    assert got == [(first + 5, "records.replace"), (first + 4, "record.delete"),
                   (first + 3, "record.create"), (first + 2, "record.update"),
                   (first + 1, "record.create"), (first, "zone.create")], got
    for v in h["versions"]:
        assert v["actor"] == "tests-admin", v
        assert ISO.match(v["time"]) and isinstance(v["timestamp"], int), v
        assert v["summary"], v
        assert v["deleted"] is False
    newest = h["versions"][0]
    assert newest["serial"] == last["serial"] and newest["records"] == 3
    assert h["versions"][3]["summary"] == "update www A 192.0.2.1 -> www A 192.0.2.2"
    assert h["versions"][2]["summary"] == "add @ MX 10 mail.%s." % domain
    assert h["next"] is None

    # Pages: newest first, 'next' is where the following page starts.
    page = versions(c, zid, limit=4)
    assert [v["version"] for v in page["versions"]] == [first + 5, first + 4, first + 3,
                                                         first + 2]
    rest = versions(c, zid, limit=4, before=page["next"])
    assert [v["version"] for v in rest["versions"]] == [first + 1, first]
    assert rest["next"] is None


def test_records_at_a_version(hc, domain):
    c = hc
    zid = c.create_zone(domain)
    one = c.add_record(zid, "www", "A", "192.0.2.1", ttl=300)
    two = c.update_record(one["id"], "www", "A", "192.0.2.2", ttl=600)

    at = c.whm.call("GET", "/api/dns/%d/versions/%d" % (zid, one["version"]), expect=200)
    assert at["version"] == one["version"] and at["serial"] == one["serial"]
    assert at["action"] == "record.create" and at["actor"] == "tests-admin"
    assert re.match(r"^[0-9a-f]{64}$", at["digest"]), at
    got = sorted((r["name"], r["type"], r["content"], r["ttl"]) for r in at["records"])
    assert got == sorted([("@", "NS", ns, 3600) for ns in cl.DEFAULT_NS]
                         + [("www", "A", "192.0.2.1", 300)])
    later = c.whm.call("GET", "/api/dns/%d/versions/%d" % (zid, two["version"]), expect=200)
    assert ("www", "A", "192.0.2.2", 600) in [(r["name"], r["type"], r["content"], r["ttl"])
                                             for r in later["records"]]

    error(c.whm.get("/api/dns/%d/versions/%d" % (zid, two["version"] + 50)), 404)
    for bad in ("abc", "0", "-1", "1.5", "99999999999999999999"):
        error(c.whm.get("/api/dns/%d/versions/%s" % (zid, bad)), 400)
    error(c.whm.get("/api/dns/999999/versions/1"), 404)


def test_diff_lists_rrsets_added_removed_and_changed(hc, domain):
    c = hc
    zid = c.create_zone(domain)
    c.add_record(zid, "www", "A", "192.0.2.1", ttl=300)
    old = c.add_record(zid, "old", "TXT", '"going away"')
    base = old["version"]
    c.add_record(zid, "new", "AAAA", "2001:db8::1")
    c.delete_record(old["id"])
    last = c.add_record(zid, "www", "A", "192.0.2.9", ttl=300)

    d = c.whm.call("GET", "/api/dns/%d/diff" % zid, params={"from": base, "to": last["version"]},
                   expect=200)
    assert d["from"] == base and d["to"] == last["version"]
    assert d["added"] == [{"name": "new", "type": "AAAA", "records": [
        {"content": "2001:db8::1", "ttl": 3600, "priority": 0}]}]
    assert d["removed"] == [{"name": "old", "type": "TXT", "records": [
        {"content": '"going away"', "ttl": 3600, "priority": 0}]}]
    assert d["changed"] == [{"name": "www", "type": "A",
                             "before": [{"content": "192.0.2.1", "ttl": 300, "priority": 0}],
                             "after": [{"content": "192.0.2.1", "ttl": 300, "priority": 0},
                                       {"content": "192.0.2.9", "ttl": 300, "priority": 0}]}]
    assert d["counts"] == {"added": 1, "removed": 1, "changed": 1}
    # 'to' left out: the current version. A version against itself: nothing.
    assert c.whm.call("GET", "/api/dns/%d/diff" % zid, params={"from": base},
                      expect=200)["to"] == last["version"]
    same = c.whm.call("GET", "/api/dns/%d/diff" % zid, params={"from": base, "to": base},
                      expect=200)
    assert same["counts"] == {"added": 0, "removed": 0, "changed": 0}

    path = "/api/dns/%d/diff" % zid
    assert "above" in error(c.whm.get(path, params={"from": last["version"], "to": base}), 400)
    error(c.whm.get(path, params={"from": last["version"] + 100}), 404)
    error(c.whm.get(path, params={"from": "abc", "to": base}), 400)
    error(c.whm.get(path, params={"from": base, "to": "1e3"}), 400)
    error(c.whm.get(path, params={"to": base}), 400)
    error(c.whm.get(path, params={"from": base, "to": last["version"] + 100}), 404)


def test_rollback_serves_the_old_answer_on_every_node_with_a_higher_serial(hc, domain):
    c = hc
    zid = c.create_zone(domain)
    good = c.add_record(zid, "www", "A", "192.0.2.1", ttl=300)
    bad = c.add_record(zid, "www", "A", "192.0.2.66", ttl=300)
    c.wait_all_nodes("www.%s." % domain, "A", ["192.0.2.1", "192.0.2.66"])
    ids = {(x["name"], x["type"], x["content"]): x["id"] for x in c.whm.records(zid)}

    r = c.whm.call("POST", "/api/dns/%d/rollback" % zid, {"version": good["version"]},
                   params={"wait": "all"}, expect=200)
    assert r["success"] is True and r["changed"] is True, r
    assert r["rolledBackTo"] == good["version"]
    assert r["version"] == bad["version"] + 1
    assert r["serial"] != bad["serial"] and (r["serial"] - bad["serial"]) % 2**32 < 2**31
    assert r["synced"] is True and all(n["success"] for n in r["nodes"]), r
    assert c.answers("www.%s." % domain, "A") == {n.name: ["192.0.2.1"] for n in c.nodes}
    assert set(c.soa_serials(domain + ".").values()) == {r["serial"]}
    # Records the rollback left as they were keep their ids; only the bad one went.
    after = {(x["name"], x["type"], x["content"]): x["id"] for x in c.whm.records(zid)}
    del ids[("www", "A", "192.0.2.66")]
    assert after == ids

    top = versions(c, zid, limit=1)["versions"][0]
    assert top["action"] == "zone.rollback" and top["actor"] == "tests-admin"
    assert "version %d" % good["version"] in top["summary"]

    # The same content again: nothing changes, and the answer says so.
    again = c.whm.call("POST", "/api/dns/%d/rollback" % zid, {"version": good["version"]},
                       expect=200)
    assert again["changed"] is False and again["version"] == r["version"], again
    assert "nothing changed" in again["message"]
    assert versions(c, zid, limit=1)["versions"][0]["version"] == r["version"]

    # Refused, and nothing moves.
    path = "/api/dns/%d/rollback" % zid
    error(c.whm.post(path, {"version": r["version"] + 10}), 404)
    for body in ({}, {"version": "1"}, {"version": 0}, {"version": -2}, {"version": 1.5},
                 {"version": good["version"], "extra": 1}):
        error(c.whm.post(path, body), 400)
    error(c.whm.post(path, data=b"{not json"), 400)
    error(c.whm.post("/api/dns/999999/rollback", {"version": 1}), 404)
    assert c.whm.zone(zid)["version"] == r["version"]


def test_rollback_brings_back_the_soa_fields_the_version_had(hc, domain):
    """A version keeps the zone's own SOA fields with its records: rolling
    back to it serves them again on every node, and a version before any
    own field gives them all back to the cluster."""
    c = hc
    zone = domain + "."
    zid = c.create_zone(domain)
    plain = c.add_record(zid, "www", "A", "192.0.2.1")
    path = "/api/dns/%d" % zid
    cluster = c.whm.zone(zid)["soa"]
    defaults = [str(cluster[k]) for k in ("refresh", "retry", "expire", "minimum")]
    own = c.whm.call("PUT", path, {"soa": {"refresh": 7200, "minimum": 300}}, expect=200)
    c.whm.call("PUT", path, {"soa": {"refresh": 10800, "minimum": None}}, expect=200)
    shown = c.whm.call("GET", "%s/versions/%d" % (path, own["version"]), expect=200)
    assert (shown["soa"]["refresh"], shown["soa"]["minimum"]) == (7200, 300), shown
    assert sorted(shown["soa"]["own"]) == ["minimum", "refresh"], shown

    def served():
        fields = {n.name: n.dig(zone, "SOA")[0].split()[3:] for n in c.nodes}
        assert len({tuple(f) for f in fields.values()}) == 1, fields
        return fields[c.nodes[0].name]

    back = c.whm.call("POST", path + "/rollback", {"version": own["version"]},
                      params={"wait": "all"}, expect=200)
    assert back["changed"] is True, back
    soa = c.whm.zone(zid)["soa"]
    assert (soa["refresh"], soa["minimum"], sorted(soa["own"])) == \
        (7200, 300, ["minimum", "refresh"]), soa
    assert served() == ["7200", "3600", "604800", "300"]
    # The same records, other SOA fields: a rollback all the same.
    first = c.whm.call("POST", path + "/rollback", {"version": plain["version"]},
                       params={"wait": "all"}, expect=200)
    assert first["changed"] is True and c.whm.zone(zid)["soa"]["own"] == [], first
    assert served() == defaults


def test_read_token_reads_history_but_may_not_roll_back(hc, domain):
    c = hc
    zid = c.create_zone(domain)
    one = c.add_record(zid, "www", "A", "192.0.2.1")
    c.add_record(zid, "www", "A", "192.0.2.2")
    token = c.whm.read_token

    assert c.whm.get("/api/dns/%d/versions" % zid, token=token).status_code == 200
    assert c.whm.get("/api/dns/%d/versions/%d" % (zid, one["version"]),
                     token=token).status_code == 200
    assert c.whm.get("/api/dns/%d/diff" % zid, params={"from": one["version"]},
                     token=token).status_code == 200
    assert c.whm.get("/api/dns/audit", params={"zone": domain}, token=token).status_code == 200
    before = c.whm.zone(zid)["version"]
    error(c.whm.post("/api/dns/%d/rollback" % zid, {"version": one["version"]}, token=token), 403)
    assert c.whm.zone(zid)["version"] == before
    assert c.whm.get("/api/dns/%d/versions" % zid, token=None).status_code == 401


def test_audit_holds_zone_token_and_server_actions(hc, domain):
    c = hc
    t0 = int(time.time())
    zid = c.create_zone(domain)
    c.add_record(zid, "www", "A", "192.0.2.1")
    made = c.whm.call("POST", "/api/dns/tokens", {"name": "audit-%s" % domain, "role": "read"},
                      expect=201)
    c.whm.call("DELETE", "/api/dns/tokens/%d" % made["id"], expect=200)
    node = c.nodes[0]
    c.whm.call("PUT", "/api/dns/servers/%d" % node.server_id, {"hostname": "ns-%s" % domain},
               expect=200)

    mine = audit(c, zone=domain)
    assert [e["action"] for e in mine] == ["record.create", "zone.create"], mine
    assert all(e["zone"] == domain and e["zoneId"] == zid and e["actor"] == "tests-admin"
               for e in mine)
    assert mine[0]["version"] == c.whm.zone(zid)["version"]
    assert mine[0]["summary"] == "add www A 192.0.2.1"

    recent = audit(c, since=t0, limit=1000)
    tokens = [e for e in recent if e["action"].startswith("token.")
              and ("audit-%s" % domain in (e["summary"] or "")
                   or e["summary"] == "token %d" % made["id"])]
    assert [e["action"] for e in tokens] == ["token.revoke", "token.create"], tokens
    assert all(e["zone"] is None and e["zoneId"] is None for e in tokens)
    servers = [e for e in audit(c, action="server.update", since=t0)
               if "'%s'" % node.name in e["summary"]]
    assert servers and servers[0]["actor"] == "tests-admin", servers
    # How the cluster was set up is there too.
    assert audit(c, action="node.join", limit=10)

    # Filters together, paging, time ranges (Unix seconds or UTC text).
    assert [e["action"] for e in audit(c, zone=domain, action="zone.create")] == ["zone.create"]
    assert audit(c, zone=domain, actor="somebody-else") == []
    assert audit(c, zone=domain + ".", limit=1)[0]["action"] == "record.create"
    page = c.whm.call("GET", "/api/dns/audit", params={"zone": domain, "limit": 1}, expect=200)
    assert page["next"] is not None
    rest = audit(c, zone=domain, limit=1, before=page["next"])
    assert [e["action"] for e in rest] == ["zone.create"]
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0))
    assert len(audit(c, zone=domain, since=iso)) == 2
    assert audit(c, zone=domain, until=t0 - 3600) == []
    assert len(audit(c, zone=domain, since=time.strftime("%Y-%m-%d", time.gmtime(t0)))) == 2
    assert audit(c, zone=domain, until="2024-02-29") == []      # a leap day is a day

    for params in ({"limit": 1001}, {"limit": 0}, {"limit": "x"}, {"since": "yesterday"},
                   {"until": "2026-13-01"}, {"since": "2026-02-31"}, {"since": "2025-02-29"},
                   {"until": "2026-04-31T00:00:00Z"}, {"since": t0 + 10, "until": t0},
                   {"before": "-1"}, {"zone": "a..b"}, {"action": "\x01"}):
        error(c.whm.get("/api/dns/audit", params=params), 400)
    assert "1000" in error(c.whm.get("/api/dns/audit", params={"limit": 100000}), 400)


def test_read_token_sees_no_token_names_or_roles_in_the_audit(hc, domain):
    """Only admins may list tokens: a read token sees that token entries
    were made (the pages stay whole) but not their summaries, which name
    the token and its role; an admin still sees them."""
    c = hc
    name = "secret-name-%s" % domain.split(".")[0][:40]  # a token name has at most 63
    made = c.whm.call("POST", "/api/dns/tokens", {"name": name, "role": "admin"}, expect=201)
    c.whm.call("DELETE", "/api/dns/tokens/%d" % made["id"], expect=200)

    def token_entries(token):
        page = c.whm.call("GET", "/api/dns/audit", params={"action": "token.create", "limit": 1000},
                          token=token, expect=200)
        revoked = c.whm.call("GET", "/api/dns/audit",
                             params={"action": "token.revoke", "limit": 1000}, token=token,
                             expect=200)
        return page["entries"] + revoked["entries"]

    seen = token_entries(c.whm.read_token)
    assert seen, "the entries themselves stay"
    assert all(e["summary"] is None for e in seen), seen
    everything = c.whm.get("/api/dns/audit", params={"limit": 1000}, token=c.whm.read_token).text
    assert name not in everything
    assert "role admin" not in everything

    admin = token_entries(c.whm.admin_token)
    assert "token %d '%s', role admin" % (made["id"], name) in [e["summary"] for e in admin]
    assert "token %d" % made["id"] in [e["summary"] for e in admin]


def test_dnssec_and_delete_are_in_the_history_and_the_audit(hc, domain):
    c = hc
    zid = c.create_zone(domain)
    c.whm.call("POST", "/api/dns/%d/dnssec" % zid, {}, expect=(200, 201))
    h = versions(c, zid)["versions"]
    assert h[0]["action"] == "zone.dnssec.sign" and "ECDSAP256SHA256" in h[0]["summary"], h[0]
    c.whm.call("DELETE", "/api/dns/%d/dnssec" % zid, params={"force": "1"}, expect=200)
    assert versions(c, zid)["versions"][0]["action"] == "zone.dnssec.unsign"
    c.delete_zone(zid)
    # The zone is gone (its history with it, once every node confirmed);
    # the audit log still tells what happened to it.
    actions = [e["action"] for e in audit(c, zone=domain)]
    assert actions == ["zone.delete", "zone.dnssec.unsign", "zone.dnssec.sign",
                       "zone.create"], actions
    error(c.whm.post("/api/dns/%d/rollback" % zid, {"version": 1}), 404)


def test_retention_prunes_old_versions_but_keeps_the_newest(hc, domain):
    c = hc
    zid = c.create_zone(domain)
    first = c.whm.zone(zid)["version"]
    for i in range(KEEP + 10):
        last = c.add_record(zid, "r%d" % i, "A", "192.0.2.%d" % (i + 1), wait=False)
    deadline = time.monotonic() + 20
    while True:
        h = versions(c, zid, limit=1000)
        if len(h["versions"]) == KEEP or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    got = [v["version"] for v in h["versions"]]
    assert got == list(range(last["version"], last["version"] - KEEP, -1)), got
    assert h["current"] == last["version"]
    error(c.whm.get("/api/dns/%d/versions/%d" % (zid, first)), 404)
    assert "pruned" in error(c.whm.post("/api/dns/%d/rollback" % zid, {"version": first}), 404)
    # The oldest kept one still rolls back.
    r = c.whm.call("POST", "/api/dns/%d/rollback" % zid, {"version": got[-1]}, expect=200)
    assert r["changed"] is True


def test_the_controller_keeps_its_history_in_the_store_asked_for(hc, store, domain):
    c = hc
    zid = c.create_zone(domain)
    conf = open(c.whm.conf_path).read()
    if store is None:
        assert "store = sqlite" in conf
        return
    assert "store = mysql" in conf
    db = re.search(r"mysql-database = (\w+)", conf).group(1)
    rows = store.query("SELECT action, actor FROM %s.dns_zone_versions WHERE zone_id = %d"
                       % (db, zid))
    assert [tuple(r) for r in rows] == [("zone.create", "tests-admin")]


def test_rollback_keeps_the_routing_policies_of_what_it_gives_back(hc, domain):
    """A version holds records, not routing policies: a rollback keeps each
    RRset's per-record policy where the RRset it gives back is one the
    policy covers, and writes the others without (as documented)."""
    c = hc
    zid = c.create_zone(domain)
    w = lambda n: {"type": "weighted", "weight": n}
    c.add_record(zid, "www", "A", "192.0.2.1", routing_policy=w(10))
    c.add_record(zid, "www", "A", "192.0.2.2", routing_policy=w(90))
    steered = c.whm.zone(zid)["version"]
    path = "/api/dns/%d/rollback" % zid

    def pols():
        return sorted((r["name"], r["content"], json.dumps(r["routing_policy"]))
                      for r in c.whm.records(zid))
    kept = pols()
    assert ("www", "192.0.2.1", json.dumps(w(10))) in kept, kept

    # the current version: the same content, nothing changes
    same = c.whm.call("POST", path, {"version": steered}, expect=200)
    assert same["changed"] is False and same["version"] == steered, same
    assert pols() == kept

    # an unrelated change rolled back: the policy stays, the TXT goes
    c.add_record(zid, "note", "TXT", "hello")
    back = c.whm.call("POST", path, {"version": steered}, params={"wait": "all"}, expect=200)
    assert back["changed"] is True and back["synced"] is True, back
    assert pols() == kept
    policies = c.whm.call("GET", "/api/dns/%d/policies" % zid, expect=200)
    assert [(p["name"], p["type"], p["per_record"]) for p in policies] == [("www", "A", True)]

    # back to before the policy: that RRset has other records, none is kept
    first = versions(c, zid)["versions"][-1]["version"]
    c.whm.call("POST", path, {"version": first}, expect=200)
    assert [r for r in c.whm.records(zid) if r["routing_policy"] is not None] == []
    assert c.whm.call("GET", "/api/dns/%d/policies" % zid, expect=200) == []


def test_rollback_to_a_disabled_record_of_an_rrset_steered_now(hc, domain):
    """A version whose RRset held a disabled record, rolled back to once the
    RRset is steered by per-record policies that cover its content: the
    RRset comes back as it was, disabled record and no policy (it was a
    422, a disabled record cannot carry a policy, and nothing rolled back)."""
    c = hc
    zid = c.create_zone(domain)
    c.add_record(zid, "www", "A", "192.0.2.1", ttl=300)
    v = c.add_record(zid, "www", "A", "192.0.2.2", ttl=300, disabled=True)["version"]
    listing = c.whm.records(zid)
    for r in listing:
        if r["name"] == "www":
            r["disabled"] = False
            r["routing_policy"] = {"type": "weighted", "weight": 50}
    c.whm.call("PUT", "/api/dns/%d/records" % zid, {"records": listing}, expect=200)
    back = c.whm.call("POST", "/api/dns/%d/rollback" % zid, {"version": v},
                      params={"wait": "all"}, expect=200)
    assert back["changed"] is True and back["synced"] is True, back
    www = sorted((r["content"], r["disabled"], r["routing_policy"])
                 for r in c.whm.records(zid) if r["name"] == "www")
    assert www == [("192.0.2.1", False, None), ("192.0.2.2", True, None)], www
    assert c.whm.call("GET", "/api/dns/%d/policies" % zid, expect=200) == []
    c.wait_all_nodes("www.%s." % domain, "A", ["192.0.2.1"])
