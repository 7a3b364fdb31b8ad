"""The statements some code sends to a database, and SQLite's plans for them.

A test that a read finds its rows through an index records the statements the read sends
(:func:`recorded`) and asks SQLite how it runs each (:func:`plan`). SQLite's plans, made
without statistics, are the same for a few rows as for millions; PostgreSQL's for a few rows
say nothing about its plans for many, so these tests run on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def recorded(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The statements (SQL and parameters) sent through ``engine`` inside the block."""
    statements: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:  # connection, cursor, statement, parameters, ...
        statements.append((args[2], args[3]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan(engine: Engine, statement: str, parameters: Any) -> str:
    """SQLite's plan for ``statement``: its steps, joined by `` / ``."""
    with engine.connect() as connection:
        steps = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return " / ".join(str(step[-1]) for step in steps)
