"""Sign-up, login, /me, account deletion, token checks, login rate limit."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx
import jwt
import pytest

from testsupport.app import TEST_SECRET, UserCtx, make_settings
from todo_api.core.security import epoch_microseconds, parse_id
from todo_api.main import create_app

MakeUser = Callable[[], Awaitable[UserCtx]]


async def test_signup_returns_token_and_user(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/api/auth/signup",
        json={"email": "  New.Person@Example.com ", "password": "longenough", "name": " Ann "},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["email"] == "new.person@example.com"
    assert body["user"]["name"] == "Ann"
    assert "password" not in resp.text and "hash" not in resp.text
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == str(body["user"]["id"]) and claims["exp"] > time.time()


async def test_duplicate_email_is_409(client: httpx.AsyncClient, user: UserCtx) -> None:
    resp = await client.post(
        "/api/auth/signup", json={"email": user.email.upper(), "password": "whatever123"}
    )
    assert resp.status_code == 409


async def test_signup_validation_names_the_field(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/auth/signup", json={"email": "not-an-email", "password": "x"})
    assert resp.status_code == 422
    fields = {tuple(e["loc"]) for e in resp.json()["detail"]}
    assert ("body", "email") in fields and ("body", "password") in fields
    assert "not-an-email" not in resp.text or "input" not in resp.text


async def test_login_and_me(client: httpx.AsyncClient, user: UserCtx) -> None:
    resp = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    assert resp.status_code == 200
    token = resp.json()["access_token"]
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == user.email


async def test_wrong_password_and_unknown_email_look_the_same(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    wrong = await client.post("/api/auth/login", json={"email": user.email, "password": "nope1234"})
    unknown = await client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "nope1234"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_requests_without_valid_token_are_401(client: httpx.AsyncClient) -> None:
    bad = jwt.encode({"sub": "1", "exp": int(time.time()) + 60}, "another-key-0123456789abcdef0123")
    expired = jwt.encode({"sub": "1", "exp": int(time.time()) - 10}, TEST_SECRET)
    for headers in (
        {},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": f"Bearer {bad}"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ):
        resp = await client.get("/api/tasks", headers=headers)
        assert resp.status_code == 401, headers
        assert resp.headers.get("www-authenticate") == "Bearer"


async def test_deleted_account_token_stops_working(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    victim = await make_user()
    await client.post("/api/tasks", json={"title": "soon gone"}, headers=victim.headers)
    assert (await client.delete("/api/auth/me", headers=victim.headers)).status_code == 204
    assert (await client.get("/api/tasks", headers=victim.headers)).status_code == 401
    assert (await client.get("/api/auth/me", headers=victim.headers)).status_code == 401
    relogin = await client.post(
        "/api/auth/login", json={"email": victim.email, "password": victim.password}
    )
    assert relogin.status_code == 401


async def test_deleted_account_gets_401_on_every_route(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    """Requests do not look the account up front; each route must still tell a deleted account
    (401) from a miss (404), an empty list or a refused insert."""
    victim = await make_user()
    task = (
        await client.post("/api/tasks", json={"title": "doomed"}, headers=victim.headers)
    ).json()
    chat = await client.post("/api/chat", json={"message": "add milk"}, headers=victim.headers)
    conversation_id = chat.json()["conversation_id"]
    assert (await client.delete("/api/auth/me", headers=victim.headers)).status_code == 204
    for method, path, body in [
        ("GET", "/api/tasks", None),
        ("GET", "/api/tasks?status=completed&q=x&offset=10", None),
        ("POST", "/api/tasks", {"title": "ghost"}),
        ("GET", f"/api/tasks/{task['id']}", None),
        ("PATCH", f"/api/tasks/{task['id']}", {"completed": True}),
        ("PATCH", f"/api/tasks/{task['id']}", {}),
        ("POST", f"/api/tasks/{task['id']}/complete", None),
        ("DELETE", f"/api/tasks/{task['id']}", None),
        ("POST", "/api/chat", {"message": "add ghost"}),
        ("POST", "/api/chat", {"message": "what's left?", "conversation_id": conversation_id}),
        ("GET", "/api/conversations", None),
        ("GET", f"/api/conversations/{conversation_id}/messages", None),
        ("GET", "/api/auth/me", None),
        ("DELETE", "/api/auth/me", None),
    ]:
        resp = await client.request(method, path, json=body, headers=victim.headers)
        assert resp.status_code == 401, f"{method} {path} -> {resp.status_code} {resp.text}"
        assert resp.json() == {"detail": "Invalid or expired token"}


async def test_failed_logins_are_rate_limited(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url, login_rate_limit="3/minute"))

    def client_from(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://t")

    account = {"email": "rl@example.com", "password": "goodpass1"}
    wrong = {**account, "password": "bad-guess"}
    try:
        async with client_from("10.0.0.1") as owner, client_from("10.9.9.9") as guesser:
            assert (await owner.post("/api/auth/signup", json=account)).status_code == 201
            # One address guessing: its fourth failure is refused, by the per-IP limit.
            codes = [(await guesser.post("/api/auth/login", json=wrong)) for _ in range(4)]
            assert [r.status_code for r in codes] == [401, 401, 401, 429]
            assert int(codes[-1].headers["retry-after"]) >= 1
            unrelated = {"email": "someone-else@example.com", "password": "x"}
            assert (await guesser.post("/api/auth/login", json=unrelated)).status_code == 429
            # Guesses at this email from other addresses: refused per email, after the check.
            async with client_from("10.7.7.7") as third:
                assert (await third.post("/api/auth/login", json=wrong)).status_code == 429
            # Strangers' failures never refuse the owner's right password.
            assert (await owner.post("/api/auth/login", json=account)).status_code == 200
    finally:
        await app.state.db.dispose()


async def test_wrong_guesses_from_many_addresses_never_lock_the_owner_out(
    sqlite_url: str,
) -> None:
    app = create_app(make_settings(sqlite_url, login_rate_limit="3/minute"))
    account = {"email": "lockout@example.com", "password": "goodpass1"}
    try:
        codes = []
        for i in range(12):  # eleven wrong passwords used to lock the account for a minute
            transport = httpx.ASGITransport(app=app, client=(f"10.1.0.{i}", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                if i == 0:
                    assert (await c.post("/api/auth/signup", json=account)).status_code == 201
                resp = await c.post("/api/auth/login", json={**account, "password": "nope-nope"})
                codes.append(resp.status_code)
        assert codes[:3] == [401] * 3 and set(codes[3:]) == {429}
        transport = httpx.ASGITransport(app=app, client=("10.2.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.post("/api/auth/login", json=account)).status_code == 200
    finally:
        await app.state.db.dispose()


async def test_deleted_account_gets_401_before_input_errors(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    victim = await make_user()
    assert (await client.delete("/api/auth/me", headers=victim.headers)).status_code == 204
    for path, body in [("/api/tasks", {}), ("/api/chat", {"message": ""}), ("/api/tasks", [])]:
        resp = await client.post(path, json=body, headers=victim.headers)
        assert resp.status_code == 401, (path, resp.text)
    # A public route still reports its input errors, whatever token comes along.
    signup = await client.post("/api/auth/signup", json={"email": "x"}, headers=victim.headers)
    assert signup.status_code == 422


async def test_old_token_never_reaches_the_next_account(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    """The takeover: sign up, keep the token, delete the account, someone new signs up. Their id
    is not the deleted one, and the old token reads, changes and deletes none of their data."""
    gone = await make_user()
    assert (await client.delete("/api/auth/me", headers=gone.headers)).status_code == 204
    newcomer = await make_user()
    assert newcomer.id > gone.id  # the deleted id is not handed out again (SQLite too)
    task = await client.post("/api/tasks", json={"title": "mine"}, headers=newcomer.headers)
    assert task.status_code == 201
    for method, path, body in [
        ("GET", "/api/tasks", None),
        ("GET", f"/api/tasks/{task.json()['id']}", None),
        ("POST", "/api/chat", {"message": "what's left?"}),
        ("GET", "/api/conversations", None),
        ("GET", "/api/auth/me", None),
        ("DELETE", "/api/auth/me", None),
    ]:
        resp = await client.request(method, path, json=body, headers=gone.headers)
        assert resp.status_code == 401, f"{method} {path} -> {resp.status_code} {resp.text}"
    mine = await client.get("/api/tasks", headers=newcomer.headers)
    assert [t["title"] for t in mine.json()["items"]] == ["mine"]


async def test_token_issued_before_the_account_existed_is_401(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    """A database recreated from scratch numbers its accounts again: a token from before, for
    the same id, must not act for the account that holds that id now. Compared to the
    microsecond, so a token from the same second as the account's creation is told apart."""
    me = (await client.get("/api/auth/me", headers=user.headers)).json()
    created_us = epoch_microseconds(datetime.fromisoformat(me["created_at"]))

    def token_issued(at_us: int) -> dict[str, str]:
        claims = {"sub": str(user.id), "iat": at_us / 1_000_000, "exp": int(time.time()) + 600}
        return {"Authorization": f"Bearer {jwt.encode(claims, TEST_SECRET)}"}

    for issued_us, expected in [
        (created_us - 60_000_000, 401),
        (created_us - 1, 401),
        (created_us, 200),
        (created_us + 1, 200),
    ]:
        resp = await client.get("/api/tasks", headers=token_issued(issued_us))
        assert resp.status_code == expected, (issued_us - created_us, resp.text)
    mcp = await client.post("/mcp", headers=token_issued(created_us - 1), json={})
    assert mcp.status_code == 401


async def test_task_ids_are_never_reused(client: httpx.AsyncClient, user: UserCtx) -> None:
    ids = [
        (await client.post("/api/tasks", json={"title": f"t{i}"}, headers=user.headers)).json()[
            "id"
        ]
        for i in range(2)
    ]
    assert (await client.delete(f"/api/tasks/{ids[-1]}", headers=user.headers)).status_code == 204
    again = await client.post("/api/tasks", json={"title": "next"}, headers=user.headers)
    assert again.json()["id"] > ids[-1]


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": " 1"},
        {"sub": "1 "},
        {"sub": "+1"},
        {"sub": "01"},
        {"sub": "1_0"},
        {"sub": "\u0661"},  # Arabic-Indic digit one: int() would read it
        {"sub": "0"},
        {"sub": "-1"},
        {"sub": str(2**31)},
        {"sub": str(2**63)},
        {"sub": "9" * 400},
        {"sub": 1},
        {"exp": 10**30},
        {"exp": 1e308},
        {"exp": "9" * 400},
        {"iat": 10**30},
        {"iat": "soon"},
    ],
    ids=repr,
)
async def test_extreme_claims_in_a_validly_signed_token_are_401(
    client: httpx.AsyncClient, user: UserCtx, claims: dict[str, object]
) -> None:
    now = time.time()
    payload = {"sub": str(user.id), "iat": now, "exp": int(now) + 600, **claims}
    token = jwt.encode(payload, TEST_SECRET)
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in [("GET", "/api/tasks"), ("GET", "/api/auth/me"), ("POST", "/mcp")]:
        resp = await client.request(method, path, headers=headers, json={})
        assert resp.status_code == 401, (method, path, resp.status_code, resp.text)


def test_token_subject_parsing() -> None:
    assert [parse_id(s) for s in ("1", "2147483647", "42")] == [1, 2**31 - 1, 42]
    for bad in (" 1", "\u0661", "2147483648", "1\n", "", None, 7):
        assert parse_id(bad) is None
