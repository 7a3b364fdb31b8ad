"""The database helpers: a read-only connection writes nothing and holds up no writer; on
SQLite the writers of one process take turns, and a failed writer gives its turn back."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sqlite_writer_waiting_for_another_starts_as_soon_as_it_has_committed(
    database_url: str,
) -> None:
    # Given a writer thread of the process that holds a write transaction for 0.64 s
    engine = db.make_engine(database_url)
    committed = threading.Event()
    committed_at: list[float] = []

    def hold() -> None:
        with engine.begin() as connection:
            connection.execute(insert(db.suppressions).values(_suppression("a@example.nl")))
            started.set()
            time.sleep(0.64)
        committed_at.append(time.monotonic())
        committed.set()

    started = threading.Event()
    holder = threading.Thread(target=hold)
    try:
        holder.start()
        assert started.wait(10)

        # When another thread begins a write meanwhile
        with engine.begin() as connection:
            began = time.monotonic()
            connection.execute(insert(db.suppressions).values(_suppression("b@example.nl")))
        holder.join(10)

        # Then it waited for the commit, and began right after it: not after the next of
        # SQLite's busy-handler sleeps, which are 100 ms long by then
        assert committed.is_set()
        assert 0 <= began - committed_at[0] < 0.05
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("failure", ["error", "invalidated"])
def test_a_sqlite_writer_that_fails_gives_its_turn_back(database_url: str, failure: str) -> None:
    # Given a write transaction that fails, or whose connection is dropped mid-way
    engine = db.make_engine(database_url)
    try:
        with pytest.raises(RuntimeError), engine.begin() as connection:
            connection.execute(insert(db.suppressions).values(_suppression("a@example.nl")))
            if failure == "invalidated":
                connection.invalidate()
            raise RuntimeError("the writer failed")

        # When another thread writes
        def write() -> None:
            with engine.begin() as connection:
                connection.execute(insert(db.suppressions).values(_suppression("b@example.nl")))

        writer = threading.Thread(target=write)
        started = time.monotonic()
        writer.start()
        writer.join(40)

        # Then it did at once, and only its row is there
        assert time.monotonic() - started < 5
        with db.read_only(engine) as connection:
            addresses = connection.execute(select(db.suppressions.c.address)).scalars().all()
        assert addresses == ["b@example.nl"]
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sqlite_writer_finding_the_database_locked_fails_as_unavailable(
    database_url: str,
) -> None:
    # Given another process's connection holding SQLite's write lock, and a short busy wait
    engine = db.make_engine(database_url, deadlines=db.Deadlines(busy=0.1))
    other = sqlite3.connect(database_url.split("///", 1)[1], timeout=1, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        # When a transaction of the engine begins
        with pytest.raises(OperationalError) as failed, engine.begin():
            pass
        # Then it fails as SQLAlchemy's error for an unusable database, and once the lock is
        # released the next one begins and writes (its turn was given back)
        assert db.is_unavailable(failed.value)
        other.execute("COMMIT")
        with engine.begin() as connection:
            connection.execute(insert(db.suppressions).values(_suppression("a@example.nl")))
        with db.read_only(engine) as connection:
            assert connection.execute(select(func.count()).select_from(db.suppressions)).scalar()
    finally:
        other.close()
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_postgresql_server_that_stops_answering_fails_the_call_at_the_clients_deadline(
    database_url: str,
) -> None:
    # Given a connection whose server process is stopped (SIGSTOP) while it waits for it
    engine = db.make_engine(database_url, deadlines=db.Deadlines(statement=0.5))
    try:
        with engine.connect() as connection:
            backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            os.kill(backend, signal.SIGSTOP)
            try:
                # When a statement is sent
                started = time.monotonic()
                with pytest.raises(OperationalError):
                    connection.execute(text("SELECT 1"))
                took = time.monotonic() - started
            finally:
                os.kill(backend, signal.SIGCONT)
        # Then it failed once the statement's deadline and the margin had passed, and the
        # engine works on with a new connection
        assert 1.5 <= took < 2.5, took
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_sessions_carry_the_statement_and_lock_timeouts(database_url: str) -> None:
    engine = db.make_engine(database_url, deadlines=db.Deadlines(statement=4.0, lock=1.5))
    try:
        with engine.connect() as connection:
            statement = connection.execute(text("SHOW statement_timeout")).scalar_one()
            lock = connection.execute(text("SHOW lock_timeout")).scalar_one()
    finally:
        engine.dispose()
    assert (statement, lock) == ("4s", "1500ms")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_postgresql_connection_is_pinged_only_after_idling_and_replaced_if_cut(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pool whose connection was just put back, and one that idled past the limit
    engine = db.make_engine(database_url)
    pings: list[int] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda raw: pings.append(1) or ping(raw))
    try:
        pid = "SELECT pg_backend_pid()"
        with engine.connect() as connection:
            first = connection.execute(text(pid)).scalar_one()
        # When it is taken again at once, then (cut meanwhile) after idling
        with engine.connect() as connection:
            again = connection.execute(text(pid)).scalar_one()
        pinged_at_once = len(pings)
        killer = db.make_engine(database_url, poolclass=NullPool)
        with killer.connect() as other:
            other.execute(text(f"SELECT pg_terminate_backend({first})"))
        killer.dispose()
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)
        time.sleep(0.01)
        with engine.connect() as connection:
            replaced = connection.execute(text(pid)).scalar_one()
    finally:
        engine.dispose()
    # Then the first reuse goes unpinged; after idling the cut one fails its ping and the
    # pool hands out a live connection instead
    assert (again, pinged_at_once) == (first, 0)
    assert replaced != first
    assert len(pings) >= 1


def test_a_listed_in_condition_matches_the_values_of_each_list_with_the_same_sql(
    database_url: str,
) -> None:
    # Given suppressions of three addresses
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as connection:
            for address in ("a@example.nl", "b@example.nl", "c@example.nl"):
                connection.execute(insert(db.suppressions).values(_suppression(address)))
        s = db.suppressions.c
        query = select(s.address).where(db.listed_in(s.address, "addresses")).order_by(s.address)
        # When it is run with lists of different lengths, and with values bound in place
        with db.read_only(engine) as connection:
            found = [
                connection.execute(query, {"addresses": addresses}).scalars().all()
                for addresses in (["b@example.nl", "x@example.nl"], [], ["c@example.nl"] * 3)
            ]
            in_place = connection.execute(
                select(s.address).where(db.listed_in(s.address, values={"a@example.nl"}))
            ).scalars()
            pks = connection.execute(
                select(db.events.c.pk).where(db.listed_in(db.events.c.pk, values=[-1, 0]))
            ).scalars()
            # Then each finds the rows of its own values (integers too)
            assert found == [["b@example.nl"], [], ["c@example.nl"]]
            assert list(in_place) == ["a@example.nl"]
            assert list(pks) == []
        # And the values are one parameter, not one each
        assert "ANY(" in str(query.compile(engine)) or "json_each(" in str(query.compile(engine))
    finally:
        engine.dispose()


def _notification(notification_id: str, data: dict[str, object] | None) -> dict[str, object]:
    moment = datetime(2026, 11, 26, 23, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    return {
        "id": notification_id,
        "source": "rule:ship_by:RMA-1:2026-11-27/1d",
        "event_pk": None,
        "return_id": "RMA-1",
        "customer_id": "C-1",
        "kind": "reminder.ship_by",
        "channel": "email",
        "recipient": "sanne@example.nl",
        "locale": "nl_NL",
        "timezone": "Europe/Amsterdam",
        "rule": "ship_by-1d",
        "reason": None,
        "data": data,
        "status": "queued",
        "attempts": 0,
        "dead": False,
        "next_attempt_at": moment,
        "enqueued_at": moment,
        "created_at": moment,
        "updated_at": moment,
    }


def test_rows_inserted_many_at_a_time_are_stored_as_sqlalchemys_own_insert_stores_them(
    database_url: str,
) -> None:
    # Given the same notifications, with and without data, inserted by SQLAlchemy's insert
    # and by insert_many
    engine = db.make_engine(database_url)
    data = {"return": {"id": "RMA-1", "refund": {"amount": "49.95"}}, "customer": {"name": "Ö"}}
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(db.notifications),
                [_notification("ntf_own_1", data), _notification("ntf_own_2", None)],
            )
            db.insert_many(
                connection,
                db.notifications,
                [_notification("ntf_many_1", data), _notification("ntf_many_2", None)],
            )
        # When both are read back as stored (as text, not through the column types)
        stored = {}
        with engine.connect() as connection:
            for row in connection.execute(
                text(
                    "SELECT id, CAST(data AS TEXT), CAST(next_attempt_at AS TEXT), "
                    "CAST(created_at AS TEXT), CAST(dead AS TEXT) FROM notifications"
                )
            ):
                stored[row[0]] = tuple(row[1:])
        # Then each is stored alike, to the text of its times
        assert stored["ntf_many_1"] == stored["ntf_own_1"]
        assert stored["ntf_many_2"] == stored["ntf_own_2"]
        assert stored["ntf_own_1"][0] is not None
    finally:
        engine.dispose()


def test_rows_inserted_many_at_a_time_must_name_the_columns_with_a_default(
    database_url: str,
) -> None:
    # Given a notification row without its attempts (SQLAlchemy's insert would fill in 0)
    row = _notification("ntf_1", None)
    del row["attempts"]
    engine = db.make_engine(database_url)
    try:
        # When it is inserted many at a time, Then the missing column is named
        with pytest.raises(ValueError, match="lack attempts"), engine.begin() as connection:
            db.insert_many(connection, db.notifications, [row])
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_statement_executed_many_times_binds_each_rows_values_as_sqlalchemy_does(
    database_url: str,
) -> None:
    # Given three suppressions, two of them to be moved to a later time by their address
    engine = db.make_engine(database_url)
    later = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    s = db.suppressions.c
    move = (
        update(db.suppressions)
        .where(s.address == bindparam("which"))
        .values(created_at=bindparam("when"))
    )
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(db.suppressions),
                [_suppression(f"{name}@example.nl") for name in ("a", "b", "c")],
            )
            # When the update is executed many times, and once by SQLAlchemy for comparison
            db.execute_many(
                connection,
                move,
                [
                    {"which": "a@example.nl", "when": later},
                    {"which": "b@example.nl", "when": later},
                ],
            )
            connection.execute(move, {"which": "c@example.nl", "when": later})
        # Then each row moved, its time stored as SQLAlchemy stores it
        with engine.connect() as connection:
            stored = dict(
                connection.execute(text("SELECT address, created_at FROM suppressions")).all()
            )
        assert stored["a@example.nl"] == stored["b@example.nl"] == stored["c@example.nl"]
        assert stored["a@example.nl"].startswith("2026-11-27 08:00:00")
        # And a row whose keys are not the statement's parameters is refused
        with pytest.raises(ValueError, match="one parameter per key"), engine.begin() as c:
            db.execute_many(c, move, [{"which": "a@example.nl"}])
    finally:
        engine.dispose()


def test_rows_inserted_many_at_a_time_refuse_a_naive_time_as_sqlalchemys_insert_does(
    database_url: str,
) -> None:
    # Given a notification row whose time has no zone
    row = _notification("ntf_1", None)
    row["created_at"] = datetime(2026, 11, 26, 23, 0)
    engine = db.make_engine(database_url)
    try:
        # When it is inserted many at a time, Then it is refused, and nothing is stored
        with pytest.raises((ValueError, DBAPIError), match="naive"), engine.begin() as c:
            db.insert_many(c, db.notifications, [row])
        with engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(db.notifications))
            assert stored.scalar_one() == 0
    finally:
        engine.dispose()
