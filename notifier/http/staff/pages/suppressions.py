"""``/staff/suppressions``: addresses no message goes to any more, and lifting a suppression.

The list shows :data:`PAGE_SIZE` suppressions at a time, newest first, of one channel or
all, or the one suppression of an address searched for exactly (email case-insensitive,
a phone number normalised as intake does). Addresses are only ever shown masked: a row is
named in links and forms by a key sealed with a secret derived from the staff tokens
(encrypted and signed, :func:`seal`), and the paging links carry sealed positions, so no
page holds a clear address. Lifting one asks for confirmation first and is recorded in the
audit log with the masked address.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlencode

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from notifier.delivery import (
    SuppressionPage,
    lift,
    suppression_of,
    suppressions_count,
    suppressions_page,
)
from notifier.http.schemas import phone_number
from notifier.http.staff.auth import StaffSession
from notifier.http.staff.web import (
    Console,
    Form,
    Parts,
    Staff,
    client_of,
    first,
    page,
    redirect,
)
from notifier.masking import mask_recipient, mask_text
from notifier.records import Suppression
from notifier.status import Channel

router = APIRouter()

#: Suppressions on a page.
PAGE_SIZE = 50
#: The channels an address can be suppressed on.
CHANNELS = (Channel.EMAIL, Channel.SMS)


@dataclass(frozen=True, slots=True)
class Row:
    """A suppression as the page shows it: masked, and named by its sealed key."""

    key: str
    channel: Channel
    address: str
    reason: str
    created_at: datetime


def seal(console: Console, *values: str) -> str:
    """``values`` encrypted and signed, for a link or a form; :func:`unseal` reads them."""
    return _fernet(_secrets(console)).encrypt(json.dumps(values).encode()).decode()


def unseal(console: Console, sealed: str) -> list[str] | None:
    """The values :func:`seal` sealed, or None if ``sealed`` is not one of its keys."""
    try:
        values = json.loads(_fernet(_secrets(console)).decrypt(sealed.encode()))
    except (InvalidToken, ValueError):
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    return values


def _secrets(console: Console) -> tuple[str, ...]:
    return tuple(sorted(console.api.service.settings.staff_tokens.values()))


@lru_cache(maxsize=4)
def _fernet(secrets: tuple[str, ...]) -> Fernet:
    material = "\x00".join(secrets).encode()
    key = hashlib.sha256(b"notifier staff sealed keys\x00" + material).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def searched_address(text: str, region: str) -> tuple[Channel, str] | None:
    """The channel and stored form of an address typed in the search, or None if it is
    neither an email address nor a phone number (of ``region`` unless it says its country).
    """
    text = text.strip()
    if "@" in text:
        return Channel.EMAIL, text.lower()
    try:
        return Channel.SMS, phone_number(text, region)
    except ValueError:
        return None


def _row(console: Console, found: Suppression) -> Row:
    return Row(
        key=seal(console, "row", found.channel, found.address),
        channel=found.channel,
        address=mask_recipient(found.channel, found.address),
        reason=mask_text(found.reason) or "",
        created_at=found.created_at,
    )


def _position(console: Console, sealed: str | None) -> tuple[datetime, str, str] | None:
    values = unseal(console, sealed) if sealed else None
    if values is None or len(values) != 4 or values[0] != "at":
        return None
    try:
        return datetime.fromisoformat(values[1]), values[2], values[3]
    except ValueError:
        return None


def _list_url(channel: str, **more: str) -> str:
    query = urlencode({k: v for k, v in {"channel": channel, **more}.items() if v})
    return "/staff/suppressions" + (f"?{query}" if query else "")


def _paged(console: Console, channel: str, older: str | None, newer: str | None) -> SuppressionPage:
    older_than, newer_than = _position(console, older), _position(console, newer)
    which = Channel(channel) if channel else None
    with console.api.service.engine.connect() as connection:
        shown = suppressions_page(
            connection,
            channel=which,
            limit=PAGE_SIZE,
            older_than=older_than,
            newer_than=newer_than,
        )
        if not shown.suppressions and (older_than or newer_than):
            shown = suppressions_page(connection, channel=which, limit=PAGE_SIZE)
    return shown


def _page_url(console: Console, channel: str, way: str, at: tuple[datetime, str, str]) -> str:
    return _list_url(channel, **{way: seal(console, "at", at[0].isoformat(), at[1], at[2])})


@router.get("/staff/suppressions", include_in_schema=False)
def suppressions(request: Request, session: Staff, parts: Parts) -> Response:
    params = request.query_params
    channel = params.get("channel", "")
    channel = channel if channel in CHANNELS else ""
    q = params.get("q", "").strip()
    searched = invalid = None
    older_url = newer_url = None
    if q:
        address = searched_address(q, parts.api.service.settings.default_region)
        found: list[Suppression] = []
        if address is None:
            invalid = True
        else:
            searched = mask_recipient(*address)
            with parts.api.service.engine.connect() as connection:
                record = suppression_of(connection, *address)
            found = [record] if record else []
    else:
        shown = _paged(parts, channel, params.get("older"), params.get("newer"))
        found = shown.suppressions
        older_url = shown.older and _page_url(parts, channel, "older", shown.older)
        newer_url = shown.newer and _page_url(parts, channel, "newer", shown.newer)
    with parts.api.service.engine.connect() as connection:
        total = suppressions_count(connection, channel=Channel(channel) if channel else None)
    return page(
        request,
        "suppressions.html",
        session=session,
        channels=CHANNELS,
        channel=channel,
        rows=[_row(parts, s) for s in found],
        total=total,
        searched=searched,
        invalid=invalid,
        older_url=older_url,
        newer_url=newer_url,
        notice=params.get("notice"),
    )


def _chosen(console: Console, key: str) -> tuple[Channel, str] | None:
    values = unseal(console, key)
    if values is None or len(values) != 3 or values[0] != "row" or values[1] not in CHANNELS:
        return None
    return Channel(values[1]), values[2]


def _not_found(request: Request, session: StaffSession) -> Response:
    return page(request, "suppression_gone.html", session=session, status=404)


@router.get("/staff/suppressions/lift", include_in_schema=False)
def confirm_lift(request: Request, session: Staff, parts: Parts) -> Response:
    key = request.query_params.get("key", "")
    chosen = _chosen(parts, key)
    record = None
    if chosen is not None:
        with parts.api.service.engine.connect() as connection:
            record = suppression_of(connection, *chosen)
    if record is None:
        return _not_found(request, session)
    return page(request, "suppression_lift.html", session=session, row=_row(parts, record))


@router.post("/staff/suppressions/lift", include_in_schema=False)
async def lift_suppression(request: Request, session: Staff, parts: Parts, form: Form) -> Response:
    chosen = _chosen(parts, first(form, "key"))
    if chosen is None:
        return _not_found(request, session)
    record = await run_in_threadpool(_lift, parts, *chosen)
    if record is None:
        return redirect(_list_url("", notice="gone"))
    await run_in_threadpool(
        parts.audit.record,
        "lift_suppression",
        session.name,
        target=f"{record.channel} {mask_recipient(record.channel, record.address)}",
        detail=f"suppressed since {record.created_at:%Y-%m-%d}: {mask_text(record.reason)}",
        client=client_of(request),
    )
    return redirect(_list_url("", notice="lifted"))


def _lift(console: Console, channel: Channel, address: str) -> Suppression | None:
    """Lift the suppression; returns it as it was, or None if it was lifted already."""
    with console.api.service.engine.begin() as connection:
        record = suppression_of(connection, channel, address)
        if record is None or not lift(connection, channel, address):
            return None
    return record
