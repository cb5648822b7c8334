"""The ``sessionspec`` command line. Each command lives in its own module, imported only when
it runs (click's lazy-group pattern), so ``sessionspec check`` does not pay for matplotlib."""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, str] = {
    "check": "properties.conformance.commands:check",
    "conform": "properties.conformance.commands:conform",
    "demo": "model.demo_command:demo",
    "diagrams": "model.diagram_command:diagrams",
    "mutants": "properties.conformance.commands:mutants",
    "rules": "properties.rules_command:rules",
    "simulate": "model.simulate_command:simulate",
    "timeline": "model.timeline_command:timeline",
}
"""Command name -> ``module:attribute`` of its click command."""


class LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMANDS` on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command), target
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sessionspec")
def cli() -> None:
    """Executable specification of Qiskit Runtime sessions, and its conformance kit."""


def main() -> None:
    cli()
