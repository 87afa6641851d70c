"""Helm variant of the live suite: install the umbrella chart into its own namespace, `helm
test`, upgrade with `--set` changes, roll back, uninstall — and nothing is left behind.

Runs where kubectl reaches a cluster whose container runtime has the images of the current
sources, todo-backend:0.1.0-<digest> and todo-frontend:0.1.0-<digest> (`scripts/helm-deploy.sh
install` or `scripts/minikube.sh up` builds and loads them; scripts/lib/images.sh names them).
Skips with the reason elsewhere (CI has no cluster); K8S_E2E=1 turns a skip into a failure.
Independent of the plain-manifest deployment: its own release and namespace, and a NodePort
assigned by Kubernetes (30000 may belong to the manifests).

  HELM_E2E_RELEASE [todo-e2e]  HELM_E2E_NAMESPACE [todo-helm-e2e]  K8S_CONTEXT [minikube if present]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from k8s_live import Kube, connect, source_image_tags, wait_for

from testsupport.tools import free_port, require_tool

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "todo-chatbot"
RELEASE = os.environ.get("HELM_E2E_RELEASE", "todo-e2e")
NAMESPACE = os.environ.get("HELM_E2E_NAMESPACE", "todo-helm-e2e")
REQUIRED = os.environ.get("K8S_E2E", "") == "1"
TIMEOUT_S = 600
TAGS = source_image_tags()
IMAGES = (f"todo-backend:{TAGS['backend']}", f"todo-frontend:{TAGS['frontend']}")
#: Every namespaced kind the chart can create (plus what the objects spawn).
KINDS = (
    "deployments,statefulsets,replicasets,pods,services,endpoints,configmaps,secrets,"
    "persistentvolumeclaims,jobs,poddisruptionbudgets,horizontalpodautoscalers,"
    "networkpolicies,serviceaccounts,ingresses"
)


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"K8S_E2E=1 but {reason}", pytrace=False)
    pytest.skip(
        f"{reason}: the Helm live suite needs a Kubernetes cluster with the app's images "
        "(scripts/helm-deploy.sh install); CI has no cluster, so it is skipped there by design"
    )


class Helm:
    def __init__(self, helm: str, kube: Kube) -> None:
        self.helm, self.kube = helm, kube

    def run(self, *args: str, check: bool = True, timeout: float = TIMEOUT_S + 60) -> str:
        ctx = ["--kube-context", self.kube.context] if self.kube.context else []
        cmd = [self.helm, *ctx, "-n", NAMESPACE, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
                f"\n--- pods ---\n{self.kube.run('get', 'pods,jobs', '-o', 'wide', check=False)}"
            )
        return proc.stdout + proc.stderr

    def revision(self) -> int:
        status = json.loads(self.run("status", RELEASE, "-o", "json"))
        assert status["info"]["status"] == "deployed", status["info"]
        return int(status["version"])


@pytest.fixture(scope="module")
def kube() -> Kube:
    found, why = connect(NAMESPACE)
    if found is None:
        _unavailable(why)
    assert found
    context = found.context
    minikube = shutil.which("minikube")
    if minikube and context and not os.environ.get("KIND_CLUSTER"):
        listed = subprocess.run(
            [minikube, "-p", context, "image", "ls"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
        missing = [i for i in IMAGES if i not in listed]
        if missing:
            _unavailable(f"images {missing} are not in Minikube (scripts/helm-deploy.sh install)")
    return found


@pytest.fixture(scope="module")
def helm(kube: Kube) -> Iterator[Helm]:
    h = Helm(require_tool("helm"), kube)
    h.run("uninstall", RELEASE, "--wait", check=False)  # a leftover of an interrupted run
    h.run("dependency", "build", str(CHART))
    yield h
    # however the tests ended: no release, no namespace
    h.run("uninstall", RELEASE, "--wait", check=False)
    subprocess.run(
        [
            kube.kubectl,
            *(["--context", kube.context] if kube.context else []),
            "delete",
            "namespace",
            NAMESPACE,
            "--ignore-not-found",
            "--wait=false",
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )


@contextmanager
def frontend(kube: Kube) -> Iterator[str]:
    """`kubectl port-forward` to the frontend Service (works with every Minikube driver)."""
    port = free_port()
    proc = subprocess.Popen(
        kube.cmd(
            "port-forward", f"svc/{RELEASE}-frontend", f"{port}:3000", "--address", "127.0.0.1"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            if proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                raise AssertionError(f"kubectl port-forward exited: {out}")
            try:
                return httpx.get(f"{base}/health", timeout=3).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 60, "kubectl port-forward to the frontend", interval=1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def ready(kube: Kube, kind: str, name: str) -> int:
    obj: dict[str, Any] = kube.json(kind, name)
    return int(obj.get("status", {}).get("readyReplicas") or 0)


def backend_pods(kube: Kube) -> set[str]:
    items = kube.json(
        "pods", "-l", f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=api"
    )["items"]
    return {p["metadata"]["name"] for p in items if not p["metadata"].get("deletionTimestamp")}


STATE: dict[str, Any] = {}


def test_install(helm: Helm, kube: Kube) -> None:
    helm.run(
        "install",
        RELEASE,
        str(CHART),
        "--create-namespace",
        "-f",
        str(CHART / "values-minikube.yaml"),
        "--set",
        "frontend.service.nodePort=null",  # let Kubernetes pick: 30000 may be taken
        "--set",
        "postgresql.persistence.whenDeleted=Delete",
        "--set-string",
        f"backend.image.tag={TAGS['backend']}",
        "--set-string",
        f"frontend.image.tag={TAGS['frontend']}",
        "--wait",
        "--timeout",
        f"{TIMEOUT_S}s",
    )
    assert helm.revision() == 1
    assert ready(kube, "deployment", f"{RELEASE}-backend") == 2
    assert ready(kube, "deployment", f"{RELEASE}-frontend") == 2
    assert ready(kube, "statefulset", f"{RELEASE}-postgresql") == 1
    # the post-install migration Job and its hook Secret succeeded and were cleaned up
    assert kube.run("get", "jobs", "-o", "name").strip() == ""
    secrets = kube.run("get", "secrets", "-o", "name")
    assert f"secret/{RELEASE}-backend-migrate" not in secrets
    svc = kube.json("service", f"{RELEASE}-frontend")
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["ports"][0]["nodePort"] >= 30000
    notes = helm.run("get", "notes", RELEASE)
    assert f"minikube service {RELEASE}-frontend" in notes


def test_helm_test_passes(helm: Helm) -> None:
    out = helm.run("test", RELEASE, "--logs", "--timeout", f"{TIMEOUT_S}s")
    assert "end-to-end check passed" in out, out
    assert "ok   GET /ready -> 200" in out, out


def test_app_works_and_keeps_a_session(kube: Kube, helm: Helm) -> None:
    with frontend(kube) as base, httpx.Client(base_url=base, timeout=30) as client:
        email = f"helm-e2e-{uuid.uuid4().hex[:12]}@example.com"
        r = client.post("/api/auth/signup", json={"email": email, "password": "correct horse 42"})
        assert r.status_code == 201, r.text
        r = client.post("/api/tasks", json={"title": "survives helm upgrades"})
        assert r.status_code == 201, r.text
        STATE["token"] = client.cookies.get("todo_session")
        STATE["task"] = r.json()["id"]
    assert STATE["token"]


def _session_still_works(kube: Kube) -> None:
    """The same cookie (AUTH_SECRET kept) reads the same task (database and password kept)."""
    with frontend(kube) as base:
        r = httpx.get(
            f"{base}/api/tasks/{STATE['task']}",
            headers={"cookie": f"todo_session={STATE['token']}"},
            timeout=30,
        )
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "survives helm upgrades"


def test_upgrade_with_set_changes(helm: Helm, kube: Kube) -> None:
    before = backend_pods(kube)
    helm.run(
        "upgrade",
        RELEASE,
        str(CHART),
        "--reuse-values",
        "--set",
        "backend.replicaCount=3",
        "--set-string",
        "backend.config.logLevel=DEBUG",
        "--wait",
        "--timeout",
        f"{TIMEOUT_S}s",
    )
    assert helm.revision() == 2
    assert ready(kube, "deployment", f"{RELEASE}-backend") == 3
    config = kube.json("configmap", f"{RELEASE}-backend")["data"]
    assert config["LOG_LEVEL"] == "DEBUG"
    # checksum/config rolled every API pod
    wait_for(lambda: not before & backend_pods(kube), 120, "old backend pods to terminate")
    _session_still_works(kube)
    out = helm.run("test", RELEASE, "--logs", "--timeout", f"{TIMEOUT_S}s")
    assert "end-to-end check passed" in out


def test_rollback(helm: Helm, kube: Kube) -> None:
    helm.run("rollback", RELEASE, "1", "--wait", "--timeout", f"{TIMEOUT_S}s")
    assert helm.revision() == 3
    wait_for(
        lambda: (
            kube.json("deployment", f"{RELEASE}-backend")["spec"]["replicas"] == 2
            and ready(kube, "deployment", f"{RELEASE}-backend") == 2
        ),
        TIMEOUT_S,
        "the backend back at 2 ready replicas",
    )
    assert kube.json("configmap", f"{RELEASE}-backend")["data"]["LOG_LEVEL"] == "INFO"
    history = helm.run("history", RELEASE)
    assert re.search(r"^3\s.*Rollback to 1", history, re.MULTILINE), history
    _session_still_works(kube)


def test_uninstall_leaves_nothing_behind(helm: Helm, kube: Kube) -> None:
    helm.run("uninstall", RELEASE, "--wait", "--timeout", f"{TIMEOUT_S}s")

    def leftovers() -> list[str]:
        names = kube.run("get", KINDS, "-o", "name").split()
        # what every namespace has by itself
        defaults = {"configmap/kube-root-ca.crt", "serviceaccount/default"}
        return [n for n in names if n not in defaults]

    wait_for(lambda: not leftovers(), 180, "the namespace to be empty")
    assert helm.run("list", "-q").strip() == ""

    # whenDeleted=Delete: the database volume went with the release (the PV follows its
    # StorageClass's reclaim policy; Minikube's is Delete)
    def bound_volumes() -> list[str]:
        pvs = json.loads(
            subprocess.run(
                [
                    kube.kubectl,
                    *(["--context", kube.context] if kube.context else []),
                    "get",
                    "pv",
                    "-o",
                    "json",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
        )["items"]
        return [
            pv["metadata"]["name"]
            for pv in pvs
            if (pv["spec"].get("claimRef") or {}).get("namespace") == NAMESPACE
            and pv["status"].get("phase") == "Bound"
        ]

    wait_for(lambda: not bound_volumes(), 120, f"no volume bound to {NAMESPACE}")
