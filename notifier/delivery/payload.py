"""The payload of a notification: the data its templates read, and its webhook body.

A notification an event caused reads the return's snapshot merged with that event (the
event wins: it is what the message is about); one a rule planned reads the data it was
planned with. A webhook body is the CONTRACT section 6 envelope around that data
(:func:`webhook_envelope`, which also builds it for a sample, which has no stored row); a
status hook's body is what it was written with (:mod:`notifier.delivery.status_hooks`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from notifier.delivery.status_hooks import is_status_hook, status_body
from notifier.records import NotificationRecord
from notifier.snapshot import merge_snapshot


def template_data(
    row: NotificationRecord, snapshot: Mapping[str, Any] | None, event: Mapping[str, Any] | None
) -> tuple[dict[str, Any], str]:
    """The data a notification's templates read, and the moment it tells of.

    Args:
        row: The ``notifications`` row.
        snapshot: The return's snapshot now, or None if the return is unknown.
        event: The payload of the event that caused it, or None for a rule's notification.

    Returns:
        The data, and the ISO moment of the event (or of planning, for a rule's).
    """
    if event is None:
        return dict(row.data or snapshot or {}), row.created_at.isoformat()
    return merge_snapshot(snapshot, event, newer=True), event["occurred_at"]


def webhook_body(
    row: NotificationRecord,
    data: Mapping[str, Any],
    occurred: str,
    message: Mapping[str, str] | None,
) -> bytes:
    """The CONTRACT section 6 body; ``id`` is the notification id, stable across retries.

    A status hook (``notification.*``) carries what it was written with instead.

    Args:
        row: The ``notifications`` row.
        data: Its template data (see :func:`template_data`).
        occurred: The moment it tells of.
        message: The rendered ``subject`` and ``text``, or None for a kind without one.
    """
    if is_status_hook(row.kind):
        told = status_body(row.id, row.kind, row.data or {})
        return json.dumps(told, ensure_ascii=False).encode()
    body = webhook_envelope(
        row.id,
        row.kind,
        data,
        occurred,
        message,
        return_id=row.return_id,
        customer_id=row.customer_id,
        locale=row.locale,
    )
    return json.dumps(body, ensure_ascii=False).encode()


def webhook_envelope(
    notification_id: str,
    kind: str,
    data: Mapping[str, Any],
    occurred: str,
    message: Mapping[str, str] | None,
    *,
    return_id: str,
    customer_id: str,
    locale: str,
) -> dict[str, Any]:
    """The CONTRACT section 6 body as a JSON object, for a stored notification or a sample.

    Args:
        notification_id: The notification's id (``id``), stable across retries.
        kind: The message kind (``type``).
        data: The template data; its ``type`` is the return's status, its ``return`` holds
            the order id.
        occurred: The moment it tells of (``timestamp``).
        message: The rendered ``subject`` and ``text``, or None for a kind without one.
        return_id: The return's id.
        customer_id: The customer's id.
        locale: The locale the message is rendered in.
    """
    return {
        "id": notification_id,
        "type": kind,
        "timestamp": occurred,
        "data": {
            "return_id": return_id,
            "order_id": (data.get("return") or {}).get("order_id"),
            "status": data.get("type"),
            "locale": locale,
            "message": dict(message) if message is not None else None,
            "customer_id": customer_id,
        },
    }
