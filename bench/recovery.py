"""Crash recovery: how long after a worker is killed with SIGKILL do the messages it held
get processed by the worker started in its place?

Runs ``notifier api`` and ``notifier worker`` as processes on SQLite and a redis-server
without persistence, with SendGrid and Twilio stand-ins that take 0.5 s to answer, so the
worker holds messages (prefetched, and in flight) when it is killed. Before the kill, the
messages the worker holds are read from its acknowledgement set in Redis. Prints, for the
prefetched messages and for the ones in flight (claimed in the database), how long after the
kill the last of them was sent.

    .venv/bin/python bench/recovery.py [--lease 15] [--events 60] [--redeliver-after 30]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import redis
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier import db, migrate  # noqa: E402
from notifier.queue.broker import HEARTBEAT_TIMEOUT_MS, MAINTENANCE_CHANCE  # noqa: E402
from tests.fault_harness import Rig, rig  # noqa: E402


def held_notifications(faulty: Rig) -> set[str]:
    """Notification ids in the delivery messages the running worker holds unacknowledged."""
    client = redis.Redis.from_url(faulty.redis.url)
    try:
        held: set[str] = set()
        for key in client.scan_iter("notifier:__acks__.*"):
            queue = key.decode().rsplit(".", 1)[-1]
            if queue not in ("deliveries", "DQ"):
                continue
            ids = list(client.smembers(key))
            name = "deliveries.DQ" if queue == "DQ" else "deliveries"
            for data in client.hmget(f"notifier:{name}.msgs", ids) if ids else []:
                if data is not None:
                    handed = json.loads(data)["args"][0]  # one id, or a group's list of ids
                    held.update(map(str, handed if isinstance(handed, list) else [handed]))
        return held
    finally:
        client.close()


def claimed(faulty: Rig) -> set[str]:
    n = db.notifications.c
    with faulty.engine.connect() as connection:
        rows = connection.execute(select(n.id).where(n.claimed_until.is_not(None))).scalars()
        return set(rows)


def sent_times(faulty: Rig, ids: set[str], since: float, timeout: float) -> dict[str, float]:
    """Seconds after ``since`` at which each of ``ids`` was first seen sent."""
    n = db.notifications.c
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(ids) and time.monotonic() < deadline:
        with faulty.engine.connect() as connection:
            done = connection.execute(
                select(n.id).where(n.id.in_(ids), n.status.in_(("sent", "delivered")))
            ).scalars()
            for notification_id in done:
                seen.setdefault(notification_id, time.monotonic() - since)
        time.sleep(0.1)
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lease", type=float, default=15.0, help="NOTIFIER_CLAIM_LEASE")
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument(
        "--redeliver-after", type=float, default=30.0, help="NOTIFIER_REDELIVER_AFTER (relay)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="notifier-recovery-") as directory:
        url = f"sqlite:///{directory}/notifier.db"
        engine = db.make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        env = {
            "NOTIFIER_CLAIM_LEASE": str(args.lease),
            "NOTIFIER_REDELIVER_AFTER": str(args.redeliver_after),
        }
        with rig(Path(directory), url, **env) as faulty:
            faulty.sendgrid.respond_with(202, {"X-Message-Id": "slow"}, delay=0.5)
            faulty.post_events(args.events)
            time.sleep(3.0)
            held = held_notifications(faulty) - _sent(faulty)
            in_flight = claimed(faulty)
            faulty.kill_worker()
            killed = time.monotonic()
            faulty.start_worker()
            times = sent_times(faulty, held | in_flight, killed, timeout=args.lease + 60)
    prefetched = held - in_flight
    _print("prefetched (not started)", prefetched, times)
    _print("in flight (claimed)", in_flight, times)
    print(
        f"heartbeat timeout {HEARTBEAT_TIMEOUT_MS / 1000:.0f} s, maintenance chance "
        f"{MAINTENANCE_CHANCE / 1_000_000:.0%}, claim lease {args.lease:.0f} s, relay grace "
        f"{args.redeliver_after:.0f} s"
    )
    return 0 if len(times) == len(held | in_flight) else 1


def _sent(faulty: Rig) -> set[str]:
    n = db.notifications.c
    with faulty.engine.connect() as connection:
        return set(connection.execute(select(n.id).where(n.status == "sent")).scalars())


def _print(label: str, ids: set[str], times: dict[str, float]) -> None:
    got = sorted(times[i] for i in ids if i in times)
    if not ids:
        print(f"{label}: none held at the kill")
        return
    print(
        f"{label}: {len(ids)} held, {len(got)} recovered; after the kill first "
        f"{got[0]:.1f} s, last {got[-1]:.1f} s"
        if got
        else f"{label}: {len(ids)} lost"
    )


if __name__ == "__main__":
    sys.exit(main())
