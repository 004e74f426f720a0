"""External mode: the agent drives a PowerDNS it did not start."""
import os

from harness import basic_records


def external_agent(node_factory, pdns_owner):
    """An agent in external mode on the PowerDNS (API and gsqlite3 database)
    that 'pdns_owner', a managed node, runs."""
    data = pdns_owner.data_dir
    return node_factory(name="external", config={
        "mode": "external",
        "pdns-api-url": "http://127.0.0.1:%d" % pdns_owner.pdns_api_port,
        "pdns-api-key-file": os.path.join(data, "pdns-api-key"),
        "gsqlite3-database": os.path.join(data, "pdns.sqlite3"),
    })


def test_external_agent_serves_through_the_powerdns_it_was_pointed_at(node_factory, zone_name):
    owner = node_factory()
    agent = external_agent(node_factory, owner)
    # The external agent started no PowerDNS of its own ...
    assert not os.path.exists(os.path.join(agent.data_dir, "pdns.conf"))
    health = agent.get("/health").json()
    assert health["status"] == "healthy"
    assert health["powerdns"]["version"]

    # ... and what it applies is served by the one it was pointed at, at once.
    agent.push_ok(zone_name, 1, 1, basic_records("192.0.2.41"))
    assert owner.dig("www." + zone_name, "A") == ["192.0.2.41"]
    agent.push_ok(zone_name, 2, 2, basic_records("192.0.2.42"))
    assert owner.dig("www." + zone_name, "A") == ["192.0.2.42"]
    assert agent.zones()[zone_name]["version"] == 2

    r = agent.delete_zone(zone_name)
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert owner.rcode("www." + zone_name, "A") == "REFUSED"


def test_external_agent_refuses_changes_while_that_powerdns_is_down(node_factory, zone_name):
    owner = node_factory()
    agent = external_agent(node_factory, owner)
    agent.push_ok(zone_name, 1, 1, basic_records("192.0.2.41"))
    owner.stop_agent()  # or the owner's (managed) agent restarts its PowerDNS
    owner.stop_pdns()

    r = agent.push(zone_name, 2, 2, basic_records("192.0.2.42"))
    assert r.status_code == 503, r.text
    assert agent.zones()[zone_name]["version"] == 1


def test_external_agent_imports_the_pushed_keys(node_factory, zone_name):
    from test_dnssec import P256Key, assert_signed, pushed_key
    owner = node_factory()
    agent = external_agent(node_factory, owner)
    key = P256Key()
    dnssec = {"enabled": True, "keys": [pushed_key(key)], "publish_cds": True}
    r = agent.push(zone_name, 1, 1, basic_records("192.0.2.41"), dnssec=dnssec)
    assert r.status_code == 200, r.text
    assert owner.dig(zone_name, "DNSKEY") == [key.dnskey().to_text()]
    assert owner.dig(zone_name, "CDS") == [key.ds(zone_name).to_text()]
    assert_signed(owner, zone_name, "www." + zone_name, "A")
    r = agent.push(zone_name, 2, 2, basic_records("192.0.2.41"), dnssec={"enabled": False})
    assert r.status_code == 200, r.text
    assert owner.dig(zone_name, "DNSKEY") == []
