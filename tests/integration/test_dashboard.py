"""The dashboard at /ui/, in a real headless Chromium (Debian's chromium and
chromium-driver, driven by python3-selenium; scripts/deps.sh installs them,
so a missing browser fails these tests rather than skipping them).

The cluster runs with the controller's default health interval (2 s), so
"a stopped node turns red within seconds" is measured as an operator would
see it. Screenshots go to the test's directory and to build/ (dashboard-*.png).
"""

import os
import shutil
import signal
import time

import pytest

import chromium
import harness
from cluster import Cluster

pytest_plugins = ["cluster_fixtures"]

SCREENSHOTS = os.path.join(harness.BUILD, "screenshots")


@pytest.fixture(scope="module")
def ui_cluster(tmp_path_factory):
    # None drops the test harness's fast timer: the controller's default
    # health interval applies.
    base = tmp_path_factory.mktemp("dashboard")
    # The DNSSEC rollover's waits run on a clock the tests move forward (a
    # test-only offset the controller adds to its clock).
    clock = base / "clock-offset"
    clock.write_text("0\n")
    c = Cluster(base, n=3, start=False,
                whm_config={"health-interval-ms": None,
                            "dnssec-test-clock-offset-file": str(clock),
                            "dnssec-propagation-delay": 1,
                            "dnssec-rollover-check-ms": 100})
    c.clock = clock
    try:
        c.start()
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium.start(tmp_path_factory.mktemp("chromium-profile"), "browser", 30)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver, expected=()):
    """Console errors, but for the one 403 the page asks for on purpose: it
    reads GET /api/dns/tokens once at sign-in to learn whether the token may
    write (a read token is refused); and the refusals a test provokes, each
    given as (path part, status)."""
    allowed = (("/api/dns/tokens", 403),) + tuple(expected)
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"
            and not any(p in e.get("message", "") and "status of %d" % c in e["message"]
                        for p, c in allowed)]


def wait_for(driver, predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate(driver)
            if last:
                return last
        except Exception as e:          # the page is being re-rendered
            last = e
        time.sleep(0.1)
    raise AssertionError("after %.0f s, no %s (last: %r)" % (timeout, what, last))


def node_states(driver):
    from selenium.webdriver.common.by import By
    rows = driver.find_elements(By.CSS_SELECTOR, "#nodes tbody tr")
    return {r.get_attribute("data-node"): r.get_attribute("data-state") for r in rows}


def show_view(driver, name):
    """Open one of the dashboard's views by its button in the header."""
    from selenium.webdriver.common.by import By
    driver.find_element(By.CSS_SELECTOR, '#nav button[data-view="%s"]' % name).click()
    wait_for(driver, lambda d: d.find_element(By.ID, "view-" + name).is_displayed(),
             what="view %s" % name)


def click_zone(driver, domain):
    """Open a zone by the button that is its name, until its row shows it
    selected: a refresh that replaces the rows between the press and the
    release of the mouse swallows the click (the two land on different
    elements), and a row found just before one goes stale."""
    from selenium.webdriver.common.by import By
    row = '#zones tbody tr[data-zone="%s"]' % domain

    def selected(d):
        if not d.find_elements(By.CSS_SELECTOR, row + ".selected"):
            d.find_element(By.CSS_SELECTOR, row + " button.link").click()
        return d.find_elements(By.CSS_SELECTOR, row + ".selected")
    wait_for(driver, selected, what="zone %s selected" % domain)


def click_subtab(driver, sub):
    """Open the zone's tab 'sub' once the zone's view shows it (a zone just
    opened is still being drawn)."""
    from selenium.webdriver.common.by import By
    wait_for(driver, lambda d: d.find_element(
        By.CSS_SELECTOR, '.subtab[data-sub="%s"]' % sub).click() or True,
        what="tab %s" % sub)


def screenshot(driver, tmp_path, name):
    path = str(tmp_path / ("dashboard-%s.png" % name))
    assert driver.save_screenshot(path), "no screenshot"
    os.makedirs(SCREENSHOTS, exist_ok=True)
    shutil.copy(path, os.path.join(SCREENSHOTS, "dashboard-%s.png" % name))
    assert os.path.getsize(path) > 1000
    return path


@pytest.fixture(scope="module")
def signed_in(ui_cluster, browser):
    """The dashboard open and signed in with a read token."""
    from selenium.webdriver.common.by import By

    browser.get(ui_cluster.whm.url + "/ui/")
    wait_for(browser, lambda d: d.find_element(By.ID, "signin").is_displayed(),
             what="sign-in form")
    browser.find_element(By.ID, "token").send_keys(ui_cluster.whm.read_token)
    browser.find_element(By.ID, "signin-button").click()
    wait_for(browser, lambda d: len(node_states(d)) == 3, what="three node rows")
    return browser


def test_page_loads_signs_in_and_logs_no_console_error(ui_cluster, signed_in, tmp_path):
    from selenium.webdriver.common.by import By

    assert signed_in.find_element(By.ID, "app").is_displayed()
    assert not signed_in.find_element(By.ID, "signin").is_displayed()
    # The token is kept for this tab only, never in localStorage or a cookie.
    assert signed_in.execute_script("return sessionStorage.getItem('yumna-token')") == \
        ui_cluster.whm.read_token
    assert signed_in.execute_script("return localStorage.length") == 0
    assert signed_in.get_cookies() == []
    time.sleep(2.5)                     # at least one refresh
    assert console_errors(signed_in) == []
    screenshot(signed_in, tmp_path, "signed-in")


def test_every_node_is_shown_with_its_powerdns_version(ui_cluster, signed_in):
    from selenium.webdriver.common.by import By

    states = wait_for(signed_in, lambda d: (lambda s: s if set(s.values()) == {"online"} else None)(
        node_states(d)), what="every node online")
    assert sorted(states) == sorted(n.name for n in ui_cluster.nodes)
    # The table is re-rendered on every refresh: read its cells in one script
    # call, so a refresh between two reads cannot leave a stale row behind.
    rows = signed_in.execute_script(
        "return Array.from(document.querySelectorAll('#nodes tbody tr'),"
        " r => Array.from(r.cells, c => c.innerText.trim()))")
    assert len(rows) == 3, rows
    for cells in rows:
        assert cells[2].startswith("4."), cells[2]      # PowerDNS version
        assert cells[3].endswith("ms"), cells[3]        # response time
    assert signed_in.find_element(By.ID, "t-nodes").text == "3 / 3"


def test_a_record_created_through_the_api_appears(ui_cluster, signed_in, tmp_path):
    from selenium.webdriver.common.by import By

    zid = ui_cluster.create_zone("dashboard.example")
    ui_cluster.add_record(zid, "www", "A", "192.0.2.80")
    show_view(signed_in, "zones")
    row = wait_for(signed_in, lambda d: d.find_element(
        By.CSS_SELECTOR, '#zones tbody tr[data-zone="dashboard.example"]'), what="zone row")
    cells = row.find_elements(By.TAG_NAME, "td")
    assert cells[3].text == "unsigned"
    click_zone(signed_in, "dashboard.example")
    wait_for(signed_in, lambda d: d.find_element(By.ID, "zone-detail").is_displayed(),
             what="records panel")

    # Created while the panel is open: the next refresh shows it.
    ui_cluster.add_record(zid, "mail", "A", "192.0.2.81")
    wait_for(signed_in, lambda d: d.find_elements(
        By.CSS_SELECTOR, '#records tbody tr[data-record="mail A 192.0.2.81"]'),
        timeout=6, what="the new record")
    serial = str(ui_cluster.whm.zone(zid)["serial"])
    wait_for(signed_in, lambda d: serial in d.find_element(By.ID, "zone-meta").text,
             what="the zone's serial")
    assert console_errors(signed_in) == []
    signed_in.execute_script("document.getElementById('zone-detail').scrollIntoView()")
    screenshot(signed_in, tmp_path, "records")


def bind_secondary(cluster, tmp_path, zone, **primary_options):
    """A BIND primary of 'zone' (www A 192.0.2.42) on loopback, and the zone
    made a secondary of it that every node serves: (the primary, the zone's
    id). The caller stops the primary."""
    from dns_primaries import BindPrimary

    primary = BindPrimary(tmp_path / "named", {zone: """$TTL 300
@ IN SOA ns1 hostmaster 42 3600 600 86400 300
@ IN NS ns1
ns1 IN A 192.0.2.53
www IN A 192.0.2.42
"""}, **primary_options)
    primary.start()
    try:
        r = cluster.whm.post("/api/dns", {"domain": zone, "kind": "secondary",
                                          "primaries": [primary.address]})
        assert r.status_code == 201, r.text
        cluster.wait_all_nodes("www." + zone, "A", ["192.0.2.42"], timeout=20)
    except BaseException:
        primary.stop()
        raise
    return primary, r.json()["zoneId"]


def test_a_secondary_zone_shows_its_primary_and_state(ui_cluster, signed_in, tmp_path):
    from selenium.webdriver.common.by import By

    zone = "secondary-ui.example."
    # served presigned: the dashboard says so
    primary, zid = bind_secondary(ui_cluster, tmp_path, zone, signs=True)
    try:
        show_view(signed_in, "zones")
        wait_for(signed_in, lambda d: d.find_element(
            By.CSS_SELECTOR, '#zones tbody tr[data-zone="secondary-ui.example"]'),
            what="zone row")
        click_zone(signed_in, "secondary-ui.example")
        meta = wait_for(signed_in, lambda d: "(ok)" in d.find_element(By.ID, "zone-meta").text
                        and d.find_element(By.ID, "zone-meta").text, what="the zone's state")
        serial = ui_cluster.whm.zone(zid)["serial"]
        assert "serial %d" % serial in meta and "secondary of " + primary.address in meta, meta
        assert "DNSSEC presigned by its primary" in meta, meta
        assert console_errors(signed_in) == []
    finally:
        primary.stop()


def test_an_international_zone_shows_its_unicode_and_ascii_names(ui_cluster, signed_in,
                                                                tmp_path):
    from selenium.webdriver.common.by import By

    zid = ui_cluster.create_zone("b\u00fccher-ui.example")
    show_view(signed_in, "zones")
    ui_cluster.add_record(zid, "stra\u00dfe", "A", "192.0.2.82")
    row = wait_for(signed_in, lambda d: d.find_element(
        By.CSS_SELECTOR, '#zones tbody tr[data-zone="xn--bcher-ui-65a.example"]'),
        what="zone row")
    name = row.find_elements(By.TAG_NAME, "td")[0]
    assert name.text.split() == ["b\u00fccher-ui.example", "xn--bcher-ui-65a.example"], name.text
    # The filter finds it by either name.
    box = signed_in.find_element(By.ID, "zone-filter")
    try:
        for text in ("b\u00fccher-ui", "xn--bcher"):
            box.clear()
            box.send_keys(text)
            wait_for(signed_in, lambda d: d.find_elements(
                By.CSS_SELECTOR, '#zones tbody tr[data-zone="xn--bcher-ui-65a.example"]'),
                what="filtered row %r" % text)
        click_zone(signed_in, "xn--bcher-ui-65a.example")
    finally:
        box.clear()
    wait_for(signed_in, lambda d: d.find_element(By.ID, "zone-name").text ==
             "b\u00fccher-ui.example (xn--bcher-ui-65a.example)", what="zone title")
    rec = wait_for(signed_in, lambda d: d.find_element(
        By.CSS_SELECTOR, '#records tbody tr[data-record="xn--strae-oqa A 192.0.2.82"]'),
        what="the record")
    assert rec.find_elements(By.TAG_NAME, "td")[0].text.split() == [
        "stra\u00dfe", "xn--strae-oqa"]
    assert console_errors(signed_in) == []
    screenshot(signed_in, tmp_path, "idn")


def test_a_late_answer_about_the_zone_left_is_not_drawn(ui_cluster, signed_in):
    """The reads of a zone opened first come back after the second zone is
    open: the page keeps showing the second zone."""
    from selenium.webdriver.common.by import By

    slow = ui_cluster.create_zone("slow-ui.example")
    fast = ui_cluster.create_zone("fast-ui.example")
    ui_cluster.add_record(slow, "www", "A", "192.0.2.91")
    ui_cluster.add_record(fast, "www", "A", "192.0.2.92")
    show_view(signed_in, "zones")
    for z in ("slow-ui.example", "fast-ui.example"):
        wait_for(signed_in, lambda d: d.find_elements(
            By.CSS_SELECTOR, '#zones tbody tr[data-zone="%s"]' % z), what="row " + z)
    # Every read about the first zone takes 1.5 s from now on.
    signed_in.execute_script("""
        window.realFetch = window.fetch;
        const slow = new RegExp('/api/dns/' + arguments[0] + '([/?]|$)');
        window.fetch = (url, opts) => slow.test(url)
          ? new Promise((ok) => setTimeout(ok, 1500)).then(() => window.realFetch(url, opts))
          : window.realFetch(url, opts);""", slow)
    try:
        click_zone(signed_in, "slow-ui.example")
        click_zone(signed_in, "fast-ui.example")
        wait_for(signed_in, lambda d: record_row(d, "www", "A", "192.0.2.92"),
                 what="the second zone's record")
        time.sleep(4)       # the first zone's reads have come back
        assert signed_in.find_element(By.ID, "zone-name").text == "fast-ui.example"
        assert record_row(signed_in, "www", "A", "192.0.2.92")
        assert not record_row(signed_in, "www", "A", "192.0.2.91")
    finally:
        signed_in.execute_script("window.fetch = window.realFetch;")
    assert console_errors(signed_in) == []


def test_a_stopped_agent_shows_as_down_within_seconds(ui_cluster, signed_in, tmp_path):
    from selenium.webdriver.common.by import By

    show_view(signed_in, "overview")
    victim = ui_cluster.nodes[1]
    wait_for(signed_in, lambda d: node_states(d).get(victim.name) == "online",
             what="%s online first" % victim.name)
    harness.sigstop(victim.proc.pid)
    try:
        started = time.monotonic()
        wait_for(signed_in, lambda d: node_states(d).get(victim.name) == "offline",
                 timeout=8, what="%s shown offline" % victim.name)
        took = time.monotonic() - started
        row = signed_in.find_element(By.CSS_SELECTOR, '#nodes tr[data-node="%s"]' % victim.name)
        colour = row.find_element(By.CLASS_NAME, "badge").value_of_css_property("background-color")
        assert colour in ("rgba(207, 34, 46, 1)", "rgb(207, 34, 46)"), colour   # red
        others = {k: v for k, v in node_states(signed_in).items() if k != victim.name}
        assert set(others.values()) == {"online"}, others
        wait_for(signed_in, lambda d: any(
            li.get_attribute("data-kind") == "node.down" and victim.name in li.text
            for li in d.find_elements(By.CSS_SELECTOR, "#events li")),
            timeout=4, what="a node.down event")
        assert signed_in.find_element(By.ID, "t-nodes").text == "2 / 3"
        screenshot(signed_in, tmp_path, "node-down")
        print("node shown offline %.1f s after SIGSTOP" % took)
    finally:
        victim.proc.send_signal(signal.SIGCONT)
    wait_for(signed_in, lambda d: node_states(d).get(victim.name) == "online", timeout=10,
             what="%s online again" % victim.name)
    assert console_errors(signed_in) == []


def test_a_zone_changed_behind_an_agent_shows_as_drift(ui_cluster, signed_in, tmp_path):
    """The node's Drift cell counts the repair the controller made after a
    record was changed in that node's PowerDNS database."""
    import sqlite3
    from selenium.webdriver.common.by import By

    zid = ui_cluster.create_zone("drifting.example")
    ui_cluster.add_record(zid, "www", "A", "192.0.2.31")
    victim = ui_cluster.nodes[2]
    db = sqlite3.connect(os.path.join(victim.data_dir, "pdns.sqlite3"), timeout=10)
    with db:
        db.execute("UPDATE records SET content = '192.0.2.99' "
                   "WHERE name = 'www.drifting.example' AND type = 'A'")
    db.close()
    # The controller compares the node at its next reconciliation: ask for
    # one now (a sync of the zone pushes it to every node and verifies).
    ui_cluster.whm.post("/api/dns/cluster/sync/%d" % zid)

    def drift_cell(d):
        row = d.find_element(By.CSS_SELECTOR, '#nodes tr[data-node="%s"]' % victim.name)
        cell = row.find_element(By.CSS_SELECTOR, 'td[data-label="Drift"]')
        return int(cell.text) >= 1 and cell.text
    wait_for(signed_in, drift_cell, timeout=10, what="a drift counted for %s" % victim.name)
    for other in ui_cluster.nodes[:2]:
        row = signed_in.find_element(By.CSS_SELECTOR, '#nodes tr[data-node="%s"]' % other.name)
        assert row.find_element(By.CSS_SELECTOR, 'td[data-label="Drift"]').text == "0"
    screenshot(signed_in, tmp_path, "drift")
    assert console_errors(signed_in) == []


def test_phone_width_shows_the_nodes(ui_cluster, signed_in, tmp_path):
    from selenium.webdriver.common.by import By

    signed_in.set_window_size(390, 844)
    try:
        wait_for(signed_in, lambda d: len(node_states(d)) == 3, what="node rows")
        width = signed_in.execute_script("return document.documentElement.scrollWidth")
        assert width <= 400, "the page is %d px wide on a 390 px screen" % width
        assert signed_in.find_element(By.ID, "nodes").is_displayed()
        screenshot(signed_in, tmp_path, "phone")
    finally:
        signed_in.set_window_size(1280, 900)


def test_a_refused_token_returns_to_the_sign_in_form(ui_cluster, signed_in):
    from selenium.webdriver.common.by import By

    signed_in.find_element(By.ID, "signout").click()
    wait_for(signed_in, lambda d: d.find_element(By.ID, "signin").is_displayed(),
             what="sign-in form")
    assert signed_in.execute_script("return sessionStorage.getItem('yumna-token')") is None
    signed_in.find_element(By.ID, "token").send_keys("not-a-token")
    signed_in.find_element(By.ID, "signin-button").click()
    wait_for(signed_in, lambda d: "refused" in d.find_element(By.ID, "signin-error").text,
             what="refused message")
    assert not signed_in.find_element(By.ID, "app").is_displayed()
    # The 401 itself is the only console error the browser reports.
    errors = console_errors(signed_in)
    assert all("401" in e["message"] for e in errors), errors


# --- the read-write dashboard, with an admin token ---------------------------------
#
# These tests run in order on one cluster and one browser: each starts from
# where the previous one left the zone "rw.example".

RW = "rw.example"
state = {}


def accept_dialog(driver, text=None):
    """Accept the confirm() (or answer the prompt() with 'text') the page opened."""
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    alert = WebDriverWait(driver, 5).until(EC.alert_is_present())
    if text is not None:
        alert.send_keys(text)
    alert.accept()


def sign_in_as(driver, whm, tok, role_text):
    from selenium.webdriver.common.by import By
    if "/ui/" not in driver.current_url:
        driver.get(whm.url + "/ui/")
        wait_for(driver, lambda d: d.find_element(By.ID, "signin").is_displayed() or
                 d.find_element(By.ID, "signout").is_displayed(), what="the page")
    if driver.find_element(By.ID, "signout").is_displayed():
        driver.find_element(By.ID, "signout").click()
    wait_for(driver, lambda d: d.find_element(By.ID, "signin").is_displayed(), what="sign-in form")
    driver.find_element(By.ID, "token").send_keys(tok)
    driver.find_element(By.ID, "signin-button").click()
    wait_for(driver, lambda d: d.find_element(By.ID, "role").text == role_text,
             what="role %s" % role_text)
    driver.get_log("browser")       # the earlier tests' 401 is not this test's


def fill(driver, field_id, value):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    e = driver.find_element(By.ID, field_id)
    if e.tag_name == "select":
        try:
            Select(e).select_by_value(value)
        except Exception:
            Select(e).select_by_visible_text(value)
    else:
        e.clear()
        e.send_keys(value)


def click_in(driver, css, text):
    """Click the button labelled 'text' inside the element at 'css', again if
    a refresh replaced the element between finding and clicking it."""
    from selenium.webdriver.common.by import By

    def click(d):
        d.find_element(By.CSS_SELECTOR, css).find_element(
            By.XPATH, './/button[text()="%s"]' % text).click()
        return True
    wait_for(driver, click, what="button %r in %s" % (text, css))


def record_row(driver, name, rtype, content):
    from selenium.webdriver.common.by import By
    return driver.find_elements(
        By.CSS_SELECTOR, '#records tr[data-record="%s %s %s"]' % (name, rtype, content))


def add_record_in_form(driver, name, rtype, content, ttl="", priority=""):
    from selenium.webdriver.common.by import By
    fill(driver, "rec-name", name)
    fill(driver, "rec-type", rtype)
    fill(driver, "rec-ttl", ttl)
    fill(driver, "rec-priority", priority)
    fill(driver, "rec-content", content)
    driver.find_element(By.ID, "rec-save").click()


def rw_zone_id(cluster):
    return cluster.whm.zones()[RW + "."]["id"]


def node_ttl(node, name, rtype):
    m = node.query(name, rtype)
    return [rr.ttl for rr in m.answer]


def test_an_admin_creates_a_zone_and_records_every_node_answers(ui_cluster, browser, tmp_path):
    from selenium.webdriver.common.by import By

    sign_in_as(browser, ui_cluster.whm, ui_cluster.whm.admin_token, "admin")
    show_view(browser, "zones")
    fill(browser, "new-zone", RW)
    browser.find_element(By.ID, "zone-create-button").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "zone-name").text == RW, what="new zone open")
    wait_for(browser, lambda d: "SOA" in d.find_element(By.ID, "zone-soa").text, what="the SOA")

    add_record_in_form(browser, "www", "A", "192.0.2.10", ttl="300")
    wait_for(browser, lambda d: record_row(d, "www", "A", "192.0.2.10"), what="A record")
    add_record_in_form(browser, "www", "AAAA", "2001:db8::10")
    wait_for(browser, lambda d: record_row(d, "www", "AAAA", "2001:db8::10"), what="AAAA")
    add_record_in_form(browser, "@", "MX", "mail.rw.example.", priority="10")
    wait_for(browser, lambda d: record_row(d, "@", "MX", "mail.rw.example."), what="MX")
    add_record_in_form(browser, "@", "TXT", "v=spf1 -all")
    wait_for(browser, lambda d: record_row(d, "@", "TXT", "v=spf1 -all"), what="TXT")

    # A refused record: the API's message shows beside the field it is about.
    add_record_in_form(browser, "bad", "A", "not-an-address")
    err = wait_for(browser, lambda d: d.find_element(By.ID, "rec-content-err").text,
                   what="the error beside the content field")
    assert "IPv4" in err or "address" in err, err
    assert not record_row(browser, "bad", "A", "not-an-address")
    # The browser reports the refused request itself; nothing else.
    assert all("422" in e["message"] for e in console_errors(browser))
    fill(browser, "rec-content", "")

    ui_cluster.wait_all_nodes("www.rw.example.", "A", ["192.0.2.10"])
    ui_cluster.wait_all_nodes("www.rw.example.", "AAAA", ["2001:db8::10"])
    ui_cluster.wait_all_nodes("rw.example.", "MX", ["10 mail.rw.example."])
    ui_cluster.wait_all_nodes("rw.example.", "TXT", ['"v=spf1 -all"'])
    assert console_errors(browser) == []
    screenshot(browser, tmp_path, "zone-records")


def test_an_admin_changes_the_ttl_of_an_rrset(ui_cluster, browser):
    from selenium.webdriver.common.by import By

    click_in(browser, '#records tbody[data-rrset="www A"]', "TTL")
    accept_dialog(browser, "600")
    wait_for(browser, lambda d: d.find_element(
        By.CSS_SELECTOR, '#records tbody[data-rrset="www A"] td.num span').text == "600",
        what="TTL 600 shown")
    harness.wait_until(lambda: all(node_ttl(n, "www.rw.example.", "A") == [600]
                                   for n in ui_cluster.nodes), 10, interval=0.1)
    assert {n.name: node_ttl(n, "www.rw.example.", "A") for n in ui_cluster.nodes} == \
        {n.name: [600] for n in ui_cluster.nodes}
    # The version that holds www A 192.0.2.10 with TTL 600: rolled back to below.
    state["version"] = ui_cluster.whm.zone(rw_zone_id(ui_cluster))["version"]
    assert console_errors(browser) == []


def test_an_admin_signs_the_zone_and_reads_the_ds(ui_cluster, browser, tmp_path):
    from selenium.webdriver.common.by import By

    click_subtab(browser, "dnssec")
    wait_for(browser, lambda d: d.find_element(By.ID, "dnssec-sign-button").is_displayed(),
             what="the sign button")
    browser.find_element(By.ID, "dnssec-sign-button").click()
    ds = wait_for(browser, lambda d: [li.find_element(By.TAG_NAME, "code").text
                                      for li in d.find_elements(By.CSS_SELECTOR, "#dnssec-ds li")],
                  what="the DS records")
    api = ui_cluster.whm.get("/api/dns/%d/dnssec" % rw_zone_id(ui_cluster)).json()
    assert ds == api["ds"]
    assert browser.find_elements(By.CSS_SELECTOR, "#dnssec-ds li button")[0].text == "Copy"
    assert "idle" in browser.find_element(By.ID, "dnssec-rollover").text
    for n in ui_cluster.nodes:
        assert harness.wait_until(lambda: n.dig("rw.example.", "DNSKEY"), 10, interval=0.1), \
            n.name
    assert console_errors(browser) == []
    screenshot(browser, tmp_path, "zone-dnssec")


def test_an_admin_rolls_back_and_every_node_serves_the_old_answer(ui_cluster, browser, tmp_path):
    from selenium.webdriver.common.by import By

    click_subtab(browser, "records")
    click_in(browser, '#records tr[data-record="www A 192.0.2.10"]', "Edit")
    fill(browser, "rec-content", "192.0.2.11")
    browser.find_element(By.ID, "rec-save").click()
    wait_for(browser, lambda d: record_row(d, "www", "A", "192.0.2.11"), what="edited record")
    ui_cluster.wait_all_nodes("www.rw.example.", "A", ["192.0.2.11"])

    v = state["version"]
    click_subtab(browser, "history")
    click_in(browser, '#versions tr[data-version="%d"]' % v, "Diff")
    wait_for(browser, lambda d: "192.0.2.11" in d.find_element(By.ID, "diff").text,
             what="the diff")
    screenshot(browser, tmp_path, "zone-history")
    click_in(browser, '#versions tr[data-version="%d"]' % v, "Roll back")
    accept_dialog(browser)
    wait_for(browser, lambda d: "Rolled back to version %d" % v in d.find_element(By.ID, "notice").text,
             what="the rollback notice")
    ui_cluster.wait_all_nodes("www.rw.example.", "A", ["192.0.2.10"])
    assert console_errors(browser) == []


def test_the_diff_shows_a_record_disabled(ui_cluster, browser):
    from selenium.webdriver.common.by import By

    zid = rw_zone_id(ui_cluster)
    rec = next(r for r in ui_cluster.whm.records(zid) if r["name"] == "www" and r["type"] == "A")
    body = {"name": "www", "type": "A", "content": rec["content"]}
    ui_cluster.whm.call("PUT", "/api/dns/records/%d" % rec["id"], dict(body, disabled=True),
                        expect=200)
    v = ui_cluster.whm.zone(zid)["version"]
    try:
        click_subtab(browser, "records")
        click_subtab(browser, "history")
        # the version before, with the current one
        click_in(browser, '#versions tr[data-version="%d"]' % (v - 1), "Diff")
        text = wait_for(browser, lambda d: "(disabled)" in d.find_element(By.ID, "diff").text
                        and d.find_element(By.ID, "diff").text, what="the diff")
        assert "%s (disabled)" % rec["content"] in text, text
    finally:
        ui_cluster.whm.call("PUT", "/api/dns/records/%d" % rec["id"], body,
                            params={"wait": "all"}, expect=200)


def test_an_admin_exports_the_zone_and_creates_and_revokes_a_token(ui_cluster, browser, tmp_path):
    from selenium.webdriver.common.by import By

    click_subtab(browser, "transfer")
    browser.find_element(By.ID, "export-button").click()
    text = wait_for(browser, lambda d: d.find_element(By.ID, "export-text").get_attribute("value"),
                    what="the zone file")
    assert "$ORIGIN rw.example." in text and "192.0.2.10" in text
    fill(browser, "import-text", "mail 300 IN A 192.0.2.25\n")
    browser.find_element(By.ID, "import-button").click()
    wait_for(browser, lambda d: "Imported 1" in d.find_element(By.ID, "notice").text,
             what="the import notice")
    ui_cluster.wait_all_nodes("mail.rw.example.", "A", ["192.0.2.25"])
    screenshot(browser, tmp_path, "zone-transfer")

    show_view(browser, "tokens")
    fill(browser, "tok-name", "ui-made")
    browser.find_element(By.ID, "tok-create").click()
    tok = wait_for(browser, lambda d: d.find_element(By.ID, "token-value").get_attribute("value"),
                   what="the new token")
    assert ui_cluster.whm.get("/api/dns/cluster/status", token=tok).status_code == 200
    screenshot(browser, tmp_path, "tokens")
    click_in(browser, '#tokens tr[data-token="ui-made"]', "Revoke")
    accept_dialog(browser)
    wait_for(browser, lambda d: "revoked" in d.find_element(
        By.CSS_SELECTOR, '#tokens tr[data-token="ui-made"]').text, what="revoked")
    assert ui_cluster.whm.get("/api/dns/cluster/status", token=tok).status_code == 401

    show_view(browser, "audit")
    fill(browser, "audit-zone", RW)
    browser.find_element(By.ID, "audit-search").click()
    wait_for(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, '#audit tr[data-action="zone.rollback"]'), what="the rollback audited")
    screenshot(browser, tmp_path, "audit")
    assert console_errors(browser) == []


VIEWS = [("overview", None), ("zones", "records"), ("zones", "dnssec"), ("zones", "history"),
         ("zones", "transfer"), ("audit", None), ("tokens", None)]


SIZES = {"desktop": (1280, 900), "phone": (390, 844),
         # A 1280 x 900 window at 200% zoom lays the page out in 640 x 450.
         "zoom200": (640, 450)}


def screenshot_views(driver, tmp_path, label, views, size_name):
    from selenium.webdriver.common.by import By
    for v, sub in views:
        show_view(driver, v)
        if sub:
            click_subtab(driver, sub)
            wait_for(driver, lambda d: d.find_element(By.ID, "sub-" + sub).is_displayed(),
                     what="sub-view %s" % sub)
            time.sleep(0.3)
        width = driver.execute_script("return document.documentElement.scrollWidth")
        inner = driver.execute_script("return window.innerWidth")
        assert width <= inner, "%s/%s: the page is %d px wide in a %d px window" % (
            v, sub, width, inner)
        # No DNS name is broken inside a label (each label is one box).
        broken = driver.execute_script(
            "return Array.from(document.querySelectorAll('.dname .lbl'))"
            ".filter(e => e.getClientRects().length > 1).map(e => e.textContent)")
        assert broken == [], (v, sub, broken)
        screenshot(driver, tmp_path, "%s-%s-%s" % (label, v + ("-" + sub if sub else ""), size_name))


def test_every_view_at_desktop_and_phone_sizes(ui_cluster, browser, tmp_path):
    from selenium.webdriver.common.by import By

    show_view(browser, "zones")
    click_zone(browser, RW)
    # The keyboard alone: the zone's name is a button that Enter opens.
    from selenium.webdriver.common.keys import Keys
    click_subtab(browser, "records")
    browser.execute_script("document.activeElement.blur()")
    wait_for(browser, lambda d: d.find_element(
        By.CSS_SELECTOR, '#zones tbody tr[data-zone="dashboard.example"] button.link').send_keys(
        Keys.ENTER) or True, what="Enter on a zone")
    wait_for(browser, lambda d: d.find_element(By.ID, "zone-name").text == "dashboard.example",
             what="the zone opened by the keyboard")
    outline = browser.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", outline
    click_zone(browser, RW)
    try:
        for name, size in SIZES.items():
            browser.set_window_size(*size)
            screenshot_views(browser, tmp_path, "admin", VIEWS, name)
    finally:
        browser.set_window_size(1280, 900)
    assert console_errors(browser) == []


def test_a_read_token_sees_everything_and_no_write_control(ui_cluster, browser, tmp_path):
    from selenium.webdriver.common.by import By

    sign_in_as(browser, ui_cluster.whm, ui_cluster.whm.read_token, "read only")
    assert not browser.find_element(By.CSS_SELECTOR, '#nav button[data-view="tokens"]').is_displayed()
    show_view(browser, "zones")
    click_zone(browser, RW)
    wait_for(browser, lambda d: record_row(d, "www", "A", "192.0.2.10"), what="records")
    views = [v for v in VIEWS if v[0] != "tokens"]
    for name in ("desktop", "phone"):
        browser.set_window_size(*SIZES[name])
        try:
            screenshot_views(browser, tmp_path, "read", views, name)
            for v, sub in views:
                show_view(browser, v)
                if sub:
                    click_subtab(browser, sub)
                    time.sleep(0.3)
                # Read in one script call: a refresh may replace rows meanwhile.
                shown, buttons = browser.execute_script(
                    "const vis = e => e.getClientRects().length > 0;"
                    "return [Array.from(document.querySelectorAll('.write, button.danger'))"
                    "        .filter(vis).map(e => e.textContent.trim() || e.id),"
                    "        Array.from(document.querySelectorAll('button'))"
                    "        .filter(vis).map(b => b.textContent.trim())];")
                assert shown == [], (v, sub, shown)
                writes = {"Create", "Delete", "Delete zone", "Remove", "Roll back", "Sign the zone",
                          "Add record", "Add server", "Import", "Edit", "Revoke", "Join",
                          "Full sync", "Unsign", "TTL", "Create token", "Save record"}
                assert writes.isdisjoint(buttons), (v, sub, writes & set(buttons))
        finally:
            browser.set_window_size(1280, 900)
    # The DS is readable, with its copy button.
    show_view(browser, "zones")
    click_subtab(browser, "dnssec")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#dnssec-ds li button"),
             what="DS with copy button")
    assert console_errors(browser) == []


def test_an_admin_removes_a_node(ui_cluster, browser, tmp_path):
    from selenium.webdriver.common.by import By

    sign_in_as(browser, ui_cluster.whm, ui_cluster.whm.admin_token, "admin")
    show_view(browser, "overview")
    victim = ui_cluster.nodes[2]
    click_in(browser, '#nodes tr[data-node="%s"]' % victim.name, "Remove")
    accept_dialog(browser)
    wait_for(browser, lambda d: victim.name not in node_states(d), what="the node gone")
    wait_for(browser, lambda d: d.find_element(
        By.CSS_SELECTOR, '#servers tr[data-server="%s"] td:nth-child(3)' % victim.name).text == "no",
        what="the server shown out of the cluster")
    servers = {s["name"]: s for s in ui_cluster.whm.servers()}
    assert not servers[victim.name]["in_cluster"]
    # Changes no longer go to it; the others still answer.
    zid = rw_zone_id(ui_cluster)
    ui_cluster.add_record(zid, "after-leave", "A", "192.0.2.44")
    ui_cluster.wait_all_nodes("after-leave.rw.example.", "A", ["192.0.2.44"],
                              nodes=ui_cluster.nodes[:2])
    screenshot(browser, tmp_path, "node-removed")
    assert console_errors(browser) == []


def test_zones_are_read_a_page_at_a_time(ui_cluster, browser):
    """With more zones than a page, the list pages with Next and Previous,
    and no request of the page ever reads the whole zone list."""
    from selenium.webdriver.common.by import By

    for i in range(100):
        ui_cluster.create_zone("page%03d.example" % i, wait=False)
    sign_in_as(browser, ui_cluster.whm, ui_cluster.whm.admin_token, "admin")
    # Only this test's requests (the buffer holds 250; it may be full).
    browser.execute_script("performance.clearResourceTimings()")
    show_view(browser, "zones")
    wait_for(browser, lambda d: d.find_element(By.ID, "zones-next").is_enabled(), what="Next")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#zones tbody tr")) == 100
    assert not browser.find_elements(By.CSS_SELECTOR, '#zones tr[data-zone="page099.example"]')
    browser.find_element(By.ID, "zones-next").click()
    wait_for(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, '#zones tr[data-zone="page099.example"]'), what="the second page")
    assert "zones 101–" in browser.find_element(By.ID, "zones-more").text
    browser.find_element(By.ID, "zones-prev").click()
    wait_for(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, '#zones tr[data-zone="dashboard.example"]'), what="the first page")
    # The search box asks the controller (q=): it finds a zone on a page
    # that is not shown.
    fill(browser, "zone-filter", "page09")
    wait_for(browser, lambda d: sorted(r.get_attribute("data-zone") for r in d.find_elements(
        By.CSS_SELECTOR, "#zones tbody tr")) == ["page%03d.example" % i for i in range(90, 100)],
        what="the zones found by the search")
    fill(browser, "zone-filter", "")
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#zones tbody tr")) == 100,
             what="the first page again")
    lists = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => /\\/api\\/dns(\\?|$)/.test(n))")
    assert lists, "no zone list request seen"
    assert all("limit=100" in n for n in lists), [n for n in lists if "limit=" not in n]
    assert any("q=page09" in n for n in lists), lists
    assert console_errors(browser) == []


def test_an_admin_deletes_a_zone_and_runs_a_full_sync(ui_cluster, browser):
    from selenium.webdriver.common.by import By

    show_view(browser, "zones")
    fill(browser, "zone-filter", "page000.")
    click_zone(browser, "page000.example")
    wait_for(browser, lambda d: d.find_element(By.ID, "zone-name").text == "page000.example",
             what="the zone open")
    browser.find_element(By.ID, "zone-delete").click()
    accept_dialog(browser)
    wait_for(browser, lambda d: not d.find_elements(
        By.CSS_SELECTOR, '#zones tr[data-zone="page000.example"]'), what="the zone gone")
    assert "page000.example." not in ui_cluster.whm.zones()
    in_cluster = ui_cluster.nodes[:2]       # the third left above
    ui_cluster.wait_rcode("page000.example.", "SOA", "REFUSED", nodes=in_cluster)
    fill(browser, "zone-filter", "")

    show_view(browser, "overview")
    click_in(browser, '#nodes tr[data-node="%s"]' % in_cluster[0].name, "Full sync")
    wait_for(browser, lambda d: "done" in d.find_element(By.ID, "sync-progress").text,
             timeout=20, what="the full sync done")
    assert "Full sync of %s" % in_cluster[0].name in \
        browser.find_element(By.ID, "sync-progress").text
    assert console_errors(browser) == []


def test_a_refresh_keeps_the_keyboard_focus_on_a_nodes_button(ui_cluster, browser):
    """The node table is refreshed every 2 s; its rows are updated in place,
    so a button the keyboard is on keeps the focus (and a click that lands
    during a refresh reaches it)."""
    from selenium.webdriver.common.by import By

    sign_in_as(browser, ui_cluster.whm, ui_cluster.whm.admin_token, "admin")
    show_view(browser, "overview")
    label = "Full sync of " + ui_cluster.nodes[0].name
    button = wait_for(browser, lambda d: d.find_element(
        By.CSS_SELECTOR, '#nodes button[aria-label="%s"]' % label), what="the button")
    browser.execute_script("arguments[0].focus()", button)
    browser.execute_script("performance.clearResourceTimings()")

    # The render of the second status read is done before the third is sent.
    wait_for(browser, lambda d: sum(p == "/api/dns/cluster/status" for p in api_requests(d)) >= 3,
             what="three refreshes")
    assert browser.execute_script(
        "return document.activeElement.getAttribute('aria-label')") == label
    assert browser.execute_script("return arguments[0].isConnected", button) is True


def api_requests(driver):
    """The API paths the page asked for since the last clearResourceTimings()."""
    return driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name))"
        ".filter(u => u.pathname.startsWith('/api/')).map(u => u.pathname + u.search)")


def is_list(path):
    """A request that reads a list or a zone (what an idle page must not
    ask for again): the zone page, the servers, the totals, a zone and
    what hangs under it."""
    p = path.split("?")[0]
    return (p in ("/api/dns", "/api/dns/servers", "/api/dns/cluster/statistics")
            or p.split("/")[3:4] != [] and p.split("/")[3].isdigit())


def test_the_change_counter_moves_with_each_zone_commit_only(ui_cluster):
    whm = ui_cluster.whm
    first = whm.get("/api/dns/cluster/events?since=1000000").json()
    assert isinstance(first["changes"], int)
    time.sleep(2.5)         # health checks and status reads commit no zone
    assert whm.get("/api/dns/cluster/events?since=1000000").json()["changes"] == \
        first["changes"]
    ui_cluster.add_record(rw_zone_id(ui_cluster), "counted", "A", "192.0.2.80")
    after = whm.get("/api/dns/cluster/events?since=1000000").json()
    assert after["changes"] > first["changes"] and after["boot"] == first["boot"]


def test_an_idle_dashboard_reads_no_list_and_reads_again_after_a_change(ui_cluster, browser):
    """Nothing changed: every refresh asks only for the status and the
    events. A record added elsewhere: the zone page, the open zone and its
    records are read again, and the record shows."""
    sign_in_as(browser, ui_cluster.whm, ui_cluster.whm.admin_token, "admin")
    show_view(browser, "zones")
    click_zone(browser, RW)
    click_subtab(browser, "records")
    wait_for(browser, lambda d: record_row(d, "www", "A", "192.0.2.10"), what="records")
    time.sleep(2.5)
    browser.execute_script("performance.clearResourceTimings()")
    time.sleep(6.5)             # three refreshes, two on a busy machine
    idle = api_requests(browser)
    assert sum(p.startswith("/api/dns/cluster/events?since=") for p in idle) >= 2, idle
    assert sum(p == "/api/dns/cluster/status" for p in idle) >= 2, idle
    assert [p for p in idle if is_list(p)] == [], idle

    zid = rw_zone_id(ui_cluster)
    browser.execute_script("performance.clearResourceTimings()")
    ui_cluster.add_record(zid, "idle-check", "A", "192.0.2.77")
    wait_for(browser, lambda d: record_row(d, "idle-check", "A", "192.0.2.77"), timeout=6,
             what="the record added elsewhere")
    after = api_requests(browser)
    assert any(p.startswith("/api/dns?limit=100") for p in after), after
    assert "/api/dns/%d" % zid in after and "/api/dns/%d/records" % zid in after, after
    assert console_errors(browser) == []


def dnssec_text(driver):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, "dnssec-rollover").text


def test_an_admin_rolls_the_csk_and_confirms_the_ds(ui_cluster, browser, tmp_path):
    """Start a CSK rollover; the page offers the DS confirmation once the
    nodes hold the new key, refuses it while too early (the reason shown),
    and takes it after the wait: the rollover moves to its last step."""
    from selenium.webdriver.common.by import By

    zid = rw_zone_id(ui_cluster)
    show_view(browser, "zones")
    click_subtab(browser, "dnssec")
    wait_for(browser, lambda d: d.find_element(By.ID, "roll-csk").is_displayed(),
             what="the CSK rollover button")
    keys_before = len(ui_cluster.whm.get("/api/dns/%d/dnssec" % zid).json()["dnskey"])
    browser.find_element(By.ID, "roll-csk").click()
    wait_for(browser, lambda d: "csk rollover, step 1" in dnssec_text(d), what="step 1")
    # Once every node holds the new key, the page asks for the DS.
    wait_for(browser, lambda d: d.find_element(By.ID, "roll-ds").is_displayed(), timeout=15,
             what="the DS confirmation button")
    assert "waiting for ds" in dnssec_text(browser)
    assert not browser.find_element(By.ID, "roll-csk").is_displayed()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#dnssec-dnskey li")) == keys_before + 1
    # Too early: the DNSKEY set may not be in every cache yet.
    browser.find_element(By.ID, "roll-ds").click()
    wait_for(browser, lambda d: "too early" in d.find_element(By.ID, "dnssec-error").text,
             what="the refusal")
    assert ui_cluster.whm.get("/api/dns/%d/dnssec" % zid).json()["rollover"]["step"] == 1
    screenshot(browser, tmp_path, "zone-dnssec-rollover")
    # After the wait (the test clock moved past not_before) it is taken.
    not_before = ui_cluster.whm.get("/api/dns/%d/dnssec" % zid).json()["rollover"]["not_before"]
    ui_cluster.clock.write_text("%d\n" % (not_before - int(time.time()) + 5))
    browser.find_element(By.ID, "roll-ds").click()
    wait_for(browser, lambda d: "csk rollover, step 2" in dnssec_text(d), what="step 2")
    assert browser.find_element(By.ID, "dnssec-error").text == ""
    assert not browser.find_element(By.ID, "roll-ds").is_displayed()
    assert ui_cluster.whm.get("/api/dns/%d/dnssec" % zid).json()["rollover"]["step"] == 2
    assert console_errors(browser, [("/dnssec/rollover", 409)]) == []


def test_an_admin_unsigns_the_zone_after_two_confirmations(ui_cluster, browser, tmp_path):
    from selenium.webdriver.common.by import By

    zid = rw_zone_id(ui_cluster)
    browser.find_element(By.ID, "dnssec-unsign").click()
    accept_dialog(browser)          # "Remove the DS at the registrar first"
    accept_dialog(browser)          # the controller's 409: unsign anyway
    wait_for(browser, lambda d: d.find_element(By.ID, "dnssec-summary").text ==
             "The zone is not signed.", what="the zone unsigned")
    assert browser.find_element(By.ID, "dnssec-sign-button").is_displayed()
    assert not ui_cluster.whm.get("/api/dns/%d/dnssec" % zid).json()["enabled"]
    in_cluster = ui_cluster.nodes[:2]       # the third left above
    for n in in_cluster:
        assert harness.wait_until(lambda: not n.dig("rw.example.", "DNSKEY"), 10,
                                  interval=0.1), n.name
    screenshot(browser, tmp_path, "zone-unsigned")
    assert console_errors(browser, [("/dnssec", 409)]) == []


def test_an_admin_joins_a_server_back_and_it_catches_up(ui_cluster, browser):
    """The node removed above is still a registered server: Join puts it
    back, and it receives what changed while it was out."""
    from selenium.webdriver.common.by import By

    show_view(browser, "overview")
    node = ui_cluster.nodes[2]
    click_in(browser, '#servers tr[data-server="%s"]' % node.name, "Join")
    wait_for(browser, lambda d: node.name in node_states(d), what="the node back in the list")
    wait_for(browser, lambda d: d.find_element(
        By.CSS_SELECTOR, '#servers tr[data-server="%s"] td:nth-child(3)' % node.name).text == "yes",
        what="the server shown in the cluster")
    assert "joined" in browser.find_element(By.ID, "notice").text
    ui_cluster.wait_all_nodes("after-leave.rw.example.", "A", ["192.0.2.44"], timeout=20,
                              nodes=[node])
    assert console_errors(browser) == []


def test_an_admin_adds_a_server_after_its_agent_answers(ui_cluster, browser, tmp_path):
    """The controller asks the agent before it registers a server: a wrong
    secret is refused, the reason shown beside the secret field, and nothing
    is added; the right one adds it and joins it, and it serves the zones."""
    from selenium.webdriver.common.by import By

    node = ui_cluster.new_node("ns4")
    node.start()
    show_view(browser, "overview")
    fill(browser, "srv-name", node.name)
    fill(browser, "srv-ip", node.address)
    fill(browser, "srv-port", str(node.api_port))
    fill(browser, "srv-secret", "not-" + node.secret)
    browser.find_element(By.ID, "srv-add").click()
    err = wait_for(browser, lambda d: d.find_element(By.ID, "srv-secret-err").text,
                   what="the refusal beside the secret")
    assert "refused" in err and "agent_secret" in err, err
    assert browser.find_element(By.ID, "srv-error").text == ""
    assert node.name not in {s["name"] for s in ui_cluster.whm.servers()}
    screenshot(browser, tmp_path, "server-refused")

    fill(browser, "srv-secret", node.secret)
    browser.find_element(By.ID, "srv-add").click()
    wait_for(browser, lambda d: "added and joined" in d.find_element(By.ID, "notice").text,
             what="the server added")
    assert browser.find_element(By.ID, "srv-secret-err").text == ""
    wait_for(browser, lambda d: node.name in node_states(d), what="the new node's row")
    wait_for(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, '#servers tr[data-server="%s"]' % node.name), what="the server row")
    node.server_id = {s["name"]: s for s in ui_cluster.whm.servers()}[node.name]["id"]
    ui_cluster.wait_all_nodes("www.rw.example.", "A", ["192.0.2.10"], timeout=30, nodes=[node])
    # Its row counts its zones, deleted ones it still owes included.
    wait_for(browser, lambda d: d.find_element(
        By.CSS_SELECTOR, '#nodes tr[data-node="%s"] td[data-label="Deleting"]' % node.name
    ).text == "0", what="the Deleting count")
    assert console_errors(browser, [("/api/dns/servers", 422)]) == []


# --- the TTL of one RRset, on a page that may be out of date ------------------------

TTLZ = "ttl.example"


def ttl_rows(cluster, zid):
    """(name, type) -> [(content, ttl, routing_policy)] of the zone, from the API."""
    out = {}
    for r in cluster.whm.records(zid):
        out.setdefault((r["name"], r["type"]), []).append(
            (r["content"], r["ttl"], r["routing_policy"]))
    return {k: sorted(v) for k, v in out.items()}


def open_ttl_zone(cluster, driver, zid):
    """The zone open on its records, drawn from the version it is at now."""
    from selenium.webdriver.common.by import By
    sign_in_as(driver, cluster.whm, cluster.whm.admin_token, "admin")
    show_view(driver, "zones")
    fill(driver, "zone-filter", TTLZ)     # it may be past the first page of zones
    try:
        click_zone(driver, TTLZ)
    finally:
        fill(driver, "zone-filter", "")
    click_subtab(driver, "records")
    v = cluster.whm.zone(zid)["version"]
    wait_for(driver, lambda d: "version %d" % v in d.find_element(By.ID, "zone-meta").text and
             record_row(d, "lb", "A", "192.0.2.22"), what="the zone at version %d" % v)


@pytest.fixture(scope="module")
def ttl_zone(ui_cluster):
    """ttl.example: www A (two records), lb A steered by its records'
    weights, steer A steered by an RRset-level policy; all TTL 300."""
    c = ui_cluster
    zid = c.create_zone(TTLZ)
    c.add_record(zid, "www", "A", "192.0.2.1", ttl=300)
    c.add_record(zid, "www", "A", "192.0.2.2", ttl=300)
    c.add_record(zid, "lb", "A", "192.0.2.21", ttl=300,
                 routing_policy={"type": "weighted", "weight": 30})
    c.add_record(zid, "lb", "A", "192.0.2.22", ttl=300,
                 routing_policy={"type": "weighted", "weight": 70})
    c.whm.call("PUT", "/api/dns/%d/policies" % zid, {
        "name": "steer", "type": "A", "policy": {
            "type": "weighted", "targets": [{"target": "192.0.2.31", "weight": 1},
                                            {"target": "192.0.2.32", "weight": 3}]}})
    return zid


def test_the_ttl_button_refuses_what_is_not_a_ttl_and_sends_nothing(ui_cluster, browser,
                                                                     ttl_zone):
    """A blank answer, a fraction, an exponent, a sign or a TTL above 2^31-1
    is refused on the page with a message; no request that writes leaves it
    and the zone stays at its version. Cancel sends nothing either."""
    from selenium.webdriver.common.by import By

    c = ui_cluster
    zid = ttl_zone
    open_ttl_zone(c, browser, zid)
    before = c.whm.zone(zid)["version"]
    rows = ttl_rows(c, zid)

    # The page's prompt() answers from a list; its fetch() notes every request
    # that is not a GET.
    browser.execute_script(
        "window.__answers = []; window.__sent = [];"
        "window.__prompt = window.prompt;"
        "window.prompt = () => window.__answers.shift();"
        "const f = window.fetch;"
        "window.fetch = (p, o) => { if (o && o.method && o.method !== 'GET')"
        " window.__sent.push(o.method + ' ' + p); return f(p, o); };")
    try:
        for answer in ("", "   ", "1e3", "12.5", "-5", "+60", "0x10", "2147483648", "ten"):
            browser.execute_script("window.__answers.push(arguments[0])", answer)
            click_in(browser, '#records tbody[data-rrset="www A"]', "TTL")
            wait_for(browser, lambda d: d.find_element(By.ID, "records-error").text or
                     d.execute_script("return window.__sent.length"),
                     what="the message for %r" % answer)
            assert browser.execute_script("return window.__sent") == [], answer
            msg = browser.find_element(By.ID, "records-error").text
            assert "whole number of seconds from 0 to 2147483647" in msg, (answer, msg)
            assert "nothing was changed" in msg, msg
        browser.execute_script("window.__answers.push(null)")        # Cancel
        click_in(browser, '#records tbody[data-rrset="www A"]', "TTL")
        wait_for(browser, lambda d: d.execute_script("return window.__answers.length") == 0,
                 what="the prompt answered")
        time.sleep(0.5)
        assert browser.execute_script("return window.__sent") == []
        assert browser.find_element(By.ID, "records-error").text == ""
    finally:
        browser.execute_script("window.prompt = window.__prompt")
    assert c.whm.zone(zid)["version"] == before
    assert ttl_rows(c, zid) == rows
    assert console_errors(browser) == []


def test_the_ttl_button_on_a_page_read_before_a_change_changes_nothing(ui_cluster, browser,
                                                                       ttl_zone):
    """The page is read; another user adds a record while the TTL prompt is
    open. The change is refused (ifVersion), the page says so and shows the
    zone as it is, the record added meanwhile included; nothing changed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    c = ui_cluster
    zid = ttl_zone
    open_ttl_zone(c, browser, zid)
    click_in(browser, '#records tbody[data-rrset="www A"]', "TTL")
    alert = WebDriverWait(browser, 5).until(EC.alert_is_present())
    # Behind the page's back, while its prompt is open.
    c.add_record(zid, "other", "A", "192.0.2.50", ttl=300)
    rows = ttl_rows(c, zid)
    version = c.whm.zone(zid)["version"]
    alert.send_keys("600")
    alert.accept()
    msg = wait_for(browser, lambda d: d.find_element(By.ID, "records-error").text,
                   what="the conflict message")
    assert "zone changed since this page read it" in msg and "www A was not changed" in msg, msg
    assert "version %d" % version in msg, msg
    wait_for(browser, lambda d: record_row(d, "other", "A", "192.0.2.50"),
             what="the page read again, with the record added meanwhile")
    assert c.whm.zone(zid)["version"] == version
    assert ttl_rows(c, zid) == rows
    assert console_errors(browser, [("/api/dns/%d/" % zid, 409)]) == []


def test_the_ttl_button_changes_one_rrset_and_keeps_every_policy(ui_cluster, browser, ttl_zone):
    """On a page that is up to date, the TTL of www A changes on both its
    records and on every node, and nothing else: the record another user
    added stays, the per-record policies of lb A and the RRset-level policy
    of steer A stay. The TTL of lb A, steered by its records' policies,
    changes too and its records keep their weights."""
    from selenium.webdriver.common.by import By

    c = ui_cluster
    zid = ttl_zone
    if ("other", "A") not in ttl_rows(c, zid):     # the test above did not run
        c.add_record(zid, "other", "A", "192.0.2.50", ttl=300)
    open_ttl_zone(c, browser, zid)
    wait_for(browser, lambda d: record_row(d, "other", "A", "192.0.2.50"), what="other A")
    policies = c.whm.get("/api/dns/%d/policies" % zid).json()
    assert {(p["name"], p["per_record"]) for p in policies} == {("lb", True), ("steer", False)}
    rows = ttl_rows(c, zid)

    click_in(browser, '#records tbody[data-rrset="www A"]', "TTL")
    accept_dialog(browser, "600")
    wait_for(browser, lambda d: d.find_element(
        By.CSS_SELECTOR, '#records tbody[data-rrset="www A"] td.num span').text == "600",
        what="TTL 600 shown")
    assert "TTL of www A is now 600" in browser.find_element(By.ID, "notice").text
    assert browser.find_element(By.ID, "records-error").text == ""
    want = dict(rows)
    want[("www", "A")] = [("192.0.2.1", 600, None), ("192.0.2.2", 600, None)]
    assert ttl_rows(c, zid) == want
    assert c.whm.get("/api/dns/%d/policies" % zid).json() == policies
    harness.wait_until(lambda: all(node_ttl(n, "www.ttl.example.", "A") == [600]
                                   for n in c.nodes), 10, interval=0.1)
    assert {n.name: node_ttl(n, "www.ttl.example.", "A") for n in c.nodes} == \
        {n.name: [600] for n in c.nodes}

    click_in(browser, '#records tbody[data-rrset="lb A"]', "TTL")
    accept_dialog(browser, "120")
    wait_for(browser, lambda d: d.find_element(
        By.CSS_SELECTOR, '#records tbody[data-rrset="lb A"] td.num span').text == "120",
        what="TTL 120 shown")
    want[("lb", "A")] = [("192.0.2.21", 120, {"type": "weighted", "weight": 30}),
                         ("192.0.2.22", 120, {"type": "weighted", "weight": 70})]
    assert ttl_rows(c, zid) == want
    assert c.whm.get("/api/dns/%d/policies" % zid).json() == policies
    assert console_errors(browser) == []


def test_an_edit_of_a_steered_record_keeps_its_policy(ui_cluster, browser, ttl_zone):
    """The record form saves a record of lb A (steered by its records'
    weights) with its weight: a new address, the same policy."""
    from selenium.webdriver.common.by import By

    c = ui_cluster
    zid = ttl_zone
    open_ttl_zone(c, browser, zid)
    click_in(browser, '#records tr[data-record="lb A 192.0.2.22"]', "Edit")
    fill(browser, "rec-content", "192.0.2.23")
    browser.find_element(By.ID, "rec-save").click()
    wait_for(browser, lambda d: record_row(d, "lb", "A", "192.0.2.23"), what="the edited record")
    lb = sorted((r["content"], r["routing_policy"]) for r in c.whm.records(zid)
                if r["name"] == "lb")
    assert lb == [("192.0.2.21", {"type": "weighted", "weight": 30}),
                  ("192.0.2.23", {"type": "weighted", "weight": 70})], lb
    # back as the other tests of the zone find it
    moved = next(r for r in c.whm.records(zid) if r["content"] == "192.0.2.23")
    c.whm.call("PUT", "/api/dns/records/%d" % moved["id"], {
        "name": "lb", "type": "A", "content": "192.0.2.22", "ttl": moved["ttl"],
        "routing_policy": {"type": "weighted", "weight": 70}}, expect=200)


# --- what the page shows when it cannot trust what it shows ------------------------


def open_dashboard(driver, whm, tok, role_text):
    """The dashboard of controller 'whm' loaded afresh and signed in with 'tok'."""
    from selenium.webdriver.common.by import By
    driver.get(whm.url + "/ui/")
    wait_for(driver, lambda d: d.find_element(By.ID, "signin").is_displayed(), what="sign-in form")
    driver.find_element(By.ID, "token").send_keys(tok)
    driver.find_element(By.ID, "signin-button").click()
    wait_for(driver, lambda d: d.find_element(By.ID, "role").text == role_text, timeout=20,
             what="role %s" % role_text)


@pytest.fixture
def other_controller(browser):
    """A test that opens another controller's dashboard leaves the browser
    on a blank page, so the next test loads the shared cluster's again."""
    yield
    browser.get("about:blank")
    browser.get_log("browser")


def page_holds(driver, text):
    """Whether 'text' is anywhere in the page: its markup, or the value of a field."""
    return driver.execute_script(
        "const t = arguments[0];"
        "return document.documentElement.outerHTML.includes(t) ||"
        " Array.from(document.querySelectorAll('input, textarea, select'))"
        "      .some(e => e.value.includes(t));", text)


def banner_text(driver):
    from selenium.webdriver.common.by import By
    b = driver.find_element(By.ID, "banner")
    return b.text if b.is_displayed() else ""


def test_a_sign_out_leaves_nothing_for_the_next_token(ui_cluster, browser):
    """A token made on the page, then a sign-out and a read token in the
    same tab: the new admin token is nowhere in the page, nor its view."""
    from selenium.webdriver.common.by import By

    whm = ui_cluster.whm
    sign_in_as(browser, whm, whm.admin_token, "admin")
    show_view(browser, "tokens")
    fill(browser, "tok-name", "made-before-sign-out")
    fill(browser, "tok-role", "admin")
    browser.find_element(By.ID, "tok-create").click()
    made = wait_for(browser, lambda d: d.find_element(By.ID, "token-value").get_attribute("value"),
                    what="the new token")
    try:
        assert page_holds(browser, made)
        browser.find_element(By.ID, "signout").click()
        wait_for(browser, lambda d: d.find_element(By.ID, "signin").is_displayed(),
                 what="sign-in form")
        assert not page_holds(browser, made)
        browser.find_element(By.ID, "token").send_keys(whm.read_token)
        browser.find_element(By.ID, "signin-button").click()
        wait_for(browser, lambda d: d.find_element(By.ID, "role").text == "read only",
                 what="read only")
        time.sleep(2.5)                 # a refresh, and the views drawn again
        assert not page_holds(browser, made)
        assert not browser.find_element(By.ID, "view-tokens").is_displayed()
        assert not browser.find_element(By.ID, "token-once").is_displayed()
        assert browser.find_elements(By.CSS_SELECTOR, "#tokens tbody tr") == []
        # the read token asks for the tokens view by hand: it is not shown
        browser.execute_script(
            "document.querySelector('#nav button[data-view=\"tokens\"]').click()")
        time.sleep(0.5)
        assert not browser.find_element(By.ID, "view-tokens").is_displayed()
        assert console_errors(browser) == []
    finally:
        for t in whm.call("GET", "/api/dns/tokens", expect=200):
            if t["name"] == "made-before-sign-out" and not t["revoked"]:
                whm.call("DELETE", "/api/dns/tokens/%d" % t["id"], expect=200)


def test_a_first_read_that_fails_at_load_is_shown_and_tried_again(ui_cluster, browser):
    """The page loads with a token in the tab but its first request fails
    (here refused by the browser): the page says so, and shows the cluster
    by itself once the request goes through."""
    from selenium.webdriver.common.by import By

    sign_in_as(browser, ui_cluster.whm, ui_cluster.whm.read_token, "read only")
    browser.execute_cdp_cmd("Network.enable", {})
    try:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/dns/tokens*"]})
        browser.refresh()
        wait_for(browser, lambda d: "Cannot reach the controller" in d.find_element(
            By.TAG_NAME, "body").text, timeout=15, what="the error shown")
        assert not browser.find_element(By.ID, "app").is_displayed()
        time.sleep(4)                   # a retry, refused as well: still said
        assert "Cannot reach the controller" in browser.find_element(By.TAG_NAME, "body").text
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        wait_for(browser, lambda d: d.find_element(By.ID, "app").is_displayed() and
                 d.find_element(By.ID, "role").text == "read only" and node_states(d),
                 timeout=20, what="the cluster shown after the retry")
        assert "Cannot reach the controller" not in browser.find_element(By.TAG_NAME, "body").text
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        browser.execute_cdp_cmd("Network.disable", {})
        browser.get_log("browser")      # the refused requests


def test_a_hung_controller_is_shown_as_not_answering(cluster_factory, browser, other_controller,
                                                     tmp_path):
    """A controller that stops answering (SIGSTOP): within seconds the page
    says since when it shows old data and no node stays green; once it
    answers again, the page is current again by itself."""
    from selenium.webdriver.common.by import By

    c = cluster_factory(n=1)
    open_dashboard(browser, c.whm, c.whm.read_token, "read only")
    node = c.nodes[0].name
    wait_for(browser, lambda d: node_states(d).get(node) == "online", timeout=20,
             what="the node online")
    harness.sigstop(c.whm.proc.pid)
    try:
        started = time.monotonic()
        text = wait_for(browser, lambda d: "has not answered since" in banner_text(d) and
                        banner_text(d), timeout=15, what="the banner saying the page is old")
        took = time.monotonic() - started
        assert "what is shown is from then" in text, text
        assert node_states(browser) == {node: "unknown"}
        row = browser.find_element(By.CSS_SELECTOR, '#nodes tr[data-node="%s"]' % node)
        colour = row.find_element(By.CLASS_NAME, "badge").value_of_css_property("background-color")
        assert "26, 127, 55" not in colour, colour           # not --ok green
        assert "(old)" in browser.find_element(By.ID, "refreshed").text
        screenshot(browser, tmp_path, "controller-hung")
        print("shown as old %.1f s after SIGSTOP" % took)
        time.sleep(3)                   # still so while the controller is stopped
        assert "has not answered since" in banner_text(browser)
        assert node_states(browser) == {node: "unknown"}
    finally:
        os.kill(c.whm.proc.pid, signal.SIGCONT)
    wait_for(browser, lambda d: banner_text(d) == "" and node_states(d) == {node: "online"},
             timeout=30, what="the page current again")
    assert "(old)" not in browser.find_element(By.ID, "refreshed").text


def test_a_failing_catalog_and_a_secondary_zone_retrying_show_on_the_overview(
        cluster_factory, browser, other_controller, tmp_path):
    """GET /api/dns/cluster/status reports the catalog zone and the
    secondary zones: both show on the overview, marked bad when the catalog
    cannot be brought up to date or a secondary zone's primary stops
    answering, with the zone and its error as text."""
    import sqlite3
    from selenium.webdriver.common.by import By

    catalog = "catalog.test."
    zone = "retrying-ui.example."
    c = cluster_factory(n=1, whm_config={"catalog-zone": catalog})
    primary, zid = bind_secondary(c, tmp_path, zone)
    try:
        open_dashboard(browser, c.whm, c.whm.read_token, "read only")

        def tile(d, tid):
            t = d.find_element(By.ID, tid)
            parent = t.find_element(By.XPATH, "..")
            return t.text, "bad" in parent.get_attribute("class").split()
        wait_for(browser, lambda d: tile(d, "t-catalog") == ("ok", False) and
                 tile(d, "t-secondary") == ("1 / 1", False), timeout=15,
                 what="the catalog and the secondary zone ok")
        assert "up to date" in browser.find_element(By.ID, "catalog-status").text

        # the primary stops answering: the zone is retrying
        primary.stop()
        assert c.whm.post("/api/dns/%d/retrieve" % zid).status_code == 202
        # the store refuses the catalog's records: each pass fails
        cid = c.whm.zones()[catalog]["id"]
        con = sqlite3.connect(c.whm.store_path, timeout=10)
        try:
            con.execute("CREATE TRIGGER fault BEFORE INSERT ON dns_records WHEN NEW.zone_id = %d "
                        "BEGIN SELECT RAISE(ABORT, 'catalog rows refused'); END" % cid)
            con.commit()
        finally:
            con.close()
        c.create_zone("member.test")

        wait_for(browser, lambda d: tile(d, "t-catalog") == ("failing", True), timeout=20,
                 what="the catalog shown failing")
        status = browser.find_element(By.ID, "catalog-status").text
        error = c.whm.call("GET", "/api/dns/cluster/status", expect=200)["catalog"]["lastError"]
        assert "failing" in status and error in status, (error, status)
        wait_for(browser, lambda d: tile(d, "t-secondary") == ("0 / 1", True), timeout=20,
                 what="the secondary zone shown not ok")
        item = wait_for(browser, lambda d: d.find_element(
            By.CSS_SELECTOR, '#secondary-attention li[data-zone="%s"]' % zone), what="the zone listed")
        assert item.get_attribute("data-state") == "retrying"
        error = c.whm.zone(zid)["secondary"]["last_error"]
        assert error and error in item.text, (error, item.text)
        assert "retrying" in browser.find_element(By.ID, "secondary-status").text
        assert browser.find_element(By.ID, "zone-health").is_displayed()
        screenshot(browser, tmp_path, "catalog-and-secondary-failing")
        assert console_errors(browser) == []
    finally:
        primary.stop()
