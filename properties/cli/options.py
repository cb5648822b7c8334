"""What the commands share: the ``--interpretation`` option and the one way to report bad input."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import click

from model.spec.interpretations import InterpretationError, parse_choices
from model.views.printable import printable

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
        click.echo(printable(f"error: {self.format_message()}"), err=True)


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
