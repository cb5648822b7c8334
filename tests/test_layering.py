"""`model` never imports `properties`: the spec must not depend on its own checks."""

from __future__ import annotations

import ast
from pathlib import Path

MODEL = Path(__file__).parent.parent / "model"


def test_model_never_imports_properties() -> None:
    offenders = []
    for path in MODEL.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "properties"]
    assert not offenders
