"""Group commit: events posted at the same moment are stored in one transaction.

A single ``POST /v1/events`` waits while one writer thread per process stores everything
posted since its last transaction with :meth:`~notifier.intake.intake.Intake.store_many`, which
judges each event as if it had been posted alone, in arrival order, and then hands the
whole group to the hand-over thread (:meth:`~notifier.intake.intake.Intake.hand_over_soon`,
one message per group). Under light load a group is one event and nothing changes; under
heavy load the groups grow, so the cost of a transaction (and SQLite's single-writer lock) is
shared instead of fought over. Every answer comes after its event's commit, and after its
hand-over unless that takes longer than its deadline (``NOTIFIER_HAND_OVER_DEADLINE``).

The queue in front of the writer is bounded: an event that finds :data:`~notifier.intake.groups.
MAX_WAITING` events waiting, or is not stored within the intake's deadline
(``NOTIFIER_INTAKE_DEADLINE``), is answered :class:`~notifier.errors.IntakeBusyError` (a 503).

The writer is a plain thread rather than a task on the event loop: it picks up the next
group the moment the last one is done, whatever the loop is busy with, and it costs one
wake-up of the loop per group instead of two thread-pool round trips. It stops after
:data:`IDLE_STOP` seconds without work and is started again by the next event.

This writer serves SQLite (and any database without psycopg); PostgreSQL through psycopg
stores its groups on the event loop instead (:mod:`notifier.intake.pg_group_commit`), see
:func:`group_commit_for`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from functools import partial
from typing import Any

from sqlalchemy import Engine

from notifier.db import Deadlines
from notifier.errors import EventConflictError
from notifier.intake.groups import (
    INTAKE_DEADLINE,
    MAX_WAITING,
    GroupCommitter,
    full,
    store_or_split,
    wait_answer,
    when_handed,
)
from notifier.intake.intake import MAX_GROUP, Accepted, Intake
from notifier.intake.pg_group_commit import PostgresGroupCommit

log = logging.getLogger(__name__)

#: Seconds without work after which the writer thread stops (the next event starts it again).
IDLE_STOP = 2.0

_Outcome = Accepted | EventConflictError | BaseException
_Waiting = tuple[str, Mapping[str, Any], asyncio.AbstractEventLoop, "asyncio.Future[_Outcome]"]


class GroupCommit:
    """Stores events from many concurrent requests in shared transactions."""

    def __init__(self, intake: Intake, *, deadline: float = INTAKE_DEADLINE) -> None:
        self._intake = intake
        self._deadline = deadline
        self._ready = threading.Condition()
        self._waiting: list[_Waiting] = []
        self._writer: threading.Thread | None = None

    async def accept(self, api_key: str, payload: Mapping[str, Any]) -> Accepted:
        """Store one event; returns once it is committed and handed to the queue (or once
        the hand-over's deadline has passed).

        Raises:
            EventConflictError: the ``event_id`` was used before with a different body.
            IntakeBusyError: it was not stored within the deadline, or the queue was full.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Outcome] = loop.create_future()
        waiting = (api_key, payload, loop, future)
        with self._ready:
            if len(self._waiting) >= MAX_WAITING:
                raise full()
            self._waiting.append(waiting)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write, name="notifier-group-commit", daemon=True
                )
                self._writer.start()
            else:
                self._ready.notify()
        result = await wait_answer(future, self._deadline, lambda: self._give_up(waiting))
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self) -> None:
        """Finish the hand-overs under way; the writer thread ends by itself once idle."""
        self._intake.close()

    def _give_up(self, waiting: _Waiting) -> None:
        with self._ready:
            self._waiting = [w for w in self._waiting if w is not waiting]

    def _write(self) -> None:
        while group := self._next_group():
            for key in dict.fromkeys(key for key, _, _, _ in group):
                self._store([w for w in group if w[0] == key])

    def _next_group(self) -> list[_Waiting]:
        # Let the event loop run first: requests it has already received join this group
        # rather than each making a group of one (with 8 clients, 40% more events a second).
        time.sleep(0)
        with self._ready:
            if not self._waiting:
                self._ready.wait(IDLE_STOP)
            if not self._waiting:
                self._writer = None
                return []
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            return group

    def _store(self, group: list[_Waiting]) -> None:
        key = group[0][0]
        parts = store_or_split(
            group, lambda part: self._intake.store_many(key, [payload for _, payload, _, _ in part])
        )
        for part, outcome in parts:
            if isinstance(outcome, Exception):
                _settle(part, [outcome] * len(part), None, 0.0)
                continue
            handed = self._intake.hand_over_soon(outcome)
            _settle(part, outcome, handed, self._intake.handing_over.deadline)


def _settle(
    group: list[_Waiting], outcomes: list[Any], handed: Future[None] | None, deadline: float
) -> None:
    """Answer each waiter on its own event loop, with one wake-up per loop, once ``handed``
    is done or ``deadline`` seconds have passed."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[_Outcome], Any]]] = {}
    for (_, _, loop, future), outcome in zip(group, outcomes, strict=True):
        by_loop.setdefault(loop, []).append((future, outcome))
    for loop, answers in by_loop.items():
        try:
            if handed is None:
                loop.call_soon_threadsafe(_resolve, answers)
            else:
                loop.call_soon_threadsafe(
                    when_handed, loop, partial(_resolve, answers), handed, deadline
                )
        except RuntimeError:  # the loop is closed: its requests are gone
            log.debug("an event loop closed before %d answers", len(answers))


def _resolve(answers: list[tuple[asyncio.Future[_Outcome], Any]]) -> None:
    for future, outcome in answers:
        if not future.done():
            future.set_result(outcome)


def group_commit_for(
    engine: Engine,
    intake: Intake,
    *,
    deadline: float = INTAKE_DEADLINE,
    deadlines: Deadlines | None = None,
) -> GroupCommitter:
    """PostgreSQL through psycopg stores groups on the event loop; anything else in a thread.

    Args:
        engine: the database.
        intake: stores the groups and hands them over.
        deadline: seconds a single event may wait to be stored (``NOTIFIER_INTAKE_DEADLINE``).
        deadlines: the database's (PostgreSQL's writer opens a connection of its own).
    """
    if engine.dialect.driver == "psycopg":
        return PostgresGroupCommit(
            engine, intake, deadline=deadline, deadlines=deadlines or Deadlines()
        )
    return GroupCommit(intake, deadline=deadline)
