"""Run the real backend (`todo-api serve`) as a subprocess on a free 127.0.0.1 port.

Any suite may use it (reliability, soak, benchmarks, end-to-end):

    from testsupport.server import BackendServer

    with BackendServer({"DATABASE_URL": pg.create_database("x"), "AUTH_SECRET": "..."}) as srv:
        httpx.get(srv.url + "/health")
        srv.pid          # for psutil (RSS, CPU)
        srv.log_text()   # everything the process wrote to stdout + stderr

- The environment is *only* what you pass plus a minimal base (PATH, HOME, LANG, and
  APP_ENV=test / MIGRATE_ON_START=1 / LOG_LEVEL=INFO unless you override them); the parent's
  variables do not leak in, so a developer's shell cannot change a test's configuration.
- The process runs in a fresh temporary working directory, so a stray backend/.env or ./todo.db
  is never picked up.
- `start()` waits (bounded) for GET /health == 200 and raises `ServerError` with the log tail if
  the process exits or does not come up in time; `wait_for("/ready")` waits for another path.
- `stop()` sends SIGTERM (graceful shutdown), waits, then SIGKILLs the process group if needed.
  `returncode` tells how it ended.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from testsupport.tools import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
BACKEND_DIR = REPO_ROOT / "backend"

_BASE_ENV = {
    "APP_ENV": "test",
    "MIGRATE_ON_START": "1",
    "LOG_LEVEL": "INFO",
}
_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "VIRTUAL_ENV")


class ServerError(RuntimeError):
    pass


def serve_command() -> list[str]:
    """The `todo-api` console script of the current environment (uv's venv), else `-m`."""
    script = Path(sys.executable).parent / "todo-api"
    if script.exists():
        return [str(script)]
    found = shutil.which("todo-api")
    if found:
        return [found]
    return [sys.executable, "-m", "todo_api.cli"]


class BackendServer:
    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        port: int | None = None,
        workers: int = 1,
        startup_timeout: float = 60.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.workers = workers
        self.startup_timeout = startup_timeout
        self.extra_args = extra_args
        self.workdir = Path(tempfile.mkdtemp(prefix="todo-api-"))
        self.log_path = self.workdir / "server.log"
        self.env: dict[str, str] = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
        self.env.update(_BASE_ENV)
        self.env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: object = None

    # -- properties ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise ServerError("server not started")
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> BackendServer:
        if self.is_running():
            return self
        cmd = [
            *serve_command(),
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            *self.extra_args,
        ]
        log = open(self.log_path, "ab")
        self._log_file = log
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() can reap workers too
        )
        self.wait_healthy(self.startup_timeout)
        return self

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not self.is_running():
                raise ServerError(
                    f"todo-api exited with {self.returncode} during start-up:\n{self._tail()}"
                )
            try:
                resp = httpx.get(self.url + "/health", timeout=2.0)
                if resp.status_code == 200:
                    return
                last = f"HTTP {resp.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.1)
        self.stop()
        raise ServerError(f"todo-api not healthy after {timeout}s ({last}):\n{self._tail()}")

    def wait_for(self, path: str, status: int = 200, timeout: float = 30.0) -> bool:
        """Poll GET `path` until it answers `status` (e.g. "/ready", 200); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.is_running():
            try:
                if httpx.get(self.url + path, timeout=2.0).status_code == status:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        return False

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait up to `timeout`, then SIGKILL the process group. Returns the exit code."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(10)
        log = self._log_file
        if log is not None:
            log.close()  # type: ignore[attr-defined]
            self._log_file = None
        return None if proc is None else proc.returncode

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self) -> BackendServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.cleanup()
