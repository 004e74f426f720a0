"""Bad input to yumna-whm is refused with a 4xx one-line JSON error and
changes nothing: the zone's records and version (and what the nodes serve)
are the same before and after."""

import json
import time

import pytest
import requests

import cluster as cl

pytest_plugins = ["cluster_fixtures"]

MAX_BODY = 4194304  # the default max-body-size


@pytest.fixture(scope="module")
def bad(shared_cluster):
    """A zone with an A at www, an MX and a TXT, served everywhere."""
    c = shared_cluster
    zid = c.create_zone("bad-input.example")
    www = c.add_record(zid, "www", "A", "192.0.2.1")
    c.add_record(zid, "@", "MX", "mail.bad-input.example.", priority=10)
    c.add_record(zid, "@", "TXT", '"baseline"')
    return {"cluster": c, "zone_id": zid, "zone": "bad-input.example.", "www_id": www["id"]}


@pytest.fixture(autouse=True)
def controller_alive(shared_cluster):
    """One crash fails the test that caused it, not every later one."""
    if not shared_cluster.whm.running():
        shared_cluster.whm.restart()
    yield


def snapshot(c, zone_id):
    """What the controller holds and what a node serves."""
    zone = c.whm.zone(zone_id)
    return {
        "records": c.whm.records(zone_id),
        "version": zone["version"],
        "serial": zone["serial"],
        "zone_count": len(c.whm.call("GET", "/api/dns", expect=200)),
        "servers": [{k: s[k] for k in ("id", "name", "hostname", "ip", "agent_port",
                                        "in_cluster")} for s in c.whm.servers()],
        "node_version": c.nodes[0].zones()[zone["domain"] + "."]["version"],
    }


def assert_refused(bad, method, path, body=None, data=None, statuses=None, headers=None):
    """The request must be refused with one of 'statuses' (any 4xx when
    None) and a one-line JSON error, and nothing may change."""
    c, zid = bad["cluster"], bad["zone_id"]
    before = snapshot(c, zid)
    try:
        r = c.whm.request(method, path, json_body=body, data=data, headers=headers)
    except requests.ConnectionError as e:
        time.sleep(0.2)
        raise AssertionError("%s %s: no answer (%s); controller exit status %s\n%s"
                             % (method, path, e, c.whm.proc.poll(), c.whm.logs(20)))
    if statuses is None:
        assert 400 <= r.status_code < 500, cl.describe(r)
    else:
        assert r.status_code in statuses, cl.describe(r)
    try:
        doc = r.json()
    except ValueError:
        raise AssertionError("error body is not JSON: " + cl.describe(r))
    assert isinstance(doc.get("error"), str) and doc["error"], cl.describe(r)
    assert "\n" not in doc["error"]
    assert c.whm.running(), "the controller died\n" + c.whm.logs()
    assert snapshot(c, zid) == before, cl.describe(r)
    return doc


def add(bad, record, statuses=(422,)):
    return assert_refused(bad, "POST", "/api/dns/%d/records" % bad["zone_id"], record,
                          statuses=statuses)


def a_record(**kw):
    r = {"type": "A", "name": "new", "content": "192.0.2.50", "ttl": 300}
    r.update(kw)
    return r


# --- zones -----------------------------------------------------------------

@pytest.mark.parametrize("domain", [
    "", "exa mple.com", "-bad.example", "bad-.example", "a..example", ".", "example.com..",
    "x" * 64 + ".example", ("a" * 60 + ".") * 5 + "example", "ex;ample.com",
    "$(touch /tmp/yumna-pwn).example", "ex\\ample.com", "*.example.com", "example.com/x",
])
def test_invalid_domain_is_422(bad, domain):
    assert_refused(bad, "POST", "/api/dns", {"domain": domain}, statuses=(422,))


def test_domain_that_is_not_a_string_is_422(bad):
    for value in (None, 7, ["a.example"], {"a": 1}, True):
        assert_refused(bad, "POST", "/api/dns", {"domain": value}, statuses=(422,))


def test_zone_without_domain_is_422(bad):
    assert_refused(bad, "POST", "/api/dns", {}, statuses=(422,))


@pytest.mark.parametrize("variant", ["bad-input.example", "bad-input.example.",
                                     "BAD-INPUT.Example"])
def test_duplicate_zone_is_409(bad, variant):
    assert_refused(bad, "POST", "/api/dns", {"domain": variant}, statuses=(409,))


def test_unknown_field_in_zone_is_422(bad):
    assert_refused(bad, "POST", "/api/dns", {"domain": "unknown-field.example", "color": "red"},
                   statuses=(422,))


def test_zone_for_a_server_that_does_not_exist_is_refused(bad):
    assert_refused(bad, "POST", "/api/dns", {"domain": "no-server.example", "serverId": 999999},
                   statuses=(404, 422))


# --- records: types and values ---------------------------------------------

@pytest.mark.parametrize("ttl", ["3600", 3600.5, -1, 2 ** 31, 2 ** 64, None, True, [300]])
def test_ttl_of_the_wrong_type_or_range_is_422(bad, ttl):
    # 2**64 does not fit the JSON parser's integers: a syntax error is fine too
    add(bad, a_record(ttl=ttl), statuses=(400, 422) if ttl == 2 ** 64 else (422,))


@pytest.mark.parametrize("priority", ["10", 10.5, -1, 65536, True])
def test_priority_of_the_wrong_type_or_range_is_422(bad, priority):
    add(bad, {"type": "MX", "name": "@", "content": "mx2.bad-input.example.",
              "priority": priority})


@pytest.mark.parametrize("field,value", [("type", 1), ("type", None), ("name", 5),
                                         ("content", 192), ("content", None),
                                         ("content", ["192.0.2.1"])])
def test_field_of_the_wrong_type_is_422(bad, field, value):
    add(bad, a_record(**{field: value}))


@pytest.mark.parametrize("missing", ["type", "name", "content"])
def test_record_missing_a_required_field_is_422(bad, missing):
    r = a_record()
    del r[missing]
    add(bad, r)


def test_unknown_field_in_record_is_422(bad):
    add(bad, a_record(weight=5))


@pytest.mark.parametrize("rtype,content", [
    ("A", "999.1.1.1"), ("A", "192.0.2"), ("A", "2001:db8::1"), ("A", ""),
    ("AAAA", "192.0.2.1"), ("AAAA", "2001:db8:::1"), ("MX", "not a host name!"),
    ("CNAME", "two words"), ("TXT", '"unterminated'), ("CAA", "0 issue"),
    ("SRV", "x y z"), ("BOGUSTYPE", "1"), ("A", "192.0.2.1\n@ NS evil.example."),
    # RFC 1123 section 2.1: a host name's last label is never all digits
    ("MX", "192.0.2.1."), ("MX", "192.0.2.1"), ("NS", "192.0.2.53."),
    ("SRV", "5 5060 192.0.2.1."),
    # RFC 8659 section 4.2: issuer-domain-name [";" parameters], tag=value
    ("CAA", '0 issue "ca.example.net; key"'), ("CAA", '0 issue "ca..example.net"'),
    ("CAA", '0 issuewild "ca.example.net; a=b;"'),
])
def test_invalid_rdata_is_422(bad, rtype, content):
    record = {"type": rtype, "name": "bad-rdata", "content": content}
    if rtype in ("MX", "SRV"):
        record["priority"] = 10
    add(bad, record)


@pytest.mark.parametrize("name", ["exa mple", "a..b", "x" * 64, "-" * 300, "bad\\name",
                                  "www.other.example.", "example.", "bad-input.example.com."])
def test_invalid_or_out_of_zone_name_is_422(bad, name):
    add(bad, a_record(name=name))


def test_cname_next_to_an_a_is_422(bad):
    add(bad, {"type": "CNAME", "name": "www", "content": "elsewhere.example."})


def test_a_next_to_a_cname_is_422(shared_cluster, bad):
    c = bad["cluster"]
    c.add_record(bad["zone_id"], "alias", "CNAME", "www.bad-input.example.")
    add(bad, a_record(name="alias"))
    add(bad, {"type": "CNAME", "name": "alias", "content": "other.example."})


@pytest.mark.parametrize("algorithm", [0, 255])
def test_ds_with_reserved_algorithm_is_422(bad, algorithm):
    # RFC 4034 appendix A.1: algorithms 0 and 255 are reserved
    c = bad["cluster"]
    if not any(r["name"] == "dssub" and r["type"] == "NS"
               for r in c.whm.records(bad["zone_id"])):
        c.add_record(bad["zone_id"], "dssub", "NS", "ns.example.net.")
    add(bad, {"type": "DS", "name": "dssub",
              "content": "12345 %d 2 %s" % (algorithm, "ab" * 32)})


@pytest.mark.parametrize("content", ["dloop.bad-input.example.", "dloop",
                                     "a.dloop.bad-input.example."])
def test_dname_into_its_own_subtree_is_422(bad, content):
    # RFC 6672 section 2.4: naming loops
    add(bad, {"type": "DNAME", "name": "dloop", "content": content})


def test_dname_cycle_is_422(bad):
    c = bad["cluster"]
    if not any(r["name"] == "dcycle1" for r in c.whm.records(bad["zone_id"])):
        c.add_record(bad["zone_id"], "dcycle1", "DNAME", "dcycle2.bad-input.example.")
    add(bad, {"type": "DNAME", "name": "dcycle2", "content": "dcycle1.bad-input.example."})


def test_cname_at_the_apex_is_422(bad):
    add(bad, {"type": "CNAME", "name": "@", "content": "elsewhere.example."})


def test_duplicate_record_is_refused(bad):
    add(bad, {"type": "A", "name": "www", "content": "192.0.2.1"}, statuses=(409, 422))


def test_soa_record_is_422(bad):
    soa = "ns1.evil.example. hostmaster.evil.example. 1 10800 3600 604800 3600"
    add(bad, {"type": "SOA", "name": "@", "content": soa})
    assert_refused(bad, "PUT", "/api/dns/records/%d" % bad["www_id"],
                   {"type": "SOA", "name": "@", "content": soa}, statuses=(422,))


def test_routing_policy_that_is_not_null_is_422(bad):
    add(bad, a_record(routing_policy={"type": "geo"}))
    add(bad, a_record(routing_policy="weighted"))


def test_routing_policy_null_and_auto_publish_are_accepted(bad, shared_cluster):
    c = bad["cluster"]
    answer = c.add_record(bad["zone_id"], "accepted", "A", "192.0.2.77", routing_policy=None,
                          auto_publish=False)
    assert answer["synced"] is True, answer
    assert c.answers("accepted." + bad["zone"], "A") == {n.name: ["192.0.2.77"] for n in c.nodes}


def test_rrset_over_max_rrset_records_is_refused(bad):
    records = [r for r in bad["cluster"].whm.records(bad["zone_id"])]
    keep = [{k: r[k] for k in ("type", "name", "content", "ttl")} for r in records]
    for r, orig in zip(keep, records):
        if orig["type"] in ("MX", "SRV"):
            r["priority"] = orig["priority"]
    many = [{"type": "A", "name": "big", "content": "10.0.%d.%d" % (i // 256, i % 256)}
            for i in range(501)]
    assert_refused(bad, "PUT", "/api/dns/%d/records" % bad["zone_id"], {"records": keep + many},
                   statuses=(413, 422))


# --- the last apex NS --------------------------------------------------------

def test_deleting_the_last_apex_ns_is_422(bad):
    c = bad["cluster"]
    zid = c.create_zone("last-ns.example")
    ns = [r for r in c.whm.records(zid) if r["type"] == "NS"]
    assert len(ns) == 2
    c.delete_record(ns[0]["id"])
    local = dict(bad, zone_id=zid)

    assert_refused(local, "DELETE", "/api/dns/records/%d" % ns[1]["id"], statuses=(422,))
    # Nor may the last NS be turned into something else, or replaced away.
    assert_refused(local, "PUT", "/api/dns/records/%d" % ns[1]["id"],
                   {"type": "A", "name": "@", "content": "192.0.2.1"}, statuses=(422,))
    assert_refused(local, "PUT", "/api/dns/%d/records" % zid,
                   {"records": [{"type": "A", "name": "@", "content": "192.0.2.1"}]},
                   statuses=(422,))
    assert c.answers("last-ns.example.", "NS") == {n.name: [ns[1]["content"]] for n in c.nodes}


# --- ids -------------------------------------------------------------------

@pytest.mark.parametrize("method,path,body", [
    ("GET", "/api/dns/999999", None),
    ("DELETE", "/api/dns/999999", None),
    ("GET", "/api/dns/999999/records", None),
    ("POST", "/api/dns/999999/records", {"type": "A", "name": "x", "content": "192.0.2.1"}),
    ("PUT", "/api/dns/999999/records", {"records": []}),
    ("PUT", "/api/dns/records/999999", {"type": "A", "name": "x", "content": "192.0.2.1"}),
    ("DELETE", "/api/dns/records/999999", None),
    ("GET", "/api/dns/servers/999999", None),
    ("PUT", "/api/dns/servers/999999", {"name": "x"}),
    ("DELETE", "/api/dns/servers/999999", None),
    ("POST", "/api/dns/cluster/nodes/999999", None),
    ("DELETE", "/api/dns/cluster/nodes/999999", None),
    ("POST", "/api/dns/cluster/sync/999999", None),
    ("POST", "/api/dns/cluster/sync-all/999999", None),
    ("GET", "/api/dns/cluster/sync-all/999999", None),
])
def test_ids_that_do_not_exist_are_404(bad, method, path, body):
    assert_refused(bad, method, path, body, statuses=(404,))


@pytest.mark.parametrize("ident", ["abc", "0", "-1", "1.5", "1e3", "0x10", "99999999999999999999",
                                   "%20", "1;DROP"])
@pytest.mark.parametrize("method,path", [
    ("GET", "/api/dns/{}"), ("DELETE", "/api/dns/{}"), ("GET", "/api/dns/{}/records"),
    ("POST", "/api/dns/{}/records"), ("PUT", "/api/dns/records/{}"),
    ("DELETE", "/api/dns/records/{}"), ("GET", "/api/dns/servers/{}"),
])
def test_ids_that_are_not_numbers_are_4xx(bad, ident, method, path):
    body = {"type": "A", "name": "x", "content": "192.0.2.1"} if method in ("POST", "PUT") else None
    assert_refused(bad, method, path.format(ident), body)


# --- bodies ----------------------------------------------------------------

@pytest.mark.parametrize("data", [b"{", b'{"domain": "x.example"', b"not json", b"",
                                  b'{"domain": "x.example"} {}', b"{'domain': 'x.example'}",
                                  b'{"domain": "x.example",}', b"\xff\xfe"])
def test_malformed_json_is_400(bad, data):
    assert_refused(bad, "POST", "/api/dns", data=data, statuses=(400,))


def test_malformed_json_record_is_400(bad):
    assert_refused(bad, "POST", "/api/dns/%d/records" % bad["zone_id"],
                   data=b'{"type": "A", "name": "x", "content": "192.0.2.1"', statuses=(400,))


def test_body_that_is_not_an_object_is_refused(bad):
    for doc in ([], ["bad.example"], "bad.example", 7, None):
        assert_refused(bad, "POST", "/api/dns", data=json.dumps(doc).encode(),
                       statuses=(400, 422))


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/xml"])
def test_body_that_is_not_json_media_type_is_415(bad, content_type):
    assert_refused(bad, "POST", "/api/dns/%d/records" % bad["zone_id"],
                   data=json.dumps(a_record(name="media")).encode(),
                   headers={"Content-Type": content_type}, statuses=(415,))


def test_oversized_body_is_413(bad):
    filler = "x" * (MAX_BODY + 1024)
    body = json.dumps({"type": "TXT", "name": "big", "content": '"%s"' % filler}).encode()
    assert len(body) > MAX_BODY
    assert_refused(bad, "POST", "/api/dns/%d/records" % bad["zone_id"], data=body,
                   statuses=(413,))


def test_replace_with_records_that_is_not_a_list_is_422(bad):
    for value in (None, {}, "x", 5):
        assert_refused(bad, "PUT", "/api/dns/%d/records" % bad["zone_id"], {"records": value},
                       statuses=(422,))


def test_replace_with_one_bad_record_changes_nothing(bad):
    records = [{"type": "NS", "name": "@", "content": "ns1.yumna.test."},
               {"type": "A", "name": "www", "content": "192.0.2.9"},
               {"type": "A", "name": "broken", "content": "999.0.0.1"}]
    assert_refused(bad, "PUT", "/api/dns/%d/records" % bad["zone_id"], {"records": records},
                   statuses=(422,))


# --- servers ---------------------------------------------------------------

GOOD_SERVER = {"name": "extra", "ip": "127.0.0.1", "agent_port": 4999,
               "agent_secret": "S" * 40}


@pytest.mark.parametrize("change", [
    {"agent_secret": None}, {"agent_secret": ""}, {"agent_secret": "insecure_default"},
    {"ip": "not-an-ip"}, {"ip": "127.0.0.1; rm -rf /"}, {"agent_port": 0},
    {"agent_port": 70000}, {"agent_port": "4001"}, {"name": ""}, {"name": "a b"},
    {"name": "ns\x1b[31m"}, {"name": "ns\u00e9"}, {"hostname": "h\x07"}, {"unknown": 1},
])
def test_invalid_server_is_422(bad, change):
    body = dict(GOOD_SERVER)
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    assert_refused(bad, "POST", "/api/dns/servers", body, statuses=(422,))


def test_agent_secret_over_512_characters_is_422_naming_the_limit(lone_whm):
    """The store holds 512 characters: a longer secret is refused by the
    check, with the limits, not by the store as a bare "invalid input"."""
    long_secret = dict(GOOD_SERVER, agent_secret="s" * 513)
    r = lone_whm.post("/api/dns/servers?check=false", long_secret)
    assert r.status_code == 422, r.text
    assert "512" in r.json()["error"], r.text
    assert "s" * 40 not in r.text

    r = lone_whm.post("/api/dns/servers?check=false", dict(GOOD_SERVER, agent_secret="s" * 512))
    assert r.status_code == 201, r.text


def test_duplicate_server_name_is_409(bad):
    c = bad["cluster"]
    body = dict(GOOD_SERVER, name=c.nodes[0].name)
    assert_refused(bad, "POST", "/api/dns/servers", body, statuses=(409,))
