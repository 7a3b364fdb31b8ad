"""What a connection may cost before it has earned more: the HTTP server's limits.

uvicorn closes a keep-alive connection idle between two requests, but it waits forever for
the first byte of a connection, for the rest of a request's headers and for a body that
stalls, and past ``limit_concurrency`` it answers a bare 503 without ``Retry-After``.
:class:`LimitedHttpToolsProtocol` is uvicorn's httptools protocol with those limits added:

- a request's headers must be complete within ``header_timeout`` seconds of the connection
  opening, or of the first byte of a later request on the connection (a silent connection,
  a slowloris); between requests, uvicorn's keep-alive timeout closes an idle connection;
- while the application waits for a request's body, the client must send some of it
  every ``body_timeout`` seconds;
- a request answered before its body ended (refused) has at most :data:`DROP_AT_MOST` more
  bytes of it read, then its connection is closed, rather than the rest read and dropped;
- past ``max_connections`` open connections, a request is answered at once with a ``503``,
  ``Retry-After`` and ``Connection: close``, rather than left to wait or reset;
- once connections holding :data:`TRIM_AFTER` bytes in all (the bodies they read, and
  :data:`CONNECTION_COST` each) have closed, the C heap is trimmed a moment later
  (:class:`HeapTrim`).

A connection over a limit is closed without an answer: its client is sending nothing.

Many bodies arriving at once (up to the callback budget of 16 MiB, plus what each
connection buffers) are held in pieces of up to a few hundred KiB, which glibc places in
its heap, and so are thousands of idle connections' objects; when they are let go the heap
keeps those pages, since live objects allocated in between pin its top. A hostile burst
would leave the process ~20 MiB larger for good: the trim hands the free pages back, and
memory returns to where it was.
"""

from __future__ import annotations

import asyncio
import ctypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: When a client turned away at the connection limit may try again, in seconds.
BUSY_RETRY_AFTER = 1
#: The detail of the ``503`` past the connection limit.
BUSY_DETAIL = "the server is at its connection limit (NOTIFIER_HTTP_MAX_CONNECTIONS); retry shortly"
_BUSY_BODY = orjson.dumps({"detail": BUSY_DETAIL})
_BUSY_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", b"%d" % len(_BUSY_BODY)),
    (b"retry-after", b"%d" % BUSY_RETRY_AFTER),
    (b"connection", b"close"),
]


#: Bytes of a body still read after the request was answered without it, before the
#: connection is closed.
DROP_AT_MOST = 64 * 1024


#: Bytes held by the connections closed since the last trim, past which the heap is trimmed.
TRIM_AFTER = 2 * 1024 * 1024
#: Bytes an open connection holds besides its body (its protocol, transport, parser and
#: timer): about 3.5 KiB each, measured with 2,000 idle connections.
CONNECTION_COST = 4 * 1024
#: Seconds from that close to the trim; connections closing meanwhile share it.
TRIM_DELAY = 1.0


def _malloc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``, or None where the C library has none."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


class HeapTrim:
    """Hands the free pages of the C heap back to the system after large bodies were read.

    Counts what each connection that closed held (its body bytes, :data:`CONNECTION_COST`
    besides); past :data:`TRIM_AFTER` since the last trim, the heap is trimmed
    :data:`TRIM_DELAY` seconds later (one trim at a time), when the connections closing
    together have all been let go. A trim takes about a millisecond (0.6 ms measured on
    ``notifier api``), once per 2 MiB of bodies or 512 connections.

    Args:
        trim: What trims the heap; by default glibc's ``malloc_trim(0)``, nothing elsewhere.
    """

    def __init__(self, trim: Callable[[], object] | None = None) -> None:
        self._trim = trim or _malloc_trim()
        self._pending: asyncio.TimerHandle | None = None
        #: Bytes held by the connections closed since the last trim.
        self.freed = 0
        #: Trims made.
        self.trims = 0

    def closed(self, loop: asyncio.AbstractEventLoop, held: int) -> None:
        """A connection that held ``held`` bytes closed: trim soon past the threshold."""
        self.freed += held
        if self.freed >= TRIM_AFTER and self._pending is None and self._trim is not None:
            self._pending = loop.call_later(TRIM_DELAY, self._run)

    def _run(self) -> None:
        self._pending = None
        self.freed = 0
        self.trims += 1
        if self._trim is not None:
            self._trim()


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """The HTTP server's limits per connection and in all.

    Attributes:
        max_connections: open connections past which a request gets a quick ``503``.
        header_timeout: seconds for a request's headers to arrive whole, counted from the
            connection opening or from the first byte of a later request.
        body_timeout: seconds the server waits for more of a body the application reads.
        keep_alive: seconds an idle keep-alive connection is kept between two requests.
    """

    max_connections: int
    header_timeout: float
    body_timeout: float
    keep_alive: int


async def busy(scope: Any, receive: Any, send: Any) -> None:
    """The ASGI answer past the connection limit: ``503`` with ``Retry-After``."""
    await send({"type": "http.response.start", "status": 503, "headers": _BUSY_HEADERS})
    await send({"type": "http.response.body", "body": _BUSY_BODY})


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline, a body deadline and a bound.

    :func:`protocol_for` makes the subclass carrying the limits; uvicorn builds one instance
    per connection. One timer per connection serves both deadlines.
    """

    limits: ClassVar[ConnectionLimits]
    #: The server's heap trim, shared by its connections.
    heap: ClassVar[HeapTrim]

    _deadline: asyncio.TimerHandle | None = None
    #: When the body last moved (the loop's clock), while a body is awaited.
    _body_moved: float = 0.0
    _reading_body = False
    #: Bytes of the current body read after its answer was sent.
    _dropped = 0
    #: Bytes of bodies read on this connection.
    _body_read = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
        self.heap.closed(self.loop, self._body_read + CONNECTION_COST)

    def on_message_begin(self) -> None:
        # The first byte of a request after the first: uvicorn's keep-alive timeout covered
        # the wait for it; its headers now have header_timeout to arrive.
        if self._deadline is None:
            self._await_headers()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._disarm()
        if len(self.connections) > self.limits.max_connections:
            app, self.app = self.app, busy
            try:
                super().on_headers_complete()
            finally:
                self.app = app
            return
        super().on_headers_complete()
        self._dropped = 0
        # A request without a body completes in the same parse, which disarms this again.
        self._reading_body = True
        self._body_moved = self.loop.time()
        self._deadline = self.loop.call_later(self.limits.body_timeout, self._body_check)

    def on_body(self, body: bytes) -> None:
        self._body_moved = self.loop.time()
        self._body_read += len(body)
        if self.cycle.response_complete:
            # Answered before its body ended (a 401, 413 or 503): uvicorn would read the
            # rest only to drop it; a little is read so the client can see the answer.
            self._dropped += len(body)
            if self._dropped > DROP_AT_MOST:
                self._close()
                return
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._reading_body:
            self._reading_body = False
            self._disarm()
            if self.cycle.response_complete and not self.transport.is_closing():
                self._await_headers()  # answered before its body ended: await the next one
        super().on_message_complete()

    def _await_headers(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.limits.header_timeout, self._close)

    def _body_check(self) -> None:
        self._deadline = None
        if not self._reading_body:
            return
        now = self.loop.time()
        if self.flow.read_paused:
            # The application is not reading yet: the client is not the one keeping it waiting.
            self._body_moved = now
        idle = now - self._body_moved
        if idle < self.limits.body_timeout:
            self._deadline = self.loop.call_later(self.limits.body_timeout - idle, self._body_check)
            return
        self._close()

    def _close(self) -> None:
        # The timer still armed would keep the closed connection (its protocol, transport,
        # request and parser) alive until it fired, for up to body_timeout seconds.
        self._disarm()
        if not self.transport.is_closing():
            self.transport.close()

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


def protocol_for(
    limits: ConnectionLimits, heap: HeapTrim | None = None
) -> type[LimitedHttpToolsProtocol]:
    """The protocol class uvicorn builds per connection, carrying ``limits`` and the heap
    trim its connections share (a new one by default)."""
    attributes = {"limits": limits, "heap": heap or HeapTrim()}
    return type("LimitedHttpToolsProtocol", (LimitedHttpToolsProtocol,), attributes)


def server_options(limits: ConnectionLimits) -> dict[str, Any]:
    """uvicorn's options enforcing ``limits`` (beside the loop and parser options)."""
    return {
        "http": protocol_for(limits),
        "timeout_keep_alive": limits.keep_alive,
        # The bound is enforced by the protocol, with Retry-After; uvicorn's own would
        # answer a bare 503 and also count requests in flight.
        "limit_concurrency": None,
        "ws": "none",
    }
