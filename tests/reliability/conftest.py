"""Fixtures for the reliability suite: a real `todo-api serve` on PostgreSQL, real users,
secret values to hunt for, and the hooks that turn the run into docs/RELIABILITY.md."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from testsupport.pg import PostgresServer
from testsupport.server import BackendServer

from .ledger import BY_MODULE, LEDGER, Outcome, write_report

PASSWORD = "correct horse battery staple"


# -- secrets: random per session, so finding one anywhere is never a coincidence ----------------
@dataclass(frozen=True)
class Secrets:
    auth_secret: str
    db_password: str
    openai_key: str
    groq_key: str
    llm_key: str

    def values(self) -> dict[str, str]:
        return {
            "AUTH_SECRET": self.auth_secret,
            "DATABASE_URL password": self.db_password,
            "OPENAI_API_KEY": self.openai_key,
            "GROQ_API_KEY": self.groq_key,
            "LLM_API_KEY": self.llm_key,
        }


@pytest.fixture(scope="session")
def secret_values() -> Secrets:
    return Secrets(
        auth_secret="auth-" + secrets.token_hex(24),
        db_password="pw" + secrets.token_hex(12),
        openai_key="sk-test-" + secrets.token_hex(20),
        groq_key="gsk_test" + secrets.token_hex(20),
        llm_key="llm-test-" + secrets.token_hex(20),
    )


def db_url_with_password(pg: PostgresServer, name: str, password: str) -> str:
    """A fresh database; the URL carries a password (trust auth ignores it, logs must too)."""
    pg.create_database(name)
    return f"postgresql://postgres:{password}@127.0.0.1:{pg.port}/{name}"


def backend_env(db_url: str, s: Secrets, **overrides: str) -> dict[str, str]:
    env = {
        "DATABASE_URL": db_url,
        "AUTH_SECRET": s.auth_secret,
        "OPENAI_API_KEY": s.openai_key,
        "GROQ_API_KEY": s.groq_key,
        "LLM_API_KEY": s.llm_key,
        "LLM_PROVIDER": "local",
        "LOGIN_RATE_LIMIT": "100000/minute",
        "CHAT_RATE_LIMIT": "100000/minute",
        "CORS_ORIGINS": "http://localhost:3000",
    }
    env.update(overrides)
    return env


@pytest.fixture(scope="session")
def backend(pg_server: PostgresServer, secret_values: Secrets) -> Iterator[BackendServer]:
    """One real backend on its own PostgreSQL database, shared by the read-mostly tests."""
    url = db_url_with_password(pg_server, f"rel_{uuid.uuid4().hex[:8]}", secret_values.db_password)
    with BackendServer(backend_env(url, secret_values)) as server:
        yield server


# -- users ---------------------------------------------------------------------------------
@dataclass
class User:
    id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def signup(client: httpx.Client) -> User:
    email = f"u-{uuid.uuid4().hex[:12]}@example.com"
    resp = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return User(body["user"]["id"], email, body["access_token"])


@pytest.fixture
def client(backend: BackendServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=backend.url, timeout=30) as c:
        yield c


# -- report hooks ----------------------------------------------------------------------------
_results: dict[str, Outcome] = {}


def _item_for(nodeid: str) -> int | None:
    module = Path(nodeid.split("::", 1)[0]).stem
    item = BY_MODULE.get(module)
    return item.number if item else None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _item_for(report.nodeid) is None:
        return
    current = _results.setdefault(report.nodeid, Outcome(report.nodeid, "passed", 0.0))
    current.seconds += report.duration
    if report.failed:
        current.outcome = "failed"
    elif report.skipped and current.outcome != "failed":
        current.outcome = "skipped"
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            current.reason = str(longrepr[2]).removeprefix("Skipped: ")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for nodeid, outcome in _results.items():
        item = _item_for(nodeid)
        if item is not None:
            LEDGER.record(item, outcome)
    if LEDGER.complete():
        path = write_report(LEDGER)
        session.config.stash[_REPORT_KEY] = str(path)


_REPORT_KEY = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    path = terminalreporter.config.stash.get(_REPORT_KEY, None)
    if path:
        terminalreporter.write_line(f"reliability report written to {path}")
    elif _results:
        terminalreporter.write_line(
            "reliability report not written (run the whole tests/reliability suite)"
        )
