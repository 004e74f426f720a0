#!/usr/bin/python3
"""make torture: every fault kind x many seeds over a real cluster, beside
PowerDNS's own primary -> secondary replication under the faults that
apply to it, with a summary table.

    tests/torture/torture.py                      # every kind x 20 seeds, the anchor x 5
    tests/torture/torture.py --seeds 5            # seeds 1..5
    tests/torture/torture.py --kind agent-kill --seed 1234   # one run again
    tests/torture/torture.py --list               # the kinds

Runs as root (tmpfs mounts for disk-full and the anchor's secondary). Exits
1 when any run found a violation or could not run. The table goes to stdout
and, with --out, to a Markdown file (make torture writes bench/torture.md).
Every process it starts is stopped and every tmpfs unmounted on the way
out, Ctrl-C and SIGTERM included."""

import argparse
import datetime
import math
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "integration"))

import anchor  # noqa: E402
from runner import report, run_seed  # noqa: E402
from schedule import KINDS, Schedule  # noqa: E402
from world import WHM_CONFIG, World  # noqa: E402


def pct(values, p):
    s = sorted(values)
    if not s:
        return None
    return s[min(len(s) - 1, int(math.ceil(p / 100.0 * len(s))) - 1)]


def fmt_s(v, cap=None):
    if v is None:
        return "-"
    if math.isinf(v):
        return "> %.0f s" % cap if cap else "never"
    return "%.2f s" % v


def on_term(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def run_kind(kind, seeds, base, quick, verbose, out):
    """Every seed of 'kind' on one world (built again when it cannot be
    made clean). Returns the results."""
    results = []
    world = None
    try:
        for seed in seeds:
            if world is None:
                world = World(kind, base)
            res = run_seed(world, kind, seed, quick)
            results.append(res)
            print(report(res, world, verbose), file=out, flush=True)
            if res.error and "could not be made clean" in res.error:
                world.close()
                world = None
    finally:
        if world is not None:
            world.close()
    return results


def run_anchor(kinds, seeds, base, out):
    results = {}
    rep = anchor.Replication(base)
    try:
        for kind in kinds:
            results[kind] = []
            for seed in seeds:
                r = anchor.run_anchor_seed(rep, kind, seed)
                results[kind].append(r)
                print("anchor %-19s seed %-4d %s converge %s acked %d %s" % (
                    kind, seed, "ERROR" if r.error else "ok   ",
                    fmt_s(r.converge, anchor.CONVERGE_TIMEOUT), r.acked,
                    r.error or r.events), file=out, flush=True)
    finally:
        rep.close()
    return results


def anchor_cell(results):
    if not results:
        return "n/a"
    conv = [r.converge for r in results if r.converge is not None]
    within = sum(1 for c in conv if not math.isinf(c))
    return "%s / %s (%d of %d within %.0f s)" % (
        fmt_s(pct(conv, 50), anchor.CONVERGE_TIMEOUT),
        fmt_s(pct(conv, 99), anchor.CONVERGE_TIMEOUT), within, len(results),
        anchor.CONVERGE_TIMEOUT)


def summary(all_results, anchors, wall, seeds_label, load):
    rows = ["| kind | seeds | violations | converge p50 | converge p99 | acknowledged changes "
            "per run | PowerDNS secondary p50 / p99 (anchor kind) |",
            "|---|---|---|---|---|---|---|"]
    for kind, results in all_results.items():
        conv = [r.converge for r in results if r.converge is not None]
        acked = [r.acked for r in results]
        bad = sum(len(r.violations) for r in results)
        errors = sum(1 for r in results if r.error)
        a = anchor.ANCHOR_FOR.get(kind)
        rows.append("| %s | %d | %d%s | %s | %s | %s | %s |" % (
            kind, len(results), bad, " (+%d runs that could not run)" % errors if errors else "",
            fmt_s(pct(conv, 50)), fmt_s(pct(conv, 99)),
            "%.0f (%d..%d)" % (statistics.mean(acked), min(acked), max(acked)) if acked
            else "-",
            "%s (%s)" % (anchor_cell(anchors.get(a)), a) if a and a in anchors else "n/a"))
    if anchors:
        rows += ["", "| anchor kind | seeds | converge p50 | converge p99 | within %.0f s | "
                 "acknowledged changes per run |" % anchor.CONVERGE_TIMEOUT,
                 "|---|---|---|---|---|---|"]
        for kind, results in anchors.items():
            conv = [r.converge for r in results if r.converge is not None]
            acked = [r.acked for r in results]
            errors = sum(1 for r in results if r.error)
            rows.append("| %s | %d%s | %s | %s | %d | %s |" % (
                kind, len(results), " (%d could not run)" % errors if errors else "",
                fmt_s(pct(conv, 50), anchor.CONVERGE_TIMEOUT),
                fmt_s(pct(conv, 99), anchor.CONVERGE_TIMEOUT),
                sum(1 for c in conv if not math.isinf(c)),
                "%.0f" % statistics.mean(acked) if acked else "-"))
    rows.append("")
    rows.append("Seeds %s; total wall time %.1f min; load average %s (the run's own "
                "processes count too; other work on the machine slows every figure)."
                % (seeds_label, wall / 60, load))
    return "\n".join(rows) + "\n"


HEADER = """# make torture: faults over a real cluster

`make torture` (tests/torture/, see [docs/testing.md](../docs/testing.md))
on %(host)s, %(cpus)d cores, %(date)s. Every kind runs its seeds on one
cluster: yumna-whm (SQLite store) and three nodes of yumna-agent +
pdns_server (gsqlite3), a fault-injecting HTTP proxy in front of each agent.
Each run: 3-5 zones (some signed), two clients changing them through the
controller's API for %(workload)s s while the fault happens (one node may
leave and join meanwhile), then the heal, then the checker.

- **violations**: an acknowledged change missing from the controller or
  from a node, a node serving another content than the controller's export
  (AXFR and digest) or a deleted zone, digests that disagree (agents,
  store, computed here), a signed zone that fails ldns-verify-zone or
  serves other keys, a node that served a lower serial than before. Must
  be 0.
- **converge**: from the heal (the process started or continued, the disk
  freed, the proxy passing, the clock set right; for faults that heal by
  themselves, from the end of the workload) until every node serves every
  zone at the controller's version and serial over DNS, no deleted zone,
  the controller counts every zone in sync on every node, and every
  node's catalog zone lists exactly the live zones. The
  controller runs with tests/integration's fast timers (%(timers)s).
  clock-jump runs every daemon under libfaketime reading its timestamp file
  at every clock call, which slows them several times.
- **acknowledged changes per run**: 2xx answers to the clients (mean, min..max).
- **PowerDNS secondary**: a plain PowerDNS primary and secondary in the same
  run under the fault that applies (tests/torture/anchor.py): the primary
  changed through its API with a NOTIFY after each change; time from the heal
  until the secondary serves the primary's serial of every zone, capped at
  %(cap).0f s (PowerDNS makes up for a lost NOTIFY or a failed transfer only at
  the secondary's next SOA check: the zone's refresh, or the retry after a
  failed transfer). partition, backend-edit, clock-jump and the push kinds
  have no counterpart there (NOTIFY and SOA checks are UDP; a secondary
  never repairs an edit of its database before the next serial).

"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", help="comma-separated kinds (default: all)")
    ap.add_argument("--seeds", type=int, default=20, help="seeds 1..N per kind (default 20)")
    ap.add_argument("--seed", type=int, help="this one seed only")
    ap.add_argument("--anchor-seeds", type=int, default=5,
                    help="seeds of each anchor kind (default 5; 0: no anchor)")
    ap.add_argument("--quick", action="store_true", help="shorter workload per seed")
    ap.add_argument("--out", help="write the summary table to this Markdown file")
    ap.add_argument("--keep", action="store_true", help="keep the run directory")
    ap.add_argument("--verbose", action="store_true", help="evidence for every run")
    ap.add_argument("--list", action="store_true", help="list the kinds and exit")
    args = ap.parse_args(argv)
    if args.list:
        for k, what in KINDS.items():
            print("%-16s %s" % (k, what))
        return 0
    kinds = args.kind.split(",") if args.kind else list(KINDS)
    for k in kinds:
        if k not in KINDS:
            ap.error("unknown kind %r (see --list)" % k)
    if args.seed is not None:
        seeds, label = [args.seed], "%d" % args.seed
    else:
        seeds, label = list(range(1, args.seeds + 1)), "1..%d" % args.seeds
    anchor_kinds = []
    if args.seed is None and args.anchor_seeds > 0:
        anchor_kinds = sorted({anchor.ANCHOR_FOR[k] for k in kinds if k in anchor.ANCHOR_FOR},
                              key=anchor.ANCHOR_KINDS.index)
    signal.signal(signal.SIGTERM, on_term)
    base = tempfile.mkdtemp(prefix="yumna-torture-")
    t0 = time.monotonic()
    load0 = os.getloadavg()[0]
    all_results, anchors = {}, {}
    failed = False
    try:
        for kind in kinds:
            all_results[kind] = run_kind(kind, seeds, base, args.quick, args.verbose,
                                         sys.stdout)
            failed |= any(r.violations or r.error for r in all_results[kind])
        if anchor_kinds:
            anchors = run_anchor(anchor_kinds, list(range(1, args.anchor_seeds + 1)), base,
                                 sys.stdout)
            failed |= any(r.error for rs in anchors.values() for r in rs)
    except KeyboardInterrupt:
        failed = True
        print("interrupted; everything started is stopped", file=sys.stderr)
    finally:
        wall = time.monotonic() - t0
        if all_results:
            load = "%.1f at the start, %.1f at the end" % (load0, os.getloadavg()[0])
            table = summary(all_results, anchors, wall, label, load)
            print(table)
            if args.out:
                header = HEADER % {
                    "host": platform.node() or "this machine", "cpus": os.cpu_count() or 0,
                    "date": datetime.date.today().isoformat(),
                    "workload": Schedule(kinds[0], seeds[0], args.quick).workload,
                    "timers": ", ".join("%s %s" % kv for kv in WHM_CONFIG.items()),
                    "cap": anchor.CONVERGE_TIMEOUT}
                with open(args.out, "w") as f:
                    f.write(header + table)
        if failed or args.keep:
            print("run directory kept: %s" % base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
