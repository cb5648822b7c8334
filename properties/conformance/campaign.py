"""Live differential conformance: generated operation sequences, run on the IUT and the spec.

Each example is a sequence of operations (:mod:`.ops`) applied, one by one, to a fresh
IUT; after every operation the IUT's new trace records are judged by the one judge
(:mod:`.judge`, which ``sessionspec check`` calls too), so a finding is what ``check``
finds first on the trace written from it: the same line, the same rules. Hypothesis
generates the sequences and shrinks a failing one to a minimal scenario, which
:class:`Finding` prints and writes in the scenario format with the expected (reference)
and actual (IUT) traces, each ended by the end-of-run line.

An IUT that raises, answers garbage, dies or hangs is a finding too. A hang costs a
timeout per run, so it is reported as found, without shrinking.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import msgspec
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.database import ExampleDatabase
from hypothesis.errors import Flaky

from model.sim.devices import BackendConfig
from model.sim.engine import Engine
from model.sim.ops import (
    Action,
    Advance,
    Cancel,
    Close,
    Open,
    Submit,
    apply,
    run_operations,
    scenario_json,
)
from model.spec.interpretations import DEFAULT, Interpretation, InterpretationError, interpretation_of
from model.spec.validations import RequestRejected
from model.trace import Change, End, Header, MemoryTrace, Record, Request, Unusable, dumps, from_json, to_json
from model.trace.timing import goes_back, time_text
from model.views.output import write_whole
from properties.conformance.coverage import Coverage
from properties.conformance.draws import Op, sequences
from properties.conformance.inputs import DeviceInputs
from properties.conformance.iut import IUT, Factory, IUTConfig, IUTFailure
from properties.conformance.judge import Found, Judge, Verdict, verdict
from properties.conformance.reader import header_of
from properties.conformance.render import describe

DEFAULT_BACKENDS = (
    BackendConfig("b0", system_max_time=1800.0, program_max_execution_time=400.0),
    BackendConfig("b1", system_max_time=3600.0, program_max_execution_time=900.0),
)
"""Small limits, so that generated sequences reach max_time and max_execution_time."""


@dataclass(frozen=True)
class CampaignConfig:
    backends: tuple[BackendConfig, ...] = DEFAULT_BACKENDS
    interpretation: Interpretation = field(default_factory=lambda: DEFAULT)
    max_ops: int = 25
    flush: float = 2000.0
    """Virtual seconds run after the last operation, so that pending timers fire."""

    def iut_config(self) -> IUTConfig:
        return IUTConfig(self.backends, self.interpretation)


@dataclass
class Finding:
    """One way the IUT departs from the spec, with the scenario that shows it."""

    kind: str
    message: str
    rules: tuple[str, ...]
    ops: tuple[Op, ...]
    until: float
    where: str
    actual: list[Record]
    config: CampaignConfig
    note: str = ""
    line: int | None = None
    """The line of actual.jsonl where ``sessionspec check`` finds the same (for a divergence or a property)."""
    end: float | None = None
    """The time the IUT's run was driven to (the end line of actual.jsonl), if it got there."""

    def expected(self) -> list[Record]:
        """The reference engine's trace of the whole scenario (what ``sessionspec simulate`` writes)."""
        trace = MemoryTrace()
        engine = Engine(list(self.config.backends), interpretation=self.config.interpretation, sink=trace)
        run_operations(engine, self.ops)
        engine.run(until=self.until)
        return list(trace)

    def scenario(self) -> dict[str, Any]:
        return {
            "version": 1,
            "description": f"conformance counterexample ({self.kind}): {self.message}",
            "seed": 0,
            "profile": self.config.interpretation.profile,
            "interpretation": self.config.interpretation.differences(),
            "backends": [
                {"name": b.name, "system_max_time": b.system_max_time,
                 "program_max_execution_time": b.program_max_execution_time}
                for b in self.config.backends
            ],
            "operations": [scenario_json(op) for op in self.ops],
            "until": self.until,
        }

    @property
    def cited(self) -> str:
        return f" [{', '.join(self.rules)}]" if self.rules else ""

    def report(self) -> str:
        interpretation = self.config.interpretation.name
        backends = ", ".join(
            f"{b.name} (system_max_time {time_text(b.system_max_time)} s, program max_execution_time "
            f"{time_text(b.default_max_execution_time)} s)" for b in self.config.backends
        )
        lines = [
            f"Minimal failing scenario ({len(self.ops)} operations; interpretation {interpretation}; {backends}):",
            *(f"  t={op.at:<7g} {op.describe()}" for op in self.ops),
            f"  then run to t={time_text(self.until)}",
            f"Finding ({self.kind}) {self.where}{self.cited}: {self.message}",
        ]
        if self.line is not None:
            lines.append(f"  (line {self.line} of the IUT's trace, actual.jsonl)")
        if self.note:
            lines.append(f"Note: {self.note}")
        return "\n".join(lines)

    def write(self, out: Path) -> list[Path]:
        """scenario.json, expected.jsonl and actual.jsonl in ``out`` (created if needed), and the
        timelines of both runs (expected.png, actual.png) so the divergence can be seen."""
        from model.views.timeline_plot import TimelineError, render_timeline  # matplotlib: only when drawing

        out.mkdir(parents=True, exist_ok=True)
        scenario = out / "scenario.json"
        write_whole(scenario, json.dumps(self.scenario(), indent=2) + "\n")
        expected_records = self.expected()
        expected = out / "expected.jsonl"
        write_whole(expected, MemoryTrace(expected_records).jsonl(end=self.until))
        actual = out / "actual.jsonl"
        ending = [End(self.end)] if self.end is not None else []
        write_whole(actual, "".join(dumps(r) + "\n" for r in [*self.actual, *ending]))
        written = [scenario, expected, actual]
        for name, records in (("expected", expected_records), ("actual", self.actual)):
            try:
                written.append(render_timeline(records, out / f"{name}.png", end=self.until))
            except (TimelineError, ValueError) as error:
                self.note = f"{self.note + '; ' if self.note else ''}no {name} timeline: {error}"
        return written


# ---------------------------------------------------------------------- one example


class _Mismatch(Exception):
    def __init__(self, message: str, rules: tuple[str, ...], line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rules = rules
        self.line = line


def _drive(iut: IUT, op: Action) -> None:
    """Apply one operation to the IUT: a rejection is no finding, anything else it raises is."""
    try:
        apply(iut, op)
    except RequestRejected:
        return
    except IUTFailure:
        raise
    except (Exception, SystemExit) as error:  # whatever the IUT raises is a finding; sys.exit() too, never a pass
        raise IUTFailure("error", f"the IUT raised {type(error).__name__}: {error}") from None


def expected_header(config: CampaignConfig) -> Header:
    """The header the reference engine writes for this configuration (built once per configuration)."""
    key = (config.backends, config.interpretation)
    header = _HEADERS.get(key)
    if header is None:
        trace = MemoryTrace()
        Engine(list(config.backends), interpretation=config.interpretation, sink=trace)
        first = trace[0]
        assert isinstance(first, Header)
        header = _HEADERS[key] = first
    return header


_HEADERS: dict[tuple[tuple[BackendConfig, ...], Interpretation], Header] = {}



def _filled(header: Header) -> tuple[str, dict[str, str]] | None:
    """A header's profile and choices with every point it leaves out at its default (None: not valid)."""
    try:
        return header.profile, dict(interpretation_of(header.interpretation, header.profile))
    except InterpretationError:
        return None


class _Run:
    """The IUT driven through a scenario, its trace judged as it comes by the one judge
    (:mod:`.judge`), exactly as ``sessionspec check`` judges the trace file written from it:
    a finding is at the same line, citing the same rules."""

    def __init__(self, iut: IUT, config: CampaignConfig) -> None:
        self.iut = iut
        self.config = config
        self.actual: list[Record] = []
        self.judge: Judge | None = None
        self.last_t = 0.0
        self.iut_now = 0.0
        self.applied = 0
        self.reached: float | None = None
        """The time the IUT's run was driven to, once driven to its end."""
        self.inputs = DeviceInputs()
        """What the kit has told the IUT's device so far: the judge decides the device's job ends from it."""

    def _drain(self) -> list[Record]:
        try:
            events = list(self.iut.events())
        except IUTFailure:
            raise
        except (Exception, SystemExit) as error:
            raise IUTFailure("error", f"the IUT's events() raised {type(error).__name__}: {error}") from None
        fresh: list[Record] = []
        for index, event in enumerate(events):
            try:
                obj = to_json(event) if isinstance(event, Header | Request | Change | End) else event
                record = from_json(obj, index + 1)
            except Unusable as error:
                raise IUTFailure("garbage", f"event {index} is not a trace record: {error.reason}") from None
            except (TypeError, KeyError, ValueError, AttributeError) as error:
                raise IUTFailure("garbage", f"event {index} is not a trace record: {error!r}") from None
            if not isinstance(record, End):  # the harness, not the IUT, says where the run ends
                fresh.append(record)
        self.actual.extend(fresh)
        return fresh

    def start(self) -> None:
        got = self._drain()
        expected = expected_header(self.config)
        if not got or not isinstance(got[0], Header):
            raise _Mismatch("the IUT's trace does not start with a header", (), 1)
        header = got[0]
        # a point at its default may be left out or listed: compared with the defaults filled in, as check reads it
        if header.profile != expected.profile:  # (the same choices may read differently under another profile)
            raise _Mismatch(f"header profile {header.profile}; the spec expected {expected.profile} (a header without "
                            "\"profile\" is seeds)", (), 1)
        if _filled(header) != _filled(expected):
            raise _Mismatch(f"header interpretation {dict(header.interpretation)}; the spec expected "
                            f"{dict(expected.interpretation)}", (), 1)
        if {k: dict(v) for k, v in header.backends.items()} != {k: dict(v) for k, v in expected.backends.items()}:
            raise _Mismatch(f"header backends {dict(header.backends)}; the spec expected "
                            f"{dict(expected.backends)}", (), 1)
        checked, interpretation = header_of([(1, header)], {})
        self.judge = Judge(checked, interpretation, inputs=self.inputs)
        self._verdict(self.judge.start())
        self._judge(got[1:])

    def step(self, op: Op) -> None:
        if op.at > self.iut_now:
            self._advance_iut(op.at)
            self._judge(self._drain())
        self.applied += 1
        self.inputs.add(op)
        _drive(self.iut, op)
        self._judge(self._drain())

    def finish(self, until: float) -> None:
        if until > self.iut_now:
            self._advance_iut(until)
            self._judge(self._drain())
        self.reached = until
        assert self.judge is not None
        try:
            found = self.judge.finish(until)
        except Unusable as error:  # the reference cannot replay the IUT's records to the end
            raise _Mismatch(error.reason, (), error.line) from None
        self._verdict(found)

    def _advance_iut(self, to: float) -> None:
        seconds, self.iut_now = to - self.iut_now, to
        _drive(self.iut, Advance(seconds=seconds))

    def complete(self, ops: Sequence[Op], until: float) -> None:
        """Drive the IUT through the rest of the scenario unjudged, so that actual.jsonl is whole."""
        try:
            for op in ops[self.applied :]:
                if op.at > self.iut_now:
                    self._advance_iut(op.at)
                _drive(self.iut, op)
            if until > self.iut_now:
                self._advance_iut(until)
            self._drain()
            self.reached = until
        except IUTFailure:
            pass

    def _judge(self, got: list[Record]) -> None:
        """Judge the records the IUT just gave (the last ones of ``actual``; line n is ``actual[n - 1]``)."""
        first_line = len(self.actual) - len(got) + 1
        body: list[tuple[int, Request | Change]] = []
        for line, record in enumerate(got, start=first_line):
            if isinstance(record, Header):
                raise _Mismatch("a second header in the IUT's trace", (), line)
            if goes_back(record.t, self.last_t):  # as the offline reader: a step back within float noise is one instant
                raise _Mismatch(
                    f"time goes back from t={time_text(self.last_t)} to t={time_text(record.t)} at {describe(record)}",
                    (), line,
                )
            if record.t > self.last_t:
                self.last_t = record.t
            body.append((line, record))
        assert self.judge is not None
        try:
            found = self.judge.feed(body)
        except Unusable as error:  # a record the header rules out (an undeclared backend, an unknown id)
            raise _Mismatch(error.reason, (), error.line) from None
        self._verdict(found)

    @staticmethod
    def _verdict(found: list[Found]) -> None:
        judged = verdict(found)
        if judged is not None:
            raise _Judged(judged)


class _Judged(_Mismatch):
    """The judge's verdict on the IUT's trace."""

    def __init__(self, judged: Verdict) -> None:
        super().__init__(judged.message, judged.rules, judged.line)
        self.kind = judged.kind


def execute(
    ops: Sequence[Op], until: float, factory: Factory, config: CampaignConfig, coverage: Coverage | None = None,
) -> Finding | None:
    """Run one example; the finding, or None if the IUT matched the spec throughout. ``coverage``
    observes the trace the IUT wrote (judged record by record against the reference: where it
    conforms, it is the reference's trace)."""
    runs: list[_Run] = []
    try:
        return _execute(ops, until, factory, config, runs)
    finally:
        if coverage is not None and runs:
            coverage.observe_all(runs[0].actual)


def _execute(
    ops: Sequence[Op], until: float, factory: Factory, config: CampaignConfig, holder: list[_Run],
) -> Finding | None:
    run: _Run | None = None
    where = "when creating the IUT"
    try:
        try:
            iut = factory(config.iut_config())
        except IUTFailure:
            raise
        except (Exception, SystemExit) as error:  # the factory is the IUT's code too
            raise IUTFailure("error", f"the IUT factory raised {type(error).__name__}: {error}") from None
        run = _Run(iut, config)
        holder.append(run)
        where = "at the header"
        run.start()
        for index, op in enumerate(ops):
            where = f"at operation {index + 1} (t={time_text(op.at)} {op.describe()})"
            run.step(op)
        where = f"running on to t={time_text(until)}"
        run.finish(until)
    except _Mismatch as mismatch:
        assert run is not None
        run.complete(ops, until)
        kind = mismatch.kind if isinstance(mismatch, _Judged) else "divergence"
        return Finding(kind, mismatch.message, mismatch.rules, tuple(ops), until, where, run.actual, config,
                       line=mismatch.line, end=run.reached)
    except IUTFailure as failure:
        actual = run.actual if run is not None else []
        return Finding(failure.kind, failure.message, (), tuple(ops), until, where, actual, config)
    return None


def minimize(finding: Finding, factory: Factory, config: CampaignConfig, budget: int = 400) -> Finding:
    """Finish Hypothesis' shrinking on the concrete scenario: drop every operation the finding
    does not need (greedy, one at a time), make each remaining one as plain as the finding allows
    (a composite draw, such as jobs whose runs add up to a session's max_time, comes whole out of
    Hypothesis), then renumber IDs in order of first use."""
    if finding.kind == "timeout":
        return finding
    ops = list(finding.ops)
    changed = True
    while changed and budget > 0:
        changed = False
        for index in range(len(ops)):
            budget -= 1
            candidate = ops[:index] + ops[index + 1 :]
            found = execute(candidate, finding.until, factory, config)
            if found is not None and found.kind == finding.kind:
                ops, finding, changed = candidate, found, True
                break
        if changed:
            continue
        for index, op in enumerate(ops):
            plain = _plainer(op)
            if plain is None or budget <= 0:
                continue
            budget -= 1
            candidate = [*ops[:index], plain, *ops[index + 1 :]]
            found = execute(candidate, finding.until, factory, config)
            if found is not None and found.kind == finding.kind:
                ops, finding, changed = candidate, found, True
                break
    renamed = _renumber(ops)
    if renamed != ops:
        found = execute(renamed, finding.until, factory, config)
        if found is not None and found.kind == finding.kind:
            finding = found
    return finding


PLAIN_DURATION = 10.0
"""The run of a job made plain by :func:`minimize` (the generator's shortest common one)."""


def _plainer(op: Op) -> Op | None:
    """``op`` made plainer (an open with the default max_time; a submit of a short job that ends
    normally, with no max_execution_time of its own), or None if it is plain already."""
    if isinstance(op, Open) and op.max_time is not None:
        return msgspec.structs.replace(op, max_time=None)
    if isinstance(op, Submit) and (op.duration != PLAIN_DURATION or op.fault or op.max_execution_time is not None):
        return msgspec.structs.replace(op, duration=PLAIN_DURATION, fault=False, max_execution_time=None)
    return None


def _renumber(ops: Sequence[Op]) -> list[Op]:
    names: dict[str, str] = {}

    def rename(value: str, prefix: str) -> str:
        if not value[1:].isdigit() or value == f"{prefix}0":
            return value  # "s0"/"j0" stand for IDs that do not exist
        if value not in names:
            names[value] = f"{prefix}{sum(1 for v in names.values() if v[0] == prefix) + 1}"
        return names[value]

    def maybe(value: str | None, prefix: str) -> str | None:
        return None if value is None else rename(value, prefix)

    def renamed(op: Op) -> Op:
        if isinstance(op, Open):
            return msgspec.structs.replace(op, session=maybe(op.session, "s"))
        if isinstance(op, Close):
            return msgspec.structs.replace(op, session=rename(op.session, "s"))
        if isinstance(op, Submit):
            return msgspec.structs.replace(op, session=maybe(op.session, "s"), job=maybe(op.job, "j"))
        if isinstance(op, Cancel):
            return msgspec.structs.replace(op, job=rename(op.job, "j"))
        return op

    return [renamed(op) for op in ops]


# ---------------------------------------------------------------------- the campaign


ROUND = 50
"""Examples per Hypothesis run of a coverage-driven campaign; each round has its own seed (seed, seed+1, ...)."""
COVERAGE_TARGET = 10
"""How many times a coverage-driven campaign exercises every reachable situation."""
TIME_CAP = 25.0
"""CPU seconds (the kit's and the IUT's together) after which a coverage-driven campaign stops, covered
or not (it says so). CPU, not wall-clock, time: a loaded machine slows a campaign down but does not
change how far it gets, so the verdict of a seed does not depend on the load."""
WALL_CAP = 300.0
"""Wall-clock seconds after which a coverage-driven campaign stops whatever its CPU use: the backstop
for an IUT that waits rather than computes (it says so)."""


class Budget:
    """The CPU time of the kit and of the IUT's processes since the budget was made, against a cap,
    with a wall-clock backstop.

    The kit's CPU is its process time plus the children it has reaped (an IUT child that ended); a
    running IUT child is read from the factory's ``cpu_seconds()`` if it has one (a stdio IUT's child,
    from ``/proc``). An in-process IUT's CPU is the kit's."""

    def __init__(self, factory: Factory, cpu_cap: float = TIME_CAP, wall_cap: float = WALL_CAP) -> None:
        self.cpu_cap = cpu_cap
        self.wall_cap = wall_cap
        self._live = getattr(factory, "cpu_seconds", None)
        self._cpu0 = self._cpu()
        self._wall0 = time.perf_counter()

    def _cpu(self) -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        live = self._live() if callable(self._live) else 0.0
        return time.process_time() + children.ru_utime + children.ru_stime + float(live)

    def cpu(self) -> float:
        return self._cpu() - self._cpu0

    def wall(self) -> float:
        return time.perf_counter() - self._wall0

    def exhausted(self) -> str:
        """Why the budget is spent ("the 25 s CPU cap", "the 300 s wall-clock backstop"), or empty."""
        if self.cpu() > self.cpu_cap:
            return f"the {time_text(self.cpu_cap)} s CPU cap"
        if self.wall() > self.wall_cap:
            return f"the {time_text(self.wall_cap)} s wall-clock backstop"
        return ""


@dataclass(frozen=True)
class PreludeSummary:
    """What the exhaustive prelude of a default campaign did (:mod:`.prelude`)."""

    depth: int
    explored: int
    distinct: int
    seconds: float
    found: bool

    def line(self) -> str:
        outcome = "a finding" if self.found else "no finding"
        return (f"exhaustive prelude: every sequence up to depth {self.depth}, {self.explored} sequences, "
                f"{self.distinct} distinct states, {outcome} ({self.seconds:.1f} s)")


@dataclass
class CampaignResult:
    examples: int
    first_failure: int | None
    seconds: float
    seconds_to_failure: float | None
    finding: Finding | None
    coverage: Coverage | None = None
    """What the reference side exercised over the examples run."""
    target: int | None = None
    """The coverage target of a coverage-driven campaign (None: a campaign of an explicit count)."""
    capped: str = ""
    """Why a coverage-driven campaign stopped before reaching its target ("the 25 s CPU cap", ...), or empty."""
    cpu_seconds: float | None = None
    """CPU seconds of the kit and the IUT (see :class:`Budget`)."""
    prelude: PreludeSummary | None = None

    def summary(self) -> str:
        head = [self.prelude.line()] if self.prelude is not None else []
        if self.finding is not None:
            if self.prelude is not None and self.prelude.found:
                return "\n".join([*head, f"FINDING in the exhaustive prelude after {self.first_failure} sequences "
                                         f"({self.seconds_to_failure or 0:.2f} s)"])
            return "\n".join([*head, (
                f"FINDING after {self.first_failure} examples ({self.seconds_to_failure or 0:.2f} s); "
                f"shrunk in {self.seconds:.1f} s total"
            )])
        cpu = f", {self.cpu_seconds:.1f} s CPU" if self.cpu_seconds is not None else ""
        line = f"conforms: {self.examples} examples, no finding ({self.seconds:.1f} s{cpu})"
        if self.target is not None:
            line += (
                f"; stopped at {self.capped} before every situation was exercised {self.target} times"
                if self.capped else f"; every reachable situation exercised at least {self.target} times"
            )
        if self.coverage is not None:
            line += "\n" + self.coverage.report()
        return "\n".join([*head, line])


class _Found(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def run_campaign(
    factory: Factory,
    config: CampaignConfig | None = None,
    *,
    examples: int | None = None,
    seed: int | None = 0,
    database: ExampleDatabase | None = None,
    key: str = "",
    progress: bool = False,
    shrink: bool = True,
    target: int = COVERAGE_TARGET,
    time_cap: float = TIME_CAP,
    budget: Budget | None = None,
) -> CampaignResult:
    """Generate operation sequences; stop at the first finding and shrink it (unless ``shrink`` is
    false: a mutation campaign only needs to know that it kills).

    With ``examples`` None (the default) the budget is coverage: rounds of :data:`ROUND` examples
    until every reachable situation of :mod:`properties.conformance.coverage` has been exercised
    ``target`` times, or the kit and the IUT have used ``time_cap`` CPU seconds (``budget``, if given,
    counts from earlier: the prelude's share), or :data:`WALL_CAP` wall-clock seconds have passed.
    Otherwise exactly ``examples`` sequences (fewer if a finding comes first).
    """
    config = config or CampaignConfig()
    coverage = Coverage(config.interpretation)
    started = time.perf_counter()
    budget = budget or Budget(factory, time_cap)
    calls = 0
    first: tuple[int, float] | None = None
    last: Finding | None = None
    abandoned: Finding | None = None
    capped = ""
    bar = (click.progressbar(length=examples, label="conformance", file=sys.stderr)
           if progress and examples is not None else None)

    def one_round(count: int, round_seed: int | None) -> Finding | None:
        nonlocal calls, first, last, abandoned

        @settings(
            max_examples=count, deadline=None, database=database, verbosity=Verbosity.quiet,
            suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
            phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, *((Phase.shrink,) if shrink else ())),
        )
        @given(sequences(config.backends, config.max_ops, config.interpretation))
        def conforms(drawn: tuple[list[Op], float]) -> None:
            nonlocal calls, first, last, abandoned
            if abandoned is not None or (examples is None and first is None and budget.exhausted()):
                return
            calls += 1
            if bar is not None and calls <= count:
                bar.update(1)
            ops, end = drawn
            finding = execute(ops, end + config.flush, factory, config, coverage if first is None else None)
            if finding is None:
                return
            if first is None:
                first = (calls, time.perf_counter() - started)
            last = finding
            if finding.kind == "timeout":
                abandoned = finding
                return
            raise _Found(finding)

        inner: Any = conforms.hypothesis.inner_test  # type: ignore[attr-defined]
        backends = ",".join(backend.name for backend in config.backends)  # a campaign split by backend: its own entries
        inner._hypothesis_internal_add_digest = f"sessionspec:{key}:{config.interpretation.name}:{backends}".encode()
        test = hypothesis_seed(round_seed)(conforms) if round_seed is not None else conforms
        try:
            test()
        except _Found as found:
            return found.finding
        except Flaky:
            if last is not None:
                last.note = "the failure did not reproduce when replayed: the IUT is not deterministic"
            return last
        return None

    finding: Finding | None = None
    try:
        if examples is not None:
            if bar is not None:
                with bar:
                    finding = one_round(examples, seed)
            else:
                finding = one_round(examples, seed)
        else:
            round_index = 0
            while finding is None and abandoned is None and not coverage.complete(target):
                capped = budget.exhausted()
                if capped:
                    break
                finding = one_round(ROUND, None if seed is None else seed + round_index)
                round_index += 1
        if finding is not None and shrink:
            finding = minimize(finding, factory, config)
    finally:
        close = getattr(factory, "close", None)
        if callable(close):
            close()  # an out-of-process IUT's child is stopped, whatever happened
    if finding is None and abandoned is not None:
        finding = abandoned
        finding.note = "not shrunk: every replay of a hang costs the full timeout"
    elapsed = time.perf_counter() - started
    return CampaignResult(
        calls if first is None else first[0], first[0] if first else None, elapsed,
        first[1] if first else None, finding, coverage, target if examples is None else None, capped,
        budget.cpu(),
    )
