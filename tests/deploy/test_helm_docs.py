"""Each chart's README values table is generated from values.yaml (scripts/helm-values-doc.py)
and must not drift; every key of every values.yaml is documented."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "helm-values-doc.py"
CHARTS = ("todo-backend", "todo-frontend", "todo-chatbot")


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("helm_values_doc", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gen = load_generator()


@pytest.mark.parametrize("chart", CHARTS)
def test_readme_values_table_matches_values_yaml(chart: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", str(REPO / "deploy" / "helm" / chart)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("chart", CHARTS)
def test_table_covers_every_leaf_value_with_its_default(chart: str) -> None:
    values_file = REPO / "deploy" / "helm" / chart / "values.yaml"
    values = yaml.safe_load(values_file.read_text())
    rows = {key: (typ, default, desc) for key, typ, default, desc in gen.rows(values_file)}

    def leaves(node: object, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
        if isinstance(node, dict) and node and f"{'.'.join(prefix)}" not in rows:
            return [p for k, v in node.items() for p in leaves(v, (*prefix, str(k)))]
        return [prefix]

    for path in leaves(values, ()):
        key = ".".join(path)
        assert key in rows, f"{chart}: {key} is missing from the README table"
        _typ, default, desc = rows[key]
        value = values
        for part in path:
            value = value[part]
        assert yaml.safe_load(default) == value, f"{chart}: default of {key}"
        assert desc.strip(), f"{chart}: {key} has no description"
    readme = (REPO / "deploy" / "helm" / chart / "README.md").read_text()
    for key in rows:
        assert f"| `{key}` |" in readme


def test_drift_and_undocumented_keys_are_caught(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "values.yaml").write_text(
        '# -- How many pods.\nreplicaCount: 2\n# -- Image.\nimage:\n  # -- Tag.\n  tag: "1"\n'
    )
    (chart / "README.md").write_text(
        "# x\n\n<!-- values-table:start -->\nold\n<!-- values-table:end -->\n"
    )
    assert gen.main(["--check", str(chart)]) == 1
    assert gen.main(["--write", str(chart)]) == 0
    assert gen.main(["--check", str(chart)]) == 0
    text = (chart / "README.md").read_text()
    assert "| `replicaCount` | int | `2` | How many pods. |" in text
    assert '| `image.tag` | string | `"1"` | Tag. |' in text
    (chart / "values.yaml").write_text("# -- How many pods.\nreplicaCount: 3\n")
    assert gen.main(["--check", str(chart)]) == 1  # a changed default is drift
    (chart / "values.yaml").write_text("replicaCount: 3\n")
    assert gen.main(["--check", str(chart)]) == 2  # an undocumented key is an error
