"""The development outbox for email: each message as an RFC 5322 ``.eml`` file.

Used when no email provider is configured. ``directory/<id>.eml`` opens in any
mail client; an email with an HTML part is ``multipart/alternative`` with the
plain text first, and one with attachments is ``multipart/mixed`` with the message
first and each file after it as an attachment part. Sending the same notification
again overwrites its file, so retries leave one file per notification.
"""

from __future__ import annotations

import email.message
import email.policy
import email.utils
from pathlib import Path

from channels.base import EmailAttachment, EmailMessage, SendResult
from channels.outbox_file import ensure_directory, file_name_for, write_atomically

__all__ = ["OutboxEmailChannel"]


class OutboxEmailChannel:
    """Writes ``EmailMessage`` values to ``directory/<id>.eml``.

    Args:
        directory: Where the files go; created if missing.

    Raises:
        ChannelConfigurationError: The directory cannot be created.
    """

    name = "email"
    provider = "outbox"

    def __init__(self, directory: Path):
        self.directory = ensure_directory(Path(directory))

    def send(self, message: EmailMessage) -> SendResult:
        """Write one email; the provider message id is the notification id.

        Raises:
            PermanentChannelError: The id cannot be a file name.
            TransientChannelError: The file could not be written.
        """
        path = self.directory / file_name_for(message.id, ".eml")
        write_atomically(path, _rfc5322(message).as_bytes(policy=email.policy.SMTPUTF8))
        return SendResult(provider=self.provider, provider_message_id=message.id)


def _rfc5322(message: EmailMessage) -> email.message.EmailMessage:
    mail = email.message.EmailMessage()
    mail["From"] = message.sender
    mail["To"] = message.to
    if message.reply_to:
        mail["Reply-To"] = message.reply_to
    mail["Subject"] = message.subject
    mail["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = f"<{message.id}@outbox.invalid>"
    mail["X-Notification-Id"] = message.id
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
    for item in message.attachments:
        _attach(mail, item)
    return mail


def _attach(mail: email.message.EmailMessage, item: EmailAttachment) -> None:
    """Add ``item`` as a base64 attachment part, its type's parameters kept (and its name
    among them, for mail clients that look for it there)."""
    header = email.message.Message()
    header["Content-Type"] = item.content_type
    params = dict(header.get_params(failobj=[])[1:]) | {"name": item.filename}
    mail.add_attachment(
        item.content,
        header.get_content_maintype(),
        header.get_content_subtype(),
        filename=item.filename,
        params=params,
    )
