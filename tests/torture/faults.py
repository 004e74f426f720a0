"""The fault injectors, one class per kind (schedule.KINDS).

A fault runs in its own thread: run() waits until the schedule's 'at'
(seconds into the workload), injects, and for the kinds that do several
things (two kills, a few edits) goes on until the workload is over.
heal() is called once the workload ended: it undoes what the fault did
(starts what was killed, continues what was stopped, frees the disk, sets
the clock right, lets the proxy pass); the time to converge is measured
from the moment heal() is called, or from 'healed_at' when heal() sets it
(a fault that ends later than the call). Faults that heal by themselves (a
PowerDNS the agent restarts, an edit the verification repairs) do nothing
there. cleanup() runs whatever happened, and leaves the world as heal()
would. 'events' records what was done and when, for the evidence."""

import os
import signal
import sqlite3
import threading
import time

import requests

import harness


class Fault:
    self_healing = False

    def __init__(self, world, schedule, t_start):
        self.world = world
        self.sched = schedule
        self.f = schedule.fault
        self.t_start = t_start
        self.over = threading.Event()     # the workload ended
        self.events = []
        self.error = None
        self.healed_at = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    # timing

    def now(self):
        return time.monotonic() - self.t_start

    def event(self, text):
        self.events.append("t=%.3f %s" % (self.now(), text))

    def wait_until(self, at):
        """Sleep until 'at' seconds into the run; False if the workload
        ended first."""
        left = at - self.now()
        if left > 0:
            self.over.wait(left)
        return not self.over.is_set()

    def start(self):
        self.thread.start()

    def _run(self):
        try:
            if self.wait_until(self.f["at"]):
                self.run()
        except Exception as e:      # reported by the runner as an error of the harness
            self.error = "%s: %s" % (type(e).__name__, e)

    def finish(self):
        """The workload is over: stop injecting."""
        self.over.set()
        self.thread.join(30)

    def node(self):
        return self.world.nodes[self.f["node"]]

    def proxy(self):
        return self.world.proxies[self.f["node"]]

    # to override

    def run(self):
        raise NotImplementedError

    def heal(self):
        pass

    def cleanup(self):
        self.heal()


class ControllerKill(Fault):
    def run(self):
        self.world.whm.kill(signal.SIGKILL)
        self.event("yumna-whm SIGKILLed")

    def heal(self):
        if not self.world.whm.running():
            self.event("yumna-whm started again")
            self.world.whm.start(wait=False)


class ControllerStop(Fault):
    def run(self):
        os.kill(self.world.whm.proc.pid, signal.SIGSTOP)
        self.event("yumna-whm SIGSTOPped")

    def heal(self):
        if self.world.whm.running():
            os.kill(self.world.whm.proc.pid, signal.SIGCONT)
            self.event("yumna-whm SIGCONTed")


class AgentKill(Fault):
    def run(self):
        self.node().kill(signal.SIGKILL)
        self.event("agent of %s SIGKILLed" % self.node().name)

    def heal(self):
        if not self.node().agent_running():
            self.event("agent of %s started again" % self.node().name)
            self.node().start(wait=False)


class AgentStop(Fault):
    def run(self):
        self.node().proc.send_signal(signal.SIGSTOP)
        self.event("agent of %s SIGSTOPped" % self.node().name)

    def heal(self):
        if self.node().agent_running():
            self.node().proc.send_signal(signal.SIGCONT)
            self.event("agent of %s SIGCONTed" % self.node().name)


class PdnsKill(Fault):
    self_healing = True

    def run(self):
        node = self.node()
        for i in range(self.f["kills"]):
            pid = None
            deadline = time.monotonic() + 5
            while pid is None and time.monotonic() < deadline and not self.over.is_set():
                pid = node.pdns_pid()
                if pid is None:
                    time.sleep(0.05)
            if pid is None:
                return
            os.kill(pid, signal.SIGKILL)
            self.event("pdns_server %d of %s SIGKILLed" % (pid, node.name))
            # the next kill once the agent started another one
            while not self.over.is_set() and harness.process_is(pid, harness.PDNS_PROGRAM):
                time.sleep(0.02)
            self.over.wait(0.3)


class PdnsStop(Fault):
    def run(self):
        self.pid = self.node().pdns_pid()
        if self.pid is not None:
            os.kill(self.pid, signal.SIGSTOP)
            self.event("pdns_server %d of %s SIGSTOPped" % (self.pid, self.node().name))

    def heal(self):
        """After 'linger' more seconds, long enough for the agent to find
        PowerDNS hung and kill it when it is 4 s; the fault ends when the
        process is gone or continued."""
        pid = getattr(self, "pid", None)
        self.pid = None
        if pid is None:
            return
        deadline = time.monotonic() + self.f.get("linger", 0)
        while time.monotonic() < deadline and harness.process_is(pid, harness.PDNS_PROGRAM):
            time.sleep(0.02)
        self.healed_at = time.monotonic()
        if harness.process_is(pid, harness.PDNS_PROGRAM):
            os.kill(pid, signal.SIGCONT)
            self.event("pdns_server %d SIGCONTed" % pid)
        else:
            self.event("pdns_server %d was killed by its agent (hung)" % pid)

    def cleanup(self):
        self.f = dict(self.f, linger=0)
        self.heal()


class Partition(Fault):
    def run(self):
        self.proxy().set(self.f["mode"], self.f["delay"])
        self.event("controller <-> %s: %s%s" % (
            self.node().name, self.f["mode"],
            " %.1f s" % self.f["delay"] if self.f["mode"] == "delay" else ""))

    def heal(self):
        self.proxy().heal()
        self.event("controller <-> %s healed" % self.node().name)


class DiskFull(Fault):
    def target(self):
        if self.f["target"] == "store":
            return "store", self.world.mounts["store"]
        return self.node().name, self.world.mounts[self.node().name]

    def run(self):
        name, m = self.target()
        m.fill()
        self.event("%s's filesystem full (%s)" % (name, m.path))

    def heal(self):
        name, m = self.target()
        m.free()
        self.event("%s's filesystem freed" % name)


class BackendEdit(Fault):
    """Edits in one node's pdns.sqlite3 behind its agent, then a purge of
    PowerDNS's caches (as an expiring cache would), so that the wrong data
    is what the node serves until the controller repairs it."""
    self_healing = True

    def run(self):
        node = self.node()
        suffix = self.sched.prefix.rstrip(".")
        step = max(0.05, (self.sched.workload - self.now()) / (len(self.f["edits"]) + 1))
        for what, pick in self.f["edits"]:
            db = sqlite3.connect(os.path.join(node.data_dir, "pdns.sqlite3"), timeout=10)
            try:
                with db:
                    done = self.edit(db, suffix, what, pick)
            finally:
                db.close()
            if done:
                self.event("%s: %s" % (node.name, done))
                self.flush(node)
            if not self.wait_until(self.now() + step):
                return

    @staticmethod
    def edit(db, suffix, what, pick):
        domains = db.execute("SELECT id, name FROM domains WHERE name LIKE ? ORDER BY name",
                             ("%." + suffix,)).fetchall()
        if not domains:
            return None
        did, zone = domains[int(pick * len(domains)) % len(domains)]
        if what == "drop-zone":
            db.execute("DELETE FROM records WHERE domain_id = ?", (did,))
            db.execute("DELETE FROM domains WHERE id = ?", (did,))
            return "zone %s deleted" % zone
        if what == "insert":
            db.execute("INSERT INTO records (domain_id, name, type, content, ttl, prio, "
                       "disabled, auth) VALUES (?, ?, 'A', '203.0.113.66', 60, 0, 0, 1)",
                       (did, "rogue." + zone))
            return "rogue.%s A 203.0.113.66 inserted" % zone
        rows = db.execute("SELECT id, name, type, content FROM records WHERE domain_id = ? "
                          "AND type IS NOT NULL AND type NOT IN ('SOA', 'NS', 'RRSIG', 'NSEC', "
                          "'NSEC3', 'NSEC3PARAM', 'DNSKEY', 'CDS', 'CDNSKEY') ORDER BY id",
                          (did,)).fetchall()
        if not rows:
            rows = db.execute("SELECT id, name, type, content FROM records WHERE domain_id = ? "
                              "AND type = 'NS' ORDER BY id", (did,)).fetchall()
        if not rows:
            return None
        rid, name, rtype, content = rows[int(pick * 7919) % len(rows)]
        if what == "delete":
            db.execute("DELETE FROM records WHERE id = ?", (rid,))
            return "%s %s %s deleted" % (name, rtype, content)
        if what == "update" and rtype == "A":
            db.execute("UPDATE records SET content = '203.0.113.77' WHERE id = ?", (rid,))
            return "%s A %s -> 203.0.113.77" % (name, content)
        db.execute("UPDATE records SET ttl = 7 WHERE id = ?", (rid,))
        return "%s %s ttl -> 7" % (name, rtype)

    @staticmethod
    def flush(node):
        try:
            with open(os.path.join(node.data_dir, "pdns-api-key")) as f:
                key = f.read().strip()
            requests.put("http://%s:%d/api/v1/servers/localhost/cache/flush" %
                         (node.address, node.pdns_api_port), params={"domain": "."},
                         headers={"X-API-Key": key}, timeout=2)
        except (OSError, requests.RequestException):
            pass


class ClockJump(Fault):
    def who(self):
        return "controller" if self.f["target"] == "controller" else self.node().name

    def run(self):
        if self.f["partition"]:
            self.proxy().set("blackhole")
            self.event("controller <-> %s: blackhole" % self.node().name)
            self.over.wait(0.4)
        self.world.set_clock(self.who(), self.f["offset"])
        self.event("clock of %s jumped %s" % (self.who(), self.f["offset"]))

    def heal(self):
        self.world.set_clock(self.who(), "+0")
        self.event("clock of %s set right" % self.who())
        self.proxy().heal()


class PushDup(Fault):
    def run(self):
        for p in self.world.proxies:
            p.rng.seed(self.f["proxy_seed"] + self.world.proxies.index(p))
            p.duplicate = self.f["how"]
        self.event("every push duplicated (%s)" % self.f["how"])

    def heal(self):
        for p in self.world.proxies:
            p.heal()


class PushReorder(Fault):
    def run(self):
        for p in self.world.proxies:
            p.rng.seed(self.f["proxy_seed"] + self.world.proxies.index(p))
            p.reorder = True
        self.event("an earlier push replayed after every push")

    def heal(self):
        for p in self.world.proxies:
            p.heal()


FAULTS = {
    "controller-kill": ControllerKill,
    "controller-stop": ControllerStop,
    "agent-kill": AgentKill,
    "agent-stop": AgentStop,
    "pdns-kill": PdnsKill,
    "pdns-stop": PdnsStop,
    "partition": Partition,
    "disk-full": DiskFull,
    "backend-edit": BackendEdit,
    "clock-jump": ClockJump,
    "push-dup": PushDup,
    "push-reorder": PushReorder,
}
