"""The rendered message, the one error a render raises, and how each part is finished.

A rendered template part is not sent as it comes out of Jinja2: a plain-text
body is tidied (plain spaces, no trailing blanks, at most one empty line), a
subject must be one line without control characters, and an SMS becomes one
paragraph transliterated to GSM-7 (see :mod:`notifier.rendering.gsm7`) within
:data:`MAX_SMS_SEGMENTS` segments.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from notifier.errors import NotifierError
from notifier.rendering import gsm7 as sms

#: Most SMS segments a rendered SMS may take at send time.
MAX_SMS_SEGMENTS = 10

_BLANK_LINES = re.compile(r"\n{3,}")


class RenderError(NotifierError):
    """One render failed: a template or data problem, never a worker crash.

    Raised for an unknown kind, channel or locale, a missing required field, a
    malformed value (the event's ``policy`` among them), an undefined variable, a
    template error, an exceeded size or time cap, or a subject with a control character.

    Attributes:
        reason: what was wrong, without the file.
        template: the template file the problem was found in, relative to the
            template directory (e.g. ``nl/return.received.txt``), if known.
    """

    def __init__(self, reason: str, template: str | None = None) -> None:
        super().__init__(f"{template}: {reason}" if template else reason)
        self.reason = reason
        self.template = template


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file an email carries.

    Attributes:
        filename: the file's name as the customer sees it, safe characters only
            (``retour-RMA-1001.ics``).
        content_type: its MIME type with parameters
            (``text/calendar; charset=utf-8; method=PUBLISH``).
        content: the file itself.
    """

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A message ready for a channel.

    Attributes:
        kind: the message kind, e.g. ``return.refund_issued``.
        channel: ``email`` or ``sms``.
        locale: the locale it was rendered in, as given to ``Renderer.render``.
        subject: the one-line email subject; None for SMS.
        text: the plain-text email body, or the SMS text (GSM-7 where possible).
        html: the HTML email body with inlined CSS; None for SMS.
        preheader: the email's preview line as plain text (the line an inbox shows after
            the subject, hidden in the HTML body); empty when the template has none, None
            for SMS.
        attachments: the files an email carries (a calendar event, see
            :mod:`notifier.rendering.calendar`); always empty for SMS.
    """

    kind: str
    channel: str
    locale: str
    subject: str | None
    text: str
    html: str | None
    preheader: str | None = None
    attachments: tuple[Attachment, ...] = ()


def tidy(text: str) -> str:
    """Tidy a plain-text part: plain spaces, no trailing blanks, at most one empty line."""
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    lines = [line.rstrip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def subject_line(text: str, where: str) -> str:
    """Finish a rendered subject.

    Args:
        text: the rendered subject template.
        where: the template file, for the error.

    Returns:
        The tidied subject.

    Raises:
        RenderError: the subject is empty or holds a control character (CR, LF...).
    """
    subject = tidy(text)
    bad = next((c for c in subject if unicodedata.category(c) in ("Cc", "Zl", "Zp")), None)
    if bad is not None:
        raise RenderError(f"subject contains control character U+{ord(bad):04X}", where)
    if not subject:
        raise RenderError("subject is empty", where)
    return subject


def sms_text(text: str, where: str) -> str:
    """Finish a rendered SMS: one paragraph, transliterated to GSM-7.

    Args:
        text: the rendered SMS template.
        where: the template file, for the error.

    Returns:
        The SMS text as it is handed to the provider.

    Raises:
        RenderError: the text is empty or takes more than :data:`MAX_SMS_SEGMENTS`.
    """
    message = sms.to_gsm7(" ".join(text.split()))
    if not message:
        raise RenderError("SMS text is empty", where)
    segments = sms.count_segments(message)
    if segments > MAX_SMS_SEGMENTS:
        raise RenderError(f"SMS takes {segments} segments (max {MAX_SMS_SEGMENTS})", where)
    return message
