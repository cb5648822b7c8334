"""The demo: a session buys an iterative loop a clear speed-up on a busy backend, deterministically."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from model.runtime.workload import WorkloadConfig, compare
from model.spec.interpretations import Interpretation
from properties.cli import cli


@pytest.mark.rule("SCHED-PRIORITY", "SCHED-FIRST-JOB-WAITS")
def test_session_run_is_clearly_faster_at_the_default_settings() -> None:
    plain, session = compare(WorkloadConfig())
    assert session.wall_time * 2 < plain.wall_time
    assert plain.device_time == session.device_time == 50 * 10.0
    assert session.mean_wait * 5 < plain.mean_wait


@pytest.mark.rule("SCHED-PRIORITY", "SCHED-FIRST-JOB-WAITS", "TTL-INTERACTIVE")
@pytest.mark.parametrize("seed", range(6))
def test_under_hold_only_the_first_session_job_waits(seed: int) -> None:
    """Same arrivals, same first wait; then the held device takes each job at once."""
    plain, session = compare(WorkloadConfig(iterations=12, seed=seed))
    assert session.waits[0] == plain.waits[0]
    assert session.waits[1:] == (0.0,) * 11
    assert session.wall_time <= plain.wall_time
    assert session.held_idle == pytest.approx(12 * 5.0)  # the think time others paid for
    assert plain.held_idle == 0.0


def test_work_conserving_session_leaves_no_device_idle() -> None:
    _, session = compare(WorkloadConfig(iterations=12), Interpretation.of(IDLE_DEVICE="work_conserving"))
    assert session.held_idle < 12 * 5.0


def test_demo_output_is_deterministic_and_names_the_interpretation(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--timelines", str(tmp_path)])
    second = runner.invoke(cli, ["demo", "--timelines", str(tmp_path)])
    drawn = [tmp_path / "no-session.png", tmp_path / "session.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 10_000 for p in drawn)
    assert f"timelines of the two loops: {drawn[0]}, {drawn[1]}" in first.output
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    assert "interpretation: default: INT-IDLE-DEVICE=hold" in first.output
    for row in ("wall time of the loop", "queue wait per job, mean", "median", "max", "device time used"):
        assert row in first.output
    assert "x faster" in first.output
    other = runner.invoke(
        cli, ["demo", "--seed", "3", "--iterations", "5", "-i", "IDLE-DEVICE=work_conserving", "--no-timelines"]
    )
    assert other.exit_code == 0 and other.output != first.output
    assert "INT-IDLE-DEVICE=work_conserving" in other.output


@pytest.mark.parametrize(
    "args", [["-i", "NOPE=x"], ["-i", "IDLE-DEVICE"], ["--load", "1.2"], ["--iterations", "0"]]
)
def test_demo_bad_input_is_a_one_line_error(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["demo", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
