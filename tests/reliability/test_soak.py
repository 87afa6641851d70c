"""Item 8: soak. scripts/soak.py's mixed load for SOAK_SECONDS (default 60; the documented run is
600) against a real server on PostgreSQL: zero errors, every user's data equal to the client's
model, server RSS growth after warm-up below the stated bound."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from typing import Any

from testsupport.pg import PostgresServer
from testsupport.server import REPO_ROOT

from .ledger import LEDGER

ITEM = 8
SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))


def _soak_module() -> Any:
    spec = importlib.util.spec_from_file_location("todo_soak", REPO_ROOT / "scripts" / "soak.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_mixed_load_without_errors_leaks_or_lost_data(pg_server: PostgresServer) -> None:
    soak = _soak_module()
    url = pg_server.create_database(f"soak_{uuid.uuid4().hex[:8]}")
    summary = soak.run_soak(url, SECONDS, users=8, seed=8)
    rss = summary["rss_mb"]
    LEDGER.add(ITEM, "requests", summary["requests"])
    LEDGER.add(ITEM, "errors", summary["errors"])
    LEDGER.add(ITEM, "data lost", len(summary["data_mismatches"]))
    LEDGER.set(ITEM, "duration s", SECONDS)
    LEDGER.set(ITEM, "virtual users", 8)
    LEDGER.set(ITEM, "requests per s", summary["requests_per_s"])
    LEDGER.set(
        ITEM, "latency p50 / p95 / p99 ms", "{p50} / {p95} / {p99}".format(**summary["latency_ms"])
    )
    LEDGER.set(
        ITEM, "RSS MB start / after warm-up / end", "{start} / {after_warmup} / {end}".format(**rss)
    )
    LEDGER.set(ITEM, "RSS growth after warm-up MB", rss["growth_after_warmup"])
    LEDGER.set(ITEM, "RSS growth bound MB", rss["bound"])
    assert summary["errors"] == 0, summary["first_errors"]
    assert not summary["data_mismatches"], summary["data_mismatches"]
    assert rss["growth_after_warmup"] < rss["bound"], rss
    assert summary["server_alive"]
    assert summary["requests"] > SECONDS * 5, summary  # the load really ran
    assert summary["passed"], summary
