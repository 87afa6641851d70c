"""CPU per request, ours vs. the reference, measured in-process (no network, no load generator).

`uv run --project backend --frozen python bench/cpu.py [--db sqlite] [--scenario list] [-n 2000]`

Calls each ASGI app directly, one request at a time, and reports the app's CPU microseconds
per request (time.process_time, so the database server's CPU is not counted) and wall time.
Steadier than wrk figures on a busy shared machine, and with --profile it prints where our
app's CPU goes (pyinstrument, self time), which is what the fixes in bench/findings.md target.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench

SYS_SHARE: list[tuple[int, float]] = []
ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def call(app: ASGI, method: str, path: str, token: str, body: bytes = b"") -> int:
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8001),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def requests_for(
    scenario: str, tokens: dict[int, str], ids: dict[int, list[int]], n: int
) -> list[tuple[str, str, str, bytes]]:
    users = sorted(tokens)
    out = []
    for i in range(n):
        uid = users[i % len(users)]
        tok = tokens[uid]
        if scenario == "health":
            out.append(("GET", "/health", tok, b""))
        elif scenario == "list":
            out.append(("GET", "/api/tasks", tok, b""))
        elif scenario == "create":
            out.append(
                (
                    "POST",
                    "/api/tasks",
                    tok,
                    b'{"title":"Bench task","description":"x","priority":"high",'
                    b'"tags":["bench","load"]}',
                )
            )
        elif scenario == "complete":
            done = b"true" if i % 2 else b"false"
            out.append(
                (
                    "PATCH",
                    f"/api/tasks/{ids[uid][i % len(ids[uid])]}",
                    tok,
                    b'{"completed":' + done + b"}",
                )
            )
        elif scenario in ("chat_add", "chat_left"):
            message = f"add buy oat milk {i}" if scenario == "chat_add" else "what's left?"
            out.append(("POST", "/api/chat", tok, orjson.dumps({"message": message})))
        else:
            raise SystemExit(f"unsupported scenario {scenario}")
    return out


async def lifespan(app: ASGI) -> Callable[[], Awaitable[None]]:
    started, stopped = asyncio.Event(), asyncio.Event()
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    await queue.put({"type": "lifespan.startup"})

    async def receive() -> dict[str, str]:
        return await queue.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()
        if message["type"].startswith("lifespan.shutdown"):
            stopped.set()

    task = asyncio.ensure_future(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    )
    await started.wait()

    async def stop() -> None:
        await queue.put({"type": "lifespan.shutdown"})
        await stopped.wait()
        await task

    return stop


async def measure(
    app: ASGI, reqs: list[tuple[str, str, str, bytes]], profile: bool
) -> tuple[float, float]:
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    ru0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for r in reqs:
        status = await call(app, *r)
        assert status < 400, status
    ru1, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall0
    user, system = ru1.ru_utime - ru0.ru_utime, ru1.ru_stime - ru0.ru_stime
    cpu = user + system
    SYS_SHARE.append((id(app), system / cpu if cpu else 0.0))
    if profiler is not None:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumtime").print_stats(60)
        stats.print_callers("__build_class__|_compile|_create_fn|release")
    return cpu / len(reqs) * 1e6, wall / len(reqs) * 1e6


async def amain(args: argparse.Namespace, url: str, secret: str) -> None:
    from todo_api.core.config import load_settings
    from todo_api.main import create_app

    ids = await bench.seed(url, args.users, args.tasks)
    tokens = {uid: bench_token(uid, secret) for uid in ids}
    reqs = requests_for(args.scenario, tokens, ids, args.n)
    os.environ.update(
        REF_DATABASE_URL=url,
        AUTH_SECRET=secret,
        REF_POOL_SIZE="20" if url.startswith("postgres") else "15",
    )
    import logging

    import reference_app

    ours = create_app(
        load_settings(
            database_url=url,
            app_env="production",
            auth_secret=secret,
            log_level=args.log_level,
            chat_rate_limit="1000000/minute",
        )
    )
    # Access logs go to a file in production-like runs; here, to /dev/null.
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: ASYNC230
    ref = reference_app.create_app()
    stops = [await lifespan(ours), await lifespan(ref)]
    try:
        for app in (ours, ref):  # warm caches (statement cache, pool)
            for r in reqs[:200]:
                assert await call(app, *r) < 400
        if args.profile:
            await measure(ours, reqs, profile=True)
        # Alternate small batches so both apps see the same machine: ratios stay meaningful
        # on a busy shared host, where absolute figures drift.
        samples: dict[str, list[tuple[float, float]]] = {"ours": [], "ref": []}
        batch = max(1, len(reqs) // args.rounds)
        for i in range(args.rounds):
            part = reqs[i * batch : (i + 1) * batch]
            for name, app in (
                (("ours", ours), ("ref", ref)) if i % 2 == 0 else (("ref", ref), ("ours", ours))
            ):
                samples[name].append(await measure(app, part, profile=False))
        med = {
            k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v))
            for k, v in samples.items()
        }
        sys_share = {
            k: statistics.median(x for i, x in SYS_SHARE if i == id(a))
            for k, a in (("ours", ours), ("ref", ref))
        }
        print(
            f"{args.scenario:9} kernel share of CPU: ours {sys_share['ours']:.0%},"
            f" ref {sys_share['ref']:.0%}"
        )
        (oc, ow), (rc, rw) = med["ours"], med["ref"]
        print(
            f"{args.scenario:9} CPU us/request ours {oc:6.0f}  ref {rc:6.0f}  ratio ref/ours"
            f" {rc / oc:.2f} | wall us ours {ow:6.0f} ref {rw:6.0f} ratio {rw / ow:.2f}"
        )
    finally:
        for stop in stops:
            await stop()


def bench_token(uid: int, secret: str) -> str:
    from todo_api.core.security import create_access_token

    return create_access_token(uid, secret, 60)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    p.add_argument(
        "--scenario",
        default="list",
        choices=["health", "list", "create", "complete", "chat_add", "chat_left"],
    )
    p.add_argument("-n", type=int, default=2000)
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--tasks", type=int, default=50)
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--rounds", type=int, default=10, help="alternating batches per app")
    p.add_argument("--profile", action="store_true")
    args = p.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="todo-cpu-"))
    try:
        pg_bin = bench.find_pg_bin() if args.db == "postgresql" else None
        with bench.migrated_database(args.db, pg_bin, workdir) as (url, secret, _env):
            asyncio.run(amain(args, url, secret))
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
