"""scripts/helm-deploy.sh: syntax, shellcheck, usage errors, and — with the real helm binary, no
cluster — the exact manifests `install` would apply (`render`), including how settings and
secrets travel from a .env file into the chart without ever being printed."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import policy  # tests/deploy's shared policy module
from deploytools import run_script

from testsupport.tools import require_tool

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "helm-deploy.sh"
GROQ = "gsk_CHANGE_ME_" + "x" * 8  # shaped like a setting, not a real key
AUTH = 'CHANGE_ME-auth-"quoted"-\\slash-0123456789abcdef'


def run(
    args: list[str], env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return run_script(args, env, timeout)  # helm renders need the longer default


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """The script and the charts copied into a temp repo root: `render` builds the umbrella's
    charts/ folder, which must not happen in the working tree during tests."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy2(SCRIPT, root / "scripts" / "helm-deploy.sh")
    shutil.copytree(SCRIPT.parent / "lib", root / "scripts" / "lib")  # the sourced step helpers
    shutil.copytree(
        REPO / "deploy" / "helm", root / "deploy" / "helm", ignore=shutil.ignore_patterns("*.tgz")
    )
    return root


def render(sandbox: Path, env: dict[str, str], *extra: str) -> tuple[list[policy.Obj], str]:
    helm = require_tool("helm")
    out = sandbox / "out.yaml"
    proc = run(
        [str(sandbox / "scripts" / "helm-deploy.sh"), "render", str(out), *extra],
        env={"HELM": helm, **env},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600, "the rendered Secrets must be private"
    return policy.parse_yaml(out.read_text()), proc.stdout + proc.stderr


def find(objs: list[policy.Obj], kind: str, name: str) -> policy.Obj:
    hits = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(hits) == 1, f"{kind}/{name}"
    return hits[0]


def data(secret: policy.Obj) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}


# ------------------------------------------------------------------------------ static checks
def test_bash_syntax_and_executable() -> None:
    proc = run(["bash", "-n", str(SCRIPT)])
    assert proc.returncode == 0, proc.stderr
    assert os.access(SCRIPT, os.X_OK)


def test_shellcheck_clean() -> None:
    shellcheck = require_tool("shellcheck", str(REPO / "backend" / ".venv" / "bin" / "shellcheck"))
    proc = run([shellcheck, "--severity=style", "--external-sources", str(SCRIPT)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_help_lists_every_command() -> None:
    proc = run([str(SCRIPT), "help"])
    assert proc.returncode == 0
    for command in ("install", "upgrade", "rollback", "uninstall", "test", "status", "render"):
        assert f"  {command}" in proc.stdout, command
    assert "--wait" in proc.stdout


def test_unknown_command_is_a_usage_error() -> None:
    proc = run([str(SCRIPT), "deploy"])
    assert proc.returncode == 2
    assert "unknown command 'deploy'" in proc.stderr and "Usage:" in proc.stderr


@pytest.mark.parametrize("command", ["install", "upgrade", "uninstall", "test", "status"])
def test_missing_helm_says_what_to_install(command: str) -> None:
    proc = run([str(SCRIPT), command], env={"HELM": "/nonexistent/helm"})
    assert proc.returncode == 1
    assert "/nonexistent/helm not found: install Helm" in proc.stderr


def test_render_refuses_stdout() -> None:
    proc = run([str(SCRIPT), "render"])
    assert proc.returncode == 1 and "no stdout" in proc.stderr


# ------------------------------------------------------------------------------ render
def test_render_without_env_file_uses_the_chart_defaults(sandbox: Path) -> None:
    objs, log = render(sandbox, {"ENV_FILE": str(sandbox / "missing.env")})
    assert "passed to the chart: nothing" in log
    web = find(objs, "Service", "todo-frontend")["spec"]
    assert web["type"] == "NodePort" and web["ports"][0]["nodePort"] == 30000
    assert find(objs, "ConfigMap", "todo-backend")["data"]["LLM_PROVIDER"] == "local"
    secret = data(find(objs, "Secret", "todo-backend"))
    assert set(secret) == {"AUTH_SECRET"} and len(secret["AUTH_SECRET"]) == 48  # generated
    assert (sandbox / "deploy/helm/todo-chatbot/charts/todo-backend-0.1.0.tgz").is_file()
    policy.validate_schemas(objs)


def test_render_passes_env_settings_and_secrets_without_printing_them(sandbox: Path) -> None:
    env_file = sandbox / ".env"
    env_file.write_text(
        f'GROQ_API_KEY="{GROQ}"\nexport LLM_MODEL=llama-3.3-70b-versatile\n'
        "# a comment\nDATABASE_URL=sqlite:///ignored.db\n"
    )
    objs, log = render(sandbox, {"AUTH_SECRET": AUTH})  # the environment wins over .env
    assert GROQ not in log and AUTH not in log
    assert "GROQ_API_KEY AUTH_SECRET LLM_PROVIDER=groq LLM_MODEL" in log
    secret = data(find(objs, "Secret", "todo-backend"))
    assert secret["GROQ_API_KEY"] == GROQ
    assert secret["AUTH_SECRET"] == AUTH  # quotes and backslashes survive the YAML file
    config = find(objs, "ConfigMap", "todo-backend")["data"]
    assert config["LLM_PROVIDER"] == "groq"  # a Groq key without LLM_PROVIDER selects groq
    assert config["LLM_MODEL"] == "llama-3.3-70b-versatile"
    # the in-cluster database's URL still wins over .env's DATABASE_URL
    api = next(
        c
        for c in policy.pod_template(find(objs, "Deployment", "todo-backend"))["spec"]["containers"]  # type: ignore[index]
        if c["name"] == "api"
    )
    db = next(e for e in api["env"] if e["name"] == "DATABASE_URL")
    assert db["valueFrom"]["secretKeyRef"]["name"] == "todo-postgresql"
    policy.check_workloads(objs)
    policy.check_labels(objs)


def test_render_passes_extra_helm_arguments(sandbox: Path) -> None:
    objs, _ = render(
        sandbox,
        {"ENV_FILE": str(sandbox / "missing.env")},
        "--",
        "--set",
        "backend.replicaCount=3",
    )
    assert find(objs, "Deployment", "todo-backend")["spec"]["replicas"] == 3


def test_short_auth_secret_is_refused_before_helm_runs(sandbox: Path) -> None:
    helm = require_tool("helm")
    proc = run(
        [str(sandbox / "scripts" / "helm-deploy.sh"), "render", str(sandbox / "out.yaml")],
        env={"HELM": helm, "AUTH_SECRET": "too-short", "ENV_FILE": str(sandbox / "none")},
    )
    assert proc.returncode == 1
    assert "AUTH_SECRET" in proc.stderr and ">= 32" in proc.stderr
    assert "too-short" not in proc.stdout + proc.stderr
    assert not (sandbox / "out.yaml").exists()
