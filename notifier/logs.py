"""Logs: one line per record, as text or JSON, with the context of the work it is about,
and with no personal data and no secret in it.

Every record passes the one handler :func:`configure` puts on the root logger, whatever
logger wrote it (ours, uvicorn's, httpx's, the provider SDKs'). On the way out:

* :class:`ContextFilter` adds the ids of the work in hand (``event_id``, ``return_id``,
  ``notification_id``, ``channel``), which the stages set with :func:`bound` while they
  work on an event or a notification, so one return's story can be followed across the
  API, the workers and the scheduler;
* the formatter (:class:`JsonFormatter` or :class:`TextFormatter`) redacts the final message
  and the exception text with a :class:`Redactor`: the configured secrets themselves,
  ``Authorization`` values, bearer tokens, SendGrid keys, the userinfo and query of URLs,
  secret-looking ``key=value`` pairs, then every email address, phone number (any notation)
  and the names of the customer in hand (:func:`notifier.masking.mask_text`).

The provider SDKs' request dumps are kept out: Twilio's (eleven lines per SMS, at INFO)
below ``DEBUG``, python-http-client's (the whole mail, at DEBUG) always but its first line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import IO, Any
from urllib.parse import urlsplit

from notifier.masking import mask_text
from notifier.settings import Settings

#: The context fields a record may carry, in the order they are shown.
FIELDS = ("event_id", "return_id", "notification_id", "channel")
#: What stands in for a redacted secret.
REDACTED = "***"
#: Shortest configured secret replaced wherever it appears (shorter ones would mangle text).
_SECRET_MIN = 6
#: Most characters of a python-http-client record kept (its first line: method and URL).
_SDK_LINE = 200

_context: ContextVar[Mapping[str, str]] = ContextVar(
    "notifier_log_context", default=MappingProxyType({})
)
_names: ContextVar[tuple[str, ...]] = ContextVar("notifier_log_names", default=())

#: ``Authorization: Bearer x``, ``'authorization': 'Basic x'``, ``api_key=x``,
#: ``X-Twilio-Signature: x``, ``?token=x``, ``"password": "x"``: the name, then its value.
_SECRET_PAIR = re.compile(
    r"(?i)(?P<name>\b[\w-]*(?:authorization|token|signature|secret|password|passwd|key)"
    r"[\w-]*)(?P<sep>[\"']?\s*[=:]\s*[\"']?)"
    r"(?:(?P<scheme>bearer|basic|token)\s+)?(?P<value>[^\s&\"';]+)"
)
#: A bearer token written on its own.
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]{6,}")
#: A SendGrid API key (``SG.<id>.<secret>``), a webhook subscription's secret (``whsec_...``).
_KEYS = re.compile(r"\b(SG\.|whsec_)[\w+/=.-]+")
#: The userinfo of a URL (``https://user:pass@host``).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#\"']+@")
#: The query of a URL, up to its fragment or the end of the URL.
_QUERY = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s?#\"']*)\?[^\s#\"']*")


@contextmanager
def bound(
    *,
    event_id: str | None = None,
    return_id: str | None = None,
    notification_id: str | None = None,
    channel: str | None = None,
    names: Iterable[str | None] = (),
) -> Iterator[None]:
    """Attach these to every record logged inside the ``with`` block (this thread or task).

    Args:
        event_id: The shop's id of the event in hand.
        return_id: The return it is about.
        notification_id: The notification in hand.
        channel: Its channel.
        names: The customer's names (and any text to mask like one), masked in every line.
    """
    given = {
        "event_id": event_id,
        "return_id": return_id,
        "notification_id": notification_id,
        "channel": None if channel is None else str(channel),
    }
    fields = {**_context.get(), **{k: v for k, v in given.items() if v}}
    known = _names.get()
    more = tuple(n for n in names if isinstance(n, str) and n and n not in known)
    fields_token = _context.set(fields)
    names_token = _names.set(known + more)
    try:
        yield
    finally:
        _names.reset(names_token)
        _context.reset(fields_token)


def masked(text: str) -> str:
    """``text`` (a provider's answer) with addresses, numbers and the names bound masked."""
    return mask_text(text, _names.get()) or text


class ContextFilter(logging.Filter):
    """Adds the bound context fields and names to each record (``record.context``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        setattr(record, "context", dict(_context.get()))  # noqa: B010 - not a LogRecord field
        setattr(record, "masked_names", _names.get())  # noqa: B010
        return True


class SdkDumpFilter(logging.Filter):
    """Keeps python-http-client's records to their first line: its DEBUG records hold the
    whole mail (``PAYLOAD``), the request headers with the API key, and the answer body."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("python_http_client"):
            return True
        message = record.getMessage()
        if message.startswith(("PAYLOAD", "HEADERS")):
            return False
        record.msg, record.args = message.splitlines()[0][:_SDK_LINE] if message else "", None
        return True


class Redactor:
    """Takes secrets and personal data out of a text that is about to be logged.

    Args:
        secrets: Literal secrets to replace wherever they appear (API keys, staff tokens,
            provider keys and tokens); empty ones and ones under six characters are ignored.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        found = {s for s in secrets if s and len(s) >= _SECRET_MIN}
        self._secrets = (
            re.compile("|".join(re.escape(s) for s in sorted(found, key=len, reverse=True)))
            if found
            else None
        )

    def __call__(self, text: str, names: Iterable[str] = ()) -> str:
        """``text`` with secrets redacted and addresses, numbers and ``names`` masked."""
        if not text:
            return text
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        text = _USERINFO.sub(rf"\1{REDACTED}@", text)
        text = _QUERY.sub(rf"\1?{REDACTED}", text)
        text = _SECRET_PAIR.sub(_redact_pair, text)
        text = _BEARER.sub(rf"\1 {REDACTED}", text)
        text = _KEYS.sub(rf"\1{REDACTED}", text)
        return mask_text(text, names) or text


def _redact_pair(match: re.Match[str]) -> str:
    scheme = f"{match['scheme']} " if match["scheme"] else ""
    return f"{match['name']}{match['sep']}{scheme}{REDACTED}"


class _Formatter(logging.Formatter):
    """The parts of a record both formats show, redacted."""

    def __init__(self, redactor: Redactor, role: str) -> None:
        super().__init__()
        self.redact = redactor
        self.role = role

    def parts(self, record: logging.LogRecord) -> tuple[str, str, str | None, Mapping[str, str]]:
        names: tuple[str, ...] = getattr(record, "masked_names", ())
        fields: Mapping[str, str] = getattr(record, "context", {})
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        message = self.redact(record.getMessage(), names)
        error = None
        if record.exc_info:
            error = self.redact(self.formatException(record.exc_info), names)
        elif record.stack_info:
            error = self.redact(self.formatStack(record.stack_info), names)
        shown = {k: self.redact(fields[k], names) for k in FIELDS if k in fields}
        return ts.replace("+00:00", "Z"), message, error, shown


class JsonFormatter(_Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message``, ``process``,
    the context fields bound, and ``exception`` (the traceback as one string) if any."""

    def format(self, record: logging.LogRecord) -> str:
        ts, message, error, fields = self.parts(record)
        line: dict[str, Any] = {
            "ts": ts,
            "level": record.levelname,
            "logger": record.name,
            "message": message,
            "process": self.role,
            **fields,
        }
        if error is not None:
            line["exception"] = error
        return json.dumps(line, ensure_ascii=True)


class TextFormatter(_Formatter):
    """``<ts> <level> <process> <logger>: <message> key=value ...`` on one line; a traceback
    follows on indented lines."""

    def format(self, record: logging.LogRecord) -> str:
        ts, message, error, fields = self.parts(record)
        suffix = "".join(f" {key}={value}" for key, value in fields.items())
        one_line = message.replace("\r", "\\r").replace("\n", "\\n")
        line = f"{ts} {record.levelname} {self.role} {record.name}: {one_line}{suffix}"
        if error is not None:
            line += "\n" + textwrap.indent(error, "    ")
        return line


def secrets_of(settings: Settings) -> list[str]:
    """The secrets ``settings`` holds: API keys, staff tokens, the SendGrid key, the Twilio
    auth token and the passwords in the database and Redis URLs."""
    found = [*settings.api_keys.values(), *settings.staff_tokens.values()]
    found += [s for s in (settings.sendgrid_api_key, settings.twilio_auth_token) if s]
    for url in (settings.database_url, settings.redis_url or ""):
        password = urlsplit(url).password
        if password:
            found.append(password)
    return found


def configure(settings: Settings, role: str, stream: IO[str] | None = None) -> logging.Handler:
    """Send every record of this process through one redacting handler on the root logger.

    Called by the ``notifier`` command once settings are read (and by ``run`` again once it
    has generated its credentials); a handler an earlier call installed is replaced, any
    other is left alone.

    Args:
        settings: ``log_level``, ``log_format``, and the secrets to redact (:func:`secrets_of`).
        role: What this process is (``api``, ``worker``, ``scheduler``, ``run``, ...).
        stream: Where to write; standard error by default.

    Returns:
        The handler installed.
    """
    level = settings.log_level
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    handler = RootHandler(stream)
    handler.setFormatter(formatter(Redactor(secrets_of(settings)), role))
    handler.addFilter(ContextFilter())
    handler.addFilter(SdkDumpFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, RootHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet_level in quieted(level).items():
        logging.getLogger(name).setLevel(quiet_level)
    return handler


def quieted(level: str) -> dict[str, int]:
    """The levels :func:`configure` gives other libraries' loggers at ``level``."""
    return {
        "alembic": logging.WARNING,
        # APScheduler logs every run of every job at INFO: once per scan.
        "apscheduler": logging.WARNING,
        # The Twilio SDK dumps every request (method, URL, headers) in eleven INFO lines.
        "twilio.http_client": logging.NOTSET if level == "DEBUG" else logging.WARNING,
    }


class RootHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`configure` installs (so a second call finds and replaces it);
    without a stream it writes to whatever ``sys.stderr`` is at the time."""

    def __init__(self, stream: IO[str] | None) -> None:
        super().__init__(stream)
        self._stderr = stream is None

    def emit(self, record: logging.LogRecord) -> None:
        if self._stderr:
            self.stream = sys.stderr
        super().emit(record)
