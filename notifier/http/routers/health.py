"""Operations: ``/healthz`` (process up), ``/readyz`` (dependencies reachable), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from notifier.http.deps import Parts
from notifier.http.metrics import metrics_response
from notifier.http.readiness import OK

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=PlainTextResponse)
def metrics_text(api: Parts) -> Response:
    return metrics_response(api.metrics)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    # On the event loop: it answers at once whatever the dependencies and the thread pool do.
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(api: Parts) -> Response:
    checks = await api.readiness.check()
    ready = all(v == OK for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, 200 if ready else 503)
