"""`notifier run` as a user starts it, as a child process of a test."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from notifier.queue import free_port

#: The API key the started service accepts.
API_KEY = "e2e-key-0123456789"
#: The header that carries it.
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@contextmanager
def notifier_run(tmp_path: Path, sendgrid_url: str, **env: str) -> Iterator[str]:
    """Start `notifier run` (embedded Redis, SQLite, SendGrid at ``sendgrid_url``).

    Yields the service's base URL once /readyz answers; extra ``NOTIFIER_*`` settings come in
    as keyword arguments without the prefix (``SCAN_INTERVAL="1"``).
    """
    port = free_port()
    settings = {
        "NOTIFIER_PORT": str(port),
        "NOTIFIER_DATA_DIR": str(tmp_path / "var"),
        "NOTIFIER_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'notifier.db'}",
        "NOTIFIER_API_KEYS": f"shop:{API_KEY}",
        "NOTIFIER_SENDGRID_API_KEY": "SG.test-key",
        "NOTIFIER_SENDGRID_BASE_URL": sendgrid_url,
        "NOTIFIER_EMAIL_FROM": "Winkel Retouren <retouren@example.nl>",
        "NOTIFIER_QUIET_HOURS": "off",
        **{f"NOTIFIER_{name}": value for name, value in env.items()},
    }
    environ = {k: v for k, v in os.environ.items() if k != "NOTIFIER_REDIS_URL"}
    log = tmp_path / "notifier-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "notifier.cli", "run"],
            env={**environ, **settings},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(base, process, log), 30, "notifier run to be ready")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
    # A SIGTERM is a clean stop: workers and the embedded Redis are stopped, exit status 0.
    assert process.returncode == 0, log.read_text()
    found = re.search(r"embedded Redis listening on 127\.0\.0\.1:(\d+)", log.read_text())
    assert found, log.read_text()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(found[1]))) != 0, "embedded Redis left running"


def _ready(base: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"notifier run exited early:\n{log.read_text()}")
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``condition`` every 0.1 s; fail the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
