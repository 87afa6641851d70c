"""Item 4: PostgreSQL goes away under steady load and comes back; the backend rides it out.

A real `todo-api serve` runs against its own throwaway PostgreSQL. Writers create tasks in a
bounded async loop, a reader lists them, a monitor polls /health and /ready every 100 ms. We stop
PostgreSQL twice (a clean `pg_ctl stop -m fast`, then a crash-like `-m immediate`), keep it down a
few seconds, and start it again on the same port and data directory. Then we check the timeline.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import httpx
import psutil
import pytest

from testsupport.pg import PostgresServer, find_pg_bin
from testsupport.server import BackendServer
from testsupport.tools import require

from .conftest import Secrets, backend_env, signup
from .ledger import LEDGER

ITEM = 4
DB_TIMEOUT = 2.0
HANG_LIMIT = DB_TIMEOUT + 3.0  # no request may take longer than the DB timeout plus a margin
READY_DOWN_WITHIN = 3.0
READY_UP_WITHIN = 5.0
DOWN_FOR = 5.0
WRITERS = 4


@dataclass
class Req:
    kind: str
    start: float
    end: float
    status: int  # 0 = transport error / client timeout
    task_id: int | None = None
    title: str = ""
    error: str = ""


@dataclass
class Timeline:
    requests: list[Req] = field(default_factory=list)
    health: list[tuple[float, int]] = field(default_factory=list)
    ready: list[tuple[float, int]] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)


@dataclass
class Outage:
    mode: str
    stop_requested: float  # `pg_ctl stop` called
    stopped: float  # `pg_ctl stop -w` returned: the server is gone
    start_requested: float  # `pg_ctl start` called: still down until now
    started: float  # `pg_ctl start -w` returned: the server accepts connections again


@pytest.fixture
def own_pg() -> PostgresServer:
    bin_dir = find_pg_bin()
    require(bin_dir is not None, "PostgreSQL (initdb/pg_ctl) is not installed")
    assert bin_dir is not None
    server = PostgresServer(bin_dir)
    server.init()
    # Acknowledged means durable for a crash of the server process (not the OS): WAL is written
    # before COMMIT returns. The shared test server turns this off for speed.
    with open(server.datadir / "postgresql.conf", "a") as conf:
        conf.write("synchronous_commit = on\n")
    server.start()
    yield server
    server.cleanup()


async def _get_status(client: httpx.AsyncClient, path: str) -> int:
    try:
        return (await client.get(path, timeout=HANG_LIMIT + 5)).status_code
    except httpx.HTTPError:
        return 0


async def run_scenario(srv: BackendServer, pg: PostgresServer, tokens: list[str]) -> Timeline:
    tl = Timeline()
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=WRITERS + 4)
    async with httpx.AsyncClient(base_url=srv.url, limits=limits) as client:

        async def writer(token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(100_000):  # bounded; the event ends it long before
                if stop.is_set():
                    return
                title = f"outage-{uuid.uuid4().hex[:10]}"
                start = time.monotonic()
                try:
                    resp = await client.post(
                        "/api/tasks",
                        json={"title": title},
                        headers=headers,
                        timeout=HANG_LIMIT + 5,
                    )
                    status = resp.status_code
                    task_id = resp.json().get("id") if status == 201 else None
                except httpx.HTTPError as exc:
                    status, task_id, error = 0, None, repr(exc)
                else:
                    error = ""
                tl.requests.append(
                    Req("write", start, time.monotonic(), status, task_id, title, error)
                )
                await asyncio.sleep(0.02)

        async def reader(token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(100_000):
                if stop.is_set():
                    return
                start = time.monotonic()
                try:
                    resp = await client.get("/api/tasks", headers=headers, timeout=HANG_LIMIT + 5)
                    status = resp.status_code
                except httpx.HTTPError as exc:
                    status, error = 0, repr(exc)
                else:
                    error = ""
                tl.requests.append(Req("read", start, time.monotonic(), status, error=error))
                await asyncio.sleep(0.05)

        async def monitor() -> None:
            for _ in range(100_000):
                if stop.is_set():
                    return
                now = time.monotonic()
                health, ready = await asyncio.gather(
                    _get_status(client, "/health"), _get_status(client, "/ready")
                )
                tl.health.append((now, health))
                tl.ready.append((now, ready))
                await asyncio.sleep(0.1)

        tasks = [asyncio.create_task(writer(t)) for t in tokens[:WRITERS]]
        tasks += [asyncio.create_task(reader(tokens[-1])), asyncio.create_task(monitor())]
        try:
            await asyncio.sleep(3)
            for mode in ("fast", "immediate"):
                stop_requested = time.monotonic()
                await asyncio.to_thread(pg.stop, mode)
                stopped = time.monotonic()
                assert not pg.is_running()
                await asyncio.sleep(DOWN_FOR)
                start_requested = time.monotonic()
                await asyncio.to_thread(pg.start)
                started = time.monotonic()
                tl.outages.append(Outage(mode, stop_requested, stopped, start_requested, started))
                await asyncio.sleep(READY_UP_WITHIN + 3)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    return tl


def describe(tl: Timeline) -> str:
    """A compact timeline (0.5 s buckets, relative to the first stop) for failure messages."""
    if not tl.outages:
        return "no outage happened"
    t0 = tl.outages[0].stop_requested
    marks = {round((o.stop_requested - t0) * 2): f"STOP({o.mode})" for o in tl.outages}
    marks.update({round((o.started - t0) * 2): "STARTED" for o in tl.outages})
    first = min(r.start for r in tl.requests)
    last = max(r.end for r in tl.requests)
    lines = []
    for k in range(int((first - t0) * 2) - 1, int((last - t0) * 2) + 2):
        lo, hi = t0 + k / 2, t0 + (k + 1) / 2
        reqs = [r for r in tl.requests if lo <= r.start < hi]
        counts: dict[int, int] = {}
        for r in reqs:
            counts[r.status] = counts.get(r.status, 0) + 1
        ready = [s for t, s in tl.ready if lo <= t < hi]
        slowest = max((r.end - r.start for r in reqs), default=0.0)
        lines.append(
            f"{k / 2:+6.1f}s {marks.get(k, ''):16} req={counts} ready={ready} slowest={slowest:.2f}"
        )
    return "\n".join(lines)


def test_backend_rides_out_a_database_outage(
    own_pg: PostgresServer, secret_values: Secrets
) -> None:
    url = own_pg.create_database("outage")
    env = backend_env(url, secret_values, DB_TIMEOUT_SECONDS=str(DB_TIMEOUT))
    with BackendServer(env) as srv:
        proc = psutil.Process(srv.pid)
        created = proc.create_time()
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            tokens = [signup(c).token for _ in range(WRITERS + 1)]

        tl = asyncio.run(run_scenario(srv, own_pg, tokens))

        # The same process served the whole time.
        assert srv.is_running(), srv.log_text()[-3000:]
        assert psutil.Process(srv.pid).create_time() == created

        problems: list[str] = []
        # /health never depends on the database.
        bad_health = [(round(t, 2), s) for t, s in tl.health if s != 200]
        if bad_health:
            problems.append(f"/health not 200 at {bad_health[:5]}")

        ready_down, ready_up, outage_fails, outage_requests = [], [], 0, 0
        for n, o in enumerate(tl.outages):
            next_stop = (
                tl.outages[n + 1].stop_requested if n + 1 < len(tl.outages) else float("inf")
            )
            # /ready turns 503 within 3 s of the stop...
            first_503 = next((t for t, s in tl.ready if t >= o.stop_requested and s == 503), None)
            if first_503 is None or first_503 - o.stop_requested > READY_DOWN_WITHIN:
                problems.append(
                    f"[{o.mode}] /ready not 503 within {READY_DOWN_WITHIN}s of the stop"
                )
            else:
                ready_down.append(first_503 - o.stop_requested)
            # ...says 503 whenever it is asked while the database is certainly down...
            during = [s for t, s in tl.ready if o.stopped <= t < o.start_requested]
            if any(s != 503 for s in during):
                problems.append(f"[{o.mode}] /ready answered {set(during)} while the DB was down")
            # ...and is 200 within 5 s of the database accepting connections again, for good.
            after = [(t, s) for t, s in tl.ready if o.started <= t < next_stop]
            last_bad = max((t for t, s in after if s != 200), default=o.started)
            if last_bad - o.started > READY_UP_WITHIN or not after or after[-1][1] != 200:
                problems.append(f"[{o.mode}] /ready not back to 200 within {READY_UP_WITHIN}s")
            else:
                ready_up.append(max(0.0, last_bad - o.started))
            # Requests made entirely inside the outage fail fast with 503.
            inside = [r for r in tl.requests if r.start >= o.stopped and r.end <= o.start_requested]
            outage_requests += len(inside)
            outage_fails += sum(r.status == 503 for r in inside)
            wrong = [r for r in inside if r.status != 503]
            if wrong:
                problems.append(
                    f"[{o.mode}] {len(wrong)} requests during the outage answered "
                    f"{sorted({r.status for r in wrong})} instead of 503"
                )
            if not inside:
                problems.append(f"[{o.mode}] no request was made during the outage")

        # Nothing ever hangs, nothing is a 500 or a dropped connection.
        slow = [r for r in tl.requests if r.end - r.start > HANG_LIMIT]
        if slow:
            problems.append(
                f"{len(slow)} requests took longer than {HANG_LIMIT}s "
                f"(max {max(r.end - r.start for r in slow):.1f}s)"
            )
        statuses = {r.status for r in tl.requests}
        if not statuses <= {200, 201, 503}:
            odd = [r for r in tl.requests if r.status not in {200, 201, 503}]
            problems.append(
                f"unexpected statuses: {sorted(statuses - {200, 201, 503})}, e.g. "
                f"{[(r.kind, r.status, r.error) for r in odd[:3]]}"
            )

        # Writes work again after the outages.
        last_start = tl.outages[-1].started
        if not any(r.status == 201 for r in tl.requests if r.start > last_start + READY_UP_WITHIN):
            problems.append("no successful write after the database came back")

        # Every acknowledged write is there.
        acked = {r.task_id: r.title for r in tl.requests if r.status == 201}
        stored: dict[int, str] = {}
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            for token in tokens[:WRITERS]:
                offset = 0
                for _ in range(1000):
                    page = c.get(
                        "/api/tasks",
                        params={"limit": 200, "offset": offset},
                        headers={"Authorization": f"Bearer {token}"},
                    ).json()
                    stored.update({t["id"]: t["title"] for t in page["items"]})
                    offset += 200
                    if offset >= page["total"]:
                        break
        lost = {i: t for i, t in acked.items() if stored.get(i) != t}

        outage_latencies = sorted(
            r.end - r.start
            for o in tl.outages
            for r in tl.requests
            if r.start >= o.stopped and r.end <= o.start_requested
        )
        LEDGER.add(ITEM, "requests", len(tl.requests) + len(tl.health) + len(tl.ready))
        LEDGER.add(ITEM, "faults injected", len(tl.outages))
        LEDGER.set(ITEM, "outages (pg_ctl stop modes)", ", ".join(o.mode for o in tl.outages))
        LEDGER.set(ITEM, "seconds down per outage", DOWN_FOR)
        LEDGER.set(ITEM, "acknowledged writes", len(acked))
        LEDGER.add(ITEM, "data lost", len(lost))
        LEDGER.set(ITEM, "requests inside outages (all 503)", outage_requests)
        LEDGER.set(ITEM, "/ready 503 after stop, max s", round(max(ready_down, default=-1), 2))
        LEDGER.set(ITEM, "/ready 200 after start, max s", round(max(ready_up, default=-1), 2))
        if outage_latencies:
            LEDGER.set(ITEM, "outage request latency max s", round(outage_latencies[-1], 3))
        LEDGER.set(
            ITEM, "max request latency s", round(max(r.end - r.start for r in tl.requests), 3)
        )
        LEDGER.add(ITEM, "errors", len(problems) + len(lost))
        LEDGER.set(ITEM, "backend restarts", 0 if srv.is_running() else 1)

        assert not lost, f"{len(lost)} acknowledged writes lost: {list(lost.items())[:5]}"
        assert not problems, (
            "\n".join(problems)
            + "\n--- timeline ---\n"
            + describe(tl)
            + "\n--- server log (warnings) ---\n"
            + "\n".join(ln for ln in srv.log_text().splitlines() if '"INFO"' not in ln)[-4000:]
        )
        assert outage_fails == outage_requests


def _pg_processes(pg: PostgresServer) -> list[psutil.Process]:
    pid = int((pg.datadir / "postmaster.pid").read_text().split()[0])
    master = psutil.Process(pid)
    return [master, *master.children(recursive=True)]


FREEZE_FOR = 6.0
PROBE_TIMEOUT = 1.0


async def run_freeze(srv: BackendServer, pg: PostgresServer, tokens: list[str]) -> Timeline:
    """Like run_scenario, but the database hangs instead of going away: every PostgreSQL
    process is stopped with SIGSTOP (a network partition or a stuck host looks like this)."""
    tl = Timeline()
    stop = asyncio.Event()
    async with httpx.AsyncClient(
        base_url=srv.url, limits=httpx.Limits(max_connections=16)
    ) as client:

        async def writer(token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(100_000):
                if stop.is_set():
                    return
                title = f"freeze-{uuid.uuid4().hex[:10]}"
                start = time.monotonic()
                try:
                    resp = await client.post(
                        "/api/tasks", json={"title": title}, headers=headers, timeout=60
                    )
                    status = resp.status_code
                    task_id = resp.json().get("id") if status == 201 else None
                    error = ""
                except httpx.HTTPError as exc:
                    status, task_id, error = 0, None, repr(exc)
                tl.requests.append(
                    Req("write", start, time.monotonic(), status, task_id, title, error)
                )
                await asyncio.sleep(0.05)

        async def probe(path: str, bucket: list[tuple[float, int]]) -> None:
            # Like a Kubernetes probe with timeoutSeconds: 1 (no answer in time = failure = 0).
            now = time.monotonic()
            try:
                status = (await client.get(path, timeout=PROBE_TIMEOUT)).status_code
            except httpx.HTTPError:
                status = 0
            bucket.append((now, status))

        async def monitor() -> None:
            probes: list[asyncio.Task[None]] = []
            for _ in range(100_000):
                if stop.is_set():
                    break
                probes.append(asyncio.create_task(probe("/health", tl.health)))
                probes.append(asyncio.create_task(probe("/ready", tl.ready)))
                await asyncio.sleep(0.25)
            await asyncio.gather(*probes)

        tasks = [asyncio.create_task(writer(t)) for t in tokens[:WRITERS]]
        tasks.append(asyncio.create_task(monitor()))
        try:
            await asyncio.sleep(2)
            procs = _pg_processes(pg)
            frozen = time.monotonic()
            for p in procs:
                p.suspend()
            await asyncio.sleep(FREEZE_FOR)
            thawed_at = time.monotonic()
            for p in procs:
                p.resume()
            tl.outages.append(Outage("SIGSTOP", frozen, frozen, thawed_at, thawed_at))
            await asyncio.sleep(READY_UP_WITHIN + 3)
        finally:
            for p in _pg_processes(pg):
                p.resume()
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=90)
    return tl


def test_backend_fails_fast_when_the_database_hangs(
    own_pg: PostgresServer, secret_values: Secrets
) -> None:
    url = own_pg.create_database("freeze")
    env = backend_env(url, secret_values, DB_TIMEOUT_SECONDS=str(DB_TIMEOUT))
    with BackendServer(env) as srv:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            tokens = [signup(c).token for _ in range(WRITERS)]
        tl = asyncio.run(run_freeze(srv, own_pg, tokens))
        assert srv.is_running()
        o = tl.outages[0]
        problems = []
        if any(s != 200 for _, s in tl.health):
            bad = [(round(t - o.stop_requested, 1), s) for t, s in tl.health if s != 200]
            problems.append(f"/health failed while the database hung: {bad[:5]}")
        # Not ready (503, or no answer within the probe timeout) within 3 s of the freeze...
        first_bad = next((t for t, s in tl.ready if t >= o.stop_requested and s != 200), None)
        if first_bad is None or first_bad - o.stop_requested > READY_DOWN_WITHIN:
            problems.append(f"/ready not failing within {READY_DOWN_WITHIN}s of the freeze")
        # ...never ready while frozen (after those 3 s)...
        # (probes that could only have been answered before the thaw)
        frozen_until = o.start_requested - PROBE_TIMEOUT
        during = [
            s for t, s in tl.ready if o.stop_requested + READY_DOWN_WITHIN <= t < frozen_until
        ]
        if 200 in during:
            problems.append(f"/ready said 200 while the database was frozen: {during}")
        # ...and ready again within 5 s of the thaw, for good.
        after = [(t, s) for t, s in tl.ready if t >= o.started]
        last_bad = max((t for t, s in after if s != 200), default=o.started)
        if last_bad - o.started > READY_UP_WITHIN or not after or after[-1][1] != 200:
            problems.append(f"/ready not back to 200 within {READY_UP_WITHIN}s of the thaw")
        slow = sorted(
            round(r.end - r.start, 1) for r in tl.requests if r.end - r.start > HANG_LIMIT
        )
        if slow:
            problems.append(f"{len(slow)} requests hung past {HANG_LIMIT}s: {slow[-5:]}")
        odd = {r.status for r in tl.requests} - {201, 503}
        if odd:
            problems.append(f"unexpected statuses {sorted(odd)}")
        acked = {r.task_id: r.title for r in tl.requests if r.status == 201}
        stored: dict[int, str] = {}
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            for token in tokens:
                page = c.get(
                    "/api/tasks",
                    params={"limit": 200},
                    headers={"Authorization": f"Bearer {token}"},
                ).json()
                stored.update({t["id"]: t["title"] for t in page["items"]})
        lost = {i for i, t in acked.items() if stored.get(i) != t}
        LEDGER.add(ITEM, "requests", len(tl.requests) + 2 * len(tl.ready))
        LEDGER.add(ITEM, "faults injected", 1)
        LEDGER.add(ITEM, "data lost", len(lost))
        LEDGER.set(ITEM, "freeze (SIGSTOP) seconds", FREEZE_FOR)
        LEDGER.set(
            ITEM,
            "freeze: max request latency s",
            round(max(r.end - r.start for r in tl.requests), 2),
        )
        LEDGER.add(ITEM, "errors", len(problems) + len(lost))
        assert not lost, lost
        assert not problems, "\n".join(problems) + "\n--- timeline ---\n" + describe(tl)
