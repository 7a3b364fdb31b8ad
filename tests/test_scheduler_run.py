"""End to end: `notifier run` with a short scan interval sends one ship-by reminder by itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from notifier.redis_server import free_port
from tests.factories import event
from tests.standins import SendGridStandin

API_KEY = "e2e-key-0123456789"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def sendgrid() -> Iterator[SendGridStandin]:
    with SendGridStandin() as standin:
        yield standin


@pytest.fixture
def notifier_run(tmp_path: Path, sendgrid: SendGridStandin) -> Iterator[str]:
    """`notifier run` scanning every second; yields its base URL."""
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
        "NOTIFIER_SCAN_INTERVAL": "1",
    }
    env.pop("NOTIFIER_REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "notifier.cli", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: process.poll() is None and _ready(base), 30, "notifier run to be ready")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_notifier_run_sends_exactly_one_ship_by_reminder(
    notifier_run: str, sendgrid: SendGridStandin, tmp_path: Path
) -> None:
    # Given a label created five days ago, to be shipped by tomorrow (Amsterdam time)
    now = datetime.now(UTC)
    tomorrow = (now.astimezone(ZoneInfo("Europe/Amsterdam")) + timedelta(days=1)).date()
    body = event("return.label_created", "evt-label", occurred_at=_iso(now - timedelta(days=5)))
    body["return"]["ship_by"] = tomorrow.isoformat()
    body["return"]["label"]["expires_at"] = None

    # When it is posted to the running service, which scans every second
    answer = httpx.post(f"{notifier_run}/v1/events", json=body, headers=AUTH, timeout=10)
    assert answer.status_code == 202
    _wait(lambda: len(_reminders(notifier_run, "sent")) == 2, 20, "the reminder to be sent")
    time.sleep(3)  # three more scans

    # Then exactly one reminder went out, by email and by SMS, and both are in the timeline
    reminders = _reminders(notifier_run)
    assert sorted((n["channel"], n["status"]) for n in reminders) == [
        ("email", "sent"),
        ("sms", "sent"),
    ]
    assert len({n["rule"] for n in reminders}) == 1
    subjects = [m["subject"] for m in sendgrid.mails]
    assert len(subjects) == 2  # the label email and the one reminder
    sms = (tmp_path / "var" / "outbox" / "sms.jsonl").read_text().splitlines()
    assert len([json.loads(line) for line in sms]) == 2
    detail = httpx.get(f"{notifier_run}/v1/returns/RMA-1001", headers=AUTH, timeout=10).json()
    assert [t["type"] for t in detail["timeline"]] == ["return.label_created", "reminder.ship_by"]


def _reminders(base: str, status: str | None = None) -> list[Any]:
    query = "?return_id=RMA-1001" + (f"&status={status}" if status else "")
    page = httpx.get(f"{base}/v1/notifications{query}", headers=AUTH, timeout=10).json()
    return [n for n in page["notifications"] if n["kind"] == "reminder.ship_by"]


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()
