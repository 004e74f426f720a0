"""One short seeded run of every fault kind of make torture (tests/torture/):
a real cluster, a workload of changes through the controller, the fault,
the heal, and the checker's verdict: every acknowledged change served by
every node, digests that agree, valid DNSSEC, no deleted zone served and no
serial served lower than before. A failure prints the seed, the kind and
the evidence; `make torture KIND=<kind> SEED=<seed>` runs it again (with
the longer workload of make torture)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "torture"))

from runner import report, run_seed  # noqa: E402
from schedule import KINDS  # noqa: E402
from world import World  # noqa: E402

pytest_plugins = ["cluster_fixtures"]

SEED = 1


@pytest.fixture
def world(request, tmp_path):
    w = World(request.param, str(tmp_path), name="w")
    request.node._yumna_nodes = w.nodes      # their logs go with a failure
    try:
        yield w
    finally:
        w.close()


@pytest.mark.parametrize("world", list(KINDS), indirect=True)
def test_a_short_seeded_run_finds_no_violation(world):
    res = run_seed(world, world.kind, SEED, quick=True)
    assert not res.error and not res.violations, report(res, world)
    assert res.acked > 0 and res.converge is not None, report(res, world)
