"""The one trace reader: each line decoded and validated straight into its line's Struct
(:mod:`.records`), the conditions across its keys checked as it becomes its record (the Structs'
``CONDITIONS`` say the same to the schema), then the order checks: the header first and once,
time never going back.

A line that is refused is read again by the strict loader (:mod:`.strict_json`) only to word
the reason: not UTF-8, not JSON, not an object, an unknown ``type``, the keys it lacks, or the
key whose value breaks the line's definition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any, Final, NoReturn, cast

import msgspec
from msgspec import UNSET
from msgspec.structs import astuple

from model.spec.profiles import DEFAULT_PROFILE
from model.trace.records import (
    FLOAT_MAX_INT,
    KINDS,
    RULE_PATTERN,
    Change,
    End,
    EndLine,
    Entry,
    Header,
    HeaderLine,
    JobLine,
    Line,
    Record,
    Request,
    RequestLine,
    SessionLine,
)
from model.trace.strict_json import Unusable, check, loads, path_of
from model.trace.timing import goes_back, time_text

CHUNK = 128
"""Records per chunk: each stage of the checker runs over a chunk at a time, so that its code stays warm. Not
more: the records of a chunk live until it is judged, and a larger chunk's outlive a sweep of the garbage
collector's youngest generation into the older ones, whose sweeps then cost more and come more often."""



@cache
def _decoder() -> Callable[[str | bytes], Line]:
    """The lines' decoder, built on first use (a process that only writes traces never needs it)."""
    return msgspec.json.Decoder(Line).decode


_REFUSED = (msgspec.DecodeError, ValueError, RecursionError)
"""What decoding a line raises when it refuses it (ValueError: a lone surrogate in text, as UnicodeEncodeError)."""
_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def read_trace(
    lines: Iterable[str | bytes], on_end: Callable[[End], None] | None = None
) -> Iterator[tuple[int, Record]]:
    """Yield (line number, record), header first; raise :class:`Unusable` at the first bad line.

    An end-of-run line (:class:`~.records.End`) may only be the last line; it is no record: ``on_end``
    gets it, after the last record is yielded.

    Blank lines are skipped (and counted). Lines may be bytes (then a line that is not UTF-8
    is unusable) or text.
    """
    for chunk in read_chunks(lines, on_end=on_end):
        yield from chunk


def read_chunks(
    lines: Iterable[str | bytes], size: int = CHUNK, on_end: Callable[[End], None] | None = None
) -> Iterator[list[tuple[int, Record]]]:
    """:func:`read_trace` in lists of up to ``size`` records. At a bad line, the records before it
    come first, as a last (short) chunk; the next request raises :class:`Unusable`. ``on_end`` gets
    the end-of-run line, if any, after the last chunk."""
    decode = _decoder()
    header: Header | None = None
    last_t = 0.0
    line_no = 0
    ended = 0
    end: End | None = None
    chunk: list[tuple[int, Record]] = []
    failure: Unusable | None = None
    try:
        for line_no, raw in enumerate(lines, start=1):
            try:
                record = record_of(decode(raw))
            except _REFUSED:
                if _blank(raw):
                    continue
                refuse(line_no, raw)
            if ended:
                raise Unusable(line_no, f"a line after the end line (line {ended}): the end line is the last")
            kind = type(record)
            if kind is CHANGE or kind is REQUEST:
                if header is None:
                    what = "request" if kind is REQUEST else record.entity  # type: ignore[union-attr]
                    raise Unusable(line_no, f"missing header: the first line is a {what} line, not the header")
                t: float = cast(tuple[float, ...], record)[0]  # its time, the first field of both (an index: compiled,
                # a field read on a union of record types is a Python-level attribute lookup)
                if t >= last_t:
                    last_t = t
                elif goes_back(t, last_t):  # float noise back is one instant (trace-format.md)
                    raise Unusable(line_no, f"time goes back from t={time_text(last_t)} to t={time_text(t)}")
                chunk.append((line_no, record))  # type: ignore[arg-type]  # a change or a request
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
            elif isinstance(record, End):
                ended = line_no
                if header is None:
                    raise Unusable(line_no, "missing header: the first line is the end line, not the header")
                if goes_back(record.t, last_t):
                    raise Unusable(line_no, f"time goes back from t={time_text(last_t)} to t={time_text(record.t)}")
                end = record
            else:
                assert isinstance(record, Header)
                if header is not None:
                    raise Unusable(line_no, "a second header: the header is the first line only")
                header = record
                chunk.append((line_no, record))
    except Unusable as error:
        failure = error
    if failure is not None:
        # yielded outside the except block: compiled, a yield inside it kept a reference to the error (and so its
        # traceback's frames, the checker's whole state) when a Python generator iterated this one
        if chunk:
            yield chunk
        raise failure
    if chunk:
        yield chunk
    if header is None:
        raise Unusable(max(line_no, 1), "empty trace: no header line")
    if end is not None and on_end is not None:
        on_end(end)


def loads_all(lines: Iterable[str | bytes]) -> Iterator[Entry]:
    """The records of a trace's lines (order unchecked: for a trace's own lines, or a part of one)."""
    for line_no, raw in enumerate(lines, start=1):
        if not _blank(raw):
            yield line_record(line_no, raw)


def line_record(line_no: int, raw: str | bytes) -> Entry:
    """The record of one line, or :class:`Unusable`."""
    try:
        return record_of(_decoder()(raw))
    except _REFUSED:
        refuse(line_no, raw)


def from_json(obj: Any, line_no: int = 1) -> Entry:
    """The record of one line given as a JSON object (an implementation's record), validated as a line is."""
    check(obj, line_no)
    try:
        line: Any = msgspec.convert(obj, Line, strict=True)
    except msgspec.ValidationError as error:
        _explain(line_no, obj, str(error))
    except RecursionError:
        raise Unusable(line_no, "nested too deeply") from None
    try:
        record = record_of(line)
    except ValueError as error:  # a condition across keys (the line's ``CONDITIONS``)
        _explain(line_no, obj, str(error))
    return record


# ---------------------------------------------------------------------- a line's record

# What the loop reads on every line, as Final names: compiled, mypyc keeps one as a C static, where an
# imported name is a dictionary lookup at each use.
_new: Final = tuple.__new__
_fields: Final = astuple
"""A line's fields in their order, in one call: compiled, reading them one by one from a Struct is a
Python-level attribute lookup each."""
CHANGE: Final = Change
REQUEST: Final = Request
""":class:`~.records.Change` and :class:`~.records.Request` for compiled code to test a record against
(``isinstance(record, CHANGE)``): a ``Final`` name of a compiled module is a C static, where the class imported
from :mod:`model.trace` is a dictionary lookup at each use. The checker's hot loops test every record."""
_JOB_LINE: Final = JobLine
_REQUEST_LINE: Final = RequestLine
_SESSION_LINE: Final = SessionLine
_UNSET: Final = UNSET
_RULE: Final = re.compile(RULE_PATTERN).search
_RULE_LISTS: Final[dict[tuple[str, ...], tuple[str, ...]]] = {}
"""Each distinct rule list seen valid, kept once: records share it instead of holding a fresh tuple
each (far fewer objects for the garbage collector to track over a long trace)."""
_RULE_LISTS_LIMIT: Final = 4096


def record_of(line: Any) -> Entry:
    """The record of a decoded line, once the conditions across its keys hold (ValueError naming the first
    that does not). ``line`` is typed Any: a key left out is None, whatever its field's type says."""
    kind: Any = type(line)
    if kind is _JOB_LINE:
        t, id_, backend, session, src, dst, trigger, rules, reason = _fields(line)
        if reason is None and dst == "failed":
            raise ValueError(_needs("a line into failed", ["reason"]))
        return _new(CHANGE, (t, "job", id_, backend, session, src, dst, trigger, _checked(rules), reason, None))
    if kind is _REQUEST_LINE:
        return _request(line)
    if kind is _SESSION_LINE:
        t, id_, backend, src, dst, trigger, rules, max_time = _fields(line)
        return _new(CHANGE, (t, "session", id_, backend, None, src, dst, trigger, _checked(rules), None, max_time))
    if kind is HeaderLine:
        backends = {name: {"system_max_time": b.system_max_time,
                           "program_max_execution_time": b.program_max_execution_time}
                    for name, b in line.backends.items()}
        return Header(line.interpretation, backends, line.interactive_timeout, line.profile or DEFAULT_PROFILE)
    assert kind is EndLine
    return End(line.t)


def _request(line: Any) -> Request:
    t, op, backend, session, job, args, outcome, error, rules, message = _fields(line)
    if rules is not None:
        rules = _checked(rules)
    if outcome == "rejected":
        if error is None or rules is None or message is None:
            missing = [k for k, v in (("error", error), ("rules", rules), ("message", message)) if v is None]
            raise ValueError(_needs("a rejected request", missing))
    else:
        if error is not None or message is not None:
            raise ValueError("an accepted request has no 'error' or 'message'")
        if args is not None:
            max_time = args.max_time
            if max_time.__class__ is bool or (max_time.__class__ is float and not max_time.is_integer()):
                raise ValueError("an accepted open's max_time is an integer, a string or null - at `$.args.max_time`")
            mex = args.max_execution_time
            if mex.__class__ is bool or mex.__class__ is str:
                raise ValueError("an accepted submit's max_execution_time is a number or null"
                                 " - at `$.args.max_execution_time`")
        if op == "submit" or op == "open":
            target, named = ("job", job) if op == "submit" else ("session", session)
            if named is None or backend is None:
                missing = [k for k, v in ((target, named), ("backend", backend)) if v is None]
                raise ValueError(_needs(f"an accepted {op}", missing))
    if op == "cancel" and job is None:
        raise ValueError(_needs("a cancel", ["job"]))
    if op == "close" and session is None:
        raise ValueError(_needs("a close", ["session"]))
    return _new(REQUEST, (
        t, op, backend, session, job, None if args is None else _args(args), error, () if rules is None else rules,
        message,
    ))


def _args(args: Any) -> dict[str, Any]:
    """A request's arguments as given, in the order of :class:`~.records.Args`' fields (written out: a loop
    over the fields costs twice as much); ValueError for an integer no float can hold (the line is refused)."""
    max_time, mode, mex, group, program = _fields(args)
    for value in (max_time, mex):
        if value.__class__ is int and not -FLOAT_MAX_INT <= value <= FLOAT_MAX_INT:
            raise ValueError("an integer beyond a 64-bit float")
    unset = _UNSET
    given: dict[str, Any] = {}
    if max_time is not unset:
        given["max_time"] = max_time
    if mode is not unset:
        given["mode"] = mode
    if mex is not unset:
        given["max_execution_time"] = mex
    if group is not unset:
        given["group"] = group
    if program is not unset:
        given["program"] = program
    return given


def _checked(rules: tuple[str, ...]) -> tuple[str, ...]:
    """``rules`` if every rule ID matches the pattern (as the one equal list seen before), else ValueError."""
    known = _RULE_LISTS.get(rules)
    if known is None:
        for index, rule in enumerate(rules):
            if not _RULE(rule):
                raise ValueError(f"Expected `str` matching regex {RULE_PATTERN!r} - at `$.rules[{index}]`")
        if len(_RULE_LISTS) >= _RULE_LISTS_LIMIT:
            _RULE_LISTS.clear()
        known = _RULE_LISTS[rules] = rules
    return known


def _needs(kind: str, keys: list[str]) -> str:
    return f"{kind} needs {', '.join(repr(key) for key in keys)}"


# ---------------------------------------------------------------------- bad lines


def _blank(raw: str | bytes) -> bool:
    return not raw.strip()


def refuse(line_no: int, raw: str | bytes) -> NoReturn:
    """Raise :class:`Unusable` for a line the decoder refused, with the reason worded."""
    obj: Any = loads(raw, line=line_no)  # raises for what is not JSON (strictly), nothing else
    from_json(obj, line_no)
    raise Unusable(line_no, "not JSON: the line holds more than one JSON text")  # pragma: no cover - defensive


def _explain(line_no: int, obj: Any, message: str) -> NoReturn:
    """The reason a JSON value is no trace line, from msgspec's ``message``."""
    if not isinstance(obj, dict):
        raise Unusable(line_no, f"a trace line is a JSON object, got {_JSON_TYPES.get(type(obj), 'null')}")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in KINDS:
        known = ", ".join(KINDS)
        if "type" not in obj:
            raise Unusable(line_no, f"schema violation: a line needs 'type' (one of {known})")
        raise Unusable(line_no, f"schema violation at type: {kind!r} is not one of {known}")
    required = _missing(KINDS[kind], obj)
    if required:
        raise Unusable(line_no, f"schema violation: a {kind} line needs {', '.join(repr(k) for k in required)}")
    where, what = path_of(message)
    raise Unusable(line_no, f"schema violation at {where}: {what}" if where else f"schema violation: {what}")


def _missing(line: Any, obj: dict[str, Any]) -> list[str]:
    """The keys a line of this kind always has that ``obj`` lacks."""
    info = msgspec.inspect.type_info(line)
    assert isinstance(info, msgspec.inspect.StructType)
    return [f.encode_name for f in info.fields if f.required and f.encode_name not in obj]
