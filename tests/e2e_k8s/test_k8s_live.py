"""The deployed app on a live cluster: readiness, the user journey through the NodePort, zero
failed requests while pods are deleted or rolled or a new image rolls out under reads and
writes, a rollback that serves the previous version again, and the frontend's memory under load
(skipped without a cluster; see conftest)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from k8s_live import Kube, Load, derive_image, memory_limit_bytes, pod_rss_bytes, wait_for

pytestmark = pytest.mark.slow
ROLLOUT_TIMEOUT = 300


def signup(app_url: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=app_url, timeout=30)
    email = f"k8s-e2e-{uuid.uuid4().hex[:12]}@example.com"
    r = client.post("/api/auth/signup", json={"email": email, "password": "correct horse 42"})
    assert r.status_code == 201, r.text
    assert r.json()["user"]["email"] == email
    assert "access_token" not in r.json()  # the token stays in the httpOnly cookie
    token = client.cookies.get("todo_session")
    assert token
    return client, token


@pytest.fixture
def user(app_url: str) -> Iterator[tuple[httpx.Client, str]]:
    client, token = signup(app_url)
    yield client, token
    client.delete("/api/auth/me")
    client.close()


def settle(kube: Kube) -> None:
    """Both Deployments fully rolled out and available (before and after each disruption)."""
    for name in ("backend", "frontend"):
        kube.run(
            "rollout",
            "status",
            f"deployment/{name}",
            f"--timeout={ROLLOUT_TIMEOUT}s",
            timeout=ROLLOUT_TIMEOUT + 30,
        )


def test_all_pods_ready(kube: Kube) -> None:
    for component in ("backend", "frontend"):
        dep = kube.workload("deployments", component)
        want = dep["spec"]["replicas"]
        assert want >= 2
        assert dep["status"].get("readyReplicas") == want, dep["status"]
        assert len(kube.ready_pods(component)) == want
    pods: list[dict[str, Any]] = kube.json("pods", "-l", "app.kubernetes.io/part-of=todo-chatbot")[
        "items"
    ]
    assert pods
    migrations = []
    for pod in pods:
        phase = pod["status"]["phase"]
        if pod["metadata"]["labels"].get("app.kubernetes.io/component") == "migrations":
            migrations.append(phase)  # a retried Job may also have left a Failed pod
            continue
        ready = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
        assert phase == "Running" and ready.get("Ready") == "True", pod["metadata"]["name"]
    assert "Succeeded" in migrations
    job = kube.json("job", "backend-migrate")
    assert any(
        c["type"] == "Complete" and c["status"] == "True" for c in job["status"]["conditions"]
    )


def test_frontend_nodeport_serves_health(kube: Kube, app_url: str) -> None:
    svc = kube.json("service", "frontend-service")
    assert svc["spec"]["type"] == "NodePort"
    assert svc["spec"]["ports"][0]["nodePort"] == 30000
    r = httpx.get(f"{app_url}/health", timeout=10)
    assert r.status_code == 200
    assert r.json()["status"] == "healthy"
    assert r.json()["version"].startswith("0.1.0-")  # the content tag the scripts deployed


def test_signup_task_and_chat_through_the_frontend(user: tuple[httpx.Client, str]) -> None:
    client, _ = user
    me = client.get("/api/auth/me")
    assert me.status_code == 200, me.text
    r = client.post("/api/tasks", json={"title": "check the cluster", "priority": "high"})
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["title"] == "check the cluster" and task["priority"] == "high"

    chat = client.post("/api/chat", json={"message": "add buy milk"})
    assert chat.status_code == 200, chat.text
    body = chat.json()
    assert body["reply"] and body["conversation_id"]
    assert any(a["tool"] == "add_task" and a["ok"] for a in body["actions"]), body
    titles = {t["title"] for t in client.get("/api/tasks").json()["items"]}
    assert {"check the cluster", "buy milk"} <= titles
    messages = client.get(f"/api/conversations/{body['conversation_id']}/messages").json()
    assert [m["role"] for m in messages][:2] == ["user", "assistant"]


def test_deleting_a_backend_pod_fails_no_request(
    kube: Kube, app_url: str, user: tuple[httpx.Client, str]
) -> None:
    settle(kube)
    victim = kube.ready_pods("backend")[0]
    with Load(app_url, user[1]) as load:
        time.sleep(3)
        kube.run("delete", "pod", victim, "--wait=false")
        wait_for(
            lambda: (
                victim not in kube.ready_pods("backend") and len(kube.ready_pods("backend")) >= 2
            ),
            ROLLOUT_TIMEOUT,
            "a replacement backend pod to become Ready",
        )
        settle(kube)
        time.sleep(5)
    assert load.result.requests > 100
    assert not load.result.failures, load.result.summary()


def test_rollout_restart_of_both_deployments_fails_no_request(
    kube: Kube, app_url: str, user: tuple[httpx.Client, str]
) -> None:
    settle(kube)
    before = {c: set(kube.ready_pods(c)) for c in ("backend", "frontend")}
    with Load(app_url, user[1]) as load:
        time.sleep(3)
        kube.run("rollout", "restart", "deployment/backend", "deployment/frontend")
        time.sleep(2)
        settle(kube)
        time.sleep(5)
    for component, old in before.items():
        assert not old & set(kube.ready_pods(component)), f"{component} pods were not replaced"
    assert load.result.requests > 100
    assert not load.result.failures, load.result.summary()


def test_data_survives_a_postgres_pod_restart(kube: Kube, user: tuple[httpx.Client, str]) -> None:
    statefulsets = kube.json("statefulsets", "-l", "app.kubernetes.io/component=database")["items"]
    if not statefulsets:
        pytest.skip("no in-cluster PostgreSQL (the neon overlay): nothing to restart")
    client, _ = user
    title = f"survives restart {uuid.uuid4().hex[:8]}"
    assert client.post("/api/tasks", json={"title": title}).status_code == 201
    name = statefulsets[0]["metadata"]["name"]
    old_uid = kube.json("pod", f"{name}-0")["metadata"]["uid"]
    kube.run("delete", "pod", f"{name}-0", "--wait=true", timeout=180)
    kube.run(
        "rollout",
        "status",
        f"statefulset/{name}",
        f"--timeout={ROLLOUT_TIMEOUT}s",
        timeout=ROLLOUT_TIMEOUT + 30,
    )
    assert kube.json("pod", f"{name}-0")["metadata"]["uid"] != old_uid

    def listed() -> bool:
        try:
            r = client.get("/api/tasks", params={"q": title})
        except httpx.HTTPError:
            return False
        return r.status_code == 200 and [t["title"] for t in r.json()["items"]] == [title]

    wait_for(listed, 180, "the backend to serve the task again after the database restart")
    settle(kube)


# ------------------------------------------------------------------------------ versions
HEALTH_FROM_INSIDE = (
    "import urllib.request as u; "
    "print(u.urlopen('http://127.0.0.1:8001/health', timeout=5).read().decode())"
)


def image_of(kube: Kube, deployment: str, container: str) -> str:
    spec = kube.json("deployment", deployment)["spec"]["template"]["spec"]
    return str(next(c["image"] for c in spec["containers"] if c["name"] == container))


def backend_versions(kube: Kube) -> set[str]:
    """The `version` each ready backend pod's /health reports (asked from inside the pod)."""
    versions = set()
    for pod in kube.ready_pods("backend"):
        out = kube.run("exec", pod, "-c", "backend", "--", "python", "-c", HEALTH_FROM_INSIDE)
        versions.add(json.loads(out)["version"])
    return versions


def test_the_running_versions_are_the_deployed_tags(kube: Kube, app_url: str) -> None:
    """Each image reports its own tag (APP_VERSION) on /health: which code runs is visible."""
    settle(kube)
    backend_tag = image_of(kube, "backend", "backend").rsplit(":", 1)[1]
    frontend_tag = image_of(kube, "frontend", "frontend").rsplit(":", 1)[1]
    assert backend_versions(kube) == {backend_tag}
    assert httpx.get(f"{app_url}/health", timeout=10).json()["version"] == frontend_tag


def test_an_image_change_under_reads_and_writes_then_rollback_restores_the_old_code(
    kube: Kube, app_url: str, user: tuple[httpx.Client, str]
) -> None:
    """A real new image (another APP_VERSION) rolls out while requests read and write, with no
    failed request and no lost write; `kubectl rollout undo` then serves the previous version
    again — the old image is still on the node, under its own tag."""
    settle(kube)
    client, token = user
    old_image = image_of(kube, "backend", "backend")
    (old_version,) = backend_versions(kube)
    new_version = f"{old_version}-e2e{uuid.uuid4().hex[:6]}"
    new_image = derive_image(kube, old_image, new_version, new_version)

    with Load(app_url, token, writes=True) as load:
        time.sleep(3)
        kube.run(
            "set",
            "image",
            "deployment/backend",
            f"backend={new_image}",
            f"wait-for-migrations={new_image}",
        )
        time.sleep(2)
        settle(kube)
        time.sleep(5)
    assert load.result.requests > 100 and load.created
    assert not load.result.failures, load.result.summary()
    wait_for(lambda: backend_versions(kube) == {new_version}, 120, f"every pod on {new_version}")
    total = client.get("/api/tasks", params={"limit": 1}).json()["total"]
    assert total == len(load.created), "a write answered 201 but is not stored"

    with Load(app_url, token, writes=True) as undo:
        time.sleep(3)
        kube.run("rollout", "undo", "deployment/backend")
        time.sleep(2)
        settle(kube)
        time.sleep(5)
    assert not undo.result.failures, undo.result.summary()
    assert image_of(kube, "backend", "backend") == old_image
    wait_for(lambda: backend_versions(kube) == {old_version}, 120, f"every pod on {old_version}")


# ------------------------------------------------------------------------------ memory
LOAD_WORKERS = int(os.environ.get("K8S_E2E_LOAD_WORKERS", "100"))


def test_frontend_stays_under_its_memory_limit_under_load(
    kube: Kube, app_url: str, user: tuple[httpx.Client, str]
) -> None:
    """K8S_E2E_LOAD_WORKERS (100) concurrent clients, each request on a new connection (/health
    and the API proxy): every frontend process stays below the pod's memory limit (NODE_OPTIONS
    caps the heap), nothing restarts, nothing fails."""
    settle(kube)
    spec = kube.json("deployment", "frontend")["spec"]["template"]["spec"]
    (web,) = [c for c in spec["containers"] if c["name"] == "frontend"]
    limit = memory_limit_bytes(web["resources"]["limits"]["memory"])
    pods = kube.ready_pods("frontend")
    restarts_before = {
        p["metadata"]["name"]: sum(c["restartCount"] for c in p["status"]["containerStatuses"])
        for p in kube.pods("frontend")
    }
    peak = dict.fromkeys(pods, 0)
    with Load(app_url, user[1], workers=LOAD_WORKERS, pause=0) as load:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for pod in pods:
                peak[pod] = max(peak[pod], pod_rss_bytes(kube, pod, "frontend"))
            time.sleep(2)
    assert load.result.requests > 1000
    assert not load.result.failures, load.result.summary()
    for pod, rss in peak.items():
        assert rss < limit, f"{pod}: RSS {rss / 2**20:.0f} MiB >= limit {limit / 2**20:.0f} MiB"
    for p in kube.pods("frontend"):
        name = p["metadata"]["name"]
        restarts = sum(c["restartCount"] for c in p["status"]["containerStatuses"])
        assert restarts == restarts_before.get(name, 0), f"{name} restarted (OOMKilled?)"
