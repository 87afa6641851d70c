"""Finding external tools: with CI=true a missing tool fails the test instead of skipping it."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI, when something a test needs is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, *extra_paths: str) -> str:
    path = shutil.which(name) or next(
        (p for p in extra_paths if os.path.exists(p) and os.access(p, os.X_OK)), None
    )
    require(path is not None, f"{name} is not installed")
    assert path is not None
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
