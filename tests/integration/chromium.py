"""Headless Chromium under Selenium, as the dashboard's tests and the
dashboard bench (bench/run.py) start it: Debian's chromium and
chromium-driver (scripts/deps.sh installs them), a profile of its own, no
sandbox (the tests run as root), nothing that talks to the network on its
own."""

import os

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def start(profile, logs, page_load_timeout):
    """A driver with its profile in the directory 'profile' that keeps the
    log 'logs' names ("browser" for the console, "performance" for DevTools'
    network events); the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert os.access(CHROMIUM, os.X_OK), "chromium is not installed (scripts/deps.sh installs it)"
    assert os.access(CHROMEDRIVER, os.X_OK), "chromium-driver is not installed"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                "--user-data-dir=%s" % profile):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {logs: "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(page_load_timeout)
    return driver
