"""A write that loses a race with a concurrent one runs again, through one helper."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import psycopg
import pytest
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from notifier import db
from notifier.service import Service


def _suppress(connection: Connection, address: str, reason: str | None = "bounced") -> None:
    connection.execute(
        insert(db.suppressions).values(
            channel="email", address=address, reason=reason, created_at=db.now()
        )
    )


def _addresses(service: Service) -> list[str]:
    with service.engine.connect() as connection:
        s = db.suppressions.c
        return list(connection.execute(select(s.address).order_by(s.address)).scalars())


def _suppress_in_bulk(connection: Connection, address: str) -> None:
    """Suppress another address and ``address`` with one bulk insert (PostgreSQL's ``COPY``,
    whose error is psycopg's own, or SQLite's ``executemany``)."""
    row = {"channel": "email", "reason": "bounced", "created_at": db.now()}
    rows = [{**row, "address": a} for a in ("ruud@example.nl", address)]
    db.insert_many(connection, db.suppressions, rows)


@pytest.mark.parametrize("store", [_suppress, _suppress_in_bulk], ids=["insert", "bulk"])
def test_a_write_that_loses_a_race_runs_again_and_sees_the_winners_row(
    service: Service, store: Callable[[Connection, str], None]
) -> None:
    # Given a row a concurrent transaction stored first
    with service.engine.begin() as connection:
        _suppress(connection, "sanne@example.nl")
    runs: list[int] = []

    def work(connection: Connection) -> int:
        runs.append(len(runs))
        if len(runs) == 1:  # read before the winner committed: stores the same key
            store(connection, "sanne@example.nl")
        return int(connection.execute(select(func.count()).select_from(db.suppressions)).scalar())

    # When the write runs through the helper
    count = db.retry_on_conflict(service.engine, work)

    # Then its second run saw the winner's row, and the row is stored once
    assert (len(runs), count) == (2, 1)
    assert _addresses(service) == ["sanne@example.nl"]


def test_a_write_that_keeps_losing_gives_up_and_leaves_nothing_behind(service: Service) -> None:
    # Given a row stored before, and a write that stores another row and then the same key
    with service.engine.begin() as connection:
        _suppress(connection, "sanne@example.nl")
    runs: list[int] = []

    def work(connection: Connection) -> None:
        runs.append(len(runs))
        _suppress(connection, "ruud@example.nl")
        _suppress(connection, "sanne@example.nl")

    # When it runs through the helper
    with pytest.raises(IntegrityError):
        db.retry_on_conflict(service.engine, work)

    # Then it ran the allowed number of times, and every run was rolled back
    assert len(runs) == db.CONFLICT_ATTEMPTS
    assert _addresses(service) == ["sanne@example.nl"]


def test_a_write_that_fails_for_another_reason_runs_once(service: Service) -> None:
    runs: list[int] = []

    def work(connection: Connection) -> None:
        runs.append(len(runs))
        _suppress(connection, "sanne@example.nl", reason=None)  # NOT NULL

    with pytest.raises(IntegrityError):
        db.retry_on_conflict(service.engine, work)

    assert len(runs) == 1
    assert _addresses(service) == []


@pytest.mark.parametrize(
    ("error", "conflict"),
    [
        (psycopg.errors.UniqueViolation("duplicate key"), True),
        (psycopg.errors.SerializationFailure("could not serialize access"), True),
        (psycopg.errors.DeadlockDetected("deadlock detected"), True),
        (psycopg.errors.ForeignKeyViolation("violates foreign key"), False),
        (psycopg.errors.NotNullViolation("null value"), False),
        (psycopg.OperationalError("connection refused"), False),
        (ValueError("not a database error"), False),
    ],
)
def test_what_counts_as_a_lost_race(error: Exception, conflict: bool) -> None:
    assert db.is_conflict(error) is conflict


def _failing(errors: list[Exception]) -> tuple[Callable[[], Awaitable[str]], list[int]]:
    """An async transaction that raises ``errors`` in turn, then stores."""
    runs: list[int] = []

    async def run() -> str:
        runs.append(len(runs))
        if errors:
            raise errors.pop(0)
        return "stored"

    return run, runs


def test_an_async_transaction_runs_again_after_lost_races_only() -> None:
    # Given transactions on the event loop that lose races, or fail otherwise
    lost_twice, lost_runs = _failing(
        [psycopg.errors.UniqueViolation("dup"), psycopg.errors.DeadlockDetected("deadlock")]
    )
    broken, broken_runs = _failing([psycopg.OperationalError("connection lost")])
    always, always_runs = _failing(
        [psycopg.errors.SerializationFailure("again")] * db.CONFLICT_ATTEMPTS
    )

    # When each runs through the helper
    stored = asyncio.run(db.retry_on_conflict_async(lost_twice))
    with pytest.raises(psycopg.OperationalError):
        asyncio.run(db.retry_on_conflict_async(broken))
    with pytest.raises(psycopg.errors.SerializationFailure):
        asyncio.run(db.retry_on_conflict_async(always))

    # Then only the lost races run again, as many times as allowed
    assert (stored, len(lost_runs)) == ("stored", 3)
    assert len(broken_runs) == 1
    assert len(always_runs) == db.CONFLICT_ATTEMPTS
