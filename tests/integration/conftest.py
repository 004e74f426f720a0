"""Fixtures for the yumna-agent integration tests.

- node: a fresh agent + pdns_server for one test, in the test's tmp_path.
- node_factory: make more nodes (or nodes with special configuration).
- shared_node: one node per test module, for tests that only need a node
  and leave it as they found it (or use their own zone names).
- zone_name: a zone name no other test uses.

Daemon logs (the agent's output and pdns.log) of every node a failed test
used are attached to its report. At the end of the session no agent or
pdns_server started under the session's temporary directory may be left.
"""

import itertools
import os
import re

import pytest

import harness
from harness import Node

_zone_counter = itertools.count(1)


def _nodes_in(value, seen):
    if isinstance(value, Node):
        if id(value) not in seen:
            seen.add(id(value))
            yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _nodes_in(v, seen)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _nodes_in(v, seen)
    elif hasattr(value, "nodes"):
        yield from _nodes_in(getattr(value, "nodes"), seen)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call"):
        seen = set()
        values = list(getattr(item, "funcargs", {}).values())
        values.extend(getattr(item, "_yumna_nodes", []))
        for n in _nodes_in(values, seen):
            rep.sections.append(("daemon logs of %s" % n.name, n.logs()))


class NodeFactory:
    """Creates nodes under one directory and stops them all in close()."""

    def __init__(self, base, item=None):
        self.base = str(base)
        self.nodes = []
        self.item = item

    def __call__(self, name=None, start=True, **kw):
        name = name or "ns%d" % (len(self.nodes) + 1)
        node = Node(os.path.join(self.base, name), name=name,
                    node_id=len(self.nodes) + 1, **kw)
        self.nodes.append(node)
        if self.item is not None:
            if not hasattr(self.item, "_yumna_nodes"):
                self.item._yumna_nodes = []
            self.item._yumna_nodes.append(node)
        if start:
            node.start()
        return node

    def close(self):
        for n in self.nodes:
            n.stop()


@pytest.fixture
def node_factory(tmp_path, request):
    f = NodeFactory(tmp_path, request.node)
    yield f
    f.close()


@pytest.fixture
def node(node_factory):
    return node_factory()


@pytest.fixture(scope="module")
def shared_node(tmp_path_factory, request):
    base = tmp_path_factory.mktemp(re.sub(r"\W", "_", request.module.__name__))
    f = NodeFactory(base)
    try:
        yield f()
    finally:
        f.close()


@pytest.fixture
def zone_name(request):
    """A fresh zone name like 'z12-pushed-zone-is-served.example.'."""
    words = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower().replace("test_", "", 1))
    words = words.strip("-")[:40].strip("-")
    return "z%d-%s.example." % (next(_zone_counter), words)


def _leftovers(base):
    found = []
    for program in (harness.AGENT_PROGRAM, harness.PDNS_PROGRAM):
        for pid in harness.find_processes(program, base):
            found.append((program, pid))
    for n in Node.instances:
        if n.agent_pid and harness.process_is(n.agent_pid, harness.AGENT_PROGRAM, n.conf_path):
            found.append((harness.AGENT_PROGRAM, n.agent_pid))
        for pid in n.seen_pdns_pids:
            if harness.process_is(pid, harness.PDNS_PROGRAM, n.data_dir):
                found.append((harness.PDNS_PROGRAM, pid))
    return sorted(set(found))


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind(tmp_path_factory):
    """Every agent and pdns_server the tests started is gone at the end."""
    base = str(tmp_path_factory.getbasetemp())
    yield
    left = _leftovers(base)
    for program, pid in left:
        harness.terminate(pid, timeout=5.0)
    assert not left, "processes left behind by the tests: %s" % left
