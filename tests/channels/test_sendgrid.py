"""SendGridEmailChannel: the real ``sendgrid`` SDK against a loopback stand-in."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest

from channels.base import EmailAttachment, EmailMessage, SendResult
from channels.email_sendgrid import SendGridEmailChannel
from channels.errors import (
    ChannelConfigurationError,
    ChannelError,
    PermanentChannelError,
    TransientChannelError,
)
from tests.standins import SendGridStandin, sendgrid_error

MESSAGE = EmailMessage(
    id="ntf-0001",
    to="sanne@example.nl",
    sender="Winkel Retouren <retouren@example.nl>",
    subject="Je retour is ontvangen",
    text="Hallo Sanne",
    html="<p>Hallo Sanne</p>",
    reply_to="klantenservice@example.nl",
)


@pytest.fixture(scope="module")
def sendgrid_server() -> Iterator[SendGridStandin]:
    with SendGridStandin() as server:
        yield server


@pytest.fixture
def standin(sendgrid_server: SendGridStandin) -> SendGridStandin:
    sendgrid_server.reset()
    return sendgrid_server


def channel_for(standin: SendGridStandin, timeout: float = 2.0) -> SendGridEmailChannel:
    return SendGridEmailChannel("SG.test-key", base_url=standin.base_url, timeout=timeout)


def test_accepted_mail_returns_the_x_message_id(standin: SendGridStandin) -> None:
    # Given SendGrid accepts mail
    channel = channel_for(standin)

    # When a message is sent
    result = channel.send(MESSAGE)

    # Then the result carries the X-Message-Id SendGrid answered with
    assert result == SendResult(
        provider="sendgrid", provider_message_id=standin.issued_message_ids[0]
    )


def test_mail_body_has_both_parts_the_custom_arg_and_the_key(standin: SendGridStandin) -> None:
    # Given a channel with an API key
    channel = channel_for(standin)

    # When a message with text and HTML is sent
    channel.send(MESSAGE)

    # Then SendGrid got one v3 mail with the key, both parts in order and the notification id
    (request,) = standin.requests
    assert request.headers["authorization"] == "Bearer SG.test-key"
    mail = request.json()
    assert mail["personalizations"] == [{"to": [{"email": "sanne@example.nl"}]}]
    assert mail["from"] == {"email": "retouren@example.nl", "name": "Winkel Retouren"}
    assert mail["reply_to"] == {"email": "klantenservice@example.nl"}
    assert mail["subject"] == "Je retour is ontvangen"
    assert mail["content"] == [
        {"type": "text/plain", "value": "Hallo Sanne"},
        {"type": "text/html", "value": "<p>Hallo Sanne</p>"},
    ]
    assert mail["custom_args"] == {"notification_id": "ntf-0001"}


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        ("sanne+retour@example.nl", {"email": "sanne+retour@example.nl"}),
        ("o'brien@example.ie", {"email": "o'brien@example.ie"}),
        (
            "Sanne de Vries <sanne@example.nl>",
            {"email": "sanne@example.nl", "name": "Sanne de Vries"},
        ),
        (
            '"de Vries, Sanne" <sanne@example.nl>',
            {"email": "sanne@example.nl", "name": "de Vries, Sanne"},
        ),
        ("sanne@example.nl (Sanne)", {"email": "sanne@example.nl", "name": "Sanne"}),
        ("<sanne@example.nl>", {"email": "sanne@example.nl"}),
    ],
)
def test_each_address_goes_as_its_email_and_name(
    standin: SendGridStandin, written: str, sent: dict[str, str]
) -> None:
    # Given a channel
    channel = channel_for(standin)

    # When a message goes to an address written that way, from and replying to it too
    channel.send(replace(MESSAGE, to=written, sender=written, reply_to=written))

    # Then SendGrid gets its address and name apart, as the standard library reads them
    mail = standin.requests[0].json()
    assert mail["personalizations"] == [{"to": [sent]}]
    assert mail["from"] == sent and mail["reply_to"] == sent


def test_text_orjson_cannot_encode_still_goes_as_json(standin: SendGridStandin) -> None:
    # Given a message whose text holds a lone surrogate (valid in a Python str, not UTF-8)
    channel = channel_for(standin)
    odd = replace(MESSAGE, text="Hallo \ud800 Sanne", html=None)

    # When it is sent
    channel.send(odd)

    # Then SendGrid got it, escaped in the JSON as the standard library escapes it
    (request,) = standin.requests
    assert request.json()["content"] == [{"type": "text/plain", "value": "Hallo \ud800 Sanne"}]


#: A calendar event as the renderer attaches it: its type with parameters, CRLF lines.
CALENDAR = EmailAttachment(
    filename="retour-RMA-1001.ics",
    content_type="text/calendar; charset=utf-8; method=PUBLISH",
    content="BEGIN:VCALENDAR\r\nSUMMARY:Laatste dag, Zoë\r\nEND:VCALENDAR\r\n".encode(),
)


def test_an_attachment_goes_base64_with_its_type_and_file_name(standin: SendGridStandin) -> None:
    # Given a channel through the real SDK
    channel = channel_for(standin)

    # When a message with a calendar event is sent
    result = channel.send(replace(MESSAGE, attachments=(CALENDAR,)))

    # Then SendGrid accepted it, with the file base64-encoded as an attachment
    assert result.provider_message_id == standin.issued_message_ids[0]
    [attachment] = standin.mails[0]["attachments"]
    assert base64.b64decode(attachment.pop("content"), validate=True) == CALENDAR.content
    # And with the bare MIME type, as SendGrid allows no parameters there
    assert attachment == {
        "filename": "retour-RMA-1001.ics",
        "type": "text/calendar",
        "disposition": "attachment",
    }


def test_a_mail_without_attachments_sends_no_attachments_field(standin: SendGridStandin) -> None:
    # When a message without attachments is sent
    channel_for(standin).send(MESSAGE)
    # Then the mail is as it was before attachments: no attachments field at all
    assert "attachments" not in standin.mails[0]


def test_click_tracking_is_off_unless_the_message_allows_it(standin: SendGridStandin) -> None:
    # Given a message as notifier sends it, and one that allows click tracking
    channel = channel_for(standin)

    # When both are sent
    channel.send(MESSAGE)
    channel.send(replace(MESSAGE, id="ntf-0002", click_tracking=True))

    # Then SendGrid is told per message, so the account's own setting cannot rewrite links
    untracked, tracked = standin.mails
    assert untracked["tracking_settings"] == {
        "click_tracking": {"enable": False, "enable_text": False}
    }
    assert tracked["tracking_settings"] == {"click_tracking": {"enable": True, "enable_text": True}}


def test_text_only_mail_has_one_part(standin: SendGridStandin) -> None:
    # Given a message without HTML or reply-to
    message = EmailMessage(id="n2", to="a@example.nl", sender="b@example.nl", subject="s", text="t")

    # When it is sent
    channel_for(standin).send(message)

    # Then only the plain-text part and no reply_to go out
    (mail,) = standin.mails
    assert mail["content"] == [{"type": "text/plain", "value": "t"}]
    assert "reply_to" not in mail


#: Stands for "30 seconds from when the test runs" in a header; resolved by ``_at_run_time``.
RATE_RESET_IN_30S = "<now+30>"


def _at_run_time(answer: dict[str, Any]) -> dict[str, Any]:
    headers = {
        name: str(int(time.time()) + 30) if value == RATE_RESET_IN_30S else value
        for name, value in (answer.get("headers") or {}).items()
    }
    return {**answer, "headers": headers} if headers else answer


#: SendGrid's answer -> the error the channel raises and the attributes it carries.
OUTCOMES: list[Any] = [
    pytest.param(
        {
            "status": 400,
            "body": sendgrid_error("The from address does not match a verified Sender"),
        },
        PermanentChannelError,
        {"reason": "The from address does not match a verified Sender", "status": 400},
        id="400-provider-reason",
    ),
    pytest.param(
        {"status": 401, "body": sendgrid_error("The provided authorization grant is invalid")},
        PermanentChannelError,
        {"reason": "The provided authorization grant is invalid", "status": 401},
        id="401-bad-key",
    ),
    pytest.param(
        {"status": 403, "body": sendgrid_error("access forbidden")},
        PermanentChannelError,
        {"reason": "access forbidden", "status": 403},
        id="403-missing-scope",
    ),
    pytest.param(
        {"status": 413, "body": "too large"},
        PermanentChannelError,
        {"reason": "HTTP 413: too large", "status": 413},
        id="413-non-json-body",
    ),
    pytest.param(
        {"status": 429, "headers": {"Retry-After": "7"}, "body": sendgrid_error("too many")},
        TransientChannelError,
        {"retry_after": 7.0, "status": 429},
        id="429-retry-after",
    ),
    pytest.param(
        {"status": 429, "headers": {"X-RateLimit-Reset": RATE_RESET_IN_30S}},
        TransientChannelError,
        {"retry_after": pytest.approx(30, abs=10), "status": 429},
        id="429-rate-limit-reset",
    ),
    pytest.param(
        {"status": 500, "body": sendgrid_error("internal error")},
        TransientChannelError,
        {"retry_after": None, "status": 500},
        id="500",
    ),
    pytest.param(
        {"status": 503},
        TransientChannelError,
        {"status": 503},
        id="503-empty-body",
    ),
    pytest.param(
        {"status": 202, "delay": 1.5},
        TransientChannelError,
        {"status": None, "retry_after": None},
        id="timeout",
    ),
]


@pytest.mark.parametrize(("answer", "error_class", "attributes"), OUTCOMES)
def test_sendgrid_answers_are_classified(
    standin: SendGridStandin,
    answer: dict[str, Any],
    error_class: type[ChannelError],
    attributes: dict[str, Any],
) -> None:
    # Given SendGrid is scripted to answer this way
    standin.respond_with(**_at_run_time(answer))
    channel = channel_for(standin, timeout=0.5)

    # When a message is sent
    with pytest.raises(ChannelError) as raised:
        channel.send(MESSAGE)

    # Then the channel raises the expected kind of error with the provider's details
    assert type(raised.value) is error_class
    for name, expected in attributes.items():
        assert getattr(raised.value, name) == expected, name


def test_sends_from_one_thread_share_one_kept_alive_connection() -> None:
    # Given SendGrid answering over HTTP/1.1, where a connection may carry many requests
    with SendGridStandin(keep_alive=True) as keeping:
        channel = channel_for(keeping)

        # When one thread sends five emails
        try:
            results = [channel.send(MESSAGE) for _ in range(5)]
        finally:
            channel.close()

    # Then all five were accepted over one TCP connection
    assert [r.provider_message_id for r in results] == keeping.issued_message_ids
    assert len(keeping.mails) == 5
    assert keeping.connections == 1


def test_each_sending_thread_keeps_a_connection_of_its_own() -> None:
    # Given SendGrid answering over HTTP/1.1
    with SendGridStandin(keep_alive=True) as keeping:
        channel = channel_for(keeping)

        # When three threads send four emails each, one after another within each thread
        def four(_: int) -> None:
            for _ in range(4):
                channel.send(MESSAGE)

        try:
            with ThreadPoolExecutor(3) as threads:
                list(threads.map(four, range(3)))
        finally:
            channel.close()

    # Then twelve emails went over at most three connections, one per thread
    assert len(keeping.mails) == 12
    assert keeping.connections <= 3


def _read_request(connection: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        ).split(b":")[1]
    )
    while len(body) < length:
        body += connection.recv(65536)


def test_a_kept_connection_the_server_closed_meanwhile_is_replaced_before_sending() -> None:
    # Given a server that closes each connection after its answer without saying so (as an
    # idle timeout does), and a channel that sent one email over it
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def serve() -> None:
            for _ in range(2):
                connection, _ = listener.accept()
                with connection:
                    _read_request(connection)
                    connection.sendall(
                        b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nX-Message-Id: m\r\n\r\n"
                    )

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        channel = SendGridEmailChannel("SG.key", base_url=base_url, timeout=2)
        try:
            first = channel.send(MESSAGE)
            time.sleep(0.2)  # the server has closed its end by now

            # When the next email is sent
            second = channel.send(MESSAGE)
        finally:
            channel.close()
        server.join(timeout=5)

    # Then it went out over a new connection, accepted like the first
    assert first.provider_message_id == second.provider_message_id == "m"
    assert not server.is_alive()


def test_unreachable_sendgrid_is_transient() -> None:
    # Given a port nothing listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = SendGridEmailChannel("SG.key", base_url=f"http://127.0.0.1:{port}", timeout=1)

    # When a message is sent, Then the failure is transient
    with pytest.raises(TransientChannelError, match="could not be reached"):
        channel.send(MESSAGE)


@pytest.mark.parametrize(
    ("api_key", "base_url"),
    [("", "https://api.sendgrid.com"), ("   ", "https://api.sendgrid.com"), ("k", "ftp://x")],
)
def test_bad_settings_are_configuration_errors(api_key: str, base_url: str) -> None:
    # Given a bad key or base URL, When the channel is built, Then it refuses
    with pytest.raises(ChannelConfigurationError):
        SendGridEmailChannel(api_key, base_url=base_url)


def test_configuration_error_is_not_a_channel_error() -> None:
    # Given the error tree, Then a misconfiguration cannot be caught as a delivery failure
    assert not issubclass(ChannelConfigurationError, ChannelError)
