"""Stream a JSON Lines trace: parse, validate against the schema, check order, one line at a time.

Validating every line with ``jsonschema`` costs 100-400 µs, which dominates a long trace.
Fast paths, each exact, make the common case cheap:

- A file's lines: :class:`~.line_decoder.LineDecoder` decodes a request, session or job
  line with ``msgspec`` straight into a struct built from the schema, and builds its
  record (about 0.9 µs a line interpreted).
- Decoded objects (an implementation's records given as JSON objects, :meth:`LineValidator.check`):
  :class:`FastLines` hand-checks the request, session and job lines the schema describes,
  key by key, and builds their records directly (about 1 µs).

Both only ever *accept*: whatever they do not (a header, a bad line, anything unusual: an
argument the engine never writes, a ``max_time``, a float argument or (``FastLines``) a
time of 2**63 or more, a line such as a lone surrogate escape or ``1e400`` that ``json``
reads and the fast path refuses, or one that is not UTF-8) takes the reference path
below, which decides and words the error. ``tests/test_reader.py`` holds each to the
schema and to ``json`` on generated and mutated lines.

The reference path parses with ``json`` and validates each distinct *shape* of line once:
a line's shape keeps the fields the schema constrains by value (type, op, outcome, from,
to, rules) and replaces every other scalar by a tag of its JSON type and sign, which is all
the schema looks at for those fields (types, ``minimum 0``, ``minLength 1``). Lines of a
known-valid shape skip the validator; a new shape is validated in full (``jsonschema``) and
remembered.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import chain
from typing import IO, Any, ClassVar, NoReturn, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from model.interpretations import Interpretation, InterpretationError
from model.trace import Change, Header, Record, Request, from_json, schema
from properties.conformance.line_decoder import BIG, LineDecoder

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

    _instance: ClassVar[_Validators | None] = None

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


_new = tuple.__new__
_BIG = float(BIG)
_RULES_CACHE_LIMIT = 4096


class FastLines:
    """Records straight from decoded request, session and job lines that are certainly valid.

    ``record(obj)`` returns the record ``from_json(obj)`` would give, if ``obj`` is a line of
    one of those kinds that the schema accepts and that uses only what the engine writes;
    otherwise None, and the caller takes the reference path. The enums and the rule pattern
    come from the schema itself.
    """

    def __init__(self) -> None:
        defs = schema()["$defs"]
        request = defs["request"]["properties"]
        self.ops = frozenset(request["op"]["enum"])
        self.outcomes = frozenset(request["outcome"]["enum"])
        self.session_from = frozenset(defs["session"]["properties"]["from"]["enum"])
        self.session_to = frozenset(defs["session"]["properties"]["to"]["enum"])
        self.job_from = frozenset(defs["job"]["properties"]["from"]["enum"])
        self.job_to = frozenset(defs["job"]["properties"]["to"]["enum"])
        self.arg_keys = frozenset(request["args"]["properties"])
        self.rule = re.compile(defs["rules"]["items"]["pattern"]).search
        self.rules: dict[tuple[Any, ...], tuple[str, ...]] = {}
        """Rule lists seen valid, each kept once."""

    def record(self, obj: dict[str, Any]) -> Request | Change | None:
        kind = obj.get("type")
        if kind == "job":
            return self._job(obj)
        if kind == "request":
            return self._request(obj)
        if kind == "session":
            return self._session(obj)
        return None

    def _rules(self, rules: Any) -> tuple[str, ...] | None:
        """The rule list as the record's tuple (one object per distinct list), if valid."""
        return self.rule_tuple(tuple(rules)) if type(rules) is list else None

    def rule_tuple(self, key: Any) -> tuple[str, ...] | None:
        """A rule list given as a tuple, as the record's tuple (one object per distinct list), if valid."""
        try:
            known = self.rules.get(key)
        except TypeError:  # an unhashable item: not a rule
            return None
        if known is None:
            if type(key) is not tuple or not all(type(r) is str and self.rule(r) for r in key):
                return None
            if len(self.rules) >= _RULES_CACHE_LIMIT:
                self.rules.clear()
            known = self.rules[key] = key
        return known

    def _change(
        self, o: dict[str, Any], froms: frozenset[str | None], tos: frozenset[str]
    ) -> tuple[Any, str, str, str | None, str, str, tuple[str, ...]] | None:
        """The fields job and session lines share (t, id, backend, from, to, trigger, rules), if valid
        for an entity whose states are ``froms`` and ``tos``."""
        get = o.get
        t = get("t")
        ident = get("id")
        backend = get("backend")
        src = get("from", _new)  # _new: a sentinel no JSON value is
        dst = get("to")
        trigger = get("trigger")
        if (
            (type(t) is not float and type(t) is not int) or not 0 <= t < _BIG
            or type(ident) is not str or not ident or type(backend) is not str or not backend
            or (src is not None and (type(src) is not str or src not in froms))
            or type(dst) is not str or dst not in tos or type(trigger) is not str
        ):
            return None
        rules = self._rules(get("rules"))
        if rules is None:
            return None
        return t, ident, backend, src, dst, trigger, rules

    def _job(self, o: dict[str, Any]) -> Change | None:
        shared = self._change(o, self.job_from, self.job_to)
        if shared is None:
            return None
        t, ident, backend, src, dst, trigger, rules = shared
        keys = 8
        session = o.get("session", _new)
        if session is _new:
            session = None
        elif type(session) is not str or not session:
            return None
        else:
            keys += 1
        reason = o.get("reason", _new)
        if reason is _new:
            if dst == "failed":
                return None
            reason = None
        elif type(reason) is not str:
            return None
        else:
            keys += 1
        if len(o) != keys:  # every key counted is a distinct known key: no other key is there
            return None
        return _new(Change, (float(t), "job", ident, backend, session, src, dst, trigger, rules, reason, None))

    def _session(self, o: dict[str, Any]) -> Change | None:
        shared = self._change(o, self.session_from, self.session_to)
        if shared is None:
            return None
        t, ident, backend, src, dst, trigger, rules = shared
        keys = 8
        max_time = o.get("max_time", _new)
        if max_time is _new:
            max_time = None
        elif (type(max_time) is not float and type(max_time) is not int) or max_time <= 0 or max_time >= _BIG:
            return None
        else:
            keys += 1
        if len(o) != keys:
            return None
        return _new(Change, (float(t), "session", ident, backend, None, src, dst, trigger, rules, None, max_time))

    def _request(self, o: dict[str, Any]) -> Request | None:
        get = o.get
        t = get("t")
        op = get("op")
        outcome = get("outcome")
        if (
            (type(t) is not float and type(t) is not int) or not 0 <= t < _BIG
            or type(op) is not str or op not in self.ops or type(outcome) is not str or outcome not in self.outcomes
        ):
            return None
        keys = 4
        backend = get("backend")
        if backend is not None:
            if type(backend) is not str or not backend:
                return None
            keys += 1
        session = get("session")
        if session is not None:
            if type(session) is not str or not session:
                return None
            keys += 1
        job = get("job")
        if job is not None:
            if type(job) is not str or not job:
                return None
            keys += 1
        accepted = outcome == "accepted"
        args = get("args")
        if args is not None:
            if type(args) is not dict or not self.args(args, accepted):
                return None
            keys += 1
        rules: tuple[str, ...] | None = ()
        if "rules" in o:
            rules = self._rules(o["rules"])
            if rules is None:
                return None
            keys += 1
        error = get("error")
        message = get("message")
        if accepted:
            if "error" in o or "message" in o:
                return None
            if (op == "submit" and (job is None or backend is None)) or (
                op == "open" and (session is None or backend is None)
            ):
                return None
        else:
            if type(error) is not str or type(message) is not str or "rules" not in o:
                return None
            keys += 2
        if (op == "cancel" and job is None) or (op == "close" and session is None) or len(o) != keys:
            return None
        return _new(Request, (float(t), op, backend, session, job, args, error, rules, message))

    def args(self, args: dict[str, Any], accepted: bool) -> bool:
        """Whether a request's ``args`` are valid and only what the engine writes."""
        if not args.keys() <= self.arg_keys:
            return False
        for key, value in args.items():
            kind = type(value)
            if key == "group" or key == "program":
                if kind is not str:
                    return False
            elif kind is float:
                if not -_BIG < value < _BIG or (accepted and key == "max_time" and not value.is_integer()):
                    return False
            elif kind is int or kind is str:
                if accepted and kind is str and key == "max_execution_time":
                    return False
            elif value is not None and (accepted or kind is not bool):
                return False
        return True


class LineValidator:
    """Parse and validate one trace line: :class:`FastLines` first, else the shapes seen valid, else the schema."""

    def __init__(self) -> None:
        self._validators = _Validators.get()
        self._valid_shapes: set[tuple[Any, ...]] = set()
        self.fast = FastLines()

    def parse(self, line_no: int, text: str) -> dict[str, Any]:
        try:
            obj = json.loads(text, parse_constant=_reject_constant)
        except (json.JSONDecodeError, ValueError) as error:
            raise Unusable(line_no, f"not JSON: {error}") from None
        return self.check(line_no, obj)

    def record(self, line_no: int, obj: Any) -> Record:
        """The record of one decoded line (an implementation's record given as a JSON object), validated."""
        return to_record(line_no, self.check(line_no, obj))

    def check(self, line_no: int, obj: Any) -> dict[str, Any]:
        """Validate one decoded line (an implementation's record given as a JSON object)."""
        if type(obj) is dict and self.fast.record(obj) is not None:
            return obj
        return self.check_shape(line_no, obj)

    def check_shape(self, line_no: int, obj: Any) -> dict[str, Any]:
        """:meth:`check` without the fast path: a known-valid shape, or the schema."""
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
            known = shape in self._valid_shapes
        except TypeError:  # an unhashable literal field (building or hashing its shape): let the schema say
            self._fail(line_no, obj)
        if not known:
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


CHUNK = 1024
"""Records per chunk: each stage of the checker runs over a chunk at a time, so that its code stays warm."""


def read_trace(lines: Iterable[str | bytes]) -> Iterator[tuple[int, Record]]:
    """Yield (line number, record), header first; raise :class:`Unusable` at the first bad line.

    Checks the schema, that the first line is the only header, and that time never goes back.
    Blank lines are skipped (and counted). Lines may be bytes (then a line that is not UTF-8
    is unusable) or text.
    """
    for chunk in read_chunks(lines):
        yield from chunk


def read_chunks(lines: Iterable[str | bytes], size: int = CHUNK) -> Iterator[list[tuple[int, Record]]]:
    """:func:`read_trace` in lists of up to ``size`` records. At a bad line, the records before it
    come first, as a last (short) chunk; the next request raises :class:`Unusable`."""
    validator = LineValidator()
    fast = LineDecoder(validator.fast).record
    seen_header = False
    last_t = 0.0
    line_no = 0
    chunk: list[tuple[int, Record]] = []
    append = chunk.append
    try:
        for line_no, raw in enumerate(lines, start=1):
            record = fast(raw)
            if record is None:  # the reference path decides, and says what is wrong
                found = _reference(validator, line_no, raw)
                if found is None:
                    continue
                if isinstance(found, Header):
                    if seen_header:
                        raise Unusable(line_no, "a second header: the header is the first line only")
                    seen_header = True
                    append((line_no, found))
                    continue
                record = found
            if not seen_header:
                kind = "request" if isinstance(record, Request) else record.entity
                raise Unusable(line_no, f"missing header: the first line is a {kind} line, not the header")
            t = record.t
            if t < last_t:
                raise Unusable(line_no, f"time goes back from t={last_t:g} to t={t:g}")
            last_t = t
            append((line_no, record))
            if len(chunk) >= size:
                yield chunk
                chunk = []
                append = chunk.append
    except Unusable:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk
    if not seen_header:
        raise Unusable(max(line_no, 1), "empty trace: no header line")


def _reference(validator: LineValidator, line_no: int, raw: str | bytes) -> Record | None:
    """One line by the reference path (``json``, the shape cache, ``jsonschema``); None if blank."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Unusable(line_no, "not UTF-8 text") from None
    else:
        text = raw
    if not text.strip():
        return None
    return to_record(line_no, validator.parse(line_no, text))


def to_record(line_no: int, obj: dict[str, Any]) -> Record:
    """The record of a schema-valid line. The schema bounds no number from above, but a record's
    time is a finite float: an integer time beyond a float's range is :class:`Unusable`, not a
    crash, and so is a time that is not finite (``1e400`` reads as infinity; an implementation
    given to the kit as objects may send NaN)."""
    try:
        record = from_json(obj)
    except OverflowError:
        raise Unusable(line_no, "schema violation at t: a time too large for a 64-bit float") from None
    if not isinstance(record, Header) and not math.isfinite(record.t):
        raise Unusable(line_no, f"schema violation at t: {record.t} is not a finite number of seconds")
    return record


def header_of(first: list[tuple[int, Record]], overrides: Mapping[str, str]) -> tuple[Header, Interpretation]:
    """The trace's header (the first record of :func:`read_chunks`' first chunk) with the interpretation
    overrides applied; an interpretation the catalogue does not know is :class:`Unusable`."""
    header = first[0][1]
    assert isinstance(header, Header)  # read_chunks yields the header first, or raises
    try:
        interpretation = Interpretation({**header.interpretation, **overrides})
    except InterpretationError as error:
        raise Unusable(1, f"header interpretation: {error}") from None
    return Header(dict(interpretation), header.backends, header.interactive_timeout), interpretation


def bodies(
    first: list[tuple[int, Record]], rest: Iterator[list[tuple[int, Record]]]
) -> Iterator[list[tuple[int, Request | Change]]]:
    """:func:`read_chunks`' chunks after the header (the first chunk without it), skipping an empty one."""
    for some in chain((first[1:],), rest):
        if some:
            yield cast(list[tuple[int, Request | Change]], some)  # the header is the first record only


class FileLines:
    """The lines of a file, as bytes (:func:`read_chunks` decodes each line, so that a bad byte is
    reported on its own line), read a quarter MiB at a time, with a running CRC-32 of the bytes read
    so far if asked for: two readers of one file compare it to know that they read the same bytes."""

    def __init__(self, stream: IO[bytes], size: int = 1 << 18) -> None:
        self._stream = stream
        self._size = size
        self.checksum = False
        """Whether to keep ``crc`` (set it before reading: it costs about 2 % of a check)."""
        self.crc = 0
        """The CRC-32 of the bytes read so far."""

    def fileno(self) -> int:
        return self._stream.fileno()

    def is_regular_file(self) -> bool:
        """Whether this is a regular file, which a second reader can read again (a pipe cannot)."""
        return stat.S_ISREG(os.fstat(self._stream.fileno()).st_mode)

    def __iter__(self) -> Iterator[bytes]:
        return chain.from_iterable(self._blocks())

    def _blocks(self) -> Iterator[list[bytes]]:
        """A read error names the line it stopped at."""
        line = 0
        while True:
            try:
                block = self._stream.readlines(self._size)
            except OSError as error:
                raise Unusable(line + 1, f"cannot read the file: {error.strerror or error}") from None
            if not block:
                return
            if self.checksum:
                self.crc = zlib.crc32(b"".join(block), self.crc)
            line += len(block)
            yield block


@contextmanager
def open_lines(path: str) -> Iterator[FileLines]:
    """The lines of the file at ``path``; a file that cannot be opened or read is :class:`Unusable`."""
    try:
        stream: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by the context manager
    except OSError as error:
        raise Unusable(1, f"cannot read the file: {error.strerror or error}") from None
    with stream:
        yield FileLines(stream)
