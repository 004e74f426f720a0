"""Helpers for the RFC 2136 tests: a cluster whose controller listens for
DNS, TSIG keys and update policies made through the panel's routes, and
UPDATE messages built and signed with dnspython (the wire is never written
by hand)."""

import contextlib
import socket
import struct
import subprocess
from unittest import mock

import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update

import harness
from cluster import Cluster

POLICIES = "/api/dns/update-policies"
KEYS = "/api/dns/tsig-keys"


def dns_config():
    """whm.conf keys for a listener on a port chosen now."""
    port = harness.free_ports(1, udp=(0,))[0]
    return {"dns-listen-address": "127.0.0.1", "dns-listen-port": port,
            "dns-tcp-timeout-ms": 1000, "dns-tcp-clients": 8}


@contextlib.contextmanager
def listener_cluster(base, n=3, **conf):
    """A cluster of 'n' nodes whose controller listens for DNS, with the
    whm.conf keys 'conf' besides."""
    c = Cluster(base, n=n, whm_config=dict(dns_config(), **conf))
    try:
        yield c
    finally:
        c.stop()


def zone_with_key(c, domain):
    """A zone of cluster 'c' and a key allowed every name of it:
    (zone id, zone name with its dot, key)."""
    zid = c.create_zone(domain)
    key = make_key(c.whm, "k." + domain)
    grant(c.whm, key[0], [{"zone": domain, "match": "zone", "types": ["ANY"]}])
    return zid, domain + ".", key


def listener(whm):
    return ("127.0.0.1", int(whm.config()["dns-listen-port"]))


def make_key(whm, name, algorithm="hmac-sha256"):
    """A TSIG key made by the controller: (name with dot, algorithm, secret)."""
    k = whm.call("POST", KEYS, {"name": name, "algorithm": algorithm}, expect=201)
    return k["name"], k["algorithm"], k["secret"]


def grant(whm, key, rules):
    return whm.call("PUT", "%s/%s" % (POLICIES, key), {"rules": rules}, expect=200)


def keyring(key):
    name, alg, secret = key
    return dns.tsig.Key(name, secret, alg)


def update(zone, key=None, signed_at=None):
    """A dns.update.UpdateMessage for 'zone', signed with 'key' if given."""
    u = dns.update.UpdateMessage(zone)
    if key is not None:
        u.use_tsig(keyring(key))
    return u


def wire(msg, signed_at=None):
    """The message's wire form; its TSIG signed at 'signed_at' (Unix time)."""
    if signed_at is None:
        return msg.to_wire()
    with mock.patch("time.time", return_value=float(signed_at)):
        return msg.to_wire()


def rcode_of(data):
    return dns.rcode.to_text(data[3] & 0x0F)


def exchange_udp(addr, data, timeout=5.0):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, addr)
        return s.recv(65535)


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(out), n))
        out += chunk
    return out


def exchange_tcp(addr, data, timeout=5.0):
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(struct.pack("!H", len(data)) + data)
        n = struct.unpack("!H", recv_exact(s, 2))[0]
        return recv_exact(s, n)


def send(addr, msg, key=None, signed_at=None, tcp=False):
    """Send 'msg' and return (rcode text, TSIG outcome): the outcome is
    "signed" for an answer whose TSIG dnspython verified with 'key', the
    TSIG error's name for an answer carrying one, None when unsigned."""
    data = wire(msg, signed_at)
    answer = (exchange_tcp if tcp else exchange_udp)(addr, data)
    rcode = rcode_of(answer)
    try:
        dns.message.from_wire(answer, keyring=keyring(key) if key else None,
                              request_mac=msg.mac if key else b"")
        return rcode, ("signed" if key and b"\x00\xfa" in answer else None)
    except dns.tsig.PeerBadKey:
        return rcode, "BADKEY"
    except dns.tsig.PeerBadSignature:
        return rcode, "BADSIG"
    except dns.tsig.PeerBadTime:
        return rcode, "BADTIME"
    except dns.message.UnknownTSIGKey:
        return rcode, "unverified"


def zone_version(whm, zone_id):
    return whm.call("GET", "/api/dns/%d" % zone_id, expect=200)["version"]


def keyfile(path, key):
    """A BIND key file for nsupdate -k."""
    name, alg, secret = key
    with open(path, "w") as f:
        f.write('key "%s" {\n\talgorithm %s;\n\tsecret "%s";\n};\n' % (name, alg, secret))
    return str(path)


def run_nsupdate(addr, key_path, script, timeout=30):
    text = "server %s %d\n%s\nsend\n" % (addr[0], addr[1], script)
    return subprocess.run(["nsupdate", "-v", "-k", key_path], input=text, text=True,
                          capture_output=True, timeout=timeout)


def run_knsupdate(addr, key, script, timeout=30):
    name, alg, secret = key
    text = "server %s %d\n%s\nsend\nanswer\n" % (addr[0], addr[1], script)
    return subprocess.run(["knsupdate", "-y", "%s:%s:%s" % (alg, name, secret)], input=text,
                          text=True, capture_output=True, timeout=timeout)
