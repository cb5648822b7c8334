"""Traces at Unix-epoch times (about 1.7e9 s) are judged as at small ones: two times are one instant within a
fixed slack plus float noise, never a slack that grows with the time (it reached seconds there)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from model.trace.timing import TIME_EPSILON, earlier, same_time, slack, time_text
from properties.cli import cli

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "examples" / "scenarios").glob("*.json"))
EPOCH = 1.7e9


def test_one_instant_is_a_fixed_slack_wide_at_any_time() -> None:
    assert same_time(0.1 + 0.2, 0.3) and same_time(EPOCH + 0.1 + 0.2, EPOCH + 0.3)
    assert not same_time(EPOCH, EPOCH + 1.0) and not same_time(EPOCH, EPOCH + 1e-3)
    assert not same_time(100.0, 100.0 + 1e-6) and same_time(100.0, 100.0 + 1e-6, tolerance=1e-6)


_TIMES = st.one_of(st.floats(allow_nan=True), st.floats(0.0, 1e10), st.just(EPOCH), st.just(100.0))
_NEAR = st.sampled_from([0.0, TIME_EPSILON, 2 * TIME_EPSILON, 1e-12, 1e-7, 1.0, -TIME_EPSILON, 5e-16])


@given(_TIMES, _NEAR, st.sampled_from([0.0, 1e-6, 0.5]), st.booleans())
def test_one_instant_is_the_gap_within_the_tolerance_plus_the_slack(
    a: float, near: float, tolerance: float, nudge: bool
) -> None:
    """``same_time``'s first test (a gap within TIME_EPSILON) never changes its answer."""
    b = a + near
    if nudge:
        b = b + slack(b) - TIME_EPSILON
    assert same_time(a, b, tolerance) == (abs(a - b) <= tolerance + slack(max(abs(a), abs(b))))


def _shifted(trace: Path, by: float, out: Path) -> Path:
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    for line in lines:
        if "t" in line:
            line["t"] += by
    out.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return out


@pytest.mark.rule("MAXTIME-EXPIRY", "TTL-INTERACTIVE")
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_a_conforming_trace_moved_to_epoch_times_still_conforms(scenario: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    trace = tmp_path / "t.jsonl"
    ran = runner.invoke(cli, ["simulate", str(scenario), "--trace", str(trace), "--quiet"])
    assert ran.exit_code == 0, ran.output
    moved = _shifted(trace, EPOCH, tmp_path / "moved.jsonl")
    judged = runner.invoke(cli, ["check", str(moved)])
    assert judged.exit_code == 0, judged.output


def _deadline_trace(tmp_path: Path) -> Path:
    """The trace of a session whose max_time (100 s) ends while its second job waits, from t=0."""
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({
        "version": 1, "backends": [{"name": "b0", "duration": {"fixed": 10}}],
        "operations": [
            {"at": 0, "op": "open", "session": "s1", "backend": "b0", "max_time": 100},
            {"at": 0, "op": "submit", "job": "j1", "session": "s1"},
            {"at": 99, "op": "submit", "job": "j2", "session": "s1"},
        ],
    }))
    trace = tmp_path / "t.jsonl"
    assert CliRunner().invoke(cli, ["simulate", str(scenario), "--trace", str(trace), "--quiet"]).exit_code == 0
    return trace


def _start_j2_at(trace: Path, late: float) -> Result:
    """``check`` of the trace with job j2's start, and every line after it, moved to ``late`` at the earliest."""
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    start = next(i for i, line in enumerate(lines) if line.get("id") == "j2" and line.get("to") == "running")
    for line in lines[start:]:
        line["t"] = max(line["t"], late)
    moved = trace.with_name("late.jsonl")
    moved.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return CliRunner().invoke(cli, ["check", str(moved)])


@pytest.mark.rule("MAXTIME-EXPIRY")
def test_a_job_started_a_second_late_at_epoch_times_is_found(tmp_path: Path) -> None:
    """The session's max_time ends at EPOCH+100: a start there is refused (the replay expected the expiry)."""
    runner = CliRunner()
    trace = _deadline_trace(tmp_path)
    on_time = runner.invoke(cli, ["check", str(_shifted(trace, EPOCH, tmp_path / "moved.jsonl"))])
    assert on_time.exit_code == 0, on_time.output  # a second before the deadline is not "at or past" it
    # j2 starts at 99 s, one second before the deadline; move its start (and what follows) past the deadline
    judged = _start_j2_at(tmp_path / "moved.jsonl", EPOCH + 101.0)
    assert judged.exit_code == 1, judged.output


@pytest.mark.parametrize("base", [0.0, 973.416, 1.7e9])
def test_earlier_is_before_by_more_than_float_noise(base: float) -> None:
    assert not earlier(base, base)
    assert not earlier(math.nextafter(base, -math.inf), base)  # one unit before: the same instant
    assert earlier(base - 2 * slack(base), base)
    assert not earlier(base + 1, base)
    assert earlier(base, math.inf)


def test_time_text_is_exact_and_reads_as_g_did_for_short_values() -> None:
    """Messages name times exactly: two instants a quarter second apart at epoch times read differently
    (``:g`` wrote both ``1.7e+09``), and a value ``:g`` wrote exactly reads as it did."""
    assert time_text(EPOCH) == "1700000000" and time_text(EPOCH + 0.25) == "1700000000.25"
    assert time_text(305.0) == time_text(305) == "305" and time_text(0.1 + 0.2) == "0.30000000000000004"
    for value in (0.0, 0.5, 10.0, 299.5, 0.0001, 1e-05, 123.456, 999999.0, 28800, 1e20, math.inf):
        assert time_text(value) == f"{value:g}", value
    assert float(time_text(EPOCH + 1 / 3)) == EPOCH + 1 / 3


@pytest.mark.rule("MAXTIME-EXPIRY")
def test_a_finding_at_epoch_times_names_the_exact_times(tmp_path: Path) -> None:
    """A job started 1.5 s past its session's deadline, both at epoch times with a fraction of a second:
    the check names the start and the deadline to the fraction, not as ``1.7e+09``."""
    trace = _deadline_trace(tmp_path)
    judged = _start_j2_at(_shifted(trace, EPOCH + 0.25, tmp_path / "moved.jsonl"), EPOCH + 0.25 + 101.5)
    assert judged.exit_code == 1, judged.output
    assert "t=1700000101.75" in judged.output, judged.output
    assert "1700000100.25" in judged.output, judged.output
    assert "e+09" not in judged.output
