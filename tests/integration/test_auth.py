"""Every route needs the node's secret; anything else is 401 {"error": "unauthorized"}."""

import base64
import json

import pytest

from harness import basic_records, zone_payload

ZONE = "auth.example."

ROUTES = [
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("GET", "/api/dns/status"),
    ("GET", "/api/dns/statistics"),
    ("POST", "/api/dns/initialize"),
    ("POST", "/api/dns/sync-zone"),
    ("POST", "/api/dns/sync-batch"),
    ("GET", "/api/dns/zones"),
    ("GET", "/api/dns/zones/" + ZONE),
    ("DELETE", "/api/dns/zones/" + ZONE),
    ("POST", "/api/dns/zones/%s/notify" % ZONE),
    ("POST", "/api/dns/zones/%s/dnssec" % ZONE),
    ("GET", "/api/dns/zones/%s/steer-health" % ZONE),
    ("GET", "/"),
    ("GET", "/no/such/route"),
    ("POST", "/api/dns/no-such-route"),
    ("PUT", "/api/dns/sync-zone"),
    ("OPTIONS", "/health"),
    ("OPTIONS", "/api/dns/sync-zone"),
    ("HEAD", "/health"),
    ("HEAD", "/api/dns/zones"),
]


def body_for(path):
    """A valid body, so that only the credentials can make a request fail."""
    if path == "/api/dns/sync-zone":
        return json.dumps(zone_payload(ZONE, 99, 99, basic_records("192.0.2.99"))).encode()
    if path == "/api/dns/sync-batch":
        payload = zone_payload(ZONE, 99, 99, basic_records("192.0.2.99"))
        return json.dumps({"zones": [payload]}).encode()
    return b""


def request(node, method, path, headers, body=b""):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1", "Connection: close"]
    lines += headers
    if body:
        lines += ["Content-Type: application/json", "Content-Length: %d" % len(body)]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    return node.raw(data)


def bad_credentials(secret):
    wrong = "w" * len(secret)
    return {
        "missing": [],
        "wrong": ["X-Agent-Secret: " + wrong],
        "empty": ["X-Agent-Secret: "],
        "prefix": ["X-Agent-Secret: " + secret[:-1]],
        "first-char": ["X-Agent-Secret: " + secret[:1]],
        "secret-plus-extra": ["X-Agent-Secret: " + secret + "x"],
        "other-case": ["X-Agent-Secret: " + secret.swapcase()],
        "twice": ["X-Agent-Secret: " + secret, "X-Agent-Secret: " + secret],
        "bearer-missing-token": ["Authorization: Bearer"],
        "bearer-empty-token": ["Authorization: Bearer "],
        "bearer-wrong": ["Authorization: Bearer " + wrong],
        "bearer-prefix": ["Authorization: Bearer " + secret[:-1]],
        "bearer-twice": ["Authorization: Bearer " + secret, "Authorization: Bearer " + secret],
        "no-scheme": ["Authorization: " + secret],
        "basic-scheme": ["Authorization: Basic " + base64.b64encode(
            ("agent:" + secret).encode()).decode()],
        "other-header": ["X-Agent-Token: " + secret],
    }


CASES = list(bad_credentials("s" * 48))


@pytest.fixture(scope="module")
def auth_node(shared_node):
    shared_node.push_ok(ZONE, 1, 1, basic_records("192.0.2.1"))
    return shared_node


def snapshot(node):
    return node.zone(ZONE).content, node.dig("www." + ZONE, "A")


@pytest.mark.parametrize("case", CASES)
def test_bad_credentials_get_401_on_every_route(auth_node, case):
    before = snapshot(auth_node)
    headers = bad_credentials(auth_node.secret)[case]
    failures = []
    for method, path in ROUTES:
        status, h, body = request(auth_node, method, path, headers, body_for(path))
        if status != 401:
            failures.append("%s %s -> %d %r" % (method, path, status, body[:200]))
            continue
        if method != "HEAD":
            try:
                ok = json.loads(body) == {"error": "unauthorized"}
            except ValueError:
                ok = False
            if not ok or not h.get("content-type", "").startswith("application/json"):
                failures.append("%s %s -> 401 with body %r" % (method, path, body[:200]))
        if auth_node.secret.encode() in body:
            failures.append("%s %s -> the secret is in the answer" % (method, path))
    assert not failures, "\n".join(failures)
    assert snapshot(auth_node) == before


@pytest.mark.parametrize("where", ["inside", "after-a-prefix", "alone"])
def test_nul_in_the_secret_is_refused(auth_node, where):
    # A NUL never lets a part of the secret pass for all of it. (libmicrohttpd
    # ends a field value at a NUL, so "<whole secret>\0x" is read as the whole
    # secret: that needs the secret itself, and is listed in docs/agent-api.md.)
    s = auth_node.secret
    value = {"inside": s[:10] + "\0" + s[11:], "after-a-prefix": s[:10] + "\0",
             "alone": "\0"}[where]

    status, _, _ = request(auth_node, "GET", "/api/dns/zones", ["X-Agent-Secret: " + value])

    assert status in (400, 401)


def test_secret_in_the_query_string_is_refused(auth_node):
    status, _, body = request(auth_node, "GET", "/health?secret=" + auth_node.secret, [])
    assert status == 401
    status, _, _ = request(auth_node, "GET", "/health?X-Agent-Secret=" + auth_node.secret, [])
    assert status == 401


@pytest.mark.parametrize("header", [
    "X-Agent-Secret: {}",
    "x-agent-secret: {}",
    "Authorization: Bearer {}",
    "Authorization: bearer {}",   # RFC 9110 section 11.1: the scheme is case-insensitive
    "Authorization: BEARER {}",
])
def test_valid_secret_is_accepted(auth_node, header):
    status, _, body = request(auth_node, "GET", "/health", [header.format(auth_node.secret)])

    assert status == 200, body
    assert json.loads(body)["status"] == "healthy"


def test_unknown_route_with_valid_secret_is_404_json(auth_node):
    for method, path in (("GET", "/nope"), ("GET", "/api/dns/nope"),
                         ("POST", "/api/dnsx/sync-zone")):
        r = auth_node.request(method, path)
        assert r.status_code == 404, (method, path, r.text)
        assert isinstance(r.json()["error"], str)


def test_wrong_method_on_known_route_is_405_json(auth_node):
    for method, path in (("GET", "/api/dns/sync-zone"), ("DELETE", "/api/dns/zones"),
                         ("POST", "/health"), ("PUT", "/api/dns/zones/" + ZONE)):
        r = auth_node.request(method, path)
        assert r.status_code == 405, (method, path, r.text)
        assert isinstance(r.json()["error"], str)


def test_secret_is_never_logged(auth_node):
    # Runs after the requests above have been logged.
    with open(auth_node.log_path, "rb") as f:
        log = f.read()
    assert auth_node.secret.encode() not in log
    assert auth_node.secret[:-1].encode() not in log
