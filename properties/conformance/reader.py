"""Stream a JSON Lines trace: parse, validate against the schema, check order, one line at a time.

Validating every line with ``jsonschema`` costs 100-400 µs, which dominates a long trace.
The fast path validates each distinct *shape* of line once: a line's shape keeps the
fields the schema constrains by value (type, op, outcome, from, to, rules) and replaces
every other scalar by a tag of its JSON type and sign, which is all the schema looks at
for those fields (types, ``minimum 0``, ``minLength 1``). Lines of a known-valid shape
skip the validator; a new shape is validated in full and remembered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, NoReturn

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from model.trace import Header, Record, from_json, schema

_KINDS = ("header", "request", "session", "job")
_LITERAL = frozenset(("type", "op", "outcome", "from", "to", "rules"))
_SHAPE_CACHE_LIMIT = 50_000


class Unusable(Exception):
    """The input cannot be checked: the line number (1-based) and a one-line reason."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


class _Validators:
    """The full validator (for messages) and one per line type (for speed), compiled once."""

    _instance: _Validators | None = None

    def __init__(self) -> None:
        root = schema()
        self.full = Draft202012Validator(root)
        self.by_kind = {
            kind: Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": root["$defs"]}) for kind in _KINDS
        }

    @classmethod
    def get(cls) -> _Validators:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance


def _tag(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        sign = "+" if value > 0 else "0" if value == 0 else "-"
        kind = "i" if isinstance(value, int) or float(value).is_integer() else "f"
        return kind + sign
    if isinstance(value, str):
        return "s" if value else "s0"
    return json.dumps(value, sort_keys=True)


def _shape(obj: dict[str, Any]) -> tuple[Any, ...]:
    parts: list[Any] = []
    for key, value in obj.items():
        if key in _LITERAL:
            parts.append((key, tuple(value) if isinstance(value, list) else value))
        elif key == "args" and isinstance(value, dict):
            parts.append((key, tuple((k, _tag(v)) for k, v in value.items())))
        else:
            parts.append((key, _tag(value)))
    return tuple(parts)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class LineValidator:
    """Parse and validate one trace line; remembers the shapes it has seen valid."""

    def __init__(self) -> None:
        self._validators = _Validators.get()
        self._valid_shapes: set[tuple[Any, ...]] = set()

    def parse(self, line_no: int, text: str) -> dict[str, Any]:
        try:
            obj = json.loads(text, parse_constant=_reject_constant)
        except (json.JSONDecodeError, ValueError) as error:
            raise Unusable(line_no, f"not JSON: {error}") from None
        return self.check(line_no, obj)

    def check(self, line_no: int, obj: Any) -> dict[str, Any]:
        """Validate one decoded line (an implementation's record given as a JSON object)."""
        if not isinstance(obj, dict):
            raise Unusable(line_no, f"a trace line is a JSON object, got {type(obj).__name__}")
        kind = obj.get("type")
        validator = self._validators.by_kind.get(kind) if isinstance(kind, str) else None
        if validator is None:
            self._fail(line_no, obj)
        if kind == "header":
            if not validator.is_valid(obj):
                self._fail(line_no, obj)
            return obj
        try:
            shape = _shape(obj)
        except TypeError:  # an unhashable literal field: let the schema say what is wrong
            self._fail(line_no, obj)
        if shape not in self._valid_shapes:
            if not validator.is_valid(obj):
                self._fail(line_no, obj)
            if len(self._valid_shapes) >= _SHAPE_CACHE_LIMIT:
                self._valid_shapes.clear()
            self._valid_shapes.add(shape)
        return obj

    def _fail(self, line_no: int, obj: Any) -> NoReturn:
        kind = obj.get("type") if isinstance(obj, dict) else None
        validator = self._validators.by_kind.get(kind) if isinstance(kind, str) else None
        if validator is not None:  # name missing keys first: clearer than a conditional rule's complaint
            missing = [key for key in schema()["$defs"][kind]["required"] if key not in obj]
            if missing:
                names = ", ".join(repr(key) for key in missing)
                raise Unusable(line_no, f"schema violation: a {kind} line needs {names}")
        error = best_match((validator or self._validators.full).iter_errors(obj))
        if error is None:  # pragma: no cover - is_valid and iter_errors disagree
            raise Unusable(line_no, "schema violation")
        where = "/".join(str(p) for p in error.absolute_path) or "line"
        raise Unusable(line_no, f"schema violation at {where}: {error.message}")


def read_trace(lines: Iterable[str]) -> Iterator[tuple[int, Record]]:
    """Yield (line number, record), header first; raise :class:`Unusable` at the first bad line.

    Checks the schema, that the first line is the only header, and that time never goes back.
    Blank lines are skipped (and counted).
    """
    validator = LineValidator()
    seen_header = False
    last_t = 0.0
    line_no = 0
    for line_no, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        obj = validator.parse(line_no, text)
        record = from_json(obj)
        if isinstance(record, Header):
            if seen_header:
                raise Unusable(line_no, "a second header: the header is the first line only")
            seen_header = True
        else:
            if not seen_header:
                raise Unusable(line_no, f"missing header: the first line is a {obj['type']} line, not the header")
            if record.t < last_t:
                raise Unusable(line_no, f"time goes back from t={last_t:g} to t={record.t:g}")
            last_t = record.t
        yield line_no, record
    if not seen_header:
        raise Unusable(max(line_no, 1), "empty trace: no header line")
