"""docs/contract.md holds what an implementation needs to conform: each of its tables is held equal
to the code it comes from, and each of its examples is run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from model.sim import clock
from model.sim.devices import BackendConfig
from model.sim.engine import Engine
from model.sim.ops import decode_operations, run_operations
from model.spec.interpretations import interpretation_of
from model.spec.max_time import parse_max_time
from model.spec.validations import PRECEDENCE, VALIDATIONS, RequestRejected
from model.trace import Change, MemoryTrace, Request
from model.trace.schema import keys_table

DOC = (Path(__file__).resolve().parents[1] / "docs" / "contract.md").read_text(encoding="utf-8")


def _section(name: str) -> str:
    match = re.search(f"<!-- {name} -->\n(.*?)<!-- /{name} -->", DOC, re.S)
    assert match is not None, f"docs/contract.md has no {name} section"
    return match.group(1)


def _rows(name: str) -> list[list[str]]:
    """The cells of a table section's body rows."""
    rows = [line for line in _section(name).splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def _order_classes() -> dict[str, int]:
    """The clock's order classes by name."""
    return {name: getattr(clock, name) for name in ("JOB_END_FIRST", "TIMER", "JOB_END_LAST", "ARRIVAL")}


def test_the_order_classes_table_is_the_engines() -> None:
    classes = _order_classes()
    documented = [row[0].strip("`") for row in _rows("order-classes")]
    assert documented == sorted(classes, key=classes.__getitem__)
    assert len(set(classes.values())) == len(classes)


B0 = [BackendConfig("b0", system_max_time=1800.0, program_max_execution_time=400.0)]


def _changes(
    ops: list[dict[str, Any]], until: float = 3000.0, choices: dict[str, str] | None = None,
    profile: str | None = None, backends: list[BackendConfig] = B0,
) -> list[tuple[float, str, str, str]]:
    trace = MemoryTrace()
    engine = Engine(backends, sink=trace, interpretation=interpretation_of(choices or {}, profile))
    run_operations(engine, decode_operations(ops))
    engine.run(until=until)
    return [(r.t, r.id, r.dst, r.trigger) for r in trace if isinstance(r, Change) and r.src is not None]


def test_a_device_end_comes_before_the_same_jobs_max_execution_time() -> None:
    ops = [{"at": 0, "op": "submit", "backend": "b0", "job": "j1", "duration": 30, "max_execution_time": 30}]
    assert _changes(ops)[-1] == (30.0, "j1", "completed", "complete")


def test_max_execution_time_comes_before_the_sessions_max_time() -> None:
    ops = [
        {"at": 0, "op": "open", "backend": "b0", "session": "s1", "max_time": 100},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 10},
        {"at": 10, "op": "submit", "session": "s1", "job": "j2", "duration": 500, "max_execution_time": 90},
    ]
    assert _changes(ops)[-2:] == [
        (100.0, "j2", "failed", "max_execution_time_reached"), (100.0, "s1", "closed", "max_time_reached"),
    ]


def test_under_expiry_first_max_time_comes_before_max_execution_time() -> None:
    """A job's max_execution_time is its end on the device (not a TIMER event), so INT-EXPIRY-TIE orders it."""
    ops = [
        {"at": 0, "op": "open", "backend": "b0", "session": "s1", "max_time": 100},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 10},
        {"at": 10, "op": "submit", "session": "s1", "job": "j2", "duration": 500, "max_execution_time": 90},
    ]
    assert _changes(ops, choices={"INT-EXPIRY-TIE": "expiry_first"})[-2:] == [
        (100.0, "s1", "closed", "max_time_reached"), (100.0, "j2", "failed", "session_expired"),
    ]


def test_max_time_comes_before_the_interactive_timeout() -> None:
    ops = [
        {"at": 0, "op": "open", "backend": "b0", "session": "s1", "max_time": 310},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 10},
    ]
    assert _changes(ops)[-1] == (310.0, "s1", "closed", "max_time_reached")
    assert not [change for change in _changes(ops) if change[3] == "interactive_timeout"]


def test_session_and_job_ids_are_separate_namespaces_and_a_long_limit_is_accepted() -> None:
    trace = MemoryTrace()
    engine = Engine(B0, sink=trace)
    ops = [
        {"at": 0, "op": "open", "backend": "b0", "session": "x"},
        {"at": 0, "op": "submit", "session": "x", "job": "x", "duration": 10, "max_execution_time": 1000},
    ]
    run_operations(engine, decode_operations(ops))
    assert [r.error for r in trace if isinstance(r, Request)] == [None, None]


def _examples() -> list[tuple[Any, int | None]]:
    block = _section("max-time-examples")
    found: list[tuple[Any, int | None]] = []
    for line in block.splitlines():
        if "->" not in line:
            continue
        value, _, outcome = line.rpartition("->")
        found.append((json.loads(value), None if outcome.strip() == "refused" else int(outcome)))
    return found


def test_the_doc_has_accepted_and_refused_max_time_examples() -> None:
    examples = _examples()
    assert sum(seconds is None for _, seconds in examples) >= 10
    assert sum(seconds is not None for _, seconds in examples) >= 10


@pytest.mark.parametrize(("value", "seconds"), _examples(), ids=repr)
def test_each_max_time_example_parses_as_documented(value: Any, seconds: int | None) -> None:
    if seconds is None:
        with pytest.raises(RequestRejected) as refused:
            parse_max_time(value)
        assert refused.value.code == "MAXTIME-FORMAT"
    else:
        assert parse_max_time(value) == seconds


def test_the_keys_table_is_the_record_definitions() -> None:
    assert _section("line-keys") == keys_table()


def test_the_codes_table_is_the_validations() -> None:
    documented = [(code.strip("`"), tuple(rules.split(", ")), refuses) for code, rules, refuses in _rows("codes")]
    assert documented == [(v.code, v.rules, v.refuses) for v in VALIDATIONS]


def test_the_precedence_table_is_the_engines() -> None:
    documented = {
        op.strip("`"): tuple(code.strip("` ") for code in codes.split(",")) for op, codes in _rows("precedence")
    }
    assert documented == PRECEDENCE


def test_every_documented_code_is_a_validation() -> None:
    known = {v.code for v in VALIDATIONS}
    for _, codes in _rows("precedence"):
        assert {code.strip("` ") for code in codes.split(",")} <= known


def _documented_whitespace() -> set[int]:
    """The code points the grammar's `ws` names (U+XXXX and U+XXXX..U+YYYY ranges)."""
    block = _GRAMMAR.split("ws            =", 1)[1].split(";", 1)[0]
    found: set[int] = set()
    for first, last in re.findall(r"U\+([0-9A-F]{4})(?:\.\.U\+([0-9A-F]{4}))?", block):
        found.update(range(int(first, 16), int(last or first, 16) + 1))
    return found


_GRAMMAR = DOC.split("```ebnf", 1)[1].split("```", 1)[0]


def test_max_time_whitespace_is_exactly_the_documented_set() -> None:
    """Unicode White_Space, not str.isspace() (which adds U+001C..U+001F); no White_Space lies beyond the BMP."""
    accepted = set()
    for code in range(0x10000):
        try:
            parse_max_time(f"5m{chr(code)}")
        except RequestRejected:
            continue
        accepted.add(code)
    whitespace = _documented_whitespace()
    assert len(whitespace) == 25  # PropList.txt's White_Space count
    assert accepted == whitespace


_AT_DEADLINE = [
    {"at": 0, "op": "open", "backend": "b0", "session": "s1", "max_time": 100},
    {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 100},
    {"at": 5, "op": "submit", "backend": "b0", "job": "f1", "duration": 10},
    {"at": 10, "op": "submit", "session": "s1", "job": "j2", "duration": 10},
]


@pytest.mark.rule("MAXTIME-EXPIRY", "SCHED-PRIORITY")
@pytest.mark.parametrize(("idle_device", "expected"), [
    ("hold", ["j1 completed", "s1 closed", "j2 failed", "f1 running"]),
    ("work_conserving", ["j1 completed", "f1 running", "s1 closed", "j2 failed"]),
])
def test_a_fair_share_job_at_a_session_deadline(idle_device: str, expected: list[str]) -> None:
    """INT-EXPIRY-TIE's resolution: the session's job j2 never starts at its max_time; the fair-share job
    takes the device after the expiry under hold, before it (same instant) under work_conserving."""
    changes = _changes(_AT_DEADLINE, choices={"INT-IDLE-DEVICE": idle_device})
    assert [f"{id_} {dst}" for t, id_, dst, _ in changes if t == 100.0] == expected


@pytest.mark.rule("TTL-INTERACTIVE", "FIRST-JOB-CANCEL")
def test_a_doomed_submit_restarts_the_interactive_window() -> None:
    """INT-FIRST-JOB-CANCEL=fail_subsequent (default) x INT-INTERACTIVE-WINDOW: the doomed job is queued for an
    instant, which closes the window; it reopens as the job fails."""
    ops = [
        {"at": 0, "op": "open", "backend": "b0", "session": "s1"},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 100},
        {"at": 10, "op": "cancel", "job": "j1"},
    ]
    assert _changes(ops)[-2] == (310.0, "s1", "inactive", "interactive_timeout")
    doomed = [*ops, {"at": 200, "op": "submit", "session": "s1", "job": "j2", "duration": 10}]
    assert _changes(doomed)[-3:-1] == [
        (200.0, "j2", "failed", "first_job_cancelled"), (500.0, "s1", "inactive", "interactive_timeout"),
    ]


# The platform's timers and same-instant order (docs/contract.md, "Under the platform profile").

LONG = [BackendConfig("b0", system_max_time=28800.0)]
"""A backend whose program limit lets a job run 1740 s."""


@pytest.mark.rule("PLATFORM-UNUSED-CLOSES", "MAXTIME-EXPIRY")
def test_a_rearm_keeping_the_deadline_keeps_the_first_armings_place() -> None:
    """open, submit, cancel at 0 arm the unused timer three times for 1800; max_time is armed at the start,
    between the submit's arming and the cancel's: the open's arming fires first."""
    ops = [
        {"at": 0, "op": "open", "backend": "b0", "session": "s1", "max_time": 1800},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 10},
        {"at": 0, "op": "cancel", "job": "j1"},
    ]
    assert _changes(ops, profile="platform")[-1] == (1800.0, "s1", "closed", "unused_timeout")


@pytest.mark.rule("PLATFORM-BATCH", "MAXTIME-EXPIRY")
@pytest.mark.parametrize(("duration", "trigger"), [(1740, "batch_ended"), (1741, "max_time_reached")])
def test_a_batch_end_arming_takes_the_place_of_an_earlier_arming_at_the_same_deadline(
    duration: int, trigger: str,
) -> None:
    ops = [
        {"at": 0, "op": "open", "backend": "b0", "session": "s1", "max_time": 1800, "mode": "batch"},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": duration},
    ]
    assert _changes(ops, profile="platform", backends=LONG)[-1] == (1800.0, "s1", "closed", trigger)


@pytest.mark.rule("PLATFORM-UNUSED-CLOSES")
def test_a_queued_jobs_cancel_rearms_the_unused_timer() -> None:
    ops = [
        {"at": 0, "op": "submit", "backend": "b0", "job": "f1", "duration": 3000},
        {"at": 0, "op": "open", "backend": "b0", "session": "s1"},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 10},
        {"at": 100, "op": "cancel", "job": "j1"},
    ]
    assert (1900.0, "s1", "closed", "unused_timeout") in _changes(ops, until=4000, profile="platform", backends=LONG)


@pytest.mark.rule("PLATFORM-BATCH")
def test_a_queued_jobs_cancel_rearms_a_batchs_end() -> None:
    """j1 ends at 10 (the end would be at 70); j2 waits behind f1 and is cancelled at 40: the batch ends at 100."""
    ops = [
        {"at": 0, "op": "open", "backend": "b0", "session": "s1", "mode": "batch"},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 10},
        {"at": 10, "op": "submit", "backend": "b0", "job": "f1", "duration": 200},
        {"at": 30, "op": "submit", "session": "s1", "job": "j2", "duration": 10},
        {"at": 40, "op": "cancel", "job": "j2"},
    ]
    sessions = [change for change in _changes(ops, profile="platform", backends=LONG) if change[1] == "s1"]
    assert sessions[-1] == (100.0, "s1", "closed", "batch_ended")


@pytest.mark.rule("PLATFORM-BATCH", "FIRST-JOB-CANCEL")
@pytest.mark.parametrize(("mode", "closed_at", "expected"), [
    ("batch", None, ["j1 cancelled", "s1 inactive", "j2 failed", "j3 failed", "f1 running"]),
    ("session", None, ["j1 cancelled", "j2 failed", "j3 failed"]),
    ("batch", 2, ["j1 cancelled", "j2 failed", "j3 failed", "s1 closed", "f1 running"]),
])
def test_a_job_ends_then_its_session_reacts_then_the_doomed_fail_then_the_device_is_dispatched(
    mode: str, closed_at: int | None, expected: list[str],
) -> None:
    ops: list[dict[str, Any]] = [
        {"at": 0, "op": "open", "backend": "b0", "session": "s1", "mode": mode},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 100},
        {"at": 0, "op": "submit", "session": "s1", "job": "j2", "duration": 10},
        {"at": 0, "op": "submit", "session": "s1", "job": "j3", "duration": 10},
        {"at": 0, "op": "submit", "backend": "b0", "job": "f1", "duration": 10},
        {"at": 5, "op": "cancel", "job": "j1"},
    ]
    if closed_at is not None:
        ops.insert(5, {"at": closed_at, "op": "close", "session": "s1"})
    choices = {"INT-PLATFORM-FIRST-JOB-CANCEL": "fail_subsequent"}
    changes = _changes(ops, choices=choices, profile="platform", backends=LONG)
    assert [f"{id_} {dst}" for t, id_, dst, _ in changes if t == 5.0] == expected


@pytest.mark.rule("MAXTIME-EXPIRY", "SCHED-FAIRSHARE")
@pytest.mark.parametrize(("tie", "expected"), [
    ("job_first", ["f1 completed", "f2 running", "s1 closed", "j2 failed"]),
    ("expiry_first", ["s1 closed", "j2 failed", "f1 completed", "f2 running"]),
])
def test_an_expiring_inactive_sessions_job_at_the_fair_share_head_is_passed_over(
    tie: str, expected: list[str],
) -> None:
    ops = [
        {"at": 0, "op": "open", "backend": "b0", "session": "s1", "max_time": 300},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 10},
        {"at": 80, "op": "submit", "backend": "b0", "job": "f1", "duration": 220},
        {"at": 90, "op": "submit", "session": "s1", "job": "j2", "duration": 10},
        {"at": 95, "op": "submit", "backend": "b0", "job": "f2", "duration": 10},
    ]
    changes = _changes(ops, choices={"INT-EXPIRY-TIE": tie}, profile="platform")
    assert [f"{id_} {dst}" for t, id_, dst, _ in changes if t == 300.0] == expected


@pytest.mark.rule("FIRST-JOB-CANCEL")
def test_under_close_session_the_closed_line_precedes_the_doomed_jobs_failures() -> None:
    ops = [
        {"at": 0, "op": "open", "backend": "b0", "session": "s1"},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 100},
        {"at": 0, "op": "submit", "session": "s1", "job": "j2", "duration": 10},
        {"at": 0, "op": "submit", "backend": "b0", "job": "f1", "duration": 10},
        {"at": 5, "op": "cancel", "job": "j1"},
    ]
    changes = _changes(ops, choices={"INT-FIRST-JOB-CANCEL": "close_session"}, backends=LONG)
    assert [f"{id_} {dst}" for t, id_, dst, _ in changes if t == 5.0] == [
        "j1 cancelled", "s1 closed", "j2 failed", "f1 running",
    ]
