"""``/staff/dead-letters``: notifications that exhausted their retries, and replaying them.

The list shows :data:`PAGE_SIZE` dead letters at a time, newest first, filtered by channel,
kind and age. A replay, of the ticked ones or of every one the filter shows, first asks for
confirmation and says how many; it queues them again under the same id (a message already
sent is never sent twice) and records each in the audit log. A replay of the whole filter
replays only the dead letters that had died when the confirmation was shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from notifier import db
from notifier.delivery import DeadLetterFilter, DeadLetters
from notifier.errors import InvalidCursorError
from notifier.http.reads import decode_cursor, encode_cursor
from notifier.http.staff.web import Form, Parts, Staff, client_of, first, page, redirect
from notifier.status import Channel, EventType, NotificationEvent, ScheduledKind

router = APIRouter()

#: Dead letters on a page.
PAGE_SIZE = 50
#: Most ticked dead letters one replay takes (a page holds fewer).
MAX_TICKED = 500
#: Every message kind a dead letter can have, in the filter's order.
KINDS: tuple[str, ...] = (*EventType, *ScheduledKind, *NotificationEvent)
#: The age filter: choice -> (died within this long, or longer than this long ago).
AGES: dict[str, tuple[bool, timedelta]] = {
    "last-hour": (True, timedelta(hours=1)),
    "last-day": (True, timedelta(days=1)),
    "last-week": (True, timedelta(days=7)),
    "hour": (False, timedelta(hours=1)),
    "day": (False, timedelta(days=1)),
    "week": (False, timedelta(days=7)),
}


@dataclass(frozen=True, slots=True)
class Choice:
    """The filter a staff member chose: each field a known value, or empty for any."""

    channel: str = ""
    kind: str = ""
    age: str = ""

    @classmethod
    def of(cls, values: dict[str, str]) -> Choice:
        """The choice in a query or a form; unknown values choose nothing."""
        channel, kind, age = (values.get(k, "").strip() for k in ("channel", "kind", "age"))
        return cls(
            channel=channel if channel in {c.value for c in Channel} else "",
            kind=kind if kind in KINDS else "",
            age=age if age in AGES else "",
        )

    @property
    def active(self) -> bool:
        """Whether it narrows the list at all."""
        return bool(self.channel or self.kind or self.age)

    def which(self, now: datetime) -> DeadLetterFilter:
        """The dead letters it chooses, ages counted back from ``now``."""
        which = DeadLetterFilter(
            channel=Channel(self.channel) if self.channel else None, kind=self.kind or None
        )
        if self.age:
            within, span = AGES[self.age]
            if within:
                return replace(which, died_since=now - span)
            return replace(which, died_before=now - span)
        return which

    def query(self, **more: str) -> str:
        """The list's query string for this choice (and ``more``), without empty fields."""
        fields = {"channel": self.channel, "kind": self.kind, "age": self.age, **more}
        return urlencode({k: v for k, v in fields.items() if v})


def _letters(parts: Parts) -> DeadLetters:
    service = parts.api.service
    return DeadLetters(service.engine, service.actors.enqueue_delivery)


def _position(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        return decode_cursor(cursor)
    except InvalidCursorError:
        return None


def _list_url(choice: Choice, **more: str) -> str:
    query = choice.query(**more)
    return "/staff/dead-letters" + (f"?{query}" if query else "")


@router.get("/staff/dead-letters", include_in_schema=False)
def dead_letters(request: Request, session: Staff, parts: Parts) -> Response:
    params = request.query_params
    choice = Choice.of(dict(params))
    now = db.now()
    which = choice.which(now)
    letters = _letters(parts)
    older, newer = _position(params.get("older")), _position(params.get("newer"))
    shown = letters.page(which, limit=PAGE_SIZE, older_than=older, newer_than=newer)
    if not shown.letters and (older or newer):
        shown = letters.page(which, limit=PAGE_SIZE)  # the page emptied: back to the newest
    queued = params.get("queued", "")
    return page(
        request,
        "dead_letters.html",
        session=session,
        choice=choice,
        channels=list(Channel),
        kinds=KINDS,
        letters=shown.letters,
        total=letters.count(which),
        overall=letters.count(DeadLetterFilter()) if choice.active else None,
        older_url=shown.older and _list_url(choice, older=encode_cursor(*shown.older)),
        newer_url=shown.newer and _list_url(choice, newer=encode_cursor(*shown.newer)),
        queued=int(queued) if queued.isdigit() else None,
        problem=params.get("problem"),
        now=now,
        attempts=parts.api.service.settings.retry_attempts,
    )


@router.get("/staff/dead-letters/replay", include_in_schema=False)
def confirm_replay(request: Request, session: Staff, parts: Parts) -> Response:
    params = request.query_params
    choice = Choice.of(dict(params))
    letters = _letters(parts)
    now = db.now()
    if params.get("scope") == "all":
        which = choice.which(now)
        # Pinned now: what died after this page was shown is not in the count it gives.
        which = replace(which, died_before=min(which.died_before or now, now))
        ids: list[str] = []
    else:
        ids = list(dict.fromkeys(params.getlist("id")))[:MAX_TICKED]
        if not ids:
            return redirect(_list_url(choice, problem="none-ticked"))
        which = DeadLetterFilter(ids=ids)
    count = letters.count(which)
    return page(
        request,
        "dead_letters_replay.html",
        session=session,
        choice=choice,
        scope="all" if not ids else "ticked",
        letters=letters.page(which, limit=MAX_TICKED).letters if ids else [],
        count=count,
        which=which,
        back=_list_url(choice),
        now=now,
    )


@router.post("/staff/dead-letters/replay", include_in_schema=False)
async def replay(request: Request, session: Staff, parts: Parts, form: Form) -> Response:
    choice = Choice.of({k: first(form, k) for k in ("channel", "kind", "age")})
    if first(form, "scope") == "all":
        which = replace(
            choice.which(db.now()),
            died_before=_moment(first(form, "before")),
            died_since=_moment(first(form, "since")),
        )
        if which.died_before is None:
            return redirect(_list_url(choice, problem="expired"))
        how = f"every one the filter {choice.query() or '(none)'} showed"
    else:
        ids = list(dict.fromkeys(form.get("id", [])))[:MAX_TICKED]
        which = DeadLetterFilter(ids=ids)
        how = "ticked"
    replayed = await run_in_threadpool(_letters(parts).replay, which=which)
    await run_in_threadpool(
        parts.audit.record_each,
        "replay",
        session.name,
        replayed,
        detail=f"{how}: {len(replayed)} queued again",
        client=client_of(request),
    )
    return redirect(_list_url(choice, queued=str(len(replayed))))


def _moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
