"""Item 7: secrets stay secret. Random per-session values for AUTH_SECRET, the database password
(inside DATABASE_URL), GROQ/OPENAI/LLM API keys, plus a user's password and access token, are
hunted for in:

- everything the backend logs at DEBUG while it serves a full session, including error paths with
  tracebacks (provider failures whose error message echoes the API key, an unreachable database,
  validation errors on sign-up, bad tokens);
- what the CLI prints when migrations or configuration fail;
- every API response body and header of that session;
- rendered Kubernetes objects: the Helm charts (given the secrets with --set-string) may carry them
  only in Secret objects, never in ConfigMaps, env literals, annotations or hooks other than
  Secrets; the kustomize overlays carry no secret values outside Secrets at all.

Container images are scanned for secrets by tests/containers (image config and every layer)."""

from __future__ import annotations

import base64
import importlib.util
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml

from testsupport.pg import PostgresServer
from testsupport.server import REPO_ROOT, BackendServer, serve_command
from testsupport.tools import free_port, require_tool

from .conftest import PASSWORD, Secrets, backend_env, db_url_with_password
from .ledger import LEDGER

ITEM = 7


class Recorder:
    """An httpx event hook that keeps every response (status, headers, body) for scanning."""

    def __init__(self) -> None:
        self.responses: list[str] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.responses.append(f"{response.status_code}\n{headers}\n{response.text}")


def find_leaks(haystack: str, needles: dict[str, str]) -> list[str]:
    found = []
    for name, value in needles.items():
        variants = {value, base64.b64encode(value.encode()).decode().rstrip("=")}
        if any(v in haystack for v in variants):
            found.append(name)
    return found


@pytest.fixture(scope="module")
def fake_llm_server() -> Iterator[Any]:
    fake_llm = pytest.importorskip("testsupport.fake_llm")
    with fake_llm.FakeLLM() as fake:
        yield fake


def test_no_secret_in_logs_or_responses(
    pg_server: PostgresServer, secret_values: Secrets, fake_llm_server: Any
) -> None:
    from testsupport import fake_llm

    llm = fake_llm_server
    url = db_url_with_password(pg_server, f"sec_{uuid.uuid4().hex[:8]}", secret_values.db_password)
    env = backend_env(
        url,
        secret_values,
        LOG_LEVEL="DEBUG",
        LLM_PROVIDER="openai-compatible",
        LLM_BASE_URL=llm.base_url,
        LLM_MODEL="fake-model",
        LLM_TIMEOUT_SECONDS="2",
        LLM_MAX_RETRIES="0",
    )
    rec = Recorder()
    secrets = secret_values.values()
    with (
        BackendServer(env) as srv,
        httpx.Client(base_url=srv.url, timeout=30, event_hooks={"response": [rec]}) as c,
    ):
        email = f"s-{uuid.uuid4().hex[:8]}@example.com"
        r = c.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
        token = r.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        c.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        c.post("/api/auth/login", json={"email": email, "password": PASSWORD + "-wrong"})
        # Validation errors must not echo the submitted password.
        c.post("/api/auth/signup", json={"email": "bad", "password": PASSWORD + "x" * 200})
        c.post("/api/auth/signup", json={"email": email, "password": PASSWORD})  # 409
        c.get("/api/auth/me", headers={"Authorization": f"Bearer {token}x"})
        task = c.post("/api/tasks", json={"title": "t", "tags": ["a"]}, headers=auth).json()
        c.patch(f"/api/tasks/{task['id']}", json={"title": None}, headers=auth)
        c.post(
            "/api/tasks", content=b"{" * 70000, headers={**auth, "Content-Type": "application/json"}
        )
        # Provider failures, one of them echoing the API key back like real providers do.
        llm.push(
            fake_llm.tool_calls(("add_task", {"title": "from chat"})),
            fake_llm.error(401, f"Incorrect API key provided: {secret_values.llm_key}"),
        )
        c.post("/api/chat", json={"message": "add from chat"}, headers=auth)
        llm.push(fake_llm.Reply('{"truncated": '))
        c.post("/api/chat", json={"message": "again"}, headers=auth)
        llm.push(fake_llm.error(500, f"upstream said {secret_values.llm_key}"))
        c.post("/api/chat", json={"message": "and again"}, headers=auth)
        for path in (
            "/health",
            "/ready",
            "/metrics",
            "/openapi.json",
            "/docs",
            "/api/conversations",
        ):
            c.get(path, headers=auth)
        provider_saw_key = any(
            secret_values.llm_key in h.get("authorization", "") for h in llm.headers
        )
        c.delete("/api/auth/me", headers=auth)
        logs = srv.log_text()
        requests_sent = len(rec.responses)
    assert provider_saw_key, "the fake provider never received the API key: the test is vacuous"
    assert '"level":"WARNING"' in logs or '"level":"ERROR"' in logs, "no error path was logged"
    in_logs = find_leaks(logs, {**secrets, "user password": PASSWORD, "access token": token})
    in_responses = find_leaks("\n".join(rec.responses), {**secrets, "user password": PASSWORD})
    LEDGER.add(ITEM, "requests", requests_sent)
    LEDGER.set(ITEM, "log lines scanned (DEBUG session)", len(logs.splitlines()))
    LEDGER.set(ITEM, "responses scanned", requests_sent)
    LEDGER.add(ITEM, "faults injected", 3)
    LEDGER.add(ITEM, "errors", len(in_logs) + len(in_responses))
    assert not in_logs, f"secrets in the backend log: {in_logs}"
    assert not in_responses, f"secrets in API responses: {in_responses}"


def test_no_secret_in_logs_when_the_database_is_unreachable(
    secret_values: Secrets, tmp_path: Path
) -> None:
    """DATABASE_URL with a password, pointing at a closed port: serve, migrate and check-config
    fail or degrade, and none of them prints the password (driver errors can quote the URL)."""
    closed = free_port()
    url = f"postgresql://todo:{secret_values.db_password}@127.0.0.1:{closed}/todo"
    env = backend_env(
        url, secret_values, MIGRATE_ON_START="0", LOG_LEVEL="DEBUG", DB_TIMEOUT_SECONDS="1"
    )
    outputs = []
    with BackendServer(env) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        now = int(time.time())
        token = jwt.encode({"sub": "1", "iat": now, "exp": now + 600}, secret_values.auth_secret)
        statuses = [
            c.get("/ready").status_code,
            c.get("/api/tasks", headers={"Authorization": f"Bearer {token}"}).status_code,
            c.post("/api/auth/login", json={"email": "a@b.co", "password": "p"}).status_code,
        ]
        assert statuses == [503, 503, 503], statuses
        outputs.append(srv.log_text())
    cli_env = {**srv.env}
    bad_urls = {
        "unreachable": url,
        "no host": f"postgresql://todo:{secret_values.db_password}@/todo",
        "bad scheme": f"mysql://todo:{secret_values.db_password}@db/todo",
        "bad sslmode": f"postgresql://todo:{secret_values.db_password}@db/todo?sslmode=maybe",
    }
    for args in (["migrate"], ["migrate", "--check"], ["check-config"]):
        for name, bad in bad_urls.items():
            proc = subprocess.run(
                [*serve_command(), *args],
                env={**cli_env, "DATABASE_URL": bad},
                capture_output=True,
                text=True,
                timeout=60,
                cwd=tmp_path,
            )
            assert proc.returncode != 0 or (args == ["check-config"] and name == "unreachable"), (
                args,
                name,
                proc.stdout,
                proc.stderr,
            )
            outputs.append(proc.stdout + proc.stderr)
    prod = subprocess.run(
        [*serve_command(), "check-config"],
        env={**cli_env, "APP_ENV": "production", "AUTH_SECRET": secret_values.auth_secret[:20]},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert prod.returncode == 2 and "AUTH_SECRET" in prod.stderr, prod.stderr
    outputs.append(prod.stdout + prod.stderr)
    leaks = find_leaks(
        "\n".join(outputs),
        secret_values.values() | {"short AUTH_SECRET": secret_values.auth_secret[:20]},
    )
    LEDGER.add(ITEM, "faults injected", 1 + 3 * len(bad_urls) + 1)
    LEDGER.add(ITEM, "requests", 3)
    LEDGER.add(ITEM, "errors", len(leaks))
    assert not leaks, f"secrets printed on failure: {leaks}\n" + "\n".join(outputs)[-3000:]


# -- Kubernetes objects --------------------------------------------------------------------------
HELM_DIR = REPO_ROOT / "deploy" / "helm"
K8S_OVERLAYS = REPO_ROOT / "deploy" / "k8s" / "overlays"


def _load_policy() -> Any:
    path = REPO_ROOT / "tests" / "deploy" / "policy.py"
    if not path.exists():
        pytest.skip("tests/deploy/policy.py has not landed")
    spec = importlib.util.spec_from_file_location("deploy_policy_for_reliability", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


SECRET_KEY_WORDS = ("SECRET", "PASSWORD", "API_KEY", "APIKEY", "PRIVATE")


def _secret_text(objs: list[dict[str, Any]]) -> str:
    """Decoded contents of the Secret objects."""
    parts = []
    for obj in objs:
        if obj.get("kind") != "Secret":
            continue
        for value in (obj.get("data") or {}).values():
            parts.append(base64.b64decode(value).decode(errors="replace"))
        parts += [str(v) for v in (obj.get("stringData") or {}).values()]
    return "\n".join(parts)


def _non_secret_leaks(objs: list[dict[str, Any]], needles: dict[str, str]) -> list[str]:
    leaks = []
    for obj in objs:
        if obj.get("kind") == "Secret":
            continue
        text = yaml.safe_dump(obj)
        for name in find_leaks(text, needles):
            leaks.append(f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}: {name}")
    return leaks


def test_helm_renders_secrets_only_into_secret_objects(
    secret_values: Secrets, tmp_path: Path
) -> None:
    helm = require_tool("helm")
    if not (HELM_DIR / "todo-chatbot" / "Chart.yaml").exists():
        pytest.skip("the Helm charts have not landed")
    import shutil

    charts = tmp_path / "helm"
    shutil.copytree(HELM_DIR, charts, ignore=shutil.ignore_patterns("*.tgz"))
    home = tmp_path / "home"
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "c"),
        "HELM_CONFIG_HOME": str(home / "f"),
        "HELM_DATA_HOME": str(home / "d"),
    }
    subprocess.run(
        [helm, "dependency", "build", "todo-chatbot"],
        cwd=charts,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    s = secret_values
    db_url = f"postgresql://todo:{s.db_password}@neon.example/todo?sslmode=require"
    backend_sets = {
        "secrets.authSecret": s.auth_secret,
        "secrets.groqApiKey": s.groq_key,
        "secrets.openaiApiKey": s.openai_key,
        "secrets.llmApiKey": s.llm_key,
    }
    renders = {
        "umbrella, in-cluster PostgreSQL": (
            "todo-chatbot",
            {
                **{f"backend.{k}": v for k, v in backend_sets.items()},
                "postgresql.auth.password": s.db_password,
            },
        ),
        "umbrella, external database": (
            "todo-chatbot",
            {
                **{f"backend.{k}": v for k, v in backend_sets.items()},
                "backend.secrets.databaseUrl": db_url,
                "backend.database.urlSecret.name": "",
            },
        ),
        "backend chart": ("todo-backend", {**backend_sets, "secrets.databaseUrl": db_url}),
    }
    needles = secret_values.values()
    problems, objects = [], 0
    for name, (chart, sets) in renders.items():
        args = [a for k, v in sets.items() for a in ("--set-string", f"{k}={v}")]
        if "external" in name:
            args += ["--set", "postgresql.enabled=false"]
        proc = subprocess.run(
            [helm, "template", "rel", ".", "--namespace", "todo", *args],
            cwd=charts / chart,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.returncode != 0:
            problems.append(f"{name}: helm template failed: {proc.stderr[-1500:]}")
            continue
        objs = [o for o in yaml.safe_load_all(proc.stdout) if o]
        objects += len(objs)
        problems += [f"{name}: {leak}" for leak in _non_secret_leaks(objs, needles)]
        in_secrets = _secret_text(objs)
        given = {k: v for k, v in needles.items() if v in " ".join(sets.values())}
        missing = set(given) - set(find_leaks(in_secrets, given))
        if missing:
            problems.append(f"{name}: given secrets missing from the Secrets: {sorted(missing)}")
        for cm in (o for o in objs if o.get("kind") == "ConfigMap"):
            for key in cm.get("data") or {}:
                if any(w in key.upper() for w in SECRET_KEY_WORDS):
                    problems.append(f"{name}: ConfigMap {cm['metadata']['name']} has key {key}")
    LEDGER.set(ITEM, "Helm objects scanned", objects)
    LEDGER.add(ITEM, "errors", len(problems))
    assert not problems, "\n".join(problems)


def test_kustomize_overlays_keep_secrets_out_of_configmaps() -> None:
    kubectl = require_tool("kubectl")
    if not K8S_OVERLAYS.exists():
        pytest.skip("deploy/k8s has not landed")
    policy = _load_policy()
    problems, objects = [], 0
    for overlay in sorted(p for p in K8S_OVERLAYS.iterdir() if (p / "kustomization.yaml").exists()):
        proc = subprocess.run(
            [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        objs = [o for o in yaml.safe_load_all(proc.stdout) if o]
        objects += len(objs)
        problems += [f"{overlay.name}: {v}" for v in policy.secret_violations(objs)]
        for cm in (o for o in objs if o.get("kind") == "ConfigMap"):
            for key, value in (cm.get("data") or {}).items():
                if any(w in key.upper() for w in SECRET_KEY_WORDS):
                    problems.append(f"{overlay.name}: ConfigMap key {key}")
                if "://" in str(value) and "@" in str(value).split("://", 1)[1].split("/", 1)[0]:
                    problems.append(f"{overlay.name}: ConfigMap {key} holds a URL with credentials")
    LEDGER.set(ITEM, "kustomize objects scanned", objects)
    LEDGER.add(ITEM, "errors", len(problems))
    assert not problems, "\n".join(problems)
