#!/usr/bin/env python3
"""Generate the values table of a Helm chart's README from the comments in its values.yaml.

Convention (as helm-docs): a key is documented by the `# -- text` comment lines right above it.
Every key needs one, maps included. A map whose children carry no `# --` comments is one row (an
object value, e.g. `resources`); otherwise each of its children gets its own row and the map
itself gets none. Lists are always one row.

    scripts/helm-values-doc.py deploy/helm/todo-backend            # print the table
    scripts/helm-values-doc.py --write deploy/helm/todo-*           # update each README.md
    scripts/helm-values-doc.py --check deploy/helm/todo-*           # exit 1 if a README drifted

The table sits in README.md between `<!-- values-table:start -->` and `<!-- values-table:end -->`.
Every key must be documented: an undocumented key is an error (exit 2).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

START, END = "<!-- values-table:start -->", "<!-- values-table:end -->"
_KEY_RE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.\-/\"']+):(?P<rest>.*)$")
_DOC_RE = re.compile(r"^ *# -- ?(?P<text>.*)$")
_MORE_DOC_RE = re.compile(r"^ *#(?! --) ?(?P<text>.*)$")


@dataclass
class Key:
    path: tuple[str, ...]
    doc: str
    line: int
    children: list[Key] = field(default_factory=list)


class UndocumentedKey(ValueError):
    pass


def parse_keys(text: str) -> list[Key]:
    """The tree of keys of a values.yaml with the `# --` comment above each one."""
    roots: list[Key] = []
    stack: list[tuple[int, Key]] = []
    doc: list[str] = []
    in_doc = False
    block_indent: int | None = None  # inside a block scalar (`key: |`): not keys
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not line.strip():
            doc, in_doc = [], False
            continue
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None:
            if indent > block_indent:
                continue
            block_indent = None
        m = _DOC_RE.match(line)
        if m:
            doc.append(m.group("text").strip())
            in_doc = True
            continue
        if line.lstrip().startswith("#"):
            m2 = _MORE_DOC_RE.match(line)
            if in_doc and m2:  # continuation of a `# --` block
                doc.append(m2.group("text").strip())
            continue
        m = _KEY_RE.match(line)
        if not m:  # a list item: its keys belong to the list value, not the tree
            doc, in_doc = [], False
            continue
        key = m.group("key").strip("\"'")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else None
        node = Key(path=(parent.path if parent else ()) + (key,), doc=" ".join(doc), line=lineno)
        (parent.children if parent else roots).append(node)
        doc, in_doc = [], False
        rest = m.group("rest").split(" #", 1)[0].strip()
        if rest in ("|", ">", "|-", ">-"):
            block_indent = indent
        elif rest == "":
            stack.append((indent, node))
    return roots


def _lookup(values: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        values = values[part]
    return values


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "null"


def rows(values_file: Path) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every documented value, in file order."""
    text = values_file.read_text()
    values = yaml.safe_load(text) or {}
    out: list[tuple[str, str, str, str]] = []

    def documented(node: Key) -> bool:
        return any(c.doc or documented(c) for c in node.children)

    def walk(node: Key) -> None:
        value = _lookup(values, node.path)
        if isinstance(value, list):
            node.children = []  # list items are not keys
        if not node.doc:
            raise UndocumentedKey(
                f"{values_file}:{node.line}: key {'.'.join(node.path)} has no `# --` comment"
            )
        if node.children and documented(node):
            for child in node.children:
                walk(child)
            return
        default = json.dumps(value, ensure_ascii=False)
        out.append((".".join(node.path), _type(value), default, node.doc))

    for root in parse_keys(text):
        walk(root)
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(values_file: Path) -> str:
    lines = [
        "| Key | Type | Default | Description |",
        "|-----|------|---------|-------------|",
    ]
    for key, typ, default, desc in rows(values_file):
        lines.append(f"| `{_cell(key)}` | {typ} | `{_cell(default)}` | {_cell(desc)} |")
    return "\n".join(lines) + "\n"


def render_readme(readme: str, tbl: str) -> str:
    if START not in readme or END not in readme:
        raise ValueError(f"README has no {START} ... {END} block")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{tbl}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("charts", nargs="+", type=Path, help="chart directories")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="update README.md in place")
    mode.add_argument("--check", action="store_true", help="exit 1 when a README is out of date")
    args = parser.parse_args(argv)
    status = 0
    for chart in args.charts:
        try:
            tbl = table(chart / "values.yaml")
        except UndocumentedKey as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if not (args.write or args.check):
            sys.stdout.write(tbl)
            continue
        readme_path = chart / "README.md"
        current = readme_path.read_text()
        wanted = render_readme(current, tbl)
        if args.write and wanted != current:
            readme_path.write_text(wanted)
            print(f"updated {readme_path}")
        elif args.check and wanted != current:
            print(
                f"{readme_path}: values table is out of date; run "
                f"scripts/helm-values-doc.py --write {chart}",
                file=sys.stderr,
            )
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
