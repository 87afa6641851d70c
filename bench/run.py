"""`make bench`: the API against the minimal reference app, on PostgreSQL and SQLite.

For each database it starts a throwaway server (PostgreSQL: testsupport.pg.PostgresServer;
SQLite: a file in a temp dir), runs `todo-api migrate`, seeds USERS x TASKS rows with bulk SQL,
starts our API the way production runs it (`todo-api serve`, APP_ENV=production, a generated
AUTH_SECRET, MIGRATE_ON_START=false) and the reference (bench/reference_app.py under uvicorn with
the same worker count), checks both return the same JSON, then drives each scenario with
Debian's `wrk` (C, one thread, fixed concurrency) and the Lua script bench/wrk.lua, ours and
the reference back to back. It prints the table and, with --write-docs, rewrites the API block
of docs/BENCHMARKS.md.

Exit status: 1 when the harness or an app is broken (a server died, the JSON checks failed, a
scenario completed no request), else 0. Target misses, request errors included, are reported in
the table, not failed: timings on shared machines drift.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from testsupport.pg import PostgresServer, find_pg_bin  # noqa: E402
from testsupport.tools import IN_CI, free_port  # noqa: E402

DOCS = ROOT / "docs" / "BENCHMARKS.md"
FINDINGS = BENCH / "findings.md"
BEGIN, END = "<!-- api:begin -->", "<!-- api:end -->"
IMAGES_BEGIN, IMAGES_END = "<!-- images:begin -->", "<!-- images:end -->"

# scenario -> (title, target ratio ours/reference or None, what the reference does)
SCENARIOS: dict[str, tuple[str, float | None, str]] = {
    "health": ("GET /health", 0.9, "pre-encoded constant JSON (framework ceiling)"),
    "list": (
        "GET /api/tasks (50 tasks)",
        0.6,
        "1 aggregate SELECT (counts, ETag) + 1 SELECT … count(*) OVER ()",
    ),
    "poll_304": (
        "GET /api/tasks, If-None-Match: 304",
        0.6,
        "1 aggregate SELECT (counts, ETag), 304",
    ),
    "create": ("POST /api/tasks", 0.6, "1 INSERT … RETURNING"),
    "complete": ("PATCH /api/tasks/{id} completed", 0.6, "1 UPDATE … RETURNING"),
    "chat_add": ('POST /api/chat "add …"', 0.4, "1 INSERT (minimal insert)"),
    "chat_left": ('POST /api/chat "what\'s left?"', 0.4, "1 INSERT (minimal insert)"),
    "mixed": ("mixed 80 % list / 10 % create / 10 % complete", 0.6, "the above"),
}
CHAT = ("chat_add", "chat_left")
WRITES = ("create", "chat_add")  # every request adds a task (mixed: one in ten)
LIST_P99_TARGET_MS = 100.0


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- machine and versions -------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = psutil.virtual_memory().total / 2**30
    return {
        "load_start": load_average(),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_gib:.1f} GiB",
        "kernel": platform.release(),
        "os": _os_name(),
    }


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages: how busy the machine was around the run."""
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def versions(wrk: str, pg_bin: str | None) -> dict[str, str]:
    import sqlite3
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for pkg in (
        "fastapi",
        "starlette",
        "uvicorn",
        "uvloop",
        "httptools",
        "pydantic",
        "sqlalchemy",
        "asyncpg",
        "aiosqlite",
        "orjson",
        "pyjwt",
    ):
        try:
            out[pkg] = version(pkg)
        except Exception:
            out[pkg] = "?"
    out["sqlite"] = sqlite3.sqlite_version
    wrk_v = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    out["wrk"] = (wrk_v.stdout + wrk_v.stderr).split("Copyright")[0].strip().removeprefix("wrk ")
    if pg_bin:
        pg_v = subprocess.run([f"{pg_bin}/postgres", "--version"], capture_output=True, text=True)
        # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> "15.18"
        found = re.search(r"\(PostgreSQL\) (\S+)", pg_v.stdout)
        out["postgresql"] = found.group(1) if found else pg_v.stdout.strip()
    git = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    out["commit"] = git.stdout.strip() or "?"
    return out


# --- data set -------------------------------------------------------------------------------

WORDS = (
    "buy milk",
    "call mom",
    "renew passport",
    "book dentist",
    "pay rent",
    "fix the bike",
    "write report",
    "water plants",
    "plan trip",
    "clean garage",
    "read chapter 3",
    "reply to Sam",
    "file taxes",
    "backup laptop",
    "order printer ink",
    "walk the dog",
)
TAGS = (["home"], ["work"], ["errand", "urgent"], [], ["health"], ["money", "monthly"])


async def seed(database_url: str, users: int, tasks_per_user: int) -> dict[int, list[int]]:
    """Bulk-insert users (one shared argon2 hash, computed once) and their tasks."""
    from argon2 import PasswordHasher
    from sqlalchemy import insert, select

    from todo_api.core.config import load_settings
    from todo_api.db import create_engine
    from todo_api.models import Task, User

    engine = create_engine(load_settings(database_url=database_url))
    password_hash = PasswordHasher().hash("bench-password-1")
    now = datetime.now(UTC)
    rng = random.Random(42)
    user_rows = [
        {
            "id": u,
            "email": f"bench{u}@example.com",
            "name": f"Bench User {u}",
            "password_hash": password_hash,
            "created_at": now - timedelta(days=30),
        }
        for u in range(1, users + 1)
    ]
    task_rows = []
    for u in range(1, users + 1):
        for k in range(tasks_per_user):
            created = now - timedelta(days=20, minutes=k * 37, microseconds=rng.randrange(10**6))
            task_rows.append(
                {
                    "user_id": u,
                    "title": f"{WORDS[(u + k) % len(WORDS)]} #{k}",
                    "description": "seeded by make bench; a line of text like a real note"
                    if k % 3
                    else "",
                    "completed": k % 4 == 0,
                    "priority": ("low", "medium", "high")[k % 3],
                    "due_date": (date.today() + timedelta(days=k % 15)) if k % 2 else None,
                    "tags": TAGS[k % len(TAGS)],
                    "created_at": created,
                    "updated_at": created,
                }
            )
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(User), user_rows)
            for i in range(0, len(task_rows), 5000):
                await conn.execute(insert(Task), task_rows[i : i + 5000])
            if engine.dialect.name == "postgresql":
                await conn.exec_driver_sql(
                    "SELECT setval('users_id_seq', (SELECT max(id) FROM users))"
                )
                await conn.exec_driver_sql("ANALYZE")
        async with engine.connect() as conn:
            ids: dict[int, list[int]] = {}
            for uid, tid in (await conn.execute(select(Task.user_id, Task.id))).all():
                ids.setdefault(uid, []).append(tid)
    finally:
        await engine.dispose()
    return ids


def write_users_file(path: Path, ids: dict[int, list[int]], secret: str) -> dict[int, str]:
    from todo_api.core.security import create_access_token

    tokens = {uid: create_access_token(uid, secret, 24 * 60) for uid in sorted(ids)}
    with path.open("w") as f:
        for uid, token in tokens.items():
            f.write(" ".join([token, *map(str, ids[uid])]) + "\n")
    return tokens


# --- servers --------------------------------------------------------------------------------

APP_ENV_NAMES = (
    "APP_ENV",
    "DATABASE_URL",
    "DB_POOL_SIZE",
    "DB_MAX_OVERFLOW",
    "DB_TIMEOUT_SECONDS",
    "MIGRATE_ON_START",
    "AUTH_SECRET",
    "ACCESS_TOKEN_EXPIRE_MINUTES",
    "LOGIN_RATE_LIMIT",
    "CHAT_RATE_LIMIT",
    "CORS_ORIGINS",
    "FRONTEND_URL",
    "LOG_LEVEL",
    "MAX_BODY_BYTES",
    "LLM_PROVIDER",
    "LLM_MODEL",
    "LLM_BASE_URL",
    "GROQ_API_KEY",
    "OPENAI_API_KEY",
    "LLM_API_KEY",
    "WEB_CONCURRENCY",
    "HOST",
    "PORT",
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in APP_ENV_NAMES}
    env.update(extra)
    return env


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def processes(self) -> list[psutil.Process]:
        try:
            parent = psutil.Process(self.proc.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.processes():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def wait_healthy(self, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not healthy after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def start_server(
    name: str, cmd: list[str], env: dict[str, str], port: int, workdir: Path
) -> Server:
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, proc, log_path)
    try:
        server.wait_healthy()
    except BaseException:  # also SystemExit from SIGTERM and KeyboardInterrupt
        server.stop()
        raise
    return server


# --- wrk ------------------------------------------------------------------------------------


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    app_cpu: float  # cores the app's processes used during the run
    client_cpu: float  # cores wrk used
    machine_cpu: float = 0.0  # cores busy machine-wide: app, wrk, database and anything else

    @property
    def cpu_ms(self) -> float:
        """The app's CPU time per request: steadier than req/s when other work shares the CPU."""
        return self.app_cpu / self.rps * 1000 if self.rps else 0.0


@dataclass
class Result:
    scenario: str
    ours: list[Run] = field(default_factory=list)
    ref: list[Run] = field(default_factory=list)

    @staticmethod
    def summary(runs: list[Run]) -> Run:
        return Run(
            rps=statistics.median(r.rps for r in runs),
            p50_ms=statistics.median(r.p50_ms for r in runs),
            p99_ms=statistics.median(r.p99_ms for r in runs),
            errors=sum(r.errors for r in runs),
            requests=sum(r.requests for r in runs),
            app_cpu=statistics.median(r.app_cpu for r in runs),
            client_cpu=statistics.median(r.client_cpu for r in runs),
            machine_cpu=statistics.median(r.machine_cpu for r in runs),
        )

    def round_ratios(self) -> list[float]:
        """ours / reference req/s per round (the two run back to back within a round)."""
        return [o.rps / r.rps if r.rps else 0.0 for o, r in zip(self.ours, self.ref, strict=True)]

    def round_cpu_ratios(self) -> list[float]:
        return [
            r.cpu_ms / o.cpu_ms if o.cpu_ms else 0.0
            for o, r in zip(self.ours, self.ref, strict=True)
        ]

    @property
    def ratio(self) -> float:
        """The median of the rounds' ratios: each round pairs runs made back to back."""
        return statistics.median(self.round_ratios())

    @property
    def cpu_ratio(self) -> float:
        """Reference CPU per request / ours, median of the rounds: the throughput ratio if both
        had the CPU to themselves."""
        return statistics.median(self.round_cpu_ratios())


def run_wrk(
    wrk: str,
    server: Server,
    scenario: str,
    users_file: Path,
    seconds: int,
    connections: int,
    threads: int,
    seed: int,
) -> Run:
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(BENCH / "wrk.lua"),
        server.url,
        "--",
        scenario,
        str(users_file),
        str(seed),
    ]
    cpu_before = server.cpu_seconds()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    psutil.cpu_percent()  # starts the machine-wide measurement
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    wall = time.monotonic() - started
    machine_cpu = psutil.cpu_percent() / 100 * (os.cpu_count() or 1)
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    app_cpu = (server.cpu_seconds() - cpu_before) / wall
    client_cpu = (
        usage_after.ru_utime + usage_after.ru_stime - usage_before.ru_utime - usage_before.ru_stime
    ) / wall
    match = re.search(r"^BENCH_JSON (\{.*\})$", proc.stdout, re.MULTILINE)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    data = json.loads(match.group(1))
    lat = data["latency_us"]
    return Run(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=lat["p50"] / 1000,
        p99_ms=lat["p99"] / 1000,
        errors=sum(data["errors"].values()),
        requests=data["requests"],
        app_cpu=app_cpu,
        client_cpu=client_cpu,
        machine_cpu=machine_cpu,
    )


# --- same JSON check ------------------------------------------------------------------------


def check_same_json(
    ours: Server, ref: Server, tokens: dict[int, str], ids: dict[int, list[int]], chat: bool
) -> list[str]:
    """Both apps must do the same job: same list page, same created/updated task fields."""
    problems: list[str] = []
    uid = min(tokens)
    headers = {"Authorization": f"Bearer {tokens[uid]}"}
    volatile = {"id", "created_at", "updated_at"}
    with httpx.Client(timeout=10.0, headers=headers) as client:
        a = client.get(f"{ours.url}/api/tasks").json()
        b = client.get(f"{ref.url}/api/tasks").json()
        if a != b:
            problems.append(f"list differs:\n ours {str(a)[:400]}\n ref  {str(b)[:400]}")
        body = {
            "title": "Check task",
            "description": "same job",
            "priority": "high",
            "tags": ["bench", "load"],
        }
        a = client.post(f"{ours.url}/api/tasks", json=body)
        b = client.post(f"{ref.url}/api/tasks", json=body)
        if (a.status_code, b.status_code) != (201, 201) or _strip(a.json(), volatile) != _strip(
            b.json(), volatile
        ):
            problems.append(
                f"create differs: ours {a.status_code} {a.text[:300]} / "
                f"ref {b.status_code} {b.text[:300]}"
            )
        task_id = ids[uid][0]
        a = client.patch(f"{ours.url}/api/tasks/{task_id}", json={"completed": True})
        b = client.patch(f"{ref.url}/api/tasks/{task_id}", json={"completed": True})
        if (a.status_code, b.status_code) != (200, 200) or _strip(a.json(), {"updated_at"}) != (
            _strip(b.json(), {"updated_at"})
        ):
            problems.append(f"complete differs: ours {a.text[:300]} / ref {b.text[:300]}")
        other = ids[max(ids)][0]  # another user's task: 404 from both
        a = client.patch(f"{ours.url}/api/tasks/{other}", json={"completed": True})
        b = client.patch(f"{ref.url}/api/tasks/{other}", json={"completed": True})
        if (a.status_code, b.status_code) != (404, 404):
            problems.append(f"other user's task: ours {a.status_code}, ref {b.status_code}")
        if chat:
            for message in ("add buy oat milk 0", "what's left?"):
                a = client.post(f"{ours.url}/api/chat", json={"message": message})
                if a.status_code != 200 or not {"conversation_id", "reply", "actions"} <= set(
                    a.json()
                ):
                    problems.append(f"chat {message!r}: ours {a.status_code} {a.text[:300]}")
            b = client.post(f"{ref.url}/api/chat", json={"message": "add buy oat milk 0"})
            if b.status_code != 200:
                problems.append(f"chat: ref {b.status_code} {b.text[:300]}")
    return problems


def _strip(obj: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in keys}


def has_chat(server: Server, token: str) -> bool:
    r = httpx.post(
        f"{server.url}/api/chat",
        json={"message": "what's left?"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
    )
    return r.status_code not in (404, 405)


# --- one database ---------------------------------------------------------------------------


@dataclass
class DbReport:
    name: str
    results: list[Result]
    problems: list[str]
    seed_seconds: float
    users: int
    tasks_per_user: int
    chat_note: str = ""


@contextmanager
def migrated_database(
    kind: str, pg_bin: str | None, workdir: Path
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """A throwaway database of `kind` ("postgresql": a testsupport.pg server, "sqlite": a file in
    `workdir`) with the schema migrated. Yields (url, auth secret, the API's production env)."""
    pg: PostgresServer | None = None
    try:
        if kind == "postgresql":
            assert pg_bin is not None
            pg = PostgresServer(pg_bin)
            pg.init()
            pg.start()
            database_url = pg.create_database("bench")
        else:
            database_url = f"sqlite:///{workdir / 'bench.db'}"
        secret = secrets.token_hex(32)
        env = clean_env(
            APP_ENV="production",
            AUTH_SECRET=secret,
            DATABASE_URL=database_url,
            MIGRATE_ON_START="false",
        )
        log(f"{kind}: todo-api migrate")
        subprocess.run(
            [shutil.which("todo-api") or "todo-api", "migrate"],
            env=env,
            cwd=workdir,
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield database_url, secret, env
    finally:
        if pg is not None:
            pg.cleanup()


def bench_database(
    kind: str, args: argparse.Namespace, wrk: str, pg_bin: str | None, workdir: Path
) -> DbReport:
    servers: list[Server] = []
    with migrated_database(kind, pg_bin, workdir) as (database_url, secret, base_env):
        try:
            return _bench_servers(kind, args, wrk, workdir, database_url, secret, base_env, servers)
        finally:
            for server in servers:
                server.stop()


def _bench_servers(
    kind: str,
    args: argparse.Namespace,
    wrk: str,
    workdir: Path,
    database_url: str,
    secret: str,
    base_env: dict[str, str],
    servers: list[Server],
) -> DbReport:
    started = time.monotonic()
    ids = asyncio.run(seed(database_url, args.users, args.tasks))
    seed_seconds = time.monotonic() - started
    log(f"{kind}: seeded {args.users} users x {args.tasks} tasks in {seed_seconds:.1f} s")
    users_file = workdir / f"users-{kind}.txt"
    tokens = write_users_file(users_file, ids, secret)

    ours_port, ref_port = free_port(), free_port()
    ours = start_server(
        f"ours-{kind}",
        [
            shutil.which("todo-api") or "todo-api",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(ours_port),
            "--workers",
            str(args.workers),
        ],
        # The chat limit (30/minute per user by default) would turn the chat runs into 429s.
        clean_env(
            **base_env,
            CHAT_RATE_LIMIT="1000000/minute",
            LLM_PROVIDER="local",
            **dict(kv.split("=", 1) for kv in args.ours_env),
        ),
        ours_port,
        workdir,
    )
    servers.append(ours)
    ref = start_server(
        f"ref-{kind}",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "reference_app:create_app",
            "--factory",
            "--app-dir",
            str(BENCH),
            "--host",
            "127.0.0.1",
            "--port",
            str(ref_port),
            "--workers",
            str(args.workers),
            "--no-access-log",
            "--log-level",
            "warning",
            "--timeout-keep-alive",
            "5",
        ],
        clean_env(
            REF_DATABASE_URL=database_url,
            AUTH_SECRET=secret,
            REF_POOL_SIZE="20" if kind == "postgresql" else "15",
        ),
        ref_port,
        workdir,
    )
    servers.append(ref)

    chat = has_chat(ours, tokens[min(tokens)])
    chat_note = "" if chat else "POST /api/chat is not in this build yet: chat rows skipped"
    problems = [f"{kind}: {p}" for p in check_same_json(ours, ref, tokens, ids, chat)]
    for p in problems:
        log(f"JSON CHECK FAILED {p}")

    results = []
    rows_added = 0  # measured writes only: warm-up runs add rows too
    for scenario in SCENARIOS:
        if scenario in CHAT and not chat:
            continue
        result = Result(scenario)
        for rnd in range(args.rounds):
            order = [(ours, result.ours), (ref, result.ref)]
            if rnd % 2:
                order.reverse()
            for server, runs in order:
                if args.warmup:
                    run_wrk(
                        wrk,
                        server,
                        scenario,
                        users_file,
                        args.warmup,
                        args.connections,
                        args.threads,
                        seed=1000 + rnd,
                    )
                runs.append(
                    run_wrk(
                        wrk,
                        server,
                        scenario,
                        users_file,
                        args.duration,
                        args.connections,
                        args.threads,
                        seed=rnd + 1,
                    )
                )
            o_run, r_run = result.ours[-1], result.ref[-1]
            added = ""
            if scenario in WRITES:
                rows_added += sum(run.requests for run in (o_run, r_run))
                added = f", {rows_added} tasks added so far (seeded {args.users * args.tasks})"
            log(
                f"{kind:10} {scenario:9} round {rnd + 1}: ours {o_run.rps:7.0f} req/s"
                f" {o_run.cpu_ms:.2f} CPU ms/req | ref {r_run.rps:7.0f} req/s"
                f" {r_run.cpu_ms:.2f} CPU ms/req | ratio {result.round_ratios()[-1]:.2f}"
                f" | machine busy {o_run.machine_cpu:.2f} / {r_run.machine_cpu:.2f} cores{added}"
            )
        o, r = Result.summary(result.ours), Result.summary(result.ref)
        log(
            f"{kind:10} {scenario:9} ours {o.rps:7.0f} req/s p50 {o.p50_ms:6.1f} "
            f"p99 {o.p99_ms:6.1f} err {o.errors} | ref {r.rps:7.0f} req/s p50 {r.p50_ms:6.1f}"
            f" p99 {r.p99_ms:6.1f} err {r.errors} | ratio {result.ratio:.2f}"
            f" | CPU ms/req ours {o.cpu_ms:.2f} ref {r.cpu_ms:.2f} ratio {result.cpu_ratio:.2f}"
        )
        results.append(result)
    for server in servers:
        if server.proc.poll() is not None:
            problems.append(f"{kind}: {server.name} died during the run:\n{server.tail()}")
    return DbReport(kind, results, problems, seed_seconds, args.users, args.tasks, chat_note)


# --- report ---------------------------------------------------------------------------------


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """The median, and with more than one round the min to max across rounds: 0.45 (0.41-0.48)."""
    median = fmt.format(statistics.median(values))
    if len(values) < 2:
        return median
    return f"{median} ({fmt.format(min(values))}\u2013{fmt.format(max(values))})"


def verdict(ok: bool) -> str:
    return "✅" if ok else "❌"


def render(
    reports: list[DbReport],
    args: argparse.Namespace,
    info: dict[str, str],
    vers: dict[str, str],
    elapsed: float,
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    options = _command_options()
    command = "uv run --project backend --frozen python bench/run.py " + " ".join(options)
    by = "make bench" if options == ["--write-docs"] else command
    lines = [
        "## API: our backend vs. the minimal reference app",
        "",
        f"Measured {when} by `{by}` (commit {vers.get('commit')}, {elapsed:.0f} s in all).",
        "",
        f"Reproduce: `{command}`. `make bench` is the same with one round (under 5 minutes);"
        " add `--help` for the knobs; `make bench-quick` is the few-second smoke run CI uses,"
        " which does not write this file.",
        "",
        f"- Machine: {info['nproc']} vCPU ({info['cpu']}), {info['memory']} RAM, {info['os']},"
        f" kernel {info['kernel']}. Shared: the server, PostgreSQL and the load generator all run"
        " on it, so compare ratios, not absolute numbers.",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items() if k != "commit") + ".",
        f"- Load: `wrk -t{args.threads} -c{args.connections} -d{args.duration}s` with"
        f" bench/wrk.lua, {args.warmup} s warm-up before each measured run, {args.rounds}"
        " round(s), ours and the reference back to back (the order alternates by round); each"
        f" request uses a random user's token out of {reports[0].users if reports else args.users}."
        + (
            " Each figure is the median of the rounds; `ratio`, `CPU ratio` and our p99 add the"
            " min\u2013max across rounds in brackets."
            if args.rounds > 1
            else " One round: the spread was not measured (`--rounds 3` measures it; repeated"
            " runs on this machine have moved ratios by ±0.1)."
        ),
        f"- Machine load (1 / 5 / 15-minute load average): {info['load_start']} before the run,"
        f" {load_average()} after. `machine busy` = cores busy machine-wide during our measured"
        " runs (median): the app, wrk, the database and anything else running, of"
        f" {info['nproc']}.",
        f"- Servers: {args.workers} uvicorn worker(s) each. Ours: `todo-api migrate`, then"
        " `todo-api serve` with APP_ENV=production, a generated AUTH_SECRET,"
        " MIGRATE_ON_START=false, LOG_LEVEL=INFO (JSON access log to a file), default pool"
        " (DB_POOL_SIZE=20, no overflow), CHAT_RATE_LIMIT raised so chat runs are not 429s,"
        " LLM_PROVIDER=local. Reference: bench/reference_app.py (FastAPI, PyJWT, one hand-written"
        " statement with asyncpg / aiosqlite, orjson), a pool of up to 20 connections.",
        "- Data: "
        + (
            f"{reports[0].users} users x {reports[0].tasks_per_user} tasks, bulk-inserted"
            if reports
            else ""
        )
        + " (one argon2 hash computed once); PostgreSQL is a throwaway `initdb` server"
        " (testsupport/pg.py: fsync off, 128 MB shared_buffers), SQLite a WAL file.",
        "- Before measuring, the driver checks both apps return the same JSON for the same"
        " list, create and complete requests (and 404 for another user's task).",
        "- `ratio` = ours / reference in req/s; `CPU ratio` = reference / ours in the app's CPU"
        " time per request (`CPU ms/req`), the req/s ratio the two would have with a core each;"
        " `app CPU` = cores the app's processes used during the run (1.0 = one core busy);"
        " `wrk CPU` = cores the load generator used: far from 1.0, so wrk is not the bottleneck.",
        "",
    ]
    for rep in reports:
        label = (
            ("PostgreSQL " + vers.get("postgresql", ""))
            if rep.name == "postgresql"
            else ("SQLite " + vers.get("sqlite", ""))
        )
        lines += [
            f"### {label}",
            "",
            "| scenario | ours req/s | ref req/s | ratio | target | CPU ms/req ours / ref "
            "| CPU ratio | ours p50 / p99 ms | ref p50 / p99 ms | errors ours / ref "
            "| app CPU ours / ref | wrk CPU | machine busy |",
            "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for res in rep.results:
            title, target, _ = SCENARIOS[res.scenario]
            o, r = Result.summary(res.ours), Result.summary(res.ref)
            tgt = "—"
            if target is not None:
                tgt = f"≥ {target} {verdict(res.ratio >= target)}"
            p99 = spread([run.p99_ms for run in res.ours], "{:.1f}")
            if res.scenario == "list" and rep.name == "postgresql":
                p99 += f" (< {LIST_P99_TARGET_MS:.0f} {verdict(o.p99_ms < LIST_P99_TARGET_MS)})"
            lines.append(
                f"| {title} | {o.rps:,.0f} | {r.rps:,.0f} | {spread(res.round_ratios())} | {tgt} "
                f"| {o.cpu_ms:.2f} / {r.cpu_ms:.2f} | {spread(res.round_cpu_ratios())} "
                f"| {o.p50_ms:.1f} / {p99} | {r.p50_ms:.1f} / {r.p99_ms:.1f} "
                f"| {o.errors} / {r.errors} {verdict(o.errors == 0 and r.errors == 0)} "
                f"| {o.app_cpu:.2f} / {r.app_cpu:.2f} | {max(o.client_cpu, r.client_cpu):.2f} "
                f"| {o.machine_cpu:.2f} |"
            )
        lines.append("")
        if rep.chat_note:
            lines += [f"_{rep.chat_note}._", ""]
        for p in rep.problems:
            lines += [f"**Problem:** {p}", ""]
    lines += [
        "What the reference does per scenario: "
        + "; ".join(f"{SCENARIOS[s][0]}: {SCENARIOS[s][2]}" for s in SCENARIOS)
        + ". Targets for complete and mixed are ours (same bar as list/create); the issue sets"
        " the others.",
        "",
    ]
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().strip(), ""]
    return "\n".join(lines)


def _command_options() -> list[str]:
    """This run's options as typed, without --json (a local output path)."""
    options, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
        elif arg == "--json":
            skip = True
        elif not arg.startswith("--json="):
            options.append(arg)
    return options


def write_docs(block: str) -> None:
    text = (
        DOCS.read_text()
        if DOCS.exists()
        else (
            "# Benchmarks\n\n"
            f"{IMAGES_BEGIN}\n_Container image figures: see the image build._\n{IMAGES_END}\n\n"
            f"{BEGIN}\n{END}\n"
        )
    )
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(f"{head}{BEGIN}\n{block.rstrip()}\n{END}{tail}")


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 50 users x 10 tasks, 1 s per run, no warm-up",
    )
    p.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    p.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="comma-separated subset of: " + ", ".join(SCENARIOS),
    )
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--tasks", type=int, default=50, help="tasks per user")
    p.add_argument("--duration", type=int, default=4, help="seconds per measured run")
    p.add_argument("--warmup", type=int, default=1, help="seconds of warm-up before each run")
    p.add_argument("--rounds", type=int, default=1, help="measured runs per app (median)")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument("--workers", type=int, default=1, help="uvicorn workers, ours and reference")
    p.add_argument(
        "--write-docs", action="store_true", help="rewrite the API block of docs/BENCHMARKS.md"
    )
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--keep", action="store_true", help="keep the work dir (server logs)")
    p.add_argument(
        "--ours-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for our API (e.g. DB_POOL_SIZE=20), repeatable",
    )
    p.add_argument(
        "--skip-missing-tools",
        action="store_true",
        help="exit 0 with a notice when wrk or PostgreSQL is missing (never with CI=true)",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.users, args.tasks, args.duration, args.warmup = 50, 10, 1, 0
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (CI timeouts, `kill`) unwinds like Ctrl-C, so the finally blocks stop the servers
    # and the throwaway PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    selected = args.scenarios.split(",")
    for name in list(SCENARIOS):
        if name not in selected:
            del SCENARIOS[name]
    wrk = shutil.which("wrk")
    dbs = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    pg_bin = find_pg_bin()
    missing = [
        what
        for what, ok in (
            ("`wrk` (apt-get install wrk)", wrk is not None),
            ("PostgreSQL binaries initdb/pg_ctl", pg_bin is not None or "postgresql" not in dbs),
        )
        if not ok
    ]
    if missing:
        # With CI=true a missing tool fails the run; locally --skip-missing-tools lets
        # `make test` pass on a machine without them.
        if args.skip_missing_tools and not IN_CI:
            print(f"bench: SKIPPED, not installed: {', '.join(missing)}", file=sys.stderr)
            return 0
        print(f"bench: not installed: {', '.join(missing)}", file=sys.stderr)
        return 2
    assert wrk is not None
    started = time.monotonic()
    info, vers = machine_info(), versions(wrk, pg_bin)
    reports = []
    workdir = Path(tempfile.mkdtemp(prefix="todo-bench-"))
    try:
        for kind in dbs:
            reports.append(bench_database(kind, args, wrk, pg_bin, workdir))
    finally:
        if args.keep:
            log(f"kept {workdir} (server logs, users files)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    block = render(reports, args, info, vers, elapsed)
    print("\n" + block)
    if args.write_docs:
        write_docs(block)
        log(f"wrote {DOCS.relative_to(ROOT)}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "versions": vers,
                    "args": vars(args) | {"json": str(args.json)},
                    "databases": [
                        {
                            "name": r.name,
                            "problems": r.problems,
                            "results": [
                                {
                                    "scenario": x.scenario,
                                    "ratio": x.ratio,
                                    "ours": [vars(o) for o in x.ours],
                                    "ref": [vars(o) for o in x.ref],
                                }
                                for x in r.results
                            ],
                        }
                        for r in reports
                    ],
                },
                indent=2,
            )
        )
    errors = sum(
        Result.summary(x.ours).errors + Result.summary(x.ref).errors
        for r in reports
        for x in r.results
    )
    problems = [p for r in reports for p in r.problems]
    idle = [
        f"{r.name} {x.scenario}"
        for r in reports
        for x in r.results
        if not Result.summary(x.ours).requests or not Result.summary(x.ref).requests
    ]
    log(
        f"done in {elapsed:.0f} s: {errors} request errors, {len(problems)} check problems"
        + (f", no requests completed in: {', '.join(idle)}" if idle else "")
    )
    # Failing means the harness or the apps are broken: a server died, the two apps disagree on
    # the JSON, or a scenario completed no request. Request errors (the target is zero) are
    # reported in the table like the other targets: on a starved host they are timeouts.
    return 1 if problems or idle else 0


if __name__ == "__main__":
    sys.exit(main())
