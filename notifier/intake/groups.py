"""What both group commits share: the protocol the API stores single events through, and
how a group whose transaction fails is stored.

:class:`~notifier.intake.group_commit.GroupCommit` stores its groups in a writer thread
(SQLite), :class:`~notifier.intake.pg_group_commit.PostgresGroupCommit` on the event loop
(PostgreSQL). When a group's transaction fails, each writer stores the group's events again
one by one, so that one bad event, or a failure of the shared transaction, is answered to the
events it concerns and no other. That decision is written once (:func:`_store_or_split`), as
a generator that says what to store next; :func:`store_or_split` runs it with a blocking
store, :func:`store_or_split_async` with an awaited one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Generator, Mapping
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from notifier.db import is_unavailable
from notifier.errors import EventConflictError, IntakeBusyError
from notifier.intake.intake import Accepted

log = logging.getLogger(__name__)

#: Seconds a single event may wait to be stored before it is answered 503, unless told.
INTAKE_DEADLINE = 3.0
#: Most single events that may wait for a group commit; more are answered 503 at once.
MAX_WAITING = 2_000

#: One waiting request of a writer (its own tuple of key, payload and answer).
W = TypeVar("W")
#: Each event's answer, in order, when its part of a group was stored.
Results = list[Accepted | EventConflictError]
#: What storing a part gave: its events' answers, or the error each of them gets.
Outcome = Results | Exception


class GroupCommitter(Protocol):
    """Stores single events posted at the same moment in shared transactions."""

    async def accept(self, api_key: str, payload: Mapping[str, Any]) -> Accepted:
        """Store one event; returns once it is committed and handed to the queue (or once
        the hand-over's deadline has passed).

        Raises:
            EventConflictError: the ``event_id`` was used before with a different body.
            IntakeBusyError: it was not stored within the intake's deadline, or too many
                events were waiting already.
            Exception: the database's error, when it cannot be used.
        """
        ...

    def close(self) -> None:
        """Release what the writer holds; called once, when the service closes."""
        ...


def busy(deadline: float) -> IntakeBusyError:
    """The error of an event that was not stored within ``deadline`` seconds."""
    return IntakeBusyError(f"the event was not stored within {deadline:g} s")


def full() -> IntakeBusyError:
    """The error of an event that found too many waiting before it."""
    return IntakeBusyError(f"{MAX_WAITING} events are waiting to be stored already")


async def wait_answer(future: asyncio.Future[W], deadline: float, give_up: Callable[[], None]) -> W:
    """``future``'s result, or :func:`busy` after ``deadline`` seconds, when ``give_up`` is
    called first (it takes the event out of the queue if it is still there)."""
    try:
        return await asyncio.wait_for(future, deadline)
    except TimeoutError:
        give_up()
        raise busy(deadline) from None


def when_handed(
    loop: asyncio.AbstractEventLoop,
    answer: Callable[[], None],
    handed: Future[None],
    deadline: float,
) -> None:
    """On ``loop``: call ``answer`` once ``handed`` is done or ``deadline`` seconds have
    passed, whichever comes first. ``answer`` may be called twice and must do nothing the
    second time."""
    if handed.done():
        answer()
        return
    loop.call_later(deadline, answer)

    def done(_: Future[None]) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: its requests are gone
            loop.call_soon_threadsafe(answer)

    handed.add_done_callback(done)


def store_or_split(
    group: list[W], store: Callable[[list[W]], Results]
) -> list[tuple[list[W], Outcome]]:
    """Store ``group`` in one transaction, else its events one by one.

    Args:
        group: the waiting requests of one API key, in arrival order.
        store: stores the given requests' events in one transaction; returns their answers.

    Returns:
        Each part of the group that was stored or failed, with its outcome, in order.
    """
    steps = _store_or_split(group)
    part = next(steps)
    while True:
        try:
            outcome: Outcome = store(part)
        except Exception as error:  # noqa: BLE001 - the part's events get it as their answer
            outcome = error
        try:
            part = steps.send(outcome)
        except StopIteration as done:
            parts: list[tuple[list[W], Outcome]] = done.value
            return parts


async def store_or_split_async(
    group: list[W], store: Callable[[list[W]], Awaitable[Results]]
) -> list[tuple[list[W], Outcome]]:
    """:func:`store_or_split` with a ``store`` that is awaited."""
    steps = _store_or_split(group)
    part = next(steps)
    while True:
        try:
            outcome: Outcome = await store(part)
        except Exception as error:  # noqa: BLE001 - the part's events get it as their answer
            outcome = error
        try:
            part = steps.send(outcome)
        except StopIteration as done:
            parts: list[tuple[list[W], Outcome]] = done.value
            return parts


def _store_or_split(
    group: list[W],
) -> Generator[list[W], Outcome, list[tuple[list[W], Outcome]]]:
    """Yields each part of ``group`` to store and is sent what storing it gave; returns the
    parts with their outcomes. A lone event's failure is its answer; a group's failure makes
    each of its events a part of its own, unless the database cannot be used now (each part
    would only wait for it again): then the failure is every event's answer."""
    outcome = yield group
    if not isinstance(outcome, Exception) or len(group) == 1 or is_unavailable(outcome):
        return [(group, outcome)]
    log.warning("a group of %d events failed; storing them one by one", len(group))
    parts: list[tuple[list[W], Outcome]] = []
    for waiting in group:
        parts.append(([waiting], (yield [waiting])))
    return parts
