"""What the console's tests share: the browser to drive, signing in, screenshots.

The browser is Debian's ``chromium`` (installed by ``scripts/browser``), or the binary
``NOTIFIER_CHROMIUM`` names, driven by Playwright. A missing browser fails the tests with a
message; it never skips them. Set ``NOTIFIER_SCREENSHOTS`` to a folder to keep a screenshot
of every page the tests pass through, at desktop and phone width.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from notifier.service import Service

#: The staff token of the tests' ``settings`` (tests/conftest.py).
STAFF_TOKEN = "staff:staff-token-0123456789"
#: Chromium's switches for this machine: no sandbox as root, no network of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    """The Chromium binary to drive; fails the test with what to do when there is none."""
    named = os.environ.get("NOTIFIER_CHROMIUM")
    found = named or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not Path(found).exists():
        pytest.fail(
            "no Chromium for the browser tests: run scripts/browser (apt-get install "
            "chromium, as root) or set NOTIFIER_CHROMIUM to a Chromium binary",
            pytrace=False,
        )
    return found


@dataclass
class Live:
    """The service, served over HTTP on loopback."""

    service: Service
    url: str


def sign_in(page: Page, live: Live, token: str = STAFF_TOKEN) -> None:
    """Sign in through the sign-in page, as a staff member would."""
    page.goto(f"{live.url}/staff/sign-in")
    page.get_by_label(re.compile("Medewerkerstoken|Staff token")).fill(token)
    page.get_by_role("button", name=re.compile("Inloggen|Sign in")).click()
    page.wait_for_url(re.compile(r"/staff(\?.*)?$|/staff/"))


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of the page at desktop and phone width, if NOTIFIER_SCREENSHOTS
    names a folder."""
    folder = os.environ.get("NOTIFIER_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    _capture(page, DESKTOP, f"{folder}/{name}-desktop.png")
    _capture(page, PHONE, f"{folder}/{name}-phone.png")
    page.set_viewport_size(DESKTOP)


def _capture(page: Page, size: dict[str, int], path: str) -> None:
    """A full-page screenshot at ``size``'s width. The viewport is made as tall as the page
    first: Chromium paints a sandboxed frame (an email preview) only within the viewport."""
    page.set_viewport_size(size)
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    # Let Chromium paint the new width first: a table in a scroll box came out blank without.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    if page.locator("iframe").count():
        page.wait_for_timeout(300)
    page.screenshot(path=path, full_page=True)


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)
