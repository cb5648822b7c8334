"""Scenario files: loading, clear one-line errors, running, and the simulate command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner

from model.sim.ops import OPERATIONS, Advance, Cancel, Close, Fault, Open, Submit, apply, scenario_json
from model.sim.scenario import ScenarioError, load_scenario, parse_scenario, run_scenario
from model.trace import Change, MemoryTrace, Request, strict_json
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


def test_an_endless_scenario_file_is_refused_once_the_cap_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by an outsider: ``check --scenario /dev/zero`` read without end (gigabytes in seconds)."""
    monkeypatch.setattr(strict_json, "MAX_DOCUMENT", 64)
    path = _write(tmp_path, '{"version": 1, "backends": [], "operations": []}' + " " * 40)
    with pytest.raises(ScenarioError, match=r"scenario\.json: unusable input: larger than 64 bytes"):
        load_scenario(path)
    monkeypatch.setattr(strict_json, "MAX_DOCUMENT", 128)
    with pytest.raises(ScenarioError, match="backends"):  # under the cap: read, then judged on its content
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


def test_a_fault_on_an_unknown_backend_is_one_line(tmp_path: Path) -> None:
    """A device fault names no request the trace could record as refused: on an unknown backend it escaped
    ``simulate`` as a RequestRejected traceback; it is a scenario error, like a background load's."""
    path = _write(tmp_path, json.dumps({"version": 1, "backends": [{"name": "b0"}],
                                        "operations": [{"at": 2, "op": "fault", "backend": "bx"}]}))
    result = CliRunner().invoke(cli, ["simulate", str(path)])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"error: {path}: operations[0].backend: unknown backend 'bx'"


@pytest.mark.parametrize("op", [
    {"op": "open", "session": "s1", "backend": ""}, {"op": "submit", "job": "j1", "backend": ""},
    {"op": "submit", "job": "j1", "session": "", "backend": "b0"}, {"op": "cancel", "job": ""},
    {"op": "close", "session": ""}, {"op": "fault", "backend": ""},
])
def test_an_empty_name_is_refused_in_one_line(tmp_path: Path, op: dict[str, str]) -> None:
    """An empty backend, session or job name reached the trace (a refused request records the names given),
    whose lines cannot carry one: check refused simulate's own trace as unusable."""
    path = _write(tmp_path, {"version": 1, "backends": [{"name": "b0"}], "operations": [{"at": 0, **op}]})
    result = CliRunner().invoke(cli, ["simulate", str(path)])
    assert result.exit_code == 2, result.output
    assert "should be non-empty" in result.output and len(result.output.strip().splitlines()) == 1


# ---------------------------------------------------------------------- the operation vocabulary

SCHEMA = json.loads((Path(__file__).parent.parent / "model" / "schemas" / "scenario.schema.json").read_text())
BOUNDS = ("minimum", "exclusiveMinimum", "minLength")


def _shape(schema: dict[str, Any]) -> tuple[frozenset[str], dict[str, object]]:
    """A field's JSON types (null aside: absent and null both mean "not given") and bounds."""
    members = schema.get("anyOf", [schema])
    types: set[str] = set()
    bounds: dict[str, object] = {}
    for member in members:
        kind = member.get("type", [])
        types.update([kind] if isinstance(kind, str) else kind)
        bounds.update({k: member[k] for k in BOUNDS if k in member})
    types.discard("null")
    if "number" in types:
        types.discard("integer")
    return frozenset(types), bounds


def _schema_branches() -> dict[str, dict[str, Any]]:
    branches = SCHEMA["$defs"]["operation"]["allOf"]
    return {b["if"]["properties"]["op"]["const"]: b["then"] for b in branches}


def test_the_scenario_schema_agrees_with_the_operation_records() -> None:
    """model/schemas/scenario.schema.json validates first (for its error messages); the records of
    model/sim/ops.py are what operations decode into: the same operations, fields, required fields,
    types and bounds."""
    operation = SCHEMA["$defs"]["operation"]
    _, components = msgspec.json.schema_components(OPERATIONS)
    branches = _schema_branches()
    assert operation["properties"]["op"]["enum"] == [cls.__struct_config__.tag for cls in OPERATIONS]
    assert list(branches) == operation["properties"]["op"]["enum"]
    for cls in OPERATIONS:
        tag = cls.__struct_config__.tag
        assert isinstance(tag, str)
        record = components[cls.__name__]
        then = branches[tag]
        assert set(then["properties"]) == set(record["properties"]), tag
        assert {*then.get("required", []), *operation["required"]} == {*record["required"], "at"}, tag
        for name, field_schema in record["properties"].items():
            if name == "op":
                continue
            documented = operation["properties"]["at"] if name == "at" else then["properties"][name]
            assert _shape(documented) == _shape(field_schema), f"{tag}.{name}"


def test_every_operation_field_is_in_the_scenario_format_doc() -> None:
    text = (Path(__file__).parent.parent / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    section = text[text.index("Operations ("):]
    for cls in OPERATIONS:
        assert f"`{cls.__struct_config__.tag}`" in section
        for name in cls.__struct_fields__:
            assert f"`{name}`" in section, f"{cls.__struct_config__.tag}.{name}"


def test_loading_decodes_operations_into_typed_records() -> None:
    ops = [
        {"at": 0, "op": "open", "session": "s", "backend": "b0", "max_time": "25m"},
        {"at": 1, "op": "submit", "job": "j", "session": "s", "group": "g", "duration": 5},
        {"at": 2, "op": "cancel", "job": "j"},
        {"at": 3, "op": "fault", "backend": "b0"},
        {"at": 4, "op": "close", "session": "s"},
    ]
    loaded = parse_scenario(_minimal(operations=ops)).operations
    assert [type(op) for op in loaded] == [Open, Submit, Cancel, Fault, Close]
    assert loaded[1] == Submit(at=1, job="j", session="s", group="g", duration=5)
    assert [scenario_json(op) for op in loaded] == ops


def test_a_value_the_schema_allows_but_the_records_do_not_names_the_path() -> None:
    with pytest.raises(ScenarioError, match=r"operations\[0\]\.max_time: Expected `int \| str \| null`, got `float`"):
        parse_scenario(_minimal(operations=[{"at": 0, "op": "open", "backend": "b0", "max_time": 5.0}]))


def test_engine_only_fields_reach_no_other_implementation() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.calls: list[tuple[object, ...]] = []

        def open_session(self, backend: str | None, max_time: int | str | None, session_id: str | None) -> None:
            self.calls.append(("open", backend, max_time, session_id))

        def submit(self, session_id: str | None, backend: str | None, job_id: str | None,
                   max_execution_time: float | None, duration: float | None, fault: bool | None) -> None:
            self.calls.append(("submit", session_id, backend, job_id, max_execution_time, duration, fault))

        def cancel(self, job_id: str) -> None:
            self.calls.append(("cancel", job_id))

        def close(self, session_id: str) -> None:
            self.calls.append(("close", session_id))

        def fault(self, backend: str) -> None:
            self.calls.append(("fault", backend))

        def advance(self, seconds: float) -> None:
            self.calls.append(("advance", seconds))

    target = Recorder()
    for op in (Open(backend="b0", session="s"), Submit(session="s", job="j", duration=3, fault=False),
               Cancel(job="j"), Close(session="s"), Fault(backend="b0"), Advance(seconds=2)):
        apply(target, op)
    assert [call[0] for call in target.calls] == ["open", "submit", "cancel", "close", "fault", "advance"]
    with pytest.raises(TypeError, match="group, program"):
        apply(target, Submit(session="s", group="team-a"))


HEAVY = _minimal(
    until=1e15,
    background=[{"backend": "b0", "jobs_per_hour": 3_600_000, "duration": {"fixed": 0.001}}],
)


@pytest.mark.parametrize("until", [1e15, None])
def test_a_run_past_its_event_limit_stops_with_a_clear_error(until: float | None) -> None:
    """A heavy load with a far until (or none: it never settles) stops at the stated limit, with what
    ran on the trace, instead of running and writing without bound."""
    scenario = dict(HEAVY, until=until) if until is not None else {k: v for k, v in HEAVY.items() if k != "until"}
    if until is None:  # a load without its own until runs forever; the scenario then needs an until
        scenario["background"] = [dict(HEAVY["background"][0], until=1e15)]  # type: ignore[index]
    trace = MemoryTrace()
    with pytest.raises(ScenarioError, match="after 5000 events"):
        run_scenario(parse_scenario(scenario), trace, max_events=5000)
    assert len(trace) > 5000


def test_a_run_within_its_event_limit_is_not_stopped() -> None:
    scenario = dict(HEAVY, until=1.0)
    engine = run_scenario(parse_scenario(scenario), MemoryTrace(), max_events=5000)
    assert engine.now == 1.0


def test_simulate_stops_a_runaway_scenario_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "heavy.json"
    path.write_text(json.dumps(HEAVY))
    result = CliRunner().invoke(cli, ["simulate", str(path), "--max-events", "2000", "--quiet"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "after 2000 events" in lines[0] and "--max-events" in lines[0], result.output
