"""The ``sessionspec`` command line. Each command lives in its own module; they register here."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sessionspec")
def cli() -> None:
    """Executable specification of Qiskit Runtime sessions, and its conformance kit."""


# --- command registrations (one line each; keep sorted) ---
from model.simulate_command import simulate  # noqa: E402

cli.add_command(simulate)


def main() -> None:
    cli()
