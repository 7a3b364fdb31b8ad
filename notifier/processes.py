"""The long-running parts of a process: HTTP server, dramatiq worker, relay, scheduler,
embedded Redis.

``notifier run`` starts them all in one process; ``notifier api``, ``notifier worker`` and
``notifier scheduler`` start their own share. Each start returns something to stop, and
stopping happens in reverse.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from dramatiq import Worker
from prometheus_client import start_http_server

from notifier.errors import ConfigurationError
from notifier.privacy import Retention
from notifier.queue import EmbeddedRedis, RelayThread
from notifier.scheduling import Scheduler
from notifier.service import Service
from notifier.settings import METRICS_PORTS, Settings

if TYPE_CHECKING:
    from notifier.http import ConnectionLimits

log = logging.getLogger(__name__)


@contextmanager
def embedded_redis(settings: Settings) -> Iterator[Settings]:
    """Settings pointing at a Redis: the configured one, or an embedded one started now."""
    if settings.redis_url is not None:
        yield settings
        return
    server = EmbeddedRedis(settings.redis_dir, appendonly=True).start()
    server.supervise()
    log.info("embedded Redis listening on 127.0.0.1:%d, data in %s", server.port, server.directory)
    try:
        yield replace(settings, redis_url=server.url)
    finally:
        server.stop()


#: Milliseconds an idle queue consumer waits at most before asking Redis again (dramatiq's
#: default is 1,000: a message arriving at a queue idle for a second waited up to a second).
WORKER_TIMEOUT_MS = 100


#: Seconds a stopping worker gives its jobs in progress to finish (and as much again to
#: its queue consumers); the production compose file's stop_grace_period leaves room for both.
WORKER_STOP_SECONDS = 10.0


@contextmanager
def worker(service: Service) -> Iterator[Worker]:
    """Dramatiq worker threads and the outbox relay, for as long as the block runs."""
    dramatiq_worker = Worker(
        service.broker,
        worker_threads=service.settings.worker_threads,
        worker_timeout=WORKER_TIMEOUT_MS,
    )
    dramatiq_worker.start()
    relay = RelayThread(service.relay, service.settings.relay_interval)
    relay.start()
    try:
        yield dramatiq_worker
    finally:
        # The relay's round in progress ends first (a row it took is queued, not left
        # waiting for NOTIFIER_REDELIVER_AFTER); then each worker thread finishes the job it
        # is on, and the messages fetched but not started go back to Redis. A job still
        # running after the timeout is left unacknowledged: Redis hands it to another
        # worker, and its claim lapses after NOTIFIER_CLAIM_LEASE.
        relay.stop()
        relay.join(timeout=WORKER_STOP_SECONDS)
        dramatiq_worker.stop(timeout=int(WORKER_STOP_SECONDS * 1000))


@contextmanager
def scheduler(service: Service) -> Iterator[BackgroundScheduler]:
    """Scans every ``NOTIFIER_SCAN_INTERVAL`` seconds, and purges expired personal data
    every :data:`PURGE_INTERVAL` seconds, the first of each at once, in a background thread
    (APScheduler). A run never overlaps the previous one of its job, and missed runs (a long
    scan, a suspended process) collapse into one. On the way out a scan in progress stops
    after the page it is on; the next scan, here or in another scheduler, does the rest."""
    background = BackgroundScheduler(timezone=UTC)
    background.add_job(
        scan_once,
        IntervalTrigger(seconds=service.settings.scan_interval, timezone=UTC),
        args=(service.scheduler,),
        id="scan",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    background.add_job(
        purge_once,
        IntervalTrigger(seconds=PURGE_INTERVAL, timezone=UTC),
        args=(service.retention,),
        id="purge",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    background.start()
    try:
        yield background
    finally:
        service.scheduler.stop()
        background.shutdown(wait=True)


#: Seconds between two retention runs of the scheduler (the first runs at start).
PURGE_INTERVAL = 3600


def purge_once(retention: Retention) -> None:
    """One retention run; a failure is logged and the next run tries again."""
    try:
        report = retention.purge()
    except Exception:  # noqa: BLE001 - a database hiccup: the next run catches up
        log.warning("retention run failed; retrying in an hour", exc_info=True)
        return
    if any(report.counts.values()):
        log.info(
            "retention: personal data removed of returns without an event since %s: %s",
            report.cutoff.isoformat(timespec="seconds"),
            ", ".join(f"{table} {count}" for table, count in report.counts.items()),
        )


def scan_once(planner: Scheduler) -> None:
    """One scan; a failure is logged and the next scan tries again."""
    try:
        report = planner.scan()
    except Exception:  # noqa: BLE001 - a database hiccup: the next scan catches up
        log.warning("scheduler scan failed; retrying at the next scan", exc_info=True)
        return
    if report.fired or report.expired:
        log.info(
            "scheduler: %d due of %d candidates, %d notifications planned, "
            "%d too old to send (NOTIFIER_CATCHUP_MAX_AGE)",
            report.fired,
            report.candidates,
            report.notifications,
            report.expired,
        )


@contextmanager
def metrics_port(service: Service, process: str) -> Iterator[int | None]:
    """Serve the process's metrics registry at ``/metrics`` on ``NOTIFIER_METRICS_PORT`` (or
    the default port of ``process``, :data:`~notifier.settings.METRICS_PORTS`), on the
    address of ``NOTIFIER_HOST``, for as long as the block runs; port 0 serves nothing.

    Yields:
        The port served, or None.

    Raises:
        ConfigurationError: The port cannot be bound (another process has it).
    """
    settings = service.settings
    port = METRICS_PORTS[process] if settings.metrics_port is None else settings.metrics_port
    if port == 0:
        yield None
        return
    try:
        server, thread = start_http_server(port, settings.host, service.metrics.registry)
    except OSError as error:
        raise ConfigurationError(
            f"NOTIFIER_METRICS_PORT: cannot serve metrics on {settings.host}:{port} "
            f"({error.strerror}); give each {process} on this host its own port, or 0 for none"
        ) from None
    log.info("metrics on http://%s:%d/metrics", settings.host, port)
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


#: uvicorn's settings for the API: uvloop's event loop and the httptools parser (both
#: dependencies; uvicorn's pure-Python fallbacks take much more CPU per request), no
#: access log. ``bench/ingest.py`` serves its bare comparison endpoint with the same.
HTTP_SERVER_OPTIONS: dict[str, Any] = {"loop": "uvloop", "http": "httptools", "access_log": False}


#: Seconds the API gives the requests it has accepted to be answered after SIGTERM.
GRACEFUL_SHUTDOWN_SECONDS = 20


def serve_http(service: Service) -> None:
    """Serve the API until SIGINT or SIGTERM, then return so the caller can clean up.

    On the signal uvicorn stops accepting connections, closes the idle ones, and answers
    every request it has read (an event's answer comes after its group's commit and
    hand-over) for up to :data:`GRACEFUL_SHUTDOWN_SECONDS`; the caller then closes the
    service's group commit, which has nothing left waiting. Connections are bounded and
    timed (``NOTIFIER_HTTP_*``, :func:`connection_limits`).
    """
    from notifier.http import create_app, server_options

    settings = service.settings
    config = uvicorn.Config(
        create_app(service),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's records go through the root handler of notifier.logs
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        **{**HTTP_SERVER_OPTIONS, **server_options(connection_limits(settings))},
    )
    # After its graceful shutdown uvicorn raises the signal that stopped it again, for the
    # handler that was there before it. The default one would end the process on the spot:
    # no worker stopped, no embedded Redis stopped (left running on the data directory that
    # the next start would give a second redis-server). So the handler there before it is
    # one that lets this function return.
    previous = {s: signal.signal(s, _stop_noted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        uvicorn.Server(config).run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def connection_limits(settings: Settings) -> ConnectionLimits:
    """The HTTP server's connection limits, as the settings give them."""
    from notifier.http import ConnectionLimits

    return ConnectionLimits(
        max_connections=settings.http_max_connections,
        header_timeout=settings.http_header_timeout,
        body_timeout=settings.http_body_timeout,
        keep_alive=settings.http_keep_alive,
    )


#: The cyclic garbage collector's thresholds in a long-running process (Python's are
#: ``(700, 10, 10)``): its youngest generation is collected once 50,000 more container objects
#: were allocated than freed, rather than 700; the older ones as often relative to it as before.
GC_THRESHOLDS = (50_000, 10, 10)


def tune_garbage_collector() -> None:
    """Make the cyclic garbage collector's work fit a long-running process, once its parts
    are built (call it once, before its threads start).

    - What exists by now (modules, the service, its templates, pools and threads) lives as
      long as the process: :func:`gc.freeze` takes it out of the collector's sight, so a full
      collection no longer walks those few hundred thousand objects again and again.
    - A first scheduler scan or a delivery batch allocates many short-lived containers
      (snapshots and rows as dicts, template contexts), hardly any of them in a cycle. With
      the default thresholds the collector ran every 700 of them, mostly to promote the
      survivors: about 2 s of the 22 s of a first scan of a million returns
      (``bench/scan.py``). Cycles still get collected, only in larger rounds.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _stop_noted(signum: int, _: Any) -> None:
    log.info("stopping on %s", signal.Signals(signum).name)


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
