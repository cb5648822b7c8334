"""``sessionspec conform``: live differential testing of an IUT, in process and over stdio."""

from __future__ import annotations

import json
import math
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from model.sim.ops import ACTIONS, Advance, Cancel, Close, Fault, Open, Submit, apply, decode_request, request_json
from model.sim.scenario import parse_scenario, run_scenario
from model.spec.interpretations import Interpretation, profiles
from model.spec.validations import RequestRejected
from model.trace import Change, Header, MemoryTrace, dumps
from properties.cli import cli
from properties.conformance.adapter import AdapterError, EngineIUT, IUTConfig, load_factory, reference
from properties.conformance.campaign import DEFAULT_BACKENDS, CampaignConfig, Finding, run_campaign
from properties.conformance.draws import Op, sequences
from properties.conformance.mutants import MUTANTS_BY_NAME
from properties.conformance.subprocess_iut import StdioFactory, StdioIUT

ROOT = Path(__file__).resolve().parents[1]
DEVICE_ENDS = ("complete", "device_error")
EXAMPLE = ["-m", "properties.conformance.reference_iut"]
"""The reference as an out-of-process IUT: arguments after the interpreter."""
PYTHON = sys.executable


def test_the_reference_conforms_in_process() -> None:
    result = run_campaign(reference, examples=60, seed=3)
    assert result.finding is None and result.examples == 60


class _EveryPointInHeader(EngineIUT):
    """The reference, but its header lists every interpretation point, the defaults too (as an IUT that
    echoes a full ``init`` does)."""

    def __init__(self, config: IUTConfig) -> None:
        super().__init__(config)
        self.full = dict(config.interpretation)

    def events(self) -> list[Any]:
        return [r._replace(interpretation=self.full) if isinstance(r, Header) else r for r in super().events()]


def test_a_header_may_list_points_at_their_default_or_leave_them_out() -> None:
    config = CampaignConfig()
    assert len(dict(config.interpretation)) > len(config.interpretation.recorded())  # points the header leaves out
    result = run_campaign(lambda iut_config: _EveryPointInHeader(iut_config), config, examples=5, seed=1)
    assert result.finding is None, result.finding and result.finding.report()
    result = run_campaign(lambda iut_config: _NoPointInHeader(iut_config), config, examples=5, seed=1)
    assert result.finding is None, result.finding and result.finding.report()
    wrong = CampaignConfig(interpretation=Interpretation.of(idle_device="work_conserving"))
    result = run_campaign(lambda iut_config: _NoPointInHeader(iut_config), wrong, examples=5, seed=1)
    assert result.finding is not None and "header interpretation" in result.finding.message


class _SeedsHeader(EngineIUT):
    """The reference, but its header leaves out the profile (so reads as seeds)."""

    def events(self) -> list[Any]:
        return [r._replace(profile="seeds") if isinstance(r, Header) else r for r in super().events()]


def test_a_header_without_the_profile_is_named_as_such() -> None:
    """Found by an outsider: the finding printed two identical interpretations and never named the profile."""
    config = CampaignConfig(interpretation=profiles("platform")["platform"])
    result = run_campaign(lambda iut_config: _SeedsHeader(iut_config), config, examples=5, seed=1)
    assert result.finding is not None
    assert "header profile seeds; the spec expected platform" in result.finding.message, result.finding.message


class _NoPointInHeader(EngineIUT):
    """The reference, but its header lists no point at all: every one at its default."""

    def events(self) -> list[Any]:
        return [r._replace(interpretation={}) if isinstance(r, Header) else r for r in super().events()]


def test_the_example_stdio_iut_conforms_and_is_stopped_afterwards() -> None:
    factory = StdioFactory([PYTHON, *EXAMPLE], timeout=120)
    result = run_campaign(factory, examples=25, seed=4)
    assert result.finding is None, result.finding and result.finding.report()
    assert factory._proc is None  # the campaign stopped the child


def test_conform_command_on_the_example_iut_under_another_interpretation() -> None:
    result = CliRunner().invoke(cli, [
        "conform", "--cmd", f"{PYTHON} {' '.join(EXAMPLE)}", "--examples", "15", "-i", "IDLE-DEVICE=work_conserving",
        "--timeout", "120",  # generous: a loaded machine must not turn a slow answer into a finding
    ])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("conforms: 15 examples, no finding")


def test_a_mutant_is_found_shrunk_and_written_out_for_simulate_and_check(tmp_path: Path) -> None:
    out = tmp_path / "cex"
    runner = CliRunner()
    result = runner.invoke(cli, [
        "conform", "--cmd", f"{PYTHON} {' '.join(EXAMPLE)} --mutant session-lifo", "--examples", "200",
        "--out", str(out),
        "--timeout", "120",  # generous: under load a 10 s timeout gave a hang finding instead of the divergence
    ])
    assert result.exit_code == 1, result.output
    assert "Minimal failing scenario (4 operations" in result.output
    assert "t=0       submit j3 to s1 (runs 10 s)" in result.output
    assert ("[SCHED-SESSION-FIFO, SCHED-PRIORITY, SCHED-ONE-AT-A-TIME]: session-fifo: job j3 of session s1 starts"
            " before job j2, submitted earlier; got t=10 job j3 (s1 on b0)") in result.output
    assert "(line 13 of the IUT's trace, actual.jsonl)" in result.output
    scenario = json.loads((out / "scenario.json").read_text())
    assert [op["op"] for op in scenario["operations"]] == ["open", "submit", "submit", "submit"]
    for timeline in ("expected.png", "actual.png"):
        assert (out / timeline).read_bytes().startswith(b"\x89PNG"), f"no timeline {timeline} of the counterexample"

    simulated = tmp_path / "simulated.jsonl"
    assert runner.invoke(cli, ["simulate", str(out / "scenario.json"), "--trace", str(simulated)]).exit_code == 0
    assert simulated.read_text() == (out / "expected.jsonl").read_text()
    assert runner.invoke(cli, ["check", str(out / "expected.jsonl")]).exit_code == 0
    checked = runner.invoke(cli, ["check", str(out / "actual.jsonl"), "--until", str(scenario["until"])])
    assert checked.exit_code == 1 and "divergence [SCHED-PRIORITY, SCHED-SESSION-FIFO" in checked.output


def test_the_same_seed_finds_the_same_example() -> None:
    factory = MUTANTS_BY_NAME["interactive-301"].factory()
    first = run_campaign(factory, examples=200, seed=7, shrink=False)
    again = run_campaign(factory, examples=200, seed=7, shrink=False)
    assert first.first_failure == again.first_failure is not None
    assert first.finding is not None and again.finding is not None
    assert first.finding.ops == again.finding.ops


# ---------------------------------------------------------------------- misbehaving IUTs

MISBEHAVING = textwrap.dedent(
    """
    import json, sys
    from properties.conformance import reference_iut as iut_stdio
    from model.sim.engine import Engine

    mode = sys.argv[1]
    iut = None
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "quit":
            break
        if request["op"] == "submit":
            if mode == "hang":
                sys.stdin.read()  # waits for the kit to give up and close our input
                sys.exit(0)
            if mode == "die":
                sys.stderr.write("dying now\\n")
                sys.stderr.flush()
                sys.exit(3)
            if mode == "garbage":
                print("hello, world", flush=True)
                continue
            if mode == "bad-event":
                print(json.dumps({{"ok": True, "events": [{{"type": "job", "t": 0}}]}}), flush=True)
                continue
            if mode == "error":
                print(json.dumps({{"ok": False, "error": "boom"}}), flush=True)
                continue
        if request["op"] == "init":
            iut = iut_stdio.build(request, Engine)
        else:
            iut_stdio.handle(iut, request)
        print(json.dumps({{"ok": True, "events": [iut_stdio.to_json(r) for r in iut.events()]}}), flush=True)
    """
)


@pytest.mark.parametrize(
    ("mode", "kind", "says"),
    [
        ("hang", "timeout", "no answer to submit within 3 s (killed)"),
        ("die", "died", "exited (status 3) without answering submit; its stderr ends: 'dying now'"),
        ("garbage", "garbage", "answer to submit is not JSON: b'hello, world'"),
        ("bad-event", "garbage", "answer to submit: event 0: schema violation"),
        ("error", "error", "reported an error on submit: 'boom'"),
    ],
)
def test_a_misbehaving_subprocess_is_a_finding_not_a_crash(tmp_path: Path, mode: str, kind: str, says: str) -> None:
    script = tmp_path / "misbehaving.py"
    script.write_text(MISBEHAVING.format(), encoding="utf-8")
    # Generous per-operation bounds (the child's start-up counts against init's): a hang costs 3 s.
    factory = StdioFactory([PYTHON, str(script), mode], timeout=3.0 if mode == "hang" else 120.0)
    result = run_campaign(factory, examples=10, seed=0)
    finding = result.finding
    assert finding is not None and finding.kind == kind, finding and finding.report()
    assert says in finding.message
    assert "submit" in finding.where and finding.ops
    assert factory._proc is None  # no child left behind
    if kind == "timeout":
        assert "not shrunk" in finding.note


class _NoisyDeviceEnds(EngineIUT):
    """The reference, but a job's end on the device is written two units in the last place late, so the line
    after it, at the same instant, steps back by float noise (trace-format.md: one instant)."""

    def events(self) -> list[Any]:
        return [
            r._replace(t=r.t + 2 * math.ulp(r.t)) if isinstance(r, Change) and r.trigger in DEVICE_ENDS else r
            for r in super().events()
        ]


def test_a_step_back_within_float_noise_is_one_instant_live_as_offline() -> None:
    """Found by an outsider: conform's live reading called such a step back "time goes back", which the
    offline reader (``check`` of the very trace conform wrote) accepts."""
    result = run_campaign(lambda config: _NoisyDeviceEnds(config), examples=60, seed=0)
    assert result.finding is None, result.finding and result.finding.report()


class _Raising(EngineIUT):
    def cancel(self, job_id: str) -> None:
        raise ValueError(f"cannot cancel {job_id}")


class _Garbling(EngineIUT):
    def events(self) -> list[Any]:
        return [*super().events(), {"type": "job"}]


@pytest.mark.parametrize(
    ("iut", "kind", "says"),
    [
        (_Raising, "error", "the IUT raised ValueError: cannot cancel j"),
        (_Garbling, "garbage", "is not a trace record"),
    ],
)
def test_a_misbehaving_in_process_iut_is_a_finding(iut: type[EngineIUT], kind: str, says: str) -> None:
    result = run_campaign(lambda config: iut(config), examples=100, seed=0)
    assert result.finding is not None and result.finding.kind == kind
    assert says in result.finding.message
    assert "Minimal failing scenario" in result.finding.report()


def test_a_factory_that_raises_is_a_finding() -> None:
    def broken(config: IUTConfig) -> EngineIUT:
        raise RuntimeError("no licence")

    result = run_campaign(broken, examples=5, seed=0)
    assert result.finding is not None and result.finding.kind == "error"
    assert result.finding.message == "the IUT factory raised RuntimeError: no licence"


def test_rejections_may_be_raised_by_the_iut() -> None:
    class Raises(EngineIUT):
        def close(self, session_id: str) -> None:
            super().close(session_id)
            raise RequestRejected("UNKNOWN-SESSION", "raised like the engine does")

    assert run_campaign(lambda config: Raises(config), examples=40, seed=1).finding is None


# ---------------------------------------------------------------------- usage


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "give exactly one of --adapter MODULE:FACTORY or --cmd COMMAND"),
        (["--adapter", "a:b", "--cmd", "x"], "give exactly one of"),
        (["--adapter", "no_such_module_here:f"], "cannot import no_such_module_here"),
        (["--adapter", "properties.conformance.adapter"], "expected MODULE:FACTORY"),
        (["--adapter", "properties.conformance.adapter:nothing"], "has no attribute 'nothing'"),
        (["--adapter", "properties.conformance.adapter:reference", "-i", "NOPE=x"], "unknown interpretation"),
    ],
)
def test_usage_errors_exit_2_with_a_reason(args: list[str], says: str) -> None:
    result = CliRunner().invoke(cli, ["conform", *args])
    assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output


def test_load_factory_returns_the_callable() -> None:
    assert load_factory("properties.conformance.adapter:reference") is reference
    assert load_factory("properties.conformance.mutants:session_lifo")(IUTConfig(CampaignConfig().backends))
    with pytest.raises(AdapterError, match="not callable"):
        load_factory("properties.conformance.campaign:DEFAULT_BACKENDS")


def test_progress_goes_to_stderr() -> None:
    result = CliRunner().invoke(cli, ["conform", "--adapter", "properties.conformance.adapter:reference", "-n", "5"])
    assert result.exit_code == 0
    assert "conformance" in result.stderr and "conformance" not in result.stdout


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(drawn=sequences(DEFAULT_BACKENDS))
def test_written_scenarios_replay_exactly_under_simulate(drawn: tuple[list[Op], float]) -> None:
    ops, end = drawn
    config = CampaignConfig(interpretation=Interpretation.of(IDLE_DEVICE="work_conserving"))
    finding = Finding("divergence", "test", ("JOB-TERMINAL",), tuple(ops), end + 100, "here", [], config)
    simulated = MemoryTrace()
    run_scenario(parse_scenario(json.loads(json.dumps(finding.scenario()))), simulated)
    assert simulated.jsonl() == "".join(dumps(r) + "\n" for r in finding.expected())


def _documented_requests() -> list[dict[str, Any]]:
    """The operation requests of the protocol section of docs/conformance.md, as JSON objects."""
    text = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    section = text[text.index("### The JSON-lines protocol"):text.index("## The pytest plugin")]
    requests: list[dict[str, Any]] = []
    pending = ""
    for line in section.splitlines():
        if line.startswith("-> "):
            pending = line[3:]
        elif pending and line.startswith("    "):
            pending += " " + line.strip()
        else:
            pending = ""
            continue
        if pending.count("{") == pending.count("}"):
            if not any(f'"op": "{control}"' in pending for control in ("init", "quit")):
                requests.append(json.loads(pending[: pending.rindex("}") + 1]))
            pending = ""
    return requests


def test_the_documented_protocol_requests_are_the_records_encoding() -> None:
    """Every operation request of the documented protocol decodes into its record and encodes back the same:
    the same fields, null included, in the same order (existing implementations keep working)."""
    documented = _documented_requests()
    assert {r["op"] for r in documented} == {str(cls.__struct_config__.tag) for cls in ACTIONS}
    assert [r.get("mode") for r in documented if r["op"] == "open"] == [None, "batch"]  # a platform batch too
    for obj in documented:
        encoded = request_json(decode_request(obj))
        assert list(encoded) == list(obj) and encoded == obj


def test_the_stdio_iut_sends_the_records_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[dict[str, Any], str]] = []
    iut = StdioIUT(StdioFactory(["true"]))
    monkeypatch.setattr(iut, "request", lambda payload, what: sent.append((dict(payload), what)))
    for op in (Open(backend="b0", session="s1"), Submit(session="s1", job="j1", duration=10, fault=False),
               Cancel(job="j1"), Close(session="s1"), Fault(backend="b0"), Advance(seconds=12.5)):
        apply(iut, op)
    assert sent[0] == ({"op": "open", "backend": "b0", "session": "s1", "max_time": None}, "open")
    assert sent[1] == ({"op": "submit", "session": "s1", "backend": None, "job": "j1", "max_execution_time": None,
                        "duration": 10, "fault": False}, "submit")
    assert [what for _, what in sent] == ["open", "submit", "cancel", "close", "fault", "advance"]
    assert sent[-1][0] == {"op": "advance", "seconds": 12.5}


class _Exits(EngineIUT):
    """An implementation that calls sys.exit(0) on its first submit: a false pass if it got through."""

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        sys.exit(0)


def exits(config: IUTConfig) -> _Exits:
    return _Exits(config)


def test_an_adapter_that_calls_sys_exit_is_a_finding_not_a_pass() -> None:
    result = CliRunner().invoke(cli, ["conform", "--adapter", "tests.test_conform:exits", "-n", "20"])
    assert result.exit_code == 1, result.output
    assert "the IUT raised SystemExit" in result.output, result.output


def test_conform_default_runs_the_prelude_then_the_campaign_by_coverage_and_says_so() -> None:
    result = CliRunner().invoke(cli, ["conform", "--adapter", "properties.conformance.adapter:reference"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("exhaustive prelude: every sequence up to depth 3, ")
    assert lines[0].split("(")[0].endswith("no finding ")
    assert lines[1].startswith("conforms: ") and "s CPU)" in lines[1]
    assert lines[1].endswith("every reachable situation exercised at least 10 times")
    covered = lines[2].split()
    assert covered[0] == "coverage:" and covered[1] == covered[3]  # "coverage: N of N situations exercised"
    assert "never reached" not in result.stdout


def test_the_budget_counts_the_cpu_of_a_stdio_child() -> None:
    from properties.conformance.campaign import Budget

    factory = StdioFactory([PYTHON, *EXAMPLE], timeout=20)
    try:
        budget = Budget(factory, cpu_cap=1e-9, wall_cap=1e9)
        assert factory.cpu_seconds() == 0.0  # no child yet
        result = run_campaign(factory, examples=5, seed=0, budget=budget)
        assert result.finding is None and result.cpu_seconds is not None
        assert budget.exhausted() == "the 1e-09 s CPU cap"
        factory(CampaignConfig().iut_config())  # a fresh child, started and initialised: it has used CPU
        assert factory.cpu_seconds() > 0.0
    finally:
        factory.close()
    assert factory.cpu_seconds() == 0.0
    wall = Budget(reference, cpu_cap=1e9, wall_cap=0.0)
    assert wall.exhausted() == "the 0 s wall-clock backstop"


def test_an_adapter_beside_the_user_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--adapter myimpl:make`` finds ./myimpl.py, as ``python -m`` would (the console script alone does not)."""
    (tmp_path / "sessionspec_beside_user.py").write_text(
        "from properties.conformance.adapter import reference as make\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    result = CliRunner().invoke(cli, ["conform", "--adapter", "sessionspec_beside_user:make", "-n", "3"])
    assert result.exit_code == 0, result.output
