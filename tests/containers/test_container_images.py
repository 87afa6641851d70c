"""Each image, built from its real Dockerfile: starts, healthy, /health, uid 1001, read-only app
files, clean SIGTERM stop, no secret in env/config/layers, labels, and its size (reported)."""

from __future__ import annotations

import io
import json
import re
import tarfile
import time
from pathlib import Path

import dockertools as dt
import pytest
from dockertools import ARTIFACTS, CANARY, Running

pytestmark = pytest.mark.slow

# The target is healthy < 10 s after start; allow headroom for a loaded 2-core CI box.
HEALTHY_WITHIN = 20.0
# Bytes each image may add above its base (a regression guard; measured values are in
# docs/BENCHMARKS.md): the backend's venv ~120 MB, the frontend's standalone server ~20 MB.
MAX_ADDED_BYTES = {"backend": 170_000_000, "frontend": 60_000_000}
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|API_KEY|PRIVATE)", re.I)


def test_starts_healthy_and_health_answers(container: Running) -> None:
    waited = dt.wait_healthy(container.name, timeout=60)
    status, body = dt.http_get(f"{container.url}/health")
    assert status == 200
    health = json.loads(body)
    assert health["status"] == "healthy" and health["version"]  # APP_VERSION, else "dev"
    from_start = dt.started_at_to_healthy(container.name)
    assert from_start is not None
    assert from_start < HEALTHY_WITHIN, f"healthy only {from_start:.1f}s after start"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"healthy-{container.spec.name}.json").write_text(
        json.dumps({"seconds_from_start": round(from_start, 2), "waited": round(waited, 2)})
    )


def test_runs_as_uid_1001_named_user(container: Running) -> None:
    config = dt.inspect(container.spec.tag)["Config"]
    # numeric USER so Kubernetes runAsNonRoot can verify it without reading /etc/passwd
    assert config["User"] == "1001:1001"
    dt.wait_healthy(container.name)
    ids = dt.docker("exec", container.name, "id").stdout
    assert f"uid=1001({container.spec.user}) gid=1001({container.spec.user})" in ids
    # the server process itself (PID 1: exec-form entrypoint, no shell in between)
    status = dt.docker("exec", container.name, "cat", "/proc/1/status").stdout
    uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status, re.M)
    assert uids and uids.groups() == ("1001", "1001")


def test_cannot_write_app_directory(container: Running) -> None:
    app = container.spec.app_dir
    dt.wait_healthy(container.name)
    probe = dt.docker("exec", container.name, "touch", f"{app}/probe", check=False)
    assert probe.returncode != 0 and "Permission denied" in probe.stderr
    # nothing under the app directory is owned by, or writable for, the app user (symlinks'
    # own mode bits mean nothing, so they are skipped)
    writable = dt.docker(
        "exec",
        container.name,
        "find",
        app,
        "!",
        "-type",
        "l",
        "(",
        "-user",
        "1001",
        "-o",
        "-group",
        "1001",
        "-o",
        "-perm",
        "-o+w",
        ")",
        "-print",
    ).stdout.split()
    assert writable == [], f"writable by uid 1001: {writable[:10]}"
    # and the files are really there (the check above is not vacuous)
    count = dt.docker("exec", container.name, "find", app, "-type", "f").stdout.count("\n")
    assert count > 20


def test_sigterm_stops_cleanly_within_grace_period(container: Running) -> None:
    dt.wait_healthy(container.name)
    config = dt.inspect(container.spec.tag)["Config"]
    assert config.get("StopSignal") == "SIGTERM"
    grace = 10
    started = time.monotonic()
    dt.docker("stop", "-t", str(grace), container.name, timeout=grace + 30)
    took = time.monotonic() - started
    state = dt.inspect(container.name, "container")["State"]
    # 137 would be the SIGKILL sent when the grace period runs out
    assert state["ExitCode"] in (0, 143), state
    assert not state["OOMKilled"]
    assert took < grace - 1, f"took {took:.1f}s: the server did not act on SIGTERM"
    if container.spec.name == "backend":
        logs = dt.docker("logs", container.name).stderr + dt.docker("logs", container.name).stdout
        assert "Application shutdown complete" in logs
        assert "Finished server process" in logs


def _scan_layers(ref: str, base: str, tmp: Path) -> list[str]:
    """Problems found in the layers the image adds above its base (docker save output)."""
    base_layers = len(dt.inspect(base)["RootFS"]["Layers"])
    archive = tmp / "image.tar"
    dt.docker("save", "-o", str(archive), ref, timeout=300)
    problems: list[str] = []
    # .env files, databases, SSH/TLS keys by name; private keys and the canary by content
    # (certificate bundles such as certifi's cacert.pem are public and fine)
    bad_name = re.compile(r"(^|/)(\.env(\..*)?|.*\.key|id_rsa.*|id_ed25519.*|.*\.db)$")
    needle = CANARY.encode()
    private_key = re.compile(rb"-----BEGIN (RSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----")
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        layers = manifest[0]["Layers"]
        own = layers[base_layers:]
        assert own, "the image adds no layers above its base?"
        for layer_name in own:
            data = outer.extractfile(layer_name)
            assert data is not None
            with tarfile.open(fileobj=io.BytesIO(data.read())) as layer:
                for member in layer:
                    if bad_name.search(member.name):
                        problems.append(f"{layer_name}: {member.name}")
                    if member.isfile():
                        blob = layer.extractfile(member)
                        content = blob.read() if blob is not None else b""
                        if needle in content:
                            problems.append(f"{layer_name}: canary in {member.name}")
                        if private_key.match(content.lstrip()):
                            problems.append(f"{layer_name}: private key in {member.name}")
    return problems


def test_no_secret_in_env_config_or_layers(image: dt.ImageSpec, tmp_path: Path) -> None:
    info = dt.inspect(image.tag)
    config = info["Config"]
    for entry in config.get("Env") or []:
        name, _, value = entry.partition("=")
        assert not (SECRET_NAME.search(name) and value), f"secret-like variable in image: {name}"
    everything = json.dumps(info) + dt.docker("history", "--no-trunc", image.tag).stdout
    assert CANARY not in everything
    assert "AUTH_SECRET=" not in everything
    problems = _scan_layers(image.tag, image.base, tmp_path)
    assert problems == []


def test_labels_and_size_reported(image: dt.ImageSpec) -> None:
    labels = dt.inspect(image.tag)["Config"]["Labels"] or {}
    assert labels.get("org.opencontainers.image.version") == "0.1.0"
    # the commit the image was built from (HEAD may have moved on since, in a shared tree)
    revision = labels.get("org.opencontainers.image.revision", "")
    assert re.fullmatch(r"[0-9a-f]{40}", revision), revision
    ancestor = ["git", "-C", str(dt.ROOT), "merge-base", "--is-ancestor", revision, "HEAD"]
    assert dt.run(ancestor, check=False).returncode == 0
    assert labels.get("org.opencontainers.image.source")
    assert labels.get("org.opencontainers.image.title") == f"todo-{image.name}"
    size, base = dt.image_size(image.tag), dt.image_size(image.base)
    added = size - base
    standin = dt.inspect(image.base)["Config"].get("Labels", {}) or {}
    kind = "stand-in base" if standin.get("io.standin.stand-in") == "true" else "base"
    print(
        f"\n{image.tag}: {size / 1e6:.0f} MB on {image.base} ({kind}, {base / 1e6:.0f} MB); "
        f"adds {added / 1e6:.1f} MB"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"size-{image.name}.json").write_text(
        json.dumps({"tag": image.tag, "base": image.base, "size": size, "base_size": base})
    )
    assert 0 < added < MAX_ADDED_BYTES[image.name]


def test_backend_without_secret_fails_fast_with_one_line(backend_image: dt.ImageSpec) -> None:
    proc = dt.docker("run", "--rm", backend_image.tag, check=False, timeout=60)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [
        "configuration error: AUTH_SECRET: must be set to a random string of at least 32 "
        "characters in production (openssl rand -hex 32)"
    ]


def test_backend_migrate_is_a_command_of_the_image(
    backend_image: dt.ImageSpec, auth_secret: str
) -> None:
    """`docker run IMAGE migrate` (what compose, the Job and the Helm hook run) on a volume."""
    volume = f"todo-test-migrate-{time.time_ns()}"
    dt.docker("volume", "create", volume)
    try:
        common = [
            "run", "--rm", "-v", f"{volume}:/var/lib/todo",
            "-e", f"AUTH_SECRET={auth_secret}",
            "-e", "DATABASE_URL=sqlite:////var/lib/todo/todo.db",
            backend_image.tag,
        ]  # fmt: skip
        check = dt.docker(*common, "migrate", "--check", check=False, timeout=120)
        assert check.returncode == 3, check.stderr  # fresh database: migrations pending
        dt.docker(*common, "migrate", timeout=120)
        dt.docker(*common, "migrate", "--check", timeout=120)
    finally:
        dt.docker("volume", "rm", "-f", volume, check=False)
