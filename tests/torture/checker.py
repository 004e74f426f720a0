"""The checker: once the fault is healed, wait until the cluster converged
(the time that takes is the run's figure), then verify:

1. the controller's state agrees with the history: every acknowledged
   change is there, every refused one is not, nothing else is (no phantom
   records); acknowledged versions and serials of a zone only grow;
2. every node serves every live zone exactly as the controller exports it
   (AXFR of the node against the controller's export, SOA serial included),
   and no node serves a zone the controller deleted;
3. digests: the content digest each agent reports, the controller's
   records digest from its store, and the digest computed here from the
   node's AXFR and from the controller's export by the rules of
   src/lib/dns/digest.h all agree; the controller's own view (cluster
   status) counts every zone in sync on every node;
4. DNSSEC: a signed zone's AXFR from every node passes ldns-verify-zone,
   every node serves the controller's DNSKEY set and the controller's DS
   matches it; an unsigned zone has no DNSKEY anywhere;
5. what the observer saw: no node ever served a lower serial than before.

Every violation is one line of evidence, prefixed by the kind and seed."""

import hashlib
import os
import sqlite3
import tempfile
import threading
import time

import dns.dnssec
import dns.exception
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.zone
import requests

import dnssec_tools
import harness
from workload import canon

CONVERGE_TIMEOUT = 40.0
MADE_BY_PDNS = {"DNSKEY", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "CDS", "CDNSKEY"}


class Result:
    def __init__(self, kind, seed):
        self.kind = kind
        self.seed = seed
        self.violations = []
        self.converge = None        # seconds from the heal, None if it never came
        self.acked = 0
        self.counts = {}
        self.events = []
        self.error = None           # the harness failed (not a finding about the cluster)
        self.replays = {}
        self.trace = []             # how convergence went: (s after the heal, what was missing)
        self.phases = {}            # seconds spent preparing, setting up, ...
        self.elapsed = 0.0

    def violation(self, text):
        self.violations.append("kind %s seed %d: %s" % (self.kind, self.seed, text))


# --- reading the cluster -------------------------------------------------------


def records_of_zone(z, zone):
    """{(owner, TYPE, rdata, ttl)} of a dns.zone.Zone, DNSSEC records left out."""
    out = set()
    for name, ttl, rd in z.iterate_rdatas():
        rtype = dns.rdatatype.to_text(rd.rdtype)
        if rtype in MADE_BY_PDNS:
            continue
        owner = name.derelativize(dns.name.from_text(zone)).to_text().lower()
        out.add((owner, rtype, rd.to_text(origin=None, relativize=False), int(ttl)))
    return out


def axfr(node, zone):
    z = dns.zone.from_xfr(dns.query.xfr(node.address, zone, port=node.dns_port, timeout=5,
                                        lifetime=15, relativize=False), relativize=False)
    return z


def digest(records):
    """(records digest R, zone digest D) by the rules of src/lib/dns/digest.h."""
    lines, soa = [], None
    for owner, rtype, rdata, ttl in records:
        line = "%s %s %d %s\n" % (owner, rtype, ttl, rdata)
        if rtype == "SOA":
            soa = line
        elif rtype not in MADE_BY_PDNS:
            lines.append(line)
    r = hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()
    if soa is None:
        return r, ""
    return r, hashlib.sha256((r + "\n" + soa).encode()).hexdigest()


def store_rdigests(whm):
    """{zone: records digest} of the live zones in the controller's store
    (read-only; SQLite lets a reader in beside the controller)."""
    db = sqlite3.connect("file:%s?mode=ro" % whm.store_path, uri=True, timeout=10)
    try:
        rows = db.execute("SELECT domain, rdigest FROM dns_zones WHERE deleted = 0").fetchall()
    finally:
        db.close()
    return {d.rstrip(".").lower() + ".": r for d, r in rows}


def soa_serial(node, zone):
    """The serial the node serves for 'zone', or None (refused, no SOA, no answer)."""
    try:
        a = harness.dns_query(node.address, node.dns_port, zone, "SOA", timeout=0.5)
    except (dns.exception.DNSException, OSError):
        return None
    if a.rcode() != dns.rcode.NOERROR:
        return None
    for rr in a.answer:
        if rr.rdtype == dns.rdatatype.SOA and rr.name.to_text().lower() == zone:
            return rr[0].serial
    return None


# --- convergence -----------------------------------------------------------------


def soa_template(whm, zones):
    """The SOA line of digest.h for any zone and serial, from one export:
    the controller gives every zone the same SOA but for the owner and the
    serial. None when there is no zone to export."""
    for name, z in zones.items():
        r = whm.request("GET", "/api/dns/%d/export" % z["id"])
        if r.status_code != 200:
            continue
        zone = dns.zone.from_text(r.text, origin=name, relativize=False, check_origin=False)
        soa = zone.get_rdataset(name, dns.rdatatype.SOA)
        fields = soa[0].to_text(origin=None, relativize=False).split()
        return "%%s SOA %d %s %s %%d %s\n" % (soa.ttl, fields[0], fields[1],
                                                " ".join(fields[3:]))
    return None


def expected_digests(whm, zones, template):
    """{zone: the digest a node holding the committed content reports}:
    the store's records digest with the SOA line (digest.h)."""
    rdigests = store_rdigests(whm)
    out = {}
    for name, z in zones.items():
        r = rdigests.get(name)
        if r is not None and template is not None:
            soa = template % (name, z["serial"])
            out[name] = hashlib.sha256((r + "\n" + soa).encode()).hexdigest()
    return out


def not_converged(world, history, cache):
    """None when converged; otherwise what is still missing (one line).
    Converged: every node holds every zone at the controller's version and
    with its content (digest: an edit behind an agent is repaired), serves
    it over DNS at the controller's serial, serves no deleted zone, and the
    controller counts every zone in sync on every node."""
    whm = world.whm
    try:
        zones = whm.zones()
        status = whm.status()
        if cache.get("template") is None:
            cache["template"] = soa_template(whm, zones)
        digests = expected_digests(whm, zones, cache["template"])
    except Exception as e:
        return "controller: %s" % type(e).__name__
    for node in world.nodes:
        try:
            have = node.zones()
        except (requests.RequestException, ValueError, KeyError) as e:
            return "%s: agent %s" % (node.name, type(e).__name__)
        for name, z in zones.items():
            got = have.get(name)
            if got is None or got.get("version") != z["version"]:
                return "%s: zone %s at version %s, controller %s" % (
                    node.name, name, got and got.get("version"), z["version"])
            if got.get("digest") != digests.get(name):
                return "%s: zone %s holds digest %.12s, the controller's content %.12s" % (
                    node.name, name, got.get("digest"), digests.get(name))
        extra = set(have) - set(zones)
        if extra:
            return "%s: serves zones the controller does not have: %s" % (node.name,
                                                                          sorted(extra)[:5])
    by_id = {n["nodeId"]: n for n in status.get("nodes", [])}
    for node in world.nodes:
        st = by_id.get(node.server_id)
        if st is None:
            return "controller: %s not in the cluster status" % node.name
        zc = st.get("zones", {})
        if zc.get("behind") or zc.get("failing") or zc.get("in_sync") != len(zones):
            return "controller: %s %s of %d zones" % (node.name, zc, len(zones))
    for name in history.zone_names():
        want = zones[name]["serial"] if name in zones else None
        for node in world.nodes:
            got = soa_serial(node, name)
            if got != want:
                return "%s: DNS serves %s with serial %s, controller %s" % (node.name, name,
                                                                             got, want)
    return None


def served_differs(world, history, cache):
    """None when every node's AXFR of every zone of the run is the
    controller's export; otherwise the first difference. What an agent
    reports is what it applied until its next verification pass: an edit
    behind it shows here first. One thread per node."""
    whm = world.whm
    try:
        zones = whm.zones()
    except Exception as e:
        return "controller: %s" % type(e).__name__
    names = sorted(set(history.zone_names()) & set(zones))
    for name in names:
        z = zones[name]
        key = (name, z["version"])
        if key not in cache:
            r = whm.request("GET", "/api/dns/%d/export" % z["id"])
            if r.status_code != 200:
                return "controller: export of %s answered %d" % (name, r.status_code)
            cache[key] = records_of_zone(dns.zone.from_text(
                r.text, origin=name, relativize=False, check_origin=False), name)
    found = {}

    transfers = cache.setdefault("axfr", {})

    def one(node):
        for name in names:
            want = cache[(name, zones[name]["version"])]
            try:
                transfers[(node.name, name)] = got_zone = axfr(node, name)
                got = records_of_zone(got_zone, name)
            except Exception as e:
                found[node.name] = "%s: AXFR of %s: %s" % (node.name, name, type(e).__name__)
                return
            if got != want:
                found[node.name] = "%s: serves %s with %d records other than the " \
                                   "controller's" % (node.name, name, len(got ^ want))
                return
    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in world.nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return next(iter(sorted(found.values())), None)


def wait_converged(world, history, t_heal, trace, cache, timeout=CONVERGE_TIMEOUT):
    """(seconds from t_heal to convergence or None, the last thing missing).
    'trace' gets (seconds from t_heal, what was missing) at every change;
    'cache' keeps exports and the last AXFRs."""
    deadline = time.monotonic() + timeout
    missing = None
    while time.monotonic() < deadline:
        now = missing
        missing = (not_converged(world, history, cache) or served_differs(world, history, cache)
                   or catalog_differs(world))
        if missing != now:
            trace.append((round(time.monotonic() - t_heal, 3), missing))
        if missing is None:
            return time.monotonic() - t_heal, None
        time.sleep(0.05)
    return None, missing


# --- the checks ----------------------------------------------------------------------


def check_history(res, whm, history, zones):
    """1: the controller's state against the model the history built."""
    for name, m in sorted(history.zones.items()):
        live = name in zones
        if live not in m.exists:
            res.violation("zone %s %s at the controller, but the history says %s (ops: %s)" % (
                name, "exists" if live else "is missing",
                "it was deleted" if m.exists == {False} else "it was created",
                [o for o in history.ops if o.zone == name][-4:]))
            continue
        prev = None
        for version, serial, op in m.acks:
            if prev is not None and (version <= prev[0] or not _serial_gt(serial, prev[1])):
                res.violation("zone %s: acknowledged %r (version %s, serial %s) after version "
                              "%s serial %s" % (name, op, version, serial, prev[0], prev[1]))
            prev = (version, serial)
        if not live:
            continue
        z = zones[name]
        signed = bool(z.get("dnssec_enabled"))
        if signed not in m.signed:
            res.violation("zone %s: dnssec_enabled %s, history allows %s" % (name, signed,
                                                                               m.signed))
        recs = whm.records(z["id"])
        by_label = {}
        for r in recs:
            c = canon(name, r["name"], r["type"], r["content"], r["ttl"],
                      r.get("priority") if r["type"] in ("MX", "SRV") else None)
            if c[1] in ("SOA",) or (c[1] == "NS" and c[0] == name):
                continue
            label = c[0][:-len(name) - 1] if c[0].endswith("." + name) else c[0]
            by_label.setdefault(label, []).append(c)
        for label, possible in sorted(m.items.items()):
            have = by_label.pop(label, [])
            value = have[0] if len(have) == 1 else (None if not have else tuple(have))
            if value not in possible:
                ops = [o for o in history.ops if o.zone == name and o.item == label]
                res.violation("zone %s: record %s is %s at the controller; the history "
                              "allows %s (ops: %s)" % (name, label, value, possible, ops))
        for label, have in sorted(by_label.items()):
            res.violation("zone %s: phantom record(s) at the controller: %s" % (name, have))


def _serial_gt(a, b):
    if a is None or b is None:
        return True
    return a != b and ((a > b and a - b < 2 ** 31) or (a < b and b - a > 2 ** 31))


def check_nodes(res, world, history, zones, tmpdir, transfers):
    """2, 3 and 4: what every node serves against the controller (one
    thread per node). 'transfers': {(node name, zone): AXFR} already made."""
    whm = world.whm
    try:
        rdigests = store_rdigests(whm)
    except sqlite3.Error as e:
        rdigests = None
        res.violation("the controller's store cannot be read: %s" % e)
    mine = set(history.zone_names())
    wanted = {}         # zone -> (records, zone digest, the controller's keys or None)
    for name, z in sorted(zones.items()):
        export = whm.request("GET", "/api/dns/%d/export" % z["id"])
        if export.status_code != 200:
            res.violation("zone %s: export answered %d" % (name, export.status_code))
            continue
        want = records_of_zone(dns.zone.from_text(export.text, origin=name, relativize=False,
                                                  check_origin=False), name)
        want_r, want_d = digest(want)
        if rdigests is not None and rdigests.get(name) != want_r:
            res.violation("zone %s: the store's records digest %s is not the digest of the "
                          "export %s" % (name, rdigests.get(name), want_r))
        soa = [r for r in want if r[1] == "SOA"]
        if not soa or int(soa[0][2].split()[2]) != z["serial"]:
            res.violation("zone %s: export SOA %s, zone serial %s" % (name, soa, z["serial"]))
        keys = None
        if name in mine and z.get("dnssec_enabled"):
            keys = whm.call("GET", "/api/dns/%d/dnssec" % z["id"], expect=200)
        wanted[name] = (want, want_d, keys)

    def one_node(node):
        try:
            listed = node.zones()
        except (requests.RequestException, ValueError, KeyError) as e:
            res.violation("%s: the agent's zone list: %r" % (node.name, e))
            return
        for name, (want, want_d, keys) in sorted(wanted.items()):
            agent_digest = listed.get(name, {}).get("digest")
            if agent_digest != want_d:
                res.violation("zone %s: %s's agent reports digest %s, the controller's content "
                              "has %s" % (name, node.name, agent_digest, want_d))
            if name not in mine:
                continue            # earlier runs' zones: digests only
            # The transfer of the poll that found the cluster converged, if
            # there was one (nothing changes after it).
            got_zone = transfers.get((node.name, name))
            try:
                got_zone = got_zone or axfr(node, name)
            except Exception as e:
                res.violation("zone %s: AXFR from %s failed: %r" % (name, node.name, e))
                continue
            got = records_of_zone(got_zone, name)
            if got != want:
                res.violation("zone %s: %s serves (AXFR) %s more and %s fewer than the "
                              "controller's export" % (name, node.name, sorted(got - want),
                                                       sorted(want - got)))
            elif digest(got)[1] != agent_digest:
                res.violation("zone %s: digest of %s's AXFR %s, its agent reports %s" % (
                    name, node.name, digest(got)[1], agent_digest))
            check_dnssec(res, node, name, got_zone, keys, tmpdir)
        for name in sorted(mine - set(zones)):
            serial = soa_serial(node, name)
            if serial is not None:
                res.violation("zone %s was deleted but %s serves it (serial %d)" % (
                    name, node.name, serial))
            if name in listed:
                res.violation("zone %s was deleted but %s's agent lists it live: %s" % (
                    name, node.name, listed[name]))

    threads = [threading.Thread(target=one_node, args=(n,), daemon=True) for n in world.nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)


def check_dnssec(res, node, name, got_zone, keys, tmpdir):
    dnskeys = set()
    node_rrset = got_zone.get_rdataset(name, dns.rdatatype.DNSKEY)
    if node_rrset is not None:
        dnskeys = {rd.to_text() for rd in node_rrset}
    if keys is None:
        if dnskeys:
            res.violation("zone %s is not signed but %s serves DNSKEY %s" % (
                name, node.name, sorted(dnskeys)))
        return
    want = {dns.rdata.from_text("IN", "DNSKEY", t).to_text() for t in keys.get("dnskey", [])}
    if dnskeys != want:
        res.violation("zone %s: %s serves DNSKEY %s, the controller's keys are %s" % (
            name, node.name, sorted(dnskeys), sorted(want)))
    for ds in keys.get("ds", []):
        tag, alg, dtype, hexd = ds.split()
        ok = False
        for rd in node_rrset or []:
            made = dns.dnssec.make_ds(name, rd, "SHA256")
            if made.key_tag == int(tag) and made.digest.hex().upper() == hexd.upper():
                ok = True
        if not ok:
            res.violation("zone %s: the controller's DS %s matches no DNSKEY %s serves" % (
                name, ds, node.name))
    path = os.path.join(tmpdir, "%s-%s.zone" % (node.name, name.rstrip(".")))
    with open(path, "w") as f:
        f.write(got_zone.to_text(relativize=False))
    rc, out = dnssec_tools.ldns_verify(path)
    if rc != 0:
        res.violation("zone %s: ldns-verify-zone fails on %s's AXFR: %s" % (
            name, node.name, out.strip()[-400:]))


def catalog_problems(world, zones):
    """What keeps the catalog zone (RFC 9432) from listing, on every node,
    one PTR for each live zone the controller has and none for another."""
    from world import CATALOG
    if CATALOG not in zones:
        return ["the controller has no catalog zone %s" % CATALOG]
    want = set(zones) - {CATALOG}
    problems = []
    for node in world.nodes:
        try:
            z = axfr(node, CATALOG)
        except Exception as e:
            problems.append("%s: AXFR of the catalog: %s" % (node.name, type(e).__name__))
            continue
        got = {str(rd.target) for _, rds in z.iterate_rdatasets(dns.rdatatype.PTR) for rd in rds}
        if got != want:
            problems.append("%s: the catalog lists %d zones, the controller has %d: missing %s, "
                            "extra %s" % (node.name, len(got), len(want), sorted(want - got)[:3],
                                          sorted(got - want)[:3]))
    return problems


def catalog_differs(world):
    """None when every node's catalog lists exactly the live zones (the
    controller brings it up to date after the zones themselves: a pass that
    failed, e.g. on a full disk, runs again a second later); otherwise the
    first difference."""
    try:
        zones = world.whm.zones()
    except Exception as e:
        return "controller: %s" % type(e).__name__
    problems = catalog_problems(world, zones)
    return problems[0] if problems else None


def check_catalog(res, world, zones):
    """After convergence: the catalog on every node lists exactly the live
    zones."""
    for p in catalog_problems(world, zones):
        res.violation(p)


def check(world, history, observer, t_heal, res):
    """Wait for convergence, then every check; fills 'res'."""
    cache = {}
    res.converge, missing = wait_converged(world, history, t_heal, res.trace, cache)
    if res.converge is None:
        cache.pop("axfr", None)
    if res.converge is None:
        res.violation("not converged %.0f s after the heal: %s" % (CONVERGE_TIMEOUT, missing))
    t = time.monotonic()
    zones = world.whm.zones()
    check_history(res, world.whm, history, zones)
    res.phases["check-history"] = time.monotonic() - t
    t = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="torture-check-") as tmp:
        check_nodes(res, world, history, zones, tmp, cache.get("axfr", {}))
    res.phases["check-nodes"] = time.monotonic() - t
    if res.converge is not None:
        check_catalog(res, world, zones)
    for v in observer.violations:
        res.violation(v)
