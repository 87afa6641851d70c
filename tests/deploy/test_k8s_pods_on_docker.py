"""The local overlay's pods, run for real on Docker with their securityContext, limits, volumes,
env, commands and probes (tests/deploy/podrun.py): the closest thing to a cluster this machine
has. Proves the manifests and the images agree — read-only root filesystem, uid 1001, no
capabilities, the migration Job / init-container hand-off, probe paths, Service names — before
anyone runs `scripts/minikube.sh up`."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import deploytools
import policy
import pytest
from deploytools import REPO, find
from podrun import PodContainer, docker

from testsupport.tools import require, require_tool

pytestmark = pytest.mark.slow
AUTH_SECRET = "podrun-" + "5e" * 20
# Stand-in base images (../shared/ci/base-images.sh) used when an app image must be built here.
BUILD_BASES = {
    "todo-backend": ("PYTHON_IMAGE", os.environ.get("PYTHON_IMAGE", "python:3.11-slim-bookworm")),
    "todo-frontend": ("NODE_IMAGE", os.environ.get("NODE_IMAGE", "node:20-bookworm-slim")),
}


def _image_present(ref: str) -> bool:
    return docker("image", "inspect", ref, check=False).returncode == 0


@pytest.fixture(scope="module")
def objs(kubectl: str, tmp_path_factory: pytest.TempPathFactory) -> list[policy.Obj]:
    """The local overlay plus the Secrets scripts/k8s-secret.sh makes from a .env."""
    work = tmp_path_factory.mktemp("podrun-secrets")
    (work / ".env").write_text(f"AUTH_SECRET={AUTH_SECRET}\nLLM_PROVIDER=local\n")
    out = work / "secrets.yaml"
    proc = subprocess.run(
        [
            str(REPO / "scripts" / "k8s-secret.sh"),
            "--env-file",
            str(work / ".env"),
            "--output",
            str(out),
        ],
        env={**os.environ, "KUBECTL": kubectl},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return deploytools.render_kustomize(
        kubectl, deploytools.KUSTOMIZATIONS["local"]
    ) + policy.parse_yaml(out.read_text())


@pytest.fixture(scope="module")
def images(objs: list[policy.Obj]) -> None:
    require_tool("docker")
    require(
        docker("info", check=False, timeout=60).returncode == 0, "the Docker daemon is not running"
    )
    refs = {
        c["image"] for _, tpl in policy.workloads(objs) for _, c in policy.containers(tpl["spec"])
    }
    for ref in sorted(refs):
        if _image_present(ref):
            continue
        repo = policy.image_repo(ref)
        if repo not in BUILD_BASES:
            require(False, f"image {ref} is missing (run ../shared/ci/base-images.sh)")
        arg, base = BUILD_BASES[repo]
        require(
            _image_present(base), f"base image {base} is missing (run ../shared/ci/base-images.sh)"
        )
        context = REPO / repo.removeprefix("todo-")
        docker("build", "--build-arg", f"{arg}={base}", "-t", ref, str(context), timeout=1500)


class Pods:
    def __init__(self, objs: list[policy.Obj]) -> None:
        self.objs = objs
        self.network = f"podrun-{uuid.uuid4().hex[:8]}"
        self.volumes = Path(tempfile.mkdtemp(prefix="podrun-pv-"))
        self.volumes.chmod(0o755)
        self.started: list[PodContainer] = []
        self.timings: dict[str, float] = {}

    def make(self, kind: str, name: str, container: str) -> PodContainer:
        pc = PodContainer(
            find(self.objs, kind, name), container, self.network, self.volumes, self.objs
        )
        self.started.append(pc)
        return pc

    def close(self) -> None:
        for pc in self.started:
            pc.remove()
        docker("network", "rm", self.network, check=False)
        # The database files belong to uid 999; remove them from a container when not root.
        docker(
            "run",
            "--rm",
            "--user",
            "0",
            "--network",
            "none",
            "-v",
            f"{self.volumes}:/v",
            "--entrypoint",
            "sh",
            "postgres:15-bookworm",
            "-c",
            "rm -rf /v/*",
            check=False,
        )
        shutil.rmtree(self.volumes, ignore_errors=True)


@pytest.fixture(scope="module")
def pods(objs: list[policy.Obj], images: None) -> Iterator[Pods]:
    p = Pods(objs)
    docker("network", "create", p.network)
    try:
        db = p.make("StatefulSet", "postgres", "postgres").start()
        p.timings["postgres startup"] = db.wait_probe("startup")
        db.wait_probe("readiness")

        # Backend init container first: with the schema not migrated it must keep waiting.
        init = p.make("Deployment", "backend", "wait-for-migrations").start()
        for _ in range(120):  # bounded: its first `migrate --check` answers within seconds
            if "migrations pending" in init.logs() or not init.state()["Running"]:
                break
            time.sleep(0.5)
        assert "migrations pending" in init.logs(), init.logs()
        time.sleep(2.5)  # one more check cycle: still waiting, not exited
        assert init.state()["Running"], f"init container stopped waiting:\n{init.logs()}"

        job = p.make("Job", "backend-migrate", "migrate").start()
        deadline = find(objs, "Job", "backend-migrate")["spec"]["activeDeadlineSeconds"]
        assert job.wait_exit(deadline) == 0, job.logs()
        assert init.wait_exit(30) == 0, init.logs()

        backend = p.make("Deployment", "backend", "backend").start()
        p.timings["backend startup"] = backend.wait_probe("startup")
        backend.wait_probe("readiness")
        backend.wait_probe("liveness")
        frontend = p.make("Deployment", "frontend", "frontend").start()
        p.timings["frontend startup"] = frontend.wait_probe("startup")
        frontend.wait_probe("readiness")
        frontend.wait_probe("liveness")
        yield p
    finally:
        p.close()


def by_name(p: Pods, container: str) -> PodContainer:
    return next(pc for pc in p.started if pc.name == container)


def http(method: str, url: str, body: Any = None, cookie: str = "") -> tuple[int, Any, str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
    req.add_header("content-type", "application/json")
    if cookie:
        req.add_header("cookie", cookie)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - loopback
            raw, status, cookies = r.read(), r.status, r.headers.get_all("set-cookie") or []
    except urllib.error.HTTPError as exc:
        raw, status, cookies = exc.read(), exc.code, []
    session = next((c.split(";", 1)[0] for c in cookies if c.startswith("todo_session=")), "")
    return status, json.loads(raw) if raw else None, session


def test_every_container_runs_locked_down(pods: Pods) -> None:
    for pc in pods.started:
        if not pc.state()["Running"]:
            continue
        uid = pc.spec["securityContext"]["runAsUser"]
        assert docker("exec", pc.container_id, "id", "-u").stdout.strip() == str(uid)
        groups = docker("exec", pc.container_id, "id", "-G").stdout.split()
        assert str(pc.spec["securityContext"]["fsGroup"]) in groups
        caps = docker("exec", pc.container_id, "grep", "CapEff", "/proc/self/status").stdout
        assert caps.split()[1] == "0000000000000000", f"{pc.name} keeps capabilities: {caps}"
        nnp = docker("exec", pc.container_id, "grep", "NoNewPrivs", "/proc/self/status").stdout
        assert nnp.split()[1] == "1"
        denied = docker("exec", pc.container_id, "touch", "/usr/podrun-write-test", check=False)
        assert denied.returncode != 0 and "Read-only file system" in denied.stderr
        assert (
            docker(
                "exec", pc.container_id, "touch", "/tmp/podrun-write-test", check=False
            ).returncode
            == 0
        )


def test_probe_paths_answer_as_the_manifests_expect(pods: Pods) -> None:
    backend, frontend = by_name(pods, "backend"), by_name(pods, "frontend")
    for pc in (backend, frontend):
        for kind in ("startup", "liveness", "readiness"):
            ok, detail = pc.probe_once(pc.container[f"{kind}Probe"])
            assert ok, f"{pc.name} {kind}: {detail}"
    status, body, _ = http("GET", f"http://127.0.0.1:{backend.ports[8001]}/ready")
    assert (status, body) == (200, {"status": "ready", "database": "connected"})


@pytest.fixture(scope="module")
def user(pods: Pods) -> tuple[str, str]:
    """(frontend base URL, session cookie) of a user who signed up through the frontend pod."""
    base = f"http://127.0.0.1:{by_name(pods, 'frontend').ports[3000]}"
    email = f"podrun-{uuid.uuid4().hex[:8]}@example.com"
    status, body, cookie = http(
        "POST", f"{base}/api/auth/signup", {"email": email, "password": "pods on docker 1"}
    )
    assert status == 201, body
    assert cookie.startswith("todo_session=")
    status, task, _ = http("POST", f"{base}/api/tasks", {"title": "ship the manifests"}, cookie)
    assert status == 201, task
    return base, cookie


def test_user_journey_through_the_frontend_pod(user: tuple[str, str]) -> None:
    """Browser -> frontend pod -> backend-service -> postgres, with the manifests' wiring."""
    base, cookie = user
    status, chat, _ = http("POST", f"{base}/api/chat", {"message": "add buy milk"}, cookie)
    assert status == 200, chat
    assert any(a["tool"] == "add_task" and a["ok"] for a in chat["actions"]), chat
    status, listing, _ = http("GET", f"{base}/api/tasks", cookie=cookie)
    assert status == 200
    assert {t["title"] for t in listing["items"]} == {"ship the manifests", "buy milk"}


def test_database_restart_keeps_data_and_only_readiness_fails(
    pods: Pods, user: tuple[str, str]
) -> None:
    db, backend = by_name(pods, "postgres"), by_name(pods, "backend")
    base, cookie = user
    exit_code, _ = db.stop()
    assert exit_code == 0, db.logs()  # SIGINT: fast shutdown, clean checkpoint
    # Database down: readiness fails (pod leaves the Service), liveness holds (no restart storm).
    ok, detail = backend.probe_once(backend.container["readinessProbe"])
    assert not ok and detail == "503"
    assert backend.probe_once(backend.container["livenessProbe"])[0]
    docker("start", db.container_id)
    db.wait_probe("startup")
    backend.wait_probe("readiness", budget=60)
    status, listing, _ = http("GET", f"{base}/api/tasks", cookie=cookie)
    assert status == 200
    assert "ship the manifests" in {t["title"] for t in listing["items"]}


def test_pods_stop_gracefully_within_their_grace_period(pods: Pods) -> None:
    for name in ("frontend", "backend", "postgres"):
        pc = by_name(pods, name)
        grace = pc.spec["terminationGracePeriodSeconds"]
        exit_code, seconds = pc.stop()
        assert exit_code != 137, f"{name} was SIGKILLed after {grace}s:\n{pc.logs()}"
        assert seconds < grace, f"{name} took {seconds:.1f}s to stop"
        assert exit_code in (0, 143), f"{name} exited {exit_code}:\n{pc.logs()}"


def test_secret_values_reach_the_pods_only_through_secrets(objs: list[policy.Obj]) -> None:
    """The generated Secret is where AUTH_SECRET lives; no rendered ConfigMap carries it."""
    secret = find(objs, "Secret", "backend-secret")
    assert base64.b64decode(secret["data"]["AUTH_SECRET"]).decode() == AUTH_SECRET
    for cm in (o for o in objs if o.get("kind") == "ConfigMap"):
        assert AUTH_SECRET not in json.dumps(cm)
