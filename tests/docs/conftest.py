"""Fixtures of the docs suite: the real backend the documented commands run against."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from testsupport.tools import free_port


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real backend (`todo-api serve`) on 127.0.0.1 with a throwaway SQLite file."""
    work = tmp_path_factory.mktemp("backend")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work}/todo.db",
        "AUTH_SECRET": "docs-test-" + "0123456789abcdef" * 3,
        "APP_ENV": "production",
        "MIGRATE_ON_START": "true",
        "LLM_PROVIDER": "local",
        "LOGIN_RATE_LIMIT": "1000/minute",
        "CHAT_RATE_LIMIT": "1000/minute",
    }
    log = (work / "backend.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "todo_api.cli", "serve", "--port", str(port)],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (work / "backend.log").read_text()
            assert time.monotonic() < deadline, "backend did not start in 30 s"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
