#!/usr/bin/env python3
"""Soak test: a mixed, steady load against a real `todo-api serve` on PostgreSQL, checking for
errors, lost data and memory growth.

    # the documented 10-minute run (a throwaway PostgreSQL is started for it):
    uv run --project backend --frozen python scripts/soak.py --duration 600
    # against a database you provide:
    uv run --project backend --frozen python scripts/soak.py --database-url postgresql://...

`make test` runs a 60-second variant (tests/reliability/test_soak.py), with the same bounds.

Load: USERS virtual users, each a closed loop (next request when the previous answer arrives):
list/search tasks, create, read, update, toggle, delete, chat with the offline `local` agent
(when the build has chat), and the health probes. Every user keeps a model of its own tasks;
at the end the server's tasks must equal the model exactly (nothing lost, nothing extra).
Rate limits are raised for the run: this measures stability, not the limiter.

Pass/fail: zero errors (any unexpected status or transport error), data equal to the model, and
server RSS growth after warm-up below --rss-bound-mb (default 24 MB). Prints a JSON summary;
exits 1 on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psutil

from testsupport.pg import PostgresServer, find_pg_bin
from testsupport.server import BackendServer

DEFAULT_RSS_BOUND_MB = 24.0
WARMUP_FRACTION = 0.25  # RSS is compared from the end of warm-up (caches, pool, JIT-ish growth)
MIX = (
    ("list", 30),
    ("search", 8),
    ("create", 18),
    ("get", 10),
    ("patch", 10),
    ("toggle", 10),
    ("delete", 6),
    ("chat", 4),
    ("probe", 4),
)


@dataclass
class Result:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    by_op: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    rss_samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)
    data_mismatches: list[str] = field(default_factory=list)


class VirtualUser:
    def __init__(self, client: httpx.AsyncClient, token: str, rng: random.Random, chat: bool):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        self.rng = rng
        self.chat = chat
        self.tasks: dict[int, dict[str, Any]] = {}  # the client's model: id -> {title, completed}
        ops = [(op, w) for op, w in MIX if chat or op != "chat"]
        self.ops = [op for op, _ in ops]
        self.weights = [w for _, w in ops]

    async def step(self, res: Result) -> None:
        op = self.rng.choices(self.ops, self.weights)[0]
        if op in {"get", "patch", "toggle", "delete"} and not self.tasks:
            op = "create"
        tid = self.rng.choice(list(self.tasks)) if self.tasks else None
        c, h = self.client, self.headers
        start = time.perf_counter()
        try:
            if op == "list":
                r = await c.get(
                    "/api/tasks",
                    params={
                        "status": self.rng.choice(["all", "pending", "completed"]),
                        "sort": self.rng.choice(["created", "due", "priority", "title"]),
                    },
                    headers=h,
                )
                ok = r.status_code == 200
            elif op == "search":
                r = await c.get(
                    "/api/tasks", params={"q": self.rng.choice(["soak", "milk", "7"])}, headers=h
                )
                ok = r.status_code == 200
            elif op == "create":
                title = f"soak {uuid.uuid4().hex[:8]}"
                r = await c.post(
                    "/api/tasks",
                    json={
                        "title": title,
                        "priority": self.rng.choice(["low", "medium", "high"]),
                        "tags": ["soak"],
                        "description": "x" * self.rng.randint(0, 300),
                    },
                    headers=h,
                )
                ok = r.status_code == 201
                if ok:
                    self.tasks[r.json()["id"]] = {"title": title, "completed": False}
            elif op == "get":
                r = await c.get(f"/api/tasks/{tid}", headers=h)
                ok = r.status_code == 200 and r.json()["title"] == self.tasks[tid]["title"]
            elif op == "patch":
                title = f"soak renamed {uuid.uuid4().hex[:6]}"
                r = await c.patch(f"/api/tasks/{tid}", json={"title": title}, headers=h)
                ok = r.status_code == 200
                if ok:
                    self.tasks[tid]["title"] = title
            elif op == "toggle":
                r = await c.post(f"/api/tasks/{tid}/complete", headers=h)
                ok = r.status_code == 200
                if ok:
                    self.tasks[tid]["completed"] = r.json()["completed"]
            elif op == "delete":
                r = await c.delete(f"/api/tasks/{tid}", headers=h)
                ok = r.status_code == 204
                if ok:
                    del self.tasks[tid]
            elif op == "chat":
                # Read-only chat turns, so the client model stays exact.
                r = await c.post(
                    "/api/chat",
                    json={
                        "message": self.rng.choice(
                            [
                                "what's on my list?",
                                "how many tasks do I have?",
                                "show my pending tasks",
                            ]
                        )
                    },
                    headers=h,
                )
                ok = r.status_code == 200 and bool(r.json().get("reply"))
            else:
                r = await c.get(self.rng.choice(["/health", "/ready"]))
                ok = r.status_code == 200
            detail = f"{op}: HTTP {r.status_code} {r.text[:200]}"
        except httpx.HTTPError as exc:
            ok, detail = False, f"{op}: {type(exc).__name__} {exc}"
        res.latencies.append(time.perf_counter() - start)
        res.requests += 1
        res.by_op[op] = res.by_op.get(op, 0) + 1
        if not ok:
            res.errors.append(detail)

    async def verify(self, res: Result) -> None:
        stored: dict[int, dict[str, Any]] = {}
        offset = 0
        for _ in range(10_000):
            page = (
                await self.client.get(
                    "/api/tasks", params={"limit": 200, "offset": offset}, headers=self.headers
                )
            ).json()
            for t in page["items"]:
                stored[t["id"]] = {"title": t["title"], "completed": t["completed"]}
            offset += 200
            if offset >= page["total"]:
                break
        if stored != self.tasks:
            missing = set(self.tasks) - set(stored)
            extra = set(stored) - set(self.tasks)
            changed = [i for i in set(stored) & set(self.tasks) if stored[i] != self.tasks[i]]
            res.data_mismatches.append(
                f"missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}, changed {changed[:5]}"
            )


async def _load(server: BackendServer, duration: float, users: int, seed: int, res: Result) -> None:
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=users + 2, max_keepalive_connections=users + 2)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
        chat = "/api/chat" in (await client.get("/openapi.json")).json()["paths"]
        vus = []
        for _ in range(users):
            r = await client.post(
                "/api/auth/signup",
                json={
                    "email": f"soak-{uuid.uuid4().hex[:10]}@example.com",
                    "password": "soak-pass-123",
                },
            )
            r.raise_for_status()
            vus.append(
                VirtualUser(client, r.json()["access_token"], random.Random(rng.random()), chat)
            )
        proc = psutil.Process(server.pid)
        started = time.monotonic()
        deadline = started + duration

        async def run(vu: VirtualUser) -> None:
            for _ in range(10_000_000):  # bounded; the deadline ends it
                if time.monotonic() >= deadline:
                    return
                await vu.step(res)

        async def sample() -> None:
            for _ in range(10_000_000):
                res.rss_samples.append((time.monotonic() - started, _rss_mb(proc)))
                if time.monotonic() >= deadline:
                    return
                await asyncio.sleep(1.0)

        await asyncio.gather(sample(), *(run(vu) for vu in vus))
        for vu in vus:
            await vu.verify(res)


def _rss_mb(proc: psutil.Process) -> float:
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):  # --workers > 1
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def summarize(res: Result, duration: float, rss_bound_mb: float) -> dict[str, Any]:
    after_warmup = [mb for t, mb in res.rss_samples if t >= duration * WARMUP_FRACTION]
    baseline = after_warmup[0] if after_warmup else 0.0
    final = res.rss_samples[-1][1] if res.rss_samples else 0.0
    peak = max((mb for _, mb in res.rss_samples), default=0.0)
    growth = max(after_warmup, default=0.0) - baseline
    lat = sorted(res.latencies) or [0.0]
    summary = {
        "duration_s": duration,
        "requests": res.requests,
        "requests_per_s": round(res.requests / duration, 1) if duration else 0,
        "errors": len(res.errors),
        "first_errors": res.errors[:5],
        "by_operation": dict(sorted(res.by_op.items())),
        "latency_ms": {
            "p50": round(statistics.median(lat) * 1000, 1),
            "p95": round(lat[int(len(lat) * 0.95) - 1] * 1000, 1) if len(lat) > 1 else 0,
            "p99": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1) if len(lat) > 1 else 0,
            "max": round(lat[-1] * 1000, 1),
        },
        "rss_mb": {
            "start": round(res.rss_samples[0][1], 1) if res.rss_samples else 0,
            "after_warmup": round(baseline, 1),
            "end": round(final, 1),
            "peak": round(peak, 1),
            "growth_after_warmup": round(growth, 1),
            "bound": rss_bound_mb,
        },
        "data_mismatches": res.data_mismatches,
    }
    summary["passed"] = (
        not res.errors and not res.data_mismatches and growth < rss_bound_mb and res.requests > 0
    )
    return summary


def run_soak(
    database_url: str,
    duration: float,
    users: int = 8,
    seed: int = 1,
    rss_bound_mb: float = DEFAULT_RSS_BOUND_MB,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    env = {
        "DATABASE_URL": database_url,
        "AUTH_SECRET": "soak-" + uuid.uuid4().hex * 2,
        "LOGIN_RATE_LIMIT": "100000/minute",
        "CHAT_RATE_LIMIT": "100000/minute",
        "LLM_PROVIDER": "local",
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    res = Result()
    with BackendServer(env, workers=workers) as server:
        asyncio.run(_load(server, duration, users, seed, res))
        summary = summarize(res, duration, rss_bound_mb)
        summary["server_alive"] = server.is_running()
        summary["passed"] = summary["passed"] and summary["server_alive"]
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--users", type=int, default=8, help="virtual users (default 8)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rss-bound-mb", type=float, default=DEFAULT_RSS_BOUND_MB)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a throwaway server)")
    parser.add_argument("--json", type=Path, help="also write the summary to this file")
    args = parser.parse_args(argv)
    if args.database_url:
        summary = run_soak(
            args.database_url,
            args.duration,
            args.users,
            args.seed,
            args.rss_bound_mb,
            workers=args.workers,
        )
    else:
        bin_dir = find_pg_bin()
        if bin_dir is None:
            parser.error("PostgreSQL (initdb/pg_ctl) is not installed; pass --database-url")
        with PostgresServer(bin_dir) as pg:
            url = pg.create_database("soak")
            summary = run_soak(
                url, args.duration, args.users, args.seed, args.rss_bound_mb, workers=args.workers
            )
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
