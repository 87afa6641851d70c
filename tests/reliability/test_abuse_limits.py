"""Item 6: abuse limits. A backend with deliberately small limits: login/sign-up and chat are
rate-limited (429 + Retry-After), request bodies and chat messages have size caps, CORS answers
only the configured origins. The built frontend sends its security headers."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testsupport.pg import PostgresServer
from testsupport.server import REPO_ROOT, BackendServer, ServerError
from testsupport.tools import free_port, require, require_tool

from .conftest import PASSWORD, Secrets, User, backend_env, db_url_with_password
from .ledger import LEDGER

ITEM = 6
LOGIN_LIMIT = 5
CHAT_LIMIT = 4
MAX_BODY = 4096
CHAT_MAX_CHARS = 300
ALLOWED_ORIGIN = "https://todo.allowed.example"


@pytest.fixture(scope="module")
def strict_backend(pg_server: PostgresServer, secret_values: Secrets) -> Iterator[BackendServer]:
    url = db_url_with_password(
        pg_server, f"abuse_{uuid.uuid4().hex[:8]}", secret_values.db_password
    )
    env = backend_env(
        url,
        secret_values,
        LOGIN_RATE_LIMIT=f"{LOGIN_LIMIT}/minute",
        CHAT_RATE_LIMIT=f"{CHAT_LIMIT}/minute",
        MAX_BODY_BYTES=str(MAX_BODY),
        CHAT_MAX_MESSAGE_CHARS=str(CHAT_MAX_CHARS),
        CORS_ORIGINS=ALLOWED_ORIGIN,
    )
    with BackendServer(env) as server:
        yield server


def _ip() -> str:
    """A fresh client address per scenario. These tests play the frontend: uvicorn trusts
    X-Forwarded-For only from 127.0.0.1 (FORWARDED_ALLOW_IPS), as it trusts only the frontend in a
    deployment, and the frontend sends the socket peer, never a client's header (see
    test_rotating_x_forwarded_for_through_the_frontend_does_not_lift_the_login_limit)."""
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def _signup(c: httpx.Client, ip: str) -> User:
    email = f"a-{uuid.uuid4().hex[:10]}@example.com"
    r = c.post(
        "/api/auth/signup",
        json={"email": email, "password": PASSWORD},
        headers={"X-Forwarded-For": ip},
    )
    assert r.status_code == 201, r.text
    return User(r.json()["user"]["id"], email, r.json()["access_token"])


def _assert_429(resp: httpx.Response, window: int = 60) -> int:
    assert resp.status_code == 429, f"{resp.status_code} {resp.text}"
    retry = resp.headers.get("retry-after", "")
    assert retry.isdigit() and 1 <= int(retry) <= window, f"Retry-After {retry!r}"
    assert isinstance(resp.json().get("detail"), str)
    return int(retry)


def test_login_is_rate_limited_per_email_and_per_ip(strict_backend: BackendServer) -> None:
    sent = 0
    with httpx.Client(base_url=strict_backend.url, timeout=30) as c:
        victim = _signup(c, _ip())
        # Password guessing against one account from many addresses: limited per email.
        for _ in range(LOGIN_LIMIT):
            r = c.post(
                "/api/auth/login",
                json={"email": victim.email, "password": "wrong-pass"},
                headers={"X-Forwarded-For": _ip()},
            )
            assert r.status_code == 401
        blocked = c.post(
            "/api/auth/login",
            json={"email": victim.email, "password": "wrong-pass"},
            headers={"X-Forwarded-For": _ip()},
        )
        _assert_429(blocked)
        # Others' failures never lock the owner out: the right password still logs in.
        right = c.post(
            "/api/auth/login",
            json={"email": victim.email, "password": PASSWORD},
            headers={"X-Forwarded-For": _ip()},
        )
        assert right.status_code == 200, right.text
        sent += LOGIN_LIMIT + 3
        # Credential stuffing from one address across many accounts: limited per IP.
        ip = _ip()
        for i in range(LOGIN_LIMIT):
            r = c.post(
                "/api/auth/login",
                json={
                    "email": f"nobody{i}-{uuid.uuid4().hex[:6]}@example.com",
                    "password": "whatever1",
                },
                headers={"X-Forwarded-For": ip},
            )
            assert r.status_code == 401
        _assert_429(
            c.post(
                "/api/auth/login",
                json={"email": "x@example.com", "password": "y"},
                headers={"X-Forwarded-For": ip},
            )
        )
        # Mass sign-up from one address.
        ip = _ip()
        for _ in range(LOGIN_LIMIT):
            _signup(c, ip)
        r = c.post(
            "/api/auth/signup",
            json={"email": f"z-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": ip},
        )
        _assert_429(r)
        sent += 2 * LOGIN_LIMIT + 2
        # Another address is unaffected.
        other = _signup(c, _ip())
        ok = c.post(
            "/api/auth/login",
            json={"email": other.email, "password": PASSWORD},
            headers={"X-Forwarded-For": _ip()},
        )
        assert ok.status_code == 200
        sent += 2
    LEDGER.add(ITEM, "requests", sent)
    LEDGER.add(ITEM, "faults injected", sent)  # every request here is abusive or a control
    LEDGER.set(ITEM, "login/sign-up limit under test", f"{LOGIN_LIMIT}/minute")


def test_chat_is_rate_limited_per_user(strict_backend: BackendServer) -> None:
    with httpx.Client(base_url=strict_backend.url, timeout=60) as c:
        paths = c.get("/openapi.json").json()["paths"]
        if "/api/chat" not in paths:
            pytest.skip("the chat endpoint is not in this build yet")
        user, other = _signup(c, _ip()), _signup(c, _ip())
        for i in range(CHAT_LIMIT):
            r = c.post(
                "/api/chat", json={"message": f"add a task called chat {i}"}, headers=user.headers
            )
            assert r.status_code == 200, r.text
        retry = _assert_429(
            c.post("/api/chat", json={"message": "add one more"}, headers=user.headers)
        )
        # The refused turn changed nothing: exactly CHAT_LIMIT tasks, no extra conversation.
        tasks = c.get("/api/tasks", headers=user.headers).json()
        assert tasks["total"] == CHAT_LIMIT, tasks
        convs = c.get("/api/conversations", headers=user.headers).json()
        assert len(convs) == CHAT_LIMIT, convs
        # The limit is per user: someone else still chats.
        assert (
            c.post("/api/chat", json={"message": "hello"}, headers=other.headers).status_code == 200
        )
    LEDGER.add(ITEM, "requests", CHAT_LIMIT + 6)
    LEDGER.add(ITEM, "faults injected", 1)
    LEDGER.set(ITEM, "chat limit under test", f"{CHAT_LIMIT}/minute (Retry-After {retry} s)")


def test_body_and_chat_message_size_limits(strict_backend: BackendServer) -> None:
    with httpx.Client(base_url=strict_backend.url, timeout=30) as c:
        user = _signup(c, _ip())
        filler = "d" * (MAX_BODY - 200)
        fits = c.post(
            "/api/tasks", json={"title": "fits", "description": filler[:1900]}, headers=user.headers
        )
        assert fits.status_code == 201, fits.text
        too_big = c.post(
            "/api/tasks",
            json={"title": "big", "description": filler + "x" * 400},
            headers=user.headers,
        )
        assert too_big.status_code == 413, too_big.text
        assert too_big.json() == {"detail": "Request body too large"}

        def stream() -> Iterator[bytes]:
            yield b'{"title": "streamed", "description": "'
            for _ in range(8):
                yield b"s" * 1024
            yield b'"}'

        streamed = c.post(
            "/api/tasks",
            content=stream(),
            headers={**user.headers, "Content-Type": "application/json"},
        )
        assert streamed.status_code == 413, streamed.text
        sent = 4
        if "/api/chat" in c.get("/openapi.json").json()["paths"]:
            at_limit = c.post(
                "/api/chat",
                json={"message": "list my tasks " + "." * (CHAT_MAX_CHARS - 14)},
                headers=user.headers,
            )
            assert at_limit.status_code == 200, at_limit.text
            over = c.post(
                "/api/chat", json={"message": "x" * (CHAT_MAX_CHARS + 1)}, headers=user.headers
            )
            assert over.status_code == 422, over.text
            sent += 3
        # None of the refused bodies created anything.
        titles = [t["title"] for t in c.get("/api/tasks", headers=user.headers).json()["items"]]
        assert "big" not in titles and "streamed" not in titles, titles
    LEDGER.add(ITEM, "requests", sent + 1)
    LEDGER.add(ITEM, "faults injected", 3)
    LEDGER.set(ITEM, "body limit under test (bytes)", MAX_BODY)
    LEDGER.set(ITEM, "chat message limit under test (chars)", CHAT_MAX_CHARS)


def test_cors_allows_only_configured_origins(strict_backend: BackendServer) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    sent = 0
    with httpx.Client(base_url=strict_backend.url, timeout=30) as c:
        for origin in (
            "https://evil.example",
            "null",
            ALLOWED_ORIGIN + ".evil.example",
            "http://todo.allowed.example",
            ALLOWED_ORIGIN + ":8443",
        ):
            pre = c.options("/api/tasks", headers={"Origin": origin, **preflight})
            simple = c.get("/health", headers={"Origin": origin})
            sent += 2
            for resp in (pre, simple):
                assert "access-control-allow-origin" not in resp.headers, (origin, resp.headers)
                # (Starlette's refused preflight still says allow-credentials; without an
                # allow-origin the browser blocks the request anyway.)
            assert pre.status_code >= 400, (origin, pre.status_code)
        ok = c.options("/api/tasks", headers={"Origin": ALLOWED_ORIGIN, **preflight})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
        simple = c.get("/health", headers={"Origin": ALLOWED_ORIGIN})
        assert simple.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
        assert "*" not in simple.headers.get("access-control-allow-origin", "")
        sent += 2
    LEDGER.add(ITEM, "requests", sent)
    LEDGER.set(ITEM, "foreign origins refused", 5)


# -- the frontend -----------------------------------------------------------------------------
STANDALONE = REPO_ROOT / "frontend" / ".next" / "standalone" / "server.js"


@pytest.fixture(scope="module")
def frontend(strict_backend: BackendServer) -> Iterator[str]:
    node = require_tool("node")
    require(
        STANDALONE.exists(), f"the frontend is not built ({STANDALONE}); run make frontend-build"
    )
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PORT": str(port),
        "HOSTNAME": "127.0.0.1",
        "NODE_ENV": "production",
        "NEXT_TELEMETRY_DISABLED": "1",
        "BACKEND_URL": strict_backend.url,
    }
    log = open(Path(strict_backend.workdir) / "frontend.log", "wb")
    proc = subprocess.Popen(
        [node, str(STANDALONE)],
        cwd=STANDALONE.parent,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServerError(f"frontend exited {proc.returncode}")
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise ServerError("frontend did not become healthy in 60 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def test_rotating_x_forwarded_for_through_the_frontend_does_not_lift_the_login_limit(
    frontend: str,
) -> None:
    """Through the real frontend, a client that writes a new X-Forwarded-For on every attempt is
    still one address to the backend (the frontend forwards the socket peer, never the client's
    header), so credential stuffing is limited per IP. Unknown emails keep the per-email limit out
    of it. Afterwards sign-ins from the frontend's address (127.0.0.1) wait a minute; no later test
    in this module signs in through the frontend."""
    with httpx.Client(base_url=frontend, timeout=30) as c:
        statuses = []
        for i in range(LOGIN_LIMIT + 1):
            r = c.post(
                "/api/auth/login",
                json={"email": f"stuffing{i}-{uuid.uuid4().hex[:6]}@example.com", "password": "x"},
                headers={"X-Forwarded-For": _ip(), "X-Real-IP": _ip()},
            )
            statuses.append(r.status_code)
        assert statuses[:LOGIN_LIMIT] == [401] * LOGIN_LIMIT, statuses
        _assert_429(r)
    LEDGER.add(ITEM, "requests", LOGIN_LIMIT + 1)
    LEDGER.add(ITEM, "faults injected", LOGIN_LIMIT + 1)
    LEDGER.set(ITEM, "spoofed X-Forwarded-For through the frontend", "limited per socket address")


def test_frontend_sends_security_headers(frontend: str) -> None:
    pages = ["/", "/signin", "/signup", "/no-such-page"]
    sent = 0
    with httpx.Client(base_url=frontend, timeout=30, follow_redirects=False) as c:
        for page in [*pages, "/health", "/api/tasks"]:
            r = c.get(page)
            sent += 1
            h = r.headers
            assert h.get("x-content-type-options") == "nosniff", (page, dict(h))
            assert h.get("referrer-policy") in {
                "strict-origin-when-cross-origin",
                "no-referrer",
                "same-origin",
                "strict-origin",
            }, (page, dict(h))
            csp = h.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in csp or "frame-ancestors 'self'" in csp, (page, csp)
            assert "x-powered-by" not in h, page
            if page in pages:
                directives = dict(
                    ([*d.strip().split(" ", 1), ""])[:2] for d in csp.split(";") if d.strip()
                )
                script = directives.get("script-src", directives.get("default-src", ""))
                assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, csp
                assert directives.get("object-src") == "'none'", csp
                assert h.get("x-frame-options", "").upper() in {"DENY", "SAMEORIGIN"}, page
    LEDGER.add(ITEM, "requests", sent)
    LEDGER.set(ITEM, "frontend pages checked for headers", sent)
