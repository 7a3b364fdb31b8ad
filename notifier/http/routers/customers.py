"""``PUT /v1/customers/{customer_id}/preferences``: channel opt-outs, locale, time zone."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path

from notifier.http.bodies import IDENTIFIER
from notifier.http.deps import ApiKey, Parts
from notifier.http.problems import AUTH, INVALID
from notifier.http.schemas import Preferences, PreferencesOut

router = APIRouter(tags=["customers"])


@router.put(
    "/v1/customers/{customer_id}/preferences",
    response_model=PreferencesOut,
    responses={**AUTH, **INVALID},
)
def put_preferences(
    customer_id: Annotated[str, Path(max_length=128, pattern=IDENTIFIER)],
    body: Preferences,
    _: ApiKey,
    api: Parts,
) -> dict[str, Any]:
    return asdict(api.preferences.put(customer_id, body.model_dump(exclude_unset=True)))
