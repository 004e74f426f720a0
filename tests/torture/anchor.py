"""The anchor: PowerDNS's own replication, a primary and a secondary (two
plain pdns_server with gsqlite3 on 127.0.0.1, tests/integration's Pdns),
under the faults that apply to it, measured the same way: after the heal,
how long until the secondary serves the primary's latest serial of every
zone again.

The primary's zones are Master zones changed through its API (PATCH of one
rrset, the serial raised by SOA-EDIT-API) and followed by a NOTIFY (PUT
.../notify, as a provisioning tool does), also-notify to the secondary;
the secondary holds them as Slave zones. Both run with PowerDNS's defaults
otherwise (xfr-cycle-interval 60 s: a missed NOTIFY is made up for by the
secondary's next SOA check).

Kinds: primary-kill, primary-stop, secondary-kill, secondary-stop,
secondary-disk-full (the secondary's database on a full tmpfs). A
partition between them is not done: the proxy speaks HTTP, and NOTIFY and
the SOA checks are UDP."""

import os
import random
import signal
import threading
import time

import requests

import harness
from pdns_plain import Pdns
from world import Tmpfs

ANCHOR_KINDS = ["primary-kill", "primary-stop", "secondary-kill", "secondary-stop",
                "secondary-disk-full"]
# The anchor kind each of our kinds is put beside in the table.
ANCHOR_FOR = {
    "controller-kill": "primary-kill",
    "controller-stop": "primary-stop",
    "agent-kill": "secondary-kill",
    "pdns-kill": "secondary-kill",
    "agent-stop": "secondary-stop",
    "pdns-stop": "secondary-stop",
    "disk-full": "secondary-disk-full",
}
ZONES = 4
# How long a run waits for the secondary. PowerDNS makes up for a missed
# NOTIFY or a failed transfer only at the secondary's next SOA check (the
# zone's refresh, 10800 s here, or a retry after a failed transfer, from
# 60 s on): a run past this counts as "not within" it.
CONVERGE_TIMEOUT = 10.0


def ip_for(v):
    return "198.%d.%d.%d" % (18 + ((v >> 16) & 1), (v >> 8) & 255, v & 255)


class Replication:
    """A primary and a secondary with ZONES zones, kept across seeds."""

    def __init__(self, base):
        self.base = os.path.join(base, "anchor")
        os.makedirs(self.base, exist_ok=True)
        self.zones = ["a%d.anchor.torture." % i for i in range(ZONES)]
        self.disk = None
        self.sec = self.pri = None
        try:
            sec_dir = os.path.join(self.base, "secondary")
            self.disk = Tmpfs(sec_dir)
            self.sec = Pdns(sec_dir, {"secondary": "yes", "allow-notify-from": "127.0.0.1"})
            self.sec.start()
            self.pri = Pdns(os.path.join(self.base, "primary"), {
                "primary": "yes", "also-notify": "127.0.0.1:%d" % self.sec.dns_port,
                "allow-axfr-ips": "127.0.0.1", "only-notify": ""})
            self.pri.start()
            for z in self.zones:
                self.pri.api("POST", "/zones", {
                    "name": z, "kind": "Master", "soa_edit_api": "DEFAULT",
                    "rrsets": [
                        {"name": z, "type": "SOA", "ttl": 3600, "changetype": "REPLACE",
                         "records": [{"content": "ns1.yumna.test. hostmaster.yumna.test. "
                                                 "1 10800 3600 604800 3600",
                                      "disabled": False}]},
                        {"name": z, "type": "NS", "ttl": 3600, "changetype": "REPLACE",
                         "records": [{"content": "ns1.yumna.test.", "disabled": False}]}]})
                self.sec.api("POST", "/zones", {
                    "name": z, "kind": "Slave", "masters": ["127.0.0.1:%d" % self.pri.dns_port]})
                self.sec.api("PUT", "/zones/%s/axfr-retrieve" % z)
            if self.lag(30) is not None:
                raise RuntimeError("the secondary never loaded the zones")
        except BaseException:
            self.close()
            raise

    # what each serves

    @staticmethod
    def serial(p, zone):
        try:
            a = harness.dns_query("127.0.0.1", p.dns_port, zone, "SOA", timeout=0.5)
        except Exception:
            return None
        for rr in a.answer:
            if rr.rdtype == 6:
                return rr[0].serial
        return None

    def behind(self):
        """The first zone the secondary serves at another serial than the
        primary, or None."""
        for z in self.zones:
            want = self.serial(self.pri, z)
            if want is None or self.serial(self.sec, z) != want:
                return z
        return None

    def lag(self, timeout):
        """None once the secondary caught up, within 'timeout'; otherwise
        the zone still behind."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            z = self.behind()
            if z is None:
                return None
            time.sleep(0.05)
        return z

    # processes

    def running(self, p):
        return p.proc is not None and p.proc.poll() is None

    def revive(self):
        self.disk.free()
        for p in (self.pri, self.sec):
            if self.running(p):
                os.kill(p.proc.pid, signal.SIGCONT)
            else:
                p.start()

    def resync(self):
        """In sync again before a run, by asking the secondary to transfer
        every zone now (what an operator does), once it is left behind."""
        self.revive()
        if self.lag(2) is None:
            return True
        for z in self.zones:
            self.sec.api("PUT", "/zones/%s/axfr-retrieve" % z)
        return self.lag(30) is None

    def close(self):
        for p in (self.pri, self.sec):
            if p is not None:
                if self.running(p):
                    try:
                        os.kill(p.proc.pid, signal.SIGCONT)
                    except ProcessLookupError:
                        pass
                p.stop()
        if self.disk is not None:
            self.disk.unmount()


class AnchorResult:
    def __init__(self, kind, seed):
        self.kind, self.seed = kind, seed
        self.converge = None
        self.acked = 0
        self.error = None
        self.events = []


def run_anchor_seed(rep, kind, seed, workload=2.5):
    """One run: changes on the primary for 'workload' seconds, the fault
    from a seeded time until the end, then the heal and the wait."""
    rng = random.Random("anchor:%s:%d" % (kind, seed))
    res = AnchorResult(kind, seed)
    try:
        if not rep.resync():
            res.error = "not in sync before the run"
            return res
        at = rng.uniform(0.15, 0.55) * workload
        pauses = [rng.uniform(0.01, 0.08) for _ in range(400)]
        zones = [rng.randrange(ZONES) for _ in range(400)]
        session = requests.Session()
        session.headers["X-API-Key"] = rep.pri.key
        t0 = time.monotonic()
        done = threading.Event()
        faulted = {}

        def fault():
            if done.wait(at):
                return
            p = rep.pri if kind.startswith("primary") else rep.sec
            if kind.endswith("kill"):
                p.proc.send_signal(signal.SIGKILL)
                p.proc.wait()
            elif kind.endswith("stop"):
                p.proc.send_signal(signal.SIGSTOP)
            else:
                rep.disk.fill()
            faulted["at"] = time.monotonic() - t0
        th = threading.Thread(target=fault, daemon=True)
        th.start()
        v = seed * 1000
        for pause, zi in zip(pauses, zones):
            time.sleep(pause)
            if time.monotonic() - t0 > workload:
                break
            z = rep.zones[zi]
            v += 1
            try:
                r = session.patch(rep.pri.base + "/zones/" + z, timeout=1.5, json={"rrsets": [
                    {"name": "www." + z, "type": "A", "ttl": 300, "changetype": "REPLACE",
                     "records": [{"content": ip_for(v % 131072), "disabled": False}]}]})
                if r.status_code == 204:
                    res.acked += 1
                    session.put(rep.pri.base + "/zones/%s/notify" % z, timeout=1.5)
            except requests.RequestException:
                pass
        done.set()
        th.join()
        session.close()
        t_heal = time.monotonic()
        if kind.endswith("disk-full"):
            rep.disk.free()
        else:
            rep.revive()
        res.events = ["t=%.3f %s" % (faulted.get("at", -1), kind), "heal at t=%.3f" % (
            t_heal - t0)]
        left = rep.lag(CONVERGE_TIMEOUT)
        if left is None:
            res.converge = time.monotonic() - t_heal
        else:
            res.converge = float("inf")
            res.events.append("the secondary still behind on %s %.0f s after the heal" % (
                left, CONVERGE_TIMEOUT))
    except Exception as e:
        res.error = "%s: %s" % (type(e).__name__, e)
    return res
