"""Hostile clients against ``notifier api``: memory and answers during and after.

How it measures:

* one ``notifier api`` process (SQLite, an embedded Redis started here, a SendGrid
  verification key so the callback endpoint reads bodies), started from ``--source`` (this
  checkout by default; another checkout's tree to compare, e.g. ``git archive main``);
* its resident memory (``VmRSS``) every 0.5 s, printed as a curve, with what a normal
  client got at that moment: ``GET /healthz`` every 0.5 s (1 s timeout), its status and
  latency, or how it failed (``reset``, ``timeout``);
* the large-body attack: ``--bodies`` connections (100) post to
  ``/v1/providers/sendgrid/events`` with signature headers of the right form (not
  SendGrid's), a chunked body of up to ``--body-mib`` MiB (8) each pushed as fast as the
  server takes it, then stall; after ``--hold`` seconds they close, and the curve goes on
  for as long again;
* the idle-connection attack: ``--idle`` connections (2,000, fewer if this process's file
  limit is lower) open and send nothing for ``--hold`` seconds, then close.

Run: ``.venv/bin/python bench/attack.py [--source DIR] [--hold 15] [--idle 2000]``
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notifier.queue import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 64 * 1024


@dataclass
class Curve:
    """The RSS samples and the normal client's answers, by phase."""

    pid: int
    url: str
    phase: str = "start"
    started: float = field(default_factory=time.monotonic)
    rows: list[tuple[float, str, float, str, float | None]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            tick = time.monotonic()
            status, latency = self._ask()
            row = (tick - self.started, self.phase, rss_mib(self.pid), status, latency)
            self.rows.append(row)
            shown = f"{latency * 1000:7.1f} ms" if latency is not None else "         "
            print(
                f"{row[0]:6.1f} s  {row[1]:<14} rss {row[2]:7.1f} MiB  healthz {status:<8}{shown}"
            )
            self.stop.wait(max(0.0, 0.5 - (time.monotonic() - tick)))

    def _ask(self) -> tuple[str, float | None]:
        started = time.monotonic()
        try:
            answer = httpx.get(f"{self.url}/healthz", timeout=1.0)
        except httpx.TimeoutException:
            return "timeout", None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError) as error:
            return "reset" if "reset" in str(error).lower() else type(error).__name__, None
        return str(answer.status_code), time.monotonic() - started


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_api(source: Path, directory: Path, redis_url: str) -> tuple[subprocess.Popen[bytes], str]:
    public = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(source),
        "NOTIFIER_PORT": str(port),
        "NOTIFIER_DATA_DIR": str(directory / "var"),
        "NOTIFIER_DATABASE_URL": f"sqlite:///{directory / 'notifier.db'}",
        "NOTIFIER_REDIS_URL": redis_url,
        "NOTIFIER_API_KEYS": "bench:bench-key-0123456789",
        "NOTIFIER_SENDGRID_WEBHOOK_PUBLIC_KEY": base64.b64encode(public).decode(),
        "NOTIFIER_LOG_LEVEL": "ERROR",
    }
    log = (directory / "api.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "notifier.cli", "api"],
        cwd=source,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"notifier api exited:\n{(directory / 'api.log').read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        time.sleep(0.2)
    raise SystemExit("notifier api did not start within 60 s")


def large_bodies(port: int, count: int, mib: int, seconds: float) -> list[socket.socket]:
    """``count`` connections pushing chunked SendGrid callback bodies for ``seconds``."""
    stamp = str(int(time.time()))
    head = (
        "POST /v1/providers/sendgrid/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"X-Twilio-Email-Event-Webhook-Signature: {base64.b64encode(b'0' * 70).decode()}\r\n"
        f"X-Twilio-Email-Event-Webhook-Timestamp: {stamp}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    connections = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection.sendall(head)
        connection.setblocking(False)
        connections.append(connection)
    chunk = b"%x\r\n%s\r\n" % (CHUNK, b"[" * CHUNK)
    sent = dict.fromkeys(range(count), 0)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        moved = False
        for number, connection in enumerate(connections):
            if sent[number] >= mib * 1024 * 1024:
                continue
            try:
                sent[number] += connection.send(chunk)
                moved = True
            except (BlockingIOError, BrokenPipeError, ConnectionResetError, OSError):
                pass
        if not moved:
            time.sleep(0.05)
    print(f"# large bodies: {sum(sent.values()) / 2**20:.0f} MiB sent in all, then stalled")
    return connections


def idle_connections(port: int, count: int) -> list[socket.socket]:
    connections = []
    for _ in range(count):
        try:
            connections.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError as error:
            print(f"# idle: connection {len(connections) + 1} failed: {error}")
            break
    print(f"# idle: {len(connections)} connections open, sending nothing")
    return connections


def close_all(connections: list[socket.socket]) -> None:
    for connection in connections:
        with contextlib.suppress(OSError):
            connection.close()


def summary(curve: Curve) -> None:
    print("\nphase           rss min  rss max  rss end   answered  failed  p50 ms  max ms")
    for phase in dict.fromkeys(row[1] for row in curve.rows):
        rows = [row for row in curve.rows if row[1] == phase]
        rss = [row[2] for row in rows]
        ok = [row[4] for row in rows if row[3] == "200" and row[4] is not None]
        failed = len(rows) - len(ok)
        p50 = statistics.median(ok) * 1000 if ok else float("nan")
        top = max(ok) * 1000 if ok else float("nan")
        print(
            f"{phase:<14} {min(rss):8.1f} {max(rss):8.1f} {rss[-1]:8.1f}  "
            f"{len(ok):9d} {failed:7d} {p50:7.1f} {top:7.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout to run")
    parser.add_argument("--bodies", type=int, default=100)
    parser.add_argument("--body-mib", type=int, default=8)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--hold", type=float, default=15.0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    idle = min(args.idle, limit - 200)
    print(f"# {os.cpu_count()} cores, file limit {limit} (was {soft}), source {args.source}")
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as redis:
        process, url = start_api(args.source.resolve(), Path(tmp), redis.url)
        port = int(url.rsplit(":", 1)[1])
        curve = Curve(process.pid, url)
        sampler = threading.Thread(target=curve.run, daemon=True)
        try:
            sampler.start()
            time.sleep(2)
            curve.phase = "bodies"
            held = large_bodies(port, args.bodies, args.body_mib, args.hold / 2)
            time.sleep(args.hold / 2)
            close_all(held)
            curve.phase = "after bodies"
            time.sleep(args.hold)
            curve.phase = "idle"
            held = idle_connections(port, idle)
            time.sleep(args.hold)
            close_all(held)
            curve.phase = "after idle"
            time.sleep(5)
        finally:
            curve.stop.set()
            sampler.join()
            process.terminate()
            process.wait(timeout=30)
    summary(curve)


if __name__ == "__main__":
    main()
