"""Update policies through the panel's routes (/api/dns/update-policies)
and yumnactl update-policy: admin only, rules checked with the DNS
library, 4xx JSON for bad input with nothing stored."""

import pytest

from dnsupdate_tools import POLICIES, make_key

pytest_plugins = ["cluster_fixtures"]


@pytest.fixture()
def whm(shared_cluster):
    return shared_cluster.whm


def test_rules_are_stored_in_their_normal_form(whm, domain):
    key = make_key(whm, "Pol." + domain)
    got = whm.call("PUT", "%s/%s" % (POLICIES, key[0].upper()), {"rules": [
        {"zone": domain.upper(), "match": "subdomain", "name": "_ACME-challenge",
         "types": ["txt"]},
        {"zone": domain, "match": "wildcard", "name": "*.dyn", "types": ["a", "any"]},
        {"zone": domain, "match": "zone", "types": ["MX"]}]}, expect=200)
    assert got["key"] == key[0]
    assert got["rules"] == [
        {"zone": domain + ".", "match": "subdomain", "name": "_acme-challenge." + domain + ".",
         "types": ["TXT"]},
        {"zone": domain + ".", "match": "wildcard", "name": "*.dyn." + domain + ".",
         "types": ["A", "ANY"]},
        {"zone": domain + ".", "match": "zone", "types": ["MX"]}]
    assert whm.call("GET", "%s/%s" % (POLICIES, key[0]), expect=200) == got
    assert got in whm.call("GET", POLICIES, expect=200)
    whm.call("DELETE", "%s/%s" % (POLICIES, key[0]), expect=200)
    whm.call("GET", "%s/%s" % (POLICIES, key[0]), expect=404)
    whm.call("DELETE", "%s/%s" % (POLICIES, key[0]), expect=404)


def test_a_policy_follows_its_key_renamed_and_goes_with_it(whm, domain):
    key = make_key(whm, "follow." + domain)
    rules = {"rules": [{"zone": domain, "match": "zone", "types": ["TXT"]}]}
    whm.call("PUT", "%s/%s" % (POLICIES, key[0]), rules, expect=200)
    new = "moved." + domain + "."
    whm.call("PUT", "/api/dns/tsig-keys/" + key[0], {"name": new}, expect=200)
    whm.call("GET", "%s/%s" % (POLICIES, key[0]), expect=404)
    assert whm.call("GET", "%s/%s" % (POLICIES, new), expect=200)["rules"][0]["types"] == ["TXT"]
    whm.call("DELETE", "/api/dns/tsig-keys/" + new, expect=200)
    whm.call("GET", "%s/%s" % (POLICIES, new), expect=404)
    # A key made again with the old name starts without a policy.
    whm.call("POST", "/api/dns/tsig-keys", {"name": new}, expect=201)
    whm.call("GET", "%s/%s" % (POLICIES, new), expect=404)


BAD = [
    {},
    {"rules": "all"},
    {"rules": [], "extra": 1},
    {"rules": [{"zone": "example.com", "match": "everything", "types": ["A"]}]},
    {"rules": [{"zone": "bad..zone", "match": "zone", "types": ["A"]}]},
    {"rules": [{"zone": "example.com", "match": "zone", "name": "www", "types": ["A"]}]},
    {"rules": [{"zone": "example.com", "match": "name", "types": ["A"]}]},
    {"rules": [{"zone": "example.com", "match": "name", "name": "www.other.org.",
                "types": ["A"]}]},
    {"rules": [{"zone": "example.com", "match": "wildcard", "name": "dyn", "types": ["A"]}]},
    {"rules": [{"zone": "example.com", "match": "zone", "types": []}]},
    {"rules": [{"zone": "example.com", "match": "zone", "types": ["BOGUS"]}]},
    {"rules": [{"zone": "example.com", "match": "zone", "types": ["SOA"]}]},
    {"rules": [{"zone": "example.com", "match": "zone", "types": ["RRSIG"]}]},
    {"rules": [{"zone": "example.com", "match": "zone", "types": ["A"], "x": 1}]},
    {"rules": [{"zone": "example.com", "match": "zone", "types": ["A"]}] * 65},
]


def test_bad_rules_are_refused_and_nothing_stored(whm, domain):
    key = make_key(whm, "bad." + domain)
    path = "%s/%s" % (POLICIES, key[0])
    for body in BAD:
        r = whm.request("PUT", path, json_body=body)
        assert 400 <= r.status_code < 500, (body, r.text)
        assert r.json()["error"], body
    whm.call("GET", path, expect=404)
    r = whm.request("PUT", path, data=b"{not json")
    assert r.status_code == 400
    # A key the controller does not have.
    r = whm.request("PUT", "%s/nokey.%s" % (POLICIES, domain), json_body={"rules": []})
    assert r.status_code == 404


def test_only_admins_see_or_change_policies(whm, domain):
    key = make_key(whm, "adm." + domain)
    whm.make_tokens()
    for method, path in (("GET", POLICIES), ("GET", "%s/%s" % (POLICIES, key[0])),
                         ("PUT", "%s/%s" % (POLICIES, key[0])),
                         ("DELETE", "%s/%s" % (POLICIES, key[0]))):
        r = whm.request(method, path, json_body={"rules": []}, token=whm.read_token)
        assert r.status_code == 403, (method, path)
    whm.call("GET", "%s/%s" % (POLICIES, key[0]), expect=404)


def test_yumnactl_update_policy(shared_cluster, domain, tmp_path):
    from test_yumnactl import Ctl, NOT_FOUND, REFUSED
    ctl = Ctl(shared_cluster, tmp_path)
    key = make_key(shared_cluster.whm, "cli." + domain)[0]
    out = ctl.run("update-policy", "grant", key, domain, "subdomain", "_acme-challenge",
                  "TXT").stdout
    assert "_acme-challenge.%s." % domain in out and "TXT" in out
    ctl.run("update-policy", "grant", key, domain, "zone", "A,AAAA")
    rules = ctl.json("update-policy", "show", key)["rules"]
    assert [r["match"] for r in rules] == ["subdomain", "zone"]
    assert rules[1]["types"] == ["A", "AAAA"]
    f = tmp_path / "rules.json"
    f.write_text('[{"zone": "%s", "match": "name", "name": "@", "types": ["NS"]}]' % domain)
    ctl.run("update-policy", "set", key, f)
    assert "zone %s. name %s. types NS" % (domain, domain) in ctl.run("update-policy",
                                                                       "list").stdout
    f.write_text('[{"zone": "%s", "match": "name", "types": ["NS"]}]' % domain)
    ctl.run("update-policy", "set", key, f, expect=REFUSED)
    ctl.run("update-policy", "delete", key)
    ctl.run("update-policy", "show", key, expect=NOT_FOUND)
