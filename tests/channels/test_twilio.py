"""TwilioSmsChannel: the real ``twilio`` SDK against a loopback stand-in."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from channels.base import SmsMessage
from channels.errors import (
    ChannelConfigurationError,
    ChannelError,
    PermanentChannelError,
    TransientChannelError,
)
from channels.sms_twilio import TwilioSmsChannel
from tests.standins import TwilioStandin, twilio_error

ACCOUNT = "AC" + "0" * 32
MESSAGE = SmsMessage(id="ntf-0002", to="+31612345678", text="Je terugbetaling is onderweg")


@pytest.fixture(scope="module")
def twilio_server() -> Iterator[TwilioStandin]:
    with TwilioStandin() as server:
        yield server


@pytest.fixture
def standin(twilio_server: TwilioStandin) -> TwilioStandin:
    twilio_server.reset()
    return twilio_server


def channel_for(standin: TwilioStandin, timeout: float = 2.0, **kwargs: Any) -> TwilioSmsChannel:
    settings: dict[str, Any] = {"from_": "+3197010000000"} | kwargs
    return TwilioSmsChannel(
        ACCOUNT, "auth-token", base_url=standin.base_url, timeout=timeout, **settings
    )


def test_created_message_returns_its_sid(standin: TwilioStandin) -> None:
    # Given Twilio accepts messages
    channel = channel_for(standin)

    # When a message is sent
    result = channel.send(MESSAGE)

    # Then the result carries the SM sid and Twilio got the number, body and sender
    assert result.provider == "twilio"
    assert re.fullmatch(r"SM[0-9a-f]{32}", result.provider_message_id or "")
    (form,) = standin.messages
    assert form == {"To": "+31612345678", "Body": MESSAGE.text, "From": "+3197010000000"}
    assert standin.requests[0].path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


def test_messaging_service_and_status_callback_carry_the_notification_id(
    standin: TwilioStandin,
) -> None:
    # Given a channel sending from a messaging service with a status callback
    channel = channel_for(
        standin,
        from_=None,
        messaging_service_sid="MG" + "1" * 32,
        status_callback="https://notifier.example/callbacks/twilio?v=1",
    )

    # When a message is sent
    channel.send(MESSAGE)

    # Then the service is the sender and the callback URL names the notification
    (form,) = standin.messages
    assert form["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in form
    callback = urlsplit(form["StatusCallback"])
    assert callback.netloc == "notifier.example"
    assert parse_qs(callback.query) == {"v": ["1"], "notification_id": ["ntf-0002"]}


#: Twilio's answer -> the error the channel raises and the attributes it carries.
OUTCOMES: list[Any] = [
    pytest.param(
        {
            "status": 400,
            "body": twilio_error(21211, "The 'To' number is not a valid phone number."),
        },
        PermanentChannelError,
        {
            "reason": "21211: The 'To' number is not a valid phone number.",
            "code": "21211",
            "status": 400,
            "opt_out": False,
        },
        id="400-21211-invalid-number",
    ),
    pytest.param(
        {"status": 400, "body": twilio_error(21614, "'To' number is not a valid mobile number")},
        PermanentChannelError,
        {"code": "21614", "opt_out": False},
        id="400-21614-not-mobile",
    ),
    pytest.param(
        {"status": 400, "body": twilio_error(21610, "Attempt to send to unsubscribed recipient")},
        PermanentChannelError,
        {"reason": "21610: Attempt to send to unsubscribed recipient", "opt_out": True},
        id="400-21610-opted-out",
    ),
    pytest.param(
        {
            "status": 400,
            "body": twilio_error(21408, "Permission to send an SMS has not been enabled"),
        },
        PermanentChannelError,
        {"code": "21408", "opt_out": False},
        id="400-21408-region",
    ),
    pytest.param(
        {"status": 401, "body": twilio_error(20003, "Authenticate", 401)},
        PermanentChannelError,
        {"reason": "20003: Authenticate", "status": 401},
        id="401",
    ),
    pytest.param(
        {
            "status": 429,
            "headers": {"Retry-After": "12"},
            "body": twilio_error(20429, "Too Many Requests", 429),
        },
        TransientChannelError,
        {"retry_after": 12.0, "status": 429, "code": "20429"},
        id="429-retry-after",
    ),
    pytest.param(
        {"status": 400, "body": twilio_error(20429, "Too Many Requests")},
        TransientChannelError,
        {"retry_after": None, "code": "20429"},
        id="code-20429",
    ),
    pytest.param(
        {"status": 500, "body": "oops"},
        TransientChannelError,
        {"status": 500, "retry_after": None},
        id="500-not-json",
    ),
    pytest.param(
        {"status": 503, "body": twilio_error(20500, "Service Unavailable", 503)},
        TransientChannelError,
        {"status": 503, "code": "20500"},
        id="503",
    ),
    pytest.param(
        {"status": 201, "delay": 1.5},
        TransientChannelError,
        {"status": None},
        id="timeout",
    ),
]


@pytest.mark.parametrize(("answer", "error_class", "attributes"), OUTCOMES)
def test_twilio_answers_are_classified(
    standin: TwilioStandin,
    answer: dict[str, Any],
    error_class: type[ChannelError],
    attributes: dict[str, Any],
) -> None:
    # Given Twilio is scripted to answer this way
    standin.respond_with(**answer)
    channel = channel_for(standin, timeout=0.5)

    # When a message is sent
    with pytest.raises(ChannelError) as raised:
        channel.send(MESSAGE)

    # Then the channel raises the expected kind of error with Twilio's details
    assert type(raised.value) is error_class
    for name, expected in attributes.items():
        assert getattr(raised.value, name) == expected, name


def test_rfc9457_errors_are_classified_too(standin: TwilioStandin) -> None:
    # Given Twilio answers in its newer problem-details format
    problem = {
        "type": "https://www.twilio.com/docs/errors/21211",
        "title": "Invalid 'To' Phone Number",
        "status": 400,
        "code": 21211,
        "detail": "The 'To' number +31 is not a valid phone number.",
    }
    standin.respond_with(400, {"Content-Type": "application/problem+json"}, problem)

    # When a message is sent, Then the detail becomes the reason
    with pytest.raises(PermanentChannelError) as raised:
        channel_for(standin).send(MESSAGE)
    assert raised.value.reason == "21211: The 'To' number +31 is not a valid phone number."


def test_retry_after_of_one_send_does_not_leak_into_the_next(standin: TwilioStandin) -> None:
    # Given a rate limit with Retry-After, then one without
    standin.respond_with(429, {"Retry-After": "9"}, twilio_error(20429, "slow", 429), times=1)
    standin.respond_with(429, {}, twilio_error(20429, "slow", 429), times=1)
    channel = channel_for(standin)
    with pytest.raises(TransientChannelError):
        channel.send(MESSAGE)

    # When the second send is limited without a header
    with pytest.raises(TransientChannelError) as raised:
        channel.send(MESSAGE)

    # Then it carries no stale Retry-After
    assert raised.value.retry_after is None


def test_sends_from_one_thread_share_one_kept_alive_connection() -> None:
    # Given Twilio answering over HTTP/1.1, where a connection may carry many requests
    with TwilioStandin(keep_alive=True) as keeping:
        channel = channel_for(keeping)

        # When one thread sends five text messages
        try:
            for _ in range(5):
                channel.send(MESSAGE)
        finally:
            channel.close()

    # Then all five were created over one TCP connection
    assert len(keeping.messages) == 5
    assert keeping.connections == 1


def test_unreachable_twilio_is_transient() -> None:
    # Given a port nothing listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = TwilioSmsChannel(ACCOUNT, "t", from_="+31", base_url=f"http://127.0.0.1:{port}")

    # When a message is sent, Then the failure is transient
    with pytest.raises(TransientChannelError, match="could not be reached"):
        channel.send(MESSAGE)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"account_sid": "", "auth_token": "t", "from_": "+31"},
        {"account_sid": ACCOUNT, "auth_token": "", "from_": "+31"},
        {"account_sid": ACCOUNT, "auth_token": "t"},
        {"account_sid": ACCOUNT, "auth_token": "t", "from_": "+31", "base_url": "api.twilio.com"},
        {"account_sid": ACCOUNT, "auth_token": "t", "from_": "+31", "status_callback": "/cb"},
    ],
    ids=["no-sid", "no-token", "no-sender", "base-url-not-http", "callback-not-http"],
)
def test_bad_settings_are_configuration_errors(kwargs: dict[str, Any]) -> None:
    # Given a bad setting, When the channel is built, Then it refuses
    with pytest.raises(ChannelConfigurationError):
        TwilioSmsChannel(**kwargs)
