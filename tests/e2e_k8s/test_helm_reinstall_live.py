"""Reinstall after the default `helm uninstall`: the PostgreSQL volume is kept (whenDeleted:
Retain) and so is the generated password Secret (helm.sh/resource-policy: keep), so a new
install opens the kept data instead of hanging on a password the data directory rejects.

Live only (skips without a cluster, like the rest of tests/e2e_k8s); needs the images of the
current sources on the node (scripts/helm-deploy.sh install, or scripts/minikube.sh up). Its own
release and namespace, removed at the end (volume included):

  HELM_KEEP_RELEASE [todo-keep]  HELM_KEEP_NAMESPACE [todo-helm-keep]
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from k8s_live import Kube, connect, port_forward, source_image_tags

from testsupport.tools import require_tool

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "todo-chatbot"
RELEASE = os.environ.get("HELM_KEEP_RELEASE", "todo-keep")
NAMESPACE = os.environ.get("HELM_KEEP_NAMESPACE", "todo-helm-keep")
REQUIRED = os.environ.get("K8S_E2E", "") == "1"
TIMEOUT_S = 600
PASSWORD = "correct horse 42"


def helm(kube: Kube, *args: str, check: bool = True, timeout: float = TIMEOUT_S + 60) -> str:
    ctx = ["--kube-context", kube.context] if kube.context else []
    cmd = [require_tool("helm"), *ctx, "-n", NAMESPACE, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            f"\n--- pods ---\n{kube.run('get', 'pods,jobs', '-o', 'wide', check=False)}"
        )
    return proc.stdout + proc.stderr


def install(kube: Kube, timeout_s: int) -> None:
    tags = source_image_tags()
    helm(
        kube,
        "install",
        RELEASE,
        str(CHART),
        "--create-namespace",
        "-f",
        str(CHART / "values-minikube.yaml"),
        "--set",
        "frontend.service.nodePort=null",  # 30000 may be taken
        "--set-string",
        f"backend.image.tag={tags['backend']}",
        "--set-string",
        f"frontend.image.tag={tags['frontend']}",
        "--wait",
        "--timeout",
        f"{timeout_s}s",
    )


def purge(kube: Kube) -> None:
    helm(kube, "uninstall", RELEASE, "--wait", check=False)
    kube.run("delete", "pvc,secret", "-l", f"app.kubernetes.io/instance={RELEASE}", check=False)
    kube.run("delete", "secret", f"{RELEASE}-postgresql", "--ignore-not-found", check=False)


@pytest.fixture(scope="module")
def kube() -> Iterator[Kube]:
    found, why = connect(NAMESPACE)
    if found is None:
        if REQUIRED:
            pytest.fail(f"K8S_E2E=1 but {why}", pytrace=False)
        pytest.skip(f"{why}: this live test needs a Kubernetes cluster (skipped in CI by design)")
    assert found
    purge(found)  # a leftover of an interrupted run
    helm(found, "dependency", "build", str(CHART))
    yield found
    purge(found)
    found.run("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false", check=False)


def test_reinstall_after_a_default_uninstall_keeps_the_data(kube: Kube) -> None:
    install(kube, TIMEOUT_S)
    email = f"keep-{uuid.uuid4().hex[:12]}@example.com"
    title = f"kept across a reinstall {uuid.uuid4().hex[:6]}"
    with (
        port_forward(kube, f"{RELEASE}-frontend", 3000) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        r = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
        assert r.status_code == 201, r.text
        assert client.post("/api/tasks", json={"title": title}).status_code == 201

    helm(kube, "uninstall", RELEASE, "--wait", "--timeout", f"{TIMEOUT_S}s")
    # what the default uninstall keeps: the data and the password that opens it
    assert kube.run("get", "pvc", f"data-{RELEASE}-postgresql-0", "-o", "name").strip()
    assert kube.run("get", "secret", f"{RELEASE}-postgresql", "-o", "name").strip()

    # A password mismatch would loop the init container until --wait gives up: keep it short.
    install(kube, 300)
    with (
        port_forward(kube, f"{RELEASE}-frontend", 3000) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        r = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        r = client.get("/api/tasks", params={"q": title})
        assert r.status_code == 200, r.text
        assert [t["title"] for t in r.json()["items"]] == [title]
