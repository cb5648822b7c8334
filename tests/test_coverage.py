"""The coverage model: derived from the declaration, counted from a reference trace."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from model.sim.engine import Engine
from model.sim.ops import Close, Open, Operation, Submit, run_operations
from model.spec.interpretations import Interpretation
from model.spec.lifecycles import SESSION
from model.spec.validations import PRECEDENCE
from model.trace import Change, MemoryTrace, Record
from properties.conformance.campaign import CampaignConfig
from properties.conformance.coverage import Coverage, situations, transition_key


def _trace(
    ops: Sequence[Operation], until: float = 3000.0, interpretation: Interpretation | None = None,
) -> list[Record]:
    config = CampaignConfig() if interpretation is None else CampaignConfig(interpretation=interpretation)
    sink = MemoryTrace()
    engine = Engine(list(config.backends), interpretation=config.interpretation, sink=sink)
    run_operations(engine, ops)
    engine.run_until(until)
    return list(sink)


def _covered(records: list[Record], interpretation: Interpretation) -> Coverage:
    coverage = Coverage(interpretation)
    coverage.observe_all(records)
    return coverage


@pytest.mark.parametrize("profile", ["seeds", "platform"])
def test_situations_are_derived_from_the_declaration(profile: str) -> None:
    interpretation = Interpretation({}, profile)
    keys = {s.key for s in situations(interpretation)}
    for t in SESSION.under(interpretation).transitions:
        for source in t.source:
            assert transition_key("session", source, t.dest, t.trigger) in keys
    platform_only = {"submit rejected SESSION-NOT-ACCEPTING", "cancel_session rejected UNKNOWN-SESSION"}
    rejections = {f"{op} rejected {code}" for op, codes in PRECEDENCE.items() for code in codes}
    if profile == "seeds":
        assert rejections - platform_only <= keys and not platform_only & keys
    else:
        assert rejections - {"submit rejected MAXTIME-BELOW-JOB"} <= keys
        assert "session active->pending_closed by close" in keys and "timer unused fires" in keys
    assert "timer interactive fires" in keys and "timer max_execution_time fires" in keys


def test_close_with_queued_is_counted_and_unreached_ones_are_listed() -> None:
    coverage = Coverage()
    coverage.observe_all(_trace([
        Open(at=0, backend="b0", session="s1"),
        Submit(at=0, session="s1", job="j1", duration=100),
        Submit(at=0, session="s1", job="j2", duration=100),
        Close(at=10, session="s1"),
    ]))
    assert coverage.counts["close-with-queued"] == 1
    assert coverage.counts[transition_key("job", "queued", "failed", "session_closed")] == 1
    missing = {s.key for s in coverage.missing()}
    assert "close-with-queued" not in missing and "duplicate-job-id" in missing
    assert "never reached:" in coverage.report() and "duplicate-job-id" in coverage.report()


def test_the_generator_sends_every_form_of_max_time() -> None:
    from model.spec.max_time import parse_max_time
    from model.spec.validations import RequestRejected
    from properties.conformance.draws import MAX_TIME_FORMS

    def accepted(value: object) -> bool:
        try:
            parse_max_time(value)
        except RequestRejected:
            return False
        return True

    strings = [v for v in MAX_TIME_FORMS if isinstance(v, str)]
    assert any(accepted(v) for v in strings) and any(not accepted(v) for v in strings)
    assert {"2h 30m 40s", "2H", "05m", "300", "2h 2h", "5m 30", "", "²"} <= set(strings)
    assert any(isinstance(v, int) and v <= 0 for v in MAX_TIME_FORMS)


def test_deadline_relative_draws_land_on_the_deadline_the_reference_knows() -> None:
    from properties.conformance.draws import DrawAdvance, DrawAtSessionDeadline, DrawOpen, DrawSubmit, resolve

    backends = CampaignConfig().backends
    for offset, expected in ((0, 310.0), (1, 311.0), (-1, 309.0)):
        ops, _ = resolve([
            DrawOpen(0, None), DrawSubmit(0, 0, None, 10, False), DrawAdvance(20),
            DrawAtSessionDeadline(0, False, offset),
        ], backends)
        assert ops[-1].at == expected  # the interactive window of s1 ends at 10 + 300


def test_the_default_budget_reports_coverage_and_its_stop() -> None:
    from properties.conformance.adapter import reference
    from properties.conformance.campaign import COVERAGE_TARGET, run_campaign

    result = run_campaign(reference, seed=0, time_cap=1.0)
    assert result.finding is None and result.coverage is not None and result.examples >= 1
    summary = result.summary()
    assert "coverage:" in summary
    assert ("stopped at the" in summary) == bool(result.capped)
    assert result.capped or result.coverage.complete(COVERAGE_TARGET)
    counted = run_campaign(reference, examples=20, seed=0)
    assert counted.examples == 20 and "stopped" not in counted.summary()


def test_check_reports_the_coverage_of_a_trace(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from properties.cli import cli

    trace = tmp_path / "t.jsonl"
    memory = MemoryTrace()
    engine = Engine(list(CampaignConfig().backends), sink=memory)
    run_operations(engine, (Open(at=0, backend="b0", session="s1"), Submit(at=0, session="s1", job="j1", duration=10)))
    engine.run(until=2000)
    trace.write_text(memory.jsonl())
    result = CliRunner().invoke(cli, ["check", str(trace), "--coverage"])
    assert result.exit_code == 0, result.output
    assert "coverage: " in result.output and "session pending->active by job_started" in result.output


def test_check_coverage_of_a_trace_bad_past_its_divergence(tmp_path: Path) -> None:
    """Found by fuzzing: ``check`` stops at the first divergence, before a later bad line, which the coverage
    report then met as a traceback. It covers the lines before that one, and says so; the verdict stands."""
    from click.testing import CliRunner

    from properties.cli import cli

    memory = MemoryTrace()
    engine = Engine(list(CampaignConfig().backends), sink=memory)
    run_operations(engine, (Open(at=0, backend="b0", session="s1"), Submit(at=0, session="s1", job="j1", duration=10)))
    engine.run(until=2000)
    lines = memory.jsonl().splitlines()
    complete = next(i for i, line in enumerate(lines) if '"trigger":"complete"' in line)
    lines[complete] = lines[complete].replace('"trigger":"complete"', '"trigger":"device_error"')  # a divergence
    lines.insert(complete + 1, '{"type":"request","t":0.5,"op":"close","session":"s1","outcome":"accepted"}')
    trace = tmp_path / "t.jsonl"
    trace.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["check", str(trace), "--coverage"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert f"{trace}:{complete + 2}: unusable input: time goes back" in result.output
    assert "(the coverage above stops before it)" in result.output


def test_draws_for_contention_ties_and_the_interactive_window_reach_their_situations() -> None:
    """Each targeted draw, resolved and run on the reference, exercises the situation it is for."""
    from properties.conformance.draws import Abstract, DrawContention, DrawOpen, DrawTie, DrawWindow, resolve

    config = CampaignConfig()
    cases: list[tuple[list[Abstract], str]] = [
        ([DrawOpen(0, None), DrawContention(0, 1)], "session-job-behind-fair-share"),
        ([DrawTie(0, 400)], "job-end-at-expiry-with-queued"),
        ([DrawTie(1, 100)], "job-end-at-expiry-with-queued"),
        ([DrawTie(0, 400, cut=True)], "job-cut-at-expiry"),
        ([DrawTie(1, 100, cut=True)], "job-cut-at-expiry"),
        ([DrawWindow(0, 0, close=False)], "request-at-interactive-deadline"),
        ([DrawWindow(0, 1, close=False)], "request-after-interactive-deadline"),
        ([DrawWindow(1, 0.5, close=True)], transition_key("session", "inactive", "closed", "close")),
    ]
    for drawn, situation in cases:
        ops, end = resolve(drawn, config.backends)
        coverage = Coverage()
        coverage.observe_all(_trace(ops, end + config.flush))
        assert coverage.counts[situation] >= 1, (situation, ops)


@pytest.mark.parametrize("profile", ["seeds", "platform"])
@pytest.mark.parametrize("tie", ["job_first", "expiry_first"])
def test_the_ties_are_reached_in_either_order_of_the_job_end_and_the_expiry(profile: str, tie: str) -> None:
    """Under INT-EXPIRY-TIE=expiry_first the expiry is recorded before the job end at its instant: the tie
    is the same, and must be counted (it was not: every such campaign ran to its CPU cap). Under the seeds the
    running job must outlive the expiry for its end to fall there (INT-EXPIRY-RUNNING-JOB=finish)."""
    from properties.conformance.draws import DrawTie, resolve

    choices = {"INT-EXPIRY-TIE": tie}
    if profile == "seeds":
        choices["INT-EXPIRY-RUNNING-JOB"] = "finish"
    interpretation = Interpretation(choices, profile)
    config = CampaignConfig(interpretation=interpretation)
    for drawn, situation in ((DrawTie(0, 400), "job-end-at-expiry-with-queued"),
                             (DrawTie(0, 400, cut=True), "job-cut-at-expiry")):
        ops, end = resolve([drawn], config.backends, interpretation)
        coverage = _covered(_trace(ops, end + config.flush, interpretation), interpretation)
        assert coverage.counts[situation] == 1, (situation, ops)


def test_an_expiry_that_ends_the_running_job_itself_is_no_tie() -> None:
    """INT-EXPIRY-RUNNING-JOB=fail: the expiry fails the running job at its instant; no job ended there."""
    interpretation = Interpretation({"INT-EXPIRY-TIE": "expiry_first", "INT-EXPIRY-RUNNING-JOB": "fail"})
    sink = MemoryTrace()
    engine = Engine(list(CampaignConfig().backends), interpretation=interpretation, sink=sink)
    run_operations(engine, [Open(at=0, backend="b0", session="s1", max_time=200),
                            Submit(at=0, session="s1", job="j1", duration=300),
                            Submit(at=0, session="s1", job="j2", duration=10)])
    engine.run_until(3000)
    coverage = Coverage(interpretation)
    coverage.observe_all(list(sink))
    assert coverage.counts["expiry-with-queued"] == 1 and coverage.counts["job-end-at-expiry-with-queued"] == 0


@pytest.mark.rule("PLATFORM-UNUSED-CLOSES", "PLATFORM-BATCH")
def test_a_queued_cancel_in_an_idle_session_then_its_timer_is_drawn_and_counted() -> None:
    """An outsider's scheduler did not re-arm the unused and batch_end timers at a queued job's cancel; 3,700
    random examples never built the case. The draw builds it and the coverage keeps the campaign at it."""
    from properties.conformance.draws import DrawQueuedCancel, resolve

    platform = Interpretation({}, "platform")
    keys = {s.key for s in situations(platform)}
    wanted = {False: "unused_timeout after a queued job's cancel", True: "batch_ended after a queued job's cancel"}
    assert set(wanted.values()) <= keys and not set(wanted.values()) & {s.key for s in situations(Interpretation({}))}
    config = CampaignConfig(interpretation=platform)
    for batch, situation in wanted.items():
        ops, end = resolve([DrawQueuedCancel(0, batch, 50)], config.backends, platform)
        records = _trace(ops, end + config.flush, platform)
        assert _covered(records, platform).counts[situation] == 1, (situation, ops)
        fired = [r.t for r in records if isinstance(r, Change) and r.entity == "session" and r.dst == "closed"]
        assert fired == [50 + (60 if batch else 1800)]  # re-armed at the cancel
    # A cancel at the instant of the last arming moves no deadline: not the situation.
    ops, end = resolve([DrawQueuedCancel(0, False, 0)], config.backends, platform)
    assert _covered(_trace(ops, end + config.flush, platform), platform).counts[wanted[False]] == 0


def test_what_an_interpretation_rules_out_is_derived_from_the_witnesses() -> None:
    from properties.conformance.coverage import WITNESSES, unreachable

    ties = {"job-end-at-expiry-with-queued", "job-cut-at-expiry"}
    assert unreachable(Interpretation({})) == frozenset()  # every witness reaches its situation under the seeds
    assert unreachable(Interpretation({"INT-EXPIRY-TIE": "expiry_first"})) == ties  # the expiry fails the job
    assert unreachable(Interpretation({"INT-EXPIRY-TIE": "expiry_first", "INT-EXPIRY-RUNNING-JOB": "finish"})) == set()
    below = {"submit rejected MAXTIME-BELOW-JOB"}
    assert unreachable(Interpretation({"INT-MAXTIME-JOB-BOUND": "allow"})) == below
    assert unreachable(Interpretation({"INT-EXPIRY-TIE": "expiry_first"}, "platform")) == below  # it finishes there
    coverage = Coverage(Interpretation({"INT-EXPIRY-TIE": "expiry_first"}))
    assert not ties & {s.key for s in coverage.situations} and coverage.ruled_out == ties
    assert "the interpretation rules out: job-cut-at-expiry; job-end-at-expiry-with-queued" in coverage.report()
    assert set(WITNESSES) <= {s.key for s in situations(Interpretation({}))}
    from properties.conformance.campaign import DEFAULT_BACKENDS
    from properties.conformance.coverage import WITNESS_BACKENDS

    assert DEFAULT_BACKENDS[:1] == WITNESS_BACKENDS


def test_the_doomed_window_draw_restarts_the_window_at_the_doomed_submit() -> None:
    """An outsider's scheduler did not restart the interactive window for a submit to a session whose
    first job was cancelled (it fails at once); nothing drew that case. The draw does now."""
    from properties.conformance.draws import DrawWindow, resolve

    config = CampaignConfig()
    ops, end = resolve([DrawWindow(0, 1, close=False, doomed=True)], config.backends)
    records = _trace(ops, end + config.flush)
    doomed = [r for r in records if isinstance(r, Change) and r.trigger == "first_job_cancelled"]
    timeouts = [r for r in records if isinstance(r, Change) and r.trigger == "interactive_timeout"]
    assert doomed and timeouts, ops
    assert timeouts[0].t == doomed[0].t + 300  # TTL-INTERACTIVE: the window restarted at the doomed submit


def test_backend_required_is_reached_and_nothing_is_left_out_of_the_budget() -> None:
    from properties.conformance.coverage import UNREACHABLE
    from properties.conformance.draws import DrawOpen, DrawSubmit, resolve

    assert not UNREACHABLE
    ops, _ = resolve([DrawOpen(-2, None), DrawSubmit(None, -2, None, 10, False)], CampaignConfig().backends)
    coverage = Coverage()
    coverage.observe_all(_trace(ops))
    assert coverage.counts["open rejected BACKEND-REQUIRED"] == 1
    assert coverage.counts["submit rejected BACKEND-REQUIRED"] == 1


@pytest.mark.parametrize(("profile", "choices"), [
    ("seeds", {}), ("platform", {}),
    ("seeds", {"INT-EXPIRY-TIE": "expiry_first"}), ("platform", {"INT-EXPIRY-TIE": "expiry_first"}),
])
def test_the_default_budget_stops_by_coverage_on_the_reference_whatever_the_load(
    profile: str, choices: dict[str, str],
) -> None:
    """Every situation the interpretation does not rule out is reachable by the generator, so the default
    campaign ends by coverage, well within its CPU cap: the number of examples is the seed's, not the machine's
    (under INT-EXPIRY-TIE=expiry_first every campaign ran to its cap: two ties were counted in one order only,
    and under the seeds the expiry fails the job that would end at its instant)."""
    from properties.conformance.adapter import reference
    from properties.conformance.campaign import COVERAGE_TARGET, run_campaign

    config = CampaignConfig(interpretation=Interpretation(choices, profile))
    first = run_campaign(reference, config, seed=0, time_cap=600.0)
    assert first.finding is None and not first.capped and first.coverage is not None
    assert first.coverage.complete(COVERAGE_TARGET) and not first.coverage.missing()
    assert first.cpu_seconds is not None and first.cpu_seconds < 25.0
    assert f"every reachable situation exercised at least {COVERAGE_TARGET} times" in first.summary()
    if profile == "seeds" and not choices:
        again = run_campaign(reference, config, seed=0, time_cap=600.0)
        assert again.examples == first.examples
