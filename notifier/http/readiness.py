"""``/readyz``: whether the database takes writes and Redis answers, told within a second.

Each check runs in a thread of its own small pool, never in the request thread pool, so a
hung dependency cannot starve the API's other requests (nor ``/healthz``, which runs on the
event loop and needs nothing). Requests that arrive while a check is still waiting share it
rather than starting another, so a hung dependency holds at most one thread per check. A
check that has not answered within :data:`DEADLINE` is reported as such: not ready.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, text

from notifier.service import Service

#: Longest a readiness answer waits for its checks, in seconds.
DEADLINE = 1.0
#: What a check that answered says.
OK = "ok"


class Readiness:
    """The readiness checks of one service: the database and the broker's Redis."""

    def __init__(self, service: Service) -> None:
        self._checks: dict[str, Callable[[], str]] = {
            "database": lambda: database_status(service.engine),
            "redis": lambda: redis_status(service),
        }
        self._pool = ThreadPoolExecutor(len(self._checks), thread_name_prefix="notifier-readyz")
        self._running: dict[str, Future[str]] = {}

    async def check(self) -> dict[str, str]:
        """Each check's answer (``"ok"`` or what is wrong), within :data:`DEADLINE`."""
        futures = {name: self._start(name) for name in self._checks}
        waiting = [asyncio.wrap_future(f) for f in futures.values()]
        await asyncio.wait(waiting, timeout=DEADLINE)
        return {
            name: _answer(future) if future.done() else f"no answer within {DEADLINE:g} s"
            for name, future in futures.items()
        }

    def _start(self, name: str) -> Future[str]:
        running = self._running.get(name)
        if running is None or running.done():
            running = self._running[name] = self._pool.submit(self._checks[name])
        return running


def _answer(future: Future[str]) -> str:
    error = future.exception()
    return f"unreachable: {type(error).__name__}" if error is not None else future.result()


def database_status(engine: Engine) -> str:
    """``"ok"`` when the database answers and would take a write, else why not."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        if engine.dialect.name == "postgresql":
            read_only = connection.execute(text("SHOW transaction_read_only")).scalar()
            if read_only == "on":
                return "refuses writes: the database is read-only"
        connection.rollback()
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        path = Path(database)
        for place in (path, path.parent):
            if place.exists() and not os.access(place, os.W_OK):
                return f"refuses writes: {place} is read-only"
    return OK


def redis_status(service: Service) -> str:
    """``"ok"`` when the broker's Redis answers (always for the in-memory broker)."""
    client = getattr(service.broker, "client", None)
    if client is not None:
        client.ping()
    return OK
