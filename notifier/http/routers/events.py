"""``POST /v1/events`` and ``POST /v1/events/batch``: return systems post status events.

The single-event endpoint is the service's hot path: it is a plain ASGI callable
(:class:`EventEndpoint`) that :class:`~notifier.http.app.NotifierApp` serves ahead of
FastAPI's middleware and router; its OpenAPI operation is written in
:mod:`notifier.http.openapi`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from notifier import logs
from notifier.errors import EventConflictError
from notifier.http.bodies import (
    MAX_BATCH_BODY,
    MAX_BODY,
    first_headers,
    json_body,
    json_response,
    send_json,
    validate_event,
)
from notifier.http.deps import Api, Parts
from notifier.http.problems import (
    DATABASE_UNAVAILABLE,
    RETRY_SOON,
    UNAVAILABLE,
    Problem,
    problems,
)
from notifier.http.schemas import BatchIn
from notifier.intake import Accepted
from notifier.status import EventOutcome

log = logging.getLogger(__name__)

router = APIRouter(tags=["events"])


class EventEndpoint:
    """The ASGI callable answering ``/v1/events``: 202, 200 (duplicate), 409, 4xx or 503."""

    def __init__(self, api: Api) -> None:
        self._api = api
        self._group_commit = api.service.group_commit
        self._region = api.service.settings.default_region
        self._counted = {outcome: api.counted(outcome) for outcome in EventOutcome}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await send_json(send, 405, {"detail": "Method Not Allowed"}, {"Allow": "POST"})
            return
        try:
            result = await self._post(first_headers(scope["headers"]), receive)
        except Problem as problem:
            await send_json(send, problem.status, {"detail": problem.detail}, problem.headers)
            return
        except ClientDisconnect:
            return  # nobody to answer
        except DATABASE_UNAVAILABLE as error:
            log.warning("database unavailable, answered with 503: %s", type(error).__name__)
            detail = f"{UNAVAILABLE} (posting the same event again is always safe)"
            await send_json(send, 503, {"detail": detail}, RETRY_SOON)
            return
        await send_json(send, 200 if result.duplicate else 202, _answer(result))

    async def _post(self, headers: dict[bytes, bytes], receive: Receive) -> Accepted:
        key = self._api.keys.name_for(headers.get(b"authorization", b"").decode("latin-1"))
        body = await json_body(receive, headers, MAX_BODY)
        try:
            event = validate_event(body, self._region, [])
        except Problem:
            self._counted[EventOutcome.INVALID].inc()
            raise
        try:
            with logs.bound(event_id=event.event_id, return_id=event.return_.id):
                result = await self._group_commit.accept(key, event.payload())
        except EventConflictError as error:
            self._counted[EventOutcome.CONFLICT].inc()
            raise Problem(409, str(error)) from None
        self._counted[EventOutcome.DUPLICATE if result.duplicate else EventOutcome.ACCEPTED].inc()
        return result


# The batch endpoint checks the key itself rather than through a dependency (FastAPI runs a
# plain-function dependency in the thread pool, a hop per request), and reads its three
# headers in one pass.
@router.post("/v1/events/batch", status_code=207, openapi_extra={"x-body-model": "BatchIn"})
async def post_batch(request: Request, api: Parts) -> Response:
    headers = first_headers(request.scope["headers"])
    key = api.keys.name_for(headers.get(b"authorization", b"").decode("latin-1"))
    body = await json_body(request.receive, headers, MAX_BATCH_BODY)
    try:
        batch = BatchIn.model_validate(body)
    except ValidationError as error:
        raise Problem(422, problems(error.errors(), ("body",))) from None
    region = api.service.settings.default_region
    results: list[dict[str, Any] | None] = [None] * len(batch.events)
    valid: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(batch.events):
        try:
            valid.append((index, validate_event(raw, region, ["events", index]).payload()))
        except Problem as problem:
            results[index] = {"status": problem.status, "detail": problem.detail}
            api.counted(EventOutcome.INVALID, "batch").inc()
    payloads = [payload for _, payload in valid]
    stored = await run_in_threadpool(api.service.intake.accept_many, key, payloads)
    for (index, _), outcome in zip(valid, stored, strict=True):
        results[index] = _batch_result(outcome)
        api.counted(_outcome(outcome), "batch").inc()
    return json_response({"results": results}, 207)


def _answer(result: Accepted) -> dict[str, Any]:
    return {
        "event_id": result.event_id,
        "return_id": result.return_id,
        "duplicate": result.duplicate,
    }


def _outcome(outcome: Accepted | EventConflictError) -> EventOutcome:
    if isinstance(outcome, EventConflictError):
        return EventOutcome.CONFLICT
    return EventOutcome.DUPLICATE if outcome.duplicate else EventOutcome.ACCEPTED


def _batch_result(outcome: Accepted | EventConflictError) -> dict[str, Any]:
    if isinstance(outcome, EventConflictError):
        return {"status": 409, "detail": str(outcome)}
    return {"status": 200 if outcome.duplicate else 202, **_answer(outcome)}
