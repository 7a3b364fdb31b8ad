"""``/staff/preview``: what notifier would send for a pasted event or a stored return, and
test sends of any previewed message.

Nothing a preview shows is sent or stored (:mod:`notifier.preview`). A test send goes to
the address the staff member types, never to the customer, through the configured channel,
marked ``[TEST]``, at most :data:`TEST_SENDS` per staff member in :data:`TEST_WINDOW`
(counted from the audit log, where each one is recorded).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from channels.errors import ChannelError
from notifier import db
from notifier.errors import NotFoundError
from notifier.http.bodies import UnreadableJson, is_identifier, parse_json, validate_event
from notifier.http.openapi import EXAMPLE_EVENT
from notifier.http.problems import Problem
from notifier.http.schemas import email_address, phone_number
from notifier.http.staff.auth import StaffSession
from notifier.http.staff.web import Form, Parts, Staff, client_of, first, page
from notifier.masking import mask_recipient
from notifier.preview import PreviewMessage
from notifier.status import Channel

router = APIRouter()

#: Test sends one staff member may make within :data:`TEST_WINDOW`.
TEST_SENDS = 10
#: The window test sends are counted in.
TEST_WINDOW = timedelta(minutes=10)
#: The largest pasted event, as for ``POST /v1/events``.
MAX_EVENT = 256 * 1024


@router.get("/staff/preview", include_in_schema=False)
def preview_page(request: Request, session: Staff, parts: Parts) -> Response:
    return_id = (request.query_params.get("return_id") or "").strip()
    if not return_id:
        return _page(request, session, event_text=_example())
    if not is_identifier(return_id):
        return _page(request, session, return_id=return_id, missing=True)
    try:
        messages = parts.api.service.previewer.preview_return(return_id)
    except NotFoundError:
        return _page(request, session, return_id=return_id, missing=True)
    return _page(request, session, return_id=return_id, messages=messages, mode="return")


@router.post("/staff/preview", include_in_schema=False)
def preview_event(request: Request, session: Staff, form: Form, parts: Parts) -> Response:
    text = first(form, "event")
    payload, problems = _event(parts, text)
    if payload is None:
        return _page(request, session, event_text=text, problems=problems, status=422)
    messages = parts.api.service.previewer.preview_event(f"staff:{session.name}", payload)
    return _page(request, session, event_text=text, messages=messages, mode="event")


@router.post("/staff/preview/test-send", include_in_schema=False)
async def test_send(request: Request, session: Staff, form: Form, parts: Parts) -> Response:
    mode, text, return_id = first(form, "mode"), first(form, "event"), first(form, "return_id")
    if mode == "return":
        messages = await run_in_threadpool(_return_messages, parts, return_id)
    else:
        payload, _ = _event(parts, text)
        messages = (
            []
            if payload is None
            else await run_in_threadpool(
                parts.api.service.previewer.preview_event, f"staff:{session.name}", payload
            )
        )
    context: dict[str, Any] = {"event_text": text, "return_id": return_id, "mode": mode}
    index = first(form, "index")
    if not index.isdigit() or int(index) >= len(messages):
        return _page(request, session, messages=messages, sent_problem="gone", **context)
    message = messages[int(index)]
    outcome = await run_in_threadpool(
        _send, parts, session, message, first(form, "to"), client_of(request)
    )
    return _page(request, session, messages=messages, tested=int(index), **outcome, **context)


def _send(
    parts: Parts, session: StaffSession, message: PreviewMessage, typed: str, client: str
) -> dict[str, Any]:
    """Send ``message`` as a test to ``typed``; what the page says about it."""
    settings = parts.api.service.settings
    content = message.content
    if message.channel not in (Channel.EMAIL, Channel.SMS) or content.text is None:
        return {"sent_problem": "not-sendable"}
    try:
        to = (
            email_address(typed)
            if message.channel == Channel.EMAIL
            else phone_number(typed, settings.default_region)
        )
    except ValueError:
        return {"sent_problem": "address", "typed": typed}
    since = db.now() - TEST_WINDOW
    if parts.audit.count("test_send", since, staff=session.name) >= TEST_SENDS:
        return {"sent_problem": "limit"}
    masked = mask_recipient(message.channel, to)
    try:
        parts.api.service.sender.send_test(
            message.channel,
            to,
            subject=content.subject,
            text=content.text,
            html=content.html,
            attachments=content.attachments or (),
        )
    except ChannelError as error:
        return {"sent_problem": "provider", "provider_error": str(error)[:300]}
    parts.audit.record(
        "test_send",
        session.name,
        target=message.kind,
        detail=f"{message.channel} {message.locale} to {masked}",
        client=client,
    )
    return {"sent_to": masked}


def _return_messages(parts: Parts, return_id: str) -> list[PreviewMessage]:
    if not is_identifier(return_id):
        return []
    try:
        return parts.api.service.previewer.preview_return(return_id)
    except NotFoundError:
        return []


def _event(parts: Parts, text: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The pasted event, validated as ``POST /v1/events`` validates it, or its problems."""
    if len(text.encode()) > MAX_EVENT:
        return None, [_problem(["body"], f"is over {MAX_EVENT // 1024} KiB", "too_long")]
    try:
        body = parse_json(text)
    except UnreadableJson as error:
        return None, [_problem(["body"], str(error), "json_invalid")]
    try:
        event = validate_event(body, parts.api.service.settings.default_region, [])
    except Problem as problem:
        return None, list(problem.detail)
    return event.payload(), []


def _problem(loc: list[str], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind}


def _example() -> str:
    return json.dumps(EXAMPLE_EVENT, indent=2, ensure_ascii=False)


def _page(
    request: Request, session: StaffSession, *, status: int = 200, **context: Any
) -> Response:
    context.setdefault("event_text", "")
    context.setdefault("return_id", "")
    context.setdefault("messages", None)
    context.setdefault("mode", "event")
    return page(
        request, "preview.html", session=session, status=status, limit=TEST_SENDS, **context
    )
