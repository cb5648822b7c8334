"""Many conformance campaigns at once (seeds x interpretations x backends), on a pool of workers.

Each campaign is an independent task of plain data (:class:`CampaignTask`: a seed, interpretation
choices, backend names, a budget); the IUT's factory travels with it (an adapter's module
attribute, or ``--cmd``'s command). Results are merged in the order of the tasks, never in the
order they finish: the same table, the same coverage and the same first finding on any number of
workers, provided each campaign is itself deterministic (an explicit ``examples`` count; a
coverage budget may stop at its wall-clock cap on a loaded machine).
"""

from __future__ import annotations

import copy
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from hypothesis.errors import HypothesisDeprecationWarning

from model.spec.interpretations import Choices, Interpretation, all_profiles, parse_choices, profiles
from model.spec.profiles import DEFAULT_PROFILE
from properties.conformance.campaign import CampaignConfig, Finding
from properties.conformance.coverage import Coverage
from properties.conformance.iut import Factory
from properties.conformance.prelude import run_conformance
from properties.scale.cluster import InProcess, Pool, Progress, worker_name


@dataclass(frozen=True)
class CampaignTask:
    """One campaign of a sweep, as plain data."""

    seed: int
    choices: tuple[tuple[str, str], ...] = ()
    """The interpretation's choices that differ from the profile's defaults."""
    profile: str = DEFAULT_PROFILE
    backends: tuple[str, ...] = ()
    """The campaign's backends kept (all of :data:`~properties.conformance.campaign.DEFAULT_BACKENDS` if empty)."""
    examples: int | None = None
    """None: conform's coverage budget."""
    key: str = ""

    @property
    def interpretation(self) -> Interpretation:
        return Interpretation(dict(self.choices), self.profile)

    def config(self) -> CampaignConfig:
        config = CampaignConfig(interpretation=self.interpretation)
        if self.backends:
            config = replace(config, backends=tuple(b for b in config.backends if b.name in self.backends))
        return config

    @property
    def label(self) -> str:
        backends = ",".join(self.backends) if self.backends else "all"
        return f"{self.interpretation.name} / backends {backends} / seed {self.seed}"


@dataclass
class CampaignOutcome:
    """What one campaign gave (plain data, shipped back from a worker)."""

    task: CampaignTask
    examples: int
    finding: Finding | None
    counts: Counter[str]
    capped: str
    """What stopped a coverage-budget campaign before its target (empty if none did)."""
    seconds: float
    worker: str


def tasks(
    seeds: Iterable[int], interpretations: Sequence[Mapping[str, str]] = ({},), split_backends: bool = False,
    examples: int | None = None, key: str = "", profile: str | None = None,
) -> list[CampaignTask]:
    """The product, in a fixed order: interpretation, then backend, then seed. An interpretation is under its
    own profile if it carries one (:class:`~model.spec.interpretations.Choices`), else under ``profile``."""
    backend_sets: list[tuple[str, ...]] = [()]
    if split_backends:
        backend_sets = [(b.name,) for b in CampaignConfig().backends]
    out: list[CampaignTask] = []
    for choices in interpretations:
        rules = getattr(choices, "profile", None) or profile
        full = parse_choices((f"{point}={option}" for point, option in choices.items()), rules)  # INT- optional
        interpretation = Interpretation(full)
        differences = tuple(sorted(interpretation.differences().items()))
        assert interpretation.profile is not None
        for backends in backend_sets:
            out.extend(CampaignTask(seed, differences, interpretation.profile, backends, examples, key)
                       for seed in seeds)
    return out


def every_interpretation(profile: str | None = None) -> list[Choices]:
    """A profile's default and one interpretation per non-default option of its open points (what the test
    campaigns cover); without ``profile``, those of every profile, the seeds' first."""
    chosen = all_profiles() if profile is None else profiles(profile)
    assert all(i.profile is not None for i in chosen.values())
    return [Choices(i.differences(), i.profile or "") for i in chosen.values()]


def run_task(task: CampaignTask, factory: Factory) -> CampaignOutcome:
    """One campaign as ``conform`` runs it (with its exhaustive prelude under the coverage budget), on whichever
    worker: a copy of the factory of its own (a --cmd copy starts its own child)."""
    own = copy.deepcopy(factory)
    with warnings.catch_warnings():
        # A Dask worker's own threads draw from the global `random` while Hypothesis generates, which it
        # takes for the strategy's doing; the campaign's draws are Hypothesis' own, and reproduce.
        warnings.filterwarnings("ignore", "Do not use the `random` module", HypothesisDeprecationWarning)
        result = run_conformance(own, task.config(), examples=task.examples, seed=task.seed, key=task.key)
    counts = Counter(result.coverage.counts) if result.coverage is not None else Counter()
    return CampaignOutcome(task, result.examples, result.finding, counts, result.capped, result.seconds,
                           worker_name())


@dataclass
class SweepResult:
    outcomes: list[CampaignOutcome]
    workers: int

    @property
    def finding(self) -> CampaignOutcome | None:
        """The first campaign, in task order, that found something."""
        return next((o for o in self.outcomes if o.finding is not None), None)

    def coverage(self) -> dict[str, Coverage]:
        """Per interpretation, the coverage of all its campaigns merged."""
        merged: dict[str, Coverage] = {}
        for outcome in self.outcomes:
            interpretation = outcome.task.interpretation
            coverage = merged.setdefault(interpretation.name, Coverage(interpretation))
            coverage.counts.update(outcome.counts)
        return merged

    def report(self) -> str:
        """The table of campaigns (in task order) and the merged coverage: the same whatever the workers."""
        width = max(len(o.task.label) for o in self.outcomes)
        lines = [f"{len(self.outcomes)} campaigns", f"  {'campaign':<{width}}  {'examples':>8}  result"]
        for o in self.outcomes:
            result = "conforms" if o.finding is None else f"FINDING ({o.finding.kind}){o.finding.cited}"
            if o.capped:
                result += f" (stopped at {o.capped})"
            lines.append(f"  {o.task.label:<{width}}  {o.examples:>8}  {result}")
        found = sum(1 for o in self.outcomes if o.finding is not None)
        lines.append(f"{found} of {len(self.outcomes)} campaigns found something; "
                     f"{sum(o.examples for o in self.outcomes)} examples in all")
        for name, coverage in self.coverage().items():
            lines.append(f"[{name}] " + coverage.report())
        return "\n".join(lines)

    def timing(self) -> list[str]:
        """Seconds per worker (machine-dependent: kept apart from the report)."""
        per: dict[str, tuple[int, float]] = {}
        for o in self.outcomes:
            count, seconds = per.get(o.worker, (0, 0.0))
            per[o.worker] = (count + 1, seconds + o.seconds)
        return [f"  worker {name}: {count} campaigns in {seconds:.1f} s"
                for name, (count, seconds) in sorted(per.items())]


def run_sweep(factory: Factory, campaigns: Sequence[CampaignTask], pool: Pool | None = None,
              progress: Progress | None = None) -> SweepResult:
    """Every campaign, spread over ``pool`` (this process by default), merged in task order."""
    chosen = pool or InProcess()
    try:
        outcomes = chosen.map(run_task, list(campaigns), factory, progress=progress)
    finally:
        close = getattr(factory, "close", None)
        if callable(close):
            close()
    return SweepResult(outcomes, chosen.workers)
