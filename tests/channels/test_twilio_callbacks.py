"""Twilio status callbacks: signatures computed with the SDK's validator, and parsing."""

from __future__ import annotations

from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from channels.errors import MalformedCallbackError, SignatureError
from channels.sms_twilio import parse_twilio_status, verify_twilio_signature
from channels.tracking import TrackingEvent, TrackingStatus

TOKEN = "12345678901234567890123456789012"
URL = "https://notifier.example/callbacks/twilio?notification_id=ntf-0002"
PARAMS = {
    "MessageSid": "SM" + "a" * 32,
    "MessageStatus": "delivered",
    "To": "+31612345678",
    "AccountSid": "AC" + "0" * 32,
}


def test_a_valid_signature_passes() -> None:
    # Given the signature Twilio would compute for this URL and form
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)

    # When it is verified, Then nothing is raised
    verify_twilio_signature(TOKEN, URL, PARAMS, signature)


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        (TOKEN, URL, PARAMS, None),
        (TOKEN, URL, PARAMS, ""),
        (TOKEN, URL, PARAMS, "not-a-signature"),
        ("another-token", URL, PARAMS, RequestValidator(TOKEN).compute_signature(URL, PARAMS)),
        (TOKEN, URL + "x", PARAMS, RequestValidator(TOKEN).compute_signature(URL, PARAMS)),
        (
            TOKEN,
            URL,
            PARAMS | {"MessageStatus": "failed"},
            RequestValidator(TOKEN).compute_signature(URL, PARAMS),
        ),
    ],
    ids=["missing", "empty", "garbage", "wrong-token", "other-url", "tampered-form"],
)
def test_bad_signatures_are_refused(
    token: str, url: str, params: dict[str, str], signature: str | None
) -> None:
    # Given a missing or non-matching signature, When it is verified, Then it is refused
    with pytest.raises(SignatureError):
        verify_twilio_signature(token, url, params, signature)


#: MessageStatus and ErrorCode -> (status, hard, reason).
STATUSES: list[Any] = [
    pytest.param({"MessageStatus": "queued"}, TrackingStatus.QUEUED, False, None, id="queued"),
    pytest.param({"MessageStatus": "sending"}, TrackingStatus.SENT, False, None, id="sending"),
    pytest.param({"MessageStatus": "sent"}, TrackingStatus.SENT, False, None, id="sent"),
    pytest.param({"MessageStatus": "delivered"}, TrackingStatus.DELIVERED, False, None, id="dlvd"),
    pytest.param(
        {"MessageStatus": "undelivered", "ErrorCode": "30003"},
        TrackingStatus.FAILED,
        False,
        "30003",
        id="undelivered-30003-soft",
    ),
    pytest.param(
        {"MessageStatus": "undelivered", "ErrorCode": "30005", "ErrorMessage": "Unknown handset"},
        TrackingStatus.FAILED,
        True,
        "30005: Unknown handset",
        id="undelivered-30005-hard",
    ),
    pytest.param(
        {"MessageStatus": "failed", "ErrorCode": "21610"},
        TrackingStatus.FAILED,
        True,
        "21610",
        id="failed-21610-opted-out",
    ),
    pytest.param(
        {"MessageStatus": "failed", "ErrorCode": "30008"},
        TrackingStatus.FAILED,
        False,
        "30008",
        id="failed-30008-soft",
    ),
    pytest.param({"MessageStatus": "receiving"}, TrackingStatus.UNKNOWN, False, None, id="unknown"),
]


@pytest.mark.parametrize(("fields", "status", "hard", "reason"), STATUSES)
def test_statuses_map_to_the_shared_vocabulary(
    fields: dict[str, str], status: TrackingStatus, hard: bool, reason: str | None
) -> None:
    # Given a status callback with the notification id from the callback URL's query
    params = PARAMS | {"notification_id": "ntf-0002"} | fields

    # When it is parsed
    parsed = parse_twilio_status(params)

    # Then it maps to the shared status and keeps the ids
    assert parsed == TrackingEvent(
        provider="twilio",
        status=status,
        notification_id="ntf-0002",
        provider_message_id="SM" + "a" * 32,
        recipient="+31612345678",
        timestamp=None,
        reason=reason,
        hard=hard,
    )


def test_without_the_query_the_notification_id_is_none() -> None:
    # Given only the form fields, When parsed, Then the sid is the only link back
    parsed = parse_twilio_status(PARAMS)
    assert parsed.notification_id is None
    assert parsed.provider_message_id == PARAMS["MessageSid"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"MessageStatus": "sent"},
        {"MessageSid": "SM1"},
        {"MessageSid": "SM1", "MessageStatus": ""},
        {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "thirty"},
    ],
    ids=["empty", "no-sid", "no-status", "blank-status", "error-code-not-a-number"],
)
def test_malformed_callbacks_are_refused(params: dict[str, str]) -> None:
    # Given a callback lacking what identifies it, When parsed, Then it is refused
    with pytest.raises(MalformedCallbackError):
        parse_twilio_status(params)
