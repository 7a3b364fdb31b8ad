"""A delivery backlog: how many jobs does Redis hold for the notifications waiting in it,
while the relay runs round after round, and after Redis loses some of them?

Builds the service in this process on SQLite and a redis-server without persistence,
accepts and dispatches events (an email and an SMS each) with no worker taking the
deliveries, then runs relay rounds, each a grace (``NOTIFIER_REDELIVER_AFTER``) after the
one before, and prints after each the jobs in Redis against the waiting notifications.
Then it deletes a share of the jobs from Redis, as a restart without the append-only file
would lose them, and runs rounds again until the relay has handed all of their
notifications over. ``--blind`` runs a relay that does not look into Redis, for comparison.

    .venv/bin/python bench/backlog.py [--notifications 30000] [--rounds 6] [--lose 0.1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import redis
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier import db  # noqa: E402
from notifier.http import EventIn  # noqa: E402
from notifier.queue import EmbeddedRedis, Relay  # noqa: E402
from notifier.queue.relay import PAGE  # noqa: E402
from notifier.service import Service, build  # noqa: E402
from notifier.settings import load_settings  # noqa: E402
from notifier.status import PENDING  # noqa: E402
from tests.factories import event  # noqa: E402

QUEUES = ("notifier:deliveries.msgs", "notifier:deliveries.DQ.msgs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notifications", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=6, help="relay rounds before the loss")
    parser.add_argument("--lose", type=float, default=0.1, help="share of the jobs Redis loses")
    parser.add_argument("--blind", action="store_true", help="a relay that does not ask Redis")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, {args.notifications} notifications, SQLite")
    with tempfile.TemporaryDirectory(prefix="notifier-backlog-") as directory:
        server = EmbeddedRedis(Path(directory) / "redis", appendonly=False).start()
        try:
            return _run(args, Path(directory), server.url)
        finally:
            server.stop()


def _run(args: argparse.Namespace, directory: Path, redis_url: str) -> int:
    settings = replace(
        load_settings({}),
        data_dir=directory / "var",
        database_url=f"sqlite:///{directory / 'notifier.db'}",
        redis_url=redis_url,
        quiet_hours=None,
    )
    service = build(settings, upgrade_schema=True)
    client = redis.Redis.from_url(redis_url)
    relay = service.relay
    if args.blind:
        relay = Relay(
            service.engine,
            service.actors.enqueue_events,
            service.actors.enqueue_delivery,
            grace=settings.redeliver_after,
        )
    started = time.monotonic()
    _fill(service, args.notifications // 2)
    print(f"backlog built in {time.monotonic() - started:.0f} s: {_figures(service, client)}")

    grace = timedelta(seconds=settings.redeliver_after + 1)
    now = db.now()
    for n in range(1, args.rounds + 1):
        now += grace
        handed, took = _round(relay, now)
        print(f"round {n}: handed {handed} in {took:.2f} s; {_figures(service, client)}")

    if not args.lose:
        service.close()
        client.close()
        return 0
    jobs = [cast(bytes, job_id).decode() for job_id in client.hkeys(QUEUES[0])]
    lost = jobs[: int(len(jobs) * args.lose)]
    for job_id in lost:
        client.hdel(QUEUES[0], job_id)
        client.lrem("notifier:deliveries", 0, job_id)
    print(f"Redis lost {len(lost)} jobs: {_figures(service, client)}")
    # Enough rounds for the relay to have looked at every waiting notification once.
    for n in range(1, -(-args.notifications // PAGE) + 2):
        now += grace
        handed, took = _round(relay, now)
        print(f"round {n} after the loss: handed {handed} in {took:.2f} s; ", end="")
        print(_figures(service, client))
    service.close()
    client.close()
    return 0


def _fill(service: Service, events: int) -> None:
    """Accept and dispatch ``events`` events in batches, as the API and a worker would."""
    for start in range(0, events, 500):
        payloads = [
            EventIn.model_validate(event(event_id=f"evt-{i}", return_id=f"RMA-{i}")).payload()
            for i in range(start, min(start + 500, events))
        ]
        accepted = service.intake.accept_many("shop", payloads)
        pks = [a.event_pk for a in accepted if not isinstance(a, Exception)]
        for chunk in range(0, len(pks), 100):
            service.actors.dispatch_events.fn(pks[chunk : chunk + 100])


def _round(relay: Relay, now: datetime) -> tuple[int, float]:
    started = time.monotonic()
    handed = relay.run_once(now)
    return handed, time.monotonic() - started


def _figures(service: Service, client: redis.Redis) -> str:
    n = db.notifications.c
    with service.engine.connect() as connection:
        waiting = connection.execute(
            select(func.count()).select_from(db.notifications).where(n.status.in_(PENDING))
        ).scalar_one()
    jobs = sum(client.hlen(key) for key in QUEUES)
    named = 0
    for key in QUEUES:
        for body in client.hvals(key):
            named += cast(bytes, body).count(b'"ntf_')
    return f"{jobs} jobs in Redis naming {named} notifications, {waiting} waiting"


if __name__ == "__main__":
    sys.exit(main())
