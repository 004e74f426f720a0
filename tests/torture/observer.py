"""The observer: asks every node for the SOA of every zone of the run, over
DNS, for the whole run (before the fault until the checker is done), and
keeps what each node served.

A node must never serve a serial lower (RFC 1982) than one it served
before for the same zone: that is a rollback a resolver or a secondary
would see. The served history also tells the checker when a deleted zone
was last served."""

import socket
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

POLL_TIMEOUT = 0.3


def serial_lt(a, b):
    """a < b in RFC 1982 serial number arithmetic (32 bits)."""
    return a != b and ((a < b and b - a < 2 ** 31) or (a > b and a - b > 2 ** 31))


class Observer:
    """One thread per node, each asking for the SOA of every zone name
    'names()' returns, in turn, as fast as the node answers."""

    def __init__(self, nodes, names, t_start):
        self.nodes = list(nodes)
        self.names = names
        self.t_start = t_start
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.last = {}          # (node, zone) -> (t, serial) of the highest served
        self.served = {}        # (node, zone) -> (t, serial) last served
        self.violations = []
        self.reported = set()   # (node, zone, serial) already reported
        self.queries = 0
        self.threads = [threading.Thread(target=self._watch, args=(n,), daemon=True)
                        for n in self.nodes]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(5)

    def _ask(self, sock, node, zone):
        q = dns.message.make_query(zone, dns.rdatatype.SOA)
        q.flags &= ~dns.flags.RD
        try:
            sock.sendto(q.to_wire(), (node.address, node.dns_port))
            deadline = time.monotonic() + POLL_TIMEOUT
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                sock.settimeout(left)
                wire, _ = sock.recvfrom(65535)
                try:
                    a = dns.message.from_wire(wire)
                except dns.exception.DNSException:
                    continue
                if a.id == q.id:
                    return a
        except (OSError, socket.timeout):
            return None

    def _watch(self, node):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            while not self.stop_event.is_set():
                names = self.names()
                if not names:
                    time.sleep(0.02)
                for zone in names:
                    if self.stop_event.is_set():
                        break
                    a = self._ask(sock, node, zone)
                    if a is None:
                        continue
                    self.queries += 1
                    t = time.monotonic() - self.t_start
                    serial = None
                    if a.rcode() == dns.rcode.NOERROR:
                        for rr in a.answer:
                            if rr.rdtype == dns.rdatatype.SOA and \
                                    rr.name.to_text().lower() == zone:
                                serial = rr[0].serial
                    if serial is not None:
                        self.note(node.name, zone, t, serial)
        finally:
            sock.close()

    def note(self, node, zone, t, serial):
        key = (node, zone)
        with self.lock:
            self.served[key] = (t, serial)
            best = self.last.get(key)
            if best is not None and serial_lt(serial, best[1]) and \
                    (node, zone, serial) not in self.reported:
                self.reported.add((node, zone, serial))
                self.violations.append(
                    "node %s served zone %s with serial %d at t=%.3f s after serial %d at "
                    "t=%.3f s (a rollback)" % (node, zone, serial, t, best[1], best[0]))
            if best is None or serial_lt(best[1], serial):
                self.last[key] = (t, serial)

    def last_served(self, node, zone):
        with self.lock:
            return self.served.get((node, zone))
