"""Commands the guides show that need no cluster are run as written.

- every `helm lint` / `helm template` / `kubectl kustomize` line of a code block;
- every piece of code that passes `--set` values (or `-f` values files) to the chart: rendered
  with `helm template` against the umbrella chart, so each value name the docs suggest exists and
  passes the chart's schema, and the documented bad value fails with the documented message.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from concurrent.futures import ThreadPoolExecutor

import docscheck
import pytest
from docscheck import REPO

from testsupport.tools import require_tool

CHART = "deploy/helm/todo-chatbot"
OFFLINE = re.compile(r"^(helm (lint|template)|kubectl kustomize)\s")


@pytest.fixture(scope="module", autouse=True)
def umbrella_dependencies() -> None:
    """The first step docs/HELM.md shows: package the file:// subcharts (offline) into charts/,
    which git ignores, so a fresh clone renders the umbrella chart the way a newcomer's does."""
    helm = require_tool("helm")
    res = subprocess.run(
        [helm, "dependency", "build", CHART],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr


def code_lines(doc: docscheck.Doc) -> list[str]:
    """Shell lines of the fenced blocks (continuations joined, comments dropped) + inline spans."""
    out = []
    for block in doc.blocks:
        if block.lang not in {"bash", "sh", "shell", ""}:
            continue
        for line in block.text.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out + doc.spans


def documented() -> list[tuple[str, str]]:
    return [
        (guide, line)
        for guide in docscheck.GUIDES
        if (REPO / guide).is_file()
        for line in code_lines(docscheck.load(guide))
    ]


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_offline_commands_run_as_written() -> None:
    helm, kubectl = require_tool("helm"), require_tool("kubectl")
    commands = []
    for guide, line in documented():
        if OFFLINE.match(line):
            command = line.split(" | ")[0]  # `| less` and friends are for the reader
            argv = shlex.split(command)
            argv[0] = helm if argv[0] == "helm" else kubectl
            commands.append((guide, command, argv))
    assert commands, "the guides show no helm lint/template or kubectl kustomize command?"
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda c: run(c[2]), commands))
    failed = [
        f"{guide}: {command}\n{res.stderr[-400:]}"
        for (guide, command, _), res in zip(commands, results, strict=True)
        if res.returncode != 0
    ]
    assert not failed, "\n\n".join(failed)


def value_args(line: str) -> list[str] | None:
    """The `--set` / `-f` arguments of a documented command (None when it passes none)."""
    if "--set " not in line or "oci://" in line or "--set key=value" in line:
        return None  # no --set, another project's chart (kagent), or the generic syntax
    words = shlex.split(re.sub(r"\$\{?\w+\}?", "dummy", line.split(" | ")[0]))
    args = []
    for i, word in enumerate(words[:-1]):
        if word == "--set" or (word == "-f" and words[i + 1].startswith("deploy/helm/")):
            args += [word, words[i + 1]]
    return args


def test_documented_values_render() -> None:
    helm = require_tool("helm")
    cases = sorted(
        {
            (guide, tuple(args))
            for guide, line in documented()
            if (args := value_args(line)) is not None
        }
    )
    assert len(cases) >= 5, f"expected the guides' --set examples, found {cases}"
    base = [helm, "template", "todo", CHART, "-f", f"{CHART}/values-minikube.yaml"]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda c: run(base + list(c[1])), cases))
    problems = []
    for (guide, args), res in zip(cases, results, strict=True):
        shown = " ".join(args)
        if "=-1" in shown:  # HELM.md shows this one failing, with the message
            expected = "at '/replicaCount': minimum: got -1, want 0"
            if res.returncode == 0 or expected not in res.stderr:
                problems.append(f"{guide}: {shown} should fail with {expected!r}")
            elif expected not in (REPO / guide).read_text():
                problems.append(f"{guide}: does not show the message {expected!r}")
        elif res.returncode != 0:
            problems.append(f"{guide}: {shown}\n{res.stderr[-400:]}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("line", "args"),
    [
        ("helm upgrade todo x --reuse-values --set a.b=3 --wait", ["--set", "a.b=3"]),
        (
            "--set k=$GROQ_API_KEY -f deploy/helm/v.yaml",
            ["--set", "k=dummy", "-f", "deploy/helm/v.yaml"],
        ),
        ("helm list -n todo-helm", None),
    ],
)
def test_value_args_parsing(line: str, args: list[str] | None) -> None:
    assert value_args(line) == args
