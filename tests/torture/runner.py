"""One run of a fault kind with a seed, from a clean cluster to a verdict.

    world = World("agent-kill", base)
    result = run_seed(world, "agent-kill", 1234)

The order: the world is made clean (revived, every node a member, no
zones, converged); the schedule's first zones are created (and some
signed) and reach every node; the observer starts; the clients run their
operations for the workload's seconds while the fault thread injects at
its time; when the clients are done the fault is healed, every node made a
member again, and the checker waits for convergence and verifies."""

import time

from checker import Result, check
from faults import FAULTS
from observer import Observer
from schedule import Schedule
from workload import History, run_clients, setup_zones
from world import WorldError


def run_seed(world, kind, seed, quick=False):
    sched = Schedule(kind, seed, quick)
    res = Result(kind, seed)
    t0 = time.monotonic()
    phases = res.phases
    try:
        world.prepare()
        phases["prepare"] = time.monotonic() - t0
    except WorldError as e:
        res.error = "the cluster could not be made clean before the run: %s" % e
        return res
    history = History(sched)
    observer = None
    fault = None
    try:
        setup_zones(world.whm, history, sched)
        try:
            world.cluster.wait_converged(timeout=20)
        except AssertionError as e:
            res.error = "the first zones did not reach every node: %s" % e
            return res
        t_start = time.monotonic()
        phases["setup"] = t_start - t0 - phases["prepare"]
        observer = Observer(world.nodes, history.zone_names, t_start).start()
        fault = FAULTS[kind](world, sched, t_start)
        fault.start()
        membership = None
        if sched.membership is not None:
            leave, join, index, purge = sched.membership
            membership = (leave, join, world.nodes[index], purge)
        stuck = run_clients(world.whm, history, sched, t_start, membership)
        fault.finish()
        t_heal = time.monotonic()
        fault.heal()
        if fault.healed_at is not None:
            t_heal = fault.healed_at
        if stuck:
            res.error = "%d client threads did not finish" % len(stuck)
        if fault.error:
            res.error = "the fault failed: %s" % fault.error
        phases["workload"] = t_heal - t_start
        world.ensure_members()
        check(world, history, observer, t_heal, res)
        res.t_heal = t_heal - t_start
        phases["converge+check"] = time.monotonic() - t_heal
    except Exception as e:
        res.error = "%s: %s" % (type(e).__name__, e)
    finally:
        if observer is not None:
            observer.stop()
            res.observed = observer.queries
        if fault is not None:
            try:
                fault.cleanup()
            except Exception as e:
                res.error = res.error or "fault cleanup: %s" % e
            res.events = fault.events
        res.acked = history.acknowledged_changes()
        res.counts = history.counts()
        res.replays = replay_summary(world)
        try:
            res.cluster_events = world.whm.get("/api/dns/cluster/events", timeout=5).json()
        except Exception as e:
            res.cluster_events = repr(e)
        res.history = history
        res.schedule = sched
        res.elapsed = time.monotonic() - t0
    return res


def replay_summary(world):
    out = {}
    for p in world.proxies:
        for r in p.replays:
            key = "%s %s" % (r["kind"], r["status"])
            out[key] = out.get(key, 0) + 1
    return out


def report(res, world=None, verbose=False):
    """Text for a run: one line, and the evidence when it failed."""
    head = "%-16s seed %-6d %s converge %s acked %d %s (%.1f s)" % (
        res.kind, res.seed, "FAIL" if res.violations or res.error else "ok  ",
        "%.3f s" % res.converge if res.converge is not None else "-", res.acked,
        res.counts, res.elapsed)
    lines = [head]
    if res.violations or res.error or verbose:
        sched = getattr(res, "schedule", None)
        if sched is not None:
            lines.append("  schedule: " + sched.describe())
        lines.append("  fault events: %s" % res.events)
        if res.replays:
            lines.append("  replays: %s" % res.replays)
        if res.error:
            lines.append("  HARNESS ERROR: %s" % res.error)
        for v in res.violations:
            lines.append("  VIOLATION " + v)
        history = getattr(res, "history", None)
        if history is not None and (res.violations or verbose):
            lines.append("  operations (client, outcome):")
            for o in history.ops:
                lines.append("    %r" % o)
        lines.append("  convergence: %s" % res.trace)
        lines.append("  phases: %s" % {k: round(v, 2) for k, v in res.phases.items()})
        lines.append("  observer: %d SOA answers" % getattr(res, "observed", 0))
        if getattr(res, "cluster_events", None) is not None:
            lines.append("  controller events (heal at t=%s): %s" % (
                "%.3f" % res.t_heal if hasattr(res, "t_heal") else "?", res.cluster_events))
        if world is not None:
            lines.append("  logs under %s" % world.dir)
        lines.append("  reproduce: make torture KIND=%s SEED=%d" % (res.kind, res.seed))
    return "\n".join(lines)
