"""Database: the schema, and engines tuned for SQLite (embedded) and PostgreSQL (production).

The same tables and the same Alembic migrations run on both. Times are stored in UTC and
always come back timezone-aware, whatever the backend keeps.
"""

from __future__ import annotations

import functools
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg.types.json import Json as PgJson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    Date,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    make_url,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, TypeEngine

from notifier.status import (
    Channel,
    EventType,
    NotificationEvent,
    NotificationStatus,
    ScheduledKind,
)

T = TypeVar("T")

#: Naming convention so migrations produce the same constraint names on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

metadata = MetaData(naming_convention=NAMING)

#: Runs in all of a transaction that keeps losing races with concurrent ones.
CONFLICT_ATTEMPTS = 3
#: PostgreSQL's SQLSTATEs of a lost race: a unique key a concurrent transaction took first,
#: a serialization failure, a deadlock.
CONFLICT_SQLSTATES = frozenset({"23505", "40001", "40P01"})
#: SQLite's extended result codes of a unique key taken first.
_SQLITE_CONFLICTS = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
#: Execution option of a SQLite connection whose transactions begin deferred (:func:`read_only`).
_DEFERRED = "notifier_deferred"
#: Execution option of a connection whose statements may take as long as they take (schema
#: migrations): the client-side deadline of :class:`Deadlines` leaves them alone.
NO_DEADLINE = "notifier_no_deadline"


@dataclass(frozen=True, slots=True)
class Deadlines:
    """How long the database may take, in seconds (the ``NOTIFIER_DB_*`` settings).

    PostgreSQL enforces ``statement`` and ``lock`` itself (``statement_timeout``,
    ``lock_timeout``) and cancels the statement. A server that does not answer at all (hung,
    stopped, cut off by the network) cannot cancel anything, so the client keeps a deadline
    too: a call still waiting :data:`MARGIN` seconds after ``statement`` (a ping or the pool's
    check after ``connect``) has its connection cut, and fails like any lost connection.
    """

    #: Opening a connection (libpq's ``connect_timeout``, at least 2 s).
    connect: float = 3.0
    #: One statement on PostgreSQL (``statement_timeout``).
    statement: float = 5.0
    #: Waiting for a lock on PostgreSQL (``lock_timeout``).
    lock: float = 2.0
    #: Waiting for a connection of the pool when all are in use.
    pool: float = 2.0
    #: Waiting for SQLite's write lock (its busy timeout).
    busy: float = 5.0

    #: Seconds the client waits past ``statement`` before it gives up on the server.
    MARGIN = 1.0

    def postgres_connect_args(self, options: str | None = None) -> dict[str, Any]:
        """libpq's parameters that carry these deadlines; ``options`` are kept in front."""
        server = f"-c statement_timeout={_ms(self.statement)} -c lock_timeout={_ms(self.lock)}"
        return {
            "connect_timeout": max(2, math.ceil(self.connect)),
            "options": f"{options} {server}" if options else server,
        }

    @property
    def call(self) -> float:
        """The client's deadline for one statement, commit or rollback."""
        return self.statement + self.MARGIN

    @property
    def ping(self) -> float:
        """The client's deadline for the pool's check that a connection still answers."""
        return max(2, math.ceil(self.connect)) + self.MARGIN


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _Listed(TypeDecorator[list[Any]]):
    """A list of ``element`` values bound as one parameter: a PostgreSQL array, or the JSON
    text SQLite's ``json_each`` reads."""

    impl = Text
    cache_ok = True

    def __init__(self, element: TypeEngine[Any]) -> None:
        super().__init__()
        self.element = element

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(self.element))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return dumps_json(list(value))


class _ListedIn(ColumnElement[bool]):
    """``column IN (...)`` over a list bound as one parameter (:func:`listed_in`)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a comparison: SQLite gets no "= 1" after it
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], values: BindParameter[Any]) -> None:
        self.column = column
        self.values = values


@compiles(_ListedIn)
def _compile_listed_in(element: _ListedIn, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    values = compiler.process(element.values, **kw)
    if compiler.dialect.name == "postgresql":
        return f"{column} = ANY({values})"
    return f"{column} IN (SELECT value FROM json_each({values}))"


def listed_in(
    column: ColumnElement[Any], key: str | None = None, values: Iterable[Any] | None = None
) -> ColumnElement[bool]:
    """The condition that ``column`` holds one of a list of values, bound as one parameter.

    ``column.in_(values)`` binds each value as a parameter of its own, so the statement's SQL
    is written again at every execution for as many values as it has; here the SQL stays the
    same whatever the count (``= ANY(array)`` on PostgreSQL, ``IN (SELECT value FROM
    json_each(...))`` on SQLite) and is compiled once.

    Args:
        column: The column.
        key: The parameter's name, to give its values at execution; None for ``values``.
        values: The values, bound with the statement.
    """
    listed = _Listed(column.type)
    param = bindparam(key, None if values is None else list(values), type_=listed)
    return _ListedIn(column, param)


class _Unindexed(ColumnElement[Any]):
    """A column SQLite's planner may not read through an index of it (:func:`unindexed`)."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(_Unindexed)
def _compile_unindexed(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(_Unindexed, "sqlite")
def _compile_unindexed_sqlite(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.column, **kw)}"


def unindexed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column``, for a condition SQLite must not answer from an index of it: SQLite's
    unary ``+``, its documented way to keep a term from an index. Without statistics
    (``ANALYZE``) its planner takes an equality on any indexed column as selective, and may
    walk every row of a common status rather than the few of a list of returns. PostgreSQL
    keeps statistics and chooses by them: it gets the column as it is."""
    return _Unindexed(column)


def one_of(column: str, values: Iterable[str]) -> str:
    """The SQL condition that ``column`` holds one of ``values`` (a CHECK constraint's)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


#: The CHECK constraints that keep each closed set's column to its vocabulary
#: (:mod:`notifier.status`), by table: constraint name -> condition.
VOCABULARY_CHECKS: dict[str, dict[str, str]] = {
    "returns": {"status": one_of("status", EventType)},
    "notifications": {
        "status": one_of("status", NotificationStatus),
        "channel": one_of("channel", Channel),
        "kind": one_of("kind", [*EventType, *ScheduledKind, *NotificationEvent]),
    },
    "suppressions": {"channel": one_of("channel", [Channel.EMAIL, Channel.SMS])},
}


def _checks(table: str) -> list[CheckConstraint]:
    return [CheckConstraint(sql, name=name) for name, sql in VOCABULARY_CHECKS[table].items()]


#: The big integer primary key type: BIGINT on PostgreSQL, INTEGER (rowid) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")

returns = Table(
    "returns",
    metadata,
    Column("return_id", String(128), primary_key=True),
    Column("order_id", String(128), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("status", String(40), nullable=False),
    Column("status_at", UTCDateTime(), nullable=False),
    Column("snapshot", JSON, nullable=False),
    Column("ship_by", Date, nullable=True),
    Column("label_expires_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    #: When retention removed the personal data of the return, its events and notifications;
    #: an event stored later (``updated_at`` after it) brings the return back into its scans.
    Column("purged_at", UTCDateTime(), nullable=True),
    Index("ix_returns_status_status_at", "status", "status_at"),
    Index("ix_returns_status_ship_by", "status", "ship_by"),
    Index("ix_returns_status_label_expires_at", "status", "label_expires_at"),
    Index("ix_returns_status_updated_at", "status", "updated_at"),
    Index("ix_returns_order_id", "order_id"),
    Index("ix_returns_customer_id", "customer_id"),
    Index("ix_returns_updated_at_return_id", "updated_at", "return_id"),
    *_checks("returns"),
)

events = Table(
    "events",
    metadata,
    Column("pk", BigId, primary_key=True, autoincrement=True),
    Column("api_key", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("type", String(40), nullable=False),
    Column("return_id", String(128), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("stale", Boolean, nullable=False, default=False),
    Column("note", Text, nullable=True),
    UniqueConstraint("api_key", "event_id"),
    Index("ix_events_return_id_occurred_at", "return_id", "occurred_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("event_pk", BigId, ForeignKey("events.pk"), primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("enqueued_at", UTCDateTime(), nullable=True),
    Column("dispatched_at", UTCDateTime(), nullable=True),
    Index("ix_outbox_dispatched_at_enqueued_at", "dispatched_at", "enqueued_at"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("event_pk", BigId, ForeignKey("events.pk"), nullable=True),
    Column("source", String(400), nullable=False),
    Column("return_id", String(128), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(2048), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("rule", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("data", JSON, nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("dead", Boolean, nullable=False, default=False),
    Column("provider", String(32), nullable=True),
    Column("provider_message_id", String(128), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("next_attempt_at", UTCDateTime(), nullable=True),
    Column("enqueued_at", UTCDateTime(), nullable=True),
    Column("claimed_until", UTCDateTime(), nullable=True),
    Column("claim_token", String(32), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Index("ix_notifications_return_id", "return_id"),
    Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
    # Only the sent ones have an id to look up (migration 0011).
    Index(
        "ix_notifications_provider_message_id",
        "provider_message_id",
        sqlite_where=text("provider_message_id IS NOT NULL"),
        postgresql_where=text("provider_message_id IS NOT NULL"),
    ),
    Index("ix_notifications_created_at_id", "created_at", "id"),
    # Only the dead letters, which are all its readers look for (migration 0012).
    Index(
        "ix_notifications_dead_status_updated_at_id",
        "dead",
        "status",
        "updated_at",
        "id",
        sqlite_where=text("dead IS 1"),
        postgresql_where=text("dead IS true"),
    ),
    *_checks("notifications"),
)
#: Finds a customer's notifications by their email address whatever its case, and by their
#: phone number (E.164, which has no case).
Index("ix_notifications_lower_recipient", func.lower(notifications.c.recipient))

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(128), primary_key=True),
    Column("email", Boolean, nullable=True),
    Column("sms", Boolean, nullable=True),
    Column("locale", String(16), nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_customers_updated_at", "updated_at"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("types", JSON, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("disabled_reason", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_suppressions_created_at_channel_address", "created_at", "channel", "address"),
    Index("ix_suppressions_channel_created_at_address", "channel", "created_at", "address"),
    *_checks("suppressions"),
)

#: The scheduler's record of each due moment it fired (at most once per rule, return, moment).
rule_firings = Table(
    "rule_firings",
    metadata,
    Column("rule", String(64), nullable=False),
    Column("return_id", String(128), nullable=False),
    Column("due_key", String(128), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("rule", "return_id", "due_key"),
)

#: Per rule: the definition last scanned for, and the moment up to which changes are seen.
scan_marks = Table(
    "scan_marks",
    metadata,
    Column("rule", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("scanned_until", UTCDateTime(), nullable=False),
)

#: The scheduler's agenda: per rule and open return, the next moment to look at it again.
#: ``version`` is the return's ``updated_at`` the moment was computed from.
rule_due = Table(
    "rule_due",
    metadata,
    Column("rule", String(64), nullable=False),
    Column("return_id", String(128), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("version", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("rule", "return_id"),
    Index("ix_rule_due_due_at_rule_return_id", "due_at", "rule", "return_id"),
    Index("ix_rule_due_customer_id", "customer_id"),
)


#: What support staff did in the console: every action that changes something or sends, and
#: every sign-in and failed sign-in (who, when, what, on which record).
staff_audit = Table(
    "staff_audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("staff", String(64), nullable=True),
    Column("action", String(40), nullable=False),
    Column("target", String(400), nullable=True),
    Column("detail", Text, nullable=True),
    Column("client", String(64), nullable=True),
    Index("ix_staff_audit_at", "at"),
    Index("ix_staff_audit_action_at", "action", "at"),
)

#: Erasures and access requests of customers' personal data (GDPR/AVG): who asked, when,
#: what, and what it found. The customer is kept as a fingerprint (a hash of the id,
#: :mod:`notifier.privacy`), never in clear, and nothing of the data itself.
privacy_audit = Table(
    "privacy_audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("subject", String(64), nullable=True),
    Column("counts", JSON, nullable=False),
    Index("ix_privacy_audit_at", "at"),
    Index("ix_privacy_audit_subject", "subject"),
)


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def insert_many(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) into ``table`` in ``connection``'s
    transaction, for the thousands of rows of a batch.

    On PostgreSQL with ``COPY``, which spares the server parsing and planning a statement
    per row (an ``executemany``), or statements of thousands of parameters (multi-row
    ``VALUES``); the server's statement timeout holds for it. On SQLite through
    :func:`execute_many`. A unique violation is raised as the driver's or SQLAlchemy's
    error, which :func:`is_conflict` recognizes alike.
    """
    if not rows:
        return
    defaults = {c.name: c.default for c in table.c if c.name not in rows[0] and c.default}
    if defaults:  # SQLAlchemy's own insert fills them in; this one does not
        raise ValueError(f"rows for {table.name} lack {', '.join(sorted(defaults))}")
    if connection.dialect.name == "postgresql":
        _copy(connection, table, list(rows[0]), rows)
    else:
        _execute(connection, _insert_of(table, tuple(rows[0]), connection.dialect), rows)


def execute_many(connection: Connection, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Execute ``statement`` (an insert, upsert or delete of SQLite with one parameter per
    key of ``rows``, all with the same keys) once for each of ``rows``, in one
    ``executemany`` of the driver: compiled once, each value bound by its parameter's type
    once per distinct object (:func:`_bound`), where SQLAlchemy constructs and binds every
    row's parameters."""
    if rows:
        _execute(connection, _compiled(statement, tuple(rows[0]), connection.dialect), rows)


#: A statement compiled for SQLite's driver: its SQL, its parameters' names in order, and the
#: bind processor of each position that has one.
_Compiled = tuple[str, list[str], dict[int, Callable[[Any], Any]]]


def _execute(connection: Connection, compiled: _Compiled, rows: Sequence[dict[str, Any]]) -> None:
    sql, names, processors = compiled
    params = [tuple(values) for values in _bound(rows, names, processors)]
    connection.exec_driver_sql(sql, params)


def _compiled(statement: Any, keys: tuple[str, ...], dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = list(compiled.positiontup or ())
    if compiled.dialect.paramstyle != "qmark" or set(names) != set(keys):
        raise ValueError("execute_many takes SQLite statements of one parameter per key")
    processors = {
        position: process
        for position, name in enumerate(names)
        if (process := _bind_processor(compiled.binds[name].type, dialect))
    }
    return compiled.string, names, processors


@functools.lru_cache(maxsize=32)
def _insert_of(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _Compiled:
    """The insert of ``keys`` into ``table``, compiled once: compiling an insert of
    ``notifications`` takes half a millisecond, as long as inserting the few rows of a
    dispatched batch."""
    return _compiled(insert(table), keys, dialect)


def _copy(
    connection: Connection, table: Table, columns: list[str], rows: Sequence[dict[str, Any]]
) -> None:
    processors: dict[int, Callable[[Any], Any]] = {}
    for position, name in enumerate(columns):
        type_ = table.c[name].type
        if isinstance(type_, JSON):
            processors[position] = partial(_document, none_as_null=type_.none_as_null)
        elif isinstance(type_, TypeDecorator):
            # Its own binding (a UTC time refuses a naive one, and is made UTC); the driver
            # adapts what it returns.
            processors[position] = partial(type_.process_bind_param, dialect=connection.dialect)
    raw: Any = connection.connection.driver_connection
    into = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(into) as copy:
        for values in _bound(rows, columns, processors):
            copy.write_row(values)


def _document(value: Any, none_as_null: bool) -> Any:
    """A JSON column's value for ``COPY``: None is JSON's null, as SQLAlchemy stores it,
    unless the column says otherwise."""
    if value is None and none_as_null:
        return None
    return PgJson(dumps_json(value), dumps=str)


def _bound(
    rows: Sequence[dict[str, Any]], names: list[str], processors: dict[int, Callable[[Any], Any]]
) -> Iterator[list[Any]]:
    """The values of ``names`` of each of ``rows``, those at a position of ``processors``
    passed through its processor once per distinct object: the rows of a batch share their
    times and documents. (The rows keep every value alive meanwhile, so ids stay distinct.)"""
    get = _values_of(names)
    work: list[tuple[int, Callable[[Any], Any], dict[int, Any]]] = [
        (position, process, {}) for position, process in processors.items()
    ]
    for row in rows:
        values = list(get(row))
        for position, process, seen in work:
            value = values[position]
            key = id(value)
            if key in seen:
                values[position] = seen[key]
            else:
                seen[key] = values[position] = process(value)
        yield values


def _values_of(columns: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The values of ``columns`` in a row, as a tuple (even of one)."""
    if len(columns) == 1:
        return lambda row: (row[columns[0]],)
    return itemgetter(*columns)


def _bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The bind processor SQLAlchemy's own statements use for ``type_`` on ``dialect``: that
    of its dialect's implementation (a ``TypeDecorator``'s own one uses the generic type's)."""
    return type_.dialect_impl(dialect).bind_processor(dialect)


def dumps_json(value: Any) -> str:
    """JSON columns' encoder: orjson, several times faster than the standard library's."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` is a transaction that lost a race with a concurrent one.

    Running the transaction again resolves it: the new run reads what the winner stored.
    SQLAlchemy's errors and the drivers' own (psycopg's, sqlite3's) are understood.
    """
    cause = error.orig if isinstance(error, DBAPIError) else error
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in CONFLICT_SQLSTATES
    return getattr(cause, "sqlite_errorname", None) in _SQLITE_CONFLICTS


#: Errors that say the database cannot be reached or used now (down, not answering, too slow,
#: a lock not granted in time, no free connection), rather than that the work is at fault.
UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    PoolTimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    TimeoutError,
)


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be used now (:data:`UNAVAILABLE`), and not
    that a transaction lost a race (:func:`is_conflict`): trying the same work again at once,
    or in parts, would only wait again."""
    return isinstance(error, UNAVAILABLE) and not is_conflict(error)


def retry_on_conflict(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in a transaction, and again in a new one while it loses races.

    ``work`` must read what it decides on inside its transaction, so that a new run sees what
    the concurrent transaction stored. At most :data:`CONFLICT_ATTEMPTS` runs in all.

    Returns:
        What the committed run of ``work`` returned.

    Raises:
        DBAPIError, psycopg.Error: an error that is not a conflict (:func:`is_conflict`), or
            the last run's conflict; psycopg's own from a ``COPY`` (:func:`insert_many`),
            which bypasses SQLAlchemy's wrapping.
    """
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            with engine.begin() as connection:
                return work(connection)
        except (DBAPIError, psycopg.Error) as error:
            if not _run_again(error, attempt):
                raise
    raise AssertionError("unreachable")


async def retry_on_conflict_async(run: Callable[[], Awaitable[T]]) -> T:
    """:func:`retry_on_conflict` for a transaction run on an event loop.

    Args:
        run: runs the whole transaction once (``BEGIN`` to ``COMMIT``) and leaves the
            connection out of any transaction when it fails.
    """
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return await run()
        except Exception as error:
            if not _run_again(error, attempt):
                raise
    raise AssertionError("unreachable")


def _run_again(error: Exception, attempt: int) -> bool:
    return attempt < CONFLICT_ATTEMPTS and is_conflict(error)


@contextmanager
def read_only(engine: Engine) -> Iterator[Connection]:
    """A connection that only reads: its transaction refuses every write and is rolled back.

    PostgreSQL runs it as a ``READ ONLY`` transaction. SQLite begins it deferred, so it takes
    no write lock (it neither waits for a writer nor holds one up), with ``PRAGMA query_only``
    on for as long as it lasts. The connection goes back to the pool as it came.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(postgresql_readonly=True)
            yield connection
            return
        connection.execution_options(**{_DEFERRED: True})
        raw: Any = connection.connection.driver_connection
        raw.execute("PRAGMA query_only = ON")
        try:
            yield connection
        finally:
            connection.rollback()
            raw.execute("PRAGMA query_only = OFF")


def make_engine(url: str, *, deadlines: Deadlines | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url``, with SQLite set up for concurrent threads.

    SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` transactions, so a reader that
    later writes never dead-locks with another writer (:func:`read_only` connections, which
    never write, begin deferred). The threads of one process take turns at writing through a
    lock of the engine's (:class:`_WriteTurns`), so a writer waiting for another starts as
    soon as that one has committed. PostgreSQL gets the connect, statement, lock and pool
    deadlines of ``deadlines``, and the client's own deadline for a server that stops
    answering (:class:`Deadlines`). JSON columns use orjson both ways.
    """
    deadlines = deadlines or Deadlines()
    kwargs.setdefault("json_serializer", dumps_json)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        if "poolclass" not in kwargs and make_url(url).database not in (None, "", ":memory:"):
            kwargs.setdefault("pool_timeout", deadlines.pool)  # a file's pool is a queue
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": deadlines.busy}, **kwargs
        )
        _tune_sqlite(engine, deadlines.busy)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_timeout", deadlines.pool)
    ping_idle = "pool_pre_ping" not in kwargs
    options = make_url(url).query.get("options")
    connect_args = deadlines.postgres_connect_args(
        options if isinstance(options, str) or options is None else " ".join(options)
    )
    kwargs["connect_args"] = {**connect_args, **kwargs.get("connect_args", {})}
    engine = create_engine(url, **kwargs)
    if ping_idle:
        _ping_when_idle(engine)
    if engine.dialect.driver == "psycopg":
        _keep_deadlines(engine, deadlines)
    return engine


#: Seconds a pooled PostgreSQL connection may have been idle and still be handed out
#: without a ping.
PING_AFTER_IDLE = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a PostgreSQL connection taken from the pool only when it has been idle there for
    more than :data:`PING_AFTER_IDLE` seconds, and replace it when the ping fails.

    A connection is dropped by a server restart, a proxy's or the server's idle timeout, or
    a network that went away: after idle time. SQLAlchemy's ``pool_pre_ping`` pings at every
    checkout, a round trip for each of the statements a delivery runs on its own (a sixth
    of its database time) for connections put back a moment ago; one cut in that moment
    fails its statement, and the pool then replaces all it holds.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure: the connection is gone
            raise DisconnectionError("the pooled connection did not answer a ping") from error
        if not alive:
            raise DisconnectionError("the pooled connection did not answer a ping")


class _Watchdog:
    """Cuts the connection of a database call that has outlived its deadline.

    A call arms it before it waits for the server and disarms it once answered; a thread of
    its own looks every :data:`TICK` seconds for calls past their deadline and shuts their
    socket down, so the waiting call fails at once as on a lost connection (and the pool
    drops the connection). One watchdog serves every engine of the process; its thread ends
    when nothing has been armed for a while and starts again with the next call.
    """

    TICK = 0.1
    #: Seconds with nothing armed after which the thread ends.
    IDLE_STOP = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[float, Any]] = {}
        self._thread: threading.Thread | None = None
        self._last_armed = 0.0

    def arm(self, dbapi_connection: Any, seconds: float) -> None:
        now = time.monotonic()
        with self._lock:
            self._armed[id(dbapi_connection)] = (now + seconds, dbapi_connection)
            self._last_armed = now
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="notifier-db-deadlines", daemon=True
                )
                self._thread.start()

    def disarm(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._armed.pop(id(dbapi_connection), None)

    def _watch(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:
                late = [key for key, (deadline, _) in self._armed.items() if deadline <= now]
                for key in late:
                    _, connection = self._armed.pop(key)
                    cut(connection)
                if not self._armed and now - self._last_armed > self.IDLE_STOP:
                    self._thread = None
                    return


def cut(dbapi_connection: Any) -> None:
    """Shut a psycopg connection's socket down: whoever waits on it gets an error at once.

    The way to give up on a server that does not answer: a cancel request would need the
    server to answer it.
    """
    try:
        fd = dbapi_connection.pgconn.socket
        sock = socket.socket(fileno=os.dup(fd))
    except Exception:  # noqa: BLE001 - closed meanwhile: nothing waits on it any more
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


_WATCHDOG = _Watchdog()


def _keep_deadlines(engine: Engine, deadlines: Deadlines) -> None:
    """Arm the watchdog around every statement, commit, rollback and ping of ``engine``."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, _cursor: Any, *_: Any) -> None:
        if not conn.get_execution_options().get(NO_DEADLINE, False):
            _WATCHDOG.arm(conn.connection.dbapi_connection, deadlines.call)

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, *_: Any) -> None:
        _WATCHDOG.disarm(conn.connection.dbapi_connection)

    @event.listens_for(engine, "handle_error")
    def _error(context: Any) -> None:
        connection = context.connection
        if connection is not None and not connection.invalidated:
            _WATCHDOG.disarm(connection.connection.dbapi_connection)

    dialect: Any = engine.dialect
    for name, seconds in (
        ("do_commit", deadlines.call),
        ("do_rollback", deadlines.call),
        ("do_ping", deadlines.ping),
    ):
        setattr(dialect, name, _within(getattr(dialect, name), seconds))


def _within(call: Callable[[Any], T], seconds: float) -> Callable[[Any], T]:
    def bounded(dbapi_connection: Any) -> T:
        raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        _WATCHDOG.arm(raw, seconds)
        try:
            return call(dbapi_connection)
        finally:
            _WATCHDOG.disarm(raw)

    return bounded


class _WriteTurns:
    """The turns of one process's threads at writing to a SQLite database.

    SQLite lets one transaction write at a time; a ``BEGIN IMMEDIATE`` that finds the database
    locked is retried by SQLite's busy handler, which sleeps between tries (1 ms, then 2, 5,
    10, ... up to 100 ms): with many short write transactions from a few threads, most of the
    time is spent asleep while the database is free. Here a write transaction first takes an
    in-process lock, released once it has committed or rolled back, so the next writer of the
    process starts at once. Other processes are still held off by SQLite's own lock.
    """

    def __init__(self, wait: float) -> None:
        #: Seconds to wait for the lock before leaving the wait to SQLite's busy timeout.
        self.wait = wait
        self._lock = threading.Lock()
        self._holders: set[int] = set()

    def take(self, dbapi_connection: Any) -> None:
        key = id(dbapi_connection)
        if key in self._holders:
            return
        if self._lock.acquire(timeout=self.wait):
            self._holders.add(key)

    def give_back(self, dbapi_connection: Any) -> None:
        key = id(getattr(dbapi_connection, "dbapi_connection", dbapi_connection))
        if key in self._holders:
            self._holders.discard(key)
            self._lock.release()


def _tune_sqlite(engine: Engine, busy: float) -> None:
    turns = _WriteTurns(busy)
    dialect: Any = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            turns.give_back(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            turns.give_back(dbapi_connection)

    # The dialect's own commit and rollback, followed by the end of the writer's turn.
    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback

    # A connection that goes back to the pool, or is dropped, mid-transaction (an error)
    # ends its turn too.
    for name in ("checkin", "invalidate", "close", "detach"):
        event.listen(
            engine.pool, name, lambda dbapi_connection, *_: turns.give_back(dbapi_connection)
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_ms(busy)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        raw = connection.connection.dbapi_connection
        if connection.get_execution_options().get(_DEFERRED, False):
            _begin(raw, "BEGIN")
            return
        turns.take(raw)
        try:
            _begin(raw, "BEGIN IMMEDIATE")
        except BaseException:
            turns.give_back(raw)
            raise


def _begin(dbapi_connection: Any, statement: str) -> None:
    """Run a SQLite ``BEGIN`` on the driver's connection itself.

    Through SQLAlchemy (``exec_driver_sql``) it took 8 µs, a quarter of an empty write
    transaction, for its events, cursor and result; on the connection, under 1 µs. A failure
    (a database still locked when the busy timeout ran out) is raised as SQLAlchemy raises
    it, an :class:`~sqlalchemy.exc.OperationalError` (:func:`is_unavailable`).
    """
    try:
        dbapi_connection.execute(statement)
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error
