"""Sign-up refuses weak passwords with a reason; emails are one account whatever their Unicode
form or case; responses that carry a token are never cached."""

from __future__ import annotations

import uuid

import httpx
import pytest

from todo_api.core.passwords import common_passwords, normalize_email, password_problem

STRONG = "correct horse battery"


def _full_width(text: str) -> str:
    """ASCII letters and digits as their full-width compatibility twins (U+FF21...)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def _email(local: str = "user") -> str:
    return f"{local}-{uuid.uuid4().hex[:8]}@example.com"


async def _signup(client: httpx.AsyncClient, email: str, password: str = STRONG) -> httpx.Response:
    return await client.post("/api/auth/signup", json={"email": email, "password": password})


def test_the_common_password_list_ships_with_the_package() -> None:
    words = common_passwords()
    assert len(words) >= 10_000
    assert {"password", "123456", "qwerty", "iloveyou"} <= words
    assert all(w == w.lower() for w in words)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "at least 8 characters"),
        ("password1", "most commonly used"),
        ("PassWord1", "most commonly used"),  # the list is compared without case
        (_full_width("password1"), "most commonly used"),  # nor full-width disguise
        ("iloveyou", "most commonly used"),
        ("zzzzzzzzzzzz", "One character repeated"),
        ("            ", "One character repeated"),
    ],
)
async def test_weak_passwords_are_refused_with_the_reason(
    client: httpx.AsyncClient, password: str, reason: str
) -> None:
    email = _email()
    resp = await _signup(client, email, password)
    assert resp.status_code == 422, resp.text
    [error] = resp.json()["detail"]
    assert error["loc"] == ["body", "password"]
    assert reason in error["msg"], error
    assert password not in resp.text, "the refused password is not echoed back"
    # Nothing was created: the same email signs up with a good password.
    assert (await _signup(client, email)).status_code == 201


async def test_the_email_or_its_local_part_is_not_a_password(client: httpx.AsyncClient) -> None:
    local = f"Jane.Doe{uuid.uuid4().hex[:6]}"
    email = f"{local}@example.com"
    for password in (email.upper(), local.lower(), local.upper()):
        resp = await _signup(client, email, password)
        assert resp.status_code == 422, (password, resp.text)
        assert "email address" in resp.json()["detail"][0]["msg"]
    assert (await _signup(client, email, local + "-and-more")).status_code == 201


async def test_a_full_width_or_case_folded_twin_is_the_same_account(
    client: httpx.AsyncClient,
) -> None:
    local = f"straße{uuid.uuid4().hex[:6]}"
    email = f"{local}@example.com"
    first = await _signup(client, email)
    assert first.status_code == 201, first.text
    stored = first.json()["user"]["email"]
    assert stored == normalize_email(email) == f"strasse{local[6:]}@example.com"
    # Full-width letters and digits (email-validator itself refuses a full-width @ or dot).
    full_width = _full_width(email)
    for twin in (full_width, email.upper(), f"STRASSE{local[6:]}@EXAMPLE.COM"):
        dup = await _signup(client, twin)
        assert dup.status_code == 409, (twin, dup.text)
        login = await client.post("/api/auth/login", json={"email": twin, "password": STRONG})
        assert login.status_code == 200, (twin, login.text)
        assert login.json()["user"]["id"] == first.json()["user"]["id"]


def test_password_rules_in_one_function() -> None:
    assert password_problem("a fine passphrase", "someone@example.com") is None
    assert password_problem("SOMEONE", "someone@example.com") is not None  # too short anyway
    assert password_problem("someone1", "Someone1@Example.com") is not None
    assert password_problem("someone1@example.com", "someone1@example.com") is not None


async def test_responses_carrying_a_token_are_not_cached(client: httpx.AsyncClient) -> None:
    email = _email()
    signup = await _signup(client, email)
    login = await client.post("/api/auth/login", json={"email": email, "password": STRONG})
    for resp in (signup, login):
        assert resp.status_code in (200, 201), resp.text
        assert resp.headers.get("cache-control") == "no-store", resp.headers
