"""The service's logs: one line per record, the ids of the work in hand, and nothing personal
or secret in them, whichever logger wrote the line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from notifier import logs
from notifier.cli import main
from notifier.service import Service
from notifier.settings import Settings, load_settings
from tests.conftest import API_KEY
from tests.delivery_support import TWILIO_TOKEN, accept, subscribe, with_providers
from tests.factories import event
from tests.standins import SendGridStandin, TwilioStandin, WebhookReceiver
from tests.standins.sendgrid import sendgrid_error
from tests.standins.twilio import twilio_error

Capture = Callable[..., io.StringIO]


@pytest.fixture
def plain() -> Settings:
    """Settings with an API key and a staff token, and no database to make."""
    return replace(
        load_settings({}), api_keys={"shop": API_KEY}, staff_tokens={"staff": STAFF_TOKEN}
    )


@pytest.fixture
def capture() -> Capture:
    """Configures logging as the ``notifier`` command does, into a stream it returns (the
    root logger is put back after each test by ``tests/conftest.py``)."""

    def configure(
        settings: Settings, *, level: str = "INFO", log_format: str = "text"
    ) -> io.StringIO:
        stream = io.StringIO()
        changed = replace(settings, log_level=level, log_format=log_format)
        logs.configure(changed, "worker", stream)
        return stream

    return configure


def test_a_json_record_is_one_line_with_the_ids_of_the_work_in_hand(
    plain: Settings, capture: Capture
) -> None:
    # Given JSON logs, and a delivery's ids bound
    stream = capture(plain, log_format="json")
    log = logging.getLogger("notifier.test")

    # When a failure is logged with its traceback while a notification is in hand
    with logs.bound(event_id="evt-1", return_id="RMA-1", notification_id="ntf_1", channel="sms"):
        try:
            raise ValueError("no answer\nfrom the provider")
        except ValueError:
            log.exception("sending failed")
    log.info("outside")

    # Then each record is one JSON line, the traceback one string, the ids fields
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first["message"] == "sending failed"
    assert (first["level"], first["logger"], first["process"]) == (
        "ERROR",
        "notifier.test",
        "worker",
    )
    assert first["ts"].endswith("Z") and first["ts"][10] == "T"
    assert (first["event_id"], first["return_id"]) == ("evt-1", "RMA-1")
    assert (first["notification_id"], first["channel"]) == ("ntf_1", "sms")
    assert first["exception"].startswith("Traceback")
    assert "ValueError: no answer\nfrom the provider" in first["exception"]
    assert second["message"] == "outside"
    assert "notification_id" not in second and "exception" not in second


def test_a_text_record_is_one_line_with_the_ids_as_suffixes(
    plain: Settings, capture: Capture
) -> None:
    # Given text logs
    stream = capture(plain)

    # When a message of two lines is logged about a return
    with logs.bound(return_id="RMA-1", notification_id="ntf_1"):
        logging.getLogger("notifier.test").warning("first\nsecond")

    # Then it is one line, the ids at its end
    [line] = stream.getvalue().splitlines()
    assert line.endswith(
        " WARNING worker notifier.test: first\\nsecond return_id=RMA-1 notification_id=ntf_1"
    )


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (
            "HEADERS: {'Authorization': 'Bearer SG.abc123.def456', 'Accept': 'application/json'}",
            "HEADERS: {'Authorization': 'Bearer ***', 'Accept': 'application/json'}",
        ),
        (
            'HTTP Request: POST https://hook:pw@h.example.nl/in?token=t0k3n "HTTP/1.1 200 OK"',
            'HTTP Request: POST https://***@h.example.nl/in?*** "HTTP/1.1 200 OK"',
        ),
        ("webhook-signature: v1,c2lnbmF0dXJl api_key=abc123", "webhook-signature: *** api_key=***"),
        ("secrets whsec_c2VjcmV0+/= and SG.id.secret", "secrets whsec_*** and SG.***"),
        ("To=%2B31611112222&Body=Hoi+Sanne", "To=+316*****222&Body=Hoi+S***"),
        ("Sanne de Vries: 06-11112222, +31 6 1111 2222", "S*** de V***: 06*****222, +316*****222"),
        ("could not reach sanne.devries@example.nl", "could not reach s***@example.nl"),
    ],
)
def test_secrets_addresses_numbers_and_names_are_redacted(text: str, redacted: str) -> None:
    assert logs.Redactor()(text, ["Sanne de Vries"]) == redacted


def test_the_twilio_request_dump_is_left_out_unless_debugging(
    plain: Settings, capture: Capture
) -> None:
    # Given INFO logs
    stream = capture(plain)
    twilio = logging.getLogger("twilio.http_client")

    # When the Twilio SDK dumps a request, then at DEBUG
    twilio.info("-- BEGIN Twilio API Request --")
    assert stream.getvalue() == ""
    stream = capture(plain, level="DEBUG")
    twilio.info("-- BEGIN Twilio API Request --")

    # Then only the DEBUG configuration shows it
    assert "-- BEGIN Twilio API Request --" in stream.getvalue()


def test_python_http_client_keeps_only_its_request_line_at_debug(
    plain: Settings, capture: Capture
) -> None:
    # Given DEBUG logs
    stream = capture(plain, level="DEBUG")
    sdk = logging.getLogger("python_http_client.client")

    # When the SendGrid SDK logs a request, its mail, its headers and the answer
    sdk.debug("POST Request: https://api.sendgrid.com/v3/mail/send")
    sdk.debug('PAYLOAD: b\'{"personalizations": [{"to": [{"email": "x@example.nl"}]}]}\'')
    sdk.debug("HEADERS: {'Authorization': 'Bearer SG.x.y'}")
    sdk.debug('POST Response: 400 {"errors": []}\nmore')

    # Then only the request line and the answer's first line are left
    lines = [line.split(": ", 1)[1] for line in stream.getvalue().splitlines()]
    assert lines == [
        "POST Request: https://api.sendgrid.com/v3/mail/send",
        'POST Response: 400 {"errors": []}',
    ]


def test_a_second_configuration_replaces_the_first(plain: Settings, capture: Capture) -> None:
    # Given logging configured twice, the second time with a secret generated in between
    first = capture(plain)
    second = capture(replace(plain, api_keys={"generated": "generated-secret-0123"}))

    # When the secret is logged
    logging.getLogger("notifier.test").warning("key generated-secret-0123 stored")

    # Then only the second handler writes, and it redacts the secret
    assert first.getvalue() == ""
    assert "key *** stored" in second.getvalue()


# The canaries: a customer's name, email address and phone number (national notation), and
# every secret the service holds.
NAME = "Wilhelmina Kanarievogel"
EMAIL = "wilhelmina.kanarievogel@example.nl"
PHONE = "0611112222"
SENDGRID_KEY = "SG.canary-key-id.canary-key-secret-0123456789"
STAFF_TOKEN = "staff-canary-token-0123456789"
HOOK_PASSWORD = "hook-canary-password"
HOOK_TOKEN = "hook-canary-token"
HOOK_SECRET = "whsec_Y2FuYXJ5LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3"
CANARIES = (
    "wilhelmina",
    "kanarievogel",
    "611112222",
    "1111 2222",
    "11112222",
    API_KEY,
    STAFF_TOKEN,
    SENDGRID_KEY,
    "canary-key-secret",
    TWILIO_TOKEN,
    HOOK_PASSWORD,
    HOOK_TOKEN,
    HOOK_SECRET,
)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(HOOK_SECRET) as standin:
        yield standin


@pytest.fixture
def canary_service(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
    receiver: WebhookReceiver,
) -> Service:
    """A service sending through the stand-ins with the canary secrets, giving up after the
    first transient failure, with a webhook subscriber whose URL holds a password and a token."""
    canary = replace(
        with_providers(settings, sendgrid, twilio),
        sendgrid_api_key=SENDGRID_KEY,
        staff_tokens={"staff": STAFF_TOKEN},
        retry_attempts=1,
    )
    service = make_service(canary)
    host = receiver.base_url.removeprefix("http://")
    url = f"http://hook:{HOOK_PASSWORD}@{host}/in?token={HOOK_TOKEN}"
    subscribe(service, url, HOOK_SECRET)
    return service


def _deliver_all(
    service: Service,
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
    receiver: WebhookReceiver,
    round_: str,
) -> dict[str, dict[str, str]]:
    """One event of the canary customer for each outcome (sent, refused, failing), each of
    its messages delivered once; the provider texts quote the canaries. Returns the ids."""
    quoted = f"{NAME} <{EMAIL}>, {PHONE}, +31 6 1111 2222"
    ids = {}
    for outcome, status in (("sent", None), ("refused", 400), ("failing", 503)):
        customer = {"name": NAME, "email": EMAIL, "phone": PHONE}
        body = event(event_id=f"evt-{round_}-{outcome}", return_id=f"RMA-{round_}-{outcome}")
        ids[outcome] = accept(service, {**body, "customer": {**body["customer"], **customer}})
        if status is not None:
            sendgrid.respond_with(status, body=sendgrid_error(f"Mail to {quoted} refused"), times=1)
            twilio.respond_with(
                status, body=twilio_error(21211, f"The 'To' {quoted}", status), times=1
            )
            receiver.respond_with(status, body=f"no such customer {quoted}", times=1)
        for channel in ("email", "sms", "webhook"):
            service.deliverer.deliver(ids[outcome][channel])
    return ids


def test_no_canary_reaches_the_logs_at_info_or_debug(
    canary_service: Service,
    capture: Capture,
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
    receiver: WebhookReceiver,
) -> None:
    for level in ("INFO", "DEBUG"):
        # Given logs as the command configures them, at this level
        stream = capture(canary_service.settings, level=level)

        # When messages to the canary customer are sent, refused and fail
        ids = _deliver_all(canary_service, sendgrid, twilio, receiver, level)

        # Then every provider was called, the failures logged, and no canary is in the logs
        assert len(sendgrid.requests) == len(twilio.requests) == len(receiver.requests)
        written = stream.getvalue()
        assert f"notification {ids['failing']['email']} exhausted its retries" in written
        if level == "DEBUG":
            assert "POST Request" in written and "BEGIN Twilio API Request" in written
        lowered = written.lower()
        assert [canary for canary in CANARIES if canary.lower() in lowered] == [], written


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_delivery_logs_json_lines_with_its_ids(
    canary_service: Service,
    capture: Capture,
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
    receiver: WebhookReceiver,
) -> None:
    # Given JSON logs at INFO
    stream = capture(canary_service.settings, log_format="json")

    # When messages are sent, refused and fail
    ids = _deliver_all(canary_service, sendgrid, twilio, receiver, "json")

    # Then every line is JSON, and the exhausted SMS carries its ids
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    [exhausted] = [r for r in records if r.get("notification_id") == ids["failing"]["sms"]]
    assert exhausted["level"] == "WARNING"
    assert exhausted["event_id"] == "evt-json-failing"
    assert exhausted["return_id"] == "RMA-json-failing"
    assert exhausted["channel"] == "sms"
    assert "W*** K***" in exhausted["message"]
    assert "+316*****222" in exhausted["message"]


def test_the_secrets_of_the_settings_include_the_passwords_in_urls(plain: Settings) -> None:
    # Given settings with every kind of secret
    full = replace(
        plain,
        sendgrid_api_key="SG.test-key",
        twilio_auth_token=TWILIO_TOKEN,
        database_url="postgresql+psycopg://notifier:db-password-1@db/notifier",
        redis_url="redis://:redis-password-1@redis:6379/0",
    )

    # When the secrets to redact are taken from them
    found = set(logs.secrets_of(full))

    # Then every one is there
    assert found == {
        API_KEY,
        STAFF_TOKEN,
        "SG.test-key",
        TWILIO_TOKEN,
        "db-password-1",
        "redis-password-1",
    }


def test_the_command_logs_json_lines_marked_with_its_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given JSON logs and an API key in the environment
    monkeypatch.setenv("NOTIFIER_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NOTIFIER_LOG_FORMAT", "json")
    monkeypatch.setenv("NOTIFIER_API_KEYS", "shop:cli-secret-0123")
    assert main(["db", "upgrade"]) == 0

    # When the scheduler runs once, then something logs the key
    assert main(["scheduler", "--once"]) == 0
    logging.getLogger("notifier.test").warning("the key is cli-secret-0123")

    # Then standard error holds it as a JSON line of the scheduler, the key redacted
    [line] = capsys.readouterr().err.splitlines()
    assert json.loads(line) | {"ts": None} == {
        "ts": None,
        "level": "WARNING",
        "logger": "notifier.test",
        "message": "the key is ***",
        "process": "scheduler",
    }
