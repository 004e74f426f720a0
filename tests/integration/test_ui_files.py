"""The dashboard's files at /ui/: served without a token, from the table
compiled into the controller, with security headers; nothing else on the
host is reachable through that route, and it opens no way around the API's
authentication."""

import os
import re

import pytest

import harness

pytest_plugins = ["cluster_fixtures"]

WEB = os.path.join(os.path.dirname(__file__), "..", "..", "web")
FILES = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css",
         "favicon.svg": "image/svg+xml"}


@pytest.fixture(scope="module")
def whm(shared_cluster):
    shared_cluster.create_zone("ui-secret-zone.example")
    return shared_cluster.whm


def raw_get(whm, path, extra=""):
    data = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n"
            % (path, extra)).encode()
    return harness.raw_http(whm.address, whm.port, data)


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_file_is_served_without_a_token_as_built(whm, name):
    r = whm.get("/ui/" + name, token=None)

    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(FILES[name]), r.headers
    with open(os.path.join(WEB, name), "rb") as f:
        assert r.content == f.read()


@pytest.mark.parametrize("path", ["/ui/", "/ui"])
def test_the_page_is_served_at_ui_with_security_headers(whm, path):
    r = whm.get(path, token=None)

    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = r.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    # Never cached: an upgraded controller serves its own page at once.
    assert r.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in r.headers


def test_the_page_has_no_inline_script_style_or_handler():
    with open(os.path.join(WEB, "index.html")) as f:
        html = f.read()
    for m in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S | re.I):
        assert "src=" in m.group(1) and m.group(2).strip() == "", m.group(0)
    assert not re.search(r"<style\b", html, re.I)
    assert not re.search(r"\sstyle\s*=", html, re.I)
    assert not re.search(r"\son[a-z]+\s*=", html, re.I)
    assert not re.search(r"(src|href)\s*=\s*\"(https?:)?//", html, re.I), "no CDN"
    with open(os.path.join(WEB, "app.js")) as f:
        js = f.read()
    assert "innerHTML" not in js and "eval(" not in js and "localStorage.setItem" not in js


@pytest.mark.parametrize("path", [
    "/ui/..%2Fwhm.conf",
    "/ui/..%2F..%2Fetc%2Fpasswd",
    "/ui/%2e%2e%2fwhm.conf",
    "/ui/%2E%2E/whm.conf",
    "/ui/../whm.conf",
    "/ui/../../etc/passwd",
    "/ui/..",
    "/ui/.",
    "/ui/.hidden",
    "/ui/app.js%00.html",
    "/ui/app.js%2F",
    "/ui//etc/passwd",
    "/ui/%2Fetc%2Fpasswd",
    "/ui/whm.sqlite3",
    "/ui/index.html/",
    "/ui/INDEX.HTML",
    "/ui/app.js/..",
    "/ui/..%5cwhm.conf",
])
def test_nothing_outside_the_dashboard_is_reachable(whm, path):
    status, headers, body = raw_get(whm, path)

    assert status in (400, 404), (path, status, body[:200])
    assert b"listen-port" not in body and b"root:" not in body and b"SQLite" not in body
    assert headers.get("content-type", headers.get("Content-Type", "")).startswith(
        "application/json"), headers


@pytest.mark.parametrize("path", ["/ui/../api/dns", "/ui/%2e%2e/api/dns", "/ui/..%2Fapi%2Fdns",
                                  "/ui/../api/dns/cluster/status", "/ui/../metrics"])
def test_the_public_prefix_opens_no_api_route(whm, path):
    status, _, body = raw_get(whm, path)

    assert status in (400, 401, 404), (path, status)
    assert b"ui-secret-zone" not in body and b"yumna_whm" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_only_get_is_public(whm, method):
    r = whm.request(method, "/ui/index.html", token=None)
    assert r.status_code == 401


def test_a_token_sent_to_the_files_is_not_needed_nor_checked(whm):
    assert whm.get("/ui/app.js", token="not-a-token").status_code == 200
    assert whm.get("/ui/app.js", token=whm.read_token).status_code == 200


def test_ui_no_turns_the_dashboard_off(cluster_factory):
    c = cluster_factory(n=1, whm_config={"ui": "no"})
    r = c.whm.get("/ui/", token=None)
    assert r.status_code == 404
    assert "ui = no" in r.json()["error"]
    assert c.whm.get("/api/dns/cluster/status").status_code == 200
