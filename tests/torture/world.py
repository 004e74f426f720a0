"""The cluster one fault kind's seeds run on, and how it is put back to a
clean state between seeds.

A World is tests/integration's Cluster (a yumna-whm, three nodes of
yumna-agent + pdns_server) with a FaultProxy in front of every agent (the
controller knows each node at its proxy's port), agents that re-verify
their backend every second, and what the kind needs besides:

- disk-full: the controller's store directory and every node's data
  directory (its PowerDNS database) each on a tmpfs of its own;
- clock-jump: every daemon under libfaketime, each with a timestamp file
  the fault writes an offset into ("+0" while healed).

close() stops every process, closes the proxies and unmounts every tmpfs,
whatever state a fault left them in."""

import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness  # noqa: E402
from cluster import Cluster  # noqa: E402
from proxy import FaultProxy  # noqa: E402

TMPFS_SIZE = "24m"
TORTURE_SUFFIX = ".torture."

WHM_CONFIG = {
    # tests/integration's fast timers (Whm.config), written out: what the
    # convergence times below are measured with.
    "agent-timeout-ms": 1000,
    "health-interval-ms": 200,
    "retry-min-ms": 50,
    "retry-max-ms": 1000,
    "reconcile-interval": 2,
    # The controller keeps a catalog zone of every live zone: the checker
    # finds it on every node with exactly the zones the controller has.
    "catalog-zone": "catalog.torture-catalog.",
}
CATALOG = "catalog.torture-catalog."
NODE_CONFIG = {"verify-interval": 1}


class WorldError(Exception):
    """The cluster could not be brought back to a clean state."""


class Tmpfs:
    """A tmpfs of TMPFS_SIZE mounted at 'path', which fill() makes full
    (ENOSPC for every writer) and free() makes usable again."""

    def __init__(self, path):
        self.path = path
        self.filler = os.path.join(path, ".torture-filler")
        os.makedirs(path, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % TMPFS_SIZE,
                        "tmpfs", path], check=True, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
        self.mounted = True

    def fill(self):
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            st = os.statvfs(self.path)
            free = st.f_bavail * st.f_frsize
            try:
                os.posix_fallocate(fd, 0, free)
            except OSError:
                pass
            os.lseek(fd, 0, os.SEEK_END)
            block = b"\0" * 4096
            while True:           # what fallocate left: page by page, then byte by byte
                try:
                    if os.write(fd, block) <= 0:
                        break
                except OSError:
                    if len(block) == 1:
                        break
                    block = b"\0"
        finally:
            os.close(fd)

    def free(self):
        try:
            os.unlink(self.filler)
        except FileNotFoundError:
            pass

    def unmount(self):
        if not self.mounted:
            return
        self.free()
        p = subprocess.run(["umount", self.path], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        if p.returncode != 0:       # something still holds it: detach it now
            subprocess.run(["umount", "-l", self.path], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        self.mounted = False


class World:
    def __init__(self, kind, base, name=None):
        """In directory base/'name' (the kind by default; keep it short:
        PowerDNS's control socket path must fit in 108 bytes)."""
        self.kind = kind
        self.dir = os.path.join(base, name or kind)
        self.mounts = {}            # "store" / node name -> Tmpfs
        self.clocks = {}            # "controller" / node name -> timestamp file
        self.proxies = []
        self.cluster = None
        os.makedirs(self.dir, exist_ok=True)
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self):
        whm_config = dict(WHM_CONFIG)
        if self.kind == "disk-full":
            store = os.path.join(self.dir, "store")
            self.mounts["store"] = Tmpfs(store)
            whm_config["store-path"] = os.path.join(store, "whm.sqlite3")
        self.cluster = Cluster(self.dir, n=3, whm_config=whm_config, node_config=NODE_CONFIG,
                               start=False)
        for node in self.cluster.nodes:
            if self.kind == "disk-full":
                self.mounts[node.name] = Tmpfs(node.data_dir)
            proxy = FaultProxy(node.api_port, name="proxy-" + node.name)
            self.proxies.append(proxy)
            node.front = ("127.0.0.1", proxy.port)
        if self.kind == "clock-jump":
            for name, proc in [("controller", self.cluster.whm)] + \
                    [(n.name, n) for n in self.cluster.nodes]:
                path = os.path.join(self.dir, "clock-" + name)
                with open(path, "w") as f:
                    f.write("+0\n")
                self.clocks[name] = path
                proc.env.update(harness.faketime_env(path))
        self.cluster.start()

    # shortcuts

    @property
    def whm(self):
        return self.cluster.whm

    @property
    def nodes(self):
        return self.cluster.nodes

    def set_clock(self, who, offset):
        with open(self.clocks[who], "w") as f:
            f.write(offset + "\n")

    # between seeds

    def revive(self):
        """Every process running and not stopped, every proxy passing, every
        clock right, every disk with room."""
        for p in self.proxies:
            p.reset_state()
        for who in self.clocks:
            self.set_clock(who, "+0")
        for m in self.mounts.values():
            m.free()
        whm = self.whm
        if whm.proc is not None and whm.proc.poll() is None:
            os.kill(whm.proc.pid, signal.SIGCONT)
        else:
            whm.start()
        for node in self.nodes:
            pid = node.pdns_pid()
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            if node.agent_running():
                node.proc.send_signal(signal.SIGCONT)
            else:
                node.start(wait=False)
        for node in self.nodes:
            node.wait_healthy(30)

    def ensure_members(self):
        """Every node in the cluster again (a membership change of the
        workload may have been cut by the fault)."""
        self.whm.wait_healthy(30)   # it may be starting again
        servers = {s["id"]: s for s in self.whm.servers()}
        for node in self.nodes:
            if not servers.get(node.server_id, {}).get("in_cluster"):
                self.cluster.join(node)

    def delete_zones(self):
        """Delete every zone earlier runs left (the next run starts empty)."""
        for name, z in self.whm.zones().items():
            if name.endswith(TORTURE_SUFFIX):
                self.whm.call("DELETE", "/api/dns/%d" % z["id"], expect=200)

    def prepare(self, timeout=40.0):
        """A clean cluster for the next run: revived, complete, empty and
        converged. Raises WorldError when that cannot be had."""
        try:
            self.revive()
            self.ensure_members()
            self.delete_zones()
            self.cluster.wait_converged(timeout=timeout)
        except Exception as e:
            raise WorldError("%s: %s" % (type(e).__name__, e)) from e

    def logs(self):
        return self.cluster.logs() if self.cluster else ""

    def close(self):
        errors = []
        for p in self.proxies:
            p.heal()
        for who in self.clocks:
            try:
                self.set_clock(who, "+0")
            except OSError:
                pass
        if self.cluster is not None:
            whm = self.cluster.whm
            if whm.proc is not None and whm.proc.poll() is None:
                try:
                    os.kill(whm.proc.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            for node in self.cluster.nodes:
                for pid in set(node.seen_pdns_pids):
                    if harness.process_is(pid, harness.PDNS_PROGRAM, node.data_dir):
                        try:
                            os.kill(pid, signal.SIGCONT)
                        except ProcessLookupError:
                            pass
            try:
                self.cluster.stop()
            except Exception as e:      # keep closing the rest
                errors.append(e)
        for p in self.proxies:
            p.close()
        for m in self.mounts.values():
            try:
                m.unmount()
            except Exception as e:
                errors.append(e)
        self.mounts = {}
        if errors:
            raise errors[0]
