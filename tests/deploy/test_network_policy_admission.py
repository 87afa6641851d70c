"""Who may reach the API, evaluated offline with NetworkPolicy's own rules (issue 16 item 5).

A peer with only a podSelector means pods of the policy's namespace; only a namespaceSelector,
every pod of the matching namespaces; both, the matching pods of the matching namespaces. Every
namespace carries `kubernetes.io/metadata.name: <name>` (set by the API server). The same
clients are then tried for real by tests/e2e_k8s/test_network_policy_live.py on a cluster.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import deploytools
import policy
import pytest
import yaml

from testsupport.tools import require_tool

APP_NAMESPACE = "todo-chatbot"
DB_URL = "postgresql://todo:CHANGE_ME@db.example.com/todo?sslmode=require"


@dataclass(frozen=True)
class Client:
    namespace: str
    labels: tuple[tuple[str, str], ...]

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


def _client(namespace: str, **labels: str) -> Client:
    return Client(namespace, tuple((f"app.kubernetes.io/{k}", v) for k, v in labels.items()))


def admits(np: policy.Obj, client: Client, policy_namespace: str = APP_NAMESPACE) -> bool:
    namespace_labels = {"kubernetes.io/metadata.name": client.namespace}
    for rule in np["spec"].get("ingress", []):
        for peer in rule.get("from", []):
            if "ipBlock" in peer:
                continue
            if "namespaceSelector" in peer:
                ns_ok = policy.selector_matches(peer["namespaceSelector"], namespace_labels)
            else:
                ns_ok = client.namespace == policy_namespace
            pod_ok = "podSelector" not in peer or policy.selector_matches(
                peer["podSelector"], client.label_map
            )
            if ns_ok and pod_ok:
                return True
    return False


def _helm_backend_policy(*args: str) -> policy.Obj:
    proc = subprocess.run(
        [
            require_tool("helm"),
            "template",
            "todo-backend",
            str(deploytools.REPO / "deploy/helm/todo-backend"),
            "--set-string",
            f"secrets.databaseUrl={DB_URL}",
            "--set",
            "networkPolicy.enabled=true",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (np,) = [o for o in policy.parse_yaml(proc.stdout) if o["kind"] == "NetworkPolicy"]
    return np


FRONTEND = _client(APP_NAMESPACE, name="todo-frontend", component="frontend")
# The in-cluster curl check of docs/KUBERNETES.md: admitted, but not a frontend Service endpoint.
CHECK_POD = _client(APP_NAMESPACE, name="todo-frontend", component="check")
KAGENT_POD = _client("kagent", name="kagent")
STRANGER = _client(APP_NAMESPACE, name="curl")
OTHER_NAMESPACE_LOOKALIKE = _client("default", name="todo-frontend", component="frontend")
DATABASE = _client(APP_NAMESPACE, name="postgres", component="database")


@pytest.mark.parametrize(
    ("client", "admitted"),
    [
        (FRONTEND, True),
        (CHECK_POD, True),
        (KAGENT_POD, True),
        (STRANGER, False),
        (OTHER_NAMESPACE_LOOKALIKE, False),
        (DATABASE, False),
    ],
    ids=["frontend", "check-pod", "kagent", "stranger", "other-namespace", "database"],
)
def test_kustomize_backend_policy(
    rendered: dict[str, list[policy.Obj]], client: Client, admitted: bool
) -> None:
    np = deploytools.find(rendered["local"], "NetworkPolicy", "backend")
    assert admits(np, client) is admitted


def test_the_check_pod_never_receives_user_traffic(rendered: dict[str, list[policy.Obj]]) -> None:
    svc = deploytools.find(rendered["local"], "Service", "frontend-service")
    endpoints = {"matchLabels": svc["spec"]["selector"]}
    assert not policy.selector_matches(endpoints, CHECK_POD.label_map)
    assert policy.selector_matches(endpoints, FRONTEND.label_map)


@pytest.mark.parametrize(
    ("args", "kagent_admitted"),
    [([], False), (["--set", "networkPolicy.allowNamespaces={kagent}"], True)],
    ids=["default", "allow-kagent"],
)
def test_chart_admits_kagent_only_when_asked(args: list[str], kagent_admitted: bool) -> None:
    np = _helm_backend_policy(*args)
    assert admits(np, KAGENT_POD) is kagent_admitted
    assert admits(np, FRONTEND)
    assert not admits(np, STRANGER) and not admits(np, OTHER_NAMESPACE_LOOKALIKE)


def test_kagent_manifests_call_the_service_the_policy_protects(
    rendered: dict[str, list[policy.Obj]],
) -> None:
    """deploy/kagent's RemoteMCPServer points at backend-service in the app's namespace, from
    namespace kagent, which the base's policy admits."""
    server = yaml.safe_load((deploytools.REPO / "deploy/kagent/todo-mcp-server.yaml").read_text())
    assert server["metadata"]["namespace"] == KAGENT_POD.namespace
    assert server["spec"]["url"] == (
        f"http://backend-service.{APP_NAMESPACE}.svc.cluster.local:8001/mcp"
    )
    deploytools.find(rendered["local"], "Service", "backend-service")
