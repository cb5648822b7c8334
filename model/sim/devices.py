"""Mock devices: a backend's limits, how long its jobs take, and how often they fail.

All randomness comes from a per-backend ``random.Random`` seeded with the engine's
seed and the backend's name, so adding a backend never changes another's draws.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Literal

from model.spec.interpretations import DEFAULT, Interpretation, SimulatorMaxtime

PHYSICAL_SYSTEM_MAX_TIME = 8 * 3600.0
"""MAXTIME-SYSTEM-LIMIT: the system limit on max_time for physical systems."""

SIMULATOR_SYSTEM_MAX_TIME: dict[SimulatorMaxtime, float] = {
    SimulatorMaxtime.THREE_HOURS: 3 * 3600.0,
    SimulatorMaxtime.PHYSICAL_LIMIT: PHYSICAL_SYSTEM_MAX_TIME,
}
"""Not a seed rule: the seeds give no simulator limit, so each option of INT-SIMULATOR-MAXTIME names one."""


@dataclass(frozen=True)
class Duration:
    """How long the device takes for a job: fixed, exponential (mean) or uniform (low, high)."""

    kind: Literal["fixed", "exponential", "uniform"] = "fixed"
    a: float = 10.0
    b: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "exponential", "uniform"):
            raise ValueError(f"unknown duration kind {self.kind!r}; use fixed, exponential or uniform")
        if self.a <= 0 or (self.kind == "uniform" and not 0 < self.a <= self.b):
            raise ValueError(f"invalid {self.kind} duration parameters ({self.a}, {self.b})")

    @classmethod
    def fixed(cls, seconds: float) -> Duration:
        return cls("fixed", seconds)

    @classmethod
    def exponential(cls, mean: float) -> Duration:
        return cls("exponential", mean)

    @classmethod
    def uniform(cls, low: float, high: float) -> Duration:
        return cls("uniform", low, high)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Duration:
        """``{"fixed": 10}``, ``{"exponential": 8}`` or ``{"uniform": [5, 15]}``."""
        if "fixed" in obj:
            return cls.fixed(float(obj["fixed"]))
        if "exponential" in obj:
            return cls.exponential(float(obj["exponential"]))
        low, high = obj["uniform"]
        return cls.uniform(float(low), float(high))

    def draw(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            return self.a
        if self.kind == "exponential":
            return rng.expovariate(1.0 / self.a)
        return rng.uniform(self.a, self.b)


@dataclass(frozen=True)
class BackendConfig:
    """One mock backend: its name, limits and device behaviour."""

    name: str
    system_max_time: float = PHYSICAL_SYSTEM_MAX_TIME
    program_max_execution_time: float | None = None
    """A program's max_execution_time for jobs that set none; None means the system limit."""
    duration: Duration = field(default_factory=Duration)
    fault_rate: float = 0.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a backend needs a name")
        if self.system_max_time <= 0:
            raise ValueError(f"backend {self.name}: system_max_time must be positive")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"backend {self.name}: fault_rate must lie in [0, 1]")

    @property
    def default_max_execution_time(self) -> float:
        return self.program_max_execution_time or self.system_max_time

    def limits(self) -> dict[str, float]:
        return {
            "system_max_time": self.system_max_time,
            "program_max_execution_time": self.default_max_execution_time,
        }


def simulator(
    name: str = "ibmq_qasm_simulator", *, interpretation: Interpretation = DEFAULT, **kwargs: Any
) -> BackendConfig:
    """A simulator backend, its system max_time per INT-SIMULATOR-MAXTIME (3 h by default)."""
    limit = SIMULATOR_SYSTEM_MAX_TIME[interpretation.policy.simulator_maxtime]
    return BackendConfig(name, system_max_time=limit, **kwargs)


def backend_rng(seed: int, name: str) -> random.Random:
    return random.Random(f"{seed}:{name}")


@dataclass(frozen=True)
class BackgroundLoad:
    """Other users' fair-share jobs arriving as a Poisson process on one backend."""

    backend: str
    jobs_per_hour: float
    duration: Duration = field(default_factory=lambda: Duration.exponential(30.0))
    group: str = "others"

    def __post_init__(self) -> None:
        if self.jobs_per_hour <= 0:
            raise ValueError("background load needs a positive jobs_per_hour")
