"""The two builds (setup.py): compiled by ``pip install .``, pure Python for editable installs.

The whole suite runs against either (``make test`` the pure one, ``make test-compiled`` the
compiled one); these tests hold the rules that keep a stale extension from running old code.
"""

from __future__ import annotations

import ast
from importlib.machinery import EXTENSION_SUFFIXES
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

import model
from model.sim import engine
from properties.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def _compiled_list() -> tuple[str, ...]:
    """setup.py's ``COMPILED``, read without running setup()."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "COMPILED" for t in node.targets):
            value = ast.literal_eval(node.value)
            assert isinstance(value, tuple)
            return value
    raise AssertionError("setup.py declares no COMPILED")


def test_compiled_modules_exist_and_leave_msgspec_structs_interpreted() -> None:
    compiled = _compiled_list()
    assert compiled, "setup.py compiles nothing"
    for path in compiled:
        assert (ROOT / path).is_file(), path
    # msgspec's Struct class keywords and the float-typed limits of devices.py do not survive mypyc
    for interpreted in ("model/trace/records.py", "model/sim/ops.py", "model/sim/devices.py"):
        assert interpreted not in compiled


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout (the suite runs on an installed copy)")
def test_no_extension_beside_the_sources() -> None:
    """An extension module shadows its ``.py``: one left in the source tree would run old code after an edit."""
    stale = [str(p.relative_to(ROOT)) for package in ("model", "properties")
             for p in (ROOT / package).rglob("*") if p.name.endswith(tuple(EXTENSION_SUFFIXES))]
    assert stale == []


def test_version_names_the_build() -> None:
    done = CliRunner().invoke(cli, ["--version"])
    assert done.exit_code == 0
    assert done.output.endswith(f", version {version('sessionspec')} ({model.build()})\n")
    compiled = (engine.__file__ or "").endswith(tuple(EXTENSION_SUFFIXES))
    assert model.build() == ("compiled" if compiled else "pure Python")


def test_an_editable_install_is_pure() -> None:
    """Run from the source tree (``pip install -e``), the model is never the compiled build."""
    if Path(model.__file__).resolve().parent == ROOT / "model" and (ROOT / ".git").exists():
        assert model.build() == "pure Python"
