"""/health, /ready, /metrics, request ids, OpenAPI docs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from testsupport.app import UserCtx, make_settings
from testsupport.pg import PostgresServer, find_pg_bin
from testsupport.tools import require
from todo_api.main import create_app


async def test_health_is_static(client: httpx.AsyncClient) -> None:
    resp = await client.get("/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "healthy", "version": "dev"}  # no APP_VERSION: a dev build


async def test_health_reports_the_build_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image's APP_VERSION (the Dockerfile's ENV, its content tag) is what /health says:
    after a rollback the previous tag answers, which is how the live suite and a person tell
    the builds apart."""
    monkeypatch.setenv("APP_VERSION", "0.1.0-3f2a9c1d7e4b")
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'v.db'}"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        resp = await client.get("/health")
    await app.state.db.dispose()
    assert resp.json() == {"status": "healthy", "version": "0.1.0-3f2a9c1d7e4b"}


async def test_ready_reports_connected(client: httpx.AsyncClient) -> None:
    resp = await client.get("/ready")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ready", "database": "connected"}


async def test_metrics_use_route_templates(client: httpx.AsyncClient, user: UserCtx) -> None:
    await client.get("/api/tasks/123456", headers=user.headers)
    body = (await client.get("/metrics")).text
    assert 'route="/api/tasks/{task_id}"' in body
    assert "/api/tasks/123456" not in body
    assert "http_request_duration_seconds_bucket" in body


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    resp = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["x-request-id"] == "abc-123"
    generated = (await client.get("/health", headers={"X-Request-ID": "bad id!\n"})).headers
    assert generated["x-request-id"] != "bad id!\n" and len(generated["x-request-id"]) == 32
    another = (await client.get("/health")).headers["x-request-id"]
    assert len(another) == 32 and another != generated["x-request-id"]


async def test_openapi_docs_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert "/api/tasks/{task_id}" in spec["paths"]


async def test_oversized_body_is_413(client: httpx.AsyncClient, user: UserCtx) -> None:
    resp = await client.post(
        "/api/tasks",
        content=b'{"title": "' + b"x" * 70_000 + b'"}',
        headers={**user.headers, "content-type": "application/json"},
    )
    assert resp.status_code == 413


@pytest.mark.parametrize("down_url", ["postgresql://postgres@127.0.0.1:9/nodb"])
async def test_ready_is_503_when_database_unreachable(down_url: str) -> None:
    app = create_app(make_settings(down_url, db_timeout_seconds=1))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        health = await c.get("/health")
        ready = await c.get("/ready")
        tasks = await c.post("/api/auth/login", json={"email": "a@b.co", "password": "x"})
    await app.state.db.dispose()
    assert health.status_code == 200
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "database": "unreachable"}
    assert tasks.status_code == 503
    assert tasks.headers["retry-after"]


@pytest.mark.postgres
async def test_ready_follows_the_database_down_and_back() -> None:
    """A dedicated server, so stopping it does not disturb the other tests."""
    bin_dir = find_pg_bin()
    require(bin_dir is not None, "PostgreSQL (initdb/pg_ctl) is not installed")
    assert bin_dir is not None
    with PostgresServer(bin_dir) as server:
        app = create_app(make_settings(server.url(), db_timeout_seconds=1))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/ready")).status_code == 200
            await asyncio.to_thread(server.stop)
            down = await c.get("/ready")
            assert (await c.get("/health")).status_code == 200
            await asyncio.to_thread(server.start)
            back = await c.get("/ready")
        await app.state.db.dispose()
    assert down.status_code == 503
    assert back.status_code == 200


async def test_cors_answers_browsers_and_varies_on_origin(client: httpx.AsyncClient) -> None:
    """Requests without Origin skip Starlette's CORS work (api/middleware) but must still say
    that the response varies with it; browsers get the full CORS answer."""
    plain = await client.get("/health")
    assert plain.headers.get_list("vary") == ["Origin"]
    assert "access-control-allow-origin" not in plain.headers
    allowed = await client.get("/health", headers={"Origin": "http://localhost:3000"})
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in allowed.headers["vary"]
    foreign = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers
    preflight = await client.options(
        "/api/tasks",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
