"""PowerDNS's HTTP API on the controller, side by side with a real
pdns_server 4.7 (gsqlite3, API on loopback): the same requests go to both
and the answers must agree in status and shape, except for the divergences
listed in DIVERGENCES with their reasons.

This covers the routes built so far: discovery, servers, config, the zone
list, one zone (with its filters), zone creation and deletion, and the
X-API-Key authentication, PATCH of RRsets, and the notify lego asks for."""

import base64
import os
import subprocess
import time

import pytest
import requests

import harness
from pdns_plain import Pdns

pytest_plugins = ["cluster_fixtures"]

BASE = "/api/v1/servers/localhost"
# The apex NS records every zone of the test cluster gets (default-ns).
NAMESERVERS = ["ns1.yumna.test.", "ns2.yumna.test."]

# Where the controller answers differently on purpose, and why.
DIVERGENCES = {
    "error bodies": "every error is JSON {\"error\": ...}; PowerDNS 4.7 answers 400, 401, 404, "
                    "405 and 409 with text/plain bodies; clients read the status code",
    "version": "the controller says 4.7.4 whatever pdns_server the nodes run, so clients "
               "that parse it choose their 4.x behaviour",
    "SOA": "the SOA is the cluster's (soa-* settings, the zone's own fields), not "
           "default-soa-content",
    "config": "/config lists the settings that mean something for the cluster, not every "
              "pdns_server setting",
    "read tokens": "a read token may read and gets 403 on writes; PowerDNS has one key",
    "rrset_type alone": "422: PowerDNS ignores rrset_type without rrset_name and answers "
                        "every RRset, which a client asking for one type does not expect",
    "unknown kind": "422: PowerDNS creates a Native zone when the kind is not one it knows",
    "transfer kinds": "422 for Producer and Consumer until the cluster does catalog zones, "
                      "and for a Slave zone without masters; PowerDNS creates them",
    "duplicate RRsets": "422 when one (name, type) is given twice; PowerDNS keeps one",
    "no NS": "a zone created without NS records gets the cluster's (default-ns), as through "
             "the panel's routes; PowerDNS creates a zone without NS",
    "dnssec at creation": "a zone created with dnssec: true is signed through the cluster's "
                          "key authority as a second version (PowerDNS: one step)",
    "comments alone": "a PATCH that changes only comments makes no zone version and leaves "
                      "the serial (nothing any node serves changed); PowerDNS moves its "
                      "serial under soa_edit_api",
    "comment checks": "422 for comments that are not a list, a modified_at that is not a "
                      "number of seconds from 0 to 2^32-1 (PowerDNS keeps -1 and answers 500 "
                      "for text), an account over 40 bytes or a content over 65,535 (the "
                      "limits of PowerDNS's SQL schemas, which gsqlite3 does not enforce), "
                      "more than 20 comments an RRset; PowerDNS ignores \"comments\" that "
                      "are not a list",
    "broken zone text": "422 naming the line; PowerDNS answers 500",
    "private keys": "never returned (GET of one cryptokey has no privatekey): the "
                    "controller keeps them, and nodes get them only in pushes",
    "cryptokeys": "a zone's keys are its one key set, made and retired by the controller: "
                  "POST signs an unsigned zone with one CSK (PowerDNS adds keys to a "
                  "signed one: 422 here, use the rollover), PUT may not change a key "
                  "(422), DELETE of the only key unsigns the zone and of one of several "
                  "is 422; DS records are given for digest type 2 (SHA-256) only; an "
                  "imported private key signs an unsigned zone as its one CSK",
    "metadata kinds": "only X-* kinds are kept (with at most 100 printable values of 2,048 "
                      "bytes) and the transfer kinds ALLOW-AXFR-FROM, TSIG-ALLOW-AXFR and "
                      "ALSO-NOTIFY, which are the zone's transfer settings: checked (422 for "
                      "an address that is not one, an unknown key, an address without a "
                      "key) and shown as they apply, the cluster's default included",
    "wrong JSON types": "422 for a TTL given as a string; PowerDNS reads \"60\" as 60",
    "SOA in a PATCH": "422: the SOA is the controller's; PowerDNS lets a client replace it",
    "one RRset twice in a PATCH": "422 for the same (name, type) twice whatever the "
                                  "changetypes; PowerDNS applies a DELETE and a REPLACE of "
                                  "one RRset in order",
    "content type": "a body must be sent as application/json (415 otherwise); PowerDNS "
                    "reads any body",
}


class Side:
    """One API under test: a base URL and a key sent as X-API-Key."""

    def __init__(self, url, key):
        self.url = url
        self.key = key
        self.session = requests.Session()

    def send(self, method, path, body=None, key=True, **kw):
        headers = {"X-API-Key": self.key if key is True else key} if key else {}
        headers.update(kw.pop("headers", {}))
        r = self.session.request(method, self.url + path, json=body, headers=headers,
                                 timeout=30, **kw)
        try:
            data = r.json()
        except ValueError:
            data = None
        return r.status_code, data, r


def shape(x):
    """The type structure of a JSON value: objects by key, lists by the
    shapes they hold."""
    if isinstance(x, dict):
        return {k: shape(v) for k, v in x.items()}
    if isinstance(x, list):
        shapes = []
        for v in x:
            s = shape(v)
            if s not in shapes:
                shapes.append(s)
        return shapes
    return type(x).__name__


@pytest.fixture(scope="module")
def pdns(tmp_path_factory):
    p = Pdns(tmp_path_factory.mktemp("pdns-api")).start()
    try:
        yield Side(p.url, p.key)
    finally:
        p.stop()


@pytest.fixture(scope="module")
def sides(shared_cluster, pdns):
    c = shared_cluster
    return c, Side(c.whm.url, c.whm.admin_token), pdns


def same_zone(c, ours, pdns, domain):
    """The same records in a zone on both sides: through the panel's routes
    on the controller, through POST /zones on PowerDNS."""
    zid = c.create_zone(domain)
    c.add_record(zid, "www", "A", "192.0.2.1", ttl=300)
    c.add_record(zid, "www", "A", "192.0.2.2", ttl=300)
    c.add_record(zid, "@", "MX", "mail.%s." % domain, priority=10, ttl=600)
    c.add_record(zid, "_sip._udp", "SRV", "5 5060 sip.%s." % domain, priority=20, ttl=600)
    c.add_record(zid, "txt", "TXT", "\"hello world\"", ttl=60)
    name = domain + "."
    status, _, _ = pdns.send("POST", BASE + "/zones", {
        "name": name, "kind": "Native", "nameservers": NAMESERVERS,
        "rrsets": [
            {"name": "www." + name, "type": "A", "ttl": 300,
             "records": [{"content": "192.0.2.1", "disabled": False},
                         {"content": "192.0.2.2", "disabled": False}]},
            {"name": name, "type": "MX", "ttl": 600,
             "records": [{"content": "10 mail.%s" % name, "disabled": False}]},
            {"name": "_sip._udp." + name, "type": "SRV", "ttl": 600,
             "records": [{"content": "20 5 5060 sip.%s" % name, "disabled": False}]},
            {"name": "txt." + name, "type": "TXT", "ttl": 60,
             "records": [{"content": "\"hello world\"", "disabled": False}]}]})
    assert status == 201
    return zid


def rrsets(zone):
    """The RRsets but the SOA (see DIVERGENCES), each with its records sorted."""
    out = {}
    for s in zone["rrsets"]:
        if s["type"] != "SOA":
            out[(s["name"], s["type"])] = (s["ttl"], sorted(r["content"] for r in s["records"]),
                                           s["comments"])
    return out


def test_discovery_and_server_agree_with_powerdns(sides):
    c, ours, pdns = sides
    for path in ("/api", "/api/v1", "/api/v1/servers", BASE):
        a, b = ours.send("GET", path), pdns.send("GET", path)
        assert a[0] == b[0] == 200, (path, a[1], b[1])
        assert shape(a[1]) == shape(b[1]), path
        if path != BASE and path != "/api/v1/servers":
            assert a[1] == b[1], path
    server = ours.send("GET", BASE)[1]
    theirs = pdns.send("GET", BASE)[1]
    assert {k: v for k, v in server.items() if k != "version"} == \
        {k: v for k, v in theirs.items() if k != "version"}
    assert server["version"] == "4.7.4" and server["daemon_type"] == "authoritative"
    # Only "localhost" exists.
    assert ours.send("GET", "/api/v1/servers/other")[0] == pdns.send(
        "GET", "/api/v1/servers/other")[0] == 404
    config = ours.send("GET", BASE + "/config")
    assert config[0] == 200 and shape(config[1]) == shape(pdns.send("GET", BASE + "/config")[1])
    names = [s["name"] for s in config[1]]
    assert names == sorted(names) and "default-ttl" in names


def test_the_api_key_is_a_token_and_nothing_else(sides):
    c, ours, pdns = sides
    for side in (ours, pdns):
        assert side.send("GET", BASE + "/zones", key=None)[0] == 401
        assert side.send("GET", BASE + "/zones", key="x" * 40)[0] == 401
    # A read token reads; an admin token as a bearer token works too.
    assert ours.send("GET", BASE + "/zones", key=c.whm.read_token)[0] == 200
    r = c.whm.get(BASE + "/zones")
    assert r.status_code == 200
    # Two credentials at once are refused, even if both are good.
    r = requests.get(ours.url + BASE, headers={"X-API-Key": ours.key,
                                               "Authorization": "Bearer " + ours.key})
    assert r.status_code == 401 and r.json()["error"]


def test_zone_list_and_zone_agree_with_powerdns(sides, domain):
    c, ours, pdns = sides
    same_zone(c, ours, pdns, domain)
    name = domain + "."

    a, b = ours.send("GET", BASE + "/zones"), pdns.send("GET", BASE + "/zones")
    assert a[0] == b[0] == 200
    mine = [z for z in a[1] if z["name"] == name]
    theirs = [z for z in b[1] if z["name"] == name]
    assert len(mine) == len(theirs) == 1
    assert shape(mine[0]) == shape(theirs[0])
    for k in ("id", "url", "name", "kind", "account", "masters", "catalog", "dnssec"):
        assert mine[0][k] == theirs[0][k], k

    # ?zone= takes a canonical name only; ?dnssec=false leaves out what
    # PowerDNS computes per zone.
    for q in ("?zone=" + name, "?zone=" + name + "&dnssec=false", "?dnssec=false"):
        a, b = ours.send("GET", BASE + "/zones" + q), pdns.send("GET", BASE + "/zones" + q)
        assert a[0] == b[0] == 200, q
        assert shape(a[1]) == shape(b[1]), q
    assert ours.send("GET", BASE + "/zones?zone=" + name)[1][0]["name"] == name
    for q in ("?zone=" + domain, "?zone=bad..name", "?zone=nope.example.org",
              "?dnssec=maybe"):
        a, b = ours.send("GET", BASE + "/zones" + q), pdns.send("GET", BASE + "/zones" + q)
        assert a[0] == 422 and a[1]["error"], (q, a[1])
        if q != "?dnssec=maybe":  # PowerDNS takes any other text as true
            assert b[0] == 422, q
    assert ours.send("GET", BASE + "/zones?zone=absent.example.")[1] == []

    # One zone: the same fields, the same RRsets (but the SOA).
    for zid in (name, domain):
        a, b = ours.send("GET", BASE + "/zones/" + zid), pdns.send("GET", BASE + "/zones/" + zid)
        assert a[0] == b[0] == 200, zid
        assert sorted(a[1]) == sorted(b[1]), zid
        assert shape({k: v for k, v in a[1].items() if k != "rrsets"}) == \
            shape({k: v for k, v in b[1].items() if k != "rrsets"})
        assert rrsets(a[1]) == rrsets(b[1])
    soa = [s for s in a[1]["rrsets"] if s["type"] == "SOA"]
    assert len(soa) == 1 and soa[0]["name"] == name
    assert int(soa[0]["records"][0]["content"].split()[2]) == a[1]["serial"]

    for q, want in (("?rrsets=false", None),
                    ("?rrset_name=www.%s&rrset_type=A" % name, [("www." + name, "A")]),
                    ("?rrset_name=%s&rrset_type=MX" % name, [(name, "MX")]),
                    ("?rrset_name=txt.%s" % name, [("txt." + name, "TXT")])):
        a, b = ours.send("GET", BASE + "/zones/" + name + q), \
            pdns.send("GET", BASE + "/zones/" + name + q)
        assert a[0] == b[0] == 200, q
        assert ("rrsets" in a[1]) == ("rrsets" in b[1]) == (want is not None), q
        if want is not None:
            assert sorted(rrsets(a[1])) == sorted(rrsets(b[1])) == want, q
    for q in ("?rrset_name=%s&rrset_type=BOGUS" % name, "?rrsets=perhaps",
              "?rrset_name=www.other.org.", "?rrset_type=MX",
              # Present but unreadable: refused, not dropped (the whole zone).
              "?rrset_name=www%00." + name, "?rrset_name=" + "a" * 300 + "." + name,
              "?rrset_name=www.%s&rrset_type=A%%00" % name,
              "?rrset_name=www.%s&rrset_type=%s" % (name, "A" * 300)):
        a = ours.send("GET", BASE + "/zones/" + name + q)
        assert a[0] == 422 and a[1]["error"], (q, a[0])
    for zid in ("absent.example.", "bad..name", "=ZZ", "a=2"):
        a, b = ours.send("GET", BASE + "/zones/" + zid), pdns.send("GET", BASE + "/zones/" + zid)
        assert a[0] == b[0] and a[0] in (400, 404, 422), (zid, a[0], b[0])
        assert a[1]["error"]


def test_a_zone_id_is_read_with_powerdns_escapes(sides, domain):
    """Zone names here are letters, digits and '-' (A-labels), which PowerDNS
    never escapes in an id; an id with "=XX" escapes names the same zone."""
    c, ours, pdns = sides
    zid = c.create_zone(domain)
    name = domain + "."
    listed = ours.send("GET", BASE + "/zones?zone=" + name)[1]
    assert listed[0]["id"] == name and listed[0]["url"] == BASE + "/zones/" + name
    escaped = "".join("=%02X" % ord(ch) if ch == "-" else ch for ch in name)
    assert escaped != name
    a = ours.send("GET", BASE + "/zones/" + escaped)
    assert a[0] == 200 and a[1]["name"] == name
    assert ours.send("GET", BASE + "/zones/" + name.upper())[1]["name"] == name
    c.delete_zone(zid)


def test_delete_is_a_cluster_delete(sides, domain):
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    c.wait_all_nodes("www." + name, "A", ["192.0.2.1", "192.0.2.2"])

    # A verb the route does not have.
    a, b = ours.send("POST", BASE + "/zones/" + name), pdns.send("POST", BASE + "/zones/" + name)
    assert a[0] == b[0] == 405

    a = ours.send("DELETE", BASE + "/zones/" + name, key=c.whm.read_token)
    assert a[0] == 403 and a[1]["error"]
    assert c.whm.zone(zid)["domain"]

    a, b = ours.send("DELETE", BASE + "/zones/" + name), pdns.send("DELETE", BASE + "/zones/" + name)
    assert a[0] == b[0] == 204 and a[2].content == b[2].content == b""
    c.wait_all_nodes("www." + name, "A", [])
    a, b = ours.send("DELETE", BASE + "/zones/" + name), pdns.send("DELETE", BASE + "/zones/" + name)
    assert a[0] == b[0] == 404
    a, b = ours.send("GET", BASE + "/zones/" + name), pdns.send("GET", BASE + "/zones/" + name)
    assert a[0] == b[0] == 404


def create_on_both(ours, pdns, body, query=""):
    a = ours.send("POST", BASE + "/zones" + query, body)
    b = pdns.send("POST", BASE + "/zones" + query, body)
    return a, b


def test_zone_creation_agrees_with_powerdns(sides, domain):
    c, ours, pdns = sides
    name = domain + "."
    body = {"name": name, "kind": "Master", "nameservers": NAMESERVERS, "account": "cust42",
            "soa_edit_api": "EPOCH", "serial": 2024010101, "unknown_key": [1],
            "rrsets": [{"name": "www." + name, "type": "A", "ttl": 120,
                        "records": [{"content": "192.0.2.10", "disabled": False}],
                        "comments": []},
                       {"name": name, "type": "MX", "ttl": 300,
                        "records": [{"content": "10 mail.%s" % name}]},
                       {"name": "spf." + name, "type": "TXT", "ttl": 300,
                        "records": [{"content": "\"v=spf1 -all\""}]}]}
    a, b = create_on_both(ours, pdns, body)
    assert a[0] == b[0] == 201, (a[1], b[1])
    assert sorted(a[1]) == sorted(b[1])
    assert shape({k: v for k, v in a[1].items() if k != "rrsets"}) == \
        shape({k: v for k, v in b[1].items() if k != "rrsets"})
    for k in ("id", "url", "name", "kind", "account", "soa_edit_api", "masters", "dnssec"):
        assert a[1][k] == b[1][k], k
    assert rrsets(a[1]) == rrsets(b[1])
    c.wait_all_nodes("www." + name, "A", ["192.0.2.10"])
    c.wait_all_nodes("spf." + name, "TXT", ['"v=spf1 -all"'])
    # The same zone through the panel's routes, with one version.
    listed = c.whm.zones()[name]
    assert listed["version"] == 1 or c.whm.call(
        "GET", "/api/dns/%d/versions" % listed["id"], expect=200)["versions"][0]["action"] == \
        "zone.create"
    again = ours.send("GET", BASE + "/zones/" + name)
    assert again[1]["kind"] == "Master" and again[1]["account"] == "cust42"

    # The same name again: 409 on both.
    a, b = create_on_both(ours, pdns, body)
    assert a[0] == b[0] == 409 and a[1]["error"]


def test_a_taken_name_is_a_conflict_before_its_records_are_checked(sides, domain):
    """The zone check (a CNAME beside other data here) runs before the
    controller's transaction, but its verdict comes after the name's: a
    live zone of that name is a 409 whatever the records, and a deleted
    one continues its version with the records checked again (422), with
    nothing created."""
    c, ours, _ = sides
    name = domain + "."
    clash = [{"name": "x." + name, "type": t, "ttl": 60, "changetype": "REPLACE",
              "records": [{"content": v, "disabled": False}]}
             for t, v in (("A", "192.0.2.1"), ("CNAME", "y." + name))]
    assert ours.send("POST", BASE + "/zones", {"name": name, "kind": "Native",
                                               "rrsets": []})[0] == 201
    version = c.whm.zones()[name]["version"]

    status, body, _ = ours.send("POST", BASE + "/zones",
                                {"name": name, "kind": "Native", "rrsets": clash})
    assert status == 409 and "already exists" in body["error"], body
    assert c.whm.zones()[name]["version"] == version
    assert ours.send("DELETE", BASE + "/zones/" + name)[0] == 204
    status, body, _ = ours.send("POST", BASE + "/zones",
                                {"name": name, "kind": "Native", "rrsets": clash})
    assert status == 422 and "CNAME" in body["error"], body
    assert name not in c.whm.zones()


def test_keys_clients_send_in_created_rrsets_are_ignored_as_in_powerdns(sides, domain):
    """Terraform's provider sends "set-ptr" in every record and lego a
    "kind" in its RRsets: PowerDNS ignores keys it does not read, and so
    does the controller; the records are created as given."""
    c, ours, pdns = sides
    name = domain + "."
    body = {"name": name, "kind": "Native", "nameservers": NAMESERVERS,
            "rrsets": [{"name": "www." + name, "type": "A", "ttl": 120, "kind": "x",
                        "changetype": "REPLACE",
                        "records": [{"content": "192.0.2.10", "disabled": False,
                                     "set-ptr": False},
                                    {"content": "192.0.2.11", "set-ptr": True}]}]}
    a, b = create_on_both(ours, pdns, body)
    assert a[0] == b[0] == 201, (a[1], b[1])
    assert rrsets(a[1]) == rrsets(b[1])
    c.wait_all_nodes("www." + name, "A", ["192.0.2.10", "192.0.2.11"])


@pytest.mark.parametrize("records", ["absent", None])
def test_a_replace_with_comments_alone_needs_no_ttl_as_in_powerdns(sides, domain, records):
    """"records": null is no records given, as PowerDNS reads it (Go
    clients send null for an empty list)."""
    c, ours, pdns = sides
    same_zone(c, ours, pdns, domain)
    name = domain + "."
    change = {"name": "www." + name, "type": "A", "changetype": "REPLACE",
              "comments": [{"content": "web", "account": "ops"}]}
    if records != "absent":
        change["records"] = records
    a, b = patch_both(ours, pdns, name, {"rrsets": [change]})
    assert a[0] == b[0] == 204, (a[1], b[1])
    got = rrsets(ours.send("GET", BASE + "/zones/" + name)[1])[("www." + name, "A")]
    assert got[1] == ["192.0.2.1", "192.0.2.2"], got
    assert [x["content"] for x in got[2]] == ["web"], got


def test_zone_creation_with_soa_zone_text_and_without_rrsets_in_the_answer(sides, domain):
    c, ours, pdns = sides
    one, two = "soa-" + domain + ".", "text-" + domain + "."
    a, b = create_on_both(ours, pdns, {
        "name": one, "kind": "Native", "nameservers": NAMESERVERS,
        "rrsets": [{"name": one, "type": "SOA", "ttl": 3600, "records": [
            {"content": "ns9.%s hostmaster.%s 77 7200 900 1209600 300" % (one, one)}]}]},
        "?rrsets=false")
    assert a[0] == b[0] == 201 and "rrsets" not in a[1] and "rrsets" not in b[1]
    soa = [s for s in ours.send("GET", BASE + "/zones/" + one)[1]["rrsets"]
           if s["type"] == "SOA"][0]["records"][0]["content"].split()
    assert soa[0] == "ns9." + one and soa[3:] == ["7200", "900", "1209600", "300"], soa
    assert int(soa[2]) != 77  # the serial is the server's, as in PowerDNS
    c.wait_all_nodes(one, "SOA", [" ".join(soa)])

    text = "%s 3600 IN SOA ns1.%s h.%s 5 3600 600 86400 300\n" % (two, two, two) + \
        "%s 3600 IN NS ns1.yumna.test.\n%s 3600 IN NS ns2.yumna.test.\n" % (two, two) + \
        "www.%s 60 IN A 192.0.2.7\n" % two
    a, b = create_on_both(ours, pdns, {"name": two, "kind": "Native", "nameservers": [],
                                       "zone": text})
    assert a[0] == b[0] == 201, (a[1], b[1])
    assert rrsets(a[1]) == rrsets(b[1])
    c.wait_all_nodes("www." + two, "A", ["192.0.2.7"])


def test_nulls_at_creation_are_as_if_not_given_as_in_powerdns(sides, domain):
    """Go clients send null for a nil list or pointer: a zone created with
    null nameservers, rrsets, zone, dnssec, nsec3narrow (and a Slave zone
    with null master_tsig_key_ids) is created as without them."""
    c, ours, pdns = sides
    name, slave = domain + ".", "slave-" + domain + "."
    nulls = {"nameservers": None, "rrsets": None, "zone": None, "dnssec": None,
             "nsec3narrow": None, "nsec3param": None, "account": None,
             "masters": None, "master_tsig_key_ids": None}
    a, b = create_on_both(ours, pdns, dict(nulls, name=name, kind="Native"))
    assert a[0] == b[0] == 201, (a[1], b[1])
    for k in ("name", "kind", "account", "dnssec", "nsec3narrow", "masters"):
        assert a[1][k] == b[1][k], k
    # The cluster's NS records (see DIVERGENCES, "no NS").
    c.wait_all_nodes(name, "NS", NAMESERVERS)
    # Multicast masters, which no transfer reaches.
    try:
        a, b = create_on_both(ours, pdns, dict(nulls, name=slave, kind="Slave",
                                               masters=["224.0.0.1:5300"]))
        assert a[0] == b[0] == 201, (a[1], b[1])
        for k in ("kind", "masters", "master_tsig_key_ids"):
            assert a[1][k] == b[1][k], k
    finally:
        for side in (ours, pdns):
            side.send("DELETE", BASE + "/zones/" + slave)


@pytest.mark.parametrize("body,same", [
    ({"name": "{z}"}, True),                                         # no kind
    ({"name": "{z}", "kind": 5, "nameservers": []}, True),
    ({"name": "{bare}", "kind": "Native", "nameservers": []}, True),
    ({"name": 5, "kind": "Native", "nameservers": []}, True),
    ({"name": "{z}", "kind": "Native", "nameservers": "ns1.example.net."}, True),
    ({"name": "{z}", "kind": "Native", "nameservers": ["ns1.{z}"],
      "rrsets": [{"name": "{z}", "type": "NS", "ttl": 60, "records": [{"content": "ns2.{z}"}]}]},
     True),
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "rrsets": [{"name": "www.other.example.", "type": "A", "ttl": 60,
                  "records": [{"content": "192.0.2.1"}]}]}, True),
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "rrsets": [{"name": "www.{z}", "type": "A", "ttl": 60,
                  "records": [{"content": "300.1.1.1"}]}]}, True),
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "rrsets": [{"name": "www.{z}", "type": "A", "records": [{"content": "192.0.2.1"}]}]},
     True),
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "rrsets": [{"name": "{z}", "type": "CNAME", "ttl": 60,
                  "records": [{"content": "x.example.net."}]}]}, True),
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "rrsets": [{"name": "www.{z}", "type": "A", "ttl": 60,
                  "records": [{"content": "192.0.2.1"}]}],
      "zone": "www 60 IN A 192.0.2.2\n"}, True),
    # Names in content without a trailing dot: PowerDNS refuses them ("Not
    # in expected format", "Nameserver is not canonical"), never makes them
    # relative to the zone.
    ({"name": "{z}", "kind": "Native", "nameservers": ["ns1"]}, True),
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "rrsets": [{"name": "www.{z}", "type": "CNAME", "ttl": 60,
                  "records": [{"content": "x.other.example"}]}]}, True),
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "rrsets": [{"name": "{z}", "type": "MX", "ttl": 60,
                  "records": [{"content": "10 mx.other.example"}]}]}, True),
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "rrsets": [{"name": "_sip._udp.{z}", "type": "SRV", "ttl": 60,
                  "records": [{"content": "10 5 5060 sip.other.example"}]}]}, True),
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "rrsets": [{"name": "sub.{z}", "type": "NS", "ttl": 60,
                  "records": [{"content": "ns1.other.example"}]}]}, True),
    # So in the SOA: its MNAME and RNAME are not made "ns1." and "hostmaster.".
    ({"name": "{z}", "kind": "Native", "nameservers": ["ns1.example.net."],
      "rrsets": [{"name": "{z}", "type": "SOA", "ttl": 3600,
                  "records": [{"content": "ns1 hostmaster 5 10800 3600 604800 3600"}]}]}, True),
    ({"name": "{z}", "kind": "Native", "nameservers": ["ns1.example.net."],
      "rrsets": [{"name": "{z}", "type": "SOA", "ttl": 3600,
                  "records": [{"content": "ns1.example.net. hostmaster 5 10800 3600 604800 "
                                          "3600"}]}]}, True),
    ({"name": "{z}", "kind": "Native", "nameservers": ["ns1.example.net."],
      "rrsets": [{"name": "{z}", "type": "SOA", "ttl": 3600,
                  "records": [{"content": "ns1.example.net. h.example.net. 5 ten 3600 604800 "
                                          "3600"}]}]}, True),
    # Divergences (see DIVERGENCES): PowerDNS creates these.
    ({"name": "{z}", "kind": "Bogus", "nameservers": []}, False),
    ({"name": "{z}", "kind": "Slave", "nameservers": [], "masters": []}, False),
    ({"name": "{z}", "kind": "Producer", "nameservers": []}, False),
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "rrsets": [{"name": "www.{z}", "type": "A", "ttl": 60,
                  "records": [{"content": "192.0.2.1"}]},
                 {"name": "www.{z}", "type": "A", "ttl": 60,
                  "records": [{"content": "192.0.2.2"}]}]}, False),
    ({"name": "{z}", "kind": "Native", "nameservers": [], "soa_edit_api": "SOMETIMES"}, False),
    ({"name": "{z}", "kind": "Native", "nameservers": [], "dnssec": True,
      "nsec3param": "1 0 5 aabb"}, False),
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "rrsets": [{"name": "www.{z}", "type": "A", "ttl": 60,
                  "records": [{"content": "192.0.2.1"}],
                  "comments": [{"content": "x", "account": "a" * 41}]}]}, False),
    # PowerDNS fails on this one with a 500.
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "zone": "www 60 IN A 300.1.1.1\n"}, 500),
    # So on this one, a LUA record in zone text in generic form (raw LUA
    # comes only as JSON records of type LUA, where the controller allows it).
    ({"name": "{z}", "kind": "Native", "nameservers": [],
      "zone": "lua 60 IN TYPE65402 \\# 5 0001414243\n"}, 500),
])
def test_a_refused_creation_creates_nothing(sides, domain, body, same):
    import json
    c, ours, pdns = sides
    name = domain + "."
    body = json.loads(json.dumps(body).replace("{z}", name).replace("{bare}", domain))
    a, b = create_on_both(ours, pdns, body)
    assert a[0] in (400, 422), a
    assert a[1]["error"]
    if same is True:
        assert a[0] == b[0], (a[1], b[1])
    else:
        assert b[0] == (201 if same is False else same), b
    assert ours.send("GET", BASE + "/zones/" + name)[0] == 404
    assert name not in c.whm.zones()


def test_creation_needs_an_admin_token_and_json(sides, domain):
    c, ours, pdns = sides
    name = domain + "."
    body = {"name": name, "kind": "Native", "nameservers": NAMESERVERS}
    a = ours.send("POST", BASE + "/zones", body, key=c.whm.read_token)
    assert a[0] == 403 and a[1]["error"]
    for raw in (b"{not json", b""):
        json_type = {"Content-Type": "application/json"}
        a = ours.send("POST", BASE + "/zones", data=raw, headers=json_type)
        b = pdns.send("POST", BASE + "/zones", data=raw, headers=json_type)
        assert a[0] == b[0] == 400, (raw, a[1])
    a, b = ours.send("POST", BASE + "/zones", [1]), pdns.send("POST", BASE + "/zones", [1])
    assert a[0] == b[0] == 422, (a, b)
    assert ours.send("GET", BASE + "/zones/" + name)[0] == 404


def patch_both(ours, pdns, name, body):
    return (ours.send("PATCH", BASE + "/zones/" + name, body),
            pdns.send("PATCH", BASE + "/zones/" + name, body))


def test_patch_agrees_with_powerdns_and_is_one_version(sides, domain):
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    before = c.whm.zone(zid)["version"]
    body = {"rrsets": [
        {"name": "www." + name, "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "192.0.2.7", "disabled": False},
                     {"content": "192.0.2.8", "disabled": False}], "comments": []},
        {"name": "_acme-challenge." + name, "type": "TXT", "ttl": 120, "changetype": "REPLACE",
         "kind": "Native",  # lego sends it; PowerDNS ignores it
         "records": [{"content": "\"token-1\"", "disabled": False}]},
        {"name": "txt." + name, "type": "TXT", "changetype": "DELETE", "ttl": 60},
        {"name": "mail." + name, "type": "MX", "ttl": 300, "changetype": "REPLACE",
         "records": [{"content": "5 mx1.example.net."}]}]}
    a, b = patch_both(ours, pdns, name, body)
    assert a[0] == b[0] == 204, (a[1], b[1])
    assert a[2].content == b""
    assert c.whm.zone(zid)["version"] == before + 1
    mine = ours.send("GET", BASE + "/zones/" + name)[1]
    assert rrsets(mine) == rrsets(pdns.send("GET", BASE + "/zones/" + name)[1])
    c.wait_all_nodes("www." + name, "A", ["192.0.2.7", "192.0.2.8"])
    c.wait_all_nodes("_acme-challenge." + name, "TXT", ['"token-1"'])
    c.wait_all_nodes("txt." + name, "TXT", [])

    # external-dns sends a whole zone object around its rrsets; lego
    # deletes with an empty REPLACE or a DELETE carrying a TTL.
    whole = dict(mine, rrsets=[{"name": "_acme-challenge." + name, "type": "TXT",
                                "ttl": 120, "changetype": "REPLACE", "records": []}])
    a, b = patch_both(ours, pdns, name, whole)
    assert a[0] == b[0] == 204, (a[1], b[1])
    c.wait_all_nodes("_acme-challenge." + name, "TXT", [])
    a, b = patch_both(ours, pdns, name, {"rrsets": []})
    assert a[0] == b[0] == 204
    assert c.whm.zone(zid)["version"] == before + 2
    assert rrsets(ours.send("GET", BASE + "/zones/" + name)[1]) == \
        rrsets(pdns.send("GET", BASE + "/zones/" + name)[1])


@pytest.mark.parametrize("change,same", [
    ({"name": "www.{z}", "type": "A", "changetype": "UPSERT", "ttl": 60,
      "records": [{"content": "192.0.2.1"}]}, True),
    # Records without a TTL (PowerDNS: "Key 'ttl' not an Integer or not
    # present"), never given a default one; even an empty list.
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE",
      "records": [{"content": "192.0.2.1"}]}, True),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE", "ttl": None,
      "records": [{"content": "192.0.2.1"}]}, True),
    ({"name": "www.{z}", "type": "A", "changetype": "replace", "records": []}, True),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE", "ttl": 60}, True),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE", "ttl": 60,
      "records": "192.0.2.1"}, True),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "192.0.2.1"}, "x"]}, True),
    ({"name": "www.other.example.", "type": "A", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "192.0.2.1"}]}, True),
    ({"name": "www.{z}", "type": "CNAME", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "elsewhere.example.net."}]}, True),
    ({"name": "www", "type": "A", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "192.0.2.1"}]}, True),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "192.0.2.300"}]}, True),
    # Names in content without a trailing dot (PowerDNS: "Not in expected
    # format"), not made relative to the zone.
    ({"name": "www.{z}", "type": "CNAME", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "x.other.example"}]}, True),
    ({"name": "mx.{z}", "type": "MX", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "10 mx.other.example"}]}, True),
    ({"name": "_sip._udp.{z}", "type": "SRV", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "10 5 5060 sip.other.example"}]}, True),
    ({"name": "sub.{z}", "type": "NS", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "ns1.other.example"}]}, True),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE", "ttl": "60",
      "records": [{"content": "192.0.2.1"}]}, False),
    ({"name": "www.{z}", "type": "BOGUS", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "x"}]}, True),
    ({"name": "{z}", "type": "SOA", "changetype": "REPLACE", "ttl": 60, "records": [
        {"content": "ns1.{z} h.{z} 1 7200 900 1209600 300"}]}, False),
    # Comments PowerDNS refuses too.
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE",
      "comments": [{"content": 5, "account": "a"}]}, True),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE",
      "comments": [{"content": "x"}]}, True),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE", "comments": ["x"]}, True),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "192.0.2.1", "disabled": "yes"}]}, True),
    # PowerDNS answers 500 for this one.
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE",
      "comments": [{"content": "x", "account": "a", "modified_at": "now"}]}, 500),
    # Divergences (see DIVERGENCES, "comment checks"): PowerDNS takes these.
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE", "ttl": 60,
      "records": [{"content": "192.0.2.1"}], "comments": "x"}, False),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE",
      "comments": [{"content": "x", "account": "a", "modified_at": -1}]}, False),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE",
      "comments": [{"content": "x", "account": "a" * 41}]}, False),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE",
      "comments": [{"content": "x" * 65536, "account": "a"}]}, False),
    ({"name": "www.{z}", "type": "A", "changetype": "REPLACE",
      "comments": [{"content": "x", "account": "a"}] * 21}, False),
])
def test_a_refused_patch_changes_nothing(sides, domain, change, same):
    import json
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    c.wait_all_nodes("www." + name, "A", ["192.0.2.1", "192.0.2.2"])
    before = c.whm.zone(zid)["version"]
    change = json.loads(json.dumps(change).replace("{z}", name))
    # A good change beside the bad one: the whole PATCH is refused.
    good = {"name": "new." + name, "type": "A", "ttl": 60, "changetype": "REPLACE",
            "records": [{"content": "192.0.2.99"}]}
    a, b = patch_both(ours, pdns, name, {"rrsets": [good, change]})
    assert a[0] in (400, 422) and a[1]["error"], a[1]
    if same is True:
        assert a[0] == b[0], (a[1], b[1])
    else:
        assert b[0] == (204 if same is False else same), b
    assert c.whm.zone(zid)["version"] == before
    # Nor any comment.
    mine = ours.send("GET", BASE + "/zones/" + name)[1]
    assert all(s["comments"] == [] for s in mine["rrsets"]), mine["rrsets"]
    for n in c.nodes:
        assert n.dig("new." + name, "A") == []
        assert sorted(n.dig("www." + name, "A")) == ["192.0.2.1", "192.0.2.2"]


def test_changetype_case_is_ignored_as_in_powerdns(sides, domain):
    """PowerDNS 4.7 reads changetype in any case: "replace" and "delete"
    (with a TTL and records, as some clients send) change the zone."""
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    before = c.whm.zone(zid)["version"]
    body = {"rrsets": [
        {"name": "www." + name, "type": "A", "ttl": 60, "changetype": "replace",
         "records": [{"content": "192.0.2.9", "disabled": False}]},
        {"name": "txt." + name, "type": "TXT", "ttl": 60, "changetype": "Delete",
         "records": [{"content": "\"hello world\"", "disabled": False}]}]}
    a, b = patch_both(ours, pdns, name, body)
    assert a[0] == b[0] == 204, (a[1], b[1])
    assert c.whm.zone(zid)["version"] == before + 1
    assert rrsets(ours.send("GET", BASE + "/zones/" + name)[1]) == \
        rrsets(pdns.send("GET", BASE + "/zones/" + name)[1])
    c.wait_all_nodes("www." + name, "A", ["192.0.2.9"])
    c.wait_all_nodes("txt." + name, "TXT", [])


def test_relative_names_in_content_are_refused_only_on_the_api(sides, domain):
    """A name in content without a trailing dot is refused by PowerDNS's API
    (422 naming the record), never made relative to the zone; the panel's
    routes, which take relative names on purpose, still do."""
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    before = c.whm.zone(zid)["version"]
    cname = {"name": "alias." + name, "type": "CNAME", "ttl": 60, "changetype": "REPLACE",
             "records": [{"content": "x.other.example"}]}
    a, b = patch_both(ours, pdns, name, {"rrsets": [cname]})
    assert a[0] == b[0] == 422, (a[1], b[1])
    assert "'alias.%s' CNAME" % name in a[1]["error"], a[1]
    assert "'x.other.example' has no trailing dot" in a[1]["error"], a[1]
    assert c.whm.zone(zid)["version"] == before
    cname["name"] = "alias"
    c.whm.call("PATCH", "/api/dns/%d/rrsets" % zid, {"rrsets": [cname]}, expect=200)
    got = rrsets(ours.send("GET", BASE + "/zones/" + name)[1])[("alias." + name, "CNAME")]
    assert got[1] == ["x.other.example." + name], got


def test_patch_refusals_of_the_request_itself(sides, domain):
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    before = c.whm.zone(zid)["version"]
    one = {"name": "www." + name, "type": "A", "ttl": 60, "changetype": "REPLACE",
           "records": [{"content": "192.0.2.1"}]}
    for body, want in (({"rrsets": [one, dict(one)]}, 422), ({"rrsets": "x"}, 422),
                       ({"rrsets": [5]}, 422), ({}, 422)):
        a, b = patch_both(ours, pdns, name, body)
        assert a[0] == want and a[1]["error"], (body, a[1])
        assert b[0] in (want, 500), (body, b)  # PowerDNS fails some with 500
    a, b = ours.send("PATCH", BASE + "/zones/absent.example.", {"rrsets": [one]}), \
        pdns.send("PATCH", BASE + "/zones/absent.example.", {"rrsets": [one]})
    assert a[0] == b[0] == 404
    a = ours.send("PATCH", BASE + "/zones/" + name, {"rrsets": [one]}, key=c.whm.read_token)
    assert a[0] == 403
    assert c.whm.zone(zid)["version"] == before


@pytest.mark.parametrize("rule", ["DEFAULT", "INCREASE", "EPOCH", "OFF"])
def test_soa_edit_api_moves_the_serial_as_powerdns_does(sides, domain, rule):
    import time
    c, ours, pdns = sides
    name = domain + "."
    a, b = create_on_both(ours, pdns, {"name": name, "kind": "Native",
                                       "nameservers": NAMESERVERS, "soa_edit_api": rule})
    assert a[0] == b[0] == 201 and a[1]["soa_edit_api"] == b[1]["soa_edit_api"] == rule
    before = {"ours": a[1]["serial"], "pdns": b[1]["serial"]}
    change = {"rrsets": [{"name": "www." + name, "type": "A", "ttl": 60, "changetype": "REPLACE",
                          "records": [{"content": "192.0.2.1"}]}]}
    a, b = patch_both(ours, pdns, name, change)
    assert a[0] == b[0] == 204
    after = {"ours": ours.send("GET", BASE + "/zones/" + name)[1]["serial"],
             "pdns": pdns.send("GET", BASE + "/zones/" + name)[1]["serial"]}
    today = int(time.strftime("%Y%m%d", time.gmtime())) * 100
    for side in ("ours", "pdns"):
        s0, s1 = before[side], after[side]
        if rule == "INCREASE":
            assert s1 == s0 + 1, (side, s0, s1)
        elif rule == "EPOCH":
            assert abs(s1 - time.time()) < 120, (side, s1)
        elif rule == "OFF":
            assert s1 == s0, (side, s0, s1)
        else:
            assert s1 > s0 and today <= s1 < today + 100, (side, s0, s1)
    # Every node serves the serial the controller shows, with the change.
    c.wait_all_nodes("www." + name, "A", ["192.0.2.1"])
    for n in c.nodes:
        assert int(n.dig(name, "SOA")[0].split()[2]) == after["ours"]
    # An explicit increase moves it even when the rule keeps it.
    zid = c.whm.zones()[name]["id"]
    bumped = c.whm.call("POST", "/api/dns/%d/increase-serial" % zid, expect=200)
    assert bumped["serial"] != after["ours"]


def test_a_long_zone_list_is_streamed_and_paged(tmp_path):
    """1,200 zones (more than one piece of the streamed list) on a
    controller of their own: the whole list, then pages with limit and
    after that add up to it, in the order the zones were made."""
    import cluster as cl
    whm = cl.Whm(tmp_path / "whm")
    whm.start()
    try:
        names = ["list%04d.example." % i for i in range(1200)]
        for n in names:
            whm.call("POST", "/api/dns", {"domain": n}, expect=201)
        side = Side(whm.url, whm.admin_token)
        status, listed, r = side.send("GET", BASE + "/zones")
        assert status == 200 and r.headers.get("Transfer-Encoding") == "chunked"
        assert [z["name"] for z in listed] == names
        assert all(z["kind"] == "Native" and "dnssec" in z for z in listed)
        lean = side.send("GET", BASE + "/zones?dnssec=false")[1]
        assert len(lean) == 1200 and "dnssec" not in lean[0]

        pages, after = [], None
        while True:
            q = "?limit=500" + ("&after=" + after if after else "")
            status, page, _ = side.send("GET", BASE + "/zones" + q)
            assert status == 200 and len(page) <= 500
            if not page:
                break
            pages.append(len(page))
            after = page[-1]["name"]
            listed = listed[len(page):] if [z["name"] for z in page] == \
                [z["name"] for z in listed[:len(page)]] else None
            assert listed is not None
        assert pages == [500, 500, 200]
        # A deleted zone still marks its place.
        zid = whm.zones()[names[499]]["id"]
        whm.call("DELETE", "/api/dns/%d" % zid, expect=200)
        rest = side.send("GET", BASE + "/zones?limit=1000&after=" + names[499])[1]
        assert [z["name"] for z in rest] == names[500:]
        for q in ("?limit=0", "?limit=x", "?after=absent.example.", "?after=Bad..Name"):
            status, body, _ = side.send("GET", BASE + "/zones" + q)
            assert status == 422 and body["error"], q
    finally:
        whm.stop()


def test_wait_all_answers_once_every_node_has_the_change(sides, domain):
    """?wait=all (an addition): the answer comes when every node has the
    change, with each node's answer; without it, PowerDNS's bare 204."""
    c, ours, pdns = sides
    name = domain + "."
    a = ours.send("POST", BASE + "/zones?wait=all&rrsets=false",
                  {"name": name, "kind": "Native", "nameservers": NAMESERVERS,
                   "rrsets": [{"name": "www." + name, "type": "A", "ttl": 60,
                               "records": [{"content": "192.0.2.1"}]}]})
    assert a[0] == 201 and a[1]["synced"] is True and len(a[1]["nodes"]) == 3, a[1]
    for n in c.nodes:  # asked once each: no waiting here
        assert n.dig("www." + name, "A") == ["192.0.2.1"]
    change = {"rrsets": [{"name": "www." + name, "type": "A", "ttl": 60,
                          "changetype": "REPLACE", "records": [{"content": "192.0.2.2"}]}]}
    a = ours.send("PATCH", BASE + "/zones/" + name + "?wait=all", change)
    assert a[0] == 200 and a[1]["synced"] is True, a[1]
    assert all(x["success"] for x in a[1]["nodes"]) and a[1]["serial"] > 0
    for n in c.nodes:
        assert n.dig("www." + name, "A") == ["192.0.2.2"]
    a = ours.send("DELETE", BASE + "/zones/" + name + "?wait=all")
    assert a[0] == 200 and a[1]["synced"] is True, a[1]
    for n in c.nodes:
        assert n.dig("www." + name, "A") == []


def test_notify_agrees_with_powerdns(sides, domain):
    # lego 4.9 asks for a NOTIFY after each change, whatever the zone's
    # kind: PowerDNS queues one (to no secondary here) and says so.
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    before = c.whm.zone(zid)["version"]
    for zone_id in (name, domain, name.upper()):
        a, b = ours.send("PUT", BASE + "/zones/%s/notify" % zone_id), \
            pdns.send("PUT", BASE + "/zones/%s/notify" % zone_id)
        assert a[0] == b[0] == 200, (zone_id, a[1], b[1])
        assert a[1] == b[1] == {"result": "Notification queued"}
    a, b = ours.send("PUT", BASE + "/zones/absent.example./notify"), \
        pdns.send("PUT", BASE + "/zones/absent.example./notify")
    assert a[0] == b[0] == 404 and a[1]["error"]
    a = ours.send("PUT", BASE + "/zones/%s/notify" % name, key=c.whm.read_token)
    assert a[0] == 403 and a[1]["error"]
    # Every node was asked, as POST /api/dns/:id/notify asks them; no version.
    assert c.whm.zone(zid)["version"] == before
    audit = c.whm.call("GET", "/api/dns/audit", expect=200)["entries"]
    assert any(e["action"] == "zone.notify" and e["zoneId"] == zid for e in audit), audit


def keygen(directory, zone, algorithm):
    """A KSK of 'zone' made by BIND's dnssec-keygen: (its private key file's
    text, the DNSKEY RDATA of its .key file)."""
    out = subprocess.run(["dnssec-keygen", "-q", "-K", str(directory), "-a", algorithm, "-f",
                          "KSK", zone], check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(str(directory), out + ".private")) as f:
        private = f.read()
    with open(os.path.join(str(directory), out + ".key")) as f:
        rdata = [line.split("DNSKEY", 1)[1].split() for line in f if "DNSKEY" in line][0]
    return private, " ".join(rdata[:3]) + " " + "".join(rdata[3:])


@pytest.mark.parametrize("algorithm,field", [("ECDSAP256SHA256", "privatekey"),
                                             ("ED25519", "content")])
def test_a_private_key_is_imported_as_powerdns_imports_it(sides, domain, tmp_path, algorithm,
                                                          field):
    """A zone moved in with its key: the private key dnssec-keygen made,
    given as PowerDNS takes it ("content" as older clients send it), signs
    the zone with that key: the DNSKEY is the key's own (the parent's DS
    stays right), the same as PowerDNS derives from the same text, and
    every node serves it."""
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    base = BASE + "/zones/" + name + "/cryptokeys"
    private, dnskey = keygen(tmp_path, name, algorithm)
    body = {"keytype": "ksk", "active": True, field: private, "algorithm": algorithm.lower()}
    a, b = ours.send("POST", base, body), pdns.send("POST", base, body)
    assert a[0] == b[0] == 422 and a[1] == b[1], (a, b)  # the key says its algorithm
    del body["algorithm"]
    a, b = ours.send("POST", base, body), pdns.send("POST", base, body)
    assert a[0] == b[0] == 201, (a[1], b[1])
    assert a[1]["dnskey"] == dnskey == b[1]["dnskey"], (a[1]["dnskey"], dnskey, b[1]["dnskey"])
    assert a[1]["ds"][0] in b[1]["ds"], (a[1]["ds"], b[1]["ds"])
    assert "privatekey" not in a[1] and "content" not in a[1]
    assert ours.send("GET", BASE + "/zones/" + name)[1]["dnssec"] is True
    c.wait_converged(timeout=60)
    for n in c.nodes:
        served = ["".join(k.split()[:3]) + "".join(k.split()[3:]) for k in n.dig(name, "DNSKEY")]
        assert "".join(dnskey.split()) in served, (n.name, served)
    assert c.whm.call("GET", "/api/dns/%d/dnssec" % zid, expect=200)["keys"][0]["algorithm"] == \
        int(dnskey.split()[2])


def test_a_bad_private_key_is_refused_and_changes_nothing(sides, domain, tmp_path):
    """Text that is not an ISC private key, an algorithm the cluster does
    not sign with, a key of the wrong size or out of range: 422 naming the
    field, and the zone stays unsigned at its version."""
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    base = BASE + "/zones/" + name + "/cryptokeys"
    version = c.whm.zone(zid)["version"]
    rsa, _ = keygen(tmp_path, name, "RSASHA256")
    head = "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: "
    order = bytes.fromhex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551")
    for field, text, says in (
            ("privatekey", "hello", "not a private key in the ISC format"),
            ("content", "Private-key-format: v1.2\nAlgorithm: 13\n", "ISC format"),
            ("privatekey", rsa, "Algorithm 8"),
            ("privatekey", head + base64.b64encode(b"\1" * 31).decode(), "32 bytes"),
            ("privatekey", head + "not base64!", "32 bytes"),
            ("privatekey", head + "A" * 200, "32 bytes"),
            ("privatekey", head + base64.b64encode(bytes(32)).decode(), "P-256"),
            ("privatekey", head + base64.b64encode(order).decode(), "P-256"),
            ("privatekey", 5, "must be a string")):
        a = ours.send("POST", base, {"keytype": "ksk", field: text})
        assert a[0] == 422 and a[1]["error"].startswith(field + ": ") and says in a[1]["error"], \
            (text, a)
    a = ours.send("POST", base, {"keytype": "zsk", "privatekey": rsa})
    assert a[0] == 422, a
    assert ours.send("GET", base)[1] == []
    assert ours.send("GET", BASE + "/zones/" + name)[1]["dnssec"] is False
    assert c.whm.zone(zid)["version"] == version


def test_cryptokeys_sign_list_and_unsign_as_powerdns_admin_does(sides, domain):
    """PowerDNS-Admin's DNSSEC buttons: POST a KSK signs the zone with one
    key (a CSK, as PowerDNS makes it), listed like PowerDNS lists keys but
    without the private key; every node serves the DNSKEY; deleting the
    only key unsigns the zone."""
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    base = BASE + "/zones/" + name + "/cryptokeys"
    a, b = ours.send("GET", base), pdns.send("GET", base)
    assert a[0] == b[0] == 200 and a[1] == b[1] == []
    # No keytype: nothing is made (a CSK was, here, and signed the zone).
    a, b = ours.send("POST", base, {}), pdns.send("POST", base, {})
    assert a[0] == b[0] == 422 and a[1] == b[1], (a, b)
    assert ours.send("GET", BASE + "/zones/" + name)[1]["dnssec"] is False
    # A null privatekey is no import: the key is made.
    body = {"keytype": "ksk", "active": True, "algorithm": "ecdsa256", "privatekey": None}
    a = ours.send("POST", base, body, key=c.whm.read_token)
    assert a[0] == 403
    a, b = ours.send("POST", base, body), pdns.send("POST", base, body)
    assert a[0] == b[0] == 201, (a[1], b[1])
    theirs = dict(b[1])
    assert theirs.pop("privatekey") and "privatekey" not in a[1]  # see DIVERGENCES
    assert shape(a[1]) == shape(theirs)
    for k in ("type", "active", "published", "keytype", "flags", "algorithm", "bits"):
        assert a[1][k] == theirs[k], k
    assert a[1]["dnskey"].startswith("257 3 13 ")
    tag = int(a[1]["ds"][0].split()[0])
    assert a[1]["ds"][0].split()[1:3] == ["13", "2"]
    assert any(d.split()[2] == "2" for d in theirs["ds"])
    key_id = a[1]["id"]
    listed = ours.send("GET", base)[1]
    assert listed == [a[1]]
    one = ours.send("GET", base + "/%d" % key_id)
    assert one[0] == 200 and one[1] == a[1] and "privatekey" not in one[1]
    assert ours.send("GET", BASE + "/zones/" + name)[1]["dnssec"] is True
    # Acknowledged once committed: the nodes have it a moment later.
    c.wait_converged(timeout=60)
    for n in c.nodes:
        keys = [k for k in n.dig(name, "DNSKEY") if k.startswith("257 3 13")]
        assert len(keys) == 1, (n.name, keys)
    assert c.whm.call("GET", "/api/dns/%d/dnssec" % zid, expect=200)["keys"][0]["keytag"] == tag

    # A second key, or a change of one, goes through the rollover instead.
    a, b = ours.send("POST", base, body), pdns.send("POST", base, body)
    assert a[0] == 422 and "rollover" in a[1]["error"] and b[0] == 201
    a = ours.send("PUT", base + "/%d" % key_id, {"active": False})
    assert a[0] == 422 and "rollover" in a[1]["error"]
    a = ours.send("PUT", base + "/%d" % key_id, {"active": True, "published": True})
    assert a[0] == 204
    a, b = ours.send("PUT", base + "/%d" % key_id, {}), pdns.send("PUT", base + "/%d" % theirs["id"], {})
    assert a[0] == b[0] == 422 and a[1] == b[1], (a, b)
    a = ours.send("PUT", base + "/%d" % key_id, {"active": True, "published": "yes"})
    assert a[0] == 422 and "published" in a[1]["error"]
    # An import too: a signed zone's keys change by rollover.
    a = ours.send("POST", base, {"keytype": "ksk", "content": "Private-key-format: v1.2\n"})
    assert a[0] == 422 and "rollover" in a[1]["error"], a
    for bad in ({"keytype": "zsk"}, {"keytype": "ksk", "algorithm": "rsasha256"},
                {"keytype": "ksk", "active": False}, {"keytype": 5}):
        assert ours.send("POST", base, bad)[0] == 422, bad
    for missing in ("/99999", "/x"):
        assert ours.send("GET", base + missing)[0] in (404, 422), missing
    assert ours.send("GET", BASE + "/zones/absent.example./cryptokeys")[0] == 404

    a = ours.send("DELETE", base + "/%d" % key_id)
    assert a[0] == 204
    assert ours.send("GET", base)[1] == []
    assert ours.send("GET", BASE + "/zones/" + name)[1]["dnssec"] is False
    assert harness.wait_until(lambda: not any(n.dig(name, "DNSKEY") for n in c.nodes), 10)
    assert ours.send("DELETE", base + "/%d" % key_id)[0] == 404


def test_metadata_agrees_with_powerdns_for_the_kinds_the_cluster_keeps(sides, domain):
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    base = BASE + "/zones/" + name + "/metadata"
    a, b = ours.send("GET", base), pdns.send("GET", base)
    assert a[0] == b[0] == 200 and a[1] == b[1], (a[1], b[1])  # SOA-EDIT-API only

    steps = [("PUT", "/X-TEST", {"metadata": ["a", "b"]}, 200),
             ("POST", "", {"kind": "X-OTHER", "metadata": ["c"]}, 201),
             ("POST", "", {"kind": "X-OTHER", "metadata": ["d"]}, 201),
             ("GET", "/X-TEST", None, 200),
             ("GET", "/X-NONE", None, 200),
             ("GET", "", None, 200),
             ("DELETE", "/X-TEST", None, 200),
             ("GET", "", None, 200),
             ("GET", "/X-TEST", None, 200)]
    for method, path, body, want in steps:
        a, b = ours.send(method, base + path, body), pdns.send(method, base + path, body)
        assert a[0] == b[0] == want, (method, path, a[1], b[1])
        assert a[1] == b[1], (method, path, a[1], b[1])
    assert ours.send("GET", base + "/X-OTHER")[1]["metadata"] == ["c", "d"]

    # Refused the same way as PowerDNS: its own kinds here, unknown ones.
    for method, path, body in (("PUT", "/BOGUS", {"metadata": ["1"]}),
                               ("PUT", "/NSEC3PARAM", {"metadata": ["1 0 0 -"]}),
                               ("GET", "/SOA-EDIT-API", None)):
        a, b = ours.send(method, base + path, body), pdns.send(method, base + path, body)
        assert a[0] == b[0] == 422 and a[1]["error"], (method, path, a[1], b[1])
    # Refused here (see DIVERGENCES): bad transfer settings, bad values.
    for method, path, body in (("PUT", "/ALSO-NOTIFY", {"metadata": ["not-an-address"]}),
                               ("PUT", "/ALLOW-AXFR-FROM", {"metadata": ["192.0.2.1"]}),
                               ("PUT", "/TSIG-ALLOW-AXFR", {"metadata": ["no-such.key."]}),
                               ("PUT", "/X-BAD", {"metadata": "x"}),
                               ("PUT", "/X-BAD", {"metadata": [1]}),
                               ("PUT", "/X-BAD", {"metadata": ["a" + chr(1)]}),
                               ("POST", "", {"kind": "X-BAD"}),
                               ("PUT", "/X-BAD", {"metadata": ["v"] * 101})):
        a = ours.send(method, base + path, body)
        assert a[0] == 422 and a[1]["error"], (method, path, a[1])
    assert ours.send("GET", base + "/X-BAD")[1]["metadata"] == []
    assert ours.send("PUT", base + "/X-READ", {"metadata": ["x"]},
                     key=c.whm.read_token)[0] == 403
    assert ours.send("GET", BASE + "/zones/absent.example./metadata")[0] == 404

    # The zone's settings show through; the metadata goes with the zone.
    c.whm.call("POST", "/api/dns/%d/dnssec" % zid, {"nsec3": True}, expect=(200, 201))
    listed = {m["kind"]: m["metadata"] for m in ours.send("GET", base)[1]}
    assert listed["NSEC3PARAM"] == ["1 0 0 -"] and listed["SOA-EDIT-API"] == ["DEFAULT"]
    assert ours.send("DELETE", BASE + "/zones/" + name)[0] == 204
    assert ours.send("POST", BASE + "/zones", {"name": name, "kind": "Native",
                                              "nameservers": NAMESERVERS})[0] == 201
    assert [m["kind"] for m in ours.send("GET", base)[1]] == ["SOA-EDIT-API"]


def test_metadata_post_merges_values_without_duplicates_as_powerdns_does(sides, domain):
    """A POST adds the values the kind does not have yet, after those it
    has; a PUT replaces them as given, duplicates and all."""
    c, ours, pdns = sides
    same_zone(c, ours, pdns, domain)
    base = BASE + "/zones/" + domain + "./metadata"
    for method, path, body, want in (
            ("POST", "", {"kind": "X-MERGE", "metadata": ["b", "a"]}, ["b", "a"]),
            ("POST", "", {"kind": "X-MERGE", "metadata": ["a", "c", "c"]}, ["b", "a", "c"]),
            ("POST", "", {"kind": "X-MERGE", "metadata": []}, ["b", "a", "c"]),
            ("PUT", "/X-MERGE", {"metadata": ["z", "z", "y"]}, ["z", "z", "y"]),
            ("POST", "", {"kind": "X-MERGE", "metadata": ["y", "x"]}, ["z", "z", "y", "x"])):
        a, b = ours.send(method, base + path, body), pdns.send(method, base + path, body)
        assert a[0] == b[0] and a[1] == b[1], (body, a[1], b[1])
        assert a[1]["metadata"] == want, (body, a[1])
        assert ours.send("GET", base + "/X-MERGE")[1]["metadata"] == want


def test_concurrent_metadata_posts_keep_every_value(sides, domain):
    """POSTs to one kind at once, each adding its own value: every value
    is kept (the kind is read and written in one transaction)."""
    import concurrent.futures
    import threading
    c, ours, pdns = sides
    name = domain + "."
    assert ours.send("POST", BASE + "/zones", {"name": name, "kind": "Native",
                                              "nameservers": NAMESERVERS})[0] == 201
    base = BASE + "/zones/" + name + "/metadata"
    kinds, workers, rounds = ["X-MANY%d" % k for k in range(6)], 8, 12
    start = threading.Barrier(workers, timeout=60)

    def post(worker):
        session = requests.Session()
        # A connection a request: the controller's few HTTP threads
        # take the requests of every worker at once.
        session.headers.update({"X-API-Key": ours.key, "Connection": "close"})
        statuses = []
        for kind in kinds:
            for i in range(rounds):
                start.wait()
                statuses.append(session.post(ours.url + base, json={
                    "kind": kind, "metadata": ["v%d-%d" % (worker, i)]}, timeout=30).status_code)
        return statuses
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        statuses = sum(pool.map(post, range(workers)), [])
    assert statuses == [201] * (len(kinds) * workers * rounds)
    want = sorted("v%d-%d" % (w, i) for w in range(workers) for i in range(rounds))
    for kind in kinds:
        kept = ours.send("GET", base + "/" + kind)[1]["metadata"]
        assert sorted(kept) == want, "%s: %d of %d values kept" % (kind, len(kept), len(want))


def test_a_zone_created_signed_is_signed_on_every_node(sides, domain):
    c, ours, pdns = sides
    name = domain + "."
    body = {"name": name, "kind": "Native", "nameservers": NAMESERVERS, "dnssec": True,
            "nsec3param": "1 0 0 -",
            "rrsets": [{"name": "www." + name, "type": "A", "ttl": 60,
                        "records": [{"content": "192.0.2.1"}]}]}
    a, b = create_on_both(ours, pdns, body)
    assert a[0] == b[0] == 201, (a[1], b[1])
    for k in ("dnssec", "nsec3param"):
        assert a[1][k] == b[1][k], k
    assert a[1]["dnssec"] is True and a[1]["nsec3param"] == "1 0 0 -"
    c.wait_all_nodes(name, "NSEC3PARAM", ["1 0 0 -"], timeout=15)
    keys = ours.send("GET", BASE + "/zones/" + name + "/cryptokeys")[1]
    assert len(keys) == 1 and keys[0]["active"] is True
    want = "".join(keys[0]["dnskey"].split()[3:])
    for n in c.nodes:  # the same key everywhere (dig splits the base64)
        assert [k for k in n.dig(name, "DNSKEY") if "".join(k.split()[3:]) == want], n.name


def test_the_panel_routes_and_the_api_see_one_zone(sides, domain):
    """One zone changed in turn through the panel's routes, PowerDNS's API
    and yumnactl's route: each sees the others' changes, every change is
    one version with a higher serial, and the history lists them all."""
    c, ours, pdns = sides
    name = domain + "."
    zid = c.create_zone(domain)
    seen = []

    def both():
        panel = c.whm.zone(zid)
        api = ours.send("GET", BASE + "/zones/" + name)[1]
        assert api["serial"] == panel["serial"], (api["serial"], panel)
        soa = [s for s in api["rrsets"] if s["type"] == "SOA"][0]["records"][0]["content"]
        assert int(soa.split()[2]) == panel["serial"]
        seen.append((panel["version"], panel["serial"]))
        return panel, api

    both()
    c.add_record(zid, "www", "A", "192.0.2.1")
    _, api = both()
    assert rrsets(api)[("www." + name, "A")][1] == ["192.0.2.1"]
    a = ours.send("PATCH", BASE + "/zones/" + name, {"rrsets": [
        {"name": "www." + name, "type": "A", "ttl": 300, "changetype": "REPLACE",
         "records": [{"content": "192.0.2.2"}]},
        {"name": "mail." + name, "type": "A", "ttl": 300, "changetype": "REPLACE",
         "records": [{"content": "192.0.2.3"}]}]})
    assert a[0] == 204
    panel, _ = both()
    records = {(r["name"], r["content"]) for r in c.whm.records(zid) if r["type"] == "A"}
    assert records == {("www", "192.0.2.2"), ("mail", "192.0.2.3")}
    c.whm.call("PATCH", "/api/dns/%d/rrsets" % zid, {"rrsets": [
        {"name": "mail", "type": "A", "changetype": "DELETE"}]}, expect=200)
    _, api = both()
    assert ("mail." + name, "A") not in rrsets(api)
    versions = [v for v, _ in seen]
    serials = [s for _, s in seen]
    assert versions == sorted(versions) and len(set(versions)) == len(versions), seen
    assert all((b - a) % 2**32 < 2**31 and a != b for a, b in zip(serials, serials[1:])), seen
    history = c.whm.call("GET", "/api/dns/%d/versions" % zid, expect=200)["versions"]
    assert [h["version"] for h in history[:3]] == versions[:0:-1][:3]
    assert history[1]["action"] == "rrsets.patch" and history[1]["actor"] == "tests-admin"
    c.wait_all_nodes("www." + name, "A", ["192.0.2.2"])
    c.wait_all_nodes("mail." + name, "A", [])


def full_rrsets(zone):
    """The RRsets but the SOA, each with its records (content, disabled) and
    its comments sorted: what a client reads back."""
    out = {}
    for s in zone["rrsets"]:
        if s["type"] != "SOA":
            out[(s["name"], s["type"])] = (
                s["ttl"], sorted((r["content"], r["disabled"]) for r in s["records"]),
                sorted((c["content"], c["account"], c["modified_at"]) for c in s["comments"]))
    return out


def test_disabled_records_and_comments_agree_with_powerdns(sides, domain):
    """Disabled records and comments are kept and shown as PowerDNS shows
    them: a REPLACE carrying only comments changes only the comments (and
    here makes no version), an empty REPLACE of the records keeps them, a
    DELETE drops them; the export and the nodes leave disabled records
    out; search shows the flag."""
    c, ours, pdns = sides
    zid = same_zone(c, ours, pdns, domain)
    name = domain + "."
    before = c.whm.zone(zid)

    def agree():
        mine = ours.send("GET", BASE + "/zones/" + name)
        theirs = pdns.send("GET", BASE + "/zones/" + name)
        assert mine[0] == theirs[0] == 200
        assert full_rrsets(mine[1]) == full_rrsets(theirs[1])
        www = [[s for s in side[1]["rrsets"] if s["name"] == "www." + name][0]
               for side in (mine, theirs)]
        assert shape(www[0]) == shape(www[1])
        return mine[1]

    a, b = patch_both(ours, pdns, name, {"rrsets": [
        {"name": "www." + name, "type": "A", "ttl": 300, "changetype": "REPLACE",
         "records": [{"content": "192.0.2.1", "disabled": False},
                     {"content": "192.0.2.2", "disabled": True}],
         "comments": [{"content": "second one parked", "account": "ops",
                       "modified_at": 1700000000}]},
        {"name": "off." + name, "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "192.0.2.50", "disabled": True}]}]})
    assert a[0] == b[0] == 204, (a[1], b[1])
    agree()
    assert c.whm.zone(zid)["version"] == before["version"] + 1
    c.wait_all_nodes("www." + name, "A", ["192.0.2.1"])
    c.wait_rcode("off." + name, "A", "NXDOMAIN")

    # Comments alone: the records stay; no version, the same serial.
    now = time.time()
    a, b = patch_both(ours, pdns, name, {"rrsets": [
        {"name": "txt." + name, "type": "TXT", "changetype": "REPLACE",
         "comments": [{"content": "why this TXT", "account": "alice"}]},
        {"name": "www." + name, "type": "A", "changetype": "REPLACE",
         "comments": [{"content": "c1", "account": "", "modified_at": 5},
                      {"content": "c2", "account": "bob", "modified_at": 6}]},
        {"name": "nothing." + name, "type": "AAAA", "changetype": "REPLACE",
         "comments": [{"content": "an RRset with comments only", "account": "",
                       "modified_at": 7}]}]})
    assert a[0] == b[0] == 204, (a[1], b[1])
    mine = ours.send("GET", BASE + "/zones/" + name)[1]
    txt = [s for s in mine["rrsets"] if s["name"] == "txt." + name][0]
    stamp = txt["comments"][0]["modified_at"]
    assert now - 5 <= stamp <= time.time() + 5  # the server's time when absent
    theirs = pdns.send("GET", BASE + "/zones/" + name)[1]
    for side in (mine, theirs):
        for s in side["rrsets"]:
            for cm in s["comments"]:
                if cm["content"] == "why this TXT":
                    cm["modified_at"] = 0
    assert full_rrsets(mine) == full_rrsets(theirs)
    only = [s for s in mine["rrsets"] if s["name"] == "nothing." + name][0]
    assert only["records"] == [] and only["ttl"] == 0
    assert c.whm.zone(zid)["version"] == before["version"] + 1  # see DIVERGENCES
    assert mine["serial"] == c.whm.zone(zid)["serial"]
    audit = c.whm.call("GET", "/api/dns/audit?zone=" + domain, expect=200)
    assert any(e["action"] == "rrsets.comments" for e in audit["entries"]), audit
    # Search finds comments by their text or their RRset's name.
    for q in ("why*", "*TXT", "nothing." + domain, "c?"):
        a = ours.send("GET", BASE + "/search-data", params={"q": q, "object_type": "comment"})
        b = pdns.send("GET", BASE + "/search-data", params={"q": q, "object_type": "comment"})
        assert a[0] == b[0] == 200
        assert sorted(map(sorted, (x.items() for x in a[1]))) == \
            sorted(map(sorted, (x.items() for x in b[1]))) != [], q
    # ?rrset_name filters the comments with their RRsets.
    one = ours.send("GET", BASE + "/zones/%s?rrset_name=www.%s&rrset_type=A" % (name, name))
    assert [len(s["comments"]) for s in one[1]["rrsets"]] == [2]

    # Emptied records take their comments along unless the change gives
    # comments (as PowerDNS's SQL backends do); a DELETE drops them.
    a, b = patch_both(ours, pdns, name, {"rrsets": [
        {"name": "txt." + name, "type": "TXT", "ttl": 60, "changetype": "REPLACE",
         "records": []},
        {"name": "mail." + name, "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [], "comments": [{"content": "kept", "account": ""}]},
        {"name": "nothing." + name, "type": "AAAA", "changetype": "DELETE"}]})
    assert a[0] == b[0] == 204, (a[1], b[1])
    mine = agree_without_stamps(ours, pdns, name)
    assert ("txt." + name, "TXT") not in full_rrsets(mine)
    assert full_rrsets(mine)[("mail." + name, "A")][2][0][0] == "kept"
    assert ("nothing." + name, "AAAA") not in full_rrsets(mine)
    c.wait_all_nodes("txt." + name, "TXT", [])

    # The export leaves the disabled records out, as PowerDNS does.
    for side in (ours, pdns):
        r = side.send("GET", BASE + "/zones/%s/export" % name)[2]
        assert r.status_code == 200
        assert "192.0.2.1" in r.text and "192.0.2.2" not in r.text and "192.0.2.50" not in r.text
    # Search shows them with their flag.
    a = ours.send("GET", BASE + "/search-data?q=192.0.2.50&object_type=record")
    b = pdns.send("GET", BASE + "/search-data?q=192.0.2.50&object_type=record")
    assert a[0] == b[0] == 200
    assert [r["disabled"] for r in a[1]] == [r["disabled"] for r in b[1]] == [True]

    # A DELETE of www drops its records, disabled ones too, and comments.
    a, b = patch_both(ours, pdns, name, {"rrsets": [
        {"name": "www." + name, "type": "A", "changetype": "DELETE"}]})
    assert a[0] == b[0] == 204
    mine = agree_without_stamps(ours, pdns, name)
    assert ("www." + name, "A") not in full_rrsets(mine)
    c.wait_all_nodes("www." + name, "A", [])


def agree_without_stamps(ours, pdns, name):
    """GET the zone on both sides; the same RRsets, the modified_at the
    servers set aside."""
    mine = ours.send("GET", BASE + "/zones/" + name)[1]
    theirs = pdns.send("GET", BASE + "/zones/" + name)[1]

    def plain(zone):
        return {k: (v[0], v[1], [(cm[0], cm[1]) for cm in v[2]])
                for k, v in full_rrsets(zone).items()}
    assert plain(mine) == plain(theirs)
    return mine


def test_a_disabled_record_is_served_by_no_node_until_it_is_enabled(sides, domain):
    """A disabled record reaches no node; the nodes serving the enabled
    records are in sync for the controller's verification; enabled again
    (through the panel's route too) it is served; a rollback brings the
    flag back."""
    c, ours, pdns = sides
    name = domain + "."
    zid = c.create_zone(domain)

    def patch(records):
        a = ours.send("PATCH", BASE + "/zones/" + name, {"rrsets": [
            {"name": "www." + name, "type": "A", "ttl": 60, "changetype": "REPLACE",
             "records": records}]})
        assert a[0] == 204, a[1]
        return c.whm.zone(zid)["version"]

    def in_sync():
        # Every node reports the version and the digest of what it holds
        # equals the digest of what was committed.
        r = c.whm.call("POST", "/api/dns/cluster/sync/%d" % zid, expect=200)
        assert r["successCount"] == r["totalNodes"] == len(c.nodes), r

    v1 = patch([{"content": "192.0.2.1"}, {"content": "192.0.2.2", "disabled": True}])
    c.wait_all_nodes("www." + name, "A", ["192.0.2.1"])
    c.wait_converged()
    in_sync()
    # Every record disabled: the name is served by nobody.
    patch([{"content": "192.0.2.1", "disabled": True},
           {"content": "192.0.2.2", "disabled": True}])
    c.wait_rcode("www." + name, "A", "NXDOMAIN")
    c.wait_converged()
    in_sync()
    listed = sorted((r["content"], r["disabled"]) for r in c.whm.records(zid)
                    if r["name"] == "www")
    assert listed == [("192.0.2.1", True), ("192.0.2.2", True)]
    # Enabled again through the panel's record route.
    rid = [r["id"] for r in c.whm.records(zid) if r["content"] == "192.0.2.2"][0]
    c.update_record(rid, "www", "A", "192.0.2.2", ttl=60)
    c.wait_all_nodes("www." + name, "A", ["192.0.2.2"])
    in_sync()
    # Back to v1: the flag comes back with the records.
    c.whm.call("POST", "/api/dns/%d/rollback" % zid, {"version": v1}, expect=200)
    c.wait_all_nodes("www." + name, "A", ["192.0.2.1"])
    api = ours.send("GET", BASE + "/zones/%s?rrset_name=www.%s&rrset_type=A" % (name, name))
    assert sorted((r["content"], r["disabled"]) for r in api[1]["rrsets"][0]["records"]) == \
        [("192.0.2.1", False), ("192.0.2.2", True)]
    in_sync()


def test_a_zone_created_with_disabled_records_and_comments_agrees_with_powerdns(sides, domain):
    c, ours, pdns = sides
    name = domain + "."
    body = {"name": name, "kind": "Native", "nameservers": NAMESERVERS,
            "rrsets": [{"name": "www." + name, "type": "A", "ttl": 120,
                        "records": [{"content": "192.0.2.10", "disabled": False},
                                    {"content": "192.0.2.11", "disabled": True}],
                        "comments": [{"content": "one parked", "account": "ops",
                                      "modified_at": 1700000000}]},
                       {"name": "later." + name, "type": "TXT", "ttl": 60, "records": [],
                        "comments": [{"content": "to come", "account": "",
                                      "modified_at": 1}]}]}
    a, b = create_on_both(ours, pdns, body)
    assert a[0] == b[0] == 201, (a[1], b[1])
    assert full_rrsets(a[1]) == full_rrsets(b[1])
    assert full_rrsets(ours.send("GET", BASE + "/zones/" + name)[1]) == \
        full_rrsets(pdns.send("GET", BASE + "/zones/" + name)[1])
    c.wait_all_nodes("www." + name, "A", ["192.0.2.10"])
    assert c.whm.zones()[name]["version"] == 1


def test_the_panel_keeps_disabled_records_through_a_listing_put_back_and_an_import(sides,
                                                                                  domain):
    """What the dashboard and yumnactl do with a zone keeps disabled
    records: a listing put back as it is (the dashboard's TTL change), an
    export edited and imported in place (yumnactl edit), in either mode."""
    c, ours, pdns = sides
    name = domain + "."
    zid = c.create_zone(domain)
    a = ours.send("PATCH", BASE + "/zones/" + name, {"rrsets": [
        {"name": "www." + name, "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "192.0.2.1"}, {"content": "192.0.2.2", "disabled": True}]}]})
    assert a[0] == 204

    def flags():
        return sorted((r["name"], r["content"], r["ttl"], r["disabled"])
                      for r in c.whm.records(zid) if r["type"] == "A")

    listing = c.whm.records(zid)
    for r in listing:
        if r["type"] == "A":
            r["ttl"] = 600
    c.whm.call("PUT", "/api/dns/%d/records" % zid, {"records": listing}, expect=200)
    assert flags() == [("www", "192.0.2.1", 600, False), ("www", "192.0.2.2", 600, True)]
    c.wait_all_nodes("www." + name, "A", ["192.0.2.1"])

    for mode in ("replace", "merge"):
        text = c.whm.get("/api/dns/%d/export" % zid).text
        assert "192.0.2.2\n" not in text and "192.0.2.1" in text
        text += "mail 300 IN A 198.51.100.25\n" if mode == "replace" else ""
        c.whm.call("POST", "/api/dns/%d/import" % zid,
                   {"content": text, "format": "bind", "mode": mode}, expect=200)
        assert ("www", "192.0.2.2", 600, True) in flags(), mode
    assert ("mail", "198.51.100.25", 300, False) in flags()
    c.wait_all_nodes("mail." + name, "A", ["198.51.100.25"])
    c.wait_all_nodes("www." + name, "A", ["192.0.2.1"])

    # An import that gives the disabled record enables it: the record is
    # held once, not kept disabled beside the one the import gives.
    for mode in ("merge", "replace"):
        text = c.whm.get("/api/dns/%d/export" % zid).text + "www 600 IN A 192.0.2.2\n"
        c.whm.call("POST", "/api/dns/%d/import" % zid,
                   {"content": text, "format": "bind", "mode": mode}, expect=200)
        assert [f for f in flags() if f[0] == "www"] == [
            ("www", "192.0.2.1", 600, False), ("www", "192.0.2.2", 600, False)], (mode, flags())
        www = [rr for rr in ours.send("GET", BASE + "/zones/" + name)[1]["rrsets"]
               if rr["name"] == "www." + name and rr["type"] == "A"]
        assert sorted(r["content"] for r in www[0]["records"]) == ["192.0.2.1", "192.0.2.2"]
        c.wait_all_nodes("www." + name, "A", ["192.0.2.1", "192.0.2.2"])
        if mode == "merge":  # disabled again for the replace round
            a = ours.send("PATCH", BASE + "/zones/" + name, {"rrsets": [
                {"name": "www." + name, "type": "A", "ttl": 600, "changetype": "REPLACE",
                 "records": [{"content": "192.0.2.1"},
                             {"content": "192.0.2.2", "disabled": True}]}]})
            assert a[0] == 204
