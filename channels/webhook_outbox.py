"""The development outbox for webhooks: one JSON line per delivery in ``directory/webhooks.jsonl``.

Each line is ``{"id", "url", "timestamp", "signature", "body", "at"}``: what
``WebhookChannel`` would have posted, with the ``webhook-signature`` it would
have sent, and the body parsed back to JSON when it is JSON. Nothing goes over
the network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from channels.base import SendResult, WebhookMessage
from channels.outbox_file import JsonLinesFile, ensure_directory, utc_now_text
from channels.webhook import sign_webhook

__all__ = ["OutboxWebhookChannel"]

#: The file, inside the outbox directory, that gets the deliveries.
FILE_NAME = "webhooks.jsonl"


class OutboxWebhookChannel:
    """Appends ``WebhookMessage`` values to ``directory/webhooks.jsonl``.

    Args:
        directory: Where the file goes; created if missing.

    Raises:
        ChannelConfigurationError: The directory cannot be created.
    """

    name = "webhook"
    provider = "outbox"

    def __init__(self, directory: Path):
        self.directory = ensure_directory(Path(directory))
        self._file = JsonLinesFile(self.directory / FILE_NAME)

    @property
    def path(self) -> Path:
        """The JSON lines file."""
        return self._file.path

    def send(self, message: WebhookMessage) -> SendResult:
        """Append one delivery; the provider message id is the webhook id.

        Raises:
            ChannelConfigurationError: The secret is not a valid ``whsec_`` secret.
            TransientChannelError: The file could not be written.
        """
        record = {
            "id": message.id,
            "url": message.url,
            "timestamp": message.timestamp,
            "signature": sign_webhook(message.secret, message.id, message.timestamp, message.body),
            "body": _body(message.body),
            "at": utc_now_text(),
        }
        self._file.append(record)
        return SendResult(provider=self.provider, provider_message_id=message.id)


def _body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
