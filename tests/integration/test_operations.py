"""What docs/operations.md tells an operator to do, done: `make install`
(meson install) into a staging root, the systemd units it ships, an online
backup of the controller's store and a restore from it."""

import os
import re
import shutil
import subprocess
import time

import pytest

import harness

pytest_plugins = ["cluster_fixtures"]

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UNITS = ("yumna-whm.service", "yumna-agent.service")


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """`meson install` of the build under test into a private DESTDIR."""
    root = str(tmp_path_factory.mktemp("destdir"))
    p = subprocess.run(["meson", "install", "-C", harness.BUILD, "--destdir", root,
                        "--quiet"],
                       capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
    prefix = subprocess.run(["meson", "introspect", "--buildoptions", harness.BUILD],
                            capture_output=True, timeout=60).stdout.decode()
    m = re.search(r'"name": "prefix", "value": "([^"]+)"', prefix)
    return root, m.group(1) if m else "/usr/local"


def unit_lines(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def test_install_puts_programs_units_samples_and_docs_in_place(staged):
    root, prefix = staged
    base = root + prefix
    for program in ("sbin/yumna-whm", "sbin/yumna-agent"):
        assert os.access(os.path.join(base, program), os.X_OK), program
    for unit in UNITS:
        assert os.path.isfile(os.path.join(base, "lib/systemd/system", unit)), unit
    doc = os.path.join(base, "share/doc/yumna-dns")
    for name in ("operations.md", "whm-api.md", "agent-api.md", "agent.md",
                 "examples/whm.conf.sample", "examples/agent.conf.sample"):
        assert os.path.isfile(os.path.join(doc, name)), name


@pytest.mark.parametrize("unit", UNITS)
def test_units_run_the_installed_programs_after_checking_the_config(staged, unit):
    root, prefix = staged
    lines = unit_lines(os.path.join(root + prefix, "lib/systemd/system", unit))
    program = unit.split(".")[0]
    conf = "/etc/yumna/%s.conf" % ("whm" if program == "yumna-whm" else "agent")
    exe = os.path.join(prefix, "sbin", program)
    assert "ExecStartPre=%s -n -c %s" % (exe, conf) in lines
    assert "ExecStart=%s -c %s" % (exe, conf) in lines
    assert os.access(root + exe, os.X_OK)
    for key in ("User=yumna", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                "PrivateTmp=yes", "UMask=0077", "SystemCallFilter=@system-service",
                "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"):
        assert key in lines, (unit, key)
    if program == "yumna-whm":
        assert "CapabilityBoundingSet=" in lines and "MemoryDenyWriteExecute=yes" in lines
    else:
        assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in lines
        assert "KillMode=process" in lines


@pytest.mark.parametrize("unit", UNITS)
def test_units_are_rated_well_hardened_by_systemd(staged, unit):
    root, prefix = staged
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze missing (scripts/deps.sh installs systemd)"
    p = subprocess.run([analyze, "security", "--offline=yes", "--root=" + root,
                        os.path.join(prefix, "lib/systemd/system", unit)],
                       capture_output=True, timeout=60)
    out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    m = re.search(r"Overall exposure level for %s: ([0-9.]+)" % re.escape(unit), out)
    assert m, out[-2000:]
    assert float(m.group(1)) <= 2.5, out[-2000:]


def test_installed_sample_configurations_check_once_filled_in(staged, tmp_path):
    root, prefix = staged
    examples = os.path.join(root + prefix, "share/doc/yumna-dns/examples")
    whm_conf = tmp_path / "whm.conf"
    with open(os.path.join(examples, "whm.conf.sample")) as f:
        whm_conf.write_text(f.read().replace("/var/lib/yumna-whm/", str(tmp_path) + "/"))
    os.chmod(whm_conf, 0o600)
    p = subprocess.run([root + prefix + "/sbin/yumna-whm", "-n", "-c", str(whm_conf)],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    agent_conf = tmp_path / "agent.conf"
    with open(os.path.join(examples, "agent.conf.sample")) as f:
        text = f.read()
    agent_conf.write_text(re.sub(r"(?m)^secret = *$", "secret = " + "s" * 40, text))
    os.chmod(agent_conf, 0o600)
    p = subprocess.run([root + prefix + "/sbin/yumna-agent", "-n", "-c", str(agent_conf)],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr


def sqlite3_cli(*args):
    p = subprocess.run(["sqlite3"] + list(args), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode()


def test_restore_from_an_online_backup_brings_every_node_back_to_it(cluster_factory, tmp_path):
    c = cluster_factory(n=2)
    zid = c.create_zone("restore.example")
    first = c.add_record(zid, "www", "A", "192.0.2.1")
    backup = str(tmp_path / "whm-backup.sqlite3")
    # The command docs/operations.md gives, while the controller runs.
    sqlite3_cli(c.whm.store_path, ".backup '%s'" % backup)

    # Changes after the backup: all of them must be undone by the restore.
    c.update_record(first["id"], "www", "A", "192.0.2.2")
    c.add_record(zid, "late", "A", "192.0.2.3")
    c.create_zone("after-backup.example")
    c.wait_all_nodes("www.restore.example.", "A", ["192.0.2.2"])

    c.whm.stop()
    shutil.copy(backup, c.whm.store_path)
    os.chmod(c.whm.store_path, 0o600)         # install -m 0600, as the guide says
    for suffix in ("-wal", "-shm"):
        if os.path.exists(c.whm.store_path + suffix):
            os.unlink(c.whm.store_path + suffix)
    c.whm.session = __import__("requests").Session()
    c.whm.start()
    for n in c.nodes:
        c.whm.call("POST", "/api/dns/cluster/sync-all/%d" % n.server_id, expect=202)

    c.wait_all_nodes("www.restore.example.", "A", ["192.0.2.1"], timeout=20)
    c.wait_rcode("late.restore.example.", "A", "NXDOMAIN", timeout=20)
    c.wait_rcode("www.after-backup.example.", "A", "REFUSED", timeout=20)
    c.wait_converged(timeout=20)


def test_a_store_restored_from_a_backup_wins_over_nodes_ahead_of_it(cluster_factory, tmp_path):
    """The store goes back to a backup while the nodes serve later versions:
    what the store holds is served again everywhere (its version raised
    above the nodes'), and a delete of a zone the nodes hold at a later
    version is carried out, not acknowledged and left."""
    c = cluster_factory(n=2)
    kept = c.create_zone("restored.example")
    gone = c.create_zone("deleted.example")
    recs = {z: c.add_record(z, "www", "A", "192.0.2.1") for z in (kept, gone)}
    c.whm.stop()
    backup = str(tmp_path / "store-backup.sqlite3")
    harness.sqlite_copy(c.whm.store_path, backup)
    c.whm.start()
    for z, rec in recs.items():
        c.update_record(rec["id"], "www", "A", "192.0.2.2")
        c.update_record(rec["id"], "www", "A", "192.0.2.3")
    c.wait_all_nodes("www.restored.example.", "A", ["192.0.2.3"])
    c.wait_all_nodes("www.deleted.example.", "A", ["192.0.2.3"])
    c.whm.stop()
    harness.sqlite_copy(backup, c.whm.store_path)
    c.whm.start()
    c.whm.call("DELETE", "/api/dns/%d" % gone, expect=200)

    c.wait_all_nodes("www.restored.example.", "A", ["192.0.2.1"], timeout=30)
    c.wait_all_nodes("www.deleted.example.", "A", [], timeout=30)
    c.wait_converged(timeout=30)
    assert c.whm.zone(kept)["version"] > recs[kept]["version"] + 2
    assert set(c.soa_serials("restored.example.").values()) == {c.whm.zone(kept)["serial"]}
