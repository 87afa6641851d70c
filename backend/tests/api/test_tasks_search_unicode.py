"""Search ignores case beyond ASCII on SQLite as on PostgreSQL (SQLite's own lower() folds only
A-Z; the backend registers a Unicode lower() on its SQLite connections).

PostgreSQL's lower() follows the database's LC_CTYPE: the shipped images initialise with a UTF-8
locale (C.UTF-8 / en_US.utf8), so the PostgreSQL leg runs on such a database (the shared test
server is initialised with --no-locale)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from testsupport.app import UserCtx, make_settings
from testsupport.pg import PostgresServer
from todo_api.main import create_app
from todo_api.migrate import upgrade

PASSWORD = "correct horse battery"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def utf8_database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        return url
    pg: PostgresServer = request.getfixturevalue("pg_server")
    name = f"utf8_{uuid.uuid4().hex[:8]}"
    pg.psql(
        f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"
        " LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
    )
    url = pg.url(name)
    upgrade(make_settings(url).database_url)
    return url


@pytest.fixture
async def client(utf8_database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(utf8_database_url))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.db.dispose()


@pytest.fixture
async def user(client: httpx.AsyncClient) -> UserCtx:
    email = f"search-{uuid.uuid4().hex[:8]}@example.com"
    resp = await client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return UserCtx(email, PASSWORD, body["access_token"], body["user"]["id"])


async def test_search_is_case_insensitive_for_non_ascii_text(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    for title, description in (
        ("Ünïcödé homework", ""),
        ("Call Ørsted", "ÉLECTRICITÉ bill"),
        ("ΣΟΦΙΑ birthday", ""),
        ("plain ascii", ""),
    ):
        resp = await client.post(
            "/api/tasks", json={"title": title, "description": description}, headers=user.headers
        )
        assert resp.status_code == 201, resp.text

    async def titles(q: str) -> list[str]:
        resp = await client.get("/api/tasks", params={"q": q}, headers=user.headers)
        assert resp.status_code == 200, resp.text
        return sorted(t["title"] for t in resp.json()["items"])

    assert await titles("ünï") == ["Ünïcödé homework"]
    assert await titles("ÜNÏCÖDÉ") == ["Ünïcödé homework"]
    assert await titles("ørsted") == ["Call Ørsted"]
    assert await titles("électricité") == ["Call Ørsted"]  # in the description
    assert await titles("σοφια") == ["ΣΟΦΙΑ birthday"]
    assert await titles("PLAIN") == ["plain ascii"]
    assert await titles("ü%") == []  # LIKE wildcards stay literal


async def test_title_sort_ignores_non_ascii_case(client: httpx.AsyncClient, user: UserCtx) -> None:
    for title in ("ébène", "Zebra", "ÉCOLE", "Émile", "apple"):
        await client.post("/api/tasks", json={"title": title}, headers=user.headers)
    resp = await client.get(
        "/api/tasks", params={"sort": "title", "order": "asc"}, headers=user.headers
    )
    order = [t["title"] for t in resp.json()["items"]]
    # By their lower case: ébène, école, émile (an ASCII-only lower() puts Émile between them).
    assert order.index("ébène") < order.index("ÉCOLE") < order.index("Émile"), order
