"""The controller store's unit suite (build/tests/unit/test_store) against a
real MariaDB: a private server on its own data directory and a loopback
port chosen at run time (tests/integration/mariadb.py), a database and user
of its own, stopped at the end of the module.

The suite runs every store test once on SQLite and once on the server named
by YUMNA_TEST_MYSQL_*; its output is printed when it fails."""

import os
import subprocess

import pytest

import harness
from mariadb import MariaDB

TEST_STORE = os.path.join(harness.BUILD, "tests", "unit", "test_store")
DBNAME = "yumna_store"


@pytest.fixture(scope="module")
def mariadb(tmp_path_factory):
    server = MariaDB(tmp_path_factory.mktemp("mariadb"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def settings(mariadb):
    return mariadb.create_database(DBNAME)


def run_suite(settings, tmp_path, host=None):
    if not os.access(TEST_STORE, os.X_OK):
        pytest.fail("%s not built (ninja -C build)" % TEST_STORE)
    env = dict(os.environ,
               TMPDIR=str(tmp_path),
               YUMNA_TEST_MYSQL_HOST=host or settings["host"],
               YUMNA_TEST_MYSQL_PORT=str(settings["port"]),
               YUMNA_TEST_MYSQL_USER=settings["user"],
               YUMNA_TEST_MYSQL_PASSWORD=settings["password"],
               YUMNA_TEST_MYSQL_DATABASE=settings["dbname"])
    proc = subprocess.run([TEST_STORE], env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=600)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def test_store_suite_passes_on_sqlite_and_mariadb(mariadb, settings, tmp_path):
    rc, out = run_suite(settings, tmp_path)
    assert rc == 0, "test_store failed (exit %d):\n%s\n%s" % (rc, out, mariadb.logs(20))
    # Both groups ran: the MariaDB one was not skipped.
    assert "skipped" not in out, out
    assert out.count("[  PASSED  ]") == 2, out


def test_store_tables_are_innodb_utf8mb4(mariadb, settings, tmp_path):
    rc, out = run_suite(settings, tmp_path)
    assert rc == 0, out
    rows = mariadb.query(
        "SELECT table_name, engine, table_collation FROM information_schema.tables"
        " WHERE table_schema = %s", (DBNAME,))
    tables = {r[0]: (r[1], r[2]) for r in rows}
    for name in ("servers", "dns_zones", "dns_records", "dns_zone_versions",
                 "node_zone_state", "api_tokens", "audit_log", "dns_purged_zones",
                 "dns_rrset_comments",
                 "schema_migrations"):
        assert name in tables, tables
        assert tables[name] == ("InnoDB", "utf8mb4_bin"), (name, tables[name])
    cascades = mariadb.query(
        "SELECT table_name, referenced_table_name, delete_rule"
        " FROM information_schema.referential_constraints"
        " WHERE constraint_schema = %s ORDER BY table_name, referenced_table_name", (DBNAME,))
    assert ("node_zone_state", "dns_zones", "CASCADE") in cascades, cascades
    assert ("node_zone_state", "servers", "CASCADE") in cascades, cascades
    assert ("dns_records", "dns_zones", "CASCADE") in cascades, cascades
