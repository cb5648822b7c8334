"""One verdict: what ``conform`` finds, ``check --scenario`` finds on the trace and the scenario it writes,
at the same line, citing the same rules (issue 10); and a finding names the rule that was broken, not only
the one expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.sim.scenario import load_scenario
from properties.conformance.campaign import CampaignConfig, Finding, execute, run_campaign
from properties.conformance.checker import check_file
from properties.conformance.inputs import DeviceInputs
from properties.conformance.mutants import MUTANTS, MUTANTS_BY_NAME, Mutant


def _inputs(out: Path) -> DeviceInputs:
    """The device inputs of the scenario a finding wrote (what ``check --scenario`` reads)."""
    return DeviceInputs.of(load_scenario(out / "scenario.json"))


def _reproduces(finding: Finding, out: Path) -> None:
    """``check --scenario scenario.json`` of the written actual.jsonl (its end line says how long the run
    went on) finds first what ``conform`` found."""
    assert finding.kind in ("divergence", "property"), finding.report()
    finding.write(out)
    report = check_file(str(out / "actual.jsonl"), inputs=_inputs(out))
    assert report.status == 1, report.lines
    judged = report.verdict
    assert judged is not None
    assert (judged.line, judged.kind, judged.rules, judged.message) == (
        finding.line, finding.kind, finding.rules, finding.message,
    ), (finding.report(), report.lines)
    assert report.lines[0].startswith(f"{out / 'actual.jsonl'}:{finding.line}: ")
    expected = check_file(str(out / "expected.jsonl"), inputs=_inputs(out))
    assert expected.status == 0, expected.lines


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_the_live_finding_on_each_mutants_scenario_reproduces_with_check(mutant: Mutant, tmp_path: Path) -> None:
    """Every mutant, including those whose bug only the device inputs reveal (not ``offline``)."""
    finding = execute(
        list(mutant.scenario), mutant.until, mutant.factory(), CampaignConfig(interpretation=mutant.interpretation),
    )
    assert finding is not None
    _reproduces(finding, tmp_path)


@pytest.mark.parametrize("name", [
    "session-lifo", "second-session-active", "no-session-priority", "closed-accepts", "fair-share-first",
    "start-at-deadline",
])
def test_a_shrunk_campaign_finding_reproduces_with_check(name: str, tmp_path: Path) -> None:
    mutant = MUTANTS_BY_NAME[name]
    result = run_campaign(mutant.factory(), CampaignConfig(), seed=0, key=f"mutant:{name}", time_cap=600.0)
    assert result.finding is not None
    _reproduces(result.finding, tmp_path)


@pytest.mark.parametrize(("name", "rule"), [
    ("no-session-priority", "SCHED-PRIORITY"),
    ("second-session-active", "SESSION-SINGLE-ACTIVE"),
    ("fair-share-first", "SCHED-PRIORITY"),
    ("start-at-deadline", "MAXTIME-EXPIRY"),
])
def test_the_finding_cites_the_broken_rule(name: str, rule: str) -> None:
    """Issue 10: a fair-share job preferred over the active session's, and a second session activated
    while the first is active, were reported citing only TTL-INTERACTIVE (the expected event's rule);
    a job started at its session's max_time deadline must cite the expiry."""
    mutant = MUTANTS_BY_NAME[name]
    finding = execute(
        list(mutant.scenario), mutant.until, mutant.factory(), CampaignConfig(interpretation=mutant.interpretation),
    )
    assert finding is not None
    assert rule in finding.rules, finding.report()
