"""What docs/trace-format.md says a request line carries (its ids, its args as given), held to the
reference engine, and why it matters: `sessionspec check` replays a trace's requests from their lines."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from model.sim.devices import BackendConfig
from model.sim.engine import Engine
from model.spec.interpretations import Interpretation, profiles
from model.spec.validations import RequestRejected
from model.trace import Header, MemoryTrace
from properties.conformance.checker import CONFORMS, check_lines

BACKENDS = [
    BackendConfig("b0", system_max_time=1800.0, program_max_execution_time=400.0),
    BackendConfig("b1", system_max_time=1800.0, program_max_execution_time=400.0),
]


def _requests() -> tuple[list[str], list[dict[str, Any]]]:
    """The trace lines of a run touching each documented case, and its request lines as objects."""
    trace = MemoryTrace()
    engine = Engine(BACKENDS, sink=trace)
    engine.open_session("b0", None, "s1")
    calls: list[tuple[Any, ...]] = [
        (engine.submit, ("s1", "b1"), {"job_id": "j1"}),                                   # BACKEND-FIXED
        (engine.submit, ("s1", None), {"job_id": "j2", "max_execution_time": 0}),         # after BACKEND-FIXED
        (engine.submit, ("s9", "b1"), {"job_id": "j3"}),                                   # UNKNOWN-SESSION
        (engine.submit, ("s1", None), {"job_id": "j4", "duration": 10.0, "fault": False}),
        (engine.open_session, ("b0", 60.0, "s2"), {}),                                      # MAXTIME-FORMAT
    ]
    for call, args, kwargs in calls:
        with contextlib.suppress(RequestRejected):
            call(*args, **kwargs)
    engine.run(until=20.0)
    for call, args in ((engine.cancel, "j4"), (engine.cancel, "jx"), (engine.close, "s1"), (engine.close, "s9")):
        with contextlib.suppress(RequestRejected):
            call(args)
    lines = trace.jsonl().splitlines(keepends=True)
    return lines, [obj for obj in map(json.loads, lines) if obj["type"] == "request"]


def _ids(line: dict[str, Any]) -> tuple[Any, ...]:
    return line["op"], line.get("backend"), line.get("session"), line.get("job"), line.get("error")


def test_request_lines_carry_the_documented_ids() -> None:
    _, requests = _requests()
    assert [_ids(line) for line in requests] == [
        ("open", "b0", "s1", None, None),
        ("submit", "b1", "s1", "j1", "BACKEND-FIXED"),          # the client's backend, not the session's
        ("submit", "b0", "s1", "j2", "MAX-EXECUTION-TIME-FORMAT"),  # the session's, the client named none
        ("submit", "b1", "s9", "j3", "UNKNOWN-SESSION"),        # the client's: no session to take one from
        ("submit", "b0", "s1", "j4", None),
        ("open", "b0", "s2", None, "MAXTIME-FORMAT"),
        ("cancel", "b0", "s1", "j4", "JOB-FINISHED"),           # the job's backend and session
        ("cancel", None, None, "jx", "UNKNOWN-JOB"),
        ("close", "b0", "s1", None, None),                      # an accepted close carries the session's backend
        ("close", None, "s9", None, "UNKNOWN-SESSION"),
    ]


def test_the_reference_trace_conforms() -> None:
    lines, _ = _requests()
    report = check_lines(lines, "t.jsonl")
    assert report.status == CONFORMS, report.lines


@pytest.mark.parametrize(("old", "new"), [
    ('"backend":"b1","session":"s1","job":"j1"', '"backend":"b0","session":"s1","job":"j1"'),
    ('"args":{"max_time":60.0}', '"args":{"max_time":60}'),
])
def test_a_request_line_is_a_replay_input(old: str, new: str) -> None:
    """The session's backend on the BACKEND-FIXED line, or 60.0 written back as 60, makes the replay expect
    the request accepted: the line diverges although args are not compared."""
    lines, _ = _requests()
    changed = [line.replace(old, new) for line in lines]
    assert changed != lines
    report = check_lines(changed, "t.jsonl")
    assert report.divergences, report.lines


def test_unnamed_sessions_and_jobs_get_the_documented_ids() -> None:
    """docs/conformance.md (IDs): sN / jN from a counter per kind, never reused, skipping IDs taken; a
    rejected request takes none."""
    engine = Engine(BACKENDS)
    engine.open_session("b0", None, "s1")
    with contextlib.suppress(RequestRejected):
        engine.submit("s1", job_id="j1", max_execution_time=0)  # rejected: j1 stays free
    named = [engine.open_session("b0", None, name).id if name else engine.open_session("b0").id
             for name in (None, "s4", None, None)]
    assert named == ["s2", "s4", "s3", "s5"]  # s1 and s4 taken when their turn came
    assert [engine.submit("s2").id, engine.submit(None, "b0").id] == ["j1", "j2"]



def test_an_empty_name_is_a_caller_error_and_traces_nothing() -> None:
    """A trace line cannot carry an empty name (docs/trace-format.md), so the engine's API refuses one as a
    ValueError, like a bad ``mode``, instead of tracing a line no reader accepts."""
    trace = MemoryTrace()
    engine = Engine(BACKENDS, sink=trace)
    engine.open_session("b0", None, "s1")
    engine.submit("s1", job_id="j1")
    before = len(trace)
    calls: list[Any] = [
        lambda: engine.open_session(""), lambda: engine.open_session("b0", None, ""),
        lambda: engine.submit("", "b0"), lambda: engine.submit(None, ""), lambda: engine.submit("s1", job_id=""),
        lambda: engine.cancel(""), lambda: engine.close(""),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="never empty"):
            call()
    assert len(trace) == before

@pytest.mark.parametrize(
    "interpretation", [*profiles().values(), *profiles("platform").values()], ids=lambda i: i.name,
)
def test_init_sends_exactly_the_choices_the_reference_header_records(interpretation: Interpretation) -> None:
    """docs/conformance.md (the header): echoing init's interpretation gives the reference's header."""
    trace = MemoryTrace()
    Engine(BACKENDS, sink=trace, interpretation=interpretation)
    [header] = [record for record in trace if isinstance(record, Header)]
    assert dict(header.interpretation) == interpretation.recorded()
