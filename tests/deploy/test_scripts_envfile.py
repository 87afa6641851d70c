"""One .env reader (scripts/lib/envfile.sh) for k8s-secret.sh and helm-deploy.sh: both scripts
read the same tricky file the same way; BETTER_AUTH_SECRET is an alias of AUTH_SECRET; and the
scripts avoid what breaks on macOS's bash 3.2."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import policy
import pytest
from deploytools import REPO
from stubbed import Sandbox, make_sandbox

from testsupport.tools import require_tool

LIB = REPO / "scripts" / "lib" / "envfile.sh"
GROQ = "gsk_" + "Qx9" * 12  # shaped like a key, not one
SECRET = "s3cr3t # not a comment: inside quotes " + "f" * 24

# Every shape a hand-written .env takes; (key, what the app must receive).
TRICKY = (
    "# settings for the cluster\r\n"
    f'export GROQ_API_KEY="{GROQ}"   # quoted, with a trailing comment\n'
    "LLM_PROVIDER=groq  # note\n"
    "LLM_MODEL='llama-3.3-70b-versatile' # single quotes and a comment\r\n"
    "\tLLM_BASE_URL = https://api.groq.com/openai/v1#no-space-so-not-a-comment\n"
    f'BETTER_AUTH_SECRET="{SECRET}"\n'
    "OPENAI_API_KEY=   # only a comment: empty\n"
    "NOT A VARIABLE LINE\n"
    "export\tLLM_API_KEY=first\n"
    "LLM_API_KEY=second-wins"  # no final newline
)
EXPECTED = {
    "GROQ_API_KEY": GROQ,
    "LLM_PROVIDER": "groq",
    "LLM_MODEL": "llama-3.3-70b-versatile",
    "LLM_BASE_URL": "https://api.groq.com/openai/v1#no-space-so-not-a-comment",
    "BETTER_AUTH_SECRET": SECRET,
    "OPENAI_API_KEY": "",
    "LLM_API_KEY": "second-wins",
}


def read_with_lib(env_file: Path, *keys: str, env: dict[str, str] | None = None) -> list[str]:
    script = (
        f'. "{LIB}"; envfile_read "$1"; shift; for k; do printf "%s\\0" "$(env_setting "$k")"; done'
    )
    proc = subprocess.run(
        ["bash", "-c", script, "_", str(env_file), *keys],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split("\0")[:-1]


@pytest.fixture
def tricky(tmp_path: Path) -> Path:
    path = tmp_path / "tricky.env"
    path.write_bytes(TRICKY.encode())
    return path


def decoded(obj: policy.Obj) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()}


def test_the_reader_understands_every_shape(tricky: Path) -> None:
    assert dict(zip(EXPECTED, read_with_lib(tricky, *EXPECTED), strict=True)) == EXPECTED
    # the environment wins over the file
    assert read_with_lib(tricky, "LLM_PROVIDER", env={"LLM_PROVIDER": "openai"}) == ["openai"]


def test_both_scripts_read_the_same_tricky_file_the_same_way(
    tmp_path: Path, kubectl: str, tricky: Path
) -> None:
    box: Sandbox = make_sandbox(tmp_path, kubectl)
    # k8s-secret.sh (the plain manifests' Secret)
    out = tmp_path / "secrets.yaml"
    proc = box.run(
        "k8s-secret.sh", "--env-file", str(tricky), "--output", str(out), PATH="/usr/bin:/bin"
    )
    assert proc.returncode == 0, proc.stderr
    (secret,) = [
        o for o in policy.parse_yaml(out.read_text()) if o["metadata"]["name"] == "backend-secret"
    ]
    plain = decoded(secret)
    # helm-deploy.sh (the chart's Secret and ConfigMap), real helm, no cluster
    rendered = tmp_path / "rendered.yaml"
    proc = box.run(
        "helm-deploy.sh",
        "render",
        str(rendered),
        HELM=require_tool("helm"),
        ENV_FILE=str(tricky),
        PATH="/usr/bin:/bin",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    objs = policy.parse_yaml(rendered.read_text())
    chart_secret = decoded(
        next(o for o in objs if o["kind"] == "Secret" and o["metadata"]["name"] == "todo-backend")
    )
    chart_config = next(
        o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "todo-backend"
    )["data"]
    chart = {**chart_config, **chart_secret}

    for values in (plain, chart):
        assert values["GROQ_API_KEY"] == GROQ
        assert values["LLM_PROVIDER"] == "groq"  # "groq  # note" fails the chart's schema
        assert values["LLM_MODEL"] == "llama-3.3-70b-versatile"  # no quote kept
        assert values["LLM_BASE_URL"] == EXPECTED["LLM_BASE_URL"]
        assert values["LLM_API_KEY"] == "second-wins"
        assert values["AUTH_SECRET"] == SECRET  # from BETTER_AUTH_SECRET
        assert "OPENAI_API_KEY" not in values or values["OPENAI_API_KEY"] == ""
    assert "AUTH_SECRET(from BETTER_AUTH_SECRET)" in proc.stdout
    for text in (proc.stdout, proc.stderr):
        assert GROQ not in text and SECRET not in text


@pytest.mark.parametrize(
    ("file_text", "env", "expected"),
    [
        (f"BETTER_AUTH_SECRET={'b' * 40}\n", {}, "b" * 40),
        (f"BETTER_AUTH_SECRET={'b' * 40}\nAUTH_SECRET={'a' * 40}\n", {}, "a" * 40),
        (f"AUTH_SECRET={'a' * 40}\n", {"BETTER_AUTH_SECRET": "e" * 40}, "e" * 40),
    ],
    ids=["alias", "AUTH_SECRET-wins", "environment-wins"],
)
def test_better_auth_secret_is_an_alias(
    tmp_path: Path, kubectl: str, file_text: str, env: dict[str, str], expected: str
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(file_text)
    out = tmp_path / "s.yaml"
    proc = subprocess.run(
        [
            str(REPO / "scripts" / "k8s-secret.sh"),
            "--env-file",
            str(env_file),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "KUBECTL": kubectl, **env},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (secret,) = [
        o for o in policy.parse_yaml(out.read_text()) if o["metadata"]["name"] == "backend-secret"
    ]
    assert decoded(secret)["AUTH_SECRET"] == expected


def test_a_short_alias_is_refused_by_its_name(tmp_path: Path, kubectl: str) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BETTER_AUTH_SECRET=short\n")
    proc = subprocess.run(
        [
            str(REPO / "scripts" / "k8s-secret.sh"),
            "--env-file",
            str(env_file),
            "--output",
            str(tmp_path / "s.yaml"),
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "KUBECTL": kubectl},
        check=False,
    )
    assert proc.returncode == 1
    assert "BETTER_AUTH_SECRET in" in proc.stderr and ">= 32" in proc.stderr
    assert "short\n" not in proc.stdout + proc.stderr


# ------------------------------------------------------------------------------ bash 3.2
SCRIPTS = [
    *(REPO / "scripts" / n for n in ("minikube.sh", "helm-deploy.sh", "k8s-secret.sh")),
    *sorted((REPO / "scripts" / "lib").glob("*.sh")),
]
#: Arrays the scripts expand bare: each is created non-empty (bash < 4.4 calls an empty array
#: expanded under `set -u` an unbound variable, and stops).
NON_EMPTY = {"args": r"local args=\(start ", "LABELS": r"^LABELS=\(app\."}
BASH4_ONLY = {
    "associative array": r"\b(declare|local|typeset)\s+-[a-zA-Z]*A",
    "nameref": r"\b(declare|local|typeset)\s+-[a-zA-Z]*n\b",
    "mapfile/readarray": r"\b(mapfile|readarray)\b",
    "case conversion": r"\$\{\w+(\^\^?|,,?)\}",
    "&>> / |&": r"&>>|\|&",
    "case fall-through": r";;&|;&",
    "coproc": r"\bcoproc\b",
}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_bash4_only_constructs(script: Path) -> None:
    """macOS ships bash 3.2: the deploy scripts must not need a newer one."""
    text = "\n".join(
        line for line in script.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    for what, pattern in BASH4_ONLY.items():
        assert not re.search(pattern, text, re.M), f"{script.name} uses a bash 4 {what}"
    for name in re.findall(r'(?<!\+)"\$\{(\w+)\[[@*]\]\}"', text):
        if name in {"BASH_SOURCE", "BASH_REMATCH"}:
            continue
        assert name in NON_EMPTY, f"{script.name} expands ${{{name}[@]}}, which may be empty"
        assert re.search(NON_EMPTY[name], text, re.M), f"{script.name}: {name} may start empty"


#: GNU-only tool uses that fail with macOS's BSD tools.
GNU_ONLY = {
    "BSD sed needs ';' before '}'": r"sed [^\n]*[^;\s]\}'",
    "BSD sed has no \\n in a replacement": r"sed [^\n]*s/[^/\n]*/[^/\n]*\\n",
    "sed -i needs a suffix on BSD": r"\bsed -i\b",
    "readlink -f": r"\breadlink -f\b",
    "grep -P": r"\bgrep -[a-zA-Z]*P",
    "date -d": r"\bdate -d\b",
    "xargs -r": r"\bxargs -[a-zA-Z]*r",
}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_gnu_only_tool_options(script: Path) -> None:
    """The scripts run on macOS too: no option or syntax only GNU coreutils/sed/grep know."""
    text = "\n".join(
        line for line in script.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    for what, pattern in GNU_ONLY.items():
        assert not re.search(pattern, text), f"{script.name}: {what}"
