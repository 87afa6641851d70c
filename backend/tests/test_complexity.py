"""No function in backend/src above cyclomatic complexity 20 (radon), the agent's rules included.

A function past that needs a reader to hold too many paths at once; split it instead of raising
the limit. The failure names every offender with its file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function

MAX_COMPLEXITY = 20
SOURCE = Path(__file__).resolve().parents[1] / "src" / "todo_api"


def _functions(blocks: list[Function | Class]) -> Iterator[Function]:
    """Every function, method and nested function; a class's own score is the sum of its methods."""
    for block in blocks:
        if isinstance(block, Class):
            yield from _functions(block.methods)
            yield from _functions(block.inner_classes)
        else:
            yield block
            yield from _functions(block.closures)


def too_complex(source: str, limit: int = MAX_COMPLEXITY) -> list[str]:
    # radon lists a method both on its own and under its class: report each one once.
    reports = {
        f"{function.fullname} (line {function.lineno}): {function.complexity}": None
        for function in _functions(cc_visit(source))
        if function.complexity > limit
    }
    return list(reports)


def test_no_function_in_backend_src_is_above_the_limit() -> None:
    files = sorted(SOURCE.rglob("*.py"))
    assert len(files) > 20, f"found only {len(files)} files under {SOURCE}"
    offenders = [
        f"{path.relative_to(SOURCE.parent)}: {entry}"
        for path in files
        for entry in too_complex(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, (
        f"cyclomatic complexity above {MAX_COMPLEXITY}; split these:\n" + "\n".join(offenders)
    )


def test_the_check_sees_a_branchy_function() -> None:
    """The measure itself: 21 independent branches score 22 and are reported by name."""
    branches = "".join(f"    if x == {n}:\n        return {n}\n" for n in range(21))
    source = f"class Rules:\n    def pick(self, x):\n{branches.replace('    ', '        ')}"
    assert too_complex(source) == ["Rules.pick (line 2): 22"]
    assert too_complex("def small(x):\n    return x\n") == []
