"""Fixtures for the offline deployment tests. Rules: policy.py; helpers: deploytools.py."""

from __future__ import annotations

import deploytools
import policy
import pytest

from testsupport.tools import require_tool


@pytest.fixture(scope="session")
def kubectl() -> str:
    """The kubectl binary (`kubectl kustomize` needs no cluster). Fails in CI when missing."""
    return require_tool("kubectl")


@pytest.fixture(scope="session")
def rendered(kubectl: str) -> dict[str, list[policy.Obj]]:
    """Every kustomization in deploytools.KUSTOMIZATIONS, rendered once per session."""
    return {
        name: deploytools.render_kustomize(kubectl, path)
        for name, path in deploytools.KUSTOMIZATIONS.items()
    }
