"""The production shape (slow): the processes docker-compose.yml starts, with the commands and
settings it gives them, on PostgreSQL and a real redis-server, sending to provider stand-ins
that keep a ledger of every message they accepted.

The compose file is read through Docker Compose itself (``config``), with a ``.env`` holding
this test's database, Redis and stand-ins, so the commands and settings here are the
file's. Only what differs between a container and this machine is replaced: the data
directory and the port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from channels.webhook import new_webhook_secret
from notifier import db
from tests.compose import resolved
from tests.conftest import Postgres
from tests.factories import event
from tests.fault_harness import (
    API_KEY,
    LedgerReceiver,
    LedgerSendGrid,
    LedgerTwilio,
    Rig,
    _event,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

#: Returns the schedulers find due for a ship-by reminder.
DUE_RETURNS = 6
#: Seconds each of the load's two clients waits between two events: a steady flow that
#: leaves the two cores room for the five processes.
PAUSE = 0.05


class Production:
    """The compose file's parts as processes of this machine, on the fault tests' rig."""

    def __init__(self, rig: Rig, services: dict[str, Any]) -> None:
        self.rig = rig
        self.services = services
        self.running: dict[str, list[subprocess.Popen[bytes]]] = {}
        self._started = Counter[str]()

    def spawn(self, name: str) -> subprocess.Popen[bytes]:
        """Start one replica of the compose service ``name``, with its command and settings."""
        service = self.services[name]
        program, *arguments = service["command"]
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
        local = {
            "NOTIFIER_PORT": str(self.rig.port),
            "NOTIFIER_DATA_DIR": str(self.rig.directory / "var"),
            # Containers each have their own ports; replicas on one host serve no metrics
            "NOTIFIER_METRICS_PORT": "0",
        }
        self._started[name] += 1
        log = (self.rig.directory / f"{name}-{self._started[name]}.log").open("ab")
        try:
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / program), *arguments],
                env={**inherited, **service["environment"], **local},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self.running.setdefault(name, []).append(process)
        return process

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.rig.directory.glob("*-*.log"))
        )

    def migrate(self) -> None:
        """The migrate step: runs once, must succeed before anything else starts."""
        process = self.spawn("migrate")
        assert process.wait(timeout=60) == 0, self.logs()

    def start_api(self) -> None:
        """Start the API and wait until it is healthy (the compose health check's URL)."""
        process = self.spawn("api")
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            assert process.poll() is None, f"notifier api exited:\n{self.logs()}"
            try:
                if httpx.get(f"{self.rig.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"notifier api not healthy within 40 s:\n{self.logs()}")

    def start_all(self) -> None:
        """As `docker compose up`: migrate, then the API, then the replicas behind it."""
        self.migrate()
        self.start_api()
        for name in ("worker", "scheduler"):
            for _ in range(self.services[name].get("deploy", {}).get("replicas", 1)):
                self.spawn(name)

    def terminate(self, process: subprocess.Popen[bytes]) -> float:
        """SIGTERM, as `docker compose stop` sends; returns the seconds the process took to
        exit, which it must do cleanly (status 0)."""
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0, self.logs()
        return time.monotonic() - started

    def stop(self) -> None:
        for processes in self.running.values():
            for process in processes:
                if process.poll() is None:
                    process.terminate()
        for processes in self.running.values():
            for process in processes:
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


@contextmanager
def production(directory: Path, postgres: Postgres) -> Iterator[Production]:
    """The compose file's parts, started as `docker compose up` would, on an empty database."""
    database_url = postgres.empty()
    secret = new_webhook_secret()
    with (
        LedgerSendGrid() as sendgrid,
        LedgerTwilio() as twilio,
        LedgerReceiver(secret) as receiver,
    ):
        rig = Rig(
            directory=directory,
            database_url=database_url,
            redis=_redis(directory),
            sendgrid=sendgrid,
            twilio=twilio,
            receiver=receiver,
            engine=db.make_engine(database_url),
            extra_env={"NOTIFIER_SCAN_INTERVAL": "1", "NOTIFIER_WORKER_THREADS": "2"},
        )
        settings = {k: v for k, v in rig.env().items() if k.startswith("NOTIFIER_")}
        settings["NOTIFIER_STAFF_TOKENS"] = "staff:staff-token-0123456789"
        for local in ("NOTIFIER_PORT", "NOTIFIER_DATA_DIR"):
            settings.pop(local)
        project = directory / "compose"
        project.mkdir()
        env = "".join(f"{name}={value}\n" for name, value in settings.items())
        parts = Production(rig, resolved(project, env)["services"])
        try:
            parts.start_all()
            rig.receiver_secret = secret
            rig.subscribe()
            yield parts
        finally:
            parts.stop()
            rig.engine.dispose()
            rig.redis.stop()


def _redis(directory: Path) -> Any:
    from notifier.queue import EmbeddedRedis

    return EmbeddedRedis(directory / "redis", appendonly=False).start()


def _post_due_returns(rig: Rig) -> list[str]:
    """Approved returns whose ship-by date is tomorrow: a reminder is due for each now."""
    now = datetime.now(UTC)
    return_ids = []
    with httpx.Client(timeout=10) as client:
        for n in range(DUE_RETURNS):
            body = event(
                "return.approved",
                f"evt-due-{n}",
                return_id=f"RMA-DUE{n}",
                occurred_at=(now - timedelta(days=2)).isoformat(),
                customer={"id": f"C-DUE{n}", "email": f"due{n}@example.nl"},
            )
            body["return"]["ship_by"] = (now + timedelta(days=1)).date().isoformat()
            body["return"]["label"]["expires_at"] = None
            answer = client.post(
                f"{rig.base_url}/v1/events",
                json=body,
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            assert answer.status_code == 202, answer.text
            return_ids.append(body["return"]["id"])
    return return_ids


def _wait(condition: Any, seconds: float, what: str, parts: Production) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {seconds:.0f} s\n{parts.logs()}")
        time.sleep(0.25)


def _fired(rig: Rig, return_ids: list[str]) -> set[str]:
    f = db.rule_firings.c
    with rig.engine.connect() as connection:
        rows = connection.execute(select(f.return_id).where(f.return_id.in_(return_ids)))
        return set(rows.scalars())


def test_the_compose_parts_deliver_each_message_once_through_sigterms_under_load(
    tmp_path: Path, postgres: Postgres
) -> None:
    # Given the compose file's parts running: migrate once, an API, two workers, two
    # schedulers; and a client posting events without pause, which posts an event again
    # when its answer is lost (the event id makes that safe)
    with production(tmp_path, postgres) as parts:
        rig = parts.rig
        load = _Load(rig)
        load.start()
        try:
            # When returns come in that a reminder is due for now
            due = _post_due_returns(rig)
            time.sleep(1.5)
            # And the API gets SIGTERM (and is started again), then a worker (and another
            # one is started), while the events keep coming
            api_stop = parts.terminate(parts.running["api"][-1])
            parts.start_api()
            time.sleep(1.5)
            worker_stop = parts.terminate(parts.running["worker"][0])
            parts.spawn("worker")
            time.sleep(1.5)
        finally:
            load.finish()
        _wait(lambda: _fired(rig, due) == set(due), 30, "a reminder for every due return", parts)
        rig.wait_until_settled(timeout=45)
        report = rig.report(load.accepted)

        n, f, e = db.notifications.c, db.rule_firings.c, db.events.c
        with rig.engine.connect() as connection:
            stored = connection.execute(
                select(func.count()).where(e.event_id.in_(load.accepted))
            ).scalar_one()
            of_events = connection.execute(
                select(func.count()).where(n.rule.is_(None), n.return_id.like("RMA-F%"))
            ).scalar_one()
            missing = connection.execute(
                select(n.id, n.channel, n.status, n.rule, n.kind, n.last_error).where(
                    n.id.in_(report.missing)
                )
            ).all()
            firings = connection.execute(
                select(f.return_id, f.rule, func.count()).group_by(f.return_id, f.rule)
            ).all()
            reminders = connection.execute(
                select(n.return_id, n.channel).where(n.rule.is_not(None), n.return_id.in_(due))
            ).all()
        print(
            f"\nSIGTERM under load: {len(load.accepted)} events accepted (202), {stored} "
            f"stored, {load.lost} posts without an answer sent again; api stopped in "
            f"{api_stop:.1f} s, worker in {worker_stop:.1f} s; {of_events} notifications of "
            f"{report.expected_notifications} expected, {len(firings)} firings; {report.line()}"
        )
        # Then every event that got a 202 is stored, and planned
        assert load.refused == []
        assert len(load.accepted) > 0
        assert stored == len(load.accepted) == report.planned_events
        assert of_events == report.expected_notifications
        # And every notification reached its provider exactly once
        assert missing == []
        assert report.not_sent == []
        assert report.duplicates == {"email": 0, "sms": 0, "webhook": 0}
        # And each due return's reminder was planned once, by one of the two schedulers
        assert all(count == 1 for _, _, count in firings)
        assert {r.return_id for r in reminders} == set(due)
        assert max(Counter(reminders).values()) == 1


class _Load:
    """Posts events one after another from two threads until finished; an answer lost to a
    stopping API (connection refused or closed) is posted again, as a return system would."""

    def __init__(self, rig: Rig) -> None:
        self._rig = rig
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._next = iter(range(1_000_000))
        self.accepted: list[str] = []
        self.lost = 0
        self.refused: list[str] = []
        self._threads = [threading.Thread(target=self._post) for _ in range(2)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def finish(self) -> None:
        self._finished.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _post(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._finished.is_set():
                with self._lock:
                    body = _event(next(self._next))
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        answer = client.post(
                            f"{self._rig.base_url}/v1/events",
                            json=body,
                            headers={"Authorization": f"Bearer {API_KEY}"},
                        )
                    except httpx.TransportError:
                        with self._lock:
                            self.lost += 1
                        time.sleep(0.05)
                        continue
                    time.sleep(PAUSE)
                    with self._lock:
                        if answer.status_code == 202:
                            self.accepted.append(body["event_id"])
                        else:
                            self.refused.append(f"{answer.status_code} {answer.text}")
                    break
