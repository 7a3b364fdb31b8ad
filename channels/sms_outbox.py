"""The development outbox for SMS: one JSON line per message in ``directory/sms.jsonl``.

Each line is ``{"id", "to", "text", "at"}`` with ``at`` the UTC time of writing.
Safe for several threads sending at once.
"""

from __future__ import annotations

from pathlib import Path

from channels.base import SendResult, SmsMessage
from channels.outbox_file import JsonLinesFile, ensure_directory, utc_now_text

__all__ = ["OutboxSmsChannel"]

#: The file, inside the outbox directory, that gets the messages.
FILE_NAME = "sms.jsonl"


class OutboxSmsChannel:
    """Appends ``SmsMessage`` values to ``directory/sms.jsonl``.

    Args:
        directory: Where the file goes; created if missing.

    Raises:
        ChannelConfigurationError: The directory cannot be created.
    """

    name = "sms"
    provider = "outbox"

    def __init__(self, directory: Path):
        self.directory = ensure_directory(Path(directory))
        self._file = JsonLinesFile(self.directory / FILE_NAME)

    @property
    def path(self) -> Path:
        """The JSON lines file."""
        return self._file.path

    def send(self, message: SmsMessage) -> SendResult:
        """Append one message; the provider message id is the notification id.

        Raises:
            TransientChannelError: The file could not be written.
        """
        record = {"id": message.id, "to": message.to, "text": message.text, "at": utc_now_text()}
        self._file.append(record)
        return SendResult(provider=self.provider, provider_message_id=message.id)
