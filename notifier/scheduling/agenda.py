"""The scheduler's agenda: per rule and open return, the next moment to look at it again.

One ``rule_due`` row per rule and return that still has a due moment ahead, with that
moment in UTC. A scan reads the rows due by now through the ``(due_at, rule, return_id)``
index, a page at a time, and moves each to the return's next moment or removes it. Rows are
written with the ``updated_at`` of the return they were computed from (``version``), and
never overwritten or removed from an older one, so a scheduler that read a return just
before it changed cannot undo what another wrote from the change.

A rule's *mark* (table ``scan_marks``) says up to when its agenda is complete, and for which
definition of the rule (its fingerprint): a scan brings it up to date from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from notifier import db

_d = db.rule_due.c
_m = db.scan_marks.c


@dataclass(frozen=True, slots=True)
class Entry:
    """What a rule's look at one return leaves for the next scan: ``due_at`` None removes it."""

    rule: str
    return_id: str
    customer_id: str
    due_at: datetime | None
    version: datetime


class Agenda:
    """Reads and writes the ``rule_due`` table; see the module docstring."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def due(self, now: datetime, page: int) -> Iterator[list[Any]]:
        """Rows (``rule``, ``return_id``, ``due_at``) due by ``now``, in pages, oldest first."""
        keys = (_d.due_at, _d.rule, _d.return_id)
        base = select(*keys).where(_d.due_at <= now).order_by(*keys).limit(page)
        after: tuple[Any, ...] | None = None
        while True:
            if after is None:
                query = base
            else:
                last = tuple_(*(literal(v, k.type) for k, v in zip(keys, after, strict=True)))
                query = base.where(tuple_(*keys) > last)
            with db.read_only(self._engine) as connection:
                rows = list(connection.execute(query).all())
            if rows:
                yield rows
            if len(rows) < page:
                return
            after = tuple(rows[-1])

    def of_customers(self, rule: str, customer_ids: Sequence[str]) -> list[str]:
        """The returns with an entry for ``rule`` whose customer is one of ``customer_ids``."""
        # By customer alone, so that every backend takes the customer_id index.
        query = select(_d.rule, _d.return_id).where(
            db.listed_in(_d.customer_id, values=customer_ids)
        )
        with db.read_only(self._engine) as connection:
            return [row.return_id for row in connection.execute(query) if row.rule == rule]

    def write(self, entries: Iterable[Entry]) -> None:
        """Move each return's entry to its next moment, or remove it, in one transaction
        (entries of several rules alike); see the module docstring."""
        ordered = sorted(entries, key=lambda e: (e.rule, e.return_id))  # one lock order
        moved = [e for e in ordered if e.due_at is not None]
        gone = [e for e in ordered if e.due_at is None]
        if not ordered:
            return
        with self._engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                _write_json(connection, moved, gone)
                return
            if moved:
                db.execute_many(
                    connection,
                    _upsert(connection),
                    [
                        {
                            "rule": e.rule,
                            "return_id": e.return_id,
                            "customer_id": e.customer_id,
                            "due_at": e.due_at,
                            "version": e.version,
                        }
                        for e in moved
                    ],
                )
            if gone:
                db.execute_many(
                    connection,
                    delete(db.rule_due).where(
                        _d.rule == bindparam("name"),
                        _d.return_id == bindparam("key"),
                        _d.version <= bindparam("seen"),
                    ),
                    [{"name": e.rule, "key": e.return_id, "seen": e.version} for e in gone],
                )

    def remove(self, rule: str, return_ids: Sequence[str]) -> None:
        """Remove the entries of ``rule`` for ``return_ids`` whatever their version."""
        if not return_ids:
            return
        with self._engine.begin() as connection:
            connection.execute(
                delete(db.rule_due).where(
                    _d.rule == rule, db.listed_in(_d.return_id, values=return_ids)
                )
            )

    def clear(self, rule: str) -> None:
        """Remove every entry of ``rule`` (its definition changed, or it is gone)."""
        with self._engine.begin() as connection:
            connection.execute(delete(db.rule_due).where(_d.rule == rule))

    def mark(self, rule: str, fingerprint: str) -> datetime | None:
        """Up to when the agenda of ``rule`` is complete; None if never, or for another
        definition of the rule than ``fingerprint``."""
        with db.read_only(self._engine) as connection:
            row = connection.execute(
                select(_m.scanned_until, _m.fingerprint).where(_m.rule == rule)
            ).first()
        if row is None or row.fingerprint != fingerprint:
            return None
        return row.scanned_until  # type: ignore[no-any-return]

    def advance(self, rule: str, fingerprint: str, now: datetime) -> None:
        """Record that the agenda of ``rule`` is complete up to ``now``; a mark never moves
        back. When another scheduler creates the mark first, the mark is updated instead."""
        db.retry_on_conflict(
            self._engine, lambda connection: _advance(connection, rule, fingerprint, now)
        )

    def keep_only(self, rules: Sequence[str]) -> None:
        """Drop the marks and entries of every rule but ``rules``: if one comes back, its
        first scan fills its agenda again."""
        with db.read_only(self._engine) as connection:
            gone = list(connection.execute(select(_m.rule).where(_m.rule.not_in(rules))).scalars())
        for name in gone:
            self.clear(name)
            with self._engine.begin() as connection:
                connection.execute(delete(db.scan_marks).where(_m.rule == name))


def _advance(connection: Connection, rule: str, fingerprint: str, now: datetime) -> None:
    moved = or_(_m.scanned_until < now, _m.fingerprint != fingerprint)
    changed = connection.execute(
        update(db.scan_marks)
        .where(_m.rule == rule, moved)
        .values(scanned_until=now, fingerprint=fingerprint)
    ).rowcount
    if changed or connection.execute(select(_m.rule).where(_m.rule == rule)).first():
        return
    connection.execute(
        insert(db.scan_marks).values(rule=rule, fingerprint=fingerprint, scanned_until=now)
    )


#: The upsert of :meth:`Agenda.write` on PostgreSQL: every entry in one statement, from one
#: JSON document (a first scan writes an entry for nearly every open return and rule; one
#: statement per entry would make the server parse and plan each). orjson writes the
#: entries, their times with their UTC offset, in C; arrays took psycopg a Python loop per
#: element of each of five, about 1.3 s of a first scan of a million returns.
_UPSERT_JSON = text(
    """
    INSERT INTO rule_due (rule, return_id, customer_id, due_at, version)
    SELECT rule, return_id, customer_id, due_at, version
    FROM json_to_recordset(CAST(:entries AS json)) AS moved(
        rule varchar, return_id varchar, customer_id varchar, due_at timestamptz,
        version timestamptz)
    ON CONFLICT (rule, return_id) DO UPDATE
    SET customer_id = excluded.customer_id, due_at = excluded.due_at, version = excluded.version
    WHERE rule_due.version <= excluded.version
    """
)
_DELETE_JSON = text(
    """
    DELETE FROM rule_due
    USING json_to_recordset(CAST(:entries AS json))
        AS gone(rule varchar, return_id varchar, version timestamptz)
    WHERE rule_due.rule = gone.rule AND rule_due.return_id = gone.return_id
    AND rule_due.version <= gone.version
    """
)


def _write_json(connection: Connection, moved: list[Entry], gone: list[Entry]) -> None:
    # The JSON bypasses the column type that refuses a naive time, and PostgreSQL would read
    # one in its session's time zone.
    for entry in (*moved, *gone):
        if entry.version.tzinfo is None or (entry.due_at and entry.due_at.tzinfo is None):
            raise ValueError(f"agenda entry of {entry.return_id} has a time without its offset")
    if moved:
        connection.execute(_UPSERT_JSON, {"entries": db.dumps_json(moved)})
    if gone:
        connection.execute(_DELETE_JSON, {"entries": db.dumps_json(gone)})


def _upsert(connection: Connection) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(db.rule_due)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[_d.rule, _d.return_id],
        set_={"customer_id": new.customer_id, "due_at": new.due_at, "version": new.version},
        where=_d.version <= new.version,
    )
