"""The agent refuses to start with an unsafe or invalid configuration, and
`yumna-agent -n -c FILE` checks a file and says 'file:line: message'."""

import os
import secrets
import subprocess

import dns.message
import dns.query
import dns.rcode
import pytest
import requests

import harness

SECRET = secrets.token_urlsafe(36)


def write_conf(tmp_path, lines, mode=0o600):
    """A config for a node that would otherwise start: free ports, a data-dir
    in tmp_path. 'lines' follow the 7 base lines; a line whose key is a base
    key drops that base line, so each key is set once and 'lines' start on
    line 8 - (number of base lines dropped)."""
    api, dns_port, pdns_api = harness.free_ports(3, udp=(1,))
    base = [
        "listen-address = 127.0.0.1",
        "listen-port = %d" % api,
        "mode = managed",
        "data-dir = %s" % (tmp_path / "data"),
        "dns-address = 127.0.0.1",
        "dns-port = %d" % dns_port,
        "pdns-api-port = %d" % pdns_api,
    ]
    keys = {line.split("=")[0].strip() for line in lines if "=" in line}
    base = [b for b in base if b.split("=")[0].strip() not in keys]
    path = tmp_path / "agent.conf"
    path.write_text("\n".join(base + lines) + "\n")
    os.chmod(path, mode)
    return str(path)


def run_agent(tmp_path, args, timeout=15):
    """Run the agent to completion; a process that is still running after
    'timeout' (it started although it should not have) is stopped together
    with any pdns_server it spawned, and reported as exit code None."""
    proc = subprocess.Popen([harness.AGENT] + args, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=str(tmp_path), start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        code = None
    harness.kill_strays(str(tmp_path))
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


REFUSED = {
    "no-secret": ([], 0o600, "secret"),
    "empty-secret": (["secret = "], 0o600, "secret"),
    "secret-31-chars": (["secret = " + SECRET[:31]], 0o600, "secret"),
    # the controller stores at most 512: a longer secret could not be registered
    "secret-513-chars": (["secret = " + "s" * 513], 0o600, "at most 512 characters"),
    "mode-0644": (["secret = " + SECRET], 0o644, None),
    "mode-0640": (["secret = " + SECRET], 0o640, None),
    "mode-0604": (["secret = " + SECRET], 0o604, None),
    "unknown-key": (["secret = " + SECRET, "frobnicate = 1"], 0o600, "frobnicate"),
    "port-70000": (["secret = " + SECRET, "listen-port = 70000"], 0o600, "70000"),
    "negative-port": (["secret = " + SECRET, "dns-port = -1"], 0o600, "dns-port"),
    "bad-mode": (["secret = " + SECRET, "mode = sideways"], 0o600, "sideways"),
    "not-a-number": (["secret = " + SECRET, "max-body-size = lots"], 0o600, "max-body-size"),
    "line-without-equals": (["secret = " + SECRET, "just some words"], 0o600, None),
    "duplicate-key": (["secret = " + SECRET, "secret = " + SECRET], 0o600, "secret"),
    "query-cache-too-large": (["secret = " + SECRET, "pdns-query-cache-entries = 100000001"],
                              0o600, "pdns-query-cache-entries"),
    "query-cache-too-small": (["secret = " + SECRET, "pdns-query-cache-entries = 999"],
                              0o600, "pdns-query-cache-entries"),
    "distributor-threads-too-many": (["secret = " + SECRET, "pdns-distributor-threads = 65"],
                                     0o600, "pdns-distributor-threads"),
    "tcp-per-address-below-the-relay": (["secret = " + SECRET, "transfer-port = 5300",
                                         "transfer-tcp-clients = 40",
                                         "pdns-tcp-clients-per-address = 16"],
                                        0o600, "below 'transfer-tcp-clients'"),
    "tcp-per-address-above-the-total": (["secret = " + SECRET, "pdns-tcp-clients = 20",
                                         "pdns-tcp-clients-per-address = 21"],
                                        0o600, "above 'pdns-tcp-clients'"),
    "dns-address-not-an-address": (["secret = " + SECRET, "dns-address = 127.0.0.1, ns1"],
                                   0o600, "'ns1' is not an IP address"),
    "dns-address-network": (["secret = " + SECRET, "dns-address = 192.0.2.0/24"],
                            0o600, "'192.0.2.0/24' is a network"),
    "dns-address-twice": (["secret = " + SECRET, "dns-address = ::1, 0:0::1"],
                          0o600, "'::1' appears twice"),
    "dns-address-covered": (["secret = " + SECRET, "dns-address = 127.0.0.1, ::1, 0.0.0.0"],
                            0o600, "'0.0.0.0' covers '127.0.0.1'"),
    "dns-address-too-many": (["secret = " + SECRET, "dns-address = " + ", ".join(
        "127.0.0.%d" % i for i in range(1, 10))], 0o600, "more than 8 addresses"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_agent_refuses_to_start_with_bad_config(tmp_path, case):
    lines, mode, word = REFUSED[case]
    conf = write_conf(tmp_path, lines, mode)

    code, out, err = run_agent(tmp_path, ["-c", conf])

    assert code is not None, "the agent started:\n" + err
    assert code != 0
    assert err.strip(), "no message on stderr"
    if word:
        assert word in err, err
    if mode != 0o600:
        assert conf in err, err
    assert SECRET not in err + out
    assert not os.path.exists(tmp_path / "data" / "run" / "pdns.pid")


@pytest.mark.parametrize("lines", [
    # the relay's 1,024 transfers fit without a word: the TCP limits follow
    ["transfer-port = 5300", "transfer-tcp-clients = 1024"],
    # external mode: PowerDNS's settings are the operator's
    ["transfer-port = 5300", "transfer-tcp-clients = 64", "pdns-tcp-clients-per-address = 16",
     "mode = external", "pdns-api-url = http://127.0.0.1:1", "pdns-api-key = k",
     "gsqlite3-database = /nonexistent/pdns.sqlite3"],
])
def test_tcp_limits_that_follow_the_relay_or_do_not_apply_are_accepted(tmp_path, lines):
    conf = write_conf(tmp_path, ["secret = " + SECRET] + lines)

    code, out, err = run_agent(tmp_path, ["-n", "-c", conf])

    assert code == 0, err


def test_agent_refuses_a_missing_config_file(tmp_path):
    code, _, err = run_agent(tmp_path, ["-c", str(tmp_path / "nope.conf")])

    assert code not in (None, 0)
    assert "nope.conf" in err


def test_check_mode_accepts_a_valid_file(tmp_path):
    conf = write_conf(tmp_path, ["secret = " + SECRET, "# a comment", "", "log-level = debug"])

    code, out, err = run_agent(tmp_path, ["-n", "-c", conf])

    assert code == 0, err
    assert SECRET not in out + err
    assert not harness.find_processes(harness.PDNS_PROGRAM, str(tmp_path))


@pytest.mark.parametrize("line,word", [
    ("frobnicate = 1", "frobnicate"),
    ("listen-port = 70000", "70000"),
    ("secret = short", "secret"),
    ("soa-refresh = -5", "soa-refresh"),
    ("log-level = chatty", "chatty"),
])
def test_check_mode_reports_file_and_line(tmp_path, line, word):
    conf = write_conf(tmp_path, ["secret = " + SECRET, line])
    lines = open(conf).read().splitlines()
    lineno = lines.index(line) + 1

    code, out, err = run_agent(tmp_path, ["-n", "-c", conf])

    assert code not in (None, 0)
    assert "%s:%d: " % (conf, lineno) in err, err
    assert word in err


def test_check_mode_refuses_a_file_others_can_read(tmp_path):
    conf = write_conf(tmp_path, ["secret = " + SECRET], mode=0o644)

    code, _, err = run_agent(tmp_path, ["-n", "-c", conf])

    assert code not in (None, 0)
    assert conf in err


def test_powerdns_database_is_private_whatever_the_umask(node_factory, tmp_path):
    """pdns.sqlite3 holds DNSSEC private keys and TSIG secrets: it and its
    -wal and -shm files are 0600 under a umask of 022, also when data-dir
    was made beforehand (SQLite used to create the file 0644)."""
    old = os.umask(0o022)
    try:
        node = node_factory(start=False)
        os.makedirs(node.data_dir, mode=0o700)
        node.start()
    finally:
        os.umask(old)
    node.push_ok("private-db.example.", 1, 1, harness.basic_records("192.0.2.8"))
    modes = {}
    for name in ("pdns.sqlite3", "pdns.sqlite3-wal", "pdns.sqlite3-shm"):
        path = os.path.join(node.data_dir, name)
        modes[name] = oct(os.stat(path).st_mode & 0o777)
    assert modes == dict.fromkeys(modes, oct(0o600))


@pytest.mark.parametrize("path,mode,word", [
    ("data", 0o755, "chmod 700"),
    ("data", 0o750, "chmod 700"),
    ("data/pdns.sqlite3", 0o644, "chmod 600"),
    ("data/pdns.sqlite3", 0o660, "chmod 600"),
    ("data/pdns.sqlite3-wal", 0o604, "chmod 600"),
    ("data/pdns.sqlite3-shm", 0o640, "chmod 600"),
])
def test_agent_refuses_a_data_dir_or_database_others_can_use(tmp_path, path, mode, word):
    """The agent never changes the mode of a data-dir it did not create: it
    names the path and the fix, and starts nothing."""
    conf = write_conf(tmp_path, ["secret = " + SECRET])
    os.mkdir(tmp_path / "data", 0o700)
    target = tmp_path / path
    if path != "data":
        target.write_bytes(b"")
    os.chmod(target, mode)

    code, out, err = run_agent(tmp_path, ["-c", conf])

    assert code not in (None, 0), "the agent started:\n" + err
    assert str(target) in err and word in err, err
    assert os.stat(target).st_mode & 0o777 == mode
    assert not os.path.exists(tmp_path / "data" / "run" / "pdns.pid")


def test_a_node_answers_on_each_of_its_dns_addresses(node_factory):
    """'dns-address' takes a list (PowerDNS binds '::' to IPv6 only, so a
    dual-stack node lists one address per family): PowerDNS answers on
    each, and so does the transfer port, which before took one address
    and refused to start with a list."""
    node = node_factory(config={"dns-address": "127.0.0.1, ::1"})
    node.push_ok("two.example.", 1, 1, harness.basic_records("192.0.2.7"))
    for address in ("127.0.0.1", "::1"):
        m = harness.dns_query(address, node.dns_port, "www.two.example.", "A")
        assert harness.answer_texts(m, "www.two.example.", "A") == ["192.0.2.7"], address
        # no secondary is allowed this zone: refused, but answered, on UDP and TCP
        q = dns.message.make_query("two.example.", "SOA")
        for send in (dns.query.udp, dns.query.tcp):
            m = send(q, address, port=node.transfer_port, timeout=5)
            assert m.rcode() == dns.rcode.REFUSED, (address, send, m)
    conf = open(os.path.join(node.data_dir, "pdns.conf")).read()
    assert "local-address=127.0.0.1, ::1\n" in conf


def test_secret_of_exactly_32_characters_is_enough(node_factory):
    node = node_factory(secret="k" * 32)

    assert node.get("/health").status_code == 200


def test_secret_of_512_characters_is_the_longest(node_factory):
    node = node_factory(secret="k" * 512)

    assert node.get("/health").status_code == 200


def test_secret_with_a_hash_inside_is_the_whole_secret(node_factory):
    """A '#' inside a value is part of it: the secret is not cut to the 32
    characters before the '#' (which once let those alone in)."""
    full = "A" * 32 + "#" + "B" * 20
    node = node_factory(secret=full)
    url = node.url + "/api/dns/status"

    assert requests.get(url, headers={"X-Agent-Secret": full}, timeout=5).status_code == 200
    assert requests.get(url, headers={"X-Agent-Secret": "A" * 32},
                        timeout=5).status_code == 401


@pytest.mark.parametrize("program", ["agent", "whm"])
def test_daemons_answer_help_and_version_on_stdout(program):
    binary = harness.AGENT if program == "agent" else os.path.join(harness.BUILD, "src", "whm",
                                                                   "yumna-whm")
    name = "yumna-" + program
    for flag in ("--help", "-h"):
        p = subprocess.run([binary, flag], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=10, env=harness.sanitizer_env())
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith("usage: " + name) and "--version" in p.stdout, p.stdout
        assert p.stderr == ""
    for flag in ("--version", "-V"):
        p = subprocess.run([binary, flag], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=10, env=harness.sanitizer_env())
        assert p.returncode == 0, p.stderr
        words = p.stdout.split()
        assert len(words) == 2 and words[0] == name and words[1][0].isdigit(), p.stdout
        assert p.stderr == ""
    p = subprocess.run([binary, "--no-such-option"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=10, env=harness.sanitizer_env())
    assert p.returncode == 2 and "usage: " + name in p.stderr and p.stdout == ""


def test_the_controller_refuses_a_mariadb_password_given_twice(tmp_path):
    """mysql-password and mysql-password-file together are refused, as the
    agent refuses gmysql-password beside gmysql-password-file: neither is
    silently the one that counts."""
    whm = os.path.join(harness.BUILD, "src", "whm", "yumna-whm")
    secret = tmp_path / "pw"
    secret.write_text("from-the-file\n")
    os.chmod(secret, 0o600)
    conf = tmp_path / "whm.conf"
    base = "store-path = %s\n" % (tmp_path / "whm.sqlite3")
    for extra, refused in (("mysql-password = inline\nmysql-password-file = %s\n" % secret, True),
                           ("mysql-password-file = %s\n" % secret, False),
                           ("mysql-password = inline\n", False)):
        conf.write_text(base + extra)
        os.chmod(conf, 0o600)
        p = subprocess.run([whm, "-n", "-c", str(conf)], capture_output=True, text=True,
                           timeout=30, env=harness.sanitizer_env())
        if refused:
            assert p.returncode != 0, p.stderr
            assert "set 'mysql-password' or 'mysql-password-file', not both" in p.stderr, p.stderr
        else:
            assert p.returncode == 0, (extra, p.stderr)
