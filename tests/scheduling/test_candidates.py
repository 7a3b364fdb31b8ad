"""What the scheduler reads about its candidates, and how the databases find it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from notifier import db
from notifier.scheduling.agenda import Agenda
from notifier.scheduling.candidates import Candidates
from notifier.service import Service
from tests.plans import plan, recorded

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _notification(n: int, return_id: str, status: str, kind: str, at: datetime) -> dict[str, Any]:
    return {
        "id": f"ntf_{n}",
        "source": f"event:{n}",
        "return_id": return_id,
        "customer_id": "C-1",
        "kind": kind,
        "channel": "email",
        "recipient": "sanne@example.nl",
        "locale": "nl",
        "timezone": "Europe/Amsterdam",
        "status": status,
        "attempts": 0,
        "dead": False,
        "created_at": at,
        "updated_at": at,
        "sent_at": at if status == "sent" else None,
    }


def test_last_told_is_the_latest_customer_message_that_went_or_will_go(service: Service) -> None:
    # Given a return with a sent email, a later staff alert and a later skipped email, and
    # another return with only a failed one
    rows = [
        _notification(1, "RMA-1", "sent", "return.approved", T0),
        _notification(2, "RMA-1", "sent", "staff.stale_return", T0 + timedelta(hours=1)),
        _notification(3, "RMA-1", "skipped", "return.label_created", T0 + timedelta(hours=2)),
        _notification(4, "RMA-2", "failed", "return.approved", T0),
    ]
    with service.engine.begin() as connection:
        connection.execute(insert(db.notifications), rows)
    candidates = Candidates(
        service.engine, Agenda(service.engine), page_size=10, default_timezone="Europe/Amsterdam"
    )

    # When the scheduler asks when each was last told
    with service.engine.connect() as connection:
        told = candidates.last_told(connection, ["RMA-1", "RMA-2", "RMA-3"])

    # Then only the sent customer email counts
    assert told == {"RMA-1": T0}


# PostgreSQL's plans for a few rows say nothing about its plans for many: SQLite's do.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_last_told_reads_only_the_messages_of_its_returns(service: Service) -> None:
    # Given the scheduler's reads of candidates
    candidates = Candidates(
        service.engine, Agenda(service.engine), page_size=10, default_timezone="Europe/Amsterdam"
    )

    # When it asks when a page of returns was last told
    with recorded(service.engine) as statements, service.engine.connect() as connection:
        candidates.last_told(connection, [f"RMA-{n}" for n in range(1000)])

    # Then SQLite finds their messages by return, not every told message by its status
    (sql, params), *_ = [(s, p) for s, p in statements if "max(coalesce" in s]
    steps = plan(service.engine, sql, params)
    assert "USING INDEX ix_notifications_return_id (return_id=?)" in steps, steps
