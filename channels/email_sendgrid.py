"""Email through SendGrid's v3 Mail Send API, with the official ``sendgrid`` SDK.

``SendGridAPIClient`` is built with a configurable host, so tests and staging
can point it at a loopback stand-in. The SDK builds every request (URL, headers
with the key, the JSON body; attachments base64-encoded with its ``Attachment`` helpers);
only its transport is replaced: instead of a new ``urllib`` connection per email (and a TLS
handshake with SendGrid each time), the request travels over the sending thread's
kept-alive connection (``channels.keepalive``). How answers are classified:

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
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

import python_http_client.exceptions
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
        self._client = sendgrid.SendGridAPIClient(api_key, host=base_url.rstrip("/"))
        self._client.client.timeout = timeout
        self._connections = ThreadConnections(timeout=timeout)
        # The endpoint ``SendGridAPIClient.send`` posts to, built once. The library hands
        # each request it built to the endpoint's ``_make_request`` (its seam for changing
        # how requests travel, which answers as urllib does); that sends it over the
        # thread's kept-alive connection instead of opening a new one.
        self._mail_send = self._client.client.mail.send
        self._mail_send._make_request = self._make_request

    def _make_request(
        self, opener: Any, request: urllib.request.Request, timeout: float | None = None
    ) -> Any:
        """``python_http_client.Client._make_request`` over a kept-alive connection: the
        answer as urllib gives it, a refusal as the library's ``HTTPError`` for it."""
        try:
            return self._connections.urlopen(opener, request, timeout)
        except urllib.error.HTTPError as error:
            raise python_http_client.exceptions.handle_error(error) from None

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
            response = self._mail_send.post(request_body=_mail_body(message))
        except python_http_client.exceptions.HTTPError as error:
            raise _classify(error.status_code, error.body, _header_dict(error.headers)) from None
        except (OSError, http.client.HTTPException) as error:
            raise classify(None, f"could not be reached: {error}", provider=PROVIDER) from error
        headers = _header_dict(response.headers)
        status = int(response.status_code)
        if not 200 <= status < 300:
            raise _classify(status, response.body, headers)
        return SendResult(provider=self.provider, provider_message_id=headers.get("x-message-id"))


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
    name, email = parseaddr(value)
    if not email:
        email = value
    return {"email": email, "name": name} if name else {"email": email}


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
