"""A scriptable, recording HTTP server on loopback: the base of every stand-in.

The server runs in a daemon thread, answers each connection in its own daemon
thread, closes every connection after one answer (HTTP/1.0) unless made with
``keep_alive=True`` (HTTP/1.1, as the providers answer: a client may send many
requests over one connection), and gives up on a silent client after a few
seconds, so nothing outlives the ``with`` block for long. A delayed answer waits
on an event that ``__exit__`` sets, so slow answers end as soon as the stand-in
stops, and so do the connections still open then. ``connections`` counts the
TCP connections accepted.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

#: Seconds a handler waits for a client that stopped sending.
CLIENT_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the stand-in received it (header names lower-cased)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """The body parsed as an URL-encoded form (first value of each field)."""
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


@dataclass(frozen=True, slots=True)
class Answer:
    """What the stand-in sends back; ``delay`` seconds pass before it does, and with
    ``trickle`` the whole answer goes out a byte at a time, ``trickle`` seconds apart."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    trickle: float = 0.0


class StandinServer:
    """Base of the stand-ins: records requests, answers scripts, then the default.

    Subclasses override ``check`` (refuse a request as the provider would,
    before any script) and ``default_answer``.

    Args:
        keep_alive: Answer in HTTP/1.1 and keep the connection open for the client's next
            request, instead of closing it after each answer.
    """

    def __init__(self, *, keep_alive: bool = False) -> None:
        self.keep_alive = keep_alive
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._script: deque[list[Any]] = deque()
        self._connections = 0
        self._open: set[socket.socket] = set()
        self.stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.standin = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def connections(self) -> int:
        """TCP connections accepted so far (not cleared by ``reset``)."""
        with self._lock:
            return self._connections

    def connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections += 1
            self._open.add(connection)

    def connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.discard(connection)

    def respond_with(
        self,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: bytes | str | dict[str, Any] | None = None,
        times: int | None = None,
        delay: float = 0.0,
        trickle: float = 0.0,
    ) -> None:
        """Script the next answers.

        Args:
            status: The HTTP status.
            headers: Response headers.
            body: Bytes as given, text as UTF-8, a dict as JSON.
            times: How many requests get this answer; None for every further
                request until ``reset()``. Scripts queue in call order.
            delay: Seconds to wait before answering (to provoke timeouts).
            trickle: Seconds between the bytes of the answer (a client that times out
                each read would wait on for ever).
        """
        answer = Answer(status, dict(headers or {}), _body_bytes(body), delay, trickle)
        with self._lock:
            self._script.append([answer, times])

    def reset(self) -> None:
        """Forget recorded requests and pending scripts."""
        with self._lock:
            self._requests.clear()
            self._script.clear()

    def check(self, request: RecordedRequest) -> Answer | None:
        """An answer that refuses ``request`` outright, or None to go on."""
        return None

    def default_answer(self, request: RecordedRequest) -> Answer:
        """The answer when no script is pending."""
        return Answer(200)

    def answer(self, request: RecordedRequest) -> Answer:
        """Record ``request`` and choose its answer."""
        with self._lock:
            self._requests.append(request)
        refusal = self.check(request)
        if refusal is not None:
            return refusal
        with self._lock:
            if self._script:
                entry = self._script[0]
                if entry[1] is not None:
                    entry[1] -= 1
                    if entry[1] <= 0:
                        self._script.popleft()
                scripted: Answer = entry[0]
                return scripted
        return self.default_answer(request)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            still_open = list(self._open)
        for connection in still_open:  # kept alive by a client: end its thread now
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=2)


def _body_bytes(body: bytes | str | dict[str, Any] | None) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: StandinServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected here; stay quiet about it.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = CLIENT_TIMEOUT

    def setup(self) -> None:
        super().setup()
        if self.server.standin.keep_alive:
            self.protocol_version = "HTTP/1.1"
        self.server.standin.connection_opened(self.request)

    def finish(self) -> None:
        self.server.standin.connection_closed(self.request)
        super().finish()

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        standin = self.server.standin
        answer = standin.answer(request)
        if answer.delay and standin.stopping.wait(answer.delay):
            self.close_connection = True
            return
        try:
            if answer.trickle:
                self.close_connection = True
                self._trickle(answer)
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except OSError:
            self.close_connection = True  # the client gave up (a timeout test)

    def _trickle(self, answer: Answer) -> None:
        lines = [f"HTTP/1.1 {answer.status} Slow", f"Content-Length: {len(answer.body)}"]
        lines += [f"{name}: {value}" for name, value in answer.headers.items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + answer.body
        stopping = self.server.standin.stopping
        for byte in raw:
            if stopping.wait(answer.trickle):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass
