"""Run the in-memory broker's jobs to the end, as a worker would."""

from __future__ import annotations

import dramatiq

from notifier.service import Service


def drain(service: Service) -> None:
    """Process every queued job (and the jobs they queue) with real worker threads."""
    worker = dramatiq.Worker(service.broker, worker_timeout=50, worker_threads=2)
    worker.start()
    try:
        for _ in range(3):
            service.broker.join("events", timeout=30_000)  # type: ignore[attr-defined]
            service.broker.join("deliveries", timeout=30_000)  # type: ignore[attr-defined]
        worker.join()
    finally:
        worker.stop()
