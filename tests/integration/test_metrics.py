"""GET /metrics on the controller and on the agent: strict Prometheus text
format 0.0.4, the project's naming conventions, and values that move when
changes are pushed, nodes stop and nodes refuse zones.

Also GET /api/dns/cluster/events, the controller's ring of recent events."""

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import harness
from harness import basic_records, zone_payload
from test_status_metrics import parse_metrics

pytest_plugins = ["cluster_fixtures"]


# The standard process collector's metrics, on both daemons, named as every
# Prometheus client library names them.
PROCESS_METRICS = {"process_cpu_seconds_total": "counter", "process_open_fds": "gauge",
                   "process_max_fds": "gauge", "process_virtual_memory_bytes": "gauge",
                   "process_resident_memory_bytes": "gauge",
                   "process_start_time_seconds": "gauge"}


def check_conventions(samples, types):
    """Names, suffixes and histogram shapes as Prometheus expects them; no
    series twice."""
    for name, values in samples.items():
        series = [labels for labels, _ in values]
        assert len(series) == len(set(series)), "%s: a series appears twice" % name
    for name in samples:
        assert name.startswith("yumna_") or name in PROCESS_METRICS, name
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        kind = types.get(name) or types.get(base)
        assert kind, "%s has no TYPE" % name
        if kind == "counter":
            assert name.endswith("_total"), "counter %s must end in _total" % name
        if kind == "histogram":
            assert name != base, "histogram sample %s without a suffix" % name
        assert "microseconds" not in name and "milliseconds" not in name, \
            "%s: durations are in seconds" % name
    for name, kind in types.items():
        if kind != "histogram":
            continue
        assert name.endswith("_seconds"), "histogram %s must be in seconds" % name
        buckets = {}
        for labels, v in samples.get(name + "_bucket", []):
            series = re.sub(r',?(?<![a-z_])le="[^"]*"', "", labels)
            le = re.search(r'(?<![a-z_])le="([^"]*)"', labels).group(1)
            buckets.setdefault(series, []).append((float(le), v))
        counts = {labels: v for labels, v in samples.get(name + "_count", [])}
        assert buckets, "histogram %s without buckets" % name
        for series, bs in buckets.items():
            values = [v for _, v in bs]
            assert values == sorted(values), "%s%s buckets not cumulative" % (name, series)
            assert bs[-1][0] == float("inf"), "%s%s has no +Inf bucket" % (name, series)
            key = series.replace("{}", "") if series in ("{}",) else series
            count = counts.get(key, counts.get(series))
            assert count == bs[-1][1], "%s%s: +Inf %s != count %s" % (name, series, bs[-1][1],
                                                                      count)


def value(samples, name, **labels):
    """The value of the one sample of 'name' carrying at least 'labels'."""
    found = []
    for lab, v in samples.get(name, []):
        if all('%s="%s"' % (k, val) in lab for k, val in labels.items()):
            found.append(v)
    assert len(found) == 1, "%s%s: %d samples" % (name, labels, len(found))
    return found[0]


def promtool_check(text):
    """'promtool check metrics' on an exposition: no parse error and no lint
    warning. promtool comes with scripts/deps.sh (Debian's prometheus)."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run scripts/deps.sh"
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=60)
    problems = (p.stdout + p.stderr).decode().strip()
    assert p.returncode == 0 and not problems, problems


def check_process_metrics(samples, types, pid):
    """The process_* metrics describe the process 'pid'."""
    for name, kind in PROCESS_METRICS.items():
        assert types.get(name) == kind, name
    with open("/proc/%d/stat" % pid) as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/stat") as f:
        btime = next(int(line.split()[1]) for line in f if line.startswith("btime "))
    started = btime + ticks / os.sysconf("SC_CLK_TCK")
    assert abs(value(samples, "process_start_time_seconds") - started) < 0.02
    assert value(samples, "process_start_time_seconds") <= time.time()
    assert 0 < value(samples, "process_resident_memory_bytes") <= \
        value(samples, "process_virtual_memory_bytes")
    assert 3 <= value(samples, "process_open_fds") <= value(samples, "process_max_fds")
    assert value(samples, "process_cpu_seconds_total") >= 0


def whm_metrics(c, token=None):
    r = c.whm.get("/metrics", token=token or c.whm.read_token)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    samples, types = parse_metrics(r.text)
    return samples, types


# --- the controller -----------------------------------------------------------------


def test_controller_metrics_are_strict_prometheus_text_with_a_read_token(shared_cluster):
    deadline = time.monotonic() + 5       # a node that just joined is checked at once
    while True:
        samples, types = whm_metrics(shared_cluster)
        ups = [v for _, v in samples.get("yumna_whm_node_up", [])]
        if ups == [1] * len(shared_cluster.nodes) or time.monotonic() > deadline:
            break
        time.sleep(0.05)

    check_conventions(samples, types)
    for name in ("yumna_whm_node_up", "yumna_whm_pushes_total", "yumna_whm_push_failures_total",
                 "yumna_whm_sync_queue_depth", "yumna_whm_node_zones",
                 "yumna_whm_push_duration_seconds", "yumna_whm_http_requests_total",
                 "yumna_whm_http_request_duration_seconds",
                 "yumna_whm_store_transaction_seconds"):
        assert name in types, name
    for n in shared_cluster.nodes:
        assert value(samples, "yumna_whm_node_up", node=n.name) == 1


def test_controller_metrics_need_a_token(shared_cluster):
    assert shared_cluster.whm.get("/metrics", token=None).status_code == 401
    assert shared_cluster.whm.get("/metrics", token="wrong").status_code == 401
    assert shared_cluster.whm.get("/metrics").status_code == 200      # admin works too


def test_pushes_api_requests_and_store_transactions_move_with_changes(shared_cluster):
    c = shared_cluster
    zid = c.create_zone("metrics-move.example")
    before, _ = whm_metrics(c)

    for i in range(5):
        c.add_record(zid, "h%d" % i, "A", "192.0.2.%d" % (i + 1))   # ?wait=all

    # A node's worker counts an acknowledgement after writing it to the
    # store, which is what ?wait=all waits for: wait for the count.
    def acked(samples, n):
        return value(samples, "yumna_whm_zones_acknowledged_total", node=n.name)

    deadline = time.monotonic() + 5
    while True:
        after, types = whm_metrics(c)
        if all(acked(after, n) >= acked(before, n) + 5 for n in c.nodes) or \
                time.monotonic() > deadline:
            break
        time.sleep(0.05)
    check_conventions(after, types)
    for n in c.nodes:
        pushed = sum(value(after, "yumna_whm_pushes_total", node=n.name, kind=k) -
                     value(before, "yumna_whm_pushes_total", node=n.name, kind=k)
                     for k in ("zone", "batch"))
        assert pushed >= 5, (n.name, pushed)
        assert value(after, "yumna_whm_zones_acknowledged_total", node=n.name) >= \
            value(before, "yumna_whm_zones_acknowledged_total", node=n.name) + 5
        assert value(after, "yumna_whm_push_duration_seconds_count", node=n.name) >= \
            value(before, "yumna_whm_push_duration_seconds_count", node=n.name) + 5
        assert value(after, "yumna_whm_node_zones", node=n.name, state="behind") == 0
    route = dict(route="/api/dns/:id/records", method="POST", code="201")
    created = value(after, "yumna_whm_http_requests_total", **route) - \
        sum(v for lab, v in before.get("yumna_whm_http_requests_total", [])
            if all('%s="%s"' % kv in lab for kv in route.items()))
    assert created == 5
    assert value(after, "yumna_whm_http_request_duration_seconds_count",
                 route="/api/dns/:id/records", method="POST", code="201") == \
        value(after, "yumna_whm_http_requests_total", **route)
    durable = dict(result="commit", durable="true")
    assert value(after, "yumna_whm_store_transaction_seconds_count", **durable) >= \
        value(before, "yumna_whm_store_transaction_seconds_count", **durable) + 5


def test_requests_refused_before_routing_count_as_unmatched(shared_cluster):
    before, _ = whm_metrics(shared_cluster)
    for _ in range(3):
        assert shared_cluster.whm.get("/no/such/route", token=None).status_code == 401

    after, _ = whm_metrics(shared_cluster)
    key = dict(route="unmatched", method="any", code="401")
    was = sum(v for lab, v in before.get("yumna_whm_http_requests_total", [])
              if all('%s="%s"' % kv in lab for kv in key.items()))
    assert value(after, "yumna_whm_http_requests_total", **key) >= was + 3


def test_both_daemons_pass_promtool_check_metrics(shared_cluster, node, zone_name):
    c = shared_cluster
    zid = c.create_zone("metrics-promtool.example")
    c.add_record(zid, "www", "A", "192.0.2.1")
    # A node of its own, so that both of its push histograms have samples.
    node.push_ok(zone_name, 1, 1, basic_records())
    r = node.sync_batch([zone_payload("b-" + zone_name, 1, 1, basic_records())])
    assert r.status_code == 200, r.text

    for text in (c.whm.get("/metrics").text, node.get("/metrics").text):
        parse_metrics(text)
        promtool_check(text)


def test_controller_exports_its_process_metrics(shared_cluster):
    samples, types = whm_metrics(shared_cluster)
    check_process_metrics(samples, types, shared_cluster.whm.proc.pid)
    assert value(samples, "yumna_whm_build_info") == 1


def test_agent_counts_the_soa_the_controller_leaves_out(shared_cluster):
    c = shared_cluster
    zid = c.create_zone("metrics-records.example")
    for i in range(3):
        c.add_record(zid, "r%d" % i, "A", "192.0.2.%d" % (i + 1))   # ?wait=all
    c.wait_converged()
    whm, _ = whm_metrics(c)
    soas = value(whm, "yumna_whm_zones")
    for n in c.nodes:
        agent, types = parse_metrics(n.get("/metrics").text)
        assert value(agent, "yumna_agent_zones") == soas
        assert value(agent, "yumna_agent_records_with_soa") == \
            value(whm, "yumna_whm_records") + soas
        assert value(agent, "yumna_agent_records") == \
            value(agent, "yumna_agent_records_with_soa")      # the deprecated name stays


def test_a_stopped_node_is_down_and_behind_in_metrics_and_events(shared_cluster):
    c = shared_cluster
    victim = c.nodes[2]
    zid = c.create_zone("metrics-down.example")
    last = c.whm.get("/api/dns/cluster/events").json()["last"]
    harness.sigstop(victim.proc.pid)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            samples, _ = whm_metrics(c)
            if value(samples, "yumna_whm_node_up", node=victim.name) == 0:
                break
            time.sleep(0.1)
        assert value(samples, "yumna_whm_node_up", node=victim.name) == 0
        assert value(samples, "yumna_whm_node_reachable", node=victim.name) == 0
        c.add_record(zid, "late", "A", "192.0.2.99", wait=False)
        samples, _ = whm_metrics(c)
        assert value(samples, "yumna_whm_node_zones", node=victim.name, state="behind") >= 1
        for n in c.nodes[:2]:
            assert value(samples, "yumna_whm_node_up", node=n.name) == 1
        time.sleep(1.2)         # the lag is in whole seconds: let it reach one
        samples, _ = whm_metrics(c)
        status = c.whm.get("/api/dns/cluster/status").json()["nodes"]
        lag = {n["nodeId"]: n["lag_seconds"] for n in status}
        assert value(samples, "yumna_whm_node_lag_seconds", node=victim.name) >= 1
        for n in c.nodes:       # the same number, read a moment apart
            assert abs(value(samples, "yumna_whm_node_lag_seconds", node=n.name) -
                       lag[n.server_id]) <= 1, (n.name, lag)
        events = c.whm.get("/api/dns/cluster/events", params={"since": last}).json()["events"]
        assert any(e["kind"] == "node.down" and e["node"] == victim.name for e in events), events
    finally:
        victim.proc.send_signal(signal.SIGCONT)
    c.wait_all_nodes("late.metrics-down.example.", "A", ["192.0.2.99"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        samples, _ = whm_metrics(c)
        if value(samples, "yumna_whm_node_zones", node=victim.name, state="behind") == 0:
            break
        time.sleep(0.1)
    assert value(samples, "yumna_whm_node_up", node=victim.name) == 1
    assert value(samples, "yumna_whm_node_zones", node=victim.name, state="behind") == 0
    assert value(samples, "yumna_whm_node_lag_seconds", node=victim.name) == 0
    events = c.whm.get("/api/dns/cluster/events", params={"since": last}).json()["events"]
    kinds = [e["kind"] for e in events if e.get("node") == victim.name]
    assert kinds.index("node.down") < len(kinds) - 1 - kinds[::-1].index("node.up"), kinds


def test_a_zone_the_node_refuses_counts_failures_and_raises_one_event(cluster_factory):
    # The node takes at most 5 records per zone; the controller allows more.
    c = cluster_factory(n=1, node_config={"max-zone-records": 5})
    node = c.nodes[0]
    zid = c.create_zone("refused.example")
    ns = {"type": "NS", "name": "@", "content": "ns1.yumna.test."}
    records = [ns] + [{"type": "A", "name": "h%d" % i, "content": "192.0.2.%d" % (i + 1)}
                      for i in range(6)]
    c.replace_records(zid, records, wait=False)

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        samples, _ = whm_metrics(c)
        if value(samples, "yumna_whm_push_failures_total", node=node.name) >= 2:
            break
        time.sleep(0.1)
    assert value(samples, "yumna_whm_push_failures_total", node=node.name) >= 2   # retried
    assert value(samples, "yumna_whm_node_zones", node=node.name, state="failing") == 1
    assert value(samples, "yumna_whm_node_up", node=node.name) == 1
    events = c.whm.get("/api/dns/cluster/events").json()["events"]
    failed = [e for e in events if e["kind"] == "sync.failed"]
    assert len(failed) == 1, events            # retries do not flood the ring
    assert failed[0]["node"] == node.name
    assert failed[0]["zone"] == "refused.example."
    assert failed[0]["message"]

    # Fixed: the zone goes through and a recovery event follows. The worker
    # adds the event after writing the acknowledgement ?wait=all waits for.
    c.replace_records(zid, records[:2], wait=True)

    def kinds():
        events = c.whm.get("/api/dns/cluster/events",
                           params={"since": failed[0]["seq"]}).json()["events"]
        return [e["kind"] for e in events if e["kind"].startswith("sync.")]
    assert harness.wait_until(kinds, 5) == ["sync.recovered"]


# --- the events route ----------------------------------------------------------------


def test_events_are_ordered_and_filtered_by_since_and_limit(shared_cluster):
    w = shared_cluster.whm
    j = w.get("/api/dns/cluster/events", token=w.read_token).json()
    assert set(j) == {"boot", "last", "changes", "events"}
    seqs = [e["seq"] for e in j["events"]]
    assert seqs == sorted(seqs) and seqs[-1] == j["last"]
    assert {e["kind"] for e in j["events"]} >= {"node.joined", "node.up"}
    for e in j["events"]:
        assert isinstance(e["time"], int) and e["time"] > 1.6e12       # Unix ms
        assert isinstance(e["message"], str)

    assert w.get("/api/dns/cluster/events", params={"since": j["last"]}).json()["events"] == []
    assert len(w.get("/api/dns/cluster/events", params={"limit": 2}).json()["events"]) == 2


@pytest.mark.parametrize("query", [{"since": "-1"}, {"since": "x"}, {"since": ""},
                                   {"limit": "0"}, {"limit": "257"},
                                   {"since": "99999999999999999999999"}])
def test_events_refuse_bad_arguments(shared_cluster, query):
    r = shared_cluster.whm.get("/api/dns/cluster/events", params=query)
    assert r.status_code == 422, r.text
    assert "error" in r.json()


def test_events_need_a_token(shared_cluster):
    assert shared_cluster.whm.get("/api/dns/cluster/events", token=None).status_code == 401


# --- the agent -------------------------------------------------------------------------


def test_agent_metrics_reexport_powerdns_counters_that_move(node, zone_name):
    node.push_ok(zone_name, 1, 1, basic_records())
    before, types = parse_metrics(node.get("/metrics").text)
    check_conventions(before, types)
    for name in ("yumna_pdns_udp_queries_total", "yumna_pdns_packetcache_hits_total",
                 "yumna_pdns_packetcache_misses_total", "yumna_pdns_querycache_hits_total",
                 "yumna_pdns_querycache_misses_total", "yumna_pdns_latency_seconds",
                 "yumna_agent_push_duration_seconds"):
        assert name in types, name

    for _ in range(10):
        assert node.dig("www." + zone_name, "A") == ["192.0.2.1"]
    node.push_ok(zone_name, 2, 2, basic_records(a="192.0.2.2"))

    after, _ = parse_metrics(node.get("/metrics").text)
    assert value(after, "yumna_pdns_udp_queries_total") >= \
        value(before, "yumna_pdns_udp_queries_total") + 10
    hits = value(after, "yumna_pdns_packetcache_hits_total") + \
        value(after, "yumna_pdns_querycache_hits_total")
    assert hits > value(before, "yumna_pdns_packetcache_hits_total") + \
        value(before, "yumna_pdns_querycache_hits_total")
    assert value(after, "yumna_agent_pushes_total", result="applied") == \
        value(before, "yumna_agent_pushes_total", result="applied") + 1
    assert value(after, "yumna_agent_push_duration_seconds_count") == \
        value(before, "yumna_agent_push_duration_seconds_count") + 1
    assert 0 <= value(after, "yumna_pdns_latency_seconds") < 1


def test_agent_times_zones_applied_in_batches(node, zone_name):
    before, _ = parse_metrics(node.get("/metrics").text)
    zones = [zone_payload("b%d-%s" % (i, zone_name), 1, 1, basic_records()) for i in range(3)]

    r = node.sync_batch(zones)
    assert r.status_code == 200, r.text

    after, types = parse_metrics(node.get("/metrics").text)
    check_conventions(after, types)
    assert types["yumna_agent_batch_duration_seconds"] == "histogram"
    assert value(after, "yumna_agent_batch_duration_seconds_count") == \
        value(before, "yumna_agent_batch_duration_seconds_count") + 1
    took = value(after, "yumna_agent_batch_duration_seconds_sum") - \
        value(before, "yumna_agent_batch_duration_seconds_sum")
    assert 0 < took < 60
    assert value(after, "yumna_agent_batch_zones_total") == \
        value(before, "yumna_agent_batch_zones_total") + 3
    assert value(after, "yumna_agent_batches_total") == \
        value(before, "yumna_agent_batches_total") + 1
    assert value(after, "yumna_agent_pushes_total", result="applied") == \
        value(before, "yumna_agent_pushes_total", result="applied") + 3
    # Single pushes keep their own histogram.
    assert value(after, "yumna_agent_push_duration_seconds_count") == \
        value(before, "yumna_agent_push_duration_seconds_count")


def test_agent_exports_build_info_and_its_process_metrics(node):
    samples, types = parse_metrics(node.get("/metrics").text)
    version = node.get("/health").json()["agent_version"]

    assert types["yumna_agent_build_info"] == "gauge"
    assert value(samples, "yumna_agent_build_info", version=version) == 1
    check_process_metrics(samples, types, node.proc.pid)


METRICS_TOKEN = "m" * 20 + "-scraper-token-0123456789"


def test_agent_metrics_token_reads_metrics_and_nothing_else(node_factory, zone_name):
    node = node_factory(config={"metrics-token": METRICS_TOKEN})
    bearer = {"Authorization": "Bearer " + METRICS_TOKEN}

    r = node.get("/metrics", auth=False, headers=bearer)
    assert r.status_code == 200, r.text
    parse_metrics(r.text)
    assert node.get("/metrics", auth=False).status_code == 401
    assert node.get("/metrics").status_code == 200             # the agent secret still works
    for method, path in (("GET", "/api/dns/zones"), ("GET", "/api/dns/status"),
                         ("GET", "/health"), ("POST", "/api/dns/sync-zone"),
                         ("DELETE", "/api/dns/zones/" + zone_name)):
        r = node.request(method, path, auth=False, headers=bearer,
                         json_body={} if method == "POST" else None)
        assert r.status_code == 401, (method, path, r.status_code)
    r = node.request("GET", "/metrics", auth=False,
                     headers={"X-Agent-Secret": METRICS_TOKEN})
    assert r.status_code == 200


@pytest.mark.parametrize("token", ["short", None])
def test_agent_refuses_a_weak_or_reused_metrics_token(node_factory, token):
    node = node_factory(start=False)
    node.extra_config["metrics-token"] = token or node.secret
    node.write_config()
    p = __import__("subprocess").run([node.agent, "-n", "-c", node.conf_path],
                                     capture_output=True, timeout=30)
    assert p.returncode != 0
    assert b"metrics-token" in p.stderr + p.stdout


def test_events_since_the_last_or_beyond_are_none(shared_cluster):
    whm = shared_cluster.whm
    everything = whm.get("/api/dns/cluster/events").json()
    assert everything["events"], everything  # the nodes joined
    last = everything["last"]
    newer = whm.get("/api/dns/cluster/events", params={"since": last}).json()["events"]
    assert all(e["seq"] > last for e in newer), newer
    for since in (2 ** 63, 2 ** 64 - 2, 2 ** 64 - 1):  # far past any event
        r = whm.get("/api/dns/cluster/events", params={"since": since})
        assert r.status_code == 200, r.text
        assert r.json()["events"] == [], since
