"""The import structure: `model` never imports `properties`, no package imports itself in a
cycle, and the heavy drawing library loads only where a picture is drawn."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from properties.cli import COMMANDS

ROOT = Path(__file__).parent.parent
PACKAGES = ("model", "properties")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    """Every name an import statement may load: ``from a import b`` loads ``a`` and maybe ``a.b``."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
        base = ".".join([*anchor, *([base] if base else [])])
    yield base
    yield from (f"{base}.{alias.name}" for alias in node.names)


def _ours(name: str) -> str | None:
    """The module of ours that importing ``name`` runs (``model.sim.ops.apply`` -> ``model.sim.ops``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> set[str]:
    """The modules of ours that ``module`` imports at run time: at module level and inside functions,
    not under ``if TYPE_CHECKING``."""
    path = MODULES[module]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                for name in _imported(child, module, path.name == "__init__.py"):
                    target = _ours(name)
                    if target is not None and target != module:
                        found.add(target)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


GRAPH = {module: imports(module) for module in MODULES}
GRAPH["properties.cli"] |= {target.partition(":")[0] for target in COMMANDS.values()}  # imported by name, lazily


def test_model_never_imports_properties() -> None:
    offenders = [f"{m} -> {t}" for m, targets in GRAPH.items() if m.startswith("model") for t in targets
                 if t.startswith("properties")]
    assert not offenders


def test_no_import_cycle() -> None:
    found = cycles(GRAPH)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_cycle_finder_finds_a_function_level_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert "properties.conformance.judge" in GRAPH["properties.conformance.campaign"]


def test_no_module_is_looked_up_by_name() -> None:
    """A dependency hidden behind importlib escapes the graph; only user-named adapters are loaded so."""
    allowed = {"properties.cli", "properties.conformance.adapter"}  # commands by name; --adapter MODULE:FACTORY
    users = {m for m, p in MODULES.items() if "import_module(" in p.read_text(encoding="utf-8")}
    assert users <= allowed


@pytest.mark.parametrize(
    "code",
    [
        "from properties.cli import cli\ntry:\n    cli(['check', '--help'])\nexcept SystemExit:\n    pass",
        "import properties.conformance.campaign",
    ],
)
def test_matplotlib_loads_only_to_draw(code: str) -> None:
    probe = f"import sys\n{code}\nsys.stdout.write(str('matplotlib' in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True,
                            timeout=120)
    assert result.stdout.endswith("False")


LAYERS = ("model.spec", "model.trace", "model.sim", "model.views", "model.runtime", "model.serve",
          "properties.invariants", "properties.scale", "properties.conformance", "properties.cli")
"""The packages of the README's architecture picture (the faces ``model`` and ``properties`` stand apart)."""


def _layer(module: str) -> str | None:
    return next((layer for layer in LAYERS if module == layer or module.startswith(layer + ".")), None)


def _package_edges() -> set[tuple[str, str]]:
    edges = set()
    for module in MODULES:
        source = _layer(module)
        for target in imports(module):
            layer = _layer(target)
            if source and layer and layer != source:
                edges.add((source, layer))
    return edges


def _drawn_edges() -> set[tuple[str, str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- BEGIN architecture", 1)[1].split("<!-- END architecture", 1)[0]
    block = block.split("```mermaid", 1)[1].split("```", 1)[0]
    nodes = {line.split("[", 1)[0].strip(): line.split('"', 2)[1].split("<br/>", 1)[0]
             for line in block.splitlines() if '["' in line}
    return {(nodes[a.strip()], nodes[b.strip()])
            for line in block.splitlines() if "-->" in line for a, b in [line.split("-->")]}


def test_the_readme_architecture_picture_is_the_import_graph() -> None:
    """Every package dependency is drawn, and every drawn one exists: the picture cannot go stale."""
    actual, drawn = _package_edges(), _drawn_edges()
    assert {layer for edge in drawn for layer in edge} == set(LAYERS)
    assert actual - drawn == set(), "imports the README does not draw"
    assert drawn - actual == set(), "arrows the code does not have"
