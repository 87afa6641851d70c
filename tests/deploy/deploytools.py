"""Helpers for the offline deployment tests (manifests and Helm charts): paths, rendering.

Importable from any test module in tests/deploy (`import deploytools`), like `policy`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import policy

REPO = Path(__file__).resolve().parents[2]
K8S_DIR = REPO / "deploy" / "k8s"
#: Every kustomization a user may apply (name -> folder).
KUSTOMIZATIONS = {
    "base": K8S_DIR / "base",
    "local": K8S_DIR / "overlays" / "local",
    "neon": K8S_DIR / "overlays" / "neon",
}
#: The oldest Kubernetes the manifests are validated for (the charts' kubeVersion allows 1.27;
#: 1.30 is the oldest release still validated here).
OLDEST_SUPPORTED_K8S = "1.30.0"


def k8s_versions() -> list[str]:
    """Schemas every rendered object must satisfy: the newest release kubernetes-validate ships
    (offline) and the oldest supported one."""
    return [policy.latest_kubernetes_version(), OLDEST_SUPPORTED_K8S]


def render_kustomize(kubectl: str, path: Path) -> list[policy.Obj]:
    """`kubectl kustomize PATH` (offline), parsed."""
    proc = subprocess.run(
        [kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, f"kubectl kustomize {path} failed:\n{proc.stderr}"
    return policy.parse_yaml(proc.stdout)


def find(objs: list[policy.Obj], kind: str, name: str) -> policy.Obj:
    """The one object of that kind and name (assertion error otherwise)."""
    hits = [o for o in objs if o.get("kind") == kind and o["metadata"]["name"] == name]
    assert len(hits) == 1, f"expected exactly one {kind}/{name}, found {len(hits)}"
    return hits[0]


def by_kind(objs: list[policy.Obj], kind: str) -> list[policy.Obj]:
    return [o for o in objs if o.get("kind") == kind]


def container(obj: policy.Obj, name: str) -> policy.Obj:
    tpl = policy.pod_template(obj)
    assert tpl is not None, f"{policy.ident(obj)} has no pod template"
    spec = tpl["spec"]
    hits = [
        c for c in spec.get("containers", []) + spec.get("initContainers", []) if c["name"] == name
    ]
    assert len(hits) == 1, f"{policy.ident(obj)} has no container {name}"
    found: policy.Obj = hits[0]
    return found


def run_script(
    args: list[str], env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a deploy script with only PATH, HOME and `env`: no developer settings leak in."""
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        args,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
