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
(``trust_env=False``), since a proxy would resolve the name again, and each delivery has a
client of its own, so a TLS session set up for one name is never reused for another.
Besides the per-phase timeouts, a whole delivery has a deadline: an endpoint that trickles
its answer is cut off and the delivery retried like any timeout.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx

from channels.address_guard import AddressGuard, Resolver
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

    def close(self) -> None:
        """Nothing to release: each delivery has a client of its own."""

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
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        post = self._post(target.url, headers, message.body, extensions)
        # The deadline needs a request that can be cancelled: an asyncio one, on a loop of
        # this call's own (delivery runs in worker threads, which have none).
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(post)
        with ThreadPoolExecutor(1) as elsewhere:  # called from a loop: not on that loop
            return elsewhere.submit(asyncio.run, post).result()

    async def _post(
        self, url: httpx.URL, headers: dict[str, str], body: bytes, extensions: dict[str, str]
    ) -> SendResult:
        async with httpx.AsyncClient(
            timeout=self._timeout,
            transport=self._transport,
            verify=self._tls,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        ) as client:
            request = client.build_request(
                "POST", url, content=body, headers=headers, extensions=extensions
            )
            try:
                async with asyncio.timeout(self._deadline):
                    response = await client.send(request, stream=True)
                    try:
                        return _outcome(
                            response.status_code, response.headers, await _snippet(response)
                        )
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
