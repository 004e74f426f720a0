"""The controller on MariaDB outlives its database connections: after the
server restarts, or kills the controller's connections (KILL, wait_timeout),
every thread connects again on its next use of the store. Writes succeed
again within seconds, on every HTTP thread, and the nodes' workers push the
changes again; a change in flight when a connection went away fails with 503
and is not acknowledged."""
import re
import threading
import time

import pytest
import requests

import cluster as cl

# A server of this module's own (it is restarted here), as each module
# that imports the fixture gets.
from test_whm_on_mariadb import mariadb_cluster_factory, mariadb_server  # noqa: F401

pytest_plugins = ["cluster_fixtures"]

RECOVERY_S = 8.0


@pytest.fixture
def cluster_factory(tmp_path, mariadb_server):
    f = mariadb_cluster_factory(tmp_path, mariadb_server)
    yield f
    f.close()


def db_user(c):
    return re.search(r"mysql-user = (\w+)", open(c.whm.conf_path).read()).group(1)


def fresh(c, method, path, body=None, params=None):
    """A request on a new TCP connection, so that successive ones reach the
    controller's HTTP threads in turn rather than one kept-alive thread."""
    kw = {"verify": c.whm.ca_file} if c.whm.ca_file is not None else {}
    return requests.request(method, c.whm.url + path, json=body, params=params, timeout=30,
                            headers={"Authorization": "Bearer " + c.whm.admin_token,
                                     "Connection": "close"}, **kw)


def add_a(c, zid, name, address, wait=False):
    return fresh(c, "POST", "/api/dns/%d/records" % zid,
                 {"type": "A", "name": name, "content": address},
                 params={"wait": "all"} if wait else None)


def first_write_after(c, zid, name):
    """Retry one record add until the controller takes it (503 meanwhile);
    returns the seconds it took and the 503s seen."""
    start = time.monotonic()
    refused = 0
    while True:
        r = add_a(c, zid, name, "192.0.2.200")
        if r.status_code == 201:
            return time.monotonic() - start, refused
        assert r.status_code == 503, cl.describe(r)
        refused += 1
        if time.monotonic() - start > RECOVERY_S:
            pytest.fail("the controller still refuses writes %.0f s after the database came "
                        "back (%d answers 503, the last: %s)"
                        % (RECOVERY_S, refused, cl.describe(r)))
        time.sleep(0.2)


def assert_serves_again(c, zid, tag):
    """Every HTTP thread reads and writes again, and the nodes' workers push
    what changed without being waited for."""
    for i in range(12):
        r = fresh(c, "GET", "/api/dns/%d/records" % zid)
        assert r.status_code == 200, cl.describe(r)
        r = add_a(c, zid, "%s-%d" % (tag, i), "192.0.2.%d" % (i + 1))
        assert r.status_code == 201, cl.describe(r)
    for i in range(12):
        c.wait_all_nodes("%s-%d.%s." % (tag, i, "reconnect.example"), "A",
                         ["192.0.2.%d" % (i + 1)], timeout=10)
    # And a change acknowledged only once every node has it.
    r = add_a(c, zid, tag + "-all", "198.51.100.7", wait=True)
    assert r.status_code == 201, cl.describe(r)
    assert r.json().get("synced") is True, r.json()
    assert c.answers(tag + "-all.reconnect.example.", "A") == \
        {n.name: ["198.51.100.7"] for n in c.nodes}


def new_cluster(cluster_factory):
    c = cluster_factory(n=2)
    zid = c.create_zone("reconnect.example")
    c.add_record(zid, "before", "A", "192.0.2.100")
    c.wait_all_nodes("before.reconnect.example.", "A", ["192.0.2.100"])
    # Every HTTP thread uses the store and keeps its connection.
    for i in range(16):
        assert fresh(c, "GET", "/api/dns/%d" % zid).status_code == 200
    return c, zid


class Writer(threading.Thread):
    """Adds records one after another until stopped: what the controller
    answered for each."""

    def __init__(self, c, zid):
        super().__init__(daemon=True)
        self.c, self.zid = c, zid
        self.stop = threading.Event()
        self.acknowledged, self.answers = [], []

    def run(self):
        i = 0
        while not self.stop.is_set():
            name = "w%d" % i
            try:
                r = add_a(self.c, self.zid, name, "203.0.113.%d" % (i % 250 + 1))
                self.answers.append(r.status_code)
                if r.status_code == 201:
                    self.acknowledged.append(name)
            except requests.RequestException as e:
                self.answers.append(str(e))
            i += 1
            time.sleep(0.02)


def test_the_controller_recovers_when_mariadb_restarts(cluster_factory, mariadb_server):
    c, zid = new_cluster(cluster_factory)
    writer = Writer(c, zid)
    writer.start()
    time.sleep(0.5)

    mariadb_server.restart(down=1.0)

    took, refused = first_write_after(c, zid, "first")
    time.sleep(0.5)
    writer.stop.set()
    writer.join()
    assert_serves_again(c, zid, "after")
    c.wait_all_nodes("first.reconnect.example.", "A", ["192.0.2.200"], timeout=10)
    # While the database was away, changes were refused with 503, never
    # failed otherwise; every one acknowledged is kept and served.
    assert set(writer.answers) <= {201, 503}, writer.answers
    assert writer.answers[-1] == 201, writer.answers
    names = [rec["name"] for rec in c.whm.records(zid)]
    assert not set(writer.acknowledged) - set(names)
    for name in writer.acknowledged[-3:]:
        i = int(name[1:])
        c.wait_all_nodes("%s.reconnect.example." % name, "A", ["203.0.113.%d" % (i % 250 + 1)])
    # The record added before the restart is still there, once.
    assert names.count("before") == 1
    log = c.whm.logs(lines=2000)
    assert "connected again" in log, log
    # Once for the outage, not once for every thread or request.
    assert log.count("connected again") <= 2, log
    print("first write %.2f s after the restart, %d refused" % (took, refused))


def test_the_controller_recovers_when_its_connections_are_killed(cluster_factory,
                                                                mariadb_server):
    c, zid = new_cluster(cluster_factory)
    killed = mariadb_server.kill_connections(db_user(c))
    assert killed >= 3  # the HTTP threads', each node's worker's, the pruner's

    first_write_after(c, zid, "first")
    assert_serves_again(c, zid, "after")


def test_a_connection_idle_beyond_wait_timeout_is_reopened_before_use(cluster_factory,
                                                                     mariadb_server):
    mariadb_server.query("SET GLOBAL wait_timeout = 3")
    try:
        c, zid = new_cluster(cluster_factory)
        time.sleep(5)  # the server closes the HTTP threads' idle connections
        # No request is refused: the idle connections are checked before use.
        for i in range(12):
            r = fresh(c, "GET", "/api/dns/%d/records" % zid)
            assert r.status_code == 200, cl.describe(r)
        assert_serves_again(c, zid, "idle")
    finally:
        mariadb_server.query("SET GLOBAL wait_timeout = 28800")
