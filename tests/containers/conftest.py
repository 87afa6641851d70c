"""Session fixtures for the container suite: Docker reachable, base images present, both images
built once per session from the real Dockerfiles (with planted canary secrets in the context)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import dockertools as dt
import pytest

from testsupport.tools import require, require_tool


@pytest.fixture(scope="session")
def docker_ready() -> None:
    require_tool("docker")
    require(dt.daemon_ok(), "the Docker daemon is not reachable (start dockerd)")


@pytest.fixture(scope="session")
def compose(docker_ready: None) -> list[str]:
    cmd = dt.compose_cmd()
    require(cmd is not None, "docker-compose / docker compose is not installed")
    assert cmd is not None
    return cmd


@pytest.fixture(scope="session")
def base_images(docker_ready: None) -> None:
    missing = [
        ref
        for ref in (dt.python_base(), dt.node_base(), dt.postgres_image())
        if not dt.image_exists(ref)
    ]
    require(
        not missing,
        f"base images missing: {', '.join(missing)} (run ../shared/ci/base-images.sh)",
    )


def _context_copy(spec: dt.ImageSpec, dest: Path) -> Path:
    """The image's build context as committed + uncommitted sources, plus planted secrets."""
    skip = shutil.ignore_patterns("node_modules", ".next", ".venv", "__pycache__", "*.db")
    ctx = dest / spec.name
    shutil.copytree(spec.context, ctx, ignore=skip, symlinks=True)
    for name, content in dt.PLANTED.items():
        (ctx / name).write_text(content)
    nested = ctx / dt.PLANTED_NESTED[spec.name]
    nested.write_text(f"AUTH_SECRET={dt.CANARY}\n")
    return ctx


def _build(spec: dt.ImageSpec, tmp: Path) -> dt.BuildResult:
    result = dt.build(spec, context=_context_copy(spec, tmp))
    dt.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (dt.ARTIFACTS / f"build-{spec.name}.json").write_text(
        json.dumps(
            {
                "tag": spec.tag,
                "base": spec.base,
                "seconds": round(result.seconds, 1),
                "size_bytes": dt.image_size(spec.tag),
                "base_size_bytes": dt.image_size(spec.base),
            },
            indent=2,
        )
    )
    return result


@pytest.fixture(scope="session")
def backend_image(base_images: None, tmp_path_factory: pytest.TempPathFactory) -> dt.ImageSpec:
    spec = dt.backend_spec()
    _build(spec, tmp_path_factory.mktemp("ctx"))
    return spec


@pytest.fixture(scope="session")
def frontend_image(base_images: None, tmp_path_factory: pytest.TempPathFactory) -> dt.ImageSpec:
    spec = dt.frontend_spec()
    _build(spec, tmp_path_factory.mktemp("ctx"))
    return spec


@pytest.fixture(scope="session", params=["backend", "frontend"])
def image(request: pytest.FixtureRequest) -> dt.ImageSpec:
    spec: dt.ImageSpec = request.getfixturevalue(f"{request.param}_image")
    return spec


@pytest.fixture(scope="session")
def auth_secret() -> str:
    return os.urandom(32).hex()


@pytest.fixture
def container(image: dt.ImageSpec, auth_secret: str) -> Iterator[dt.Running]:
    running = dt.start(image, auth_secret)
    try:
        yield running
    finally:
        dt.remove_container(running.name)
