"""When two times of a trace are the same instant: the one comparison every judge of a trace makes.

Times cross JSON and other languages' arithmetic, so two computations of one instant may differ in
their last bits. Equal means within a fixed slack (``TIME_EPSILON`` seconds) plus a few units in the
last place of the larger time: a slack proportional to the time itself would grow to whole seconds at
Unix-epoch times and pass a job that starts a second past its deadline.
"""

from __future__ import annotations

from math import ulp
from typing import Final

TIME_EPSILON: Final = 1e-9
"""Seconds of float noise allowed between two times of one instant (on top of any tolerance)."""

ULPS: Final = 4
"""Units in the last place allowed on top of ``TIME_EPSILON``: what a few float operations may round."""


def slack(t: float) -> float:
    """The float noise allowed around time ``t``: how far another computation of it may land."""
    return TIME_EPSILON + ULPS * ulp(abs(t))


def same_time(a: float, b: float, tolerance: float = 0.0) -> bool:
    """Whether ``a`` and ``b`` are one instant, up to ``tolerance`` seconds and float noise.

    A gap within ``TIME_EPSILON`` (most often none) answers without the units in the last place, as
    the slack is never smaller (float rounding is monotonic): the same answer, without a call to ulp."""
    gap = abs(a - b)
    return gap <= tolerance + TIME_EPSILON or gap <= tolerance + slack(max(abs(a), abs(b)))
