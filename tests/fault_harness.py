"""The fault tests' rig: ``notifier api`` and ``notifier worker`` as real processes, on real
PostgreSQL and a real redis-server, sending to provider stand-ins in the test process that
keep a ledger of every message they accepted, so duplicates can be counted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import Engine, func, insert, select

from channels.webhook import new_webhook_secret
from notifier import db
from notifier.lifecycle import ROUTES
from notifier.queue import EmbeddedRedis, free_port
from tests.factories import event
from tests.standins import SendGridStandin, TwilioStandin, WebhookReceiver
from tests.standins.server import Answer, RecordedRequest

API_KEY = "fault-key-0123456789"
TWILIO_ACCOUNT = "AC" + "2" * 32
#: Event types cycled through; each sends email and a webhook, half of them an SMS too.
TYPES = [t for t in ROUTES if t != "return.closed"]


class _Ledger:
    """Mixin for a stand-in: records the notification id of every message it accepted (2xx)."""

    accepted: Counter[str]
    _ledger_lock: threading.Lock

    def answer(self, request: RecordedRequest) -> Answer:
        reply: Answer = super().answer(request)  # type: ignore[misc]
        key = self.notification_id(request)
        if key is not None and 200 <= reply.status < 300:
            with self._ledger_lock:
                self.accepted[key] += 1
        return reply

    def notification_id(self, request: RecordedRequest) -> str | None:
        raise NotImplementedError

    def clear_script(self) -> None:
        """Drop the scripted answers: from now on, answer as the provider normally does."""
        with self._lock:  # type: ignore[attr-defined]
            self._script.clear()  # type: ignore[attr-defined]


class LedgerSendGrid(_Ledger, SendGridStandin):
    def __init__(self) -> None:
        super().__init__()
        self.accepted = Counter()
        self._ledger_lock = threading.Lock()

    def notification_id(self, request: RecordedRequest) -> str | None:
        try:
            return str(request.json()["custom_args"]["notification_id"])
        except (ValueError, KeyError, TypeError):
            return None


class LedgerTwilio(_Ledger, TwilioStandin):
    def __init__(self) -> None:
        super().__init__()
        self.accepted = Counter()
        self._ledger_lock = threading.Lock()

    def notification_id(self, request: RecordedRequest) -> str | None:
        callback = request.form().get("StatusCallback", "")
        return (parse_qs(urlsplit(callback).query).get("notification_id") or [None])[0]


class LedgerReceiver(_Ledger, WebhookReceiver):
    def __init__(self, secret: str) -> None:
        super().__init__(secret)
        self.accepted = Counter()
        self._ledger_lock = threading.Lock()

    def notification_id(self, request: RecordedRequest) -> str | None:
        return request.headers.get("webhook-id")


@dataclass
class Rig:
    """Everything one fault test runs against."""

    directory: Path
    database_url: str
    redis: EmbeddedRedis
    sendgrid: LedgerSendGrid
    twilio: LedgerTwilio
    receiver: LedgerReceiver
    engine: Engine
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    receiver_secret: str = ""
    api: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    worker_starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
        return {
            **inherited,
            "NOTIFIER_PORT": str(self.port),
            "NOTIFIER_DATA_DIR": str(self.directory / "var"),
            "NOTIFIER_DATABASE_URL": self.database_url,
            "NOTIFIER_REDIS_URL": self.redis.url,
            "NOTIFIER_API_KEYS": f"shop:{API_KEY}",
            "NOTIFIER_SENDGRID_API_KEY": "SG.fault-key",
            "NOTIFIER_SENDGRID_BASE_URL": self.sendgrid.base_url,
            "NOTIFIER_EMAIL_FROM": "Winkel Retouren <retouren@example.nl>",
            "NOTIFIER_TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT,
            "NOTIFIER_TWILIO_AUTH_TOKEN": "twilio-fault-token",
            "NOTIFIER_TWILIO_FROM": "+3197010000000",
            "NOTIFIER_TWILIO_BASE_URL": self.twilio.base_url,
            "NOTIFIER_PUBLIC_URL": "https://notify.example.nl",
            "NOTIFIER_WEBHOOK_ALLOW_PRIVATE": "true",
            "NOTIFIER_QUIET_HOURS": "off",
            "NOTIFIER_WORKER_THREADS": "8",
            "NOTIFIER_RELAY_INTERVAL": "1",
            "NOTIFIER_REDELIVER_AFTER": "5",
            "NOTIFIER_CLAIM_LEASE": "15",
            "NOTIFIER_LOG_LEVEL": "WARNING",
            **self.extra_env,
        }

    def _spawn(self, command: str) -> subprocess.Popen[bytes]:
        log = (self.directory / f"{command}.log").open("ab")
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "notifier.cli", command],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()

    def start_api(self) -> None:
        self.api = self._spawn("api")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.api.poll() is None, f"notifier api exited:\n{self.log('api')}"
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"notifier api did not start within 30 s:\n{self.log('api')}")

    def start_worker(self) -> None:
        self.worker = self._spawn("worker")
        self.worker_starts += 1

    def kill_worker(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a lost machine would."""
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=10)

    def kill_redis(self) -> None:
        """SIGKILL the Redis server; it keeps nothing (no append-only file, no snapshots)."""
        self.redis.kill()

    def restart_redis(self) -> None:
        """A new, empty Redis on the same port."""
        self.redis = EmbeddedRedis(
            self.directory / "redis", port=self.redis.port, appendonly=False
        ).start()

    def stop(self) -> None:
        for process in (self.worker, self.api):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)

    def log(self, command: str) -> str:
        path = self.directory / f"{command}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def subscribe(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                insert(db.webhooks).values(
                    id="wh_fault",
                    url=f"{self.receiver.base_url}/hooks",
                    types=["return.*"],
                    secret=self.receiver_secret,
                    active=True,
                    created_at=db.now(),
                )
            )

    def post_events(self, count: int, *, threads: int = 4) -> list[str]:
        """Post ``count`` events over HTTP, each for its own return; returns the accepted ids.

        An answer lost to a fault (a connection error) is posted again, as a return system
        would: the event id makes the retry a duplicate, never a second event.
        """
        accepted: list[str] = []
        lock = threading.Lock()

        def post(indexes: range) -> None:
            with httpx.Client(timeout=10) as client:
                for n in indexes:
                    body = _event(n)
                    for _ in range(20):
                        try:
                            answer = client.post(
                                f"{self.base_url}/v1/events",
                                json=body,
                                headers={"Authorization": f"Bearer {API_KEY}"},
                            )
                        except httpx.HTTPError:
                            time.sleep(0.2)
                            continue
                        if answer.status_code in (200, 202):
                            with lock:
                                accepted.append(body["event_id"])
                            break
                        time.sleep(0.2)

        workers = [
            threading.Thread(target=post, args=(range(i, count, threads),)) for i in range(threads)
        ]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        return accepted

    def pending(self) -> int:
        """Notifications not yet handed to a provider, and events not yet planned."""
        n, o = db.notifications.c, db.outbox.c
        with self.engine.connect() as connection:
            waiting = connection.execute(
                select(func.count()).where(n.status.in_(("queued", "scheduled")))
            ).scalar_one()
            unplanned = connection.execute(
                select(func.count()).select_from(db.outbox).where(o.dispatched_at.is_(None))
            ).scalar_one()
        return int(waiting) + int(unplanned)

    def wait_until_settled(self, timeout: float) -> float:
        """Wait until nothing is pending; returns when that happened (monotonic)."""
        deadline = time.monotonic() + timeout
        while self.pending() > 0:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.pending()} rows still pending after {timeout:.0f} s\n"
                    f"worker log:\n{self.log('worker')}\napi log:\n{self.log('api')}"
                )
            time.sleep(0.25)
        return time.monotonic()

    def report(self, accepted_events: list[str]) -> Report:
        """Check every accepted event's notifications against what the providers accepted."""
        n = db.notifications.c
        with self.engine.connect() as connection:
            rows = connection.execute(select(n.id, n.channel, n.status, n.event_pk)).all()
            planned_events = connection.execute(
                select(db.events.c.event_id).where(db.events.c.pk.in_(select(db.outbox.c.event_pk)))
            ).scalars()
            planned = set(planned_events)
        ledgers = {"email": self.sendgrid, "sms": self.twilio, "webhook": self.receiver}
        missing = [r.id for r in rows if ledgers[r.channel].accepted[r.id] == 0]
        not_sent = [r.id for r in rows if r.status not in ("sent", "delivered")]
        duplicates = {
            channel: sum(c - 1 for c in ledger.accepted.values() if c > 1)
            for channel, ledger in ledgers.items()
        }
        return Report(
            events=len(set(accepted_events)),
            planned_events=len(planned & set(accepted_events)),
            notifications=len(rows),
            expected_notifications=sum(_expected(int(e.split("-")[-1])) for e in accepted_events),
            missing=missing,
            not_sent=not_sent,
            duplicates=duplicates,
        )


@dataclass(frozen=True)
class Report:
    """What a fault test found."""

    events: int
    planned_events: int
    notifications: int
    expected_notifications: int
    missing: list[str]
    not_sent: list[str]
    duplicates: dict[str, int]

    def line(self) -> str:
        return json.dumps(
            {
                "events": self.events,
                "notifications": self.notifications,
                "missing": len(self.missing),
                "not_sent": len(self.not_sent),
                "duplicates": self.duplicates,
            }
        )


def _event(n: int) -> dict[str, Any]:
    kind = TYPES[n % len(TYPES)]
    return event(
        type=kind,
        event_id=f"evt-fault-{n}",
        return_id=f"RMA-F{n}",
        customer={"id": f"C-F{n}", "email": f"klant{n}@example.nl"},
    )


def _expected(n: int) -> int:
    route = ROUTES[TYPES[n % len(TYPES)]]
    return int(route.email) + int(route.sms) + int(route.webhook)


@contextmanager
def rig(directory: Path, database_url: str, **extra_env: str) -> Iterator[Rig]:
    """A running API, one worker, Redis without persistence and the three stand-ins."""
    secret = new_webhook_secret()
    with ExitStack() as stack:
        redis = EmbeddedRedis(directory / "redis", appendonly=False).start()
        engine = db.make_engine(database_url)
        stack.callback(engine.dispose)
        the_rig = Rig(
            directory=directory,
            database_url=database_url,
            redis=redis,
            sendgrid=stack.enter_context(LedgerSendGrid()),
            twilio=stack.enter_context(LedgerTwilio()),
            receiver=stack.enter_context(LedgerReceiver(secret)),
            engine=engine,
            extra_env=dict(extra_env),
            receiver_secret=secret,
        )
        stack.callback(lambda: the_rig.redis.stop())
        stack.callback(the_rig.stop)
        the_rig.subscribe()
        the_rig.start_api()
        the_rig.start_worker()
        yield the_rig
