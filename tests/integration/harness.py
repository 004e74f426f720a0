"""Start and drive real yumna-agent nodes (each with its own pdns_server).

Used by the integration tests, by scripts/demo.py and by the benchmark:

    import sys; sys.path.insert(0, "<repo>/tests/integration")
    from harness import Node, rec

    node = Node("/tmp/x/ns1")
    node.start()
    node.push("example.com.", 1, 2026010101, [rec("@", "NS", "ns1.example.net."),
                                             rec("www", "A", "192.0.2.1")])
    assert node.dig("www.example.com.", "A") == ["192.0.2.1"]
    node.stop()

Everything listens on 127.0.0.1 on ports chosen at run time. A Node owns its
directory: agent.conf (mode 0600), agent.log (the agent's stdout and stderr)
and data/ (the agent's data-dir: pdns.conf, pdns.sqlite3, pdns.log, run/).

The agent does not stop pdns_server when it exits, so Node.stop() stops both,
and kill_strays() finds any pdns_server or agent left behind under a
directory by reading /proc.
"""

import json
import os
import random
import secrets
import signal
import socket
import sqlite3
import subprocess
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("YUMNA_BUILD") or os.path.join(REPO, "build")
AGENT = os.path.join(BUILD, "src", "agent", "yumna-agent")


def sanitizer_env():
    """The sanitizer settings `make check-asan` runs with (ASAN_OPTIONS,
    LSAN_OPTIONS, UBSAN_OPTIONS), for a test that gives a program an
    environment of its own: the program's reports still reach the run's logs."""
    return {k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")}

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


def faketime_env(clock_file):
    """The environment that runs a program under libfaketime with the
    offset written in 'clock_file' ("+0", "-1d", "+1h"), read again at
    every clock call (with a cache, libfaketime misses a jump back until the
    faked time catches up); monotonic clocks are left alone, as an NTP step
    leaves them. A program built with AddressSanitizer is told not to insist
    on coming first in the preload list."""
    env = {
        "LD_PRELOAD": FAKETIME_LIB,
        "FAKETIME_TIMESTAMP_FILE": str(clock_file),
        "FAKETIME_NO_CACHE": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
    asan = os.environ.get("ASAN_OPTIONS")
    if asan is not None:
        env["ASAN_OPTIONS"] = asan + ":verify_asan_link_order=0"
    return env


SOA_MNAME = "ns1.yumna.test."
SOA_RNAME = "hostmaster.yumna.test."

AGENT_PROGRAM = "yumna-agent"
PDNS_PROGRAM = "pdns_server"


class HarnessError(Exception):
    """A node could not be started, stopped or reached."""


# --- ports -----------------------------------------------------------------


# PowerDNS binds its UDP query sockets to 10000 + random(10000).
PDNS_QUERY_PORTS_END = 20000


def _port_candidates():
    """Ports to try, in random order: below the kernel's ephemeral range,
    so that no socket the system numbers by itself (a client's source port,
    a resolver's query port) can take one between our check and the bind
    of the program we start; and from PDNS_QUERY_PORTS_END up, because
    PowerDNS numbers its own UDP query sockets (NOTIFY, SOA checks) at
    random in 10000-19999 (resolver.cc, makeQuerySocket), which once took
    a node's transfer port between our check and the agent's bind. Empty
    (the kernel chooses) when that range leaves no room."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 0
    if low - PDNS_QUERY_PORTS_END < 2000:
        return []
    ports = list(range(PDNS_QUERY_PORTS_END, low))
    random.SystemRandom().shuffle(ports)
    return ports


# Ports this process handed out: a port given to a program that has not
# bound it yet looks free, so it is never given out again.
_handed_out = set()
_candidates = _port_candidates()   # each tried once, then the kernel chooses


def free_ports(n, udp=()):
    """Return 'n' distinct free loopback port numbers, none handed out
    before by this process.

    Every port is free for TCP; the indices listed in 'udp' are free for UDP
    too (a DNS port needs both)."""
    held = []
    ports = []
    try:
        while len(ports) < n:
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                t.bind(("127.0.0.1", _candidates.pop() if _candidates else 0))
            except OSError:
                t.close()
                continue
            port = t.getsockname()[1]
            held.append(t)
            if port in _handed_out:
                continue
            if len(ports) in udp:
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    u.close()
                    continue
                held.append(u)
            ports.append(port)
            _handed_out.add(port)
    finally:
        for s in held:
            s.close()
    return ports


def free_port():
    return free_ports(1)[0]


# --- records and payloads --------------------------------------------------


def rec(name, rtype, content, ttl=None, priority=None, **extra):
    """One record in the original panel's JSON shape."""
    r = {"name": name, "type": rtype, "content": content}
    if ttl is not None:
        r["ttl"] = ttl
    if priority is not None:
        r["priority"] = priority
    r.update(extra)
    return r


def zone_payload(zone, version, serial, records, **zone_fields):
    """The body of POST /api/dns/sync-zone (and one element of a batch)."""
    z = {"domain": zone, "version": version, "serial": serial}
    z.update(zone_fields)
    return {"zone": z, "records": records}


def basic_records(a="192.0.2.1", ns="ns1.example.net."):
    """The smallest useful zone: an apex NS and an A at the apex and at www."""
    return [
        rec("@", "NS", ns, ttl=3600),
        rec("@", "A", a, ttl=300),
        rec("www", "A", a, ttl=300),
    ]


def absolute(name, zone=None):
    """'www' + 'example.com.' -> 'www.example.com.'; absolute names unchanged."""
    if name.endswith("."):
        return name
    if zone is None:
        return name + "."
    zone = zone if zone.endswith(".") else zone + "."
    if name == "@":
        return zone
    return name + "." + zone


def wait_until(check, timeout, what=None, interval=0.05):
    """check()'s first truthy value, calling it every 'interval' seconds.
    After 'timeout' seconds check() is called once more; if that is still
    falsy, raise AssertionError naming 'what' and the last value, or without
    'what' return that falsy value (for `assert wait_until(...), message`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    last = check()
    if last or what is None:
        return last
    raise AssertionError("%s: not within %.1f s (last: %r)" % (what, timeout, last))


# --- processes -------------------------------------------------------------


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def _is_running(pid):
    """True while 'pid' exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def process_is(pid, program, needle=None):
    """True if 'pid' runs 'program' (its comm, or the basename of argv[0] or
    of the executable) and, when 'needle' is given, one of its arguments
    contains 'needle' or its working directory is 'needle' or below it."""
    args = _cmdline(pid)
    if not args or not _is_running(pid):
        return False
    names = {os.path.basename(args[0])}
    for link, read in (("exe", lambda p: os.path.basename(os.readlink(p))),
                       ("comm", lambda p: open(p).read().strip())):
        try:
            names.add(read("/proc/%d/%s" % (pid, link)))
        except OSError:
            pass
    if program not in names:
        return False
    if needle is None or any(needle in a for a in args[1:]):
        return True
    try:
        cwd = os.readlink("/proc/%d/cwd" % pid)
    except OSError:
        return False
    return cwd == needle or cwd.startswith(needle.rstrip("/") + "/")


def find_processes(program, needle):
    """Pids of running 'program' processes with 'needle' in an argument."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and process_is(int(entry), program, needle):
            pids.append(int(entry))
    return pids


def wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_running(pid):
            return True
        time.sleep(0.02)
    return not _is_running(pid)


def terminate(pid, timeout=10.0):
    """SIGTERM 'pid', then SIGKILL if it is still there after 'timeout'."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_gone(pid, wait):
            return


def sigstop(pid, timeout=5.0):
    """SIGSTOP process 'pid' and return once every one of its threads is
    stopped: the signal takes each thread in turn, and a thread that was
    running may still answer a request just after kill() returned."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + timeout
    tasks = "/proc/%d/task" % pid
    while True:
        states = []
        for tid in os.listdir(tasks):
            try:
                with open(os.path.join(tasks, tid, "stat")) as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:         # a thread that ended meanwhile
                pass
        if all(st in ("T", "t") for st in states):
            return
        if time.monotonic() > deadline:
            raise HarnessError("process %d: threads not stopped after %.0f s: %s"
                               % (pid, timeout, states))
        time.sleep(0.001)


def kill_strays(directory):
    """Stop every agent and pdns_server whose arguments mention 'directory'.
    Returns a list of (program, pid) that had to be stopped."""
    found = []
    for program in (AGENT_PROGRAM, PDNS_PROGRAM):
        for pid in find_processes(program, directory):
            found.append((program, pid))
            terminate(pid, timeout=5.0)
    return found


# --- DNS -------------------------------------------------------------------


def sqlite_copy(src, dst):
    """SQLite database 'src' copied whole over 'dst' (its online backup API,
    safe while a daemon writes either)."""
    a, b = sqlite3.connect(src, timeout=10), sqlite3.connect(dst, timeout=10)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def dns_query(address, port, name, rtype, dnssec=False, timeout=2.0, sock=None):
    """One query over UDP (falling back to TCP when truncated); returns the
    dns.message.Message answer."""
    q = dns.message.make_query(name, rtype, want_dnssec=dnssec, use_edns=0, payload=4096)
    q.flags &= ~dns.flags.RD
    if sock is not None:
        return dns.query.udp(q, address, port=port, timeout=timeout, sock=sock)
    answer, _ = dns.query.udp_with_fallback(q, address, port=port, timeout=timeout)
    return answer


def answer_texts(msg, name, rtype):
    """Sorted canonical rdata texts of the answer RRset 'name'/'rtype'."""
    qname = dns.name.from_text(name)
    qtype = dns.rdatatype.from_text(rtype) if isinstance(rtype, str) else rtype
    out = []
    for rrset in msg.answer:
        if rrset.name == qname and rrset.rdtype == qtype:
            out.extend(rd.to_text() for rd in rrset)
    return sorted(out)


# --- the node --------------------------------------------------------------


class Node:
    """One yumna-agent in managed mode with the pdns_server it starts.

    'directory' is created if needed and belongs to the node. 'config' holds
    extra or overriding agent.conf keys ({"also-notify": "127.0.0.1:5300"};
    a value of None drops the key). 'env' holds extra environment variables
    for the agent (and so for the pdns_server it starts). The agent runs in
    its own session with its output in agent.log, so it may outlive the
    process that started it (scripts/demo.py relies on that)."""

    instances = []

    def __init__(self, directory, name="ns1", node_id=1, secret=None, config=None,
                 agent=None, env=None):
        self.directory = os.path.abspath(str(directory))
        self.name = name
        self.node_id = node_id
        self.secret = secret or secrets.token_urlsafe(36)
        self.agent = agent or AGENT
        self.data_dir = os.path.join(self.directory, "data")
        self.conf_path = os.path.join(self.directory, "agent.conf")
        self.log_path = os.path.join(self.directory, "agent.log")
        self.api_port, self.dns_port, self.pdns_api_port, self.transfer_port = free_ports(
            4, udp=(1, 3))
        self.address = "127.0.0.1"
        self.extra_config = dict(config or {})
        self.env = dict(env or {})
        self.proc = None
        self.agent_pid = None
        self._log_offset = 0      # the log's size when the agent last started
        self._answered = False    # /health said healthy once
        self.seen_pdns_pids = set()
        self.session = requests.Session()
        os.makedirs(self.directory, exist_ok=True)
        self.write_config()
        Node.instances.append(self)

    # configuration

    def config(self):
        c = {
            "secret": self.secret,
            "listen-address": self.address,
            "listen-port": self.api_port,
            "mode": "managed",
            "data-dir": self.data_dir,
            "dns-address": self.address,
            "dns-port": self.dns_port,
            "transfer-port": self.transfer_port,
            "pdns-api-port": self.pdns_api_port,
            "soa-mname": SOA_MNAME,
            "soa-rname": SOA_RNAME,
            "log-level": "info",
        }
        c.update(self.extra_config)
        return {k: v for k, v in c.items() if v is not None}

    def write_config(self):
        text = "".join("%s = %s\n" % (k, v) for k, v in self.config().items())
        fd = os.open(self.conf_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(self.conf_path, 0o600)

    # With 'tls-cert-file' in its config the agent speaks HTTPS; requests
    # then verify it against 'ca_file' (set by the test that made the CA).
    ca_file = None

    @property
    def url(self):
        scheme = "https" if self.config().get("tls-cert-file") else "http"
        return "%s://%s:%d" % (scheme, self.address, self.api_port)

    @property
    def dns(self):
        return "%s:%d" % (self.address, self.dns_port)

    @property
    def transfer(self):
        """Where third-party secondaries transfer from (the transfer port)."""
        return "%s:%d" % (self.address, self.transfer_port)

    # processes

    def start(self, wait=True, timeout=30.0):
        """Start the agent; with 'wait', return once /health says healthy."""
        if self.proc is not None and self.proc.poll() is None:
            raise HarnessError("%s: agent already running" % self.name)
        if not os.access(self.agent, os.X_OK):
            raise HarnessError("agent binary not found: %s (set YUMNA_BUILD)" % self.agent)
        self._log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [self.agent, "-c", self.conf_path],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=self.directory, start_new_session=True, close_fds=True,
                env=dict(os.environ, **self.env) if self.env else None)
        finally:
            log.close()
        self.agent_pid = self.proc.pid
        if wait:
            self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout=30.0):
        """Poll GET /health until it answers 200 healthy; raise with the
        agent's log if the agent exits or the time runs out.

        The API port was free when it was chosen, but another program may
        have bound it since (both suites of CI run side by side): an agent
        that never answered yet and says so gets another port, up to three
        times (its pdns_server keeps running, and the agent started again
        takes it over, as after any restart of the agent)."""
        for attempt in range(3):
            try:
                health = self._wait_healthy(timeout)
                self._answered = True
                return health
            except HarnessError:
                if attempt == 2 or not self._api_port_was_taken():
                    raise
                self.api_port = free_port()
                self.write_config()
                self.start(wait=False)

    def _api_port_was_taken(self):
        if self._answered or self.agent_running():
            return False
        with open(self.log_path, "rb") as f:
            f.seek(self._log_offset)
            said = f.read().decode("utf-8", "replace")
        return "port %d: Address already in use" % self.api_port in said

    def _wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise HarnessError("%s: agent exited with %s\n%s"
                                   % (self.name, self.proc.returncode, self.logs()))
            try:
                r = self.get("/health", timeout=2)
                last = "%d %s" % (r.status_code, r.text)
                if r.status_code == 200 and r.json().get("status") == "healthy":
                    self.remember_pdns_pid()
                    return r.json()
            except (requests.RequestException, ValueError) as e:
                last = repr(e)
            time.sleep(0.05)
        raise HarnessError("%s: not healthy after %.0f s (last: %s)\n%s"
                           % (self.name, timeout, last, self.logs()))

    def agent_running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """Signal the agent (SIGKILL by default) and reap it; pdns stays up."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop_agent(self, timeout=10.0):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self, wait=True):
        """Stop the agent (not PowerDNS) and start it again."""
        self.stop_agent()
        return self.start(wait=wait)

    def pdns_pid_file(self):
        return os.path.join(self.data_dir, "run", "pdns.pid")

    def pdns_pid(self):
        """The pid of this node's pdns_server, or None when it is not running.
        Read from the pid file, or from GET /health when that is missing;
        a pid is trusted only if it is a pdns_server process."""
        candidates = []
        try:
            with open(self.pdns_pid_file()) as f:
                candidates.append(int(f.read().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
        if not candidates and self.agent_running():
            try:
                pid = self.get("/health", timeout=2).json().get("powerdns", {}).get("pid")
                if isinstance(pid, int):
                    candidates.append(pid)
            except (requests.RequestException, ValueError, AttributeError):
                pass
        for pid in candidates:
            if process_is(pid, PDNS_PROGRAM):
                self.seen_pdns_pids.add(pid)
                return pid
        found = find_processes(PDNS_PROGRAM, self.data_dir)
        if found:
            self.seen_pdns_pids.update(found)
            return found[0]
        return None

    def remember_pdns_pid(self):
        self.pdns_pid()

    def stop_pdns(self, sig=signal.SIGTERM, timeout=10.0):
        """Stop this node's pdns_server behind the agent's back."""
        pid = self.pdns_pid()
        if pid is None:
            raise HarnessError("%s: no pdns_server running" % self.name)
        os.kill(pid, sig)
        if not wait_gone(pid, timeout):
            raise HarnessError("%s: pdns_server %d did not exit" % (self.name, pid))
        return pid

    def stop(self):
        """Stop the agent, then PowerDNS, then anything else left under the
        node's directory."""
        pid = self.pdns_pid()
        self.stop_agent()
        for p in {pid} | self.seen_pdns_pids:
            if p is not None and process_is(p, PDNS_PROGRAM):
                terminate(p)
        kill_strays(self.data_dir)
        kill_strays(self.conf_path)
        self.session.close()

    # logs

    def logs(self, lines=200):
        """The tail of the agent's log and of pdns.log."""
        out = []
        for label, path in (("agent " + self.log_path, self.log_path),
                            ("pdns " + os.path.join(self.data_dir, "pdns.log"),
                             os.path.join(self.data_dir, "pdns.log"))):
            try:
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", "replace").splitlines()
            except OSError as e:
                text = ["(%s)" % e]
            out.append("----- %s (last %d lines) -----" % (label, lines))
            out.extend(text[-lines:])
        return "\n".join(out)

    # HTTP

    def headers(self, extra=None, auth=True):
        h = {}
        if auth:
            h["X-Agent-Secret"] = self.secret
        if extra:
            h.update(extra)
        return h

    def request(self, method, path, json_body=None, data=None, headers=None, auth=True,
                timeout=30, **kw):
        """An HTTP request to the agent. 'json_body' is sent as JSON, 'data'
        as raw bytes with Content-Type application/json unless 'headers' says
        otherwise."""
        h = self.headers(headers, auth)
        if json_body is not None:
            data = json.dumps(json_body).encode()
        if data is not None and not any(k.lower() == "content-type" for k in h):
            h["Content-Type"] = "application/json"
        if self.ca_file is not None:
            kw.setdefault("verify", self.ca_file)
        return self.session.request(method, self.url + path, data=data, headers=h,
                                    timeout=timeout, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def push(self, zone, version, serial, records, **zone_fields):
        """POST /api/dns/sync-zone; returns the response."""
        return self.post("/api/dns/sync-zone",
                         zone_payload(zone, version, serial, records, **zone_fields))

    def push_ok(self, zone, version, serial, records, **zone_fields):
        """push() that must answer 200 applied:true; returns the JSON."""
        r = self.push(zone, version, serial, records, **zone_fields)
        if r.status_code != 200 or r.json().get("applied") is not True:
            raise HarnessError("%s: push of %s v%d: %d %s"
                               % (self.name, zone, version, r.status_code, r.text))
        return r.json()

    def sync_batch(self, payloads, **kw):
        return self.post("/api/dns/sync-batch", {"zones": payloads}, **kw)

    def delete_zone(self, zone, version=None):
        path = "/api/dns/zones/" + zone
        if version is not None:
            path += "?version=%d" % version
        return self.delete(path)

    def zone(self, zone):
        """GET /api/dns/zones/:zone as a response."""
        return self.get("/api/dns/zones/" + zone)

    def zones(self):
        """GET /api/dns/zones as {zone: {"version": .., "serial": ..}}."""
        r = self.get("/api/dns/zones")
        r.raise_for_status()
        return {z["zone"]: z for z in r.json()["zones"]}

    def raw(self, data, timeout=10.0):
        """Send raw bytes as one HTTP/1.1 request and return (status, headers,
        body bytes). The request should carry 'Connection: close'."""
        return raw_http(self.address, self.api_port, data, timeout)

    # DNS

    def query(self, name, rtype, dnssec=False, timeout=2.0):
        """One DNS query to this node; returns the dns.message.Message."""
        return dns_query(self.address, self.dns_port, name, rtype, dnssec, timeout)

    def dig(self, name, rtype="A", dnssec=False):
        """Sorted canonical rdata texts of 'name'/'rtype' in the answer section."""
        return answer_texts(self.query(name, rtype, dnssec), name, rtype)

    def rcode(self, name, rtype="A"):
        """The rcode text ("NOERROR", "REFUSED", ...) for a query."""
        return dns.rcode.to_text(self.query(name, rtype).rcode())

    def __repr__(self):
        return "Node(%s, %s, dns %s)" % (self.name, self.url, self.dns)


def raw_http(address, port, data, timeout=10.0):
    """Send 'data' on a fresh TCP connection, read until the server closes or
    a full response (by Content-Length) has arrived."""
    with socket.create_connection((address, port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            buf += chunk
            head, sep, body = buf.partition(b"\r\n\r\n")
            if sep:
                length = None
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip())
                if length is not None and len(body) >= length:
                    break
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines or not lines[0].startswith(b"HTTP/"):
        raise HarnessError("no HTTP response: %r" % buf[:200])
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().decode().lower()] = v.strip().decode("latin-1")
    return status, headers, body
