"""SendGrid's signed Event Webhook: signature checks with a key made here, and event parsing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from channels.email_sendgrid import parse_sendgrid_events, verify_sendgrid_signature
from channels.errors import ChannelConfigurationError, MalformedCallbackError, SignatureError
from channels.tracking import TrackingEvent, TrackingStatus

NOW = 1_790_000_000
PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_DER = PRIVATE_KEY.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
PUBLIC_KEY_B64 = base64.b64encode(PUBLIC_DER).decode()
PAYLOAD = b'[{"email":"sanne@example.nl","event":"delivered"}]'


def sign(payload: bytes, timestamp: str, key: ec.EllipticCurvePrivateKey = PRIVATE_KEY) -> str:
    signature = key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


def test_a_valid_signature_passes() -> None:
    # Given a payload signed as SendGrid signs it
    signature = sign(PAYLOAD, str(NOW))

    # When it is verified, Then nothing is raised
    verify_sendgrid_signature(PUBLIC_KEY_B64, PAYLOAD, signature, str(NOW), now=NOW)


def test_a_pem_public_key_is_accepted_too() -> None:
    # Given the same key in PEM form
    pem = PRIVATE_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)

    # When a valid signature is verified with it, Then nothing is raised
    verify_sendgrid_signature(pem.decode(), PAYLOAD, sign(PAYLOAD, str(NOW)), str(NOW), now=NOW)


OTHER_KEY = ec.generate_private_key(ec.SECP256R1())

#: (signature, timestamp) headers -> why they are refused.
REFUSALS: list[Any] = [
    pytest.param(None, str(NOW), "missing", id="no-signature"),
    pytest.param(sign(PAYLOAD, str(NOW)), None, "missing", id="no-timestamp"),
    pytest.param("", "", "missing", id="empty-headers"),
    pytest.param("%%%not-base64%%%", str(NOW), "base64", id="malformed-base64"),
    pytest.param(base64.b64encode(b"junk").decode(), str(NOW), "does not match", id="not-der"),
    pytest.param(sign(PAYLOAD, str(NOW), OTHER_KEY), str(NOW), "does not match", id="wrong-key"),
    pytest.param(sign(PAYLOAD + b" ", str(NOW)), str(NOW), "does not match", id="other-payload"),
    pytest.param(sign(PAYLOAD, str(NOW - 1)), str(NOW), "does not match", id="other-timestamp"),
    pytest.param(sign(PAYLOAD, str(NOW - 301)), str(NOW - 301), "off", id="stale"),
    pytest.param(sign(PAYLOAD, str(NOW + 301)), str(NOW + 301), "off", id="future"),
    pytest.param(sign(PAYLOAD, "soon"), "soon", "Unix seconds", id="timestamp-not-a-number"),
]


@pytest.mark.parametrize(("signature", "timestamp", "why"), REFUSALS)
def test_bad_signatures_are_refused(signature: str | None, timestamp: str | None, why: str) -> None:
    # Given headers that are missing, malformed, stale or signed otherwise
    # When they are verified, Then a SignatureError says why
    with pytest.raises(SignatureError, match=why):
        verify_sendgrid_signature(PUBLIC_KEY_B64, PAYLOAD, signature, timestamp, now=NOW)


def test_an_unreadable_public_key_is_a_configuration_error() -> None:
    # Given a public key setting that is not a key, When a request is verified
    # Then the operator is told, not the caller
    with pytest.raises(ChannelConfigurationError, match="public key"):
        verify_sendgrid_signature(
            "bm90IGEga2V5", PAYLOAD, sign(PAYLOAD, str(NOW)), str(NOW), now=NOW
        )


def event(**fields: Any) -> dict[str, Any]:
    base = {
        "email": "sanne@example.nl",
        "timestamp": NOW,
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "sg_event_id": "e1",
        "notification_id": "ntf-0001",
    }
    return base | fields


#: SendGrid event -> (status, hard, reason).
EVENTS: list[Any] = [
    pytest.param(event(event="processed"), TrackingStatus.QUEUED, False, None, id="processed"),
    pytest.param(
        event(event="delivered", response="250 OK"),
        TrackingStatus.DELIVERED,
        False,
        "250 OK",
        id="delivered",
    ),
    pytest.param(
        event(event="deferred", response="450 try later"),
        TrackingStatus.DEFERRED,
        False,
        "450 try later",
        id="deferred",
    ),
    pytest.param(
        event(event="bounce", type="bounce", reason="550 no such user"),
        TrackingStatus.BOUNCED,
        True,
        "550 no such user",
        id="hard-bounce",
    ),
    pytest.param(
        event(event="bounce", type="blocked", reason="550 blocked"),
        TrackingStatus.BOUNCED,
        False,
        "550 blocked",
        id="blocked-is-soft",
    ),
    pytest.param(
        event(event="dropped", reason="Bounced Address"),
        TrackingStatus.FAILED,
        True,
        "Bounced Address",
        id="dropped",
    ),
    pytest.param(event(event="spamreport"), TrackingStatus.COMPLAINED, False, None, id="spam"),
    pytest.param(event(event="unsubscribe"), TrackingStatus.UNSUBSCRIBED, False, None, id="unsub"),
    pytest.param(
        event(event="group_unsubscribe"), TrackingStatus.UNSUBSCRIBED, False, None, id="group-unsub"
    ),
    pytest.param(event(event="open"), TrackingStatus.OPENED, False, None, id="open"),
    pytest.param(
        event(event="click", url="https://x"), TrackingStatus.CLICKED, False, None, id="click"
    ),
    pytest.param(
        event(event="group_resubscribe"), TrackingStatus.UNKNOWN, False, None, id="unknown"
    ),
]


@pytest.mark.parametrize(("item", "status", "hard", "reason"), EVENTS)
def test_events_map_to_the_shared_vocabulary(
    item: dict[str, Any], status: TrackingStatus, hard: bool, reason: str | None
) -> None:
    # Given an Event Webhook body with one event
    payload = json.dumps([item]).encode()

    # When it is parsed
    (parsed,) = parse_sendgrid_events(payload)

    # Then it maps to the shared status, with the ids SendGrid carried back
    assert parsed == TrackingEvent(
        provider="sendgrid",
        status=status,
        notification_id="ntf-0001",
        provider_message_id="14c5d75ce93",
        recipient="sanne@example.nl",
        timestamp=datetime.fromtimestamp(NOW, tz=UTC),
        reason=reason,
        hard=hard,
    )


def test_events_without_optional_fields_parse_to_nones() -> None:
    # Given a bare event, When it is parsed, Then the missing fields are None
    (parsed,) = parse_sendgrid_events(b'[{"event": "open"}]')
    assert (parsed.notification_id, parsed.provider_message_id, parsed.timestamp) == (None,) * 3


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b'{"event": "open"}',
        b"[1, 2]",
        b'[{"email": "a@b"}]',
        b'[{"event": 5}]',
        b'[{"event": "open", "timestamp": "yesterday"}]',
        b'[{"event": "open", "timestamp": 1e300}]',
    ],
    ids=[
        "empty",
        "text",
        "not-utf8",
        "object",
        "numbers",
        "no-event",
        "event-not-text",
        "timestamp-text",
        "timestamp-huge",
    ],
)
def test_malformed_bodies_are_refused(payload: bytes) -> None:
    # Given a body that is not a JSON array of events, When it is parsed, Then it is refused
    with pytest.raises(MalformedCallbackError):
        parse_sendgrid_events(payload)
