"""``GET /metrics``: the process's registry (:class:`notifier.metrics.Metrics`) in the
Prometheus text format.

The registry holds the counters of everything this process does, and the queue and outbox
gauges read at each scrape (see the README's "Metrics" section); a scrape issues no query
over the notifications or events tables.
"""

from __future__ import annotations

from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from notifier.metrics import Metrics


def metrics_response(metrics: Metrics) -> Response:
    """The answer to a scrape of ``metrics``."""
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
