"""The trace format: every line the engine writes is valid against the published JSON Schema.

A varied run (sessions that expire, close, deactivate and reactivate, cancels,
device faults, max_execution_time failures, rejected requests, background load, two
backends) is replayed under every interpretation profile.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from model.sim.devices import BackendConfig, BackgroundLoad, Duration
from model.sim.engine import Engine
from model.spec.interpretations import INTERPRETATION_POINTS, Interpretation, profiles
from model.spec.lifecycles import JOB, SESSION
from model.spec.profiles import PROFILES as PROFILE_NAMES
from model.spec.validations import RequestRejected
from model.trace import (
    FORMAT,
    VERSION,
    Change,
    End,
    Header,
    JsonlWriter,
    MemoryTrace,
    Request,
    Tee,
    emitter,
    loads_all,
    schema,
)
from model.trace.schema import PATH, render

PROFILES = profiles()
VALIDATOR = Draft202012Validator(schema())
TRACED_RULES = ("JOB-TERMINAL", "SESSION-GROUPS-JOBS", "MAXTIME-EXPIRY", "CLOSE-FAILS-INCOMPLETE", "DEVICE-FAULT")


def varied_run(interpretation: Interpretation, seed: int = 7) -> MemoryTrace:
    """One run that reaches every kind of trace line the engine can write."""
    trace = MemoryTrace()
    e = Engine(
        [
            BackendConfig("b0", duration=Duration.exponential(20.0), fault_rate=0.2),
            BackendConfig("b1", system_max_time=3600.0, duration=Duration.uniform(5.0, 15.0)),
        ],
        interpretation=interpretation, seed=seed, sink=trace,
    )
    e.add_background_load(BackgroundLoad("b0", jobs_per_hour=60.0), until=3000.0)
    e.open_session("b0", session_id="s", max_time="20m")
    e.open_session("b1", session_id="t")
    e.open_session("b0", session_id="u", max_time=900)
    for n in range(3):
        e.submit("s", job_id=f"s{n}")
    e.submit("t", job_id="t0", max_execution_time=5.0, duration=30.0)
    e.submit("t", job_id="t1", fault=True)
    e.submit("u", job_id="u0")
    e.submit("u", job_id="u1")
    e.run_until(50)
    e.cancel("u0")
    e.submit(backend="b1", job_id="p0", duration=8.0)
    e.run_until(120)
    _attempt(lambda: e.submit("t", job_id="t2", duration=400.0))  # t expires at once under first_job_limit
    e.run_until(130)
    e.close("t")
    e.close("t")
    _attempt(lambda: e.submit("u", job_id="u2"))  # u may be closed (first job cancelled, or expired)
    e.run_until(800)
    _attempt(lambda: e.submit("s", job_id="s3"))
    e.inject_fault("b0")
    for bad in (
        lambda: e.open_session("b0", max_time="1h 1h"),
        lambda: e.open_session(None),
        lambda: e.submit("t"),
        lambda: e.submit("s", max_execution_time=-3),
        lambda: e.cancel("nope"),
        lambda: e.submit(backend="b0", job_id="s0"),
    ):
        try:
            bad()
        except RequestRejected:
            pass
        else:  # pragma: no cover - a missing rejection is a failure of the run itself
            raise AssertionError("expected a rejected request")
    e.run(until=6000)
    return trace


def _attempt(request: Callable[[], object]) -> None:
    """A request whose acceptance depends on the interpretation: either outcome is traced."""
    with contextlib.suppress(RequestRejected):
        request()


def _errors(line: str) -> list[str]:
    return [f"{list(err.path)}: {err.message}" for err in VALIDATOR.iter_errors(json.loads(line))]


@pytest.mark.rule(*TRACED_RULES)
@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_line_validates_against_the_schema(profile: str) -> None:
    trace = varied_run(PROFILES[profile])
    lines = trace.jsonl().splitlines()
    assert len(lines) > 100
    for number, line in enumerate(lines, start=1):
        assert not _errors(line), f"line {number}: {line}\n{_errors(line)}"
    kinds = {json.loads(line)["type"] for line in lines}
    assert kinds == {"header", "request", "session", "job"}
    outcomes = {(r.op, r.error is None) for r in trace if isinstance(r, Request)}
    assert {("submit", False), ("open", False), ("cancel", False), ("close", True)} <= outcomes
    reasons = {r.reason for r in trace if isinstance(r, Change) and r.dst == "failed"}
    assert {"device_error", "max_execution_time_reached"} <= reasons


@pytest.mark.rule("JOB-TERMINAL")
def test_the_header_comes_first_and_only_once() -> None:
    trace = varied_run(PROFILES["default"])
    assert isinstance(trace[0], Header)
    assert not any(isinstance(r, Header) for r in trace[1:])
    first = json.loads(trace.jsonl().splitlines()[0])
    assert (first["type"], first["format"], first["version"]) == ("header", FORMAT, VERSION)
    assert first["interpretation"] == PROFILES["default"].recorded()
    assert first["backends"]["b1"] == {"system_max_time": 3600.0, "program_max_execution_time": 3600.0}


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_header_lists_every_choice_but_the_default_ones_of_later_points(profile: str) -> None:
    """Points added after the format's first catalogue are listed only when chosen away from their default,
    so that older traces keep their bytes; a reader takes a point left out at its default."""
    interpretation = PROFILES[profile]
    listed = json.loads(varied_run(interpretation).jsonl().splitlines()[0])["interpretation"]
    for point in (p for p in INTERPRETATION_POINTS if p.id in interpretation):
        chosen = interpretation[point.id]
        assert listed.get(point.id) == (chosen if point.in_every_header or chosen != point.default else None)
    assert Interpretation(listed) == interpretation


@pytest.mark.rule("JOB-TERMINAL", "CLOSE-FAILS-INCOMPLETE", "MAXTIME-EXPIRY", "FIRST-JOB-CANCEL")
def test_failed_job_lines_carry_a_reason_and_times_never_go_back() -> None:
    trace = varied_run(PROFILES["default"])
    failed = [json.loads(line) for line in trace.jsonl().splitlines() if '"to":"failed"' in line]
    assert failed
    assert all(line["type"] == "job" and line["reason"] for line in failed)
    times = [r.t for r in trace[1:] if isinstance(r, Request | Change)]
    assert times == sorted(times)


@pytest.mark.rule("JOB-TERMINAL")
def test_a_failed_line_without_a_reason_is_invalid() -> None:
    line = {"type": "job", "t": 1.0, "id": "j", "backend": "b0", "from": "running", "to": "failed",
            "trigger": "device_error", "rules": ["DEVICE-FAULT"]}
    assert not VALIDATOR.is_valid(line)
    assert VALIDATOR.is_valid({**line, "reason": "device_error"})


@pytest.mark.rule("JOB-TERMINAL")
def test_rejected_request_lines_need_their_error_rules_and_message() -> None:
    line: dict[str, Any] = {"type": "request", "t": 0, "op": "cancel", "job": "x", "outcome": "rejected"}
    assert not VALIDATOR.is_valid(line)
    assert VALIDATOR.is_valid({**line, "error": "UNKNOWN-JOB", "rules": ["JOB-CANCEL"], "message": "unknown job"})


@pytest.mark.rule("JOB-TERMINAL")
def test_loads_all_round_trips_dumps() -> None:
    trace = varied_run(PROFILES["INT-FIRST-JOB-CANCEL=close_session"])
    text = trace.jsonl()
    records = [r for r in loads_all(text.splitlines()) if not isinstance(r, End)]
    assert records == list(trace)
    again = MemoryTrace(records)
    assert again.jsonl() == text


@pytest.mark.rule("JOB-TERMINAL")
def test_the_streaming_writer_writes_what_the_memory_trace_holds() -> None:
    memory = varied_run(PROFILES["default"])
    stream, binary = io.StringIO(), io.BytesIO()
    for writer in (JsonlWriter(stream), JsonlWriter(binary)):  # a binary stream gets the UTF-8 bytes
        for record in memory:
            writer(record)
        writer.flush()
    assert stream.getvalue() == memory.jsonl()
    assert binary.getvalue() == memory.jsonl().encode()


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_an_emitter_given_the_fields_writes_and_delivers_what_the_record_gives(profile: str) -> None:
    """The engine's hot path hands a sink a change's or an accepted request's fields (``Emitter.change``,
    ``Emitter.request``): a writer builds the line from them, any other sink gets the very record."""
    memory = varied_run(PROFILES[profile])
    stream, kept = io.StringIO(), MemoryTrace()
    writer = JsonlWriter(stream)
    for each in (writer, emitter(kept), Tee(JsonlWriter(io.StringIO()), kept)):
        for record in memory:
            if isinstance(record, Change):
                each.change(*record)
            elif isinstance(record, Request) and record.error is None:
                each.request(*record[:6])
            else:
                each(record)
    writer.flush()
    assert stream.getvalue() == memory.jsonl()
    assert kept == list(memory) * 2 and [type(r) for r in kept] == [type(r) for r in memory] * 2


def test_the_writer_loses_no_line_it_holds() -> None:
    """Lines wait in the writer a batch at a time: full batches are written as they fill, the rest on
    flush, end, close and on leaving its block, also by an exception."""
    records = list(varied_run(PROFILES["default"]))
    whole = MemoryTrace(records).jsonl()

    stream = io.StringIO()
    small = JsonlWriter(stream, batch=7)
    for record in records[:10]:
        small(record)
    assert stream.getvalue() == MemoryTrace(records[:7]).jsonl()  # one batch written, three lines held
    for record in records[10:]:
        small(record)
    small.end(5000.0)
    assert stream.getvalue() == MemoryTrace(records).jsonl(end=5000.0)

    stream = io.StringIO()
    with pytest.raises(KeyboardInterrupt), JsonlWriter(stream) as held:
        for record in records:
            held(record)
        raise KeyboardInterrupt
    assert stream.getvalue() == whole

    class Closing(io.StringIO):
        def close(self) -> None:
            self.closed_with = self.getvalue()
            super().close()

    closing = Closing()
    writer = JsonlWriter(closing)
    for record in records:
        writer(record)
    writer.close()
    assert closing.closed and closing.closed_with == whole


def _strict_json(line: str) -> Any:
    def refuse(token: str) -> Any:
        raise AssertionError(f"not JSON: {token} in {line}")

    return json.loads(line, parse_constant=refuse)


@pytest.mark.rule("MAXTIME-FORMAT", "JOB-MAX-EXECUTION")
@pytest.mark.parametrize(
    "bad", [1.5, True, [60], {"h": 1}, object(), float("nan"), float("inf")],
    ids=["float", "bool", "list", "dict", "object", "nan", "inf"],
)
def test_rejected_malformed_arguments_still_give_valid_lines(bad: Any) -> None:
    trace = MemoryTrace()
    e = Engine([BackendConfig("b0")], sink=trace)
    with pytest.raises(RequestRejected):
        e.open_session("b0", max_time=bad)
    if bad != 1.5:  # a fractional max_execution_time is fine
        with pytest.raises(RequestRejected):
            e.submit(backend="b0", max_execution_time=bad)
    lines = trace.jsonl().splitlines()
    assert len(lines) == (2 if bad == 1.5 else 3)
    for line in lines:
        assert VALIDATOR.is_valid(_strict_json(line)), line


def test_the_published_schema_is_the_one_generated_from_the_line_definitions() -> None:
    """model/schemas/trace.schema.json is generated: rewrite it with
    ``python -c 'from model.trace.schema import write; write()'`` when this fails."""
    assert PATH.read_text(encoding="utf-8") == render()
    defs = schema()["$defs"]
    assert defs["job"]["properties"]["t"] == {"type": "number", "minimum": 0}
    assert defs["job"]["properties"]["id"] == {"type": "string", "minLength": 1}
    assert defs["job"]["properties"]["to"]["enum"] == sorted(JOB.state_names)
    assert defs["session"]["properties"]["from"]["anyOf"][1] == {"type": "null"}
    assert {"additionalProperties": False}.items() <= defs["request"].items()
    assert set(defs["request"]["required"]) == {"type", "t", "op", "outcome"}
    assert defs["request"]["properties"]["op"]["enum"] == ["cancel", "cancel_session", "close", "open", "submit"]


def test_the_documented_example_lines_are_read_as_lines() -> None:
    """docs/trace-format.md's examples are lines the reader accepts (those with ``...`` are abridged)."""
    text = (Path(__file__).parent.parent / "docs" / "trace-format.md").read_text(encoding="utf-8")
    examples = [line for line in text.splitlines() if line.startswith('{"type":"') and line.endswith("}")
                and "..." not in line]
    assert len(examples) >= 6
    records = list(loads_all(examples))
    cancel = next(r for r in records if isinstance(r, Request) and r.op == "cancel")
    assert cancel.session == "vqe" and cancel.backend == "ibm_lagos"  # an accepted cancel names them


def _documented_triggers() -> list[list[str]]:
    """The body rows of docs/trace-format.md's triggers table."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "trace-format.md").read_text(encoding="utf-8")
    section = doc.split("<!-- triggers -->\n", 1)[1].split("<!-- /triggers -->", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_the_documented_triggers_are_the_declared_ones() -> None:
    """Every trigger a line may carry, its line, its profiles and its timer: the declaration's, plus the
    creation lines' open and submit."""
    declared: dict[tuple[str, str], tuple[str, str | None]] = {
        ("open", "session"): ("seeds, platform", None), ("submit", "job"): ("seeds, platform", None),
    }
    for lifecycle in (SESSION, JOB):
        for trigger in lifecycle.triggers:
            transitions = [t for t in lifecycle.transitions if t.trigger == trigger]
            names = {name for t in transitions for name in t.profiles}
            timers = {t.timer for t in transitions if t.timer is not None}
            assert len(timers) <= 1
            declared[trigger, lifecycle.entity] = (
                ", ".join(name for name in PROFILE_NAMES if name in names), next(iter(timers), None),
            )
    documented: dict[tuple[str, str], tuple[str, str | None]] = {}
    for trigger, line, listed, fired_by, _ in _documented_triggers():
        timer = fired_by.removeprefix("timer `").rstrip("`") if fired_by.startswith("timer `") else None
        documented[trigger.strip("`"), line] = (listed, timer)
    assert documented == declared
