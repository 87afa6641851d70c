"""Settings every shipped topology must agree on (issue 17 item 3, issue 16 item 6):

- the backend trusts X-Forwarded-For only from the pod/private networks, never `*`, so a client
  cannot choose the address its login and sign-up limits are counted under;
- the frontend extends X-Forwarded-For only for configured proxies (none by default);
- the frontend's V8 heap is capped below its pod memory limit (chart, kustomize, compose, image);
- the PodDisruptionBudgets let one pod go at a time (maxUnavailable 1).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import deploytools
import policy
import pytest
import yaml

from testsupport.tools import require_tool

REPO = deploytools.REPO
HELM_DIR = REPO / "deploy" / "helm"
PRIVATE_RANGES = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
HEAP_FLAG = "--max-old-space-size=256"
DB_URL = "postgresql://todo:CHANGE_ME@db.example.com/todo?sslmode=require"


def _helm_template(chart: str, *args: str) -> list[policy.Obj]:
    proc = subprocess.run(
        [require_tool("helm"), "template", "t", str(HELM_DIR / chart), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return policy.parse_yaml(proc.stdout)


@pytest.fixture(scope="module")
def chart_objs() -> list[policy.Obj]:
    return _helm_template("todo-backend", "--set-string", f"secrets.databaseUrl={DB_URL}") + (
        _helm_template("todo-frontend")
    )


@pytest.fixture(scope="module")
def base_objs(rendered: dict[str, list[policy.Obj]]) -> list[policy.Obj]:
    return rendered["local"]


def _of_kind(objs: list[policy.Obj], kind: str, component: str) -> policy.Obj:
    """The one object of a kind whose labels say backend/api or frontend/web (both trees)."""
    names = {"backend": ("api", "backend"), "frontend": ("web", "frontend")}[component]
    hits = [
        o
        for o in objs
        if o["kind"] == kind
        and (o["metadata"].get("labels") or {}).get("app.kubernetes.io/component") in names
    ]
    assert len(hits) == 1, f"{kind} of the {component}: {[policy.ident(o) for o in hits]}"
    return hits[0]


def _pod_env(objs: list[policy.Obj], component: str) -> dict[str, str]:
    """What the main container sees: ConfigMap(s) by envFrom, then literal env entries."""
    deployment = _of_kind(objs, "Deployment", component)
    main = policy.pod_template(deployment)["spec"]["containers"][0]  # type: ignore[index]
    env: dict[str, str] = {}
    maps = {o["metadata"]["name"]: o for o in objs if o["kind"] == "ConfigMap"}
    for source in main.get("envFrom", []):
        if "configMapRef" in source:
            env.update(maps[source["configMapRef"]["name"]].get("data") or {})
    for entry in main.get("env", []):
        if "value" in entry:
            env[entry["name"]] = entry["value"]
    return env


def _mebibytes(quantity: str) -> int:
    match = re.fullmatch(r"(\d+)(Mi|Gi)", quantity)
    assert match, f"memory limit {quantity!r} is not in Mi/Gi"
    return int(match[1]) * (1024 if match[2] == "Gi" else 1)


@pytest.mark.parametrize("tree", ["chart", "kustomize"])
def test_backend_trusts_forwarding_headers_only_from_pod_networks(
    tree: str, chart_objs: list[policy.Obj], base_objs: list[policy.Obj]
) -> None:
    objs = chart_objs if tree == "chart" else base_objs
    assert _pod_env(objs, "backend")["FORWARDED_ALLOW_IPS"] == PRIVATE_RANGES


@pytest.mark.parametrize("tree", ["chart", "kustomize"])
def test_frontend_trusts_no_proxy_and_caps_its_heap_below_the_limit(
    tree: str, chart_objs: list[policy.Obj], base_objs: list[policy.Obj]
) -> None:
    objs = chart_objs if tree == "chart" else base_objs
    env = _pod_env(objs, "frontend")
    assert env["TRUSTED_PROXY_IPS"] == ""
    assert env["NODE_OPTIONS"] == HEAP_FLAG
    main = policy.pod_template(_of_kind(objs, "Deployment", "frontend"))["spec"]["containers"][0]  # type: ignore[index]
    limit = _mebibytes(main["resources"]["limits"]["memory"])
    heap = int(HEAP_FLAG.rsplit("=", 1)[1])
    # Node's RSS is the heap plus code, buffers and native memory: keep a third of headroom.
    assert heap <= limit * 2 // 3, f"heap {heap} MiB leaves no headroom under {limit} MiB"


def test_compose_and_the_image_cap_the_heap_and_trust_no_proxy_by_default() -> None:
    frontend = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]["frontend"]
    env = frontend["environment"]
    assert env["NODE_OPTIONS"] == HEAP_FLAG
    assert env["TRUSTED_PROXY_IPS"] == "${TRUSTED_PROXY_IPS:-}"
    dockerfile = (REPO / "frontend" / "Dockerfile").read_text()
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert re.search(rf"^ENV NODE_OPTIONS={re.escape(HEAP_FLAG)}$", runtime, re.MULTILINE)


@pytest.mark.parametrize("tree", ["chart", "kustomize"])
@pytest.mark.parametrize("component", ["backend", "frontend"])
def test_disruption_budgets_let_one_pod_go_at_a_time(
    tree: str, component: str, chart_objs: list[policy.Obj], base_objs: list[policy.Obj]
) -> None:
    objs = chart_objs if tree == "chart" else base_objs
    spec = _of_kind(objs, "PodDisruptionBudget", component)["spec"]
    assert spec.get("maxUnavailable") == 1 and "minAvailable" not in spec
    assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_no_chart_or_manifest_trusts_every_proxy() -> None:
    """`*` anywhere in the chart values or manifests would let any client pick its own address.
    (compose.yaml's backend setting is checked with the compose tests.)"""
    files = [
        *(HELM_DIR.glob("*/values*.yaml")),
        *(REPO / "deploy" / "k8s").rglob("*.yaml"),
    ]
    for path in files:
        text = Path(path).read_text()
        assert not re.search(r"FORWARDED_ALLOW_IPS\W+\"?\*", text), path
        assert not re.search(r"forwardedAllowIps:\s*\"?\*", text), path
