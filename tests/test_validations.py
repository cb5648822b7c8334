"""Every request validation, triggered through the engine and recorded on the trace.

``TRIGGERS`` holds, per validation code, client requests that the engine must reject
with that code; ``test_every_validation_has_a_trigger`` keeps it in step with
``model.spec.validations.VALIDATIONS``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import pytest

from model.sim.devices import BackendConfig
from model.sim.engine import Engine
from model.sim.requests import CANCEL_CHECKS, CANCEL_SESSION_CHECKS, CLOSE_CHECKS, OPEN_CHECKS, SUBMIT_CHECKS
from model.spec.validations import PRECEDENCE, VALIDATIONS, VALIDATIONS_BY_CODE, RequestRejected
from model.trace import MemoryTrace, loads_all
from properties.conformance.checker import CONFORMS, check_lines
from tests.scenario_helpers import B0, B1, Scenario, backend

Trigger = Callable[[Engine], object]


def _set_up(e: Engine) -> None:
    """A session ``s`` (max_time 600) with a job ``done`` that has completed, and a closed session ``c``;
    under the platform profile also a session ``d`` that is closing (its job ``dj`` still running)."""
    e.open_session(B0, session_id="s", max_time=600)
    e.submit("s", job_id="done")
    e.run_until(20)
    e.open_session(B0, session_id="c")
    e.close("c")
    if e.interpretation.is_platform:
        e.open_session(B1, session_id="d")
        e.submit("d", job_id="dj", duration=1000.0)
        e.close("d")


TRIGGERS: dict[str, list[tuple[str, Trigger]]] = {
    "MAXTIME-FORMAT": [
        ("zero", lambda e: e.open_session(B0, max_time=0)),
        ("unordered string", lambda e: e.open_session(B0, max_time="30m 2h")),
        ("float", lambda e: e.open_session(B0, max_time=90.5)),
    ],
    "MAXTIME-ABOVE-SYSTEM": [("9h", lambda e: e.open_session(B0, max_time="9h"))],
    "MAXTIME-BELOW-JOB": [
        ("equal", lambda e: e.submit("s", max_execution_time=600)),
        ("above", lambda e: e.submit("s", max_execution_time=601.5)),
    ],
    "MAX-EXECUTION-TIME-FORMAT": [
        ("zero", lambda e: e.submit(backend=B0, max_execution_time=0)),
        ("negative", lambda e: e.submit("s", max_execution_time=-1)),
        ("bool", lambda e: e.submit(backend=B0, max_execution_time=True)),
        ("nan", lambda e: e.submit(backend=B0, max_execution_time=float("nan"))),
        ("infinite", lambda e: e.submit(backend=B0, max_execution_time=float("inf"))),
    ],
    "SESSION-CLOSED": [("closed by client", lambda e: e.submit("c"))],
    "SESSION-NOT-ACCEPTING": [("closing", lambda e: e.submit("d"))],
    "BACKEND-REQUIRED": [
        ("open without backend", lambda e: e.open_session(None)),
        ("plain job without backend", lambda e: e.submit()),
    ],
    "BACKEND-FIXED": [("other backend", lambda e: e.submit("s", backend=B1))],
    "BACKEND-UNKNOWN": [
        ("open", lambda e: e.open_session("ibm_nowhere")),
        ("submit", lambda e: e.submit(backend="ibm_nowhere")),
    ],
    "UNKNOWN-SESSION": [
        ("submit", lambda e: e.submit("nope")),
        ("close", lambda e: e.close("nope")),
    ],
    "UNKNOWN-JOB": [("cancel", lambda e: e.cancel("nope"))],
    "DUPLICATE-ID": [
        ("session", lambda e: e.open_session(B0, session_id="s")),
        ("job", lambda e: e.submit(backend=B0, job_id="done")),
    ],
    "JOB-FINISHED": [("completed job", lambda e: e.cancel("done"))],
}

PROFILE_OF = {"SESSION-NOT-ACCEPTING": "platform"}
"""The codes only a profile other than the seeds' gives (the others are tried under the seeds)."""

CASES = [
    pytest.param(code, trigger, id=f"{code}:{name}", marks=pytest.mark.rule(*VALIDATIONS_BY_CODE[code].rules))
    for code, items in TRIGGERS.items()
    for name, trigger in items
]


@pytest.mark.rule(*dict.fromkeys(r for v in VALIDATIONS for r in v.rules))
def test_every_validation_has_a_trigger() -> None:
    assert set(TRIGGERS) == set(VALIDATIONS_BY_CODE)
    assert len(VALIDATIONS) == len(VALIDATIONS_BY_CODE), "validation codes are unique"


@pytest.mark.parametrize(("code", "trigger"), CASES)
def test_the_request_is_rejected_with_its_code_and_rules_on_the_trace(code: str, trigger: Trigger) -> None:
    sc = Scenario(backend(B0), backend(B1), profile=PROFILE_OF.get(code, "seeds"))
    _set_up(sc.engine)
    state = _snapshot(sc.engine)
    changes = len(sc.changes())

    with pytest.raises(RequestRejected) as raised:
        trigger(sc.engine)

    expected_rules = VALIDATIONS_BY_CODE[code].rules
    assert raised.value.code == code
    assert raised.value.rules == expected_rules
    assert str(raised.value).endswith(f"[{', '.join(expected_rules)}]"), "the message names its rules"
    assert "\n" not in str(raised.value)
    [rejected] = sc.rejections()
    assert rejected is sc.trace[-1]
    assert (rejected.t, rejected.error, rejected.rules) == (20.0, code, expected_rules)
    assert rejected.message == raised.value.detail
    assert len(sc.changes()) == changes, "a rejected request changes no state"
    assert _snapshot(sc.engine) == state


def _snapshot(e: Engine) -> tuple[dict[str, str], dict[str, str]]:
    return {k: s.state for k, s in e.sessions.items()}, {k: j.state for k, j in e.jobs.items()}


@pytest.mark.rule("SESSION-CLOSED-REJECTS", "MAXTIME-EXPIRY")
def test_an_expired_session_rejects_with_session_closed() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time=60)
    e.submit("s", job_id="j1")
    with pytest.raises(RequestRejected) as raised:
        sc.at(61).submit("s")
    assert raised.value.code == "SESSION-CLOSED"
    assert [r.error for r in sc.rejections()] == ["SESSION-CLOSED"]


@pytest.mark.rule("BACKEND-FIXED", "BACKEND-NAME-OR-OBJECT")
def test_naming_the_sessions_own_backend_is_accepted() -> None:
    sc = Scenario(backend(B0), backend(B1))
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    job = e.submit("s", backend=B0, job_id="j")
    assert job.backend_name == B0
    assert sc.rejections() == []


# ---------------------------------------------------------------------- precedence


def test_the_engine_checks_each_request_in_the_declared_precedence() -> None:
    codes = {
        "open": [check.code for check in OPEN_CHECKS], "submit": [check.code for check in SUBMIT_CHECKS],
        "cancel": [check.code for check in CANCEL_CHECKS], "close": [check.code for check in CLOSE_CHECKS],
        "cancel_session": [check.code for check in CANCEL_SESSION_CHECKS],
    }
    assert codes == {op: list(order) for op, order in PRECEDENCE.items()}
    assert {code for codes in PRECEDENCE.values() for code in codes} == set(VALIDATIONS_BY_CODE)


SEVERAL: list[tuple[str, str, Trigger]] = [
    # each request breaks several validations at once; the first in PRECEDENCE wins
    ("UNKNOWN-SESSION", "also duplicate and malformed",
     lambda e: e.submit("nope", job_id="done", max_execution_time=0)),
    ("BACKEND-FIXED", "also closed and duplicate", lambda e: e.submit("c", backend=B1, job_id="done")),
    ("SESSION-CLOSED", "also duplicate and malformed",
     lambda e: e.submit("c", job_id="done", max_execution_time=-1)),
    ("BACKEND-UNKNOWN", "also duplicate", lambda e: e.submit(backend="ibm_nowhere", job_id="done")),
    ("DUPLICATE-ID", "also malformed", lambda e: e.submit(backend=B0, job_id="done", max_execution_time=True)),
    ("MAX-EXECUTION-TIME-FORMAT", "a string", lambda e: e.submit("s", max_execution_time="600")),
    ("BACKEND-REQUIRED", "open, also malformed", lambda e: e.open_session(None, max_time="x")),
    ("DUPLICATE-ID", "open, also above system", lambda e: e.open_session(B0, session_id="s", max_time="9h")),
    ("MAXTIME-FORMAT", "open, negative", lambda e: e.open_session(B0, max_time=-5)),
    ("UNKNOWN-JOB", "cancel", lambda e: e.cancel("nope")),
]


@pytest.mark.parametrize(("code", "why", "trigger"), SEVERAL, ids=[f"{c}:{w}" for c, w, _ in SEVERAL])
def test_when_several_validations_apply_the_first_declared_wins(code: str, why: str, trigger: Trigger) -> None:
    sc = Scenario(backend(B0), backend(B1))
    _set_up(sc.engine)
    with pytest.raises(RequestRejected) as raised:
        trigger(sc.engine)
    assert raised.value.code == code
    [rejected] = sc.rejections()
    assert rejected.error == code


def test_a_submit_refused_after_its_backend_was_accepted_names_its_sessions_backend() -> None:
    sc = Scenario(backend(B0), backend(B1))
    _set_up(sc.engine)
    submits: list[Trigger] = [lambda e: e.submit("nope"), lambda e: e.submit("s", backend=B1), lambda e: e.submit("c")]
    for submit in submits:
        with pytest.raises(RequestRejected):
            submit(sc.engine)
    assert [(r.error, r.backend) for r in sc.rejections()] == [
        ("UNKNOWN-SESSION", None), ("BACKEND-FIXED", B1), ("SESSION-CLOSED", B0),
    ]


@pytest.mark.rule("MAXTIME-BOUNDS", "MAXTIME-SYSTEM-LIMIT")
def test_a_refused_int_a_float_can_hold_is_recorded_as_itself_and_the_trace_conforms() -> None:
    """A max_time of 10**30 (over 64 bits) is above the system limit. It was recorded by its size ("an int of
    100 bits"), which check replayed as a malformed text (MAXTIME-FORMAT): the reference's own trace diverged.
    An int a trace line can hold is recorded as given."""
    trace = MemoryTrace()
    engine = Engine([BackendConfig("b")], sink=trace)
    for value, code in ((10**30, "MAXTIME-ABOVE-SYSTEM"), (-(10**30), "MAXTIME-FORMAT"),
                        (int(sys.float_info.max), "MAXTIME-ABOVE-SYSTEM")):
        with pytest.raises(RequestRejected) as refused:
            engine.open_session("b", max_time=value)
        assert refused.value.code == code
    with pytest.raises(RequestRejected):
        engine.submit(backend="b", max_execution_time=-(10**30))
    recorded = [json.loads(line)["args"] for line in trace.jsonl().splitlines()[1:]]
    assert recorded[:3] == [{"max_time": 10**30}, {"max_time": -(10**30)}, {"max_time": int(sys.float_info.max)}]
    assert recorded[3]["max_execution_time"] == -(10**30)
    report = check_lines(trace.jsonl().splitlines(), "t.jsonl")
    assert report.status == CONFORMS, report.lines


@pytest.mark.rule("JOB-MAX-EXECUTION", "MAXTIME-FORMAT")
def test_numbers_no_float_can_hold_are_refused_and_described_by_their_size() -> None:
    """An int beyond a float's range is a format error (not an OverflowError), and a message or trace
    line names a huge int by its size (its digits could exceed what Python prints, or a line holds)."""
    trace = MemoryTrace()
    engine = Engine([BackendConfig("b")], sink=trace)
    with pytest.raises(RequestRejected, match="an int of 1329 bits") as refused:
        engine.submit(backend="b", max_execution_time=10**400)
    assert refused.value.code == "MAX-EXECUTION-TIME-FORMAT"
    for value, code in ((10**5000, "MAXTIME-ABOVE-SYSTEM"), (-(10**5000), "MAXTIME-FORMAT")):
        with pytest.raises(RequestRejected, match="an int of 16610 bits") as refused:
            engine.open_session("b", max_time=value)
        assert refused.value.code == code
    lines = trace.jsonl().splitlines()
    assert all(len(line) < 1000 for line in lines)
    assert len(list(loads_all(lines))) == len(trace)
