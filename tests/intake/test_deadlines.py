"""An event is answered once committed: a Redis that never answers delays no answer, and a
database that does not answer in time is a prompt 503 with Retry-After, after which the
intake recovers by itself."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from notifier import db
from notifier.http import create_app
from notifier.service import Service
from notifier.settings import Settings
from tests.factories import event

POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A Redis URL whose server accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        listener.close()


async def _post(service: Service, bodies: list[dict[str, Any]], auth: dict[str, str]) -> list[Any]:
    """Post each body at once; each answer with the seconds it took."""
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

        async def timed(body: dict[str, Any]) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            answer = await client.post("/v1/events", json=body, headers=auth)
            return answer, time.monotonic() - started

        return await asyncio.gather(*(timed(body) for body in bodies))


def _bodies(start: int, count: int) -> list[dict[str, Any]]:
    return [event(event_id=f"evt-{n}", return_id=f"RMA-{n}") for n in range(start, start + count)]


def test_a_redis_that_never_answers_delays_no_answer_and_is_logged_once(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    silent_redis: str,
    auth: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a service whose Redis accepts connections but never answers
    service = make_service(replace(settings, redis_url=silent_redis, redis_timeout=1.0))

    # When events are posted one after another, for longer than Redis's read timeout
    answers: list[tuple[httpx.Response, float]] = []
    with caplog.at_level(logging.WARNING, logger="notifier.intake"):
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < 1.5:
            answers += asyncio.run(_post(service, _bodies(n, 1), auth))
            n += 1
        service.group_commit.close()  # finishes the hand-overs under way

    # Then each was answered 202 at once: the first after the hand-over's deadline at most,
    # the others without waiting for Redis at all
    assert {answer.status_code for answer, _ in answers} == {202}
    took = sorted(seconds for _, seconds in answers)
    assert took[-1] < 0.5, took
    assert len(answers) > 10
    # And the outage took one line, and every event waits for the relay's very next round
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1, lines
    assert "TimeoutError" in lines[0] and "relay" in lines[0]
    with service.engine.connect() as connection:
        marks = connection.execute(select(db.outbox.c.enqueued_at)).scalars().all()
    assert marks == [None] * len(answers)


@POSTGRESQL_ONLY
def test_a_table_locked_by_another_session_is_a_prompt_503_and_the_intake_recovers(
    settings: Settings, make_service: Callable[[Settings], Service], auth: dict[str, str]
) -> None:
    # Given the events table locked by another session, longer than the intake waits
    service = make_service(replace(settings, intake_deadline=1.0, db_lock_timeout=30.0))
    locker = service.engine.connect()
    locker.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
    try:
        # When five events are posted at once
        blocked = asyncio.run(_post(service, _bodies(0, 5), auth))
    finally:
        locker.rollback()
        locker.close()

    # Then each is answered 503 with Retry-After within the intake's deadline
    assert [answer.status_code for answer, _ in blocked] == [503] * 5
    assert {answer.headers["retry-after"] for answer, _ in blocked} == {"5"}
    assert max(seconds for _, seconds in blocked) < 2.0
    assert "posting the same event again is always safe" in blocked[0][0].json()["detail"]

    # And once the lock is gone, the same events and new ones are stored, each once
    again = asyncio.run(_post(service, _bodies(0, 10), auth))
    assert {answer.status_code for answer, _ in again} <= {200, 202}
    with service.engine.connect() as connection:
        stored = connection.execute(select(db.events.c.event_id)).scalars().all()
    assert sorted(stored) == sorted(f"evt-{n}" for n in range(10))


@POSTGRESQL_ONLY
def test_a_lock_not_granted_in_time_fails_the_group_once_not_event_by_event(
    settings: Settings, make_service: Callable[[Settings], Service], auth: dict[str, str]
) -> None:
    # Given the returns table locked by another session, and a short lock timeout
    service = make_service(replace(settings, db_lock_timeout=0.5, intake_deadline=10.0))
    locker = service.engine.connect()
    locker.execute(text("LOCK TABLE returns IN ACCESS EXCLUSIVE MODE"))
    try:
        # When eight events are posted at once
        blocked = asyncio.run(_post(service, _bodies(0, 8), auth))
    finally:
        locker.rollback()
        locker.close()

    # Then they are answered 503 at the lock timeout, not one lock timeout after another
    assert [answer.status_code for answer, _ in blocked] == [503] * 8
    assert {answer.headers["retry-after"] for answer, _ in blocked} == {"5"}
    assert max(seconds for _, seconds in blocked) < 2.5
    # And once the lock is gone, the same events are stored
    again = asyncio.run(_post(service, _bodies(0, 8), auth))
    assert [answer.status_code for answer, _ in again] == [202] * 8
