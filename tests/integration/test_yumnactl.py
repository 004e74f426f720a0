"""yumnactl end to end against a real cluster: exit codes, --json output
parsed, human tables, progress output on a terminal and off it, and where
the URL and token come from (flags, environment, a private config file, the
demo's cluster.json)."""

import http.server
import json
import os
import pty
import re
import select
import shutil
import subprocess
import threading

import pytest

import cluster as cl
import harness

pytest_plugins = ["cluster_fixtures"]

CTL = os.environ.get("YUMNA_CTL") or os.path.join(harness.BUILD, "src", "cli", "yumnactl")
HERE = os.path.dirname(os.path.abspath(__file__))

OK, FAILED, USAGE, CONFIG, UNREACHABLE, DENIED, NOT_FOUND, REFUSED, PARTIAL, UNSUPPORTED = range(10)


class Ctl:
    def __init__(self, c, home):
        self.c = c
        self.home = str(home)

    def env(self, token=None, url=None, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("YUMNA_")}
        env["HOME"] = self.home   # no config file of the machine's user
        env["YUMNA_URL"] = url or self.c.whm.url
        env["YUMNA_TOKEN"] = token or self.c.whm.admin_token
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def run(self, *args, expect=OK, env=None, input=None, token=None):
        p = subprocess.run([CTL] + [str(a) for a in args], env=env or self.env(token=token),
                           input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=120)
        assert p.returncode == expect, "yumnactl %s -> %d (want %d)\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, args)), p.returncode, expect, p.stdout, p.stderr)
        return p

    def json(self, *args, **kw):
        return json.loads(self.run("--json", *args, **kw).stdout)


def read_tty(master, answers=()):
    """What a program wrote on the terminal 'master' until it closed it;
    each (prompt, reply) of 'answers' is typed, in turn, once its prompt
    was seen. The replies not typed are left in 'answers'."""
    tty = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
        if answers and answers[0][0] in tty:
            os.write(master, answers.pop(0)[1])
    return tty


@pytest.fixture
def ctl(shared_cluster, tmp_path):
    return Ctl(shared_cluster, tmp_path)


def command_lines():
    p = subprocess.run([CTL, "--help"], stdout=subprocess.PIPE, text=True,
                       env=harness.sanitizer_env())
    cmds = []
    for line in p.stdout.split("commands:\n")[1].splitlines():
        if not line.startswith("  "):
            break
        words = line.split()
        cmds.append(words[:2] if words[0] in
                    ("zones", "records", "rrset", "servers", "nodes", "tokens",
                                     "dnssec") else words[:1])
    return cmds


def test_every_command_has_help_and_needs_no_controller_for_it(tmp_path):
    cmds = command_lines()
    assert len(cmds) >= 25, cmds
    env = dict(harness.sanitizer_env(), HOME=str(tmp_path), PATH=os.environ.get("PATH", ""))
    for cmd in cmds:
        p = subprocess.run([CTL] + cmd + ["--help"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        assert p.returncode == OK, (cmd, p.stderr)
        assert p.stdout.startswith("usage: yumnactl [global options] " + " ".join(cmd)), p.stdout
    p = subprocess.run([CTL, "zones"], env=env, stderr=subprocess.PIPE, text=True)
    assert p.returncode == USAGE and "zones create" in p.stderr
    p = subprocess.run([CTL, "frobnicate"], env=env, stderr=subprocess.PIPE, text=True)
    assert p.returncode == USAGE and "unknown command" in p.stderr


def test_records_add_unquoted_txt_is_one_string_everywhere(ctl, domain):
    """Issue 13: `records add example.com @ TXT "v=spf1 -all"` (the shell
    drops the quotes) was served as "v=spf1" "-all", which breaks SPF."""
    c = ctl.c
    ctl.json("--wait", "zones", "create", domain)

    ctl.json("--wait", "records", "add", domain, "@", "TXT", "v=spf1 -all")

    assert c.answers(domain + ".", "TXT") == {n.name: ['"v=spf1 -all"'] for n in c.nodes}
    listed = ctl.run("records", "list", domain).stdout
    assert "v=spf1 -all" in listed and '"' not in listed


def test_international_zone_by_either_name_with_both_shown(ctl, domain):
    """Issue 13: `yumnactl zones create bücher.example` was refused."""
    c = ctl.c
    uname, aname = "b\u00fccher." + domain, "xn--bcher-kva." + domain
    created = ctl.json("--wait", "zones", "create", uname)
    assert created["synced"] is True, created
    zid = created["zoneId"]
    assert len(c.answers(aname + ".", "SOA")["ns1"]) == 1

    listed = [l for l in ctl.run("zones", "list").stdout.splitlines() if aname in l]
    assert len(listed) == 1 and uname in listed[0], listed
    shown = ctl.run("zones", "show", uname).stdout
    assert "zone     %s (%s) (id %d)" % (aname, uname, zid) in shown, shown
    ctl.json("--wait", "records", "add", uname, "stra\u00dfe", "A", "192.0.2.5")
    assert c.answers("xn--strae-oqa.%s." % aname, "A") == {n.name: ["192.0.2.5"]
                                                          for n in c.nodes}
    rows = [l for l in ctl.run("records", "list", aname).stdout.splitlines()
            if "192.0.2.5" in l]
    assert len(rows) == 1 and "xn--strae-oqa (stra\u00dfe)" in rows[0], rows
    # The audit log by the zone's U-labels, A-labels or id: the same entries.
    by = [ctl.json("audit", "--zone", z)["entries"] for z in (uname, aname, str(zid))]
    assert by[0] and by[0] == by[1] == by[2], by
    assert {e["zone"] for e in by[0]} == {aname}, by[0]
    ctl.run("audit", "--zone", "999999", expect=NOT_FOUND)
    # A name IDNA2008 refuses: the controller's reason, exit code 7.
    p = ctl.run("zones", "create", "b\u2665cher.example", expect=REFUSED)
    assert "U+2665" in p.stderr, p.stderr


def test_zone_and_record_lifecycle_with_json_output(ctl, domain):
    c = ctl.c
    created = ctl.json("--wait", "zones", "create", domain)
    assert created["success"] is True and created["synced"] is True
    zid = created["zoneId"]
    added = ctl.json("--wait", "records", "add", domain, "www", "A", "192.0.2.1", "--ttl", "300")
    assert added["synced"] is True and len(added["nodes"]) == 3
    c.wait_all_nodes("www.%s." % domain, "A", ["192.0.2.1"], timeout=2)
    mx = ctl.json("records", "add", "--priority", "10", str(zid), "@", "MX", "mail.example.net.")
    records = ctl.json("records", "list", domain + ".")
    assert {(r["name"], r["type"], r["content"], r["ttl"]) for r in records} >= {
        ("www", "A", "192.0.2.1", 300), ("@", "MX", "mail.example.net.", 3600)}
    shown = ctl.json("zones", "show", domain)
    assert shown["zone"]["id"] == zid and len(shown["records"]) == len(records)
    assert any(z["id"] == zid for z in ctl.json("zones", "list"))

    ctl.json("--wait", "records", "update", added["id"], "www", "A", "192.0.2.2")
    c.wait_all_nodes("www.%s." % domain, "A", ["192.0.2.2"], timeout=2)
    ctl.json("records", "delete", mx["id"])
    repl = [{"name": "@", "type": "NS", "content": "ns1.yumna.test."},
            {"name": "@", "type": "NS", "content": "ns2.yumna.test."},
            {"name": "api", "type": "AAAA", "content": "2001:db8::1"}]
    ctl.json("--wait", "records", "replace", domain, "-", input=json.dumps(repl))
    assert sorted(r["name"] for r in c.whm.records(zid)) == ["@", "@", "api"]
    c.wait_all_nodes("api.%s." % domain, "AAAA", ["2001:db8::1"], timeout=2)

    deleted = ctl.json("--wait", "zones", "delete", domain)
    assert deleted["synced"] is True
    c.wait_rcode(domain + ".", "SOA", "REFUSED", timeout=5)


def test_human_output_is_tables(ctl, domain):
    ctl.run("--wait", "zones", "create", domain)
    out = ctl.run("--wait", "records", "add", domain, "www", "A", "192.0.2.1").stdout
    assert out.startswith("record created: zone ") and out.count("applied") == 3, out
    zid = ctl.c.whm.zones()[domain + "."]["id"]
    ctl.c.whm.call("POST", "/api/dns/%d/records" % zid, {
        "name": "off", "type": "A", "content": "192.0.2.9", "disabled": True},
        params={"wait": "all"}, expect=201)
    out = ctl.run("zones", "show", domain).stdout
    assert "zone     %s" % domain in out
    lines = out.splitlines()
    header = next(l for l in lines if l.startswith("ID "))
    assert header.split() == ["ID", "NAME", "TTL", "TYPE", "PRIO", "CONTENT"]
    assert any(l.split()[1:] == ["www", "3600", "A", "192.0.2.1"] for l in lines)
    assert any(l.split()[1:] == ["off", "3600", "A", "192.0.2.9", "(disabled)"] for l in lines)
    # A record disabled is a change a diff shows as such.
    off = next(r for r in ctl.c.whm.records(zid) if r["name"] == "www")
    before = ctl.c.whm.zone(zid)["version"]
    ctl.c.whm.call("PUT", "/api/dns/records/%d" % off["id"], {
        "name": "www", "type": "A", "content": "192.0.2.1", "disabled": True},
        params={"wait": "all"}, expect=200)
    d = ctl.run("zones", "diff", domain, before).stdout.splitlines()
    assert d[1:] == ["- www 3600 A 192.0.2.1", "+ www 3600 A 192.0.2.1 (disabled)"], d
    # Every change above waited for every node: the cluster is in sync.
    status = ctl.run("status").stdout
    assert "3 nodes, 3 online, 0 offline — every node online and in sync" in status
    rows = [l.split() for l in status.splitlines() if l[:1].isdigit()]
    assert [r[3] for r in rows] == ["online"] * 3, status
    # Every cell its own value: ID and host as the JSON says, then the
    # PowerDNS version and the zone counts (in sync, behind, failing, deleting).
    nodes = ctl.json("status")["nodes"]
    assert [r[:2] for r in rows] == [[str(n["nodeId"]), n["hostname"]] for n in nodes], status
    assert [r[4:9] for r in rows] == [
        [n["dnsStatus"]["version"]] + [str(n["zones"][k]) for k in
                                       ("in_sync", "behind", "failing", "deleting")]
        for n in nodes], status
    health = ctl.run("health").stdout
    assert health.startswith("3 of 3 nodes healthy")
    servers = ctl.run("servers", "list").stdout.splitlines()
    assert servers[0].split()[:2] == ["ID", "NAME"] and len(servers) == 4


def test_exit_codes_say_what_went_wrong(ctl, domain, tmp_path):
    c = ctl.c
    ctl.run("zones", "create", domain)
    r = ctl.run("zones", "create", domain, expect=REFUSED)
    assert "already exists" in r.stderr
    r = ctl.run("records", "add", domain, "www", "A", "192.0.2.300", expect=REFUSED)
    assert "HTTP 422" in r.stderr
    ctl.run("zones", "show", "no-such-zone.test", expect=NOT_FOUND)
    ctl.run("zones", "show", "999999", expect=NOT_FOUND)
    ctl.run("records", "delete", "999999", expect=NOT_FOUND)
    ctl.run("records", "add", domain, "www", expect=USAGE)
    ctl.run("records", "add", "--ttl", "soon", domain, "www", "A", "192.0.2.1", expect=USAGE)
    r = ctl.run("zones", "create", "x-" + domain, token=c.whm.read_token, expect=DENIED)
    assert "HTTP 403" in r.stderr
    ctl.run("zones", "list", token="not-a-token", expect=DENIED)
    port = harness.free_port()
    r = ctl.run("zones", "list", env=ctl.env(url="http://127.0.0.1:%d" % port),
                expect=UNREACHABLE)
    assert "did not answer" in r.stderr
    ctl.run("zones", "list", env=ctl.env(url="https://127.0.0.1:1"), expect=CONFIG)
    ctl.run("zones", "list", env=ctl.env(url="ftp://x"), expect=CONFIG)
    # DNSSEC is another part of the controller: either it answers, or the
    # CLI says plainly that it is not there.
    p = subprocess.run([CTL, "dnssec", "status", domain], env=ctl.env(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode in (OK, UNSUPPORTED), p.stderr
    if p.returncode == UNSUPPORTED:
        assert "does not offer DNSSEC" in p.stderr
    ctl.run("dnssec", "status", "no-such-zone.test", expect=NOT_FOUND)


def test_global_options_go_anywhere_and_timeout_is_seconds(ctl, domain):
    import socket
    import time

    listed = json.loads(ctl.run("zones", "list", "--json").stdout)
    assert isinstance(listed, list)
    made = json.loads(ctl.run("zones", "create", domain, "--wait", "--json").stdout)
    assert made["synced"] is True and made["zoneId"] > 0, made
    shown = json.loads(ctl.run("zones", "show", "--json", domain).stdout)
    assert shown["zone"]["domain"] == domain
    # A global option after the command is the global one ...
    ctl.run("zones", "list", "--url=http://127.0.0.1:1", expect=UNREACHABLE)
    ctl.run("zones", "list", "--url", "http://127.0.0.1:1", expect=UNREACHABLE)
    # ... unless after "--", and --help after a command is the command's.
    ctl.run("zones", "show", "--", "--json", expect=NOT_FOUND)
    r = ctl.run("zones", "list", "--help")
    assert r.stdout.startswith("usage: yumnactl [global options] zones list")
    ctl.run("zones", "list", "--json=yes", expect=USAGE)
    ctl.run("zones", "list", "--timeout", expect=USAGE)

    for bad in ("0", "5x", "1.5", "-1", "90000", "2d"):
        r = ctl.run("--timeout", bad, "zones", "list", expect=USAGE)
        assert "--timeout is in seconds" in r.stderr, r.stderr
    for good in ("2", "500ms", "1m", "1h"):
        ctl.run("zones", "list", "--timeout", good)
    r = ctl.run("--timeout", "30000", "zones", "list")
    assert "note: --timeout 30000 is 30000 seconds" in r.stderr, r.stderr
    # The bound holds: a controller that never answers.
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)
    try:
        url = "http://127.0.0.1:%d" % hang.getsockname()[1]
        t0 = time.monotonic()
        ctl.run("zones", "list", "--url", url, "--timeout", "1", expect=UNREACHABLE)
        assert time.monotonic() - t0 < 5
        t0 = time.monotonic()
        ctl.run("--timeout=300ms", "--url", url, "zones", "list", expect=UNREACHABLE)
        assert time.monotonic() - t0 < 3
    finally:
        hang.close()


def test_sources_of_url_and_token(ctl, tmp_path):
    c = ctl.c
    bare = dict(harness.sanitizer_env(), HOME=str(tmp_path), PATH=os.environ.get("PATH", ""))
    r = ctl.run("zones", "list", env=bare, expect=CONFIG)
    assert "no controller URL" in r.stderr

    token_file = tmp_path / "token"
    token_file.write_text(c.whm.admin_token + "\n")
    token_file.chmod(0o600)
    ctl.run("--url", c.whm.url, "--token-file", token_file, "zones", "list", env=bare)
    token_file.chmod(0o644)
    ctl.run("--url", c.whm.url, "--token-file", token_file, "zones", "list", env=bare,
            expect=CONFIG)
    # A name resolves: the client itself speaks to addresses only.
    ctl.run("--url", c.whm.url.replace("127.0.0.1", "localhost"), "--token",
            c.whm.admin_token, "zones", "list", env=bare)

    conf = tmp_path / "yumnactl.conf"
    conf.write_text("url = %s\ntoken = %s\ntimeout-ms = 5000\n" % (c.whm.url, c.whm.admin_token))
    conf.chmod(0o600)
    ctl.run("--config", conf, "zones", "list", env=bare)
    ctl.run("zones", "list", env=dict(bare, YUMNA_CONFIG=str(conf)))
    home_conf = tmp_path / ".config" / "yumna"
    home_conf.mkdir(parents=True)
    shutil.copy(conf, home_conf / "yumnactl.conf")
    (home_conf / "yumnactl.conf").chmod(0o600)
    ctl.run("zones", "list", env=bare)
    conf.chmod(0o640)
    r = ctl.run("--config", conf, "zones", "list", env=bare, expect=CONFIG)
    assert "readable by others" in r.stderr
    conf.chmod(0o600)
    conf.write_text("url = %s\ncolour = blue\n" % c.whm.url)
    r = ctl.run("--config", conf, "zones", "list", env=bare, expect=CONFIG)
    assert "colour" in r.stderr

    # The shipped sample, pointed at this controller, is a valid config.
    with open(os.path.join(HERE, "..", "..", "etc", "yumnactl.conf.sample")) as f:
        sample = f.read()
    token_file.chmod(0o600)
    conf.write_text(sample.replace("http://127.0.0.1:4000", c.whm.url)
                    .replace("/etc/yumna/yumnactl.token", str(token_file)))
    ctl.run("--config", conf, "zones", "list", env=bare)

    # Flags win over the environment.
    ctl.run("--token", "wrong", "zones", "list", expect=DENIED)

    demo = tmp_path / "demo" / "cluster.json"
    demo.parent.mkdir()
    demo.write_text(json.dumps({"nodes": [], "whm": {"url": c.whm.url,
                                                     "token": c.whm.admin_token, "pid": 1}}))
    demo.chmod(0o600)
    ctl.run("--demo=%s" % demo, "zones", "list", env=bare)
    p = subprocess.run([CTL, "--demo", "status"], env=bare, cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == OK, p.stderr
    demo.chmod(0o644)
    ctl.run("--demo=%s" % demo, "zones", "list", env=bare, expect=CONFIG)


def test_import_and_export_through_the_cli(ctl, domain, tmp_path):
    c = ctl.c
    zone = domain + "."
    zid = ctl.json("zones", "create", domain)["zoneId"]
    with open(os.path.join(HERE, "zonefiles", "shop.zone")) as f:
        text = f.read().replace("{zone}", zone)
    src = tmp_path / "shop.zone"
    src.write_text(text)
    answer = ctl.json("--wait", "import", "--replace", domain, src)
    assert answer["synced"] is True and answer["imported"] == 21
    out = tmp_path / "out.zone"
    ctl.run("export", "-o", out, domain)
    p = subprocess.run(["named-checkzone", zone, str(out)], stdout=subprocess.PIPE, text=True)
    assert p.returncode == 0, p.stdout
    assert ctl.json("export", zid)["content"] == out.read_text()

    before = c.whm.records(zid)
    with open(os.path.join(HERE, "zonefiles", "broken.zone")) as f:
        broken = f.read().replace("{zone_nodot}", domain).replace("{zone}", zone)
    r = ctl.run("import", "--replace", domain, "-", input=broken, expect=REFUSED)
    assert "nothing was imported" in r.stderr
    for line in (4, 5, 6, 8, 9, 10, 11):
        assert "  line %d: " % line in r.stderr, r.stderr
    assert c.whm.records(zid) == before
    r53 = {"ResourceRecordSets": [{"Name": "r53." + zone, "Type": "A", "TTL": 60,
                                   "ResourceRecords": [{"Value": "192.0.2.53"}]}]}
    ctl.run("import", "--format", "route53", domain, "-", input=json.dumps(r53))
    c.wait_all_nodes("r53." + zone, "A", ["192.0.2.53"], timeout=5)
    ctl.run("import", "--replace", "--merge", domain, src, expect=USAGE)
    ctl.run("import", domain, tmp_path / "missing.zone", expect=USAGE)


def test_zone_soa_set_shown_and_kept_on_import_and_reimport_is_no_change(ctl, domain,
                                                                          tmp_path):
    c = ctl.c
    zone = domain + "."
    zid = ctl.json("zones", "create", domain)["zoneId"]
    shown = ctl.run("zones", "show", domain).stdout
    assert "soa      mname %s, rname %s" % (harness.SOA_MNAME, harness.SOA_RNAME) in shown
    assert "the cluster's soa-* settings" in shown

    r = ctl.run("--wait", "zones", "set-soa", "--mname", "ns1." + domain, "--refresh", "2h",
                "--minimum", "300", domain)
    assert "SOA of zone %s set" % domain in r.stdout, r.stdout
    shown = ctl.run("zones", "show", domain).stdout
    assert "mname ns1.%s*" % zone in shown and "refresh 7200*" in shown, shown
    assert "minimum 300*" in shown and "retry 3600," in shown, shown
    assert c.answers(zone, "SOA")[c.nodes[0].name][0].startswith("ns1." + zone)
    r = ctl.run("zones", "set-soa", "--refresh", "7200", domain)
    assert "nothing changed" in r.stdout, r.stdout
    ctl.run("zones", "set-soa", "--refresh", "1y", domain, expect=USAGE)
    ctl.run("zones", "set-soa", "--refresh", "30", domain, expect=REFUSED)
    ctl.run("zones", "set-soa", domain, expect=USAGE)
    ctl.run("zones", "set-soa", "--mname", "default", domain)
    assert ctl.json("zones", "show", domain)["zone"]["soa"]["own"] == ["refresh", "minimum"]
    # Each change of SOA fields is a version in the history and the audit log.
    soa_changes = ctl.json("audit", "--zone", domain, "--action", "zone.soa")["entries"]
    assert len(soa_changes) == 2 and soa_changes[0]["summary"] == \
        'set the SOA: mname (the cluster\'s)', soa_changes
    assert ctl.json("zones", "history", domain)["versions"][0]["action"] == "zone.soa"

    src = tmp_path / "soa.zone"
    src.write_text("@ IN SOA ns9.example.org. ops.example.org. 1 3h 1h 2w 1h\n"
                   "@ IN NS ns.example.net.\nwww IN A 192.0.2.8\n")
    r = ctl.run("import", "--replace", "--keep-soa", domain, src)
    assert "the zone now has the file's SOA fields" in r.stdout, r.stdout
    soa = ctl.json("zones", "show", domain)["zone"]["soa"]
    assert (soa["mname"], soa["refresh"], soa["minimum"]) == ("ns9.example.org.", 10800, 3600)
    version = soa["serial"]
    r = ctl.run("import", "--replace", "--keep-soa", domain, src)
    assert "nothing changed" in r.stdout, r.stdout
    assert ctl.json("zones", "show", zid)["zone"]["soa"]["serial"] == version
    # The re-import made no version: the last one is still the first import.
    assert ctl.json("zones", "history", domain)["versions"][0]["action"] == \
        "zone.import.replace"


def test_history_diff_rollback_and_audit_through_the_cli(ctl, domain):
    c = ctl.c
    zid = c.create_zone(domain)
    one = c.add_record(zid, "www", "A", "192.0.2.1")
    two = c.add_record(zid, "www", "A", "192.0.2.2")

    h = ctl.json("zones", "history", domain)
    assert h["zoneId"] == zid
    assert [v["action"] for v in h["versions"]] == ["record.create", "record.create",
                                                    "zone.create"]
    out = ctl.run("zones", "history", domain).stdout
    assert out.split()[:6] == ["VERSION", "SERIAL", "TIME", "ACTOR", "ACTION", "SUMMARY"]
    assert "tests-admin" in out and "add www A 192.0.2.2" in out
    assert "(more: yumnactl zones history %s --before %d)" % (domain, two["version"]) in \
        ctl.run("zones", "history", "--limit", "1", domain).stdout

    d = ctl.run("zones", "diff", domain, one["version"], two["version"]).stdout.splitlines()
    assert d[0] == "zone %s, version %d -> %d: 0 added, 0 removed, 1 changed" % (
        domain, one["version"], two["version"])
    assert d[1:] == ["- www 3600 A 192.0.2.1", "+ www 3600 A 192.0.2.1",
                     "+ www 3600 A 192.0.2.2"]
    assert ctl.json("zones", "diff", zid, one["version"])["to"] == two["version"]
    ctl.run("zones", "diff", domain, two["version"], one["version"], expect=USAGE)
    ctl.run("zones", "diff", domain, "x", expect=USAGE)
    ctl.run("zones", "diff", domain, two["version"] + 100, expect=NOT_FOUND)

    ctl.run("zones", "rollback", domain, one["version"], token=c.whm.read_token, expect=DENIED)
    r = ctl.json("--wait", "zones", "rollback", domain, one["version"])
    assert r["changed"] is True and r["synced"] is True and r["version"] == two["version"] + 1
    assert c.answers("www.%s." % domain, "A") == {n.name: ["192.0.2.1"] for n in c.nodes}
    out = ctl.run("zones", "rollback", domain, one["version"]).stdout
    assert "nothing changed" in out
    ctl.run("zones", "rollback", domain, two["version"] + 100, expect=NOT_FOUND)

    a = ctl.json("audit", "--zone", domain, "--limit", "2")
    assert [e["action"] for e in a["entries"]] == ["zone.rollback", "record.create"]
    out = ctl.run("audit", "--zone", domain, "--action", "zone.rollback", "--since", "1h",
                  "--actor", "tests-admin").stdout
    assert "zone.rollback" in out and "roll back to version %d" % one["version"] in out
    assert ctl.json("audit", "--zone", domain, "--until", "2000-01-01")["entries"] == []
    ctl.run("audit", "--limit", "5000", expect=REFUSED)
    ctl.run("audit", "--since", "soon", expect=REFUSED)
    ctl.run("audit", "--limit", "x", expect=USAGE)


def test_sync_of_one_zone_reports_every_node(ctl, domain):
    ctl.run("zones", "create", domain)
    answer = ctl.json("sync", domain)
    assert answer["totalNodes"] == 3 and answer["successCount"] == 3
    out = ctl.run("sync", domain).stdout
    assert "pushed to 3 of 3 nodes" in out and out.count("applied") == 3


def test_full_sync_progress_as_plain_lines_json_and_a_bar_on_a_terminal(ctl, domain):
    c = ctl.c
    for i in range(30):
        c.create_zone("p%d-%s" % (i, domain), wait=False)
    node = c.nodes[1].server_id

    plain = ctl.run("sync-all", "--interval-ms", "20", node).stdout.splitlines()
    progress = [l for l in plain if l.startswith("progress: ")]
    assert progress and progress[-1].endswith(", 0 failing, done"), plain
    total = int(progress[-1].split("/")[1].split()[0])
    assert total >= 30 and progress[-1].startswith("progress: %d/%d" % (total, total))
    assert plain[-1] == "node %d is in sync" % node
    assert all("\r" not in l for l in plain)

    final = ctl.json("sync-all", node)
    assert final["done"] is True and final["behind"] == 0 and final["inSync"] == total

    # On a terminal: a bar redrawn in place on stderr.
    master, slave = pty.openpty()
    p = subprocess.Popen([CTL, "sync-all", "--interval-ms", "20", str(node)], env=ctl.env(),
                         stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    tty = read_tty(master)
    stdout, _ = p.communicate(timeout=60)
    os.close(master)
    assert p.returncode == OK
    bar = tty.decode()
    assert "\r[" in bar and "] %d/%d zones in sync" % (total, total) in bar, repr(bar)
    assert "#" * 40 in bar
    assert "progress:" not in stdout


def test_full_sync_of_an_unknown_server_is_not_found(ctl):
    ctl.run("sync-all", "999999", expect=NOT_FOUND)


def test_tokens_create_list_revoke(ctl, tmp_path):
    c = ctl.c
    r = ctl.run("tokens", "create", "--role", "read", "ci-reader")
    token = r.stdout.strip()
    assert len(token) == 64 and "shown only now" in r.stderr
    listed = ctl.json("tokens", "list")
    mine = [t for t in listed if t["name"] == "ci-reader" and not t["revoked"]]
    assert len(mine) == 1 and mine[0]["role"] == "read"
    assert all("token" not in t and "hash" not in t for t in listed)
    assert token not in json.dumps(listed)

    ctl.run("zones", "list", token=token)
    ctl.run("zones", "create", "never.test", token=token, expect=DENIED)
    ctl.run("tokens", "list", token=token, expect=DENIED)
    ctl.run("tokens", "create", "--role", "admin", "x", token=token, expect=DENIED)

    made = ctl.json("tokens", "create", "--role", "admin", "ci-admin")
    assert made["role"] == "admin" and len(made["token"]) == 64
    ctl.run("zones", "list", token=made["token"])
    ctl.run("tokens", "revoke", mine[0]["id"])
    ctl.run("zones", "list", token=token, expect=DENIED)
    ctl.run("tokens", "revoke", "999999", expect=NOT_FOUND)
    ctl.run("tokens", "create", "--role", "root", "x", expect=USAGE)
    ctl.run("tokens", "create", "x", expect=USAGE)
    r = c.whm.post("/api/dns/tokens", {"name": "x", "role": "root"})
    assert r.status_code == 422
    for name in ("a\x1b]0;owned\x07", "tab\there", "caf\u00e9", "", "x" * 64):
        r = c.whm.post("/api/dns/tokens", {"name": name, "role": "read"})
        assert r.status_code == 422, (name, r.text)


def test_servers_and_nodes_add_sync_and_remove(cluster, tmp_path):
    c = cluster
    ctl = Ctl(c, tmp_path)
    zid = c.create_zone("members.test")
    c.add_record(zid, "www", "A", "192.0.2.44")
    node = c.new_node("ns9")
    node.start()
    secret = tmp_path / "secret"
    secret.write_text(node.secret + "\n")
    secret.chmod(0o644)
    ctl.run("servers", "add", "--agent-port", node.api_port, "--secret-file", secret, "ns9",
            node.address, expect=CONFIG)
    secret.chmod(0o600)
    ctl.run("servers", "add", "--agent-port", node.api_port, "ns9", node.address, expect=USAGE)
    wrong = tmp_path / "wrong"
    wrong.write_text("W" * 40 + "\n")
    wrong.chmod(0o600)
    r = ctl.run("servers", "add", "--agent-port", node.api_port, "--secret-file", wrong, "ns9",
                node.address, expect=REFUSED)
    assert "refused" in r.stderr and "W" * 40 not in r.stderr + r.stdout, r.stderr
    r = ctl.run("servers", "add", "--agent-port", harness.free_port(), "--secret-file", secret,
                "ns9", node.address, expect=FAILED)
    assert "did not answer" in r.stderr, r.stderr
    assert "ns9" not in [s["name"] for s in ctl.json("servers", "list")]
    added = ctl.json("servers", "add", "--agent-port", node.api_port, "--secret-file", secret,
                     "ns9", node.address)
    assert "agent_secret" not in added and node.secret not in json.dumps(added)
    node.server_id = added["id"]
    r = ctl.run("servers", "update", "--secret-file", wrong, node.server_id, expect=REFUSED)
    assert "refused" in r.stderr, r.stderr
    ctl.run("servers", "update", node.server_id, expect=USAGE)   # nothing to change
    updated = ctl.json("servers", "update", "--hostname", "ns9.example.test", "--secret-file",
                       secret, "--agent-port", node.api_port, node.server_id)
    assert updated["hostname"] == "ns9.example.test" and updated["name"] == "ns9"
    assert "updated" in ctl.run("servers", "update", "--name", "ns9b", node.server_id).stdout
    assert node.dig("www.members.test.", "A") != ["192.0.2.44"]
    ctl.run("nodes", "add", node.server_id)
    c.wait_all_nodes("www.members.test.", "A", ["192.0.2.44"], nodes=[node], timeout=10)
    nodes = ctl.json("nodes", "list")["nodes"]
    assert node.server_id in [n["nodeId"] for n in nodes]

    ctl.run("sync-all", node.server_id)
    r = ctl.run("nodes", "remove", node.server_id)
    assert "warning:" in r.stderr and "no longer be updated" in r.stderr, r.stderr
    assert node.dig("www.members.test.", "A") == ["192.0.2.44"]
    r = ctl.run("servers", "remove", node.server_id)
    assert "zones deleted from the node: 1" in r.stdout and r.stderr == "", (r.stdout, r.stderr)
    c.wait_rcode("www.members.test.", "A", "REFUSED", nodes=[node], timeout=10)
    assert node.server_id not in [s["id"] for s in ctl.json("servers", "list")]
    ctl.run("servers", "remove", node.server_id, expect=NOT_FOUND)


def test_servers_remove_refuses_an_unreachable_node_unless_forced_or_keeping(cluster, tmp_path):
    c = cluster
    ctl = Ctl(c, tmp_path)
    c.create_zone("remove-cli.test")
    down, other = c.nodes[2], c.nodes[1]
    down.stop_agent()

    r = ctl.run("servers", "remove", down.server_id, expect=REFUSED)
    assert "cannot delete its zones" in r.stderr and "--force" in r.stderr, r.stderr
    r = ctl.run("nodes", "remove", "--purge", down.server_id, expect=REFUSED)
    assert down.server_id in [n["nodeId"] for n in ctl.json("nodes", "list")["nodes"]]
    r = ctl.run("servers", "remove", "--force", down.server_id, expect=PARTIAL)
    assert "warning:" in r.stderr and "could not be deleted" in r.stderr, r.stderr
    r = ctl.run("servers", "remove", "--keep-zones", other.server_id)
    assert "warning:" in r.stderr and "keeps serving" in r.stderr, r.stderr
    assert other.zones() != {}
    assert sorted(s["id"] for s in ctl.json("servers", "list")) == [c.nodes[0].server_id]


def test_dnssec_commands_sign_show_ds_and_unsign_or_say_it_is_missing(ctl, domain):
    c = ctl.c
    zid = ctl.json("zones", "create", domain)["zoneId"]
    probe = c.whm.get("/api/dns/%d/dnssec" % zid)
    assert probe.status_code == 200, cl.describe(probe)

    signed = ctl.json("--wait", "dnssec", "sign", domain)
    assert signed["enabled"] is True and signed["ds"], signed
    assert signed.get("synced", True) is True
    ds = ctl.run("dnssec", "ds", domain).stdout.split("\n")[:-1]
    assert ds == signed["ds"]
    human = ctl.run("dnssec", "status", domain).stdout
    assert "signed     yes" in human and ds[0] in human
    for key in signed["dnskey"]:
        assert "%s. IN DNSKEY %s" % (domain, key) in human, human
    assert "rollover   none in progress" in human, human
    assert "yumnactl dnssec roll --key csk %s" % domain in human, human
    assert "/api/" not in human and "POST" not in human, human
    for node in c.nodes:
        keys = node.dig(domain + ".", "DNSKEY")
        assert keys and keys == c.nodes[0].dig(domain + ".", "DNSKEY")
    r = ctl.run("dnssec", "unsign", domain, expect=REFUSED)
    assert "HTTP 409" in r.stderr
    ctl.run("--wait", "dnssec", "unsign", "--force", domain)
    assert ctl.json("dnssec", "status", domain)["enabled"] is False
    r = ctl.run("dnssec", "ds", domain, expect=FAILED)
    assert r.stdout == "" and "no DS" in r.stderr and "dnssec sign" in r.stderr, r.stderr
    ctl.run("--json", "dnssec", "ds", domain, expect=FAILED)
    ctl.run("dnssec", "sign", "--scheme", "sideways", domain, expect=REFUSED)
    ctl.run("dnssec", "roll", "--key", "csk", domain, expect=REFUSED)   # not signed
    ctl.run("--wait", "dnssec", "sign", domain)
    ctl.run("dnssec", "roll", domain, expect=REFUSED)                   # which key?
    rolled = ctl.json("dnssec", "roll", "--key", "csk", domain)
    assert rolled["rollover"]["state"] == "rolling", rolled["rollover"]
    assert len(rolled["ds"]) == 2, rolled                               # old and new key
    r = ctl.run("dnssec", "roll", "--ds-published", domain, expect=REFUSED)
    assert "HTTP 409" in r.stderr, r.stderr                             # too early
    assert re.search(r"may be given to the parent from \d{4}-\d\d-\d\d \d\d:\d\d UTC, "
                     r"in \d+ (h|min|s)", r.stderr), r.stderr
    human = ctl.run("dnssec", "status", domain).stdout
    assert "rollover   csk, step 1 of 2: the new key is published" in human, human
    assert re.search(r"next step  not before \d{4}-\d\d-\d\d \d\d:\d\d UTC, in \d+ (h|min|s)",
                     human), human
    assert "yumnactl dnssec roll --ds-published %s" % domain in human, human
    assert "/api/" not in human and "POST" not in human, human


def test_rrset_replace_set_ttl_and_delete_reach_every_node(ctl, domain):
    c = ctl.c
    zid = ctl.json("--wait", "zones", "create", domain)["zoneId"]
    www = "www.%s." % domain

    out = ctl.run("--wait", "rrset", "replace", "--ttl", "5m", domain, "www", "A",
                  "192.0.2.1", "192.0.2.2").stdout
    assert out.startswith("rrset replaced: zone %d, version " % zid), out
    assert c.answers(www, "A") == {n.name: ["192.0.2.1", "192.0.2.2"] for n in c.nodes}
    ctl.json("--wait", "rrset", "replace", domain, "@", "MX", "10 mx1", "20 mx2")
    assert c.answers(domain + ".", "MX") == {
        n.name: ["10 mx1.%s." % domain, "20 mx2.%s." % domain] for n in c.nodes}
    ctl.json("--wait", "rrset", "replace", "--priority", "5", domain, "@", "MX", "mx3")
    assert c.answers(domain + ".", "MX") == {n.name: ["5 mx3.%s." % domain] for n in c.nodes}
    ids = {r["content"]: r["id"] for r in c.whm.records(zid) if r["type"] == "A"}

    done = ctl.json("--wait", "rrset", "set-ttl", domain, www, "a", "1h")

    assert done["synced"] is True, done
    a = [r for r in c.whm.records(zid) if r["type"] == "A"]
    assert {(r["content"], r["ttl"]) for r in a} == {("192.0.2.1", 3600), ("192.0.2.2", 3600)}
    assert ctl.json("--wait", "rrset", "set-ttl", domain, "@", "MX", "60")["synced"] is True
    mx = [r for r in c.whm.records(zid) if r["type"] == "MX"]
    assert [(r["content"], r["priority"], r["ttl"]) for r in mx] == [("mx3.%s." % domain, 5, 60)]
    # The TTL of an RRset stays when replace gives none.
    ctl.json("rrset", "replace", domain, "www", "A", "192.0.2.1", "192.0.2.3")
    a = {r["content"]: r for r in c.whm.records(zid) if r["type"] == "A"}
    assert {k: r["ttl"] for k, r in a.items()} == {"192.0.2.1": 3600, "192.0.2.3": 3600}
    assert a["192.0.2.1"]["id"] != ids["192.0.2.1"]   # its TTL changed above: a new row

    ctl.run("--wait", "rrset", "delete", domain, "www", "A")
    assert c.answers(www, "A") == {n.name: [] for n in c.nodes}

    # Exit codes: usage, not found, refused, denied.
    ctl.run("rrset", "replace", domain, "www", "A", expect=USAGE)
    ctl.run("rrset", "replace", "--ttl", "soon", domain, "www", "A", "192.0.2.1", expect=USAGE)
    ctl.run("rrset", "set-ttl", domain, "www", "A", "-1", expect=USAGE)
    r = ctl.run("rrset", "set-ttl", domain, "www", "A", "60", expect=NOT_FOUND)
    assert "no RRset www A" in r.stderr, r.stderr
    ctl.run("rrset", "delete", "no-such-" + domain, "www", "A", expect=NOT_FOUND)
    version = c.whm.zone(zid)["version"]
    r = ctl.run("rrset", "replace", domain, "www", "A", "192.0.2.300", expect=REFUSED)
    assert "rrsets[0].records[0]" in r.stderr, r.stderr
    ctl.run("rrset", "replace", domain, "@", "SOA", "x", expect=REFUSED)
    ctl.run("rrset", "replace", domain, "@", "CNAME", "elsewhere.example.", expect=REFUSED)
    ctl.run("rrset", "delete", domain, "www", "A", token=c.whm.read_token, expect=DENIED)
    ctl.run("zones", "increase-serial", domain, token=c.whm.read_token, expect=DENIED)
    ctl.run("zones", "notify", domain, token=c.whm.read_token, expect=DENIED)
    assert c.whm.zone(zid)["version"] == version


def test_zones_increase_serial_reaches_every_node(ctl, domain):
    c = ctl.c
    zone = ctl.json("--wait", "zones", "create", domain)
    records = c.whm.records(zone["zoneId"])

    out = ctl.run("--wait", "zones", "increase-serial", domain).stdout

    now = c.whm.zone(zone["zoneId"])
    assert now["version"] == zone["version"] + 1 and now["serial"] != zone["serial"]
    assert out.startswith("serial increased: zone %d, version %d, serial %d" % (
        zone["zoneId"], now["version"], now["serial"])), out
    assert c.soa_serials(domain + ".") == {n.name: now["serial"] for n in c.nodes}
    assert c.whm.records(zone["zoneId"]) == records
    ctl.run("zones", "increase-serial", "no-such-" + domain, expect=NOT_FOUND)


def test_zones_notify_reports_each_node_and_its_exit_code(cluster_factory, domain, tmp_path):
    from test_notify import Secondary
    secondary = Secondary()
    try:
        c = cluster_factory(n=1, node_config={"also-notify": "127.0.0.1:%d" % secondary.port})
        ctl = Ctl(c, tmp_path)
        ctl.run("--wait", "zones", "create", domain)
        secondary.drain()

        out = ctl.run("zones", "notify", domain).stdout

        assert "1 of 1 nodes sent it" in out and "node ns1" in out, out
        assert secondary.wait_notify(domain + ".", timeout=5.0) is not None
        # A node without secondaries refuses: some nodes did it (8).
        node = c.new_node("ns2")
        node.extra_config["also-notify"] = None
        node.write_config()
        node.start()
        c.register(node)
        c.join(node)
        c.wait_converged()  # ns2 serves the zone: its refusal is the also-notify one
        r = ctl.run("zones", "notify", domain, expect=PARTIAL)
        assert "1 of 2 nodes sent it" in r.stdout, r.stdout
        assert "node ns2" in r.stdout and "also-notify" in r.stdout, r.stdout
        j = ctl.json("zones", "notify", domain, expect=PARTIAL)
        assert {n["name"]: n["success"] for n in j["nodes"]} == {"ns1": True, "ns2": False}
    finally:
        secondary.close()


def test_notify_from_no_node_is_a_failure(ctl, domain):
    ctl.run("--wait", "zones", "create", domain)
    r = ctl.run("zones", "notify", domain, expect=FAILED)
    assert "0 of 3 nodes sent it" in r.stdout and "NOT sent" in r.stdout, r.stdout


def test_records_list_json_is_taken_back_by_replace_and_ids_stay(ctl, domain, tmp_path):
    c = ctl.c
    zid = ctl.json("--wait", "zones", "create", domain)["zoneId"]
    ctl.run("rrset", "replace", domain, "www", "A", "192.0.2.1", "192.0.2.2")
    ctl.run("rrset", "replace", domain, "@", "MX", "10 mx1")
    ctl.run("records", "add", domain, "txt", "TXT", "v=spf1 -all")
    listing = ctl.json("records", "list", domain)
    changed = next(r for r in listing if r["content"] == "192.0.2.2")
    changed["content"] = "192.0.2.9"
    path = tmp_path / "records.json"
    path.write_text(json.dumps(listing))

    ctl.run("--wait", "records", "replace", domain, str(path))

    again = ctl.json("records", "list", domain)
    unchanged = {r["id"]: r["content"] for r in listing if r["id"] != changed["id"]}
    assert {r["id"]: r["content"] for r in again if r["id"] in unchanged} == unchanged
    assert len(again) == len(listing) and changed["id"] not in {r["id"] for r in again}
    assert c.answers("www.%s." % domain, "A") == {n.name: ["192.0.2.1", "192.0.2.9"]
                                                  for n in c.nodes}
    # Unchanged, it changes no id at all.
    path.write_text(json.dumps(again))
    ctl.run("records", "replace", domain, str(path))
    assert [r["id"] for r in ctl.json("records", "list", domain)] == [r["id"] for r in again]
    # A stale file is refused when it says which version it was read at.
    version = c.whm.zone(zid)["version"]
    path.write_text(json.dumps({"records": again, "ifVersion": version - 1}))
    ctl.run("records", "replace", domain, str(path), expect=REFUSED)
    assert c.whm.zone(zid)["version"] == version


class NotTheController:
    """A web server on a free loopback port that answers every request
    200 with 'body', as a portal page or another service at the URL does."""

    def __init__(self, body, content_type):
        data = body.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


# The commands that print a list the controller answers with: as an array
# (zones, records, tokens, servers, keys, policies) ...
ARRAY_LISTINGS = [["zones", "list"], ["--json", "zones", "list"], ["records", "list", "5"],
                  ["tokens", "list"], ["--json", "tokens", "list"], ["servers", "list"],
                  ["tsig", "list"], ["update-policy", "list"], ["policy", "list", "5"]]
# ... or in an object: a zone and its records, versions, a diff, audit
# entries, DNSSEC keys, target health, transfer settings, a key's rules.
OBJECT_LISTINGS = [["zones", "show", "5"], ["--json", "zones", "show", "5"],
                   ["rrset", "set-ttl", "5", "www", "A", "300"],
                   ["zones", "history", "5"], ["--json", "zones", "history", "5"],
                   ["zones", "diff", "5", "1"], ["audit"], ["audit", "--zone", "5"],
                   ["dnssec", "keys"], ["dnssec", "status", "5"], ["dnssec", "ds", "5"],
                   ["policy", "health", "5"], ["transfers", "show"], ["transfers", "show", "5"],
                   ["transfers", "set", "--notify", "192.0.2.53", "5"],
                   ["update-policy", "show", "ddns.example."],
                   ["update-policy", "grant", "ddns.example.", "shop.example", "zone", "TXT"],
                   ["nodes", "list"]]


def assert_not_the_controllers(ctl, env, other, args):
    r = ctl.run(*args, env=env, expect=UNREACHABLE)
    assert "not the controller's answer" in r.stderr, (args, r.stderr)
    assert other.url in r.stderr, (args, r.stderr)
    assert r.stdout == "", (args, r.stdout)


@pytest.mark.parametrize("body,content_type", [("<html>portal</html>", "text/html"),
                                               ("", "application/json"),
                                               ("{}", "application/json")])
def test_a_2xx_answer_that_is_not_the_controllers_is_a_failure(tmp_path, body, content_type):
    """Review: a 200 with a page that is not JSON, or with JSON that lacks
    the controller's fields, was read as 0 of 0 nodes: `status` said
    "every node online and in sync" and `servers remove` "removed", exit 0;
    and `zones list`, `tokens list`, `zones history` (every listing) printed
    an empty table for `{}`, exit 0."""
    other = NotTheController(body, content_type)
    try:
        ctl = Ctl(None, tmp_path)
        env = ctl.env(url=other.url, token="t" * 40)
        for args in [["status"], ["health"], ["sync", "5"], ["servers", "remove", "3"],
                     ["nodes", "add", "3"], ["--wait", "records", "add", "5", "www", "A",
                                             "192.0.2.1"],
                     ["zones", "delete", "5"], ["tokens", "create", "--role", "read", "ci"],
                     ["--json", "status"], ["zones", "show", "shop.example"],
                     ["export", "5"], ["edit", "--yes", "5"]] + ARRAY_LISTINGS + OBJECT_LISTINGS:
            assert_not_the_controllers(ctl, env, other, args)
    finally:
        other.close()


@pytest.mark.parametrize("args", OBJECT_LISTINGS, ids=" ".join)
def test_an_array_where_the_controller_answers_an_object_is_not_its_answer(tmp_path, args):
    """A listing the controller gives inside an object ({"versions": [...]},
    {"entries": [...]}, ...) is not read from a bare array: nothing is
    printed, exit code 4."""
    other = NotTheController("[]", "application/json")
    try:
        ctl = Ctl(None, tmp_path)
        assert_not_the_controllers(ctl, ctl.env(url=other.url, token="t" * 40), other, args)
    finally:
        other.close()


def test_every_listing_reads_the_controllers_own_answers(ctl, domain, tmp_path):
    """The checks of the listings' shapes take what the controller answers."""
    ctl.run("--wait", "zones", "create", domain)
    ctl.run("--wait", "records", "add", domain, "www", "A", "192.0.2.1")
    key = "ddns." + domain + "."
    ctl.run("tsig", "create", key)
    ctl.run("update-policy", "grant", key, domain, "zone", "A")
    ctl.run("--wait", "transfers", "set", "--notify", "192.0.2.53", domain)
    for args in ARRAY_LISTINGS + OBJECT_LISTINGS:
        args = [domain if a == "5" else key if a == "ddns.example." else
                domain if a == "shop.example" else a for a in args]
        if args[:2] == ["rrset", "set-ttl"]:
            args = ["--wait"] + args
        if args[:2] == ["dnssec", "ds"]:
            ctl.run(*args, expect=FAILED)   # the zone is not signed
            continue
        ctl.run(*args)
    assert "notify 192.0.2.53" in ctl.run("transfers", "show", domain).stdout
    # The grant above kept the rule it read beside its own.
    shown = ctl.run("update-policy", "show", key).stdout
    assert "zone %s. zone types A\n" % domain in shown, shown
    assert "zone %s. zone types TXT\n" % domain in shown, shown
    ctl.run("update-policy", "delete", key)
    ctl.run("tsig", "delete", key)


def test_a_cluster_without_nodes_serves_nothing_and_says_so(cluster_factory, domain, tmp_path):
    """Review: with no node, `status` said "every node online and in sync",
    `health` "0 of 0 nodes healthy" and `--wait records add` succeeded,
    each with exit code 0, although no node serves any zone."""
    c = cluster_factory(n=0)
    ctl = Ctl(c, tmp_path)
    ctl.run("zones", "create", domain)

    r = ctl.run("status", expect=PARTIAL)
    assert "no cluster nodes: nothing serves the zones" in r.stdout, r.stdout
    assert "in sync" not in r.stdout, r.stdout
    r = ctl.run("--json", "status", expect=PARTIAL)
    assert json.loads(r.stdout)["totalNodes"] == 0
    assert "no cluster nodes" in r.stderr, r.stderr
    r = ctl.run("health", expect=PARTIAL)
    assert "no cluster nodes: nothing serves the zones" in r.stderr, r.stderr
    r = ctl.run("sync", domain, expect=PARTIAL)
    assert "no cluster nodes" in r.stderr, r.stderr
    ctl.run("nodes", "list")   # a listing, not a verdict
    r = ctl.run("zones", "notify", domain, expect=FAILED)
    assert "no cluster nodes" in r.stderr, r.stderr

    # The controller's ?wait=all has no node to wait for and says "synced";
    # --wait asks for the change served, and nothing serves it.
    r = ctl.run("--wait", "records", "add", domain, "www", "A", "192.0.2.1", expect=PARTIAL)
    assert "no cluster nodes" in r.stderr, r.stderr
    j = ctl.json("--wait", "rrset", "replace", domain, "www", "A", "192.0.2.2", expect=PARTIAL)
    assert j["synced"] is True and j["nodes"] == [], j
    ctl.run("records", "add", domain, "ftp", "A", "192.0.2.3")   # without --wait: stored
    # A deleted zone is to be served by no node: nothing to wait for.
    ctl.run("--wait", "zones", "delete", domain)
