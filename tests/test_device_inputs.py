"""The device inputs (properties/conformance/inputs.py): given the durations and faults the kit told the
device, the judge decides each job's end by the device (DEVICE-RUNS-DURATION); a scheduler whose device
ignores them no longer passes, and the reference still conforms on any scenario."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from model.sim.scenario import parse_scenario, run_scenario
from model.spec.interpretations import POINTS_BY_ID, Interpretation, InterpretationError
from model.trace import MemoryTrace
from properties.cli import cli
from properties.conformance.campaign import CampaignConfig, execute
from properties.conformance.checker import check_lines
from properties.conformance.inputs import DeviceInputs
from properties.conformance.mutants import MUTANTS_BY_NAME


def _scenario(seed: int, profile: str) -> dict[str, Any]:
    """A random scenario: sessions with and without max_time, jobs with given and drawn durations and faults,
    injected faults (often at the instant of a job's end), cancels, closes, a background load, and random
    interpretation choices."""
    rng = random.Random(seed)
    ops: list[dict[str, Any]] = []
    t, jobs = 0, 0
    sessions: list[str] = []
    for _ in range(rng.randint(3, 25)):
        t += rng.choice([0, 0, 1, 5, 10, 50, 290, 300, 310])
        pick = rng.random()
        if pick < 0.15:
            session = f"s{len(sessions)}"
            sessions.append(session)
            op: dict[str, Any] = {"at": t, "op": "open", "session": session, "backend": "b0"}
            if rng.random() < 0.5:
                op["max_time"] = rng.choice([20, 60, 100, 400])
            ops.append(op)
        elif pick < 0.65:
            jobs += 1
            op = {"at": t, "op": "submit", "job": f"j{jobs}"}
            if sessions and rng.random() < 0.7:
                op["session"] = rng.choice(sessions)
            else:
                op["backend"] = "b0"
            if rng.random() < 0.7:
                op["duration"] = rng.choice([5, 10, 20, 40, 100])
            if rng.random() < 0.7:
                op["fault"] = rng.random() < 0.2
            if rng.random() < 0.2:
                op["max_execution_time"] = rng.choice([10, 20, 40])
            ops.append(op)
        elif pick < 0.75:
            ops.append({"at": t, "op": "fault", "backend": "b0"})
        elif pick < 0.85 and jobs:
            ops.append({"at": t, "op": "cancel", "job": f"j{rng.randint(1, jobs)}"})
        elif sessions:
            ops.append({"at": t, "op": "close", "session": rng.choice(sessions)})
    choices: dict[str, str] = {}
    for point, spec in POINTS_BY_ID.items():
        if rng.random() < 0.5:
            candidate = {**choices, point: rng.choice(spec.options).name}
            try:
                Interpretation(candidate, profile)
            except InterpretationError:
                continue
            choices = candidate
    scenario: dict[str, Any] = {
        "version": 1, "seed": seed, "profile": profile, "interpretation": choices,
        "backends": [{"name": "b0", "duration": {"exponential": 8}, "fault_rate": 0.2}],
        "operations": ops, "until": t + 3000,
    }
    if rng.random() < 0.5:
        scenario["background"] = [{"backend": "b0", "jobs_per_hour": 200, "duration": {"exponential": 10},
                                   "until": t + 500}]
    return scenario


@pytest.mark.rule("DEVICE-RUNS-DURATION", "DEVICE-FAULT")
@pytest.mark.parametrize("profile", ["seeds", "platform"])
def test_the_reference_conforms_given_its_scenarios_device_inputs(profile: str) -> None:
    for seed in range(60):
        scenario = parse_scenario(_scenario(seed, profile), f"random scenario {seed}")
        trace = MemoryTrace()
        run_scenario(scenario, sink=trace)
        lines = trace.jsonl(end=scenario.until).splitlines(keepends=True)
        report = check_lines(lines, f"seed{seed}.jsonl", inputs=DeviceInputs.of(scenario))
        assert report.status == 0, (seed, report.lines[:3])


@pytest.mark.rule("DEVICE-RUNS-DURATION")
@pytest.mark.parametrize("name", ["device-half-duration", "device-ignores-fault", "injected-fault-ignored"])
def test_a_device_that_ignores_its_inputs_is_found_live(name: str) -> None:
    mutant = MUTANTS_BY_NAME[name]
    finding = execute(list(mutant.scenario), mutant.until, mutant.factory(), CampaignConfig())
    assert finding is not None and "DEVICE-RUNS-DURATION" in finding.rules, finding and finding.report()


@pytest.mark.rule("DEVICE-RUNS-DURATION", "MAXTIME-EXPIRY")
def test_check_with_the_scenario_sees_what_the_trace_alone_cannot(tmp_path: Path) -> None:
    """A job ending exactly at its session's max_time must complete (INT-EXPIRY-TIE=job_first): only its
    duration says its end was due then."""
    mutant = MUTANTS_BY_NAME["timer-before-job-end"]
    finding = execute(list(mutant.scenario), mutant.until, mutant.factory(), CampaignConfig())
    assert finding is not None
    finding.write(tmp_path)
    runner = CliRunner()
    alone = runner.invoke(cli, ["check", str(tmp_path / "actual.jsonl")])
    assert alone.exit_code == 0, alone.output
    given = runner.invoke(cli, ["check", str(tmp_path / "actual.jsonl"), "--scenario", str(tmp_path / "scenario.json")])
    assert given.exit_code == 1, given.output
    assert f"actual.jsonl:{finding.line}: divergence" in given.output
    reference = runner.invoke(
        cli, ["check", str(tmp_path / "expected.jsonl"), "--scenario", str(tmp_path / "scenario.json")]
    )
    assert reference.exit_code == 0, reference.output


def test_check_refuses_an_unusable_scenario_in_one_line(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    engine_trace = MemoryTrace()
    run_scenario(parse_scenario(_scenario(1, "seeds"), "s"), sink=engine_trace)
    trace.write_text(engine_trace.jsonl())
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "backends": []')
    runner = CliRunner()
    for path in (bad, tmp_path / "missing.json"):
        result = runner.invoke(cli, ["check", str(trace), "--scenario", str(path)])
        assert result.exit_code == 2, result.output
        assert str(path) in result.output and "Traceback" not in result.output


def test_generated_ids_skip_the_ids_a_scenario_names() -> None:
    """A background arrival takes a generated ID; it must not take one that a later submit names (that
    submit was rejected as a duplicate)."""
    scenario = parse_scenario({
        "version": 1, "backends": [{"name": "b0"}], "until": 2000,
        "background": [{"backend": "b0", "jobs_per_hour": 3600, "until": 100}],
        "operations": [{"at": 500, "op": "submit", "job": "j1", "backend": "b0"},
                       {"at": 500, "op": "submit", "job": "j3", "backend": "b0"}],
    }, "named")
    trace = MemoryTrace()
    run_scenario(scenario, sink=trace)
    lines = [json.loads(line) for line in trace.jsonl().splitlines()]
    named = [line for line in lines if line["type"] == "request" and line["t"] == 500]
    assert [(line["job"], line["outcome"]) for line in named] == [("j1", "accepted"), ("j3", "accepted")]
    background = {line["job"] for line in lines if line["type"] == "request" and line["t"] < 500}
    assert len(background) > 3 and not background & {"j1", "j3"}



MISRECORDED = {
    "version": 1,
    "backends": [{"name": "b0", "duration": {"fixed": 10}}, {"name": "b1", "duration": {"fixed": 10}}],
    "operations": [
        {"at": 0, "op": "open", "session": "s1", "backend": "b0", "max_time": 1000},
        {"at": 1, "op": "close", "session": "s1"},
        {"at": 2, "op": "submit", "job": "j1", "session": "s1", "backend": "b1", "duration": 5, "fault": False},
    ],
}


@pytest.mark.rule("BACKEND-FIXED", "SESSION-CLOSED-REJECTS")
def test_a_request_line_that_misrecords_what_the_client_sent_diverges_given_the_scenario(tmp_path: Path) -> None:
    """A submit to closed s1 (on b0) naming b1 is refused BACKEND-FIXED and records b1. A trace that refuses it
    SESSION-CLOSED and records b0 is consistent with itself: only what the client sent (the scenario) shows
    the line is not the request's."""
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(MISRECORDED))
    trace = tmp_path / "t.jsonl"
    runner = CliRunner()
    assert runner.invoke(cli, ["simulate", str(scenario), "--trace", str(trace), "--quiet"]).exit_code == 0
    lines = trace.read_text().splitlines()
    submit = json.loads(lines[-2])
    assert submit["error"] == "BACKEND-FIXED"
    submit.update(backend="b0", error="SESSION-CLOSED", rules=["SESSION-CLOSED-REJECTS"], message="s1 is closed")
    lines[-2] = json.dumps(submit)
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join(lines) + "\n")
    assert runner.invoke(cli, ["check", str(forged)]).exit_code == 0  # alone, the line is believed
    judged = runner.invoke(cli, ["check", str(forged), "--scenario", str(scenario)])
    assert judged.exit_code == 1, judged.output
    assert "BACKEND-FIXED" in judged.output and ":6: divergence" in judged.output, judged.output


@pytest.mark.rule("MAXTIME-EXPIRY")
def test_an_open_line_that_misrecords_max_time_diverges_given_the_scenario(tmp_path: Path) -> None:
    """The client sent max_time 1000; an implementation that took it as 100, recorded 100 and expired the
    session at 100 wrote a trace consistent with itself."""
    def scenario(max_time: int) -> Path:
        path = tmp_path / f"s{max_time}.json"
        path.write_text(json.dumps({
            "version": 1, "backends": [{"name": "b0", "duration": {"fixed": 10}}],
            "operations": [
                {"at": 0, "op": "open", "session": "s1", "backend": "b0", "max_time": max_time},
                {"at": 0, "op": "submit", "job": "j1", "session": "s1", "duration": 5, "fault": False},
                {"at": 99, "op": "submit", "job": "j2", "session": "s1", "duration": 5, "fault": False},
            ],
            "until": 200,
        }))
        return path

    trace = tmp_path / "t.jsonl"
    runner = CliRunner()
    assert runner.invoke(cli, ["simulate", str(scenario(100)), "--trace", str(trace), "--quiet"]).exit_code == 0
    assert runner.invoke(cli, ["check", str(trace)]).exit_code == 0
    judged = runner.invoke(cli, ["check", str(trace), "--scenario", str(scenario(1000))])
    assert judged.exit_code == 1 and "max_time=1000" in judged.output, judged.output


@pytest.mark.rule("DEVICE-FAULT", "DEVICE-RUNS-DURATION")
def test_a_fault_on_an_idle_backend_does_not_hold_back_the_next_fault(tmp_path: Path) -> None:
    """Two faults at one instant, the first on a backend with nothing running (no effect, no line): the
    second's device_error is not taken for a divergence (the reference itself was found not to conform)."""
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({
        "version": 1,
        "backends": [{"name": "b0", "duration": {"fixed": 10}}, {"name": "b1", "duration": {"fixed": 10}}],
        "operations": [
            {"at": 0, "op": "submit", "job": "j1", "backend": "b0", "duration": 10, "fault": False},
            {"at": 0, "op": "fault", "backend": "b1"},
            {"at": 0, "op": "fault", "backend": "b0"},
        ],
    }))
    trace = tmp_path / "t.jsonl"
    runner = CliRunner()
    assert runner.invoke(cli, ["simulate", str(scenario), "--trace", str(trace), "--quiet"]).exit_code == 0
    judged = runner.invoke(cli, ["check", str(trace), "--scenario", str(scenario)])
    assert judged.exit_code == 0, judged.output


_TWO_SUBMITS = {
    "version": 1, "backends": [{"name": "b0"}],
    "operations": [
        {"at": 0, "op": "open", "session": "s1", "backend": "b0"},
        {"at": 1, "op": "submit", "job": "j1", "session": "s1", "duration": 5, "fault": False},
        {"at": 2, "op": "cancel", "job": "nope"},
        {"at": 3, "op": "submit", "job": "j2", "session": "s1", "duration": 5, "fault": False},
        {"at": 20, "op": "close", "session": "s1"},
    ],
}


def _recorded(scenario: dict[str, Any]) -> list[str]:
    trace = MemoryTrace()
    run = parse_scenario(scenario, "s.json")
    run_scenario(run, sink=trace)
    return trace.jsonl(end=run.until).splitlines(keepends=True)


def test_a_scenario_of_another_run_diverges_at_the_first_request_it_does_not_make() -> None:
    """Found by an outsider: another run's scenario gave "conforms", its unmatched request lines skipped."""
    other = {**_TWO_SUBMITS, "operations": [{"at": 0, "op": "open", "session": "x", "backend": "b0"}]}
    report = check_lines(_recorded(_TWO_SUBMITS), "t.jsonl", inputs=DeviceInputs.of(parse_scenario(other, "o.json")))
    assert report.status == 1
    assert report.lines[0] == (
        "t.jsonl:2: divergence: got t=0 request open session s1 backend b0: accepted; "
        "the spec expected the request of the next operation, at t=0: open x on b0"
    )


def test_a_request_line_left_out_diverges_where_its_operation_was_due() -> None:
    """Found by an outsider: a trace that leaves out a rejected request's line (no state changes with it)
    conformed, or diverged far later at a fault that waited for it."""
    lines = _recorded(_TWO_SUBMITS)
    dropped = [line for line in lines if '"job":"nope"' not in line.replace(" ", "")]
    assert len(dropped) == len(lines) - 1
    scenario = DeviceInputs.of(parse_scenario(_TWO_SUBMITS, "s.json"))
    report = check_lines(dropped, "t.jsonl", inputs=scenario)
    assert report.status == 1
    assert "the spec expected first the request of the operation at t=2, cancel nope" in report.lines[0]
    assert check_lines(lines, "t.jsonl", inputs=DeviceInputs.of(parse_scenario(_TWO_SUBMITS, "s.json"))).status == 0


def test_a_trace_that_stops_before_the_operations_end_diverges_at_its_end() -> None:
    lines = _recorded(_TWO_SUBMITS)
    cut = [line for line in lines if '"close"' not in line.replace(" ", "")]
    report = check_lines(cut, "t.jsonl", inputs=DeviceInputs.of(parse_scenario(_TWO_SUBMITS, "s.json")))
    assert report.status == 1
    assert "the spec expected the request of the operation at t=20, close s1 (1 not shown)" in report.lines[0]
