"""``sessionspec explore``: small-scope exhaustive exploration of the spec, or of an implementation against it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from model.spec.interpretations import Interpretation
from model.trace.timing import time_text
from properties.cli.options import FiniteFloat, InputError, cluster, cluster_options, interpretation_option
from properties.conformance.explore import Bounds, ExploreConfig
from properties.conformance.explore import explore as run_explore

DEFAULT = Bounds()


@click.command("explore")
@click.option("--depth", type=click.IntRange(min=0), default=DEFAULT.depth, show_default=True,
              help="Most steps (operations and waits) in a sequence.")
@click.option("--sessions", type=click.IntRange(min=0), default=DEFAULT.sessions, show_default=True,
              help="Most sessions opened in a sequence.")
@click.option("--backends", type=click.IntRange(min=1), default=DEFAULT.backends, show_default=True,
              help="Backends (b0, b1, ...).")
@click.option("--max-states", type=click.IntRange(min=1), default=DEFAULT.max_states, show_default=True,
              help="Stop after this many distinct states.")
@click.option("--time-limit", type=FiniteFloat(min=0.0, min_open=True), default=None,
              help="Stop after this many wall-clock seconds (the result then depends on the machine).")
@click.option("--adapter", metavar="MODULE:FACTORY", help="Also run every sequence on this in-process IUT.")
@click.option("--cmd", metavar="COMMAND",
              help="Also run every sequence on this out-of-process IUT (JSON-lines protocol).")
@click.option("--timeout", type=FiniteFloat(min=0.1), default=10.0, show_default=True,
              help="Wall-clock seconds an out-of-process IUT gets per operation.")
@interpretation_option()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for the shortest counterexample: scenario.json, expected.jsonl, actual.jsonl.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@cluster_options
def explore(
    depth: int, sessions: int, backends: int, max_states: int, time_limit: float | None, adapter: str | None,
    cmd: str | None, timeout: float, interpretation: dict[str, str], out: Path | None, as_json: bool,
    workers: int | None, scheduler: str | None,
) -> None:
    """Enumerate every operation sequence within the bounds, breadth first, and check every property
    of the catalogue at every distinct state; with --adapter or --cmd, also compare the implementation
    with the spec after every sequence (docs/conformance.md).

    Exit status 0: no finding; 1: a finding (the shortest, written to --out); 2: usage error.
    """
    from properties.conformance.adapter import AdapterError, factory_for

    if adapter is not None and cmd is not None:
        raise InputError("give at most one of --adapter MODULE:FACTORY or --cmd COMMAND")
    factory = None
    if adapter is not None or cmd is not None:
        try:
            factory = factory_for(adapter=adapter, cmd=cmd, timeout=timeout)
        except AdapterError as error:
            raise InputError(str(error)) from None
    config = ExploreConfig(Bounds(depth, sessions, backends, max_states, time_limit), Interpretation(interpretation))
    with cluster(workers, scheduler) as pool:
        result = run_explore(config, factory, pool=pool)
    if as_json:
        click.echo(json.dumps(result.as_json(), sort_keys=True))
    else:
        click.echo(f"explore: depth {depth}, sessions {sessions}, backends {backends}, "
                   f"interpretation {config.interpretation.name}"
                   + (f", implementation {adapter or cmd}" if factory is not None else ", the spec alone"))
        for line in result.summary():
            click.echo(line)
    for line in result.rate_lines():
        click.echo(line, err=True)
    finding = result.finding
    if finding is None:
        return
    if not as_json:
        click.echo(finding.report())
    if out is not None:
        try:
            written = finding.write(out)
        except OSError as error:
            # the finding was printed above; the unwritable output is the exit status (2), as for any output
            raise InputError(f"--out {out}: cannot write: {error.strerror or error}") from None
        if not as_json:
            for path in written:
                click.echo(f"wrote {path}")
            click.echo(f"replay: sessionspec simulate {out / 'scenario.json'}; "
                       f"sessionspec check {out / 'actual.jsonl'} --until {time_text(finding.until)} "
                       f"--scenario {out / 'scenario.json'}")
    sys.exit(1)
