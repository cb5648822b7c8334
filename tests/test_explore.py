"""``sessionspec explore``: small-scope exhaustive exploration of the spec and of implementations."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from model.sim.ops import Action, Advance, Open, Submit
from model.sim.scenario import load_scenario
from model.spec.interpretations import Interpretation
from model.trace import Request
from properties.cli import cli
from properties.conformance.adapter import reference
from properties.conformance.draws import UNKNOWN_BACKEND
from properties.conformance.explore import Bounds, ExploreConfig, evaluate, explore, operations
from properties.conformance.mutants import MUTANTS_BY_NAME, Mutant, stdio_command
from properties.conformance.subprocess_iut import StdioFactory


def test_the_spec_has_no_counterexample_within_the_default_bound() -> None:
    result = explore()
    assert result.finding is None and not result.stopped
    assert result.depth == Bounds().depth
    assert 0 < result.distinct < result.explored  # states reached twice are expanded once


@pytest.mark.rule("PLATFORM-CLOSE-DRAINS", "PLATFORM-CANCEL-SESSION", "PLATFORM-UNUSED-CLOSES")
def test_the_platform_spec_has_no_counterexample_at_depth_3() -> None:
    result = explore(ExploreConfig(Bounds(depth=3), Interpretation({}, "platform")))
    assert result.finding is None and not result.stopped and result.depth == 3


def test_the_enumeration_is_deterministic() -> None:
    config = ExploreConfig(Bounds(depth=3))
    first, second = explore(config), explore(config)
    assert (first.explored, first.distinct, first.depth) == (second.explored, second.distinct, second.depth)


@pytest.mark.parametrize("mutant", list(MUTANTS_BY_NAME.values()), ids=lambda m: m.name)
def test_every_mutant_is_killed_within_the_default_bound(mutant: Mutant) -> None:
    result = explore(ExploreConfig(interpretation=mutant.interpretation), mutant.factory())
    assert result.finding is not None, f"{mutant.name} survived the default bound ({result.explored} states)"
    assert result.finding.kind != "spec"
    assert len(result.finding.ops) <= Bounds().depth


def test_a_mutant_is_killed_through_the_subprocess_protocol() -> None:
    result = explore(ExploreConfig(Bounds(depth=2)), StdioFactory(stdio_command("lost-on-fault"), timeout=120))
    assert result.finding is not None and result.finding.kind == "divergence"


def test_breadth_first_gives_a_shortest_counterexample() -> None:
    factory = MUTANTS_BY_NAME["session-lifo"].factory()
    found = explore(ExploreConfig(), factory).finding
    assert found is not None and len(found.ops) == 4  # open, then three jobs in the one session
    assert explore(ExploreConfig(Bounds(depth=3)), factory).finding is None


def test_the_reference_conforms_to_itself() -> None:
    assert explore(ExploreConfig(Bounds(depth=3)), reference).finding is None


def test_a_spec_that_breaks_an_invariant_is_caught() -> None:
    broken = MUTANTS_BY_NAME["two-at-once"].engine
    result = explore(ExploreConfig(Bounds(depth=3), engine=broken))
    assert result.finding is not None and result.finding.kind == "spec"
    assert "SCHED-ONE-AT-A-TIME" in result.finding.rules


def test_bounds_stop_the_search() -> None:
    result = explore(ExploreConfig(Bounds(depth=6, max_states=10)))
    assert result.stopped == "max states" and result.distinct == 10
    assert explore(ExploreConfig(Bounds(depth=0))).explored == 0


def test_states_are_deduplicated_up_to_time_and_finished_jobs() -> None:
    config = ExploreConfig()
    submit = msgspec.convert({"op": "submit", "backend": "b0", "job": "j1", "duration": 10, "fault": False}, Action)
    queued = evaluate((submit,), config)
    waits = [step for step in queued.steps if isinstance(step, Advance)]
    assert [step.seconds for step in waits] == [9.0, 10.0, 11.0]  # the job's end, a tick either side
    nearly = evaluate((submit, waits[0]), config)
    done = evaluate((submit, waits[-1]), config)
    assert len({queued.key, nearly.key, done.key}) == 3
    assert done.key == evaluate((), config).key  # a finished job leaves nothing that matters, whatever the time


@pytest.mark.rule("PLATFORM-BATCH")
def test_a_batch_is_a_state_of_its_own() -> None:
    """A batch open and a plain one look alike until a job runs (pending, the same timers): the abstraction
    tells them apart, or the batch was deduplicated away and never extended (an outsider's batch bugs
    survived the default bound)."""
    config = ExploreConfig(interpretation=Interpretation({}, "platform"))
    opens = [step for step in evaluate((), config).steps if isinstance(step, Open) and step.max_time is None]
    assert [step.mode for step in opens] == [None, "batch"]
    assert evaluate((opens[0],), config).key != evaluate((opens[1],), config).key


@pytest.mark.rule("BACKEND-FIXED")
def test_a_submit_to_a_session_names_another_backend_too() -> None:
    """With one backend in scope, a name the service does not have: BACKEND-FIXED is checked first."""
    config = ExploreConfig()
    opened = evaluate((), config).steps[0]
    assert isinstance(opened, Open)
    fixed = [step for step in evaluate((opened,), config).steps
             if isinstance(step, Submit) and step.session is not None and step.backend is not None]
    assert [step.backend for step in fixed] == [UNKNOWN_BACKEND]
    state = evaluate((opened, fixed[0]), config)
    assert [r.error for r in state.trace if isinstance(r, Request) and r.op == "submit"] == ["BACKEND-FIXED"]
    two = ExploreConfig(Bounds(backends=2))
    assert {step.backend for step in evaluate((opened,), two).steps
            if isinstance(step, Submit) and step.session is not None and step.backend is not None} == {"b1"}


def test_the_frontier_is_plain_data() -> None:
    state = evaluate((), ExploreConfig())
    path = (state.steps[0],)
    assert msgspec.json.decode(msgspec.json.encode(path), type=tuple[Action, ...]) == path
    ops, until = operations(path)
    assert list(ops) == list(path) and until == 0.0


# ---------------------------------------------------------------------- the command


def test_explore_command_prints_the_figures_and_writes_a_replayable_counterexample(tmp_path: Path) -> None:
    out = tmp_path / "cex"
    args = ["explore", "--adapter", "properties.conformance.mutants:closed_accepts", "--out", str(out)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 1, first.output
    for figure in ("states explored:", "distinct states:", "depth:", "Finding (divergence)", "SESSION-CLOSED"):
        assert figure in first.output
    scenario = load_scenario(out / "scenario.json")
    assert [op.name for op in scenario.operations] == ["open", "close", "submit"]
    written = (out / "scenario.json").read_bytes()
    again = CliRunner().invoke(cli, args)
    assert again.stdout == first.stdout and (out / "scenario.json").read_bytes() == written
    assert CliRunner().invoke(cli, ["simulate", str(out / "scenario.json")]).exit_code == 0
    assert CliRunner().invoke(cli, ["check", str(out / "actual.jsonl"), "--until", "2000"]).exit_code == 1


def test_explore_command_json_and_the_spec_alone() -> None:
    result = CliRunner().invoke(cli, ["explore", "--depth", "2", "--json", "-i", "INT-FIRST-JOB-CANCEL=close_session"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["finding"] is None and report["depth"] == 2 and report["distinct"] > 1


@pytest.mark.parametrize("args", [
    ["--adapter", "properties.conformance.adapter:reference", "--cmd", "true"],
    ["--adapter", "no_such_module:factory"],
    ["--depth", "-1"],
    ["-i", "NOPE=x"],
])
def test_explore_command_usage_errors_are_one_line(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["explore", *args])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
