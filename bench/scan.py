"""Scheduler scan benchmark: one scan over a large table of open returns.

Fills a fresh database with ``--rows`` open returns in mixed states (requested, approved,
label created, in transit, received, inspected), their status times spread over the last
days so that a few percent are past a rule's threshold, ship-by dates over the next two
weeks and label expiry on the ship-by day. Then, each in a fresh child process so that its
peak memory is the scan's own:

1. the first scan ever (no scan marks: it reads every return that can have a due moment
   by now within the catch-up age, catches up every due reminder and nudge, and puts the
   next moments of those returns in the scheduler's agenda; the other returns are read by
   the later scan in whose reach their first moment comes);
2. a steady-state scan five minutes later (what runs every NOTIFIER_SCAN_INTERVAL).

The fill's writes are flushed to disk (``os.sync``) before the first scan, so that the
scan does not pay for them.

For each it prints wall time and the scanning process's CPU time (user and system; the
database server's own work on PostgreSQL is not in it), returns read (candidates), due
moments fired, notifications planned, and the child's peak RSS (and the RSS of the same
child before it scanned).
Deliveries are not queued (a counting stand-in replaces Redis), so the figures are the
scan's alone.

    .venv/bin/python bench/scan.py --backend sqlite --rows 1000000
    .venv/bin/python bench/scan.py --backend postgresql --rows 1000000

How many moments are due depends on the time of day (reminders go out in the customer's
morning): on a million returns, 99,402 at 22:00 UTC, 76,791 at 05:53 UTC.
``--now 2026-11-26T22:00:00+00:00`` fills and scans as if it were then, for figures that do
not depend on when the benchmark runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

#: (status, share of the open returns, the oldest its status time may be, in days).
MIX = (
    ("return.requested", 0.12, 2.1),
    ("return.approved", 0.12, 7.0),
    ("return.label_created", 0.18, 7.0),
    ("return.in_transit", 0.16, 4.0),
    ("return.received", 0.24, 5.2),
    ("return.inspected", 0.18, 3.1),
)
#: Rows written per transaction (SQLite) or per COPY chunk (PostgreSQL).
BATCH = 50_000
_COLUMNS = (
    "return_id, order_id, customer_id, status, status_at, snapshot, ship_by, "
    "label_expires_at, created_at, updated_at"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--now",
        type=_moment,
        help="the moment to fill and scan at, ISO 8601 with an offset (default: the clock); "
        "how many moments are due depends on the time of day",
    )
    parser.add_argument("--scan", help=argparse.SUPPRESS)
    parser.add_argument("--at", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scan:
        return _scan_child(args.scan, datetime.fromisoformat(args.at))
    print(f"cores: {os.cpu_count()}, backend: {args.backend}, rows: {args.rows:,}")
    with (
        tempfile.TemporaryDirectory(prefix="notifier-bench-") as directory,
        _database(args.backend, Path(directory)) as url,
    ):
        now = args.now or datetime.now(UTC).replace(microsecond=0)
        started = time.perf_counter()
        _fill(url, args.rows, now)
        print(f"fill: {time.perf_counter() - started:.1f} s")
        os.sync()
        for name, moment in (("first scan", now), ("steady scan", now + timedelta(minutes=5))):
            _measure(name, url, moment)
    return 0


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (say +00:00)")
    return moment


def _measure(name: str, url: str, moment: datetime) -> None:
    command = [sys.executable, __file__, "--scan", url, "--at", moment.isoformat()]
    child = subprocess.run(command, check=True, capture_output=True, text=True)
    figures = json.loads(child.stdout)
    print(
        f"{name}: {figures['seconds']:.2f} s (CPU {figures['cpu']:.1f} s), "
        f"{figures['candidates']:,} candidates, "
        f"{figures['fired']:,} due, {figures['notifications']:,} notifications, "
        f"peak RSS {figures['peak_mb']:.0f} MB (before the scan: {figures['base_mb']:.0f} MB)"
    )


class _database:
    """A fresh, migrated database; PostgreSQL from pgserver."""

    def __init__(self, backend: str, directory: Path) -> None:
        self._backend = backend
        self._directory = directory
        self._server: Any = None

    def __enter__(self) -> str:
        from notifier import db, migrate

        if self._backend == "sqlite":
            url = f"sqlite:///{self._directory / 'bench.db'}"
        else:
            import pgserver

            self._server = pgserver.get_server(str(self._directory / "pg"), cleanup_mode="stop")
            url = f"postgresql+psycopg://postgres@/postgres?host={self._directory / 'pg'}"
        engine = db.make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        return url

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.cleanup()


def _rows(count: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(42)
    statuses = [m[0] for m in MIX]
    weights = [m[1] for m in MIX]
    oldest = {m[0]: m[2] for m in MIX}
    for number in range(count):
        status = rng.choices(statuses, weights)[0]
        status_at = now - timedelta(days=rng.uniform(0, oldest[status]))
        ship_by = expires = None
        if status in ("return.approved", "return.label_created"):
            ship_by = (status_at + timedelta(days=14 - oldest[status] + rng.uniform(0, 3))).date()
            if status == "return.label_created":
                expires = datetime.combine(ship_by, datetime.max.time(), UTC).replace(microsecond=0)
        return_id = f"RMA-{number:07}"
        snapshot = _snapshot(return_id, number, status, status_at, ship_by, expires)
        yield (
            return_id,
            f"ORD-{number:07}",
            f"C-{number % 400_000}",
            status,
            status_at,
            json.dumps(snapshot),
            ship_by,
            expires,
            now,
            status_at,
        )


def _snapshot(
    return_id: str, number: int, status: str, at: datetime, ship_by: Any, expires: Any
) -> dict[str, Any]:
    from notifier.http import EXAMPLE_EVENT

    snapshot = json.loads(json.dumps(EXAMPLE_EVENT))
    snapshot.update(event_id=f"evt-{number}", type=status, occurred_at=at.isoformat())
    snapshot["return"].update(id=return_id, order_id=f"ORD-{number:07}")
    snapshot["return"]["ship_by"] = ship_by.isoformat() if ship_by else None
    snapshot["return"]["label"]["expires_at"] = expires.isoformat() if expires else None
    snapshot["customer"].update(id=f"C-{number % 400_000}", email=f"c{number}@example.nl")
    return snapshot  # type: ignore[no-any-return]


def _fill(url: str, count: int, now: datetime) -> None:
    from notifier import db

    engine = db.make_engine(url)
    rows = _rows(count, now)
    with engine.connect() as connection:
        raw: Any = connection.connection.dbapi_connection
        while batch := [row for _, row in zip(range(BATCH), rows, strict=False)]:
            if url.startswith("sqlite"):
                cursor = raw.cursor()
                cursor.execute("BEGIN")
                cursor.executemany(
                    f"INSERT INTO returns ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [_sqlite(row) for row in batch],
                )
                cursor.execute("COMMIT")
            else:
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY returns ({_COLUMNS}) FROM STDIN") as copy,
                ):
                    for row in batch:
                        copy.write_row(row)
                raw.commit()
        if not url.startswith("sqlite"):
            raw.autocommit = True
            raw.execute("VACUUM ANALYZE returns")
    engine.dispose()


def _sqlite(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """SQLite stores times as SQLAlchemy does: naive UTC text."""
    return tuple(
        v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        if isinstance(v, datetime)
        else (v.isoformat() if hasattr(v, "isoformat") else v)
        for v in row
    )


def _scan_child(url: str, now: datetime) -> int:
    from notifier import db, processes
    from notifier.dispatch import Planner
    from notifier.scheduling import DEFAULT_RULES, RuleSet, Scheduler
    from notifier.settings import DEFAULTS

    zone = "Europe/Amsterdam"

    engine = db.make_engine(url)
    queued: list[str] = []
    scheduler = Scheduler(
        engine,
        Planner("nl", zone),
        RuleSet(DEFAULT_RULES),
        enqueue=queued.append,
        staff_email="support@example.nl",
        staff_locale="nl",
        default_timezone=zone,
        catchup_max_age=timedelta(seconds=DEFAULTS.catchup_max_age),
        nudge_min_gap=timedelta(seconds=DEFAULTS.nudge_min_gap),
    )
    processes.tune_garbage_collector()  # as `notifier scheduler` does before it scans
    base = _peak_mb()
    started, cpu = time.perf_counter(), os.times()
    report = scheduler.scan(now)
    seconds = time.perf_counter() - started
    spent = os.times()
    engine.dispose()
    figures = {
        "seconds": seconds,
        "cpu": spent.user - cpu.user + spent.system - cpu.system,
        "candidates": report.candidates,
        "fired": report.fired,
        "notifications": report.notifications,
        "peak_mb": _peak_mb(),
        "base_mb": base,
    }
    print(json.dumps(figures))
    return 0


def _peak_mb() -> float:
    """This process's peak resident memory. On Linux ``VmHWM``, which, unlike ``ru_maxrss``,
    does not carry over the parent's peak through fork and exec."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(main())
