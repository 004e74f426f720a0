"""Real PowerDNS API clients against the controller, end to end.

lego (its `pdns` DNS provider) gets a certificate for www.<zone> and
*.<zone> from pebble, a small ACME server that really validates the DNS-01
challenges: it asks one of the nodes for the _acme-challenge TXT records
lego wrote through the controller's /api/v1. Afterwards the challenge
records are gone from the API and from every node, and the zone's history
holds lego's changes.

lego and pebble are Debian packages (scripts/deps.sh installs them);
without them this test fails rather than skips."""

import json
import os
import subprocess
import time

import pytest
from cryptography import x509

import harness
from pki import Pki

pytest_plugins = ["cluster_fixtures"]

BASE = "/api/v1/servers/localhost"


class Pebble:
    """pebble in 'directory', with a TLS certificate from the test's CA,
    answering ACME on a port chosen at run time and resolving the DNS-01
    challenges at 'dns' ("127.0.0.1:port"). The output goes to pebble.log."""

    def __init__(self, directory, dns):
        self.directory = str(directory)
        self.ca = Pki(self.directory, "pebble-test")
        cert, key = self.ca.server("pebble", ["127.0.0.1"])
        self.port, mgmt, http, tls = harness.free_ports(4)
        self.conf_path = os.path.join(self.directory, "pebble.json")
        self.log_path = os.path.join(self.directory, "pebble.log")
        with open(self.conf_path, "w") as f:
            json.dump({"pebble": {
                "listenAddress": "127.0.0.1:%d" % self.port,
                "managementListenAddress": "127.0.0.1:%d" % mgmt,
                "certificate": cert, "privateKey": key,
                # Ports it would dial for HTTP-01 and TLS-ALPN-01: unused.
                "httpPort": http, "tlsPort": tls,
                "ocspResponderURL": "", "externalAccountBindingRequired": False}}, f)
        self.dns = dns
        self.proc = None

    @property
    def directory_url(self):
        return "https://127.0.0.1:%d/dir" % self.port

    def start(self, timeout=20.0):
        log = open(self.log_path, "ab")
        try:
            # Validate at once and take every nonce: the test's time is short
            # and pebble's default 5 % of refused nonces only adds retries.
            env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0")
            env.pop("PEBBLE_VA_ALWAYS_VALID", None)
            self.proc = subprocess.Popen(
                ["pebble", "-config", self.conf_path, "-dnsserver", self.dns],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.directory,
                start_new_session=True, close_fds=True, env=env)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("pebble exited with %s\n%s"
                                     % (self.proc.returncode, self.logs()))
            if "Listening on" in self.logs():
                return self
            time.sleep(0.05)
        raise AssertionError("pebble did not listen after %.0f s\n%s" % (timeout, self.logs()))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            harness.terminate(self.proc.pid)   # our child: its pid is ours until reaped
            self.proc.wait()

    def logs(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError as e:
            return "(%s)" % e


@pytest.fixture
def pebble(cluster, tmp_path):
    d = tmp_path / "pebble"
    d.mkdir()
    p = Pebble(d, cluster.nodes[0].dns)
    try:
        yield p.start()
    finally:
        p.stop()


def lego(cluster, pebble, directory, domains, resolver):
    """Run `lego run` for 'domains' with the pdns provider pointed at the
    controller; returns the CompletedProcess."""
    args = ["lego", "--accept-tos", "--email", "ops@example.org", "--path", directory,
            "--server", pebble.directory_url, "--dns", "pdns",
            "--dns.resolvers", resolver,
            # The zone's NS names do not resolve in the test: lego checks the
            # TXT records at the resolver above only.
            "--dns.disable-cp"]
    for d in domains:
        args += ["--domains", d]
    args.append("run")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": directory,
           "PDNS_API_URL": cluster.whm.url, "PDNS_API_KEY": cluster.whm.admin_token,
           "PDNS_PROPAGATION_TIMEOUT": "20", "PDNS_POLLING_INTERVAL": "1",
           "LEGO_CA_CERTIFICATES": pebble.ca.ca_file}
    return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, cwd=directory,
                          env=env, timeout=60)


def challenge_rrsets(cluster, zone):
    """The _acme-challenge RRsets of 'zone' as GET /api/v1 shows them."""
    r = cluster.whm.get(BASE + "/zones/" + zone, headers={"X-API-Key": cluster.whm.admin_token},
                        token=None)
    assert r.status_code == 200, r.text
    return [s for s in r.json()["rrsets"] if s["name"].startswith("_acme-challenge.")]


def test_lego_gets_a_certificate_through_the_cluster(cluster, pebble, domain, tmp_path):
    zone = domain + "."
    # The zone, made as an operator would with PowerDNS's API.
    r = cluster.whm.post(BASE + "/zones", {
        "name": zone, "kind": "Native", "rrsets": [
            {"name": "www." + zone, "type": "A", "ttl": 300,
             "records": [{"content": "192.0.2.80", "disabled": False}]}]},
        token=None, headers={"X-API-Key": cluster.whm.admin_token})
    assert r.status_code == 201, r.text
    zid = cluster.whm.zones()[zone]["id"]
    created = cluster.whm.zone(zid)["version"]
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.80"])
    work = str(tmp_path / "lego")
    os.mkdir(work)

    names = ["www." + domain, "*." + domain]
    p = lego(cluster, pebble, work, names, cluster.nodes[0].dns)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    assert p.returncode == 0, "lego: exit %d\n%s\npebble:\n%s" % (p.returncode, out,
                                                                  pebble.logs())

    # The certificate lego stored covers both names.
    with open(os.path.join(work, "certificates", "www.%s.crt" % domain), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(sans.get_values_for_type(x509.DNSName)) == sorted(names)

    # The challenge records are gone, from the API and from every node.
    assert challenge_rrsets(cluster, zone) == []
    for name in ("_acme-challenge.www." + zone, "_acme-challenge." + zone):
        cluster.wait_all_nodes(name, "TXT", [])
    cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.80"])

    # Each challenge record was added, then removed, by a version of its
    # own made with lego's key, all in the zone's history.
    h = cluster.whm.call("GET", "/api/dns/%d/versions" % zid, expect=200)
    assert h["current"] == created + 4
    made = sorted((v for v in h["versions"] if v["version"] > created),
                  key=lambda v: v["version"])
    assert all(v["action"] == "rrsets.patch" and v["actor"] == "tests-admin" for v in made), made
    challenges = ["_acme-challenge TXT", "_acme-challenge.www TXT"]
    assert sorted(v["summary"] for v in made[:2]) == ["rrsets: replace " + c for c in challenges]
    assert sorted(v["summary"] for v in made[2:]) == ["rrsets: delete " + c for c in challenges]
    start = next(v["records"] for v in h["versions"] if v["version"] == created)
    assert [v["records"] - start for v in made] == [1, 2, 1, 0], made
