"""Provider callbacks: SendGrid's signed Event Webhook and Twilio's status callbacks.

Each is verified with the provider's signature before anything in it is believed, then
parsed into the shared tracking vocabulary and applied by the tracker.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from channels.email_sendgrid_events import parse_sendgrid_events, verify_sendgrid_signature
from channels.errors import MalformedCallbackError, SignatureError
from channels.sms_twilio_events import parse_twilio_status, verify_twilio_signature
from notifier.http.bodies import MAX_BATCH_BODY, MAX_BODY, declared_length, raw_body
from notifier.http.deps import Parts
from notifier.http.problems import Problem

router = APIRouter(tags=["providers"])


@router.post("/v1/providers/sendgrid/events")
async def sendgrid_events(request: Request, api: Parts) -> dict[str, int]:
    public_key = api.service.settings.sendgrid_webhook_public_key
    if public_key is None:
        raise Problem(401, "SendGrid callbacks are refused: no verification key is set")
    body = await raw_body(request.receive, MAX_BATCH_BODY, declared_length(request))
    try:
        verify_sendgrid_signature(
            public_key,
            body,
            request.headers.get("x-twilio-email-event-webhook-signature"),
            request.headers.get("x-twilio-email-event-webhook-timestamp"),
        )
        events = parse_sendgrid_events(body)
    except SignatureError as error:
        raise Problem(401, str(error)) from None
    except MalformedCallbackError as error:
        raise Problem(400, str(error)) from None
    applied = await run_in_threadpool(api.service.tracker.apply, events)
    return {"received": len(events), "changed": sum(a.changed for a in applied)}


@router.post("/v1/providers/twilio/status")
async def twilio_status(request: Request, api: Parts) -> Response:
    settings = api.service.settings
    token = settings.twilio_auth_token
    if token is None:
        raise Problem(401, "Twilio callbacks are refused: Twilio is not configured")
    body = await raw_body(request.receive, MAX_BODY, declared_length(request))
    try:
        form = {k: v for k, v in parse_qsl(body.decode(), keep_blank_values=True)}
    except UnicodeDecodeError:
        raise Problem(400, "the callback body is not form data") from None
    # Twilio signs the URL it called: behind a proxy that is the public URL, not ours.
    url = settings.public_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    try:
        verify_twilio_signature(token, url, form, request.headers.get("x-twilio-signature"))
        event = parse_twilio_status({**dict(request.query_params), **form})
    except SignatureError as error:
        raise Problem(401, str(error)) from None
    except MalformedCallbackError as error:
        raise Problem(400, str(error)) from None
    await run_in_threadpool(api.service.tracker.apply, [event])
    return Response(status_code=204)
