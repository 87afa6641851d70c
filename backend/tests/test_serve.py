"""`todo-api serve`: the app it runs, as production gets it."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from todo_api import cli


def test_serve_runs_the_served_app_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda target, **kw: calls.append((target, kw)))
    monkeypatch.setenv("AUTH_SECRET", "s" * 64)
    monkeypatch.setenv("MIGRATE_ON_START", "false")
    monkeypatch.chdir("/")
    args = argparse.Namespace(host="127.0.0.1", port=8001, workers=1, graceful_timeout=5)
    cli.cmd_serve(args)
    [(target, kwargs)] = calls
    assert target == "todo_api.main:create_served_app" and kwargs["factory"] is True


def test_served_app_freezes_start_up_objects_out_of_the_collector(tmp_path: Path) -> None:
    # In a process of its own: freezing is process-wide, and would keep this test session's
    # garbage forever.
    code = (
        "import gc\n"
        "from todo_api.main import create_served_app\n"
        "create_served_app()\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
            "AUTH_SECRET": "s" * 64,
        },
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=True,
    )
    frozen, still_tracked = map(int, result.stdout.split())
    # Start-up builds ~150,000 tracked objects; a full collection walking them took ~80 ms.
    assert frozen > 50_000
    assert still_tracked < frozen // 10
