"""Item 1: bad input. Schemathesis generates positive and negative requests for every operation
of the backend's own OpenAPI spec and sends them, authenticated as a real user, to a real
`todo-api serve` on PostgreSQL. No 5xx, no response that breaks its documented schema or the
error contract, no hang. Then explicit nasty inputs that a generator rarely produces."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from testsupport.pg import PostgresServer
from testsupport.server import BackendServer
from testsupport.tools import free_port

from .conftest import Secrets, backend_env, db_url_with_password, signup
from .ledger import LEDGER

ITEM = 1
HANG_SECONDS = 10.0
MIN_REQUESTS = 1000
EXAMPLES = 65  # per operation and mode; the total must reach MIN_REQUESTS
# Operations whose valid requests hash a password (argon2 is deliberately slow): fewer examples.
EXPENSIVE = {
    ("POST", "/api/auth/signup"): 8,
    ("POST", "/api/auth/login"): 8,
    ("DELETE", "/api/auth/me"): 3,
}


@pytest.fixture(scope="module")
def fuzz_backend(pg_server: PostgresServer, secret_values: Secrets) -> Iterator[BackendServer]:
    url = db_url_with_password(pg_server, f"fuzz_{uuid.uuid4().hex[:8]}", secret_values.db_password)
    with BackendServer(backend_env(url, secret_values)) as server:
        yield server


def error_contract(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx body is the documented error shape: {"detail": str} or the 422 list."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(
            f"{response.status_code} body is not JSON: {response.content[:200]!r}"
        ) from None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str) and detail:
        return True
    if response.status_code == 422 and isinstance(detail, list) and detail:
        assert all({"loc", "msg", "type"} <= set(e) for e in detail), body
        return True
    raise AssertionError(f"{response.status_code} body breaks the error contract: {body!r}")


# negative_data_rejection is left out on purpose: we replace the generated Authorization header
# with a real token (so "missing Authorization" negatives become valid requests), and FastAPI,
# like most APIs, ignores unknown query parameters. Negative data still must never cause a 5xx.
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
]


@dataclass
class Stats:
    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    slowest: float = 0.0
    unsatisfiable: int = 0
    http_seconds: float = 0.0
    by_op_status: dict[str, int] = field(default_factory=dict)
    per_op: dict[str, tuple[int, float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def test_schemathesis_over_the_whole_spec(fuzz_backend: BackendServer) -> None:
    base = fuzz_backend.url
    with httpx.Client(base_url=base, timeout=30) as c:
        owner = signup(c)
        # Rows to find: the generator's small integers hit these ids, not only 404s.
        for i in range(30):
            c.post(
                "/api/tasks", json={"title": f"seed {i}", "tags": ["seed"]}, headers=owner.headers
            )
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    stats = Stats()
    session = requests.Session()
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 13, [op.label for op in operations]

    def headers_for(method: str, path: str) -> dict[str, str]:
        if (method, path) == ("DELETE", "/api/auth/me"):
            with httpx.Client(base_url=base, timeout=30) as c:
                return signup(c).headers  # a throwaway account, so the owner survives
        return owner.headers

    def fuzz(operation: Any, mode: GenerationMode) -> None:
        method, path = operation.method.upper(), operation.path

        @settings(
            max_examples=EXPENSIVE.get((method, path), EXAMPLES),
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: schemathesis.Case) -> None:
            headers = headers_for(method, path)
            start = time.monotonic()
            try:
                response = case.call(
                    base_url=base, session=session, headers=headers, timeout=HANG_SECONDS
                )
            finally:
                stats.requests += 1
            stats.slowest = max(stats.slowest, time.monotonic() - start)
            stats.http_seconds += time.monotonic() - start
            stats.by_status[response.status_code] = stats.by_status.get(response.status_code, 0) + 1
            key = f"{method} {path} {mode.value} {response.status_code}"
            stats.by_op_status[key] = stats.by_op_status.get(key, 0) + 1
            case.validate_response(
                response, checks=CHECKS, additional_checks=[error_contract], headers=headers
            )

        before, began = stats.requests, time.monotonic()
        try:
            run()
        except Unsatisfiable:
            # No invalid request exists (no parameters, no body): nothing to negate.
            assert mode is GenerationMode.NEGATIVE, f"{method} {path}: no valid request?"
            stats.unsatisfiable += 1
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup
            # Collect every operation's failure, then fail once with all of them.
            stats.failures.append(f"--- {method} {path} ({mode.value}) ---\n{exc}"[:4000])
        finally:
            stats.per_op[f"{method} {path} {mode.value}"] = (
                stats.requests - before,
                round(time.monotonic() - began, 2),
            )

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode)

    LEDGER.add(ITEM, "fuzzed requests", stats.requests)
    LEDGER.add(ITEM, "requests", stats.requests)
    LEDGER.set(ITEM, "operations fuzzed", len(operations))
    LEDGER.set(
        ITEM,
        "negative cases with a mangled Authorization (401)",
        sum(n for k, n in stats.by_op_status.items() if k.endswith("negative 401")),
    )
    LEDGER.set(ITEM, "5xx responses", sum(n for s, n in stats.by_status.items() if s >= 500))
    LEDGER.set(ITEM, "slowest response s", round(stats.slowest, 3))
    LEDGER.set(ITEM, "seconds waiting for responses", round(stats.http_seconds, 1))
    for status, n in sorted(stats.by_status.items()):
        LEDGER.set(ITEM, f"responses {status}", n)
    LEDGER.add(ITEM, "errors", len(stats.failures))
    assert not stats.failures, "\n".join(stats.failures)
    assert stats.requests >= MIN_REQUESTS, stats.requests
    assert fuzz_backend.is_running()


def _raw_http(port: int, request: bytes, timeout: float = HANG_SECONDS) -> int:
    """Send raw bytes, return the status code the server answers with (0: it just closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return 0
            data += chunk
    return int(data.split(b" ", 2)[1])


def _nested(depth: int) -> bytes:
    return b'{"title": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


def test_explicit_bad_inputs_get_4xx(fuzz_backend: BackendServer) -> None:
    base, port = fuzz_backend.url, fuzz_backend.port
    with httpx.Client(base_url=base, timeout=HANG_SECONDS) as c:
        user = signup(c)
        auth = user.headers
        json_auth = {**auth, "Content-Type": "application/json"}
        big = b'{"title": "' + b"x" * 200_000 + b'"}'

        def chunked() -> Iterator[bytes]:
            for _ in range(40):
                yield b"x" * 4096

        cases: list[tuple[str, Any]] = [
            # oversized bodies: declared, and streamed without a Content-Length
            ("413 declared", lambda: c.post("/api/tasks", content=big, headers=json_auth)),
            ("413 chunked", lambda: c.post("/api/tasks", content=chunked(), headers=json_auth)),
            ("413 signup", lambda: c.post("/api/auth/signup", content=big, headers=json_auth)),
            ("413 chat", lambda: c.post("/api/chat", content=big, headers=json_auth)),
            # deep JSON, under the size cap
            (
                "deep arrays",
                lambda: c.post(
                    "/api/tasks", content=b"[" * 30000 + b"]" * 30000, headers=json_auth
                ),
            ),
            (
                "deep objects",
                lambda: c.post("/api/tasks", content=_nested(8000), headers=json_auth),
            ),
            (
                "deep object in chat",
                lambda: c.post("/api/chat", content=_nested(8000), headers=json_auth),
            ),
            # invalid UTF-8 and broken JSON
            (
                "invalid utf-8",
                lambda: c.post(
                    "/api/tasks", content=b'{"title": "\xff\xfe\xc3"}', headers=json_auth
                ),
            ),
            (
                "invalid utf-8 login",
                lambda: c.post(
                    "/api/auth/login",
                    content=b'{"email": "\xc0@x.io", "password": "\xff"}',
                    headers={"Content-Type": "application/json"},
                ),
            ),
            (
                "lone surrogate",
                lambda: c.post("/api/tasks", content=b'{"title": "\\ud800"}', headers=json_auth),
            ),
            ("NUL in title", lambda: c.post("/api/tasks", json={"title": "a\x00b"}, headers=auth)),
            ("NUL in query", lambda: c.get("/api/tasks", params={"q": "a\x00"}, headers=auth)),
            (
                "NUL in chat",
                lambda: c.post("/api/chat", json={"message": "add \x00"}, headers=auth),
            ),
            (
                "truncated JSON",
                lambda: c.post("/api/tasks", content=b'{"title": "x', headers=json_auth),
            ),
            ("NaN", lambda: c.post("/api/tasks", content=b'{"title": NaN}', headers=json_auth)),
            (
                "huge number",
                lambda: c.post(
                    "/api/tasks",
                    content=b'{"title": "x", "priority": ' + b"9" * 5000 + b"}",
                    headers=json_auth,
                ),
            ),
            (
                "duplicate keys",
                lambda: c.post(
                    "/api/tasks", content=b'{"title": 1, "title": []}', headers=json_auth
                ),
            ),
            # huge or odd query values and path ids
            ("q 5 KB", lambda: c.get("/api/tasks", params={"q": "x" * 5000}, headers=auth)),
            ("q 60 KB", lambda: c.get("/api/tasks", params={"q": "x" * 60_000}, headers=auth)),
            ("limit 10**40", lambda: c.get("/api/tasks", params={"limit": 10**40}, headers=auth)),
            ("offset -1", lambda: c.get("/api/tasks", params={"offset": -1}, headers=auth)),
            ("status bytes", lambda: c.get("/api/tasks?status=%FF%FE", headers=auth)),
            ("task id 2**31", lambda: c.get(f"/api/tasks/{2**31}", headers=auth)),
            ("task id 10**30", lambda: c.delete(f"/api/tasks/{10**30}", headers=auth)),
            (
                "conversation 2**63",
                lambda: c.get(f"/api/conversations/{2**63}/messages", headers=auth),
            ),
            (
                "conversation_id 2**40",
                lambda: c.post(
                    "/api/chat", json={"message": "hi", "conversation_id": 2**40}, headers=auth
                ),
            ),
            # wrong content types
            (
                "text/plain",
                lambda: c.post(
                    "/api/tasks",
                    content=b'{"title": "x"}',
                    headers={**auth, "Content-Type": "text/plain"},
                ),
            ),
            ("form", lambda: c.post("/api/tasks", data={"title": "x"}, headers=auth)),
            ("multipart", lambda: c.post("/api/tasks", files={"title": ("t", b"x")}, headers=auth)),
            (
                "xml",
                lambda: c.post(
                    "/api/auth/login",
                    content=b"<login/>",
                    headers={"Content-Type": "application/xml"},
                ),
            ),
            ("no content type", lambda: c.post("/api/tasks", content=b"title=x", headers=auth)),
            ("json array body", lambda: c.post("/api/tasks", json=[{"title": "x"}], headers=auth)),
            ("json string body", lambda: c.post("/api/chat", json="hello", headers=auth)),
            # headers
            (
                "huge Authorization",
                lambda: c.get("/api/tasks", headers={"Authorization": "Bearer " + "a" * 60_000}),
            ),
        ]
        problems = []
        for name, send in cases:
            start = time.monotonic()
            try:
                status = send().status_code
            except httpx.HTTPError as exc:
                status, name = 0, f"{name} ({type(exc).__name__})"
            if time.monotonic() - start > HANG_SECONDS / 2:
                problems.append(f"{name}: took {time.monotonic() - start:.1f}s")
            if not 400 <= status < 500:
                problems.append(f"{name}: {status}")
        # Malformed HTTP itself (raw socket): the server answers 4xx or closes, never 5xx.
        raw = {
            "bad request line": b"GARBAGE\r\n\r\n",
            "negative content-length": b"POST /api/tasks HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: -5\r\n\r\n",
            "header without colon": b"GET /health HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n",
            "1 MB URL": b"GET /api/tasks?q=" + b"x" * 1_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        }
        for name, payload in raw.items():
            try:
                status = _raw_http(port, payload)
            except OSError:  # reset while we were still sending: refused, not crashed
                status = 0
            if status >= 500 or 0 < status < 400:
                problems.append(f"raw {name}: {status}")
        assert c.get("/health").status_code == 200
        still = c.get("/api/tasks", headers=auth)
        assert still.status_code == 200 and still.json()["total"] == 0, still.text
    LEDGER.add(ITEM, "requests", len(cases) + len(raw) + 3)
    LEDGER.set(ITEM, "explicit bad-input cases", len(cases) + len(raw))
    LEDGER.add(ITEM, "errors", len(problems))
    assert not problems, "\n".join(problems)
    assert fuzz_backend.is_running()


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=60),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
MCP_EXAMPLES = 25
CRASH_MARKERS = (
    "Traceback",
    "[SQL:",
    "sqlalchemy",
    "asyncpg",
    "AttributeError",
    "TypeError",
    "KeyError",
    "Internal error",
    "Database unavailable",
)


def test_mcp_tools_survive_arbitrary_arguments(fuzz_backend: BackendServer) -> None:
    """The MCP door has its own argument parsing: every tool gets arbitrary JSON for each of its
    properties (and unknown ones). Answers are JSON-RPC results (isError true or false), never
    an HTTP 5xx or a JSON-RPC internal error."""
    with httpx.Client(base_url=fuzz_backend.url, timeout=HANG_SECONDS) as c:
        if c.post("/mcp", json={}).status_code == 404:
            pytest.skip("the MCP server (/mcp) is not in this build yet")
        user = signup(c)
        headers = {**user.headers, "Accept": "application/json, text/event-stream"}
        for i in range(5):
            c.post("/api/tasks", json={"title": f"mcp seed {i}"}, headers=user.headers)

        def rpc(method: str, params: dict[str, Any]) -> httpx.Response:
            body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
            return c.post("/mcp", json=body, headers=headers)

        tools = rpc("tools/list", {}).json()["result"]["tools"]
        assert tools, "no MCP tools listed"
        sent, problems = 0, []

        def fuzz_tool(name: str, props: list[str]) -> None:
            nonlocal sent

            @settings(
                max_examples=MCP_EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(
                args=st.fixed_dictionaries(
                    {}, optional={p: JSON_VALUES for p in [*props, "unexpected"]}
                )
            )
            def run(args: dict[str, Any]) -> None:
                nonlocal sent
                resp = rpc("tools/call", {"name": name, "arguments": args})
                sent += 1
                assert resp.status_code == 200, (name, args, resp.status_code, resp.text[:300])
                body = resp.json()
                assert "result" in body, (name, args, body)
                assert isinstance(body["result"].get("isError"), bool), body
                # The SDK turns a crashing tool into an isError result carrying the exception
                # text: a database or programming error must not hide there.
                text = json.dumps(body["result"].get("content"))
                for marker in CRASH_MARKERS:
                    assert marker not in text, (name, args, text[:500])

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:
                problems.append(f"--- MCP {name} ---\n{exc}"[:3000])

        for spec in tools:
            fuzz_tool(spec["name"], list((spec.get("inputSchema") or {}).get("properties", {})))
        assert c.get("/health").status_code == 200
    LEDGER.add(ITEM, "fuzzed requests", sent)
    LEDGER.add(ITEM, "requests", sent + 7)
    LEDGER.set(ITEM, "MCP tools fuzzed", len(tools))
    LEDGER.add(ITEM, "errors", len(problems))
    assert not problems, "\n".join(problems)


async def test_database_refusing_data_is_a_4xx_not_an_outage(pg_server: PostgresServer) -> None:
    """Defence in depth behind the validators: real errors from PostgreSQL for bad data (SQLSTATE
    class 22) and conflicts (23) map to 422/409 in the app's handler, while a refused connection
    stays a 503. (U+0000 in text used to reach PostgreSQL and come back as '503 Database
    unavailable'; the validators now stop it first.)"""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from todo_api.core.config import load_settings
    from todo_api.db import translate_error
    from todo_api.main import create_app

    url = pg_server.create_database(f"dataerr_{uuid.uuid4().hex[:8]}")
    app = create_app(load_settings(database_url=url, app_env="test"))
    handler = app.exception_handlers[DBAPIError]
    engine = app.state.db.engine
    cases: list[tuple[str, dict[str, Any], int]] = [
        ("SELECT CAST(:v AS text)", {"v": "a\x00b"}, 422),  # 22021, the U+0000 bug
        ("SELECT 1 / 0", {}, 422),  # 22012 division_by_zero
        ("SELECT 2147483647::int + 1", {}, 422),  # 22003 numeric_value_out_of_range
        ("SELECT 'x'::date", {}, 422),  # 22007 invalid_datetime_format
        ("INSERT INTO u VALUES (1)", {}, 409),  # 23505 unique_violation
    ]
    seen: dict[str, tuple[int, int]] = {}
    try:
        async with engine.connect() as conn:
            for sql, params, expected in cases:
                await conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS u (k int UNIQUE)"))
                await conn.execute(text("INSERT INTO u VALUES (1) ON CONFLICT DO NOTHING"))
                try:
                    await conn.execute(text(sql), params)
                except DBAPIError as exc:
                    await conn.rollback()
                    # What db.Connection raises: the driver's error, translated in one place.
                    driver_error = getattr(exc.orig, "__cause__", None) or exc.orig
                    translated, _ = translate_error(driver_error, sql)
                    seen[sql] = ((await handler(None, translated)).status_code, expected)
                else:
                    raise AssertionError(f"{sql} did not fail")
    finally:
        await engine.dispose()
    closed = create_app(
        load_settings(database_url=f"postgresql://u:p@127.0.0.1:{free_port()}/x", app_env="test")
    )
    try:
        async with closed.state.db.engine.connect():
            raise AssertionError("connected to a closed port")
    except (DBAPIError, OSError) as exc:
        seen["connection refused"] = ((await handler(None, exc)).status_code, 503)
    finally:
        await closed.state.db.engine.dispose()
    LEDGER.add(ITEM, "faults injected", len(seen))
    wrong = {k: v for k, v in seen.items() if v[0] != v[1]}
    assert not wrong, wrong
