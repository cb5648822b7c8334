"""Checks of the runtime API's numeric and typed arguments, before they reach the engine.

A value the engine could not hold (NaN, an infinity, an int beyond float range, a string
where seconds are due) is refused here with ``IBMInputValueError``, the class the real
client raises for bad input, instead of surfacing as a bare TypeError or OverflowError or
being written into the trace. When a rule of the catalogue governs the argument, the
message ends with its ID, like every other refusal.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from model.runtime.exceptions import IBMInputValueError
from model.spec.validations import shown
from model.trace.timing import time_text


def _suffix(rules: tuple[str, ...]) -> str:
    return f" [{', '.join(rules)}]" if rules else ""


def seconds(
    what: str, value: object, *, positive: bool = False, minimum: float = 0.0, rules: tuple[str, ...] = ()
) -> float:
    """``value`` as finite seconds, at least ``minimum`` (above it when ``positive``)."""
    number: float | None = None
    if isinstance(value, Real) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = None
    bound = f"above {time_text(minimum)}" if positive else f"at least {time_text(minimum)}"
    if number is None or not math.isfinite(number) or number < minimum or (positive and number == minimum):
        raise IBMInputValueError(
            f"{what} must be a finite number of seconds {bound}, got {shown(value)}{_suffix(rules)}", rules=rules
        )
    return number


def count(what: str, value: object, *, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``."""
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise IBMInputValueError(f"{what} must be an int of at least {minimum}, got {shown(value)}")
    return int(value)


def seed(value: object) -> int:
    """``value`` as a seed: an int with a decimal form (the random streams are named by it)."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            str(value)
        except ValueError:
            pass
        else:
            return value
    raise IBMInputValueError(f"seed must be an int with a decimal form, got {shown(value)}")


def name(what: str, value: object, *, rules: tuple[str, ...] = ()) -> str:
    """``value`` as a non-empty string (a backend or job name)."""
    if not isinstance(value, str) or not value:
        raise IBMInputValueError(f"{what} must be a non-empty string, got {shown(value)}{_suffix(rules)}", rules=rules)
    return value
