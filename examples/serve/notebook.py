"""Run a notebook cell's code as a script: ``display`` exists, as in Jupyter (seed 002's Full example calls it).

Usage: python examples/serve/notebook.py examples/serve/seed002_full.py
"""

import builtins
import runpy
import sys


def display(*objects: object, **_: object) -> None:
    """Jupyter's display, without a notebook: say what would have been shown."""
    for shown in objects:
        print(f"[display: {type(shown).__name__}]")


builtins.display = display  # type: ignore[attr-defined]
runpy.run_path(sys.argv[1], run_name="__main__")
