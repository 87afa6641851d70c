"""Load test: a login flood runs at most PASSWORD_HASH_CONCURRENCY argon2 hashes at once, memory
stays bounded, /health stays responsive, and logins that wait too long get 503 + Retry-After."""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from testsupport.app import make_settings
from todo_api.core import security
from todo_api.main import create_app

ARGON2_MIB = 64  # argon2-cffi's default memory cost per hash
FLOOD = 24


class ConcurrencyProbe:
    """Wraps the argon2 hasher and records how many hashes ran at the same time."""

    def __init__(self, hasher: Any) -> None:
        self._hasher = hasher
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.calls = 0

    def _counted(self, work: Callable[..., Any], *args: Any) -> Any:
        with self._lock:
            self.running += 1
            self.calls += 1
            self.peak = max(self.peak, self.running)
        try:
            return work(*args)
        finally:
            with self._lock:
                self.running -= 1

    def hash(self, password: str) -> str:
        return str(self._counted(self._hasher.hash, password))

    def verify(self, password_hash: str, password: str) -> bool:
        return bool(self._counted(self._hasher.verify, password_hash, password))


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> ConcurrencyProbe:
    counting = ConcurrencyProbe(security._hasher)
    monkeypatch.setattr(security, "_hasher", counting)
    return counting


@pytest.fixture
async def flood_app(sqlite_url: str, request: pytest.FixtureRequest) -> AsyncIterator[FastAPI]:
    overrides = getattr(request, "param", {})
    app = create_app(make_settings(sqlite_url, password_hash_concurrency=2, **overrides))
    yield app
    await app.state.db.dispose()


async def _flood(app: FastAPI) -> tuple[list[httpx.Response], list[float], float]:
    """FLOOD concurrent logins (half with a wrong password) while /health is polled; returns
    the login responses, the /health latencies and the peak RSS growth in MiB."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=120) as c:
        account = {"email": f"flood-{uuid.uuid4().hex[:8]}@example.com", "password": "goodpass1"}
        assert (await c.post("/api/auth/signup", json=account)).status_code == 201
        await c.get("/health")
        baseline = peak = _rss_mib()
        done = asyncio.Event()
        latencies: list[float] = []

        async def watch() -> None:
            nonlocal peak
            while not done.is_set():
                started = time.perf_counter()
                assert (await c.get("/health")).status_code == 200
                latencies.append(time.perf_counter() - started)
                peak = max(peak, _rss_mib())
                await asyncio.sleep(0.02)

        async def login(i: int) -> httpx.Response:
            password = account["password"] if i % 2 else "wrong-password"
            return await c.post("/api/auth/login", json={**account, "password": password})

        watcher = asyncio.create_task(watch())
        try:
            responses = await asyncio.gather(*(login(i) for i in range(FLOOD)))
        finally:
            done.set()
            await watcher
    return list(responses), latencies, peak - baseline


@pytest.mark.parametrize("flood_app", [{"password_hash_wait_seconds": 120}], indirect=True)
async def test_login_flood_is_bounded_and_health_stays_responsive(
    flood_app: FastAPI, probe: ConcurrencyProbe
) -> None:
    responses, latencies, rss_growth = await _flood(flood_app)
    assert sorted({r.status_code for r in responses}) == [200, 401]  # every one was served
    assert probe.calls >= FLOOD and probe.peak == 2, (probe.calls, probe.peak)
    # Two hashes' memory and some slack, where unbounded hashing took FLOOD times 64 MiB.
    assert rss_growth < 3 * ARGON2_MIB + 32, f"RSS grew {rss_growth:.0f} MiB"
    assert len(latencies) >= 5
    assert statistics.median(latencies) < 0.1, latencies
    assert max(latencies) < 1.0, latencies


@pytest.mark.parametrize("flood_app", [{"password_hash_wait_seconds": 0.3}], indirect=True)
async def test_logins_that_wait_too_long_get_503_with_retry_after(
    flood_app: FastAPI, probe: ConcurrencyProbe
) -> None:
    responses, _, _ = await _flood(flood_app)
    busy = [r for r in responses if r.status_code == 503]
    served = [r for r in responses if r.status_code in (200, 401)]
    assert busy and served, [r.status_code for r in responses]
    assert {r.status_code for r in responses} <= {200, 401, 503}
    assert all(int(r.headers["retry-after"]) >= 1 for r in busy)
    assert probe.peak <= 2
