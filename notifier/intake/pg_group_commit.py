"""Group commit on PostgreSQL, on the event loop: no writer thread, two round trips a group.

The thread writer of :mod:`notifier.intake.group_commit` waits for the database in a thread, and
every answer from the database has to win the GIL back from the event loop, which is busy
with the next requests. A group made five round trips (ping, ``BEGIN``, read, write,
``COMMIT``), each waiting its turn, so a group took several times its database time.

Here the group's transaction runs on the event loop itself, on one connection of its own
(psycopg's ``AsyncConnection``) in pipeline mode: ``BEGIN`` and the read go out together,
the events are judged (:class:`~notifier.intake.intake.Batch`), then the write and ``COMMIT`` go
out together. While the database works, the loop serves requests, which join the next
group. The hand-over to the queue (Redis, a blocking client) runs in a thread of its own
(:class:`~notifier.intake.hand_over.HandOver`), so that the next group is stored meanwhile;
each answer comes after its event's commit, and after its hand-over unless that takes longer
than its deadline.

Nothing here waits without a deadline: the connection is opened within the connect timeout
and carries the server's statement and lock timeouts (:class:`~notifier.db.Deadlines`); a
group whose transaction has not ended by the client's deadline has its connection cut
(:func:`~notifier.db.cut`) and fails like a lost connection, and the next group opens a new
one. Events wait in a bounded queue, each at most the intake's deadline
(``NOTIFIER_INTAKE_DEADLINE``); see :mod:`notifier.intake.groups`.

The statements are the intake's own (:mod:`notifier.intake.bulk`), so both writers store alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import orjson
import psycopg
from psycopg.rows import namedtuple_row
from psycopg.types.json import set_json_loads
from sqlalchemy import Engine, TextClause
from sqlalchemy.dialects import postgresql

from notifier import db
from notifier.errors import EventConflictError
from notifier.intake.bulk import PLAN_EACH_TIME, bulk_for
from notifier.intake.groups import (
    INTAKE_DEADLINE,
    MAX_WAITING,
    full,
    store_or_split_async,
    wait_answer,
    when_handed,
)
from notifier.intake.intake import MAX_GROUP, Accepted, Batch, Intake

_Outcome = Accepted | EventConflictError | BaseException
_Waiting = tuple[str, Mapping[str, Any], "asyncio.Future[_Outcome]"]


def _psycopg_sql(clause: TextClause) -> str:
    """A bulk statement in psycopg's placeholder style (``%(name)s``)."""
    return str(clause.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


class PostgresGroupCommit:
    """Stores events from many concurrent requests in shared transactions, on the loop."""

    def __init__(
        self,
        engine: Engine,
        intake: Intake,
        *,
        deadline: float = INTAKE_DEADLINE,
        deadlines: db.Deadlines | None = None,
    ) -> None:
        _, params = engine.dialect.create_connect_args(engine.url)
        params.pop("context", None)  # SQLAlchemy's adapters; this connection has its own
        self._deadlines = deadlines or db.Deadlines()
        self._params = {**params, **self._deadlines.postgres_connect_args(params.get("options"))}
        self._intake = intake
        self._deadline = deadline
        bulk = bulk_for("postgresql")
        self._read = _psycopg_sql(bulk.read)
        self._write = _psycopg_sql(bulk.write)
        self._waiting: list[_Waiting] = []
        self._drain: asyncio.Task[None] | None = None
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def accept(self, api_key: str, payload: Mapping[str, Any]) -> Accepted:
        """Store one event; returns once it is committed and handed to the queue (or once
        the hand-over's deadline has passed).

        Raises:
            EventConflictError: the ``event_id`` was used before with a different body.
            IntakeBusyError: it was not stored within the deadline, or the queue was full.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Outcome] = loop.create_future()
        if loop is not self._loop:
            self._use_loop(loop)
        if len(self._waiting) >= MAX_WAITING:
            raise full()
        waiting = (api_key, payload, future)
        self._waiting.append(waiting)
        if self._drain is None or self._drain.done():
            self._drain = loop.create_task(self._store_all())
        result = await wait_answer(future, self._deadline, lambda: self._give_up(waiting))
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self) -> None:
        """Close the connection (the loop it was used on may be gone) and finish the
        hand-overs under way."""
        self._drop_connection()
        self._intake.close()

    def _give_up(self, waiting: _Waiting) -> None:
        self._waiting = [w for w in self._waiting if w is not waiting]

    def _use_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve another event loop (tests make one per request): what the last one left,
        its connection and task, is of no use on this one."""
        self._drop_connection()
        self._drain, self._loop = None, loop

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.pgconn.finish()
            self._connection = None

    async def _store_all(self) -> None:
        # Runs while there is work, then ends: no task outlives the requests it serves.
        while self._waiting:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            for key in dict.fromkeys(key for key, _, _ in group):
                await self._store([w for w in group if w[0] == key])

    async def _store(self, group: list[_Waiting]) -> None:
        key = group[0][0]
        parts = await store_or_split_async(
            group, lambda part: self._store_group(key, [payload for _, payload, _ in part])
        )
        loop = asyncio.get_running_loop()
        for part, outcome in parts:
            if isinstance(outcome, Exception):
                _settle(part, [outcome] * len(part))
            else:
                handed = self._intake.hand_over_soon(outcome)
                deadline = self._intake.handing_over.deadline
                when_handed(loop, partial(_settle, part, outcome), handed, deadline)

    async def _store_group(
        self, api_key: str, payloads: Sequence[Mapping[str, Any]]
    ) -> list[Accepted | EventConflictError]:
        # Stored again when another API process stored some of the same events or returns
        # first, or on a serialization failure or deadlock (db.is_conflict).
        return await db.retry_on_conflict_async(lambda: self._store_once(api_key, payloads))

    async def _store_once(
        self, api_key: str, payloads: Sequence[Mapping[str, Any]]
    ) -> list[Accepted | EventConflictError]:
        batch = Batch(api_key, payloads, "postgresql")
        connection = await self._connect()
        # A server that stops answering cannot end the transaction: cut it at the deadline.
        cutting = asyncio.get_running_loop().call_later(self._deadlines.call, db.cut, connection)
        try:
            return await self._transaction(connection, batch)
        except psycopg.Error:
            await self._recover(connection)
            raise
        finally:
            cutting.cancel()

    async def _transaction(
        self, connection: psycopg.AsyncConnection[Any], batch: Batch
    ) -> list[Accepted | EventConflictError]:
        async with connection.pipeline() as pipeline:
            await connection.execute("BEGIN")
            read = await connection.execute(self._read, batch.lookup())
            await pipeline.sync()
            found = await read.fetchall()
            rows = batch.rows(
                [r for r in found if r.pk is not None], [r for r in found if r.pk is None]
            )
            if rows is None:  # every event was stored before
                await connection.execute("COMMIT")
                return batch.answers({})
            write = await connection.execute(self._write, rows.documents())
            await connection.execute("COMMIT")
            await pipeline.sync()
            return batch.answers({row.event_id: int(row.pk) for row in await write.fetchall()})

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        if self._connection is not None and (
            self._connection.closed
            or self._connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        ):
            # Broken, or left inside a transaction by a group that was cancelled: never let
            # the next group share that transaction.
            self._drop_connection()
        if self._connection is None:
            async with asyncio.timeout(self._deadlines.ping):
                connection = await psycopg.AsyncConnection.connect(
                    **self._params, autocommit=True, row_factory=namedtuple_row
                )
                set_json_loads(orjson.loads, connection)
                await connection.execute(f"SET {PLAN_EACH_TIME}")  # see bulk.Bulk.setup
            self._connection = connection
        return self._connection

    async def _recover(self, connection: psycopg.AsyncConnection[Any]) -> None:
        """Roll back a failed group, or drop a connection that cannot."""
        try:
            if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                await connection.execute("ROLLBACK")
        except psycopg.Error:
            self._drop_connection()


def _settle(group: list[_Waiting], outcomes: Sequence[Any]) -> None:
    for (_, _, future), outcome in zip(group, outcomes, strict=True):
        if not future.done():
            future.set_result(outcome)
