#!/usr/bin/python3
"""yumna-dns benchmarks: every figure beside its anchor, measured in one run.

Starts real agents with their own pdns_server, a real yumna-whm and, for the
anchors, plain pdns_server instances, all on 127.0.0.1 (ports chosen at run
time); measures, writes bench/results.md and prints the same table.

    make bench                              # everything, full size
    bench/run.py --only agent               # the agent's figures only
    bench/run.py --only controller          # the controller's figures only
    bench/run.py --only latency,health      # some controller figures
    bench/run.py --only history             # zone history: listing, rollback, growth
    bench/run.py --only pdnsapi             # PowerDNS's API on the controller vs pdns_server
    bench/run.py --only secondary           # external BIND primary change + NOTIFY → all 3 nodes
    bench/run.py --only dnsupdate           # RFC 2136 updates vs pdns_server dnsupdate=yes
    bench/run.py --only supervise           # pdns_server killed → serving again
    bench/run.py --only slowclients         # agent /health under 1,000 slowloris connections
    bench/run.py --only verify              # drift behind an agent → repaired; verification cost
    bench/run.py --only production          # MariaDB store + gmysql nodes beside the defaults
    bench/run.py --only scale               # 1,000,000 zones: full sync, status, reconciliation,
                                            # memory (--scale-zones N for another size)
    bench/run.py --only xfr                 # a BIND secondary via the catalog zone: change →
                                            # served by BIND; 1,000 zones added → all served
    bench/run.py --only dashboard           # 100,000 zones in headless Chromium: first
                                            # screen, a search, an idle minute's bytes
    bench/run.py --quick                    # small sizes, a smoke check (prints;
                                            # writes only with --out)
    bench/run.py --zones 2000               # a smaller sync (anchor scaled to the same count)

Sections: agent (push latency, sync-batch, agent memory), and the controller's
latency (change -> answered by 3 nodes, beside PowerDNS primary -> secondary
with NOTIFY), throughput (acknowledged changes/s and convergence, beside
PowerDNS API PATCH), health (sweep of 100 nodes of which 10 do not answer,
beside a sequential 5 s-timeout loop) and memory (controller RSS with
100,000 zones), and dnssec (1,000 zones signed → served signed by 3 nodes;
record change in a signed zone → valid signed answer, beside an unsigned zone),
and history (1,000 versions of a zone listed in one page; a rollback → the old
answer from 3 nodes; the store's growth per version of a zone of 10 records),
and supervise (a managed node's pdns_server SIGKILLed → the node answers DNS
again, restarted by its agent; 20 kills), and slowclients (agent /health p99
under 1,000 slowloris connections from an address outside allow-from, then
from an allowed one), and verify (a record changed in a node's PowerDNS
database behind its agent → served right again, 20 edits; the agent's CPU for
one background verification pass over 100,000 zones), and scale (1,000,000
zones created, synced to a fresh node and two more, then cluster status, a
reconciliation pass over in-sync nodes, one change, memory of every process),
and production (the controller's store on MariaDB and the nodes' PowerDNS on
gmysql, on a private MariaDB server, beside the defaults in the same run:
change -> answered by 3 nodes, acknowledged changes/s, a fresh node's full
sync of 3,000 zones), and dashboard (100,000 zones and one node, the
dashboard in headless Chromium: navigation -> the first page of zones
shown; a prefix typed -> its zones shown; bytes received in one idle
minute).
"""
import argparse
import base64
import json
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
import dns.zone
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
import harness  # noqa: E402
import cluster as clusterlib  # noqa: E402
import chromium  # noqa: E402
import pdns_plain  # noqa: E402
from dns_primaries import BindPrimary  # noqa: E402
import secondaries  # noqa: E402


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def rss_kb(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def zone_records(i, value="192.0.2.1"):
    """Ten records, the shape of a small hosting customer's zone."""
    return [
        harness.rec("@", "NS", "ns1.example.net."),
        harness.rec("@", "NS", "ns2.example.net."),
        harness.rec("@", "A", value, ttl=300),
        harness.rec("www", "A", value, ttl=300),
        harness.rec("@", "MX", "mail.zone%d.bench." % i, priority=10),
        harness.rec("mail", "A", "192.0.2.25"),
        harness.rec("@", "TXT", '"v=spf1 mx -all"'),
        harness.rec("_dmarc", "TXT", '"v=DMARC1; p=none"'),
        harness.rec("ftp", "CNAME", "www.zone%d.bench." % i),
        harness.rec("@", "AAAA", "2001:db8::%x" % (i % 65535 + 1)),
    ]


def wait_answer(sock, port, name, rtype, want, limit=60.0):
    """Query until the answer contains 'want'; returns when it did. (60 s:
    past PowerDNS's packet cache, cache-ttl 20 s, so that an answer held
    there stale is measured, not an error.)"""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        msg = harness.dns_query("127.0.0.1", port, name, rtype, sock=sock, timeout=1.0)
        if want in harness.answer_texts(msg, name, rtype):
            return
    raise RuntimeError("%s %s never answered %s" % (name, rtype, want))


def push_latency(node, rounds):
    """Change one record of a zone through sync-zone; time until dig sees it."""
    zone = "latency.bench."
    node.push_ok(zone, 1, 1, zone_records(0))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    times = []
    for v in range(2, rounds + 2):
        value = "198.51.%d.%d" % (v // 250, v % 250 + 1)
        t0 = time.perf_counter()
        node.push_ok(zone, v, v, zone_records(0, value))
        wait_answer(sock, node.dns_port, "www." + zone, "A", value)
        times.append((time.perf_counter() - t0) * 1000)
    sock.close()
    return times


def pdns_api(node):
    with open(os.path.join(node.data_dir, "pdns-api-key")) as f:
        key = f.read().strip()
    s = requests.Session()
    s.headers["X-API-Key"] = key
    return s, "http://127.0.0.1:%d/api/v1/servers/localhost" % node.pdns_api_port


def api_rrsets(zone, i, value="192.0.2.1"):
    """zone_records() as PowerDNS API rrsets."""
    groups = {}
    for r in zone_records(i, value):
        name = zone if r["name"] == "@" else "%s.%s" % (r["name"], zone)
        content = r["content"]
        if "priority" in r:
            content = "%d %s" % (r["priority"], content)
        g = groups.setdefault((name, r["type"]), {"ttl": r.get("ttl", 3600), "c": []})
        g["c"].append(content)
    return [{"name": n, "type": t, "ttl": g["ttl"], "changetype": "REPLACE",
             "records": [{"content": c, "disabled": False} for c in g["c"]]}
            for (n, t), g in groups.items()]


def anchor_patch_latency(node, rounds):
    """PowerDNS's own API: PATCH one rrset, time until dig sees it."""
    s, base = pdns_api(node)
    zone = "patch.bench."
    r = s.post(base + "/zones", json={"name": zone, "kind": "Native",
                                      "rrsets": api_rrsets(zone, 0)})
    r.raise_for_status()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    times = []
    for v in range(2, rounds + 2):
        value = "198.51.%d.%d" % (v // 250, v % 250 + 1)
        t0 = time.perf_counter()
        r = s.patch(base + "/zones/" + zone, json={"rrsets": [
            {"name": "www." + zone, "type": "A", "ttl": 300, "changetype": "REPLACE",
             "records": [{"content": value, "disabled": False}]}]})
        r.raise_for_status()
        wait_answer(sock, node.dns_port, "www." + zone, "A", value)
        times.append((time.perf_counter() - t0) * 1000)
    sock.close()
    return times


def query_window(port, names, rtype, window=128, tries=20, deadline=None, edns=False):
    """Ask 'port' for every name's 'rtype' over UDP (no RD; EDNS with a 4096
    byte buffer if 'edns'), with 'window' queries in flight; after a timeout the unanswered are asked
    again, up to 'tries' timeouts and not past 'deadline' (monotonic).
    Returns {name: answer message} for the names that were answered."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.3)
    answers, pending, queue = {}, {}, list(names)
    next_id = 0
    try:
        while queue or pending:
            if deadline is not None and time.monotonic() > deadline:
                break
            while queue and len(pending) < window:
                name = queue.pop()
                q = (dns.message.make_query(name, rtype, use_edns=0, payload=4096) if edns
                     else dns.message.make_query(name, rtype))
                q.flags &= ~dns.flags.RD
                q.id = next_id = (next_id + 1) % 65536
                pending[q.id] = name
                sock.sendto(q.to_wire(), ("127.0.0.1", port))
            try:
                data, _ = sock.recvfrom(65535)
            except socket.timeout:
                tries -= 1
                if tries < 0:
                    break
                queue.extend(pending.values())
                pending.clear()
                continue
            m = dns.message.from_wire(data)
            name = pending.pop(m.id, None)
            if name is not None:
                answers[name] = m
    finally:
        sock.close()
    return answers


def all_answered(port, names, want_rtype="A", limit=60.0):
    """How many of 'names' answered NOERROR with data (query_window())."""
    answers = query_window(port, names, want_rtype, tries=1000000,
                           deadline=time.monotonic() + limit)
    return sum(1 for m in answers.values() if m.rcode() == 0 and m.answer)

class RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, rss_kb(self.pid))
            except OSError:
                return
            time.sleep(0.01)


def full_sync(node, count):
    payloads = [harness.zone_payload("zone%d.bench." % i, 1, 1, zone_records(i))
                for i in range(count)]
    sampler = RssSampler(node.agent_pid)
    sampler.start()
    t0 = time.perf_counter()
    r = node.sync_batch(payloads, timeout=600)
    t1 = time.perf_counter()
    if r.status_code != 200:
        raise RuntimeError("sync-batch: %d %s" % (r.status_code, r.text[:500]))
    answered = all_answered(node.dns_port, ["www.zone%d.bench." % i for i in range(count)])
    t2 = time.perf_counter()
    sampler.stop.set()
    sampler.join()
    return t1 - t0, t2 - t0, answered, sampler.peak


def anchor_api_create(node, count):
    """PowerDNS's own API creating the same zones, one POST each."""
    s, base = pdns_api(node)
    t0 = time.perf_counter()
    for i in range(count):
        zone = "zone%d.bench." % i
        r = s.post(base + "/zones?rrsets=false", json={"name": zone, "kind": "Native",
                                                       "rrsets": api_rrsets(zone, i)})
        if r.status_code != 201:
            raise RuntimeError("POST zone: %d %s" % (r.status_code, r.text[:300]))
    return time.perf_counter() - t0


def agent_figures(args, tmp, rows):
    """The agent's figures: push latency, a full sync, memory."""
    anchor_count = args.anchor_zones or args.zones
    nodes = []
    try:
        a = harness.Node(os.path.join(tmp, "a"), name="a")
        b = harness.Node(os.path.join(tmp, "b"), name="b", node_id=2)
        nodes = [a, b]
        a.start()
        b.start()
        time.sleep(0.5)
        idle_kb = rss_kb(a.agent_pid)

        lat = push_latency(a, args.rounds)
        anchor = anchor_patch_latency(b, args.rounds)
        rows.append(("push of one changed zone (10 records) → answered by dig, p50",
                     "%.2f ms" % pct(lat, 50), "≤ 5 ms",
                     "PowerDNS API PATCH of one rrset → answered: %.2f ms" % pct(anchor, 50)))
        rows.append(("push of one changed zone → answered by dig, p99",
                     "%.2f ms" % pct(lat, 99), "≤ 20 ms",
                     "PowerDNS API PATCH → answered: %.2f ms" % pct(anchor, 99)))

        c = harness.Node(os.path.join(tmp, "c"), name="c", node_id=3)
        nodes.append(c)
        c.start()
        time.sleep(0.5)
        idle_c = rss_kb(c.agent_pid)
        req_s, all_s, answered, peak_kb = full_sync(c, args.zones)
        d = harness.Node(os.path.join(tmp, "d"), name="d", node_id=4)
        nodes.append(d)
        d.start()
        api_s = anchor_api_create(d, anchor_count)
        scaled = api_s * args.zones / anchor_count
        anchor_txt = "PowerDNS API, one POST per zone: %.1f s (%.0f zones/s)" % (
            scaled, anchor_count / api_s)
        if anchor_count != args.zones:
            anchor_txt += ", measured on %d zones and scaled" % anchor_count
        rows.append(("sync-batch of %d zones × 10 records into an empty node (request)"
                     % args.zones, "%.2f s" % req_s, "", anchor_txt))
        rows.append(("… → every zone answered (%d/%d verified by query)"
                     % (answered, args.zones), "%.2f s" % all_s, "≤ 3 s", anchor_txt))
        rows.append(("agent resident memory, idle", "%.1f MB" % (max(idle_kb, idle_c) / 1024),
                     "≤ 32 MB", "pdns_server beside it: %.1f MB"
                     % (rss_kb(c.pdns_pid()) / 1024)))
        rows.append(("agent resident memory, peak during the batch",
                     "%.1f MB" % (max(peak_kb, rss_kb(c.agent_pid, "VmHWM")) / 1024),
                     "", "the budget is for the idle agent"))
    finally:
        for n in nodes:
            n.stop()


# --- the controller ------------------------------------------------------------

# The controller runs with the defaults of etc/whm.conf.sample (the test
# fixture's fast timers would flatter nothing measured here, but a benchmark
# should run what an operator runs).
WHM_CONFIG = {
    "agent-timeout-ms": 2000,
    "health-interval-ms": 2000,
    "retry-min-ms": 100,
    "retry-max-ms": 30000,
    "reconcile-interval": 300,
    "log-level": "info",
}

Pdns = pdns_plain.Pdns


class KeepAlive:
    """A lean HTTP/1.1 keep-alive client on one socket, so that the load
    generator (Python, 2 cores shared with everything measured) costs as
    little as possible per request. request() returns (status, body bytes)."""

    class Closed(Exception):
        pass

    def __init__(self, port, headers=None, host="127.0.0.1", timeout=30.0):
        self.addr = (host, port)
        self.timeout = timeout
        self.fixed = "Host: %s:%d\r\n" % (host, port) + "".join(
            "%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.sock = None
        self.buf = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.create_connection(self.addr, timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise KeepAlive.Closed()
        self.buf += chunk

    def _read(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdr = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdr[k.strip().lower()] = v.strip()
        if hdr.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._fill()
                size_line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    self._fill()
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0:
                    break
        elif "content-length" in hdr:
            n = int(hdr["content-length"])
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:                                   # until the server closes
            try:
                while True:
                    self._fill()
            except KeepAlive.Closed:
                pass
            body, self.buf = self.buf, b""
            hdr["connection"] = "close"
        if hdr.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def request(self, method, path, body=None):
        data = b"" if body is None else (body if isinstance(body, bytes)
                                         else json.dumps(body).encode())
        req = ("%s %s HTTP/1.1\r\n%s%sContent-Length: %d\r\n\r\n" % (
            method, path, self.fixed,
            "Content-Type: application/json\r\n" if data else "", len(data))).encode() + data
        for attempt in (0, 1):
            fresh = self.sock is None
            if fresh:
                self._connect()
            try:
                self.sock.sendall(req)
                return self._read()
            except (KeepAlive.Closed, ConnectionError):
                # A kept-alive connection the server had closed: once more
                # on a new one. A fresh connection that fails is an error.
                self.close()
                if fresh or attempt:
                    raise


class ExternalAgent(harness.Node):
    """An agent in external mode on a shared pdns_server: no PowerDNS of its
    own, its data-dir only for its spool."""

    def __init__(self, directory, name, pdns):
        self.pdns = pdns
        super().__init__(directory, name=name, config={})

    def config(self):
        c = super().config()
        for k in ("dns-address", "dns-port", "pdns-api-port"):
            c.pop(k, None)
        c.update({"mode": "external", "pdns-api-url": self.pdns.url,
                  "pdns-api-key": self.pdns.key, "gsqlite3-database": self.pdns.db,
                  "log-level": "notice"})
        return c

    def wait_up(self, attempts=3):
        """wait_healthy(); the port was free when chosen, but an outgoing
        connection may have taken it since: then another one."""
        for attempt in range(attempts):
            try:
                return self.wait_healthy(timeout=60)
            except harness.HarnessError:
                with open(self.log_path, "rb") as f:
                    said = f.read().decode("utf-8", "replace")
                if self.agent_running() or "Address already in use" not in said \
                        or attempt == attempts - 1:
                    raise
                self.api_port = harness.free_port()
                self.write_config()
                self.start(wait=False)

    def stop(self):
        self.stop_agent()
        self.session.close()


def new_whm(directory, config=None):
    conf = dict(WHM_CONFIG)
    conf.update(config or {})
    return clusterlib.Whm(directory, config=conf)


def whm_client(whm):
    return KeepAlive(whm.port, {"Authorization": "Bearer " + whm.admin_token})


def call(client, method, path, body=None, expect=(200, 201)):
    status, data = client.request(method, path, body)
    if status not in expect:
        raise RuntimeError("%s %s: %d %s" % (method, path, status, data[:300]))
    return json.loads(data) if data else None


def rss_mb(pid, field="VmRSS"):
    return rss_kb(pid, field) / 1024.0


def ms(v):
    return "%.0f ms" % v if v >= 100 else "%.1f ms" % v


class Controller:
    """The three-node cluster of the latency and throughput figures, started
    once for both."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.cluster = None

    def get(self):
        if self.cluster is None:
            self.cluster = clusterlib.Cluster(os.path.join(self.tmp, "cluster"), n=3,
                                              whm_config=WHM_CONFIG)
        return self.cluster

    def stop(self):
        if self.cluster is not None:
            self.cluster.stop()


def poll_all(socks, ports, name, rtype, want, limit=60.0):
    """Query every port in a tight loop until each answers 'want' (a sorted
    list); return when the last one did, with the set of indices of the
    ports that, after 1 s, still answered otherwise to the plain query but
    'want' to the same query with the DO bit (another packet-cache key):
    the node had the change, PowerDNS's packet cache held the old answer."""
    pending = list(range(len(ports)))
    q = dns.message.make_query(name, rtype, use_edns=0, payload=4096)
    q.flags &= ~dns.flags.RD
    t0 = time.monotonic()
    deadline = t0 + limit
    stale = set()
    checked = False
    while pending:
        still = []
        for i in pending:
            q.id = (q.id + 1) & 0xffff
            try:
                m = dns.query.udp(q, "127.0.0.1", port=ports[i], timeout=1.0, sock=socks[i])
                ok = harness.answer_texts(m, name, rtype) == want
            except dns.exception.DNSException:
                ok = False
            if not ok:
                still.append(i)
        pending = still
        now = time.monotonic()
        if pending and not checked and now - t0 > 1.0:
            checked = True
            for i in pending:
                try:
                    m = harness.dns_query("127.0.0.1", ports[i], name, rtype, dnssec=True,
                                          timeout=1.0)
                    if harness.answer_texts(m, name, rtype) == want:
                        stale.add(i)
                except dns.exception.DNSException:
                    pass
        if pending and now > deadline:
            raise RuntimeError("%s %s: not %s on every node after %.0f s" % (
                name, rtype, want, limit))
    return stale


def controller_latency(c, n):
    """Change one record through the controller (alternately POST a new
    record and PUT the www record, no ?wait); time from just before the
    request until all three nodes answer the new value."""
    whm = c.whm
    client = whm_client(whm)
    zone = "latency.whm.bench."
    zid = call(client, "POST", "/api/dns?wait=all", {"domain": zone})["zoneId"]
    www = call(client, "POST", "/api/dns/%d/records?wait=all" % zid,
               {"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300})["id"]
    ports = [node.dns_port for node in c.nodes]
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in ports]
    poll_all(socks, ports, "www." + zone, "A", ["192.0.2.1"])
    times = []
    stale = 0
    try:
        for i in range(n):
            value = ip_for(i + 1)
            if i % 2 == 0:
                name = "r%d" % i
                path, method, expect = "/api/dns/%d/records" % zid, "POST", (201,)
                body = {"type": "A", "name": name, "content": value, "ttl": 300}
            else:
                name = "www"
                path, method, expect = "/api/dns/records/%d" % www, "PUT", (200,)
                body = {"type": "A", "name": "www", "content": value, "ttl": 300}
            t0 = time.perf_counter()
            call(client, method, path, body, expect=expect)
            # 60 s: past PowerDNS's packet cache (cache-ttl 20 s), so that
            # an answer held there stale is measured, not an error.
            stale += bool(poll_all(socks, ports, "%s.%s" % (name, zone), "A", [value]))
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        for s in socks:
            s.close()
        client.close()
    return times, stale


def anchor_replication(tmp, notify_samples, plain_samples, plain_budget):
    """PowerDNS's own primary -> secondary replication: a primary (also-notify
    to the secondary) and a secondary with the zone as Slave; PATCH one rrset
    on the primary (SOA-EDIT-API bumps the serial) and time until the
    secondary answers the new value. Measured with the explicit NOTIFY a
    client can ask for (PATCH, then PUT .../notify), and with PATCH alone
    (the primary notices the new serial on its own)."""
    sec = Pdns(os.path.join(tmp, "secondary"), {
        "secondary": "yes", "allow-notify-from": "127.0.0.1"})
    pri = None
    zone = "replication.bench."
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out = {"notify": [], "plain": [], "plain_timeouts": 0}
    try:
        sec.start()
        pri = Pdns(os.path.join(tmp, "primary"), {
            "primary": "yes", "also-notify": "127.0.0.1:%d" % sec.dns_port,
            "allow-axfr-ips": "127.0.0.1",
            # Notify only the also-notify target: no lookups of the NS names.
            "only-notify": ""})
        pri.start()
        pri.api("POST", "/zones", {"name": zone, "kind": "Master",
                                   "rrsets": api_rrsets(zone, 0)})
        sec.api("POST", "/zones", {"name": zone, "kind": "Slave",
                                   "masters": ["127.0.0.1:%d" % pri.dns_port]})
        # The first transfer by request, not at the secondary's next check.
        sec.api("PUT", "/zones/%s/axfr-retrieve" % zone)
        deadline = time.monotonic() + 90
        while sec.answers("www." + zone, "A", sock) != ["192.0.2.1"]:
            if time.monotonic() > deadline:
                raise RuntimeError("the secondary never loaded %s" % zone)
            time.sleep(0.01)

        def change(v, notify, limit):
            value = ip_for(v)
            t0 = time.perf_counter()
            pri.api("PATCH", "/zones/" + zone, {"rrsets": [
                {"name": "www." + zone, "type": "A", "ttl": 300, "changetype": "REPLACE",
                 "records": [{"content": value, "disabled": False}]}]})
            if notify:
                pri.api("PUT", "/zones/%s/notify" % zone)
            while sec.answers("www." + zone, "A", sock) != [value]:
                if time.perf_counter() - t0 > limit:
                    return None
            return (time.perf_counter() - t0) * 1000

        v = 0
        for _ in range(notify_samples):
            v += 1
            t = change(v, True, 120)
            if t is None:
                raise RuntimeError("the secondary did not follow a notified change in 120 s")
            out["notify"].append(t)
        end = time.monotonic() + plain_budget
        for _ in range(plain_samples):
            if time.monotonic() > end:
                break
            v += 1
            t = change(v, False, 90)     # xfr-cycle-interval is 60 s
            if t is None:
                out["plain_timeouts"] += 1
                break
            out["plain"].append(t)
    finally:
        sock.close()
        if pri is not None:
            pri.stop()
        sec.stop()
    return out


def controller_latency_figures(args, ctl, tmp, rows):
    c = ctl.get()
    lat, stale = controller_latency(c, args.changes)
    rep = anchor_replication(os.path.join(tmp, "replication"), args.repl_samples,
                             args.repl_plain_samples, args.repl_plain_budget)
    nt = rep["notify"]
    anchor = ("PowerDNS primary → secondary, PATCH + NOTIFY (PUT …/notify): p50 %s, max %s "
              "(%d changes)" % (ms(pct(nt, 50)), ms(max(nt)), len(nt)))
    pl = rep["plain"]
    if pl or rep["plain_timeouts"]:
        anchor += "; PATCH alone (the primary notifies when it notices the serial): "
        if pl:
            anchor += "p50 %s, max %s (%d changes)" % (ms(pct(pl, 50)), ms(max(pl)), len(pl))
        if rep["plain_timeouts"]:
            anchor += ", %d not answered within 90 s" % rep["plain_timeouts"]
    what = "%d record changes, POST/PUT without ?wait" % len(lat)
    slow = sum(1 for t in lat if t > 1000)
    if slow:
        what += ("; %d took over 1 s, %d of them because a node that had the change kept "
                 "serving the old answer from PowerDNS's packet cache (a query with the DO "
                 "bit saw the new one)" % (slow, stale))
    rows.append(("change acknowledged by the controller → answered by all 3 nodes, p50 (%s)"
                 % what, ms(pct(lat, 50)), "≤ 10 ms", anchor))
    rows.append(("… p99 (max %s)" % ms(max(lat)), ms(pct(lat, 99)), "≤ 50 ms", anchor))


def setup_zones(client, count, prefix):
    """'count' zones of ten records (zone_records()) through the controller;
    returns [(zone name, zone id, id of the www record)]."""
    out = []
    for i in range(count):
        zone = "%s%d.bench." % (prefix, i)
        zid = call(client, "POST", "/api/dns", {"domain": zone})["zoneId"]
        call(client, "PUT", "/api/dns/%d/records" % zid, {"records": zone_records(i)})
        recs = call(client, "GET", "/api/dns/%d/records" % zid)
        www = [r["id"] for r in recs if r["type"] == "A" and r["name"] in ("www", "www." + zone)]
        if len(www) != 1:
            raise RuntimeError("%s: www record not found in %s" % (zone, recs))
        out.append((zone, zid, www[0]))
    return out


def run_load(make_client, items, threads, seconds, one):
    """'threads' threads, each with its own keep-alive client and its own
    share of 'items', calling one(client, item, seq) round-robin for
    'seconds'. Returns (acks, errors, elapsed from start to the last ack,
    time.monotonic() of the last ack, ack latencies in ms, {item: last acked
    value})."""
    results = [None] * threads
    start_evt = threading.Event()
    stop_at = [0.0]

    def work(t):
        client = make_client()
        mine = items[t::threads]
        acks = errors = 0
        last = 0.0
        lats = []
        final = {}
        seq = t
        start_evt.wait()
        try:
            i = 0
            while True:
                now = time.monotonic()
                if now >= stop_at[0]:
                    break
                item = mine[i % len(mine)]
                i += 1
                seq += threads
                t0 = time.perf_counter()
                try:
                    ok, value = one(client, item, seq)
                except (OSError, KeepAlive.Closed):
                    ok, value = False, None
                    client.close()
                if ok:
                    acks += 1
                    last = time.monotonic()
                    lats.append((time.perf_counter() - t0) * 1000)
                    final[item] = value
                else:
                    errors += 1
        finally:
            client.close()
        results[t] = (acks, errors, last, lats, final)

    ts = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(threads)]
    for t in ts:
        t.start()
    time.sleep(0.2)
    t_start = time.monotonic()
    stop_at[0] = t_start + seconds
    start_evt.set()
    for t in ts:
        t.join()
    acks = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    last = max(r[2] for r in results)
    lats = [x for r in results for x in r[3]]
    final = {}
    for r in results:
        final.update(r[4])
    return acks, errors, last - t_start, last, lats, final


def ip_for(seq):
    """A distinct address for each 'seq' below 131072, in 198.18.0.0/15 (the
    benchmarking range: record data only, never contacted)."""
    return "198.%d.%d.%d" % (18 + ((seq >> 16) & 1), (seq >> 8) & 255, seq & 255)


def dig_mismatches(ports, expected):
    """How many (node, name) pairs do not answer the expected A value;
    'expected' is {name: value}."""
    bad = 0
    for port in ports:
        answers = query_window(port, list(expected), "A")
        bad += sum(1 for name, value in expected.items()
                   if name not in answers
                   or harness.answer_texts(answers[name], name, "A") != [value])
    return bad

def converged_after(c, expected, last_ack, limit):
    """Poll until every node serves the controller's zones at the
    controller's versions (GET /api/dns against each agent's GET
    /api/dns/zones) and every www record answers its last acknowledged
    value by query on every node; seconds from 'last_ack' (monotonic)
    until then, or None after 'limit' seconds."""
    ports = [n.dns_port for n in c.nodes]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not c.divergence() and dig_mismatches(ports, expected) == 0:
            return time.monotonic() - last_ack
        time.sleep(0.005)
    return None


def anchor_patch_throughput(tmp, zones, threads, seconds):
    """PowerDNS's API on one pdns_server: PATCH (REPLACE) one rrset per
    request over 'zones' zones, for 'seconds', with 'threads' threads and
    with one. Returns {threads: (acknowledged/s, failed requests, ack
    latencies, {status: count})}."""
    p = Pdns(tempfile.mkdtemp(prefix="patch-anchor-", dir=tmp))  # two sections run it
    out = {}
    try:
        p.start()
        names = []
        for i in range(zones):
            zone = "patch%d.bench." % i
            p.api("POST", "/zones?rrsets=false", {"name": zone, "kind": "Native",
                                                  "rrsets": api_rrsets(zone, i)})
            names.append(zone)
        statuses = {}
        lock = threading.Lock()

        def one(client, zone, seq):
            status, _ = client.request("PATCH", "/api/v1/servers/localhost/zones/" + zone, {
                "rrsets": [{"name": "www." + zone, "type": "A", "ttl": 300,
                            "changetype": "REPLACE",
                            "records": [{"content": ip_for(seq), "disabled": False}]}]})
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
            return status == 204, ip_for(seq)

        for n, secs in ((threads, seconds), (1, seconds / 2)):
            statuses.clear()
            acks, errors, elapsed, _, lats, _ = run_load(
                lambda: KeepAlive(p.api_port, {"X-API-Key": p.key}), names, n, secs, one)
            out[n] = (acks / elapsed, errors, lats, dict(statuses))
    finally:
        p.stop()
    return out


def proc_cpu_s(pid):
    """CPU seconds (user + system) 'pid' used so far; 0 if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            x = f.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0
    return (int(x[11]) + int(x[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy():
    """(total jiffies, idle + iowait jiffies) from /proc/stat."""
    with open("/proc/stat") as f:
        x = [int(v) for v in f.readline().split()[1:]]
    return sum(x), x[3] + x[4]


class CpuUse:
    """CPU seconds of the cluster's processes, by group, and the share of
    the machine that was busy, between start() and stop()."""

    def __init__(self, c):
        self.groups = {"yumna-whm": [c.whm.proc.pid], "3 agents": [n.agent_pid for n in c.nodes],
                       "3 pdns_server": [n.pdns_pid() for n in c.nodes],
                       "load generator": [os.getpid()]}

    def snapshot(self):
        return {k: sum(proc_cpu_s(p) for p in v) for k, v in self.groups.items()}, machine_busy()

    def start(self):
        self.before = self.snapshot()

    def stop(self):
        (cpu0, busy0), (cpu1, busy1) = self.before, self.snapshot()
        self.used = {k: cpu1[k] - cpu0[k] for k in self.groups}
        total, idle = busy1[0] - busy0[0], busy1[1] - busy0[1]
        self.busy = 100.0 * (total - idle) / total if total else 0.0

    def shares(self, seconds):
        """'yumna-whm 95%, ...': of one core, over 'seconds'."""
        return ", ".join("%s %.0f%%" % (k, 100 * v / seconds) for k, v in self.used.items())

    def per_change(self, changes):
        """'yumna-whm 0.55 ms, ...': CPU per change."""
        return ", ".join("%s %.2f ms" % (k, 1000 * v / changes) for k, v in self.used.items())


def agent_pushes(node):
    """Zones the agent applied so far (pushes and batch members)."""
    r = node.get("/metrics")
    for line in r.text.splitlines():
        if line.startswith('yumna_agent_pushes_total{result="applied"}'):
            return int(line.split()[-1])
    return 0


def record_load(whm, zones, threads, seconds):
    """PUT /api/dns/records/:id on the www record of 'zones', round-robin,
    from 'threads' threads for 'seconds'; see run_load()."""
    def one(cl, item, seq):
        value = ip_for(seq)
        status, _ = cl.request("PUT", "/api/dns/records/%d" % item[2],
                               {"type": "A", "name": "www", "content": value, "ttl": 300})
        return 200 <= status < 300, value
    return run_load(lambda: whm_client(whm), zones, threads, seconds, one)


def latency_under_load(c, zones, threads, seconds, every=0.05):
    """Change → answered by all nodes while 'threads' threads keep changing
    'zones' (record_load): a probe thread PUTs the www record of a zone of
    its own every 'every' s and polls every node (UDP, 1 ms apart) until all
    answer the new value. Returns (latencies in ms, changes/s of the load)."""
    client = whm_client(c.whm)
    zone = "probe.whm.bench."
    zid = call(client, "POST", "/api/dns?wait=all", {"domain": zone})["zoneId"]
    www = call(client, "POST", "/api/dns/%d/records?wait=all" % zid,
               {"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300})["id"]
    client.close()
    ports = [n.dns_port for n in c.nodes]
    lats = []
    stop = threading.Event()

    def probe():
        pc = whm_client(c.whm)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        i = 0
        try:
            while not stop.is_set():
                i += 1
                value = ip_for(120000 + i % 10000)
                t0 = time.monotonic()
                status, _ = pc.request("PUT", "/api/dns/records/%d" % www,
                                       {"type": "A", "name": "www", "content": value,
                                        "ttl": 300})
                pending = set(range(len(ports))) if 200 <= status < 300 else set()
                while pending and time.monotonic() - t0 < 5.0:
                    for j in list(pending):
                        try:
                            m = harness.dns_query("127.0.0.1", ports[j], "www." + zone, "A",
                                                  timeout=0.5, sock=sock)
                            if harness.answer_texts(m, "www." + zone, "A") == [value]:
                                pending.discard(j)
                        except dns.exception.DNSException:
                            pass
                    if pending:
                        time.sleep(0.001)
                if 200 <= status < 300 and not pending:
                    lats.append((time.monotonic() - t0) * 1000)
                stop.wait(every)
        finally:
            sock.close()
            pc.close()

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    try:
        acks, _, elapsed, _, _, _ = record_load(c.whm, zones, threads, seconds)
    finally:
        stop.set()
        t.join()
    return lats, acks / elapsed


def controller_throughput_figures(args, ctl, tmp, rows):
    c = ctl.get()
    client = whm_client(c.whm)
    zones = setup_zones(client, args.load_zones, "load")
    client.close()
    c.wait_converged(timeout=120)

    use = CpuUse(c)
    pushes0 = [agent_pushes(n) for n in c.nodes]
    use.start()
    acks, errors, elapsed, last_ack, lats, final = record_load(
        c.whm, zones, args.threads, args.load_seconds)
    use.stop()
    expected = {"www." + item[0]: v for item, v in final.items()}
    conv = converged_after(c, expected, last_ack, 60)
    pushes = [agent_pushes(n) - p0 for n, p0 in zip(c.nodes, pushes0)]
    rate = acks / elapsed
    probe_lats, probe_rate = latency_under_load(c, zones, args.threads,
                                                min(5.0, args.load_seconds))

    # The same load on a controller with no nodes: what the controller and
    # its store take alone, without three nodes on the same two cores.
    alone = new_whm(os.path.join(tmp, "alone"))
    try:
        alone.start()
        client = whm_client(alone)
        azones = setup_zones(client, args.load_zones, "load")
        client.close()
        a_cpu0 = proc_cpu_s(alone.proc.pid)
        a_acks, a_errors, a_elapsed, _, a_lats, _ = record_load(
            alone, azones, args.threads, args.load_seconds)
        a_cpu = (proc_cpu_s(alone.proc.pid) - a_cpu0) / a_elapsed
    finally:
        alone.stop()

    a = anchor_patch_throughput(tmp, args.load_zones, args.threads, args.load_seconds)
    parts = []
    for n in sorted(a, reverse=True):
        a_rate, a_err, a_lat, a_status = a[n]
        txt = "%d thread%s: %.0f acknowledged changes/s (p50 %s)" % (
            n, "s" if n > 1 else "", a_rate, ms(pct(a_lat, 50)) if a_lat else "-")
        if a_err:
            txt += ", and %d requests failed (%s; gsqlite3 answers 500 'database is locked' "\
                   "to concurrent writers)" % (
                       a_err, ", ".join("%d× %s" % (v, k) for k, v in sorted(a_status.items())
                                        if k != 204))
        parts.append(txt)
    anchor = "PowerDNS API PATCH of one rrset, one pdns_server (gsqlite3), %s" % "; ".join(parts)
    detail = ("%d threads, keep-alive, PUT /api/dns/records/:id over %d zones for %.0f s, "
              "3 nodes joined; ack p50 %s, p99 %s; the 2 cores were %.0f%% busy (of one "
              "core: %s); each node applied %s zone pushes for them"
              % (args.threads, len(zones), elapsed, ms(pct(lats, 50)), ms(pct(lats, 99)),
                 use.busy, use.shares(elapsed), "/".join(str(p) for p in pushes)))
    if errors:
        detail += "; %d non-2xx or failed requests" % errors
    rows.append(("acknowledged record changes through the API, SQLite store (%s)" % detail,
                 "%.0f changes/s" % rate, "≥ 2,000/s", anchor))
    alone_txt = ("… the same load on a controller with no nodes joined (its API and store "
                 "alone; ack p50 %s, p99 %s; yumna-whm used %.0f%% of a core)"
                 % (ms(pct(a_lats, 50)), ms(pct(a_lats, 99)), 100 * a_cpu))
    if a_errors:
        alone_txt += "; %d non-2xx or failed requests" % a_errors
    rows.append((alone_txt, "%.0f changes/s" % (a_acks / a_elapsed), "", ""))
    rows.append(("… all 3 nodes converged after the load stops (every zone's version on every "
                 "node, and %d×3 www records answered by query)" % len(zones),
                 "%.2f s" % conv if conv is not None else "not within 60 s", "≤ 1 s", ""))
    if probe_lats:
        rows.append(("… change → answered by all 3 nodes while the load runs, p50 (a second "
                     "load of %.0f s at %.0f changes/s; a probe changed a zone of its own every "
                     "50 ms, %d changes; p99 %s, max %s)"
                     % (min(5.0, args.load_seconds), probe_rate, len(probe_lats),
                        ms(pct(probe_lats, 99)), ms(max(probe_lats))),
                     ms(pct(probe_lats, 50)), "", ""))
    else:
        rows.append(("… change → answered by all 3 nodes while the load runs",
                     "no probe change was answered by every node", "", ""))


def controller_health_figures(args, tmp, rows):
    """100 registered nodes, 10 of which do not answer (half refuse, half
    accept nothing and never answer), all in the cluster; time GET
    /api/dns/cluster/health."""
    n_agents = args.health_nodes - args.health_dead
    n_refused = args.health_dead // 2
    n_hanging = args.health_dead - n_refused
    base = os.path.join(tmp, "health")
    shared = Pdns(os.path.join(base, "pdns"))
    agents = []
    hanging = []
    whm = None
    try:
        shared.start()
        for i in range(n_agents):
            agents.append(ExternalAgent(os.path.join(base, "agent%d" % i), "agent%d" % i, shared))
        for a in agents:
            a.start(wait=False)
        for a in agents:
            a.wait_up()
        targets = [(a.name, a.api_port, a.secret) for a in agents]
        for i, port in enumerate(harness.free_ports(n_refused)):
            targets.append(("refused%d" % i, port, secrets.token_urlsafe(36)))
        for i in range(n_hanging):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            s.listen(128)
            hanging.append(s)
            targets.append(("hanging%d" % i, s.getsockname()[1], secrets.token_urlsafe(36)))

        whm = new_whm(os.path.join(base, "whm"))
        whm.start()
        client = whm_client(whm)
        for name, port, secret in targets:
            # The dead ones could not pass the agent check at registration.
            sid = call(client, "POST", "/api/dns/servers?check=false",
                       {"name": name, "ip": "127.0.0.1", "agent_port": port,
                        "agent_secret": secret}, expect=(201,))["id"]
            call(client, "POST", "/api/dns/cluster/nodes/%d" % sid, expect=(200,))
        time.sleep(3)   # every worker started and past its first check
        sweeps = []
        healthy = []
        for _ in range(args.sweeps):
            t0 = time.perf_counter()
            j = call(client, "GET", "/api/dns/cluster/health", expect=(200,))
            sweeps.append(time.perf_counter() - t0)
            healthy.append(j["healthyNodes"])
            total = j["totalNodes"]
            time.sleep(0.3)
        client.close()

        # The original: one node after the other, 5 s timeout each.
        sess = requests.Session()
        t0 = time.perf_counter()
        seq_ok = 0
        for name, port, secret in targets:
            try:
                r = sess.get("http://127.0.0.1:%d/health" % port,
                             headers={"X-Agent-Secret": secret}, timeout=5)
                seq_ok += r.status_code == 200
            except requests.RequestException:
                pass
        seq = time.perf_counter() - t0
        sess.close()
    finally:
        if whm is not None:
            whm.stop()
        for s in hanging:
            s.close()
        for a in agents:
            a.stop()
        shared.stop()
    rows.append(("health sweep (GET /api/dns/cluster/health) of %d registered nodes in the "
                 "cluster: %d agents, %d refusing, %d never answering; median of %d sweeps "
                 "(max %.2f s), %s of %d reported healthy"
                 % (total, n_agents, n_refused, n_hanging, len(sweeps), max(sweeps),
                    "/".join(str(h) for h in sorted(set(healthy))), n_agents),
                 "%.2f s" % statistics.median(sweeps), "≤ 1.5 s",
                 "sequential loop, 5 s timeout each (the original): %.1f s (%d healthy)"
                 % (seq, seq_ok)))


def in_threads(make_client, names, threads, one):
    """one(client, index, name) for each of 'names' (each once: every
    thread goes through its share with a keep-alive client of
    make_client()); one() returns None or what went wrong. The seconds it
    took; the first thing that went wrong is raised."""
    per = (len(names) + threads - 1) // threads
    errors = []

    def work(t):
        client = make_client()
        try:
            for i in range(t * per, min((t + 1) * per, len(names))):
                wrong = one(client, i, names[i])
                if wrong:
                    errors.append(wrong)
                    return
        finally:
            client.close()

    t0 = time.perf_counter()
    ts = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return time.perf_counter() - t0


def create_zones(whm, names, threads):
    """POST /api/dns for each of 'names' with 'threads' threads; the
    seconds it took."""
    def one(client, i, name):
        status, body = client.request("POST", "/api/dns", {"domain": name})
        return None if status == 201 else "POST /api/dns %s: %d %s" % (name, status, body[:200])

    return in_threads(lambda: whm_client(whm), names, threads, one)


def controller_memory_figures(args, tmp, rows):
    """The controller's RSS idle and with 'args.mem_zones' zones created
    through the API (no nodes joined)."""
    whm = new_whm(os.path.join(tmp, "memory"))
    try:
        whm.start()
        time.sleep(1.0)
        idle = rss_mb(whm.proc.pid)
        count = args.mem_zones
        names = ["m%d.mem.bench." % i for i in range(count)]
        sampler = RssSampler(whm.proc.pid)
        sampler.start()
        create_s = create_zones(whm, names, args.threads)
        time.sleep(1.0)
        rss = rss_mb(whm.proc.pid)
        hwm = rss_mb(whm.proc.pid, "VmHWM")
        store_mb = sum(os.path.getsize(p) for p in (whm.store_path, whm.store_path + "-wal")
                       if os.path.exists(p)) / 1048576
        # What the panel's zone list costs on top (not part of the goal).
        t1 = time.perf_counter()
        r = whm.get("/api/dns", timeout=300)
        list_s = time.perf_counter() - t1
        listed = len(r.json()) if r.status_code == 200 else -1
        list_bytes = len(r.content)
        del r
        time.sleep(0.5)
        sampler.stop.set()
        sampler.join()
        after_list = rss_mb(whm.proc.pid)
        list_hwm = rss_mb(whm.proc.pid, "VmHWM")
    finally:
        whm.stop()
    rows.append(("controller resident memory, idle (empty store)", "%.1f MB" % idle, "", ""))
    rows.append(("controller resident memory with %d zones in the store (VmRSS; peak VmHWM "
                 "during creation %.1f MB); zones created through POST /api/dns by %d threads "
                 "in %.0f s (%.0f zones/s), no nodes joined"
                 % (count, hwm, args.threads, create_s, count / create_s),
                 "%.1f MB" % rss, "≤ 64 MB", "store on disk: %.0f MB" % store_mb))
    rows.append(("… after one GET /api/dns listing all %d zones (%.1f MB of JSON in %.1f s): "
                 "VmRSS (VmHWM)" % (listed, list_bytes / 1048576, list_s),
                 "%.1f MB (%.1f MB)" % (after_list, list_hwm), "", ""))



# --- PowerDNS's API on the controller -----------------------------------------

V1 = "/api/v1/servers/localhost"


def v1_client(whm):
    return KeepAlive(whm.port, {"X-API-Key": whm.admin_token})


def v1_patch(client, zone, value):
    status, body = client.request("PATCH", V1 + "/zones/" + zone, {"rrsets": [
        {"name": "www." + zone, "type": "A", "ttl": 300, "changetype": "REPLACE",
         "records": [{"content": value, "disabled": False}]}]})
    return status == 204, body


def v1_create(make_client, names, threads):
    """POST .../zones of ten records (api_rrsets) for each of 'names' with
    'threads' keep-alive clients of make_client(); the seconds it took."""
    def one(client, i, name):
        status, body = client.request("POST", V1 + "/zones?rrsets=false", {
            "name": name, "kind": "Native", "rrsets": api_rrsets(name, i)})
        return None if status == 201 else "POST zones %s: %d %s" % (name, status, body[:200])

    return in_threads(make_client, names, threads, one)


def v1_patch_latency(c, n):
    """PATCH one rrset through the controller's /api/v1 (no wait); time
    until all three nodes answer the new value."""
    client = v1_client(c.whm)
    zone = "latency.v1.bench."
    status, body = client.request("POST", V1 + "/zones", {
        "name": zone, "kind": "Native", "rrsets": api_rrsets(zone, 0)})
    if status != 201:
        raise RuntimeError("POST zone: %d %s" % (status, body[:300]))
    ports = [node.dns_port for node in c.nodes]
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in ports]
    times = []
    try:
        poll_all(socks, ports, "www." + zone, "A", ["192.0.2.1"])
        for i in range(n):
            value = ip_for(i + 1)
            t0 = time.perf_counter()
            ok, body = v1_patch(client, zone, value)
            if not ok:
                raise RuntimeError("PATCH: %s" % body[:300])
            poll_all(socks, ports, "www." + zone, "A", [value])
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        for s in socks:
            s.close()
        client.close()
    return times


def v1_list(url, headers, pid=None):
    """GET the zone list; (seconds, zones listed, the peak VmRSS growth in
    MB of 'pid' while it was sent)."""
    sampler = RssSampler(pid) if pid else None
    base = rss_mb(pid) if pid else 0.0
    if sampler:
        sampler.start()
    t0 = time.perf_counter()
    r = requests.get(url + V1 + "/zones", headers=headers, timeout=600)
    secs = time.perf_counter() - t0
    if sampler:
        sampler.stop.set()
        sampler.join()
    if r.status_code != 200:
        raise RuntimeError("GET zones: %d %s" % (r.status_code, r.text[:300]))
    return secs, len(r.json()), (sampler.peak / 1024.0 - base) if sampler else 0.0


def pdns_fill_zones(p, names):
    """The same zones straight into a stopped pdns_server's gsqlite3
    database (the API would take minutes for 100,000): a domain row and an
    SOA record each, which is what PowerDNS's zone list reads."""
    con = sqlite3.connect(p.db)
    with con:
        for i, name in enumerate(names):
            cur = con.execute("INSERT INTO domains (name, type) VALUES (?, 'NATIVE')",
                              (name.rstrip("."),))
            con.execute("INSERT INTO records (domain_id, name, type, content, ttl, prio,"
                        " disabled, auth) VALUES (?, ?, 'SOA', ?, 3600, 0, 0, 1)",
                        (cur.lastrowid, name.rstrip("."),
                         "ns1.bench. hostmaster.bench. %d 10800 3600 604800 3600"
                         % (2024010100 + i % 99)))
    con.close()


def mass_delete_figures(c, count, threads, rows):
    """'count' zones created through /api/v1 on cluster 'c', then deleted:
    how long after the last answer every node holds exactly the
    controller's zones, each way."""
    names = ["v1mass%d.bench." % i for i in range(count)]

    def gone(client, i, name):
        status, body = client.request("DELETE", V1 + "/zones/" + name, None)
        return None if status == 204 else "DELETE %s: %d %s" % (name, status, body[:200])

    took = {}
    for what, work in (("created", lambda: v1_create(lambda: v1_client(c.whm), names, threads)),
                       ("deleted", lambda: in_threads(lambda: v1_client(c.whm), names, threads,
                                                      gone))):
        work()
        t0 = time.monotonic()
        c.wait_converged(timeout=600)
        took[what] = time.monotonic() - t0
    rows.append(("%d zones deleted through /api/v1 (%d threads), 3 nodes joined: every node "
                 "holds exactly the controller's zones, after the last delete answered"
                 % (count, threads), "%.1f s" % took["deleted"], "",
                 "the same zones created: %.1f s after the last create answered"
                 % took["created"]))


def pdnsapi_figures(args, ctl, tmp, rows):
    """The controller's PowerDNS API against PowerDNS itself, in the same
    run: PATCH → every node answers, PATCH throughput, many zones created
    and deleted on the cluster, zone creation, and the zone list of
    'args.mem_zones' zones."""
    c = ctl.get()
    lat = v1_patch_latency(c, args.changes)
    rep = anchor_replication(os.path.join(tmp, "v1-replication"), args.repl_samples, 0, 0)
    nt = rep["notify"]
    anchor = ("PowerDNS primary → secondary, PATCH + NOTIFY (PUT …/notify): p50 %s, max %s "
              "(%d changes)" % (ms(pct(nt, 50)), ms(max(nt)), len(nt)))
    rows.append(("PATCH /api/v1/…/zones/:zone of one rrset → answered by all 3 nodes, p50 "
                 "(%d changes, no wait)" % len(lat), ms(pct(lat, 50)), "≤ 10 ms", anchor))
    rows.append(("… p99 (max %s)" % ms(max(lat)), ms(pct(lat, 99)), "≤ 50 ms", anchor))

    # Throughput: 8 keep-alive clients PATCH their share of the zones.
    names = ["v1load%d.bench." % i for i in range(args.load_zones)]
    v1_create(lambda: v1_client(c.whm), names, args.threads)
    c.wait_converged(timeout=120)

    def one(client, zone, seq):
        ok, _ = v1_patch(client, zone, ip_for(seq))
        return ok, ip_for(seq)

    use = CpuUse(c)
    use.start()
    acks, errors, elapsed, _, lats, _ = run_load(lambda: v1_client(c.whm), names,
                                                 args.threads, args.load_seconds, one)
    use.stop()
    a = anchor_patch_throughput(tmp, args.load_zones, args.threads, args.load_seconds)
    parts = []
    for n in sorted(a, reverse=True):
        a_rate, a_err, a_lat, a_status = a[n]
        txt = "%d thread%s: %.0f/s" % (n, "s" if n > 1 else "", a_rate)
        if a_err:
            txt += " and %d failed (%s)" % (a_err, ", ".join(
                "%d× %s" % (v, k) for k, v in sorted(a_status.items()) if k != 204))
        parts.append(txt)
    detail = ("%d threads, keep-alive, over %d zones for %.0f s, 3 nodes joined; ack p50 %s, "
              "p99 %s; the 2 cores were %.0f%% busy; CPU per change: %s" % (
                  args.threads, len(names), elapsed, ms(pct(lats, 50)), ms(pct(lats, 99)),
                  use.busy, use.per_change(acks)))
    if errors:
        detail += "; %d failed requests" % errors
    rows.append(("acknowledged PATCHes of one rrset through /api/v1 (%s)" % detail,
                 "%.0f changes/s" % (acks / elapsed), "≥ 2,000/s",
                 "PowerDNS API PATCH, one pdns_server (gsqlite3): " + "; ".join(parts)))
    after_patch = len(rows)
    mass_delete_figures(c, max(args.load_zones * 10, 1000), args.threads, rows)

    # Creation: the same zones of ten records, on a controller of its own
    # (no nodes: the figure is the API and the store) and on pdns_server.
    # A round takes about a second, short enough for a moment of the
    # machine's to decide it: three rounds, each on a fresh controller, and
    # their median.
    count = max(args.load_zones * 10, 1000)
    names = ["v1new%d.bench." % i for i in range(count)]
    rounds = []
    for i in range(2):
        fresh = new_whm(os.path.join(tmp, "v1-create-%d" % i))
        try:
            fresh.start()
            rounds.append(count / v1_create(lambda: v1_client(fresh), names, args.threads))
        finally:
            fresh.stop()
    alone = new_whm(os.path.join(tmp, "v1-create"))
    p = Pdns(os.path.join(tmp, "v1-create-anchor"))
    try:
        alone.start()
        rounds.append(count / v1_create(lambda: v1_client(alone), names, args.threads))
        # The PATCH load again on this controller: its API and store alone,
        # without three nodes on the same two cores.
        a_cpu0 = proc_cpu_s(alone.proc.pid)
        a_acks, a_errors, a_elapsed, _, a_lats, _ = run_load(
            lambda: v1_client(alone), names[:args.load_zones], args.threads,
            args.load_seconds, one)
        a_cpu = proc_cpu_s(alone.proc.pid) - a_cpu0
        p.start()
        a_names = names[:max(count // 5, 200)]
        a_secs = v1_create(lambda: KeepAlive(p.api_port, {"X-API-Key": p.key}), a_names, 1)
    finally:
        alone.stop()
        p.stop()
    alone_txt = ("… the same PATCH load on a controller with no nodes joined (its API and "
                 "store alone; ack p50 %s, p99 %s; yumna-whm %.2f ms of CPU per change)"
                 % (ms(pct(a_lats, 50)), ms(pct(a_lats, 99)), 1000 * a_cpu / max(a_acks, 1)))
    if a_errors:
        alone_txt += "; %d failed requests" % a_errors
    rows.insert(after_patch, (alone_txt, "%.0f changes/s" % (a_acks / a_elapsed), "", ""))
    rows.append(("POST /api/v1/…/zones: zones of ten records created (%d zones, %d threads, "
                 "no nodes joined), the median of %d rounds on fresh controllers (%s zones/s)"
                 % (count, args.threads, len(rounds),
                    ", ".join("%.0f" % r for r in rounds)),
                 "%.0f zones/s" % statistics.median(rounds),
                 "≥ 2,000/s", "PowerDNS API, one pdns_server (gsqlite3), one client: %.0f "
                 "zones/s (%d zones)" % (len(a_names) / a_secs, len(a_names))))

    # The zone list of many zones, and the controller's memory while it goes.
    many = args.mem_zones
    whm = new_whm(os.path.join(tmp, "v1-list"))
    p = Pdns(os.path.join(tmp, "v1-list-anchor"))
    try:
        whm.start()
        names = ["l%d.list.bench." % i for i in range(many)]
        create_zones(whm, names, args.threads)
        time.sleep(1.0)
        secs, listed, grew = v1_list(whm.url, {"X-API-Key": whm.admin_token}, whm.proc.pid)
        pdns_fill_zones(p, names)
        p.start()
        a_secs, a_listed, _ = v1_list(p.url, {"X-API-Key": p.key})
    finally:
        whm.stop()
        p.stop()
    if listed != many or a_listed != many:
        raise RuntimeError("listed %d and %d of %d zones" % (listed, a_listed, many))
    rows.append(("GET /api/v1/…/zones listing %d zones" % many, "%.2f s" % secs, "≤ 1 s",
                 "PowerDNS's own list of the same %d zones: %.2f s" % (many, a_secs)))
    rows.append(("… the controller's resident memory growth while it streams the list "
                 "(VmRSS sampled)", "%.1f MB" % grew, "≤ 20 MB", ""))


# --- DNSSEC -------------------------------------------------------------------


def dnskeys_served(ports, expected, limit=120.0):
    """Poll until every node answers every zone's DNSKEY query with exactly
    the expected set ({zone: sorted DNSKEY texts}); return the number of
    (node, zone) pairs still wrong when 'limit' ran out (0: all served)."""
    deadline = time.monotonic() + limit
    wrong = {(p, z) for p in ports for z in expected}
    while wrong and time.monotonic() < deadline:
        for port in ports:
            names = [z for (p, z) in wrong if p == port]
            for name, m in query_window(port, names, "DNSKEY", tries=0, edns=True).items():
                if harness.answer_texts(m, name, "DNSKEY") == expected[name]:
                    wrong.discard((port, name))
        if wrong:
            time.sleep(0.25)     # leave the nodes' CPU to the work measured
    return len(wrong)

def sign_many(whm, zones, threads):
    """POST /api/dns/:id/dnssec for every zone from 'threads' threads;
    returns {zone: DNSKEY texts as dnspython prints them}."""
    out = {}
    errors = []

    def work(mine):
        client = whm_client(whm)
        try:
            for zone, zid, _ in mine:
                a = call(client, "POST", "/api/dns/%d/dnssec" % zid, expect=(200,))
                out[zone] = sorted(dns.rdata.from_text(
                    dns.rdataclass.IN, dns.rdatatype.DNSKEY, t).to_text() for t in a["dnskey"])
        except Exception as e:          # reported by the caller
            errors.append(e)
        finally:
            client.close()

    ts = [threading.Thread(target=work, args=(zones[t::threads],)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return out


def validate_answer(msg, zone, name, keys):
    """True if the A RRset of 'msg' carries an RRSIG that 'keys' validate."""
    import dns.dnssec
    rrset = sigs = None
    qname = dns.name.from_text(name)
    for r in msg.answer:
        if r.name == qname and r.rdtype == dns.rdatatype.A:
            rrset = r
        if r.name == qname and r.rdtype == dns.rdatatype.RRSIG and r.covers == dns.rdatatype.A:
            sigs = r
    if rrset is None or sigs is None:
        return False
    try:
        dns.dnssec.validate(rrset, sigs, {dns.name.from_text(zone): keys})
        return True
    except dns.dnssec.ValidationFailure:
        return False


def change_latency(c, zone, signed, n):
    """PUT the www record of 'zone' 'n' times; time from just before each
    request until every node answers the new value (with the DO bit and an
    RRSIG over it when 'signed'). Returns (times in ms, answers not valid)."""
    client = whm_client(c.whm)
    zid = call(client, "POST", "/api/dns?wait=all", {"domain": zone})["zoneId"]
    www = call(client, "POST", "/api/dns/%d/records?wait=all" % zid,
               {"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300})["id"]
    if signed:
        call(client, "POST", "/api/dns/%d/dnssec?wait=all" % zid, expect=(200,))
    ports = [node.dns_port for node in c.nodes]
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in ports]
    name = "www." + zone
    times, answers = [], []
    try:
        for i in range(n):
            value = ip_for(i + 1000)
            q = dns.message.make_query(name, "A", want_dnssec=signed, use_edns=0, payload=4096)
            q.flags &= ~dns.flags.RD
            t0 = time.perf_counter()
            call(client, "PUT", "/api/dns/records/%d" % www,
                 {"type": "A", "name": "www", "content": value, "ttl": 300}, expect=(200,))
            pending = list(range(len(ports)))
            got = {}
            deadline = time.monotonic() + 60
            while pending and time.monotonic() < deadline:
                still = []
                for j in pending:
                    q.id = (q.id + 1) & 0xffff
                    try:
                        m = dns.query.udp(q, "127.0.0.1", port=ports[j], timeout=1.0,
                                          sock=socks[j])
                    except dns.exception.DNSException:
                        still.append(j)
                        continue
                    ok = harness.answer_texts(m, name, "A") == [value]
                    if ok and signed:
                        ok = any(r.rdtype == dns.rdatatype.RRSIG for r in m.answer)
                    if ok:
                        got[j] = m
                    else:
                        still.append(j)
                pending = still
            if pending:
                raise RuntimeError("%s: not served everywhere after 60 s" % name)
            times.append((time.perf_counter() - t0) * 1000)
            answers.append(list(got.values()))
    finally:
        for sk in socks:
            sk.close()
        client.close()
    invalid = 0
    if signed:
        keys = [r for r in harness.dns_query("127.0.0.1", ports[0], zone, "DNSKEY",
                                             dnssec=True).answer
                if r.rdtype == dns.rdatatype.DNSKEY][0]
        invalid = sum(not validate_answer(m, zone, name, keys) for ms_ in answers for m in ms_)
    return times, invalid


def dnssec_figures(args, ctl, tmp, rows):
    c = ctl.get()
    client = whm_client(c.whm)
    t0 = time.monotonic()
    zones = setup_zones(client, args.sign_zones, "signed")
    client.close()
    c.wait_converged(timeout=300)
    created_s = time.monotonic() - t0
    ports = [node.dns_port for node in c.nodes]

    t0 = time.monotonic()
    expected = sign_many(c.whm, zones, args.threads)
    requests_s = time.monotonic() - t0
    wrong = dnskeys_served(ports, expected, limit=max(120.0, args.sign_zones * 0.2))
    all_s = time.monotonic() - t0
    if wrong:
        raise RuntimeError("%d (node, zone) pairs not served signed after %.0f s"
                           % (wrong, all_s))
    rows.append(("signing %d zones through POST /api/dns/:id/dnssec (%d threads, ECDSA P-256 "
                 "CSK made by the controller) → every zone's DNSKEY set served by all 3 nodes "
                 "(the requests themselves: %.1f s)" % (len(zones), args.threads, requests_s),
                 "%.1f s" % all_s, "≤ 30 s",
                 "the same %d zones created unsigned (10 records each) and served by all 3 "
                 "nodes: %.1f s" % (len(zones), created_s)))

    lat, invalid = change_latency(c, "latency.signed.bench.", True, args.signed_changes)
    plain, _ = change_latency(c, "latency.unsigned.bench.", False, args.signed_changes)
    anchor = "unsigned zone, same run: p50 %s, p99 %s" % (ms(pct(plain, 50)), ms(pct(plain, 99)))
    fast = [t for t in lat if t <= 1000]
    if fast and len(fast) < len(lat):
        anchor += "; signed, without the samples over 1 s: p99 %s" % ms(pct(fast, 99))
    slow = sum(1 for t in lat if t > 1000)
    plain_slow = sum(1 for t in plain if t > 1000)
    what = ("%d changes of www A in a signed zone, PUT without ?wait, until all 3 nodes answer "
            "the new value with its RRSIG (asked with DO); %d of %d answers failed validation "
            "against the zone's DNSKEY afterwards; %d took over 1 s (%d in the unsigned zone): "
            "a node kept an old answer in PowerDNS's packet cache, as in the latency figure "
            "above" % (len(lat), invalid, 3 * len(lat), slow, plain_slow))
    rows.append(("record change in a signed zone → valid signed answer on all 3 nodes, p50 (%s)"
                 % what, ms(pct(lat, 50)), "", anchor))
    rows.append(("… p99 (max %s)" % ms(max(lat)), ms(pct(lat, 99)), "≤ 100 ms", anchor))

def store_bytes(path):
    """The logical size of the controller's SQLite store (the WAL's
    committed pages included): page_count x page_size, read-only."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return (db.execute("PRAGMA page_count").fetchone()[0]
                * db.execute("PRAGMA page_size").fetchone()[0])
    finally:
        db.close()


def secondary_zone_text(zone, serial, www):
    lines = ["$TTL 300", "@ IN SOA ns1.%s hostmaster.%s %d 3600 600 86400 300" % (zone, zone, serial),
             "@ IN NS ns1.%s" % zone, "ns1 IN A 192.0.2.53", "www IN A %s" % www]
    lines += ["h%d IN A 198.51.100.%d" % (i, i % 250 + 1) for i in range(20)]
    return "\n".join(lines) + "\n"


def secondary_figures(args, tmp, rows):
    """A secondary zone of a real BIND primary on a three-node cluster whose
    controller listens for DNS: 'args.secondary_changes' changes on the
    primary (a new zone file, SIGHUP; BIND sends its NOTIFY to the
    controller's listener), each timed from the SIGHUP until all 3 nodes
    answer the new address (the primary's serial with it); BIND answers
    each refresh with an IXFR. The anchor: a record change through the
    controller's API, timed the same way."""
    port = harness.free_ports(1, udp=(0,))[0]
    conf = dict(WHM_CONFIG, **{"dns-listen-address": "127.0.0.1", "dns-listen-port": port})
    c = clusterlib.Cluster(os.path.join(tmp, "secondary"), n=3, whm_config=conf)
    zone = "secondary-bench.example."
    primary = BindPrimary(os.path.join(tmp, "bind-primary"),
                          {zone: secondary_zone_text(zone, 1, ip_for(0))},
                          notify=("127.0.0.1", port))
    primary.start()
    ports = [node.dns_port for node in c.nodes]
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in ports]
    try:
        client = whm_client(c.whm)
        zid = call(client, "POST", "/api/dns", {"domain": zone, "kind": "secondary",
                                                "primaries": [primary.address]})["zoneId"]
        poll_all(socks, ports, "www." + zone, "A", [ip_for(0)])
        lat, stale = [], 0
        for i in range(1, args.secondary_changes + 1):
            primary.write_zone(zone, secondary_zone_text(zone, 1 + i, ip_for(i)))
            t0 = time.perf_counter()
            primary.proc.send_signal(signal.SIGHUP)
            stale += bool(poll_all(socks, ports, "www." + zone, "A", [ip_for(i)]))
            lat.append((time.perf_counter() - t0) * 1000)
        z = call(client, "GET", "/api/dns/%d" % zid)
        tr = z["secondary"]["transfers"]
        if z["serial"] != 1 + args.secondary_changes:
            raise RuntimeError("serial %s, expected %d" % (z["serial"],
                                                            1 + args.secondary_changes))
        # The anchor: the same change made through the controller's API.
        own, oid, www = setup_zones(client, 1, "secondary-anchor")[0]
        anchor = []
        for i in range(args.secondary_changes):
            t0 = time.perf_counter()
            call(client, "PUT", "/api/dns/records/%d" % www,
                 {"type": "A", "name": "www", "content": ip_for(i + 7), "ttl": 300})
            poll_all(socks, ports, "www." + own, "A", [ip_for(i + 7)])
            anchor.append((time.perf_counter() - t0) * 1000)
        client.close()
        rows.append(("external primary (BIND 9.18) change + its NOTIFY to the controller → "
                     "answered by all 3 nodes with the primary's serial, p50 (%d changes, "
                     "timed from BIND's SIGHUP, its reload included: %d IXFR, %d AXFR; "
                     "p99 %s%s)"
                     % (len(lat), tr["ixfr"], tr["axfr"], ms(pct(lat, 99)),
                        "; %d answers stale in a packet cache after 1 s" % stale if stale
                        else ""),
                     ms(pct(lat, 50)), "≤ 1 s",
                     "a record change through the controller's API, same run: p50 %s, p99 %s"
                     % (ms(pct(anchor, 50)), ms(pct(anchor, 99)))))
    finally:
        for s in socks:
            s.close()
        primary.stop()
        c.stop()


def history_figures(args, ctl, tmp, rows):
    """Zone history on the three-node cluster: 'args.history_versions'
    changes of one zone of ten records (one version each), then the time to
    list them all in one page, the store's growth per version, and rollbacks
    timed until all 3 nodes answer the old content."""
    c = ctl.get()
    client = whm_client(c.whm)
    zone, zid, www = setup_zones(client, 1, "history")[0]
    n = args.history_versions
    try:
        before = store_bytes(c.whm.store_path)
        first = call(client, "GET", "/api/dns/%d" % zid)["version"]
        for i in range(n):
            call(client, "PUT", "/api/dns/records/%d" % www,
                 {"type": "A", "name": "www", "content": ip_for(i + 3), "ttl": 300})
        grown = store_bytes(c.whm.store_path) - before
        last = first + n
        path = "/api/dns/%d/versions?limit=%d" % (zid, min(n + 1, 1000))
        times = []
        for _ in range(args.history_lists):
            t0 = time.perf_counter()
            page = call(client, "GET", path)
            times.append((time.perf_counter() - t0) * 1000)
        listed = len(page["versions"])
        if page["current"] != last or listed != min(n + 1, 1000):
            raise RuntimeError("listed %d versions, current %s; expected %d, %d"
                               % (listed, page["current"], min(n + 1, 1000), last))
        sample = call(client, "GET", "/api/dns/%d/versions/%d" % (zid, last))
        snapshot = len(json.dumps([[r["name"], r["type"], r["ttl"], r["content"]]
                                   for r in sample["records"]], separators=(",", ":")))
        rows.append(("GET /api/dns/:id/versions?limit=%d: %d versions of a zone of 10 records "
                     "in one page (%d requests, keep-alive; p99 %s)"
                     % (min(n + 1, 1000), listed, len(times), ms(pct(times, 99))),
                     ms(pct(times, 50)), "≤ 50 ms", ""))
        rows.append(("store growth per version of a zone of 10 records (%d changes of one "
                     "record, each a version; SQLite page_count × page_size before and after: "
                     "the version row with its snapshot, its audit entry, their indexes)" % n,
                     "%.0f bytes" % (grown / n), "",
                     "the snapshot itself: %d bytes" % snapshot))

        # Rollbacks, alternately to a version with www = A and one with www = B.
        a = call(client, "PUT", "/api/dns/records/%d" % www,
                 {"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300})["version"]
        b = call(client, "PUT", "/api/dns/records/%d" % www,
                 {"type": "A", "name": "www", "content": "192.0.2.2", "ttl": 300})["version"]
        ports = [node.dns_port for node in c.nodes]
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in ports]
        lat, plain, stale = [], [], 0
        try:
            poll_all(socks, ports, "www." + zone, "A", ["192.0.2.2"])
            for i in range(args.history_rollbacks):
                target, want = (a, "192.0.2.1") if i % 2 == 0 else (b, "192.0.2.2")
                t0 = time.perf_counter()
                r = call(client, "POST", "/api/dns/%d/rollback" % zid, {"version": target})
                if not r.get("changed"):
                    raise RuntimeError("rollback to %d changed nothing: %s" % (target, r))
                stale += bool(poll_all(socks, ports, "www." + zone, "A", [want]))
                lat.append((time.perf_counter() - t0) * 1000)
            # The anchor: the same two answers reached by an ordinary record
            # change (the rollbacks replaced the www record: a new id).
            www = [x["id"] for x in call(client, "GET", "/api/dns/%d/records" % zid)
                   if x["type"] == "A" and x["name"] == "www"][0]
            for i in range(args.history_rollbacks):
                want = "192.0.2.1" if i % 2 == 0 else "192.0.2.2"
                t0 = time.perf_counter()
                call(client, "PUT", "/api/dns/records/%d" % www,
                     {"type": "A", "name": "www", "content": want, "ttl": 300})
                poll_all(socks, ports, "www." + zone, "A", [want])
                plain.append((time.perf_counter() - t0) * 1000)
        finally:
            for sock in socks:
                sock.close()
        what = "%d rollbacks, POST /api/dns/:id/rollback without ?wait, alternately to two " \
               "versions" % len(lat)
        if stale:
            what += "; %d held back by PowerDNS's packet cache on a node" % stale
        anchor = "the same answers by PUT /api/dns/records/:id, same run: p50 %s, p99 %s" % (
            ms(pct(plain, 50)), ms(pct(plain, 99)))
        rows.append(("rollback acknowledged → the old answer from all 3 nodes, p50 (%s)" % what,
                     ms(pct(lat, 50)), "", anchor))
        rows.append(("… p99 (max %s)" % ms(max(lat)), ms(pct(lat, 99)), "", anchor))
    finally:
        client.close()


def supervise_figures(args, tmp, rows):
    """A managed node's pdns_server is SIGKILLed 'args.kills' times; each
    time, how long until the node answers DNS again (the agent restarts it
    by itself). Each kill comes after PowerDNS has been up longer than the
    supervisor's stable period (10 s), so every restart waits the first
    delay (pdns-restart-delay-min), as a crash in production would."""
    node = harness.Node(os.path.join(tmp, "supervise"), name="supervised")
    took = []
    try:
        node.start()
        node.push_ok("supervised.bench.", 1, 1, zone_records(1, "192.0.2.77"))
        name = "www.supervised.bench."

        def udp():
            # dnspython wants its sockets non-blocking: a blocking one can
            # hang in recvfrom once a refused datagram made it "readable".
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            return s
        sock = udp()
        for i in range(args.kills):
            time.sleep(10.5)  # past the stable period: the backoff is back at its start
            pid = node.pdns_pid()
            t0 = time.perf_counter()
            os.kill(pid, 9)
            deadline = time.monotonic() + 60
            while True:
                if time.monotonic() > deadline:
                    raise RuntimeError("kill %d: not answering after 60 s" % (i + 1))
                try:
                    msg = harness.dns_query("127.0.0.1", node.dns_port, name, "A",
                                            sock=sock, timeout=0.05)
                    if harness.answer_texts(msg, name, "A") == ["192.0.2.77"]:
                        break
                except (dns.exception.Timeout, OSError):
                    sock.close()    # a refused datagram leaves an error on the socket
                    sock = udp()
                    time.sleep(0.005)
            took.append((time.perf_counter() - t0) * 1000)
        sock.close()
        metric = [l for l in node.get("/metrics").text.splitlines()
                  if l.startswith("yumna_agent_pdns_restarts_total ")]
        restarts = int(metric[0].split()[1]) if metric else -1
    finally:
        node.stop()
    what = ("pdns_server SIGKILLed → the node answers DNS again (managed mode: the agent "
            "restarts it after pdns-restart-delay-min, 100 ms), p50 over %d kills, each after "
            "10 s up; /metrics counted %d restarts" % (len(took), restarts))
    anchor = "before the supervisor: never, until POST /api/dns/initialize by hand"
    rows.append((what, ms(pct(took, 50)), "", anchor))
    rows.append(("… p99 (max %s, min %s)" % (ms(max(took)), ms(min(took))), ms(pct(took, 99)),
                 "", anchor))


def slow_attack(address, port, source, count, seconds, head):
    """A slowloris from 'source' (run in a child process): keep 'count'
    connections open to address:port, each sending 'head' and then one byte
    every 0.5 s; a connection the server closes is opened again at once.
    Prints how many connections it opened."""
    socks, opened, end = {}, 0, time.monotonic() + seconds
    while time.monotonic() < end:
        while len(socks) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((source, 0))
            s.setblocking(False)
            s.connect_ex((address, port))
            socks[s] = 0
            opened += 1
        time.sleep(0.05)
        for s in list(socks):
            try:
                if socks[s] == 0:
                    s.send(head)
                elif socks[s] % 10 == 0:
                    s.send(b"X")
                socks[s] += 1
                if not s.recv(4096):
                    raise OSError("closed")
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                del socks[s]
    for s in socks:
        s.close()
    print(opened)


def health_p99_ms(node, n):
    """'n' GET /health on a new connection each (raw socket: the client must
    cost little); returns (p50 ms, p99 ms, failures)."""
    req = ("GET /health HTTP/1.1\r\nHost: x\r\nX-Agent-Secret: %s\r\nConnection: close"
           "\r\n\r\n" % node.secret).encode()
    took, failures = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        try:
            with socket.create_connection((node.address, node.api_port), timeout=2) as s:
                s.sendall(req)
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            if not data.startswith(b"HTTP/1.1 200"):
                failures += 1
        except OSError:
            failures += 1
        took.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.005)
    return pct(took, 50), pct(took, 99), failures


def slow_client_figures(args, tmp, rows):
    """/health p99 from 127.0.0.1 while 1,000 slowloris connections come from
    127.0.0.2 (not in allow-from) and then from 127.0.0.3 (allowed)."""
    import multiprocessing
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    node = harness.Node(os.path.join(tmp, "slow"), name="slow",
                        config={"allow-from": "127.0.0.1, 127.0.0.3, ::1"})
    try:
        node.start()
        n = args.slow_requests
        base50, base99, base_fail = health_p99_ms(node, n)
        head = b"GET /health HTTP/1.1\r\nHost: x\r\n"
        for source, who in (("127.0.0.2", "not in allow-from"),
                            ("127.0.0.3", "in allow-from: per-address limit 64, "
                                          "header timeout 2 s")):
            proc = multiprocessing.Process(
                target=slow_attack,
                args=(node.address, node.api_port, source, 1000, 3600, head), daemon=True)
            proc.start()
            try:
                time.sleep(2.0)
                p50, p99, fail = health_p99_ms(node, n)
            finally:
                proc.terminate()
                proc.join(10)
            t0 = time.perf_counter()
            after50, after99, after_fail = health_p99_ms(node, 20)
            rows.append(("agent /health p99 (new connection each, %d requests) under 1,000 "
                         "slowloris connections from an address %s (re-opened when closed); "
                         "p50 %.2f ms, %d failed; right after they stop: p99 %.2f ms, %d failed"
                         % (n, who, p50, fail, after99, after_fail),
                         "%.2f ms" % p99, "≤ 10 ms",
                         "no attack: p99 %.2f ms (p50 %.2f ms, %d failed); before allow-from and "
                         "the header timeout: every /health timed out while the connections "
                         "stayed, and for 60 s after" % (base99, base50, base_fail)))
    finally:
        node.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def load_zones(node, count, prefix, batch=10000):
    """'count' zones of 10 records pushed to 'node' in sync-batches."""
    for start in range(0, count, batch):
        payloads = [harness.zone_payload("%s%d.bench." % (prefix, i), 1, 1, zone_records(i))
                    for i in range(start, min(count, start + batch))]
        r = node.sync_batch(payloads, timeout=600)
        if r.status_code != 200:
            raise RuntimeError("sync-batch: %d %s" % (r.status_code, r.text[:300]))


def verification_cost(tmp, count, period):
    """Agent CPU-seconds of one background verification pass over 'count'
    zones (the agent restarted, so a pass starts at once and lasts
    'period' seconds), and the time its hash tree took to build."""
    node = harness.Node(os.path.join(tmp, "verify%d" % count), name="v%d" % count,
                        config={"verify-interval": period})
    try:
        node.start()
        load_zones(node, count, "v")
        node.restart()
        t0 = time.monotonic()
        cpu0 = proc_cpu_s(node.agent_pid)
        time.sleep(period)
        cpu = proc_cpu_s(node.agent_pid) - cpu0
        elapsed = time.monotonic() - t0
        peak = rss_kb(node.agent_pid, "VmHWM")
    finally:
        node.stop()
    return cpu, elapsed, peak


def pdns_flush(node):
    with open(os.path.join(node.data_dir, "pdns-api-key")) as f:
        key = f.read().strip()
    requests.put("http://%s:%d/api/v1/servers/localhost/cache/flush" %
                 (node.address, node.pdns_api_port), params={"domain": "."},
                 headers={"X-API-Key": key}, timeout=5)


def verify_figures(args, tmp, rows):
    """Drift (a record changed in a node's PowerDNS database behind its
    agent, PowerDNS's cache purged so it serves the change) → the node
    answers the committed data again, 'args.drift_edits' times; and the CPU
    cost of one verification pass at each of 'args.verify_zones'."""
    import cluster as cl
    period = args.verify_period
    c = cl.Cluster(os.path.join(tmp, "drift"), n=3, whm_config=WHM_CONFIG,
                   node_config={"verify-interval": period})
    took = []
    try:
        zones = ["drift%d.bench." % i for i in range(args.drift_zones)]
        for i, z in enumerate(zones):
            zid = c.create_zone(z, wait=False)
            c.add_record(zid, "www", "A", "192.0.2.1", wait=(i == len(zones) - 1))
        c.wait_converged(timeout=120)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        for i in range(args.drift_edits):
            z = zones[(i * 7919) % len(zones)]
            node = c.nodes[i % len(c.nodes)]
            db = sqlite3.connect(os.path.join(node.data_dir, "pdns.sqlite3"), timeout=10)
            with db:
                db.execute("UPDATE records SET content = '198.51.100.9' WHERE name = ? "
                           "AND type = 'A'", ("www." + z.rstrip("."),))
            db.close()
            t0 = time.perf_counter()
            pdns_flush(node)
            deadline = time.monotonic() + 4 * period + 30
            while True:
                if time.monotonic() > deadline:
                    raise RuntimeError("edit %d on %s not repaired" % (i, node.name))
                try:
                    msg = harness.dns_query(node.address, node.dns_port, "www." + z, "A",
                                            sock=sock, timeout=0.2)
                    if harness.answer_texts(msg, "www." + z, "A") == ["192.0.2.1"]:
                        break
                except (dns.exception.Timeout, OSError):
                    pass
                time.sleep(0.05)
            took.append(time.perf_counter() - t0)
        sock.close()
    finally:
        c.stop()
    rows.append(("a record changed in a node's PowerDNS database behind its agent → the "
                 "node serves the committed data again (found by the agent's background "
                 "verification, verify-interval %d s, %d zones; repaired by the controller's "
                 "push), p50 over %d edits" % (period, len(zones), len(took)),
                 "%.1f s" % pct(took, 50), "", "before: never (watched for 14 minutes)"))
    rows.append(("… p99 (max %.1f s)" % max(took), "%.1f s" % pct(took, 99),
                 "≤ %d s (2 × the period)" % (2 * period), ""))
    for count in args.verify_zones:
        p = args.verify_cost_period
        cpu, elapsed, peak = verification_cost(tmp, count, p)
        rows.append(("agent CPU for one background verification pass over %d zones × 10 "
                     "records (spread over verify-interval = %d s; agent peak %.1f MB)"
                     % (count, p, peak / 1024), "%.1f CPU-s (%.0f%% of a core)"
                     % (cpu, 100 * cpu / elapsed), "", ""))


def whm_metric(whm, name, node_name):
    r = whm.get("/metrics", timeout=30)
    for line in r.text.splitlines():
        if line.startswith(name + "{") and 'node="%s"' % node_name in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def wait_synced(whm, server_id, total, limit):
    """Poll the node's full-sync progress until every zone is in sync;
    the seconds it took."""
    t0 = time.perf_counter()
    while True:
        p = whm.get("/api/dns/cluster/sync-all/%d" % server_id, timeout=60).json()
        if p.get("inSync") == total and p.get("behind") == 0:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > limit:
            raise RuntimeError("node %d not in sync after %.0f s: %s" % (server_id, limit, p))
        time.sleep(1.0)


def scale_figures(args, tmp, rows):
    """'args.scale_zones' zones (default 1,000,000): created through the
    API, then a fresh node joins and syncs them all; then two more; then the
    controller's status, a reconciliation pass over the in-sync nodes, a
    change and the memory of every process."""
    count = args.scale_zones
    base = os.path.join(tmp, "scale")
    whm = new_whm(os.path.join(base, "whm"), {"reconcile-interval": 15})
    nodes = [harness.Node(os.path.join(base, "ns%d" % i), name="ns%d" % i, node_id=i,
                          config={"verify-interval": args.scale_verify_period})
             for i in (1, 2, 3)]
    try:
        whm.start()
        names = ["s%d.scale.bench." % i for i in range(count)]
        create_s = create_zones(whm, names, args.threads)
        whm_after_create = rss_mb(whm.proc.pid)
        for n in nodes:
            n.start()
            r = whm.post("/api/dns/servers", {"name": n.name, "ip": n.address,
                                              "agent_port": n.api_port,
                                              "agent_secret": n.secret})
            n.server_id = r.json()["id"]
        # One fresh node alone, then the two others together.
        whm.post("/api/dns/cluster/nodes/%d" % nodes[0].server_id)
        first_s = wait_synced(whm, nodes[0].server_id, count, 1800)
        sample = names[::max(1, count // 2000)]
        answered = all_answered(nodes[0].dns_port, sample, "SOA", 120)
        for n in nodes[1:]:
            whm.post("/api/dns/cluster/nodes/%d" % n.server_id)
        t0 = time.perf_counter()
        for n in nodes[1:]:
            wait_synced(whm, n.server_id, count, 3600)
        rest_s = time.perf_counter() - t0
        # Status, as the dashboard polls it.
        took = []
        for _ in range(20):
            t1 = time.perf_counter()
            r = whm.get("/api/dns/cluster/status", timeout=60)
            took.append((time.perf_counter() - t1) * 1000)
            if r.status_code != 200:
                raise RuntimeError("status: %d" % r.status_code)
        # A reconciliation pass over each in-sync node (reconcile-interval 15 s).
        before = {n.name: whm_metric(whm, "yumna_whm_node_reconciliations_total", n.name)
                  for n in nodes}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(
                whm_metric(whm, "yumna_whm_node_reconciliations_total", n.name) <= before[n.name]
                for n in nodes):
            time.sleep(1)
        recon = [whm_metric(whm, "yumna_whm_node_reconcile_seconds", n.name) for n in nodes]
        # One change, answered by all three nodes.
        first = whm.get("/api/dns?limit=1", timeout=60).json()[0]
        zid, zname = first["id"], first["domain"] + "."
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in nodes]
        for s in socks:
            s.setblocking(False)
        t1 = time.perf_counter()
        whm.post("/api/dns/%d/records" % zid, {"name": "www", "type": "A",
                                               "content": "192.0.2.200", "ttl": 300})
        poll_all(socks, [n.dns_port for n in nodes], "www." + zname, "A", ["192.0.2.200"])
        change_ms = (time.perf_counter() - t1) * 1000
        for s in socks:
            s.close()
        # One verification pass on ns2 (its agent restarted with a shorter
        # verify-interval), with a record of one zone changed behind it.
        ns2, period = nodes[1], args.scale_pass_period
        ns2.extra_config["verify-interval"] = period
        ns2.write_config()
        ns2.restart()
        cpu0 = proc_cpu_s(ns2.agent_pid)
        t_pass = time.monotonic()
        edited = names[count // 3]
        db = sqlite3.connect(os.path.join(ns2.data_dir, "pdns.sqlite3"), timeout=30)
        with db:
            db.execute("UPDATE records SET ttl = 7 WHERE name = ? AND type = 'SOA'",
                       (edited.rstrip("."),))
        db.close()
        pdns_flush(ns2)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        repaired = None
        while time.monotonic() - t_pass < 2 * period + 30:
            try:
                msg = harness.dns_query(ns2.address, ns2.dns_port, edited, "SOA", sock=sock,
                                        timeout=0.5)
                if msg.answer and msg.answer[0].ttl != 7:
                    repaired = time.monotonic() - t_pass
                    break
            except (dns.exception.Timeout, OSError):
                pass
            time.sleep(0.5)
        sock.close()
        time.sleep(max(0.0, period - (time.monotonic() - t_pass)))
        pass_cpu = proc_cpu_s(ns2.agent_pid) - cpu0
        whm_hwm = rss_mb(whm.proc.pid, "VmHWM")
        whm_rss = rss_mb(whm.proc.pid)
        agent_hwm = max(rss_mb(n.agent_pid, "VmHWM") for n in nodes)
        agent_rss = max(rss_mb(n.agent_pid) for n in nodes)
        t1 = time.perf_counter()
        whm.get("/api/dns?limit=100", timeout=60)
        page_ms = (time.perf_counter() - t1) * 1000
    finally:
        for n in nodes:
            n.stop()
        whm.stop()
    rows.append(("%d zones created through POST /api/dns (%d threads, no nodes yet)"
                 % (count, args.threads), "%.0f s (%.0f zones/s)" % (create_s, count / create_s),
                 "", "controller VmRSS after: %.0f MB" % whm_after_create))
    rows.append(("a fresh node joins and syncs all %d zones (until the controller counts every "
                 "zone in sync, verified by digest; %d of %d sampled zones answer SOA)"
                 % (count, answered, len(sample)), "%.0f s" % first_s, "≤ 100 s", ""))
    rows.append(("… two more fresh nodes together", "%.0f s" % rest_s, "", ""))
    rows.append(("GET /api/dns/cluster/status with %d zones × 3 nodes, p50 (p99)" % count,
                 "%.1f ms (%.1f ms)" % (pct(took, 50), pct(took, 99)), "≤ 20 ms", ""))
    rows.append(("reconciliation pass over an in-sync node (hash tree compared; slowest of 3)",
                 "%.1f ms" % (max(recon) * 1000), "≤ 1 s", ""))
    rows.append(("one record change → answered by all 3 nodes", "%.1f ms" % change_ms, "", ""))
    rows.append(("agent CPU for one background verification pass over %d zones "
                 "(verify-interval = %d s)" % (count, period),
                 "%.0f CPU-s (%.0f%% of a core)" % (pass_cpu, 100 * pass_cpu / period), "", ""))
    rows.append(("a zone's SOA TTL changed in a node's database behind its agent (of %d zones) "
                 "→ found by the agent's verification and repaired by the controller "
                 "(verify-interval = %d s)" % (count, period),
                 "%.0f s" % repaired if repaired is not None else "not repaired",
                 "≤ %d s (the period)" % period, ""))
    rows.append(("GET /api/dns?limit=100", "%.1f ms" % page_ms, "", ""))
    rows.append(("controller resident memory, peak (VmHWM) over all of the above (now)",
                 "%.0f MB (%.0f MB)" % (whm_hwm, whm_rss), "≤ 256 MB", ""))
    rows.append(("agent resident memory, peak (VmHWM) over all of the above, largest of 3 (now)",
                 "%.0f MB (%.0f MB)" % (agent_hwm, agent_rss), "≤ 64 MB", ""))


# --- the dashboard -------------------------------------------------------------

def dashboard_browser(profile):
    """Headless Chromium with its DevTools network events in the
    performance log."""
    return chromium.start(profile, "performance", 60)


def network_log(driver):
    """The requests since the last call, from the performance log:
    [(url, bytes received with headers, as DevTools' "transferred")]."""
    urls, sizes = {}, {}
    for entry in driver.get_log("performance"):
        m = json.loads(entry["message"])["message"]
        p = m.get("params", {})
        if m.get("method") == "Network.requestWillBeSent":
            urls[p["requestId"]] = p["request"]["url"]
        elif m.get("method") == "Network.loadingFinished":
            sizes[p["requestId"]] = p.get("encodedDataLength", 0)
    return [(urls.get(k, "?"), v) for k, v in sizes.items()]


def wait_page(driver, script, arg, limit=30.0):
    """Run 'script' until it returns a number (performance.now() when the
    page showed what it waits for); that number."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        v = driver.execute_script(script, arg)
        if v is not None:
            return v
        time.sleep(0.002)
    raise RuntimeError("the dashboard did not show it in %.0f s" % limit)


# The page's own clock marks when the rows are in the table (a mutation
# observer, then the next animation frame: the rows painted), so the
# WebDriver's round trips do not count. WATCH is put into every page
# before its scripts run (DevTools' Page.addScriptToEvaluateOnNewDocument);
# window.benchWatch(test) arms it, and window.benchDone holds the time.
WATCH = """
window.benchWatch = function (test) {
  window.benchDone = null;
  const check = () => {
    if (window.benchDone !== null || !test()) return;
    window.benchDone = -1;
    requestAnimationFrame(() => { window.benchDone = performance.now(); });
    obs.disconnect();
  };
  const obs = new MutationObserver(check);
  obs.observe(document, { childList: true, subtree: true });
  check();
};
window.benchRows = () => Array.from(document.querySelectorAll('#zones tbody tr'));
window.benchWatch(() => window.benchRows().length === 100);
"""
DONE = "return window.benchDone > 0 ? window.benchDone : null;"
SEARCH = ("const p = arguments[0];"
          "window.benchWatch(() => { const rows = window.benchRows();"
          "  return rows.length === 100 && rows.every(r => r.dataset.zone.startsWith(p)); });"
          "const f = document.getElementById('zone-filter'); f.value = p;"
          "f.dispatchEvent(new Event('input')); return performance.now();")
TYPE = ("const f = document.getElementById('zone-filter'); f.value = arguments[0];"
        "f.dispatchEvent(new Event('input')); return performance.now();")


def old_poll_bytes(whm, zone_id):
    """What the dashboard read every 2 s before it polled the change
    counter: status, statistics, servers, events, the page of zones and the
    open zone, each read once here (body and headers)."""
    total = 0
    for path in ("/api/dns/cluster/status", "/api/dns/cluster/statistics", "/api/dns/servers",
                 "/api/dns/cluster/events?since=1000000", "/api/dns?limit=100&after=0",
                 "/api/dns/%d" % zone_id):
        r = whm.get(path, timeout=60)
        head = sum(len(k) + len(v) + 4 for k, v in r.headers.items()) + 17
        total += len(r.content) + head
    return total


def xfr_figures(args, tmp, rows):
    """A real BIND named as a third-party secondary, configured once with
    the cluster's catalog zone and a TSIG key, transferring from node 1:
    a record changed on the controller (no ?wait) → BIND answers it, beside
    PowerDNS's own primary → secondary with NOTIFY; then 'args.xfr_zones'
    zones created → BIND serves every one (it learns them from the
    catalog)."""
    catalog = "catalog.bench."
    c = clusterlib.Cluster(os.path.join(tmp, "xfr"), n=3,
                           whm_config=dict(WHM_CONFIG, **{"catalog-zone": catalog}))
    bind = secondaries.Bind(os.path.join(tmp, "xfr", "named"), "127.0.0.3")
    try:
        key = c.whm.call("POST", "/api/dns/tsig-keys", {"name": "xfr.bench."}, expect=201)
        c.whm.call("PUT", "/api/dns/transfers", {
            "allow": [{"from": "127.0.0.3", "key": "xfr.bench."}],
            "notify": ["127.0.0.1:%d" % bind.port]}, expect=200)
        c.wait_converged()
        n1 = c.nodes[0]
        bind.start(catalog, (n1.address, n1.transfer_port), key)
        client = whm_client(c.whm)
        zone = "latency.xfr.bench."
        zid = call(client, "POST", "/api/dns?wait=all", {"domain": zone})["zoneId"]
        bind.wait_serves(zone, "SOA", n1.dig(zone, "SOA"), timeout=60)
        times = []
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for i in range(args.xfr_changes):
                value = ip_for(i + 1)
                name = "r%d.%s" % (i, zone)
                t0 = time.perf_counter()
                call(client, "POST", "/api/dns/%d/records" % zid,
                     {"type": "A", "name": "r%d" % i, "content": value, "ttl": 300},
                     expect=(201,))
                poll_all([sock], [bind.port], name, "A", [value], limit=60.0)
                times.append((time.perf_counter() - t0) * 1000)
        finally:
            sock.close()
        rep = anchor_replication(os.path.join(tmp, "xfr-replication"), args.repl_samples, 0, 0)
        nt = rep["notify"]
        anchor = ("PowerDNS primary → secondary, PATCH + NOTIFY: p50 %s, max %s (%d changes)"
                  % (ms(pct(nt, 50)), ms(max(nt)), len(nt)))
        rows.append(("change on the controller (no ?wait) → answered by an external BIND "
                     "secondary (TSIG, NOTIFY from the nodes), p50 (%d changes, max %s)"
                     % (len(times), ms(max(times))), ms(pct(times, 50)), "≤ 1 s", anchor))
        rows.append(relay_figure(args, client, n1, key))
        count = args.xfr_zones
        names = ["x%05d.xfr.bench." % i for i in range(count)]
        t0 = time.perf_counter()
        create_s = create_zones(c.whm, names, args.threads)
        served = serves_all(bind.port, names)
        took = time.perf_counter() - t0
        client.close()
    finally:
        bind.stop()
        c.stop()
    anchor = anchor_producer(os.path.join(tmp, "xfr-producer"), count)
    rows.append(("%d zones created on the controller (%.1f s of API calls) → all served "
                 "by the BIND secondary through the catalog zone%s"
                 % (count, create_s, "" if served == count
                    else "; only %d served after 600 s" % served),
                 "%.1f s" % took, "", anchor))


def relay_figure(args, client, node, key):
    """AXFR of a zone of 'args.xfr_records' records through the node's
    transfer port (address and key checked, each message signed again)
    beside the same transfer straight from the node's PowerDNS (unsigned,
    from loopback, which its allow-axfr-ips lets in): medians of
    'args.xfr_runs' transfers each, one row."""
    zone = "big.xfr.bench."
    zid = call(client, "POST", "/api/dns?wait=all", {"domain": zone})["zoneId"]
    text = "".join("h%d 300 IN A %s\n" % (i, ip_for(i + 1)) for i in range(args.xfr_records))
    call(client, "POST", "/api/dns/%d/import?wait=all" % zid,
         {"content": text, "format": "bind", "mode": "merge"})
    ring = dns.tsigkeyring.from_text({key["name"]: (key["algorithm"], key["secret"])})

    def timed(port, source, **kw):
        times = []
        for _ in range(args.xfr_runs):
            t0 = time.perf_counter()
            z = dns.zone.from_xfr(dns.query.xfr(node.address, zone, port=port, timeout=60,
                                                source=source, **kw))
            times.append((time.perf_counter() - t0) * 1000)
            assert len(z.nodes) >= args.xfr_records, len(z.nodes)
        return times

    relayed = timed(node.transfer_port, "127.0.0.3", keyring=ring, keyname=key["name"])
    direct = timed(node.dns_port, "127.0.0.1")
    return ("AXFR of a %d-record zone through a node's transfer port (address and TSIG key "
            "checked, every message signed again), median of %d"
            % (args.xfr_records, len(relayed)), ms(pct(relayed, 50)), "",
            "the same AXFR straight from the node's PowerDNS (unsigned, loopback): %s"
            % ms(pct(direct, 50)))


def serves_all(port, names, limit=600.0):
    """How many of 'names' the server on 'port' answers the SOA of, asked
    again until all are or 'limit' seconds passed."""
    deadline = time.monotonic() + limit
    served = 0
    while time.monotonic() < deadline:
        served = all_answered(port, names, "SOA", limit=30.0)
        if served == len(names):
            break
        time.sleep(0.2)
    return served


def anchor_producer(tmp, count):
    """The same 'count' zones added to a PowerDNS 4.7 producer (a plain
    pdns_server, one API client, each zone a member of its Producer catalog
    zone, defaults otherwise) that a second BIND consumes the same way; the
    anchor column's text. The catalog is created with soa_edit_api EPOCH:
    with the API's default its first serial is YYYYMMDD01, PowerDNS then
    numbers the catalog by the clock (1.7e9 today), and BIND refuses the
    lower serial for good."""
    bind = secondaries.Bind(os.path.join(tmp, "named"), "127.0.0.4")
    pdns = Pdns(os.path.join(tmp, "pdns"), {
        "primary": "yes", "also-notify": "%s:%d" % (bind.address, bind.port),
        "only-notify": ""})
    catalog = "catalog.producer.bench."
    try:
        pdns.start()
        secret = base64.b64encode(secrets.token_bytes(32)).decode()
        key = pdns.api("POST", "/tsigkeys", {"name": "xfr.producer.bench.",
                                            "algorithm": "hmac-sha256", "key": secret}).json()
        pdns.api("POST", "/zones", {"name": catalog, "kind": "Producer", "soa_edit_api": "EPOCH",
                                    "nameservers": ["invalid."],
                                    "master_tsig_key_ids": [key["id"]]})
        bind.start(catalog, ("127.0.0.1", pdns.dns_port),
                   {"name": key["name"], "algorithm": "hmac-sha256", "secret": secret})
        if all_answered(bind.port, [catalog], "SOA", limit=60.0) != 1:
            raise RuntimeError("BIND never loaded the producer's catalog")
        names = ["p%05d.producer.bench." % i for i in range(count)]
        t0 = time.perf_counter()
        for name in names:
            pdns.api("POST", "/zones", {"name": name, "kind": "Master", "catalog": catalog,
                                        "nameservers": ["ns1.producer.bench."],
                                        "master_tsig_key_ids": [key["id"]]})
        create_s = time.perf_counter() - t0
        served = serves_all(bind.port, names)
        took = time.perf_counter() - t0
        return ("the same %d zones added to a PowerDNS producer (one API client, %.1f s of "
                "calls; PowerDNS updates a producer's catalog every xfr-cycle-interval, 60 s "
                "by default) → all served by a BIND secondary through its catalog: %s"
                % (count, create_s, "%.1f s" % took if served == count
                   else "only %d served after 600 s" % served))
    finally:
        bind.stop()
        pdns.stop()


def dashboard_figures(args, tmp, rows):
    """A controller with 'args.dash_zones' zones (and one node that holds
    them all), the dashboard in headless Chromium: the first screen, a
    search, and one idle minute's traffic."""
    count = args.dash_zones
    base = os.path.join(tmp, "dashboard")
    whm = new_whm(os.path.join(base, "whm"))
    node = harness.Node(os.path.join(base, "ns1"), name="ns1", node_id=1)
    driver = None
    try:
        whm.start()
        names = ["z%06d.dash.bench." % i for i in range(count)]
        create_s = create_zones(whm, names, args.threads)
        node.start()
        r = whm.post("/api/dns/servers", {"name": node.name, "ip": node.address,
                                          "agent_port": node.api_port,
                                          "agent_secret": node.secret})
        sid = r.json()["id"]
        whm.post("/api/dns/cluster/nodes/%d" % sid)
        sync_s = wait_synced(whm, sid, count, 1200)
        status_bytes = len(whm.get("/api/dns/cluster/status").content)
        first_zone = whm.get("/api/dns?limit=1").json()[0]
        driver = dashboard_browser(os.path.join(base, "chromium"))
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
        url = whm.url + "/ui/"
        driver.get(url)
        driver.execute_script("sessionStorage.setItem('yumna-token', arguments[0])",
                              whm.admin_token)
        # First screen: navigation start → the first page of 100 zones in
        # the table (performance.now() counts from the navigation).
        firsts = []
        for _ in range(args.dash_loads):
            driver.get(url)
            firsts.append(wait_page(driver, DONE, None))
        driver.find_element("css selector", '#nav button[data-view="zones"]').click()
        # Searches: a prefix typed → its 100 zones (one full page) shown.
        searches = []
        step = max(1, (count // 100) // args.dash_searches)
        for i in range(args.dash_searches):
            prefix = "z%04d" % ((i * step) % max(1, count // 100))
            t0 = driver.execute_script(SEARCH, prefix)
            searches.append(wait_page(driver, DONE, None) - t0)
        # Broad prefixes (every zone, a tenth of them), each after one that
        # finds nothing, so the rows shown are the new answer's.
        broad = ([], [])
        wide = ("z", names[-1][:3])
        for _ in range(args.dash_wide):
            for prefix, took in zip(wide, broad):
                driver.execute_script(TYPE, "y")
                wait_page(driver, "return document.querySelectorAll('#zones tbody tr').length"
                          " === 0 ? performance.now() : null;", None)
                t0 = driver.execute_script(SEARCH, prefix)
                took.append(wait_page(driver, DONE, None) - t0)
        driver.execute_script(TYPE, "")
        row = '#zones tr[data-zone="%s"] button.link' % first_zone["domain"]
        wait_page(driver, "return document.querySelector(arguments[0]) ? performance.now() : null;",
                  row)
        # One idle minute with a zone open: what crosses the wire.
        driver.find_element("css selector", row).click()
        time.sleep(3.0)
        network_log(driver)
        load0 = os.getloadavg()[0]
        time.sleep(args.dash_idle)
        idle = network_log(driver)
        load1 = os.getloadavg()[0]
        # …then a change made elsewhere reaches the page.
        whm.post("/api/dns", {"domain": "a-new.dash.bench."})
        t0 = time.perf_counter()
        wait_page(driver, "return document.getElementById('t-zones').textContent === "
                  "arguments[0] ? performance.now() : null;", str(count + 1), 10)
        change_s = time.perf_counter() - t0
        before = old_poll_bytes(whm, first_zone["id"])
    finally:
        if driver is not None:
            driver.quit()
        node.stop()
        whm.stop()
    idle_bytes = sum(b for _, b in idle) * 60.0 / args.dash_idle
    kinds = {}
    for u, b in idle:
        path = u.split("//", 1)[-1].split("/", 1)[-1].split("?")[0]
        kinds[path] = kinds.get(path, 0) + 1
    lists = sum(n for k, n in kinds.items() if k in ("api/dns", "api/dns/servers",
                                                     "api/dns/cluster/statistics")
                or k.startswith("api/dns/") and k.split("/")[2].isdigit())
    what = ", ".join("%d× /%s" % (n, k) for k, n in sorted(kinds.items()))
    rows.append(("dashboard with %d zones (created through POST /api/dns in %.0f s; one node "
                 "joined, synced in %.0f s): first screen, navigation → the first page of 100 "
                 "zones in the table, headless Chromium, median of %d loads (max %.0f ms)"
                 % (count, create_s, sync_s, len(firsts), max(firsts)),
                 ms(pct(firsts, 50)), "≤ 1 s", ""))
    rows.append(("… a search: a zone-name prefix typed → its 100 zones shown (GET "
                 "/api/dns?q=, after a %d ms pause for typing), median of %d (max %.0f ms)"
                 % (60, len(searches), max(searches)),
                 ms(pct(searches, 50)), "≤ 200 ms", ""))
    rows.append(("… a search by a prefix that matches every zone (\"z\", %d zones) / "
                 "\"%s\" (%d zones), the first 100 shown; median of %d each (max %.0f / %.0f ms)"
                 % (count, wide[1], sum(n.startswith(wide[1]) for n in names), len(broad[0]),
                    max(broad[0]), max(broad[1])),
                 "%s / %s" % (ms(pct(broad[0], 50)), ms(pct(broad[1], 50))), "≤ 200 ms", ""))
    rows.append(("… bytes received (headers and bodies, DevTools' encodedDataLength) in one "
                 "idle minute, a zone open (%d requests in %.0f s: %s; %d list requests; "
                 "status answer %d bytes with 1 node; load average %.1f → %.1f); a zone "
                 "created elsewhere then showed in the total in %.1f s"
                 % (len(idle), args.dash_idle, what, lists, status_bytes, load0, load1,
                    change_s),
                 "%.1f KB" % (idle_bytes / 1000.0), "≤ 100 KB",
                 "every 2 s before (status, statistics, servers, events, the page of zones "
                 "and the open zone, read once each here × 30): %.0f KB" % (before * 30 / 1000.0)))


# --- the production mode -------------------------------------------------------

GMYSQL_SCHEMA = "/usr/share/pdns-backend-mysql/schema/schema.mysql.sql"


class ProductionCluster(clusterlib.Cluster):
    """The three-node cluster of Controller, in the production mode: the
    controller's store in a MariaDB database and every node's PowerDNS on
    gmysql, each in a database of its own, all on one private MariaDB
    server ('server', a tests/integration/mariadb.py MariaDB)."""

    def __init__(self, base, server, n=3):
        self.server = server
        db = server.create_database("whm")
        secret = os.path.join(os.path.abspath(base), "mysql-password")
        os.makedirs(os.path.dirname(secret), exist_ok=True)
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(db["password"] + "\n")
        conf = dict(WHM_CONFIG)
        conf.update({"store": "mysql", "mysql-host": db["host"], "mysql-port": db["port"],
                     "mysql-user": db["user"], "mysql-password-file": secret,
                     "mysql-database": db["dbname"], "store-path": None})
        super().__init__(base, n=n, whm_config=conf, start=False)
        try:
            self.start()
        except BaseException:
            self.stop()
            raise

    def new_node(self, name=None):
        node = super().new_node(name)
        node.extra_config.update(gmysql_config(self.server, "pdns_" + node.name))
        node.write_config()
        return node


def gmysql_config(server, dbname):
    """agent.conf keys for a node whose PowerDNS keeps its data in a new
    database 'dbname' of 'server'."""
    db = server.create_database(dbname)
    return {"backend": "gmysql", "gmysql-host": db["host"], "gmysql-port": db["port"],
            "gmysql-user": db["user"], "gmysql-password": db["password"],
            "gmysql-dbname": db["dbname"]}


def production_figures(args, tmp, rows):
    """The figures of the latency and throughput sections and the agent's
    full sync, measured side by side on the defaults (SQLite store, gsqlite3
    nodes) and in the production mode (MariaDB store, gmysql nodes): two
    clusters of 3 nodes started together, each figure taken on one and then
    on the other."""
    import mariadb
    base = os.path.join(tmp, "production")
    server = mariadb.MariaDB(os.path.join(base, "mariadb"))
    modes = ("defaults", "production")
    clusters, nodes = {}, []
    lat, rate, sync = {}, {}, {}
    try:
        server.start()
        clusters["defaults"] = clusterlib.Cluster(os.path.join(base, "defaults"), n=3,
                                                  whm_config=WHM_CONFIG)
        clusters["production"] = ProductionCluster(os.path.join(base, "prod"), server)
        for m in modes:
            lat[m] = controller_latency(clusters[m], args.changes)
        for m in modes:
            c = clusters[m]
            client = whm_client(c.whm)
            zones = setup_zones(client, args.load_zones, "load")
            client.close()
            c.wait_converged(timeout=120)
            acks, errors, elapsed, _, lats, _ = record_load(c.whm, zones, args.threads,
                                                            args.load_seconds)
            rate[m] = (acks / elapsed, errors, lats)
        for m in modes:
            clusters[m].stop()
        clusters.clear()
        for m in modes:
            config = gmysql_config(server, "fresh") if m == "production" else {}
            node = harness.Node(os.path.join(base, "fresh-" + m), name="fresh-" + m,
                                config=config)
            nodes.append(node)
            node.start()
            time.sleep(0.5)
            sync[m] = full_sync(node, args.prod_zones)
            node.stop()
    finally:
        for c in clusters.values():
            c.stop()
        for node in nodes:
            node.stop()
        server.stop()

    side = "defaults (SQLite store, gsqlite3 nodes), same run: "
    (d, d_stale), (p, p_stale) = lat["defaults"], lat["production"]

    def slow(times, stale):
        n = sum(1 for t in times if t > 1000)
        return "%d over 1 s, %d of them an old answer kept in PowerDNS's packet cache" % (
            n, stale) if n else "none over 1 s"
    rows.append(("production mode (controller's store on MariaDB, nodes' PowerDNS on gmysql, "
                 "one MariaDB server): change acknowledged by the controller → answered by all "
                 "3 nodes, p50 (%d record changes, POST/PUT without ?wait; %s)"
                 % (len(p), slow(p, p_stale)),
                 ms(pct(p, 50)), "", side + "p50 %s (%s)" % (ms(pct(d, 50)), slow(d, d_stale))))
    rows.append(("… p99 (max %s)" % ms(max(p)), ms(pct(p, 99)), "",
                 side + "p99 %s (max %s)" % (ms(pct(d, 99)), ms(max(d)))))
    (pr, pe, pl), (dr, de, dl) = rate["production"], rate["defaults"]
    rows.append(("production mode: acknowledged record changes through the API (%d threads, "
                 "keep-alive, PUT /api/dns/records/:id over %d zones for %.0f s, 3 nodes "
                 "joined; ack p50 %s, p99 %s%s)"
                 % (args.threads, args.load_zones, args.load_seconds, ms(pct(pl, 50)),
                    ms(pct(pl, 99)), "; %d failed requests" % pe if pe else ""),
                 "%.0f changes/s (%.2f× the defaults)" % (pr, pr / dr if dr else 0), "",
                 side + "%.0f changes/s (ack p50 %s, p99 %s%s)"
                 % (dr, ms(pct(dl, 50)), ms(pct(dl, 99)),
                    "; %d failed requests" % de if de else "")))
    (p_req, p_all, p_ans, p_peak), (d_req, d_all, d_ans, d_peak) = (sync["production"],
                                                                    sync["defaults"])
    n = args.prod_zones
    rows.append(("production mode: a fresh gmysql node's full sync, sync-batch of %d zones × 10 "
                 "records (request; agent peak %.1f MB)" % (n, p_peak / 1024),
                 "%.2f s (%.1f× gsqlite3)" % (p_req, p_req / d_req if d_req else 0), "≤ 2× gsqlite3",
                 "gsqlite3 node, same run: %.2f s (agent peak %.1f MB)" % (d_req, d_peak / 1024)))
    rows.append(("… → every zone answered (%d/%d verified by query)" % (p_ans, n),
                 "%.2f s" % p_all, "",
                 "gsqlite3 node, same run: %.2f s (%d/%d answered)" % (d_all, d_ans, n)))


# --- RFC 2136 updates -----------------------------------------------------------


class UpdateClient:
    """One UDP socket that sends TSIG-signed updates to 'port' and reads
    the rcode of each answer (dnspython checks the answer's TSIG)."""

    def __init__(self, port, key):
        self.port = port
        self.key = key
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def replace(self, zone, name, value):
        u = dns.update.UpdateMessage(zone)
        u.replace(name, 300, "A", value)
        u.use_tsig(self.key)
        r = dns.query.udp(u, "127.0.0.1", port=self.port, timeout=5.0, sock=self.sock)
        return r.rcode() == 0

    def close(self):
        self.sock.close()


def update_latency(port, key, zone, answer_ports, changes):
    """Update → answered at every port in 'answer_ports', 'changes' times
    one after the other: the latencies in ms."""
    client = UpdateClient(port, key)
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in answer_ports]
    lat = []
    try:
        for i in range(changes):
            value = ip_for(i + 1)
            t0 = time.perf_counter()
            if not client.replace(zone, "www", value):
                raise RuntimeError("update %d of %s refused" % (i, zone))
            poll_all(socks, answer_ports, "www." + zone, "A", [value])
            lat.append((time.perf_counter() - t0) * 1000)
    finally:
        client.close()
        for s in socks:
            s.close()
    return lat


def update_throughput(tmp, port, key_name, secret, zones, clients, seconds):
    """dnsperf in update mode (-u) with 'clients' clients signing every
    update with TSIG (hmac-sha256), each update replacing one A record of
    one of 'zones' in turn, for 'seconds': (updates/s answered NOERROR,
    updates not answered NOERROR). dnsperf rather than Python clients, so
    that the clients' own signing does not bound the figure."""
    path = os.path.join(tmp, "updates-%d.txt" % port)
    with open(path, "w") as f:
        for i in range(50000):
            f.write("%s\ndelete load%d A\nadd load%d 300 A %s\nsend\n"
                    % (zones[i % len(zones)], i % 16, i % 16, ip_for(i + 1)))
    out = subprocess.run(
        ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-u", "-d", path, "-c", str(clients),
         "-q", str(clients * 4), "-l", str(seconds), "-t", "5",
         "-y", "hmac-sha256:%s:%s" % (key_name, secret)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=seconds + 60)
    rate = noerror = completed = sent = 0
    for line in out.stdout.splitlines():
        words = line.split()
        if line.strip().startswith("Updates per second:"):
            rate = float(words[-1])
        elif line.strip().startswith("Updates sent:"):
            sent = int(words[2])
        elif line.strip().startswith("Response codes:") and "NOERROR" in words:
            noerror = int(words[words.index("NOERROR") + 1])
        elif line.strip().startswith("Updates completed:"):
            completed = int(words[2])
    if sent == 0:
        raise RuntimeError("dnsperf sent nothing: %s" % out.stdout[-2000:])
    return rate * noerror / completed if completed else 0.0, sent - noerror


def dnsupdate_figures(args, tmp, rows):
    """RFC 2136 updates signed with TSIG to the controller's DNS listener →
    answered by all 3 nodes, and updates/s with 'args.threads' signing
    clients; anchor: one pdns_server with dnsupdate=yes, the same clients."""
    port = harness.free_ports(1, udp=(0,))[0]
    conf = dict(WHM_CONFIG, **{"dns-listen-address": "127.0.0.1", "dns-listen-port": port})
    c = clusterlib.Cluster(os.path.join(tmp, "dnsupdate"), n=3, whm_config=conf)
    zones = ["u%d.update.bench." % i for i in range(max(args.threads, 8))]
    try:
        client = whm_client(c.whm)
        for z in zones:
            call(client, "POST", "/api/dns?wait=all", {"domain": z})
        k = call(client, "POST", "/api/dns/tsig-keys", {"name": "bench-update."})
        call(client, "PUT", "/api/dns/update-policies/bench-update.",
             {"rules": [{"zone": z, "match": "zone", "types": ["A"]} for z in zones]})
        client.close()
        key = dns.tsig.Key("bench-update.", k["secret"], "hmac-sha256")
        lat = update_latency(port, key, zones[0], [n.dns_port for n in c.nodes], args.changes)
        rate, errors = update_throughput(tmp, port, "bench-update.", k["secret"], zones,
                                         args.threads, args.load_seconds)
    finally:
        c.stop()

    p = pdns_plain.Pdns(os.path.join(tmp, "dnsupdate-anchor"),
                        extra={"dnsupdate": "yes", "allow-dnsupdate-from": "127.0.0.0/8"})
    try:
        p.start()
        secret = k["secret"]
        p.api("POST", "/tsigkeys", {"name": "bench-update", "algorithm": "hmac-sha256",
                                     "key": secret})
        for z in zones:
            p.api("POST", "/zones", {"name": z, "kind": "Native",
                                     "nameservers": ["ns1.example.net."]})
            p.api("PUT", "/zones/%s/metadata/TSIG-ALLOW-DNSUPDATE" % z,
                  {"metadata": ["bench-update"]})
        a_lat = update_latency(p.dns_port, key, zones[0], [p.dns_port], args.changes)
        a_rate, a_errors = update_throughput(tmp, p.dns_port, "bench-update.", secret, zones,
                                             args.threads, args.load_seconds)
    finally:
        p.stop()
    anchor = "pdns_server dnsupdate=yes (gsqlite3), update → answered: p50 %s, p99 %s" % (
        ms(pct(a_lat, 50)), ms(pct(a_lat, 99)))
    rows.append(("RFC 2136 update (TSIG hmac-sha256) → answered by all 3 nodes, p50 (%d "
                 "updates)" % len(lat), ms(pct(lat, 50)), "≤ 10 ms", anchor))
    rows.append(("… p99 (max %s)" % ms(max(lat)), ms(pct(lat, 99)), "≤ 50 ms", anchor))
    rows.append(("RFC 2136 updates answered NOERROR with %d TSIG-signing clients (dnsperf -u) "
                 "over %d zones for %.0f s (UDP)%s" % (args.threads, len(zones),
                                                       args.load_seconds,
                                                       "; %d refused or lost" % errors
                                                       if errors else ""),
                 "%.0f updates/s" % rate, "≥ 1,000/s",
                 "pdns_server dnsupdate=yes, same clients: %.0f updates/s%s"
                 % (a_rate, "; %d refused or lost" % a_errors if a_errors else "")))


SECTIONS = ("agent", "latency", "throughput", "health", "memory", "dnssec", "history",
            "pdnsapi", "dnsupdate", "secondary", "supervise", "slowclients", "verify",
            "production", "scale", "dashboard", "xfr", "steer")
CONTROLLER = ("latency", "throughput", "health", "memory", "dnssec", "history", "pdnsapi",
              "dnsupdate", "secondary")


def parse_only(text):
    out = []
    for part in text.split(","):
        part = part.strip()
        if part in ("", "all"):
            out.extend(SECTIONS)
        elif part == "controller":
            out.extend(CONTROLLER)
        elif part in SECTIONS:
            out.append(part)
        else:
            raise argparse.ArgumentTypeError(
                "unknown section %r (all, agent, controller, supervise, slowclients, verify, "
                "production, scale, dashboard, "
                "%s)"
                % (part, ", ".join(CONTROLLER)))
    return [s for s in SECTIONS if s in out]


QUICK = {"zones": 500, "rounds": 50, "changes": 40, "repl_samples": 3,
         "repl_plain_samples": 0, "load_zones": 40, "load_seconds": 2.0,
         "health_nodes": 20, "health_dead": 4, "sweeps": 2, "mem_zones": 3000,
         "sign_zones": 50, "signed_changes": 30, "kills": 3, "slow_requests": 200,
         "verify_period": 3, "drift_zones": 50, "drift_edits": 3, "verify_zones": [2000],
         "verify_cost_period": 5, "prod_zones": 500, "scale_zones": 5000,
         "scale_pass_period": 10, "history_versions": 200, "history_lists": 10,
         "history_rollbacks": 20, "dash_zones": 3000, "dash_idle": 10.0,
         "secondary_changes": 10,
         "xfr_changes": 20, "xfr_zones": 200, "xfr_records": 2000, "xfr_runs": 5,
         "steer_seconds": 3,
         "failovers": 3}


def dnsperf_run(port, name, seconds, rate=None):
    """dnsperf at 'name' A on 127.0.0.1:'port' for 'seconds', as fast as it
    can or at 'rate' queries a second: (qps, p99 ms, answered share).
    Latencies from dnsperf -v, one line per query, written
    to a file and read afterwards: read from a pipe while dnsperf runs, they
    cost this process a core's share that the server under test then lacks
    (the static name measured at half its rate)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("%s A\n" % name)
        data = f.name
    out_path = None
    try:
        out_fd, out_path = tempfile.mkstemp(suffix=".out")
        with os.fdopen(out_fd, "w") as out:
            load = ["-c", "4", "-T", "2"] if rate is None else ["-c", "1", "-T", "1",
                                                                 "-Q", str(rate)]
            p = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", data,
                                "-l", str(seconds), "-v"] + load,
                               stdout=out, stderr=subprocess.PIPE, text=True,
                               timeout=seconds + 60)
        with open(out_path) as f:
            lines = f.read().splitlines()
    finally:
        os.unlink(data)
        if out_path is not None:
            os.unlink(out_path)
    qps = sent = lost = None
    lat = []
    for line in lines:
        words = line.split()
        if line.strip().startswith("Queries per second:"):
            qps = float(words[-1])
        elif line.strip().startswith("Queries sent:"):
            sent = int(words[-1])
        elif line.strip().startswith("Queries lost:"):
            lost = int(words[2])
        elif line.startswith(">") and words:
            try:
                lat.append(float(words[-1]) * 1000)
            except ValueError:
                pass
    if qps is None:
        raise RuntimeError("dnsperf: no summary: %s %s" % ("\n".join(lines[-10:]),
                                                            p.stderr[-500:]))
    return qps, pct(lat, 99) if lat else None, (1 - lost / sent) if sent else 0


def steer_figures(args, tmp, rows):
    for shared in (False, True):
        steer_node_figures(args, tmp, rows, shared)
    steer_isolation_figures(args, tmp, rows)
    steer_failover_figures(args, tmp, rows)


def steer_isolation_figures(args, tmp, rows, rate=2000, seconds=5):
    """A static name asked 'rate' times a second, its p99 latency alone and
    while a flood of queries PowerDNS answers uncached runs beside it: a
    steered name (a Lua state per query, the default), or random names that
    do not exist. With the node's default distributor threads, and with
    one, where the receiving thread answers uncached queries itself."""
    names = os.path.join(tmp, "random-names.txt")
    with open(names, "w") as f:
        for _ in range(100000):
            f.write("r%016x.steer.bench. A\n" % random.getrandbits(64))
    steered = os.path.join(tmp, "steered-name.txt")
    with open(steered, "w") as f:
        f.write("steered.steer.bench. A\n")
    figures = {}
    for threads in (0, 1):
        node = harness.Node(os.path.join(tmp, "isolation-%d" % threads), name="isolation",
                            config={"pdns-distributor-threads": threads})
        try:
            node.start()
            node.push_ok("steer.bench.", 1, 1, zone_records(1) + [
                harness.rec("static", "A", "192.0.2.10", ttl=60),
                {"name": "steered", "type": "LUA", "ttl": 60,
                 "content": "A \"pickwrandom({{30,'192.0.2.10'},{70,'192.0.2.11'}})\""}])
            static = "static.steer.bench."
            harness.dns_query("127.0.0.1", node.dns_port, static, "A")
            for flood, data in ((None, None), ("steered", steered), ("random", names)):
                f = None
                if data is not None:
                    f = subprocess.Popen(["dnsperf", "-s", "127.0.0.1", "-p", str(node.dns_port),
                                          "-d", data, "-l", str(seconds + 2), "-c", "4",
                                          "-T", "1", "-q", "200"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1)
                try:
                    figures[threads, flood] = dnsperf_run(node.dns_port, static, seconds, rate)
                finally:
                    if f is not None:
                        f.wait(timeout=seconds + 30)
        finally:
            node.stop()
    what = {None: "alone", "steered": "while a steered name (a Lua state per query) is flooded",
            "random": "while random names that do not exist are flooded"}
    for flood in (None, "steered", "random"):
        default, one = figures[0, flood], figures[1, flood]
        rows.append(("a static name at %d queries/s, %s: p99 latency (answered)"
                     % (rate, what[flood]),
                     "%.2f ms (%.1f %%)" % (default[1], 100 * default[2]),
                     "", "one distributor thread: %.2f ms (%.1f %%)" % (one[1], 100 * one[2])))


def steer_failover_figures(args, tmp, rows, interval=1):
    """A failover policy on three nodes (health checks every 'interval'
    seconds): a loopback TCP listener the check connects to is closed →
    time until no node answers its target; opened again → time until every
    node answers it again. 'args.failovers' rounds."""
    c = clusterlib.Cluster(os.path.join(tmp, "steer-failover"), n=3, whm_config=WHM_CONFIG,
                           node_config={"lua-health-checks-interval": interval})
    listener = None

    def listen(port=0):
        sk = socket.socket()
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sk.bind(("127.0.0.1", port))
        sk.listen(64)
        return sk

    def all_nodes(name, want, limit):
        """Seconds until every node answers 'want' (queried every 10 ms)."""
        t0 = time.perf_counter()
        deadline = time.monotonic() + limit
        pending = list(c.nodes)
        while pending:
            pending = [n for n in pending
                       if harness.answer_texts(harness.dns_query("127.0.0.1", n.dns_port, name,
                                                                 "A"), name, "A") != want]
            if pending and time.monotonic() > deadline:
                raise RuntimeError("%s: not %s on every node after %.0f s" % (name, want, limit))
            if pending:
                time.sleep(0.01)
        return time.perf_counter() - t0

    try:
        listener = listen()
        port = listener.getsockname()[1]
        zid = c.create_zone("failover.bench")
        name = "f.failover.bench."
        c.whm.call("PUT", "/api/dns/%d/policies" % zid, {"name": "f", "type": "A", "policy": {
            "type": "failover", "order": "ordered", "targets": ["127.0.0.1", "127.0.0.2"],
            "check": {"tcp_port": port}, "when_all_down": "backup", "backup": "192.0.2.99",
            "ttl": 5}}, expect=200)
        c.answers(name, "A")            # the first query starts the checks
        all_nodes(name, ["127.0.0.1"], 30)
        down, up = [], []
        for _ in range(args.failovers):
            listener.close()
            down.append(all_nodes(name, ["192.0.2.99"], 30))
            listener = listen(port)
            up.append(all_nodes(name, ["127.0.0.1"], 30))
        rows.append(("failover: a target's TCP listener stops → no node of 3 answers it, p50 "
                     "(%d stops, checks every %d s; max %.2f s)" % (len(down), interval, max(down)),
                     "%.2f s" % pct(down, 50), "≤ %d s (2 check intervals + 1 s)" % (2 * interval + 1),
                     "starts again → every node answers it: p50 %.2f s, max %.2f s"
                     % (pct(up, 50), max(up))))
    finally:
        if listener is not None:
            listener.close()
        c.stop()


def steer_node_figures(args, tmp, rows, shared):
    """One node serves a static name and a steered one (a weighted LUA
    record, as the controller pushes a routing policy) in the same zone;
    dnsperf measures each on its own, in rounds (static, steered, then
    steered, static in the next: a drift of the machine's speed weighs on
    both), and the round of the median ratio is reported. LUA answers are computed per
    query (PowerDNS does not keep them in its packet cache). With the
    shared state a third name, a LUA record that returns a constant, is
    measured in the same rounds: the rate of PowerDNS's LUA path itself,
    whatever code a policy compiles to, the ceiling of every policy."""
    node = harness.Node(os.path.join(tmp, "steer-%d" % shared), name="steer",
                        config={"lua-shared-state": "yes" if shared else "no"})
    mode = "lua-shared-state = %s" % ("yes" if shared else "no")
    rounds = 3 if shared else 1
    try:
        node.start()
        recs = zone_records(1) + [
            harness.rec("static", "A", "192.0.2.10", ttl=60),
            {"name": "steered", "type": "LUA", "ttl": 60,
             "content": "A \"pickwrandom({{30,'192.0.2.10'},{70,'192.0.2.11'}})\""},
            {"name": "floor", "type": "LUA", "ttl": 60, "content": "A \"'192.0.2.10'\""},
        ]
        node.push_ok("steer.bench.", 1, 1, recs)
        labels = ("static", "steered", "floor") if shared else ("static", "steered")
        runs = []
        for i in range(rounds):
            figures = {}
            for label in labels if i % 2 == 0 else reversed(labels):
                name = "%s.steer.bench." % label
                harness.dns_query("127.0.0.1", node.dns_port, name, "A")
                figures[label] = dnsperf_run(node.dns_port, name, args.steer_seconds)
            runs.append((figures["steered"][0] / figures["static"][0], figures))
        ratios = sorted(runs, key=lambda r: r[0])
        ratio, figures = ratios[len(ratios) // 2]
        s_qps, s_p99, _ = figures["static"]
        l_qps, l_p99, l_ok = figures["steered"]
        goal = "≥ 50 % of static"
        if rounds > 1:
            goal += "; rounds: " + ", ".join("%.0f %%" % (100 * r[0]) for r in runs)
        rows.append(("steered name (weighted LUA record, %s), one node, dnsperf %d s per name, "
                     "the median of %d round%s: queries/s" % (mode, args.steer_seconds, rounds,
                                                             "s" if rounds > 1 else ""),
                     "%.0f (%.0f %% of the static name's %.0f)" % (l_qps, 100 * ratio, s_qps),
                     goal, "static name: %.0f q/s" % s_qps))
        if s_p99 is not None and l_p99 is not None:
            rows.append(("steered name (%s): p99 latency" % mode, "%.2f ms" % l_p99, "",
                         "static name: %.2f ms" % s_p99))
        if shared:
            floors = sorted((r[1]["floor"][0] / r[1]["static"][0], r[1]["floor"][0]) for r in runs)
            share, qps = floors[len(floors) // 2]
            rows.append(("a LUA record that returns a constant (%s), the same rounds, the "
                         "median: queries/s (PowerDNS's LUA path alone)" % mode,
                         "%.0f (%.0f %% of static)" % (qps, 100 * share), "",
                         "rounds: " + ", ".join("%.0f %%" % (100 * f[0]) for f in floors)))
        answered = min(r[1]["steered"][2] for r in runs)
        rows.append(("steered name (%s): answered (the least of the runs)" % mode,
                     "%.2f %%" % (100 * answered), "100 %", ""))
    finally:
        node.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", type=parse_only, default=list(SECTIONS),
                    help="comma-separated sections: all (default), agent, controller, "
                         + ", ".join(CONTROLLER))
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, a smoke check; bench/results.md is left alone "
                         "unless --out is given")
    ap.add_argument("--zones", type=int, default=10000, help="zones in the full sync")
    ap.add_argument("--rounds", type=int, default=500, help="changes in the agent latency test")
    ap.add_argument("--anchor-zones", type=int, default=0,
                    help="zones for the PowerDNS API anchor (default: same as --zones)")
    ap.add_argument("--changes", type=int, default=300,
                    help="changes in the controller latency test")
    ap.add_argument("--repl-samples", type=int, default=20,
                    help="PowerDNS primary→secondary changes with NOTIFY")
    ap.add_argument("--repl-plain-samples", type=int, default=10,
                    help="PowerDNS primary→secondary changes by PATCH alone")
    ap.add_argument("--repl-plain-budget", type=float, default=120.0,
                    help="seconds at most for the PATCH-alone samples")
    ap.add_argument("--threads", type=int, default=8, help="client threads for the load")
    ap.add_argument("--load-zones", type=int, default=200, help="zones under load")
    ap.add_argument("--load-seconds", type=float, default=10.0, help="length of the load")
    ap.add_argument("--health-nodes", type=int, default=100, help="registered nodes")
    ap.add_argument("--health-dead", type=int, default=10,
                    help="of which do not answer (half refuse, half hang)")
    ap.add_argument("--sweeps", type=int, default=5, help="health sweeps timed")
    ap.add_argument("--mem-zones", type=int, default=100000, help="zones in the memory figure")
    ap.add_argument("--sign-zones", type=int, default=1000, help="zones signed at once")
    ap.add_argument("--signed-changes", type=int, default=300,
                    help="record changes in a signed zone")
    ap.add_argument("--history-versions", type=int, default=1000,
                    help="changes of one zone in the history section")
    ap.add_argument("--history-lists", type=int, default=50,
                    help="listings of its versions timed")
    ap.add_argument("--history-rollbacks", type=int, default=100,
                    help="rollbacks timed until every node answers")
    ap.add_argument("--failovers", type=int, default=10,
                    help="target stops timed in the steer section")
    ap.add_argument("--secondary-changes", type=int, default=50,
                    help="changes on the external primary in the secondary section")
    ap.add_argument("--kills", type=int, default=20,
                    help="pdns_server kills in the supervise section")
    ap.add_argument("--slow-requests", type=int, default=1000,
                    help="GET /health timed in the slowclients section, per case")
    ap.add_argument("--verify-period", type=int, default=10,
                    help="agent verify-interval (s) in the drift figure")
    ap.add_argument("--drift-zones", type=int, default=1000, help="zones in the drift figure")
    ap.add_argument("--drift-edits", type=int, default=20,
                    help="edits behind an agent, each timed until repaired")
    ap.add_argument("--verify-zones", type=lambda t: [int(x) for x in t.split(",")],
                    default=[100000], help="zone counts for the verification cost (comma list)")
    ap.add_argument("--verify-cost-period", type=int, default=60,
                    help="verify-interval (s) while the verification cost is measured")
    ap.add_argument("--prod-zones", type=int, default=3000,
                    help="zones in the production section's full sync")
    ap.add_argument("--scale-zones", type=int, default=1000000,
                    help="zones in the scale section")
    ap.add_argument("--scale-verify-period", type=int, default=3600,
                    help="agent verify-interval (s) in the scale section")
    ap.add_argument("--scale-pass-period", type=int, default=180,
                    help="verify-interval (s) of the timed verification pass at scale")
    ap.add_argument("--dash-zones", type=int, default=100000,
                    help="zones in the dashboard section")
    ap.add_argument("--dash-loads", type=int, default=5, help="dashboard loads timed")
    ap.add_argument("--dash-searches", type=int, default=10, help="dashboard searches timed")
    ap.add_argument("--dash-wide", type=int, default=5,
                    help="dashboard searches timed for each broad prefix")
    ap.add_argument("--dash-idle", type=float, default=60.0,
                    help="seconds of the idle dashboard whose traffic is measured")
    ap.add_argument("--xfr-changes", type=int, default=100,
                    help="changes timed until the BIND secondary answers them")
    ap.add_argument("--xfr-zones", type=int, default=1000,
                    help="zones added, timed until the BIND secondary serves them all")
    ap.add_argument("--xfr-records", type=int, default=10000,
                    help="records of the zone transferred through the transfer port")
    ap.add_argument("--xfr-runs", type=int, default=9,
                    help="transfers timed through the transfer port and straight")
    ap.add_argument("--steer-seconds", type=int, default=10,
                    help="seconds of dnsperf per name in the steer figures")
    ap.add_argument("--keep", action="store_true",
                    help="keep the working directory (logs of every process)")
    ap.add_argument("--out", default=None, help="where to write the table "
                    "(default bench/results.md; with --quick, nowhere)")
    args = ap.parse_args()
    if args.quick:
        given = {a.split("=")[0].lstrip("-").replace("-", "_")
                 for a in sys.argv[1:] if a.startswith("--")}
        for k, v in QUICK.items():
            if k not in given:
                setattr(args, k, v)
    out = args.out or (None if args.quick else os.path.join(HERE, "results.md"))

    rows = []
    failed = []
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="yumna-bench-")
    ctl = Controller(tmp)
    try:
        for section in args.only:
            t0 = time.monotonic()
            print("bench: %s ..." % section, file=sys.stderr, flush=True)
            try:
                if section == "agent":
                    agent_figures(args, tmp, rows)
                elif section == "latency":
                    controller_latency_figures(args, ctl, tmp, rows)
                elif section == "throughput":
                    controller_throughput_figures(args, ctl, tmp, rows)
                elif section == "health":
                    controller_health_figures(args, tmp, rows)
                elif section == "memory":
                    controller_memory_figures(args, tmp, rows)
                elif section == "dnssec":
                    dnssec_figures(args, ctl, tmp, rows)
                elif section == "history":
                    history_figures(args, ctl, tmp, rows)
                elif section == "pdnsapi":
                    pdnsapi_figures(args, ctl, tmp, rows)
                elif section == "dnsupdate":
                    dnsupdate_figures(args, tmp, rows)
                elif section == "secondary":
                    secondary_figures(args, tmp, rows)
                elif section == "supervise":
                    supervise_figures(args, tmp, rows)
                elif section == "slowclients":
                    slow_client_figures(args, tmp, rows)
                elif section == "verify":
                    verify_figures(args, tmp, rows)
                elif section == "production":
                    production_figures(args, tmp, rows)
                elif section == "scale":
                    scale_figures(args, tmp, rows)
                elif section == "dashboard":
                    dashboard_figures(args, tmp, rows)
                elif section == "xfr":
                    xfr_figures(args, tmp, rows)
                elif section == "steer":
                    steer_figures(args, tmp, rows)
            except Exception as e:      # the other sections still run
                traceback.print_exc()
                failed.append(section)
                rows.append(("%s: the measurement failed" % section,
                             "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:300]
                                         if str(e) else ""), "", ""))
            print("bench: %s done in %.0f s" % (section, time.monotonic() - t0),
                  file=sys.stderr, flush=True)
    finally:
        ctl.stop()
        if args.keep:
            print("bench: kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    lines = ["# yumna-dns benchmark results", "",
             "Measured by `make bench` on %s (%d cores), %s%s; sections: %s; %.0f s in all." % (
                 socket.gethostname(), os.cpu_count(),
                 time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 " (--quick: small sizes)" if args.quick else "",
                 ", ".join(args.only), time.monotonic() - started),
             "", "| figure | measured | goal | anchor (same run) |", "|---|---|---|---|"]
    lines += ["| %s | %s | %s | %s |" % r for r in rows]
    text = "\n".join(lines) + "\n"
    if out:
        with open(out, "w") as f:
            f.write(text)
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
