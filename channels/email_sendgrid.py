"""Email through SendGrid's v3 Mail Send API, with the official ``sendgrid`` SDK.

``SendGridAPIClient`` is built with a configurable host, so tests and staging
can point it at a loopback stand-in. The SDK gives the request its URL and headers (the
key, its ``User-Agent``), read from it once, and attachments are built with its mail
helpers (``Attachment``); the request itself is sent here, over the sending thread's
kept-alive connection (``channels.keepalive``), rather than through the SDK's
``http_request``, which for every email built a ``urllib`` opener it does not need here
(with a look at the environment's proxy variables), encoded the JSON with the standard
library and formatted the whole body into a debug log line even with debug logging off:
a third of a millisecond per email, as much as sending it. How answers are classified:

=========================================  ==========================================
SendGrid's answer                          outcome
=========================================  ==========================================
2xx (202 Accepted)                         ``SendResult`` with ``X-Message-Id``
429                                        transient; wait ``Retry-After`` or until
                                           ``X-RateLimit-Reset``
5xx                                        transient; wait ``Retry-After`` when sent
timeout, connection error                  transient
401, 403                                   permanent, with SendGrid's message
other 4xx                                  permanent, with SendGrid's message
=========================================  ==========================================

The rule itself is ``channels.answers.classify``, shared by every channel.

401 and 403 mean a bad or under-privileged API key. They are reported as
``PermanentChannelError`` (not ``ChannelConfigurationError``) because they are
only known once a message is sent: the notification is failed with SendGrid's
reason, which names the key problem, and nothing is retried with the same key.

Inbound callbacks live beside the sender, in ``channels.email_sendgrid_events``,
and are re-exported here: ``verify_sendgrid_signature`` checks the Signed Event
Webhook and ``parse_sendgrid_events`` maps its events to ``TrackingEvent`` values.
"""

from __future__ import annotations

import base64
import functools
import http.client
import json
import logging
import re
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

import orjson
import sendgrid
from sendgrid.helpers.mail import Attachment, Disposition, FileContent, FileName, FileType

from channels.answers import classify
from channels.base import EmailAttachment, EmailMessage, SendResult
from channels.email_sendgrid_events import (
    NOTIFICATION_ID_ARG,
    parse_sendgrid_events,
    verify_sendgrid_signature,
)
from channels.errors import ChannelConfigurationError, PermanentChannelError, TransientChannelError
from channels.keepalive import ThreadConnections
from channels.retry_after import parse_retry_after, retry_after_from_headers

__all__ = ["SendGridEmailChannel", "parse_sendgrid_events", "verify_sendgrid_signature"]

log = logging.getLogger(__name__)

#: SendGrid's production API host.
DEFAULT_BASE_URL = "https://api.sendgrid.com"

#: SendGrid's name at the start of a transient error's message.
PROVIDER = "SendGrid"


class SendGridEmailChannel:
    """Sends ``EmailMessage`` values through SendGrid.

    Args:
        api_key: A SendGrid API key with the Mail Send permission.
        base_url: The API host, without the ``/v3`` path.
        timeout: Seconds to wait for SendGrid to connect and answer.

    Raises:
        ChannelConfigurationError: The key is empty or the base URL is not http(s).
    """

    name = "email"
    provider = "sendgrid"

    def __init__(self, api_key: str, *, base_url: str = DEFAULT_BASE_URL, timeout: float = 10.0):
        if not api_key.strip():
            raise ChannelConfigurationError("the SendGrid API key is empty; set a Mail Send key")
        if not base_url.startswith(("https://", "http://")):
            raise ChannelConfigurationError(
                f"the SendGrid base URL must start with https:// or http://, got {base_url!r}"
            )
        client = sendgrid.SendGridAPIClient(api_key, host=base_url.rstrip("/")).client
        self._connections = ThreadConnections(timeout=timeout)
        # The endpoint ``SendGridAPIClient.send`` posts to, and the headers the SDK sends
        # with a JSON body, named as urllib names them (as they went when the SDK sent them).
        self._url: str = client.mail.send._build_url(None)
        headers = {**client.request_headers, "Content-Type": "application/json"}
        self._headers = {name.capitalize(): str(value) for name, value in headers.items()}

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._connections.close()

    def send(self, message: EmailMessage) -> SendResult:
        """Send one email; see the module docstring for how failures are classified.

        Raises:
            TransientChannelError: 429, 5xx, timeout or connection failure.
            PermanentChannelError: Any other refusal, with SendGrid's reason.
        """
        try:
            answer = self._connections.request(
                "POST", self._url, _json(_mail_body(message)), self._headers
            )
        except (OSError, http.client.HTTPException) as error:
            raise classify(None, f"could not be reached: {error}", provider=PROVIDER) from error
        log.debug("POST %s: %d", self._url, answer.status)
        headers = _header_dict(answer.headers)
        if not 200 <= answer.status < 300:
            raise _classify(answer.status, answer.body, headers)
        return SendResult(provider=self.provider, provider_message_id=headers.get("x-message-id"))


def _json(body: dict[str, Any]) -> bytes:
    """The mail as JSON in UTF-8: with orjson (a tenth of the standard library's time for a
    30 kB email), or, for text orjson refuses (a lone surrogate), as the SDK encoded it."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body).encode()


def _mail_body(message: EmailMessage) -> dict[str, Any]:
    content = [{"type": "text/plain", "value": message.text}]
    if message.html is not None:
        content.append({"type": "text/html", "value": message.html})
    body: dict[str, Any] = {
        "personalizations": [{"to": [_address(message.to)]}],
        "from": _address(message.sender),
        "subject": message.subject,
        "content": content,
        "custom_args": {NOTIFICATION_ID_ARG: message.id},
        # Set per message, so the account's own setting cannot turn it on: click tracking
        # rewrites every link into a redirect through SendGrid
        # (https://www.twilio.com/docs/sendgrid/ui/account-and-settings/tracking).
        "tracking_settings": {
            "click_tracking": {
                "enable": message.click_tracking,
                "enable_text": message.click_tracking,
            }
        },
    }
    if message.reply_to:
        body["reply_to"] = _address(message.reply_to)
    if message.attachments:
        body["attachments"] = [_attachment(item) for item in message.attachments]
    return body


def _attachment(item: EmailAttachment) -> dict[str, str]:
    # SendGrid refuses a type with parameters ("The attachment type cannot contain ';', or
    # CRLF characters", https://github.com/sendgrid/sendgrid-php/issues/250) and sets the
    # charset itself, so it gets the bare MIME type; an .ics file names its method inside.
    mime_type = item.content_type.split(";", 1)[0].strip()
    attachment = Attachment(
        FileContent(base64.b64encode(item.content).decode("ascii")),
        FileName(item.filename),
        FileType(mime_type),
        Disposition("attachment"),
    )
    return dict(attachment.get())


def _address(value: str) -> dict[str, str]:
    if _BARE.fullmatch(value):  # a recipient, as a rule: parsing would give it back alone
        return {"email": value}
    name, email = _parsed(value)
    if not email:
        email = value
    return {"email": email, "name": name} if name else {"email": email}


#: An address without a name: none of the characters that begin a name, a comment, a quoted
#: string, a group or a route, which ``parseaddr`` (some 10 µs) returns as it is.
_BARE = re.compile(r'[^\s<>()",;:\\\[\]]+')
#: An address parsed once: the sender and the reply-to address are the same on every email,
#: and ``parseaddr`` takes some 10 µs.
_parsed = functools.lru_cache(maxsize=256)(parseaddr)


def _header_dict(headers: Any) -> dict[str, str]:
    if headers is None:
        return {}
    return {str(name).lower(): str(value) for name, value in headers.items()}


def _classify(
    status: int, body: bytes | None, headers: Mapping[str, str]
) -> TransientChannelError | PermanentChannelError:
    if status == 429:
        retry_after = retry_after_from_headers(headers)
    else:
        # SendGrid sends X-RateLimit-Reset with every answer, not only when it limits, so it
        # is a wait only on a 429 (https://www.twilio.com/docs/sendgrid/api-reference/
        # how-to-use-the-sendgrid-v3-api/rate-limits).
        retry_after = parse_retry_after(headers.get("retry-after"))
    return classify(status, _reason(status, body), provider=PROVIDER, retry_after=retry_after)


def _reason(status: int, body: bytes | None) -> str:
    """SendGrid's ``errors[].message`` texts, joined; the raw body if it is not that JSON."""
    text = (body or b"").decode("utf-8", "replace").strip()
    try:
        errors = json.loads(text)["errors"]
        messages = [str(item["message"]) for item in errors if item.get("message")]
    except (ValueError, KeyError, TypeError, AttributeError):
        messages = []
    if messages:
        return "; ".join(messages)
    return f"HTTP {status}: {text[:200]}" if text else f"HTTP {status}"
