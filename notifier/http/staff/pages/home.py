"""``/staff``: the overview, and the audit log at ``/staff/audit``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from notifier import db
from notifier.http.staff.audit import ACTIONS
from notifier.http.staff.web import Parts, Staff, page
from notifier.status import PENDING, NotificationStatus

router = APIRouter()


@router.get("/staff", include_in_schema=False)
def home(request: Request, session: Staff, parts: Parts) -> Response:
    n = db.notifications.c
    with parts.api.service.engine.connect() as connection:
        returns = connection.execute(select(func.count()).select_from(db.returns)).scalar_one()
        pending = connection.execute(
            select(func.count()).select_from(db.notifications).where(n.status.in_(PENDING))
        ).scalar_one()
        dead = connection.execute(
            select(func.count())
            .select_from(db.notifications)
            .where(n.dead.is_(True), n.status == NotificationStatus.FAILED)
        ).scalar_one()
        suppressed = connection.execute(
            select(func.count()).select_from(db.suppressions)
        ).scalar_one()
    counts = {"returns": returns, "pending": pending, "dead": dead, "suppressed": suppressed}
    return page(request, "home.html", session=session, counts=counts)


@router.get("/staff/audit", include_in_schema=False)
def audit(request: Request, session: Staff, parts: Parts) -> Response:
    action = request.query_params.get("action") or None
    if action not in ACTIONS:
        action = None
    entries = parts.audit.recent(limit=200, action=action)
    return page(
        request, "audit.html", session=session, entries=entries, actions=ACTIONS, action=action
    )
