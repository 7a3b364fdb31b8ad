"""A loopback stand-in for SendGrid's v3 Mail Send endpoint."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any

from tests.standins.server import Answer, RecordedRequest, StandinServer

#: The only path served.
MAIL_SEND_PATH = "/v3/mail/send"


def sendgrid_error(*messages: str) -> bytes:
    """An error body as SendGrid writes it: ``{"errors": [{"message", "field", "help"}]}``."""
    errors = [{"message": message, "field": None, "help": None} for message in messages]
    return json.dumps({"errors": errors}).encode("utf-8")


def attachment_problems(mail: Any) -> list[str]:
    """What SendGrid says about a mail's ``attachments``
    (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors#attachments)."""
    problems = []
    attachments = mail.get("attachments") if isinstance(mail, dict) else None
    for item in attachments or []:
        try:
            base64.b64decode(item.get("content", ""), validate=True)
        except (binascii.Error, TypeError):
            problems.append("The attachment content must be base64 encoded.")
        if not item.get("content") or not item.get("filename"):
            problems.append("The attachment content and filename are required.")
        if any(c in str(item.get("type", "")) for c in ";\r\n"):
            problems.append("The attachment type cannot contain ';', or CRLF characters.")
    return problems


class SendGridStandin(StandinServer):
    """``POST /v3/mail/send``: 202 with a fresh ``X-Message-Id`` unless scripted otherwise.

    Requests without ``Authorization: Bearer <key>`` get 401, other paths 404, and a mail
    whose attachment SendGrid would refuse (content not base64, no file name, a type with
    parameters or a line break) 400 with SendGrid's message, before any script.
    """

    def __init__(self, *, keep_alive: bool = False) -> None:
        super().__init__(keep_alive=keep_alive)
        self.issued_message_ids: list[str] = []

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.issued_message_ids.clear()

    @property
    def mails(self) -> list[Any]:
        """The JSON bodies received at ``/v3/mail/send``."""
        return [r.json() for r in self.requests if r.path == MAIL_SEND_PATH]

    def check(self, request: RecordedRequest) -> Answer | None:
        if request.method != "POST" or request.path != MAIL_SEND_PATH:
            return Answer(404, {"Content-Type": "application/json"}, sendgrid_error("not found"))
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("Bearer ") or not authorization[7:].strip():
            return Answer(
                401,
                {"Content-Type": "application/json"},
                sendgrid_error("The provided authorization grant is invalid, expired, or revoked"),
            )
        try:
            problems = attachment_problems(request.json())
        except ValueError:
            problems = []
        if problems:
            return Answer(400, {"Content-Type": "application/json"}, sendgrid_error(*problems))
        return None

    def default_answer(self, request: RecordedRequest) -> Answer:
        message_id = secrets.token_urlsafe(16)
        with self._lock:
            self.issued_message_ids.append(message_id)
        return Answer(202, {"X-Message-Id": message_id})
