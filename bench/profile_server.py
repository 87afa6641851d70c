"""Profile our API under load with pyinstrument.

`uv run --project backend --frozen python bench/profile_server.py list`

Sets up the same database, data set and production settings as bench/run.py, runs
`todo-api serve` under pyinstrument, drives one scenario with wrk, stops the server and prints
pyinstrument's text report (or writes HTML with --html PATH).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench


def report(path: Path, args: argparse.Namespace) -> None:
    from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer
    from pyinstrument.session import Session

    session = Session.load(str(path))
    if args.save:
        shutil.copy(path, args.save)
    if args.html:
        args.html.write_text(HTMLRenderer().render(session))
        print(f"wrote {args.html}")
    flat = ConsoleRenderer(
        flat=True,
        show_all=True,
        time="percent_of_total",
        unicode=True,
        color=False,
        processor_options={"filter_threshold": 0.005},
    )
    lines = flat.render(session).splitlines()
    print("\n".join(lines[: args.top + 8]))
    tree = ConsoleRenderer(
        time="percent_of_total",
        unicode=True,
        color=False,
        processor_options={"filter_threshold": args.threshold},
    )
    print(tree.render(session))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("scenario", choices=list(bench.SCENARIOS))
    p.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--tasks", type=int, default=50)
    p.add_argument("--duration", type=int, default=8)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    p.add_argument("--save", type=Path, help="keep the .pyisession file")
    p.add_argument("--top", type=int, default=40, help="lines of the flat (self time) report")
    p.add_argument(
        "--threshold",
        type=float,
        default=0.02,
        help="hide call-tree frames under this share of the total",
    )
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop servers, PostgreSQL
    wrk = shutil.which("wrk")
    assert wrk, "apt-get install wrk"
    pg_bin = bench.find_pg_bin()
    workdir = Path(tempfile.mkdtemp(prefix="todo-profile-"))
    try:
        with bench.migrated_database(args.db, pg_bin, workdir) as (url, secret, base_env):
            env = {**base_env, "CHAT_RATE_LIMIT": "1000000/minute"}
            server = None
            try:
                ids = asyncio.run(bench.seed(url, args.users, args.tasks))
                users_file = workdir / "users.txt"
                bench.write_users_file(users_file, ids, secret)
                port = bench.free_port()
                out = workdir / "profile.pyisession"
                cmd = [
                    sys.executable,
                    "-m",
                    "pyinstrument",
                    "-i",
                    "0.0005",
                    "-r",
                    "pyisession",
                    "-o",
                    str(out),
                    shutil.which("todo-api") or "todo-api",
                    "serve",
                    "--port",
                    str(port),
                ]
                server = bench.start_server("ours-profiled", cmd, env, port, workdir)
                run = bench.run_wrk(
                    wrk,
                    server,
                    args.scenario,
                    users_file,
                    args.duration,
                    args.connections,
                    1,
                    seed=1,
                )
                print(
                    f"{args.scenario}: {run.rps:.0f} req/s under the profiler, "
                    f"p50 {run.p50_ms:.1f} ms, errors {run.errors}"
                )
                server.proc.send_signal(signal.SIGINT)
                server.proc.wait(timeout=60)
                for _ in range(100):
                    if out.exists() and out.stat().st_size:
                        break
                    time.sleep(0.1)
                report(out, args)
                return 0
            finally:
                if server is not None:
                    server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
