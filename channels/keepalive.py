"""HTTP connections kept alive across sends: each sending thread keeps its own connection.

A provider call used to open a new connection every time: a DNS lookup, a TCP handshake
and, against the real provider, a TLS handshake, for every message. Here each thread that
sends keeps one ``http.client`` connection per host open for its next message (a thread
sends one message at a time, so it needs no more). Connections are not shared between
threads, so none is ever handed from one thread to another mid-request, and
:meth:`ThreadConnections.close` closes every thread's connections.

Why ``http.client`` and not a pooled ``httpx.Client``: it is what ``urllib`` (which the
``sendgrid`` SDK uses) runs on, so requests and answers stay exactly as they were, minus the
``Connection: close`` urllib adds; and it costs a fifth of the CPU per request (about 60 µs
against 300 µs for httpx's pure-Python stack on loopback), which matters when a worker
sends hundreds of messages a second.

:meth:`ThreadConnections.request` sends a request and gives its :class:`Answer`, whatever
its status (redirects are not followed), or raises an ``OSError`` when there was no answer.
Proxies are honoured as ``urllib`` honours them (``https_proxy``, ``http_proxy``,
``no_proxy``).

A kept connection that the server has closed in the meantime (it says so with an end of
file, seen before sending) is replaced before the request goes out; a request that fails
on the wire is not sent again here (the caller's retry schedule decides).
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Answer", "ThreadConnections"]


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer read in full: status, body and headers."""

    status: int
    body: bytes
    headers: Message


class ThreadConnections:
    """Per thread, one kept-alive ``http.client`` connection per scheme, host and port.

    Args:
        timeout: Seconds to connect, and for each read and write (as ``urllib``'s timeout).
    """

    def __init__(self, *, timeout: float) -> None:
        self._timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()
        #: Goes up at each close(), so that each thread then opens new connections.
        self._generation = 0
        self._tls: ssl.SSLContext | None = None
        # Read once, as every setting: urllib read them for each request.
        self._proxies = urllib.request.getproxies()
        self._bypassed: dict[str, bool] = {}

    def request(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> Answer:
        """Send a request over this thread's connection; the answer, whatever its status.

        Args:
            method: The HTTP method.
            url: The whole URL.
            body: The request's body, or None.
            headers: Its headers (``Host``, ``Content-Length`` are added).

        Raises:
            OSError, http.client.HTTPException: No answer (a timeout, a refused or broken
                connection).
        """
        parts = urlsplit(url)
        connection, path = self._connection(parts.scheme, parts.hostname or "", parts.port, parts)
        try:
            connection.request(method, path, body=body, headers=dict(headers))
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        return Answer(response.status, data, response.msg)

    def _connection(
        self, scheme: str, host: str, port: int | None, url: Any
    ) -> tuple[http.client.HTTPConnection, str]:
        """This thread's connection for the URL, and the path to request on it."""
        kept: dict[tuple[str, str, int | None], http.client.HTTPConnection]
        generation, kept = getattr(self._local, "kept", (-1, {}))
        if generation != self._generation:
            generation, kept = self._generation, {}
            self._local.kept = (generation, kept)
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        proxy = self._proxy_for(scheme, host)
        if proxy is not None and scheme == "http":
            path = url.geturl()  # a plain-http proxy is asked for the whole URL
        connection = kept.get((scheme, host, port))
        if connection is not None and not _usable(connection):
            connection.close()
            with self._lock:
                self._open.discard(connection)
            connection = None
        if connection is None:
            connection = self._new(scheme, host, port, proxy)
            kept[(scheme, host, port)] = connection
            with self._lock:
                self._open.add(connection)
        return connection, path

    def _proxy_for(self, scheme: str, host: str) -> str | None:
        """The proxy ``urllib`` would use for ``scheme://host`` (``*_proxy``, ``no_proxy``)."""
        proxy = self._proxies.get(scheme)
        if proxy is None:
            return None
        if host not in self._bypassed:
            self._bypassed[host] = bool(urllib.request.proxy_bypass(host))
        return None if self._bypassed[host] else proxy

    def _new(
        self, scheme: str, host: str, port: int | None, proxy: str | None
    ) -> http.client.HTTPConnection:
        if proxy is None:
            if scheme == "https":
                return http.client.HTTPSConnection(
                    host, port, timeout=self._timeout, context=self._context()
                )
            return http.client.HTTPConnection(host, port, timeout=self._timeout)
        where = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                where.hostname or "", where.port, timeout=self._timeout, context=self._context()
            )
            connection.set_tunnel(host, port or 443)
        else:
            connection = http.client.HTTPConnection(
                where.hostname or "", where.port, timeout=self._timeout
            )
        return connection

    def _context(self) -> ssl.SSLContext:
        # Loading the CA certificates takes milliseconds: once, as urllib's default context.
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def close(self) -> None:
        """Close every thread's connections (a later request opens a new one)."""
        with self._lock:
            connections, self._open = self._open, set()
            self._generation += 1
        for connection in connections:
            connection.close()


def _usable(connection: http.client.HTTPConnection) -> bool:
    """Whether a kept connection may carry the next request: not closed by us, and nothing
    waiting to be read on it (a server that closed it sent an end of file)."""
    sock = connection.sock
    if sock is None:
        return True  # not connected yet, or closed by us: it connects again on its own
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable
