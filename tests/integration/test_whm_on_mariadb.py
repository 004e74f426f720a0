"""The controller on its MariaDB store passes the same cluster tests as on
its SQLite store: the tests below are those of test_whm_zones,
test_whm_durability, test_whm_membership and test_whm_upstream_defects, and
the DNSSEC tests that do not read the SQLite file,
collected again here with the cluster fixtures overridden so every
controller keeps its data in a real MariaDB server (tests/integration/mariadb.py)."""
import os
import re

import pytest

import mariadb

from test_whm_dnssec import (  # noqa: F401
    test_a_node_away_during_key_changes_converges_to_the_same_keys,
    test_bad_sign_requests_are_refused_and_change_nothing,
    test_every_node_publishes_the_same_dnskey_rrset_and_the_ds_matches_it,
    test_record_change_in_a_signed_zone_is_served_signed_and_valid_everywhere,
    test_unbound_validates_answers_and_denials_from_every_node,
    test_unsign_is_refused_while_a_ds_may_be_published_then_forced)
from test_whm_dnssec_rollover import (  # noqa: F401
    rcluster,
    test_a_rollover_survives_a_controller_restart,
    test_csk_rollover_by_double_ksk_validates_at_every_step,
    test_zsk_rollover_by_pre_publication_validates_at_every_step)
from test_whm_durability import *  # noqa: F401,F403
from test_whm_membership import *  # noqa: F401,F403
from test_whm_upstream_defects import *  # noqa: F401,F403
from test_whm_zones import *  # noqa: F401,F403

pytest_plugins = ["cluster_fixtures"]


@pytest.fixture(scope="module")
def mariadb_server(tmp_path_factory):
    server = mariadb.MariaDB(tmp_path_factory.mktemp("mariadb"))
    server.start()
    yield server
    server.stop()


_databases = iter(range(1, 1000000))


def mariadb_cluster_factory(base, server):
    """A ClusterFactory whose controllers use a fresh MariaDB database each.
    (cluster_fixtures is imported here, once pytest loaded it as a plugin.)"""
    from cluster_fixtures import ClusterFactory

    class MariaDBClusterFactory(ClusterFactory):
        def __call__(self, n=3, name=None, **kw):
            number = next(_databases)
            db = server.create_database("whm%d" % number)
            secret_file = os.path.join(self.base, "mysql-password-%d" % number)
            fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(db["password"] + "\n")
            config = dict(kw.pop("whm_config", None) or {})
            config.update({"store": "mysql", "mysql-host": "127.0.0.1",
                           "mysql-port": db["port"], "mysql-user": db["user"],
                           "mysql-password-file": secret_file,
                           "mysql-database": db["dbname"], "store-path": None})
            return super().__call__(n=n, name=name, whm_config=config, **kw)

    return MariaDBClusterFactory(base)


@pytest.fixture
def cluster_factory(tmp_path, mariadb_server):
    f = mariadb_cluster_factory(tmp_path, mariadb_server)
    yield f
    f.close()


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory, request, mariadb_server):
    base = tmp_path_factory.mktemp(re.sub(r"\W", "_", request.module.__name__))
    f = mariadb_cluster_factory(base, mariadb_server)
    try:
        yield f()
    finally:
        f.close()


def test_the_controller_really_uses_mariadb(cluster, mariadb_server):
    c = cluster
    zid = c.create_zone("on-mariadb.example")
    conf = open(c.whm.conf_path).read()
    assert "store = mysql" in conf
    assert not os.path.exists(os.path.join(c.whm.directory, "whm.sqlite3"))
    rows = mariadb_server.query("SELECT domain FROM %s.dns_zones WHERE id = %d"
                                % (re.search(r"mysql-database = (\w+)", conf).group(1), zid))
    assert [r[0] for r in rows] == ["on-mariadb.example."]
