"""TSIG keys kept by the controller: the panel's routes
(/api/dns/tsig-keys) and PowerDNS's (/api/v1/servers/localhost/tsigkeys,
side by side with a real pdns_server 4.7). A secret is shown when a key is
made and to admin tokens reading one key; never in lists, to read tokens,
or in the audit log."""

import base64
import subprocess

import pytest

from test_pdns_api import BASE, pdns, sides  # noqa: F401 (fixtures)

pytest_plugins = ["cluster_fixtures"]

KEYS = "/api/dns/tsig-keys"
HASH_BYTES = {"hmac-sha256": 32, "hmac-sha384": 48, "hmac-sha512": 64, "hmac-md5": 16}
SECRET = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()

# Where the controller's tsigkeys answer differently on purpose, and why.
DIVERGENCES = {
    "names": "a key's name is stored in lower case and shown so; PowerDNS echoes the case it "
             "was given in the POST answer and lists it in lower case",
    "bad input": "422 with a message for an unknown algorithm (PowerDNS: 400 without a "
                 "body), a name that is not one (PowerDNS: 500) or a secret that is not "
                 "base64 of 16 to 64 bytes (PowerDNS stores it)",
    "renaming onto another key": "409; PowerDNS makes two keys of one name",
    "hmac-sha1 and hmac-sha224": "422: keys are SHA-2 (256, 384, 512), or MD5 for old peers",
}


@pytest.fixture()
def whm(shared_cluster):
    return shared_cluster.whm


def names(w, token=None):
    kw = {"token": token} if token else {}
    return {k["name"]: k for k in w.call("GET", KEYS, expect=200, **kw)}


def test_a_key_is_made_with_a_random_secret_as_long_as_its_hash(whm, domain):
    for alg, size in HASH_BYTES.items():
        name = "%s.%s" % (alg, domain)
        k = whm.call("POST", KEYS, {"name": name.upper(), "algorithm": alg}, expect=201)
        assert k["name"] == name + "." and k["algorithm"] == alg
        assert len(base64.b64decode(k["secret"], validate=True)) == size
        assert k["legacy"] is (alg == "hmac-md5")
    other = whm.call("POST", KEYS, {"name": "x." + domain}, expect=201)
    assert other["algorithm"] == "hmac-sha256"
    assert other["secret"] != k["secret"]


def test_secrets_are_shown_once_to_admins_only(whm, shared_cluster, domain):
    name = "k." + domain + "."
    made = whm.call("POST", KEYS, {"name": name, "secret": SECRET}, expect=201)
    assert made["secret"] == SECRET
    listed = names(whm)[name]
    assert "secret" not in listed
    assert whm.call("GET", KEYS + "/" + name, expect=200)["secret"] == SECRET
    shared_cluster.whm.make_tokens()
    read = whm.read_token
    assert "secret" not in whm.call("GET", KEYS + "/" + name, expect=200, token=read)
    assert "secret" not in names(whm, read)[name]
    assert whm.request("POST", KEYS, {"name": "r." + domain}, token=read).status_code == 403
    assert whm.request("DELETE", KEYS + "/" + name, token=read).status_code == 403
    entries = whm.call("GET", "/api/dns/audit", expect=200)["entries"]
    assert any(e["action"] == "tsig.create" and name in str(e) for e in entries)
    assert not any(SECRET in str(e) for e in entries)


def test_rotate_rename_and_delete(whm, domain):
    name = "rot." + domain + "."
    first = whm.call("POST", KEYS, {"name": name, "algorithm": "hmac-sha512"}, expect=201)
    rotated = whm.call("PUT", KEYS + "/" + name, {"rotate": True}, expect=200)
    assert rotated["secret"] != first["secret"] and rotated["algorithm"] == "hmac-sha512"
    assert len(base64.b64decode(rotated["secret"])) == 64
    given = whm.call("PUT", KEYS + "/" + name, {"secret": SECRET}, expect=200)
    assert given["secret"] == SECRET
    renamed = whm.call("PUT", KEYS + "/" + name, {"name": "new." + domain}, expect=200)
    assert renamed["name"] == "new." + domain + "." and renamed["secret"] == SECRET
    assert whm.request("GET", KEYS + "/" + name).status_code == 404
    whm.call("DELETE", KEYS + "/new." + domain, expect=200)
    assert "new." + domain + "." not in names(whm)
    assert whm.request("DELETE", KEYS + "/new." + domain).status_code == 404


@pytest.mark.parametrize("body, words", [
    ({}, "name"),
    ({"name": "a..b"}, "name"),
    ({"name": "ok", "algorithm": "hmac-sha1"}, "algorithm"),
    ({"name": "ok", "algorithm": "bogus"}, "algorithm"),
    ({"name": "ok", "secret": "!!!"}, "base64"),
    ({"name": "ok", "secret": base64.b64encode(b"short").decode()}, "bytes"),
    ({"name": "ok", "secret": base64.b64encode(b"x" * 65).decode()}, "bytes"),
    ({"name": "ok", "secret": SECRET, "rotate": True}, "not both"),
    ({"name": 5}, "name"),
    ({"name": "ok", "extra": 1}, "extra"),
])
def test_bad_input_is_refused_and_changes_nothing(whm, domain, body, words):
    if isinstance(body.get("name"), str) and body["name"] == "ok":
        body = dict(body, name="ok." + domain)
    before = names(whm)
    r = whm.request("POST", KEYS, body)
    assert r.status_code == 422, r.text
    assert words in r.json()["error"]
    assert names(whm) == before


def test_a_duplicate_or_a_rename_onto_another_key_is_a_conflict(whm, domain):
    a, b = "a." + domain + ".", "b." + domain + "."
    whm.call("POST", KEYS, {"name": a}, expect=201)
    whm.call("POST", KEYS, {"name": b}, expect=201)
    before = names(whm)
    assert whm.request("POST", KEYS, {"name": a.upper()}).status_code == 409
    assert whm.request("PUT", KEYS + "/" + b, {"name": a}).status_code == 409
    assert names(whm) == before


def test_powerdns_tsigkeys_agree_with_powerdns(sides, domain):
    _, ours, pdns = sides
    steps = [
        ("POST", "", {"name": "k1." + domain, "algorithm": "hmac-sha256"}, 201),
        ("POST", "", {"name": "k2." + domain + ".", "algorithm": "hmac-sha512",
                      "key": SECRET}, 201),
        ("POST", "", {"name": "k1." + domain, "algorithm": "hmac-sha256"}, 409),
        ("POST", "", {"name": "k3." + domain}, 422),
        ("POST", "", {"algorithm": "hmac-sha256"}, 422),
        ("GET", "/k1.%s." % domain, None, 200),
        ("GET", "/k1.%s" % domain, None, 200),
        ("GET", "/nokey.%s." % domain, None, 404),
        ("PUT", "/k2.%s." % domain, {"key": SECRET}, 200),
        ("PUT", "/k2.%s." % domain, {"name": "k9." + domain}, 200),
        ("PUT", "/k2.%s." % domain, {"algorithm": "hmac-sha384"}, 404),
        ("DELETE", "/k9.%s." % domain, None, 204),
        ("DELETE", "/k9.%s." % domain, None, 404),
    ]
    for method, path, body, want in steps:
        a = ours.send(method, BASE + "/tsigkeys" + path, body)
        p = pdns.send(method, BASE + "/tsigkeys" + path, body)
        assert a[0] == p[0] == want, (method, path, body, a[0], p[0], a[2].text)
        if want in (200, 201):
            assert sorted(a[1]) == sorted(p[1]) == ["algorithm", "id", "key", "name", "type"]
            assert a[1]["id"] == p[1]["id"].lower() and a[1]["type"] == "TSIGKey"
            assert a[1]["key"] and p[1]["key"]
            if body and "key" in body:
                assert a[1]["key"] == p[1]["key"] == body["key"]
    ours_list = {k["id"]: k for k in ours.send("GET", BASE + "/tsigkeys")[1]}
    pdns_list = {k["id"]: k for k in pdns.send("GET", BASE + "/tsigkeys")[1]}
    assert "k1.%s." % domain in ours_list and "k1.%s." % domain in pdns_list
    assert ours_list["k1.%s." % domain] == dict(pdns_list["k1.%s." % domain])
    assert all(k["key"] == "" for k in ours_list.values())
    # Divergence "bad input": PowerDNS answers 400 and 500 here.
    for body in ({"name": "k4." + domain, "algorithm": "bogus"},
                 {"name": "a..b", "algorithm": "hmac-sha256"}):
        assert ours.send("POST", BASE + "/tsigkeys", body)[0] == 422


def test_yumnactl_tsig_prints_a_key_clause_bind_reads(shared_cluster, domain, tmp_path):
    from test_yumnactl import Ctl, NOT_FOUND, USAGE
    ctl = Ctl(shared_cluster, tmp_path)
    name = "cli." + domain + "."
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    clause = ctl.run("tsig", "create", "--algorithm", "hmac-sha512", "--secret-file",
                     secret_file, name).stdout
    assert clause == 'key "%s" {\n\talgorithm hmac-sha512;\n\tsecret "%s";\n};\n' % (name, SECRET)
    conf = tmp_path / "named.conf"
    conf.write_text(clause)
    subprocess.run(["named-checkconf", str(conf)], check=True)
    listed = {k["name"]: k for k in ctl.json("tsig", "list")}
    assert listed[name]["algorithm"] == "hmac-sha512" and "secret" not in listed[name]
    assert SECRET not in ctl.run("tsig", "list").stdout
    rotated = ctl.run("tsig", "rotate", name).stdout
    assert SECRET not in rotated and rotated.startswith('key "%s"' % name)
    assert ctl.run("tsig", "show", name).stdout == rotated
    shared_cluster.whm.make_tokens()
    assert "secret" not in ctl.run("tsig", "show", name,
                                   token=shared_cluster.whm.read_token).stdout
    ctl.run("tsig", "delete", name)
    ctl.run("tsig", "show", name, expect=NOT_FOUND)
    ctl.run("tsig", "create", expect=USAGE)
