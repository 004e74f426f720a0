"""The workload: clients changing zones through the controller's API while
a fault happens, and the history of what was acknowledged.

Each client owns its zones (no two clients touch one zone), so the history
of a zone is sequential and its expected final state follows from it:
only a 2xx answer counts as acknowledged ("ok"); a 4xx is a refusal that
changed nothing ("fail"), and so is a connection that could not be opened;
a 5xx, a timeout or a connection lost after sending is "unknown" and the
change may or may not have happened. The model keeps, for every record
(one record per owner name, unique content), the set of values it may hold
and, for every zone, whether it may exist and be signed."""

import threading
import time

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import requests
import urllib3.exceptions

DEFAULT_NS = ("ns1.yumna.test.", "ns2.yumna.test.")
TIMEOUT = 1.5       # a request's patience; a stopped controller makes it "unknown"
SETUP = -1          # the client index of the first zones' creation


def canon(zone, name, rtype, content, ttl, priority=None):
    """(owner, TYPE, rdata text, ttl): one record as dnspython prints it,
    whoever wrote it (the controller's JSON, a node's AXFR)."""
    origin = dns.name.from_text(zone)
    if name in ("@", ""):
        owner = origin
    else:
        owner = dns.name.from_text(name, origin)
    text = content
    if priority is not None and rtype in ("MX", "SRV"):
        text = "%d %s" % (priority, content)
    rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), text,
                             origin=origin)
    return (owner.to_text().lower(), rtype, rd.to_text(origin=None, relativize=False), int(ttl))


def record_body(rtype, value, ttl):
    """The API body of a record of 'rtype' made from the number 'value'
    (contents are unique per value and already canonical)."""
    if rtype == "A":
        content = "198.18.%d.%d" % (value >> 8, value & 255)
    elif rtype == "AAAA":
        content = "2001:db8::%x" % value
    elif rtype == "TXT":
        content = '"v%d"' % value
    elif rtype == "MX":
        return {"type": "MX", "content": "mx%d.example.net." % value, "priority": 10, "ttl": ttl}
    else:
        content = "c%d.example.net." % value
    return {"type": rtype, "content": content, "ttl": ttl}


class ZoneModel:
    """What one zone name may be after the history so far."""

    def __init__(self, name, owner):
        self.name = name            # absolute, lowercase
        self.owner = owner          # the client that changes it
        self.zid = None
        self.exists = {False}
        self.uncertain = False      # a zone-level change is unknown: no more changes
        self.signed = {False}
        self.items = {}             # owner label -> set of canon() tuples or None
        self.ids = {}               # owner label -> record id (acknowledged adds)
        self.acks = []              # (version, serial, op) acknowledged, in order

    def live(self):
        return self.exists == {True} and not self.uncertain and self.zid is not None


class Op:
    __slots__ = ("client", "op", "zone", "item", "detail", "t0", "t1", "outcome", "status",
                 "answer")

    def __init__(self, client, op, zone, item=None, detail=None):
        self.client, self.op, self.zone, self.item, self.detail = client, op, zone, item, detail
        self.t0 = self.t1 = None
        self.outcome = self.status = self.answer = None

    def __repr__(self):
        return "%s(%s %s %s %s) -> %s %s %s [%.3f..%.3f]" % (
            self.op, self.zone, self.item or "", self.detail or "",
            "setup" if self.client == SETUP else "c%d" % self.client,
            self.outcome, self.status, (self.answer or "")[:160], self.t0 or 0, self.t1 or 0)


class History:
    """Every operation of every client, and the model of every zone."""

    def __init__(self, schedule):
        self.lock = threading.Lock()
        self.ops = []
        self.zones = {}             # name -> ZoneModel
        self.sched = schedule

    def zone_names(self):
        with self.lock:
            return list(self.zones)

    def add_zone(self, name, owner):
        with self.lock:
            z = self.zones.setdefault(name, ZoneModel(name, owner))
        return z

    def counts(self):
        out = {"ok": 0, "fail": 0, "unknown": 0}
        for o in self.ops:
            out[o.outcome] = out.get(o.outcome, 0) + 1
        return out

    def acknowledged_changes(self):
        """Changes the clients had acknowledged during the workload (the
        first zones and membership changes left out)."""
        return sum(1 for o in self.ops if o.outcome == "ok" and o.client != SETUP and
                   o.op not in ("leave", "join"))


class Client:
    """One client of the controller's API (its own HTTP session)."""

    def __init__(self, whm, index, history, t_start):
        self.whm = whm
        self.index = index
        self.h = history
        self.t_start = t_start
        self.session = requests.Session()
        self.counter = 0

    def close(self):
        self.session.close()

    def call(self, op, method, path, body=None):
        """Send one request; fill op's outcome. Returns the JSON on 2xx."""
        op.t0 = time.monotonic() - self.t_start
        try:
            r = self.session.request(method, self.whm.url + path, json=body, timeout=TIMEOUT,
                                     headers={"Authorization": "Bearer " + self.whm.admin_token})
        except requests.exceptions.ConnectionError as e:
            op.t1 = time.monotonic() - self.t_start
            # Refused before anything was sent: nothing can have changed.
            cause = e.args[0] if e.args else None
            reason = getattr(cause, "reason", None)
            if isinstance(reason, urllib3.exceptions.NewConnectionError) or \
                    isinstance(cause, urllib3.exceptions.NewConnectionError):
                op.outcome = "fail"
            else:
                op.outcome = "unknown"
            op.answer = repr(e)[:200]
            return None
        except requests.RequestException as e:
            op.t1 = time.monotonic() - self.t_start
            op.outcome, op.answer = "unknown", repr(e)[:200]
            return None
        op.t1 = time.monotonic() - self.t_start
        op.status = r.status_code
        op.answer = r.text[:300]
        if 200 <= r.status_code < 300:
            op.outcome = "ok"
            try:
                return r.json()
            except ValueError:
                return {}
        op.outcome = "fail" if 400 <= r.status_code < 500 else "unknown"
        return None

    def record(self, op):
        with self.h.lock:
            self.h.ops.append(op)

    # choosing

    def mine(self, pred):
        with self.h.lock:
            return sorted((z for z in self.h.zones.values()
                           if z.owner == self.index and pred(z)), key=lambda z: z.name)

    @staticmethod
    def pick(items, f):
        return items[int(f * len(items)) % len(items)] if items else None

    def new_label(self, what):
        self.counter += 1
        return "c%d%s%d" % (self.index, what, self.counter)

    # the operations

    def run_op(self, name, args):
        fn = getattr(self, "op_" + name.replace("-", "_"))
        return fn(args)

    def note_ack(self, z, op, answer):
        if answer and "version" in answer:
            z.acks.append((answer["version"], answer.get("serial"), op))

    def op_add(self, a):
        z = self.pick(self.mine(ZoneModel.live), a["pick"])
        if z is None:
            return None
        label = self.new_label("r")
        body = record_body(a["type"], a["value"], a["ttl"])
        body["name"] = label
        value = canon(z.name, label, body["type"], body["content"], body["ttl"],
                      body.get("priority"))
        op = Op(self.index, "add", z.name, label, value)
        ans = self.call(op, "POST", "/api/dns/%d/records" % z.zid, body)
        if op.outcome == "ok":
            z.items[label] = {value}
            if ans and "id" in ans:
                z.ids[label] = ans["id"]
            self.note_ack(z, op, ans)
        elif op.outcome == "unknown":
            z.items[label] = {None, value}
        return op

    def op_update(self, a):
        z = self.pick(self.mine(lambda z: z.live() and z.ids), a["pick"])
        if z is None:
            return self.op_add(a)
        label = self.pick(sorted(z.ids), a["pick2"])
        body = record_body(a["type"], a["value"], a["ttl"])
        body["name"] = label
        value = canon(z.name, label, body["type"], body["content"], body["ttl"],
                      body.get("priority"))
        op = Op(self.index, "update", z.name, label, value)
        ans = self.call(op, "PUT", "/api/dns/records/%d" % z.ids[label], body)
        if op.outcome == "ok":
            z.items[label] = {value}
            self.note_ack(z, op, ans)
        elif op.outcome == "unknown":
            z.items[label] = z.items.get(label, {None}) | {value}
        return op

    def op_delete_record(self, a):
        z = self.pick(self.mine(lambda z: z.live() and z.ids), a["pick"])
        if z is None:
            return None
        label = self.pick(sorted(z.ids), a["pick2"])
        op = Op(self.index, "delete-record", z.name, label)
        ans = self.call(op, "DELETE", "/api/dns/records/%d" % z.ids[label])
        if op.outcome == "ok":
            z.items[label] = {None}
            del z.ids[label]
            self.note_ack(z, op, ans)
        elif op.outcome == "unknown":
            z.items[label] = z.items.get(label, {None}) | {None}
        return op

    def op_replace(self, a):
        z = self.pick(self.mine(ZoneModel.live), a["pick"])
        if z is None:
            return None
        records = [{"name": "@", "type": "NS", "content": ns, "ttl": 3600} for ns in DEFAULT_NS]
        new = {}
        for v in a["values"]:
            label = self.new_label("p")
            body = record_body("A", v, 300)
            body["name"] = label
            records.append(body)
            new[label] = canon(z.name, label, "A", body["content"], 300)
        op = Op(self.index, "replace", z.name, None, sorted(new))
        ans = self.call(op, "PUT", "/api/dns/%d/records" % z.zid, {"records": records})
        if op.outcome == "ok":
            for label in z.items:
                z.items[label] = {None}
            z.ids = {}
            for label, value in new.items():
                z.items[label] = {value}
            self.note_ack(z, op, ans)
            self.learn_ids(z)
        elif op.outcome == "unknown":
            for label in z.items:
                z.items[label] = z.items[label] | {None}
            for label, value in new.items():
                z.items[label] = {None, value}
        return op

    def learn_ids(self, z):
        """The ids of the records a replace made (the answer does not carry them)."""
        try:
            r = self.session.get(self.whm.url + "/api/dns/%d/records" % z.zid, timeout=TIMEOUT,
                                 headers={"Authorization": "Bearer " + self.whm.admin_token})
            if r.status_code != 200:
                return
            for rec in r.json():
                name = rec["name"].rstrip(".")
                label = name[:-len(z.name.rstrip("."))].rstrip(".") if name.endswith(
                    z.name.rstrip(".")) else name
                if label in z.items and z.items[label] != {None}:
                    z.ids[label] = rec["id"]
        except (requests.RequestException, ValueError, KeyError):
            pass

    def op_create_zone(self, a):
        name = "%s.%s" % (self.new_label("n"), self.h.sched.prefix)
        z = self.h.add_zone(name, self.index)
        return self.create(z, "create-zone")

    def create(self, z, what):
        op = Op(self.index, what, z.name)
        ans = self.call(op, "POST", "/api/dns", {"domain": z.name.rstrip(".")})
        if op.outcome == "ok":
            z.exists, z.signed, z.zid = {True}, {False}, ans["zoneId"]
            for label in z.items:
                z.items[label] = {None}
            z.ids = {}
            self.note_ack(z, op, ans)
        elif op.outcome == "unknown":
            z.exists = z.exists | {True}
            z.uncertain = True
        return op

    def op_delete_zone(self, a):
        z = self.pick(self.mine(ZoneModel.live), a["pick"])
        if z is None:
            return None
        op = Op(self.index, "delete-zone", z.name)
        ans = self.call(op, "DELETE", "/api/dns/%d" % z.zid)
        if op.outcome == "ok":
            z.exists, z.signed = {False}, {False}
            for label in z.items:
                z.items[label] = {None}
            z.ids = {}
            self.note_ack(z, op, ans)
        elif op.outcome == "unknown":
            z.exists = {True, False}
            z.uncertain = True
        return op

    def op_recreate_zone(self, a):
        z = self.pick(self.mine(lambda z: z.exists == {False} and not z.uncertain), a["pick"])
        if z is None:
            return self.op_create_zone(a)
        return self.create(z, "recreate-zone")

    def op_sign(self, a):
        z = self.pick(self.mine(lambda z: z.live() and z.signed == {False}), a["pick"])
        if z is None:
            return None
        return self.sign(z, a["body"])

    def sign(self, z, body):
        op = Op(self.index, "sign", z.name, None, body)
        ans = self.call(op, "POST", "/api/dns/%d/dnssec" % z.zid, body)
        if op.outcome == "ok":
            z.signed = {True}
            if ans.get("version"):
                self.note_ack(z, op, ans)
        elif op.outcome == "unknown":
            z.signed = z.signed | {True}
        return op

    # membership (the node's leave and join go through the controller too)

    def membership(self, what, node, purge=False):
        op = Op(self.index, what, node.name, None, {"purge": purge} if purge else None)
        path = "/api/dns/cluster/nodes/%d" % node.server_id
        if what == "leave" and purge:
            path += "?purge=1"
        self.call(op, "DELETE" if what == "leave" else "POST", path)
        self.record(op)
        return op


def setup_zones(whm, history, schedule):
    """Create the schedule's first zones (and sign some) before the fault,
    waiting for every node: the state every run starts from."""
    c = Client(whm, SETUP, history, time.monotonic())
    try:
        for i, label in enumerate(schedule.zones):
            z = history.add_zone("%s.%s" % (label, schedule.prefix), i % 2)
            op = c.create(z, "create-zone")
            c.record(op)
            if op.outcome != "ok":
                raise RuntimeError("setup: %r" % op)
            if label in schedule.signed:
                op = c.sign(z, schedule.signed[label])
                c.record(op)
                if op.outcome != "ok":
                    raise RuntimeError("setup: %r" % op)
    finally:
        c.close()


def run_clients(whm, history, schedule, t_start, membership=None):
    """Run every client's operations for schedule.workload seconds (no new
    operation starts after that; one under way ends within TIMEOUT).
    'membership' is None or (leave at, join at, node, purge)."""
    clients = [Client(whm, i, history, t_start) for i in range(len(schedule.ops))]
    deadline = t_start + schedule.workload

    def work(c, ops):
        due = t_start
        for pause, name, args in ops:
            due += pause
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            if time.monotonic() >= deadline:
                return
            op = c.run_op(name, args)
            if op is not None:
                c.record(op)

    def members():
        leave, join, node, purge = membership
        for at, what in ((leave, "leave"), (join, "join")):
            now = time.monotonic()
            if t_start + at > now:
                time.sleep(t_start + at - now)
            m.membership(what, node, purge)

    threads = [threading.Thread(target=work, args=(c, ops), daemon=True)
               for c, ops in zip(clients, schedule.ops)]
    m = None
    if membership is not None:
        m = Client(whm, len(clients), history, t_start)
        threads.append(threading.Thread(target=members, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(schedule.workload + 4 * TIMEOUT + 5)
    for c in clients + ([m] if m else []):
        c.close()
    return [t for t in threads if t.is_alive()]
