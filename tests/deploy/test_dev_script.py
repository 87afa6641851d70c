"""scripts/dev.sh (`make run`) with stubbed `uv`, `npx`, `node` and `npm`: the stubs listen like
the two dev servers, and the frontend's also starts a worker, as `next dev` does. When either
server dies, both stop and the message names it with its status; Ctrl-C stops both; nothing is
left running; the servers listen on 127.0.0.1 unless HOST says otherwise."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from deploytools import REPO
from test_scripts_envfile import BASH4_ONLY

from testsupport.tools import require_tool

SCRIPT = REPO / "scripts" / "dev.sh"

SERVE = """import http.server, sys
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), Ok).serve_forever()
"""
# `uv run --frozen todo-api serve --host H --port P` and `npx next dev --hostname H --port P`.
SERVER_STUB = """#!/usr/bin/env bash
printf '%s\\n' "$*" >"$STUB_DIR/{name}.args"
while [ $# -gt 0 ]; do
  case "$1" in --host | --hostname) host=$2; shift ;; --port) port=$2; shift ;; esac
  shift
done
{worker}echo $$ >"$STUB_DIR/{name}.pid"
exec "{python}" "$STUB_DIR/serve.py" "$host" "$port"
"""
WORKER = 'sleep 300 &\necho $! >"$STUB_DIR/worker.pid"\n'
NODE_STUB = '#!/usr/bin/env bash\n[ "$1" = -p ] && echo 20 || exit 1\n'
NPM_STUB = "#!/usr/bin/env bash\nexit 0\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DevRun:
    proc: subprocess.Popen[bytes]
    stubs: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def pid(self, name: str) -> int:
        return int((self.stubs / f"{name}.pid").read_text())

    def args(self, name: str) -> str:
        return (self.stubs / f"{name}.args").read_text()

    def wait_until_running(self) -> None:
        deadline = time.monotonic() + 60
        while "is running" not in self.output():
            assert self.proc.poll() is None, f"dev.sh exited early:\n{self.output()}"
            assert time.monotonic() < deadline, f"dev.sh did not start:\n{self.output()}"
            time.sleep(0.2)

    def servers(self) -> list[int]:
        return [self.pid("backend"), self.pid("frontend"), self.pid("worker")]


StartDev = Callable[..., DevRun]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pids: list[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while (alive := [p for p in pids if not _gone(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


@pytest.fixture
def start_dev(tmp_path: Path) -> Iterator[StartDev]:
    require_tool("curl")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "serve.py").write_text(SERVE)
    for name, text in {
        "uv": SERVER_STUB.format(name="backend", worker="", python=sys.executable),
        "npx": SERVER_STUB.format(name="frontend", worker=WORKER, python=sys.executable),
        "node": NODE_STUB,
        "npm": NPM_STUB,
    }.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    runs: list[DevRun] = []

    def start(**env: str) -> DevRun:
        log = tmp_path / "dev.log"
        base = {
            "PATH": f"{stubs}:{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", "/tmp"),
            "STUB_DIR": str(stubs),
            "UV": str(stubs / "uv"),
            "BACKEND_PORT": str(_free_port()),
            "FRONTEND_PORT": str(_free_port()),
        }
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["bash", str(SCRIPT)], env={**base, **env}, stdout=out, stderr=subprocess.STDOUT
            )
        run = DevRun(proc, stubs, log)
        runs.append(run)
        return run

    yield start
    for run in runs:  # never leave a server behind, whatever the test found
        if run.proc.poll() is None:
            run.proc.kill()
        for name in ("backend", "frontend", "worker"):
            if (stubs / f"{name}.pid").exists() and not _gone(run.pid(name)):
                os.kill(run.pid(name), signal.SIGKILL)


def test_when_the_backend_dies_the_frontend_stops_and_the_message_says_which(
    start_dev: StartDev,
) -> None:
    run = start_dev()
    run.wait_until_running()
    # Default bind: this machine only.
    assert "--host 127.0.0.1 " in run.args("backend")
    assert "--hostname 127.0.0.1 " in run.args("frontend")
    # Each server leads a process group of its own (what lets dev.sh stop its workers too).
    assert os.getpgid(run.pid("frontend")) == run.pid("frontend")
    assert os.getpgid(run.pid("worker")) == run.pid("frontend")

    servers = run.servers()
    os.kill(run.pid("backend"), signal.SIGKILL)
    assert run.proc.wait(timeout=15) == 1
    assert "the backend exited (killed by SIGKILL, status 137); stopping the frontend too" in (
        run.output()
    )
    assert _wait_gone(servers) == [], f"left running:\n{run.output()}"


def test_a_frontend_exit_status_is_reported(start_dev: StartDev) -> None:
    run = start_dev()
    run.wait_until_running()
    servers = run.servers()
    os.kill(run.pid("frontend"), signal.SIGTERM)
    assert run.proc.wait(timeout=15) == 1
    assert re.search(
        r"the frontend exited \(killed by SIGTERM, status 143\); stopping the "
        r"backend too",
        run.output(),
    ), run.output()
    assert _wait_gone(servers) == [], "the frontend's worker or the backend was left running"


def test_ctrl_c_stops_both_and_host_is_honoured(start_dev: StartDev) -> None:
    run = start_dev(HOST="127.0.0.2")
    run.wait_until_running()
    assert "--host 127.0.0.2 " in run.args("backend")
    assert "--hostname 127.0.0.2 " in run.args("frontend")
    servers = run.servers()
    run.proc.send_signal(signal.SIGINT)
    assert run.proc.wait(timeout=15) == 130
    assert "stopping the servers" in run.output()
    assert _wait_gone(servers) == [], f"left running:\n{run.output()}"


def test_shellcheck_clean_and_bash_3_2_safe() -> None:
    shellcheck = require_tool("shellcheck", str(REPO / "backend" / ".venv" / "bin" / "shellcheck"))
    proc = subprocess.run(
        [shellcheck, "--severity=style", str(SCRIPT)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    code = "\n".join(
        line for line in SCRIPT.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    for what, pattern in {**BASH4_ONLY, "wait -n (bash 4.3)": r"\bwait\s+-n\b"}.items():
        assert not re.search(pattern, code, re.M), f"dev.sh uses a bash 4 {what}"
