"""Docker helpers for the container suite and scripts/image-report.py: build, run, wait, inspect.

Real `docker build` of the project's Dockerfiles; base images are the local stand-ins built by
../shared/ci/base-images.sh (or the official images where they can be pulled), chosen by env:
PYTHON_IMAGE, NODE_IMAGE, POSTGRES_IMAGE.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testsupport.tools import free_port

ROOT = Path(__file__).resolve().parents[2]

# Stand-in tags built here by base-images.sh (Debian bookworm). The Dockerfiles' defaults are the
# official images (python:3.13-slim-bookworm, node:20-alpine); CI passes these instead.
STANDIN_PYTHON = "python:3.11-slim-bookworm"
STANDIN_NODE = "node:20-bookworm-slim"
STANDIN_POSTGRES = "postgres:15-bookworm"


def python_base() -> str:
    return os.environ.get("PYTHON_IMAGE", STANDIN_PYTHON)


def node_base() -> str:
    return os.environ.get("NODE_IMAGE", STANDIN_NODE)


def postgres_image() -> str:
    return os.environ.get("POSTGRES_IMAGE", STANDIN_POSTGRES)


@dataclass(frozen=True)
class ImageSpec:
    name: str  # backend | frontend
    tag: str
    context: Path
    base_arg: str  # the Dockerfile's base-image build arg
    base: str
    port: int  # container port
    user: str  # expected user name for uid 1001
    app_dir: str
    run_env: dict[str, str] = field(default_factory=dict)


def backend_spec(tag: str | None = None) -> ImageSpec:
    return ImageSpec(
        name="backend",
        tag=tag or os.environ.get("BACKEND_IMAGE", "todo-backend:0.1.0"),
        context=ROOT / "backend",
        base_arg="PYTHON_IMAGE",
        base=python_base(),
        port=8001,
        user="appuser",
        app_dir="/app",
        # a throwaway SQLite file in the container's /tmp (/health does not touch it); production
        # mode (the image's default) also needs a real AUTH_SECRET, which start() passes
        run_env={"DATABASE_URL": "sqlite:////tmp/todo.db"},
    )


def frontend_spec(tag: str | None = None) -> ImageSpec:
    return ImageSpec(
        name="frontend",
        tag=tag or os.environ.get("FRONTEND_IMAGE", "todo-frontend:0.1.0"),
        context=ROOT / "frontend",
        base_arg="NODE_IMAGE",
        base=node_base(),
        port=3000,
        user="nextjs",
        app_dir="/app",
        run_env={"BACKEND_URL": "http://127.0.0.1:9"},
    )


def docker_bin() -> str | None:
    return shutil.which("docker")


def compose_cmd() -> list[str] | None:
    """`docker-compose` (1.29, Debian) or the `docker compose` v2 plugin, whichever exists."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    docker = docker_bin()
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    return None


def daemon_ok() -> bool:
    docker = docker_bin()
    if not docker:
        return False
    return subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode == 0


def run(
    args: list[str], *, check: bool = True, timeout: float = 600, **kw: Any
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"command failed ({proc.returncode}): {' '.join(args)}\n"
            f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
    return proc


def docker(
    *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return run(["docker", *args], check=check, timeout=timeout)


def image_exists(ref: str) -> bool:
    return docker("image", "inspect", ref, check=False).returncode == 0


def git_revision() -> str:
    proc = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    return proc.stdout.strip() if proc.returncode == 0 else "unknown"


def git_source() -> str:
    proc = subprocess.run(
        ["git", "-C", str(ROOT), "remote", "get-url", "origin"], capture_output=True, text=True
    )
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else "unknown"


@dataclass
class BuildResult:
    tag: str
    seconds: float
    context_bytes: int | None  # as reported by the legacy builder ("Sending build context")
    output: str


_CONTEXT_RE = re.compile(r"Sending build context to Docker daemon\s+([\d.]+)\s*([kMG]?B)")
_UNITS = {"B": 1, "kB": 1000, "MB": 1000**2, "GB": 1000**3}


def parse_context_bytes(output: str) -> int | None:
    matches = _CONTEXT_RE.findall(output)
    if not matches:
        return None
    value, unit = matches[-1]
    return int(float(value) * _UNITS[unit])


def build(
    spec: ImageSpec,
    *,
    context: Path | None = None,
    no_cache: bool = False,
    version: str = "0.1.0",
    revision: str | None = None,
    timeout: float = 900,
) -> BuildResult:
    """`docker build` of the real Dockerfile (legacy builder here; BuildKit where available)."""
    ctx = context or spec.context
    args = [
        "build",
        "--build-arg",
        f"{spec.base_arg}={spec.base}",
        "--build-arg",
        f"VERSION={version}",
        "--build-arg",
        f"REVISION={revision or git_revision()}",
        "--build-arg",
        f"SOURCE={git_source()}",
        "-t",
        spec.tag,
        "-f",
        str(ctx / "Dockerfile"),
    ]
    if no_cache:
        args.append("--no-cache")
    started = time.monotonic()
    proc = docker(*args, str(ctx), timeout=timeout)
    seconds = time.monotonic() - started
    out = proc.stdout + proc.stderr
    return BuildResult(spec.tag, seconds, parse_context_bytes(out), out)


def inspect(ref: str, kind: str = "image") -> dict[str, Any]:
    data: list[dict[str, Any]] = json.loads(docker(kind, "inspect", ref).stdout)
    return data[0]


def image_size(ref: str) -> int:
    return int(inspect(ref)["Size"])


def http_get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - 127.0.0.1 only
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def wait_healthy(container: str, timeout: float = 60) -> float:
    """Seconds from now until Docker reports the container healthy (HEALTHCHECK); fails on exit."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        state = inspect(container, "container")["State"]
        health = (state.get("Health") or {}).get("Status")
        if health == "healthy":
            return time.monotonic() - started
        if not state.get("Running"):
            logs = docker("logs", container, check=False)
            raise AssertionError(
                f"{container} exited ({state.get('ExitCode')}) before becoming healthy:\n"
                f"{logs.stdout[-2000:]}{logs.stderr[-2000:]}"
            )
        time.sleep(0.25)
    logs = docker("logs", container, check=False)
    raise AssertionError(
        f"{container} not healthy after {timeout}s:\n{logs.stdout[-2000:]}{logs.stderr[-2000:]}"
    )


def started_at_to_healthy(container: str) -> float | None:
    """Seconds between the container's start and its first passing health check (Docker's clock)."""
    state = inspect(container, "container")["State"]
    log = (state.get("Health") or {}).get("Log") or []
    passing = [entry for entry in log if entry.get("ExitCode") == 0]
    if not passing:
        return None
    return _ts(passing[0]["End"]) - _ts(state["StartedAt"])


def _ts(value: str) -> float:
    """Docker's RFC 3339 timestamps with nanoseconds -> epoch seconds."""
    from datetime import datetime

    main, _, frac = value.rstrip("Z").partition(".")
    frac = (frac.split("+")[0].split("-")[0] + "000000")[:6]
    return datetime.fromisoformat(f"{main}.{frac}+00:00").timestamp()


def remove_container(name: str) -> None:
    docker("rm", "-f", "-v", name, check=False, timeout=60)


ARTIFACTS = ROOT / "artifacts" / "containers"
# A value that must never appear in an image: planted in the build context as if a developer had
# left a .env, a key and a database next to the sources. .dockerignore has to keep them all out.
CANARY = f"canary-secret-{uuid.uuid4().hex}"
PLANTED = {
    ".env": f"AUTH_SECRET={CANARY}\nGROQ_API_KEY={CANARY}\n",
    ".env.local": f"OPENAI_API_KEY={CANARY}\n",
    "deploy-key.pem": f"-----BEGIN PRIVATE KEY-----\n{CANARY}\n-----END PRIVATE KEY-----\n",
    "todo.db": f"SQLite format 3\x00{CANARY}",
}
# the same inside the source tree
PLANTED_NESTED = {"backend": "src/todo_api/.env", "frontend": "app/.env"}


class Running:
    def __init__(self, spec: ImageSpec, name: str, host_port: int) -> None:
        self.spec, self.name, self.host_port = spec, name, host_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.host_port}"


def start(spec: ImageSpec, secret: str, *extra: str) -> Running:
    name = f"todo-test-{spec.name}-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env: list[str] = []
    for key, value in spec.run_env.items():
        env += ["-e", f"{key}={value}"]
    if spec.name == "backend":
        env += ["-e", f"AUTH_SECRET={secret}"]
    docker(
        "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:{spec.port}", *env, *extra, spec.tag
    )
    return Running(spec, name, port)
