"""Primaries outside the cluster for the secondary-zone tests: a real BIND
`named` (its configuration and zone files in a temporary directory, on a
port chosen at run time), and a fake primary written with dnspython that
answers transfers the way a broken primary would."""

import os
import signal
import socket
import struct
import subprocess
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from harness import free_ports, terminate

NAMED = "/usr/sbin/named"


class _Primary:
    """What BindPrimary and KnotPrimary share: their zone files in 'dir',
    their address, their log, and stopping the process they started."""

    def __init__(self, directory, zones, log_name):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_ports(1, udp=(0,))[0]
        self.zones = dict(zones)
        self.proc = None
        self.log_path = os.path.join(self.dir, log_name)
        for z, text in self.zones.items():
            self.write_zone(z, text)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def zone_path(self, zone):
        return os.path.join(self.dir, zone.rstrip(".") + ".zone")

    def write_zone(self, zone, text):
        with open(self.zone_path(zone), "w") as f:
            f.write(text)

    def stop(self):
        if self.proc is not None:
            terminate(self.proc.pid)
            self.proc.wait()
        self.proc = None

    def query(self, name, rtype, timeout=2.0):
        """One query to the primary with the DO bit; the dns.message.Message."""
        q = dns.message.make_query(name, rtype, want_dnssec=True, payload=4096)
        answer, _ = dns.query.udp_with_fallback(q, "127.0.0.1", port=self.port,
                                                 timeout=timeout)
        return answer

    def logs(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""


class BindPrimary(_Primary):
    """named serving zones it is primary for; 'zones' maps a zone name
    (final dot) to its zone file text. With 'key' (name, algorithm,
    secret), transfers need that key; without, anyone may transfer."""

    def __init__(self, directory, zones, key=None, ixfr=True, notify=None, signs=False):
        super().__init__(directory, zones, "named.log")
        self.key = key
        self.ixfr = ixfr
        # named signs its zones (dnssec-policy default: one ECDSA P-256
        # CSK, NSEC) with inline signing: it transfers them signed
        self.signs = signs
        self.notify = notify  # (address, port) that gets a NOTIFY after each change
        self._write_conf()

    def _write_conf(self):
        allow = "key %s;" % self.key[0] if self.key else "any;"
        lines = []
        if self.key:
            lines.append('key "%s" { algorithm %s; secret "%s"; };'
                         % (self.key[0], self.key[1], self.key[2]))
        lines.append("""options {
    directory "%s";
    pid-file "%s/named.pid";
    listen-on port %d { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    notify %s;%s
    dnssec-validation no;
    ixfr-from-differences %s;
    provide-ixfr %s;
    max-ixfr-ratio unlimited;
    allow-transfer { %s };
    session-keyfile "%s/session.key";
};
controls { };""" % (self.dir, self.dir, self.port,
                    "explicit" if self.notify else "no",
                    # BIND waits notify-delay (5 s) before a NOTIFY by default
                    "\n    also-notify { %s port %d; };\n    notify-delay 0;" % self.notify
                    if self.notify else "",
                    "yes" if self.ixfr else "no",
                    "yes" if self.ixfr else "no", allow, self.dir))
        for z in self.zones:
            lines.append('zone "%s" { type primary; file "%s";%s };'
                         % (z.rstrip("."), self.zone_path(z),
                            " dnssec-policy default; inline-signing yes;"
                            if self.signs else ""))
        self.conf = os.path.join(self.dir, "named.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        before = self.logs().count(" running\n")
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([NAMED, "-g", "-n", "1", "-c", self.conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("named exited: " + self.logs())
            if self.logs().count(" running\n") > before:
                return
            time.sleep(0.05)
        raise RuntimeError("named did not start: " + self.logs())

    def reload(self, zone, text):
        """A new zone file, then SIGHUP: named loads it (and, with
        ixfr-from-differences, keeps the difference for IXFR)."""
        before = self.logs().count("loaded serial")
        self.write_zone(zone, text)
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.logs().count("loaded serial") <= before:
            time.sleep(0.05)



class FakePrimary:
    """A TCP DNS server answering SOA queries with 'soa' (or 'query_soa'
    when set) and AXFR/IXFR with 'records' (dns.rrset.RRset objects, sent
    between two copies of 'soa') the way 'mode' says: "ok", "short" (closes
    before the closing SOA), "stall" (sends half and goes quiet), "hold"
    (sends half, sets 'stalled', and the rest once 'release' is set),
    "down" (closes every connection, after 'delay' seconds if set), "raw"
    ('records' alone, SOAs included: an IXFR stream of one's own),
    "other-question" (a transfer answered as if to a question about another
    zone). With 'per_message' set, a transfer goes in messages of that
    many RRsets; 'cut' counts the transfers the client closed before their
    end. The attributes may change while it runs."""

    def __init__(self, zone, soa_text, records, mode="ok"):
        self.zone = zone
        self.soa = dns.rrset.from_text(zone, 3600, "IN", "SOA", soa_text)
        self.records = records
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.done = False
        self.soa_queries = 0  # SOA questions answered
        self.soa_times = []  # when each was asked (time.monotonic())
        self.query_soa = None
        self.delay = 0.0
        self.stalled = threading.Event()  # a "stall" or "hold" transfer went quiet
        self.release = threading.Event()
        self.per_message = None
        self.cut = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _serve(self):
        while not self.done:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    @staticmethod
    def _read(conn, n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _send(self, conn, msg):
        wire = msg.to_wire()
        conn.sendall(struct.pack("!H", len(wire)) + wire)

    def _one(self, conn):
        try:
            (n,) = struct.unpack("!H", self._read(conn, 2))
            q = dns.message.from_wire(self._read(conn, n))
            qtype = q.question[0].rdtype
            if self.mode == "down":
                self.stalled.set()
                time.sleep(self.delay)
                return
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA
            if qtype == dns.rdatatype.SOA:
                self.soa_queries += 1
                self.soa_times.append(time.monotonic())
                r.answer.append(self.query_soa or self.soa)
                self._send(conn, r)
                return
            sets = [self.soa] + list(self.records) + [self.soa]
            if self.mode == "other-question":
                r.question = [dns.rrset.RRset(dns.name.from_text("other.test."),
                                              dns.rdataclass.IN, qtype)]
            if self.mode == "raw":
                sets = list(self.records)
            if self.mode == "short":
                sets = sets[:-1]
            if self.mode in ("stall", "hold"):
                r.answer.extend(sets[: len(sets) // 2])
                self._send(conn, r)
                self.stalled.set()
                if self.mode == "stall" or not self.release.wait(60):
                    time.sleep(60)
                    return
                r = dns.message.make_response(q)
                r.flags |= dns.flags.AA
                sets = sets[len(sets) // 2:]
            step = self.per_message or max(len(sets), 1)
            chunks = [sets[i:i + step] for i in range(0, len(sets), step)] or [[]]
            for i, chunk in enumerate(chunks):
                if i > 0:
                    r = dns.message.make_response(q)
                    r.flags |= dns.flags.AA
                r.answer.extend(chunk)
                try:
                    self._send(conn, r)
                except OSError:
                    self.cut += 1
                    raise
        except (EOFError, OSError):
            pass
        finally:
            conn.close()

    def close(self):
        self.done = True
        self.sock.close()



KNOTD = "/usr/sbin/knotd"
KNOTC = "/usr/sbin/knotc"


class KnotPrimary(_Primary):
    """knotd serving zones it is primary for (its configuration, database and
    control socket in 'directory'), keeping the differences of each reload
    for IXFR (zonefile-load: difference). With 'key' (name, algorithm,
    secret) a transfer needs that key. With 'signs', knotd signs the zones
    (dnssec-signing with its default policy: an ECDSA P-256 KSK and ZSK,
    NSEC) and transfers them signed; with signs="nsec3", with NSEC3 (one
    extra iteration and a 4-byte salt, so that both count); with
    signs="nsec3-optout", NSEC3 with opt-out (RFC 5155 section 6: insecure
    delegations are left out of the chain)."""

    def __init__(self, directory, zones, key=None, signs=False):
        super().__init__(directory, zones, "knotd.log")
        conf = ["server:", "    listen: 127.0.0.1@%d" % self.port, "    rundir: " + self.dir,
                "control:", "    listen: %s/knot.sock" % self.dir,
                "database:", "    storage: " + self.dir]
        if key:
            conf += ["key:", "  - id: %s" % key[0], "    algorithm: %s" % key[1],
                     "    secret: %s" % key[2]]
        conf += ["acl:", "  - id: xfr", "    address: 127.0.0.0/8", "    action: transfer"]
        if key:
            conf.append("    key: %s" % key[0])
        conf += ["template:", "  - id: default", "    storage: " + self.dir,
                 # a signed zone's serial is knotd's: the file's is not compared
                 "    zonefile-load: %s" % ("difference-no-serial" if signs else "difference"),
                 "    journal-content: %s" % ("all" if signs else "changes")]
        if signs:
            conf.append("    dnssec-signing: on")
        if signs in ("nsec3", "nsec3-optout"):
            conf.append("    dnssec-policy: nsec3")
            conf[conf.index("template:"):conf.index("template:")] = [
                "policy:", "  - id: nsec3", "    nsec3: on", "    nsec3-iterations: 1",
                "    nsec3-salt-length: 4",
                "    nsec3-opt-out: %s" % ("on" if signs == "nsec3-optout" else "off")]
        conf.append("zone:")
        for z in self.zones:
            conf += ["  - domain: " + z, "    file: " + self.zone_path(z), "    acl: xfr"]
        self.conf = os.path.join(self.dir, "knot.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([KNOTD, "-c", self.conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("knotd exited: " + self.logs())
            if "loaded, serial" in self.logs():
                return
            time.sleep(0.05)
        raise RuntimeError("knotd did not start: " + self.logs())

    def reload(self, zone, text):
        """A new zone file, then `knotc zone-reload`; returns once loaded."""
        before = self.logs().count("loaded, serial")
        self.write_zone(zone, text)
        subprocess.run([KNOTC, "-c", self.conf, "zone-reload", zone], check=True,
                       stdout=subprocess.DEVNULL, timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.logs().count("loaded, serial") <= before:
            time.sleep(0.05)

