"""``/staff/returns``: find a return, see its story and every message, and read one as sent.

``/staff/returns?q=`` searches (see :mod:`notifier.http.staff.finder`): one hit opens it,
several are listed; without ``q`` the most recently changed returns are listed, a page at a
time. ``/staff/returns/{id}`` shows the return's facts, timeline and notifications, and
``/staff/returns/{id}/notifications/{notification_id}`` one notification with its message
rendered again from what was stored.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from notifier.dispatch import RESENDABLE
from notifier.errors import NotFoundError
from notifier.http.bodies import is_identifier
from notifier.http.staff.auth import StaffSession
from notifier.http.staff.dossier import dossier, message, stored
from notifier.http.staff.finder import Finder
from notifier.http.staff.web import Parts, Staff, page, redirect
from notifier.status import PENDING, REMOVED_RECIPIENT

router = APIRouter()


def return_url(return_id: str) -> str:
    """The console page of return ``return_id``."""
    return "/staff/returns/" + quote(return_id, safe="")


def notification_url(return_id: str, notification_id: str) -> str:
    """The console page of one notification of return ``return_id``."""
    return f"{return_url(return_id)}/notifications/{quote(notification_id, safe='')}"


def not_found(request: Request, session: StaffSession, *, message: bool = False) -> Response:
    """The 404 page of an unknown return, or of an unknown message of a return."""
    return page(request, "missing.html", session=session, status=404, message=message)


@router.get("/staff/returns", include_in_schema=False)
def returns(request: Request, session: Staff, parts: Parts) -> Response:
    service = parts.api.service
    finder = Finder(service.engine, service.settings.default_region)
    q = (request.query_params.get("q") or "").strip()
    after = request.query_params.get("after")
    found = finder.find(q, after) if q else finder.recent(after)
    if q and not after and found.next is None and len(found.returns) == 1:
        return redirect(return_url(found.returns[0].return_id))
    more = None
    if found.next is not None:
        more = "/staff/returns?" + urlencode({**({"q": q} if q else {}), "after": found.next})
    return page(
        request,
        "returns.html",
        session=session,
        q=q,
        found=found.returns,
        more=more,
        paged=bool(after),
        return_url=return_url,
    )


@router.get("/staff/returns/{return_id}", include_in_schema=False)
def return_page(request: Request, return_id: str, session: Staff, parts: Parts) -> Response:
    api = parts.api
    if not is_identifier(return_id):
        return not_found(request, session)
    try:
        found = dossier(api.reads, api.service.engine, return_id)
    except NotFoundError:
        return not_found(request, session)
    resent = None
    if request.query_params.get("resent"):
        resent = next(
            (n for n in found.notifications if n["id"] == request.query_params["resent"]), None
        )
    return page(
        request,
        "return.html",
        session=session,
        dossier=found,
        detail=found.detail,
        resent=resent,
        resendable=RESENDABLE,
        removed=REMOVED_RECIPIENT,
        return_url=return_url,
        notification_url=notification_url,
    )


@router.get("/staff/returns/{return_id}/notifications/{notification_id}", include_in_schema=False)
def notification_page(
    request: Request, return_id: str, notification_id: str, session: Staff, parts: Parts
) -> Response:
    service = parts.api.service
    if not (is_identifier(return_id) and is_identifier(notification_id)):
        return not_found(request, session, message=True)
    try:
        record = stored(service.engine, return_id, notification_id)
        found = dossier(parts.api.reads, service.engine, return_id)
        shown = found.notification(notification_id)
    except NotFoundError:
        return not_found(request, session, message=True)
    original = None
    if record.source.startswith("resend:"):
        original = record.source.split(":")[1]
    return page(
        request,
        "notification.html",
        session=session,
        detail=found.detail,
        note=shown,
        message=message(service.sender, record, found.snapshot),
        pending=record.status in PENDING,
        resendable=record.status in RESENDABLE and record.recipient != REMOVED_RECIPIENT,
        original=original,
        return_url=return_url,
        notification_url=notification_url,
    )
