"""The ``sessionspec`` command line: every command, in the modules of this package.

A command's module is imported only when it runs (click's lazy-group pattern), so
``sessionspec check`` does not pay for matplotlib. Commands share the ``--interpretation``
option and report bad input one way (:mod:`.options`)."""

from __future__ import annotations

import contextlib
import errno
import importlib
import importlib.metadata
import os
import signal
import sys
from typing import Any, NoReturn

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


class _PipeClosed(Exception):
    """The reader of stdout went away; not an ``OSError``, so that click lets it through to :func:`main`."""


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
        except BrokenPipeError:
            raise _PipeClosed from None  # past click, which would make it exit status 1


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


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: click's line, and the build (the compiled one runs the same code faster)."""
    if not value or ctx.resilient_parsing:
        return
    from model import build

    click.echo(f"{ctx.find_root().info_name}, version {importlib.metadata.version('sessionspec')} ({build()})")
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Show the version and which build runs (compiled or pure Python), and exit.")
def cli() -> None:
    """Executable specification of Qiskit Runtime sessions, and its conformance kit."""


INTERRUPTED = 130
"""Exit status on SIGINT (Ctrl-C): 128 + 2, what a shell reports for a process the signal killed."""
TERMINATED = 143
"""Exit status on SIGTERM (``kill``, ``docker stop``, a CI timeout): 128 + 15, with one line, like Ctrl-C's."""
BROKEN_PIPE = 141
"""Exit status when the reader of stdout went away (``| head -1``): 128 + 13, SIGPIPE's, and no message."""


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like SIGINT's KeyboardInterrupt: ``finally`` blocks run (serve writes
    its trace's end line, a half-written output is removed) before the command ends with status 143."""


def _terminated(_signum: int, _frame: object) -> None:
    raise Terminated


def main() -> NoReturn:
    """Run the command line as click's standalone mode would, with the kit's own exits: Ctrl-C is 130
    (not click's "Aborted!" and 1, which ``check`` and ``conform`` use for a finding), SIGTERM 143, each
    with one line; a closed pipe on stdout is quiet, 141; an output that cannot be written (a full device)
    is one line, exit 2."""
    code: int | str | None
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # an ignored SIGTERM stays ignored
        signal.signal(signal.SIGTERM, _terminated)
    try:
        try:
            code = cli.main(standalone_mode=False)
        except SystemExit as stop:
            code = stop.code
        sys.stdout.flush()
    except (click.Abort, KeyboardInterrupt):
        _silence_stdout()
        _say("error: interrupted")
        code = INTERRUPTED
    except Terminated:
        _silence_stdout()
        _say("error: terminated")
        code = TERMINATED
    except click.ClickException as error:
        error.show()
        code = error.exit_code
    except (BrokenPipeError, _PipeClosed):
        _silence_stdout()
        code = BROKEN_PIPE
    except OSError as error:
        if error.errno == errno.EPIPE:
            _silence_stdout()
            code = BROKEN_PIPE
        else:
            _silence_stdout()
            _say(f"error: cannot write output: {error.strerror or error}")
            code = InputError.exit_code
    sys.exit(code if isinstance(code, int) else 0 if code is None else 1)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that what is still buffered is not flushed again at exit (which would
    print Python's "Exception ignored" lines)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _say(line: str) -> None:
    """One line on stderr, which may itself be unwritable."""
    with contextlib.suppress(OSError):
        click.echo(line, err=True)
