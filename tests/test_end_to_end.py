"""End to end: `notifier run` as a user starts it, the CONTRACT example posted over HTTP,
the email read at a loopback stand-in of SendGrid that the real SDK called."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from notifier.openapi import EXAMPLE_EVENT
from notifier.redis_server import free_port
from tests.standins import SendGridStandin

API_KEY = "e2e-key-0123456789"


@pytest.fixture
def sendgrid() -> Iterator[SendGridStandin]:
    with SendGridStandin() as standin:
        yield standin


def _start(tmp_path: Path, sendgrid: SendGridStandin) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "NOTIFIER_PORT": str(port),
        "NOTIFIER_DATA_DIR": str(tmp_path / "var"),
        "NOTIFIER_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'notifier.db'}",
        "NOTIFIER_API_KEYS": f"shop:{API_KEY}",
        "NOTIFIER_SENDGRID_API_KEY": "SG.test-key",
        "NOTIFIER_SENDGRID_BASE_URL": sendgrid.base_url,
        "NOTIFIER_EMAIL_FROM": "Winkel Retouren <retouren@example.nl>",
        "NOTIFIER_QUIET_HOURS": "off",
    }
    env.pop("NOTIFIER_REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "notifier.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            process.stdout.close() if process.stdout else None
            raise AssertionError(f"notifier run exited early:\n{output}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    process.wait(timeout=10)
    output = process.stdout.read().decode() if process.stdout else ""
    raise AssertionError(f"notifier run did not become ready within 30 s:\n{output}")


def test_the_contract_example_reaches_the_customer_by_email(
    tmp_path: Path, sendgrid: SendGridStandin
) -> None:
    process, base = _start(tmp_path, sendgrid)
    try:
        answer = httpx.post(
            f"{base}/v1/events",
            json=EXAMPLE_EVENT,
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=10,
        )
        assert answer.status_code == 202
        deadline = time.monotonic() + 20
        while not sendgrid.mails and time.monotonic() < deadline:
            time.sleep(0.1)

        [mail] = sendgrid.mails
        assert mail["personalizations"][0]["to"][0]["email"] == "sanne@example.nl"
        assert mail["from"]["email"] == "retouren@example.nl"
        parts = {c["type"]: c["value"] for c in mail["content"]}
        assert "€ 49,95" in parts["text/plain"]
        assert "text/html" in parts

        detail = httpx.get(
            f"{base}/v1/returns/RMA-1001",
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=10,
        ).json()
        [email_note] = [n for n in detail["notifications"] if n["channel"] == "email"]
        assert email_note["status"] == "sent"
        assert email_note["recipient"] == "s***@example.nl"
        assert email_note["provider_message_id"]
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
