"""SendGrid's signed Event Webhook: checking its signature and reading its events.

SendGrid posts a JSON array of events (``processed``, ``delivered``, ``bounce``,
...) and signs each request with ECDSA P-256; see
https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
and https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event

The events are mapped to the shared vocabulary of ``channels.tracking``. The
notification id comes back in the ``notification_id`` custom arg that
``SendGridEmailChannel`` sets on every mail.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from channels.errors import ChannelConfigurationError, MalformedCallbackError, SignatureError
from channels.tracking import TrackingEvent, TrackingStatus

__all__ = [
    "NOTIFICATION_ID_ARG",
    "check_sendgrid_headers",
    "parse_sendgrid_events",
    "verify_sendgrid_signature",
]

#: The custom arg that carries the notification id into SendGrid's events.
NOTIFICATION_ID_ARG = "notification_id"

#: SendGrid event name -> normalized status. Bounces are split by their ``type`` below.
_EVENT_STATUS: Mapping[str, TrackingStatus] = {
    "processed": TrackingStatus.QUEUED,
    "delivered": TrackingStatus.DELIVERED,
    "deferred": TrackingStatus.DEFERRED,
    "bounce": TrackingStatus.BOUNCED,
    "dropped": TrackingStatus.FAILED,
    "spamreport": TrackingStatus.COMPLAINED,
    "unsubscribe": TrackingStatus.UNSUBSCRIBED,
    "group_unsubscribe": TrackingStatus.UNSUBSCRIBED,
    "open": TrackingStatus.OPENED,
    "click": TrackingStatus.CLICKED,
}


def verify_sendgrid_signature(
    public_key_b64: str,
    payload: bytes,
    signature_b64: str | None,
    timestamp: str | None,
    *,
    now: float | None = None,
    tolerance: int = 300,
) -> None:
    """Check a Signed Event Webhook request.

    SendGrid signs ``timestamp + payload`` with ECDSA P-256 and SHA-256 and sends
    the base64 DER signature and the Unix timestamp in the headers
    ``X-Twilio-Email-Event-Webhook-Signature`` and ``X-Twilio-Email-Event-Webhook-Timestamp``.

    Args:
        public_key_b64: The verification key from SendGrid's settings: base64
            DER, or PEM.
        payload: The raw request body, exactly as received.
        signature_b64: The signature header's value, or None if absent.
        timestamp: The timestamp header's value, or None if absent.
        now: The current Unix time, for tests; defaults to the clock.
        tolerance: Largest accepted distance, in seconds, between the timestamp and now.

    Raises:
        SignatureError: A header is missing or malformed, the timestamp is too
            far from now, or the signature does not match.
        ChannelConfigurationError: The public key itself cannot be read.
    """
    signature = check_sendgrid_headers(signature_b64, timestamp, now=now, tolerance=tolerance)
    signed = (timestamp or "").encode("ascii") + payload
    key = _load_public_key(public_key_b64)
    try:
        key.verify(signature, signed, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise SignatureError("the SendGrid signature does not match the payload") from None


def check_sendgrid_headers(
    signature_b64: str | None,
    timestamp: str | None,
    *,
    now: float | None = None,
    tolerance: int = 300,
) -> bytes:
    """Check the signature headers alone, before the body is read.

    A request without them, or with a stale timestamp or a signature that is not base64,
    cannot be genuine: it is refused without reading a byte of its body.

    Args:
        signature_b64: The signature header's value, or None if absent.
        timestamp: The timestamp header's value, or None if absent.
        now: The current Unix time, for tests; defaults to the clock.
        tolerance: Largest accepted distance, in seconds, between the timestamp and now.

    Returns:
        The signature, decoded.

    Raises:
        SignatureError: A header is missing or malformed, or the timestamp is too far
            from now.
    """
    if not signature_b64 or not timestamp:
        raise SignatureError("the SendGrid signature or timestamp header is missing")
    if not (timestamp.isascii() and timestamp.strip().isdigit()):
        raise SignatureError(f"the SendGrid timestamp is not Unix seconds: {timestamp!r}")
    signed_at = int(timestamp.strip())
    current = time.time() if now is None else now
    if abs(current - signed_at) > tolerance:
        raise SignatureError(f"the SendGrid timestamp {signed_at} is more than {tolerance}s off")
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except ValueError:
        raise SignatureError("the SendGrid signature is not valid base64") from None
    return signature


def _load_public_key(public_key: str) -> ec.EllipticCurvePublicKey:
    text = public_key.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode("ascii"))
        else:
            key = load_der_public_key(base64.b64decode(text, validate=True))
    except ValueError as error:
        raise ChannelConfigurationError(
            f"the SendGrid webhook public key cannot be read ({error}); copy it again from "
            "SendGrid's Mail Settings, Signed Event Webhook"
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ChannelConfigurationError("the SendGrid webhook public key is not an EC key")
    return key


def parse_sendgrid_events(payload: bytes) -> list[TrackingEvent]:
    """Map an Event Webhook body (a JSON array of events) to tracking events.

    Unknown event names give ``TrackingStatus.UNKNOWN``. ``hard`` is True for a
    bounce of type ``bounce`` and for ``dropped``; a ``blocked`` bounce is soft.

    Args:
        payload: The raw request body.

    Returns:
        One ``TrackingEvent`` per event, in the order received.

    Raises:
        MalformedCallbackError: The body is not a JSON array of event objects.
    """
    try:
        events = json.loads(payload)
    except RecursionError:
        raise MalformedCallbackError("the SendGrid event body is nested too deep") from None
    except ValueError:  # not JSON, not UTF-8, or a number past the integer digit limit
        raise MalformedCallbackError("the SendGrid event body is not JSON") from None
    if not isinstance(events, list):
        raise MalformedCallbackError("the SendGrid event body is not a JSON array")
    return [_event(item, index) for index, item in enumerate(events)]


def _event(item: object, index: int) -> TrackingEvent:
    if not isinstance(item, dict) or not isinstance(item.get("event"), str):
        raise MalformedCallbackError(f"SendGrid event {index} is not an object with an 'event'")
    name = item["event"]
    status = _EVENT_STATUS.get(name, TrackingStatus.UNKNOWN)
    hard = name == "dropped" or (name == "bounce" and item.get("type", "bounce") == "bounce")
    reason = item.get("reason") or item.get("response")
    return TrackingEvent(
        provider="sendgrid",
        status=status,
        notification_id=_optional_text(item.get(NOTIFICATION_ID_ARG)),
        provider_message_id=_message_id(item.get("sg_message_id")),
        recipient=_optional_text(item.get("email")),
        timestamp=_timestamp(item.get("timestamp"), index),
        reason=_optional_text(reason),
        hard=hard,
    )


def _message_id(value: object) -> str | None:
    """``X-Message-Id`` is the part of ``sg_message_id`` before the first dot."""
    text = _optional_text(value)
    return text.split(".", 1)[0] if text else None


def _timestamp(value: object, index: int) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedCallbackError(f"SendGrid event {index} has a non-numeric timestamp")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedCallbackError(
            f"SendGrid event {index} has an impossible timestamp"
        ) from None


def _optional_text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
