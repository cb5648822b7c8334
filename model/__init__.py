"""The executable specification of Qiskit Runtime sessions: declaration, engine and runtime API.

``model`` never imports ``properties``.
"""

from model.sim.devices import BackendConfig, BackgroundLoad, Duration
from model.sim.engine import Engine
from model.spec.interpretations import DEFAULT, Interpretation
from model.trace import MemoryTrace

__all__ = ["DEFAULT", "BackendConfig", "BackgroundLoad", "Duration", "Engine", "Interpretation", "MemoryTrace"]
