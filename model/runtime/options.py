"""Primitive options: the few settings the seeds use, with qiskit_ibm_runtime's defaults.

Slotted, so that a misspelt attribute (``options.optimisation_level = 2``) fails at once
instead of being silently ignored. Only ``max_execution_time`` reaches the scheduler,
which judges its format and traces a refusal (MAX-EXECUTION-TIME-FORMAT); a number no
float can hold (``10**400``) is refused here, since the engine could not even record it.
The levels are checked and echoed in result metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from model.runtime.exceptions import IBMInputValueError, refusal
from model.spec.validations import shown

_LEVELS = range(4)


@dataclass(slots=True)
class Options:
    optimization_level: int = 3
    resilience_level: int = 1
    max_execution_time: int | float | None = None
    """Seconds; None lets the backend's program limit apply (JOB-MAX-EXECUTION)."""

    @classmethod
    def coerce(cls, options: Options | Mapping[str, Any] | None) -> Options:
        """A private copy from Options, a dict of option names, or None (defaults)."""
        if options is None:
            return cls()
        if isinstance(options, Options):
            return replace(options)
        if not isinstance(options, Mapping):
            raise IBMInputValueError(f"options must be Options, a dict of option names or None, got {shown(options)}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise IBMInputValueError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**options)

    def validate(self) -> None:
        """Refuse levels outside 0..3 before a job is submitted (max_execution_time: the engine)."""
        for name in ("optimization_level", "resilience_level"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value not in _LEVELS:
                raise IBMInputValueError(f"{name} must be an int from 0 to 3, got {value!r}")
        limit = self.max_execution_time
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            try:
                float(limit)
            except OverflowError:
                raise refusal(
                    "MAX-EXECUTION-TIME-FORMAT",
                    f"max_execution_time must be a finite number of seconds, got {shown(limit)}",
                ) from None
