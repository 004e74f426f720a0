"""The agent on PowerDNS's gmysql backend: a managed node whose agent and
pdns_server share a real MariaDB database (a private server started by this
module on a loopback port chosen at run time)."""

import os
import re
import signal
import socket
import stat
import subprocess
import threading
import time

import dns.rdatatype
import pytest
import requests

import harness
from harness import answer_texts, basic_records, dns_query, rec, zone_payload
from mariadb import MariaDB

SCHEMA_FILE = "/usr/share/pdns-backend-mysql/schema/schema.mysql.sql"
DBNAME = "yumna_gmysql"


@pytest.fixture(scope="module")
def mariadb(tmp_path_factory):
    server = MariaDB(tmp_path_factory.mktemp("mariadb"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def settings(mariadb):
    return mariadb.create_database(DBNAME)


@pytest.fixture(scope="module")
def gm_node(tmp_path_factory, mariadb, settings):
    node = harness.Node(tmp_path_factory.mktemp("gmysql_node"), name="gmysql", config={
        "backend": "gmysql",
        "gmysql-host": settings["host"],
        "gmysql-port": settings["port"],
        "gmysql-user": settings["user"],
        "gmysql-password": settings["password"],
        "gmysql-dbname": settings["dbname"],
        "max-zones-per-batch": 5000,
    })
    try:
        node.start()
        yield node
    except harness.HarnessError as e:
        raise harness.HarnessError("%s\n%s" % (e, mariadb.logs()))
    finally:
        node.stop()


def sql(mariadb, statement, args=None):
    return mariadb.query(statement, args, database=DBNAME)


def records_of(mariadb, zone):
    """PowerDNS's rows for 'zone' (name, type, content, ttl, prio, auth, ordername)."""
    return sorted(sql(mariadb, "SELECT r.name, r.type, r.content, r.ttl, r.prio, r.auth, "
                               "r.ordername FROM records r JOIN domains d ON d.id = r.domain_id "
                               "WHERE d.name = %s AND r.type IS NOT NULL",
                      (zone.rstrip("."),)), key=repr)


# --- schema and configuration -------------------------------------------------


def test_powerdns_schema_is_created_from_the_package_file(gm_node, mariadb):
    with open(SCHEMA_FILE) as f:
        shipped = set(re.findall(r"CREATE TABLE (\w+)", f.read()))
    assert {"domains", "records", "cryptokeys", "domainmetadata"} <= shipped

    tables = dict(sql(mariadb, "SELECT table_name, engine FROM information_schema.tables "
                               "WHERE table_schema = DATABASE()"))

    assert set(tables) == shipped | {"yumna_zone_state"}
    assert set(tables.values()) == {"InnoDB"}
    columns = dict(sql(mariadb, "SELECT column_name, column_type FROM information_schema.columns "
                                "WHERE table_schema = DATABASE() AND table_name = 'yumna_zone_state'"))
    assert columns == {"zone": "varchar(255)", "version": "bigint(20) unsigned",
                       "serial": "int(10) unsigned", "deleted": "tinyint(4)",
                       "dirty": "tinyint(4)", "updated_at": "bigint(20)",
                       "digest": "varchar(64)"}


def test_managed_pdns_conf_launches_gmysql_with_the_agents_database(gm_node, settings):
    path = os.path.join(gm_node.data_dir, "pdns.conf")
    with open(path) as f:
        lines = f.read().splitlines()

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "launch=gmysql" in lines
    assert "gmysql-dnssec=yes" in lines
    assert "gmysql-host=%s" % settings["host"] in lines
    assert "gmysql-port=%d" % settings["port"] in lines
    assert "gmysql-user=%s" % settings["user"] in lines
    assert "gmysql-password=%s" % settings["password"] in lines
    assert "gmysql-dbname=%s" % settings["dbname"] in lines
    # its queries wait on the network: PowerDNS's own number of distributors
    assert "distributor-threads=3" in lines
    assert not any(line.startswith("gsqlite3") for line in lines)
    assert not os.path.exists(os.path.join(gm_node.data_dir, "pdns.sqlite3"))


def test_password_is_never_logged(gm_node, settings):
    gm_node.push_ok("logcheck.example.", 1, 1, basic_records())

    with open(gm_node.log_path, "rb") as f:
        assert settings["password"].encode() not in f.read()
    assert settings["password"] not in gm_node.get("/health").text
    assert settings["password"] not in gm_node.get("/metrics").text


# --- pushes ---------------------------------------------------------------------


def test_pushed_zone_is_served_at_once_and_stored_the_powerdns_way(gm_node, mariadb):
    zone = "Push.Example."
    gm_node.push_ok(zone, 1, 2026010101, basic_records() + [
        rec("@", "MX", "mail.push.example.", ttl=3600, priority=10),
        rec("mail", "A", "192.0.2.25", ttl=300),
        rec("_sip._tcp", "SRV", "5 5060 sip.push.example.", ttl=300, priority=20),
        rec("sub", "NS", "ns.sub.push.example.", ttl=3600),
        rec("ns.sub", "A", "192.0.2.53", ttl=3600),
    ])

    assert gm_node.dig("www.push.example.", "A") == ["192.0.2.1"]
    assert gm_node.dig("push.example.", "MX") == ["10 mail.push.example."]
    assert gm_node.dig("_sip._tcp.push.example.", "SRV") == ["20 5 5060 sip.push.example."]
    assert gm_node.dig("push.example.", "SOA")[0].split()[2] == "2026010101"
    assert sql(mariadb, "SELECT type FROM domains WHERE name = 'push.example'") == [("NATIVE",)]
    rows = {(r[0], r[1]): r for r in records_of(mariadb, "push.example.")}
    assert rows[("push.example", "MX")][2:5] == ("mail.push.example.", 3600, 10)
    assert rows[("_sip._tcp.push.example", "SRV")][2:5] == ("5 5060 sip.push.example.", 300, 20)
    assert rows[("sub.push.example", "NS")][5] == 0  # delegation: not authoritative
    assert rows[("ns.sub.push.example", "A")][5] == 0  # glue
    assert rows[("www.push.example", "A")][5] == 1
    assert all(r[6] is None for r in rows.values())  # ordername: PowerDNS's business
    assert all(r[0] == r[0].lower() and not r[0].endswith(".") for r in rows.values())
    state = sql(mariadb, "SELECT version, serial, deleted, dirty FROM yumna_zone_state "
                         "WHERE zone = 'push.example.'")
    assert state == [(1, 2026010101, 0, 0)]


def test_update_replaces_the_zone_and_a_stale_version_changes_nothing(gm_node):
    zone = "update.example."
    gm_node.push_ok(zone, 5, 5, basic_records(a="192.0.2.1") + [rec("old", "TXT", '"old"')])

    body = gm_node.push_ok(zone, 6, 6, basic_records(a="192.0.2.2") + [rec("new", "TXT", '"n"')])

    assert body["version"] == 6
    assert gm_node.dig("www." + zone, "A") == ["192.0.2.2"]
    assert gm_node.dig("new." + zone, "TXT") == ['"n"']
    assert gm_node.rcode("old." + zone, "TXT") == "NXDOMAIN"

    r = gm_node.push(zone, 4, 99, basic_records(a="192.0.2.99"))

    assert r.status_code == 200, r.text
    assert r.json()["applied"] is False
    assert r.json()["version"] == 6 and r.json()["serial"] == 6
    assert gm_node.dig("www." + zone, "A") == ["192.0.2.2"]
    assert gm_node.zones()[zone]["version"] == 6


def test_deleted_zone_is_refused_and_an_older_push_cannot_bring_it_back(gm_node, mariadb):
    zone = "gone.example."
    gm_node.push_ok(zone, 3, 3, basic_records())

    r = gm_node.delete_zone(zone, version=4)

    assert r.status_code == 200 and r.json()["deleted"] is True, r.text
    assert gm_node.rcode("www." + zone, "A") == "REFUSED"
    assert sql(mariadb, "SELECT COUNT(*) FROM domains WHERE name = 'gone.example'") == [(0,)]
    assert records_of(mariadb, zone) == []
    r = gm_node.push(zone, 4, 4, basic_records())
    assert r.status_code == 200 and r.json()["applied"] is False, r.text
    assert gm_node.rcode("www." + zone, "A") == "REFUSED"
    assert gm_node.get("/api/dns/zones").json()["tombstones"].count(
        {"zone": zone, "version": 4}) == 1

    gm_node.push_ok(zone, 5, 5, basic_records(a="192.0.2.5"))

    assert gm_node.dig("www." + zone, "A") == ["192.0.2.5"]


def test_bad_input_leaves_the_zone_unchanged(gm_node, mariadb):
    zone = "bad.example."
    gm_node.push_ok(zone, 1, 1, basic_records())
    before = (gm_node.zone(zone).content, records_of(mariadb, zone))

    for records in ([rec("bad", "A", "010.1.1.1")],
                    [rec("www", "CNAME", "other.example.")],
                    [rec("x", "TXT", '"%s"' % ("a" * 300))]):
        r = gm_node.push(zone, 2, 2, basic_records(a="192.0.2.9") + records)
        assert r.status_code == 422, r.text

    assert (gm_node.zone(zone).content, records_of(mariadb, zone)) == before
    assert gm_node.dig("www." + zone, "A") == ["192.0.2.1"]


def rows_by_id(mariadb, zone):
    """PowerDNS's rows of 'zone' by id, names relative to the zone ('' for
    the apex), disabled rows and empty non-terminals included."""
    base = zone.rstrip(".")
    rows = sql(mariadb, "SELECT r.id, r.name, r.type, r.content, r.ttl, r.prio, r.auth, "
                        "r.disabled FROM records r JOIN domains d ON d.id = r.domain_id "
                        "WHERE d.name = %s", (base,))
    return {row[0]: (row[1][:-len(base)].rstrip("."),) + tuple(row[2:]) for row in rows}


def test_a_replaced_zone_has_the_rows_of_a_zone_written_whole(gm_node, mariadb):
    """As on gsqlite3 (test_sync_zone.py), the agent rewrites only the rows
    that changed. After each step of a series of changes (a TTL, a priority,
    a delegation that turns records into glue, empty non-terminals that come
    and go, a record removed) the zone holds exactly the rows of the same
    zone written once under another name, and every row that did not change
    keeps its id."""
    zone = "rowdiff.example."
    steps = [
        lambda z: basic_records("192.0.2.1") + [rec("@", "MX", "mail." + z, ttl=300, priority=10)],
        lambda z: basic_records("192.0.2.1") + [rec("@", "MX", "mail." + z, ttl=600, priority=20)],
        lambda z: basic_records("192.0.2.2") + [rec("a.b.c", "TXT", '"deep"', ttl=60),
                                                rec("sub", "NS", "ns.sub." + z, ttl=60),
                                                rec("ns.sub", "A", "192.0.2.53", ttl=60)],
        lambda z: basic_records("192.0.2.2") + [rec("x.a.b.c", "TXT", '"deeper"', ttl=60),
                                                rec("sub", "NS", "ns.sub." + z, ttl=60),
                                                rec("ns.sub", "A", "192.0.2.53", ttl=120)],
        lambda z: basic_records("192.0.2.3"),
    ]
    for version, records in enumerate(steps, start=1):
        before = rows_by_id(mariadb, zone)
        gm_node.push_ok(zone, version, 2026010100 + version, records(zone))
        whole = "whole%d.rowdiff.example." % version
        gm_node.push_ok(whole, 1, 2026010100 + version, records(whole))
        after = rows_by_id(mariadb, zone)
        rel = lambda rows, z: sorted((r[0],) + tuple(
            c.replace(z.rstrip("."), "ZONE") if isinstance(c, str) else c for c in r[1:])
            for r in rows.values())
        assert rel(after, zone) == rel(rows_by_id(mariadb, whole), whole), "step %d" % version
        kept = {i: r for i, r in before.items() if r in after.values()}
        assert all(after.get(i) == r for i, r in kept.items()), "step %d" % version
        if version > 1:
            assert kept, "step %d rewrote every row" % version
    assert gm_node.dig("www." + zone, "A") == ["192.0.2.3"]
    assert gm_node.rcode("a.b.c." + zone, "TXT") == "NXDOMAIN"


def test_batch_of_300_zones_is_served(gm_node):
    zones = [zone_payload("b%d.gm.example." % i, 1, 1000 + i,
                          basic_records() + [rec("n%d" % i, "TXT", '"zone %d"' % i)])
             for i in range(300)]

    r = gm_node.sync_batch(zones)

    assert r.status_code == 200, r.text
    assert r.json()["applied"] == 300 and r.json()["unchanged"] == 0
    listed = gm_node.zones()
    for i in range(300):
        z = "b%d.gm.example." % i
        assert gm_node.dig("n%d.%s" % (i, z), "TXT") == ['"zone %d"' % i], z
        assert listed[z]["version"] == 1 and listed[z]["serial"] == 1000 + i


def rrsig_covers(msg, rtype):
    return any(rrset.rdtype == dns.rdatatype.RRSIG and
               any(rd.type_covered == dns.rdatatype.from_text(rtype) for rd in rrset)
               for rrset in msg.answer)


def test_signed_zone_keeps_its_keys_in_mysql_until_deleted(gm_node, mariadb):
    zone = "signed.example."
    gm_node.push_ok(zone, 1, 1, basic_records())

    r = gm_node.post("/api/dns/zones/%s/dnssec" % zone)

    assert r.status_code == 200, r.text
    assert ([k.replace(" ", "") for k in gm_node.dig(zone, "DNSKEY")]
            == [k.replace(" ", "") for k in r.json()["dnskey"]])
    assert sql(mariadb, "SELECT COUNT(*) FROM cryptokeys k JOIN domains d ON d.id = k.domain_id "
                        "WHERE d.name = 'signed.example' AND k.active = 1") == [(1,)]
    gm_node.push_ok(zone, 2, 2, basic_records(a="192.0.2.2") + [rec("new", "A", "192.0.2.3")])
    assert gm_node.zone(zone).json()["dnssec"] is True
    assert rrsig_covers(gm_node.query("new." + zone, "A", dnssec=True), "A")
    assert rrsig_covers(gm_node.query("www." + zone, "A", dnssec=True), "A")

    assert gm_node.delete_zone(zone).status_code == 200

    assert sql(mariadb, "SELECT COUNT(*) FROM cryptokeys") == [(0,)]
    gm_node.push_ok(zone, 3, 3, basic_records())
    assert gm_node.zone(zone).json()["dnssec"] is False
    assert gm_node.dig(zone, "DNSKEY") == []


# --- failures -------------------------------------------------------------------


def test_agent_reconnects_after_mariadb_restarts(gm_node, mariadb):
    zone = "reconnect.example."
    gm_node.push_ok(zone, 1, 1, basic_records())

    mariadb.stop()
    mariadb.start()

    # The first call may find the connection gone (503, nothing acknowledged);
    # the agent opens a new one for the next.
    statuses = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r = gm_node.push(zone, 2, 2, basic_records(a="192.0.2.2"))
        statuses.append(r.status_code)
        if r.status_code == 200:
            break
        assert r.status_code == 503, r.text
        time.sleep(0.2)
    assert statuses[-1] == 200 and r.json()["applied"] is True, statuses
    for _ in range(50):  # PowerDNS reconnects on its own, at its next query
        try:
            if gm_node.dig("www." + zone, "A") == ["192.0.2.2"]:
                break
        except Exception:  # noqa: BLE001 - SERVFAIL or timeout while it reconnects
            pass
        time.sleep(0.1)
    assert gm_node.dig("www." + zone, "A") == ["192.0.2.2"]


CRASH_ZONES = 1500
CRASH_RECORDS = 10  # per zone, SOA not counted


def crash_zone(i):
    return "crash%d.gm.example." % i


def crash_records(i, version):
    out = [rec("@", "NS", "ns-v%d.example.net." % version, ttl=3600)]
    out += [rec("r%d" % j, "A", "10.%d.%d.%d" % (version, j, i % 250 + 1), ttl=300)
            for j in range(CRASH_RECORDS - 1)]
    return out


def crash_batch(version):
    return [zone_payload(crash_zone(i), version, version, crash_records(i, version))
            for i in range(CRASH_ZONES)]


def served_version(node, i, session, udp):
    """The one version zone i is entirely at (API and DNS agreeing), or a
    text saying what is wrong."""
    z = crash_zone(i)
    r = session.get(node.url + "/api/dns/zones/" + z, headers=node.headers(), timeout=30)
    if r.status_code != 200:
        return "GET %s: %d" % (z, r.status_code)
    body = r.json()
    v = body["version"]
    got = {(x["name"], x["type"], x["content"]) for x in body["records"] if x["type"] != "SOA"}
    want = {(z, "NS", "ns-v%d.example.net." % v)}
    want |= {("r%d.%s" % (j, z), "A", "10.%d.%d.%d" % (v, j, i % 250 + 1))
             for j in range(CRASH_RECORDS - 1)}
    if got != want or body["serial"] != v:
        return "%s at version %d is mixed" % (z, v)
    soa = answer_texts(dns_query(node.address, node.dns_port, z, "SOA", sock=udp), z, "SOA")
    if len(soa) != 1 or soa[0].split()[2] != str(v):
        return "%s: API says version %d, DNS serves SOA %s" % (z, v, soa)
    last = "r%d.%s" % (CRASH_RECORDS - 2, z)
    a = answer_texts(dns_query(node.address, node.dns_port, last, "A", sock=udp), last, "A")
    if a != ["10.%d.%d.%d" % (v, CRASH_RECORDS - 2, i % 250 + 1)]:
        return "%s: API says version %d, DNS serves %s" % (z, v, a)
    return v


def check_all(node, allowed):
    session = requests.Session()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        versions, problems = {}, []
        for i in range(CRASH_ZONES):
            v = served_version(node, i, session, udp)
            if isinstance(v, str):
                problems.append(v)
            elif v not in allowed:
                problems.append("%s at unexpected version %d" % (crash_zone(i), v))
            else:
                versions[i] = v
        assert not problems, "%d zones wrong, first: %s" % (len(problems), problems[:5])
        return versions
    finally:
        session.close()
        udp.close()


def test_sigkill_mid_batch_leaves_every_zone_entirely_old_or_new(gm_node):
    t0 = time.monotonic()
    r = gm_node.sync_batch(crash_batch(1), timeout=120)
    first = time.monotonic() - t0
    assert r.status_code == 200 and r.json()["applied"] == CRASH_ZONES, r.text[:500]
    check_all(gm_node, {1})

    killed_in_flight = []
    version = 1
    for fraction in (0.5, 0.3, 0.15):
        version += 1
        payload = crash_batch(version)
        result = {}

        def send():
            try:
                result["r"] = gm_node.sync_batch(payload, timeout=120)
            except requests.RequestException as e:
                result["e"] = e

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(max(first * fraction, 0.01))
        in_flight = sender.is_alive()
        gm_node.kill(signal.SIGKILL)
        sender.join(130)
        gm_node.start()

        versions = check_all(gm_node, set(range(1, version + 1)))
        if "r" in result and result["r"].status_code == 200:
            assert set(versions.values()) == {version}, "acknowledged batch not applied"
        new = sum(1 for v in versions.values() if v == version)
        if in_flight:
            killed_in_flight.append((fraction, new))
            if 0 < new < CRASH_ZONES:
                break  # killed between two transactions: the strongest case

    assert killed_in_flight, ("the batch always finished before the kill (%.2f s for %d zones)"
                              % (first, CRASH_ZONES))


# --- configuration ---------------------------------------------------------------


def check_config(tmp_path, lines, files=None):
    """yumna-agent -n on a managed gmysql config plus 'lines'; returns
    (exit code, stderr)."""
    for name, (text, mode) in (files or {}).items():
        path = tmp_path / name
        path.write_text(text)
        os.chmod(path, mode)
    conf = tmp_path / "agent.conf"
    conf.write_text("\n".join(["secret = " + "s" * 40, "data-dir = %s" % (tmp_path / "data")]
                              + lines) + "\n")
    os.chmod(conf, 0o600)
    p = subprocess.run([harness.AGENT, "-n", "-c", str(conf)], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=10, cwd=str(tmp_path))
    return p.returncode, p.stderr.decode()


GMYSQL = ["backend = gmysql", "gmysql-user = pdns", "gmysql-dbname = pdns"]


@pytest.mark.parametrize("lines,files,message", [
    (["backend = gmysql", "gmysql-user = pdns"], None, "'gmysql-dbname'"),
    (["backend = gmysql", "gmysql-dbname = pdns"], None, "'gmysql-user'"),
    (GMYSQL + ["gmysql-password = x", "gmysql-password-file = PW"], {"PW": ("x\n", 0o600)},
     "not both"),
    (GMYSQL + ["gmysql-password-file = PW"], {"PW": ("x\n", 0o644)}, "readable by group"),
    (GMYSQL + ["gmysql-password-file = PW"], {"PW": ("a #b\n", 0o600)}, "pdns.conf"),
    (["gmysql-host = 127.0.0.1"], None, "needs 'backend = gmysql'"),
    (["backend = mysql"], None, "'backend'"),
], ids=["no-dbname", "no-user", "password-twice", "password-file-public",
        "password-breaks-pdns-conf", "gmysql-key-without-backend", "unknown-backend"])
def test_bad_gmysql_configuration_is_refused(tmp_path, lines, files, message):
    lines = [line.replace("PW", str(tmp_path / "PW")) for line in lines]

    code, err = check_config(tmp_path, lines, files)

    assert code != 0
    assert message in err


def test_gmysql_configuration_with_a_password_file_is_accepted(tmp_path):
    code, err = check_config(tmp_path, GMYSQL + ["gmysql-password-file = %s" % (tmp_path / "pw")],
                             {"pw": ("p#ss word\n", 0o600)})

    assert code == 0, err


def test_keys_pushed_alone_and_in_a_batch_are_served(gm_node):
    from test_dnssec import P256Key, assert_signed, pushed_key
    one, two = P256Key(), P256Key()
    r = gm_node.push("signed-one.gm.example.", 1, 1, basic_records(),
                     dnssec={"enabled": True, "keys": [pushed_key(one)]})
    assert r.status_code == 200, r.text
    r = gm_node.sync_batch([
        zone_payload("signed-two.gm.example.", 1, 1, basic_records(),
                     dnssec={"enabled": True, "keys": [pushed_key(two)]}),
        zone_payload("plain-two.gm.example.", 1, 1, basic_records())])
    assert r.status_code == 200 and r.json()["applied"] == 2, r.text
    for zone, key in (("signed-one.gm.example.", one), ("signed-two.gm.example.", two)):
        assert gm_node.dig(zone, "DNSKEY") == [key.dnskey().to_text()]
        assert_signed(gm_node, zone, "www." + zone, "A")
        assert gm_node.zones()[zone]["version"] == 1


@pytest.mark.parametrize("engine", ["gsqlite3", "gmysql"])
def test_a_batch_reads_every_zones_state_as_a_single_push_would(engine, request):
    """A batch reads its zones' states a window at a time: each zone, in
    whichever window and state, is judged as a push of it alone would be."""
    node = request.getfixturevalue("shared_node" if engine == "gsqlite3" else "gm_node")
    name = lambda kind, i: "%s%d.%s.window.example." % (kind, i, engine)  # noqa: E731
    a_of = lambda version: basic_records(a="192.0.2.%d" % version)  # noqa: E731
    # Before the batch: (kind, version held or deleted at, version pushed, outcome).
    kinds = [("new", None, 1, "applied"), ("older", 2, 3, "applied"),
             ("newer", 5, 4, "blocked"), ("same", 2, 2, "unchanged"),
             ("gone", 4, 3, "deleted"), ("back", 4, 5, "applied")]
    payloads, expect = [], {}
    for i in range(30):  # 180 zones: every kind in each of three windows
        for kind, held, pushed, outcome in kinds:
            z = name(kind, i)
            if held is not None:
                node.push_ok(z, held, held, a_of(held))
            if kind in ("gone", "back"):
                assert node.delete_zone(z, version=held).status_code == 200
            payloads.append(zone_payload(z, pushed, pushed, a_of(pushed)))
            expect[z] = (outcome, held, pushed)

    r = node.sync_batch(payloads)

    assert r.status_code == 200, r.text
    body = r.json()
    outcomes = [o for o, _, _ in expect.values()]
    assert body["applied"] == outcomes.count("applied")
    assert body["unchanged"] == outcomes.count("unchanged") + outcomes.count("blocked") + \
        outcomes.count("deleted")
    blocked = {b["zone"]: b for b in body["blocked"]}
    listed = node.zones()
    for z, (outcome, held, pushed) in expect.items():
        if outcome == "applied":
            assert z not in blocked and listed[z]["version"] == pushed, z
            assert node.dig("www." + z, "A") == ["192.0.2.%d" % pushed], z
        elif outcome == "unchanged":
            assert z not in blocked and listed[z]["version"] == held, z
        else:
            assert blocked[z] == {"zone": z, "version": held, "deleted": outcome == "deleted"}
            assert z not in listed or listed[z]["version"] == held, z


def test_a_presigned_zone_is_served_with_its_nsec_order_from_mysql(gm_node, mariadb, tmp_path):
    """A zone knotd signed, pushed with zone.presigned: MySQL holds its
    PRESIGNED metadata and the NSEC order the agent writes, and PowerDNS
    answers with knotd's signatures and NSEC proofs."""
    import dns.query
    import dns.zone
    from dns_primaries import KnotPrimary
    from test_secondary_presigned import nsec_proof, same_as_primary, wait_signed
    from test_secondary_zones import zone_file

    zone = "presigned-gmysql.example."
    primary = KnotPrimary(tmp_path / "knot", {zone: zone_file(zone, 7)}, signs=True)
    primary.start()
    try:
        wait_signed(primary, "www." + zone, "A")
        wait_signed(primary, zone, "DNSKEY")
        z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", zone, port=primary.port, timeout=10,
                                            relativize=False), relativize=False)
        records, serial = [], None
        for name, node in z.nodes.items():
            for rdataset in node:
                for rd in rdataset:
                    if rdataset.rdtype == dns.rdatatype.SOA:
                        serial = rd.serial
                    records.append(rec(name.to_text(), dns.rdatatype.to_text(rdataset.rdtype),
                                       rd.to_text(), ttl=rdataset.ttl))
        r = gm_node.push(zone, 1, serial, records)
        assert r.status_code == 422 and "signer" in r.text, r.text
        gm_node.push_ok(zone, 1, serial, records, presigned=True)

        assert same_as_primary(gm_node, primary, "www." + zone, "A") is True
        assert same_as_primary(gm_node, primary, zone, "DNSKEY") is True
        nx = "nowhere." + zone
        want = nsec_proof(primary.query(nx, "A"))
        assert want and nsec_proof(gm_node.query(nx, "A", dnssec=True)) == want
        meta = sql(mariadb, "SELECT m.content FROM domainmetadata m JOIN domains d ON "
                            "d.id = m.domain_id WHERE d.name = %s AND m.kind = 'PRESIGNED'",
                   (zone.rstrip("."),))
        assert meta == [("1",)]
        rows = {(r[0], r[1]): r for r in records_of(mariadb, zone)}
        assert rows[("www." + zone.rstrip("."), "A")][6] == "www"
        assert rows[(zone.rstrip("."), "SOA")][6] == ""
    finally:
        primary.stop()
