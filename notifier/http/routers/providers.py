"""Provider callbacks: SendGrid's signed Event Webhook and Twilio's status callbacks.

Each is verified with the provider's signature before anything in it is believed, then
parsed into the shared tracking vocabulary and applied by the tracker.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from channels.email_sendgrid_events import (
    check_sendgrid_headers,
    parse_sendgrid_events,
    verify_sendgrid_signature,
)
from channels.errors import MalformedCallbackError, SignatureError
from channels.sms_twilio_events import parse_twilio_status, verify_twilio_signature
from notifier.http.bodies import declared_length, raw_body
from notifier.http.deps import Parts
from notifier.http.problems import Problem
from notifier.http.schemas import ProblemAnswer

router = APIRouter(tags=["providers"])

#: Largest SendGrid event batch read. SendGrid posts its events in batches of a few hundred
#: (well under 1 MiB); a signed request's body is still held whole to check its signature.
MAX_SENDGRID_BODY = 2 * 1024 * 1024
#: Largest Twilio status callback read: a form of a dozen short fields.
MAX_TWILIO_BODY = 16 * 1024
#: Twilio's signature: the base64 of an HMAC-SHA1 (20 bytes), 28 characters.
_TWILIO_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{27}=")


#: What a provider callback can answer besides success.
_CALLBACK_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"model": ProblemAnswer, "description": "Signed, but not a body the provider sends."},
    401: {
        "model": ProblemAnswer,
        "description": "Signature headers missing, malformed, stale or not matching; or the "
        "provider is not configured. The body is not read when the headers alone say so.",
    },
    413: {
        "model": ProblemAnswer,
        "description": "The body is larger than the provider sends: refused at the first "
        "byte over (2 MiB for SendGrid, 16 KiB for Twilio), or at once from Content-Length.",
    },
    503: {
        "model": ProblemAnswer,
        "description": "Too many callback bodies are arriving at once (16 MiB in all); "
        "`Retry-After` says when to send again.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}},
    },
}


@router.post("/v1/providers/sendgrid/events", responses=_CALLBACK_ANSWERS)
async def sendgrid_events(request: Request, api: Parts) -> dict[str, int]:
    public_key = api.service.settings.sendgrid_webhook_public_key
    if public_key is None:
        raise Problem(401, "SendGrid callbacks are refused: no verification key is set")
    signature = request.headers.get("x-twilio-email-event-webhook-signature")
    timestamp = request.headers.get("x-twilio-email-event-webhook-timestamp")
    try:
        # Not a byte of the body is read for a request that cannot be genuine.
        check_sendgrid_headers(signature, timestamp)
    except SignatureError as error:
        raise Problem(401, str(error)) from None
    body = await raw_body(
        request.receive, MAX_SENDGRID_BODY, declared_length(request), api.callback_bodies
    )
    try:
        verify_sendgrid_signature(public_key, body, signature, timestamp)
        events = parse_sendgrid_events(body)
    except SignatureError as error:
        raise Problem(401, str(error)) from None
    except MalformedCallbackError as error:
        raise Problem(400, str(error)) from None
    applied = await run_in_threadpool(api.service.tracker.apply, events)
    return {"received": len(events), "changed": sum(a.changed for a in applied)}


@router.post(
    "/v1/providers/twilio/status",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Applied."}, **_CALLBACK_ANSWERS},
)
async def twilio_status(request: Request, api: Parts) -> Response:
    settings = api.service.settings
    token = settings.twilio_auth_token
    if token is None:
        raise Problem(401, "Twilio callbacks are refused: Twilio is not configured")
    signature = request.headers.get("x-twilio-signature")
    if not signature or not _TWILIO_SIGNATURE.fullmatch(signature):
        raise Problem(401, "the X-Twilio-Signature header is missing or malformed")
    body = await raw_body(
        request.receive, MAX_TWILIO_BODY, declared_length(request), api.callback_bodies
    )
    try:
        form = {k: v for k, v in parse_qsl(body.decode(), keep_blank_values=True)}
    except UnicodeDecodeError:
        raise Problem(400, "the callback body is not form data") from None
    # Twilio signs the URL it called: behind a proxy that is the public URL, not ours.
    url = settings.public_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    try:
        verify_twilio_signature(token, url, form, signature)
        event = parse_twilio_status({**dict(request.query_params), **form})
    except SignatureError as error:
        raise Problem(401, str(error)) from None
    except MalformedCallbackError as error:
        raise Problem(400, str(error)) from None
    await run_in_threadpool(api.service.tracker.apply, [event])
    return Response(status_code=204)
