"""The conformance kit's commands: ``check``, ``conform`` and ``mutants``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from model.spec.interpretations import Interpretation
from model.trace.timing import time_text
from properties.cli.options import (
    FiniteFloat,
    InputError,
    cluster,
    cluster_options,
    interpretation_option,
    profile_given,
    profile_option,
)


@click.command("check")
@click.argument("trace", type=click.Path(dir_okay=True, path_type=str))
@interpretation_option()
@click.option("--tolerance", type=FiniteFloat(min=0.0), default=0.0, show_default=True,
              help="Seconds a recorded decision may be off the spec's time.")
@click.option("--all", "keep_going", is_flag=True, help="Go on after a divergence, adopting the trace's state.")
@click.option("--until", type=FiniteFloat(min=0.0), default=None,
              help="The virtual time the recorded run went on to (default: its last line's).")
@click.option("--jobs", "-j", type=click.IntRange(1, 1), default=1, hidden=True,
              help="Accepted for scripts that pass it: the check runs in one process.")
@click.option("--coverage", "show_coverage", is_flag=True,
              help="Also print which situations of the coverage model the trace exercises.")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="The scenario the trace was recorded from (conform's scenario.json): its jobs' durations and "
                   "faults and its injected faults make the device's end of each job a decision to judge.")
def check(
    trace: str, interpretation: dict[str, str], tolerance: float, keep_going: bool, until: float | None, jobs: int,
    show_coverage: bool, scenario_path: str | None,
) -> None:
    """Replay TRACE.jsonl against the reference engine and the property catalogue.

    Exit status 0: conforming; 1: a divergence or a property violation; 2: unusable input; 3: a property of
    the kit raised on this trace (an error of the kit: the trace was not fully judged).
    """
    from properties.conformance.checker import check_file

    inputs = None
    if scenario_path is not None:
        from model.sim.scenario import ScenarioError, load_scenario
        from properties.conformance.inputs import DeviceInputs

        try:
            inputs = DeviceInputs.of(load_scenario(scenario_path, profile_given() or _header_profile(trace)))
        except ScenarioError as error:
            raise InputError(str(error)) from None
    report = check_file(
        trace, overrides=interpretation, tolerance=tolerance, keep_going=keep_going, until=until, echo=click.echo,
        profile=profile_given(), inputs=inputs,
    )
    if show_coverage and report.status != 2 and Path(trace).is_file():
        click.echo(_trace_coverage(Path(trace)))
    sys.exit(report.status)


def _header_profile(trace: str) -> str | None:
    """The profile a trace's header line names, which its scenario's operations are read under (a scenario
    written without its profile is still read as the run was); None if the header is unreadable, which the
    check itself then reports."""
    from model.trace import Header, Unusable
    from model.trace.reader import line_record
    from model.trace.strict_json import MAX_LINE

    try:
        with open(trace, "rb") as lines:
            first = lines.readline(MAX_LINE)
        header = line_record(1, first)
    except (OSError, Unusable):
        return None
    return header.profile if isinstance(header, Header) else None


def _trace_coverage(path: Path) -> str:
    """The coverage report of a trace file that ``check`` has read without an input error. A check that stopped
    at a divergence may not have read as far as a bad line: the report then covers the lines before it, and
    says so (the check's verdict and exit status stand)."""
    from model.trace import Header, Unusable, read_trace
    from properties.conformance.coverage import Coverage

    coverage: Coverage | None = None
    stopped = ""
    with path.open("rb") as lines:
        try:
            for _, record in read_trace(lines):
                if coverage is None:
                    coverage = (
                        Coverage(Interpretation(dict(record.interpretation), record.profile))
                        if isinstance(record, Header) else Coverage()
                    )
                coverage.observe(record)
        except Unusable as error:
            stopped = f"\n{path}:{error.line}: unusable input: {error.reason} (the coverage above stops before it)"
    return (coverage or Coverage()).report(verbose=True) + stopped


@click.command("conform")
@click.option("--adapter", metavar="MODULE:FACTORY", help="An in-process IUT: a factory, as module:attribute.")
@click.option("--cmd", metavar="COMMAND", help="An out-of-process IUT speaking the JSON-lines protocol.")
@click.option("--examples", "-n", type=click.IntRange(min=1), default=None,
              help="Random operation sequences to try, and no exhaustive prelude. Default: every sequence "
                   "up to 3 steps, then random ones until every situation of the coverage model has been "
                   "exercised 10 times, within 25 s of CPU (kit and IUT).")
@click.option("--seed", type=int, default=0, show_default=True, help="Hypothesis seed.")
@interpretation_option()
@click.option("--timeout", type=FiniteFloat(min=0.1), default=10.0, show_default=True,
              help="Wall-clock seconds an out-of-process IUT gets per operation.")
@click.option("--coverage", "show_coverage", is_flag=True,
              help="Print how often each situation of the coverage model was exercised.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for the counterexample: scenario.json, expected.jsonl, actual.jsonl.")
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Run this many campaigns, seeds --seed, --seed+1, ...")
@click.option("--all-interpretations", is_flag=True,
              help="Run the campaigns under each profile's default and every alternative interpretation option in "
                   "turn (only --profile's if given).")
@click.option("--split-backends", is_flag=True, help="One campaign per backend instead of one over all of them.")
@cluster_options
def conform(
    adapter: str | None, cmd: str | None, examples: int | None, seed: int, interpretation: dict[str, str],
    timeout: float, out: Path | None, show_coverage: bool, seeds: int, all_interpretations: bool,
    split_backends: bool, workers: int | None, scheduler: str | None,
) -> None:
    """Differential test of an implementation (IUT) against the reference engine.

    With --seeds, --all-interpretations or --split-backends it runs many campaigns, spread over
    --workers or a --scheduler's workers, and prints one merged report (the first finding, in the
    order of the table, is shown and written to --out).

    Exit status 0: no finding; 1: a finding (shown shrunk, written to --out); 2: usage error.
    """
    from properties.conformance.adapter import AdapterError, factory_for
    from properties.conformance.campaign import CampaignConfig, Finding
    from properties.conformance.prelude import run_conformance

    if (adapter is None) == (cmd is None):
        raise InputError("give exactly one of --adapter MODULE:FACTORY or --cmd COMMAND")
    if all_interpretations and interpretation:
        raise InputError("give at most one of --interpretation and --all-interpretations")
    config = CampaignConfig(interpretation=Interpretation(interpretation))
    try:
        factory = factory_for(adapter=adapter, cmd=cmd, timeout=timeout)
    except AdapterError as error:
        raise InputError(str(error)) from None
    finding: Finding | None
    if seeds > 1 or all_interpretations or split_backends or workers is not None or scheduler is not None:
        from properties.conformance.sweep import every_interpretation, run_sweep, tasks

        chosen = every_interpretation(profile_given()) if all_interpretations else [interpretation]
        campaigns = tasks(range(seed, seed + seeds), chosen, split_backends, examples, key=adapter or cmd or "")
        with cluster(workers, scheduler) as pool, click.progressbar(
            length=len(campaigns), label=f"campaigns on {pool.where}", file=sys.stderr,
        ) as bar:
            sweep = run_sweep(factory, campaigns, pool, progress=bar.update)
        click.echo(sweep.report())
        for line in sweep.timing():
            click.echo(line, err=True)
        if show_coverage:
            for name, coverage in sweep.coverage().items():
                click.echo(f"[{name}] " + coverage.report(verbose=True))
        first = sweep.finding
        finding = None if first is None else first.finding
        if first is not None:
            click.echo(f"first finding: {first.task.label}")
    else:
        result = run_conformance(factory, config, examples=examples, seed=seed, progress=True)
        click.echo(result.summary())
        if show_coverage and result.coverage is not None:
            click.echo(result.coverage.report(verbose=True))
        finding = result.finding
    if finding is not None:
        click.echo(finding.report())
        if out is not None:
            try:
                written = finding.write(out)
            except OSError as error:
                # the finding was printed above; the unwritable output is the exit status (2), as for any output
                raise InputError(f"--out {out}: cannot write: {error.strerror or error}") from None
            for path in written:
                click.echo(f"wrote {path}")
            click.echo(
                f"replay: sessionspec simulate {out / 'scenario.json'} --trace expected.jsonl; "
                f"sessionspec check {out / 'actual.jsonl'} --until {time_text(finding.until)} "
                f"--scenario {out / 'scenario.json'}"
            )
        sys.exit(1)


@click.command("mutants")
@click.option("--examples", "-n", type=click.IntRange(min=1), default=None,
              help="Random operation sequences tried per mutant (no prelude). Default: conform's default run.")
@click.option("--seed", type=int, default=0, show_default=True, help="Hypothesis seed.")
@click.option("--only", multiple=True, metavar="NAME", help="Run only these mutants (repeatable).")
@click.option("--no-stdio", is_flag=True, help="Skip the runs through the subprocess protocol.")
@profile_option()
def mutants(examples: int | None, seed: int, only: tuple[str, ...], no_stdio: bool, profile: str) -> None:
    """Run the conformance campaign against every mutant engine of the profile's rules, under that profile,
    and print the kill table.

    Exit status 0: every mutant killed; 1: a mutant survived.
    """
    from properties.conformance.mutants import MUTANTS_BY_NAME, mutation_table, run_mutants

    unknown = [name for name in only if name not in MUTANTS_BY_NAME]
    if unknown:
        raise InputError(f"--only: unknown mutant {unknown[0]!r}; known: {', '.join(MUTANTS_BY_NAME)}")
    rows = run_mutants(examples=examples, seed=seed, only=only, stdio=not no_stdio, progress=True, profile=profile)
    click.echo(mutation_table(rows))
    sys.exit(0 if all(row.killed for row in rows) else 1)
