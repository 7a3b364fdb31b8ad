"""The HTTP API (CONTRACT sections 3 and 4), built by :func:`create_app` from a Service.

Event bodies are read and validated here by hand rather than by FastAPI's body parameter,
so that size limits, content types and malformed JSON get precise 4xx answers, and so the
phone validator knows the configured default region.
"""

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
import psycopg
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from channels.address_guard import AddressGuard
from channels.email_sendgrid_events import parse_sendgrid_events, verify_sendgrid_signature
from channels.errors import MalformedCallbackError, SignatureError
from channels.sms_twilio_events import parse_twilio_status, verify_twilio_signature
from notifier import db
from notifier.dispatch.preferences import Preferences
from notifier.dispatch.subscriptions import Subscriptions
from notifier.errors import EventConflictError, InvalidCursorError, NotFoundError
from notifier.http.metrics import Metrics
from notifier.http.openapi import install_openapi
from notifier.http.reads import MAX_PAGE, Reads
from notifier.http.schemas import (
    NO_CONTROL_CHARACTERS,
    PATTERN_MESSAGES,
    BatchIn,
    Channel,
    EventIn,
    NotificationPage,
    NotificationStatus,
    PreferencesOut,
    ProblemAnswer,
    ReturnDetail,
    WebhookCreated,
    WebhookIn,
    WebhookList,
)
from notifier.http.schemas import Preferences as PreferencesIn
from notifier.intake.intake import Accepted
from notifier.service import Service

log = logging.getLogger(__name__)

#: Largest accepted request body (CONTRACT 3: 413 above it).
MAX_BODY = 256 * 1024
#: Largest batch body: 500 events, each up to MAX_BODY would be too much; 8 MiB in all.
MAX_BATCH_BODY = 8 * 1024 * 1024


class Problem(Exception):
    """An answer other than success, with its status and detail."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


class NotifierApp(FastAPI):
    """FastAPI, with ``POST /v1/events`` served ahead of its middleware and router.

    Return systems call the event endpoint on every status change; it is the service's hot
    path. Through FastAPI's stack (its middleware, routing, dependency solving and Response
    objects) a request costs about 90 µs of CPU before the endpoint runs, as much as
    validating the event itself, for nothing the endpoint uses: it reads its headers and
    body, checks the key and answers by hand. So it is a plain ASGI call instead, with the
    same answers; ``install_openapi`` documents it.
    """

    #: The ASGI callable answering requests to ``/v1/events``.
    event_endpoint: Callable[[Scope, Receive, Send], Awaitable[None]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/events" and self.event_endpoint:
            await self.event_endpoint(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(service: Service) -> NotifierApp:
    """The FastAPI application for ``service``."""
    app = NotifierApp(
        title="notifier",
        version="0.1.0",
        description="Customer messages for e-commerce returns: post status events, read "
        "what was sent.",
    )
    app.state.service = service
    reads = Reads(service.engine)
    preferences = Preferences(service.engine)
    metrics = Metrics(service.engine)
    subscriptions = Subscriptions(service.engine)
    address_guard = AddressGuard(allow_private=service.settings.webhook_allow_private)
    group_commit = service.group_commit
    keys = [(name, secret.encode()) for name, secret in service.settings.api_keys.items()]
    region = service.settings.default_region

    def api_key(request: Request) -> str:
        return key_for(request.headers.get("authorization", ""))

    def key_for(header: str) -> str:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Problem(401, "missing Authorization: Bearer <api key>", _CHALLENGE)
        found = None
        for name, secret in keys:  # compare with every key: time does not reveal which
            if hmac.compare_digest(secret, token.encode()):
                found = name
        if found is None:
            raise Problem(401, "unknown API key", _CHALLENGE)
        return found

    ApiKey = Annotated[str, Depends(api_key)]

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, exc.status, headers=exc.headers)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _problems(exc.errors())}, 422)

    counted = {outcome: metrics.events.labels(outcome) for outcome in _OUTCOMES}

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _unavailable(_: Request, exc: DBAPIError) -> JSONResponse:
        log.warning("database unavailable, answered with 503: %s", type(exc.orig).__name__)
        return JSONResponse({"detail": _UNAVAILABLE}, 503, headers=_RETRY_SOON)

    async def event_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _send_json(send, 405, {"detail": "Method Not Allowed"}, {"Allow": "POST"})
            return
        try:
            result = await post_event(_first_headers(scope["headers"]), receive)
        except Problem as problem:
            await _send_json(send, problem.status, {"detail": problem.detail}, problem.headers)
            return
        except ClientDisconnect:
            return  # nobody to answer
        except _DATABASE_UNAVAILABLE as error:
            log.warning("database unavailable, answered with 503: %s", type(error).__name__)
            detail = f"{_UNAVAILABLE} (posting the same event again is always safe)"
            await _send_json(send, 503, {"detail": detail}, _RETRY_SOON)
            return
        await _send_json(send, 200 if result.duplicate else 202, _answer(result))

    async def post_event(headers: dict[bytes, bytes], receive: Receive) -> Accepted:
        key = key_for(headers.get(b"authorization", b"").decode("latin-1"))
        body = await _json_body(receive, headers, MAX_BODY)
        event = _validate_event(body, region, [])
        try:
            result = await group_commit.accept(key, event.payload())
        except EventConflictError as error:
            counted["conflict"].inc()
            raise Problem(409, str(error)) from None
        counted["duplicate" if result.duplicate else "accepted"].inc()
        return result

    app.event_endpoint = event_endpoint

    # The batch endpoint checks the key itself rather than through a dependency (FastAPI
    # runs a plain-function dependency in the thread pool, a hop per request), and reads its
    # three headers in one pass.
    @app.post("/v1/events/batch", status_code=207, tags=["events"], openapi_extra=_BATCH_DOC)
    async def post_batch(request: Request) -> Response:
        headers = _first_headers(request.scope["headers"])
        key = key_for(headers.get(b"authorization", b"").decode("latin-1"))
        body = await _json_body(request.receive, headers, MAX_BATCH_BODY)
        try:
            batch = BatchIn.model_validate(body)
        except ValidationError as error:
            raise Problem(422, _problems(error.errors(), ("body",))) from None
        results: list[dict[str, Any] | None] = [None] * len(batch.events)
        valid: list[tuple[int, dict[str, Any]]] = []
        for index, raw in enumerate(batch.events):
            try:
                valid.append((index, _validate_event(raw, region, ["events", index]).payload()))
            except Problem as problem:
                results[index] = {"status": problem.status, "detail": problem.detail}
        stored = await _threaded(service.intake.accept_many, key, [p for _, p in valid])
        for (index, _), outcome in zip(valid, stored, strict=True):
            results[index] = _batch_result(outcome)
        return _json({"results": results}, 207)

    @app.get(
        "/v1/returns/{return_id}",
        tags=["reads"],
        response_model=ReturnDetail,
        responses={**_AUTH, **_NOT_FOUND},
    )
    def get_return(return_id: str, _: ApiKey) -> dict[str, Any]:
        if not _is_identifier(return_id):  # could never have been stored
            raise Problem(404, f"return {return_id!r} is unknown")
        try:
            return reads.return_detail(return_id)
        except NotFoundError as error:
            raise Problem(404, str(error)) from None

    @app.get(
        "/v1/notifications",
        tags=["reads"],
        response_model=NotificationPage,
        responses={**_AUTH, **_INVALID},
    )
    def list_notifications(
        _: ApiKey,
        return_id: Annotated[str | None, Query(max_length=128, pattern=_IDENTIFIER)] = None,
        status: NotificationStatus | None = None,
        channel: Channel | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        try:
            page, next_cursor = reads.notifications(
                return_id=return_id, status=status, channel=channel, limit=limit, cursor=cursor
            )
        except InvalidCursorError as error:
            raise Problem(
                422, [{"loc": ["query", "cursor"], "msg": str(error), "type": "value_error"}]
            ) from None
        return {"notifications": page, "next_cursor": next_cursor}

    @app.put(
        "/v1/customers/{customer_id}/preferences",
        tags=["customers"],
        response_model=PreferencesOut,
        responses={**_AUTH, **_INVALID},
    )
    def put_preferences(
        customer_id: Annotated[str, Path(max_length=128, pattern=_IDENTIFIER)],
        body: PreferencesIn,
        _: ApiKey,
    ) -> dict[str, Any]:
        return preferences.put(customer_id, body.model_dump(exclude_unset=True))

    @app.post(
        "/v1/webhooks",
        status_code=201,
        tags=["webhooks"],
        response_model=WebhookCreated,
        responses={**_AUTH, **_INVALID},
    )
    def post_webhook(body: WebhookIn, _: ApiKey) -> dict[str, Any]:
        # Refused now rather than at every send (CONTRACT 6); a plain function, so the name
        # is resolved in FastAPI's thread pool, not on the event loop.
        refusal = address_guard.refusal(body.url)
        if refusal is not None:
            problem = {"loc": ["body", "url"], "msg": refusal, "type": "value_error"}
            raise Problem(422, [problem])
        created = subscriptions.create(body.url, body.types)
        return {k: created[k] for k in ("id", "url", "types", "secret", "created_at")}

    @app.get("/v1/webhooks", tags=["webhooks"], response_model=WebhookList, responses=_AUTH)
    def get_webhooks(_: ApiKey) -> dict[str, Any]:
        return {"webhooks": subscriptions.all()}

    @app.delete(
        "/v1/webhooks/{webhook_id}",
        status_code=204,
        tags=["webhooks"],
        responses={**_AUTH, **_NOT_FOUND},
    )
    def delete_webhook(webhook_id: str, _: ApiKey) -> Response:
        try:
            subscriptions.delete(webhook_id)
        except NotFoundError as error:
            raise Problem(404, str(error)) from None
        return Response(status_code=204)

    @app.post("/v1/providers/sendgrid/events", tags=["providers"])
    async def sendgrid_events(request: Request) -> dict[str, int]:
        public_key = service.settings.sendgrid_webhook_public_key
        if public_key is None:
            raise Problem(401, "SendGrid callbacks are refused: no verification key is set")
        body = await _raw_body(request.receive, MAX_BATCH_BODY, _declared_length(request))
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
        applied = await _threaded(service.tracker.apply, events)
        return {"received": len(events), "changed": sum(a.changed for a in applied)}

    @app.post("/v1/providers/twilio/status", tags=["providers"])
    async def twilio_status(request: Request) -> Response:
        token = service.settings.twilio_auth_token
        if token is None:
            raise Problem(401, "Twilio callbacks are refused: Twilio is not configured")
        body = await _raw_body(request.receive, MAX_BODY, _declared_length(request))
        try:
            form = {k: v for k, v in parse_qsl(body.decode(), keep_blank_values=True)}
        except UnicodeDecodeError:
            raise Problem(400, "the callback body is not form data") from None
        # Twilio signs the URL it called: behind a proxy that is the public URL, not ours.
        url = service.settings.public_url + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        try:
            verify_twilio_signature(token, url, form, request.headers.get("x-twilio-signature"))
            event = parse_twilio_status({**dict(request.query_params), **form})
        except SignatureError as error:
            raise Problem(401, str(error)) from None
        except MalformedCallbackError as error:
            raise Problem(400, str(error)) from None
        await _threaded(service.tracker.apply, [event])
        return Response(status_code=204)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def metrics_text() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> Response:
        checks: dict[str, str] = {}
        try:
            db.ping(service.engine)
            checks["database"] = "ok"
        except Exception as error:  # noqa: BLE001 - reported, not raised
            checks["database"] = f"unreachable: {type(error).__name__}"
        checks["redis"] = _redis_status(service)
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, 200 if ready else 503)

    install_openapi(app)
    return app


_CHALLENGE = {"WWW-Authenticate": "Bearer"}
#: An identifier in a path or query: no control characters (schemas.Identifier's rule).
_IDENTIFIER = NO_CONTROL_CHARACTERS
_UNAVAILABLE = "the database is unavailable; retry later"
#: Errors that say the database cannot be reached or used now (rather than a fault of ours).
_DATABASE_UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
_RETRY_SOON = {"Retry-After": "5"}
#: The outcomes of a posted event, as counted in the metrics.
_OUTCOMES = ("accepted", "duplicate", "conflict")
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": ProblemAnswer, "description": "Missing or unknown API key."}
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ProblemAnswer, "description": "No such record."}
}
_INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": ProblemAnswer, "description": "Invalid input: one problem per field."}
}


async def _threaded(function: Any, *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(function, *args)


def _is_identifier(value: str) -> bool:
    return 0 < len(value) <= 128 and re.fullmatch(_IDENTIFIER, value) is not None


def _first_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """ASGI headers by lower-case name (the first of repeated ones)."""
    headers: dict[bytes, bytes] = {}
    for name, value in raw:
        headers.setdefault(name, value)
    return headers


def _declared_length(request: Request) -> bytes:
    return request.headers.get("content-length", "").encode("latin-1")


async def _raw_body(receive: Receive, limit: int, declared: bytes) -> bytes:
    if declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"request body is over {limit // 1024} KiB")
    # The ASGI messages themselves rather than request.stream(): an async generator per
    # request costs more than the loop (the event loop tracks each one in a weak set).
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"request body is over {limit // 1024} KiB")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _json_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> Any:
    media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if media != b"application/json":
        raise Problem(415, "Content-Type must be application/json")
    body = await _raw_body(receive, limit, headers.get(b"content-length", b""))
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass  # the standard library's parser decides, and words the answer, as before
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Problem(400, f"request body is not valid JSON: {error}") from None


def _validate_event(body: Any, region: str, prefix: list[str | int]) -> EventIn:
    if not isinstance(body, dict):
        raise Problem(
            422, [{"loc": ["body", *prefix], "msg": "must be a JSON object", "type": "type_error"}]
        )
    try:
        return EventIn.model_validate(body, context={"region": region})
    except ValidationError as error:
        raise Problem(422, _problems(error.errors(), ("body", *prefix))) from None


def _problems(errors: Any, prefix: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    problems = []
    for error in errors:
        msg = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "string_pattern_mismatch":
            msg = PATTERN_MESSAGES.get(error.get("ctx", {}).get("pattern"), msg)
        problems.append({"loc": [*prefix, *error["loc"]], "msg": msg, "type": error["type"]})
    return problems


def _json(content: Any, status: int) -> Response:
    """A JSON answer, encoded as :class:`JSONResponse` would, with a faster encoder."""
    return Response(orjson.dumps(content), status, media_type="application/json")


def _answer(result: Accepted) -> dict[str, Any]:
    return {
        "event_id": result.event_id,
        "return_id": result.return_id,
        "duplicate": result.duplicate,
    }


async def _send_json(
    send: Send, status: int, content: Any, headers: Mapping[str, str] | None = None
) -> None:
    """A whole JSON answer on a bare ASGI ``send``."""
    body = orjson.dumps(content)
    raw = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _batch_result(outcome: Accepted | EventConflictError) -> dict[str, Any]:
    if isinstance(outcome, EventConflictError):
        return {"status": 409, "detail": str(outcome)}
    return {
        "status": 200 if outcome.duplicate else 202,
        "event_id": outcome.event_id,
        "return_id": outcome.return_id,
        "duplicate": outcome.duplicate,
    }


def _redis_status(service: Service) -> str:
    client = getattr(service.broker, "client", None)
    if client is None:
        return "ok"  # the in-memory broker
    try:
        client.ping()
        return "ok"
    except Exception as error:  # noqa: BLE001 - reported, not raised
        return f"unreachable: {type(error).__name__}"


_BATCH_DOC: dict[str, Any] = {"x-body-model": "BatchIn"}
