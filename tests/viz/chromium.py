"""What the browser tests do with a page: open it from file://, read its console errors."""

from __future__ import annotations

from pathlib import Path


def open_page(browser: object, path: Path) -> None:
    """Load ``path`` from a file:// URL, after dropping the log of earlier pages."""
    browser.get_log("browser")
    browser.get(path.resolve().as_uri())


def console_errors(browser: object) -> list[str]:
    """The messages of severity SEVERE the page has logged since the last call."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
