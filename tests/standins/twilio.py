"""A loopback stand-in for Twilio's Messages resource (API version 2010-04-01)."""

from __future__ import annotations

import base64
import json
import re
import secrets
from email.utils import formatdate

from tests.standins.server import Answer, RecordedRequest, StandinServer

_MESSAGES_PATH = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Messages\.json")
_JSON = {"Content-Type": "application/json"}


def twilio_error(code: int, message: str, status: int = 400) -> bytes:
    """An error body as Twilio writes it."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return json.dumps(body).encode("utf-8")


class TwilioStandin(StandinServer):
    """``POST /2010-04-01/Accounts/{sid}/Messages.json``: 201 with a queued message.

    Requests without HTTP Basic credentials for the account in the path get
    401 (Twilio code 20003), other paths 404, before any script.
    """

    @property
    def messages(self) -> list[dict[str, str]]:
        """The form bodies received at the Messages resource."""
        return [r.form() for r in self.requests if _MESSAGES_PATH.fullmatch(r.path)]

    def check(self, request: RecordedRequest) -> Answer | None:
        match = _MESSAGES_PATH.fullmatch(request.path)
        if request.method != "POST" or match is None:
            return Answer(
                404, _JSON, twilio_error(20404, "The requested resource was not found", 404)
            )
        if _basic_user(request.headers.get("authorization", "")) != match.group(1):
            return Answer(401, _JSON, twilio_error(20003, "Authenticate", 401))
        return None

    def default_answer(self, request: RecordedRequest) -> Answer:
        form = request.form()
        account = request.path.split("/")[3]
        sid = "SM" + secrets.token_hex(16)
        body = {
            "sid": sid,
            "account_sid": account,
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": formatdate(usegmt=True),
            "date_updated": formatdate(usegmt=True),
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }
        return Answer(201, _JSON, json.dumps(body).encode("utf-8"))


def _basic_user(authorization: str) -> str | None:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except ValueError:
        return None
    return user if password else None
