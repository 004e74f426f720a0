"""A plain pdns_server (gsqlite3, API on) in its own directory, on
127.0.0.1 with ports chosen at run time: the anchors PowerDNS is measured
by (bench/run.py, tests/torture/anchor.py) and the shared PowerDNS of
external-mode agents.

    p = Pdns("/tmp/x/primary", {"primary": "yes"}).start()
    p.api("POST", "/zones", {"name": "example.com.", "kind": "Master", ...})
    p.stop()

Everything here stops only the process it started, by pid.
"""

import os
import secrets
import sqlite3
import subprocess
import time

import requests

import harness

PDNS_SERVER = "/usr/sbin/pdns_server"
PDNS_SCHEMA = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"


class Pdns:
    """A plain pdns_server (gsqlite3, API on) in its own directory, for the
    anchors and as the shared PowerDNS of the external-mode agents."""

    def __init__(self, directory, extra=None):
        self.directory = os.path.abspath(directory)
        os.makedirs(os.path.join(self.directory, "run"), exist_ok=True)
        self.key = secrets.token_hex(20)
        self.db = os.path.join(self.directory, "pdns.sqlite3")
        con = sqlite3.connect(self.db)
        with open(PDNS_SCHEMA) as f:
            con.executescript(f.read())
        con.close()
        self.extra = dict(extra or {})
        self.proc = None
        self.session = requests.Session()
        self.session.headers["X-API-Key"] = self.key
        self.new_ports()

    def new_ports(self):
        self.dns_port, self.api_port = harness.free_ports(2, udp=(0,))
        self.url = "http://127.0.0.1:%d" % self.api_port
        self.base = self.url + "/api/v1/servers/localhost"

    def write_config(self):
        conf = {
            "launch": "gsqlite3", "gsqlite3-database": self.db, "gsqlite3-dnssec": "yes",
            "local-address": "127.0.0.1", "local-port": self.dns_port,
            "api": "yes", "api-key": self.key, "webserver": "yes",
            "webserver-address": "127.0.0.1", "webserver-port": self.api_port,
            "webserver-allow-from": "127.0.0.1", "webserver-loglevel": "none",
            "security-poll-suffix": "", "socket-dir": os.path.join(self.directory, "run"),
            "guardian": "no", "daemon": "no", "disable-syslog": "yes",
            "zone-cache-refresh-interval": "0",
        }
        conf.update(self.extra)
        with open(os.path.join(self.directory, "pdns.conf"), "w") as f:
            f.write("".join("%s=%s\n" % kv for kv in conf.items()))

    def start(self, timeout=30.0, attempts=3):
        """Start and wait for the API. The ports were free when chosen, but
        an outgoing connection may have taken one since: then new ones."""
        log_path = os.path.join(self.directory, "pdns.log")
        for attempt in range(attempts):
            self.write_config()
            offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0
            if self._start(log_path, timeout):
                return self
            with open(log_path, "rb") as f:
                f.seek(offset)
                said = f.read().decode("utf-8", "replace")
            if "in use" not in said or attempt == attempts - 1:
                break
            self.new_ports()
        raise RuntimeError("pdns_server in %s did not start (see pdns.log)" % self.directory)

    def _start(self, log_path, timeout):
        log = open(log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [PDNS_SERVER, "--config-dir=" + self.directory], stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, cwd=self.directory, start_new_session=True,
                close_fds=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if self.session.get(self.base, timeout=1).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.05)
        if self.proc.poll() is None:
            harness.terminate(self.proc.pid)
        self.proc.wait()
        return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            harness.terminate(self.proc.pid)
            self.proc.wait()
        self.session.close()

    def api(self, method, path, body=None, expect=(200, 201, 204)):
        r = self.session.request(method, self.base + path, json=body, timeout=30)
        if r.status_code not in expect:
            raise RuntimeError("pdns %s %s: %d %s" % (method, path, r.status_code, r.text[:300]))
        return r

    def answers(self, name, rtype, sock):
        msg = harness.dns_query("127.0.0.1", self.dns_port, name, rtype, sock=sock, timeout=1.0)
        return harness.answer_texts(msg, name, rtype)
