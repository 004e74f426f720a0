"""Who may talk to yumna-whm: a Bearer token on every route (/health too),
401 without one or with an unknown one (on known and unknown paths alike),
403 for a read token on anything but GET."""

import os
import re
import time

import pytest
import requests

pytest_plugins = ["cluster_fixtures"]

KNOWN_GETS = ["/health", "/api/dns", "/api/dns/servers", "/api/dns/cluster/status",
              "/api/dns/cluster/statistics", "/api/dns/cluster/health"]
UNKNOWN_PATHS = ["/", "/nope", "/api", "/api/dns/nope/deeper/still", "/api/dns/cluster/bogus",
                 "/admin", "/api/dns/records", "/.env"]


def assert_unauthorized(r):
    assert r.status_code == 401, "%s %s -> %d %s" % (r.request.method, r.request.url,
                                                      r.status_code, r.text)
    assert r.json() == {"error": "unauthorized"}


@pytest.fixture(scope="module")
def whm(shared_cluster):
    return shared_cluster.whm


@pytest.mark.parametrize("path", KNOWN_GETS)
def test_no_token_is_401_on_every_route(whm, path):
    assert_unauthorized(whm.get(path, token=None))


def test_no_token_is_401_on_writes_and_changes_nothing(whm, domain):
    before = whm.get("/api/dns").json()

    assert_unauthorized(whm.post("/api/dns", {"domain": domain}, token=None))
    assert_unauthorized(whm.post("/api/dns/servers", {"name": "x"}, token=None))
    assert_unauthorized(whm.delete("/api/dns/1", token=None))
    assert_unauthorized(whm.put("/api/dns/records/1", {}, token=None))

    assert whm.get("/api/dns").json() == before


@pytest.mark.parametrize("token", ["wrong", "0" * 64, "x" * 300, "", " "])
def test_unknown_token_is_401(whm, token):
    for path in KNOWN_GETS:
        assert_unauthorized(whm.get(path, token=token))


@pytest.mark.parametrize("header", ["Basic {t}", "Token {t}", "{t}", "Bearer", "Bearer  {t}x",
                                    "Bearer {t} extra"])
def test_malformed_authorization_is_401(whm, header):
    r = whm.get("/api/dns", token=None,
                headers={"Authorization": header.format(t=whm.admin_token)})
    assert_unauthorized(r)


def test_admin_token_with_truncated_or_extended_value_is_401(whm):
    t = whm.admin_token
    assert_unauthorized(whm.get("/api/dns", token=t[:-1]))
    assert_unauthorized(whm.get("/api/dns", token=t + "0"))
    assert_unauthorized(whm.get("/api/dns", token=t.upper() if t.upper() != t else t.lower()))


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_scheme_is_case_insensitive(whm, scheme):
    r = whm.get("/api/dns", token=None, headers={"Authorization": scheme + " " + whm.admin_token})
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), list)


def test_health_with_a_token_reports_healthy(whm):
    r = whm.get("/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "healthy"
    assert body["anycast_ready"] is True
    assert isinstance(body["timestamp"], int)
    assert isinstance(body["zones"], int)


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_unknown_path_without_token_is_401_not_404(whm, method, path):
    assert_unauthorized(whm.request(method, path, token=None))
    assert_unauthorized(whm.request(method, path, token="wrong"))


def test_unknown_path_with_a_token_is_404(whm):
    r = whm.get("/api/dns/cluster/bogus")
    assert r.status_code == 404, r.text
    assert isinstance(r.json()["error"], str)


@pytest.mark.parametrize("path", KNOWN_GETS)
def test_read_token_may_read(whm, path):
    r = whm.get(path, token=whm.read_token)
    assert r.status_code == 200, r.text


def test_read_token_is_403_on_every_write_and_changes_nothing(shared_cluster, domain):
    c = shared_cluster
    whm = c.whm
    zone_id = c.create_zone(domain)
    rec = c.add_record(zone_id, "www", "A", "192.0.2.1")
    node = c.nodes[0]
    before = (whm.get("/api/dns").json(), whm.records(zone_id), whm.servers(),
              whm.status()["totalNodes"])
    read = whm.read_token

    writes = [
        ("POST", "/api/dns", {"domain": "read-" + domain}),
        ("DELETE", "/api/dns/%d" % zone_id, None),
        ("POST", "/api/dns/%d/records" % zone_id, {"type": "A", "name": "x", "content": "192.0.2.9"}),
        ("PUT", "/api/dns/%d/records" % zone_id, {"records": []}),
        ("PUT", "/api/dns/records/%d" % rec["id"], {"type": "A", "name": "www",
                                                    "content": "192.0.2.9"}),
        ("DELETE", "/api/dns/records/%d" % rec["id"], None),
        ("POST", "/api/dns/servers", {"name": "evil", "ip": "127.0.0.1", "agent_port": 1,
                                      "agent_secret": "s" * 40}),
        ("PUT", "/api/dns/servers/%d" % node.server_id, {"name": "renamed"}),
        ("DELETE", "/api/dns/servers/%d" % node.server_id, None),
        ("POST", "/api/dns/cluster/nodes/%d" % node.server_id, None),
        ("DELETE", "/api/dns/cluster/nodes/%d" % node.server_id, None),
        ("POST", "/api/dns/cluster/sync/%d" % zone_id, None),
        ("POST", "/api/dns/cluster/sync-all/%d" % node.server_id, None),
    ]
    for method, path, body in writes:
        r = whm.request(method, path, json_body=body, token=read)
        assert r.status_code == 403, "%s %s -> %d %s" % (method, path, r.status_code, r.text)
        assert isinstance(r.json()["error"], str) and r.json()["error"]

    after = (whm.get("/api/dns").json(), whm.records(zone_id), whm.servers(),
             whm.status()["totalNodes"])
    assert after == before
    c.wait_all_nodes("www.%s." % domain, "A", ["192.0.2.1"], timeout=1)


def test_tokens_are_stored_hashed_not_in_clear(whm):
    # Only SHA-256 of a token is stored: no byte of the store holds it.
    found = []
    for name in os.listdir(whm.directory):
        if name.startswith("whm.sqlite3"):
            with open(os.path.join(whm.directory, name), "rb") as f:
                data = f.read()
            for t in (whm.admin_token, whm.read_token):
                if t.encode() in data:
                    found.append(name)
    assert not found, "a token is stored in clear in %s" % found


def test_the_store_stays_shared_with_other_processes(tmp_path):
    """Opening a connection must not drop the controller's locks on the
    SQLite file (closing any descriptor of it does): another process that
    opens and closes the store, as `yumna-whm token create` does, then takes
    itself for the last user and deletes the -wal and -shm files under the
    running controller, which from then on no longer sees others' writes."""
    import sqlite3

    import cluster as cl

    w = cl.Whm(str(tmp_path / "whm"))
    w.start()
    try:
        for _ in range(20):  # every server thread opens its connection
            assert w.get("/api/dns").status_code == 200
        token = w.token_create("beside", "admin")
        assert os.path.exists(w.store_path + "-wal")
        assert w.get("/api/dns", token=token).status_code == 200
        db = sqlite3.connect(w.store_path)
        db.execute("UPDATE api_tokens SET revoked = 1 WHERE name = 'beside'")
        db.commit()
        db.close()
        for _ in range(20):
            assert_unauthorized(w.get("/api/dns", token=token))
    finally:
        w.stop()


def test_a_request_keeps_its_own_token_while_others_are_served(shared_cluster, domain):
    """A server thread serves many connections in turn: a read token's
    request whose body arrives after admin requests were authorized on
    every thread must still be refused as a read token's."""
    import json
    import socket

    whm = shared_cluster.whm
    body = json.dumps({"domain": domain}).encode()
    held = socket.create_connection(("127.0.0.1", whm.port), timeout=10)
    try:
        held.sendall(("POST /api/dns HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                      % (whm.read_token, len(body))).encode())
        time.sleep(0.2)
        for _ in range(32):  # one on every thread, each on a new connection
            r = requests.get(whm.url + "/api/dns/servers",
                             headers={"Authorization": "Bearer " + whm.admin_token})
            assert r.status_code == 200
        held.sendall(body)
        answer = held.recv(65536).decode("latin-1")
    finally:
        held.close()
    assert answer.startswith("HTTP/1.1 403"), answer
    assert not any(z["domain"] == domain for z in whm.call("GET", "/api/dns", expect=200))


def _tokens(w, **kw):
    return {t["id"]: t for t in w.call("GET", "/api/dns/tokens", expect=200, **kw)}


def _token_id(w, name, **kw):
    return [t["id"] for t in _tokens(w, **kw).values()
            if t["name"] == name and not t["revoked"]][0]


def test_revoking_the_last_admin_token_is_409_and_it_keeps_working(lone_whm):
    w = lone_whm
    mine = _token_id(w, "tests-admin")

    r = w.delete("/api/dns/tokens/%d" % mine)

    assert r.status_code == 409, r.text
    assert "last admin token" in r.json()["error"] and "you are using" in r.json()["error"]
    assert _tokens(w)[mine]["revoked"] is False
    assert w.get("/api/dns").status_code == 200
    # A read token does not count as an admin: still the last one.
    assert w.call("GET", "/api/dns/tokens", expect=200)
    assert w.delete("/api/dns/tokens/%d" % mine).status_code == 409


def test_an_admin_token_may_be_revoked_while_another_admin_remains(lone_whm):
    w = lone_whm
    other = w.call("POST", "/api/dns/tokens", {"name": "second-admin", "role": "admin"},
                   expect=201)

    # Revoking one's own token is allowed when another admin remains ...
    r = w.delete("/api/dns/tokens/%d" % _token_id(w, "tests-admin"))
    assert r.status_code == 200, r.text
    assert_unauthorized(w.get("/api/dns"))
    # ... and the remaining one is now the last.
    r = w.delete("/api/dns/tokens/%d" % other["id"], token=other["token"])
    assert r.status_code == 409, r.text
    assert w.get("/api/dns", token=other["token"]).status_code == 200
    # A read token can always go.
    read = _token_id(w, "tests-read", token=other["token"])
    r = w.delete("/api/dns/tokens/%d" % read, token=other["token"])
    assert r.status_code == 200, r.text


def test_a_duplicate_token_name_is_409_and_creates_nothing(lone_whm):
    w = lone_whm
    w.call("POST", "/api/dns/tokens", {"name": "grafana", "role": "read"}, expect=201)
    before = _tokens(w)

    for role in ("read", "admin"):
        r = w.post("/api/dns/tokens", {"name": "grafana", "role": role})
        assert r.status_code == 409, r.text
        assert "grafana" in r.json()["error"]
    r = w.post("/api/dns/tokens", {"name": "tests-admin", "role": "admin"})
    assert r.status_code == 409, r.text
    assert _tokens(w) == before
    # The controller's own `token create` refuses it too.
    with pytest.raises(Exception):
        w.token_create("grafana", "read")
    assert _tokens(w) == before
    # Once revoked, the name may be used again.
    w.call("DELETE", "/api/dns/tokens/%d" % _token_id(w, "grafana"), expect=200)
    w.call("POST", "/api/dns/tokens", {"name": "grafana", "role": "read"}, expect=201)


def test_a_store_that_fails_is_503_not_a_wrong_token(lone_whm):
    """A token lookup that fails in the store (here: its table is gone) is
    not a verdict on the token: 503, no WWW-Authenticate, where it once was
    401 and told clients their good credentials were wrong."""
    import sqlite3

    w = lone_whm
    assert w.get("/api/dns").status_code == 200
    db = sqlite3.connect(w.store_path, timeout=10)
    try:
        db.execute("ALTER TABLE api_tokens RENAME TO api_tokens_away")
        db.commit()
        r = w.get("/api/dns")
        assert r.status_code == 503, r.text
        assert r.json() == {"error": "the store is unavailable"}
        assert "WWW-Authenticate" not in r.headers
        # Without a token there is nothing to look up: still 401.
        assert_unauthorized(w.get("/api/dns", token=None))
    finally:
        db.execute("ALTER TABLE api_tokens_away RENAME TO api_tokens")
        db.commit()
        db.close()
    assert w.get("/api/dns").status_code == 200
    assert_unauthorized(w.get("/api/dns", token="0" * 64))


# "... err: a request refused with 503, the store is unavailable: WHY" first,
# then "... err: N requests refused with 503 since the last line, ...".
STORE_REFUSED = re.compile(r" err: (?:a request|(\d+) requests) refused with 503"
                           r"(?: since the last line)?, the store is unavailable: (.*)$")


def test_a_store_that_fails_is_logged_with_its_reason_once_an_interval(lone_whm):
    """Review: the 503s of a store that fails left nothing in the
    controller's log, so an operator saw clients fail and no reason. The
    first refusal is logged at once with the reason; under load, at most one
    line every 10 s follows, saying how many requests were refused since
    the line before: every refusal is counted in exactly one line, and the
    token is never in it."""
    import sqlite3

    w = lone_whm
    assert w.get("/api/dns").status_code == 200
    offset = os.path.getsize(w.log_path)
    refused = 0
    db = sqlite3.connect(w.store_path, timeout=10)
    try:
        db.execute("ALTER TABLE api_tokens RENAME TO api_tokens_away")
        db.commit()
        start = time.monotonic()
        for _ in range(300):
            r = w.get("/api/dns")
            assert r.status_code == 503, r.text
            refused += 1
        # The next line is due 10 s after the first: one more refusal then.
        time.sleep(max(0.0, start + 10.5 - time.monotonic()))
        assert w.get("/api/dns").status_code == 503
        refused += 1
        elapsed = time.monotonic() - start
    finally:
        db.execute("ALTER TABLE api_tokens_away RENAME TO api_tokens")
        db.commit()
        db.close()
    assert w.get("/api/dns").status_code == 200
    with open(w.log_path, "rb") as f:
        f.seek(offset)
        log = f.read().decode("utf-8", "replace")
    found = [m for m in map(STORE_REFUSED.search, log.splitlines()) if m]
    assert found, log
    assert found[0].group(1) is None, found[0].group(0)
    for m in found:
        assert m.group(2) == "cannot look a token up: database error: no such table: " \
            "api_tokens", m.group(0)
    # Bounded: the first line, then one every 10 s at most.
    assert 2 <= len(found) <= 1 + int(elapsed // 10), [m.group(0) for m in found]
    assert sum(int(m.group(1) or 1) for m in found) == refused, [m.group(0) for m in found]
    assert w.admin_token not in log
