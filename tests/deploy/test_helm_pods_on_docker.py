"""The umbrella chart's pods run for real on Docker (tests/deploy/podrun.py: the pod's uid/gid,
read-only root filesystem, dropped capabilities, limits, emptyDirs, env from the rendered
ConfigMaps/Secrets, Service names as network aliases), in the order Helm and the kubelet run
them — then the chart's own `helm test` pods, which must pass.

Two install orders are exercised, as the chart documents them:
- in-cluster PostgreSQL (the default): PostgreSQL, the API pods (their init container waits only
  for the database to answer), the web pods, then the post-install migration Job;
- an existing database (pre-install): the migration Job reads the hook Secret that Helm creates
  before it, and the API's init container holds the pod until the schema is at head.
What Docker cannot show (Helm's own hook scheduling, kube-proxy) is covered by the live suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import policy  # tests/deploy's shared policy module
from podrun import PodContainer, docker  # tests/deploy's pod-on-Docker runner

from testsupport.tools import require, require_tool

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HELM_DIR = REPO / "deploy" / "helm"
AUTH = "CHANGE_ME-podrun-" + "7c" * 12
PG_PASSWORD = "CHANGE_ME"
IMAGES = ("todo-backend:0.1.0", "todo-frontend:0.1.0", "postgres:15-bookworm")
#: How to build an app image that is missing: the project's Dockerfile on a local stand-in base
#: (../shared/ci/base-images.sh), as tests/deploy/test_k8s_pods_on_docker.py does.
BUILD_BASES = {
    "todo-backend": ("PYTHON_IMAGE", os.environ.get("PYTHON_IMAGE", "python:3.11-slim-bookworm")),
    "todo-frontend": ("NODE_IMAGE", os.environ.get("NODE_IMAGE", "node:20-bookworm-slim")),
}


def _present(ref: str) -> bool:
    return docker("image", "inspect", ref, check=False).returncode == 0


def ensure_image(ref: str) -> None:
    if _present(ref):
        return
    repo = policy.image_repo(ref)
    require(repo in BUILD_BASES, f"image {ref} is missing (run ../shared/ci/base-images.sh)")
    arg, base = BUILD_BASES[repo]
    require(_present(base), f"base image {base} is missing (run ../shared/ci/base-images.sh)")
    context = REPO / repo.removeprefix("todo-")
    docker("build", "--build-arg", f"{arg}={base}", "-t", ref, str(context), timeout=1500)


def find(objs: list[policy.Obj], kind: str, name: str) -> policy.Obj:
    hits = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(hits) == 1, f"{kind}/{name}"
    return hits[0]


Render = Callable[..., list[policy.Obj]]
COMPONENT = "app.kubernetes.io/component"


class Pods:
    """Containers of one rendered release on a private Docker network."""

    def __init__(self, objs: list[policy.Obj], share: Pods | None = None) -> None:
        self.objs = objs
        self.owner = share is None
        if share is None:
            self.network = f"helmrun-{uuid.uuid4().hex[:8]}"
            self.volumes = Path(tempfile.mkdtemp(prefix="helmrun-pv-"))
            self.volumes.chmod(0o755)
            docker("network", "create", self.network)
        else:
            self.network, self.volumes = share.network, share.volumes
        self.started: list[PodContainer] = []

    def start(self, kind: str, name: str, container: str) -> PodContainer:
        pc = PodContainer(
            find(self.objs, kind, name), container, self.network, self.volumes, self.objs
        )
        self.started.append(pc)
        return pc.start()

    def run_to_completion(self, kind: str, name: str, container: str, timeout: float) -> str:
        pc = self.start(kind, name, container)
        code = pc.wait_exit(timeout)
        logs = pc.logs()
        assert code == 0, f"{kind}/{name} exited {code}:\n{logs}"
        return logs

    def close(self) -> None:
        for pc in self.started:
            pc.remove()
        if not self.owner:
            return
        docker("network", "rm", self.network, check=False)
        # PostgreSQL's files belong to uid 999: remove them from a container.
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


def wait_for_log(pc: PodContainer, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in pc.logs():
            return
        if not pc.state()["Running"]:
            break
        time.sleep(0.5)
    raise AssertionError(f"{pc.name} never logged {text!r}:\n{pc.logs()}")


@pytest.fixture(scope="module")
def helm_render(tmp_path_factory: pytest.TempPathFactory) -> Render:
    helm = require_tool("helm")
    require_tool("docker")
    require(docker("info", check=False, timeout=60).returncode == 0, "the Docker daemon is down")
    for ref in IMAGES:
        ensure_image(ref)
    root = tmp_path_factory.mktemp("helmrun")
    shutil.copytree(HELM_DIR, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.tgz"))
    subprocess.run(
        [helm, "dependency", "build", "todo-chatbot"],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=120,
    )

    def render(*args: str) -> list[policy.Obj]:
        proc = subprocess.run(
            [helm, "template", "todo", "todo-chatbot", "--namespace", "todo", *args],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return policy.parse_yaml(proc.stdout)

    return render


@pytest.fixture(scope="module")
def database(helm_render: Render) -> Iterator[Pods]:
    """The chart's PostgreSQL pod; each scenario gets a database of its own in it."""
    objs = helm_render("--set-string", f"postgresql.auth.password={PG_PASSWORD}")
    pods = Pods([o for o in objs if o["metadata"]["labels"].get(COMPONENT) == "database"])
    try:
        db = pods.start("StatefulSet", "todo-postgresql", "postgresql")
        db.wait_probe("startup")
        db.wait_probe("readiness")
        yield pods
    finally:
        pods.close()


def create_database(database: Pods, name: str) -> None:
    db = database.started[0]
    docker(
        "exec", db.container_id, "psql", "-U", "todo", "-d", "todo", "-c", f"CREATE DATABASE {name}"
    )


def test_in_cluster_database_install_then_helm_test(helm_render: Render, database: Pods) -> None:
    create_database(database, "todo_post")
    objs = helm_render(
        "-f",
        "todo-chatbot/values-minikube.yaml",
        "--set-string",
        f"backend.secrets.authSecret={AUTH}",
        "--set-string",
        f"postgresql.auth.password={PG_PASSWORD}",
        "--set-string",
        "postgresql.auth.database=todo_post",
    )
    job = find(objs, "Job", "todo-backend-migrate")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,pre-upgrade"
    # This release's PostgreSQL pod is the module's one (same password; database todo_post).
    db = database.started[0]
    pods = Pods(objs, share=database)
    try:
        # 1. normal objects: the database (running), the API after its init container, the web
        init = pods.start("Deployment", "todo-backend", "wait-for-database")
        assert init.wait_exit(120) == 0, init.logs()
        assert "database reachable, migrations pending" in init.logs()
        # (the kubelet starts pods independently: the web app boots while the API does)
        api = pods.start("Deployment", "todo-backend", "api")
        web = pods.start("Deployment", "todo-frontend", "web")
        api.wait_probe("startup")
        api.wait_probe("readiness")  # /ready: the database answers (schema not needed)
        web.wait_probe("startup")
        web.wait_probe("readiness")
        # 2. the post-install hook: migrations
        logs = pods.run_to_completion("Job", "todo-backend-migrate", "migrate", 300)
        assert "database reachable, migrations pending" in logs
        # 3. helm test: the chart's three test pods (Helm starts them one by one; they are
        # independent, so they run side by side here)
        tests = {
            "api": pods.start("Pod", "todo-backend-test-api", "check"),
            "web": pods.start("Pod", "todo-frontend-test-web", "check"),
            "e2e": pods.start("Pod", "todo-test-e2e", "e2e"),
        }
        out = {}
        for key, pc in tests.items():
            code = pc.wait_exit(180)
            out[key] = pc.logs()
            assert code == 0, f"helm test pod {key} exited {code}:\n{out[key]}"
        for line in (
            "ok   GET /health -> 200",
            "ok   GET /ready -> 200",
            "ok   GET /api/tasks -> 401",
            "ok   GET /metrics -> 200",
        ):
            assert line in out["api"], out["api"]
        assert "ok   GET /api/tasks -> 401" in out["web"], out["web"]
        assert "end-to-end check passed" in out["e2e"], out["e2e"]
        assert "ok   POST /api/chat -> 200" in out["e2e"]
        assert "ok   DELETE /api/auth/me -> 204" in out["e2e"]
        # every long-running container is still up and locked down
        for pc in (db, api, web):
            assert pc.state()["Running"], pc.logs()
            caps = docker("exec", pc.container_id, "grep", "CapEff", "/proc/self/status").stdout
            assert caps.split()[1] == "0000000000000000"
            uid = pc.spec["securityContext"]["runAsUser"]
            assert docker("exec", pc.container_id, "id", "-u").stdout.strip() == str(uid)
    finally:
        pods.close()


def test_existing_database_pre_install_order(helm_render: Render, database: Pods) -> None:
    """pre-install: the API's init container waits for the schema; the hook Job, reading the
    hook Secret (not the release's own Secret, which does not exist yet), migrates."""
    create_database(database, "todo_pre")
    url = f"postgresql://todo:{PG_PASSWORD}@todo-postgresql:5432/todo_pre"
    objs = helm_render(
        "-f",
        "todo-chatbot/values-minikube.yaml",
        "--set",
        "postgresql.enabled=false",
        "--set-string",
        "backend.database.urlSecret.name=",
        "--set-string",
        f"backend.secrets.databaseUrl={url}",
        "--set-string",
        f"backend.secrets.authSecret={AUTH}",
        "--set",
        "backend.migrations.hookEvents={pre-install,pre-upgrade}",
        "--set",
        "backend.waitForDatabase.mode=schema",
    )
    assert not [o for o in objs if o["kind"] == "StatefulSet"]
    # the "existing" database: the module's PostgreSQL pod, started beforehand
    pods = Pods(objs, share=database)
    try:
        init = pods.start("Deployment", "todo-backend", "wait-for-database")
        wait_for_log(init, "migrations pending", 120)
        time.sleep(4)  # at least one more check: it keeps waiting instead of giving up
        assert init.state()["Running"], init.logs()
        # Helm's pre-install hook, with only the hook Secret available
        job = find(objs, "Job", "todo-backend-migrate")
        env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "todo-backend-migrate"
        pods.run_to_completion("Job", "todo-backend-migrate", "migrate", 300)
        assert init.wait_exit(60) == 0, init.logs()
        assert "database schema at head" in init.logs()
        # (the API container itself starts as in the other scenario)
    finally:
        pods.close()
