"""The max_time value: its format (MAXTIME-FORMAT) and its bounds (MAXTIME-BOUNDS).

Accepted: a positive ``int`` of seconds, or a string of ``<n>h``, ``<n>m`` and ``<n>s``
parts, each at most once and in that order, separated by optional spaces
(``"2h 30m 40s"``, ``"25m"``, ``"90s"``). A string of digits alone is read as seconds.
Digits are ASCII ``0-9`` only: not ``"²"`` (``str.isdigit`` takes it) nor ``"٣"`` (a Unicode
regular expression's digit class takes it). Units are ASCII ``h m s`` in either case only (a
case-insensitive Unicode pattern would also take ``"ſ"``). Spaces are exactly Unicode's
White_Space, as docs/contract.md says (``str.isspace()`` also takes U+001C..U+001F).
Everything else (floats, bools, zero, negatives, unknown units, repeats) is refused.
"""

from __future__ import annotations

import re

from model.spec.validations import RequestRejected, shown

_WS = "[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*"
"""Any run of Unicode White_Space characters (PropList.txt), and nothing else."""
_PARTS = re.compile(
    f"\\A{_WS}(?:([0-9]+){_WS}[hH])?{_WS}(?:([0-9]+){_WS}[mM])?{_WS}(?:([0-9]+){_WS}[sS])?{_WS}\\Z"
)
_SECONDS = re.compile(f"\\A{_WS}([0-9]+){_WS}\\Z")


def parse_max_time(value: object) -> int:
    """Seconds for a max_time given as int or string; RequestRejected(MAXTIME-FORMAT) otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RequestRejected(
            "MAXTIME-FORMAT", f"max_time must be int seconds or a string like '2h 30m 40s', got {shown(value)}"
        )
    if isinstance(value, int):
        seconds = value
    elif bare := _SECONDS.match(value):
        seconds = _number(value, bare.group(1))
    else:
        match = _PARTS.match(value)
        if match is None or not any(match.groups()):
            raise RequestRejected(
                "MAXTIME-FORMAT",
                f"max_time string {value!r} is not of the form '2h 30m 40s' (h, m, s parts, in that order)",
            )
        hours, minutes, secs = (_number(value, g) if g else 0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise RequestRejected("MAXTIME-FORMAT", f"max_time must be positive, got {shown(value)}")
    return seconds


def _number(value: str, digits: str) -> int:
    """An ASCII digit string as an int; one longer than Python converts is a format error too."""
    try:
        return int(digits)
    except ValueError:
        raise RequestRejected(
            "MAXTIME-FORMAT", f"max_time string of {len(value)} characters has too many digits"
        ) from None


def format_seconds(seconds: float) -> str:
    """Render seconds in the max_time string form, for messages and timelines."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    text = " ".join(p for p in parts if p)
    return text or "0s"
