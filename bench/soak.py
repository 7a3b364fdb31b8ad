"""Memory of ``notifier run`` under sustained load: the RSS curve over ``--minutes``.

Everything runs on this machine, started by this script:

* ``notifier run`` (API, worker threads, relay, scheduler and its embedded ``redis-server``
  in one process) on SQLite in a fresh temporary directory, with every channel pointed at a
  loopback provider stand-in: SendGrid (email) and Twilio (SMS) through their real SDKs
  (``NOTIFIER_SENDGRID_BASE_URL``, ``NOTIFIER_TWILIO_BASE_URL``), and one webhook
  subscriber (``POST /v1/webhooks``) for every return event and scheduled kind and for
  bounced and failed messages. The scheduler scans every ``--scan-interval`` seconds.
* The stand-in (a process of its own, :class:`bench.e2e.Standin` extended) answers every
  email, SMS and webhook at once and calls back as the providers do: a signed SendGrid
  Event Webhook batch each second (every email ``delivered``, one in ten also ``open``,
  one in a hundred ``bounce`` instead, which suppresses the address and falls back to
  SMS) and a signed Twilio status callback (``delivered``) for every SMS, so the tracking
  path runs too.
* ``--rate`` events per second (50), each posted alone to ``POST /v1/events`` by
  ``--clients`` threads: returns move through their statuses (requested, approved or
  rejected, label created, in transit, received, inspected, refunded or exchanged, closed,
  some cancelled on the way), half the customers Dutch and half English, most with a
  phone number, with ship-by dates and label expiries a few days around today so the
  scheduler's reminders, expiries and staff alerts fall due. Beside them, twice a second
  ``GET /v1/returns/{id}`` of a recent return.

Every ``--sample`` seconds (5) it records the resident memory (``VmRSS``) and CPU of the
``notifier run`` process and, separately, of its ``redis-server`` child, what the
stand-in received, and what is waiting (the queue and outbox gauges of a ``GET /metrics``
scrape: a backlog that grows means the load is more than the machine delivers). It prints
one line each 30 s as it goes, then the curve and a verdict: peak RSS, RSS at 1 minute and
at the end, and the growth per minute after the first minute (least-squares slope of the
samples), against the requirement: under 300 MB, and flat after the first minute (the
slope adds less than 5% of the RSS at 1 minute over the rest of the run). ``RssAnon`` (heap
and stacks) is shown beside ``VmRSS``: it is what a leak grows. The SQLite file and Redis's
append-only file grow on disk; that is expected.

``--sqlite-memory`` runs ``notifier run`` with a thread that reads SQLite's own heap (its
page caches and statements, ``sqlite3_memory_used``), shown beside the RSS. ``--tracemalloc``
runs ``notifier run`` with Python's ``tracemalloc`` on as well (keeping
``--frames`` frames; it costs memory and CPU of its own, so its RSS figures are not the ones
to report) and prints the allocations that grew most between a snapshot at 1 minute and the
last one (taken each minute), by line and by traceback: where to look when the curve climbs.

Run: ``.venv/bin/python bench/soak.py [--minutes 10] [--rate 50] [--tracemalloc]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import itertools
import json
import math
import os
import pickle
import queue
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from bench.e2e import (  # noqa: E402
    API_KEY,
    Standin,
    _response,
    cpu_seconds,
    load,
    notifier_env,
    started,
    wait_ready,
)
from notifier.http import EXAMPLE_EVENT  # noqa: E402
from notifier.queue import free_port  # noqa: E402

TWILIO_SID = "AC" + "50a4" * 8
TWILIO_TOKEN = "soak-twilio-token-0123456789"
#: What the stand-in's ``/_soak`` counts.
COUNTS = ("email", "sms", "webhook", "sendgrid_callbacks", "twilio_callbacks", "refused")
#: Megabytes in a kibibyte count of ``/proc/<pid>/status``.
KB = 1024
#: Requirement: RSS of ``notifier run`` stays under this, and flat after the first minute.
LIMIT_MB = 300.0


# -- the provider stand-in (a process of its own) ------------------------------------------


class SoakStandin(Standin):
    """SendGrid, Twilio and a webhook subscriber in one, calling back as the providers do.

    ``GET /_soak`` returns the counts of :data:`COUNTS`. Nothing is kept per message but
    the callbacks not yet posted.
    """

    def __init__(self, notifier: str, key: ec.EllipticCurvePrivateKey) -> None:
        super().__init__()
        self.notifier = notifier
        self.key = key
        self.counts = dict.fromkeys(COUNTS, 0)
        self.sendgrid_events: list[dict[str, Any]] = []
        self.twilio_statuses: list[tuple[str, dict[str, str]]] = []
        self.random = random.Random(7)

    async def answer(self, request_line: list[bytes], body: bytes) -> bytes:
        path = request_line[1]
        if path.startswith(b"/_soak"):
            return _response(200, json.dumps(self.counts).encode())
        self.sequence += 1
        if path.startswith(b"/v3/mail/send"):
            self.counts["email"] += 1
            self._mail_events(json.loads(body), f"soak{self.sequence}.filter0001")
            return _response(202, b"", f"X-Message-Id: soak{self.sequence}\r\n")
        if path.endswith(b"/Messages.json"):
            self.counts["sms"] += 1
            return _response(201, self._sms(dict(parse_qsl(body.decode()))))
        self.counts["webhook"] += 1
        return _response(200, b"")

    def _mail_events(self, mail: dict[str, Any], message_id: str) -> None:
        event = {
            "email": mail["personalizations"][0]["to"][0]["email"],
            "timestamp": int(time.time()),
            "sg_message_id": message_id,
            "notification_id": mail["custom_args"]["notification_id"],
        }
        draw = self.random.random()
        kinds = (
            ["bounce"] if draw < 0.01 else ["delivered", "open"] if draw < 0.1 else ["delivered"]
        )
        for kind in kinds:
            extra = (
                {"type": "bounce", "reason": "550 5.1.1 unknown user"} if kind == "bounce" else {}
            )
            self.sendgrid_events.append({**event, "event": kind, **extra})

    def _sms(self, form: dict[str, str]) -> bytes:
        sid = "SM" + secrets.token_hex(16)
        callback = form.get("StatusCallback")
        if callback:
            status = {"MessageSid": sid, "AccountSid": TWILIO_SID, "To": form.get("To", "")}
            self.twilio_statuses.append((callback, {**status, "MessageStatus": "delivered"}))
        answer = {"sid": sid, "account_sid": TWILIO_SID, "to": form.get("To"), "status": "queued"}
        return json.dumps(answer).encode()

    async def call_back(self) -> None:
        """Post what the providers would report, once a second."""
        from twilio.request_validator import RequestValidator

        validator = RequestValidator(TWILIO_TOKEN)
        async with httpx.AsyncClient(base_url=self.notifier, timeout=30) as client:
            while True:
                await asyncio.sleep(1.0)
                events, self.sendgrid_events = self.sendgrid_events, []
                for first in range(0, len(events), 500):
                    chunk = events[first : first + 500]
                    body = json.dumps(chunk).encode()
                    stamp = str(int(time.time()))
                    signature = self.key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
                    headers = {
                        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(
                            signature
                        ).decode(),
                        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
                        "Content-Type": "application/json",
                    }
                    await self._post(client, "sendgrid", body, headers, len(chunk))
                statuses, self.twilio_statuses = self.twilio_statuses, []
                for url, form in statuses:
                    signature = validator.compute_signature(url, form)
                    encoded = urlencode(form).encode()
                    headers = {
                        "X-Twilio-Signature": signature,
                        "Content-Type": "application/x-www-form-urlencoded",
                    }
                    await self._post(client, "twilio", encoded, headers, 1, url=url)

    async def _post(
        self,
        client: httpx.AsyncClient,
        provider: str,
        body: bytes,
        headers: dict[str, str],
        count: int,
        url: str | None = None,
    ) -> None:
        path = url or "/v1/providers/sendgrid/events"
        try:
            answer = await client.post(path, content=body, headers=headers)
        except httpx.HTTPError:
            self.counts["refused"] += count
            return
        if answer.status_code < 300:
            self.counts[f"{provider}_callbacks"] += count
        else:
            self.counts["refused"] += count


def serve_standin(port: int, notifier: str, key_file: str) -> None:
    import uvloop

    key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    standin = SoakStandin(notifier, key)

    async def main() -> None:
        server = await asyncio.start_server(standin.serve, "127.0.0.1", port, backlog=512)
        callbacks = asyncio.create_task(standin.call_back())
        async with server:
            await server.serve_forever()
        callbacks.cancel()

    uvloop.run(main())


# -- ``notifier run`` under tracemalloc (the same process, its snapshots dumped) ----------


def serve_probed(directory: str, frames: int) -> int:
    """``notifier run`` that writes SQLite's own heap (``sqlite3_memory_used``: page caches,
    statements) to ``DIR/sqlite-mb`` each second; with ``frames``, under tracemalloc too,
    with a snapshot at 1 minute and then each minute."""
    import ctypes
    import tracemalloc

    from notifier import cli

    sqlite = ctypes.CDLL("libsqlite3.so.0")  # the library the sqlite3 module links
    sqlite.sqlite3_memory_used.restype = ctypes.c_int64

    def probe() -> None:
        target = Path(directory) / "sqlite-mb"
        while True:
            target.with_suffix(".partial").write_text(f"{sqlite.sqlite3_memory_used() / 2**20}")
            target.with_suffix(".partial").replace(target)
            time.sleep(1)

    def snapshots() -> None:
        for n in itertools.count():
            time.sleep(60)
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            name = "first" if n == 0 else "last"
            target = Path(directory) / f"{name}.snapshot"
            snapshot.dump(str(target.with_suffix(".partial")))
            target.with_suffix(".partial").replace(target)

    threading.Thread(target=probe, daemon=True, name="soak-sqlite").start()
    if frames:
        tracemalloc.start(frames)
        threading.Thread(target=snapshots, daemon=True, name="soak-tracemalloc").start()
    return cli.main(["run"])


def print_growth(directory: Path) -> None:
    import tracemalloc

    try:
        first = tracemalloc.Snapshot.load(str(directory / "first.snapshot"))
        last = tracemalloc.Snapshot.load(str(directory / "last.snapshot"))
    except (FileNotFoundError, EOFError, pickle.UnpicklingError):
        print("tracemalloc: fewer than two snapshots (run for 3 minutes or more)")
        return
    print("tracemalloc: what grew most from the first minute to the last snapshot, by line:")
    for stat in last.compare_to(first, "lineno")[:20]:
        print(f"  {stat.size_diff / KB:+9.0f} KiB {stat.count_diff:+8d} blocks  {stat.traceback}")
    print("by traceback (the five largest; more frames with --frames):")
    for stat in last.compare_to(first, "traceback")[:5]:
        print(f"  {stat.size_diff / KB:+9.0f} KiB {stat.count_diff:+8d} blocks")
        for line in stat.traceback.format(limit=8):
            print(f"      {line}")


# -- the load: returns moving through their statuses ----------------------------------------

#: Each return's story; a branch is taken at random where the story forks.
STORY = {
    None: ("return.requested",),
    "return.requested": ("return.approved",) * 9 + ("return.rejected",),
    "return.approved": ("return.label_created",) * 9 + ("return.cancelled",),
    "return.label_created": ("return.in_transit",) * 9 + ("return.cancelled",),
    "return.in_transit": ("return.received",),
    "return.received": ("return.inspected",),
    "return.inspected": ("return.refund_issued",) * 4 + ("return.exchange_shipped",),
    "return.refund_issued": ("return.closed",),
    "return.exchange_shipped": ("return.closed",),
}
LOCALES = (("nl-NL", "Europe/Amsterdam"), ("en-GB", "Europe/London"))


@dataclass
class Return:
    """One return of the load and where its story is."""

    number: int
    started: datetime
    status: str | None = None
    events: int = 0


class Load:
    """Makes the events: each for a return picked at random among ``returns`` open ones, one
    status on; a return whose story ended is replaced by a new one."""

    def __init__(self, tag: str, returns: int, seed: int = 11) -> None:
        self.tag = tag
        self.random = random.Random(seed)
        self.numbers = itertools.count(1)
        self.open: list[Return | None] = [None] * returns
        self.recent: deque[str] = deque(maxlen=200)

    def next_event(self) -> dict[str, Any]:
        slot = self.random.randrange(len(self.open))
        ret = self.open[slot]
        if ret is None:
            # Begun up to four days ago: some deadlines already due, some still to come.
            begun = datetime.now(UTC) - timedelta(hours=self.random.uniform(0, 96))
            ret = self.open[slot] = Return(next(self.numbers), begun)
        ret.status = self.random.choice(STORY[ret.status])
        ret.events += 1
        if ret.status not in STORY:  # closed, rejected or cancelled: its story ends
            self.open[slot] = None
        return self.event_for(ret)

    def event_for(self, ret: Return) -> dict[str, Any]:
        body = copy.deepcopy(EXAMPLE_EVENT)
        n, tag = ret.number, self.tag
        occurred = min(ret.started + timedelta(hours=8 * ret.events), datetime.now(UTC))
        ship_by = (ret.started + timedelta(days=5)).date()
        locale, zone = LOCALES[n % 2]
        return_id = f"RMA-{tag}-{n}"
        body.update(
            event_id=f"{tag}-{n}-{ret.events}",
            type=ret.status,
            occurred_at=occurred.isoformat(timespec="seconds"),
        )
        body["return"].update(
            id=return_id,
            order_id=f"ORD-{tag}-{n}",
            ship_by=ship_by.isoformat(),
            status_url=f"https://shop.example/returns/{return_id}",
        )
        body["return"]["label"].update(
            url=f"https://labels.example/{return_id}.pdf",
            expires_at=_end_of(ship_by + timedelta(days=1)),
        )
        if n % 5 == 0:
            body["return"]["method"] = "in_store"
            body["return"]["store"] = {
                "name": "De Wolwinkel Utrecht",
                "address": "Oudegracht 1, Utrecht",
                "opening_hours": "ma-za 10:00-18:00",
            }
        body["customer"].update(
            id=f"C-{tag}-{n}",
            name=("Sanne de Vries", "Sam Taylor")[n % 2],
            email=f"soak-{tag}-{n}@example.nl",
            locale=locale,
            timezone=zone,
        )
        if n % 4 == 3:
            body["customer"].pop("phone")
        else:
            body["customer"]["phone"] = f"+3161{n % 10_000_000:07d}"
        self.recent.append(return_id)
        return body


def _end_of(day: date) -> str:
    return f"{day.isoformat()}T23:59:00+01:00"


# -- the clients ----------------------------------------------------------------------------


@dataclass
class Clients:
    """Posts the load's events at the rate, and reads beside them, until stopped."""

    base: str
    rate: float
    threads: int
    load: Load
    posted: int = 0
    failed: int = 0
    reads: int = 0
    behind: int = 0
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=5))
    stop: threading.Event = field(default_factory=threading.Event)
    pending: queue.Queue[dict[str, Any] | None] = field(default_factory=queue.Queue)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)

    @contextmanager
    def running(self) -> Iterator[None]:
        workers = [threading.Thread(target=self.post, daemon=True) for _ in range(self.threads)]
        workers += [
            threading.Thread(target=self.produce, daemon=True),
            threading.Thread(target=self.read, daemon=True),
        ]
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            self.stop.set()
            for _ in range(self.threads):
                self.pending.put(None)
            for worker in workers:
                worker.join(timeout=35)

    def produce(self) -> None:
        begin, made = time.monotonic(), 0
        while not self.stop.is_set():
            due = int((time.monotonic() - begin) * self.rate)
            if self.pending.qsize() > self.rate * 5:  # the API is more than 5 s behind
                self.behind += due - made
                made = due
            for _ in range(due - made):
                self.pending.put(self.load.next_event())
            made = due
            time.sleep(0.02)

    def post(self) -> None:
        with self.client() as client:
            while (event := self.pending.get()) is not None:
                try:
                    answer = client.post("/v1/events", json=event)
                    ok = answer.status_code in (200, 202)
                    error = f"{answer.status_code} {answer.text[:200]}"
                except httpx.HTTPError as failure:
                    ok, error = False, repr(failure)
                with self.lock:
                    if ok:
                        self.posted += 1
                    else:
                        self.failed += 1
                        self.errors.append(error)

    def read(self) -> None:
        with self.client() as client:
            for n in itertools.count():
                if self.stop.wait(0.5):
                    return
                try:
                    if self.load.recent:
                        client.get(f"/v1/returns/{self.load.recent[-1 - n % 50]}")
                    self.reads += 1
                except (httpx.HTTPError, IndexError):
                    pass


# -- measuring ------------------------------------------------------------------------------


def rss_mb(pid: int | None, field: str = "VmRSS") -> float:
    """A memory figure of ``/proc/<pid>/status`` in MB: ``VmRSS``, or ``RssAnon`` (the heap
    and stacks, what a leak grows) of which it is the sum with ``RssFile`` and ``RssShmem``."""
    if pid is None:
        return float("nan")
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / KB
    except FileNotFoundError:
        pass
    return float("nan")


def child_named(parent: int, name: str) -> int | None:
    """The pid of ``parent``'s child process whose command is ``name``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and comm == name:
            return int(entry.name)
    return None


@dataclass(frozen=True)
class Sample:
    at: float
    run_mb: float
    run_anon_mb: float
    redis_mb: float
    run_cpu: float
    redis_cpu: float
    posted: int
    counts: dict[str, int]
    waiting: int
    #: SQLite's heap in the process (``--sqlite-memory``), else NaN.
    sqlite_mb: float

    @property
    def delivered(self) -> int:
        return self.counts["email"] + self.counts["sms"] + self.counts["webhook"]


def waiting(base: str) -> int:
    """Jobs waiting in Redis and events not yet dispatched, from ``GET /metrics``."""
    try:
        text = httpx.get(f"{base}/metrics", timeout=10).text
    except httpx.HTTPError:
        return -1
    names = ("notifier_queue_depth{", "notifier_outbox_pending ")
    return sum(int(float(r.split()[-1])) for r in text.splitlines() if r.startswith(names))


def sample(
    begin: float, run: int, redis: int | None, clients: Clients, standin: str, probe: Path
) -> Sample:
    try:
        counts = httpx.get(f"{standin}/_soak", timeout=10).json()
    except httpx.HTTPError:
        counts = dict.fromkeys(COUNTS, -1)
    backlog = waiting(clients.base)
    try:
        sqlite_mb = float(probe.read_text())
    except (OSError, ValueError):
        sqlite_mb = float("nan")
    return Sample(
        time.monotonic() - begin,
        rss_mb(run),
        rss_mb(run, "RssAnon"),
        rss_mb(redis),
        cpu_seconds(run),
        cpu_seconds(redis) if redis else 0.0,
        clients.posted,
        counts,
        backlog,
        sqlite_mb,
    )


def line(row: Sample, before: Sample | None) -> str:
    span = row.at - before.at if before else row.at
    cpu = (row.run_cpu - (before.run_cpu if before else 0.0)) / span * 100 if span else 0.0
    return (
        f"{row.at / 60:6.1f} min  run {row.run_mb:6.1f} MB (anon {row.run_anon_mb:6.1f})  "
        f"redis {row.redis_mb:5.1f} MB  "
        f"posted {row.posted:7d}  delivered {row.delivered:7d} "
        f"(email {row.counts['email']}, sms {row.counts['sms']}, webhook "
        f"{row.counts['webhook']})  waiting {row.waiting}  run CPU {cpu:3.0f}%"
        + ("" if math.isnan(row.sqlite_mb) else f"  SQLite's heap {row.sqlite_mb:.1f} MB")
    )


def verdict(rows: list[Sample], peak_hwm: float) -> None:
    after = [r for r in rows if r.at >= 60]
    at_minute = min(rows, key=lambda r: abs(r.at - 60))
    end = rows[-1]
    peak = max(r.run_mb for r in rows)
    print(
        f"run: peak RSS {peak:.1f} MB sampled ({peak_hwm:.1f} MB VmHWM), "
        f"{at_minute.run_mb:.1f} MB at {at_minute.at / 60:.1f} min, {end.run_mb:.1f} MB at the end"
    )
    redis_peak = max(r.redis_mb for r in rows)
    print(
        f"redis-server: peak {redis_peak:.1f} MB, {at_minute.redis_mb:.1f} MB at 1 min, "
        f"{end.redis_mb:.1f} MB at the end"
    )
    if len(after) < 3:
        print("too short for a slope: run for 2 minutes or more")
        return
    slope = statistics.linear_regression([r.at / 60 for r in after], [r.run_mb for r in after])
    redis_slope = statistics.linear_regression(
        [r.at / 60 for r in after], [r.redis_mb for r in after]
    )
    anon_slope = statistics.linear_regression(
        [r.at / 60 for r in after], [r.run_anon_mb for r in after]
    )
    minutes = (end.at - at_minute.at) / 60
    print(
        f"growth after the first minute: run {slope.slope:+.2f} MB/min "
        f"({slope.slope * minutes:+.1f} MB over {minutes:.1f} min; anonymous "
        f"{anon_slope.slope:+.2f} MB/min), redis-server {redis_slope.slope:+.2f} MB/min"
    )
    if not math.isnan(end.sqlite_mb):
        print(
            f"SQLite's heap in the process: {at_minute.sqlite_mb:.1f} MB at 1 min, "
            f"{end.sqlite_mb:.1f} MB at the end, peak {max(r.sqlite_mb for r in rows):.1f} MB"
        )
    cpu = (end.run_cpu - rows[0].run_cpu) * 1000 / max(1, end.delivered - rows[0].delivered)
    print(f"run CPU per delivered message: {cpu:.1f} ms")
    flat = slope.slope * minutes < 0.05 * at_minute.run_mb
    under = max(peak_hwm, peak) < LIMIT_MB
    print(
        f"verdict: {'under' if under else 'OVER'} {LIMIT_MB:.0f} MB, "
        f"{'flat' if flat else 'GROWING'} after the first minute"
    )
    if end.waiting > 2 * max(at_minute.waiting, 100):
        print(
            f"  (the backlog grew from {at_minute.waiting} to {end.waiting} waiting: the "
            "machine delivered less than the load; try a lower --rate for a steady state)"
        )


# -- the run --------------------------------------------------------------------------------


def peak_mb(pid: int) -> float:
    for text in Path(f"/proc/{pid}/status").read_text().splitlines():
        if text.startswith("VmHWM:"):
            return int(text.split()[1]) / KB
    return float("nan")


def subscribe(base: str, url: str) -> None:
    answer = httpx.post(
        f"{base}/v1/webhooks",
        json={"url": url, "types": ["*", "notification.bounced", "notification.failed"]},
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs")
    parser.add_argument("--rate", type=float, default=50.0, help="events posted per second")
    parser.add_argument("--returns", type=int, default=1500, help="returns open at a time")
    parser.add_argument("--clients", type=int, default=4, help="threads posting events")
    parser.add_argument("--threads", type=int, default=4, help="worker threads")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--scan-interval", type=float, default=20.0, help="scheduler, seconds")
    parser.add_argument("--tracemalloc", action="store_true", help="where memory grows")
    parser.add_argument("--frames", type=int, default=1, help="tracemalloc's frames kept")
    parser.add_argument("--sqlite-memory", action="store_true", help="SQLite's heap too")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--serve-standin", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--serve-probed", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_standin:
        port, notifier, key_file = args.serve_standin
        serve_standin(int(port), notifier, key_file)
        return
    if args.serve_probed:
        sys.exit(serve_probed(args.serve_probed[0], int(args.serve_probed[1])))
    print(
        f"cores: {os.cpu_count()}; {args.rate:g} events/s for {args.minutes:g} min, "
        f"{args.clients} clients, {args.threads} worker threads; {load()}",
        flush=True,
    )
    with ExitStack() as stack:
        directory = Path(tempfile.mkdtemp(prefix="notifier-soak-"))
        if not args.keep:
            stack.callback(_remove, directory)
        key = ec.generate_private_key(ec.SECP256R1())
        key_file = directory / "sendgrid-key.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        port, standin_port = free_port(), free_port()
        base, standin = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{standin_port}"
        standin_args = [sys.executable, __file__, "--serve-standin", str(standin_port)]
        standin_args += [base, str(key_file)]
        stack.enter_context(started(standin_args, dict(os.environ), directory / "standin.log"))

        env = notifier_env(directory, port, standin, args.threads)
        env.update(
            NOTIFIER_DATABASE_URL=f"sqlite:///{directory / 'notifier.db'}",
            NOTIFIER_SCAN_INTERVAL=f"{args.scan_interval:g}",
            NOTIFIER_SENDGRID_WEBHOOK_PUBLIC_KEY=base64.b64encode(public).decode(),
            NOTIFIER_TWILIO_ACCOUNT_SID=TWILIO_SID,
            NOTIFIER_TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            NOTIFIER_TWILIO_FROM="+3197010000000",
            NOTIFIER_TWILIO_BASE_URL=standin,
            NOTIFIER_WEBHOOK_ALLOW_PRIVATE="true",
            NOTIFIER_STAFF_EMAIL="support@example.nl",
        )
        if args.tracemalloc or args.sqlite_memory:
            command = [sys.executable, __file__, "--serve-probed", str(directory)]
            command.append(str(args.frames if args.tracemalloc else 0))
        else:
            command = [sys.executable, "-m", "notifier.cli", "run"]
        run = stack.enter_context(started(command, env, directory / "run.log"))
        wait_ready(port, [run])
        subscribe(base, f"{standin}/hooks/returns")
        redis = child_named(run.pid, "redis-server")
        clients = Clients(
            base, args.rate, args.clients, Load(f"s{time.time_ns() % 10**8}", args.returns)
        )
        rows: list[Sample] = []
        probe = directory / "sqlite-mb"
        begin = time.monotonic()
        rows.append(sample(begin, run.pid, redis, clients, standin, probe))
        with clients.running():
            for n in itertools.count(1):
                if n * args.sample > args.minutes * 60:
                    break
                time.sleep(max(0.0, begin + n * args.sample - time.monotonic()))
                if run.poll() is not None:
                    raise SystemExit(f"notifier run exited with {run.returncode}")
                rows.append(sample(begin, run.pid, redis, clients, standin, probe))
                if n * args.sample % 30 < args.sample:
                    print(line(rows[-1], _before(rows, 30)), flush=True)
        time.sleep(args.sample)
        rows.append(sample(begin, run.pid, redis, clients, standin, probe))
        hwm = peak_mb(run.pid)
        last = rows[-1]
        print(f"\nafter the load (+{args.sample:g} s): {line(last, rows[-2])}; {load()}")
        print(
            f"posted {clients.posted} events ({clients.failed} failed, {clients.behind} not "
            f"posted: the API was behind), {clients.reads} reads; callbacks "
            f"{last.counts['sendgrid_callbacks']} SendGrid, {last.counts['twilio_callbacks']} "
            f"Twilio, {last.counts['refused']} refused"
        )
        for error in clients.errors:
            print(f"  a failed post: {error}")
        print("\nthe curve, every 30 s:")
        print("  time      run RSS   (anon)      redis RSS   delivered  waiting")
        shown = -30.0
        for row in rows:
            if row.at - shown >= 30 - args.sample / 2 or row is rows[-1]:
                print(
                    f"  {row.at / 60:5.1f} min  {row.run_mb:6.1f} MB  {row.run_anon_mb:6.1f} MB  "
                    f"{row.redis_mb:6.1f} MB  "
                    f"{row.delivered:9d}  {row.waiting:7d}"
                )
                shown = row.at
        print()
        verdict(rows, hwm)
        sizes = {p.name: p.stat().st_size / 2**20 for p in directory.glob("notifier.db*")}
        aof = sum(p.stat().st_size for p in directory.rglob("*.aof") if p.is_file()) / 2**20
        print(f"on disk: SQLite {sum(sizes.values()):.0f} MB, Redis append-only file {aof:.0f} MB")
        if args.tracemalloc:
            run.terminate()
            run.wait(timeout=60)
            print_growth(directory)
        if args.keep:
            print(f"kept: {directory}")


def _before(rows: list[Sample], seconds: float) -> Sample | None:
    target = rows[-1].at - seconds
    earlier = [r for r in rows[:-1] if r.at <= target + 1]
    return earlier[-1] if earlier else None


def _remove(directory: Path) -> None:
    import shutil

    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
