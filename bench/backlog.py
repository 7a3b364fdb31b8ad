"""A delivery backlog and a dispatch backlog: how many jobs does Redis hold for the
notifications and events waiting in it, while the relay runs round after round, and after
Redis loses some of them?

Builds the service in this process on SQLite and a redis-server without persistence,
accepts and dispatches events (an email and an SMS each) with no worker taking the
deliveries, then runs relay rounds, each a grace (``NOTIFIER_REDELIVER_AFTER``) after the
one before, and prints after each the jobs in Redis against the waiting notifications.
Then it deletes a share of the jobs from Redis, as a restart without the append-only file
would lose them, and runs rounds again until the relay has handed all of their
notifications over. Then the same for events, in a database of their own: accepted in
batches of 500 with no worker dispatching them (a dispatch job per 100 events waits in
Redis), relay rounds each a grace after the one before, the dispatch jobs in Redis against
the events not yet dispatched, a share of the jobs lost, and rounds until the relay has
handed all of their events over. ``--blind`` runs a relay that does not look into Redis, for
comparison; ``--notifications 0`` or ``--events 0`` leaves out that backlog.

    .venv/bin/python bench/backlog.py [--notifications 30000] [--events 20000] [--rounds 6]
        [--lose 0.1] [--blind]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import dramatiq
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
EVENT_QUEUES = ("notifier:events.msgs", "notifier:events.DQ.msgs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notifications", type=int, default=30_000)
    parser.add_argument("--events", type=int, default=20_000, help="events in the event backlog")
    parser.add_argument("--rounds", type=int, default=6, help="relay rounds before the loss")
    parser.add_argument("--lose", type=float, default=0.1, help="share of the jobs Redis loses")
    parser.add_argument("--blind", action="store_true", help="a relay that does not ask Redis")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, SQLite, {'blind' if args.blind else 'asking'} relay")
    with tempfile.TemporaryDirectory(prefix="notifier-backlog-") as directory:
        server = EmbeddedRedis(Path(directory) / "redis", appendonly=False).start()
        try:
            if args.notifications:
                print(f"\n{args.notifications} notifications")
                _run(args, Path(directory) / "notifications", server.url)
            if args.events:
                print(f"\n{args.events} events")
                _run_events(args, Path(directory) / "events", server.url)
            return 0
        finally:
            server.stop()


def _service(directory: Path, redis_url: str, *, blind: bool) -> tuple[Service, Relay]:
    """A service on a database of its own in ``directory`` and an emptied Redis, and the
    relay to run (one that does not ask Redis if ``blind``)."""
    directory.mkdir()
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()
    settings = replace(
        load_settings({}),
        data_dir=directory / "var",
        database_url=f"sqlite:///{directory / 'notifier.db'}",
        redis_url=redis_url,
        quiet_hours=None,
    )
    service = build(settings, upgrade_schema=True)
    if not blind:
        return service, service.relay
    return service, Relay(
        service.engine,
        service.actors.enqueue_events,
        service.actors.enqueue_delivery,
        grace=settings.redeliver_after,
    )


def _run(args: argparse.Namespace, directory: Path, redis_url: str) -> int:
    service, relay = _service(directory, redis_url, blind=args.blind)
    client = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    _fill(service, args.notifications // 2)
    print(f"backlog built in {time.monotonic() - started:.0f} s: {_figures(service, client)}")

    _rounds(
        args,
        service,
        relay,
        client,
        "notifier:deliveries",
        args.notifications,
        lambda: _figures(service, client),
    )
    service.close()
    client.close()
    return 0


def _run_events(args: argparse.Namespace, directory: Path, redis_url: str) -> None:
    service, relay = _service(directory, redis_url, blind=args.blind)
    client = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    for start in range(0, args.events, 500):
        payloads = [
            EventIn.model_validate(event(event_id=f"evt-{i}", return_id=f"RMA-{i}")).payload()
            for i in range(start, min(start + 500, args.events))
        ]
        service.intake.accept_many("shop", payloads)
    took = time.monotonic() - started
    print(f"events accepted in {took:.0f} s: {_event_figures(service, client)}")

    _rounds(
        args,
        service,
        relay,
        client,
        "notifier:events",
        args.events,
        lambda: _event_figures(service, client),
    )
    service.close()
    client.close()


def _rounds(
    args: argparse.Namespace,
    service: Service,
    relay: Relay,
    client: redis.Redis,
    queue: str,
    backlog: int,
    figures: Callable[[], str],
) -> None:
    """Relay rounds a grace apart; then, with ``--lose``, Redis loses that share of the jobs
    of ``queue`` and rounds go on until the relay has looked at all ``backlog`` rows once."""
    grace = timedelta(seconds=service.settings.redeliver_after + 1)
    now = db.now()
    for n in range(1, args.rounds + 1):
        now += grace
        handed, took = _round(relay, now)
        print(f"round {n}: handed {handed} in {took:.2f} s; {figures()}")
    if not args.lose:
        return
    jobs = [cast(bytes, job_id).decode() for job_id in client.hkeys(f"{queue}.msgs")]
    lost = jobs[: int(len(jobs) * args.lose)]
    for job_id in lost:
        client.hdel(f"{queue}.msgs", job_id)
        client.lrem(queue, 0, job_id)
    print(f"Redis lost {len(lost)} jobs: {figures()}")
    for n in range(1, -(-backlog // PAGE) + 2):
        now += grace
        handed, took = _round(relay, now)
        print(f"round {n} after the loss: handed {handed} in {took:.2f} s; {figures()}")


def _event_figures(service: Service, client: redis.Redis) -> str:
    o = db.outbox.c
    with service.engine.connect() as connection:
        waiting = connection.execute(
            select(func.count()).select_from(db.outbox).where(o.dispatched_at.is_(None))
        ).scalar_one()
    named: Counter[int] = Counter()
    jobs = 0
    for key in EVENT_QUEUES:
        for body in client.hvals(key):
            jobs += 1
            named.update(dramatiq.Message.decode(cast(bytes, body)).args[0])
    return (
        f"{jobs} dispatch jobs in Redis naming {sum(named.values())} events "
        f"({len(named)} distinct), {waiting} not dispatched"
    )


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
    named: Counter[str] = Counter()
    jobs = 0
    for key in QUEUES:
        for body in client.hvals(key):
            jobs += 1
            job = dramatiq.Message.decode(cast(bytes, body))
            named.update(job.args[0] if job.actor_name == "deliver_notifications" else job.args)
    return (
        f"{jobs} jobs in Redis naming {sum(named.values())} notifications "
        f"({len(named)} distinct), {waiting} waiting"
    )


if __name__ == "__main__":
    sys.exit(main())
