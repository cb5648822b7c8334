"""The one strict loader for every JSON input: trace lines, scenarios, protocol answers.

JSON that a lax reader would turn into something unusable is refused here, once, with a
one-line reason: text that is not UTF-8, a byte-order mark, a lone surrogate, ``NaN`` or
``Infinity`` (not JSON), a number beyond a 64-bit float, nesting deeper than Python can
hold. Whoever reads input reports :class:`Unusable` as ``FILE:LINE: unusable input: reason``.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import msgspec

MAX_LINE = 16 * 1024 * 1024
"""The longest line, in bytes, of any JSON-lines input (a trace line, a protocol answer): a longer one is
refused as unusable rather than read into memory whole."""

MAX_DOCUMENT = 256 * 1024 * 1024
"""The largest whole-file JSON input, in bytes (a scenario): a larger one is refused once that much is read,
so that a device or a runaway file is not read into memory without end."""

_FLOAT_MAX = sys.float_info.max
_BYTE = re.compile(r"\(byte (\d+)\)")
_PATH = re.compile(r" - at `\$([^`]*)`$")
_BOM = "\ufeff"
_LONE_ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|"
                          r"(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


class Unusable(Exception):
    """Input that cannot be used: the line number (1-based) and a one-line reason."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def loads(data: bytes | str, *, line: int = 1) -> Any:
    """The JSON document ``data``, or :class:`Unusable` at ``line`` (the document's first line: the line
    of a syntax error or a bad byte within it is added)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise Unusable(line + data.count(b"\n", 0, error.start), "not UTF-8 text") from None
    else:
        text = data
    if text.startswith(_BOM):
        raise Unusable(line, "a byte-order mark before the JSON text")
    try:
        encoded = text.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError as error:
        raise Unusable(line + text.count("\n", 0, error.start), "a lone surrogate (not Unicode text)") from None
    try:
        value: Any = msgspec.json.decode(encoded)
    except msgspec.ValidationError as error:
        raise Unusable(line, invalid(str(error))) from None
    except msgspec.DecodeError as error:
        if str(error) == "Input data was truncated" and _LONE_ESCAPE.search(text):
            raise Unusable(line, "a lone surrogate (not Unicode text)") from None  # msgspec's word for an escaped one
        raise Unusable(line + _line_of(encoded, str(error)), not_json(str(error))) from None
    except RecursionError:
        raise Unusable(line, "nested too deeply") from None
    check(value, line)
    return value


def check(value: Any, line: int = 1) -> None:
    """Refuse what JSON text cannot hold but Python objects can (an implementation's records given as
    objects): a number that is not finite or beyond a float, a lone surrogate; walked without recursion."""
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = item.__class__
        if kind is str:
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise Unusable(line, "a lone surrogate (not Unicode text)") from None
        elif kind is dict:
            for key, inner in item.items():
                push(key)
                push(inner)
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is float:
            if not -_FLOAT_MAX <= item <= _FLOAT_MAX:
                raise Unusable(line, f"{item!r} is not a finite number")
        elif kind is int and not -_FLOAT_MAX <= item <= _FLOAT_MAX:
            raise Unusable(line, "an integer beyond a 64-bit float")


def not_json(message: str) -> str:
    """msgspec's complaint about malformed JSON, as a reason."""
    return "not JSON: " + message.removeprefix("JSON is malformed: ")


def invalid(message: str) -> str:
    """msgspec's complaint about a value read as anything (a number out of range), as a reason."""
    if message.startswith("Number out of range"):
        return "a number beyond a 64-bit float"
    if message.startswith("Integer value out of range"):
        return "an integer beyond a 64-bit float"
    return message


def path_of(message: str) -> tuple[str, str]:
    """A validation message split into where (``a/b/0``, or empty for the whole) and what."""
    found = _PATH.search(message)
    if found is None:
        return "", message
    where = found.group(1).lstrip(".").replace("[", "/").replace("]", "").replace(".", "/")
    return where, message[: found.start()]


def _line_of(data: bytes, message: str) -> int:
    """How many lines into ``data`` the byte a syntax error names is (0 if none is named)."""
    found = _BYTE.search(message)
    return data.count(b"\n", 0, int(found.group(1))) if found else 0
