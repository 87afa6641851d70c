"""The API's NetworkPolicy on a real cluster: it admits what it should and refuses the rest.

Each case starts a short-lived pod (the backend's own image, already on the node; restricted
Pod Security settings) that calls the API Service's /health with a 5 s timeout; exit code 0
means the connection was admitted. Needs a CNI that enforces NetworkPolicy: Minikube with the
containerd runtime picks kindnet, which does; with the docker runtime start Minikube with
`--cni=kindnet` (or calico). Skips without a cluster, like the rest of this suite.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from k8s_live import Kube

PROBE_TIMEOUT_S = 5
POD_TIMEOUT_S = 180
NOT_ENFORCED_HINT = (
    "the NetworkPolicy did not refuse it: is it enforced? Minikube's containerd runtime uses "
    "kindnet (enforces); with the docker runtime start Minikube with --cni=kindnet or --cni=calico"
)


def _api_service(kube: Kube) -> dict[str, Any]:
    for component in ("backend", "api"):
        items = kube.json("services", "-l", f"app.kubernetes.io/component={component}")["items"]
        if items:
            service: dict[str, Any] = items[0]
            return service
    raise AssertionError("no API Service (component backend or api) in the namespace")


def _api_policy(kube: Kube, service: dict[str, Any]) -> dict[str, Any]:
    selector = service["spec"]["selector"]
    for np in kube.json("networkpolicies")["items"]:
        labels = np["spec"]["podSelector"].get("matchLabels", {})
        if labels and all(selector.get(k) == v for k, v in labels.items()):
            found: dict[str, Any] = np
            return found
    pytest.skip("no NetworkPolicy protects the API here (Helm: backend.networkPolicy.enabled)")


def _api_image(kube: Kube, service: dict[str, Any]) -> str:
    component = service["spec"]["selector"]["app.kubernetes.io/component"]
    deployment = kube.workload("deployments", component)
    image: str = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def _probe_pod(name: str, namespace: str, labels: dict[str, str], image: str, url: str) -> str:
    script = (
        "import sys, urllib.request\n"
        "try:\n"
        f"    urllib.request.urlopen({url!r}, timeout={PROBE_TIMEOUT_S})\n"
        "except Exception as exc:\n"
        "    print('refused or unreachable:', exc); sys.exit(3)\n"
        "print('admitted')\n"
    )
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 1001,
                "runAsGroup": 1001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "probe",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["python", "-c", script],
                    "resources": {
                        "requests": {"cpu": "10m", "memory": "32Mi"},
                        "limits": {"cpu": "200m", "memory": "128Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }
    return json.dumps(pod)


def _kubectl(kube: Kube, *args: str, stdin: str | None = None, check: bool = True) -> str:
    ctx = ["--context", kube.context] if kube.context else []
    proc = subprocess.run(
        [kube.kubectl, *ctx, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def _reaches(kube: Kube, namespace: str, labels: dict[str, str], image: str, url: str) -> bool:
    name = f"netpol-probe-{uuid.uuid4().hex[:8]}"
    _kubectl(kube, "apply", "-f", "-", stdin=_probe_pod(name, namespace, labels, image, url))
    try:
        deadline = time.monotonic() + POD_TIMEOUT_S
        while time.monotonic() < deadline:
            phase = _kubectl(
                kube, "-n", namespace, "get", "pod", name, "-o", "jsonpath={.status.phase}"
            ).strip()
            if phase in ("Succeeded", "Failed"):
                return phase == "Succeeded"
            time.sleep(2)
        raise AssertionError(f"probe pod {namespace}/{name} did not finish in {POD_TIMEOUT_S}s")
    finally:
        _kubectl(kube, "-n", namespace, "delete", "pod", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def target(kube: Kube) -> dict[str, Any]:
    service = _api_service(kube)
    np = _api_policy(kube, service)
    port = service["spec"]["ports"][0]["port"]
    host = f"{service['metadata']['name']}.{kube.namespace}.svc.cluster.local"
    frontend_peer = next(
        p["podSelector"]["matchLabels"]
        for rule in np["spec"]["ingress"]
        for p in rule.get("from", [])
        if "podSelector" in p and "namespaceSelector" not in p
    )
    namespaces = [
        p["namespaceSelector"]["matchLabels"].get("kubernetes.io/metadata.name")
        for rule in np["spec"]["ingress"]
        for p in rule.get("from", [])
        if "namespaceSelector" in p
    ]
    return {
        "url": f"http://{host}:{port}/health",
        "image": _api_image(kube, service),
        # The frontend's labels, but not the Service's component: no user traffic reaches it.
        "check_labels": {**frontend_peer, "app.kubernetes.io/component": "check"},
        "namespaces": namespaces,
    }


@pytest.fixture
def other_namespace(kube: Kube) -> Iterator[str]:
    name = f"todo-netpol-{uuid.uuid4().hex[:6]}"
    _kubectl(kube, "create", "namespace", name)
    _kubectl(
        kube,
        "label",
        "namespace",
        name,
        "pod-security.kubernetes.io/enforce=restricted",
    )
    try:
        yield name
    finally:
        _kubectl(kube, "delete", "namespace", name, "--wait=false", check=False)


def test_a_pod_with_the_frontend_labels_is_admitted(kube: Kube, target: dict[str, Any]) -> None:
    """The documented in-cluster curl check (PHASE4-017) works under the policy."""
    assert _reaches(kube, kube.namespace, target["check_labels"], target["image"], target["url"])


def test_an_unlabelled_pod_of_the_namespace_is_refused(kube: Kube, target: dict[str, Any]) -> None:
    labels = {"app.kubernetes.io/name": "netpol-probe"}
    admitted = _reaches(kube, kube.namespace, labels, target["image"], target["url"])
    assert not admitted, NOT_ENFORCED_HINT


def test_a_lookalike_pod_in_another_namespace_is_refused(
    kube: Kube, target: dict[str, Any], other_namespace: str
) -> None:
    admitted = _reaches(
        kube, other_namespace, target["check_labels"], target["image"], target["url"]
    )
    assert not admitted, NOT_ENFORCED_HINT


def test_the_kagent_namespace_is_admitted(kube: Kube, target: dict[str, Any]) -> None:
    if "kagent" not in target["namespaces"]:
        pytest.skip("the policy does not admit kagent (backend.networkPolicy.allowNamespaces)")
    if not _kubectl(kube, "get", "namespace", "kagent", "-o", "name", check=False).strip():
        pytest.skip("no kagent namespace on this cluster (deploy/kagent installs into it)")
    labels = {"app.kubernetes.io/name": "netpol-probe"}
    assert _reaches(kube, "kagent", labels, target["image"], target["url"])
