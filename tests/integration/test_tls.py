"""HTTPS on the controller and on the agents (libmicrohttpd with GnuTLS),
and the controller verifying each agent's certificate (agent-tls-ca-file):
a certificate from another CA, or one that does not name the agent's
address, keeps the node down with the reason in its status and events."""

import json
import os
import subprocess
import time

import pytest
import requests

import harness
from cluster import Cluster, WHM
from pki import Pki

pytest_plugins = ["cluster_fixtures"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("pki"))
    return Pki(d, "yumna-test")


def tls_cluster(factory, pki, agent_cert, agent_ca, n=2, node_ca=None, check=True):
    whm_cert, whm_key = pki.server("controller", ["127.0.0.1"])
    c = Cluster(os.path.join(factory.base, "c%d" % (len(factory.clusters) + 1)), n=n, start=False,
                whm_config={"tls-cert-file": whm_cert, "tls-key-file": whm_key,
                            "agent-tls-ca-file": agent_ca},
                node_config={"tls-cert-file": agent_cert[0], "tls-key-file": agent_cert[1]})
    factory.clusters.append(c)
    c.whm.ca_file = pki.ca_file
    for node in c.nodes:
        node.ca_file = pki.ca_file if node_ca is None else node_ca
    c.check_agents = check
    c.start()
    return c


def assert_registration_refused(c):
    """The agent check at registration meets the untrusted certificate."""
    node = c.nodes[0]
    r = c.whm.post("/api/dns/servers", {"name": "probe", "ip": node.address,
                                        "agent_port": node.api_port,
                                        "agent_secret": node.secret})
    assert r.status_code == 502, r.text
    assert "tls certificate not trusted" in r.json()["error"], r.text
    assert "probe" not in [s["name"] for s in c.whm.servers()]


def test_controller_and_agents_speak_verified_https(cluster_factory, pki):
    c = tls_cluster(cluster_factory, pki, pki.server("agent", ["127.0.0.1", "::1"]), pki.ca_file)
    assert c.whm.url.startswith("https://") and c.nodes[0].url.startswith("https://")

    zid = c.create_zone("tls.example")
    answer = c.add_record(zid, "www", "A", "192.0.2.53")
    assert answer["synced"] is True, answer
    c.wait_all_nodes("www.tls.example.", "A", ["192.0.2.53"])
    status = c.whm.status()
    assert [n["status"] for n in status["nodes"]] == ["online"] * 2, status
    assert c.whm.get("/metrics").status_code == 200
    assert c.whm.get("/ui/", token=None).status_code == 200

    # Plain HTTP on the HTTPS ports gets no API answer.
    for url in (c.whm.url, c.nodes[0].url):
        plain = url.replace("https://", "http://") + "/health"
        try:
            r = requests.get(plain, timeout=5)
            assert r.status_code not in (200, 401), r.status_code
        except requests.RequestException:
            pass
    # A client that does not trust the CA refuses the controller.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(c.whm.url + "/health", timeout=5)


def _wait_node_error(c, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        nodes = c.whm.status()["nodes"]
        if all(n["status"] == "offline" and n["lastError"] for n in nodes) or \
                time.monotonic() > deadline:
            return nodes
        time.sleep(0.1)


def test_an_agent_certificate_from_another_ca_keeps_the_node_down(cluster_factory, pki, tmp_path):
    other = Pki(str(tmp_path), "someone-else")
    # Registered without the agent check, which would refuse it.
    c = tls_cluster(cluster_factory, pki, other.server("agent", ["127.0.0.1"]), pki.ca_file, n=1,
                    node_ca=other.ca_file, check=False)
    assert_registration_refused(c)

    nodes = _wait_node_error(c)
    assert nodes[0]["status"] == "offline", nodes
    assert "tls certificate not trusted" in nodes[0]["lastError"], nodes

    def events():
        return c.whm.get("/api/dns/cluster/events").json()["events"]
    # The event is added after the node's state the status shows.
    assert harness.wait_until(
        lambda: any(e["kind"] == "node.down" and "not trusted" in e["message"] for e in events()),
        5), events()
    zid = c.create_zone("untrusted.example", wait=False)
    c.add_record(zid, "www", "A", "192.0.2.1", wait=False)
    assert c.nodes[0].rcode("www.untrusted.example.", "A") == "REFUSED"


# The harness itself cannot verify that agent (its certificate names another
# address), so it talks to it unverified; the controller must refuse it.
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_an_agent_certificate_must_name_the_agents_address(cluster_factory, pki):
    c = tls_cluster(cluster_factory, pki, pki.server("elsewhere", ["192.0.2.1"]), pki.ca_file,
                    n=1, node_ca=False, check=False)
    assert_registration_refused(c)

    nodes = _wait_node_error(c)
    assert nodes[0]["status"] == "offline", nodes
    assert "tls certificate not trusted" in nodes[0]["lastError"], nodes


def check_config(program, text, tmp_path):
    conf = tmp_path / "check.conf"
    conf.write_text(text)
    os.chmod(conf, 0o600)
    return subprocess.run([program, "-n", "-c", str(conf)], capture_output=True, timeout=30)


@pytest.mark.parametrize("program", [WHM, harness.AGENT])
def test_tls_settings_are_checked(program, pki, tmp_path):
    cert, key = pki.server("checked", ["127.0.0.1"])
    base = "secret = %s\n" % ("s" * 40) if program == harness.AGENT else \
        "store-path = %s\n" % (tmp_path / "whm.sqlite3")

    p = check_config(program, base + "tls-cert-file = %s\ntls-key-file = %s\n" % (cert, key),
                     tmp_path)
    assert p.returncode == 0, p.stderr
    p = check_config(program, base + "tls-cert-file = %s\n" % cert, tmp_path)
    assert p.returncode != 0 and b"go together" in p.stderr
    os.chmod(key, 0o644)
    try:
        p = check_config(program, base + "tls-cert-file = %s\ntls-key-file = %s\n"
                         % (cert, key), tmp_path)
        assert p.returncode != 0 and b"chmod 600" in p.stderr, p.stderr
    finally:
        os.chmod(key, 0o600)
    p = check_config(program, base + "tls-cert-file = %s\ntls-key-file = %s\n"
                     % (tmp_path / "missing.pem", key), tmp_path)
    assert p.returncode != 0 and b"missing.pem" in p.stderr


def test_an_agent_ca_file_without_a_certificate_is_refused(pki, tmp_path):
    base = "store-path = %s\n" % (tmp_path / "whm.sqlite3")
    p = check_config(WHM, base + "agent-tls-ca-file = %s\n" % pki.ca_file, tmp_path)
    assert p.returncode == 0, p.stderr
    empty = tmp_path / "empty-ca.pem"
    empty.write_text("this is not a certificate\n")
    p = check_config(WHM, base + "agent-tls-ca-file = %s\n" % empty, tmp_path)
    assert p.returncode != 0 and b"no certificate" in p.stderr, p.stderr


def test_a_key_that_does_not_match_the_certificate_stops_the_start(cluster_factory, pki):
    cert, _ = pki.server("one", ["127.0.0.1"])
    _, key = pki.server("two", ["127.0.0.1"])
    c = cluster_factory.__class__(cluster_factory.base + "/mismatch")
    cl = Cluster(os.path.join(c.base, "c"), n=0, start=False,
                 whm_config={"tls-cert-file": cert, "tls-key-file": key})
    c.clusters.append(cl)
    try:
        with pytest.raises(Exception) as e:
            cl.whm.start(timeout=5)
        assert "cannot listen" in cl.whm.logs() and "invalid configuration" in cl.whm.logs(), \
            cl.whm.logs()
    finally:
        c.close()


def test_yumnactl_speaks_verified_https(cluster_factory, pki, tmp_path):
    ctl = os.path.join(harness.BUILD, "src", "cli", "yumnactl")
    c = tls_cluster(cluster_factory, pki, pki.server("agent", ["127.0.0.1"]), pki.ca_file, n=1)
    env = dict(harness.sanitizer_env(), HOME=str(tmp_path), PATH=os.environ.get("PATH", ""),
               YUMNA_URL=c.whm.url, YUMNA_TOKEN=c.whm.admin_token)
    harness.wait_until(lambda: c.whm.status()["nodes"][0]["status"] == "online", 15, interval=0.1)

    def run(*args, **extra):
        return subprocess.run([ctl] + list(args), env=dict(env, **extra), capture_output=True,
                              text=True, timeout=60)

    p = run("--json", "--ca-file", pki.ca_file, "status")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["totalNodes"] == 1
    p = run("--json", "status", YUMNA_CA_FILE=pki.ca_file)
    assert p.returncode == 0, p.stderr
    p = run("status")                       # https without a CA to trust
    assert p.returncode == 3 and "ca-file" in p.stderr, p.stderr
    other = Pki(str(tmp_path), "someone-else")   # a CA that did not sign the controller
    p = run("--ca-file", other.ca_file, "status")
    assert p.returncode not in (0, 3), (p.returncode, p.stderr)
