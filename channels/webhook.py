"""Outbound webhooks, signed per Standard Webhooks (https://www.standardwebhooks.com/).

Each delivery is one ``POST`` of the JSON body with the headers ``webhook-id``
(stable across retries), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``,
keyed with the base64-decoded part of the ``whsec_`` secret).

How answers are classified:

=====================================  ===============================================
the endpoint's answer                  outcome
=====================================  ===============================================
2xx                                    ``SendResult("webhook", None)``
410 Gone                               permanent, ``gone=True``: disable the endpoint
429, 5xx, timeout, connection error    transient, honouring ``Retry-After``
3xx                                    permanent: redirects are not followed
other 4xx                              permanent
=====================================  ===============================================

The rule itself is ``channels.answers.classify``, shared by every channel; 410
and redirects are the webhook's own.

URLs are vetted by ``channels.address_guard`` and the connection is pinned to
the vetted address. The HTTP client ignores proxy environment variables
(``trust_env=False``), since a proxy would resolve the name again. Besides the per-phase
timeouts, a whole delivery has a deadline: an endpoint that trickles its answer is cut off
and the delivery retried like any timeout.

Connections are kept alive between deliveries. Every send still resolves and vets the URL
(a name can change what it resolves to), and is sent through the client kept for exactly
what it vetted: the scheme, the vetted address and port, and the name (``Host`` header and
TLS server name). So a kept connection is only ever reused for the same name at the same
checked address: a TLS session set up for one name never carries another's deliveries, and
an address the name no longer resolves to is not dialed again. The deadline needs requests
that can be cancelled, so deliveries run as asyncio tasks on the channel's own event loop,
in a thread of its own, where those clients live; the sending thread waits for its answer.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import threading
import weakref
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from channels.address_guard import AddressGuard, PinnedTarget, Resolver
from channels.answers import classify
from channels.base import SendResult, WebhookMessage
from channels.errors import ChannelConfigurationError, PermanentChannelError
from channels.retry_after import parse_retry_after

__all__ = ["WebhookChannel", "new_webhook_secret", "sign_webhook"]

#: Prefix of Standard Webhooks secrets.
SECRET_PREFIX = "whsec_"

#: Random bytes in a new secret (Standard Webhooks asks for 24 to 64).
SECRET_BYTES = 24

#: How much of a refusing endpoint's body is kept in the reason.
REASON_BODY_LIMIT = 300

#: Who answers a webhook, at the start of a transient error's message.
PROVIDER = "webhook endpoint"

#: Clients kept, one per vetted target; the least recently used one beyond is closed.
KEPT_CLIENTS = 64

#: Most of a successful answer's body read, so that its connection can be used again.
DRAIN_LIMIT = 64 * 1024

T = TypeVar("T")


class WebhookChannel:
    """Posts ``WebhookMessage`` values to subscribers' endpoints.

    Args:
        allow_private: Allow loopback and private addresses (tests, on-premise).
        timeout: Seconds for each of connect, write, read.
        deadline: Seconds for the whole delivery, answer included (default: three times
            ``timeout``). Per-phase timeouts alone let an endpoint that trickles its answer
            a byte at a time hold a worker for as long as it likes.
        transport: An httpx transport to use instead of the network (tests).
        resolver: How host names are resolved; the operating system's by default.
    """

    name = "webhook"
    provider = "webhook"

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = 10.0,
        deadline: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ):
        self._guard = AddressGuard(allow_private=allow_private, resolver=resolver)
        self._timeout = timeout
        self._deadline = 3 * timeout if deadline is None else deadline
        self._transport = transport
        # Loading the CA bundle takes milliseconds: once, not for every delivery.
        self._tls = httpx.create_ssl_context()
        self._loop = _LoopThread()
        # Used on the loop's thread only.
        self._clients: OrderedDict[tuple[str, ...], httpx.AsyncClient] = OrderedDict()
        # A channel dropped without close() stops its loop all the same.
        weakref.finalize(self, self._loop.stop, self._clients, wait=False)

    def close(self) -> None:
        """Close the kept connections and stop the channel's event loop."""
        self._loop.stop(self._clients)

    def send(self, message: WebhookMessage) -> SendResult:
        """Post one delivery; see the module docstring for how answers are classified.

        Raises:
            PermanentChannelError: The URL is refused, or the endpoint refused for good.
            TransientChannelError: The endpoint may accept it later.
            ChannelConfigurationError: The secret is not a valid ``whsec_`` secret.
        """
        signature = sign_webhook(message.secret, message.id, message.timestamp, message.body)
        target = self._guard.pin(message.url)
        headers = {
            "content-type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": str(message.timestamp),
            "webhook-signature": signature,
            "user-agent": "notifier-webhooks/1",
        }
        if target.host_header is not None:
            headers["host"] = target.host_header
        # The deadline needs a request that can be cancelled: an asyncio one, on the
        # channel's loop (delivery runs in worker threads, which have none).
        return self._loop.run(self._post(target, headers, message.body))

    def _client(self, target: PinnedTarget) -> httpx.AsyncClient:
        """The kept client for exactly this vetted target (on the loop's thread)."""
        key = (
            target.url.scheme,
            target.address,
            str(target.url.port),
            target.host_header or "",
            target.sni_hostname or "",
        )
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        client = httpx.AsyncClient(
            timeout=self._timeout,
            transport=self._transport,
            verify=self._tls,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=8),
        )
        self._clients[key] = client
        while len(self._clients) > KEPT_CLIENTS:
            _, oldest = self._clients.popitem(last=False)
            asyncio.get_running_loop().create_task(oldest.aclose())
        return client

    async def _post(self, target: PinnedTarget, headers: dict[str, str], body: bytes) -> SendResult:
        client = self._client(target)
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        request = client.build_request(
            "POST", target.url, content=body, headers=headers, extensions=extensions
        )
        try:
            async with asyncio.timeout(self._deadline):
                response = await client.send(request, stream=True)
                try:
                    outcome = _outcome(
                        response.status_code, response.headers, await _snippet(response)
                    )
                    await _drain(response)
                    return outcome
                finally:
                    await response.aclose()
        except TimeoutError:
            raise classify(
                None, f"did not answer within {self._deadline:g} s", provider=PROVIDER
            ) from None
        except httpx.TimeoutException as error:
            raise classify(None, f"timed out: {error!r}", provider=PROVIDER) from error
        except httpx.TransportError as error:
            raise classify(None, f"unreachable: {error!r}", provider=PROVIDER) from error


class _LoopThread:
    """An event loop in a daemon thread of its own, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the loop and wait for its result (or exception)."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=_serve, args=(self._loop,), name="webhook-loop", daemon=True
                )
                self._thread.start()
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(work, loop).result()

    def stop(
        self, clients: OrderedDict[tuple[str, ...], httpx.AsyncClient], *, wait: bool = True
    ) -> None:
        """Close ``clients`` on the loop, then stop it; with ``wait``, wait until it has."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return

        async def close_clients() -> None:
            while clients:
                _, client = clients.popitem()
                await client.aclose()

        done = asyncio.run_coroutine_threadsafe(close_clients(), loop)
        done.add_done_callback(lambda _: loop.call_soon_threadsafe(loop.stop))
        if wait and thread is not threading.current_thread():
            done.result(timeout=10)
            thread.join(timeout=10)


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()


def _outcome(status: int, headers: httpx.Headers, snippet: str) -> SendResult:
    if 200 <= status < 300:
        return SendResult(provider="webhook", provider_message_id=None)
    if 300 <= status < 400:
        location = headers.get("location", "?")
        raise PermanentChannelError(
            f"redirects are not followed (HTTP {status} to {location})", status=status
        )
    reason = f"HTTP {status}{snippet}"
    if status == 410:
        raise PermanentChannelError(f"endpoint is gone: {reason}", status=status, gone=True)
    retry_after = parse_retry_after(headers.get("retry-after"))
    raise classify(status, reason, provider=PROVIDER, retry_after=retry_after)


async def _drain(response: httpx.Response) -> None:
    """Read the rest of a successful answer, up to :data:`DRAIN_LIMIT` bytes, so that its
    connection goes back to the pool; a longer answer's connection is closed instead."""
    if not 200 <= response.status_code < 300 or response.is_stream_consumed:
        return
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > DRAIN_LIMIT:
            return


async def _snippet(response: httpx.Response) -> str:
    """The start of a refusing endpoint's answer, for the reason; nothing for success."""
    if 200 <= response.status_code < 400:
        return ""
    body = b""
    try:
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) >= REASON_BODY_LIMIT:
                break
    except httpx.HTTPError:
        pass
    text = body[:REASON_BODY_LIMIT].decode("utf-8", "replace").strip()
    return f": {text}" if text else ""


def sign_webhook(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one delivery.

    Args:
        secret: The ``whsec_`` secret (the prefix is optional).
        msg_id: The ``webhook-id``.
        timestamp: The ``webhook-timestamp``, Unix seconds.
        body: The exact body bytes sent.

    Returns:
        ``"v1,<base64 HMAC-SHA256>"``.

    Raises:
        ChannelConfigurationError: The secret is empty or not base64.
    """
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def new_webhook_secret() -> str:
    """A new random secret: ``whsec_`` and the base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _secret_key(secret: str) -> bytes:
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError:  # binascii.Error is a ValueError
        raise ChannelConfigurationError(
            "a webhook secret must be 'whsec_' followed by base64; create it with "
            "new_webhook_secret()"
        ) from None
    if not key:
        raise ChannelConfigurationError("a webhook secret must not be empty")
    return key
