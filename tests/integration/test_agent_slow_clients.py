"""Slow and unwanted clients cannot silence an agent.

Before the fix 1,000 connections that trickled a request header held all
256 of the agent's connections: /health and pushes timed out while they
stayed, and for 60 s after. Now clients outside 'allow-from' are closed at
accept (no slot), a header must be complete within 'header-timeout-ms' and
a body must keep 'body-min-rate' after 'body-grace-ms'.

The hostile side binds its sockets to other loopback addresses (127.0.0.2
is never allowed; 127.0.0.3 is allowed where a test says so); the checks
that must stay fast come from 127.0.0.1.
"""

import os
import resource
import socket
import subprocess
import threading
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest
import requests

import harness

HOSTILE = "127.0.0.2"
ALLOWED_SLOW = "127.0.0.3"


@pytest.fixture(autouse=True)
def enough_descriptors():
    """1,000 client sockets plus the test's own need more than the usual
    1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if max(soft, want) < 1500:
        pytest.skip("needs 1,500 file descriptors (ulimit -n)")
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class Trickler:
    """'count' connections from 'source' to 'node' that send 'head' at
    once and then one byte of 'drip' every 'interval' seconds, until
    closed. A connection the agent closes is noted, never reopened."""

    def __init__(self, node, source, count, head=b"GET /health HTTP/1.1\r\nHost: x\r\n",
                 drip=b"X-Slow: a\r\n", interval=0.25):
        self.head, self.drip, self.interval = head, drip, interval
        self.socks = []
        self.opened_at = {}
        self.closed_at = {}
        self.answers = {}
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((source, 0))
            s.setblocking(False)
            s.connect_ex((node.address, node.api_port))
            self.socks.append(s)
            self.opened_at[s] = time.monotonic()
        self.stop_evt = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _send(self, s, data):
        try:
            s.send(data)
            return True
        except BlockingIOError:
            return True  # still connecting, or the buffer is full: try later
        except OSError:
            return False

    def _closed_by_peer(self, s):
        try:
            data = s.recv(4096)
        except BlockingIOError:
            return False
        except OSError:
            return True
        if data:
            self.answers[s] = self.answers.get(s, b"") + data
            return False
        return True

    def _run(self):
        sent_head = set()
        pos = {}
        while not self.stop_evt.is_set():
            for s in self.socks:
                if s in self.closed_at:
                    continue
                if s not in sent_head:
                    ok = self._send(s, self.head)
                    if ok:
                        sent_head.add(s)
                else:
                    i = pos.get(s, 0)
                    ok = self._send(s, self.drip[i % len(self.drip):i % len(self.drip) + 1])
                    pos[s] = i + 1
                if not ok or self._closed_by_peer(s):
                    self.closed_at[s] = time.monotonic()
            self.stop_evt.wait(self.interval)

    def open_count(self):
        return len(self.socks) - len(self.closed_at)

    def close(self):
        self.stop_evt.set()
        self.thread.join(10)
        for s in self.socks:
            s.close()


def health_latencies(node, n, timeout=2.0):
    """'n' GET /health, each on a new connection from 127.0.0.1; seconds per
    request (a failure counts as 'timeout' seconds) and the failures."""
    times, failures = [], []
    for _ in range(n):
        t0 = time.monotonic()
        try:
            r = requests.get(node.url + "/health", headers=node.headers(), timeout=timeout)
            if r.status_code != 200:
                failures.append(r.status_code)
            times.append(time.monotonic() - t0)
        except requests.RequestException as e:
            failures.append(repr(e))
            times.append(timeout)
    return times, failures


def p99(values):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * 0.99))]


def test_slow_headers_from_elsewhere_do_not_delay_health_or_pushes(node_factory, zone_name):
    node = node_factory()  # default allow-from: loopback 127.0.0.1 and ::1
    slow = Trickler(node, HOSTILE, 1000)
    try:
        time.sleep(1.0)
        times, failures = health_latencies(node, 200)
        assert not failures, failures[:5]
        assert p99(times) < 0.1, "health p99 %.1f ms" % (p99(times) * 1000)
        t0 = time.monotonic()
        node.push_ok(zone_name, 1, 1, harness.basic_records())
        assert time.monotonic() - t0 < 1.0
        # Refused at accept: none of them holds a connection, none was answered.
        assert harness.wait_until(lambda: slow.open_count() == 0, 5.0), slow.open_count()
        assert not any(a.startswith(b"HTTP/") for a in slow.answers.values())
    finally:
        slow.close()
    times, failures = health_latencies(node, 20)
    assert not failures and max(times) < 0.5, (failures, max(times))


def test_slow_header_from_an_allowed_address_is_closed_after_the_header_timeout(
        node_factory):
    node = node_factory(config={"allow-from": "127.0.0.1, %s, ::1" % ALLOWED_SLOW,
                                "header-timeout-ms": 1000})
    slow = Trickler(node, ALLOWED_SLOW, 20, interval=0.1)
    try:
        assert harness.wait_until(lambda: slow.open_count() == 0, 5.0), slow.open_count()
        lived = [slow.closed_at[s] - slow.opened_at[s] for s in slow.socks]
        # Trickling a byte every 100 ms never resets the deadline.
        assert 0.8 < min(lived) and max(lived) < 2.5, lived
        assert not any(slow.answers.values()), list(slow.answers.values())[:1]
    finally:
        slow.close()
    times, failures = health_latencies(node, 20)
    assert not failures and max(times) < 0.5, (failures, max(times))


def test_trickled_10mb_bodies_are_cut_off_and_health_stays_fast(node_factory):
    node = node_factory(config={"allow-from": "127.0.0.1, %s, ::1" % ALLOWED_SLOW,
                                "body-grace-ms": 1000, "body-min-rate": 16384})
    head = ("POST /api/dns/sync-batch HTTP/1.1\r\nHost: x\r\nX-Agent-Secret: %s\r\n"
            "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{\"zones\": ["
            % node.secret).encode()
    slow = Trickler(node, ALLOWED_SLOW, 200, head=head, drip=b" ", interval=0.1)
    try:
        time.sleep(0.5)
        times, failures = health_latencies(node, 100)
        assert not failures, failures[:5]
        assert p99(times) < 0.1, "health p99 %.1f ms" % (p99(times) * 1000)
        assert harness.wait_until(lambda: slow.open_count() == 0, 6.0), slow.open_count()
        lived = [slow.closed_at[s] - slow.opened_at[s] for s in slow.socks]
        assert max(lived) < 4.0, max(lived)
        # Cut off: no answer, the handler never ran.
        assert not any(a.startswith(b"HTTP/") for a in slow.answers.values())
    finally:
        slow.close()
    times, failures = health_latencies(node, 20)
    assert not failures and max(times) < 0.5, (failures, max(times))
    assert node.get("/health").json()["status"] == "healthy"


def test_a_client_outside_allow_from_is_closed_without_an_answer(node_factory):
    node = node_factory()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOSTILE, 0))
        s.settimeout(5.0)
        s.connect((node.address, node.api_port))
        try:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Agent-Secret: "
                      + node.secret.encode() + b"\r\n\r\n")
            data = s.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
    finally:
        s.close()
    assert data == b""
    # The allowed address still gets its answer.
    assert node.get("/health").status_code == 200


def run_check(tmp_path, lines):
    api, dns_port, pdns_api = harness.free_ports(3, udp=(1,))
    base = ["secret = " + "s" * 40, "listen-port = %d" % api, "data-dir = %s" % (tmp_path / "d"),
            "dns-address = 127.0.0.1", "dns-port = %d" % dns_port,
            "pdns-api-port = %d" % pdns_api]
    path = tmp_path / "agent.conf"
    path.write_text("\n".join(base + lines) + "\n")
    os.chmod(path, 0o600)
    p = subprocess.run([harness.AGENT, "-n", "-c", str(path)], capture_output=True, timeout=30)
    return p.returncode, p.stderr.decode(), "%s:%d: " % (path, len(base) + 1)


@pytest.mark.parametrize("value,entry,why", [
    ("127.0.0.1, 10.0.0.0/33", "10.0.0.0/33", "prefix length over 32"),
    ("::1, 2001:db8::/129", "2001:db8::/129", "prefix length over 128"),
    ("127.0.0.1, controller.example", "controller.example", "not an IP address"),
    ("192.0.2.1/24", "192.0.2.1/24", "bits set past its prefix length"),
    ("fe80::1%eth0", "fe80::1%eth0", "not an IP address"),
    ("10.0.0.0/", "10.0.0.0/", "bad prefix length"),
    (",", None, "no address"),
])
def test_a_bad_allow_from_entry_is_refused_with_file_and_line(tmp_path, value, entry, why):
    code, err, where = run_check(tmp_path, ["allow-from = " + value])

    assert code != 0
    assert where in err, err
    assert "'allow-from'" in err and why in err, err
    if entry:
        assert "'%s'" % entry in err, err


def test_allow_from_takes_addresses_and_prefixes_of_both_families(tmp_path):
    code, err, _ = run_check(tmp_path, ["allow-from = 127.0.0.1, ::1 192.0.2.0/24,2001:db8::/32"])

    assert code == 0, err


def tcp_query(node, name, rtype="SOA", source="127.0.0.1", timeout=3.0):
    """One DNS question over TCP from 'source': the answer's rcode text, or
    None when the connection was refused, closed or timed out."""
    q = dns.message.make_query(name, rtype)
    try:
        return dns.rcode.to_text(dns.query.tcp(q, node.address, port=node.dns_port,
                                               source=source, timeout=timeout).rcode())
    except (OSError, EOFError, dns.exception.Timeout):
        return None


def test_trickling_tcp_clients_do_not_take_powerdns_tcp_from_others(node_factory, zone_name):
    """PowerDNS serves 20 TCP connections at once by default, and one that
    sends a byte every few seconds stays: one address could hold them all,
    and every TCP question (a truncated answer's retry, the node's own
    transfer relay) then went unanswered. The managed PowerDNS takes more,
    at most pdns-tcp-clients-per-address of them from one address, each for
    at most a minute."""
    node = node_factory()
    node.push_ok(zone_name, 1, 1, harness.basic_records())
    assert tcp_query(node, zone_name) == "NOERROR"
    held = []
    stop = threading.Event()

    def trickle():  # a question of 65,280 bytes, one byte a second
        while not stop.wait(1.0):
            for s in held:
                try:
                    s.send(b"x")
                except OSError:
                    pass

    for _ in range(40):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((HOSTILE, 0))
        s.settimeout(2)
        held.append(s)
        try:
            s.connect((node.address, node.dns_port))
            s.sendall(b"\xff")
        except OSError:
            pass
    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        time.sleep(6)  # past PowerDNS's tcp-idle-timeout (5 s): they stay
        answers = [tcp_query(node, zone_name) for _ in range(5)]
        assert answers == ["NOERROR"] * 5, answers
        # the hostile address itself gets no more than its share
        assert tcp_query(node, zone_name, source=HOSTILE) is None
    finally:
        stop.set()
        t.join()
        for s in held:
            s.close()
