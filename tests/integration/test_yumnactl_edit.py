"""yumnactl check (a zone file checked without a controller, with the import's
rules) and yumnactl edit (export, an editor, a local check, a diff, then one
import that lands only on the version exported), end to end: the editor is a
small Python program each test writes into its own directory."""

import json
import os
import stat
import subprocess
import sys

import pytest

import harness
from test_yumnactl import CTL, FAILED, HERE, OK, USAGE, REFUSED, Ctl, read_tty

pytest_plugins = ["cluster_fixtures"]


@pytest.fixture
def ctl(shared_cluster, tmp_path):
    return Ctl(shared_cluster, tmp_path)


def check(tmp_path, *args, expect=OK, text=None, name="z.zone"):
    if text is not None:
        (tmp_path / name).write_text(text)
    env = dict(harness.sanitizer_env(), HOME=str(tmp_path), PATH=os.environ.get("PATH", ""))
    p = subprocess.run([CTL, "check"] + [str(a) for a in args], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == expect, (args, p.returncode, p.stdout, p.stderr)
    return p


GOOD = """$ORIGIN example.org.
$TTL 300
@ IN SOA ns1.example.org. hostmaster.example.org. 5 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
www CNAME ns1
"""


def test_check_a_valid_file_needs_no_controller_and_finds_the_origin(tmp_path):
    p = check(tmp_path, tmp_path / "z.zone", text=GOOD)
    assert "zone example.org., 3 records and an SOA: OK" in p.stdout, p.stdout
    j = json.loads(check(tmp_path, "--json", tmp_path / "z.zone").stdout)
    assert j["valid"] is True and j["origin"] == "example.org." and j["records"] == 3, j
    assert j["soa"] is True and j["errors"] == [], j
    # No $ORIGIN: the SOA's owner names the zone.
    no_origin = GOOD.replace("$ORIGIN example.org.\n", "").replace("@ IN SOA",
                                                                   "example.org. IN SOA")
    no_origin = no_origin.replace("@ NS ns1", "example.org. NS ns1.example.org.")
    no_origin = no_origin.replace("ns1 A", "ns1.example.org. A").replace(
        "www CNAME ns1", "www.example.org. CNAME ns1.example.org.")
    assert json.loads(check(tmp_path, "--json", tmp_path / "z.zone",
                            text=no_origin).stdout)["origin"] == "example.org."
    # Neither: said plainly, a usage error; --origin then works.
    p = check(tmp_path, tmp_path / "z.zone", text="@ NS ns1.example.net.\nwww A 192.0.2.1\n",
              expect=USAGE)
    assert "names no zone" in p.stderr and "--origin" in p.stderr, p.stderr
    check(tmp_path, "--origin", "example.org", tmp_path / "z.zone", expect=OK)
    check(tmp_path, "--origin", "a..b", tmp_path / "z.zone", expect=USAGE)
    # Route 53 JSON as import takes it.
    r53 = {"ResourceRecordSets": [{"Name": "www.example.org.", "Type": "A", "TTL": 60,
                                   "ResourceRecords": [{"Value": "192.0.2.300"}]}]}
    p = check(tmp_path, "--format", "route53", "--origin", "example.org", tmp_path / "r.json",
              text=json.dumps(r53), name="r.json", expect=REFUSED)
    assert "ResourceRecordSets[0].ResourceRecords[0]: 'www.example.org.' A: invalid data" in p.stderr, p.stderr


def test_check_reports_each_problem_with_its_line_and_exit_code_7(tmp_path):
    p = check(tmp_path, "--origin", "example.org", tmp_path / "z.zone", expect=REFUSED,
              text=GOOD + "bad A 192.0.2.300\nmail MX 10 mx.example.org.example.org\n")
    f = str(tmp_path / "z.zone")
    assert "%s:7: invalid IPv4 address" % f in p.stderr, p.stderr
    assert "%s:8: 'mail.example.org.' MX: a name in the data repeats" % f in p.stderr
    assert "2 errors" in p.stderr and p.stdout == ""
    # The zone as a whole: a CNAME beside other data, at the line of its owner.
    j = json.loads(check(tmp_path, "--json", tmp_path / "z.zone", expect=REFUSED,
                         text=GOOD + "www A 192.0.2.7\n").stdout)
    assert j["valid"] is False and len(j["errors"]) == 1, j
    assert j["errors"][0]["line"] == 6 and "CNAME" in j["errors"][0]["message"], j


def test_check_and_the_controllers_import_refuse_the_same_lines(ctl, domain, tmp_path):
    zone = domain + "."
    ctl.json("zones", "create", domain)
    with open(os.path.join(HERE, "zonefiles", "broken.zone")) as f:
        broken = f.read().replace("{zone_nodot}", domain).replace("{zone}", zone)
    p = check(tmp_path, tmp_path / "b.zone", text=broken, name="b.zone", expect=REFUSED)
    local = sorted(l.split(":", 1)[1] for l in p.stderr.splitlines()
                   if l.startswith(str(tmp_path)))
    r = ctl.run("import", "--replace", domain, tmp_path / "b.zone", expect=REFUSED)
    remote = sorted(l.strip()[len("line "):] for l in r.stderr.splitlines()
                    if l.startswith("  line "))
    assert len(local) == 7 and local == remote, (local, remote)


# --- edit --------------------------------------------------------------------------


def editor(tmp_path, body, name="ed.py"):
    """An editor: a Python program that gets the file's path in 'path'."""
    script = tmp_path / name
    script.write_text("import os, subprocess, sys\npath = sys.argv[-1]\n"
                      "text = open(path).read()\n" + body)
    return "%s %s" % (sys.executable, script)


def replace_in_file(old, new):
    return "open(path, 'w').write(text.replace(%r, %r))\n" % (old, new)


def version(ctl, domain):
    return ctl.json("zones", "show", domain)["zone"]["version"]


def test_edit_applies_a_change_served_by_every_node_in_a_private_file(ctl, domain, tmp_path):
    c = ctl.c
    ctl.json("--wait", "zones", "create", domain)
    ctl.json("--wait", "records", "add", domain, "www", "A", "192.0.2.1")
    before = version(ctl, domain)
    seen = tmp_path / "seen.json"
    ed = editor(tmp_path, "st = os.stat(path)\n"
                "open(%r, 'w').write(repr((path, st.st_mode & 0o777)))\n" % str(seen)
                + replace_in_file("192.0.2.1", "192.0.2.99"))

    p = ctl.run("--wait", "edit", "--yes", domain, env=ctl.env(EDITOR=ed, VISUAL=""))

    assert "- www 3600 A 192.0.2.1" in p.stdout and "+ www 3600 A 192.0.2.99" in p.stdout
    assert "zone edited: zone" in p.stdout, p.stdout
    c.wait_all_nodes("www.%s." % domain, "A", ["192.0.2.99"], timeout=5)
    assert version(ctl, domain) == before + 1
    assert ctl.json("zones", "history", domain)["versions"][0]["action"] == \
        "zone.import.replace"
    path, mode = eval(seen.read_text())
    assert mode == 0o600 and not os.path.exists(path), (path, oct(mode))
    # $VISUAL comes before $EDITOR, and the variable is split into words.
    ed2 = editor(tmp_path, replace_in_file("192.0.2.99", "192.0.2.98"), name="ed2.py")
    ctl.run("--wait", "edit", "--yes", domain,
            env=ctl.env(EDITOR="/nonexistent/editor", VISUAL=ed2 + " --wait"))
    c.wait_all_nodes("www.%s." % domain, "A", ["192.0.2.98"], timeout=5)


def test_edit_with_an_unchanged_file_makes_no_version(ctl, domain, tmp_path):
    ctl.json("--wait", "zones", "create", domain)
    before = version(ctl, domain)
    p = ctl.run("edit", "--yes", domain, env=ctl.env(EDITOR=editor(tmp_path, "pass\n")))
    assert "unchanged" in p.stdout, p.stdout
    # A comment is a change of the file but of no record.
    ed = editor(tmp_path, "open(path, 'a').write('; a note\\n')\n", name="note.py")
    j = json.loads(ctl.run("--json", "edit", "--yes", domain, env=ctl.env(EDITOR=ed)).stdout)
    assert j["changed"] is False and j["version"] == before, j
    assert version(ctl, domain) == before


def test_edit_of_a_steered_zone_keeps_its_routing_policies(ctl, domain, tmp_path):
    """The export of a zone with routing policies holds its records, not
    what the nodes serve for them: yumnactl check takes it, and an edit
    beside the steered RRsets applies and keeps their policies."""
    c = ctl.c
    zid = ctl.json("--wait", "zones", "create", domain)["zoneId"]
    fo = {"type": "failover", "health_check_url": "http://192.0.2.9/health"}
    for addr in ("192.0.2.1", "192.0.2.2"):
        c.add_record(zid, "www", "A", addr, routing_policy=fo)
    for addr, weight in (("192.0.2.5", 100), ("192.0.2.6", 0)):
        c.add_record(zid, "w", "A", addr, routing_policy={"type": "weighted", "weight": weight})
    c.whm.call("PUT", "/api/dns/%d/policies" % zid, {"name": "api", "type": "A", "policy": {
        "type": "weighted", "targets": [{"target": "192.0.2.7", "weight": 1}]}},
        expect=200, params={"wait": "all"})

    def pols():
        return sorted((p["name"], p["type"], p["per_record"], json.dumps(p["policy"],
                                                                          sort_keys=True))
                      for p in c.whm.call("GET", "/api/dns/%d/policies" % zid, expect=200))
    policies = pols()
    assert len(policies) == 3, policies
    out = tmp_path / "export.zone"
    ctl.run("export", "-o", out, domain)
    assert "LUA" not in out.read_text() and "_yumna-health" not in out.read_text()
    check(tmp_path, out, expect=OK)
    before = version(ctl, domain)

    ed = editor(tmp_path, "open(path, 'a').write('note 300 IN TXT \"hello\"\\n')\n")
    p = ctl.run("--wait", "edit", "--yes", domain, env=ctl.env(EDITOR=ed))
    assert "+ note 300 TXT" in p.stdout and "www" not in p.stdout, p.stdout
    assert version(ctl, domain) == before + 1
    assert pols() == policies
    c.wait_all_nodes("note.%s." % domain, "TXT", ['"hello"'], timeout=5)
    assert c.answers("w.%s." % domain, "A") == {n.name: ["192.0.2.5"] for n in c.nodes}
    assert c.answers("api.%s." % domain, "A") == {n.name: ["192.0.2.7"] for n in c.nodes}


def test_edit_that_is_invalid_applies_nothing(ctl, domain, tmp_path):
    ctl.json("--wait", "zones", "create", domain)
    before = version(ctl, domain)
    ed = editor(tmp_path, "open(path, 'a').write('bad IN A 192.0.2.300\\n')\n")
    p = ctl.run("edit", "--yes", domain, env=ctl.env(EDITOR=ed), expect=REFUSED)
    assert "invalid IPv4 address" in p.stderr and "nothing was applied" in p.stderr, p.stderr
    assert version(ctl, domain) == before
    # A failing editor applies nothing either.
    ed = editor(tmp_path, replace_in_file("IN", "IN") + "sys.exit(3)\n", name="fail.py")
    p = ctl.run("edit", "--yes", domain, env=ctl.env(EDITOR=ed), expect=1)
    assert "failed (exit code 3)" in p.stderr, p.stderr
    assert version(ctl, domain) == before


def test_edit_refuses_when_the_zone_changed_since_the_export(ctl, domain, tmp_path):
    c = ctl.c
    ctl.json("--wait", "zones", "create", domain)
    ctl.json("--wait", "records", "add", domain, "www", "A", "192.0.2.1")
    # While the editor is open, someone else changes the zone.
    ed = editor(tmp_path, "subprocess.run([%r, 'records', 'add', %r, 'other', 'A', "
                "'192.0.2.5'], check=True, stdout=subprocess.DEVNULL)\n" % (CTL, domain)
                + replace_in_file("192.0.2.1", "192.0.2.99"))
    p = ctl.run("edit", "--yes", domain, env=ctl.env(EDITOR=ed), expect=REFUSED)
    assert "HTTP 409" in p.stderr and "changed since version" in p.stderr, p.stderr
    names = {(r["name"], r["content"]) for r in ctl.json("records", "list", domain)}
    assert ("www", "192.0.2.1") in names and ("other", "192.0.2.5") in names, names
    assert ("www", "192.0.2.99") not in names
    c.wait_all_nodes("www.%s." % domain, "A", ["192.0.2.1"], timeout=5)


def test_edit_asks_on_a_terminal_only_and_keeps_the_soa_unless_asked(ctl, domain, tmp_path):
    ctl.json("--wait", "zones", "create", domain)
    marker = tmp_path / "ran"
    ed = editor(tmp_path, "open(%r, 'w').write('x')\n" % str(marker))
    p = ctl.run("edit", domain, env=ctl.env(EDITOR=ed), input="y\n", expect=USAGE)
    assert "--yes" in p.stderr and not marker.exists(), p.stderr
    # The SOA's timers: ignored with a warning, taken with --keep-soa.
    soa = ctl.json("zones", "show", domain)["zone"]["soa"]
    ed = editor(tmp_path, "import re\nopen(path, 'w').write(re.sub(r'(SOA\\t\\S+ \\S+ \\d+ )\\d+',"
                " r'\\g<1>7777', text))\n", name="soa.py")
    p = ctl.run("edit", "--yes", domain, env=ctl.env(EDITOR=ed))
    assert "SOA fields of the edit are not applied" in p.stderr, p.stderr
    assert ctl.json("zones", "show", domain)["zone"]["soa"]["refresh"] == soa["refresh"]
    p = ctl.run("--wait", "edit", "--yes", "--keep-soa", domain, env=ctl.env(EDITOR=ed))
    assert "+ @ SOA" in p.stdout and " 7777 " in p.stdout, p.stdout
    assert ctl.json("zones", "show", domain)["zone"]["soa"]["refresh"] == 7777


def test_edit_on_a_terminal_offers_to_edit_again_then_asks_before_applying(ctl, domain,
                                                                           tmp_path):
    import pty
    c = ctl.c
    ctl.json("--wait", "zones", "create", domain)
    before = version(ctl, domain)
    # The first pass leaves a bad line; the second (the same file) fixes it.
    ed = editor(tmp_path, "if 'bad IN A' not in text:\n"
                "    open(path, 'a').write('bad IN A 192.0.2.300\\n')\n"
                "else:\n" + "    " + replace_in_file("192.0.2.300", "192.0.2.30"))
    master, slave = pty.openpty()
    p = subprocess.Popen([CTL, "--wait", "edit", domain], env=ctl.env(EDITOR=ed), stdin=slave,
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    answers = [(b"(e)dit again or (a)bort?", b"e\n"), (b"(n)o [n]", b"y\n")]
    tty = read_tty(master, answers)
    stdout, _ = p.communicate(timeout=60)
    os.close(master)
    assert p.returncode == OK and not answers, (p.returncode, tty, stdout)
    assert b"invalid IPv4 address" in tty, tty
    assert b"+ bad 3600 A 192.0.2.30" in stdout, stdout
    assert version(ctl, domain) == before + 1
    c.wait_all_nodes("bad.%s." % domain, "A", ["192.0.2.30"], timeout=5)


# --- dnssec keys ---------------------------------------------------------------------


def test_dnssec_keys_lists_every_signed_zone_and_never_a_private_key(ctl, domain):
    c = ctl.c
    csk, split, plain = ("%s-%s" % (n, domain) for n in ("csk", "split", "plain"))
    for d in (csk, split, plain):
        ctl.json("zones", "create", d)
    ctl.json("dnssec", "sign", csk)
    ctl.json("dnssec", "sign", "--scheme", "ksk-zsk", "--algorithm", "15", split)
    ctl.json("dnssec", "roll", "--key", "zsk", split)
    read = ctl.run("tokens", "create", "--role", "read", "keys-" + domain).stdout.strip()

    j = ctl.json("dnssec", "keys", token=read)

    mine = [k for k in j["keys"] if k["zone"] in (csk + ".", split + ".", plain + ".")]
    got = sorted((k["zone"], k["role"], k["algorithm"], k["state"]) for k in mine)
    assert got == sorted([(csk + ".", "csk", 13, "active"),
                          (split + ".", "ksk", 15, "active"),
                          (split + ".", "zsk", 15, "active"),
                          (split + ".", "zsk", 15, "published")]), got
    for k in mine:
        status = ctl.json("dnssec", "status", k["zone"])
        assert k["keytag"] in [s["keytag"] for s in status["keys"]], (k, status)
        want = {"kind": "zsk", "step": 1} if k["zone"] == split + "." else None
        assert k["rollover"] == want, k
    text = json.dumps(j).lower()
    assert "private" not in text and "privatekey" not in text
    human = ctl.run("dnssec", "keys").stdout.splitlines()
    assert human[0].split() == ["ZONE", "KEYTAG", "ROLE", "ALGORITHM", "STATE", "ROLLOVER"]
    rows = [l for l in human if l.startswith(split + ".")]
    assert len(rows) == 3, human
    assert all("ED25519 (15)" in r and r.endswith("zsk, step 1 of 2") for r in rows), rows
    assert not any(l.startswith(plain + ".") for l in human)
    # The route pages by key id.
    page = c.whm.get("/api/dns/dnssec/keys?limit=1").json()
    assert len(page["keys"]) == 1 and page["next"] == page["keys"][0]["id"], page
    rest = c.whm.get("/api/dns/dnssec/keys?limit=1000&after=%d" % page["next"]).json()
    assert len(rest["keys"]) == len(j["keys"]) - 1 and rest["next"] is None, rest
    assert c.whm.get("/api/dns/dnssec/keys?limit=0").status_code == 422


# --- --json everywhere ------------------------------------------------------------------


def test_every_command_prints_json_with_the_global_json_option(cluster, tmp_path):
    """Each command of --help, run with --json, prints one JSON document on
    stdout (a new command must be added here)."""
    from test_yumnactl import command_lines
    c = cluster
    ctl = Ctl(c, tmp_path)
    covered = set()

    def j(*args, expect=OK, **kw):
        words = [a for a in args if not str(a).startswith("-")]
        covered.add(" ".join(words[:2]) if words[0] in
                    ("zones", "records", "rrset", "servers", "nodes", "tokens", "dnssec")
                    else words[0])
        p = ctl.run("--json", *args, expect=expect, **kw) if expect is not None else \
            subprocess.run([CTL, "--json"] + [str(a) for a in args], env=ctl.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        try:
            return json.loads(p.stdout)
        except ValueError:
            raise AssertionError("%s: not JSON: %r" % (" ".join(map(str, args)), p.stdout))

    d = "json-every.test"
    zid = j("zones", "create", d)["zoneId"]
    assert any(z["id"] == zid for z in j("zones", "list"))
    assert j("zones", "show", d)["zone"]["id"] == zid
    j("zones", "set-soa", "--refresh", "2h", d)
    rid = j("records", "add", d, "www", "A", "192.0.2.1")["id"]
    j("records", "update", rid, "www", "A", "192.0.2.2")
    assert any(r["content"] == "192.0.2.2" for r in j("records", "list", d))
    other = j("records", "add", d, "old", "A", "192.0.2.3")["id"]
    j("records", "delete", other)
    ns = [{"name": r["name"], "type": r["type"], "content": r["content"]}
          for r in j("records", "list", d) if r["type"] == "NS"]
    j("records", "replace", d, "-", input=json.dumps(ns + [{"name": "www", "type": "A",
                                                            "content": "192.0.2.4"}]))
    j("rrset", "replace", "--ttl", "300", d, "multi", "A", "192.0.2.10", "192.0.2.11")
    j("rrset", "set-ttl", d, "multi", "A", "600")
    j("rrset", "delete", d, "multi", "A")
    j("zones", "increase-serial", d)
    # No node has secondaries to notify here: refused, and said in JSON.
    j("zones", "notify", d, expect=FAILED)
    j("import", d, "-", input="www IN A 192.0.2.5\n")
    assert "192.0.2.5" in j("export", d)["content"]
    assert j("export", "-o", tmp_path / "out.zone", d)["file"] == str(tmp_path / "out.zone")
    assert j("check", tmp_path / "out.zone")["valid"] is True
    ed = tmp_path / "ed.py"
    ed.write_text("import sys\np = sys.argv[-1]\nt = open(p).read()\n"
                  "open(p, 'w').write(t.replace('192.0.2.5', '192.0.2.6'))\n")
    edited = j("edit", "--yes", d, env=ctl.env(EDITOR="%s %s" % (sys.executable, ed)))
    assert edited["diff"]["changed"][0]["name"] == "www", edited
    versions = j("zones", "history", d)["versions"]
    j("zones", "diff", d, versions[-1]["version"])
    j("zones", "rollback", d, versions[1]["version"])
    assert j("audit", "--zone", d, "--limit", "3")["entries"]

    node = c.new_node("ns9")
    node.start()
    secret = tmp_path / "secret"
    secret.write_text(node.secret + "\n")
    secret.chmod(0o600)
    sid = j("servers", "add", "--agent-port", node.api_port, "--secret-file", secret, "ns9",
            node.address)["id"]
    assert any(s["id"] == sid for s in j("servers", "list"))
    j("servers", "update", "--hostname", "ns9.example.test", sid)
    j("nodes", "add", sid)
    assert any(n["nodeId"] == sid for n in j("nodes", "list")["nodes"])
    j("sync-all", sid)
    j("sync", d)
    j("health")
    j("status")
    j("nodes", "remove", sid)
    j("servers", "remove", sid)

    tok = j("tokens", "create", "--role", "read", "json-every")
    assert any(t["id"] == tok["id"] for t in j("tokens", "list"))
    j("tokens", "revoke", tok["id"])

    j("dnssec", "sign", d)
    assert j("dnssec", "status", d)["enabled"] is True
    assert j("dnssec", "ds", d)["ds"]
    j("dnssec", "roll", "--key", "csk", d)
    assert any(k["zone"] == d + "." for k in j("dnssec", "keys")["keys"])
    j("dnssec", "unsign", "--force", d)

    key = "json-every-key."
    assert j("tsig", "create", key)["name"] == key
    assert any(k["name"] == key for k in j("tsig", "list"))
    assert j("tsig", "show", key)["secret"]
    j("tsig", "rotate", key)
    j("update-policy", "grant", key, d, "zone", "TXT")
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": [{"zone": d, "match": "zone", "types": ["A"]}]}))
    j("update-policy", "set", key, rules)
    assert j("update-policy", "show", key)["rules"][0]["types"] == ["A"]
    j("update-policy", "list")
    j("update-policy", "delete", key)
    j("transfers", "set", "--allow", "192.0.2.53=" + key, "--notify", "192.0.2.53", d)
    assert j("transfers", "show", d)
    j("transfers", "default", d)
    j("tsig", "delete", key)
    policy = tmp_path / "policy.json"
    policy.write_text('{"type": "weighted", "targets": [{"target": "192.0.2.77", "weight": 1}]}')
    j("policy", "set", d, "steered", "A", policy)
    j("policy", "list", d)
    j("policy", "delete", d, "steered", "A")
    j("zones", "delete", d)
    # A secondary zone whose primary does not answer: the refresh fails, and
    # says so in JSON.
    sec = "json-every-secondary.test"
    j("zones", "create", "--primary", "127.0.0.1:9", sec)
    j("zones", "retrieve", sec, expect=None)
    j("zones", "delete", sec)

    listed = {" ".join(cmd) for cmd in command_lines()}
    assert listed <= covered, sorted(listed - covered)
