"""The executable specification of Qiskit Runtime sessions: declaration, engine and runtime API.

This face is the documented Python API of the model; ``model.trace`` (records, writer, reader)
and ``model.runtime`` (the ``qiskit_ibm_runtime``-shaped API) have faces of their own.
``model`` never imports ``properties``.
"""

from importlib.machinery import EXTENSION_SUFFIXES

from model.sim import engine as _engine
from model.sim.devices import BackendConfig, BackgroundLoad, Duration
from model.sim.engine import Engine
from model.sim.ops import Advance, Cancel, Close, Fault, Open, Submit, apply
from model.sim.scenario import Scenario, load_scenario, run_scenario
from model.spec.interpretations import DEFAULT, Interpretation, Policy
from model.spec.lifecycles import LIFECYCLES
from model.spec.max_time import parse_max_time
from model.spec.validations import RequestRejected
from model.trace import MemoryTrace

__all__ = [
    "DEFAULT", "LIFECYCLES", "Advance", "BackendConfig", "BackgroundLoad", "Cancel", "Close", "Duration", "Engine",
    "Fault", "Interpretation", "MemoryTrace", "Open", "Policy", "RequestRejected", "Scenario", "Submit", "apply",
    "build", "load_scenario", "parse_max_time", "run_scenario",
]


def build() -> str:
    """Which build runs: ``"compiled"`` (the mypyc extensions ``pip install .`` builds, see ``setup.py``) or
    ``"pure Python"`` (editable installs, ``SESSIONSPEC_PURE=1``, or no compiler at install time)."""
    compiled = (_engine.__file__ or "").endswith(tuple(EXTENSION_SUFFIXES))
    return "compiled" if compiled else "pure Python"
