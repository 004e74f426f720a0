#!/usr/bin/python3
"""Local yumna-dns demo: a controller and three DNS nodes (ns1..ns3) on 127.0.0.1.

    scripts/demo.py start    start everything (once), create an example zone
                             through the controller, show the answer from every node
    scripts/demo.py status   show what is running
    scripts/demo.py stop     stop everything the demo started

Each node is a yumna-agent with the pdns_server it manages, in demo/nsN/
(agent.conf, agent.log, data/); the controller, yumna-whm, runs in demo/whm/
on its embedded SQLite store. Ports, secrets and an admin token are chosen at
start; how to reach everything is written to demo/cluster.json (mode 0600):

    {"nodes": [{"id": 1, "name": "ns1", "agent_url": "http://127.0.0.1:PORT",
                "agent_secret": "...", "dns": "127.0.0.1:PORT",
                "transfer": "127.0.0.1:PORT", "agent_pid": 123, "pdns_pid": 124}, ...],
     "whm": {"url": "http://127.0.0.1:PORT", "token": "...", "read_token": "...",
             "dashboard": "http://127.0.0.1:PORT/ui/", "pid": 125,
             "dns": "127.0.0.1:PORT"}}

A node's "transfer" is where third-party secondaries transfer zones from
(its transfer port: the address and the TSIG key of a secondary are both
checked there). The controller's "dns" is its DNS listener, which takes
RFC 2136 updates signed with a TSIG key; the demo makes one, allowed every name of the example zone,
and writes it as a BIND key clause to demo/update.key (mode 0600) for
`nsupdate -k`.

The dashboard is at the controller's /ui/; `start` and `status` print where,
and one dig command per node.
"""

import json
import os
import secrets
import shutil
import signal
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import harness  # noqa: E402
from cluster import Whm  # noqa: E402
from harness import Node, rec  # noqa: E402

DEMO = os.path.join(REPO, "demo")
CLUSTER = os.path.join(DEMO, "cluster.json")
UPDATE_KEY = os.path.join(DEMO, "update.key")
WHM_DIR = os.path.join(DEMO, "whm")
NODES = 3
ZONE = "demo.example."


def log(msg=""):
    print(msg, flush=True)


def read_cluster():
    try:
        with open(CLUSTER) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log("demo: ignoring unreadable %s: %s" % (CLUSTER, e))
        return None


def write_cluster(doc):
    tmp = CLUSTER + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, CLUSTER)


def node_dir(name):
    return os.path.join(DEMO, name)


def whm_alive(entry):
    return harness.process_is((entry or {}).get("pid") or 0, "yumna-whm", WHM_DIR)


def alive(entry):
    """Both processes of a cluster.json node entry are still what they were."""
    d = node_dir(entry["name"])
    return (harness.process_is(entry.get("agent_pid") or 0, harness.AGENT_PROGRAM, d)
            and harness.process_is(entry.get("pdns_pid") or 0, harness.PDNS_PROGRAM))


def show(doc):
    nodes = doc["nodes"]
    log("Nodes (details in %s):" % os.path.relpath(CLUSTER))
    for n in nodes:
        log("  %-4s agent %-24s dns %-16s agent pid %-7s pdns pid %s"
            % (n["name"], n["agent_url"], n["dns"], n["agent_pid"], n["pdns_pid"]))
    w = doc.get("whm")
    if w:
        log("  whm  controller %s   pid %s" % (w["url"], w["pid"]))
    log()
    first = nodes[0]
    if w:
        log("Dashboard: %s/ui/" % w["url"])
        log("  sign in with the read token (or the admin token) from %s:" % os.path.relpath(CLUSTER))
        log("  %s -c 'import json; print(json.load(open(\"%s\"))[\"whm\"][\"read_token\"])'"
            % (sys.executable, os.path.relpath(CLUSTER)))
        log()
    log("Ask each node:")
    for n in nodes:
        host, port = n["dns"].rsplit(":", 1)
        log("  dig @%s -p %s www.%s A +short      # %s" % (host, port, ZONE.rstrip("."), n["name"]))
    log("Talk to an agent (the secret is read from cluster.json, not printed):")
    log("  SECRET=$(%s -c 'import json; print(json.load(open(\"%s\"))[\"nodes\"][0]"
        "[\"agent_secret\"])')" % (sys.executable, os.path.relpath(CLUSTER)))
    log("  curl -s -H \"X-Agent-Secret: $SECRET\" %s/api/dns/zones" % first["agent_url"])
    if w:
        log("Talk to the controller (the token is in cluster.json):")
        log("  TOKEN=$(%s -c 'import json; print(json.load(open(\"%s\"))[\"whm\"][\"token\"])')"
            % (sys.executable, os.path.relpath(CLUSTER)))
        log("  curl -s -H \"Authorization: Bearer $TOKEN\" %s/api/dns/cluster/status" % w["url"])
        log("  curl -s -H \"Authorization: Bearer $TOKEN\" %s/metrics" % w["url"])
        ctl = os.path.relpath(os.path.join(harness.BUILD, "src", "cli", "yumnactl"))
        log("Or with yumnactl (reads cluster.json): %s --demo status; %s --demo zones list"
            % (ctl, ctl))
    if w and w.get("dns"):
        host, port = w["dns"].rsplit(":", 1)
        log("Change the zone by RFC 2136 (the controller's DNS listener, key in %s):"
            % os.path.relpath(UPDATE_KEY))
        log("  printf 'server %s %s\\nzone %s\\nupdate add dyn.%s 300 A 192.0.2.99\\nsend\\n'"
            " | nsupdate -k %s" % (host, port, ZONE, ZONE, os.path.relpath(UPDATE_KEY)))
        nhost, nport = nodes[0]["dns"].rsplit(":", 1)
        log("  dig @%s -p %s dyn.%s A +short      # then every node serves it"
            % (nhost, nport, ZONE.rstrip(".")))
    log("Logs: demo/whm/whm.log, demo/nsN/agent.log and demo/nsN/data/pdns.log;"
        " stop with: make demo-stop")


def example_records():
    """What the demo zone holds besides the controller's SOA and default NS."""
    return [
        rec("ns1", "A", "127.0.0.1", ttl=3600),
        rec("ns2", "A", "127.0.0.1", ttl=3600),
        rec("@", "A", "192.0.2.10", ttl=300),
        rec("www", "A", "192.0.2.10", ttl=300),
        rec("@", "MX", "mail." + ZONE, ttl=3600, priority=10),
        rec("mail", "A", "192.0.2.25", ttl=300),
        rec("@", "TXT", '"v=spf1 mx -all"', ttl=300),
    ]


def start():
    doc = read_cluster()
    if (doc and len(doc.get("nodes", [])) == NODES and all(alive(n) for n in doc["nodes"])
            and whm_alive(doc.get("whm"))):
        log("demo: already running, not starting a second set")
        log()
        show(doc)
        return 0
    if doc:
        log("demo: %s is stale, cleaning up" % os.path.relpath(CLUSTER))
        stop(quiet=True)
    if not os.access(harness.AGENT, os.X_OK):
        log("demo: %s not found; build first (make build)" % harness.AGENT)
        return 1

    os.makedirs(DEMO, exist_ok=True)
    nodes = []
    whm = None
    dns_port = harness.free_ports(1, udp=(0,))[0]

    def describe():
        doc = {"nodes": [{
            "id": n.node_id, "name": n.name, "agent_url": n.url, "agent_secret": n.secret,
            "dns": n.dns, "transfer": n.transfer, "agent_pid": n.agent_pid,
            "pdns_pid": n.pdns_pid(),
        } for n in nodes]}
        if whm is not None and whm.proc is not None:
            doc["whm"] = {"url": whm.url, "token": whm.admin_token,
                          "read_token": whm.read_token, "pid": whm.proc.pid,
                          "dashboard": whm.url + "/ui/",
                          "dns": "127.0.0.1:%d" % dns_port}
        return doc

    try:
        for i in range(1, NODES + 1):
            name = "ns%d" % i
            shutil.rmtree(node_dir(name), ignore_errors=True)
            node = Node(node_dir(name), name=name, node_id=i,
                        secret=secrets.token_urlsafe(36))
            nodes.append(node)
            node.start()
            write_cluster(describe())  # so that 'stop' finds whatever runs
            log("demo: %s up: agent %s, dns %s" % (name, node.url, node.dns))
        shutil.rmtree(WHM_DIR, ignore_errors=True)
        whm = Whm(WHM_DIR, config={
            "default-ns": "ns1.%s, ns2.%s" % (ZONE, ZONE), "soa-mname": "ns1." + ZONE,
            "soa-rname": "hostmaster." + ZONE, "health-interval-ms": 1000,
            "reconcile-interval": 60, "dns-listen-address": "127.0.0.1",
            "dns-listen-port": dns_port})
        whm.admin_token = whm.token_create("demo-admin", "admin")
        whm.read_token = whm.token_create("demo-read", "read")
        whm.start()
        write_cluster(describe())
        log("demo: controller up: %s" % whm.url)
        for n in nodes:
            server = whm.call("POST", "/api/dns/servers", {
                "name": n.name, "ip": "127.0.0.1", "agent_port": n.api_port,
                "agent_secret": n.secret})
            whm.call("POST", "/api/dns/cluster/nodes/%d" % server["id"])
        log("demo: ns1..ns%d joined the cluster" % NODES)
    except BaseException as e:  # leave nothing half-started behind
        if whm is not None:
            whm.stop()
        for node in nodes:
            node.stop()
        stop(quiet=True)
        log("demo: start failed: %s" % e)
        return 1

    doc = describe()
    write_cluster(doc)

    log()
    log("demo: creating %s through the controller, one change per record, each "
        "acknowledged once every node serves it (?wait=all)" % ZONE)
    zone = whm.call("POST", "/api/dns?wait=all", {"domain": ZONE.rstrip(".")})
    last = zone
    for r in example_records():
        last = whm.call("POST", "/api/dns/%d/records?wait=all" % zone["zoneId"], r)
    log("  zone %d at version %d, serial %d, every node in sync: %s"
        % (zone["zoneId"], last["version"], last["serial"], last.get("synced")))
    key = whm.call("POST", "/api/dns/tsig-keys", {"name": "demo-update." + ZONE})
    whm.call("PUT", "/api/dns/update-policies/" + key["name"], {"rules": [
        {"zone": ZONE, "match": "zone", "types": ["ANY"]}]})
    fd = os.open(UPDATE_KEY, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write('key "%s" {\n\talgorithm %s;\n\tsecret "%s";\n};\n'
                % (key["name"], key["algorithm"], key["secret"]))
    log("  TSIG key %s may update every name of %s (%s)"
        % (key["name"], ZONE, os.path.relpath(UPDATE_KEY)))
    log()
    log("The same answer from every node:")
    for n in nodes:
        log("  $ dig @127.0.0.1 -p %d www.%s A +short" % (n.dns_port, ZONE.rstrip(".")))
        for answer in n.dig("www." + ZONE, "A") or ["(no answer)"]:
            log("    " + answer)
        log("  $ dig @127.0.0.1 -p %d %s SOA +short" % (n.dns_port, ZONE.rstrip(".")))
        for answer in n.dig(ZONE, "SOA") or ["(no answer)"]:
            log("    " + answer)
    log()
    show(doc)
    return 0


def stop(quiet=False):
    doc = read_cluster()
    stopped = 0
    w = (doc or {}).get("whm")
    if w and whm_alive(w):
        harness.terminate(w["pid"])
        stopped += 1
    for n in (doc or {}).get("nodes", []):
        d = node_dir(n.get("name", ""))
        for program, pid, needle in ((harness.AGENT_PROGRAM, n.get("agent_pid"), d),
                                     (harness.PDNS_PROGRAM, n.get("pdns_pid"), None)):
            if isinstance(pid, int) and harness.process_is(pid, program, needle):
                harness.terminate(pid)
                stopped += 1
    # Anything else the demo started, e.g. a pdns_server restarted under a new pid.
    stopped += len(harness.kill_strays(DEMO))
    for path in (CLUSTER, CLUSTER + ".tmp"):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    if not quiet:
        log("demo: stopped %d process%s" % (stopped, "" if stopped == 1 else "es")
            if stopped else "demo: nothing was running")
    return 0


def status():
    doc = read_cluster()
    if not doc:
        log("demo: not running")
        return 1
    for n in doc["nodes"]:
        log("  %s: %s" % (n["name"], "running" if alive(n) else "NOT running"))
    log("  whm: %s" % ("running" if whm_alive(doc.get("whm")) else "NOT running"))
    log()
    show(doc)
    return 0


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `demo.py status | head` ends quietly
    commands = {"start": start, "stop": stop, "status": status}
    if len(argv) != 2 or argv[1] not in commands:
        log("usage: %s start|status|stop" % argv[0])
        return 2
    return commands[argv[1]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
