"""Operations: ``/healthz`` (process up), ``/readyz`` (dependencies reachable), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from notifier import db
from notifier.http.deps import Parts
from notifier.service import Service

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=PlainTextResponse)
def metrics_text(api: Parts) -> Response:
    return Response(api.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(api: Parts) -> Response:
    checks: dict[str, str] = {}
    try:
        db.ping(api.service.engine)
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"unreachable: {type(error).__name__}"
    checks["redis"] = _redis_status(api.service)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, 200 if ready else 503)


def _redis_status(service: Service) -> str:
    client = getattr(service.broker, "client", None)
    if client is None:
        return "ok"  # the in-memory broker
    try:
        client.ping()
        return "ok"
    except Exception as error:  # noqa: BLE001 - reported, not raised
        return f"unreachable: {type(error).__name__}"
