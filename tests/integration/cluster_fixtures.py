"""Fixtures for the yumna-whm tests; a pytest plugin the test_whm_* modules
load with `pytest_plugins = ["cluster_fixtures"]`.

- cluster: three nodes and a controller of its own, for one test.
- shared_cluster: one such cluster per module, for tests that leave it as
  they found it (each uses its own zone names).
- cluster_factory: clusters with other sizes or settings.

The controller's log is attached to the report of a failed test that used
a cluster (conftest.py attaches the nodes' logs: a Cluster has .nodes). At
the end of the session no controller the tests started may be left.
"""

import os
import re

import pytest

import harness
from cluster import Cluster, Whm, WHM_PROGRAM


def _whms_in(values):
    for v in values:
        if isinstance(v, Cluster):
            yield v.whm
        elif isinstance(v, Whm):
            yield v
        elif isinstance(v, ClusterFactory):
            for c in v.clusters:
                yield c.whm


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call"):
        seen = set()
        values = list(getattr(item, "funcargs", {}).values())
        for w in _whms_in(values):
            if id(w) not in seen:
                seen.add(id(w))
                rep.sections.append(("controller log %s" % w.directory, w.logs()))


class ClusterFactory:
    def __init__(self, base):
        self.base = str(base)
        self.clusters = []

    @property
    def nodes(self):
        # conftest.py prints the logs of every node under a fixture's .nodes
        return [n for c in self.clusters for n in c.nodes]

    def __call__(self, n=3, name=None, **kw):
        name = name or "c%d" % (len(self.clusters) + 1)
        c = Cluster(os.path.join(self.base, name), n=n, start=False, **kw)
        self.clusters.append(c)
        c.start()
        return c

    def close(self):
        errors = []
        for c in self.clusters:
            try:
                c.stop()
            except Exception as e:
                errors.append(e)
        if errors:
            raise errors[0]


@pytest.fixture
def cluster_factory(tmp_path):
    f = ClusterFactory(tmp_path)
    yield f
    f.close()


@pytest.fixture
def cluster(cluster_factory):
    return cluster_factory()


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory, request):
    base = tmp_path_factory.mktemp(re.sub(r"\W", "_", request.module.__name__))
    f = ClusterFactory(base)
    try:
        yield f()
    finally:
        f.close()


@pytest.fixture
def lone_whm(tmp_path):
    """A controller of its own, without nodes (a test may revoke its tokens
    or register servers without their agent)."""
    w = Whm(str(tmp_path / "whm"))
    w.start()
    yield w
    w.stop()


@pytest.fixture
def domain(zone_name):
    """A fresh zone name as the panel sends it (no final dot)."""
    return zone_name.rstrip(".")


@pytest.fixture(scope="session", autouse=True)
def no_controller_left_behind():
    yield
    left = []
    for w in Whm.instances:
        for pid in w.pids:
            if harness.process_is(pid, WHM_PROGRAM, w.conf_path):
                left.append(pid)
                harness.terminate(pid, timeout=5.0)
    assert not left, "controllers left behind by the tests: %s" % left
