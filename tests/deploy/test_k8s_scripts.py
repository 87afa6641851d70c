"""scripts/minikube.sh and scripts/k8s-secret.sh: syntax, shellcheck, argument handling, and the
Secrets k8s-secret.sh really produces from a .env (rendered offline with kubectl)."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
from pathlib import Path

import deploytools
import policy
import pytest
from deploytools import REPO, find
from deploytools import run_script as run

from testsupport.tools import free_port, require_tool

SCRIPTS = [REPO / "scripts" / "minikube.sh", REPO / "scripts" / "k8s-secret.sh"]
SECRET_SH = REPO / "scripts" / "k8s-secret.sh"
MINIKUBE_SH = REPO / "scripts" / "minikube.sh"
FAKE_GROQ = "gsk_" + "Zq7" * 12  # shaped like a key, not one
STRONG_AUTH = "d1f0c3b2a5948776655443322110ffeeddccbbaa99887766"


def decoded(secret: policy.Obj) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


# ------------------------------------------------------------------------------ static checks
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_bash_syntax(script: Path) -> None:
    proc = run(["bash", "-n", str(script)])
    assert proc.returncode == 0, proc.stderr
    assert os.access(script, os.X_OK), f"{script} is not executable"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck_clean(script: Path) -> None:
    shellcheck = require_tool("shellcheck", str(REPO / "backend" / ".venv" / "bin" / "shellcheck"))
    proc = run([shellcheck, "--severity=style", "--external-sources", str(script)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ------------------------------------------------------------------------------ minikube.sh
def test_minikube_help_lists_the_commands() -> None:
    proc = run([str(MINIKUBE_SH), "--help"])
    assert proc.returncode == 0
    for command in ("up", "down", "status", "redeploy"):
        assert f"  {command} " in proc.stdout
    for knob in ("MINIKUBE_CPUS [4]", "MINIKUBE_MEMORY [8g]", "MINIKUBE_DRIVER [docker]"):
        assert knob in proc.stdout


def test_minikube_unknown_command_is_a_usage_error() -> None:
    proc = run([str(MINIKUBE_SH), "deploy-everything"])
    assert proc.returncode == 2
    assert "unknown command 'deploy-everything'" in proc.stderr
    assert "Usage:" in proc.stderr


@pytest.mark.parametrize("command", ["up", "status", "down", "redeploy"])
def test_minikube_missing_binary_says_what_to_install(command: str, tmp_path: Path) -> None:
    proc = run([str(MINIKUBE_SH), command], env={"MINIKUBE": str(tmp_path / "minikube")})
    assert proc.returncode == 1
    assert "not found: install Minikube (https://minikube.sigs.k8s.io" in proc.stderr


def test_minikube_rejects_an_unknown_overlay(kubectl: str, tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    # Any executable passes the presence check; the overlay is validated before it is used.
    (fake_bin / "minikube").symlink_to("/bin/false")
    proc = run(
        [str(MINIKUBE_SH), "status"],
        env={"MINIKUBE": str(fake_bin / "minikube"), "KUBECTL": kubectl, "OVERLAY": "prod"},
    )
    assert proc.returncode == 1
    assert "OVERLAY must be local or neon, got 'prod'" in proc.stderr


# ------------------------------------------------------------------------------ k8s-secret.sh
@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    path = tmp_path / ".env"
    path.write_text(
        "# local settings\n"
        f'export GROQ_API_KEY="{FAKE_GROQ}"\n'
        f"AUTH_SECRET='{STRONG_AUTH}'   # quoted, with a comment\n"
        "DATABASE_URL=sqlite:///./todo.db\n"
        "LLM_MODEL=llama-3.3-70b-versatile  # inline comment\r\n"
        "LOG_LEVEL=DEBUG\n"
        "   \n"
        "NOT A VARIABLE LINE\n"
    )
    return path


def secret_sh(
    kubectl: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "secrets.yaml"
    proc = run(
        [str(SECRET_SH), *args, "--output", str(out)], env={"KUBECTL": kubectl, **(env or {})}
    )
    return proc, out


def test_local_secrets_from_env_file(kubectl: str, tmp_path: Path, env_file: Path) -> None:
    proc, out = secret_sh(kubectl, tmp_path, "--env-file", str(env_file))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    objs = policy.parse_yaml(out.read_text())
    assert sorted(o["metadata"]["name"] for o in objs) == ["backend-secret", "postgres-secret"]
    policy.validate_schemas(objs)
    policy.check_labels(objs)

    pg = decoded(find(objs, "Secret", "postgres-secret"))
    assert pg["POSTGRES_USER"] == "todo" and pg["POSTGRES_DB"] == "todo"
    assert len(pg["POSTGRES_PASSWORD"]) == 48
    backend = decoded(find(objs, "Secret", "backend-secret"))
    # The local overlay always uses the in-cluster database; .env's SQLite URL is ignored.
    assert (
        backend["DATABASE_URL"] == f"postgresql://todo:{pg['POSTGRES_PASSWORD']}@postgres:5432/todo"
    )
    assert backend["AUTH_SECRET"] == STRONG_AUTH
    assert backend["GROQ_API_KEY"] == FAKE_GROQ
    assert backend["LLM_PROVIDER"] == "groq"  # a Groq key without a provider selects Groq
    assert backend["LLM_MODEL"] == "llama-3.3-70b-versatile"
    assert "LOG_LEVEL" not in backend  # non-secret settings stay in backend-config

    # Nothing secret is echoed.
    for value in (FAKE_GROQ, STRONG_AUTH, pg["POSTGRES_PASSWORD"]):
        assert value not in proc.stdout + proc.stderr
    # ... and the policy recognises these as real values (they must never be committed).
    assert policy.R_SECRET in policy.rules(policy.secret_violations(objs))


def test_generated_secret_and_configmap_start_the_app(
    kubectl: str, tmp_path: Path, rendered: dict[str, list[policy.Obj]]
) -> None:
    """What the pods get (backend-config + the generated backend-secret, envFrom order) passes
    the app's own configuration check in production mode."""
    proc, out = secret_sh(kubectl, tmp_path, env={"ENV_FILE": str(tmp_path / "none.env")})
    assert proc.returncode == 1 and "does not exist" in proc.stderr
    empty = tmp_path / "empty.env"
    empty.write_text("")
    proc, out = secret_sh(kubectl, tmp_path, "--env-file", str(empty))
    assert proc.returncode == 0, proc.stderr
    backend = decoded(find(policy.parse_yaml(out.read_text()), "Secret", "backend-secret"))
    assert len(backend["AUTH_SECRET"]) == 64 and int(backend["AUTH_SECRET"], 16) >= 0
    assert "AUTH_SECRET: generated" in proc.stdout
    config = find(rendered["local"], "ConfigMap", "backend-config")["data"]
    check = run(
        [str(REPO / "backend" / ".venv" / "bin" / "todo-api"), "check-config"],
        env={**config, **backend},
    )
    assert check.returncode == 0, check.stderr
    assert "env=production, llm=local" in check.stdout


def test_auth_secret_is_random_each_time(kubectl: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    secrets = set()
    for _ in range(2):
        proc, out = secret_sh(kubectl, tmp_path, "--env-file", str(empty))
        assert proc.returncode == 0, proc.stderr
        secrets.add(
            decoded(find(policy.parse_yaml(out.read_text()), "Secret", "backend-secret"))[
                "AUTH_SECRET"
            ]
        )
    assert len(secrets) == 2


def test_short_auth_secret_is_refused(kubectl: str, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("AUTH_SECRET=tooshort\n")
    proc, out = secret_sh(kubectl, tmp_path, "--env-file", str(env))
    assert proc.returncode == 1
    assert "AUTH_SECRET" in proc.stderr and ">= 32" in proc.stderr
    assert "tooshort" not in proc.stderr + proc.stdout
    assert not out.exists()


def test_environment_wins_over_the_env_file(kubectl: str, tmp_path: Path, env_file: Path) -> None:
    proc, out = secret_sh(
        kubectl, tmp_path, "--env-file", str(env_file), env={"LLM_PROVIDER": "openai-compatible"}
    )
    assert proc.returncode == 0, proc.stderr
    backend = decoded(find(policy.parse_yaml(out.read_text()), "Secret", "backend-secret"))
    assert backend["LLM_PROVIDER"] == "openai-compatible"


def test_neon_overlay_uses_the_env_database_url(kubectl: str, tmp_path: Path) -> None:
    url = "postgresql://neon_user:npg_abc123@ep-cool-name-123456.eu-central-1.aws.neon.tech/tododb?sslmode=require"
    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL={url}\nAUTH_SECRET={STRONG_AUTH}\n")
    proc, out = secret_sh(kubectl, tmp_path, "--env-file", str(env), "--overlay", "neon")
    assert proc.returncode == 0, proc.stderr
    objs = policy.parse_yaml(out.read_text())
    assert [o["metadata"]["name"] for o in objs] == ["backend-secret"]  # no in-cluster database
    assert decoded(objs[0])["DATABASE_URL"] == url
    assert "ep-cool-name-123456.eu-central-1.aws.neon.tech" in proc.stdout
    assert "npg_abc123" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the neon overlay needs DATABASE_URL="),
        ("DATABASE_URL=sqlite:///./todo.db\n", "needs a PostgreSQL DATABASE_URL"),
    ],
)
def test_neon_overlay_needs_a_postgres_url(
    kubectl: str, tmp_path: Path, content: str, message: str
) -> None:
    env = tmp_path / ".env"
    env.write_text(content)
    proc, _ = secret_sh(kubectl, tmp_path, "--env-file", str(env), "--overlay", "neon")
    assert proc.returncode == 1
    assert message in proc.stderr


def test_apply_without_a_cluster_fails_clearly(
    kubectl: str, tmp_path: Path, env_file: Path
) -> None:
    """Without --output the script applies; an unreachable API server is a one-line error that
    names what to check and leaks no value."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"
        f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{free_port()}'}}}}]\n"
        "contexts: [{name: nowhere, context: {cluster: c, user: u}}]\n"
        "users: [{name: u, user: {}}]\n"
    )
    proc = run(
        [str(SECRET_SH), "--env-file", str(env_file)],
        env={"KUBECTL": kubectl, "KUBECONFIG": str(kubeconfig)},
    )
    assert proc.returncode == 1
    assert "kubectl apply failed" in proc.stderr and "check:" in proc.stderr
    assert FAKE_GROQ not in proc.stdout + proc.stderr and STRONG_AUTH not in proc.stderr


def test_example_secret_keys_match_what_the_script_creates(
    kubectl: str, tmp_path: Path, env_file: Path
) -> None:
    proc, out = secret_sh(kubectl, tmp_path, "--env-file", str(env_file))
    assert proc.returncode == 0, proc.stderr
    made = {o["metadata"]["name"]: set(o["data"]) for o in policy.parse_yaml(out.read_text())}
    for path in sorted(deploytools.K8S_DIR.rglob("*secret.example.yaml")):
        (example,) = policy.parse_yaml(path.read_text())
        assert set(example["stringData"]) <= made[example["metadata"]["name"]], path.name
