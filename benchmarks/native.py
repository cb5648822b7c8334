"""A mypyc-compiled mirror of the project, for the benchmarks' native figures.

``python -m benchmarks.native [--test]`` (``make bench`` runs the build and the check;
``make test-native`` adds ``--test``).

The hot modules of the engine and of the trace checker are type-checked under
``mypy --strict`` already, so mypyc (mypy's compiler) turns them into C extensions
unchanged. They are compiled into a *copy* of the project, ``out/native/``, never
beside the sources: an extension shadows its ``.py``, and a stale build in the source
tree would run old code after an edit. The copy is rebuilt whenever a source file's
content changes (a digest of every copied file is the stamp).

A build is only used once it is shown to behave as the interpreted code does:
``verify`` records the golden traces (:mod:`benchmarks.golden`) with the interpreted
tree and compares them, byte for byte, with the compiled engine's, then checks every one
of those traces with both trees' checkers and compares the reports; ``--test`` also runs
the whole test suite in the mirror, against the compiled modules.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIRROR = ROOT / "out" / "native"

MODULES = (
    # the engine's hot path (the generated trigger functions of model/sim/dispatch.py stay interpreted)
    "model/sim/engine.py", "model/sim/entities.py", "model/sim/fair_share.py",
    # the trace checker's hot path: reading, replaying
    "properties/conformance/reader.py", "properties/conformance/line_decoder.py", "properties/conformance/replay.py",
    "properties/conformance/replay_engine.py", "properties/conformance/checker.py",
    "properties/conformance/render.py",
    # and the property catalogue: the suite, its shared ledger, the properties
    "properties/invariants/base.py", "properties/invariants/suite.py", "properties/invariants/ledger.py", "properties/invariants/lifecycle.py",
    "properties/invariants/scheduling.py", "properties/invariants/timers.py", "properties/invariants/requests.py", "properties/invariants/catalogue.py",
)
"""What is compiled. Not ``model/trace.py`` or ``model/sim/devices.py``: compiled, their typed
boundaries coerce ints to floats in the trace (``60`` becomes ``60.0``), which the golden
comparison rejects, for no measurable gain. The property bases allow interpreted subclasses
(users write their own properties), which declare the records they read as class data
(``ClassVar``, looked up on the class), so that a compiled base cannot hide it."""

_COPIED = ("model", "properties", "benchmarks", "tests", "docs", "examples", "diagrams", "pyproject.toml",
           "README.md", "Makefile")
_SKIPPED_DIRS = frozenset(("__pycache__", "build", ".hypothesis"))
_SKIPPED_SUFFIXES = frozenset((".so", ".pyc"))

_BUILD = """
from mypyc.build import mypycify
from setuptools import setup
setup(name="sessionspec-native", packages=[], py_modules=[],
      ext_modules=mypycify({modules!r}, group_name="model._native", opt_level="3"))
"""


class BuildError(Exception):
    """The mirror could not be built or does not behave as the interpreted tree does."""


def _files(root: Path) -> list[Path]:
    """The files the mirror is a copy of, relative to ``root``: what is hashed is exactly what is copied."""
    found: list[Path] = []
    for name in _COPIED:
        path = root / name
        items = [path] if path.is_file() else sorted(path.rglob("*"))
        for item in items:
            relative = item.relative_to(root)
            if item.is_file() and not _SKIPPED_DIRS.intersection(relative.parts) and (
                item.suffix not in _SKIPPED_SUFFIXES and item.name != "results.json"
            ):
                found.append(relative)
    return found


def digest(root: Path = ROOT) -> str:
    """What the mirror is built from: every copied file's path and bytes, and the build's own inputs."""
    from mypy.version import __version__ as mypyc_version

    sha = hashlib.sha256(repr((MODULES, _BUILD, sys.version, mypyc_version)).encode())
    for relative in _files(root):
        sha.update(str(relative).encode() + b"\0" + (root / relative).read_bytes() + b"\0")
    return sha.hexdigest()


def build(root: Path = ROOT, mirror: Path = MIRROR) -> tuple[Path, str]:
    """The compiled mirror of ``root``, verified, and what the verification found.

    Copied, compiled and verified unless the stamp says the mirror of these very sources
    already passed; the stamp is written only after ``verify`` passes.
    """
    stamp = mirror / ".native-stamp"
    wanted = digest(root)
    if stamp.is_file():
        done_digest, _, note = stamp.read_text().partition("\n")
        if done_digest == wanted:
            return mirror, note
    if mirror.exists():
        shutil.rmtree(mirror)
    for relative in _files(root):
        (mirror / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, mirror / relative)
    print(f"sessionspec: compiling {len(MODULES)} modules with mypyc into {mirror} ...", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, "-c", _BUILD.format(modules=list(MODULES)), "build_ext", "--inplace"],
        cwd=mirror, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise BuildError(f"mypyc build failed in {mirror} (exit {done.returncode}):\n{tail}")
    shutil.rmtree(mirror / "build", ignore_errors=True)
    missing = [m for m in MODULES if not list((mirror / m).parent.glob(Path(m).stem + ".*.so"))]
    if missing:
        raise BuildError(f"mypyc build left no extension for {', '.join(missing)}")
    note = verify(mirror, root)
    stamp.write_text(f"{wanted}\n{note}")
    return mirror, note


def environment(tree: Path) -> dict[str, str]:
    """The environment of a process that imports ``model`` and ``properties`` from ``tree``."""
    return dict(os.environ, PYTHONPATH=str(tree) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def compiled() -> bool:
    """Whether this process runs every module of ``MODULES`` compiled (what a benchmark reports beside its figures)."""
    import importlib

    names = (m.removesuffix(".py").replace("/", ".") for m in MODULES)
    return all(str(importlib.import_module(name).__file__).endswith(".so") for name in names)


_CHECK_ALL = """
import hashlib, sys
from pathlib import Path
from benchmarks.native import compiled
from properties.conformance.checker import check_file
sha, records = hashlib.sha256(), 0
for path in sorted(Path(sys.argv[1]).glob("*.jsonl")):
    report = check_file(str(path))
    records += report.records
    sha.update(repr((path.name, report.status, report.records, report.lines)).encode())
print(compiled(), records, sha.hexdigest())
"""


def verify(mirror: Path, root: Path = ROOT) -> str:
    """Golden traces from the interpreted tree, compared byte for byte with the compiled one's."""
    golden = mirror.parent / "native-golden"
    shutil.rmtree(golden, ignore_errors=True)
    for tree, mode in ((root, "record"), (mirror, "compare")):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.golden", mode, str(golden)],
            cwd=tree, env=environment(tree), capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise BuildError(f"golden {mode} in {tree} failed:\n{(done.stdout + done.stderr).strip()[-2000:]}")
    compared = done.stdout.strip().splitlines()[-1]
    reports = []
    for tree in (root, mirror):
        checked = subprocess.run(
            [sys.executable, "-c", _CHECK_ALL, str(golden)],
            cwd=tree, env=environment(tree), capture_output=True, text=True, check=False,
        )
        if checked.returncode != 0:
            raise BuildError(f"checking the golden traces in {tree} failed:\n{checked.stderr.strip()[-2000:]}")
        reports.append(checked.stdout.split())
    (interpreted, records, expected), (native, _, got) = reports
    if interpreted != "False" or native != "True":
        raise BuildError(f"the trees did not import what they should (compiled: {interpreted}, then {native})")
    if expected != got:
        raise BuildError("the compiled checker's reports on the golden traces differ from the interpreted one's")
    return f"{compared}; the checkers agree on them ({int(records):,} records)"


def run_tests(mirror: Path) -> int:
    """The whole test suite, run in the mirror against the compiled modules."""
    env = dict(environment(mirror), HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    probe = "import benchmarks.native as n, model.sim.engine as e; assert n.compiled(), e.__file__"
    if subprocess.run([sys.executable, "-c", probe], cwd=mirror, env=env, check=False).returncode != 0:
        print(f"sessionspec: the tests in {mirror} would not import the compiled engine", file=sys.stderr)
        return 1
    print(f"sessionspec: the test suite, in {mirror}, against the compiled modules", flush=True)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider"], cwd=mirror, env=env, check=False,
    ).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build and check the mypyc-compiled mirror of the project.")
    parser.add_argument("--test", action="store_true", help="also run the test suite against the compiled modules")
    args = parser.parse_args(argv)
    try:
        mirror, note = build()
        print(f"sessionspec: compiled mirror {mirror}; {note}", flush=True)
    except BuildError as error:
        print(f"sessionspec: {error}", file=sys.stderr)
        return 1
    return run_tests(mirror) if args.test else 0


if __name__ == "__main__":
    sys.exit(main())
