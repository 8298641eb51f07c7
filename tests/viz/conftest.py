"""A real browser for the HTML pages: Debian's chromium, driven headless by selenium.

The driver is the system's chromedriver (``/usr/bin/chromedriver``, Debian's
``chromium-driver``), handed to selenium by path so that Selenium Manager never runs
and nothing is downloaded. Without chromium the browser tests skip, except in CI
(CI=true), which installs it, where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,900",
)


def _program(*names: str) -> str | None:
    return next((path for name in names if (path := shutil.which(name))), None)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{reason}; CI installs chromium and chromium-driver and requires them")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A headless chromium session (selenium WebDriver) with a fresh profile."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install -e .[dev])")
    chromium = _program("chromium", "chromium-browser")
    driver_path = _program("chromedriver")
    if chromium is None or driver_path is None:
        _unavailable("chromium or chromedriver missing: apt-get install chromium chromium-driver")
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: Selenium Manager may not download
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tmp_path_factory.mktemp("chromium-profile")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
