"""The build: the engine's and the checker's hot modules compiled with mypyc, or pure Python.

``pip install .`` compiles ``COMPILED`` into C extensions (the wheel carries them beside their
``.py`` files; an extension is imported first). It falls back to the pure-Python package when
mypyc is missing, when the compiler fails, or when ``SESSIONSPEC_PURE=1``. Editable installs
(``pip install -e``) are always pure: an extension built beside an edited ``.py`` would silently
run the old code. ``sessionspec --version`` says which build runs (:func:`model.build`).

Everything else is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

COMPILED = (
    # the engine: the clock, its parts, the trigger functions, the records and queues they work on
    "model/sim/clock.py", "model/sim/core.py", "model/sim/closing.py", "model/sim/timers.py",
    "model/sim/device.py", "model/sim/scheduling.py", "model/sim/requests.py", "model/sim/engine.py",
    "model/sim/dispatch.py", "model/sim/entities.py", "model/sim/fair_share.py", "model/sim/retention.py",
    "model/spec/max_time.py",  # the max_time grammar, parsed on every open that gives one
    # the trace: writing and reading lines (model/trace/records.py's msgspec structs stay interpreted)
    "model/trace/reader.py", "model/trace/writer.py", "model/trace/timing.py",
    # the checker: replay, judge and the invariants it runs on every record
    "properties/conformance/judge.py", "properties/conformance/render.py", "properties/conformance/replay.py",
    "properties/conformance/replay_engine.py",
    "properties/invariants/base.py", "properties/invariants/ledger.py", "properties/invariants/lifecycle.py",
    "properties/invariants/requests.py", "properties/invariants/rule_checks.py",
    "properties/invariants/scheduling.py", "properties/invariants/suite.py", "properties/invariants/timers.py",
)
"""What mypyc compiles. Not ``model/sim/devices.py``: its float-typed fields would turn an integer
limit into a float in the trace header (``60`` written ``60.0``), which the golden traces reject."""

_BUILDS = ("build", "build_ext", "bdist_wheel", "install")
"""The setup commands that build extensions; metadata, sdist and editable builds never compile."""


def _note(message: str) -> None:
    print(f"sessionspec build: {message}", file=sys.stderr, flush=True)


def _building() -> bool:
    """Whether this run builds a wheel or an install (not metadata, an sdist or an editable install)."""
    editable = "editable_wheel" in sys.argv or "develop" in sys.argv
    return not editable and any(command in sys.argv for command in _BUILDS)


def _scratch() -> str | None:
    """A fresh build directory, removed at exit: a ``build/`` left by an earlier run could slip its
    extensions into a pure-Python wheel, or old ones into a new wheel."""
    if not _building():
        return None
    scratch = tempfile.mkdtemp(prefix="sessionspec-build-")
    atexit.register(shutil.rmtree, scratch, True)
    return scratch


def _extensions(scratch: str | None) -> list[Any]:
    """The mypyc extensions for ``COMPILED``, or none (the pure-Python build), with the reason said."""
    if scratch is None:
        return []
    if os.environ.get("SESSIONSPEC_PURE") == "1":
        _note("SESSIONSPEC_PURE=1: pure Python")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _note("mypyc is not installed: pure Python")
        return []
    try:
        c_dir, cache = os.path.join(scratch, "c"), os.path.join(scratch, "mypy-cache")
        # pip builds in an environment of its own, where the package's other dependencies may be missing:
        # mypy then takes them as Any (msgspec, whose Structs the compiled code reads, is a build requirement)
        options = ["--ignore-missing-imports", "--follow-imports=silent", "--no-warn-unused-ignores",
                   "--cache-dir", cache]
        return list(mypycify([*COMPILED, *options], target_dir=c_dir, group_name="model._native"))
    except (Exception, SystemExit) as error:  # mypy's type errors end in SystemExit
        _note(f"mypyc failed ({error!r}): pure Python")
        return []


class _BuildExt(build_ext):
    """``build_ext`` that leaves the pure-Python build in place when compiling fails."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no C compiler, a compiler error, missing Python headers
            for output in self.get_outputs():
                if os.path.exists(output):
                    os.remove(output)
            _note(f"compiling failed ({error}): pure Python")


_SCRATCH = _scratch()
setup(
    ext_modules=_extensions(_SCRATCH),
    cmdclass={"build_ext": _BuildExt},
    options={"build": {"build_base": _SCRATCH}} if _SCRATCH else {},
)
