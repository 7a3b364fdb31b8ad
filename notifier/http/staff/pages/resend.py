"""Sending a failed or bounced message again: ``/staff/returns/{id}/notifications/{nid}/resend``.

The form shows where the message went (masked) and takes a corrected address, empty for the
same one. Its POST to ``.../resend/check`` validates the address (an email address for email,
a phone number for SMS, normalised to E.164 as intake does) and asks for confirmation,
saying what will be sent to whom and whether delivery will hold it back (a suppressed
address, a return that has moved on). The confirmation's POST to ``.../resend`` stores the
resend as a new notification, hands it to delivery and records it in the audit; the same
confirmation sent twice resends once. Only a failed or bounced notification is resent:
anything else is refused (409) and nothing changes.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from notifier.dispatch import RESENDABLE, Resends
from notifier.errors import NotFoundError, ResendRefusedError
from notifier.http.bodies import is_identifier
from notifier.http.schemas import email_address, phone_number
from notifier.http.staff.auth import StaffSession
from notifier.http.staff.dossier import message, stored
from notifier.http.staff.pages.returns import not_found, notification_url, return_url
from notifier.http.staff.web import Form, Parts, Staff, client_of, first, page, redirect
from notifier.masking import mask_recipient, mask_text
from notifier.records import NotificationRecord
from notifier.status import REMOVED_RECIPIENT, Channel

router = APIRouter()

#: Where the resend pages live, below a notification's page.
_PATH = "/staff/returns/{return_id}/notifications/{notification_id}/resend"
#: The largest resend number a confirmation may carry.
_MAX_NUMBER = 10_000


@router.get(_PATH, include_in_schema=False)
def resend_form(
    request: Request, return_id: str, notification_id: str, session: Staff, parts: Parts
) -> Response:
    original = _stored(parts, return_id, notification_id)
    if original is None:
        return not_found(request, session, message=True)
    if not _resendable(original):
        return _refused(request, session, original)
    return _form(request, session, original)


@router.post(_PATH + "/check", include_in_schema=False)
def resend_check(
    request: Request,
    return_id: str,
    notification_id: str,
    session: Staff,
    parts: Parts,
    form: Form,
) -> Response:
    original = _stored(parts, return_id, notification_id)
    if original is None:
        return not_found(request, session, message=True)
    if not _resendable(original):
        return _refused(request, session, original)
    given = first(form, "to")
    try:
        to = _address(original, given, parts.api.service.settings.default_region)
    except ValueError:
        return _form(request, session, original, given=given, invalid=True)
    service = parts.api.service
    resends = _resends(parts)
    number = resends.next_number(original)
    planned = resends.planned(original, to, number)
    held = service.deliverer.why_not_sent(planned)
    return page(
        request,
        "resend_confirm.html",
        session=session,
        original=original,
        was=mask_recipient(original.channel, original.recipient),
        goes_to=mask_recipient(planned.channel, planned.recipient),
        to=to or "",
        number=number,
        held=None if held is None else (held[0], mask_text(held[1])),
        message=message(service.sender, planned),
        action=_path(original),
        back=notification_url(return_id, notification_id),
    )


@router.post(_PATH, include_in_schema=False)
def resend(
    request: Request,
    return_id: str,
    notification_id: str,
    session: Staff,
    parts: Parts,
    form: Form,
) -> Response:
    original = _stored(parts, return_id, notification_id)
    if original is None:
        return not_found(request, session, message=True)
    given = first(form, "to")
    try:
        to = _address(original, given, parts.api.service.settings.default_region)
    except ValueError:
        return _form(request, session, original, given=given, invalid=True)
    resends = _resends(parts)
    number = _number(first(form, "number")) or resends.next_number(original)
    try:
        resent = resends.resend(original.id, to, number)
    except ResendRefusedError:
        return _refused(request, session, original)
    except NotFoundError:
        return not_found(request, session, message=True)
    new = resent.notification
    if resent.created:
        parts.audit.record(
            "resend",
            session.name,
            target=original.id,
            detail=f"{new.id} to {mask_recipient(new.channel, new.recipient)}",
            client=client_of(request),
        )
    return redirect(f"{return_url(return_id)}?{urlencode({'resent': new.id})}")


def _resends(parts: Parts) -> Resends:
    service = parts.api.service
    return Resends(service.engine, service.actors.enqueue_delivery)


def _stored(parts: Parts, return_id: str, notification_id: str) -> NotificationRecord | None:
    if not (is_identifier(return_id) and is_identifier(notification_id)):
        return None
    try:
        return stored(parts.api.service.engine, return_id, notification_id)
    except NotFoundError:
        return None


def _address(original: NotificationRecord, given: str, region: str) -> str | None:
    """The corrected address ``given``, checked and normalised for the channel of
    ``original``; None (the same address) when it is empty.

    Raises:
        ValueError: it is not an address of that channel.
    """
    if not given:
        return None
    if original.channel == Channel.EMAIL and len(given) <= 254:
        return email_address(given)
    if original.channel == Channel.SMS and len(given) <= 32:
        return phone_number(given, region)
    raise ValueError(f"not a {original.channel} address")


def _number(given: str) -> int | None:
    """The resend number a confirmation carries, if it is one."""
    if given.isdigit() and 0 < int(given) <= _MAX_NUMBER:
        return int(given)
    return None


def _form(
    request: Request,
    session: StaffSession,
    original: NotificationRecord,
    *,
    given: str = "",
    invalid: bool = False,
) -> Response:
    return page(
        request,
        "resend.html",
        session=session,
        status=422 if invalid else 200,
        original=original,
        was=mask_recipient(original.channel, original.recipient),
        given=given,
        invalid=invalid,
        check=_path(original) + "/check",
        back=notification_url(original.return_id, original.id),
    )


def _refused(request: Request, session: StaffSession, original: NotificationRecord) -> Response:
    return page(
        request,
        "resend.html",
        session=session,
        status=409,
        original=original,
        refused=True,
        removed=REMOVED_RECIPIENT,
        back=notification_url(original.return_id, original.id),
    )


def _resendable(original: NotificationRecord) -> bool:
    return original.status in RESENDABLE and original.recipient != REMOVED_RECIPIENT


def _path(original: NotificationRecord) -> str:
    return notification_url(original.return_id, original.id) + "/resend"
