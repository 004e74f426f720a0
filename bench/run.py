#!/usr/bin/python3
"""yumna-dns benchmarks: every figure beside its anchor, measured in one run.

Starts real agents with their own pdns_server on 127.0.0.1 (ports chosen at
run time), measures, writes bench/results.md and prints the same table.

    make bench                      # everything, full size
    bench/run.py --zones 2000       # a smaller sync (anchor scaled to the same count)
"""
import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time

import dns.message
import dns.rdatatype
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
import harness  # noqa: E402


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


def wait_answer(sock, port, name, rtype, want, limit=5.0):
    """Query until the answer contains 'want'; returns when it did."""
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


def all_answered(port, names, want_rtype="A", window=128, limit=60.0):
    """Query every name over UDP, a window of queries in flight, asking again
    for what a lost datagram left unanswered; return how many answered
    NOERROR with data."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.3)
    ok = 0
    pending = {}
    queue = list(names)
    next_id = 0
    deadline = time.monotonic() + limit
    while (queue or pending) and time.monotonic() < deadline:
        while queue and len(pending) < window:
            name = queue.pop()
            q = dns.message.make_query(name, want_rtype)
            q.id = next_id = (next_id + 1) % 65536
            pending[q.id] = name
            sock.sendto(q.to_wire(), ("127.0.0.1", port))
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            queue.extend(pending.values())
            pending.clear()
            continue
        m = dns.message.from_wire(data)
        name = pending.pop(m.id, None)
        if name is not None and m.rcode() == 0 and m.answer:
            ok += 1
    sock.close()
    return ok


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zones", type=int, default=10000, help="zones in the full sync")
    ap.add_argument("--rounds", type=int, default=500, help="changes in the latency test")
    ap.add_argument("--anchor-zones", type=int, default=0,
                    help="zones for the PowerDNS API anchor (default: same as --zones)")
    ap.add_argument("--out", default=os.path.join(HERE, "results.md"))
    args = ap.parse_args()
    anchor_count = args.anchor_zones or args.zones

    rows = []
    with tempfile.TemporaryDirectory(prefix="yumna-bench-") as tmp:
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
                         "≤ 10 MB", "pdns_server beside it: %.1f MB"
                         % (rss_kb(c.pdns_pid()) / 1024)))
            rows.append(("agent resident memory, peak during the batch",
                         "%.1f MB" % (max(peak_kb, rss_kb(c.agent_pid, "VmHWM")) / 1024),
                         "≤ 10 MB", ""))
        finally:
            for n in nodes:
                n.stop()

    lines = ["# yumna-dns benchmark results", "",
             "Measured by `make bench` on %s (%d cores), %s." % (
                 socket.gethostname(), os.cpu_count(), time.strftime("%Y-%m-%d %H:%M UTC",
                                                                     time.gmtime())),
             "", "| figure | measured | goal | anchor (same run) |", "|---|---|---|---|"]
    lines += ["| %s | %s | %s | %s |" % r for r in rows]
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
