"""Fault injection (slow; run in CI): PostgreSQL or Redis stopped with SIGSTOP for 20 s under
load, then resumed with SIGCONT. No request waits past its deadline, ``/healthz`` always
answers at once, nothing accepted is lost and nothing is sent twice.

The API and the worker run as real processes on PostgreSQL and a redis-server (the rig of
:mod:`tests.fault_harness`); clients post events, read a return and ask ``/healthz`` and
``/readyz`` all along, timing every answer. An event answered 503 (or not at all) is posted
again after the fault, as a return system would.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import select

from notifier import db
from tests.conftest import Postgres
from tests.fault_harness import API_KEY, Rig, _event, rig

pytestmark = pytest.mark.slow

#: Seconds the dependency stays stopped.
STOPPED = 20.0
#: Clients posting events at the same time, and the seconds each waits between two posts
#: (about 15 events a second in all: a load the worker keeps up with on a small machine).
POSTERS = 4
PAUSE = 0.25
AUTH = {"Authorization": f"Bearer {API_KEY}"}
#: The deadlines the rig runs with (the defaults), and what each answer may take at most.
INTAKE_DEADLINE = 3.0
LIMITS = {"post": INTAKE_DEADLINE + 1.5, "read": 8.0, "healthz": 1.0, "readyz": 2.0}


@dataclass
class _Timings:
    """Every answer of one kind: its status (0: no answer) and the seconds it took."""

    answers: list[tuple[int, float]] = field(default_factory=list)
    #: The seconds of the answers to requests made while the dependency was stopped.
    stopped: list[float] = field(default_factory=list)

    def add(self, status: int, took: float, stopped: bool) -> None:
        self.answers.append((status, took))
        if stopped:
            self.stopped.append(took)

    @property
    def slowest(self) -> float:
        return max((took for _, took in self.answers), default=0.0)

    def line(self) -> str:
        statuses = dict(sorted(Counter(status for status, _ in self.answers).items()))
        during = sorted(self.stopped) or [0.0]
        return (
            f"{len(self.answers)} answers {statuses}, max {self.slowest:.2f} s; while stopped "
            f"{len(self.stopped)}, median {during[len(during) // 2]:.3f} s, max {during[-1]:.2f} s"
        )


class _Load:
    """Clients posting events, reading a return and asking /healthz and /readyz."""

    def __init__(self, faulty: Rig) -> None:
        self._rig = faulty
        self._stop = threading.Event()
        #: Set while the dependency is stopped.
        self.stopped = threading.Event()
        self.timings = {kind: _Timings() for kind in LIMITS}
        self.accepted: set[str] = set()
        self.refused: set[int] = set()
        self._lock = threading.Lock()
        self._next = 0
        self._threads = [threading.Thread(target=self._post) for _ in range(POSTERS)]
        self._threads += [
            threading.Thread(target=self._ask, args=(kind, path, pause))
            for kind, path, pause in (
                ("read", "/v1/returns/RMA-F0", 0.2),
                ("healthz", "/healthz", 0.1),
                ("readyz", "/readyz", 0.25),
            )
        ]

    def __enter__(self) -> _Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _timed(self, kind: str, request: Callable[[], httpx.Response]) -> int:
        stopped = self.stopped.is_set()
        started = time.monotonic()
        try:
            status = request().status_code
        except httpx.HTTPError:
            status = 0
        with self._lock:
            self.timings[kind].add(status, time.monotonic() - started, stopped)
        return status

    def _post(self) -> None:
        with httpx.Client(base_url=self._rig.base_url, timeout=60) as client:
            while not self._stop.is_set():
                with self._lock:
                    n, self._next = self._next, self._next + 1
                body = _event(n)
                status = self._timed(
                    "post", partial(client.post, "/v1/events", json=body, headers=AUTH)
                )
                with self._lock:
                    if status in (200, 202):
                        self.accepted.add(body["event_id"])
                    else:
                        self.refused.add(n)
                time.sleep(PAUSE)

    def _ask(self, kind: str, path: str, pause: float) -> None:
        with httpx.Client(base_url=self._rig.base_url, timeout=60) as client:
            while not self._stop.is_set():
                self._timed(kind, partial(client.get, path, headers=AUTH))
                time.sleep(pause)

    def post_refused_again(self) -> None:
        """Post every event that was not accepted again until it is, as a client would."""
        with httpx.Client(base_url=self._rig.base_url, timeout=30) as client:
            for n in sorted(self.refused):
                body = _event(n)
                for _ in range(60):
                    try:
                        status = client.post("/v1/events", json=body, headers=AUTH).status_code
                    except httpx.HTTPError:
                        status = 0
                    if status in (200, 202):
                        self.accepted.add(body["event_id"])
                        break
                    time.sleep(0.5)
                else:
                    raise AssertionError(f"event {n} was never accepted after the fault")


@contextmanager
def _stopped(pids: list[int]) -> Iterator[None]:
    """The processes stopped with SIGSTOP for the block, and always resumed after it."""
    stopped: list[int] = []
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        yield
    finally:
        for pid in reversed(stopped):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def _postgres_processes(postgres: Postgres) -> list[int]:
    """The postmaster first (so it forks no new backend), then every process it started."""
    postmaster = postgres._server.get_pid()  # type: ignore[attr-defined]
    assert postmaster is not None
    children = psutil.Process(postmaster).children(recursive=True)
    return [postmaster, *(child.pid for child in children)]


def _under_fault(faulty: Rig, pids: Callable[[], list[int]]) -> _Load:
    with _Load(faulty) as load:
        time.sleep(3.0)
        with _stopped(pids()):
            load.stopped.set()
            time.sleep(STOPPED)
            load.stopped.clear()
        time.sleep(3.0)
    return load


def _check(faulty: Rig, load: _Load, what: str) -> None:
    load.post_refused_again()
    faulty.wait_until_settled(timeout=60)
    report = faulty.report(sorted(load.accepted))
    print(f"\n{what} stopped for {STOPPED:.0f} s under load: {report.line()}")
    for kind, timings in load.timings.items():
        print(f"  {kind}: {timings.line()}")
    # No answer waited past its deadline, and /healthz answered every time at once
    for kind, limit in LIMITS.items():
        assert load.timings[kind].slowest < limit, (kind, load.timings[kind].line())
    assert {status for status, _ in load.timings["healthz"].answers} == {200}
    assert 0 not in {status for status, _ in load.timings["post"].answers}
    # Nothing accepted was lost, and nothing was sent twice
    assert report.planned_events == report.events == len(load.accepted)
    assert report.notifications == report.expected_notifications
    assert report.missing == [], _rows(faulty, report.missing)
    assert report.not_sent == []
    assert report.duplicates == {"email": 0, "sms": 0, "webhook": 0}


def _rows(faulty: Rig, ids: list[str]) -> list[Any]:
    """What the database says of the notifications ``ids``, to tell why they are missing."""
    n = db.notifications.c
    with faulty.engine.connect() as connection:
        return list(
            connection.execute(
                select(n.id, n.channel, n.status, n.attempts, n.claimed_until, n.last_error).where(
                    n.id.in_(ids)
                )
            ).all()
        )


def test_postgresql_stopped_for_20_s_under_load(tmp_path: Path, postgres: Postgres) -> None:
    # Given the service under load on PostgreSQL, with a claim lease long enough for a sent
    # message to be recorded after the database is back
    with rig(tmp_path, postgres.fresh(), NOTIFIER_CLAIM_LEASE="40") as faulty:
        # When PostgreSQL (the postmaster and every backend) is stopped for 20 s
        load = _under_fault(faulty, lambda: _postgres_processes(postgres))
        _check(faulty, load, "PostgreSQL")
        # Then posts were answered 503 within the intake's deadline, reads within theirs
        assert any(status == 503 for status, _ in load.timings["post"].answers)
        assert any(status == 503 for status, _ in load.timings["readyz"].answers)


def test_redis_stopped_for_20_s_under_load(tmp_path: Path, postgres: Postgres) -> None:
    # Given the service under load
    with rig(tmp_path, postgres.fresh()) as faulty:
        # When its Redis is stopped for 20 s
        def redis() -> list[int]:
            assert faulty.redis.pid is not None
            return [faulty.redis.pid]

        load = _under_fault(faulty, redis)
        _check(faulty, load, "Redis")
        # Then every post was accepted at once: none waited for Redis's 5 s read timeout
        posts = load.timings["post"]
        assert {status for status, _ in posts.answers} == {202}
        assert sorted(posts.stopped)[len(posts.stopped) // 2] < 0.1
        assert max(posts.stopped) < 2.0
