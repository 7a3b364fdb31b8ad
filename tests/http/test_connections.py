"""What an unauthenticated or slow client may cost: bodies refused before or while they
arrive, connections timed and bounded.

The body limits are checked on the application itself, counting the body messages it asks
for; the connection limits on uvicorn serving it as ``notifier api`` does, on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notifier.http import ConnectionLimits, connections, create_app, server_options
from notifier.http.bodies import MAX_BODY, BodyBudget, raw_body
from notifier.http.connections import TRIM_AFTER, TRIM_DELAY, HeapTrim, LimitedHttpToolsProtocol
from notifier.http.problems import Problem
from notifier.http.routers.providers import MAX_SENDGRID_BODY
from notifier.http.staff.web import MAX_SIGN_IN_FORM
from notifier.processes import HTTP_SERVER_OPTIONS
from notifier.queue import free_port
from notifier.service import Service
from notifier.settings import Settings
from tests.conftest import API_KEY

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
#: The size of each body message the tests send.
CHUNK = 64 * 1024
#: Signature headers of the right form (fresh timestamp, base64) but not SendGrid's.
FORGED = {
    "x-twilio-email-event-webhook-signature": base64.b64encode(b"\x30" * 70).decode(),
    "x-twilio-email-event-webhook-timestamp": "0",  # replaced by the current time
}


@pytest.fixture
def callbacks(settings: Settings, make_service: Callable[[Settings], Service]) -> Service:
    """A service that takes SendGrid callbacks (signed with a key nobody here holds)."""
    public = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return make_service(
        replace(settings, sendgrid_webhook_public_key=base64.b64encode(public).decode())
    )


@dataclass
class Asked:
    """What an application answered, and how many body messages it asked for."""

    status: int
    headers: dict[str, str]
    reads: int


def ask(app: Any, method: str, path: str, headers: dict[str, str], chunks: int) -> Asked:
    """Call ``app`` with a body of ``chunks`` messages of :data:`CHUNK` bytes (no length)."""
    reads = 0
    answer: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": reads < chunks}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    return Asked(answer["status"], answer["headers"], reads)


def _forged() -> dict[str, str]:
    return {**FORGED, "x-twilio-email-event-webhook-timestamp": str(int(time.time()))}


@SQLITE_ONLY
def test_a_body_without_a_known_key_is_refused_before_a_byte_of_it_is_read(
    callbacks: Service,
) -> None:
    # Given the application, and bodies without a known key, or without signature headers
    app = create_app(callbacks)
    json = {"content-type": "application/json"}
    wrong = {**json, "authorization": "Bearer wrong-key-0123456789"}
    asked = [
        ask(app, "POST", "/v1/webhooks", json, 1000),
        ask(app, "PUT", "/v1/customers/c-1/preferences", wrong, 1000),
        ask(app, "POST", "/v1/events/batch", wrong, 1000),
        ask(app, "POST", "/v1/providers/sendgrid/events", json, 1000),
    ]
    # Then each is refused with a 401, and not one body message was asked for
    assert [(a.status, a.reads) for a in asked] == [(401, 0)] * 4


@SQLITE_ONLY
def test_an_endless_body_is_refused_at_its_first_byte_over_the_limit(callbacks: Service) -> None:
    # Given the application, and bodies that never end, to endpoints with and without a key
    app = create_app(callbacks)
    keyed = {"content-type": "application/json", "authorization": f"Bearer {API_KEY}"}
    form = {"content-type": "application/x-www-form-urlencoded"}
    asked = {
        "webhooks": ask(app, "POST", "/v1/webhooks", keyed, 10_000),
        "preferences": ask(app, "PUT", "/v1/customers/c-1/preferences", keyed, 10_000),
        "sendgrid": ask(app, "POST", "/v1/providers/sendgrid/events", _forged(), 10_000),
        "sign-in": ask(app, "POST", "/staff/sign-in", form, 10_000),
    }
    # Then each is refused once the message crossing its limit arrived, and no later one
    limits = {
        "webhooks": MAX_BODY,
        "preferences": MAX_BODY,
        "sendgrid": MAX_SENDGRID_BODY,
        "sign-in": MAX_SIGN_IN_FORM,
    }
    assert {name: a.reads for name, a in asked.items()} == {
        name: limit // CHUNK + 1 for name, limit in limits.items()
    }
    assert {name: a.status for name, a in asked.items()} == {
        "webhooks": 413,
        "preferences": 413,
        "sendgrid": 413,
        "sign-in": 403,  # the console's answer to a form it will not read
    }


def test_bodies_arriving_together_are_refused_past_their_budget_with_retry_after() -> None:
    # Given a budget of three messages, and a body of two already arriving
    budget = BodyBudget(3 * CHUNK)
    budget.take(2 * CHUNK)

    async def endless() -> dict[str, Any]:
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}

    # When another body of two messages arrives
    with pytest.raises(Problem) as refused:
        asyncio.run(raw_body(endless, 10 * CHUNK, b"", budget))
    # Then it is answered 503 with Retry-After at its second message, and gives back its first
    assert refused.value.status == 503
    assert refused.value.headers and "Retry-After" in refused.value.headers
    assert budget.held == 2 * CHUNK


def test_the_heap_is_trimmed_once_connections_that_read_large_bodies_have_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a heap trim, quick for the test
    monkeypatch.setattr(connections, "TRIM_DELAY", 0.05)
    trims: list[float] = []
    heap = HeapTrim(lambda: trims.append(time.monotonic()))

    async def closing(*reads: int) -> None:
        for read in reads:
            heap.closed(asyncio.get_running_loop(), read)
        await asyncio.sleep(0.2)

    # When connections that read less than the threshold in all close
    asyncio.run(closing(TRIM_AFTER // 4, TRIM_AFTER // 4))
    # Then nothing is trimmed
    assert trims == []
    # When more close, past the threshold, and others right after
    asyncio.run(closing(TRIM_AFTER // 2, TRIM_AFTER, TRIM_AFTER))
    # Then the heap is trimmed once, and counting starts again
    assert len(trims) == 1
    assert heap.freed == 0


# --- the server: uvicorn as `notifier api` runs it, with short limits -----------------------

LIMITS = ConnectionLimits(max_connections=8, header_timeout=0.5, body_timeout=0.5, keep_alive=1)


@dataclass
class Live:
    """A served application: its address and the server."""

    host: str
    port: int
    server: uvicorn.Server

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def connect(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=5)


@contextmanager
def serve(service: Service, limits: ConnectionLimits = LIMITS) -> Iterator[Live]:
    """``service``'s application served on loopback with ``notifier api``'s options."""
    port = free_port()
    config = uvicorn.Config(
        create_app(service),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        **{**HTTP_SERVER_OPTIONS, **server_options(limits)},
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield Live("127.0.0.1", port, server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def closed_after(connection: socket.socket, seconds: float) -> float:
    """Seconds until the server closed ``connection`` (reading what it sends), at most
    ``seconds``; fails if it stays open."""
    started = time.monotonic()
    connection.settimeout(seconds)
    try:
        while connection.recv(65536):
            pass
    except TimeoutError:
        pytest.fail(f"the connection was still open after {seconds} s")
    except ConnectionResetError:
        pass
    return time.monotonic() - started


@pytest.fixture
def live(callbacks: Service) -> Iterator[Live]:
    with serve(callbacks) as served:
        yield served


@pytest.mark.slow
@SQLITE_ONLY
def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(live: Live) -> None:
    # Given a connection that sends nothing
    with live.connect() as silent:
        # Then the server closes it after the header timeout, not before
        took = closed_after(silent, 5)
    assert LIMITS.header_timeout * 0.8 <= took < LIMITS.header_timeout + 1.5


@pytest.mark.slow
@SQLITE_ONLY
def test_headers_sent_a_byte_at_a_time_are_cut_off_at_the_header_timeout(live: Live) -> None:
    # Given a client sending a request's headers slowly, a byte every 50 ms (slowloris)
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200
    started = time.monotonic()
    with live.connect() as slow:
        try:
            for byte in request:
                slow.sendall(bytes([byte]))
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass
        # Then the connection is closed once the header timeout has passed
        closed_after(slow, 5)
    assert time.monotonic() - started < LIMITS.header_timeout + 1.5


@pytest.mark.slow
@SQLITE_ONLY
def test_a_stalled_body_is_cut_off_and_a_keep_alive_connection_kept_until_idle(
    live: Live,
) -> None:
    # Given a callback that sends its headers and part of its body, then stalls
    head = "".join(f"{k}: {v}\r\n" for k, v in _forged().items())
    with live.connect() as stalled:
        stalled.sendall(
            f"POST /v1/providers/sendgrid/events HTTP/1.1\r\nHost: x\r\n{head}"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{".encode()
        )
        # Then it is closed after the body timeout
        assert closed_after(stalled, 5) < LIMITS.body_timeout + 1.5
    # And a client that asks twice on one connection is answered twice, then closed when idle
    with live.connect() as kept:
        for _ in range(2):
            kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert kept.recv(65536).startswith(b"HTTP/1.1 200")
            time.sleep(LIMITS.keep_alive / 2)
        closed_after(kept, LIMITS.keep_alive + 1.5)


@pytest.mark.slow
@SQLITE_ONLY
def test_the_body_of_a_refused_request_is_not_read_on_for_long(live: Live) -> None:
    # Given a callback without signature headers, answered 401 before its body is read
    with live.connect() as refused:
        refused.sendall(
            b"POST /v1/providers/sendgrid/events HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        assert refused.recv(65536).startswith(b"HTTP/1.1 401")
        # When it sends its body on regardless, up to 64 MiB
        chunk = b"%x\r\n%s\r\n" % (CHUNK, b"x" * CHUNK)
        sent = 0
        with suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
            while sent < 64 * 1024 * 1024:
                sent += refused.send(chunk)
    # Then the server closed the connection long before: what it took is a little past its
    # socket buffers, rather than everything sent
    assert sent < 32 * 1024 * 1024, f"{sent >> 20} MiB taken"


@pytest.mark.slow
@SQLITE_ONLY
def test_past_the_connection_bound_a_request_gets_a_quick_503_then_service_resumes(
    callbacks: Service,
) -> None:
    # Given a server bounded at 8 connections, all held by clients sending nothing
    limits = replace(LIMITS, header_timeout=5.0)
    with serve(callbacks, limits) as live, ExitStack() as held:
        idle = [held.enter_context(live.connect()) for _ in range(limits.max_connections)]
        time.sleep(0.1)
        # When another client asks for /healthz
        started = time.monotonic()
        busy = httpx.get(f"{live.url}/healthz", timeout=5)
        took = time.monotonic() - started
        # Then it is answered at once: 503, with Retry-After, and the connection closed
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"] == "1"
        assert busy.headers["connection"] == "close"
        assert "NOTIFIER_HTTP_MAX_CONNECTIONS" in busy.json()["detail"]
        assert took < limits.header_timeout / 2  # not once the idle ones are closed
        # And once the idle connections are closed, /healthz is answered again
        for connection in idle:
            connection.close()
        time.sleep(0.2)
        assert httpx.get(f"{live.url}/healthz", timeout=5).status_code == 200


def _rss() -> int:
    """This process's resident memory, in bytes."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096


@pytest.mark.slow
@SQLITE_ONLY
def test_unfinished_large_callback_bodies_cost_little_memory_and_others_are_answered(
    callbacks: Service,
) -> None:
    # Given a server (bounded well above the attack), warmed up
    limits = replace(LIMITS, max_connections=500, header_timeout=5.0, body_timeout=5.0)
    with serve(callbacks, limits) as live, ExitStack() as held:
        assert httpx.get(f"{live.url}/healthz", timeout=5).status_code == 200
        baseline = _rss()
        # When 200 clients, half with forged signature headers, send a chunked body of up to
        # 1 MiB each to the SendGrid callback, as fast as the server takes it, then stall
        attackers = []
        for number in range(200):
            headers = _forged() if number % 2 else {}
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            connection = held.enter_context(live.connect())
            connection.sendall(
                f"POST /v1/providers/sendgrid/events HTTP/1.1\r\nHost: x\r\n{head}"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
            )
            connection.setblocking(False)
            attackers.append(connection)
        chunk = b"%x\r\n%s\r\n" % (CHUNK, b"x" * CHUNK)
        peak, answered = 0, []
        for _ in range(16):
            for connection in attackers:
                with suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                    connection.send(chunk)
            peak = max(peak, _rss())
            answered.append(httpx.get(f"{live.url}/healthz", timeout=5).status_code)
        # Then another client is answered all along, and memory grew by far less than the
        # bodies sent (200 MiB)
        assert answered == [200] * 16
        assert peak - baseline < 100 * 1024 * 1024, f"grew by {(peak - baseline) >> 20} MiB"


def _protocols() -> int:
    """The connection protocols alive in this process, closed or not."""
    gc.collect()
    return sum(isinstance(o, LimitedHttpToolsProtocol) for o in gc.get_objects())


@SQLITE_ONLY
def test_nothing_of_a_connection_closed_while_it_sent_a_body_is_left(callbacks: Service) -> None:
    # Given a server that waits long for a body, and a callback refused at once (no signature
    # headers) whose client sends its body on regardless, past what the server reads of it
    limits = replace(LIMITS, body_timeout=60.0, header_timeout=60.0)
    with serve(callbacks, limits) as live:
        before = _protocols()
        with live.connect() as refused:
            refused.sendall(
                b"POST /v1/providers/sendgrid/events HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            assert refused.recv(65536).startswith(b"HTTP/1.1 401")
            chunk = b"%x\r\n%s\r\n" % (CHUNK, b"x" * CHUNK)
            with suppress(BrokenPipeError, ConnectionResetError):
                for _ in range(4):
                    refused.sendall(chunk)
            # When the server has closed it
            closed_after(refused, 5)
        # Then nothing of the connection is left, long before its body deadline would pass
        deadline = time.monotonic() + 2
        while _protocols() > before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _protocols() == before


def _push_bodies(live: Live, count: int, chunks: int) -> list[socket.socket]:
    """``count`` connections sending forged SendGrid callbacks of up to ``chunks`` chunks of
    :data:`CHUNK` bytes, as fast as the server takes them; left open, stalled."""
    head = "".join(f"{k}: {v}\r\n" for k, v in _forged().items())
    attackers = []
    for _ in range(count):
        connection = live.connect()
        connection.sendall(
            f"POST /v1/providers/sendgrid/events HTTP/1.1\r\nHost: x\r\n{head}"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        connection.setblocking(False)
        attackers.append(connection)
    chunk = b"%x\r\n%s\r\n" % (CHUNK, b"[" * CHUNK)
    for _ in range(chunks):
        for connection in attackers:
            with suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                connection.send(chunk)
        time.sleep(0.01)
    return attackers


@pytest.mark.slow
@SQLITE_ONLY
def test_memory_returns_to_where_it_was_once_large_callback_bodies_are_gone(
    callbacks: Service,
) -> None:
    # Given a server that has answered normal requests, including a callback body
    limits = replace(LIMITS, max_connections=500, header_timeout=5.0, body_timeout=5.0)
    with serve(callbacks, limits) as live:
        head = {**_forged(), "content-type": "application/json"}
        for _ in range(3):
            assert httpx.get(f"{live.url}/healthz", timeout=5).status_code == 200
            httpx.post(f"{live.url}/v1/providers/sendgrid/events", content=b"[]", headers=head)
        for thread in threading.enumerate():
            if thread.name == "template-check":  # the console's check, once per process
                thread.join(timeout=60)
        gc.collect()
        baseline = _rss()
        # When 100 clients push large callback bodies at once, then go away
        attackers = _push_bodies(live, 100, 32)
        peak = _rss()
        for connection in attackers:
            connection.close()
        deadline = time.monotonic() + 5
        while live.server.server_state.connections and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(TRIM_DELAY + 0.3)  # the trim their closing asked for
        gc.collect()
        after = _rss()
    # Then memory grew while they sent, and is back within 4 MiB of where it was
    mib = 1024 * 1024
    assert peak - baseline > 8 * mib, f"the attack took only {(peak - baseline) / mib:.1f} MiB"
    assert after - baseline < 4 * mib, f"{(after - baseline) / mib:.1f} MiB left"
