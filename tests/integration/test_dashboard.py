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

import harness
from cluster import Cluster

pytest_plugins = ["cluster_fixtures"]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = os.path.join(harness.BUILD, "screenshots")


@pytest.fixture(scope="module")
def ui_cluster(tmp_path_factory):
    # None drops the test harness's fast timer: the controller's default
    # health interval applies.
    c = Cluster(tmp_path_factory.mktemp("dashboard"), n=3, start=False,
                whm_config={"health-interval-ms": None})
    try:
        c.start()
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert os.access(CHROMIUM, os.X_OK), "chromium is not installed (scripts/deps.sh installs it)"
    assert os.access(CHROMEDRIVER, os.X_OK), "chromium-driver is not installed"
    profile = tmp_path_factory.mktemp("chromium-profile")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                "--user-data-dir=%s" % profile):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


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
    row = wait_for(signed_in, lambda d: d.find_element(
        By.CSS_SELECTOR, '#zones tbody tr[data-zone="dashboard.example"]'), what="zone row")
    cells = row.find_elements(By.TAG_NAME, "td")
    assert cells[3].text == "unsigned"
    row.click()
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


def test_an_international_zone_shows_its_unicode_and_ascii_names(ui_cluster, signed_in,
                                                                tmp_path):
    from selenium.webdriver.common.by import By

    zid = ui_cluster.create_zone("b\u00fccher-ui.example")
    ui_cluster.add_record(zid, "stra\u00dfe", "A", "192.0.2.82")
    row = wait_for(signed_in, lambda d: d.find_element(
        By.CSS_SELECTOR, '#zones tbody tr[data-zone="xn--bcher-ui-65a.example"]'),
        what="zone row")
    name = row.find_elements(By.TAG_NAME, "td")[0]
    assert name.text.split() == ["b\u00fccher-ui.example", "xn--bcher-ui-65a.example"], name.text
    # The filter finds it by either name.
    box = signed_in.find_element(By.ID, "zone-filter")
    for text in ("b\u00fccher-ui", "xn--bcher"):
        box.clear()
        box.send_keys(text)
        wait_for(signed_in, lambda d: d.find_elements(
            By.CSS_SELECTOR, '#zones tbody tr[data-zone="xn--bcher-ui-65a.example"]'),
            what="filtered row %r" % text)
    row = signed_in.find_element(
        By.CSS_SELECTOR, '#zones tbody tr[data-zone="xn--bcher-ui-65a.example"]')
    row.click()
    wait_for(signed_in, lambda d: d.find_element(By.ID, "zone-name").text ==
             "b\u00fccher-ui.example (xn--bcher-ui-65a.example)", what="zone title")
    rec = wait_for(signed_in, lambda d: d.find_element(
        By.CSS_SELECTOR, '#records tbody tr[data-record="xn--strae-oqa A 192.0.2.82"]'),
        what="the record")
    assert rec.find_elements(By.TAG_NAME, "td")[0].text.split() == [
        "stra\u00dfe", "xn--strae-oqa"]
    box.clear()
    assert console_errors(signed_in) == []
    screenshot(signed_in, tmp_path, "idn")


def test_a_stopped_agent_shows_as_down_within_seconds(ui_cluster, signed_in, tmp_path):
    from selenium.webdriver.common.by import By

    victim = ui_cluster.nodes[1]
    wait_for(signed_in, lambda d: node_states(d).get(victim.name) == "online",
             what="%s online first" % victim.name)
    victim.proc.send_signal(signal.SIGSTOP)
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
