"""Twilio's message status callbacks: checking their signature and reading them.

Twilio posts a form (``MessageSid``, ``MessageStatus``, ``ErrorCode``, ``To``,
...) to the ``StatusCallback`` URL each time a message changes status, signed
with the account's auth token in ``X-Twilio-Signature``; see
https://www.twilio.com/docs/messaging/guides/track-outbound-message-status and
https://www.twilio.com/docs/usage/webhooks/webhooks-security

``TwilioSmsChannel`` adds ``notification_id=<id>`` to the callback URL's query.
Callers that pass the query parameters along with the form fields get it back
in ``TrackingEvent.notification_id``; otherwise match on ``MessageSid``.
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

from channels.errors import MalformedCallbackError, SignatureError
from channels.tracking import TrackingEvent, TrackingStatus

__all__ = [
    "HARD_FAILURE_CODES",
    "NOTIFICATION_ID_PARAM",
    "OPT_OUT_CODE",
    "parse_twilio_status",
    "verify_twilio_signature",
]

#: Query parameter of the status callback URL that carries the notification id.
NOTIFICATION_ID_PARAM = "notification_id"

#: Twilio's error code for a recipient who replied STOP.
OPT_OUT_CODE = 21610

#: Error codes that mean this number will never receive our messages
#: (https://www.twilio.com/docs/api/errors): invalid number (21211), region not
#: enabled (21408), opted out (21610), not a mobile number (21614), blocked
#: (30004), unknown handset (30005), landline or unreachable carrier (30006).
#: Carrier filtering (30007), unreachable handset (30003) and unknown errors
#: (30008) may pass on a later message, so they are soft.
HARD_FAILURE_CODES = frozenset({21211, 21408, 21610, 21614, 30004, 30005, 30006})

#: Twilio's ``MessageStatus`` -> normalized status.
_STATUS: Mapping[str, TrackingStatus] = {
    "accepted": TrackingStatus.QUEUED,
    "scheduled": TrackingStatus.QUEUED,
    "queued": TrackingStatus.QUEUED,
    "sending": TrackingStatus.SENT,
    "sent": TrackingStatus.SENT,
    "delivered": TrackingStatus.DELIVERED,
    "undelivered": TrackingStatus.FAILED,
    "failed": TrackingStatus.FAILED,
    "canceled": TrackingStatus.FAILED,
    "read": TrackingStatus.OPENED,
}


def verify_twilio_signature(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> None:
    """Check ``X-Twilio-Signature`` with the SDK's ``RequestValidator``.

    Args:
        auth_token: The account's auth token.
        url: The full URL Twilio requested, query included, exactly as Twilio
            saw it (mind proxies that change the scheme or host).
        params: The POSTed form fields.
        signature: The header's value, or None if absent.

    Raises:
        SignatureError: The header is missing or does not match.
    """
    if not signature:
        raise SignatureError("the X-Twilio-Signature header is missing")
    if not RequestValidator(auth_token).validate(url, dict(params), signature):
        raise SignatureError("the X-Twilio-Signature header does not match the request")


def parse_twilio_status(params: Mapping[str, str]) -> TrackingEvent:
    """Map a status callback's fields to a tracking event.

    Args:
        params: The form fields (and, optionally, the URL's query parameters).

    Returns:
        The event; unknown statuses give ``TrackingStatus.UNKNOWN``.

    Raises:
        MalformedCallbackError: ``MessageSid`` or ``MessageStatus`` is missing,
            or ``ErrorCode`` is not a number.
    """
    sid = params.get("MessageSid") or params.get("SmsSid")
    raw_status = params.get("MessageStatus") or params.get("SmsStatus")
    if not sid or not raw_status:
        raise MalformedCallbackError("a Twilio status callback needs MessageSid and MessageStatus")
    code = _error_code(params.get("ErrorCode"))
    status = _STATUS.get(raw_status.strip().lower(), TrackingStatus.UNKNOWN)
    return TrackingEvent(
        provider="twilio",
        status=status,
        notification_id=params.get(NOTIFICATION_ID_PARAM) or None,
        provider_message_id=sid,
        recipient=params.get("To") or None,
        timestamp=None,  # Twilio's status callbacks carry no event time
        reason=_reason(code, params.get("ErrorMessage")),
        hard=status is TrackingStatus.FAILED and code in HARD_FAILURE_CODES,
    )


def _error_code(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise MalformedCallbackError(f"Twilio's ErrorCode is not a number: {value!r}") from None


def _reason(code: int | None, message: str | None) -> str | None:
    if code is None:
        return message or None
    return f"{code}: {message}" if message else str(code)
