"""DNSSEC checks with independent tools: a validating unbound stubbed to one
node, ldns-verify-zone over an AXFR, ldns-key2ds / dnssec-dsfromkey for DS.

unbound runs as a test process on a loopback port chosen at run time, in its
own directory, in the foreground; stop() ends it by pid."""

import os
import subprocess
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone

import harness

UNBOUND = "/usr/sbin/unbound"
LDNS_VERIFY = "/usr/bin/ldns-verify-zone"
LDNS_KEY2DS = "/usr/bin/ldns-key2ds"
DSFROMKEY = "/usr/bin/dnssec-dsfromkey"


class Unbound:
    """A validating resolver whose only way to 'zone' is a stub to 'node',
    with 'ds' (DS texts "tag alg type digest") as the zone's trust anchor."""

    def __init__(self, directory, zone, ds, node):
        self.directory = str(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.port = harness.free_ports(1, udp=(0,))[0]
        self.conf = os.path.join(self.directory, "unbound.conf")
        self.log = os.path.join(self.directory, "unbound.log")
        anchors = "".join('  trust-anchor: "%s DS %s"\n' % (zone, d) for d in ds)
        text = ("server:\n"
                "  interface: 127.0.0.1\n"
                "  port: %d\n"
                "  do-daemonize: no\n"
                '  username: ""\n'
                '  chroot: ""\n'
                '  directory: "%s"\n'
                '  pidfile: ""\n'
                "  use-syslog: no\n"
                '  logfile: "%s"\n'
                "  verbosity: 1\n"
                "  val-log-level: 2\n"
                "  do-ip6: no\n"
                "  do-not-query-localhost: no\n"
                "  access-control: 127.0.0.0/8 allow\n"
                "  module-config: \"validator iterator\"\n"
                "  qname-minimisation: no\n"
                "  aggressive-nsec: no\n"
                "  harden-dnssec-stripped: yes\n"
                "  cache-max-ttl: 1\n"
                "  cache-max-negative-ttl: 1\n"
                "%s"
                "remote-control:\n"
                "  control-enable: no\n"
                "stub-zone:\n"
                '  name: "%s"\n'
                "  stub-addr: 127.0.0.1@%d\n"
                % (self.port, self.directory, self.log, anchors, zone, node.dns_port))
        with open(self.conf, "w") as f:
            f.write(text)
        self.proc = None

    def start(self, timeout=10.0):
        out = open(self.log + ".out", "ab")
        try:
            self.proc = subprocess.Popen([UNBOUND, "-d", "-c", self.conf],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         cwd=self.directory, start_new_session=True)
        finally:
            out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("unbound exited: %s" % self.logs())
            try:
                q = dns.message.make_query("version.bind.", "TXT", "CH")
                dns.query.udp(q, "127.0.0.1", port=self.port, timeout=0.3)
                return self
            except (dns.exception.Timeout, OSError):
                time.sleep(0.05)
        raise RuntimeError("unbound did not answer: %s" % self.logs())

    def query(self, name, rtype, timeout=5.0):
        q = dns.message.make_query(name, rtype, want_dnssec=True)
        q.flags |= dns.flags.AD
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=timeout)

    def logs(self):
        parts = []
        for p in (self.log, self.log + ".out"):
            try:
                with open(p, "rb") as f:
                    parts.append(f.read()[-4000:].decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(parts)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def validated(msg):
    return bool(msg.flags & dns.flags.AD)


def rrset_wire(node, zone, rtype):
    """The answer RRset of one query to 'node', in canonical wire form."""
    q = dns.message.make_query(zone, rtype, want_dnssec=True)
    a = dns.query.udp(q, "127.0.0.1", port=node.dns_port, timeout=2)
    for rrset in a.answer:
        if rrset.rdtype == dns.rdatatype.from_text(rtype):
            return b"".join(sorted(r.to_digestable() for r in rrset)), rrset
    return b"", None


def axfr_text(node, zone):
    """The zone as transferred from 'node', in master-file text."""
    z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", zone, port=node.dns_port, timeout=10,
                                        relativize=False), relativize=False)
    return z.to_text(relativize=False)


def ldns_verify(path):
    p = subprocess.run([LDNS_VERIFY, path], capture_output=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def ds_by_ldns(directory, zone, dnskey_text):
    """DS (SHA-256) texts "tag alg 2 DIGEST" that ldns-key2ds makes from a DNSKEY."""
    path = os.path.join(str(directory), "key-%d.key" % time.monotonic_ns())
    with open(path, "w") as f:
        f.write("%s 3600 IN DNSKEY %s\n" % (zone, dnskey_text))
    p = subprocess.run([LDNS_KEY2DS, "-n", "-2", path], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return [" ".join(line.split()[4:]).upper()
            for line in p.stdout.decode().splitlines() if " DS " in line or "\tDS\t" in line]


def ds_by_bind(directory, zone, dnskey_text):
    """The same with BIND's dnssec-dsfromkey."""
    path = os.path.join(str(directory), "keyb-%d.key" % time.monotonic_ns())
    with open(path, "w") as f:
        f.write("%s 3600 IN DNSKEY %s\n" % (zone, dnskey_text))
    p = subprocess.run([DSFROMKEY, "-2", "-f", path, zone], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return [" ".join(line.split()[-4:]).upper() for line in p.stdout.decode().splitlines()
            if " DS " in line]
