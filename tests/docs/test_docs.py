"""The README and the guides in docs/ stay true to the repository.

- every repository path, `make` target and script command they show exists (script
  subcommands and --options included), every relative link and #anchor resolves;
- the configuration reference lists exactly the environment variables the code reads (backend
  settings and `todo-api` command, the frontend server, compose.yaml), says which part reads
  each, and shows the code's defaults; .env.example files and the Kubernetes ConfigMaps use
  only documented variables;
- the deployment brief's table maps PHASE4-001 … PHASE4-035, each once and under the brief's
  name, to things that exist;
- JSON and YAML examples parse.
The charts' README value tables are kept in step by tests/deploy/test_helm_docs.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass

import docscheck
import httpx
import pytest
import yaml
from docscheck import REPO

from testsupport.tools import require_tool

SOURCES = ("backend", "frontend", "compose")


@pytest.fixture(scope="module")
def docs() -> dict[str, docscheck.Doc]:
    """The guides that exist (test_every_guide_exists fails for a missing one)."""
    return {path: docscheck.load(path) for path in docscheck.GUIDES if (REPO / path).is_file()}


def get(docs: dict[str, docscheck.Doc], guide: str) -> docscheck.Doc:
    assert guide in docs, f"{guide} is missing"
    return docs[guide]


def test_every_guide_exists() -> None:
    missing = [p for p in docscheck.GUIDES if not (REPO / p).is_file()]
    assert not missing, f"guides missing: {missing}"


def test_readme_keeps_the_two_fresh_machine_commands(docs: dict[str, docscheck.Doc]) -> None:
    quick = docscheck.section(docs["README.md"].text, "Quick start (fresh machine)")
    block = docscheck.Doc("quick", quick).blocks[0].text
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make run", "make test"]


def test_readme_has_a_mermaid_architecture_diagram(docs: dict[str, docscheck.Doc]) -> None:
    mermaid = [b for b in docs["README.md"].blocks if b.lang == "mermaid"]
    assert mermaid and re.match(r"\s*(flowchart|graph)\s", mermaid[0].text)
    for word in ("frontend", "backend", "/mcp", "PostgreSQL"):
        assert word in mermaid[0].text


# ------------------------------------------------------------------------- paths and commands
@pytest.mark.parametrize("guide", docscheck.GUIDES)
def test_named_paths_exist(docs: dict[str, docscheck.Doc], guide: str) -> None:
    problems = sorted(
        {
            problem
            for code in get(docs, guide).code
            for token in docscheck.path_tokens(code)
            if (problem := docscheck.path_problem(token))
        }
    )
    assert not problems, f"{guide} names paths that do not exist:\n" + "\n".join(problems)


@pytest.mark.parametrize("guide", docscheck.GUIDES)
def test_make_targets_exist(docs: dict[str, docscheck.Doc], guide: str) -> None:
    targets = docscheck.make_targets()
    used = {t for code in get(docs, guide).code for t in docscheck.make_invocations(code)}
    assert used <= targets, f"{guide} shows unknown make targets: {sorted(used - targets)}"


@pytest.mark.parametrize("guide", docscheck.GUIDES)
def test_script_commands_exist(docs: dict[str, docscheck.Doc], guide: str) -> None:
    problems = sorted(
        {
            problem
            for code in get(docs, guide).code
            for call in docscheck.script_calls(code)
            if (problem := docscheck.script_problem(call))
        }
    )
    assert not problems, f"{guide} shows script commands that do not work:\n" + "\n".join(problems)


@pytest.mark.parametrize("guide", docscheck.GUIDES)
def test_links_and_anchors_resolve(docs: dict[str, docscheck.Doc], guide: str) -> None:
    here = (REPO / guide).parent
    problems = []
    for link in get(docs, guide).links:
        if re.match(r"^[a-z]+:", link):
            continue  # http(s), mailto: not checked offline
        target, _, anchor = link.partition("#")
        path = (here / target).resolve() if target else REPO / guide
        rel = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)
        if rel not in docscheck.NOT_IN_GIT and not path.exists():
            problems.append(f"{link}: {rel} does not exist")
        elif anchor and path.suffix == ".md" and path.exists():
            if anchor not in docscheck.load(rel).anchors:
                problems.append(f"{link}: no heading #{anchor} in {rel}")
    assert not problems, f"{guide}:\n" + "\n".join(problems)


@pytest.mark.parametrize("guide", docscheck.GUIDES)
def test_json_and_yaml_examples_parse(docs: dict[str, docscheck.Doc], guide: str) -> None:
    for block in get(docs, guide).blocks:
        if block.lang == "json":
            json.loads(block.text)
        elif block.lang in {"yaml", "yml"}:
            list(yaml.safe_load_all(block.text))


def test_the_checker_catches_broken_references() -> None:
    """The checks above must be able to fail: feed them wrong commands."""
    assert docscheck.path_problem("deploy/k8s/overlays/nowhere")
    assert docscheck.path_tokens("kubectl exec deploy/backend -- ls\ncat deploy/helms") == [
        "deploy/helms"
    ]
    assert docscheck.path_problem("tests/docs/test_docs.py::test_nothing_like_this")
    assert docscheck.path_problem("tests/docs/test_docs.py::test_make_targets_exist") is None
    assert "no-such-target" not in docscheck.make_targets()
    calls = docscheck.script_calls("scripts/minikube.sh launch\nscripts/k8s-secret.sh --bogus x")
    assert [bool(docscheck.script_problem(c)) for c in calls] == [True, True]
    ok = docscheck.script_calls(
        "scripts/minikube.sh up|down && scripts/k8s-secret.sh --overlay neon"
    )
    assert [docscheck.script_problem(c) for c in ok] == [None, None]
    assert docscheck.make_invocations("make run    # start\nmake bench-quick X=1") == [
        "run",
        "bench-quick",
    ]


# ------------------------------------------------------------------------- the MCP section
def test_readme_names_exactly_the_mcp_tools(docs: dict[str, docscheck.Doc]) -> None:
    from todo_api.agent.tools import TOOL_NAMES

    mcp = docscheck.section(get(docs, "README.md").text, "The MCP endpoint")
    listed = mcp[mcp.index("at `/mcp`:") : mcp.index("Every request")]
    assert set(re.findall(r"`([a-z_]+)`", listed)) == set(TOOL_NAMES)


def test_readme_mcp_commands_work(docs: dict[str, docscheck.Doc], backend: str) -> None:
    """The README's login + tools/list commands, run as written against a real backend."""
    from todo_api.agent.tools import TOOL_NAMES

    require_tool("curl")
    require_tool("python3")
    mcp = docscheck.Doc("mcp", docscheck.section(get(docs, "README.md").text, "The MCP endpoint"))
    (block,) = [b.text for b in mcp.blocks if b.lang == "bash" and "tools/list" in b.text]
    account = {"email": "you@example.com", "password": "your-password"}
    signup = httpx.post(f"{backend}/api/auth/signup", json=account, timeout=10)
    assert signup.status_code in {201, 409}, signup.text
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.replace("http://localhost:8001", backend)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["jsonrpc"] == "2.0" and answer["id"] == 1
    assert {tool["name"] for tool in answer["result"]["tools"]} == set(TOOL_NAMES)
    for config in (b.text for b in mcp.blocks if b.lang == "json"):
        assert "http://localhost:8001/mcp" in config and "Bearer " in config


# ------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class EnvDoc:
    name: str
    read_by: frozenset[str]
    default_cell: str


def documented_env(readme: str) -> dict[str, EnvDoc]:
    out: dict[str, EnvDoc] = {}
    for cells in docscheck.table_rows(docscheck.section(readme, "Configuration reference")):
        name = docscheck.first_span(cells[0])
        assert name and re.fullmatch(r"[A-Z][A-Z0-9_]*", name), f"bad row {cells}"
        assert name not in out, f"{name} is documented twice"
        read_by = frozenset(w for w in re.split(r"[,\s]+", cells[1]) if w)
        assert read_by <= set(SOURCES), f"{name}: 'Read by' must list {SOURCES}, got {cells[1]}"
        out[name] = EnvDoc(name, read_by, cells[2])
    return out


def backend_env() -> dict[str, object]:
    """Variable -> default for everything the backend process reads."""
    from todo_api.core.config import Settings

    env: dict[str, object] = {
        name.upper(): field.default for name, field in Settings.model_fields.items()
    }
    for path in (REPO / "backend" / "src").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(
            r"os\.(?:environ\.get|getenv)\(\s*[\"']([A-Z][A-Z0-9_]*)[\"'](?:\s*,\s*[\"']([^\"']*)[\"'])?",
            text,
        ):
            env[m.group(1)] = m.group(2)
        for m in re.finditer(r"os\.environ\[\s*[\"']([A-Z][A-Z0-9_]*)[\"']\s*\]", text):
            env.setdefault(m.group(1), None)
    return env


def frontend_env() -> set[str]:
    """What the frontend's server reads: process.env in the app code, plus the variables its
    image sets for the Next.js standalone server (PORT, HOSTNAME, NODE_ENV, telemetry)."""
    names: set[str] = set()
    root = REPO / "frontend"
    files = [p for p in root.glob("*.ts")] + [
        p
        for sub in ("app", "components", "lib")
        for p in (root / sub).rglob("*")
        if p.suffix in {".ts", ".tsx", ".js", ".mjs"}
    ]
    for path in files:
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"process\.env\.([A-Z][A-Z0-9_]*)", text))
        names |= set(re.findall(r"process\.env\[\s*[\"']([A-Z][A-Z0-9_]*)[\"']\s*\]", text))
    dockerfile = (root / "Dockerfile").read_text(encoding="utf-8")
    runtime = dockerfile[dockerfile.rindex("\nFROM ") :]
    for m in re.finditer(r"^ENV\s+((?:[^\n]*\\\n)*[^\n]*)", runtime, re.M):
        names |= set(re.findall(r"([A-Z][A-Z0-9_]*)=", m.group(1)))
    return names


def compose_env() -> dict[str, str]:
    """Variables substituted into the compose file(s) -> their `${VAR:-default}` default."""
    out: dict[str, str] = {}
    for path in [*REPO.glob("compose*.yaml"), *REPO.glob("deploy/compose*.yaml")]:
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}", text):
            default = m.group(3) if m.group(2) and m.group(2).endswith("-") else ""
            if default or m.group(1) not in out:
                out[m.group(1)] = default
    assert out, "compose.yaml substitutes no variables?"
    return out


def code_env() -> dict[str, set[str]]:
    readers: dict[str, set[str]] = {}
    for source, names in (
        ("backend", set(backend_env())),
        ("frontend", frontend_env()),
        ("compose", set(compose_env())),
    ):
        for name in names:
            readers.setdefault(name, set()).add(source)
    return readers


def test_every_variable_the_code_reads_is_documented(docs: dict[str, docscheck.Doc]) -> None:
    documented = documented_env(docs["README.md"].text)
    missing = sorted(set(code_env()) - set(documented))
    assert not missing, (
        f"read by the code but not in the README's configuration reference: {missing}"
    )


def test_every_documented_variable_is_read_where_it_says(docs: dict[str, docscheck.Doc]) -> None:
    readers = code_env()
    problems = []
    for name, doc in documented_env(docs["README.md"].text).items():
        actual = readers.get(name, set())
        if not actual:
            problems.append(f"{name}: documented, but nothing reads it")
        elif set(doc.read_by) != actual:
            problems.append(f"{name}: 'Read by' says {sorted(doc.read_by)}, code: {sorted(actual)}")
    assert not problems, "\n".join(problems)


def _same_default(cell: str, default: object) -> bool:
    shown = docscheck.first_span(cell)
    if default is None or default == "":
        return shown is None  # "(empty)", "(unset: ...)", "(a built-in ...)"
    if shown is None:
        return False
    if isinstance(default, bool):
        return shown.lower() == str(default).lower()
    if isinstance(default, int | float):
        try:
            return float(shown) == float(default)
        except ValueError:
            return False
    return shown == str(default)


def test_documented_defaults_are_the_codes(docs: dict[str, docscheck.Doc]) -> None:
    from pydantic import SecretStr

    documented = documented_env(docs["README.md"].text)
    problems = []
    for name, default in backend_env().items():
        if isinstance(default, SecretStr):
            continue  # the development-only AUTH_SECRET is deliberately not printed
        if not _same_default(documented[name].default_cell, default):
            problems.append(f"{name}: README {documented[name].default_cell!r}, code {default!r}")
    for name, default in compose_env().items():
        doc = documented[name]
        if "backend" in doc.read_by or not default:
            continue  # backend defaults checked above; compose-only without a default
        if not _same_default(doc.default_cell, default):
            problems.append(f"{name}: README {doc.default_cell!r}, compose.yaml {default!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("example", [".env.example", "backend/.env.example"])
def test_env_examples_use_documented_variables(
    docs: dict[str, docscheck.Doc], example: str
) -> None:
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (REPO / example).read_text(), re.M))
    assert names, f"{example} lists no variables?"
    unknown = names - set(documented_env(docs["README.md"].text))
    assert not unknown, f"{example} sets variables the README does not document: {sorted(unknown)}"


def test_kubernetes_configmaps_use_documented_variables(docs: dict[str, docscheck.Doc]) -> None:
    kubectl = require_tool("kubectl")
    documented = set(documented_env(docs["README.md"].text))
    for overlay in ("local", "neon"):
        out = subprocess.run(
            [kubectl, "kustomize", str(REPO / "deploy" / "k8s" / "overlays" / overlay)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for obj in yaml.safe_load_all(out):
            if obj and obj.get("kind") == "ConfigMap":
                unknown = set(obj.get("data", {})) - documented
                assert not unknown, f"{overlay}: ConfigMap {obj['metadata']['name']}: {unknown}"


# ------------------------------------------------------------------------- error messages
def actual_config_errors() -> set[str]:
    """The one-line errors the backend prints for the bad settings the guides discuss."""
    from todo_api.core.config import ConfigError, load_settings

    bad: list[dict[str, object]] = [
        {"database_url": "mysql://x/y"},
        {"database_url": "postgresql://u:p@/db"},
        {"database_url": "postgresql://u:p@h/db?sslmode=requir"},
        {"app_env": "production", "auth_secret": "short"},
        {"llm_provider": "groq", "groq_api_key": "", "llm_api_key": ""},
        {"llm_provider": "openai", "openai_api_key": "", "llm_api_key": ""},
        {"llm_provider": "openai-compatible", "llm_base_url": ""},
    ]
    out = set()
    for overrides in bad:
        with pytest.raises(ConfigError) as err:
            load_settings(**overrides)
        out.add(f"configuration error: {err.value}")
    return out


def test_documented_error_messages_are_the_real_ones(docs: dict[str, docscheck.Doc]) -> None:
    actual = actual_config_errors()
    llm_source = (REPO / "backend/src/todo_api/agent/llm.py").read_text(encoding="utf-8")
    provider = [
        re.compile(re.escape(m).replace(re.escape("{exc.status_code}"), r"\d+") + "$")
        for m in re.findall(r'"(The AI provider [^"]+)"', llm_source)
    ]
    assert provider, "llm.py has no provider failure messages?"
    problems, checked = [], 0
    for guide, doc in docs.items():
        for span in re.findall(r"`([^`]+)`", doc.prose):
            message = " ".join(span.split())
            if message.startswith("configuration error: ") and not docscheck.PLACEHOLDER.search(
                message
            ):
                checked += 1
                if message not in actual:
                    problems.append(f"{guide}: {message}")
        for quoted in re.findall(r'"(The AI provider [^"]+)"', doc.prose):
            checked += 1
            if not any(p.match(quoted) for p in provider):
                problems.append(f"{guide}: {quoted}")
    assert checked >= 8, f"only {checked} error messages found in the guides"
    assert not problems, "messages the code does not print:\n" + "\n".join(problems)


# ------------------------------------------------------------------------- the brief's table
#: The deployment brief's tasks, numbered and named as the brief does.
PHASE4_TASKS = {
    f"PHASE4-{n:03d}": name
    for n, name in enumerate(
        [
            "Frontend Dockerfile",
            "Frontend .dockerignore",
            "Frontend health endpoint",
            "Backend Dockerfile",
            "Backend .dockerignore",
            "Backend health endpoints",
            "docker-compose",
            "Test images locally",
            "Minikube set-up",
            "Load images into Minikube",
            "Frontend ConfigMap",
            "Frontend Deployment",
            "Frontend Service",
            "Backend Secret",
            "Backend ConfigMap",
            "Backend Deployment",
            "Backend Service",
            "End-to-end test",
            "Frontend chart structure",
            "Frontend chart templates",
            "Frontend chart test",
            "Backend chart structure",
            "Backend chart templates",
            "Backend chart test",
            "Chart documentation",
            "Gordon set-up",
            "Gordon Dockerfile optimisation",
            "kubectl-ai set-up",
            "kubectl-ai operations",
            "kagent",
            "Docker guide",
            "Kubernetes guide",
            "Helm guide",
            "README",
            "Troubleshooting guide",
        ],
        start=1,
    )
}
PHASE4_IDS = list(PHASE4_TASKS)


def phase4_rows(readme: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    table = docscheck.section(readme, "Deployment brief: where each task is done")
    for cells in docscheck.table_rows(table):
        if re.fullmatch(r"PHASE4-\d{3}", cells[0]):
            assert cells[0] not in rows, f"{cells[0]} is mapped twice"
            rows[cells[0]] = cells
    return rows


def test_phase4_table_maps_every_task_once(docs: dict[str, docscheck.Doc]) -> None:
    rows = phase4_rows(docs["README.md"].text)
    missing, extra = sorted(set(PHASE4_IDS) - set(rows)), sorted(set(rows) - set(PHASE4_IDS))
    assert list(rows) == PHASE4_IDS, f"missing {missing}, extra {extra}"


@pytest.mark.parametrize("task", PHASE4_IDS)
def test_phase4_task_points_at_things_that_exist(docs: dict[str, docscheck.Doc], task: str) -> None:
    cells = phase4_rows(docs["README.md"].text)[task]
    assert len(cells) == 3 and cells[1], f"{task}: row needs a task and what fulfils it"
    assert cells[1] == PHASE4_TASKS[task], f"{task} is {PHASE4_TASKS[task]!r} in the brief"
    references = 0
    problems = []
    for span in re.findall(r"`([^`]+)`", cells[2]):
        for token in docscheck.path_tokens(span):
            references += 1
            if problem := docscheck.path_problem(token):
                problems.append(problem)
        for target in docscheck.make_invocations(span):
            references += 1
            if target not in docscheck.make_targets():
                problems.append(f"make {target}: no such target")
        for call in docscheck.script_calls(span):
            if problem := docscheck.script_problem(call):
                problems.append(problem)
    assert references, f"{task}: names no file, make target or script"
    assert not problems, f"{task}: " + "; ".join(problems)
