"""A push, and POST /api/dns/zones/:z/notify, make PowerDNS send a DNS
NOTIFY to the secondaries in 'also-notify'."""

import socket
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rdatatype
import pytest

import harness
from harness import basic_records


class Secondary:
    """A UDP socket standing in for a secondary: collects NOTIFYs and acks them."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def drain(self):
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recvfrom(65535)
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)

    def wait_notify(self, zone, timeout=5.0):
        """The first NOTIFY for 'zone' (None: for any zone) within
        'timeout', or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                wire, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                break
            try:
                msg = dns.message.from_wire(wire)
            except dns.exception.DNSException:
                continue
            if msg.opcode() != dns.opcode.NOTIFY:
                continue
            reply = dns.message.make_response(msg)
            self.sock.sendto(reply.to_wire(), peer)
            if zone is None or msg.question and msg.question[0].name.to_text() == zone:
                return msg
        return None

    def wait_notifies(self, zones, timeout=5.0):
        """The set of 'zones' a NOTIFY came for within 'timeout' (stops
        once each has had one)."""
        seen = set()
        deadline = time.monotonic() + timeout
        while seen != set(zones) and time.monotonic() < deadline:
            msg = self.wait_notify(None, timeout=deadline - time.monotonic())
            if msg is None:
                break
            name = msg.question[0].name.to_text() if msg.question else None
            if name in zones:
                seen.add(name)
        return seen

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def secondary():
    s = Secondary()
    yield s
    s.close()


@pytest.fixture(scope="module")
def primary(tmp_path_factory, secondary):
    node = harness.Node(tmp_path_factory.mktemp("notify_node"), name="primary",
                        config={"also-notify": "127.0.0.1:%d" % secondary.port})
    try:
        yield node.start()
    finally:
        node.stop()


def test_notify_reaches_the_configured_secondary(primary, secondary, zone_name):
    primary.push_ok(zone_name, 1, 2026010101, basic_records())
    secondary.wait_notify(zone_name, timeout=1.0)  # one a push may trigger by itself
    secondary.drain()

    r = primary.post("/api/dns/zones/%s/notify" % zone_name)

    assert r.status_code == 200, r.text
    assert r.json()["success"] is True
    assert isinstance(r.json()["message"], str)
    msg = secondary.wait_notify(zone_name, timeout=5.0)
    assert msg is not None, "no NOTIFY for %s arrived" % zone_name
    assert msg.question[0].rdtype == dns.rdatatype.SOA
    assert msg.flags & dns.flags.AA


def soa_serial(node, zone):
    msg = node.query(zone, "SOA")
    return [rr.serial for rrset in msg.answer for rr in rrset][0]


def test_each_push_notifies_once_its_serial_is_served_from_every_cache(
        primary, secondary, zone_name):
    """A secondary asks for the SOA as soon as a NOTIFY comes. PowerDNS's
    caches may still hold the old SOA for a moment after a push (a query in
    flight during the commit stores it after the agent's first purge);
    PowerDNS is asked to notify only after the second purge, so the SOA
    asked at once is the new one. Queries run all the while to put answers
    in flight. (PowerDNS sends the NOTIFYs it is asked for about a second
    later, hence few pushes.)"""
    serial = 2026010101
    primary.push_ok(zone_name, 1, serial, basic_records())
    secondary.wait_notify(zone_name, timeout=2.0)
    stop = threading.Event()

    def ask():
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            while not stop.is_set():
                try:
                    harness.dns_query(primary.address, primary.dns_port, zone_name, "SOA",
                                      timeout=0.5, sock=sock)
                except (dns.exception.DNSException, OSError):
                    pass
        finally:
            sock.close()

    askers = [threading.Thread(target=ask) for _ in range(3)]
    for t in askers:
        t.start()
    stale = []
    try:
        for version in range(2, 7):
            secondary.drain()
            serial += 1
            primary.push_ok(zone_name, version, serial, basic_records())
            msg = secondary.wait_notify(zone_name, timeout=3.0)
            assert msg is not None, "no NOTIFY for version %d" % version
            got = soa_serial(primary, zone_name)
            if got != serial:
                stale.append((version, got, serial))
    finally:
        stop.set()
        for t in askers:
            t.join()
    assert stale == [], "the SOA asked right after a NOTIFY was old: %s" % stale


def test_notify_for_an_unknown_zone_is_404(primary, zone_name):
    r = primary.post("/api/dns/zones/%s/notify" % zone_name)

    assert r.status_code == 404, r.text
    assert "error" in r.json()


def test_notify_without_secondaries_is_409(shared_node, zone_name):
    shared_node.push_ok(zone_name, 1, 1, basic_records())

    r = shared_node.post("/api/dns/zones/%s/notify" % zone_name)

    assert r.status_code == 409, r.text
    assert isinstance(r.json()["error"], str)


def test_zone_is_a_primary_zone_when_secondaries_are_configured(primary, zone_name):
    primary.push_ok(zone_name, 1, 1, basic_records())

    assert primary.zone(zone_name).json()["kind"] in ("MASTER", "PRIMARY")


def test_a_new_notify_supersedes_the_unanswered_ones_of_its_zone(node, zone_name):
    """A secondary that never answers gets each NOTIFY again 1, 2, 4 and 8 s
    later; a newer push's NOTIFY replaces the older ones still unanswered,
    so only the newest is sent again."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    transfer = {"notify": ["127.0.0.1:%d" % silent.getsockname()[1]]}

    def ids_within(seconds, until_new=None):
        ids = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            silent.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                wire, _ = silent.recvfrom(65535)
            except socket.timeout:
                break
            msg = dns.message.from_wire(wire)
            assert msg.opcode() == dns.opcode.NOTIFY
            ids.append(msg.id)
            if until_new is not None and msg.id not in until_new:
                break
        return ids

    try:
        rounds = []
        for version in range(1, 5):
            node.push_ok(zone_name, version, version, basic_records(), transfer=transfer)
            got = ids_within(3.0, until_new=rounds)
            assert got and got[-1] not in rounds, "no NOTIFY for version %d" % version
            rounds.append(got[-1])
        again = ids_within(3.5)
        assert again, "the newest NOTIFY was not sent again"
        assert set(again) == {rounds[-1]}, (rounds, again)
    finally:
        silent.close()


def test_a_burst_of_changes_is_notified_once_more_after_it(node, zone_name):
    """A secondary still transferring an earlier version may answer a
    NOTIFY without acting on it: a zone changed again within 2 s of its
    last NOTIFY gets its newest NOTIFY once more 2 s after it is answered.
    A lone change is notified once."""
    sec = Secondary()
    transfer = {"notify": ["127.0.0.1:%d" % sec.port]}
    try:
        node.push_ok(zone_name, 1, 1, basic_records(), transfer=transfer)
        assert sec.wait_notify(zone_name, timeout=3.0) is not None
        assert sec.wait_notify(zone_name, timeout=3.0) is None     # alone: once
        node.push_ok(zone_name, 2, 2, basic_records(), transfer=transfer)
        first = sec.wait_notify(zone_name, timeout=3.0)
        node.push_ok(zone_name, 3, 3, basic_records(), transfer=transfer)
        newest = sec.wait_notify(zone_name, timeout=3.0)
        assert first is not None and newest is not None and newest.id != first.id
        answered = time.monotonic()
        again = sec.wait_notify(zone_name, timeout=4.0)
        assert again is not None, "the burst's newest NOTIFY was not sent again"
        assert time.monotonic() - answered >= 1.5
        assert again.id == newest.id
        assert sec.wait_notify(zone_name, timeout=3.0) is None     # once more only
    finally:
        sec.close()
