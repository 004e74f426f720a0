"""Third-party secondaries kept in step: a real BIND named and a real
knotd, configured once with the cluster's catalog zone (RFC 9432) and a
TSIG key, serve every zone the cluster has, follow changes after NOTIFY and
drop deleted zones; transfers without the allowed key are refused; bad
transfer settings are a 4xx that changes nothing; nobody edits the catalog
zone by hand."""

import hashlib
import socket
import time

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.query
import dns.tsigkeyring
import dns.xfr
import dns.zone
import pytest

import harness
from secondaries import Bind, Knot

pytest_plugins = ["cluster_fixtures"]

CATALOG = "catalog.test."
KEY = "xfr-key.test."
OTHER_KEY = "other-key.test."
BIND_ADDR, KNOT_ADDR, STRANGER = "127.0.0.3", "127.0.0.4", "127.0.0.9"


@pytest.fixture(scope="module")
def xfr(tmp_path_factory):
    """A 2-node cluster with a catalog zone, a transfer key, and BIND
    (transferring from node 1) and Knot (from node 2) as its secondaries."""
    from cluster_fixtures import ClusterFactory
    base = tmp_path_factory.mktemp("xfr_out")
    f = ClusterFactory(base)
    bind = Bind(base / "named", BIND_ADDR)
    knot = Knot(base / "knotd", KNOT_ADDR)
    try:
        c = f(n=2, whm_config={"catalog-zone": CATALOG})
        key = c.whm.call("POST", "/api/dns/tsig-keys", {"name": KEY}, expect=201)
        other = c.whm.call("POST", "/api/dns/tsig-keys", {"name": OTHER_KEY}, expect=201)
        c.whm.call("PUT", "/api/dns/transfers", {
            "allow": [{"from": BIND_ADDR, "key": KEY}, {"from": KNOT_ADDR, "key": KEY}],
            "notify": ["127.0.0.1:%d" % bind.port, "127.0.0.1:%d" % knot.port],
        }, expect=200)
        n1, n2 = c.nodes
        c.wait_all_nodes("version." + CATALOG, "TXT", ['"2"'])
        wait_transferable(c, CATALOG, key)
        bind.start(CATALOG, (n1.address, n1.transfer_port), key)
        knot.start(CATALOG, (n2.address, n2.transfer_port), key)
        c.key, c.other_key, c.bind, c.knot = key, other, bind, knot
        yield c
    finally:
        for s in (bind, knot):
            print("--- %s log ---\n%s" % (s.kind, s.logs()))
            s.stop()
        f.close()


def keyring(k):
    return dns.tsigkeyring.from_text({k["name"]: (k["algorithm"], k["secret"])})


def axfr(node, zone, key=None, source=BIND_ADDR, port=None):
    """The zone's records by AXFR from 'node' (its transfer port unless
    'port' is given), from address 'source'."""
    kw = {"keyring": keyring(key), "keyname": key["name"]} if key else {}
    z = dns.zone.from_xfr(dns.query.xfr(node.address, zone, port=port or node.transfer_port,
                                        timeout=5, source=source, **kw))
    return z


def first_answer(node, zone, rtype, key=None, source=BIND_ADDR, udp=False):
    """The first message of the answer to 'rtype' for 'zone' at the node's
    transfer port (its TSIG checked by dnspython when 'key' is given)."""
    q = dns.message.make_query(zone, rtype)
    if key:
        q.use_tsig(keyring(key), keyname=key["name"])
    send = dns.query.udp if udp else dns.query.tcp
    return send(q, node.address, port=node.transfer_port, timeout=5, source=source)


def wait_transferable(c, zone, key, timeout=10.0):
    """Until every node gives 'zone' to 'key' (the settings pushed)."""
    deadline = time.monotonic() + timeout
    for node in c.nodes:
        while True:
            try:
                axfr(node, zone, key)
                break
            except Exception:
                assert time.monotonic() < deadline, "%s not transferable" % zone
                time.sleep(0.05)


def catalog_members(c):
    z = axfr(c.nodes[0], CATALOG, c.key)
    return {str(rd.target) for name, node in z.nodes.items() for rds in node.rdatasets
            for rd in rds if rds.rdtype == dns.rdatatype.PTR}


def test_secondaries_serve_every_zone_follow_changes_and_drop_deleted_zones(xfr, domain):
    c = xfr
    zid = c.create_zone(domain)
    fqdn = domain + "."
    serials = c.soa_serials(fqdn)
    assert len(set(serials.values())) == 1, serials
    for s in (c.bind, c.knot):
        s.wait_serves(fqdn, "NS", c.nodes[0].dig(fqdn, "NS"))
    # a change reaches both after the nodes' NOTIFY
    c.add_record(zid, "www", "A", "192.0.2.80")
    for s in (c.bind, c.knot):
        s.wait_serves("www." + fqdn, "A", ["192.0.2.80"], timeout=10)
        s.wait_serves(fqdn, "SOA", c.nodes[0].dig(fqdn, "SOA"), timeout=10)
    # a deleted zone leaves the catalog, and both secondaries drop it
    c.delete_zone(zid)
    for s in (c.bind, c.knot):
        s.wait_serves(fqdn, "SOA", None, timeout=20)


def test_catalog_lists_the_live_zones_with_one_serial_everywhere(xfr, zone_name):
    c = xfr
    zid = c.create_zone(zone_name.rstrip("."))
    assert harness.wait_until(lambda: zone_name in catalog_members(c), 10), catalog_members(c)
    c.wait_converged()
    serials = c.soa_serials(CATALOG)
    assert len(set(serials.values())) == 1, serials
    assert c.nodes[0].dig("version." + CATALOG, "TXT") == ['"2"']
    c.delete_zone(zid)
    assert harness.wait_until(lambda: zone_name not in catalog_members(c), 10), \
        catalog_members(c)


def test_a_transfer_without_the_allowed_key_is_refused(xfr, domain):
    c = xfr
    c.create_zone(domain)
    fqdn = domain + "."
    for node in c.nodes:
        assert axfr(node, fqdn, c.key).origin == dns.name.from_text(fqdn)
        with pytest.raises((dns.xfr.TransferError, dns.exception.DNSException, EOFError)):
            axfr(node, fqdn, None, source=STRANGER)
        with pytest.raises((dns.xfr.TransferError, dns.exception.DNSException, EOFError)):
            axfr(node, fqdn, c.other_key, source=STRANGER)
        # an unsigned question from the allowed address, over UDP and TCP
        for udp in (True, False):
            assert first_answer(node, fqdn, "SOA", udp=udp).rcode() == dns.rcode.REFUSED


def test_a_transfer_needs_an_allowed_address_and_its_key_together(xfr, domain):
    """Each node's transfer port checks both halves of a pair: the key
    from another address, the address without the key or with another key
    are refused; PowerDNS itself gives the zone to no secondary's key."""
    c = xfr
    c.create_zone(domain)
    fqdn = domain + "."
    refused = (dns.xfr.TransferError, dns.exception.DNSException, EOFError)
    for node in c.nodes:
        for source in (BIND_ADDR, KNOT_ADDR):
            assert axfr(node, fqdn, c.key, source=source).origin == dns.name.from_text(fqdn)
        for key, source in ((c.key, STRANGER), (None, BIND_ADDR), (c.other_key, BIND_ADDR)):
            with pytest.raises(refused):
                axfr(node, fqdn, key, source=source)
        m = first_answer(node, fqdn, "AXFR", c.key, source=STRANGER)
        assert m.rcode() == dns.rcode.REFUSED and not m.answer, m
        m = first_answer(node, fqdn, "AXFR", None, source=BIND_ADDR)
        assert m.rcode() == dns.rcode.REFUSED and not m.answer, m
        # the SOA a secondary checks the serial with, over UDP and TCP
        for udp in (True, False):
            m = first_answer(node, fqdn, "SOA", c.key, source=KNOT_ADDR, udp=udp)
            assert m.rcode() == dns.rcode.NOERROR and m.had_tsig, m
            assert m.answer[0].rdtype == dns.rdatatype.SOA
            m = first_answer(node, fqdn, "SOA", c.key, source=STRANGER, udp=udp)
            assert m.rcode() == dns.rcode.REFUSED and not m.answer, m
        # straight to PowerDNS, the secondary's key grants nothing
        with pytest.raises(refused):
            axfr(node, fqdn, c.key, source=BIND_ADDR, port=node.dns_port)


def test_names_match_in_any_case(xfr, domain):
    """DNS names compare without case (RFC 4343): a secondary may spell
    the zone or its key's name in capitals and is still served."""
    c = xfr
    c.create_zone(domain)
    fqdn = domain + "."
    shouted = dict(c.key, name=c.key["name"].upper())
    for node in c.nodes:
        for zone, key in ((fqdn.upper(), c.key), (fqdn, shouted), (fqdn.upper(), shouted)):
            assert axfr(node, zone, key).origin == dns.name.from_text(fqdn)
            m = first_answer(node, zone, "SOA", key, udp=True)
            assert m.rcode() == dns.rcode.NOERROR and m.had_tsig, m
        m = first_answer(node, fqdn.upper(), "SOA", shouted, source=STRANGER)
        assert m.rcode() == dns.rcode.REFUSED and not m.answer, m


def test_the_transfer_port_answers_bad_questions_and_goes_on(xfr, domain):
    c = xfr
    c.create_zone(domain)
    fqdn = domain + "."
    node = c.nodes[0]
    # a wrong secret: NOTAUTH with BADSIG, unsigned
    bad = dict(c.key, secret="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    q = dns.message.make_query(fqdn, "AXFR")
    q.use_tsig(keyring(bad), keyname=bad["name"])
    with pytest.raises(dns.exception.DNSException):
        dns.query.tcp(q, node.address, port=node.transfer_port, timeout=5, source=BIND_ADDR)
    # a transfer over UDP, a question that is not SOA or a transfer, garbage
    m = first_answer(node, fqdn, "AXFR", c.key, udp=True)
    assert m.rcode() == dns.rcode.NOTIMP, m
    m = first_answer(node, fqdn, "A", c.key)
    assert m.rcode() == dns.rcode.REFUSED, m
    with socket.create_connection((node.address, node.transfer_port), timeout=5) as s:
        s.sendall(b"\x00\x0e" + b"\x12\x34\x00\x00\x00\x01" + b"\xff" * 8)
        head = s.recv(2)
        assert len(head) == 2
        reply = s.recv(4096)
        assert reply[:2] == b"\x12\x34" and reply[3] & 0xF == dns.rcode.FORMERR, reply
    # a zone the cluster does not have
    m = first_answer(node, "nowhere-" + fqdn, "AXFR", c.key)
    assert m.rcode() == dns.rcode.REFUSED, m
    # and it still transfers
    assert axfr(node, fqdn, c.key).origin == dns.name.from_text(fqdn)


def test_a_trickling_or_refused_client_loses_its_connection(xfr, domain):
    """A question must arrive whole within 5 s of the node waiting for it:
    a client sending a byte a second is cut off however long it goes on.
    A refused question ends the connection after its answer."""
    c = xfr
    c.create_zone(domain)
    fqdn = domain + "."
    node = c.nodes[0]
    with socket.create_connection((node.address, node.transfer_port), timeout=5) as s:
        trickle = iter(b"\x00\x40" + b"\x12" * 64)  # a 64-byte question, a byte a second
        s.sendall(bytes([next(trickle)]))
        t0, closed = time.monotonic(), False
        while time.monotonic() - t0 < 9 and not closed:
            time.sleep(1)
            try:
                s.sendall(bytes([next(trickle)]))
                s.settimeout(0.01)
                closed = s.recv(16) == b""
            except socket.timeout:
                pass
            except OSError:
                closed = True
        assert closed, "a trickling client kept its connection"
        assert time.monotonic() - t0 < 7.5
    q = dns.message.make_query(fqdn, "A")
    wire = q.to_wire()
    with socket.create_connection((node.address, node.transfer_port), timeout=5) as s:
        s.sendall(len(wire).to_bytes(2, "big") + wire)
        head = s.recv(2)
        reply = b""
        while len(reply) < int.from_bytes(head, "big"):
            reply += s.recv(4096)
        assert dns.message.from_wire(reply).rcode() == dns.rcode.REFUSED
        s.settimeout(3)
        assert s.recv(16) == b"", "the connection stayed open after a refusal"


def test_the_transfer_port_bounds_its_connections_and_survives_a_restart(xfr, domain):
    c = xfr
    c.create_zone(domain)
    fqdn = domain + "."
    node = c.nodes[1]
    c.knot.wait_serves(fqdn, "NS", node.dig(fqdn, "NS"))

    def connect(source):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.connect((node.address, node.transfer_port))
        return s

    def served(s, wait=0.5):
        """Whether the node keeps the connection open (closed: not served).
        Connections held idle are closed after 5 s: the checks of those
        held are quick."""
        s.settimeout(wait)
        try:
            return s.recv(16) != b""
        except socket.timeout:
            return True
        except ConnectionResetError:
            return False

    # transfer-tcp-clients (16) held, 4 from each of 4 addresses (the most
    # one address may hold): one more from a fifth address is closed at once
    held = {src: [connect(src) for _ in range(4)]
            for src in ("127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8")}
    try:
        time.sleep(0.3)
        assert all(served(s, wait=0.05) for socks in held.values() for s in socks)
        with connect("127.0.0.10") as extra:
            assert not served(extra)
        # with 12 held, a fifth from one address is closed, another address served
        for s in held.pop("127.0.0.5"):
            s.close()
        time.sleep(0.3)
        with connect("127.0.0.6") as fifth:
            assert not served(fifth)
        with connect("127.0.0.10") as other:
            assert served(other)
    finally:
        for socks in held.values():
            for s in socks:
                s.close()
    deadline = time.monotonic() + 5
    while True:
        try:
            assert axfr(node, fqdn, c.key, source=KNOT_ADDR).origin == dns.name.from_text(fqdn)
            break
        except (dns.exception.DNSException, EOFError, OSError):
            assert time.monotonic() < deadline, "the transfer port did not come back"
            time.sleep(0.1)
    # a restarted agent makes a new relay key: transfers go on, Knot follows
    node.restart()
    assert axfr(node, fqdn, c.key, source=KNOT_ADDR).origin == dns.name.from_text(fqdn)
    c.add_record(c.whm.zones()[fqdn]["id"], "after-restart", "A", "192.0.2.81")
    c.knot.wait_serves("after-restart." + fqdn, "A", ["192.0.2.81"], timeout=10)


def test_settings_emptied_leave_nobody_a_transfer(xfr, domain):
    """A zone whose own settings become empty is refused to the pair that
    had it, even its SOA (the port answers that without PowerDNS)."""
    c = xfr
    zid = c.create_zone(domain)
    fqdn = domain + "."
    c.whm.call("PUT", "/api/dns/%d/transfers" % zid,
               {"allow": [{"from": STRANGER, "key": OTHER_KEY}]}, expect=200,
               params={"wait": "all"})
    for node in c.nodes:
        m = first_answer(node, fqdn, "SOA", c.other_key, source=STRANGER, udp=True)
        assert m.rcode() == dns.rcode.NOERROR, m
    c.whm.call("PUT", "/api/dns/%d/transfers" % zid, {"allow": [], "notify": []},
               expect=200, params={"wait": "all"})
    for node in c.nodes:
        m = first_answer(node, fqdn, "SOA", c.other_key, source=STRANGER, udp=True)
        assert m.rcode() == dns.rcode.REFUSED, m
        with pytest.raises((dns.xfr.TransferError, dns.exception.DNSException, EOFError)):
            axfr(node, fqdn, c.other_key, source=STRANGER)


BAD = [
    ({"allow": [{"from": "300.1.2.3", "key": KEY}]}, "from"),
    ({"allow": [{"from": "192.0.2.1/24", "key": KEY}]}, "from"),
    ({"allow": [{"from": "192.0.2.0/33", "key": KEY}]}, "from"),
    ({"allow": [{"from": "192.0.2.1, 192.0.2.2", "key": KEY}]}, "from"),
    ({"allow": [{"from": "192.0.2.1"}]}, "key"),
    ({"allow": [{"from": "192.0.2.1", "key": "no-such-key.test."}]}, "key"),
    ({"allow": [{"from": "192.0.2.1", "key": KEY, "port": 53}]}, "port"),
    ({"notify": ["example.com"]}, "notify"),
    ({"notify": ["192.0.2.1:0"]}, "notify"),
    ({"notify": ["192.0.2.1:70000"]}, "notify"),
    ({"notify": ["[2001:db8::1]"]}, "notify"),
    ({"notify": [5]}, "notify"),
    ({"allow": "192.0.2.1"}, "allow"),
    ({"other": []}, "other"),
]


@pytest.mark.parametrize("body,word", BAD)
def test_bad_transfer_settings_are_refused_and_change_nothing(xfr, domain, body, word):
    c = xfr
    zid = c.create_zone(domain)
    before_default = c.whm.call("GET", "/api/dns/transfers", expect=200)
    before_zone = c.whm.call("GET", "/api/dns/%d/transfers" % zid, expect=200)
    version = c.whm.zone(zid)["version"]
    for path in ("/api/dns/transfers", "/api/dns/%d/transfers" % zid):
        r = c.whm.put(path, body)
        assert r.status_code == 422, r.text
        assert word in r.json()["error"], r.text
    assert c.whm.call("GET", "/api/dns/transfers", expect=200) == before_default
    assert c.whm.call("GET", "/api/dns/%d/transfers" % zid, expect=200) == before_zone
    assert c.whm.zone(zid)["version"] == version


def test_a_zone_of_its_own_settings_and_back_to_the_default(xfr, domain):
    c = xfr
    zid = c.create_zone(domain)
    got = c.whm.call("GET", "/api/dns/%d/transfers" % zid, expect=200)
    assert got["default"] is True
    own = {"allow": [{"from": "192.0.2.0/24", "key": OTHER_KEY.upper()},
                     {"from": STRANGER, "key": OTHER_KEY}],
           "notify": ["2001:DB8::1", "[2001:db8::2]:5300"]}
    got = c.whm.call("PUT", "/api/dns/%d/transfers" % zid, own, expect=200,
                     params={"wait": "all"})
    assert got["default"] is False and got["changed"] is True
    assert got["allow"] == [{"from": "192.0.2.0/24", "key": OTHER_KEY},
                            {"from": STRANGER, "key": OTHER_KEY}]
    assert got["notify"] == ["2001:db8::1", "[2001:db8::2]:5300"]
    # the pair the zone names now transfers it; the default's no longer do
    for node in c.nodes:
        axfr(node, domain + ".", c.other_key, source=STRANGER)
        with pytest.raises((dns.xfr.TransferError, dns.exception.DNSException, EOFError)):
            axfr(node, domain + ".", c.key, source=BIND_ADDR)
    got = c.whm.call("DELETE", "/api/dns/%d/transfers" % zid, expect=200,
                     params={"wait": "all"})
    assert got["default"] is True
    pdns = c.whm.call("GET", "/api/v1/servers/localhost/zones/%s./metadata/TSIG-ALLOW-AXFR"
                      % domain, expect=200)
    assert pdns["metadata"] == [KEY]


def wait_listed(c, zone, listed, timeout=10.0):
    assert harness.wait_until(lambda: (zone in catalog_members(c)) == listed, timeout), \
        (zone, listed, sorted(catalog_members(c)))


def test_the_catalog_lists_only_the_zones_its_secondaries_may_transfer(xfr, domain):
    c = xfr
    fqdn = domain + "."
    zid = c.create_zone(domain)
    wait_listed(c, fqdn, True)
    for s in (c.bind, c.knot):
        s.wait_serves(fqdn, "NS", c.nodes[0].dig(fqdn, "NS"))

    def own(*allow):
        c.whm.call("PUT", "/api/dns/%d/transfers" % zid,
                   {"allow": [{"from": f, "key": k} for f, k in allow]}, expect=200,
                   params={"wait": "all"})

    # settings that shut the catalog's secondaries out: the zone leaves the
    # catalog (it is not disclosed to them) and both drop it instead of
    # retrying a refused transfer
    own((STRANGER, OTHER_KEY))
    wait_listed(c, fqdn, False)
    for s in (c.bind, c.knot):
        s.wait_serves(fqdn, "SOA", None)
    # everyone the default lets in, by a wider prefix, and someone else
    own(("127.0.0.0/24", KEY), (STRANGER, OTHER_KEY))
    wait_listed(c, fqdn, True)
    for s in (c.bind, c.knot):
        s.wait_serves(fqdn, "NS", c.nodes[0].dig(fqdn, "NS"))
    # one of the default's two entries only, or its addresses with another key
    for allow in [((BIND_ADDR, KEY),), ((BIND_ADDR, OTHER_KEY), (KNOT_ADDR, OTHER_KEY))]:
        own(*allow)
        wait_listed(c, fqdn, False)
        own((BIND_ADDR, KEY), (KNOT_ADDR, KEY))
        wait_listed(c, fqdn, True)
    own((STRANGER, OTHER_KEY))
    wait_listed(c, fqdn, False)
    # back to the default: listed again
    c.whm.call("DELETE", "/api/dns/%d/transfers" % zid, expect=200, params={"wait": "all"})
    wait_listed(c, fqdn, True)
    for s in (c.bind, c.knot):
        s.wait_serves(fqdn, "NS", c.nodes[0].dig(fqdn, "NS"))


def test_a_change_of_the_default_updates_the_catalogs_members(cluster_factory):
    c = a_catalog(cluster_factory)
    zid = c.create_zone("own.test")
    c.whm.call("PUT", "/api/dns/%d/transfers" % zid,
               {"allow": [{"from": "127.0.0.0/8", "key": KEY}]}, expect=200)
    wait_listed(c, "own.test.", True)
    # the default now lets in an address the zone's settings do not
    c.whm.call("PUT", "/api/dns/transfers",
               {"allow": [{"from": BIND_ADDR, "key": KEY}, {"from": "2001:db8::53", "key": KEY}]},
               expect=200)
    wait_listed(c, "own.test.", False)
    c.whm.call("PUT", "/api/dns/transfers", {"allow": [{"from": BIND_ADDR, "key": KEY}]},
               expect=200)
    wait_listed(c, "own.test.", True)


def catalog_labels(c):
    """{member zone: its unique id (the label under zones.)}"""
    z = axfr(c.nodes[0], CATALOG, c.key)
    return {str(rd.target): str(name).split(".")[0] for name, node in z.nodes.items()
            for rds in node.rdatasets for rd in rds if rds.rdtype == dns.rdatatype.PTR}


def test_a_zone_created_again_is_another_member(xfr, domain):
    c = xfr
    fqdn = domain + "."
    zid = c.create_zone(domain)
    wait_listed(c, fqdn, True)
    # its first life: the SHA-1 of its name, as PowerDNS's producer makes it
    assert catalog_labels(c)[fqdn] == hashlib.sha1(fqdn.encode()).hexdigest()
    c.add_record(zid, "old", "A", "192.0.2.1")
    for s in (c.bind, c.knot):
        s.wait_serves("old." + fqdn, "A", ["192.0.2.1"])
    # deleted and created again at once, in one catalog version or two:
    # another unique id, so the secondaries reset the member (RFC 9432
    # section 5.5) and serve the new zone only
    c.delete_zone(zid)
    assert c.create_zone(domain) == zid       # the same row, revived
    label = hashlib.sha1((fqdn + "#1").encode()).hexdigest()
    assert harness.wait_until(lambda: catalog_labels(c).get(fqdn) == label, 10), catalog_labels(c)
    for s in (c.bind, c.knot):
        s.wait_serves("old." + fqdn, "A", None)
        s.wait_serves(fqdn, "SOA", c.nodes[0].dig(fqdn, "SOA"))


def test_the_catalog_zone_cannot_be_edited_by_hand(xfr):
    c = xfr
    cid = c.whm.zones()[CATALOG]["id"]
    for method, path, body in [
        ("POST", "/api/dns/%d/records" % cid, {"name": "x", "type": "A", "content": "192.0.2.1"}),
        ("DELETE", "/api/dns/%d" % cid, None),
        ("PUT", "/api/dns/%d/transfers" % cid, {"allow": []}),
        ("POST", "/api/dns/%d/increase-serial" % cid, None),
        ("POST", "/api/dns", {"domain": CATALOG}),
    ]:
        r = c.whm.request(method, path, body)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert "catalog" in r.json()["error"]


def test_powerdns_metadata_kinds_are_the_transfer_settings(xfr, domain):
    c = xfr
    zid = c.create_zone(domain)
    base = "/api/v1/servers/localhost/zones/%s./metadata" % domain

    def kind(k):
        return c.whm.call("GET", base + "/" + k, expect=200)["metadata"]

    assert kind("TSIG-ALLOW-AXFR") == [KEY]      # the cluster's default shows through
    c.whm.call("PUT", base + "/TSIG-ALLOW-AXFR", {"metadata": [OTHER_KEY]}, expect=200)
    c.whm.call("PUT", base + "/ALLOW-AXFR-FROM", {"metadata": ["192.0.2.0/24", "2001:db8::/32"]},
               expect=200)
    c.whm.call("POST", base, {"kind": "ALSO-NOTIFY", "metadata": ["192.0.2.53:5300"]},
               expect=201)
    got = c.whm.call("GET", "/api/dns/%d/transfers" % zid, expect=200)
    assert got["default"] is False
    assert got["allow"] == [{"from": "192.0.2.0/24", "key": OTHER_KEY},
                            {"from": "2001:db8::/32", "key": OTHER_KEY}]
    assert "192.0.2.53:5300" in got["notify"]
    kinds = [m["kind"] for m in c.whm.call("GET", base, expect=200)]
    assert kinds[:2] == ["ALLOW-AXFR-FROM", "ALSO-NOTIFY"] and "TSIG-ALLOW-AXFR" in kinds
    r = c.whm.put(base + "/ALLOW-AXFR-FROM", {"metadata": ["192.0.2.1/24"]})
    assert r.status_code == 422, r.text
    assert kind("ALLOW-AXFR-FROM") == ["192.0.2.0/24", "2001:db8::/32"]
    assert c.whm.delete(base + "/TSIG-ALLOW-AXFR").status_code == 200
    assert kind("TSIG-ALLOW-AXFR") == [] and kind("ALLOW-AXFR-FROM") == []


def test_a_rotated_key_reaches_the_nodes(xfr, domain):
    c = xfr
    c.create_zone(domain)
    name = "rotate." + domain + "."
    k = c.whm.call("POST", "/api/dns/tsig-keys", {"name": name}, expect=201)
    zid = c.whm.zones()[domain + "."]["id"]
    c.whm.call("PUT", "/api/dns/%d/transfers" % zid,
               {"allow": [{"from": STRANGER, "key": name}]}, expect=200,
               params={"wait": "all"})
    for node in c.nodes:
        axfr(node, domain + ".", k, source=STRANGER)
    new = c.whm.call("PUT", "/api/dns/tsig-keys/" + name, {"rotate": True}, expect=200)
    assert new["secret"] != k["secret"]
    deadline = time.monotonic() + 10
    for node in c.nodes:
        while True:
            try:
                axfr(node, domain + ".", new, source=STRANGER)
                break
            except Exception:
                assert time.monotonic() < deadline, "the new secret did not reach %s" % node
                time.sleep(0.05)
        with pytest.raises((dns.xfr.TransferError, dns.exception.DNSException, EOFError)):
            axfr(node, domain + ".", k, source=STRANGER)


def wait_transfer(node, zone, key, ok, timeout=10.0):
    """Until an AXFR of 'zone' with 'key' from STRANGER succeeds ('ok') or
    is refused; False if it never did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            axfr(node, zone, key, source=STRANGER)
            if ok:
                return True
        except (dns.xfr.TransferError, dns.exception.DNSException, EOFError, OSError):
            if not ok:
                return True
        time.sleep(0.05)
    return False


def test_a_key_made_again_or_renamed_serves_the_zones_that_still_name_it(xfr, domain):
    """Settings keep naming a deleted key, and the API shows them so: a
    key made again under that name, or another key renamed to it, reaches
    the nodes for those zones at once, not at their next change."""
    c = xfr
    c.create_zone(domain)
    fqdn = domain + "."
    name, other = "again." + fqdn, "renamed." + fqdn
    k = c.whm.call("POST", "/api/dns/tsig-keys", {"name": name}, expect=201)
    zid = c.whm.zones()[fqdn]["id"]
    c.whm.call("PUT", "/api/dns/%d/transfers" % zid,
               {"allow": [{"from": STRANGER, "key": name}]}, expect=200,
               params={"wait": "all"})
    for node in c.nodes:
        assert wait_transfer(node, fqdn, k, True)
    c.whm.call("DELETE", "/api/dns/tsig-keys/" + name, expect=200)
    for node in c.nodes:
        assert wait_transfer(node, fqdn, k, False), "a deleted key still transfers"
    got = c.whm.call("GET", "/api/dns/%d/transfers" % zid, expect=200)
    assert got["allow"] == [{"from": STRANGER, "key": name}]
    again = c.whm.call("POST", "/api/dns/tsig-keys", {"name": name}, expect=201)
    for node in c.nodes:
        assert wait_transfer(node, fqdn, again, True), "the key made again is refused"
    c.whm.call("DELETE", "/api/dns/tsig-keys/" + name, expect=200)
    o = c.whm.call("POST", "/api/dns/tsig-keys", {"name": other}, expect=201)
    for node in c.nodes:
        assert wait_transfer(node, fqdn, again, False)
    c.whm.call("PUT", "/api/dns/tsig-keys/" + other, {"name": name}, expect=200)
    renamed = dict(o, name=name)
    for node in c.nodes:
        assert wait_transfer(node, fqdn, renamed, True), "the renamed key is refused"


def test_yumnactl_transfers_sets_shows_and_drops_a_zones_settings(xfr, domain, tmp_path):
    from test_yumnactl import Ctl, REFUSED, USAGE
    c = xfr
    ctl = Ctl(c, tmp_path)
    c.create_zone(domain)
    out = ctl.run("transfers", "set", "--allow", "192.0.2.0/24=" + OTHER_KEY,
                  "--notify", "192.0.2.53:5300", domain).stdout
    assert "allow 192.0.2.0/24 key %s" % OTHER_KEY in out and "notify 192.0.2.53:5300" in out
    shown = ctl.json("transfers", "show", domain)
    assert shown["default"] is False and shown["notify"] == ["192.0.2.53:5300"]
    bad = ctl.run("transfers", "set", "--allow", "192.0.2.1/24=" + OTHER_KEY, domain,
                  expect=REFUSED)
    assert "from" in bad.stderr
    ctl.run("transfers", "set", "--allow", "no-key-here", domain, expect=USAGE)
    ctl.run("transfers", "default", domain)
    assert ctl.json("transfers", "show", domain)["default"] is True
    assert "allow 127.0.0.3 key %s" % KEY in ctl.run("transfers", "show").stdout


def test_catalog_follows_a_burst_of_concurrent_creates_and_deletes(xfr, domain):
    from concurrent.futures import ThreadPoolExecutor
    c = xfr
    names = ["b%02d.%s" % (i, domain) for i in range(24)]
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda n: c.create_zone(n, wait=False), names))
        list(pool.map(lambda i: c.delete_zone(i, wait=False), ids[::3]))
    live = {n + "." for i, n in enumerate(names) if i % 3}
    wait_catalog_of(c, domain, live)
    c.wait_converged()
    assert len(set(c.soa_serials(CATALOG).values())) == 1
    # the catalog zone's history cannot be rolled back by hand either
    cid = c.whm.zones()[CATALOG]["id"]
    r = c.whm.post("/api/dns/%d/rollback" % cid, {"version": 1})
    assert r.status_code == 403, r.text
    gone = {n + "." for i, n in enumerate(names) if i % 3 == 0}
    serves_exactly(c, c.bind, live, gone)
    # knotd 3.2 takes each transfer of the catalog ("catalog reloaded, N
    # updates") and changes its members later, once for every transfer
    # taken meanwhile ("catalog, updating, M changes"). That merge keeps a
    # member which an earlier of those transfers lists and a later one no
    # longer does: knotd serves it, and asks the nodes for it (refused),
    # though its own copy of the catalog does not list it. One run of this
    # test (knotd 3.2.6, the machine busy):
    #   [catalog.test.] catalog reloaded, 24 updates  (serial ..11 -> ..18)
    #   [catalog.test.] catalog reloaded, 0 updates   (serial ..18 -> ..22)
    #   catalog, updating, 24 changes
    # ..18 listed all 24 zones, ..22 the 16 live ones; knotd's catalog
    # database (kcatalogprint) kept the 24. A transfer that knotd takes
    # with none waiting starts again from that database and drops such
    # members. So: knotd holds the catalog's last serial; one more zone
    # comes (knotd serves it: every transfer before was applied) and goes;
    # then knotd has exactly the live zones.
    wait_knot_catalog(c)
    settle = "settle.%s." % domain
    sid = c.create_zone(settle.rstrip("."))
    c.knot.wait_serves(settle, "NS", c.nodes[0].dig(settle, "NS"))
    c.delete_zone(sid)
    wait_catalog_of(c, domain, live)
    c.wait_converged()
    wait_knot_catalog(c)
    serves_exactly(c, c.knot, live, gone | {settle})
    assert harness.wait_until(
        lambda: {m for m in c.knot.members() if m.endswith(domain + ".")} == live, 20,
        interval=0.1), (sorted(c.knot.members()), c.knot.logs())


def serves_exactly(c, secondary, live, gone):
    """Until 'secondary' serves every zone of 'live' as the nodes do, and
    none of 'gone'."""
    for name in sorted(live):
        secondary.wait_serves(name, "NS", c.nodes[0].dig(name, "NS"))
    for name in sorted(gone):
        secondary.wait_serves(name, "SOA", None)


def wait_knot_catalog(c, timeout=20.0):
    """Until knotd holds the serial of the catalog the nodes serve."""
    want = c.soa_serials(CATALOG)[c.nodes[0].name]
    assert harness.wait_until(lambda: c.knot.catalog_serial() == want, timeout, interval=0.1), \
        (c.knot.catalog_serial(), want, c.knot.logs())


def wait_catalog_of(c, domain, want, timeout=20.0):
    """Until the catalog's members below 'domain' are 'want'."""
    def members():
        return {m for m in catalog_members(c) if m.endswith(domain + ".")}
    assert harness.wait_until(lambda: members() == want, timeout, interval=0.1), \
        sorted(members() ^ want)


def wait_catalog(c, want, timeout=15.0):
    """Until the catalog's members are 'want' (a set of names)."""
    assert harness.wait_until(lambda: catalog_members(c) == want, timeout, interval=0.1), \
        (sorted(catalog_members(c)), sorted(want))


def a_catalog(cluster_factory, catalog=CATALOG, **whm_config):
    """A 1-node cluster keeping the catalog 'catalog', transferable by KEY
    from BIND_ADDR."""
    c = cluster_factory(n=1, whm_config=dict(whm_config, **{"catalog-zone": catalog}))
    c.key = c.whm.call("POST", "/api/dns/tsig-keys", {"name": KEY}, expect=201)
    c.whm.call("PUT", "/api/dns/transfers", {"allow": [{"from": BIND_ADDR, "key": KEY}]},
               expect=200)
    wait_transferable(c, catalog, c.key)
    return c


@pytest.mark.parametrize("last,ok", [(14, True), (15, False)])
def test_a_catalog_name_too_long_for_its_members_is_refused(tmp_path, last, ok):
    """A member is <40 hex digits>.zones.<catalog>: the catalog's name may
    take 208 of the 255 octets of a name, and a longer one is refused by
    the configuration check, before anything starts."""
    import subprocess
    from cluster import Whm

    name = ".".join(["a" * 63] * 3 + ["b" * last]) + "."
    assert len(dns.name.from_text(name).to_wire()) == 194 + last
    whm = Whm(tmp_path / "whm", config={"catalog-zone": name})
    p = subprocess.run([whm.binary, "-n", "-c", whm.conf_path], capture_output=True, timeout=30)
    err = p.stderr.decode()
    if ok:
        assert p.returncode == 0, err
    else:
        assert p.returncode != 0
        assert "catalog-zone" in err and "208 octets" in err, err


def test_the_catalog_is_not_bound_by_max_zone_records(cluster_factory):
    # 6 members and the NS and version records: more than the 6 records a
    # customer's zone may hold here
    c = a_catalog(cluster_factory, **{"max-zone-records": 6})
    ids = {"m%d.test." % i: c.create_zone("m%d.test" % i) for i in range(6)}
    wait_catalog(c, set(ids))
    c.delete_zone(ids.pop("m0.test."))
    wait_catalog(c, set(ids))
    c.wait_converged()
    # The catalog's thread counts the members after its commit, which the
    # nodes may serve first.
    want = {"zone": CATALOG, "state": "ok", "members": 5}

    def catalog():
        return c.whm.call("GET", "/api/dns/cluster/status", expect=200)["catalog"]
    assert harness.wait_until(lambda: catalog() == want, 5), (catalog(), want)
    assert "not brought up to date" not in c.whm.logs()
    # the customers' zones are still bound
    r = c.whm.request("PUT", "/api/dns/%d/records" % ids["m1.test."],
                      {"records": [{"name": "r%d" % i, "type": "A", "content": "192.0.2.1"}
                                   for i in range(6)]})
    assert r.status_code == 413, r.text


def test_a_failing_catalog_is_reported_once_and_its_recovery_too(cluster_factory):
    import sqlite3
    c = a_catalog(cluster_factory)
    cid = c.whm.zones()[CATALOG]["id"]

    def status():
        return c.whm.call("GET", "/api/dns/cluster/status", expect=200)["catalog"]

    def events(kind):
        got = c.whm.call("GET", "/api/dns/cluster/events", expect=200)["events"]
        return [e for e in got if e["kind"] == kind]

    def store(sql):
        con = sqlite3.connect(c.whm.store_path, timeout=10)
        try:
            con.execute(sql)
            con.commit()
        finally:
            con.close()

    assert status() == {"zone": CATALOG, "state": "ok", "members": 0}
    # the store refuses every record written into the catalog zone: each
    # pass fails while there is a member to add
    store("CREATE TRIGGER fault BEFORE INSERT ON dns_records WHEN NEW.zone_id = %d "
          "BEGIN SELECT RAISE(ABORT, 'catalog rows refused'); END" % cid)
    c.create_zone("member.test")
    assert harness.wait_until(lambda: status()["state"] == "failing", 10, interval=0.1), status()
    assert "replacing the records" in status()["lastError"] and status()["since"] > 0, status()
    time.sleep(4)    # retried meanwhile: after 1 s, then 2 s
    assert status()["state"] == "failing"
    [failed] = events("catalog.failed")
    assert failed["zone"] == CATALOG and "not brought up to date" in failed["message"]
    assert c.whm.logs(lines=10000).count("not brought up to date") == 1, c.whm.logs()
    assert catalog_members(c) == set()
    # the store takes them again: up to date, said once as well
    store("DROP TRIGGER fault")
    assert harness.wait_until(lambda: status()["state"] == "ok", 40, interval=0.2), status()
    assert status() == {"zone": CATALOG, "state": "ok", "members": 1}
    # The event is added after the state the wait above saw turn ok.
    harness.wait_until(lambda: events("catalog.recovered"), 5)
    assert len(events("catalog.recovered")) == 1 and len(events("catalog.failed")) == 1
    wait_catalog(c, {"member.test."})
