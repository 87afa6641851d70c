"""Helpers for the live suite: kubectl bound to the app's namespace, bounded waits, and
continuous traffic against the deployed app while pods are replaced, counting every failure.

Each request opens a new connection: a browser silently retries a request whose reused
keep-alive connection was closed by the server, so a fresh connection per request measures
what users see. Any non-2xx answer, timeout or connection error counts as a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from testsupport.tools import free_port


@dataclass
class Kube:
    """kubectl bound to one context and namespace."""

    kubectl: str
    context: str | None
    namespace: str

    def cmd(self, *args: str) -> list[str]:
        ctx = ["--context", self.context] if self.context else []
        return [self.kubectl, *ctx, "-n", self.namespace, *args]

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        proc = subprocess.run(
            self.cmd(*args), capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run("get", *args, "-o", "json"))

    def pods(self, component: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.json(
            "pods", "-l", f"app.kubernetes.io/component={component}"
        )["items"]
        return items

    def ready_pods(self, component: str) -> list[str]:
        return [
            p["metadata"]["name"]
            for p in self.pods(component)
            if not p["metadata"].get("deletionTimestamp")
            and any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p.get("status", {}).get("conditions", [])
            )
        ]

    def workload(self, kind: str, component: str) -> dict[str, Any]:
        items = self.json(kind, "-l", f"app.kubernetes.io/component={component}")["items"]
        assert len(items) == 1, f"expected one {kind} with component={component}, got {len(items)}"
        item: dict[str, Any] = items[0]
        return item


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class Result:
    requests: int = 0
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        head = "; ".join(self.failures[:10])
        return f"{len(self.failures)} of {self.requests} requests failed: {head}"


class Load:
    """Background workers that alternate the frontend's /health and an authenticated
    /api/tasks read (frontend -> backend -> PostgreSQL) until stopped; with `writes`, every
    third request creates a task instead (its title is kept, to check none was lost)."""

    def __init__(
        self,
        base_url: str,
        session_cookie: str,
        workers: int = 4,
        pause: float = 0.05,
        writes: bool = False,
    ):
        self.base_url = base_url
        self.cookie = session_cookie
        self.pause = pause
        self.writes = writes
        self.result = Result()
        self.created: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, args=(n,), daemon=True) for n in range(workers)
        ]

    def _request(self, worker: int, i: int) -> str | None:
        """One request on a new connection; the failure, or None."""
        headers = {"cookie": f"todo_session={self.cookie}"}
        write = self.writes and i % 3 == 0
        path = "/api/tasks" if write else ("/health" if i % 2 else "/api/tasks?limit=5")
        title = f"load {worker}-{i}"
        try:
            with httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as c:
                if write:
                    r = c.post(self.base_url + path, json={"title": title}, headers=headers)
                else:
                    r = c.get(self.base_url + path, headers=headers)
        except httpx.HTTPError as exc:
            return f"{'POST' if write else 'GET'} {path} -> {type(exc).__name__}: {exc}"
        if r.status_code != (201 if write else 200):
            return f"{'POST' if write else 'GET'} {path} -> {r.status_code} {r.text[:80]!r}"
        if write:
            with self._lock:
                self.created.append(title)
        return None

    def _work(self, worker: int) -> None:
        i = 0
        while not self._stop.is_set():
            i += 1
            error = self._request(worker, i)
            with self._lock:
                self.result.requests += 1
                if error:
                    self.result.failures.append(f"{time.strftime('%H:%M:%S')} {error}")
            time.sleep(self.pause)

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)


# ------------------------------------------------------------------------------ images
REPO = Path(__file__).resolve().parents[2]


def source_image_tags() -> dict[str, str]:
    """The tags the deploy scripts give images of the current sources (scripts/lib/images.sh):
    what `scripts/minikube.sh up` / `scripts/helm-deploy.sh install` loaded into the node."""
    lib = REPO / "scripts" / "lib"
    tags = {}
    script = f'. "{lib}/steps.sh"; . "{lib}/images.sh"; image_tag "$1"'
    for name in ("backend", "frontend"):
        proc = subprocess.run(
            ["bash", "-c", script, "_", str(REPO / name)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        tags[name] = proc.stdout.strip()
    return tags


def derive_image(kube: Kube, base: str, tag: str, version: str) -> str:
    """A real new image on the node: `base` with APP_VERSION=version, tagged `tag`. Minikube
    builds it inside the node (any runtime); with KIND_CLUSTER set, the host's Docker builds it
    and `kind load docker-image` copies it (the base must be on the host, as after loading it)."""
    ref = f"{base.rsplit(':', 1)[0]}:{tag}"
    with tempfile.TemporaryDirectory() as ctx:
        (Path(ctx) / "Dockerfile").write_text(f"FROM {base}\nENV APP_VERSION={version}\n")
        kind = os.environ.get("KIND_CLUSTER")
        if kind:
            steps = [
                ["docker", "build", "-t", ref, ctx],
                ["kind", "load", "docker-image", ref, "--name", kind],
            ]
        else:
            profile = os.environ.get("MINIKUBE_PROFILE") or kube.context or "minikube"
            steps = [["minikube", "-p", profile, "image", "build", "-t", ref, ctx]]
        for cmd in steps:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
            assert proc.returncode == 0, f"{' '.join(cmd)} failed: {proc.stderr[-800:]}"
    return ref


def pod_rss_bytes(kube: Kube, pod: str, container: str) -> int:
    """Resident memory of the container's main process (PID 1: the server), from /proc."""
    status = kube.run("exec", pod, "-c", container, "--", "cat", "/proc/1/status", timeout=30)
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kib * 1024


def memory_limit_bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(quantity)


def kube_context(kubectl: str) -> str | None:
    """K8S_CONTEXT, else the Minikube profile's context when it exists, else the current one
    (kind: `kind-<name>`, or whatever KUBECONFIG points at)."""
    if os.environ.get("K8S_CONTEXT"):
        return os.environ["K8S_CONTEXT"]
    wanted = os.environ.get("MINIKUBE_PROFILE", "minikube")
    proc = subprocess.run(
        [kubectl, "config", "get-contexts", "-o", "name"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return wanted if wanted in proc.stdout.split() else None


def connect(namespace: str) -> tuple[Kube | None, str]:
    """kubectl bound to `namespace` on a reachable cluster, or (None, why not)."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None, "kubectl is not installed"
    context = kube_context(kubectl)
    probe = subprocess.run(
        [
            kubectl,
            *(["--context", context] if context else []),
            "get",
            "--raw",
            "/readyz",
            "--request-timeout=5s",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        detail = (probe.stderr.strip().splitlines() or ["no answer"])[-1]
        return None, f"no Kubernetes cluster reachable (kubectl: {detail})"
    return Kube(kubectl, context, namespace), ""


@contextmanager
def port_forward(kube: Kube, service: str, port: int) -> Iterator[str]:
    """`kubectl port-forward svc/SERVICE` on a free local port (works with every driver and
    with kind); yields the base URL once /health answers."""
    local = free_port()
    proc = subprocess.Popen(
        kube.cmd("port-forward", f"svc/{service}", f"{local}:{port}", "--address", "127.0.0.1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{local}"
    try:

        def up() -> bool:
            if proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                raise AssertionError(f"kubectl port-forward exited: {out}")
            try:
                return httpx.get(f"{base}/health", timeout=3).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 60, f"kubectl port-forward to {service}", interval=1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
