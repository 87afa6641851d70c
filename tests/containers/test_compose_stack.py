"""compose.yaml for real: the full stack (PostgreSQL, migrate, backend, frontend) from the images
this session built, driven through the frontend's published port like a browser would."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from typing import Any

import dockertools as dt
import pytest
import yaml

from testsupport.tools import free_port

pytestmark = pytest.mark.slow

COMPOSE_FILE = dt.ROOT / "compose.yaml"
ENV_EXAMPLE = dt.ROOT / ".env.example"


@dataclass
class Stack:
    cmd: list[str]
    project: str
    env: dict[str, str]
    frontend: str
    backend: str

    def compose(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return dt.run(
            [*self.cmd, "-f", str(COMPOSE_FILE), "-p", self.project, *args],
            check=check,
            timeout=timeout,
            env=self.env,
            cwd=dt.ROOT,
        )

    def container(self, service: str) -> str:
        return self.compose("ps", "-q", service).stdout.strip()

    def wait_healthy(self, service: str, timeout: float = 90) -> None:
        dt.wait_healthy(self.container(service), timeout=timeout)


def _compose_env(**extra: str) -> dict[str, str]:
    """The host environment minus anything compose would interpolate, plus the test's values."""
    keys = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    env = {k: v for k, v in os.environ.items() if k not in keys and not k.startswith("COMPOSE_")}
    env.update(extra)
    return env


def test_compose_config_is_valid(compose: list[str], tmp_path: Any) -> None:
    # with no .env at all (the documented default) ...
    dt.run([*compose, "-f", str(COMPOSE_FILE), "config", "-q"], env=_compose_env(), cwd=tmp_path)
    # ... and with every variable of the committed .env.example
    dt.run(
        [*compose, "-f", str(COMPOSE_FILE), "--env-file", str(ENV_EXAMPLE), "config", "-q"],
        env=_compose_env(),
        cwd=dt.ROOT,
    )
    rendered = yaml.safe_load(
        dt.run(
            [*compose, "-f", str(COMPOSE_FILE), "config"], env=_compose_env(), cwd=tmp_path
        ).stdout
    )
    services = rendered["services"]
    assert set(services) == {"secrets", "db", "migrate", "backend", "frontend"}
    # published ports: loopback only by default (v1 renders "ip:host:container/tcp", v2 long form)
    for name in ("backend", "frontend"):
        for port in services[name]["ports"]:
            host_ip = port.split(":")[0] if isinstance(port, str) else port.get("host_ip")
            assert host_ip == "127.0.0.1", (name, port)
    # no secret values in the file: empty unless .env sets them (then generated at first start)
    for name in ("migrate", "backend"):
        env = services[name]["environment"]
        assert env["AUTH_SECRET"] in ("", None) and env["DATABASE_URL"] in ("", None)
        assert env["APP_ENV"] == "production"
    assert services["secrets"]["environment"]["POSTGRES_PASSWORD"] in ("", None)
    # order: secrets -> db (healthy) -> migrate (completed) -> backend (healthy) -> frontend
    assert services["db"]["depends_on"]["secrets"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    backend_deps = services["backend"]["depends_on"]
    assert backend_deps["migrate"]["condition"] == "service_completed_successfully"
    assert services["frontend"]["depends_on"]["backend"]["condition"] == "service_healthy"
    assert services["frontend"]["environment"]["BACKEND_URL"] == "http://backend:8001"
    # per-IP limits: the backend believes X-Forwarded-For only from the compose network (the
    # frontend), never from anyone (`*`); the frontend trusts no proxy unless told
    trusted = services["backend"]["environment"]["FORWARDED_ALLOW_IPS"]
    assert trusted == "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7", trusted
    assert services["frontend"]["environment"]["TRUSTED_PROXY_IPS"] in ("", None)
    for name in ("db", "backend", "frontend"):
        assert services[name]["restart"] == "unless-stopped"
    assert "healthcheck" in services["db"]


def test_neon_override_requires_and_uses_database_url(compose: list[str], tmp_path: Any) -> None:
    files = ["-f", str(COMPOSE_FILE), "-f", str(dt.ROOT / "compose.neon.yaml")]
    missing = dt.run([*compose, *files, "config", "-q"], env=_compose_env(), check=False)
    assert missing.returncode != 0
    assert "set DATABASE_URL to the Neon connection string" in missing.stdout + missing.stderr
    neon = "postgresql://app:pw@ep-test-123.eu-central-1.aws.neon.tech/tododb?sslmode=require"
    out = dt.run([*compose, *files, "config"], env=_compose_env(DATABASE_URL=neon), cwd=tmp_path)
    services = yaml.safe_load(out.stdout)["services"]
    assert services["migrate"]["environment"]["DATABASE_URL"] == neon
    assert services["backend"]["environment"]["DATABASE_URL"] == neon


@pytest.fixture(scope="module")
def stack(
    compose: list[str], backend_image: dt.ImageSpec, frontend_image: dt.ImageSpec
) -> Iterator[Stack]:
    project = f"todotest{uuid.uuid4().hex[:8]}"
    frontend_port, backend_port = free_port(), free_port()
    env = _compose_env(
        BACKEND_IMAGE=backend_image.tag,
        FRONTEND_IMAGE=frontend_image.tag,
        POSTGRES_IMAGE=dt.postgres_image(),
        PYTHON_IMAGE=backend_image.base,
        NODE_IMAGE=frontend_image.base,
        FRONTEND_PORT=str(frontend_port),
        BACKEND_PORT=str(backend_port),
        FRONTEND_URL=f"http://127.0.0.1:{frontend_port}",
        LOGIN_RATE_LIMIT="100/minute",
    )
    stack = Stack(
        compose,
        project,
        env,
        f"http://127.0.0.1:{frontend_port}",
        f"http://127.0.0.1:{backend_port}",
    )
    try:
        started = time.monotonic()
        # --no-build: the images this session built from the same Dockerfiles
        stack.compose("up", "-d", "--no-build", timeout=300)
        stack.wait_healthy("frontend")
        print(f"\ncompose stack healthy in {time.monotonic() - started:.1f}s")
        yield stack
    finally:
        logs = stack.compose("logs", "--no-color", "--tail", "40", check=False)
        print(logs.stdout[-6000:])
        stack.compose("down", "-v", "--remove-orphans", check=False, timeout=180)
        left = dt.docker(
            "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={project}"
        )
        assert left.stdout.strip() == "", "down -v left volumes behind"


class Browser:
    """Cookie-keeping HTTP client, like the browser: same origin, session in an httpOnly cookie."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def call(self, method: str, path: str, body: object | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        req.add_header("content-type", "application/json")
        req.add_header("origin", self.base)
        try:
            with self.opener.open(req, timeout=60) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw else None


def _poll(fn: Any, want: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    status = -1
    while time.monotonic() < deadline:
        status = fn()
        if status == want:
            return status
        time.sleep(0.5)
    return status


def test_stack_through_the_frontend(stack: Stack) -> None:
    """Sign up, add a task, chat adds a task, data survives a backend restart."""
    browser = Browser(stack.frontend)
    status, page = dt.http_get(stack.frontend + "/signin")
    assert status == 200 and b"<html" in page.lower()

    email = f"compose-{uuid.uuid4().hex[:8]}@example.com"
    status, body = browser.call(
        "POST", "/api/auth/signup", {"email": email, "password": "correct horse battery"}
    )
    assert status == 201, body
    assert body["user"]["email"] == email
    assert "access_token" not in body  # the token stays in the httpOnly cookie

    status, task = browser.call("POST", "/api/tasks", {"title": "Buy milk", "priority": "high"})
    assert status == 201, task
    assert task["title"] == "Buy milk"

    status, chat = browser.call("POST", "/api/chat", {"message": "add a task to call mom"})
    assert status == 200, chat
    assert chat["conversation_id"] and chat["reply"]
    assert any(a["tool"] == "add_task" and a["ok"] for a in chat["actions"]), chat

    status, listing = browser.call("GET", "/api/tasks?sort=created&order=asc")
    assert status == 200
    titles = [t["title"] for t in listing["items"]]
    assert titles[0] == "Buy milk" and len(titles) == 2, titles
    assert "mom" in titles[1].lower(), titles

    stack.compose("restart", "backend", timeout=120)
    stack.wait_healthy("backend")
    status, after = browser.call("GET", "/api/tasks?sort=created&order=asc")
    assert status == 200, after  # same session cookie: the generated AUTH_SECRET persisted
    assert [t["title"] for t in after["items"]] == titles


def test_ready_follows_the_database(stack: Stack) -> None:
    """/ready: 503 while the db container is stopped, 200 again once it is back."""

    def ready() -> int:
        return dt.http_get(stack.backend + "/ready", timeout=10)[0]

    assert ready() == 200
    stack.compose("stop", "db", timeout=120)
    try:
        assert _poll(ready, 503, timeout=30) == 503
        assert (
            dt.http_get(stack.backend + "/health")[0] == 200
        )  # liveness does not depend on the database
    finally:
        stack.compose("start", "db", timeout=120)
    assert _poll(ready, 200, timeout=60) == 200


def test_secrets_are_generated_not_configured(stack: Stack) -> None:
    """No .env: AUTH_SECRET was generated into the volume, and is not visible in docker inspect."""
    backend = stack.container("backend")
    secret = dt.docker("exec", backend, "cat", "/var/lib/todo/auth_secret").stdout.strip()
    assert len(secret) == 64
    assert secret not in json.dumps(dt.inspect(backend, "container"))
    # only the app user can read it
    mode = dt.docker("exec", backend, "stat", "-c", "%a %u", "/var/lib/todo/auth_secret").stdout
    assert mode.split() == ["600", "1001"]
    # the one-shot services finished successfully, and the backend runs as uid 1001
    for service in ("secrets", "migrate"):
        state = dt.inspect(stack.container(service), "container")["State"]
        assert state["Status"] == "exited" and state["ExitCode"] == 0
    assert dt.docker("exec", backend, "id", "-u").stdout.strip() == "1001"
