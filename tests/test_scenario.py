"""Scenario files: loading, clear one-line errors, running, and the simulate command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from model.scenario import ScenarioError, load_scenario, parse_scenario, run_scenario
from model.trace import Change, MemoryTrace, Request
from properties.cli import cli

EXAMPLE = Path(__file__).parent.parent / "examples" / "scenarios" / "busy_backend.json"


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _minimal(**extra: object) -> dict[str, object]:
    return {"version": 1, "backends": [{"name": "b0"}], "operations": [], **extra}


@pytest.mark.rule("SCHED-FIRST-JOB-WAITS", "SCHED-PRIORITY", "TTL-INTERACTIVE", "SESSION-REACTIVATE", "MAXTIME-EXPIRY")
def test_example_scenario_runs_the_seed_story() -> None:
    trace = MemoryTrace()
    engine = run_scenario(load_scenario(EXAMPLE), trace)
    session = engine.sessions["vqe"]
    assert session.state == "closed" and session.started_at == 120.0 and session.closed_at == 1620.0
    triggers = [r.trigger for r in trace if isinstance(r, Change) and r.entity == "session"]
    assert triggers == ["open", "job_started", "interactive_timeout", "job_started", "interactive_timeout",
                        "max_time_reached"]


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, '{\n  "version": 1,\n  "backends": [}\n')
    with pytest.raises(ScenarioError, match=r"scenario\.json:3: unusable input: not JSON"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("patch", "where"),
    [
        ({"version": 2}, "version"),
        ({"backends": []}, "backends"),
        ({"operations": [{"at": 0, "op": "explode"}]}, r"operations\[0\]\.op"),
        ({"operations": [{"at": -1, "op": "close", "session": "s"}]}, r"operations\[0\]\.at"),
        ({"operations": [{"at": 0, "op": "close"}]}, r"operations\[0\]"),
        ({"backends": [{"name": "b0", "duration": {"fixed": 0}}]}, r"backends\[0\]\.duration"),
    ],
)
def test_schema_errors_name_the_json_path(tmp_path: Path, patch: dict[str, object], where: str) -> None:
    with pytest.raises(ScenarioError, match=rf"scenario\.json: {where}"):
        load_scenario(_write(tmp_path, _minimal(**patch)))


def test_operations_must_not_go_back_in_time() -> None:
    ops = [{"at": 5, "op": "fault", "backend": "b0"}, {"at": 1, "op": "fault", "backend": "b0"}]
    with pytest.raises(ScenarioError, match=r"operations\[1\]\.at: 1 is earlier"):
        parse_scenario(_minimal(operations=ops))


def test_unknown_interpretation_option_is_named() -> None:
    with pytest.raises(ScenarioError, match="INT-IDLE-DEVICE: unknown option 'sometimes'"):
        parse_scenario(_minimal(interpretation={"INT-IDLE-DEVICE": "sometimes"}))


def test_endless_background_load_needs_until() -> None:
    with pytest.raises(ScenarioError, match="until: required"):
        parse_scenario(_minimal(background=[{"backend": "b0", "jobs_per_hour": 10}]))


@pytest.mark.rule("SESSION-CLOSED-REJECTS")
def test_rejected_operations_are_traced_and_the_run_goes_on() -> None:
    ops = [
        {"at": 0, "op": "open", "session": "s", "backend": "b0"},
        {"at": 1, "op": "close", "session": "s"},
        {"at": 2, "op": "submit", "job": "late", "session": "s"},
        {"at": 3, "op": "submit", "job": "plain", "backend": "b0", "duration": 5},
    ]
    trace = MemoryTrace()
    engine = run_scenario(parse_scenario(_minimal(operations=ops)), trace)
    assert engine.jobs["plain"].state == "completed"
    rejected = [(r.job, r.error) for r in trace if isinstance(r, Request) and r.error]
    assert rejected == [("late", "SESSION-CLOSED")]


def test_simulate_prints_timeline_and_writes_identical_traces(tmp_path: Path) -> None:
    runner = CliRunner()
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    result = runner.invoke(cli, ["simulate", str(EXAMPLE), "--trace", str(first)])
    assert result.exit_code == 0, result.output
    assert "pending -> active by job_started" in result.output
    assert "REJECTED SESSION-CLOSED" in result.output
    runner.invoke(cli, ["simulate", str(EXAMPLE), "--trace", str(second)])
    assert first.read_bytes() == second.read_bytes()


def test_simulate_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["simulate", str(_write(tmp_path, "not json"))])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "unusable input: not JSON" in lines[0]
    assert "Traceback" not in result.output


def test_simulate_missing_file_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["simulate", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "cannot read" in result.output and "Traceback" not in result.output
