"""``PUT /v1/customers/{customer_id}/preferences``: channel opt-outs, locale, time zone."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path

from notifier.http.bodies import IDENTIFIER, MAX_BODY
from notifier.http.deps import ApiKey, KeyFirstRoute, Parts
from notifier.http.problems import AUTH, INVALID, TOO_LARGE
from notifier.http.schemas import Preferences, PreferencesOut

# The key is checked before the body is read, and the body is refused past MAX_BODY.
router = APIRouter(tags=["customers"], route_class=KeyFirstRoute, max_body_size=MAX_BODY)


@router.put(
    "/v1/customers/{customer_id}/preferences",
    response_model=PreferencesOut,
    responses={**AUTH, **TOO_LARGE, **INVALID},
)
def put_preferences(
    customer_id: Annotated[str, Path(max_length=128, pattern=IDENTIFIER)],
    body: Preferences,
    _: ApiKey,
    api: Parts,
) -> dict[str, Any]:
    return asdict(api.preferences.put(customer_id, body.model_dump(exclude_unset=True)))
