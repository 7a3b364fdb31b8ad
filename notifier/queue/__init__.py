"""The queue: dramatiq on Redis, the relay that hands over again what the database
says is waiting, and the embedded ``redis-server`` of ``notifier run``.

Offers :func:`make_broker`, :func:`declare_actors`, :class:`Relay` and
:class:`EmbeddedRedis`.
"""

from notifier.queue.broker import (
    DELIVERY_CHUNK,
    DISPATCH_CHUNK,
    HEARTBEAT_TIMEOUT_MS,
    MAINTENANCE_CHANCE,
    Actors,
    declare_actors,
    declare_enqueuer,
    held_deliveries,
    held_events,
    make_broker,
)
from notifier.queue.embedded_redis import EmbeddedRedis, free_port
from notifier.queue.relay import Relay, RelayThread

__all__ = [
    "Actors",
    "DELIVERY_CHUNK",
    "DISPATCH_CHUNK",
    "EmbeddedRedis",
    "HEARTBEAT_TIMEOUT_MS",
    "MAINTENANCE_CHANCE",
    "Relay",
    "RelayThread",
    "declare_actors",
    "declare_enqueuer",
    "free_port",
    "held_deliveries",
    "held_events",
    "make_broker",
]
