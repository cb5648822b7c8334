"""``sessionspec check``: the offline trace checker (replay against the reference engine)."""

from __future__ import annotations

import gc
import json
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from model.sim.engine import Engine
from model.sim.entities import SessionRecord
from model.sim.ops import decode_operations
from model.sim.retention import RecentWindow
from model.spec.interpretations import DEFAULT, Interpretation, profiles
from model.spec.validations import RequestRejected
from model.trace import Change, End, MemoryTrace, Request, schema
from properties.cli import cli
from properties.conformance.campaign import DEFAULT_BACKENDS
from properties.conformance.checker import catalogue, check_lines
from properties.conformance.draws import Op, operations, resolve
from properties.conformance.reader import Unusable, from_json
from properties.conformance.replay import Replayer
from properties.invariants.base import TraceProperty, Violation
from properties.invariants.catalogue import PROPERTIES_BY_NAME
from properties.invariants.suite import check_records
from tests.scenario_helpers import engine_trace, jsonl_lines

FLUSH = 2000.0


def engine_lines(
    ops: Sequence[Op], until: float, interpretation: Interpretation = DEFAULT, engine: type[Engine] = Engine
) -> list[str]:
    return jsonl_lines(engine_trace(ops, until, interpretation, engine).jsonl())


def scenario(*ops: dict[str, Any]) -> list[Op]:
    return list(decode_operations(ops))


# A session job, a fair-share job held behind it, a second session job, a cancel and a close,
# on two backends: every kind of line, and a session whose window runs out at t=320.
BASIC = scenario(
    {"at": 0, "op": "open", "backend": "b0", "session": "s1"},
    {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 10, "fault": False},
    {"at": 0, "op": "submit", "backend": "b0", "job": "j2", "duration": 10, "fault": False},
    {"at": 0, "op": "submit", "session": "s1", "job": "j3", "duration": 10, "fault": False},
    {"at": 0, "op": "open", "backend": "b1", "session": "s2", "max_time": 100},
    {"at": 0, "op": "submit", "session": "s2", "job": "j4", "duration": 7, "fault": True},
    {"at": 0, "op": "submit", "session": "s2", "job": "j5", "duration": 200, "fault": False},
    {"at": 50, "op": "cancel", "job": "j2"},
    {"at": 400, "op": "close", "session": "s1"},
    {"at": 400, "op": "submit", "session": "s1", "job": "j6", "duration": 10, "fault": False},
)


def write(tmp_path: Path, lines: Sequence[str], name: str = "trace.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(lines), encoding="utf-8")
    return path


def run_check(path: Path | str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", str(path), *args])
    return result.exit_code, result.output


def find_line(lines: Sequence[str], **fields: Any) -> int:
    """Index of the first line whose JSON has all these fields."""
    for index, line in enumerate(lines):
        obj = json.loads(line)
        if all(obj.get(k) == v for k, v in fields.items()):
            return index
    raise AssertionError(f"no line with {fields}")


# ---------------------------------------------------------------------- conforming traces


@pytest.mark.parametrize("profile", sorted(profiles()))
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(abstract=operations(len(DEFAULT_BACKENDS)))
def test_engine_traces_conform_under_every_profile(profile: str, abstract: list[Any]) -> None:
    interpretation = profiles()[profile]
    ops, end = resolve(abstract, DEFAULT_BACKENDS)
    lines = engine_lines(ops, end + FLUSH, interpretation)
    report = check_lines(lines, "t.jsonl", until=end + FLUSH)
    assert report.status == 0, "\n".join(report.lines)


def _jittered(lines: Sequence[str], rng: random.Random, ulps: int) -> list[str]:
    """The lines with every device end's time moved by up to ``ulps`` units in the last place, either way:
    another computation of the same instant (an end as start + duration, against a deadline as start +
    max_time). Noise in other lines' times is the known limit of docs/trace-format.md."""
    out = [lines[0]]
    for line in lines[1:]:
        obj = json.loads(line)
        if obj["type"] == "request" or obj.get("trigger") not in ("complete", "device_error"):
            out.append(line)
            continue
        t = obj["t"]
        for _ in range(rng.randint(0, ulps)):
            t = math.nextafter(t, math.inf if rng.random() < 0.5 else -math.inf)
        obj["t"] = max(t, 0.0)
        out.append(json.dumps(obj, separators=(",", ":")) + "\n")
    return out


@pytest.mark.parametrize("profile", sorted(profiles()))
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(abstract=operations(1), seed=st.integers(0, 2**32))
def test_float_noise_in_the_times_of_a_conforming_trace_keeps_it_conforming(
    profile: str, abstract: list[Any], seed: int,
) -> None:
    """Found by an outsider: a job's end written 1 ulp after its session's deadline (973.416 against
    373.416 + 600) diverged, and a line 1e-12 s before the previous one was unusable input; both are one
    instant (trace-format.md)."""
    interpretation = profiles()[profile]
    ops, end = resolve(abstract, DEFAULT_BACKENDS[:1])
    lines = _jittered(engine_lines(ops, end + FLUSH, interpretation), random.Random(seed), 2)
    report = check_lines(lines, "t.jsonl", until=end + FLUSH)
    assert report.status == 0, "\n".join(report.lines)


def test_derived_events_a_unit_apart_run_in_the_order_of_their_exact_times() -> None:
    """The limit of trace-format.md: the reference runs the events it derives by their exact times, even a unit
    apart (one instant by the same-instant rule), and the replay follows it. A replay that took them as one
    instant (the job's end first, under job_first) would call this trace of the reference non-conforming."""
    ops = scenario(
        {"at": 0, "op": "open", "backend": "b0", "session": "s1", "max_time": 400},
        {"at": 1000.1, "op": "submit", "session": "s1", "job": "j1", "duration": 0.2, "fault": False},
        {"at": 1000.1, "op": "submit", "session": "s1", "job": "j2", "duration": 1000, "fault": False,
         "max_execution_time": 399.8},
    )
    lines = engine_lines(ops, 3000)
    start = json.loads(lines[find_line(lines, id="j2", to="running")])["t"]
    assert start + 399.8 == math.nextafter(1400.1, math.inf)  # the job's limit, a unit after the deadline
    failed = json.loads(lines[find_line(lines, id="j2", to="failed")])
    assert (failed["t"], failed["reason"]) == (1400.1, "session_expired")
    assert check_lines(lines, "t.jsonl", until=3000).status == 0


def test_a_missing_decision_seen_at_another_backends_line_says_its_backend_shows_none() -> None:
    """An outsider read "got ibm_alpha complete; expected ibm_beta failure" as blaming the wrong line."""
    ops = scenario(
        {"at": 0, "op": "open", "backend": "b1", "session": "s1", "max_time": 100},
        {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 300, "fault": False},
        {"at": 0, "op": "submit", "backend": "b0", "job": "j2", "duration": 150, "fault": False},
    )
    lines = engine_lines(ops, 500)
    lines = [line for line in lines if '"t":100.0' not in line]  # every line of b1 at t=100
    report = check_lines(lines, "t.jsonl", until=500)
    assert report.status == 1
    divergence = next(line for line in report.lines if "divergence" in line)
    assert "got no line of b1 at t=100 (the trace goes on with t=150 job j2 (b0) running -> completed" in \
        divergence, report.lines


# Two sessions expiring at t=100 on two backends, b1's job ending then too.
TWO_EXPIRIES = scenario(
    {"at": 0, "op": "open", "backend": "b1", "session": "s1", "max_time": 100},
    {"at": 0, "op": "open", "backend": "b0", "session": "s2", "max_time": 100},
    {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 100, "fault": False},
    {"at": 0, "op": "submit", "session": "s2", "job": "j2", "duration": 50, "fault": False},
)


def test_a_device_end_after_another_backends_timer_at_one_instant_conforms() -> None:
    """Found while fixing float noise: lines of different backends may interleave at one instant."""
    lines = engine_lines(TWO_EXPIRIES, 500)
    assert check_lines(lines, "t.jsonl", until=500).status == 0
    end = find_line(lines, id="j1", to="completed")
    expiry = find_line(lines, id="s2", trigger="max_time_reached")
    assert end < expiry
    lines.insert(end, lines.pop(expiry))  # b0's expiry first: another backend's line, at the same instant
    report = check_lines(lines, "t.jsonl", until=500)
    assert report.status == 0, "\n".join(report.lines)


# Found by the campaign: under work_conserving, a session job ends at its session's max_time deadline
# with another queued; that one can no longer start, so the fair-share job takes the idle device at
# that instant, and then the session expires.
TIE_AT_DEADLINE = scenario(
    {"at": 0, "op": "open", "backend": "b0", "session": "s1", "max_time": 400},
    {"at": 0, "op": "submit", "session": "s1", "job": "j1", "duration": 390, "fault": False},
    {"at": 0, "op": "submit", "session": "s1", "job": "j2", "duration": 10, "fault": False},
    {"at": 0, "op": "submit", "session": "s1", "job": "j3", "duration": 10, "fault": False},
    {"at": 0, "op": "submit", "backend": "b0", "job": "j4", "duration": 1, "fault": False},
)


@pytest.mark.rule("SCHED-PRIORITY", "MAXTIME-EXPIRY")
def test_a_start_beside_a_session_expiring_at_that_instant_is_no_priority_violation() -> None:
    work_conserving = Interpretation.of(idle_device="work_conserving")
    lines = engine_lines(TIE_AT_DEADLINE, FLUSH, work_conserving)
    start = find_line(lines, type="job", id="j4", to="running")
    assert json.loads(lines[start])["t"] == 400
    assert check_lines(lines, "t.jsonl", until=FLUSH).status == 0
    # the same start with no expiry at that instant jumps the session's queue
    expiry = find_line(lines, type="session", id="s1", to="closed")
    records = [from_json(json.loads(line)) for i, line in enumerate(lines) if i != expiry]
    broken = [record for record in records if not isinstance(record, End)]
    found = check_records(broken, [PROPERTIES_BY_NAME["active-session-jobs-first"]])
    assert [v.index for v in found] == [start], found


@pytest.mark.rule("MAXTIME-BOUNDS")
def test_a_max_time_no_float_can_hold_is_judged_not_a_kit_error() -> None:
    huge = "1" + "0" * 400  # seconds: refused as above the system limit, compared exactly
    lines = engine_lines(scenario({"at": 0, "op": "open", "backend": "b0", "session": "s1", "max_time": huge}), 10)
    assert '"MAXTIME-ABOVE-SYSTEM"' in lines[1]
    assert check_lines(lines, "t.jsonl", until=10).status == 0
    accepted = json.loads(lines[1])
    del accepted["error"], accepted["message"]
    accepted["outcome"] = "accepted"
    faulty = [lines[0], json.dumps(accepted) + "\n", *lines[2:]]
    assert check_lines(faulty, "t.jsonl", until=10).status == 1  # a finding, not an error of the kit (3)


def test_check_command_accepts_a_conforming_trace(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    path = write(tmp_path, lines)
    code, output = run_check(path, "--until", "1000")
    assert code == 0, output
    assert output == f"{path}: conforms ({len(lines) - 1} records replayed, {len(catalogue())} properties hold)\n"


def test_the_property_catalogue_is_the_invariants_module() -> None:
    from properties.invariants.catalogue import ALL_PROPERTIES

    assert catalogue() == tuple(ALL_PROPERTIES) and catalogue()


def test_backends_may_interleave_in_any_order_at_one_instant(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    # the b0 session's activation and the b1 session's first line, both at t=0: swap whole blocks
    first_b1 = find_line(lines, op="open", backend="b1")
    b0_submit = find_line(lines, op="submit", job="j3")
    swapped = lines[:b0_submit] + lines[first_b1 : first_b1 + 2] + lines[b0_submit:first_b1] + lines[first_b1 + 2 :]
    assert swapped != lines
    assert run_check(write(tmp_path, swapped))[0] == 0


def test_cascaded_failures_at_one_instant_may_come_in_any_order(tmp_path: Path) -> None:
    ops = scenario(
        {"at": 0, "op": "open", "backend": "b0", "session": "s1"},
        *({"at": 0, "op": "submit", "session": "s1", "job": f"j{n}", "duration": 50, "fault": False}
          for n in (1, 2, 3)),
        {"at": 10, "op": "close", "session": "s1"},
    )
    lines = engine_lines(ops, 100)
    start = find_line(lines, to="failed")
    cascade = lines[start : start + 3]
    assert len({json.loads(line)["id"] for line in cascade}) == 3
    assert run_check(write(tmp_path, [*lines[:start], *reversed(cascade), *lines[start + 3 :]]))[0] == 0


# ---------------------------------------------------------------------- divergences


def test_a_late_timeout_is_a_divergence_citing_its_rules_with_the_preceding_events(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    index = find_line(lines, to="inactive")
    lines[index] = lines[index].replace('"t":320.0', '"t":321.0')
    path = write(tmp_path, lines)
    code, output = run_check(path, "--until", "1000")
    assert code == 1
    divergence = next(line for line in output.splitlines() if "divergence" in line)
    assert divergence == (
        f"{path}:{index + 1}: divergence [TTL-INTERACTIVE, TTL-INTERACTIVE-VALUE]: got t=321 session s1 (b0) "
        "active -> inactive [interactive_timeout]; the spec expected t=320 session s1 (b0) active -> inactive "
        "[interactive_timeout]"
    )
    window = output.split("the 5 preceding events:\n")[1].splitlines()[:5]
    assert [w.strip().split(":")[1] for w in window] == [str(n) for n in range(index - 4, index + 1)]


def test_tolerance_absorbs_small_timing_differences(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    index = find_line(lines, to="inactive")
    lines[index] = lines[index].replace('"t":320.0', '"t":320.5')
    path = write(tmp_path, lines)
    assert "divergence" in run_check(path)[1]
    assert "divergence" not in run_check(path, "--tolerance", "1")[1]
    # the tolerance is the replay's: the property catalogue still judges exact times
    assert check_lines(lines, "t.jsonl", tolerance=1.0, properties=()).status == 0


def test_the_wrong_job_started_is_a_priority_divergence(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    index = find_line(lines, id="j3", to="running")
    lines[index] = lines[index].replace('"id":"j3"', '"id":"j2"').replace(',"session":"s1"', "")
    code, output = run_check(write(tmp_path, lines))
    assert code == 1
    assert "divergence [SCHED-PRIORITY, SCHED-SESSION-FIFO, SCHED-ONE-AT-A-TIME]: got t=10 job j2 (b0)" in output


def test_accepting_a_job_for_a_closed_session_is_a_divergence(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    index = find_line(lines, job="j6")
    accepted = {k: v for k, v in json.loads(lines[index]).items() if k not in ("error", "rules", "message")}
    lines[index] = json.dumps({**accepted, "outcome": "accepted"}) + "\n"
    code, output = run_check(write(tmp_path, lines))
    assert code == 1
    assert f":{index + 1}: divergence [SESSION-CLOSED-REJECTS]" in output


def test_a_decision_missing_at_the_end_is_found_with_until(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    cut = find_line(lines, to="inactive")
    path = write(tmp_path, lines[:cut])
    assert run_check(path)[0] == 0  # the recording may simply have stopped there
    code, output = run_check(path, "--until", "1000")
    assert code == 1
    assert f"{path}:{cut + 1}: divergence [TTL-INTERACTIVE, TTL-INTERACTIVE-VALUE]: got the end of the trace" in output


def test_the_interpretation_can_be_overridden(tmp_path: Path) -> None:
    path = write(tmp_path, engine_lines(BASIC, 1000))
    code, output = run_check(path, "-i", "IDLE-DEVICE=work_conserving")
    assert code == 1 and "got t=10 job j3" not in output and "divergence" in output
    code, output = run_check(path, "-i", "IDLE-DEVICE=never")
    assert code == 2 and "unknown option 'never'" in output


def test_a_header_with_another_interactive_timeout_diverges(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    lines[0] = lines[0].replace('"interactive_timeout":300.0', '"interactive_timeout":301')
    code, output = run_check(write(tmp_path, lines))
    assert code == 1 and ":1: divergence [TTL-INTERACTIVE-VALUE]" in output


def test_all_goes_on_after_a_divergence(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    first = find_line(lines, id="j3", to="running")
    lines[first] = lines[first].replace('"t":10.0', '"t":11.0')
    second = find_line(lines, to="inactive")
    lines[second] = lines[second].replace('"t":320.0', '"t":330.0')
    path = write(tmp_path, lines)
    code, output = run_check(path)
    assert code == 1 and output.count("divergence") == 1
    code, output = run_check(path, "--all")
    divergences = [line for line in output.splitlines() if "divergence" in line]
    assert code == 1 and len(divergences) >= 2
    assert f":{first + 1}: divergence" in divergences[0] and any(f":{second + 1}:" in d for d in divergences)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    abstract=operations(len(DEFAULT_BACKENDS)), where=st.floats(0, 1, exclude_max=True),
    edit=st.sampled_from(["drop", "duplicate", "swap"]), keep_going=st.booleans(),
)
def test_damaged_traces_never_crash_the_checker(abstract: list[Any], where: float, edit: str, keep_going: bool) -> None:
    ops, end = resolve(abstract, DEFAULT_BACKENDS)
    lines = engine_lines(ops, end + FLUSH)
    assume(len(lines) > 1)  # a trace of only its header has no line to damage
    index = 1 + int(where * (len(lines) - 2))
    if edit == "drop":
        lines.pop(index)
    elif edit == "duplicate":
        lines.insert(index, lines[index])
    elif index + 1 < len(lines):
        lines[index], lines[index + 1] = lines[index + 1], lines[index]
    report = check_lines(lines, "t.jsonl", keep_going=keep_going, until=end + FLUSH)
    assert report.status in (0, 1, 2)
    if report.status == 2:
        assert len(report.lines) == 1 and report.lines[0].startswith("t.jsonl:")


def test_all_says_so_when_the_spec_cannot_follow_a_damaged_trace_to_its_end() -> None:
    """With --all the replay adopts what the trace shows; when that cannot be run on to the end, the
    end is a divergence that says why (it once raised from ``Replayer.finish``: found by review)."""
    header = json.loads(engine_lines([], 0)[0])
    header["backends"] = {"b0": {"system_max_time": 1800.0, "program_max_execution_time": 400.0}}
    args = {"max_execution_time": None, "group": "default", "program": "estimator"}

    def request(t: float, op: str, **fields: Any) -> dict[str, Any]:
        return {"type": "request", "t": t, "op": op, "backend": "b0", **fields, "outcome": "accepted"}

    records = [
        header,
        request(166, "submit", session="s23", job="j68", args=args),  # an unknown session: accepted
        request(183, "open", session="s25", args={"max_time": None}),
        request(183, "submit", session="s25", job="j74", args=args),
        request(2758, "submit", session="s347", job="j1040", args=args),
        request(2758, "submit", job="j1041", args=args),
        {"type": "session", "t": 2770, "id": "s25", "backend": "b0", "from": "inactive", "to": "closed",
         "trigger": "max_time_reached", "rules": ["MAXTIME-EXPIRY"]},
        request(2775, "open", session="s349", args={"max_time": None}),
        request(2775, "submit", session="s349", job="j1045", args=args),
    ]
    lines = [json.dumps(record) + "\n" for record in records]
    report = check_lines(lines, "t.jsonl", keep_going=True, until=11571, tolerance=0.5)
    end = [line for line in report.lines if line.startswith("t.jsonl:10: divergence")]
    assert report.status == 1 and len(end) == 1
    assert end[0].startswith(
        "t.jsonl:10: divergence: got the end of the trace (t=11571); the spec expected a state the spec can "
        "follow to the end (replaying it raised InvalidTrigger: "
    ), end[0]
    stopped = check_lines(lines, "t.jsonl", until=11571, tolerance=0.5)  # without --all: the first one only
    assert stopped.status == 1 and len(stopped.divergences) == 1 and stopped.divergences[0].line == 2


class _NoCancels(TraceProperty):
    name: ClassVar[str] = "no-cancels"
    rules: ClassVar[tuple[str, ...]] = ("JOB-CANCEL",)
    description: ClassVar[str] = "a test property that no job is ever cancelled"

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        if isinstance(record, Change) and record.dst == "cancelled":
            return self.violation(index, record.t, f"job {record.id} is cancelled")
        return None


def test_property_violations_are_reported_with_their_line() -> None:
    lines = engine_lines(BASIC, 1000)
    report = check_lines(lines, "t.jsonl", properties=[_NoCancels])
    index = find_line(lines, to="cancelled")
    assert report.status == 1
    assert report.lines == [f"t.jsonl:{index + 1}: property violated [JOB-CANCEL]: no-cancels: job j2 is cancelled"]


def test_replay_memory_is_bounded_by_live_entities_not_trace_length() -> None:
    trace = MemoryTrace()
    engine = Engine(list(DEFAULT_BACKENDS), sink=trace, retain_finished=False)
    for _ in range(1500):
        session = engine.open_session("b0")
        engine.submit(session.id, duration=1, fault=False)
        engine.submit(session.id, duration=1, fault=False)
        engine.advance(5)
        engine.close(session.id)
    header, *records = trace
    replayer = Replayer(header, Interpretation(), window=40)  # type: ignore[arg-type]
    window = replayer.engine.retention
    assert isinstance(window, RecentWindow)
    peak = 0
    for line, record in enumerate(records, start=2):
        assert replayer.feed(line, record) == []  # type: ignore[arg-type]
        tables = [*replayer.engine.jobs.values(), *replayer.engine.sessions.values()]
        if line % 500 == 0:
            peak = max(peak, len({id(entity) for entity in tables}) - window.ghosts())
    assert len(records) > 15_000
    assert peak <= 3 * 40 + 4  # whole records: the windows' and the live ones; the rest are shared ghosts


def test_requests_about_entities_past_the_window_are_judged_exactly() -> None:
    """Found by an outsider: past the replay's window a reused job ID was taken for a new one, so the
    reference's own DUPLICATE-ID rejection diverged. Each request here names an entity long forgotten."""
    trace = MemoryTrace()
    engine = Engine(list(DEFAULT_BACKENDS), sink=trace)
    first = engine.open_session("b0")
    early = engine.submit(first.id, duration=1, fault=False)
    plain = engine.submit(None, "b1", duration=1, fault=False)
    engine.advance(5)
    engine.close(first.id)
    for _ in range(60):
        session = engine.open_session("b0")
        engine.submit(session.id, duration=1, fault=False)
        engine.advance(5)
        engine.close(session.id)
    for request in (
        lambda: engine.submit(None, "b0", job_id=early.id, duration=1, fault=False),
        lambda: engine.submit(first.id, duration=1, fault=False),
        lambda: engine.submit(first.id, "b1", duration=1, fault=False),
        lambda: engine.cancel(early.id),
        lambda: engine.cancel(plain.id),
        lambda: engine.open_session("b0", session_id=first.id),
    ):
        with pytest.raises(RequestRejected):
            request()
    engine.close(first.id)  # closing a closed session is accepted
    engine.advance(5)
    header, *records = trace
    codes = [r.error for r in records if isinstance(r, Request) and r.error is not None]
    assert codes == ["DUPLICATE-ID", "SESSION-CLOSED", "BACKEND-FIXED", "JOB-FINISHED", "JOB-FINISHED",
                     "DUPLICATE-ID"]
    replayer = Replayer(header, Interpretation(), window=10)  # type: ignore[arg-type]
    for line, record in enumerate(records, start=2):
        assert replayer.feed(line, record) == [], (line, record)  # type: ignore[arg-type]
    window = replayer.engine.retention
    assert isinstance(window, RecentWindow) and window.ghosts() > 0


def test_replay_frees_what_it_forgets_at_once() -> None:
    """A session the replay's window drops is freed by reference counting, not left as cyclic garbage
    (a session and its first job refer to each other): garbage left for the collector's rare full
    sweeps grows the heap along the trace, and the per-record cost with it."""
    trace = MemoryTrace()
    engine = Engine(list(DEFAULT_BACKENDS), sink=trace, retain_finished=False)
    for n in range(500):
        session = engine.open_session("b0", None, f"freed{n}")  # IDs of its own: no stray of another test counted
        engine.submit(session.id, duration=1, fault=False)
        engine.advance(5)
        engine.close(session.id)
    header, *records = trace
    replayer = Replayer(header, Interpretation(), window=40)  # type: ignore[arg-type]
    gc.collect()
    gc.disable()
    try:
        for line, record in enumerate(records, start=2):
            assert replayer.feed(line, record) == []  # type: ignore[arg-type]
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()  # what reference counting left: cyclic garbage only, kept in gc.garbage
        sessions = sum(1 for o in gc.garbage if isinstance(o, SessionRecord) and o.id.startswith("freed"))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert sessions == 0


# ---------------------------------------------------------------------- unusable input


def _unusable(tmp_path: Path, lines: Sequence[str] | bytes, line: int, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    if isinstance(lines, bytes):
        path.write_bytes(lines)
    else:
        path.write_text("".join(lines), encoding="utf-8")
    code, output = run_check(path)
    assert code == 2, output
    assert output.count("\n") == 1 and "Traceback" not in output, output
    assert output.startswith(f"{path}:{line}: unusable input: {reason}"), output


def test_bad_json_is_unusable(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    lines[2] = lines[2][:-5] + "\n"
    _unusable(tmp_path, lines, 3, "not JSON: ")


def test_a_schema_violation_is_unusable(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    index = find_line(lines, to="running")
    lines[index] = lines[index].replace('"to":"running",', "")
    _unusable(tmp_path, lines, index + 1, "schema violation: a job line needs 'to'")


def test_time_going_back_is_unusable(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    index = find_line(lines, op="cancel")
    lines[index] = lines[index].replace('"t":50.0', '"t":5.0')
    _unusable(tmp_path, lines, index + 1, "time goes back from t=20 to t=5")


def test_an_unknown_job_is_unusable(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    index = find_line(lines, id="j3", to="running")
    lines[index] = lines[index].replace('"id":"j3"', '"id":"j99"')
    _unusable(tmp_path, lines, index + 1, "unknown job id 'j99': no accepted submit request created it")


def test_an_unknown_session_is_unusable(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    index = find_line(lines, to="inactive")
    lines[index] = lines[index].replace('"id":"s1"', '"id":"s42"')
    _unusable(tmp_path, lines, index + 1, "unknown session id 's42': no accepted open request created it")


def test_an_unknown_backend_is_unusable(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    index = find_line(lines, to="inactive")
    lines[index] = lines[index].replace('"backend":"b0"', '"backend":"b7"')
    _unusable(tmp_path, lines, index + 1, "unknown backend 'b7'")


def test_a_missing_header_is_unusable(tmp_path: Path) -> None:
    _unusable(tmp_path, engine_lines(BASIC, 1000)[1:], 1, "missing header: the first line is a request line")


def test_a_late_header_is_unusable(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    _unusable(tmp_path, [*lines[:3], lines[0], *lines[3:]], 4, "a second header")


def test_an_empty_file_is_unusable(tmp_path: Path) -> None:
    _unusable(tmp_path, [], 1, "empty trace: no header line")
    _unusable(tmp_path, ["\n", "  \n"], 2, "empty trace: no header line")


def test_text_that_is_not_utf8_is_unusable(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    _unusable(tmp_path, "".join(lines[:3]).encode() + b"\xff\xfe\n", 4, "not UTF-8 text")


def test_an_unknown_interpretation_in_the_header_is_unusable(tmp_path: Path) -> None:
    lines = engine_lines(BASIC, 1000)
    lines[0] = lines[0].replace('"INT-IDLE-DEVICE":"hold"', '"INT-IDLE-DEVICE":"lazy"')
    _unusable(tmp_path, lines, 1, "header interpretation: INT-IDLE-DEVICE: unknown option 'lazy'")


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_an_unreadable_file_is_unusable(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nope.jsonl" if kind == "missing" else tmp_path
    code, output = run_check(path)
    assert code == 2 and output.count("\n") == 1 and "Traceback" not in output
    assert output.startswith(f"{path}:1: unusable input: cannot read the file: ")


# ---------------------------------------------------------------------- the reader and the published schema

_FULL = Draft202012Validator(schema())
_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False), st.sampled_from(["", "x", "b0"]),
    st.lists(st.sampled_from(["SCHED-PRIORITY", "bad rule"]), max_size=2),
)


@settings(max_examples=25, deadline=None, database=None)
@given(
    base=st.integers(1, 1000), key=st.sampled_from(["t", "id", "to", "from", "rules", "reason", "max_time", "session",
                                                    "op", "outcome", "args", "error", "trigger", "backend"]),
    value=_VALUES,
)
def test_the_reader_agrees_with_the_full_schema(base: int, key: str, value: Any) -> None:
    lines = engine_lines(BASIC, 1000)
    obj = json.loads(lines[1 + base % (len(lines) - 1)])
    obj[key] = value
    try:
        from_json(obj, 1)
        accepted = True
    except Unusable:
        accepted = False
    assert accepted == _FULL.is_valid(obj)


# ---------------------------------------------------------------------- printing what a trace holds


def test_reports_escape_control_characters_and_lone_surrogates(tmp_path: Path) -> None:
    """An ID may hold any character a JSON string can (a newline, an escape sequence) and a path from
    the command line a lone surrogate (a byte that is not UTF-8): the report stays one line per finding."""
    ops = scenario(
        {"at": 0, "op": "open", "backend": "b0", "session": "s\n1"},
        {"at": 0, "op": "submit", "session": "s\n1", "job": "j\x1b1", "duration": 10, "fault": False},
        {"at": 0, "op": "submit", "session": "s\n1", "job": "j2", "duration": 10, "fault": False},
    )
    lines = engine_lines(ops, 100)
    index = find_line(lines, id="j\x1b1", to="completed")
    lines[index] = lines[index].replace('"trigger":"complete"', '"trigger":"finish"')  # a divergence quoting j\x1b1
    path = tmp_path / "bad\udcff.jsonl"  # the file name's byte 0xff, as Python holds it
    path.write_text("".join(lines), encoding="utf-8")
    code, output = run_check(path)
    assert code == 1, output
    assert "\x1b" not in output and "\udcff" not in output
    assert "bad\\udcff.jsonl:" in output and "j\\x1b1" in output and "s\\n1" in output
    assert all(line.startswith(("bad", "  ", str(tmp_path))) for line in output.splitlines()), output
