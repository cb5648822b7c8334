"""The trace reader's fast paths agree with the reference: ``FastLines`` (decoded objects) and
``LineDecoder`` (a file's lines, with ``msgspec``) with the schema and with ``json``, on valid
lines and on generated mutations of them."""

from __future__ import annotations

import contextlib
import copy
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from model.engine import Engine
from model.interpretations import Interpretation, profiles
from model.trace import Change, MemoryTrace, Record, dumps, from_json, schema, to_json
from model.validations import RequestRejected
from properties.conformance.campaign import DEFAULT_BACKENDS
from properties.conformance.line_decoder import LineDecoder
from properties.conformance.ops import operations, resolve
from properties.conformance.reader import FastLines, LineValidator, Unusable, read_trace, to_record
from tests.scenario_helpers import engine_trace

_FULL = Draft202012Validator(schema())
_BIG = 2**63


def _engine_run() -> MemoryTrace:
    """Every kind of line the engine writes: accepted and rejected requests of each op, starts,
    ends, a cancel, a close, an expiry, failures with their reasons, max_time given several ways."""
    trace = MemoryTrace()
    engine = Engine(list(DEFAULT_BACKENDS), sink=trace)
    session = engine.open_session("b0", max_time=600)
    for _ in range(3):
        engine.submit(session.id, duration=400, fault=False)
    fair = engine.submit(None, "b0", duration=5, fault=True)
    engine.cancel(fair.id)
    engine.advance(700)
    other = engine.open_session("b1", max_time="20m")
    engine.submit(other.id, duration=10, fault=False, max_execution_time=5.5)
    engine.advance(20)
    engine.close(other.id)
    attempts: list[Callable[[], object]] = [
        lambda: engine.submit(session.id, duration=1, fault=False),
        lambda: engine.submit(other.id, duration=1, fault=False, max_execution_time=1.0),
        lambda: engine.cancel(fair.id),
        lambda: engine.close("nope"),
        *(lambda m=m: engine.open_session("b0", max_time=m) for m in ("2h 2h", 10**6, None, 3.0, 1.5, True)),
    ]
    for attempt in attempts:
        with contextlib.suppress(RequestRejected):
            attempt()
    engine.advance(4000)
    return trace


_RUN = _engine_run()
HEADER = json.dumps(to_json(_RUN[0]))
BASES = [to_json(record) for record in _RUN[1:]]


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.0, -0.0, 1.0, 2.5, 1e300, 2.0**63, 2.0**64]),
    st.text(max_size=4), st.sampled_from([
        "", "x", "b0", "j1", "s1", "queued", "running", "completed", "failed", "cancelled", "pending", "active",
        "inactive", "closed", "accepted", "rejected", "open", "submit", "cancel", "close", "request", "job", "session",
        "header", "2h", "SCHED-PRIORITY", "A\n", "a", "JOB-FINISHED",
    ]),
)
VALUES = st.one_of(
    SCALARS, st.lists(st.sampled_from(["SCHED-PRIORITY", "JOB-TERMINAL", "bad rule", "A\n", "", "X-"]), max_size=3),
    st.lists(SCALARS, max_size=2), st.dictionaries(st.sampled_from(["max_time", "max_execution_time", "group",
                                                                    "program", "other"]), SCALARS, max_size=3),
)
BOUNDARIES: list[Any] = [
    0, 0.0, -0.0, -1, -1e-300, 1e-300, 1, 1.0, 1.5, 2**63, 2.0**63, -(2**63), True, False, None, "", "x", "queued",
    "closed", "failed", "accepted", "rejected", "submit", "close", "A\n", [], ["A\n"], ["SCHED-PRIORITY"], {}, [{}],
]
"""Values at the edges of the schema's constraints (minimum 0, exclusiveMinimum 0, integer, minLength 1, enums,
the rule pattern, whose ``$`` also matches before a final newline)."""
KEYS = st.sampled_from([
    "type", "t", "id", "backend", "session", "job", "from", "to", "trigger", "rules", "reason", "max_time", "op",
    "outcome", "args", "error", "message", "version", "other",
])
ARG_KEYS = st.sampled_from(["max_time", "max_execution_time", "group", "program", "other"])
EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), KEYS, VALUES), st.tuples(st.just("set"), KEYS, st.sampled_from(BOUNDARIES)),
        st.tuples(st.just("del"), KEYS, st.none()),
        st.tuples(st.just("arg"), ARG_KEYS, SCALARS), st.tuples(st.just("arg"), ARG_KEYS, st.sampled_from(BOUNDARIES)),
        st.tuples(st.just("delarg"), ARG_KEYS, st.none()),
    ),
    max_size=3,
)


def _edited(base: dict[str, Any], edits: list[tuple[str, str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(json.dumps(base))
    for action, key, shared in edits:
        value = copy.deepcopy(shared)  # sampled values are shared between examples: never edit them
        if action == "set":
            obj[key] = value
        elif action == "del":
            obj.pop(key, None)
        elif isinstance(obj.get("args"), dict):
            if action == "arg":
                obj["args"][key] = value
            else:
                obj["args"].pop(key, None)
    return obj


def _fast_domain(obj: dict[str, Any]) -> bool:
    """What the fast paths must accept when the schema does: the kinds they read, with no argument the
    engine never writes and no number beyond 2**63, which they leave to ``json``."""
    if obj.get("type") not in ("request", "session", "job"):
        return False
    numbers = [obj.get("max_time"), obj.get("t")]
    args = obj.get("args")
    if isinstance(args, dict):
        if not set(args) <= {"max_time", "max_execution_time", "group", "program"}:
            return False
        numbers += list(args.values())
    return not any(
        isinstance(n, int | float) and not isinstance(n, bool) and abs(n) >= _BIG for n in numbers
    )


def _same_record(a: Record, b: Record) -> bool:
    return a == b and [type(x) for x in a] == [type(x) for x in b]


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(base=st.sampled_from(BASES), edits=EDITS)
def test_the_fast_path_accepts_exactly_what_the_schema_accepts(base: dict[str, Any], edits: list[Any]) -> None:
    _agrees(_edited(base, edits))


_FAST = FastLines()
_DECODER = LineDecoder(FastLines())


def _agrees(obj: dict[str, Any]) -> None:
    """Both fast paths accept a line only if the schema does, then give the reference record,
    and leave to the reference path no valid line of their domain."""
    valid = _FULL.is_valid(obj)
    compact = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    lines = (json.dumps(obj).encode(), compact, compact.encode("utf-8", "surrogatepass"))
    for record in (_FAST.record(obj), *(_DECODER.record(line) for line in lines)):
        if record is not None:
            assert valid, obj
            assert _same_record(record, from_json(obj)), (record, from_json(obj))
        elif valid:
            assert not _fast_domain(obj), f"valid line left to the slow path: {obj}"


def _kind(line: dict[str, Any]) -> tuple[Any, ...]:
    args = line.get("args")
    return (
        line["type"], line.get("op"), line.get("outcome"), line.get("from"), line.get("to"), "session" in line,
        "max_time" in line, tuple(args) if isinstance(args, dict) else args,
    )


def test_the_fast_path_agrees_with_the_schema_on_every_single_edit_at_the_boundaries() -> None:
    keys = ["type", "t", "id", "backend", "session", "job", "from", "to", "trigger", "rules", "reason", "max_time",
            "op", "outcome", "args", "error", "message", "other"]
    for base in {_kind(line): line for line in BASES}.values():  # one line of each kind
        _agrees(base)
        for key in keys:
            _agrees(_edited(base, [("del", key, None)]))
            for value in BOUNDARIES:
                _agrees(_edited(base, [("set", key, value)]))
        if "args" in base:
            for key in ("max_time", "max_execution_time", "group", "program", "other"):
                _agrees(_edited(base, [("delarg", key, None)]))
                for value in BOUNDARIES:
                    _agrees(_edited(base, [("arg", key, value)]))


def _reference(text: str) -> Record | str:
    """The record (or the error) of the reference path: ``json``, then the shape cache and the schema."""
    try:
        return to_record(2, LineValidator().parse(2, text))
    except Unusable as error:
        return error.reason


def _read(text: str | bytes, header: str) -> Record | str:
    line = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    try:
        records = list(read_trace([header.encode(), line]))
    except Unusable as error:
        assert error.line == 2
        return error.reason
    return records[1][1]


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(base=st.sampled_from(BASES), edits=EDITS)
def test_reading_a_line_gives_the_reference_record_or_error(base: dict[str, Any], edits: list[Any]) -> None:
    text = json.dumps(_edited(base, edits))
    got = _read(text, HEADER)
    expected = _reference(text)
    if isinstance(expected, str) and isinstance(got, str):
        assert got == expected
    else:
        assert not isinstance(got, str) and not isinstance(expected, str), (got, expected)
        assert _same_record(got, expected)


AWKWARD = [
    '"t":1e400,', '"t":-1e400,', '"t":NaN,', '"t":Infinity,', '"id":"\\ud800",', '"id":"\\udc00x",',
    '"t":18446744073709551617,', '"t":123456789012345678901234567890,', '"max_time":18446744073709551617,',
    '"t":1E2,', '"t":0.1e1,', '"t":-0,', '"id":"\\u00e9\\u4e2d",', '"id":"\u00e9",', '"reason":"\\u0000",',
]


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(base=st.sampled_from(BASES), awkward=st.sampled_from(AWKWARD), prefix=st.sampled_from(["", "\ufeff", " "]))
def test_the_line_decoder_and_json_read_awkward_lines_alike(base: dict[str, Any], awkward: str, prefix: str) -> None:
    text = prefix + json.dumps(base).replace("{", "{" + awkward, 1)
    got = _read(text, HEADER)
    expected = _reference(text)
    if isinstance(expected, str) or isinstance(got, str):
        assert got == expected
    else:
        assert _same_record(got, expected)


def test_text_with_a_lone_surrogate_reads_as_json_reads_it() -> None:
    """Text lines (``read_trace`` takes str too) may hold what no UTF-8 byte string can."""
    lines = [json.dumps(base, ensure_ascii=False).replace('"b0"', '"\udcffb0"', 1) for base in BASES]
    for text in [line for line in lines if "\udcff" in line][:8]:
        assert _DECODER.record(text) is None  # msgspec cannot encode it: the reference path decides
        got = list(read_trace([HEADER, text]))[1][1]
        expected = _reference(text)
        assert not isinstance(expected, str)
        assert _same_record(got, expected)


def test_a_time_beyond_a_float_is_unusable_not_a_crash() -> None:
    for base in BASES[:8]:
        obj = {**base, "t": 10**400}
        assert _FAST.record(obj) is None
        assert _DECODER.record(json.dumps(obj)) is None
        assert _read(json.dumps(obj), HEADER) == "schema violation at t: a time too large for a 64-bit float"
        with pytest.raises(Unusable, match="too large"):
            LineValidator().record(2, obj)


def test_a_time_that_is_not_finite_is_unusable() -> None:
    line = json.dumps({**BASES[0], "t": 12345.5}).replace("12345.5", "1e400")
    assert _read(line, HEADER) == "schema violation at t: inf is not a finite number of seconds"
    for t in (math.inf, math.nan):
        with pytest.raises(Unusable, match="not a finite number"):
            LineValidator().record(2, {**BASES[0], "t": t})  # an implementation's records given as objects


def test_a_line_that_is_not_utf8_is_unusable_whatever_the_decoder_says() -> None:
    line = json.dumps(BASES[0]).encode()
    for bad in (line.replace(b'"b', b'"\xff', 1), line[:-1] + b"\xed\xa0\x80}", b"\xc3(" + line):
        assert _read(bad, HEADER) == "not UTF-8 text"


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(abstract=operations(len(DEFAULT_BACKENDS)), profile=st.sampled_from(sorted(profiles())))
def test_engine_lines_all_take_the_fast_path(abstract: Any, profile: str) -> None:
    ops, end = resolve(abstract, DEFAULT_BACKENDS)
    trace = engine_trace(ops, end + 2000, Interpretation(profiles()[profile]))
    fast = FastLines()
    decoder = LineDecoder(fast)
    for record in trace[1:]:
        line = dumps(record)
        obj = json.loads(line)
        for found in (fast.record(obj), decoder.record(line.encode())):
            assert found is not None, obj
            assert _same_record(found, from_json(obj))
            assert isinstance(found, Change) == (obj["type"] != "request")
