"""Answers other than success: the :class:`Problem` error, its JSON shape and handlers.

Every error answer is ``{"detail": ...}``; a 422 lists one problem per field, each naming
its location (``["body", "customer", "email"]``), what is wrong and its type.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from notifier import db
from notifier.errors import IntakeBusyError
from notifier.http.schemas import PATTERN_MESSAGES, ProblemAnswer

log = logging.getLogger(__name__)

#: The header a 401 carries (RFC 6750).
CHALLENGE = {"WWW-Authenticate": "Bearer"}
#: The detail of a 503 for a database that cannot be reached or used now.
UNAVAILABLE = "the database is unavailable; retry later"
#: Errors that say the database cannot be reached or used now (rather than a fault of ours):
#: down, not answering within its deadlines (statement, lock, connect, the pool's checkout),
#: or the intake's queue full or not served in time.
DATABASE_UNAVAILABLE = (*db.UNAVAILABLE, IntakeBusyError)
#: The header of a 503: when to try again.
RETRY_SOON = {"Retry-After": "5"}

#: OpenAPI ``responses`` entries shared by the routers.
AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": ProblemAnswer, "description": "Missing or unknown API key."}
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ProblemAnswer, "description": "No such record."}
}
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {
        "model": ProblemAnswer,
        "description": "The body is over 256 KiB: refused at its first byte over, or at once "
        "from Content-Length.",
    }
}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": ProblemAnswer, "description": "Invalid input: one problem per field."}
}
#: What a ``503`` means, in the OpenAPI document.
UNAVAILABLE_DESCRIPTION = (
    "The database is unavailable or did not answer within its deadline; nothing was changed "
    "that a retry would repeat. Retry after the seconds of Retry-After."
)


class Problem(Exception):
    """An answer other than success, with its status, detail and headers."""

    def __init__(self, status: int, detail: Any, headers: Mapping[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers) if headers else None


def invalid(loc: Iterable[str | int], msg: str, kind: str = "value_error") -> Problem:
    """A 422 with one problem at ``loc``."""
    return Problem(422, [{"loc": list(loc), "msg": msg, "type": kind}])


def problems(errors: Iterable[Any], prefix: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """Pydantic's validation errors as the API's problem list, located under ``prefix``."""
    found = []
    for error in errors:
        msg = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "string_pattern_mismatch":
            msg = PATTERN_MESSAGES.get(error.get("ctx", {}).get("pattern"), msg)
        found.append({"loc": [*prefix, *error["loc"]], "msg": msg, "type": error["type"]})
    return found


def install_handlers(app: FastAPI) -> None:
    """Answer :class:`Problem`, HTTP errors, validation errors and an unavailable database
    in the API's shape."""

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, exc.status, headers=exc.headers)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, __: ClientDisconnect) -> Response:
        # The client left, or was cut off while its body stalled: nobody reads an answer.
        return Response(status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": problems(exc.errors())}, 422)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeoutError)
    async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        log.warning("database unavailable, answered with 503: %s", type(cause).__name__)
        return JSONResponse({"detail": UNAVAILABLE}, 503, headers=RETRY_SOON)
