"""What the commands share: the ``--interpretation`` option and the one way to report bad input."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from model.spec.interpretations import InterpretationError, parse_choices

if TYPE_CHECKING:
    from properties.scale.cluster import Pool

F = TypeVar("F", bound=Callable[..., object])

INTERPRETATION_HELP = "Interpretation choice ID=option (repeatable); the INT- prefix may be left out."


class FiniteFloat(click.FloatRange):
    """A float range that refuses NaN and the infinities (click's ``FloatRange`` lets NaN through,
    since every comparison with it is false), so that no option turns into a silent wrong answer."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number: float = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class InputError(click.ClickException):
    """Bad input (a file, an option value): one line on stderr, ``error: ...``, exit status 2."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _choices(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    try:
        return parse_choices(values)
    except InterpretationError as error:
        raise InputError(f"--interpretation: {error}") from None


def interpretation_option(help: str = INTERPRETATION_HELP, *, short: bool = True, metavar: str = "ID=OPTION") -> (
    Callable[[F], F]
):
    """``--interpretation ID=OPTION`` (repeatable; ``-i`` too unless ``short`` is false), given to the
    command as ``interpretation``: the validated choices, a ``dict``."""
    flags = ("--interpretation", "-i") if short else ("--interpretation",)
    return click.option(*flags, "interpretation", multiple=True, metavar=metavar, help=help, callback=_choices)


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
