"""pytest plugin (entry point ``pytest11``: ``sessionspec``): a conformance campaign as a test.

Name the implementation under test with a marker (or on the command line) and ask for
the ``sessionspec_conformance`` fixture::

    import pytest

    @pytest.mark.sessionspec_adapter("mypkg.iut:make_iut")      # in process
    def test_conforms(sessionspec_conformance):
        sessionspec_conformance.check()

    @pytest.mark.sessionspec_adapter(cmd="./my-scheduler --stdio")   # out of process
    def test_binary_conforms(sessionspec_conformance):
        sessionspec_conformance.check(examples=50)

A finding fails the test like any assertion, with the shrunk scenario as the message.
``check(backends=[...])`` keeps some of the campaign's backends only: campaigns split by
backend (``pytest.mark.parametrize``) run in parallel under pytest-xdist.
Hypothesis' example database (the active settings profile's) remembers failing
sequences and replays them first next time, as for any Hypothesis test. On CI
Hypothesis loads its built-in ``ci`` profile, which has no database: each run then
searches afresh (load a profile with a database to keep them).

Options: ``--sessionspec-adapter MODULE:FACTORY`` / ``--sessionspec-cmd COMMAND`` (for
tests without the marker), ``--sessionspec-examples N``, ``--sessionspec-seed S``,
``--sessionspec-interpretation ID=OPTION`` (repeatable), ``--sessionspec-profile NAME`` (seeds or
platform; ``check(profile=...)`` too), ``--sessionspec-timeout SECONDS``,
``--sessionspec-out DIR`` (write each counterexample's scenario and traces there),
``--sessionspec-workers N`` / ``--sessionspec-scheduler ADDRESS`` (where :meth:`Conformance.sweep`'s
campaigns run: a local Dask cluster, or a running one).

Many campaigns at once (seeds x interpretations x backends), one merged verdict::

    def test_conforms_everywhere(sessionspec_conformance):
        sessionspec_conformance.sweep(seeds=range(4), examples=100)   # every interpretation profile
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from properties.conformance.campaign import CampaignResult
    from properties.conformance.iut import Factory
    from properties.conformance.sweep import SweepResult

MARKER = "sessionspec_adapter"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sessionspec", "sessionspec conformance campaigns")
    group.addoption("--sessionspec-adapter", metavar="MODULE:FACTORY", help="IUT factory for unmarked tests")
    group.addoption("--sessionspec-cmd", metavar="COMMAND", help="out-of-process IUT for unmarked tests")
    group.addoption("--sessionspec-examples", type=int, default=None, metavar="N",
                    help="operation sequences per campaign (default: conform's coverage budget)")
    group.addoption("--sessionspec-seed", type=int, default=None, metavar="S",
                    help="Hypothesis seed (default: random, as for other Hypothesis tests)")
    group.addoption("--sessionspec-interpretation", action="append", default=[], metavar="ID=OPTION",
                    help="interpretation choice (repeatable)")
    group.addoption("--sessionspec-profile", default=None, metavar="NAME",
                    help="the rule set: seeds (default) or platform")
    group.addoption("--sessionspec-timeout", type=float, default=10.0, metavar="SECONDS",
                    help="wall-clock seconds per operation for an out-of-process IUT")
    group.addoption("--sessionspec-out", metavar="DIR", help="write counterexamples (scenario, traces) here")
    group.addoption("--sessionspec-workers", type=int, default=None, metavar="N",
                    help="run sweep()'s campaigns on a local Dask cluster of N worker processes")
    group.addoption("--sessionspec-scheduler", metavar="ADDRESS", default=None,
                    help="run sweep()'s campaigns on this Dask scheduler's workers")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(spec=None, *, cmd=None): the implementation the sessionspec_conformance fixture checks "
        "(an in-process factory MODULE:FACTORY, or a command speaking the JSON-lines protocol)",
    )


class Conformance:
    """What the fixture gives a test: :meth:`check` runs one campaign and fails the test on a finding."""

    def __init__(self, factory: Factory, key: str, options: pytest.Config, out: Path | None) -> None:
        self.factory = factory
        self.key = key
        self._options = options
        self._out = out

    def check(
        self, *, examples: int | None = None, seed: int | None = None, interpretation: Mapping[str, str] | None = None,
        backends: Sequence[str] | None = None, profile: str | None = None,
    ) -> CampaignResult:
        """Run one campaign. ``backends``: the names of the campaign's backends to keep (default: all of
        them); per-backend schedulers are independent, so campaigns split by backend can run in parallel
        (``pytest -n``, with pytest-xdist) and together test what one campaign over all of them does."""
        from hypothesis import settings

        from model.spec.interpretations import Interpretation, InterpretationError, parse_choices
        from properties.conformance.campaign import CampaignConfig
        from properties.conformance.prelude import run_conformance

        try:
            rules = profile or self._options.getoption("--sessionspec-profile")
            choices = parse_choices(self._options.getoption("--sessionspec-interpretation"), rules)
            choices.update(interpretation or {})
            config = CampaignConfig(interpretation=Interpretation(choices))
        except InterpretationError as error:
            pytest.fail(f"sessionspec: {error}", pytrace=False)
        if backends is not None:
            known = [backend.name for backend in config.backends]
            unknown = [name for name in backends if name not in known]
            if unknown or not backends:
                pytest.fail(f"sessionspec: backends {list(backends)!r}: name one or more of {known}", pytrace=False)
            config = replace(config, backends=tuple(b for b in config.backends if b.name in backends))
        result = run_conformance(
            self.factory, config,
            examples=examples or self._options.getoption("--sessionspec-examples"),
            seed=seed if seed is not None else self._options.getoption("--sessionspec-seed"),
            database=settings().database, key=self.key,
        )
        finding = result.finding
        if finding is not None:
            message = f"{self.key} does not conform to the session spec ({result.summary()})\n{finding.report()}"
            if self._out is not None:
                written = finding.write(self._out)
                message += "\nwrote " + ", ".join(str(p) for p in written)
            pytest.fail(message, pytrace=False)
        return result

    def sweep(
        self, *, seeds: Sequence[int] = (0,), interpretations: Sequence[Mapping[str, str]] | None = None,
        split_backends: bool = False, examples: int | None = None, profile: str | None = None,
    ) -> SweepResult:
        """Run many campaigns (``seeds`` x ``interpretations`` x backends if ``split_backends``) on the workers
        of ``--sessionspec-workers``/``--sessionspec-scheduler`` (this process without them) and fail the test
        with the merged table and the first finding in its order. ``interpretations`` default: the default
        and every alternative option of ``profile`` (or ``--sessionspec-profile``'s, if given), else of every
        profile."""
        from model.spec.interpretations import InterpretationError
        from properties.conformance.sweep import every_interpretation, run_sweep, tasks
        from properties.scale.cluster import ClusterError, pool

        rules: str | None = profile or self._options.getoption("--sessionspec-profile")
        budget = examples or self._options.getoption("--sessionspec-examples")
        try:
            chosen = every_interpretation(rules) if interpretations is None else interpretations
            campaigns = tasks(seeds, chosen, split_backends, budget, self.key, rules)
        except InterpretationError as error:
            pytest.fail(f"sessionspec: {error}", pytrace=False)
        try:
            with pool(self._options.getoption("--sessionspec-workers"),
                      self._options.getoption("--sessionspec-scheduler")) as workers:
                result = run_sweep(self.factory, campaigns, workers)
        except ClusterError as error:
            pytest.fail(f"sessionspec: {error}", pytrace=False)
        first = result.finding
        if first is not None and first.finding is not None:
            message = (f"{self.key} does not conform to the session spec\n{result.report()}\n"
                       f"first finding: {first.task.label}\n{first.finding.report()}")
            if self._out is not None:
                written = first.finding.write(self._out)
                message += "\nwrote " + ", ".join(str(p) for p in written)
            pytest.fail(message, pytrace=False)
        return result


@pytest.fixture
def sessionspec_conformance(request: pytest.FixtureRequest) -> Conformance:
    """A conformance campaign against the IUT named by the ``sessionspec_adapter`` marker or options."""
    from properties.conformance.adapter import AdapterError, factory_for

    options = request.config
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        adapter = marker.args[0] if marker.args else marker.kwargs.get("spec")
        cmd = marker.kwargs.get("cmd")
    else:
        adapter = options.getoption("--sessionspec-adapter")
        cmd = options.getoption("--sessionspec-cmd")
    if (adapter is None) == (cmd is None):
        pytest.fail(
            f"sessionspec: name the IUT with @pytest.mark.{MARKER}('module:factory') or (cmd='...'), "
            "or with --sessionspec-adapter / --sessionspec-cmd",
            pytrace=False,
        )
    try:
        factory = factory_for(adapter=adapter, cmd=cmd, timeout=options.getoption("--sessionspec-timeout"))
    except AdapterError as error:
        pytest.fail(f"sessionspec: {error}", pytrace=False)
    out = options.getoption("--sessionspec-out")
    return Conformance(factory, str(adapter or cmd), options, Path(out) if out else None)
