"""A loopback stand-in for SendGrid's v3 Mail Send endpoint."""

from __future__ import annotations

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


class SendGridStandin(StandinServer):
    """``POST /v3/mail/send``: 202 with a fresh ``X-Message-Id`` unless scripted otherwise.

    Requests without ``Authorization: Bearer <key>`` get 401, other paths 404,
    before any script.
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
        return None

    def default_answer(self, request: RecordedRequest) -> Answer:
        message_id = secrets.token_urlsafe(16)
        with self._lock:
            self.issued_message_ids.append(message_id)
        return Answer(202, {"X-Message-Id": message_id})
