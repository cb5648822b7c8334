"""``sessionspec diagrams``: regenerate the lifecycle diagrams (DOT, Mermaid, SVG, PNG) from the declaration."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from model.diagrams import DiagramError, changes, plan, write_all
from model.interpretations import Interpretation, InterpretationError, parse_choice
from model.lifecycles import LIFECYCLES


@click.command("diagrams")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("diagrams"),
              show_default=True, help="Folder to write the diagrams and their README into.")
@click.option("--interpretation", "choices", multiple=True, metavar="ID=option",
              help="Also draw the machines under this interpretation (repeatable; the choices combine).")
@click.option("--all-interpretations", is_flag=True,
              help="Also draw every non-default option, one at a time, where it changes a machine.")
def diagrams(out: Path, choices: tuple[str, ...], all_interpretations: bool) -> None:
    """Draw the session, job and scheduler lifecycles from model/lifecycles.py.

    The default interpretation is always drawn; an alternative is drawn only for
    the machines it changes, into files suffixed with the option.
    """
    try:
        extra = [Interpretation(dict(parse_choice(c) for c in choices))] if choices else []
    except InterpretationError as error:
        click.echo(f"error: --interpretation: {error}", err=True)
        sys.exit(2)
    for interpretation in extra:
        if not any(changes(lifecycle, interpretation) for lifecycle in LIFECYCLES):
            click.echo(f"note: {interpretation.name} changes no machine; only the default diagrams", err=True)
    try:
        written = write_all(out, plan(extra, all_interpretations))
    except DiagramError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    for path in written:
        click.echo(str(path))
