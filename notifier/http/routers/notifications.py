"""``GET /v1/notifications``: notifications newest first, filtered and paged."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from notifier.errors import InvalidCursorError
from notifier.http.bodies import IDENTIFIER
from notifier.http.deps import ApiKey, Parts
from notifier.http.problems import AUTH, INVALID, invalid
from notifier.http.reads import MAX_PAGE
from notifier.http.schemas import NotificationPage
from notifier.status import Channel, NotificationStatus

router = APIRouter(tags=["reads"])


@router.get("/v1/notifications", response_model=NotificationPage, responses={**AUTH, **INVALID})
def list_notifications(
    _: ApiKey,
    api: Parts,
    return_id: Annotated[str | None, Query(max_length=128, pattern=IDENTIFIER)] = None,
    status: NotificationStatus | None = None,
    channel: Channel | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    try:
        page, next_cursor = api.reads.notifications(
            return_id=return_id, status=status, channel=channel, limit=limit, cursor=cursor
        )
    except InvalidCursorError as error:
        raise invalid(["query", "cursor"], str(error)) from None
    return {"notifications": page, "next_cursor": next_cursor}
