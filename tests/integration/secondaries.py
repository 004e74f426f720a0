"""Third-party secondaries for the transfer tests: a real BIND `named` and a
real `knotd`, each in its own directory on its own loopback address and a
port chosen at run time, configured once with the cluster's catalog zone
and a TSIG key."""

import os
import signal
import subprocess
import time

import dns.message
import dns.query
import dns.rcode

import harness

NAMED = "/usr/sbin/named"
KNOTD = "/usr/sbin/knotd"
KNOTC = "/usr/sbin/knotc"
KCATALOGPRINT = "/usr/sbin/kcatalogprint"


class Secondary:
    """Listens on 127.0.0.1 (named listens only on an interface's own
    addresses) and transfers from 'source', another loopback address, so
    a primary tells it apart from everything else on the machine."""

    def __init__(self, directory, source):
        self.directory = str(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.address = "127.0.0.1"
        self.source = source
        self.port = harness.free_ports(1, udp=(0,))[0]
        self.proc = None
        self.log_path = os.path.join(self.directory, "log")

    def _spawn(self, argv):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.directory, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("%s exited: %s" % (argv[0], self.logs()))
            try:
                self.query(".", "SOA", timeout=0.3)
                return
            except Exception:
                time.sleep(0.1)
        raise AssertionError("%s does not answer: %s" % (argv[0], self.logs()))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    catalog = None  # the catalog zone it follows, once started

    def logs(self):
        """The end of its log and, when it follows a catalog zone, its
        last lines about that zone (a failure about a member zone is often
        one about the catalog, whose lines the others push out)."""
        try:
            with open(self.log_path, errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        name = (self.catalog or "").rstrip(".")
        about = [line for line in text.splitlines() if name and name in line]
        if not about:
            return text[-6000:]
        return "%s\n--- its last lines about %s ---\n%s" % (
            text[-6000:], self.catalog, "\n".join(about[-40:]))

    def query(self, name, rtype, timeout=1.0):
        q = dns.message.make_query(name, rtype)
        q.flags &= ~dns.flags.RD
        return dns.query.udp(q, self.address, port=self.port, timeout=timeout)

    def serves(self, name, rtype="SOA"):
        """Sorted rdata texts when it answers authoritatively, else None."""
        try:
            m = self.query(name, rtype)
        except Exception:
            return None
        if m.rcode() != dns.rcode.NOERROR or not (m.flags & dns.flags.AA):
            return None
        return harness.answer_texts(m, name, rtype)

    def wait_serves(self, name, rtype, want, timeout=20.0):
        want = sorted(want) if want is not None else None
        deadline = time.monotonic() + timeout
        got = None
        while time.monotonic() < deadline:
            got = self.serves(name, rtype)
            if got == want:
                return
            time.sleep(0.05)
        raise AssertionError("%s: %s %s is %r, not %r\n%s"
                             % (self.kind, name, rtype, got, want, self.logs()))


class Bind(Secondary):
    kind = "named"

    def start(self, catalog, primary, key):
        """'primary': (address, port) of the node it transfers from; 'key':
        {"name", "algorithm", "secret"}."""
        self.catalog = catalog
        conf = os.path.join(self.directory, "named.conf")
        with open(conf, "w") as f:
            f.write("""
options {
    directory "%(dir)s";
    pid-file "%(dir)s/named.pid";
    listen-on port %(port)d { %(addr)s; };
    listen-on-v6 { none; };
    query-source address %(src)s;
    transfer-source %(src)s;
    notify-source %(src)s;
    recursion no;
    notify no;
    dnssec-validation no;
    allow-new-zones yes;
    catalog-zones {
        zone "%(catalog)s" default-primaries { %(paddr)s port %(pport)d key "%(key)s"; }
            in-memory yes min-update-interval 1;
    };
};
controls { };
key "%(key)s" { algorithm %(alg)s; secret "%(secret)s"; };
zone "%(catalog)s" {
    type secondary;
    file "catalog.db";
    primaries { %(paddr)s port %(pport)d key "%(key)s"; };
};
""" % {"dir": self.directory, "port": self.port, "addr": self.address, "src": self.source,
       "catalog": catalog,
       "paddr": primary[0], "pport": primary[1], "key": key["name"],
       "alg": key["algorithm"], "secret": key["secret"]})
        self._spawn([NAMED, "-g", "-c", conf])


class Knot(Secondary):
    kind = "knotd"

    def start(self, catalog, primary, key):
        self.catalog = catalog
        conf = self.conf = os.path.join(self.directory, "knot.conf")
        with open(conf, "w") as f:
            f.write("""
server:
    listen: %(addr)s@%(port)d
    rundir: "%(dir)s"
log:
  - target: stderr
    any: info
database:
    storage: "%(dir)s"
key:
  - id: %(key)s
    algorithm: %(alg)s
    secret: %(secret)s
remote:
  - id: primary
    address: %(paddr)s@%(pport)d
    key: %(key)s
    via: %(src)s
acl:
  - id: notify_from_primary
    address: %(paddr)s
    key: %(key)s
    action: notify
template:
  - id: default
    storage: "%(dir)s"
    master: primary
    acl: notify_from_primary
  - id: member
    storage: "%(dir)s"
    master: primary
    acl: notify_from_primary
zone:
  - domain: %(catalog)s
    catalog-role: interpret
    catalog-template: member
""" % {"dir": self.directory, "port": self.port, "addr": self.address, "src": self.source,
       "catalog": catalog,
       "paddr": primary[0], "pport": primary[1], "key": key["name"],
       "alg": key["algorithm"], "secret": key["secret"]})
        self._spawn([KNOTD, "-c", conf])

    def catalog_serial(self):
        """The serial of knotd's copy of its catalog (knotd refuses queries
        for a catalog it interprets: its control socket tells), or None."""
        p = subprocess.run([KNOTC, "-c", self.conf, "zone-read", self.catalog, "@", "SOA"],
                           capture_output=True, text=True, timeout=10)
        fields = p.stdout.split()  # [zone] owner ttl SOA mname rname serial ...
        if p.returncode != 0 or "SOA" not in fields[:4]:
            return None
        return int(fields[fields.index("SOA") + 3])

    def members(self):
        """The member zones knotd's catalog database holds for its catalog
        (the zones it serves and transfers as members), as kcatalogprint
        reads them."""
        p = subprocess.run([KCATALOGPRINT, "-c", self.conf, "-a", self.catalog],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, p.stderr
        return {line.split()[0] for line in p.stdout.splitlines()
                if line.strip() and not line.startswith((";", "Total"))}
