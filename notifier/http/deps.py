"""What the routers share: the parts of the service the API uses, and the API-key check.

:func:`~notifier.http.app.create_app` builds one :class:`Api` and keeps it on
``app.state``; endpoints receive it, and the caller's key name, as dependencies.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from prometheus_client import Counter

from channels.address_guard import AddressGuard
from notifier.dispatch import Preferences, Subscriptions
from notifier.http.metrics import Metrics
from notifier.http.problems import CHALLENGE, Problem
from notifier.http.readiness import Readiness
from notifier.http.reads import Reads
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

    @classmethod
    def build(cls, service: Service) -> Api:
        engine = service.engine
        return cls(
            service=service,
            keys=ApiKeys(service.settings.api_keys),
            reads=Reads(engine, service.settings.retention_days),
            preferences=Preferences(engine),
            subscriptions=Subscriptions(engine),
            metrics=Metrics(engine),
            address_guard=AddressGuard(allow_private=service.settings.webhook_allow_private),
            readiness=Readiness(service),
        )

    def counted(self, outcome: EventOutcome) -> Counter:
        """The ``notifier_events_total`` series of ``outcome``."""
        return self.metrics.events.labels(outcome)


async def api(request: Request) -> Api:
    """The application's :class:`Api`."""
    return cast(Api, request.app.state.api)


async def api_key(request: Request) -> str:
    """The name of the caller's API key; a 401 without a known one."""
    return (await api(request)).keys.name_for(request.headers.get("authorization", ""))


#: The application's parts, as an endpoint parameter.
Parts = Annotated[Api, Depends(api)]
#: The caller's API key name, as an endpoint parameter (a 401 without a known key).
ApiKey = Annotated[str, Depends(api_key)]
