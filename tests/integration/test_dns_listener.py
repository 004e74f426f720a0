"""The controller's DNS listener under bad input: malformed, truncated and
oversized messages over UDP and TCP, stalled and idle TCP clients, more
clients than it keeps. Each is dropped or answered FORMERR, changes
nothing, and never keeps an honest client waiting."""

import io
import os
import socket
import struct
import subprocess
import time

import dns.message
import dns.rrset
import pytest

import harness
from cluster import WHM
from dnsupdate_tools import (exchange_tcp, exchange_udp, keyring, listener, listener_cluster,
                             rcode_of, recv_exact, send, update, wire, zone_version,
                             zone_with_key)

pytest_plugins = ["cluster_fixtures"]

MAX_MESSAGE = 1024


@pytest.fixture(scope="module")
def lcluster(tmp_path_factory):
    with listener_cluster(tmp_path_factory.mktemp("dnslistener"), n=1,
                          **{"dns-max-message-size": MAX_MESSAGE}) as c:
        yield c


@pytest.fixture()
def zone(lcluster, domain):
    return zone_with_key(lcluster, domain)


def signed_add(name, key, owner="ok", ip="192.0.2.1"):
    u = update(name, key)
    u.add(owner, 300, "A", ip)
    return u


def no_answer_udp(addr, data, wait=0.5):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(wait)
        s.sendto(data, addr)
        try:
            s.recv(65535)
        except socket.timeout:
            return True
    return False


def closed_by_server(s, within):
    """Whether the server closes 's' within 'within' seconds."""
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test_malformed_and_truncated_messages_get_formerr_or_nothing(lcluster, zone):
    zid, name, key = zone
    addr = listener(lcluster.whm)
    before = zone_version(lcluster.whm, zid)
    good = wire(signed_add(name, key))
    # Shorter than a header: nothing to answer.
    assert no_answer_udp(addr, b"\x12\x34\x28")
    # A response (QR set) is never answered: no loops between servers.
    resp = bytearray(good)
    resp[2] |= 0x80
    assert no_answer_udp(addr, bytes(resp))
    # Truncated anywhere: FORMERR, over UDP and TCP alike.
    for cut in (13, len(good) // 2, len(good) - 5):
        assert rcode_of(exchange_udp(addr, good[:cut])) == "FORMERR", cut
        assert rcode_of(exchange_tcp(addr, good[:cut])) == "FORMERR", cut
    # Random bytes behind a plausible header.
    junk = good[:12] + os.urandom(200)
    assert rcode_of(exchange_udp(addr, junk)) in ("FORMERR", "NOTAUTH", "REFUSED")
    assert zone_version(lcluster.whm, zid) == before
    # The listener is still there and honest updates go through.
    assert send(addr, signed_add(name, key), key)[0] == "NOERROR"
    assert zone_version(lcluster.whm, zid) == before + 1


def test_oversized_messages_are_dropped(lcluster, zone):
    zid, name, key = zone
    addr = listener(lcluster.whm)
    before = zone_version(lcluster.whm, zid)
    big = update(name, key)
    for i in range(40):
        big.add("big%d" % i, 300, "TXT", "x" * 60)
    data = wire(big)
    assert len(data) > MAX_MESSAGE
    assert no_answer_udp(addr, data)
    with socket.create_connection(addr, timeout=5) as s:
        s.sendall(struct.pack("!H", len(data)) + data)
        assert closed_by_server(s, 2.0)
    assert zone_version(lcluster.whm, zid) == before


def test_a_stalled_tcp_client_is_closed_and_blocks_nobody(lcluster, zone):
    zid, name, key = zone
    addr = listener(lcluster.whm)
    good = wire(signed_add(name, key, "fast"))
    stalled = socket.create_connection(addr, timeout=5)
    # Half a length, then half a message: the listener waits for neither.
    stalled.sendall(struct.pack("!H", len(good))[:1])
    half = socket.create_connection(addr, timeout=5)
    half.sendall(struct.pack("!H", len(good)) + good[:len(good) // 2])
    try:
        t0 = time.monotonic()
        answer = exchange_tcp(addr, good)
        assert rcode_of(answer) == "NOERROR"
        assert time.monotonic() - t0 < 0.5
        # dns-tcp-timeout-ms is 1000 in the test: both go within it and a bit.
        assert closed_by_server(stalled, 3.0)
        assert closed_by_server(half, 3.0)
    finally:
        stalled.close()
        half.close()


def connect_from(addr, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(addr)
    return s


def test_tcp_clients_past_the_limit_are_closed_at_once(lcluster, zone):
    """dns-tcp-clients (8 in the test) at once, a quarter of them (4 at
    least) from one address at most: one more from a held address, or from
    anywhere once all are held, is closed at once."""
    zid, name, key = zone
    addr = listener(lcluster.whm)
    limit = int(lcluster.whm.config()["dns-tcp-clients"])
    per_address = max(limit // 4, 4)
    sources = ["127.0.0.%d" % (10 + i // per_address) for i in range(limit)]
    idle = [connect_from(addr, src) for src in sources]
    try:
        time.sleep(0.1)
        assert not any(closed_by_server(s, 0.01) for s in idle)
        extra = connect_from(addr, "127.0.0.99")
        assert closed_by_server(extra, 0.5)
        extra.close()
        # a place left by one address is not another's from the same one
        idle.pop().close()
        time.sleep(0.2)
        extra = connect_from(addr, sources[0])
        assert closed_by_server(extra, 0.5)
        extra.close()
        # UDP is never held up by TCP clients.
        assert send(addr, signed_add(name, key, "udp"), key)[0] == "NOERROR"
    finally:
        for s in idle:
            s.close()
    # Their slots are free again.
    time.sleep(0.2)
    assert send(addr, signed_add(name, key, "tcp"), key, tcp=True)[0] == "NOERROR"


def test_two_messages_on_one_connection_are_both_answered(lcluster, zone):
    zid, name, key = zone
    addr = listener(lcluster.whm)
    a = wire(signed_add(name, key, "one"))
    b = wire(signed_add(name, key, "two"))
    with socket.create_connection(addr, timeout=5) as s:
        s.sendall(struct.pack("!H", len(a)) + a + struct.pack("!H", len(b)) + b)
        for _ in range(2):
            n = struct.unpack("!H", recv_exact(s, 2))[0]
            assert rcode_of(recv_exact(s, n)) == "NOERROR"


def test_a_listener_address_that_is_not_one_is_a_config_error(tmp_path):
    conf = tmp_path / "whm.conf"
    for bad in ("localhost", "192.0.2.300", "::g"):
        conf.write_text("store-path = %s\ndns-listen-address = %s\n"
                        % (tmp_path / "whm.sqlite3", bad))
        os.chmod(conf, 0o600)
        p = subprocess.run([WHM, "-n", "-c", str(conf)], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode != 0 and "dns-listen-address" in p.stderr, (bad, p.stderr)


def test_truncated_and_replayed_macs_change_nothing(lcluster, zone):
    zid, name, key = zone
    addr = listener(lcluster.whm)
    u = signed_add(name, key, "mac")
    signed = wire(u)
    rd = u.tsig[0]
    before = zone_version(lcluster.whm, zid)
    # The same update with its MAC cut to 10 bytes (RFC 8945 §5.2.2.1):
    # the unsigned message, then dnspython's own TSIG record with the
    # shorter MAC, and one more additional record in the header.
    unsigned = dns.message.from_wire(signed, keyring=keyring(key))
    unsigned.tsig = None
    unsigned.keyring = None
    body = unsigned.to_wire()
    short = dns.rrset.from_rdata(u.tsig.name, 0, rd.replace(mac=rd.mac[:10]))
    out = io.BytesIO()
    short.to_wire(out)
    data = bytearray(body + out.getvalue())
    data[10:12] = struct.pack("!H", struct.unpack("!H", body[10:12])[0] + 1)
    for exchange in (exchange_udp, exchange_tcp):
        assert rcode_of(exchange(addr, bytes(data))) in ("NOTAUTH", "FORMERR")
    assert zone_version(lcluster.whm, zid) == before
    # A replay within the fudge is the same update again: it adds a record
    # that is there, so it commits nothing.
    assert rcode_of(exchange_udp(addr, signed)) == "NOERROR"
    assert zone_version(lcluster.whm, zid) == before + 1
    assert rcode_of(exchange_udp(addr, signed)) == "NOERROR"
    assert zone_version(lcluster.whm, zid) == before + 1


def test_a_listener_port_in_use_stops_the_controller_with_a_reason(tmp_path):
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    try:
        conf = tmp_path / "whm.conf"
        conf.write_text("store-path = %s\nlisten-port = %d\ndns-listen-address = 127.0.0.1\n"
                        "dns-listen-port = %d\n" % (tmp_path / "whm.sqlite3",
                                                    harness.free_port(),
                                                    taken.getsockname()[1]))
        os.chmod(conf, 0o600)
        p = subprocess.run([WHM, "-c", str(conf)], capture_output=True, text=True, timeout=60)
    finally:
        taken.close()
    assert p.returncode != 0
    assert "dns: cannot listen on 127.0.0.1 port" in p.stderr, p.stderr
