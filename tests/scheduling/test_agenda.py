"""The agenda keeps the entry written from the newest look at each return, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from notifier import db
from notifier.scheduling.agenda import Agenda, Entry
from notifier.service import Service

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def entries(service: Service) -> dict[tuple[str, str], tuple[datetime, datetime]]:
    d = db.rule_due.c
    with service.engine.connect() as connection:
        rows = connection.execute(select(d.rule, d.return_id, d.due_at, d.version)).all()
    return {(r.rule, r.return_id): (r.due_at, r.version) for r in rows}


def test_a_write_never_undoes_what_a_newer_look_wrote(service: Service) -> None:
    # Given entries of two rules for two returns, written in one go from looks at T0
    agenda = Agenda(service.engine)
    agenda.write(
        [
            Entry("ship_by", "RMA-1", "C-1", T0 + timedelta(days=1), T0),
            Entry("expired", "RMA-1", "C-1", T0 + timedelta(days=3), T0),
            Entry("ship_by", "RMA-2", "C-2", T0 + timedelta(days=2), T0),
        ]
    )

    # When a look at RMA-1 as it was before T0 moves and removes its entries, and a look at
    # RMA-2 as it is an hour later removes its entry
    older, newer = T0 - timedelta(hours=1), T0 + timedelta(hours=1)
    agenda.write(
        [
            Entry("ship_by", "RMA-1", "C-1", T0 + timedelta(days=9), older),
            Entry("expired", "RMA-1", "C-1", None, older),
            Entry("ship_by", "RMA-2", "C-2", None, newer),
        ]
    )

    # Then RMA-1 keeps what the newer look wrote, and RMA-2's entry is gone
    assert entries(service) == {
        ("ship_by", "RMA-1"): (T0 + timedelta(days=1), T0),
        ("expired", "RMA-1"): (T0 + timedelta(days=3), T0),
    }

    # And a look as new as the stored one moves the entry
    agenda.write([Entry("ship_by", "RMA-1", "C-1", T0 + timedelta(days=2), T0)])
    assert entries(service)[("ship_by", "RMA-1")] == (T0 + timedelta(days=2), T0)


def test_times_in_any_offset_are_stored_as_the_same_instants(service: Service) -> None:
    # Given a look whose times carry another offset than UTC, and microseconds
    amsterdam = timezone(timedelta(hours=1))
    due = datetime(2026, 12, 4, 23, 59, 30, 250_001, tzinfo=amsterdam)
    seen = datetime(2026, 12, 1, 9, 0, 0, 7, tzinfo=amsterdam)

    # When it is written, and removed by a look as new
    Agenda(service.engine).write([Entry("label_expiry", "RMA-3", "C-3", due, seen)])
    stored = entries(service)[("label_expiry", "RMA-3")]
    Agenda(service.engine).write([Entry("label_expiry", "RMA-3", "C-3", None, seen)])

    # Then the same instants come back, in UTC, and the removal matched the version exactly
    assert stored == (due, seen) and stored[0].utcoffset() == timedelta(0)
    assert ("label_expiry", "RMA-3") not in entries(service)


def test_a_time_without_its_offset_is_refused_and_nothing_is_written(service: Service) -> None:
    # Given a look whose due time lost its offset
    naive = datetime(2026, 12, 4, 10, 0)

    # When it is written
    with pytest.raises((ValueError, StatementError), match="offset|naive|timezone"):
        Agenda(service.engine).write([Entry("ship_by", "RMA-4", "C-4", naive, T0)])

    # Then nothing was stored
    assert entries(service) == {}
