"""Staff console page times with a large store: every page, timed over real HTTP.

Fills a fresh database through the service itself: ``--returns`` returns (100,000 by
default), each with one event accepted by the intake and planned by the dispatcher (so
every return has its notifications, recipients included), then turns a few hundred
notifications into dead letters and suppresses a few hundred addresses. Then serves the
API process's app with uvicorn on loopback, signs in, and requests every console page
``--repeat`` times (after one warm-up request), printing the median and the slowest time
of each. The database stays on disk in a temporary folder and is removed afterwards.

    .venv/bin/python bench/staff.py --backend sqlite --returns 100000
    .venv/bin/python bench/staff.py --backend postgresql --returns 100000
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, update  # noqa: E402

from notifier import db  # noqa: E402
from notifier.http import EXAMPLE_EVENT, create_app  # noqa: E402
from notifier.intake import Accepted  # noqa: E402
from notifier.queue import free_port  # noqa: E402
from notifier.service import Service, build  # noqa: E402
from notifier.settings import load_settings  # noqa: E402

#: Events handed to the intake per call.
BATCH = 500
TOKEN = "bench:staff-token-0123456789"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--returns", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = None
        if args.backend == "sqlite":
            url = f"sqlite:///{folder}/bench.db"
        else:
            import pgserver

            server = pgserver.get_server(f"{folder}/pg", cleanup_mode="stop")
            url = f"postgresql+psycopg://postgres@/postgres?host={folder}/pg"
        try:
            service = build(
                load_settings(
                    {
                        "NOTIFIER_DATABASE_URL": url,
                        "NOTIFIER_DATA_DIR": folder,
                        "NOTIFIER_API_KEYS": "bench:api-key-0123456789",
                        "NOTIFIER_STAFF_TOKENS": TOKEN,
                        "NOTIFIER_QUIET_HOURS": "off",
                    }
                )
            )
            started = time.perf_counter()
            fill(service, args.returns)
            print(
                f"cores: {os.cpu_count()}, backend: {args.backend}, returns: {args.returns:,}, "
                f"filled in {time.perf_counter() - started:.0f} s"
            )
            time_pages(service, args.returns, args.repeat)
            service.close()
        finally:
            if server is not None:
                server.cleanup()
    return 0


def fill(service: Service, count: int) -> None:
    """``count`` returns through the intake and the dispatcher, some dead letters and
    suppressions."""
    for start in range(0, count, BATCH):
        events = [_event(n) for n in range(start, min(start + BATCH, count))]
        accepted = service.intake.accept_many("bench", events)
        for outcome in accepted:
            if isinstance(outcome, Accepted):
                service.dispatcher.dispatch(outcome.event_pk)
    n = db.notifications.c
    with service.engine.begin() as connection:
        dead = connection.execute(
            select(n.id).where(n.channel == "email").order_by(n.id).limit(300)
        ).scalars()
        connection.execute(
            update(db.notifications)
            .where(n.id.in_(list(dead)))
            .values(status="failed", dead=True, attempts=12, last_error="HTTP 503")
        )
        for number in range(0, min(count, 300)):
            connection.execute(
                db.suppressions.insert().values(
                    channel="email",
                    address=f"c{number * 7}@example.nl",
                    reason="sendgrid bounced: 550 no such user",
                    created_at=db.now(),
                )
            )


def _event(number: int) -> dict[str, Any]:
    event = copy.deepcopy(EXAMPLE_EVENT)
    event["event_id"] = f"evt-{number}"
    event["type"] = ("return.requested", "return.approved", "return.received")[number % 3]
    event["return"]["id"] = f"RMA-{number:07}"
    event["return"]["order_id"] = f"ORD-{number:07}"
    event["customer"].update(
        id=f"C-{number}", email=f"c{number}@example.nl", phone=f"+3161{number:07}"
    )
    return event


def time_pages(service: Service, count: int, repeat: int) -> None:
    import httpx
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    middle = count // 2
    with service.engine.connect() as connection:
        notification = connection.execute(
            select(db.notifications.c.id).where(db.notifications.c.return_id == f"RMA-{middle:07}")
        ).scalar()
    pages = [
        "/staff",
        "/staff/returns",
        f"/staff/returns?q=RMA-{middle:07}",
        f"/staff/returns?q=ORD-{middle:07}",
        f"/staff/returns?q=C{middle}@Example.nl",
        f"/staff/returns?q=061{middle - middle % 3 + 2:07}",  # a received one: it had an SMS
        f"/staff/returns/RMA-{middle:07}",
        f"/staff/returns/RMA-{middle:07}/notifications/{notification}",
        "/staff/messages",
        "/staff/messages/return.refund_issued?sample=partial",
        "/staff/messages/return.received?sample=non_gsm_name&channel=sms",
        "/staff/messages/reminder.ship_by?channel=webhook",
        "/staff/preview",
        "/staff/dead-letters",
        "/staff/dead-letters?channel=email&age=1d",
        "/staff/suppressions",
        "/staff/audit",
    ]
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        signed = client.post("/staff/sign-in", data={"token": TOKEN, "next": "/staff"})
        assert signed.status_code == 303, signed.text
        print(f"{'page':62} {'status':>6} {'median':>9} {'slowest':>9}")
        for path in pages:
            client.get(path)  # warm-up
            times = []
            status = 0
            for _ in range(repeat):
                begun = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - begun) * 1000)
                status = answer.status_code
            print(
                f"{path[:62]:62} {status:>6} {statistics.median(times):>7.1f} ms "
                f"{max(times):>7.1f} ms"
            )
    server.should_exit = True
    thread.join(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
