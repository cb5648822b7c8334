"""The default conformance run: an exhaustive prelude, then the random campaign.

Random sequences find most bugs fast but may miss one that needs a particular short sequence
(a job ending at the very instant its session expires, with another queued). So a default
run (no explicit example count) first enumerates every operation sequence up to
:data:`PRELUDE_DEPTH` steps with :func:`properties.conformance.explore.explore`, differentially
against the IUT and judged by the same judge; its first finding is a shortest one. Only if it
finds nothing does the coverage-driven campaign (:func:`properties.conformance.campaign.run_campaign`)
run, within what is left of the same CPU budget. With an explicit count, exactly that many
random examples run and no prelude.
"""

from __future__ import annotations

from hypothesis.database import ExampleDatabase

from properties.conformance.campaign import (
    COVERAGE_TARGET,
    DEFAULT_BACKENDS,
    TIME_CAP,
    Budget,
    CampaignConfig,
    CampaignResult,
    PreludeSummary,
    run_campaign,
)
from properties.conformance.coverage import Coverage
from properties.conformance.explore import Bounds, ExploreConfig, explore
from properties.conformance.iut import Factory

PRELUDE_DEPTH = 3
"""Steps (operations and waits) of the exhaustive prelude: every sequence up to it is tried (a few
seconds of CPU against the reference)."""


def run_conformance(
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
    prelude_depth: int = PRELUDE_DEPTH,
) -> CampaignResult:
    """``conform``'s run: with ``examples`` None, the prelude (unless ``prelude_depth`` is 0) and then
    the campaign by coverage, both within ``time_cap`` CPU seconds; else exactly ``examples`` examples.

    The prelude explores on the campaign's first backend (``b0``); a campaign without it (one split by
    backend) has no prelude."""
    config = config or CampaignConfig()
    if examples is not None or prelude_depth <= 0 or DEFAULT_BACKENDS[0] not in config.backends:
        return run_campaign(factory, config, examples=examples, seed=seed, database=database, key=key,
                            progress=progress, shrink=shrink, target=target, time_cap=time_cap)
    budget = Budget(factory, time_cap)
    explored = explore(ExploreConfig(Bounds(depth=prelude_depth), interpretation=config.interpretation), factory)
    summary = PreludeSummary(prelude_depth, explored.explored, explored.distinct, explored.seconds,
                             explored.finding is not None)
    if explored.finding is not None:
        return CampaignResult(explored.explored, explored.explored, explored.seconds, explored.seconds,
                              explored.finding, Coverage(config.interpretation), target, "", budget.cpu(), summary)
    result = run_campaign(factory, config, seed=seed, database=database, key=key, progress=progress,
                          shrink=shrink, target=target, budget=budget)
    result.prelude = summary
    result.seconds += explored.seconds
    if result.seconds_to_failure is not None:
        result.seconds_to_failure += explored.seconds
    return result
