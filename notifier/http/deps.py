"""What the routers share: the parts of the service the API uses, and the API-key check.

:func:`~notifier.http.app.create_app` builds one :class:`Api` and keeps it on
``app.state``; endpoints receive it, and the caller's key name, as dependencies.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from prometheus_client import Counter

from channels.address_guard import AddressGuard
from notifier.dispatch import Preferences, Subscriptions
from notifier.http.bodies import BodyBudget
from notifier.http.problems import CHALLENGE, Problem
from notifier.http.readiness import Readiness
from notifier.http.reads import Reads
from notifier.metrics import Metrics
from notifier.service import Service
from notifier.status import EventOutcome


class ApiKeys:
    """The configured API keys (``NOTIFIER_API_KEYS``), checked in constant time."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._keys = [(name, secret.encode()) for name, secret in keys.items()]

    def name_for(self, header: str) -> str:
        """The name of the key in an ``Authorization`` header.

        Raises:
            Problem: 401, the header is missing, not ``Bearer``, or names no known key.
        """
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Problem(401, "missing Authorization: Bearer <api key>", CHALLENGE)
        found = None
        for name, secret in self._keys:  # compare with every key: time does not reveal which
            if hmac.compare_digest(secret, token.encode()):
                found = name
        if found is None:
            raise Problem(401, "unknown API key", CHALLENGE)
        return found


#: Bytes all provider callbacks still arriving may hold together (eight of SendGrid's
#: largest); a callback past it is answered 503, and the provider sends it again later.
CALLBACK_BODY_BUDGET = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Api:
    """The service's parts the endpoints use, built once per application."""

    service: Service
    keys: ApiKeys
    reads: Reads
    preferences: Preferences
    subscriptions: Subscriptions
    metrics: Metrics
    address_guard: AddressGuard
    readiness: Readiness
    #: What the bodies of unauthenticated provider callbacks may hold while they arrive.
    callback_bodies: BodyBudget

    @classmethod
    def build(cls, service: Service) -> Api:
        engine = service.engine
        return cls(
            service=service,
            keys=ApiKeys(service.settings.api_keys),
            reads=Reads(engine, service.settings.retention_days),
            preferences=Preferences(engine),
            subscriptions=Subscriptions(engine),
            metrics=_watching(service),
            address_guard=AddressGuard(allow_private=service.settings.webhook_allow_private),
            readiness=Readiness(service),
            callback_bodies=BodyBudget(CALLBACK_BODY_BUDGET),
        )

    def counted(self, outcome: EventOutcome, endpoint: str = "single") -> Counter:
        """The ``notifier_events_total`` series of ``outcome`` at ``endpoint`` (``single``
        or ``batch``)."""
        return self.metrics.events.labels(outcome, endpoint)


def _watching(service: Service) -> Metrics:
    """The service's metrics, reading the queues and the outbox at each scrape from now on."""
    service.watch_state()
    return service.metrics


async def api(request: Request) -> Api:
    """The application's :class:`Api`."""
    return cast(Api, request.app.state.api)


#: Where a :class:`KeyFirstRoute` leaves the key name it found, for :func:`api_key`.
_KEY_NAME = "notifier.api_key"


async def api_key(request: Request) -> str:
    """The name of the caller's API key; a 401 without a known one."""
    found = request.scope.get(_KEY_NAME)
    if found is not None:
        return cast(str, found)
    return (await api(request)).keys.name_for(request.headers.get("authorization", ""))


class KeyFirstRoute(APIRoute):
    """A route that checks the caller's API key before its body is read.

    FastAPI reads and parses a body parameter before it solves any dependency, the key's
    included; a route of this class refuses a request without a known key (401) first, so
    nobody without one has a body read.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def key_first(request: Request) -> Response:
            request.scope[_KEY_NAME] = await api_key(request)
            return await handler(request)

        return key_first


#: The application's parts, as an endpoint parameter.
Parts = Annotated[Api, Depends(api)]
#: The caller's API key name, as an endpoint parameter (a 401 without a known key).
ApiKey = Annotated[str, Depends(api_key)]
