"""WebhookChannel: Standard Webhooks signing, answers, and pinning to the vetted address."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from channels.base import SendResult, WebhookMessage
from channels.errors import (
    ChannelConfigurationError,
    ChannelError,
    PermanentChannelError,
    TransientChannelError,
)
from channels.webhook import WebhookChannel, new_webhook_secret, sign_webhook
from tests.standins import WebhookReceiver

SECRET = new_webhook_secret()
PUBLIC_V4 = "93.184.215.14"
BODY = b'{"id": "evt-1", "type": "return.received", "data": {"return_id": "RMA-1001"}}'


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as server:
        yield server


@pytest.fixture
def receiver(receiver_server: WebhookReceiver) -> WebhookReceiver:
    receiver_server.reset()
    return receiver_server


def delivery(url: str, **changes: Any) -> WebhookMessage:
    fields: dict[str, Any] = {
        "id": "msg_2f6c1a",
        "url": url,
        "body": BODY,
        "secret": SECRET,
        "timestamp": int(time.time()),
    }
    return WebhookMessage(**(fields | changes))


def test_delivery_is_signed_so_a_standard_webhooks_receiver_accepts_it(
    receiver: WebhookReceiver,
) -> None:
    # Given an endpoint on loopback and a channel opened for private addresses
    channel = WebhookChannel(allow_private=True, timeout=2)

    # When a delivery is posted
    result = channel.send(delivery(receiver.base_url + "/hooks/returns"))

    # Then the receiver verified the signature with the standardwebhooks package
    assert result == SendResult(provider="webhook", provider_message_id=None)
    (received,) = receiver.deliveries
    assert received.verified
    assert received.body == BODY
    assert received.headers["webhook-id"] == "msg_2f6c1a"
    assert received.headers["content-type"] == "application/json"
    assert receiver.requests[0].path == "/hooks/returns"


def test_a_wrong_secret_fails_the_receivers_check(receiver: WebhookReceiver) -> None:
    # Given a delivery signed with another subscription's secret
    message = delivery(receiver.base_url, secret=new_webhook_secret())

    # When it is posted
    WebhookChannel(allow_private=True, timeout=2).send(message)

    # Then the receiver's independent check fails (so a passing check above means something)
    (received,) = receiver.deliveries
    assert not received.verified


#: Stands for "an HTTP date 60 seconds from when the test runs"; resolved by ``_at_run_time``.
HTTP_DATE_IN_60S = "<now+60>"


def _at_run_time(answer: dict[str, Any]) -> dict[str, Any]:
    headers = {
        name: formatdate(time.time() + 60, usegmt=True) if value == HTTP_DATE_IN_60S else value
        for name, value in (answer.get("headers") or {}).items()
    }
    return {**answer, "headers": headers} if headers else answer


#: The endpoint's answer -> the outcome (None: success) and the error's attributes.
OUTCOMES: list[Any] = [
    pytest.param({"status": 200}, None, {}, id="200"),
    pytest.param({"status": 204}, None, {}, id="204"),
    pytest.param(
        {"status": 410, "body": "unsubscribed"},
        PermanentChannelError,
        {"gone": True, "status": 410, "reason": "endpoint is gone: HTTP 410: unsubscribed"},
        id="410-gone",
    ),
    pytest.param(
        {"status": 429, "headers": {"Retry-After": "30"}},
        TransientChannelError,
        {"retry_after": 30.0, "status": 429},
        id="429-retry-after-seconds",
    ),
    pytest.param(
        {"status": 429, "headers": {"Retry-After": HTTP_DATE_IN_60S}},
        TransientChannelError,
        {"retry_after": pytest.approx(60, abs=10)},
        id="429-retry-after-date",
    ),
    pytest.param(
        {"status": 500, "body": "boom"},
        TransientChannelError,
        {"retry_after": None, "status": 500},
        id="500",
    ),
    pytest.param(
        {"status": 503, "headers": {"Retry-After": "5"}},
        TransientChannelError,
        {"retry_after": 5.0},
        id="503-retry-after",
    ),
    pytest.param(
        {"status": 400, "body": "bad payload"},
        PermanentChannelError,
        {"gone": False, "reason": "HTTP 400: bad payload"},
        id="400",
    ),
    pytest.param(
        {"status": 404},
        PermanentChannelError,
        {"gone": False, "reason": "HTTP 404"},
        id="404",
    ),
    pytest.param(
        {"status": 301, "headers": {"Location": "http://169.254.169.254/"}},
        PermanentChannelError,
        {"reason": "redirects are not followed (HTTP 301 to http://169.254.169.254/)"},
        id="301-not-followed",
    ),
    pytest.param(
        {"status": 200, "delay": 1.5},
        TransientChannelError,
        {"status": None},
        id="slow-timeout",
    ),
]


@pytest.mark.parametrize(("answer", "error_class", "attributes"), OUTCOMES)
def test_endpoint_answers_are_classified(
    receiver: WebhookReceiver,
    answer: dict[str, Any],
    error_class: type[ChannelError] | None,
    attributes: dict[str, Any],
) -> None:
    # Given the endpoint is scripted to answer this way
    receiver.respond_with(**_at_run_time(answer))
    channel = WebhookChannel(allow_private=True, timeout=0.5)

    # When a delivery is posted
    try:
        outcome: object = channel.send(delivery(receiver.base_url))
    except ChannelError as error:
        outcome = error

    # Then it succeeds or fails as the contract says, after exactly one request
    if error_class is None:
        assert isinstance(outcome, SendResult)
    else:
        assert type(outcome) is error_class
        for name, expected in attributes.items():
            assert getattr(outcome, name) == expected, name
    assert len(receiver.requests) == 1


def test_an_endpoint_that_trickles_its_answer_is_cut_off_at_the_deadline(
    receiver: WebhookReceiver,
) -> None:
    # Given an endpoint that sends its answer a byte every 0.1 s (no read ever times out)
    receiver.respond_with(200, body="ok", trickle=0.1)
    channel = WebhookChannel(allow_private=True, timeout=0.5, deadline=1.0)

    # When a delivery is posted
    started = time.monotonic()
    with pytest.raises(TransientChannelError, match="did not answer within 1 s"):
        channel.send(delivery(receiver.base_url))

    # Then it gives up at the deadline, not when the endpoint is done (about 4 s)
    assert time.monotonic() - started < 3.0
    assert len(receiver.requests) == 1


def test_a_delivery_made_from_inside_an_event_loop_still_works(
    receiver: WebhookReceiver,
) -> None:
    channel = WebhookChannel(allow_private=True, timeout=2)

    async def from_a_loop() -> object:
        return channel.send(delivery(receiver.base_url))

    assert isinstance(asyncio.run(from_a_loop()), SendResult)


def test_loopback_endpoints_are_refused_by_default_and_nothing_is_sent(
    receiver: WebhookReceiver,
) -> None:
    # Given a channel with the guard on
    channel = WebhookChannel(timeout=1)

    # When a delivery to a loopback endpoint is posted, Then it is refused before connecting
    with pytest.raises(PermanentChannelError, match="127.0.0.1 is a loopback address"):
        channel.send(delivery(receiver.base_url))
    assert receiver.requests == []


def test_a_name_is_dialed_at_its_resolved_address_with_the_name_as_host(
    receiver: WebhookReceiver,
) -> None:
    # Given a name only the channel's resolver knows, resolving to the loopback receiver
    port = receiver.base_url.rsplit(":", 1)[1]

    def resolve(host: str, port: int) -> Sequence[str]:
        return ["127.0.0.1"] if host == "hooks.example" else []

    channel = WebhookChannel(allow_private=True, timeout=2, resolver=resolve)

    # When a delivery to that name is posted over a real socket
    channel.send(delivery(f"http://hooks.example:{port}/in"))

    # Then the receiver got it, addressed to the name
    (request,) = receiver.requests
    assert request.headers["host"] == f"hooks.example:{port}"
    assert receiver.deliveries[0].verified


def test_dns_rebinding_cannot_move_the_connection_to_loopback() -> None:
    # Given a name that answers a public address first and loopback afterwards
    answers = iter([[PUBLIC_V4]] + [["127.0.0.1"]] * 5)
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> Sequence[str]:
        lookups.append(host)
        return next(answers)

    seen: list[httpx.Request] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    channel = WebhookChannel(transport=httpx.MockTransport(endpoint), resolver=rebinding)

    # When a delivery to that name is posted
    channel.send(delivery("https://rebind.example/in"))

    # Then the name was resolved once and the request dialed the vetted public address,
    # keeping the name for the Host header and the TLS server name
    assert lookups == ["rebind.example"]
    (request,) = seen
    assert request.url.host == PUBLIC_V4
    assert request.headers["host"] == "rebind.example"
    assert request.extensions["sni_hostname"] == "rebind.example"


def test_deliveries_from_one_thread_share_one_kept_alive_connection() -> None:
    # Given an endpoint answering over HTTP/1.1, where a connection may carry many requests
    with WebhookReceiver(SECRET, keep_alive=True) as keeping:
        channel = WebhookChannel(allow_private=True, timeout=2)

        # When one thread posts five deliveries to it
        try:
            for n in range(5):
                channel.send(delivery(keeping.base_url + "/hooks", id=f"msg_{n}"))
        finally:
            channel.close()

    # Then all five arrived, signed, over one TCP connection
    assert [d.headers["webhook-id"] for d in keeping.deliveries] == [f"msg_{n}" for n in range(5)]
    assert all(d.verified for d in keeping.deliveries)
    assert keeping.connections == 1


def test_a_kept_connection_carries_only_the_name_it_was_opened_for() -> None:
    # Given two names resolving to the same endpoint, which keeps connections open
    with WebhookReceiver(SECRET, keep_alive=True) as keeping:
        port = keeping.base_url.rsplit(":", 1)[1]
        channel = WebhookChannel(
            allow_private=True, timeout=2, resolver=lambda host, port: ["127.0.0.1"]
        )

        # When deliveries to the two names take turns
        try:
            for host in ("one.example", "two.example", "one.example", "two.example"):
                channel.send(delivery(f"http://{host}:{port}/in"))
        finally:
            channel.close()

    # Then each name kept a connection of its own, never the other's
    hosts = [request.headers["host"] for request in keeping.requests]
    assert hosts == [f"{h}.example:{port}" for h in ("one", "two", "one", "two")]
    assert keeping.connections == 2


def test_every_delivery_checks_the_address_again_though_its_client_is_kept() -> None:
    # Given a name that resolves to a public address, and to loopback from then on
    answers = iter([[PUBLIC_V4], ["127.0.0.1"]])
    seen: list[httpx.Request] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    channel = WebhookChannel(
        transport=httpx.MockTransport(endpoint), resolver=lambda host, port: next(answers)
    )

    # When a first delivery went out, and a second is posted to the same name
    channel.send(delivery("https://moving.example/in"))
    with pytest.raises(PermanentChannelError, match="loopback"):
        channel.send(delivery("https://moving.example/in"))
    channel.close()

    # Then the second was refused before anything was sent
    assert len(seen) == 1


def test_connection_failures_are_transient() -> None:
    # Given an endpoint that cannot be connected to
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    channel = WebhookChannel(transport=httpx.MockTransport(refuse))

    # When a delivery is posted, Then the failure is transient
    with pytest.raises(TransientChannelError, match="unreachable"):
        channel.send(delivery(f"http://{PUBLIC_V4}/in"))


def test_signature_matches_the_standard_webhooks_reference() -> None:
    # Given a delivery's id, timestamp and body
    timestamp = 1_790_000_000

    # When it is signed
    signature = sign_webhook(SECRET, "msg_1", timestamp, BODY)

    # Then it equals the reference implementation's signature
    reference = Webhook(SECRET).sign("msg_1", datetime.fromtimestamp(timestamp, UTC), BODY.decode())
    assert signature == reference


def test_new_secrets_are_whsec_and_24_random_bytes() -> None:
    # When two secrets are made
    first, second = new_webhook_secret(), new_webhook_secret()

    # Then each is whsec_ + base64 of 24 bytes, and they differ
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 24
    assert first != second


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not base64!", ""])
def test_malformed_secrets_are_configuration_errors(secret: str) -> None:
    # Given a secret that is not base64, When it is used, Then the operator is told
    with pytest.raises(ChannelConfigurationError, match="webhook secret"):
        sign_webhook(secret, "msg_1", 1, b"{}")
