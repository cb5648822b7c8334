"""``sessionspec diagrams``: regenerate the lifecycle diagrams (DOT, Mermaid, SVG, PNG) from the declaration."""

from __future__ import annotations

from pathlib import Path

import click

from model.spec.interpretations import Interpretation
from model.spec.lifecycles import LIFECYCLES
from model.views.diagrams import DiagramError, changes, plan, write_all
from properties.cli.options import InputError, interpretation_option


@click.command("diagrams")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("diagrams"),
              show_default=True, help="Folder to write the diagrams and their README into.")
@interpretation_option(
    "Also draw the machines under this interpretation (repeatable; the choices combine).",
    short=False, metavar="ID=option",
)
@click.option("--all-interpretations", is_flag=True,
              help="Also draw every non-default option, one at a time, where it changes a machine.")
def diagrams(out: Path, interpretation: dict[str, str], all_interpretations: bool) -> None:
    """Draw the session, job and scheduler lifecycles from model/spec/lifecycles.py.

    The default interpretation is always drawn; an alternative is drawn only for
    the machines it changes, into files suffixed with the option.
    """
    extra = [Interpretation(interpretation)] if interpretation else []
    for chosen in extra:
        if not any(changes(lifecycle, chosen) for lifecycle in LIFECYCLES):
            click.echo(f"note: {chosen.name} changes no machine; only the default diagrams", err=True)
    try:
        written = write_all(out, plan(extra, all_interpretations))
    except DiagramError as error:
        raise InputError(str(error)) from None
    for path in written:
        click.echo(str(path))
