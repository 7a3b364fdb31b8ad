"""Fault injection (slow; run in CI): kill -9 the worker, kill Redis, a provider down for a
minute. Every accepted event's notifications must reach the providers; duplicates at the
provider stand-ins are counted and reported.

The API and the worker run as real processes (``notifier api``, ``notifier worker``) on
PostgreSQL and a redis-server without persistence; the provider stand-ins run in the test
process and keep a ledger of every message they accepted.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import Postgres
from tests.fault_harness import Report, Rig, rig

pytestmark = pytest.mark.slow

#: Events posted in each test.
EVENTS = 500
#: Worker kills in the kill -9 test.
KILLS = 4
#: Worker threads per process in the rig; a kill can repeat at most the sends in flight.
THREADS = 8


def _post_in_background(faulty: Rig) -> tuple[threading.Thread, list[str]]:
    posted: list[str] = []
    poster = threading.Thread(target=lambda: posted.extend(faulty.post_events(EVENTS)))
    poster.start()
    return poster, posted


def test_kill_9_the_worker_while_events_flow(tmp_path: Path, postgres: Postgres) -> None:
    # Given the service running, and 500 events being posted
    with rig(tmp_path, postgres.fresh()) as faulty:
        started = time.monotonic()
        poster, posted = _post_in_background(faulty)

        # When the worker is killed with SIGKILL at random moments and started again
        kills = []
        for _ in range(KILLS):
            time.sleep(random.uniform(1.0, 4.0))
            faulty.kill_worker()
            kills.append(time.monotonic() - started)
            time.sleep(random.uniform(0.0, 0.5))
            faulty.start_worker()
        poster.join()
        settled = faulty.wait_until_settled(timeout=75) - started

        # Then every accepted event's notifications reached their provider
        report = faulty.report(posted)
        print(
            f"\nkill -9 the worker at {[round(k, 1) for k in kills]} s: settled at "
            f"{settled:.1f} s, {settled - kills[-1]:.1f} s after the last kill; {report.line()}"
        )
        _assert_nothing_lost(report)
        # Only a send in flight when its worker died can be repeated (at least once).
        assert sum(report.duplicates.values()) <= KILLS * THREADS


def test_kill_redis_without_persistence_mid_flow(tmp_path: Path, postgres: Postgres) -> None:
    # Given the service running on a Redis that keeps nothing, and 500 events being posted
    with rig(tmp_path, postgres.fresh()) as faulty:
        started = time.monotonic()
        poster, posted = _post_in_background(faulty)

        # When Redis is killed mid-flow, and an empty one started 2 s later
        time.sleep(2.0)
        faulty.kill_redis()
        killed = time.monotonic() - started
        time.sleep(2.0)
        faulty.restart_redis()
        poster.join()
        settled = faulty.wait_until_settled(timeout=75) - started

        # Then nothing accepted was lost, and nothing was sent twice
        report = faulty.report(posted)
        print(
            f"\nRedis killed at {killed:.1f} s, back empty 2 s later: settled at "
            f"{settled:.1f} s; {report.line()}"
        )
        _assert_nothing_lost(report)
        assert report.duplicates == {"email": 0, "sms": 0, "webhook": 0}


#: How long SendGrid answers 503: long enough for every email to be tried several times.
OUTAGE = 30.0


def test_sendgrid_answering_503_for_half_a_minute(tmp_path: Path, postgres: Postgres) -> None:
    # Given SendGrid answering 503, and retries on a short schedule (1 s doubling to 8 s)
    retry = {"RETRY_BASE": "1", "RETRY_MAX_DELAY": "8", "RETRY_ATTEMPTS": "30"}
    with rig(
        tmp_path, postgres.fresh(), **{f"NOTIFIER_{k}": v for k, v in retry.items()}
    ) as faulty:
        faulty.sendgrid.respond_with(503, body=b'{"errors": [{"message": "unavailable"}]}')
        started = time.monotonic()

        # When 500 events are posted, and SendGrid recovers after half a minute (every email
        # tried several times, the later tries on the 8 s ceiling)
        posted = faulty.post_events(EVENTS)
        time.sleep(max(0.0, OUTAGE - (time.monotonic() - started)))
        refused = len(faulty.sendgrid.requests)
        faulty.sendgrid.clear_script()
        recovered = time.monotonic()
        settled = faulty.wait_until_settled(timeout=25) - recovered

        # Then every email went out after the recovery, each exactly once
        report = faulty.report(posted)
        print(
            f"\nSendGrid 503 for {OUTAGE:.0f} s ({refused} refused requests): all delivered "
            f"{settled:.1f} s after it recovered; {report.line()}"
        )
        assert refused > EVENTS
        _assert_nothing_lost(report)
        assert report.duplicates == {"email": 0, "sms": 0, "webhook": 0}


def _assert_nothing_lost(report: Report) -> None:
    """Every accepted event was stored and planned, and each of its notifications sent."""
    assert report.events == EVENTS
    assert report.planned_events == EVENTS
    assert report.notifications == report.expected_notifications
    assert report.missing == []
    assert report.not_sent == []
