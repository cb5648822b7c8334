"""Primitive options: the few settings the seeds use, with qiskit_ibm_runtime's defaults.

Slotted, so that a misspelt attribute (``options.optimisation_level = 2``) fails at once
instead of being silently ignored. Only ``max_execution_time`` reaches the scheduler,
which judges its format and traces a refusal (MAX-EXECUTION-TIME-FORMAT); a number no
float can hold (``10**400``) is refused here, since the engine could not even record it.
The levels are checked and echoed in result metadata.

``SamplerOptions`` and ``EstimatorOptions`` are today's (V2) options, for the platform
profile's ``SamplerV2`` and ``EstimatorV2``: the few fields a scheduling model can honour
(``max_execution_time``, the default shots or precision, the resilience level), with the
client's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Self

from model.runtime.exceptions import IBMInputValueError, refusal
from model.spec.validations import shown

_LEVELS = range(4)


class _Coercible:
    """``coerce``: a private copy of the options from an instance, a dict of option names, or None."""

    __slots__ = ()

    @classmethod
    def coerce(cls, options: object) -> Self:
        """A private copy from an instance, a dict of option names, or None (defaults)."""
        if options is None:
            return cls()
        if isinstance(options, cls):
            return replace(options)  # type: ignore[type-var]
        if not isinstance(options, Mapping):
            raise IBMInputValueError(
                f"options must be {cls.__name__}, a dict of option names or None, got {shown(options)}"
            )
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]  # every subclass is a dataclass
        unknown = sorted(set(options) - known)
        if unknown:
            raise IBMInputValueError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**options)


def _check_levels(options: object, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, int) or value not in _LEVELS:
            raise IBMInputValueError(f"{name} must be an int from 0 to 3, got {value!r}")


def _check_limit(limit: object) -> None:
    """An int max_execution_time no float can hold is refused here (the engine could not record it)."""
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        try:
            float(limit)
        except OverflowError:
            raise refusal(
                "MAX-EXECUTION-TIME-FORMAT",
                f"max_execution_time must be a finite number of seconds, got {shown(limit)}",
            ) from None


@dataclass(slots=True)
class Options(_Coercible):
    optimization_level: int = 3
    resilience_level: int = 1
    max_execution_time: int | float | None = None
    """Seconds; None lets the backend's program limit apply (JOB-MAX-EXECUTION)."""

    def validate(self) -> None:
        """Refuse levels outside 0..3 before a job is submitted (max_execution_time: the engine)."""
        _check_levels(self, ("optimization_level", "resilience_level"))
        _check_limit(self.max_execution_time)


@dataclass(slots=True)
class SamplerOptions(_Coercible):
    """Today's Sampler options (the fields a scheduling model honours)."""

    default_shots: int = 4096
    max_execution_time: int | float | None = None
    """Seconds; None lets the backend's program limit apply (JOB-MAX-EXECUTION)."""

    def validate(self) -> None:
        if isinstance(self.default_shots, bool) or not isinstance(self.default_shots, int) or self.default_shots < 1:
            raise IBMInputValueError(f"default_shots must be a positive int, got {shown(self.default_shots)}")
        _check_limit(self.max_execution_time)


@dataclass(slots=True)
class EstimatorOptions(_Coercible):
    """Today's Estimator options (the fields a scheduling model honours)."""

    default_precision: float = 0.015625
    resilience_level: int = 1
    max_execution_time: int | float | None = None
    """Seconds; None lets the backend's program limit apply (JOB-MAX-EXECUTION)."""

    def validate(self) -> None:
        precision = self.default_precision
        if isinstance(precision, bool) or not isinstance(precision, int | float) or not 0 < precision < 1:
            raise IBMInputValueError(f"default_precision must be a number in (0, 1), got {shown(precision)}")
        _check_levels(self, ("resilience_level",))
        _check_limit(self.max_execution_time)
