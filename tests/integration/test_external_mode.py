"""External mode: the agent drives a PowerDNS it did not start."""
import os
import select
import socket
import threading
import time

import pytest

from harness import basic_records, wait_until, zone_payload


def external_agent(node_factory, pdns_owner, api_port=None, extra=None):
    """An agent in external mode on the PowerDNS (API and gsqlite3 database)
    that 'pdns_owner', a managed node, runs; its API reached on 'api_port'
    if given, 'extra' agent.conf keys added."""
    data = pdns_owner.data_dir
    config = {
        "mode": "external",
        "pdns-api-url": "http://127.0.0.1:%d" % (api_port or pdns_owner.pdns_api_port),
        "pdns-api-key-file": os.path.join(data, "pdns-api-key"),
        "gsqlite3-database": os.path.join(data, "pdns.sqlite3"),
    }
    config.update(extra or {})
    return node_factory(name="external", config=config)


def test_external_agent_serves_through_the_powerdns_it_was_pointed_at(node_factory, zone_name):
    owner = node_factory()
    agent = external_agent(node_factory, owner)
    # The external agent started no PowerDNS of its own ...
    assert not os.path.exists(os.path.join(agent.data_dir, "pdns.conf"))
    health = agent.get("/health").json()
    assert health["status"] == "healthy"
    assert health["powerdns"]["version"]

    # ... and what it applies is served by the one it was pointed at, at once.
    agent.push_ok(zone_name, 1, 1, basic_records("192.0.2.41"))
    assert owner.dig("www." + zone_name, "A") == ["192.0.2.41"]
    agent.push_ok(zone_name, 2, 2, basic_records("192.0.2.42"))
    assert owner.dig("www." + zone_name, "A") == ["192.0.2.42"]
    assert agent.zones()[zone_name]["version"] == 2

    r = agent.delete_zone(zone_name)
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert owner.rcode("www." + zone_name, "A") == "REFUSED"

    # A delete-batch goes through that PowerDNS's API too, zone by zone.
    more = ["m%d-%s" % (i, zone_name) for i in range(3)]
    for z in more:
        agent.push_ok(z, 1, 1, basic_records("192.0.2.43"))
    assert owner.dig("www." + more[2], "A") == ["192.0.2.43"]
    r = agent.post("/api/dns/delete-batch", {"zones": [{"zone": z, "version": 2} for z in more]})
    assert r.status_code == 200 and r.json()["deleted"] == 3, r.text
    assert all(owner.rcode("www." + z, "A") == "REFUSED" for z in more)
    assert not set(more) & set(agent.zones())


def test_external_agent_refuses_changes_while_that_powerdns_is_down(node_factory, zone_name):
    owner = node_factory()
    agent = external_agent(node_factory, owner)
    agent.push_ok(zone_name, 1, 1, basic_records("192.0.2.41"))
    owner.stop_agent()  # or the owner's (managed) agent restarts its PowerDNS
    owner.stop_pdns()

    r = agent.push(zone_name, 2, 2, basic_records("192.0.2.42"))
    assert r.status_code == 503, r.text
    assert agent.zones()[zone_name]["version"] == 1


def test_external_agent_imports_the_pushed_keys(node_factory, zone_name):
    from test_dnssec import P256Key, assert_signed, pushed_key
    owner = node_factory()
    agent = external_agent(node_factory, owner)
    key = P256Key()
    dnssec = {"enabled": True, "keys": [pushed_key(key)], "publish_cds": True}
    r = agent.push(zone_name, 1, 1, basic_records("192.0.2.41"), dnssec=dnssec)
    assert r.status_code == 200, r.text
    assert owner.dig(zone_name, "DNSKEY") == [key.dnskey().to_text()]
    assert owner.dig(zone_name, "CDS") == [key.ds(zone_name).to_text()]
    assert_signed(owner, zone_name, "www." + zone_name, "A")
    r = agent.push(zone_name, 2, 2, basic_records("192.0.2.41"), dnssec={"enabled": False})
    assert r.status_code == 200, r.text
    assert owner.dig(zone_name, "DNSKEY") == []


class ApiRelay:
    """A TCP relay in front of PowerDNS's API. 'policy', when set, sees the
    bytes of each request the agent sends and says what becomes of it:
    "relay", "hold" (never answered, as a hung API) or "fail" (a 500).
    It counts the notify requests held and relayed."""

    FAIL = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
            b"Content-Length: 26\r\n\r\n{\"error\": \"relay refused\"}")

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.policy = None
        self.held = 0
        self.relayed = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            t = threading.Thread(target=self._relay, args=(c,), daemon=True)
            self.threads.append(t)
            t.start()

    def _count(self, what):
        with self.lock:
            setattr(self, what, getattr(self, what) + 1)

    def _relay(self, c):
        try:
            u = socket.create_connection(("127.0.0.1", self.upstream))
        except OSError:
            c.close()
            return
        held = False
        try:
            while not self.stopping.is_set():
                ready, _, _ = select.select([c, u], [], [], 0.2)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is u:
                        c.sendall(data)
                        continue
                    if held:
                        continue
                    policy = self.policy
                    what = policy(data) if policy is not None else "relay"
                    if what == "hold":
                        held = True
                        if b"/notify" in data:
                            self._count("held")
                    elif what == "fail":
                        c.sendall(self.FAIL)
                    else:
                        if b"/notify" in data:
                            self._count("relayed")
                        u.sendall(data)
        except OSError:
            pass
        finally:
            c.close()
            u.close()

    def close(self):
        self.stopping.set()
        for t in self.threads:
            t.join()
        self.lsock.close()


def test_a_hung_powerdns_api_holds_the_zones_own_notifies_once_per_pass(node_factory):
    """An agent with also-notify asks PowerDNS's API to notify after each
    push, on the thread that also sends the NOTIFYs to each zone's own
    secondaries. When that API hangs, the first ask waits its timeout (5 s);
    the zones queued behind it go on to their own secondaries at once,
    PowerDNS is not asked for them, and the next pass asks it again."""
    from test_notify import Secondary
    owner = node_factory()
    relay = ApiRelay(owner.pdns_api_port)
    own = Secondary()
    try:
        agent = external_agent(node_factory, owner, api_port=relay.port,
                               extra={"also-notify": "127.0.0.1:%d" % own.port})
        transfer = {"notify": ["127.0.0.1:%d" % own.port]}

        def push(zone):
            t0 = time.monotonic()
            agent.push_ok(zone, 1, 1, basic_records(), transfer=transfer)
            assert time.monotonic() - t0 < 2.0, "a push waited for the notifier"

        push("before.hung.example.")
        assert own.wait_notify("before.hung.example.", timeout=3.0) is not None
        wait_until(lambda: relay.relayed != 0, 3.0)
        assert relay.relayed == 1, "PowerDNS was not asked to notify"

        relay.policy = lambda data: "hold" if b"/notify" in data else "relay"
        zones = ["z%d.hung.example." % i for i in range(4)]
        t0 = time.monotonic()
        for z in zones:
            push(z)
        seen = own.wait_notifies(zones, timeout=9.0)
        took = time.monotonic() - t0
        assert seen == set(zones), "own NOTIFYs missing after %.1f s: %s" % (
            took, sorted(set(zones) - seen))
        # One ask waited; those behind it in the same pass were not made.
        assert relay.held == 1, relay.held
        # The line is written after the pass's NOTIFYs went out: wait for it.
        def log():
            return open(agent.log_path, encoding="utf-8", errors="replace").read()
        assert wait_until(lambda: "not asked of powerdns" in log(), 3.0), log()

        relay.policy = None
        push("after.hung.example.")
        assert own.wait_notify("after.hung.example.", timeout=8.0) is not None
        wait_until(lambda: relay.relayed >= 2, 8.0)
        assert relay.relayed == 2, "the next pass did not ask PowerDNS again"
    finally:
        relay.close()
        own.close()


@pytest.fixture
def relayed(node_factory):
    """(agent, relay, secondary): an external agent reaching PowerDNS's API
    through an ApiRelay, and a Secondary for its zones' own NOTIFYs."""
    from test_notify import Secondary
    owner = node_factory()
    relay = ApiRelay(owner.pdns_api_port)
    own = Secondary()
    try:
        yield external_agent(node_factory, owner, api_port=relay.port), relay, own
    finally:
        relay.close()
        own.close()


def fail_purges_of(zone):
    """An ApiRelay policy: PowerDNS refuses to purge 'zone' (the agent
    sends the name with its dots escaped)."""
    key = b"cache/flush?domain=" + zone.replace(".", "%2E").encode()
    return lambda data: "fail" if key in data else "relay"


@pytest.mark.parametrize("batch_between", [False, True], ids=["alone", "batch-between"])
def test_a_zone_whose_purge_failed_is_published_and_notified_once_powerdns_takes_it(
        relayed, zone_name, batch_between):
    """A push PowerDNS did not take (its cache purge refused) is committed
    and answered 503; the agent publishes the zone once PowerDNS takes it
    again, and only then sends the NOTIFYs the failure held back. A batch of
    another zone applied meanwhile must not count the zone as published."""
    agent, relay, own = relayed
    transfer = {"notify": ["127.0.0.1:%d" % own.port]}
    relay.policy = fail_purges_of(zone_name)
    r = agent.push(zone_name, 1, 1, basic_records("192.0.2.51"), transfer=transfer)
    assert r.status_code == 503, r.text
    assert "committed" in r.json()["error"]
    if batch_between:
        other = "other-" + zone_name
        r = agent.sync_batch([zone_payload(other, 1, 1, basic_records(), transfer=transfer)])
        assert r.status_code == 200, r.text
        assert own.wait_notify(other, timeout=3.0) is not None
    assert own.wait_notify(zone_name, timeout=1.5) is None, "notified before it was published"

    relay.policy = None
    assert own.wait_notify(zone_name, timeout=5.0) is not None, "never notified"
    assert agent.zones()[zone_name]["version"] == 1
