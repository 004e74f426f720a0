"""Start and drive a real yumna-whm controller and a cluster of real nodes.

    import sys; sys.path.insert(0, "<repo>/tests/integration")
    from cluster import Cluster

    c = Cluster("/tmp/x", n=3)          # three agents + pdns_server, one yumna-whm
    zid = c.create_zone("example.com")
    c.add_record(zid, "www", "A", "192.0.2.1")
    c.wait_all_nodes("www.example.com.", "A", ["192.0.2.1"])
    c.stop()

A Whm owns its directory: whm.conf (mode 0600), whm.sqlite3 (the store) and
whm.log (the controller's stdout and stderr). It listens on 127.0.0.1 on a
port chosen at run time, with fast timers so that retries, health checks and
reconciliation happen within a test's patience. Tokens are made with the
controller's own `token create` command, as an operator would.

Everything here stops only processes it started itself, by pid.
"""

import json
import os
import signal
import subprocess
import time

import dns.exception
import requests

import harness
from harness import Node

WHM = os.environ.get("YUMNA_WHM") or os.path.join(harness.BUILD, "src", "whm", "yumna-whm")
WHM_PROGRAM = "yumna-whm"

DEFAULT_NS = ["ns1.yumna.test.", "ns2.yumna.test."]


class WhmError(Exception):
    """The controller could not be started, stopped or reached, or answered
    something a helper did not expect."""


def _tail(path, lines):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace").splitlines()
    except OSError as e:
        text = ["(%s)" % e]
    return text[-lines:]


def describe(r):
    """'POST /api/dns -> 422 {"error": ...}' for assertion messages (the
    request and the answer, enough to reproduce)."""
    req = r.request
    body = req.body
    if isinstance(body, bytes):
        body = body[:400].decode("utf-8", "replace")
    elif isinstance(body, str):
        body = body[:400]
    return "%s %s %s-> %d %s" % (req.method, req.path_url, ("body %s " % body) if body else "",
                                 r.status_code, r.text[:600])


class Whm:
    """One yumna-whm in its own directory.

    'config' holds extra or overriding whm.conf keys (a value of None drops
    the key); 'env' extra environment variables. The controller runs in its
    own session with its output in whm.log."""

    instances = []

    def __init__(self, directory, config=None, binary=None, env=None):
        self.directory = os.path.abspath(str(directory))
        self.binary = binary or WHM
        self.conf_path = os.path.join(self.directory, "whm.conf")
        self.log_path = os.path.join(self.directory, "whm.log")
        self.extra_config = dict(config or {})
        self.store_path = self.extra_config.get("store-path") or os.path.join(self.directory,
                                                                              "whm.sqlite3")
        self.env = dict(env or {})
        self.address = "127.0.0.1"
        self.port = harness.free_port()
        self.proc = None
        self.pids = set()
        self.admin_token = None
        self.read_token = None
        self.session = requests.Session()
        os.makedirs(self.directory, exist_ok=True)
        self.write_config()
        Whm.instances.append(self)

    # configuration

    def config(self):
        c = {
            "listen-address": self.address,
            "listen-port": self.port,
            "store": "sqlite",
            "store-path": self.store_path,
            "default-ns": ", ".join(DEFAULT_NS),
            "soa-mname": harness.SOA_MNAME,
            "soa-rname": harness.SOA_RNAME,
            "agent-timeout-ms": 1000,
            "health-interval-ms": 200,
            "retry-min-ms": 50,
            "retry-max-ms": 1000,
            "reconcile-interval": 2,
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

    # With 'tls-cert-file' in its config the controller speaks HTTPS;
    # requests then verify it against 'ca_file'.
    ca_file = None

    @property
    def url(self):
        scheme = "https" if self.config().get("tls-cert-file") else "http"
        return "%s://%s:%d" % (scheme, self.address, self.port)

    # tokens

    def token_create(self, name, role):
        """Run `yumna-whm -c CONF token create NAME ROLE`; the token it prints."""
        self._check_binary()
        p = subprocess.run([self.binary, "-c", self.conf_path, "token", "create", name, role],
                           stdin=subprocess.DEVNULL, capture_output=True, cwd=self.directory,
                           timeout=30)
        out = p.stdout.decode("utf-8", "replace").strip()
        if p.returncode != 0 or not out or len(out.split()) != 1:
            raise WhmError("token create %s %s: exit %d, stdout %r, stderr %r"
                           % (name, role, p.returncode, out,
                              p.stderr.decode("utf-8", "replace")))
        return out

    def make_tokens(self):
        if self.admin_token is None:
            self.admin_token = self.token_create("tests-admin", "admin")
        if self.read_token is None:
            self.read_token = self.token_create("tests-read", "read")

    # processes

    def _check_binary(self):
        if not os.access(self.binary, os.X_OK):
            raise WhmError("controller binary not found: %s (set YUMNA_BUILD)" % self.binary)

    def start(self, wait=True, timeout=30.0):
        """Start the controller (creating the tokens first, once); with
        'wait', return once GET /health answers 200.

        The port was free when it was chosen, but an outgoing connection may
        have taken it since (both come from the ephemeral range): if the
        controller says so, it gets another port, up to three times."""
        if self.running():
            raise WhmError("controller already running")
        self._check_binary()
        self.make_tokens()
        for attempt in range(3):
            offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
            self._spawn()
            if not wait:
                return self
            try:
                self.wait_healthy(timeout)
                return self
            except WhmError:
                with open(self.log_path, "rb") as f:
                    f.seek(offset)
                    said = f.read().decode("utf-8", "replace")
                if self.running() or "Address already in use" not in said or attempt == 2:
                    raise
                self.port = harness.free_port()
                self.write_config()
        return self

    def _spawn(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [self.binary, "-c", self.conf_path],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=self.directory, start_new_session=True, close_fds=True,
                env=dict(os.environ, **self.env) if self.env else None)
        finally:
            log.close()
        self.pids.add(self.proc.pid)

    def wait_healthy(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise WhmError("controller exited with %s\n%s"
                               % (self.proc.returncode, self.logs()))
            try:
                r = self.get("/health", timeout=2)
                last = "%d %s" % (r.status_code, r.text)
                if r.status_code == 200:
                    return r.json()
            except (requests.RequestException, ValueError) as e:
                last = repr(e)
            time.sleep(0.05)
        raise WhmError("controller not healthy after %.0f s (last: %s)\n%s"
                       % (timeout, last, self.logs()))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """Signal the controller (SIGKILL by default) and reap it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def stop(self, timeout=10.0):
        """SIGTERM (then SIGKILL) the controller; returns its exit status."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Anything else of ours still running (only pids we started).
        for pid in self.pids:
            if harness.process_is(pid, WHM_PROGRAM, self.conf_path):
                harness.terminate(pid, timeout=5.0)
        self.session.close()
        return self.proc.returncode if self.proc is not None else None

    def restart(self, wait=True):
        self.stop()
        self.session = requests.Session()
        return self.start(wait=wait)

    def logs(self, lines=300):
        out = ["----- whm %s (last %d lines) -----" % (self.log_path, lines)]
        out.extend(_tail(self.log_path, lines))
        return "\n".join(out)

    # HTTP

    ADMIN = object()

    def request(self, method, path, json_body=None, data=None, token=ADMIN, headers=None,
                params=None, timeout=30, **kw):
        """An HTTP request to the controller with 'Authorization: Bearer
        <token>' (the admin token unless 'token' says otherwise; None sends no
        Authorization). 'json_body' is sent as JSON, 'data' as raw bytes with
        Content-Type application/json unless 'headers' says otherwise."""
        h = {}
        if token is Whm.ADMIN:
            token = self.admin_token
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if headers:
            h.update(headers)
        if json_body is not None:
            data = json.dumps(json_body).encode()
        if data is not None and not any(k.lower() == "content-type" for k in h):
            h["Content-Type"] = "application/json"
        if self.ca_file is not None:
            kw.setdefault("verify", self.ca_file)
        return self.session.request(method, self.url + path, data=data, headers=h,
                                    params=params, timeout=timeout, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def put(self, path, json_body=None, **kw):
        return self.request("PUT", path, json_body=json_body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def call(self, method, path, json_body=None, expect=(200, 201), **kw):
        """request() whose status must be in 'expect'; returns the JSON."""
        r = self.request(method, path, json_body=json_body, **kw)
        expect = (expect,) if isinstance(expect, int) else tuple(expect)
        if r.status_code not in expect:
            raise WhmError("expected %s: %s" % (expect, describe(r)))
        try:
            return r.json()
        except ValueError:
            raise WhmError("not JSON: %s" % describe(r))

    # the panel's routes

    def zones(self):
        """GET /api/dns as {domain with final dot: zone}."""
        return {z["domain"].rstrip(".") + ".": z for z in self.call("GET", "/api/dns", expect=200)}

    def zone(self, zone_id):
        return self.call("GET", "/api/dns/%d" % zone_id, expect=200)

    def records(self, zone_id):
        return self.call("GET", "/api/dns/%d/records" % zone_id, expect=200)

    def servers(self):
        return self.call("GET", "/api/dns/servers", expect=200)

    def status(self):
        return self.call("GET", "/api/dns/cluster/status", expect=200)

    def __repr__(self):
        return "Whm(%s)" % self.url


def _wait_query(wait):
    return {"wait": "all"} if wait else None


class Cluster:
    """'n' nodes (harness.Node: agent + pdns_server) and one controller that
    knows them all, under 'base'.

    nodes[i].server_id is the node's id at the controller; nodes[i].front,
    when set before the node is registered, is the (address, port) the
    controller is told to reach its agent at (a proxy in front of it)
    instead of the agent's own. Every process is stopped by stop()."""

    def __init__(self, base, n=3, whm_config=None, node_config=None, start=True):
        self.base = os.path.abspath(str(base))
        self.node_config = node_config
        self.nodes = []
        self.whm = Whm(os.path.join(self.base, "whm"), config=whm_config)
        self.responses = []     # every server/cluster answer the helpers saw
        self.check_agents = True    # start() registers nodes with the agent check
        for _ in range(n):
            self.new_node()
        if start:
            try:
                self.start()
            except BaseException:
                self.stop()  # nobody else holds this object to stop it
                raise

    def new_node(self, name=None):
        """A node object (not started, not registered)."""
        name = name or "ns%d" % (len(self.nodes) + 1)
        node = Node(os.path.join(self.base, name), name=name, node_id=len(self.nodes) + 1,
                    config=self.node_config)
        node.server_id = None
        node.front = None
        self.nodes.append(node)
        return node

    def start(self):
        for node in self.nodes:
            node.start(wait=False)
        for node in self.nodes:
            node.wait_healthy()
        self.whm.start()
        for node in self.nodes:
            self.register(node, check=self.check_agents)
            self.join(node)
        return self

    def add_node(self, name=None, join=True, config=None):
        """Start one more node ('config': agent.conf settings of its own),
        register it, and (with 'join') add it to the cluster."""
        node = self.new_node(name)
        if config:
            node.extra_config.update(config)
            node.write_config()
        node.start()
        self.register(node)
        if join:
            self.join(node)
        return node

    def register(self, node, check=True):
        """POST /api/dns/servers, at the node's address or at the proxy in
        front of it (node.front); with check=False the controller does not
        ask the agent first (?check=false)."""
        ip, port = getattr(node, "front", None) or (node.address, node.api_port)
        body = {"name": node.name, "ip": ip, "agent_port": port, "agent_secret": node.secret}
        r = self.whm.post("/api/dns/servers", body,
                          params=None if check else {"check": "false"})
        self.responses.append(r)
        if r.status_code != 201:
            raise WhmError("register %s: %s" % (node.name, describe(r)))
        node.server_id = r.json()["id"]
        return node.server_id

    def join(self, node):
        r = self.whm.post("/api/dns/cluster/nodes/%d" % node.server_id)
        self.responses.append(r)
        if r.status_code != 200:
            raise WhmError("join %s: %s" % (node.name, describe(r)))
        return r.json()

    def leave(self, node, purge=False):
        path = "/api/dns/cluster/nodes/%d" % node.server_id
        r = self.whm.delete(path, params={"purge": "1"} if purge else None)
        self.responses.append(r)
        if r.status_code != 200:
            raise WhmError("leave %s: %s" % (node.name, describe(r)))
        return r.json()

    def node_by_id(self, server_id):
        for n in self.nodes:
            if n.server_id == server_id:
                return n
        raise KeyError(server_id)

    # changes

    def create_zone(self, domain, wait=True):
        """POST /api/dns; returns the zone id."""
        return self.create_zone_answer(domain, wait)["zoneId"]

    def create_zone_answer(self, domain, wait=True):
        return self.whm.call("POST", "/api/dns", {"domain": domain}, expect=201,
                             params=_wait_query(wait))

    def add_record(self, zone_id, name, rtype, content, ttl=None, priority=None, wait=True,
                   **extra):
        """POST /api/dns/:zoneId/records; returns the change answer (with
        the record's 'id', the zone's 'version' and 'serial')."""
        body = {"type": rtype, "name": name, "content": content}
        if ttl is not None:
            body["ttl"] = ttl
        if priority is not None:
            body["priority"] = priority
        body.update(extra)
        return self.whm.call("POST", "/api/dns/%d/records" % zone_id, body, expect=201,
                             params=_wait_query(wait))

    def update_record(self, record_id, name, rtype, content, ttl=None, priority=None, wait=True):
        body = {"type": rtype, "name": name, "content": content}
        if ttl is not None:
            body["ttl"] = ttl
        if priority is not None:
            body["priority"] = priority
        return self.whm.call("PUT", "/api/dns/records/%d" % record_id, body, expect=200,
                             params=_wait_query(wait))

    def delete_record(self, record_id, wait=True):
        return self.whm.call("DELETE", "/api/dns/records/%d" % record_id, expect=200,
                             params=_wait_query(wait))

    def replace_records(self, zone_id, records, wait=True):
        return self.whm.call("PUT", "/api/dns/%d/records" % zone_id, {"records": records},
                             expect=200, params=_wait_query(wait))

    def delete_zone(self, zone_id, wait=True):
        return self.whm.call("DELETE", "/api/dns/%d" % zone_id, expect=200,
                             params=_wait_query(wait))

    # what the nodes serve

    @staticmethod
    def _dig(node, name, rtype):
        try:
            return node.dig(name, rtype)
        except (dns.exception.DNSException, OSError) as e:
            return "error: %r" % e

    @staticmethod
    def _rcode(node, name, rtype):
        try:
            return node.rcode(name, rtype)
        except (dns.exception.DNSException, OSError) as e:
            return "error: %r" % e

    def answers(self, name, rtype, nodes=None):
        """{node name: sorted rdata texts} from one query to each node."""
        return {n.name: self._dig(n, name, rtype) for n in (nodes or self.nodes)}

    def wait_all_nodes(self, name, rtype, expected, timeout=10.0, nodes=None):
        """Poll every node (or 'nodes') until each answers 'name'/'rtype' with
        exactly 'expected' (rdata texts, any order)."""
        want = sorted(expected)
        nodes = list(nodes or self.nodes)
        deadline = time.monotonic() + timeout
        pending = list(nodes)
        while True:
            pending = [n for n in pending if self._dig(n, name, rtype) != want]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if pending:
            raise AssertionError("after %.1f s, %s %s should be %s everywhere; answers: %s"
                                 % (timeout, name, rtype, want, self.answers(name, rtype, nodes)))

    def wait_rcode(self, name, rtype, rcode, timeout=10.0, nodes=None):
        """Poll until every node answers 'name'/'rtype' with 'rcode' ("REFUSED", ...)."""
        nodes = list(nodes or self.nodes)
        deadline = time.monotonic() + timeout
        pending = list(nodes)
        while True:
            pending = [n for n in pending if self._rcode(n, name, rtype) != rcode]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if pending:
            raise AssertionError("after %.1f s, %s %s should be %s everywhere; rcodes: %s"
                                 % (timeout, name, rtype, rcode,
                                    {n.name: self._rcode(n, name, rtype) for n in nodes}))

    def soa_serials(self, zone, nodes=None):
        """{node name: serial of the SOA it serves for 'zone'} (None if none)."""
        out = {}
        for n in nodes or self.nodes:
            texts = self._dig(n, zone, "SOA")
            out[n.name] = int(texts[0].split()[2]) if isinstance(texts, list) and texts else texts
        return out

    def divergence(self, nodes=None):
        """How each node's zone list (GET /api/dns/zones on its agent)
        differs from the controller's zones and versions; {} when converged."""
        want = {d: z["version"] for d, z in self.whm.zones().items()}
        out = {}
        for n in nodes or self.nodes:
            try:
                have = {d: z["version"] for d, z in n.zones().items()}
            except (requests.RequestException, ValueError, KeyError) as e:
                out[n.name] = "agent: %r" % e
                continue
            diff = {}
            for d in set(want) | set(have):
                if want.get(d) != have.get(d):
                    diff[d] = {"controller": want.get(d), "node": have.get(d)}
            if diff:
                out[n.name] = diff
        return out

    def wait_converged(self, timeout=15.0, nodes=None):
        """Poll until every node serves exactly the controller's zones at
        the controller's versions."""
        deadline = time.monotonic() + timeout
        while True:
            diff = self.divergence(nodes)
            if not diff or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if diff:
            raise AssertionError("not converged after %.1f s: %s" % (timeout, diff))

    # the end

    def logs(self):
        parts = [self.whm.logs()]
        parts.extend(n.logs() for n in self.nodes)
        return "\n".join(parts)

    def stop(self):
        """Stop the controller and every node (SIGCONT first, in case a test
        left an agent stopped)."""
        errors = []
        try:
            self.whm.stop()
        except Exception as e:      # keep stopping the rest
            errors.append(e)
        for n in self.nodes:
            try:
                if n.agent_running():
                    n.proc.send_signal(signal.SIGCONT)
                n.stop()
            except Exception as e:
                errors.append(e)
        if errors:
            raise errors[0]
