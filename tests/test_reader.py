"""The one trace reader: it accepts exactly what the published schema accepts, gives the record the
line's definition gives, and refuses anything else as one ``unusable input`` reason, never a crash;
on valid lines and on generated mutations of them, as text and as bytes, and on lines no JSON
reader should use (non-finite numbers, huge integers, deep nesting, lone surrogates, bad UTF-8)."""

from __future__ import annotations

import contextlib
import copy
import gc
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from model.sim.engine import Engine
from model.spec.interpretations import Interpretation, profiles
from model.spec.validations import RequestRejected
from model.trace import (
    Change,
    Entry,
    Header,
    MemoryTrace,
    Record,
    Request,
    dumps,
    from_json,
    read_trace,
    schema,
    to_json,
)
from model.trace.reader import line_record
from properties.cli import cli
from properties.conformance.campaign import DEFAULT_BACKENDS
from properties.conformance.checker import UNUSABLE, check_file
from properties.conformance.draws import operations, resolve
from properties.conformance.judge import Judge
from properties.conformance.reader import Unusable
from tests.scenario_helpers import engine_trace

_FULL = Draft202012Validator(schema())
_FLOAT_MAX = 1.7976931348623157e308


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


def _expected(obj: dict[str, Any]) -> Record:
    """The record of a valid line, written out by hand from docs/trace-format.md (not by the reader's code)."""
    kind = obj["type"]
    if kind == "header":
        return Header(obj["interpretation"], obj["backends"], obj["interactive_timeout"])
    if kind == "request":
        return Request(
            float(obj["t"]), obj["op"], obj.get("backend"), obj.get("session"), obj.get("job"), obj.get("args"),
            obj.get("error"), tuple(obj.get("rules", ())), obj.get("message"),
        )
    return Change(
        float(obj["t"]), kind, obj["id"], obj["backend"], obj.get("session"), obj["from"], obj["to"], obj["trigger"],
        tuple(obj["rules"]), obj.get("reason"), None if obj.get("max_time") is None else float(obj["max_time"]),
    )


def _same_record(a: Entry, b: Entry) -> bool:
    return a == b and [type(x) for x in a] == [type(x) for x in b]


def _holdable(value: Any) -> bool:
    """Whether JSON text can hold ``value`` as read: finite numbers a float holds, Unicode strings."""
    if isinstance(value, dict):
        return all(_holdable(k) and _holdable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_holdable(v) for v in value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return not isinstance(value, int | float) or isinstance(value, bool) or abs(value) <= _FLOAT_MAX


def _valid(obj: Any) -> bool:
    """The published schema's verdict on a value that JSON text can hold."""
    return _holdable(obj) and _FULL.is_valid(obj)


def _agrees(obj: dict[str, Any]) -> None:
    """The reader accepts a line (given as an object, as text and as bytes) iff the schema does, then
    gives the record of the line's definition; else the same reason whichever way it is given."""
    valid = _valid(obj)
    compact = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    outcomes: list[Entry | str] = []
    readers: list[Callable[[], Entry]] = [
        lambda: from_json(obj, 2), lambda: line_record(2, compact), lambda: line_record(2, compact.encode()),
    ]
    for read in readers:
        try:
            outcomes.append(read())
        except Unusable as error:
            assert error.line == 2
            outcomes.append(error.reason)
    if valid:
        for found in outcomes:
            assert not isinstance(found, str), (obj, found)
            assert _same_record(found, _expected(obj)), (found, _expected(obj))
    else:
        assert all(isinstance(found, str) for found in outcomes), (obj, outcomes)
        assert len(set(outcomes)) == 1, outcomes


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(base=st.sampled_from(BASES), edits=EDITS)
def test_the_reader_accepts_exactly_what_the_schema_accepts(base: dict[str, Any], edits: list[Any]) -> None:
    _agrees(_edited(base, edits))


def _kind(line: dict[str, Any]) -> tuple[Any, ...]:
    args = line.get("args")
    return (
        line["type"], line.get("op"), line.get("outcome"), line.get("from"), line.get("to"), "session" in line,
        "max_time" in line, tuple(args) if isinstance(args, dict) else args,
    )


def test_the_reader_agrees_with_the_schema_on_every_single_edit_at_the_boundaries() -> None:
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


def _read(text: str | bytes, header: str = HEADER) -> Record | str:
    """The second line's record, or the reason it is unusable."""
    try:
        records = list(read_trace([header.encode(), text]))
    except Unusable as error:
        assert error.line == 2
        return error.reason
    return records[1][1]


AWKWARD = [
    '"t":1e400,', '"t":-1e400,', '"t":NaN,', '"t":Infinity,', '"id":"\\ud800",', '"id":"\\udc00x",',
    '"t":18446744073709551617,', '"t":123456789012345678901234567890,', '"max_time":18446744073709551617,',
    '"t":1E2,', '"t":0.1e1,', '"t":-0,', '"id":"\\u00e9\\u4e2d",', '"id":"\u00e9",', '"reason":"\\u0000",',
    '"t":' + "1" * 400 + ",", '"x":' + "[" * 2000 + "]" * 2000 + ",",
]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(base=st.sampled_from(BASES), awkward=st.sampled_from(AWKWARD), prefix=st.sampled_from(["", "\ufeff", " "]))
def test_awkward_lines_are_read_as_their_json_or_unusable(base: dict[str, Any], awkward: str, prefix: str) -> None:
    """What ``json`` reads as the schema wants is the record; the rest (a BOM, NaN, a number beyond a
    float, a lone surrogate, deep nesting) is one reason, as text and as bytes alike."""
    text = prefix + json.dumps(base).replace("{", "{" + awkward, 1)
    got = _read(text)
    assert got == _read(text.encode("utf-8", "surrogatepass"))
    unholdable: list[Any] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        unholdable.extend(value for _, value in items if not _holdable(value))  # duplicate keys too
        return dict(items)

    try:
        obj = json.loads(text.lstrip(" "), parse_constant=lambda token: math.nan, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        obj = None
    usable = obj is not None and not unholdable and not prefix.startswith("\ufeff") and _valid(obj)
    if usable:
        assert obj is not None and not isinstance(got, str), (text, got)
        assert _same_record(got, _expected(obj))
    else:
        assert isinstance(got, str) and "\n" not in got, (text, got)


def _reason(text: str | bytes) -> str:
    found = _read(text)
    assert isinstance(found, str), found
    return found


def test_lines_no_reader_should_use_are_unusable_input() -> None:
    base = json.dumps(BASES[0])
    bad: dict[str, str | bytes] = {
        "nesting": base.replace("{", '{"x":' + "[" * 2000 + "]" * 2000 + ",", 1),
        "NaN": base.replace('"t":', '"t":NaN,"y":', 1),
        "Infinity": base.replace('"t":', '"t":Infinity,"y":', 1),
        "1e400": base.replace('"t":', '"t":1e400,"y":', 1),
        "400 digits": base.replace('"t":', '"t":' + "9" * 400 + ',"y":', 1),
        "5000 digits": base.replace('"t":', '"t":' + "9" * 5000 + ',"y":', 1),
        "escaped lone surrogate": base.replace('"b0"', '"\\ud800"', 1),
        "lone surrogate in text": base.replace('"b0"', '"\ud800"', 1),
        "invalid UTF-8": base.encode().replace(b'"b0"', b'"\xffb0"', 1),
        "encoded surrogate": base.encode().replace(b'"b0"', b'"\xed\xa0\x80"', 1),
        "BOM": "\ufeff" + base,
    }
    reasons = {name: _reason(line) for name, line in bad.items()}
    for name, reason in reasons.items():
        assert reason and "\n" not in reason, (name, reason)
    assert reasons["invalid UTF-8"] == reasons["encoded surrogate"] == "not UTF-8 text"
    assert reasons["1e400"] == "a number beyond a 64-bit float"
    assert reasons["400 digits"] == reasons["5000 digits"] == "an integer beyond a 64-bit float"
    assert reasons["nesting"] == "nested too deeply"
    assert reasons["lone surrogate in text"] == "a lone surrogate (not Unicode text)"
    assert reasons["BOM"] == "a byte-order mark before the JSON text"
    assert reasons["NaN"].startswith("not JSON: ") and reasons["escaped lone surrogate"].startswith("not JSON: ")


def test_a_time_that_is_not_finite_is_unusable_when_given_as_an_object() -> None:
    for t in (math.inf, math.nan, 10**400):
        with pytest.raises(Unusable) as raised:
            from_json({**BASES[0], "t": t}, 2)  # an implementation's records given as objects
        assert "finite" in raised.value.reason or "beyond a 64-bit float" in raised.value.reason


def test_an_argument_beyond_a_float_is_unusable_in_both_builds() -> None:
    """A request's args hold any JSON number; an integer no float holds is refused in one reason. Compiled,
    comparing it with the largest float raised OverflowError (a traceback from ``check``)."""
    for base in (line for line in BASES if line["type"] == "request" and "args" in line):
        for key in ("max_time", "max_execution_time"):
            for big in ("9" * 400, "-" + "9" * 400, str(2**1024)):
                text = json.dumps({**base, "args": {**base["args"], key: 0}}).replace(f'"{key}": 0', f'"{key}": {big}')
                assert _reason(text) == "an integer beyond a 64-bit float", (base["op"], key, big)
            edge = json.dumps({**base, "args": {**base["args"], key: int(sys.float_info.max)}})
            assert not isinstance(_read(edge), str), (base["op"], key)


def test_a_check_stopped_by_an_unusable_line_keeps_nothing_alive(tmp_path: Path) -> None:
    """Compiled, the reader's error, raised after it yielded the records before the bad line from inside its
    ``except`` block, stayed referenced when a Python generator iterated it: each such check leaked its
    traceback and with it the judge, the replay engine and the ledger (tens of kB a run)."""
    lines = [json.dumps(line) for line in [to_json(_RUN[0]), *BASES[:6]]]
    lines[4] = lines[4].replace('"t":', '"t":"x","y":', 1)
    trace = tmp_path / "bad.jsonl"
    trace.write_text("\n".join(lines) + "\n")

    def judges() -> int:
        gc.collect()
        return sum(1 for thing in gc.get_objects() if isinstance(thing, Judge))

    assert check_file(str(trace)).status == UNUSABLE
    before = judges()
    for _ in range(5):
        assert check_file(str(trace)).status == UNUSABLE
    assert judges() == before


def test_error_reasons_name_the_key() -> None:
    job = next(line for line in BASES if line["type"] == "job" and line["to"] == "running")
    assert _reason(json.dumps({**job, "t": -1})) == "schema violation at t: Expected `float` >= 0.0"
    assert _reason(json.dumps({**job, "to": "nowhere"})).startswith("schema violation at to: ")
    assert _reason(json.dumps({**job, "extra": 1})) == "schema violation: Object contains unknown field `extra`"
    assert _reason(json.dumps({**job, "rules": ["bad rule"]})).startswith("schema violation at rules/0: ")
    assert _reason(json.dumps({k: v for k, v in job.items() if k not in ("to", "from")})) == (
        "schema violation: a job line needs 'from', 'to'"
    )
    assert _reason(json.dumps({**job, "type": "jbo"})) == (
        "schema violation at type: 'jbo' is not one of header, request, session, job, end"
    )
    assert _reason("[1, 2]") == "a trace line is a JSON object, got array"
    assert _reason("{not json").startswith("not JSON: ")
    assert _reason(json.dumps({**job, "to": "failed"})) == "schema violation: a line into failed needs 'reason'"


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(abstract=operations(len(DEFAULT_BACKENDS)), profile=st.sampled_from(sorted(profiles())))
def test_engine_lines_read_back_as_the_records_written(abstract: Any, profile: str) -> None:
    ops, end = resolve(abstract, DEFAULT_BACKENDS)
    trace = engine_trace(ops, end + 2000, Interpretation(profiles()[profile]))
    lines = trace.jsonl().splitlines()
    records = [record for _, record in read_trace(lines)]
    assert records == list(trace)
    for record, line in zip(records, lines, strict=True):
        assert dumps(record) == line
        assert _same_record(record, _expected(json.loads(line))) or isinstance(record, Header)


# ---------------------------------------------------------------------- fuzzing raw lines

_RAW_PIECES = st.sampled_from([
    b"{", b"}", b"[", b"]", b",", b":", b'"t"', b'"type"', b'"job"', b"1e400", b"NaN", b"-Infinity", b"9" * 400,
    b'"\\ud800"', b"\xff", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"null", b"true", b'"x"', b"0", b"-0.5", b"\x00", b" ",
])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(base=st.sampled_from(BASES), cut=st.integers(0, 400), insert=st.lists(_RAW_PIECES, max_size=4),
       drop=st.integers(0, 3))
def test_a_mutated_line_is_a_record_or_one_reason(
    base: dict[str, Any], cut: int, insert: list[bytes], drop: int
) -> None:
    """Bytes cut, dropped and spliced anywhere: the reader gives json's record or one reason, never a crash."""
    line = json.dumps(base, separators=(",", ":")).encode()
    at = cut % (len(line) + 1)
    mutated = line[:at] + b"".join(insert) + line[at + drop:]
    got = _read(mutated)
    if isinstance(got, str):
        assert got and "\n" not in got
        return
    obj = json.loads(mutated)  # accepted: it is JSON, and its record is the definition's
    assert _valid(obj)
    assert _same_record(got, _expected(obj))


def test_check_reports_unusable_lines_in_one_line_and_exit_2(tmp_path: Path) -> None:
    lines = _RUN.jsonl().splitlines(keepends=True)
    runner = CliRunner()
    for name, bad in {
        "nesting": b"[" * 2000 + b"]" * 2000, "nan": b'{"t":NaN}', "huge": b"9" * 400, "surrogate": b'"\\ud800"',
        "bytes": b"\xff\xfe", "bom": b"\xef\xbb\xbf{}", "inf": b"1e400",
    }.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes("".join(lines[:3]).encode() + bad + b"\n" + "".join(lines[3:]).encode())
        result = runner.invoke(cli, ["check", str(path)])
        assert result.exit_code == 2, (name, result.output)
        out = result.output
        assert out.startswith(f"{path}:4: unusable input: ") and out.count("\n") == 1, (name, out)
        assert "Traceback" not in out


def test_the_reader_unpacks_each_line_in_its_fields_order() -> None:
    """``record_of`` unpacks a decoded line's fields positionally (one call, not a lookup per field): in the
    order these Structs declare them, which this holds."""
    from model.trace.records import Args, JobLine, RequestLine, SessionLine

    assert JobLine.__struct_fields__ == ("t", "id", "backend", "session", "src", "dst", "trigger", "rules", "reason")
    assert SessionLine.__struct_fields__ == ("t", "id", "backend", "src", "dst", "trigger", "rules", "max_time")
    assert RequestLine.__struct_fields__ == (
        "t", "op", "backend", "session", "job", "args", "outcome", "error", "rules", "message"
    )
    assert Args.__struct_fields__ == ("max_time", "mode", "max_execution_time", "group", "program")
