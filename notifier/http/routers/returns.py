"""``GET /v1/returns/{return_id}``: a return's status, timeline and notifications."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from notifier.errors import NotFoundError
from notifier.http.bodies import is_identifier
from notifier.http.deps import ApiKey, Parts
from notifier.http.problems import AUTH, NOT_FOUND, Problem
from notifier.http.schemas import ReturnDetail

router = APIRouter(tags=["reads"])


@router.get("/v1/returns/{return_id}", response_model=ReturnDetail, responses={**AUTH, **NOT_FOUND})
def get_return(return_id: str, _: ApiKey, api: Parts) -> dict[str, Any]:
    if not is_identifier(return_id):  # could never have been stored
        raise Problem(404, f"return {return_id!r} is unknown")
    try:
        return api.reads.return_detail(return_id)
    except NotFoundError as error:
        raise Problem(404, str(error)) from None
