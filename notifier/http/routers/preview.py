"""``POST /v1/preview``: what notifier would send for an event, or a built-in sample, without
sending or storing anything (CONTRACT section 4).

The body is read by hand, as the event endpoints read theirs: an event is validated exactly
as ``POST /v1/events`` validates it, with its problems located under ``["body", "event"]``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from notifier.errors import UnknownSampleError
from notifier.http.bodies import MAX_BODY, first_headers, json_body, validate_event
from notifier.http.deps import Parts, api_key
from notifier.http.problems import Problem, invalid, problems
from notifier.http.schemas import PreviewAnswer, PreviewSampleIn
from notifier.http.staff import staff_session
from notifier.preview import PreviewMessage

router = APIRouter(tags=["preview"])


async def preview_caller(request: Request) -> str:
    """Who asks for a preview: the name of their API key, or ``staff:<name>`` for a signed-in
    staff member of the console (a 401 without either).

    The one place that says who may preview; an event is previewed as if that caller posted
    it (an event id it used before is a repeat). A staff session is read only when no
    ``Authorization`` header is sent; the endpoint takes JSON alone, which a page of another
    site cannot post with the console's ``SameSite=Strict`` cookie.
    """
    if "authorization" not in request.headers:
        session = staff_session(request)
        if session is not None:
            return f"staff:{session.name}"
    return await api_key(request)


#: The caller of a preview, as an endpoint parameter.
Caller = Annotated[str, Depends(preview_caller)]


@router.post("/v1/preview", response_model=PreviewAnswer, openapi_extra={"x-body-model": "Preview"})
async def post_preview(request: Request, caller: Caller, api: Parts) -> dict[str, Any]:
    body = await json_body(request.receive, first_headers(request.scope["headers"]), MAX_BODY)
    previewer = api.service.previewer
    if isinstance(body, dict) and "event" in body:
        payload = _event(body, api.service.settings.default_region)
        messages = await run_in_threadpool(previewer.preview_event, caller, payload)
    else:
        chosen = _sample(body)
        try:
            message = await run_in_threadpool(
                previewer.preview_sample, chosen.kind, chosen.locale, chosen.channel, chosen.sample
            )
        except UnknownSampleError as error:
            raise invalid(["body", error.field], error.problem) from None
        messages = [message]
    return {"messages": [_answer(m) for m in messages]}


def _event(body: dict[str, Any], region: str) -> dict[str, Any]:
    """The event of an ``{"event": ...}`` body, validated as ``POST /v1/events`` does."""
    extra = [key for key in body if key != "event"]
    if extra:
        raise Problem(
            422,
            [
                {
                    "loc": ["body", key],
                    "msg": "not allowed with event: give an event, or a sample's kind, "
                    "locale and channel",
                    "type": "extra_forbidden",
                }
                for key in extra
            ],
        )
    return validate_event(body["event"], region, ["event"]).payload()


def _sample(body: Any) -> PreviewSampleIn:
    if not isinstance(body, dict):
        raise invalid(["body"], "must be a JSON object", "type_error")
    try:
        return PreviewSampleIn.model_validate(body)
    except ValidationError as error:
        raise Problem(422, problems(error.errors(), ("body",))) from None


def _answer(message: PreviewMessage) -> dict[str, Any]:
    content, size = message.content, message.content.sms
    return {
        "kind": message.kind,
        "channel": message.channel,
        "locale": message.locale,
        "recipient": message.recipient,
        "decision": message.decision,
        "reason": message.reason,
        "send_at": message.send_at,
        "subject": content.subject,
        "preheader": content.preheader,
        "html": content.html,
        "text": content.text,
        "attachments": None
        if content.attachments is None
        else [
            {"filename": attachment.filename, "content_type": attachment.content_type}
            for attachment in content.attachments
        ],
        "sms": None
        if size is None
        else {"encoding": size.encoding, "characters": size.units, "segments": size.segments},
    }
