"""Where each rule is checked: the properties that cite it and the tests marked with it.

Tests cite rules with ``@pytest.mark.rule("ID", ...)`` (on a function, a class, or as
a module's ``pytestmark``). They are found by reading the test files' syntax trees,
not by importing them, so the catalogue can be generated without running pytest.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from properties.invariants.catalogue import ALL_PROPERTIES


def _rule_marks(decorators: list[ast.expr]) -> Iterator[str]:
    for node in decorators:
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "rule"
                and isinstance(call.func.value, ast.Attribute)
                and call.func.value.attr == "mark"
            ):
                for arg in call.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        yield arg.value


def marked_tests(tests_dir: Path) -> dict[str, list[str]]:
    """Rule ID -> ``file::test`` names marked with it, for every test module in ``tests_dir``."""
    table: dict[str, list[str]] = defaultdict(list)
    for path in sorted(tests_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        module_marks: list[str] = []
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
            ):
                module_marks.extend(_rule_marks([node.value]))
        for item in ast.walk(tree):
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                marks = list(_rule_marks(item.decorator_list))
                if isinstance(item, ast.ClassDef) or item.name.startswith("test"):
                    for rule_id in [*marks, *(module_marks if item.name.startswith("test") else [])]:
                        table[rule_id].append(f"{path.name}::{item.name}")
    return {k: sorted(set(v)) for k, v in table.items()}


def property_checks() -> dict[str, list[str]]:
    """Rule ID -> names of the properties that check it."""
    table: dict[str, list[str]] = defaultdict(list)
    for prop in ALL_PROPERTIES:
        for rule_id in prop.rules:
            table[rule_id].append(prop.name)
    return dict(table)
