"""Variant engines (the mutants, the replay engine) touch the engine only through what it declares for them.

An AST scan of their modules: inside a class that subclasses :class:`Engine`, every ``self.x`` that names
one of the engine's attributes must be an extension point or in ``FOR_VARIANTS``, and none starts with
``_``; in a module-level function, ``engine._x`` / ``e._x`` naming an engine attribute is refused too, as
is ``getattr(obj, "_x")``. A variant's own ``_x`` (one the engine does not define) is its own business.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator, Set
from pathlib import Path
from types import ModuleType

import pytest

from model.sim.devices import BackendConfig
from model.sim.engine import EXTENSION_POINTS, FOR_VARIANTS, Engine
from model.spec.interpretations import Interpretation

VARIANT_MODULES = ("properties.conformance.mutants", "properties.conformance.replay_engine")
ENGINE_NAMES = ("self", "engine", "e")
"""Names under which a variant's code holds an engine (``e`` and ``engine``: the request checks' argument)."""


ROOT = Path(__file__).resolve().parents[1]


def _source(module_name: str) -> str:
    """A module's source, read from the tree: under the compiled build the module is an extension
    (``inspect.getsource`` cannot read it), its ``.py`` installed beside it."""
    return (ROOT / (module_name.replace(".", "/") + ".py")).read_text(encoding="utf-8")


def _defined_in(cls: ast.ClassDef) -> set[str]:
    """What a class's source defines: methods, class attributes and annotations, slots, ``self.x = ...``."""
    names: set[str] = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
            if any(isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets):
                slots = ast.walk(node.value)
                names |= {e.value for e in slots if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return names | _assigned_on_self(cls, frozenset())


def _engine_attributes() -> set[str]:
    """Every attribute the engine's parts define, read from their source (a compiled class keeps no
    ``__slots__`` or annotations to look at) and from the classes themselves."""
    names: set[str] = set()
    for cls in Engine.__mro__:
        if cls is object:
            continue
        names |= set(vars(cls))
        tree = ast.parse(_source(cls.__module__))
        names |= {name for node in tree.body if isinstance(node, ast.ClassDef) and node.name == cls.__name__
                  for name in _defined_in(node)}
    return {name for name in names if not (name.startswith("__") and name.endswith("__"))}


def _variant_classes(module: ModuleType, tree: ast.Module) -> dict[str, set[str]]:
    """The module's Engine subclasses, each with the attributes its own classes (below Engine) define."""
    found: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            cls = getattr(module, node.name, None)
            if inspect.isclass(cls) and issubclass(cls, Engine):
                own = (c for c in cls.__mro__ if issubclass(c, Engine) and c is not Engine)
                found[node.name] = {name for c in own for name in vars(c)} - ENGINE_ATTRIBUTES
                found[node.name] |= _assigned_on_self(node, ENGINE_ATTRIBUTES)
    return found


def _assigned_on_self(cls: ast.ClassDef, exclude: Set[str]) -> set[str]:
    """``self.x = ...`` in the class's methods: instance attributes it sets (those ``exclude`` names aside)."""
    return {
        target.attr for node in ast.walk(cls) if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"
    } - exclude


ENGINE_ATTRIBUTES = _engine_attributes()


def _names_engine(cls: ast.ClassDef) -> bool:
    return any(isinstance(base, ast.Name) and base.id == "Engine" for base in cls.bases)


def uses(source: str, module: ModuleType | None = None) -> Iterator[tuple[int, str, str]]:
    """(line, holder, attribute) for each engine attribute the source reaches: ``self.x`` inside an Engine
    subclass, ``engine.x``/``e.x`` anywhere, and ``getattr(holder, "x")``."""
    tree = ast.parse(source)
    variants = _variant_classes(module, tree) if module is not None else {}
    in_variant: dict[int, set[str]] = {}
    for top in tree.body:
        if isinstance(top, ast.ClassDef) and (top.name in variants or (module is None and _names_engine(top))):
            own = variants.get(top.name, _assigned_on_self(top, ENGINE_ATTRIBUTES))
            for inner in ast.walk(top):
                in_variant[id(inner)] = own
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            holder, name = node.value.id, node.attr
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name) and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            holder, name = node.args[0].id, node.args[1].value
        else:
            continue
        if holder == "self" and id(node) not in in_variant:
            continue  # self of a class that is no engine (the replay's Observed, a dataclass)
        if holder not in ENGINE_NAMES or name not in ENGINE_ATTRIBUTES:
            continue
        if holder == "self" and name in in_variant[id(node)]:
            continue
        yield node.lineno, holder, name


def _module_uses(name: str) -> list[tuple[int, str, str]]:
    return list(uses(_source(name), importlib.import_module(name)))


@pytest.mark.parametrize("name", VARIANT_MODULES)
def test_variant_engines_touch_nothing_private_of_the_engine(name: str) -> None:
    private = [f"{name}:{line}: {holder}.{attr}" for line, holder, attr in _module_uses(name) if attr.startswith("_")]
    assert not private, "a variant engine reaches into the engine's private state:\n" + "\n".join(private)


@pytest.mark.parametrize("name", VARIANT_MODULES)
def test_variant_engines_use_only_extension_points_and_what_is_declared_for_variants(name: str) -> None:
    allowed = set(EXTENSION_POINTS) | set(FOR_VARIANTS)
    undeclared = [
        f"{name}:{line}: {holder}.{attr}" for line, holder, attr in _module_uses(name)
        if holder == "self" and attr not in allowed
    ]
    assert not undeclared, "declare these in FOR_VARIANTS (model/sim/engine.py) or leave them alone:\n" + "\n".join(
        undeclared
    )


def test_the_declared_names_are_public_attributes_of_the_engine() -> None:
    assert all(hasattr(Engine, name) or name in ENGINE_ATTRIBUTES for name in FOR_VARIANTS)
    assert not any(name.startswith("_") for name in FOR_VARIANTS)
    assert not set(FOR_VARIANTS) & set(EXTENSION_POINTS)


def test_the_scan_sees_private_access_in_its_every_form() -> None:
    """The scan is real: each way of reaching a private field is reported, a variant's own field is not."""
    source = '''
class Variant(Engine):
    def __init__(self):
        self._mine = 1
    def on_max_time(self, session, token):
        self._emit(None)
        self._mine += 1
        getattr(self, "_heap").clear()

def check(engine, o):
    return engine._window_seconds

class Other:
    def f(self):
        return self._seq
'''
    found = sorted((line, holder, attr) for line, holder, attr in uses(source))
    assert found == [(6, "self", "_emit"), (8, "self", "_heap"), (11, "engine", "_window_seconds")]


def test_timer_settings_give_what_the_replay_engine_reads() -> None:
    platform = Engine([BackendConfig("b0")], interpretation=Interpretation({}, "platform")).timer_settings
    seeds = Engine([BackendConfig("b0")]).timer_settings
    assert seeds.unused_timeout is None and platform.unused_timeout is not None
    assert platform.window_seconds < seeds.window_seconds == Engine.interactive_window
