"""Helpers for the live suite: kubectl bound to the app's namespace, bounded waits, and
continuous traffic against the deployed app while pods are replaced, counting every failure.

Each request opens a new connection: a browser silently retries a request whose reused
keep-alive connection was closed by the server, so a fresh connection per request measures
what users see. Any non-2xx answer, timeout or connection error counts as a failure.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


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
    /api/tasks read (frontend -> backend -> PostgreSQL) until stopped."""

    def __init__(self, base_url: str, session_cookie: str, workers: int = 4, pause: float = 0.05):
        self.base_url = base_url
        self.cookie = session_cookie
        self.pause = pause
        self.result = Result()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]

    def _work(self) -> None:
        i = 0
        while not self._stop.is_set():
            i += 1
            path = "/health" if i % 2 else "/api/tasks?limit=5"
            error = None
            try:
                with httpx.Client(
                    timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
                ) as client:
                    r = client.get(
                        self.base_url + path, headers={"cookie": f"todo_session={self.cookie}"}
                    )
                if r.status_code != 200:
                    error = f"{path} -> {r.status_code} {r.text[:80]!r}"
            except httpx.HTTPError as exc:
                error = f"{path} -> {type(exc).__name__}: {exc}"
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
