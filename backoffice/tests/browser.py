"""Playwright on Debian's chromium for the browser tests: no browser download, no background traffic.

Screenshots go to .data/screenshots/<test name>/ (BROWSER_SCREENSHOTS overrides), one per page
visited, numbered in order, for a person to look through.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-pings",
    "--dns-prefetch-disable",
]


def screenshots_dir(test_name: str) -> Path:
    base = Path(os.environ.get("BROWSER_SCREENSHOTS", settings.BASE_DIR / ".data" / "screenshots"))
    folder = base / re.sub(r"[^\w.-]+", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


@contextmanager
def chromium_browser() -> Iterator[object]:
    """A headless chromium, or a failed test that says how to install it (never a skip)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Debian's chromium is not at {CHROMIUM}: run `make chromium` "
            "(apt-get update && apt-get install -y chromium) or set CHROMIUM to its path."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
