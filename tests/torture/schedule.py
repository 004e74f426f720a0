"""The seeded schedule of one torture run: which zones, which operations in
which order and at what pace, which fault, where and when.

Every decision comes from random.Random("<kind>:<seed>:<part>"), drawn here before
anything runs, so `make torture SEED=1234 KIND=agent-kill` makes the same
decisions again. What the decisions meet at run time (which requests a
fault catches, how long a restart takes) depends on timing, so a failure
that needs a narrow interleaving may take a few runs of its seed; the
checker prints the seed and kind with every violation."""

import random

# Every fault kind, with a line for the summary and --list.
KINDS = {
    "controller-kill": "SIGKILL of yumna-whm mid-workload, started again at the heal",
    "controller-stop": "SIGSTOP of yumna-whm, SIGCONT at the heal",
    "agent-kill": "SIGKILL of one node's yumna-agent, started again at the heal",
    "agent-stop": "SIGSTOP of one node's yumna-agent, SIGCONT at the heal",
    "pdns-kill": "SIGKILL of one node's pdns_server (its agent restarts it)",
    "pdns-stop": "SIGSTOP of one node's pdns_server (its agent kills a hung one), "
                 "SIGCONT at the heal",
    "partition": "controller <-> one node cut at the proxy: blackhole, reset or a "
                 "delay past the controller's timeout",
    "disk-full": "the controller's store or one node's PowerDNS database on a full tmpfs, "
                 "freed at the heal",
    "backend-edit": "UPDATE/DELETE/INSERT in one node's PowerDNS database behind its agent",
    "clock-jump": "one node's or the controller's wall clock jumped (libfaketime), "
                  "back at the heal",
    "push-dup": "every push duplicated by the proxies (after or alongside the original)",
    "push-reorder": "after every push an earlier captured push is replayed to the node",
}

NODES = 3
CLIENTS = 2

# Operations of a client and their weights.
OPS = [
    ("add", 30), ("update", 22), ("delete-record", 10), ("replace", 4),
    ("create-zone", 5), ("delete-zone", 4), ("recreate-zone", 3), ("sign", 5),
]

RECORD_TYPES = ["A", "AAAA", "TXT", "MX", "CNAME"]


class Schedule:
    """Everything one run of 'kind' with 'seed' will do.

    - zones: the names created before the workload ([label] of 'prefix');
      signed: those signed then too, with their settings;
    - ops[c]: client c's list of (pause in seconds before it, op, args) where
      args carry the random draws the op needs at run time ('pick' floats
      choose among the zones or records it may touch then);
    - membership: None or (leave at s, join at s, node index, purge);
    - fault: the kind's parameters; 'at' is when it starts (seconds into the
      workload), the heal comes when the workload ends unless the fault heals
      by itself;
    - workload: seconds the clients run."""

    def __init__(self, kind, seed, quick=False):
        if kind not in KINDS:
            raise ValueError("unknown kind %r" % kind)
        self.kind = kind
        self.seed = int(seed)
        self.quick = quick
        self.workload = 1.5 if quick else 2.0
        self.prefix = "s%d.%s.torture." % (self.seed, kind)

        # One stream per part, so that a shorter workload (quick) draws the
        # same zones, membership change and fault as the full one.
        def stream(part):
            return random.Random("%s:%d:%s" % (kind, self.seed, part))
        rng = stream("zones")
        self.zones = ["z%d" % i for i in range(rng.randint(3, 5))]
        self.signed = {}
        for z in self.zones:
            if rng.random() < 0.35:
                self.signed[z] = rng.choice([{}, {"nsec3": True}])
        self.ops = [self._client_ops(stream("client%d" % c)) for c in range(CLIENTS)]
        rng = stream("membership")
        self.membership = None
        if rng.random() < 0.3:
            leave = rng.uniform(0.1, 0.5) * self.workload
            join = leave + rng.uniform(0.2, 0.4) * self.workload
            self.membership = (leave, join, rng.randrange(NODES), rng.random() < 0.5)
        self.fault = self._fault(stream("fault"))

    def _client_ops(self, rng):
        out = []
        total = 0.0
        while True:
            pause = rng.uniform(0.01, 0.08)
            total += pause
            if total > self.workload:
                return out
            op = rng.choices([o for o, _ in OPS], [w for _, w in OPS])[0]
            args = {"pick": rng.random(), "pick2": rng.random()}
            if op in ("add", "update"):
                args["type"] = rng.choice(RECORD_TYPES)
                args["ttl"] = rng.choice([60, 300, 3600])
                args["value"] = rng.randrange(1, 1 << 16)
            elif op == "replace":
                args["values"] = [rng.randrange(1, 1 << 16) for _ in range(rng.randint(1, 3))]
            elif op == "sign":
                args["body"] = rng.choice([{}, {"nsec3": True}])
            out.append((pause, op, args))

    def _fault(self, rng):
        w = self.workload
        f = {"at": rng.uniform(0.15, 0.55) * w, "node": rng.randrange(NODES)}
        k = self.kind
        if k == "pdns-kill":
            # One or two kills; the agent restarts PowerDNS by itself.
            f["kills"] = rng.randint(1, 2)
            f["at"] = rng.uniform(0.3, 0.9) * w
        elif k == "pdns-stop":
            # Stopped until the workload ends, or 4 s more: then the agent
            # finds it hung (3 checks, 1 s apart) and kills it.
            f["linger"] = rng.choice([0.0, 0.0, 4.0])
        elif k == "partition":
            f["mode"] = rng.choice(["blackhole", "reset", "delay"])
            f["delay"] = rng.uniform(1.1, 2.0)       # past agent-timeout-ms (1 s)
        elif k == "disk-full":
            f["target"] = rng.choice(["store", "node"])
        elif k == "backend-edit":
            f["edits"] = [(rng.choice(["update", "delete", "insert", "ttl", "drop-zone"]),
                           rng.random()) for _ in range(rng.randint(1, 4))]
            f["at"] = rng.uniform(0.3, 0.95) * w
        elif k == "clock-jump":
            f["target"] = rng.choice(["controller", "node"])
            f["offset"] = rng.choice(["+1h", "-1h", "+1d", "-1d"])
            # A node catching up while the clock jumps: pushes to it are
            # failing, so their retry times are in the store.
            f["partition"] = rng.random() < 0.5
        elif k == "push-dup":
            f["how"] = rng.choice(["after", "concurrent"])
            f["at"] = 0.0
        elif k == "push-reorder":
            f["at"] = 0.0
        f["proxy_seed"] = rng.randrange(1 << 30)
        return f

    def describe(self):
        return "kind %s seed %d: zones %s (signed %s), %d+%d ops, membership %s, fault %s" % (
            self.kind, self.seed, self.zones, sorted(self.signed), len(self.ops[0]),
            len(self.ops[1]), self.membership, self.fault)
