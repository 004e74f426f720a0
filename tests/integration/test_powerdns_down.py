"""PowerDNS stopped behind the agent's back: the agent says so, refuses
pushes with 503 (never a false 200) and recovers with POST /api/dns/initialize.

The agent restarts a managed pdns_server that dies by itself
(test_pdns_supervision.py); here it is told to wait an hour first, so the
node stays down long enough to check what it does meanwhile."""

import os
import signal
import time

import pytest

from harness import basic_records, zone_payload


def wait_status(node, path, status, timeout=10.0):
    """Poll 'path' until it answers 'status' (health checks may run on a timer)."""
    deadline = time.monotonic() + timeout
    while True:
        r = node.get(path)
        if r.status_code == status or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


HOUR_MS = 3600000


def wait_stopped(pid, timeout=5.0):
    """Until the kernel has stopped every thread of 'pid' (a signal is
    delivered after kill() returns)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.005)
    raise AssertionError("pdns_server %d did not stop" % pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_powerdns_down_means_unhealthy_and_503_until_initialize(node_factory, zone_name, sig):
    node = node_factory(config={"pdns-restart-delay-min": HOUR_MS,
                                "pdns-restart-delay-max": HOUR_MS})
    node.push_ok(zone_name, 1, 1, basic_records("192.0.2.1"))
    other = "other-" + zone_name
    node.stop_pdns(sig)

    # Right away, before any health timer could notice: never a false 200.
    r = node.push(zone_name, 2, 2, basic_records("192.0.2.2"))
    assert r.status_code == 503, r.text
    assert isinstance(r.json()["error"], str)

    r = wait_status(node, "/health", 503)
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["status"] == "unhealthy"
    assert body["powerdns"]["running"] is False
    assert isinstance(body["powerdns"]["error"], str)

    for send in (lambda: node.push(zone_name, 3, 3, basic_records("192.0.2.3")),
                 lambda: node.push(other, 1, 1, basic_records("192.0.2.4")),
                 lambda: node.sync_batch([zone_payload(other, 1, 1, basic_records())]),
                 lambda: node.delete_zone(zone_name)):
        r = send()
        assert r.status_code == 503, r.text
        assert isinstance(r.json()["error"], str)

    status = node.get("/api/dns/status").json()
    assert status["running"] is False
    assert isinstance(status["message"], str)
    stats = node.get("/api/dns/statistics").json()
    assert stats["status"] == "error"
    assert "queries" not in stats

    r = node.post("/api/dns/initialize")
    assert r.status_code == 200, r.text
    assert r.json()["success"] is True
    node.wait_healthy(timeout=15)

    # What was refused changed nothing ...
    assert node.zones()[zone_name]["version"] == 1
    assert other not in node.zones()
    assert node.dig("www." + zone_name, "A") == ["192.0.2.1"]
    assert node.rcode("www." + other, "A") == "REFUSED"
    # ... and pushes work again, served at once.
    r = node.push(zone_name, 4, 4, basic_records("192.0.2.4"))
    assert r.status_code == 200 and r.json()["applied"] is True, r.text
    assert node.dig("www." + zone_name, "A") == ["192.0.2.4"]
    assert node.get("/api/dns/status").json()["running"] is True


def test_initialize_on_a_running_node_changes_nothing(node, zone_name):
    node.push_ok(zone_name, 1, 1, basic_records("192.0.2.1"))
    pid = node.pdns_pid()

    r = node.post("/api/dns/initialize")

    assert r.status_code == 200, r.text
    node.wait_healthy()
    assert node.pdns_pid() == pid
    assert node.dig("www." + zone_name, "A") == ["192.0.2.1"]
    assert node.zones()[zone_name]["version"] == 1


def test_agent_restart_keeps_dns_up_and_state(node, zone_name):
    node.push_ok(zone_name, 5, 5, basic_records("192.0.2.5"))
    gone = "gone-" + zone_name
    node.push_ok(gone, 3, 3, basic_records())
    node.delete_zone(gone, version=4)
    pid = node.pdns_pid()

    node.stop_agent()
    assert node.dig("www." + zone_name, "A") == ["192.0.2.5"]  # DNS stays up
    node.start()

    assert node.pdns_pid() == pid
    assert node.zones()[zone_name]["version"] == 5
    assert {"zone": gone, "version": 4} in node.get("/api/dns/zones").json()["tombstones"]
    assert node.push(gone, 4, 4, basic_records()).json()["applied"] is False
    assert node.push(zone_name, 5, 5, basic_records("192.0.2.6")).json()["applied"] is False
    node.push_ok(zone_name, 6, 6, basic_records("192.0.2.6"))
    assert node.dig("www." + zone_name, "A") == ["192.0.2.6"]


def test_agent_starts_powerdns_when_it_is_not_running(node, zone_name):
    node.push_ok(zone_name, 1, 1, basic_records("192.0.2.1"))
    node.stop_agent()
    node.stop_pdns()

    node.start()

    assert node.pdns_pid() is not None
    assert node.dig("www." + zone_name, "A") == ["192.0.2.1"]


def test_a_stopped_powerdns_refuses_a_push_at_once_and_nothing_is_written(node_factory,
                                                                          zone_name):
    # A SIGSTOPped pdns_server still accepts connections (the kernel
    # completes them), so only the process's own state tells, right away,
    # that it cannot take the change.
    node = node_factory(config={"pdns-restart-delay-min": HOUR_MS,
                                "pdns-restart-delay-max": HOUR_MS})
    node.push_ok(zone_name, 1, 1, basic_records("192.0.2.1"))
    pid = node.pdns_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_stopped(pid)
        t0 = time.monotonic()
        r = node.push(zone_name, 2, 2, basic_records("192.0.2.2"))
        took = time.monotonic() - t0
        assert r.status_code == 503, r.text
        assert "nothing was changed" in r.json()["error"]
        assert took < 2.0, "refused after %.1f s, not at once" % took
    finally:
        os.kill(pid, signal.SIGCONT)
    node.wait_healthy(timeout=15)
    assert node.zones()[zone_name]["version"] == 1
    assert node.dig("www." + zone_name, "A") == ["192.0.2.1"]
    node.push_ok(zone_name, 2, 2, basic_records("192.0.2.2"))
    assert node.dig("www." + zone_name, "A") == ["192.0.2.2"]
