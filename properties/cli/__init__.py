"""The ``sessionspec`` command line: every command, in the modules of this package.

A command's module is imported only when it runs (click's lazy-group pattern), so
``sessionspec check`` does not pay for matplotlib. Commands share the ``--interpretation``
option and report bad input one way (:mod:`.options`)."""

from __future__ import annotations

import importlib
from typing import Any

import click

from properties.cli.options import InputError

COMMANDS: dict[str, str] = {
    "check": "properties.cli.conformance:check",
    "conform": "properties.cli.conformance:conform",
    "demo": "properties.cli.demo:demo",
    "diagrams": "properties.cli.diagrams:diagrams",
    "explore": "properties.cli.explore:explore",
    "mutants": "properties.cli.conformance:mutants",
    "rules": "properties.cli.rules:rules",
    "serve": "properties.cli.serve:serve",
    "simulate": "properties.cli.simulate:simulate",
    "study": "properties.cli.study:study",
    "timeline": "properties.cli.timeline:timeline",
}
"""Command name -> ``module:attribute`` of its click command."""


_NO_ARGS_IS_HELP: type[Exception] | tuple[()] = getattr(click.exceptions, "NoArgsIsHelpError", ())
"""What click (8.2 on) raises to print the group's help when no command is given."""


class LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMANDS` on first use, and whose usage errors
    (an option value out of range, a missing argument) are reported as any bad input: one line, exit 2."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _NO_ARGS_IS_HELP:
            raise  # no command at all: click prints the help
        except click.UsageError as error:
            raise InputError(error.format_message()) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise InputError(error.format_message()) from None

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
