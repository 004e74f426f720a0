"""GET /api/dns/status, /api/dns/statistics, /health and /metrics."""

import re

import pytest
import requests

import harness
from harness import basic_records

METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s(?:,%s)*,?)?\})? (\S+)(?: (-?\d+))?$"
                    % (METRIC_NAME, LABEL, LABEL))
HELP = re.compile(r"^# HELP (%s) (.*)$" % METRIC_NAME)
VALUE = re.compile(r"^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$")
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % METRIC_NAME)


def parse_metrics(text):
    """Parse Prometheus text format 0.0.4 strictly: {name: [(labels, value)]}
    and {name: type}. Raises AssertionError on any line that does not fit."""
    samples, types, helps = {}, {}, set()
    assert text.endswith("\n"), "exposition must end with a newline"
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("#"):
            m = HELP.match(line)
            if m:
                assert m.group(1) not in helps, "line %d: second HELP" % n
                helps.add(m.group(1))
                continue
            m = TYPE.match(line)
            assert m, "line %d: not a HELP or TYPE comment: %r" % (n, line)
            assert m.group(1) not in types, "line %d: second TYPE for %s" % (n, m.group(1))
            assert m.group(1) not in samples, "line %d: TYPE after samples" % n
            types[m.group(1)] = m.group(2)
            continue
        m = SAMPLE.match(line)
        assert m, "line %d: not a sample: %r" % (n, line)
        value = m.group(3)
        assert VALUE.match(value), "line %d: bad value %r" % (n, value)
        samples.setdefault(m.group(1), []).append((m.group(2) or "", float(value)))
    for name, kind in types.items():
        base = re.sub(r"_(bucket|sum|count|total)$", "", name)
        assert name in samples or any(s.startswith(base) for s in samples), \
            "TYPE for %s without samples" % name
    return samples, types


@pytest.fixture(scope="module")
def busy_node(shared_node):
    for i in range(3):
        shared_node.push_ok("stats%d.example." % i, 1, 1, basic_records())
    for _ in range(25):
        assert shared_node.dig("www.stats0.example.", "A") == ["192.0.2.1"]
    return shared_node


def test_status_reports_powerdns_running_with_version_and_counts(busy_node):
    r = busy_node.get("/api/dns/status")

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["running"] is True
    assert isinstance(body["message"], str)
    assert re.match(r"^4\.7\.\d+", body["version"]), body
    stats = body["statistics"]
    assert stats["status"] == "running"
    assert stats["zones"] == len(busy_node.zones())
    assert stats["zones"] >= 3
    assert stats["records"] >= 3 * 3


def test_statistics_carry_real_powerdns_counters(busy_node):
    r = busy_node.get("/api/dns/statistics")

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "running"
    for key in ("zones", "records", "queries", "answers", "cache_hits", "cache_misses",
                "latency_us", "uptime"):
        assert isinstance(body[key], int) and not isinstance(body[key], bool), key
        assert body[key] >= 0, key
    assert body["queries"] >= 25
    assert body["answers"] >= 25
    assert body["zones"] >= 3


def test_statistics_count_new_queries(busy_node):
    before = busy_node.get("/api/dns/statistics").json()["queries"]
    for _ in range(10):
        busy_node.dig("www.stats1.example.", "A")

    after = busy_node.get("/api/dns/statistics").json()["queries"]

    assert after >= before + 10


def test_health_reports_healthy_with_versions(busy_node):
    r = busy_node.get("/health")

    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "healthy"
    assert body["powerdns"]["running"] is True
    assert body["powerdns"]["version"].startswith("4.7")
    assert body["zones"] == len(busy_node.zones())
    assert isinstance(body["agent_version"], str) and body["agent_version"]


def test_metrics_are_strict_prometheus_text(busy_node):
    r = busy_node.get("/metrics")

    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers
    samples, types = parse_metrics(r.text)
    ours = [n for n in samples if n.startswith("yumna_agent_")]
    assert ours, "no yumna_agent_ metric"
    # Ours, and the standard process_* metrics every Prometheus client exports.
    assert all(n.startswith(("yumna_", "process_")) for n in samples), \
        [n for n in samples if not n.startswith(("yumna_", "process_"))]
    pdns = [n for n in samples if "pdns" in n or "powerdns" in n]
    assert any("queries" in n for n in pdns), "no PowerDNS query counter"
    for name in samples:
        assert name in types or re.sub(r"_(bucket|sum|count)$", "", name) in types, \
            "%s has no TYPE" % name


def test_metrics_follow_the_zone_count(busy_node):
    samples, _ = parse_metrics(busy_node.get("/metrics").text)
    values = [v for name, vals in samples.items() if "zones" in name for _, v in vals]

    assert float(len(busy_node.zones())) in values, samples.keys()


def test_fresh_node_lists_no_zones_and_health_counts_none(node):
    assert node.get("/api/dns/zones").json() == {"zones": [], "tombstones": []}
    assert node.get("/api/dns/status").json()["statistics"]["zones"] == 0

    assert node.get("/health").json()["zones"] == 0


def pdns_conf(node):
    """The managed pdns.conf the agent wrote, as {key: value}."""
    with open(harness.os.path.join(node.data_dir, "pdns.conf")) as f:
        conf = dict(line.split("=", 1) for line in f.read().splitlines()
                    if "=" in line and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in conf.items()}


def test_powerdns_query_cache_size_comes_from_the_agent(shared_node, node_factory):
    """PowerDNS's query cache is sized by the agent (its purge after every
    push costs PowerDNS in proportion to that size): 100,000 entries by
    default, or what pdns-query-cache-entries says."""
    assert pdns_conf(shared_node)["max-cache-entries"] == "100000"
    node = node_factory(config={"pdns-query-cache-entries": "2500"})
    assert pdns_conf(node)["max-cache-entries"] == "2500"
    assert node.get("/health").json()["powerdns"]["running"] is True


def pdns_setting(node, name):
    """A setting as the running pdns_server reports it (its own API)."""
    r = requests.get("http://127.0.0.1:%d/api/v1/servers/localhost/config" % node.pdns_api_port,
                     headers={"X-API-Key": pdns_conf(node)["api-key"]}, timeout=5)
    r.raise_for_status()
    return {s["name"]: s["value"] for s in r.json()}[name]


def test_uncached_queries_leave_the_receiving_thread_to_cached_answers(shared_node, node_factory):
    """PowerDNS's 3 distributor threads by default with gsqlite3 too: with
    one, the receiving thread answers uncached queries (LUA answers, names
    that do not exist) itself and every cached answer of the node waits
    behind them (bench/run.py --only steer measures it); or what
    pdns-distributor-threads says."""
    assert pdns_setting(shared_node, "distributor-threads") == "3"
    node = node_factory(config={"pdns-distributor-threads": "2"})
    assert pdns_setting(node, "distributor-threads") == "2"


def test_powerdns_config_listens_on_loopback_only(shared_node):
    conf = pdns_conf(shared_node)

    assert conf.get("webserver-address", "127.0.0.1") == "127.0.0.1"
    assert conf.get("api") == "yes"
    assert conf.get("security-poll-suffix", None) == ""
    assert conf.get("webserver-port") == str(shared_node.pdns_api_port)
    mode = harness.os.stat(shared_node.data_dir).st_mode & 0o777
    assert mode == 0o700
