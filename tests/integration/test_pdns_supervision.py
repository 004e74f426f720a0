"""Managed mode: the agent supervises its pdns_server. One that dies, or
stops answering, is started again by the agent itself (no POST initialize),
with a capped doubling delay; each restart is counted on /metrics and in
GET /health. External mode never starts or kills the operator's PowerDNS.
What is served is checked with DNS queries to the node."""

import os
import re
import signal
import time

import harness
from harness import PDNS_PROGRAM, basic_records
from test_external_mode import external_agent


def served(node, name, timeout=0.3):
    """The A records 'node' answers for 'name' right now; None when nothing answers."""
    try:
        msg = harness.dns_query(node.address, node.dns_port, name, "A", timeout=timeout)
    except Exception:  # timeout, refused: PowerDNS is not answering
        return None
    return harness.answer_texts(msg, name, "A")


def wait_served(node, name, want, timeout):
    """Seconds until 'node' answers 'want' for 'name'; fails after 'timeout'."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if served(node, name) == want:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError("%s: %s not served within %.0f s (pdns pid %s)\n%s"
                         % (node.name, name, timeout, node.pdns_pid(), node.logs()))


def restarts_metric(node):
    text = node.get("/metrics").text
    m = re.search(r"^yumna_agent_pdns_restarts_total (\d+)$", text, re.M)
    assert m, text
    return int(m.group(1))


def wait_restarts_metric(node, want, timeout=5.0):
    """restarts_metric(node) once it is 'want', or after 'timeout': the
    supervisor counts a restart once the new pdns_server answers its API,
    which can be after it answers queries."""
    deadline = time.monotonic() + timeout
    while True:
        got = restarts_metric(node)
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def kill_pdns(node, sig=signal.SIGKILL):
    """Signal this node's pdns_server behind the agent's back; its pid."""
    pid = node.pdns_pid()
    assert pid is not None
    os.kill(pid, sig)
    return pid


def test_killed_powerdns_is_restarted_and_serves_again(node, zone_name):
    node.push_ok(zone_name, 1, 1, basic_records("192.0.2.1"))
    www = "www." + zone_name
    assert served(node, www) == ["192.0.2.1"]
    assert restarts_metric(node) == 0
    assert node.get("/health").json()["powerdns"]["restarts"] == 0

    old = kill_pdns(node)
    assert harness.wait_gone(old, 5)

    took = wait_served(node, www, ["192.0.2.1"], timeout=5)
    print("served again %.2f s after SIGKILL" % took)
    assert node.pdns_pid() not in (None, old)
    assert wait_restarts_metric(node, 1) == 1
    health = node.wait_healthy(timeout=5)
    assert health["powerdns"]["restarts"] == 1
    # Pushes are applied and served again at once.
    node.push_ok(zone_name, 2, 2, basic_records("192.0.2.2"))
    assert node.dig(www, "A") == ["192.0.2.2"]


def test_stopped_powerdns_is_killed_and_restarted(node, zone_name):
    node.push_ok(zone_name, 1, 1, basic_records("192.0.2.1"))
    www = "www." + zone_name

    hung = node.pdns_pid()
    harness.sigstop(hung)  # every thread stopped before the question below
    try:
        assert served(node, www) is None  # really not answering
        wait_served(node, www, ["192.0.2.1"], timeout=15)
        assert harness.wait_gone(hung, 5), "the hung pdns_server was not killed"
    finally:
        try:
            os.kill(hung, signal.SIGCONT)
        except ProcessLookupError:
            pass
    assert node.pdns_pid() not in (None, hung)
    assert wait_restarts_metric(node, 1) == 1
    assert node.wait_healthy(timeout=5)["powerdns"]["restarts"] == 1


def test_every_kill_in_a_row_is_restarted(node_factory, zone_name):
    node = node_factory(config={"pdns-restart-delay-min": 100,
                                "pdns-restart-delay-max": 400})
    node.push_ok(zone_name, 1, 1, basic_records("192.0.2.1"))
    www = "www." + zone_name

    kills = 6
    for i in range(kills):
        # The last restart is over (counted once its pdns_server answers the
        # API, which may be after it answers queries): a kill before that
        # would fail the restart and make it start one more.
        assert wait_restarts_metric(node, i) == i
        old = kill_pdns(node)
        # The delay doubles from 100 ms but stops at the 400 ms cap: the
        # sixth restart waits no longer than the third.
        wait_served(node, www, ["192.0.2.1"], timeout=4)
        assert node.pdns_pid() not in (None, old)
    assert wait_restarts_metric(node, kills) == kills
    assert node.wait_healthy(timeout=5)["powerdns"]["restarts"] == kills


def test_external_mode_never_starts_or_kills_powerdns(node_factory, zone_name):
    owner = node_factory(name="owner")
    agent = external_agent(node_factory, owner)
    agent.push_ok(zone_name, 1, 1, basic_records("192.0.2.41"))
    www = "www." + zone_name
    assert served(owner, www) == ["192.0.2.41"]
    assert agent.get("/health").json()["powerdns"]["restarts"] == 0

    # The operator's PowerDNS hangs: the agent reports it and waits.
    owner.stop_agent()  # nobody supervises it now but the external agent
    hung = kill_pdns(owner, signal.SIGSTOP)
    try:
        harness.wait_until(lambda: agent.get("/health").status_code == 503, 8, interval=0.1)
        time.sleep(5)  # longer than a managed agent takes to call it hung
        assert harness.process_is(hung, PDNS_PROGRAM), "external mode killed PowerDNS"
    finally:
        os.kill(hung, signal.SIGCONT)
    agent.wait_healthy(timeout=15)
    assert served(owner, www) == ["192.0.2.41"]

    # It dies: the agent reports unhealthy and starts nothing.
    kill_pdns(owner)
    assert harness.wait_gone(hung, 5)
    time.sleep(3)
    r = agent.get("/health")
    assert r.status_code == 503, r.text
    assert r.json()["powerdns"]["running"] is False
    assert r.json()["powerdns"]["restarts"] == 0
    assert served(owner, www) is None
    assert harness.find_processes(PDNS_PROGRAM, owner.data_dir) == []
    assert harness.find_processes(PDNS_PROGRAM, agent.data_dir) == []
    assert restarts_metric(agent) == 0
