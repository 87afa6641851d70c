"""Liveness, readiness and metrics: what Kubernetes probes and Prometheus scrape."""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from todo_api.core.metrics import REGISTRY

router = APIRouter(tags=["operations"])


_HEALTHY_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/json": {"example": {"status": "healthy", "version": "0.1.0-3f2a9c1d7e4b"}}
        }
    }
}


@functools.cache
def _healthy(version: str) -> bytes:
    """The body, encoded once per version: probes are frequent."""
    return json.dumps({"status": "healthy", "version": version}, separators=(",", ":")).encode()


@router.get("/health", responses=_HEALTHY_DOC)
async def health(request: Request) -> Response:
    """Liveness: the process serves requests. Never touches the database. `version` is the
    build (APP_VERSION: the image tag), so a rollout or a rollback can be seen."""
    return Response(_healthy(request.app.state.settings.app_version), media_type="application/json")


@router.get("/ready", response_model=None, responses={503: {"description": "Database unreachable"}})
async def ready(request: Request) -> dict[str, str] | JSONResponse:
    """Readiness: the database answers within DB_TIMEOUT_SECONDS."""
    settings = request.app.state.settings
    try:
        await asyncio.wait_for(request.app.state.db.ping(), settings.db_timeout_seconds)
    except Exception:
        return JSONResponse({"status": "not ready", "database": "unreachable"}, status_code=503)
    return {"status": "ready", "database": "connected"}


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
