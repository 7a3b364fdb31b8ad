"""Fixtures of the console's tests: a live server on loopback and a real Chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from notifier.http import create_app
from notifier.queue import free_port
from notifier.service import Service
from tests.http.staff.support import CHROMIUM_ARGS, DESKTOP, STAFF_TOKEN, Live, chromium_path


# Package-scoped, not session-scoped: while Playwright's sync API is started it keeps an
# event loop running in the main thread, and every later test calling asyncio.run() would
# fail; it ends with the console's tests.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@contextmanager
def serve(service: Service) -> Iterator[Live]:
    """``service``'s application served by uvicorn on a free loopback port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the console's server did not start")
        time.sleep(0.02)
    try:
        yield Live(service, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live(service: Service) -> Iterator[Live]:
    with serve(service) as served:
        yield served


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="nl-NL")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def signed_in_client(client: TestClient) -> TestClient:
    answer = client.post("/staff/sign-in", data={"token": STAFF_TOKEN, "next": "/staff"})
    assert answer.status_code == 303, answer.text
    return client
