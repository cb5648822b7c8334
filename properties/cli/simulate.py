"""``sessionspec simulate``: run a scenario file on the reference engine and show what happened."""

from __future__ import annotations

from pathlib import Path

import click

from model.sim.scenario import EVENT_LIMIT, ScenarioError, load_scenario, run_scenario
from model.trace import JsonlWriter, MemoryTrace, Tee
from model.views.output import replacing
from model.views.timeline import render_text
from properties.cli.options import InputError, profile_given, profile_option


@click.command("simulate")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the trace as JSON Lines to this file.")
@click.option("--quiet", is_flag=True, help="Print only the summary, not every event.")
@click.option("--max-events", type=click.IntRange(min=1), default=EVENT_LIMIT, show_default=True,
              help="Stop a run that needs more events than this (a heavy load with a far until).")
@profile_option(expose=False)
def simulate(scenario: Path, trace_path: Path | None, quiet: bool, max_events: int) -> None:
    """Run SCENARIO (a scenario JSON file) and print its timeline. --profile replaces the scenario's own."""
    try:
        loaded = load_scenario(scenario, profile_given())
    except ScenarioError as error:
        raise InputError(str(error)) from None
    memory = MemoryTrace()
    try:
        if trace_path is not None:
            with replacing(trace_path, "wb") as stream, JsonlWriter(stream) as writer:  # flushed also if the run fails
                writer.end(run_scenario(loaded, Tee(memory, writer), max_events).now)  # the run stops here
        else:
            run_scenario(loaded, memory, max_events)
    except ScenarioError as error:
        raise InputError(f"{scenario}: {error}") from None
    except OSError as error:
        raise InputError(f"{trace_path}: cannot write: {error.strerror or error}") from None
    lines = list(render_text(memory))
    for line in lines if not quiet else lines[-2:]:
        click.echo(line)
