"""A change the controller acknowledged is durable: it survives a SIGKILL of
the controller in the middle of a burst of writes and, after a restart, is
served by every node with no operator action."""

import threading

import requests

import harness

pytest_plugins = ["cluster_fixtures"]


class Writer(threading.Thread):
    """Adds A records to one zone as fast as the controller acknowledges
    them, logging each acknowledged one, until the controller goes away."""

    def __init__(self, whm, zone_id, zone, tag):
        super().__init__(daemon=True)
        self.whm, self.zone_id, self.zone, self.tag = whm, zone_id, zone, tag
        self.acked = []         # (owner, address, record id)
        self.refused = []       # answers other than 201 while the controller ran
        self.stop_flag = threading.Event()
        self.session = requests.Session()

    def run(self):
        i = 0
        while not self.stop_flag.is_set():
            owner = "%s-%d" % (self.tag, i)
            address = "10.%d.%d.%d" % (ord(self.tag[0]), i // 250, i % 250 + 1)
            try:
                r = self.session.post(
                    self.whm.url + "/api/dns/%d/records" % self.zone_id,
                    json={"type": "A", "name": owner, "content": address},
                    headers={"Authorization": "Bearer " + self.whm.admin_token}, timeout=10)
            except requests.RequestException:
                break           # the controller is gone: anything unanswered may or may not be in
            if r.status_code == 201:
                self.acked.append((owner + "." + self.zone, address, r.json()["id"]))
            else:
                self.refused.append((r.status_code, r.text[:200]))
            i += 1
        self.session.close()


def test_every_acknowledged_change_survives_a_sigkill_of_the_controller(cluster):
    c = cluster
    zones = {}
    for tag in ("a", "b", "c"):
        domain = "durable-%s.example" % tag
        zones[tag] = (c.create_zone(domain), domain + ".")
    writers = [Writer(c.whm, zid, zone, tag) for tag, (zid, zone) in zones.items()]
    for w in writers:
        w.start()
    # Let the burst run a while (bounded, so that checking every change by dig stays quick).
    harness.wait_until(lambda: sum(len(w.acked) for w in writers) >= 600, 1.5, interval=0.01)

    c.whm.kill()                # SIGKILL, mid-burst

    for w in writers:
        w.stop_flag.set()
        w.join(15)
        assert not w.is_alive()
    acked = [a for w in writers for a in w.acked]
    print("%d changes acknowledged before the SIGKILL" % len(acked))
    assert len(acked) >= 30, "only %d changes acknowledged in 1.5 s" % len(acked)
    assert [r for w in writers for r in w.refused] == []

    c.whm.start()

    # The store kept every acknowledged record...
    stored = set()
    for zid, _ in zones.values():
        stored.update(r["id"] for r in c.whm.records(zid))
    missing = [a for a in acked if a[2] not in stored]
    assert missing == [], "acknowledged but lost by the store: %s" % missing[:10]
    # ...and every node serves every one of them.
    c.wait_converged(timeout=20)
    for owner, address, _ in acked:
        answers = c.answers(owner, "A")
        assert all(address in a for a in answers.values()), (owner, address, answers)
    # The SOA serial is the same everywhere, and the controller's.
    for zid, zone in zones.values():
        assert set(c.soa_serials(zone).values()) == {c.whm.zone(zid)["serial"]}


def test_changes_after_the_restart_continue_the_versions(cluster):
    c = cluster
    created = c.create_zone_answer("continue.example")
    zid = created["zoneId"]
    last = c.add_record(zid, "www", "A", "192.0.2.1")
    c.whm.kill()
    c.whm.start()

    after = c.add_record(zid, "www", "A", "192.0.2.2")

    assert after["version"] == last["version"] + 1
    assert after["serial"] > last["serial"]
    assert after["synced"] is True, after
    assert c.answers("www.continue.example.", "A") == {
        n.name: ["192.0.2.1", "192.0.2.2"] for n in c.nodes}

