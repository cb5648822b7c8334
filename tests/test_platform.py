"""The platform profile's rules, each shown on the reference engine's trace, next to the seeds' where they differ.

The done-when scenario of issue 13 is the first: a session closed with two queued jobs drains under the
platform and fails them under the seeds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from model.sim.requests import NotInProfile
from model.spec.interpretations import Interpretation
from model.spec.lifecycles import SESSION
from model.spec.profiles import PROFILES
from model.spec.validations import RequestRejected
from properties.cli import COMMANDS, cli
from tests.scenario_helpers import B0, Scenario, backend

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "scenarios"


def _closed_with_two_queued(profile: str) -> Scenario:
    """A session with three 10 s jobs, closed at 5 s while the first runs and two are queued."""
    sc = Scenario(profile=profile)
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time=3600)
    for job in ("j1", "j2", "j3"):
        e.submit("s", job_id=job)
    sc.at(5).close("s")
    sc.settle(until=1000)
    return sc


@pytest.mark.rule("PLATFORM-CLOSE-DRAINS", "CONTEXT-CLOSE")
def test_a_closed_session_drains_its_queued_jobs_under_the_platform() -> None:
    sc = _closed_with_two_queued("platform")
    assert sc.path("s") == [(0.0, "pending"), (0.0, "active"), (5.0, "pending_closed"), (30.0, "closed")]
    assert [sc.path(job)[-1] for job in ("j1", "j2", "j3")] == [(10.0, "completed"), (20.0, "completed"),
                                                                 (30.0, "completed")]
    assert sc.change("s", "closed").trigger == "drained"


@pytest.mark.rule("CLOSE-FAILS-INCOMPLETE", "SESSION-CLOSE")
def test_the_same_close_fails_them_under_the_seeds() -> None:
    sc = _closed_with_two_queued("seeds")
    assert sc.path("s") == [(0.0, "pending"), (0.0, "active"), (5.0, "closed")]
    assert [sc.path(job)[-1] for job in ("j1", "j2", "j3")] == [(5.0, "failed")] * 3


@pytest.mark.rule("PLATFORM-CLOSE-DRAINS")
def test_a_session_closed_with_nothing_left_closes_at_once() -> None:
    sc = Scenario(profile="platform")
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    sc.at(20).close("s")  # j1 ended at 10: no waiting for the interactive window
    sc.at(30).close("s")  # closing a closed session changes nothing
    sc.settle()
    assert sc.path("s") == [(0.0, "pending"), (0.0, "active"), (20.0, "closed")]


@pytest.mark.rule("PLATFORM-NOT-ACCEPTING", "PLATFORM-STATES")
def test_a_closing_session_accepts_no_job_and_keeps_priority() -> None:
    sc = Scenario(profile="platform")
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    e.submit("s", job_id="j2")
    e.submit(backend=B0, job_id="f")  # another user's job waits for the closing session's jobs
    sc.at(5).close("s")
    with pytest.raises(RequestRejected) as refused:
        sc.at(6).submit("s", job_id="late")
    assert refused.value.code == "SESSION-NOT-ACCEPTING"
    sc.settle()
    assert sc.start_order() == ["j1", "j2", "f"]
    assert [r.error for r in sc.rejections()] == ["SESSION-NOT-ACCEPTING"]


@pytest.mark.rule("PLATFORM-CANCEL-SESSION")
def test_cancel_session_is_an_operation_of_the_platform_only() -> None:
    sc = Scenario()
    sc.at(0).open_session(B0, session_id="s")
    with pytest.raises(NotInProfile, match="cancel_session is not an operation of profile seeds"):
        sc.engine.cancel_session("s")
    platform = Scenario(profile="platform")
    with pytest.raises(RequestRejected) as refused:
        platform.at(0).cancel_session("nope")
    assert refused.value.code == "UNKNOWN-SESSION"


@pytest.mark.rule("PLATFORM-CANCEL-SESSION", "PLATFORM-CLOSE-DRAINS")
def test_cancel_session_ends_a_draining_session() -> None:
    sc = Scenario(profile="platform")
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    for job in ("j1", "j2", "j3"):
        e.submit("s", job_id=job)
    sc.at(5).close("s")
    sc.at(12).cancel_session("s")
    sc.settle()
    assert sc.path("s")[-2:] == [(5.0, "pending_closed"), (12.0, "closed")]
    assert [sc.path(job)[-1][1] for job in ("j1", "j2", "j3")] == ["completed", "completed", "cancelled"]


@pytest.mark.rule("PLATFORM-ITTL-60S", "TTL-INTERACTIVE")
def test_the_interactive_window_is_60_s_after_each_job() -> None:
    sc = Scenario(profile="platform")
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    sc.at(50).submit("s", job_id="j2")  # within 60 s of j1's end (10): still active
    sc.settle(until=1000)
    assert sc.path("s") == [(0.0, "pending"), (0.0, "active"), (120.0, "inactive")]
    assert sc.trace[0].interactive_timeout == 60.0  # type: ignore[union-attr]
    assert Scenario().trace[0].interactive_timeout == 300.0  # type: ignore[union-attr]


@pytest.mark.rule("PLATFORM-UNUSED-CLOSES")
def test_an_unused_session_closes_after_30_minutes() -> None:
    sc = Scenario(profile="platform")
    e = sc.at(0)
    e.open_session(B0, session_id="idle")
    e.open_session(B0, session_id="used")
    e.submit("used", job_id="j1")
    sc.at(1000).submit("used", job_id="j2")
    sc.settle(until=10_000)
    assert sc.path("idle") == [(0.0, "pending"), (1800.0, "closed")]
    assert sc.change("idle", "closed").trigger == "unused_timeout"
    # used: inactive at 1070 (60 s after j2), closed 30 min after j2's end (1010)
    assert sc.path("used")[-2:] == [(1070.0, "inactive"), (2810.0, "closed")]
    seeds = Scenario()
    seeds.at(0).open_session(B0, session_id="idle")
    seeds.settle(until=10_000)
    assert seeds.path("idle") == [(0.0, "pending")]


@pytest.mark.rule("PLATFORM-UNUSED-CLOSES")
def test_a_session_with_a_long_job_is_not_unused() -> None:
    sc = Scenario(profile="platform")
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="long", duration=4000.0)
    sc.settle(until=10_000)
    assert sc.path("s") == [(0.0, "pending"), (0.0, "active"), (4060.0, "inactive"), (5800.0, "closed")]


@pytest.mark.rule("PLATFORM-EXPIRY-RUNNING-FINISH", "MAXTIME-EXPIRY")
def test_at_max_time_the_running_job_finishes_and_the_queued_fail() -> None:
    sc = Scenario(profile="platform")
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time=15)
    for job in ("j1", "j2", "j3"):
        e.submit("s", job_id=job)
    sc.settle()
    assert sc.path("s")[-1] == (15.0, "closed")
    assert [sc.path(job)[-1] for job in ("j1", "j2", "j3")] == [(10.0, "completed"), (20.0, "completed"),
                                                                 (15.0, "failed")]
    assert sc.change("j3", "failed").reason == "session_expired"


@pytest.mark.rule("PLATFORM-SESSION-EXCLUSIVE", "PLATFORM-MAXTIME-DEFAULT")
def test_the_platform_fixes_what_its_documentation_settles() -> None:
    platform = Interpretation({}, "platform")
    assert platform.policy.idle_device == "hold"  # exclusive while active
    assert platform["INT-MAXTIME-DEFAULT"] == "system_limit"
    assert platform["INT-MAXTIME-UPPER-BOUND"] == "inclusive"
    assert platform["INT-MAXTIME-JOB-BOUND"] == "allow"
    assert PROFILES["platform"].interactive_timeout == 60.0 and PROFILES["platform"].unused_timeout == 1800.0
    sc = Scenario(backend(B0, system_max_time=3600), profile="platform")
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time=3600)  # equal to the system limit: accepted
    e.submit("s", job_id="j1", max_execution_time=4000)  # above max_time: not checked
    e.open_session(B0, session_id="d")
    sc.settle(until=100)
    assert sc.change("s", "active").max_time == 3600.0
    assert not sc.rejections()


@pytest.mark.rule("PLATFORM-STATES")
def test_the_platform_states_are_declared_for_the_platform_only() -> None:
    seeds = SESSION.under(Interpretation())
    platform = SESSION.under(Interpretation({}, "platform"))
    assert "pending_closed" not in seeds.state_names and "pending_closed" in platform.state_names
    assert {"drained", "cancel_session", "unused_timeout"} <= set(platform.triggers)
    assert not {"drained", "cancel_session", "unused_timeout", "pending_closed"} & set(seeds.triggers)
    assert [t.name for t in platform.timers] == ["interactive", "max_time", "batch_end", "unused"]


@pytest.mark.rule("PLATFORM-CLOSE-DRAINS", "SCHED-FAIRSHARE")
def test_a_session_closed_before_it_started_drains_through_the_fair_share_queue() -> None:
    sc = Scenario(profile="platform")
    e = sc.at(0)
    e.submit(backend=B0, job_id="f1")  # the device is busy: the session's jobs wait
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    e.submit(backend=B0, job_id="f2")
    e.submit("s", job_id="j2")
    sc.at(1).close("s")
    sc.settle()
    assert sc.start_order() == ["f1", "j1", "f2", "j2"]  # fair-share order: the closing session is never active
    assert sc.path("s") == [(0.0, "pending"), (1.0, "pending_closed"), (40.0, "closed")]
    assert sc.change("s", "closed").trigger == "drained"


@pytest.mark.rule("PLATFORM-CANCEL-SESSION")
def test_cancel_session_lines_come_in_order() -> None:
    sc = Scenario(profile="platform")
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    for job in ("j1", "j2", "j3"):
        e.submit("s", job_id=job)
    sc.at(5).cancel_session("s")
    sc.at(6).cancel_session("s")  # a closed session: accepted, nothing changes
    lines = [(c.id, c.dst, c.trigger) for c in sc.changes() if c.t == 5.0]
    assert lines == [("s", "closed", "cancel_session"), ("j2", "cancelled", "session_cancelled"),
                     ("j3", "cancelled", "session_cancelled")]
    assert [r.op for r in sc.requests() if r.t == 6.0] == ["cancel_session"] and not sc.rejections()


@pytest.mark.rule("PLATFORM-CLOSE-DRAINS", "CLOSE-FAILS-INCOMPLETE")
def test_check_accepts_each_trace_under_its_profile_and_not_under_the_other(tmp_path: Path) -> None:
    """The done-when pair: the example scenario simulated under each profile, checked with the CLI."""
    runner = CliRunner()
    traces = {}
    for profile in ("seeds", "platform"):
        scenario = EXAMPLES / f"close_with_queued_{profile}.json"
        traces[profile] = tmp_path / f"{profile}.jsonl"
        simulated = runner.invoke(cli, ["simulate", str(scenario), "--trace", str(traces[profile]), "--quiet"])
        assert simulated.exit_code == 0, simulated.output
        checked = runner.invoke(cli, ["check", str(traces[profile])])
        assert checked.exit_code == 0 and "conforms" in checked.output, checked.output
    assert "3 completed, 0 failed" in runner.invoke(
        cli, ["simulate", str(EXAMPLES / "close_with_queued_platform.json"), "--quiet"]).output
    assert "0 completed, 3 failed" in runner.invoke(
        cli, ["simulate", str(EXAMPLES / "close_with_queued_seeds.json"), "--quiet"]).output
    # the platform's drain, judged by the seeds' rules, diverges at the close
    relabelled = tmp_path / "relabelled.jsonl"
    lines = traces["platform"].read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    del header["profile"]
    header["interactive_timeout"] = 300.0
    header["interpretation"] = dict(Interpretation())
    relabelled.write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    judged = runner.invoke(cli, ["check", str(relabelled)])
    assert judged.exit_code == 1 and "divergence" in judged.output and "t=5" in judged.output, judged.output
    mismatch = runner.invoke(cli, ["check", "--profile", "seeds", str(traces["platform"])])
    assert mismatch.exit_code == 2 and "header profile 'platform'" in mismatch.output


@pytest.mark.rule("PLATFORM-CANCEL-SESSION", "PLATFORM-CLOSE-DRAINS")
def test_conform_runs_the_example_iut_under_the_platform_profile() -> None:
    result = CliRunner().invoke(cli, [
        "conform", "--profile", "platform", "--cmd", f"{sys.executable} -m properties.conformance.reference_iut",
        "--examples", "40", "-i", "CANCEL-RUNNING-JOB=cancel",
    ])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("conforms: 40 examples, no finding")


def test_a_cancel_session_in_a_seeds_scenario_is_refused(tmp_path: Path) -> None:
    scenario = json.loads((EXAMPLES / "close_with_queued_seeds.json").read_text())
    scenario["operations"].append({"at": 6, "op": "cancel_session", "session": "s1"})
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    result = CliRunner().invoke(cli, ["simulate", str(path)])
    assert result.exit_code == 2
    assert "operations[5].op: cancel_session is an operation of profile platform" in result.output
    assert CliRunner().invoke(cli, ["simulate", "--profile", "platform", str(path), "--quiet"]).exit_code == 0


def test_every_command_takes_the_one_profile_option() -> None:
    """--profile is the one shared option of properties/cli/options.py on every command."""
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None, name
        options = [p for p in command.params if "--profile" in getattr(p, "opts", ())]
        assert len(options) == 1, f"{name} has no --profile"
        assert isinstance(options[0].type, click.Choice) and list(options[0].type.choices) == ["seeds", "platform"]


@pytest.mark.rule("PLATFORM-BATCH")
def test_a_batch_is_not_exclusive_and_ends_by_itself() -> None:
    sc = Scenario(profile="platform")
    e = sc.at(0)
    e.submit(backend=B0, job_id="f1")
    e.open_session(B0, session_id="b", mode="batch")
    e.submit("b", job_id="b1")
    e.submit(backend=B0, job_id="f2")
    e.submit("b", job_id="b2")
    sc.settle()
    assert sc.start_order() == ["f1", "b1", "f2", "b2"]  # other users' jobs run between its jobs
    assert sc.path("b") == [
        (0.0, "pending"), (10.0, "active"), (20.0, "inactive"), (30.0, "active"), (40.0, "inactive"),
        (100.0, "closed"),
    ]
    assert sc.change("b", "closed").trigger == "batch_ended"
    assert [r.args for r in sc.requests() if r.op == "open"] == [{"max_time": None, "mode": "batch"}]
    session = Scenario(profile="platform")  # the same workload in a session: its jobs go first
    e = session.at(0)
    e.submit(backend=B0, job_id="f1")
    e.open_session(B0, session_id="b")
    e.submit("b", job_id="b1")
    e.submit(backend=B0, job_id="f2")
    e.submit("b", job_id="b2")
    session.settle()
    assert session.start_order() == ["f1", "b1", "b2", "f2"]


@pytest.mark.rule("PLATFORM-BATCH", "PLATFORM-CLOSE-DRAINS")
def test_a_closed_batch_drains_without_holding_the_device() -> None:
    sc = Scenario(profile="platform")
    e = sc.at(0)
    e.open_session(B0, session_id="b", mode="batch")
    e.submit("b", job_id="b1")
    e.submit("b", job_id="b2")
    e.submit(backend=B0, job_id="f1")
    sc.at(5).close("b")
    sc.settle()
    assert sc.start_order() == ["b1", "b2", "f1"]  # FIFO: b2 was queued before f1
    assert sc.path("b") == [(0.0, "pending"), (0.0, "active"), (5.0, "pending_closed"), (20.0, "closed")]
    with pytest.raises(NotInProfile, match="batch mode is not part of profile seeds"):
        Scenario().engine.open_session(B0, mode="batch")


@pytest.mark.rule("PLATFORM-CANCEL-SESSION", "PLATFORM-BATCH", "DEVICE-RUNS-DURATION")
def test_a_counterexample_names_its_profile_and_check_reads_its_scenario_under_the_trace_s(tmp_path: Path) -> None:
    """conform --out writes the profile into scenario.json (simulate of it runs the platform rules); check
    --scenario reads a scenario that names none under the trace header's profile, so its cancel_session and
    batch operations are not refused."""
    runner = CliRunner()
    found = runner.invoke(cli, [
        "conform", "--profile", "platform", "--adapter", "properties.conformance.mutants:platform_window_300",
        "--out", str(tmp_path / "cex"),
    ])
    assert found.exit_code == 1, found.output
    assert json.loads((tmp_path / "cex" / "scenario.json").read_text())["profile"] == "platform"

    scenario = json.loads((EXAMPLES / "close_with_queued_platform.json").read_text())
    del scenario["profile"]
    scenario["operations"] += [
        {"at": 6, "op": "open", "session": "b", "backend": "ibm_lagos", "mode": "batch"},
        {"at": 6, "op": "submit", "job": "b1", "session": "b"},
        {"at": 7, "op": "cancel_session", "session": "b"},
    ]
    path, trace = tmp_path / "s.json", tmp_path / "t.jsonl"
    path.write_text(json.dumps(scenario))
    ran = runner.invoke(cli, ["simulate", "--profile", "platform", str(path), "--trace", str(trace), "--quiet"])
    assert ran.exit_code == 0, ran.output
    judged = runner.invoke(cli, ["check", str(trace), "--scenario", str(path)])
    assert judged.exit_code == 0, judged.output
