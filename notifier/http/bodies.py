"""Request bodies read by hand: size limits, content types and JSON, with precise 4xx.

The event endpoints read their bodies here rather than through FastAPI's body parameter,
so an oversized body is refused while it arrives, a wrong content type is a 415 and
malformed JSON a 400, and the phone validator knows the configured default region.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Send

from notifier.http.problems import RETRY_SOON, Problem, problems
from notifier.http.schemas import NO_CONTROL_CHARACTERS, EventIn

#: Largest accepted request body (CONTRACT 3: 413 above it).
MAX_BODY = 256 * 1024
#: Largest batch body: 500 events, each up to MAX_BODY would be too much; 8 MiB in all.
MAX_BATCH_BODY = 8 * 1024 * 1024
#: An identifier in a path or query: no control characters (schemas.Identifier's rule).
IDENTIFIER = NO_CONTROL_CHARACTERS


#: Deepest JSON nesting read (orjson's own limit); an event is a handful of levels deep.
MAX_JSON_DEPTH = 1024
#: Longest integer read: Python's own limit on converting digits to an int.
MAX_INT_DIGITS = 4300


class UnreadableJson(ValueError):
    """A text that is not JSON, or JSON past the depth or number limits; says which."""


def parse_json(text: bytes | str) -> Any:
    """``text`` parsed as JSON.

    orjson reads nearly everything; what it refuses goes to the standard library's parser,
    which words the error, so a body nested too deep or with an overlong number is told
    as such rather than failing with a ``RecursionError`` or a ``ValueError`` about
    ``sys.set_int_max_str_digits``.

    Raises:
        UnreadableJson: not JSON, nested deeper than :data:`MAX_JSON_DEPTH` levels, or
            holding a number of more than :data:`MAX_INT_DIGITS` digits.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except RecursionError:
        raise UnreadableJson(f"is nested deeper than {MAX_JSON_DEPTH:,} levels") from None
    except json.JSONDecodeError as error:
        raise UnreadableJson(f"is not valid JSON: {error}") from None
    except UnicodeDecodeError as error:
        raise UnreadableJson(f"is not valid JSON: {error}") from None
    except ValueError:  # only the integer digit limit is left
        raise UnreadableJson(f"holds a number of more than {MAX_INT_DIGITS:,} digits") from None


def is_identifier(value: str) -> bool:
    """Whether ``value`` could ever have been stored as an identifier."""
    return 0 < len(value) <= 128 and re.fullmatch(IDENTIFIER, value) is not None


def first_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """ASGI headers by lower-case name (the first of repeated ones)."""
    headers: dict[bytes, bytes] = {}
    for name, value in raw:
        headers.setdefault(name, value)
    return headers


def declared_length(request: Request) -> bytes:
    """The request's ``Content-Length`` as sent (empty if none)."""
    return request.headers.get("content-length", "").encode("latin-1")


class BodyBudget:
    """The bytes that bodies still arriving may hold at once, shared by their requests.

    Bounds the memory that many slow or stalled senders can tie up together, whatever the
    number of connections: past it, a request is answered with a 503 and ``Retry-After``.
    """

    def __init__(self, total: int) -> None:
        self.total = total
        self.held = 0

    def take(self, size: int) -> None:
        """Hold ``size`` more bytes.

        Raises:
            Problem: 503, the budget is spent; nothing was taken.
        """
        if self.held + size > self.total:
            raise Problem(
                503, "too many request bodies are arriving at once; retry shortly", RETRY_SOON
            )
        self.held += size

    def give_back(self, size: int) -> None:
        """Release ``size`` bytes taken before."""
        self.held -= size


async def raw_body(
    receive: Receive, limit: int, declared: bytes, budget: BodyBudget | None = None
) -> bytes:
    """The whole body, refused with a 413 as soon as it is known to be over ``limit``.

    With a ``budget``, the bytes read count against it while the body arrives (a 503 once it
    is spent).
    """
    if declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"request body is over {limit // 1024} KiB")
    # The ASGI messages themselves rather than request.stream(): an async generator per
    # request costs more than the loop (the event loop tracks each one in a weak set).
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            if size + len(chunk) > limit:
                raise Problem(413, f"request body is over {limit // 1024} KiB")
            if budget is not None:
                budget.take(len(chunk))
            size += len(chunk)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
    finally:
        if budget is not None:
            budget.give_back(size)


async def json_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> Any:
    """The body parsed as JSON: 415 for another media type, 400 for malformed JSON."""
    media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if media != b"application/json":
        raise Problem(415, "Content-Type must be application/json")
    body = await raw_body(receive, limit, headers.get(b"content-length", b""))
    try:
        return parse_json(body)
    except UnreadableJson as error:
        raise Problem(400, f"request body {error}") from None


def validate_event(body: Any, region: str, prefix: list[str | int]) -> EventIn:
    """``body`` as an event, or a 422 whose problems are located under ``prefix``."""
    if not isinstance(body, dict):
        raise Problem(
            422, [{"loc": ["body", *prefix], "msg": "must be a JSON object", "type": "type_error"}]
        )
    try:
        return EventIn.model_validate(body, context={"region": region})
    except ValidationError as error:
        raise Problem(422, problems(error.errors(), ("body", *prefix))) from None


def json_response(content: Any, status: int) -> Response:
    """A JSON answer, encoded as :class:`JSONResponse` would, with a faster encoder."""
    return Response(orjson.dumps(content), status, media_type="application/json")


async def send_json(
    send: Send, status: int, content: Any, headers: Mapping[str, str] | None = None
) -> None:
    """A whole JSON answer on a bare ASGI ``send``."""
    body = orjson.dumps(content)
    raw = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
