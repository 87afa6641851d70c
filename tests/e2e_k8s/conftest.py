"""Live Kubernetes suite: runs against a cluster where the app is deployed, skips elsewhere.

Deploy first (`scripts/minikube.sh up`), then `make test-e2e-k8s`. Settings (environment):
  K8S_CONTEXT    kubectl context          (default: MINIKUBE_PROFILE or "minikube" if it exists,
                                           else the current context)
  K8S_NAMESPACE  the app's namespace      (default: todo-chatbot)
  K8S_APP_URL    the frontend's base URL  (default: `minikube service frontend-service --url`,
                                           else http://<node InternalIP>:30000)
  K8S_E2E=1      a missing cluster/app is a failure instead of a skip
  KIND_CLUSTER   the kind cluster's name: new images are built with the host's Docker and copied
                 with `kind load docker-image` (default: `minikube image build` in the node)
  K8S_E2E_LOAD_WORKERS [100] concurrent clients of the frontend memory test
Running on kind: docs/KUBERNETES.md, "Live tests".

Where no cluster is reachable (every CI machine of this project: there is no Kubernetes there)
the whole suite is skipped with the reason; it is written to run for real on a laptop.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from k8s_live import Kube, connect

NAMESPACE = os.environ.get("K8S_NAMESPACE", "todo-chatbot")
REQUIRED = os.environ.get("K8S_E2E", "") == "1"
NO_CLUSTER_HINT = (
    "this live suite needs a Kubernetes cluster running the app (scripts/minikube.sh up, then "
    "make test-e2e-k8s); CI has no cluster, so it is skipped there by design"
)


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"K8S_E2E=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason}: {NO_CLUSTER_HINT}")


@pytest.fixture(scope="session")
def kube() -> Kube:
    found, why = connect(NAMESPACE)
    if found is None:
        _unavailable(why)
    assert found
    kube = found
    deployed = kube.run(
        "get",
        "deployments",
        "-l",
        "app.kubernetes.io/part-of=todo-chatbot",
        "-o",
        "name",
        check=False,
    )
    if not deployed.strip():
        _unavailable(f"the cluster has no Todo Chatbot deployments in namespace {NAMESPACE}")
    return kube


@pytest.fixture(scope="session")
def app_url(kube: Kube) -> str:
    if os.environ.get("K8S_APP_URL"):
        return os.environ["K8S_APP_URL"].rstrip("/")
    minikube = shutil.which("minikube")
    if minikube and kube.context:
        try:
            proc = subprocess.run(
                [
                    minikube,
                    "-p",
                    kube.context,
                    "service",
                    "frontend-service",
                    "-n",
                    NAMESPACE,
                    "--url",
                ],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            if proc.returncode == 0 and proc.stdout.strip().startswith("http"):
                return proc.stdout.strip().splitlines()[0].rstrip("/")
        except subprocess.TimeoutExpired:
            pass  # a tunnel (docker driver on macOS): fall back to the node address
    nodes = json.loads(
        subprocess.run(
            [
                kube.kubectl,
                *(["--context", kube.context] if kube.context else []),
                "get",
                "nodes",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    )
    address = next(
        a["address"] for a in nodes["items"][0]["status"]["addresses"] if a["type"] == "InternalIP"
    )
    return f"http://{address}:30000"
