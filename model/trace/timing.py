"""When two times of a trace are the same instant, the one comparison every judge of a trace makes; and how
a time or a duration reads in a message (:func:`time_text`).

Times cross JSON and other languages' arithmetic, so two computations of one instant may differ in
their last bits. Equal means within a fixed slack (``TIME_EPSILON`` seconds) plus a few units in the
last place of the larger time: a slack proportional to the time itself would grow to whole seconds at
Unix-epoch times and pass a job that starts a second past its deadline.
"""

from __future__ import annotations

from math import inf, isfinite, ulp
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


def goes_back(t: float, last: float) -> bool:
    """Whether a line at ``t`` after one at ``last`` goes back in time: before it by more than float noise
    (trace-format.md: a step back within the noise is one instant). Every reader of a trace, offline or live,
    asks this."""
    return t < last and not same_time(t, last)


_NOISE_UNDER_A_SECOND: Final = 2.0**50
"""Below this magnitude the slack is under a second, so a gap of more than a second is never float noise."""


def earlier(a: float, b: float) -> bool:
    """Whether ``a`` is an earlier instant than ``b``: before it by more than float noise (a job may start
    only at an instant earlier than its session's deadline, not at one within noise of it)."""
    gap = b - a
    if gap <= 0.0:
        return False
    if gap > 1.0 and a > -_NOISE_UNDER_A_SECOND and b < _NOISE_UNDER_A_SECOND:
        return True
    return gap == inf or gap > slack(max(abs(a), abs(b)))


_WHOLE: Final = 1e16
"""Below this, a whole number of seconds is written in full; from here on floats are all whole, and the
shortest exact text has an exponent."""


def time_text(seconds: float | int) -> str:
    """A time or a duration in seconds as a message shows it: exact, so that two different instants never
    read the same (at Unix-epoch times ``:g`` made 1700000000.5 and 1700000001 both ``1.7e+09``).

    Whole seconds without a point (``305``, ``1700000000``), else the shortest text that reads back as the
    same float (``0.1``, ``1700000000.25``); an exponent only below 1e-4 or from 1e16 on, as Python's
    ``repr``. A value of at most six significant digits below 1e6 reads as ``:g`` wrote it.
    """
    if isinstance(seconds, int):
        if seconds.bit_length() <= 64:
            return str(seconds)
        try:
            value = float(seconds)
        except OverflowError:  # beyond any float: its digits could be thousands
            return f"an int of {seconds.bit_length()} bits"
    else:
        value = seconds
    if value.is_integer() and -_WHOLE < value < _WHOLE:
        return f"{value:.0f}"  # -0.0 reads "-0", as with :g
    if not isfinite(value):
        return f"{value:g}"  # inf, -inf, nan
    return repr(value)
