"""What the commands share: the ``--profile`` and ``--interpretation`` options and the one way to report
bad input."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from model.spec.interpretations import InterpretationError, parse_choices
from model.spec.profiles import DEFAULT_PROFILE, PROFILE_NAMES
from model.views.printable import printable

if TYPE_CHECKING:
    from properties.scale.cluster import Pool

F = TypeVar("F", bound=Callable[..., object])

INTERPRETATION_HELP = "Interpretation choice ID=option (repeatable); the INT- prefix may be left out."
PROFILE_HELP = "The rule set: seeds (the 2023 documents, default) or platform (today's documentation)."
_PROFILE_KEY = "sessionspec.profile"
_GIVEN_KEY = "sessionspec.profile_given"


class FiniteFloat(click.FloatRange):
    """A float range that refuses NaN and the infinities (click's ``FloatRange`` lets NaN through,
    since every comparison with it is false), so that no option turns into a silent wrong answer."""

    name = "finite float"

    def _describe_range(self) -> str:
        """No bounds, no range in the help (click's own would print ``[x<=None]``)."""
        return "" if self.min is None and self.max is None else super()._describe_range()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number: float = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


ERROR_LIMIT = 1000
"""Most characters of an error line; the middle of a longer one is left out."""


def error_line(message: str) -> str:
    """``error: message`` as one printable line of at most about :data:`ERROR_LIMIT` characters: a message
    may quote a value of the input, which may be megabytes long."""
    line = printable(f"error: {message}")
    if len(line) <= ERROR_LIMIT:
        return line
    half = ERROR_LIMIT // 2
    return f"{line[:half]}...[{len(line) - 2 * half:,} characters left out]...{line[-half:]}"


class InputError(click.ClickException):
    """Bad input (a file, an option value): one line on stderr, ``error: ...``, exit status 2."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(error_line(self.format_message()), err=True)


def _choices(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    try:
        return parse_choices(values, ctx.meta.get(_PROFILE_KEY, DEFAULT_PROFILE))
    except InterpretationError as error:
        raise InputError(f"--interpretation: {error}") from None


def _profile(ctx: click.Context, param: click.Parameter, value: str) -> str:
    ctx.meta[_PROFILE_KEY] = value
    ctx.meta[_GIVEN_KEY] = ctx.get_parameter_source("profile") is not click.core.ParameterSource.DEFAULT
    return value


def profile_given() -> str | None:
    """The ``--profile`` the current command was given explicitly, or None (a command that reads a trace takes
    its header's profile then)."""
    ctx = click.get_current_context()
    given: str | None = ctx.meta.get(_PROFILE_KEY) if ctx.meta.get(_GIVEN_KEY) else None
    return given


def profile_option(*, expose: bool = True) -> Callable[[F], F]:
    """``--profile NAME`` (the one shared option): given to the command as ``profile`` when ``expose``; it is
    read before ``--interpretation``, whose choices it validates and carries."""
    return click.option(
        "--profile", "profile", type=click.Choice(PROFILE_NAMES), default=DEFAULT_PROFILE, show_default=True,
        is_eager=True, expose_value=expose, callback=_profile, help=PROFILE_HELP,
    )


def interpretation_option(help: str = INTERPRETATION_HELP, *, short: bool = True, metavar: str = "ID=OPTION") -> (
    Callable[[F], F]
):
    """``--interpretation ID=OPTION`` (repeatable; ``-i`` too unless ``short`` is false) and ``--profile NAME``,
    given to the command as ``interpretation``: the validated choices, a ``dict`` carrying the profile
    (:class:`model.spec.interpretations.Choices`; ``Interpretation(interpretation)`` takes both)."""
    flags = ("--interpretation", "-i") if short else ("--interpretation",)
    choices = click.option(*flags, "interpretation", multiple=True, metavar=metavar, help=help, callback=_choices)

    def decorate(command: F) -> F:
        return profile_option(expose=False)(choices(command))

    return decorate


def cluster_options(f: F) -> F:
    """``--workers N`` and ``--scheduler ADDRESS``, given to the command as ``workers`` and ``scheduler``:
    neither runs in this process; ``--workers`` alone starts a Dask ``LocalCluster`` of N worker processes;
    ``--scheduler`` uses that Dask cluster's workers (and waits for N of them if ``--workers`` is given too)."""
    f = click.option("--scheduler", metavar="ADDRESS", default=None,
                     help="A running Dask scheduler (e.g. tcp://10.0.0.5:8786) whose workers do the work.")(f)
    return click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
                        help="Spread the work over a local Dask cluster of N worker processes "
                             "(with --scheduler: wait for N workers). Default: this process alone.")(f)


@contextmanager
def cluster(workers: int | None, scheduler: str | None) -> Iterator[Pool]:
    """The pool the cluster options name; a cluster that cannot be had is bad input (one line, exit 2)."""
    from properties.scale.cluster import ClusterError, pool

    try:
        with pool(workers, scheduler) as chosen:
            yield chosen
    except ClusterError as error:
        raise InputError(str(error)) from None
