"""The database helpers: a read-only connection writes nothing and holds up no writer."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from notifier import db


def _suppression(address: str) -> dict[str, object]:
    return {"channel": "email", "address": address, "reason": "bounce", "created_at": db.now()}


def test_a_read_only_connection_refuses_writes_and_leaves_the_pool_as_it_was(
    database_url: str,
) -> None:
    # Given an engine with a single pooled connection
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        # When a read-only connection tries to write
        with pytest.raises(DBAPIError), db.read_only(engine) as connection:
            connection.execute(insert(db.suppressions).values(_suppression("a@example.nl")))
        # Then nothing was written, and the same pooled connection writes again afterwards
        with engine.begin() as connection:
            connection.execute(insert(db.suppressions).values(_suppression("b@example.nl")))
        with db.read_only(engine) as connection:
            addresses = connection.execute(select(db.suppressions.c.address)).scalars().all()
        assert addresses == ["b@example.nl"]
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_read_only_transaction_on_sqlite_does_not_hold_up_a_writer(database_url: str) -> None:
    # Given a read-only transaction that has read
    engine = db.make_engine(database_url)
    writer = sqlite3.connect(database_url.split("///", 1)[1], timeout=1, isolation_level=None)
    try:
        with db.read_only(engine) as connection:
            before = connection.execute(select(func.count()).select_from(db.suppressions))
            assert before.scalar_one() == 0
            # When another connection writes meanwhile
            writer.execute("BEGIN IMMEDIATE")
            writer.execute(
                "INSERT INTO suppressions (channel, address, reason, created_at) "
                "VALUES ('email', 'c@example.nl', 'bounce', '2026-11-20 10:00:00')"
            )
            writer.execute("COMMIT")
        # Then the write went through without waiting for the reader
        with db.read_only(engine) as connection:
            count = connection.execute(select(func.count()).select_from(db.suppressions))
            assert count.scalar_one() == 1
    finally:
        writer.close()
        engine.dispose()
