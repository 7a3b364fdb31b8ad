"""``/v1/webhooks``: subscriptions of return systems and staff tools to outbound webhooks."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from notifier.errors import NotFoundError
from notifier.http.bodies import MAX_BODY
from notifier.http.deps import ApiKey, KeyFirstRoute, Parts
from notifier.http.problems import AUTH, INVALID, NOT_FOUND, TOO_LARGE, Problem, invalid
from notifier.http.schemas import WebhookCreated, WebhookIn, WebhookList

# The key is checked before the body is read, and the body is refused past MAX_BODY.
router = APIRouter(tags=["webhooks"], route_class=KeyFirstRoute, max_body_size=MAX_BODY)


@router.post(
    "/v1/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    responses={**AUTH, **TOO_LARGE, **INVALID},
)
def post_webhook(body: WebhookIn, _: ApiKey, api: Parts) -> dict[str, Any]:
    # Refused now rather than at every send (CONTRACT 6); a plain function, so the name is
    # resolved in FastAPI's thread pool, not on the event loop.
    refusal = api.address_guard.refusal(body.url)
    if refusal is not None:
        raise invalid(["body", "url"], refusal)
    created, secret = api.subscriptions.create(body.url, body.types)
    return {
        "id": created.id,
        "url": created.url,
        "types": created.types,
        "secret": secret,
        "created_at": created.created_at,
    }


@router.get("/v1/webhooks", response_model=WebhookList, responses=AUTH)
def get_webhooks(_: ApiKey, api: Parts) -> dict[str, Any]:
    return {"webhooks": [asdict(s) for s in api.subscriptions.all()]}


@router.delete("/v1/webhooks/{webhook_id}", status_code=204, responses={**AUTH, **NOT_FOUND})
def delete_webhook(webhook_id: str, _: ApiKey, api: Parts) -> Response:
    try:
        api.subscriptions.delete(webhook_id)
    except NotFoundError as error:
        raise Problem(404, str(error)) from None
    return Response(status_code=204)
