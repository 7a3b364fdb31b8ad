"""``/v1/customers/{customer_id}``: preferences (channel opt-outs, locale, time zone), and
a customer's personal data erased or handed over on request (GDPR/AVG)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path

from notifier.http.bodies import IDENTIFIER, MAX_BODY
from notifier.http.deps import ApiKey, KeyFirstRoute, Parts
from notifier.http.problems import AUTH, INVALID, NOT_FOUND, TOO_LARGE, Problem
from notifier.http.schemas import CustomerData, ErasureResult, Preferences, PreferencesOut

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


#: A customer id as the path gives it: what intake accepts as one.
CustomerId = Annotated[str, Path(max_length=128, pattern=IDENTIFIER)]


@router.delete(
    "/v1/customers/{customer_id}",
    response_model=ErasureResult,
    responses={**AUTH, **INVALID},
    summary="Erase a customer's personal data",
    description="Erases everything stored about the customer, at once and for good: their "
    "returns with their events, every notification (sent, still to be sent: cancelled, dead "
    "letters), reminders the scheduler would send later, and their preferences. A "
    "suppression of their address is kept under a pseudonym (a hash), so they stay "
    "protected from messages they refused. A queued job finds nothing and sends nothing. "
    "Recorded in the privacy audit with the API key's name and a fingerprint of the "
    "customer id. Erasing a customer with nothing stored answers zero counts. An event "
    "posted later for the customer starts a new return.",
)
def erase_customer(customer_id: CustomerId, key: ApiKey, api: Parts) -> dict[str, Any]:
    report = api.service.erasure.erase(customer_id, actor=key)
    return {"customer_id": customer_id, "erased": report.counts}


@router.get(
    "/v1/customers/{customer_id}/data",
    response_model=CustomerData,
    responses={**AUTH, **NOT_FOUND, **INVALID},
    summary="Everything stored about a customer",
    description="The customer's returns with their events as posted, every notification "
    "with its recipient in clear, its template data and provider error, their preferences "
    "and the suppressions of their addresses. Recorded in the privacy audit (without the "
    "data). 404 when nothing is stored about them.",
)
def customer_data(customer_id: CustomerId, key: ApiKey, api: Parts) -> dict[str, Any]:
    data = api.service.erasure.export(customer_id, actor=key)
    if data is None:
        raise Problem(404, f"nothing is stored about customer {customer_id!r}")
    return data
