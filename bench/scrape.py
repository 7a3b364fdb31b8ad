"""Scrape benchmark: the cost of ``GET /metrics`` does not grow with the tables.

For each backend (SQLite, and PostgreSQL from ``pgserver``), fills a fresh database with
``--rows`` notifications, as many events and their outbox rows (all dispatched but the last
10), with one statement per table; then times ``--scrapes`` scrapes of the API's registry
(the outbox read from the database, the queues from a real redis-server) and prints them
next to the same against a database of 10 of each. It also times the scrape this replaced
(a ``GROUP BY`` over every notification, 5 times) and prints the plan of the outbox query.

    .venv/bin/python bench/scrape.py
    .venv/bin/python bench/scrape.py --backend sqlite --rows 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, func, select, text

from notifier import db, migrate
from notifier.metrics import Metrics
from notifier.queue import EmbeddedRedis

#: The rows of each table, numbered 1..rows (``n``); ``:now`` is every timestamp but the
#: outbox's ``dispatched_at``, ``{later}``: ``n`` seconds later, each row's its own, as
#: dispatch writes them (a column of one repeated value would make its index look useless
#: to SQLite's ``ANALYZE``).
_FILL = {
    "events": (
        "pk, api_key, event_id, type, return_id, occurred_at, received_at, body_hash, "
        "payload, stale",
        "n, 'shop', 'evt-' || n, 'return.approved', 'RMA-' || n, :now, :now, 'x', '{}', false",
    ),
    "outbox": (
        "event_pk, created_at, enqueued_at, dispatched_at",
        "n, :now, :now, CASE WHEN n > :rows - 10 THEN NULL ELSE {later} END",
    ),
    "notifications": (
        "id, event_pk, source, return_id, customer_id, kind, channel, recipient, locale, "
        "timezone, status, attempts, dead, created_at, updated_at",
        "'ntf_' || n, n, 'event:' || n, 'RMA-' || n, 'C-' || n, 'return.approved', "
        "CASE n % 3 WHEN 0 THEN 'email' WHEN 1 THEN 'sms' ELSE 'webhook' END, "
        "'c' || n || '@example.nl', 'nl', 'Europe/Amsterdam', "
        "CASE n % 4 WHEN 0 THEN 'sent' WHEN 1 THEN 'delivered' WHEN 2 THEN 'failed' "
        "ELSE 'queued' END, 1, false, :now, :now",
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scrapes", type=int, default=100)
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    print(f"cores: {os.cpu_count()}, scrapes: {args.scrapes}")
    with (
        tempfile.TemporaryDirectory(prefix="notifier-bench-") as directory,
        EmbeddedRedis(Path(directory) / "redis", appendonly=False) as redis_server,
    ):
        for backend in backends:
            for rows in (10, args.rows):
                with _database(backend, Path(directory) / f"{backend}-{rows}") as engine:
                    _measure(backend, engine, rows, redis_server.url, args.scrapes)
    return 0


def _measure(backend: str, engine: Engine, rows: int, redis_url: str, scrapes: int) -> None:
    started = time.perf_counter()
    _fill(engine, rows)
    filled = time.perf_counter() - started
    metrics = Metrics()
    metrics.watch_state(engine, redis_url, "notifier", ["events", "deliveries"])
    metrics.render()  # the first opens the connections
    times = []
    for _ in range(scrapes):
        began = time.perf_counter()
        body = metrics.render()
        times.append(time.perf_counter() - began)
    metrics.close()
    assert b"notifier_outbox_pending 10.0" in body, body
    times.sort()
    median, p99 = statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000
    old = _old_scrape(engine)
    print(
        f"{backend:10} {rows:>9,} notifications (filled in {filled:5.1f} s): scrape median "
        f"{median:6.2f} ms, p99 {p99:6.2f} ms, max {times[-1] * 1000:6.2f} ms; "
        f"the GROUP BY scrape it replaced: {old * 1000:8.1f} ms"
    )
    if rows > 10:
        print(f"  outbox query plan: {_plan(engine)}")


def _fill(engine: Engine, rows: int) -> None:
    sqlite = engine.dialect.name == "sqlite"
    moment = datetime.now(UTC)
    now = bindparam("now", moment, type_=db.UTCDateTime())
    later = (
        "datetime(:epoch + n, 'unixepoch') || '.000000'"
        if sqlite
        else "CAST(:now AS timestamptz) + n * interval '1 second'"
    )
    with engine.begin() as connection:
        for table, (columns, template) in _FILL.items():
            values = template.replace("{later}", later)
            if sqlite:
                statement = (
                    f"INSERT INTO {table} ({columns}) WITH RECURSIVE s(n) AS "
                    f"(SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :rows) "
                    f"SELECT {values} FROM s"
                )
            else:
                statement = (
                    f"INSERT INTO {table} ({columns}) SELECT {values} "
                    f"FROM generate_series(1, :rows) AS s(n)"
                )
            parameters: dict[str, Any] = {"rows": rows}
            if ":epoch" in statement:
                parameters["epoch"] = int(moment.timestamp())
            connection.execute(text(statement).bindparams(now), parameters)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def _old_scrape(engine: Engine) -> float:
    """The median of 5 runs of the notifications count the scrape used to run."""
    n = db.notifications.c
    times = []
    for _ in range(5):
        began = time.perf_counter()
        with engine.connect() as connection:
            connection.execute(
                select(n.status, n.channel, func.count()).group_by(n.status, n.channel)
            ).all()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _plan(engine: Engine) -> str:
    o = db.outbox.c
    query = select(func.count(), func.min(o.created_at)).where(o.dispatched_at.is_(None))
    compiled = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows: list[Any] = connection.execute(text(explain + compiled)).all()
    return " | ".join(str(row[-1]).strip() for row in rows)


@contextmanager
def _database(backend: str, directory: Path) -> Iterator[Engine]:
    """A fresh, migrated database; PostgreSQL from pgserver."""
    directory.mkdir(parents=True)
    server = None
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'bench.db'}"
    else:
        import pgserver

        server = pgserver.get_server(str(directory / "pg"), cleanup_mode="stop")
        url = f"postgresql+psycopg://postgres@/postgres?host={directory / 'pg'}"
    engine = db.make_engine(url)
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
