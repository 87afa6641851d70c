"""Figures the reliability tests record, and docs/RELIABILITY.md written from them.

Each test module covers one item of issue 10. Tests add figures with `LEDGER.add(item, name, n)`
(counts accumulate) or `LEDGER.set(item, name, value)`; the conftest records each test's outcome.
At the end of a session that ran every item, `write_report()` renders docs/RELIABILITY.md. The
document's structure (sections, order, figure names) is fixed; only the measured values change.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORT_PATH = REPO_ROOT / "docs" / "RELIABILITY.md"


@dataclass(frozen=True)
class Item:
    number: int
    module: str
    title: str
    claim: str


ITEMS: tuple[Item, ...] = (
    Item(
        1,
        "test_fuzz_api",
        "Bad input",
        "Schemathesis generates requests for every operation of the OpenAPI spec, authenticated "
        "as a real user, against PostgreSQL: no 5xx, no response breaking its schema, no hang. "
        "Oversized bodies, deep JSON, invalid UTF-8, huge query values and wrong content types "
        "get 4xx.",
    ),
    Item(
        2,
        "test_isolation",
        "Isolation",
        "User B can neither read, change, complete, delete nor learn the existence of user A's "
        "tasks or conversations: byte-identical 404s for 'exists but not yours' and 'does not "
        "exist', and no timing difference beyond a generous bound on medians.",
    ),
    Item(
        3,
        "test_tokens",
        "Tokens",
        "Expired, tampered, wrong-key, alg:none, malformed and missing tokens are 401 on every "
        "protected route; a deleted user's token stops working.",
    ),
    Item(
        4,
        "test_db_outage",
        "Database outage",
        "PostgreSQL is stopped under steady load (pg_ctl stop -m fast, then -m immediate) and "
        "started again on the same port and data directory, and separately frozen (SIGSTOP of "
        "every PostgreSQL process, like a network partition): /health stays 200, /ready fails "
        "within 3 s and is 200 again within 5 s, requests during the outage fail fast with 503 "
        "(none past DB_TIMEOUT_SECONDS + 3 s), every acknowledged write survives, the backend "
        "process is never restarted.",
    ),
    Item(
        5,
        "test_provider_faults",
        "Provider trouble",
        "An OpenAI-compatible fake provider times out, answers 429/5xx, truncated or malformed "
        "tool calls: the user gets a clear reply, the conversation stays consistent, applied "
        "tool calls are reported and nothing is applied twice.",
    ),
    Item(
        6,
        "test_abuse_limits",
        "Abuse limits",
        "Login and chat are rate-limited (429 + Retry-After), and a client that rotates "
        "X-Forwarded-For through the real frontend is still one address to the per-IP limit; "
        "body and chat message sizes are capped; CORS answers only configured origins; the "
        "frontend sends security headers.",
    ),
    Item(
        7,
        "test_secrets",
        "Secrets",
        "No secret value in logs (including tracebacks), API responses, ConfigMaps or rendered "
        "charts; the Helm chart puts secrets only into Secret objects.",
    ),
    Item(
        8,
        "test_soak",
        "Soak",
        "A mixed load against a real server on PostgreSQL with zero errors and bounded memory "
        "(RSS) growth.",
    ),
)
BY_MODULE = {item.module: item for item in ITEMS}


@dataclass
class Outcome:
    nodeid: str
    outcome: str  # passed | failed | skipped
    seconds: float
    reason: str = ""


@dataclass
class Ledger:
    figures: dict[int, dict[str, Any]] = field(default_factory=dict)
    outcomes: dict[int, list[Outcome]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def add(self, item: int, name: str, amount: int | float = 1) -> None:
        figs = self.figures.setdefault(item, {})
        figs[name] = figs.get(name, 0) + amount

    def set(self, item: int, name: str, value: Any) -> None:
        self.figures.setdefault(item, {})[name] = value

    def record(self, item: int, outcome: Outcome) -> None:
        self.outcomes.setdefault(item, []).append(outcome)

    def complete(self) -> bool:
        """True when every item has at least one test outcome (the whole suite ran)."""
        return all(self.outcomes.get(item.number) for item in ITEMS)

    def status(self, item: int) -> str:
        outs = self.outcomes.get(item, [])
        if not outs:
            return "not run"
        if any(o.outcome == "failed" for o in outs):
            return "FAILED"
        if all(o.outcome == "skipped" for o in outs):
            return "skipped"
        if any(o.outcome == "skipped" for o in outs):
            return "passed (some parts skipped)"
        return "passed"

    def total(self, name: str) -> int:
        return sum(int(f.get(name, 0)) for f in self.figures.values())


LEDGER = Ledger()

# Figures every run reports for the summary table (summed over all items).
SUMMARY_FIGURES = (
    ("requests sent", "requests"),
    ("requests fuzzed", "fuzzed requests"),
    ("faults injected", "faults injected"),
    ("unexpected errors seen", "errors"),
    ("acknowledged writes lost", "data lost"),
)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value)}"
    return str(value)


def render(ledger: Ledger, duration: float) -> str:
    lines = [
        "# Reliability and security report",
        "",
        "<!-- Generated by `make test-reliability` (tests/reliability). Do not edit by hand: the",
        "     next run overwrites it. Structure is fixed; values are this run's measurements. -->",
        "",
        f"- Generated: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()} (load average at the end: "
        f"{os.getloadavg()[0]:.1f}; the machine may be shared, so durations vary)",
        f"- Suite duration: {duration:.0f} s",
        "- Command: `make test-reliability` "
        "(`uv run --project backend --frozen pytest tests/reliability`)",
        "",
        "## Summary",
        "",
        "| Figure | Value |",
        "|---|---|",
    ]
    for label, key in SUMMARY_FIGURES:
        lines.append(f"| {label} | {ledger.total(key)} |")
    outs = [o for item_outs in ledger.outcomes.values() for o in item_outs]
    lines.append(
        f"| tests passed / failed / skipped | "
        f"{sum(o.outcome == 'passed' for o in outs)} / "
        f"{sum(o.outcome == 'failed' for o in outs)} / "
        f"{sum(o.outcome == 'skipped' for o in outs)} |"
    )
    lines += ["", "| # | Property | Status | Tests | Seconds |", "|---|---|---|---|---|"]
    for item in ITEMS:
        outs = ledger.outcomes.get(item.number, [])
        secs = sum(o.seconds for o in outs)
        lines.append(
            f"| {item.number} | {item.title} | {ledger.status(item.number)} | {len(outs)} "
            f"| {secs:.1f} |"
        )
    for item in ITEMS:
        lines += ["", f"## {item.number}. {item.title}", "", item.claim, ""]
        lines.append(
            f"Tests: `tests/reliability/{item.module}.py`. "
            f"Status: **{ledger.status(item.number)}**."
        )
        figs = ledger.figures.get(item.number, {})
        if figs:
            lines += ["", "| Figure | Value |", "|---|---|"]
            for name in sorted(figs):
                lines.append(f"| {name} | {_fmt(figs[name])} |")
        lines += ["", "| Test | Outcome | Seconds |", "|---|---|---|"]
        for o in sorted(ledger.outcomes.get(item.number, []), key=lambda o: o.nodeid):
            name = o.nodeid.split("::", 1)[-1]
            outcome = o.outcome + (f" ({o.reason})" if o.reason else "")
            lines.append(f"| `{name}` | {outcome} | {o.seconds:.1f} |")
    lines += ["", "## Related checks elsewhere", "", *RELATED, ""]
    return "\n".join(lines)


RELATED = [
    "- Container images are scanned for secrets (image config and every layer) by the containers "
    "suite: `tests/containers/` (`make test-containers`).",
    "- Kubernetes manifests and rendered Helm charts are validated against the Kubernetes OpenAPI "
    "schemas and the project's policy (`tests/deploy/`).",
    "- The 10-minute soak: `make soak` (`uv run --project backend --frozen python "
    "scripts/soak.py --duration 600`; same load and bounds as item 8, longer).",
    "- In-process provider tests (500/429/timeout/bad tool calls/step limit) are in "
    "`backend/tests/agent/test_llm_provider.py`; item 5 adds the system-level view.",
    "- Input hygiene, in-process on SQLite and PostgreSQL: weak passwords and Unicode email "
    "twins (`backend/tests/api/test_account_hygiene.py`), hidden characters in titles and "
    "descriptions at every door (`test_text_rules.py`), non-ASCII search "
    "(`test_tasks_search_unicode.py`), the per-user task cap (`test_tasks_cap.py`); the "
    "frontend's client address (`frontend/tests/unit/client-address.test.mjs`, "
    "`frontend/tests/e2e/proxy.test.mjs`).",
]


def write_report(ledger: Ledger, path: Path = REPORT_PATH) -> Path:
    duration = time.monotonic() - ledger.started
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(ledger, duration))
    return path
