"""Item 3: every kind of bad bearer token is a 401 on every protected operation, and a deleted
user's still-unexpired token stops working."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from testsupport.server import BackendServer

from .conftest import PASSWORD, Secrets, signup
from .ledger import LEDGER
from .spec import protected_operations, sample_request

ITEM = 3


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def bad_tokens(valid: str, user_id: int, secret: str) -> dict[str, str | None]:
    """name -> Authorization header value (None: header absent)."""
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(hours=1)}
    header_b64, payload_b64, sig = valid.split(".")
    none_header = _b64({"alg": "none", "typ": "JWT"})
    other_payload = _b64(
        {"sub": str(user_id + 1), "exp": int((now + timedelta(hours=1)).timestamp())}
    )
    return {
        "missing": None,
        "bearer only": "Bearer",
        "not a jwt": "Bearer not-a-token",
        "two segments": f"Bearer {header_b64}.{payload_b64}",
        "garbage base64": "Bearer ###.$$$.%%%",
        "basic scheme": "Basic " + base64.b64encode(b"user:pass").decode(),
        "token without scheme": valid,
        "expired": "Bearer "
        + jwt.encode(
            {**claims, "iat": now - timedelta(hours=2), "exp": now - timedelta(seconds=5)},
            secret,
            algorithm="HS256",
        ),
        "tampered payload": f"Bearer {header_b64}.{other_payload}.{sig}",
        "tampered signature": f"Bearer {header_b64}.{payload_b64}.{sig[:-4]}AAAA",
        "wrong key": "Bearer "
        + jwt.encode(claims, "another-secret-" + "x" * 32, algorithm="HS256"),
        "alg none": f"Bearer {none_header}.{payload_b64}.",
        "alg none with signature": f"Bearer {none_header}.{payload_b64}.{sig}",
        "alg HS384 same key": "Bearer " + jwt.encode(claims, secret, algorithm="HS384"),
        "no exp claim": "Bearer " + jwt.encode({"sub": str(user_id)}, secret, algorithm="HS256"),
        "no sub claim": "Bearer "
        + jwt.encode({"exp": now + timedelta(hours=1)}, secret, algorithm="HS256"),
        "non-numeric sub": "Bearer "
        + jwt.encode({**claims, "sub": "admin"}, secret, algorithm="HS256"),
        "zero sub": "Bearer " + jwt.encode({**claims, "sub": "0"}, secret, algorithm="HS256"),
        "unknown user": "Bearer "
        + jwt.encode({**claims, "sub": str(2**31 - 2)}, secret, algorithm="HS256"),
        "huge token": "Bearer " + "a" * 6000,
    }


def test_bad_tokens_are_401_on_every_protected_operation(
    backend: BackendServer, client: httpx.Client, secret_values: Secrets
) -> None:
    user = signup(client)
    ops = protected_operations(client)
    assert len(ops) >= 7, f"expected the auth + task operations to be protected, got {ops}"
    tokens = bad_tokens(user.token, user.id, secret_values.auth_secret)
    failures = []
    sent = 0
    for op in ops:
        for name, header in tokens.items():
            headers = {} if header is None else {"Authorization": header}
            resp = client.request(**sample_request(op), headers=headers)
            sent += 1
            if resp.status_code != 401:
                failures.append(f"{op.method} {op.path} [{name}] -> {resp.status_code} {resp.text}")
            elif resp.headers.get("www-authenticate", "").lower() != "bearer":
                failures.append(f"{op.method} {op.path} [{name}] 401 without WWW-Authenticate")
    LEDGER.add(ITEM, "requests", sent)
    LEDGER.set(ITEM, "protected operations", len(ops))
    LEDGER.set(ITEM, "bad token kinds", len(tokens))
    LEDGER.add(ITEM, "errors", len(failures))
    assert not failures, "\n".join(failures)
    # The valid token still works, so the 401s above are about the tokens, not the server.
    assert client.get("/api/auth/me", headers=user.headers).status_code == 200


def test_deleted_users_token_stops_working(client: httpx.Client) -> None:
    user = signup(client)
    task = client.post("/api/tasks", json={"title": "doomed"}, headers=user.headers)
    assert task.status_code == 201
    assert client.delete("/api/auth/me", headers=user.headers).status_code == 204
    sent = 3
    for method, path in [
        ("GET", "/api/auth/me"),
        ("GET", "/api/tasks"),
        ("POST", "/api/tasks"),
        ("GET", f"/api/tasks/{task.json()['id']}"),
        ("DELETE", "/api/auth/me"),
    ]:
        kwargs: dict[str, Any] = {"json": {"title": "x"}} if method == "POST" else {}
        resp = client.request(method, path, headers=user.headers, **kwargs)
        sent += 1
        assert resp.status_code == 401, f"{method} {path} -> {resp.status_code} {resp.text}"
    login = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert login.status_code == 401
    # The email is free again: a new account with it gets a new id, and the old token stays dead.
    again = client.post("/api/auth/signup", json={"email": user.email, "password": PASSWORD})
    assert again.status_code == 201
    assert again.json()["user"]["id"] != user.id
    assert client.get("/api/auth/me", headers=user.headers).status_code == 401
    LEDGER.add(ITEM, "requests", sent + 3)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_scheme_is_case_insensitive_but_token_still_checked(
    client: httpx.Client, scheme: str
) -> None:
    user = signup(client)
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"{scheme} {user.token}"}).status_code
        == 200
    )
    bad = client.get("/api/auth/me", headers={"Authorization": f"{scheme} {user.token}x"})
    assert bad.status_code == 401
    LEDGER.add(ITEM, "requests", 3)  # signup + 2
