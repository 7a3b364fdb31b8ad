"""Hostile clients against ``notifier api``: memory and answers during and after.

How it measures:

* one ``notifier api`` process (SQLite, an embedded Redis started here, a SendGrid
  verification key so the callback endpoint reads bodies), started from ``--source`` (this
  checkout by default; another checkout's tree to compare, e.g. ``git archive main``);
* its resident memory (``VmRSS``) every 0.5 s, printed as a curve, with what a normal
  client got at that moment: ``GET /healthz`` every 0.5 s (1 s timeout), its status and
  latency, or how it failed (``reset``, ``timeout``);
* a warm-up before the baseline: the end of the console's template check, which the
  process runs once in the background after it starts, is waited for; then a normal
  client's requests: events posted, the returns read back, a signed SendGrid callback,
  one with a forged signature and one without signature headers, so that what the first
  use of each costs once is not counted against the attacks;
* the large-body attack, twice (rounds 1 and 2, so that a one-time cost and a leak can be
  told apart: a leak grows each round): ``--bodies`` connections (100) post to
  ``/v1/providers/sendgrid/events`` with signature headers of the right form (not
  SendGrid's), a chunked body of up to ``--body-mib`` MiB (8) each pushed as fast as the
  server takes it, then stall; after ``--hold`` seconds they close, and the curve goes on
  for as long again;
* the idle-connection attack: ``--idle`` connections (2,000, fewer if this process's file
  limit is lower) open and send nothing for ``--hold`` seconds, then close.

At the end of each phase the api process reports on itself (on ``SIGUSR1``, through a probe
this script runs it with; ``notifier api`` itself is unchanged): its RSS split into
anonymous and file-backed memory, its threads, glibc's heap (``mallinfo2``: in use, free
inside the heap, mapped), Python's small-object allocator (``sys._debugmallocstats``), its
connection protocols and tasks; the table shows how each moved. With ``--tracemalloc N``
(frames) it also traces Python's allocations and prints, per phase, where the memory
traced since the warm-up was allocated (tracing costs memory and time of its own: compare
its figures with each other, not with a run without it).

Run: ``.venv/bin/python bench/attack.py [--source DIR] [--hold 15] [--idle 2000]
[--tracemalloc 10]``
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notifier.queue import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 64 * 1024
API_KEY = "bench-key-0123456789"

#: Runs ``notifier api`` in this process, reporting on itself to ``argv[1]/probe-N.json`` on
#: SIGUSR1 (and with ``argv[2]`` > 0, tracing allocations with that many frames).
PROBE = r"""
import asyncio, collections, ctypes, gc, json, os, signal, sys, tempfile, threading, time
import tracemalloc
out, frames = sys.argv[1], int(sys.argv[2])
if frames:
    tracemalloc.start(frames)

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Mallinfo2

def obmalloc():
    with tempfile.TemporaryFile("w+") as caught:
        saved = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        lines = caught.read().splitlines()
    found = {}
    for line in lines:
        for key, name in (("# arenas allocated current", "arenas"),
                          ("# bytes in allocated blocks", "allocated"),
                          ("# bytes in available blocks", "available"),
                          ("Total", "total")):
            if line.startswith(key):
                found.setdefault(name, int(line.rsplit("=", 1)[1].replace(",", "").strip()))
    return found

def proc(name):
    return {k: int(v.split()[0]) * 1024 for k, v in (
        line.split(":", 1) for line in open(f"/proc/self/{name}").read().splitlines()[1:]
        if ":" in line) if v.split()[0].isdigit()}

def states():
    found = collections.Counter()
    held = 0
    for o in gc.get_objects():
        if type(o).__name__ != "LimitedHttpToolsProtocol":
            continue
        cycle = o.cycle
        found[" ".join(name for name, on in (
            ("closing", o.transport.is_closing()),
            ("paused", o.flow.read_paused),
            ("answered", cycle is not None and cycle.response_complete),
            ("timer", o._deadline is not None),
            ("reading", o._reading_body),
        ) if on) or "-"] += 1
        held += len(cycle.body) if cycle is not None else 0
    return {"states": dict(found), "buffered": held}

count = 0
def report(signum, frame):
    global count
    count += 1
    gc.collect()
    took = None
    if signum == signal.SIGUSR2:
        started = time.perf_counter()
        libc.malloc_trim(0)
        took = time.perf_counter() - started
    info = libc.mallinfo2()
    types = collections.Counter(type(o).__name__ for o in gc.get_objects())
    try:
        tasks = len(asyncio.all_tasks())
    except RuntimeError:
        tasks = -1
    status = open("/proc/self/status").read()
    data = {
        "smaps": proc("smaps_rollup"),
        "threads": int(status.split("Threads:")[1].split()[0]),
        "malloc": {f: getattr(info, f) for f, _ in Mallinfo2._fields_},
        "obmalloc": obmalloc(),
        "blocks": sys.getallocatedblocks(),
        "tasks": tasks,
        "types": dict(types.most_common(400)),
        "threads_named": [thread.name for thread in threading.enumerate()],
        **states(),
        "trim_seconds": took,
        "trims": sum(getattr(getattr(o, "heap", None), "trims", 0) for o in gc.get_objects()
                     if isinstance(o, type) and o.__name__ == "LimitedHttpToolsProtocol"),
    }
    if frames:
        data["traced"] = tracemalloc.get_traced_memory()[0]
        tracemalloc.take_snapshot().dump(f"{out}/probe-{count}.trace")
    with open(f"{out}/probe-{count}.json.part", "w") as file:
        json.dump(data, file)
    os.rename(f"{out}/probe-{count}.json.part", f"{out}/probe-{count}.json")

signal.signal(signal.SIGUSR1, report)
signal.signal(signal.SIGUSR2, report)
from notifier.cli import main
sys.exit(main(["api"]))
"""


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
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Api:
    """The ``notifier api`` process under attack, and how to ask it about itself."""

    process: subprocess.Popen[bytes]
    url: str
    key: ec.EllipticCurvePrivateKey
    probes: Path
    #: What the process said at the end of each phase, and the number of its report.
    reports: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)
    asked: int = 0

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def probe(self, phase: str, trim: bool = False) -> None:
        """Have the process report on itself at the end of ``phase`` (with ``trim``, after
        glibc gave back what it can of the free memory inside its heap, ``malloc_trim``)."""
        self.reports.append((phase, self._ask(phase, trim), self.asked))

    def settle(self) -> None:
        """Wait for what the process does once in the background after it starts (the
        console's template check) to end."""
        started = time.monotonic()
        while "template-check" in self._ask("settling")["threads_named"]:
            if time.monotonic() - started > 300:
                raise SystemExit("the template check of notifier api did not end in 300 s")
            time.sleep(0.5)
        print(f"# the template check in the background ended {time.monotonic() - started:.1f} s on")

    def _ask(self, phase: str, trim: bool = False) -> dict[str, Any]:
        self.asked += 1
        self.process.send_signal(signal.SIGUSR2 if trim else signal.SIGUSR1)
        path = self.probes / f"probe-{self.asked}.json"
        deadline = time.monotonic() + 120
        while not path.exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"notifier api did not report at the end of {phase}")
            time.sleep(0.1)
        data: dict[str, Any] = json.loads(path.read_text())
        return data


def start_api(source: Path, directory: Path, redis_url: str, frames: int) -> Api:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(source),
        "NOTIFIER_PORT": str(port),
        "NOTIFIER_DATA_DIR": str(directory / "var"),
        "NOTIFIER_DATABASE_URL": f"sqlite:///{directory / 'notifier.db'}",
        "NOTIFIER_REDIS_URL": redis_url,
        "NOTIFIER_API_KEYS": f"bench:{API_KEY}",
        "NOTIFIER_SENDGRID_WEBHOOK_PUBLIC_KEY": base64.b64encode(public).decode(),
        "NOTIFIER_LOG_LEVEL": "ERROR",
    }
    probes = directory / "probes"
    probes.mkdir()
    log = (directory / "api.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", PROBE, str(probes), str(frames)],
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
                return Api(process, url, key, probes)
        time.sleep(0.2)
    raise SystemExit("notifier api did not start within 60 s")


def warm_up(api: Api, events: int = 5) -> None:
    """What a normal client does: events posted and read back, provider callbacks."""
    example = json.loads((ROOT / "examples" / "refund_issued.json").read_text())
    keyed = {"Authorization": f"Bearer {API_KEY}"}
    answers: list[int] = []
    with httpx.Client(base_url=api.url, timeout=30) as client:
        for number in range(events):
            event = {**example, "event_id": f"evt-warm-{number}"}
            event["return"] = {**example["return"], "id": f"RMA-WARM-{number}"}
            answers.append(client.post("/v1/events", json=event, headers=keyed).status_code)
        time.sleep(1)
        for number in range(events):
            answers.append(client.get(f"/v1/returns/RMA-WARM-{number}", headers=keyed).status_code)
        stamp = str(int(time.time()))
        body = json.dumps(
            [
                {
                    "email": "a@example.com",
                    "event": "delivered",
                    "timestamp": int(stamp),
                    "sg_message_id": "warm-up.filter0001",
                }
            ]
        ).encode()
        signature = api.key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        for headers in (
            {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode()},
            {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(b"0" * 70).decode()},
            {},
        ):
            if headers:
                headers["X-Twilio-Email-Event-Webhook-Timestamp"] = stamp
            answered = client.post(
                "/v1/providers/sendgrid/events",
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
            answers.append(answered.status_code)
    print(f"# warm-up answers: {answers}")


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


#: What each phase's report shows, in MiB unless said: (heading, how to read it).
_COLUMNS: list[tuple[str, Any]] = [
    ("rss", lambda r: r["smaps"]["Rss"]),
    ("anon", lambda r: r["smaps"]["Anonymous"]),
    ("file", lambda r: r["smaps"]["Rss"] - r["smaps"]["Anonymous"]),
    ("heap use", lambda r: r["malloc"]["uordblks"]),
    ("heap free", lambda r: r["malloc"]["fordblks"]),
    ("mmapped", lambda r: r["malloc"]["hblkhd"]),
    ("obmalloc", lambda r: r["obmalloc"].get("total", 0)),
    ("ob free", lambda r: r["obmalloc"].get("available", 0)),
]
_COUNTS: list[tuple[str, Any]] = [
    ("threads", lambda r: r["threads"]),
    ("tasks", lambda r: r["tasks"]),
    ("protocols", lambda r: r["types"].get("LimitedHttpToolsProtocol", 0)),
    ("objects", lambda r: sum(r["types"].values())),
    ("trims", lambda r: r["trims"]),
]


def report(api: Api, frames: int) -> None:
    """What the process said about itself at the end of each phase."""
    print("\nat the end of    " + "".join(f"{name:>10}" for name, _ in _COLUMNS + _COUNTS))
    for phase, data, _ in api.reports:
        mib = "".join(f"{read(data) / 2**20:10.1f}" for _, read in _COLUMNS)
        counts = "".join(f"{read(data):10d}" for _, read in _COUNTS)
        print(f"{phase:<16}{mib}{counts}")
        if data["states"]:
            held = data["buffered"] / 2**10
            print(f"{'':<16}connections: {data['states']}, {held:.0f} KiB of bodies buffered")
        if data["trim_seconds"] is not None:
            print(
                f"{'':<16}after malloc_trim(0) by hand, "
                f"which took {data['trim_seconds'] * 1000:.1f} ms"
            )
    print("(MiB; heap: glibc's main arena and its others, free = held but unused)")
    base_phase, base, base_number = api.reports[1]
    for phase, data, _ in api.reports[2:]:
        grown = {
            name: count - base["types"].get(name, 0)
            for name, count in data["types"].items()
            if abs(count - base["types"].get(name, 0)) >= 50
        }
        if grown:
            shown = ", ".join(f"{n} {c:+d}" for n, c in sorted(grown.items(), key=lambda x: -x[1]))
            print(f"# objects since {base_phase}, at the end of {phase}: {shown}")
    if not frames:
        return
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    traces = api.probes / f"probe-{base_number}.trace"
    before = tracemalloc.Snapshot.load(str(traces)).filter_traces(ignore)
    for phase, _, number in api.reports[2:]:
        after = tracemalloc.Snapshot.load(str(api.probes / f"probe-{number}.trace"))
        stats = after.filter_traces(ignore).compare_to(before, "traceback")
        total = sum(stat.size_diff for stat in stats)
        print(f"\n# traced since {base_phase}, at the end of {phase}: {total / 2**20:+.2f} MiB")
        for stat in stats[:6]:
            if abs(stat.size_diff) < 64 * 1024:
                break
            print(f"  {stat.size_diff / 2**10:+9.0f} KiB in {stat.count_diff:+d} blocks at")
            for line in stat.traceback.format(limit=frames)[-frames * 2 :]:
                print(f"      {line.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout to run")
    parser.add_argument("--bodies", type=int, default=100)
    parser.add_argument("--body-mib", type=int, default=8)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--hold", type=float, default=15.0)
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    idle = min(args.idle, limit - 200)
    print(f"# {os.cpu_count()} cores, file limit {limit} (was {soft}), source {args.source}")
    print(f"# load average at the start: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as redis:
        api = start_api(args.source.resolve(), Path(tmp), redis.url, args.tracemalloc)
        curve = Curve(api.process.pid, api.url)
        sampler = threading.Thread(target=curve.run, daemon=True)
        try:
            sampler.start()
            time.sleep(2)
            api.probe("start")
            curve.phase = "warm"
            api.settle()
            warm_up(api)
            time.sleep(2)
            api.probe("warm")
            for round_ in (1, 2):
                curve.phase = f"bodies {round_}"
                held = large_bodies(api.port, args.bodies, args.body_mib, args.hold / 2)
                time.sleep(args.hold / 2)
                api.probe(f"bodies {round_}")
                close_all(held)
                curve.phase = f"after bodies {round_}"
                time.sleep(args.hold)
                api.probe(f"after bodies {round_}")
            curve.phase = "idle"
            held = idle_connections(api.port, idle)
            time.sleep(args.hold)
            api.probe("idle")
            close_all(held)
            curve.phase = "after idle"
            time.sleep(5)
            api.probe("after idle")
            api.probe("trimmed", trim=True)
        finally:
            curve.stop.set()
            sampler.join()
            api.process.terminate()
            api.process.wait(timeout=30)
        summary(curve)
        report(api, args.tracemalloc)


if __name__ == "__main__":
    main()
