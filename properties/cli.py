"""The ``sessionspec`` command line. Each command lives in its own module; they register here."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sessionspec")
def cli() -> None:
    """Executable specification of Qiskit Runtime sessions, and its conformance kit."""


# --- command registrations (one line each; keep sorted) ---
from model.demo_command import demo  # noqa: E402

cli.add_command(demo)
from model.diagram_command import diagrams  # noqa: E402

cli.add_command(diagrams)
from properties.rules_command import rules  # noqa: E402

cli.add_command(rules)
from model.simulate_command import simulate  # noqa: E402

cli.add_command(simulate)
from model.timeline_command import timeline  # noqa: E402

cli.add_command(timeline)
from properties.conformance.commands import check, conform, mutants  # noqa: E402

cli.add_command(check)
cli.add_command(conform)
cli.add_command(mutants)


def main() -> None:
    cli()
