"""Bulk statements of the intake: each table is read or written with one statement per group
of events, whatever its size, the rows passed as one JSON document.

SQLAlchemy's multi-row ``INSERT`` renders a placeholder per value (5,000 for 500 events),
which the driver parses again for every group, and an ``UPDATE`` of many rows is a statement
per row. Here the rows travel as a single JSON text that the database unpacks itself
(``json_to_recordset`` on PostgreSQL, ``json_each`` on SQLite), so the statements are short,
the same each time, and compiled once. On PostgreSQL every write of a group is one
statement (data-modifying ``WITH``), so a group costs the same few round trips whatever its
size. Each backend gets timestamps in its own form, so rows written here read back like any
others: ISO 8601 with an offset for PostgreSQL's ``timestamptz``, and SQLAlchemy's UTC text
for SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Row, TextClause, bindparam, text

from notifier import db

#: Event columns written from a group's rows (``api_key`` and ``received_at`` are shared).
EVENT_FIELDS = (
    "n",  # the event's place in its group: pks follow arrival order
    "event_id",
    "type",
    "return_id",
    "occurred_at",
    "body_hash",
    "payload",
    "stale",
    "note",
)
#: Return columns written from a group's rows (``created_at`` and ``updated_at`` are shared).
RETURN_FIELDS = (
    "return_id",
    "order_id",
    "customer_id",
    "status",
    "status_at",
    "snapshot",
    "ship_by",
    "label_expires_at",
)


@dataclass(frozen=True, slots=True)
class Bulk:
    """The intake's statements for one backend, and how it writes a timestamp.

    ``read`` takes ``:api_key``, ``:event_ids`` and ``:return_ids`` (JSON lists) and returns
    the events already stored (``pk, event_id, body_hash``) and, on PostgreSQL, the returns
    too (``return_id, status, status_at, snapshot``, locked until the commit); on SQLite
    ``returns`` reads those. ``write`` takes ``:api_key``, ``:now``, ``:events``,
    ``:created``, ``:changed`` (rows as JSON documents) and returns ``pk, event_id`` of the
    inserted events; where it does not write everything itself (SQLite), ``outbox``,
    ``created`` and ``changed`` follow it.
    """

    read: TextClause
    returns: TextClause | None
    write: TextClause
    #: ``:now``, ``:pks`` (a JSON list of event pks) -> the events' outbox rows
    outbox: TextClause | None
    #: ``:now``, ``:created`` -> new returns
    created: TextClause | None
    #: ``:now``, ``:changed`` -> returns moved on
    changed: TextClause | None
    #: A timestamp as the backend stores it.
    stamp: Callable[[datetime], str]
    #: A statement run first in every intake transaction, if any.
    setup: str | None = None

    def lookup(
        self, connection: Connection, ids: Mapping[str, Any]
    ) -> tuple[list[Row[Any]], list[Row[Any]]]:
        """The stored events and the stored returns among ``ids`` (``api_key``,
        ``event_ids``, ``return_ids``)."""
        if self.setup is not None:
            connection.exec_driver_sql(self.setup)
        rows = list(connection.execute(self.read, ids))
        if self.returns is not None:
            returns = list(connection.execute(self.returns, ids))
            return rows, returns
        return [r for r in rows if r.pk is not None], [r for r in rows if r.pk is None]

    def store(self, connection: Connection, rows: Rows) -> dict[str, int]:
        """Insert the events with their outbox rows, insert the created returns and update
        the changed ones; returns each inserted event's pk by its event id."""
        now = rows.now
        params = rows.documents() if self.created is None else rows.documents(returns=False)
        pks = {row.event_id: int(row.pk) for row in connection.execute(self.write, params)}
        if self.outbox is not None:
            connection.execute(self.outbox, {"now": now, "pks": document(list(pks.values()))})
        if self.created is not None and rows.created:
            connection.execute(self.created, {"now": now, "created": document(rows.created)})
        if self.changed is not None and rows.changed:
            connection.execute(self.changed, {"now": now, "changed": document(rows.changed)})
        return pks


@dataclass(frozen=True, slots=True)
class Rows:
    """What one group of events writes: event rows, and the returns it creates or changes."""

    api_key: str
    now: datetime
    events: list[dict[str, Any]]
    created: list[dict[str, Any]]
    changed: list[dict[str, Any]]

    def documents(self, *, returns: bool = True) -> dict[str, Any]:
        """The write statement's parameters, the rows as JSON documents."""
        params: dict[str, Any] = {
            "api_key": self.api_key,
            "now": self.now,
            "events": document(self.events),
        }
        if returns:
            params.update(created=document(self.created), changed=document(self.changed))
        return params


def document(rows: Sequence[Any]) -> str:
    """Rows as the one JSON text a bulk statement takes."""
    return orjson.dumps(rows).decode()


def bulk_for(dialect: str) -> Bulk:
    """The statements for a SQLAlchemy dialect name (``postgresql`` or ``sqlite``)."""
    return _POSTGRESQL if dialect == "postgresql" else _SQLITE


def _typed(sql: str, *columns: Any) -> TextClause:
    clause = text(sql)
    if ":now" in sql:
        clause = clause.bindparams(bindparam("now", type_=db.UTCDateTime()))
    return clause.columns(*columns) if columns else clause  # type: ignore[return-value]


def _pg_rows(param: str, fields: Sequence[str]) -> str:
    names = ", ".join(f"{name} {_PG_TYPES.get(name, 'text')}" for name in fields)
    return f"json_to_recordset(CAST(:{param} AS json)) AS u({names})"


def _pg_array(param: str) -> str:
    # An array rather than "IN (SELECT ...)": "= ANY (array)" is an index condition whatever
    # the planner guesses about the JSON's length, so a lookup never scans a whole table.
    return f"ARRAY(SELECT json_array_elements_text(CAST(:{param} AS json)))"


def _sqlite_rows(param: str, fields: Sequence[str]) -> str:
    names = ", ".join(f"json_extract(value, '$.{name}') AS {name}" for name in fields)
    return f"(SELECT {names} FROM json_each(:{param}) ORDER BY key)"


#: PostgreSQL: plan each execution of a prepared statement with its own parameters.
PLAN_EACH_TIME = "plan_cache_mode = force_custom_plan"

_E, _R = db.events.c, db.returns.c
_EVENT_COLUMNS = "event_id, type, return_id, occurred_at, body_hash, payload, stale, note"
_RETURN_COLUMNS = ", ".join(RETURN_FIELDS)
_PG_TYPES = {"occurred_at": "timestamptz", "status_at": "timestamptz", "ship_by": "date"}
_PG_TYPES |= {"label_expires_at": "timestamptz", "stale": "boolean", "n": "integer"}
_SET_CHANGED = (
    "status = u.status, status_at = u.status_at, snapshot = {snapshot}, ship_by = u.ship_by, "
    "label_expires_at = u.label_expires_at, updated_at = :now"
)

_POSTGRESQL = Bulk(
    # One round trip for both reads. Concurrent events of one return take turns: its row
    # stays locked until the commit (locks taken in return_id order, so never a deadlock).
    read=_typed(
        "WITH r AS (SELECT return_id, status, status_at, snapshot FROM returns "
        f"WHERE return_id = ANY ({_pg_array('return_ids')}) ORDER BY return_id FOR UPDATE) "
        "SELECT pk, event_id, body_hash, NULL AS return_id, NULL AS status, "
        "CAST(NULL AS timestamptz) AS status_at, CAST(NULL AS json) AS snapshot FROM events "
        f"WHERE api_key = :api_key AND event_id = ANY ({_pg_array('event_ids')}) "
        "UNION ALL SELECT NULL, NULL, NULL, return_id, status, status_at, snapshot FROM r",
        _E.pk,
        _E.event_id,
        _E.body_hash,
        _R.return_id,
        _R.status,
        _R.status_at,
        _R.snapshot,
    ),
    returns=None,
    write=_typed(
        f"WITH e AS (INSERT INTO events (api_key, received_at, {_EVENT_COLUMNS}) "
        "SELECT CAST(:api_key AS text), :now, event_id, type, return_id, occurred_at, "
        f"body_hash, CAST(payload AS json), stale, note FROM {_pg_rows('events', EVENT_FIELDS)} "
        "ORDER BY n RETURNING pk, event_id), "
        "o AS (INSERT INTO outbox (event_pk, created_at, enqueued_at) "
        "SELECT pk, :now, :now FROM e), "
        f"c AS (INSERT INTO returns ({_RETURN_COLUMNS}, created_at, updated_at) "
        "SELECT return_id, order_id, customer_id, status, status_at, CAST(snapshot AS json), "
        f"ship_by, label_expires_at, :now, :now FROM {_pg_rows('created', RETURN_FIELDS)}), "
        f"m AS (UPDATE returns SET {_SET_CHANGED.format(snapshot='CAST(u.snapshot AS json)')} "
        f"FROM {_pg_rows('changed', RETURN_FIELDS)} WHERE returns.return_id = u.return_id) "
        "SELECT pk, event_id FROM e",
        _E.pk,
        _E.event_id,
    ),
    outbox=None,
    created=None,
    changed=None,
    stamp=lambda moment: moment.isoformat(),
    # The statements' best plan depends on the group's size and the tables': plan each
    # time, rather than let PostgreSQL settle on a generic plan (with one made while the
    # tables were empty, the read took 8 ms a group under load instead of 0.3 ms).
    setup=f"SET LOCAL {PLAN_EACH_TIME}",
)

_SQLITE = Bulk(
    read=_typed(
        "SELECT pk, event_id, body_hash FROM events WHERE api_key = :api_key AND event_id IN "
        "(SELECT value FROM json_each(:event_ids))",
        _E.pk,
        _E.event_id,
        _E.body_hash,
    ),
    returns=_typed(
        "SELECT return_id, status, status_at, snapshot FROM returns WHERE return_id IN "
        "(SELECT value FROM json_each(:return_ids)) ORDER BY return_id",
        _R.return_id,
        _R.status,
        _R.status_at,
        _R.snapshot,
    ),
    write=_typed(
        f"INSERT INTO events (api_key, received_at, {_EVENT_COLUMNS}) "
        f"SELECT :api_key, :now, {_EVENT_COLUMNS} FROM {_sqlite_rows('events', EVENT_FIELDS)} "
        "RETURNING pk, event_id",
        _E.pk,
        _E.event_id,
    ),
    outbox=_typed(
        "INSERT INTO outbox (event_pk, created_at, enqueued_at) "
        "SELECT value, :now, :now FROM json_each(:pks)"
    ),
    created=_typed(
        f"INSERT INTO returns ({_RETURN_COLUMNS}, created_at, updated_at) "
        f"SELECT {_RETURN_COLUMNS}, :now, :now FROM {_sqlite_rows('created', RETURN_FIELDS)}"
    ),
    changed=_typed(
        f"UPDATE returns SET {_SET_CHANGED.format(snapshot='u.snapshot')} "
        f"FROM {_sqlite_rows('changed', RETURN_FIELDS)} AS u "
        "WHERE returns.return_id = u.return_id"
    ),
    # SQLAlchemy's text for a DATETIME: "2026-11-20 09:15:00.000000", in UTC.
    stamp=lambda moment: moment.astimezone(UTC).isoformat(" ", "microseconds")[:26],
)
