"""Text made safe to print: what a trace, a scenario or a command line holds may be any character."""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` as one printable line: control characters, line separators and lone surrogates (an ID
    read from a trace may hold the first two, a path from the command line the last) as Python escapes."""
    return _UNPRINTABLE.sub(lambda found: repr(found.group())[1:-1], text)
