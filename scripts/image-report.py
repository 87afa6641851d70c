#!/usr/bin/env python3
"""Measure the container images and write the images section of docs/BENCHMARKS.md.

For each image (backend, frontend), built from the real Dockerfile:
  - build context size with the .dockerignore and without it (what the daemon receives)
  - cold build (--no-cache; base image present), warm rebuild (nothing changed), code-only rebuild
    (one source file changed: only the layers after the dependency layer rebuild)
  - image size, base size and the bytes the image adds above its base
  - time to healthy: from container start to the first passing HEALTHCHECK, and to the first
    200 from /health (polled every 0.1 s)
Figures taken on the local stand-in base images (../shared/ci/base-images.sh) are labelled so.

Usage: uv run --project backend --frozen python scripts/image-report.py [--skip-cold]
       [--only backend|frontend] [--output docs/BENCHMARKS.md] [--json artifacts/containers/...]
Bases: PYTHON_IMAGE / NODE_IMAGE (default: the stand-ins python:3.11-slim-bookworm,
node:20-bookworm-slim).
Only the block between <!-- images:begin --> and <!-- images:end --> is replaced.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "containers"))

import dockertools as dt  # noqa: E402

BEGIN, END = "<!-- images:begin -->", "<!-- images:end -->"
API_BEGIN, API_END = "<!-- api:begin -->", "<!-- api:end -->"
# the targets, for official bases
TARGETS = {
    "backend": {"size_mb": 300, "aim_mb": 200, "cold_s": 240},
    "frontend": {"size_mb": 200, "aim_mb": 180, "cold_s": 180},
}
CODE_FILE = {"backend": "src/todo_api/__init__.py", "frontend": "app/health/route.ts"}
SKIP_COPY = shutil.ignore_patterns("node_modules", ".next", ".venv", "__pycache__", "*.db")


def mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def context_bytes(context: Path, with_ignore: bool) -> int:
    """What the daemon receives, as the legacy builder reports it ("Sending build context")."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Path(tmp) / "ctx"
        # hard links: a cheap exact copy of the tree, node_modules and all
        subprocess.run(["cp", "-al", str(context), str(ctx)], check=True)
        if not with_ignore:
            (ctx / ".dockerignore").unlink(missing_ok=True)
        tag = f"todo-context-probe:{os.getpid()}"
        proc = subprocess.run(
            ["docker", "build", "-t", tag, "-f", "-", str(ctx)],
            input="FROM scratch\nLABEL probe=context\n",
            capture_output=True,
            text=True,
            timeout=600,
        )
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
    size = dt.parse_context_bytes(proc.stdout + proc.stderr)
    if size is None:
        raise SystemExit(f"could not read the context size:\n{proc.stdout}\n{proc.stderr}")
    return size


def code_only_rebuild(spec: dt.ImageSpec, source: Path) -> float:
    """Rebuild after changing one source file (dependency layers must come from the cache)."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Path(tmp) / spec.name
        shutil.copytree(source, ctx, symlinks=True)
        target = ctx / CODE_FILE[spec.name]
        marker = "#" if target.suffix == ".py" else "//"
        target.write_text(target.read_text() + f"\n{marker} image-report {time.time_ns()}\n")
        probe = dt.ImageSpec(**{**spec.__dict__, "tag": f"todo-{spec.name}:code-only-probe"})
        result = dt.build(probe, context=ctx)
        dt.docker("rmi", probe.tag, check=False)
        cached = result.output.count("Using cache")
        if cached < 3:
            raise SystemExit(
                f"code-only rebuild of {spec.name} did not reuse the dependency layers"
            )
        return result.seconds


def cpu_seconds(container: str) -> float | None:
    """CPU time the container used (cgroup v1 or v2): unlike wall time, load does not skew it."""
    cid = dt.inspect(container, "container")["Id"]
    for path, scale in (
        (f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage", 1e-9),
        (f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat", 1e-6),
    ):
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        if path.endswith("cpu.stat"):
            usage = next(ln.split()[1] for ln in text.splitlines() if ln.startswith("usage_usec"))
            return round(int(usage) * scale, 2)
        return round(int(text.strip()) * scale, 2)
    return None


def time_to_healthy(spec: dt.ImageSpec) -> dict[str, float | None]:
    secret = os.urandom(32).hex()
    running = dt.start(spec, secret)
    try:
        started = time.monotonic()
        first_200 = cpu = None
        deadline = started + 60
        while time.monotonic() < deadline:
            try:
                if dt.http_get(f"{running.url}/health", timeout=1)[0] == 200:
                    first_200 = time.monotonic() - started
                    cpu = cpu_seconds(running.name)
                    break
            except OSError:
                pass
            time.sleep(0.1)
        dt.wait_healthy(running.name, timeout=60)
        return {
            "health_200_s": round(first_200, 2) if first_200 is not None else None,
            "healthcheck_s": round(dt.started_at_to_healthy(running.name) or -1, 2),
            "cpu_to_first_200_s": cpu,
        }
    finally:
        dt.remove_container(running.name)


def measure(spec: dt.ImageSpec, skip_cold: bool) -> dict[str, Any]:
    print(f"== {spec.name}: {spec.tag} on {spec.base}", flush=True)
    out: dict[str, Any] = {"tag": spec.tag, "base": spec.base}
    base_info = dt.inspect(spec.base)
    out["base_is_standin"] = (base_info["Config"].get("Labels") or {}).get(
        "io.standin.stand-in"
    ) == "true"
    out["context_with_ignore"] = context_bytes(spec.context, with_ignore=True)
    out["context_without_ignore"] = context_bytes(spec.context, with_ignore=False)
    print(f"   context {mb(out['context_with_ignore'])} (without .dockerignore "
          f"{mb(out['context_without_ignore'])})", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        # a snapshot of the sources, so edits made meanwhile in the working tree do not count
        snapshot = Path(tmp) / spec.name
        shutil.copytree(spec.context, snapshot, ignore=SKIP_COPY, symlinks=True)
        if not skip_cold:
            out["cold_build_s"] = round(dt.build(spec, context=snapshot, no_cache=True).seconds, 1)
            print(f"   cold build {out['cold_build_s']} s", flush=True)
        else:
            dt.build(spec, context=snapshot)
        out["warm_build_s"] = round(dt.build(spec, context=snapshot).seconds, 1)
        out["code_only_build_s"] = round(code_only_rebuild(spec, snapshot), 1)
    print(f"   warm {out['warm_build_s']} s, code-only {out['code_only_build_s']} s", flush=True)
    out["size"] = dt.image_size(spec.tag)
    out["base_size"] = dt.image_size(spec.base)
    out["added"] = out["size"] - out["base_size"]
    out.update(time_to_healthy(spec))
    print(f"   size {mb(out['size'])} (+{mb(out['added'])}), healthy {out['healthcheck_s']} s, "
          f"/health 200 after {out['health_200_s']} s", flush=True)  # fmt: skip
    return out


def render(results: dict[str, dict[str, Any]], host: str) -> str:
    standin = any(r["base_is_standin"] for r in results.values())
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        BEGIN,
        "## Container images",
        "",
        f"Measured {when} on {host} by `make image-report` (scripts/image-report.py), "
        f"commit {dt.git_revision()[:12]}, Docker {docker_version()} (legacy builder).",
        "",
    ]
    if standin:
        lines += [
            "**Stand-in bases.** There is no registry here, so these images were built on the "
            "local stand-in base images from `../shared/ci/base-images.sh` (Debian bookworm "
            "packages, labelled `io.standin.stand-in=true`), not on the official images the "
            "Dockerfiles default to (`python:3.13-slim-bookworm`, `node:20-alpine`). Sizes of "
            "the base layers differ from the official ones; *bytes added above the base* is the "
            "figure that carries over (official size ≈ official base size + added bytes).",
            "",
        ]
    lines += [
        "| | backend | frontend |",
        "|---|---|---|",
    ]

    def row(label: str, fn: Any) -> None:
        cells = [fn(results[n]) if n in results else "—" for n in ("backend", "frontend")]
        lines.append(f"| {label} | {' | '.join(cells)} |")

    row("tag", lambda r: f"`{r['tag']}`")
    row("base image" + (" (stand-in)" if standin else ""), lambda r: f"`{r['base']}`")
    row("image size", lambda r: mb(r["size"]))
    row("base size", lambda r: mb(r["base_size"]))
    row("**added above the base**", lambda r: f"**{mb(r['added'])}**")
    row("cold build (`--no-cache`, base present)", lambda r: secs(r.get("cold_build_s")))
    row("warm rebuild (no change)", lambda r: secs(r["warm_build_s"]))
    row("code-only rebuild (one source file)", lambda r: secs(r["code_only_build_s"]))
    row("build context with .dockerignore", lambda r: mb(r["context_with_ignore"]))
    row("build context without .dockerignore", lambda r: mb(r["context_without_ignore"]))
    row(
        "context shrink",
        lambda r: f"{100 * (1 - r['context_with_ignore'] / r['context_without_ignore']):.1f}%",
    )
    row("start → first 200 from /health", lambda r: secs(r["health_200_s"]))
    row("start → Docker reports healthy", lambda r: secs(r["healthcheck_s"]))
    row("CPU time used until the first 200", lambda r: secs(r.get("cpu_to_first_200_s")))
    lines += [
        "",
        "Targets (issue 5, for official bases): frontend < 200 MB (aim ≤ 180), backend < 300 MB "
        "(aim ≤ 200), cold builds < 3 min (frontend) and < 4 min (backend), code-only rebuild "
        "< 30 s, healthy < 10 s after start, .dockerignore shrinks the context by more than half.",
        "",
        "Notes: the HEALTHCHECK runs every 5 s and its first probe fires one interval after start "
        "(`--start-interval` needs Docker Engine ≥ 25), so *healthy* lags the first 200 by up to "
        "5 s. Wall-clock figures grow with the machine's load (other jobs shared these 2 cores); "
        "the CPU time until the first 200 does not, and bounds the start time on an idle core. "
        "Cold builds download the Python wheels / npm packages through the network; the "
        "context without .dockerignore depends on what is in the working tree (node_modules, "
        ".next, .venv are counted when present). The frontend's code-only rebuild is a full "
        "`next build` (the legacy builder has no cache mounts to keep `.next/cache` between "
        "builds); the backend's reinstalls only the package, a 0.5 MB layer above the "
        "dependency layer. 2-core machine, one run each (`--only` re-measures one image and "
        "keeps the other's figures).",
        END,
    ]
    return "\n".join(lines)


def secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def docker_version() -> str:
    proc = dt.docker("version", "-f", "{{.Server.Version}}", check=False)
    return proc.stdout.strip() or "?"


def write_section(path: Path, section: str) -> None:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "# Benchmarks\n\n"
            f"{API_BEGIN}\n_API benchmarks: `make bench` writes this section._\n{API_END}\n\n"
            f"{BEGIN}\n{END}\n"
        )
    text = path.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-cold", action="store_true", help="no --no-cache builds")
    parser.add_argument("--only", choices=["backend", "frontend"])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument(
        "--json", type=Path, default=ROOT / "artifacts" / "containers" / "image-report.json"
    )
    args = parser.parse_args()
    if not dt.daemon_ok():
        raise SystemExit("the Docker daemon is not reachable")
    specs = [dt.backend_spec(), dt.frontend_spec()]
    for spec in specs:
        if not dt.image_exists(spec.base):
            raise SystemExit(f"base image {spec.base} missing (run ../shared/ci/base-images.sh)")
    results: dict[str, dict[str, Any]] = {}
    if args.only and args.json.exists():
        # re-measuring one image keeps the other's last figures
        results = json.loads(args.json.read_text())
    for spec in specs:
        if args.only in (None, spec.name):
            previous = results.get(spec.name, {})
            results[spec.name] = measure(spec, args.skip_cold)
            if args.skip_cold and "cold_build_s" in previous:
                results[spec.name]["cold_build_s"] = previous["cold_build_s"]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    host = f"{os.cpu_count()} CPUs, {platform.machine()} (load average at the end {load})"
    write_section(args.output, render(results, host))
    print(f"wrote {args.output} (images section) and {args.json}")


if __name__ == "__main__":
    main()
