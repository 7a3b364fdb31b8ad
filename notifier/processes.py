"""The long-running parts of a process: HTTP server, dramatiq worker, relay, embedded Redis.

``notifier run`` starts them all in one process; ``notifier api`` and ``notifier worker`` start
their own share. Each start returns something to stop, and stopping happens in reverse.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import uvicorn
from dramatiq import Worker

from notifier.redis_server import EmbeddedRedis
from notifier.relay import RelayThread
from notifier.service import Service
from notifier.settings import Settings

log = logging.getLogger(__name__)


@contextmanager
def embedded_redis(settings: Settings) -> Iterator[Settings]:
    """Settings pointing at a Redis: the configured one, or an embedded one started now."""
    if settings.redis_url is not None:
        yield settings
        return
    server = EmbeddedRedis(settings.redis_dir, appendonly=True).start()
    log.info("embedded Redis listening on 127.0.0.1:%d, data in %s", server.port, server.directory)
    try:
        yield replace(settings, redis_url=server.url)
    finally:
        server.stop()


@contextmanager
def worker(service: Service) -> Iterator[Worker]:
    """Dramatiq worker threads and the outbox relay, for as long as the block runs."""
    dramatiq_worker = Worker(service.broker, worker_threads=service.settings.worker_threads)
    dramatiq_worker.start()
    relay = RelayThread(service.relay, service.settings.relay_interval)
    relay.start()
    try:
        yield dramatiq_worker
    finally:
        relay.stop()
        dramatiq_worker.stop(timeout=10_000)


def serve_http(service: Service) -> None:
    """Serve the API until SIGINT or SIGTERM."""
    from notifier.api import create_app

    config = uvicorn.Config(
        create_app(service),
        host=service.settings.host,
        port=service.settings.port,
        log_level=service.settings.log_level.lower(),
        access_log=False,
    )
    uvicorn.Server(config).run()


def wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM."""
    stop = threading.Event()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
