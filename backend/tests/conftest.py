"""Backend test fixtures: the app on a migrated SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from testsupport.app import UserCtx, make_settings
from testsupport.pg import PostgresServer
from todo_api.main import create_app
from todo_api.migrate import upgrade

_counter = itertools.count()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "test.db"
    url = f"sqlite:///{path}"
    upgrade(make_settings(url).database_url)
    return url


@pytest.fixture(scope="session")
def postgres_url(pg_server: PostgresServer) -> str:
    url = pg_server.create_database(f"test_{uuid.uuid4().hex[:8]}")
    upgrade(make_settings(url).database_url)
    return url


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each API test runs once against SQLite and once against PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url))
    yield application
    await application.state.db.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


MakeUser = Callable[[], Awaitable[UserCtx]]


@pytest.fixture
def make_user(client: httpx.AsyncClient) -> MakeUser:
    async def _make() -> UserCtx:
        email = f"user{next(_counter)}-{uuid.uuid4().hex[:6]}@example.com"
        password = "correct horse battery"
        resp = await client.post("/api/auth/signup", json={"email": email, "password": password})
        assert resp.status_code == 201, resp.text
        body = resp.json()
        return UserCtx(email, password, body["access_token"], body["user"]["id"])

    return _make


@pytest.fixture
async def user(make_user: MakeUser) -> UserCtx:
    return await make_user()


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"
