"""The HTTP API (CONTRACT sections 3 and 4), built by :func:`create_app` from a Service.

One router per resource (:mod:`notifier.http.routers`); the parts they share are built
once into :class:`~notifier.http.deps.Api`. ``POST /v1/events`` is served ahead of
FastAPI's stack (:class:`NotifierApp`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from notifier.http.bodies import send_json
from notifier.http.deps import Api
from notifier.http.openapi import install_openapi
from notifier.http.problems import install_handlers
from notifier.http.routers import ROUTERS
from notifier.http.routers.events import EventEndpoint
from notifier.http.staff import install_console
from notifier.service import Service


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
        if scope["type"] == "http":
            where = _nul_in(scope)
            if where is not None:
                # Nothing stored can hold a NUL, and PostgreSQL cannot even compare one.
                problem = {"loc": where, "msg": "must not contain a NUL character"}
                await send_json(send, 422, {"detail": [{**problem, "type": "value_error"}]})
                return
            if scope["path"] == "/v1/events" and self.event_endpoint:
                await self.event_endpoint(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _nul_in(scope: Scope) -> list[str] | None:
    """Where the request's URL holds a NUL (``["path"]``, ``["query", name]``), else None."""
    if "\x00" in scope["path"]:
        return ["path"]
    query: bytes = scope.get("query_string", b"")
    if b"\x00" not in query and b"%00" not in query:
        return None
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    name = next((k for k, v in pairs if "\x00" in k or "\x00" in v), "")
    return ["query", name] if name and "\x00" not in name else ["query"]


def create_app(service: Service) -> NotifierApp:
    """The FastAPI application for ``service``."""
    app = NotifierApp(
        title="notifier",
        version="0.1.0",
        description="Customer messages for e-commerce returns: post status events, read "
        "what was sent.",
    )
    api = Api.build(service)
    app.state.service = service
    app.state.api = api
    install_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    install_console(app, api)
    app.event_endpoint = EventEndpoint(api)
    install_openapi(app)
    return app
