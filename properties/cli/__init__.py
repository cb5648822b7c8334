"""The ``sessionspec`` command line: every command, in the modules of this package.

A command's module is imported only when it runs (click's lazy-group pattern), so
``sessionspec check`` does not pay for matplotlib. Commands share the ``--interpretation``
option and report bad input one way (:mod:`.options`)."""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, str] = {
    "check": "properties.cli.conformance:check",
    "conform": "properties.cli.conformance:conform",
    "demo": "properties.cli.demo:demo",
    "diagrams": "properties.cli.diagrams:diagrams",
    "mutants": "properties.cli.conformance:mutants",
    "rules": "properties.cli.rules:rules",
    "simulate": "properties.cli.simulate:simulate",
    "timeline": "properties.cli.timeline:timeline",
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
