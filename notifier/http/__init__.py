"""The HTTP edge: the FastAPI application, one router per resource, the request and
answer schemas and the OpenAPI document. Pydantic lives here only.

Offers :func:`create_app` (the ASGI application for a :class:`~notifier.service.Service`),
the event schema :class:`EventIn` with its example, and the HTTP server's connection limits
(:class:`ConnectionLimits`, :func:`server_options`).
"""

from notifier.http.app import NotifierApp, create_app
from notifier.http.bodies import MAX_BODY
from notifier.http.connections import ConnectionLimits, server_options
from notifier.http.openapi import EXAMPLE_EVENT
from notifier.http.schemas import EventIn

__all__ = [
    "EXAMPLE_EVENT",
    "ConnectionLimits",
    "EventIn",
    "MAX_BODY",
    "NotifierApp",
    "create_app",
    "server_options",
]
