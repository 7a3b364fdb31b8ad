"""End to end: `notifier run` with a short scan interval sends one ship-by reminder by itself."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.factories import event
from tests.running import AUTH, notifier_run, wait_for
from tests.standins import SendGridStandin


@pytest.fixture
def sendgrid() -> Iterator[SendGridStandin]:
    with SendGridStandin() as standin:
        yield standin


@pytest.fixture
def running(tmp_path: Path, sendgrid: SendGridStandin) -> Iterator[str]:
    """`notifier run` scanning every second; yields its base URL."""
    with notifier_run(tmp_path, sendgrid.base_url, SCAN_INTERVAL="1") as base:
        yield base


def test_notifier_run_sends_exactly_one_ship_by_reminder(
    running: str, sendgrid: SendGridStandin, tmp_path: Path
) -> None:
    # Given a label created five days ago, to be shipped by tomorrow (Amsterdam time)
    now = datetime.now(UTC)
    tomorrow = (now.astimezone(ZoneInfo("Europe/Amsterdam")) + timedelta(days=1)).date()
    body = event("return.label_created", "evt-label", occurred_at=_iso(now - timedelta(days=5)))
    body["return"]["ship_by"] = tomorrow.isoformat()
    body["return"]["label"]["expires_at"] = None

    # When it is posted to the running service, which scans every second
    answer = httpx.post(f"{running}/v1/events", json=body, headers=AUTH, timeout=10)
    assert answer.status_code == 202
    wait_for(lambda: len(_reminders(running, "sent")) == 2, 20, "the reminder to be sent")
    time.sleep(3)  # three more scans

    # Then exactly one reminder went out, by email and by SMS, and both are in the timeline
    reminders = _reminders(running)
    assert sorted((n["channel"], n["status"]) for n in reminders) == [
        ("email", "sent"),
        ("sms", "sent"),
    ]
    assert len({n["rule"] for n in reminders}) == 1
    subjects = [m["subject"] for m in sendgrid.mails]
    assert len(subjects) == 2  # the label email and the one reminder
    sms = (tmp_path / "var" / "outbox" / "sms.jsonl").read_text().splitlines()
    assert len([json.loads(line) for line in sms]) == 2
    detail = httpx.get(f"{running}/v1/returns/RMA-1001", headers=AUTH, timeout=10).json()
    assert [t["type"] for t in detail["timeline"]] == ["return.label_created", "reminder.ship_by"]


def _reminders(base: str, status: str | None = None) -> list[Any]:
    query = "?return_id=RMA-1001" + (f"&status={status}" if status else "")
    page = httpx.get(f"{base}/v1/notifications{query}", headers=AUTH, timeout=10).json()
    return [n for n in page["notifications"] if n["kind"] == "reminder.ship_by"]


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()
